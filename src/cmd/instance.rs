//! `instance add | renew | release | show | list`.

use super::{parse_integer, Context};
use crate::cli::InstanceCommand;
use crate::domain::decide::{Command, Lookup};
use crate::domain::types::*;
use crate::error::{Error, Result};
use crate::render::{InstanceView, Table};
use crate::store::Store;

pub fn run(context: &Context, command: InstanceCommand) -> Result<()> {
    match command {
        InstanceCommand::Add {
            instance_id,
            service_type,
            account,
            region,
            billing,
            months,
            expires,
            public_ip,
            order_amount,
        } => {
            let command = Command::AddInstance {
                service_type,
                account,
                region,
                billing: Billing::parse("billing", &billing)?,
                subscription_months: parse_integer("months", &months)?,
                expires_at: parse_time("expires", &expires)?,
                public_ip,
                order_amount_fen: order_amount
                    .as_deref()
                    .map(|text| parse_amount_fen("order amount", text))
                    .transpose()?,
                instance_id: instance_id.clone(),
            };
            change_and_show(context, &command, &instance_id)
        }
        InstanceCommand::Renew {
            instance_id,
            months,
            expires,
        } => {
            let command = Command::Renew {
                instance_id: instance_id.clone(),
                months: parse_integer("months", &months)?,
                expires_at: parse_time("expires", &expires)?,
            };
            change_and_show(context, &command, &instance_id)
        }
        InstanceCommand::Release { instance_id } => change_and_show(
            context,
            &Command::Release {
                instance_id: instance_id.clone(),
            },
            &instance_id,
        ),
        InstanceCommand::Show { instance_id, as_of } => {
            let store = context.view(&as_of)?;
            show(context, &store, &instance_id)
        }
        InstanceCommand::List {
            account,
            service_type,
            as_of,
        } => {
            account.as_deref().map_or(Ok(()), validate_account)?;
            service_type
                .as_deref()
                .map_or(Ok(()), validate_service_type)?;
            let store = context.view(&as_of)?;
            let _snapshot = store.begin_read()?;
            let mut json = Vec::new();
            let mut table = Table::new(&InstanceView::LIST_HEADERS);
            for instance in store.instances(account.as_deref(), service_type.as_deref())? {
                let max_numbers = max_numbers(&store, &instance)?;
                let numbers = store.numbers_of(&instance.instance_id)?;
                let view = InstanceView {
                    instance: &instance,
                    max_numbers,
                    numbers: &numbers,
                };
                json.push(view.json());
                table.row(view.list_row());
            }
            context.emit(&serde_json::Value::Array(json), table)
        }
    }
}

fn change_and_show(context: &Context, command: &Command, instance_id: &str) -> Result<()> {
    let ledger = context.ledger()?;
    let (json, table) = ledger.execute(command, |store, _| view(store, instance_id))?;
    context.emit(&json, table)
}

/// The policy's max for the instance's type (0 when the type has no policy).
pub fn max_numbers(store: &Store, instance: &Instance) -> Result<i64> {
    Ok(store
        .policy(&instance.service_type)?
        .map_or(0, |policy| policy.max_numbers))
}

pub fn find_instance(store: &Store, instance_id: &str) -> Result<Instance> {
    validate_instance_id(instance_id)?;
    store
        .instance(instance_id)?
        .ok_or_else(|| Error::not_found(format!("no instance {}", shorten(instance_id))))
}

fn show(context: &Context, store: &Store, instance_id: &str) -> Result<()> {
    let _snapshot = store.begin_read()?;
    let (json, table) = view(store, instance_id)?;
    context.emit(&json, table)
}

/// An instance as `instance show` prints it.
fn view(store: &Store, instance_id: &str) -> Result<(serde_json::Value, Table)> {
    let instance = find_instance(store, instance_id)?;
    let numbers = store.numbers_of(instance_id)?;
    let view = InstanceView {
        instance: &instance,
        max_numbers: max_numbers(store, &instance)?,
        numbers: &numbers,
    };
    Ok((view.json(), view.table()))
}
