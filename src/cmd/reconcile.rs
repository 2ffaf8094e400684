//! `reconcile FILE [--record] [--emit-ops OUT] [--as-of TIME]`: compare the
//! ledger with the provider's service-number records (docs/reconcile.md "Reconciling
//! with the provider"). A read: it never creates a ledger; `--record`
//! appends one `reconciled` event. Exit 0 in sync, 1 with differences.

use super::Context;
use crate::cli::AsOf;
use crate::csvio::{open_file, ops_csv};
use crate::domain::decide::Command;
use crate::domain::event::Reconciled;
use crate::domain::reconcile::{
    Book, ByInstance, ByNumber, Comparison, LedgerSide, NumberMatch, Op, Outcome, ProviderSide,
};
use crate::domain::types::{Instance, Policy};
use crate::error::{Error, Result};
use crate::files::{shown_path, AtomicOutput};
use crate::provider::{read_records, FileSummary};
use crate::render::{json_text, write_csv_row, Answer, Table};
use crate::spill::Sorter;
use crate::store::View;
use serde::Serialize;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n  snledger reconcile samples/provider/in-sync.json\n  \
    snledger reconcile provider.csv --emit-ops fix.csv && snledger import ops fix.csv\n\n\
    Exit 0 when in sync, 1 when there are differences, 2 for a malformed file."
)]
pub(crate) struct Args {
    /// The provider's records: GetBsnByResource JSON, a JSON array or JSON Lines of BsnPopDO, or CSV (sn,status,beian_num,ali_uid,resource_id,resource_type); `-` reads standard input.
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// Append one `reconciled` event: the file's SHA-256 and size, and the count of each class.
    #[arg(long)]
    record: bool,
    /// Write an ops CSV of the changes the ledger can express, for review and `import ops`.
    #[arg(long, value_name = "OUT")]
    emit_ops: Option<PathBuf>,
    #[command(flatten)]
    as_of: AsOf,
}

pub(crate) fn run(context: &Context, args: Args) -> Result<()> {
    if args.as_of.as_of.is_some() && (args.record || args.emit_ops.is_some()) {
        return Err(Error::usage(
            "--as-of compares with the past: it cannot be combined with --record or --emit-ops",
        ));
    }
    let view = context.view(&args.as_of)?;
    let now = context.now()?;
    let ops_output = match &args.emit_ops {
        Some(out) => Some(AtomicOutput::create(out, "--emit-ops", &context.db()?)?),
        None => None,
    };
    let source = open_source(&args.file)?;
    let (outcome, summary) = compare(&view, source, &args.file, now)?;
    if let Some(output) = ops_output {
        write_ops(output, &outcome.ops)?;
    }
    drop(view);
    if args.record {
        let command = Command::Reconcile(Reconciled {
            file_sha256: summary.sha256.clone(),
            file_size_bytes: i64::try_from(summary.size_bytes).unwrap_or(i64::MAX),
            numbers: outcome.numbers,
            instances: outcome.instances,
            differences: outcome.counts(),
        });
        context.ledger()?.execute(&command, |_, _| Ok(()))?;
    }
    let footer = summary_lines(&outcome, args.emit_ops.as_deref());
    let answer = Reconciliation::new(&outcome, footer);
    context.emit(&answer)?;
    if !answer.in_sync {
        // Like `diff`: differences are exit 1, not an error (nothing else
        // to print); the output above is flushed.
        std::process::exit(1);
    }
    Ok(())
}

fn open_source(file: &Path) -> Result<Box<dyn Read>> {
    if file == Path::new("-") {
        return Ok(Box::new(std::io::stdin()));
    }
    Ok(open_file(file)?.0)
}

/// Reads the file once, then compares within one read snapshot of the
/// ledger: the records sorted by number beside one walk of the ledger's
/// numbers, then what that found sorted by instance (docs/reconcile.md "Reconciling
/// with the provider"). Both sorts hold a bounded amount in memory and
/// spill the rest to temporary files.
fn compare(
    view: &View,
    source: Box<dyn Read>,
    file: &Path,
    now: crate::domain::types::Time,
) -> Result<(Outcome, FileSummary)> {
    let _snapshot = view.begin_read()?;
    let mut by_number = Sorter::<ByNumber>::default();
    let mut ordinal = 0_u64;
    let summary = read_records(source, file, &mut |record| {
        by_number.push(ByNumber::new(ordinal, record))?;
        ordinal += 1;
        Ok(())
    })?;
    let mut by_instance = Sorter::<ByInstance>::default();
    let mut matching = NumberMatch::new(by_number.sorted()?)?;
    view.each_number_folded(&mut |number, instance| {
        matching.ledger(number, instance, &mut |entry| by_instance.push(entry))
    })?;
    let numbers = matching.finish(&mut |entry| by_instance.push(entry))?;
    let book = StoreBook(view);
    let mut comparison = Comparison::new(now);
    for entry in by_instance.sorted()? {
        comparison.entry(&book, entry?)?;
    }
    Ok((comparison.finish(numbers), summary))
}

/// The store as the comparison reads it. Its look-ups ignore ASCII case
/// (docs/guide.md "Names: one thing, one spelling"), so names the provider spells
/// in another case are found.
struct StoreBook<'a>(&'a View);

impl Book for StoreBook<'_> {
    fn instance(&self, instance_id: &str) -> Result<Option<Instance>> {
        self.0.instance(instance_id)
    }
    fn policy(&self, service_type: &str) -> Result<Option<Policy>> {
        self.0.policy(service_type)
    }
    fn mainland(&self, region_id: &str) -> Result<bool> {
        crate::domain::regions::is_mainland(self.0.lookup(), region_id)
    }
}

/// `reconcile`'s answer: whether in sync, what was compared, and each
/// difference with what each side says.
#[derive(Serialize)]
struct Reconciliation<'a> {
    in_sync: bool,
    compared: Compared,
    differences: Vec<DifferenceView<'a>>,
    /// What was compared and what the ops cover, under the table.
    #[serde(skip)]
    footer: Vec<String>,
}

#[derive(Serialize)]
struct Compared {
    numbers: i64,
    instances: i64,
}

#[derive(Serialize)]
struct DifferenceView<'a> {
    class: &'static str,
    number: &'a Option<String>,
    instance_id: &'a str,
    ledger: &'a Option<LedgerSide>,
    provider: &'a Option<ProviderSide>,
}

impl<'a> Reconciliation<'a> {
    fn new(outcome: &'a Outcome, footer: Vec<String>) -> Reconciliation<'a> {
        let differences = outcome
            .differences
            .iter()
            .map(|difference| DifferenceView {
                class: difference.class.code(),
                number: &difference.number,
                instance_id: &difference.instance_id,
                ledger: &difference.ledger,
                provider: &difference.provider,
            })
            .collect();
        Reconciliation {
            in_sync: outcome.differences.is_empty(),
            compared: Compared {
                numbers: outcome.numbers,
                instances: outcome.instances,
            },
            differences,
            footer,
        }
    }
}

impl Answer for Reconciliation<'_> {
    /// Each side's cell is its JSON, as the JSON output has it.
    fn table(&self) -> Table {
        fn side(value: &Option<impl Serialize>) -> String {
            value
                .as_ref()
                .map_or_else(String::new, |value| json_text(value).unwrap_or_default())
        }
        let mut table = Table::new(&["class", "number", "instance_id", "ledger", "provider"]);
        for difference in &self.differences {
            table.row(vec![
                difference.class.to_string(),
                difference.number.clone().unwrap_or_default(),
                difference.instance_id.to_string(),
                side(difference.ledger),
                side(difference.provider),
            ]);
        }
        table.footer = self.footer.clone();
        table
    }
}

/// The lines under the table: what was compared, and what the ops cover.
fn summary_lines(outcome: &Outcome, emit_ops: Option<&Path>) -> Vec<String> {
    let found = outcome.differences.len();
    let mut lines = vec![format!(
        "{} number(s) on {} instance(s) compared: {}",
        outcome.numbers,
        outcome.instances,
        if found == 0 {
            "in sync".to_string()
        } else {
            format!("{found} difference(s)")
        }
    )];
    if let Some(out) = emit_ops {
        let left = outcome.differences.iter().filter(|d| !d.expressed).count();
        lines.push(format!(
            "{} op(s) written to {}; {left} difference(s) the ledger cannot express",
            outcome.ops.len(),
            shown_path(out)
        ));
    }
    lines
}

/// One op as a row of an ops file.
fn op_row(op: &Op) -> Vec<String> {
    let mut row = vec![String::new(); ops_csv::HEADER.len()];
    let mut set = |index: usize, value: &str| row[index] = value.to_string();
    match op {
        Op::Allocate {
            instance_id,
            number,
            request_id,
        } => {
            set(ops_csv::OP, "allocate");
            set(ops_csv::INSTANCE_ID, instance_id);
            set(ops_csv::NUMBER, number);
            set(ops_csv::REQUEST_ID, request_id);
        }
        Op::Submit { number } => {
            set(ops_csv::OP, "submit");
            set(ops_csv::NUMBER, number);
        }
        Op::Approve { number, icp_number } => {
            set(ops_csv::OP, "approve");
            set(ops_csv::NUMBER, number);
            set(ops_csv::ICP_NUMBER, icp_number);
        }
        Op::Invalidate { number, reason } => {
            set(ops_csv::OP, "invalidate");
            set(ops_csv::NUMBER, number);
            set(ops_csv::REASON, reason);
        }
    }
    row
}

/// Writes the ops file through an `AtomicOutput` made before the
/// comparison (so a bad target is refused before any work).
fn write_ops(output: AtomicOutput, ops: &[Op]) -> Result<()> {
    {
        let mut writer = std::io::BufWriter::new(output.file()?);
        let header: Vec<String> = ops_csv::HEADER.iter().map(|c| c.to_string()).collect();
        write_csv_row(&mut writer, &header)?;
        for op in ops {
            write_csv_row(&mut writer, &op_row(op))?;
        }
        writer.flush()?;
    }
    output.finish()
}
