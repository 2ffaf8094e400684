//! Issue 4: verify and tamper evidence, history filters, time travel,
//! reports, and the outside check in samples/verify_history.py.

use crate::common::AUDIT_ACTOR as ACTOR;
use crate::common::*;
use assert_cmd::prelude::*;
use serde_json::{json, Value};
use std::collections::BTreeSet;

// Times at which the audit ledger is built (each phase strictly later).
const T01: &str = "2026-01-05T09:00:00Z"; // instances added          seq 1-4
const T02: &str = "2026-02-01T10:00:00Z"; // allocations              seq 5-6
const T03: &str = "2026-02-15T10:00:00Z"; // policy set ecs --max 6   seq 7
const T04: &str = "2026-03-01T10:00:00Z"; // grant, bind, select, bind seq 8-11
const T05: &str = "2026-03-10T10:00:00Z"; // submit x2                seq 12-13
const T06: &str = "2026-03-20T10:00:00Z"; // reject, approve          seq 14-15
const T07: &str = "2026-04-01T10:00:00Z"; // service move --commercial seq 16
const T08: &str = "2026-04-05T10:00:00Z"; // service ip-updated       seq 17
const T09: &str = "2026-04-10T10:00:00Z"; // renew i-hz1              seq 18
const T10: &str = "2026-04-15T10:00:00Z"; // allocate iot-1, invalidate seq 19-20
const T11: &str = "2026-05-01T10:00:00Z"; // deregister SN-0002       seq 21
const T12: &str = "2026-05-10T10:00:00Z"; // release iot-1            seq 22
const LATER: &str = "2026-06-01T00:00:00Z";
const EVENTS: i64 = 22;

/// A healthy ledger built with every writing command, at known times.
fn audit_ledger() -> Ledger {
    let l = Ledger::with(AUDIT_NOW, ACTOR);
    l.ok_at(T01, &["init"]);
    l.ecs_at(T01, "i-hz1", "acme", "2026-12-31T16:00:00Z", "47.96.1.1");
    l.add_instance_at(
        T01,
        "i-sh2",
        "ecs",
        "acme",
        &[
            "--region",
            "cn-shanghai",
            "--months",
            "24",
            "--expires",
            "2027-06-30T16:00:00Z",
            "--public-ip",
            "47.100.1.2",
        ],
    );
    l.add_instance_at(
        T01,
        "mall-1",
        "linkedmall",
        "beta",
        &["--months", "0", "--expires", "2026-08-31T16:00:00Z"],
    );
    l.add_instance_at(
        T01,
        "iot-1",
        "iot_studio",
        "gamma",
        &[
            "--region",
            "cn-shanghai",
            "--expires",
            "2026-10-31T16:00:00Z",
            "--order-amount",
            "120",
        ],
    );
    l.ok_at(
        T02,
        &[
            "allocate", "i-hz1", "--number", "SN-0001", "--number", "SN-0002", "--number",
            "SN-0003",
        ],
    );
    l.ok_at(
        T02,
        &["allocate", "i-sh2", "--count", "2", "--request-id", "req-1"],
    );
    l.ok_at(T03, &["policy", "set", "ecs", "--max", "6"]);
    l.ok_at(
        T04,
        &["grant", "SN-0001", "--to", "beta", "--note", "for beta"],
    );
    l.bind_at(T04, "SN-0001", "shop.beta.example", "beta");
    l.ok_at(T04, &["select", "mall-1", "--service", "mall.beta.example"]);
    l.bind_at(T04, "SN-0002", "blog.acme.example", "acme");
    l.ok_at(T05, &["submit", "SN-0001"]);
    l.ok_at(T05, &["submit", "SN-0002"]);
    l.ok_at(T06, &["reject", "SN-0002", "--reason", "wrong documents"]);
    l.ok_at(
        T06,
        &["approve", "SN-0001", "--icp-number", "浙ICP备12345678号-1"],
    );
    l.ok_at(
        T07,
        &[
            "service",
            "move",
            "shop.beta.example",
            "--to",
            "i-sh2",
            "--commercial",
        ],
    );
    l.ok_at(T08, &["service", "ip-updated", "shop.beta.example"]);
    l.ok_at(
        T09,
        &[
            "instance",
            "renew",
            "i-hz1",
            "--months",
            "12",
            "--expires",
            "2027-12-31T16:00:00Z",
        ],
    );
    l.ok_at(T10, &["allocate", "iot-1", "--number", "IOT-0001"]);
    l.ok_at(T10, &["invalidate", "IOT-0001", "--reason", "duplicate"]);
    l.ok_at(T11, &["deregister", "SN-0002", "--reason", "site closed"]);
    l.ok_at(T12, &["instance", "release", "iot-1"]);
    l
}

// ---------------------------------------------------------------- verify

#[test]
fn verify_passes_on_a_healthy_ledger_built_with_every_command() {
    let l = audit_ledger();
    let (code, report) = l.verify();
    assert_eq!(code, 0, "{report}");
    assert_eq!(
        keys(&report),
        sorted(&["ok", "events", "first_bad_seq", "problems"])
    );
    assert_eq!(report["ok"], json!(true));
    assert_eq!(report["events"], json!(EVENTS));
    assert_eq!(report["first_bad_seq"], Value::Null);
    assert_eq!(report["problems"], json!([]));
    // Every kind of event is in the ledger.
    let kinds: BTreeSet<String> = kinds(&l.events(&[])).into_iter().collect();
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
        assert!(kinds.contains(kind), "no {kind} event in {kinds:?}");
    }
    // Table output too.
    l.command_at(LATER)
        .arg("verify")
        .assert()
        .success()
        .stdout(predicates::str::contains("true"));
    // Every stored hash follows docs/reference.md "The log and its hash" and links to
    // the previous one.
    let mut prev = GENESIS.to_string();
    for seq in 1..=EVENTS {
        let row = l.event_row(seq);
        assert_eq!(row.prev_hash, prev, "seq {seq}");
        assert_eq!(row.hash, row.computed_hash(), "seq {seq}");
        prev = row.hash;
    }
}

#[test]
fn verify_on_an_empty_ledger_is_ok() {
    let l = Ledger::with(AUDIT_NOW, ACTOR);
    l.ok_at(T01, &["init"]);
    let (code, report) = l.verify();
    assert_eq!(code, 0);
    assert_eq!(
        report,
        json!({"ok": true, "events": 0, "first_bad_seq": null, "problems": []})
    );
}

fn assert_tamper_found(l: &Ledger, first_bad: i64) -> Value {
    let (code, report) = l.verify();
    assert_eq!(code, 5, "verify must exit 5: {report}");
    assert_eq!(report["ok"], json!(false), "{report}");
    assert_eq!(report["first_bad_seq"], json!(first_bad), "{report}");
    assert!(
        !report["problems"].as_array().unwrap().is_empty(),
        "{report}"
    );
    // The table form exits 5 too, with error[integrity] on stderr.
    l.command_at(LATER)
        .arg("verify")
        .assert()
        .code(5)
        .stderr(predicates::str::contains("error[integrity]"));
    report
}

#[test]
fn append_only_triggers_refuse_update_and_delete() {
    sqlite_only!("edits the SQLite file with rusqlite (PostgreSQL twin: postgres::a_writer_cannot_update_delete_or_truncate_events)");
    let l = audit_ledger();
    let conn = l.conn();
    let update = conn.execute("UPDATE events SET actor = 'mallory' WHERE seq = 3", []);
    assert!(
        update.is_err(),
        "UPDATE on events must fail while the triggers are there"
    );
    let delete = conn.execute("DELETE FROM events WHERE seq = 22", []);
    assert!(
        delete.is_err(),
        "DELETE on events must fail while the triggers are there"
    );
    let delete_all = conn.execute("DELETE FROM events", []);
    assert!(delete_all.is_err());
    drop(conn);
    assert_eq!(l.count("events"), EVENTS);
    l.verify_ok();
}

#[test]
fn tamper_payload_edited_is_found_at_that_event() {
    let l = audit_ledger();
    let row = l.event_row(8);
    assert_eq!(row.kind, "granted");
    assert!(row.payload.contains("\"beta\""));
    l.tamper(
        "UPDATE events SET payload = replace(payload, '\"beta\"', '\"mallory\"') WHERE seq = 8",
    );
    assert_tamper_found(&l, 8);
}

#[test]
fn tamper_event_deleted_is_found() {
    let l = audit_ledger();
    l.tamper("DELETE FROM events WHERE seq = 10");
    let report = assert_tamper_found(&l, 10);
    assert_eq!(report["events"], json!(EVENTS - 1));
}

#[test]
fn tamper_event_appended_with_a_bogus_hash_is_found() {
    let l = audit_ledger();
    let last = l.event_row(EVENTS);
    l.tamper(&format!(
        "INSERT INTO events (seq, event_id, at, actor, kind, payload, prev_hash, hash) VALUES \
         ({}, '9b2f7c1e-4a5d-4c3b-8e2f-1a2b3c4d5e6f', '{LATER}', 'mallory', 'instance_released', \
         '{{\"instance_id\":\"i-sh2\",\"account\":\"acme\"}}', '{}', '{}')",
        EVENTS + 1,
        last.hash,
        "f".repeat(64)
    ));
    assert_tamper_found(&l, EVENTS + 1);
}

#[test]
fn tamper_event_inserted_mid_chain_with_a_valid_hash_is_found_at_the_insertion() {
    // A careful forger: shifts the events from seq 6 up by one and inserts an
    // allocation at seq 6 whose prev_hash and hash are computed as docs/reference.md
    // "The log and its hash" says.
    let l = audit_ledger();
    let before = l.event_row(5);
    let event_id = "9b2f7c1e-4a5d-4c3b-8e2f-1a2b3c4d5e6f";
    let payload = r#"{"instance_id":"i-hz1","account":"acme","numbers":["FORGED-1"],"asked":["FORGED-1"],"request_id":null}"#;
    let hash = chain_hash(
        &before.hash,
        6,
        event_id,
        T02,
        "mallory",
        "allocated",
        payload,
    );
    l.tamper(&format!(
        "UPDATE events SET seq = -seq WHERE seq >= 6; \
         UPDATE events SET seq = 1 - seq WHERE seq < 0; \
         INSERT INTO events (seq, event_id, at, actor, kind, payload, prev_hash, hash) VALUES \
         (6, '{event_id}', '{T02}', 'mallory', 'allocated', '{payload}', '{}', '{hash}');",
        before.hash
    ));
    assert_eq!(l.count("events"), EVENTS + 1);
    assert_tamper_found(&l, 6);
}

#[test]
fn tamper_events_reordered_is_found() {
    let l = audit_ledger();
    // Swap the whole contents of rows 12 and 13 (both submissions, same time).
    l.tamper(
        "CREATE TEMP TABLE swap AS SELECT * FROM events WHERE seq IN (12, 13); \
         UPDATE events SET (event_id, at, actor, kind, payload, prev_hash, hash) = \
           (SELECT event_id, at, actor, kind, payload, prev_hash, hash FROM swap WHERE swap.seq = 25 - events.seq) \
         WHERE seq IN (12, 13);",
    );
    // The row at seq 12 now holds what was the submission of SN-0002.
    let moved = l.event_row(12).payload;
    assert!(moved.contains("SN-0002"), "{moved}");
    assert_tamper_found(&l, 12);
}

#[test]
fn tamper_last_event_edited_with_hash_recomputed_is_given_away_by_the_derived_tables() {
    let l = audit_ledger();
    let mut last = l.event_row(EVENTS);
    assert_eq!(last.kind, "instance_released");
    // The forger claims a different instance was released and re-seals the event.
    assert!(last.payload.contains("\"iot-1\""), "{}", last.payload);
    last.payload = last
        .payload
        .replace("\"iot-1\"", "\"i-sh2\"")
        .replace("\"gamma\"", "\"acme\"");
    last.hash = last.computed_hash();
    l.tamper(&format!(
        "UPDATE events SET payload = '{}', hash = '{}' WHERE seq = {EVENTS}",
        last.payload.replace('\'', "''"),
        last.hash
    ));
    // The chain itself is intact now...
    assert_eq!(
        l.event_row(EVENTS).computed_hash(),
        l.event_row(EVENTS).hash
    );
    // ...but the log no longer explains the stored tables.
    assert_tamper_found(&l, EVENTS);
}

#[test]
fn tamper_last_event_value_edited_with_hash_recomputed_is_found() {
    // A simpler forgery of the last event: a renewal's months changed.
    let l = audit_ledger();
    l.ok_at(
        LATER,
        &[
            "instance",
            "renew",
            "i-sh2",
            "--months",
            "12",
            "--expires",
            "2028-06-30T16:00:00Z",
        ],
    );
    let seq = EVENTS + 1;
    let mut last = l.event_row(seq);
    assert_eq!(last.kind, "instance_renewed");
    assert!(last.payload.contains("12"), "{}", last.payload);
    last.payload = last
        .payload
        .replace("2028-06-30T16:00:00Z", "2029-06-30T16:00:00Z");
    last.hash = last.computed_hash();
    l.tamper(&format!(
        "UPDATE events SET payload = '{}', hash = '{}' WHERE seq = {seq}",
        last.payload.replace('\'', "''"),
        last.hash
    ));
    assert_tamper_found(&l, seq);
}

#[test]
fn tamper_derived_row_edited_is_found() {
    sqlite_only!("edits the SQLite file with rusqlite");
    let l = audit_ledger();
    // i-hz1 was last written by its renewal (seq 18).
    assert_eq!(l.event_row(18).kind, "instance_renewed");
    let conn = l.conn();
    conn.execute(
        "UPDATE instances SET consumed = 0 WHERE instance_id = 'i-hz1'",
        [],
    )
    .unwrap();
    drop(conn);
    let report = assert_tamper_found(&l, 18);
    assert!(report["problems"].to_string().contains("i-hz1"), "{report}");
}

#[test]
fn tamper_derived_number_row_edited_is_found() {
    sqlite_only!("edits the SQLite file with rusqlite");
    let l = audit_ledger();
    // SN-0002 was last written by its deregistration (seq 21): a forger
    // tries to give the slot back.
    assert_eq!(l.event_row(21).kind, "deregistered");
    l.conn()
        .execute(
            "UPDATE numbers SET status = 'unbound', service = NULL WHERE number = 'SN-0002'",
            [],
        )
        .unwrap();
    assert_tamper_found(&l, 21);
}

/// Renumbers seq 1.. in order and recomputes every prev_hash and hash (docs/reference.md
/// "The log and its hash"), as a forger who knows the formula would after an
/// edit.
fn rechain(l: &Ledger) {
    let rows = l.event_rows();
    let conn = l.conn();
    conn.execute_batch("DROP TRIGGER events_no_update; DROP TRIGGER events_no_delete;")
        .unwrap();
    conn.execute("UPDATE events SET seq = -seq", []).unwrap();
    let mut prev = GENESIS.to_string();
    for (i, mut row) in rows.into_iter().enumerate() {
        let old = row.seq;
        row.seq = i as i64 + 1;
        row.prev_hash = prev;
        row.hash = row.computed_hash();
        conn.execute(
            "UPDATE events SET seq = ?1, prev_hash = ?2, hash = ?3 WHERE seq = ?4",
            rusqlite::params![row.seq, row.prev_hash, row.hash, -old],
        )
        .unwrap();
        prev = row.hash;
    }
    conn.execute_batch(
        "CREATE TRIGGER events_no_update BEFORE UPDATE ON events BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
         CREATE TRIGGER events_no_delete BEFORE DELETE ON events BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;",
    )
    .unwrap();
}

#[test]
fn tamper_event_deleted_and_chain_recomputed_is_found() {
    sqlite_only!("edits the SQLite file with rusqlite");
    // The grant (seq 8) is removed and every later hash recomputed: the chain
    // is consistent, but beta's bind no longer follows from the log.
    let l = audit_ledger();
    l.tamper("DELETE FROM events WHERE seq = 8");
    rechain(&l);
    assert_eq!(l.event_row(8).kind, "bound");
    assert_eq!(
        l.event_row(EVENTS - 1).computed_hash(),
        l.event_row(EVENTS - 1).hash
    );
    assert_tamper_found(&l, 8);
}

#[test]
fn tamper_time_moved_backwards_and_chain_recomputed_is_found() {
    sqlite_only!("edits the SQLite file with rusqlite");
    let l = audit_ledger();
    l.tamper("UPDATE events SET at = '2026-01-01T00:00:00Z' WHERE seq = 12");
    rechain(&l);
    assert_tamper_found(&l, 12);
}

#[test]
fn tamper_unparsable_payload_with_hash_recomputed_is_found() {
    let l = audit_ledger();
    let mut last = l.event_row(EVENTS);
    last.payload = "not json".to_string();
    last.hash = last.computed_hash();
    l.tamper(&format!(
        "UPDATE events SET payload = 'not json', hash = '{}' WHERE seq = {EVENTS}",
        last.hash
    ));
    assert_tamper_found(&l, EVENTS);
}

#[test]
fn tamper_derived_service_row_edited_is_found() {
    sqlite_only!("edits the SQLite file with rusqlite");
    let l = audit_ledger();
    // shop.beta.example was last written by its IP update (seq 17).
    assert_eq!(l.event_row(17).kind, "service_ip_updated");
    l.conn()
        .execute(
            "UPDATE services SET host = 'i-hz1' WHERE service = 'shop.beta.example'",
            [],
        )
        .unwrap();
    assert_tamper_found(&l, 17);
}

#[test]
fn tamper_history_index_edited_is_found() {
    sqlite_only!("edits the SQLite file with rusqlite");
    // Hiding beta's events from `history --account beta` by editing the
    // subjects index is a derived-table edit like any other.
    let l = audit_ledger();
    assert!(!l.events(&["--account", "beta"]).is_empty());
    l.conn()
        .execute("DELETE FROM event_subjects WHERE subject = 'a:beta'", [])
        .unwrap();
    assert_tamper_found(&l, 3);
}

#[test]
fn tamper_derived_row_deleted_is_found() {
    sqlite_only!("edits the SQLite file with rusqlite");
    let l = audit_ledger();
    // SN-0003 was allocated at seq 5 and never touched again.
    l.conn()
        .execute("DELETE FROM numbers WHERE number = 'SN-0003'", [])
        .unwrap();
    assert_tamper_found(&l, 5);
}

#[test]
fn tamper_derived_policy_row_edited_is_found() {
    sqlite_only!("edits the SQLite file with rusqlite");
    let l = audit_ledger();
    // The ecs policy was last set by seq 7.
    assert_eq!(l.event_row(7).kind, "policy_set");
    l.conn()
        .execute(
            "UPDATE policy SET max_numbers = 50 WHERE service_type = 'ecs'",
            [],
        )
        .unwrap();
    assert_tamper_found(&l, 7);
}

#[test]
fn tamper_triggers_dropped_is_not_ok() {
    sqlite_only!("SQLite triggers");
    let l = audit_ledger();
    l.conn()
        .execute_batch("DROP TRIGGER events_no_update; DROP TRIGGER events_no_delete;")
        .unwrap();
    let (code, report) = l.verify();
    assert_eq!(code, 5, "{report}");
    assert_eq!(report["ok"], json!(false));
    assert_eq!(report["events"], json!(EVENTS));
    // No event is bad: only the triggers are missing.
    assert_eq!(report["first_bad_seq"], Value::Null, "{report}");
    assert!(
        report["problems"].to_string().contains("trigger"),
        "{report}"
    );
}

#[test]
fn tamper_one_trigger_dropped_is_not_ok() {
    sqlite_only!("SQLite triggers (PostgreSQL twin: postgres::verify_catches_a_tampered_event_and_an_altered_schema)");
    let l = audit_ledger();
    l.conn()
        .execute_batch("DROP TRIGGER events_no_delete;")
        .unwrap();
    let (code, report) = l.verify();
    assert_eq!(code, 5, "{report}");
    assert_eq!(report["ok"], json!(false));
}

#[test]
fn tamper_event_inserted_at_seq_0_is_found_at_0() {
    // A well-formed event placed before the genesis: its prev_hash is the
    // genesis and its hash is right for seq 0, so only reading every seq
    // (not just 1..) finds it.
    let l = audit_ledger();
    let first = l.event_row(1);
    let event_id = "3c1d5e7f-2a4b-4c6d-9e8f-0a1b2c3d4e5f";
    let hash = chain_hash(
        GENESIS,
        0,
        event_id,
        &first.at,
        "mallory",
        &first.kind,
        &first.payload,
    );
    l.tamper(&format!(
        "INSERT INTO events (seq, event_id, at, actor, kind, payload, prev_hash, hash) VALUES \
         (0, '{event_id}', '{}', 'mallory', '{}', '{}', '{GENESIS}', '{hash}')",
        first.at,
        first.kind,
        first.payload.replace('\'', "''")
    ));
    assert_eq!(l.count("events"), EVENTS + 1);
    assert_tamper_found(&l, 0);
}

#[test]
fn tamper_trigger_replaced_by_a_no_op_of_the_same_name_is_not_ok() {
    sqlite_only!("SQLite triggers");
    for name in ["events_no_update", "events_no_delete"] {
        let l = audit_ledger();
        let when = if name == "events_no_update" {
            "UPDATE"
        } else {
            "DELETE"
        };
        let conn = l.conn();
        conn.execute_batch(&format!(
            "DROP TRIGGER {name}; CREATE TRIGGER {name} BEFORE {when} ON events BEGIN SELECT 1; END;"
        ))
        .unwrap();
        // The trigger is there by name but no longer guards anything.
        let present: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name = ?1",
                [name],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(present, 1);
        if when == "UPDATE" {
            conn.execute("UPDATE events SET actor = actor WHERE seq = 1", [])
                .expect("the no-op trigger lets an UPDATE through");
        }
        drop(conn);
        let (code, report) = l.verify();
        assert_eq!(code, 5, "{name}: {report}");
        assert_eq!(report["ok"], json!(false), "{name}: {report}");
        assert_eq!(report["events"], json!(EVENTS), "{name}: {report}");
        assert_eq!(report["first_bad_seq"], Value::Null, "{name}: {report}");
        assert!(
            report["problems"].to_string().contains("trigger"),
            "{name}: {report}"
        );
        l.command_at(LATER)
            .arg("verify")
            .assert()
            .code(5)
            .stderr(predicates::str::contains("error[integrity]"));
    }
}

#[test]
fn tamper_derived_row_that_does_not_parse_is_an_integrity_failure_at_its_event() {
    sqlite_only!("edits the SQLite file with rusqlite");
    // CHECK constraints keep most such values out of the tables; a forger
    // who switches them off (or edits a column without one) still gets
    // caught, as tampering (exit 5), not as a storage error (exit 6), and
    // the row's last event is named.
    let l = audit_ledger();
    assert_eq!(l.event_row(18).kind, "instance_renewed");
    let conn = l.conn();
    conn.execute_batch(
        "PRAGMA ignore_check_constraints = ON; \
         UPDATE instances SET billing = 'free' WHERE instance_id = 'i-hz1';",
    )
    .unwrap();
    let billing: String = conn
        .query_row(
            "SELECT billing FROM instances WHERE instance_id = 'i-hz1'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(billing, "free", "the edit went in");
    drop(conn);
    let report = assert_tamper_found(&l, 18);
    assert!(report["problems"].to_string().contains("i-hz1"), "{report}");

    // A number row with a status no program writes, likewise.
    let l = audit_ledger();
    l.conn()
        .execute_batch(
            "PRAGMA ignore_check_constraints = ON; \
             UPDATE numbers SET status = 'lost' WHERE number = 'SN-0003';",
        )
        .unwrap();
    let report = assert_tamper_found(&l, 5);
    assert!(
        report["problems"].to_string().contains("SN-0003"),
        "{report}"
    );
}

#[test]
fn tamper_flag_set_to_a_value_other_than_0_or_1_is_found() {
    sqlite_only!("edits the SQLite file with rusqlite");
    // SQLite reads any non-zero integer as true; verify must not.
    let l = audit_ledger();
    assert_eq!(l.event_row(17).kind, "service_ip_updated");
    l.conn()
        .execute_batch(
            "PRAGMA ignore_check_constraints = ON; \
             UPDATE services SET commercial = 2 WHERE service = 'shop.beta.example';",
        )
        .unwrap();
    let report = assert_tamper_found(&l, 17);
    assert!(
        report["problems"].to_string().contains("shop.beta.example"),
        "{report}"
    );
}

// ---------------------------------------------------------------- history

const ACCOUNT_KEYS: [&str; 5] = ["account", "owner", "holder", "from", "to"];
const INSTANCE_KEYS: [&str; 4] = ["instance_id", "from_host", "to_host", "host"];

fn names(payload: &Value, keys: &[&str], value: &str) -> bool {
    keys.iter().any(|k| payload[*k].as_str() == Some(value))
}

fn names_number(payload: &Value, number: &str) -> bool {
    payload["number"].as_str() == Some(number)
        || payload["numbers"]
            .as_array()
            .is_some_and(|list| list.iter().any(|n| n.as_str() == Some(number)))
}

#[test]
fn history_json_has_the_spec_shape() {
    let l = audit_ledger();
    let events = l.events(&[]);
    assert_eq!(seqs(&events), (1..=EVENTS).collect::<Vec<_>>());
    for event in &events {
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
            ]),
            "{event}"
        );
        assert!(
            event["payload"].is_object(),
            "payload must be a JSON object: {event}"
        );
        assert_eq!(event["actor"], json!(ACTOR));
        // The JSON matches the stored row exactly.
        let row = l.event_row(event["seq"].as_i64().unwrap());
        assert_eq!(str_field(event, "event_id"), row.event_id);
        assert_eq!(str_field(event, "at"), row.at);
        assert_eq!(str_field(event, "kind"), row.kind);
        assert_eq!(str_field(event, "prev_hash"), row.prev_hash);
        assert_eq!(str_field(event, "hash"), row.hash);
        assert_eq!(
            event["payload"],
            serde_json::from_str::<Value>(&row.payload).unwrap()
        );
    }
    assert_eq!(str_field(&events[0], "prev_hash"), GENESIS);
}

#[test]
fn history_filters_by_instance_number_account_service_and_kind() {
    let l = audit_ledger();
    let all = l.events(&[]);
    let expect = |pred: &dyn Fn(&Value) -> bool| -> Vec<i64> {
        all.iter()
            .filter(|e| pred(&e["payload"]))
            .map(|e| e["seq"].as_i64().unwrap())
            .collect()
    };

    // --instance: every event naming the instance (incl. a move to it).
    let got = seqs(&l.events(&["--instance", "i-sh2"]));
    assert_eq!(got, expect(&|p| names(p, &INSTANCE_KEYS, "i-sh2")));
    assert_eq!(got, vec![2, 6, 16, 17]);
    let got = seqs(&l.events(&["--instance", "i-hz1"]));
    assert_eq!(got, expect(&|p| names(p, &INSTANCE_KEYS, "i-hz1")));
    assert!(
        got.contains(&1) && got.contains(&5) && got.contains(&18) && got.contains(&21),
        "{got:?}"
    );

    // --number: allocation (in its list), grant, bind, review, move, IP update.
    let got = seqs(&l.events(&["--number", "SN-0001"]));
    assert_eq!(got, expect(&|p| names_number(p, "SN-0001")));
    assert_eq!(got, vec![5, 8, 9, 12, 15, 16, 17]);

    // --account matches owner, holder, from and to.
    let got = seqs(&l.events(&["--account", "beta"]));
    assert_eq!(got, expect(&|p| names(p, &ACCOUNT_KEYS, "beta")));
    for seq in [3, 8, 9, 10, 12, 15] {
        assert!(got.contains(&seq), "--account beta misses {seq}: {got:?}");
    }
    let got = seqs(&l.events(&["--account", "acme"]));
    assert_eq!(got, expect(&|p| names(p, &ACCOUNT_KEYS, "acme")));
    for seq in [1, 2, 5, 6, 8, 11, 13, 14, 18, 21] {
        assert!(got.contains(&seq), "--account acme misses {seq}: {got:?}");
    }
    assert!(
        !got.contains(&3) && !got.contains(&4) && !got.contains(&7),
        "{got:?}"
    );
    let got = seqs(&l.events(&["--account", "gamma"]));
    assert_eq!(got, expect(&|p| names(p, &ACCOUNT_KEYS, "gamma")));
    assert!(got.contains(&4) && got.contains(&22), "{got:?}");

    // --service
    let got = seqs(&l.events(&["--service", "shop.beta.example"]));
    assert_eq!(
        got,
        expect(&|p| p["service"].as_str() == Some("shop.beta.example"))
    );
    assert_eq!(got, vec![9, 12, 15, 16, 17]);

    // --kind
    assert_eq!(seqs(&l.events(&["--kind", "allocated"])), vec![5, 6, 19]);
    assert_eq!(seqs(&l.events(&["--kind", "policy_set"])), vec![7]);
    assert_eq!(seqs(&l.events(&["--kind", "service_moved"])), vec![16]);

    // Nobody named: empty.
    assert!(l.events(&["--account", "nobody"]).is_empty());
    assert!(l.events(&["--instance", "i-none"]).is_empty());
}

#[test]
fn history_account_of_the_owner_includes_every_grant_it_made() {
    // Only the owner grants (docs/guide.md "The life of a number"), so each grant of
    // its number is the owner's act, including a re-grant from one grantee to
    // another.
    let l = Ledger::with(AUDIT_NOW, ACTOR);
    let t = "2026-02-01T00:00:00Z";
    l.ecs_at(t, "i-1", "acme", "2027-01-01T00:00:00Z", "1.1.1.1");
    l.ok_at(t, &["allocate", "i-1", "--number", "G-0001"]);
    l.ok_at(t, &["grant", "G-0001", "--to", "bob"]);
    l.ok_at(t, &["grant", "G-0001", "--to", "carol"]);
    l.ok_at(t, &["grant", "G-0001", "--to", "acme"]);
    assert_eq!(seqs(&l.events(&["--account", "bob"])), vec![3, 4]);
    assert_eq!(seqs(&l.events(&["--account", "carol"])), vec![4, 5]);
    assert_eq!(
        seqs(&l.events(&["--kind", "granted", "--account", "acme"])),
        vec![3, 4, 5]
    );
}

#[test]
fn history_account_follows_a_granted_number_through_its_whole_life() {
    // acme owns the instance and allocates; cust holds the number from the
    // grant on and files a service with it, which later moves to an instance
    // of a third account. Each of these events names both owner and holder.
    let l = Ledger::with(AUDIT_NOW, ACTOR);
    let t = "2026-02-01T00:00:00Z";
    let add = |id: &str, account: &str| {
        l.ecs_at(t, id, account, "2027-01-01T00:00:00Z", "1.1.1.1");
    };
    add("i-origin", "acme"); // seq 1
    add("i-target", "hostco"); // seq 2
    l.ok_at(t, &["allocate", "i-origin", "--number", "LIFE-0001"]); // 3
    l.ok_at(t, &["grant", "LIFE-0001", "--to", "cust"]); // 4
    l.bind_at(t, "LIFE-0001", "life.example", "cust"); // 5
    l.ok_at(t, &["submit", "LIFE-0001"]); // 6
    l.ok_at(t, &["approve", "LIFE-0001", "--icp-number", "京ICP备1号-1"]); // 7
    l.ok_at(
        t,
        &[
            "service",
            "move",
            "life.example",
            "--to",
            "i-target",
            "--commercial",
        ],
    ); // 8
    l.ok_at(t, &["service", "ip-updated", "life.example"]); // 9
    let life = [
        (3, "allocated"),
        (4, "granted"),
        (5, "bound"),
        (6, "submitted"),
        (7, "approved"),
        (8, "service_moved"),
        (9, "service_ip_updated"),
    ];
    let all = l.events(&[]);
    for (seq, kind) in life {
        assert_eq!(all[seq as usize - 1]["kind"], json!(kind), "seq {seq}");
    }

    let acme = seqs(&l.events(&["--account", "acme"]));
    for (seq, kind) in life {
        assert!(
            acme.contains(&seq),
            "--account acme misses {kind} (seq {seq}): {acme:?}"
        );
    }
    let cust = seqs(&l.events(&["--account", "cust"]));
    for (seq, kind) in &life[1..] {
        assert!(
            cust.contains(seq),
            "--account cust misses {kind} (seq {seq}): {cust:?}"
        );
    }
    assert!(
        !cust.contains(&3),
        "the allocation was before cust held anything: {cust:?}"
    );
    assert!(!cust.contains(&1) && !cust.contains(&2), "{cust:?}");

    // The number's origin instance keeps the whole life too.
    let origin = l.events(&["--instance", "i-origin"]);
    let origin_kinds = kinds(&origin);
    for kind in ["allocated", "service_moved", "service_ip_updated"] {
        assert!(
            origin_kinds.iter().any(|k| k == kind),
            "--instance i-origin misses {kind}: {origin_kinds:?}"
        );
    }
    assert!(seqs(&origin).contains(&9), "{:?}", seqs(&origin));
    l.verify_ok();
}

#[test]
fn history_filters_by_time_and_combined() {
    let l = audit_ledger();
    // --since and --until are inclusive, like --as-of.
    assert_eq!(
        seqs(&l.events(&["--since", T04, "--until", T06])),
        (8..=15).collect::<Vec<_>>()
    );
    assert_eq!(
        seqs(&l.events(&[
            "--since",
            "2026-03-01T00:00:00Z",
            "--until",
            "2026-03-20T23:59:59Z"
        ])),
        (8..=15).collect::<Vec<_>>()
    );
    assert_eq!(
        seqs(&l.events(&["--until", T02])),
        (1..=6).collect::<Vec<_>>()
    );
    assert_eq!(seqs(&l.events(&["--since", T12])), vec![22]);
    assert_eq!(seqs(&l.events(&["--since", LATER])), Vec::<i64>::new());
    assert_eq!(
        seqs(&l.events(&["--until", "2026-01-01T00:00:00Z"])),
        Vec::<i64>::new()
    );

    // Combined filters are an AND.
    assert_eq!(
        seqs(&l.events(&["--account", "acme", "--kind", "allocated"])),
        vec![5, 6]
    );
    assert_eq!(
        seqs(&l.events(&["--instance", "i-hz1", "--kind", "submitted", "--since", T05])),
        vec![12, 13]
    );
    assert_eq!(
        seqs(&l.events(&[
            "--number",
            "SN-0001",
            "--service",
            "shop.beta.example",
            "--until",
            "2026-03-31T00:00:00Z"
        ])),
        vec![9, 12, 15]
    );
    assert_eq!(
        seqs(&l.events(&["--account", "beta", "--instance", "mall-1"])),
        vec![3, 10]
    );
    assert_eq!(
        seqs(&l.events(&[
            "--account",
            "beta",
            "--instance",
            "i-hz1",
            "--since",
            T05,
            "--until",
            T07
        ])),
        // 16: the move of beta's service off i-hz1 names both.
        vec![12, 15, 16]
    );
    assert_eq!(
        seqs(&l.events(&["--kind", "bound", "--account", "gamma"])),
        Vec::<i64>::new()
    );
    assert_eq!(
        seqs(&l.events(&[
            "--instance",
            "i-hz1",
            "--number",
            "SN-0002",
            "--account",
            "acme",
            "--service",
            "blog.acme.example",
            "--kind",
            "rejected",
            "--since",
            T01,
            "--until",
            LATER
        ])),
        vec![14]
    );
}

#[test]
fn history_csv_and_table_output() {
    let l = audit_ledger();
    // CSV: the header of docs/guide.md "CSV files" and one row per event, matching
    // the JSON.
    let csv = l.ok_at(
        LATER,
        &[
            "--format",
            "csv",
            "history",
            "--account",
            "beta",
            "--kind",
            "bound",
        ],
    );
    let rows = parse_csv(&csv);
    assert_eq!(
        rows[0],
        vec![
            "seq",
            "event_id",
            "at",
            "actor",
            "kind",
            "payload",
            "prev_hash",
            "hash"
        ]
    );
    assert_eq!(rows.len(), 2, "{csv}");
    assert_eq!(rows[1][0], "9");
    assert_eq!(rows[1][4], "bound");
    let row = l.event_row(9);
    assert_eq!(rows[1][1], row.event_id);
    assert_eq!(
        rows[1][5], row.payload,
        "the CSV payload is the stored text"
    );
    assert_eq!(rows[1][6], row.prev_hash);
    assert_eq!(rows[1][7], row.hash);

    // Unfiltered CSV: every hash re-checks from the CSV alone.
    let rows = parse_csv(&l.ok_at(LATER, &["--format", "csv", "history"]));
    assert_eq!(rows.len() as i64, EVENTS + 1);
    let mut prev = GENESIS.to_string();
    for row in &rows[1..] {
        let seq: i64 = row[0].parse().unwrap();
        assert_eq!(row[6], prev);
        assert_eq!(
            row[7],
            chain_hash(&prev, seq, &row[1], &row[2], &row[3], &row[4], &row[5])
        );
        prev = row[7].clone();
    }

    // Empty result: header only in CSV, [] in JSON.
    let rows = parse_csv(&l.ok_at(
        LATER,
        &[
            "--format",
            "csv",
            "history",
            "--kind",
            "selected",
            "--account",
            "acme",
        ],
    ));
    assert_eq!(rows.len(), 1);
    assert_eq!(
        l.events(&["--kind", "selected", "--account", "acme"]),
        Vec::<Value>::new()
    );

    // Table: the selected events and nothing else.
    let table = l.ok_at(LATER, &["history", "--service", "shop.beta.example"]);
    for kind in [
        "bound",
        "submitted",
        "approved",
        "service_moved",
        "service_ip_updated",
    ] {
        assert!(table.contains(kind), "table lacks {kind}:\n{table}");
    }
    for kind in [
        "instance_added",
        "allocated",
        "granted",
        "rejected",
        "policy_set",
    ] {
        assert!(!table.contains(kind), "table shows {kind}:\n{table}");
    }
    assert!(table.contains("shop.beta.example"));
    let table = l.ok_at(LATER, &["history", "--kind", "policy_set"]);
    assert!(
        table.contains("policy_set") && !table.contains("instance_added"),
        "{table}"
    );
}

#[test]
fn history_rejects_bad_filters_with_exit_2() {
    let l = audit_ledger();
    for args in [
        vec!["history", "--kind", "stolen"],
        vec!["history", "--since", "yesterday"],
        vec!["history", "--until", "2026-13-45T00:00:00Z"],
    ] {
        let (code, error, _) = l.json_error_at(LATER, &args);
        assert_eq!((code, error.as_str()), (2, "usage"), "{args:?}");
    }
}

// ---------------------------------------------------------------- time travel

fn instance_at(l: &Ledger, id: &str, as_of: &str) -> Value {
    l.json_at(LATER, &["instance", "show", id, "--as-of", as_of])
}

fn quota(v: &Value) -> (i64, i64, i64) {
    (
        v["quota"]["max"].as_i64().unwrap(),
        v["quota"]["consumed"].as_i64().unwrap(),
        v["quota"]["remaining"].as_i64().unwrap(),
    )
}

#[test]
fn time_travel_instance_show_and_list() {
    let l = audit_ledger();
    // Before anything: the instance did not exist.
    let (code, error, _) = l.json_error_at(
        LATER,
        &[
            "instance",
            "show",
            "i-hz1",
            "--as-of",
            "2026-01-01T00:00:00Z",
        ],
    );
    assert_eq!((code, error.as_str()), (3, "not_found"));
    assert_eq!(
        l.json_at(
            LATER,
            &["instance", "list", "--as-of", "2026-01-01T00:00:00Z"]
        ),
        json!([])
    );

    // After the instances were added, before allocation.
    let v = instance_at(&l, "i-hz1", "2026-01-20T00:00:00Z");
    assert_eq!(quota(&v), (5, 0, 5));
    assert_eq!(v["numbers"], json!([]));
    assert_eq!(v["subscription_months"], json!(12));
    assert_eq!(v["expires_at"], json!("2026-12-31T16:00:00Z"));
    assert_eq!(v["state"], json!("active"));
    let list = l.json_at(
        LATER,
        &["instance", "list", "--as-of", "2026-01-20T00:00:00Z"],
    );
    assert_eq!(list.as_array().unwrap().len(), 4);
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .all(|i| i["quota"]["consumed"] == json!(0)),
        "{list}"
    );

    // Exactly at the allocation: included (at <= T).
    let v = instance_at(&l, "i-hz1", T02);
    assert_eq!(quota(&v), (5, 3, 2));
    let numbers: Vec<&str> = v["numbers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| str_field(n, "number"))
        .collect();
    assert_eq!(numbers, vec!["SN-0001", "SN-0002", "SN-0003"]);
    assert!(v["numbers"]
        .as_array()
        .unwrap()
        .iter()
        .all(|n| n["status"] == json!("unbound") && n["holder"] == json!("acme")));
    // One second before it: not yet.
    assert_eq!(
        quota(&instance_at(&l, "i-hz1", "2026-02-01T09:59:59Z")),
        (5, 0, 5)
    );

    // The policy in force: max 5 before the policy change, 6 after.
    assert_eq!(
        quota(&instance_at(&l, "i-hz1", "2026-02-10T00:00:00Z")),
        (5, 3, 2)
    );
    assert_eq!(
        quota(&instance_at(&l, "i-hz1", "2026-02-20T00:00:00Z")),
        (6, 3, 3)
    );

    // Number states inside instance show.
    let v = instance_at(&l, "i-hz1", "2026-03-15T00:00:00Z");
    let first = &v["numbers"][0];
    assert_eq!(first["status"], json!("filing"));
    assert_eq!(first["holder"], json!("beta"));
    assert_eq!(first["service"], json!("shop.beta.example"));
    assert_eq!(v["numbers"][1]["status"], json!("filing"));

    // Renewal: before and after.
    let v = instance_at(&l, "i-hz1", "2026-04-08T00:00:00Z");
    assert_eq!(
        (v["subscription_months"].clone(), v["expires_at"].clone()),
        (json!(12), json!("2026-12-31T16:00:00Z"))
    );
    let v = instance_at(&l, "i-hz1", "2026-04-12T00:00:00Z");
    assert_eq!(
        (v["subscription_months"].clone(), v["expires_at"].clone()),
        (json!(24), json!("2027-12-31T16:00:00Z"))
    );

    // Release: before and after.
    assert_eq!(
        instance_at(&l, "iot-1", "2026-05-05T00:00:00Z")["state"],
        json!("active")
    );
    assert_eq!(
        instance_at(&l, "iot-1", "2026-05-15T00:00:00Z")["state"],
        json!("released")
    );
    assert_eq!(
        quota(&instance_at(&l, "iot-1", "2026-04-01T00:00:00Z")),
        (1, 0, 1)
    );
    assert_eq!(
        quota(&instance_at(&l, "iot-1", "2026-05-15T00:00:00Z")),
        (1, 1, 0)
    );

    // list --account / --type in the past.
    let list = l.json_at(
        LATER,
        &[
            "instance",
            "list",
            "--account",
            "acme",
            "--as-of",
            "2026-02-10T00:00:00Z",
        ],
    );
    let ids: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|i| str_field(i, "instance_id"))
        .collect();
    assert_eq!(sorted(&ids), sorted(&["i-hz1", "i-sh2"]));
    let sh2 = list
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["instance_id"] == json!("i-sh2"))
        .unwrap();
    assert_eq!(quota(sh2), (5, 2, 3));
    let list = l.json_at(
        LATER,
        &[
            "instance",
            "list",
            "--type",
            "iot_studio",
            "--as-of",
            "2026-05-05T00:00:00Z",
        ],
    );
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["state"], json!("active"));

    // The present is unchanged by all this looking back.
    let now = l.json_at(LATER, &["instance", "show", "i-hz1"]);
    assert_eq!(quota(&now), (6, 3, 3));
    assert_eq!(now["subscription_months"], json!(24));
}

#[test]
fn time_travel_number_show_and_list() {
    let l = audit_ledger();
    let (code, error, _) = l.json_error_at(
        LATER,
        &[
            "number",
            "show",
            "SN-0001",
            "--as-of",
            "2026-01-20T00:00:00Z",
        ],
    );
    assert_eq!((code, error.as_str()), (3, "not_found"));
    assert_eq!(
        l.json_at(
            LATER,
            &["number", "list", "--as-of", "2026-01-20T00:00:00Z"]
        ),
        json!([])
    );

    let at = |as_of: &str| l.json_at(LATER, &["number", "show", "SN-0001", "--as-of", as_of]);
    let v = at("2026-02-10T00:00:00Z");
    assert_eq!(
        v,
        json!({"number": "SN-0001", "instance_id": "i-hz1", "owner": "acme", "holder": "acme", "status": "unbound",
               "service": null, "icp_number": null, "origin": "issued"})
    );
    let v = at("2026-03-05T00:00:00Z");
    assert_eq!(
        (
            v["holder"].clone(),
            v["status"].clone(),
            v["service"].clone()
        ),
        (json!("beta"), json!("bound"), json!("shop.beta.example"))
    );
    assert_eq!(at("2026-03-15T00:00:00Z")["status"], json!("filing"));
    let v = at("2026-03-25T00:00:00Z");
    assert_eq!(
        (v["status"].clone(), v["icp_number"].clone()),
        (json!("filed"), json!("浙ICP备12345678号-1"))
    );

    let sn2 = |as_of: &str| {
        l.json_at(LATER, &["number", "show", "SN-0002", "--as-of", as_of])["status"].clone()
    };
    assert_eq!(sn2("2026-03-15T00:00:00Z"), json!("filing"));
    assert_eq!(sn2("2026-03-25T00:00:00Z"), json!("bound"));
    assert_eq!(sn2("2026-05-05T00:00:00Z"), json!("deregistered"));
    let iot = |as_of: &str| {
        l.json_at(LATER, &["number", "show", "IOT-0001", "--as-of", as_of])["status"].clone()
    };
    assert_eq!(iot(T10), json!("invalid"));

    // Lists with filters in the past.
    let statuses = |args: &[&str]| -> Vec<String> {
        let mut all = vec!["number", "list"];
        all.extend_from_slice(args);
        let list = l.json_at(LATER, &all);
        list.as_array()
            .unwrap()
            .iter()
            .map(|n| str_field(n, "number").to_string())
            .collect()
    };
    assert_eq!(
        statuses(&["--status", "filing", "--as-of", "2026-03-15T00:00:00Z"]),
        vec!["SN-0001", "SN-0002"]
    );
    assert_eq!(statuses(&["--status", "filing"]), Vec::<String>::new());
    assert_eq!(
        statuses(&["--instance", "mall-1", "--as-of", "2026-02-20T00:00:00Z"]),
        Vec::<String>::new()
    );
    assert_eq!(
        statuses(&["--instance", "mall-1", "--as-of", "2026-03-05T00:00:00Z"]).len(),
        1
    );
    assert_eq!(
        statuses(&["--account", "beta", "--as-of", "2026-02-20T00:00:00Z"]),
        Vec::<String>::new()
    );
    assert!(
        statuses(&["--account", "beta", "--as-of", "2026-03-05T00:00:00Z"])
            .contains(&"SN-0001".to_string())
    );
    let direct = l.json_at(
        LATER,
        &[
            "number",
            "list",
            "--instance",
            "mall-1",
            "--as-of",
            "2026-03-05T00:00:00Z",
        ],
    );
    assert_eq!(direct[0]["origin"], json!("direct"));
    assert_eq!(direct[0]["status"], json!("bound"));
    assert_eq!(direct[0]["service"], json!("mall.beta.example"));
}

#[test]
fn time_travel_report_quota_and_policy_show() {
    let l = audit_ledger();
    let row = |rows: &Value, scope: &str, key: &str| -> Value {
        rows.as_array()
            .unwrap()
            .iter()
            .find(|r| r["scope"] == json!(scope) && r["key"] == json!(key))
            .cloned()
            .unwrap_or_else(|| panic!("no {scope} {key} row in {rows}"))
    };
    let rows = l.json_at(
        LATER,
        &["report", "quota", "--as-of", "2026-02-10T00:00:00Z"],
    );
    assert_eq!(
        row(&rows, "account", "acme"),
        json!({"scope": "account", "key": "acme", "instances": 2, "max": 10, "consumed": 5, "remaining": 5, "usable": 5})
    );
    assert_eq!(
        row(&rows, "service_type", "ecs"),
        json!({"scope": "service_type", "key": "ecs", "instances": 2, "max": 10, "consumed": 5, "remaining": 5, "usable": 5})
    );
    let rows = l.json_at(
        LATER,
        &["report", "quota", "--as-of", "2026-02-20T00:00:00Z"],
    );
    assert_eq!(
        row(&rows, "account", "acme"),
        json!({"scope": "account", "key": "acme", "instances": 2, "max": 12, "consumed": 5, "remaining": 7, "usable": 7})
    );
    assert_eq!(row(&rows, "account", "beta")["consumed"], json!(0));
    let rows = l.json_at(
        LATER,
        &["report", "quota", "--as-of", "2026-01-20T00:00:00Z"],
    );
    assert_eq!(
        row(&rows, "account", "gamma"),
        json!({"scope": "account", "key": "gamma", "instances": 1, "max": 1, "consumed": 0, "remaining": 1, "usable": 1})
    );
    assert_eq!(
        l.json_at(
            LATER,
            &["report", "quota", "--as-of", "2026-01-01T00:00:00Z"]
        ),
        json!([])
    );

    let ecs = |as_of: Option<&str>| -> Value {
        let mut args = vec!["policy", "show"];
        if let Some(t) = as_of {
            args.extend(["--as-of", t]);
        }
        let rows = l.json_at(LATER, &args);
        rows.as_array()
            .unwrap()
            .iter()
            .find(|p| p["service_type"] == json!("ecs"))
            .cloned()
            .expect("ecs policy")
    };
    assert_eq!(ecs(Some("2026-01-20T00:00:00Z"))["max_numbers"], json!(5));
    assert_eq!(ecs(Some("2026-02-15T09:59:59Z"))["max_numbers"], json!(5));
    assert_eq!(ecs(Some(T03))["max_numbers"], json!(6));
    assert_eq!(ecs(None)["max_numbers"], json!(6));
    // The other types are the seeded defaults throughout.
    let rows = l.json_at(
        LATER,
        &["policy", "show", "--as-of", "2026-01-20T00:00:00Z"],
    );
    let iot = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["service_type"] == json!("iot_studio"))
        .unwrap();
    assert_eq!(iot["max_numbers"], json!(1));
    assert_eq!(iot["min_subscription_months"], json!(6));
}

#[test]
fn time_travel_exports() {
    let l = audit_ledger();
    let full = String::from_utf8(l.export_history()).unwrap();
    let lines: Vec<&str> = full.lines().collect();
    assert_eq!(lines.len() as i64, EVENTS + 1);
    // export history --as-of T is exactly the prefix of events with at <= T.
    for (as_of, count) in [
        ("2026-01-01T00:00:00Z", 0),
        (T01, 4),
        ("2026-02-10T00:00:00Z", 6),
        (T04, 11),
        ("2026-04-03T00:00:00Z", 16),
        (LATER, 22),
    ] {
        let past = l.ok_at(LATER, &["export", "history", "--as-of", as_of]);
        let expected: String = lines[..=count]
            .iter()
            .map(|line| format!("{line}\n"))
            .collect();
        assert_eq!(past, expected, "export history --as-of {as_of}");
    }

    // export instances in the past.
    let rows = parse_csv(&l.ok_at(
        LATER,
        &["export", "instances", "--as-of", "2026-01-20T00:00:00Z"],
    ));
    assert_eq!(rows[0][0], "instance_id");
    assert_eq!(rows.len(), 5);
    let col = |rows: &Vec<Vec<String>>, name: &str| rows[0].iter().position(|c| c == name).unwrap();
    let hz1 = rows.iter().find(|r| r[0] == "i-hz1").unwrap();
    assert_eq!(hz1[col(&rows, "subscription_months")], "12");
    assert_eq!(hz1[col(&rows, "expires_at")], "2026-12-31T16:00:00Z");
    let rows = parse_csv(&l.ok_at(LATER, &["export", "instances"]));
    let hz1 = rows.iter().find(|r| r[0] == "i-hz1").unwrap();
    assert_eq!(hz1[col(&rows, "subscription_months")], "24");
    assert!(
        parse_csv(&l.ok_at(
            LATER,
            &["export", "instances", "--as-of", "2026-01-01T00:00:00Z"]
        ))
        .len()
            == 1
    );

    // export numbers in the past.
    let rows = parse_csv(&l.ok_at(
        LATER,
        &["export", "numbers", "--as-of", "2026-01-20T00:00:00Z"],
    ));
    assert_eq!(rows.len(), 1, "no numbers yet");
    assert_eq!(
        rows[0],
        vec![
            "number",
            "instance_id",
            "owner",
            "holder",
            "status",
            "service",
            "icp_number",
            "origin"
        ]
    );
    let rows = parse_csv(&l.ok_at(
        LATER,
        &["export", "numbers", "--as-of", "2026-03-15T00:00:00Z"],
    ));
    assert_eq!(rows.len(), 1 + 3 + 2 + 1);
    let sn1 = rows.iter().find(|r| r[0] == "SN-0001").unwrap();
    assert_eq!(
        sn1[2..7],
        ["acme", "beta", "filing", "shop.beta.example", ""]
    );
    let rows = parse_csv(&l.ok_at(LATER, &["export", "numbers"]));
    assert_eq!(rows.len(), 1 + 3 + 2 + 1 + 1);
    let sn1 = rows.iter().find(|r| r[0] == "SN-0001").unwrap();
    assert_eq!(sn1[4], "filed");

    // -o FILE writes the same bytes.
    let file = l.path("past.csv");
    l.ok_at(
        LATER,
        &[
            "export",
            "history",
            "--as-of",
            T04,
            "-o",
            file.to_str().unwrap(),
        ],
    );
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        l.ok_at(LATER, &["export", "history", "--as-of", T04])
    );
}

#[test]
fn time_travel_rejects_a_bad_time() {
    let l = audit_ledger();
    let (code, error, _) = l.json_error_at(
        LATER,
        &["instance", "show", "i-hz1", "--as-of", "last tuesday"],
    );
    assert_eq!((code, error.as_str()), (2, "usage"));
}

// ---------------------------------------------------------------- reports

#[test]
fn report_quota_sums_per_account_and_type() {
    let l = audit_ledger();
    let rows = l.json_at(LATER, &["report", "quota"]);
    let mut rows_sorted: Vec<Value> = rows.as_array().unwrap().clone();
    rows_sorted.sort_by_key(|r| (r["scope"].to_string(), r["key"].to_string()));
    assert_eq!(
        Value::Array(rows_sorted),
        json!([
            {"scope": "account", "key": "acme", "instances": 2, "max": 12, "consumed": 5, "remaining": 7, "usable": 7},
            {"scope": "account", "key": "beta", "instances": 1, "max": 2, "consumed": 1, "remaining": 1, "usable": 1},
            {"scope": "account", "key": "gamma", "instances": 1, "max": 1, "consumed": 1, "remaining": 0, "usable": 0},
            {"scope": "service_type", "key": "ecs", "instances": 2, "max": 12, "consumed": 5, "remaining": 7, "usable": 7},
            {"scope": "service_type", "key": "iot_studio", "instances": 1, "max": 1, "consumed": 1, "remaining": 0, "usable": 0},
            {"scope": "service_type", "key": "linkedmall", "instances": 1, "max": 2, "consumed": 1, "remaining": 1, "usable": 1},
        ])
    );
    // --account narrows every scope to that account's instances.
    let rows = l.json_at(LATER, &["report", "quota", "--account", "beta"]);
    let mut rows_sorted: Vec<Value> = rows.as_array().unwrap().clone();
    rows_sorted.sort_by_key(|r| r["scope"].to_string());
    assert_eq!(
        Value::Array(rows_sorted),
        json!([
            {"scope": "account", "key": "beta", "instances": 1, "max": 2, "consumed": 1, "remaining": 1, "usable": 1},
            {"scope": "service_type", "key": "linkedmall", "instances": 1, "max": 2, "consumed": 1, "remaining": 1, "usable": 1},
        ])
    );
    assert_eq!(
        l.json_at(LATER, &["report", "quota", "--account", "nobody"]),
        json!([])
    );
    // Table and CSV.
    let table = l.ok_at(LATER, &["report", "quota"]);
    for word in ["acme", "beta", "gamma", "ecs", "linkedmall", "iot_studio"] {
        assert!(table.contains(word), "{table}");
    }
    let csv = parse_csv(&l.ok_at(LATER, &["--format", "csv", "report", "quota"]));
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
    assert_eq!(csv.len(), 7);
}

#[test]
fn report_quota_remaining_never_goes_negative_and_consumed_never_decreases() {
    let l = Ledger::with(AUDIT_NOW, ACTOR);
    let t = "2026-02-01T00:00:00Z";
    l.ecs_at(t, "i-1", "acme", "2027-01-01T00:00:00Z", "1.1.1.1");
    l.ok_at(
        t,
        &[
            "allocate", "i-1", "--number", "Q-0001", "--number", "Q-0002", "--number", "Q-0003",
        ],
    );
    l.bind_at(t, "Q-0001", "a.example", "acme");
    l.ok_at(t, &["deregister", "Q-0001"]);
    l.ok_at(t, &["invalidate", "Q-0002", "--reason", "lost"]);
    l.ok_at(
        "2026-02-02T00:00:00Z",
        &["policy", "set", "ecs", "--max", "2"],
    );
    let rows = l.json_at(LATER, &["report", "quota"]);
    let acme = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["scope"] == json!("account"))
        .unwrap();
    assert_eq!(
        acme,
        &json!({"scope": "account", "key": "acme", "instances": 1, "max": 2, "consumed": 3, "remaining": 0, "usable": 0})
    );
    let rows = l.json_at(
        LATER,
        &["report", "quota", "--as-of", "2026-02-01T12:00:00Z"],
    );
    assert_eq!(rows[0]["max"], json!(5));
    assert_eq!(rows[0]["remaining"], json!(2));
    l.verify_ok();
}

/// A ledger for the expiry report: queried at Q = 2026-06-01.
const Q: &str = "2026-06-01T00:00:00Z";

fn expiring_ledger() -> Ledger {
    let l = Ledger::with(AUDIT_NOW, ACTOR);
    let t = "2026-01-10T00:00:00Z";
    let add = |id: &str, account: &str, expires: &str| {
        l.ecs_at(t, id, account, expires, "47.96.113.1");
    };
    add("e1-soon", "acme", "2026-06-11T00:00:00Z"); // 10 days after Q, filed service
    add("e2-later", "beta", "2026-09-09T00:00:00Z"); // 100 days after Q, direct (bound) service
    add("e3-expired", "acme", "2026-05-20T00:00:00Z"); // expired at Q, filing service
    add("e4-released", "beta", "2027-12-31T00:00:00Z"); // released, bound service
    add("e5-unbound", "acme", "2026-06-06T00:00:00Z"); // only unbound numbers
    add("e6-dereg", "acme", "2026-06-06T00:00:00Z"); // only a deregistered service
    add("e7-invalid", "acme", "2026-06-06T00:00:00Z"); // only an invalidated number
    add("e8-safe", "acme", "2027-12-31T00:00:00Z"); // far away, filed service
    l.ok_at(t, &["allocate", "e1-soon", "--number", "E1-0001"]);
    l.bind_at(t, "E1-0001", "one.example", "acme");
    l.ok_at(t, &["submit", "E1-0001"]);
    l.ok_at(t, &["approve", "E1-0001", "--icp-number", "京ICP备1号-1"]);
    l.ok_at(t, &["select", "e2-later", "--service", "two.example"]);
    l.ok_at(t, &["allocate", "e3-expired", "--number", "E3-0001"]);
    l.bind_at(t, "E3-0001", "three.example", "acme");
    l.ok_at(t, &["submit", "E3-0001"]);
    l.ok_at(t, &["allocate", "e4-released", "--number", "E4-0001"]);
    l.bind_at(t, "E4-0001", "four.example", "beta");
    l.ok_at(t, &["instance", "release", "e4-released"]);
    l.ok_at(t, &["allocate", "e5-unbound", "--count", "2"]);
    l.ok_at(t, &["allocate", "e6-dereg", "--number", "E6-0001"]);
    l.bind_at(t, "E6-0001", "six.example", "acme");
    l.ok_at(t, &["deregister", "E6-0001"]);
    l.ok_at(t, &["allocate", "e7-invalid", "--number", "E7-0001"]);
    l.bind_at(t, "E7-0001", "seven.example", "acme");
    l.ok_at(t, &["invalidate", "E7-0001", "--reason", "revoked"]);
    l.ok_at(t, &["allocate", "e8-safe", "--number", "E8-0001"]);
    l.bind_at(t, "E8-0001", "eight.example", "acme");
    l.ok_at(t, &["submit", "E8-0001"]);
    l.ok_at(t, &["approve", "E8-0001", "--icp-number", "京ICP备8号-1"]);
    l
}

fn expiring_ids(l: &Ledger, now: &str, within: Option<&str>) -> Vec<String> {
    let mut args = vec!["report", "expiring"];
    if let Some(days) = within {
        args.extend(["--within", days]);
    }
    let rows = l.json_at(now, &args);
    let mut ids: Vec<String> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| str_field(r, "instance_id").to_string())
        .collect();
    ids.sort();
    ids
}

#[test]
fn report_expiring_lists_instances_whose_services_are_at_risk() {
    let l = expiring_ledger();
    assert_eq!(
        expiring_ids(&l, Q, Some("30")),
        sorted(&["e1-soon", "e3-expired", "e4-released", "e5-unbound"])
    );
    assert_eq!(
        expiring_ids(&l, Q, None),
        sorted(&["e1-soon", "e3-expired", "e4-released", "e5-unbound"]),
        "default is 30 days"
    );
    assert_eq!(
        expiring_ids(&l, Q, Some("200")),
        sorted(&[
            "e1-soon",
            "e2-later",
            "e3-expired",
            "e4-released",
            "e5-unbound"
        ])
    );
    assert_eq!(
        expiring_ids(&l, Q, Some("0")),
        sorted(&["e3-expired", "e4-released"])
    );
    assert_eq!(
        expiring_ids(&l, Q, Some("5")),
        sorted(&["e3-expired", "e4-released", "e5-unbound"])
    );
    assert_eq!(
        expiring_ids(&l, Q, Some("10")),
        sorted(&["e1-soon", "e3-expired", "e4-released", "e5-unbound"])
    );
    // Earlier, nothing had expired and e1 was far off.
    assert_eq!(
        expiring_ids(&l, "2026-02-01T00:00:00Z", Some("30")),
        sorted(&["e4-released"])
    );

    // Each row names the instance, its expiry, the account and the services at risk.
    let rows = l.json_at(Q, &["report", "expiring", "--within", "200"]);
    let find = |id: &str| {
        rows.as_array()
            .unwrap()
            .iter()
            .find(|r| r["instance_id"] == json!(id))
            .unwrap()
            .clone()
    };
    let e1 = find("e1-soon");
    assert_eq!(e1["expires_at"], json!("2026-06-11T00:00:00Z"));
    assert_eq!(e1["account"], json!("acme"));
    assert_eq!(e1["services"], json!(["one.example"]));
    assert_eq!(find("e2-later")["services"], json!(["two.example"]));
    assert_eq!(find("e2-later")["account"], json!("beta"));
    assert_eq!(find("e3-expired")["services"], json!(["three.example"]));
    assert_eq!(find("e4-released")["services"], json!(["four.example"]));

    // Table and CSV.
    let table = l.ok_at(Q, &["report", "expiring"]);
    for word in [
        "e1-soon",
        "one.example",
        "e3-expired",
        "three.example",
        "e4-released",
        "four.example",
        "2026-06-11T00:00:00Z",
    ] {
        assert!(table.contains(word), "{word} missing:\n{table}");
    }
    for word in [
        "e2-later",
        "e6-dereg",
        "six.example",
        "e7-invalid",
        "e8-safe",
    ] {
        assert!(!table.contains(word), "{word} shown:\n{table}");
    }
    let csv = parse_csv(&l.ok_at(Q, &["--format", "csv", "report", "expiring"]));
    assert_eq!(csv.len(), 5);

    // A renewal takes an instance off the report; --within must be a number of days.
    l.ok_at(
        Q,
        &[
            "instance",
            "renew",
            "e1-soon",
            "--months",
            "12",
            "--expires",
            "2027-06-11T00:00:00Z",
        ],
    );
    assert_eq!(
        expiring_ids(&l, Q, Some("30")),
        sorted(&["e3-expired", "e4-released", "e5-unbound"])
    );
    let (code, error, _) = l.json_error_at(Q, &["report", "expiring", "--within", "soon"]);
    assert_eq!((code, error.as_str()), (2, "usage"));
    l.verify_ok();
}

#[test]
fn time_cut_offs_at_the_end_of_year_9999_include_every_event() {
    let l = audit_ledger();
    let end = "9999-12-31T23:59:59Z";
    assert_eq!(
        seqs(&l.events(&["--until", end])),
        (1..=EVENTS).collect::<Vec<_>>()
    );
    assert_eq!(
        seqs(&l.events(&["--since", T01, "--until", end])),
        (1..=EVENTS).collect::<Vec<_>>()
    );
    assert_eq!(seqs(&l.events(&["--since", end])), Vec::<i64>::new());
    let full = String::from_utf8(l.export_history()).unwrap();
    assert_eq!(full.lines().count() as i64, EVENTS + 1);
    assert_eq!(
        l.ok_at(LATER, &["export", "history", "--as-of", end]),
        full,
        "export history --as-of {end}"
    );
    // The state at the end of time is the state now.
    assert_eq!(
        l.ok_at(LATER, &["export", "instances", "--as-of", end]),
        l.ok_at(LATER, &["export", "instances"])
    );
}

#[test]
fn report_expiring_near_the_end_of_year_9999() {
    let l = Ledger::with(AUDIT_NOW, ACTOR);
    let t = "2026-01-10T00:00:00Z";
    let add = |id: &str, expires: &str| {
        l.ecs_at(t, id, "acme", expires, "47.96.113.1");
    };
    add("far-bound", "9999-06-01T00:00:00Z");
    add("far-unbound", "9999-06-01T00:00:00Z");
    l.ok_at(t, &["allocate", "far-bound", "--number", "FAR-0001"]);
    l.bind_at(t, "FAR-0001", "far.example", "acme");
    l.ok_at(t, &["allocate", "far-unbound", "--number", "FAR-0002"]);
    let now = "9999-01-01T00:00:00Z";
    // 36,500 days from then is past year 9999: the window must not overflow.
    assert_eq!(
        expiring_ids(&l, now, Some("36500")),
        sorted(&["far-bound", "far-unbound"])
    );
    let rows = l.json_at(now, &["report", "expiring", "--within", "36500"]);
    assert_eq!(rows[0]["expires_at"], json!("9999-06-01T00:00:00Z"));
    assert_eq!(rows[0]["services"], json!(["far.example"]));
    // 151 days away: outside a 30-day window, inside a 151-day one.
    assert_eq!(expiring_ids(&l, now, Some("30")), Vec::<String>::new());
    assert_eq!(
        expiring_ids(&l, now, Some("151")),
        sorted(&["far-bound", "far-unbound"])
    );
    l.verify_ok();
}

// ---------------------------------------------------------------- outside check

fn python_verify(csv_path: &std::path::Path) -> Out {
    let output = std::process::Command::new("python3")
        .arg(repo_file("samples/verify_history.py"))
        .arg(csv_path)
        .output()
        .expect("python3 runs");
    Out::from(output)
}

/// The sample ledger: samples/instances.csv plus some numbers, grants and
/// filings, by operators whose names a spreadsheet would take for formulas.
fn sample_ledger() -> Ledger {
    let l = Ledger::with(AUDIT_NOW, ACTOR);
    let csv = repo_file("samples/instances.csv");
    l.ok_as(
        "ops",
        "2026-03-01T08:00:00Z",
        &["import", "instances", csv.to_str().unwrap()],
    );
    l.ok_as(
        "=ops",
        "2026-03-02T08:00:00Z",
        &[
            "allocate",
            "i-bp1web01",
            "--number",
            "WEB-0001",
            "--number",
            "WEB-0002",
        ],
    );
    l.ok_as(
        "=ops",
        "2026-03-02T08:00:00Z",
        &["allocate", "sas-sh-7f2a", "--count", "3"],
    );
    l.ok_as(
        "-night-shift",
        "2026-03-03T08:00:00Z",
        &[
            "grant",
            "WEB-0001",
            "--to",
            "blue-media",
            "--note",
            "=HYPERLINK(\"x\")",
        ],
    );
    l.ok_as(
        "'quoted",
        "2026-03-03T09:00:00Z",
        &[
            "bind",
            "WEB-0001",
            "--service",
            "news.blue.example",
            "--account",
            "blue-media",
        ],
    );
    l.ok_as("@ops", "2026-03-04T08:00:00Z", &["submit", "WEB-0001"]);
    l.ok_as(
        "+ops",
        "2026-03-05T08:00:00Z",
        &["approve", "WEB-0001", "--icp-number", "浙ICP备20260305号-1"],
    );
    l.ok_as(
        "ops",
        "2026-03-05T09:00:00Z",
        &["select", "ens-gz-0031", "--service", "edge.green.example"],
    );
    l.ok_as(
        "ops",
        "2026-03-06T08:00:00Z",
        &[
            "service",
            "move",
            "news.blue.example",
            "--to",
            "i-bp1web02",
            "--commercial",
        ],
    );
    l.ok_as(
        "ops",
        "2026-03-07T08:00:00Z",
        &["service", "ip-updated", "news.blue.example"],
    );
    l.ok_as(
        "ops",
        "2026-03-08T08:00:00Z",
        &["policy", "set", "linkedmall", "--max", "3"],
    );
    l.verify_ok();
    l
}

#[test]
fn outside_check_script_passes_on_the_sample_ledger_and_fails_on_a_tampered_copy() {
    let script = repo_file("samples/verify_history.py");
    assert!(script.exists(), "samples/verify_history.py is missing");
    let l = sample_ledger();
    let exported = l.path("history.csv");
    l.ok_at(
        LATER,
        &["export", "history", "-o", exported.to_str().unwrap()],
    );
    let text = std::fs::read_to_string(&exported).unwrap();
    assert!(
        text.contains(",'=ops,"),
        "the export neutralises the formula-like actor: {text}"
    );
    assert!(
        text.contains(",''quoted,"),
        "a leading ' gets one more: {text}"
    );

    let out = python_verify(&exported);
    assert_eq!(
        out.code, 0,
        "the script must pass on a genuine export: {}{}",
        out.stdout, out.stderr
    );
    assert!(out.stdout.contains("OK"), "{}", out.stdout);

    // A payload cell changed (the holder of a grant).
    let lines: Vec<&str> = text.lines().collect();
    let (index, line) = lines
        .iter()
        .enumerate()
        .find(|(_, l)| l.contains(",granted,"))
        .unwrap();
    let seq = line.split(',').next().unwrap().to_string();
    let tampered_line = line.replace("blue-media", "red-media");
    assert_ne!(&tampered_line, line);
    let mut tampered: Vec<String> = lines.iter().map(|s| s.to_string()).collect();
    tampered[index] = tampered_line;
    let tampered_path = l.path("tampered.csv");
    std::fs::write(&tampered_path, tampered.join("\n") + "\n").unwrap();
    let out = python_verify(&tampered_path);
    assert_eq!(
        out.code, 1,
        "the script must fail on a tampered copy: {}{}",
        out.stdout, out.stderr
    );
    assert!(!out.stdout.contains("OK"), "{}", out.stdout);
    assert!(
        out.stdout.contains(&format!("seq {seq}")),
        "must name the first bad seq {seq}: {}",
        out.stdout
    );

    // A row deleted: the next one no longer links.
    let mut deleted: Vec<String> = lines.iter().map(|s| s.to_string()).collect();
    deleted.remove(5); // seq 5
    let deleted_path = l.path("deleted.csv");
    std::fs::write(&deleted_path, deleted.join("\n") + "\n").unwrap();
    let out = python_verify(&deleted_path);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("seq 6"), "{}", out.stdout);

    // An actor cell changed (a neutralised one).
    let mut actor: Vec<String> = lines.iter().map(|s| s.to_string()).collect();
    let (index, line) = lines
        .iter()
        .enumerate()
        .find(|(_, l)| l.contains(",'=ops,"))
        .unwrap();
    let seq = line.split(',').next().unwrap().to_string();
    actor[index] = line.replacen(",'=ops,", ",'=opz,", 1);
    let actor_path = l.path("actor.csv");
    std::fs::write(&actor_path, actor.join("\n") + "\n").unwrap();
    let out = python_verify(&actor_path);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains(&format!("seq {seq}")), "{}", out.stdout);
}
