//! `submit NUMBER`: a bound number's filing goes to review.

use super::{change_number_and_show, Context};
use crate::domain::decide::Command;
use crate::error::Result;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The bound number whose filing goes to review.
    number: String,
}

pub(crate) fn run(context: &Context, args: Args) -> Result<()> {
    let command = Command::Submit {
        number: args.number.clone(),
    };
    change_number_and_show(context, command, &args.number)
}
