//! `diff`: one table or CSV row per changed field, one JSON object per
//! changed row (docs/reference.md "What changed between two moments").

use super::*;
use crate::domain::diff::{Row, RowDiff};

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
pub(crate) fn diff_json(diff: &RowDiff) -> Value {
    let fields: Vec<Value> = diff
        .changed_fields()
        .into_iter()
        .map(|(field, before, after)| json!({"field": field, "before": before, "after": after}))
        .collect();
    json!({
        "kind": diff.kind.name(), "key": diff.key, "change": diff.change(),
        "fields": fields,
        "before": diff.before.as_ref().map(row_json),
        "after": diff.after.as_ref().map(row_json),
    })
}

/// A record as its `show` command has it (an instance without its
/// eligibility, which depends on the time asked, not on the record).
fn row_json(row: &Row) -> Value {
    match row {
        Row::Instance(i) => json!({
            "instance_id": i.instance_id, "service_type": i.service_type, "account": i.account,
            "region": i.region, "billing": i.billing, "subscription_months": i.subscription_months,
            "expires_at": i.expires_at, "public_ip": i.public_ip,
            "order_amount": amount_json(i.order_amount_fen), "state": i.state, "consumed": i.consumed,
        }),
        Row::Number(n) => number_json(n),
        Row::Service(s) => json!({
            "service": s.service, "display_name": display_name(&s.service), "number": s.number,
            "host": s.host, "commercial": s.commercial, "ip_update_required": s.ip_update_required,
        }),
    }
}
