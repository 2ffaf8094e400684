//! Details of the command-line contract: usage messages that name what is
//! missing, CSV forms that carry what the JSON does, what counts as a public
//! IP, and edits and imports that must be refused.

use crate::common::*;

#[test]
fn a_missing_argument_is_named_in_the_usage_error() {
    let ledger = Ledger::new();
    let stderr = ledger.refused(&["bind", "ABCD-1"], 2, "usage");
    assert!(
        stderr.contains("--service") && stderr.contains("--account"),
        "{stderr}"
    );
    let stderr = ledger.refused(&["--format", "xml", "check", "i-1"], 2, "usage");
    assert!(stderr.contains("table, json, csv"), "{stderr}");
    let (exit, code, message) = ledger.json_error_at(NOW, &["grant", "ABCD-1"]);
    assert_eq!((exit, code.as_str()), (2, "usage"));
    assert!(message.contains("--to"), "{message}");
}

#[test]
fn a_missing_subcommand_is_a_usage_error_after_the_help() {
    let ledger = Ledger::new();
    let output = ledger.run(&["report"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = stderr(&output);
    assert!(
        stderr.contains("Usage") && stderr.contains("error[usage]"),
        "{stderr}"
    );
}

#[test]
fn allocate_as_csv_carries_the_quota() {
    let ledger = Ledger::new();
    ledger.ecs("i-1", "acme");
    let csv = ledger.ok(&["allocate", "i-1", "--count", "2", "--format", "csv"]);
    let rows = parse_csv(&csv);
    assert_eq!(rows[0], ["instance_id", "number", "consumed", "remaining"]);
    assert_eq!(rows.len(), 3, "{csv}");
    for row in &rows[1..] {
        assert_eq!(
            (row[0].as_str(), row[2].as_str(), row[3].as_str()),
            ("i-1", "2", "3")
        );
    }
}

#[test]
fn verify_as_csv_lists_every_problem_and_names_the_changed_column() {
    sqlite_only!("edits the SQLite file with rusqlite");
    let ledger = Ledger::new();
    ledger.ecs("i-1", "acme");
    ledger.allocate("i-1", 2);
    let csv = ledger.ok(&["verify", "--format", "csv"]);
    assert_eq!(parse_csv(&csv)[1][..3], ["true", "2", ""]);
    ledger
        .conn()
        .execute("UPDATE instances SET consumed = 9", [])
        .unwrap();
    let output = ledger.run(&["verify", "--format", "csv"]);
    assert_eq!(output.status.code(), Some(5));
    let rows = parse_csv(&stdout(&output));
    assert_eq!(rows[0], ["ok", "events", "first_bad_seq", "problem"]);
    assert_eq!(rows[1][..3], ["false", "2", "2"]);
    assert!(
        rows[1][3].contains("consumed stored 9, the log gives 2"),
        "{rows:?}"
    );
}

#[test]
fn instance_show_as_csv_splits_the_quota() {
    let ledger = Ledger::new();
    ledger.ecs("i-1", "acme");
    ledger.allocate("i-1", 1);
    let rows = parse_csv(&ledger.ok(&["instance", "show", "i-1", "--format", "csv"]));
    let header = &rows[0];
    let value = |name: &str| rows[1][header.iter().position(|h| h == name).unwrap()].clone();
    assert_eq!(
        (value("max"), value("consumed"), value("remaining")),
        ("5".into(), "1".into(), "4".into())
    );
}

/// Addresses that are not public (SPEC §1.2: the IANA special-purpose
/// registries), each with the range the refusal names: the ten
/// first, then the older private, loopback and multicast ones.
const NOT_PUBLIC: [(&str, &str); 24] = [
    ("::ffff:10.0.0.1", "10.0.0.0/8"),
    ("::ffff:127.0.0.1", "127.0.0.0/8"),
    ("::10.0.0.1", "10.0.0.0/8"),
    ("100.64.0.1", "100.64.0.0/10"),
    ("192.0.2.1", "192.0.2.0/24"),
    ("198.18.0.1", "198.18.0.0/15"),
    ("240.0.0.1", "240.0.0.0/4"),
    ("0.1.2.3", "0.0.0.0/8"),
    ("2001:db8::1", "2001:db8::/32"),
    ("fec0::1", "fec0::/10"),
    ("127.0.0.1", "127.0.0.0/8"),
    ("10.0.0.1", "10.0.0.0/8"),
    ("172.16.5.5", "172.16.0.0/12"),
    ("192.168.1.1", "192.168.0.0/16"),
    ("0.0.0.0", "0.0.0.0/8"),
    ("169.254.0.1", "169.254.0.0/16"),
    ("198.51.100.7", "198.51.100.0/24"),
    ("203.0.113.7", "203.0.113.0/24"),
    ("255.255.255.255", "255.255.255.255/32"),
    ("::1", "::1/128"),
    ("::", "::/128"),
    ("fd00::1", "fc00::/7"),
    ("fe80::1", "fe80::/10"),
    ("224.0.0.1", "224.0.0.0/4"),
];

#[test]
fn only_a_public_address_is_a_public_ip() {
    let ledger = Ledger::new();
    ledger.ok(&["init"]);
    ledger.ecs_at(NOW, "ok-1", "acme", EXPIRES, "240e:3b4::7");
    let before = ledger.export_history();
    for (i, (address, range)) in NOT_PUBLIC.into_iter().enumerate() {
        let id = format!("p-{i}");
        let args = instance_add_args(&id, "ecs", "acme", &["--public-ip", address]);
        let message = ledger.refused(&args, 2, "usage");
        assert!(
            message.contains("is not a public address") && message.contains(range),
            "{address}: {message}"
        );
        let amend = ["instance", "amend", "ok-1", "--public-ip", address];
        let message = ledger.refused(&amend, 2, "usage");
        assert!(message.contains(range), "amend {address}: {message}");
        // An instances file is refused the same way, and imports nothing.
        let file = ledger.write(
            "instances.csv",
            format!(
                "{INSTANCES_HEADER}\n{id},ecs,acme,cn-hangzhou,subscription,12,2027-12-31T16:00:00Z,{address},\n"
            ),
        );
        let message = ledger.refused(
            &["import".as_ref(), "instances".as_ref(), file.as_os_str()],
            2,
            "usage",
        );
        assert!(message.contains(range), "import {address}: {message}");
    }
    assert_eq!(ledger.export_history(), before);
    // A mapped address names both the form and the IPv4 range.
    let args = instance_add_args("p-x", "ecs", "acme", &["--public-ip", "::ffff:10.0.0.1"]);
    let message = ledger.refused(&args, 2, "usage");
    assert!(message.contains("IPv4-mapped"), "{message}");
    // Real public addresses still pass, in every form, and so do the
    // registry's globally reachable entries (AS112).
    for (i, address) in [
        "47.96.10.21",
        "8.8.8.8",
        "100.128.0.1",
        "198.20.0.1",
        "::ffff:47.96.10.21",
        "2408:4000::1",
        "2002:2f60:0a15::1",
        "192.31.196.1",
    ]
    .into_iter()
    .enumerate()
    {
        let id = format!("ok-p-{i}");
        ledger.ecs_at(NOW, &id, "acme", EXPIRES, address);
        assert_eq!(ledger.instance(&id)["public_ip"], address);
        assert_eq!(ledger.remaining(&id), 5, "{address}");
    }
    assert_eq!(ledger.remaining("ok-1"), 5);
    ledger.verify_ok();
}

#[test]
fn policy_set_with_nothing_to_set_or_an_empty_amount_is_refused() {
    let ledger = Ledger::new();
    ledger.ok(&["init"]);
    ledger.refused(&["policy", "set", "ecs"], 2, "usage");
    ledger.refused(
        &["policy", "set", "iot_studio", "--min-order-amount", ""],
        2,
        "usage",
    );
    let policy = ledger.json(&["policy", "set", "iot_studio", "--min-order-amount", "none"]);
    assert!(policy["min_order_amount"].is_null(), "{policy}");
}

#[test]
fn ip_updates_report_forgets_a_filing_that_ended() {
    let ledger = Ledger::new();
    ledger.ecs("i-1", "acme");
    ledger.ecs("i-2", "acme");
    ledger.ok(&["allocate", "i-1", "--number", "N-0001"]);
    ledger.bind("N-0001", "s.example.cn", "acme");
    ledger.ok(&["submit", "N-0001"]);
    ledger.ok(&["approve", "N-0001", "--icp-number", "京ICP备1号-1"]);
    ledger.ok(&[
        "service",
        "move",
        "s.example.cn",
        "--to",
        "i-2",
        "--commercial",
    ]);
    assert_eq!(
        ledger
            .json(&["report", "ip-updates"])
            .as_array()
            .unwrap()
            .len(),
        1
    );
    ledger.ok(&["deregister", "N-0001"]);
    assert_eq!(
        ledger.json(&["report", "ip-updates"]),
        serde_json::json!([])
    );
}

/// An exported history with one field of event `index` (0-based) replaced,
/// every hash after it recomputed so that only the replaced value is wrong.
fn forged_history(
    ledger: &Ledger,
    index: usize,
    field: &str,
    value: impl Fn(&EventRow, &[EventRow]) -> String,
) -> String {
    let rows = ledger.event_rows();
    let mut out = format!("{HISTORY_HEADER}\n");
    let mut prev = GENESIS.to_string();
    for (i, row) in rows.iter().enumerate() {
        let mut event_id = row.event_id.clone();
        if i == index && field == "event_id" {
            event_id = value(row, &rows);
        }
        let hash = chain_hash(
            &prev,
            row.seq,
            &event_id,
            &row.at,
            &row.actor,
            &row.kind,
            &row.payload,
        );
        let payload = format!("\"{}\"", row.payload.replace('"', "\"\""));
        out.push_str(&format!(
            "{},{event_id},{},{},{},{payload},{prev},{hash}\n",
            row.seq, row.at, row.actor, row.kind
        ));
        prev = hash;
    }
    out
}

#[test]
fn import_history_refuses_a_repeated_or_misspelt_event_id() {
    let source = Ledger::new();
    source.ecs("i-1", "acme");
    source.ecs("i-2", "acme");
    let repeated = forged_history(&source, 1, "event_id", |_, rows| rows[0].event_id.clone());
    let misspelt = forged_history(&source, 1, "event_id", |row, _| row.event_id.to_uppercase());
    let urn = forged_history(&source, 1, "event_id", |row, _| {
        format!("urn:uuid:{}", row.event_id)
    });
    let genuine = forged_history(&source, 1, "event_id", |row, _| row.event_id.clone());
    // For a log every defect is an integrity failure (exit 5), as in verify.
    for (name, text, exit, code) in [
        ("repeated", repeated, 5, "integrity"),
        ("upper", misspelt, 5, "integrity"),
        ("urn", urn, 5, "integrity"),
    ] {
        let target = source.sibling(name);
        target.ok(&["init"]);
        let file = target.write(&format!("{name}.csv"), text);
        target.refused(&["import", "history", file.to_str().unwrap()], exit, code);
        assert_eq!(target.event_count(), 0, "{name}");
    }
    let target = source.sibling("genuine");
    let file = target.write("genuine.csv", genuine);
    target.ok(&["import", "history", file.to_str().unwrap()]);
    target.verify_ok();
}
