//! `import instances | ops | history FILE [--dry-run]`: CSV in, all or
//! nothing. Every row is validated in order as if applied, inside one write
//! transaction; any failure rolls the whole file back. The file is streamed,
//! so memory stays bounded whatever its size.

use super::Context;
use crate::cli::ImportCommand;
use crate::csvio::CsvInput;
use crate::domain::decide::Command;
use crate::domain::event::{Event, KINDS};
use crate::domain::types::*;
use crate::error::{Error, Reason, Result, RowFailure};
use crate::ledger::{allocate_command, fresh_numbers, replay_event, Ledger, Outcome};
use crate::render::Table;
use crate::store::{EventRef, Store};
use crate::verify::chain::{Chain, LinkProblem};
use crate::verify::describe;
use serde_json::json;
use std::io::IsTerminal;
use std::path::Path;

/// Failing rows listed at most; the rest are counted.
const FAILURES_LISTED: usize = 100;

pub const OPS_COLUMNS: [&str; 12] = [
    "op",
    "instance_id",
    "number",
    "account",
    "count",
    "service",
    "to_account",
    "icp_number",
    "reason",
    "request_id",
    "months",
    "expires_at",
];

pub fn run(context: &Context, command: ImportCommand) -> Result<()> {
    match command {
        ImportCommand::Instances { file, dry_run } => {
            let columns = super::export::INSTANCE_COLUMNS;
            let input = Input {
                file: &file,
                dry_run,
                columns: &columns,
                required: &columns[..7],
            };
            import(context, input, |ledger, row| {
                apply(ledger, instance_command(row)?)
            })
        }
        ImportCommand::Ops { file, dry_run } => {
            let input = Input {
                file: &file,
                dry_run,
                columns: &OPS_COLUMNS,
                required: &["op"],
            };
            import(context, input, |ledger, row| {
                apply(ledger, ops_command(row)?)
            })
        }
        ImportCommand::History { file, dry_run } => {
            let columns = crate::render::EVENT_HEADERS;
            let ledger = context.ledger()?;
            if ledger.store.event_count()? > 0 {
                return Err(Error::refused(
                    Reason::AlreadyExists,
                    "import history needs an empty ledger; this one has events",
                ));
            }
            let mut history = History::default();
            let input = Input {
                file: &file,
                dry_run,
                columns: &columns,
                required: &columns,
            };
            import_into(
                context,
                ledger,
                input,
                |ledger, row| history.apply(ledger, row),
                unique_event_ids,
            )
        }
    }
}

/// Applies one command; returns how many events it appended (0 for a
/// repeated request id).
fn apply(ledger: &Ledger, command: Command) -> Result<u64> {
    Ok(match ledger.apply(&command)? {
        Outcome::Appended(_) => 1,
        Outcome::AlreadyDone(_) => 0,
    })
}

/// The file an import reads, and how.
struct Input<'a> {
    file: &'a Path,
    dry_run: bool,
    /// Every column the file may have, and those it must have.
    columns: &'a [&'a str],
    required: &'a [&'a str],
}

fn import(
    context: &Context,
    input: Input,
    row: impl FnMut(&Ledger, &CsvInput) -> Result<u64>,
) -> Result<()> {
    let ledger = context.ledger()?;
    import_into(context, ledger, input, row, |_| Ok(()))
}

/// A rebuilt log must not reuse an event id. Checked once at the end by
/// SQLite (which sorts on disk if it must), so memory stays bounded.
fn unique_event_ids(store: &Store) -> Result<()> {
    match store.repeated_event_id()? {
        None => Ok(()),
        Some((event_id, first, second)) => Err(Error::Integrity(format!(
            "event {second}: its event_id {event_id} also belongs to event {first}"
        ))),
    }
}

fn import_into(
    context: &Context,
    ledger: Ledger,
    Input {
        file,
        dry_run,
        columns,
        required,
    }: Input,
    mut apply_row: impl FnMut(&Ledger, &CsvInput) -> Result<u64>,
    finish: fn(&Store) -> Result<()>,
) -> Result<()> {
    let mut input = CsvInput::open(file, columns, required)?;
    let progress = progress_bar(input.size);
    let transaction = ledger.begin()?;
    let (mut rows, mut events, mut failed) = (0_u64, 0_u64, 0_u64);
    let mut failures = Vec::new();
    loop {
        let outcome = match input.next_row() {
            Ok(false) => break,
            Ok(true) => apply_row(&ledger, &input),
            Err(error) => Err(error),
        };
        rows += 1;
        match outcome {
            Ok(appended) => events += appended,
            // Storage trouble is not the row's fault: stop at once.
            Err(error @ Error::Storage(_)) => return Err(error),
            Err(error) => {
                failed += 1;
                if failures.len() < FAILURES_LISTED {
                    let error = strip_line_prefix(error);
                    failures.push(RowFailure {
                        line: input.line,
                        error,
                    });
                }
            }
        }
        if rows % 4096 == 0 {
            if let Some(bar) = &progress {
                bar.set_position(input.bytes_read());
            }
        }
    }
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    if failed > 0 {
        return Err(Error::Import {
            failures,
            total: failed,
        });
    }
    finish(&ledger.store)?;
    if dry_run {
        drop(transaction); // rolls back
    } else {
        transaction.commit()?;
    }
    let verb = if dry_run { "would apply" } else { "applied" };
    let json = json!({"file": file.display().to_string(), "rows": rows, "events": events, "dry_run": dry_run});
    let mut table = Table::default();
    table.footer.push(format!(
        "{}{verb} {rows} row(s) from {}: {events} event(s){}",
        if dry_run { "dry run: " } else { "" },
        file.display(),
        if dry_run { "; nothing was written" } else { "" }
    ));
    table.vertical = true;
    table.headers = vec!["rows".into(), "events".into(), "dry_run".into()];
    table.rows = vec![vec![
        rows.to_string(),
        events.to_string(),
        dry_run.to_string(),
    ]];
    context.emit(&json, table)
}

/// Errors made while reading a row may already name their line; the import
/// report adds it, so drop a duplicate.
fn strip_line_prefix(error: Error) -> Error {
    match error {
        Error::Usage(message) if message.starts_with("line ") => {
            let rest = message
                .split_once(": ")
                .map_or(message.clone(), |(_, rest)| rest.to_string());
            Error::Usage(rest)
        }
        other => other,
    }
}

fn progress_bar(size: u64) -> Option<indicatif::ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new(size);
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {eta}")
    {
        bar.set_style(style);
    }
    Some(bar)
}

fn required<'a>(row: &'a CsvInput, index: usize, name: &str) -> Result<&'a str> {
    row.optional(index)?
        .ok_or_else(|| Error::usage(format!("column {name} is required for this row")))
}

fn instance_command(row: &CsvInput) -> Result<Command> {
    Ok(Command::AddInstance {
        instance_id: required(row, 0, "instance_id")?.to_string(),
        service_type: required(row, 1, "service_type")?.to_string(),
        account: required(row, 2, "account")?.to_string(),
        region: required(row, 3, "region")?.to_string(),
        billing: Billing::parse("billing", required(row, 4, "billing")?)?,
        subscription_months: parse_months(
            "subscription_months",
            required(row, 5, "subscription_months")?,
            0,
        )?,
        expires_at: parse_time("expires_at", required(row, 6, "expires_at")?)?,
        public_ip: row.optional(7)?.map(String::from),
        order_amount_fen: row
            .optional(8)?
            .map(|text| parse_amount_fen("order_amount", text))
            .transpose()?,
    })
}

/// The columns (by index in `OPS_COLUMNS`) each op takes; the others must
/// be left empty, so that a row never says more than is applied.
const OPS_TAKE: [(&str, &[usize]); 11] = [
    ("allocate", &[1, 2, 3, 4, 9]),
    ("select", &[1, 3, 5]),
    ("grant", &[2, 3, 6, 8]),
    ("bind", &[2, 3, 5]),
    ("submit", &[2]),
    ("approve", &[2, 7]),
    ("reject", &[2, 8]),
    ("deregister", &[2, 8]),
    ("invalidate", &[2, 8]),
    ("renew", &[1, 10, 11]),
    ("release", &[1]),
];

fn check_unused_columns(row: &CsvInput, op: &str) -> Result<()> {
    let Some((_, takes)) = OPS_TAKE.iter().find(|(name, _)| *name == op) else {
        return Ok(()); // an unknown op is reported by the caller
    };
    let mut extra = Vec::new();
    for (index, name) in OPS_COLUMNS.iter().enumerate().skip(1) {
        if !takes.contains(&index) && row.optional(index)?.is_some() {
            extra.push(*name);
        }
    }
    if extra.is_empty() {
        return Ok(());
    }
    Err(Error::usage(format!(
        "op {op} does not take column(s) {}: leave them empty",
        extra.join(", ")
    )))
}

/// One row of an ops file as the command it names (SPEC §3.3).
fn ops_command(row: &CsvInput) -> Result<Command> {
    let text =
        |index: usize| -> Result<Option<String>> { Ok(row.optional(index)?.map(String::from)) };
    let need = |index: usize| -> Result<String> {
        Ok(required(row, index, OPS_COLUMNS[index])?.to_string())
    };
    let op = need(0)?;
    check_unused_columns(row, &op)?;
    Ok(match op.as_str() {
        "allocate" => allocate_command(
            need(1)?,
            text(3)?,
            row.optional(4)?.map(super::allocate::parse_count).transpose()?,
            text(2)?.into_iter().collect(),
            text(9)?,
        ),
        "select" => Command::Select {
            instance_id: need(1)?,
            service: need(5)?,
            account: text(3)?,
            generated: fresh_numbers(1).remove(0),
        },
        "grant" => Command::Grant { number: need(2)?, to: need(6)?, account: text(3)?, note: text(8)? },
        "bind" => Command::Bind { number: need(2)?, service: need(5)?, account: need(3)? },
        "submit" => Command::Submit { number: need(2)? },
        "approve" => Command::Approve { number: need(2)?, icp_number: need(7)? },
        "reject" => Command::Reject { number: need(2)?, reason: need(8)? },
        "deregister" => Command::Deregister { number: need(2)?, reason: text(8)? },
        "invalidate" => Command::Invalidate { number: need(2)?, reason: need(8)? },
        "renew" => Command::Renew {
            instance_id: need(1)?,
            months: parse_months("months", &need(10)?, 1)?,
            expires_at: parse_time("expires_at", &need(11)?)?,
        },
        "release" => Command::Release { instance_id: need(1)? },
        other => {
            return Err(Error::usage(format!(
                "op '{}' is not one of allocate, select, grant, bind, submit, approve, reject, deregister, invalidate, renew, release",
                shorten(other)
            )))
        }
    })
}

/// The chain as the history file builds it.
#[derive(Default)]
struct History {
    chain: Chain,
    rows: i64,
}

impl History {
    /// Checks one history row against the chain so far and writes it with
    /// its derived rows.
    fn apply(&mut self, ledger: &Ledger, row: &CsvInput) -> Result<u64> {
        let seq_text = row.get(0)?;
        let seq: i64 = seq_text.parse().map_err(|_| {
            Error::usage(format!(
                "seq: '{}' is not a whole number",
                shorten(seq_text)
            ))
        })?;
        let event = Event {
            seq,
            event_id: row.get(1)?.to_string(),
            at: row.get(2)?.to_string(),
            actor: row.get(3)?.to_string(),
            kind: row.get(4)?.to_string(),
            payload: row.get(5)?.to_string(),
            prev_hash: row.get(6)?.to_string(),
            hash: row.get(7)?.to_string(),
        };
        // Checked again inside the write transaction: another process may
        // have written since the first look.
        if self.rows == 0 && ledger.store.head()?.is_some() {
            return Err(Error::refused(
                Reason::AlreadyExists,
                "import history needs an empty ledger; this one has events",
            ));
        }
        self.rows += 1;
        let mut problems = Vec::new();
        self.chain.check(&event_ref(&event), &mut problems);
        if let Some(problem) = problems.first() {
            return Err(link_error(problem, &event));
        }
        if !KINDS.contains(&event.kind.as_str()) {
            return Err(Error::Integrity(format!(
                "event {seq}: unknown kind '{}'",
                shorten(&event.kind)
            )));
        }
        validate_text("actor", &event.actor, limits::TEXT_MAX)?;
        // replay_event records the subjects.
        ledger.store.append(&event, &[])?;
        replay_event(&ledger.store, &event).map(|_| 1)
    }
}

fn event_ref(event: &Event) -> EventRef<'_> {
    EventRef {
        wrong_type: None,
        seq: event.seq,
        event_id: &event.event_id,
        at: &event.at,
        actor: &event.actor,
        kind: &event.kind,
        payload: &event.payload,
        prev_hash: &event.prev_hash,
        hash: &event.hash,
    }
}

/// A chain problem, reported as `verify` reports it.
fn link_error(problem: &LinkProblem, event: &Event) -> Error {
    Error::Integrity(describe(problem, &event_ref(event)).1)
}
