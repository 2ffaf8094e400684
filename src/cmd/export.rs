//! `export instances [--account A] [--type T] | numbers [--instance I] [--account A]
//! [--status S] | history [-o FILE|-] [--bom] [--as-of TIME]`: CSV out,
//! streamed, with the spreadsheet-formula guard on every cell.

use super::Context;
use crate::cli::{AsOf, Format};
use crate::csvio::{instance_csv, instance_csv_row};
use crate::domain::types::*;
use crate::error::{Error, Result};
use crate::files::AtomicOutput;
use crate::render::{self, write_csv_row, EventView, NumberView, Row};
use crate::store::{EventFilter, Store, View};
use clap::Subcommand;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, Subcommand)]
pub(crate) enum ExportCommand {
    /// Every instance as an instances CSV file (the form `import instances` reads).
    #[command(after_help = crate::csvio::columns_help(
        "a header row, then one row per instance",
        instance_csv::HEADER,
        crate::cli::examples!("snledger export instances -o instances.csv"),
    ))]
    Instances(InstancesArgs),
    /// Every number as CSV.
    #[command(after_help = crate::csvio::columns_help(
        "a header row, then one row per number",
        NumberView::HEADERS,
        crate::cli::examples!("snledger export numbers --as-of 2027-01-01 -o numbers.csv"),
    ))]
    Numbers(NumbersArgs),
    /// The whole log as CSV, which `import history` and samples/verify_history.py read.
    #[command(after_help = crate::csvio::columns_help(
        "a header row, then one row per event; payload is the JSON as hashed",
        EventView::HEADERS,
        crate::cli::examples!("snledger export history -o history.csv"),
    ))]
    History(Args),
}

// What every export takes (no doc comment: clap would show it as help).
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Write to FILE (created 0600, replaced only when complete) instead of standard output.
    #[arg(short, long, value_name = "FILE", value_hint = clap::ValueHint::FilePath)]
    output: Option<PathBuf>,
    /// Begin the file with a UTF-8 byte order mark, for spreadsheet programs
    /// that need one to show Chinese text (imports accept it).
    #[arg(long)]
    bom: bool,
    #[command(flatten)]
    as_of: AsOf,
}

/// `export instances`: the filters of `instance list`.
#[derive(Debug, clap::Args)]
pub(crate) struct InstancesArgs {
    /// Only instances this account owns.
    #[arg(long, value_name = "ACCOUNT")]
    account: Option<String>,
    /// Only instances of this service type (a policy key such as ecs,
    /// cloud_web_hosting, simple_application_server, ens, linkedmall, iot_studio).
    #[arg(long = "type", value_name = "TYPE")]
    service_type: Option<String>,
    #[command(flatten)]
    common: Args,
}

/// `export numbers`: the filters of `number list`.
#[derive(Debug, clap::Args)]
pub(crate) struct NumbersArgs {
    /// Only numbers of this instance.
    #[arg(long, value_name = "INSTANCE")]
    instance: Option<String>,
    /// Only numbers this account owns or holds.
    #[arg(long, value_name = "ACCOUNT")]
    account: Option<String>,
    /// Only numbers in this status: unbound, bound, filing, filed,
    /// deregistered or invalid.
    #[arg(long, value_name = "STATUS")]
    status: Option<String>,
    #[command(flatten)]
    common: Args,
}

/// Which table an export writes, with its filters.
enum Exported {
    Instances {
        account: Option<String>,
        service_type: Option<String>,
    },
    Numbers {
        instance: Option<String>,
        account: Option<String>,
        status: Option<Status>,
    },
    History,
}

pub(crate) fn run(context: &Context, command: ExportCommand) -> Result<()> {
    let (exported, args) = exported(command)?;
    // A missing ledger is named first, as for every read.
    let live = context.read_store()?;
    if let Some(asked @ (Format::Json | Format::Table)) = context.format_given() {
        return Err(Error::usage(format!(
            "export writes CSV only (--format {asked} is not taken here); for JSON or a table use `number list`, `instance list` or `history` with --format",
        )));
    }
    let cutoff = context.optional_time("--as-of", &args.as_of.as_of)?;
    let output = args
        .output
        .as_deref()
        .filter(|path| *path != Path::new("-"));
    let destination = Destination::open(output, &context.db()?)?;
    let mut out = destination.writer()?;
    let result = if args.bom {
        out.write_all("\u{feff}".as_bytes())
            .map_err(Error::from)
            .and_then(|()| write_table(&mut out, exported, live, cutoff))
    } else {
        write_table(&mut out, exported, live, cutoff)
    };
    drop(out);
    match render::closed_pipe_is_done(result) {
        Ok(()) => destination.finish(),
        Err(error) => {
            destination.abandon();
            Err(error)
        }
    }
}

/// The table and its filters, each checked as its list command checks it.
fn exported(command: ExportCommand) -> Result<(Exported, Args)> {
    Ok(match command {
        ExportCommand::Instances(args) => {
            args.account.as_deref().map_or(Ok(()), validate_account)?;
            args.service_type
                .as_deref()
                .map_or(Ok(()), validate_service_type)?;
            let exported = Exported::Instances {
                account: args.account,
                service_type: args.service_type,
            };
            (exported, args.common)
        }
        ExportCommand::Numbers(args) => {
            args.instance
                .as_deref()
                .map_or(Ok(()), validate_instance_id)?;
            args.account.as_deref().map_or(Ok(()), validate_account)?;
            let status = args
                .status
                .as_deref()
                .map(|s| Status::parse("status", s))
                .transpose()?;
            let exported = Exported::Numbers {
                instance: args.instance,
                account: args.account,
                status,
            };
            (exported, args.common)
        }
        ExportCommand::History(args) => (Exported::History, args),
    })
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
            write_csv_row(out, &header(EventView::HEADERS))?;
            live.each_event(&filter, &mut |event| {
                Ok(write_csv_row(out, &EventView::from(event).cells())?)
            })?;
        }
        Exported::Instances {
            account,
            service_type,
        } => {
            let store = state_at(live, cutoff)?;
            let _snapshot = store.begin_read()?;
            write_csv_row(out, &header(instance_csv::HEADER))?;
            store.each_instance(&mut |instance| {
                if account.as_ref().is_some_and(|a| *a != instance.account)
                    || service_type
                        .as_ref()
                        .is_some_and(|t| *t != instance.service_type)
                {
                    return Ok(());
                }
                Ok(write_csv_row(out, &instance_csv_row(instance))?)
            })?;
        }
        Exported::Numbers {
            instance,
            account,
            status,
        } => {
            let store = state_at(live, cutoff)?;
            let _snapshot = store.begin_read()?;
            write_csv_row(out, &header(NumberView::HEADERS))?;
            store.each_number(&mut |number| {
                let wanted = instance.as_ref().is_none_or(|i| *i == number.instance_id)
                    && account
                        .as_ref()
                        .is_none_or(|a| *a == number.owner || *a == number.holder)
                    && status.is_none_or(|s| s == number.status);
                if !wanted {
                    return Ok(());
                }
                Ok(write_csv_row(out, &NumberView::from(number).cells())?)
            })?;
        }
    }
    Ok(out.flush()?)
}

/// The live store, or the state as it stood at `cutoff` (the past versions).
fn state_at(live: Store, cutoff: Option<Time>) -> Result<View> {
    match cutoff {
        Some(time) => crate::ledger::state_as_of(live, time),
        None => Ok(View::live(live)),
    }
}

/// Where an export goes: stdout, or a file renamed into place once
/// complete (`files::AtomicOutput`).
enum Destination {
    Stdout,
    File(AtomicOutput),
}

impl Destination {
    fn open(output: Option<&Path>, ledger: &Path) -> Result<Destination> {
        Ok(match output {
            None => Destination::Stdout,
            Some(target) => Destination::File(AtomicOutput::create(target, "-o", ledger)?),
        })
    }

    fn writer(&self) -> Result<Box<dyn Write>> {
        Ok(match self {
            Destination::Stdout => Box::new(std::io::BufWriter::with_capacity(
                1 << 16,
                std::io::stdout(),
            )),
            Destination::File(output) => {
                Box::new(std::io::BufWriter::with_capacity(1 << 16, output.file()?))
            }
        })
    }

    fn finish(self) -> Result<()> {
        match self {
            Destination::Stdout => Ok(()),
            Destination::File(output) => output.finish(),
        }
    }

    /// Drops the temporary file, which removes it.
    fn abandon(self) {
        drop(self);
    }
}
