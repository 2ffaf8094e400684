//! `select ID --service S [--account A]`: direct selection, one slot.

use super::{find_number, fresh_numbers, Context};
use crate::domain::decide::Command;
use crate::domain::decide::SelectCommand;
use crate::domain::event::Body;
use crate::error::{Error, Result};
use crate::ledger::Outcome;
use crate::render;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The instance the filing uses directly.
    instance_id: String,
    /// The Internet information service: a domain, app or mini program name.
    #[arg(long, value_name = "S", allow_hyphen_values = true)]
    service: String,
    /// The acting account, which must own the instance (default: the owner).
    #[arg(long)]
    account: Option<String>,
}

pub(crate) fn run(context: &Context, args: Args) -> Result<()> {
    let generated = fresh_numbers(1).remove(0);
    let ledger = context.ledger()?;
    let command = Command::Select(SelectCommand {
        instance_id: args.instance_id,
        service: args.service,
        account: args.account,
        generated,
    });
    let record = ledger.execute(&command, |store, outcome| match outcome {
        Outcome::Appended(Body::Selected(payload)) => find_number(store.lookup(), &payload.number),
        // A selection carries no request id: it is never a replay.
        _ => Err(Error::storage(
            "invariant broken: select appends one selected event",
        )),
    })?;
    context.emit(&render::number_record(record))
}
