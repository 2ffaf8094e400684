//! Issue 12: nobody can lock the writers out (README "Global options":
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
