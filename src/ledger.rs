//! The write path: one command becomes at most one event, sealed onto the
//! chain and written with its derived rows in one transaction (`Writer`).
//! Also `--as-of`: the store shown as it stood at a moment (`state_as_of`).

use crate::domain::decide::{decide, Command, Decision};
use crate::domain::event::{Body, Event, GENESIS_HASH};
use crate::domain::evolve::{evolve, Change};
use crate::domain::lookup::Memo;
use crate::domain::replay::{redecide, Recorded};
use crate::domain::types::{format_time, parse_time, RequestRecord, Time};
use crate::error::{Error, Reason, Result};
use crate::store::{Head, Store, Transaction, View};

pub(crate) use crate::domain::clock::CLOCK_SKEW_SECONDS;
use crate::domain::clock::{ahead_threshold, is_ahead, repair_problem, repair_time};
use crate::domain::event::ClockRepaired;

/// The time a write is dated: `--now` (or `$SNLEDGER_NOW`) when given,
/// else the reference clock.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clock {
    pub now: Time,
    /// Was `now` given by the operator (rather than read from the clock)?
    pub given: bool,
    /// The reference clock (the system clock for SQLite).
    pub reference: Time,
}

pub(crate) struct Ledger {
    pub store: Store,
    pub actor: String,
    pub clock: Clock,
}

/// What applying a command did. `A` is what the write kept of the event
/// it appended: the body on a command's path (`Writer::apply`), nothing on
/// a bulk import's (`Writer::apply_bulk`), which keeps no copy per row.
#[derive(Debug)]
pub(crate) enum Outcome<A = Body> {
    /// An event appended; with `Writer::apply`, its body as decided.
    Appended(A),
    /// A repeated request id: nothing appended, the first answer returned.
    AlreadyDone(RequestRecord),
}

/// A `clock_repaired` event appended: its seq, its time, what it covers.
#[derive(Debug)]
pub(crate) struct ClockRepair {
    pub seq: i64,
    pub at: String,
    pub repaired: ClockRepaired,
}

/// An open write transaction and the chain head as of its last append, so
/// a bulk import does not look it up once per row. Commands are applied
/// through it, so none can be applied outside a transaction; dropping it
/// without `commit` rolls everything back.
pub(crate) struct Writer<'a> {
    ledger: &'a Ledger,
    transaction: Transaction<'a>,
    head: Option<Head>,
    /// Policy and region rows read in this transaction.
    memo: Memo,
}

impl Ledger {
    pub(crate) fn new(store: Store, actor: String, clock: Clock) -> Ledger {
        Ledger {
            store,
            actor,
            clock,
        }
    }

    /// Opens a write transaction; the head is read anew inside it, since
    /// another process may have appended before.
    pub(crate) fn begin(&self) -> Result<Writer<'_>> {
        crate::store::retry::on_conflict(|| self.begin_once())
    }

    /// `begin` without retrying a lost serialization race (`execute`
    /// retries the whole command instead).
    fn begin_once(&self) -> Result<Writer<'_>> {
        let transaction = self.store.begin()?;
        let head = self.store.head()?;
        Ok(Writer {
            ledger: self,
            transaction,
            head,
            memo: Memo::default(),
        })
    }

    /// Runs one command in its own write transaction, and reads what to
    /// show of its result before committing, so the answer is the state
    /// this command made, not one a later writer changed.
    pub(crate) fn execute<T>(
        &self,
        command: &Command,
        mut read: impl FnMut(&Store, Outcome) -> Result<T>,
    ) -> Result<T> {
        // A write that lost a serialization race is run again from the
        // start (`store::retry`).
        crate::store::retry::on_conflict(|| self.execute_once(command, &mut read))
    }

    fn execute_once<T>(
        &self,
        command: &Command,
        read: &mut impl FnMut(&Store, Outcome) -> Result<T>,
    ) -> Result<T> {
        let mut writer = self.begin_once()?;
        let outcome = writer.apply(command)?;
        let answer = read(&self.store, outcome)?;
        writer.commit()?;
        Ok(answer)
    }
}

impl Writer<'_> {
    pub(crate) fn store(&self) -> &Store {
        &self.ledger.store
    }

    pub(crate) fn commit(self) -> Result<()> {
        self.transaction.commit()
    }

    /// Decides one command and, unless it was already done, appends its
    /// event with its derived rows; the outcome has the body appended.
    pub(crate) fn apply(&mut self, command: &Command) -> Result<Outcome> {
        let now = self.event_time()?;
        self.apply_at(command, now, |_, body| body.clone())
    }

    /// `apply` for a bulk import, one row at a time: whether it appended is
    /// all the import counts, so nothing of the event is kept.
    pub(crate) fn apply_bulk(&mut self, command: &Command) -> Result<Outcome<()>> {
        let now = self.event_time()?;
        self.apply_at(command, now, |_, _| ())
    }

    /// `clock repair` (docs/guide.md "Time"): a `clock_repaired` event naming the
    /// events since the last repair that are dated ahead of the reference
    /// clock, dated by that clock (or by the event before them, when it
    /// is a little later), so that times go on from the repair's.
    pub(crate) fn repair_clock(&mut self, reason: String) -> Result<ClockRepair> {
        let reference = self.ledger.clock.reference;
        let nothing = |why: String| Error::refused(Reason::NothingToRepair, why);
        let Some(head) = self.head.clone() else {
            return Err(nothing("the ledger has no events".into()));
        };
        if !is_ahead(parse_time("the last event's time", &head.at)?, reference) {
            return Err(nothing(format!(
                "the last event ({}, {}) is not more than {} minutes after this clock's {}",
                head.seq,
                head.at,
                CLOCK_SKEW_SECONDS / 60,
                format_time(reference)
            )));
        }
        let store = &self.ledger.store;
        let after = store
            .clock_repairs()?
            .last()
            .map_or(1, |repair| repair.seq + 1);
        let (first_seq, facts, repair_at) = repair_range(store, after, head.seq, reference)?
            .ok_or_else(|| {
                nothing(format!(
                    "the events dated ahead are within {} minutes of the event before them, as colleagues' clocks may be: writes go on once this clock reaches {}",
                    CLOCK_SKEW_SECONDS / 60,
                    head.at
                ))
            })?;
        let repaired = ClockRepaired {
            first_seq,
            last_seq: head.seq,
            first_claimed_at: facts.first_at.clone().unwrap_or_default(),
            last_claimed_at: facts.last_at.clone().unwrap_or_default(),
            reason,
        };
        if let Some(problem) = repair_problem(&repaired, head.seq + 1, repair_at, &facts) {
            return Err(Error::Integrity(format!(
                "clock repair: the log before it is not what a repair can cover: {problem}"
            )));
        }
        let command = Command::RepairClock(repaired.clone());
        match self.apply_at(&command, repair_at, |event, _| {
            (event.seq, event.at.clone())
        })? {
            Outcome::Appended((seq, at)) => Ok(ClockRepair { seq, at, repaired }),
            // A repair carries no request id.
            Outcome::AlreadyDone(_) => Err(Error::storage(
                "invariant broken: a clock repair is never a replay",
            )),
        }
    }

    /// Decides and appends; `keep` takes what the caller needs of the event
    /// and its body before `evolve` consumes the body.
    fn apply_at<A>(
        &mut self,
        command: &Command,
        now: Time,
        keep: impl FnOnce(&Event, &Body) -> A,
    ) -> Result<Outcome<A>> {
        let store = &self.ledger.store;
        let lookup = self.memo.over(store.lookup());
        let body = match decide(&lookup, command, now)? {
            Decision::AlreadyDone(record) => return Ok(Outcome::AlreadyDone(record)),
            Decision::Append(body) => body,
        };
        let (seq, prev_hash) = match &self.head {
            Some(head) => (head.seq + 1, head.hash.as_str()),
            None => (1, GENESIS_HASH),
        };
        let event = Event::seal(
            seq,
            uuid::Uuid::new_v4().to_string(),
            format_time(now),
            self.ledger.actor.clone(),
            &body,
            prev_hash,
        );
        store.append(&event, &body.subjects())?;
        let kept = keep(&event, &body);
        write_changes(store, &self.memo, &evolve(&lookup, body, seq)?)?;
        self.advance(&event);
        Ok(Outcome::Appended(kept))
    }

    /// Appends an event that was sealed elsewhere (`import history`) once
    /// the rules, re-deciding it, make exactly that event; with its derived
    /// rows.
    pub(crate) fn append_sealed(&mut self, event: &Event) -> Result<()> {
        let store = &self.ledger.store;
        // replay_event records the subjects.
        store.append(event, &[])?;
        replay_event(store, &self.memo, event)?;
        self.advance(event);
        Ok(())
    }

    fn advance(&mut self, event: &Event) {
        self.head = Some(Head {
            seq: event.seq,
            hash: event.hash.clone(),
            at: event.at.clone(),
        });
    }

    /// The time of the next event (docs/guide.md "Time"): never more than the
    /// allowed skew ahead of the reference clock, never before the last
    /// event, except that a clock a little behind the last event (and no
    /// time given) takes the last event's time.
    fn event_time(&self) -> Result<Time> {
        let clock = self.ledger.clock;
        let ahead = (clock.now - clock.reference).num_seconds();
        if clock.given && ahead > CLOCK_SKEW_SECONDS {
            return Err(Error::refused(
                Reason::ClockAhead,
                format!(
                    "time {} is more than {} minutes after the clock's {}: a write may not be dated in the future",
                    format_time(clock.now),
                    CLOCK_SKEW_SECONDS / 60,
                    format_time(clock.reference)
                ),
            ));
        }
        let Some(head) = &self.head else {
            return Ok(clock.now);
        };
        let last = parse_time("the last event's time", &head.at)?;
        if clock.now >= last {
            return Ok(clock.now);
        }
        if !clock.given && (last - clock.now).num_seconds() <= CLOCK_SKEW_SECONDS {
            return Ok(last);
        }
        if is_ahead(last, clock.reference) {
            return Err(Error::refused(
                Reason::ClockBackwards,
                format!(
                    "the last event ({}) is dated {}, more than {} minutes after this clock's {}: a clock far ahead wrote it; if this clock is right, run `snledger clock repair --reason TEXT`",
                    head.seq,
                    head.at,
                    CLOCK_SKEW_SECONDS / 60,
                    format_time(clock.reference)
                ),
            ));
        }
        Err(Error::refused(
            Reason::ClockBackwards,
            format!(
                "time {} is earlier than the last event's {} (event {})",
                format_time(clock.now),
                head.at,
                head.seq
            ),
        ))
    }
}

/// The range a repair covers and the repair's time, chosen as
/// `domain::clock::repair_problem` judges them: the events from `after`
/// to `last_seq` dated more than the skew after the repair's own time,
/// which is the reference clock or the event before the range when that
/// is later. A later repair time shortens the range, whose event before
/// may be later still: repeated until they agree (the range only
/// shrinks). `None` when nothing is left to cover.
fn repair_range(
    store: &Store,
    after: i64,
    last_seq: i64,
    reference: Time,
) -> Result<Option<(i64, crate::domain::clock::RangeFacts, Time)>> {
    let mut judged_at = reference;
    loop {
        let threshold = ahead_threshold(judged_at);
        let first_seq = store.first_seq_from_where_at(after, |at| at > threshold.as_str())?;
        if first_seq > last_seq {
            return Ok(None);
        }
        let facts = store.range_facts(first_seq, last_seq)?;
        let before = facts
            .before_first_at
            .as_deref()
            .map(|at| parse_time("at", at))
            .transpose()?;
        let repair_at = repair_time(reference, before);
        if repair_at == judged_at {
            return Ok(Some((first_seq, facts, repair_at)));
        }
        assert!(repair_at > judged_at, "a repair's time only moves later");
        judged_at = repair_at;
    }
}

/// Applies one event of a log to `store` as `verify` does: re-decided,
/// with its derived rows and history index rows.
fn replay_event(store: &Store, memo: &Memo, event: &Event) -> Result<()> {
    let recorded = Recorded::of(event)?;
    let subjects = recorded.body.subjects();
    write_changes(
        store,
        memo,
        &redecide(&memo.over(store.lookup()), recorded)?,
    )?;
    store.add_subjects(event.seq, &subjects)
}

/// Writes an event's derived rows; `memo` forgets what they change first.
fn write_changes(store: &Store, memo: &Memo, changes: &[Change]) -> Result<()> {
    memo.forget_if_changed(changes);
    for change in changes {
        store.write(change)?;
    }
    Ok(())
}

/// The derived state as it stood at `as_of` (all events whose time is not
/// after it), read from the store's past versions (ARCHITECTURE.md
/// "--as-of: how a past state is answered").
pub(crate) fn state_as_of(store: Store, as_of: Time) -> Result<View> {
    let cutoff = format_time(as_of);
    // Events are in time order: everything before the first later one.
    let to_seq = store.last_seq_at_or_before(&cutoff)?;
    // The views cut every table at `to_seq`: a write committed meanwhile
    // changes nothing they show.
    View::past(store, to_seq)
}
