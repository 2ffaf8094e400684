//! Property test for issue 3: random sequences of commands run through the
//! binary against a small in-memory reference model of docs/guide.md "The life of
//! a number". After
//! each step the ledger's answers (status, holder, service, consumed,
//! remaining) equal the model's; a refused step exits with the class the model
//! predicts, names one of the reasons the model allows, and leaves the log
//! byte for byte unchanged; an accepted step appends exactly one event to the
//! log without touching the earlier ones; `verify` passes at the end.

use crate::common::*;
use proptest::prelude::*;
use proptest::test_runner::Config as ProptestConfig;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

const ACCOUNTS: [&str; 4] = ["acme", "beta", "carol", "dave"];
const SERVICES: [&str; 3] = ["s0.example.com", "s1.example.com", "s2.example.com"];

/// The instances of every case: (id, type, owner, max).
const INSTANCES: [(&str, &str, &str, i64); 3] = [
    ("i-ecs", "ecs", "acme", 3),
    ("mall-1", "linkedmall", "beta", 2),
    ("iot-1", "iot_studio", "acme", 1),
];

/// A number reference: an index into the numbers seen so far, or a number
/// that does not exist.
type NumRef = Option<usize>;

#[derive(Debug, Clone)]
pub enum Op {
    Allocate {
        inst: usize,
        count: i64,
        account: Option<usize>,
    },
    Select {
        inst: usize,
        service: usize,
        account: Option<usize>,
    },
    Grant {
        num: NumRef,
        to: usize,
        account: Option<usize>,
    },
    /// `account: None` means "the current holder" (so binds often succeed).
    Bind {
        num: NumRef,
        service: usize,
        account: Option<usize>,
    },
    Submit {
        num: NumRef,
    },
    Approve {
        num: NumRef,
    },
    Reject {
        num: NumRef,
    },
    Deregister {
        num: NumRef,
    },
    Invalidate {
        num: NumRef,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Unbound,
    Bound,
    Filing,
    Filed,
    Deregistered,
    Invalid,
}

impl Status {
    fn name(self) -> &'static str {
        match self {
            Status::Unbound => "unbound",
            Status::Bound => "bound",
            Status::Filing => "filing",
            Status::Filed => "filed",
            Status::Deregistered => "deregistered",
            Status::Invalid => "invalid",
        }
    }
    fn holds_service(self) -> bool {
        matches!(self, Status::Bound | Status::Filing | Status::Filed)
    }
}

#[derive(Debug, Clone)]
struct Num {
    id: String,
    inst: usize,
    holder: String,
    status: Status,
    service: Option<String>,
    icp: Option<String>,
    direct: bool,
}

#[derive(Debug, Default)]
struct Model {
    numbers: Vec<Num>,
    consumed: [i64; 3],
}

/// The model's verdict on one step.
enum Verdict {
    /// Accepted; the closure applies the effect once the real numbers are known.
    Accept,
    /// Refused with exit 3 (not found).
    NotFound,
    /// Refused with exit 4 and one of these reason codes.
    Refuse(BTreeSet<&'static str>),
}

impl Model {
    fn remaining(&self, inst: usize) -> i64 {
        (INSTANCES[inst].3 - self.consumed[inst]).max(0)
    }

    fn resolve(&self, num: NumRef) -> Option<usize> {
        match num {
            Some(i) if !self.numbers.is_empty() => Some(i % self.numbers.len()),
            _ => None,
        }
    }

    fn service_taken(&self, service: &str) -> bool {
        self.numbers
            .iter()
            .any(|n| n.status.holds_service() && n.service.as_deref() == Some(service))
    }

    fn judge(&self, op: &Op) -> Verdict {
        let mut codes = BTreeSet::new();
        let status_rule = |num: NumRef, allowed: &[Status]| -> Verdict {
            match self.resolve(num) {
                None => Verdict::NotFound,
                Some(i) if allowed.contains(&self.numbers[i].status) => Verdict::Accept,
                Some(_) => Verdict::Refuse(["wrong_status"].into()),
            }
        };
        match op {
            Op::Allocate {
                inst,
                count,
                account,
            } => {
                if account.is_some_and(|a| ACCOUNTS[a] != INSTANCES[*inst].2) {
                    codes.insert("not_owner");
                }
                if *count > self.remaining(*inst) {
                    codes.insert("quota_exhausted");
                }
            }
            Op::Select {
                inst,
                service,
                account,
            } => {
                if account.is_some_and(|a| ACCOUNTS[a] != INSTANCES[*inst].2) {
                    codes.insert("not_owner");
                }
                if self.remaining(*inst) < 1 {
                    codes.insert("quota_exhausted");
                }
                if self.service_taken(SERVICES[*service]) {
                    codes.insert("service_taken");
                }
            }
            Op::Grant { num, account, .. } => {
                let Some(i) = self.resolve(*num) else {
                    return Verdict::NotFound;
                };
                let n = &self.numbers[i];
                if account.is_some_and(|a| ACCOUNTS[a] != INSTANCES[n.inst].2) {
                    codes.insert("not_owner");
                }
                if n.status != Status::Unbound {
                    codes.insert("wrong_status");
                }
            }
            Op::Bind {
                num,
                service,
                account,
            } => {
                let Some(i) = self.resolve(*num) else {
                    return Verdict::NotFound;
                };
                let n = &self.numbers[i];
                if account.is_some_and(|a| ACCOUNTS[a] != n.holder) {
                    codes.insert("not_holder");
                }
                if n.status != Status::Unbound {
                    codes.insert("wrong_status");
                }
                if self.service_taken(SERVICES[*service]) {
                    codes.insert("service_taken");
                }
            }
            Op::Submit { num } => return status_rule(*num, &[Status::Bound]),
            Op::Approve { num } | Op::Reject { num } => {
                return status_rule(*num, &[Status::Filing])
            }
            Op::Deregister { num } => {
                return status_rule(*num, &[Status::Bound, Status::Filing, Status::Filed])
            }
            Op::Invalidate { num } => {
                return status_rule(
                    *num,
                    &[
                        Status::Unbound,
                        Status::Bound,
                        Status::Filing,
                        Status::Filed,
                        Status::Deregistered,
                    ],
                )
            }
        }
        if codes.is_empty() {
            Verdict::Accept
        } else {
            Verdict::Refuse(codes)
        }
    }

    /// Applies an accepted step; `answer` is the binary's JSON answer.
    fn apply(&mut self, op: &Op, answer: &Value) {
        match op {
            Op::Allocate { inst, count, .. } => {
                let numbers = strings(&answer["numbers"]);
                assert_eq!(numbers.len() as i64, *count, "allocate answered {answer}");
                for id in numbers {
                    self.numbers.push(Num {
                        id,
                        inst: *inst,
                        holder: INSTANCES[*inst].2.to_string(),
                        status: Status::Unbound,
                        service: None,
                        icp: None,
                        direct: false,
                    });
                }
                self.consumed[*inst] += count;
            }
            Op::Select { inst, service, .. } => {
                let id = answer["number"]
                    .as_str()
                    .unwrap_or_else(|| panic!("select answered {answer}"))
                    .to_string();
                self.numbers.push(Num {
                    id,
                    inst: *inst,
                    holder: INSTANCES[*inst].2.to_string(),
                    status: Status::Bound,
                    service: Some(SERVICES[*service].to_string()),
                    icp: None,
                    direct: true,
                });
                self.consumed[*inst] += 1;
            }
            Op::Grant { num, to, .. } => {
                let i = self.resolve(*num).unwrap();
                self.numbers[i].holder = ACCOUNTS[*to].to_string();
            }
            Op::Bind { num, service, .. } => {
                let i = self.resolve(*num).unwrap();
                self.numbers[i].status = Status::Bound;
                self.numbers[i].service = Some(SERVICES[*service].to_string());
            }
            Op::Submit { num } => self.set(*num, Status::Filing),
            Op::Approve { num } => {
                self.set(*num, Status::Filed);
                let i = self.resolve(*num).unwrap();
                self.numbers[i].icp = Some(icp_for(&self.numbers[i].id));
            }
            Op::Reject { num } => self.set(*num, Status::Bound),
            Op::Deregister { num } => self.set(*num, Status::Deregistered),
            Op::Invalidate { num } => self.set(*num, Status::Invalid),
        }
    }

    fn set(&mut self, num: NumRef, status: Status) {
        let i = self.resolve(num).unwrap();
        self.numbers[i].status = status;
    }
}

/// An ICP number of the MIIT's shape, one per number (a live number's ICP
/// number is its own): digits from the number's first hex digits.
fn icp_for(number: &str) -> String {
    let hex: String = number
        .chars()
        .filter(|c| c.is_ascii_hexdigit())
        .take(9)
        .collect();
    format!("浙ICP备{}号-1", u64::from_str_radix(&hex, 16).unwrap_or(0))
}

/// The command line of a step, given the model state before it.
fn command_line(model: &Model, op: &Op) -> Vec<String> {
    let number = |num: &NumRef| match model.resolve(*num) {
        Some(i) => model.numbers[i].id.clone(),
        None => "NO-SUCH-NUMBER".to_string(),
    };
    let mut args: Vec<String> = Vec::new();
    let mut push = |items: &[&str]| args.extend(items.iter().map(|s| s.to_string()));
    match op {
        Op::Allocate {
            inst,
            count,
            account,
        } => {
            push(&[
                "allocate",
                INSTANCES[*inst].0,
                "--count",
                &count.to_string(),
            ]);
            if let Some(a) = account {
                push(&["--account", ACCOUNTS[*a]]);
            }
        }
        Op::Select {
            inst,
            service,
            account,
        } => {
            push(&[
                "select",
                INSTANCES[*inst].0,
                "--service",
                SERVICES[*service],
            ]);
            if let Some(a) = account {
                push(&["--account", ACCOUNTS[*a]]);
            }
        }
        Op::Grant { num, to, account } => {
            push(&["grant", &number(num), "--to", ACCOUNTS[*to]]);
            if let Some(a) = account {
                push(&["--account", ACCOUNTS[*a]]);
            }
        }
        Op::Bind {
            num,
            service,
            account,
        } => {
            let holder = match (account, model.resolve(*num)) {
                (Some(a), _) => ACCOUNTS[*a].to_string(),
                (None, Some(i)) => model.numbers[i].holder.clone(),
                (None, None) => ACCOUNTS[0].to_string(),
            };
            push(&[
                "bind",
                &number(num),
                "--service",
                SERVICES[*service],
                "--account",
                &holder,
            ]);
        }
        Op::Submit { num } => push(&["submit", &number(num)]),
        Op::Approve { num } => {
            let n = number(num);
            push(&["approve", &n, "--icp-number", &icp_for(&n)]);
        }
        Op::Reject { num } => push(&["reject", &number(num), "--reason", "documents incomplete"]),
        Op::Deregister { num } => push(&["deregister", &number(num), "--reason", "site closed"]),
        Op::Invalidate { num } => push(&["invalidate", &number(num), "--reason", "administrative"]),
    }
    args
}

pub fn op_strategy() -> impl Strategy<Value = Op> {
    let inst = 0usize..INSTANCES.len();
    let account = prop_oneof![3 => Just(None), 2 => (0usize..ACCOUNTS.len()).prop_map(Some)];
    let bind_account = prop_oneof![4 => Just(None), 1 => (0usize..ACCOUNTS.len()).prop_map(Some)];
    let num = prop_oneof![12 => (0usize..64).prop_map(Some), 1 => Just(None)];
    let service = 0usize..SERVICES.len();
    prop_oneof![
        4 => (inst.clone(), 1i64..=3, account.clone()).prop_map(|(inst, count, account)| Op::Allocate { inst, count, account }),
        1 => (inst, service.clone(), account.clone()).prop_map(|(inst, service, account)| Op::Select { inst, service, account }),
        2 => (num.clone(), 0usize..ACCOUNTS.len(), account).prop_map(|(num, to, account)| Op::Grant { num, to, account }),
        3 => (num.clone(), service, bind_account).prop_map(|(num, service, account)| Op::Bind { num, service, account }),
        2 => num.clone().prop_map(|num| Op::Submit { num }),
        2 => num.clone().prop_map(|num| Op::Approve { num }),
        1 => num.clone().prop_map(|num| Op::Reject { num }),
        1 => num.clone().prop_map(|num| Op::Deregister { num }),
        1 => num.prop_map(|num| Op::Invalidate { num }),
    ]
}

fn new_ledger() -> Ledger {
    new_ledger_with(&mut |_| {})
}

/// The set-up of every case; `tick` runs before each command.
fn new_ledger_with(tick: &mut dyn FnMut(&Ledger)) -> Ledger {
    let ledger = Ledger::new();
    tick(&ledger);
    ledger.ok(&["init"]);
    tick(&ledger);
    ledger.ok(&["policy", "set", "ecs", "--max", "3"]);
    tick(&ledger);
    ledger.add_instance("i-ecs", "ecs", "acme", &["--public-ip", "47.96.10.21"]);
    tick(&ledger);
    ledger.add_instance("mall-1", "linkedmall", "beta", &["--months", "0"]);
    tick(&ledger);
    ledger.add_instance(
        "iot-1",
        "iot_studio",
        "acme",
        &["--months", "6", "--order-amount", "100"],
    );
    ledger
}

/// `NOW` plus `minutes`.
pub fn minutes_after_now(minutes: i64) -> String {
    let now = chrono::DateTime::parse_from_rfc3339(NOW).unwrap();
    (now + chrono::Duration::minutes(minutes))
        .to_utc()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// A random history with a time of its own for every event: `ops` (refused
/// ones included) after the set-up, each command a minute after the one
/// before.
pub fn one_command_a_minute(ops: &[Op]) -> Ledger {
    let mut minutes = 0;
    run_ops(ops, &mut |ledger: &Ledger| {
        minutes += 1;
        ledger.set_now(&minutes_after_now(minutes));
    })
}

/// Runs `ops` (refusals included) on a new ledger; `tick` runs before
/// each command.
fn run_ops(ops: &[Op], tick: &mut dyn FnMut(&Ledger)) -> Ledger {
    let ledger = new_ledger_with(tick);
    let mut model = Model::default();
    for op in ops {
        tick(&ledger);
        let mut args: Vec<String> = vec!["--format".into(), "json".into()];
        args.extend(command_line(&model, op));
        let output = ledger.run(&args);
        if output.status.success() {
            let answer: Value = serde_json::from_slice(&output.stdout).expect("JSON answer");
            model.apply(op, &answer);
        }
    }
    ledger
}

/// Compares the ledger's answers with the model's.
fn compare(ledger: &Ledger, model: &Model, step: usize, op: &Op) {
    let listed = ledger.json(&["number", "list"]);
    let listed: BTreeMap<String, Value> = listed
        .as_array()
        .expect("number list is an array")
        .iter()
        .map(|n| (n["number"].as_str().unwrap().to_string(), n.clone()))
        .collect();
    let expected: BTreeSet<&String> = model.numbers.iter().map(|n| &n.id).collect();
    assert_eq!(
        listed.keys().collect::<BTreeSet<_>>(),
        expected,
        "step {step} {op:?}: the ledger's numbers differ from the model's"
    );
    for n in &model.numbers {
        let real = &listed[&n.id];
        let context = format!("step {step} {op:?}: number {}", n.id);
        assert_eq!(real["status"], n.status.name(), "{context}");
        assert_eq!(real["holder"], n.holder.as_str(), "{context}");
        assert_eq!(real["owner"], INSTANCES[n.inst].2, "{context}");
        assert_eq!(real["instance_id"], INSTANCES[n.inst].0, "{context}");
        assert_eq!(
            real["origin"],
            if n.direct { "direct" } else { "issued" },
            "{context}"
        );
        match &n.service {
            Some(service) => assert_eq!(real["service"], service.as_str(), "{context}"),
            None => assert_eq!(real["service"], Value::Null, "{context}"),
        }
        if let Some(icp) = &n.icp {
            assert_eq!(real["icp_number"], icp.as_str(), "{context}");
        }
    }
    let instances = ledger.json(&["instance", "list"]);
    for (i, (id, _, owner, max)) in INSTANCES.iter().enumerate() {
        let real = instances
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["instance_id"] == *id)
            .unwrap_or_else(|| panic!("instance {id} not listed"));
        let context = format!("step {step} {op:?}: instance {id}");
        assert_eq!(real["account"], *owner, "{context}");
        assert_eq!(real["quota"]["max"], *max, "{context}");
        assert_eq!(real["quota"]["consumed"], model.consumed[i], "{context}");
        assert_eq!(real["quota"]["remaining"], model.remaining(i), "{context}");
    }
}

fn run_case(ops: &[Op]) {
    let ledger = new_ledger();
    let mut model = Model::default();
    let mut log = ledger.export_history();
    let mut consumed_before = [0i64; 3];
    for (step, op) in ops.iter().enumerate() {
        let args = command_line(&model, op);
        let mut full: Vec<&str> = vec!["--format", "json"];
        full.extend(args.iter().map(String::as_str));
        let output = ledger.run(&full);
        let code = output.status.code();
        let stderr = String::from_utf8_lossy(&output.stderr).to_string();
        let after = ledger.export_history();
        match model.judge(op) {
            Verdict::Accept => {
                assert_eq!(
                    code,
                    Some(0),
                    "step {step} {args:?}: the model accepts, the ledger said {stderr}"
                );
                let answer: Value = serde_json::from_slice(&output.stdout)
                    .unwrap_or_else(|e| panic!("step {step} {args:?}: stdout is not JSON ({e})"));
                model.apply(op, &answer);
                assert!(
                    after.starts_with(&log),
                    "step {step} {args:?}: earlier events changed"
                );
                let added = &after[log.len()..];
                assert_eq!(
                    added.iter().filter(|b| **b == b'\n').count(),
                    1,
                    "step {step} {args:?}: exactly one event appended"
                );
            }
            verdict => {
                let (exit, allowed): (i32, BTreeSet<&str>) = match verdict {
                    Verdict::NotFound => (3, ["not_found"].into()),
                    Verdict::Refuse(codes) => (4, codes),
                    Verdict::Accept => unreachable!(),
                };
                assert_eq!(
                    code,
                    Some(exit),
                    "step {step} {args:?}: expected exit {exit} ({allowed:?}), got {stderr}"
                );
                let error: Value = serde_json::from_str(stderr.trim()).unwrap_or_else(|e| {
                    panic!("step {step} {args:?}: stderr is not a JSON error ({e}): {stderr}")
                });
                let reason = error["error"]["code"].as_str().unwrap_or_default();
                assert!(
                    allowed.contains(reason),
                    "step {step} {args:?}: reason {reason}, model allows {allowed:?}"
                );
                assert!(
                    after == log,
                    "step {step} {args:?}: a refused step changed the log"
                );
            }
        }
        compare(&ledger, &model, step, op);
        for (i, before) in consumed_before.iter().enumerate() {
            assert!(model.consumed[i] >= *before, "consumed decreased");
        }
        consumed_before = model.consumed;
        log = after;
    }
    ledger.verify_ok();
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 24,
        max_shrink_iters: 200,
        max_shrink_time: 60_000,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn the_ledger_follows_the_reference_model(ops in proptest::collection::vec(op_strategy(), 1..=25)) {
        run_case(&ops);
    }
}

/// A fixed sequence through every kind of step, so that the model itself is
/// exercised even when the random cases happen to be short.
#[test]
fn the_model_agrees_on_a_known_sequence() {
    let ops = vec![
        Op::Allocate {
            inst: 0,
            count: 2,
            account: None,
        },
        Op::Allocate {
            inst: 0,
            count: 2,
            account: None,
        },
        Op::Allocate {
            inst: 1,
            count: 1,
            account: Some(0),
        },
        Op::Grant {
            num: Some(0),
            to: 2,
            account: None,
        },
        Op::Grant {
            num: Some(0),
            to: 3,
            account: Some(2),
        },
        Op::Bind {
            num: Some(0),
            service: 0,
            account: Some(0),
        },
        Op::Bind {
            num: Some(0),
            service: 0,
            account: None,
        },
        Op::Bind {
            num: Some(1),
            service: 0,
            account: None,
        },
        Op::Select {
            inst: 0,
            service: 1,
            account: None,
        },
        Op::Select {
            inst: 0,
            service: 2,
            account: None,
        },
        Op::Submit { num: Some(0) },
        Op::Reject { num: Some(0) },
        Op::Submit { num: Some(0) },
        Op::Approve { num: Some(0) },
        Op::Approve { num: Some(0) },
        Op::Deregister { num: Some(0) },
        Op::Bind {
            num: Some(1),
            service: 0,
            account: None,
        },
        Op::Invalidate { num: Some(1) },
        Op::Invalidate { num: Some(1) },
        Op::Submit { num: None },
        Op::Allocate {
            inst: 2,
            count: 1,
            account: None,
        },
        Op::Allocate {
            inst: 2,
            count: 1,
            account: None,
        },
    ];
    run_case(&ops);
}

// ---------------------------------------------------------------- forgeries (issue 12)
//
// After a random honest run, random single-event forgeries with every hash
// recomputed (crate::forgery's generator): a number, an account or a
// service changed, a number added, an event dropped, repeated or swapped
// with the next. A second reference model replays the forged log by the
// rules; `import history` must refuse exactly the logs it refuses (exit 5
// at the first bad event, nothing imported) and take every log it accepts
// (which then verifies).

use crate::forgery::{forged_uuid, history_csv, reseal};

/// One number as a log leaves it.
#[derive(Debug, Clone)]
struct LogNumber {
    instance: String,
    owner: String,
    holder: String,
    status: Status,
    service: Option<String>,
}

/// The rules applied to a log event by event (docs/guide.md "The life of a
/// number", docs/reference.md "Eligibility reason codes"): what is refused, and why.
#[derive(Debug)]
struct LogModel {
    max_by_type: BTreeMap<String, i64>,
    /// instance → (type, owner, consumed)
    instances: BTreeMap<String, (String, String, i64)>,
    numbers: BTreeMap<String, LogNumber>,
}

/// A payload's text field.
fn text<'a>(payload: &'a Value, key: &str) -> &'a str {
    payload[key].as_str().unwrap_or_default()
}

impl LogModel {
    fn new() -> LogModel {
        let defaults = [
            ("ecs", 5),
            ("cloud_web_hosting", 5),
            ("simple_application_server", 5),
            ("ens", 5),
            ("linkedmall", 2),
            ("iot_studio", 1),
        ];
        LogModel {
            max_by_type: defaults.iter().map(|(t, m)| (t.to_string(), *m)).collect(),
            instances: BTreeMap::new(),
            numbers: BTreeMap::new(),
        }
    }

    fn service_taken(&self, service: &str) -> bool {
        self.numbers
            .values()
            .any(|n| n.status.holds_service() && n.service.as_deref() == Some(service))
    }

    /// The owner of `instance` and its remaining slots, if `account` may
    /// take `count` new numbers there.
    fn take_slots(&mut self, payload: &Value, count: usize) -> Result<String, String> {
        let instance = text(payload, "instance_id");
        let (service_type, owner, consumed) =
            self.instances.get(instance).ok_or("not_found")?.clone();
        if text(payload, "account") != owner {
            return Err("not_owner".into());
        }
        let max = self.max_by_type.get(&service_type).copied().unwrap_or(0);
        if !(1..=20).contains(&count) {
            return Err("count_out_of_range".into());
        }
        if (max - consumed).max(0) < count as i64 {
            return Err("quota_exhausted".into());
        }
        self.instances.insert(
            instance.to_string(),
            (service_type, owner.clone(), consumed + count as i64),
        );
        Ok(owner)
    }

    /// Judges one event on the state before it and applies it when the
    /// rules accept it.
    fn judge(&mut self, kind: &str, payload: &Value) -> Result<(), String> {
        match kind {
            "policy_set" => {
                let max = payload["max_numbers"].as_i64().unwrap_or(0);
                self.max_by_type
                    .insert(text(payload, "service_type").to_string(), max);
                Ok(())
            }
            "instance_added" => {
                let id = text(payload, "instance_id").to_string();
                if self.instances.contains_key(&id) {
                    return Err("already_exists".into());
                }
                let entry = (
                    text(payload, "service_type").into(),
                    text(payload, "account").into(),
                    0,
                );
                self.instances.insert(id, entry);
                Ok(())
            }
            "allocated" | "selected" => self.judge_new_numbers(kind, payload),
            _ => self.judge_on_number(kind, payload),
        }
    }

    fn judge_new_numbers(&mut self, kind: &str, payload: &Value) -> Result<(), String> {
        let numbers: Vec<String> = if kind == "allocated" {
            strings(&payload["numbers"])
        } else {
            vec![text(payload, "number").to_string()]
        };
        let distinct: BTreeSet<&String> = numbers.iter().collect();
        if distinct.len() != numbers.len() || numbers.iter().any(|n| self.numbers.contains_key(n)) {
            return Err("already_exists".into());
        }
        let service = (kind == "selected").then(|| text(payload, "service").to_string());
        if service.as_deref().is_some_and(|s| self.service_taken(s)) {
            return Err("service_taken".into());
        }
        let owner = self.take_slots(payload, numbers.len())?;
        for number in numbers {
            let record = LogNumber {
                instance: text(payload, "instance_id").to_string(),
                owner: owner.clone(),
                holder: owner.clone(),
                status: if service.is_some() {
                    Status::Bound
                } else {
                    Status::Unbound
                },
                service: service.clone(),
            };
            self.numbers.insert(number, record);
        }
        Ok(())
    }

    /// grant, bind and the filing steps: the event must state the number as
    /// it stands, and the machine must allow the step.
    fn judge_on_number(&mut self, kind: &str, payload: &Value) -> Result<(), String> {
        let number = text(payload, "number");
        let mut record = self.numbers.get(number).ok_or("not_found")?.clone();
        let holder_key = if kind == "granted" { "from" } else { "holder" };
        let states_it = text(payload, "instance_id") == record.instance
            && text(payload, "owner") == record.owner
            && text(payload, holder_key) == record.holder;
        if !states_it {
            return Err("the payload differs from the number's state".into());
        }
        let (from, to) = match kind {
            "granted" => (vec![Status::Unbound], Status::Unbound),
            "bound" => (vec![Status::Unbound], Status::Bound),
            "submitted" => (vec![Status::Bound], Status::Filing),
            "approved" => (vec![Status::Filing], Status::Filed),
            "rejected" => (vec![Status::Filing], Status::Bound),
            "deregistered" => (
                vec![Status::Bound, Status::Filing, Status::Filed],
                Status::Deregistered,
            ),
            "invalidated" => (
                vec![
                    Status::Unbound,
                    Status::Bound,
                    Status::Filing,
                    Status::Filed,
                    Status::Deregistered,
                ],
                Status::Invalid,
            ),
            other => panic!("the log model has no rule for {other}"),
        };
        if !from.contains(&record.status) {
            return Err("wrong_status".into());
        }
        match kind {
            "granted" => record.holder = text(payload, "to").to_string(),
            "bound" => {
                let service = text(payload, "service");
                if self.service_taken(service) {
                    return Err("service_taken".into());
                }
                record.service = Some(service.to_string());
            }
            _ if payload["service"].as_str() != record.service.as_deref() => {
                return Err("the payload names another service".into());
            }
            _ => {}
        }
        record.status = to;
        self.numbers.insert(number.to_string(), record);
        Ok(())
    }
}

/// The first event of `rows` the rules refuse: (seq, why).
fn first_refused(rows: &[EventRow]) -> Option<(i64, String)> {
    let mut model = LogModel::new();
    rows.iter().find_map(|row| {
        let payload: Value = serde_json::from_str(&row.payload).expect("payload is JSON");
        model
            .judge(&row.kind, &payload)
            .err()
            .map(|why| (row.seq, why))
    })
}

/// One forgery of one event (its index is taken modulo the log's length).
#[derive(Debug, Clone)]
enum Forgery {
    /// Another number (one of the log's, or a fresh one) where it names one.
    Renumber {
        event: usize,
        pick: usize,
    },
    /// Another account in one of its account fields.
    Reassign {
        event: usize,
        pick: usize,
    },
    /// Another service where it names one.
    Reservice {
        event: usize,
        pick: usize,
    },
    /// One fresh number more in an allocation.
    ExtraNumber {
        event: usize,
    },
    Drop {
        event: usize,
    },
    /// The event again, at the end, with a new id.
    Repeat {
        event: usize,
    },
    /// The event and the next one swapped.
    Swap {
        event: usize,
    },
}

/// One number the payload names (if any) replaced by one of `candidates`.
fn renumber(payload: &mut Value, pick: usize, candidates: &[String]) {
    let replacement = Value::from(candidates[pick % candidates.len()].clone());
    if payload["number"].is_string() {
        payload["number"] = replacement;
    } else if let Some(numbers) = payload.get_mut("numbers").and_then(Value::as_array_mut) {
        let slot = pick % numbers.len().max(1);
        if let Some(number) = numbers.get_mut(slot) {
            *number = replacement;
        }
    }
}

fn reassign(payload: &mut Value, pick: usize) {
    let keys: Vec<&str> = ["account", "owner", "holder", "from", "to"]
        .into_iter()
        .filter(|key| payload[*key].is_string())
        .collect();
    if let Some(key) = keys.get(pick % keys.len().max(1)) {
        payload[*key] = Value::from(ACCOUNTS[(pick / 5) % ACCOUNTS.len()]);
    }
}

/// The honest log with one forgery, resealed.
fn forge(honest: &[EventRow], forgery: &Forgery) -> Vec<EventRow> {
    let mut rows = honest.to_vec();
    let mut numbers: Vec<String> = rows
        .iter()
        .flat_map(|r| {
            let payload: Value = serde_json::from_str(&r.payload).unwrap();
            let listed = payload["numbers"].as_array().cloned().unwrap_or_default();
            listed
                .into_iter()
                .filter_map(|n| n.as_str().map(String::from))
        })
        .collect();
    numbers.push(forged_uuid(1));
    let length = rows.len();
    let at = |event: &usize| event % length;
    let mut edit = |index: usize, change: &dyn Fn(&mut Value)| {
        let mut payload: Value = serde_json::from_str(&rows[index].payload).unwrap();
        change(&mut payload);
        rows[index].payload = payload.to_string();
    };
    match forgery {
        Forgery::Renumber { event, pick } => edit(at(event), &|p| renumber(p, *pick, &numbers)),
        Forgery::Reassign { event, pick } => edit(at(event), &|p| reassign(p, *pick)),
        Forgery::Reservice { event, pick } => edit(at(event), &|p| {
            if p["service"].is_string() {
                p["service"] = Value::from(SERVICES[pick % SERVICES.len()]);
            }
        }),
        Forgery::ExtraNumber { event } => edit(at(event), &|p| {
            // get_mut: indexing a missing key mutably would add it.
            if let Some(list) = p.get_mut("numbers").and_then(Value::as_array_mut) {
                list.push(Value::from(forged_uuid(2)));
            }
        }),
        Forgery::Drop { event } => _ = rows.remove(at(event)),
        Forgery::Repeat { event } => {
            let mut again = rows[at(event)].clone();
            again.event_id = forged_uuid(3);
            rows.push(again);
        }
        Forgery::Swap { event } => {
            let index = at(event);
            if index + 1 < rows.len() {
                rows.swap(index, index + 1);
            }
        }
    }
    reseal(&mut rows);
    rows
}

fn forgery_strategy() -> impl Strategy<Value = Forgery> {
    let event = 0usize..64;
    let pick = 0usize..64;
    prop_oneof![
        3 => (event.clone(), pick.clone()).prop_map(|(event, pick)| Forgery::Renumber { event, pick }),
        3 => (event.clone(), pick.clone()).prop_map(|(event, pick)| Forgery::Reassign { event, pick }),
        1 => (event.clone(), pick).prop_map(|(event, pick)| Forgery::Reservice { event, pick }),
        1 => event.clone().prop_map(|event| Forgery::ExtraNumber { event }),
        2 => event.clone().prop_map(|event| Forgery::Drop { event }),
        2 => event.clone().prop_map(|event| Forgery::Repeat { event }),
        2 => event.prop_map(|event| Forgery::Swap { event }),
    ]
}

/// Imports `rows` into an empty ledger: accepted and verified when the
/// rules accept every event, else exit 5 at the first refused one with
/// nothing imported.
fn check_forged_log(rows: &[EventRow], what: &str) {
    let target = Ledger::new();
    target.ok(&["init"]);
    let file = target.write("forged.csv", history_csv(rows));
    let output = target.run(&["import".as_ref(), "history".as_ref(), file.as_os_str()]);
    match first_refused(rows) {
        None => {
            assert_ok(&output, &format!("{what}: the rules accept this log"));
            assert_eq!(target.verify_ok(), rows.len() as u64, "{what}");
        }
        Some((seq, why)) => {
            assert_fails(
                &output,
                5,
                "integrity",
                &format!("{what}: event {seq} ({why})"),
            );
            let first = failure_lines(&output)
                .into_iter()
                .next()
                .unwrap_or_default();
            assert!(
                first.starts_with(&format!("line {}: error[integrity]", seq + 1))
                    && first.contains(&format!("event {seq}")),
                "{what}: event {seq} ({why}) should be named first: {}",
                stderr(&output)
            );
            assert_eq!(target.verify_ok(), 0, "{what}: nothing imported");
        }
    }
}

/// Runs `ops` (refusals included) and returns the honest log.
fn honest_log(ops: &[Op]) -> Vec<EventRow> {
    run_ops(ops, &mut |_| {}).event_rows()
}

fn run_forgeries(ops: &[Op], forgeries: &[Forgery]) {
    let honest = honest_log(ops);
    assert_eq!(
        first_refused(&honest),
        None,
        "the log model refuses an honest log"
    );
    check_forged_log(&honest, "the honest log");
    for forgery in forgeries {
        let forged = forge(&honest, forgery);
        check_forged_log(&forged, &format!("{forgery:?} after {ops:?}"));
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 24,
        max_shrink_iters: 100,
        max_shrink_time: 60_000,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn every_forgery_the_rules_refuse_is_caught_and_every_honest_log_verifies(
        ops in proptest::collection::vec(op_strategy(), 1..=20),
        forgeries in proptest::collection::vec(forgery_strategy(), 1..=6),
    ) {
        run_forgeries(&ops, &forgeries);
    }
}

/// Fixed forgeries of a known log, one per kind of forgery, so each is
/// exercised whatever the random cases draw.
#[test]
fn known_forgeries_of_a_known_log_are_judged_by_the_rules() {
    let ops = vec![
        Op::Allocate {
            inst: 0,
            count: 2,
            account: None,
        },
        Op::Grant {
            num: Some(0),
            to: 2,
            account: None,
        },
        Op::Bind {
            num: Some(0),
            service: 0,
            account: None,
        },
        Op::Submit { num: Some(0) },
        Op::Select {
            inst: 1,
            service: 1,
            account: None,
        },
    ];
    // Events by index from 0: 0 policy_set, 1-3 instance_added, 4 allocated,
    // 5 granted, 6 bound, 7 submitted, 8 selected.
    let forgeries = [
        Forgery::Renumber { event: 6, pick: 2 }, // bound: the fresh number
        Forgery::Reassign { event: 4, pick: 5 }, // allocated by beta
        Forgery::Reservice { event: 8, pick: 0 }, // selected: s0 is taken
        Forgery::ExtraNumber { event: 4 },       // 3 of 3 slots: accepted
        Forgery::Drop { event: 5 },              // the bind by a non-holder
        Forgery::Drop { event: 8 },              // the last event: accepted
        Forgery::Repeat { event: 6 },            // bound twice
        Forgery::Swap { event: 5 },              // bound before granted
    ];
    run_forgeries(&ops, &forgeries);
}
