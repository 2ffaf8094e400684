//! `allocate`, `select`, `grant` and `bind`: numbers made on an instance,
//! handed to a holder and bound to a service.

use super::{
    acting_owner, check_eligible, check_instance_live, check_new_numbers, check_service_free,
    BindCommand, Command, Decision, GrantCommand, Lookup, Missing::NotFound, SelectCommand,
};
use crate::domain::event::{Allocated, Body, Bound, Granted, Selected};
use crate::domain::machine::{transition, Action};
use crate::domain::types::*;
use crate::error::{Error, Reason, Result};

/// New numbers on an eligible instance, by its owner; a repeated request id
/// gets its first answer.
pub(super) fn allocate(lookup: &dyn Lookup, command: &Command, now: Time) -> Result<Decision> {
    let Command::Allocate {
        instance_id,
        account,
        count,
        numbers,
        request_id,
        generated,
    } = command
    else {
        // invariant: `decide` calls this for `Command::Allocate` alone.
        unreachable!("invariant: number::allocate is given an Allocate command")
    };
    let requested = requested_count(*count, numbers)?;
    let instance = lookup.instance_or(instance_id, NotFound)?;
    let account = acting_owner(
        account,
        &instance.account,
        &format!("allocate on {instance_id}"),
    )?;
    if let Some(request_id) = request_id {
        if let Some(earlier) = lookup.request(request_id)? {
            let same = earlier.instance_id == *instance_id
                && earlier.account == account
                && earlier.count == requested
                && earlier.asked.len() == numbers.len()
                // Numbers are one thing whatever their ASCII case.
                && earlier
                    .asked
                    .iter()
                    .zip(numbers)
                    .all(|(a, b)| a.eq_ignore_ascii_case(b));
            if same {
                return Ok(Decision::AlreadyDone(earlier));
            }
            return Err(request_conflict(request_id, &earlier));
        }
    }
    check_eligible(lookup, &instance, now, requested)?;
    let new_numbers: Vec<String> = if numbers.is_empty() {
        generated.iter().take(requested as usize).cloned().collect()
    } else {
        numbers.clone()
    };
    // invariant: the caller generates a number for every slot a request can
    // take, and `requested_count` kept `requested` within that.
    assert_eq!(
        new_numbers.len() as i64,
        requested,
        "invariant: the caller generates enough numbers"
    );
    check_new_numbers(lookup, &new_numbers)?;
    Ok(Decision::Append(Body::Allocated(Allocated {
        instance_id: instance_id.clone(),
        account,
        numbers: new_numbers,
        asked: numbers.clone(),
        request_id: request_id.clone(),
    })))
}

/// How many numbers a request asks for: `--count` (1 by default), or the
/// numbers given, which `--count` must then match.
fn requested_count(count: Option<i64>, numbers: &[String]) -> Result<i64> {
    let requested = if numbers.is_empty() {
        count.unwrap_or(1)
    } else {
        if count.is_some_and(|count| count != numbers.len() as i64) {
            return Err(Error::usage(format!(
                "--count {} does not match the {} numbers given",
                count.unwrap_or(0),
                numbers.len()
            )));
        }
        numbers.len() as i64
    };
    if !(1..=limits::ALLOCATE_MAX as i64).contains(&requested) {
        return Err(count_out_of_range(&format!("count {requested}")));
    }
    Ok(requested)
}

fn request_conflict(request_id: &str, earlier: &RequestRecord) -> Error {
    Error::refused(
        Reason::RequestConflict,
        format!(
            "request id {} was used for {} number(s) on {} by {} (event {})",
            shorten(request_id),
            earlier.count,
            earlier.instance_id,
            earlier.account,
            earlier.seq
        ),
    )
}

/// Direct selection: one slot of an eligible instance, recorded as a number
/// bound at once to the service.
pub(super) fn select(lookup: &dyn Lookup, now: Time, command: &SelectCommand) -> Result<Body> {
    let SelectCommand {
        instance_id,
        service,
        account,
        generated,
    } = command;
    let instance = lookup.instance_or(instance_id, NotFound)?;
    let account = acting_owner(account, &instance.account, &format!("select {instance_id}"))?;
    check_eligible(lookup, &instance, now, 1)?;
    check_service_free(lookup, service)?;
    check_new_numbers(lookup, &[generated.to_string()])?;
    Ok(Body::Selected(Selected {
        instance_id: instance_id.to_string(),
        account,
        number: generated.to_string(),
        service: service.to_string(),
    }))
}

/// The owner hands an unbound number to a holder (possibly itself again).
pub(super) fn grant(lookup: &dyn Lookup, now: Time, command: &GrantCommand) -> Result<Body> {
    let GrantCommand {
        number,
        to,
        account,
        note,
    } = command;
    let record = lookup.number_or(number, NotFound)?;
    acting_owner(account, &record.owner, &format!("grant {number}"))?;
    transition(number, record.status, Action::Grant)?;
    check_instance_live(lookup, &record, now, "grant")?;
    Ok(Body::Granted(Granted {
        number: number.to_string(),
        instance_id: record.instance_id,
        owner: record.owner,
        from: record.holder,
        to: to.to_string(),
        note: note.clone(),
    }))
}

/// The holder binds an unbound number to a service that holds no other.
pub(super) fn bind(lookup: &dyn Lookup, now: Time, command: &BindCommand) -> Result<Body> {
    let BindCommand {
        number,
        service,
        account,
    } = command;
    let record = lookup.number_or(number, NotFound)?;
    if *account != record.holder {
        return Err(Error::refused(
            Reason::NotHolder,
            format!(
                "account {account} cannot bind {number}: the holder is {}",
                record.holder
            ),
        ));
    }
    transition(number, record.status, Action::Bind)?;
    check_instance_live(lookup, &record, now, "bind")?;
    check_service_free(lookup, service)?;
    Ok(Body::Bound(Bound {
        number: number.to_string(),
        instance_id: record.instance_id,
        owner: record.owner,
        holder: record.holder,
        service: service.to_string(),
    }))
}

/// The refusal of a request for more numbers than one takes, or none
/// (`count_out_of_range`, exit 4): one message wherever it is caught (the
/// count as typed, the numbers given, the count decided).
pub(crate) fn count_out_of_range(what: &str) -> Error {
    Error::refused(
        Reason::CountOutOfRange,
        format!("{what}: one request takes 1 to {}", limits::ALLOCATE_MAX),
    )
}
