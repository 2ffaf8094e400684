//! What `reconcile` sorts (`ByNumber`, `ByInstance`): the bytes each
//! item is said to take, and its encoding in a run.

use super::{Decoder, Encoder, Spill};
use crate::error::{Error, Result};

use crate::domain::reconcile::{ByInstance, ByNumber, Entry, ProviderRecord};
use crate::domain::types::{Billing, Instance, InstanceState, NumberRecord, Origin, Status};

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

fn number_bytes(n: &NumberRecord) -> usize {
    std::mem::size_of::<NumberRecord>()
        + text_bytes(&n.number)
        + text_bytes(&n.instance_id)
        + text_bytes(&n.owner)
        + text_bytes(&n.holder)
        + n.service.as_deref().map_or(0, text_bytes)
        + n.icp_number.as_deref().map_or(0, text_bytes)
}

fn encode_number(n: &NumberRecord, out: &mut Encoder) {
    out.str(&n.number);
    out.str(&n.instance_id);
    out.str(&n.owner);
    out.str(&n.holder);
    out.str(n.status.as_str());
    out.option_str(n.service.as_deref());
    out.option_str(n.icp_number.as_deref());
    out.str(n.origin.as_str());
    out.i64(n.issued_seq);
    out.i64(n.updated_seq);
}

fn decode_number(input: &mut Decoder) -> Result<NumberRecord> {
    Ok(NumberRecord {
        number: input.string()?,
        instance_id: input.string()?,
        owner: input.string()?,
        holder: input.string()?,
        status: Status::parse("status", &input.string()?)?,
        service: input.option_string()?,
        icp_number: input.option_string()?,
        origin: Origin::parse("origin", &input.string()?)?,
        issued_seq: input.i64()?,
        updated_seq: input.i64()?,
    })
}

fn instance_bytes(i: &Instance) -> usize {
    std::mem::size_of::<Instance>()
        + text_bytes(&i.instance_id)
        + text_bytes(&i.service_type)
        + text_bytes(&i.account)
        + text_bytes(&i.region)
        + text_bytes(&i.expires_at)
        + i.public_ip.as_deref().map_or(0, text_bytes)
}

fn encode_instance(i: &Instance, out: &mut Encoder) {
    out.str(&i.instance_id);
    out.str(&i.service_type);
    out.str(&i.account);
    out.str(&i.region);
    out.str(i.billing.as_str());
    out.i64(i.subscription_months);
    out.str(&i.expires_at);
    out.option_str(i.public_ip.as_deref());
    out.option_i64(i.order_amount_fen);
    out.str(i.state.as_str());
    out.i64(i.consumed);
    out.i64(i.updated_seq);
}

fn decode_instance(input: &mut Decoder) -> Result<Instance> {
    Ok(Instance {
        instance_id: input.string()?,
        service_type: input.string()?,
        account: input.string()?,
        region: input.string()?,
        billing: Billing::parse("billing", &input.string()?)?,
        subscription_months: input.i64()?,
        expires_at: input.string()?,
        public_ip: input.option_string()?,
        order_amount_fen: input.option_i64()?,
        state: InstanceState::parse("state", &input.string()?)?,
        consumed: input.i64()?,
        updated_seq: input.i64()?,
    })
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
                        + number.as_ref().map_or(0, number_bytes)
                        + instance.as_ref().map_or(0, instance_bytes)
                }
                Entry::Unlisted(number) => number_bytes(number),
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
                    encode_number(number, out);
                }
                out.bool(instance.is_some());
                if let Some(instance) = instance {
                    encode_instance(instance, out);
                }
            }
            Entry::Unlisted(number) => {
                out.bool(false);
                encode_number(number, out);
            }
        }
    }
    fn decode(input: &mut Decoder) -> Result<Self> {
        let entry = if input.bool()? {
            let ordinal = input.u64()?;
            let record = decode_record(input)?;
            let number = if input.bool()? {
                Some(decode_number(input)?)
            } else {
                None
            };
            let instance = if input.bool()? {
                Some(decode_instance(input)?)
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
            Entry::Unlisted(decode_number(input)?)
        };
        Ok(ByInstance::new(entry))
    }
}
