//! Reconciling the book with the provider's records (README "Reconciling
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

use super::eligibility::failing_reasons;
use super::event::DifferenceCounts;
use super::types::*;
use crate::error::Result;
use serde_json::{json, Value};

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

/// One service number as the provider reports it (a BsnPopDO).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
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
/// what each side says.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Difference {
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

/// How numbers and instance ids are matched: ASCII lowercase.
pub(crate) fn folded(text: &str) -> String {
    text.to_ascii_lowercase()
}

/// A provider record with its place in the file (from 0), in the order
/// the number walk needs: by folded number, then place (so the first of a
/// repeated number comes first).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct ByNumber {
    pub folded_sn: String,
    pub ordinal: u64,
    pub record: ProviderRecord,
}

impl ByNumber {
    pub(crate) fn new(ordinal: u64, record: ProviderRecord) -> ByNumber {
        ByNumber {
            folded_sn: folded(&record.sn),
            ordinal,
            record,
        }
    }
}

/// What the number walk found, for the walk by instance.
// Entries are held by value in a sort run: boxing the larger variant would
// cost an allocation per entry for no memory saved.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Entry {
    /// A record (the first with its number), with the ledger's number and,
    /// when that number is on the instance the record names, its instance.
    Listed {
        ordinal: u64,
        record: ProviderRecord,
        number: Option<NumberRecord>,
        instance: Option<Instance>,
    },
    /// A ledger number the file does not list.
    Unlisted(NumberRecord),
}

/// An entry in the order the instance walk needs: by folded instance id;
/// within one, the records in file order, then the unlisted numbers in the
/// order of the instance's numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ByInstance {
    pub folded_instance: String,
    pub entry: Entry,
}

impl ByInstance {
    pub(crate) fn new(entry: Entry) -> ByInstance {
        let folded_instance = match &entry {
            Entry::Listed { record, .. } => folded(&record.resource_id),
            Entry::Unlisted(number) => folded(&number.instance_id),
        };
        ByInstance {
            folded_instance,
            entry,
        }
    }

    fn rank(&self) -> (&str, u8, i64, &str) {
        match &self.entry {
            Entry::Listed { ordinal, .. } => (
                &self.folded_instance,
                0,
                i64::try_from(*ordinal).unwrap_or(i64::MAX),
                "",
            ),
            Entry::Unlisted(n) => (&self.folded_instance, 1, n.issued_seq, &n.number),
        }
    }
}

impl PartialOrd for ByInstance {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for ByInstance {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.rank().cmp(&other.rank())
    }
}

/// Records matched to the ledger number being walked.
struct Group {
    folded_number: String,
    record: ByNumber,
    number: NumberRecord,
    instance: Option<Instance>,
}

/// The first pass: the file's records (sorted `ByNumber`) walked beside
/// the ledger's numbers in folded order, each record paired with its
/// ledger number or found unknown, each ledger number listed or not.
pub(crate) struct NumberMatch {
    records: Box<dyn Iterator<Item = Result<ByNumber>>>,
    next: Option<ByNumber>,
    group: Option<Group>,
    /// The folded number of the last ledger number (they must ascend).
    last_key: Option<String>,
    /// Distinct numbers the file lists.
    pub numbers: i64,
}

impl NumberMatch {
    pub(crate) fn new(records: Box<dyn Iterator<Item = Result<ByNumber>>>) -> Result<NumberMatch> {
        let mut matching = NumberMatch {
            records,
            next: None,
            group: None,
            last_key: None,
            numbers: 0,
        };
        matching.advance(None)?;
        Ok(matching)
    }

    /// The next record with another number than `taken` (a number the file
    /// repeats is compared once, as first listed).
    fn advance(&mut self, taken: Option<&str>) -> Result<()> {
        self.next = None;
        for item in self.records.by_ref() {
            let item = item?;
            if taken == Some(item.folded_sn.as_str()) {
                continue;
            }
            self.numbers += 1;
            self.next = Some(item);
            break;
        }
        Ok(())
    }

    /// `taken`, the next record taken out to be compared as a number (or
    /// as unknown), after moving on past its number.
    fn taken(&mut self, taken: ByNumber) -> Result<ByNumber> {
        self.advance(Some(&taken.folded_sn))?;
        Ok(taken)
    }

    /// One ledger number, in folded order, with its instance.
    pub(crate) fn ledger(
        &mut self,
        number: NumberRecord,
        instance: Option<Instance>,
        emit: &mut dyn FnMut(ByInstance) -> Result<()>,
    ) -> Result<()> {
        let key = folded(&number.number);
        if self.last_key.as_ref().is_some_and(|last| *last > key) {
            return Err(crate::error::Error::storage(format!(
                "the ledger's numbers came out of order at {}",
                number.number
            )));
        }
        self.last_key = Some(key.clone());
        if let Some(group) = self.group.as_mut().filter(|g| g.folded_number == key) {
            // Two spellings of one number (an older ledger): the one
            // spelled as the provider does wins, else the first.
            if number.number == group.record.record.sn && group.number.number != number.number {
                group.number = number;
                group.instance = instance;
            }
            return Ok(());
        }
        self.flush(emit)?;
        while let Some(record) = self.next.take_if(|n| n.folded_sn < key) {
            let record = self.taken(record)?;
            emit(listed(record, None, None))?;
        }
        if let Some(record) = self.next.take_if(|n| n.folded_sn == key) {
            let record = self.taken(record)?;
            self.group = Some(Group {
                folded_number: key,
                record,
                number,
                instance,
            });
            return Ok(());
        }
        emit(ByInstance::new(Entry::Unlisted(number)))
    }

    fn flush(&mut self, emit: &mut dyn FnMut(ByInstance) -> Result<()>) -> Result<()> {
        if let Some(group) = self.group.take() {
            emit(listed(group.record, Some(group.number), group.instance))?;
        }
        Ok(())
    }

    /// After the last ledger number: the records left are unknown.
    /// Returns the count of distinct numbers.
    pub(crate) fn finish(mut self, emit: &mut dyn FnMut(ByInstance) -> Result<()>) -> Result<i64> {
        self.flush(emit)?;
        while let Some(record) = self.next.take() {
            let record = self.taken(record)?;
            emit(listed(record, None, None))?;
        }
        Ok(self.numbers)
    }
}

/// A difference of the instance `covered`, found after its records.
fn push_later(
    differences: &mut Vec<(Rank, Difference)>,
    covered: &mut Covered,
    difference: Difference,
) {
    differences.push(((1, covered.first_ordinal, covered.later), difference));
    covered.later += 1;
}

/// A record as an entry; the ledger number's instance is kept only when it
/// is the one the record names.
fn listed(item: ByNumber, number: Option<NumberRecord>, instance: Option<Instance>) -> ByInstance {
    let instance =
        instance.filter(|i| i.instance_id.eq_ignore_ascii_case(&item.record.resource_id));
    ByInstance::new(Entry::Listed {
        ordinal: item.ordinal,
        record: item.record,
        number,
        instance,
    })
}

/// An instance the file names: how it reads in the ledger and how many
/// numbers the provider lists on it.
struct Covered {
    folded_instance: String,
    resource_id: String,
    ledger: Option<Instance>,
    /// The place in the file of its first record (orders its differences).
    first_ordinal: u64,
    listed: i64,
    /// Allocations emitted for it so far (they take its quota).
    allocations: i64,
    /// Whether its owner was found to differ (then nothing is allocated).
    owner_differs: bool,
    /// Its differences found after its records (missing, quota) so far.
    later: u32,
}

/// Where a difference goes in the output: the differences of each record
/// in file order, then those of each instance (numbers the provider does
/// not list, quota) in the order the file first names them.
type Rank = (u8, u64, u32);

/// The second pass: the entries (sorted `ByInstance`), one instance at a
/// time, compared with the ledger.
pub(crate) struct Comparison {
    now: Time,
    current: Option<Covered>,
    instances: i64,
    /// The place in the file and the count of findings of the record being
    /// compared.
    ordinal: u64,
    found: u32,
    differences: Vec<(Rank, Difference)>,
    ops: Vec<((u64, u32), Op)>,
}

/// What a comparison found.
pub(crate) struct Outcome {
    pub numbers: i64,
    pub instances: i64,
    pub differences: Vec<Difference>,
    pub ops: Vec<Op>,
}

impl Outcome {
    pub(crate) fn counts(&self) -> DifferenceCounts {
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

impl Comparison {
    /// A comparison at the ledger's time `now` (eligibility of allocations).
    pub(crate) fn new(now: Time) -> Comparison {
        Comparison {
            now,
            current: None,
            instances: 0,
            ordinal: 0,
            found: 0,
            differences: Vec::new(),
            ops: Vec::new(),
        }
    }

    /// The next entry, in `ByInstance` order.
    pub(crate) fn entry(&mut self, book: &dyn Book, item: ByInstance) -> Result<()> {
        if self
            .current
            .as_ref()
            .is_some_and(|c| c.folded_instance != item.folded_instance)
        {
            self.close();
        }
        match item.entry {
            Entry::Listed {
                ordinal,
                record,
                number,
                instance,
            } => {
                if self.current.is_none() {
                    self.open(book, item.folded_instance, ordinal, &record, instance)?;
                }
                self.record(book, ordinal, record, number)
            }
            Entry::Unlisted(number) => {
                self.unlisted(&number);
                Ok(())
            }
        }
    }

    fn open(
        &mut self,
        book: &dyn Book,
        folded_instance: String,
        ordinal: u64,
        record: &ProviderRecord,
        instance: Option<Instance>,
    ) -> Result<()> {
        let ledger = match instance {
            Some(instance) => Some(instance),
            None => book.instance(&record.resource_id)?,
        };
        self.instances += 1;
        self.current = Some(Covered {
            folded_instance,
            resource_id: record.resource_id.clone(),
            ledger,
            first_ordinal: ordinal,
            listed: 0,
            allocations: 0,
            owner_differs: false,
            later: 0,
        });
        Ok(())
    }

    /// One record of the current instance, in file order.
    fn record(
        &mut self,
        book: &dyn Book,
        ordinal: u64,
        record: ProviderRecord,
        number: Option<NumberRecord>,
    ) -> Result<()> {
        self.ordinal = ordinal;
        self.found = 0;
        self.compare_instance(&record);
        match number {
            None => self.unknown_number(book, record),
            Some(number) => {
                self.compare_number(&number, &record);
                Ok(())
            }
        }
    }

    fn push(&mut self, difference: Difference) {
        self.differences
            .push(((0, self.ordinal, self.found), difference));
        self.found += 1;
    }

    fn push_op(&mut self, op: Op) {
        self.ops.push(((self.ordinal, self.found), op));
        self.found += 1;
    }

    /// The owner and the type of the instance the record names.
    fn compare_instance(&mut self, record: &ProviderRecord) {
        let Some(covered) = self.current.as_mut() else {
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
        for one in found {
            self.push(one);
        }
    }

    /// A number the ledger lacks: recorded with `allocate --number` when
    /// its instance is in the ledger, owned by the provider's account,
    /// of a fitting type and eligible for one more slot.
    fn unknown_number(&mut self, book: &dyn Book, record: ProviderRecord) -> Result<()> {
        let expressed = self.allocation(book, &record)?;
        let instance_id = self.current.as_ref().map_or_else(
            || record.resource_id.clone(),
            |c| {
                c.ledger
                    .as_ref()
                    .map_or(c.resource_id.clone(), |i| i.instance_id.clone())
            },
        );
        if expressed {
            self.push_op(Op::Allocate {
                instance_id: instance_id.clone(),
                number: record.sn.clone(),
                request_id: format!("reconcile:{}", record.sn),
            });
            if record.status == 3 {
                self.push_op(Op::Invalidate {
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
        self.push(found);
        Ok(())
    }

    /// Whether an allocation of the record's number can be emitted (and if
    /// so, counts it against the instance's quota).
    fn allocation(&mut self, book: &dyn Book, record: &ProviderRecord) -> Result<bool> {
        let now = self.now;
        let Some(covered) = self.current.as_mut() else {
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
        if !failing_reasons(instance, policy.as_ref(), mainland, now, requested).is_empty() {
            return Ok(false);
        }
        covered.allocations = requested;
        Ok(true)
    }

    /// A number both sides know: where it is, its status, its MIIT number.
    fn compare_number(&mut self, number: &NumberRecord, record: &ProviderRecord) {
        if !number.instance_id.eq_ignore_ascii_case(&record.resource_id) {
            self.push(difference(
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
            self.push(found);
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
            self.push(found);
        }
        for op in ops {
            self.push_op(op);
        }
    }

    /// A ledger number the file does not list: missing at the provider when
    /// it is on an instance the file covers (a direct selection has no
    /// number at the provider).
    fn unlisted(&mut self, number: &NumberRecord) {
        let Some(covered) = self.current.as_mut() else {
            return;
        };
        let Some(instance) = covered.ledger.as_ref() else {
            return;
        };
        if number.origin == Origin::Direct || number.instance_id != instance.instance_id {
            return;
        }
        let found = Difference {
            class: Class::MissingAtProvider,
            number: Some(number.number.clone()),
            instance_id: instance.instance_id.clone(),
            ledger: json!({"status": number.status.to_string()}),
            provider: Value::Null,
            expressed: false,
        };
        push_later(&mut self.differences, covered, found);
    }

    /// The end of an instance: counts beyond the ledger's consumed slots.
    fn close(&mut self) {
        let Some(covered) = self.current.as_mut() else {
            return;
        };
        if let Some(instance) = &covered.ledger {
            if covered.listed > instance.consumed {
                let found = Difference {
                    class: Class::QuotaDiffers,
                    number: None,
                    instance_id: instance.instance_id.clone(),
                    ledger: json!({"consumed": instance.consumed}),
                    provider: json!({"numbers": covered.listed}),
                    expressed: covered.listed <= instance.consumed + covered.allocations,
                };
                push_later(&mut self.differences, covered, found);
            }
        }
        self.current = None;
    }

    /// The outcome, its differences and ops in output order; `numbers` is
    /// the count of distinct numbers the file lists.
    pub(crate) fn finish(mut self, numbers: i64) -> Outcome {
        self.close();
        self.differences.sort_by_key(|(rank, _)| *rank);
        self.ops.sort_by_key(|(rank, _)| *rank);
        Outcome {
            numbers,
            instances: self.instances,
            differences: self.differences.into_iter().map(|(_, d)| d).collect(),
            ops: self.ops.into_iter().map(|(_, op)| op).collect(),
        }
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
