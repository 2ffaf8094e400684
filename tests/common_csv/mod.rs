//! Helpers for tests/csv.rs and tests/reliability.rs: a throw-away ledger in
//! a tempdir, driven through the real binary with an explicit `--db`,
//! `--now` and `--actor`; CSV builders and a tiny CSV reader for exports.
#![allow(dead_code)]

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const NOW: &str = "2026-11-23T12:00:00Z";
pub const ACTOR: &str = "csv-tester";

pub const INSTANCES_HEADER: &str =
    "instance_id,service_type,account,region,billing,subscription_months,expires_at,public_ip,order_amount";
pub const OPS_HEADER: &str =
    "op,instance_id,number,account,count,service,to_account,icp_number,reason,request_id,months,expires_at";
pub const OPS_COLUMNS: [&str; 12] = [
    "op",
    "instance_id",
    "number",
    "account",
    "count",
    "service",
    "to_account",
    "icp_number",
    "reason",
    "request_id",
    "months",
    "expires_at",
];
pub const HISTORY_HEADER: &str = "seq,event_id,at,actor,kind,payload,prev_hash,hash";
pub const NUMBERS_HEADER: &str = "number,instance_id,owner,holder,status,service,icp_number,origin";

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_snledger")
}

pub fn repo_file(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

/// A fresh ledger in its own tempdir.
pub struct Ledger {
    pub dir: tempfile::TempDir,
    pub db: PathBuf,
    pub now: String,
    pub actor: String,
}

impl Ledger {
    pub fn new() -> Ledger {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("ledger.db");
        Ledger {
            dir,
            db,
            now: NOW.to_string(),
            actor: ACTOR.to_string(),
        }
    }

    /// Another ledger file in the same tempdir.
    pub fn sibling(&self, name: &str) -> Ledger {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join(format!("{name}.db"));
        Ledger {
            dir,
            db,
            now: self.now.clone(),
            actor: self.actor.clone(),
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes a file in the tempdir and returns its path.
    pub fn write(&self, name: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, content).expect("write file");
        path
    }

    /// The binary with `--db`, `--now` and `--actor` set, environment cleaned.
    pub fn command(&self) -> Command {
        let mut command = Command::new(bin());
        command
            .env_remove("SNLEDGER_DB")
            .env_remove("SNLEDGER_NOW")
            .env_remove("SNLEDGER_ACTOR")
            .arg("--db")
            .arg(&self.db)
            .arg("--now")
            .arg(&self.now)
            .arg("--actor")
            .arg(&self.actor)
            .stdin(Stdio::null());
        command
    }

    /// The binary with `--now` and `--actor` but no `--db` (for pointing
    /// at some other file).
    pub fn command_without_db(&self) -> Command {
        let mut command = Command::new(bin());
        command
            .env_remove("SNLEDGER_DB")
            .env_remove("SNLEDGER_NOW")
            .env_remove("SNLEDGER_ACTOR")
            .current_dir(self.dir.path())
            .arg("--now")
            .arg(&self.now)
            .arg("--actor")
            .arg(&self.actor)
            .stdin(Stdio::null());
        command
    }

    pub fn run<S: AsRef<std::ffi::OsStr>>(&self, args: &[S]) -> Output {
        run_bounded(self.command().args(args), Duration::from_secs(120))
    }

    pub fn run_at<S: AsRef<std::ffi::OsStr>>(&self, now: &str, args: &[S]) -> Output {
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
            .arg(&self.actor)
            .args(args);
        run_bounded(&mut command, Duration::from_secs(120))
    }

    /// Runs and insists on exit 0; returns stdout.
    pub fn ok<S: AsRef<std::ffi::OsStr>>(&self, args: &[S]) -> String {
        let output = self.run(args);
        assert_ok(&output, &describe(args));
        String::from_utf8(output.stdout).expect("stdout is UTF-8")
    }

    pub fn ok_at<S: AsRef<std::ffi::OsStr>>(&self, now: &str, args: &[S]) -> String {
        let output = self.run_at(now, args);
        assert_ok(&output, &describe(args));
        String::from_utf8(output.stdout).expect("stdout is UTF-8")
    }

    /// Runs with `--format json` and parses stdout.
    pub fn json<S: AsRef<std::ffi::OsStr>>(&self, args: &[S]) -> Value {
        let mut all: Vec<std::ffi::OsString> = vec!["--format".into(), "json".into()];
        all.extend(args.iter().map(|a| a.as_ref().to_os_string()));
        let text = self.ok(&all);
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
    }

    /// `export history` to stdout, as bytes.
    pub fn history_bytes(&self) -> Vec<u8> {
        let output = self.run(&["export", "history"]);
        assert_ok(&output, "export history");
        output.stdout
    }

    pub fn export(&self, what: &str) -> Vec<u8> {
        let output = self.run(&["export", what]);
        assert_ok(&output, &format!("export {what}"));
        output.stdout
    }

    /// `verify --format json`; asserts ok and returns the event count.
    pub fn verify_ok(&self) -> u64 {
        let output = self.run(&["--format", "json", "verify"]);
        let text = String::from_utf8_lossy(&output.stdout).to_string();
        assert_eq!(
            output.status.code(),
            Some(0),
            "verify failed: {text} {}",
            stderr(&output)
        );
        let value: Value = serde_json::from_str(&text).expect("verify JSON");
        assert_eq!(value["ok"], Value::Bool(true), "verify: {value}");
        value["events"].as_u64().expect("events")
    }

    pub fn import_samples(&self) {
        self.ok(&[
            "import".as_ref(),
            "instances".as_ref(),
            repo_file("samples/instances.csv").as_os_str(),
        ]);
    }

    /// An eligible ECS instance (5 slots).
    pub fn add_ecs(&self, id: &str, account: &str) {
        self.ok(&[
            "instance",
            "add",
            id,
            "--type",
            "ecs",
            "--account",
            account,
            "--region",
            "cn-hangzhou",
            "--billing",
            "subscription",
            "--months",
            "12",
            "--expires",
            "2027-12-31T16:00:00Z",
            "--public-ip",
            "203.0.113.10",
        ]);
    }

    pub fn number(&self, number: &str) -> Value {
        self.json(&["number", "show", number])
    }

    pub fn instance(&self, id: &str) -> Value {
        self.json(&["instance", "show", id])
    }

    pub fn history_json(&self) -> Vec<Value> {
        match self.json(&["history"]) {
            Value::Array(events) => events,
            other => panic!("history is not an array: {other}"),
        }
    }

    /// Counts rows of a table straight from the file (read only).
    pub fn count(&self, table: &str) -> i64 {
        count_rows(&self.db, table)
    }
}

pub fn count_rows(db: &Path, table: &str) -> i64 {
    let conn =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .expect("open ledger read-only");
    conn.busy_timeout(Duration::from_secs(10)).unwrap();
    conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |row| {
        row.get(0)
    })
    .expect("count")
}

fn describe<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> String {
    args.iter()
        .map(|a| a.as_ref().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

pub fn assert_ok(output: &Output, what: &str) {
    assert_eq!(
        output.status.code(),
        Some(0),
        "`{what}` failed\nstdout: {}\nstderr: {}",
        String::from_utf8_lossy(&output.stdout),
        stderr(output)
    );
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Asserts the exit code and that stderr names `error[CODE]`.
pub fn assert_fails(output: &Output, exit: i32, code: &str, what: &str) {
    let err = stderr(output);
    assert_eq!(
        output.status.code(),
        Some(exit),
        "{what}: exit code; stderr: {err}"
    );
    assert!(
        err.contains(&format!("error[{code}]")),
        "{what}: stderr should name error[{code}]: {err}"
    );
    assert!(!err.contains("panicked"), "{what}: panicked: {err}");
}

/// Runs a command, killing it (and failing) if it takes longer than `limit`.
pub fn run_bounded(command: &mut Command, limit: Duration) -> Output {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn snledger");
    // Drain the pipes on threads so a chatty child cannot block.
    let mut out_pipe = child.stdout.take().unwrap();
    let mut err_pipe = child.stderr.take().unwrap();
    let out_thread = std::thread::spawn(move || {
        let mut buffer = Vec::new();
        std::io::Read::read_to_end(&mut out_pipe, &mut buffer).ok();
        buffer
    });
    let err_thread = std::thread::spawn(move || {
        let mut buffer = Vec::new();
        std::io::Read::read_to_end(&mut err_pipe, &mut buffer).ok();
        buffer
    });
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("snledger hung for more than {limit:?}: {command:?}");
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    Output {
        status,
        stdout: out_thread.join().unwrap(),
        stderr: err_thread.join().unwrap(),
    }
}

/// One CSV cell, quoted when needed (RFC 4180).
pub fn cell(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// One ops row from (column, value) pairs; other columns empty. Ends with LF.
pub fn ops_row(fields: &[(&str, &str)]) -> String {
    let mut cells = vec![String::new(); OPS_COLUMNS.len()];
    for (name, value) in fields {
        let index = OPS_COLUMNS
            .iter()
            .position(|c| c == name)
            .unwrap_or_else(|| panic!("no ops column {name}"));
        cells[index] = cell(value);
    }
    format!("{}\n", cells.join(","))
}

/// An ops file: header plus rows.
pub fn ops_file(rows: &[String]) -> String {
    let mut text = format!("{OPS_HEADER}\n");
    for row in rows {
        text.push_str(row);
    }
    text
}

/// One instances row for an eligible ECS instance.
pub fn ecs_row(id: &str, account: &str) -> String {
    format!("{id},ecs,{account},cn-hangzhou,subscription,12,2027-12-31T16:00:00Z,203.0.113.10,\n")
}

/// A minimal RFC 4180 reader (for checking exports): rows of cells.
pub fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    let mut any = false;
    while let Some(c) = chars.next() {
        any = true;
        if quoted {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    field.push('"');
                } else {
                    quoted = false;
                }
            } else {
                field.push(c);
            }
            continue;
        }
        match c {
            '"' => quoted = true,
            ',' => row.push(std::mem::take(&mut field)),
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
                any = false;
            }
            other => field.push(other),
        }
    }
    if any {
        row.push(field);
        rows.push(row);
    }
    rows
}

/// xorshift64*: a tiny seeded generator, so a failing run can be replayed.
pub struct XorShift(pub u64);

impl XorShift {
    pub fn new(seed: u64) -> XorShift {
        XorShift(seed.max(1))
    }
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform-ish in `low..high`.
    pub fn range(&mut self, low: u64, high: u64) -> u64 {
        low + self.next() % (high - low).max(1)
    }
}

/// File mode bits (permissions only).
pub fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .expect("metadata")
        .permissions()
        .mode()
        & 0o777
}

/// Runs the binary under `sh -c 'umask 000; exec ...'`.
pub fn run_with_umask(umask: &str, args: &[&std::ffi::OsStr]) -> Output {
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg(format!("umask {umask}; exec \"$@\""))
        .arg("sh")
        .arg(bin());
    command
        .args(args)
        .env_remove("SNLEDGER_DB")
        .env_remove("SNLEDGER_NOW")
        .env_remove("SNLEDGER_ACTOR");
    run_bounded(&mut command, Duration::from_secs(60))
}

/// Replaces every UUID-shaped token with `<uuid-K>`, K by first appearance,
/// so that ledgers with generated numbers can be compared.
pub fn mask_uuids(text: &str) -> String {
    fn is_uuid(bytes: &[u8]) -> bool {
        bytes.len() == 36
            && bytes.iter().enumerate().all(|(i, b)| match i {
                8 | 13 | 18 | 23 => *b == b'-',
                _ => b.is_ascii_hexdigit(),
            })
    }
    let bytes = text.as_bytes();
    let mut seen: Vec<String> = Vec::new();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        if i + 36 <= bytes.len() && is_uuid(&bytes[i..i + 36]) {
            let token = &text[i..i + 36];
            let k = match seen.iter().position(|s| s == token) {
                Some(k) => k,
                None => {
                    seen.push(token.to_string());
                    seen.len() - 1
                }
            };
            out.push_str(&format!("<uuid-{k}>"));
            i += 36;
        } else {
            let c = text[i..].chars().next().unwrap();
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

/// Lines of stderr that report a failing row (`line N: error[...]`).
pub fn failure_lines(output: &Output) -> Vec<String> {
    stderr(output)
        .lines()
        .filter(|l| l.starts_with("line "))
        .map(String::from)
        .collect()
}
