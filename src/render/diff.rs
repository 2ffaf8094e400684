//! `diff`: one table or CSV row per changed field, one JSON object per
//! changed row (docs/reference.md "What changed between two moments").

use super::*;
use crate::domain::diff::{Row as DiffRow, RowDiff};

pub(crate) const DIFF_HEADERS: [&str; 6] = ["kind", "key", "change", "field", "before", "after"];

/// One changed row of `diff` as table or CSV lines: one per field that
/// differs (every field of a created or removed row). A time field's values
/// are shown in `zone` (`--tz`, tables only; CSV passes `None`, UTC).
pub(crate) fn diff_lines(diff: &RowDiff, zone: Option<chrono_tz::Tz>) -> Vec<Vec<String>> {
    let shown = |field: &str, value: Option<String>| match (value, zone) {
        (Some(text), Some(zone)) if is_time_column(field) => display_time_in(&text, zone),
        (value, _) => value.unwrap_or_default(),
    };
    diff.changed_fields()
        .into_iter()
        .map(|(field, before, after)| {
            vec![
                diff.kind.name().to_string(),
                diff.key.clone(),
                diff.change().to_string(),
                field.to_string(),
                shown(field, before),
                shown(field, after),
            ]
        })
        .collect()
}

/// One changed row of `diff` as JSON: kind, key, change, the fields that
/// differ, and the whole record before and after (`null` where it did not
/// exist).
#[derive(Serialize)]
pub(crate) struct DiffView {
    kind: &'static str,
    key: String,
    change: &'static str,
    fields: Vec<FieldChange>,
    before: Option<RecordView>,
    after: Option<RecordView>,
}

#[derive(Serialize)]
struct FieldChange {
    field: &'static str,
    before: Option<String>,
    after: Option<String>,
}

pub(crate) fn diff_json(diff: &RowDiff) -> DiffView {
    let fields = diff
        .changed_fields()
        .into_iter()
        .map(|(field, before, after)| FieldChange {
            field,
            before,
            after,
        })
        .collect();
    DiffView {
        kind: diff.kind.name(),
        key: diff.key.clone(),
        change: diff.change(),
        fields,
        before: diff.before.clone().map(RecordView::from),
        after: diff.after.clone().map(RecordView::from),
    }
}

/// A record as its `show` command has it (an instance without its
/// eligibility, which depends on the time asked, not on the record).
#[derive(Serialize)]
#[serde(untagged)]
enum RecordView {
    Instance(InstanceRecord),
    Number(NumberView),
    Service(ServiceRecordView),
}

#[derive(Serialize)]
struct InstanceRecord {
    #[serde(flatten)]
    fields: InstanceFields,
    consumed: i64,
}

#[derive(Serialize)]
struct ServiceRecordView {
    service: String,
    display_name: String,
    number: String,
    host: String,
    commercial: bool,
    ip_update_required: bool,
}

impl From<DiffRow> for RecordView {
    fn from(row: DiffRow) -> RecordView {
        match row {
            DiffRow::Instance(i) => RecordView::Instance(InstanceRecord {
                consumed: i.consumed,
                fields: InstanceFields::new(i),
            }),
            DiffRow::Number(n) => RecordView::Number(NumberView::from(n)),
            DiffRow::Service(s) => RecordView::Service(ServiceRecordView {
                display_name: display_name(&s.service),
                service: s.service,
                number: s.number,
                host: s.host,
                commercial: s.commercial,
                ip_update_required: s.ip_update_required,
            }),
        }
    }
}
