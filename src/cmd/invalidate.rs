//! `invalidate NUMBER --reason R`: administrative invalidation; the slot
//! stays consumed.

use super::{change_number_and_show, Context};
use crate::domain::decide::Command;
use crate::error::Result;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The number to invalidate (any status but invalid).
    number: String,
    /// Why, as free text.
    #[arg(long, value_name = "R", allow_hyphen_values = true)]
    reason: String,
}

pub(crate) fn run(context: &Context, args: Args) -> Result<()> {
    let command = Command::Invalidate {
        number: args.number.clone(),
        reason: args.reason,
    };
    change_number_and_show(context, command, &args.number)
}
