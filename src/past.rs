//! Answers about the past, read from the log through the `Store` interface
//! only (so on every backend): the fast path of `instance show`, `number
//! show` and `service show` with `--as-of` (the events of one instance, from
//! the history index: `domain/past.rs`), and `diff` (one replay into memory).
//! Lists, reports and exports with `--as-of` rebuild the whole state
//! (`ledger::state_as_of`).

use crate::domain::diff::{RowDiff, Tracker};
use crate::domain::event::{broken, Body, Event};
use crate::domain::memory::MemoryState;
use crate::domain::names::{canonical_service, service_key};
use crate::domain::past::{needed_by, number_instance, Past};
use crate::domain::replay::{replay_as_logged, Recorded};
use crate::domain::types::NumberRecord;
use crate::error::Result;
use crate::store::{EventFilter, Store};

/// The kinds every past replays whatever the instance: the tables the
/// rules read besides the instance's own rows.
const TABLE_KINDS: [&str; 2] = ["policy_set", "region_set"];

/// The events of `filter` up to `to_seq`, as (seq, body).
fn events(store: &Store, mut filter: EventFilter, to_seq: i64) -> Result<Vec<(i64, Body)>> {
    filter.to_seq = to_seq;
    let mut found = Vec::new();
    store.each_event(&filter, &mut |event| {
        let body = event.body().map_err(|e| broken(event.seq, e.to_string()))?;
        found.push((event.seq, body));
        Ok(())
    })?;
    Ok(found)
}

/// The rows `instances` own (and the policy and region tables) as they
/// stood after event `to_seq`, in memory, where the show commands read
/// them through `Lookup` as they read the live ledger. `instances` are
/// spelled as the ledger spells them.
pub(crate) fn instances_at(
    store: &Store,
    instances: &[String],
    to_seq: i64,
) -> Result<MemoryState> {
    let mut wanted: Vec<(i64, Body)> = Vec::new();
    for instance_id in instances {
        let mut filter = EventFilter::all();
        filter.subject = Some(format!("i:{instance_id}"));
        wanted.extend(events(store, filter, to_seq)?);
    }
    for kind in TABLE_KINDS {
        let mut filter = EventFilter::all();
        filter.kind = Some(kind.to_string());
        wanted.extend(events(store, filter, to_seq)?);
    }
    // Several instances may share an event (a grant names one, a move two).
    wanted.sort_by_key(|(seq, _)| *seq);
    wanted.dedup_by_key(|(seq, _)| *seq);
    let mut past = Past::new();
    for (seq, body) in wanted {
        if needed_by(&body, instances) {
            past.apply(store.lookup(), seq, body)?;
        }
    }
    Ok(past.state)
}

/// The instances whose numbers `service` was bound to up to `to_seq`
/// (usually one): every owner its row had, so the latest write wins.
pub(crate) fn service_owners(store: &Store, service: &str, to_seq: i64) -> Result<Vec<String>> {
    let mut filter = EventFilter::all();
    filter.subject = Some(format!("s:{service}"));
    let mut owners: Vec<String> = Vec::new();
    for (_, body) in events(store, filter, to_seq)? {
        if let Some(owner) = number_instance(&body) {
            if !owners.iter().any(|known| known == owner) {
                owners.push(owner.to_string());
            }
        }
    }
    Ok(owners)
}

/// How the history index spells a service: as the live ledger has it, else
/// (a name renamed away since) as the rename that took it away had it,
/// else in its canonical form.
pub(crate) fn service_spelling(store: &Store, given: &str) -> Result<String> {
    let canonical = canonical_service(given)?;
    if let Some(found) = store.service(&canonical)? {
        return Ok(found.service);
    }
    let key = service_key(&canonical);
    let mut filter = EventFilter::all();
    filter.kind = Some("service_renamed".to_string());
    let mut spelled = None;
    store.each_event(&filter, &mut |event| {
        if let Ok(Body::ServiceRenamed(p)) = event.body() {
            if spelled.is_none() && service_key(&p.service) == key {
                spelled = Some(p.service);
            }
        }
        Ok(())
    })?;
    Ok(spelled.unwrap_or(canonical))
}

/// Whether a number (as the live ledger has it) existed after `to_seq`.
pub(crate) fn existed(number: &NumberRecord, to_seq: i64) -> bool {
    number.issued_seq <= to_seq
}

/// Every instance, number and service row that differs between the state
/// after event `from_seq` and the state after `to_seq`: one replay of the
/// log to `to_seq` into memory, re-deciding each event as `verify` does,
/// keeping the rows the events after `from_seq` write as they stood before.
pub(crate) fn diff(store: &Store, from_seq: i64, to_seq: i64) -> Result<Vec<RowDiff>> {
    assert!(from_seq <= to_seq, "diff from a later moment");
    let mut state = MemoryState::new();
    let mut tracker = Tracker::default();
    let mut filter = EventFilter::all();
    filter.to_seq = to_seq;
    store.each_event(&filter, &mut |event| {
        replay_tracked(&mut state, &mut tracker, from_seq, event)
    })?;
    Ok(tracker.finish(&state))
}

fn replay_tracked(
    state: &mut MemoryState,
    tracker: &mut Tracker,
    from_seq: i64,
    event: Event,
) -> Result<()> {
    let seq = event.seq;
    let (changes, problem) = replay_as_logged(state, Recorded::of(&event)?);
    if let Some(problem) = problem {
        return Err(problem);
    }
    for change in changes {
        if seq > from_seq {
            tracker.note(state, &change);
        }
        state.apply(change);
    }
    Ok(())
}
