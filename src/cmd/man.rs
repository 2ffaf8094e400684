//! `man [COMMAND]...`: a roff man page generated from the clap definitions
//! (clap_mangen), so the pages never drift from `--help`: `snledger man`
//! is snledger(1), `snledger man instance add` is snledger-instance-add(1).

use super::Context;
use crate::cli::Cli;
use crate::error::{Error, Result};
use clap::CommandFactory;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The command whose page to print (`instance add`); none for the
    /// page of snledger itself.
    #[arg(value_name = "COMMAND")]
    command: Vec<String>,
}

pub(crate) fn run(_context: &Context, args: Args) -> Result<()> {
    let mut page = Cli::command();
    page.build();
    let mut path = vec!["snledger".to_string()];
    for word in &args.command {
        let Some(sub) = page.find_subcommand(word).cloned() else {
            return Err(no_such_command(&path, word, &page));
        };
        path.push(sub.get_name().to_string());
        page = sub;
    }
    let page = page.name(path.join("-"));
    let mut out = Vec::new();
    clap_mangen::Man::new(page)
        .render(&mut out)
        .map_err(|error| Error::storage(format!("cannot render the man page: {error}")))?;
    crate::render::write_stdout(&String::from_utf8_lossy(&out))
}

fn no_such_command(path: &[String], word: &str, page: &clap::Command) -> Error {
    let known: Vec<&str> = page
        .get_subcommands()
        .map(|sub| sub.get_name())
        .filter(|name| *name != "help")
        .collect();
    match known.is_empty() {
        true => Error::usage(format!("`{}` has no subcommands", path.join(" "))),
        false => Error::usage(format!(
            "`{}` has no command {word}: it has {}{}",
            path.join(" "),
            known.join(", "),
            crate::domain::suggest::hint(word, &known)
        )),
    }
}
