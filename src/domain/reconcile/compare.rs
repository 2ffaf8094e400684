//! The second pass of a reconcile: the entries of the first, one instance
//! at a time, compared with the ledger; what differs becomes a
//! `Difference`, and what the ledger can express an `Op`.

use super::*;
use crate::domain::eligibility::failing_reasons;
use crate::domain::event::DifferenceCounts;

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
                LedgerSide::Account {
                    account: instance.account.clone(),
                },
                ProviderSide::AliUid {
                    ali_uid: record.ali_uid.clone(),
                },
            ));
        }
        if !type_fits(record.resource_type, &instance.service_type) {
            found.push(difference(
                Class::TypeDiffers,
                record,
                &instance.instance_id,
                LedgerSide::ServiceType {
                    service_type: instance.service_type.clone(),
                },
                ProviderSide::ResourceType {
                    resource_type: record.resource_type,
                },
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
        let found = Difference {
            class: Class::UnknownNumber,
            number: Some(record.sn.clone()),
            instance_id,
            ledger: None,
            provider: Some(ProviderSide::Record(record)),
            expressed,
        };
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
                LedgerSide::InstanceId {
                    instance_id: number.instance_id.clone(),
                },
                ProviderSide::ResourceId {
                    resource_id: record.resource_id.clone(),
                },
            ));
        }
        let ops = status_ops(number, record);
        let fixed = !ops.is_empty();
        if !status_agrees(number.status, record.status) {
            let mut found = difference(
                Class::StatusDiffers,
                record,
                &number.instance_id,
                LedgerSide::Status {
                    status: number.status,
                },
                ProviderSide::Status {
                    status: record.status,
                    meaning: provider_status_meaning(record.status),
                },
            );
            found.expressed = fixed;
            self.push(found);
        }
        if icp_differs(number, record) {
            let mut found = difference(
                Class::IcpNumberDiffers,
                record,
                &number.instance_id,
                LedgerSide::IcpNumber {
                    icp_number: number.icp_number.clone(),
                },
                ProviderSide::BeianNum {
                    beian_num: record.beian_num.clone(),
                },
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
            ledger: Some(LedgerSide::Status {
                status: number.status,
            }),
            provider: None,
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
                    ledger: Some(LedgerSide::Consumed {
                        consumed: instance.consumed,
                    }),
                    provider: Some(ProviderSide::Numbers {
                        numbers: covered.listed,
                    }),
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

/// A difference both sides have a word on.
fn difference(
    class: Class,
    record: &ProviderRecord,
    instance_id: &str,
    ledger: LedgerSide,
    provider: ProviderSide,
) -> Difference {
    Difference {
        class,
        number: Some(record.sn.clone()),
        instance_id: instance_id.to_string(),
        ledger: Some(ledger),
        provider: Some(provider),
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

/// A difference of the instance `covered`, found after its records.
fn push_later(
    differences: &mut Vec<(Rank, Difference)>,
    covered: &mut Covered,
    difference: Difference,
) {
    differences.push(((1, covered.first_ordinal, covered.later), difference));
    covered.later += 1;
}
