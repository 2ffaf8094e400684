//! `diff --from T1 [--to T2]`: every instance, number and service whose
//! state differs between two moments, before and after (README "What
//! changed between two moments").

use super::Context;
use crate::cli::Format;
use crate::domain::types::format_time;
use crate::error::{Error, Result};
use crate::render;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[arg(long, value_name = "TIME", help = crate::cli::time_help!("The first moment (the state after every event at or before it)"))]
    from: String,
    #[arg(long, value_name = "TIME", help = crate::cli::time_help!("The second moment, not before --from (default: now)"))]
    to: Option<String>,
}

pub fn run(context: &Context, args: Args) -> Result<()> {
    let from = context.time("--from", &args.from)?;
    let to = match &args.to {
        Some(text) => context.time("--to", text)?,
        None => context.now()?,
    };
    if from > to {
        return Err(Error::usage(format!(
            "--from {} is after --to {}: give the earlier moment first",
            format_time(from),
            format_time(to)
        )));
    }
    let store = context.read_store()?;
    let _snapshot = store.begin_read()?;
    let from_seq = store.last_seq_at_or_before(&format_time(from))?;
    let to_seq = store.last_seq_at_or_before(&format_time(to))?;
    let diffs = crate::past::diff(&store, from_seq, to_seq)?;
    let zone = match context.format() {
        Format::Table => context.zone()?,
        Format::Json | Format::Csv => None,
    };
    context.emit(&render::diff_json(&diffs), render::diff_table(&diffs, zone))
}
