//! `grant NUMBER --to ACCOUNT [--account A] [--note TEXT]`

use super::{change_number_and_show, Context};
use crate::domain::decide::Command;
use crate::error::Result;

#[derive(Debug, clap::Args)]
pub struct Args {
    number: String,
    #[arg(long)]
    to: String,
    #[arg(long)]
    account: Option<String>,
    #[arg(long)]
    note: Option<String>,
}

pub fn run(context: &Context, args: Args) -> Result<()> {
    let command = Command::Grant {
        number: args.number.clone(),
        to: args.to,
        account: args.account,
        note: args.note,
    };
    change_number_and_show(context, command, &args.number)
}
