//! `history [--instance I] [--number N] [--account A] [--service S] [--kind K] [--by ACTOR] [--since T] [--until T]`
//! Filters combine. One subject filter is served by the `event_subjects`
//! index, `--kind` by `events_by_kind`, and times by a binary search over
//! seq (times never decrease along the log).

use super::Context;
use crate::cli::Format;
use crate::domain::event::{Event, KINDS};
use crate::domain::names::canonical_service;
use crate::domain::types::*;
use crate::error::{Error, Result};
use crate::render::{self, EventView, Row, Table};
use crate::store::{EventFilter, Store};
use std::io::Write;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Only events that name this instance.
    #[arg(long, value_name = "ID")]
    instance: Option<String>,
    /// Only events on this number.
    #[arg(long, value_name = "NUMBER")]
    number: Option<String>,
    /// Only events that name this account (as owner, holder, or either side of a grant).
    #[arg(long, value_name = "ACCOUNT")]
    account: Option<String>,
    /// Only events on this service.
    #[arg(long, value_name = "S", allow_hyphen_values = true)]
    service: Option<String>,
    /// Only events of this kind.
    #[arg(long, value_name = "KIND", value_parser = crate::cli::offered(KINDS))]
    kind: Option<String>,
    #[arg(long, value_name = "TIME", help = crate::cli::time_help!("Only events at or after this time"))]
    since: Option<String>,
    #[arg(long, value_name = "TIME", help = crate::cli::time_help!("Only events at or before this time"))]
    until: Option<String>,
    /// Only events written by this actor (the `actor` column: `--actor`,
    /// `$SNLEDGER_ACTOR` or `$USER` of whoever ran the command), compared exactly.
    #[arg(long = "by", value_name = "ACTOR", allow_hyphen_values = true)]
    by: Option<String>,
}

pub(crate) fn run(context: &Context, args: Args) -> Result<()> {
    let subjects = subjects(&args)?;
    if let Some(kind) = &args.kind {
        if !KINDS.contains(&kind.as_str()) {
            return Err(Error::usage(format!(
                "--kind: '{}' is not one of {}{}",
                shorten(kind),
                KINDS.join(", "),
                crate::domain::suggest::hint(kind, KINDS)
            )));
        }
    }
    let since = context.optional_time("--since", &args.since)?;
    let until = context.optional_time("--until", &args.until)?;
    if let Some(actor) = &args.by {
        validate_text("--by", actor, limits::TEXT_MAX)?;
    }
    let store = context.read_store()?;
    let _snapshot = store.begin_read()?;
    let subjects = spelled_as_stored(&store, subjects)?;
    let mut filter = EventFilter::all();
    filter.kind = args.kind.clone();
    filter.actor = args.by.clone();
    filter.subject = subjects.first().cloned();
    if let Some(since) = since {
        filter.from_seq = store.first_seq_at_or_after(&format_time(since))?;
    }
    if let Some(until) = until {
        filter.to_seq = store.last_seq_at_or_before(&format_time(until))?;
    }
    // The index serves the first subject; the event itself is checked for the others.
    let others = &subjects[subjects.len().min(1)..];
    let keep = |event: &Event| -> bool {
        others.is_empty()
            || event
                .body()
                .map(|body| {
                    let named = body.subjects();
                    others.iter().all(|s| named.contains(s))
                })
                .unwrap_or(false)
    };
    match context.format() {
        Format::Table => print_table(context, &store, &filter, keep),
        format => render::closed_pipe_is_done(stream(&store, &filter, keep, format)),
    }
}

/// The subjects as the ledger first spelled them (docs/guide.md "Names: one
/// thing, one spelling"): an instance or number whatever its ASCII case, a
/// service in any of its spellings. A name the ledger does not know stays
/// as given (it then matches no event).
fn spelled_as_stored(store: &Store, subjects: Vec<String>) -> Result<Vec<String>> {
    let mut spelled = Vec::with_capacity(subjects.len());
    for subject in subjects {
        let (letter, name) = subject.split_at(2);
        let stored = match letter {
            "i:" => store.instance(name)?.map(|found| found.instance_id),
            "n:" => store.number(name)?.map(|found| found.number),
            "s:" => {
                let canonical = canonical_service(name)?;
                Some(
                    store
                        .service(&canonical)?
                        .map_or(canonical, |found| found.service),
                )
            }
            _ => None,
        };
        spelled.push(stored.map_or(subject.clone(), |name| format!("{letter}{name}")));
    }
    Ok(spelled)
}

/// The subjects the filters name, as the history index spells them.
fn subjects(args: &Args) -> Result<Vec<String>> {
    let mut subjects = Vec::new();
    if let Some(instance) = &args.instance {
        validate_instance_id(instance)?;
        subjects.push(format!("i:{instance}"));
    }
    if let Some(number) = &args.number {
        validate_number(number)?;
        subjects.push(format!("n:{number}"));
    }
    if let Some(account) = &args.account {
        validate_account(account)?;
        subjects.push(format!("a:{account}"));
    }
    if let Some(service) = &args.service {
        validate_service(service)?;
        subjects.push(format!("s:{service}"));
    }
    Ok(subjects)
}

/// The table: one line per event saying what it did (docs/guide.md "At the
/// terminal"); JSON and CSV carry the whole payload.
fn print_table(
    context: &Context,
    store: &Store,
    filter: &EventFilter,
    keep: impl Fn(&Event) -> bool,
) -> Result<()> {
    let zone = context.zone()?;
    let mut table = Table::new(&["seq", "at", "actor", "kind", "summary"]);
    let repairs = store.clock_repairs()?;
    store.each_event(filter, &mut |event| {
        if keep(&event) {
            let summary = render::event_summary(&event, zone);
            // A time a clock repair covers is marked: it is not when the
            // event happened (docs/guide.md "Time").
            let at = match repairs.iter().find(|repair| repair.covers(event.seq)) {
                Some(repair) => format!("{} (clock ahead, repaired by {})", event.at, repair.seq),
                None => event.at,
            };
            table.row(vec![
                event.seq.to_string(),
                at,
                event.actor,
                event.kind,
                summary,
            ]);
        }
        Ok(())
    })?;
    context.emit_table(&table)
}

/// JSON or CSV, streamed: the log can be far larger than memory should hold.
fn stream(
    store: &Store,
    filter: &EventFilter,
    keep: impl Fn(&Event) -> bool,
    format: Format,
) -> Result<()> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut first = true;
    if format == Format::Json {
        out.write_all(b"[")?;
    } else {
        out.write_all(render::csv_text(&Table::new(EventView::HEADERS))?.as_bytes())?;
    }
    store.each_event(filter, &mut |event| {
        if !keep(&event) {
            return Ok(());
        }
        if format == Format::Json {
            if !first {
                out.write_all(b",")?;
            }
            first = false;
            serde_json::to_writer(&mut out, &EventView::from(event))
                .map_err(std::io::Error::from)?;
        } else {
            render::write_csv_row(&mut out, &EventView::from(event).cells())?;
        }
        Ok(())
    })?;
    if format == Format::Json {
        out.write_all(b"]\n")?;
    }
    out.flush()?;
    Ok(())
}
