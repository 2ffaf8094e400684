//! Instances held compactly for `verify`'s rebuilt state (docs/reference.md
//! "Guarantees"): the replay of a 5,000,000-event log holds every instance
//! at once, and a `HashMap<String, Instance>` costs about 600 bytes an
//! instance there. Here the id is held once (as the key), each other
//! required text (service type, account, region, expiry time: short texts
//! that repeat) and each word once per column as a symbol, and the rest of
//! the fields in a few bytes of one row: an IPv4 address as four, a number
//! as a variable-length integer. The row is made from the record's
//! declaration (`domain::record`), so a new field is held without an edit
//! here.

use super::evolve::Keyed;
use super::record::{Field, FieldRead, FieldResult, Record};
use super::types::Instance;
use std::borrow::Cow;
use std::collections::HashMap;

/// Repeated short texts of one column, each held once, named by a small
/// number.
#[derive(Debug, Default)]
struct Symbols {
    numbers: HashMap<Box<str>, u32>,
    texts: Vec<Box<str>>,
    /// The last symbol given: rows often repeat the row before (an import
    /// of one account's instances, expiries in date order).
    last: u32,
}

impl Symbols {
    fn symbol(&mut self, text: &str) -> u32 {
        if self
            .texts
            .get(self.last as usize)
            .is_some_and(|last| **last == *text)
        {
            return self.last;
        }
        let number = match self.numbers.get(text) {
            Some(number) => *number,
            None => {
                let count = self.texts.len();
                // invariant: 2^32 distinct texts of one column would need
                // more memory than verify's limit allows (limits on input).
                let number = u32::try_from(count).expect("fewer than 2^32 texts");
                self.texts.push(text.into());
                self.numbers.insert(text.into(), number);
                number
            }
        };
        self.last = number;
        number
    }

    fn text(&self, symbol: u32) -> Option<&str> {
        self.texts.get(symbol as usize).map(|text| &**text)
    }
}

/// How an optional text is held: absent, an IPv4 address in its usual
/// spelling (four bytes), or any other text as it is.
const ABSENT: u8 = 0;
const IPV4: u8 = 1;
const TEXT: u8 = 2;

/// Writes one row's fields (all but the key) as bytes.
struct Packer<'t> {
    symbols: &'t mut Vec<Symbols>,
    bytes: Vec<u8>,
    column: usize,
}

impl Packer<'_> {
    fn symbol(&mut self, text: &str) {
        if self.symbols.len() <= self.column {
            self.symbols.resize_with(self.column + 1, Symbols::default);
        }
        let symbol = self.symbols[self.column].symbol(text);
        self.bytes.extend_from_slice(&symbol.to_le_bytes());
    }

    /// A zigzag LEB128 integer: small numbers take one byte.
    fn integer(&mut self, number: i64) {
        let mut value = ((number << 1) ^ (number >> 63)) as u64;
        while value >= 0x80 {
            self.bytes.push((value as u8) | 0x80);
            value >>= 7;
        }
        self.bytes.push(value as u8);
    }

    fn text(&mut self, text: &str) {
        self.integer(text.len() as i64);
        self.bytes.extend_from_slice(text.as_bytes());
    }

    fn optional_text(&mut self, text: Option<&str>) {
        let Some(text) = text else {
            return self.bytes.push(ABSENT);
        };
        match text.parse::<std::net::Ipv4Addr>() {
            // Only where the address reads back as the same text.
            Ok(address) if address.to_string() == text => {
                self.bytes.push(IPV4);
                self.bytes.extend_from_slice(&address.octets());
            }
            _ => {
                self.bytes.push(TEXT);
                self.text(text);
            }
        }
    }

    fn field(&mut self, field: Field<'_>) {
        match field {
            Field::Text(text) | Field::Word(text) => self.symbol(text),
            Field::OptionalText(text) => self.optional_text(text),
            Field::Integer(number) => self.integer(number),
            Field::OptionalInteger(None) => self.bytes.push(ABSENT),
            Field::OptionalInteger(Some(number)) => {
                self.bytes.push(TEXT);
                self.integer(number);
            }
            Field::Flag(flag) => self.bytes.push(u8::from(flag)),
            Field::List(texts) => {
                self.integer(texts.len() as i64);
                texts.iter().for_each(|text| self.text(text));
            }
        }
        self.column += 1;
    }
}

/// Reads one row back: the key, then each field from the row's bytes.
struct Unpacker<'t> {
    symbols: &'t [Symbols],
    key: &'t str,
    bytes: &'t [u8],
    column: usize,
}

const DAMAGED: &str = "a packed row does not read back";

impl<'t> Unpacker<'t> {
    fn byte(&mut self) -> FieldResult<u8> {
        let (first, rest) = self.bytes.split_first().ok_or(DAMAGED)?;
        self.bytes = rest;
        Ok(*first)
    }

    fn take(&mut self, count: usize) -> FieldResult<&'t [u8]> {
        if self.bytes.len() < count {
            return Err(DAMAGED.to_string());
        }
        let (head, rest) = self.bytes.split_at(count);
        self.bytes = rest;
        Ok(head)
    }

    fn integer(&mut self) -> FieldResult<i64> {
        let (mut value, mut shift) = (0u64, 0);
        loop {
            let byte = self.byte()?;
            value |= u64::from(byte & 0x7f) << shift;
            if byte < 0x80 || shift >= 63 {
                break;
            }
            shift += 7;
        }
        Ok(((value >> 1) as i64) ^ -((value & 1) as i64))
    }

    fn inline_text(&mut self) -> FieldResult<&'t str> {
        let length = usize::try_from(self.integer()?).map_err(|_| DAMAGED)?;
        std::str::from_utf8(self.take(length)?).map_err(|_| DAMAGED.to_string())
    }

    /// The next column: the key comes first.
    fn next_column(&mut self) -> usize {
        self.column += 1;
        self.column - 1
    }
}

impl FieldRead for Unpacker<'_> {
    fn text(&mut self, _: &'static str) -> FieldResult<Cow<'_, str>> {
        let column = self.next_column();
        if column == 0 {
            return Ok(Cow::Borrowed(self.key));
        }
        let symbol = u32::from_le_bytes(self.take(4)?.try_into().map_err(|_| DAMAGED)?);
        let symbols = self.symbols.get(column).ok_or(DAMAGED)?;
        Ok(Cow::Borrowed(symbols.text(symbol).ok_or(DAMAGED)?))
    }
    fn optional_text(&mut self, _: &'static str) -> FieldResult<Option<Cow<'_, str>>> {
        self.next_column();
        Ok(match self.byte()? {
            ABSENT => None,
            IPV4 => {
                let octets: [u8; 4] = self.take(4)?.try_into().map_err(|_| DAMAGED)?;
                Some(Cow::Owned(std::net::Ipv4Addr::from(octets).to_string()))
            }
            _ => Some(Cow::Borrowed(self.inline_text()?)),
        })
    }
    fn integer(&mut self, _: &'static str) -> FieldResult<i64> {
        self.next_column();
        Unpacker::integer(self)
    }
    fn optional_integer(&mut self, _: &'static str) -> FieldResult<Option<i64>> {
        self.next_column();
        match self.byte()? {
            ABSENT => Ok(None),
            _ => Ok(Some(Unpacker::integer(self)?)),
        }
    }
    fn flag(&mut self, _: &'static str) -> FieldResult<bool> {
        self.next_column();
        Ok(self.byte()? != 0)
    }
    fn list(&mut self, _: &'static str) -> FieldResult<Vec<String>> {
        self.next_column();
        let count = Unpacker::integer(self)?;
        (0..count)
            .map(|_| self.inline_text().map(str::to_string))
            .collect()
    }
}

/// Records by key, compactly (`Instance`s in verify). Rows are never
/// moved: a removed key leaves its row unreachable (verify removes rows
/// only while comparing, at the end).
#[derive(Debug)]
pub(crate) struct PackedTable<R> {
    index: HashMap<Box<str>, u32>,
    rows: Vec<Box<[u8]>>,
    /// Per column, the symbols of its texts and words.
    symbols: Vec<Symbols>,
    record: std::marker::PhantomData<R>,
}

pub(crate) type InstanceTable = PackedTable<Instance>;

impl<R> Default for PackedTable<R> {
    fn default() -> Self {
        PackedTable {
            index: HashMap::new(),
            rows: Vec::new(),
            symbols: Vec::new(),
            record: std::marker::PhantomData,
        }
    }
}

impl<R: Record + Keyed> PackedTable<R> {
    pub(crate) fn reserve(&mut self, records: usize) {
        self.index.reserve(records);
        self.rows.reserve(records);
    }

    /// Inserts `record` and returns the one it replaced when `keep` says
    /// so of that one's seq (one look-up).
    pub(crate) fn replace(&mut self, record: R, keep: impl Fn(i64) -> bool) -> Option<R> {
        let row = self.row(&record);
        let key = record.key();
        match self.index.get(key) {
            Some(position) => {
                let old = self.decode(key, &self.rows[*position as usize]);
                let replaced = keep(old.seq()).then_some(old);
                self.rows[*position as usize] = row;
                replaced
            }
            None => {
                // invariant: 2^32 rows at ~100 bytes each would be 400 GB,
                // far past verify's memory limit.
                let position = u32::try_from(self.rows.len()).expect("fewer than 2^32 rows");
                self.rows.push(row);
                self.index.insert(key.into(), position);
                None
            }
        }
    }

    pub(crate) fn get(&self, key: &str) -> Option<R> {
        let position = self.index.get(key)?;
        Some(self.decode(key, &self.rows[*position as usize]))
    }

    pub(crate) fn remove(&mut self, key: &str) -> Option<R> {
        let position = self.index.remove(key)?;
        Some(self.decode(key, &self.rows[position as usize]))
    }

    /// Every record, in no particular order (one record refilled for
    /// each: no allocation per row).
    pub(crate) fn each(&self, mut visit: impl FnMut(&R)) {
        let mut record: Option<R> = None;
        for (key, position) in &self.index {
            let row = &self.rows[*position as usize];
            let record = match &mut record {
                Some(record) => {
                    let refilled = record.read_into(&mut self.unpacker(key, row));
                    // invariant: a row reads back as it was written (the
                    // same code wrote it in this process).
                    refilled.expect("a packed row reads back");
                    record
                }
                None => record.insert(self.decode(key, row)),
            };
            visit(record);
        }
    }

    fn row(&mut self, record: &R) -> Box<[u8]> {
        let mut packer = Packer {
            symbols: &mut self.symbols,
            bytes: Vec::with_capacity(48),
            column: 0,
        };
        record.each_field(&mut |_, field| {
            // The key is held once, in the index.
            if packer.column == 0 {
                packer.column = 1;
            } else {
                packer.field(field);
            }
        });
        packer.bytes.into_boxed_slice()
    }

    fn unpacker<'t>(&'t self, key: &'t str, row: &'t [u8]) -> Unpacker<'t> {
        Unpacker {
            symbols: &self.symbols,
            key,
            bytes: row,
            column: 0,
        }
    }

    fn decode(&self, key: &str, row: &[u8]) -> R {
        // invariant: a row reads back as it was written (the same code
        // wrote it in this process).
        R::read(&mut self.unpacker(key, row)).expect("a packed row reads back")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn instance(id: &str, account: &str, consumed: i64) -> Instance {
        Instance {
            account: account.to_string(),
            consumed,
            ..Instance::example(id)
        }
    }

    #[test]
    fn a_packed_instance_reads_back_as_it_went_in() {
        let mut table = InstanceTable::default();
        assert_eq!(table.replace(instance("i-1", "acme", 0), |_| true), None);
        assert_eq!(table.replace(instance("i-2", "beta", 3), |_| true), None);
        // The replaced row comes back only when it is asked for.
        assert_eq!(
            table.replace(instance("i-2", "beta", 4), |seq| seq > 1),
            None
        );
        assert_eq!(
            table.replace(instance("i-2", "beta", 3), |seq| seq == 1),
            Some(instance("i-2", "beta", 4))
        );
        table.replace(instance("i-1", "acme", 2), |_| false);
        assert_eq!(table.index.len(), 2);
        assert_eq!(table.get("i-1"), Some(instance("i-1", "acme", 2)));
        assert_eq!(table.get("i-2"), Some(instance("i-2", "beta", 3)));
        assert_eq!(table.get("i-3"), None);
        assert_eq!(table.remove("i-2"), Some(instance("i-2", "beta", 3)));
        assert_eq!(table.get("i-2"), None);
        let mut left = Vec::new();
        table.each(|instance| left.push(instance.clone()));
        assert_eq!(left, [instance("i-1", "acme", 2)]);
        // The account is held once, whatever the number of instances.
        assert_eq!(table.symbols[2].texts.len(), 2);
        assert_eq!(table.symbols[6].texts.len(), 1);
    }

    #[test]
    fn any_field_reads_back_as_it_went_in() {
        let mut table = InstanceTable::default();
        for (index, text) in ["47.1.2.3", "047.1.2.3", "2408:4000::1", "not an ip", ""]
            .into_iter()
            .enumerate()
        {
            let mut record = instance(&format!("i-{index}"), "acme", i64::MIN + index as i64);
            record.public_ip = Some(text.to_string());
            record.order_amount_fen = Some(i64::MAX - index as i64);
            record.updated_seq = -(index as i64);
            table.replace(record.clone(), |_| false);
            assert_eq!(table.get(&record.instance_id), Some(record));
        }
        table.replace(instance("i-none", "acme", 0), |_| false);
        assert_eq!(table.get("i-none"), Some(instance("i-none", "acme", 0)));
        // An IPv4 address takes its four bytes, small numbers one each:
        // today's instance row is 4 × 4 (texts) + 2 × 4 (words) + 1 + 5 +
        // 1 + 1 + 1 = 33 bytes (a bound, so that a new field fits).
        let position = table.index["i-none"] as usize;
        assert!(table.rows[position].len() <= 40);
    }
}
