//! Views of the domain objects (docs/reference.md "Commands"): an instance,
//! a number, a service, an event and a policy as every command that shows
//! one prints it. Each is one serde struct (its JSON object) whose table
//! row or record is made from the same fields.

use super::{Answer, Row, Table};
use crate::domain::eligibility::Eligibility;
use crate::domain::event::Event;
use crate::domain::names::display_name;
use crate::domain::record::{field_text, is_seq, shown_name, Field, Record};
use crate::domain::types::*;
use serde::{Serialize, Serializer};

fn opt(value: &Option<String>) -> String {
    value.clone().unwrap_or_default()
}

/// Eligibility reasons as one table or CSV cell (codes never hold spaces).
pub(crate) fn reasons_cell(reasons: &[&str]) -> String {
    reasons.join(" ")
}

/// A money value: JSON has it in CNY as a number (`fen_to_json`), tables
/// as `12.50`; `null` and an empty cell when absent.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Amount(pub Option<i64>);

impl Serialize for Amount {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Some(fen) => fen_to_json(fen).serialize(serializer),
            None => serializer.serialize_none(),
        }
    }
}

impl Amount {
    pub(crate) fn cell(self) -> String {
        self.0.map(format_fen).unwrap_or_default()
    }
}

/// A number as an instance lists it.
#[derive(Serialize)]
pub(crate) struct NumberBrief {
    number: String,
    status: Status,
    holder: String,
    service: Option<String>,
    icp_number: Option<String>,
    origin: Origin,
}

impl From<NumberRecord> for NumberBrief {
    fn from(n: NumberRecord) -> NumberBrief {
        NumberBrief {
            number: n.number,
            status: n.status,
            holder: n.holder,
            service: n.service,
            icp_number: n.icp_number,
            origin: n.origin,
        }
    }
}

/// An instance's quota under its policy.
#[derive(Serialize)]
struct Quota {
    max: i64,
    consumed: i64,
    remaining: i64,
}

/// An instance's own fields, first in every view of one (`instance show`
/// and `list`, `diff`): every field its declaration has (`record!`) but the
/// seqs and `consumed`, which each view shows with the quota. A new field
/// shows here without an edit.
pub(crate) struct InstanceFields(Instance);

impl InstanceFields {
    pub(crate) fn new(i: Instance) -> InstanceFields {
        InstanceFields(i)
    }

    /// Each shown field: its name (amounts without `_fen`), its value.
    fn each<'a>(&'a self, visit: &mut dyn FnMut(&'static str, Field<'a>, bool)) {
        self.0.each_field(&mut |name, field| {
            if !is_seq(name) && name != "consumed" {
                let (name, is_fen) = shown_name(name);
                visit(name, field, is_fen);
            }
        });
    }

    /// The fields as (header, cell), in order.
    pub(crate) fn cells(&self) -> Vec<(&'static str, String)> {
        let mut cells = Vec::new();
        self.each(&mut |name, field, is_fen| {
            cells.push((name, field_text(field, is_fen).unwrap_or_default()));
        });
        cells
    }
}

/// A JSON object of the fields (flattened into each view).
impl Serialize for InstanceFields {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{Error, SerializeMap};
        let mut map = serializer.serialize_map(None)?;
        let mut failed = None;
        self.each(&mut |name, field, is_fen| {
            let done = match field {
                Field::Text(text) | Field::Word(text) => map.serialize_entry(name, text),
                Field::OptionalText(text) => map.serialize_entry(name, &text),
                Field::OptionalInteger(fen) if is_fen => map.serialize_entry(name, &Amount(fen)),
                Field::Integer(fen) if is_fen => map.serialize_entry(name, &Amount(Some(fen))),
                Field::OptionalInteger(number) => map.serialize_entry(name, &number),
                Field::Integer(number) => map.serialize_entry(name, &number),
                Field::Flag(flag) => map.serialize_entry(name, &flag),
                Field::List(texts) => map.serialize_entry(name, texts),
            };
            if let Err(error) = done {
                failed.get_or_insert(error.to_string());
            }
        });
        match failed {
            Some(why) => Err(S::Error::custom(why)),
            None => map.end(),
        }
    }
}

/// An instance with its eligibility, quota and numbers: a record with the
/// numbers under it (`instance show`), or a row of `instance list`.
#[derive(Serialize)]
pub(crate) struct InstanceView {
    #[serde(flatten)]
    fields: InstanceFields,
    eligible: bool,
    reasons: Vec<&'static str>,
    // Also at the top level, where `check` has it (docs/reference.md "Views: eligibility, quota that can be used, reports").
    remaining: i64,
    quota: Quota,
    numbers: Vec<NumberBrief>,
}

impl InstanceView {
    pub(crate) fn new(
        i: Instance,
        max_numbers: i64,
        numbers: Vec<NumberRecord>,
        eligibility: Eligibility,
    ) -> InstanceView {
        InstanceView {
            eligible: eligibility.eligible(),
            reasons: eligibility.reasons,
            remaining: eligibility.remaining,
            quota: Quota {
                max: max_numbers,
                consumed: i.consumed,
                remaining: remaining(max_numbers, i.consumed),
            },
            numbers: numbers.into_iter().map(NumberBrief::from).collect(),
            fields: InstanceFields::new(i),
        }
    }

    /// What the rules make of the instance, as (header, cell).
    fn judged(&self) -> [(&'static str, String); 5] {
        [
            ("eligible", self.eligible.to_string()),
            ("reasons", reasons_cell(&self.reasons)),
            ("max", self.quota.max.to_string()),
            ("consumed", self.quota.consumed.to_string()),
            ("remaining", self.quota.remaining.to_string()),
        ]
    }

    /// The lines under `instance show`'s record: one per number.
    fn number_lines(&self) -> Vec<String> {
        if self.numbers.is_empty() {
            return Vec::new();
        }
        let mut lines = vec![format!("numbers ({}):", self.numbers.len())];
        lines.extend(self.numbers.iter().map(|number| {
            format!(
                "  {} {} holder={} service={} icp={} origin={}",
                number.number,
                number.status,
                number.holder,
                opt(&number.service),
                opt(&number.icp_number),
                number.origin
            )
        }));
        lines
    }
}

impl Row for InstanceView {
    const HEADERS: &'static [&'static str] = &[
        "instance_id",
        "service_type",
        "account",
        "region",
        "billing",
        "subscription_months",
        "expires_at",
        "public_ip",
        "state",
        "eligible",
        "reasons",
        "max",
        "consumed",
        "remaining",
    ];

    /// What `instance list` leaves out on a narrow terminal, first to go
    /// first: what `eligible` and `reasons` already say (a released or
    /// expired instance has them as reasons) or what an operator looks up
    /// with `instance show`.
    const NARROW: &'static [&'static str] = &[
        "subscription_months",
        "billing",
        "max",
        "public_ip",
        "region",
        "service_type",
        "state",
        "expires_at",
        "consumed",
    ];

    fn cells(&self) -> Vec<String> {
        // The list shows the fields its headers name (the amount is left
        // to `instance show`).
        let fields = self.fields.cells().into_iter();
        let mut cells: Vec<String> = fields
            .filter(|(header, _)| Self::HEADERS.contains(header))
            .map(|(_, cell)| cell)
            .collect();
        cells.extend(self.judged().into_iter().map(|(_, cell)| cell));
        cells
    }
}

/// `instance show`: the record, and its numbers one a line under it.
impl Answer for InstanceView {
    fn table(&self) -> Table {
        let mut pairs = self.fields.cells();
        pairs.extend(self.judged());
        let mut table = Table::record(pairs);
        table.footer = self.number_lines();
        table
    }
}

/// A number as `number show` and `number list` print it.
#[derive(Serialize)]
pub(crate) struct NumberView {
    number: String,
    instance_id: String,
    owner: String,
    holder: String,
    status: Status,
    service: Option<String>,
    icp_number: Option<String>,
    origin: Origin,
}

impl From<NumberRecord> for NumberView {
    fn from(n: NumberRecord) -> NumberView {
        NumberView {
            number: n.number,
            instance_id: n.instance_id,
            owner: n.owner,
            holder: n.holder,
            status: n.status,
            service: n.service,
            icp_number: n.icp_number,
            origin: n.origin,
        }
    }
}

impl Row for NumberView {
    const HEADERS: &'static [&'static str] = &[
        "number",
        "instance_id",
        "owner",
        "holder",
        "status",
        "service",
        "icp_number",
        "origin",
    ];

    fn cells(&self) -> Vec<String> {
        vec![
            self.number.clone(),
            self.instance_id.clone(),
            self.owner.clone(),
            self.holder.clone(),
            self.status.to_string(),
            opt(&self.service),
            opt(&self.icp_number),
            self.origin.to_string(),
        ]
    }
}

/// A number as a record (the answer of every command that changes one).
pub(crate) fn number_record(number: NumberRecord) -> super::Record<NumberView> {
    super::Record(NumberView::from(number))
}

/// A service joined with its number; `display_name` is the Unicode form a
/// person reads (docs/guide.md "Names: one thing, one spelling").
#[derive(Serialize)]
pub(crate) struct ServiceView {
    service: String,
    display_name: String,
    number: String,
    instance_id: String,
    host: String,
    status: Status,
    icp_number: Option<String>,
    commercial: bool,
    ip_update_required: bool,
}

impl ServiceView {
    pub(crate) fn new(service: ServiceRecord, number: NumberRecord) -> ServiceView {
        ServiceView {
            display_name: display_name(&service.service),
            service: service.service,
            number: service.number,
            instance_id: number.instance_id,
            host: service.host,
            status: number.status,
            icp_number: number.icp_number,
            commercial: service.commercial,
            ip_update_required: service.ip_update_required,
        }
    }
}

impl Row for ServiceView {
    const HEADERS: &'static [&'static str] = &[
        "service",
        "display_name",
        "number",
        "instance_id",
        "host",
        "status",
        "icp_number",
        "commercial",
        "ip_update_required",
    ];

    fn cells(&self) -> Vec<String> {
        vec![
            self.service.clone(),
            self.display_name.clone(),
            self.number.clone(),
            self.instance_id.clone(),
            self.host.clone(),
            self.status.to_string(),
            opt(&self.icp_number),
            self.commercial.to_string(),
            self.ip_update_required.to_string(),
        ]
    }
}

/// An event's payload: JSON has the object it holds (text that is not
/// JSON stays a string), CSV the text as logged.
pub(crate) struct Payload(String);

impl Serialize for Payload {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match serde_json::from_str::<serde_json::Value>(&self.0) {
            Ok(value) => value.serialize(serializer),
            Err(_) => serializer.serialize_str(&self.0),
        }
    }
}

/// One event of the log, as `history` and `export history` print it.
#[derive(Serialize)]
pub(crate) struct EventView {
    seq: i64,
    event_id: String,
    at: String,
    actor: String,
    kind: String,
    payload: Payload,
    prev_hash: String,
    hash: String,
}

impl From<Event> for EventView {
    fn from(event: Event) -> EventView {
        EventView {
            seq: event.seq,
            event_id: event.event_id,
            at: event.at,
            actor: event.actor,
            kind: event.kind,
            payload: Payload(event.payload),
            prev_hash: event.prev_hash,
            hash: event.hash,
        }
    }
}

impl Row for EventView {
    /// The log's columns.
    const HEADERS: &'static [&'static str] = &crate::domain::event::EVENT_COLUMNS;

    fn cells(&self) -> Vec<String> {
        vec![
            self.seq.to_string(),
            self.event_id.clone(),
            self.at.clone(),
            self.actor.clone(),
            self.kind.clone(),
            self.payload.0.clone(),
            self.prev_hash.clone(),
            self.hash.clone(),
        ]
    }
}

/// One row of the quota policy.
#[derive(Serialize)]
pub(crate) struct PolicyView {
    service_type: String,
    max_numbers: i64,
    min_subscription_months: i64,
    min_order_amount: Amount,
    requires_public_ip: bool,
}

impl From<Policy> for PolicyView {
    fn from(policy: Policy) -> PolicyView {
        PolicyView {
            service_type: policy.service_type,
            max_numbers: policy.max_numbers,
            min_subscription_months: policy.min_subscription_months,
            min_order_amount: Amount(policy.min_order_amount_fen),
            requires_public_ip: policy.requires_public_ip,
        }
    }
}

impl Row for PolicyView {
    const HEADERS: &'static [&'static str] = &[
        "service_type",
        "max_numbers",
        "min_subscription_months",
        "min_order_amount",
        "requires_public_ip",
    ];

    fn cells(&self) -> Vec<String> {
        vec![
            self.service_type.clone(),
            self.max_numbers.to_string(),
            self.min_subscription_months.to_string(),
            self.min_order_amount.cell(),
            self.requires_public_ip.to_string(),
        ]
    }
}
