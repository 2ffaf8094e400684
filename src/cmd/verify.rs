//! `verify`: re-check the hash chain from seq 1 and rebuild every derived
//! table from the log alone, then compare with the stored tables.

use super::Context;
use crate::domain::event::GENESIS_HASH;
use crate::domain::memory::MemoryState;
use crate::domain::types::{format_time, parse_time};
use crate::error::{Error, Result};
use crate::render::Table;
use crate::store::{EventFilter, Store};
use serde_json::json;
use std::collections::HashSet;

/// Problems listed at most (the count of events checked is always exact).
const PROBLEMS_MAX: usize = 100;

#[derive(Debug, Default)]
pub struct Report {
    pub events: i64,
    pub problems: Vec<(Option<i64>, String)>,
}

impl Report {
    fn problem(&mut self, seq: Option<i64>, message: String) {
        if self.problems.len() < PROBLEMS_MAX {
            self.problems.push((seq, message));
        }
    }

    pub fn first_bad_seq(&self) -> Option<i64> {
        self.problems.iter().filter_map(|(seq, _)| *seq).min()
    }
}

pub fn check(store: &Store) -> Result<Report> {
    let mut report = Report::default();
    let _snapshot = store.begin_read()?;
    if !store.triggers_present()? {
        report.problem(
            None,
            "the append-only triggers on events are missing".to_string(),
        );
    }
    let mut rebuilt = MemoryState::new();
    let mut expected_seq = 1_i64;
    let mut prev_hash = GENESIS_HASH.to_string();
    let mut prev_at = String::new();
    let mut event_ids = HashSet::new();
    store.each_event(&EventFilter::all(), |event| {
        report.events += 1;
        let seq = event.seq;
        if seq != expected_seq {
            report.problem(Some(expected_seq.min(seq)), format!("seq {expected_seq} expected, found {seq} (an event is missing or out of place)"));
        }
        if event.prev_hash != prev_hash {
            report.problem(Some(seq), format!("event {seq}: prev_hash does not link to the previous event"));
        }
        if event.computed_hash() != event.hash {
            report.problem(Some(seq), format!("event {seq}: hash does not match its contents"));
        }
        match parse_time("at", &event.at) {
            Ok(at) if format_time(at) == event.at => {
                if event.at < prev_at {
                    report.problem(Some(seq), format!("event {seq}: time {} is earlier than the previous {}", event.at, prev_at));
                }
            }
            _ => report.problem(Some(seq), format!("event {seq}: 'at' is not a canonical UTC time")),
        }
        match uuid::Uuid::parse_str(&event.event_id) {
            Ok(id) if id.get_version_num() == 4 => {
                if !event_ids.insert(id.as_u128()) {
                    report.problem(Some(seq), format!("event {seq}: event_id {} appears twice", event.event_id));
                }
            }
            _ => report.problem(Some(seq), format!("event {seq}: event_id is not a UUID v4")),
        }
        if let Err(error) = rebuilt.replay(&event) {
            let message = match error {
                Error::Integrity(message) if message.starts_with("event ") => message,
                other => format!("event {seq}: {other}"),
            };
            report.problem(Some(seq), message);
        }
        expected_seq = seq + 1;
        prev_hash = event.hash;
        prev_at = event.at;
        Ok(())
    })?;
    for disagreement in store.compare_derived(rebuilt)? {
        // The history index is checked by digest; find the event it is off at.
        let seq = match disagreement.seq {
            Some(seq) => Some(seq),
            None => first_bad_subjects(store)?,
        };
        report.problem(seq, disagreement.problem);
    }
    Ok(report)
}

/// The first seq whose stored history index rows differ from what the
/// event names.
fn first_bad_subjects(store: &Store) -> Result<Option<i64>> {
    let mut stored = store.subjects_by_seq()?;
    let mut first = None;
    store.each_event(&EventFilter::all(), |event| {
        if first.is_none() {
            let mut named = event.body().map(|body| body.subjects()).unwrap_or_default();
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

pub fn run(context: &Context) -> Result<()> {
    let store = context.store()?;
    let report = check(&store)?;
    let ok = report.problems.is_empty();
    let first_bad_seq = report.first_bad_seq();
    let problems: Vec<&str> = report.problems.iter().map(|(_, p)| p.as_str()).collect();
    let json = json!({"ok": ok, "events": report.events, "first_bad_seq": first_bad_seq, "problems": problems});
    let mut table = Table::record(vec![
        ("ok", ok.to_string()),
        ("events", report.events.to_string()),
        (
            "first_bad_seq",
            first_bad_seq.map(|s| s.to_string()).unwrap_or_default(),
        ),
    ]);
    table.footer = problems.iter().map(|p| format!("problem: {p}")).collect();
    context.emit(&json, table)?;
    if ok {
        Ok(())
    } else {
        Err(Error::Integrity(format!(
            "the ledger fails verification: first bad event {}; {} problem(s)",
            first_bad_seq.map_or("unknown".to_string(), |s| s.to_string()),
            problems.len()
        )))
    }
}
