//! `allocate ID [--count N] [--account A] [--request-id KEY] [--number X]...`

use super::fresh_numbers;
use super::{find_instance, max_numbers, parse_integer, Context};
use crate::cli::Format;
use crate::domain::decide::count_out_of_range;
use crate::domain::decide::Command;
use crate::domain::event::Body;
use crate::domain::types::{limits, remaining, shorten};
use crate::error::{Error, Result};
use crate::ledger::Outcome;
use crate::render::{Answer, Table};
use serde::Serialize;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The instance to allocate on.
    instance_id: String,
    /// How many numbers (1 to 20; default 1, or the count of --number).
    #[arg(long, allow_negative_numbers = true)]
    count: Option<String>,
    /// The acting account, which must own the instance (default: the owner).
    #[arg(long)]
    account: Option<String>,
    /// Any text (a ticket id): the same key with the same parameters returns the first call's numbers and appends nothing.
    #[arg(long, value_name = "KEY", allow_hyphen_values = true)]
    request_id: Option<String>,
    /// Record a number the provider already issued (repeatable; 4 to 64 of A-Z a-z 0-9 -).
    #[arg(long = "number", value_name = "X", allow_hyphen_values = true)]
    numbers: Vec<String>,
}

pub(crate) fn run(context: &Context, args: Args) -> Result<()> {
    let count = args.count.as_deref().map(parse_count).transpose()?;
    let instance_id = args.instance_id;
    let request_id = args.request_id.clone();
    let command = command(Request {
        instance_id: instance_id.clone(),
        account: args.account,
        count,
        numbers: args.numbers,
        request_id: args.request_id,
    });
    let ledger = context.ledger()?;
    let answer = ledger.execute(&command, |store, outcome| {
        let (numbers, replayed) = match outcome {
            Outcome::Appended(Body::Allocated(payload)) => (payload.numbers, false),
            Outcome::AlreadyDone(record) => (record.numbers, true),
            Outcome::Appended(_) => {
                return Err(Error::storage(
                    "invariant broken: allocate appends an allocated event",
                ))
            }
        };
        let instance = find_instance(store.lookup(), &instance_id)?;
        Ok(Allocation {
            remaining: remaining(max_numbers(store.lookup(), &instance)?, instance.consumed),
            consumed: instance.consumed,
            // The stored spelling (`q-1` for `allocate Q-1`), as every look-up
            // prints, whether the numbers are new or a replayed request's.
            instance_id: instance.instance_id,
            numbers,
            replayed,
        })
    })?;
    if answer.replayed && context.format() == Format::Table {
        // The numbers look like new ones: say that nothing was allocated.
        eprintln!(
            "note: request id {} was already used with these parameters: these are the numbers of that first call; nothing was appended",
            shorten(request_id.as_deref().unwrap_or_default())
        );
    }
    context.emit(&answer)
}

/// The numbers an allocation gave (or a replayed request's), and the
/// instance's quota after it.
#[derive(Serialize)]
struct Allocation {
    instance_id: String,
    numbers: Vec<String>,
    consumed: i64,
    remaining: i64,
    replayed: bool,
}

impl Answer for Allocation {
    /// One row per number, each with the instance's quota after the call,
    /// so the CSV form carries everything the JSON does.
    fn table(&self) -> Table {
        let mut table = Table::new(&["instance_id", "number", "consumed", "remaining"]);
        for number in &self.numbers {
            table.row(vec![
                self.instance_id.clone(),
                number.clone(),
                self.consumed.to_string(),
                self.remaining.to_string(),
            ]);
        }
        table.footer.push(format!(
            "instance {}: {} consumed, {} remaining",
            self.instance_id, self.consumed, self.remaining
        ));
        table
    }
}

/// What an allocation asks for, from the command line or an ops row.
pub(crate) struct Request {
    pub instance_id: String,
    pub account: Option<String>,
    pub count: Option<i64>,
    /// Numbers the provider already issued; empty = generate.
    pub numbers: Vec<String>,
    pub request_id: Option<String>,
}

/// The allocate command, carrying as many fresh numbers as it can use:
/// none when the numbers are given, else `count` (1 by default), never more
/// than one request takes (a count out of range is refused before any is
/// used).
pub(crate) fn command(request: Request) -> Command {
    let wanted = if request.numbers.is_empty() {
        request.count.unwrap_or(1)
    } else {
        0
    };
    let generated = fresh_numbers(wanted.clamp(0, limits::ALLOCATE_MAX as i64) as usize);
    Command::Allocate {
        instance_id: request.instance_id,
        account: request.account,
        count: request.count,
        numbers: request.numbers,
        request_id: request.request_id,
        generated,
    }
}

/// A count that is not a number is malformed (exit 2); a number out of
/// range, however large, is refused by the rules (`count_out_of_range`, exit 4).
pub(crate) fn parse_count(text: &str) -> Result<i64> {
    let digits = text.trim().strip_prefix('-').unwrap_or(text.trim());
    match parse_integer("count", text) {
        Err(_) if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) => {
            Err(count_out_of_range(&format!("count {}", text.trim())))
        }
        other => other,
    }
}
