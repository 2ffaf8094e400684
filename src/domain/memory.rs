//! The derived state held in memory: what `verify` rebuilds from the log to
//! compare with the stored tables (faster than a scratch database), and the
//! test double for the rules.

use super::decide::Lookup;
use super::digest::{Digest, PastDigests, TableDigests};
use super::event::Body;
use super::evolve::{is_superseded, Change};
use super::names::{fold_identifier, service_key};
use super::packed::InstanceTable;
use super::regions::{default_regions, Region};
use super::replay::{replay_as_logged, Recorded};
use super::types::*;
use crate::error::Result;
use std::borrow::Cow;
use std::collections::HashMap;

/// What a replay keeps of the past versions the log makes: nothing (the
/// rules' test double), their digests (verify compares them with the
/// stored ones), or the rows themselves with the seq that superseded each
/// (migration 10 adds them to a ledger that lacks them).
#[derive(Debug, Default)]
pub(crate) enum PastKept {
    #[default]
    Nothing,
    Digests,
    Rows(Vec<(Change, i64)>),
}

#[derive(Debug, Default)]
pub(crate) struct MemoryState {
    /// Held compactly: a replay of millions of events holds them all.
    pub instances: InstanceTable,
    pub numbers: HashMap<String, NumberRecord>,
    pub services: HashMap<String, ServiceRecord>,
    pub policies: HashMap<String, Policy>,
    pub requests: HashMap<String, RequestRecord>,
    pub regions: HashMap<String, Region>,
    /// The digest of every (subject, seq) history index row the log makes,
    /// so millions of them are checked without being held.
    pub subjects: Digest,
    /// The digest of every past version the log makes (what a store holds
    /// in its `*_past` tables), when `past_kept` asks for them: held as
    /// digests, as the subjects are.
    pub past: PastDigests,
    pub past_kept: PastKept,
    /// Other spellings, for the look-ups (docs/guide.md "Names: one thing, one
    /// spelling"): folded id → id, and service key → service, held only
    /// where the two differ (generated numbers and domains are already in
    /// their folded form, so millions of them cost nothing here).
    instance_spellings: HashMap<String, String>,
    number_spellings: HashMap<String, String>,
    service_spellings: HashMap<String, String>,
    /// ICP number → the live number that holds it.
    live_icp_numbers: HashMap<String, String>,
}

impl MemoryState {
    /// A new ledger's state: the default policy and nothing else.
    pub(crate) fn new() -> MemoryState {
        let mut state = MemoryState::default();
        for policy in default_policies() {
            state.policies.insert(policy.service_type.clone(), policy);
        }
        for region in default_regions() {
            state.regions.insert(region.region_id.clone(), region);
        }
        state
    }

    /// Room for the expected rows up front (hints, capped): growing maps of
    /// millions of rows step by step costs more than the replay itself.
    pub(crate) fn reserve(&mut self, instances: u64, numbers: u64) {
        const HINT_MAX: u64 = 50_000_000;
        self.instances.reserve(instances.min(HINT_MAX) as usize);
        self.numbers.reserve(numbers.min(HINT_MAX) as usize);
    }

    /// The digests of the rebuilt tables, to compare with the stored ones.
    pub(crate) fn digests(&self) -> TableDigests {
        let mut digests = TableDigests {
            subjects: self.subjects,
            past: self.past,
            ..TableDigests::default()
        };
        self.policies
            .values()
            .for_each(|r| digests.policy.record(r));
        self.instances.each(|r| digests.instances.record(r));
        self.numbers
            .values()
            .for_each(|r| digests.numbers.record(r));
        self.services
            .values()
            .for_each(|r| digests.services.record(r));
        self.requests
            .values()
            .for_each(|r| digests.requests.record(r));
        self.regions
            .values()
            .for_each(|r| digests.regions.record(r));
        digests
    }

    pub(crate) fn apply(&mut self, change: Change) {
        let seq = change.seq();
        let replaced = match change {
            Change::Instance(r) => {
                remember(
                    &mut self.instance_spellings,
                    fold_identifier(&r.instance_id),
                    &r.instance_id,
                );
                // Decoded only when it is kept (verify replays millions).
                let keeps = !matches!(self.past_kept, PastKept::Nothing);
                self.instances
                    .replace(r, |old_seq| keeps && is_superseded(old_seq, seq))
                    .map(Change::Instance)
            }
            Change::Number(r) => {
                remember(
                    &mut self.number_spellings,
                    fold_identifier(&r.number),
                    &r.number,
                );
                self.note_icp_number(&r);
                self.numbers.insert(r.number.clone(), r).map(Change::Number)
            }
            Change::Service(r) => {
                remember(
                    &mut self.service_spellings,
                    service_key(&r.service),
                    &r.service,
                );
                self.services
                    .insert(r.service.clone(), r)
                    .map(Change::Service)
            }
            Change::Policy(r) => self
                .policies
                .insert(r.service_type.clone(), r)
                .map(Change::Policy),
            Change::Request(r) => self
                .requests
                .insert(r.request_id.clone(), r)
                .map(Change::Request),
            Change::Region(r) => self
                .regions
                .insert(r.region_id.clone(), r)
                .map(Change::Region),
            Change::ForgetService { service, .. } => {
                self.services.remove(&service).map(Change::Service)
            }
        };
        if let Some(old) = replaced {
            self.supersede(old, seq);
        }
    }

    /// Notes `old` as a past version superseded by the event `seq`
    /// (`evolve::is_superseded`).
    fn supersede(&mut self, old: Change, seq: i64) {
        if !old.keeps_past() || !is_superseded(old.seq(), seq) {
            return;
        }
        match &mut self.past_kept {
            PastKept::Nothing => {}
            PastKept::Digests => self.past.add(&old, seq),
            PastKept::Rows(rows) => rows.push((old, seq)),
        }
    }

    /// Keeps `live_icp_numbers` to the live numbers' ICP numbers.
    fn note_icp_number(&mut self, r: &NumberRecord) {
        let Some(icp_number) = &r.icp_number else {
            return;
        };
        if r.status.holds_service() {
            self.live_icp_numbers
                .insert(icp_number.clone(), r.number.clone());
        } else if self.live_icp_numbers.get(icp_number) == Some(&r.number) {
            self.live_icp_numbers.remove(icp_number);
        }
    }

    /// Replays one event of a log by re-deciding it (docs/reference.md "Guarantees"):
    /// its derived rows. An event the rules refuse is still applied as
    /// logged, so the refusal is its one problem.
    pub(crate) fn replay(&mut self, event: Recorded) -> Result<()> {
        let (changes, problem) = replay_as_logged(self, event);
        for change in changes {
            self.apply(change);
        }
        problem.map_or(Ok(()), Err)
    }
}

/// Adds the history index rows an event makes (each subject once) to
/// `digest`.
pub(crate) fn digest_subjects(digest: &mut Digest, seq: i64, body: &Body) {
    let mut named: Vec<(&str, &str)> = Vec::with_capacity(8);
    body.each_subject(|letter, value| {
        if !named.contains(&(letter, value)) {
            named.push((letter, value));
        }
    });
    for (letter, value) in named {
        digest.subject(&[letter, ":", value], seq);
    }
}

/// Notes `spelling` under `folded` when the two differ.
fn remember(spellings: &mut HashMap<String, String>, folded: String, spelling: &str) {
    if folded != spelling {
        spellings.insert(folded, spelling.to_string());
    }
}

/// The row of `name` by its own spelling, else by its folded form (a row
/// spelled that way, or one whose other spelling was noted under it).
fn find<T: Clone>(
    rows: &HashMap<String, T>,
    spellings: &HashMap<String, String>,
    name: &str,
    fold: fn(&str) -> Cow<'_, str>,
) -> Option<T> {
    find_with(|key| rows.get(key).cloned(), spellings, name, fold)
}

/// The row of `name`, of its folded form, or of the spelling its folded
/// form was written with. The fold is made only when `name` itself misses.
fn find_with<T>(
    get: impl Fn(&str) -> Option<T>,
    spellings: &HashMap<String, String>,
    name: &str,
    fold: fn(&str) -> Cow<'_, str>,
) -> Option<T> {
    if let Some(row) = get(name) {
        return Some(row);
    }
    let folded = fold(name);
    // Most names are already in their folded form: one look-up, not three.
    if folded.as_ref() != name {
        if let Some(row) = get(&folded) {
            return Some(row);
        }
    }
    if spellings.is_empty() {
        return None;
    }
    spellings
        .get(folded.as_ref())
        .and_then(|spelling| get(spelling))
}

/// `fold_identifier` without a copy for a name with no capital letter
/// (most names: the copy would equal it).
fn folded_identifier(name: &str) -> Cow<'_, str> {
    if name.bytes().any(|byte| byte.is_ascii_uppercase()) {
        Cow::Owned(fold_identifier(name))
    } else {
        Cow::Borrowed(name)
    }
}

fn folded_service(name: &str) -> Cow<'_, str> {
    Cow::Owned(service_key(name))
}

impl Lookup for MemoryState {
    fn instance(&self, instance_id: &str) -> Result<Option<Instance>> {
        Ok(find_with(
            |key| self.instances.get(key),
            &self.instance_spellings,
            instance_id,
            folded_identifier,
        ))
    }
    fn number(&self, number: &str) -> Result<Option<NumberRecord>> {
        Ok(find(
            &self.numbers,
            &self.number_spellings,
            number,
            folded_identifier,
        ))
    }
    fn service(&self, service: &str) -> Result<Option<ServiceRecord>> {
        Ok(find(
            &self.services,
            &self.service_spellings,
            service,
            folded_service,
        ))
    }
    fn live_number_with_icp(&self, icp_number: &str) -> Result<Option<NumberRecord>> {
        Ok(self
            .live_icp_numbers
            .get(icp_number)
            .and_then(|number| self.numbers.get(number))
            .cloned())
    }
    fn policy(&self, service_type: &str) -> Result<Option<Policy>> {
        Ok(self.policies.get(service_type).cloned())
    }
    fn request(&self, request_id: &str) -> Result<Option<RequestRecord>> {
        Ok(self.requests.get(request_id).cloned())
    }
    fn region(&self, region_id: &str) -> Result<Option<Region>> {
        Ok(self.regions.get(region_id).cloned())
    }
    fn region_ids(&self) -> Result<Vec<String>> {
        Ok(self.regions.keys().cloned().collect())
    }
    fn service_types(&self) -> Result<Vec<String>> {
        Ok(self.policies.keys().cloned().collect())
    }
}
