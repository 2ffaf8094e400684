//! `clock repair --reason TEXT`: unlock a ledger a clock far ahead dated
//! in the future (docs/guide.md "Time"). The events keep their times; the repair
//! names them and is dated by the reference clock.

use super::Context;
use crate::domain::event::{Body, ClockRepaired};
use crate::error::{Error, Result};
use crate::ledger::Outcome;
use crate::render::Table;
use clap::Subcommand;
use serde_json::json;

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
    let Outcome::Appended(event) = writer.repair_clock(args.reason)? else {
        return Err(Error::storage(
            "invariant broken: a clock repair is never a replay",
        ));
    };
    writer.commit()?;
    let Ok(Body::ClockRepaired(repaired)) = event.body() else {
        return Err(Error::storage(
            "invariant broken: a clock repair wrote another kind",
        ));
    };
    let json = answer_json(event.seq, &event.at, &repaired);
    let table = Table::record(vec![
        ("seq", event.seq.to_string()),
        ("at", event.at.clone()),
        (
            "covers",
            format!("events {} to {}", repaired.first_seq, repaired.last_seq),
        ),
        (
            "claimed",
            format!(
                "{} to {}",
                repaired.first_claimed_at, repaired.last_claimed_at
            ),
        ),
        ("reason", repaired.reason.clone()),
    ]);
    context.emit(&json, table)
}

fn answer_json(seq: i64, at: &str, repaired: &ClockRepaired) -> serde_json::Value {
    json!({
        "seq": seq,
        "at": at,
        "first_seq": repaired.first_seq,
        "last_seq": repaired.last_seq,
        "first_claimed_at": repaired.first_claimed_at,
        "last_claimed_at": repaired.last_claimed_at,
        "reason": repaired.reason,
    })
}
