//! Issue 5: CSV in and out (docs/guide.md "CSV files"): `import
//! instances|ops|history`, `export instances|numbers|history`, all-or-nothing
//! imports with per-row failures, BOM/CRLF, dry runs, idempotent re-runs, the
//! history round trip, spreadsheet-formula neutralisation and a 200,000-row
//! import.

use crate::common::*;
use crate::common::{CSV_ACTOR as ACTOR, CSV_NOW as NOW};
use serde_json::Value;
use std::collections::BTreeSet;

const ALL_OPS: [&str; 11] = [
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
];

/// A ledger holding the bundled sample instances.
fn sample_ledger() -> Ledger {
    let ledger = Ledger::with(NOW, ACTOR);
    ledger.import_samples();
    ledger
}

/// A ledger with the sample instances and the sample ops applied.
fn sample_ledger_with_ops() -> Ledger {
    let ledger = sample_ledger();
    ledger.import_sample_ops();
    ledger
}

/// Translates one ops row (by column name) into the single command that does
/// the same, for comparing `import ops` with the commands one by one.
fn single_command(header: &[String], row: &[String]) -> Vec<String> {
    let get = |name: &str| -> String {
        let index = header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("column {name}"));
        row.get(index).cloned().unwrap_or_default()
    };
    let mut args: Vec<String> = Vec::new();
    let flag = |args: &mut Vec<String>, flag: &str, column: &str| {
        let value = get(column);
        if !value.is_empty() {
            args.push(flag.to_string());
            args.push(value);
        }
    };
    match get("op").as_str() {
        "allocate" => {
            args.extend(["allocate".to_string(), get("instance_id")]);
            flag(&mut args, "--number", "number");
            flag(&mut args, "--account", "account");
            flag(&mut args, "--count", "count");
            flag(&mut args, "--request-id", "request_id");
        }
        "select" => {
            args.extend(["select".to_string(), get("instance_id")]);
            flag(&mut args, "--service", "service");
            flag(&mut args, "--account", "account");
        }
        "grant" => {
            args.extend(["grant".to_string(), get("number")]);
            flag(&mut args, "--to", "to_account");
            flag(&mut args, "--account", "account");
            flag(&mut args, "--note", "reason");
        }
        "bind" => {
            args.extend(["bind".to_string(), get("number")]);
            flag(&mut args, "--service", "service");
            flag(&mut args, "--account", "account");
        }
        "submit" => args.extend(["submit".to_string(), get("number")]),
        "approve" => {
            args.extend(["approve".to_string(), get("number")]);
            flag(&mut args, "--icp-number", "icp_number");
        }
        "reject" | "deregister" | "invalidate" => {
            args.extend([get("op"), get("number")]);
            flag(&mut args, "--reason", "reason");
        }
        "renew" => {
            args.extend([
                "instance".to_string(),
                "renew".to_string(),
                get("instance_id"),
            ]);
            flag(&mut args, "--months", "months");
            flag(&mut args, "--expires", "expires_at");
        }
        "release" => args.extend([
            "instance".to_string(),
            "release".to_string(),
            get("instance_id"),
        ]),
        other => panic!("unknown op {other}"),
    }
    args
}

/// (kind, actor, at, payload with UUIDs masked) for each event.
fn comparable_history(ledger: &Ledger) -> Vec<(String, String, String, String)> {
    let events = ledger.events(&[]);
    let payloads: Vec<String> = events.iter().map(|e| e["payload"].to_string()).collect();
    let masked = mask_uuids(&payloads.join("\n"));
    events
        .iter()
        .zip(masked.split('\n'))
        .map(|(e, p)| {
            (
                e["kind"].as_str().unwrap().to_string(),
                e["actor"].as_str().unwrap().to_string(),
                e["at"].as_str().unwrap().to_string(),
                p.to_string(),
            )
        })
        .collect()
}

#[test]
fn sample_ops_file_covers_every_op_and_imports_cleanly() {
    let text = std::fs::read_to_string(repo_file("samples/ops.csv")).expect("samples/ops.csv");
    let rows = parse_csv(&text);
    assert_eq!(rows[0].join(","), OPS_HEADER, "the sample's header");
    let body = &rows[1..];
    let ops: BTreeSet<&str> = body.iter().map(|r| r[0].as_str()).collect();
    for op in ALL_OPS {
        assert!(ops.contains(op), "samples/ops.csv lacks op {op}");
    }
    let col = |name: &str| OPS_COLUMNS.iter().position(|c| *c == name).unwrap();
    assert!(
        body.iter()
            .any(|r| r[0] == "allocate" && !r[col("request_id")].is_empty()),
        "an allocate with a request id"
    );
    assert!(
        body.iter()
            .any(|r| r[0] == "allocate" && !r[col("number")].is_empty()),
        "an allocate with a provider number"
    );
    assert!(
        body.iter()
            .any(|r| r[0] == "allocate" && r[col("number")].is_empty()),
        "an allocate of generated numbers"
    );

    let ledger = sample_ledger();
    let before = ledger.verify_ok();
    let dry = ledger.json(&[
        "import".as_ref(),
        "ops".as_ref(),
        repo_file("samples/ops.csv").as_os_str(),
        "--dry-run".as_ref(),
    ]);
    assert_eq!(dry["dry_run"], Value::Bool(true));
    assert_eq!(ledger.verify_ok(), before, "the dry run wrote nothing");
    let report = ledger.json(&[
        "import".as_ref(),
        "ops".as_ref(),
        repo_file("samples/ops.csv").as_os_str(),
    ]);
    assert_eq!(report["rows"].as_u64(), Some(body.len() as u64));
    assert_eq!(
        report["events"].as_u64(),
        Some(body.len() as u64),
        "every sample row is one event"
    );
    assert_eq!(ledger.verify_ok(), before + body.len() as u64);
}

#[test]
fn every_op_through_import_ops_matches_the_single_commands() {
    let text = std::fs::read_to_string(repo_file("samples/ops.csv")).unwrap();
    let rows = parse_csv(&text);
    let imported = sample_ledger_with_ops();
    let single = sample_ledger();
    for row in &rows[1..] {
        let args = single_command(&rows[0], row);
        single.ok(&args);
    }
    assert_eq!(
        comparable_history(&imported),
        comparable_history(&single),
        "the same events, in the same order"
    );
    assert_eq!(imported.export("instances"), single.export("instances"));
    assert_eq!(
        mask_uuids(&String::from_utf8(imported.export("numbers")).unwrap()),
        mask_uuids(&String::from_utf8(single.export("numbers")).unwrap())
    );
    imported.verify_ok();

    // What each op did, read back.
    let n1 = imported.number("SN-HZ-WEB01-0001");
    assert_eq!(n1["status"], "filed");
    assert_eq!(
        n1["holder"], "green-apps",
        "granted twice, the last grantee holds it"
    );
    assert_eq!(n1["owner"], "acme-shop");
    assert_eq!(n1["service"], "app.green.example.cn");
    assert_eq!(n1["icp_number"], "浙ICP备12345678号-1");
    let n2 = imported.number("SN-HZ-WEB01-0002");
    assert_eq!(
        n2["status"], "invalid",
        "approved, deregistered, then invalidated"
    );
    assert_eq!(imported.number("SN-BJ-HOST-0001")["status"], "bound");
    assert_eq!(imported.number("SN-SH-SAS-0001")["status"], "invalid");
    assert_eq!(imported.number("SN-HZ-SHORT-0001")["status"], "unbound");
    let web01 = imported.instance("i-bp1web01");
    assert_eq!(
        web01["quota"]["consumed"], 4,
        "2 generated + 2 provider numbers"
    );
    assert_eq!(web01["quota"]["remaining"], 1);
    let web02 = imported.instance("i-bp1web02");
    assert_eq!(
        web02["quota"]["consumed"], 1,
        "direct selection consumes a slot"
    );
    assert_eq!(web02["numbers"][0]["origin"], "direct");
    assert_eq!(web02["numbers"][0]["service"], "shop.acme.example.com");
    assert_eq!(imported.instance("mall-88001")["quota"]["remaining"], 0);
    let short = imported.instance("i-bp1short08");
    assert_eq!(short["subscription_months"], 7);
    assert_eq!(short["expires_at"], "2027-07-15T16:00:00Z");
    assert_eq!(imported.instance("i-bp1old06")["state"], "released");
    let kinds: Vec<String> = imported
        .events(&[])
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_string())
        .collect();
    for kind in [
        "allocated",
        "selected",
        "granted",
        "bound",
        "submitted",
        "approved",
        "rejected",
        "deregistered",
        "invalidated",
        "instance_renewed",
        "instance_released",
    ] {
        assert!(kinds.iter().any(|k| k == kind), "no {kind} event");
    }
    let history = imported.events(&[]);
    let grants: Vec<&Value> = history.iter().filter(|e| e["kind"] == "granted").collect();
    assert_eq!(grants[0]["payload"]["from"], "acme-shop");
    assert_eq!(grants[0]["payload"]["to"], "blue-media");
    assert_eq!(
        grants[0]["payload"]["note"],
        "reseller hand-over (ticket 4471)"
    );
    assert_eq!(grants[1]["payload"]["from"], "blue-media");
    assert_eq!(grants[1]["payload"]["to"], "green-apps");
    let reject = history.iter().find(|e| e["kind"] == "rejected").unwrap();
    assert_eq!(
        reject["payload"]["reason"],
        "site title does not match the licence, resubmit"
    );
}

/// Runs a failing import on `ledger` and checks exit code, that stderr
/// names `line N: error[CODE]`, and that nothing changed.
fn assert_import_fails(
    ledger: &Ledger,
    kind: &str,
    content: &str,
    exit: i32,
    line: u64,
    code: &str,
) {
    let history = ledger.export_history();
    let instances = ledger.export("instances");
    let numbers = ledger.export("numbers");
    let file = ledger.write("bad.csv", content);
    let output = ledger.run(&["import".as_ref(), kind.as_ref(), file.as_os_str()]);
    assert_fails(&output, exit, code, &format!("import {kind} of\n{content}"));
    let wanted = format!("line {line}: error[{code}]");
    assert!(
        failure_lines(&output)
            .iter()
            .any(|l| l.starts_with(&wanted)),
        "stderr should have `{wanted}`:\n{}",
        stderr(&output)
    );
    assert_eq!(
        ledger.export_history(),
        history,
        "export history unchanged byte for byte"
    );
    assert_eq!(ledger.export("instances"), instances);
    assert_eq!(ledger.export("numbers"), numbers);
}

/// Two good rows first, so that a failure must roll them back.
fn good_rows() -> Vec<String> {
    vec![
        ops_row(&[
            ("op", "allocate"),
            ("instance_id", "i-bp1web02"),
            ("number", "SN-GOOD-0001"),
        ]),
        ops_row(&[
            ("op", "grant"),
            ("number", "SN-GOOD-0001"),
            ("to_account", "blue-media"),
        ]),
    ]
}

fn with_good_rows(bad: String) -> String {
    let mut rows = good_rows();
    rows.push(bad);
    ops_file(&rows)
}

#[test]
fn malformed_row_exits_2_with_its_line_and_changes_nothing() {
    let ledger = sample_ledger_with_ops();
    let bad_rows = [
        ops_row(&[
            ("op", "allocate"),
            ("instance_id", "i-bp1web02"),
            ("count", "two"),
        ]),
        ops_row(&[("op", "explode"), ("instance_id", "i-bp1web02")]),
        "allocate,i-bp1web02\n".to_string(),
        "allocate,i-bp1web02,,,,,,,,,,,,,\n".to_string(),
        ops_row(&[
            ("op", "renew"),
            ("instance_id", "i-bp1web02"),
            ("months", "3"),
            ("expires_at", "2029-02-30T00:00:00Z"),
        ]),
        ops_row(&[
            ("op", "renew"),
            ("instance_id", "i-bp1web02"),
            ("months", "three"),
            ("expires_at", "2030-01-01T00:00:00Z"),
        ]),
        ops_row(&[
            ("op", "bind"),
            ("number", "SN-GOOD-0001"),
            ("account", "blue-media"),
        ]),
        ops_row(&[
            ("op", "grant"),
            ("number", "SN_BAD_0001"),
            ("to_account", "blue-media"),
        ]),
        ops_row(&[
            ("op", "grant"),
            ("number", "SN-GOOD-0001"),
            ("to_account", "bad account"),
        ]),
        ops_row(&[("op", "allocate"), ("instance_id", "i bp1web02")]),
        ops_row(&[
            ("op", "reject"),
            ("number", "SN-GOOD-0001"),
            ("reason", " padded "),
        ]),
        ops_row(&[("op", "submit")]),
        ops_row(&[("op", "")]),
        "allocate,\"i-bp1web02,,,,,,,,,,\n".to_string(),
    ];
    for bad in bad_rows {
        assert_import_fails(&ledger, "ops", &with_good_rows(bad), 2, 4, "usage");
    }
}

#[test]
fn unknown_instance_or_number_exits_3_with_its_line_and_changes_nothing() {
    let ledger = sample_ledger_with_ops();
    let bad_rows = [
        ops_row(&[("op", "allocate"), ("instance_id", "i-nowhere")]),
        ops_row(&[
            ("op", "select"),
            ("instance_id", "i-nowhere"),
            ("service", "x.example.com"),
        ]),
        ops_row(&[
            ("op", "grant"),
            ("number", "SN-NOPE-0001"),
            ("to_account", "blue-media"),
        ]),
        ops_row(&[
            ("op", "bind"),
            ("number", "SN-NOPE-0001"),
            ("account", "acme-shop"),
            ("service", "x.example.com"),
        ]),
        ops_row(&[("op", "submit"), ("number", "SN-NOPE-0001")]),
        ops_row(&[
            ("op", "approve"),
            ("number", "SN-NOPE-0001"),
            ("icp_number", "浙ICP备1号"),
        ]),
        ops_row(&[
            ("op", "reject"),
            ("number", "SN-NOPE-0001"),
            ("reason", "no"),
        ]),
        ops_row(&[("op", "deregister"), ("number", "SN-NOPE-0001")]),
        ops_row(&[
            ("op", "invalidate"),
            ("number", "SN-NOPE-0001"),
            ("reason", "no"),
        ]),
        ops_row(&[
            ("op", "renew"),
            ("instance_id", "i-nowhere"),
            ("months", "3"),
            ("expires_at", "2030-01-01T00:00:00Z"),
        ]),
        ops_row(&[("op", "release"), ("instance_id", "i-nowhere")]),
    ];
    for bad in bad_rows {
        assert_import_fails(&ledger, "ops", &with_good_rows(bad), 3, 4, "not_found");
    }
}

#[test]
fn an_ops_row_filling_a_column_its_op_does_not_take_is_refused_and_named() {
    let ledger = sample_ledger_with_ops();
    let grant = ops_row(&[
        ("op", "grant"),
        ("instance_id", "i-bp1web02"),
        ("number", "SN-GOOD-0001"),
        ("count", "2"),
        ("to_account", "green-apps"),
        ("months", "12"),
    ]);
    assert_import_fails(
        &ledger,
        "ops",
        &with_good_rows(grant.clone()),
        2,
        4,
        "usage",
    );
    let file = ledger.write("extra-columns.csv", with_good_rows(grant));
    let output = ledger.run(&["import".as_ref(), "ops".as_ref(), file.as_os_str()]);
    let lines = failure_lines(&output);
    assert_eq!(lines.len(), 1, "{}", stderr(&output));
    assert!(lines[0].starts_with("line 4: error[usage]"), "{lines:?}");
    for column in ["instance_id", "count", "months"] {
        assert!(
            lines[0].contains(column),
            "the message should name {column}: {lines:?}"
        );
    }
    for column in ["number", "to_account"] {
        assert!(
            !lines[0].contains(&format!(" {column}")),
            "{column} is the grant's own column: {lines:?}"
        );
    }
    // Other ops with one stray column each.
    for bad in [
        ops_row(&[
            ("op", "submit"),
            ("number", "SN-GOOD-0001"),
            ("service", "x.example.com"),
        ]),
        ops_row(&[
            ("op", "allocate"),
            ("instance_id", "i-bp1web02"),
            ("to_account", "green-apps"),
        ]),
        ops_row(&[
            ("op", "release"),
            ("instance_id", "i-bp1web02"),
            ("months", "3"),
        ]),
        ops_row(&[
            ("op", "approve"),
            ("number", "SN-GOOD-0001"),
            ("icp_number", "浙ICP备1号"),
            ("expires_at", "2030-01-01T00:00:00Z"),
        ]),
    ] {
        assert_import_fails(&ledger, "ops", &with_good_rows(bad), 2, 4, "usage");
    }
    // The same grant with only its own columns goes through.
    let file = ledger.write(
        "own-columns.csv",
        with_good_rows(ops_row(&[
            ("op", "grant"),
            ("number", "SN-GOOD-0001"),
            ("to_account", "green-apps"),
        ])),
    );
    ledger.ok(&["import".as_ref(), "ops".as_ref(), file.as_os_str()]);
    assert_eq!(ledger.number("SN-GOOD-0001")["holder"], "green-apps");
}

#[test]
fn rule_refusal_exits_4_with_its_line_and_changes_nothing() {
    let ledger = sample_ledger_with_ops();
    let cases: [(String, &str); 15] = [
        (
            ops_row(&[("op", "allocate"), ("instance_id", "i-bp1tmp04")]),
            "pay_as_you_go",
        ),
        (
            ops_row(&[("op", "allocate"), ("instance_id", "i-hk1web07")]),
            "region_not_mainland",
        ),
        (
            ops_row(&[("op", "allocate"), ("instance_id", "i-bp1nop05")]),
            "no_public_ip",
        ),
        (
            ops_row(&[
                ("op", "allocate"),
                ("instance_id", "i-bp1web02"),
                ("count", "4"),
            ]),
            "quota_exhausted",
        ),
        (
            ops_row(&[
                ("op", "allocate"),
                ("instance_id", "i-bp1web02"),
                ("count", "21"),
            ]),
            "count_out_of_range",
        ),
        (
            ops_row(&[
                ("op", "allocate"),
                ("instance_id", "i-bp1web02"),
                ("count", "-3"),
            ]),
            "count_out_of_range",
        ),
        (
            ops_row(&[
                ("op", "allocate"),
                ("instance_id", "i-bp1web02"),
                ("count", "99999999999999999999"),
            ]),
            "count_out_of_range",
        ),
        (
            ops_row(&[
                ("op", "allocate"),
                ("instance_id", "i-bp1web02"),
                ("account", "blue-media"),
            ]),
            "not_owner",
        ),
        (
            ops_row(&[
                ("op", "bind"),
                ("number", "SN-GOOD-0001"),
                ("account", "acme-shop"),
                ("service", "x.example.com"),
            ]),
            "not_holder",
        ),
        (
            ops_row(&[("op", "submit"), ("number", "SN-GOOD-0001")]),
            "wrong_status",
        ),
        (
            ops_row(&[
                ("op", "bind"),
                ("number", "SN-GOOD-0001"),
                ("account", "blue-media"),
                ("service", "app.green.example.cn"),
            ]),
            "service_taken",
        ),
        (
            ops_row(&[
                ("op", "allocate"),
                ("instance_id", "i-bp1web02"),
                ("number", "SN-HZ-WEB01-0001"),
            ]),
            "already_exists",
        ),
        (
            ops_row(&[
                ("op", "allocate"),
                ("instance_id", "i-bp1web02"),
                ("request_id", "req-2026-11-mall"),
            ]),
            "request_conflict",
        ),
        (
            ops_row(&[("op", "release"), ("instance_id", "i-bp1old06")]),
            "released",
        ),
        (
            ops_row(&[
                ("op", "grant"),
                ("number", "SN-GOOD-0001"),
                ("to_account", "green-apps"),
                ("account", "blue-media"),
            ]),
            "not_owner",
        ),
    ];
    for (bad, code) in cases {
        assert_import_fails(&ledger, "ops", &with_good_rows(bad), 4, 4, code);
    }
}

#[test]
fn instances_import_failure_classes() {
    let ledger = sample_ledger();
    let file = |bad: &str| {
        format!(
            "{INSTANCES_HEADER}\n{}{}{bad}\n",
            ecs_row("i-new-1", "acme-shop"),
            ecs_row("i-new-2", "acme-shop")
        )
    };
    let usage = [
        "i-new-3,ecs,acme-shop,cn-hangzhou,monthly,12,2027-12-31T16:00:00Z,47.96.113.10,",
        "i-new-3,ecs,acme-shop,cn-hangzhou,subscription,-1,2027-12-31T16:00:00Z,47.96.113.10,",
        "i-new-3,ecs,acme-shop,cn-hangzhou,subscription,12,next year,47.96.113.10,",
        "i-new-3,ecs,acme-shop,cn-hangzhou,subscription,12,2027-12-31T16:00:00Z,999.1.1.1,",
        "i-new-3,ecs,acme-shop,cn-hangzhou,subscription,12,2027-12-31T16:00:00Z,47.96.113.10,-5",
        "i-new-3,ecs,acme shop,cn-hangzhou,subscription,12,2027-12-31T16:00:00Z,47.96.113.10,",
        "i-new-3,ecs,acme-shop,,subscription,12,2027-12-31T16:00:00Z,47.96.113.10,",
        "i-new-3,ecs,acme-shop",
    ];
    for bad in usage {
        assert_import_fails(&ledger, "instances", &file(bad), 2, 4, "usage");
    }
    assert_import_fails(
        &ledger,
        "instances",
        &file(ecs_row("i-bp1web01", "acme-shop").trim_end()),
        4,
        4,
        "already_exists",
    );
    assert_import_fails(
        &ledger,
        "instances",
        &file(ecs_row("i-new-1", "acme-shop").trim_end()),
        4,
        4,
        "already_exists",
    );
}

#[test]
fn rows_are_validated_in_file_order_as_if_applied() {
    let ledger = sample_ledger();
    // Each row depends on the ones before it.
    let rows = vec![
        ops_row(&[
            ("op", "allocate"),
            ("instance_id", "i-bp1web01"),
            ("number", "SN-ORDER-0001"),
        ]),
        ops_row(&[
            ("op", "grant"),
            ("number", "SN-ORDER-0001"),
            ("to_account", "blue-media"),
        ]),
        ops_row(&[
            ("op", "bind"),
            ("number", "SN-ORDER-0001"),
            ("account", "blue-media"),
            ("service", "order.example.com"),
        ]),
        ops_row(&[("op", "submit"), ("number", "SN-ORDER-0001")]),
    ];
    let file = ledger.write("ordered.csv", ops_file(&rows));
    ledger.ok(&["import".as_ref(), "ops".as_ref(), file.as_os_str()]);
    assert_eq!(ledger.number("SN-ORDER-0001")["status"], "filing");
    // The same rows in another order fail where a row needs a later one.
    let ledger = sample_ledger();
    let swapped = vec![
        rows[0].clone(),
        rows[2].clone(),
        rows[1].clone(),
        rows[3].clone(),
    ];
    assert_import_fails(&ledger, "ops", &ops_file(&swapped), 4, 3, "not_holder");
    // The fifth slot of an instance: the file's own allocations count.
    let mut fill = Vec::new();
    for k in 0..6 {
        fill.push(ops_row(&[
            ("op", "allocate"),
            ("instance_id", "i-bp1web02"),
            ("number", &format!("SN-FILL-000{k}")),
        ]));
    }
    assert_import_fails(&ledger, "ops", &ops_file(&fill), 4, 7, "quota_exhausted");
    // A number recorded twice in one file.
    let twice = vec![fill[0].clone(), fill[0].clone()];
    assert_import_fails(&ledger, "ops", &ops_file(&twice), 4, 3, "already_exists");
}

#[test]
fn several_failing_rows_are_listed_and_the_first_failure_sets_the_exit_code() {
    let ledger = sample_ledger_with_ops();
    let before = ledger.export_history();
    let rows = vec![
        ops_row(&[
            ("op", "allocate"),
            ("instance_id", "i-bp1web02"),
            ("number", "SN-MANY-0001"),
        ]),
        ops_row(&[
            ("op", "grant"),
            ("number", "SN-NOPE-0001"),
            ("to_account", "blue-media"),
        ]),
        ops_row(&[
            ("op", "allocate"),
            ("instance_id", "i-bp1web02"),
            ("count", "x"),
        ]),
        ops_row(&[
            ("op", "allocate"),
            ("instance_id", "i-bp1web02"),
            ("account", "blue-media"),
        ]),
        ops_row(&[
            ("op", "grant"),
            ("number", "SN-MANY-0001"),
            ("to_account", "green-apps"),
        ]),
        ops_row(&[("op", "submit"), ("number", "SN-MANY-0001")]),
    ];
    let file = ledger.write("many.csv", ops_file(&rows));
    let output = ledger.run(&["import".as_ref(), "ops".as_ref(), file.as_os_str()]);
    assert_eq!(
        output.status.code(),
        Some(3),
        "the first failing row (line 3) is not_found: {}",
        stderr(&output)
    );
    let lines = failure_lines(&output);
    let starts: Vec<&str> = lines
        .iter()
        .map(|l| l.split(": error[").next().unwrap())
        .collect();
    assert_eq!(
        starts,
        ["line 3", "line 4", "line 5", "line 7"],
        "{}",
        stderr(&output)
    );
    assert!(lines[0].contains("error[not_found]"));
    assert!(lines[1].contains("error[usage]"));
    assert!(lines[2].contains("error[not_owner]"));
    assert!(lines[3].contains("error[wrong_status]"));
    assert_eq!(ledger.export_history(), before);

    // With --format json the failures are one JSON object on stderr.
    let output = ledger.run(&[
        "--format".as_ref(),
        "json".as_ref(),
        "import".as_ref(),
        "ops".as_ref(),
        file.as_os_str(),
    ]);
    assert_eq!(output.status.code(), Some(3));
    let value: Value =
        serde_json::from_str(stderr(&output).trim()).expect("one JSON object on stderr");
    assert_eq!(value["error"]["code"], "not_found");
}

#[test]
fn failures_are_listed_for_the_first_100_rows_then_counted() {
    let ledger = sample_ledger();
    let before = ledger.export_history();
    let rows: Vec<String> = (0..150)
        .map(|i| {
            ops_row(&[
                ("op", "grant"),
                ("number", &format!("SN-NOPE-{i:04}")),
                ("to_account", "blue-media"),
            ])
        })
        .collect();
    let file = ledger.write("150.csv", ops_file(&rows));
    let output = ledger.run(&["import".as_ref(), "ops".as_ref(), file.as_os_str()]);
    assert_eq!(output.status.code(), Some(3));
    let lines = failure_lines(&output);
    assert_eq!(
        lines.len(),
        100,
        "exactly the first 100 failing rows are listed"
    );
    for (i, line) in lines.iter().enumerate() {
        assert!(
            line.starts_with(&format!("line {}: error[not_found]", i + 2)),
            "{line}"
        );
    }
    let err = stderr(&output);
    assert!(!err.contains("line 102:"), "row 101 is not listed");
    assert!(
        err.contains("50 more"),
        "then a count of the other 50: {err}"
    );
    assert_eq!(ledger.export_history(), before);

    // Exactly 100 failures: all listed, no count line.
    let file = ledger.write("100.csv", ops_file(&rows[..100]));
    let output = ledger.run(&["import".as_ref(), "ops".as_ref(), file.as_os_str()]);
    assert_eq!(failure_lines(&output).len(), 100);
    assert!(
        !stderr(&output).contains("more failing"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn line_numbers_count_blank_lines_and_multi_line_fields() {
    let ledger = sample_ledger();
    let before = ledger.export_history();
    let content = format!(
        "{OPS_HEADER}\n{}\n{}{}\n\n{}",
        ops_row(&[
            ("op", "allocate"),
            ("instance_id", "i-bp1web01"),
            ("number", "SN-LINE-0001")
        ])
        .trim_end(),
        // lines 3-4: a quoted note over two lines (a control character: usage)
        ops_row(&[
            ("op", "grant"),
            ("number", "SN-LINE-0001"),
            ("to_account", "blue-media"),
            ("reason", "two\nlines")
        ]),
        ops_row(&[
            ("op", "grant"),
            ("number", "SN-LINE-0001"),
            ("to_account", "blue-media")
        ])
        .trim_end(),
        // line 7, after a blank line 6
        ops_row(&[("op", "submit"), ("number", "SN-LINE-0001")]),
    );
    let file = ledger.write("lines.csv", &content);
    let output = ledger.run(&["import".as_ref(), "ops".as_ref(), file.as_os_str()]);
    let starts: Vec<String> = failure_lines(&output)
        .iter()
        .map(|l| l.split(": error[").next().unwrap().to_string())
        .collect();
    assert_eq!(starts, ["line 3", "line 7"], "{}", stderr(&output));
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(ledger.export_history(), before);

    // Blank lines alone are skipped.
    let content = format!(
        "{OPS_HEADER}\n\n{}\n\n{}\n",
        ops_row(&[
            ("op", "allocate"),
            ("instance_id", "i-bp1web01"),
            ("number", "SN-LINE-0002")
        ])
        .trim_end(),
        ops_row(&[
            ("op", "grant"),
            ("number", "SN-LINE-0002"),
            ("to_account", "blue-media")
        ])
        .trim_end()
    );
    let file = ledger.write("blank.csv", content);
    let report = ledger.json(&["import".as_ref(), "ops".as_ref(), file.as_os_str()]);
    assert_eq!(report["rows"], 2);
    assert_eq!(report["events"], 2);
    assert_eq!(ledger.number("SN-LINE-0002")["holder"], "blue-media");
}

#[test]
fn a_record_longer_than_1_mib_is_refused_at_its_line_and_changes_nothing() {
    // A 50 MB field (a runaway quote does the same): refused at line 2 with
    // bounded memory, whatever follows it.
    let field = "7".repeat(50 << 20);
    let ledger = sample_ledger();
    let empty = Ledger::with(NOW, ACTOR);
    empty.ok(&["init"]);
    let cases = [
        (
            &ledger,
            "instances",
            format!(
                "{INSTANCES_HEADER}\ni-huge,ecs,acme-shop,cn-hangzhou,subscription,12,2027-12-31T16:00:00Z,{field},\n{}",
                ecs_row("i-after-huge", "acme-shop")
            ),
        ),
        (
            &ledger,
            "ops",
            format!(
                "{OPS_HEADER}\ninvalidate,,SN-X-0001,,,,,,{field},,,\n{}",
                ops_row(&[("op", "allocate"), ("instance_id", "i-bp1web01")])
            ),
        ),
        (
            &empty,
            "history",
            format!("{HISTORY_HEADER}\n1,{field},2026-01-01T00:00:00Z,a,policy_set,{{}},0,0\n"),
        ),
    ];
    for (target, kind, content) in cases {
        let history = target.export_history();
        let instances = target.export("instances");
        let file = target.write(&format!("huge-{kind}.csv"), content);
        assert!(std::fs::metadata(&file).unwrap().len() > 50_000_000);
        let output = target.run(&["import".as_ref(), kind.as_ref(), file.as_os_str()]);
        assert_fails(
            &output,
            2,
            "usage",
            &format!("import {kind} of a 50 MB field"),
        );
        let lines = failure_lines(&output);
        assert!(
            lines
                .first()
                .is_some_and(|l| l.starts_with("line 2: error[usage]")),
            "{kind}: {lines:?}"
        );
        assert!(
            output.stderr.len() < 64 * 1024,
            "{kind}: the field is not echoed back ({} bytes of stderr)",
            output.stderr.len()
        );
        assert_eq!(target.export_history(), history, "{kind}: ledger unchanged");
        assert_eq!(target.export("instances"), instances);
    }
    let output = ledger.run(&["instance", "show", "i-after-huge"]);
    assert_fails(
        &output,
        3,
        "not_found",
        "nothing after the huge row applied",
    );
    ledger.verify_ok();
    assert_eq!(empty.verify_ok(), 0);
}

#[test]
fn line_numbers_are_exact_after_crlf_blank_lines_and_one_byte_rows() {
    let ledger = sample_ledger();
    let before = ledger.export_history();
    let good = ecs_row("i-line-ok", "acme-shop");
    let good = good.trim_end();
    let bad_billing =
        "i-line-b,ecs,acme-shop,cn-hangzhou,bogus,12,2027-12-31T16:00:00Z,47.96.113.10,";
    let bad_months =
        "i-line-m,ecs,acme-shop,cn-hangzhou,subscription,x,2027-12-31T16:00:00Z,47.96.113.10,";
    let starts = |output: &std::process::Output| -> Vec<String> {
        failure_lines(output)
            .iter()
            .map(|l| l.split(": error[").next().unwrap().to_string())
            .collect()
    };
    // CRLF, blank lines right after the header, in pairs and before the end.
    let crlf_lines = [
        INSTANCES_HEADER, // 1
        "",               // 2
        bad_billing,      // 3
        good,             // 4
        "",               // 5
        "",               // 6
        bad_months,       // 7
        "",               // 8
        "x",              // 9
        "",               // 10
    ];
    let content = crlf_lines.join("\r\n") + "\r\n";
    let file = ledger.write("crlf-blank.csv", &content);
    let output = ledger.run(&["import".as_ref(), "instances".as_ref(), file.as_os_str()]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert_eq!(
        starts(&output),
        ["line 3", "line 7", "line 9"],
        "{}",
        stderr(&output)
    );
    // LF, a one-byte row after a blank line, twice, then a bad row.
    let lf_lines = [
        INSTANCES_HEADER, // 1
        good,             // 2
        "",               // 3
        "x",              // 4
        "",               // 5
        "",               // 6
        "x",              // 7
        bad_months,       // 8
    ];
    let content = lf_lines.join("\n") + "\n";
    let file = ledger.write("lf-one-byte.csv", &content);
    let output = ledger.run(&["import".as_ref(), "instances".as_ref(), file.as_os_str()]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert_eq!(
        starts(&output),
        ["line 4", "line 7", "line 8"],
        "{}",
        stderr(&output)
    );
    // The same shapes in an ops file.
    let allocate = ops_row(&[
        ("op", "allocate"),
        ("instance_id", "i-bp1web01"),
        ("number", "SN-CRLF-0001"),
    ]);
    let explode = ops_row(&[("op", "explode"), ("instance_id", "i-bp1web01")]);
    let ops_lines = [
        OPS_HEADER,          // 1
        allocate.trim_end(), // 2
        "",                  // 3
        "",                  // 4
        explode.trim_end(),  // 5
        "",                  // 6
        "x",                 // 7
    ];
    for (name, separator) in [("CRLF", "\r\n"), ("LF", "\n")] {
        let content = ops_lines.join(separator) + separator;
        let file = ledger.write("ops-lines.csv", &content);
        let output = ledger.run(&["import".as_ref(), "ops".as_ref(), file.as_os_str()]);
        assert_eq!(output.status.code(), Some(2), "{name}: {}", stderr(&output));
        assert_eq!(
            starts(&output),
            ["line 5", "line 7"],
            "{name}: {}",
            stderr(&output)
        );
    }
    assert_eq!(ledger.export_history(), before);
}

#[test]
fn header_only_file_imports_nothing_and_empty_file_is_refused() {
    let ledger = sample_ledger();
    let before = ledger.export_history();
    for (kind, header) in [("instances", INSTANCES_HEADER), ("ops", OPS_HEADER)] {
        let file = ledger.write("header.csv", format!("{header}\n"));
        let report = ledger.json(&["import".as_ref(), kind.as_ref(), file.as_os_str()]);
        assert_eq!(report["rows"], 0);
        let file = ledger.write("empty.csv", "");
        let output = ledger.run(&["import".as_ref(), kind.as_ref(), file.as_os_str()]);
        assert_fails(&output, 2, "usage", "empty file");
    }
    assert_eq!(ledger.export_history(), before);
}

fn variants(text: &str) -> Vec<(&'static str, Vec<u8>)> {
    let crlf = text.replace('\n', "\r\n");
    vec![
        ("LF", text.as_bytes().to_vec()),
        (
            "BOM+LF",
            [b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat(),
        ),
        ("CRLF", crlf.as_bytes().to_vec()),
        (
            "BOM+CRLF",
            [b"\xEF\xBB\xBF".as_slice(), crlf.as_bytes()].concat(),
        ),
        ("CRLF no final newline", crlf.trim_end().as_bytes().to_vec()),
    ]
}

#[test]
fn bom_and_crlf_files_import_exactly_like_plain_ones() {
    let instances = std::fs::read_to_string(repo_file("samples/instances.csv")).unwrap();
    let ops = std::fs::read_to_string(repo_file("samples/ops.csv")).unwrap();
    let reference = sample_ledger_with_ops();
    let want_instances = reference.export("instances");
    let want_numbers = mask_uuids(&String::from_utf8(reference.export("numbers")).unwrap());
    let want_history = comparable_history(&reference);
    for ((name, instance_bytes), (_, ops_bytes)) in
        variants(&instances).into_iter().zip(variants(&ops))
    {
        let ledger = Ledger::with(NOW, ACTOR);
        let file = ledger.write("instances.csv", &instance_bytes);
        ledger.ok(&["import".as_ref(), "instances".as_ref(), file.as_os_str()]);
        let file = ledger.write("ops.csv", &ops_bytes);
        ledger.ok(&["import".as_ref(), "ops".as_ref(), file.as_os_str()]);
        assert_eq!(
            ledger.export("instances"),
            want_instances,
            "{name}: instances"
        );
        assert_eq!(
            mask_uuids(&String::from_utf8(ledger.export("numbers")).unwrap()),
            want_numbers,
            "{name}: numbers"
        );
        assert_eq!(comparable_history(&ledger), want_history, "{name}: history");
        ledger.verify_ok();
    }
    // A history export with a BOM and CRLF imports to the same chain.
    let history = String::from_utf8(reference.export_history()).unwrap();
    for (name, bytes) in variants(&history) {
        let target = Ledger::with(NOW, ACTOR);
        let file = target.write("history.csv", &bytes);
        target.ok(&["import".as_ref(), "history".as_ref(), file.as_os_str()]);
        assert_eq!(
            target.export_history(),
            history.as_bytes(),
            "{name}: history round trip"
        );
    }
}

#[test]
fn missing_and_unknown_columns_are_named() {
    let ledger = sample_ledger();
    let before = ledger.export_history();
    let check = |kind: &str, content: String, names: &[&str]| {
        let file = ledger.write("columns.csv", &content);
        let output = ledger.run(&["import".as_ref(), kind.as_ref(), file.as_os_str()]);
        assert_fails(&output, 2, "usage", &format!("{kind}: {content}"));
        let err = stderr(&output);
        for name in names {
            assert!(
                names_word(&err, name),
                "the message names column {name}: {err}"
            );
        }
    };
    check(
        "instances",
        "instance_id,service_type,account,billing,subscription_months,public_ip\ni-x,ecs,acme-shop,subscription,12,\n".into(),
        &["region", "expires_at"],
    );
    check(
        "instances",
        format!(
            "{INSTANCES_HEADER},colour\n{}",
            ecs_row("i-x", "acme-shop").trim_end().to_string() + ",blue\n"
        ),
        &["colour"],
    );
    check("ops", format!("{OPS_HEADER},comment\n"), &["comment"]);
    check("ops", "instance_id,number\ni-bp1web01,\n".into(), &["op"]);
    check(
        "ops",
        "op,instance,count\nallocate,i-bp1web01,1\n".into(),
        &["instance"],
    );
    assert_eq!(ledger.export_history(), before);
    // (import history needs an empty ledger)
    let empty = Ledger::with(NOW, ACTOR);
    for (content, name) in [
        (
            "seq,event_id,at,actor,kind,payload,prev_hash\n".to_string(),
            "hash",
        ),
        (format!("{HISTORY_HEADER},extra\n"), "extra"),
    ] {
        let file = empty.write("history.csv", &content);
        let output = empty.run(&["import".as_ref(), "history".as_ref(), file.as_os_str()]);
        assert_fails(&output, 2, "usage", &content);
        assert!(
            names_word(&stderr(&output), name),
            "the message names column {name}: {}",
            stderr(&output)
        );
    }
    empty.assert_still_empty();

    // Columns are found by name, in any order; a missing optional one is fine.
    let file = ledger.write(
        "reordered.csv",
        "account,instance_id,region,service_type,expires_at,billing,subscription_months\nacme-shop,i-re-1,cn-hangzhou,cloud_web_hosting,2027-12-31T16:00:00Z,subscription,12\n",
    );
    ledger.ok(&["import".as_ref(), "instances".as_ref(), file.as_os_str()]);
    let instance = ledger.instance("i-re-1");
    assert_eq!(instance["account"], "acme-shop");
    assert_eq!(instance["service_type"], "cloud_web_hosting");
    assert_eq!(instance["expires_at"], "2027-12-31T16:00:00Z");
    let file = ledger.write(
        "ops-reordered.csv",
        "number,op,instance_id\nSN-RE-0001,allocate,i-re-1\n",
    );
    ledger.ok(&["import".as_ref(), "ops".as_ref(), file.as_os_str()]);
    assert_eq!(ledger.number("SN-RE-0001")["instance_id"], "i-re-1");
}

#[test]
fn dry_run_reports_and_writes_nothing() {
    sqlite_only!("compares the SQLite file's bytes");
    let ledger = sample_ledger();
    let snapshot = |l: &Ledger| {
        (
            l.export_history(),
            l.export("instances"),
            l.export("numbers"),
            std::fs::read(&l.db).unwrap(),
        )
    };
    let before = snapshot(&ledger);

    let extra = ledger.write(
        "extra.csv",
        format!(
            "{INSTANCES_HEADER}\n{}{}",
            ecs_row("i-dry-1", "acme-shop"),
            ecs_row("i-dry-2", "acme-shop")
        ),
    );
    let report = ledger.json(&[
        "import".as_ref(),
        "instances".as_ref(),
        extra.as_os_str(),
        "--dry-run".as_ref(),
    ]);
    assert_eq!(
        (
            report["rows"].as_u64(),
            report["events"].as_u64(),
            report["dry_run"].as_bool()
        ),
        (Some(2), Some(2), Some(true))
    );
    let text = ledger.ok(&[
        "import".as_ref(),
        "instances".as_ref(),
        extra.as_os_str(),
        "--dry-run".as_ref(),
    ]);
    assert!(
        text.contains("would apply"),
        "the table output says what would happen: {text}"
    );
    assert!(
        snapshot(&ledger) == before,
        "import instances --dry-run changed the ledger"
    );

    let report = ledger.json(&[
        "import".as_ref(),
        "ops".as_ref(),
        repo_file("samples/ops.csv").as_os_str(),
        "--dry-run".as_ref(),
    ]);
    assert_eq!(report["dry_run"], true);
    assert_eq!(report["events"], 24);
    assert!(
        snapshot(&ledger) == before,
        "import ops --dry-run changed the ledger"
    );

    // A failing dry run reports the failure like a real run.
    let bad = ledger.write(
        "bad.csv",
        ops_file(&[ops_row(&[
            ("op", "grant"),
            ("number", "SN-NOPE-0001"),
            ("to_account", "x"),
        ])]),
    );
    let output = ledger.run(&[
        "import".as_ref(),
        "ops".as_ref(),
        bad.as_os_str(),
        "--dry-run".as_ref(),
    ]);
    assert_fails(&output, 3, "not_found", "dry run of a bad file");
    assert!(failure_lines(&output)[0].starts_with("line 2: error[not_found]"));
    assert!(snapshot(&ledger) == before);

    // import history --dry-run into an empty ledger leaves it empty.
    let history = ledger.write("history.csv", ledger.export_history());
    let empty = Ledger::with(NOW, ACTOR);
    empty.ok(&["init"]);
    let report = empty.json(&[
        "import".as_ref(),
        "history".as_ref(),
        history.as_os_str(),
        "--dry-run".as_ref(),
    ]);
    assert_eq!(report["events"], 16);
    assert_eq!(empty.verify_ok(), 0);
    // ... and the real import still works afterwards.
    empty.ok(&["import".as_ref(), "history".as_ref(), history.as_os_str()]);
    assert_eq!(empty.export_history(), ledger.export_history());
}

#[test]
fn rerun_of_an_allocate_only_ops_file_with_request_ids_allocates_nothing_new() {
    let ledger = sample_ledger();
    let rows = vec![
        ops_row(&[
            ("op", "allocate"),
            ("instance_id", "i-bp1web01"),
            ("count", "2"),
            ("request_id", "rr-1"),
        ]),
        ops_row(&[
            ("op", "allocate"),
            ("instance_id", "i-bp1web02"),
            ("number", "SN-RR-0001"),
            ("request_id", "rr-2"),
        ]),
        ops_row(&[
            ("op", "allocate"),
            ("instance_id", "mall-88001"),
            ("account", "green-apps"),
            ("count", "2"),
            ("request_id", "rr-3"),
        ]),
        ops_row(&[
            ("op", "allocate"),
            ("instance_id", "hosting-bj-001"),
            ("count", "1"),
            ("number", "SN-RR-0002"),
            ("request_id", "rr-4"),
        ]),
        ops_row(&[
            ("op", "allocate"),
            ("instance_id", "ens-gz-0031"),
            ("request_id", "rr-5"),
        ]),
        // The same request again in the same file: nothing new either.
        ops_row(&[
            ("op", "allocate"),
            ("instance_id", "ens-gz-0031"),
            ("request_id", "rr-5"),
        ]),
    ];
    let file = ledger.write("alloc.csv", ops_file(&rows));
    let first = ledger.json(&["import".as_ref(), "ops".as_ref(), file.as_os_str()]);
    assert_eq!(
        first["events"], 5,
        "the repeated request id in the file appends nothing"
    );
    let history = ledger.export_history();
    let numbers = ledger.export("numbers");
    assert_eq!(
        parse_csv(&String::from_utf8(numbers.clone()).unwrap()).len(),
        1 + 7
    );
    for _ in 0..2 {
        let again = ledger.json(&["import".as_ref(), "ops".as_ref(), file.as_os_str()]);
        assert_eq!(again["rows"], 6);
        assert_eq!(again["events"], 0, "a re-run allocates nothing new");
        assert_eq!(ledger.export_history(), history);
        assert_eq!(ledger.export("numbers"), numbers);
    }
    // The same key with other parameters is a conflict on its line.
    let mut changed = rows.clone();
    changed[2] = ops_row(&[
        ("op", "allocate"),
        ("instance_id", "mall-88001"),
        ("account", "green-apps"),
        ("count", "1"),
        ("request_id", "rr-3"),
    ]);
    assert_import_fails(
        &ledger,
        "ops",
        &ops_file(&changed),
        4,
        4,
        "request_conflict",
    );
    ledger.verify_ok();
}

/// A ledger that has used every command, with times moving forward and
/// free text that looks like spreadsheet formulas.
fn ledger_using_every_command() -> Ledger {
    let ledger = Ledger::with(NOW, ACTOR);
    let mut minute = 0;
    let mut at = || {
        minute += 1;
        format!("2026-11-23T12:{minute:02}:00Z")
    };
    ledger.ok_at(&at(), &["init"]);
    ledger.ok_at(
        &at(),
        &[
            "import".as_ref(),
            "instances".as_ref(),
            repo_file("samples/instances.csv").as_os_str(),
        ],
    );
    ledger.ecs_at(
        &at(),
        "i-rt-01",
        "acme-shop",
        "2027-12-31T16:00:00+08:00",
        "240e:3b4::7",
    );
    ledger.add_instance_at(
        &at(),
        "iot-rt-02",
        "iot_studio",
        "redriver-iot",
        &[
            "--region",
            "cn-shanghai",
            "--expires",
            "2027-12-31",
            "--order-amount",
            "90.5",
        ],
    );
    ledger.ok_at(&at(), &["policy", "set", "linkedmall", "--max", "3"]);
    ledger.ok_at(
        &at(),
        &["policy", "set", "iot_studio", "--min-order-amount", "none"],
    );
    ledger.ok_at(
        &at(),
        &[
            "allocate",
            "i-bp1web01",
            "--count",
            "3",
            "--request-id",
            "=req(1)",
        ],
    );
    ledger.ok_at(
        &at(),
        &[
            "allocate",
            "i-bp1web01",
            "--number",
            "SN-RT-0001",
            "--number",
            "SN-RT-0002",
        ],
    );
    ledger.ok_at(
        &at(),
        &[
            "allocate",
            "mall-88001",
            "--account",
            "green-apps",
            "--count",
            "3",
        ],
    );
    ledger.ok_at(&at(), &["allocate", "i-rt-01", "--number=-RT-0003"]);
    ledger.ok_at(
        &at(),
        &[
            "select",
            "i-bp1web02",
            "--service",
            "=HYPERLINK(\"http://evil\")",
        ],
    );
    ledger.ok_at(
        &at(),
        &["grant", "SN-RT-0001", "--to", "blue-media", "--note=-1+1"],
    );
    ledger.ok_at(
        &at(),
        &[
            "grant",
            "SN-RT-0001",
            "--to",
            "green-apps",
            "--account",
            "acme-shop",
            "--note",
            "@SUM(A1)",
        ],
    );
    ledger.bind_at(&at(), "SN-RT-0001", "+1", "green-apps");
    ledger.ok_at(&at(), &["submit", "SN-RT-0001"]);
    ledger.ok_at(
        &at(),
        &[
            "reject",
            "SN-RT-0001",
            "--reason",
            "=1+1, \"quoted\", 'single'",
        ],
    );
    ledger.ok_at(&at(), &["submit", "SN-RT-0001"]);
    ledger.ok_at(
        &at(),
        &[
            "approve",
            "SN-RT-0001",
            "--icp-number",
            "浙ICP备12345678号-1",
        ],
    );
    ledger.bind_at(&at(), "SN-RT-0002", "'already quoted", "acme-shop");
    ledger.ok_at(&at(), &["submit", "SN-RT-0002"]);
    ledger.ok_at(
        &at(),
        &["approve", "SN-RT-0002", "--icp-number=京ICP备2号-2"],
    );
    ledger.ok_at(
        &at(),
        &["service", "move", "+1", "--to", "i-rt-01", "--commercial"],
    );
    ledger.ok_at(&at(), &["service", "ip-updated", "+1"]);
    ledger.ok_at(
        &at(),
        &[
            "service",
            "move",
            "'already quoted",
            "--to",
            "hosting-bj-001",
        ],
    );
    ledger.ok_at(
        &at(),
        &["deregister", "SN-RT-0002", "--reason", "@cancelled"],
    );
    ledger.ok_at(&at(), &["deregister", "SN-RT-0001"]);
    ledger.ok_at(&at(), &["invalidate", "SN-RT-0002", "--reason", "+retired"]);
    ledger.ok_at(&at(), &["invalidate", "--reason", "typo", "--", "-RT-0003"]);
    ledger.ok_at(
        &at(),
        &[
            "instance",
            "renew",
            "i-bp1short08",
            "--months",
            "6",
            "--expires",
            "2027-07-15T16:00:00Z",
        ],
    );
    ledger.ok_at(&at(), &["instance", "release", "i-bp1old06"]);
    let file = ledger.write(
        "more-ops.csv",
        ops_file(&[ops_row(&[
            ("op", "allocate"),
            ("instance_id", "i-bp1short08"),
            ("number", "SN-RT-0004"),
        ])]),
    );
    ledger.ok_at(
        &at(),
        &["import".as_ref(), "ops".as_ref(), file.as_os_str()],
    );
    ledger.set_actor("=cmd|' /C calc'!A0");
    ledger.ok_at(&at(), &["grant", "SN-RT-0004", "--to", "acme-shop"]);
    ledger.set_actor("@ops team");
    ledger.ok_at(&at(), &["allocate", "ens-gz-0031", "--count", "2"]);
    ledger.set_actor(ACTOR);
    ledger.set_now(&at());
    ledger
}

#[test]
fn history_round_trip_is_byte_identical_on_a_ledger_that_used_every_command() {
    let source = ledger_using_every_command();
    let kinds: BTreeSet<String> = source
        .events(&[])
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_string())
        .collect();
    for kind in [
        "instance_added",
        "instance_renewed",
        "instance_released",
        "policy_set",
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
    ] {
        assert!(
            kinds.contains(kind),
            "the source ledger has no {kind} event"
        );
    }
    let events = source.verify_ok();
    let exported = source.export_history();
    let file = source.path("history.csv");
    source.ok(&[
        "export".as_ref(),
        "history".as_ref(),
        "-o".as_ref(),
        file.as_os_str(),
    ]);
    assert_eq!(
        std::fs::read(&file).unwrap(),
        exported,
        "-o FILE and stdout agree"
    );

    let target = Ledger::with(NOW, ACTOR);
    let report = target.import_history_as_owner(&file);
    assert_eq!(report["events"].as_u64(), Some(events));
    assert_eq!(
        target.export_history(),
        exported,
        "export → import → export is byte-identical"
    );
    assert_eq!(target.verify_ok(), events);
    for what in ["instances", "numbers"] {
        assert_eq!(
            target.export(what),
            source.export(what),
            "export {what} agrees"
        );
    }
    for args in [
        vec!["history"],
        vec!["policy", "show"],
        vec!["service", "list"],
        vec!["number", "list"],
        vec!["instance", "list"],
        vec!["report", "quota"],
        vec!["service", "show", "+1"],
        vec!["service", "show", "'already quoted"],
        vec![
            "instance",
            "show",
            "i-bp1web01",
            "--as-of",
            "2026-11-23T12:08:00Z",
        ],
    ] {
        assert_eq!(target.json(&args), source.json(&args), "{args:?} agrees");
    }
    // The rebuilt ledger takes new commands on the same chain.
    target.ok_at(&source.now(), &["allocate", "hosting-bj-001"]);
    assert_eq!(target.verify_ok(), events + 1);
}

#[test]
fn import_history_into_a_non_empty_ledger_is_refused() {
    let source = sample_ledger_with_ops();
    let file = source.write("history.csv", source.export_history());
    // Into itself, and into another ledger with one event.
    let other = Ledger::with(NOW, ACTOR);
    other.ecs("i-other", "acme-shop");
    for target in [&source, &other] {
        let before = target.export_history();
        let output = target.run(&["import".as_ref(), "history".as_ref(), file.as_os_str()]);
        assert_fails(
            &output,
            4,
            "already_exists",
            "import history into a non-empty ledger",
        );
        assert_eq!(target.export_history(), before);
        let output = target.run(&[
            "import".as_ref(),
            "history".as_ref(),
            file.as_os_str(),
            "--dry-run".as_ref(),
        ]);
        assert_fails(&output, 4, "already_exists", "dry run too");
    }
}

#[test]
fn import_history_with_a_broken_chain_is_an_integrity_failure() {
    let source = sample_ledger_with_ops();
    let text = String::from_utf8(source.export_history()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let join = |lines: &[String]| lines.join("\n") + "\n";
    let owned: Vec<String> = lines.iter().map(|l| l.to_string()).collect();

    let mut edited = owned.clone();
    assert!(edited[3].contains("acme-shop"));
    edited[3] = edited[3].replace("acme-shop", "acme-shoq");
    let mut dropped = owned.clone();
    dropped.remove(10);
    let mut swapped = owned.clone();
    swapped.swap(5, 6);
    let mut bad_first = owned.clone();
    bad_first[1] = bad_first[1].replace(
        &format!(",{},", "0".repeat(64)),
        &format!(",{},", "1".repeat(64)),
    );
    for (name, content, line) in [
        ("edited", join(&edited), 4),
        ("dropped", join(&dropped), 11),
        ("swapped", join(&swapped), 6),
        ("first", join(&bad_first), 2),
    ] {
        let target = Ledger::with(NOW, ACTOR);
        target.ok(&["init"]);
        let file = target.write("history.csv", &content);
        let output = target.run(&["import".as_ref(), "history".as_ref(), file.as_os_str()]);
        assert_fails(&output, 5, "integrity", name);
        assert!(
            failure_lines(&output)
                .first()
                .is_some_and(|l| l.starts_with(&format!("line {line}: error[integrity]"))),
            "{name}: {}",
            stderr(&output)
        );
        assert_eq!(target.verify_ok(), 0, "{name}: nothing imported");
    }
}

/// A history export with one more event appended after its last, linked
/// and hashed exactly as snledger would.
fn append_sealed_event(export: &str, kind: &str, payload: &str) -> String {
    let rows = parse_csv(export);
    let last = rows.last().expect("at least one event");
    let seq: u64 = last[0].parse::<u64>().unwrap() + 1;
    let event_id = format!("5f0c2b9e-7d41-4a36-b8e5-{seq:012x}");
    let (at, actor, prev) = (&last[2], &last[3], &last[7]);
    let hash = chain_hash(prev, seq, &event_id, at, actor, kind, payload);
    format!(
        "{export}{seq},{event_id},{at},{},{kind},{},{prev},{hash}\n",
        cell(actor),
        cell(payload)
    )
}

#[test]
fn import_history_refuses_well_sealed_events_whose_payload_the_program_would_refuse() {
    // A small real ledger: one instance, one allocation of two numbers.
    let source = Ledger::with(NOW, ACTOR);
    source.ecs("i-forge", "acme-shop");
    source.ok(&[
        "allocate", "i-forge", "--number", "SRC-0001", "--number", "SRC-0002",
    ]);
    let export = String::from_utf8(source.export_history()).unwrap();
    let rows = parse_csv(&export);
    assert_eq!(rows.len(), 3);
    // The hash formula used here is the program's.
    for row in &rows[1..] {
        let seq: u64 = row[0].parse().unwrap();
        assert_eq!(
            chain_hash(&row[6], seq, &row[1], &row[2], &row[3], &row[4], &row[5]),
            row[7]
        );
    }
    let (added, allocated) = (&rows[1][5], &rows[2][5]);
    assert_eq!(rows[1][4], "instance_added");
    assert_eq!(rows[2][4], "allocated");
    assert!(
        allocated.contains("\"SRC-0001\",\"SRC-0002\""),
        "{allocated}"
    );
    assert!(added.contains("\"subscription_months\":12"), "{added}");

    let another_allocation = |first: &str, second: &str| {
        allocated
            .replace("SRC-0001", first)
            .replace("SRC-0002", second)
    };
    let another_instance = |id: &str, months: &str| {
        added.replace("\"i-forge\"", &format!("\"{id}\"")).replace(
            "\"subscription_months\":12",
            &format!("\"subscription_months\":{months}"),
        )
    };
    // (name, kind, the forged payload, the same event made honest)
    let cases = [
        (
            "allocated repeats a number",
            "allocated",
            another_allocation("DUP-0001", "DUP-0001"),
            another_allocation("DUP-0001", "DUP-0002"),
        ),
        (
            "instance id with a space",
            "instance_added",
            another_instance("i forged", "12"),
            another_instance("i-forged", "12"),
        ),
        (
            "subscription_months of i64::MAX",
            "instance_added",
            another_instance("i-forged", "9223372036854775807"),
            another_instance("i-forged", "12"),
        ),
    ];
    for (name, kind, forged, honest) in cases {
        // The honest event imports: the file is well made.
        let control = Ledger::with(NOW, ACTOR);
        let file = control.write("honest.csv", append_sealed_event(&export, kind, &honest));
        control.ok(&["import".as_ref(), "history".as_ref(), file.as_os_str()]);
        assert_eq!(control.verify_ok(), 3, "{name}: the honest file");

        let target = Ledger::with(NOW, ACTOR);
        target.ok(&["init"]);
        let file = target.write("forged.csv", append_sealed_event(&export, kind, &forged));
        for dry_run in [true, false] {
            let mut args = vec!["import".as_ref(), "history".as_ref(), file.as_os_str()];
            if dry_run {
                args.push("--dry-run".as_ref());
            }
            let output = target.run(&args);
            assert_fails(&output, 5, "integrity", name);
            assert!(
                failure_lines(&output)
                    .first()
                    .is_some_and(|l| l.starts_with("line 4: error[integrity]")),
                "{name}: {}",
                stderr(&output)
            );
        }
        assert_eq!(target.verify_ok(), 0, "{name}: nothing imported");
        assert_eq!(
            target.export_history(),
            format!("{HISTORY_HEADER}\n").into_bytes()
        );
    }
}

#[test]
fn export_over_the_ledger_is_refused_and_a_failed_export_keeps_the_old_file() {
    sqlite_only!("SQLite files");
    let ledger = sample_ledger_with_ops();
    let history = ledger.export_history();
    let events = ledger.verify_ok();
    let link = ledger.path("link-to-ledger.db");
    std::os::unix::fs::symlink(&ledger.db, &link).unwrap();
    let dotted = ledger.dir.path().join(".").join("ledger.db");
    for what in ["history", "instances", "numbers"] {
        for target in [&ledger.db, &dotted, &link] {
            let output = ledger.run(&[
                "export".as_ref(),
                what.as_ref(),
                "-o".as_ref(),
                target.as_os_str(),
            ]);
            assert_fails(
                &output,
                2,
                "usage",
                &format!("export {what} -o {}", target.display()),
            );
        }
    }
    // Relative to the working directory, as an operator would type it.
    let output = run_bounded(
        ledger.command_without_db().args([
            "--db",
            "ledger.db",
            "export",
            "history",
            "-o",
            "ledger.db",
        ]),
        std::time::Duration::from_secs(60),
    );
    assert_fails(&output, 2, "usage", "export -o ledger.db (relative)");
    assert_eq!(ledger.verify_ok(), events, "the ledger still verifies");
    assert_eq!(ledger.export_history(), history);

    // A failing export to an existing file leaves it as it was.
    let existing = ledger.write("existing.csv", "precious,content\n1,2\n");
    let output = ledger.run(&[
        "export".as_ref(),
        "instances".as_ref(),
        "--as-of".as_ref(),
        "not-a-time".as_ref(),
        "-o".as_ref(),
        existing.as_os_str(),
    ]);
    assert_fails(&output, 2, "usage", "export --as-of not-a-time");
    assert_eq!(
        std::fs::read_to_string(&existing).unwrap(),
        "precious,content\n1,2\n"
    );

    // Also when it fails half way, after the output was opened: a row
    // of the past versions --as-of reads does not read back.
    let broken = Ledger::with(NOW, ACTOR);
    broken.ecs("i-1", "acme-shop");
    broken.ecs("i-2", "acme-shop");
    broken.allocate("i-2", 1);
    {
        let conn = rusqlite::Connection::open(&broken.db).unwrap();
        conn.execute_batch(
            "UPDATE instances SET billing = 'bogus' WHERE instance_id = 'i-2'; \
             UPDATE numbers SET issued_seq = 'x';",
        )
        .unwrap();
    }
    let existing = broken.write("existing.csv", "precious,content\n");
    for what in ["instances", "numbers"] {
        let output = broken.run(&[
            "export".as_ref(),
            what.as_ref(),
            "--as-of".as_ref(),
            NOW.as_ref(),
            "-o".as_ref(),
            existing.as_os_str(),
        ]);
        assert_ne!(
            output.status.code(),
            Some(0),
            "export {what} of a broken log"
        );
        assert_eq!(
            std::fs::read_to_string(&existing).unwrap(),
            "precious,content\n",
            "export {what}"
        );
    }
    // And it left nothing half-written beside it.
    let mut names: Vec<String> = std::fs::read_dir(broken.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with("ledger.db"))
        .collect();
    names.sort();
    assert_eq!(names, ["existing.csv"]);
}

#[test]
fn exports_to_stdout_and_to_a_file_agree_and_new_files_are_private() {
    let ledger = sample_ledger_with_ops();
    for (what, header) in [
        ("instances", INSTANCES_HEADER),
        ("numbers", NUMBERS_HEADER),
        ("history", HISTORY_HEADER),
    ] {
        let stdout_bytes = ledger.export(what);
        let text = String::from_utf8(stdout_bytes.clone()).unwrap();
        assert_eq!(text.lines().next(), Some(header), "export {what} header");
        let file = ledger.path(&format!("{what}.csv"));
        let output = run_with_umask(
            "022",
            &[
                "--db".as_ref(),
                ledger.db.as_os_str(),
                "--now".as_ref(),
                NOW.as_ref(),
                "export".as_ref(),
                what.as_ref(),
                "-o".as_ref(),
                file.as_os_str(),
            ],
        );
        assert_ok(&output, "export -o");
        assert!(output.stdout.is_empty(), "-o writes nothing to stdout");
        assert_eq!(
            std::fs::read(&file).unwrap(),
            stdout_bytes,
            "export {what}: -o FILE equals stdout"
        );
        assert_eq!(mode(&file), 0o600, "export {what}: a new file is 0600");
        // --output, and overwriting an existing file, give the same bytes.
        ledger.ok(&[
            "export".as_ref(),
            what.as_ref(),
            "--output".as_ref(),
            file.as_os_str(),
        ]);
        assert_eq!(std::fs::read(&file).unwrap(), stdout_bytes);
    }
    let instances = parse_csv(&String::from_utf8(ledger.export("instances")).unwrap());
    assert_eq!(instances.len(), 1 + 16);
    let iot = instances.iter().find(|r| r[0] == "iot-studio-a1").unwrap();
    assert_eq!(iot[8], "199.00");
    // An export of instances imports back into a new ledger unchanged.
    let other = Ledger::with(NOW, ACTOR);
    let file = ledger.write("instances-out.csv", ledger.export("instances"));
    other.ok(&["import".as_ref(), "instances".as_ref(), file.as_os_str()]);
    assert_eq!(other.export("instances"), ledger.export("instances"));
    let numbers = parse_csv(&String::from_utf8(ledger.export("numbers")).unwrap());
    assert_eq!(numbers.len(), 1 + 10);
    let row = numbers.iter().find(|r| r[0] == "SN-HZ-WEB01-0001").unwrap();
    assert_eq!(
        row[1..].join(","),
        "i-bp1web01,acme-shop,green-apps,filed,app.green.example.cn,浙ICP备12345678号-1,issued"
    );
    let history = parse_csv(&String::from_utf8(ledger.export("history")).unwrap());
    assert_eq!(history.len(), 1 + 40);
    assert_eq!(history[1][0], "1");
    assert_eq!(history[1][6], "0".repeat(64));
    assert_eq!(history[2][6], history[1][7], "prev_hash links");
}

#[test]
fn exports_as_of_a_past_time() {
    let ledger = Ledger::with(NOW, ACTOR);
    ledger.ecs_at(
        "2026-11-23T10:00:00Z",
        "i-asof-1",
        "acme-shop",
        "2027-12-31T16:00:00Z",
        "47.96.113.1",
    );
    ledger.ok_at(
        "2026-11-23T10:30:00Z",
        &["allocate", "i-asof-1", "--number", "SN-ASOF-0001"],
    );
    ledger.add_instance_at(
        "2026-11-23T11:00:00Z",
        "i-asof-2",
        "ens",
        "acme-shop",
        &["--expires", "2027-12-31T16:00:00Z"],
    );
    ledger.ok_at(
        "2026-11-23T11:30:00Z",
        &["grant", "SN-ASOF-0001", "--to", "blue-media"],
    );
    let at = |what: &str, time: &str| ledger.ok(&["export", what, "--as-of", time]);
    let instances = at("instances", "2026-11-23T10:45:00Z");
    assert!(
        instances.contains("i-asof-1") && !instances.contains("i-asof-2"),
        "{instances}"
    );
    let numbers = at("numbers", "2026-11-23T11:00:00Z");
    assert!(
        numbers.contains("SN-ASOF-0001,i-asof-1,acme-shop,acme-shop,unbound"),
        "{numbers}"
    );
    let numbers = at("numbers", "2026-11-23T11:30:00Z");
    assert!(
        numbers.contains("SN-ASOF-0001,i-asof-1,acme-shop,blue-media,unbound"),
        "at the very second of the grant: {numbers}"
    );
    let history = at("history", "2026-11-23T10:30:00Z");
    assert_eq!(history.lines().count(), 1 + 2);
    let before_all = at("history", "2026-11-23T09:00:00Z");
    assert_eq!(before_all.lines().count(), 1);
    let full = String::from_utf8(ledger.export_history()).unwrap();
    assert!(
        full.starts_with(&history),
        "an as-of history is a prefix of the whole"
    );
}

/// `name` appears in `text` as a whole word (not inside a longer name).
fn names_word(text: &str, name: &str) -> bool {
    let ident = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
    text.match_indices(name).any(|(i, _)| {
        !ident(text[..i].chars().last()) && !ident(text[i + name.len()..].chars().next())
    })
}

fn formula_start(cell: &str) -> bool {
    matches!(
        cell.as_bytes().first(),
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r')
    )
}

#[test]
fn formula_cells_are_neutralised_in_exports_and_round_trip_losslessly() {
    let ledger = sample_ledger();
    let services = [
        "=HYPERLINK(\"http://evil\",\"x\")",
        "-1+1",
        "@x",
        "+1",
        "'quoted",
        "=cmd|' /C calc'!A0",
    ];
    let notes = [
        "=HYPERLINK(\"x\")",
        "-1+1",
        "@x",
        "+1",
        "''twice",
        "plain note",
    ];
    for (k, (service, note)) in services.iter().zip(notes).enumerate() {
        let number = format!("SN-FX-000{k}");
        let instance = if k < 3 { "i-bp1web01" } else { "i-bp1web02" };
        ledger.ok(&["allocate", instance, "--number", &number]);
        ledger.ok(&[
            "grant",
            &number,
            "--to",
            "blue-media",
            &format!("--note={note}"),
        ]);
        ledger.ok(&[
            "bind",
            &number,
            &format!("--service={service}"),
            "--account",
            "blue-media",
        ]);
        if k < 4 {
            ledger.ok(&["submit", &number]);
            ledger.ok(&["reject", &number, &format!("--reason={note}")]);
        }
    }
    ledger.ok(&["allocate", "hosting-bj-001", "--number", "SN-FX-0006"]);
    ledger.ok(&[
        "bind",
        "SN-FX-0006",
        "--service",
        "@site",
        "--account",
        "blue-media",
    ]);
    ledger.ok(&["submit", "SN-FX-0006"]);
    ledger.ok(&["approve", "SN-FX-0006", "--icp-number", "京ICP备6号-6"]);
    // Free text as given is what the ledger holds.
    for service in services {
        assert_eq!(
            ledger.json(&["service", "show", "--", service])["service"],
            service
        );
    }
    assert_eq!(ledger.number("SN-FX-0006")["icp_number"], "京ICP备6号-6");

    // Every export: no cell starts like a formula; the guarded cells strip back.
    for what in ["numbers", "history", "instances"] {
        let text = String::from_utf8(ledger.export(what)).unwrap();
        for row in parse_csv(&text) {
            for cell in row {
                assert!(
                    !formula_start(&cell),
                    "export {what}: cell {cell:?} starts like a formula"
                );
            }
        }
    }
    let numbers = String::from_utf8(ledger.export("numbers")).unwrap();
    assert!(
        numbers.contains("\"'=HYPERLINK(\"\"http://evil\"\",\"\"x\"\")\""),
        "{numbers}"
    );
    assert!(numbers.contains(",'-1+1,"), "{numbers}");
    assert!(numbers.contains(",'@x,"), "{numbers}");
    assert!(numbers.contains(",'+1,"), "{numbers}");
    assert!(
        numbers.contains(",''quoted,"),
        "a leading ' is doubled so that import strips exactly one: {numbers}"
    );
    assert!(numbers.contains(",京ICP备6号-6,"), "{numbers}");
    let rows = parse_csv(&numbers);
    let exported_services: BTreeSet<String> = rows[1..]
        .iter()
        .filter(|r| r[0].starts_with("SN-FX-000") && r[0] != "SN-FX-0006")
        .map(|r| r[5].strip_prefix('\'').unwrap_or(&r[5]).to_string())
        .collect();
    let want: BTreeSet<String> = services.iter().map(|s| s.to_string()).collect();
    assert_eq!(
        exported_services, want,
        "removing one leading ' gives the original back"
    );

    // The --format csv output of lists is guarded too.
    let listed = ledger.ok(&["--format", "csv", "number", "list"]);
    for row in parse_csv(&listed) {
        for cell in row {
            assert!(!formula_start(&cell), "number list --format csv: {cell:?}");
        }
    }

    // A formula-looking actor goes through the history file too.
    let actor = sample_ledger();
    actor.set_actor("=2+3");
    actor.ok(&["allocate", "i-bp1web01", "--number", "SN-FX-ACTR"]);
    let text = String::from_utf8(actor.export_history()).unwrap();
    assert!(text.contains(",'=2+3,allocated,"), "{text}");

    // Round trip: the history file rebuilds the very same texts and hashes.
    let file = ledger.write("history.csv", ledger.export_history());
    let target = Ledger::with(NOW, ACTOR);
    target.import_history_as_owner(&file);
    assert_eq!(target.export_history(), ledger.export_history());
    target.verify_ok();
    for service in services {
        assert_eq!(
            target.json(&["service", "show", "--", service]),
            ledger.json(&["service", "show", "--", service])
        );
    }
    assert_eq!(target.events(&[]), ledger.events(&[]));
    let file = actor.write("actor-history.csv", actor.export_history());
    let target = Ledger::with(NOW, ACTOR);
    target.import_history_as_owner(&file);
    assert_eq!(target.export_history(), actor.export_history());
    assert_eq!(target.events(&[]).last().unwrap()["actor"], "=2+3");

    // An ops file written the guarded way imports the original text.
    let ops = sample_ledger();
    let rows = vec![
        ops_row(&[
            ("op", "allocate"),
            ("instance_id", "i-bp1web01"),
            ("number", "SN-OPS-0001"),
        ]),
        ops_row(&[
            ("op", "grant"),
            ("number", "SN-OPS-0001"),
            ("to_account", "blue-media"),
            ("reason", "'-1+1"),
        ]),
        ops_row(&[
            ("op", "bind"),
            ("number", "SN-OPS-0001"),
            ("account", "blue-media"),
            ("service", "'=HYPERLINK(\"x\")"),
        ]),
        ops_row(&[("op", "submit"), ("number", "SN-OPS-0001")]),
        ops_row(&[
            ("op", "reject"),
            ("number", "SN-OPS-0001"),
            ("reason", "'@x"),
        ]),
        ops_row(&[("op", "submit"), ("number", "SN-OPS-0001")]),
        ops_row(&[
            ("op", "approve"),
            ("number", "SN-OPS-0001"),
            ("icp_number", "京ICP备1号-1"),
        ]),
        ops_row(&[
            ("op", "select"),
            ("instance_id", "i-bp1web02"),
            ("service", "''quoted"),
        ]),
    ];
    let file = ops.write("guarded.csv", ops_file(&rows));
    ops.ok(&["import".as_ref(), "ops".as_ref(), file.as_os_str()]);
    let number = ops.number("SN-OPS-0001");
    assert_eq!(number["service"], "=HYPERLINK(\"x\")");
    assert_eq!(number["icp_number"], "京ICP备1号-1");
    let history = ops.events(&[]);
    assert_eq!(
        history.iter().find(|e| e["kind"] == "granted").unwrap()["payload"]["note"],
        "-1+1"
    );
    assert_eq!(
        history.iter().find(|e| e["kind"] == "rejected").unwrap()["payload"]["reason"],
        "@x"
    );
    assert_eq!(
        ops.json(&["service", "show", "'quoted"])["service"],
        "'quoted"
    );
}

#[test]
fn import_of_200000_instance_rows() {
    const ROWS: usize = 200_000;
    let ledger = Ledger::with(NOW, ACTOR);
    let path = ledger.path("big.csv");
    {
        use std::io::Write;
        let mut out = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        writeln!(out, "{INSTANCES_HEADER}").unwrap();
        let types = [
            "ecs",
            "cloud_web_hosting",
            "simple_application_server",
            "ens",
            "linkedmall",
            "iot_studio",
        ];
        for i in 0..ROWS {
            let service_type = types[i % types.len()];
            let ip = if service_type == "ecs" {
                format!("47.{}.{}.{}", (i >> 16) & 255, (i >> 8) & 255, i & 255)
            } else {
                String::new()
            };
            let amount = if service_type == "iot_studio" {
                "99.50"
            } else {
                ""
            };
            writeln!(
                out,
                "gen-{i:07},{service_type},acct-{},cn-hangzhou,subscription,{},2027-{:02}-28T16:00:00Z,{ip},{amount}",
                i % 257,
                3 + i % 24,
                1 + i % 12
            )
            .unwrap();
        }
    }
    let output = ledger.run(&[
        "--format".as_ref(),
        "json".as_ref(),
        "import".as_ref(),
        "instances".as_ref(),
        path.as_os_str(),
    ]);
    assert_ok(&output, "import of 200,000 rows");
    let report: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(report["rows"].as_u64(), Some(ROWS as u64));
    assert_eq!(report["events"].as_u64(), Some(ROWS as u64));
    assert_eq!(ledger.count("instances"), ROWS as i64);
    assert_eq!(ledger.count("events"), ROWS as i64);
    let last = ledger.instance(&format!("gen-{:07}", ROWS - 1));
    assert_eq!(last["account"], format!("acct-{}", (ROWS - 1) % 257));
    assert_eq!(ledger.json(&["check", "gen-0000000"])["eligible"], true);
    // The ledger still takes commands on top.
    ledger.ok(&["allocate", "gen-0000000", "--count", "5"]);
    assert_eq!(ledger.count("events"), ROWS as i64 + 1);
}
