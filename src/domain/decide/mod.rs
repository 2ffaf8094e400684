//! Commands and the rules that accept or refuse them. `decide` checks the
//! command's fields (`validate.rs`), reads the current state through
//! `Lookup` and returns the one event to append (or, for a repeated request
//! id, the earlier answer). It never writes.
//!
//! One function per command, grouped by subject: `instance.rs` (add, renew,
//! release), `policy.rs`, `number.rs` (allocate, select, grant, bind),
//! `filing.rs` (submit, approve, reject, deregister, invalidate) and
//! `service.rs` (move, IP updated). The checks they share are here.

mod filing;
mod instance;
mod number;
mod policy;
mod reconcile;
mod region;
mod service;
mod spelling;

pub(crate) use super::lookup::{Lookup, Missing};
pub(crate) use number::count_out_of_range;

use super::eligibility::{failing_reasons, remaining_slots};
use super::event::Body;
use super::regions::is_mainland;
use super::types::*;
use crate::error::{Error, Reason, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Command {
    AddInstance {
        instance_id: String,
        service_type: String,
        account: String,
        region: String,
        billing: Billing,
        subscription_months: i64,
        expires_at: Time,
        public_ip: Option<String>,
        order_amount_fen: Option<i64>,
    },
    Renew {
        instance_id: String,
        months: i64,
        expires_at: Time,
    },
    Release {
        instance_id: String,
    },
    SetPolicy {
        service_type: String,
        max_numbers: Option<i64>,
        min_subscription_months: Option<i64>,
        /// `Some(None)` clears the minimum.
        min_order_amount_fen: Option<Option<i64>>,
        requires_public_ip: Option<bool>,
    },
    Allocate {
        instance_id: String,
        account: Option<String>,
        count: Option<i64>,
        /// Numbers the provider already issued (`--number`); empty = generate.
        numbers: Vec<String>,
        request_id: Option<String>,
        /// Fresh UUIDs to use when generating (made by the caller, so that
        /// this module stays deterministic).
        generated: Vec<String>,
    },
    Select(SelectCommand),
    Grant(GrantCommand),
    Bind(BindCommand),
    Submit {
        number: String,
    },
    Approve {
        number: String,
        icp_number: String,
    },
    Reject {
        number: String,
        reason: String,
    },
    Deregister {
        number: String,
        reason: Option<String>,
    },
    Invalidate {
        number: String,
        reason: String,
    },
    MoveService(MoveServiceCommand),
    IpUpdated {
        service: String,
    },
    /// `instance amend`: each field given is set (docs/guide.md "Corrections").
    AmendInstance {
        instance_id: String,
        /// `Some(None)` removes it.
        public_ip: Option<Option<String>>,
        billing: Option<Billing>,
        /// `Some(None)` removes it.
        order_amount_fen: Option<Option<i64>>,
        service_type: Option<String>,
        region: Option<String>,
        account: Option<String>,
    },
    SetRegion {
        region: String,
        mainland: bool,
    },
    RenameService {
        service: String,
        to: String,
    },
    /// Records a comparison with the provider's records (`reconcile --record`).
    Reconcile(super::event::Reconciled),
    /// Records a repair of events a wrong clock dated ahead (`clock repair`).
    RepairClock(super::event::ClockRepaired),
}

/// `Select`: its fields by name, so that no two of its strings can be swapped
/// on the way to the rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SelectCommand {
    pub instance_id: String,
    pub service: String,
    pub account: Option<String>,
    pub generated: String,
}

/// `Grant`: its fields by name, so that no two of its strings can be swapped
/// on the way to the rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GrantCommand {
    pub number: String,
    pub to: String,
    pub account: Option<String>,
    pub note: Option<String>,
}

/// `Bind`: its fields by name, so that no two of its strings can be swapped
/// on the way to the rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BindCommand {
    pub number: String,
    pub service: String,
    pub account: String,
}

/// `MoveService`: its fields by name, so that no two of its strings can be swapped
/// on the way to the rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MoveServiceCommand {
    pub service: String,
    pub to: String,
    pub commercial: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Decision {
    Append(Body),
    /// A request id seen before with the same parameters: its first answer.
    AlreadyDone(RequestRecord),
}

pub(crate) fn decide(lookup: &dyn Lookup, command: &Command, now: Time) -> Result<Decision> {
    command.validate()?;
    let command = &spelling::first_spellings(lookup, command)?;
    let body = match command {
        Command::AddInstance { .. } => instance::add(lookup, command)?,
        Command::Renew {
            instance_id,
            months,
            expires_at,
        } => instance::renew(lookup, instance_id, *months, *expires_at)?,
        Command::Release { instance_id } => instance::release(lookup, instance_id)?,
        Command::SetPolicy {
            service_type,
            max_numbers,
            min_subscription_months,
            min_order_amount_fen,
            requires_public_ip,
        } => policy::set(
            lookup,
            service_type,
            *max_numbers,
            *min_subscription_months,
            *min_order_amount_fen,
            *requires_public_ip,
        )?,
        Command::Allocate { .. } => return number::allocate(lookup, command, now),
        Command::Select(command) => number::select(lookup, now, command)?,
        Command::Grant(command) => number::grant(lookup, now, command)?,
        Command::Bind(command) => number::bind(lookup, now, command)?,
        Command::Submit { number } => filing::submit(lookup, now, number)?,
        Command::Approve { number, icp_number } => filing::approve(lookup, number, icp_number)?,
        Command::Reject { number, reason } => filing::reject(lookup, number, reason)?,
        Command::Deregister { number, reason } => filing::deregister(lookup, number, reason)?,
        Command::Invalidate { number, reason } => filing::invalidate(lookup, number, reason)?,
        Command::MoveService(command) => service::move_to(lookup, now, command)?,
        Command::IpUpdated { service } => service::ip_updated(lookup, service)?,
        Command::AmendInstance { .. } => instance::amend(lookup, command)?,
        Command::SetRegion { region, mainland } => region::set(lookup, region, *mainland)?,
        Command::RenameService { service, to } => service::rename(lookup, service, to)?,
        Command::Reconcile(reconciled) => reconcile::record(reconciled),
        Command::RepairClock(repaired) => Body::ClockRepaired(repaired.clone()),
    };
    Ok(Decision::Append(body))
}

/// Only the owner allocates, selects and grants; a missing `--account`
/// means the owner acts.
fn acting_owner(account: &Option<String>, owner: &str, what: &str) -> Result<String> {
    let account = account.clone().unwrap_or_else(|| owner.to_string());
    if account != owner {
        return Err(Error::refused(
            Reason::NotOwner,
            format!("account {account} cannot {what}: the owner is {owner}"),
        ));
    }
    Ok(account)
}

/// A number is only as good as its instance (docs/guide.md "Corrections"): it
/// cannot be granted, bound or submitted once the instance it came from is
/// released or has expired at `now`.
fn check_instance_live(
    lookup: &dyn Lookup,
    number: &NumberRecord,
    now: Time,
    what: &str,
) -> Result<()> {
    let instance = lookup.instance_or(&number.instance_id, Missing::NotFound)?;
    let reason = if instance.state == InstanceState::Released {
        Reason::Released
    } else if super::eligibility::is_expired(&instance, now) {
        Reason::Expired
    } else {
        return Ok(());
    };
    let state = if reason == Reason::Released {
        "was released".to_string()
    } else {
        format!("expired at {}", instance.expires_at)
    };
    Err(Error::refused(
        reason,
        format!(
            "cannot {what} number {}: its instance {} {state}",
            number.number, instance.instance_id
        ),
    ))
}

/// Refuses an instance that fails any eligibility rule for `requested` slots
/// (docs/reference.md "Eligibility reason codes"), on the first failing reason.
fn check_eligible(
    lookup: &dyn Lookup,
    instance: &Instance,
    now: Time,
    requested: i64,
) -> Result<()> {
    let policy = lookup.policy(&instance.service_type)?;
    let mainland = is_mainland(lookup, &instance.region)?;
    let reasons = failing_reasons(instance, policy.as_ref(), mainland, now, requested);
    if reasons.is_empty() {
        return Ok(());
    }
    Err(refuse_ineligible(
        instance,
        policy.as_ref(),
        &reasons,
        requested,
    ))
}

/// A short quota gets its own message; anything else lists every code.
fn refuse_ineligible(
    instance: &Instance,
    policy: Option<&Policy>,
    reasons: &[Reason],
    requested: i64,
) -> Error {
    let first = reasons[0];
    let message = if reasons == [Reason::QuotaExhausted] {
        format!(
            "instance {} has {} slot(s) left, {} asked",
            instance.instance_id,
            remaining_slots(instance, policy),
            requested
        )
    } else {
        let codes: Vec<&str> = reasons.iter().map(|r| r.code()).collect();
        format!(
            "instance {} is not eligible: {}",
            instance.instance_id,
            codes.join(", ")
        )
    };
    Error::refused(first, message)
}

/// A number is unique across the whole ledger, forever, regardless of
/// ASCII case (and so within one request: a log may not name a generated
/// number twice).
fn check_new_numbers(lookup: &dyn Lookup, numbers: &[String]) -> Result<()> {
    for (index, number) in numbers.iter().enumerate() {
        if numbers[..index]
            .iter()
            .any(|n| n.eq_ignore_ascii_case(number))
        {
            return Err(Error::refused(
                Reason::AlreadyExists,
                format!("number {number} is named twice"),
            ));
        }
        if let Some(existing) = lookup.number(number)? {
            return Err(Error::refused(
                Reason::AlreadyExists,
                format!(
                    "number {number} already exists{}",
                    spelled_as(number, &existing.number)
                ),
            ));
        }
    }
    Ok(())
}

/// " (as i-web)" when the ledger spells an identifier otherwise.
fn spelled_as(given: &str, stored: &str) -> String {
    if given == stored {
        String::new()
    } else {
        format!(" (as {stored})")
    }
}

/// A service may take a number unless it already holds one that is bound,
/// under review or filed.
fn check_service_free(lookup: &dyn Lookup, service: &str) -> Result<()> {
    if let Some(service_record) = lookup.service(service)? {
        let number_record = lookup.number_or(&service_record.number, Missing::NotFound)?;
        if number_record.status.holds_service() {
            return Err(Error::refused(
                Reason::ServiceTaken,
                format!(
                    "service {} already holds number {} ({})",
                    shorten(service),
                    number_record.number,
                    number_record.status
                ),
            ));
        }
    }
    Ok(())
}
