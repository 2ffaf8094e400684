//! Integration tests for issue 3 (a number's whole life), through the binary,
//! from docs/guide.md "The life of a number": grant, bind, select, submit, approve,
//! reject, deregister, invalidate, number show / list, and instance show
//! listing numbers. One test per (status, action) pair of the transition table.

use crate::common::*;
use serde_json::Value;
use std::collections::BTreeSet;

const OWNER: &str = "acme";
const ICP: &str = "浙ICP备12345678号-1";

/// A ledger with one eligible ECS instance `i-1` owned by `acme`.
fn fixture() -> Ledger {
    let ledger = Ledger::new();
    ledger.ecs("i-1", OWNER);
    ledger
}

/// A number brought to `status` on `i-1` (holder: the owner).
fn number_in(ledger: &Ledger, status: &str) -> String {
    let number = ledger.allocate_one("i-1");
    let service = format!("svc-{}.example.com", &number[..8]);
    let bind = |ledger: &Ledger| {
        ledger.ok(&["bind", &number, "--service", &service, "--account", OWNER]);
    };
    match status {
        "unbound" => {}
        "bound" => bind(ledger),
        "filing" => {
            bind(ledger);
            ledger.ok(&["submit", &number]);
        }
        "filed" => {
            bind(ledger);
            ledger.ok(&["submit", &number]);
            ledger.ok(&["approve", &number, "--icp-number", ICP]);
        }
        "deregistered" => {
            bind(ledger);
            ledger.ok(&["deregister", &number, "--reason", "site closed"]);
        }
        "invalid" => {
            ledger.ok(&["invalidate", &number, "--reason", "duplicate record"]);
        }
        other => panic!("unknown status {other}"),
    }
    assert_eq!(ledger.status(&number), status, "fixture for {status}");
    number
}

/// The arguments of `action` on `number`, and the event kind it appends.
fn action_args(action: &str, number: &str) -> (Vec<String>, &'static str) {
    let v = |items: &[&str]| items.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    match action {
        "grant" => (
            v(&["grant", number, "--to", "bob", "--note", "for the shop"]),
            "granted",
        ),
        "bind" => (
            v(&[
                "bind",
                number,
                "--service",
                "fresh.example.cn",
                "--account",
                OWNER,
            ]),
            "bound",
        ),
        "submit" => (v(&["submit", number]), "submitted"),
        "approve" => (
            v(&["approve", number, "--icp-number", "京ICP备00000001号-2"]),
            "approved",
        ),
        "reject" => (
            v(&["reject", number, "--reason", "materials incomplete"]),
            "rejected",
        ),
        "deregister" => (
            v(&["deregister", number, "--reason", "filing cancelled"]),
            "deregistered",
        ),
        "invalidate" => (
            v(&["invalidate", number, "--reason", "administrative"]),
            "invalidated",
        ),
        other => panic!("unknown action {other}"),
    }
}

/// Words of a message, so that "bound" is not found inside "unbound".
fn words(text: &str) -> BTreeSet<String> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .map(|w| w.to_string())
        .collect()
}

fn transition_case(status: &str, action: &str, expected: Option<&str>) {
    let ledger = fixture();
    let number = number_in(&ledger, status);
    let before = ledger.number(&number);
    let consumed = ledger.consumed("i-1");
    let events = ledger.event_count();
    let (args, kind) = action_args(action, &number);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match expected {
        Some(next) => {
            ledger.ok(&args);
            let after = ledger.number(&number);
            assert_eq!(after["status"], next, "{status} --{action}--> {next}");
            assert_eq!(ledger.event_count(), events + 1, "exactly one event");
            let event = ledger.last_event();
            assert_eq!(event["kind"], kind);
            assert_eq!(event["payload"]["number"], number.as_str());
            match action {
                "grant" => assert_eq!(after["holder"], "bob"),
                "bind" => assert_eq!(after["service"], "fresh.example.cn"),
                "approve" => assert_eq!(after["icp_number"], "京ICP备00000001号-2"),
                _ => assert_eq!(after["holder"], before["holder"]),
            }
        }
        None => {
            let stderr = ledger.refused(&args, 4, "wrong_status");
            assert!(
                words(&stderr).contains(status),
                "the refusal of {action} names the current status {status}: {stderr}"
            );
            assert_eq!(
                ledger.number(&number),
                before,
                "a refused {action} changed the number"
            );
        }
    }
    assert_eq!(
        ledger.consumed("i-1"),
        consumed,
        "consumed never changes with a number's status"
    );
    ledger.verify_ok();
}

macro_rules! transitions {
    ($($name:ident: $status:literal $action:literal => $expected:expr;)*) => {
        $(
            #[test]
            fn $name() {
                transition_case($status, $action, $expected);
            }
        )*
    };
}

transitions! {
    // unbound
    unbound_grant_is_allowed: "unbound" "grant" => Some("unbound");
    unbound_bind_is_allowed: "unbound" "bind" => Some("bound");
    unbound_submit_is_refused: "unbound" "submit" => None;
    unbound_approve_is_refused: "unbound" "approve" => None;
    unbound_reject_is_refused: "unbound" "reject" => None;
    unbound_deregister_is_refused: "unbound" "deregister" => None;
    unbound_invalidate_is_allowed: "unbound" "invalidate" => Some("invalid");
    // bound
    bound_grant_is_refused: "bound" "grant" => None;
    bound_bind_is_refused: "bound" "bind" => None;
    bound_submit_is_allowed: "bound" "submit" => Some("filing");
    bound_approve_is_refused: "bound" "approve" => None;
    bound_reject_is_refused: "bound" "reject" => None;
    bound_deregister_is_allowed: "bound" "deregister" => Some("deregistered");
    bound_invalidate_is_allowed: "bound" "invalidate" => Some("invalid");
    // filing
    filing_grant_is_refused: "filing" "grant" => None;
    filing_bind_is_refused: "filing" "bind" => None;
    filing_submit_is_refused: "filing" "submit" => None;
    filing_approve_is_allowed: "filing" "approve" => Some("filed");
    filing_reject_is_allowed: "filing" "reject" => Some("bound");
    filing_deregister_is_allowed: "filing" "deregister" => Some("deregistered");
    filing_invalidate_is_allowed: "filing" "invalidate" => Some("invalid");
    // filed
    filed_grant_is_refused: "filed" "grant" => None;
    filed_bind_is_refused: "filed" "bind" => None;
    filed_submit_is_refused: "filed" "submit" => None;
    filed_approve_is_refused: "filed" "approve" => None;
    filed_reject_is_refused: "filed" "reject" => None;
    filed_deregister_is_allowed: "filed" "deregister" => Some("deregistered");
    filed_invalidate_is_allowed: "filed" "invalidate" => Some("invalid");
    // deregistered
    deregistered_grant_is_refused: "deregistered" "grant" => None;
    deregistered_bind_is_refused: "deregistered" "bind" => None;
    deregistered_submit_is_refused: "deregistered" "submit" => None;
    deregistered_approve_is_refused: "deregistered" "approve" => None;
    deregistered_reject_is_refused: "deregistered" "reject" => None;
    deregistered_deregister_is_refused: "deregistered" "deregister" => None;
    deregistered_invalidate_is_allowed: "deregistered" "invalidate" => Some("invalid");
    // invalid
    invalid_grant_is_refused: "invalid" "grant" => None;
    invalid_bind_is_refused: "invalid" "bind" => None;
    invalid_submit_is_refused: "invalid" "submit" => None;
    invalid_approve_is_refused: "invalid" "approve" => None;
    invalid_reject_is_refused: "invalid" "reject" => None;
    invalid_deregister_is_refused: "invalid" "deregister" => None;
    invalid_invalidate_is_refused: "invalid" "invalidate" => None;
}

// ---------------------------------------------------------------------------
// grant

#[test]
fn grant_moves_the_holder_and_may_be_repeated_while_unbound() {
    let ledger = fixture();
    let number = ledger.allocate_one("i-1");
    ledger.ok(&["grant", &number, "--to", "bob", "--note", "reseller deal"]);
    let event = ledger.last_event();
    assert_eq!(event["kind"], "granted");
    assert_eq!(event["payload"]["from"], OWNER);
    assert_eq!(event["payload"]["to"], "bob");
    assert!(
        event["payload"].to_string().contains("reseller deal"),
        "the note is recorded: {event}"
    );
    let shown = ledger.number(&number);
    assert_eq!(shown["holder"], "bob");
    assert_eq!(shown["owner"], OWNER);
    assert_eq!(shown["status"], "unbound");

    // again, to a third account (the owner acts, explicitly this time)
    ledger.ok(&["grant", &number, "--to", "carol", "--account", OWNER]);
    let event = ledger.last_event();
    assert_eq!(event["kind"], "granted");
    assert_eq!(event["payload"]["to"], "carol");
    assert!(event["payload"].get("from").is_some(), "{event}");
    assert_eq!(ledger.number(&number)["holder"], "carol");

    // and back to the owner
    ledger.ok(&["grant", &number, "--to", OWNER]);
    assert_eq!(ledger.number(&number)["holder"], OWNER);
    assert_eq!(ledger.consumed("i-1"), 1);
    ledger.verify_ok();
}

#[test]
fn only_the_owner_grants() {
    let ledger = fixture();
    let number = ledger.allocate_one("i-1");
    ledger.refused(
        &["grant", &number, "--to", "mallory", "--account", "mallory"],
        4,
        "not_owner",
    );
    ledger.ok(&["grant", &number, "--to", "bob"]);
    // the holder is not the owner: it may not pass the number on
    ledger.refused(
        &["grant", &number, "--to", "carol", "--account", "bob"],
        4,
        "not_owner",
    );
    assert_eq!(ledger.number(&number)["holder"], "bob");
}

#[test]
fn a_grant_with_a_malformed_account_is_a_usage_error() {
    let ledger = fixture();
    let number = ledger.allocate_one("i-1");
    ledger.refused(&["grant", &number, "--to", "-bob"], 2, "usage");
    ledger.refused(&["grant", &number, "--to", "bob smith"], 2, "usage");
}

// ---------------------------------------------------------------------------
// bind

#[test]
fn only_the_holder_binds() {
    let ledger = fixture();
    let number = ledger.allocate_one("i-1");
    ledger.ok(&["grant", &number, "--to", "bob"]);
    ledger.refused(
        &[
            "bind",
            &number,
            "--service",
            "shop.example.com",
            "--account",
            OWNER,
        ],
        4,
        "not_holder",
    );
    ledger.refused(
        &[
            "bind",
            &number,
            "--service",
            "shop.example.com",
            "--account",
            "carol",
        ],
        4,
        "not_holder",
    );
    ledger.ok(&[
        "bind",
        &number,
        "--service",
        "shop.example.com",
        "--account",
        "bob",
    ]);
    let shown = ledger.number(&number);
    assert_eq!(shown["status"], "bound");
    assert_eq!(shown["holder"], "bob");
    assert_eq!(shown["service"], "shop.example.com");
    let event = ledger.last_event();
    assert_eq!(event["kind"], "bound");
    assert_eq!(event["payload"]["service"], "shop.example.com");
}

#[test]
fn the_owner_binds_an_ungranted_number() {
    let ledger = fixture();
    let number = ledger.allocate_one("i-1");
    ledger.ok(&[
        "bind",
        &number,
        "--service",
        "微信小程序-商城",
        "--account",
        OWNER,
    ]);
    assert_eq!(ledger.number(&number)["service"], "微信小程序-商城");
}

#[test]
fn a_service_name_is_1_to_253_characters() {
    let ledger = fixture();
    let number = ledger.allocate_one("i-1");
    let too_long = "a".repeat(254);
    ledger.refused(
        &["bind", &number, "--service", &too_long, "--account", OWNER],
        2,
        "usage",
    );
    ledger.refused(
        &["bind", &number, "--service", "", "--account", OWNER],
        2,
        "usage",
    );
    let longest = "b".repeat(253);
    ledger.ok(&["bind", &number, "--service", &longest, "--account", OWNER]);
    assert_eq!(ledger.number(&number)["service"], longest.as_str());
}

#[test]
fn a_service_holds_at_most_one_live_number() {
    let ledger = fixture();
    let first = ledger.allocate_one("i-1");
    let second = ledger.allocate_one("i-1");
    let bind_second = [
        "bind",
        second.as_str(),
        "--service",
        "shop.example.com",
        "--account",
        OWNER,
    ];
    ledger.ok(&[
        "bind",
        &first,
        "--service",
        "shop.example.com",
        "--account",
        OWNER,
    ]);
    ledger.refused(&bind_second, 4, "service_taken");
    ledger.ok(&["submit", &first]);
    ledger.refused(&bind_second, 4, "service_taken");
    ledger.ok(&["approve", &first, "--icp-number", ICP]);
    ledger.refused(&bind_second, 4, "service_taken");
    ledger.refused(
        &["select", "i-1", "--service", "shop.example.com"],
        4,
        "service_taken",
    );
    assert_eq!(ledger.consumed("i-1"), 2);
    // after deregistration the service may take a new number
    ledger.ok(&["deregister", &first]);
    ledger.ok(&bind_second);
    assert_eq!(ledger.number(&second)["status"], "bound");
    assert_eq!(ledger.number(&first)["status"], "deregistered");
    ledger.verify_ok();
}

#[test]
fn after_invalidation_the_service_may_take_a_new_number() {
    let ledger = fixture();
    let first = ledger.allocate_one("i-1");
    ledger.ok(&[
        "bind",
        &first,
        "--service",
        "app.example.com",
        "--account",
        OWNER,
    ]);
    ledger.ok(&["invalidate", &first, "--reason", "wrong instance"]);
    let direct = ledger.json(&["select", "i-1", "--service", "app.example.com"]);
    assert_eq!(direct["status"], "bound");
    assert_eq!(direct["service"], "app.example.com");
}

#[test]
fn a_number_binds_once_ever() {
    let ledger = fixture();
    let number = ledger.allocate_one("i-1");
    ledger.ok(&[
        "bind",
        &number,
        "--service",
        "one.example.com",
        "--account",
        OWNER,
    ]);
    ledger.ok(&["deregister", &number]);
    let stderr = ledger.refused(
        &[
            "bind",
            &number,
            "--service",
            "two.example.com",
            "--account",
            OWNER,
        ],
        4,
        "wrong_status",
    );
    assert!(words(&stderr).contains("deregistered"), "{stderr}");
}

// ---------------------------------------------------------------------------
// filing review

#[test]
fn a_rejected_filing_may_be_resubmitted_with_the_same_number() {
    let ledger = fixture();
    let number = number_in(&ledger, "bound");
    let service = ledger.number(&number)["service"].clone();
    ledger.ok(&["submit", &number]);
    ledger.ok(&["reject", &number, "--reason", "photo unclear"]);
    let event = ledger.last_event();
    assert_eq!(event["kind"], "rejected");
    assert!(
        event["payload"].to_string().contains("photo unclear"),
        "{event}"
    );
    let shown = ledger.number(&number);
    assert_eq!(shown["status"], "bound");
    assert_eq!(shown["service"], service);
    ledger.ok(&["submit", &number]);
    ledger.ok(&["approve", &number, "--icp-number", ICP]);
    let shown = ledger.number(&number);
    assert_eq!(shown["status"], "filed");
    assert_eq!(shown["icp_number"], ICP);
    let approved = ledger.last_event();
    assert_eq!(approved["kind"], "approved");
    assert!(approved["payload"].to_string().contains(ICP), "{approved}");
}

#[test]
fn approve_and_reject_need_their_arguments() {
    let ledger = fixture();
    let number = number_in(&ledger, "filing");
    ledger.refused(&["approve", &number], 2, "usage");
    ledger.refused(&["reject", &number], 2, "usage");
    ledger.refused(&["invalidate", &number], 2, "usage");
    assert_eq!(ledger.status(&number), "filing");
}

// ---------------------------------------------------------------------------
// direct selection

#[test]
fn select_consumes_one_slot_and_binds_at_once() {
    let ledger = fixture();
    let events = ledger.event_count();
    let shown = ledger.json(&["select", "i-1", "--service", "www.example.com"]);
    assert_eq!(ledger.event_count(), events + 1);
    let event = ledger.last_event();
    assert_eq!(event["kind"], "selected");
    let number = shown["number"]
        .as_str()
        .expect("select answers with the number")
        .to_string();
    let record = ledger.number(&number);
    assert_eq!(record["origin"], "direct");
    assert_eq!(record["status"], "bound");
    assert_eq!(record["service"], "www.example.com");
    assert_eq!(record["holder"], OWNER);
    assert_eq!(record["instance_id"], "i-1");
    let quota = ledger.instance("i-1")["quota"].clone();
    assert_eq!(quota["consumed"], 1);
    assert_eq!(quota["remaining"], 4);
    // a directly selected slot goes through the review like any number
    ledger.ok(&["submit", &number]);
    ledger.ok(&["approve", &number, "--icp-number", ICP]);
    ledger.ok(&["deregister", &number]);
    assert_eq!(ledger.status(&number), "deregistered");
    assert_eq!(ledger.consumed("i-1"), 1);
}

#[test]
fn select_with_an_explicit_owner_account() {
    let ledger = fixture();
    ledger.json(&[
        "select",
        "i-1",
        "--service",
        "a.example.com",
        "--account",
        OWNER,
    ]);
    assert_eq!(ledger.consumed("i-1"), 1);
}

#[test]
fn only_the_owner_selects() {
    let ledger = fixture();
    ledger.refused(
        &[
            "select",
            "i-1",
            "--service",
            "www.example.com",
            "--account",
            "bob",
        ],
        4,
        "not_owner",
    );
    assert_eq!(ledger.consumed("i-1"), 0);
}

#[test]
fn select_is_subject_to_quota_and_eligibility() {
    let ledger = fixture();
    ledger.allocate("i-1", 5);
    ledger.refused(
        &["select", "i-1", "--service", "www.example.com"],
        4,
        "quota_exhausted",
    );
    ledger.add_instance(
        "i-old",
        "ecs",
        OWNER,
        &[
            "--public-ip",
            "1.1.1.1",
            "--expires",
            "2026-01-01T00:00:00Z",
        ],
    );
    ledger.refused(
        &["select", "i-old", "--service", "www.example.com"],
        4,
        "expired",
    );
    ledger.add_instance(
        "i-hk",
        "ecs",
        OWNER,
        &["--public-ip", "1.1.1.2", "--region", "cn-hongkong"],
    );
    ledger.refused(
        &["select", "i-hk", "--service", "www.example.com"],
        4,
        "region_not_mainland",
    );
    ledger.ecs("i-gone", OWNER);
    ledger.ok(&["instance", "release", "i-gone"]);
    ledger.refused(
        &["select", "i-gone", "--service", "www.example.com"],
        4,
        "released",
    );
    ledger.refused(
        &["select", "i-404", "--service", "www.example.com"],
        3,
        "not_found",
    );
}

// ---------------------------------------------------------------------------
// not found

#[test]
fn commands_on_an_unknown_number_are_not_found() {
    let ledger = fixture();
    ledger.allocate_one("i-1");
    let n = "NO-SUCH-NUMBER";
    for args in [
        vec!["grant", n, "--to", "bob"],
        vec!["bind", n, "--service", "x.example.com", "--account", OWNER],
        vec!["submit", n],
        vec!["approve", n, "--icp-number", ICP],
        vec!["reject", n, "--reason", "r"],
        vec!["deregister", n],
        vec!["invalidate", n, "--reason", "r"],
        vec!["number", "show", n],
    ] {
        let stderr = ledger.refused(&args, 3, "not_found");
        assert!(
            stderr.contains(n),
            "{args:?}: the message names the number: {stderr}"
        );
    }
}

// ---------------------------------------------------------------------------
// consumed never decreases

#[test]
fn consumed_never_decreases_over_a_whole_life() {
    let ledger = fixture();
    let last = std::cell::Cell::new(0);
    let step = |ledger: &Ledger, args: &[&str]| {
        if !args.is_empty() {
            ledger.ok(args);
        }
        let quota = ledger.instance("i-1")["quota"].clone();
        let consumed = quota["consumed"].as_i64().unwrap();
        assert!(
            consumed >= last.get(),
            "consumed went from {} to {consumed} after {args:?}",
            last.get()
        );
        assert_eq!(quota["remaining"].as_i64().unwrap(), (5 - consumed).max(0));
        last.set(consumed);
    };
    let numbers = ledger.allocate("i-1", 3);
    step(&ledger, &[]);
    let (a, b, c) = (&numbers[0], &numbers[1], &numbers[2]);
    step(&ledger, &["grant", a, "--to", "bob"]);
    step(
        &ledger,
        &["bind", a, "--service", "a.example.com", "--account", "bob"],
    );
    step(&ledger, &["submit", a]);
    step(&ledger, &["approve", a, "--icp-number", ICP]);
    step(&ledger, &["deregister", a, "--reason", "closed"]);
    step(&ledger, &["invalidate", a, "--reason", "cleanup"]);
    step(&ledger, &["invalidate", b, "--reason", "lost"]);
    step(
        &ledger,
        &["bind", c, "--service", "c.example.com", "--account", OWNER],
    );
    step(&ledger, &["deregister", c]);
    step(&ledger, &["select", "i-1", "--service", "a.example.com"]);
    assert_eq!(last.get(), 4);
    step(&ledger, &["instance", "release", "i-1"]);
    assert_eq!(last.get(), 4);
    ledger.verify_ok();
}

// ---------------------------------------------------------------------------
// number show / list and instance show

#[test]
fn number_show_has_the_spec_json_shape() {
    let ledger = fixture();
    let number = ledger.allocate_one("i-1");
    ledger.ok(&["grant", &number, "--to", "bob"]);
    ledger.ok(&[
        "bind",
        &number,
        "--service",
        "bob.example.com",
        "--account",
        "bob",
    ]);
    ledger.ok(&["submit", &number]);
    ledger.ok(&["approve", &number, "--icp-number", ICP]);
    let shown = ledger.number(&number);
    let keys: BTreeSet<&str> = shown
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    for key in [
        "number",
        "instance_id",
        "owner",
        "holder",
        "status",
        "service",
        "icp_number",
        "origin",
    ] {
        assert!(keys.contains(key), "number show lacks {key}: {shown}");
    }
    assert_eq!(shown["number"], number.as_str());
    assert_eq!(shown["instance_id"], "i-1");
    assert_eq!(shown["owner"], OWNER);
    assert_eq!(shown["holder"], "bob");
    assert_eq!(shown["status"], "filed");
    assert_eq!(shown["service"], "bob.example.com");
    assert_eq!(shown["icp_number"], ICP);
    assert_eq!(shown["origin"], "issued");
    // the table form names the same facts
    let table = ledger.ok(&["number", "show", &number]);
    for text in [number.as_str(), "filed", "bob.example.com", ICP, "bob"] {
        assert!(
            table.contains(text),
            "number show table lacks {text}: {table}"
        );
    }
}

fn numbers_of(list: &Value) -> BTreeSet<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("number list is not an array: {list}"))
        .iter()
        .map(|n| n["number"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn number_list_filters_by_instance_account_and_status() {
    let ledger = fixture();
    ledger.ecs("i-2", "beta");
    let a = ledger.allocate("i-1", 3);
    let b = ledger.allocate("i-2", 2);
    ledger.ok(&["grant", &a[0], "--to", "carol"]);
    ledger.ok(&[
        "bind",
        &a[1],
        "--service",
        "x.example.com",
        "--account",
        OWNER,
    ]);
    ledger.ok(&["invalidate", &b[0], "--reason", "oops"]);
    let set = |items: &[&String]| items.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();

    let all = ledger.json(&["number", "list"]);
    for entry in all.as_array().unwrap() {
        for key in [
            "number",
            "instance_id",
            "owner",
            "holder",
            "status",
            "service",
            "icp_number",
            "origin",
        ] {
            assert!(
                entry.get(key).is_some(),
                "number list entry lacks {key}: {entry}"
            );
        }
    }
    assert_eq!(numbers_of(&all), set(&[&a[0], &a[1], &a[2], &b[0], &b[1]]));
    assert_eq!(
        numbers_of(&ledger.json(&["number", "list", "--instance", "i-1"])),
        set(&[&a[0], &a[1], &a[2]])
    );
    assert_eq!(
        numbers_of(&ledger.json(&["number", "list", "--instance", "i-2"])),
        set(&[&b[0], &b[1]])
    );
    assert_eq!(
        numbers_of(&ledger.json(&["number", "list", "--account", "carol"])),
        set(&[&a[0]])
    );
    assert_eq!(
        numbers_of(&ledger.json(&["number", "list", "--account", "beta"])),
        set(&[&b[0], &b[1]])
    );
    assert_eq!(
        numbers_of(&ledger.json(&["number", "list", "--account", "nobody"])),
        set(&[])
    );
    assert_eq!(
        numbers_of(&ledger.json(&["number", "list", "--status", "bound"])),
        set(&[&a[1]])
    );
    assert_eq!(
        numbers_of(&ledger.json(&["number", "list", "--status", "invalid"])),
        set(&[&b[0]])
    );
    assert_eq!(
        numbers_of(&ledger.json(&["number", "list", "--status", "unbound"])),
        set(&[&a[0], &a[2], &b[1]])
    );
    assert_eq!(
        numbers_of(&ledger.json(&["number", "list", "--instance", "i-1", "--status", "unbound"])),
        set(&[&a[0], &a[2]])
    );
    assert_eq!(
        numbers_of(&ledger.json(&["number", "list", "--status", "filed"])),
        set(&[])
    );
}

#[test]
fn instance_show_lists_its_numbers() {
    let ledger = fixture();
    let issued = ledger.allocate("i-1", 2);
    ledger.ok(&["grant", &issued[0], "--to", "bob"]);
    ledger.ok(&[
        "bind",
        &issued[0],
        "--service",
        "bob.example.com",
        "--account",
        "bob",
    ]);
    ledger.ok(&["submit", &issued[0]]);
    ledger.ok(&["approve", &issued[0], "--icp-number", ICP]);
    let direct = ledger.json(&["select", "i-1", "--service", "direct.example.com"])["number"]
        .as_str()
        .unwrap()
        .to_string();
    let shown = ledger.instance("i-1");
    assert_eq!(shown["quota"]["consumed"], 3);
    assert_eq!(shown["quota"]["remaining"], 2);
    let entries = shown["numbers"].as_array().unwrap();
    assert_eq!(entries.len(), 3);
    let find = |n: &str| {
        entries
            .iter()
            .find(|e| e["number"] == n)
            .unwrap_or_else(|| panic!("{n} not listed: {shown}"))
    };
    for entry in entries {
        for key in [
            "number",
            "status",
            "holder",
            "service",
            "icp_number",
            "origin",
        ] {
            assert!(
                entry.get(key).is_some(),
                "instance show number lacks {key}: {entry}"
            );
        }
    }
    let filed = find(&issued[0]);
    assert_eq!(filed["status"], "filed");
    assert_eq!(filed["holder"], "bob");
    assert_eq!(filed["service"], "bob.example.com");
    assert_eq!(filed["icp_number"], ICP);
    assert_eq!(filed["origin"], "issued");
    let unbound = find(&issued[1]);
    assert_eq!(unbound["status"], "unbound");
    assert_eq!(unbound["holder"], OWNER);
    assert_eq!(unbound["service"], Value::Null);
    let selected = find(&direct);
    assert_eq!(selected["origin"], "direct");
    assert_eq!(selected["status"], "bound");
    assert_eq!(selected["service"], "direct.example.com");
    // the table form lists them too
    let table = ledger.ok(&["instance", "show", "i-1"]);
    for n in [issued[0].as_str(), issued[1].as_str(), direct.as_str()] {
        assert!(table.contains(n), "instance show table lacks {n}");
    }
}

#[test]
fn every_life_command_is_exactly_one_event_of_its_kind() {
    let ledger = fixture();
    let n = ledger.allocate_one("i-1");
    let steps: Vec<(Vec<&str>, &str)> = vec![
        (vec!["grant", &n, "--to", "bob"], "granted"),
        (
            vec!["bind", &n, "--service", "k.example.com", "--account", "bob"],
            "bound",
        ),
        (vec!["submit", &n], "submitted"),
        (vec!["reject", &n, "--reason", "typo"], "rejected"),
        (vec!["submit", &n], "submitted"),
        (vec!["approve", &n, "--icp-number", ICP], "approved"),
        (vec!["deregister", &n], "deregistered"),
        (vec!["invalidate", &n, "--reason", "audit"], "invalidated"),
        (
            vec!["select", "i-1", "--service", "k2.example.com"],
            "selected",
        ),
    ];
    for (args, kind) in steps {
        let before = ledger.event_count();
        ledger.ok(&args);
        assert_eq!(ledger.event_count(), before + 1, "{args:?}");
        let event = ledger.last_event();
        assert_eq!(event["kind"], kind, "{args:?}");
        assert_eq!(event["actor"], ACTOR);
        assert_eq!(event["at"], NOW);
    }
    ledger.verify_ok();
}

#[test]
fn life_commands_respect_the_clock() {
    let ledger = fixture();
    let n = ledger.allocate_one("i-1");
    ledger.refused_at(
        "2026-02-01T00:00:00Z",
        &["grant", &n, "--to", "bob"],
        4,
        "clock_backwards",
    );
    ledger.refused_at(
        "2026-02-01T00:00:00Z",
        &["bind", &n, "--service", "a.example.com", "--account", OWNER],
        4,
        "clock_backwards",
    );
    ledger.refused_at(
        "2026-02-01T00:00:00Z",
        &["invalidate", &n, "--reason", "x"],
        4,
        "clock_backwards",
    );
    ledger.refused_at(
        "2026-02-01T00:00:00Z",
        &["select", "i-1", "--service", "b.example.com"],
        4,
        "clock_backwards",
    );
    assert_eq!(ledger.status(&n), "unbound");
}
