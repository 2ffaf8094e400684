//! Issue 12: `verify` checks the storage itself (docs/reference.md "The log and its
//! hash", "Guarantees": tamper evidence): SQLite's consistency check, that
//! the schema holds exactly the tables, indexes and triggers snledger
//! creates, that every stored value has its type, and that memory is never
//! sized by a number read from the file. The write path checks that its
//! insert of the event took effect.

use crate::common::*;
use serde_json::Value;
use std::process::Command;
use std::time::{Duration, Instant};

/// A small honest ledger: one instance, two allocations, a grant and a bind
/// (5 events).
fn ledger_with_events() -> Ledger {
    let ledger = Ledger::new();
    ledger.ecs("i-1", "acme");
    let numbers = ledger.allocate("i-1", 2);
    ledger.allocate_one("i-1");
    ledger.ok(&["grant", &numbers[0], "--to", "cust"]);
    ledger.bind(&numbers[0], "www.storage.cn", "cust");
    assert_eq!(ledger.verify_ok(), 5);
    ledger
}

fn problems(report: &Value) -> Vec<String> {
    strings(&report["problems"])
}

/// `verify` exits 5 with no seq to blame and a problem containing each of
/// `fragments`.
fn assert_storage_problem(ledger: &Ledger, fragments: &[&str]) {
    let (code, report) = ledger.verify();
    assert_eq!(code, 5, "verify should exit 5: {report}");
    assert_eq!(report["ok"], false, "{report}");
    assert_eq!(
        report["first_bad_seq"],
        Value::Null,
        "no event is bad: {report}"
    );
    assert!(
        problems(&report)
            .iter()
            .any(|p| fragments.iter().all(|f| p.contains(f))),
        "no problem names {fragments:?}: {report}"
    );
    // The table form says the same on standard error: integrity.
    let output = ledger.run(&["verify"]);
    assert_fails(&output, 5, "integrity", "verify");
}

/// Runs `sql` on the file with the schema writable (sqlite_master edits),
/// then closes the connection so the next opener reads the edited schema.
fn edit_schema(ledger: &Ledger, sql: &str) {
    let conn = ledger.conn();
    conn.execute_batch(&format!(
        "PRAGMA writable_schema = ON; {sql}; PRAGMA writable_schema = OFF;"
    ))
    .unwrap_or_else(|e| panic!("schema edit failed: {e}\n{sql}"));
}

// ---------------------------------------------------------------- the database's own check

#[test]
fn an_index_sharing_another_index_pages_fails_the_consistency_check() {
    sqlite_only!("SQLite pages");
    // events_by_kind pointed at numbers_by_holder's b-tree: the file is
    // structurally broken, and SQLite's quick_check says so.
    let ledger = ledger_with_events();
    edit_schema(
        &ledger,
        "UPDATE sqlite_master SET rootpage = (SELECT rootpage FROM sqlite_master WHERE name = 'numbers_by_holder') WHERE name = 'events_by_kind'",
    );
    assert_storage_problem(&ledger, &["consistency check"]);
}

#[test]
fn an_index_whose_definition_was_edited_is_not_as_snledger_creates_it() {
    sqlite_only!("edits the SQLite schema");
    // The b-tree still holds (kind, seq) entries; the schema now claims
    // (seq, kind), so the index no longer matches its table.
    let ledger = ledger_with_events();
    edit_schema(
        &ledger,
        "UPDATE sqlite_master SET sql = 'CREATE INDEX events_by_kind ON events(seq, kind)' WHERE name = 'events_by_kind'",
    );
    assert_storage_problem(
        &ledger,
        &["index events_by_kind", "not as snledger creates it"],
    );
}

// ---------------------------------------------------------------- the schema, object by object

#[test]
fn an_extra_trigger_is_an_integrity_failure_naming_it() {
    sqlite_only!("edits the SQLite schema");
    let ledger = ledger_with_events();
    ledger
        .conn()
        .execute_batch(
            "CREATE TRIGGER forged_ignore BEFORE INSERT ON events BEGIN SELECT RAISE(IGNORE); END;",
        )
        .unwrap();
    assert_storage_problem(&ledger, &["trigger forged_ignore", "does not create"]);
}

#[test]
fn an_extra_table_is_an_integrity_failure_naming_it() {
    sqlite_only!("edits the SQLite schema");
    let ledger = ledger_with_events();
    ledger
        .conn()
        .execute_batch("CREATE TABLE side_notes (note TEXT)")
        .unwrap();
    assert_storage_problem(&ledger, &["table side_notes", "does not create"]);
}

#[test]
fn an_extra_index_is_an_integrity_failure_naming_it() {
    sqlite_only!("edits the SQLite schema");
    let ledger = ledger_with_events();
    ledger
        .conn()
        .execute_batch("CREATE INDEX numbers_by_status ON numbers(status)")
        .unwrap();
    assert_storage_problem(&ledger, &["numbers_by_status", "does not create"]);
}

#[test]
fn a_missing_index_is_an_integrity_failure_naming_it() {
    sqlite_only!("edits the SQLite schema (PostgreSQL twin: postgres::verify_catches_a_tampered_event_and_an_altered_schema)");
    let ledger = ledger_with_events();
    ledger
        .conn()
        .execute_batch("DROP INDEX events_by_kind")
        .unwrap();
    assert_storage_problem(&ledger, &["lacks the index events_by_kind"]);
}

#[test]
fn a_missing_trigger_is_an_integrity_failure_naming_it() {
    sqlite_only!("edits the SQLite schema");
    let ledger = ledger_with_events();
    ledger
        .conn()
        .execute_batch("DROP TRIGGER events_no_delete")
        .unwrap();
    assert_storage_problem(&ledger, &["lacks the trigger events_no_delete"]);
}

// ---------------------------------------------------------------- stored types

#[test]
fn a_blob_where_text_belongs_is_exit_5_naming_the_seq() {
    sqlite_only!("SQLite typing (PostgreSQL columns are typed)");
    for column in ["payload", "kind", "hash"] {
        let ledger = ledger_with_events();
        ledger.tamper(&format!(
            "UPDATE events SET {column} = CAST({column} AS BLOB) WHERE seq = 3"
        ));
        let (code, report) = ledger.verify();
        assert_eq!(code, 5, "{column}: {report}");
        assert_eq!(report["first_bad_seq"], 3, "{column}: {report}");
        let expected = format!("event 3: {column} is stored as a value that is not text");
        assert!(
            problems(&report).iter().any(|p| p.contains(&expected)),
            "{column}: {report}"
        );
        assert_fails(&ledger.run(&["verify"]), 5, "integrity", column);
    }
}

// ---------------------------------------------------------------- memory

/// `verify --format json` under a virtual memory limit of `limit_kib`.
fn verify_with_memory_limit(ledger: &Ledger, limit_kib: u64) -> (Out, Duration) {
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg(format!("ulimit -v {limit_kib}; exec \"$@\""))
        .arg("sh")
        .arg(bin())
        .arg("--db")
        .arg(&ledger.db)
        .arg(format!("--now={NOW}"))
        .args(["--format", "json", "verify"])
        .env_remove("SNLEDGER_DB")
        .env_remove("SNLEDGER_NOW")
        .env_remove("SNLEDGER_ACTOR");
    let start = Instant::now();
    let output = run_bounded(&mut command, Duration::from_secs(60));
    (Out::from(output), start.elapsed())
}

#[test]
fn a_last_seq_of_50_million_is_reported_without_sizing_memory_by_it() {
    const ONE_GIB_IN_KIB: u64 = 1024 * 1024;
    let ledger = ledger_with_events();
    // The control: the honest ledger verifies within the limit.
    let (honest, _) = verify_with_memory_limit(&ledger, ONE_GIB_IN_KIB);
    assert_eq!(honest.code, 0, "honest verify under 1 GiB: {honest:?}");
    ledger.tamper("UPDATE events SET seq = 50000000 WHERE seq = 5");
    let (out, elapsed) = verify_with_memory_limit(&ledger, ONE_GIB_IN_KIB);
    assert_eq!(out.code, 5, "{out:?}");
    assert!(!out.stderr.contains("memory allocation"), "{out:?}");
    let report: Value = serde_json::from_str(out.stdout.trim())
        .unwrap_or_else(|e| panic!("verify printed no report ({e}): {out:?}"));
    assert_eq!(report["first_bad_seq"], 5, "the missing seq 5: {report}");
    assert!(
        elapsed < Duration::from_secs(20),
        "verify took {elapsed:?} on 5 events"
    );
}

// ---------------------------------------------------------------- the write path

#[test]
fn an_insert_swallowed_by_a_trigger_makes_allocate_fail_and_print_no_number() {
    sqlite_only!("SQLite RAISE(IGNORE)");
    let ledger = ledger_with_events();
    let log_before = ledger.export_history();
    let numbers_before = ledger.count("numbers");
    ledger
        .conn()
        .execute_batch(
            "CREATE TRIGGER forged_ignore BEFORE INSERT ON events BEGIN SELECT RAISE(IGNORE); END;",
        )
        .unwrap();
    for format in ["table", "json"] {
        let output = ledger.run(&["--format", format, "allocate", "i-1"]);
        assert_eq!(output.status.code(), Some(5), "{format}: {output:?}");
        assert!(
            output.stdout.is_empty(),
            "{format}: no number may be printed: {}",
            stdout(&output)
        );
        assert!(
            stderr(&output).contains("integrity"),
            "{format}: {output:?}"
        );
    }
    assert_eq!(ledger.count("events"), 5, "no event written");
    assert_eq!(ledger.count("numbers"), numbers_before, "no number written");
    assert_eq!(ledger.export_history(), log_before);
}

// ---------------------------------------------------------------- corrupt pages (SPEC v3 §3.1)

/// A ledger of 2,000 instances, checkpointed, whose `table` root page is
/// overwritten with junk; returns it and the file's bytes after the damage.
fn ledger_with_a_corrupt(table: &str) -> (Ledger, Vec<u8>) {
    let ledger = Ledger::new();
    let mut rows = format!("{INSTANCES_HEADER}\n");
    for i in 0..2_000 {
        rows.push_str(&ecs_row(&format!("i-{i:05}"), "acme"));
    }
    let file = ledger.write("in.csv", rows);
    ledger.ok(&["import".as_ref(), "instances".as_ref(), file.as_os_str()]);
    let (page_size, root): (i64, i64) = {
        let conn = ledger.conn();
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .unwrap();
        let page_size = conn
            .query_row("PRAGMA page_size", [], |r| r.get(0))
            .unwrap();
        let root = conn
            .query_row(
                "SELECT rootpage FROM sqlite_master WHERE name = ?1",
                [table],
                |r| r.get(0),
            )
            .unwrap();
        (page_size, root)
    };
    let mut bytes = std::fs::read(&ledger.db).unwrap();
    let start = ((root - 1) * page_size) as usize;
    bytes[start..start + 64].fill(0xff);
    std::fs::write(&ledger.db, &bytes).unwrap();
    (ledger, bytes)
}

#[test]
fn a_corrupt_page_is_exit_5_on_every_command_and_verify_gives_the_consistency_check() {
    sqlite_only!("pages of a SQLite file");
    for table in ["instances", "event_subjects"] {
        let (ledger, bytes) = ledger_with_a_corrupt(table);
        let (code, report) = ledger.verify();
        assert_eq!(code, 5, "{table}: {report}");
        let text = report.to_string();
        assert!(text.contains("storage is corrupt"), "{table}: {text}");
        assert!(
            text.contains("the database's consistency check"),
            "{table}: {text}"
        );
        let reads: [&[&str]; 2] = [&["instance", "list"], &["history", "--instance", "i-00007"]];
        let add = instance_add_args("i-new", "ecs", "acme", &["--public-ip", "47.96.10.21"]);
        let add: Vec<&str> = add.iter().map(String::as_str).collect();
        let writes: [&[&str]; 2] = [&add, &["allocate", "i-00007"]];
        let mut failing = 0;
        for args in reads.iter().chain(writes.iter()) {
            let output = ledger.run(args);
            if output.status.code() == Some(0) {
                continue; // this command never reads the damaged page
            }
            failing += 1;
            assert_fails(&output, 5, "integrity", &format!("{table}: {args:?}"));
            assert!(stderr(&output).contains("storage is corrupt"));
        }
        assert!(
            failing >= 2,
            "{table}: only {failing} commands met the damage"
        );
        assert_eq!(
            std::fs::read(&ledger.db).unwrap(),
            bytes,
            "{table}: the file changed"
        );
    }
}

#[test]
fn a_damaged_header_of_a_ledger_is_exit_5_and_of_another_sqlite_file_exit_6() {
    sqlite_only!("the header of a SQLite file");
    let ledger = ledger_with_events();
    ledger
        .conn()
        .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .unwrap();
    let mut bytes = std::fs::read(&ledger.db).unwrap();
    bytes[16..18].copy_from_slice(&[0x00, 0x07]); // a page size of 7 bytes
    std::fs::write(&ledger.db, &bytes).unwrap();
    let output = ledger.run(&["instance", "list"]);
    assert_fails(&output, 5, "integrity", "a ledger whose header is damaged");
    assert_eq!(std::fs::read(&ledger.db).unwrap(), bytes);
    // The same damage to a SQLite file that never was a ledger: not a ledger.
    let other = ledger.path("other.db");
    let conn = rusqlite::Connection::open(&other).unwrap();
    conn.execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);")
        .unwrap();
    drop(conn);
    let mut bytes = std::fs::read(&other).unwrap();
    bytes[16..18].copy_from_slice(&[0x00, 0x07]);
    std::fs::write(&other, &bytes).unwrap();
    let output = run_bounded(
        ledger
            .command_without_db()
            .arg("--db")
            .arg(&other)
            .args(["instance", "list"]),
        Duration::from_secs(30),
    );
    assert_fails(
        &output,
        6,
        "storage",
        "another SQLite file whose header is damaged",
    );
}

/// A ledger cut short (a copy that stopped half way, a full disk) is
/// damage, exit 5 on every command, as any corrupt page is (SPEC v3 §3.1):
/// SQLite reads its schema page as malformed, not as "not a database".
#[test]
fn a_truncated_ledger_is_exit_5_on_every_command() {
    sqlite_only!("the file of a SQLite ledger");
    let ledger = ledger_with_events();
    for i in 0..40 {
        ledger.ecs(&format!("i-cut-{i}"), "acme");
    }
    ledger
        .conn()
        .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .unwrap();
    let length = std::fs::metadata(&ledger.db).unwrap().len();
    for kept in [length / 2, 1024] {
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(&ledger.db)
            .unwrap();
        file.set_len(kept).unwrap();
        drop(file);
        let bytes = std::fs::read(&ledger.db).unwrap();
        for args in [
            &["verify"][..],
            &["instance", "list"],
            &["allocate", "i-cut-1"],
        ] {
            let output = ledger.run(args);
            assert_fails(
                &output,
                5,
                "integrity",
                &format!("{args:?} on a ledger cut to {kept} bytes"),
            );
            assert_eq!(std::fs::read(&ledger.db).unwrap(), bytes, "{args:?}");
        }
    }
}
