//! `clock repair --reason TEXT`: unlock a ledger a clock far ahead dated
//! in the future (docs/guide.md "Time"). The events keep their times; the repair
//! names them and is dated by the reference clock.

use super::Context;
use crate::error::{Error, Result};
use crate::ledger::ClockRepair;
use crate::render::{Answer, Table};
use clap::Subcommand;
use serde::Serialize;

#[derive(Debug, Subcommand)]
pub(crate) enum ClockCommand {
    /// Append a clock_repaired event covering the events dated in the future, so writes go on.
    #[command(after_help = crate::cli::examples!(
        "snledger clock repair --reason \"ntp was off on build-7; events 812-840 are dated 2036\""
    ))]
    Repair(RepairArgs),
}

#[derive(Debug, clap::Args)]
pub(crate) struct RepairArgs {
    /// Why (kept in the log): what was wrong with which clock.
    #[arg(long, value_name = "TEXT", allow_hyphen_values = true)]
    reason: String,
}

pub(crate) fn run(context: &Context, command: ClockCommand) -> Result<()> {
    match command {
        ClockCommand::Repair(args) => repair(context, args),
    }
}

fn repair(context: &Context, args: RepairArgs) -> Result<()> {
    if context.clock()?.given {
        return Err(Error::usage(
            "clock repair is dated by the reference clock (this machine's, or the database server's): drop --now and SNLEDGER_NOW",
        ));
    }
    let ledger = context
        .read_store()
        .map(drop)
        .and_then(|()| context.ledger())?;
    let mut writer = ledger.begin()?;
    let ClockRepair { seq, at, repaired } = writer.repair_clock(args.reason)?;
    writer.commit()?;
    context.emit(&Repaired {
        seq,
        at,
        first_seq: repaired.first_seq,
        last_seq: repaired.last_seq,
        first_claimed_at: repaired.first_claimed_at,
        last_claimed_at: repaired.last_claimed_at,
        reason: repaired.reason,
    })
}

/// The repair appended: its seq and time, the events it covers and the
/// times they claim, and why.
#[derive(Serialize)]
struct Repaired {
    seq: i64,
    at: String,
    first_seq: i64,
    last_seq: i64,
    first_claimed_at: String,
    last_claimed_at: String,
    reason: String,
}

impl Answer for Repaired {
    fn table(&self) -> Table {
        Table::record(vec![
            ("seq", self.seq.to_string()),
            ("at", self.at.clone()),
            (
                "covers",
                format!("events {} to {}", self.first_seq, self.last_seq),
            ),
            (
                "claimed",
                format!("{} to {}", self.first_claimed_at, self.last_claimed_at),
            ),
            ("reason", self.reason.clone()),
        ])
    }
}
