//! `number show NUMBER` · `number list [--instance I] [--account A] [--status S]`

use super::{find_number, instance_spelling, Context};
use crate::cli::AsOf;
use crate::domain::types::{validate_account, validate_instance_id, Status};
use crate::error::Result;
use crate::render;
use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum NumberCommand {
    Show(ShowArgs),
    List(ListArgs),
}

#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    number: String,
    #[command(flatten)]
    as_of: AsOf,
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    #[arg(long)]
    instance: Option<String>,
    #[arg(long)]
    account: Option<String>,
    #[arg(long)]
    status: Option<String>,
    #[command(flatten)]
    as_of: AsOf,
}

pub fn run(context: &Context, command: NumberCommand) -> Result<()> {
    match command {
        NumberCommand::Show(args) => {
            let store = context.view(&args.as_of)?;
            let record = find_number(&store, &args.number)?;
            context.emit(&render::number_json(&record), render::number_table(&record))
        }
        NumberCommand::List(args) => list(context, args),
    }
}

fn list(context: &Context, args: ListArgs) -> Result<()> {
    if let Some(status) = &args.status {
        Status::parse("status", status)?;
    }
    args.instance
        .as_deref()
        .map_or(Ok(()), validate_instance_id)?;
    args.account.as_deref().map_or(Ok(()), validate_account)?;
    let store = context.view(&args.as_of)?;
    let instance = args
        .instance
        .as_deref()
        .map(|instance_id| instance_spelling(&store, instance_id))
        .transpose()?;
    let numbers = store.numbers(
        instance.as_deref(),
        args.account.as_deref(),
        args.status.as_deref(),
    )?;
    let json: Vec<_> = numbers.iter().map(render::number_json).collect();
    context.emit(
        &serde_json::Value::Array(json),
        render::numbers_table(&numbers),
    )
}
