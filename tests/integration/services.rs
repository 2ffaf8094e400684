//! Issue 8: services as first-class records, access changes (`service move`,
//! `service ip-updated`), the expiry report following the host, the story of
//! a service in `history`, and `advise`.

use crate::common::*;
use assert_cmd::prelude::*;
use serde_json::{json, Value};

const SETUP: &str = "2026-02-01T00:00:00Z";
const SETUP2: &str = "2026-02-10T00:00:00Z";
const MOVE: &str = "2026-04-01T00:00:00Z";
const LATER: &str = "2026-04-20T00:00:00Z";

const SERVICE_KEYS: [&str; 9] = [
    "service",
    "display_name",
    "number",
    "instance_id",
    "host",
    "status",
    "icp_number",
    "commercial",
    "ip_update_required",
];

fn add(l: &Ledger, id: &str, region: &str, expires: &str) {
    let extra = [
        "--region",
        region,
        "--expires",
        expires,
        "--public-ip",
        "47.96.0.1",
    ];
    l.add_instance_at(SETUP, id, "ecs", "acme", &extra);
}

/// Numbers of i-src: a filed service (shop), a bound one, one under review,
/// a deregistered one and a spare unbound number; a direct selection on i-dst.
fn services_ledger() -> Ledger {
    let l = Ledger::with(AUDIT_NOW, AUDIT_ACTOR);
    add(&l, "i-src", "cn-hangzhou", "2026-05-01T00:00:00Z");
    add(&l, "i-dst", "cn-beijing", "2027-12-31T00:00:00Z");
    add(&l, "i-dst2", "cn-shenzhen", "2026-06-01T00:00:00Z");
    add(&l, "i-hk", "cn-hongkong", "2027-12-31T00:00:00Z");
    add(&l, "i-us", "us-west-1", "2027-12-31T00:00:00Z");
    add(&l, "i-old", "cn-hangzhou", "2026-03-01T00:00:00Z");
    add(&l, "i-rel", "cn-shanghai", "2027-12-31T00:00:00Z");
    l.ok_at(
        SETUP,
        &[
            "allocate", "i-src", "--number", "N-FILED", "--number", "N-BOUND", "--number",
            "N-FILING", "--number", "N-GONE", "--number", "N-SPARE",
        ],
    );
    l.bind_at(SETUP, "N-FILED", "shop.example.com", "acme");
    l.ok_at(SETUP, &["submit", "N-FILED"]);
    l.ok_at(
        "2026-02-03T00:00:00Z",
        &["reject", "N-FILED", "--reason", "blurry photo"],
    );
    l.ok_at("2026-02-04T00:00:00Z", &["submit", "N-FILED"]);
    l.ok_at(
        "2026-02-05T00:00:00Z",
        &["approve", "N-FILED", "--icp-number", "京ICP备2026001号-1"],
    );
    l.bind_at(SETUP2, "N-BOUND", "bound.example.com", "acme");
    l.bind_at(SETUP2, "N-FILING", "filing.example.com", "acme");
    l.ok_at(SETUP2, &["submit", "N-FILING"]);
    l.bind_at(SETUP2, "N-GONE", "gone.example.com", "acme");
    l.ok_at(SETUP2, &["submit", "N-GONE"]);
    l.ok_at(
        SETUP2,
        &["approve", "N-GONE", "--icp-number", "京ICP备2026002号-1"],
    );
    l.ok_at(SETUP2, &["deregister", "N-GONE", "--reason", "site closed"]);
    l.ok_at(
        SETUP2,
        &["select", "i-dst", "--service", "direct.example.com"],
    );
    l.ok_at(SETUP2, &["instance", "release", "i-rel"]);
    l
}

fn show(l: &Ledger, service: &str) -> Value {
    l.json_at(LATER, &["service", "show", service])
}

#[test]
fn service_show_has_the_spec_shape() {
    let l = services_ledger();
    let shop = show(&l, "shop.example.com");
    assert_eq!(keys(&shop), sorted(&SERVICE_KEYS));
    assert_eq!(
        shop,
        json!({"service": "shop.example.com", "display_name": "shop.example.com", "number": "N-FILED", "instance_id": "i-src", "host": "i-src",
               "status": "filed", "icp_number": "京ICP备2026001号-1", "commercial": false, "ip_update_required": false})
    );
    let bound = show(&l, "bound.example.com");
    assert_eq!(
        (bound["status"].clone(), bound["icp_number"].clone()),
        (json!("bound"), Value::Null)
    );
    assert_eq!(show(&l, "filing.example.com")["status"], json!("filing"));
    let gone = show(&l, "gone.example.com");
    assert_eq!(gone["status"], json!("deregistered"));
    assert_eq!(gone["number"], json!("N-GONE"));
    // A direct selection is a service too: its slot is on i-dst, where it runs.
    let direct = show(&l, "direct.example.com");
    assert_eq!(keys(&direct), sorted(&SERVICE_KEYS));
    assert_eq!(
        (
            direct["instance_id"].clone(),
            direct["host"].clone(),
            direct["status"].clone()
        ),
        (json!("i-dst"), json!("i-dst"), json!("bound"))
    );
    let number = l.json_at(LATER, &["number", "show", str_field(&direct, "number")]);
    assert_eq!(number["origin"], json!("direct"));

    // Table output names every field.
    let table = l.ok_at(LATER, &["service", "show", "shop.example.com"]);
    for word in SERVICE_KEYS.iter().chain(&[
        "shop.example.com",
        "N-FILED",
        "i-src",
        "filed",
        "京ICP备2026001号-1",
    ]) {
        assert!(table.contains(word), "{word} missing:\n{table}");
    }
    // Unknown: exit 3.
    let (code, error, _) = l.json_error_at(LATER, &["service", "show", "nosuch.example.com"]);
    assert_eq!((code, error.as_str()), (3, "not_found"));
    l.command_at(LATER)
        .args(["service", "show", "nosuch.example.com"])
        .assert()
        .code(3)
        .stderr(predicates::str::starts_with("error[not_found]"));
}

#[test]
fn service_list_is_an_array_of_show_objects() {
    let l = services_ledger();
    let list = l.json_at(LATER, &["service", "list"]);
    let list = list.as_array().unwrap();
    let names: Vec<&str> = list.iter().map(|s| str_field(s, "service")).collect();
    assert_eq!(
        sorted(&names),
        sorted(&[
            "shop.example.com",
            "bound.example.com",
            "filing.example.com",
            "gone.example.com",
            "direct.example.com"
        ])
    );
    for item in list {
        assert_eq!(
            item,
            &show(&l, str_field(item, "service")),
            "list item differs from show"
        );
    }
    let on_dst = l.json_at(LATER, &["service", "list", "--instance", "i-dst"]);
    let names: Vec<&str> = on_dst
        .as_array()
        .unwrap()
        .iter()
        .map(|s| str_field(s, "service"))
        .collect();
    assert_eq!(names, vec!["direct.example.com"]);
    assert_eq!(
        l.json_at(LATER, &["service", "list", "--instance", "i-hk"]),
        json!([])
    );
    // After a move the service is listed under its new host.
    l.ok_at(
        MOVE,
        &["service", "move", "shop.example.com", "--to", "i-dst"],
    );
    let on_dst = l.json_at(LATER, &["service", "list", "--instance", "i-dst"]);
    let names: Vec<&str> = on_dst
        .as_array()
        .unwrap()
        .iter()
        .map(|s| str_field(s, "service"))
        .collect();
    assert_eq!(
        sorted(&names),
        sorted(&["direct.example.com", "shop.example.com"])
    );
    // Table and CSV.
    let table = l.ok_at(LATER, &["service", "list"]);
    assert!(
        table.contains("gone.example.com") && table.contains("ip_update_required"),
        "{table}"
    );
    let csv = parse_csv(&l.ok_at(LATER, &["--format", "csv", "service", "list"]));
    assert_eq!(
        csv[0],
        SERVICE_KEYS
            .iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
    );
    assert_eq!(csv.len(), 6);
}

#[test]
fn service_move_changes_the_host_and_nothing_else() {
    let l = services_ledger();
    let src_before = l.json_at(LATER, &["instance", "show", "i-src"]);
    let dst_before = l.json_at(LATER, &["instance", "show", "i-dst"]);
    let quota_before = l.json_at(LATER, &["report", "quota"]);
    let numbers_before = l.ok_at(LATER, &["export", "numbers"]);
    let events_before = l.events(&[]).len();
    assert_eq!(
        src_before["quota"],
        json!({"max": 5, "consumed": 5, "remaining": 0})
    );

    let moved = l.json_at(
        MOVE,
        &["service", "move", "shop.example.com", "--to", "i-dst"],
    );
    assert_eq!(keys(&moved), sorted(&SERVICE_KEYS));
    let expected = json!({"service": "shop.example.com", "display_name": "shop.example.com", "number": "N-FILED", "instance_id": "i-src", "host": "i-dst",
        "status": "filed", "icp_number": "京ICP备2026001号-1", "commercial": false, "ip_update_required": false});
    assert_eq!(moved, expected);
    assert_eq!(show(&l, "shop.example.com"), expected);

    // No new number, no new filing: quotas and numbers of both instances untouched.
    assert_eq!(l.json_at(LATER, &["instance", "show", "i-src"]), src_before);
    assert_eq!(l.json_at(LATER, &["instance", "show", "i-dst"]), dst_before);
    assert_eq!(l.json_at(LATER, &["report", "quota"]), quota_before);
    assert_eq!(l.ok_at(LATER, &["export", "numbers"]), numbers_before);
    let number = l.json_at(LATER, &["number", "show", "N-FILED"]);
    assert_eq!(
        (number["instance_id"].clone(), number["status"].clone()),
        (json!("i-src"), json!("filed"))
    );
    assert_eq!(l.json_at(LATER, &["check", "i-dst"])["remaining"], json!(4));

    // Exactly one event, service_moved, naming both hosts.
    let events = l.events(&[]);
    assert_eq!(events.len(), events_before + 1);
    let last = events.last().unwrap();
    assert_eq!(last["kind"], json!("service_moved"));
    assert_eq!(last["at"], json!(MOVE));
    assert_eq!(last["payload"]["service"], json!("shop.example.com"));
    let text = last["payload"].to_string();
    assert!(text.contains("i-src") && text.contains("i-dst"), "{text}");

    // It can move on, and back to where its number came from.
    l.ok_at(
        "2026-04-02T00:00:00Z",
        &["service", "move", "shop.example.com", "--to", "i-dst2"],
    );
    assert_eq!(show(&l, "shop.example.com")["host"], json!("i-dst2"));
    l.ok_at(
        "2026-04-03T00:00:00Z",
        &["service", "move", "shop.example.com", "--to", "i-src"],
    );
    let back = show(&l, "shop.example.com");
    assert_eq!(
        (back["host"].clone(), back["instance_id"].clone()),
        (json!("i-src"), json!("i-src"))
    );
    assert_eq!(l.json_at(LATER, &["instance", "show", "i-src"]), src_before);
    l.verify_ok();
}

#[test]
fn service_move_refusals_change_nothing() {
    let l = services_ledger();
    let before = l.export_all();
    let shop_before = show(&l, "shop.example.com");
    let cases: &[(&[&str], i32, &str)] = &[
        (
            &["service", "move", "shop.example.com", "--to", "i-hk"],
            4,
            "region_not_mainland",
        ),
        (
            &["service", "move", "shop.example.com", "--to", "i-us"],
            4,
            "region_not_mainland",
        ),
        (
            &["service", "move", "shop.example.com", "--to", "i-old"],
            4,
            "expired",
        ),
        (
            &["service", "move", "shop.example.com", "--to", "i-rel"],
            4,
            "released",
        ),
        (
            &["service", "move", "shop.example.com", "--to", "i-nowhere"],
            3,
            "not_found",
        ),
        (
            &["service", "move", "shop.example.com", "--to", "i-src"],
            4,
            "already_exists",
        ),
        (
            &["service", "move", "shop.example.com", "--to", "bad id!"],
            2,
            "usage",
        ),
        (
            &["service", "move", "bound.example.com", "--to", "i-dst"],
            4,
            "wrong_status",
        ),
        (
            &["service", "move", "filing.example.com", "--to", "i-dst"],
            4,
            "wrong_status",
        ),
        (
            &["service", "move", "gone.example.com", "--to", "i-dst"],
            4,
            "wrong_status",
        ),
        (
            &["service", "move", "direct.example.com", "--to", "i-src"],
            4,
            "wrong_status",
        ),
        (
            &["service", "move", "nosuch.example.com", "--to", "i-dst"],
            3,
            "not_found",
        ),
        (
            &[
                "service",
                "move",
                "shop.example.com",
                "--commercial",
                "--to",
                "i-hk",
            ],
            4,
            "region_not_mainland",
        ),
        (
            &["service", "ip-updated", "shop.example.com"],
            4,
            "wrong_status",
        ),
        (
            &["service", "ip-updated", "bound.example.com"],
            4,
            "wrong_status",
        ),
        (
            &["service", "ip-updated", "nosuch.example.com"],
            3,
            "not_found",
        ),
    ];
    for (args, exit, reason) in cases {
        let (code, error, message) = l.json_error_at(MOVE, args);
        assert_eq!(
            (code, error.as_str()),
            (*exit, *reason),
            "{args:?}: {message}"
        );
        assert!(!message.is_empty());
        // The table form: `error[CODE]: message` on stderr, same exit code.
        l.command_at(MOVE)
            .args(*args)
            .assert()
            .code(*exit)
            .stdout("")
            .stderr(predicates::str::starts_with(format!("error[{reason}]")));
        assert_eq!(l.export_all(), before, "{args:?} changed the ledger");
    }
    assert_eq!(show(&l, "shop.example.com"), shop_before);

    // wrong_status names the status it found.
    let (_, _, message) = l.json_error_at(
        MOVE,
        &["service", "move", "bound.example.com", "--to", "i-dst"],
    );
    assert!(message.contains("bound"), "{message}");
    let (_, _, message) = l.json_error_at(
        MOVE,
        &["service", "move", "filing.example.com", "--to", "i-dst"],
    );
    assert!(message.contains("filing"), "{message}");
    let (_, _, message) = l.json_error_at(
        MOVE,
        &["service", "move", "gone.example.com", "--to", "i-dst"],
    );
    assert!(message.contains("deregistered"), "{message}");

    // A target that expires later is fine at an earlier time: expiry is
    // judged at the ledger's current time.
    l.ok_at(
        "2026-02-20T00:00:00Z",
        &["service", "move", "shop.example.com", "--to", "i-old"],
    );
    assert_eq!(show(&l, "shop.example.com")["host"], json!("i-old"));
    l.verify_ok();
}

#[test]
fn a_service_may_move_away_from_an_expired_or_released_host() {
    // Moving off an instance at risk is the remedy, so the source is not checked.
    let l = services_ledger();
    l.ok_at(
        "2026-05-02T00:00:00Z",
        &["service", "move", "shop.example.com", "--to", "i-dst"],
    );
    assert_eq!(show(&l, "shop.example.com")["host"], json!("i-dst"));
    let l = services_ledger();
    l.ok_at(
        MOVE,
        &["service", "move", "shop.example.com", "--to", "i-dst2"],
    );
    l.ok_at("2026-04-02T00:00:00Z", &["instance", "release", "i-dst2"]);
    l.ok_at(
        "2026-04-03T00:00:00Z",
        &["service", "move", "shop.example.com", "--to", "i-dst"],
    );
    assert_eq!(show(&l, "shop.example.com")["host"], json!("i-dst"));
    l.verify_ok();
}

#[test]
fn a_deregistered_service_can_be_filed_again_with_a_new_number() {
    let l = services_ledger();
    l.ok_at(
        MOVE,
        &["service", "move", "shop.example.com", "--to", "i-dst"],
    );
    l.ok_at("2026-04-02T00:00:00Z", &["deregister", "N-FILED"]);
    l.ok_at(
        "2026-04-03T00:00:00Z",
        &["allocate", "i-dst", "--number", "N-NEW"],
    );
    l.bind_at("2026-04-03T00:00:00Z", "N-NEW", "shop.example.com", "acme");
    let shop = show(&l, "shop.example.com");
    assert_eq!(
        (
            shop["number"].clone(),
            shop["instance_id"].clone(),
            shop["host"].clone(),
            shop["status"].clone()
        ),
        (
            json!("N-NEW"),
            json!("i-dst"),
            json!("i-dst"),
            json!("bound")
        )
    );
    // The old number stays consumed and deregistered.
    assert_eq!(
        l.json_at(LATER, &["number", "show", "N-FILED"])["status"],
        json!("deregistered")
    );
    assert_eq!(
        l.json_at(LATER, &["instance", "show", "i-src"])["quota"]["consumed"],
        json!(5)
    );
    // Its story covers both numbers.
    assert_eq!(
        kinds(&l.events(&["--service", "shop.example.com"])),
        vec![
            "bound",
            "submitted",
            "rejected",
            "submitted",
            "approved",
            "service_moved",
            "deregistered",
            "bound"
        ]
    );
    l.verify_ok();
}

#[test]
fn a_deregistered_service_stays_where_it_was_and_cannot_move() {
    let l = services_ledger();
    l.ok_at(
        MOVE,
        &["service", "move", "shop.example.com", "--to", "i-dst"],
    );
    l.ok_at(
        "2026-04-02T00:00:00Z",
        &["deregister", "N-FILED", "--reason", "filing cancelled"],
    );
    let shop = show(&l, "shop.example.com");
    assert_eq!(
        (shop["status"].clone(), shop["host"].clone()),
        (json!("deregistered"), json!("i-dst"))
    );
    let before = l.export_all();
    let (code, error, _) = l.json_error_at(
        "2026-04-03T00:00:00Z",
        &["service", "move", "shop.example.com", "--to", "i-dst2"],
    );
    assert_eq!((code, error.as_str()), (4, "wrong_status"));
    assert_eq!(l.export_all(), before);
    // The slot stays consumed on the instance the number came from.
    assert_eq!(
        l.json_at(LATER, &["instance", "show", "i-src"])["quota"],
        json!({"max": 5, "consumed": 5, "remaining": 0})
    );
    assert_eq!(
        l.json_at(LATER, &["instance", "show", "i-dst"])["quota"],
        json!({"max": 5, "consumed": 1, "remaining": 4})
    );
}

#[test]
fn commercial_move_needs_an_ip_update_until_recorded() {
    let l = services_ledger();
    assert_eq!(l.json_at(MOVE, &["report", "ip-updates"]), json!([]));
    let moved = l.json_at(
        MOVE,
        &[
            "service",
            "move",
            "shop.example.com",
            "--to",
            "i-dst",
            "--commercial",
        ],
    );
    assert_eq!(
        (
            moved["commercial"].clone(),
            moved["ip_update_required"].clone()
        ),
        (json!(true), json!(true))
    );
    assert_eq!(moved["host"], json!("i-dst"));

    // Pending IP updates are listed, as service objects.
    let pending = l.json_at(LATER, &["report", "ip-updates"]);
    assert_eq!(pending.as_array().unwrap().len(), 1, "{pending}");
    assert_eq!(pending[0], show(&l, "shop.example.com"));
    assert_eq!(keys(&pending[0]), sorted(&SERVICE_KEYS));
    let table = l.ok_at(LATER, &["report", "ip-updates"]);
    assert!(
        table.contains("shop.example.com") && table.contains("i-dst"),
        "{table}"
    );

    // Recorded: no longer pending, still commercial.
    let updated = l.json_at(
        "2026-04-05T00:00:00Z",
        &["service", "ip-updated", "shop.example.com"],
    );
    assert_eq!(
        (
            updated["commercial"].clone(),
            updated["ip_update_required"].clone()
        ),
        (json!(true), json!(false))
    );
    assert_eq!(updated["host"], json!("i-dst"));
    assert_eq!(l.json_at(LATER, &["report", "ip-updates"]), json!([]));
    let last = l.events(&[]).pop().unwrap();
    assert_eq!(last["kind"], json!("service_ip_updated"));
    assert_eq!(last["payload"]["service"], json!("shop.example.com"));
    // Twice: nothing pending any more.
    let before = l.export_all();
    let (code, error, _) = l.json_error_at(
        "2026-04-06T00:00:00Z",
        &["service", "ip-updated", "shop.example.com"],
    );
    assert_eq!((code, error.as_str()), (4, "wrong_status"));
    assert_eq!(l.export_all(), before);

    // Commercial is sticky: the next move needs an IP update again.
    let again = l.json_at(
        "2026-04-07T00:00:00Z",
        &["service", "move", "shop.example.com", "--to", "i-dst2"],
    );
    assert_eq!(
        (
            again["commercial"].clone(),
            again["ip_update_required"].clone()
        ),
        (json!(true), json!(true))
    );
    assert_eq!(
        l.json_at(LATER, &["report", "ip-updates"])
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // A plain move of a non-commercial service needs none.
    let other = services_ledger();
    let moved = other.json_at(
        MOVE,
        &["service", "move", "shop.example.com", "--to", "i-dst"],
    );
    assert_eq!(
        (
            moved["commercial"].clone(),
            moved["ip_update_required"].clone()
        ),
        (json!(false), json!(false))
    );
    assert_eq!(other.json_at(LATER, &["report", "ip-updates"]), json!([]));

    // Looking back: pending between the move and the update.
    assert_eq!(
        l.json_at(
            LATER,
            &["report", "ip-updates", "--as-of", "2026-04-02T00:00:00Z"]
        )
        .as_array()
        .unwrap()
        .len(),
        1
    );
    assert_eq!(
        l.json_at(
            LATER,
            &["report", "ip-updates", "--as-of", "2026-04-06T00:00:00Z"]
        ),
        json!([])
    );
    assert_eq!(
        l.json_at(
            LATER,
            &["report", "ip-updates", "--as-of", "2026-03-01T00:00:00Z"]
        ),
        json!([])
    );
    l.verify_ok();
}

fn expiring(l: &Ledger, now: &str, days: &str) -> Vec<(String, Vec<String>)> {
    let rows = l.json_at(now, &["report", "expiring", "--within", days]);
    let mut out: Vec<(String, Vec<String>)> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let mut services: Vec<String> = r["services"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s.as_str().unwrap().to_string())
                .collect();
            services.sort();
            (str_field(r, "instance_id").to_string(), services)
        })
        .collect();
    out.sort();
    out
}

fn row(id: &str, services: &[&str]) -> (String, Vec<String>) {
    (id.to_string(), sorted(services))
}

#[test]
fn expiry_risk_follows_the_host() {
    let l = services_ledger();
    // i-src expires 30 days after MOVE; i-dst2 61 days; i-dst in 2027.
    let at_src = row(
        "i-src",
        &[
            "bound.example.com",
            "filing.example.com",
            "shop.example.com",
        ],
    );
    assert_eq!(expiring(&l, MOVE, "45"), vec![at_src.clone()]);

    l.ok_at(
        MOVE,
        &["service", "move", "shop.example.com", "--to", "i-dst"],
    );
    let left = row("i-src", &["bound.example.com", "filing.example.com"]);
    assert_eq!(expiring(&l, MOVE, "45"), vec![left.clone()]);
    assert_eq!(
        expiring(&l, MOVE, "1000"),
        vec![
            row("i-dst", &["direct.example.com", "shop.example.com"]),
            left.clone()
        ]
    );

    l.ok_at(
        MOVE,
        &["service", "move", "shop.example.com", "--to", "i-dst2"],
    );
    assert_eq!(expiring(&l, MOVE, "45"), vec![left.clone()]);
    assert_eq!(
        expiring(&l, MOVE, "90"),
        vec![row("i-dst2", &["shop.example.com"]), left.clone()]
    );
    let table = l.ok_at(MOVE, &["report", "expiring", "--within", "90"]);
    assert!(
        table.contains("i-dst2") && table.contains("shop.example.com"),
        "{table}"
    );

    // Looking back: before the moves, the risk was on i-src.
    let rows = l.json_at(
        MOVE,
        &[
            "report",
            "expiring",
            "--within",
            "45",
            "--as-of",
            "2026-03-31T00:00:00Z",
        ],
    );
    assert_eq!(rows.as_array().unwrap().len(), 1, "{rows}");
    assert_eq!(rows[0]["instance_id"], json!("i-src"));
    assert!(
        rows[0]["services"].to_string().contains("shop.example.com"),
        "{rows}"
    );

    // Once the host has expired, the service is at risk even with --within 0.
    assert_eq!(
        expiring(&l, "2026-06-02T00:00:00Z", "0"),
        vec![row("i-dst2", &["shop.example.com"]), left.clone()]
    );
    // A released host puts it at risk whatever its expiry.
    l.ok_at(
        "2026-04-02T00:00:00Z",
        &["service", "move", "shop.example.com", "--to", "i-dst"],
    );
    l.ok_at("2026-04-03T00:00:00Z", &["instance", "release", "i-dst"]);
    assert_eq!(
        expiring(&l, "2026-04-03T00:00:00Z", "0"),
        vec![row("i-dst", &["direct.example.com", "shop.example.com"])]
    );
    // Deregistered: no longer at risk anywhere.
    l.ok_at("2026-04-04T00:00:00Z", &["deregister", "N-FILED"]);
    assert_eq!(
        expiring(&l, "2026-04-04T00:00:00Z", "0"),
        vec![row("i-dst", &["direct.example.com"])]
    );
    l.verify_ok();
}

#[test]
fn history_service_shows_the_whole_story() {
    let l = services_ledger();
    l.ok_at(
        MOVE,
        &[
            "service",
            "move",
            "shop.example.com",
            "--to",
            "i-dst",
            "--commercial",
        ],
    );
    l.ok_at(
        "2026-04-02T00:00:00Z",
        &["service", "ip-updated", "shop.example.com"],
    );
    l.ok_at(
        "2026-04-03T00:00:00Z",
        &["service", "move", "shop.example.com", "--to", "i-dst2"],
    );
    l.ok_at(
        "2026-04-04T00:00:00Z",
        &["deregister", "N-FILED", "--reason", "closed"],
    );
    let story = l.events(&["--service", "shop.example.com"]);
    assert_eq!(
        kinds(&story),
        vec![
            "bound",
            "submitted",
            "rejected",
            "submitted",
            "approved",
            "service_moved",
            "service_ip_updated",
            "service_moved",
            "deregistered"
        ]
    );
    for event in &story {
        assert_eq!(
            event["payload"]["service"],
            json!("shop.example.com"),
            "{event}"
        );
        assert_eq!(
            keys(event),
            sorted(&[
                "seq",
                "event_id",
                "at",
                "actor",
                "kind",
                "payload",
                "prev_hash",
                "hash"
            ])
        );
    }
    let seqs = seqs(&story);
    assert!(
        seqs.windows(2).all(|w| w[0] < w[1]),
        "in log order: {seqs:?}"
    );

    // Combined with other filters.
    assert_eq!(
        seqs_of(
            &l,
            &["--service", "shop.example.com", "--kind", "service_moved"]
        )
        .len(),
        2
    );
    assert_eq!(
        kinds(&l.events(&[
            "--service",
            "shop.example.com",
            "--since",
            MOVE,
            "--until",
            "2026-04-02T00:00:00Z"
        ])),
        vec!["service_moved", "service_ip_updated"]
    );
    // The moves also show under the instances they name.
    let dst = kinds(&l.events(&["--instance", "i-dst2"]));
    assert!(dst.contains(&"service_moved".to_string()), "{dst:?}");
    // Another service's story is its own.
    assert_eq!(
        kinds(&l.events(&["--service", "direct.example.com"])),
        vec!["selected"]
    );
    assert_eq!(
        kinds(&l.events(&["--service", "gone.example.com"])),
        vec!["bound", "submitted", "approved", "deregistered"]
    );
    assert!(l.events(&["--service", "nosuch.example.com"]).is_empty());
    // Table and CSV.
    let table = l.ok_at(LATER, &["history", "--service", "shop.example.com"]);
    assert!(
        table.contains("service_moved")
            && table.contains("rejected")
            && !table.contains("selected"),
        "{table}"
    );
    let csv = parse_csv(&l.ok_at(
        LATER,
        &[
            "--format",
            "csv",
            "history",
            "--service",
            "shop.example.com",
        ],
    ));
    assert_eq!(csv.len(), 10);
}

fn seqs_of(l: &Ledger, filters: &[&str]) -> Vec<i64> {
    seqs(&l.events(filters))
}

#[test]
fn service_show_as_of_answers_from_the_log() {
    let l = services_ledger();
    l.ok_at(
        MOVE,
        &[
            "service",
            "move",
            "shop.example.com",
            "--to",
            "i-dst",
            "--commercial",
        ],
    );
    let at = |t: &str| {
        l.json_at(
            LATER,
            &["service", "show", "shop.example.com", "--as-of", t],
        )
    };
    let (code, error, _) = l.json_error_at(
        LATER,
        &[
            "service",
            "show",
            "shop.example.com",
            "--as-of",
            "2026-01-15T00:00:00Z",
        ],
    );
    assert_eq!((code, error.as_str()), (3, "not_found"));
    let early = at("2026-02-02T00:00:00Z");
    assert_eq!(
        (early["status"].clone(), early["host"].clone()),
        (json!("filing"), json!("i-src"))
    );
    let filed = at("2026-03-01T00:00:00Z");
    assert_eq!(
        (
            filed["status"].clone(),
            filed["host"].clone(),
            filed["ip_update_required"].clone()
        ),
        (json!("filed"), json!("i-src"), json!(false))
    );
    let moved = at(MOVE);
    assert_eq!(
        (moved["host"].clone(), moved["ip_update_required"].clone()),
        (json!("i-dst"), json!(true))
    );
    let list = l.json_at(
        LATER,
        &[
            "service",
            "list",
            "--instance",
            "i-dst",
            "--as-of",
            "2026-03-01T00:00:00Z",
        ],
    );
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|s| str_field(s, "service"))
        .collect();
    assert_eq!(names, vec!["direct.example.com"]);
}

// ---------------------------------------------------------------- advise

fn advise(uses: &str) -> Value {
    let l = Ledger::with(AUDIT_NOW, AUDIT_ACTOR);
    l.json_at(SETUP, &["advise", "--uses", uses])
}

fn advised_keys(value: &Value) -> Vec<String> {
    let mut keys: Vec<String> = value
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            // Whatever its field is called, each entry names its service.
            a.as_object()
                .unwrap()
                .values()
                .filter_map(|v| v.as_str())
                .find(|s| ["oss", "cdn", "waf", "anti-ddos"].contains(s))
                .unwrap_or_else(|| panic!("no service key in {a}"))
                .to_string()
        })
        .collect();
    keys.sort();
    keys
}

fn assert_advice(entry: &Value) {
    // Every one of these needs an ICP number for the domain from the MIIT,
    // and none needs the provider added to the filing.
    let object = entry.as_object().unwrap();
    let icp = object
        .iter()
        .find(|(k, _)| k.contains("icp"))
        .map(|(_, v)| v.clone());
    assert_eq!(icp, Some(json!(true)), "ICP number required: {entry}");
    let provider = object
        .iter()
        .find(|(k, _)| k.contains("provider"))
        .map(|(_, v)| v.clone());
    assert_eq!(provider, Some(json!(false)), "provider not added: {entry}");
}

#[test]
fn advise_any_subset_case_insensitive() {
    for (uses, expected) in [
        ("oss", vec!["oss"]),
        ("cdn", vec!["cdn"]),
        ("waf", vec!["waf"]),
        ("anti-ddos", vec!["anti-ddos"]),
        ("OSS,Cdn", vec!["cdn", "oss"]),
        ("WAF,ANTI-DDOS", vec!["anti-ddos", "waf"]),
        (
            "oss,cdn,waf,anti-ddos",
            vec!["anti-ddos", "cdn", "oss", "waf"],
        ),
        ("Anti-DDoS,oSs,cdn", vec!["anti-ddos", "cdn", "oss"]),
    ] {
        let value = advise(uses);
        assert_eq!(
            advised_keys(&value),
            sorted(&expected),
            "--uses {uses}: {value}"
        );
        for entry in value.as_array().unwrap() {
            assert_advice(entry);
        }
    }
}

#[test]
fn advise_table_output() {
    let l = Ledger::with(AUDIT_NOW, AUDIT_ACTOR);
    let table = l.ok_at(SETUP, &["advise", "--uses", "oss,cdn,waf,anti-ddos"]);
    for word in ["oss", "cdn", "waf", "anti-ddos", "MIIT"] {
        assert!(table.contains(word), "{word} missing:\n{table}");
    }
    let table = l.ok_at(SETUP, &["advise", "--uses", "CDN"]);
    assert!(
        table.contains("cdn") && !table.contains("waf") && !table.contains("anti-ddos"),
        "{table}"
    );
}

#[test]
fn advise_refuses_unknown_services_with_exit_2() {
    let l = services_ledger();
    let before = l.export_all();
    for uses in ["foo", "oss,foo", "s3", "oss,,cdn,cloudfront", ""] {
        let (code, error, message) = l.json_error_at(SETUP, &["advise", "--uses", uses]);
        assert_eq!(
            (code, error.as_str()),
            (2, "usage"),
            "--uses {uses:?}: {message}"
        );
    }
    let (_, _, message) = l.json_error_at(SETUP, &["advise", "--uses", "oss,foo"]);
    assert!(
        message.contains("foo"),
        "the message names the unknown service: {message}"
    );
    l.command_at(SETUP)
        .args(["advise", "--uses", "ftp"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicates::str::starts_with("error[usage]"));
    assert_eq!(l.export_all(), before);
}
