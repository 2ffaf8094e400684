//! `diff --from T1 [--to T2]`: every instance, number and service whose
//! state differs between two moments, before and after (docs/reference.md "What
//! changed between two moments").

use super::Context;
use crate::cli::Format;
use crate::domain::diff::{RowDiff, Tracker};
use crate::domain::event::Event;
use crate::domain::memory::MemoryState;
use crate::domain::replay::{replay_as_logged, Recorded};
use crate::domain::types::format_time;
use crate::error::{Error, Result};
use crate::render::{self, Table};
use crate::store::{EventFilter, Store};
use std::io::Write;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[arg(long, value_name = "TIME", help = crate::cli::time_help!("The first moment (the state after every event at or before it)"))]
    from: String,
    #[arg(long, value_name = "TIME", help = crate::cli::time_help!("The second moment, not before --from (default: now)"))]
    to: Option<String>,
}

pub(crate) fn run(context: &Context, args: Args) -> Result<()> {
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
    let diffs = replayed_diff(&store, from_seq, to_seq)?;
    match context.format() {
        Format::Table => {
            let mut table = Table::new(&render::DIFF_HEADERS);
            let zone = context.zone()?;
            for diff in &diffs {
                render::diff_lines(diff, zone)
                    .into_iter()
                    .for_each(|line| table.row(line));
            }
            context.emit_table(&table)
        }
        format => render::closed_pipe_is_done(stream(&diffs, format)),
    }
}

/// JSON or CSV, written as it is made: a month of a large ledger changes
/// millions of rows, and a whole document of them would take gigabytes.
fn stream(diffs: &[RowDiff], format: Format) -> Result<()> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    if format == Format::Json {
        out.write_all(b"[")?;
        for (i, diff) in diffs.iter().enumerate() {
            if i > 0 {
                out.write_all(b",")?;
            }
            serde_json::to_writer(&mut out, &render::diff_json(diff))
                .map_err(std::io::Error::from)?;
        }
        out.write_all(b"]\n")?;
    } else {
        let headers: Vec<String> = render::DIFF_HEADERS.iter().map(|h| h.to_string()).collect();
        render::write_csv_row(&mut out, &headers)?;
        for diff in diffs {
            for line in render::diff_lines(diff, None) {
                render::write_csv_row(&mut out, &line)?;
            }
        }
    }
    out.flush()?;
    Ok(())
}

/// Every instance, number and service row that differs between the state
/// after event `from_seq` and the state after `to_seq`: one replay of the
/// log to `to_seq` into memory, re-deciding each event as `verify` does,
/// keeping the rows the events after `from_seq` write as they stood before.
fn replayed_diff(store: &Store, from_seq: i64, to_seq: i64) -> Result<Vec<RowDiff>> {
    assert!(from_seq <= to_seq, "diff from a later moment");
    let mut state = MemoryState::new();
    let mut tracker = Tracker::default();
    let mut filter = EventFilter::all();
    filter.to_seq = to_seq;
    store.each_event(&filter, &mut |event| {
        replay_tracked(&mut state, &mut tracker, from_seq, event)
    })?;
    Ok(tracker.finish(&state))
}

fn replay_tracked(
    state: &mut MemoryState,
    tracker: &mut Tracker,
    from_seq: i64,
    event: Event,
) -> Result<()> {
    let seq = event.seq;
    let (changes, problem) = replay_as_logged(state, Recorded::of(&event)?);
    if let Some(problem) = problem {
        return Err(problem);
    }
    for change in changes {
        if seq > from_seq {
            tracker.note(state, &change);
        }
        state.apply(change);
    }
    Ok(())
}
