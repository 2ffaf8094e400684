//! Shared helpers for every integration test: a throw-away ledger in a fresh
//! temporary directory, driven through the `snledger` binary with an explicit
//! `--db`, `--now` and `--actor` (and no `SNLEDGER_*` variable leaking in);
//! ok/refused checks, JSON and CSV readers, the hash of docs/reference.md "The log and
//! its hash", CSV builders, raw SQL access for tamper tests and file modes.

use serde_json::Value;
use sha2::{Digest, Sha256};
use std::ffi::{OsStr, OsString};
use std::fmt::Display;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tempfile::TempDir;

// ---------------------------------------------------------------- who and when

/// The default "current time" of a ledger (core, lifecycle and model tests).
pub const NOW: &str = "2026-03-01T10:00:00Z";

/// Undoes schema migration 4 (the past versions) of a SQLite ledger, for
/// the tests that build an older ledger (migration 10 dropped the marker
/// migration 4 made).
pub const UNDO_MIGRATION_4: &str =
    "DROP TABLE policy_past; DROP TABLE instances_past; DROP TABLE numbers_past;
     DROP TABLE services_past; DROP TABLE regions_past; DROP TABLE IF EXISTS past_kept_since;";
/// Undoes PostgreSQL's migration 5 (its past versions), taking a ledger
/// back to version 4.
pub const UNDO_PG_MIGRATION_5: &str =
    "DROP SCHEMA snledger_past CASCADE; DROP TABLE policy_past, instances_past, numbers_past,
     services_past, regions_past; DROP TABLE IF EXISTS past_kept_since;
     UPDATE snledger_schema SET version = 4;";
/// The default actor of a ledger.
pub const ACTOR: &str = "tester";
/// A comfortable expiry for eligible instances.
pub const EXPIRES: &str = "2027-03-01T00:00:00Z";
/// The audit and services tests write at explicit times and read at this one,
/// after all of them.
pub const AUDIT_NOW: &str = "2026-12-31T00:00:00Z";
pub const AUDIT_ACTOR: &str = "auditor";
/// The time and actor of the CSV and reliability tests.
pub const CSV_NOW: &str = "2026-11-23T12:00:00Z";
pub const CSV_ACTOR: &str = "csv-tester";

/// The `prev_hash` of the first event.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

// ---------------------------------------------------------------- CSV layouts

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

/// Path of the binary under test.
/// `instance add ID --type T --account A` with the defaults (cn-hangzhou,
/// subscription, 12 months, [`EXPIRES`]) for whatever `extra` does not name.
pub fn instance_add_args(
    id: &str,
    service_type: &str,
    account: &str,
    extra: &[&str],
) -> Vec<String> {
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
    for (flag, value) in [
        ("--region", "cn-hangzhou"),
        ("--billing", "subscription"),
        ("--months", "12"),
        ("--expires", EXPIRES),
    ] {
        if !has(flag) {
            args.extend([flag, value]);
        }
    }
    args.extend_from_slice(extra);
    args.into_iter().map(String::from).collect()
}

pub fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_snledger"))
}

/// A file of this repository (samples, scripts).
pub fn repo_file(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

// ---------------------------------------------------------------- the ledger

/// A ledger file in its own temporary directory, with the `--now` and
/// `--actor` its commands run with.
pub struct Ledger {
    pub dir: TempDir,
    /// The SQLite file; in PostgreSQL mode the URL of the ledger's database
    /// as the ledger's first actor logs in.
    pub db: PathBuf,
    now: Mutex<String>,
    actor: Mutex<String>,
    /// The database of this ledger in PostgreSQL mode.
    pg: Option<String>,
}

impl Drop for Ledger {
    fn drop(&mut self) {
        if let (Some(cluster), Some(database)) = (crate::pg::cluster(), &self.pg) {
            cluster.drop_database(database);
        }
    }
}

impl Default for Ledger {
    fn default() -> Self {
        Self::new()
    }
}

impl Ledger {
    /// A ledger path in a fresh temporary directory (the file is created by
    /// the first command), run at [`NOW`] as [`ACTOR`].
    pub fn new() -> Self {
        Self::with(NOW, ACTOR)
    }

    /// Like [`Ledger::new`], run at `now` as `actor`.
    pub fn with(now: &str, actor: &str) -> Self {
        Self::create("ledger.db", now, actor)
    }

    /// Another ledger (in a tempdir of its own) with the same time and actor.
    pub fn sibling(&self, name: &str) -> Ledger {
        Self::create(&format!("{name}.db"), &self.now(), &self.actor())
    }

    fn create(file: &str, now: &str, actor: &str) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut db = dir.path().join(file);
        let pg = crate::pg::cluster().map(|cluster| {
            let database = cluster.new_database();
            cluster.ensure_role(actor);
            db = PathBuf::from(cluster.url(&database, actor));
            database
        });
        Ledger {
            dir,
            db,
            now: Mutex::new(now.to_string()),
            actor: Mutex::new(actor.to_string()),
            pg,
        }
    }

    /// Is this ledger a PostgreSQL database (the suite's PostgreSQL mode)?
    pub fn is_pg(&self) -> bool {
        self.pg.is_some()
    }

    /// The `--db` of this ledger for `actor`: the file, or in PostgreSQL
    /// mode the database as the login role `actor`.
    pub fn db_for(&self, actor: &str) -> OsString {
        match (crate::pg::cluster(), &self.pg) {
            (Some(cluster), Some(database)) => {
                cluster.ensure_role(actor);
                cluster.url(database, actor).into()
            }
            _ => self.db.clone().into_os_string(),
        }
    }

    /// Takes the ledger back to the last schema without past versions
    /// (SQLite 3, PostgreSQL 4), as a ledger made by an older program.
    pub fn forget_past_versions(&self) {
        if self.is_pg() {
            self.pg_superuser()
                .batch_execute(UNDO_PG_MIGRATION_5)
                .expect("undo migration 5");
            return;
        }
        let conn = self.conn();
        conn.execute_batch(UNDO_MIGRATION_4).unwrap();
        conn.execute_batch("PRAGMA user_version = 3;").unwrap();
    }

    /// Upgrades the ledger's schema: on PostgreSQL `init` by the owner (a
    /// writer may not); on SQLite the next write does it, `init` too.
    pub fn upgrade(&self) {
        let output = self.try_upgrade();
        assert!(
            output.status.success(),
            "init: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// `init` by the ledger's owner, as `upgrade` runs it, however it ends.
    pub fn try_upgrade(&self) -> Output {
        let db = match (crate::pg::cluster(), &self.pg) {
            (Some(cluster), Some(database)) => cluster.url(database, "postgres").into(),
            _ => self.db.clone().into_os_string(),
        };
        self.bare_command()
            .arg("--db")
            .arg(db)
            .arg("init")
            .output()
            .unwrap()
    }

    /// `import history FILE` by the ledger's owner, parsed from JSON: on
    /// PostgreSQL only the owner may write a log holding other roles' events
    /// (migration 8), so a copy of a multi-actor log is made the way an
    /// operator makes it; on SQLite the ledger's file has no roles.
    pub fn import_history_as_owner(&self, file: &Path) -> Value {
        let actor = if self.is_pg() {
            "postgres".to_string()
        } else {
            self.actor()
        };
        let args: Vec<&OsStr> = vec!["import".as_ref(), "history".as_ref(), file.as_os_str()];
        let text = self.ok_as(&actor, &self.now(), &with_json_format(&args));
        serde_json::from_str(text.trim()).expect("import history prints one JSON value")
    }

    /// A superuser connection to this ledger's database (PostgreSQL mode).
    pub fn pg_superuser(&self) -> postgres::Client {
        let cluster = crate::pg::cluster().expect("PostgreSQL mode");
        cluster.superuser(self.pg.as_deref().expect("a PostgreSQL ledger"))
    }

    /// A path in the tempdir.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes a file in the tempdir and returns its path.
    pub fn write(&self, name: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, content).expect("write file");
        path
    }

    pub fn db_str(&self) -> String {
        self.db.to_str().expect("utf-8 path").to_string()
    }

    pub fn now(&self) -> String {
        self.now.lock().unwrap().clone()
    }

    /// Moves the ledger's `--now` for the following commands.
    pub fn set_now(&self, now: &str) {
        *self.now.lock().unwrap() = now.to_string();
    }

    pub fn actor(&self) -> String {
        self.actor.lock().unwrap().clone()
    }

    /// Changes the `--actor` of the following commands.
    pub fn set_actor(&self, actor: &str) {
        *self.actor.lock().unwrap() = actor.to_string();
    }

    // ------------------------------------------------------------ commands

    /// The binary with no `SNLEDGER_*` variable, no arguments and the tempdir
    /// as working directory; the caller adds `--db`/`--now` or the variables.
    pub fn bare_command(&self) -> Command {
        let mut command = program();
        command.current_dir(self.dir.path());
        command
    }

    /// The binary with `--now` and `--actor` but no `--db` (for pointing at
    /// some other file), in the tempdir.
    pub fn command_without_db(&self) -> Command {
        let mut command = self.bare_command();
        command
            .arg(format!("--now={}", self.now()))
            .arg(format!("--actor={}", self.actor()));
        command
    }

    /// The binary with `--db`, `--now` and `--actor`.
    pub fn command_as(&self, actor: &str, now: &str) -> Command {
        let mut command = program();
        command
            .arg("--db")
            .arg(self.db_for(actor))
            .arg(format!("--now={now}"))
            .arg(format!("--actor={actor}"));
        command
    }

    pub fn command_at(&self, now: &str) -> Command {
        self.command_as(&self.actor(), now)
    }

    pub fn command(&self) -> Command {
        self.command_at(&self.now())
    }

    pub fn run<S: AsRef<OsStr>>(&self, args: &[S]) -> Output {
        self.run_at(&self.now(), args)
    }

    pub fn run_at<S: AsRef<OsStr>>(&self, now: &str, args: &[S]) -> Output {
        self.run_as(&self.actor(), now, args)
    }

    pub fn run_as<S: AsRef<OsStr>>(&self, actor: &str, now: &str, args: &[S]) -> Output {
        run_bounded(
            self.command_as(actor, now).args(args),
            Duration::from_secs(120),
        )
    }

    /// After refused commands on a new ledger: on SQLite no file was left
    /// (a refused command creates nothing); on PostgreSQL the database
    /// holds no event.
    pub fn assert_still_empty(&self) {
        if self.is_pg() {
            assert_eq!(self.verify_ok(), 0);
        } else {
            assert!(!self.db.exists(), "a refused command left a ledger file");
        }
    }

    /// Runs and asserts exit 0; returns standard output.
    pub fn ok<S: AsRef<OsStr>>(&self, args: &[S]) -> String {
        self.ok_at(&self.now(), args)
    }

    pub fn ok_at<S: AsRef<OsStr>>(&self, now: &str, args: &[S]) -> String {
        self.ok_as(&self.actor(), now, args)
    }

    pub fn ok_as<S: AsRef<OsStr>>(&self, actor: &str, now: &str, args: &[S]) -> String {
        let output = self.run_as(actor, now, args);
        assert_ok(&output, &describe(args));
        String::from_utf8(output.stdout).expect("stdout is UTF-8")
    }

    /// Runs with `--format json`, asserts exit 0 and parses standard output.
    pub fn json<S: AsRef<OsStr>>(&self, args: &[S]) -> Value {
        self.json_at(&self.now(), args)
    }

    pub fn json_at<S: AsRef<OsStr>>(&self, now: &str, args: &[S]) -> Value {
        let text = self.ok_at(now, &with_json_format(args));
        serde_json::from_str(text.trim()).unwrap_or_else(|e| {
            panic!(
                "`{}`: stdout is not one JSON value ({e}): {text}",
                describe(args)
            )
        })
    }

    /// Runs a command that must be refused: checks the exit code, that
    /// standard error names `error[CODE]`, and that the log is unchanged byte
    /// for byte. Returns standard error.
    pub fn refused<S: AsRef<OsStr>>(&self, args: &[S], exit: i32, code: &str) -> String {
        self.refused_at(&self.now(), args, exit, code)
    }

    /// Same as `refused`, at an explicit time.
    pub fn refused_at<S: AsRef<OsStr>>(
        &self,
        now: &str,
        args: &[S],
        exit: i32,
        code: &str,
    ) -> String {
        let before = self.history_if_any();
        let output = self.run_at(now, args);
        let what = format!("{} at {now}", describe(args));
        assert_fails(&output, exit, code, &what);
        assert!(
            before == self.history_if_any(),
            "{what}: a refused command changed the log"
        );
        stderr(&output)
    }

    /// Runs with `--format json` expecting failure; returns (exit code,
    /// error code, message) from the JSON object on standard error.
    pub fn json_error_at<S: AsRef<OsStr>>(&self, now: &str, args: &[S]) -> (i32, String, String) {
        let out = Out::from(self.run_at(now, &with_json_format(args)));
        let what = describe(args);
        assert_ne!(out.code, 0, "`{what}` should fail, printed {}", out.stdout);
        let error: Value = serde_json::from_str(out.stderr.trim()).unwrap_or_else(|e| {
            panic!(
                "`{what}`: stderr is not one JSON object ({e}): {}",
                out.stderr
            )
        });
        let text = |key: &str| error["error"][key].as_str().unwrap_or_default().to_string();
        (out.code, text("code"), text("message"))
    }

    // ------------------------------------------------------------ reading

    /// `export WHAT` to standard output, as bytes.
    pub fn export(&self, what: &str) -> Vec<u8> {
        let output = self.run(&["export", what]);
        assert_ok(&output, &format!("export {what}"));
        output.stdout
    }

    /// `export history`: the whole log, byte for byte.
    pub fn export_history(&self) -> Vec<u8> {
        self.export("history")
    }

    /// The three exports (history, instances, numbers), to compare a whole
    /// ledger before and after.
    pub fn export_all(&self) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
        (
            self.export("history"),
            self.export("instances"),
            self.export("numbers"),
        )
    }

    /// The log, or `None` while the ledger file does not exist (reading it
    /// must not create it).
    fn history_if_any(&self) -> Option<Vec<u8>> {
        (self.is_pg() || self.db.exists()).then(|| self.export_history())
    }

    /// The log's events (`history --format json`), with optional filters.
    pub fn events(&self, filters: &[&str]) -> Vec<Value> {
        let mut args = vec!["history"];
        args.extend_from_slice(filters);
        match self.json(&args) {
            Value::Array(events) => events,
            other => panic!("history is not an array: {other}"),
        }
    }

    pub fn last_event(&self) -> Value {
        self.events(&[]).pop().expect("at least one event")
    }

    /// Number of events in the log, as `history` lists them.
    pub fn event_count(&self) -> usize {
        self.events(&[]).len()
    }

    /// `verify --format json`: (exit code, report).
    pub fn verify(&self) -> (i32, Value) {
        let out = Out::from(self.run(&["--format", "json", "verify"]));
        let report: Value = serde_json::from_str(out.stdout.trim()).unwrap_or_else(|e| {
            panic!(
                "verify printed no JSON report ({e}): {}{}",
                out.stdout, out.stderr
            )
        });
        (out.code, report)
    }

    /// `verify` exits 0 and reports no problem; returns the event count.
    pub fn verify_ok(&self) -> u64 {
        let (code, report) = self.verify();
        assert_eq!(code, 0, "verify failed: {report}");
        assert_eq!(report["ok"], Value::Bool(true), "verify: {report}");
        assert_eq!(report["first_bad_seq"], Value::Null, "{report}");
        report["events"].as_u64().expect("events")
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

    // ------------------------------------------------------------ writing

    /// `instance add` with the given type, owner and extra flags; region,
    /// billing, months and expiry default to an eligible subscription
    /// (cn-hangzhou, subscription, 12 months, [`EXPIRES`]) unless `extra`
    /// names them.
    pub fn add_instance(&self, id: &str, service_type: &str, account: &str, extra: &[&str]) {
        self.add_instance_at(&self.now(), id, service_type, account, extra);
    }

    /// Same as `add_instance`, at an explicit time.
    pub fn add_instance_at(
        &self,
        now: &str,
        id: &str,
        service_type: &str,
        account: &str,
        extra: &[&str],
    ) {
        self.ok_at(now, &instance_add_args(id, service_type, account, extra));
    }

    /// An eligible ECS instance (public IP, 12 months, mainland: 5 slots).
    pub fn ecs(&self, id: &str, account: &str) {
        self.ecs_at(&self.now(), id, account, EXPIRES, "47.96.10.21");
    }

    /// An ECS instance in cn-hangzhou, subscribed for 12 months, added at
    /// `now` with the given expiry and public IP.
    pub fn ecs_at(&self, now: &str, id: &str, account: &str, expires: &str, public_ip: &str) {
        let extra = ["--expires", expires, "--public-ip", public_ip];
        self.add_instance_at(now, id, "ecs", account, &extra);
    }

    /// `bind NUMBER --service SERVICE --account ACCOUNT`.
    pub fn bind(&self, number: &str, service: &str, account: &str) {
        self.bind_at(&self.now(), number, service, account);
    }

    /// Same as `bind`, at an explicit time.
    pub fn bind_at(&self, now: &str, number: &str, service: &str, account: &str) {
        self.ok_at(
            now,
            &["bind", number, "--service", service, "--account", account],
        );
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

    /// `import instances samples/instances.csv`.
    pub fn import_samples(&self) {
        self.import("instances", &repo_file("samples/instances.csv"));
    }

    /// `import ops samples/ops.csv`.
    pub fn import_sample_ops(&self) {
        self.import("ops", &repo_file("samples/ops.csv"));
    }

    fn import(&self, kind: &str, file: &Path) {
        self.ok(&["import".as_ref(), kind.as_ref(), file.as_os_str()]);
    }

    // ------------------------------------------------------------ raw SQL

    /// The ledger file opened with rusqlite, outside snledger.
    pub fn conn(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(&self.db).expect("open ledger with rusqlite")
    }

    /// Counts rows of a table straight from the file (read only).
    pub fn count(&self, table: &str) -> i64 {
        if self.is_pg() {
            return self.number_of(&format!("SELECT count(*) FROM {table}"));
        }
        count_rows(&self.db, table)
    }

    /// The one integer `sql` answers, on either backend.
    pub fn number_of(&self, sql: &str) -> i64 {
        if self.is_pg() {
            return self.pg_superuser().query_one(sql, &[]).expect(sql).get(0);
        }
        self.conn().query_row(sql, [], |row| row.get(0)).expect(sql)
    }

    /// Runs `sql` on the file outside snledger, with the append-only
    /// triggers dropped for the edit and put back afterwards.
    pub fn tamper(&self, sql: &str) {
        if self.is_pg() {
            // The table owner may switch the append-only triggers off; a
            // forger who knows the schema moves the chain head along.
            let edit = format!(
                "BEGIN; ALTER TABLE events DISABLE TRIGGER USER; {}; ALTER TABLE events ENABLE TRIGGER USER;
                 UPDATE chain_head SET (seq, hash, at) = (SELECT seq, hash, at FROM events ORDER BY seq DESC LIMIT 1)
                 WHERE EXISTS (SELECT 1 FROM events); COMMIT;",
                postgres_dialect(sql)
            );
            self.pg_superuser()
                .batch_execute(&edit)
                .unwrap_or_else(|e| panic!("tamper SQL failed on PostgreSQL: {e:?}\n{sql}"));
            return;
        }
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

    /// One stored event row.
    pub fn event_row(&self, seq: i64) -> EventRow {
        if self.is_pg() {
            let sql = format!("{EVENT_ROW_SELECT} WHERE seq = $1");
            let row = self
                .pg_superuser()
                .query_one(&sql, &[&seq])
                .expect("event row");
            return EventRow::from_pg_row(&row);
        }
        self.conn()
            .query_row(
                &format!("{EVENT_ROW_SELECT} WHERE seq = ?1"),
                [seq],
                EventRow::from_row,
            )
            .unwrap()
    }

    /// Every stored event row, in seq order.
    pub fn event_rows(&self) -> Vec<EventRow> {
        if self.is_pg() {
            let sql = format!("{EVENT_ROW_SELECT} ORDER BY seq");
            let rows = self.pg_superuser().query(&sql, &[]).expect("event rows");
            return rows.iter().map(EventRow::from_pg_row).collect();
        }
        let conn = self.conn();
        let mut statement = conn
            .prepare(&format!("{EVENT_ROW_SELECT} ORDER BY seq"))
            .unwrap();
        let rows = statement.query_map([], EventRow::from_row).unwrap();
        rows.map(|r| r.unwrap()).collect()
    }
}

/// SQLite's `INSERT OR IGNORE` and `INSERT OR REPLACE` of the tamper tests
/// in PostgreSQL's words (one statement a line or `;`-separated; no `;`
/// inside the values).
fn postgres_dialect(sql: &str) -> String {
    use snledger::schema::{INSTANCE_COLUMNS, NUMBER_COLUMNS, REQUEST_COLUMNS, SERVICE_COLUMNS};
    let keys = [
        ("services", "service", SERVICE_COLUMNS),
        ("requests", "request_id", REQUEST_COLUMNS),
        ("instances", "instance_id", INSTANCE_COLUMNS),
        ("numbers", "number", NUMBER_COLUMNS),
    ];
    let statements: Vec<String> = sql
        .split(';')
        .map(|statement| {
            let trimmed = statement.trim();
            if let Some(rest) = trimmed.strip_prefix("INSERT OR IGNORE INTO ") {
                return format!("INSERT INTO {rest} ON CONFLICT DO NOTHING");
            }
            if let Some(rest) = trimmed.strip_prefix("INSERT OR REPLACE INTO ") {
                let table = rest.split([' ', '(']).next().unwrap_or("");
                let (_, key, columns) = keys
                    .iter()
                    .find(|(name, _, _)| *name == table)
                    .unwrap_or_else(|| panic!("no upsert for {table}"));
                let updates: Vec<String> = columns
                    .split(", ")
                    .filter(|column| column != key)
                    .map(|column| format!("{column} = EXCLUDED.{column}"))
                    .collect();
                return format!(
                    "INSERT INTO {rest} ON CONFLICT ({key}) DO UPDATE SET {}",
                    updates.join(", ")
                );
            }
            statement.to_string()
        })
        .collect();
    statements.join(";")
}

/// The binary with no `SNLEDGER_*` variable and no standard input.
fn program() -> Command {
    let mut command = Command::new(bin());
    command
        .env_remove("SNLEDGER_DB")
        .env_remove("SNLEDGER_NOW")
        .env_remove("SNLEDGER_ACTOR")
        .env_remove("SNLEDGER_TZ")
        .env_remove("COLUMNS")
        .env_remove("CLICOLOR_FORCE")
        .stdin(Stdio::null());
    command
}

/// `--format json` followed by `args`.
fn with_json_format<S: AsRef<OsStr>>(args: &[S]) -> Vec<OsString> {
    let mut all: Vec<OsString> = vec!["--format".into(), "json".into()];
    all.extend(args.iter().map(|a| a.as_ref().to_os_string()));
    all
}

fn describe<S: AsRef<OsStr>>(args: &[S]) -> String {
    args.iter()
        .map(|a| a.as_ref().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
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

// ---------------------------------------------------------------- runs and outputs

/// The exit code and output of one run, as text.
#[derive(Debug)]
pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Out {
    fn from(output: Output) -> Self {
        Out {
            code: output.status.code().unwrap_or(-1),
            stdout: stdout(&output),
            stderr: stderr(&output),
        }
    }
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Asserts exit 0.
pub fn assert_ok(output: &Output, what: &str) {
    assert_eq!(
        output.status.code(),
        Some(0),
        "`{what}` failed\nstdout: {}\nstderr: {}",
        stdout(output),
        stderr(output)
    );
}

/// Asserts the exit code and that stderr names `error[CODE]`.
pub fn assert_fails(output: &Output, exit: i32, code: &str, what: &str) {
    let err = stderr(output);
    assert_eq!(
        output.status.code(),
        Some(exit),
        "{what}: exit code; stdout: {} stderr: {err}",
        stdout(output)
    );
    assert!(
        err.contains(&format!("error[{code}]")),
        "{what}: stderr should name error[{code}]: {err}"
    );
    assert!(!err.contains("panicked"), "{what}: panicked: {err}");
}

/// Runs a command, killing it (and failing) if it takes longer than `limit`:
/// a hung ledger must fail, not stall the suite.
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

/// Runs the binary under `sh -c 'umask UMASK; exec ...'`, environment cleaned.
pub fn run_with_umask<S: AsRef<OsStr>>(umask: &str, args: &[S]) -> Output {
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

/// File mode bits (permissions only).
pub fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .expect("metadata")
        .permissions()
        .mode()
        & 0o777
}

/// Lines of stderr that report a failing row (`line N: error[...]`).
pub fn failure_lines(output: &Output) -> Vec<String> {
    stderr(output)
        .lines()
        .filter(|l| l.starts_with("line "))
        .map(String::from)
        .collect()
}

// ---------------------------------------------------------------- JSON

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

/// Seqs of a list of history events.
pub fn seqs(events: &[Value]) -> Vec<i64> {
    events
        .iter()
        .map(|e| e["seq"].as_i64().expect("seq"))
        .collect()
}

/// Kinds of a list of history events.
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

/// The keys of a JSON object, sorted.
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

// ---------------------------------------------------------------- the hash chain

const EVENT_ROW_SELECT: &str =
    "SELECT seq, event_id, at, actor, kind, payload, prev_hash, hash FROM events";

/// One stored event row.
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
    fn from_pg_row(r: &postgres::Row) -> EventRow {
        EventRow {
            seq: r.get(0),
            event_id: r.get(1),
            at: r.get(2),
            actor: r.get(3),
            kind: r.get(4),
            payload: r.get(5),
            prev_hash: r.get(6),
            hash: r.get(7),
        }
    }

    fn from_row(r: &rusqlite::Row) -> rusqlite::Result<EventRow> {
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
    }

    /// The hash this row should have (docs/reference.md "The log and its hash").
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

/// Lowercase hex SHA-256.
pub fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// docs/reference.md "The log and its hash": lowercase hex SHA-256 of
/// `prev_hash \n seq \n event_id \n at \n actor \n kind \n payload`.
pub fn chain_hash(
    prev: &str,
    seq: impl Display,
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

// ---------------------------------------------------------------- CSV

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
    format!("{id},ecs,{account},cn-hangzhou,subscription,12,2027-12-31T16:00:00Z,47.96.113.10,\n")
}

/// A minimal RFC 4180 reader (for checking exports): rows of cells, header
/// included.
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

// ---------------------------------------------------------------- randomness

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
