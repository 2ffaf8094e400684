//! snledger as a library: the binary (`main.rs`) parses the command line
//! and calls `run`; the tests and the benchmark's writer floor use the
//! constants under `schema` instead of copies of them. Everything else is
//! private to the crate (`unreachable_pub` keeps `pub` honest).
#![warn(unreachable_pub)]

mod cli;
mod cmd;
mod csvio;
mod domain;
mod error;
mod files;
mod ledger;
mod provider;
mod render;
mod spill;
mod store;
mod verify;

use clap::Parser;

/// What the tests and the benchmark read of the storage layout, so they
/// do not restate it.
pub mod schema {
    pub use crate::store::tables::{
        INSTANCE_COLUMNS, NUMBER_COLUMNS, POLICY_COLUMNS, REGION_COLUMNS, REQUEST_COLUMNS,
        SERVICE_COLUMNS,
    };
    pub use crate::store::{CONNECTION_PRAGMAS, SCHEMA_VERSION};
}

/// Runs the command line in `std::env::args`: prints the answer or the
/// error, and returns the process's exit code.
pub fn main_exit_code() -> i32 {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return cmd::usage_error(error),
    };
    let format = cli.global.format.unwrap_or(cli::Format::Table);
    match cmd::run(cli) {
        Ok(()) => 0,
        Err(error) => {
            render::print_error(format, &error);
            error.exit_code()
        }
    }
}
