//! The derived tables against the log: digests of the stored rows, and,
//! for a table whose digest differs from the rebuilt one, a row-by-row
//! comparison that names the rows and their events.

use crate::domain::digest::{Digest, PastDigests, TableDigests};
use crate::domain::event::Body;
use crate::domain::evolve::{Change, Keyed};
use crate::domain::memory::MemoryState;
use crate::domain::packed::InstanceTable;
use crate::domain::types::Instance;
use crate::error::Result;
use crate::store::{DerivedTable, Store};
use std::collections::HashMap;

/// A derived row that differs between the stored tables and a rebuild.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Disagreement {
    pub seq: Option<i64>,
    pub problem: String,
}

/// Disagreements kept at most: enough to name the first bad event.
const DISAGREEMENTS_MAX: usize = 1000;

fn digest_of(digests: &mut TableDigests, table: DerivedTable) -> &mut Digest {
    match table {
        DerivedTable::Policy => &mut digests.policy,
        DerivedTable::Instances => &mut digests.instances,
        DerivedTable::Numbers => &mut digests.numbers,
        DerivedTable::Services => &mut digests.services,
        DerivedTable::Requests => &mut digests.requests,
        DerivedTable::Regions => &mut digests.regions,
    }
}

fn add_row(digest: &mut Digest, change: &Change) {
    match change {
        Change::Policy(r) => digest.record(r),
        Change::Instance(r) => digest.record(r),
        Change::Number(r) => digest.record(r),
        Change::Service(r) => digest.record(r),
        Change::Request(r) => digest.record(r),
        Change::Region(r) => digest.record(r),
        // Never a stored row: a removal.
        Change::ForgetService { .. } => {}
    }
}

/// The digest of every stored derived table (read in the caller's
/// snapshot; `verify` does this while the log is being replayed). A row
/// that does not even read back (edited by hand) spoils its table's digest,
/// so the table is then compared row by row and the row named.
pub(super) fn digest_stored(store: &Store) -> Result<TableDigests> {
    let mut digests = TableDigests::default();
    for table in DerivedTable::ALL {
        let digest = digest_of(&mut digests, table);
        store.each_stored_row(table, &mut |row| match row {
            Ok(change) => add_row(digest, &change),
            Err(_) => digest.spoil(),
        })?;
    }
    let subjects = &mut digests.subjects;
    store.each_subject_row(&mut |row| match row {
        Some((subject, seq)) => subjects.subject(&[subject], seq),
        None => subjects.spoil(),
    })?;
    let past = &mut digests.past;
    for table in DerivedTable::ALL {
        store.each_past_row(table, &mut |row| match row {
            Some((change, superseded_seq)) => past.add(&change, superseded_seq),
            None => past_digest_of(past, table).map_or((), Digest::spoil),
        })?;
    }
    Ok(digests)
}

fn past_digest_of(digests: &mut PastDigests, table: DerivedTable) -> Option<&mut Digest> {
    match table {
        DerivedTable::Policy => Some(&mut digests.policy),
        DerivedTable::Instances => Some(&mut digests.instances),
        DerivedTable::Numbers => Some(&mut digests.numbers),
        DerivedTable::Services => Some(&mut digests.services),
        DerivedTable::Regions => Some(&mut digests.regions),
        DerivedTable::Requests => None,
    }
}

/// The past versions (`*_past`) are checked by digest only: they are never
/// held, so a table that differs is named, not its rows.
fn compare_past(fresh: &PastDigests, stored: &PastDigests) -> Vec<Disagreement> {
    let (mut fresh, mut stored) = (*fresh, *stored);
    let mut found = Vec::new();
    for table in DerivedTable::ALL {
        let (Some(fresh), Some(stored)) = (
            past_digest_of(&mut fresh, table).copied(),
            past_digest_of(&mut stored, table).copied(),
        ) else {
            continue;
        };
        if fresh != stored {
            found.push(Disagreement {
                seq: None,
                problem: format!(
                    "{}_past (the past versions --as-of reads) disagrees with the log: {} rows stored, the log gives {}",
                    table.name(),
                    stored.count,
                    fresh.count
                ),
            });
        }
    }
    found
}

/// Compares the stored derived tables (`stored`: their digests) with the
/// state rebuilt from the log. A table whose digests differ is then
/// compared row by row, to name the rows and the events.
pub(super) fn compare(
    store: &Store,
    rebuilt: &mut MemoryState,
    fresh: &TableDigests,
    stored: &TableDigests,
) -> Result<Vec<Disagreement>> {
    let mut found = Vec::new();
    let (mut fresh, mut stored) = (*fresh, *stored);
    for table in DerivedTable::ALL {
        if digest_of(&mut fresh, table) == digest_of(&mut stored, table) {
            continue;
        }
        let mut rows = Rows {
            store,
            table,
            found: &mut found,
        };
        match table {
            DerivedTable::Policy => rows.compare(&mut rebuilt.policies),
            DerivedTable::Instances => rows.compare(&mut rebuilt.instances),
            DerivedTable::Numbers => rows.compare(&mut rebuilt.numbers),
            DerivedTable::Services => rows.compare(&mut rebuilt.services),
            DerivedTable::Requests => rows.compare(&mut rebuilt.requests),
            DerivedTable::Regions => rows.compare(&mut rebuilt.regions),
        }?;
    }
    if fresh.subjects != stored.subjects {
        // Checked by digest; find the event it is off at.
        found.push(Disagreement {
            seq: first_bad_subjects(store)?,
            problem: format!(
                "event_subjects (the history index) disagrees with the log: {} rows stored, the log gives {}",
                stored.subjects.count, fresh.subjects.count
            ),
        });
    }
    found.extend(compare_past(&fresh.past, &stored.past));
    found.sort_by_key(|d| d.seq.unwrap_or(i64::MAX));
    Ok(found)
}

/// The rebuilt rows of one table, as the row-by-row comparison takes them.
trait Rebuilt<T> {
    /// Takes out the row of `key`.
    fn take(&mut self, key: &str) -> Option<T>;
    /// At most `limit` rows not taken: (key, seq).
    fn left(&self, limit: usize) -> Vec<(String, i64)>;
}

impl<T: Keyed> Rebuilt<T> for HashMap<String, T> {
    fn take(&mut self, key: &str) -> Option<T> {
        self.remove(key)
    }
    fn left(&self, limit: usize) -> Vec<(String, i64)> {
        let rows = self.iter().take(limit);
        rows.map(|(key, row)| (key.clone(), row.seq())).collect()
    }
}

impl Rebuilt<Instance> for InstanceTable {
    fn take(&mut self, key: &str) -> Option<Instance> {
        self.remove(key)
    }
    fn left(&self, limit: usize) -> Vec<(String, i64)> {
        let mut left = Vec::new();
        self.each(|row| {
            if left.len() < limit {
                left.push((row.instance_id.clone(), row.updated_seq));
            }
        });
        left
    }
}

/// One table compared row by row.
struct Rows<'a> {
    store: &'a Store,
    table: DerivedTable,
    found: &'a mut Vec<Disagreement>,
}

impl Rows<'_> {
    /// Each stored row against the rebuilt one of its key (taken out of
    /// `rebuilt`); what is left in `rebuilt` is missing from the store.
    fn compare<T: Keyed + PartialEq + std::fmt::Debug>(
        &mut self,
        rebuilt: &mut impl Rebuilt<T>,
    ) -> Result<()> {
        let name = self.table.name();
        let found = &mut *self.found;
        self.store
            .each_stored_row(self.table, &mut |row| match row {
                Ok(change) => {
                    if let Some(stored) = T::from_change(change) {
                        let rebuilt_row = rebuilt.take(stored.key());
                        compare_row(found, name, stored, rebuilt_row);
                    }
                }
                Err(bad) => {
                    let rebuilt_row = rebuilt.take(&bad.key);
                    found.push(Disagreement {
                        seq: Some(rebuilt_row.as_ref().map_or(bad.seq, T::seq).max(bad.seq)),
                        problem: format!(
                            "{name} row {} does not parse ({}); the log gives {}",
                            bad.key,
                            bad.error,
                            rebuilt_row
                                .as_ref()
                                .map_or("no row".to_string(), |row| row_text(&format!("{row:?}")))
                        ),
                    });
                }
            })?;
        for (key, seq) in rebuilt.left(DISAGREEMENTS_MAX) {
            found.push(Disagreement {
                seq: Some(seq.max(1)),
                problem: format!("{name} row {key} is missing; the log makes it"),
            });
        }
        Ok(())
    }
}

fn compare_row<T: Keyed + PartialEq + std::fmt::Debug>(
    found: &mut Vec<Disagreement>,
    table: &str,
    stored: T,
    rebuilt: Option<T>,
) {
    let key = stored.key();
    if found.len() >= DISAGREEMENTS_MAX {
        return;
    }
    match rebuilt {
        Some(rebuilt) if rebuilt == stored => {}
        Some(rebuilt) => found.push(Disagreement {
            seq: Some(stored.seq().max(rebuilt.seq()).max(1)),
            problem: format!(
                "{table} row {key}: {}",
                differences(&format!("{stored:?}"), &format!("{rebuilt:?}"))
            ),
        }),
        None => found.push(Disagreement {
            seq: Some(stored.seq().max(1)),
            problem: format!(
                "{table} row {key} is stored ({}) but no event made it",
                row_text(&format!("{stored:?}"))
            ),
        }),
    }
}

/// The fields in which two rows (as `Debug` text, `Name { a: 1, b: 2 }`)
/// differ: `b stored 3, the log gives 2`, each value spelled as the log and
/// the CSV files spell it (`unbound`, not `Unbound`). The whole rows when the
/// texts cannot be split alike.
fn differences(stored: &str, rebuilt: &str) -> String {
    let (left, right) = (debug_fields(stored), debug_fields(rebuilt));
    if left.len() != right.len() {
        return format!(
            "stored {}, the log gives {}",
            row_text(stored),
            row_text(rebuilt)
        );
    }
    let changed: Vec<String> = left
        .iter()
        .zip(&right)
        .filter(|(a, b)| a != b)
        .map(|(a, b)| {
            let (name, stored_value) = a.split_once(": ").unwrap_or(("", a));
            let logged = b.split_once(": ").map_or(b.as_str(), |(_, value)| value);
            format!(
                "{name} stored {}, the log gives {}",
                spelled(stored_value),
                spelled(logged)
            )
        })
        .collect();
    changed.join("; ")
}

/// The `name: value` parts of a row's `Debug` text.
fn debug_fields(text: &str) -> Vec<String> {
    let inner = text
        .split_once("{ ")
        .map_or(text, |(_, rest)| rest.trim_end_matches(" }"));
    inner.split(", ").map(str::to_string).collect()
}

/// A whole row as `name value, name value`, without the program's type names.
fn row_text(debug: &str) -> String {
    debug_fields(debug)
        .iter()
        .map(|field| match field.split_once(": ") {
            Some((name, value)) => format!("{name} {}", spelled(value)),
            None => spelled(field),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// One `Debug` value as the log spells it: text unquoted, `None` as
/// `(none)`, an enum variant (`PayAsYouGo`) as its text (`pay-as-you-go`).
fn spelled(value: &str) -> String {
    use crate::domain::types::{Billing, InstanceState, Origin, Status};
    if value == "None" {
        return "(none)".to_string();
    }
    if let Some(inner) = value
        .strip_prefix("Some(")
        .and_then(|v| v.strip_suffix(')'))
    {
        return spelled(inner);
    }
    if let Some(inner) = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
        return inner.to_string();
    }
    let debug_of = |text: String| text == value;
    let named = Status::ALL
        .iter()
        .find(|s| debug_of(format!("{s:?}")))
        .map(|s| s.as_str())
        .or_else(|| {
            Billing::ALL
                .iter()
                .find(|b| debug_of(format!("{b:?}")))
                .map(|b| b.as_str())
        })
        .or_else(|| {
            InstanceState::ALL
                .iter()
                .find(|s| debug_of(format!("{s:?}")))
                .map(|s| s.as_str())
        })
        .or_else(|| {
            Origin::ALL
                .iter()
                .find(|o| debug_of(format!("{o:?}")))
                .map(|o| o.as_str())
        });
    named.map_or_else(|| value.to_string(), str::to_string)
}

/// The first seq whose stored history index rows differ from what the
/// event names (only run to locate a disagreement the digest found).
pub(super) fn first_bad_subjects(store: &Store) -> Result<Option<i64>> {
    let mut stored: std::collections::BTreeMap<i64, Vec<String>> = Default::default();
    store.each_subject_row(&mut |row| {
        if let Some((subject, seq)) = row {
            stored.entry(seq).or_default().push(subject.to_string());
        }
    })?;
    let mut first = None;
    store.each_event_ref(&mut |event| {
        if first.is_none() {
            let mut named = Body::parse(event.kind, event.payload)
                .map(|body| body.subjects())
                .unwrap_or_default();
            let mut found = stored.remove(&event.seq).unwrap_or_default();
            named.sort();
            found.sort();
            if named != found {
                first = Some(event.seq);
            }
        }
        Ok(())
    })?;
    Ok(first.or_else(|| stored.keys().next().copied()))
}
