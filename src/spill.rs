//! An external sort with a fixed memory budget (docs/reconcile.md "Reconciling with
//! the provider"): items are kept in memory until they take about
//! `RUN_BYTES`, then sorted and written to a temporary file as one run; the
//! runs are merged at the end. A stream that fits in the budget never
//! touches the disk. Memory is bounded whatever the stream's length: one
//! run in memory, and a small read buffer per run when merging (at most
//! `FAN_IN` runs; more are first merged into one).

use crate::error::{Error, Result};
use std::collections::BinaryHeap;
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};

/// About how many bytes of items are held before a run is written.
pub(crate) const RUN_BYTES: usize = 8 * 1024 * 1024;
/// The most runs merged at once (each with a `READ_BUFFER_BYTES` buffer).
pub(crate) const FAN_IN: usize = 32;
const READ_BUFFER_BYTES: usize = 64 * 1024;

/// An item the sort can hold and write: ordered, sized, and encoded as
/// bytes (the encoding is private to one run of the program).
pub(crate) trait Spill: Ord + Sized {
    /// About how many bytes the item takes in memory.
    fn size_bytes(&self) -> usize;
    fn encode(&self, out: &mut Encoder);
    fn decode(input: &mut Decoder) -> Result<Self>;
}

/// Items in, sorted items out.
pub(crate) struct Sorter<T: Spill + 'static> {
    held: Vec<T>,
    held_bytes: usize,
    runs: Vec<std::fs::File>,
    budget_bytes: usize,
}

impl<T: Spill + 'static> Default for Sorter<T> {
    fn default() -> Self {
        Sorter::with_budget(RUN_BYTES)
    }
}

impl<T: Spill + 'static> Sorter<T> {
    /// A sorter that writes a run whenever `budget_bytes` are held.
    pub(crate) fn with_budget(budget_bytes: usize) -> Sorter<T> {
        assert!(budget_bytes > 0);
        Sorter {
            held: Vec::new(),
            held_bytes: 0,
            runs: Vec::new(),
            budget_bytes,
        }
    }

    pub(crate) fn push(&mut self, item: T) -> Result<()> {
        self.held_bytes += item.size_bytes() + std::mem::size_of::<T>();
        self.held.push(item);
        if self.held_bytes >= self.budget_bytes {
            self.write_run()?;
        }
        Ok(())
    }

    /// How many runs went to disk so far.
    #[cfg(test)]
    pub(crate) fn runs(&self) -> usize {
        self.runs.len()
    }

    fn write_run(&mut self) -> Result<()> {
        let mut held = std::mem::take(&mut self.held);
        self.held_bytes = 0;
        held.sort_unstable();
        let run = write_items(held.into_iter().map(Ok))?;
        self.runs.push(run);
        if self.runs.len() >= FAN_IN {
            let merged = write_items(Merge::<T>::new(std::mem::take(&mut self.runs))?)?;
            self.runs.push(merged);
        }
        Ok(())
    }

    /// Every item pushed, in order.
    pub(crate) fn sorted(mut self) -> Result<Box<dyn Iterator<Item = Result<T>>>> {
        if self.runs.is_empty() {
            let mut held = std::mem::take(&mut self.held);
            held.sort_unstable();
            return Ok(Box::new(held.into_iter().map(Ok)));
        }
        if !self.held.is_empty() {
            self.write_run()?;
        }
        Ok(Box::new(Merge::new(self.runs)?))
    }
}

fn spill_error(error: std::io::Error) -> Error {
    Error::storage(format!("cannot write a temporary file: {error}"))
}

/// Writes items (already in order) to a fresh temporary file, rewound.
fn write_items<T: Spill>(items: impl Iterator<Item = Result<T>>) -> Result<std::fs::File> {
    let file = tempfile::tempfile().map_err(spill_error)?;
    let mut writer = BufWriter::with_capacity(READ_BUFFER_BYTES, file);
    let mut encoder = Encoder::default();
    for item in items {
        encoder.bytes.clear();
        item?.encode(&mut encoder);
        let length = u32::try_from(encoder.bytes.len())
            .map_err(|_| Error::storage("an item to sort is over 4 GiB".to_string()))?;
        writer
            .write_all(&length.to_le_bytes())
            .map_err(spill_error)?;
        writer.write_all(&encoder.bytes).map_err(spill_error)?;
    }
    let mut file = writer
        .into_inner()
        .map_err(|e| spill_error(e.into_error()))?;
    file.seek(SeekFrom::Start(0)).map_err(spill_error)?;
    Ok(file)
}

/// One run being read back.
struct Run {
    reader: BufReader<std::fs::File>,
    buffer: Vec<u8>,
}

impl Run {
    fn next<T: Spill>(&mut self) -> Result<Option<T>> {
        let mut length = [0_u8; 4];
        match self.reader.read_exact(&mut length) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
            Err(e) => return Err(spill_error(e)),
        }
        self.buffer.resize(u32::from_le_bytes(length) as usize, 0);
        self.reader
            .read_exact(&mut self.buffer)
            .map_err(spill_error)?;
        let mut decoder = Decoder {
            bytes: &self.buffer,
        };
        Ok(Some(T::decode(&mut decoder)?))
    }
}

/// The head item of each run, smallest first.
struct Head<T> {
    item: T,
    run: usize,
}

impl<T: Ord> PartialEq for Head<T> {
    fn eq(&self, other: &Self) -> bool {
        self.item == other.item && self.run == other.run
    }
}
impl<T: Ord> Eq for Head<T> {}
impl<T: Ord> PartialOrd for Head<T> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl<T: Ord> Ord for Head<T> {
    // Reversed: BinaryHeap is a max-heap.
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        other.item.cmp(&self.item).then(other.run.cmp(&self.run))
    }
}

/// A k-way merge of sorted runs.
struct Merge<T> {
    runs: Vec<Run>,
    heads: BinaryHeap<Head<T>>,
}

impl<T: Spill> Merge<T> {
    fn new(files: Vec<std::fs::File>) -> Result<Merge<T>> {
        assert!(files.len() <= FAN_IN);
        let mut merge = Merge {
            runs: Vec::new(),
            heads: BinaryHeap::new(),
        };
        for file in files {
            let mut run = Run {
                reader: BufReader::with_capacity(READ_BUFFER_BYTES, file),
                buffer: Vec::new(),
            };
            if let Some(item) = run.next()? {
                merge.heads.push(Head {
                    item,
                    run: merge.runs.len(),
                });
            }
            merge.runs.push(run);
        }
        Ok(merge)
    }
}

impl<T: Spill> Iterator for Merge<T> {
    type Item = Result<T>;
    fn next(&mut self) -> Option<Result<T>> {
        let Head { item, run } = self.heads.pop()?;
        match self.runs[run].next() {
            Ok(Some(next)) => self.heads.push(Head { item: next, run }),
            Ok(None) => {}
            Err(error) => return Some(Err(error)),
        }
        Some(Ok(item))
    }
}

/// Writes an item's fields.
#[derive(Default)]
pub(crate) struct Encoder {
    bytes: Vec<u8>,
}

impl Encoder {
    pub(crate) fn u64(&mut self, value: u64) {
        self.bytes.extend_from_slice(&value.to_le_bytes());
    }
    pub(crate) fn i64(&mut self, value: i64) {
        self.bytes.extend_from_slice(&value.to_le_bytes());
    }
    pub(crate) fn str(&mut self, value: &str) {
        self.u64(value.len() as u64);
        self.bytes.extend_from_slice(value.as_bytes());
    }
    pub(crate) fn option_str(&mut self, value: Option<&str>) {
        self.bool(value.is_some());
        if let Some(text) = value {
            self.str(text);
        }
    }
    pub(crate) fn option_i64(&mut self, value: Option<i64>) {
        self.bool(value.is_some());
        if let Some(number) = value {
            self.i64(number);
        }
    }
    pub(crate) fn bool(&mut self, value: bool) {
        self.bytes.push(u8::from(value));
    }
}

/// Reads back what `Encoder` wrote.
pub(crate) struct Decoder<'a> {
    bytes: &'a [u8],
}

impl Decoder<'_> {
    fn take(&mut self, count: usize) -> Result<&[u8]> {
        if self.bytes.len() < count {
            return Err(Error::storage("a temporary file was cut short"));
        }
        let (head, tail) = self.bytes.split_at(count);
        self.bytes = tail;
        Ok(head)
    }
    /// The next eight bytes, as an array.
    fn eight(&mut self) -> Result<[u8; 8]> {
        let bytes = self.take(8)?;
        bytes
            .try_into()
            .map_err(|_| Error::storage("a temporary file was cut short"))
    }
    pub(crate) fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_le_bytes(self.eight()?))
    }
    pub(crate) fn i64(&mut self) -> Result<i64> {
        Ok(i64::from_le_bytes(self.eight()?))
    }
    pub(crate) fn string(&mut self) -> Result<String> {
        let length = usize::try_from(self.u64()?).unwrap_or(usize::MAX);
        let bytes = self.take(length)?;
        String::from_utf8(bytes.to_vec())
            .map_err(|_| Error::storage("a temporary file is not UTF-8"))
    }
    pub(crate) fn option_string(&mut self) -> Result<Option<String>> {
        Ok(if self.bool()? {
            Some(self.string()?)
        } else {
            None
        })
    }
    pub(crate) fn option_i64(&mut self) -> Result<Option<i64>> {
        Ok(if self.bool()? {
            Some(self.i64()?)
        } else {
            None
        })
    }
    pub(crate) fn bool(&mut self) -> Result<bool> {
        Ok(self.take(1)?[0] != 0)
    }
}

mod items;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::reconcile::{ByInstance, ByNumber, Entry, ProviderRecord};
    use crate::domain::types::{Billing, Instance, InstanceState, NumberRecord, Origin, Status};

    #[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
    struct Item(String, u64);

    impl Spill for Item {
        fn size_bytes(&self) -> usize {
            self.0.len()
        }
        fn encode(&self, out: &mut Encoder) {
            out.str(&self.0);
            out.u64(self.1);
        }
        fn decode(input: &mut Decoder) -> Result<Self> {
            Ok(Item(input.string()?, input.u64()?))
        }
    }

    fn items(count: u64) -> Vec<Item> {
        // A fixed shuffle: 7919 is prime, so k * 7919 mod count visits all.
        (0..count)
            .map(|k| {
                let n = (k * 7919) % count;
                Item(format!("key-{:05}", n % 977), n)
            })
            .collect()
    }

    fn provider(k: u64) -> ProviderRecord {
        ProviderRecord {
            sn: format!("SN-{:04}", k % 50),
            status: (k % 5) as u8,
            beian_num: k.is_multiple_of(2).then(|| format!("浙ICP备{k}号-1")),
            ali_uid: "acme".into(),
            resource_type: 1,
            resource_id: format!("i-{}", k % 7),
        }
    }

    fn entry(k: u64) -> ByInstance {
        let number = NumberRecord {
            number: format!("sn-{k:04}"),
            instance_id: format!("I-{}", k % 7),
            owner: "acme".into(),
            holder: "blue".into(),
            status: Status::Filing,
            service: k.is_multiple_of(3).then(|| format!("s{k}.example.cn")),
            icp_number: None,
            origin: Origin::Issued,
            issued_seq: (k % 11) as i64,
            updated_seq: 9,
        };
        if k.is_multiple_of(4) {
            return ByInstance::new(Entry::Unlisted(number));
        }
        let instance = Instance {
            billing: Billing::Trial,
            subscription_months: 1,
            expires_at: "2030-01-01T00:00:00Z".into(),
            public_ip: None,
            order_amount_fen: Some(-5),
            state: InstanceState::Released,
            consumed: 3,
            updated_seq: 4,
            ..Instance::example(&format!("I-{}", k % 7))
        };
        ByInstance::new(Entry::Listed {
            ordinal: k,
            record: provider(k),
            number: (k % 3 != 1).then_some(number),
            instance: (k % 2 == 1).then_some(instance),
        })
    }

    /// What reconcile sorts comes back from disk as it went in, in order.
    fn spilled_like_held<T: Spill + Clone + std::fmt::Debug + 'static>(items: Vec<T>) {
        let mut want = items.clone();
        want.sort();
        let mut sorter = Sorter::with_budget(300);
        for item in items {
            sorter.push(item).unwrap();
        }
        assert!(sorter.runs() > 1);
        let out: Vec<T> = sorter.sorted().unwrap().map(|i| i.unwrap()).collect();
        assert_eq!(out, want);
    }

    #[test]
    fn reconcile_items_round_trip_through_runs() {
        spilled_like_held((0..400).map(|k| ByNumber::new(k, provider(k))).collect());
        spilled_like_held((0..400).map(entry).collect());
    }

    #[test]
    fn sorts_in_memory_and_across_many_runs() {
        for budget in [usize::MAX / 2, 4096, 200] {
            let mut sorter = Sorter::with_budget(budget);
            for item in items(5000) {
                sorter.push(item).unwrap();
            }
            let spilled = sorter.runs() > 0;
            assert_eq!(spilled, budget < 1_000_000, "budget {budget}");
            let out: Vec<Item> = sorter.sorted().unwrap().map(|i| i.unwrap()).collect();
            let mut want = items(5000);
            want.sort();
            assert_eq!(out, want, "budget {budget}");
        }
    }
}
