//! `submit` · `approve --icp-number X` · `reject --reason R`: the filing review.

use super::{run_number_command, Context};
use crate::domain::decide::Command;
use crate::error::Result;

pub fn run(context: &Context, command: Command) -> Result<()> {
    let number = match &command {
        Command::Submit { number }
        | Command::Approve { number, .. }
        | Command::Reject { number, .. } => number.clone(),
        other => unreachable!("invariant: review runs only review commands, not {other:?}"),
    };
    run_number_command(context, command, &number)
}
