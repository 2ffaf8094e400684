//! What both backends share besides the tables' declarations
//! (`tables.rs`): the key range of a prefix, the schema comparison, and
//! the past versions migration 10 adds.

use crate::domain::evolve::Change;
use crate::domain::memory::{MemoryState, PastKept};
use crate::domain::replay::Recorded;
use crate::error::Result;
use crate::store::{EventFilter, Log};
use std::collections::BTreeMap;

/// Migration 10 (`migrations/0010_past_from_the_start.sql`) stores these
/// before it runs.
pub(crate) const PAST_FROM_THE_START: i64 = 10;

/// The past versions events `1..=up_to_seq` of `log` make, each with the
/// seq that superseded it: what a ledger upgraded to version 4 with history
/// lacks (it kept past versions only after its last seq then, and
/// `--as-of` an earlier moment replayed the log). Replayed once, as verify
/// replays: an event the rules refuse applies as logged, one that does not
/// read is passed over, and verify names either.
pub(crate) fn past_versions_up_to(log: &dyn Log, up_to_seq: i64) -> Result<Vec<(Change, i64)>> {
    let mut state = MemoryState::new();
    state.past_kept = PastKept::Rows(Vec::new());
    let filter = EventFilter {
        to_seq: up_to_seq,
        ..EventFilter::all()
    };
    log.each_event(&filter, &mut |event| {
        // An event that does not read, or that the rules refuse, is left to
        // verify to name (the upgrade must not lock a ledger out of the
        // commands that audit or export it); one refused applies as logged.
        if let Ok(recorded) = Recorded::of(&event) {
            let _refused = state.replay(recorded);
        }
        Ok(())
    })?;
    match state.past_kept {
        PastKept::Rows(rows) => Ok(rows),
        _ => unreachable!("invariant: set to rows above"),
    }
}

/// The first text past every continuation of `prefix`, so that
/// `prefix <= key < end` is a range scan of a primary key; `None` for an
/// empty prefix or one whose last character has no successor.
pub(crate) fn prefix_range_end(prefix: &str) -> Option<String> {
    let mut end: Vec<char> = prefix.chars().collect();
    let last = end.pop()?;
    end.push(char::from_u32(last as u32 + 1)?);
    Some(end.into_iter().collect())
}

/// Schema objects by (kind, name) with their definition.
pub(crate) type SchemaObjects = BTreeMap<(String, String), String>;

/// Every object missing, altered or extra in `stored` against `expected`,
/// one sentence each (verify's storage check on either backend).
pub(crate) fn schema_problems(stored: &SchemaObjects, expected: &SchemaObjects) -> Vec<String> {
    let mut problems = Vec::new();
    for (key, definition) in expected {
        match stored.get(key) {
            None => problems.push(format!("the schema lacks the {} {}", key.0, key.1)),
            Some(found) if found != definition => problems.push(format!(
                "the {} {} is not as snledger creates it",
                key.0, key.1
            )),
            Some(_) => {}
        }
    }
    for key in stored.keys().filter(|key| !expected.contains_key(key)) {
        problems.push(format!(
            "the schema has a {} {} that snledger does not create",
            key.0, key.1
        ));
    }
    problems
}

/// The rows an upgrade from `version` seeds: the default policy in a new
/// database (version 0), the regions before migration 2 made their table.
pub(crate) fn seeds(version: i64) -> Vec<Change> {
    let policies = (version == 0).then(crate::domain::types::default_policies);
    let regions = (version < 2).then(crate::domain::regions::default_regions);
    let policies = policies.into_iter().flatten().map(Change::Policy);
    policies
        .chain(regions.into_iter().flatten().map(Change::Region))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_range_end_is_the_next_text_past_the_prefix() {
        assert_eq!(prefix_range_end("ab").as_deref(), Some("ac"));
        assert_eq!(prefix_range_end(""), None);
        assert_eq!(prefix_range_end("a\u{10FFFF}"), None);
    }

    #[test]
    fn schema_problems_name_missing_altered_and_extra_objects() {
        let object = |kind: &str, name: &str, sql: &str| ((kind.into(), name.into()), sql.into());
        let expected: SchemaObjects =
            [object("table", "events", "a"), object("index", "k", "b")].into();
        let stored: SchemaObjects = [
            object("table", "events", "changed"),
            object("trigger", "t", "c"),
        ]
        .into();
        assert_eq!(
            schema_problems(&stored, &expected),
            [
                "the schema lacks the index k",
                "the table events is not as snledger creates it",
                "the schema has a trigger t that snledger does not create",
            ]
        );
    }
}
