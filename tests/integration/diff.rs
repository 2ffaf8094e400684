//! `diff --from T1 [--to T2]` (docs/reference.md "What changed between two moments"):
//! every instance, number and service whose state differs between two
//! moments, before and after, as JSON, CSV and a table.

use crate::common::*;
use serde_json::{json, Value};

const T1: &str = "2026-01-10T00:00:00Z";
const T2: &str = "2026-02-10T00:00:00Z";
const T3: &str = "2026-03-10T00:00:00Z";
const LATER: &str = "2026-06-01T00:00:00Z";

/// Two instances in January; in February one allocates, grants and binds
/// (then renames the service) and the other is released; in March the
/// granted number is submitted. Returns the two numbers of i-a.
fn month_ledger() -> (Ledger, Vec<String>) {
    let l = Ledger::with(LATER, ACTOR);
    l.ecs_at("2026-01-05T00:00:00Z", "i-a", "acme", EXPIRES, "47.96.1.1");
    l.ecs_at("2026-01-05T00:00:00Z", "i-b", "acme", EXPIRES, "47.96.1.2");
    l.ecs_at(
        "2026-01-06T00:00:00Z",
        "i-quiet",
        "beta",
        EXPIRES,
        "47.96.1.3",
    );
    l.set_now("2026-02-01T00:00:00Z");
    let numbers = l.allocate("i-a", 2);
    l.ok_at(
        "2026-02-02T00:00:00Z",
        &["grant", &numbers[0], "--to", "cust-7"],
    );
    l.bind_at(
        "2026-02-03T00:00:00Z",
        &numbers[0],
        "shop.example.cn",
        "cust-7",
    );
    l.ok_at(
        "2026-02-04T00:00:00Z",
        &[
            "service",
            "rename",
            "shop.example.cn",
            "--to",
            "www.example.cn",
        ],
    );
    l.ok_at("2026-02-05T00:00:00Z", &["instance", "release", "i-b"]);
    l.ok_at("2026-03-01T00:00:00Z", &["submit", &numbers[0]]);
    l.set_now(LATER);
    (l, numbers)
}

fn diff(l: &Ledger, args: &[&str]) -> Vec<Value> {
    let mut all = vec!["diff"];
    all.extend_from_slice(args);
    l.json(&all)
        .as_array()
        .expect("diff gives an array")
        .clone()
}

fn find<'a>(diffs: &'a [Value], kind: &str, key: &str) -> Option<&'a Value> {
    diffs.iter().find(|d| d["kind"] == kind && d["key"] == key)
}

/// field → (before, after) of one changed row.
fn fields(row: &Value) -> Vec<(String, Value, Value)> {
    row["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["field"].as_str().unwrap().to_string(),
                f["before"].clone(),
                f["after"].clone(),
            )
        })
        .collect()
}

#[test]
fn diff_lists_created_changed_removed_and_released_rows_and_nothing_else() {
    let (l, numbers) = month_ledger();
    let diffs = diff(&l, &["--from", T1, "--to", T2]);

    // The allocation: the instance's consumed count changed, two numbers created.
    let a = find(&diffs, "instance", "i-a").expect("i-a changed");
    assert_eq!(a["change"], "changed");
    assert_eq!(fields(a), vec![("consumed".into(), json!("0"), json!("2"))]);
    assert_eq!(a["before"]["consumed"], 0);
    assert_eq!(a["after"]["consumed"], 2);
    let granted = find(&diffs, "number", &numbers[0]).expect("first number");
    assert_eq!(granted["change"], "created");
    assert_eq!(granted["before"], Value::Null);
    assert_eq!(granted["after"]["holder"], "cust-7");
    assert_eq!(granted["after"]["status"], "bound");
    assert_eq!(granted["after"]["service"], "www.example.cn");
    let unbound = find(&diffs, "number", &numbers[1]).expect("second number");
    assert_eq!(unbound["after"]["status"], "unbound");

    // Released: a change of state, not a removal.
    let b = find(&diffs, "instance", "i-b").expect("i-b released");
    assert_eq!(b["change"], "changed");
    assert_eq!(
        fields(b),
        vec![("state".into(), json!("active"), json!("released"))]
    );

    // The service was bound and renamed inside the window: only the new
    // name exists at T2, and the old one existed at neither moment.
    let service = find(&diffs, "service", "www.example.cn").expect("renamed service");
    assert_eq!(service["change"], "created");
    assert_eq!(service["after"]["number"], json!(numbers[0]));
    assert_eq!(service["after"]["host"], "i-a");
    assert!(
        find(&diffs, "service", "shop.example.cn").is_none(),
        "{diffs:?}"
    );

    // Untouched and not-yet rows are not listed.
    assert!(find(&diffs, "instance", "i-quiet").is_none());
    assert_eq!(diffs.len(), 5, "{diffs:#?}");
}

#[test]
fn diff_shows_field_level_before_and_after_across_windows() {
    let (l, numbers) = month_ledger();
    // February to March: only the submission.
    let diffs = diff(&l, &["--from", T2, "--to", T3]);
    assert_eq!(diffs.len(), 1, "{diffs:#?}");
    let submitted = &diffs[0];
    assert_eq!(
        (&submitted["kind"], &submitted["key"], &submitted["change"]),
        (&json!("number"), &json!(numbers[0]), &json!("changed"))
    );
    assert_eq!(
        fields(submitted),
        vec![("status".into(), json!("bound"), json!("filing"))]
    );
    assert_eq!(submitted["before"]["status"], "bound");

    // A rename alone, seen from just before it: the old name is removed.
    let diffs = diff(
        &l,
        &[
            "--from",
            "2026-02-03T12:00:00Z",
            "--to",
            "2026-02-04T12:00:00Z",
        ],
    );
    let removed = find(&diffs, "service", "shop.example.cn").expect("old name");
    assert_eq!(removed["change"], "removed");
    assert_eq!(removed["after"], Value::Null);
    assert_eq!(removed["before"]["number"], json!(numbers[0]));
    let created = find(&diffs, "service", "www.example.cn").expect("new name");
    assert_eq!(created["change"], "created");
    let number = find(&diffs, "number", &numbers[0]).expect("its number");
    assert_eq!(
        fields(number),
        vec![(
            "service".into(),
            json!("shop.example.cn"),
            json!("www.example.cn")
        )]
    );

    // From before the ledger: everything that exists, created.
    let diffs = diff(&l, &["--from", "2025-01-01", "--to", T1]);
    let kinds: Vec<(&str, &str)> = diffs
        .iter()
        .map(|d| (d["kind"].as_str().unwrap(), d["change"].as_str().unwrap()))
        .collect();
    assert_eq!(kinds, vec![("instance", "created"); 3]);
    // The same moment twice: nothing differs.
    assert_eq!(diff(&l, &["--from", T2, "--to", T2]), Vec::<Value>::new());
}

#[test]
fn diff_to_defaults_to_now_and_the_later_events_count() {
    let (l, numbers) = month_ledger();
    // --now is LATER: the submission is in.
    let diffs = diff(&l, &["--from", T2]);
    let submitted = find(&diffs, "number", &numbers[0]).expect("submitted");
    assert_eq!(submitted["after"]["status"], "filing");
    // A moment before the submission leaves it out.
    let diffs = diff(&l, &["--from", T2, "--to", "2026-02-28T00:00:00Z"]);
    assert!(diffs.is_empty(), "{diffs:?}");
}

#[test]
fn diff_as_csv_and_table_one_row_per_changed_field() {
    let (l, _) = month_ledger();
    let csv = l.ok(&["--format", "csv", "diff", "--from", T1, "--to", T2]);
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("kind,key,change,field,before,after"));
    let rows: Vec<&str> = lines.collect();
    assert!(rows.contains(&"instance,i-a,changed,consumed,0,2"), "{csv}");
    assert!(
        rows.contains(&"instance,i-b,changed,state,active,released"),
        "{csv}"
    );
    assert!(
        rows.contains(&"service,www.example.cn,created,host,,i-a"),
        "{csv}"
    );
    assert!(!csv.contains("i-quiet"), "{csv}");

    // Tables show a time field's values in --tz; CSV keeps UTC.
    let from_start = ["diff", "--from", "2025-01-01", "--to", T1];
    let table = l.ok(&[&["--tz", "Asia/Shanghai"][..], &from_start].concat());
    assert!(table.contains("2027-03-01 08:00:00 +08:00"), "{table}");
    let csv = l.ok(&[
        &["--tz", "Asia/Shanghai", "--format", "csv"][..],
        &from_start,
    ]
    .concat());
    assert!(
        csv.contains(&format!("instance,i-a,created,expires_at,,{EXPIRES}")),
        "{csv}"
    );
}

#[test]
fn diff_refuses_a_later_from_and_bad_times() {
    let (l, _) = month_ledger();
    let message = l.refused(&["diff", "--from", T2, "--to", T1], 2, "usage");
    assert!(message.contains("is after --to"), "{message}");
    let (code, error, _) = l.json_error_at(LATER, &["diff", "--from", T3, "--to", T2]);
    assert_eq!((code, error.as_str()), (2, "usage"));
    // --to defaults to now: a --from after now is refused too.
    l.refused(&["diff", "--from", "2027-01-01"], 2, "usage");
    l.refused(&["diff", "--from", "last week"], 2, "usage");
    l.refused(&["diff", "--from", T1, "--to", "2026-02-30"], 2, "usage");
    l.refused(&["diff"], 2, "usage");
}

#[test]
fn diff_on_a_missing_ledger_is_not_found_and_creates_none() {
    sqlite_only!("a missing SQLite file");
    let missing = Ledger::new();
    let output = missing.run(&["diff", "--from", T1]);
    assert_eq!(output.status.code(), Some(3));
    assert!(
        stderr(&output).contains("error[not_found]"),
        "{}",
        stderr(&output)
    );
    assert!(!missing.db.exists(), "a read created a ledger");
}

#[test]
fn diff_re_decides_the_log_and_names_an_event_the_rules_refuse() {
    let (l, _) = month_ledger();
    // The grant (seq 5) edited to another account: cust-7's bind is then
    // one the rules refuse.
    assert_eq!(l.event_row(5).kind, "granted");
    l.tamper("UPDATE events SET payload = replace(payload, 'cust-7', 'cust-9') WHERE seq = 5");
    let (code, error, message) = l.json_error_at(LATER, &["diff", "--from", T1]);
    assert_eq!((code, error.as_str()), (5, "integrity"), "{message}");
    assert!(message.contains("event 6"), "{message}");
}
