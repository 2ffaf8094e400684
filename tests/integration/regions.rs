//! Regions as data (docs/guide.md "Regions"): the seeded table, `region list` and
//! `region set` (a `region_set` event in `history` and `--as-of`), unknown
//! regions and service types refused at registration with "did you mean",
//! eligibility reading the table, and the upgrade of a version-1 ledger.

use crate::common::*;
use serde_json::Value;

/// The region table as `region list --format json` gives it: id → mainland.
fn regions(ledger: &Ledger, extra: &[&str]) -> std::collections::BTreeMap<String, bool> {
    let mut args = vec!["region", "list"];
    args.extend_from_slice(extra);
    let list = ledger.json(&args);
    list.as_array()
        .expect("region list is an array")
        .iter()
        .map(|r| {
            (
                str_field(r, "region").to_string(),
                r["mainland"].as_bool().expect("mainland is a bool"),
            )
        })
        .collect()
}

fn reasons(check: &Value) -> Vec<String> {
    strings(&check["reasons"])
}

#[test]
fn the_seed_holds_the_provider_regions_and_marks_the_mainland() {
    let ledger = Ledger::new();
    ledger.ok(&["init"]);
    let table = regions(&ledger, &[]);
    for mainland in [
        "cn-qingdao",
        "cn-beijing",
        "cn-zhangjiakou",
        "cn-huhehaote",
        "cn-wulanchabu",
        "cn-hangzhou",
        "cn-shanghai",
        "cn-nanjing",
        "cn-fuzhou",
        "cn-wuhan-lr",
        "cn-shenzhen",
        "cn-heyuan",
        "cn-guangzhou",
        "cn-chengdu",
        "cn-hangzhou-finance",
        "cn-shanghai-finance-1",
        "cn-shenzhen-finance-1",
        "cn-beijing-finance-1",
    ] {
        assert_eq!(table.get(mainland), Some(&true), "{mainland}");
    }
    for outside in [
        "cn-hongkong",
        "ap-southeast-1",
        "ap-southeast-3",
        "ap-southeast-5",
        "ap-southeast-6",
        "ap-southeast-7",
        "ap-northeast-1",
        "ap-northeast-2",
        "us-east-1",
        "us-west-1",
        "eu-central-1",
        "eu-west-1",
        "me-east-1",
        "me-central-1",
    ] {
        assert_eq!(table.get(outside), Some(&false), "{outside}");
    }
    // Seed rows are not events.
    assert_eq!(ledger.event_count(), 0);
    let first = &ledger.json(&["region", "list"])[0];
    assert_eq!(first["updated_seq"], 0, "{first}");
    let text = ledger.ok(&["region", "list"]);
    assert!(
        text.contains("cn-hangzhou") && text.contains("mainland"),
        "{text}"
    );
}

#[test]
fn a_mistyped_region_or_type_is_refused_with_the_closest_known_id() {
    let ledger = Ledger::new();
    ledger.ok(&["init"]);
    let error = ledger.refused(
        &instance_add_args("i-1", "ecs", "acme", &["--region", "cn-hangzhoo"]),
        4,
        "region_unknown",
    );
    assert!(error.contains("did you mean cn-hangzhou?"), "{error}");
    let error = ledger.refused(
        &instance_add_args("i-1", "ecss", "acme", &[]),
        4,
        "service_type_unsupported",
    );
    assert!(error.contains("did you mean ecs?"), "{error}");
    // Nothing close: no suggestion, but how to add one.
    let error = ledger.refused(
        &instance_add_args("i-1", "ecs", "acme", &["--region", "mars-north-9"]),
        4,
        "region_unknown",
    );
    assert!(!error.contains("did you mean"), "{error}");
    assert!(error.contains("region set"), "{error}");
    // JSON errors carry the same code and suggestion.
    let args = instance_add_args("i-1", "linkedmal", "acme", &[]);
    let (exit, code, message) = ledger.json_error_at(NOW, &args);
    assert_eq!((exit, code.as_str()), (4, "service_type_unsupported"));
    assert!(message.contains("did you mean linkedmall?"), "{message}");
    // The id was not burnt by the typos.
    ledger.add_instance("i-1", "ecs", "acme", &["--public-ip", "47.96.10.21"]);
    assert_eq!(ledger.event_count(), 1);
}

#[test]
fn an_import_row_with_an_unknown_region_fails_at_its_line_and_imports_nothing() {
    let ledger = Ledger::with(CSV_NOW, CSV_ACTOR);
    ledger.ok(&["init"]);
    let file = ledger.write(
        "instances.csv",
        format!(
            "{INSTANCES_HEADER}\n{}i-2,ecs,acme,cn-shangai,subscription,12,2027-12-31T16:00:00Z,47.96.113.11,\n",
            ecs_row("i-1", "acme")
        ),
    );
    let before = ledger.export_history();
    let output = ledger.run(&["import".as_ref(), "instances".as_ref(), file.as_os_str()]);
    assert_fails(&output, 4, "region_unknown", "import with a typo");
    let lines = failure_lines(&output);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].starts_with("line 3: error[region_unknown]"),
        "{lines:?}"
    );
    assert!(lines[0].contains("did you mean cn-shanghai?"), "{lines:?}");
    assert_eq!(ledger.export_history(), before);
}

#[test]
fn region_set_adds_an_edge_region_and_changes_eligibility_from_then_on() {
    let ledger = Ledger::with(AUDIT_NOW, AUDIT_ACTOR);
    let t1 = "2026-04-01T00:00:00Z";
    let t2 = "2026-05-01T00:00:00Z";
    // An edge node region is added by the operator, then used.
    let added = ledger.json_at(
        t1,
        &["region", "set", "cn-hangzhou-ens-1", "--mainland", "true"],
    );
    assert_eq!(added["region"], "cn-hangzhou-ens-1");
    assert_eq!(added["mainland"], true);
    assert_eq!(added["updated_seq"], 1);
    ledger.add_instance_at(
        t1,
        "ens-1",
        "ens",
        "acme",
        &["--region", "cn-hangzhou-ens-1"],
    );
    ledger.ecs_at(t1, "sz-1", "acme", EXPIRES, "47.96.10.21");
    ledger.ok_at(t1, &["allocate", "ens-1"]);
    // Shenzhen leaves the mainland (say, by an operator's correction).
    ledger.ok_at(t2, &["region", "set", "cn-shenzhen", "--mainland", "false"]);
    ledger.ok_at(t2, &["region", "set", "cn-shenzhen", "--mainland", "true"]);
    ledger.ok_at(t2, &["region", "set", "cn-shenzhen", "--mainland", "false"]);
    let t3 = "2026-06-01T00:00:00Z";
    let sz = ledger.json_at(
        t3,
        &["instance", "amend", "sz-1", "--region", "cn-shenzhen"],
    );
    assert_eq!(sz["region"], "cn-shenzhen");
    assert_eq!(
        reasons(&ledger.json(&["check", "sz-1"])),
        vec!["region_not_mainland"]
    );
    ledger.refused_at(t3, &["allocate", "sz-1"], 4, "region_not_mainland");
    // The log has each change; --as-of sees the table as it stood.
    let events = ledger.events(&["--kind", "region_set"]);
    assert_eq!(events.len(), 4);
    assert_eq!(
        events[1]["payload"],
        serde_json::json!({"region": "cn-shenzhen", "mainland": false})
    );
    assert_eq!(
        regions(&ledger, &["--as-of", t1]).get("cn-shenzhen"),
        Some(&true)
    );
    assert_eq!(regions(&ledger, &[]).get("cn-shenzhen"), Some(&false));
    assert_eq!(
        regions(&ledger, &["--as-of", "2026-03-01T00:00:00Z"]).get("cn-hangzhou-ens-1"),
        None
    );
    let history = ledger.ok(&["history", "--kind", "region_set"]);
    assert!(history.contains("cn-hangzhou-ens-1"), "{history}");
    assert_eq!(ledger.verify_ok(), 8);
}

#[test]
fn region_set_refusals_change_nothing() {
    let ledger = Ledger::new();
    ledger.ok(&["init"]);
    let error = ledger.refused(
        &["region", "set", "cn-hangzhou", "--mainland", "true"],
        2,
        "usage",
    );
    assert!(error.contains("already"), "{error}");
    ledger.refused(
        &["region", "set", "CN_Hangzhou", "--mainland", "true"],
        2,
        "usage",
    );
    ledger.refused(
        &["region", "set", "cn-x", "--mainland", "maybe"],
        2,
        "usage",
    );
    ledger.refused(&["region", "set", "cn-x"], 2, "usage");
    assert_eq!(ledger.event_count(), 0);
}

#[test]
fn a_region_row_edited_outside_the_program_fails_verify() {
    let ledger = Ledger::new();
    ledger.ok(&["region", "set", "cn-hangzhou-ens-1", "--mainland", "true"]);
    ledger.verify_ok();
    ledger.tamper("UPDATE regions SET mainland = 0 WHERE region_id = 'cn-hangzhou-ens-1'");
    let (code, report) = ledger.verify();
    assert_eq!(code, 5, "{report}");
    assert_eq!(report["first_bad_seq"], 1, "{report}");
    assert!(
        report.to_string().contains("regions row cn-hangzhou-ens-1"),
        "{report}"
    );
    // A seed row edited: named too.
    let other = Ledger::new();
    other.ok(&["init"]);
    other.tamper("UPDATE regions SET mainland = 1 WHERE region_id = 'cn-hongkong'");
    let (code, report) = other.verify();
    assert_eq!(code, 5, "{report}");
    assert!(report.to_string().contains("cn-hongkong"), "{report}");
}

#[test]
fn a_version_1_ledger_gains_the_region_table_on_open() {
    sqlite_only!("builds an old SQLite schema");
    let ledger = Ledger::new();
    ledger.ecs("i-1", "acme");
    let numbers = ledger.allocate("i-1", 1);
    // Make it a ledger as version 1 of the schema left it.
    {
        let conn = ledger.conn();
        // Undo migrations 4 (past versions), 3 (names) and 2 (regions),
        // newest first.
        conn.execute_batch(UNDO_MIGRATION_4).unwrap();
        conn.execute_batch(
            "DROP INDEX services_by_key; DROP INDEX instances_by_folded_id;
             DROP INDEX numbers_by_folded_number; DROP INDEX numbers_by_icp_number;
             ALTER TABLE services DROP COLUMN service_key;
             DROP TABLE regions; PRAGMA user_version = 1;",
        )
        .unwrap();
    }
    // A read opens it and upgrades it.
    assert_eq!(ledger.number(&numbers[0])["status"], "unbound");
    let conn = ledger.conn();
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert!(version >= 2, "user_version {version}");
    drop(conn);
    assert_eq!(ledger.count("regions"), regions(&ledger, &[]).len() as i64);
    assert!(ledger.count("regions") >= 32);
    ledger.verify_ok();
    ledger.ok(&["allocate", "i-1"]);
    assert_eq!(ledger.verify_ok(), 3);
}

#[test]
fn a_log_with_region_set_rebuilds_exactly_through_import_history() {
    let ledger = Ledger::new();
    ledger.ok(&["region", "set", "cn-guangzhou-ens-2", "--mainland", "true"]);
    ledger.add_instance("ens-1", "ens", "acme", &["--region", "cn-guangzhou-ens-2"]);
    ledger.allocate("ens-1", 2);
    let history = ledger.export_history();
    let copy = ledger.sibling("copy");
    let file = copy.write("history.csv", &history);
    copy.ok(&["import".as_ref(), "history".as_ref(), file.as_os_str()]);
    assert_eq!(copy.export_history(), history);
    assert_eq!(copy.verify_ok(), 3);
}
