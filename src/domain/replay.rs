//! Re-deciding a log (docs/reference.md "Guarantees"): every event read back from a
//! log (`verify`, `import history`) is turned back into the command that
//! records it, and that command is run through `decide` against the state
//! before the event, at the event's time. The event must be exactly what
//! the rules produce; anything they refuse is an integrity failure naming
//! the event and the reason code the command would have got. So a log can
//! hold only what the program itself would have written.

use super::decide::{decide, Command, Decision, Lookup};
use super::event::*;
use super::evolve::{evolve, Change};
use super::types::*;
use super::validate::validate_payload;
use crate::domain::decide::{BindCommand, GrantCommand, MoveServiceCommand, SelectCommand};
use crate::error::{Error, Result};

/// What re-deciding needs of one event of a log: its body as parsed from
/// `payload`, its time and its actor.
pub(crate) struct Recorded<'a> {
    pub seq: i64,
    pub at: Time,
    pub actor: &'a str,
    pub body: Body,
    pub payload: &'a str,
}

impl<'a> Recorded<'a> {
    /// A stored event as re-deciding reads it: its payload parsed and its
    /// time read, either failing as an integrity problem at its seq.
    pub(crate) fn of(event: &'a Event) -> Result<Recorded<'a>> {
        let seq = event.seq;
        Ok(Recorded {
            seq,
            body: event.body().map_err(|e| broken(seq, e.to_string()))?,
            at: parse_time("at", &event.at).map_err(|e| broken(seq, e.to_string()))?,
            actor: &event.actor,
            payload: &event.payload,
        })
    }
}

/// Re-decides one event; returns the derived rows it makes.
pub(crate) fn redecide(lookup: &dyn Lookup, event: Recorded) -> Result<Vec<Change>> {
    let seq = event.seq;
    let decided = decided(lookup, event)?;
    evolve(lookup, decided, seq)
}

/// Re-decides one event, but applies it as the log has it even when the
/// rules refuse it, so that `verify` reports the refusal once instead of
/// every derived row the event made: the rows, and the problem if any.
pub(crate) fn replay_as_logged(
    lookup: &dyn Lookup,
    event: Recorded,
) -> (Vec<Change>, Option<Error>) {
    let (seq, kind, payload) = (event.seq, event.body.kind(), event.payload);
    let (body, problem) = match decided(lookup, event) {
        Ok(decided) => (decided, None),
        // Rare: the body was used up deciding; read it again as logged.
        Err(problem) => match Body::parse(kind, payload) {
            Ok(logged) => (logged, Some(problem)),
            Err(_) => return (Vec::new(), Some(problem)),
        },
    };
    match evolve(lookup, body, seq) {
        Ok(changes) => (changes, problem),
        Err(error) => (Vec::new(), problem.or(Some(error))),
    }
}

/// The check itself: the command the event records, decided against the
/// state before it, must make exactly the stored payload. Returns the body
/// the rules made (equal to the logged one).
fn decided(lookup: &dyn Lookup, event: Recorded) -> Result<Body> {
    let Recorded {
        seq,
        at,
        actor,
        body,
        payload,
    } = event;
    let in_event = |error: Error| match error {
        Error::Storage(_) | Error::Io(_) => error,
        other => broken(seq, format!("{}: {other}", other.code())),
    };
    validate_text("actor", actor, limits::TEXT_MAX).map_err(in_event)?;
    validate_payload(&body).map_err(in_event)?;
    let command = recorded_command(body).map_err(in_event)?;
    let decided = match decide(lookup, &command, at).map_err(in_event)? {
        Decision::Append(decided) => decided,
        Decision::AlreadyDone(earlier) => {
            return Err(broken(
                seq,
                format!(
                    "request_conflict: request id {} was already answered by event {}",
                    shorten(earlier.request_id.as_str()),
                    earlier.seq
                ),
            ))
        }
    };
    let made = decided.payload();
    if made != payload {
        return Err(broken(seq, payload_differences(payload, &made)));
    }
    Ok(decided)
}

/// Which fields of a stored payload differ from the one the rules make.
fn payload_differences(stored: &str, made: &str) -> String {
    let parse =
        |text: &str| serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(text);
    let (Ok(stored_fields), Ok(made_fields)) = (parse(stored), parse(made)) else {
        return "the payload is not what the rules make of it".to_string();
    };
    let mut differing: Vec<String> = made_fields
        .iter()
        .filter(|(name, value)| stored_fields.get(*name) != Some(value))
        .map(|(name, value)| {
            let stored_value = stored_fields
                .get(name)
                .map_or("nothing".to_string(), |v| shorten(&v.to_string()));
            format!(
                "{name} is {stored_value}, the rules give {}",
                shorten(&value.to_string())
            )
        })
        .collect();
    differing.extend(
        stored_fields
            .keys()
            .filter(|name| !made_fields.contains_key(*name))
            .map(|name| format!("{name} is not a field the rules write")),
    );
    if differing.is_empty() {
        // Same fields and values, other text (order, spacing, escapes).
        return "the payload is not written as snledger writes it".to_string();
    }
    format!(
        "the payload is not what the rules make of it: {}",
        differing.join("; ")
    )
}

/// The command an event records: what an operator ran to make it, with the
/// numbers it names as the generated ones.
pub(crate) fn recorded_command(body: Body) -> Result<Command> {
    let kind = body.kind();
    Ok(match body {
        Body::InstanceAdded(payload) => instance_added(payload)?,
        Body::InstanceRenewed(payload) => Command::Renew {
            instance_id: payload.instance_id,
            months: payload.months,
            expires_at: parse_time("expires_at", &payload.expires_at)?,
        },
        Body::InstanceReleased(payload) => Command::Release {
            instance_id: payload.instance_id,
        },
        Body::PolicySet(payload) => policy_set(payload)?,
        Body::Allocated(payload) => allocated(payload)?,
        Body::Selected(payload) => selected(payload)?,
        Body::Granted(payload) => Command::Grant(GrantCommand {
            number: payload.number,
            to: payload.to,
            account: Some(payload.owner),
            note: payload.note,
        }),
        Body::Bound(payload) => Command::Bind(BindCommand {
            number: payload.number,
            service: payload.service,
            account: payload.holder,
        }),
        Body::ServiceMoved(payload) => Command::MoveService(MoveServiceCommand {
            service: payload.service,
            to: payload.to_host,
            commercial: payload.commercial,
        }),
        Body::ServiceIpUpdated(payload) => Command::IpUpdated {
            service: payload.service,
        },
        Body::Submitted(payload) => Command::Submit {
            number: payload.number,
        },
        Body::Approved(payload) => Command::Approve {
            number: payload.number,
            icp_number: required(kind, payload.icp_number, "icp_number")?,
        },
        Body::Rejected(payload) => Command::Reject {
            number: payload.number,
            reason: required(kind, payload.reason, "reason")?,
        },
        Body::Deregistered(payload) => Command::Deregister {
            number: payload.number,
            reason: payload.reason,
        },
        Body::Invalidated(payload) => Command::Invalidate {
            number: payload.number,
            reason: required(kind, payload.reason, "reason")?,
        },
        Body::InstanceAmended(payload) => instance_amended(&payload)?,
        Body::RegionSet(payload) => Command::SetRegion {
            region: payload.region,
            mainland: payload.mainland,
        },
        Body::ServiceRenamed(payload) => Command::RenameService {
            service: payload.service,
            to: payload.to,
        },
        Body::Reconciled(payload) => Command::Reconcile(payload.clone()),
        Body::ClockRepaired(payload) => Command::RepairClock(payload),
    })
}

/// A field the command needs, which this kind's payload must name.
fn required(kind: &str, value: Option<String>, field: &str) -> Result<String> {
    value.ok_or_else(|| Error::usage(format!("{kind} names no {field}")))
}

/// The selected number was generated: it must have the shape of a number.
fn selected(payload: Selected) -> Result<Command> {
    validate_number(&payload.number)?;
    Ok(Command::Select(SelectCommand {
        instance_id: payload.instance_id,
        service: payload.service,
        account: Some(payload.account),
        generated: payload.number,
    }))
}

fn instance_added(payload: InstanceAdded) -> Result<Command> {
    Ok(Command::AddInstance {
        instance_id: payload.instance_id,
        service_type: payload.service_type,
        account: payload.account,
        region: payload.region,
        billing: Billing::parse("billing", &payload.billing)?,
        subscription_months: payload.subscription_months,
        expires_at: parse_time("expires_at", &payload.expires_at)?,
        public_ip: payload.public_ip,
        order_amount_fen: payload
            .order_amount
            .as_deref()
            .map(|text| parse_amount_fen("order_amount", text))
            .transpose()?,
    })
}

/// Every field given, so the rules' merge with the current row gives back
/// exactly the stored values.
fn policy_set(payload: PolicySet) -> Result<Command> {
    Ok(Command::SetPolicy {
        service_type: payload.service_type,
        max_numbers: Some(payload.max_numbers),
        min_subscription_months: Some(payload.min_subscription_months),
        min_order_amount_fen: Some(
            payload
                .min_order_amount
                .as_deref()
                .map(|text| parse_amount_fen("min_order_amount", text))
                .transpose()?,
        ),
        requires_public_ip: Some(payload.requires_public_ip),
    })
}

/// Numbers given with `--number` are `asked`; otherwise the event's
/// numbers were generated, and must have the shape of a number.
fn allocated(payload: Allocated) -> Result<Command> {
    let given = !payload.asked.is_empty();
    if !given {
        for number in &payload.numbers {
            validate_number(number)?;
        }
    }
    Ok(Command::Allocate {
        instance_id: payload.instance_id,
        account: Some(payload.account),
        count: Some(payload.numbers.len() as i64),
        numbers: payload.asked,
        request_id: payload.request_id,
        generated: if given { Vec::new() } else { payload.numbers },
    })
}

/// Each changed field as the flag that sets its new value: re-deciding
/// then finds the old values in the state before the event.
fn instance_amended(payload: &InstanceAmended) -> Result<Command> {
    let amount = |text: &Option<String>| {
        text.as_deref()
            .map(|text| parse_amount_fen("order_amount", text))
            .transpose()
    };
    Ok(Command::AmendInstance {
        instance_id: payload.instance_id.clone(),
        public_ip: payload.public_ip.as_ref().map(|c| c.new.clone()),
        billing: payload
            .billing
            .as_ref()
            .map(|c| Billing::parse("billing", &c.new))
            .transpose()?,
        order_amount_fen: payload
            .order_amount
            .as_ref()
            .map(|c| amount(&c.new))
            .transpose()?,
        service_type: payload.service_type.as_ref().map(|c| c.new.clone()),
        region: payload.region.as_ref().map(|c| c.new.clone()),
        account: payload.owner.as_ref().map(|c| c.new.clone()),
    })
}
