//! `service show | list | move | ip-updated | rename`: where each service
//! runs, and the correction of its name before submission.

use super::{find_number, find_service, instance_spelling, Context};
use crate::cli::AsOf;
use crate::domain::decide::Command;
use crate::domain::decide::Lookup;
use crate::domain::decide::MoveServiceCommand;
use crate::domain::types::validate_instance_id;
use crate::error::Result;
use crate::render::{Record, ServiceView};
use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub(crate) enum ServiceCommand {
    /// One service: its number, host, status and ICP number.
    #[command(after_help = crate::cli::examples!("snledger service show shop.example.cn"))]
    Show(ShowArgs),
    /// Services, optionally those running on one instance.
    #[command(after_help = crate::cli::examples!("snledger service list --instance i-web1"))]
    List(ListArgs),
    /// The service now runs on another instance (a DNS change only).
    #[command(after_help = crate::cli::examples!("snledger service move shop.example.cn --to i-web2 --commercial"))]
    Move(MoveArgs),
    /// Record that the submitted IP of a moved commercial service was updated.
    #[command(after_help = crate::cli::examples!("snledger service ip-updated shop.example.cn"))]
    IpUpdated(IpUpdatedArgs),
    /// Correct a service's name while its number is bound (not yet submitted).
    #[command(after_help = crate::cli::examples!("snledger service rename shop.exmaple.cn --to shop.example.cn"))]
    Rename(RenameArgs),
}

#[derive(Debug, clap::Args)]
pub(crate) struct RenameArgs {
    /// The service's name as the ledger has it (a name starting with '-'
    /// goes after `--`).
    service: String,
    /// The corrected name; it must not hold a live number.
    #[arg(long, value_name = "NEW", allow_hyphen_values = true)]
    to: String,
}

#[derive(Debug, clap::Args)]
pub(crate) struct ShowArgs {
    /// The service name (a name starting with '-' goes after `--`).
    service: String,
    #[command(flatten)]
    as_of: AsOf,
}

#[derive(Debug, clap::Args)]
pub(crate) struct ListArgs {
    /// Only services running on this instance.
    #[arg(long, value_name = "ID")]
    instance: Option<String>,
    #[command(flatten)]
    as_of: AsOf,
}

#[derive(Debug, clap::Args)]
pub(crate) struct MoveArgs {
    /// The filed service to move.
    service: String,
    /// The instance the service now runs on.
    #[arg(long, value_name = "INSTANCE")]
    to: String,
    /// The service holds a commercial ICP licence in a province that
    /// requires the submitted IP to be updated.
    #[arg(long)]
    commercial: bool,
}

#[derive(Debug, clap::Args)]
pub(crate) struct IpUpdatedArgs {
    /// The moved commercial service.
    service: String,
}

pub(crate) fn run(context: &Context, command: ServiceCommand) -> Result<()> {
    match command {
        ServiceCommand::Show(args) => show(context, args),
        ServiceCommand::List(args) => list(context, args),
        ServiceCommand::Move(args) => {
            let command = Command::MoveService(MoveServiceCommand {
                service: args.service.clone(),
                to: args.to,
                commercial: args.commercial,
            });
            change_and_show(context, &command, &args.service)
        }
        ServiceCommand::IpUpdated(args) => {
            let command = Command::IpUpdated {
                service: args.service.clone(),
            };
            change_and_show(context, &command, &args.service)
        }
        ServiceCommand::Rename(args) => {
            let command = Command::RenameService {
                service: args.service,
                to: args.to.clone(),
            };
            change_and_show(context, &command, &args.to)
        }
    }
}

/// The service now, or as it stood at `--as-of` (ARCHITECTURE.md "--as-of:
/// how a past state is answered").
fn show(context: &Context, args: ShowArgs) -> Result<()> {
    let store = context.view(&args.as_of)?;
    let _snapshot = store.begin_read()?;
    let answer = shown(store.lookup(), &args.service)?;
    context.emit(&answer)
}

fn list(context: &Context, args: ListArgs) -> Result<()> {
    args.instance
        .as_deref()
        .map_or(Ok(()), validate_instance_id)?;
    let store = context.view(&args.as_of)?;
    let _snapshot = store.begin_read()?;
    let instance = args
        .instance
        .as_deref()
        .map(|instance_id| instance_spelling(&*store, instance_id))
        .transpose()?;
    let mut services = Vec::new();
    for service in store.services(instance.as_deref())? {
        let number = find_number(store.lookup(), &service.number)?;
        services.push(ServiceView::new(service, number));
    }
    context.emit(&services)
}

fn change_and_show(context: &Context, command: &Command, service: &str) -> Result<()> {
    let ledger = context.ledger()?;
    let answer = ledger.execute(command, |store, _| shown(store.lookup(), service))?;
    context.emit(&answer)
}

/// A service as `service show` prints it, from the live ledger or a past
/// state.
fn shown(store: &dyn Lookup, service: &str) -> Result<Record<ServiceView>> {
    let record = find_service(store, service)?;
    let number = find_number(store, &record.number)?;
    Ok(Record(ServiceView::new(record, number)))
}
