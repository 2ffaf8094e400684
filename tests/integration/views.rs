//! The views an operator asks for (docs/reference.md "Commands", "Views: eligibility,
//! quota that can be used, reports", docs/guide.md "CSV files"): eligibility in `instance show/list` and `check` over many
//! instances, usable quota, `report accounts` and `report expiring`,
//! look-ups by prefix, ICP number and actor, idempotent replays, the
//! spreadsheet options of imports and exports, and the consistency of
//! shapes and messages.

use crate::common::*;
use serde_json::{json, Value};
use std::io::Write;
use std::process::Stdio;

/// Runs `args` with `input` on standard input.
fn run_with_stdin(l: &Ledger, args: &[&str], input: &[u8]) -> std::process::Output {
    let mut child = l
        .command()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn snledger");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input)
        .expect("write stdin");
    child.wait_with_output().expect("wait for snledger")
}

fn ids(rows: &Value) -> Vec<String> {
    rows.as_array()
        .expect("an array")
        .iter()
        .map(|row| {
            row["instance_id"]
                .as_str()
                .expect("instance_id")
                .to_string()
        })
        .collect()
}

/// Four instances of two accounts: `i-ok` eligible with 3 slots left,
/// `i-full` eligible but with no slot left, `i-payg` pay-as-you-go without
/// a public IP, `i-old` expired; `c-7` only holds a number granted to it.
fn fleet() -> Ledger {
    let l = Ledger::new();
    l.ecs("i-ok", "acme");
    l.ecs("i-full", "acme");
    l.add_instance("i-payg", "ecs", "beta", &["--billing", "pay-as-you-go"]);
    l.ecs_at(NOW, "i-old", "beta", "2026-02-01T00:00:00Z", "47.96.10.22");
    l.ok(&[
        "allocate", "i-ok", "--number", "OK-0001", "--number", "OK-0002",
    ]);
    l.ok(&["allocate", "i-full", "--count", "5"]);
    l.ok(&["grant", "OK-0001", "--to", "c-7"]);
    l.bind("OK-0001", "shop.example.cn", "c-7");
    l
}

#[test]
fn instance_list_and_show_carry_eligibility_with_every_reason() {
    let l = fleet();
    let rows = l.json(&["instance", "list"]);
    let eligibility: Vec<Value> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            json!([
                r["instance_id"],
                r["eligible"],
                r["reasons"],
                r["remaining"]
            ])
        })
        .collect();
    assert_eq!(
        eligibility,
        vec![
            json!(["i-full", false, ["quota_exhausted"], 0]),
            json!(["i-ok", true, [], 3]),
            json!(["i-old", false, ["expired"], 5]),
            json!(["i-payg", false, ["pay_as_you_go", "no_public_ip"], 5]),
        ]
    );
    // The show object is the list's element, with the quota where the spec puts it.
    let shown = l.json(&["instance", "show", "i-ok"]);
    assert_eq!(shown, rows[1]);
    assert_eq!(shown["eligible"], json!(true));
    assert_eq!(shown["reasons"], json!([]));
    assert_eq!(
        shown["quota"],
        json!({"max": 5, "consumed": 2, "remaining": 3})
    );
    let table = l.ok(&["instance", "show", "i-payg"]);
    // Tables put one reason code a line, so a code never breaks.
    let lines: Vec<&str> = table.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.contains("pay_as_you_go"))
        .expect("reasons");
    assert!(lines[at].contains("│ reasons "), "{table}");
    assert!(lines[at + 1].contains("┆ no_public_ip "), "{table}");

    assert_eq!(ids(&l.json(&["instance", "list", "--eligible"])), ["i-ok"]);
    assert_eq!(
        ids(&l.json(&["instance", "list", "--ineligible", "--account", "beta"])),
        ["i-old", "i-payg"]
    );
    // --as-of: before i-old expired, it was eligible.
    assert_eq!(
        ids(&l.json_at(
            NOW,
            &[
                "instance",
                "list",
                "--eligible",
                "--as-of",
                "2026-03-01T10:00:00Z"
            ]
        )),
        ["i-ok"]
    );
    l.refused(
        &["instance", "list", "--eligible", "--ineligible"],
        2,
        "usage",
    );
}

#[test]
fn instance_list_csv_has_public_ip_eligibility_and_reasons() {
    let l = fleet();
    let csv = parse_csv(&l.ok(&["--format", "csv", "instance", "list", "--account", "beta"]));
    assert_eq!(
        csv,
        vec![
            vec![
                "instance_id",
                "service_type",
                "account",
                "region",
                "billing",
                "subscription_months",
                "expires_at",
                "public_ip",
                "state",
                "eligible",
                "reasons",
                "max",
                "consumed",
                "remaining",
            ],
            vec![
                "i-old",
                "ecs",
                "beta",
                "cn-hangzhou",
                "subscription",
                "12",
                "2026-02-01T00:00:00Z",
                "47.96.10.22",
                "active",
                "false",
                "expired",
                "5",
                "0",
                "5",
            ],
            vec![
                "i-payg",
                "ecs",
                "beta",
                "cn-hangzhou",
                "pay-as-you-go",
                "12",
                EXPIRES,
                "",
                "active",
                "false",
                "pay_as_you_go no_public_ip",
                "5",
                "0",
                "5",
            ],
        ]
    );
}

#[test]
fn check_without_an_id_checks_every_instance_or_one_accounts() {
    let l = fleet();
    assert_eq!(
        l.json(&["check"]),
        json!([
            {"instance_id": "i-full", "eligible": false, "reasons": ["quota_exhausted"], "remaining": 0},
            {"instance_id": "i-ok", "eligible": true, "reasons": [], "remaining": 3},
            {"instance_id": "i-old", "eligible": false, "reasons": ["expired"], "remaining": 5},
            {"instance_id": "i-payg", "eligible": false, "reasons": ["pay_as_you_go", "no_public_ip"], "remaining": 5},
        ])
    );
    assert_eq!(
        ids(&l.json(&["check", "--account", "acme"])),
        ["i-full", "i-ok"]
    );
    assert_eq!(l.json(&["check", "--account", "nobody"]), json!([]));
    // With an id: one object, `remaining` where `instance list` has it too.
    let one = l.json(&["check", "i-ok"]);
    assert_eq!(
        one,
        json!({"instance_id": "i-ok", "eligible": true, "reasons": [], "remaining": 3})
    );
    assert_eq!(
        l.json(&["instance", "show", "i-ok"])["remaining"],
        one["remaining"]
    );
    let csv = parse_csv(&l.ok(&["--format", "csv", "check", "--account", "beta"]));
    assert_eq!(
        csv,
        vec![
            vec!["instance_id", "eligible", "reasons", "remaining"],
            vec!["i-old", "false", "expired", "5"],
            vec!["i-payg", "false", "pay_as_you_go no_public_ip", "5"],
        ]
    );
    // An id of another account is not that account's instance.
    let stderr = l.refused(&["check", "i-ok", "--account", "beta"], 3, "not_found");
    assert!(
        stderr.contains("no instance i-ok of account beta"),
        "{stderr}"
    );
    l.refused(&["check", "--account", "bad account"], 2, "usage");
}

#[test]
fn report_quota_says_how_much_is_usable() {
    let l = fleet();
    assert_eq!(
        l.json(&["report", "quota"]),
        json!([
            {"scope": "account", "key": "acme", "instances": 2, "max": 10, "consumed": 7, "remaining": 3, "usable": 3},
            {"scope": "account", "key": "beta", "instances": 2, "max": 10, "consumed": 0, "remaining": 10, "usable": 0},
            {"scope": "service_type", "key": "ecs", "instances": 4, "max": 20, "consumed": 7, "remaining": 13, "usable": 3},
        ])
    );
    let csv = parse_csv(&l.ok(&["--format", "csv", "report", "quota", "--account", "beta"]));
    assert_eq!(
        csv[0],
        vec![
            "scope",
            "key",
            "instances",
            "max",
            "consumed",
            "remaining",
            "usable"
        ]
    );
    assert_eq!(csv[1], vec!["account", "beta", "2", "10", "0", "10", "0"]);
}

#[test]
fn report_accounts_has_every_owner_and_every_holder() {
    let l = fleet();
    l.ok(&["submit", "OK-0001"]);
    assert_eq!(
        l.json(&["report", "accounts"]),
        json!([
            {"account": "acme", "instances": 2, "unbound": 6, "bound": 0, "filing": 0, "filed": 0,
             "deregistered": 0, "invalid": 0, "remaining": 3, "usable": 3},
            {"account": "beta", "instances": 2, "unbound": 0, "bound": 0, "filing": 0, "filed": 0,
             "deregistered": 0, "invalid": 0, "remaining": 10, "usable": 0},
            {"account": "c-7", "instances": 0, "unbound": 0, "bound": 0, "filing": 1, "filed": 0,
             "deregistered": 0, "invalid": 0, "remaining": 0, "usable": 0},
        ])
    );
    let csv = parse_csv(&l.ok(&["--format", "csv", "report", "accounts"]));
    assert_eq!(
        csv[0],
        vec![
            "account",
            "instances",
            "unbound",
            "bound",
            "filing",
            "filed",
            "deregistered",
            "invalid",
            "remaining",
            "usable",
        ]
    );
    assert_eq!(
        csv[3],
        vec!["c-7", "0", "0", "0", "1", "0", "0", "0", "0", "0"]
    );
    // As the ledger stood before the grant, c-7 held nothing.
    let before = l.json(&["report", "accounts", "--as-of", NOW]);
    assert_eq!(before.as_array().unwrap().len(), 3, "{before}");
    let empty = Ledger::new();
    empty.ok(&["init"]);
    assert_eq!(empty.json(&["report", "accounts"]), json!([]));
}

/// At 2026-03-01: `x-soon` expires in 10 days hosting two services (one
/// named with a space and a comma) and one unbound number; `x-bare` in 5
/// days with only unbound numbers; `x-from` hosted `moved.example` until it
/// moved to `x-to`, which expires in 20 days; `x-far` is safe.
fn expiring_fleet() -> Ledger {
    let l = Ledger::new();
    l.ecs_at(NOW, "x-soon", "acme", "2026-03-11T10:00:00Z", "47.96.10.31");
    l.ecs_at(NOW, "x-bare", "acme", "2026-03-06T10:00:00Z", "47.96.10.32");
    l.ecs_at(NOW, "x-from", "beta", "2026-03-08T10:00:00Z", "47.96.10.33");
    l.ecs_at(NOW, "x-to", "beta", "2026-03-21T10:00:00Z", "47.96.10.34");
    l.ecs("x-far", "beta");
    l.ok(&[
        "allocate", "x-soon", "--number", "XS-0001", "--number", "XS-0002", "--number", "XS-0003",
    ]);
    l.bind("XS-0001", "Acme Shop, mobile", "acme");
    l.bind("XS-0002", "acme.example", "acme");
    l.ok(&["allocate", "x-bare", "--count", "2"]);
    l.ok(&["allocate", "x-from", "--number", "XF-0001"]);
    l.bind("XF-0001", "moved.example", "beta");
    l.ok(&["submit", "XF-0001"]);
    l.ok(&["approve", "XF-0001", "--icp-number", "浙ICP备12345678号-1"]);
    l.ok(&["service", "move", "moved.example", "--to", "x-to"]);
    l.ok(&["allocate", "x-far", "--number", "XR-0001"]);
    l.bind("XR-0001", "far.example", "beta");
    l
}

#[test]
fn report_expiring_lists_services_and_unbound_numbers_with_days_left() {
    let l = expiring_fleet();
    assert_eq!(
        l.json(&["report", "expiring", "--within", "30"]),
        json!([
            {"instance_id": "x-bare", "expires_at": "2026-03-06T10:00:00Z", "days_left": 5, "account": "acme",
             "state": "active", "expired": false, "unbound": 2, "services": []},
            {"instance_id": "x-soon", "expires_at": "2026-03-11T10:00:00Z", "days_left": 10, "account": "acme",
             "state": "active", "expired": false, "unbound": 1, "services": ["Acme Shop, mobile", "acme.example"]},
            {"instance_id": "x-to", "expires_at": "2026-03-21T10:00:00Z", "days_left": 20, "account": "beta",
             "state": "active", "expired": false, "unbound": 0, "services": ["moved.example"]},
        ])
    );
    // x-from lost its only service to x-to: it is not listed.
    assert_eq!(
        ids(&l.json(&["report", "expiring", "--within", "15"])),
        ["x-bare", "x-soon"]
    );
    // CSV: one row per (instance, service); names keep their spaces and commas.
    let csv = parse_csv(&l.ok(&["--format", "csv", "report", "expiring", "--within", "30"]));
    assert_eq!(
        csv,
        vec![
            vec![
                "instance_id",
                "expires_at",
                "days_left",
                "account",
                "state",
                "expired",
                "unbound",
                "service"
            ],
            vec![
                "x-bare",
                "2026-03-06T10:00:00Z",
                "5",
                "acme",
                "active",
                "false",
                "2",
                ""
            ],
            vec![
                "x-soon",
                "2026-03-11T10:00:00Z",
                "10",
                "acme",
                "active",
                "false",
                "1",
                "Acme Shop, mobile"
            ],
            vec![
                "x-soon",
                "2026-03-11T10:00:00Z",
                "10",
                "acme",
                "active",
                "false",
                "1",
                "acme.example"
            ],
            vec![
                "x-to",
                "2026-03-21T10:00:00Z",
                "20",
                "beta",
                "active",
                "false",
                "0",
                "moved.example"
            ],
        ]
    );
    // Once expired: days_left goes below 0 and `expired` says so.
    let later = l.json_at(
        "2026-03-09T10:00:00Z",
        &["report", "expiring", "--within", "0"],
    );
    assert_eq!(ids(&later), ["x-bare"]);
    assert_eq!(later[0]["days_left"], json!(-3));
    assert_eq!(later[0]["expired"], json!(true));
    l.refused(&["report", "expiring", "--within", "-1"], 2, "usage");
}

#[test]
fn number_show_finds_a_unique_prefix_of_eight_or_more_characters() {
    let l = Ledger::new();
    l.ecs("i-1", "acme");
    l.ok(&[
        "allocate",
        "i-1",
        "--number",
        "781a5ee9-0001",
        "--number",
        "781a5ee9-0002",
        "--number",
        "99887766-abcd",
    ]);
    assert_eq!(
        l.json(&["number", "show", "99887766"])["number"],
        json!("99887766-abcd")
    );
    assert_eq!(
        l.json(&["number", "show", "781a5ee9-0002"])["number"],
        json!("781a5ee9-0002")
    );
    let stderr = l.refused(&["number", "show", "781a5ee9"], 2, "usage");
    assert!(
        stderr.contains("ambiguous") && stderr.contains("781a5ee9-0001, 781a5ee9-0002"),
        "{stderr}"
    );
    // Fewer than 8 characters is not a prefix look-up.
    let stderr = l.refused(&["number", "show", "9988776"], 3, "not_found");
    assert!(stderr.contains("no number 9988776"), "{stderr}");
    l.refused(&["number", "show", "12345678-none"], 3, "not_found");
}

#[test]
fn number_list_by_icp_number_and_history_by_actor() {
    let l = Ledger::new();
    l.ecs("i-1", "acme");
    l.ok(&[
        "allocate", "i-1", "--number", "IC-0001", "--number", "IC-0002",
    ]);
    l.bind("IC-0001", "a.example", "acme");
    l.ok_as("alice", NOW, &["submit", "IC-0001"]);
    l.ok_as(
        "alice",
        NOW,
        &["approve", "IC-0001", "--icp-number", "浙ICP备12345678号-1"],
    );
    let found = l.json(&["number", "list", "--icp-number", "浙ICP备12345678号-1"]);
    assert_eq!(found.as_array().unwrap().len(), 1, "{found}");
    assert_eq!(found[0]["number"], json!("IC-0001"));
    assert_eq!(
        l.json(&[
            "number",
            "list",
            "--icp-number",
            "浙ICP备12345678号-1",
            "--status",
            "bound"
        ]),
        json!([])
    );
    assert_eq!(
        l.json(&["number", "list", "--icp-number", "京ICP备1号"]),
        json!([])
    );

    let kinds = |events: Vec<Value>| -> Vec<String> {
        events
            .iter()
            .map(|e| e["kind"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        kinds(l.events(&["--by", "alice"])),
        ["submitted", "approved"]
    );
    assert_eq!(
        kinds(l.events(&["--by", "alice", "--kind", "approved"])),
        ["approved"]
    );
    assert_eq!(
        kinds(l.events(&["--by", ACTOR, "--number", "IC-0001"])),
        ["allocated", "bound"]
    );
    assert!(l.events(&["--by", "nobody"]).is_empty());
    l.refused(&["history", "--by", "a\u{7}b"], 2, "usage");
}

#[test]
fn a_replayed_allocation_says_so() {
    let l = Ledger::new();
    l.ecs("i-1", "acme");
    let first = l.json(&["allocate", "i-1", "--count", "2", "--request-id", "r-1"]);
    assert_eq!(first["replayed"], json!(false));
    assert_eq!(first["consumed"], json!(2));
    let before = l.export_history();
    let again = l.json(&["allocate", "i-1", "--count", "2", "--request-id", "r-1"]);
    assert_eq!(again["replayed"], json!(true));
    assert_eq!(again["numbers"], first["numbers"]);
    assert_eq!(again["remaining"], json!(3));
    assert_eq!(l.export_history(), before, "a replay appends nothing");
    let output = l.run(&["allocate", "i-1", "--count", "2", "--request-id", "r-1"]);
    assert!(output.status.success());
    let note = stderr(&output);
    assert!(
        note.contains("note: request id r-1 was already used")
            && note.contains("nothing was appended"),
        "{note}"
    );
    let fresh = l.run(&["allocate", "i-1", "--request-id", "r-2"]);
    assert_eq!(stderr(&fresh), "", "a new allocation has no note");
}

#[test]
fn exports_take_the_list_filters_a_bom_and_dash() {
    let l = fleet();
    let numbers = |args: &[&str]| -> Vec<Vec<String>> {
        let mut all = vec!["export", "numbers"];
        all.extend_from_slice(args);
        parse_csv(&l.ok(&all))
    };
    let bound = numbers(&["--status", "bound"]);
    assert_eq!(bound.len(), 2, "{bound:?}");
    assert_eq!(bound[1][0], "OK-0001");
    assert_eq!(numbers(&["--account", "c-7"]), bound);
    assert_eq!(numbers(&["--instance", "i-full"]).len(), 6);
    assert_eq!(
        numbers(&["--instance", "i-ok", "--status", "unbound"])[1][0],
        "OK-0002"
    );
    let instances = parse_csv(&l.ok(&["export", "instances", "--account", "beta"]));
    assert_eq!(
        instances
            .iter()
            .skip(1)
            .map(|r| r[0].as_str())
            .collect::<Vec<_>>(),
        ["i-old", "i-payg"]
    );
    assert_eq!(
        parse_csv(&l.ok(&["export", "instances", "--type", "iot_studio"])).len(),
        1
    );
    // --bom, and -o - for standard output.
    let with_bom = l.run(&["export", "numbers", "--bom", "-o", "-"]);
    assert!(with_bom.status.success());
    assert!(with_bom
        .stdout
        .starts_with("\u{feff}number,instance_id".as_bytes()));
    assert_eq!(&with_bom.stdout[3..], &l.export("numbers")[..]);
    let file = l.path("h.csv");
    l.ok(&["export", "history", "--bom", "-o", file.to_str().unwrap()]);
    let written = std::fs::read(&file).unwrap();
    assert!(written.starts_with(b"\xef\xbb\xbfseq,"));
    // A BOM file imports back into an empty ledger.
    let copy = l.sibling("copy");
    copy.ok(&["import", "history", file.to_str().unwrap()]);
    assert_eq!(copy.export_history(), l.export_history());
    // Bad filter values and --format json are refused, never ignored.
    l.refused(&["export", "numbers", "--status", "used"], 2, "usage");
    let before = l.export_history();
    let (code, error, message) = l.json_error_at(NOW, &["export", "numbers"]);
    assert_eq!((code, error.as_str()), (2, "usage"));
    assert!(message.contains("number list"), "{message}");
    // So is an explicit --format table; --format csv is what export writes.
    let refused = l.refused(&["--format", "table", "export", "numbers"], 2, "usage");
    assert!(refused.contains("--format table is not taken"), "{refused}");
    let csv = l.ok(&["--format", "csv", "export", "numbers"]);
    assert_eq!(csv, l.ok(&["export", "numbers"]));
    assert_eq!(l.export_history(), before);
}

#[test]
fn imports_read_standard_input_for_dash() {
    let l = Ledger::new();
    let csv = format!(
        "{INSTANCES_HEADER}\ni-std,ecs,acme,cn-hangzhou,subscription,12,{EXPIRES},47.96.10.21,\n"
    );
    let output = run_with_stdin(&l, &["import", "instances", "-"], csv.as_bytes());
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(l.instance("i-std")["account"], json!("acme"));
    // export history | import history - rebuilds the log.
    let copy = l.sibling("copy");
    let output = run_with_stdin(&copy, &["import", "history", "-"], &l.export_history());
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(copy.export_history(), l.export_history());
}

#[test]
fn a_file_that_is_not_utf8_or_not_comma_separated_gets_a_hint() {
    let l = Ledger::new();
    l.ecs("i-1", "acme");
    let before = l.export_history();
    // "中文" in GBK, as Excel saves it by default on a Chinese system.
    let mut gbk = format!("{INSTANCES_HEADER}\ni-gbk,ecs,").into_bytes();
    gbk.extend_from_slice(b"\xd6\xd0\xce\xc4");
    gbk.extend_from_slice(format!(",cn-hangzhou,subscription,12,{EXPIRES},,\n").as_bytes());
    let file = l.write("gbk.csv", &gbk);
    let stderr = l.refused(&["import", "instances", file.to_str().unwrap()], 2, "usage");
    assert!(
        stderr.contains("line 2: error[usage]: the file is not UTF-8")
            && stderr.contains("save it as UTF-8 (\"CSV UTF-8\" in Excel)"),
        "{stderr}"
    );
    let header = l.write("gbk-header.csv", b"instance_id,\xd5\xcb\xbb\xa7\n");
    let stderr = l.refused(
        &["import", "instances", header.to_str().unwrap()],
        2,
        "usage",
    );
    assert!(stderr.contains("line 1: the file is not UTF-8"), "{stderr}");

    let semicolons = l.write("semi.csv", INSTANCES_HEADER.replace(',', ";") + "\n");
    let stderr = l.refused(
        &["import", "instances", semicolons.to_str().unwrap()],
        2,
        "usage",
    );
    assert!(stderr.contains("the header looks ;-separated"), "{stderr}");
    let tabs = l.write("tabs.csv", OPS_HEADER.replace(',', "\t") + "\n");
    let stderr = l.refused(&["import", "ops", tabs.to_str().unwrap()], 2, "usage");
    assert!(
        stderr.contains("the header looks tab-separated"),
        "{stderr}"
    );
    // A plain unknown column gets no such hint.
    let unknown = l.write("unknown.csv", format!("{INSTANCES_HEADER},colour\n"));
    let stderr = l.refused(
        &["import", "instances", unknown.to_str().unwrap()],
        2,
        "usage",
    );
    assert!(
        stderr.contains("unknown column(s) colour") && !stderr.contains("looks"),
        "{stderr}"
    );
    assert_eq!(l.export_history(), before);
}

#[test]
fn verify_names_stored_values_as_the_log_spells_them() {
    let l = Ledger::new();
    l.ecs("i-1", "acme");
    l.ok(&["allocate", "i-1", "--number", "VV-0001"]);
    l.tamper("UPDATE numbers SET status = 'bound', service = 'x.example' WHERE number = 'VV-0001'");
    l.tamper("UPDATE instances SET billing = 'pay-as-you-go' WHERE instance_id = 'i-1'");
    let (code, report) = l.verify();
    assert_eq!(code, 5);
    let problems = report["problems"].to_string();
    assert!(
        problems.contains("status stored bound, the log gives unbound")
            && problems.contains("service stored x.example, the log gives (none)")
            && problems.contains("billing stored pay-as-you-go, the log gives subscription"),
        "{problems}"
    );
    for internal in ["Unbound", "Some(", "None", "PayAsYouGo", "Subscription"] {
        assert!(!problems.contains(internal), "{internal} in {problems}");
    }
}

#[test]
fn json_errors_end_with_a_newline_and_export_errors_name_no_temporary_file() {
    let l = Ledger::new();
    l.ecs("i-1", "acme");
    let output = l.run(&["--format", "json", "number", "show", "NOPE-0001"]);
    assert_eq!(output.status.code(), Some(3));
    assert!(output.stderr.ends_with(b"}}\n"), "{}", stderr(&output));
    let output = l.run(&["--format", "json", "chek"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stderr.ends_with(b"}}\n"), "{}", stderr(&output));

    let target = l.path("no-such-dir").join("n.csv");
    let stderr = l.refused(
        &["export", "numbers", "-o", target.to_str().unwrap()],
        6,
        "storage",
    );
    assert!(
        stderr.contains("cannot write")
            && !stderr.contains(".partial")
            && !stderr.contains(".n.csv."),
        "{stderr}"
    );
}

#[test]
fn advise_json_fields_are_named_as_the_table_columns() {
    let l = Ledger::new();
    let json = l.json(&["advise", "--uses", "cdn"]);
    let table = parse_csv(&l.ok(&["--format", "csv", "advise", "--uses", "cdn"]));
    let keys: Vec<&str> = json[0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, table[0]);
    assert_eq!(json[0]["service"], json!("cdn"));
}

fn outside_check(file: &std::path::Path, digests: &[String]) -> Out {
    let mut command = std::process::Command::new("python3");
    command
        .arg(repo_file("samples/verify_history.py"))
        .arg(file);
    for digest in digests {
        command.args(["--digest", digest]);
    }
    Out::from(command.output().expect("python3 runs"))
}

#[test]
fn the_outside_check_says_an_extract_is_not_a_whole_log_and_checks_it_against_a_digest() {
    let l = fleet();
    let history = String::from_utf8(l.export_history()).unwrap();
    let lines: Vec<&str> = history.lines().collect();
    let head = parse_csv(lines.last().unwrap())[0].clone();
    let (last_seq, last_hash) = (head[0].clone(), head[7].clone());
    let whole = l.write("whole.csv", &history);
    let out = outside_check(&whole, &[format!("{last_seq}:{last_hash}")]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout
            .contains(&format!("passes through seq {last_seq}")),
        "{}",
        out.stdout
    );

    // From seq 3 on: not a whole log, unless a digest anchors it.
    let extract = format!("{}\n{}\n", lines[0], lines[3..].join("\n"));
    let extract = l.write("extract.csv", extract);
    let out = outside_check(&extract, &[]);
    assert_eq!(out.code, 1);
    assert!(
        out.stdout.contains("not a whole log: it starts at seq 3"),
        "{}",
        out.stdout
    );
    let out = outside_check(&extract, &[format!("{last_seq}:{last_hash}")]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    // A digest the log does not pass through, or one past its end.
    let wrong = format!("{last_seq}:{}", "0".repeat(64));
    let out = outside_check(&extract, &[wrong]);
    assert_eq!(out.code, 1);
    assert!(
        out.stdout.contains(&format!(
            "BAD: seq {last_seq}: the hash is not the digest's"
        )),
        "{}",
        out.stdout
    );
    let past = format!("{}:{last_hash}", last_seq.parse::<i64>().unwrap() + 5);
    let out = outside_check(&whole, &[past]);
    assert_eq!(out.code, 1);
    assert!(
        out.stdout
            .contains(&format!("the log ends at seq {last_seq}")),
        "{}",
        out.stdout
    );
}
