//! Integration tests for issue 2 (the core ledger), through the binary, from
//! docs/reference.md "Commands": init, instances, check, policy, allocate,
//! request ids, the clock, eligibility refusals, exit codes, error output, JSON
//! and CSV shapes, history, completions, import instances and concurrency.

use crate::common::*;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::process::Stdio;

// ---------------------------------------------------------------------------
// helpers local to this file

fn reasons(check: &Value) -> BTreeSet<String> {
    strings(&check["reasons"]).into_iter().collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn has_keys(value: &Value, keys: &[&str]) {
    let object = value
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {value}"));
    for key in keys {
        assert!(object.contains_key(*key), "missing key {key} in {value}");
    }
}

/// A decimal amount given as a JSON number or a JSON string.
fn amount(value: &Value) -> f64 {
    match value {
        Value::Number(n) => n.as_f64().unwrap(),
        Value::String(s) => s.parse().unwrap_or_else(|_| panic!("not an amount: {s}")),
        other => panic!("not an amount: {other}"),
    }
}

/// The ledger file's bytes (to prove a storage failure left it alone).
fn file_bytes(path: &std::path::Path) -> Vec<u8> {
    fs::read(path).unwrap()
}

// ---------------------------------------------------------------------------
// init

#[test]
fn init_creates_a_ledger_readable_by_its_owner_only() {
    sqlite_only!("SQLite file modes");
    let ledger = Ledger::new();
    assert!(!ledger.db.exists());
    ledger.ok(&["init"]);
    assert!(ledger.db.exists());
    let mode = mode(&ledger.db);
    assert_eq!(mode, 0o600, "new ledger file mode is {mode:o}");
    assert_eq!(ledger.event_count(), 0);
    ledger.verify_ok();
}

#[test]
fn a_ledger_created_on_first_use_is_also_mode_0600() {
    sqlite_only!("SQLite file modes");
    let ledger = Ledger::new();
    ledger.ecs("i-first", "acme");
    let mode = mode(&ledger.db);
    assert_eq!(
        mode, 0o600,
        "ledger created by a first command has mode {mode:o}"
    );
}

#[test]
fn init_is_idempotent() {
    let ledger = Ledger::new();
    ledger.ok(&["init"]);
    ledger.ok(&["init"]);
    ledger.ecs("i-1", "acme");
    ledger.allocate("i-1", 2);
    let before = ledger.export_history();
    ledger.ok(&["init"]);
    assert_eq!(
        before,
        ledger.export_history(),
        "init changed an existing ledger"
    );
    assert_eq!(ledger.consumed("i-1"), 2);
    ledger.verify_ok();
}

#[test]
fn global_options_may_follow_the_subcommand() {
    let ledger = Ledger::new();
    ledger.ecs("i-1", "acme");
    // No global options before the subcommand at all.
    let output = ledger
        .bare_command()
        .args([
            "instance",
            "show",
            "i-1",
            "--db",
            &ledger.db_str(),
            "--now",
            NOW,
            "--actor",
            ACTOR,
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert_ok(&output, "instance show (options after)");
    let shown: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(shown["instance_id"], "i-1");
}

const ADD_ECS: [&str; 15] = [
    "instance",
    "add",
    "i-env",
    "--type",
    "ecs",
    "--account",
    "acme",
    "--region",
    "cn-hangzhou",
    "--billing",
    "subscription",
    "--months",
    "12",
    "--expires",
    EXPIRES,
];

#[test]
fn an_empty_sqlite_file_already_in_wal_mode_is_taken_as_a_new_ledger() {
    sqlite_only!("SQLite files");
    // What a process killed while creating a ledger leaves behind: the file
    // exists, its header says 16 KiB pages and WAL, and it holds no schema.
    let ledger = Ledger::new();
    {
        let conn = rusqlite::Connection::open(&ledger.db).unwrap();
        conn.pragma_update(None, "page_size", 16384).unwrap();
        let mode: String = conn
            .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        let objects: i64 = conn
            .query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))
            .unwrap();
        assert_eq!(objects, 0);
    }
    assert_eq!(
        fs::metadata(&ledger.db).unwrap().len(),
        16384,
        "one 16 KiB page: a header and nothing else"
    );
    let output = run_bounded(
        ledger
            .bare_command()
            .args(["--db", &ledger.db_str(), "--now", NOW, "--actor", ACTOR])
            .arg("init"),
        std::time::Duration::from_secs(30),
    );
    assert_ok(&output, "init on an empty WAL file");
    assert_eq!(ledger.event_count(), 0);
    ledger.verify_ok();
    // Later commands work on it as on any ledger.
    ledger.ecs("i-1", "acme");
    ledger.allocate("i-1", 2);
    assert_eq!(ledger.consumed("i-1"), 2);
    assert_eq!(ledger.event_count(), 2);
    ledger.ok(&["init"]);
    assert_eq!(ledger.event_count(), 2, "a second init changes nothing");
    ledger.verify_ok();
}

#[test]
fn a_uri_like_db_argument_is_a_plain_file_name() {
    let ledger = Ledger::new();
    for name in ["file:x.db?mode=memory", "file:plain.db"] {
        let run = |args: &[&str]| {
            run_bounded(
                ledger
                    .bare_command()
                    .args(["--db", name, "--now", NOW, "--actor", ACTOR])
                    .args(args),
                std::time::Duration::from_secs(30),
            )
        };
        let output = run(&["init"]);
        assert_ok(&output, &format!("--db {name} init"));
        let file = ledger.dir.path().join(name);
        assert!(
            file.is_file(),
            "--db {name}: no file with exactly that name in the working directory"
        );
        assert!(fs::metadata(&file).unwrap().len() > 0, "{name}: empty file");
        for stripped in ["x.db", "plain.db"] {
            assert!(
                !ledger.dir.path().join(stripped).exists(),
                "--db {name} created {stripped}: read as a URI"
            );
        }
        // A second command sees what the first wrote.
        let mut add = ADD_ECS.to_vec();
        add.extend(["--public-ip", "47.96.10.21"]);
        assert_ok(&run(&add), &format!("--db {name} instance add"));
        let output = run(&["--format", "json", "history"]);
        assert_ok(&output, &format!("--db {name} history"));
        let events: Value = serde_json::from_slice(&output.stdout).unwrap();
        let events = events.as_array().unwrap();
        assert_eq!(events.len(), 1, "{name}: {events:?}");
        assert_eq!(events[0]["kind"], "instance_added");
        assert_eq!(events[0]["payload"]["instance_id"], "i-env");
        let output = run(&["--format", "json", "verify"]);
        assert_ok(&output, &format!("--db {name} verify"));
        let report: Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(report["events"], 1, "{report}");
    }
}

#[test]
fn empty_snledger_now_and_snledger_db_count_as_unset() {
    use std::time::Duration;
    // SNLEDGER_DB= : the default ./snledger.db in the working directory.
    let ledger = Ledger::new();
    let output = run_bounded(
        ledger
            .bare_command()
            .env("SNLEDGER_DB", "")
            .args(["--now", NOW, "--actor", ACTOR])
            .args(ADD_ECS),
        Duration::from_secs(30),
    );
    assert_ok(&output, "SNLEDGER_DB= instance add");
    let default = ledger.dir.path().join("snledger.db");
    assert!(default.is_file(), "./snledger.db was not used");
    let mut entries: Vec<String> = fs::read_dir(ledger.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| !name.ends_with("-wal") && !name.ends_with("-shm"))
        .collect();
    entries.sort();
    assert_eq!(entries, ["snledger.db"], "no other file was created");
    let output = run_bounded(
        ledger
            .bare_command()
            .env("SNLEDGER_DB", "")
            .args(["--now", NOW, "--actor", ACTOR, "--format", "json"])
            .args(["instance", "show", "i-env"]),
        Duration::from_secs(30),
    );
    assert_ok(&output, "SNLEDGER_DB= instance show");
    let shown: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(shown["account"], "acme");

    // SNLEDGER_NOW= : the system clock.
    let clocked = Ledger::new();
    let clock = || chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let before = clock();
    let output = run_bounded(
        clocked
            .bare_command()
            .env("SNLEDGER_NOW", "")
            .args(["--db", &clocked.db_str(), "--actor", ACTOR])
            .args(ADD_ECS),
        Duration::from_secs(30),
    );
    assert_ok(&output, "SNLEDGER_NOW= instance add");
    let after = clock();
    let at = clocked.last_event()["at"].as_str().unwrap().to_string();
    assert!(
        before <= at && at <= after,
        "SNLEDGER_NOW= should mean the clock: event at {at}, clock {before}..{after}"
    );

    // Both empty at once.
    let other = Ledger::new();
    let output = run_bounded(
        other
            .bare_command()
            .env("SNLEDGER_DB", "")
            .env("SNLEDGER_NOW", "")
            .args(["--actor", ACTOR, "init"]),
        Duration::from_secs(30),
    );
    assert_ok(&output, "SNLEDGER_DB= SNLEDGER_NOW= init");
    assert!(other.dir.path().join("snledger.db").is_file());
}

// ---------------------------------------------------------------------------
// instances

#[test]
fn instance_add_and_show_have_the_spec_json_shape() {
    let ledger = Ledger::new();
    ledger.add_instance(
        "iot-1",
        "iot_studio",
        "beta.corp",
        &[
            "--region",
            "cn-beijing",
            "--months",
            "6",
            "--order-amount",
            "99.50",
        ],
    );
    let shown = ledger.instance("iot-1");
    has_keys(
        &shown,
        &[
            "instance_id",
            "service_type",
            "account",
            "region",
            "billing",
            "subscription_months",
            "expires_at",
            "public_ip",
            "order_amount",
            "state",
            "quota",
            "numbers",
        ],
    );
    assert_eq!(shown["instance_id"], "iot-1");
    assert_eq!(shown["service_type"], "iot_studio");
    assert_eq!(shown["account"], "beta.corp");
    assert_eq!(shown["region"], "cn-beijing");
    assert_eq!(shown["billing"], "subscription");
    assert_eq!(shown["subscription_months"], 6);
    assert_eq!(shown["expires_at"], EXPIRES);
    assert_eq!(shown["public_ip"], Value::Null);
    assert!((amount(&shown["order_amount"]) - 99.5).abs() < 1e-9);
    assert_eq!(shown["state"], "active");
    has_keys(&shown["quota"], &["max", "consumed", "remaining"]);
    assert_eq!(shown["quota"]["max"], 1);
    assert_eq!(shown["quota"]["consumed"], 0);
    assert_eq!(shown["quota"]["remaining"], 1);
    assert_eq!(shown["numbers"], Value::Array(vec![]));

    let event = ledger.last_event();
    assert_eq!(event["kind"], "instance_added");
    assert_eq!(event["actor"], ACTOR);
    assert_eq!(event["at"], NOW);
    assert_eq!(event["payload"]["instance_id"], "iot-1");
}

#[test]
fn instance_show_lists_allocated_numbers() {
    let ledger = Ledger::new();
    ledger.ecs("i-1", "acme");
    let numbers = ledger.allocate("i-1", 2);
    let shown = ledger.instance("i-1");
    let listed: BTreeSet<String> = shown["numbers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["number"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(listed, numbers.iter().cloned().collect());
    for entry in shown["numbers"].as_array().unwrap() {
        has_keys(
            entry,
            &[
                "number",
                "status",
                "holder",
                "service",
                "icp_number",
                "origin",
            ],
        );
        assert_eq!(entry["status"], "unbound");
        assert_eq!(entry["holder"], "acme");
        assert_eq!(entry["origin"], "issued");
    }
}

#[test]
fn instance_add_twice_is_already_exists() {
    let ledger = Ledger::new();
    ledger.ecs("i-1", "acme");
    ledger.refused(
        &[
            "instance",
            "add",
            "i-1",
            "--type",
            "ecs",
            "--account",
            "other",
            "--region",
            "cn-beijing",
            "--billing",
            "subscription",
            "--months",
            "12",
            "--expires",
            EXPIRES,
        ],
        4,
        "already_exists",
    );
    assert_eq!(ledger.instance("i-1")["account"], "acme");
}

#[test]
fn instance_add_with_malformed_fields_is_a_usage_error() {
    let ledger = Ledger::new();
    ledger.ok(&["init"]);
    let add = |id: &str, account: &str, billing: &str, expires: &str, months: &str, exit: i32| {
        let args = [
            "instance",
            "add",
            id,
            "--type",
            "ecs",
            "--account",
            account,
            "--region",
            "cn-hangzhou",
            "--billing",
            billing,
            "--months",
            months,
            "--expires",
            expires,
        ];
        if exit == 0 {
            ledger.ok(&args);
        } else {
            ledger.refused(&args, exit, "usage");
        }
    };
    // bad billing method
    add("i-1", "acme", "monthly", EXPIRES, "12", 2);
    // bad time
    add("i-1", "acme", "subscription", "next tuesday", "12", 2);
    // instance id: 1-128 of [A-Za-z0-9._:-], first alphanumeric
    add("-i1", "acme", "subscription", EXPIRES, "12", 2);
    add("i/1", "acme", "subscription", EXPIRES, "12", 2);
    add(
        &format!("i{}", "x".repeat(128)),
        "acme",
        "subscription",
        EXPIRES,
        "12",
        2,
    );
    // account: 1-64 of [A-Za-z0-9._-], first alphanumeric
    add("i-1", ".acme", "subscription", EXPIRES, "12", 2);
    add("i-1", "ac me", "subscription", EXPIRES, "12", 2);
    add("i-1", &"a".repeat(65), "subscription", EXPIRES, "12", 2);
    // months not a number
    add("i-1", "acme", "subscription", EXPIRES, "twelve", 2);
    // the longest valid forms are accepted
    add(
        &format!("i{}", "x.:-".repeat(31) + "abc"),
        &format!("a{}", "b._-".repeat(15) + "xyz"),
        "subscription",
        EXPIRES,
        "12",
        0,
    );
}

#[test]
fn instance_add_with_a_malformed_ip_amount_or_months_is_a_usage_error() {
    let ledger = Ledger::new();
    ledger.ok(&["init"]);
    let add = |extra: &[&str]| {
        let mut args = vec![
            "instance",
            "add",
            "i-1",
            "--type",
            "ecs",
            "--account",
            "acme",
            "--region",
            "cn-hangzhou",
            "--billing",
            "subscription",
            "--expires",
            EXPIRES,
        ];
        args.extend_from_slice(extra);
        ledger.refused(&args, 2, "usage");
    };
    add(&["--months", "12", "--public-ip", "not-an-ip"]);
    add(&["--months", "12", "--public-ip", "300.1.1.1"]);
    add(&["--months", "12", "--order-amount", "ninety"]);
    add(&["--months", "12", "--order-amount=-5"]);
    add(&["--months=-1"]);
    ledger.refused(&["instance", "show", "i-1"], 3, "not_found");
}

#[test]
fn instance_renew_adds_months_and_moves_expiry() {
    let ledger = Ledger::new();
    ledger.add_instance(
        "i-1",
        "ecs",
        "acme",
        &["--months", "2", "--public-ip", "1.2.3.4"],
    );
    assert_eq!(
        reasons(&ledger.json(&["check", "i-1"])),
        set(&["subscription_too_short"])
    );
    ledger.refused(&["allocate", "i-1"], 4, "subscription_too_short");

    ledger.ok(&[
        "instance",
        "renew",
        "i-1",
        "--months",
        "1",
        "--expires",
        "2027-06-01T00:00:00Z",
    ]);
    let shown = ledger.instance("i-1");
    assert_eq!(shown["subscription_months"], 3, "renewals add up");
    assert_eq!(shown["expires_at"], "2027-06-01T00:00:00Z");
    assert_eq!(ledger.last_event()["kind"], "instance_renewed");
    let check = ledger.json(&["check", "i-1"]);
    assert_eq!(check["eligible"], true);
    ledger.allocate("i-1", 1);

    ledger.ok(&[
        "instance",
        "renew",
        "i-1",
        "--months",
        "12",
        "--expires",
        "2028-06-01T00:00:00Z",
    ]);
    assert_eq!(ledger.instance("i-1")["subscription_months"], 15);
}

#[test]
fn renewing_an_expired_instance_makes_it_eligible_again() {
    let ledger = Ledger::new();
    ledger.add_instance(
        "i-1",
        "ecs",
        "acme",
        &[
            "--public-ip",
            "1.2.3.4",
            "--expires",
            "2026-02-01T00:00:00Z",
        ],
    );
    ledger.refused(&["allocate", "i-1"], 4, "expired");
    ledger.ok(&[
        "instance",
        "renew",
        "i-1",
        "--months",
        "12",
        "--expires",
        "2027-02-01T00:00:00Z",
    ]);
    assert_eq!(ledger.allocate("i-1", 1).len(), 1);
}

#[test]
fn instance_renew_of_unknown_instance_is_not_found() {
    let ledger = Ledger::new();
    ledger.ecs("i-1", "acme");
    ledger.refused(
        &[
            "instance",
            "renew",
            "nope",
            "--months",
            "1",
            "--expires",
            "2028-01-01T00:00:00Z",
        ],
        3,
        "not_found",
    );
}

#[test]
fn instance_release_ends_the_instance() {
    let ledger = Ledger::new();
    ledger.ecs("i-1", "acme");
    ledger.allocate("i-1", 1);
    ledger.ok(&["instance", "release", "i-1"]);
    assert_eq!(ledger.last_event()["kind"], "instance_released");
    let shown = ledger.instance("i-1");
    assert_eq!(shown["state"], "released");
    assert_eq!(
        shown["quota"]["consumed"], 1,
        "release does not give slots back"
    );
    ledger.refused(&["allocate", "i-1"], 4, "released");
    ledger.refused(&["instance", "release", "nope"], 3, "not_found");
}

#[test]
fn instance_list_filters_by_account_and_type() {
    let ledger = Ledger::new();
    ledger.ecs("i-1", "acme");
    ledger.ecs("i-2", "beta");
    ledger.add_instance("mall-1", "linkedmall", "acme", &["--months", "0"]);
    let ids = |list: Value| -> BTreeSet<String> {
        list.as_array()
            .unwrap()
            .iter()
            .map(|i| i["instance_id"].as_str().unwrap().to_string())
            .collect()
    };
    let all = ledger.json(&["instance", "list"]);
    for entry in all.as_array().unwrap() {
        // lists are arrays of the `instance show` objects
        has_keys(
            entry,
            &[
                "instance_id",
                "service_type",
                "account",
                "region",
                "billing",
                "subscription_months",
                "expires_at",
                "public_ip",
                "order_amount",
                "state",
                "quota",
                "numbers",
            ],
        );
        has_keys(&entry["quota"], &["max", "consumed", "remaining"]);
    }
    assert_eq!(ids(all), set(&["i-1", "i-2", "mall-1"]));
    assert_eq!(
        ids(ledger.json(&["instance", "list", "--account", "acme"])),
        set(&["i-1", "mall-1"])
    );
    assert_eq!(
        ids(ledger.json(&["instance", "list", "--type", "ecs"])),
        set(&["i-1", "i-2"])
    );
    assert_eq!(
        ids(ledger.json(&[
            "instance",
            "list",
            "--account",
            "acme",
            "--type",
            "linkedmall"
        ])),
        set(&["mall-1"])
    );
    assert_eq!(
        ids(ledger.json(&["instance", "list", "--account", "nobody"])),
        set(&[])
    );
}

#[test]
fn instance_list_as_csv() {
    let ledger = Ledger::new();
    ledger.ecs("i-1", "acme");
    ledger.add_instance("mall-1", "linkedmall", "beta", &["--months", "0"]);
    ledger.allocate("i-1", 2);
    let text = ledger.ok(&["--format", "csv", "instance", "list"]);
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(|s| s.to_string())
        .collect();
    for column in ["instance_id", "service_type", "account"] {
        assert!(
            headers.contains(&column.to_string()),
            "csv header {headers:?} lacks {column}"
        );
    }
    let rows: Vec<BTreeMap<String, String>> = reader
        .records()
        .map(|r| {
            headers
                .iter()
                .cloned()
                .zip(r.unwrap().iter().map(|s| s.to_string()))
                .collect()
        })
        .collect();
    assert_eq!(rows.len(), 2, "{text}");
    let by_id: BTreeMap<String, &BTreeMap<String, String>> =
        rows.iter().map(|r| (r["instance_id"].clone(), r)).collect();
    assert_eq!(by_id["i-1"]["service_type"], "ecs");
    assert_eq!(by_id["i-1"]["account"], "acme");
    assert_eq!(by_id["mall-1"]["service_type"], "linkedmall");
    assert_eq!(by_id["mall-1"]["account"], "beta");
    if let Some(consumed) = by_id["i-1"].get("consumed") {
        assert_eq!(consumed, "2");
    }
}

#[test]
fn instance_show_of_unknown_instance_is_not_found() {
    let ledger = Ledger::new();
    ledger.ok(&["init"]);
    ledger.refused(&["instance", "show", "nope"], 3, "not_found");
    ledger.refused(&["check", "nope"], 3, "not_found");
    ledger.refused(&["allocate", "nope"], 3, "not_found");
}

// ---------------------------------------------------------------------------
// check

#[test]
fn check_has_the_spec_json_shape() {
    let ledger = Ledger::new();
    ledger.ecs("i-1", "acme");
    ledger.allocate("i-1", 2);
    let check = ledger.json(&["check", "i-1"]);
    has_keys(&check, &["instance_id", "eligible", "reasons", "remaining"]);
    assert_eq!(check["instance_id"], "i-1");
    assert_eq!(check["eligible"], true);
    assert_eq!(check["reasons"], Value::Array(vec![]));
    assert_eq!(check["remaining"], 3);
}

#[test]
fn check_lists_every_failing_reason() {
    let ledger = Ledger::new();
    // Hong Kong, free trial, 0 months, no public IP, expired, then released.
    ledger.add_instance(
        "bad-1",
        "ecs",
        "acme",
        &[
            "--region",
            "cn-hongkong",
            "--billing",
            "trial",
            "--months",
            "0",
            "--expires",
            "2026-01-01T00:00:00Z",
        ],
    );
    ledger.ok(&["instance", "release", "bad-1"]);
    let check = ledger.json(&["check", "bad-1"]);
    assert_eq!(check["eligible"], false);
    assert_eq!(
        reasons(&check),
        set(&[
            "region_not_mainland",
            "trial",
            "subscription_too_short",
            "no_public_ip",
            "expired",
            "released"
        ])
    );

    // Pay-as-you-go IoT Studio with a small order, outside China.
    ledger.add_instance(
        "bad-2",
        "iot_studio",
        "acme",
        &[
            "--region",
            "us-west-1",
            "--billing",
            "pay-as-you-go",
            "--months",
            "1",
            "--order-amount",
            "10",
        ],
    );
    assert_eq!(
        reasons(&ledger.json(&["check", "bad-2"])),
        set(&[
            "region_not_mainland",
            "pay_as_you_go",
            "subscription_too_short",
            "order_amount_too_low"
        ])
    );

    // A type that is not in the policy table is refused at registration
    // (docs/guide.md "Regions"), so no instance of it exists to check.
    ledger.refused(
        &instance_add_args("bad-3", "oss", "acme", &[]),
        4,
        "service_type_unsupported",
    );

    // An exhausted instance.
    ledger.add_instance("mall-1", "linkedmall", "acme", &["--months", "0"]);
    ledger.allocate("mall-1", 2);
    let check = ledger.json(&["check", "mall-1"]);
    assert_eq!(check["eligible"], false);
    assert_eq!(reasons(&check), set(&["quota_exhausted"]));
    assert_eq!(check["remaining"], 0);
}

#[test]
fn check_changes_nothing() {
    let ledger = Ledger::new();
    ledger.ecs("i-1", "acme");
    let before = ledger.export_history();
    ledger.json(&["check", "i-1"]);
    ledger.ok(&["check", "i-1"]);
    assert_eq!(before, ledger.export_history());
}

// ---------------------------------------------------------------------------
// policy

#[test]
fn policy_defaults_give_each_type_its_quota() {
    let ledger = Ledger::new();
    ledger.ok(&["init"]);
    let table = ledger.ok(&["policy", "show"]);
    let json = ledger.json(&["policy", "show"]);
    assert_eq!(
        json.as_array().expect("policy show json is a list").len(),
        6,
        "{json}"
    );
    for (key, max, min_months) in [
        ("ecs", 5, 3),
        ("cloud_web_hosting", 5, 3),
        ("simple_application_server", 5, 3),
        ("ens", 5, 3),
        ("linkedmall", 2, 0),
        ("iot_studio", 1, 6),
    ] {
        assert!(table.contains(key), "policy show lacks {key}: {table}");
        let id = format!("x-{}", key.replace('_', "-"));
        let months = min_months.to_string();
        ledger.add_instance(
            &id,
            key,
            "acme",
            &[
                "--months",
                &months,
                "--public-ip",
                "1.2.3.4",
                "--order-amount",
                "90",
            ],
        );
        let check = ledger.json(&["check", &id]);
        assert_eq!(
            check["eligible"], true,
            "{key} with {min_months} months: {check}"
        );
        assert_eq!(ledger.instance(&id)["quota"]["max"], max, "{key}");
        if min_months > 0 {
            let short = format!("{id}-short");
            let months = (min_months - 1).to_string();
            ledger.add_instance(
                &short,
                key,
                "acme",
                &[
                    "--months",
                    &months,
                    "--public-ip",
                    "1.2.3.4",
                    "--order-amount",
                    "90",
                ],
            );
            assert_eq!(
                reasons(&ledger.json(&["check", &short])),
                set(&["subscription_too_short"]),
                "{key}"
            );
        }
    }
}

#[test]
fn policy_set_is_an_event_and_changes_the_quota() {
    let ledger = Ledger::new();
    ledger.ecs("i-1", "acme");
    let events = ledger.event_count();
    ledger.ok(&["policy", "set", "ecs", "--max", "2"]);
    assert_eq!(ledger.event_count(), events + 1);
    let event = ledger.last_event();
    assert_eq!(event["kind"], "policy_set");
    assert_eq!(event["actor"], ACTOR);
    assert_eq!(ledger.instance("i-1")["quota"]["max"], 2);
    assert_eq!(ledger.remaining("i-1"), 2);
    ledger.refused(&["allocate", "i-1", "--count", "3"], 4, "quota_exhausted");
    ledger.allocate("i-1", 2);
    // Lowering the maximum below what is consumed: remaining is max(0, ...).
    ledger.ok(&["policy", "set", "ecs", "--max", "1"]);
    let quota = ledger.instance("i-1")["quota"].clone();
    assert_eq!(quota["consumed"], 2);
    assert_eq!(quota["remaining"], 0);
    ledger.refused(&["allocate", "i-1"], 4, "quota_exhausted");
    ledger.ok(&["policy", "set", "ecs", "--max", "4"]);
    assert_eq!(ledger.remaining("i-1"), 2);
    ledger.verify_ok();
}

#[test]
fn policy_set_changes_the_eligibility_rules() {
    let ledger = Ledger::new();
    ledger.add_instance("i-noip", "ecs", "acme", &[]);
    ledger.add_instance(
        "iot-1",
        "iot_studio",
        "acme",
        &["--months", "6", "--order-amount", "60"],
    );
    ledger.ecs("i-12", "acme");
    assert_eq!(
        reasons(&ledger.json(&["check", "i-noip"])),
        set(&["no_public_ip"])
    );
    assert_eq!(
        reasons(&ledger.json(&["check", "iot-1"])),
        set(&["order_amount_too_low"])
    );

    ledger.ok(&["policy", "set", "ecs", "--requires-public-ip", "false"]);
    assert_eq!(ledger.json(&["check", "i-noip"])["eligible"], true);
    ledger.ok(&["policy", "set", "iot_studio", "--min-order-amount", "50"]);
    assert_eq!(ledger.json(&["check", "iot-1"])["eligible"], true);
    ledger.ok(&["policy", "set", "ecs", "--min-months", "24"]);
    assert_eq!(
        reasons(&ledger.json(&["check", "i-12"])),
        set(&["subscription_too_short"])
    );
    ledger.refused(&["allocate", "i-12"], 4, "subscription_too_short");
    let kinds: Vec<Value> = ledger
        .events(&[])
        .iter()
        .map(|e| e["kind"].clone())
        .collect();
    assert_eq!(kinds.iter().filter(|k| *k == "policy_set").count(), 3);
}

#[test]
fn policy_set_with_a_malformed_value_is_a_usage_error() {
    let ledger = Ledger::new();
    ledger.ok(&["init"]);
    ledger.refused(&["policy", "set", "ecs", "--max", "many"], 2, "usage");
    ledger.refused(
        &["policy", "set", "ecs", "--requires-public-ip", "perhaps"],
        2,
        "usage",
    );
}

// ---------------------------------------------------------------------------
// allocate

#[test]
fn allocate_has_the_spec_json_shape_and_uuid_v4_numbers() {
    let ledger = Ledger::new();
    ledger.ecs("i-1", "acme");
    let events = ledger.event_count();
    let answer = ledger.json(&["allocate", "i-1", "--count", "3"]);
    has_keys(
        &answer,
        &["instance_id", "numbers", "consumed", "remaining"],
    );
    assert_eq!(answer["instance_id"], "i-1");
    assert_eq!(answer["consumed"], 3);
    assert_eq!(answer["remaining"], 2);
    let numbers = strings(&answer["numbers"]);
    assert_eq!(numbers.len(), 3);
    assert_eq!(
        numbers.iter().collect::<BTreeSet<_>>().len(),
        3,
        "numbers are distinct"
    );
    for number in &numbers {
        assert!(is_uuid_v4(number), "{number} is not a UUID v4");
    }
    // One event for the whole request, naming every number.
    assert_eq!(ledger.event_count(), events + 1);
    let event = ledger.last_event();
    assert_eq!(event["kind"], "allocated");
    let payload = event["payload"].to_string();
    for number in &numbers {
        assert!(
            payload.contains(number.as_str()),
            "allocated payload lacks {number}: {payload}"
        );
    }
    for number in &numbers {
        let shown = ledger.number(number);
        assert_eq!(shown["status"], "unbound");
        assert_eq!(shown["holder"], "acme");
        assert_eq!(shown["owner"], "acme");
        assert_eq!(shown["instance_id"], "i-1");
        assert_eq!(shown["origin"], "issued");
    }
}

#[test]
fn allocate_defaults_to_one_number() {
    let ledger = Ledger::new();
    ledger.ecs("i-1", "acme");
    let answer = ledger.json(&["allocate", "i-1"]);
    assert_eq!(strings(&answer["numbers"]).len(), 1);
    assert_eq!(answer["consumed"], 1);
    assert_eq!(answer["remaining"], 4);
}

#[test]
fn allocate_takes_1_to_20_per_request() {
    let ledger = Ledger::new();
    ledger.ecs("i-1", "acme");
    ledger.ok(&["policy", "set", "ecs", "--max", "100"]);
    for count in ["0", "21", "-1", "1000"] {
        ledger.refused(
            &["allocate", "i-1", "--count", count],
            4,
            "count_out_of_range",
        );
    }
    ledger.refused(&["allocate", "i-1", "--count=-1"], 4, "count_out_of_range");
    ledger.refused(&["allocate", "i-1", "--count", "three"], 2, "usage");
    assert_eq!(ledger.consumed("i-1"), 0);
    assert_eq!(ledger.allocate("i-1", 20).len(), 20);
    assert_eq!(ledger.allocate("i-1", 1).len(), 1);
    assert_eq!(ledger.consumed("i-1"), 21);
}

#[test]
fn more_than_20_provider_numbers_is_count_out_of_range() {
    let ledger = Ledger::new();
    ledger.ecs("i-1", "acme");
    ledger.ok(&["policy", "set", "ecs", "--max", "100"]);
    let numbers: Vec<String> = (1..=21).map(|i| format!("PROV-{i:04}")).collect();
    let mut args = vec!["allocate", "i-1"];
    for number in &numbers {
        args.extend(["--number", number.as_str()]);
    }
    ledger.refused(&args, 4, "count_out_of_range");
    assert_eq!(ledger.consumed("i-1"), 0);
    // twenty is fine
    let answer = ledger.json(&args[..args.len() - 2]);
    assert_eq!(strings(&answer["numbers"]).len(), 20);
}

#[test]
fn allocate_is_all_or_nothing() {
    let ledger = Ledger::new();
    ledger.ecs("i-1", "acme");
    ledger.allocate("i-1", 3);
    let stderr = ledger.refused(&["allocate", "i-1", "--count", "3"], 4, "quota_exhausted");
    assert!(stderr.contains("error[quota_exhausted]: "), "{stderr}");
    let quota = ledger.instance("i-1")["quota"].clone();
    assert_eq!(quota["consumed"], 3);
    assert_eq!(quota["remaining"], 2);
    assert_eq!(
        ledger
            .json(&["number", "list", "--instance", "i-1"])
            .as_array()
            .unwrap()
            .len(),
        3
    );
    assert_eq!(ledger.allocate("i-1", 2).len(), 2);
    ledger.refused(&["allocate", "i-1"], 4, "quota_exhausted");
}

#[test]
fn allocate_records_provider_numbers() {
    let ledger = Ledger::new();
    ledger.ecs("i-1", "acme");
    let long = format!("P{}", "9".repeat(63));
    let answer = ledger.json(&["allocate", "i-1", "--number", "AB-1", "--number", &long]);
    let numbers = strings(&answer["numbers"]);
    assert_eq!(
        numbers.iter().cloned().collect::<BTreeSet<_>>(),
        set(&["AB-1", &long])
    );
    assert_eq!(answer["consumed"], 2);
    let shown = ledger.number("AB-1");
    assert_eq!(shown["instance_id"], "i-1");
    assert_eq!(shown["status"], "unbound");
    assert_eq!(shown["origin"], "issued");
}

#[test]
fn malformed_provider_numbers_are_usage_errors() {
    let ledger = Ledger::new();
    ledger.ecs("i-1", "acme");
    let too_long = "A".repeat(65);
    for bad in [
        "ABC",
        too_long.as_str(),
        "AB_12",
        "AB 12",
        "AB.12",
        "号码1234",
        "",
    ] {
        ledger.refused(&["allocate", "i-1", "--number", bad], 2, "usage");
    }
    // a bad one among good ones: nothing is recorded
    ledger.refused(
        &["allocate", "i-1", "--number", "GOOD-1", "--number", "b@d!"],
        2,
        "usage",
    );
    ledger.refused(&["number", "show", "GOOD-1"], 3, "not_found");
    assert_eq!(ledger.consumed("i-1"), 0);
}

#[test]
fn a_number_is_unique_across_the_ledger_forever() {
    let ledger = Ledger::new();
    ledger.ecs("i-1", "acme");
    ledger.ecs("i-2", "beta");
    ledger.json(&["allocate", "i-1", "--number", "PROV-0001"]);
    let generated = ledger.allocate_one("i-1");
    // the same number again, on another instance and account
    ledger.refused(
        &["allocate", "i-2", "--number", "PROV-0001"],
        4,
        "already_exists",
    );
    ledger.refused(
        &["allocate", "i-2", "--number", &generated],
        4,
        "already_exists",
    );
    // a fresh number together with a taken one: none is recorded
    ledger.refused(
        &[
            "allocate",
            "i-2",
            "--number",
            "PROV-0002",
            "--number",
            "PROV-0001",
        ],
        4,
        "already_exists",
    );
    ledger.refused(&["number", "show", "PROV-0002"], 3, "not_found");
    assert_eq!(ledger.consumed("i-2"), 0);
    // still unique after the number has been invalidated
    ledger.ok(&["invalidate", "PROV-0001", "--reason", "test"]);
    ledger.refused(
        &["allocate", "i-2", "--number", "PROV-0001"],
        4,
        "already_exists",
    );
}

#[test]
fn only_the_owner_allocates() {
    let ledger = Ledger::new();
    ledger.ecs("i-1", "acme");
    ledger.refused(&["allocate", "i-1", "--account", "mallory"], 4, "not_owner");
    ledger.refused(
        &[
            "allocate",
            "i-1",
            "--account",
            "mallory",
            "--number",
            "PROV-1",
        ],
        4,
        "not_owner",
    );
    let answer = ledger.json(&["allocate", "i-1", "--account", "acme"]);
    assert_eq!(answer["consumed"], 1);
    let event = ledger.last_event();
    assert_eq!(event["payload"]["account"], "acme");
}

#[test]
fn a_request_id_with_the_same_parameters_returns_the_first_answer() {
    let ledger = Ledger::new();
    ledger.ecs("i-1", "acme");
    let first = ledger.json(&["allocate", "i-1", "--count", "2", "--request-id", "req-1"]);
    let log = ledger.export_history();
    let again = ledger.json(&["allocate", "i-1", "--count", "2", "--request-id", "req-1"]);
    assert_eq!(strings(&first["numbers"]), strings(&again["numbers"]));
    assert_eq!(again["consumed"], 2);
    assert_eq!(
        log,
        ledger.export_history(),
        "a repeated request appended something"
    );
    // the table form as well
    ledger.ok(&["allocate", "i-1", "--count", "2", "--request-id", "req-1"]);
    assert_eq!(log, ledger.export_history());
    assert_eq!(ledger.consumed("i-1"), 2);
}

#[test]
fn a_repeated_request_id_answers_even_when_the_quota_is_now_used_up() {
    let ledger = Ledger::new();
    ledger.ecs("i-1", "acme");
    let first = ledger.json(&[
        "allocate",
        "i-1",
        "--count",
        "5",
        "--request-id",
        "all-of-it",
    ]);
    assert_eq!(first["remaining"], 0);
    let log = ledger.export_history();
    let again = ledger.json(&[
        "allocate",
        "i-1",
        "--count",
        "5",
        "--request-id",
        "all-of-it",
    ]);
    assert_eq!(strings(&first["numbers"]), strings(&again["numbers"]));
    assert_eq!(log, ledger.export_history());
}

#[test]
fn a_request_id_with_other_parameters_is_a_conflict() {
    let ledger = Ledger::new();
    ledger.ecs("i-1", "acme");
    ledger.ecs("i-2", "acme");
    ledger.json(&["allocate", "i-1", "--count", "2", "--request-id", "req-1"]);
    ledger.refused(
        &["allocate", "i-1", "--count", "3", "--request-id", "req-1"],
        4,
        "request_conflict",
    );
    ledger.refused(
        &["allocate", "i-1", "--count", "1", "--request-id", "req-1"],
        4,
        "request_conflict",
    );
    ledger.refused(
        &["allocate", "i-2", "--count", "2", "--request-id", "req-1"],
        4,
        "request_conflict",
    );
    ledger.refused(
        &[
            "allocate",
            "i-1",
            "--number",
            "PROV-7",
            "--number",
            "PROV-8",
            "--request-id",
            "req-1",
        ],
        4,
        "request_conflict",
    );
    assert_eq!(ledger.consumed("i-1"), 2);
    assert_eq!(ledger.consumed("i-2"), 0);
}

#[test]
fn a_refused_request_does_not_use_up_its_request_id() {
    let ledger = Ledger::new();
    ledger.ecs("i-1", "acme");
    ledger.refused(
        &["allocate", "i-1", "--count", "6", "--request-id", "k1"],
        4,
        "quota_exhausted",
    );
    ledger.refused(
        &["allocate", "i-1", "--account", "bob", "--request-id", "k1"],
        4,
        "not_owner",
    );
    let answer = ledger.json(&["allocate", "i-1", "--count", "2", "--request-id", "k1"]);
    assert_eq!(strings(&answer["numbers"]).len(), 2);
    assert_eq!(ledger.consumed("i-1"), 2);
}

#[test]
fn a_request_id_with_provider_numbers_is_idempotent() {
    let ledger = Ledger::new();
    ledger.ecs("i-1", "acme");
    let first = ledger.json(&["allocate", "i-1", "--number", "PROV-1", "--request-id", "k"]);
    let log = ledger.export_history();
    let again = ledger.json(&["allocate", "i-1", "--number", "PROV-1", "--request-id", "k"]);
    assert_eq!(strings(&first["numbers"]), strings(&again["numbers"]));
    assert_eq!(log, ledger.export_history());
    ledger.refused(
        &["allocate", "i-1", "--number", "PROV-2", "--request-id", "k"],
        4,
        "request_conflict",
    );
}

// ---------------------------------------------------------------------------
// the clock

#[test]
fn an_event_earlier_than_the_last_is_clock_backwards() {
    let ledger = Ledger::new();
    ledger.ecs("i-1", "acme");
    ledger.set_now("2026-05-01T12:00:00Z");
    ledger.allocate("i-1", 1);
    let earlier = "2026-05-01T11:59:59Z";
    ledger.refused_at(earlier, &["allocate", "i-1"], 4, "clock_backwards");
    ledger.refused_at(
        earlier,
        &["policy", "set", "ecs", "--max", "3"],
        4,
        "clock_backwards",
    );
    ledger.refused_at(
        earlier,
        &[
            "instance",
            "add",
            "i-2",
            "--type",
            "ecs",
            "--account",
            "acme",
            "--region",
            "cn-hangzhou",
            "--billing",
            "subscription",
            "--months",
            "12",
            "--expires",
            EXPIRES,
            "--public-ip",
            "1.1.1.1",
        ],
        4,
        "clock_backwards",
    );
    ledger.refused_at(
        earlier,
        &["instance", "release", "i-1"],
        4,
        "clock_backwards",
    );
    // the same instant as the last event is fine, and so is later
    ledger.allocate("i-1", 1);
    ledger.set_now("2026-05-02T00:00:00Z");
    ledger.allocate("i-1", 1);
    let events = ledger.events(&[]);
    let ats: Vec<&str> = events.iter().map(|e| e["at"].as_str().unwrap()).collect();
    let mut sorted = ats.clone();
    sorted.sort();
    assert_eq!(ats, sorted);
    ledger.verify_ok();
}

#[test]
fn times_are_recorded_in_utc_with_seconds() {
    let ledger = Ledger::new();
    ledger.set_now("2026-03-01T18:00:00+08:00");
    ledger.add_instance(
        "i-1",
        "ecs",
        "acme",
        &[
            "--public-ip",
            "1.2.3.4",
            "--expires",
            "2027-01-01T08:00:00+08:00",
        ],
    );
    let event = ledger.last_event();
    assert_eq!(event["at"], "2026-03-01T10:00:00Z");
    assert_eq!(ledger.instance("i-1")["expires_at"], "2027-01-01T00:00:00Z");
    // 17:59:59 at +08:00 is before the last event's 10:00:00Z
    ledger.refused_at(
        "2026-03-01T17:59:59+08:00",
        &["allocate", "i-1"],
        4,
        "clock_backwards",
    );
    // a later instant written with another offset is fine
    ledger.set_now("2026-03-01T05:00:00-06:00");
    ledger.allocate("i-1", 1);
    assert_eq!(ledger.last_event()["at"], "2026-03-01T11:00:00Z");
}

#[test]
fn a_malformed_now_is_a_usage_error() {
    let ledger = Ledger::new();
    ledger.ecs("i-1", "acme");
    ledger.refused_at("yesterday", &["allocate", "i-1"], 2, "usage");
    ledger.refused_at("2026-13-45T99:00:00Z", &["allocate", "i-1"], 2, "usage");
    ledger.refused_at("yesterday", &["check", "i-1"], 2, "usage");
}

// ---------------------------------------------------------------------------
// each eligibility reason refuses allocate

fn refuses_with_only(ledger: &Ledger, id: &str, code: &str) {
    let check = ledger.json(&["check", id]);
    assert_eq!(check["eligible"], false, "{check}");
    assert_eq!(reasons(&check), set(&[code]), "{id}");
    let stderr = ledger.refused(&["allocate", id], 4, code);
    assert!(stderr.contains(&format!("error[{code}]: ")), "{stderr}");
    assert!(
        ledger
            .json(&["number", "list", "--instance", id])
            .as_array()
            .unwrap()
            .len() as i64
            == ledger.consumed(id)
    );
}

#[test]
fn refused_region_not_mainland_for_hong_kong() {
    let ledger = Ledger::new();
    ledger.add_instance(
        "hk-1",
        "ecs",
        "acme",
        &["--region", "cn-hongkong", "--public-ip", "47.242.5.6"],
    );
    refuses_with_only(&ledger, "hk-1", "region_not_mainland");
    ledger.add_instance(
        "sg-1",
        "ecs",
        "acme",
        &["--region", "ap-southeast-1", "--public-ip", "47.242.5.7"],
    );
    refuses_with_only(&ledger, "sg-1", "region_not_mainland");
    // a mainland region is fine
    ledger.add_instance(
        "sz-1",
        "ecs",
        "acme",
        &["--region", "cn-shenzhen", "--public-ip", "47.242.5.8"],
    );
    ledger.allocate("sz-1", 1);
}

#[test]
fn refused_service_type_unsupported() {
    let ledger = Ledger::new();
    ledger.ok(&["init"]);
    // Refused at registration since the region and type tables (docs/guide.md
    // "Regions"): an instance of a type without policy never exists.
    let args = instance_add_args("oss-1", "oss", "acme", &["--public-ip", "1.2.3.4"]);
    ledger.refused(&args, 4, "service_type_unsupported");
    ledger.refused(&["allocate", "oss-1"], 3, "not_found");
}

#[test]
fn refused_pay_as_you_go() {
    let ledger = Ledger::new();
    ledger.add_instance(
        "i-payg",
        "ecs",
        "acme",
        &["--billing", "pay-as-you-go", "--public-ip", "1.2.3.4"],
    );
    refuses_with_only(&ledger, "i-payg", "pay_as_you_go");
}

#[test]
fn refused_trial() {
    let ledger = Ledger::new();
    ledger.add_instance(
        "i-trial",
        "ecs",
        "acme",
        &["--billing", "trial", "--public-ip", "1.2.3.4"],
    );
    refuses_with_only(&ledger, "i-trial", "trial");
}

#[test]
fn refused_subscription_too_short() {
    let ledger = Ledger::new();
    ledger.add_instance(
        "i-short",
        "ecs",
        "acme",
        &["--months", "2", "--public-ip", "1.2.3.4"],
    );
    refuses_with_only(&ledger, "i-short", "subscription_too_short");
    ledger.add_instance(
        "iot-short",
        "iot_studio",
        "acme",
        &["--months", "5", "--order-amount", "100"],
    );
    refuses_with_only(&ledger, "iot-short", "subscription_too_short");
}

#[test]
fn refused_order_amount_too_low_for_iot_studio() {
    let ledger = Ledger::new();
    ledger.add_instance(
        "iot-low",
        "iot_studio",
        "acme",
        &["--months", "6", "--order-amount", "89.99"],
    );
    refuses_with_only(&ledger, "iot-low", "order_amount_too_low");
    ledger.add_instance("iot-none", "iot_studio", "acme", &["--months", "6"]);
    refuses_with_only(&ledger, "iot-none", "order_amount_too_low");
    ledger.add_instance(
        "iot-ok",
        "iot_studio",
        "acme",
        &["--months", "6", "--order-amount", "90"],
    );
    assert_eq!(ledger.allocate("iot-ok", 1).len(), 1);
    // other types have no minimum order amount
    ledger.add_instance(
        "cwh-1",
        "cloud_web_hosting",
        "acme",
        &["--order-amount", "1"],
    );
    ledger.allocate("cwh-1", 1);
}

#[test]
fn refused_no_public_ip_for_ecs() {
    let ledger = Ledger::new();
    ledger.add_instance("i-noip", "ecs", "acme", &[]);
    refuses_with_only(&ledger, "i-noip", "no_public_ip");
    // other types do not need one
    ledger.add_instance("sas-1", "simple_application_server", "acme", &[]);
    ledger.allocate("sas-1", 1);
    ledger.add_instance("ens-1", "ens", "acme", &[]);
    ledger.allocate("ens-1", 1);
}

#[test]
fn refused_expired() {
    let ledger = Ledger::new();
    ledger.add_instance(
        "i-old",
        "ecs",
        "acme",
        &[
            "--public-ip",
            "1.2.3.4",
            "--expires",
            "2026-02-28T00:00:00Z",
        ],
    );
    refuses_with_only(&ledger, "i-old", "expired");
    // expiry is judged at the ledger's current time (--now)
    ledger.add_instance(
        "i-soon",
        "ecs",
        "acme",
        &[
            "--public-ip",
            "1.2.3.5",
            "--expires",
            "2026-04-01T00:00:00Z",
        ],
    );
    ledger.allocate("i-soon", 1);
    ledger.set_now("2026-04-02T00:00:00Z");
    refuses_with_only(&ledger, "i-soon", "expired");
}

#[test]
fn refused_released() {
    let ledger = Ledger::new();
    ledger.ecs("i-1", "acme");
    ledger.ok(&["instance", "release", "i-1"]);
    refuses_with_only(&ledger, "i-1", "released");
}

#[test]
fn refused_quota_exhausted() {
    let ledger = Ledger::new();
    ledger.ecs("i-1", "acme");
    ledger.allocate("i-1", 5);
    refuses_with_only(&ledger, "i-1", "quota_exhausted");
    ledger.add_instance("mall-1", "linkedmall", "acme", &["--months", "0"]);
    ledger.allocate("mall-1", 2);
    refuses_with_only(&ledger, "mall-1", "quota_exhausted");
    ledger.add_instance(
        "iot-1",
        "iot_studio",
        "acme",
        &["--months", "6", "--order-amount", "90"],
    );
    ledger.allocate("iot-1", 1);
    refuses_with_only(&ledger, "iot-1", "quota_exhausted");
}

// ---------------------------------------------------------------------------
// exit codes and error output

#[test]
fn exit_code_0_on_success() {
    let ledger = Ledger::new();
    ledger.ecs("i-1", "acme");
    let output = ledger.run(&["allocate", "i-1"]);
    assert_eq!(output.status.code(), Some(0));
    assert!(
        output.stderr.is_empty() || !stderr(&output).contains("error["),
        "{}",
        stderr(&output)
    );
}

#[test]
fn exit_code_2_on_usage_errors() {
    let ledger = Ledger::new();
    ledger.ecs("i-1", "acme");
    ledger.refused(&["allocate", "i-1", "--bogus-flag"], 2, "usage");
    ledger.refused(&["no-such-command"], 2, "usage");
    ledger.refused(&["allocate"], 2, "usage");
    ledger.refused(&["--format", "yaml", "instance", "list"], 2, "usage");
    ledger.refused(
        &[
            "instance",
            "renew",
            "i-1",
            "--months",
            "1",
            "--expires",
            "soon",
        ],
        2,
        "usage",
    );
}

#[test]
fn exit_code_3_on_not_found() {
    let ledger = Ledger::new();
    ledger.ecs("i-1", "acme");
    let stderr = ledger.refused(&["allocate", "i-404"], 3, "not_found");
    assert!(
        stderr.contains("i-404"),
        "the message names what was not found: {stderr}"
    );
    ledger.refused(&["number", "show", "NOPE-0000"], 3, "not_found");
}

#[test]
fn exit_code_4_on_a_rule_refusal() {
    let ledger = Ledger::new();
    ledger.ecs("i-1", "acme");
    ledger.refused(&["allocate", "i-1", "--count", "6"], 4, "quota_exhausted");
}

#[test]
fn exit_code_6_when_the_ledger_cannot_be_created() {
    let ledger = Ledger::new();
    let missing = ledger.dir.path().join("no-such-dir").join("ledger.db");
    let output = ledger
        .bare_command()
        .args([
            "--db",
            missing.to_str().unwrap(),
            "--now",
            NOW,
            "--actor",
            ACTOR,
            "init",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(6), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("error[storage]"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn the_ledger_is_mode_0600_whatever_the_umask() {
    sqlite_only!("SQLite file modes");
    let ledger = Ledger::new();
    let output = run_with_umask(
        "000",
        &[
            "--db",
            &ledger.db_str(),
            "--now",
            NOW,
            "--actor",
            ACTOR,
            "init",
        ],
    );
    assert_ok(&output, "init with umask 000");
    let mode = mode(&ledger.db);
    assert_eq!(mode, 0o600, "mode {mode:o}");
}

#[test]
fn exit_code_6_for_a_file_that_is_not_a_ledger() {
    sqlite_only!("SQLite files (PostgreSQL twin: postgres::without_the_schema_commands_name_init_and_a_newer_schema_is_exit_6)");
    let ledger = Ledger::new();
    fs::write(
        &ledger.db,
        b"this is not a database, just some text\n".repeat(100),
    )
    .unwrap();
    let before = file_bytes(&ledger.db);
    for args in [
        vec!["instance", "list"],
        vec!["allocate", "i-1"],
        vec!["init"],
        vec!["verify"],
    ] {
        let output = ledger.run(&args);
        assert_eq!(
            output.status.code(),
            Some(6),
            "{args:?}: {}",
            stderr(&output)
        );
        assert!(
            stderr(&output).contains("error[storage]"),
            "{args:?}: {}",
            stderr(&output)
        );
    }
    assert_eq!(
        before,
        file_bytes(&ledger.db),
        "the foreign file was modified"
    );
}

#[test]
fn exit_code_6_for_a_sqlite_file_that_is_not_a_ledger() {
    sqlite_only!("SQLite files");
    let ledger = Ledger::new();
    {
        let conn = rusqlite::Connection::open(&ledger.db).unwrap();
        conn.execute_batch(
            "CREATE TABLE shopping(item TEXT); INSERT INTO shopping VALUES ('milk');",
        )
        .unwrap();
    }
    let before = file_bytes(&ledger.db);
    for args in [vec!["instance", "list"], vec!["check", "i-1"]] {
        let output = ledger.run(&args);
        assert_eq!(
            output.status.code(),
            Some(6),
            "{args:?}: {}",
            stderr(&output)
        );
        assert!(
            stderr(&output).contains("error[storage]"),
            "{args:?}: {}",
            stderr(&output)
        );
    }
    assert_eq!(
        before,
        file_bytes(&ledger.db),
        "the foreign database was modified"
    );
}

#[test]
fn exit_code_6_for_a_ledger_from_a_newer_program() {
    sqlite_only!("SQLite user_version (PostgreSQL twin: postgres::without_the_schema_commands_name_init_and_a_newer_schema_is_exit_6)");
    let ledger = Ledger::new();
    ledger.ecs("i-1", "acme");
    let newer = {
        let conn = rusqlite::Connection::open(&ledger.db).unwrap();
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert!(version >= 1, "the schema version is stored as user_version");
        conn.execute_batch(&format!("PRAGMA user_version = {};", version + 1))
            .unwrap();
        version + 1
    };
    for args in [
        vec!["instance", "show", "i-1"],
        vec!["allocate", "i-1"],
        vec!["init"],
    ] {
        let output = ledger.run(&args);
        assert_eq!(
            output.status.code(),
            Some(6),
            "{args:?}: {}",
            stderr(&output)
        );
        assert!(
            stderr(&output).contains("error[storage]"),
            "{args:?}: {}",
            stderr(&output)
        );
    }
    let conn = rusqlite::Connection::open(&ledger.db).unwrap();
    let events: i64 = conn
        .query_row("SELECT count(*) FROM events", [], |r| r.get(0))
        .unwrap();
    assert_eq!(events, 1, "nothing was written to the newer ledger");
    let stored: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(stored, newer, "the newer version is left as it was");
}

#[test]
fn errors_are_one_line_error_code_message() {
    let ledger = Ledger::new();
    ledger.ecs("i-1", "acme");
    ledger.allocate("i-1", 5);
    let output = ledger.run(&["allocate", "i-1"]);
    let stderr = stderr(&output);
    let line = stderr
        .lines()
        .find(|l| l.starts_with("error["))
        .unwrap_or_else(|| panic!("no error line: {stderr}"));
    let rest = line
        .strip_prefix("error[quota_exhausted]: ")
        .unwrap_or_else(|| panic!("bad error line: {line}"));
    assert!(!rest.trim().is_empty(), "empty message");
    assert!(output.stdout.is_empty(), "a refusal printed to stdout");
}

#[test]
fn with_format_json_the_error_is_one_json_object() {
    sqlite_only!("SQLite files");
    let ledger = Ledger::new();
    ledger.ecs("i-1", "acme");
    ledger.allocate("i-1", 5);
    for (args, exit, code) in [
        (vec!["allocate", "i-1"], 4, "quota_exhausted"),
        (
            vec!["allocate", "i-1", "--account", "other"],
            4,
            "not_owner",
        ),
        (vec!["instance", "show", "nope"], 3, "not_found"),
        (vec!["allocate", "i-1", "--count", "x"], 2, "usage"),
        (vec!["allocate", "i-1", "--bogus"], 2, "usage"),
    ] {
        let before = ledger.export_history();
        let output = ledger
            .command()
            .arg("--format")
            .arg("json")
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(exit), "{args:?}");
        let stderr = stderr(&output);
        let value: Value = serde_json::from_str(stderr.trim())
            .unwrap_or_else(|e| panic!("{args:?}: stderr is not one JSON value ({e}): {stderr}"));
        let object = value.as_object().unwrap();
        assert_eq!(object.len(), 1, "{value}");
        has_keys(&value["error"], &["code", "message"]);
        assert_eq!(value["error"]["code"], code, "{args:?}: {value}");
        assert!(!value["error"]["message"].as_str().unwrap().is_empty());
        assert_eq!(before, ledger.export_history());
    }
    // storage errors too
    let other = Ledger::new();
    fs::write(&other.db, b"not a ledger at all, not even close".repeat(50)).unwrap();
    let output = other
        .command()
        .args(["--format", "json", "instance", "list"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(6));
    let value: Value = serde_json::from_str(stderr(&output).trim()).unwrap();
    assert_eq!(value["error"]["code"], "storage");
}

// ---------------------------------------------------------------------------
// history

#[test]
fn history_has_the_spec_json_shape_and_a_valid_chain() {
    let ledger = Ledger::new();
    ledger.ecs("i-1", "acme");
    ledger.ok(&["policy", "set", "ecs", "--max", "4"]);
    ledger.set_now("2026-03-02T08:30:00Z");
    ledger.allocate("i-1", 2);
    ledger.ok(&[
        "instance",
        "renew",
        "i-1",
        "--months",
        "6",
        "--expires",
        "2027-09-01T00:00:00Z",
    ]);
    ledger.ok(&["instance", "release", "i-1"]);
    let events = ledger.events(&[]);
    let kinds: Vec<&str> = events.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "instance_added",
            "policy_set",
            "allocated",
            "instance_renewed",
            "instance_released"
        ]
    );
    let mut prev = "0".repeat(64);
    for (i, event) in events.iter().enumerate() {
        has_keys(
            event,
            &[
                "seq",
                "event_id",
                "at",
                "actor",
                "kind",
                "payload",
                "prev_hash",
                "hash",
            ],
        );
        assert_eq!(event["seq"], (i + 1) as i64);
        assert!(is_uuid_v4(event["event_id"].as_str().unwrap()), "{event}");
        assert_eq!(event["actor"], ACTOR);
        assert!(
            event["payload"].is_object(),
            "payload is a JSON object: {event}"
        );
        assert_eq!(event["prev_hash"], prev.as_str());
        let hash = event["hash"].as_str().unwrap();
        assert_eq!(hash.len(), 64);
        assert!(
            hash.chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)),
            "lowercase hex: {hash}"
        );
        prev = hash.to_string();
    }
    assert_eq!(events[0]["at"], NOW);
    assert_eq!(events[2]["at"], "2026-03-02T08:30:00Z");

    // Re-check every hash from the exported log (docs/reference.md "The log and its
    // hash").
    let exported = ledger.export_history();
    let mut reader = csv::Reader::from_reader(exported.as_slice());
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        [
            "seq",
            "event_id",
            "at",
            "actor",
            "kind",
            "payload",
            "prev_hash",
            "hash"
        ]
    );
    let mut count = 0;
    for record in reader.records() {
        let r = record.unwrap();
        let hash = chain_hash(&r[6], &r[0], &r[1], &r[2], &r[3], &r[4], &r[5]);
        assert_eq!(hash, &r[7], "hash of event {}", &r[0]);
        let payload: Value = serde_json::from_str(&r[5]).unwrap();
        assert_eq!(payload, events[count]["payload"]);
        count += 1;
    }
    assert_eq!(count, events.len());
    // the table form shows every event too
    let table = ledger.ok(&["history"]);
    for kind in kinds {
        assert!(table.contains(kind), "history table lacks {kind}");
    }
}

#[test]
fn every_change_records_its_actor() {
    let ledger = Ledger::new();
    ledger.ecs("i-1", "acme");
    let output = ledger
        .command_as("ops.alice", NOW)
        .args(["allocate", "i-1"])
        .output()
        .unwrap();
    assert_ok(&output, "allocate as ops.alice");
    let events = ledger.events(&[]);
    assert_eq!(events[0]["actor"], ACTOR);
    assert_eq!(events.last().unwrap()["actor"], "ops.alice");
}

// ---------------------------------------------------------------------------
// completions

#[test]
fn completions_for_bash() {
    let ledger = Ledger::new();
    let text = ledger.ok(&["completions", "bash"]);
    assert!(text.contains("snledger"), "{text}");
    for word in ["allocate", "instance", "check", "policy"] {
        assert!(text.contains(word), "bash completions lack {word}");
    }
    ledger.refused(&["completions", "cmd.exe"], 2, "usage");
}

// ---------------------------------------------------------------------------
// import instances

#[test]
fn import_instances_registers_every_row() {
    let ledger = Ledger::new();
    ledger.ok(&["init"]);
    let file = ledger.write(
        "instances.csv",
        format!(
            "{INSTANCES_HEADER}\n\
             i-1,ecs,acme,cn-hangzhou,subscription,12,{EXPIRES},47.96.10.21,\n\
             mall-1,linkedmall,beta,cn-shanghai,subscription,0,{EXPIRES},,\n\
             \"iot-1\",iot_studio,beta,cn-beijing,subscription,6,{EXPIRES},,99.00\n"
        ),
    );
    ledger.ok(&["import", "instances", file.to_str().unwrap()]);
    let events = ledger.events(&[]);
    assert_eq!(events.len(), 3);
    assert!(events.iter().all(|e| e["kind"] == "instance_added"));
    assert_eq!(ledger.instance("i-1")["public_ip"], "47.96.10.21");
    assert_eq!(ledger.instance("mall-1")["quota"]["max"], 2);
    let iot = ledger.instance("iot-1");
    assert!((amount(&iot["order_amount"]) - 99.0).abs() < 1e-9);
    assert_eq!(ledger.json(&["check", "iot-1"])["eligible"], true);
    ledger.verify_ok();
}

#[test]
fn import_instances_accepts_bom_and_crlf() {
    let ledger = Ledger::new();
    ledger.ok(&["init"]);
    let text = format!(
        "\u{feff}{}\r\ni-1,ecs,acme,cn-hangzhou,subscription,12,{EXPIRES},1.2.3.4,\r\n",
        INSTANCES_HEADER
    );
    let file = ledger.write("bom.csv", &text);
    ledger.ok(&["import", "instances", file.to_str().unwrap()]);
    assert_eq!(ledger.instance("i-1")["public_ip"], "1.2.3.4");
}

#[test]
fn import_instances_is_all_or_nothing_and_lists_every_failing_line() {
    let ledger = Ledger::new();
    ledger.ecs("i-0", "acme");
    let file = ledger.write(
        "bad.csv",
        format!(
            "{INSTANCES_HEADER}\n\
             i-1,ecs,acme,cn-hangzhou,subscription,12,{EXPIRES},1.2.3.4,\n\
             i-2,ecs,acme,cn-hangzhou,subscription,twelve,{EXPIRES},1.2.3.4,\n\
             i-3,ecs,acme,cn-hangzhou,subscription,12,{EXPIRES},1.2.3.4,\n\
             i-0,ecs,acme,cn-hangzhou,subscription,12,{EXPIRES},1.2.3.4,\n\
             i-4,ecs,acme,cn-hangzhou,monthly,12,{EXPIRES},1.2.3.4,\n\
             i-1,ecs,acme,cn-hangzhou,subscription,12,{EXPIRES},1.2.3.4,\n"
        ),
    );
    // first failing row is a malformed one (line 3): exit 2
    let stderr = ledger.refused(&["import", "instances", file.to_str().unwrap()], 2, "usage");
    assert!(stderr.contains("line 3: error[usage]"), "{stderr}");
    assert!(stderr.contains("line 5: error[already_exists]"), "{stderr}");
    assert!(stderr.contains("line 6: error[usage]"), "{stderr}");
    // a duplicate inside the file is validated as if applied
    assert!(stderr.contains("line 7: error[already_exists]"), "{stderr}");
    assert!(!stderr.contains("line 2:"), "{stderr}");
    assert!(!stderr.contains("line 4:"), "{stderr}");
    ledger.refused(&["instance", "show", "i-1"], 3, "not_found");
    ledger.refused(&["instance", "show", "i-3"], 3, "not_found");
}

#[test]
fn import_instances_exits_with_the_code_of_the_first_failing_row() {
    let ledger = Ledger::new();
    ledger.ecs("i-0", "acme");
    let file = ledger.write(
        "dup.csv",
        format!(
            "{INSTANCES_HEADER}\n\
             i-1,ecs,acme,cn-hangzhou,subscription,12,{EXPIRES},1.2.3.4,\n\
             i-0,ecs,acme,cn-hangzhou,subscription,12,{EXPIRES},1.2.3.4,\n\
             i-2,ecs,acme,cn-hangzhou,subscription,x,{EXPIRES},1.2.3.4,\n"
        ),
    );
    let stderr = ledger.refused(
        &["import", "instances", file.to_str().unwrap()],
        4,
        "already_exists",
    );
    assert!(stderr.contains("line 3: error[already_exists]"), "{stderr}");
    assert!(stderr.contains("line 4: error[usage]"), "{stderr}");
    ledger.refused(&["instance", "show", "i-1"], 3, "not_found");
}

#[test]
fn import_instances_names_missing_and_unknown_columns() {
    let ledger = Ledger::new();
    ledger.ok(&["init"]);
    let missing = ledger.write("missing.csv",
        format!("instance_id,service_type,account,region,billing,expires_at\ni-1,ecs,acme,cn-hangzhou,subscription,{EXPIRES}\n"),
    );
    let stderr = ledger.refused(
        &["import", "instances", missing.to_str().unwrap()],
        2,
        "usage",
    );
    assert!(
        stderr.contains("subscription_months"),
        "the missing column is named: {stderr}"
    );
    let unknown = ledger.write(
        "unknown.csv",
        format!(
            "{},colour\ni-1,ecs,acme,cn-hangzhou,subscription,12,{EXPIRES},1.2.3.4,,blue\n",
            INSTANCES_HEADER
        ),
    );
    let stderr = ledger.refused(
        &["import", "instances", unknown.to_str().unwrap()],
        2,
        "usage",
    );
    assert!(
        stderr.contains("colour"),
        "the unknown column is named: {stderr}"
    );
}

#[test]
fn import_instances_dry_run_writes_nothing() {
    let ledger = Ledger::new();
    ledger.ok(&["init"]);
    let file = ledger.write(
        "ok.csv",
        format!(
            "{INSTANCES_HEADER}\ni-1,ecs,acme,cn-hangzhou,subscription,12,{EXPIRES},1.2.3.4,\n"
        ),
    );
    let before = ledger.export_history();
    ledger.ok(&["import", "instances", file.to_str().unwrap(), "--dry-run"]);
    assert_eq!(before, ledger.export_history());
    ledger.refused(&["instance", "show", "i-1"], 3, "not_found");
}

// ---------------------------------------------------------------------------
// concurrency

#[test]
fn concurrent_allocations_never_over_allocate() {
    let ledger = Ledger::new();
    let instances = ["c-1", "c-2", "c-3"];
    for id in instances {
        ledger.ecs(id, "acme");
    }
    let per_instance = 8;
    // Start every process before waiting for any.
    let mut children = Vec::new();
    for round in 0..per_instance {
        for id in instances {
            let child = ledger
                .command_as(&format!("worker-{round}"), NOW)
                .args(["--format", "json"])
                .args(["allocate", id])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            children.push((id, child));
        }
    }
    assert!(children.len() >= 8);
    let mut granted: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    let mut refused = 0;
    for (id, child) in children {
        let output = child.wait_with_output().unwrap();
        match output.status.code() {
            Some(0) => {
                let answer: Value = serde_json::from_slice(&output.stdout).unwrap();
                granted
                    .entry(id)
                    .or_default()
                    .extend(strings(&answer["numbers"]));
            }
            Some(4) => {
                let error: Value = serde_json::from_str(stderr(&output).trim())
                    .unwrap_or_else(|_| panic!("not a JSON error: {}", stderr(&output)));
                assert_eq!(error["error"]["code"], "quota_exhausted", "{error}");
                refused += 1;
            }
            other => panic!("allocate {id} exited {other:?}: {}", stderr(&output)),
        }
    }
    for id in instances {
        assert_eq!(
            granted.get(id).map_or(0, Vec::len),
            5,
            "{id} got exactly its quota"
        );
        assert_eq!(ledger.consumed(id), 5);
        assert_eq!(ledger.remaining(id), 0);
    }
    assert_eq!(refused, instances.len() * (per_instance - 5));
    let all: BTreeSet<String> = granted.values().flatten().cloned().collect();
    assert_eq!(all.len(), 15, "no number handed out twice");
    let listed = ledger.json(&["number", "list"]);
    assert_eq!(listed.as_array().unwrap().len(), 15);
    let events = ledger.events(&[]);
    assert_eq!(events.len(), 3 + 15, "one event per successful allocation");
    for (i, event) in events.iter().enumerate() {
        assert_eq!(event["seq"], (i + 1) as i64, "no gap in seq");
    }
    ledger.verify_ok();
}

#[test]
fn concurrent_requests_with_one_request_id_allocate_once() {
    let ledger = Ledger::new();
    ledger.ecs("r-1", "acme");
    let children: Vec<_> = (0..10)
        .map(|i| {
            ledger
                .command_as(&format!("w{i}"), NOW)
                .args(["--format", "json"])
                .args([
                    "allocate",
                    "r-1",
                    "--count",
                    "2",
                    "--request-id",
                    "order-42",
                ])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut answers = BTreeSet::new();
    for child in children {
        let output = child.wait_with_output().unwrap();
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        let answer: Value = serde_json::from_slice(&output.stdout).unwrap();
        answers.insert(strings(&answer["numbers"]));
    }
    assert_eq!(
        answers.len(),
        1,
        "every caller got the same numbers: {answers:?}"
    );
    assert_eq!(ledger.consumed("r-1"), 2);
    assert_eq!(ledger.event_count(), 2, "one instance_added, one allocated");
    ledger.verify_ok();
}

#[test]
fn concurrent_multi_number_allocations_hand_out_exactly_the_quota() {
    let ledger = Ledger::new();
    ledger.ecs("m-1", "acme");
    ledger.ok(&["policy", "set", "ecs", "--max", "7"]);
    // 10 processes asking for 2 each against a quota of 7: at most 3 succeed
    // (6 numbers), and all or nothing per request.
    let children: Vec<_> = (0..10)
        .map(|i| {
            ledger
                .command_as(&format!("w{i}"), NOW)
                .args(["allocate", "m-1", "--count", "2"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut ok = 0;
    for child in children {
        let output = child.wait_with_output().unwrap();
        match output.status.code() {
            Some(0) => ok += 1,
            Some(4) => assert!(
                stderr(&output).contains("error[quota_exhausted]"),
                "{}",
                stderr(&output)
            ),
            other => panic!("exit {other:?}: {}", stderr(&output)),
        }
    }
    assert_eq!(ok, 3);
    assert_eq!(ledger.consumed("m-1"), 6);
    assert_eq!(ledger.remaining("m-1"), 1);
    ledger.verify_ok();
}

#[test]
fn sixteen_processes_creating_one_new_ledger_at_once_all_succeed() {
    sqlite_only!("SQLite file creation (PostgreSQL: postgres::sixteen_processes_racing_for_fifty_slots_get_exactly_fifty)");
    // Each round: 16 processes started together on a path that does not
    // exist yet, each registering its own instance. Whoever creates the
    // file, none may fail or lose its event.
    for round in 0..3 {
        let ledger = Ledger::new();
        assert!(!ledger.db.exists());
        let children: Vec<_> = (0..16)
            .map(|i| {
                let id = format!("new-{i:02}");
                let child = ledger
                    .command_as(&format!("w{i}"), NOW)
                    .args(instance_add_args(
                        &id,
                        "ecs",
                        "acme",
                        &["--public-ip", "47.96.10.21"],
                    ))
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap();
                (id, child)
            })
            .collect();
        for (id, child) in children {
            let output = child.wait_with_output().unwrap();
            assert_eq!(
                output.status.code(),
                Some(0),
                "round {round}: instance add {id}: {}",
                stderr(&output)
            );
        }
        let report = ledger.json(&["verify"]);
        assert_eq!(report["ok"], Value::Bool(true), "round {round}: {report}");
        assert_eq!(report["events"], 16, "round {round}: {report}");
        let events = ledger.events(&[]);
        let added: BTreeSet<String> = events
            .iter()
            .map(|e| e["payload"]["instance_id"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(added.len(), 16, "round {round}: every instance once");
        for (i, event) in events.iter().enumerate() {
            assert_eq!(event["seq"], (i + 1) as i64, "round {round}: no gap in seq");
        }
        let listed = ledger.json(&["instance", "list"]);
        assert_eq!(listed.as_array().unwrap().len(), 16);
        let mode = mode(&ledger.db);
        assert_eq!(mode, 0o600, "round {round}: mode {mode:o}");
    }
}
