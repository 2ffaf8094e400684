//! The past of a few instances, from only the events that touch them
//! (ARCHITECTURE.md "--as-of: how a past state is answered"). `instance show`,
//! `number show` and `service show` with `--as-of` need the rows one
//! instance *owns*: the instance, its numbers, and the services whose
//! number it issued. Every event that writes one of these rows names the
//! instance (`i:` in the history index: the instance's own events, and
//! every event on a number names the number's instance), so replaying the
//! events that name it, in seq order, rebuilds exactly those rows. What
//! the rules read besides them, the policy and region tables, comes from
//! the `policy_set` and `region_set` events, which are few.
//!
//! The events are evolved, not re-decided: re-deciding needs the whole
//! state (quota over request ids, live ICP numbers, services of other
//! instances), which is what a full replay costs. Each event was decided
//! by the rules when it was written (or re-decided by `import history`),
//! and `verify` re-decides the whole log; a read of the past trusts the
//! log as a read of the present trusts the derived tables.

use super::decide::Lookup;
use super::event::Body;
use super::evolve::evolve;
use super::memory::MemoryState;
use super::regions::Region;
use super::types::*;
use crate::error::Result;

/// The instance whose number an event on a service is about: the owner of
/// the service's row from that event on (`None` for other kinds).
pub(crate) fn number_instance(body: &Body) -> Option<&str> {
    match body {
        Body::Selected(p) => Some(&p.instance_id),
        Body::Bound(p) => Some(&p.instance_id),
        Body::Submitted(p)
        | Body::Approved(p)
        | Body::Rejected(p)
        | Body::Deregistered(p)
        | Body::Invalidated(p) => Some(&p.instance_id),
        Body::ServiceMoved(p) => Some(&p.instance_id),
        Body::ServiceIpUpdated(p) => Some(&p.instance_id),
        Body::ServiceRenamed(p) => Some(&p.instance_id),
        _ => None,
    }
}

/// Whether replaying the past of `instances` needs this event: it writes a
/// row one of them owns, or the policy or region tables.
pub(crate) fn needed_by(body: &Body, instances: &[String]) -> bool {
    let ours = |id: &str| instances.iter().any(|instance| instance == id);
    match body {
        Body::PolicySet(_) | Body::RegionSet(_) => true,
        Body::Reconciled(_) => false,
        // Named also as a host (`from_host`, `to_host`): a service of
        // another instance's number is not ours.
        Body::ServiceMoved(p) => ours(&p.instance_id),
        Body::ServiceIpUpdated(p) => ours(&p.instance_id),
        other => {
            let mut named = false;
            other.each_subject(|letter, value| named |= letter == "i" && ours(value));
            named
        }
    }
}

/// The rows of a few instances, as a replay of their events leaves them.
#[derive(Debug)]
pub(crate) struct Past {
    pub state: MemoryState,
    /// Events evolved so far (each checked to come in seq order).
    pub events: u64,
    last_seq: i64,
}

impl Default for Past {
    fn default() -> Self {
        Past::new()
    }
}

impl Past {
    pub(crate) fn new() -> Past {
        Past {
            state: MemoryState::new(),
            events: 0,
            last_seq: 0,
        }
    }

    /// Evolves one event needed by the instances (`needed_by`). `present`
    /// answers for instances the replay does not hold: an event on our
    /// service may name another instance as its new host, and only checks
    /// that it exists (instances are never removed, so the present knows
    /// every instance the past knew).
    pub(crate) fn apply(&mut self, present: &dyn Lookup, seq: i64, body: Body) -> Result<()> {
        assert!(seq > self.last_seq, "events replayed out of order");
        let changes = evolve(
            &Layered {
                past: &self.state,
                present,
            },
            body,
            seq,
        )?;
        for change in changes {
            self.state.apply(change);
        }
        self.last_seq = seq;
        self.events += 1;
        Ok(())
    }
}

/// The past rows first; the present only for instances.
struct Layered<'a> {
    past: &'a MemoryState,
    present: &'a dyn Lookup,
}

impl Lookup for Layered<'_> {
    fn instance(&self, instance_id: &str) -> Result<Option<Instance>> {
        match self.past.instance(instance_id)? {
            Some(found) => Ok(Some(found)),
            None => self.present.instance(instance_id),
        }
    }
    fn number(&self, number: &str) -> Result<Option<NumberRecord>> {
        self.past.number(number)
    }
    fn service(&self, service: &str) -> Result<Option<ServiceRecord>> {
        self.past.service(service)
    }
    fn policy(&self, service_type: &str) -> Result<Option<Policy>> {
        self.past.policy(service_type)
    }
    fn request(&self, request_id: &str) -> Result<Option<RequestRecord>> {
        self.past.request(request_id)
    }
    fn region(&self, region_id: &str) -> Result<Option<Region>> {
        self.past.region(region_id)
    }
    fn region_ids(&self) -> Result<Vec<String>> {
        self.past.region_ids()
    }
    fn service_types(&self) -> Result<Vec<String>> {
        self.past.service_types()
    }
    fn live_number_with_icp(&self, icp_number: &str) -> Result<Option<NumberRecord>> {
        self.past.live_number_with_icp(icp_number)
    }
}

#[cfg(test)]
mod tests;
