//! `reject NUMBER --reason R`: the filing failed review (back to bound).

use super::{change_number_and_show, Context};
use crate::domain::decide::Command;
use crate::error::Result;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The number whose filing was rejected (its status must be filing).
    number: String,
    /// The reviewer's reason, as free text.
    #[arg(long, value_name = "R", allow_hyphen_values = true)]
    reason: String,
}

pub(crate) fn run(context: &Context, args: Args) -> Result<()> {
    let command = Command::Reject {
        number: args.number.clone(),
        reason: args.reason,
    };
    change_number_and_show(context, command, &args.number)
}
