//! The chain check: each row of the log against the one before it (seq,
//! link, hash, time, event id). One check for `verify` and for
//! `import history`; each caller turns a `LinkProblem` into its message and
//! exit code.

use crate::domain::event::{canonical_event_id, chain_hash, CLOCK_REPAIRED, GENESIS_HASH};
use crate::domain::types::{format_time, parse_time};
use crate::store::EventRef;

/// What is wrong with one row of the log, given the rows before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LinkProblem {
    /// A column holds a value that is not of its type (a BLOB for text).
    WrongType { column: &'static str },
    /// The row's seq is not the next one.
    SeqOutOfPlace { expected: i64 },
    /// `prev_hash` is not the previous row's hash.
    BrokenLink,
    /// `hash` is not the hash of the row's own contents.
    HashMismatch,
    /// `at` is not a canonical UTC time.
    TimeNotCanonical,
    /// `at` is earlier than the previous row's.
    TimeBackwards { previous: String },
    /// `event_id` is not a UUID v4 in lowercase hyphenated form.
    EventIdNotCanonical,
}

/// The chain as read so far: what the next row must link to.
#[derive(Debug, Clone)]
pub(crate) struct Chain {
    pub expected_seq: i64,
    pub prev_hash: String,
    pub prev_at: String,
}

impl Default for Chain {
    fn default() -> Chain {
        Chain {
            expected_seq: 1,
            prev_hash: GENESIS_HASH.to_string(),
            prev_at: String::new(),
        }
    }
}

impl Chain {
    /// Checks one row, in the order the problems are reported, then moves
    /// on to it (the next row links to this one's stated hash, so one bad
    /// row reports once instead of breaking every row after it). Returns
    /// the row's event id as a number when it is canonical.
    pub(crate) fn check(
        &mut self,
        event: &EventRef,
        problems: &mut Vec<LinkProblem>,
    ) -> Option<u128> {
        if let Some(column) = event.wrong_type {
            problems.push(LinkProblem::WrongType { column });
        }
        if event.seq != self.expected_seq {
            problems.push(LinkProblem::SeqOutOfPlace {
                expected: self.expected_seq,
            });
        }
        if event.prev_hash != self.prev_hash {
            problems.push(LinkProblem::BrokenLink);
        }
        let computed = chain_hash(
            event.prev_hash,
            event.seq,
            event.event_id,
            event.at,
            event.actor,
            event.kind,
            event.payload,
        );
        if computed != event.hash {
            problems.push(LinkProblem::HashMismatch);
        }
        self.check_time(event.at, event.kind == CLOCK_REPAIRED, problems);
        let event_id = canonical_event_id(event.event_id);
        if event_id.is_none() {
            problems.push(LinkProblem::EventIdNotCanonical);
        }
        self.expected_seq = event.seq + 1;
        self.prev_hash.clear();
        self.prev_hash.push_str(event.hash);
        self.prev_at.clear();
        self.prev_at.push_str(event.at);
        event_id
    }

    /// A clock repair is dated by a correct clock, so it may be earlier
    /// than the events it covers (`verify::clock` checks it instead).
    fn check_time(&self, at: &str, is_repair: bool, problems: &mut Vec<LinkProblem>) {
        // A time equal to the previous event's was checked with it (a bulk
        // import gives millions of events one time).
        let canonical = (at == self.prev_at && !self.prev_at.is_empty())
            || parse_time("at", at).is_ok_and(|time| format_time(time) == at);
        if !canonical {
            problems.push(LinkProblem::TimeNotCanonical);
        } else if at < self.prev_at.as_str() && !is_repair {
            problems.push(LinkProblem::TimeBackwards {
                previous: self.prev_at.clone(),
            });
        }
    }
}
