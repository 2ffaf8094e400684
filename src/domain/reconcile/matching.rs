//! The first pass of a reconcile: the provider's records, sorted by
//! folded number, walked beside the ledger's numbers in the same order;
//! what each record meets becomes an `Entry`, keyed for the second pass
//! by instance (`ByInstance`).

use super::*;

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
