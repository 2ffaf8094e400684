//! Shared helpers for the integration tests of `tests/core.rs`,
//! `tests/lifecycle.rs` and `tests/model.rs`: a fresh ledger in a temporary
//! directory, driven through the `snledger` binary with explicit `--db`,
//! `--now` and `--actor`.
#![allow(dead_code)]

use assert_cmd::Command;
use serde_json::Value;
use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::process::Output;
use tempfile::TempDir;

/// The ledger's default "current time" in these tests.
pub const NOW: &str = "2026-03-01T10:00:00Z";
/// A comfortable expiry for eligible instances.
pub const EXPIRES: &str = "2027-03-01T00:00:00Z";
pub const ACTOR: &str = "tester";

/// Path of the binary under test.
pub fn bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("snledger")
}

pub struct Ledger {
    pub dir: TempDir,
    pub db: PathBuf,
    now: RefCell<String>,
}

impl Default for Ledger {
    fn default() -> Self {
        Self::new()
    }
}

impl Ledger {
    /// A ledger path in a fresh temporary directory (the file is created by
    /// the first command).
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("ledger.db");
        Ledger {
            dir,
            db,
            now: RefCell::new(NOW.to_string()),
        }
    }

    pub fn path(&self) -> &Path {
        &self.db
    }

    pub fn db_str(&self) -> String {
        self.db.to_str().expect("utf-8 path").to_string()
    }

    pub fn now(&self) -> String {
        self.now.borrow().clone()
    }

    /// Moves the ledger's `--now` for the following commands.
    pub fn set_now(&self, now: &str) {
        *self.now.borrow_mut() = now.to_string();
    }

    /// A command with `--db`, `--now` and `--actor`, and no `SNLEDGER_*`
    /// variables leaking in from the environment.
    pub fn cmd_at(&self, now: &str) -> Command {
        let mut command = Command::new(bin());
        command
            .env_remove("SNLEDGER_DB")
            .env_remove("SNLEDGER_NOW")
            .env_remove("SNLEDGER_ACTOR")
            .arg("--db")
            .arg(&self.db)
            .arg("--now")
            .arg(now)
            .arg("--actor")
            .arg(ACTOR);
        command
    }

    pub fn cmd(&self) -> Command {
        self.cmd_at(&self.now())
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd().args(args).output().expect("run snledger")
    }

    pub fn run_at(&self, now: &str, args: &[&str]) -> Output {
        self.cmd_at(now).args(args).output().expect("run snledger")
    }

    /// Runs and asserts exit 0; returns standard output.
    pub fn ok(&self, args: &[&str]) -> String {
        let output = self.run(args);
        assert_success(&output, args);
        String::from_utf8(output.stdout).expect("utf-8 stdout")
    }

    /// Runs with `--format json`, asserts exit 0 and parses standard output.
    pub fn json(&self, args: &[&str]) -> Value {
        let mut full = vec!["--format", "json"];
        full.extend_from_slice(args);
        let stdout = self.ok(&full);
        serde_json::from_str(stdout.trim())
            .unwrap_or_else(|e| panic!("{args:?}: stdout is not one JSON value ({e}): {stdout}"))
    }

    /// `export history` as bytes (the whole log, byte for byte).
    pub fn history(&self) -> Vec<u8> {
        if !self.db.exists() {
            return Vec::new();
        }
        let output = self.run(&["export", "history"]);
        assert_success(&output, &["export", "history"]);
        output.stdout
    }

    /// Number of events in the log.
    pub fn event_count(&self) -> usize {
        let history = self.json(&["history"]);
        history.as_array().expect("history is an array").len()
    }

    /// The log's events (`history --format json`).
    pub fn events(&self) -> Vec<Value> {
        self.json(&["history"])
            .as_array()
            .expect("history is an array")
            .clone()
    }

    pub fn last_event(&self) -> Value {
        self.events().last().cloned().expect("at least one event")
    }

    /// Runs a command that must be refused: checks the exit code, that
    /// standard error names `error[CODE]`, and that the log is unchanged byte
    /// for byte. Returns standard error.
    pub fn refused(&self, args: &[&str], exit: i32, code: &str) -> String {
        let before = self.history();
        let output = self.run(args);
        let stderr = String::from_utf8_lossy(&output.stderr).to_string();
        assert_eq!(
            output.status.code(),
            Some(exit),
            "{args:?}: expected exit {exit}, stdout: {} stderr: {stderr}",
            String::from_utf8_lossy(&output.stdout)
        );
        let tag = format!("error[{code}]");
        assert!(
            stderr.contains(&tag),
            "{args:?}: expected {tag} on stderr, got: {stderr}"
        );
        let after = self.history();
        assert!(
            before == after,
            "{args:?}: a refused command changed the log"
        );
        stderr
    }

    /// Same as `refused`, at an explicit time.
    pub fn refused_at(&self, now: &str, args: &[&str], exit: i32, code: &str) -> String {
        let before = self.history();
        let output = self.run_at(now, args);
        let stderr = String::from_utf8_lossy(&output.stderr).to_string();
        assert_eq!(
            output.status.code(),
            Some(exit),
            "{args:?} at {now}: expected exit {exit}, stderr: {stderr}"
        );
        let tag = format!("error[{code}]");
        assert!(
            stderr.contains(&tag),
            "{args:?}: expected {tag} on stderr, got: {stderr}"
        );
        assert!(
            before == self.history(),
            "{args:?}: a refused command changed the log"
        );
        stderr
    }

    /// `instance add` with the given type, owner and extra flags (region,
    /// billing, months and expiry default to an eligible subscription).
    pub fn add_instance(&self, id: &str, service_type: &str, account: &str, extra: &[&str]) {
        let mut args = vec![
            "instance",
            "add",
            id,
            "--type",
            service_type,
            "--account",
            account,
        ];
        let has = |flag: &str| extra.contains(&flag);
        if !has("--region") {
            args.extend(["--region", "cn-hangzhou"]);
        }
        if !has("--billing") {
            args.extend(["--billing", "subscription"]);
        }
        if !has("--months") {
            args.extend(["--months", "12"]);
        }
        if !has("--expires") {
            args.extend(["--expires", EXPIRES]);
        }
        args.extend_from_slice(extra);
        self.ok(&args);
    }

    /// An eligible ECS instance (public IP, 12 months, mainland).
    pub fn ecs(&self, id: &str, account: &str) {
        self.add_instance(id, "ecs", account, &["--public-ip", "47.96.10.21"]);
    }

    /// Allocates `count` numbers (as the owner) and returns them.
    pub fn allocate(&self, instance: &str, count: usize) -> Vec<String> {
        let count = count.to_string();
        let answer = self.json(&["allocate", instance, "--count", &count]);
        strings(&answer["numbers"])
    }

    pub fn allocate_one(&self, instance: &str) -> String {
        self.allocate(instance, 1).remove(0)
    }

    pub fn number(&self, number: &str) -> Value {
        self.json(&["number", "show", number])
    }

    pub fn status(&self, number: &str) -> String {
        self.number(number)["status"]
            .as_str()
            .expect("status is a string")
            .to_string()
    }

    pub fn instance(&self, id: &str) -> Value {
        self.json(&["instance", "show", id])
    }

    pub fn consumed(&self, id: &str) -> i64 {
        self.instance(id)["quota"]["consumed"]
            .as_i64()
            .expect("consumed")
    }

    pub fn remaining(&self, id: &str) -> i64 {
        self.instance(id)["quota"]["remaining"]
            .as_i64()
            .expect("remaining")
    }

    /// `verify` exits 0 and says ok.
    pub fn verify_ok(&self) {
        let answer = self.json(&["verify"]);
        assert_eq!(answer["ok"], Value::Bool(true), "verify: {answer}");
    }
}

pub fn assert_success(output: &Output, args: &[&str]) {
    assert!(
        output.status.success(),
        "{args:?}: expected success, exit {:?}\nstdout: {}\nstderr: {}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A JSON array of strings as a Vec.
pub fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {value}"))
        .iter()
        .map(|v| {
            v.as_str()
                .unwrap_or_else(|| panic!("not a string: {v}"))
                .to_string()
        })
        .collect()
}

/// True when `text` looks like a UUID v4 (8-4-4-4-12 lowercase or uppercase
/// hex, version nibble 4, variant 8/9/a/b).
pub fn is_uuid_v4(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    if parts.len() != 5 {
        return false;
    }
    let lens = [8, 4, 4, 4, 12];
    if parts
        .iter()
        .zip(lens)
        .any(|(p, n)| p.len() != n || !p.chars().all(|c| c.is_ascii_hexdigit()))
    {
        return false;
    }
    parts[2].starts_with('4')
        && matches!(
            parts[3].chars().next(),
            Some('8' | '9' | 'a' | 'b' | 'A' | 'B')
        )
}
