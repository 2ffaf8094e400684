//! The derived state held in memory: what `verify` rebuilds from the log to
//! compare with the stored tables (faster than a scratch database), and the
//! test double for the rules.

use super::decide::Lookup;
use super::digest::{Digest, TableDigests};
use super::event::Body;
use super::evolve::Change;
use super::regions::{default_regions, Region};
use super::replay::replay_as_logged;
use super::types::*;
use crate::error::Result;
use std::collections::HashMap;

#[derive(Debug, Default)]
pub struct MemoryState {
    pub instances: HashMap<String, Instance>,
    pub numbers: HashMap<String, NumberRecord>,
    pub services: HashMap<String, ServiceRecord>,
    pub policies: HashMap<String, Policy>,
    pub requests: HashMap<String, RequestRecord>,
    pub regions: HashMap<String, Region>,
    /// The digest of every (subject, seq) history index row the log makes,
    /// so millions of them are checked without being held.
    pub subjects: Digest,
}

impl MemoryState {
    /// A new ledger's state: the default policy and nothing else.
    pub fn new() -> MemoryState {
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
    pub fn reserve(&mut self, instances: u64, numbers: u64) {
        const HINT_MAX: u64 = 50_000_000;
        self.instances.reserve(instances.min(HINT_MAX) as usize);
        self.numbers.reserve(numbers.min(HINT_MAX) as usize);
    }

    /// The digests of the rebuilt tables, to compare with the stored ones.
    pub fn digests(&self) -> TableDigests {
        let mut digests = TableDigests {
            subjects: self.subjects,
            ..TableDigests::default()
        };
        self.policies
            .values()
            .for_each(|r| digests.policy.policy(r));
        self.instances
            .values()
            .for_each(|r| digests.instances.instance(r));
        self.numbers
            .values()
            .for_each(|r| digests.numbers.number(r));
        self.services
            .values()
            .for_each(|r| digests.services.service(r));
        self.requests
            .values()
            .for_each(|r| digests.requests.request(r));
        self.regions
            .values()
            .for_each(|r| digests.regions.region(r));
        digests
    }

    pub fn apply(&mut self, change: Change) {
        match change {
            Change::Instance(r) => _ = self.instances.insert(r.instance_id.clone(), r),
            Change::Number(r) => _ = self.numbers.insert(r.number.clone(), r),
            Change::Service(r) => _ = self.services.insert(r.service.clone(), r),
            Change::Policy(r) => _ = self.policies.insert(r.service_type.clone(), r),
            Change::Request(r) => _ = self.requests.insert(r.request_id.clone(), r),
            Change::Region(r) => _ = self.regions.insert(r.region_id.clone(), r),
            Change::ForgetService(service) => _ = self.services.remove(&service),
        }
    }

    /// Replays one event of a log by re-deciding it (README "Guarantees"):
    /// its derived rows. An event the rules refuse is still applied as
    /// logged, so the refusal is its one problem.
    pub fn replay(&mut self, event: Recorded) -> Result<()> {
        let (changes, problem) = replay_as_logged(
            self,
            event.seq,
            event.at,
            event.actor,
            event.body,
            event.payload,
        );
        for change in changes {
            self.apply(change);
        }
        problem.map_or(Ok(()), Err)
    }
}

/// Adds the history index rows an event makes (each subject once) to
/// `digest`.
pub fn digest_subjects(digest: &mut Digest, seq: i64, body: &Body) {
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

/// What re-deciding needs of one event of a log.
pub struct Recorded<'a> {
    pub seq: i64,
    pub at: Time,
    pub actor: &'a str,
    pub body: Body,
    pub payload: &'a str,
}

impl Lookup for MemoryState {
    fn instance(&self, instance_id: &str) -> Result<Option<Instance>> {
        Ok(self.instances.get(instance_id).cloned())
    }
    fn number(&self, number: &str) -> Result<Option<NumberRecord>> {
        Ok(self.numbers.get(number).cloned())
    }
    fn service(&self, service: &str) -> Result<Option<ServiceRecord>> {
        Ok(self.services.get(service).cloned())
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
