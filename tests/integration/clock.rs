//! Issue 12: nobody can lock the writers out (docs/guide.md "Global options":
//! `--now`; the time rules). A write dated more than 5 minutes after the
//! system clock is refused (`clock_ahead`, exit 4, nothing written); a write
//! with no time given, when the clock is at most 5 minutes behind the last
//! event, takes the last event's time; an explicit time before the last
//! event is `clock_backwards`. Read commands take any `--now`.

use crate::common::*;
use chrono::{Duration as TimeDelta, SecondsFormat, Utc};
use std::process::Output;
use std::time::Duration;

/// The system clock moved by `minutes`, as snledger stores times.
fn clock_plus_minutes(minutes: i64) -> String {
    (Utc::now() + TimeDelta::minutes(minutes)).to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A ledger whose commands run at the real clock (its `--now` is now).
fn ledger_at_the_clock() -> Ledger {
    let now = clock_plus_minutes(0);
    let ledger = Ledger::with(&now, ACTOR);
    ledger.ecs_at(&now, "i-1", "acme", EXPIRES, "47.96.10.21");
    ledger
}

/// Runs a command with `--db` and `--actor` but no `--now` (the clock).
fn run_without_now(ledger: &Ledger, args: &[&str]) -> Output {
    let mut command = ledger.bare_command();
    command
        .arg("--db")
        .arg(&ledger.db)
        .arg(format!("--actor={}", ledger.actor()))
        .args(args);
    run_bounded(&mut command, Duration::from_secs(60))
}

#[test]
fn a_write_dated_more_than_5_minutes_ahead_is_clock_ahead_and_writes_nothing() {
    let ledger = ledger_at_the_clock();
    let number = ledger.allocate_one("i-1");
    let ahead = clock_plus_minutes(10);
    let writes: [Vec<String>; 5] = [
        vec!["allocate".into(), "i-1".into()],
        instance_add_args("i-2", "ecs", "acme", &["--public-ip", "47.96.10.22"]),
        vec!["grant".into(), number.clone(), "--to".into(), "cust".into()],
        vec![
            "policy".into(),
            "set".into(),
            "ecs".into(),
            "--max".into(),
            "4".into(),
        ],
        vec!["instance".into(), "release".into(), "i-1".into()],
    ];
    for args in &writes {
        let message = ledger.refused_at(&ahead, args, 4, "clock_ahead");
        assert!(message.contains("5 minutes"), "{args:?}: {message}");
    }
    let (exit, code, _) = ledger.json_error_at(&ahead, &["allocate", "i-1"]);
    assert_eq!((exit, code.as_str()), (4, "clock_ahead"));
    assert_eq!(ledger.event_count(), 2, "nothing written");
    assert_eq!(ledger.consumed("i-1"), 1);
}

#[test]
fn a_write_dated_far_ahead_through_the_environment_is_clock_ahead_too() {
    let ledger = ledger_at_the_clock();
    let before = ledger.export_history();
    let mut command = ledger.bare_command();
    command
        .arg("--db")
        .arg(&ledger.db)
        .args(["allocate", "i-1"])
        .env("SNLEDGER_NOW", "9999-12-31T23:59:59Z");
    let output = run_bounded(&mut command, Duration::from_secs(60));
    assert_fails(&output, 4, "clock_ahead", "SNLEDGER_NOW in the future");
    assert_eq!(ledger.export_history(), before, "nothing written");
}

#[test]
fn an_import_dated_far_ahead_is_clock_ahead_and_writes_nothing() {
    let ledger = ledger_at_the_clock();
    let file = ledger.write(
        "ops.csv",
        ops_file(&[ops_row(&[("op", "allocate"), ("instance_id", "i-1")])]),
    );
    let file = file.to_str().unwrap();
    ledger.refused_at(
        &clock_plus_minutes(60),
        &["import", "ops", file],
        4,
        "clock_ahead",
    );
    assert_eq!(ledger.consumed("i-1"), 0);
}

#[test]
fn a_write_up_to_5_minutes_ahead_is_accepted() {
    let ledger = ledger_at_the_clock();
    let soon = clock_plus_minutes(4);
    ledger.ok_at(&soon, &["allocate", "i-1"]);
    assert_eq!(str_field(&ledger.last_event(), "at"), soon);
    ledger.verify_ok();
}

#[test]
fn a_clock_a_little_behind_the_last_event_takes_its_time() {
    let ledger = ledger_at_the_clock();
    // A colleague's clock 3 minutes fast wrote the last event.
    let fast = clock_plus_minutes(3);
    ledger.ok_at(&fast, &["allocate", "i-1"]);
    let output = run_without_now(&ledger, &["allocate", "i-1"]);
    assert_ok(&output, "allocate with the clock behind the last event");
    let events = ledger.events(&[]);
    assert_eq!(events.len(), 3);
    assert_eq!(str_field(&events[2], "at"), fast, "the last event's time");
    assert_eq!(ledger.consumed("i-1"), 2);
    ledger.verify_ok();
}

#[test]
fn an_explicit_time_before_the_last_event_is_clock_backwards() {
    let ledger = ledger_at_the_clock();
    ledger.ok_at(&clock_plus_minutes(3), &["allocate", "i-1"]);
    // Given explicitly, even a minute before the last event is refused.
    let earlier = clock_plus_minutes(1);
    ledger.refused_at(&earlier, &["allocate", "i-1"], 4, "clock_backwards");
    assert_eq!(ledger.consumed("i-1"), 1);
}

#[test]
fn read_commands_take_any_time() {
    let ledger = ledger_at_the_clock();
    let number = ledger.allocate_one("i-1");
    let far = "9999-12-31T23:59:59Z";
    let before = ledger.export_history();
    let reads: [&[&str]; 12] = [
        &["instance", "show", "i-1"],
        &["instance", "list"],
        &["check", "i-1"],
        &["number", "show", &number],
        &["number", "list"],
        &["history"],
        &["verify"],
        &["report", "quota"],
        &["report", "expiring"],
        &["report", "ip-updates"],
        &["policy", "show"],
        &["export", "numbers"],
    ];
    for args in reads {
        ledger.ok_at(far, args);
    }
    // At that time i-1 has long expired.
    let check = ledger.json_at(far, &["check", "i-1"]);
    assert!(
        strings(&check["reasons"]).contains(&"expired".to_string()),
        "{check}"
    );
    assert_eq!(ledger.export_history(), before, "reads write nothing");
}

// ---------------------------------------------------------------- a clock far ahead (SPEC v3 §1.7)

/// Runs `snledger ARGS` under libfaketime with the machine's clock at
/// `clock` (`2036-01-01 00:00:00`), with `--db` and `--actor`, no `--now`.
fn run_under_faketime(ledger: &Ledger, clock: &str, args: &[&str]) -> Output {
    let mut command = std::process::Command::new("faketime");
    command
        .arg(clock)
        .arg(bin())
        .arg("--db")
        .arg(&ledger.db)
        .arg(format!("--actor={}", ledger.actor()))
        .args(args)
        .env_remove("SNLEDGER_NOW")
        .env_remove("SNLEDGER_DB");
    let output = run_bounded(&mut command, Duration::from_secs(60));
    assert!(
        !stderr(&output).contains("faketime: not found"),
        "libfaketime is needed (apt-get install faketime; .ci/run installs it)"
    );
    output
}

/// `import history` of `history` into a new ledger is exit 5 `integrity`
/// naming `fragment`, and leaves no ledger file.
fn assert_import_history_refuses(ledger: &Ledger, history: &[u8], fragment: &str) {
    let file = ledger.write("history-to-import.csv", history);
    let copy = Ledger::new();
    let output = copy.run(&["import".as_ref(), "history".as_ref(), file.as_os_str()]);
    assert_fails(
        &output,
        5,
        "integrity",
        &format!("import history: {fragment}"),
    );
    assert!(stderr(&output).contains(fragment), "{}", stderr(&output));
    assert!(!copy.db.exists(), "a refused import history left a ledger");
}

/// A ledger at the real clock with one instance that outlives 2036, then
/// two allocations by a machine whose clock says 2036 (seqs 2 and 3).
fn ledger_a_clock_ahead_wrote() -> Ledger {
    let ledger = ledger_at_the_clock();
    let now = clock_plus_minutes(0);
    let add = instance_add_args(
        "i-9",
        "ecs",
        "acme",
        &[
            "--public-ip",
            "47.96.10.29",
            "--expires",
            "2040-01-01T00:00:00Z",
        ],
    );
    ledger.ok_at(&now, &add);
    for clock in ["2036-01-01 00:00:00", "2036-01-01 00:10:00"] {
        let output = run_under_faketime(&ledger, clock, &["allocate", "i-9"]);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    }
    ledger
}

#[test]
fn a_clock_far_ahead_is_caught_by_verify_and_locks_writers_out_until_repaired() {
    sqlite_only!("the reference clock is this machine's (libfaketime moves it)");
    let ledger = ledger_a_clock_ahead_wrote();
    let (code, report) = ledger.verify();
    assert_eq!(code, 5, "{report}");
    assert_eq!(report["first_bad_seq"], 3);
    assert!(
        report.to_string().contains("event 3: clock_ahead"),
        "{report}"
    );
    let before = ledger.export_history();
    // A correct writer is refused, told which event and what to run.
    let output = run_without_now(&ledger, &["allocate", "i-9"]);
    assert_fails(
        &output,
        4,
        "clock_backwards",
        "a write after the clock ahead",
    );
    let message = stderr(&output);
    assert!(
        message.contains("(4)") && message.contains("snledger clock repair"),
        "{message}"
    );
    // import history refuses the same log with the same defect.
    assert_import_history_refuses(&ledger, &before, "event 3: clock_ahead");
    // The repair is dated by the reference clock: --now is refused.
    ledger.refused(&["clock", "repair", "--reason", "ntp"], 2, "usage");
    let add = instance_add_args("i-2", "ecs", "acme", &["--expires", "2027-06-30T23:59:60Z"]);
    ledger.refused(&add, 2, "usage");
    assert_eq!(ledger.export_history(), before);
}

#[test]
fn clock_repair_covers_the_events_dated_ahead_and_the_repaired_log_moves_to_another_ledger() {
    sqlite_only!("the reference clock is this machine's (libfaketime moves it)");
    let ledger = ledger_a_clock_ahead_wrote();
    let output = run_without_now(
        &ledger,
        &[
            "--format",
            "json",
            "clock",
            "repair",
            "--reason",
            "build-7 ntp off",
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let repair: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(repair["seq"], 5);
    assert_eq!(
        (repair["first_seq"].clone(), repair["last_seq"].clone()),
        (3.into(), 4.into())
    );
    // libfaketime's clock runs on from where it starts: a loaded machine
    // may date the event a second or two later.
    let claimed = |field: &str| repair[field].as_str().unwrap_or_default().to_string();
    assert!(
        claimed("first_claimed_at").starts_with("2036-01-01T00:00:0"),
        "{repair}"
    );
    assert!(
        claimed("last_claimed_at").starts_with("2036-01-01T00:10:0"),
        "{repair}"
    );
    assert_eq!(ledger.verify_ok(), 5);
    // Writers go on from the repair's time.
    let output = run_without_now(&ledger, &["allocate", "i-9"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(ledger.verify_ok(), 6);
    // A second repair finds nothing ahead.
    let before = ledger.export_history();
    let output = run_without_now(&ledger, &["clock", "repair", "--reason", "again"]);
    assert_fails(
        &output,
        4,
        "nothing_to_repair",
        "a repair with nothing ahead",
    );
    assert_eq!(ledger.export_history(), before);
    // history marks the events the repair covers, and only those.
    let table = stdout(&run_without_now(&ledger, &["history"]));
    let marked: Vec<&str> = table
        .lines()
        .filter(|l| l.contains("repaired by 5"))
        .collect();
    assert_eq!(marked.len(), 2, "{table}");
    assert!(
        marked.iter().all(|l| l.contains("2036-01-01T00:")),
        "{table}"
    );
    // --as-of counts a covered event from the repair's time: all three
    // allocations are there a minute from now (not only after 2036).
    let soon = clock_plus_minutes(1);
    let shown = ledger.json_at(&soon, &["instance", "show", "i-9", "--as-of", &soon]);
    assert_eq!(shown["quota"]["consumed"], 3, "{shown}");
    // export history | import history - : the repaired log moves.
    let copy = Ledger::new();
    let mut import = copy.command();
    import
        .args(["import", "history", "-"])
        .stdin(std::process::Stdio::piped());
    let output = run_with_stdin(&mut import, &before);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(copy.export_history(), before);
    copy.verify_ok();
}

/// Runs `command` with `input` on its standard input.
fn run_with_stdin(command: &mut std::process::Command, input: &[u8]) -> Output {
    use std::io::Write;
    let mut child = command
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn snledger");
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().expect("wait")
}

#[test]
fn verify_re_decides_a_repair_and_refuses_one_that_leaves_an_event_ahead() {
    sqlite_only!("the reference clock is this machine's (libfaketime moves it)");
    let ledger = ledger_a_clock_ahead_wrote();
    let output = run_without_now(&ledger, &["clock", "repair", "--reason", "ntp"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    // A forger narrows the repair to event 4 only (and reseals it).
    let conn = ledger.conn();
    let (event_id, at, actor, payload, prev): (String, String, String, String, String) = conn
        .query_row(
            "SELECT event_id, at, actor, payload, prev_hash FROM events WHERE seq = 5",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .unwrap();
    drop(conn);
    let narrowed = payload
        .replace("\"first_seq\":3", "\"first_seq\":4")
        .replace(
            "\"first_claimed_at\":\"2036-01-01T00:00:00Z\"",
            "\"first_claimed_at\":\"2036-01-01T00:10:00Z\"",
        );
    assert_ne!(narrowed, payload);
    let hash = chain_hash(
        &prev,
        5,
        &event_id,
        &at,
        &actor,
        "clock_repaired",
        &narrowed,
    );
    ledger.tamper(&format!(
        "UPDATE events SET payload = '{narrowed}', hash = '{hash}' WHERE seq = 5"
    ));
    let (code, report) = ledger.verify();
    assert_eq!(code, 5, "{report}");
    assert_eq!(report["first_bad_seq"], 3, "{report}");
    let text = report.to_string();
    assert!(text.contains("event 3: clock_ahead"), "{text}");
    assert!(
        text.contains("event 5: clock_repaired") && text.contains("too late"),
        "{text}"
    );
}

#[test]
fn import_history_refuses_an_event_dated_9999() {
    sqlite_only!("the reference clock is this machine's (libfaketime moves it)");
    let ledger = ledger_at_the_clock();
    let output = run_under_faketime(
        &ledger,
        "9999-06-01 00:00:00",
        &["policy", "set", "ecs", "--max", "4"],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let history = ledger.export_history();
    assert_import_history_refuses(&ledger, &history, "event 2: clock_ahead: dated 9999-06-01");
}

#[test]
fn a_leap_second_is_a_usage_error() {
    let ledger = ledger_at_the_clock();
    let before = ledger.export_history();
    for time in ["2026-12-31T23:59:60Z", "2026-12-31 23:59:60"] {
        let message = ledger.refused_at(time, &["instance", "list"], 2, "usage");
        assert!(message.contains("second 60"), "{message}");
        let message = ledger.refused_at(time, &["allocate", "i-1"], 2, "usage");
        assert!(message.contains("second 60"), "{message}");
    }
    let add = instance_add_args("i-2", "ecs", "acme", &["--expires", "2027-06-30T23:59:60Z"]);
    ledger.refused(&add, 2, "usage");
    assert_eq!(ledger.export_history(), before);
}

/// A clock 7 minutes ahead after an event 4 minutes ahead (within the
/// skew): the repair the rules allow would be dated at the earlier event
/// and so cover nothing. `clock repair` says so (`nothing_to_repair`),
/// never builds a repair its own audit refuses (attack finding).
#[test]
fn clock_repair_never_writes_a_repair_that_verify_refuses() {
    sqlite_only!("the reference clock is this machine's (libfaketime moves it)");
    let ledger = Ledger::with(&clock_plus_minutes(4), ACTOR);
    ledger.ecs_at(
        &clock_plus_minutes(4),
        "i-1",
        "acme",
        EXPIRES,
        "47.96.10.21",
    );
    let mut command = std::process::Command::new("faketime");
    command
        .args(["-f", "+7m"])
        .arg(bin())
        .arg("--db")
        .arg(&ledger.db)
        .arg(format!("--actor={}", ledger.actor()))
        .args(["allocate", "i-1"]);
    let output = run_bounded(&mut command, Duration::from_secs(60));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let before = ledger.export_history();
    let output = run_without_now(&ledger, &["clock", "repair", "--reason", "x"]);
    assert_fails(
        &output,
        4,
        "nothing_to_repair",
        "a repair that would cover nothing",
    );
    assert!(
        stderr(&output).contains("writes go on once"),
        "{}",
        stderr(&output)
    );
    assert_eq!(ledger.export_history(), before);
}
