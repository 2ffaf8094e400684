//! The syntax and limits of every field, checked twice: on a command before
//! any rule runs (`Command::validate`: a usage error, exit 2), and on the
//! payload of an event read back from a log (`validate_payload`, run by
//! `replay::redecide` before it rebuilds the command), so that a log edited
//! or forged by hand cannot smuggle in a value the program would refuse (or
//! overflow on) later.
//!
//! Each command's check sits beside the check of the payload it makes, so
//! the two lists cannot drift apart.

use super::decide::count_out_of_range;
use super::decide::Command;
use super::event::*;
use super::names::validate_icp_number;
use super::types::*;
use crate::domain::decide::{BindCommand, GrantCommand, MoveServiceCommand, SelectCommand};
use crate::error::{Error, Result};

impl Command {
    /// Checks the syntax of every field (exit 2 on failure), before any rule.
    pub(crate) fn validate(&self) -> Result<()> {
        match self {
            Command::AddInstance {
                instance_id,
                service_type,
                account,
                region,
                subscription_months,
                public_ip,
                ..
            } => add_instance(
                instance_id,
                service_type,
                account,
                region,
                *subscription_months,
                public_ip,
            ),
            Command::Renew {
                instance_id,
                months,
                ..
            } => renew(instance_id, *months),
            Command::Release { instance_id } => validate_instance_id(instance_id),
            Command::SetPolicy {
                service_type,
                max_numbers,
                min_subscription_months,
                ..
            } => set_policy(service_type, *max_numbers, *min_subscription_months),
            Command::Allocate {
                instance_id,
                account,
                numbers,
                request_id,
                ..
            } => allocate(instance_id, account, numbers, request_id),
            Command::Select(SelectCommand {
                instance_id,
                service,
                account,
                ..
            }) => select(instance_id, service, account),
            Command::Grant(GrantCommand {
                number,
                to,
                account,
                note,
            }) => grant(number, to, account, note),
            Command::Bind(BindCommand {
                number,
                service,
                account,
            }) => bind(number, service, account),
            Command::Submit { number } => validate_number(number),
            Command::Approve { number, icp_number } => approve(number, icp_number),
            Command::Reject { number, reason } | Command::Invalidate { number, reason } => {
                reject_or_invalidate(number, reason)
            }
            Command::Deregister { number, reason } => deregister(number, reason),
            Command::MoveService(MoveServiceCommand { service, to, .. }) => {
                move_service(service, to)
            }
            Command::IpUpdated { service } => validate_service(service),
            Command::AmendInstance { .. } => amend_instance(self),
            Command::SetRegion { region, .. } => validate_region(region),
            Command::RenameService { service, to } => rename_service(service, to),
            Command::Reconcile(reconciled) => reconcile(reconciled).map_err(usage_of),
            Command::RepairClock(repaired) => clock_repaired(repaired),
        }
    }
}

/// The fields of a payload obey the same syntax and limits as the command
/// that makes it. Any error here is reported as the event's integrity error.
pub(crate) fn validate_payload(body: &Body) -> Result<()> {
    match body {
        Body::InstanceAdded(payload) => instance_added(payload),
        Body::InstanceRenewed(payload) => instance_renewed(payload),
        Body::InstanceReleased(payload) => validate_instance_id(&payload.instance_id),
        Body::PolicySet(payload) => policy_set(payload),
        Body::Allocated(payload) => allocated(payload),
        Body::Selected(payload) => selected(payload),
        Body::Granted(payload) => granted(payload),
        Body::Bound(payload) => {
            validate_number(&payload.number)?;
            validate_service(&payload.service)
        }
        Body::Submitted(payload)
        | Body::Approved(payload)
        | Body::Rejected(payload)
        | Body::Deregistered(payload)
        | Body::Invalidated(payload) => number_changed(payload),
        Body::ServiceMoved(payload) => validate_instance_id(&payload.to_host),
        Body::ServiceIpUpdated(_) => Ok(()),
        Body::InstanceAmended(payload) => instance_amended(payload),
        Body::RegionSet(payload) => validate_region(&payload.region),
        Body::ServiceRenamed(payload) => rename_service(&payload.service, &payload.to),
        Body::Reconciled(payload) => reconcile(payload),
        Body::ClockRepaired(payload) => clock_repaired(payload),
    }
}

// Field checks both lists share.

fn optional_text(field: &str, value: &Option<String>) -> Result<()> {
    value
        .as_deref()
        .map_or(Ok(()), |text| validate_text(field, text, limits::TEXT_MAX))
}

fn optional(value: &Option<String>, validate: fn(&str) -> Result<()>) -> Result<()> {
    value.as_deref().map_or(Ok(()), validate)
}

/// A command's number out of range: "months: must be 1 to 1200".
fn command_range(field: &str, value: i64, min: i64, max: i64) -> Result<()> {
    if !(min..=max).contains(&value) {
        return Err(Error::usage(format!("{field}: must be {min} to {max}")));
    }
    Ok(())
}

/// A payload's number out of range: "months 5000 out of range".
fn payload_range(what: &str, value: i64, min: i64, max: i64) -> Result<()> {
    if !(min..=max).contains(&value) {
        return Err(Error::Integrity(format!("{what} {value} out of range")));
    }
    Ok(())
}

/// Checks each number's syntax in order, and returns the first one that
/// repeats an earlier one (whatever its ASCII case).
fn repeated_number(numbers: &[String]) -> Result<Option<&str>> {
    for (index, number) in numbers.iter().enumerate() {
        validate_number(number)?;
        if numbers[..index]
            .iter()
            .any(|earlier| earlier.eq_ignore_ascii_case(number))
        {
            return Ok(Some(number));
        }
    }
    Ok(None)
}

/// A time in a payload is in its one canonical spelling.
fn canonical_time(text: &str) -> Result<()> {
    let parsed = parse_time("time", text)?;
    if format_time(parsed) != text {
        return Err(Error::Integrity(format!(
            "time '{}' is not canonical",
            shorten(text)
        )));
    }
    Ok(())
}

// Instances: `instance add` / `instance_added`, `instance renew` /
// `instance_renewed` (release and `instance_released` name only the id).

fn add_instance(
    instance_id: &str,
    service_type: &str,
    account: &str,
    region: &str,
    subscription_months: i64,
    public_ip: &Option<String>,
) -> Result<()> {
    validate_instance_id(instance_id)?;
    validate_service_type(service_type)?;
    validate_account(account)?;
    validate_region(region)?;
    command_range("months", subscription_months, 0, limits::MONTHS_MAX)?;
    optional(public_ip, validate_public_ip)
}

fn instance_added(payload: &InstanceAdded) -> Result<()> {
    validate_instance_id(&payload.instance_id)?;
    validate_service_type(&payload.service_type)?;
    validate_account(&payload.account)?;
    validate_region(&payload.region)?;
    payload_range("months", payload.subscription_months, 0, limits::MONTHS_MAX)?;
    canonical_time(&payload.expires_at)?;
    optional(&payload.public_ip, validate_public_ip)
}

fn renew(instance_id: &str, months: i64) -> Result<()> {
    validate_instance_id(instance_id)?;
    command_range("months", months, 1, limits::MONTHS_MAX)
}

fn instance_renewed(payload: &InstanceRenewed) -> Result<()> {
    validate_instance_id(&payload.instance_id)?;
    payload_range("months", payload.months, 0, limits::MONTHS_MAX)?;
    payload_range("months", payload.subscription_months, 0, limits::MONTHS_MAX)?;
    canonical_time(&payload.expires_at)
}

// Policy: `policy set` / `policy_set`.

fn set_policy(
    service_type: &str,
    max_numbers: Option<i64>,
    min_subscription_months: Option<i64>,
) -> Result<()> {
    validate_service_type(service_type)?;
    if let Some(max_numbers) = max_numbers {
        command_range("max", max_numbers, 0, limits::NUMBERS_MAX)?;
    }
    if let Some(months) = min_subscription_months {
        command_range("min months", months, 0, limits::MONTHS_MAX)?;
    }
    Ok(())
}

fn policy_set(payload: &PolicySet) -> Result<()> {
    validate_service_type(&payload.service_type)?;
    payload_range(
        "months",
        payload.min_subscription_months,
        0,
        limits::MONTHS_MAX,
    )?;
    payload_range("max numbers", payload.max_numbers, 0, limits::NUMBERS_MAX)
}

// Numbers: `allocate` / `allocated`, `select` / `selected`, `grant` /
// `granted`, `bind` / `bound`.

fn allocate(
    instance_id: &str,
    account: &Option<String>,
    numbers: &[String],
    request_id: &Option<String>,
) -> Result<()> {
    validate_instance_id(instance_id)?;
    optional(account, validate_account)?;
    if numbers.len() > limits::ALLOCATE_MAX {
        return Err(count_out_of_range(&format!(
            "{} numbers given",
            numbers.len()
        )));
    }
    if let Some(number) = repeated_number(numbers)? {
        return Err(Error::usage(format!("number {number} is given twice")));
    }
    optional_text("request id", request_id)
}

fn allocated(payload: &Allocated) -> Result<()> {
    validate_instance_id(&payload.instance_id)?;
    validate_account(&payload.account)?;
    let count = payload.numbers.len();
    if count == 0 || count > limits::ALLOCATE_MAX {
        return Err(Error::Integrity(format!("allocates {count} numbers")));
    }
    if let Some(number) = repeated_number(&payload.numbers)? {
        return Err(Error::Integrity(format!("allocates number {number} twice")));
    }
    payload.asked.iter().try_for_each(|n| validate_number(n))?;
    optional_text("request id", &payload.request_id)
}

fn select(instance_id: &str, service: &str, account: &Option<String>) -> Result<()> {
    validate_instance_id(instance_id)?;
    validate_service(service)?;
    optional(account, validate_account)
}

fn selected(payload: &Selected) -> Result<()> {
    validate_instance_id(&payload.instance_id)?;
    validate_account(&payload.account)?;
    validate_number(&payload.number)?;
    validate_service(&payload.service)
}

fn grant(number: &str, to: &str, account: &Option<String>, note: &Option<String>) -> Result<()> {
    validate_number(number)?;
    validate_account(to)?;
    optional(account, validate_account)?;
    optional_text("note", note)
}

fn granted(payload: &Granted) -> Result<()> {
    validate_number(&payload.number)?;
    validate_account(&payload.to)?;
    optional_text("note", &payload.note)
}

fn bind(number: &str, service: &str, account: &str) -> Result<()> {
    validate_number(number)?;
    validate_service(service)?;
    validate_account(account)
}

// Filings: `submit`, `approve`, `reject`, `deregister` and `invalidate`
// all make a `NumberChanged` payload (submit names only the number).

fn approve(number: &str, icp_number: &str) -> Result<()> {
    validate_number(number)?;
    validate_text("icp number", icp_number, limits::TEXT_MAX)?;
    validate_icp_number(icp_number)
}

fn reject_or_invalidate(number: &str, reason: &str) -> Result<()> {
    validate_number(number)?;
    validate_text("reason", reason, limits::TEXT_MAX)
}

fn deregister(number: &str, reason: &Option<String>) -> Result<()> {
    validate_number(number)?;
    optional_text("reason", reason)
}

fn number_changed(payload: &NumberChanged) -> Result<()> {
    validate_number(&payload.number)?;
    optional_text("icp number", &payload.icp_number)?;
    optional(&payload.icp_number, validate_icp_number)?;
    optional_text("reason", &payload.reason)
}

// Services: `service move` / `service_moved` (only the new host is new to
// the ledger); `service ip-updated` and `service_ip_updated` name what exists.

fn move_service(service: &str, to: &str) -> Result<()> {
    validate_service(service)?;
    validate_instance_id(to)
}

// Corrections: `instance amend` / `instance_amended` (the new values are
// new to the ledger; the old ones are what re-deciding finds),
// `region set` / `region_set`, `service rename` / `service_renamed`.

fn amend_instance(command: &Command) -> Result<()> {
    let Command::AmendInstance {
        instance_id,
        public_ip,
        service_type,
        region,
        account,
        ..
    } = command
    else {
        return Ok(());
    };
    validate_instance_id(instance_id)?;
    if let Some(public_ip) = public_ip {
        optional(public_ip, validate_public_ip)?;
    }
    optional(service_type, validate_service_type)?;
    optional(region, validate_region)?;
    optional(account, validate_account)
}

fn instance_amended(payload: &InstanceAmended) -> Result<()> {
    validate_instance_id(&payload.instance_id)?;
    validate_account(&payload.account)?;
    if let Some(change) = &payload.public_ip {
        optional(&change.new, validate_public_ip)?;
    }
    if let Some(change) = &payload.billing {
        Billing::parse("billing", &change.new)?;
    }
    if let Some(change) = &payload.order_amount {
        if let Some(amount) = &change.new {
            parse_amount_fen("order amount", amount)?;
        }
    }
    if let Some(change) = &payload.service_type {
        validate_service_type(&change.new)?;
    }
    if let Some(change) = &payload.region {
        validate_region(&change.new)?;
    }
    if let Some(change) = &payload.owner {
        validate_account(&change.new)?;
    }
    Ok(())
}

// Reconciliation: `reconcile --record` / `reconciled` carry the same record.

/// A command's field error is the user's (exit 2); the check itself is
/// shared with the payload's.
fn usage_of(error: Error) -> Error {
    Error::usage(error.to_string())
}

fn reconcile(payload: &Reconciled) -> Result<()> {
    let hex = &payload.file_sha256;
    if hex.len() != 64 || !hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(Error::Integrity(format!(
            "file sha256 '{}' is not 64 lowercase hex digits",
            shorten(hex)
        )));
    }
    payload_range("file size", payload.file_size_bytes, 0, i64::MAX)?;
    payload_range("numbers", payload.numbers, 0, i64::MAX)?;
    payload_range("instances", payload.instances, 0, i64::MAX)?;
    let counts = &payload.differences;
    for count in [
        counts.unknown_number,
        counts.missing_at_provider,
        counts.status_differs,
        counts.icp_number_differs,
        counts.owner_differs,
        counts.instance_differs,
        counts.type_differs,
        counts.quota_differs,
    ] {
        payload_range("difference count", count, 0, i64::MAX)?;
    }
    Ok(())
}

fn rename_service(service: &str, to: &str) -> Result<()> {
    validate_service(service)?;
    validate_service(to)
}

// Clock repairs: the range's own shape (the log is checked in `domain::clock`).

fn clock_repaired(payload: &ClockRepaired) -> Result<()> {
    validate_text("reason", &payload.reason, limits::TEXT_MAX)?;
    if payload.first_seq < 1 || payload.last_seq < payload.first_seq {
        return Err(Error::Integrity(format!(
            "the repaired range {}..{} is not a range of seqs",
            payload.first_seq, payload.last_seq
        )));
    }
    for (field, text) in [
        ("first_claimed_at", &payload.first_claimed_at),
        ("last_claimed_at", &payload.last_claimed_at),
    ] {
        let time = parse_time(field, text)?;
        if format_time(time) != *text {
            return Err(Error::Integrity(format!(
                "{field} is not a canonical UTC time"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_and_its_payload_refuse_the_same_months() {
        let command = Command::Renew {
            instance_id: "i-1".into(),
            months: limits::MONTHS_MAX + 1,
            expires_at: parse_time("t", "2027-01-01").unwrap(),
        };
        assert_eq!(command.validate().unwrap_err().code(), "usage");
        let payload = Body::InstanceRenewed(InstanceRenewed {
            instance_id: "i-1".into(),
            account: "a".into(),
            months: limits::MONTHS_MAX + 1,
            subscription_months: 12,
            expires_at: "2027-01-01T00:00:00Z".into(),
        });
        let error = validate_payload(&payload).unwrap_err();
        assert_eq!(error.to_string(), "months 1201 out of range");
    }

    #[test]
    fn a_number_given_twice_is_refused_in_both() {
        let twice = vec!["n-0001".to_string(), "n-0001".to_string()];
        let command = Command::Allocate {
            instance_id: "i-1".into(),
            account: None,
            count: None,
            numbers: twice.clone(),
            request_id: None,
            generated: vec![],
        };
        let error = command.validate().unwrap_err();
        assert_eq!(error.to_string(), "number n-0001 is given twice");
        let payload = Body::Allocated(Allocated {
            instance_id: "i-1".into(),
            account: "a".into(),
            numbers: twice,
            asked: vec![],
            request_id: None,
        });
        let error = validate_payload(&payload).unwrap_err();
        assert_eq!(error.to_string(), "allocates number n-0001 twice");
    }
}
