//! The rules end to end on an in-memory state: decide, then evolve.
//! This whole file is compiled only for tests (`#[cfg(test)] mod tests;` in mod.rs).

use super::decide::*;
use super::event::Body;
use super::evolve::evolve;
use super::memory::{MemoryState, PastKept};
use super::types::*;
use crate::error::Result;

struct Memory {
    state: MemoryState,
    seq: i64,
    next_id: u32,
}

impl std::ops::Deref for Memory {
    type Target = MemoryState;
    fn deref(&self) -> &MemoryState {
        &self.state
    }
}

impl Memory {
    fn new() -> Memory {
        Memory {
            state: MemoryState::new(),
            seq: 0,
            next_id: 0,
        }
    }

    fn now() -> Time {
        parse_time("now", "2026-11-22T10:00:00Z").unwrap()
    }

    fn run(&mut self, command: Command) -> Result<Decision> {
        let decision = decide(&self.state, &command, Memory::now())?;
        if let Decision::Append(body) = &decision {
            self.seq += 1;
            for change in evolve(&self.state, body.clone(), self.seq)? {
                self.state.apply(change);
            }
        }
        Ok(decision)
    }

    fn fresh_ids(&mut self, n: usize) -> Vec<String> {
        (0..n)
            .map(|_| {
                self.next_id += 1;
                format!("gen-{:04}", self.next_id)
            })
            .collect()
    }

    fn add_ecs(&mut self, id: &str, account: &str) {
        self.run(Command::AddInstance {
            instance_id: id.into(),
            service_type: "ecs".into(),
            account: account.into(),
            region: "cn-hangzhou".into(),
            billing: Billing::Subscription,
            subscription_months: 12,
            expires_at: parse_time("t", "2027-06-01").unwrap(),
            public_ip: Some("47.96.113.1".into()),
            order_amount_fen: None,
        })
        .unwrap();
    }

    fn allocate(&mut self, id: &str, count: i64, request_id: Option<&str>) -> Result<Vec<String>> {
        let generated = self.fresh_ids(20);
        match self.run(Command::Allocate {
            instance_id: id.into(),
            account: None,
            count: Some(count),
            numbers: vec![],
            request_id: request_id.map(String::from),
            generated,
        })? {
            Decision::Append(Body::Allocated(p)) => Ok(p.numbers),
            Decision::AlreadyDone(record) => Ok(record.numbers),
            other => panic!("unexpected {other:?}"),
        }
    }
}

fn code<T: std::fmt::Debug>(result: Result<T>) -> &'static str {
    result.unwrap_err().code()
}

#[test]
fn allocation_counts_against_the_quota_and_never_gives_back() {
    let mut m = Memory::new();
    m.add_ecs("i-1", "owner");
    let first = m.allocate("i-1", 3, None).unwrap();
    assert_eq!(first.len(), 3);
    assert_eq!(code(m.allocate("i-1", 3, None)), "quota_exhausted");
    m.allocate("i-1", 2, None).unwrap();
    assert_eq!(m.instances.get("i-1").unwrap().consumed, 5);
    // Ending a number's use does not return its slot.
    m.run(Command::Invalidate {
        number: first[0].clone(),
        reason: "test".into(),
    })
    .unwrap();
    assert_eq!(m.instances.get("i-1").unwrap().consumed, 5);
    assert_eq!(code(m.allocate("i-1", 1, None)), "quota_exhausted");
}

#[test]
fn count_range_and_ownership() {
    let mut m = Memory::new();
    m.add_ecs("i-1", "owner");
    assert_eq!(code(m.allocate("i-1", 0, None)), "count_out_of_range");
    assert_eq!(code(m.allocate("i-1", 21, None)), "count_out_of_range");
    assert_eq!(code(m.allocate("nope", 1, None)), "not_found");
    let result = m.run(Command::Allocate {
        instance_id: "i-1".into(),
        account: Some("stranger".into()),
        count: None,
        numbers: vec![],
        request_id: None,
        generated: vec!["x-0001".into()],
    });
    assert_eq!(code(result), "not_owner");
}

#[test]
fn request_ids_are_idempotent_and_conflicts_refused() {
    let mut m = Memory::new();
    m.add_ecs("i-1", "owner");
    let first = m.allocate("i-1", 2, Some("req-1")).unwrap();
    let seq = m.seq;
    assert_eq!(m.allocate("i-1", 2, Some("req-1")).unwrap(), first);
    assert_eq!(m.seq, seq, "a repeated request appends nothing");
    assert_eq!(
        code(m.allocate("i-1", 1, Some("req-1"))),
        "request_conflict"
    );
}

#[test]
fn grant_bind_review_and_service_rules() {
    let mut m = Memory::new();
    m.add_ecs("i-1", "owner");
    let numbers = m.allocate("i-1", 2, None).unwrap();
    let (a, b) = (numbers[0].clone(), numbers[1].clone());
    let grant = |to: &str, account: Option<&str>| {
        Command::Grant(GrantCommand {
            number: a.clone(),
            to: to.into(),
            account: account.map(String::from),
            note: None,
        })
    };
    assert_eq!(code(m.run(grant("other", Some("stranger")))), "not_owner");
    m.run(grant("other", None)).unwrap();
    m.run(grant("third", None)).unwrap();
    assert_eq!(m.numbers[&a].holder, "third");
    let bind = |number: &str, account: &str| {
        Command::Bind(BindCommand {
            number: number.into(),
            service: "www.example.com".into(),
            account: account.into(),
        })
    };
    assert_eq!(code(m.run(bind(&a, "owner"))), "not_holder");
    m.run(bind(&a, "third")).unwrap();
    assert_eq!(code(m.run(grant("other", None))), "wrong_status");
    assert_eq!(code(m.run(bind(&b, "owner"))), "service_taken");
    m.run(Command::Submit { number: a.clone() }).unwrap();
    m.run(Command::Reject {
        number: a.clone(),
        reason: "photo".into(),
    })
    .unwrap();
    assert_eq!(m.numbers[&a].status, Status::Bound);
    m.run(Command::Submit { number: a.clone() }).unwrap();
    m.run(Command::Approve {
        number: a.clone(),
        icp_number: "浙ICP备12345678号-1".into(),
    })
    .unwrap();
    assert_eq!(m.numbers[&a].status, Status::Filed);
    m.run(Command::Deregister {
        number: a.clone(),
        reason: None,
    })
    .unwrap();
    // The service is free again, the number is not.
    m.run(bind(&b, "owner")).unwrap();
    assert_eq!(code(m.run(bind(&a, "third"))), "wrong_status");
    assert_eq!(m.instances.get("i-1").unwrap().consumed, 2);
}

#[test]
fn direct_selection_consumes_a_slot_and_binds_at_once() {
    let mut m = Memory::new();
    m.add_ecs("i-1", "owner");
    m.run(Command::Select(SelectCommand {
        instance_id: "i-1".into(),
        service: "app".into(),
        account: None,
        generated: "direct-1".into(),
    }))
    .unwrap();
    let number = &m.numbers["direct-1"];
    assert_eq!(
        (number.status, number.origin),
        (Status::Bound, Origin::Direct)
    );
    assert_eq!(m.instances.get("i-1").unwrap().consumed, 1);
    assert_eq!(m.services["app"].host, "i-1");
}

#[test]
fn services_move_only_when_filed_and_to_eligible_hosts() {
    let mut m = Memory::new();
    m.add_ecs("i-1", "owner");
    m.add_ecs("i-2", "owner");
    let n = m.allocate("i-1", 1, None).unwrap().remove(0);
    m.run(Command::Bind(BindCommand {
        number: n.clone(),
        service: "s".into(),
        account: "owner".into(),
    }))
    .unwrap();
    let move_to = |to: &str, commercial| {
        Command::MoveService(MoveServiceCommand {
            service: "s".into(),
            to: to.into(),
            commercial,
        })
    };
    assert_eq!(code(m.run(move_to("i-2", false))), "wrong_status");
    m.run(Command::Submit { number: n.clone() }).unwrap();
    m.run(Command::Approve {
        number: n.clone(),
        icp_number: "浙ICP备1号-1".into(),
    })
    .unwrap();
    assert_eq!(code(m.run(move_to("i-9", false))), "not_found");
    assert_eq!(code(m.run(move_to("i-1", false))), "already_exists");
    m.run(Command::Release {
        instance_id: "i-2".into(),
    })
    .unwrap();
    assert_eq!(code(m.run(move_to("i-2", false))), "released");
    m.add_ecs("i-3", "owner");
    assert_eq!(
        code(m.run(Command::IpUpdated {
            service: "s".into()
        })),
        "wrong_status"
    );
    m.run(move_to("i-3", true)).unwrap();
    assert!(m.services["s"].ip_update_required);
    assert_eq!(m.instances.get("i-1").unwrap().consumed, 1);
    assert_eq!(m.instances.get("i-3").unwrap().consumed, 0);
    m.run(Command::IpUpdated {
        service: "s".into(),
    })
    .unwrap();
    assert!(!m.services["s"].ip_update_required);
}

#[test]
fn policy_set_merges_and_changes_the_quota() {
    let mut m = Memory::new();
    m.add_ecs("i-1", "owner");
    m.run(Command::SetPolicy {
        service_type: "ecs".into(),
        max_numbers: Some(1),
        min_subscription_months: None,
        min_order_amount_fen: None,
        requires_public_ip: None,
    })
    .unwrap();
    assert!(m.policies["ecs"].requires_public_ip);
    m.allocate("i-1", 1, None).unwrap();
    assert_eq!(code(m.allocate("i-1", 1, None)), "quota_exhausted");
    let new_type = Command::SetPolicy {
        service_type: "rds".into(),
        max_numbers: Some(1),
        min_subscription_months: None,
        min_order_amount_fen: None,
        requires_public_ip: None,
    };
    assert_eq!(code(m.run(new_type)), "usage");
}

#[test]
fn renew_and_release() {
    let mut m = Memory::new();
    m.add_ecs("i-1", "owner");
    let renew = |expires: &str| Command::Renew {
        instance_id: "i-1".into(),
        months: 12,
        expires_at: parse_time("t", expires).unwrap(),
    };
    assert_eq!(code(m.run(renew("2027-01-01"))), "usage");
    m.run(renew("2028-06-01")).unwrap();
    assert_eq!(m.instances.get("i-1").unwrap().subscription_months, 24);
    m.run(Command::Release {
        instance_id: "i-1".into(),
    })
    .unwrap();
    assert_eq!(code(m.run(renew("2029-06-01"))), "released");
    assert_eq!(code(m.allocate("i-1", 1, None)), "released");
}

#[test]
fn a_replaced_row_is_a_past_version_when_an_earlier_event_wrote_it() {
    let mut m = Memory::new();
    m.state.past_kept = PastKept::Digests;
    m.add_ecs("i-1", "acme");
    assert_eq!(m.past.instances.count, 0, "a new row replaces nothing");
    let numbers = m.allocate("i-1", 2, None).unwrap();
    assert_eq!(
        m.past.instances.count, 1,
        "the instance before the allocation"
    );
    assert_eq!(m.past.numbers.count, 0, "new numbers");
    m.run(Command::Invalidate {
        number: numbers[0].clone(),
        reason: "test".into(),
    })
    .unwrap();
    assert_eq!(m.past.numbers.count, 1);
    // As rows, for a ledger that lacks them (migration 10): the same
    // versions, each with the seq that superseded it.
    let mut rows = Memory::new();
    rows.state.past_kept = PastKept::Rows(Vec::new());
    rows.add_ecs("i-1", "acme");
    rows.allocate("i-1", 1, None).unwrap();
    rows.allocate("i-1", 1, None).unwrap();
    let PastKept::Rows(kept) = &rows.state.past_kept else {
        unreachable!("set above")
    };
    let superseded: Vec<(i64, i64)> = kept.iter().map(|(old, seq)| (old.seq(), *seq)).collect();
    assert_eq!(
        superseded,
        [(1, 2), (2, 3)],
        "the instance as each allocation found it"
    );
    // And not at all by default.
    let mut none = Memory::new();
    none.add_ecs("i-1", "acme");
    none.allocate("i-1", 1, None).unwrap();
    assert_eq!(none.past, Default::default());
}
