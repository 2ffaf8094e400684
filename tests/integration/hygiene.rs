//! File hygiene (docs/guide.md "Global options", docs/reference.md "Choices where the spec
//! is silent"): a read never creates a ledger; `export -o` writes through a
//! fresh temporary file; a path that is not a regular file is refused before
//! SQLite writes beside it; environment variables that are not UTF-8 are
//! errors; CSV header messages are bounded and escape control characters.

use crate::common::*;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The names in a directory, sorted.
fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("read_dir")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}

/// The `.partial` files in a directory.
fn partial_files(dir: &Path) -> Vec<String> {
    entries(dir)
        .into_iter()
        .filter(|name| name.ends_with(".partial"))
        .collect()
}

/// Every read command, with and without `--as-of` where it takes one.
const READS: &[&[&str]] = &[
    &["verify"],
    &["history"],
    &["history", "--kind", "allocated"],
    &["export", "history"],
    &["export", "instances"],
    &["export", "numbers", "--as-of", NOW],
    &["export", "history", "-o", "out.csv"],
    &["instance", "show", "i-1"],
    &["instance", "show", "i-1", "--as-of", NOW],
    &["instance", "list"],
    &["instance", "list", "--as-of", NOW],
    &["number", "show", "SN-0001"],
    &["number", "list"],
    &["number", "list", "--as-of", NOW],
    &["service", "show", "www.example.com"],
    &["service", "list"],
    &["service", "list", "--as-of", NOW],
    &["report", "quota"],
    &["report", "quota", "--as-of", NOW],
    &["report", "expiring"],
    &["report", "ip-updates"],
    &["check", "i-1"],
    &["policy", "show"],
    &["policy", "show", "--as-of", NOW],
];

#[test]
fn a_read_command_on_a_missing_ledger_exits_3_and_creates_nothing() {
    let ledger = Ledger::new();
    for args in READS {
        for format in ["table", "json"] {
            let output = run_bounded(
                ledger
                    .command_without_db()
                    .args(["--db", "typo.db", "--format", format])
                    .args(*args),
                Duration::from_secs(60),
            );
            let what = format!("--db typo.db --format {format} {}", args.join(" "));
            assert_eq!(output.status.code(), Some(3), "{what}: {}", stderr(&output));
            let err = stderr(&output);
            let named = if format == "json" {
                err.contains(r#""code":"not_found""#)
            } else {
                err.contains("error[not_found]")
            };
            assert!(named, "{what}: not_found expected: {err}");
            assert!(
                err.contains("no ledger at typo.db") && err.contains("snledger init"),
                "{what}: the message names the path and `snledger init`: {err}"
            );
            assert!(
                output.stdout.is_empty(),
                "{what}: printed {}",
                stdout(&output)
            );
            assert_eq!(
                entries(ledger.dir.path()),
                Vec::<String>::new(),
                "{what}: created a file"
            );
        }
    }
}

#[test]
fn a_read_of_the_default_ledger_creates_no_snledger_db() {
    let ledger = Ledger::new();
    let output = run_bounded(
        ledger.command_without_db().args(["instance", "list"]),
        Duration::from_secs(60),
    );
    assert_fails(&output, 3, "not_found", "instance list without --db");
    assert!(stderr(&output).contains("no ledger at snledger.db"));
    assert_eq!(entries(ledger.dir.path()), Vec::<String>::new());
}

#[test]
fn a_read_of_an_empty_file_is_no_ledger_and_leaves_it_empty() {
    sqlite_only!("SQLite files");
    let ledger = Ledger::new();
    std::fs::write(&ledger.db, b"").unwrap();
    for args in [
        &["verify"][..],
        &["instance", "list"],
        &["export", "history"],
    ] {
        let output = ledger.run(args);
        assert_fails(&output, 3, "not_found", &args.join(" "));
        assert!(
            stderr(&output).contains("snledger init"),
            "{}",
            stderr(&output)
        );
        assert_eq!(std::fs::metadata(&ledger.db).unwrap().len(), 0);
        assert_eq!(entries(ledger.dir.path()), ["ledger.db"]);
    }
    // A write fills it as before.
    ledger.ok(&["init"]);
    assert_eq!(ledger.verify_ok(), 0);
}

#[test]
fn a_read_through_a_dangling_link_is_no_ledger_and_creates_nothing() {
    sqlite_only!("SQLite files");
    let ledger = Ledger::new();
    std::os::unix::fs::symlink("nowhere.db", &ledger.db).unwrap();
    let output = ledger.run(&["history"]);
    assert_fails(&output, 3, "not_found", "history through a dangling link");
    assert_eq!(entries(ledger.dir.path()), ["ledger.db"]);
    assert!(!ledger.path("nowhere.db").exists());
}

#[test]
fn write_commands_still_create_the_ledger_on_first_use() {
    sqlite_only!("SQLite files");
    let cases = ["init", "instance add", "import history"];
    for what in cases {
        let ledger = Ledger::new();
        let history = ledger.write("h.csv", format!("{HISTORY_HEADER}\n"));
        let args: Vec<String> = match what {
            "init" => vec!["init".into()],
            "instance add" => {
                instance_add_args("i-1", "ecs", "acme", &["--public-ip", "47.96.10.21"])
            }
            _ => vec![
                "import".into(),
                "history".into(),
                history.to_str().unwrap().into(),
            ],
        };
        assert!(!ledger.db.exists());
        ledger.ok(&args);
        assert!(ledger.db.is_file(), "{what} did not create the ledger");
        ledger.verify_ok();
    }
}

/// SPEC v3 §3: a failed command and any `--dry-run` leave no ledger file
/// where there was none (nor its -wal, -shm or -journal).
#[test]
fn a_refused_command_or_a_dry_run_creates_no_ledger() {
    sqlite_only!("SQLite files");
    let ledger = Ledger::new();
    let instances = ledger.write(
        "in.csv",
        format!("{INSTANCES_HEADER}\n{}", ecs_row("i-1", "acme")),
    );
    let bad = ledger.write("bad.csv", format!("{INSTANCES_HEADER}\ni-1,ecs\n"));
    let history = ledger.write("h.csv", format!("{HISTORY_HEADER}\n"));
    let path = |p: &Path| p.to_str().unwrap().to_string();
    let cases: [(&[&str], i32, &str); 6] = [
        (&["import", "instances", "missing.csv"], 3, "not_found"),
        (&["import", "instances", &path(&bad)], 2, "usage"),
        (&["allocate", "i-1"], 3, "not_found"),
        (&["grant", "SN-1", "--to", "b"], 3, "not_found"),
        (
            &["import", "instances", &path(&instances), "--dry-run"],
            0,
            "",
        ),
        (&["import", "history", &path(&history), "--dry-run"], 0, ""),
    ];
    let before = entries(ledger.dir.path());
    for (args, exit, code) in cases {
        let output = ledger.run(args);
        if exit == 0 {
            assert_eq!(
                output.status.code(),
                Some(0),
                "{args:?}: {}",
                stderr(&output)
            );
        } else {
            assert_fails(&output, exit, code, &args.join(" "));
        }
        assert_eq!(entries(ledger.dir.path()), before, "{args:?} left a file");
    }
    // A failed command on an existing ledger keeps it.
    ledger.ok(&["init"]);
    ledger.refused(&["allocate", "i-1"], 3, "not_found");
    assert!(ledger.db.is_file());
    ledger.verify_ok();
}

// ---------------------------------------------------------------- export -o

/// Runs `export history -o out.csv` and returns (exit code, the child's pid).
fn export_with_pid(ledger: &Ledger) -> (i32, u32) {
    let child = ledger
        .command()
        .args(["export", "history", "-o"])
        .arg(ledger.path("out.csv"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn snledger");
    let pid = child.id();
    let output = child.wait_with_output().expect("wait");
    assert!(!stderr(&output).contains("panicked"), "{}", stderr(&output));
    (output.status.code().unwrap_or(-1), pid)
}

#[test]
fn a_stale_temporary_file_of_the_old_pattern_does_not_block_an_export() {
    let ledger = Ledger::new();
    ledger.ecs("i-1", "acme");
    let expected = ledger.export_history();
    // The old name was `.out.csv.<pid>.partial`: leave one for every pid the
    // export may get (pids are handed out in order), until one is hit.
    for _attempt in 0..5 {
        let probe = Command::new("true").spawn().expect("spawn true");
        let first = probe.id();
        let _ = probe.wait_with_output();
        let stale: Vec<u32> = (first..first + 3000).collect();
        for pid in &stale {
            ledger.write(&format!(".out.csv.{pid}.partial"), "stale\n");
        }
        let (code, pid) = export_with_pid(&ledger);
        assert_eq!(code, 0, "the export failed beside stale temporary files");
        assert_eq!(std::fs::read(ledger.path("out.csv")).unwrap(), expected);
        assert_eq!(
            partial_files(ledger.dir.path()).len(),
            stale.len(),
            "the export left a temporary file of its own"
        );
        let hit = stale.contains(&pid);
        for pid in &stale {
            let path = ledger.path(&format!(".out.csv.{pid}.partial"));
            assert_eq!(std::fs::read(&path).unwrap(), b"stale\n");
            std::fs::remove_file(path).unwrap();
        }
        if hit {
            return;
        }
    }
    panic!("no export ran with a pid that had a stale file: pids moved too fast");
}

#[test]
fn a_failed_export_removes_its_temporary_file_and_keeps_the_old_target() {
    let ledger = Ledger::new();
    ledger.ecs("i-1", "acme");
    let target = ledger.write("out.csv", "the previous export\n");
    // Fails after the temporary file exists: on SQLite --as-of reads the
    // past versions, where a row that does not read back fails; on
    // PostgreSQL it replays the log, which cannot read the payload.
    ledger.tamper("UPDATE events SET payload = 'not json' WHERE seq = 1");
    ledger.tamper("UPDATE instances SET billing = 'bogus' WHERE instance_id = 'i-1'");
    let output = ledger.run(&[
        OsStr::new("export"),
        OsStr::new("instances"),
        OsStr::new("--as-of"),
        OsStr::new(NOW),
        OsStr::new("-o"),
        target.as_os_str(),
    ]);
    let code = output.status.code();
    assert!(
        matches!(code, Some(5 | 6)),
        "exit {code:?}: {}",
        stderr(&output)
    );
    assert!(!stderr(&output).contains("panicked"));
    assert_eq!(std::fs::read(&target).unwrap(), b"the previous export\n");
    assert_eq!(partial_files(ledger.dir.path()), Vec::<String>::new());
}

#[test]
fn a_killed_export_leaves_at_most_one_temporary_file_and_never_a_partial_target() {
    let ledger = Ledger::new();
    let mut rows = format!("{INSTANCES_HEADER}\n");
    for i in 0..10_000 {
        rows.push_str(&ecs_row(&format!("i-{i:05}"), "acme"));
    }
    let file = ledger.write("in.csv", rows);
    ledger.ok(&[
        OsStr::new("import"),
        OsStr::new("instances"),
        file.as_os_str(),
    ]);
    let complete = ledger.export_history();
    let target = ledger.path("out.csv");
    for _attempt in 0..5 {
        let mut child = ledger
            .command()
            .args(["export", "history", "-o"])
            .arg(&target)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn snledger");
        let start = Instant::now();
        while partial_files(ledger.dir.path()).is_empty()
            && child.try_wait().expect("try_wait").is_none()
            && start.elapsed() < Duration::from_secs(60)
        {
            std::thread::sleep(Duration::from_millis(1));
        }
        child.kill().ok(); // SIGKILL
        child.wait().expect("wait");
        let partials = partial_files(ledger.dir.path());
        if target.exists() {
            // The export completed before the kill: whole, nothing left.
            assert_eq!(std::fs::read(&target).unwrap(), complete);
            assert_eq!(partials, Vec::<String>::new());
            std::fs::remove_file(&target).unwrap();
            continue;
        }
        assert_eq!(partials.len(), 1, "{partials:?}");
        let name = &partials[0];
        assert!(name.starts_with(".out.csv.") && name.len() > ".out.csv..partial".len());
        assert_eq!(mode(&ledger.path(name)), 0o600);
        // The next export is not blocked by it.
        ledger.ok(&[
            OsStr::new("export"),
            OsStr::new("history"),
            OsStr::new("-o"),
            target.as_os_str(),
        ]);
        assert_eq!(std::fs::read(&target).unwrap(), complete);
        assert_eq!(&partial_files(ledger.dir.path()), &partials);
        return;
    }
    panic!("every export finished before it could be killed");
}

// ---------------------------------------------------------------- output targets

/// What a directory entry is and holds, read without following it: kind,
/// inode, mode, and for a symbolic link where it points.
fn entry_state(path: &Path) -> (String, u64, u32, Option<PathBuf>) {
    use std::os::unix::fs::MetadataExt;
    let metadata = std::fs::symlink_metadata(path).expect("the target is gone");
    let link = std::fs::read_link(path).ok();
    (
        format!("{:?}", metadata.file_type()),
        metadata.ino(),
        metadata.mode(),
        link,
    )
}

/// Every kind of target that is not a regular file, made in the ledger's
/// directory (device nodes with mknod there, never in the real /dev).
fn odd_targets(ledger: &Ledger) -> Vec<(&'static str, PathBuf)> {
    let pointee = ledger.write("pointee.csv", "the pointee\n");
    let symlink = ledger.path("link.csv");
    std::os::unix::fs::symlink(&pointee, &symlink).unwrap();
    let dangling = ledger.path("dangling.csv");
    std::os::unix::fs::symlink(ledger.path("nowhere.csv"), &dangling).unwrap();
    let fifo = ledger.path("fifo.csv");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let socket = ledger.path("socket.csv");
    let listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    std::mem::forget(listener); // the socket file stays for the test
    let directory = ledger.path("dir.csv");
    std::fs::create_dir(&directory).unwrap();
    let mut targets = vec![
        ("a symbolic link", symlink),
        ("a symbolic link", dangling),
        ("a FIFO", fifo),
        ("a socket", socket),
        ("a directory", directory),
    ];
    for (kind, letter, name) in [
        ("a character device", "c", "null.csv"),
        ("a block device", "b", "block.csv"),
    ] {
        let node = ledger.path(name);
        let made = Command::new("mknod")
            .arg(&node)
            .args([letter, "1", "3"])
            .status()
            .expect("mknod");
        assert!(made.success(), "mknod needs root (CI runs as root)");
        targets.push((kind, node));
    }
    targets
}

#[test]
fn export_and_emit_ops_write_only_a_new_or_regular_file_and_leave_anything_else_as_it_was() {
    let ledger = Ledger::new();
    ledger.ok(&[
        "import",
        "instances",
        repo_file("samples/instances.csv").to_str().unwrap(),
    ]);
    let provider = repo_file("samples/provider/in-sync.csv");
    let before = ledger.export_history();
    for (kind, target) in odd_targets(&ledger) {
        let state = entry_state(&target);
        let target = target.to_str().unwrap();
        let commands: [Vec<&str>; 3] = [
            vec!["export", "instances", "-o", target],
            vec!["export", "history", "-o", target],
            vec![
                "reconcile",
                provider.to_str().unwrap(),
                "--emit-ops",
                target,
            ],
        ];
        for args in commands {
            let output = run_bounded(ledger.command().args(&args), Duration::from_secs(30));
            let what = args.join(" ");
            assert_fails(&output, 2, "usage", &what);
            assert!(
                stderr(&output).contains(kind),
                "{what}: {}",
                stderr(&output)
            );
            assert_eq!(entry_state(Path::new(target)), state, "{what} changed it");
            assert_eq!(partial_files(ledger.dir.path()), Vec::<String>::new());
        }
    }
    // Nor the files SQLite keeps beside the ledger, existing or not.
    if !ledger.is_pg() {
        for suffix in ["-journal", "-wal", "-shm"] {
            let beside = format!("{}{suffix}", ledger.db.display());
            let existed = Path::new(&beside).exists();
            ledger.refused(&["export", "instances", "-o", &beside], 2, "usage");
            assert_eq!(Path::new(&beside).exists(), existed, "{beside}");
        }
    }
    // "-" and a path ending in "/" are not file paths (no file named "-",
    // no "Not a directory" storage error): usage, nothing written.
    for target in ["-", "missing-dir/", "fresh/"] {
        let mut commands = vec![vec![
            "reconcile",
            provider.to_str().unwrap(),
            "--emit-ops",
            target,
        ]];
        if target != "-" {
            commands.push(vec!["export", "instances", "-o", target]);
        }
        for args in commands {
            let output = run_bounded(
                ledger.command().current_dir(ledger.dir.path()).args(&args),
                Duration::from_secs(30),
            );
            assert_fails(&output, 2, "usage", &args.join(" "));
            let left = ledger.path(target.trim_end_matches('/'));
            assert!(
                !left.exists(),
                "{}: left {}",
                args.join(" "),
                left.display()
            );
        }
    }
    assert_eq!(
        std::fs::read(ledger.path("pointee.csv")).unwrap(),
        b"the pointee\n"
    );
    assert!(!ledger.path("nowhere.csv").exists());
    assert_eq!(ledger.export_history(), before);
    // A regular file and a new path are still written.
    let regular = ledger.write("regular.csv", "old\n");
    ledger.ok(&["export", "instances", "-o", regular.to_str().unwrap()]);
    assert!(std::fs::read_to_string(&regular)
        .unwrap()
        .starts_with("instance_id,"));
    let fresh = ledger.path("fresh.csv");
    let args = [
        "reconcile",
        provider.to_str().unwrap(),
        "--emit-ops",
        fresh.to_str().unwrap(),
    ];
    let output = ledger.run(&args);
    assert!(
        output.status.code().is_some_and(|code| code <= 1),
        "{}",
        stderr(&output)
    );
    assert!(std::fs::read_to_string(&fresh).unwrap().starts_with("op,"));
}

// ---------------------------------------------------------------- not a regular file

fn assert_not_a_regular_file(ledger: &Ledger, db: &Path, args: &[&str]) {
    let output = run_bounded(
        ledger.command_without_db().arg("--db").arg(db).args(args),
        Duration::from_secs(30),
    );
    let what = format!("--db {} {}", db.display(), args.join(" "));
    assert_fails(&output, 6, "storage", &what);
    assert!(
        stderr(&output).contains("is not a regular file"),
        "{what}: {}",
        stderr(&output)
    );
}

#[test]
fn dev_null_a_fifo_and_a_directory_are_refused_and_nothing_is_created_beside_them() {
    let ledger = Ledger::new();
    let fifo = ledger.path("pipe");
    let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(made.success());
    let directory = ledger.path("dir");
    std::fs::create_dir(&directory).unwrap();
    for args in [
        &["init"][..],
        &["verify"],
        &["instance", "list"],
        &["history"],
    ] {
        assert_not_a_regular_file(&ledger, &fifo, args);
        assert_not_a_regular_file(&ledger, &directory, args);
        assert_eq!(entries(ledger.dir.path()), ["dir", "pipe"], "{args:?}");
        assert_eq!(entries(&directory), Vec::<String>::new(), "{args:?}");
    }
    let dev_null = Path::new("/dev/null");
    let beside = ["-journal", "-wal", "-shm"].map(|suffix| format!("/dev/null{suffix}"));
    let before: Vec<bool> = beside.iter().map(|p| Path::new(p).exists()).collect();
    for args in [&["init"][..], &["verify"], &["instance", "list"]] {
        assert_not_a_regular_file(&ledger, dev_null, args);
    }
    let after: Vec<bool> = beside.iter().map(|p| Path::new(p).exists()).collect();
    assert_eq!(before, after, "a file appeared beside /dev/null");
    let output = run_bounded(
        ledger
            .command_without_db()
            .args(["--db", "/dev/null", "--format", "json", "init"]),
        Duration::from_secs(30),
    );
    assert_eq!(output.status.code(), Some(6));
    assert!(
        stderr(&output).contains(r#""code":"storage""#),
        "{}",
        stderr(&output)
    );
}

// ---------------------------------------------------------------- environment

/// A value that is not UTF-8.
fn not_utf8(prefix: &str) -> &'static OsStr {
    let mut bytes = prefix.as_bytes().to_vec();
    bytes.extend_from_slice(b"\xff.db");
    OsStr::from_bytes(Box::leak(bytes.into_boxed_slice()))
}

#[test]
fn a_variable_that_is_not_utf8_is_a_usage_error_naming_it() {
    sqlite_only!("SQLite files");
    let ledger = Ledger::new();
    ledger.ok(&["init"]);
    let before = ledger.export_history();
    let add = instance_add_args("i-env", "ecs", "acme", &["--public-ip", "47.96.10.21"]);
    // SNLEDGER_DB, with a read and a write: no file is made in its place
    // nor at the default ./snledger.db.
    for args in [&["verify"][..], &["init"]] {
        let output = run_bounded(
            ledger
                .command_without_db()
                .env("SNLEDGER_DB", not_utf8("led"))
                .args(args),
            Duration::from_secs(30),
        );
        assert_fails(&output, 2, "usage", "SNLEDGER_DB not UTF-8");
        assert!(
            stderr(&output).contains("SNLEDGER_DB"),
            "{}",
            stderr(&output)
        );
        assert_eq!(entries(ledger.dir.path()), ["ledger.db"]);
    }
    // SNLEDGER_NOW and SNLEDGER_ACTOR, on a write that would otherwise work.
    for (variable, cleared) in [("SNLEDGER_NOW", "--now"), ("SNLEDGER_ACTOR", "--actor")] {
        let mut command = ledger.bare_command();
        command.arg("--db").arg(&ledger.db);
        if cleared != "--now" {
            command.args(["--now", NOW]);
        }
        if cleared != "--actor" {
            command.args(["--actor", ACTOR]);
        }
        let output = run_bounded(
            command.env(variable, not_utf8("x")).args(&add),
            Duration::from_secs(30),
        );
        assert_fails(&output, 2, "usage", &format!("{variable} not UTF-8"));
        assert!(stderr(&output).contains(variable), "{}", stderr(&output));
        assert_eq!(
            ledger.export_history(),
            before,
            "{variable}: the log changed"
        );
    }
    // USER, the actor's last source.
    let output = run_bounded(
        ledger
            .bare_command()
            .args(["--db"])
            .arg(&ledger.db)
            .args(["--now", NOW])
            .env("USER", not_utf8("me"))
            .args(&add),
        Duration::from_secs(30),
    );
    assert_fails(&output, 2, "usage", "USER not UTF-8");
    assert!(stderr(&output).contains("USER"), "{}", stderr(&output));
    assert_eq!(ledger.export_history(), before);
}

#[test]
fn a_broken_variable_that_is_not_consulted_does_not_matter() {
    sqlite_only!("$USER as the actor (on PostgreSQL the login role is)");
    let ledger = Ledger::new();
    ledger.ok(&["init"]);
    // --db, --now and --actor given: the variables behind them are not read.
    let output = run_bounded(
        ledger
            .command()
            .env("SNLEDGER_DB", not_utf8("led"))
            .env("SNLEDGER_NOW", not_utf8("now"))
            .env("SNLEDGER_ACTOR", not_utf8("who"))
            .env("USER", not_utf8("me"))
            .args(instance_add_args(
                "i-1",
                "ecs",
                "acme",
                &["--public-ip", "47.96.10.21"],
            )),
        Duration::from_secs(30),
    );
    assert_ok(&output, "instance add with --db, --now, --actor");
    assert_eq!(ledger.last_event()["actor"], ACTOR);
    // An empty SNLEDGER_ACTOR still counts as unset: $USER is the actor.
    let output = run_bounded(
        ledger
            .bare_command()
            .arg("--db")
            .arg(&ledger.db)
            .args(["--now", NOW])
            .env("SNLEDGER_ACTOR", "")
            .env("USER", "from-user")
            .args(["instance", "release", "i-1"]),
        Duration::from_secs(30),
    );
    assert_ok(&output, "instance release with SNLEDGER_ACTOR=");
    assert_eq!(ledger.last_event()["actor"], "from-user");
}

// ---------------------------------------------------------------- CSV header messages

#[test]
fn a_header_of_a_million_empty_columns_gets_a_short_message() {
    let ledger = Ledger::new();
    ledger.ecs("i-1", "acme");
    // import history needs an empty ledger.
    let empty = ledger.sibling("empty");
    empty.ok(&["init"]);
    let file = ledger.write("commas.csv", ",".repeat(1_000_000) + "\n");
    for (kind, ledger) in [
        ("instances", &ledger),
        ("ops", &ledger),
        ("history", &empty),
    ] {
        let stderr_text = ledger.refused(
            &[OsStr::new("import"), OsStr::new(kind), file.as_os_str()],
            2,
            "usage",
        );
        assert!(
            stderr_text.len() < 4096,
            "import {kind}: {} bytes of stderr",
            stderr_text.len()
        );
        assert!(
            stderr_text.contains("unknown column(s)") && stderr_text.contains("and 999991 more"),
            "import {kind}: {stderr_text}"
        );
    }
}

#[test]
fn control_characters_in_a_header_never_reach_the_terminal_raw() {
    let ledger = Ledger::new();
    ledger.ecs("i-1", "acme");
    let unknown = ledger.write(
        "esc.csv",
        format!("{INSTANCES_HEADER},\x1b[2J\x1b[31mred\n"),
    );
    let long = format!("{INSTANCES_HEADER},{}\x1b[2J\n", "x".repeat(200));
    let long = ledger.write("long.csv", long);
    let twice = ledger.write("twice.csv", format!("{INSTANCES_HEADER},account\n"));
    for file in [&unknown, &long, &twice] {
        let output = ledger.run(&[
            OsStr::new("import"),
            OsStr::new("instances"),
            file.as_os_str(),
        ]);
        assert_fails(&output, 2, "usage", &file.display().to_string());
        assert!(
            !output.stderr.contains(&0x1b),
            "raw ESC in {}",
            stderr(&output)
        );
        assert!(stderr(&output).len() < 1024, "{}", stderr(&output));
    }
    let output = ledger.run(&[
        OsStr::new("import"),
        OsStr::new("instances"),
        unknown.as_os_str(),
    ]);
    assert!(
        stderr(&output).contains(r"\u{1b}[2J"),
        "{}",
        stderr(&output)
    );
    // A file name with ESC, not found, and a --db with ESC, no ledger.
    let missing = ledger.path("in\x1b[2J.csv");
    let output = ledger.run(&[
        OsStr::new("import"),
        OsStr::new("instances"),
        missing.as_os_str(),
    ]);
    assert_fails(&output, 3, "not_found", "a missing file named with ESC");
    assert!(!output.stderr.contains(&0x1b), "{}", stderr(&output));
    let output = run_bounded(
        ledger
            .command_without_db()
            .args(["--db", "typo\x1b[2J.db", "verify"]),
        Duration::from_secs(30),
    );
    assert_fails(&output, 3, "not_found", "a --db named with ESC");
    assert!(!output.stderr.contains(&0x1b), "{}", stderr(&output));
}
