//! `instance add`, `instance renew`, `instance release` and `instance amend`.

use super::{spelled_as, Command, Lookup, Missing::NotFound};
use crate::domain::event::{
    Body, FieldChange, InstanceAdded, InstanceAmended, InstanceReleased, InstanceRenewed,
};
use crate::domain::regions::{check_region_known, check_type_known};
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
    // A typo would make an instance that can never be used, under an id
    // that can never be registered again.
    check_type_known(lookup, service_type)?;
    check_region_known(lookup, region)?;
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

/// `instance amend` (docs/guide.md "Corrections"): one event naming each field
/// that changes. Type, region and owner change only while no slot is
/// consumed; a released instance is not amended; an amend that changes
/// nothing is a usage error.
pub(super) fn amend(lookup: &dyn Lookup, command: &Command) -> Result<Body> {
    let Command::AmendInstance {
        instance_id,
        public_ip,
        billing,
        order_amount_fen,
        service_type,
        region,
        account,
    } = command
    else {
        // invariant: `decide` calls this for `Command::AmendInstance` alone.
        unreachable!("invariant: instance::amend is given an AmendInstance command")
    };
    let instance = lookup.instance_or(instance_id, NotFound)?;
    if instance.state == InstanceState::Released {
        return Err(Error::refused(
            Reason::Released,
            format!("instance {instance_id} is released; a released instance is not amended"),
        ));
    }
    let old_amount = instance.order_amount_fen.map(format_fen);
    let amended = InstanceAmended {
        instance_id: instance_id.clone(),
        account: instance.account.clone(),
        public_ip: changed(&instance.public_ip, public_ip.as_ref()),
        billing: changed(
            &instance.billing.as_str().to_string(),
            billing.map(|b| b.as_str().to_string()).as_ref(),
        ),
        order_amount: changed(
            &old_amount,
            order_amount_fen.map(|fen| fen.map(format_fen)).as_ref(),
        ),
        service_type: changed(&instance.service_type, service_type.as_ref()),
        region: changed(&instance.region, region.as_ref()),
        owner: changed(&instance.account, account.as_ref()),
    };
    check_identity_change(lookup, &instance, &amended)?;
    let nothing = amended.public_ip.is_none()
        && amended.billing.is_none()
        && amended.order_amount.is_none()
        && amended.service_type.is_none()
        && amended.region.is_none()
        && amended.owner.is_none();
    if nothing {
        return Err(Error::usage(format!(
            "instance amend: nothing changes on {instance_id}; give a field with a new value"
        )));
    }
    Ok(Body::InstanceAmended(amended))
}

/// The old and new value when `new` is given and differs.
fn changed<T: Clone + PartialEq>(old: &T, new: Option<&T>) -> Option<FieldChange<T>> {
    new.filter(|new| *new != old).map(|new| FieldChange {
        old: old.clone(),
        new: new.clone(),
    })
}

/// Type, region and owner decide which quota and which rules an instance
/// is under: they change only while it has consumed no slot, and to a
/// known type and region.
fn check_identity_change(
    lookup: &dyn Lookup,
    instance: &Instance,
    amended: &InstanceAmended,
) -> Result<()> {
    let mut fields = Vec::new();
    if let Some(change) = &amended.service_type {
        check_type_known(lookup, &change.new)?;
        fields.push("type");
    }
    if let Some(change) = &amended.region {
        check_region_known(lookup, &change.new)?;
        fields.push("region");
    }
    if amended.owner.is_some() {
        fields.push("owner");
    }
    if instance.consumed > 0 && !fields.is_empty() {
        return Err(Error::refused(
            Reason::WrongStatus,
            format!(
                "instance {} has consumed {} slot(s): its {} can no longer change (numbers already issued are tied to them)",
                instance.instance_id,
                instance.consumed,
                fields.join(", ")
            ),
        ));
    }
    Ok(())
}
