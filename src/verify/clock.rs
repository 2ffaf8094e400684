//! The log's clock (docs/guide.md "Time"): an event dated more than the skew
//! after the reference clock of `verify` or `import history` must be
//! covered by a later `clock_repaired` event, and each repair must name
//! exactly the run of events before it that its own time finds ahead
//! (`domain::clock::repair_problem`). One scan for both callers: it sees
//! every row in order, then checks the few repairs against the store.

use crate::domain::clock::{ahead_threshold, repair_problem, CLOCK_SKEW_SECONDS};
use crate::domain::event::{Body, ClockRepaired, CLOCK_REPAIRED};
use crate::domain::types::{format_time, parse_time, Time};
use crate::error::Result;
use crate::store::Store;

/// A repair as the scan saw it: its seq, time and payload, and the event
/// dated ahead before it (since the repair before) that it must cover.
struct SeenRepair {
    seq: i64,
    at: String,
    payload: String,
    ahead_before: Option<(i64, String)>,
}

/// The rows seen so far, as far as the clock is concerned.
pub(crate) struct ClockScan {
    reference: Time,
    /// Stored times later than this are ahead of the reference clock.
    threshold: String,
    /// The first event since the last repair dated ahead, with its time.
    ahead: Option<(i64, String)>,
    repairs: Vec<SeenRepair>,
    /// Repairs themselves dated ahead: nothing later can cover them.
    repairs_ahead: Vec<(i64, String)>,
}

impl ClockScan {
    pub(crate) fn new(reference: Time) -> ClockScan {
        ClockScan {
            reference,
            threshold: ahead_threshold(reference),
            ahead: None,
            repairs: Vec::new(),
            repairs_ahead: Vec::new(),
        }
    }

    /// Takes one row of the log, in seq order.
    pub(crate) fn push(&mut self, seq: i64, kind: &str, at: &str, payload: &str) {
        let is_ahead = at > self.threshold.as_str();
        if kind == CLOCK_REPAIRED {
            self.repairs.push(SeenRepair {
                seq,
                at: at.to_string(),
                payload: payload.to_string(),
                ahead_before: self.ahead.take(),
            });
            if is_ahead {
                self.repairs_ahead.push((seq, at.to_string()));
            }
        } else if is_ahead && self.ahead.is_none() {
            self.ahead = Some((seq, at.to_string()));
        }
    }

    /// Every problem, as (seq, message), in seq order: events dated ahead
    /// that no repair covers, and repairs that are not what `clock repair`
    /// makes of the log before them (checked against `store`, which holds
    /// every row pushed).
    pub(crate) fn finish(self, store: &Store) -> Result<Vec<(i64, String)>> {
        let mut problems = Vec::new();
        for seen in &self.repairs {
            let Ok(Body::ClockRepaired(repair)) = Body::parse(CLOCK_REPAIRED, &seen.payload) else {
                continue; // the replay reports a payload that does not read
            };
            if let Some((ahead_seq, ahead_at)) = &seen.ahead_before {
                if *ahead_seq < repair.first_seq {
                    problems.push(self.uncovered(*ahead_seq, ahead_at));
                }
            }
            if let Some(problem) = check_repair(store, &repair, seen.seq, &seen.at)? {
                problems.push((seen.seq, problem));
            }
        }
        for (seq, at) in self.repairs_ahead.iter().chain(&self.ahead) {
            problems.push(self.uncovered(*seq, at));
        }
        problems.sort_by_key(|(seq, _)| *seq);
        Ok(problems)
    }

    fn uncovered(&self, seq: i64, at: &str) -> (i64, String) {
        (
            seq,
            format!(
                "event {seq}: clock_ahead: dated {at}, more than {} minutes after this clock's {}, and no later clock_repaired event covers it (a clock far ahead wrote it: `snledger clock repair`)",
                CLOCK_SKEW_SECONDS / 60,
                format_time(self.reference)
            ),
        )
    }
}

/// A repair re-decided against the log before it.
fn check_repair(
    store: &Store,
    repair: &ClockRepaired,
    seq: i64,
    at: &str,
) -> Result<Option<String>> {
    let Ok(repair_at) = parse_time("at", at) else {
        return Ok(None); // the chain check reports a time that does not read
    };
    let facts = store.range_facts(repair.first_seq, repair.last_seq)?;
    Ok(repair_problem(repair, seq, repair_at, &facts)
        .map(|problem| format!("event {seq}: clock_repaired: {problem}")))
}
