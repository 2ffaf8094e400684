//! `deregister NUMBER [--reason R]` · `invalidate NUMBER --reason R`: end of use.
//! The slot stays consumed either way.

use super::{run_number_command, Context};
use crate::domain::decide::Command;
use crate::error::Result;

pub fn run(context: &Context, command: Command) -> Result<()> {
    let number = match &command {
        Command::Deregister { number, .. } | Command::Invalidate { number, .. } => number.clone(),
        other => unreachable!("invariant: end runs only deregister and invalidate, not {other:?}"),
    };
    run_number_command(context, command, &number)
}
