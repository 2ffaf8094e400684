//! Views of the domain objects (docs/reference.md "Commands"): the JSON
//! object and the table row or record of an instance, a number, a service,
//! an event and a policy, as every command that shows one prints it.

use super::Table;
use crate::domain::event::Event;
use crate::domain::names::display_name;
use crate::domain::types::*;
use serde_json::{json, Value};

fn opt(value: &Option<String>) -> String {
    value.clone().unwrap_or_default()
}

pub(crate) fn amount_json(fen: Option<i64>) -> Value {
    fen.map_or(Value::Null, fen_to_json)
}

pub(crate) fn number_brief_json(number: &NumberRecord) -> Value {
    json!({
        "number": number.number, "status": number.status, "holder": number.holder,
        "service": number.service, "icp_number": number.icp_number, "origin": number.origin,
    })
}

pub(crate) struct InstanceView<'a> {
    pub instance: &'a Instance,
    pub max_numbers: i64,
    pub numbers: &'a [NumberRecord],
    pub eligibility: &'a crate::domain::eligibility::Eligibility,
}

impl InstanceView<'_> {
    pub(crate) fn json(&self) -> Value {
        let i = self.instance;
        json!({
            "instance_id": i.instance_id, "service_type": i.service_type, "account": i.account,
            "region": i.region, "billing": i.billing, "subscription_months": i.subscription_months,
            "expires_at": i.expires_at, "public_ip": i.public_ip, "order_amount": amount_json(i.order_amount_fen),
            "state": i.state,
            "eligible": self.eligibility.eligible(), "reasons": self.eligibility.reasons,
            // Also at the top level, where `check` has it (docs/reference.md "Views: eligibility, quota that can be used, reports").
            "remaining": self.eligibility.remaining,
            "quota": {"max": self.max_numbers, "consumed": i.consumed, "remaining": remaining(self.max_numbers, i.consumed)},
            "numbers": self.numbers.iter().map(number_brief_json).collect::<Vec<_>>(),
        })
    }

    pub(crate) const LIST_HEADERS: [&'static str; 14] = [
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
    pub(crate) const NARROW_DROPS: [&'static str; 9] = [
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

    pub(crate) fn list_row(&self) -> Vec<String> {
        let i = self.instance;
        vec![
            i.instance_id.clone(),
            i.service_type.clone(),
            i.account.clone(),
            i.region.clone(),
            i.billing.to_string(),
            i.subscription_months.to_string(),
            i.expires_at.clone(),
            opt(&i.public_ip),
            i.state.to_string(),
            self.eligibility.eligible().to_string(),
            self.eligibility.reasons_cell(),
            self.max_numbers.to_string(),
            i.consumed.to_string(),
            remaining(self.max_numbers, i.consumed).to_string(),
        ]
    }

    pub(crate) fn table(&self) -> Table {
        let i = self.instance;
        let mut table = Table::record(vec![
            ("instance_id", i.instance_id.clone()),
            ("service_type", i.service_type.clone()),
            ("account", i.account.clone()),
            ("region", i.region.clone()),
            ("billing", i.billing.to_string()),
            ("subscription_months", i.subscription_months.to_string()),
            ("expires_at", i.expires_at.clone()),
            ("public_ip", opt(&i.public_ip)),
            (
                "order_amount",
                i.order_amount_fen.map(format_fen).unwrap_or_default(),
            ),
            ("state", i.state.to_string()),
            ("eligible", self.eligibility.eligible().to_string()),
            ("reasons", self.eligibility.reasons_cell()),
            ("max", self.max_numbers.to_string()),
            ("consumed", i.consumed.to_string()),
            (
                "remaining",
                remaining(self.max_numbers, i.consumed).to_string(),
            ),
        ]);
        for number in self.numbers {
            table.footer.push(format!(
                "  {} {} holder={} service={} icp={} origin={}",
                number.number,
                number.status,
                number.holder,
                opt(&number.service),
                opt(&number.icp_number),
                number.origin
            ));
        }
        if !self.numbers.is_empty() {
            table
                .footer
                .insert(0, format!("numbers ({}):", self.numbers.len()));
        }
        table
    }
}

pub(crate) fn number_json(number: &NumberRecord) -> Value {
    json!({
        "number": number.number, "instance_id": number.instance_id, "owner": number.owner, "holder": number.holder,
        "status": number.status, "service": number.service, "icp_number": number.icp_number, "origin": number.origin,
    })
}

pub(crate) const NUMBER_HEADERS: [&str; 8] = [
    "number",
    "instance_id",
    "owner",
    "holder",
    "status",
    "service",
    "icp_number",
    "origin",
];

pub(crate) fn number_row(number: &NumberRecord) -> Vec<String> {
    vec![
        number.number.clone(),
        number.instance_id.clone(),
        number.owner.clone(),
        number.holder.clone(),
        number.status.to_string(),
        opt(&number.service),
        opt(&number.icp_number),
        number.origin.to_string(),
    ]
}

pub(crate) fn number_table(number: &NumberRecord) -> Table {
    Table::record(
        NUMBER_HEADERS
            .iter()
            .copied()
            .zip(number_row(number))
            .collect(),
    )
}

pub(crate) fn numbers_table(numbers: &[NumberRecord]) -> Table {
    let mut table = Table::new(&NUMBER_HEADERS);
    for number in numbers {
        table.row(number_row(number));
    }
    table
}

/// A service joined with its number; `display_name` is the Unicode form a
/// person reads (docs/guide.md "Names: one thing, one spelling").
pub(crate) fn service_json(service: &ServiceRecord, number: &NumberRecord) -> Value {
    json!({
        "service": service.service, "display_name": display_name(&service.service), "number": service.number, "instance_id": number.instance_id, "host": service.host,
        "status": number.status, "icp_number": number.icp_number, "commercial": service.commercial,
        "ip_update_required": service.ip_update_required,
    })
}

pub(crate) const SERVICE_HEADERS: [&str; 9] = [
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

pub(crate) fn service_row(service: &ServiceRecord, number: &NumberRecord) -> Vec<String> {
    vec![
        service.service.clone(),
        display_name(&service.service),
        service.number.clone(),
        number.instance_id.clone(),
        service.host.clone(),
        number.status.to_string(),
        opt(&number.icp_number),
        service.commercial.to_string(),
        service.ip_update_required.to_string(),
    ]
}

pub(crate) fn event_json(event: &Event) -> Value {
    let payload: Value = serde_json::from_str(&event.payload)
        .unwrap_or_else(|_| Value::String(event.payload.clone()));
    json!({
        "seq": event.seq, "event_id": event.event_id, "at": event.at, "actor": event.actor, "kind": event.kind,
        "payload": payload, "prev_hash": event.prev_hash, "hash": event.hash,
    })
}

/// The log's columns, as `history` and `export history` print them.
pub(crate) use crate::domain::event::EVENT_COLUMNS as EVENT_HEADERS;

pub(crate) fn event_row(event: &Event) -> Vec<String> {
    vec![
        event.seq.to_string(),
        event.event_id.clone(),
        event.at.clone(),
        event.actor.clone(),
        event.kind.clone(),
        event.payload.clone(),
        event.prev_hash.clone(),
        event.hash.clone(),
    ]
}

pub(crate) fn policy_json(policy: &Policy) -> Value {
    json!({
        "service_type": policy.service_type, "max_numbers": policy.max_numbers,
        "min_subscription_months": policy.min_subscription_months,
        "min_order_amount": amount_json(policy.min_order_amount_fen), "requires_public_ip": policy.requires_public_ip,
    })
}

pub(crate) const POLICY_HEADERS: [&str; 5] = [
    "service_type",
    "max_numbers",
    "min_subscription_months",
    "min_order_amount",
    "requires_public_ip",
];

pub(crate) fn policy_row(policy: &Policy) -> Vec<String> {
    vec![
        policy.service_type.clone(),
        policy.max_numbers.to_string(),
        policy.min_subscription_months.to_string(),
        policy
            .min_order_amount_fen
            .map(format_fen)
            .unwrap_or_default(),
        policy.requires_public_ip.to_string(),
    ]
}
