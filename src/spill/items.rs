//! What `reconcile` sorts (`ByNumber`, `ByInstance`): the bytes each
//! item is said to take, and its encoding in a run.

use super::{Decoder, Encoder, Spill};
use crate::error::{Error, Result};

use crate::domain::reconcile::{ByInstance, ByNumber, Entry, ProviderRecord};
use crate::domain::record::{Field, FieldRead, FieldResult, Record};
use crate::domain::types::{Instance, NumberRecord};
use std::borrow::Cow;

/// The heap bytes of a string, with the allocator's own overhead.
fn text_bytes(text: &str) -> usize {
    text.len() + 16
}

fn record_bytes(r: &ProviderRecord) -> usize {
    text_bytes(&r.sn)
        + r.beian_num.as_deref().map_or(0, text_bytes)
        + text_bytes(&r.ali_uid)
        + text_bytes(&r.resource_id)
}

fn encode_record(r: &ProviderRecord, out: &mut Encoder) {
    out.str(&r.sn);
    out.u64(u64::from(r.status));
    out.option_str(r.beian_num.as_deref());
    out.str(&r.ali_uid);
    out.i64(r.resource_type);
    out.str(&r.resource_id);
}

fn decode_record(input: &mut Decoder) -> Result<ProviderRecord> {
    Ok(ProviderRecord {
        sn: input.string()?,
        status: u8::try_from(input.u64()?).map_err(|_| Error::storage("a bad temporary file"))?,
        beian_num: input.option_string()?,
        ali_uid: input.string()?,
        resource_type: input.i64()?,
        resource_id: input.string()?,
    })
}

/// The bytes a record is said to take: its size and each text it holds.
fn fields_bytes<R: Record>(r: &R) -> usize {
    let mut bytes = std::mem::size_of::<R>();
    r.each_field(&mut |_, field| {
        bytes += match field {
            Field::Text(text) => text_bytes(text),
            Field::OptionalText(text) => text.map_or(0, text_bytes),
            Field::List(texts) => texts.iter().map(|text| text_bytes(text) + 24).sum(),
            _ => 0,
        }
    });
    bytes
}

/// A record's fields in order (`domain::record`).
fn encode_fields(r: &impl Record, out: &mut Encoder) {
    r.each_field(&mut |_, field| match field {
        Field::Text(text) | Field::Word(text) => out.str(text),
        Field::OptionalText(text) => out.option_str(text),
        Field::Integer(number) => out.i64(number),
        Field::OptionalInteger(number) => out.option_i64(number),
        Field::Flag(flag) => out.bool(flag),
        Field::List(texts) => {
            out.u64(texts.len() as u64);
            texts.iter().for_each(|text| out.str(text));
        }
    });
}

fn decode_fields<R: Record>(input: &mut Decoder) -> Result<R> {
    let mut failed = None;
    let record = R::read(&mut Fields {
        input,
        failed: &mut failed,
    });
    match (record, failed) {
        (_, Some(error)) => Err(error),
        (Ok(record), None) => Ok(record),
        (Err(why), None) => Err(Error::storage(format!("a temporary file: {why}"))),
    }
}

/// A run's bytes read as a record's fields; the first error the decoder
/// gives is kept as it is.
struct Fields<'d, 'a> {
    input: &'d mut Decoder<'a>,
    failed: &'d mut Option<Error>,
}

impl Fields<'_, '_> {
    fn kept<T>(&mut self, value: Result<T>) -> FieldResult<T> {
        value.map_err(|error| {
            let why = error.to_string();
            self.failed.get_or_insert(error);
            why
        })
    }
}

impl FieldRead for Fields<'_, '_> {
    fn text(&mut self, _: &'static str) -> FieldResult<Cow<'_, str>> {
        let text = self.input.string();
        Ok(Cow::Owned(self.kept(text)?))
    }
    fn optional_text(&mut self, _: &'static str) -> FieldResult<Option<Cow<'_, str>>> {
        let text = self.input.option_string();
        Ok(self.kept(text)?.map(Cow::Owned))
    }
    fn integer(&mut self, _: &'static str) -> FieldResult<i64> {
        let number = self.input.i64();
        self.kept(number)
    }
    fn optional_integer(&mut self, _: &'static str) -> FieldResult<Option<i64>> {
        let number = self.input.option_i64();
        self.kept(number)
    }
    fn flag(&mut self, _: &'static str) -> FieldResult<bool> {
        let flag = self.input.bool();
        self.kept(flag)
    }
    fn list(&mut self, _: &'static str) -> FieldResult<Vec<String>> {
        let count = self.input.u64();
        // invariant: a list is far shorter than the run it is in.
        let count = self.kept(count)?.min(1 << 20);
        let mut texts = Vec::new();
        for _ in 0..count {
            let text = self.input.string();
            texts.push(self.kept(text)?);
        }
        Ok(texts)
    }
}

impl Spill for ByNumber {
    fn size_bytes(&self) -> usize {
        text_bytes(&self.folded_sn) + record_bytes(&self.record)
    }
    fn encode(&self, out: &mut Encoder) {
        out.u64(self.ordinal);
        encode_record(&self.record, out);
    }
    fn decode(input: &mut Decoder) -> Result<Self> {
        let ordinal = input.u64()?;
        Ok(ByNumber::new(ordinal, decode_record(input)?))
    }
}

impl Spill for ByInstance {
    fn size_bytes(&self) -> usize {
        text_bytes(&self.folded_instance)
            + match &self.entry {
                Entry::Listed {
                    record,
                    number,
                    instance,
                    ..
                } => {
                    record_bytes(record)
                        + number.as_ref().map_or(0, fields_bytes)
                        + instance.as_ref().map_or(0, fields_bytes)
                }
                Entry::Unlisted(number) => fields_bytes(number),
            }
    }
    fn encode(&self, out: &mut Encoder) {
        match &self.entry {
            Entry::Listed {
                ordinal,
                record,
                number,
                instance,
            } => {
                out.bool(true);
                out.u64(*ordinal);
                encode_record(record, out);
                out.bool(number.is_some());
                if let Some(number) = number {
                    encode_fields(number, out);
                }
                out.bool(instance.is_some());
                if let Some(instance) = instance {
                    encode_fields(instance, out);
                }
            }
            Entry::Unlisted(number) => {
                out.bool(false);
                encode_fields(number, out);
            }
        }
    }
    fn decode(input: &mut Decoder) -> Result<Self> {
        let entry = if input.bool()? {
            let ordinal = input.u64()?;
            let record = decode_record(input)?;
            let number = if input.bool()? {
                Some(decode_fields::<NumberRecord>(input)?)
            } else {
                None
            };
            let instance = if input.bool()? {
                Some(decode_fields::<Instance>(input)?)
            } else {
                None
            };
            Entry::Listed {
                ordinal,
                record,
                number,
                instance,
            }
        } else {
            Entry::Unlisted(decode_fields::<NumberRecord>(input)?)
        };
        Ok(ByInstance::new(entry))
    }
}
