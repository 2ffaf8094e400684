//! Property test of `diff`'s tracker: random histories are made with the
//! rules (decide, then evolve), and the rows the tracker lists from every
//! seq to the end equal those that differ between two full replays
//! (re-decided, as `verify` does). Compiled only for tests.

use crate::domain::decide::{decide, Command, Decision};
use crate::domain::decide::{BindCommand, GrantCommand, MoveServiceCommand, SelectCommand};
use crate::domain::diff::{RowDiff, Tracker};
use crate::domain::event::Body;
use crate::domain::evolve::evolve;
use crate::domain::memory::MemoryState;
use crate::domain::replay::{redecide, Recorded};
use crate::domain::types::*;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::Config;

const INSTANCES: [&str; 4] = ["i-0", "i-1", "I-2", "i-3"];
const ACCOUNTS: [&str; 3] = ["acme", "beta", "cust"];
const SERVICES: [&str; 4] = ["s0.example.cn", "s1.example.cn", "MyApp", "myapp"];
const TYPES: [&str; 3] = ["ecs", "linkedmall", "iot_studio"];
const REGIONS: [&str; 3] = ["cn-hangzhou", "cn-hongkong", "cn-edge-1"];

/// One step of a history: indexes into the names above and into the
/// numbers made so far (taken modulo their count).
#[derive(Debug, Clone)]
enum Op {
    Add(usize, usize, usize, usize, bool),
    Renew(usize),
    Release(usize),
    Amend(usize, usize, usize),
    Policy(usize, i64),
    Region(usize, bool),
    Allocate(usize, i64, Option<usize>),
    Select(usize, usize),
    Grant(usize, usize),
    Bind(usize, usize, bool),
    Filing(usize, u8),
    Move(usize, usize, bool),
    IpUpdated(usize),
    Rename(usize, usize),
}

fn op() -> impl Strategy<Value = Op> {
    let i = 0..INSTANCES.len();
    let n = 0..64_usize;
    let s = 0..SERVICES.len();
    prop_oneof![
        2 => (i.clone(), 0..TYPES.len(), 0..ACCOUNTS.len(), 0..REGIONS.len(), any::<bool>())
            .prop_map(|(i, t, a, r, ip)| Op::Add(i, t, a, r, ip)),
        1 => i.clone().prop_map(Op::Renew),
        1 => i.clone().prop_map(Op::Release),
        1 => (i.clone(), 0..3_usize, 0..3_usize).prop_map(|(i, f, v)| Op::Amend(i, f, v)),
        1 => (0..TYPES.len(), 0..6_i64).prop_map(|(t, m)| Op::Policy(t, m)),
        1 => (0..REGIONS.len(), any::<bool>()).prop_map(|(r, m)| Op::Region(r, m)),
        4 => (i.clone(), 1..3_i64, proptest::option::of(0..2_usize))
            .prop_map(|(i, c, r)| Op::Allocate(i, c, r)),
        2 => (i.clone(), s.clone()).prop_map(|(i, s)| Op::Select(i, s)),
        2 => (n.clone(), 0..ACCOUNTS.len()).prop_map(|(n, a)| Op::Grant(n, a)),
        4 => (n.clone(), s.clone(), any::<bool>()).prop_map(|(n, s, h)| Op::Bind(n, s, h)),
        10 => (n, 0..7_u8).prop_map(|(n, f)| Op::Filing(n, f)),
        4 => (s.clone(), i, any::<bool>()).prop_map(|(s, i, c)| Op::Move(s, i, c)),
        3 => s.clone().prop_map(Op::IpUpdated),
        1 => (s.clone(), s).prop_map(|(a, b)| Op::Rename(a, b)),
    ]
}

/// A logged event: what a full replay and the past both read.
struct Logged {
    seq: i64,
    at: Time,
    body: Body,
}

/// The history the rules make of `ops` (refused commands leave nothing),
/// one day apart from 2026-01-01.
fn history(ops: &[Op]) -> (Vec<Logged>, MemoryState) {
    let mut state = MemoryState::new();
    let mut log: Vec<Logged> = Vec::new();
    let mut numbers: Vec<String> = Vec::new();
    let start = parse_time("start", "2026-01-01T00:00:00Z").unwrap();
    // Three eligible instances to begin with (i-3 only if the ops add it),
    // so that most ops have something to act on.
    let prologue = [
        Op::Add(0, 0, 0, 0, true),
        Op::Add(1, 0, 1, 0, true),
        Op::Add(2, 1, 2, 0, false),
    ];
    for (step, op) in prologue.iter().chain(ops).enumerate() {
        let at = start + chrono::Duration::days(step as i64);
        let Some(command) = command(op, &state, &numbers, step) else {
            continue;
        };
        let Ok(Decision::Append(body)) = decide(&state, &command, at) else {
            continue;
        };
        let seq = log.len() as i64 + 1;
        if let Body::Allocated(p) = &body {
            numbers.extend(p.numbers.iter().cloned());
        }
        if let Body::Selected(p) = &body {
            numbers.push(p.number.clone());
        }
        for change in evolve(&state, body.clone(), seq).unwrap() {
            state.apply(change);
        }
        log.push(Logged { seq, at, body });
    }
    (log, state)
}

fn command(op: &Op, state: &MemoryState, numbers: &[String], step: usize) -> Option<Command> {
    let expires = |months: i64| {
        let base = parse_time("t", "2026-01-20T00:00:00Z").unwrap();
        base + chrono::Duration::days(30 * months)
    };
    let number = |n: usize| (!numbers.is_empty()).then(|| numbers[n % numbers.len()].clone());
    Some(match *op {
        Op::Add(i, t, a, r, ip) => Command::AddInstance {
            instance_id: INSTANCES[i].into(),
            service_type: TYPES[t].into(),
            account: ACCOUNTS[a].into(),
            region: REGIONS[r].into(),
            billing: Billing::Subscription,
            subscription_months: 12,
            expires_at: expires(2 + i as i64 * 3),
            public_ip: ip.then(|| "47.96.113.9".to_string()),
            order_amount_fen: (t == 2).then_some(9900),
        },
        Op::Renew(i) => Command::Renew {
            instance_id: INSTANCES[i].into(),
            months: 12,
            expires_at: expires(24 + step as i64),
        },
        Op::Release(i) => Command::Release {
            instance_id: INSTANCES[i].into(),
        },
        Op::Amend(i, field, value) => amend(INSTANCES[i], field, value),
        Op::Policy(t, max) => Command::SetPolicy {
            service_type: TYPES[t].into(),
            max_numbers: Some(max),
            min_subscription_months: None,
            min_order_amount_fen: None,
            requires_public_ip: None,
        },
        Op::Region(r, mainland) => Command::SetRegion {
            region: REGIONS[r].into(),
            mainland,
        },
        Op::Allocate(i, count, request) => Command::Allocate {
            instance_id: INSTANCES[i].into(),
            account: None,
            count: Some(count),
            numbers: vec![],
            request_id: request.map(|r| format!("req-{r}")),
            generated: (0..count).map(|k| format!("n-{step}-{k}")).collect(),
        },
        Op::Select(i, s) => Command::Select(SelectCommand {
            instance_id: INSTANCES[i].into(),
            service: SERVICES[s].into(),
            account: None,
            generated: format!("n-{step}-s"),
        }),
        Op::Grant(n, a) => Command::Grant(GrantCommand {
            number: number(n)?,
            to: ACCOUNTS[a].into(),
            account: None,
            note: None,
        }),
        Op::Bind(n, s, as_holder) => {
            let unbound: Vec<&String> = numbers
                .iter()
                .filter(|k| {
                    state
                        .numbers
                        .get(*k)
                        .is_some_and(|r| r.status == Status::Unbound)
                })
                .collect();
            let number = match unbound.is_empty() {
                true => number(n)?,
                false => unbound[n % unbound.len()].clone(),
            };
            let record = state.numbers.get(&number)?;
            Command::Bind(BindCommand {
                account: if as_holder {
                    record.holder.clone()
                } else {
                    record.owner.clone()
                },
                number,
                service: SERVICES[s].into(),
            })
        }
        Op::Filing(n, which) => {
            // Mostly a number the action fits, so filings get far enough
            // for services to move.
            let fits = |status: Status| match which {
                0 | 6 => status == Status::Bound,
                1 | 2 | 5 => status == Status::Filing,
                _ => true,
            };
            let fitting: Vec<&String> = numbers
                .iter()
                .filter(|n| state.numbers.get(*n).is_some_and(|r| fits(r.status)))
                .collect();
            let chosen = match fitting.is_empty() {
                true => number(n)?,
                false => fitting[n % fitting.len()].clone(),
            };
            filing(chosen, which, step)
        }
        Op::Move(s, i, commercial) => Command::MoveService(MoveServiceCommand {
            service: service_where(state, s, |_, n| n.status == Status::Filed),
            to: INSTANCES[i].into(),
            commercial,
        }),
        Op::IpUpdated(s) => Command::IpUpdated {
            service: service_where(state, s, |r, _| r.ip_update_required),
        },
        Op::Rename(a, b) => Command::RenameService {
            service: SERVICES[a].into(),
            to: SERVICES[b].into(),
        },
    })
}

/// Mostly a service that (with its number) passes `fits`, so that moves
/// and IP updates happen.
fn service_where(
    state: &MemoryState,
    s: usize,
    fits: impl Fn(&ServiceRecord, &NumberRecord) -> bool,
) -> String {
    let mut fitting: Vec<&String> = state
        .services
        .values()
        .filter(|r| state.numbers.get(&r.number).is_some_and(|n| fits(r, n)))
        .map(|r| &r.service)
        .collect();
    fitting.sort();
    match fitting.is_empty() {
        true => SERVICES[s].to_string(),
        false => fitting[s % fitting.len()].clone(),
    }
}

fn amend(instance_id: &str, field: usize, value: usize) -> Command {
    let mut command = Command::AmendInstance {
        instance_id: instance_id.into(),
        public_ip: None,
        billing: None,
        order_amount_fen: None,
        service_type: None,
        region: None,
        account: None,
    };
    if let Command::AmendInstance {
        public_ip,
        region,
        account,
        ..
    } = &mut command
    {
        match field {
            0 => *public_ip = Some((value > 0).then(|| format!("47.96.113.{value}"))),
            1 => *region = Some(REGIONS[value % REGIONS.len()].into()),
            _ => *account = Some(ACCOUNTS[value % ACCOUNTS.len()].into()),
        }
    }
    command
}

fn filing(number: String, which: u8, step: usize) -> Command {
    match which {
        0 => Command::Submit { number },
        1 | 5 => Command::Approve {
            number,
            icp_number: format!("浙ICP备{:08}号-1", step),
        },
        2 => Command::Reject {
            number,
            reason: "blurred".into(),
        },
        3 => Command::Deregister {
            number,
            reason: None,
        },
        6 => Command::Submit { number },
        _ => Command::Invalidate {
            number,
            reason: "lost".into(),
        },
    }
}

/// The state after every event up to `to_seq`, each re-decided.
fn full_replay(log: &[Logged], to_seq: i64) -> MemoryState {
    let mut state = MemoryState::new();
    for event in log.iter().take_while(|e| e.seq <= to_seq) {
        let payload = event.body.payload();
        let recorded = Recorded {
            seq: event.seq,
            at: event.at,
            actor: "tester",
            body: event.body.clone(),
            payload: &payload,
        };
        let changes = redecide(&state, recorded)
            .unwrap_or_else(|e| panic!("event {} does not re-decide: {e}", event.seq));
        for change in changes {
            state.apply(change);
        }
    }
    state
}

/// The rows that differ between two full replays, as `diff` lists them.
fn expected_diff(before: &MemoryState, after: &MemoryState) -> Vec<(String, String)> {
    let mut keys: Vec<(String, String)> = Vec::new();
    let mut differ = |kind: &str, key: &String, a: Option<Row>, b: Option<Row>| {
        let fields = |row: Option<Row>| row.map(|r| r.fields());
        if fields(a) != fields(b) {
            keys.push((kind.to_string(), key.clone()));
        }
    };
    use crate::domain::diff::Row;
    let mut instance_ids = Vec::new();
    before
        .instances
        .each(|i| instance_ids.push(i.instance_id.clone()));
    after
        .instances
        .each(|i| instance_ids.push(i.instance_id.clone()));
    for key in &instance_ids {
        let (a, b) = (before.instances.get(key), after.instances.get(key));
        differ("instance", key, a.map(Row::Instance), b.map(Row::Instance));
    }
    for key in before.numbers.keys().chain(after.numbers.keys()) {
        let (a, b) = (before.numbers.get(key), after.numbers.get(key));
        differ(
            "number",
            key,
            a.cloned().map(Row::Number),
            b.cloned().map(Row::Number),
        );
    }
    for key in before.services.keys().chain(after.services.keys()) {
        let (a, b) = (before.services.get(key), after.services.get(key));
        differ(
            "service",
            key,
            a.cloned().map(Row::Service),
            b.cloned().map(Row::Service),
        );
    }
    keys.sort();
    keys.dedup();
    keys
}

fn tracked_diff(log: &[Logged], from_seq: i64, to_seq: i64) -> Vec<RowDiff> {
    let mut state = MemoryState::new();
    let mut tracker = Tracker::default();
    for event in log.iter().take_while(|e| e.seq <= to_seq) {
        for change in evolve(&state, event.body.clone(), event.seq).unwrap() {
            if event.seq > from_seq {
                tracker.note(&state, &change);
            }
            state.apply(change);
        }
    }
    tracker.finish(&state)
}

proptest! {
    #![proptest_config(Config { cases: 48, ..Config::default() })]

    #[test]
    fn the_diff_from_every_seq_equals_two_full_replays_compared(
        ops in proptest::collection::vec(op(), 1..=60)
    ) {
        let (log, _) = history(&ops);
        let last = log.len() as i64;
        // diff from every seq to the end.
        let end = full_replay(&log, last);
        for from_seq in 0..=last {
            let before = full_replay(&log, from_seq);
            let diffs: Vec<(String, String)> = tracked_diff(&log, from_seq, last)
                .into_iter()
                .map(|d| (d.kind.name().to_string(), d.key))
                .collect();
            let mut sorted = diffs.clone();
            sorted.sort();
            prop_assert_eq!(&diffs, &sorted, "diff rows by kind, then key");
            prop_assert_eq!(diffs, expected_diff(&before, &end), "diff from seq {}", from_seq);
        }
    }
}

#[test]
fn a_history_of_every_kind_is_generated() {
    // The generator reaches every kind the diff must handle, so the
    // property above is not vacuous: one fixed, long run of ops.
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let mut kinds = std::collections::BTreeSet::new();
    for _ in 0..200 {
        let ops = proptest::collection::vec(op(), 60)
            .new_tree(&mut runner)
            .unwrap()
            .current();
        let (log, _) = history(&ops);
        kinds.extend(log.iter().map(|e| e.body.kind()));
    }
    for kind in [
        "instance_added",
        "instance_renewed",
        "instance_released",
        "instance_amended",
        "policy_set",
        "region_set",
        "allocated",
        "selected",
        "granted",
        "bound",
        "submitted",
        "approved",
        "rejected",
        "deregistered",
        "invalidated",
        "service_moved",
        "service_ip_updated",
        "service_renamed",
    ] {
        assert!(
            kinds.contains(kind),
            "no {kind} in the generated histories: {kinds:?}"
        );
    }
}
