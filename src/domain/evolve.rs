//! What an event does to the derived tables. The same function serves the
//! live write path, `import history`, `verify` (rebuild and compare) and
//! `--as-of` (replay up to a time), so there is one meaning of every event.
//!
//! An event that does not fit the state it lands on (an unknown instance, a
//! transition the machine forbids) is an integrity error: a log written by
//! snledger never contains one.

use super::decide::Lookup;
use super::event::Body;
use super::machine::{next_status, Action};
use super::types::*;
use crate::error::{Error, Result};

/// The fields of a payload obey the same syntax and limits as the commands
/// that make them: a log edited or forged by hand cannot smuggle in a value
/// the program would refuse (or overflow on) later.
fn validate_payload(body: &Body) -> Result<()> {
    let time = |text: &str| -> Result<()> {
        let parsed = parse_time("time", text)?;
        if format_time(parsed) != text {
            return Err(Error::Integrity(format!(
                "time '{}' is not canonical",
                shorten(text)
            )));
        }
        Ok(())
    };
    let months = |value: i64| -> Result<()> {
        if !(0..=limits::MONTHS_MAX).contains(&value) {
            return Err(Error::Integrity(format!("months {value} out of range")));
        }
        Ok(())
    };
    let text = |field: &str, value: &Option<String>| {
        value
            .as_deref()
            .map_or(Ok(()), |v| validate_text(field, v, limits::TEXT_MAX))
    };
    match body {
        Body::InstanceAdded(p) => {
            validate_instance_id(&p.instance_id)?;
            validate_service_type(&p.service_type)?;
            validate_account(&p.account)?;
            validate_region(&p.region)?;
            months(p.subscription_months)?;
            time(&p.expires_at)?;
            p.public_ip.as_deref().map_or(Ok(()), validate_public_ip)
        }
        Body::InstanceRenewed(p) => {
            validate_instance_id(&p.instance_id)?;
            months(p.months)?;
            months(p.subscription_months)?;
            time(&p.expires_at)
        }
        Body::InstanceReleased(p) => validate_instance_id(&p.instance_id),
        Body::PolicySet(p) => {
            validate_service_type(&p.service_type)?;
            months(p.min_subscription_months)?;
            if !(0..=limits::NUMBERS_MAX).contains(&p.max_numbers) {
                return Err(Error::Integrity(format!(
                    "max numbers {} out of range",
                    p.max_numbers
                )));
            }
            Ok(())
        }
        Body::Allocated(p) => {
            validate_instance_id(&p.instance_id)?;
            validate_account(&p.account)?;
            if p.numbers.is_empty() || p.numbers.len() > limits::ALLOCATE_MAX {
                return Err(Error::Integrity(format!(
                    "allocates {} numbers",
                    p.numbers.len()
                )));
            }
            for (i, number) in p.numbers.iter().enumerate() {
                validate_number(number)?;
                if p.numbers[..i].contains(number) {
                    return Err(Error::Integrity(format!("allocates number {number} twice")));
                }
            }
            p.asked.iter().try_for_each(|n| validate_number(n))?;
            text("request id", &p.request_id)
        }
        Body::Selected(p) => {
            validate_instance_id(&p.instance_id)?;
            validate_account(&p.account)?;
            validate_number(&p.number)?;
            validate_service(&p.service)
        }
        Body::Granted(p) => {
            validate_number(&p.number)?;
            validate_account(&p.to)?;
            text("note", &p.note)
        }
        Body::Bound(p) => {
            validate_number(&p.number)?;
            validate_service(&p.service)
        }
        Body::Submitted(p)
        | Body::Approved(p)
        | Body::Rejected(p)
        | Body::Deregistered(p)
        | Body::Invalidated(p) => {
            validate_number(&p.number)?;
            text("icp number", &p.icp_number)?;
            text("reason", &p.reason)
        }
        Body::ServiceMoved(p) => validate_instance_id(&p.to_host),
        Body::ServiceIpUpdated(_) => Ok(()),
    }
}

/// A derived row to write (insert or replace).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Instance(Instance),
    Number(NumberRecord),
    Service(ServiceRecord),
    Policy(Policy),
    Request(RequestRecord),
}

fn broken(seq: i64, message: String) -> Error {
    Error::Integrity(format!("event {seq}: {message}"))
}

fn instance(view: &dyn Lookup, seq: i64, instance_id: &str) -> Result<Instance> {
    view.instance(instance_id)?
        .ok_or_else(|| broken(seq, format!("names unknown instance {instance_id}")))
}

fn number(view: &dyn Lookup, seq: i64, number: &str) -> Result<NumberRecord> {
    view.number(number)?
        .ok_or_else(|| broken(seq, format!("names unknown number {number}")))
}

/// A field the event states must match the state it lands on: a log
/// rewritten by hand (an event dropped and the chain recomputed) breaks here.
fn expect_same(seq: i64, what: &str, stated: &str, actual: &str) -> Result<()> {
    if stated != actual {
        return Err(broken(
            seq,
            format!("states {what} {stated}, but it is {actual}"),
        ));
    }
    Ok(())
}

/// A number event's stated instance, owner and holder must match the number.
fn number_as_stated(
    view: &dyn Lookup,
    seq: i64,
    stated: &super::event::NumberChanged,
) -> Result<NumberRecord> {
    number_of_service(
        view,
        seq,
        &stated.number,
        &stated.instance_id,
        &stated.owner,
        &stated.holder,
    )
}

/// The service an event names, holding the number and on the host it states.
fn service_as_stated(
    view: &dyn Lookup,
    seq: i64,
    name: &str,
    number: &str,
    host: &str,
) -> Result<ServiceRecord> {
    let record = view
        .service(name)?
        .ok_or_else(|| broken(seq, format!("names unknown service {}", shorten(name))))?;
    expect_same(seq, "number", number, &record.number)?;
    expect_same(seq, "host", host, &record.host)?;
    Ok(record)
}

/// The number an event names, with the instance, owner and holder it states.
fn number_of_service(
    view: &dyn Lookup,
    seq: i64,
    name: &str,
    instance_id: &str,
    owner: &str,
    holder: &str,
) -> Result<NumberRecord> {
    let record = number(view, seq, name)?;
    expect_same(seq, "instance", instance_id, &record.instance_id)?;
    expect_same(seq, "owner", owner, &record.owner)?;
    expect_same(seq, "holder", holder, &record.holder)?;
    Ok(record)
}

fn moved(seq: i64, mut record: NumberRecord, action: Action) -> Result<NumberRecord> {
    record.status = next_status(record.status, action).ok_or_else(|| {
        broken(
            seq,
            format!(
                "cannot {} number {} from status {}",
                action.verb(),
                record.number,
                record.status
            ),
        )
    })?;
    record.updated_seq = seq;
    Ok(record)
}

fn parse_amount(seq: i64, amount: &Option<String>) -> Result<Option<i64>> {
    amount
        .as_deref()
        .map(|text| parse_amount_fen("order amount", text).map_err(|e| broken(seq, e.to_string())))
        .transpose()
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

/// An event read back from a log (verify, import history, `--as-of`): its
/// fields are checked first, since nothing checked them on the way in.
pub fn evolve_replayed(view: &dyn Lookup, body: Body, seq: i64) -> Result<Vec<Change>> {
    validate_payload(&body).map_err(|error| broken(seq, error.to_string()))?;
    // What `decide` checked before a live command made the event: nothing
    // it creates may exist already.
    match &body {
        Body::InstanceAdded(p) if view.instance(&p.instance_id)?.is_some() => {
            return Err(broken(
                seq,
                format!("adds instance {} twice", p.instance_id),
            ));
        }
        Body::Allocated(p) => {
            for number in &p.numbers {
                if view.number(number)?.is_some() {
                    return Err(broken(seq, format!("allocates existing number {number}")));
                }
            }
        }
        Body::Selected(p) if view.number(&p.number)?.is_some() => {
            return Err(broken(
                seq,
                format!("selects with existing number {}", p.number),
            ));
        }
        _ => {}
    }
    evolve(view, body, seq)
}

/// The rows an event changes. Its fields are trusted, and what it creates is
/// new: `decide` made it from a validated command (`evolve_replayed` is for
/// events read back, and checks both first). Takes
/// the body by value: replaying millions of events moves their fields into
/// the rows instead of copying them.
pub fn evolve(view: &dyn Lookup, body: Body, seq: i64) -> Result<Vec<Change>> {
    let changes = match body {
        Body::InstanceAdded(p) => Change::Instance(Instance {
            billing: Billing::parse("billing", &p.billing)
                .map_err(|e| broken(seq, e.to_string()))?,
            order_amount_fen: parse_amount(seq, &p.order_amount)?,
            instance_id: p.instance_id,
            service_type: p.service_type,
            account: p.account,
            region: p.region,
            subscription_months: p.subscription_months,
            expires_at: p.expires_at,
            public_ip: p.public_ip,
            state: InstanceState::Active,
            consumed: 0,
            updated_seq: seq,
        })
        .into(),
        Body::InstanceRenewed(p) => {
            let mut record = instance(view, seq, &p.instance_id)?;
            record.subscription_months = p.subscription_months;
            record.expires_at = p.expires_at.clone();
            record.updated_seq = seq;
            Change::Instance(record).into()
        }
        Body::InstanceReleased(p) => {
            let mut record = instance(view, seq, &p.instance_id)?;
            record.state = InstanceState::Released;
            record.updated_seq = seq;
            Change::Instance(record).into()
        }
        Body::PolicySet(p) => Change::Policy(Policy {
            service_type: p.service_type.clone(),
            max_numbers: p.max_numbers,
            min_subscription_months: p.min_subscription_months,
            min_order_amount_fen: parse_amount(seq, &p.min_order_amount)?,
            requires_public_ip: p.requires_public_ip,
            updated_seq: seq,
        })
        .into(),
        Body::Allocated(p) => {
            let mut record = instance(view, seq, &p.instance_id)?;
            expect_same(seq, "owner", &p.account, &record.account)?;
            let mut changes = Vec::with_capacity(p.numbers.len() + 2);
            for number in &p.numbers {
                changes.push(Change::Number(NumberRecord {
                    number: number.clone(),
                    instance_id: p.instance_id.clone(),
                    owner: record.account.clone(),
                    holder: record.account.clone(),
                    status: Status::Unbound,
                    service: None,
                    icp_number: None,
                    origin: Origin::Issued,
                    issued_seq: seq,
                    updated_seq: seq,
                }));
            }
            record.consumed += p.numbers.len() as i64;
            record.updated_seq = seq;
            changes.push(Change::Instance(record));
            if let Some(request_id) = &p.request_id {
                changes.push(Change::Request(RequestRecord {
                    request_id: request_id.clone(),
                    instance_id: p.instance_id.clone(),
                    account: p.account.clone(),
                    count: p.numbers.len() as i64,
                    asked: p.asked.clone(),
                    numbers: p.numbers.clone(),
                    seq,
                }));
            }
            changes
        }
        Body::Selected(p) => {
            let mut record = instance(view, seq, &p.instance_id)?;
            expect_same(seq, "owner", &p.account, &record.account)?;
            let number = NumberRecord {
                number: p.number.clone(),
                instance_id: p.instance_id.clone(),
                owner: record.account.clone(),
                holder: record.account.clone(),
                status: Status::Bound,
                service: Some(p.service.clone()),
                icp_number: None,
                origin: Origin::Direct,
                issued_seq: seq,
                updated_seq: seq,
            };
            record.consumed += 1;
            record.updated_seq = seq;
            vec![
                service_bound(seq, &p.service, &number),
                Change::Number(number),
                Change::Instance(record),
            ]
        }
        Body::Granted(p) => {
            let record = number(view, seq, &p.number)?;
            expect_same(seq, "owner", &p.owner, &record.owner)?;
            expect_same(seq, "holder", &p.from, &record.holder)?;
            let mut record = moved(seq, record, Action::Grant)?;
            record.holder = p.to.clone();
            Change::Number(record).into()
        }
        Body::Bound(p) => {
            let record = number(view, seq, &p.number)?;
            expect_same(seq, "owner", &p.owner, &record.owner)?;
            expect_same(seq, "holder", &p.holder, &record.holder)?;
            let mut record = moved(seq, record, Action::Bind)?;
            record.service = Some(p.service.clone());
            vec![
                service_bound(seq, &p.service, &record),
                Change::Number(record),
            ]
        }
        Body::Submitted(p) => Change::Number(moved(
            seq,
            number_as_stated(view, seq, &p)?,
            Action::Submit,
        )?)
        .into(),
        Body::Approved(p) => {
            let mut record = moved(seq, number_as_stated(view, seq, &p)?, Action::Approve)?;
            record.icp_number = p.icp_number;
            Change::Number(record).into()
        }
        Body::Rejected(p) => Change::Number(moved(
            seq,
            number_as_stated(view, seq, &p)?,
            Action::Reject,
        )?)
        .into(),
        Body::Deregistered(p) => Change::Number(moved(
            seq,
            number_as_stated(view, seq, &p)?,
            Action::Deregister,
        )?)
        .into(),
        Body::Invalidated(p) => Change::Number(moved(
            seq,
            number_as_stated(view, seq, &p)?,
            Action::Invalidate,
        )?)
        .into(),
        Body::ServiceMoved(p) => {
            let mut record = service_as_stated(view, seq, &p.service, &p.number, &p.from_host)?;
            number_of_service(view, seq, &p.number, &p.instance_id, &p.owner, &p.holder)?;
            instance(view, seq, &p.to_host)?;
            record.host = p.to_host.clone();
            record.commercial = p.commercial;
            record.ip_update_required = p.ip_update_required;
            record.updated_seq = seq;
            Change::Service(record).into()
        }
        Body::ServiceIpUpdated(p) => {
            let mut record = service_as_stated(view, seq, &p.service, &p.number, &p.host)?;
            number_of_service(view, seq, &p.number, &p.instance_id, &p.owner, &p.holder)?;
            record.ip_update_required = false;
            record.updated_seq = seq;
            Change::Service(record).into()
        }
    };
    Ok(changes)
}

impl From<Change> for Vec<Change> {
    fn from(change: Change) -> Vec<Change> {
        vec![change]
    }
}
