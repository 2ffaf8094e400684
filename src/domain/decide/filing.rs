//! `submit`, `approve`, `reject`, `deregister` and `invalidate`: the review
//! and the end of a number's use. Each is one move of the state machine
//! (docs/guide.md "The life of a number"); none takes an account, the operator is
//! recorded as the actor.

use super::{check_instance_live, Lookup, Missing::NotFound};
use crate::domain::event::{Body, NumberChanged};
use crate::domain::machine::{transition, Action};
use crate::domain::types::{shorten, Time};
use crate::error::{Error, Reason, Result};

/// A filing under way on a released or expired instance cannot start; the
/// other moves record what happened and stay possible.
pub(super) fn submit(lookup: &dyn Lookup, now: Time, number: &str) -> Result<Body> {
    let changed = number_changed(lookup, number, Action::Submit, None, None)?;
    let record = lookup.number_or(number, NotFound)?;
    check_instance_live(lookup, &record, now, "submit")?;
    Ok(Body::Submitted(changed))
}

pub(super) fn approve(lookup: &dyn Lookup, number: &str, icp_number: &str) -> Result<Body> {
    // One ICP number belongs to at most one live number.
    if let Some(holder) = lookup.live_number_with_icp(icp_number)? {
        if holder.number != number {
            return Err(Error::refused(
                Reason::IcpNumberTaken,
                format!(
                    "ICP number {} is already held by number {} ({}, service {})",
                    shorten(icp_number),
                    holder.number,
                    holder.status,
                    shorten(holder.service.as_deref().unwrap_or("none"))
                ),
            ));
        }
    }
    let icp_number = Some(icp_number.to_string());
    let changed = number_changed(lookup, number, Action::Approve, icp_number, None)?;
    Ok(Body::Approved(changed))
}

pub(super) fn reject(lookup: &dyn Lookup, number: &str, reason: &str) -> Result<Body> {
    let reason = Some(reason.to_string());
    let changed = number_changed(lookup, number, Action::Reject, None, reason)?;
    Ok(Body::Rejected(changed))
}

pub(super) fn deregister(
    lookup: &dyn Lookup,
    number: &str,
    reason: &Option<String>,
) -> Result<Body> {
    let changed = number_changed(lookup, number, Action::Deregister, None, reason.clone())?;
    Ok(Body::Deregistered(changed))
}

pub(super) fn invalidate(lookup: &dyn Lookup, number: &str, reason: &str) -> Result<Body> {
    let reason = Some(reason.to_string());
    let changed = number_changed(lookup, number, Action::Invalidate, None, reason)?;
    Ok(Body::Invalidated(changed))
}

/// The payload of `action` on an existing number the machine lets it take:
/// the number as it stands, with the ICP number or reason given.
fn number_changed(
    lookup: &dyn Lookup,
    number: &str,
    action: Action,
    icp_number: Option<String>,
    reason: Option<String>,
) -> Result<NumberChanged> {
    let record = lookup.number_or(number, NotFound)?;
    transition(number, record.status, action)?;
    Ok(NumberChanged {
        number: record.number,
        instance_id: record.instance_id,
        owner: record.owner,
        holder: record.holder,
        service: record.service,
        icp_number,
        reason,
    })
}
