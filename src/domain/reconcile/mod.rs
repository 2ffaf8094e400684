//! Reconciling the book with the provider's records (docs/reconcile.md "Reconciling
//! with the provider"): each record the provider reports is compared with
//! the ledger as it is read, one at a time, and what differs becomes one
//! `Difference` with a class. What the ledger can express to come into line
//! becomes ops (`allocate --number`, `submit`, `approve`, `invalidate`).
//!
//! Pure: the ledger is read through `Book` and the walk of its numbers,
//! the file is parsed and sorted elsewhere. The comparison is two passes
//! over sorted streams, so it holds one record and one instance at a time
//! (and the differences it found), never the file: `NumberMatch` walks the
//! records by number beside the ledger's numbers; `Comparison` walks what
//! that found by instance.

mod compare;
mod matching;

pub(crate) use compare::{Comparison, Outcome};
pub(crate) use matching::{ByInstance, ByNumber, Entry, NumberMatch};

use super::types::*;
use crate::error::Result;
use serde::Serialize;

/// The provider's status codes of a service number, with the words of its
/// API reference (GetBsnByResource / GetBsnBySn, field `status`).
pub(crate) const PROVIDER_STATUSES: [(u8, &str); 5] = [
    (0, "not bound"),
    (1, "bound to an instance, cannot be unbound"),
    (2, "filed"),
    (3, "invalidated for administrative reasons"),
    (4, "under review"),
];

/// Which provider status codes agree with each ledger status. From the API
/// reference's meanings above: an unbound number is "bound to an instance"
/// at the provider as soon as it exists (the provider does not know of our
/// grants), so 0 and 1 both fit; a deregistered filing leaves the number
/// used (1), still shown as filed (2) until the provider catches up, or
/// invalidated (3).
pub(crate) const STATUS_AGREEMENT: [(Status, &[u8]); 6] = [
    (Status::Unbound, &[0, 1]),
    (Status::Bound, &[1]),
    (Status::Filing, &[4]),
    (Status::Filed, &[2]),
    (Status::Invalid, &[3]),
    (Status::Deregistered, &[1, 2, 3]),
];

/// The provider's `resourceType` codes and the ledger's service type each
/// means, from its API reference: 1 ECS, 8 ENS, 9 Cloud Web Hosting. Other
/// codes are the provider's own products, which this table cannot judge.
pub(crate) const RESOURCE_TYPES: [(i64, &str); 3] =
    [(1, "ecs"), (8, "ens"), (9, "cloud_web_hosting")];

/// The reason an emitted `invalidate` gives.
pub(crate) const INVALIDATED_REASON: &str = "provider: invalidated for administrative reasons";

/// The API reference's words for a provider status code.
pub(crate) fn provider_status_meaning(code: u8) -> &'static str {
    PROVIDER_STATUSES
        .iter()
        .find(|(known, _)| *known == code)
        .map_or("unknown", |(_, meaning)| meaning)
}

/// Whether the ledger's status and the provider's code agree.
pub(crate) fn status_agrees(status: Status, provider_status: u8) -> bool {
    STATUS_AGREEMENT
        .iter()
        .any(|(ledger, codes)| *ledger == status && codes.contains(&provider_status))
}

/// Whether `resource_type` fits the instance's service type: a code the
/// table knows must name that type, and a type the table knows must have
/// its code; a code and a type the table knows neither of cannot be judged.
pub(crate) fn type_fits(resource_type: i64, service_type: &str) -> bool {
    let by_code = RESOURCE_TYPES
        .iter()
        .find(|(code, _)| *code == resource_type);
    let by_type = RESOURCE_TYPES
        .iter()
        .find(|(_, name)| *name == service_type);
    match (by_code, by_type) {
        (None, None) => true,
        (Some((_, name)), _) => *name == service_type,
        (None, Some(_)) => false,
    }
}

/// One service number as the provider reports it (a BsnPopDO); serialised
/// with the provider's field names.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ProviderRecord {
    pub sn: String,
    /// 0–4, see `PROVIDER_STATUSES`.
    pub status: u8,
    /// The MIIT filing number; `None` when empty (not filed).
    pub beian_num: Option<String>,
    /// The account that owns the instance.
    pub ali_uid: String,
    pub resource_type: i64,
    pub resource_id: String,
}

macro_rules! classes {
    ($($variant:ident = $code:literal,)+) => {
        /// The classes of difference (docs/reconcile.md "Reconciling with the provider").
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub(crate) enum Class { $($variant),+ }

        impl Class {
            pub(crate) fn code(self) -> &'static str {
                match self { $(Class::$variant => $code),+ }
            }
        }
    };
}

classes! {
    UnknownNumber = "unknown_number",
    MissingAtProvider = "missing_at_provider",
    StatusDiffers = "status_differs",
    IcpNumberDiffers = "icp_number_differs",
    OwnerDiffers = "owner_differs",
    InstanceDiffers = "instance_differs",
    TypeDiffers = "type_differs",
    QuotaDiffers = "quota_differs",
}

/// One difference: its class, the number and instance it is about, and
/// what each side says (`None` where that side has nothing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Difference {
    pub class: Class,
    pub number: Option<String>,
    pub instance_id: String,
    pub ledger: Option<LedgerSide>,
    pub provider: Option<ProviderSide>,
    /// Whether the emitted ops bring this into line.
    pub expressed: bool,
}

/// What the ledger says of a difference: the one fact at odds, under its
/// field name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub(crate) enum LedgerSide {
    Account { account: String },
    ServiceType { service_type: String },
    InstanceId { instance_id: String },
    Status { status: Status },
    IcpNumber { icp_number: Option<String> },
    Consumed { consumed: i64 },
}

/// What the provider says of a difference, under its own field names;
/// the whole record for a number the ledger lacks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged, rename_all_fields = "camelCase")]
pub(crate) enum ProviderSide {
    AliUid { ali_uid: String },
    ResourceType { resource_type: i64 },
    ResourceId { resource_id: String },
    Status { status: u8, meaning: &'static str },
    BeianNum { beian_num: Option<String> },
    Numbers { numbers: i64 },
    Record(ProviderRecord),
}

/// A change the ledger can express, as one row of an ops file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Op {
    Allocate {
        instance_id: String,
        number: String,
        request_id: String,
    },
    Submit {
        number: String,
    },
    Approve {
        number: String,
        icp_number: String,
    },
    Invalidate {
        number: String,
        reason: String,
    },
}

/// What the comparison reads from the ledger by key (its numbers come in
/// one walk, see `NumberMatch`). Instances are found regardless of ASCII
/// case.
pub(crate) trait Book {
    fn instance(&self, instance_id: &str) -> Result<Option<Instance>>;
    fn policy(&self, service_type: &str) -> Result<Option<Policy>>;
    /// What the region table says of a region.
    fn mainland(&self, region_id: &str) -> Result<bool>;
}

#[cfg(test)]
mod tests;
