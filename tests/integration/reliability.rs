//! Issue 7: the ledger keeps its promises under load, faults and bad input
//! (docs/reference.md "Guarantees"): concurrent writers, SIGKILL at random moments, a
//! corpus of hostile inputs plus a proptest, and least privilege.

use crate::common::*;
use crate::common::{CSV_ACTOR as ACTOR, CSV_NOW as NOW};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

// ---------------------------------------------------------------- helpers

fn os(args: &[&str]) -> Vec<OsString> {
    args.iter().map(OsString::from).collect()
}

/// The error code of a failed run, from `error[CODE]` or the JSON object.
fn error_code(output: &std::process::Output) -> String {
    let err = stderr(output);
    if let Ok(value) = serde_json::from_str::<Value>(err.trim()) {
        if let Some(code) = value["error"]["code"].as_str() {
            return code.to_string();
        }
    }
    err.split("error[")
        .nth(1)
        .and_then(|rest| rest.split(']').next())
        .unwrap_or("")
        .to_string()
}

/// The seed for the crash tests: `SNLEDGER_CRASH_SEED` replays a run.
fn crash_seed() -> u64 {
    let seed = std::env::var("SNLEDGER_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5EED_2026_1123);
    eprintln!("crash seed: {seed} (replay with SNLEDGER_CRASH_SEED={seed})");
    seed
}

fn instances_file(path: &Path, rows: usize, prefix: &str, account: &str) {
    use std::io::Write;
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    writeln!(out, "{INSTANCES_HEADER}").unwrap();
    for i in 0..rows {
        writeln!(
            out,
            "{prefix}-{i:06},ecs,{account},cn-hangzhou,subscription,12,2027-12-31T16:00:00Z,47.{}.{}.{},",
            (i >> 16) & 255,
            (i >> 8) & 255,
            i & 255
        )
        .unwrap();
    }
}

/// Copies a ledger file (and a leftover WAL, if any) into `dir`.
fn copy_ledger(from: &Path, to: &Path) {
    std::fs::copy(from, to).unwrap();
    let wal = PathBuf::from(format!("{}-wal", from.display()));
    if wal.exists() {
        std::fs::copy(&wal, format!("{}-wal", to.display())).unwrap();
    }
}

fn wal_of(db: &Path) -> PathBuf {
    PathBuf::from(format!("{}-wal", db.display()))
}

fn shm_of(db: &Path) -> PathBuf {
    PathBuf::from(format!("{}-shm", db.display()))
}

/// Spawns the binary with output discarded (for killing).
fn spawn_quiet(ledger: &Ledger, args: &[&OsStr]) -> std::process::Child {
    ledger
        .command()
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn")
}

/// Checks the log itself: seq 1..n without gaps, unique event ids, and each
/// prev_hash naming the previous hash.
fn assert_chain_contiguous(events: &[Value]) {
    let mut ids = BTreeSet::new();
    for (i, event) in events.iter().enumerate() {
        assert_eq!(
            event["seq"].as_u64(),
            Some(i as u64 + 1),
            "seq without gaps"
        );
        assert!(
            ids.insert(event["event_id"].as_str().unwrap().to_string()),
            "duplicated event id"
        );
        if i > 0 {
            assert_eq!(
                event["prev_hash"],
                events[i - 1]["hash"],
                "the chain links at seq {}",
                i + 1
            );
        } else {
            assert_eq!(event["prev_hash"].as_str().unwrap(), "0".repeat(64));
        }
    }
}

// ---------------------------------------------------------------- (a) load

#[test]
fn eight_processes_race_240_allocations_for_50_slots() {
    let ledger = Ledger::with(NOW, ACTOR);
    let mut text = format!("{INSTANCES_HEADER}\n");
    for i in 0..10 {
        text.push_str(&ecs_row(&format!("i-load-{i:02}"), "load-owner"));
    }
    let file = ledger.write("load.csv", text);
    ledger.ok(&["import".as_ref(), "instances".as_ref(), file.as_os_str()]);

    let barrier = std::sync::Barrier::new(8);
    let results: Vec<(i32, String, Vec<String>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|p| {
                let (ledger, barrier) = (&ledger, &barrier);
                scope.spawn(move || {
                    barrier.wait();
                    let mut results = Vec::new();
                    for k in 0..30 {
                        let instance = format!("i-load-{:02}", (p + k) % 10);
                        let output = run_bounded(
                            ledger
                                .command()
                                .args(["--format", "json", "allocate", &instance]),
                            Duration::from_secs(60),
                        );
                        let code = output.status.code().unwrap_or(-1);
                        let numbers = if code == 0 {
                            let value: Value =
                                serde_json::from_str(&stdout(&output)).expect("allocate JSON");
                            value["numbers"]
                                .as_array()
                                .unwrap()
                                .iter()
                                .map(|n| n.as_str().unwrap().to_string())
                                .collect()
                        } else {
                            Vec::new()
                        };
                        results.push((code, error_code(&output), numbers));
                    }
                    results
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    assert_eq!(results.len(), 240);
    let successes: Vec<_> = results.iter().filter(|r| r.0 == 0).collect();
    assert_eq!(successes.len(), 50, "exactly the 50 slots are allocated");
    for (code, reason, _) in results.iter().filter(|r| r.0 != 0) {
        assert_eq!(
            (*code, reason.as_str()),
            (4, "quota_exhausted"),
            "every other request is refused for quota"
        );
    }
    let numbers: BTreeSet<&String> = successes.iter().flat_map(|r| r.2.iter()).collect();
    assert_eq!(numbers.len(), 50, "50 distinct numbers");
    assert_eq!(ledger.verify_ok(), 60, "10 instance_added + 50 allocated");
    assert_chain_contiguous(&ledger.events(&[]));
    for i in 0..10 {
        let quota = &ledger.instance(&format!("i-load-{i:02}"))["quota"];
        assert_eq!(
            (quota["consumed"].as_i64(), quota["remaining"].as_i64()),
            (Some(5), Some(0))
        );
    }
    assert_eq!(ledger.count("numbers"), 50);
}

#[derive(Debug, Clone)]
enum MixOp {
    Grant {
        number: String,
        to: String,
        account: Option<String>,
    },
    Bind {
        number: String,
        account: String,
        service: String,
    },
    Allocate {
        instance: String,
    },
}

#[test]
fn concurrent_grant_bind_and_allocate_leave_every_number_in_one_legal_state() {
    let ledger = Ledger::with(NOW, ACTOR);
    let mut text = format!("{INSTANCES_HEADER}\n");
    for i in 0..4 {
        text.push_str(&ecs_row(&format!("i-mix-{i}"), "own"));
    }
    let file = ledger.write("mix.csv", text);
    ledger.ok(&["import".as_ref(), "instances".as_ref(), file.as_os_str()]);
    let mut numbers = Vec::new();
    for i in 0..4 {
        let mut args = vec!["allocate".to_string(), format!("i-mix-{i}")];
        for k in 0..3 {
            numbers.push(format!("MX-{i}-{k}"));
            args.extend(["--number".to_string(), format!("MX-{i}-{k}")]);
        }
        ledger.ok(&args);
    }
    let setup_events = ledger.verify_ok();
    assert_eq!(setup_events, 8);

    let seed = crash_seed();
    let processes = 6;
    let plans: Vec<Vec<MixOp>> = (0..processes)
        .map(|p| {
            let mut rng = XorShift::new(seed ^ ((p as u64 + 1) * 0x9E37_79B9));
            (0..18)
                .map(|_| {
                    let number = numbers[rng.range(0, numbers.len() as u64) as usize].clone();
                    let account = ["own", "acct-b", "acct-c"][rng.range(0, 3) as usize].to_string();
                    match rng.range(0, 10) {
                        0..=3 => MixOp::Grant {
                            number,
                            to: ["acct-b", "acct-c", "own"][rng.range(0, 3) as usize].to_string(),
                            account: if rng.range(0, 4) == 0 {
                                Some(account)
                            } else {
                                None
                            },
                        },
                        4..=7 => MixOp::Bind {
                            number,
                            account,
                            service: format!("site-{}.example.com", rng.range(0, 6)),
                        },
                        _ => MixOp::Allocate {
                            instance: format!("i-mix-{}", rng.range(0, 4)),
                        },
                    }
                })
                .collect()
        })
        .collect();

    let barrier = std::sync::Barrier::new(processes);
    let results: Vec<(MixOp, i32, String)> = std::thread::scope(|scope| {
        let handles: Vec<_> = plans
            .iter()
            .map(|plan| {
                let (ledger, barrier) = (&ledger, &barrier);
                scope.spawn(move || {
                    barrier.wait();
                    plan.iter()
                        .map(|op| {
                            let args: Vec<String> = match op {
                                MixOp::Grant {
                                    number,
                                    to,
                                    account,
                                } => {
                                    let mut args = vec![
                                        "grant".into(),
                                        number.clone(),
                                        "--to".into(),
                                        to.clone(),
                                    ];
                                    if let Some(account) = account {
                                        args.extend(["--account".into(), account.clone()]);
                                    }
                                    args
                                }
                                MixOp::Bind {
                                    number,
                                    account,
                                    service,
                                } => {
                                    vec![
                                        "bind".into(),
                                        number.clone(),
                                        "--account".into(),
                                        account.clone(),
                                        "--service".into(),
                                        service.clone(),
                                    ]
                                }
                                MixOp::Allocate { instance } => {
                                    vec!["allocate".into(), instance.clone()]
                                }
                            };
                            let output =
                                run_bounded(ledger.command().args(&args), Duration::from_secs(60));
                            (
                                op.clone(),
                                output.status.code().unwrap_or(-1),
                                error_code(&output),
                            )
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });

    let legal_refusals = [
        "wrong_status",
        "not_holder",
        "not_owner",
        "service_taken",
        "quota_exhausted",
    ];
    let mut succeeded: BTreeMap<&str, usize> = BTreeMap::new();
    let mut binds: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    let mut allocate_attempts: BTreeMap<String, usize> = BTreeMap::new();
    let mut allocate_successes: BTreeMap<String, usize> = BTreeMap::new();
    for (op, code, reason) in &results {
        assert!(
            *code == 0 || (*code == 4 && legal_refusals.contains(&reason.as_str())),
            "{op:?} ended with exit {code} {reason}: only success or a rule refusal is legal"
        );
        let kind = match op {
            MixOp::Grant { .. } => "granted",
            MixOp::Bind { .. } => "bound",
            MixOp::Allocate { .. } => "allocated",
        };
        if let MixOp::Allocate { instance } = op {
            *allocate_attempts.entry(instance.clone()).or_default() += 1;
        }
        if *code == 0 {
            *succeeded.entry(kind).or_default() += 1;
            match op {
                MixOp::Bind {
                    number,
                    account,
                    service,
                } => binds
                    .entry(number.clone())
                    .or_default()
                    .push((account.clone(), service.clone())),
                MixOp::Allocate { instance } => {
                    *allocate_successes.entry(instance.clone()).or_default() += 1
                }
                MixOp::Grant { .. } => {}
            }
        }
    }
    let total: usize = succeeded.values().sum();
    let events = ledger.verify_ok();
    assert_eq!(
        events,
        setup_events + total as u64,
        "every successful command is one event, no more, no less"
    );
    let history = ledger.events(&[]);
    assert_chain_contiguous(&history);
    let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
    for event in &history[setup_events as usize..] {
        *kinds.entry(event["kind"].as_str().unwrap()).or_default() += 1;
    }
    for (kind, count) in &succeeded {
        assert_eq!(
            kinds.get(kind).copied().unwrap_or(0),
            *count,
            "{kind} events match the successful commands"
        );
    }
    for (instance, attempts) in &allocate_attempts {
        assert_eq!(
            allocate_successes.get(instance).copied().unwrap_or(0),
            (*attempts).min(2),
            "{instance}: its 2 free slots, no more"
        );
    }

    // Every number: exactly one legal state, consistent with the log.
    let mut last_grant_to: BTreeMap<String, String> = BTreeMap::new();
    for event in &history {
        if event["kind"] == "granted" {
            last_grant_to.insert(
                event["payload"]["number"].as_str().unwrap().into(),
                event["payload"]["to"].as_str().unwrap().into(),
            );
        }
    }
    let mut services_held = BTreeMap::new();
    let all_numbers: Vec<Value> = match ledger.json(&["number", "list"]) {
        Value::Array(numbers) => numbers,
        other => panic!("{other}"),
    };
    assert_eq!(
        all_numbers.len(),
        12 + allocate_successes.values().sum::<usize>()
    );
    for record in &all_numbers {
        let number = record["number"].as_str().unwrap().to_string();
        let bound = binds.get(&number).cloned().unwrap_or_default();
        assert!(bound.len() <= 1, "{number} was bound {} times", bound.len());
        match record["status"].as_str().unwrap() {
            "unbound" => {
                assert!(bound.is_empty(), "{number}: a successful bind but unbound");
                assert!(record["service"].is_null());
                let holder = last_grant_to
                    .get(&number)
                    .cloned()
                    .unwrap_or_else(|| "own".to_string());
                assert_eq!(
                    record["holder"].as_str().unwrap(),
                    holder,
                    "{number}: the holder is the last grantee"
                );
            }
            "bound" => {
                let (account, service) = bound
                    .first()
                    .cloned()
                    .unwrap_or_else(|| panic!("{number} bound without a successful bind"));
                assert_eq!(record["holder"].as_str().unwrap(), account);
                assert_eq!(record["service"].as_str().unwrap(), service);
                assert!(
                    services_held
                        .insert(service.clone(), number.clone())
                        .is_none(),
                    "service {service} holds two numbers"
                );
                assert_eq!(
                    ledger.json(&["service", "show", &service])["number"]
                        .as_str()
                        .unwrap(),
                    number
                );
            }
            other => panic!("{number} ended {other}: only grant and bind ran"),
        }
    }
}

// ---------------------------------------------------------------- (b) crashes

/// A base ledger, a file to import into it, the table it fills and by how
/// many rows.
struct CrashSetup {
    base: Ledger,
    file: PathBuf,
    table: &'static str,
    delta: i64,
}

/// Builds the setup at growing sizes until one uninterrupted import takes a
/// second or more; then kills the import at random moments, each time on a
/// fresh copy of the base ledger, until `kills` kills landed mid-import. After each kill `verify` must
/// pass and the import must be applied wholly or not at all.
fn crash_trials(kind: &str, kills: usize, rng: &mut XorShift, build: impl Fn(usize) -> CrashSetup) {
    let mut scale = 1;
    let (setup, duration) = loop {
        let setup = build(scale);
        let full = setup.base.sibling("full");
        copy_ledger(&setup.base.db, &full.db);
        let start = Instant::now();
        let output = run_bounded(
            full.command()
                .args(["import".as_ref(), kind.as_ref(), setup.file.as_os_str()]),
            Duration::from_secs(120),
        );
        let duration = start.elapsed();
        assert_ok(&output, "uninterrupted import");
        assert_eq!(
            full.count(setup.table),
            setup.base.count(setup.table) + setup.delta
        );
        eprintln!("import {kind} at scale {scale}: {duration:?} uninterrupted");
        if duration >= Duration::from_secs(1) || scale >= 64 {
            break (setup, duration);
        }
        scale *= 2;
    };
    let CrashSetup {
        base,
        file,
        table,
        delta,
    } = &setup;
    let base_count = base.count(table);
    let base_history = base.export_history();
    let args: [&OsStr; 3] = ["import".as_ref(), kind.as_ref(), file.as_os_str()];
    let millis = duration.as_millis() as u64;
    let mut interrupted = 0;
    let mut k = 0;
    // Until `kills` of them landed while the import ran (at most 3× tries).
    while interrupted < kills && k < kills * 3 {
        k += 1;
        let ledger = base.sibling(&format!("kill-{k}"));
        copy_ledger(&base.db, &ledger.db);
        // Odd kills anywhere in the run; even ones late, towards the commit.
        let delay = Duration::from_millis(if k % 2 == 1 {
            rng.range(20, millis * 9 / 10)
        } else {
            rng.range(millis * 6 / 10, millis)
        });
        let mut child = spawn_quiet(&ledger, &args);
        std::thread::sleep(delay);
        let finished = child.try_wait().unwrap().is_some();
        child.kill().ok(); // SIGKILL
        let status = child.wait().unwrap();
        if !finished {
            interrupted += 1;
        }
        // The next command after the crash: verify.
        let events_after = ledger.verify_ok();
        let count = ledger.count(table);
        eprintln!("kill {k}: after {delay:?}, finished before the kill: {finished}, {status}, {count} {table} rows, {events_after} events");
        assert!(
            count == base_count || count == base_count + delta,
            "import {kind} killed after {delay:?}: {count} {table} rows; expected {base_count} (nothing) or {} (all)",
            base_count + delta
        );
        if count == base_count {
            assert_eq!(
                ledger.export_history(),
                base_history,
                "nothing applied means the very same log"
            );
            // The import goes through afterwards.
            let output = ledger.run(&args);
            assert_ok(&output, "the import after a crash");
            assert_eq!(ledger.count(table), base_count + delta);
        }
    }
    assert!(
        interrupted >= kills,
        "only {interrupted} of {k} kills landed while the import ran"
    );
}

#[test]
fn sigkill_during_import_instances_leaves_all_or_nothing() {
    sqlite_only!(
        "copies SQLite files (PostgreSQL twin: postgres::a_killed_import_leaves_all_or_nothing)"
    );
    let mut rng = XorShift::new(crash_seed());
    crash_trials("instances", 4, &mut rng, |scale| {
        let base = Ledger::with(NOW, ACTOR);
        base.ecs("i-crash-base", "crash-owner");
        let file = base.path("instances.csv");
        let rows = 14_000 * scale;
        instances_file(&file, rows, "i-crash", "crash-owner");
        CrashSetup {
            base,
            file,
            table: "instances",
            delta: rows as i64,
        }
    });
}

#[test]
fn sigkill_during_import_ops_leaves_all_or_nothing() {
    sqlite_only!("copies SQLite files");
    let mut rng = XorShift::new(crash_seed() ^ 0xABCDEF);
    crash_trials("ops", 4, &mut rng, |scale| {
        let base = Ledger::with(NOW, ACTOR);
        let count = 2_400 * scale;
        let instances = base.path("instances.csv");
        instances_file(&instances, count, "i-ops", "ops-owner");
        base.ok(&[
            "import".as_ref(),
            "instances".as_ref(),
            instances.as_os_str(),
        ]);
        let file = base.path("ops.csv");
        let mut text = format!("{OPS_HEADER}\n");
        for i in 0..count {
            let instance = format!("i-ops-{i:06}");
            let (a, b) = (format!("SN-K-{i:06}-A"), format!("SN-K-{i:06}-B"));
            text.push_str(&ops_row(&[
                ("op", "allocate"),
                ("instance_id", &instance),
                ("number", &a),
            ]));
            text.push_str(&ops_row(&[
                ("op", "allocate"),
                ("instance_id", &instance),
                ("number", &b),
                ("request_id", &format!("rq-{i}")),
            ]));
            text.push_str(&ops_row(&[
                ("op", "grant"),
                ("number", &a),
                ("to_account", "acct-b"),
                ("reason", "crash test"),
            ]));
            text.push_str(&ops_row(&[
                ("op", "bind"),
                ("number", &a),
                ("account", "acct-b"),
                ("service", &format!("svc-{i}.example.com")),
            ]));
            text.push_str(&ops_row(&[("op", "submit"), ("number", &a)]));
        }
        std::fs::write(&file, text).unwrap();
        CrashSetup {
            base,
            file,
            table: "events",
            delta: 5 * count as i64,
        }
    });
}

#[test]
fn a_stale_wal_and_a_lock_held_by_a_dead_process_do_not_stop_the_next_command() {
    sqlite_only!("SQLite WAL and locks");
    let ledger = Ledger::with(NOW, ACTOR);
    ledger.ecs("i-stale", "stale-owner");
    let file = ledger.path("big.csv");
    // Big enough that the import is still writing after 400 ms (about 2 s).
    instances_file(&file, 160_000, "i-wal", "stale-owner");
    let mut child = spawn_quiet(
        &ledger,
        &["import".as_ref(), "instances".as_ref(), file.as_os_str()],
    );
    // Wait until the writer has the ledger open in WAL mode, then let it
    // get well into its write transaction (it holds the write lock).
    let start = Instant::now();
    while !(wal_of(&ledger.db).exists() && shm_of(&ledger.db).exists()) {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the import never opened the ledger"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "the import finished too early"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    std::thread::sleep(Duration::from_millis(400));
    assert!(
        child.try_wait().unwrap().is_none(),
        "the import finished too early"
    );
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        wal_of(&ledger.db).exists(),
        "the killed writer leaves its -wal file behind"
    );

    let start = Instant::now();
    let output = ledger.run(&["allocate", "i-stale"]);
    let elapsed = start.elapsed();
    assert_ok(&output, "allocate after the lock holder died");
    assert!(
        elapsed < Duration::from_secs(5),
        "the next command must not wait on a dead lock holder ({elapsed:?})"
    );
    assert_eq!(
        ledger.verify_ok(),
        2,
        "instance_added + allocated; nothing of the killed import"
    );
    assert_eq!(ledger.count("instances"), 1);

    // A stale WAL holding committed, not yet checkpointed events: a reader
    // keeps the checkpoint from copying them back, then the files are copied
    // as a crash would leave them.
    let source = Ledger::with(NOW, ACTOR);
    source.ecs("i-wal-src", "wal-owner");
    let reader = rusqlite::Connection::open(&source.db).unwrap();
    reader.execute_batch("BEGIN").unwrap();
    let seen: i64 = reader
        .query_row("SELECT count(*) FROM events", [], |row| row.get(0))
        .unwrap();
    assert_eq!(seen, 1);
    source.ok(&["allocate", "i-wal-src", "--number", "SN-WAL-0001"]);
    let copy = Ledger::with(NOW, ACTOR);
    std::fs::copy(&source.db, &copy.db).unwrap();
    std::fs::copy(wal_of(&source.db), wal_of(&copy.db)).unwrap();
    assert!(
        std::fs::metadata(wal_of(&copy.db)).unwrap().len() > 0,
        "the copied WAL holds the allocation"
    );
    drop(reader);
    let output = copy.run(&["allocate", "i-wal-src", "--number", "SN-WAL-0002"]);
    assert_ok(&output, "allocate on a ledger with a stale WAL");
    assert_eq!(
        copy.verify_ok(),
        3,
        "the committed allocation in the stale WAL is kept"
    );
    assert_eq!(copy.number("SN-WAL-0001")["status"], "unbound");

    // A WAL and shared-memory file of junk beside a ledger (no process has it open).
    let junk = Ledger::with(NOW, ACTOR);
    junk.ecs("i-junk", "junk-owner");
    let mut rng = XorShift::new(7);
    let bytes: Vec<u8> = (0..8192).map(|_| rng.next() as u8).collect();
    std::fs::write(wal_of(&junk.db), &bytes).unwrap();
    let output = junk.run(&["allocate", "i-junk"]);
    assert_ok(&output, "allocate beside a junk -wal");
    assert_eq!(junk.verify_ok(), 2);
    std::fs::write(wal_of(&junk.db), &bytes).unwrap();
    std::fs::write(shm_of(&junk.db), &bytes[..4096]).unwrap();
    let output = junk.run(&["allocate", "i-junk"]);
    assert_ok(&output, "allocate beside a junk -wal and -shm");
    assert_eq!(junk.verify_ok(), 3);
}

// ---------------------------------------------------------------- (c) hostile input

struct Case {
    name: String,
    args: Vec<OsString>,
    exit: i32,
    code: &'static str,
    /// Another ledger file the case points at (checked unchanged too).
    db: Option<PathBuf>,
}

fn case(name: &str, args: &[&str], exit: i32, code: &'static str) -> Case {
    Case {
        name: name.to_string(),
        args: os(args),
        exit,
        code,
        db: None,
    }
}

fn file_case(name: &str, kind: &str, path: &Path, exit: i32, code: &'static str) -> Case {
    Case {
        name: name.to_string(),
        args: vec!["import".into(), kind.into(), path.as_os_str().into()],
        exit,
        code,
        db: None,
    }
}

fn db_case(name: &str, db: &Path, exit: i32, code: &'static str) -> Case {
    Case {
        name: name.to_string(),
        args: vec![
            "--db".into(),
            db.as_os_str().into(),
            "allocate".into(),
            "i-bp1web02".into(),
        ],
        exit,
        code,
        db: Some(db.to_path_buf()),
    }
}

fn run_corpus(ledger: &Ledger, cases: Vec<Case>) {
    let mut failures = Vec::new();
    for case in &cases {
        let history = ledger.export_history();
        let other = case.db.as_ref().map(|db| std::fs::read(db).ok());
        let output = if case.args.iter().any(|a| a == "--db") {
            run_bounded(
                ledger.command_without_db().args(&case.args),
                Duration::from_secs(60),
            )
        } else {
            ledger.run(&case.args)
        };
        let err = stderr(&output);
        let code = output.status.code();
        let reason = error_code(&output);
        if code != Some(case.exit) || reason != case.code {
            failures.push(format!(
                "{}: exit {code:?} error[{reason}], expected exit {} error[{}]; stderr: {}",
                case.name,
                case.exit,
                case.code,
                err.trim_end()
            ));
        }
        if err.contains("panicked") {
            failures.push(format!("{}: panicked: {err}", case.name));
        }
        if !err.trim().starts_with("line ") && err.trim().lines().count() != 1 {
            failures.push(format!(
                "{}: one message expected on stderr, got: {err}",
                case.name
            ));
        }
        if ledger.export_history() != history {
            failures.push(format!("{}: the ledger changed", case.name));
        }
        if let (Some(db), Some(before)) = (&case.db, other) {
            if std::fs::read(db).ok() != before {
                failures.push(format!("{}: {} changed", case.name, db.display()));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} problems with {} hostile inputs:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn hostile_arguments_and_files_are_refused_precisely_and_change_nothing() {
    sqlite_only!("copies SQLite files");
    let ledger = Ledger::with(NOW, ACTOR);
    ledger.import_samples();
    ledger.import_sample_ops();
    let long = |n: usize| "a".repeat(n);
    let (id129, acct65, service254, text1025, number65) =
        (long(129), long(65), long(254), long(1025), long(65));
    let add = |id: &str,
               account: &str,
               region: &str,
               billing: &str,
               months: &str,
               expires: &str|
     -> Vec<String> {
        [
            "instance",
            "add",
            id,
            "--type",
            "ecs",
            "--account",
            account,
            "--region",
            region,
            "--billing",
            billing,
            "--months",
            months,
            "--expires",
            expires,
            "--public-ip",
            "47.96.113.9",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    let add_case = |name: &str, args: Vec<String>, exit: i32, code: &'static str| Case {
        name: name.to_string(),
        args: args.into_iter().map(OsString::from).collect(),
        exit,
        code,
        db: None,
    };
    let ok_add = |id: &str| {
        add(
            id,
            "acme-shop",
            "cn-hangzhou",
            "subscription",
            "12",
            "2027-12-31T16:00:00Z",
        )
    };

    // Files.
    let mut rng = XorShift::new(0xBAD5EED);
    let junk = ledger.write(
        "junk.csv",
        (0..8192).map(|_| rng.next() as u8).collect::<Vec<u8>>(),
    );
    let nul_row = ledger.write("nul-row.csv", format!("{INSTANCES_HEADER}\ni-nul\0x,ecs,acme-shop,cn-hangzhou,subscription,12,2027-12-31T16:00:00Z,,\n"));
    let nul_header = ledger.write("nul-header.csv", b"\0\0\0\0\n\0,\0\n");
    let nul_ops = ledger.write(
        "nul-ops.csv",
        format!("{OPS_HEADER}\nallocate,i-bp1web02,SN-\0\0-1,,,,,,,,,\n"),
    );
    let mut big = format!("{INSTANCES_HEADER}\ni-big,ecs,acme-shop,cn-hangzhou,subscription,12,2027-12-31T16:00:00Z,,\n").into_bytes();
    big.extend_from_slice(b"i-");
    big.extend(std::iter::repeat_n(b'x', 10 * 1024 * 1024));
    big.extend_from_slice(b",ecs,acme-shop,cn-hangzhou,subscription,12,2027-12-31T16:00:00Z,,\n");
    let big_field = ledger.write("big-field.csv", &big);
    let mut big_ops = format!("{OPS_HEADER}\n").into_bytes();
    big_ops.extend_from_slice(b"reject,,SN-HZ-WEB01-0001,,,,,,\"");
    big_ops.extend(std::iter::repeat_n(b'r', 10 * 1024 * 1024));
    big_ops.extend_from_slice(b"\",,,\n");
    let big_ops = ledger.write("big-ops.csv", &big_ops);
    let not_utf8 = ledger.write(
        "latin1.csv",
        [
            format!("{OPS_HEADER}\n").as_bytes(),
            b"grant,,SN-HZ-WEB01-0001,,,,caf\xe9,,,,,\n",
        ]
        .concat(),
    );
    let unterminated = ledger.write(
        "quote.csv",
        format!("{OPS_HEADER}\nallocate,\"i-bp1web02,,,,,,,,,,\n"),
    );
    let long_service = ledger.write(
        "long-service.csv",
        ops_file(&[ops_row(&[
            ("op", "select"),
            ("instance_id", "i-bp1web02"),
            ("service", &service254),
        ])]),
    );
    let huge_count = ledger.write(
        "huge-count.csv",
        ops_file(&[ops_row(&[
            ("op", "allocate"),
            ("instance_id", "i-bp1web02"),
            ("count", "99999999999999999999"),
        ])]),
    );
    let negative_count = ledger.write(
        "negative-count.csv",
        ops_file(&[ops_row(&[
            ("op", "allocate"),
            ("instance_id", "i-bp1web02"),
            ("count", "-3"),
        ])]),
    );
    let sql_id = ledger.write("sql-id.csv", format!("{INSTANCES_HEADER}\n\"i-1'; DROP TABLE events; --\",ecs,acme-shop,cn-hangzhou,subscription,12,2027-12-31T16:00:00Z,,\n"));
    let bad_enum = ledger.write("enum.csv", format!("{INSTANCES_HEADER}\ni-enum,ecs,acme-shop,cn-hangzhou,prepaid,12,2027-12-31T16:00:00Z,,\n"));
    let bad_time = ledger.write("time.csv", format!("{INSTANCES_HEADER}\ni-time,ecs,acme-shop,cn-hangzhou,subscription,12,2027-12-31 25:61,,\n"));
    let rtl = ledger.write("rtl.csv", format!("{INSTANCES_HEADER}\ni-\u{202E}lmth.exe,ecs,acme-shop,cn-hangzhou,subscription,12,2027-12-31T16:00:00Z,,\n"));
    let dir = ledger.path("a-directory");
    std::fs::create_dir(&dir).unwrap();
    let missing = ledger.path("does-not-exist.csv");

    // Files that are not ledgers.
    let text_db = ledger.write("not-a-ledger.db", "this is a text file, not a ledger\n");
    let other_app = ledger.path("other-app.sqlite");
    {
        let conn = rusqlite::Connection::open(&other_app).unwrap();
        conn.execute_batch("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT); INSERT INTO notes (body) VALUES ('hello');").unwrap();
    }
    let newer = ledger.path("newer.db");
    {
        let seeded = Ledger::with(NOW, ACTOR);
        seeded.ecs("i-newer", "acme-shop");
        copy_ledger(&seeded.db, &newer);
        let conn = rusqlite::Connection::open(&newer).unwrap();
        conn.execute_batch("PRAGMA user_version = 99;").unwrap();
    }
    let garbage_sqlite = ledger.write(
        "garbage.db",
        [b"SQLite format 3\0".as_slice(), &[0xAB; 4080]].concat(),
    );

    let mut cases = vec![
        // malformed numbers
        case(
            "number too short",
            &["allocate", "i-bp1web02", "--number", "ab"],
            2,
            "usage",
        ),
        case(
            "number with underscores",
            &["allocate", "i-bp1web02", "--number", "SN_0001"],
            2,
            "usage",
        ),
        case(
            "number too long",
            &["allocate", "i-bp1web02", "--number", &number65],
            2,
            "usage",
        ),
        case(
            "number with a space",
            &["grant", "SN 0001", "--to", "blue-media"],
            2,
            "usage",
        ),
        case(
            "number with a quote",
            &[
                "bind",
                "SN-'0001",
                "--account",
                "acme-shop",
                "--service",
                "x.example.com",
            ],
            2,
            "usage",
        ),
        case(
            "number with SQL",
            &["allocate", "i-bp1web02", "--number", "SN-1' OR '1'='1"],
            2,
            "usage",
        ),
        case(
            "number with a control character",
            &["submit", "SN-\u{7}0001"],
            2,
            "usage",
        ),
        case(
            "number with a right-to-left mark",
            &["submit", "SN-\u{202E}1000"],
            2,
            "usage",
        ),
        // malformed times
        case(
            "--now in words",
            &["--now", "yesterday", "allocate", "i-bp1web02"],
            2,
            "usage",
        ),
        case(
            "--now month 13",
            &["--now", "2026-13-01T00:00:00Z", "allocate", "i-bp1web02"],
            2,
            "usage",
        ),
        case(
            "--now year 0",
            &["--now", "0000-01-01T00:00:00Z", "allocate", "i-bp1web02"],
            2,
            "usage",
        ),
        add_case(
            "expiry on 30 February",
            add(
                "i-feb",
                "acme-shop",
                "cn-hangzhou",
                "subscription",
                "12",
                "2026-02-30",
            ),
            2,
            "usage",
        ),
        case(
            "renew with a local date",
            &[
                "instance",
                "renew",
                "i-bp1web02",
                "--months",
                "3",
                "--expires",
                "31/12/2029",
            ],
            2,
            "usage",
        ),
        case(
            "history since soon",
            &["history", "--since", "soon"],
            2,
            "usage",
        ),
        case(
            "as-of hour 25",
            &["export", "instances", "--as-of", "2026-11-23T25:00:00Z"],
            2,
            "usage",
        ),
        // negative and huge counts
        case(
            "count -1",
            &["allocate", "i-bp1web02", "--count", "-1"],
            4,
            "count_out_of_range",
        ),
        case(
            "count 0",
            &["allocate", "i-bp1web02", "--count", "0"],
            4,
            "count_out_of_range",
        ),
        case(
            "count 21",
            &["allocate", "i-bp1web02", "--count", "21"],
            4,
            "count_out_of_range",
        ),
        case(
            "count 10^23",
            &[
                "allocate",
                "i-bp1web02",
                "--count",
                "99999999999999999999999",
            ],
            4,
            "count_out_of_range",
        ),
        case(
            "count in letters",
            &["allocate", "i-bp1web02", "--count", "three"],
            2,
            "usage",
        ),
        case(
            "count 1.5",
            &["allocate", "i-bp1web02", "--count", "1.5"],
            2,
            "usage",
        ),
        add_case(
            "months -3",
            add(
                "i-neg",
                "acme-shop",
                "cn-hangzhou",
                "subscription",
                "-3",
                "2027-12-31T16:00:00Z",
            ),
            2,
            "usage",
        ),
        add_case(
            "months 10^20",
            add(
                "i-huge",
                "acme-shop",
                "cn-hangzhou",
                "subscription",
                "99999999999999999999",
                "2027-12-31T16:00:00Z",
            ),
            2,
            "usage",
        ),
        case(
            "renew -1 months",
            &[
                "instance",
                "renew",
                "i-bp1web02",
                "--months",
                "-1",
                "--expires",
                "2030-01-01T00:00:00Z",
            ],
            2,
            "usage",
        ),
        case(
            "policy max -5",
            &["policy", "set", "ecs", "--max", "-5"],
            2,
            "usage",
        ),
        case(
            "expiring within 10^20 days",
            &["report", "expiring", "--within", "99999999999999999999"],
            2,
            "usage",
        ),
        // ids with spaces, quotes, SQL, control characters, right-to-left marks; over-long fields
        add_case("id with a space", ok_add("i bad"), 2, "usage"),
        add_case("id with quotes", ok_add("i-\"quoted\""), 2, "usage"),
        add_case(
            "id with SQL",
            ok_add("'; DROP TABLE events; --"),
            2,
            "usage",
        ),
        add_case(
            "id with an escape sequence",
            ok_add("i-1\u{1b}[31m"),
            2,
            "usage",
        ),
        add_case(
            "id with a right-to-left override",
            ok_add("i-\u{202E}gpj.exe"),
            2,
            "usage",
        ),
        add_case("id of 129 characters", ok_add(&id129), 2, "usage"),
        add_case(
            "account with a space",
            add(
                "i-acct",
                "acme shop",
                "cn-hangzhou",
                "subscription",
                "12",
                "2027-12-31T16:00:00Z",
            ),
            2,
            "usage",
        ),
        add_case(
            "account with a tab",
            add(
                "i-acct",
                "acme\tshop",
                "cn-hangzhou",
                "subscription",
                "12",
                "2027-12-31T16:00:00Z",
            ),
            2,
            "usage",
        ),
        add_case(
            "account of 65 characters",
            add(
                "i-acct",
                &acct65,
                "cn-hangzhou",
                "subscription",
                "12",
                "2027-12-31T16:00:00Z",
            ),
            2,
            "usage",
        ),
        add_case(
            "region in capitals",
            add(
                "i-region",
                "acme-shop",
                "CN-HANGZHOU",
                "subscription",
                "12",
                "2027-12-31T16:00:00Z",
            ),
            2,
            "usage",
        ),
        case(
            "service of 254 characters",
            &["select", "i-bp1web02", "--service", &service254],
            2,
            "usage",
        ),
        case(
            "service with a newline",
            &[
                "select",
                "i-bp1web02",
                "--service",
                "a.example.com\nb.example.com",
            ],
            2,
            "usage",
        ),
        case(
            "note of 1025 characters",
            &[
                "grant",
                "SN-HZ-SHORT-0001",
                "--to",
                "acme-shop",
                "--note",
                &text1025,
            ],
            2,
            "usage",
        ),
        case(
            "icp number with a newline",
            &[
                "approve",
                "SN-HZ-WEB01-0001",
                "--icp-number",
                "浙ICP备1号\n-2",
            ],
            2,
            "usage",
        ),
        case(
            "empty reason",
            &["invalidate", "SN-HZ-SHORT-0001", "--reason", ""],
            2,
            "usage",
        ),
        case(
            "request id with a control character",
            &["allocate", "i-bp1web02", "--request-id", "req\u{8}1"],
            2,
            "usage",
        ),
        case(
            "actor with a newline",
            &["--actor", "ops\nroot", "allocate", "i-bp1web02"],
            2,
            "usage",
        ),
        case(
            "empty actor",
            &["--actor", "", "allocate", "i-bp1web02"],
            2,
            "usage",
        ),
        case(
            "grant to an account with SQL",
            &["grant", "SN-HZ-SHORT-0001", "--to", "x' OR 1=1 --"],
            2,
            "usage",
        ),
        case(
            "public ip out of range",
            &[
                "instance",
                "add",
                "i-ip",
                "--type",
                "ecs",
                "--account",
                "acme-shop",
                "--region",
                "cn-hangzhou",
                "--billing",
                "subscription",
                "--months",
                "12",
                "--expires",
                "2027-12-31",
                "--public-ip",
                "999.1.1.1",
            ],
            2,
            "usage",
        ),
        case(
            "order amount in exponent form",
            &[
                "instance",
                "add",
                "i-amt",
                "--type",
                "iot_studio",
                "--account",
                "acme-shop",
                "--region",
                "cn-hangzhou",
                "--billing",
                "subscription",
                "--months",
                "12",
                "--expires",
                "2027-12-31",
                "--order-amount",
                "1e3",
            ],
            2,
            "usage",
        ),
        // unknown enum values
        add_case(
            "billing monthly",
            add(
                "i-enum",
                "acme-shop",
                "cn-hangzhou",
                "monthly",
                "12",
                "2027-12-31T16:00:00Z",
            ),
            2,
            "usage",
        ),
        case(
            "service type with capitals",
            &[
                "instance",
                "add",
                "i-type",
                "--type",
                "ECS",
                "--account",
                "acme-shop",
                "--region",
                "cn-hangzhou",
                "--billing",
                "subscription",
                "--months",
                "12",
                "--expires",
                "2027-12-31",
            ],
            2,
            "usage",
        ),
        case(
            "format yaml",
            &["--format", "yaml", "check", "i-bp1web02"],
            2,
            "usage",
        ),
        case(
            "status pending",
            &["number", "list", "--status", "pending"],
            2,
            "usage",
        ),
        case(
            "kind exploded",
            &["history", "--kind", "exploded"],
            2,
            "usage",
        ),
        case(
            "requires-public-ip maybe",
            &["policy", "set", "ecs", "--requires-public-ip", "maybe"],
            2,
            "usage",
        ),
        case("advise ftp", &["advise", "--uses", "ftp"], 2, "usage"),
        case("unknown subcommand", &["allocat", "i-bp1web02"], 2, "usage"),
        case(
            "unknown flag",
            &["allocate", "i-bp1web02", "--cuont", "1"],
            2,
            "usage",
        ),
        // not found, refused
        case(
            "unknown instance",
            &["allocate", "i-nowhere"],
            3,
            "not_found",
        ),
        case(
            "unknown number",
            &["grant", "SN-NOPE-0001", "--to", "blue-media"],
            3,
            "not_found",
        ),
        case(
            "over quota",
            &["allocate", "i-bp1web02", "--count", "5"],
            4,
            "quota_exhausted",
        ),
        // files
        file_case("nonexistent file", "instances", &missing, 3, "not_found"),
        file_case("directory as a file", "ops", &dir, 2, "usage"),
        file_case("binary junk as instances", "instances", &junk, 2, "usage"),
        file_case("binary junk as ops", "ops", &junk, 2, "usage"),
        file_case("NUL bytes in a row", "instances", &nul_row, 2, "usage"),
        file_case(
            "NUL bytes as a header",
            "instances",
            &nul_header,
            2,
            "usage",
        ),
        file_case("NUL bytes in an ops number", "ops", &nul_ops, 2, "usage"),
        file_case(
            "a 10 MB field in instances",
            "instances",
            &big_field,
            2,
            "usage",
        ),
        file_case("a 10 MB field in ops", "ops", &big_ops, 2, "usage"),
        file_case("Latin-1 bytes", "ops", &not_utf8, 2, "usage"),
        file_case("an unterminated quote", "ops", &unterminated, 2, "usage"),
        file_case(
            "an over-long service in ops",
            "ops",
            &long_service,
            2,
            "usage",
        ),
        file_case(
            "a huge count in ops",
            "ops",
            &huge_count,
            4,
            "count_out_of_range",
        ),
        file_case(
            "a negative count in ops",
            "ops",
            &negative_count,
            4,
            "count_out_of_range",
        ),
        file_case(
            "an id with SQL in instances",
            "instances",
            &sql_id,
            2,
            "usage",
        ),
        file_case(
            "an unknown billing in instances",
            "instances",
            &bad_enum,
            2,
            "usage",
        ),
        file_case(
            "a malformed time in instances",
            "instances",
            &bad_time,
            2,
            "usage",
        ),
        file_case(
            "a right-to-left mark in instances",
            "instances",
            &rtl,
            2,
            "usage",
        ),
        file_case(
            "import history into this non-empty ledger",
            "history",
            &junk,
            4,
            "already_exists",
        ),
        // storage
        db_case("a text file as the ledger", &text_db, 6, "storage"),
        db_case(
            "another application's SQLite file",
            &other_app,
            6,
            "storage",
        ),
        db_case("a ledger with a newer schema", &newer, 6, "storage"),
        db_case(
            "a file with a SQLite header and junk",
            &garbage_sqlite,
            6,
            "storage",
        ),
        Case {
            name: "a directory as the ledger".into(),
            args: vec![
                "--db".into(),
                dir.as_os_str().into(),
                "check".into(),
                "x".into(),
            ],
            exit: 6,
            code: "storage",
            db: None,
        },
        Case {
            name: "a ledger in a missing directory".into(),
            args: vec![
                "--db".into(),
                ledger.path("no/such/dir/l.db").into_os_string(),
                "init".into(),
            ],
            exit: 6,
            code: "storage",
            db: None,
        },
    ];
    assert!(cases.len() >= 40);
    // Reads of a ledger with a newer schema are refused too.
    cases.push(Case {
        name: "verify of a newer schema".into(),
        args: vec!["--db".into(), newer.as_os_str().into(), "verify".into()],
        exit: 6,
        code: "storage",
        db: Some(newer.clone()),
    });
    run_corpus(&ledger, cases);
    assert!(
        !ledger.path("no").exists(),
        "no directory was created for the missing ledger"
    );

    // The history importer on an empty ledger.
    let empty = Ledger::with(NOW, ACTOR);
    empty.ok(&["init"]);
    let cases = vec![
        file_case("history: binary junk", "history", &junk, 2, "usage"),
        file_case("history: NUL bytes", "history", &nul_header, 2, "usage"),
        file_case("history: a 10 MB field", "history", &big_field, 2, "usage"),
        file_case("history: a directory", "history", &dir, 2, "usage"),
        file_case("history: nonexistent", "history", &missing, 3, "not_found"),
    ];
    run_corpus(&empty, cases);
    assert_eq!(empty.verify_ok(), 0);
}

/// Lookups and list filters check their arguments like every other command:
/// a malformed id is a usage error (exit 2), not "not found" or an empty list.
#[test]
fn malformed_ids_in_lookups_and_filters_are_usage_errors() {
    let ledger = Ledger::with(NOW, ACTOR);
    ledger.import_samples();
    let cases = vec![
        case(
            "number show with a control character",
            &["number", "show", "SN-\u{7}0001"],
            2,
            "usage",
        ),
        case(
            "number show with an underscore",
            &["number", "show", "SN_0001"],
            2,
            "usage",
        ),
        case(
            "instance show with a percent sign",
            &["instance", "show", "i%bad"],
            2,
            "usage",
        ),
        case("check with a space", &["check", "i bad"], 2, "usage"),
        case(
            "service show with a control character",
            &["service", "show", "a\u{7}b"],
            2,
            "usage",
        ),
        case(
            "number list --instance malformed",
            &["number", "list", "--instance", "i%bad"],
            2,
            "usage",
        ),
        case(
            "number list --account malformed",
            &["number", "list", "--account", "a%b"],
            2,
            "usage",
        ),
        case(
            "instance list --account malformed",
            &["instance", "list", "--account", "a%b"],
            2,
            "usage",
        ),
        case(
            "service list --instance malformed",
            &["service", "list", "--instance", "i%bad"],
            2,
            "usage",
        ),
    ];
    run_corpus(&ledger, cases);
}

mod no_panic {
    use super::*;
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};

    /// A ledger with the samples and the sample ops, copied for each case.
    fn template() -> Ledger {
        let ledger = Ledger::with(NOW, ACTOR);
        ledger.import_samples();
        ledger.import_sample_ops();
        ledger
    }

    fn runner(cases: u32) -> TestRunner {
        TestRunner::new(Config {
            cases,
            failure_persistence: None,
            ..Config::default()
        })
    }

    fn assert_documented(output: &std::process::Output, what: &str) -> Result<(), TestCaseError> {
        let code = output.status.code();
        prop_assert!(
            matches!(code, Some(0 | 2 | 3 | 4 | 5 | 6)),
            "{what}: exit {code:?}; stderr {}",
            stderr(output)
        );
        prop_assert!(
            !stderr(output).contains("panicked"),
            "{what}: {}",
            stderr(output)
        );
        Ok(())
    }

    const TOKENS: &[&str] = &[
        "allocate",
        "select",
        "grant",
        "bind",
        "submit",
        "approve",
        "reject",
        "deregister",
        "invalidate",
        "renew",
        "release",
        "i-bp1web01",
        "i-bp1web02",
        "SN-HZ-WEB01-0001",
        "SN-HZ-SHORT-0001",
        "acme-shop",
        "blue-media",
        "ecs",
        "cn-hangzhou",
        "subscription",
        "12",
        "-1",
        "99999999999999999999",
        "2027-12-31T16:00:00Z",
        "",
        "\"",
        "\"\"",
        "'",
        "=1+1",
        "\u{feff}",
        "\r",
        "\n",
        ",",
        "\0",
        "\u{202E}",
        "é",
        "1",
        "seq",
        "op",
        "instance_id",
    ];

    fn csv_body() -> impl Strategy<Value = Vec<u8>> {
        let header = prop_oneof![
            Just(INSTANCES_HEADER.to_string()),
            Just(OPS_HEADER.to_string()),
            Just(HISTORY_HEADER.to_string())
        ];
        prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..3000),
            (
                header.clone(),
                proptest::collection::vec(any::<u8>(), 0..3000)
            )
                .prop_map(|(h, tail)| [h.into_bytes(), b"\n".to_vec(), tail].concat()),
            (
                header,
                proptest::collection::vec(proptest::collection::vec(0..TOKENS.len(), 0..14), 0..12)
            )
                .prop_map(|(h, rows)| {
                    let mut text = format!("{h}\n");
                    for row in rows {
                        let cells: Vec<&str> = row.iter().map(|&i| TOKENS[i]).collect();
                        text.push_str(&cells.join(","));
                        text.push('\n');
                    }
                    text.into_bytes()
                }),
        ]
    }

    #[test]
    fn random_bytes_never_panic_any_importer() {
        sqlite_only!("copies a SQLite template file");
        let template = template();
        let result = runner(60).run(
            &(0..3usize, csv_body(), any::<bool>()),
            |(importer, body, dry)| {
                let ledger = Ledger::with(NOW, ACTOR);
                let kind = ["instances", "ops", "history"][importer];
                if kind != "history" {
                    copy_ledger(&template.db, &ledger.db);
                }
                let file = ledger.write("random.csv", &body);
                let mut args: Vec<&OsStr> =
                    vec!["import".as_ref(), kind.as_ref(), file.as_os_str()];
                if dry {
                    args.push("--dry-run".as_ref());
                }
                let output = ledger.run(&args);
                assert_documented(&output, &format!("import {kind}"))?;
                // A refused import, or a dry run, into no ledger leaves none.
                if !ledger.db.exists() {
                    prop_assert!(kind == "history" && (dry || output.status.code() != Some(0)));
                    return Ok(());
                }
                // Whatever happened, the ledger still verifies.
                let output = ledger.run(&["--format", "json", "verify"]);
                prop_assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
                Ok(())
            },
        );
        if let Err(error) = result {
            panic!("{error}");
        }
    }

    const TEMPLATES: &[&[&str]] = &[
        &["allocate", "@"],
        &["allocate", "i-bp1web02", "--count", "@"],
        &["allocate", "i-bp1web02", "--number", "@"],
        &["allocate", "i-bp1web02", "--request-id", "@"],
        &["allocate", "i-bp1web02", "--account", "@"],
        &["select", "@", "--service", "@"],
        &["grant", "@", "--to", "@"],
        &[
            "grant",
            "SN-HZ-SHORT-0001",
            "--to",
            "acme-shop",
            "--note",
            "@",
        ],
        &["bind", "@", "--service", "@", "--account", "@"],
        &["submit", "@"],
        &["approve", "SN-HZ-WEB01-0001", "--icp-number", "@"],
        &["reject", "@", "--reason", "@"],
        &["deregister", "@", "--reason", "@"],
        &["invalidate", "@", "--reason", "@"],
        &[
            "instance",
            "add",
            "@",
            "--type",
            "@",
            "--account",
            "@",
            "--region",
            "@",
            "--billing",
            "@",
            "--months",
            "@",
            "--expires",
            "@",
        ],
        &[
            "instance",
            "add",
            "i-p",
            "--type",
            "ecs",
            "--account",
            "a",
            "--region",
            "cn-hangzhou",
            "--billing",
            "subscription",
            "--months",
            "3",
            "--expires",
            "2027-01-01",
            "--public-ip",
            "@",
            "--order-amount",
            "@",
        ],
        &["instance", "renew", "@", "--months", "@", "--expires", "@"],
        &["instance", "release", "@"],
        &["instance", "show", "@"],
        &["instance", "list", "--account", "@", "--type", "@"],
        &["check", "@"],
        &["number", "show", "@"],
        &["number", "list", "--status", "@", "--instance", "@"],
        &["service", "show", "@"],
        &["service", "move", "@", "--to", "@"],
        &["service", "ip-updated", "@"],
        &["history", "--since", "@", "--until", "@"],
        &["history", "--kind", "@", "--service", "@"],
        &[
            "history",
            "--number",
            "@",
            "--account",
            "@",
            "--instance",
            "@",
        ],
        &["report", "expiring", "--within", "@"],
        &["report", "quota", "--account", "@", "--as-of", "@"],
        &["policy", "set", "@", "--max", "@", "--min-months", "@"],
        &[
            "policy",
            "set",
            "ecs",
            "--min-order-amount",
            "@",
            "--requires-public-ip",
            "@",
        ],
        &["export", "history", "--as-of", "@"],
        &["advise", "--uses", "@"],
        &["--now", "@", "check", "i-bp1web01"],
        &["--actor", "@", "allocate", "i-bp1web01"],
        &["--format", "@", "check", "i-bp1web01"],
        &["--format", "json", "@"],
        &["@"],
        &["@", "@"],
    ];

    fn argument() -> impl Strategy<Value = OsString> {
        prop_oneof![
            4 => any::<String>().prop_map(|s| OsString::from(s.replace('\0', ""))),
            2 => "[ -~]{0,40}".prop_map(OsString::from),
            2 => proptest::sample::select(TOKENS).prop_map(|s| OsString::from(s.replace('\0', ""))),
            1 => (0..300usize).prop_map(|n| OsString::from("9".repeat(n))),
        ]
    }

    /// Arguments that are not UTF-8 are usage errors (exit 2), in any position.
    #[test]
    fn non_utf8_arguments_are_usage_errors_not_panics() {
        use std::os::unix::ffi::OsStringExt;
        let ledger = template();
        let bad = || OsString::from_vec(b"caf\xe9-\x80\xff".to_vec());
        let cases: Vec<Vec<OsString>> = vec![
            vec![
                "select".into(),
                "i-bp1web02".into(),
                "--service".into(),
                bad(),
            ],
            vec!["allocate".into(), bad()],
            vec![
                "grant".into(),
                "SN-HZ-SHORT-0001".into(),
                "--to".into(),
                "acme-shop".into(),
                "--note".into(),
                bad(),
            ],
            vec![
                "--actor".into(),
                bad(),
                "allocate".into(),
                "i-bp1web02".into(),
            ],
            vec!["--now".into(), bad(), "check".into(), "i-bp1web02".into()],
            vec![bad()],
            vec!["history".into(), "--kind".into(), bad()],
            vec![
                "--format".into(),
                "json".into(),
                "number".into(),
                "show".into(),
                bad(),
            ],
        ];
        let mut failures = Vec::new();
        for args in cases {
            let before = ledger.export_history();
            let output = ledger.run(&args);
            let err = stderr(&output);
            if output.status.code() != Some(2)
                || error_code(&output) != "usage"
                || err.contains("panicked")
            {
                failures.push(format!(
                    "{args:?}: exit {:?}, stderr: {}",
                    output.status.code(),
                    err.lines().take(2).collect::<Vec<_>>().join(" | ")
                ));
            }
            assert_eq!(ledger.export_history(), before);
        }
        assert!(
            failures.is_empty(),
            "non-UTF-8 arguments:\n{}",
            failures.join("\n")
        );
    }

    #[test]
    fn random_arguments_never_panic() {
        sqlite_only!("copies a SQLite template file");
        let template = template();
        let strategy = (
            0..TEMPLATES.len(),
            proptest::collection::vec(argument(), 16),
        );
        let result = runner(120).run(&strategy, |(index, values)| {
            let mut values = values.into_iter();
            let args: Vec<OsString> = TEMPLATES[index]
                .iter()
                .map(|part| {
                    if *part == "@" {
                        values.next().unwrap()
                    } else {
                        OsString::from(part)
                    }
                })
                .collect();
            // Never let a random value redirect the ledger or an output file.
            let redirect = args.iter().any(|a| {
                let a = a.to_string_lossy();
                a.starts_with("--d")
                    || a.starts_with("-o")
                    || a.starts_with("--o")
                    || (a.starts_with('-') && !a.starts_with("--") && a.contains('o'))
            });
            prop_assume!(!redirect);
            let ledger = Ledger::with(NOW, ACTOR);
            copy_ledger(&template.db, &ledger.db);
            let output = ledger.run(&args);
            assert_documented(&output, &format!("{args:?}"))
        });
        if let Err(error) = result {
            panic!("{error}");
        }
    }
}

// ---------------------------------------------------------------- (d) least privilege

#[test]
fn a_new_ledger_is_0600_whatever_the_umask() {
    sqlite_only!("SQLite file modes");
    for umask in ["000", "002", "022", "077"] {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("fresh.db");
        let output = run_with_umask(
            umask,
            &[
                "--db".as_ref(),
                db.as_os_str(),
                "--now".as_ref(),
                NOW.as_ref(),
                "init".as_ref(),
            ],
        );
        assert_ok(&output, "init");
        assert_eq!(mode(&db), 0o600, "init under umask {umask}");
        // Created implicitly by a first write, too.
        let db = dir.path().join("implicit.db");
        let output = run_with_umask(
            umask,
            &[
                "--db".as_ref(),
                db.as_os_str(),
                "--now".as_ref(),
                NOW.as_ref(),
                "--actor".as_ref(),
                "t".as_ref(),
                "instance".as_ref(),
                "add".as_ref(),
                "i-perm".as_ref(),
                "--type".as_ref(),
                "ecs".as_ref(),
                "--account".as_ref(),
                "a".as_ref(),
                "--region".as_ref(),
                "cn-hangzhou".as_ref(),
                "--billing".as_ref(),
                "subscription".as_ref(),
                "--months".as_ref(),
                "12".as_ref(),
                "--expires".as_ref(),
                "2027-12-31".as_ref(),
            ],
        );
        assert_ok(&output, "instance add on a new ledger");
        assert_eq!(
            mode(&db),
            0o600,
            "a ledger created by a first write under umask {umask}"
        );
    }

    // The -wal and -shm files of a ledger being written are private too.
    let ledger = Ledger::with(NOW, ACTOR);
    ledger.ok(&["init"]);
    let file = ledger.path("wal.csv");
    instances_file(&file, 14_000, "i-walperm", "a");
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg("umask 000; exec \"$@\"")
        .arg("sh")
        .arg(bin())
        .arg("--db")
        .arg(&ledger.db)
        .arg("--now")
        .arg(NOW)
        .args(["--actor", "t", "import", "instances"])
        .arg(&file)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = command.spawn().unwrap();
    let start = Instant::now();
    while !(wal_of(&ledger.db).exists() && shm_of(&ledger.db).exists())
        && start.elapsed() < Duration::from_secs(20)
    {
        std::thread::sleep(Duration::from_millis(5));
    }
    let wal_mode = wal_of(&ledger.db)
        .exists()
        .then(|| mode(&wal_of(&ledger.db)));
    let shm_mode = shm_of(&ledger.db)
        .exists()
        .then(|| mode(&shm_of(&ledger.db)));
    child.kill().ok();
    child.wait().unwrap();
    assert_eq!(wal_mode, Some(0o600), "the -wal file under umask 000");
    assert_eq!(shm_mode, Some(0o600), "the -shm file under umask 000");
    ledger.verify_ok();
}

#[test]
fn export_files_are_created_0600_and_existing_ones_keep_their_mode() {
    sqlite_only!("SQLite file modes");
    use std::os::unix::fs::PermissionsExt;
    let ledger = Ledger::with(NOW, ACTOR);
    ledger.import_samples();
    ledger.import_sample_ops();
    for what in ["instances", "numbers", "history"] {
        let expected = ledger.export(what);
        for umask in ["000", "022"] {
            let file = ledger.path(&format!("{what}-{umask}.csv"));
            let output = run_with_umask(
                umask,
                &[
                    "--db".as_ref(),
                    ledger.db.as_os_str(),
                    "export".as_ref(),
                    what.as_ref(),
                    "-o".as_ref(),
                    file.as_os_str(),
                ],
            );
            assert_ok(&output, "export -o");
            assert_eq!(mode(&file), 0o600, "export {what} -o under umask {umask}");
            assert_eq!(std::fs::read(&file).unwrap(), expected);
        }
        for given in [0o644, 0o640, 0o666, 0o660] {
            let file = ledger.path(&format!("{what}-existing-{given:o}.csv"));
            std::fs::write(
                &file,
                "old content that is longer than nothing at all, to be replaced\n".repeat(1000),
            )
            .unwrap();
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(given)).unwrap();
            let output = run_with_umask(
                "000",
                &[
                    "--db".as_ref(),
                    ledger.db.as_os_str(),
                    "export".as_ref(),
                    what.as_ref(),
                    "-o".as_ref(),
                    file.as_os_str(),
                ],
            );
            assert_ok(&output, "export -o onto an existing file");
            assert_eq!(
                mode(&file),
                given,
                "export {what}: an existing file keeps mode {given:o}"
            );
            assert_eq!(
                std::fs::read(&file).unwrap(),
                expected,
                "the old content is replaced entirely"
            );
        }
    }
    // An existing ledger keeps the mode its operator gave it.
    std::fs::set_permissions(&ledger.db, std::fs::Permissions::from_mode(0o640)).unwrap();
    ledger.ok(&["allocate", "i-bp1web02"]);
    assert_eq!(mode(&ledger.db), 0o640, "the ledger keeps mode 0640");
}

#[test]
fn owner_only_commands_as_the_wrong_account_are_refused() {
    let ledger = Ledger::with(NOW, ACTOR);
    ledger.import_samples();
    ledger.ok(&[
        "allocate",
        "i-bp1web01",
        "--number",
        "SN-PRIV-0001",
        "--number",
        "SN-PRIV-0002",
    ]);
    ledger.ok(&["grant", "SN-PRIV-0002", "--to", "blue-media"]);
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["allocate", "i-bp1web01", "--account", "blue-media"],
            "not_owner",
        ),
        (
            vec![
                "allocate",
                "i-bp1web01",
                "--account",
                "blue-media",
                "--number",
                "SN-PRIV-0009",
            ],
            "not_owner",
        ),
        (
            vec!["allocate", "i-bp1web01", "--account", "acme-shop2"],
            "not_owner",
        ),
        (
            vec![
                "select",
                "i-bp1web01",
                "--service",
                "steal.example.com",
                "--account",
                "green-apps",
            ],
            "not_owner",
        ),
        (
            vec![
                "grant",
                "SN-PRIV-0001",
                "--to",
                "green-apps",
                "--account",
                "green-apps",
            ],
            "not_owner",
        ),
        // the holder of a granted number is not its owner: it cannot grant it on
        (
            vec![
                "grant",
                "SN-PRIV-0002",
                "--to",
                "green-apps",
                "--account",
                "blue-media",
            ],
            "not_owner",
        ),
        (
            vec![
                "bind",
                "SN-PRIV-0001",
                "--service",
                "steal.example.com",
                "--account",
                "green-apps",
            ],
            "not_holder",
        ),
        // after a grant, not even the owner binds
        (
            vec![
                "bind",
                "SN-PRIV-0002",
                "--service",
                "steal.example.com",
                "--account",
                "acme-shop",
            ],
            "not_holder",
        ),
        (
            vec![
                "bind",
                "SN-PRIV-0002",
                "--service",
                "steal.example.com",
                "--account",
                "green-apps",
            ],
            "not_holder",
        ),
    ];
    for (args, code) in cases {
        let before = ledger.export_history();
        let output = ledger.run(&args);
        assert_fails(&output, 4, code, &args.join(" "));
        assert_eq!(ledger.export_history(), before, "{args:?} changed nothing");
    }
    // The same through import ops.
    let rows = [
        ops_row(&[
            ("op", "allocate"),
            ("instance_id", "i-bp1web01"),
            ("account", "blue-media"),
        ]),
        ops_row(&[
            ("op", "select"),
            ("instance_id", "i-bp1web01"),
            ("service", "s.example.com"),
            ("account", "blue-media"),
        ]),
        ops_row(&[
            ("op", "grant"),
            ("number", "SN-PRIV-0001"),
            ("to_account", "blue-media"),
            ("account", "blue-media"),
        ]),
        ops_row(&[
            ("op", "bind"),
            ("number", "SN-PRIV-0001"),
            ("service", "s.example.com"),
            ("account", "blue-media"),
        ]),
    ];
    let before = ledger.export_history();
    let file = ledger.write("wrong.csv", ops_file(&rows));
    let output = ledger.run(&["import".as_ref(), "ops".as_ref(), file.as_os_str()]);
    assert_fails(&output, 4, "not_owner", "import ops as the wrong accounts");
    let lines = failure_lines(&output);
    assert_eq!(lines.len(), 4, "{}", stderr(&output));
    assert!(
        lines[3].starts_with("line 5: error[not_holder]"),
        "{}",
        lines[3]
    );
    assert_eq!(ledger.export_history(), before);
    // And the right accounts succeed.
    ledger.bind("SN-PRIV-0002", "mine.example.com", "blue-media");
    ledger.ok(&[
        "select",
        "i-bp1web01",
        "--service",
        "owner.example.com",
        "--account",
        "acme-shop",
    ]);
    ledger.verify_ok();
}

const SQL: [&str; 6] = [
    "'; DROP TABLE events; --",
    "Robert'); DROP TABLE numbers;--",
    "\" OR \"\"=\"",
    "1; DELETE FROM events WHERE 1=1",
    "x' UNION SELECT hash FROM events --",
    "%' OR '1'='1",
];

/// A ledger with an eligible instance owned by acme-shop (5 slots) per text.
fn sql_ledger() -> Ledger {
    let ledger = Ledger::with(NOW, ACTOR);
    let mut text = format!("{INSTANCES_HEADER}\n");
    for i in 0..SQL.len() {
        text.push_str(&ecs_row(&format!("i-sql-{i}"), "acme-shop"));
    }
    let file = ledger.write("sql.csv", text);
    ledger.ok(&["import".as_ref(), "instances".as_ref(), file.as_os_str()]);
    ledger
}

fn assert_tables_intact(ledger: &Ledger, events: u64) {
    assert_eq!(ledger.verify_ok(), events);
    assert_eq!(ledger.count("events"), events as i64);
    assert_eq!(ledger.count("instances"), SQL.len() as i64);
    // The round trip keeps the texts too.
    let file = ledger.write("sql-history.csv", ledger.export_history());
    let copy = Ledger::with(NOW, ACTOR);
    copy.import_history_as_owner(&file);
    assert_eq!(copy.export_history(), ledger.export_history());
}

#[test]
fn sql_text_in_service_names_reads_back_intact() {
    let ledger = sql_ledger();
    for (i, text) in SQL.iter().enumerate() {
        let service = format!("{text} via select");
        ledger.ok(&["select", &format!("i-sql-{i}"), "--service", &service]);
        assert_eq!(
            ledger.json(&["service", "show", &service])["service"].as_str(),
            Some(service.as_str())
        );
        let number = format!("SN-SQL-{i}");
        ledger.ok(&["allocate", &format!("i-sql-{i}"), "--number", &number]);
        ledger.bind(&number, text, "acme-shop");
        assert_eq!(ledger.number(&number)["service"].as_str(), Some(*text));
        let shown = ledger.json(&["service", "show", text]);
        assert_eq!(
            (shown["service"].as_str(), shown["number"].as_str()),
            (Some(*text), Some(number.as_str()))
        );
        let history = ledger.json(&["history", "--service", text]);
        assert_eq!(
            history.as_array().unwrap().len(),
            1,
            "history --service finds the bind"
        );
    }
    assert_tables_intact(&ledger, (SQL.len() * 4) as u64);
}

#[test]
fn sql_text_in_grant_notes_reads_back_intact() {
    let ledger = sql_ledger();
    for (i, text) in SQL.iter().enumerate() {
        let number = format!("SN-SQL-{i}");
        ledger.ok(&["allocate", &format!("i-sql-{i}"), "--number", &number]);
        ledger.ok(&["grant", &number, "--to", "blue-media", "--note", text]);
        let last = ledger.events(&[]).pop().unwrap();
        assert_eq!(last["payload"]["note"].as_str(), Some(*text));
    }
    assert_tables_intact(&ledger, (SQL.len() * 3) as u64);
}

#[test]
fn sql_text_in_reasons_reads_back_intact() {
    let ledger = sql_ledger();
    for (i, text) in SQL.iter().enumerate() {
        let number = format!("SN-SQL-{i}");
        ledger.ok(&["allocate", &format!("i-sql-{i}"), "--number", &number]);
        ledger.bind(&number, &format!("s{i}.example.com"), "acme-shop");
        ledger.ok(&["submit", &number]);
        ledger.ok(&["reject", &number, "--reason", text]);
        ledger.ok(&["deregister", &number, "--reason", text]);
        ledger.ok(&["invalidate", &number, "--reason", text]);
        let history = ledger.events(&[]);
        for kind in ["rejected", "deregistered", "invalidated"] {
            let event = history.iter().rev().find(|e| e["kind"] == kind).unwrap();
            assert_eq!(event["payload"]["reason"].as_str(), Some(*text), "{kind}");
        }
    }
    assert_tables_intact(&ledger, (SQL.len() * 7) as u64);
}

#[test]
fn sql_text_in_icp_numbers_is_refused_by_their_shape() {
    // ICP numbers have the MIIT's shape (docs/guide.md "Names: one thing, one
    // spelling"), so SQL text is refused before any statement runs.
    let ledger = sql_ledger();
    for (i, text) in SQL.iter().enumerate() {
        let number = format!("SN-SQL-{i}");
        ledger.ok(&["allocate", &format!("i-sql-{i}"), "--number", &number]);
        ledger.bind(&number, &format!("s{i}.example.com"), "acme-shop");
        ledger.ok(&["submit", &number]);
        let message = ledger.refused(&["approve", &number, "--icp-number", text], 2, "usage");
        assert!(message.contains("is not an ICP number"), "{message}");
        let icp_number = format!("京ICP备{i}号-1");
        ledger.ok(&["approve", &number, "--icp-number", &icp_number]);
        assert_eq!(ledger.number(&number)["icp_number"], icp_number.as_str());
    }
    assert_tables_intact(&ledger, (SQL.len() * 5) as u64);
}

#[test]
fn sql_text_in_request_ids_reads_back_intact() {
    let ledger = sql_ledger();
    for (i, text) in SQL.iter().enumerate() {
        let instance = format!("i-sql-{i}");
        let first = ledger.json(&["allocate", &instance, "--count", "2", "--request-id", text]);
        let again = ledger.json(&["allocate", &instance, "--count", "2", "--request-id", text]);
        assert_eq!(
            first["numbers"], again["numbers"],
            "the key finds its first answer"
        );
        let last = ledger.events(&[]).pop().unwrap();
        assert_eq!(last["payload"]["request_id"].as_str(), Some(*text));
        let output = ledger.run(&["allocate", &instance, "--count", "1", "--request-id", text]);
        assert_fails(
            &output,
            4,
            "request_conflict",
            "the same key with other parameters",
        );
    }
    assert_tables_intact(&ledger, (SQL.len() * 2) as u64);
}

#[test]
fn sql_text_in_actors_reads_back_intact() {
    let ledger = sql_ledger();
    for (i, text) in SQL.iter().enumerate() {
        ledger.set_actor(text);
        ledger.ok(&["allocate", &format!("i-sql-{i}")]);
        let last = ledger.events(&[]).pop().unwrap();
        assert_eq!(last["actor"].as_str(), Some(*text));
    }
    ledger.set_actor(ACTOR);
    assert_tables_intact(&ledger, (SQL.len() * 2) as u64);
}
