//! `export instances | numbers | history [-o FILE] [--as-of TIME]`: CSV out,
//! streamed, with the spreadsheet-formula guard on every cell.

use super::Context;
use crate::cli::ExportCommand;
use crate::domain::types::*;
use crate::error::{Error, Result};
use crate::render::{self, write_csv_row};
use crate::store::{create_private_file, EventFilter, Store};
use std::io::Write;
use std::path::{Path, PathBuf};

pub const INSTANCE_COLUMNS: [&str; 9] = [
    "instance_id",
    "service_type",
    "account",
    "region",
    "billing",
    "subscription_months",
    "expires_at",
    "public_ip",
    "order_amount",
];

pub fn run(context: &Context, command: ExportCommand) -> Result<()> {
    let (output, as_of) = match &command {
        ExportCommand::Instances { output, as_of }
        | ExportCommand::Numbers { output, as_of }
        | ExportCommand::History { output, as_of } => (output.clone(), as_of.clone()),
    };
    let live = context.store()?;
    let cutoff = as_of
        .as_of
        .as_deref()
        .map(|t| parse_time("--as-of", t))
        .transpose()?;
    let destination = Destination::open(output.as_deref(), &context.db())?;
    let mut out = destination.writer()?;
    let io = |e: std::io::Error| Error::storage(format!("cannot write output: {e}"));
    let header = |columns: &[&str]| columns.iter().map(|c| c.to_string()).collect::<Vec<_>>();
    let result = (|| -> Result<()> {
        match command {
            ExportCommand::History { .. } => {
                let _snapshot = live.begin_read()?;
                let mut filter = EventFilter::all();
                if let Some(cutoff) = cutoff {
                    filter.to_seq = live.last_seq_at_or_before(&format_time(cutoff))?;
                }
                write_csv_row(&mut out, &header(&render::EVENT_HEADERS)).map_err(io)?;
                live.each_event(&filter, |event| {
                    write_csv_row(&mut out, &render::event_row(&event)).map_err(io)
                })?;
            }
            ExportCommand::Instances { .. } => {
                let store = view(live, cutoff)?;
                let _snapshot = store.begin_read()?;
                write_csv_row(&mut out, &header(&INSTANCE_COLUMNS)).map_err(io)?;
                store.each_instance(|i| {
                    let row = vec![
                        i.instance_id,
                        i.service_type,
                        i.account,
                        i.region,
                        i.billing.to_string(),
                        i.subscription_months.to_string(),
                        i.expires_at,
                        i.public_ip.unwrap_or_default(),
                        i.order_amount_fen.map(format_fen).unwrap_or_default(),
                    ];
                    write_csv_row(&mut out, &row).map_err(io)
                })?;
            }
            ExportCommand::Numbers { .. } => {
                let store = view(live, cutoff)?;
                let _snapshot = store.begin_read()?;
                write_csv_row(&mut out, &header(&render::NUMBER_HEADERS)).map_err(io)?;
                store.each_number(|number| {
                    write_csv_row(&mut out, &render::number_row(&number)).map_err(io)
                })?;
            }
        }
        out.flush().map_err(io)
    })();
    drop(out);
    match result {
        Err(Error::Storage(message)) if message.contains("Broken pipe") => Ok(()),
        Ok(()) => destination.finish(),
        Err(error) => {
            destination.abandon();
            Err(error)
        }
    }
}

fn view(live: Store, cutoff: Option<Time>) -> Result<Store> {
    match cutoff {
        Some(time) => crate::ledger::state_as_of(&live, time),
        None => Ok(live),
    }
}

/// Where an export goes: stdout, or a file written beside its target and
/// renamed over it only once complete, so a failed export never leaves a
/// half-written or emptied file. A new file is mode 0600; an existing one
/// keeps the mode its owner gave it.
enum Destination {
    Stdout,
    File { temporary: PathBuf, target: PathBuf },
}

impl Destination {
    fn open(output: Option<&Path>, ledger: &Path) -> Result<Destination> {
        let Some(target) = output else {
            return Ok(Destination::Stdout);
        };
        if target.is_dir() {
            return Err(Error::usage(format!(
                "-o {}: is a directory",
                target.display()
            )));
        }
        if let (Ok(target_path), Ok(ledger_path)) = (target.canonicalize(), ledger.canonicalize()) {
            let ledger_files =
                ["", "-wal", "-shm"].map(|suffix| format!("{}{suffix}", ledger_path.display()));
            if ledger_files
                .iter()
                .any(|file| Path::new(file) == target_path)
            {
                return Err(Error::usage(format!(
                    "-o {}: that is the ledger itself",
                    target.display()
                )));
            }
        }
        let name = target
            .file_name()
            .map_or("export".into(), |n| n.to_string_lossy().into_owned());
        let temporary = target.with_file_name(format!(".{name}.{}.partial", std::process::id()));
        let file = create_private_file(&temporary)?;
        if let Ok(metadata) = std::fs::metadata(target) {
            let _ = file.set_permissions(metadata.permissions());
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
                let file = std::fs::OpenOptions::new()
                    .write(true)
                    .open(temporary)
                    .map_err(|e| {
                        Error::storage(format!("cannot write {}: {e}", temporary.display()))
                    })?;
                Box::new(std::io::BufWriter::with_capacity(1 << 16, file))
            }
        })
    }

    fn finish(self) -> Result<()> {
        if let Destination::File { temporary, target } = &self {
            std::fs::rename(temporary, target)
                .map_err(|e| Error::storage(format!("cannot write {}: {e}", target.display())))?;
        }
        Ok(())
    }

    fn abandon(self) {
        if let Destination::File { temporary, .. } = self {
            let _ = std::fs::remove_file(temporary);
        }
    }
}
