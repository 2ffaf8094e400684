//! Clock faults (docs/guide.md "Time"): a write may be dated at most a few
//! minutes after the reference clock, and an event a clock far ahead dated
//! in the future is either covered by a later `clock_repaired` event or an
//! integrity failure. The rule a repair must obey is here, once, for
//! `clock repair` (which builds one and checks it) and for `verify` and
//! `import history` (which re-check it against the log).

use super::event::ClockRepaired;
use super::types::{format_time, parse_time, Time};

/// How far a write may be dated ahead of the reference clock, and how far
/// the reference clock may lag the last event before a write without a
/// given time is refused (colleagues' clocks differ by that much).
pub(crate) const CLOCK_SKEW_SECONDS: i64 = 5 * 60;

/// Is `at` dated more than the allowed skew after `reference`?
pub(crate) fn is_ahead(at: Time, reference: Time) -> bool {
    (at - reference).num_seconds() > CLOCK_SKEW_SECONDS
}

/// The latest stored time that is not ahead of `reference`: stored times
/// are canonical RFC 3339 UTC, so they compare as text against it.
pub(crate) fn ahead_threshold(reference: Time) -> String {
    format_time(reference + chrono::Duration::seconds(CLOCK_SKEW_SECONDS))
}

/// The time a repair is dated: the reference clock, or the time of the
/// last event before the repaired range when that is later (a clock a
/// little behind, as for any write without a given time).
pub(crate) fn repair_time(reference: Time, before_first_at: Option<Time>) -> Time {
    before_first_at.map_or(reference, |before| before.max(reference))
}

/// What the log holds around a repair's range, read from the store.
#[derive(Debug, Clone, Default)]
pub(crate) struct RangeFacts {
    /// The time of the event just before the range (none for seq 1).
    pub before_first_at: Option<String>,
    /// The stored times of the range's first and last events.
    pub first_at: Option<String>,
    pub last_at: Option<String>,
    /// `clock_repaired` events inside the range.
    pub repairs_inside: u64,
}

/// Why the repair at `repair_seq`, dated `repair_at`, is not what
/// `clock repair` makes of the log before it; `None` when it is. A repair
/// names exactly the run of events before it that are dated more than the
/// skew after its own time, and the times they claim.
pub(crate) fn repair_problem(
    repair: &ClockRepaired,
    repair_seq: i64,
    repair_at: Time,
    facts: &RangeFacts,
) -> Option<String> {
    let (first, last) = (repair.first_seq, repair.last_seq);
    if last != repair_seq - 1 {
        return Some(format!(
            "it names events {first} to {last}, but the events before it end at {}",
            repair_seq - 1
        ));
    }
    if facts.first_at.as_deref() != Some(repair.first_claimed_at.as_str()) {
        return Some(format!(
            "it says event {first} claimed {}, the log has {}",
            repair.first_claimed_at,
            facts.first_at.as_deref().unwrap_or("no such event")
        ));
    }
    if facts.last_at.as_deref() != Some(repair.last_claimed_at.as_str()) {
        return Some(format!(
            "it says event {last} claimed {}, the log has {}",
            repair.last_claimed_at,
            facts.last_at.as_deref().unwrap_or("no such event")
        ));
    }
    if facts.repairs_inside > 0 {
        return Some(format!(
            "events {first} to {last} hold a clock_repaired event"
        ));
    }
    range_bounds_problem(repair, repair_at, facts)
}

/// The range starts at the first event dated ahead of the repair's time
/// (times do not decrease inside it, so every later one is ahead too), and
/// the repair is not dated before the event just before the range.
fn range_bounds_problem(
    repair: &ClockRepaired,
    repair_at: Time,
    facts: &RangeFacts,
) -> Option<String> {
    let first = repair.first_seq;
    let minutes = CLOCK_SKEW_SECONDS / 60;
    let claimed = parse_time("first_claimed_at", &repair.first_claimed_at).ok()?;
    if !is_ahead(claimed, repair_at) {
        return Some(format!(
            "event {first} ({}) is not more than {minutes} minutes after the repair's time {}",
            repair.first_claimed_at,
            format_time(repair_at)
        ));
    }
    let before = facts.before_first_at.as_deref()?;
    let Ok(before_at) = parse_time("at", before) else {
        return Some(format!("event {} has no readable time", first - 1));
    };
    if is_ahead(before_at, repair_at) {
        return Some(format!(
            "event {} ({before}) is dated ahead too: the range starts too late",
            first - 1
        ));
    }
    if before_at > repair_at {
        return Some(format!(
            "the repair is dated before event {} ({before})",
            first - 1
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn time(text: &str) -> Time {
        parse_time("t", text).unwrap()
    }

    fn repair(first_seq: i64, last_seq: i64) -> ClockRepaired {
        ClockRepaired {
            first_seq,
            last_seq,
            first_claimed_at: "2036-01-01T00:00:00Z".into(),
            last_claimed_at: "2036-01-02T00:00:00Z".into(),
            reason: "ntp".into(),
        }
    }

    fn facts(before: Option<&str>) -> RangeFacts {
        RangeFacts {
            before_first_at: before.map(str::to_string),
            first_at: Some("2036-01-01T00:00:00Z".into()),
            last_at: Some("2036-01-02T00:00:00Z".into()),
            repairs_inside: 0,
        }
    }

    #[test]
    fn a_repair_of_the_run_ahead_of_it_is_valid() {
        let at = time("2026-12-07T10:00:00Z");
        let good = facts(Some("2026-12-07T09:00:00Z"));
        assert_eq!(repair_problem(&repair(5, 6), 7, at, &good), None);
        assert_eq!(repair_problem(&repair(1, 6), 7, at, &facts(None)), None);
    }

    #[test]
    fn every_misfit_is_named() {
        let at = time("2026-12-07T10:00:00Z");
        let good = facts(Some("2026-12-07T09:00:00Z"));
        let cases = [
            (repair(5, 5), 7, good.clone(), "end at 6"),
            (
                repair(5, 6),
                7,
                facts(Some("2036-01-01T00:00:00Z")),
                "too late",
            ),
            (
                repair(5, 6),
                7,
                facts(Some("2026-12-07T10:03:00Z")),
                "dated before",
            ),
            (
                repair(5, 6),
                7,
                RangeFacts {
                    repairs_inside: 1,
                    ..good.clone()
                },
                "hold a clock_repaired",
            ),
            (
                repair(5, 6),
                7,
                RangeFacts {
                    first_at: Some("2036-01-01T00:00:01Z".into()),
                    ..good.clone()
                },
                "claimed",
            ),
        ];
        for (repaired, seq, facts, expected) in cases {
            let problem = repair_problem(&repaired, seq, at, &facts).expect(expected);
            assert!(problem.contains(expected), "{problem}");
        }
        let near = time("2035-12-31T23:56:00Z");
        let problem = repair_problem(&repair(5, 6), 7, near, &good).unwrap();
        assert!(problem.contains("not more than 5 minutes"), "{problem}");
    }

    #[test]
    fn the_threshold_compares_as_stored_text() {
        let reference = time("2026-12-07T10:00:00Z");
        assert_eq!(ahead_threshold(reference), "2026-12-07T10:05:00Z");
        assert!(!is_ahead(time("2026-12-07T10:05:00Z"), reference));
        assert!(is_ahead(time("2026-12-07T10:05:01Z"), reference));
        let before = time("2026-12-07T10:02:00Z");
        assert_eq!(repair_time(reference, Some(before)), before);
        assert_eq!(repair_time(reference, None), reference);
    }
}
