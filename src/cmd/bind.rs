//! `bind NUMBER --service S --account A`

use super::{run_number_command, Context};
use crate::domain::decide::Command;
use crate::error::Result;

pub fn run(context: &Context, number: String, service: String, account: String) -> Result<()> {
    let command = Command::Bind {
        number: number.clone(),
        service,
        account,
    };
    run_number_command(context, command, &number)
}
