//! `import instances --sync FILE [--dry-run]`: the monthly refresh from the
//! provider's instance list (docs/guide.md "Corrections"). Each row adds a new
//! instance, renews (more months, a later expiry) and/or amends a known one
//! whose facts differ, or leaves an identical one alone; a row that would
//! shrink a subscription or break an amend rule fails, and then nothing is
//! written. The ledger's instances the file lacks are reported, never
//! released.

use super::import::{applied_line, apply, apply_rows, instance_command, path_text, Tally};
use super::Context;
use crate::csvio::{instance_csv, CsvInput};
use crate::domain::decide::Command;
use crate::domain::refresh::{amendment, renewal};
use crate::domain::types::*;
use crate::error::{Error, Result};
use crate::ledger::Writer;
use crate::render::{Answer, Table};
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;
use std::collections::HashSet;
use std::path::Path;

/// What one row does (or would do).
#[derive(Serialize)]
struct RowAction {
    line: u64,
    instance_id: String,
    action: &'static str,
    detail: String,
}

/// What the pass over the file found. `seen` holds the ids of the file
/// (to name the absent instances): memory grows with the file's distinct
/// instances, the one exception to the bounded imports (docs/guide.md
/// "Corrections").
#[derive(Default)]
struct Sync {
    seen: HashSet<String>,
    counts: [u64; 5],
    /// Every row's action, kept for `--dry-run` only.
    actions: Option<Vec<RowAction>>,
}

const ACTIONS: [&str; 5] = ["add", "renew", "amend", "renew+amend", "unchanged"];
/// The count of each of `ACTIONS` as JSON names it.
const COUNTED_AS: [&str; 5] = [
    "added",
    "renewed",
    "amended",
    "renewed_and_amended",
    "unchanged",
];

pub(super) fn run(context: &Context, file: &Path, dry_run: bool) -> Result<()> {
    let ledger = context.ledger()?;
    // expires_at without an offset is read in the operator's zone (--tz).
    let zone = context.zone()?.unwrap_or(chrono_tz::Tz::UTC);
    let header = instance_csv::HEADER;
    let mut input = CsvInput::open(file, header, &header[..instance_csv::PUBLIC_IP])?;
    let mut writer = ledger.begin()?;
    let mut sync = Sync {
        actions: dry_run.then(Vec::new),
        ..Sync::default()
    };
    let tally = apply_rows(&mut writer, &mut input, |writer, row| {
        sync.row(writer, row, zone)
    })?;
    let absent = absent(&writer, &sync.seen)?;
    if tally.failed > 0 {
        if dry_run {
            context.emit(&sync.answer(file, &tally, dry_run, absent, false))?;
        }
        return Err(Error::Import {
            failures: tally.failures,
            total: tally.failed,
        });
    }
    if dry_run {
        drop(writer); // rolls back
    } else {
        writer.commit()?;
    }
    context.emit(&sync.answer(file, &tally, dry_run, absent, true))
}

/// The ledger's instances that the file does not name, in id order.
fn absent(writer: &Writer, seen: &HashSet<String>) -> Result<Vec<String>> {
    let mut absent = Vec::new();
    writer.store().each_instance(&mut |instance| {
        if !seen.contains(&instance.instance_id) {
            absent.push(instance.instance_id);
        }
        Ok(())
    })?;
    Ok(absent)
}

impl Sync {
    /// Applies one row, noting what it did; returns its events.
    fn row(&mut self, writer: &mut Writer, row: &CsvInput, zone: chrono_tz::Tz) -> Result<u64> {
        let instance_id = row
            .optional(instance_csv::INSTANCE_ID)
            .ok()
            .flatten()
            .unwrap_or("")
            .to_string();
        let outcome = instance_command(row, zone).and_then(|command| {
            self.seen.insert(instance_id.clone());
            sync_instance(writer, command)
        });
        let (action, detail, events) = match &outcome {
            Ok((index, detail, events)) => {
                self.counts[*index] += 1;
                (ACTIONS[*index], detail.clone(), *events)
            }
            Err(error) => ("fail", format!("error[{}]: {error}", error.code()), 0),
        };
        if let Some(actions) = &mut self.actions {
            actions.push(RowAction {
                line: row.line,
                instance_id: shorten(&instance_id),
                action,
                detail,
            });
        }
        outcome.map(|_| events)
    }

    fn answer<'a>(
        self,
        file: &'a Path,
        tally: &Tally,
        dry_run: bool,
        absent: Vec<String>,
        applied: bool,
    ) -> Synced<'a> {
        Synced {
            file,
            rows: tally.rows,
            events: tally.events,
            dry_run,
            counts: Counts(self.counts),
            absent,
            actions: self.actions,
            applied,
        }
    }
}

/// What a sync did (or would do): the counts by action, the absent
/// instances, and with `--dry-run` each row's action.
#[derive(Serialize)]
struct Synced<'a> {
    #[serde(serialize_with = "path_text")]
    file: &'a Path,
    rows: u64,
    events: u64,
    dry_run: bool,
    #[serde(flatten)]
    counts: Counts,
    absent: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    actions: Option<Vec<RowAction>>,
    /// Every row applied; a dry run with failing rows shows its actions
    /// without the line of what it applied.
    #[serde(skip)]
    applied: bool,
}

/// The rows of each of `ACTIONS`, named in JSON as `COUNTED_AS`.
struct Counts([u64; 5]);

impl Serialize for Counts {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(COUNTED_AS.len()))?;
        for (name, count) in COUNTED_AS.iter().zip(self.0) {
            map.serialize_entry(name, &count)?;
        }
        map.end()
    }
}

impl Answer for Synced<'_> {
    fn table(&self) -> Table {
        let mut table = if self.dry_run {
            self.actions_table()
        } else {
            self.summary()
        };
        table.footer.push(absent_line(&self.absent));
        if self.applied {
            table.footer.push(applied_line(
                self.file,
                self.rows,
                self.events,
                self.dry_run,
            ));
        }
        table
    }
}

impl Synced<'_> {
    /// Each row's action (`--dry-run`).
    fn actions_table(&self) -> Table {
        let mut table = Table::new(&["line", "instance_id", "action", "detail"]);
        for action in self.actions.iter().flatten() {
            table.row(vec![
                action.line.to_string(),
                action.instance_id.clone(),
                action.action.to_string(),
                action.detail.clone(),
            ]);
        }
        table
    }

    /// The counts of a real run.
    fn summary(&self) -> Table {
        let mut pairs: Vec<(&str, String)> = ACTIONS
            .iter()
            .zip(self.counts.0)
            .map(|(action, count)| (*action, count.to_string()))
            .collect();
        pairs.push(("absent", self.absent.len().to_string()));
        Table::record(pairs)
    }
}

fn absent_line(absent: &[String]) -> String {
    if absent.is_empty() {
        return "absent from the file: none".to_string();
    }
    format!(
        "absent from the file (left as they are, never released): {}",
        absent.join(", ")
    )
}

/// One instance of the file against the ledger: its action (an index of
/// `ACTIONS`), what changes, and the events applied.
fn sync_instance(writer: &mut Writer, command: Command) -> Result<(usize, String, u64)> {
    let Command::AddInstance {
        instance_id,
        subscription_months,
        expires_at,
        ..
    } = &command
    else {
        // invariant: `instance_command` makes an AddInstance command.
        unreachable!("invariant: an instances row is an AddInstance command")
    };
    let Some(current) = writer.store().instance(instance_id)? else {
        let events = apply(writer, command.clone())?;
        return Ok((0, String::new(), events));
    };
    let mut detail = Vec::new();
    let mut events = 0;
    let renew = renewal(&current, *subscription_months, *expires_at)?;
    let renewed = renew.is_some();
    if let Some((renew, months)) = renew {
        detail.push(format!("+{months} months to {}", format_time(*expires_at)));
        events += apply(writer, renew)?;
    }
    let amend = amendment(&current, &command);
    let amended = amend.is_some();
    if let Some((amend, fields)) = amend {
        detail.push(fields.join(", "));
        events += apply(writer, amend)?;
    }
    let index = match (renewed, amended) {
        (false, false) => 4,
        (true, false) => 1,
        (false, true) => 2,
        (true, true) => 3,
    };
    Ok((index, detail.join("; "), events))
}
