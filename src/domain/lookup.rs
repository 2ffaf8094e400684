//! Read access to the current state, from a store or a test double, and the
//! look-ups that must find their row. A missing row is the user's mistake
//! when a command names it (`not_found`, exit 3), and a broken log when an
//! event does (snledger never logs an event about something that does not
//! exist): `Missing` says which.

use super::event::broken;
use super::regions::Region;
use super::types::{shorten, Instance, NumberRecord, Policy, RequestRecord, ServiceRecord};
use crate::error::{Error, Result};

/// How to report a row that must exist and does not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
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
pub trait Lookup {
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
}
