//! `deregister NUMBER [--reason R]`: the service's filing ended; the slot
//! stays consumed.

use super::{change_number_and_show, Context};
use crate::domain::decide::Command;
use crate::error::Result;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The number whose filing ended (bound, filing or filed).
    number: String,
    /// Why, as free text.
    #[arg(long, value_name = "R", allow_hyphen_values = true)]
    reason: Option<String>,
}

pub(crate) fn run(context: &Context, args: Args) -> Result<()> {
    let command = Command::Deregister {
        number: args.number.clone(),
        reason: args.reason,
    };
    change_number_and_show(context, command, &args.number)
}
