//! `bind NUMBER --service S --account A`

use super::{change_number_and_show, Context};
use crate::domain::decide::BindCommand;
use crate::domain::decide::Command;
use crate::error::Result;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The unbound number to use.
    number: String,
    /// The Internet information service: a domain, app or mini program name.
    #[arg(long, value_name = "S", allow_hyphen_values = true)]
    service: String,
    /// The acting account, which must hold the number.
    #[arg(long)]
    account: String,
}

pub(crate) fn run(context: &Context, args: Args) -> Result<()> {
    let command = Command::Bind(BindCommand {
        number: args.number.clone(),
        service: args.service,
        account: args.account,
    });
    change_number_and_show(context, command, &args.number)
}
