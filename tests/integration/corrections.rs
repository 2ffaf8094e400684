//! Corrections (docs/guide.md "Corrections"): `instance amend`, `import instances
//! --sync`, `service rename`, and numbers of released or expired instances.

use crate::common::*;
use serde_json::{json, Value};

fn amend(ledger: &Ledger, id: &str, flags: &[&str]) -> Value {
    let mut args = vec!["instance", "amend", id];
    args.extend_from_slice(flags);
    ledger.json(&args)
}

fn payload(ledger: &Ledger) -> Value {
    let event = ledger.last_event();
    assert_eq!(event["kind"], "instance_amended", "{event}");
    event["payload"].clone()
}

#[test]
fn an_instance_whose_public_ip_arrives_later_becomes_eligible() {
    let ledger = Ledger::new();
    ledger.add_instance("i-web", "ecs", "acme", &[]);
    let check = ledger.json(&["check", "i-web"]);
    assert_eq!(strings(&check["reasons"]), vec!["no_public_ip"]);
    ledger.refused(&["allocate", "i-web"], 4, "no_public_ip");
    let shown = amend(&ledger, "i-web", &["--public-ip", "47.96.10.21"]);
    assert_eq!(shown["public_ip"], "47.96.10.21");
    assert_eq!(
        payload(&ledger),
        json!({"instance_id": "i-web", "account": "acme",
               "public_ip": {"old": null, "new": "47.96.10.21"}})
    );
    assert_eq!(ledger.json(&["check", "i-web"])["eligible"], true);
    ledger.allocate("i-web", 2);
    assert_eq!(ledger.verify_ok(), 3);
}

#[test]
fn each_field_is_amended_with_its_old_and_new_value() {
    let ledger = Ledger::new();
    ledger.add_instance(
        "i-1",
        "ecs",
        "acme",
        &["--billing", "pay-as-you-go", "--public-ip", "47.96.10.21"],
    );
    amend(&ledger, "i-1", &["--public-ip", "none"]);
    assert_eq!(
        payload(&ledger)["public_ip"],
        json!({"old": "47.96.10.21", "new": null})
    );
    amend(&ledger, "i-1", &["--billing", "subscription"]);
    assert_eq!(
        payload(&ledger)["billing"],
        json!({"old": "pay-as-you-go", "new": "subscription"})
    );
    amend(&ledger, "i-1", &["--order-amount", "99.5"]);
    assert_eq!(
        payload(&ledger)["order_amount"],
        json!({"old": null, "new": "99.50"})
    );
    amend(&ledger, "i-1", &["--order-amount", "none"]);
    assert_eq!(
        payload(&ledger)["order_amount"],
        json!({"old": "99.50", "new": null})
    );
    let shown = amend(
        &ledger,
        "i-1",
        &[
            "--type",
            "iot_studio",
            "--region",
            "cn-beijing",
            "--account",
            "beta",
        ],
    );
    assert_eq!(
        (&shown["service_type"], &shown["region"], &shown["account"]),
        (&json!("iot_studio"), &json!("cn-beijing"), &json!("beta"))
    );
    let last = payload(&ledger);
    assert_eq!(
        last,
        json!({"instance_id": "i-1", "account": "acme",
               "service_type": {"old": "ecs", "new": "iot_studio"},
               "region": {"old": "cn-hangzhou", "new": "cn-beijing"},
               "owner": {"old": "acme", "new": "beta"}})
    );
    // A field given with its current value is not a change.
    amend(
        &ledger,
        "i-1",
        &["--region", "cn-beijing", "--billing", "trial"],
    );
    assert_eq!(
        keys(&payload(&ledger)),
        sorted(&["account", "billing", "instance_id"])
    );
    // Both owners find the event.
    assert_eq!(ledger.events(&["--account", "beta"]).len(), 2);
    assert_eq!(ledger.events(&["--kind", "instance_amended"]).len(), 6);
    assert_eq!(ledger.verify_ok(), 7);
}

#[test]
fn amend_refusals_name_their_reason_and_change_nothing() {
    let ledger = Ledger::new();
    ledger.ecs("i-used", "acme");
    ledger.allocate("i-used", 1);
    ledger.ecs("i-gone", "acme");
    ledger.ok(&["instance", "release", "i-gone"]);
    ledger.ecs("i-new", "acme");
    let amend_args = |id: &'static str, flags: &[&'static str]| {
        let mut args = vec!["instance", "amend", id];
        args.extend_from_slice(flags);
        args
    };
    ledger.refused(
        &amend_args("i-none", &["--billing", "trial"]),
        3,
        "not_found",
    );
    let error = ledger.refused(
        &amend_args("i-gone", &["--billing", "trial"]),
        4,
        "released",
    );
    assert!(error.contains("i-gone"), "{error}");
    for flags in [
        &["--type", "ens"][..],
        &["--region", "cn-beijing"],
        &["--account", "beta"],
    ] {
        let error = ledger.refused(&amend_args("i-used", flags), 4, "wrong_status");
        assert!(error.contains("consumed 1 slot"), "{flags:?}: {error}");
    }
    // What may still change on a used instance.
    ledger.ok(&amend_args("i-used", &["--order-amount", "120"]));
    let error = ledger.refused(&amend_args("i-new", &[]), 2, "usage");
    assert!(error.contains("nothing changes"), "{error}");
    ledger.refused(
        &amend_args("i-new", &["--public-ip", "47.96.10.21"]),
        2,
        "usage",
    );
    let error = ledger.refused(
        &amend_args("i-new", &["--region", "cn-bejing"]),
        4,
        "region_unknown",
    );
    assert!(error.contains("did you mean cn-beijing?"), "{error}");
    let error = ledger.refused(
        &amend_args("i-new", &["--type", "enss"]),
        4,
        "service_type_unsupported",
    );
    assert!(error.contains("did you mean ens?"), "{error}");
    ledger.refused(
        &amend_args("i-new", &["--public-ip", "10.0.0.1"]),
        2,
        "usage",
    );
    ledger.refused(
        &amend_args("i-new", &["--order-amount", "1.234"]),
        2,
        "usage",
    );
    ledger.refused(&amend_args("i-new", &["--billing", "monthly"]), 2, "usage");
    ledger.refused(&amend_args("i-new", &["--account", "-x"]), 2, "usage");
    ledger.verify_ok();
}

const SYNC_NOW: &str = "2026-11-23T12:00:00Z";

/// The ledger of a console export: four instances, one of them used.
fn synced_ledger() -> Ledger {
    let ledger = Ledger::with(SYNC_NOW, CSV_ACTOR);
    let file = ledger.write(
        "october.csv",
        format!(
            "{INSTANCES_HEADER}\n\
             i-same,ecs,acme,cn-hangzhou,subscription,12,2027-12-31T16:00:00Z,47.96.113.10,\n\
             i-ip,ecs,acme,cn-hangzhou,subscription,12,2027-12-31T16:00:00Z,,\n\
             i-renew,ecs,acme,cn-shanghai,subscription,12,2027-06-30T16:00:00Z,47.96.113.12,\n\
             i-gone,ecs,acme,cn-beijing,subscription,12,2027-06-30T16:00:00Z,47.96.113.13,\n"
        ),
    );
    ledger.ok(&["import".as_ref(), "instances".as_ref(), file.as_os_str()]);
    ledger.allocate("i-renew", 1);
    ledger
}

const REFRESHED: &str =
    "i-same,ecs,acme,cn-hangzhou,subscription,12,2027-12-31T16:00:00Z,47.96.113.10,\n\
     i-ip,ecs,acme,cn-hangzhou,subscription,12,2027-12-31T16:00:00Z,47.96.113.11,\n\
     i-renew,ecs,acme,cn-shanghai,subscription,24,2028-06-30T16:00:00Z,47.96.113.99,\n\
     i-added,ecs,beta,cn-shenzhen,subscription,6,2027-05-31T16:00:00Z,47.96.113.14,\n";

fn sync(ledger: &Ledger, file: &std::path::Path, extra: &[&str]) -> std::process::Output {
    let mut args: Vec<&std::ffi::OsStr> = vec!["import".as_ref(), "instances".as_ref()];
    args.push(file.as_os_str());
    args.push("--sync".as_ref());
    args.extend(extra.iter().map(std::ffi::OsStr::new));
    ledger.run(&args)
}

#[test]
fn sync_adds_renews_amends_leaves_identical_rows_and_reports_absent_ones() {
    let ledger = synced_ledger();
    let file = ledger.write("november.csv", format!("{INSTANCES_HEADER}\n{REFRESHED}"));
    // The dry run says what each row would do and writes nothing.
    let before = ledger.export_all();
    let output = sync(&ledger, &file, &["--dry-run", "--format", "json"]);
    assert_ok(&output, "sync --dry-run");
    let report: Value = serde_json::from_str(stdout(&output).trim()).unwrap();
    let actions: Vec<(String, String)> = report["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                str_field(a, "instance_id").into(),
                str_field(a, "action").into(),
            )
        })
        .collect();
    let expected: Vec<(String, String)> = [
        ("i-same", "unchanged"),
        ("i-ip", "amend"),
        ("i-renew", "renew+amend"),
        ("i-added", "add"),
    ]
    .iter()
    .map(|(i, a)| (i.to_string(), a.to_string()))
    .collect();
    assert_eq!(actions, expected);
    assert_eq!(strings(&report["absent"]), vec!["i-gone"]);
    assert_eq!(report["dry_run"], true);
    assert_eq!(ledger.export_all(), before, "a dry run wrote");
    let table = Out::from(sync(&ledger, &file, &["--dry-run"]));
    assert!(table.stdout.contains("never released"), "{}", table.stdout);
    // The real run.
    let report = ledger.json(&[
        "import".as_ref(),
        "instances".as_ref(),
        file.as_os_str(),
        "--sync".as_ref(),
    ]);
    assert_eq!(
        (
            &report["added"],
            &report["renewed_and_amended"],
            &report["amended"],
            &report["unchanged"]
        ),
        (&json!(1), &json!(1), &json!(1), &json!(1))
    );
    assert_eq!(report["events"], 4);
    let renewed = ledger.instance("i-renew");
    assert_eq!(renewed["subscription_months"], 24);
    assert_eq!(renewed["public_ip"], "47.96.113.99");
    assert_eq!(ledger.instance("i-ip")["public_ip"], "47.96.113.11");
    assert_eq!(ledger.instance("i-added")["account"], "beta");
    assert_eq!(ledger.instance("i-gone")["state"], "active");
    // Run again: everything is unchanged, nothing is appended.
    let count = ledger.event_count();
    let again = ledger.json(&[
        "import".as_ref(),
        "instances".as_ref(),
        file.as_os_str(),
        "--sync".as_ref(),
    ]);
    assert_eq!(again["unchanged"], 4);
    assert_eq!(ledger.event_count(), count);
    ledger.verify_ok();
}

#[test]
fn sync_is_all_or_nothing_on_a_bad_row() {
    let ledger = synced_ledger();
    let cases = [
        // Fewer months than the ledger's: a refresh never shrinks.
        (
            "i-same,ecs,acme,cn-hangzhou,subscription,6,2027-12-31T16:00:00Z,47.96.113.10,\n",
            2,
            "usage",
        ),
        // Another expiry without more months.
        (
            "i-same,ecs,acme,cn-hangzhou,subscription,12,2028-12-31T16:00:00Z,47.96.113.10,\n",
            2,
            "usage",
        ),
        // More months, but an earlier expiry.
        (
            "i-same,ecs,acme,cn-hangzhou,subscription,13,2027-01-31T16:00:00Z,47.96.113.10,\n",
            2,
            "usage",
        ),
        // The type of a used instance.
        (
            "i-renew,ens,acme,cn-shanghai,subscription,24,2028-06-30T16:00:00Z,47.96.113.99,\n",
            4,
            "wrong_status",
        ),
        // An unknown region.
        (
            "i-same,ecs,acme,cn-hangzho,subscription,12,2027-12-31T16:00:00Z,47.96.113.10,\n",
            4,
            "region_unknown",
        ),
    ];
    for (row, exit, code) in cases {
        let file = ledger.write("bad.csv", format!("{INSTANCES_HEADER}\n{REFRESHED}{row}"));
        let before = ledger.export_all();
        let output = sync(&ledger, &file, &[]);
        assert_fails(&output, exit, code, row);
        let lines = failure_lines(&output);
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(
            lines[0].starts_with(&format!("line 6: error[{code}]")),
            "{lines:?}"
        );
        assert_eq!(ledger.export_all(), before, "{row}: a failed sync wrote");
        // The dry run lists the failing row's action as fail.
        let output = sync(&ledger, &file, &["--dry-run", "--format", "json"]);
        assert_eq!(output.status.code(), Some(exit));
        let report: Value = serde_json::from_str(stdout(&output).trim()).unwrap();
        assert_eq!(report["actions"][4]["action"], "fail", "{report}");
        assert_eq!(ledger.export_all(), before);
    }
    // A released instance whose facts differ cannot be renewed or amended.
    ledger.ok(&["instance", "release", "i-gone"]);
    let file = ledger.write(
        "released.csv",
        format!("{INSTANCES_HEADER}\ni-gone,ecs,acme,cn-beijing,subscription,12,2027-06-30T16:00:00Z,47.96.113.77,\n"),
    );
    let before = ledger.export_all();
    assert_fails(
        &sync(&ledger, &file, &[]),
        4,
        "released",
        "sync of a released instance",
    );
    assert_eq!(ledger.export_all(), before);
}

/// A ledger with a bound service `shop.exmaple.cn` on number `n`.
fn bound_service() -> (Ledger, String) {
    let ledger = Ledger::new();
    ledger.ecs("i-1", "acme");
    let number = ledger.allocate_one("i-1");
    ledger.bind(&number, "shop.exmaple.cn", "acme");
    (ledger, number)
}

#[test]
fn rename_corrects_a_bound_service_name() {
    let (ledger, number) = bound_service();
    ledger.set_now("2026-03-02T10:00:00Z");
    let shown = ledger.json(&[
        "service",
        "rename",
        "shop.exmaple.cn",
        "--to",
        "shop.example.cn",
    ]);
    assert_eq!(shown["service"], "shop.example.cn");
    assert_eq!(shown["number"], number.as_str());
    assert_eq!(ledger.number(&number)["service"], "shop.example.cn");
    ledger.refused(&["service", "show", "shop.exmaple.cn"], 3, "not_found");
    let event = ledger.last_event();
    assert_eq!(event["kind"], "service_renamed");
    assert_eq!(event["payload"]["service"], "shop.exmaple.cn");
    assert_eq!(event["payload"]["to"], "shop.example.cn");
    // Both names find the event; the slot count is unchanged.
    assert_eq!(ledger.events(&["--service", "shop.exmaple.cn"]).len(), 2);
    assert_eq!(ledger.events(&["--service", "shop.example.cn"]).len(), 1);
    assert_eq!(ledger.consumed("i-1"), 1);
    let listed = ledger.json(&["service", "list"]);
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    // The renamed service goes on as any other.
    ledger.ok(&["submit", &number]);
    ledger.verify_ok();
    // --as-of before the rename shows the old name.
    let history = ledger.events(&[]);
    let at_bind = str_field(&history[2], "at").to_string();
    let old = ledger.json(&["service", "show", "shop.exmaple.cn", "--as-of", &at_bind]);
    assert_eq!(old["number"], number.as_str());
}

#[test]
fn rename_refusals_change_nothing() {
    let (ledger, number) = bound_service();
    let other = ledger.allocate_one("i-1");
    ledger.bind(&other, "taken.example.cn", "acme");
    let rename = |from: &'static str, to: &'static str| vec!["service", "rename", from, "--to", to];
    ledger.refused(
        &rename("shop.exmaple.cn", "taken.example.cn"),
        4,
        "service_taken",
    );
    ledger.refused(&rename("shop.exmaple.cn", "shop.exmaple.cn"), 2, "usage");
    ledger.refused(
        &rename("nothing.example.cn", "new.example.cn"),
        3,
        "not_found",
    );
    ledger.refused(&rename("shop.exmaple.cn", "bad\u{200b}name"), 2, "usage");
    ledger.ok(&["submit", &number]);
    let error = ledger.refused(
        &rename("shop.exmaple.cn", "shop.example.cn"),
        4,
        "wrong_status",
    );
    assert!(error.contains("filing"), "{error}");
    ledger.ok(&["approve", &number, "--icp-number", "浙ICP备12345678号-1"]);
    ledger.refused(
        &rename("shop.exmaple.cn", "shop.example.cn"),
        4,
        "wrong_status",
    );
    ledger.verify_ok();
}

#[test]
fn numbers_of_a_released_or_expired_instance_cannot_be_granted_bound_or_submitted() {
    let ledger = Ledger::with(AUDIT_NOW, AUDIT_ACTOR);
    let t0 = "2026-01-10T00:00:00Z";
    // Released: an unbound number, a bound one, one under review, one filed.
    ledger.ecs_at(t0, "i-rel", "acme", "2027-06-01T00:00:00Z", "47.96.10.21");
    let numbers: Vec<String> = {
        let answer = ledger.json_at(t0, &["allocate", "i-rel", "--count", "4"]);
        strings(&answer["numbers"])
    };
    for (number, service) in
        numbers[1..]
            .iter()
            .zip(["b.example.cn", "c.example.cn", "d.example.cn"])
    {
        ledger.bind_at(t0, number, service, "acme");
    }
    ledger.ok_at(t0, &["submit", &numbers[2]]);
    ledger.ok_at(t0, &["submit", &numbers[3]]);
    ledger.ok_at(t0, &["instance", "release", "i-rel"]);
    let t1 = "2026-02-01T00:00:00Z";
    ledger.refused_at(t1, &["grant", &numbers[0], "--to", "beta"], 4, "released");
    ledger.refused_at(
        t1,
        &[
            "bind",
            &numbers[0],
            "--service",
            "a.example.cn",
            "--account",
            "acme",
        ],
        4,
        "released",
    );
    let error = ledger.refused_at(t1, &["submit", &numbers[1]], 4, "released");
    assert!(error.contains("i-rel"), "{error}");
    // What happens to filings already under way is still recorded.
    ledger.ok_at(
        t1,
        &[
            "approve",
            &numbers[2],
            "--icp-number",
            "浙ICP备12345678号-2",
        ],
    );
    ledger.ok_at(
        t1,
        &["reject", &numbers[3], "--reason", "instance released"],
    );
    ledger.ok_at(t1, &["deregister", &numbers[2]]);
    ledger.ok_at(
        t1,
        &["invalidate", &numbers[0], "--reason", "instance released"],
    );
    // Expired: the same, at the event's time.
    ledger.ecs_at(t1, "i-exp", "acme", "2026-03-01T00:00:00Z", "47.96.10.22");
    let numbers: Vec<String> = {
        let answer = ledger.json_at(t1, &["allocate", "i-exp", "--count", "2"]);
        strings(&answer["numbers"])
    };
    ledger.bind_at(t1, &numbers[1], "e.example.cn", "acme");
    let t2 = "2026-03-01T00:00:00Z";
    ledger.refused_at(t2, &["grant", &numbers[0], "--to", "beta"], 4, "expired");
    ledger.refused_at(
        t2,
        &[
            "bind",
            &numbers[0],
            "--service",
            "f.example.cn",
            "--account",
            "acme",
        ],
        4,
        "expired",
    );
    let error = ledger.refused_at(t2, &["submit", &numbers[1]], 4, "expired");
    assert!(error.contains("expired at 2026-03-01T00:00:00Z"), "{error}");
    ledger.ok_at(t2, &["deregister", &numbers[1], "--reason", "expired"]);
    // Renewed, the numbers are good again.
    ledger.ok_at(
        t2,
        &[
            "instance",
            "renew",
            "i-exp",
            "--months",
            "12",
            "--expires",
            "2027-03-01",
        ],
    );
    ledger.ok_at(t2, &["grant", &numbers[0], "--to", "beta"]);
    ledger.verify_ok();
}

#[test]
fn a_log_using_every_correction_rebuilds_exactly_through_import_history() {
    let (ledger, number) = bound_service();
    ledger.add_instance("i-2", "ecs", "acme", &[]);
    ledger.ok(&[
        "instance",
        "amend",
        "i-2",
        "--public-ip",
        "47.96.10.30",
        "--order-amount",
        "100",
    ]);
    ledger.ok(&[
        "instance",
        "amend",
        "i-2",
        "--account",
        "beta",
        "--region",
        "cn-beijing",
    ]);
    ledger.ok(&["region", "set", "cn-beijing-ens-1", "--mainland", "true"]);
    ledger.ok(&[
        "service",
        "rename",
        "shop.exmaple.cn",
        "--to",
        "shop.example.cn",
    ]);
    ledger.ok(&["submit", &number]);
    let history = ledger.export_history();
    let copy = ledger.sibling("copy");
    let file = copy.write("history.csv", &history);
    copy.ok(&["import".as_ref(), "history".as_ref(), file.as_os_str()]);
    assert_eq!(copy.export_history(), history);
    assert_eq!(copy.export("instances"), ledger.export("instances"));
    assert_eq!(copy.export("numbers"), ledger.export("numbers"));
    assert_eq!(copy.verify_ok(), 9);
}
