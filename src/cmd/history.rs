//! `history [--instance I] [--number N] [--account A] [--service S] [--kind K] [--by ACTOR] [--since T] [--until T]`
//! Filters combine. One subject filter is served by the `event_subjects`
//! index, `--kind` by `events_by_kind`, and times by a binary search over
//! seq (times never decrease along the log).

use super::Context;
use crate::cli::Format;
use crate::domain::event::{Event, KINDS};
use crate::domain::types::*;
use crate::error::{Error, Result};
use crate::render::{self, Table};
use crate::store::{EventFilter, Store};
use std::io::Write;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[arg(long)]
    instance: Option<String>,
    #[arg(long)]
    number: Option<String>,
    #[arg(long)]
    account: Option<String>,
    #[arg(long)]
    service: Option<String>,
    #[arg(long)]
    kind: Option<String>,
    #[arg(long, value_name = "TIME")]
    since: Option<String>,
    #[arg(long, value_name = "TIME")]
    until: Option<String>,
    /// Only events written by this actor (the `actor` column: `--actor`,
    /// `$SNLEDGER_ACTOR` or `$USER` of whoever ran the command), compared exactly.
    #[arg(long = "by", value_name = "ACTOR", allow_hyphen_values = true)]
    by: Option<String>,
}

pub fn run(context: &Context, args: Args) -> Result<()> {
    let subjects = subjects(&args)?;
    if let Some(kind) = &args.kind {
        if !KINDS.contains(&kind.as_str()) {
            return Err(Error::usage(format!(
                "--kind: '{}' is not one of {}",
                shorten(kind),
                KINDS.join(", ")
            )));
        }
    }
    let since = args
        .since
        .as_deref()
        .map(|t| parse_time("--since", t))
        .transpose()?;
    let until = args
        .until
        .as_deref()
        .map(|t| parse_time("--until", t))
        .transpose()?;
    if let Some(actor) = &args.by {
        validate_text("--by", actor, limits::TEXT_MAX)?;
    }
    let store = context.read_store()?;
    let _snapshot = store.begin_read()?;
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
        Format::Table => print_table(&store, &filter, keep),
        format => render::closed_pipe_is_done(stream(&store, &filter, keep, format)),
    }
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

fn print_table(store: &Store, filter: &EventFilter, keep: impl Fn(&Event) -> bool) -> Result<()> {
    let mut table = Table::new(&["seq", "at", "actor", "kind", "payload"]);
    store.each_event(filter, |event| {
        if keep(&event) {
            table.row(vec![
                event.seq.to_string(),
                event.at,
                event.actor,
                event.kind,
                event.payload,
            ]);
        }
        Ok(())
    })?;
    render::emit(Format::Table, &serde_json::Value::Null, table)
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
        out.write_all(render::csv_text(&Table::new(&render::EVENT_HEADERS))?.as_bytes())?;
    }
    store.each_event(filter, |event| {
        if !keep(&event) {
            return Ok(());
        }
        if format == Format::Json {
            if !first {
                out.write_all(b",")?;
            }
            first = false;
            serde_json::to_writer(&mut out, &render::event_json(&event))
                .map_err(std::io::Error::from)?;
        } else {
            render::write_csv_row(&mut out, &render::event_row(&event))?;
        }
        Ok(())
    })?;
    if format == Format::Json {
        out.write_all(b"]\n")?;
    }
    out.flush()?;
    Ok(())
}
