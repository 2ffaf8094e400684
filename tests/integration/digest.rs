//! `digest` and `verify --digest SEQ:HASH` (docs/reference.md "Anchors outside the
//! file"): the two tamperings a chain cannot see from inside — a consistent
//! rewrite of the whole chain, and a cut of its tail — are caught against a
//! head kept outside the file.

use crate::common::*;
use crate::forgery::{history_csv, reseal};
use serde_json::Value;

/// A ledger with a few events; returns it and its digest (seq, hash).
fn ledger_with_digest() -> (Ledger, i64, String) {
    let l = Ledger::new();
    l.ecs("i-1", "acme");
    l.allocate("i-1", 2);
    l.ecs("i-2", "acme");
    let digest = l.json(&["digest"]);
    let seq = digest["seq"].as_i64().expect("seq");
    let hash = digest["hash"].as_str().expect("hash").to_string();
    (l, seq, hash)
}

#[test]
fn digest_prints_the_head_in_every_format() {
    let (l, seq, hash) = ledger_with_digest();
    let last = l.last_event();
    assert_eq!(seq, last["seq"].as_i64().unwrap());
    assert_eq!(hash, last["hash"].as_str().unwrap());
    let digest = l.json(&["digest"]);
    assert_eq!(digest["at"], last["at"]);
    assert_eq!(keys(&digest), sorted(&["seq", "at", "hash"]));
    let csv = l.ok(&["--format", "csv", "digest"]);
    assert_eq!(
        csv,
        format!(
            "seq,at,hash\n{seq},{},{hash}\n",
            last["at"].as_str().unwrap()
        )
    );
    let table = l.ok(&["digest"]);
    assert!(table.contains(&hash) && table.contains(&format!("verify --digest {seq}:{hash}")));
}

#[test]
fn digest_of_an_empty_ledger_is_seq_0_and_the_genesis_hash() {
    let l = Ledger::new();
    l.ok(&["init"]);
    let digest = l.json(&["digest"]);
    assert_eq!(digest["seq"], 0);
    assert_eq!(digest["at"], Value::Null);
    assert_eq!(digest["hash"], "0".repeat(64));
    l.ok(&["verify", "--digest", &format!("0:{}", "0".repeat(64))]);
}

#[test]
fn digest_is_a_read_and_never_creates_a_ledger() {
    sqlite_only!("a missing SQLite file");
    let l = Ledger::new();
    l.refused(&["digest"], 3, "not_found");
    assert!(!l.db.exists());
}

#[test]
fn verify_passes_through_its_own_digests_old_and_new() {
    let (l, seq, hash) = ledger_with_digest();
    l.allocate("i-2", 1);
    let now = l.json(&["digest"]);
    let new = format!("{}:{}", now["seq"], now["hash"].as_str().unwrap());
    l.ok(&[
        "verify",
        "--digest",
        &format!("{seq}:{hash}"),
        "--digest",
        &new,
    ]);
}

#[test]
fn a_consistent_rewrite_of_the_whole_chain_is_caught_at_the_digest() {
    let (l, seq, hash) = ledger_with_digest();
    // Rewrite the first event (another owner) and recompute every hash
    // after it: the chain is intact, so plain verify cannot tell.
    let mut rows = l.event_rows();
    rows[0].payload = rows[0].payload.replace("\"acme\"", "\"acme2\"");
    for row in rows.iter_mut().skip(1) {
        row.payload = row.payload.replace("\"acme\"", "\"acme2\"");
    }
    reseal(&mut rows);
    let forged = l.sibling("rewritten");
    let file = forged.write("rewritten.csv", history_csv(&rows));
    forged.ok(&["import", "history", file.to_str().unwrap()]);
    forged.verify_ok();
    let before = forged.export_history();
    let out = Out::from(forged.run(&[
        "--format",
        "json",
        "verify",
        "--digest",
        &format!("{seq}:{hash}"),
    ]));
    assert_eq!(out.code, 5, "{}{}", out.stdout, out.stderr);
    let report: Value = serde_json::from_str(out.stdout.trim()).unwrap();
    assert_eq!(report["first_bad_seq"], seq, "{report}");
    assert!(
        report["problems"].to_string().contains("rewritten"),
        "{report}"
    );
    assert_eq!(forged.export_history(), before, "verify changes nothing");
}

#[test]
fn a_cut_tail_is_caught_at_the_digest() {
    let (l, seq, hash) = ledger_with_digest();
    // The same log without its last two events: a consistent, shorter chain.
    let rows = l.event_rows();
    let cut = l.sibling("cut");
    let file = cut.write("cut.csv", history_csv(&rows[..rows.len() - 2]));
    cut.ok(&["import", "history", file.to_str().unwrap()]);
    cut.verify_ok();
    let out = Out::from(cut.run(&[
        "--format",
        "json",
        "verify",
        "--digest",
        &format!("{seq}:{hash}"),
    ]));
    assert_eq!(out.code, 5, "{}{}", out.stdout, out.stderr);
    let report: Value = serde_json::from_str(out.stdout.trim()).unwrap();
    assert_eq!(report["first_bad_seq"], seq, "{report}");
    assert!(report["problems"].to_string().contains("cut"), "{report}");
    // The table form names the seq too, on standard error.
    let out = cut.run(&["verify", "--digest", &format!("{seq}:{hash}")]);
    assert_fails(&out, 5, "integrity", "verify --digest on a cut log");
}

#[test]
fn malformed_digests_are_usage_errors() {
    let (l, _, hash) = ledger_with_digest();
    for bad in [
        "3".to_string(),
        format!("x:{hash}"),
        format!("-1:{hash}"),
        "3:abc".to_string(),
        format!("3:{}", hash.to_uppercase()),
        format!("3:{hash}:4"),
    ] {
        l.refused(&["verify", "--digest", &bad], 2, "usage");
    }
    l.refused(
        &[
            "verify",
            "--digest",
            &format!("3:{hash}"),
            "--digest",
            &format!("3:{}", "a".repeat(64)),
        ],
        2,
        "usage",
    );
}
