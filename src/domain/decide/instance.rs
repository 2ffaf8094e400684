//! `instance add`, `instance renew` and `instance release`.

use super::{spelled_as, Command, Lookup, Missing::NotFound};
use crate::domain::event::{Body, InstanceAdded, InstanceReleased, InstanceRenewed};
use crate::domain::types::*;
use crate::error::{Error, Reason, Result};

/// An instance id is used once, ever.
pub(super) fn add(lookup: &dyn Lookup, command: &Command) -> Result<Body> {
    let Command::AddInstance {
        instance_id,
        service_type,
        account,
        region,
        billing,
        subscription_months,
        expires_at,
        public_ip,
        order_amount_fen,
    } = command
    else {
        // invariant: `decide` calls this for `Command::AddInstance` alone.
        unreachable!("invariant: instance::add is given an AddInstance command")
    };
    // Unique regardless of ASCII case: `I-WEB` is `i-web`.
    if let Some(existing) = lookup.instance(instance_id)? {
        return Err(Error::refused(
            Reason::AlreadyExists,
            format!(
                "instance {instance_id} already exists{}",
                spelled_as(instance_id, &existing.instance_id)
            ),
        ));
    }
    Ok(Body::InstanceAdded(InstanceAdded {
        instance_id: instance_id.clone(),
        service_type: service_type.clone(),
        account: account.clone(),
        region: region.clone(),
        billing: billing.as_str().to_string(),
        subscription_months: *subscription_months,
        expires_at: format_time(*expires_at),
        public_ip: public_ip.clone(),
        order_amount: order_amount_fen.map(format_fen),
    }))
}

/// A renewal moves the expiry later and adds its months to the total.
pub(super) fn renew(
    lookup: &dyn Lookup,
    instance_id: &str,
    months: i64,
    expires_at: Time,
) -> Result<Body> {
    let instance = lookup.instance_or(instance_id, NotFound)?;
    if instance.state == InstanceState::Released {
        return Err(Error::refused(
            Reason::Released,
            format!("instance {instance_id} is released"),
        ));
    }
    let expires_at = format_time(expires_at);
    if expires_at <= instance.expires_at {
        return Err(Error::usage(format!(
            "expires: {expires_at} is not later than the current expiry {}",
            instance.expires_at
        )));
    }
    let subscription_months = instance.subscription_months + months;
    if subscription_months > limits::MONTHS_MAX {
        return Err(Error::usage(format!(
            "months: the total would pass {}",
            limits::MONTHS_MAX
        )));
    }
    Ok(Body::InstanceRenewed(InstanceRenewed {
        instance_id: instance_id.to_string(),
        account: instance.account,
        months,
        subscription_months,
        expires_at,
    }))
}

pub(super) fn release(lookup: &dyn Lookup, instance_id: &str) -> Result<Body> {
    let instance = lookup.instance_or(instance_id, NotFound)?;
    if instance.state == InstanceState::Released {
        return Err(Error::refused(
            Reason::Released,
            format!("instance {instance_id} is already released"),
        ));
    }
    Ok(Body::InstanceReleased(InstanceReleased {
        instance_id: instance_id.to_string(),
        account: instance.account,
    }))
}
