//! Events: the kinds, their payloads, the hash chain (docs/reference.md "The log and its
//! hash"), and which instances, numbers, accounts and services each event
//! names.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub(crate) const GENESIS_HASH: &str =
    "0000000000000000000000000000000000000000000000000000000000000000";

/// One row of the log.
/// The columns of the log, in order (docs/reference.md "The log and its hash").
pub(crate) const EVENT_COLUMNS: [&str; 8] = [
    "seq",
    "event_id",
    "at",
    "actor",
    "kind",
    "payload",
    "prev_hash",
    "hash",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Event {
    pub seq: i64,
    pub event_id: String,
    pub at: String,
    pub actor: String,
    pub kind: String,
    pub payload: String,
    pub prev_hash: String,
    pub hash: String,
}

impl Event {
    /// Seals a new event onto the chain after `prev_hash`.
    pub(crate) fn seal(
        seq: i64,
        event_id: String,
        at: String,
        actor: String,
        body: &Body,
        prev_hash: &str,
    ) -> Event {
        let payload = body.payload();
        let kind = body.kind().to_string();
        let hash = chain_hash(prev_hash, seq, &event_id, &at, &actor, &kind, &payload);
        Event {
            seq,
            event_id,
            at,
            actor,
            kind,
            payload,
            prev_hash: prev_hash.to_string(),
            hash,
        }
    }

    #[cfg(test)]
    pub(crate) fn computed_hash(&self) -> String {
        chain_hash(
            &self.prev_hash,
            self.seq,
            &self.event_id,
            &self.at,
            &self.actor,
            &self.kind,
            &self.payload,
        )
    }

    pub(crate) fn body(&self) -> Result<Body> {
        Body::parse(&self.kind, &self.payload)
    }
}

/// The id of an event as it must be written: a UUID v4 in its canonical
/// lowercase hyphenated text (so one id has one spelling).
pub(crate) fn canonical_event_id(text: &str) -> Option<u128> {
    let id = uuid::Uuid::parse_str(text).ok()?;
    (id.get_version_num() == 4 && id.hyphenated().to_string() == text).then(|| id.as_u128())
}

/// `sha256(prev_hash \n seq \n event_id \n at \n actor \n kind \n payload)`,
/// lowercase hex (docs/reference.md "The log and its hash"). Fed piecewise: no joined copy is built.
pub(crate) fn chain_hash(
    prev_hash: &str,
    seq: i64,
    event_id: &str,
    at: &str,
    actor: &str,
    kind: &str,
    payload: &str,
) -> String {
    let mut hasher = Sha256::new();
    let mut seq_buffer = [0_u8; 20];
    let seq_text = decimal(seq, &mut seq_buffer);
    for (i, part) in [
        prev_hash.as_bytes(),
        seq_text,
        event_id.as_bytes(),
        at.as_bytes(),
        actor.as_bytes(),
        kind.as_bytes(),
        payload.as_bytes(),
    ]
    .iter()
    .enumerate()
    {
        if i > 0 {
            hasher.update(b"\n");
        }
        hasher.update(part);
    }
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut hex = String::with_capacity(64);
    for byte in hasher.finalize() {
        hex.push(HEX[usize::from(byte >> 4)] as char);
        hex.push(HEX[usize::from(byte & 0x0f)] as char);
    }
    hex
}

/// The decimal text of `value` in `buffer` (the hash is computed once per
/// event on every verify, so no allocation here).
fn decimal(value: i64, buffer: &mut [u8; 20]) -> &[u8] {
    if value < 0 {
        // invariant: seqs start at 1; a negative one only comes from a
        // tampered row, whose hash then simply fails to match.
        return b"-";
    }
    let mut value = value as u64;
    let mut start = buffer.len();
    loop {
        start -= 1;
        buffer[start] = b'0' + (value % 10) as u8;
        value /= 10;
        if value == 0 {
            break;
        }
    }
    &buffer[start..]
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct InstanceAdded {
    pub instance_id: String,
    pub service_type: String,
    pub account: String,
    pub region: String,
    pub billing: String,
    pub subscription_months: i64,
    pub expires_at: String,
    pub public_ip: Option<String>,
    /// CNY as a decimal string ("99.00"), exact.
    pub order_amount: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct InstanceRenewed {
    pub instance_id: String,
    pub account: String,
    pub months: i64,
    pub subscription_months: i64,
    pub expires_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct InstanceReleased {
    pub instance_id: String,
    pub account: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PolicySet {
    pub service_type: String,
    pub max_numbers: i64,
    pub min_subscription_months: i64,
    pub min_order_amount: Option<String>,
    pub requires_public_ip: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Allocated {
    pub instance_id: String,
    pub account: String,
    pub numbers: Vec<String>,
    /// The numbers given with `--number` (empty when generated).
    pub asked: Vec<String>,
    pub request_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Selected {
    pub instance_id: String,
    pub account: String,
    pub number: String,
    pub service: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Granted {
    pub number: String,
    pub instance_id: String,
    /// The owner, who alone grants.
    pub owner: String,
    pub from: String,
    pub to: String,
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Bound {
    pub number: String,
    pub instance_id: String,
    pub owner: String,
    pub holder: String,
    pub service: String,
}

/// The payload of every review and end-of-use event on one number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NumberChanged {
    pub number: String,
    pub instance_id: String,
    pub owner: String,
    pub holder: String,
    pub service: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icp_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ServiceMoved {
    pub service: String,
    pub number: String,
    /// Where the number came from, and who owns and holds it.
    pub instance_id: String,
    pub owner: String,
    pub holder: String,
    pub from_host: String,
    pub to_host: String,
    pub commercial: bool,
    pub ip_update_required: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ServiceIpUpdated {
    pub service: String,
    pub number: String,
    pub instance_id: String,
    pub owner: String,
    pub holder: String,
    pub host: String,
}

/// One field an amend changed: its value before and after.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FieldChange<T> {
    pub old: T,
    pub new: T,
}

/// `instance amend`: each changed field with its old and new value; a
/// field that did not change is absent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct InstanceAmended {
    pub instance_id: String,
    /// The owner before the amend.
    pub account: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_ip: Option<FieldChange<Option<String>>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing: Option<FieldChange<String>>,
    /// CNY as a decimal string ("99.00"), exact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_amount: Option<FieldChange<Option<String>>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_type: Option<FieldChange<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<FieldChange<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<FieldChange<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RegionSet {
    pub region: String,
    pub mainland: bool,
}

/// `service rename`: the service's name corrected while its number is bound.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ServiceRenamed {
    pub service: String,
    pub to: String,
    pub number: String,
    pub instance_id: String,
    pub owner: String,
    pub holder: String,
}

/// A comparison with the provider's records (`reconcile --record`, docs/reconcile.md
/// "Reconciling with the provider"): which file, and what it found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Reconciled {
    /// Lowercase hex SHA-256 of the file as read.
    pub file_sha256: String,
    pub file_size_bytes: i64,
    /// Distinct numbers and instances the file names.
    pub numbers: i64,
    pub instances: i64,
    pub differences: DifferenceCounts,
}

/// `clock repair` (docs/guide.md "Time"): the events a clock far ahead dated in
/// the future, first to last, with the times they claim. They keep their
/// times; the repair, dated by the reference clock, lets the log go on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ClockRepaired {
    pub first_seq: i64,
    pub last_seq: i64,
    pub first_claimed_at: String,
    pub last_claimed_at: String,
    pub reason: String,
}

/// The kind of a clock repair, which the chain and the clock scan treat
/// apart (its time may be earlier than the events it covers).
pub(crate) const CLOCK_REPAIRED: &str = "clock_repaired";

/// How many differences of each class (docs/reconcile.md "Reconciling with the
/// provider"), one field per class so the payload's text is fixed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DifferenceCounts {
    pub unknown_number: i64,
    pub missing_at_provider: i64,
    pub status_differs: i64,
    pub icp_number_differs: i64,
    pub owner_differs: i64,
    pub instance_differs: i64,
    pub type_differs: i64,
    pub quota_differs: i64,
}

impl DifferenceCounts {
    /// Every difference, of whatever class.
    pub(crate) fn total(&self) -> i64 {
        self.unknown_number
            + self.missing_at_provider
            + self.status_differs
            + self.icp_number_differs
            + self.owner_differs
            + self.instance_differs
            + self.type_differs
            + self.quota_differs
    }
}

/// One table of every event kind: its `Body` variant, payload struct and
/// name in the log. It makes the enum, `KINDS`, `Body::kind`, `Body::payload`
/// and `Body::parse`, so a new kind is one more row and the lists cannot drift.
macro_rules! event_kinds {
    ($($variant:ident($payload:ty) = $kind:literal),+ $(,)?) => {
        /// What an event says, typed: one variant per kind.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub(crate) enum Body { $($variant($payload)),+ }

        /// Every kind, as written in the log's `kind` column.
        pub(crate) const KINDS: &[&str] = &[$($kind),+];

        impl Body {
            pub(crate) fn kind(&self) -> &'static str {
                match self { $(Body::$variant(_) => $kind),+ }
            }

            /// The payload as it is stored and hashed: JSON text.
            pub(crate) fn payload(&self) -> String {
                match self { $(Body::$variant(payload) => to_json(payload)),+ }
            }

            pub(crate) fn parse(kind: &str, payload: &str) -> Result<Body> {
                match kind {
                    $($kind => Ok(Body::$variant(from_json(kind, payload)?)),)+
                    other => Err(Error::Integrity(format!(
                        "unknown event kind '{}'",
                        super::types::shorten(other)
                    ))),
                }
            }
        }
    };
}

event_kinds! {
    InstanceAdded(InstanceAdded) = "instance_added",
    InstanceRenewed(InstanceRenewed) = "instance_renewed",
    InstanceReleased(InstanceReleased) = "instance_released",
    PolicySet(PolicySet) = "policy_set",
    Allocated(Allocated) = "allocated",
    Selected(Selected) = "selected",
    Granted(Granted) = "granted",
    Bound(Bound) = "bound",
    Submitted(NumberChanged) = "submitted",
    Approved(NumberChanged) = "approved",
    Rejected(NumberChanged) = "rejected",
    Deregistered(NumberChanged) = "deregistered",
    Invalidated(NumberChanged) = "invalidated",
    ServiceMoved(ServiceMoved) = "service_moved",
    ServiceIpUpdated(ServiceIpUpdated) = "service_ip_updated",
    InstanceAmended(InstanceAmended) = "instance_amended",
    RegionSet(RegionSet) = "region_set",
    ServiceRenamed(ServiceRenamed) = "service_renamed",
    Reconciled(Reconciled) = "reconciled",
    ClockRepaired(ClockRepaired) = "clock_repaired",
}

fn to_json<T: Serialize>(value: &T) -> String {
    // invariant: these structs hold only strings, integers, bools and
    // vectors of strings, which always serialise.
    serde_json::to_string(value).expect("invariant: payload structs always serialise")
}

fn from_json<T: for<'de> Deserialize<'de>>(kind: &str, payload: &str) -> Result<T> {
    serde_json::from_str(payload).map_err(|error| {
        Error::Integrity(format!("payload of a {kind} event does not parse: {error}"))
    })
}

/// An event that does not fit the state it lands on, or is not what snledger
/// writes: an integrity error naming its seq.
pub(crate) fn broken(seq: i64, message: String) -> Error {
    Error::Integrity(format!("event {seq}: {message}"))
}

impl Body {
    /// The subjects this event names, for `history` filters:
    /// `i:` instance, `n:` number, `a:` account, `s:` service.
    pub(crate) fn subjects(&self) -> Vec<String> {
        let mut subjects = Vec::new();
        self.each_subject(|letter, value| {
            let subject = format!("{letter}:{value}");
            if !subjects.contains(&subject) {
                subjects.push(subject);
            }
        });
        subjects
    }

    /// Calls `add(letter, value)` for each subject the event names (a value
    /// may come twice; `subjects` removes repeats).
    pub(crate) fn each_subject<'a>(&'a self, mut add: impl FnMut(&'static str, &'a str)) {
        match self {
            Body::InstanceAdded(InstanceAdded {
                instance_id,
                account,
                ..
            })
            | Body::InstanceRenewed(InstanceRenewed {
                instance_id,
                account,
                ..
            })
            | Body::InstanceReleased(InstanceReleased {
                instance_id,
                account,
            }) => {
                add("i", instance_id);
                add("a", account);
            }
            Body::PolicySet(_) => {}
            Body::Allocated(p) => {
                add("i", &p.instance_id);
                add("a", &p.account);
                for number in &p.numbers {
                    add("n", number);
                }
            }
            Body::Selected(p) => {
                add("i", &p.instance_id);
                add("a", &p.account);
                add("n", &p.number);
                add("s", &p.service);
            }
            Body::Granted(p) => {
                on_number(&mut add, &p.instance_id, &p.number, &p.owner, &p.from);
                add("a", &p.to);
            }
            Body::Bound(p) => {
                on_number(&mut add, &p.instance_id, &p.number, &p.owner, &p.holder);
                add("s", &p.service);
            }
            Body::Submitted(p)
            | Body::Approved(p)
            | Body::Rejected(p)
            | Body::Deregistered(p)
            | Body::Invalidated(p) => {
                on_number(&mut add, &p.instance_id, &p.number, &p.owner, &p.holder);
                if let Some(service) = &p.service {
                    add("s", service);
                }
            }
            Body::ServiceMoved(p) => {
                add("i", &p.instance_id);
                add("i", &p.from_host);
                add("i", &p.to_host);
                add("n", &p.number);
                add("a", &p.owner);
                add("a", &p.holder);
                add("s", &p.service);
            }
            Body::ServiceIpUpdated(p) => {
                add("i", &p.instance_id);
                add("i", &p.host);
                add("n", &p.number);
                add("a", &p.owner);
                add("a", &p.holder);
                add("s", &p.service);
            }
            Body::InstanceAmended(p) => {
                add("i", &p.instance_id);
                add("a", &p.account);
                if let Some(owner) = &p.owner {
                    add("a", &owner.new);
                }
            }
            Body::RegionSet(_) => {}
            Body::ServiceRenamed(p) => {
                on_number(&mut add, &p.instance_id, &p.number, &p.owner, &p.holder);
                add("s", &p.service);
                add("s", &p.to);
            }
            // A reconciliation is about the whole book: `history --kind reconciled`.
            Body::Reconciled(_) => {}
            // About the log itself: `history --kind clock_repaired`.
            Body::ClockRepaired(_) => {}
        }
    }
}

/// The subjects of an event on one number, in the order every such event
/// names them: its instance, the number, its owner and its holder.
fn on_number<'a>(
    add: &mut impl FnMut(&'static str, &'a str),
    instance_id: &'a str,
    number: &'a str,
    owner: &'a str,
    holder: &'a str,
) {
    add("i", instance_id);
    add("n", number);
    add("a", owner);
    add("a", holder);
}

#[cfg(test)]
mod tests;
