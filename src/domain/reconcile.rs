//! Reconciling the book with the provider's records (README "Reconciling
//! with the provider"): each record the provider reports is compared with
//! the ledger as it is read, one at a time, and what differs becomes one
//! `Difference` with a class. What the ledger can express to come into line
//! becomes ops (`allocate --number`, `submit`, `approve`, `invalidate`).
//!
//! Pure: the ledger is read through `Book`, the file is parsed elsewhere.
//! Memory holds one entry per distinct number and instance the file names
//! (to find what the provider does not list), never the file itself.

use super::eligibility::failing_reasons;
use super::event::DifferenceCounts;
use super::types::*;
use crate::error::Result;
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};

/// The provider's status codes of a service number, with the words of its
/// API reference (GetBsnByResource / GetBsnBySn, field `status`).
pub const PROVIDER_STATUSES: [(u8, &str); 5] = [
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
pub const STATUS_AGREEMENT: [(Status, &[u8]); 6] = [
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
pub const RESOURCE_TYPES: [(i64, &str); 3] = [(1, "ecs"), (8, "ens"), (9, "cloud_web_hosting")];

/// The reason an emitted `invalidate` gives.
pub const INVALIDATED_REASON: &str = "provider: invalidated for administrative reasons";

/// The API reference's words for a provider status code.
pub fn provider_status_meaning(code: u8) -> &'static str {
    PROVIDER_STATUSES
        .iter()
        .find(|(known, _)| *known == code)
        .map_or("unknown", |(_, meaning)| meaning)
}

/// Whether the ledger's status and the provider's code agree.
pub fn status_agrees(status: Status, provider_status: u8) -> bool {
    STATUS_AGREEMENT
        .iter()
        .any(|(ledger, codes)| *ledger == status && codes.contains(&provider_status))
}

/// Whether `resource_type` fits the instance's service type: a code the
/// table knows must name that type, and a type the table knows must have
/// its code; a code and a type the table knows neither of cannot be judged.
pub fn type_fits(resource_type: i64, service_type: &str) -> bool {
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

/// One service number as the provider reports it (a BsnPopDO).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderRecord {
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

impl ProviderRecord {
    fn json(&self) -> Value {
        json!({
            "sn": self.sn,
            "status": self.status,
            "beianNum": self.beian_num,
            "aliUid": self.ali_uid,
            "resourceType": self.resource_type,
            "resourceId": self.resource_id,
        })
    }
}

macro_rules! classes {
    ($($variant:ident = $code:literal,)+) => {
        /// The classes of difference (README "Reconciling with the provider").
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Class { $($variant),+ }

        impl Class {
            pub fn code(self) -> &'static str {
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
/// what each side says.
#[derive(Debug, Clone, PartialEq)]
pub struct Difference {
    pub class: Class,
    pub number: Option<String>,
    pub instance_id: String,
    pub ledger: Value,
    pub provider: Value,
    /// Whether the emitted ops bring this into line.
    pub expressed: bool,
}

/// A change the ledger can express, as one row of an ops file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
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

/// What the comparison reads from the ledger. Numbers and instances are
/// found regardless of ASCII case.
pub trait Book {
    fn instance(&self, instance_id: &str) -> Result<Option<Instance>>;
    fn number(&self, number: &str) -> Result<Option<NumberRecord>>;
    fn numbers_of(&self, instance_id: &str) -> Result<Vec<NumberRecord>>;
    fn policy(&self, service_type: &str) -> Result<Option<Policy>>;
    /// What the region table says of a region.
    fn mainland(&self, region_id: &str) -> Result<bool>;
}

/// An instance the file names: how it reads in the ledger and how many
/// numbers the provider lists on it.
struct Covered {
    resource_id: String,
    ledger: Option<Instance>,
    listed: i64,
    /// Allocations emitted for it so far (they take its quota).
    allocations: i64,
    /// Whether its owner was found to differ (then nothing is allocated).
    owner_differs: bool,
}

/// The comparison in progress.
pub struct Reconciler {
    now: Time,
    /// Each number seen, in ASCII lowercase (a repeat is ignored).
    seen: HashSet<String>,
    /// Each instance named, by its id in ASCII lowercase; `order` keeps
    /// the file's order for the per-instance differences.
    covered: HashMap<String, Covered>,
    order: Vec<String>,
    pub differences: Vec<Difference>,
    pub ops: Vec<Op>,
}

/// What a comparison found.
pub struct Outcome {
    pub numbers: i64,
    pub instances: i64,
    pub differences: Vec<Difference>,
    pub ops: Vec<Op>,
}

impl Outcome {
    pub fn counts(&self) -> DifferenceCounts {
        let count =
            |class: Class| self.differences.iter().filter(|d| d.class == class).count() as i64;
        DifferenceCounts {
            unknown_number: count(Class::UnknownNumber),
            missing_at_provider: count(Class::MissingAtProvider),
            status_differs: count(Class::StatusDiffers),
            icp_number_differs: count(Class::IcpNumberDiffers),
            owner_differs: count(Class::OwnerDiffers),
            instance_differs: count(Class::InstanceDiffers),
            type_differs: count(Class::TypeDiffers),
            quota_differs: count(Class::QuotaDiffers),
        }
    }
}

impl Reconciler {
    /// A comparison at the ledger's time `now` (eligibility of allocations).
    pub fn new(now: Time) -> Reconciler {
        Reconciler {
            now,
            seen: HashSet::new(),
            covered: HashMap::new(),
            order: Vec::new(),
            differences: Vec::new(),
            ops: Vec::new(),
        }
    }

    /// Compares one provider record with the ledger. A number the file
    /// repeats is compared once.
    pub fn record(&mut self, book: &dyn Book, record: ProviderRecord) -> Result<()> {
        if !self.seen.insert(record.sn.to_ascii_lowercase()) {
            return Ok(());
        }
        let key = record.resource_id.to_ascii_lowercase();
        if !self.covered.contains_key(&key) {
            let ledger = book.instance(&record.resource_id)?;
            self.order.push(key.clone());
            self.covered.insert(
                key.clone(),
                Covered {
                    resource_id: record.resource_id.clone(),
                    ledger,
                    listed: 0,
                    allocations: 0,
                    owner_differs: false,
                },
            );
        }
        self.compare_instance(&key, &record);
        match self.find_number(book, &key, &record.sn)? {
            None => self.unknown_number(book, &key, record),
            Some(number) => {
                self.compare_number(&number, &record);
                Ok(())
            }
        }
    }

    /// The ledger's number, matched regardless of ASCII case: through the
    /// book, else among the numbers of the instance the provider names.
    fn find_number(&self, book: &dyn Book, key: &str, sn: &str) -> Result<Option<NumberRecord>> {
        if let Some(number) = book.number(sn)? {
            return Ok(Some(number));
        }
        let Some(instance) = self.covered.get(key).and_then(|c| c.ledger.as_ref()) else {
            return Ok(None);
        };
        Ok(book
            .numbers_of(&instance.instance_id)?
            .into_iter()
            .find(|number| number.number.eq_ignore_ascii_case(sn)))
    }

    /// The owner and the type of the instance the record names.
    fn compare_instance(&mut self, key: &str, record: &ProviderRecord) {
        let Some(covered) = self.covered.get_mut(key) else {
            return;
        };
        covered.listed += 1;
        let Some(instance) = &covered.ledger else {
            return;
        };
        let mut found = Vec::new();
        if instance.account != record.ali_uid {
            covered.owner_differs = true;
            found.push(difference(
                Class::OwnerDiffers,
                record,
                &instance.instance_id,
                json!({"account": instance.account}),
                json!({"aliUid": record.ali_uid}),
            ));
        }
        if !type_fits(record.resource_type, &instance.service_type) {
            found.push(difference(
                Class::TypeDiffers,
                record,
                &instance.instance_id,
                json!({"service_type": instance.service_type}),
                json!({"resourceType": record.resource_type}),
            ));
        }
        self.differences.extend(found);
    }

    /// A number the ledger lacks: recorded with `allocate --number` when
    /// its instance is in the ledger, owned by the provider's account,
    /// of a fitting type and eligible for one more slot.
    fn unknown_number(&mut self, book: &dyn Book, key: &str, record: ProviderRecord) -> Result<()> {
        let expressed = self.allocation(book, key, &record)?;
        let instance_id = self.covered.get(key).map_or_else(
            || record.resource_id.clone(),
            |c| {
                c.ledger
                    .as_ref()
                    .map_or(c.resource_id.clone(), |i| i.instance_id.clone())
            },
        );
        if expressed {
            self.ops.push(Op::Allocate {
                instance_id: instance_id.clone(),
                number: record.sn.clone(),
                request_id: format!("reconcile:{}", record.sn),
            });
            if record.status == 3 {
                self.ops.push(Op::Invalidate {
                    number: record.sn.clone(),
                    reason: INVALIDATED_REASON.to_string(),
                });
            }
        }
        let mut found = difference(
            Class::UnknownNumber,
            &record,
            &instance_id,
            Value::Null,
            record.json(),
        );
        found.expressed = expressed;
        self.differences.push(found);
        Ok(())
    }

    /// Whether an allocation of the record's number can be emitted (and if
    /// so, counts it against the instance's quota).
    fn allocation(&mut self, book: &dyn Book, key: &str, record: &ProviderRecord) -> Result<bool> {
        let Some(covered) = self.covered.get_mut(key) else {
            return Ok(false);
        };
        let Some(instance) = &covered.ledger else {
            return Ok(false);
        };
        if covered.owner_differs
            || !type_fits(record.resource_type, &instance.service_type)
            || validate_number(&record.sn).is_err()
        {
            return Ok(false);
        }
        let policy = book.policy(&instance.service_type)?;
        let mainland = book.mainland(&instance.region)?;
        let requested = covered.allocations + 1;
        if !failing_reasons(instance, policy.as_ref(), mainland, self.now, requested).is_empty() {
            return Ok(false);
        }
        covered.allocations = requested;
        Ok(true)
    }

    /// A number both sides know: where it is, its status, its MIIT number.
    fn compare_number(&mut self, number: &NumberRecord, record: &ProviderRecord) {
        if !number.instance_id.eq_ignore_ascii_case(&record.resource_id) {
            self.differences.push(difference(
                Class::InstanceDiffers,
                record,
                &number.instance_id,
                json!({"instance_id": number.instance_id}),
                json!({"resourceId": record.resource_id}),
            ));
        }
        let ops = status_ops(number, record);
        let fixed = !ops.is_empty();
        if !status_agrees(number.status, record.status) {
            let mut found = difference(
                Class::StatusDiffers,
                record,
                &number.instance_id,
                json!({"status": number.status.to_string()}),
                json!({"status": record.status, "meaning": provider_status_meaning(record.status)}),
            );
            found.expressed = fixed;
            self.differences.push(found);
        }
        if icp_differs(number, record) {
            let mut found = difference(
                Class::IcpNumberDiffers,
                record,
                &number.instance_id,
                json!({"icp_number": number.icp_number}),
                json!({"beianNum": record.beian_num}),
            );
            found.expressed = ops.iter().any(|op| matches!(op, Op::Approve { .. }));
            self.differences.push(found);
        }
        self.ops.extend(ops);
    }

    /// The per-instance differences (numbers the provider does not list,
    /// counts beyond the ledger's consumed slots), then the outcome.
    pub fn finish(mut self, book: &dyn Book) -> Result<Outcome> {
        for key in std::mem::take(&mut self.order) {
            let Some(covered) = self.covered.get(&key) else {
                continue;
            };
            let Some(instance) = &covered.ledger else {
                continue;
            };
            let mut found = Vec::new();
            for number in book.numbers_of(&instance.instance_id)? {
                // A direct selection has no number at the provider.
                if number.origin == Origin::Direct
                    || self.seen.contains(&number.number.to_ascii_lowercase())
                {
                    continue;
                }
                found.push(Difference {
                    class: Class::MissingAtProvider,
                    number: Some(number.number.clone()),
                    instance_id: instance.instance_id.clone(),
                    ledger: json!({"status": number.status.to_string()}),
                    provider: Value::Null,
                    expressed: false,
                });
            }
            if covered.listed > instance.consumed {
                found.push(Difference {
                    class: Class::QuotaDiffers,
                    number: None,
                    instance_id: instance.instance_id.clone(),
                    ledger: json!({"consumed": instance.consumed}),
                    provider: json!({"numbers": covered.listed}),
                    expressed: covered.listed <= instance.consumed + covered.allocations,
                });
            }
            self.differences.extend(found);
        }
        Ok(Outcome {
            numbers: self.seen.len() as i64,
            instances: self.covered.len() as i64,
            differences: self.differences,
            ops: self.ops,
        })
    }
}

fn difference(
    class: Class,
    record: &ProviderRecord,
    instance_id: &str,
    ledger: Value,
    provider: Value,
) -> Difference {
    Difference {
        class,
        number: Some(record.sn.clone()),
        instance_id: instance_id.to_string(),
        ledger,
        provider,
        expressed: false,
    }
}

/// The MIIT numbers disagree: the provider names one the ledger does not
/// have, or the provider says filed without one while the ledger has one.
fn icp_differs(number: &NumberRecord, record: &ProviderRecord) -> bool {
    match &record.beian_num {
        Some(beian) => number.icp_number.as_deref() != Some(beian.as_str()),
        None => record.status == 2 && number.status == Status::Filed && number.icp_number.is_some(),
    }
}

/// The ops that bring a known number's status to the provider's, where the
/// state machine has the steps: an invalidation, a submission, an approval
/// with the MIIT number. Anything else (a rejection, a deregistration, a
/// binding, whose reason or service the provider does not say) is only
/// reported.
fn status_ops(number: &NumberRecord, record: &ProviderRecord) -> Vec<Op> {
    let name = || number.number.clone();
    // An approval needs a MIIT number the ledger accepts as text.
    let beian = record
        .beian_num
        .as_ref()
        .filter(|beian| validate_text("icp number", beian, limits::TEXT_MAX).is_ok());
    match (number.status, record.status, beian) {
        (Status::Invalid | Status::Deregistered, 3, _) => Vec::new(),
        (_, 3, _) => vec![Op::Invalidate {
            number: name(),
            reason: INVALIDATED_REASON.to_string(),
        }],
        (Status::Bound, 4, _) => vec![Op::Submit { number: name() }],
        (Status::Filing, 2, Some(beian)) => vec![Op::Approve {
            number: name(),
            icp_number: beian.clone(),
        }],
        (Status::Bound, 2, Some(beian)) => vec![
            Op::Submit { number: name() },
            Op::Approve {
                number: name(),
                icp_number: beian.clone(),
            },
        ],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests;
