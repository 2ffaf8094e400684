//! `number show NUMBER` · `number list [--instance I] [--account A] [--status S] [--icp-number X]`

use super::{find_number, instance_spelling, Context};
use crate::cli::AsOf;
use crate::domain::types::{
    limits, shorten, validate_account, validate_instance_id, validate_text, NumberRecord, Status,
};
use crate::error::{Error, Result};
use crate::render;
use crate::store::View;
use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub(crate) enum NumberCommand {
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
pub(crate) struct ShowArgs {
    /// The number, or a unique prefix of it of 8 or more characters (as git
    /// takes a commit).
    number: String,
    #[command(flatten)]
    as_of: AsOf,
}

#[derive(Debug, clap::Args)]
pub(crate) struct ListArgs {
    /// Only numbers of this instance.
    #[arg(long, value_name = "ID")]
    instance: Option<String>,
    /// Only numbers this account owns or holds.
    #[arg(long)]
    account: Option<String>,
    /// Only numbers in this status.
    #[arg(long, value_parser = crate::cli::offered(Status::NAMES))]
    status: Option<String>,
    /// Only the number that carries this MIIT filing number (exact, such as
    /// `浙ICP备12345678号-1`).
    #[arg(long, value_name = "X", allow_hyphen_values = true)]
    icp_number: Option<String>,
    #[command(flatten)]
    as_of: AsOf,
}

pub(crate) fn run(context: &Context, command: NumberCommand) -> Result<()> {
    match command {
        NumberCommand::Show(args) => show(context, args),
        NumberCommand::List(args) => list(context, args),
    }
}

/// The number now, or as it stood at `--as-of` (ARCHITECTURE.md "--as-of:
/// how a past state is answered").
fn show(context: &Context, args: ShowArgs) -> Result<()> {
    let store = context.view(&args.as_of)?;
    let _snapshot = store.begin_read()?;
    let record = find_by_prefix(&store, &args.number)?;
    context.emit(&render::number_record(record))
}

fn list(context: &Context, args: ListArgs) -> Result<()> {
    if let Some(status) = &args.status {
        Status::parse("status", status)?;
    }
    args.instance
        .as_deref()
        .map_or(Ok(()), validate_instance_id)?;
    args.account.as_deref().map_or(Ok(()), validate_account)?;
    if let Some(icp_number) = &args.icp_number {
        validate_text("--icp-number", icp_number, limits::TEXT_MAX)?;
    }
    let store = context.view(&args.as_of)?;
    let instance = args
        .instance
        .as_deref()
        .map(|instance_id| instance_spelling(&*store, instance_id))
        .transpose()?;
    let numbers = match &args.icp_number {
        None => store.numbers(
            instance.as_deref(),
            args.account.as_deref(),
            args.status.as_deref(),
        )?,
        // Few numbers carry one ICP number: the other filters apply here.
        Some(icp_number) => store
            .numbers_with_icp_number(icp_number)?
            .into_iter()
            .filter(|n| instance.as_ref().is_none_or(|i| *i == n.instance_id))
            .filter(|n| {
                args.account
                    .as_ref()
                    .is_none_or(|a| *a == n.holder || *a == n.owner)
            })
            .filter(|n| args.status.as_ref().is_none_or(|s| s == n.status.as_str()))
            .collect(),
    };
    let numbers: Vec<render::NumberView> = numbers.into_iter().map(Into::into).collect();
    context.emit(&numbers)
}

/// The shortest prefix `number show` looks up, as git asks of a commit id.
pub(crate) const PREFIX_MIN_CHARS: usize = 8;
/// How many candidates an ambiguous prefix lists.
const CANDIDATES_SHOWN: usize = 5;
/// The number itself, else the one number that begins with `given` (8 or
/// more characters); several are a usage error naming a few.
fn find_by_prefix(store: &View, given: &str) -> Result<NumberRecord> {
    let exact = find_number(store.lookup(), given);
    if !matches!(exact, Err(Error::NotFound(_))) || given.chars().count() < PREFIX_MIN_CHARS {
        return exact;
    }
    let mut found = store.numbers_with_prefix(given, CANDIDATES_SHOWN + 1)?;
    match found.len() {
        0 => exact,
        1 => Ok(found.remove(0)),
        count => {
            let shown: Vec<&str> = found
                .iter()
                .take(CANDIDATES_SHOWN)
                .map(|n| n.number.as_str())
                .collect();
            let more = if count > CANDIDATES_SHOWN {
                ", …"
            } else {
                ""
            };
            Err(Error::usage(format!(
                "number prefix {} is ambiguous: it matches {}{more}; give more characters",
                shorten(given),
                shown.join(", ")
            )))
        }
    }
}
