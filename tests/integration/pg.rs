//! The PostgreSQL mode of the suite: with `SNLEDGER_TEST_PG=postgres://…`
//! (the superuser URL `bash tests/pg.sh start` prints), every `Ledger` is a
//! database of its own, made with `CREATE DATABASE … TEMPLATE` from one
//! database that `snledger init` made, and each `--actor=NAME` logs in as
//! the login role NAME (made on demand, a member of `snledger_writer`), so
//! that actor assertions hold. Every PostgreSQL ledger and every test that
//! is SQLite-only adds a line to the marker file, which `.ci/run` checks.

use std::collections::HashSet;
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

/// The cluster the suite runs against, when it does.
pub struct Cluster {
    /// The socket directory (`host=`) and port of the superuser URL.
    pub socket_dir: String,
    pub port: String,
    template: String,
    roles: Mutex<HashSet<String>>,
}

/// `Some` in PostgreSQL mode.
pub fn cluster() -> Option<&'static Cluster> {
    static CLUSTER: OnceLock<Option<Cluster>> = OnceLock::new();
    CLUSTER
        .get_or_init(|| {
            let url = std::env::var("SNLEDGER_TEST_PG")
                .ok()
                .filter(|url| !url.is_empty())?;
            Some(Cluster::start(&url))
        })
        .as_ref()
}

/// The value of `key=` in a URL's query.
fn query_value(url: &str, key: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    query.split('&').find_map(|pair| {
        let (name, value) = pair.split_once('=')?;
        (name == key).then(|| value.to_string())
    })
}

/// `%XX` for every byte but letters, digits and `-._~`.
pub fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (byte as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// A SQL identifier in double quotes.
pub fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

impl Cluster {
    fn start(url: &str) -> Cluster {
        let socket_dir = query_value(url, "host").expect("SNLEDGER_TEST_PG names host=DIR");
        let port = query_value(url, "port").unwrap_or_else(|| "5432".to_string());
        let template = format!("snl_template_{}", std::process::id());
        let cluster = Cluster {
            socket_dir,
            port,
            template,
            roles: Mutex::new(HashSet::new()),
        };
        cluster.sql("postgres", &format!("CREATE DATABASE {}", cluster.template));
        let init = std::process::Command::new(super::common::bin())
            .arg("--db")
            .arg(cluster.url(&cluster.template, "postgres"))
            .arg("init")
            .env_remove("SNLEDGER_DB")
            .output()
            .expect("run snledger init");
        assert!(
            init.status.success(),
            "snledger init of the template failed: {}",
            String::from_utf8_lossy(&init.stderr)
        );
        cluster
    }

    /// The URL of `database` logged in as `role` over the socket.
    pub fn url(&self, database: &str, role: &str) -> String {
        format!(
            "postgres:///{database}?host={}&port={}&user={}&sslmode=disable",
            self.socket_dir,
            self.port,
            percent_encode(role)
        )
    }

    /// A superuser connection to `database`.
    pub fn superuser(&self, database: &str) -> postgres::Client {
        let mut config = postgres::Config::new();
        config
            .host(&self.socket_dir)
            .port(self.port.parse().expect("port"))
            .user("postgres")
            .dbname(database);
        config
            .connect(postgres::NoTls)
            .expect("connect as the superuser")
    }

    /// Runs SQL as the superuser.
    pub fn sql(&self, database: &str, sql: &str) {
        self.superuser(database)
            .batch_execute(sql)
            .unwrap_or_else(|error| panic!("{sql}: {error:?}"));
    }

    /// A fresh ledger database, copied from the initialised template.
    pub fn new_database(&self) -> String {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let name = format!(
            "snl_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        self.sql(
            "postgres",
            &format!("CREATE DATABASE {name} TEMPLATE {}", self.template),
        );
        mark("ledger");
        name
    }

    pub fn drop_database(&self, name: &str) {
        let _ = self
            .superuser("postgres")
            .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
    }

    /// Makes the login role `name` (a writer) unless it exists.
    pub fn ensure_role(&self, name: &str) {
        let mut roles = self.roles.lock().unwrap();
        if roles.contains(name) || name.is_empty() || name.len() > 63 || name.contains('\0') {
            return;
        }
        let quoted = quote_identifier(name);
        let literal = name.replace('\'', "''");
        let sql = format!(
            "DO $$ BEGIN
               IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{literal}') THEN
                 CREATE ROLE {quoted} LOGIN IN ROLE snledger_writer;
               END IF;
             EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
             END $$"
        );
        if self.superuser("postgres").batch_execute(&sql).is_ok() {
            roles.insert(name.to_string());
        }
    }
}

/// Adds one line to the marker file (`$SNLEDGER_TEST_PG_MARKER`, else
/// `target/pg-suite.marker`).
pub fn mark(line: &str) {
    let path = std::env::var("SNLEDGER_TEST_PG_MARKER").unwrap_or_else(|_| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/target/pg-suite.marker").to_string()
    });
    if let Ok(mut file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    {
        // One write, so that lines of parallel tests never interleave.
        let _ = file.write_all(format!("{line}\n").as_bytes());
    }
}

/// In PostgreSQL mode, notes (in the marker and on standard error) that
/// the calling test pokes the SQLite file and returns true: the test then
/// returns. In SQLite mode it returns false and the test runs.
pub fn skip_sqlite_only(why: &str) -> bool {
    if cluster().is_none() {
        return false;
    }
    let thread = std::thread::current();
    let test = format!("{} ({why})", thread.name().unwrap_or("?"));
    eprintln!("SQLite-only (not run against PostgreSQL): {test}");
    mark(&format!("sqlite-only {test}"));
    true
}

/// Marks a test that pokes the SQLite file (or a SQLite-only behaviour):
/// in PostgreSQL mode it returns at once, counted; never in SQLite mode.
#[macro_export]
macro_rules! sqlite_only {
    () => {
        if $crate::pg::skip_sqlite_only(module_path!()) {
            return;
        }
    };
    ($why:literal) => {
        if $crate::pg::skip_sqlite_only(concat!(module_path!(), ": ", $why)) {
            return;
        }
    };
}
