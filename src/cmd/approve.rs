//! `approve NUMBER --icp-number X`: the filing passed review.

use super::{change_number_and_show, Context};
use crate::domain::decide::Command;
use crate::error::Result;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The number whose filing passed (its status must be filing).
    number: String,
    /// The MIIT filing number, such as 浙ICP备12345678号-1.
    #[arg(long, value_name = "X", allow_hyphen_values = true)]
    icp_number: String,
}

pub(crate) fn run(context: &Context, args: Args) -> Result<()> {
    let command = Command::Approve {
        number: args.number.clone(),
        icp_number: args.icp_number,
    };
    change_number_and_show(context, command, &args.number)
}
