//! `--as-of` of the lists, reports and exports, answered from the past
//! versions on either backend (ARCHITECTURE.md "--as-of: how a past state is answered"): on
//! random histories (the model's, one command a minute) the answer at every
//! seq equals the live
//! answer of a ledger that imported the log up to that seq (a full replay
//! that re-decides every event); a ledger upgraded with history gets the
//! past versions of its early events; `verify` checks the past versions
//! like the other derived tables.

use crate::common::*;
use crate::forgery::history_csv;
use crate::model::{minutes_after_now, one_command_a_minute, op_strategy, Op};
use proptest::prelude::*;
use proptest::test_runner::Config as ProptestConfig;

/// Every read of a whole table that takes `--as-of`.
const READS: [&[&str]; 13] = [
    &["--format", "json", "instance", "list"],
    &["--format", "json", "instance", "list", "--account", "acme"],
    &["--format", "json", "number", "list"],
    &["--format", "json", "service", "list"],
    &["--format", "json", "report", "quota"],
    &["--format", "json", "report", "accounts"],
    &["--format", "json", "report", "expiring", "--within", "400"],
    &["--format", "json", "report", "ip-updates"],
    &["--format", "json", "policy", "show"],
    &["--format", "json", "region", "list"],
    &["--format", "json", "check", "--account", "acme"],
    &["export", "instances"],
    &["export", "numbers"],
];

/// What `args` answers (exit code and output) on `ledger`.
fn answer(ledger: &Ledger, now: &str, args: &[&str]) -> (Option<i32>, String) {
    let output = ledger.run_at(now, args);
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

/// The state after each event of `ledger`, rebuilt by importing the log
/// up to it, against `--as-of` that event's time.
fn check_every_seq(ledger: &Ledger) {
    let rows = ledger.event_rows();
    let later = minutes_after_now(10_000);
    for seq in 1..=rows.len() {
        let at = &rows[seq - 1].at;
        let replayed = Ledger::new();
        let log = replayed.write("log.csv", history_csv(&rows[..seq]));
        replayed.ok(&["import".as_ref(), "history".as_ref(), log.as_os_str()]);
        for read in READS {
            let past = [read, &["--as-of", at.as_str()][..]].concat();
            assert_eq!(
                answer(ledger, &later, &past),
                answer(&replayed, at, read),
                "{read:?} --as-of {at} (seq {seq} of {})",
                rows.len()
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 5, ..ProptestConfig::default() })]

    #[test]
    fn as_of_at_every_seq_equals_a_full_replay_to_it(
        ops in proptest::collection::vec(op_strategy(), 1..12)
    ) {
        let ops: Vec<Op> = ops;
        check_every_seq(&one_command_a_minute(&ops));
    }
}

/// Every kind that replaces a row (renewals, moves, renames, releases, a
/// policy and a region changed, a service re-created under its old name)
/// at every seq.
#[test]
fn as_of_at_every_seq_of_a_varied_history_equals_a_full_replay() {
    let l = crate::past::varied_ledger().0;
    check_every_seq(&l);
}

/// The same history imported in one transaction (`import history`), where
/// one row is written by several events before anything reaches the
/// storage (PostgreSQL buffers them): every version is kept all the same.
#[test]
fn as_of_after_one_import_of_the_whole_history_equals_a_full_replay() {
    let l = crate::past::varied_ledger().0;
    let imported = Ledger::with(&l.now(), ACTOR);
    let log = imported.write("log.csv", history_csv(&l.event_rows()));
    imported.ok(&["import".as_ref(), "history".as_ref(), log.as_os_str()]);
    assert_eq!(imported.count("instances_past"), l.count("instances_past"));
    assert_eq!(imported.count("numbers_past"), l.count("numbers_past"));
    assert_eq!(imported.count("services_past"), l.count("services_past"));
    check_every_seq(&imported);
    imported.verify_ok();
}

/// A ledger as schema version 3 left it (no past versions), with history:
/// the upgrade replays those events once and stores the past versions they
/// made (migration 10), so `--as-of` any moment reads stored versions, and
/// every seq still equals the full replay.
#[test]
fn a_ledger_upgraded_with_history_gets_the_past_versions_of_its_history() {
    let history = |l: &Ledger| {
        l.ecs("i-1", "acme");
        l.set_now(&minutes_after_now(2));
        let numbers = l.allocate("i-1", 2);
        l.set_now(&minutes_after_now(3));
        l.bind(&numbers[0], "shop.example.cn", "acme");
        numbers
    };
    let kept_all_along = Ledger::with(&minutes_after_now(1), ACTOR);
    history(&kept_all_along);
    let l = Ledger::with(&minutes_after_now(1), ACTOR);
    let numbers = history(&l);
    l.forget_past_versions();
    l.upgrade();
    for table in ["policy", "instances", "numbers", "services", "regions"] {
        let versions = format!("SELECT count(*) FROM {table}_past");
        assert_eq!(
            l.number_of(&versions),
            kept_all_along.number_of(&versions),
            "{table}"
        );
    }
    assert!(l.count("numbers_past") >= 1, "the number before its bind");
    l.set_now(&minutes_after_now(4));
    l.ok(&["grant", &numbers[1], "--to", "cust-9"]);
    l.set_now(&minutes_after_now(5));
    l.ok(&["deregister", &numbers[0], "--reason", "closed"]);
    l.set_now(&minutes_after_now(6));
    l.allocate("i-1", 1);
    assert!(
        l.count("instances_past") >= 2,
        "the instance before each allocation"
    );
    check_every_seq(&l);
    l.verify_ok();
}

/// A log the rules would not write (an event that does not read, a
/// request id used twice) does not stop the upgrade that replays it: the
/// ledger stays open to the commands that audit and export it, and
/// `verify` names the event (exit 5).
#[test]
fn an_upgrade_passes_over_a_forged_event_and_verify_names_it() {
    let forgeries = [
        (
            "UPDATE events SET payload = 'not json' WHERE seq = 3",
            "event 3",
        ),
        (
            "UPDATE events SET payload = replace(payload, '\"r-2\"', '\"r-1\"') WHERE seq = 3",
            "event 3",
        ),
    ];
    for (forgery, named) in forgeries {
        let l = Ledger::with(&minutes_after_now(1), ACTOR);
        l.ecs("i-1", "acme");
        l.ok(&["allocate", "i-1", "--request-id", "r-1"]);
        l.ok(&["allocate", "i-1", "--request-id", "r-2"]);
        l.forget_past_versions();
        l.tamper(forgery);
        let output = l.try_upgrade();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{forgery}: {stderr}");
        assert_eq!(
            l.number_of("SELECT count(*) FROM instances_past WHERE superseded_seq = 2"),
            1,
            "{forgery}"
        );
        let (exit, report) = l.verify();
        assert_eq!(exit, 5, "{forgery}: {report}");
        assert!(
            report["problems"].to_string().contains(named),
            "{forgery}: {report}"
        );
        l.ok(&["export", "history"]);
    }
}

/// A ledger whose past versions were edited, deleted, added to or cut
/// short (the seq they are kept from raised): verify exit 5 naming the
/// table, and verify changes nothing.
#[test]
fn verify_finds_every_edit_of_the_past_versions() {
    let edits = [
        ("UPDATE instances_past SET consumed = consumed + 1 WHERE superseded_seq = (SELECT min(superseded_seq) FROM instances_past)", "instances_past"),
        ("DELETE FROM numbers_past WHERE superseded_seq = (SELECT max(superseded_seq) FROM numbers_past)", "numbers_past"),
        ("INSERT INTO services_past SELECT service, number, host, commercial, ip_update_required, service_key, updated_seq, 99 FROM services", "services_past"),
        ("UPDATE policy_past SET max_numbers = 9", "policy_past"),
        ("UPDATE regions_past SET mainland = 0", "regions_past"),
        ("UPDATE services_past SET service_key = 'other'", "services_past"),
    ];
    for (edit, named) in edits {
        let copy = crate::past::varied_ledger().0;
        assert_eq!(copy.verify_ok(), 18);
        copy.tamper(edit);
        let before = copy.export_all();
        let (exit, report) = copy.verify();
        assert_eq!(exit, 5, "{edit}: {report}");
        assert_eq!(report["ok"], false, "{edit}: {report}");
        assert!(
            report["problems"].to_string().contains(named),
            "{edit}: {report}"
        );
        assert_eq!(copy.export_all(), before, "{edit}: verify wrote nothing");
    }
}

/// A read `--as-of` answers from the stored past versions, not from a
/// replay (on PostgreSQL through the views of migration 5): an edit of a
/// past row shows in the answer for a moment it was current, and not in
/// the present.
#[test]
fn as_of_reads_the_stored_past_versions() {
    let l = crate::past::varied_ledger().0;
    let first = l.event_rows()[0].at.clone();
    let before = answer(
        &l,
        &l.now(),
        &["--format", "json", "instance", "list", "--as-of", &first],
    );
    assert!(before.1.contains("\"i-a\""), "{}", before.1);
    l.tamper("UPDATE instances_past SET account = 'forged' WHERE instance_id = 'i-a' AND updated_seq = 1");
    let after = answer(
        &l,
        &l.now(),
        &["--format", "json", "instance", "list", "--as-of", &first],
    );
    assert_eq!(after.0, Some(0));
    assert!(after.1.contains("\"forged\""), "{}", after.1);
    let present = answer(&l, &l.now(), &["--format", "json", "instance", "list"]);
    assert!(!present.1.contains("forged"), "{}", present.1);
}
