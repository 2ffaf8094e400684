//! What a write transaction has written and not yet sent to the server,
//! and what it has read: the rules' look-ups are answered from here when
//! they can, so that a bulk import is not one round trip per look-up and
//! one per row written. Writers hold the chain head's lock, so nothing
//! read here can change under the transaction. The buffer is sent (`COPY`
//! for new rows, one upsert per changed row) before any other read, when
//! it grows past its bounds, and at commit.

use super::rows::{change_values, shape, types, Value};
use super::Postgres;
use crate::domain::event::Event;
use crate::domain::evolve::{is_superseded, Change};
use crate::error::{Error, Result};
use crate::store::tables::per_table;
use crate::store::{DerivedTable, Head};
use postgres::binary_copy::BinaryCopyInWriter;
use postgres::types::{ToSql, Type};
use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};

/// Buffered events (with their rows) sent at most at once.
const EVENTS_BUFFERED_MAX: usize = 20_000;
/// Buffered derived rows sent at most at once.
const ROWS_BUFFERED_MAX: usize = 60_000;
/// Look-ups of absent keys a transaction makes one by one before it reads
/// every key of the table once (a bulk import adds mostly new rows).
const MISSES_BEFORE_KEY_SET: u32 = 256;

/// One row known to the transaction under its exact key.
struct Slot {
    exact: String,
    /// The row, or `None` for one deleted (a service renamed away).
    row: Option<Change>,
    /// Is the row in the database? `None`: not known (written unread).
    in_database: Option<bool>,
    dirty: bool,
}

/// Every row of one look-up key (the spellings an older log may hold).
#[derive(Default)]
struct Entry {
    /// Were the database's rows of this key read (or known to be none)?
    loaded: bool,
    slots: Vec<Slot>,
}

#[derive(Default)]
struct TableCache {
    entries: HashMap<String, Entry>,
    /// Past versions to add: rows the buffer replaced (values, then the
    /// seq that superseded them).
    past: Vec<Vec<Value>>,
    /// The hash of every look-up key in the table, once read.
    keys: Option<HashSet<u64>>,
    misses: u32,
}

pub(super) struct Overlay {
    pub head: Option<Head>,
    events: Vec<Event>,
    subjects: Vec<(String, i64)>,
    subject_set: HashSet<(String, i64)>,
    tables: Vec<TableCache>,
    dirty_rows: usize,
}

pub(super) fn key_hash(key: &str) -> u64 {
    let mut hasher = std::hash::DefaultHasher::new();
    key.hash(&mut hasher);
    hasher.finish()
}

/// The live row spelled exactly as asked, else the first spelling.
fn pick(slots: &[Slot], exact: &str) -> Option<Change> {
    let live = || slots.iter().filter(|slot| slot.row.is_some());
    live()
        .find(|slot| slot.exact == exact)
        .or_else(|| live().min_by(|a, b| a.exact.cmp(&b.exact)))
        .and_then(|slot| slot.row.clone())
}

fn change_values_of(change: &Change) -> Option<Vec<Value>> {
    change_values(change).3
}

/// A past version's row: the row's values, then the seq that superseded it.
fn past_row(mut values: Vec<Value>, superseded_seq: i64) -> Vec<Value> {
    values.push(Value::Integer(superseded_seq));
    values
}

/// What one send writes to one table.
#[derive(Default)]
pub(super) struct TableWrites {
    /// Past versions: the rows this send's writes replace.
    pub past: Vec<Vec<Value>>,
    pub copies: Vec<Vec<Value>>,
    pub upserts: Vec<Vec<Value>>,
    pub deletes: Vec<String>,
}

impl Overlay {
    pub(super) fn new(head: Option<Head>) -> Overlay {
        Overlay {
            head,
            events: Vec::new(),
            subjects: Vec::new(),
            subject_set: HashSet::new(),
            tables: DerivedTable::ALL
                .iter()
                .map(|_| TableCache::default())
                .collect(),
            dirty_rows: 0,
        }
    }

    pub(super) fn is_dirty(&self) -> bool {
        !self.events.is_empty() || !self.subjects.is_empty() || self.dirty_rows > 0
    }

    pub(super) fn is_full(&self) -> bool {
        self.events.len() >= EVENTS_BUFFERED_MAX || self.dirty_rows >= ROWS_BUFFERED_MAX
    }

    pub(super) fn append(&mut self, event: &Event) {
        self.head = Some(Head {
            seq: event.seq,
            hash: event.hash.clone(),
            at: event.at.clone(),
        });
        self.events.push(event.clone());
    }

    /// Buffers a history index row; `false` when its event was sent
    /// already (the caller writes it at once).
    pub(super) fn add_subject(&mut self, subject: &str, seq: i64) -> bool {
        let first_buffered = self.events.first().map_or(i64::MAX, |event| event.seq);
        if seq < first_buffered {
            return false;
        }
        let key = (subject.to_string(), seq);
        if self.subject_set.insert(key.clone()) {
            self.subjects.push(key);
        }
        true
    }

    /// The answer to a look-up if the transaction knows it.
    pub(super) fn cached(
        &self,
        table: DerivedTable,
        folded: &str,
        exact: &str,
    ) -> Option<Option<Change>> {
        let cache = &self.tables[table.index()];
        match cache.entries.get(folded) {
            Some(entry) if entry.loaded => Some(pick(&entry.slots, exact)),
            found => {
                let absent = cache
                    .keys
                    .as_ref()
                    .is_some_and(|keys| !keys.contains(&key_hash(folded)));
                absent.then(|| found.and_then(|entry| pick(&entry.slots, exact)))
            }
        }
    }

    /// Records the database's rows of a look-up key; rows the transaction
    /// wrote before stay as written.
    pub(super) fn load(&mut self, table: DerivedTable, folded: &str, rows: Vec<(String, Change)>) {
        let cache = &mut self.tables[table.index()];
        cache.misses += u32::from(rows.is_empty());
        let entry = cache.entries.entry(folded.to_string()).or_default();
        for (exact, row) in rows {
            match entry.slots.iter_mut().find(|slot| slot.exact == exact) {
                Some(slot) => slot.in_database = Some(true),
                None => entry.slots.push(Slot {
                    exact,
                    row: Some(row),
                    in_database: Some(true),
                    dirty: false,
                }),
            }
        }
        for slot in &mut entry.slots {
            slot.in_database.get_or_insert(false);
        }
        entry.loaded = true;
    }

    /// Should the table's key set be read now?
    pub(super) fn wants_keys(&self, table: DerivedTable) -> bool {
        let cache = &self.tables[table.index()];
        cache.keys.is_none() && cache.misses >= MISSES_BEFORE_KEY_SET
    }

    pub(super) fn set_keys(&mut self, table: DerivedTable, keys: HashSet<u64>) {
        self.tables[table.index()].keys = Some(keys);
    }

    /// Buffers one derived row (insert, replace or delete), and the past
    /// version of the row it replaces (`evolve::is_superseded`).
    #[cfg(test)]
    pub(super) fn write(&mut self, change: &Change) {
        self.write_keyed(change, change_values(change));
    }

    /// `write`, given the change's `change_values` (the store computed
    /// them for its look-up: once per row of an import).
    pub(super) fn write_keyed(
        &mut self,
        change: &Change,
        (table, exact, folded, values): (DerivedTable, String, String, Option<Vec<Value>>),
    ) {
        let row = values.map(|_| change.clone());
        let seq = change.seq();
        let keeps_past = table.keeps_past();
        let cache = &mut self.tables[table.index()];
        let known_absent = cache
            .keys
            .as_ref()
            .is_some_and(|keys| !keys.contains(&key_hash(&folded)));
        let entry = cache.entries.entry(folded).or_default();
        if known_absent {
            entry.loaded = true;
        }
        let loaded = entry.loaded;
        match entry.slots.iter_mut().find(|slot| slot.exact == exact) {
            Some(slot) => {
                let replaced = slot
                    .row
                    .as_ref()
                    .filter(|old| is_superseded(old.seq(), seq));
                if let Some(past) = replaced.filter(|_| keeps_past).and_then(change_values_of) {
                    cache.past.push(past_row(past, seq));
                }
                self.dirty_rows += usize::from(!slot.dirty);
                slot.row = row;
                slot.dirty = true;
            }
            None => {
                // invariant: the store reads a key before it writes one
                // (`DerivedRows::write`), so a row it replaces is here.
                assert!(loaded || !keeps_past, "a write of a key not read");
                self.dirty_rows += 1;
                entry.slots.push(Slot {
                    exact,
                    row,
                    in_database: loaded.then_some(false),
                    dirty: true,
                });
            }
        }
    }

    /// Takes everything buffered for sending; what stays is the key sets
    /// (with the keys of the rows about to be written).
    pub(super) fn take(&mut self) -> (Vec<Event>, Vec<(String, i64)>, Vec<TableWrites>) {
        let events = std::mem::take(&mut self.events);
        let subjects = std::mem::take(&mut self.subjects);
        self.subject_set.clear();
        self.dirty_rows = 0;
        let mut writes = Vec::new();
        for cache in &mut self.tables {
            let mut table = TableWrites {
                past: std::mem::take(&mut cache.past),
                ..TableWrites::default()
            };
            for (folded, entry) in cache.entries.drain() {
                for slot in entry.slots.into_iter().filter(|slot| slot.dirty) {
                    let values = slot.row.as_ref().and_then(|row| change_values(row).3);
                    match (values, slot.in_database) {
                        (None, Some(false)) => {}
                        (None, _) => table.deletes.push(slot.exact),
                        (Some(values), Some(false)) => table.copies.push(values),
                        (Some(values), _) => table.upserts.push(values),
                    }
                }
                if let Some(keys) = &mut cache.keys {
                    keys.insert(key_hash(&folded));
                }
            }
            cache.misses = 0;
            writes.push(table);
        }
        (events, subjects, writes)
    }
}

impl Postgres {
    /// Sends the buffer: the events and their index rows by `COPY`, then
    /// each table's deletes, changed rows and new rows, then the chain head.
    pub(super) fn send(&self, overlay: &mut Overlay) -> Result<()> {
        let (events, subjects, writes) = overlay.take();
        self.copy_events(&events)?;
        let subject_rows: Vec<Vec<Value>> = subjects
            .into_iter()
            .map(|(subject, seq)| vec![Value::Text(subject.into()), Value::Integer(seq)])
            .collect();
        self.copy(
            "event_subjects",
            "subject, seq",
            &[Type::TEXT, Type::INT8],
            &subject_rows,
        )?;
        for (table, writes) in DerivedTable::ALL.iter().zip(writes) {
            let shape = shape(*table);
            self.copy_past(*table, &writes.past)?;
            for key in &writes.deletes {
                let sql = format!("DELETE FROM {} WHERE {} = $1", shape.name, shape.key);
                self.execute(&sql, &[key])?;
            }
            let upsert = upsert_statement(*table);
            for values in &writes.upserts {
                let params: Vec<&(dyn ToSql + Sync)> = values.iter().map(Value::as_sql).collect();
                self.execute(upsert, &params)?;
            }
            self.copy(shape.name, shape.columns, &types(*table), &writes.copies)?;
        }
        if let Some(last) = events.last() {
            self.execute(
                "UPDATE chain_head SET seq = $1, hash = $2, at = $3 WHERE id = 1",
                &[&last.seq, &last.hash, &last.at],
            )?;
        }
        Ok(())
    }

    /// Adds past versions a replay made (migration 10), by `COPY`.
    pub(super) fn add_past(&self, versions: &[(Change, i64)]) -> Result<()> {
        let mut rows: Vec<Vec<Vec<Value>>> = DerivedTable::ALL.iter().map(|_| Vec::new()).collect();
        for (change, superseded_seq) in versions {
            let (table, _, _, values) = change_values(change);
            // invariant: a past version is a row (a removal replaces none).
            let values = values.expect("a past version is a row");
            rows[table.index()].push(past_row(values, *superseded_seq));
        }
        for (table, rows) in DerivedTable::ALL.into_iter().zip(rows) {
            if !rows.is_empty() {
                self.copy_past(table, &rows)?;
            }
        }
        Ok(())
    }

    /// Adds past versions the buffer knows (rows it replaced) by `COPY`.
    fn copy_past(&self, table: DerivedTable, rows: &[Vec<Value>]) -> Result<()> {
        let shape = shape(table);
        let mut types = types(table);
        types.push(Type::INT8);
        let columns = format!("{}, superseded_seq", shape.columns);
        self.copy(&format!("{}_past", shape.name), &columns, &types, rows)?;
        Ok(())
    }

    fn copy_events(&self, events: &[Event]) -> Result<()> {
        let rows: Vec<Vec<Value>> = events
            .iter()
            .map(|event| {
                vec![
                    Value::Integer(event.seq),
                    Value::Text(event.event_id.clone().into()),
                    Value::Text(event.at.clone().into()),
                    Value::Text(event.actor.clone().into()),
                    Value::Text(event.kind.clone().into()),
                    Value::Text(event.payload.clone().into()),
                    Value::Text(event.prev_hash.clone().into()),
                    Value::Text(event.hash.clone().into()),
                ]
            })
            .collect();
        let types = [
            Type::INT8,
            Type::TEXT,
            Type::TEXT,
            Type::TEXT,
            Type::TEXT,
            Type::TEXT,
            Type::TEXT,
            Type::TEXT,
        ];
        let written = self.copy("events", super::rows::EVENT_COLUMNS, &types, &rows)?;
        // A trigger added outside the program can swallow rows: then
        // nothing may be reported as done.
        if written != rows.len() as u64 {
            let first = events.first().map_or(0, |event| event.seq);
            return Err(Error::Integrity(format!(
                "the log did not take event {first} and those after it (the storage is not as snledger made it: run snledger verify)"
            )));
        }
        Ok(())
    }

    /// `COPY ... FROM STDIN (FORMAT binary)`: how many rows were written.
    fn copy(&self, table: &str, columns: &str, types: &[Type], rows: &[Vec<Value>]) -> Result<u64> {
        if rows.is_empty() {
            return Ok(0);
        }
        let mut client = self.client.borrow_mut();
        let sql = format!("COPY {table} ({columns}) FROM STDIN (FORMAT binary)");
        let mut writer = BinaryCopyInWriter::new(client.copy_in(&sql)?, types);
        for row in rows {
            let params: Vec<&(dyn ToSql + Sync)> = row.iter().map(Value::as_sql).collect();
            writer.write(&params)?;
        }
        Ok(writer.finish()?)
    }
}

/// Insert or replace one row by its key (a request is only ever inserted).
fn upsert_sql(table: DerivedTable) -> String {
    let shape = shape(table);
    let columns: Vec<&str> = shape.columns.split(", ").collect();
    let insert = format!("INSERT {}", shape.insert_target(|n| format!("${n}")));
    if table == DerivedTable::Requests {
        return insert;
    }
    let updates: Vec<String> = columns
        .iter()
        .filter(|column| **column != shape.key)
        .map(|column| format!("{column} = EXCLUDED.{column}"))
        .collect();
    format!(
        "{insert} ON CONFLICT ({}) DO UPDATE SET {}",
        shape.key,
        updates.join(", ")
    )
}

/// `upsert_sql` of `table`, made once per run.
pub(super) fn upsert_statement(table: DerivedTable) -> &'static str {
    static TEXTS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    per_table(&TEXTS, table, upsert_sql)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::regions::Region;

    fn region(region_id: &str, updated_seq: i64) -> Change {
        Change::Region(Region {
            region_id: region_id.to_string(),
            mainland: true,
            updated_seq,
        })
    }

    /// The region table's past rows of one send: (key, updated_seq,
    /// superseded_seq).
    fn regions_past_sent(overlay: &mut Overlay) -> Vec<(String, i64, i64)> {
        let (_, _, mut writes) = overlay.take();
        let writes = writes.remove(DerivedTable::Regions.index());
        writes
            .past
            .iter()
            .map(|row| match (&row[0], &row[2], &row[3]) {
                (Value::Text(key), Value::Integer(updated), Value::Integer(superseded)) => {
                    (key.to_string(), *updated, *superseded)
                }
                other => panic!("not a region past row: {other:?}"),
            })
            .collect()
    }

    #[test]
    fn every_version_an_earlier_event_wrote_is_kept_even_within_one_send() {
        let mut overlay = Overlay::new(None);
        let stored = vec![("cn-x".to_string(), region("cn-x", 2))];
        overlay.load(DerivedTable::Regions, "cn-x", stored);
        overlay.load(DerivedTable::Regions, "cn-new", Vec::new());
        for seq in [5, 7, 7, 9] {
            overlay.write(&region("cn-x", seq));
        }
        overlay.write(&region("cn-new", 9));
        let key = || "cn-x".to_string();
        assert_eq!(
            regions_past_sent(&mut overlay),
            vec![(key(), 2, 5), (key(), 5, 7), (key(), 7, 9)],
            "the stored row and each buffered one; a version made and replaced within event 7 is not kept, a new row replaces nothing"
        );
        assert!(regions_past_sent(&mut overlay).is_empty(), "sent once");
    }

    #[test]
    #[should_panic(expected = "a write of a key not read")]
    fn a_write_of_a_key_not_read_is_a_bug_not_a_lost_version() {
        Overlay::new(None).write(&region("cn-x", 5));
    }
}
