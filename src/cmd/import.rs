//! `import instances | ops | history FILE [--dry-run]`: CSV in, all or
//! nothing (docs/guide.md "CSV files", "All or nothing"). Every row is validated in
//! order as if applied, inside one write transaction; any failure rolls the
//! whole file back. The file is streamed, so memory stays bounded whatever
//! its size.

use super::allocate;
use super::allocate::parse_count;
use super::fresh_numbers;
use super::import_history::History;
use super::Context;
use crate::csvio::{instance_csv, ops_csv as column, CsvInput};
use crate::domain::decide::Command;
use crate::domain::decide::{BindCommand, GrantCommand, SelectCommand};
use crate::domain::types::*;
use crate::error::{Error, Reason, Result, RowFailure};
use crate::ledger::{Ledger, Outcome, Writer};
use crate::render::{Answer, Table};
use crate::store::Store;
use clap::Subcommand;
use serde::Serialize;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

#[derive(Debug, Subcommand)]
pub(crate) enum ImportCommand {
    /// Register instances; with --sync, refresh them from the provider's list.
    #[command(after_help = crate::csvio::columns_help(
        "header row required; public_ip and order_amount may be empty; expires_at without an offset is read in --tz",
        instance_csv::HEADER,
        crate::cli::examples!(
            "snledger import instances samples/instances.csv --dry-run",
            "snledger import instances console-2026-11.csv --sync --dry-run"
        ),
    ))]
    Instances(InstancesArgs),
    /// Apply an ops CSV file: one command a row, in file order.
    #[command(after_help = ops_help())]
    Ops(Args),
    /// Rebuild an empty ledger from an exported log, checking the chain.
    #[command(after_help = crate::csvio::columns_help(
        "as `export history` writes them",
        &crate::domain::event::EVENT_COLUMNS,
        crate::cli::examples!("snledger --db copy.db import history history.csv"),
    ))]
    History(Args),
}

impl ImportCommand {
    pub(crate) fn is_dry_run(&self) -> bool {
        match self {
            ImportCommand::Instances(args) => args.args.dry_run,
            ImportCommand::Ops(args) | ImportCommand::History(args) => args.dry_run,
        }
    }
}

// What every import takes (no doc comment: clap would show it as help).
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The CSV file to read.
    #[arg(value_name = "FILE", value_hint = clap::ValueHint::FilePath)]
    file: PathBuf,
    /// Check every row as if applied, report, and write nothing.
    #[arg(long)]
    dry_run: bool,
}

#[derive(Debug, clap::Args)]
pub(crate) struct InstancesArgs {
    #[command(flatten)]
    args: Args,
    /// A refreshed list (the provider's console export): add new instances,
    /// renew and amend changed ones, leave identical ones alone, report the
    /// ledger's instances the file lacks (never released).
    #[arg(long)]
    sync: bool,
}

/// `import ops --help`: the columns, then the ones each op takes (from `OPS`).
fn ops_help() -> String {
    let mut text = String::from("Columns (header row required; only op is required, each row fills the ones its op takes):\n  ");
    text.push_str(&column::HEADER.join(","));
    text.push_str("\n\nOps and their columns:");
    for op in &OPS {
        let takes: Vec<&str> = op
            .takes
            .iter()
            .map(|index| column::HEADER[*index])
            .collect();
        text.push_str(&format!("\n  {:<11} {}", op.name, takes.join(", ")));
    }
    text.push_str("\n\n");
    text.push_str(crate::cli::examples!(
        "snledger import ops samples/ops.csv --dry-run"
    ));
    text
}

/// Failing rows listed at most; the rest are counted.
const FAILURES_LISTED: usize = 100;

pub(crate) fn run(context: &Context, command: ImportCommand) -> Result<()> {
    // expires_at without an offset is read in the operator's zone (--tz).
    let zone = context.zone()?.unwrap_or(chrono_tz::Tz::UTC);
    match command {
        ImportCommand::Instances(InstancesArgs { args, sync: true }) => {
            super::import_sync::run(context, &args.file, args.dry_run)
        }
        ImportCommand::Instances(InstancesArgs { args, .. }) => {
            let input = Input {
                file: &args.file,
                dry_run: args.dry_run,
                columns: instance_csv::HEADER,
                // All but public_ip and order_amount.
                required: &instance_csv::HEADER[..instance_csv::PUBLIC_IP],
            };
            import(context, input, |ledger, row| {
                apply(ledger, instance_command(row, zone)?)
            })
        }
        ImportCommand::Ops(args) => {
            let input = Input {
                file: &args.file,
                dry_run: args.dry_run,
                columns: column::HEADER,
                required: &column::HEADER[..=column::OP],
            };
            import(context, input, |ledger, row| {
                apply(ledger, ops_command(row, zone)?)
            })
        }
        ImportCommand::History(args) => history(context, args),
    }
}

fn history(context: &Context, args: Args) -> Result<()> {
    // A history file has the log's columns, as `export history` writes it.
    let columns = crate::domain::event::EVENT_COLUMNS;
    let ledger = context.ledger()?;
    if ledger.store.event_count()? > 0 {
        return Err(Error::refused(
            Reason::AlreadyExists,
            "import history needs an empty ledger; this one has events",
        ));
    }
    let history = std::cell::RefCell::new(History::new(ledger.clock.reference));
    let input = Input {
        file: &args.file,
        dry_run: args.dry_run,
        columns: &columns,
        required: &columns,
    };
    import_into(
        context,
        ledger,
        input,
        |writer, row| history.borrow_mut().apply(writer, row),
        |store| {
            unique_event_ids(store)?;
            history.borrow_mut().check_clock(store)
        },
    )
}

/// Applies one command; returns how many events it appended (0 for a
/// repeated request id).
pub(super) fn apply(writer: &mut Writer, command: Command) -> Result<u64> {
    Ok(match writer.apply_bulk(&command)? {
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
    row: impl FnMut(&mut Writer, &CsvInput) -> Result<u64>,
) -> Result<()> {
    let ledger = context.ledger()?;
    import_into(context, ledger, input, row, |_: &Store| Ok(()))
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

/// What a pass over the file found.
#[derive(Default)]
pub(super) struct Tally {
    pub(super) rows: u64,
    pub(super) events: u64,
    pub(super) failed: u64,
    pub(super) failures: Vec<RowFailure>,
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
    apply_row: impl FnMut(&mut Writer, &CsvInput) -> Result<u64>,
    finish: impl FnOnce(&Store) -> Result<()>,
) -> Result<()> {
    let mut input = CsvInput::open(file, columns, required)?;
    let mut writer = ledger.begin()?;
    let tally = apply_rows(&mut writer, &mut input, apply_row)?;
    if tally.failed > 0 {
        return Err(Error::Import {
            failures: tally.failures,
            total: tally.failed,
        });
    }
    finish(writer.store())?;
    if dry_run {
        drop(writer); // rolls back
    } else {
        writer.commit()?;
    }
    let (rows, events) = (tally.rows, tally.events);
    context.emit(&Imported {
        file,
        rows,
        events,
        dry_run,
    })
}

/// Applies every row in file order, noting the failing ones; storage
/// trouble is not the row's fault and stops the import at once.
pub(super) fn apply_rows(
    writer: &mut Writer,
    input: &mut CsvInput,
    mut apply_row: impl FnMut(&mut Writer, &CsvInput) -> Result<u64>,
) -> Result<Tally> {
    let progress = progress_bar(input.size);
    let mut tally = Tally::default();
    loop {
        let outcome = match input.next_row() {
            Ok(false) => break,
            Ok(true) => apply_row(writer, input),
            Err(error) => Err(error),
        };
        tally.rows += 1;
        match outcome {
            Ok(appended) => tally.events += appended,
            Err(error) if error.is_storage() => return Err(error),
            Err(error) => {
                tally.failed += 1;
                if tally.failures.len() < FAILURES_LISTED {
                    let error = strip_line_prefix(error);
                    tally.failures.push(RowFailure {
                        line: input.line,
                        error,
                    });
                }
            }
        }
        if tally.rows % 4096 == 0 {
            if let Some(bar) = &progress {
                bar.set_position(input.bytes_read());
            }
        }
    }
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    Ok(tally)
}

/// What an import did: a one-record table with a one-line footer.
#[derive(Serialize)]
struct Imported<'a> {
    #[serde(serialize_with = "path_text")]
    file: &'a Path,
    rows: u64,
    events: u64,
    dry_run: bool,
}

impl Answer for Imported<'_> {
    fn table(&self) -> Table {
        let mut table = Table::record(vec![
            ("rows", self.rows.to_string()),
            ("events", self.events.to_string()),
            ("dry_run", self.dry_run.to_string()),
        ]);
        table.footer.push(applied_line(
            self.file,
            self.rows,
            self.events,
            self.dry_run,
        ));
        table
    }
}

/// A file's path as JSON has it (as displayed: a name that is not UTF-8
/// is still shown).
pub(super) fn path_text<S: serde::Serializer>(
    file: &&Path,
    serializer: S,
) -> std::result::Result<S::Ok, S::Error> {
    serializer.collect_str(&file.display())
}

/// The line under an import's table: how many rows and events.
pub(super) fn applied_line(file: &Path, rows: u64, events: u64, dry_run: bool) -> String {
    let verb = if dry_run { "would apply" } else { "applied" };
    format!(
        "{}{verb} {rows} row(s) from {}: {events} event(s){}",
        if dry_run { "dry run: " } else { "" },
        crate::files::shown_path(file),
        if dry_run { "; nothing was written" } else { "" }
    )
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

pub(super) fn progress_bar(size: u64) -> Option<indicatif::ProgressBar> {
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

/// A cell the row must fill, named by its column in `header`.
fn required<'a>(row: &'a CsvInput, header: &[&str], index: usize) -> Result<&'a str> {
    row.optional(index)?
        .ok_or_else(|| Error::usage(format!("column {} is required for this row", header[index])))
}

pub(super) fn instance_command(row: &CsvInput, zone: chrono_tz::Tz) -> Result<Command> {
    use instance_csv::*;
    let need = |index: usize| required(row, HEADER, index);
    Ok(Command::AddInstance {
        instance_id: need(INSTANCE_ID)?.to_string(),
        service_type: need(SERVICE_TYPE)?.to_string(),
        account: need(ACCOUNT)?.to_string(),
        region: need(REGION)?.to_string(),
        billing: Billing::parse("billing", need(BILLING)?)?,
        subscription_months: parse_months("subscription_months", need(SUBSCRIPTION_MONTHS)?, 0)?,
        expires_at: parse_time_in("expires_at", need(EXPIRES_AT)?, zone)?,
        public_ip: row.optional(PUBLIC_IP)?.map(String::from),
        order_amount_fen: row
            .optional(ORDER_AMOUNT)?
            .map(|text| parse_amount_fen("order_amount", text))
            .transpose()?,
    })
}

/// One row of an ops file, read by column, and the zone its times are read in.
struct OpsRow<'a>(&'a CsvInput, chrono_tz::Tz);

impl OpsRow<'_> {
    /// A cell the op must have.
    fn need(&self, index: usize) -> Result<String> {
        Ok(required(self.0, column::HEADER, index)?.to_string())
    }

    /// A cell the op may leave empty.
    fn text(&self, index: usize) -> Result<Option<String>> {
        Ok(self.0.optional(index)?.map(String::from))
    }
}

/// One op of an ops file (docs/guide.md "CSV files"): its name, the columns it
/// takes (the others must be left empty, so that a row never says more
/// than is applied), and the command a row of it becomes.
struct Op {
    name: &'static str,
    takes: &'static [usize],
    command: fn(&OpsRow) -> Result<Command>,
}

/// Every op, in the order the error for an unknown one lists them.
static OPS: [Op; 11] = [
    Op {
        name: "allocate",
        takes: &[
            column::INSTANCE_ID,
            column::NUMBER,
            column::ACCOUNT,
            column::COUNT,
            column::REQUEST_ID,
        ],
        command: |row| {
            Ok(allocate::command(allocate::Request {
                instance_id: row.need(column::INSTANCE_ID)?,
                account: row.text(column::ACCOUNT)?,
                count: row
                    .0
                    .optional(column::COUNT)?
                    .map(parse_count)
                    .transpose()?,
                numbers: row.text(column::NUMBER)?.into_iter().collect(),
                request_id: row.text(column::REQUEST_ID)?,
            }))
        },
    },
    Op {
        name: "select",
        takes: &[column::INSTANCE_ID, column::ACCOUNT, column::SERVICE],
        command: |row| {
            Ok(Command::Select(SelectCommand {
                instance_id: row.need(column::INSTANCE_ID)?,
                service: row.need(column::SERVICE)?,
                account: row.text(column::ACCOUNT)?,
                generated: fresh_numbers(1).remove(0),
            }))
        },
    },
    Op {
        name: "grant",
        takes: &[
            column::NUMBER,
            column::ACCOUNT,
            column::TO_ACCOUNT,
            column::REASON,
        ],
        command: |row| {
            Ok(Command::Grant(GrantCommand {
                number: row.need(column::NUMBER)?,
                to: row.need(column::TO_ACCOUNT)?,
                account: row.text(column::ACCOUNT)?,
                note: row.text(column::REASON)?,
            }))
        },
    },
    Op {
        name: "bind",
        takes: &[column::NUMBER, column::ACCOUNT, column::SERVICE],
        command: |row| {
            Ok(Command::Bind(BindCommand {
                number: row.need(column::NUMBER)?,
                service: row.need(column::SERVICE)?,
                account: row.need(column::ACCOUNT)?,
            }))
        },
    },
    Op {
        name: "submit",
        takes: &[column::NUMBER],
        command: |row| {
            Ok(Command::Submit {
                number: row.need(column::NUMBER)?,
            })
        },
    },
    Op {
        name: "approve",
        takes: &[column::NUMBER, column::ICP_NUMBER],
        command: |row| {
            Ok(Command::Approve {
                number: row.need(column::NUMBER)?,
                icp_number: row.need(column::ICP_NUMBER)?,
            })
        },
    },
    Op {
        name: "reject",
        takes: &[column::NUMBER, column::REASON],
        command: |row| {
            Ok(Command::Reject {
                number: row.need(column::NUMBER)?,
                reason: row.need(column::REASON)?,
            })
        },
    },
    Op {
        name: "deregister",
        takes: &[column::NUMBER, column::REASON],
        command: |row| {
            Ok(Command::Deregister {
                number: row.need(column::NUMBER)?,
                reason: row.text(column::REASON)?,
            })
        },
    },
    Op {
        name: "invalidate",
        takes: &[column::NUMBER, column::REASON],
        command: |row| {
            Ok(Command::Invalidate {
                number: row.need(column::NUMBER)?,
                reason: row.need(column::REASON)?,
            })
        },
    },
    Op {
        name: "renew",
        takes: &[column::INSTANCE_ID, column::MONTHS, column::EXPIRES_AT],
        command: |row| {
            Ok(Command::Renew {
                instance_id: row.need(column::INSTANCE_ID)?,
                months: parse_months("months", &row.need(column::MONTHS)?, 1)?,
                expires_at: parse_time_in("expires_at", &row.need(column::EXPIRES_AT)?, row.1)?,
            })
        },
    },
    Op {
        name: "release",
        takes: &[column::INSTANCE_ID],
        command: |row| {
            Ok(Command::Release {
                instance_id: row.need(column::INSTANCE_ID)?,
            })
        },
    },
];

/// One row of an ops file as the command it names.
fn ops_command(row: &CsvInput, zone: chrono_tz::Tz) -> Result<Command> {
    let row = OpsRow(row, zone);
    let name = row.need(column::OP)?;
    let Some(op) = OPS.iter().find(|op| op.name == name) else {
        let names: Vec<&str> = OPS.iter().map(|op| op.name).collect();
        return Err(Error::usage(format!(
            "op '{}' is not one of {}",
            shorten(&name),
            names.join(", ")
        )));
    };
    check_unused_columns(&row, op)?;
    (op.command)(&row)
}

fn check_unused_columns(row: &OpsRow, op: &Op) -> Result<()> {
    let mut extra = Vec::new();
    for (index, name) in column::HEADER.iter().enumerate().skip(column::OP + 1) {
        if !op.takes.contains(&index) && row.0.optional(index)?.is_some() {
            extra.push(*name);
        }
    }
    if extra.is_empty() {
        return Ok(());
    }
    Err(Error::usage(format!(
        "op {} does not take column(s) {}: leave them empty",
        op.name,
        extra.join(", ")
    )))
}
