//! `--as-of` of `instance show`, `number show` and `service show`, answered
//! from the stored past versions as every read is (ARCHITECTURE.md "--as-of: how
//! a past state is answered"): at every moment of a varied ledger each
//! equals the matching row of `list --as-of` (a full replay of the log),
//! and the names that only the past knew are found.

use crate::common::*;
use serde_json::{json, Value};

const LATER: &str = "2026-12-01T00:00:00Z";

/// `at(k)`: the k-th day of 2026 at noon.
fn at(day: u32) -> String {
    let date = chrono::NaiveDate::from_yo_opt(2026, day).unwrap();
    format!("{date}T12:00:00Z")
}

/// Three instances, numbers granted, bound, filed, rebound across
/// instances, a service moved and renamed, a policy and a region changed,
/// one event a day. Returns (ledger, numbers of i-a, numbers of i-b).
pub fn varied_ledger() -> (Ledger, Vec<String>, Vec<String>) {
    let l = Ledger::with(LATER, ACTOR);
    l.ecs_at(&at(1), "i-a", "acme", EXPIRES, "47.96.1.1");
    l.ecs_at(&at(2), "i-b", "beta", EXPIRES, "47.96.1.2");
    l.ecs_at(&at(3), "i-host", "acme", EXPIRES, "47.96.1.3");
    l.set_now(&at(4));
    let a = l.allocate("i-a", 2);
    l.set_now(&at(5));
    let b = l.allocate("i-b", 1);
    l.ok_at(&at(6), &["grant", &a[0], "--to", "cust-7"]);
    l.bind_at(&at(7), &a[0], "MyShop", "cust-7");
    l.ok_at(
        &at(8),
        &["service", "rename", "MyShop", "--to", "shop.example.cn"],
    );
    l.ok_at(&at(9), &["submit", &a[0]]);
    l.ok_at(
        &at(10),
        &["approve", &a[0], "--icp-number", "浙ICP备12345678号-1"],
    );
    l.ok_at(
        &at(11),
        &[
            "service",
            "move",
            "shop.example.cn",
            "--to",
            "i-host",
            "--commercial",
        ],
    );
    l.ok_at(&at(12), &["service", "ip-updated", "shop.example.cn"]);
    l.ok_at(&at(13), &["deregister", &a[0]]);
    // The same service, filed again on a number of another instance.
    l.bind_at(&at(14), &b[0], "shop.example.cn", "beta");
    l.ok_at(&at(15), &["policy", "set", "ecs", "--max", "3"]);
    l.ok_at(
        &at(16),
        &["region", "set", "cn-hangzhou", "--mainland", "false"],
    );
    l.ok_at(&at(17), &["instance", "release", "i-b"]);
    l.ok_at(&at(18), &["invalidate", &a[1], "--reason", "lost"]);
    l.set_now(LATER);
    (l, a, b)
}

fn array(value: Value) -> Vec<Value> {
    value.as_array().expect("an array").clone()
}

fn show_at(l: &Ledger, args: &[&str], as_of: &str) -> Option<Value> {
    let mut all = args.to_vec();
    all.extend(["--as-of", as_of]);
    let output = l.run(&[&["--format", "json"][..], &all].concat());
    match output.status.code() {
        Some(0) => Some(serde_json::from_slice(&output.stdout).unwrap()),
        Some(3) => None,
        other => panic!("{all:?}: exit {other:?}: {}", stderr(&output)),
    }
}

#[test]
fn every_show_as_of_equals_its_row_of_the_full_replay_at_every_moment() {
    let (l, a, b) = varied_ledger();
    let numbers: Vec<&String> = a.iter().chain(&b).collect();
    let moments = (1..=19).map(at).chain(["2025-12-31".to_string()]);
    for moment in moments {
        let instances = array(l.json(&["instance", "list", "--as-of", &moment]));
        for id in ["i-a", "i-b", "i-host"] {
            let row = instances.iter().find(|i| i["instance_id"] == id).cloned();
            let shown = show_at(&l, &["instance", "show", id], &moment);
            assert_eq!(shown, row, "instance {id} at {moment}");
        }
        let listed = array(l.json(&["number", "list", "--as-of", &moment]));
        for number in &numbers {
            let row = listed.iter().find(|n| n["number"] == **number).cloned();
            let shown = show_at(&l, &["number", "show", number.as_str()], &moment);
            assert_eq!(shown, row, "number {number} at {moment}");
        }
        let services = array(l.json(&["service", "list", "--as-of", &moment]));
        for name in ["MyShop", "shop.example.cn"] {
            let row = services.iter().find(|s| s["service"] == name).cloned();
            let shown = show_at(&l, &["service", "show", name], &moment);
            assert_eq!(shown, row, "service {name} at {moment}");
        }
    }
}

#[test]
fn show_as_of_finds_names_only_the_past_knew_in_any_spelling() {
    let (l, a, b) = varied_ledger();
    // MyShop was renamed away on day 8: found by its old name, in another
    // case, before that.
    let shop = show_at(&l, &["service", "show", "myshop"], &at(7)).expect("MyShop on day 7");
    assert_eq!(
        (&shop["service"], &shop["number"], &shop["status"]),
        (&json!("MyShop"), &json!(a[0]), &json!("bound"))
    );
    assert_eq!(show_at(&l, &["service", "show", "MyShop"], &at(8)), None);
    // The service's host and number through its life.
    let service = |day| show_at(&l, &["service", "show", "SHOP.example.cn"], &at(day)).unwrap();
    assert_eq!(service(11)["host"], "i-host");
    assert_eq!(service(11)["ip_update_required"], true);
    assert_eq!(service(12)["ip_update_required"], false);
    assert_eq!(
        (&service(13)["number"], &service(13)["status"]),
        (&json!(a[0]), &json!("deregistered"))
    );
    assert_eq!(
        (&service(14)["number"], &service(14)["instance_id"]),
        (&json!(b[0]), &json!("i-b"))
    );
    // An instance in another ASCII case; one that did not exist yet.
    let shown = show_at(&l, &["instance", "show", "I-A"], &at(4)).unwrap();
    assert_eq!(shown["quota"]["consumed"], 2);
    assert_eq!(show_at(&l, &["instance", "show", "i-host"], &at(2)), None);
    // Policy and region changes reach the past's eligibility.
    let host = |day| show_at(&l, &["instance", "show", "i-host"], &at(day)).unwrap();
    assert_eq!(
        (&host(14)["quota"]["max"], &host(14)["eligible"]),
        (&json!(5), &json!(true))
    );
    assert_eq!(host(15)["quota"]["max"], 3);
    assert_eq!(host(16)["reasons"], json!(["region_not_mainland"]));
}

#[test]
fn number_show_as_of_reads_a_prefix_among_the_numbers_of_then() {
    let l = Ledger::with(LATER, ACTOR);
    l.ecs_at(&at(1), "i-a", "acme", EXPIRES, "47.96.1.1");
    l.ok_at(&at(2), &["allocate", "i-a", "--number", "PROVIDER-0001"]);
    l.ok_at(&at(3), &["allocate", "i-a", "--number", "PROVIDER-0002"]);
    // Ambiguous now; on day 2 only one number began with it.
    l.refused(&["number", "show", "PROVIDER-000"], 2, "usage");
    let then = show_at(&l, &["number", "show", "PROVIDER-000"], &at(2)).unwrap();
    assert_eq!(then["number"], "PROVIDER-0001");
    // Before either, and a number issued later: not found.
    assert_eq!(
        show_at(&l, &["number", "show", "PROVIDER-000"], &at(1)),
        None
    );
    assert_eq!(
        show_at(&l, &["number", "show", "provider-0002"], &at(2)),
        None
    );
    let later = show_at(&l, &["number", "show", "provider-0002"], &at(3)).unwrap();
    assert_eq!(later["number"], "PROVIDER-0002");
    // Bad input is still bad input with --as-of.
    let (code, error, _) = l.json_error_at(
        LATER,
        &["number", "show", "PROVIDER-000", "--as-of", "soon"],
    );
    assert_eq!((code, error.as_str()), (2, "usage"));
    let (code, error, _) =
        l.json_error_at(LATER, &["service", "show", "a\u{200b}b", "--as-of", &at(2)]);
    assert_eq!((code, error.as_str()), (2, "usage"));
    let (code, error, _) = l.json_error_at(LATER, &["instance", "show", "i-zz", "--as-of", &at(2)]);
    assert_eq!((code, error.as_str()), (3, "not_found"));
}
