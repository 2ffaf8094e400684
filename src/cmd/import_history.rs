//! `import history`: each row of a history file checked against the chain
//! as `verify` checks it, then re-decided and written (docs/guide.md "Portable
//! history").

use crate::csvio::CsvInput;
use crate::domain::event::{Event, KINDS};
use crate::domain::types::shorten;
use crate::domain::types::Time;
use crate::error::{Error, Reason, Result};
use crate::ledger::Writer;
use crate::store::{EventRef, Store};
use crate::verify::chain::{Chain, LinkProblem};
use crate::verify::clock::ClockScan;
use crate::verify::describe;

/// The chain as the history file builds it.
pub(super) struct History {
    chain: Chain,
    /// Taken by `check_clock` once every row is in.
    clock: Option<ClockScan>,
    rows: i64,
    /// A row failed: the rest are checked but not written (the import
    /// fails anyway, and on PostgreSQL an event after a gap is refused by
    /// the database, which would end the transaction before the report).
    failed: bool,
}

impl History {
    /// `reference` is the clock the events' times are checked against.
    pub(super) fn new(reference: Time) -> History {
        History {
            chain: Chain::default(),
            clock: Some(ClockScan::new(reference)),
            rows: 0,
            failed: false,
        }
    }

    /// Once every row is written: events dated ahead of the reference
    /// clock and the clock repairs, checked as `verify` checks them.
    pub(super) fn check_clock(&mut self, store: &Store) -> Result<()> {
        let Some(scan) = self.clock.take() else {
            return Ok(());
        };
        match scan.finish(store)?.into_iter().next() {
            Some((_, message)) => Err(Error::Integrity(message)),
            None => Ok(()),
        }
    }

    /// Checks one history row against the chain so far and writes it with
    /// its derived rows.
    pub(super) fn apply(&mut self, writer: &mut Writer, row: &CsvInput) -> Result<u64> {
        let applied = self.apply_row(writer, row);
        self.failed |= applied.is_err();
        applied
    }

    fn apply_row(&mut self, writer: &mut Writer, row: &CsvInput) -> Result<u64> {
        let seq_text = row.get(0)?;
        let seq: i64 = seq_text.parse().map_err(|_| {
            Error::usage(format!(
                "seq: '{}' is not a whole number",
                shorten(seq_text)
            ))
        })?;
        let event = Event {
            seq,
            event_id: row.get(1)?.to_string(),
            at: row.get(2)?.to_string(),
            actor: row.get(3)?.to_string(),
            kind: row.get(4)?.to_string(),
            payload: row.get(5)?.to_string(),
            prev_hash: row.get(6)?.to_string(),
            hash: row.get(7)?.to_string(),
        };
        // Checked again inside the write transaction: another process may
        // have written since the first look.
        if self.rows == 0 && writer.store().head()?.is_some() {
            return Err(Error::refused(
                Reason::AlreadyExists,
                "import history needs an empty ledger; this one has events",
            ));
        }
        self.rows += 1;
        let mut problems = Vec::new();
        self.chain.check(&event_ref(&event), &mut problems);
        if let Some(problem) = problems.first() {
            return Err(link_error(problem, &event));
        }
        if !KINDS.contains(&event.kind.as_str()) {
            return Err(Error::Integrity(format!(
                "event {seq}: unknown kind '{}'",
                shorten(&event.kind)
            )));
        }
        if let Some(clock) = &mut self.clock {
            clock.push(seq, &event.kind, &event.at, &event.payload);
        }
        if self.failed {
            return Ok(0);
        }
        writer.append_sealed(&event).map(|()| 1)
    }
}

fn event_ref(event: &Event) -> EventRef<'_> {
    EventRef {
        wrong_type: None,
        seq: event.seq,
        event_id: &event.event_id,
        at: &event.at,
        actor: &event.actor,
        kind: &event.kind,
        payload: &event.payload,
        prev_hash: &event.prev_hash,
        hash: &event.hash,
    }
}

/// A chain problem, reported as `verify` reports it.
fn link_error(problem: &LinkProblem, event: &Event) -> Error {
    Error::Integrity(describe(problem, &event_ref(event)).1)
}
