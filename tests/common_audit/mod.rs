//! Shared helpers for tests/audit.rs and tests/services.rs: a ledger in a
//! fresh temporary directory, commands run with an explicit `--db`,
//! `--actor` and `--now`, and raw SQL access for tamper tests.
#![allow(dead_code)]

use assert_cmd::Command;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use tempfile::TempDir;

pub const ACTOR: &str = "auditor";
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The exit code and output of one run.
#[derive(Debug)]
pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub struct Ledger {
    pub dir: TempDir,
    pub db: PathBuf,
}

impl Default for Ledger {
    fn default() -> Self {
        Self::new()
    }
}

impl Ledger {
    pub fn new() -> Ledger {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("ledger.db");
        Ledger { dir, db }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `snledger --db DB --actor auditor --now NOW`, with the environment cleared of overrides.
    pub fn cmd_as(&self, actor: &str, now: &str) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_snledger"));
        command
            .env_remove("SNLEDGER_DB")
            .env_remove("SNLEDGER_NOW")
            .env_remove("SNLEDGER_ACTOR")
            .arg("--db")
            .arg(&self.db)
            .arg(format!("--actor={actor}"))
            .arg(format!("--now={now}"));
        command
    }

    pub fn cmd(&self, now: &str) -> Command {
        self.cmd_as(ACTOR, now)
    }

    pub fn run_as(&self, actor: &str, now: &str, args: &[&str]) -> Out {
        let output = self
            .cmd_as(actor, now)
            .args(args)
            .output()
            .expect("run snledger");
        Out {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    pub fn run(&self, now: &str, args: &[&str]) -> Out {
        self.run_as(ACTOR, now, args)
    }

    /// Runs and insists on exit 0; returns stdout.
    pub fn ok(&self, now: &str, args: &[&str]) -> String {
        let out = self.run(now, args);
        assert_eq!(
            out.code, 0,
            "snledger {args:?} failed: {}{}",
            out.stdout, out.stderr
        );
        out.stdout
    }

    pub fn ok_as(&self, actor: &str, now: &str, args: &[&str]) -> String {
        let out = self.run_as(actor, now, args);
        assert_eq!(
            out.code, 0,
            "snledger {args:?} failed: {}{}",
            out.stdout, out.stderr
        );
        out.stdout
    }

    /// Runs with `--format json`, insists on exit 0, parses stdout.
    pub fn json(&self, now: &str, args: &[&str]) -> Value {
        let mut all = vec!["--format", "json"];
        all.extend_from_slice(args);
        let text = self.ok(now, &all);
        serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("snledger {args:?}: not JSON ({e}): {text}"))
    }

    /// Runs with `--format json` expecting failure; returns (exit code, error code, message).
    pub fn refuse(&self, now: &str, args: &[&str]) -> (i32, String, String) {
        let mut all = vec!["--format", "json"];
        all.extend_from_slice(args);
        let out = self.run(now, &all);
        assert_ne!(
            out.code, 0,
            "snledger {args:?} should fail, printed {}",
            out.stdout
        );
        let error: Value = serde_json::from_str(out.stderr.trim()).unwrap_or_else(|e| {
            panic!(
                "snledger {args:?}: stderr is not one JSON object ({e}): {}",
                out.stderr
            )
        });
        let code = error["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let message = error["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        (out.code, code, message)
    }

    pub fn export_history(&self) -> String {
        self.ok("2026-12-31T00:00:00Z", &["export", "history"])
    }

    pub fn export_all(&self) -> (String, String, String) {
        let now = "2026-12-31T00:00:00Z";
        (
            self.ok(now, &["export", "history"]),
            self.ok(now, &["export", "instances"]),
            self.ok(now, &["export", "numbers"]),
        )
    }

    /// `verify --format json`: (exit code, report).
    pub fn verify(&self) -> (i32, Value) {
        let out = self.run("2026-12-31T00:00:00Z", &["--format", "json", "verify"]);
        let report: Value = serde_json::from_str(out.stdout.trim()).unwrap_or_else(|e| {
            panic!(
                "verify printed no JSON report ({e}): {}{}",
                out.stdout, out.stderr
            )
        });
        (out.code, report)
    }

    pub fn assert_verifies(&self) {
        let (code, report) = self.verify();
        assert_eq!(code, 0, "verify failed: {report}");
        assert_eq!(report["ok"], Value::Bool(true), "{report}");
        assert_eq!(report["first_bad_seq"], Value::Null, "{report}");
    }

    /// Whole history as JSON events.
    pub fn history(&self, filters: &[&str]) -> Vec<Value> {
        let mut args = vec!["history"];
        args.extend_from_slice(filters);
        match self.json("2026-12-31T00:00:00Z", &args) {
            Value::Array(events) => events,
            other => panic!("history is not an array: {other}"),
        }
    }

    pub fn conn(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(&self.db).expect("open ledger with rusqlite")
    }

    /// Runs `sql` on the file outside snledger, with the append-only
    /// triggers dropped for the edit and put back afterwards.
    pub fn tamper(&self, sql: &str) {
        let conn = self.conn();
        let triggers: Vec<String> = {
            let mut statement = conn
                .prepare(
                    "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'events'",
                )
                .unwrap();
            let rows = statement
                .query_map([], |row| row.get::<_, String>(0))
                .unwrap();
            rows.map(|r| r.unwrap()).collect()
        };
        assert_eq!(
            triggers.len(),
            2,
            "expected the two append-only triggers: {triggers:?}"
        );
        conn.execute_batch("DROP TRIGGER events_no_update; DROP TRIGGER events_no_delete;")
            .unwrap();
        conn.execute_batch(sql)
            .unwrap_or_else(|e| panic!("tamper SQL failed: {e}\n{sql}"));
        for trigger in triggers {
            conn.execute_batch(&trigger).unwrap();
        }
    }

    /// One stored event row: (event_id, at, actor, kind, payload, prev_hash, hash).
    pub fn event_row(&self, seq: i64) -> EventRow {
        self.conn()
            .query_row(
                "SELECT seq, event_id, at, actor, kind, payload, prev_hash, hash FROM events WHERE seq = ?1",
                [seq],
                |r| {
                    Ok(EventRow {
                        seq: r.get(0)?,
                        event_id: r.get(1)?,
                        at: r.get(2)?,
                        actor: r.get(3)?,
                        kind: r.get(4)?,
                        payload: r.get(5)?,
                        prev_hash: r.get(6)?,
                        hash: r.get(7)?,
                    })
                },
            )
            .unwrap()
    }

    pub fn event_count(&self) -> i64 {
        self.conn()
            .query_row("SELECT count(*) FROM events", [], |r| r.get(0))
            .unwrap()
    }
}

#[derive(Debug, Clone)]
pub struct EventRow {
    pub seq: i64,
    pub event_id: String,
    pub at: String,
    pub actor: String,
    pub kind: String,
    pub payload: String,
    pub prev_hash: String,
    pub hash: String,
}

impl EventRow {
    pub fn computed_hash(&self) -> String {
        chain_hash(
            &self.prev_hash,
            self.seq,
            &self.event_id,
            &self.at,
            &self.actor,
            &self.kind,
            &self.payload,
        )
    }
}

pub fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// SPEC §2: SHA-256 of `prev_hash \n seq \n event_id \n at \n actor \n kind \n payload`.
pub fn chain_hash(
    prev: &str,
    seq: i64,
    event_id: &str,
    at: &str,
    actor: &str,
    kind: &str,
    payload: &str,
) -> String {
    sha256_hex(&format!(
        "{prev}\n{seq}\n{event_id}\n{at}\n{actor}\n{kind}\n{payload}"
    ))
}

/// Seqs of a list of history events.
pub fn seqs(events: &[Value]) -> Vec<i64> {
    events
        .iter()
        .map(|e| e["seq"].as_i64().expect("seq"))
        .collect()
}

pub fn kinds(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| e["kind"].as_str().expect("kind").to_string())
        .collect()
}

pub fn str_field<'a>(value: &'a Value, key: &str) -> &'a str {
    value[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} is not a string in {value}"))
}

pub fn keys(value: &Value) -> Vec<String> {
    let mut keys: Vec<String> = value.as_object().expect("object").keys().cloned().collect();
    keys.sort();
    keys
}

pub fn sorted(list: &[&str]) -> Vec<String> {
    let mut list: Vec<String> = list.iter().map(|s| s.to_string()).collect();
    list.sort();
    list
}

/// Parses CSV text into rows of cells (header included).
pub fn csv_rows(text: &str) -> Vec<Vec<String>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes());
    reader
        .records()
        .map(|r| {
            r.expect("valid CSV")
                .iter()
                .map(|c| c.to_string())
                .collect()
        })
        .collect()
}

pub fn repo_file(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}
