//! `number show NUMBER` · `number list [--instance I] [--account A] [--status S]`

use super::{find_number, Context};
use crate::cli::NumberCommand;
use crate::domain::types::{validate_account, validate_instance_id, Status};
use crate::error::Result;
use crate::render;

pub fn run(context: &Context, command: NumberCommand) -> Result<()> {
    match command {
        NumberCommand::Show { number, as_of } => {
            let store = context.view(&as_of)?;
            let record = find_number(&store, &number)?;
            context.emit(&render::number_json(&record), render::number_table(&record))
        }
        NumberCommand::List {
            instance,
            account,
            status,
            as_of,
        } => {
            if let Some(status) = &status {
                Status::parse("status", status)?;
            }
            instance.as_deref().map_or(Ok(()), validate_instance_id)?;
            account.as_deref().map_or(Ok(()), validate_account)?;
            let store = context.view(&as_of)?;
            let numbers =
                store.numbers(instance.as_deref(), account.as_deref(), status.as_deref())?;
            let json: Vec<_> = numbers.iter().map(render::number_json).collect();
            context.emit(
                &serde_json::Value::Array(json),
                render::numbers_table(&numbers),
            )
        }
    }
}
