//! The write path: one command becomes at most one event, sealed onto the
//! chain and written with its derived rows in one transaction. Also the
//! replay of a log into a scratch store (verify, `--as-of`, import history).

use crate::domain::decide::{decide, Command, Decision};
use crate::domain::event::{Event, GENESIS_HASH};
use crate::domain::evolve::{evolve, evolve_replayed};
use crate::domain::types::{format_time, RequestRecord, Time};
use crate::error::{Error, Reason, Result};
use crate::store::{EventFilter, Head, Store};

pub struct Ledger {
    pub store: Store,
    pub actor: String,
    pub now: Time,
    /// The chain head as of the last append in the open write transaction,
    /// so a bulk import does not look it up once per row: `None` outside a
    /// transaction, `Some(None)` for an empty log.
    head: std::cell::RefCell<Option<Option<Head>>>,
}

#[derive(Debug)]
pub enum Outcome {
    /// The event appended (its body: `event.body()`).
    Appended(Event),
    /// A repeated request id: nothing appended, the first answer returned.
    AlreadyDone(RequestRecord),
}

/// An allocate command carrying as many fresh numbers as it can use: none
/// when the numbers are given, else `count` (1 by default), never more
/// than one request takes (a count out of range is refused before any is
/// used).
pub fn allocate_command(
    instance_id: String,
    account: Option<String>,
    count: Option<i64>,
    numbers: Vec<String>,
    request_id: Option<String>,
) -> Command {
    let wanted = if numbers.is_empty() {
        count.unwrap_or(1)
    } else {
        0
    };
    let generated =
        fresh_numbers(wanted.clamp(0, crate::domain::types::limits::ALLOCATE_MAX as i64) as usize);
    Command::Allocate {
        instance_id,
        account,
        count,
        numbers,
        request_id,
        generated,
    }
}

/// Fresh UUID v4 strings for generated numbers.
pub fn fresh_numbers(count: usize) -> Vec<String> {
    (0..count)
        .map(|_| uuid::Uuid::new_v4().to_string())
        .collect()
}

impl Ledger {
    pub fn new(store: Store, actor: String, now: Time) -> Ledger {
        Ledger {
            store,
            actor,
            now,
            head: std::cell::RefCell::new(None),
        }
    }

    /// Opens a write transaction (`BEGIN IMMEDIATE`); the head is read anew
    /// inside it, since another process may have appended before.
    pub fn begin(&self) -> Result<crate::store::Transaction<'_>> {
        let transaction = self.store.begin()?;
        *self.head.borrow_mut() = Some(self.store.head()?);
        Ok(transaction)
    }

    /// Runs one command in its own `BEGIN IMMEDIATE` transaction, and reads
    /// what to show of its result before committing, so the answer is the
    /// state this command made, not one a later writer changed.
    pub fn execute<T>(
        &self,
        command: &Command,
        read: impl FnOnce(&Store, Outcome) -> Result<T>,
    ) -> Result<T> {
        let transaction = self.begin()?;
        let outcome = self.apply(command)?;
        let answer = read(&self.store, outcome)?;
        transaction.commit()?;
        Ok(answer)
    }

    /// Runs one command inside a write transaction opened by `begin`.
    pub fn apply(&self, command: &Command) -> Result<Outcome> {
        let body = match decide(&self.store, command, self.now)? {
            Decision::AlreadyDone(record) => return Ok(Outcome::AlreadyDone(record)),
            Decision::Append(body) => body,
        };
        let at = format_time(self.now);
        let mut loaded = self.head.borrow_mut();
        let Some(head) = loaded.as_mut() else {
            return Err(Error::storage(
                "invariant broken: a command applied outside a write transaction",
            ));
        };
        let (seq, prev_hash) = match head.as_ref() {
            Some(head) => {
                if at < head.at {
                    return Err(Error::refused(
                        Reason::ClockBackwards,
                        format!(
                            "time {at} is earlier than the last event's {} (event {})",
                            head.at, head.seq
                        ),
                    ));
                }
                (head.seq + 1, head.hash.as_str())
            }
            None => (1, GENESIS_HASH),
        };
        let event = Event::seal(
            seq,
            uuid::Uuid::new_v4().to_string(),
            at,
            self.actor.clone(),
            &body,
            prev_hash,
        );
        self.store.append(&event, &body.subjects())?;
        for change in evolve(&self.store, body, seq)? {
            self.store.write(&change)?;
        }
        *head = Some(Head {
            seq: event.seq,
            hash: event.hash.clone(),
            at: event.at.clone(),
        });
        Ok(Outcome::Appended(event))
    }
}

/// Applies one already-sealed event's derived rows to `store` (no rules,
/// only the structural checks of `evolve`).
pub fn replay_event(store: &Store, event: &Event) -> Result<()> {
    let body = event.body()?;
    let subjects = body.subjects();
    for change in evolve_replayed(store, body, event.seq)? {
        store.write(&change)?;
    }
    store.add_subjects(event.seq, &subjects)
}

/// Rebuilds the derived state as it stood at `as_of` (all events whose
/// time is not after it) in a private in-memory store.
pub fn state_as_of(store: &Store, as_of: Time) -> Result<Store> {
    let scratch = Store::scratch()?;
    let cutoff = format_time(as_of);
    let mut filter = EventFilter::all();
    // Events are in time order: everything before the first later one.
    filter.to_seq = store.last_seq_at_or_before(&cutoff)?;
    let transaction = scratch.begin()?;
    store.each_event(&filter, |event| replay_event(&scratch, &event))?;
    transaction.commit()?;
    Ok(scratch)
}
