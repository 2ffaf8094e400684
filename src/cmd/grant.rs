//! `grant NUMBER --to ACCOUNT [--account A] [--note TEXT]`

use super::{change_number_and_show, Context};
use crate::domain::decide::Command;
use crate::domain::decide::GrantCommand;
use crate::error::Result;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The unbound number to grant.
    number: String,
    /// The account that will hold the number.
    #[arg(long, value_name = "ACCOUNT")]
    to: String,
    /// The acting account, which must own the number (default: the owner).
    #[arg(long)]
    account: Option<String>,
    /// A note recorded with the grant, as free text.
    #[arg(long, value_name = "TEXT", allow_hyphen_values = true)]
    note: Option<String>,
}

pub(crate) fn run(context: &Context, args: Args) -> Result<()> {
    let command = Command::Grant(GrantCommand {
        number: args.number.clone(),
        to: args.to,
        account: args.account,
        note: args.note,
    });
    change_number_and_show(context, command, &args.number)
}
