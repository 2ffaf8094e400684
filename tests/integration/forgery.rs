//! Issue 12: logs whose hashes are right but whose content the rules would
//! never have written (docs/reference.md "The log and its hash", "Guarantees": tamper
//! evidence). Each forged class goes in twice: as a file to `import history`
//! (exit 5, the line, the seq and the reason; nothing imported) and straight
//! into the SQLite file with the derived rows the program would have written
//! for it, so that only replaying the log through the rules can catch it
//! (`verify`: exit 5, `first_bad_seq` and the reason).
//!
//! The generator (`Forged`, `reseal`, `history_csv`, `append_to_file`) is
//! shared with the property test in `model.rs`: a new rule gets a forged
//! case by adding one `ForgedCase` here.

use crate::common::*;
use serde_json::{json, Value};

// ---------------------------------------------------------------- the generator

/// One event to forge: its kind and payload (in the program's field order),
/// and optionally a time or event id other than the defaults (the previous
/// event's time, a fresh well-formed id).
#[derive(Debug, Clone)]
pub struct Forged {
    pub kind: &'static str,
    pub payload: Value,
    pub at: Option<String>,
    pub event_id: Option<String>,
}

impl Forged {
    pub fn new(kind: &'static str, payload: Value) -> Forged {
        Forged {
            kind,
            payload,
            at: None,
            event_id: None,
        }
    }

    pub fn at(mut self, at: &str) -> Forged {
        self.at = Some(at.to_string());
        self
    }

    pub fn event_id(mut self, event_id: &str) -> Forged {
        self.event_id = Some(event_id.to_string());
        self
    }
}

/// A UUID v4 in canonical form, distinct for each `n` (and unlike any
/// random one snledger makes in practice).
pub fn forged_uuid(n: u64) -> String {
    format!("5f0c2b9e-7d41-4a36-b8e5-{n:012x}")
}

/// Where the generator's event ids start (its numbers start at 1).
const EVENT_IDS: u64 = 0x9000;

/// Renumbers the rows 1, 2, 3 … and recomputes every link and hash, so the
/// chain is intact whatever the rows say.
pub fn reseal(rows: &mut [EventRow]) {
    let mut prev = GENESIS.to_string();
    for (index, row) in rows.iter_mut().enumerate() {
        row.seq = index as i64 + 1;
        row.prev_hash = prev;
        row.hash = row.computed_hash();
        prev = row.hash.clone();
    }
}

/// The ledger's rows with `forged` appended after them (each forged event
/// timed as the event before it unless it says otherwise), resealed.
pub fn with_appended(ledger: &Ledger, forged: &[Forged]) -> Vec<EventRow> {
    let mut rows = ledger.event_rows();
    for event in forged {
        let previous_at = rows.last().map(|r| r.at.clone()).unwrap_or(ledger.now());
        rows.push(EventRow {
            seq: 0,
            event_id: event
                .event_id
                .clone()
                .unwrap_or_else(|| forged_uuid(EVENT_IDS + rows.len() as u64)),
            at: event.at.clone().unwrap_or(previous_at),
            actor: ledger.actor(),
            kind: event.kind.to_string(),
            payload: event.payload.to_string(),
            prev_hash: String::new(),
            hash: String::new(),
        });
    }
    reseal(&mut rows);
    rows
}

/// A CSV cell as `export` writes it: the spreadsheet guard, then quoting.
fn guarded_cell(text: &str) -> String {
    let guarded = if text.starts_with(['=', '+', '-', '@', '\t', '\r', '\'']) {
        format!("'{text}")
    } else {
        text.to_string()
    };
    cell(&guarded)
}

/// Rows as an `import history` file.
pub fn history_csv(rows: &[EventRow]) -> String {
    let mut text = format!("{HISTORY_HEADER}\n");
    for row in rows {
        let cells = [
            row.seq.to_string(),
            row.event_id.clone(),
            row.at.clone(),
            row.actor.clone(),
            row.kind.clone(),
            row.payload.clone(),
            row.prev_hash.clone(),
            row.hash.clone(),
        ];
        let cells: Vec<String> = cells.iter().map(|c| guarded_cell(c)).collect();
        text.push_str(&cells.join(","));
        text.push('\n');
    }
    text
}

/// An SQL string literal.
pub fn sql_text(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

fn field<'a>(payload: &'a Value, key: &str) -> &'a str {
    payload[key]
        .as_str()
        .unwrap_or_else(|| panic!("forged payload lacks {key}: {payload}"))
}

/// The history index rows an event makes: every instance, number, account
/// and service it names (docs/reference.md "Choices where the spec is silent": an event names its owner and its
/// holder).
fn subject_rows(seq: i64, payload: &Value) -> String {
    let letters = [
        ("instance_id", "i"),
        ("from_host", "i"),
        ("to_host", "i"),
        ("host", "i"),
        ("number", "n"),
        ("account", "a"),
        ("owner", "a"),
        ("holder", "a"),
        ("from", "a"),
        ("to", "a"),
        ("service", "s"),
    ];
    let mut sql = String::new();
    let mut add = |letter: &str, value: &str| {
        let subject = sql_text(&format!("{letter}:{value}"));
        sql.push_str(&format!(
            "INSERT OR IGNORE INTO event_subjects VALUES ({subject}, {seq});\n"
        ));
    };
    for (key, letter) in letters {
        if let Some(value) = payload[key].as_str() {
            add(letter, value);
        }
    }
    for number in payload["numbers"].as_array().into_iter().flatten() {
        add("n", number.as_str().unwrap_or_default());
    }
    sql
}

/// The derived rows of one event, as snledger's write path makes them
/// (docs/reference.md "The log and its hash": derived tables in the same transaction),
/// for the kinds the forged cases use.
fn derived_rows(seq: i64, kind: &str, payload: &Value) -> String {
    let text = |key: &str| sql_text(field(payload, key));
    let past = |table: &str, key: &str| past_row(seq, table, &text(key));
    match kind {
        "allocated" => past("instances", "instance_id") + &allocated_rows(seq, payload),
        "selected" => past("services", "service") + &past("instances", "instance_id") + &format!(
            "INSERT INTO numbers SELECT {n}, instance_id, account, account, 'bound', {s}, NULL, 'direct', {seq}, {seq} FROM instances WHERE instance_id = {i};
             INSERT OR REPLACE INTO services (service, number, host, commercial, ip_update_required, updated_seq, service_key) VALUES ({s}, {n}, {i}, 0, 0, {seq}, {s});
             UPDATE instances SET consumed = consumed + 1, updated_seq = {seq} WHERE instance_id = {i};",
            n = text("number"),
            s = text("service"),
            i = text("instance_id"),
        ),
        "bound" => past("numbers", "number") + &past("services", "service") + &format!(
            "UPDATE numbers SET status = 'bound', service = {s}, updated_seq = {seq} WHERE number = {n};
             INSERT OR REPLACE INTO services (service, number, host, commercial, ip_update_required, updated_seq, service_key) VALUES ({s}, {n}, {i}, 0, 0, {seq}, {s});",
            n = text("number"),
            s = text("service"),
            i = text("instance_id"),
        ),
        "service_moved" => past("services", "service") + &format!(
            "UPDATE services SET host = {to}, commercial = {c}, ip_update_required = {r}, updated_seq = {seq} WHERE service = {s};",
            to = text("to_host"),
            c = i64::from(payload["commercial"] == true),
            r = i64::from(payload["ip_update_required"] == true),
            s = text("service"),
        ),
        "service_ip_updated" => past("services", "service") + &format!(
            "UPDATE services SET ip_update_required = 0, updated_seq = {seq} WHERE service = {};",
            text("service")
        ),
        "instance_renewed" => past("instances", "instance_id") + &format!(
            "UPDATE instances SET subscription_months = {}, expires_at = {}, updated_seq = {seq} WHERE instance_id = {};",
            payload["subscription_months"],
            text("expires_at"),
            text("instance_id"),
        ),
        other => panic!("the forgery generator has no derived rows for {other}"),
    }
}

/// The row `key` of `table` kept as a past version superseded by `seq`, as
/// snledger's write path keeps it on either backend (ARCHITECTURE.md "--as-of: how
/// a past state is answered").
fn past_row(seq: i64, table: &str, key: &str) -> String {
    use snledger::schema::{INSTANCE_COLUMNS, NUMBER_COLUMNS, SERVICE_COLUMNS};
    let (columns, key_column) = match table {
        "instances" => (INSTANCE_COLUMNS, "instance_id"),
        "numbers" => (NUMBER_COLUMNS, "number"),
        "services" => (SERVICE_COLUMNS, "service"),
        other => panic!("no past versions of {other}"),
    };
    format!(
        "INSERT INTO {table}_past ({columns}, superseded_seq) SELECT {columns}, {seq} FROM {table} WHERE {key_column} = {key} AND updated_seq < {seq};\n"
    )
}

fn allocated_rows(seq: i64, payload: &Value) -> String {
    let instance = sql_text(field(payload, "instance_id"));
    let numbers = payload["numbers"].as_array().expect("numbers");
    let mut sql = String::new();
    for number in numbers {
        sql.push_str(&format!(
            "INSERT INTO numbers SELECT {}, instance_id, account, account, 'unbound', NULL, NULL, 'issued', {seq}, {seq} FROM instances WHERE instance_id = {instance};\n",
            sql_text(number.as_str().expect("a number"))
        ));
    }
    sql.push_str(&format!(
        "UPDATE instances SET consumed = consumed + {}, updated_seq = {seq} WHERE instance_id = {instance};\n",
        numbers.len()
    ));
    if let Some(request_id) = payload["request_id"].as_str() {
        sql.push_str(&format!(
            "INSERT OR REPLACE INTO requests VALUES ({}, {instance}, {}, {}, {}, {}, {seq});\n",
            sql_text(request_id),
            sql_text(field(payload, "account")),
            numbers.len(),
            sql_text(&payload["asked"].to_string()),
            sql_text(&payload["numbers"].to_string()),
        ));
    }
    sql
}

/// Appends `event` to the ledger file behind snledger's back: the row linked
/// and hashed as snledger would, with its derived rows and history index
/// rows. Returns its seq.
pub fn append_to_file(ledger: &Ledger, event: &Forged) -> i64 {
    let rows = with_appended(ledger, std::slice::from_ref(event));
    let row = rows.last().expect("the appended row");
    let mut sql = format!(
        "BEGIN;\nINSERT INTO events VALUES ({}, {}, {}, {}, {}, {}, {}, {});\n",
        row.seq,
        sql_text(&row.event_id),
        sql_text(&row.at),
        sql_text(&row.actor),
        sql_text(&row.kind),
        sql_text(&row.payload),
        sql_text(&row.prev_hash),
        sql_text(&row.hash),
    );
    sql.push_str(&subject_rows(row.seq, &event.payload));
    sql.push_str(&derived_rows(row.seq, event.kind, &event.payload));
    sql.push_str("\nCOMMIT;");
    ledger.tamper(&sql);
    row.seq
}

// ---------------------------------------------------------------- payloads

/// An `allocated` payload with the numbers named, as `allocate` writes it.
pub fn allocated(
    instance: &str,
    account: &str,
    numbers: &[String],
    request: Option<&str>,
) -> Value {
    json!({
        "instance_id": instance,
        "account": account,
        "numbers": numbers,
        "asked": [],
        "request_id": request,
    })
}

/// `count` fresh numbers, distinct from each other and from any snledger
/// generates.
pub fn fresh_numbers(first: u64, count: u64) -> Vec<String> {
    (first..first + count).map(forged_uuid).collect()
}

fn bound(number: &str, instance: &str, account: &str, service: &str) -> Value {
    json!({
        "number": number,
        "instance_id": instance,
        "owner": account,
        "holder": account,
        "service": service,
    })
}

fn renewed(instance: &str, account: &str, months: i64, total: i64, expires: &str) -> Value {
    json!({
        "instance_id": instance,
        "account": account,
        "months": months,
        "subscription_months": total,
        "expires_at": expires,
    })
}

fn moved(number: &str, from: &str, to: &str, account: &str, service: &str) -> Value {
    json!({
        "service": service,
        "number": number,
        "instance_id": from,
        "owner": account,
        "holder": account,
        "from_host": from,
        "to_host": to,
        "commercial": false,
        "ip_update_required": false,
    })
}

fn ip_updated(number: &str, instance: &str, account: &str, service: &str) -> Value {
    json!({
        "service": service,
        "number": number,
        "instance_id": instance,
        "owner": account,
        "holder": account,
        "host": instance,
    })
}

// ---------------------------------------------------------------- the ledgers

const SERVICE: &str = "www.forged.cn";
const ICP: &str = "浙ICP备12345678号-1";

/// An eligible ECS instance `i-1` of acme.
fn one_instance() -> Ledger {
    let ledger = Ledger::new();
    ledger.ecs("i-1", "acme");
    ledger
}

/// `i-1` with one number bound to [`SERVICE`] and filed when `filed`.
fn with_service(filed: bool) -> (Ledger, String) {
    let ledger = one_instance();
    let number = ledger.allocate_one("i-1");
    ledger.bind(&number, SERVICE, "acme");
    if filed {
        ledger.ok(&["submit", &number]);
        ledger.ok(&["approve", &number, "--icp-number", ICP]);
    }
    (ledger, number)
}

/// A released Hong Kong ECS instance `hk-1` of acme next to `with_service`.
fn with_released_hong_kong(filed: bool) -> (Ledger, String) {
    let (ledger, number) = with_service(filed);
    let hong_kong = ["--region", "cn-hongkong", "--public-ip", "47.96.10.30"];
    ledger.add_instance("hk-1", "ecs", "acme", &hong_kong);
    ledger.ok(&["instance", "release", "hk-1"]);
    (ledger, number)
}

/// One instance of acme with these extra `instance add` flags, and one
/// forged allocation of a fresh number on it.
fn allocation_on(extra: &[&str], at: Option<&str>) -> (Ledger, Vec<Forged>) {
    let ledger = Ledger::new();
    ledger.add_instance("i-x", "ecs", "acme", extra);
    let mut event = Forged::new(
        "allocated",
        allocated("i-x", "acme", &fresh_numbers(1, 1), None),
    );
    if let Some(at) = at {
        event = event.at(at);
    }
    (ledger, vec![event])
}

/// An honest renewal of `i-1` (12 → 24 months), to carry a bad time or id.
fn honest_renewal() -> Forged {
    Forged::new(
        "instance_renewed",
        renewed("i-1", "acme", 12, 24, "2028-03-01T00:00:00Z"),
    )
}

// ---------------------------------------------------------------- the check

/// Problems of a verify report, as text.
fn problem_texts(report: &Value) -> Vec<String> {
    report["problems"]
        .as_array()
        .unwrap_or_else(|| panic!("problems is not an array: {report}"))
        .iter()
        .map(|p| match p.as_str() {
            Some(text) => text.to_string(),
            None => p.to_string(),
        })
        .collect()
}

/// The texts verify gives when a stored derived row disagrees with the log
/// (src/verify/tables.rs): a forged case must not trip these, or the test
/// would pass for a reason other than the rules.
const TABLE_DISAGREEMENTS: [&str; 3] = ["the log gives", "the log makes it", "no event made it"];

/// `import history` of the forged rows into an empty ledger: exit 5,
/// `error[integrity]` on the line of the bad event naming its seq and
/// `reason`, nothing imported.
fn assert_import_refused(source: &Ledger, rows: &[EventRow], bad_seq: i64, reason: &str) {
    let target = source.sibling("import");
    target.ok(&["init"]);
    let before = target.export_history();
    let file = target.write("forged.csv", history_csv(rows));
    let output = target.run(&["import".as_ref(), "history".as_ref(), file.as_os_str()]);
    assert_fails(&output, 5, "integrity", reason);
    let first = failure_lines(&output)
        .into_iter()
        .next()
        .unwrap_or_default();
    let line = bad_seq + 1;
    assert!(
        first.starts_with(&format!("line {line}: error[integrity]"))
            && first.contains(&format!("event {bad_seq}"))
            && first.contains(reason),
        "import history should fail at line {line} (event {bad_seq}) with {reason}: {}",
        stderr(&output)
    );
    assert_eq!(
        target.export_history(),
        before,
        "{reason}: nothing imported"
    );
    assert_eq!(target.verify_ok(), 0, "{reason}: nothing imported");
}

/// `verify` of a ledger file with the forged event appended: exit 5, the
/// seq, and the reason in that event's problem, with every derived table
/// agreeing (so only the rules could tell).
fn assert_verify_catches(ledger: &Ledger, bad_seq: i64, reason: &str) {
    let (code, report) = ledger.verify();
    let problems = problem_texts(&report);
    assert_eq!(code, 5, "{reason}: verify should exit 5: {report}");
    assert_eq!(report["ok"], false, "{reason}: {report}");
    assert_eq!(report["first_bad_seq"], bad_seq, "{reason}: {report}");
    assert!(
        problems
            .iter()
            .any(|p| p.contains(&format!("event {bad_seq}")) && p.contains(reason)),
        "{reason}: no problem names event {bad_seq} and {reason}: {report}"
    );
    for problem in &problems {
        assert!(
            !TABLE_DISAGREEMENTS.iter().any(|t| problem.contains(t)),
            "{reason}: the forged derived rows disagree with the log, fix the generator: {problem}"
        );
    }
}

/// Both paths for one forged class: `forged` goes after the honest log of
/// `source`; its last event is the bad one and `reason` names why.
fn assert_forgery_caught(source: Ledger, forged: Vec<Forged>, reason: &str) {
    let rows = with_appended(&source, &forged);
    let bad_seq = rows.len() as i64;
    assert_import_refused(&source, &rows, bad_seq, reason);
    let honest_log = source.export_history();
    for event in &forged {
        append_to_file(&source, event);
    }
    assert!(
        source.export_history().starts_with(&honest_log),
        "the forged events are appended after the honest log"
    );
    assert_verify_catches(&source, bad_seq, reason);
}

// ---------------------------------------------------------------- the generator is honest

/// Events the rules accept, appended by the generator in both ways, import
/// and verify cleanly: the forged cases below fail for their one defect.
#[test]
fn the_generator_appends_honest_events_that_import_and_verify() {
    let (source, number) = with_service(true);
    source.ecs("i-2", "acme");
    let cases = vec![
        Forged::new(
            "allocated",
            allocated("i-1", "acme", &fresh_numbers(1, 2), Some("r-9")),
        ),
        Forged::new(
            "selected",
            json!({"instance_id": "i-1", "account": "acme", "number": forged_uuid(3), "service": "b.forged.cn"}),
        ),
        Forged::new(
            "bound",
            bound(&forged_uuid(1), "i-1", "acme", "c.forged.cn"),
        ),
        Forged::new(
            "service_moved",
            moved(&number, "i-1", "i-2", "acme", SERVICE),
        ),
        honest_renewal(),
    ];
    let rows = with_appended(&source, &cases);
    let target = source.sibling("honest");
    let file = target.write("honest.csv", history_csv(&rows));
    target.ok(&["import".as_ref(), "history".as_ref(), file.as_os_str()]);
    assert_eq!(target.verify_ok(), rows.len() as u64);
    for event in &cases {
        append_to_file(&source, event);
    }
    assert_eq!(source.verify_ok(), rows.len() as u64);
    assert_eq!(source.export_history(), target.export_history());
    assert_eq!(source.consumed("i-1"), 4);
}

// ---------------------------------------------------------------- one test per class

#[test]
fn an_ecs_instance_with_22_numbers_consumed_is_quota_exhausted() {
    let source = one_instance();
    source.allocate("i-1", 2);
    let twenty = allocated("i-1", "acme", &fresh_numbers(1, 20), None);
    assert_forgery_caught(
        source,
        vec![Forged::new("allocated", twenty)],
        "quota_exhausted",
    );
}

#[test]
fn a_service_holding_two_live_numbers_is_service_taken() {
    let (source, _) = with_service(false);
    let second = source.allocate_one("i-1");
    let event = Forged::new("bound", bound(&second, "i-1", "acme", SERVICE));
    assert_forgery_caught(source, vec![event], "service_taken");
}

#[test]
fn an_allocation_on_a_released_instance_is_released() {
    let (source, forged) = allocation_on(&["--public-ip", "47.96.10.21"], None);
    source.ok(&["instance", "release", "i-x"]);
    assert_forgery_caught(source, forged, "released");
}

#[test]
fn an_allocation_on_an_expired_instance_is_expired() {
    let extra = [
        "--public-ip",
        "47.96.10.21",
        "--expires",
        "2026-06-01T00:00:00Z",
    ];
    let (source, forged) = allocation_on(&extra, Some("2026-07-01T00:00:00Z"));
    assert_forgery_caught(source, forged, "expired");
}

#[test]
fn an_allocation_on_a_hong_kong_instance_is_region_not_mainland() {
    let extra = ["--public-ip", "47.96.10.21", "--region", "cn-hongkong"];
    let (source, forged) = allocation_on(&extra, None);
    assert_forgery_caught(source, forged, "region_not_mainland");
}

#[test]
fn an_allocation_on_a_pay_as_you_go_instance_is_pay_as_you_go() {
    let extra = ["--public-ip", "47.96.10.21", "--billing", "pay-as-you-go"];
    let (source, forged) = allocation_on(&extra, None);
    assert_forgery_caught(source, forged, "pay_as_you_go");
}

#[test]
fn a_bound_service_moved_to_a_released_hong_kong_instance_is_wrong_status() {
    // Only a filed service moves; that is checked before the target.
    let (source, number) = with_released_hong_kong(false);
    let event = Forged::new(
        "service_moved",
        moved(&number, "i-1", "hk-1", "acme", SERVICE),
    );
    assert_forgery_caught(source, vec![event], "wrong_status");
}

#[test]
fn a_filed_service_moved_to_a_released_hong_kong_instance_is_region_not_mainland() {
    // The target's first failing reason names the refusal.
    let (source, number) = with_released_hong_kong(true);
    let event = Forged::new(
        "service_moved",
        moved(&number, "i-1", "hk-1", "acme", SERVICE),
    );
    assert_forgery_caught(source, vec![event], "region_not_mainland");
}

#[test]
fn an_ip_update_with_nothing_pending_is_wrong_status() {
    let (source, number) = with_service(true);
    let event = Forged::new(
        "service_ip_updated",
        ip_updated(&number, "i-1", "acme", SERVICE),
    );
    assert_forgery_caught(source, vec![event], "wrong_status");
}

#[test]
fn a_second_allocation_under_one_request_id_is_request_conflict() {
    let source = one_instance();
    source.ok(&["allocate", "i-1", "--count", "1", "--request-id", "r-1"]);
    let again = allocated("i-1", "acme", &fresh_numbers(1, 2), Some("r-1"));
    assert_forgery_caught(
        source,
        vec![Forged::new("allocated", again)],
        "request_conflict",
    );
}

#[test]
fn a_repeat_of_a_request_recorded_as_a_new_allocation_is_caught() {
    // The same parameters again: the command answers the first numbers and
    // writes nothing, so no rule produces this event (there is no reason
    // code to name; the seq is).
    let source = one_instance();
    source.ok(&["allocate", "i-1", "--count", "1", "--request-id", "r-1"]);
    let again = allocated("i-1", "acme", &fresh_numbers(1, 1), Some("r-1"));
    assert_forgery_caught(source, vec![Forged::new("allocated", again)], "event 3");
}

#[test]
fn a_renewal_of_a_released_instance_is_released() {
    let source = one_instance();
    source.ok(&["instance", "release", "i-1"]);
    assert_forgery_caught(source, vec![honest_renewal()], "released");
}

#[test]
fn a_renewal_whose_total_is_not_what_the_rules_compute_names_the_field() {
    // 12 months plus 12 is 24; the forged event says 99.
    let source = one_instance();
    let event = Forged::new(
        "instance_renewed",
        renewed("i-1", "acme", 12, 99, "2028-03-01T00:00:00Z"),
    );
    assert_forgery_caught(source, vec![event], "subscription_months");
}

#[test]
fn an_event_earlier_than_the_one_before_is_caught() {
    let source = one_instance();
    let event = honest_renewal().at("2026-02-01T00:00:00Z");
    assert_forgery_caught(source, vec![event], "earlier than");
}

#[test]
fn an_event_time_that_is_not_canonical_utc_is_caught() {
    // The same instant as the event before, written with an offset.
    let source = one_instance();
    let event = honest_renewal().at("2026-03-01T18:00:00+08:00");
    assert_forgery_caught(source, vec![event], "canonical");
}

#[test]
fn an_event_id_that_is_not_canonical_is_caught() {
    let source = one_instance();
    let event = honest_renewal().event_id(&forged_uuid(77).to_uppercase());
    assert_forgery_caught(source, vec![event], "event_id");
}
