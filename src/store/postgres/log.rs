//! The log on PostgreSQL: append (buffered, sent by `COPY`), head, event
//! iteration page by page along seq, filters.

use super::overlay::Overlay;
use super::rows::change_values;
use super::rows::{event_from_row, EVENT_COLUMNS};
use super::Postgres;
use crate::domain::event::Event;
use crate::domain::evolve::Change;
use crate::error::Result;
use crate::store::{EventFilter, EventRef, Head, Log, Writes};
use postgres::types::ToSql;

const PAGE_ROWS: i64 = super::derived::PAGE_ROWS;

impl Log for Postgres {
    fn head(&self) -> Result<Option<Head>> {
        if let Some(overlay) = self.overlay.borrow().as_ref() {
            return Ok(overlay.head.clone());
        }
        self.last_event_head()
    }

    fn event_count(&self) -> Result<i64> {
        self.flush()?;
        Ok(self.query_one("SELECT count(*) FROM events", &[])?.get(0))
    }

    fn event_at(&self, seq: i64) -> Result<Option<String>> {
        self.flush()?;
        let row = self.query_opt("SELECT at FROM events WHERE seq = $1", &[&seq])?;
        Ok(row.map(|row| row.get(0)))
    }

    fn count_kind(&self, kind: &str) -> Result<u64> {
        self.flush()?;
        let count: i64 = self
            .query_one("SELECT count(*) FROM events WHERE kind = $1", &[&kind])?
            .get(0);
        Ok(count.max(0) as u64)
    }

    fn repeated_event_id(&self) -> Result<Option<(String, i64, i64)>> {
        self.flush()?;
        let row = self.query_opt(
            "SELECT event_id, min(seq), max(seq) FROM events GROUP BY event_id HAVING count(*) > 1 ORDER BY 3 LIMIT 1",
            &[],
        )?;
        Ok(row.map(|row| (row.get(0), row.get(1), row.get(2))))
    }

    fn each_event(
        &self,
        filter: &EventFilter,
        visit: &mut dyn FnMut(Event) -> Result<()>,
    ) -> Result<()> {
        let columns = "e.seq, e.event_id, e.at, e.actor, e.kind, e.payload, e.prev_hash, e.hash";
        let conditions = "e.seq > $3 AND e.seq <= $4 AND ($2::text IS NULL OR e.kind = $2) AND ($5::text IS NULL OR e.actor = $5)";
        let sql = match &filter.subject {
            Some(_) => format!(
                "SELECT {columns} FROM event_subjects s JOIN events e ON e.seq = s.seq
                 WHERE s.subject = $1 AND s.seq > $3 AND s.seq <= $4 AND {conditions} ORDER BY s.seq LIMIT {PAGE_ROWS}"
            ),
            None => format!(
                "SELECT {columns} FROM events e WHERE $1::text IS NULL AND {conditions} ORDER BY e.seq LIMIT {PAGE_ROWS}"
            ),
        };
        let after = filter.from_seq.max(i64::MIN + 1) - 1;
        let fixed = |after: i64| -> Vec<Box<dyn ToSql + Sync>> {
            vec![
                Box::new(filter.subject.clone()),
                Box::new(filter.kind.clone()),
                Box::new(after),
                Box::new(filter.to_seq),
                Box::new(filter.actor.clone()),
            ]
        };
        self.each_page(
            &sql,
            fixed(after),
            &|row| fixed(row.get::<_, i64>(0)),
            &mut |row| visit(event_from_row(row)?),
        )
    }

    fn each_event_ref(&self, visit: &mut dyn FnMut(&EventRef) -> Result<()>) -> Result<()> {
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE seq > $1 ORDER BY seq LIMIT {PAGE_ROWS}"
        );
        self.each_page(
            &sql,
            vec![Box::new(i64::MIN)],
            &|row| vec![Box::new(row.get::<_, i64>(0))],
            &mut |row| {
                let text = |index: usize| row.get::<_, &str>(index);
                visit(&EventRef {
                    // Every column is typed by the server.
                    wrong_type: None,
                    seq: row.get(0),
                    event_id: text(1),
                    at: text(2),
                    actor: text(3),
                    kind: text(4),
                    payload: text(5),
                    prev_hash: text(6),
                    hash: text(7),
                })
            },
        )
    }
}

/// The writes: the transaction that takes the write lock, the log's
/// appends, and the derived rows of a `Change` (`derived.rs` makes them).
impl Writes for Postgres {
    /// `BEGIN`, then the chain head's row lock: writers queue here, so the
    /// state the rules read cannot change before commit. A lost
    /// serialization race at the lock (a database whose default isolation
    /// is stricter than read committed) is `Error::Conflict`, which the
    /// writer retries (`store::retry`).
    fn begin_write(&self) -> Result<()> {
        self.batch("BEGIN")?;
        match self.lock_head() {
            Ok(head) => {
                *self.overlay.borrow_mut() = Some(Overlay::new(head));
                Ok(())
            }
            Err(error) => {
                let _ = self.batch("ROLLBACK");
                Err(error)
            }
        }
    }

    fn append(&self, event: &Event, subjects: &[String]) -> Result<()> {
        let full = match self.overlay.borrow().as_ref() {
            Some(overlay) => overlay.is_full(),
            None => false,
        };
        if full {
            self.flush()?;
        }
        let buffered = match self.overlay.borrow_mut().as_mut() {
            Some(overlay) => {
                overlay.append(event);
                true
            }
            None => false,
        };
        if !buffered {
            // Appends happen in write transactions; this is the plain path.
            let sql = format!(
                "INSERT INTO events ({EVENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
            );
            self.execute(
                &sql,
                &[
                    &event.seq,
                    &event.event_id,
                    &event.at,
                    &event.actor,
                    &event.kind,
                    &event.payload,
                    &event.prev_hash,
                    &event.hash,
                ],
            )?;
        }
        self.add_subjects(event.seq, subjects)
    }

    fn add_subjects(&self, seq: i64, subjects: &[String]) -> Result<()> {
        for subject in subjects {
            let buffered = match self.overlay.borrow_mut().as_mut() {
                Some(overlay) => overlay.add_subject(subject, seq),
                None => false,
            };
            if !buffered {
                self.execute(
                    "INSERT INTO event_subjects (subject, seq) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                    &[subject, &seq],
                )?;
            }
        }
        Ok(())
    }

    fn write(&self, change: &Change) -> Result<()> {
        // The row a write replaces is kept as a past version, so the buffer
        // must know it: the rules have read it already (a look-up answered
        // from the buffer), except where a write needs no rule.
        let keyed = change_values(change);
        let (table, exact, folded, _) = &keyed;
        if table.keeps_past() && self.overlay.borrow().is_some() {
            self.look_up(*table, folded, exact)?;
        }
        let full = {
            let mut guard = self.overlay.borrow_mut();
            match guard.as_mut() {
                Some(overlay) => {
                    overlay.write_keyed(change, keyed);
                    overlay.is_full()
                }
                None => {
                    drop(guard);
                    return self.write_direct(change);
                }
            }
        };
        if full {
            self.flush()?;
        }
        Ok(())
    }
}
