//! `number show NUMBER` · `number list [--instance I] [--account A] [--status S]`

use super::{find_number, Context};
use crate::cli::AsOf;
use crate::domain::types::{validate_account, validate_instance_id, Status};
use crate::error::Result;
use crate::render;
use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum NumberCommand {
    /// One number: its instance, owner, holder, status, service and ICP number.
    #[command(after_help = crate::cli::examples!("snledger number show 781a5ee9-0c1d-4a6e-9a39-3f0e2b7c1d20"))]
    Show(ShowArgs),
    /// Numbers, optionally of one instance, account or status.
    #[command(after_help = crate::cli::examples!(
        "snledger number list --instance i-web1",
        "snledger number list --account customer-7 --status filed --format csv"
    ))]
    List(ListArgs),
}

#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    /// The number to show.
    number: String,
    #[command(flatten)]
    as_of: AsOf,
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Only numbers of this instance.
    #[arg(long, value_name = "ID")]
    instance: Option<String>,
    /// Only numbers this account owns or holds.
    #[arg(long)]
    account: Option<String>,
    /// Only numbers in this status.
    #[arg(long, value_parser = crate::cli::offered(Status::NAMES))]
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
    let numbers = store.numbers(
        args.instance.as_deref(),
        args.account.as_deref(),
        args.status.as_deref(),
    )?;
    let json: Vec<_> = numbers.iter().map(render::number_json).collect();
    context.emit(
        &serde_json::Value::Array(json),
        render::numbers_table(&numbers),
    )
}
