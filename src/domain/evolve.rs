//! What an event does to the derived tables. The same function serves the
//! live write path and every replay of a log (`import history`, `verify`,
//! `--as-of`, after `replay.rs` re-decided the event), so there is one
//! meaning of every event.
//!
//! An event that does not fit the state it lands on (an unknown instance, a
//! transition the machine forbids) is an integrity error: a log written by
//! snledger never contains one.

use super::event::*;
use super::lookup::{Lookup, Missing::InEvent};
use super::machine::{next_status, Action};
use super::regions::Region;
use super::types::*;
use crate::error::Result;

/// A derived row to write (insert or replace).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Instance(Instance),
    Number(NumberRecord),
    Service(ServiceRecord),
    Policy(Policy),
    Request(RequestRecord),
    Region(Region),
    /// A service row that no longer exists under this name (renamed by
    /// the event `seq`).
    ForgetService {
        service: String,
        seq: i64,
    },
}

/// A derived record: its key, the seq that last wrote it, and how to take
/// it out of the `Change` that writes it (verify's comparison, the store's
/// lists).
pub(crate) trait Keyed: Sized {
    fn key(&self) -> &str;
    fn seq(&self) -> i64;
    fn from_change(change: Change) -> Option<Self>;
}

macro_rules! keyed {
    ($($record:ty: $variant:ident, $key:ident, $seq:ident;)+) => {$(
        impl Keyed for $record {
            fn key(&self) -> &str {
                &self.$key
            }
            fn seq(&self) -> i64 {
                self.$seq
            }
            fn from_change(change: Change) -> Option<Self> {
                match change {
                    Change::$variant(record) => Some(record),
                    _ => None,
                }
            }
        }
    )+};
}

keyed! {
    Policy: Policy, service_type, updated_seq;
    Instance: Instance, instance_id, updated_seq;
    NumberRecord: Number, number, updated_seq;
    ServiceRecord: Service, service, updated_seq;
    RequestRecord: Request, request_id, seq;
    Region: Region, region_id, updated_seq;
}

impl Change {
    /// Is this a row of a table that keeps past versions? Every one but a
    /// request, which is only ever added (a refused event replayed as
    /// logged may still repeat one: its old row is no past version).
    pub(crate) fn keeps_past(&self) -> bool {
        !matches!(self, Change::Request(_))
    }

    /// The seq of the event that writes this row (its `updated_seq`): the
    /// seq that supersedes the row it replaces.
    pub fn seq(&self) -> i64 {
        match self {
            Change::Instance(r) => r.updated_seq,
            Change::Number(r) => r.updated_seq,
            Change::Service(r) => r.updated_seq,
            Change::Policy(r) => r.updated_seq,
            Change::Request(r) => r.seq,
            Change::Region(r) => r.updated_seq,
            Change::ForgetService { seq, .. } => *seq,
        }
    }
}

impl From<Change> for Vec<Change> {
    fn from(change: Change) -> Vec<Change> {
        vec![change]
    }
}

/// The supersede rule, stated once (ARCHITECTURE.md "--as-of: how a past
/// state is answered"): the row that event `written_seq` wrote, replaced or
/// removed by event `seq`, is kept as a past version when an earlier event
/// wrote it; a version made and replaced within one event was never
/// visible. Requests are only ever added, so none is superseded. The
/// in-memory state (verify), PostgreSQL's write buffer and SQLite's
/// `supersede` statement (`updated_seq < ?2`, the same test in SQL) follow it.
pub(crate) fn is_superseded(written_seq: i64, seq: i64) -> bool {
    written_seq < seq
}

/// The rows an event changes. Its fields are trusted, and what it creates is
/// new: `decide` made it from a validated command (an event read back from
/// a log is re-decided first, `replay.rs`). Takes the body by value:
/// replaying millions of events moves their fields into the rows instead of
/// copying them.
pub(crate) fn evolve(lookup: &dyn Lookup, body: Body, seq: i64) -> Result<Vec<Change>> {
    Ok(match body {
        Body::InstanceAdded(payload) => instance_added(payload, seq)?.into(),
        Body::InstanceRenewed(payload) => instance_renewed(lookup, payload, seq)?.into(),
        Body::InstanceReleased(payload) => instance_released(lookup, payload, seq)?.into(),
        Body::PolicySet(payload) => policy_set(payload, seq)?.into(),
        Body::Allocated(payload) => allocated(lookup, payload, seq)?,
        Body::Selected(payload) => selected(lookup, payload, seq)?,
        Body::Granted(payload) => granted(lookup, payload, seq)?.into(),
        Body::Bound(payload) => bound(lookup, payload, seq)?,
        Body::Submitted(payload) => number_changed(lookup, payload, Action::Submit, seq)?.into(),
        Body::Approved(payload) => number_changed(lookup, payload, Action::Approve, seq)?.into(),
        Body::Rejected(payload) => number_changed(lookup, payload, Action::Reject, seq)?.into(),
        Body::Deregistered(payload) => {
            number_changed(lookup, payload, Action::Deregister, seq)?.into()
        }
        Body::Invalidated(payload) => {
            number_changed(lookup, payload, Action::Invalidate, seq)?.into()
        }
        Body::ServiceMoved(payload) => service_moved(lookup, payload, seq)?.into(),
        Body::ServiceIpUpdated(payload) => service_ip_updated(lookup, payload, seq)?.into(),
        Body::InstanceAmended(payload) => instance_amended(lookup, payload, seq)?.into(),
        Body::RegionSet(payload) => Change::Region(Region {
            region_id: payload.region,
            mainland: payload.mainland,
            updated_seq: seq,
        })
        .into(),
        Body::ServiceRenamed(payload) => service_renamed(lookup, payload, seq)?,
        // A record of a comparison: the log alone keeps it, no derived row.
        Body::Reconciled(_) => Vec::new(),
        // The repair's range is checked against the log (`domain::clock`).
        Body::ClockRepaired(_) => Vec::new(),
    })
}

// Instances.

fn instance_added(payload: InstanceAdded, seq: i64) -> Result<Change> {
    Ok(Change::Instance(Instance {
        billing: Billing::parse("billing", &payload.billing)
            .map_err(|e| broken(seq, e.to_string()))?,
        order_amount_fen: parse_amount(seq, &payload.order_amount)?,
        instance_id: payload.instance_id,
        service_type: payload.service_type,
        account: payload.account,
        region: payload.region,
        subscription_months: payload.subscription_months,
        expires_at: payload.expires_at,
        public_ip: payload.public_ip,
        state: InstanceState::Active,
        consumed: 0,
        updated_seq: seq,
    }))
}

fn instance_renewed(lookup: &dyn Lookup, payload: InstanceRenewed, seq: i64) -> Result<Change> {
    let mut instance = lookup.instance_or(&payload.instance_id, InEvent(seq))?;
    instance.subscription_months = payload.subscription_months;
    instance.expires_at = payload.expires_at;
    instance.updated_seq = seq;
    Ok(Change::Instance(instance))
}

fn instance_released(lookup: &dyn Lookup, payload: InstanceReleased, seq: i64) -> Result<Change> {
    let mut instance = lookup.instance_or(&payload.instance_id, InEvent(seq))?;
    instance.state = InstanceState::Released;
    instance.updated_seq = seq;
    Ok(Change::Instance(instance))
}

/// Each changed field takes its new value.
fn instance_amended(lookup: &dyn Lookup, payload: InstanceAmended, seq: i64) -> Result<Change> {
    let mut instance = lookup.instance_or(&payload.instance_id, InEvent(seq))?;
    if let Some(change) = payload.public_ip {
        instance.public_ip = change.new;
    }
    if let Some(change) = payload.billing {
        instance.billing =
            Billing::parse("billing", &change.new).map_err(|e| broken(seq, e.to_string()))?;
    }
    if let Some(change) = payload.order_amount {
        instance.order_amount_fen = parse_amount(seq, &change.new)?;
    }
    if let Some(change) = payload.service_type {
        instance.service_type = change.new;
    }
    if let Some(change) = payload.region {
        instance.region = change.new;
    }
    if let Some(change) = payload.owner {
        instance.account = change.new;
    }
    instance.updated_seq = seq;
    Ok(Change::Instance(instance))
}

// Policy.

fn policy_set(payload: PolicySet, seq: i64) -> Result<Change> {
    Ok(Change::Policy(Policy {
        min_order_amount_fen: parse_amount(seq, &payload.min_order_amount)?,
        service_type: payload.service_type,
        max_numbers: payload.max_numbers,
        min_subscription_months: payload.min_subscription_months,
        requires_public_ip: payload.requires_public_ip,
        updated_seq: seq,
    }))
}

// Numbers.

/// New unbound numbers held by the owner, each a consumed slot, and the
/// request id that made them.
fn allocated(lookup: &dyn Lookup, payload: Allocated, seq: i64) -> Result<Vec<Change>> {
    let mut instance = lookup.instance_or(&payload.instance_id, InEvent(seq))?;
    let mut changes = Vec::with_capacity(payload.numbers.len() + 2);
    for number in &payload.numbers {
        changes.push(Change::Number(NumberRecord {
            number: number.clone(),
            instance_id: payload.instance_id.clone(),
            owner: instance.account.clone(),
            holder: instance.account.clone(),
            status: Status::Unbound,
            service: None,
            icp_number: None,
            origin: Origin::Issued,
            issued_seq: seq,
            updated_seq: seq,
        }));
    }
    instance.consumed += payload.numbers.len() as i64;
    instance.updated_seq = seq;
    changes.push(Change::Instance(instance));
    if let Some(request_id) = payload.request_id {
        changes.push(Change::Request(RequestRecord {
            request_id,
            instance_id: payload.instance_id,
            account: payload.account,
            count: payload.numbers.len() as i64,
            asked: payload.asked,
            numbers: payload.numbers,
            seq,
        }));
    }
    Ok(changes)
}

/// A direct selection: one consumed slot, as a number bound at once.
fn selected(lookup: &dyn Lookup, payload: Selected, seq: i64) -> Result<Vec<Change>> {
    let mut instance = lookup.instance_or(&payload.instance_id, InEvent(seq))?;
    let number = NumberRecord {
        number: payload.number,
        instance_id: payload.instance_id,
        owner: instance.account.clone(),
        holder: instance.account.clone(),
        status: Status::Bound,
        service: Some(payload.service.clone()),
        icp_number: None,
        origin: Origin::Direct,
        issued_seq: seq,
        updated_seq: seq,
    };
    instance.consumed += 1;
    instance.updated_seq = seq;
    Ok(vec![
        service_bound(seq, &payload.service, &number),
        Change::Number(number),
        Change::Instance(instance),
    ])
}

fn granted(lookup: &dyn Lookup, payload: Granted, seq: i64) -> Result<Change> {
    let number = lookup.number_or(&payload.number, InEvent(seq))?;
    let mut number = advanced(seq, number, Action::Grant)?;
    number.holder = payload.to;
    Ok(Change::Number(number))
}

fn bound(lookup: &dyn Lookup, payload: Bound, seq: i64) -> Result<Vec<Change>> {
    let number = lookup.number_or(&payload.number, InEvent(seq))?;
    let mut number = advanced(seq, number, Action::Bind)?;
    number.service = Some(payload.service.clone());
    Ok(vec![
        service_bound(seq, &payload.service, &number),
        Change::Number(number),
    ])
}

/// The new service record when `number` is bound to `service`.
fn service_bound(seq: i64, service: &str, number: &NumberRecord) -> Change {
    Change::Service(ServiceRecord {
        service: service.to_string(),
        number: number.number.clone(),
        host: number.instance_id.clone(),
        commercial: false,
        ip_update_required: false,
        updated_seq: seq,
    })
}

// Filings: one move of the machine; approve also records the ICP number.

fn number_changed(
    lookup: &dyn Lookup,
    payload: NumberChanged,
    action: Action,
    seq: i64,
) -> Result<Change> {
    let number = lookup.number_or(&payload.number, InEvent(seq))?;
    let mut number = advanced(seq, number, action)?;
    if action == Action::Approve {
        number.icp_number = payload.icp_number;
    }
    Ok(Change::Number(number))
}

// Services.

fn service_moved(lookup: &dyn Lookup, payload: ServiceMoved, seq: i64) -> Result<Change> {
    let mut service = lookup.service_or(&payload.service, InEvent(seq))?;
    lookup.instance_or(&payload.to_host, InEvent(seq))?;
    service.host = payload.to_host;
    service.commercial = payload.commercial;
    service.ip_update_required = payload.ip_update_required;
    service.updated_seq = seq;
    Ok(Change::Service(service))
}

fn service_ip_updated(lookup: &dyn Lookup, payload: ServiceIpUpdated, seq: i64) -> Result<Change> {
    let mut service = lookup.service_or(&payload.service, InEvent(seq))?;
    service.ip_update_required = false;
    service.updated_seq = seq;
    Ok(Change::Service(service))
}

/// The service's row moves to its new name; its number names it.
fn service_renamed(lookup: &dyn Lookup, payload: ServiceRenamed, seq: i64) -> Result<Vec<Change>> {
    let mut service = lookup.service_or(&payload.service, InEvent(seq))?;
    let mut number = lookup.number_or(&payload.number, InEvent(seq))?;
    number.service = Some(payload.to.clone());
    number.updated_seq = seq;
    service.service = payload.to;
    service.updated_seq = seq;
    Ok(vec![
        Change::ForgetService {
            service: payload.service,
            seq,
        },
        Change::Service(service),
        Change::Number(number),
    ])
}

// Checks every kind shares.

/// The number after `action`, which the state machine must allow.
fn advanced(seq: i64, mut number: NumberRecord, action: Action) -> Result<NumberRecord> {
    number.status = next_status(number.status, action).ok_or_else(|| {
        broken(
            seq,
            format!(
                "cannot {} number {} from status {}",
                action.verb(),
                number.number,
                number.status
            ),
        )
    })?;
    number.updated_seq = seq;
    Ok(number)
}

fn parse_amount(seq: i64, amount: &Option<String>) -> Result<Option<i64>> {
    amount
        .as_deref()
        .map(|text| parse_amount_fen("order amount", text).map_err(|e| broken(seq, e.to_string())))
        .transpose()
}
