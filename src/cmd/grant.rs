//! `grant NUMBER --to ACCOUNT [--account A] [--note TEXT]`

use super::{run_number_command, Context};
use crate::domain::decide::Command;
use crate::error::Result;

pub fn run(
    context: &Context,
    number: String,
    to: String,
    account: Option<String>,
    note: Option<String>,
) -> Result<()> {
    let command = Command::Grant {
        number: number.clone(),
        to,
        account,
        note,
    };
    run_number_command(context, command, &number)
}
