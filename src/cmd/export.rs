//! `export instances | numbers | history [-o FILE] [--as-of TIME]`: CSV out,
//! streamed, with the spreadsheet-formula guard on every cell.

use super::Context;
use crate::cli::AsOf;
use crate::csvio::{instance_csv, instance_csv_row};
use crate::domain::types::*;
use crate::error::{Error, Result};
use crate::files::shown_path;
use crate::render::{self, write_csv_row};
use crate::store::{EventFilter, Store};
use clap::Subcommand;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// Every instance as an instances CSV file (the form `import instances` reads).
    #[command(after_help = crate::csvio::columns_help(
        "a header row, then one row per instance",
        instance_csv::HEADER,
        crate::cli::examples!("snledger export instances -o instances.csv"),
    ))]
    Instances(Args),
    /// Every number as CSV.
    #[command(after_help = crate::csvio::columns_help(
        "a header row, then one row per number",
        &render::NUMBER_HEADERS,
        crate::cli::examples!("snledger export numbers --as-of 2027-01-01 -o numbers.csv"),
    ))]
    Numbers(Args),
    /// The whole log as CSV, which `import history` and samples/verify_history.py read.
    #[command(after_help = crate::csvio::columns_help(
        "a header row, then one row per event; payload is the JSON as hashed",
        &render::EVENT_HEADERS,
        crate::cli::examples!("snledger export history -o history.csv"),
    ))]
    History(Args),
}

// What every export takes (no doc comment: clap would show it as help).
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Write to FILE (created 0600, replaced only when complete) instead of standard output.
    #[arg(short, long, value_name = "FILE", value_hint = clap::ValueHint::FilePath)]
    output: Option<PathBuf>,
    #[command(flatten)]
    as_of: AsOf,
}

/// Which table an export writes.
#[derive(Clone, Copy)]
enum Exported {
    Instances,
    Numbers,
    History,
}

pub fn run(context: &Context, command: ExportCommand) -> Result<()> {
    let (exported, args) = match command {
        ExportCommand::Instances(args) => (Exported::Instances, args),
        ExportCommand::Numbers(args) => (Exported::Numbers, args),
        ExportCommand::History(args) => (Exported::History, args),
    };
    let live = context.read_store()?;
    let cutoff = args
        .as_of
        .as_of
        .as_deref()
        .map(|t| context.time("--as-of", t))
        .transpose()?;
    let destination = Destination::open(args.output.as_deref(), &context.db()?)?;
    let mut out = destination.writer()?;
    let result = write_table(&mut out, exported, live, cutoff);
    drop(out);
    match render::closed_pipe_is_done(result) {
        Ok(()) => destination.finish(),
        Err(error) => {
            destination.abandon();
            Err(error)
        }
    }
}

/// Writes the header and every row, streamed from one read snapshot.
fn write_table(
    out: &mut impl Write,
    exported: Exported,
    live: Store,
    cutoff: Option<Time>,
) -> Result<()> {
    let header = |columns: &[&str]| columns.iter().map(|c| c.to_string()).collect::<Vec<_>>();
    match exported {
        Exported::History => {
            let _snapshot = live.begin_read()?;
            let mut filter = EventFilter::all();
            if let Some(cutoff) = cutoff {
                filter.to_seq = live.last_seq_at_or_before(&format_time(cutoff))?;
            }
            write_csv_row(out, &header(&render::EVENT_HEADERS))?;
            live.each_event(&filter, |event| {
                Ok(write_csv_row(out, &render::event_row(&event))?)
            })?;
        }
        Exported::Instances => {
            let store = state_at(live, cutoff)?;
            let _snapshot = store.begin_read()?;
            write_csv_row(out, &header(instance_csv::HEADER))?;
            store.each_instance(|instance| Ok(write_csv_row(out, &instance_csv_row(instance))?))?;
        }
        Exported::Numbers => {
            let store = state_at(live, cutoff)?;
            let _snapshot = store.begin_read()?;
            write_csv_row(out, &header(&render::NUMBER_HEADERS))?;
            store.each_number(|number| Ok(write_csv_row(out, &render::number_row(&number))?))?;
        }
    }
    Ok(out.flush()?)
}

/// The live store, or the state rebuilt from the log as it stood at `cutoff`.
fn state_at(live: Store, cutoff: Option<Time>) -> Result<Store> {
    match cutoff {
        Some(time) => crate::ledger::state_as_of(&live, time),
        None => Ok(live),
    }
}

/// Where an export goes: stdout, or a file written beside its target and
/// renamed over it only once complete, so a failed export never leaves a
/// half-written or emptied file. The temporary file gets a fresh random
/// name (`.NAME.XXXXXX.partial`, created exclusively, mode 0600), so a stale
/// one left by a killed export never blocks the next; it is removed on every
/// error (when dropped). An existing target keeps the mode its owner gave it.
enum Destination {
    Stdout,
    File {
        temporary: tempfile::NamedTempFile,
        target: PathBuf,
    },
}

impl Destination {
    fn open(output: Option<&Path>, ledger: &Path) -> Result<Destination> {
        let Some(target) = output else {
            return Ok(Destination::Stdout);
        };
        if target.is_dir() {
            return Err(Error::usage(format!(
                "-o {}: is a directory",
                shown_path(target)
            )));
        }
        if is_ledger_file(target, ledger) {
            return Err(Error::usage(format!(
                "-o {}: that is the ledger itself",
                shown_path(target)
            )));
        }
        let name = target
            .file_name()
            .map_or("export".into(), |n| n.to_string_lossy().into_owned());
        let directory = match target.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        let temporary = tempfile::Builder::new()
            .prefix(&format!(".{name}."))
            .suffix(".partial")
            .rand_bytes(8)
            .tempfile_in(directory)
            .map_err(|e| {
                Error::storage(format!(
                    "cannot create a temporary file beside {}: {e}",
                    shown_path(target)
                ))
            })?;
        if let Ok(metadata) = std::fs::metadata(target) {
            let _ = temporary.as_file().set_permissions(metadata.permissions());
        }
        Ok(Destination::File {
            temporary,
            target: target.to_path_buf(),
        })
    }

    fn writer(&self) -> Result<Box<dyn Write>> {
        Ok(match self {
            Destination::Stdout => Box::new(std::io::BufWriter::with_capacity(
                1 << 16,
                std::io::stdout(),
            )),
            Destination::File { temporary, .. } => {
                let file = temporary.as_file().try_clone().map_err(|e| {
                    Error::storage(format!(
                        "cannot write {}: {e}",
                        shown_path(temporary.path())
                    ))
                })?;
                Box::new(std::io::BufWriter::with_capacity(1 << 16, file))
            }
        })
    }

    fn finish(self) -> Result<()> {
        if let Destination::File { temporary, target } = self {
            // On failure the error holds the temporary file, and dropping it
            // removes it.
            temporary.persist(&target).map_err(|e| {
                Error::storage(format!("cannot write {}: {}", shown_path(&target), e.error))
            })?;
        }
        Ok(())
    }

    /// Drops the temporary file, which removes it.
    fn abandon(self) {
        drop(self);
    }
}

/// Whether `target` is the ledger or one of its WAL files (when both exist).
fn is_ledger_file(target: &Path, ledger: &Path) -> bool {
    let (Ok(target_path), Ok(ledger_path)) = (target.canonicalize(), ledger.canonicalize()) else {
        return false;
    };
    ["", "-wal", "-shm"]
        .map(|suffix| format!("{}{suffix}", ledger_path.display()))
        .iter()
        .any(|file| Path::new(file) == target_path)
}
