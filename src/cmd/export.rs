//! `export instances | numbers | history [-o FILE] [--as-of TIME]`: CSV out,
//! streamed, with the spreadsheet-formula guard on every cell.

use super::history::write_csv_row;
use super::Context;
use crate::cli::ExportCommand;
use crate::domain::types::*;
use crate::error::{Error, Result};
use crate::render;
use crate::store::{create_private_file, EventFilter, Store};
use std::io::Write;
use std::path::PathBuf;

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
    let mut out = open_output(&output)?;
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
                for number in store.numbers(None, None, None)? {
                    write_csv_row(&mut out, &render::number_row(&number)).map_err(io)?;
                }
            }
        }
        out.flush().map_err(io)
    })();
    match result {
        Err(Error::Storage(message)) if message.contains("Broken pipe") => Ok(()),
        other => other,
    }
}

fn view(live: Store, cutoff: Option<Time>) -> Result<Store> {
    match cutoff {
        Some(time) => crate::ledger::state_as_of(&live, time),
        None => Ok(live),
    }
}

/// stdout, or a file; a new file is created with mode 0600, an existing one
/// keeps the mode its owner gave it.
fn open_output(output: &Option<PathBuf>) -> Result<Box<dyn Write>> {
    Ok(match output {
        None => Box::new(std::io::BufWriter::with_capacity(
            1 << 16,
            std::io::stdout(),
        )),
        Some(path) => {
            let file = if path.exists() {
                std::fs::OpenOptions::new()
                    .write(true)
                    .truncate(true)
                    .open(path)
                    .map_err(|e| Error::storage(format!("cannot write {}: {e}", path.display())))?
            } else {
                create_private_file(path)?
            };
            Box::new(std::io::BufWriter::with_capacity(1 << 16, file))
        }
    })
}
