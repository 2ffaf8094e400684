//! The one spelling of every name a command gives, before any rule runs
//! (docs/guide.md "Names: one thing, one spelling"): a service in its canonical
//! form, and an existing instance, number or app name as the ledger first
//! spelled it. So the payload holds that spelling, and a log that names a
//! thing otherwise re-decides to a different payload and is refused.

use super::{Command, Lookup};
use crate::domain::decide::{BindCommand, GrantCommand, MoveServiceCommand, SelectCommand};
use crate::domain::names::canonical_service;
use crate::error::Result;

pub(super) fn first_spellings(lookup: &dyn Lookup, command: &Command) -> Result<Command> {
    let mut command = command.clone();
    match &mut command {
        Command::Renew { instance_id, .. }
        | Command::Release { instance_id }
        | Command::Allocate { instance_id, .. } => instance(lookup, instance_id)?,
        Command::Select(SelectCommand {
            instance_id,
            service,
            ..
        }) => {
            instance(lookup, instance_id)?;
            self::service(lookup, service)?;
        }
        Command::Grant(GrantCommand { number, .. })
        | Command::Submit { number }
        | Command::Approve { number, .. }
        | Command::Reject { number, .. }
        | Command::Deregister { number, .. }
        | Command::Invalidate { number, .. } => self::number(lookup, number)?,
        Command::Bind(BindCommand {
            number, service, ..
        }) => {
            self::number(lookup, number)?;
            self::service(lookup, service)?;
        }
        Command::MoveService(MoveServiceCommand { service, to, .. }) => {
            self::service(lookup, service)?;
            instance(lookup, to)?;
        }
        Command::IpUpdated { service } => self::service(lookup, service)?,
        Command::AmendInstance { instance_id, .. } => instance(lookup, instance_id)?,
        Command::RenameService { service, to } => {
            self::service(lookup, service)?;
            self::service(lookup, to)?;
        }
        Command::AddInstance { .. }
        | Command::SetPolicy { .. }
        | Command::SetRegion { .. }
        | Command::Reconcile(_)
        | Command::RepairClock(_) => {}
    }
    Ok(command)
}

fn instance(lookup: &dyn Lookup, instance_id: &mut String) -> Result<()> {
    if let Some(found) = lookup.instance(instance_id)? {
        *instance_id = found.instance_id;
    }
    Ok(())
}

fn number(lookup: &dyn Lookup, number: &mut String) -> Result<()> {
    if let Some(found) = lookup.number(number)? {
        *number = found.number;
    }
    Ok(())
}

/// The canonical form; for an app name the ledger knows, its first
/// spelling (the same service by NFKC case folding).
fn service(lookup: &dyn Lookup, service: &mut String) -> Result<()> {
    let canonical = canonical_service(service)?;
    *service = match lookup.service(&canonical)? {
        Some(found) => found.service,
        None => canonical,
    };
    Ok(())
}
