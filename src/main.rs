//! snledger: parse the command line, run the command, map any error to its
//! message and exit code. Everything else lives in the modules below.

mod cli;
mod cmd;
mod csvio;
mod domain;
mod error;
mod files;
mod ledger;
mod past;
mod provider;
mod render;
mod spill;
mod store;
mod verify;

use clap::Parser;

fn main() {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => std::process::exit(cmd::usage_error(error)),
    };
    let format = cli.global.format.unwrap_or(cli::Format::Table);
    if let Err(error) = cmd::run(cli) {
        render::print_error(format, &error);
        std::process::exit(error.exit_code());
    }
}
