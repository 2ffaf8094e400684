//! Order-independent digests of the derived tables, so `verify` can compare
//! millions of stored rows with the rebuilt state without a row-by-row
//! merge: each row's hash (over length-prefixed fields) is added up,
//! so the order rows are read in does not matter and a repeated row does not
//! cancel out. Rows are compared one by one only when a table's digest
//! differs, to name the first bad event.
//!
//! The row hash is SipHash-1-3 under a key drawn at random for each run
//! (std's `RandomState`): far cheaper than SHA-256 on millions of short
//! rows, and someone editing the file cannot aim at a sum for a key that
//! exists only inside the `verify` process that checks it.

use super::evolve::Change;
use super::record::{Field, Record};
use std::hash::{BuildHasher, Hasher};
use std::sync::OnceLock;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Digest {
    sum: u64,
    pub count: u64,
}

/// The secret key of this process (the same for both sides compared). A
/// forger who cannot see it has one chance in 2^64 to match a sum.
fn key() -> &'static std::collections::hash_map::RandomState {
    static KEY: OnceLock<std::collections::hash_map::RandomState> = OnceLock::new();
    KEY.get_or_init(Default::default)
}

/// Builds one row's hash field by field.
struct RowHasher(std::collections::hash_map::DefaultHasher);

impl RowHasher {
    fn update(&mut self, bytes: impl AsRef<[u8]>) {
        self.0.write(bytes.as_ref());
    }
}

impl RowHasher {
    fn text(&mut self, value: &str) -> &mut Self {
        self.bytes(Some(value.as_bytes()))
    }
    fn optional(&mut self, value: Option<&str>) -> &mut Self {
        self.bytes(value.map(str::as_bytes))
    }
    fn bytes(&mut self, value: Option<&[u8]>) -> &mut Self {
        match value {
            // invariant: a field is far shorter than 4 GiB (limits on input).
            Some(bytes) => {
                self.update((bytes.len() as u32).to_le_bytes());
                self.update(bytes);
            }
            None => self.update(u32::MAX.to_le_bytes()),
        }
        self
    }
    fn integer(&mut self, value: i64) -> &mut Self {
        self.bytes(Some(&value.to_le_bytes()))
    }
    fn optional_integer(&mut self, value: Option<i64>) -> &mut Self {
        match value {
            Some(value) => self.integer(value),
            None => self.bytes(None),
        }
    }

    /// Each field of `r` in order (a list ends with a mark no text is).
    fn record(&mut self, r: &impl Record) {
        r.each_field(&mut |_, field| {
            match field {
                Field::Text(text) | Field::Word(text) => self.text(text),
                Field::OptionalText(text) => self.optional(text),
                Field::Integer(number) => self.integer(number),
                Field::OptionalInteger(number) => self.optional_integer(number),
                Field::Flag(flag) => self.integer(i64::from(flag)),
                Field::List(texts) => {
                    texts.iter().for_each(|text| {
                        self.text(text);
                    });
                    self.integer(-1)
                }
            };
        });
    }
}

impl Digest {
    fn add(&mut self, fill: impl FnOnce(&mut RowHasher)) {
        let mut row = RowHasher(key().build_hasher());
        fill(&mut row);
        self.sum = self.sum.wrapping_add(row.0.finish());
        self.count += 1;
    }

    /// Marks a row that could not be read: the digest no longer matches
    /// any rebuilt table.
    pub(crate) fn spoil(&mut self) {
        self.add(|h| {
            h.text("unreadable row");
        });
        self.sum ^= 1;
    }

    /// Adds one row of a derived table.
    pub(crate) fn record(&mut self, r: &impl Record) {
        self.add(|h| h.record(r))
    }

    /// One history index row, the subject given in parts (`i`, `:`, id).
    pub(crate) fn subject(&mut self, parts: &[&str], seq: i64) {
        self.add(|h| {
            let length: usize = parts.iter().map(|p| p.len()).sum();
            h.update((length as u32).to_le_bytes());
            for part in parts {
                h.update(part.as_bytes());
            }
            h.integer(seq);
        })
    }
}

/// A digest per derived table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct TableDigests {
    pub policy: Digest,
    pub instances: Digest,
    pub numbers: Digest,
    pub services: Digest,
    pub requests: Digest,
    pub subjects: Digest,
    pub regions: Digest,
    /// The past versions (`*_past`), where the backend keeps them.
    pub past: PastDigests,
}

/// A digest per table of past versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct PastDigests {
    pub policy: Digest,
    pub instances: Digest,
    pub numbers: Digest,
    pub services: Digest,
    pub regions: Digest,
}

impl PastDigests {
    /// Adds the version `row` superseded by the event `superseded_seq` (a
    /// `*_past` row: the row's fields, then that seq). Requests and removals
    /// have no past versions.
    pub(crate) fn add(&mut self, row: &Change, superseded_seq: i64) {
        let (digest, fill): (&mut Digest, &dyn Fn(&mut RowHasher)) = match row {
            Change::Instance(r) => (&mut self.instances, &|h| h.record(r)),
            Change::Number(r) => (&mut self.numbers, &|h| h.record(r)),
            Change::Service(r) => (&mut self.services, &|h| h.record(r)),
            Change::Policy(r) => (&mut self.policy, &|h| h.record(r)),
            Change::Region(r) => (&mut self.regions, &|h| h.record(r)),
            Change::Request(_) | Change::ForgetService { .. } => return,
        };
        digest.add(|h| {
            fill(h);
            h.integer(superseded_seq);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_does_not_matter_and_duplicates_count() {
        let (mut a, mut b) = (Digest::default(), Digest::default());
        a.subject(&["i", ":", "x"], 1);
        a.subject(&["i", ":", "y"], 2);
        b.subject(&["i", ":y"], 2);
        b.subject(&["i:x"], 1);
        assert_eq!(a, b);
        b.subject(&["i:x"], 1);
        assert_ne!(a, b);
        let mut c = Digest::default();
        c.subject(&["i:x"], 2);
        c.subject(&["i:y"], 1);
        assert_ne!(a, c);
    }
}
