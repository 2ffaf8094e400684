//! PostgreSQL only (SPEC §4): run when `SNLEDGER_TEST_PG` is set, and
//! `.ci/run` sets it. Races of many processes, a killed import, the roles'
//! privileges, the actor, connection failures, TLS, moving a ledger across
//! backends, tampering seen by verify. Each test first asserts it runs in
//! PostgreSQL mode through `pg_ledger`, which counts it in the marker.

use crate::common::*;
use crate::pg::{cluster, mark, percent_encode, quote_identifier};
use std::process::{Command, Output};
use std::time::Duration;

/// A fresh PostgreSQL ledger, or `None` in SQLite mode (the module is then
/// not run: counted in no marker; `.ci/run` runs the PostgreSQL pass).
fn pg_ledger() -> Option<Ledger> {
    cluster()?;
    mark(&format!(
        "postgres-test {}",
        std::thread::current().name().unwrap_or("?")
    ));
    Some(Ledger::with(CSV_NOW, CSV_ACTOR))
}

macro_rules! pg_only {
    () => {
        match pg_ledger() {
            Some(ledger) => ledger,
            None => return,
        }
    };
}

/// The ledger's database name (from its URL).
fn database_of(ledger: &Ledger) -> String {
    let url = ledger.db.to_string_lossy().to_string();
    let path = url.split_once(":///").expect("socket URL").1;
    path.split('?').next().unwrap().to_string()
}

/// The binary on `--db url` at the ledger's time, with extra arguments.
fn run_on(ledger: &Ledger, url: &str, args: &[&str]) -> Output {
    let mut command = ledger.bare_command();
    command
        .arg("--db")
        .arg(url)
        .arg(format!("--now={}", ledger.now()));
    command.args(args);
    run_bounded(&mut command, Duration::from_secs(120))
}

/// An ECS instance whose type allows `slots` numbers.
fn instance_with_slots(ledger: &Ledger, id: &str, slots: usize) {
    ledger.ok(&["policy", "set", "ecs", "--max", &slots.to_string()]);
    ledger.ecs(id, "acme");
}

/// `processes` processes each running `allocations` single allocations on
/// one instance: (successes, quota_exhausted refusals).
fn race(ledger: &Ledger, instance: &str, processes: usize, allocations: usize) -> (usize, usize) {
    let outcomes: Vec<(usize, usize)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..processes)
            .map(|_| {
                scope.spawn(|| {
                    let (mut done, mut exhausted) = (0, 0);
                    for _ in 0..allocations {
                        let output = ledger.run(&["allocate", instance, "--count", "1"]);
                        match output.status.code() {
                            Some(0) => done += 1,
                            Some(4) if stderr(&output).contains("error[quota_exhausted]") => {
                                exhausted += 1
                            }
                            _ => panic!("unexpected outcome: {}", stderr(&output)),
                        }
                    }
                    (done, exhausted)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    outcomes.iter().fold((0, 0), |(a, b), (done, exhausted)| {
        (a + done, b + exhausted)
    })
}

#[test]
fn sixteen_processes_racing_for_fifty_slots_get_exactly_fifty() {
    let ledger = pg_only!();
    instance_with_slots(&ledger, "i-race", 50);
    let (done, exhausted) = race(&ledger, "i-race", 16, 30);
    assert_eq!(done, 50, "exactly the 50 slots were allocated");
    assert_eq!(
        exhausted,
        16 * 30 - 50,
        "every other allocation was quota_exhausted"
    );
    assert_eq!(ledger.count("numbers"), 50);
    assert_eq!(ledger.consumed("i-race"), 50);
    // policy set + instance add + 50 allocations, one chain.
    assert_eq!(ledger.verify_ok(), 52);
}

#[test]
fn serialization_failures_are_retried_on_a_stricter_database() {
    let ledger = pg_only!();
    // Under repeatable read, a writer that waited for the chain head gets
    // SQLSTATE 40001 and must run its command again.
    let database = database_of(&ledger);
    cluster().unwrap().sql(
        "postgres",
        &format!("ALTER DATABASE {database} SET default_transaction_isolation = 'repeatable read'"),
    );
    instance_with_slots(&ledger, "i-strict", 20);
    let (done, exhausted) = race(&ledger, "i-strict", 6, 6);
    assert_eq!((done, exhausted), (20, 16));
    assert_eq!(ledger.verify_ok(), 22);
}

#[test]
fn a_mixed_race_of_grants_binds_and_allocations_keeps_one_chain() {
    let ledger = pg_only!();
    instance_with_slots(&ledger, "i-mixed", 12);
    let numbers = ledger.allocate("i-mixed", 6);
    let results: Vec<(String, i32)> = std::thread::scope(|scope| {
        let mut handles = Vec::new();
        for (index, number) in numbers.iter().enumerate() {
            // Two processes bind each of the first three numbers; for each
            // of the last three one grants it away while another binds it:
            // one of each pair wins.
            for attempt in 0..2 {
                let ledger = &ledger;
                handles.push(scope.spawn(move || {
                    let args: Vec<String> = if index < 3 || attempt == 1 {
                        let service = format!("www{index}-{attempt}.example.com");
                        ["bind", number, "--service", &service, "--account", "acme"]
                            .map(String::from)
                            .to_vec()
                    } else {
                        let to = format!("team{attempt}");
                        ["grant", number, "--to", &to].map(String::from).to_vec()
                    };
                    let output = ledger.run(&args);
                    (args[0].clone(), output.status.code().unwrap_or(-1))
                }));
            }
        }
        for _ in 0..4 {
            let ledger = &ledger;
            handles.push(scope.spawn(move || {
                let output = ledger.run(&["allocate", "i-mixed", "--count", "2"]);
                ("allocate".to_string(), output.status.code().unwrap_or(-1))
            }));
        }
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let wins = |kind: &str| {
        results
            .iter()
            .filter(|(what, code)| what == kind && *code == 0)
            .count()
    };
    assert_eq!(
        wins("bind") + wins("grant"),
        6,
        "one winner a number: {results:?}"
    );
    assert_eq!(wins("allocate"), 3, "6 slots left, 2 each: {results:?}");
    for (_, code) in &results {
        assert!(
            [0, 4].contains(code),
            "only successes and refusals: {results:?}"
        );
    }
    assert_eq!(ledger.count("numbers"), 12);
    assert_eq!(ledger.verify_ok(), 2 + 1 + 3 + 3 + 3);
}

#[test]
fn a_killed_import_leaves_all_or_nothing() {
    let ledger = pg_only!();
    let rows: Vec<String> = (0..40_000)
        .map(|n| ecs_row(&format!("i-bulk-{n:06}"), "acme"))
        .collect();
    let csv = format!("{INSTANCES_HEADER}\n{}\n", rows.join("\n"));
    let file = ledger.write("bulk.csv", csv);
    for delay_ms in [150_u64, 400, 900] {
        let mut child = ledger
            .command()
            .args(["import", "instances"])
            .arg(&file)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn import");
        std::thread::sleep(Duration::from_millis(delay_ms));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        let instances = ledger.count("instances");
        assert!(
            instances == 0 || instances == 40_000,
            "after a kill at {delay_ms} ms: {instances} instances"
        );
        ledger.verify_ok();
        if instances == 40_000 {
            break;
        }
    }
}

/// A login role of `group` connecting over the socket.
fn login_role(name: &str, group: &str) {
    let sql = format!(
        "DO $$ BEGIN CREATE ROLE {} LOGIN IN ROLE {group}; EXCEPTION WHEN duplicate_object THEN NULL; END $$",
        quote_identifier(name)
    );
    cluster().unwrap().sql("postgres", &sql);
}

fn connect_as(ledger: &Ledger, role: &str) -> postgres::Client {
    let cluster = cluster().unwrap();
    let mut config = postgres::Config::new();
    config
        .host(&cluster.socket_dir)
        .port(cluster.port.parse().unwrap())
        .user(role)
        .dbname(&database_of(ledger));
    config.connect(postgres::NoTls).expect("connect")
}

#[test]
fn a_writer_cannot_update_delete_or_truncate_events() {
    let ledger = pg_only!();
    ledger.ecs("i-1", "acme");
    ledger.allocate("i-1", 2);
    let before = ledger.export_history();
    let mut writer = connect_as(&ledger, CSV_ACTOR);
    for sql in [
        "UPDATE events SET actor = 'someone else' WHERE seq = 1",
        "DELETE FROM events WHERE seq = 2",
        "TRUNCATE events",
    ] {
        let error = writer.batch_execute(sql).expect_err(sql);
        let db = error.as_db_error().expect("the server's error");
        assert_eq!(db.code().code(), "42501", "{sql}: {db:?}");
        assert!(
            db.message().contains("permission denied"),
            "{sql}: {}",
            db.message()
        );
    }
    // Even the owner, privileges aside, meets the triggers.
    let mut owner = ledger.pg_superuser();
    let error = owner
        .batch_execute("DELETE FROM events WHERE seq = 2")
        .unwrap_err();
    assert!(format!("{error:?}").contains("append-only"), "{error:?}");
    let error = owner.batch_execute("TRUNCATE events").unwrap_err();
    assert!(format!("{error:?}").contains("append-only"), "{error:?}");
    assert_eq!(ledger.export_history(), before, "the ledger is unchanged");
    ledger.verify_ok();
}

#[test]
fn a_reader_can_read_but_not_write() {
    let ledger = pg_only!();
    ledger.ecs("i-1", "acme");
    login_role("snl_test_reader", "snledger_reader");
    let before = ledger.export_history();
    let as_reader = ledger.db_for("snl_test_reader");
    let url = as_reader.to_str().unwrap();
    let output = run_on(&ledger, url, &["instance", "show", "i-1"]);
    assert_ok(&output, "a reader reads");
    let output = run_on(&ledger, url, &["allocate", "i-1", "--count", "1"]);
    assert_fails(&output, 6, "storage", "a reader allocates");
    assert!(
        stderr(&output).contains("permission denied"),
        "{}",
        stderr(&output)
    );
    let mut reader = connect_as(&ledger, "snl_test_reader");
    let error = reader
        .batch_execute("INSERT INTO event_subjects (subject, seq) VALUES ('x', 1)")
        .unwrap_err();
    assert_eq!(error.code().unwrap().code(), "42501");
    assert_eq!(ledger.export_history(), before);
}

#[test]
fn the_actor_is_the_login_role_and_cannot_be_spoofed() {
    let ledger = pg_only!();
    ledger.ecs("i-1", "acme");
    assert_eq!(ledger.last_event()["actor"], CSV_ACTOR);
    let before = ledger.export_history();
    let url = ledger.db_for(CSV_ACTOR);
    let mut spoofed = ledger.bare_command();
    spoofed
        .arg("--db")
        .arg(&url)
        .arg(format!("--now={}", ledger.now()))
        .args(["--actor", "alice", "allocate", "i-1"]);
    let output = run_bounded(&mut spoofed, Duration::from_secs(60));
    assert_fails(&output, 2, "actor_not_session_user", "--actor alice");
    assert!(stderr(&output).contains("alice") && stderr(&output).contains(CSV_ACTOR));
    let mut by_variable = ledger.bare_command();
    by_variable
        .arg("--db")
        .arg(&url)
        .arg(format!("--now={}", ledger.now()))
        .env("SNLEDGER_ACTOR", "alice")
        .args(["allocate", "i-1"]);
    let output = run_bounded(&mut by_variable, Duration::from_secs(60));
    assert_fails(&output, 2, "actor_not_session_user", "SNLEDGER_ACTOR=alice");
    assert_eq!(ledger.export_history(), before);
    // Without --actor the login role is the actor, whatever $USER says.
    let mut plain = ledger.bare_command();
    plain
        .arg("--db")
        .arg(&url)
        .arg(format!("--now={}", ledger.now()))
        .env("USER", "somebody")
        .args(["allocate", "i-1"]);
    assert_ok(
        &run_bounded(&mut plain, Duration::from_secs(60)),
        "allocate",
    );
    assert_eq!(ledger.last_event()["actor"], CSV_ACTOR);
}

#[test]
fn the_event_time_is_the_server_clock_unless_given() {
    let ledger = pg_only!();
    let url = ledger.db_for(CSV_ACTOR);
    let mut command = ledger.bare_command();
    command
        .arg("--db")
        .arg(&url)
        .arg(format!("--actor={CSV_ACTOR}"))
        .args(instance_add_args("i-clock", "ecs", "acme", &[]));
    assert_ok(
        &run_bounded(&mut command, Duration::from_secs(60)),
        "instance add",
    );
    let at = ledger.last_event()["at"].as_str().unwrap().to_string();
    let server: String = ledger
        .pg_superuser()
        .query_one(
            "SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')",
            &[],
        )
        .unwrap()
        .get(0);
    assert!(
        at <= server && at[..15] == server[..15],
        "{at} vs the server's {server}"
    );
    // --now more than five minutes after the server's clock: clock_ahead.
    ledger.refused_at(
        "2999-01-01T00:00:00Z",
        &["allocate", "i-clock"],
        4,
        "clock_ahead",
    );
}

#[test]
fn a_server_that_is_down_is_exit_6_naming_the_host() {
    let ledger = pg_only!();
    let output = run_on(
        &ledger,
        "postgres://tester@127.0.0.1:1/ledger?sslmode=disable",
        &["instance", "list"],
    );
    assert_fails(&output, 6, "storage", "no server");
    assert!(
        stderr(&output).contains("127.0.0.1:1"),
        "{}",
        stderr(&output)
    );
    let output = run_on(&ledger, "postgres://tester@127.0.0.1:1/ledger", &["init"]);
    assert_fails(&output, 6, "storage", "init without a server");
}

/// A role that logs in over TCP with a password.
fn password_role(name: &str, password: &str) {
    let sql = format!(
        "DO $$ BEGIN CREATE ROLE {name} LOGIN PASSWORD '{password}' IN ROLE snledger_writer; EXCEPTION WHEN duplicate_object THEN NULL; END $$"
    );
    cluster().unwrap().sql("postgres", &sql);
}

fn tcp_url(ledger: &Ledger, user_info: &str, query: &str) -> String {
    let cluster = cluster().unwrap();
    format!(
        "postgres://{user_info}@localhost:{}/{}?{query}",
        cluster.port,
        database_of(ledger)
    )
}

#[test]
fn a_wrong_password_is_exit_6_and_never_printed() {
    let ledger = pg_only!();
    password_role("snl_pw_user", "right-horse-battery");
    let secret = "wrong-Secret-4711";
    let url = tcp_url(&ledger, &format!("snl_pw_user:{secret}"), "sslmode=disable");
    let output = run_on(&ledger, &url, &["--actor=snl_pw_user", "instance", "list"]);
    assert_fails(&output, 6, "storage", "wrong password");
    let all = format!("{}{}", stderr(&output), stdout(&output));
    assert!(!all.contains(secret), "the password was printed: {all}");
    assert!(all.contains("localhost"), "{all}");
    // From $PGPASSWORD: the same, and the right one logs in.
    let url = tcp_url(&ledger, "snl_pw_user", "sslmode=disable");
    let mut command = ledger.bare_command();
    command
        .arg("--db")
        .arg(&url)
        .env("PGPASSWORD", secret)
        .arg("instance")
        .arg("list");
    let output = run_bounded(&mut command, Duration::from_secs(60));
    assert_fails(&output, 6, "storage", "wrong $PGPASSWORD");
    assert!(!stderr(&output).contains(secret));
    let mut command = ledger.bare_command();
    command
        .arg("--db")
        .arg(&url)
        .env("PGPASSWORD", "right-horse-battery")
        .arg(format!("--now={}", ledger.now()))
        .args(instance_add_args("i-pw", "ecs", "acme", &[]));
    assert_ok(
        &run_bounded(&mut command, Duration::from_secs(60)),
        "right password",
    );
    assert_eq!(ledger.last_event()["actor"], "snl_pw_user");
    // init shows the URL without the password.
    let url = tcp_url(
        &ledger,
        "snl_pw_user:right-horse-battery",
        "sslmode=disable",
    );
    let output = run_on(&ledger, &url, &["init"]);
    assert_ok(&output, "init");
    assert!(
        !stdout(&output).contains("right-horse-battery"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn tls_verify_full_with_a_self_signed_ca() {
    let ledger = pg_only!();
    password_role("snl_tls_user", "tls-pass");
    let ca = format!("{}/ca.crt", cluster().unwrap().socket_dir);
    let query = format!("sslmode=verify-full&sslrootcert={}", percent_encode(&ca));
    let url = tcp_url(&ledger, "snl_tls_user:tls-pass", &query);
    let add = instance_add_args("i-tls", "ecs", "acme", &[]);
    let add: Vec<&str> = add.iter().map(String::as_str).collect();
    let output = run_on(&ledger, &url, &add);
    assert_ok(&output, "verify-full");
    let require = tcp_url(&ledger, "snl_tls_user:tls-pass", "sslmode=require");
    assert_ok(
        &run_on(&ledger, &require, &["instance", "show", "i-tls"]),
        "require",
    );
    // pg.sh lets this role in over TLS only: without TLS it is refused.
    let plain = tcp_url(&ledger, "snl_tls_user:tls-pass", "sslmode=disable");
    let output = run_on(&ledger, &plain, &["instance", "list"]);
    assert_fails(&output, 6, "storage", "sslmode=disable for a TLS-only role");
    // Another CA: the certificate is refused, exit 6.
    let other = ledger.path("other-ca.crt");
    let key = ledger.path("other-ca.key");
    let made = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=other",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&other)
        .output()
        .expect("openssl");
    assert!(made.status.success());
    let query = format!(
        "sslmode=verify-full&sslrootcert={}",
        percent_encode(other.to_str().unwrap())
    );
    let output = run_on(
        &ledger,
        &tcp_url(&ledger, "snl_tls_user:tls-pass", &query),
        &["instance", "list"],
    );
    assert_fails(&output, 6, "storage", "a certificate from another CA");
    assert!(!stderr(&output).contains("tls-pass"));
    // verify-ca checks the chain only.
    let query = format!("sslmode=verify-ca&sslrootcert={}", percent_encode(&ca));
    let chain_only = tcp_url(&ledger, "snl_tls_user:tls-pass", &query);
    assert_ok(
        &run_on(&ledger, &chain_only, &["instance", "list"]),
        "verify-ca",
    );
}

#[test]
fn a_ledger_moves_sqlite_to_postgresql_to_sqlite_byte_identical() {
    let ledger = pg_only!();
    // A SQLite ledger beside it, with the samples and some commands.
    let file = ledger.path("source.db");
    let sqlite = |args: &[&str]| {
        let mut command = ledger.bare_command();
        command
            .arg("--db")
            .arg(&file)
            .arg(format!("--now={CSV_NOW}"))
            .arg(format!("--actor={CSV_ACTOR}"))
            .args(args);
        let output = run_bounded(&mut command, Duration::from_secs(120));
        assert_ok(&output, &args.join(" "));
        output.stdout
    };
    sqlite(&[
        "import",
        "instances",
        repo_file("samples/instances.csv").to_str().unwrap(),
    ]);
    sqlite(&[
        "import",
        "ops",
        repo_file("samples/ops.csv").to_str().unwrap(),
    ]);
    let history = sqlite(&["export", "history"]);
    let export = ledger.write("history.csv", &history);
    ledger.ok(&["import", "history", export.to_str().unwrap()]);
    assert_eq!(ledger.export_history(), history, "SQLite → PostgreSQL");
    for what in ["instances", "numbers"] {
        assert_eq!(
            ledger.export(what),
            sqlite(&["export", what]),
            "export {what}"
        );
    }
    ledger.verify_ok();
    // And back, through a pipe.
    let back = ledger.path("back.db");
    let mut export = ledger
        .command()
        .args(["export", "history"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut import = ledger.bare_command();
    import
        .arg("--db")
        .arg(&back)
        .arg(format!("--now={CSV_NOW}"))
        .arg(format!("--actor={CSV_ACTOR}"))
        .args(["import", "history", "-"])
        .stdin(export.stdout.take().unwrap());
    assert_ok(&import.output().unwrap(), "import history - into SQLite");
    assert!(export.wait().unwrap().success());
    let mut again = ledger.bare_command();
    again.arg("--db").arg(&back).args(["export", "history"]);
    assert_eq!(
        again.output().unwrap().stdout,
        history,
        "PostgreSQL → SQLite"
    );
}

#[test]
fn verify_catches_a_tampered_event_and_an_altered_schema() {
    let ledger = pg_only!();
    ledger.ecs("i-1", "acme");
    ledger.allocate("i-1", 2);
    ledger.verify_ok();
    ledger.tamper(
        "UPDATE events SET payload = replace(payload, '\"acme\"', '\"evil\"') WHERE seq = 2",
    );
    let (code, report) = ledger.verify();
    assert_eq!(code, 5, "{report}");
    assert_eq!(report["first_bad_seq"], 2, "{report}");
    let ledger = pg_only!();
    ledger.ecs("i-1", "acme");
    let mut owner = ledger.pg_superuser();
    owner
        .batch_execute("CREATE INDEX sneaky ON instances (account)")
        .unwrap();
    owner
        .batch_execute("ALTER TABLE events DISABLE TRIGGER events_no_update")
        .unwrap();
    let (code, report) = ledger.verify();
    assert_eq!(code, 5, "{report}");
    let text = report.to_string();
    assert!(text.contains("sneaky"), "{text}");
    assert!(text.contains("events_no_update"), "{text}");
}

#[test]
fn without_the_schema_commands_name_init_and_a_newer_schema_is_exit_6() {
    let ledger = pg_only!();
    let cluster = cluster().unwrap();
    let empty = format!("snl_empty_{}", std::process::id());
    cluster.sql("postgres", &format!("DROP DATABASE IF EXISTS {empty}"));
    cluster.sql("postgres", &format!("CREATE DATABASE {empty}"));
    let url = cluster.url(&empty, "postgres");
    for args in [&["instance", "list"][..], &["allocate", "i-1"][..]] {
        let output = run_on(&ledger, &url, args);
        assert_fails(&output, 3, "not_found", "no schema");
        assert!(
            stderr(&output).contains("snledger init"),
            "{}",
            stderr(&output)
        );
    }
    let output = run_on(&ledger, &url, &["init"]);
    assert_ok(&output, "init");
    let roles: i64 = cluster
        .superuser(&empty)
        .query_one(
            "SELECT count(*) FROM pg_roles WHERE rolname IN ('snledger_writer', 'snledger_reader')",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(roles, 2);
    assert_ok(&run_on(&ledger, &url, &["init"]), "init again");
    cluster.sql(&empty, "UPDATE snledger_schema SET version = 99");
    let output = run_on(&ledger, &url, &["instance", "list"]);
    assert_fails(&output, 6, "storage", "newer schema");
    assert!(stderr(&output).contains("99"));
    cluster.drop_database(&empty);
}

/// SPEC v3 §4 "The catalog check is complete": what psql in the owner's
/// hands can add that changes what the tables do, each named by `verify`.
#[test]
fn verify_names_triggers_fired_otherwise_rules_row_security_policies_and_owners() {
    if pg_ledger().is_none() {
        return;
    }
    let cluster = cluster().expect("PostgreSQL mode");
    cluster.ensure_role("snledger_other_owner");
    let cases = [
        (
            "ALTER TABLE events ENABLE ALWAYS TRIGGER events_no_update",
            "trigger events_no_update on events is not as",
        ),
        (
            "ALTER TABLE events ENABLE REPLICA TRIGGER events_no_delete",
            "trigger events_no_delete on events is not as",
        ),
        (
            "CREATE RULE sneaky_rule AS ON INSERT TO numbers DO ALSO NOTIFY sneaky",
            "rule sneaky_rule on numbers that snledger does not create",
        ),
        (
            "ALTER TABLE numbers ENABLE ROW LEVEL SECURITY",
            "table numbers is not as",
        ),
        (
            "ALTER TABLE numbers FORCE ROW LEVEL SECURITY",
            "table numbers is not as",
        ),
        (
            "CREATE POLICY hide_tail ON events USING (seq < 2)",
            "policy hide_tail on events that snledger does not create",
        ),
        (
            "ALTER TABLE services OWNER TO snledger_other_owner",
            "table services is not as",
        ),
    ];
    for (sql, named) in cases {
        let ledger = pg_ledger().expect("PostgreSQL mode");
        ledger.ecs("i-1", "acme");
        ledger.allocate("i-1", 2);
        let before = ledger.export_history();
        ledger.pg_superuser().batch_execute(sql).unwrap();
        let (code, report) = ledger.verify();
        assert_eq!(code, 5, "{sql}: {report}");
        assert!(report.to_string().contains(named), "{sql}: {report}");
        assert_eq!(ledger.export_history(), before, "{sql}");
    }
}

/// The log's last event as `client`'s session reads it: seq, hash, at.
fn head_of(client: &mut postgres::Client) -> (i64, String, String) {
    let head = client
        .query_one(
            "SELECT seq, hash, at FROM events ORDER BY seq DESC LIMIT 1",
            &[],
        )
        .unwrap();
    (head.get(0), head.get(1), head.get(2))
}

/// A well-sealed `instance_released` event of i-1 as psql would insert it
/// (seq, prev_hash, time and actor as given): the SQL and its hash.
fn released_event(seq: i64, prev: &str, at: &str, actor: &str) -> (String, String) {
    let event_id = "5d0c1c9e-8a47-4c61-9a43-3f1d2a0c7b11";
    let payload = r#"{"instance_id":"i-1","account":"acme"}"#;
    let hash = chain_hash(prev, seq, event_id, at, actor, "instance_released", payload);
    let sql = format!(
        "INSERT INTO events (seq, event_id, at, actor, kind, payload, prev_hash, hash) VALUES \
         ({seq}, '{event_id}', '{at}', '{actor}', 'instance_released', '{payload}', '{prev}', '{hash}')"
    );
    (sql, hash)
}

/// Each statement is refused by the database with a message holding its
/// text, and `unchanged(sql)` (which asserts the ledger is as it was) holds
/// after each.
fn assert_refused_by_database<'a>(
    client: &mut postgres::Client,
    cases: impl IntoIterator<Item = (String, &'a str)>,
    unchanged: impl Fn(&str),
) {
    for (sql, named) in cases {
        let error = client.batch_execute(&sql).expect_err(&sql);
        let message = error
            .as_db_error()
            .map_or(error.to_string(), |db| db.message().to_string());
        assert!(message.contains(named), "{sql}: {message}");
        unchanged(&sql);
    }
}

/// SPEC v3 §4 "The database enforces what it can": a member of
/// snledger_writer with psql cannot append an event in a colleague's name,
/// out of the chain, dated before the head or far ahead of the server's
/// clock, nor move the chain head; the ledger is unchanged each time.
#[test]
fn a_writer_with_psql_cannot_forge_an_event_or_move_the_chain_head() {
    let ledger = pg_only!();
    ledger.ecs("i-1", "acme");
    ledger.allocate("i-1", 2);
    let before = ledger.export_history();
    let mut writer = connect_as(&ledger, CSV_ACTOR);
    let (seq, hash, at) = head_of(&mut writer);
    let insert =
        |seq: i64, at: &str, actor: &str, prev: &str| released_event(seq, prev, at, actor).0;
    let cases = [
        (insert(seq + 1, &at, "bob", &hash), "names actor bob"),
        (insert(seq + 2, &at, CSV_ACTOR, &hash), "does not follow"),
        (insert(seq + 1, &at, CSV_ACTOR, GENESIS), "does not link"),
        (
            insert(seq + 1, "2000-01-01T00:00:00Z", CSV_ACTOR, &hash),
            "before event",
        ),
        (
            insert(seq + 1, "2036-01-01T00:00:00Z", CSV_ACTOR, &hash),
            "more than 5 minutes",
        ),
        (
            "UPDATE chain_head SET seq = seq - 1".to_string(),
            "chain head may only",
        ),
        (
            format!("UPDATE chain_head SET seq = {}", seq + 1),
            "chain head may only",
        ),
    ];
    assert_refused_by_database(&mut writer, cases, |sql| {
        assert_eq!(ledger.export_history(), before, "{sql}");
    });
    ledger.verify_ok();
    // The program's own writes, and the owner's import history, still pass.
    ledger.allocate("i-1", 1);
    ledger.verify_ok();
}

/// SPEC v3 §4: a derived row changes only in a transaction that appended
/// the event it derives from, with that event's seq (migration 9). psql in
/// a writer's hands cannot reset an instance's consumed slots to allocate
/// past its quota, remove a number, or add a request, past version or
/// index row; what the database cannot judge (is the row what the event
/// derives?) `verify` does, exit 5.
#[test]
fn a_writer_with_psql_cannot_change_derived_rows_without_their_event() {
    let ledger = pg_only!();
    ledger.ecs("i-1", "acme");
    ledger.allocate("i-1", 5);
    let before = ledger.export_all();
    let mut writer = connect_as(&ledger, CSV_ACTOR);
    let (seq, hash, at) = head_of(&mut writer);
    let not_appended = "not an event this transaction appended";
    let cases = [
        ("UPDATE instances SET consumed = 0".to_string(), not_appended),
        (format!("UPDATE instances SET consumed = 0, updated_seq = {seq}"), not_appended),
        ("DELETE FROM numbers".to_string(), "appended no event"),
        (
            format!(
                "INSERT INTO requests VALUES ('RQ-forged', 'i-1', 'acme', 1, '[]', '[\"SN-X\"]', {seq})"
            ),
            not_appended,
        ),
        (
            format!(
                "INSERT INTO instances_past SELECT 'i-ghost', service_type, account, region, \
                 billing, subscription_months, expires_at, public_ip, order_amount_fen, state, \
                 0, updated_seq, {seq} FROM instances"
            ),
            not_appended,
        ),
        (format!("INSERT INTO event_subjects VALUES ('i:i-9', {seq})"), not_appended),
    ];
    assert_refused_by_database(&mut writer, cases, |sql| {
        assert_eq!(ledger.export_all(), before, "{sql}");
    });
    ledger.verify_ok();
    ledger.refused(&["allocate", "i-1"], 4, "quota_exhausted");

    // With a well-chained event of its own in the same transaction the
    // database lets the row change; verify then finds the row is not what
    // the log derives.
    let next = seq + 1;
    let (insert, forged) = released_event(next, &hash, &at, CSV_ACTOR);
    writer
        .batch_execute(&format!(
            "BEGIN; {insert}; \
             UPDATE chain_head SET seq = {next}, hash = '{forged}', at = '{at}'; \
             UPDATE instances SET consumed = 0, updated_seq = {next}; \
             COMMIT;"
        ))
        .expect("a transaction with its event passes the database");
    let (code, report) = ledger.verify();
    assert_eq!(code, 5, "{report}");
    assert!(report.to_string().contains("instances"), "{report}");
}

/// SPEC v3 §4: `import history`, the one path that writes other roles'
/// events, is open only to the ledger's owner (migration 8). A member of
/// snledger_writer cannot give an empty ledger a history in a colleague's
/// name or dated ahead of the server's clock, neither with psql nor with
/// `snledger import history` (exit 5, the ledger still empty).
#[test]
fn a_writer_cannot_fill_an_empty_ledger_with_other_roles_events() {
    let source = pg_only!();
    source.ecs("i-1", "acme");
    source.allocate("i-1", 2);
    let history = source.export_history();
    let ledger = source.sibling("empty");
    let empty = ledger.export_history();
    cluster().unwrap().ensure_role("alice-h28");
    let mut writer = connect_as(&ledger, "alice-h28");
    let insert = |at: &str, actor: &str| released_event(1, GENESIS, at, actor).0;
    let cases = [
        (insert(CSV_NOW, "bob"), "names actor bob"),
        (
            insert("2036-01-01T00:00:00Z", "alice-h28"),
            "more than 5 minutes",
        ),
    ];
    assert_refused_by_database(&mut writer, cases, |sql| {
        assert_eq!(ledger.export_history(), empty, "{sql}");
    });
    // snledger as that writer: the database refuses, exit 5, nothing written.
    let file = ledger.write("history.csv", &history);
    let mut import = ledger.bare_command();
    import
        .arg("--db")
        .arg(ledger.db_for("alice-h28"))
        .arg(format!("--now={}", ledger.now()))
        .args(["--actor", "alice-h28", "import", "history"])
        .arg(&file);
    let output = run_bounded(&mut import, Duration::from_secs(60));
    assert_fails(&output, 5, "integrity", "a writer's import history");
    assert!(
        stderr(&output).contains(&format!("names actor {CSV_ACTOR}")),
        "{}",
        stderr(&output)
    );
    assert_eq!(ledger.export_history(), empty);
}

/// SPEC v3 §4 "The catalog check is complete": a reader from whom a
/// row-level security policy hides the log's tail sees fewer events than
/// the chain head says; `digest` and `verify` exit 5 instead of printing
/// the old head as if it were the whole log.
#[test]
fn digest_and_verify_refuse_a_log_a_policy_hides_from_the_reader() {
    let ledger = pg_only!();
    ledger.ecs("i-1", "acme");
    ledger.allocate("i-1", 2);
    login_role("snl_test_reader", "snledger_reader");
    let before = ledger.export_history();
    ledger
        .pg_superuser()
        .batch_execute(
            "ALTER TABLE events ENABLE ROW LEVEL SECURITY; \
             CREATE POLICY hide_tail ON events FOR SELECT TO snledger_reader USING (seq < 2)",
        )
        .unwrap();
    let as_reader = ledger.db_for("snl_test_reader");
    let url = as_reader.to_str().unwrap();
    for command in [&["digest"][..], &["verify"][..]] {
        let output = run_on(&ledger, url, command);
        assert_fails(&output, 5, "integrity", &format!("{command:?} by a reader"));
        // digest names the chain head; verify reports it among its problems.
        assert!(
            command == ["verify"] || stderr(&output).contains("chain head says seq"),
            "{command:?}: {}",
            stderr(&output)
        );
    }
    // Unchanged: with the policy and row-level security gone, the whole log.
    ledger
        .pg_superuser()
        .batch_execute(
            "DROP POLICY hide_tail ON events; ALTER TABLE events DISABLE ROW LEVEL SECURITY",
        )
        .unwrap();
    assert_eq!(ledger.export_history(), before);
    ledger.verify_ok();
}
