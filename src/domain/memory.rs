//! The derived state held in memory: what `verify` rebuilds from the log to
//! compare with the stored tables (faster than a scratch database), and the
//! test double for the rules.

use super::decide::Lookup;
use super::event::Event;
use super::evolve::{evolve, Change};
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
    /// Order-independent digest and count of every (subject, seq) pair, so
    /// millions of history index rows are checked in constant memory.
    pub subjects_digest: u64,
    pub subjects_count: u64,
}

/// A 64-bit FNV-1a of one history index row (`subject` given in parts);
/// summed, the order of rows does not matter.
pub fn subject_digest(parts: &[&[u8]], seq: i64) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let seq_bytes = seq.to_le_bytes();
    for byte in parts
        .iter()
        .flat_map(|part| part.iter())
        .chain(b"\n")
        .chain(seq_bytes.iter())
    {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

impl MemoryState {
    /// A new ledger's state: the default policy and nothing else.
    pub fn new() -> MemoryState {
        let mut state = MemoryState::default();
        for policy in default_policies() {
            state.policies.insert(policy.service_type.clone(), policy);
        }
        state
    }

    pub fn apply(&mut self, change: Change) {
        match change {
            Change::Instance(r) => _ = self.instances.insert(r.instance_id.clone(), r),
            Change::Number(r) => _ = self.numbers.insert(r.number.clone(), r),
            Change::Service(r) => _ = self.services.insert(r.service.clone(), r),
            Change::Policy(r) => _ = self.policies.insert(r.service_type.clone(), r),
            Change::Request(r) => _ = self.requests.insert(r.request_id.clone(), r),
        }
    }

    /// Replays one event: its derived rows and its history index rows.
    pub fn replay(&mut self, event: &Event) -> Result<()> {
        let body = event.body()?;
        for change in evolve(self, &body, event.seq)? {
            self.apply(change);
        }
        let mut named: Vec<(&str, &str)> = Vec::with_capacity(8);
        body.each_subject(|letter, value| {
            if !named.contains(&(letter, value)) {
                named.push((letter, value));
            }
        });
        for (letter, value) in named {
            let digest = subject_digest(&[letter.as_bytes(), b":", value.as_bytes()], event.seq);
            self.subjects_digest = self.subjects_digest.wrapping_add(digest);
            self.subjects_count += 1;
        }
        Ok(())
    }
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
}
