//! `allocate ID [--count N] [--account A] [--request-id KEY] [--number X]...`

use super::{find_instance, max_numbers, parse_integer, Context};
use crate::domain::event::Body;
use crate::domain::types::{limits, remaining};
use crate::error::{Error, Reason, Result};
use crate::ledger::{allocate_command, Outcome};
use crate::render::Table;
use serde_json::json;

#[derive(Debug, clap::Args)]
pub struct Args {
    instance_id: String,
    /// How many numbers (1 to 20; default 1, or the count of --number).
    #[arg(long, allow_negative_numbers = true)]
    count: Option<String>,
    /// The acting account (default: the owner).
    #[arg(long)]
    account: Option<String>,
    /// Makes the call idempotent: the same key and parameters return the first answer.
    #[arg(long)]
    request_id: Option<String>,
    /// Record a number the provider already issued (repeatable).
    #[arg(long = "number", value_name = "X")]
    numbers: Vec<String>,
}

pub fn run(context: &Context, args: Args) -> Result<()> {
    let count = args.count.as_deref().map(parse_count).transpose()?;
    let instance_id = args.instance_id;
    // allocate_command takes its arguments by position: each one named here.
    let command = allocate_command(
        instance_id.clone(),
        args.account,
        count,
        args.numbers,
        args.request_id,
    );
    let ledger = context.ledger()?;
    let (json, table) = ledger.execute(&command, |store, outcome| {
        let allocated = match outcome {
            Outcome::Appended(event) => match event.body()? {
                Body::Allocated(payload) => payload.numbers,
                _ => unreachable!("invariant: allocate appends an allocated event"),
            },
            Outcome::AlreadyDone(record) => record.numbers,
        };
        let instance = find_instance(store, &instance_id)?;
        let remaining = remaining(max_numbers(store, &instance)?, instance.consumed);
        let json = json!({"instance_id": instance_id, "numbers": allocated, "consumed": instance.consumed, "remaining": remaining});
        // One row per number, each with the instance's quota after the call,
        // so the CSV form carries everything the JSON does.
        let mut table = Table::new(&["instance_id", "number", "consumed", "remaining"]);
        for number in &allocated {
            table.row(vec![
                instance_id.clone(),
                number.clone(),
                instance.consumed.to_string(),
                remaining.to_string(),
            ]);
        }
        table.footer.push(format!(
            "instance {instance_id}: {} consumed, {remaining} remaining",
            instance.consumed
        ));
        Ok((json, table))
    })?;
    context.emit(&json, table)
}

/// A count that is not a number is malformed (exit 2); a number out of
/// range, however large, is refused by the rules (`count_out_of_range`, exit 4).
pub fn parse_count(text: &str) -> Result<i64> {
    let digits = text.trim().strip_prefix('-').unwrap_or(text.trim());
    match parse_integer("count", text) {
        Err(_) if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) => {
            Err(Error::refused(
                Reason::CountOutOfRange,
                format!(
                    "count {}: one request takes 1 to {}",
                    text.trim(),
                    limits::ALLOCATE_MAX
                ),
            ))
        }
        other => other,
    }
}
