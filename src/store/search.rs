//! Searches of the log by time, built on the `Log` trait, so every backend
//! answers them the same way: the seq at a moment (`--as-of`, `history
//! --since`), and the clock repairs that date events anew (docs/guide.md
//! "Time").

use super::{EventFilter, Store};
use crate::domain::clock::RangeFacts;
use crate::domain::event::{Body, CLOCK_REPAIRED};
use crate::error::Result;

/// The clock repairs with seq in `from_seq..=to_seq` (the kind index).
fn repair_filter(from_seq: i64, to_seq: i64) -> EventFilter {
    EventFilter {
        kind: Some(CLOCK_REPAIRED.to_string()),
        from_seq,
        to_seq,
        ..EventFilter::all()
    }
}

/// A `clock_repaired` event: its seq and time, and the range it covers.
#[derive(Debug, Clone)]
pub(crate) struct LoggedRepair {
    pub seq: i64,
    pub at: String,
    pub first_seq: i64,
    pub last_seq: i64,
}

impl LoggedRepair {
    pub(crate) fn covers(&self, seq: i64) -> bool {
        (self.first_seq..=self.last_seq).contains(&seq)
    }
}

impl Store {
    /// How many events are of these kinds (from the kind index).
    pub(crate) fn count_kinds(&self, kinds: &[&str]) -> Result<u64> {
        let mut total = 0_u64;
        for kind in kinds {
            total += self.backend.count_kind(kind)?;
        }
        Ok(total)
    }

    /// The first seq whose time is at or after `time`. Events are in time
    /// order (an event a clock repair covers counts from the repair's
    /// time), so this is a binary search over seq, no index needed.
    pub(crate) fn first_seq_at_or_after(&self, time: &str) -> Result<i64> {
        self.first_seq_where_at(|at| at >= time)
    }

    /// The last seq whose time is at or before `time` (0 when none).
    pub(crate) fn last_seq_at_or_before(&self, time: &str) -> Result<i64> {
        Ok(self.first_seq_where_at(|at| at > time)? - 1)
    }

    /// The first seq from 1 whose time satisfies `past` (a predicate that,
    /// along the log, turns true once and stays true); head + 1 if none.
    fn first_seq_where_at(&self, past: impl Fn(&str) -> bool) -> Result<i64> {
        let last = self.head()?.map_or(0, |head| head.seq);
        let repairs = self.clock_repairs()?;
        self.search(1, last + 1, past, |seq| {
            match repairs.iter().find(|repair| repair.covers(seq)) {
                Some(repair) => Ok(Some(repair.at.clone())),
                None => self.backend.event_at(seq),
            }
        })
    }

    /// The first seq from `from_seq` to the head whose stored time
    /// satisfies `past` (which turns true once and stays true there: no
    /// clock repair lies in that stretch); head + 1 if none.
    pub(crate) fn first_seq_from_where_at(
        &self,
        from_seq: i64,
        past: impl Fn(&str) -> bool,
    ) -> Result<i64> {
        let last = self.head()?.map_or(0, |head| head.seq);
        self.search(from_seq.max(1), last + 1, past, |seq| {
            self.backend.event_at(seq)
        })
    }

    /// Binary search of `low..high` for the first seq whose time (`at_of`)
    /// satisfies `past`.
    fn search(
        &self,
        mut low: i64,
        mut high: i64,
        past: impl Fn(&str) -> bool,
        at_of: impl Fn(i64) -> Result<Option<String>>,
    ) -> Result<i64> {
        while low < high {
            let middle = low + (high - low) / 2;
            match at_of(middle)? {
                Some(at) if !past(&at) => low = middle + 1,
                _ => high = middle,
            }
        }
        Ok(low)
    }

    /// The log's clock repairs in seq order (docs/guide.md "Time"), read through
    /// the kind index: few, and one whose payload does not read is left to
    /// `verify` to report.
    pub(crate) fn clock_repairs(&self) -> Result<Vec<LoggedRepair>> {
        let mut repairs = Vec::new();
        self.each_event(&repair_filter(i64::MIN, i64::MAX), &mut |event| {
            if let Ok(Body::ClockRepaired(payload)) = event.body() {
                repairs.push(LoggedRepair {
                    seq: event.seq,
                    at: event.at,
                    first_seq: payload.first_seq,
                    last_seq: payload.last_seq,
                });
            }
            Ok(())
        })?;
        Ok(repairs)
    }

    /// What the log holds around the range `first_seq..=last_seq` that a
    /// clock repair names (`domain::clock::repair_problem`).
    pub(crate) fn range_facts(&self, first_seq: i64, last_seq: i64) -> Result<RangeFacts> {
        let before_first_at = match first_seq > 1 {
            true => self.backend.event_at(first_seq - 1)?,
            false => None,
        };
        let mut repairs_inside = 0;
        self.each_event(&repair_filter(first_seq, last_seq), &mut |_| {
            repairs_inside += 1;
            Ok(())
        })?;
        Ok(RangeFacts {
            before_first_at,
            first_at: self.backend.event_at(first_seq)?,
            last_at: self.backend.event_at(last_seq)?,
            repairs_inside,
        })
    }
}
