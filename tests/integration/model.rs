//! Property test for issue 3: random sequences of commands run through the
//! binary against a small in-memory reference model of README "The life of
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
enum Op {
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

fn op_strategy() -> impl Strategy<Value = Op> {
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
    let ledger = Ledger::new();
    ledger.ok(&["init"]);
    ledger.ok(&["policy", "set", "ecs", "--max", "3"]);
    ledger.add_instance("i-ecs", "ecs", "acme", &["--public-ip", "47.96.10.21"]);
    ledger.add_instance("mall-1", "linkedmall", "beta", &["--months", "0"]);
    ledger.add_instance(
        "iot-1",
        "iot_studio",
        "acme",
        &["--months", "6", "--order-amount", "100"],
    );
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
