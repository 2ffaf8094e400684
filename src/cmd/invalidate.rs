//! `invalidate NUMBER --reason R`: administrative invalidation; the slot
//! stays consumed.

use super::{change_number_and_show, Context};
use crate::domain::decide::Command;
use crate::error::Result;

#[derive(Debug, clap::Args)]
pub struct Args {
    number: String,
    #[arg(long)]
    reason: String,
}

pub fn run(context: &Context, args: Args) -> Result<()> {
    let command = Command::Invalidate {
        number: args.number.clone(),
        reason: args.reason,
    };
    change_number_and_show(context, command, &args.number)
}
