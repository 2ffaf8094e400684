//! `service move` and `service ip-updated`: access changes of a filed
//! service (docs/guide.md "Access changes and other services"); `service rename`,
//! a correction before submission (docs/guide.md "Corrections").

use super::{check_service_free, Lookup, Missing::NotFound, MoveServiceCommand};
use crate::domain::eligibility::is_expired;
use crate::domain::event::{Body, ServiceIpUpdated, ServiceMoved, ServiceRenamed};
use crate::domain::regions::is_mainland;
use crate::domain::types::*;
use crate::error::{Error, Reason, Result};

/// A filed service moves to another live mainland instance; a commercial
/// one must then update its IP with the provider.
pub(super) fn move_to(
    lookup: &dyn Lookup,
    now: Time,
    command: &MoveServiceCommand,
) -> Result<Body> {
    let MoveServiceCommand {
        service,
        to,
        commercial,
    } = command;
    let commercial = *commercial;
    let service_record = lookup.service_or(service, NotFound)?;
    let number_record = lookup.number_or(&service_record.number, NotFound)?;
    // Only a filed service moves: before that, the provider is still
    // verifying the access information (instance and IP) under review.
    if number_record.status != Status::Filed {
        return Err(Error::refused(
            Reason::WrongStatus,
            format!(
                "service {} cannot move: its number {} is {}, and only filed services move",
                shorten(service),
                number_record.number,
                number_record.status
            ),
        ));
    }
    let target = lookup.instance_or(to, NotFound)?;
    if target.instance_id == service_record.host {
        return Err(Error::refused(
            Reason::AlreadyExists,
            format!("service {} already runs on {to}", shorten(service)),
        ));
    }
    let mainland = is_mainland(lookup, &target.region)?;
    check_can_host(&target, mainland, to, now)?;
    let commercial = service_record.commercial || commercial;
    Ok(Body::ServiceMoved(ServiceMoved {
        service: service.to_string(),
        number: service_record.number,
        instance_id: number_record.instance_id,
        owner: number_record.owner,
        holder: number_record.holder,
        from_host: service_record.host,
        to_host: to.to_string(),
        commercial,
        ip_update_required: commercial,
    }))
}

/// A host needs no quota, only to be in the mainland, unexpired and not
/// released; every failing reason is named.
fn check_can_host(target: &Instance, mainland: bool, to: &str, now: Time) -> Result<()> {
    let mut reasons = Vec::new();
    if !mainland {
        reasons.push(Reason::RegionNotMainland);
    }
    if is_expired(target, now) {
        reasons.push(Reason::Expired);
    }
    if target.state == InstanceState::Released {
        reasons.push(Reason::Released);
    }
    if let Some(first) = reasons.first() {
        let codes: Vec<&str> = reasons.iter().map(|r| r.code()).collect();
        return Err(Error::refused(
            *first,
            format!("instance {to} cannot host a service: {}", codes.join(", ")),
        ));
    }
    Ok(())
}

/// Records that a moved service's IP was updated with the provider.
pub(super) fn ip_updated(lookup: &dyn Lookup, service: &str) -> Result<Body> {
    let service_record = lookup.service_or(service, NotFound)?;
    if !service_record.ip_update_required {
        return Err(Error::refused(
            Reason::WrongStatus,
            format!("service {} has no pending IP update", shorten(service)),
        ));
    }
    let number_record = lookup.number_or(&service_record.number, NotFound)?;
    Ok(Body::ServiceIpUpdated(ServiceIpUpdated {
        service: service.to_string(),
        number: service_record.number,
        instance_id: number_record.instance_id,
        owner: number_record.owner,
        holder: number_record.holder,
        host: service_record.host,
    }))
}

/// Corrects a service's name while its number is bound (not yet
/// submitted: after that the name is what the MIIT reviews). The new name
/// must not hold a live number.
pub(super) fn rename(lookup: &dyn Lookup, service: &str, to: &str) -> Result<Body> {
    let service_record = lookup.service_or(service, NotFound)?;
    let number_record = lookup.number_or(&service_record.number, NotFound)?;
    if number_record.status != Status::Bound {
        return Err(Error::refused(
            Reason::WrongStatus,
            format!(
                "service {} cannot be renamed: its number {} is {}, and a name changes only while bound (before submission)",
                shorten(service),
                number_record.number,
                number_record.status
            ),
        ));
    }
    if service == to {
        return Err(Error::usage(format!(
            "service rename: {} is already its name",
            shorten(service)
        )));
    }
    check_service_free(lookup, to)?;
    Ok(Body::ServiceRenamed(ServiceRenamed {
        service: service.to_string(),
        to: to.to_string(),
        number: number_record.number,
        instance_id: number_record.instance_id,
        owner: number_record.owner,
        holder: number_record.holder,
    }))
}
