//! `service show | list | move | ip-updated`: where each service runs.

use super::{find_number, Context};
use crate::cli::ServiceCommand;
use crate::domain::decide::{Command, Lookup};
use crate::domain::types::{shorten, validate_instance_id, validate_service};
use crate::error::{Error, Result};
use crate::render::{self, Table};
use crate::store::Store;

pub fn run(context: &Context, command: ServiceCommand) -> Result<()> {
    match command {
        ServiceCommand::Show { service, as_of } => show(context, &context.view(&as_of)?, &service),
        ServiceCommand::List { instance, as_of } => {
            instance.as_deref().map_or(Ok(()), validate_instance_id)?;
            let store = context.view(&as_of)?;
            let _snapshot = store.begin_read()?;
            let mut json = Vec::new();
            let mut table = Table::new(&render::SERVICE_HEADERS);
            for service in store.services(instance.as_deref())? {
                let number = find_number(&store, &service.number)?;
                json.push(render::service_json(&service, &number));
                table.row(render::service_row(&service, &number));
            }
            context.emit(&serde_json::Value::Array(json), table)
        }
        ServiceCommand::Move {
            service,
            to,
            commercial,
        } => {
            let command = Command::MoveService {
                service: service.clone(),
                to,
                commercial,
            };
            change_and_show(context, &command, &service)
        }
        ServiceCommand::IpUpdated { service } => {
            let command = Command::IpUpdated {
                service: service.clone(),
            };
            change_and_show(context, &command, &service)
        }
    }
}

fn change_and_show(context: &Context, command: &Command, service: &str) -> Result<()> {
    let ledger = context.ledger()?;
    let (json, table) = ledger.execute(command, |store, _| view(store, service))?;
    context.emit(&json, table)
}

fn show(context: &Context, store: &Store, service: &str) -> Result<()> {
    let (json, table) = view(store, service)?;
    context.emit(&json, table)
}

/// A service as `service show` prints it.
fn view(store: &Store, service: &str) -> Result<(serde_json::Value, Table)> {
    validate_service(service)?;
    let record = store
        .service(service)?
        .ok_or_else(|| Error::not_found(format!("no service {}", shorten(service))))?;
    let number = find_number(store, &record.number)?;
    let row = render::service_row(&record, &number);
    let table = Table::record(render::SERVICE_HEADERS.iter().copied().zip(row).collect());
    Ok((render::service_json(&record, &number), table))
}
