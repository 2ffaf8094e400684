//! The log on SQLite: append, head, event iteration, filters.

use super::rows::{event_from_row, EVENT_COLUMNS};
use super::Sqlite;
use crate::domain::event::{Event, EVENT_COLUMNS as LOG_COLUMNS};
use crate::domain::evolve::Change;
use crate::error::{Error, Result};
use crate::store::tables::encode;
use crate::store::{EventFilter, EventRef, Head, Log, Writes};
use rusqlite::{params, OptionalExtension};

impl Log for Sqlite {
    fn head(&self) -> Result<Option<Head>> {
        let mut statement = self
            .conn
            .prepare_cached("SELECT seq, hash, at FROM events ORDER BY seq DESC LIMIT 1")?;
        Ok(statement
            .query_row([], |row| {
                Ok(Head {
                    seq: row.get(0)?,
                    hash: row.get(1)?,
                    at: row.get(2)?,
                })
            })
            .optional()?)
    }

    fn event_count(&self) -> Result<i64> {
        Ok(self
            .conn
            .query_row("SELECT count(*) FROM events", [], |row| row.get(0))?)
    }

    fn event_at(&self, seq: i64) -> Result<Option<String>> {
        let mut statement = self
            .conn
            .prepare_cached("SELECT at FROM events WHERE seq = ?1")?;
        Ok(statement
            .query_row(params![seq], |row| row.get(0))
            .optional()?)
    }

    fn count_kind(&self, kind: &str) -> Result<u64> {
        let mut statement = self
            .conn
            .prepare_cached("SELECT count(*) FROM events WHERE kind = ?1")?;
        Ok(statement
            .query_row(params![kind], |row| row.get::<_, i64>(0))?
            .max(0) as u64)
    }

    fn repeated_event_id(&self) -> Result<Option<(String, i64, i64)>> {
        Ok(self
            .conn
            .query_row(
                "SELECT event_id, min(seq), max(seq) FROM events GROUP BY event_id HAVING count(*) > 1 ORDER BY 3 LIMIT 1",
                [],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
            )
            .optional()?)
    }

    fn each_event(
        &self,
        filter: &EventFilter,
        visit: &mut dyn FnMut(Event) -> Result<()>,
    ) -> Result<()> {
        let sql = match (&filter.subject, &filter.kind) {
            (Some(_), _) => format!(
                "SELECT {EVENT_COLUMNS} FROM event_subjects s JOIN events e ON e.seq = s.seq
                 WHERE s.subject = ?1 AND s.seq BETWEEN ?3 AND ?4 AND (?2 IS NULL OR e.kind = ?2) AND (?5 IS NULL OR e.actor = ?5) ORDER BY s.seq"
            ),
            (None, Some(_)) => format!(
                "SELECT {EVENT_COLUMNS} FROM events e WHERE ?1 IS NULL AND e.kind = ?2 AND e.seq BETWEEN ?3 AND ?4 AND (?5 IS NULL OR e.actor = ?5) ORDER BY e.seq"
            ),
            (None, None) => format!(
                "SELECT {EVENT_COLUMNS} FROM events e WHERE ?1 IS NULL AND ?2 IS NULL AND e.seq BETWEEN ?3 AND ?4 AND (?5 IS NULL OR e.actor = ?5) ORDER BY e.seq"
            ),
        };
        let mut statement = self.conn.prepare_cached(&sql)?;
        let mut rows = statement.query(params![
            filter.subject,
            filter.kind,
            filter.from_seq,
            filter.to_seq,
            filter.actor
        ])?;
        while let Some(row) = rows.next()? {
            visit(event_from_row(row)?)?;
        }
        Ok(())
    }

    fn each_event_ref(&self, visit: &mut dyn FnMut(&EventRef) -> Result<()>) -> Result<()> {
        let mut statement = self
            .conn
            .prepare("SELECT seq, event_id, at, actor, kind, payload, prev_hash, hash FROM events ORDER BY seq")?;
        let mut rows = statement.query([])?;
        while let Some(row) = rows.next()? {
            let text = |index: usize| {
                row.get_ref(index)
                    .ok()
                    .and_then(|value| value.as_str().ok())
            };
            let seq = row.get_ref(0)?.as_i64().map_err(|_| {
                Error::Integrity("the log has a seq that is not an integer".to_string())
            })?;
            // Every column after seq is text.
            let wrong_type = LOG_COLUMNS[1..]
                .iter()
                .zip(1..)
                .find(|(_, index)| text(*index).is_none())
                .map(|(name, _)| *name);
            let text = |index: usize| text(index).unwrap_or("");
            visit(&EventRef {
                wrong_type,
                seq,
                event_id: text(1),
                at: text(2),
                actor: text(3),
                kind: text(4),
                payload: text(5),
                prev_hash: text(6),
                hash: text(7),
            })?;
        }
        Ok(())
    }
}

/// The writes: the transaction that takes the write lock, the log's
/// appends, and the derived rows of a `Change` (`derived.rs` makes them).
impl Writes for Sqlite {
    /// `BEGIN IMMEDIATE`: takes the write lock now.
    fn begin_write(&self) -> Result<()> {
        assert!(
            self.past_seq.get().is_none(),
            "a view of the past is read only"
        );
        Ok(self.conn.execute_batch("BEGIN IMMEDIATE")?)
    }

    fn append(&self, event: &Event, subjects: &[String]) -> Result<()> {
        let mut statement = self.conn.prepare_cached(
            "INSERT INTO events (seq, event_id, at, actor, kind, payload, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?;
        let inserted = statement.execute(params![
            event.seq,
            event.event_id,
            event.at,
            event.actor,
            event.kind,
            event.payload,
            event.prev_hash,
            event.hash
        ])?;
        // A trigger added outside the program can swallow the insert
        // (`RAISE(IGNORE)`): then nothing may be reported as done.
        if inserted != 1 {
            return Err(Error::Integrity(format!(
                "the log did not take event {} (the storage is not as snledger made it: run snledger verify)",
                event.seq
            )));
        }
        self.add_subjects(event.seq, subjects)
    }

    fn add_subjects(&self, seq: i64, subjects: &[String]) -> Result<()> {
        let mut statement = self.conn.prepare_cached(
            "INSERT OR IGNORE INTO event_subjects (subject, seq) VALUES (?1, ?2)",
        )?;
        for subject in subjects {
            statement.execute(params![subject, seq])?;
        }
        Ok(())
    }

    fn write(&self, change: &Change) -> Result<()> {
        self.put(&encode(change))
    }
}
