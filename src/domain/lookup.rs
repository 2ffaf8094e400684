//! Read access to the current state, from a store or a test double, and the
//! look-ups that must find their row. A missing row is the user's mistake
//! when a command names it (`not_found`, exit 3), and a broken log when an
//! event does (snledger never logs an event about something that does not
//! exist): `Missing` says which.

use super::event::broken;
use super::evolve::Change;
use super::regions::Region;
use super::types::{shorten, Instance, NumberRecord, Policy, RequestRecord, ServiceRecord};
use crate::error::{Error, Result};
use std::cell::RefCell;
use std::collections::HashMap;

/// How to report a row that must exist and does not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Missing {
    /// A command names it: `not_found`, "no instance i-1".
    NotFound,
    /// The event with this seq names it: an integrity error,
    /// "event 7: names unknown instance i-1".
    InEvent(i64),
}

impl Missing {
    fn error(self, what: &str, name: &str) -> Error {
        match self {
            Missing::NotFound => Error::not_found(format!("no {what} {name}")),
            Missing::InEvent(seq) => broken(seq, format!("names unknown {what} {name}")),
        }
    }
}

/// Instances and numbers are found whatever the ASCII case of their id, and
/// a service by any spelling of it (`names::service_key`); each row comes
/// back as the ledger first spelled it.
pub(crate) trait Lookup {
    fn instance(&self, instance_id: &str) -> Result<Option<Instance>>;
    fn number(&self, number: &str) -> Result<Option<NumberRecord>>;
    fn service(&self, service: &str) -> Result<Option<ServiceRecord>>;
    fn policy(&self, service_type: &str) -> Result<Option<Policy>>;
    fn request(&self, request_id: &str) -> Result<Option<RequestRecord>>;
    fn region(&self, region_id: &str) -> Result<Option<Region>>;
    /// Every region id of the table (for "did you mean", on refusals only).
    fn region_ids(&self) -> Result<Vec<String>>;
    /// Every service type with a policy row (for "did you mean").
    fn service_types(&self) -> Result<Vec<String>>;
    /// The live (bound, filing or filed) number that holds this ICP number.
    fn live_number_with_icp(&self, icp_number: &str) -> Result<Option<NumberRecord>>;

    /// The instance, which must exist.
    fn instance_or(&self, instance_id: &str, missing: Missing) -> Result<Instance> {
        self.instance(instance_id)?
            .ok_or_else(|| missing.error("instance", instance_id))
    }

    /// The number, which must exist.
    fn number_or(&self, number: &str, missing: Missing) -> Result<NumberRecord> {
        self.number(number)?
            .ok_or_else(|| missing.error("number", number))
    }

    /// The service, which must exist. Its name is free text, so the message
    /// shows it shortened.
    fn service_or(&self, service: &str, missing: Missing) -> Result<ServiceRecord> {
        self.service(service)?
            .ok_or_else(|| missing.error("service", &shorten(service)))
    }
}

/// The policy and region rows one write transaction has read. Every row of
/// an import asks for both (about 11 % of a 1M-row import, `perf`), yet
/// only the transaction's own events can change them while it holds the
/// write lock, so its writer remembers them and forgets them whenever one
/// of its events changes either table (`forget_if_changed`).
#[derive(Default)]
pub(crate) struct Memo {
    policy: RefCell<HashMap<String, Option<Policy>>>,
    region: RefCell<HashMap<String, Option<Region>>>,
}

/// How many names of each table a memo keeps: names come from the input,
/// so a file of many unknown ones must not grow it without bound.
const MEMO_NAMES_MAX: usize = 1024;

impl Memo {
    /// A look-up that answers policy and region rows from this memo.
    pub(crate) fn over<'a>(&'a self, lookup: &'a dyn Lookup) -> Remembering<'a> {
        Remembering { lookup, memo: self }
    }

    /// Forgets everything when `changes` write a policy or region row.
    pub(crate) fn forget_if_changed(&self, changes: &[Change]) {
        let changed = changes
            .iter()
            .any(|change| matches!(change, Change::Policy(_) | Change::Region(_)));
        if changed {
            self.policy.borrow_mut().clear();
            self.region.borrow_mut().clear();
        }
    }
}

fn remembered<T: Clone>(
    names: &RefCell<HashMap<String, Option<T>>>,
    name: &str,
    read: impl FnOnce() -> Result<Option<T>>,
) -> Result<Option<T>> {
    if let Some(row) = names.borrow().get(name) {
        return Ok(row.clone());
    }
    let row = read()?;
    let mut names = names.borrow_mut();
    if names.len() >= MEMO_NAMES_MAX {
        names.clear();
    }
    names.insert(name.to_string(), row.clone());
    Ok(row)
}

/// A look-up through a `Memo`: policy and region rows remembered, the rest
/// read as they stand.
pub(crate) struct Remembering<'a> {
    lookup: &'a dyn Lookup,
    memo: &'a Memo,
}

impl Lookup for Remembering<'_> {
    fn instance(&self, instance_id: &str) -> Result<Option<Instance>> {
        self.lookup.instance(instance_id)
    }
    fn number(&self, number: &str) -> Result<Option<NumberRecord>> {
        self.lookup.number(number)
    }
    fn service(&self, service: &str) -> Result<Option<ServiceRecord>> {
        self.lookup.service(service)
    }
    fn policy(&self, service_type: &str) -> Result<Option<Policy>> {
        remembered(&self.memo.policy, service_type, || {
            self.lookup.policy(service_type)
        })
    }
    fn request(&self, request_id: &str) -> Result<Option<RequestRecord>> {
        self.lookup.request(request_id)
    }
    fn region(&self, region_id: &str) -> Result<Option<Region>> {
        remembered(&self.memo.region, region_id, || {
            self.lookup.region(region_id)
        })
    }
    fn region_ids(&self) -> Result<Vec<String>> {
        self.lookup.region_ids()
    }
    fn service_types(&self) -> Result<Vec<String>> {
        self.lookup.service_types()
    }
    fn live_number_with_icp(&self, icp_number: &str) -> Result<Option<NumberRecord>> {
        self.lookup.live_number_with_icp(icp_number)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::memory::MemoryState;

    #[test]
    fn a_missing_row_is_not_found_for_a_command_and_broken_in_an_event() {
        let state = MemoryState::new();
        let error = state.instance_or("i-9", Missing::NotFound).unwrap_err();
        assert_eq!(
            (error.code(), error.to_string()),
            ("not_found", "no instance i-9".into())
        );
        let error = state.number_or("n-9", Missing::InEvent(7)).unwrap_err();
        assert_eq!(
            (error.code(), error.to_string()),
            ("integrity", "event 7: names unknown number n-9".into())
        );
        let error = state.service_or("a\tb", Missing::NotFound).unwrap_err();
        assert_eq!(error.to_string(), "no service a\\tb");
    }

    #[test]
    fn a_memo_answers_until_its_writer_changes_the_table() {
        use crate::domain::types::default_policies;
        let mut state = MemoryState::new();
        let ecs = default_policies().remove(0);
        state.apply(Change::Policy(ecs.clone()));
        let memo = Memo::default();
        assert_eq!(memo.over(&state).policy("ecs").unwrap(), Some(ecs.clone()));
        let changed = Policy {
            max_numbers: ecs.max_numbers + 1,
            updated_seq: 2,
            ..ecs.clone()
        };
        state.apply(Change::Policy(changed.clone()));
        // Unchanged by the memo's own writer: still the remembered row.
        assert_eq!(memo.over(&state).policy("ecs").unwrap(), Some(ecs));
        memo.forget_if_changed(&[]);
        assert_ne!(
            memo.over(&state).policy("ecs").unwrap(),
            Some(changed.clone())
        );
        memo.forget_if_changed(&[Change::Policy(changed.clone())]);
        assert_eq!(memo.over(&state).policy("ecs").unwrap(), Some(changed));
    }

    #[test]
    fn a_memo_keeps_a_bounded_number_of_names() {
        let state = MemoryState::new();
        let memo = Memo::default();
        for i in 0..3 * MEMO_NAMES_MAX {
            let name = format!("type-{i}");
            assert_eq!(memo.over(&state).policy(&name).unwrap(), None);
            assert_eq!(memo.over(&state).region(&name).unwrap(), None);
            assert!(memo.policy.borrow().len() <= MEMO_NAMES_MAX);
            assert!(memo.region.borrow().len() <= MEMO_NAMES_MAX);
        }
    }
}
