//! The terminal experience (docs/guide.md "At the terminal"): help for every
//! command and option with examples, did-you-mean, completions that offer
//! the allowed values, free-text values beginning with `-`, tables that fit
//! the width, NO_COLOR, and `--tz`.

use crate::common::*;
use std::process::Command;

// ---------------------------------------------------------------- help

/// A help text with its wrapped lines joined, for looking up phrases.
fn flat(help: &str) -> String {
    help.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `snledger <path…> --help`, which must succeed.
fn help_of(path: &[&str]) -> String {
    let output = Command::new(bin())
        .args(path)
        .arg("--help")
        .env_remove("COLUMNS")
        .output()
        .expect("run snledger");
    assert_ok(&output, &format!("{path:?} --help"));
    stdout(&output)
}

/// The lines of one `Heading:` section of a help text, up to the next blank line.
fn section<'a>(help: &'a str, heading: &str) -> Vec<&'a str> {
    help.lines()
        .skip_while(|line| *line != heading)
        .skip(1)
        .take_while(|line| !line.trim().is_empty())
        .collect()
}

/// The subcommand names listed under `Commands:` (without clap's `help`).
fn subcommands(help: &str) -> Vec<String> {
    section(help, "Commands:")
        .iter()
        .filter(|line| line.starts_with("  ") && !line.starts_with("   "))
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(String::from)
        .collect()
}

/// Each entry of an argument section with its description: the text after
/// the flag on its line, or on the more indented lines after it.
fn entries(lines: &[&str]) -> Vec<(String, String)> {
    let mut found: Vec<(String, String)> = Vec::new();
    for line in lines {
        let is_entry = line.starts_with("  ") && !line[2..].starts_with(' ');
        if is_entry {
            let body = line.trim_start();
            let (flag, description) = body.split_once("  ").unwrap_or((body, ""));
            found.push((flag.trim().to_string(), description.trim().to_string()));
        } else if let Some(last) = found.last_mut() {
            last.1.push(' ');
            last.1.push_str(line.trim());
        }
    }
    found
}

/// Walks every command and subcommand from `snledger --help`.
fn every_command() -> Vec<Vec<String>> {
    let mut done = Vec::new();
    let mut to_visit: Vec<Vec<String>> = vec![Vec::new()];
    while let Some(path) = to_visit.pop() {
        let refs: Vec<&str> = path.iter().map(String::as_str).collect();
        for name in subcommands(&help_of(&refs)) {
            let mut child = path.clone();
            child.push(name);
            to_visit.push(child);
        }
        done.push(path);
    }
    done
}

#[test]
fn every_command_has_a_description_an_example_and_every_option_a_description() {
    let commands = every_command();
    // Every top-level command and the subcommands of each group are walked.
    for expected in [
        "allocate",
        "instance add",
        "instance list",
        "import ops",
        "export history",
        "report expiring",
        "policy set",
        "completions",
    ] {
        assert!(
            commands.iter().any(|path| path.join(" ") == expected),
            "{expected} was not reached by the walk"
        );
    }
    assert!(
        commands.len() >= 35,
        "only {} commands walked",
        commands.len()
    );
    let mut problems = Vec::new();
    for path in &commands {
        let refs: Vec<&str> = path.iter().map(String::as_str).collect();
        let help = help_of(&refs);
        let name = format!("snledger {}", path.join(" "));
        let first = help.lines().next().unwrap_or("").trim();
        if first.is_empty() || first.starts_with("Usage:") {
            problems.push(format!("{name}: no description"));
        }
        let examples = section(&help, "Examples:");
        if examples.is_empty()
            || !examples
                .iter()
                .all(|line| line.trim_start().starts_with("snledger") || line.starts_with("     "))
        {
            problems.push(format!(
                "{name}: no example (an `Examples:` section of snledger lines)"
            ));
        }
        for heading in ["Arguments:", "Options:", "Global options:"] {
            for (flag, description) in entries(&section(&help, heading)) {
                if description.is_empty() {
                    problems.push(format!("{name}: {flag} has no description"));
                }
            }
        }
        // Global options have their own heading, not the command's list.
        let options = entries(&section(&help, "Options:"));
        if options
            .iter()
            .any(|(flag, _)| flag.starts_with("--db") || flag.starts_with("--tz"))
        {
            problems.push(format!("{name}: global options mixed into Options"));
        }
        if !section(&help, "Global options:")
            .join("\n")
            .contains("--tz <ZONE>")
        {
            problems.push(format!("{name}: no Global options heading with --tz"));
        }
    }
    assert!(
        problems.is_empty(),
        "help problems:\n{}",
        problems.join("\n")
    );
}

#[test]
fn options_list_their_allowed_values_and_time_forms() {
    let add = flat(&help_of(&["instance", "add"]));
    for text in [
        "ecs, cloud_web_hosting, simple_application_server, ens, linkedmall, iot_studio",
        "subscription, pay-as-you-go, trial",
        "such as cn-hangzhou",
        "bare date (2027-06-01, midnight), read in --tz",
    ] {
        assert!(
            add.contains(text),
            "instance add --help lacks {text:?}:\n{add}"
        );
    }
    let history = flat(&help_of(&["history"]));
    assert!(
        history.contains("instance_added, instance_renewed"),
        "{history}"
    );
    let list = flat(&help_of(&["number", "list"]));
    assert!(
        list.contains("unbound, bound, filed, invalid, filing, deregistered"),
        "{list}"
    );
    let expiring = flat(&help_of(&["report", "expiring"]));
    assert!(expiring.contains("in days"), "{expiring}");
    assert!(flat(&help_of(&[])).contains("[possible values: table, json, csv]"));
}

#[test]
fn import_and_export_help_list_the_csv_columns() {
    assert!(help_of(&["import", "instances"]).contains(&format!("  {INSTANCES_HEADER}\n")));
    assert!(help_of(&["export", "instances"]).contains(&format!("  {INSTANCES_HEADER}\n")));
    let ops = help_of(&["import", "ops"]);
    assert!(ops.contains(&format!("  {OPS_HEADER}\n")), "{ops}");
    assert!(
        ops.contains("renew       instance_id, months, expires_at"),
        "{ops}"
    );
    assert!(help_of(&["import", "history"]).contains(&format!("  {HISTORY_HEADER}\n")));
    assert!(help_of(&["export", "history"]).contains(&format!("  {HISTORY_HEADER}\n")));
    assert!(help_of(&["export", "numbers"]).contains(&format!("  {NUMBERS_HEADER}\n")));
}

// ---------------------------------------------------------------- did you mean

#[test]
fn typos_get_a_did_you_mean_and_exit_2_with_nothing_changed() {
    let ledger = Ledger::new();
    ledger.ecs("i-1", "acme");
    let add = |extra: &[&str]| instance_add_args("i-2", "ecs", "acme", extra);
    let cases: Vec<(Vec<String>, &str)> = vec![
        (vec!["chek".into(), "i-1".into()], "did you mean check?"),
        (
            vec![
                "--formt".into(),
                "json".into(),
                "check".into(),
                "i-1".into(),
            ],
            "did you mean --format?",
        ),
        (
            vec![
                "--format".into(),
                "JSON".into(),
                "check".into(),
                "i-1".into(),
            ],
            "did you mean json?",
        ),
        (
            instance_add_args("i-2", "ECS", "acme", &[]),
            "did you mean ecs?",
        ),
        (add(&["--billing", "PrePaid"]), "did you mean subscription?"),
        (
            add(&["--billing", "PostPaid"]),
            "did you mean pay-as-you-go?",
        ),
        (
            vec![
                "number".into(),
                "list".into(),
                "--status".into(),
                "Filed".into(),
            ],
            "did you mean filed?",
        ),
        (
            vec!["history".into(), "--kind".into(), "allocate".into()],
            "did you mean allocated?",
        ),
        (
            vec![
                "--tz".into(),
                "asia/shanghai".into(),
                "instance".into(),
                "list".into(),
            ],
            "did you mean Asia/Shanghai?",
        ),
        (
            vec!["completions".into(), "BASH".into()],
            "did you mean bash?",
        ),
    ];
    for (args, hint) in cases {
        let message = ledger.refused(&args, 2, "usage");
        assert!(
            message.contains(hint),
            "{args:?}: expected {hint:?} in {message}"
        );
    }
    // A word nothing is close to gets no guess.
    let message = ledger.refused(&add(&["--billing", "zzz"]), 2, "usage");
    assert!(!message.contains("did you mean"), "{message}");
}

#[test]
fn a_hinted_csv_value_gets_the_same_did_you_mean() {
    let ledger = Ledger::new();
    ledger.ok(&["init"]);
    let file = ledger.write(
        "instances.csv",
        format!(
            "{INSTANCES_HEADER}\ni-1,ecs,acme,cn-hangzhou,PrePaid,12,2027-06-01,47.96.10.21,\n"
        ),
    );
    let message = ledger.refused(&["import", "instances", file.to_str().unwrap()], 2, "usage");
    assert!(
        message.contains("line 2") && message.contains("did you mean subscription?"),
        "{message}"
    );
}

// ---------------------------------------------------------------- completions

#[test]
fn completions_offer_the_allowed_values() {
    let ledger = Ledger::new();
    let bash = ledger.ok(&["completions", "bash"]);
    for words in [
        "unbound bound filed invalid filing deregistered",
        "instance_added instance_renewed instance_released policy_set allocated",
        "ecs cloud_web_hosting simple_application_server ens linkedmall iot_studio",
        "subscription pay-as-you-go trial",
        "table json csv",
        "cn-hangzhou cn-shanghai",
    ] {
        assert!(
            bash.contains(&format!("compgen -W \"{words}")),
            "bash completions lack {words:?}"
        );
    }
    // FILE arguments keep file completion.
    assert!(bash.contains("compgen -f"), "no file completion left");
    for shell in ["zsh", "fish"] {
        let text = ledger.ok(&["completions", shell]);
        for value in [
            "deregistered",
            "service_ip_updated",
            "iot_studio",
            "pay-as-you-go",
            "cn-hangzhou",
        ] {
            assert!(text.contains(value), "{shell} completions lack {value}");
        }
    }
}

// ---------------------------------------------------------------- values beginning with '-'

#[test]
fn free_text_options_take_values_beginning_with_a_hyphen() {
    sqlite_only!("an actor named -bot is a role name PostgreSQL mode does not make");
    let ledger = Ledger::new();
    ledger.ecs("i-1", "acme");
    let numbers = strings(
        &ledger.json(&["allocate", "i-1", "--count", "3", "--request-id", "-r1"])["numbers"],
    );
    assert_eq!(ledger.last_event()["payload"]["request_id"], "-r1");
    let (n1, n2, n3) = (&numbers[0], &numbers[1], &numbers[2]);
    ledger.ok(&["grant", n1, "--to", "cust", "--note", "-1 for spreadsheets"]);
    assert_eq!(
        ledger.last_event()["payload"]["note"],
        "-1 for spreadsheets"
    );
    ledger.ok(&["bind", n1, "--service", "-svc app", "--account", "cust"]);
    assert_eq!(ledger.number(n1)["service"], "-svc app");
    ledger.ok(&["submit", n1]);
    ledger.ok(&["reject", n1, "--reason", "-dup"]);
    assert_eq!(ledger.last_event()["payload"]["reason"], "-dup");
    ledger.ok(&["submit", n1]);
    // An ICP number has the MIIT's shape, so it never begins with '-'; the
    // option still reads such a value (and refuses it for its shape).
    ledger.refused(&["approve", n1, "--icp-number", "-ICP-1"], 2, "usage");
    ledger.ok(&["deregister", n1, "--reason", "--closed"]);
    assert_eq!(ledger.last_event()["payload"]["reason"], "--closed");
    ledger.ok(&["invalidate", n2, "--reason", "-void"]);
    assert_eq!(ledger.last_event()["payload"]["reason"], "-void");
    ledger.ok(&["select", "i-1", "--service", "-direct app"]);
    assert_eq!(ledger.last_event()["payload"]["service"], "-direct app");
    let history = ledger.json(&["history", "--service", "-svc app"]);
    assert!(
        history.as_array().is_some_and(|events| events.len() == 5),
        "{history}"
    );
    let out = Out::from(
        ledger
            .bare_command()
            .args([
                "--db",
                &ledger.db_str(),
                "--now",
                NOW,
                "--actor",
                "-bot",
                "grant",
                n3,
                "--to",
                "x",
            ])
            .output()
            .unwrap(),
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(ledger.last_event()["actor"], "-bot");
    ledger.verify_ok();
}

// ---------------------------------------------------------------- tables

/// Display columns of a line: CJK characters take two.
fn display_width(line: &str) -> usize {
    line.chars()
        .map(|c| match c as u32 {
            0x1100..=0x115f
            | 0x2e80..=0xa4cf
            | 0xac00..=0xd7a3
            | 0xf900..=0xfaff
            | 0xff00..=0xff60
            | 0xffe0..=0xffe6 => 2,
            _ => 1,
        })
        .sum()
}

/// A ledger whose `instance list` and `history` tables are far wider than 100 columns.
fn busy_ledger() -> (Ledger, String) {
    let ledger = Ledger::new();
    ledger.ecs("i-bp1webserver01", "acme-shop-holdings");
    ledger.ecs("i-bp1webserver02", "redriver-trading");
    let number = ledger.allocate_one("i-bp1webserver01");
    ledger.ok(&[
        "grant",
        &number,
        "--to",
        "customer-7",
        "--note",
        "ticket 4411 from the support desk",
    ]);
    ledger.bind(&number, "shop.example.cn", "customer-7");
    ledger.ok(&["submit", &number]);
    ledger.ok(&["approve", &number, "--icp-number", "浙ICP备12345678号-1"]);
    (ledger, number)
}

fn with_env(ledger: &Ledger, vars: &[(&str, &str)], args: &[&str]) -> Out {
    let mut command = ledger.command();
    for (name, value) in vars {
        command.env(name, value);
    }
    let out = Out::from(command.args(args).output().expect("run snledger"));
    assert_eq!(out.code, 0, "{args:?}: {}", out.stderr);
    out
}

#[test]
fn tables_fit_columns_and_history_summarises_payloads() {
    let (ledger, number) = busy_ledger();
    for args in [
        &["instance", "list"][..],
        &["history"],
        &["instance", "show", "i-bp1webserver01"],
    ] {
        let wide = with_env(&ledger, &[], args).stdout;
        let narrow = with_env(&ledger, &[("COLUMNS", "100")], args).stdout;
        for line in narrow
            .lines()
            .filter(|line| line.starts_with(['│', '┌', '└', '╞', '├']))
        {
            assert!(
                display_width(line) <= 100,
                "{args:?} at COLUMNS=100: {} wide: {line}",
                display_width(line)
            );
        }
        // Not a terminal and no $COLUMNS: whole lines, as before.
        if args[0] != "instance" || args[1] == "list" {
            assert!(
                wide.lines().any(|line| display_width(line) > 100),
                "{args:?} was already narrow:\n{wide}"
            );
        }
    }
    let history = with_env(&ledger, &[("COLUMNS", "200")], &["history"]).stdout;
    let short = &number[..8];
    for summary in [
        &format!("allocated 1 on i-bp1webserver01 by acme-shop-holdings: {short}…"),
        &format!(
            "{short}… acme-shop-holdings → customer-7 (note ticket 4411 from the support desk)"
        ),
        &format!("{short}… → shop.example.cn by customer-7"),
        &format!("{short}… shop.example.cn filed as 浙ICP备12345678号-1"),
    ] {
        assert!(
            history.contains(summary.as_str()),
            "history lacks {summary:?}:\n{history}"
        );
    }
    assert!(
        !history.contains("{\""),
        "the table shows raw JSON:\n{history}"
    );
    // JSON and CSV keep the whole payload.
    let events = ledger.events(&[]);
    assert_eq!(
        events[3]["payload"]["note"],
        "ticket 4411 from the support desk"
    );
    let csv = with_env(
        &ledger,
        &[("COLUMNS", "100")],
        &["--format", "csv", "history"],
    )
    .stdout;
    assert!(
        csv.contains("\"\"note\"\":\"\"ticket 4411 from the support desk\"\""),
        "{csv}"
    );
}

#[test]
fn a_narrow_terminal_leaves_columns_out_rather_than_breaking_cells() {
    let (ledger, _) = busy_ledger();
    ledger.add_instance(
        "i-bp1payasyougo03",
        "ecs",
        "redriver-trading",
        &["--billing", "pay-as-you-go", "--months", "1"],
    );
    let listed = ledger.json(&["instance", "list"]);
    assert_eq!(
        strings(&ledger.instance("i-bp1payasyougo03")["reasons"]),
        ["pay_as_you_go", "subscription_too_short", "no_public_ip"]
    );
    let narrow = with_env(&ledger, &[("COLUMNS", "100")], &["instance", "list"]).stdout;
    // Every id and every reason code is whole on one line: no fragments.
    for instance in listed.as_array().expect("a list") {
        let id = str_field(instance, "instance_id");
        assert!(
            narrow.contains(&format!("│ {id} ")),
            "{id} broken:\n{narrow}"
        );
        for reason in strings(&instance["reasons"]) {
            assert!(narrow.contains(&reason), "{reason} broken:\n{narrow}");
        }
    }
    // The note under the table names them, wrapped to the width too.
    let at = narrow
        .find("(hidden to fit 100 columns: ")
        .unwrap_or_else(|| panic!("no note of hidden columns:\n{narrow}"));
    let note = &narrow[at..];
    assert!(
        note.lines().all(|line| line.chars().count() <= 100),
        "{note}"
    );
    for column in ["subscription_months", "billing", "max"] {
        assert!(note.contains(column), "{note}");
    }
    let header = narrow.lines().nth(1).expect("a header line");
    for column in ["instance_id", "account", "eligible", "reasons", "remaining"] {
        assert!(header.contains(column), "{column} left out: {header}");
    }
    // Wide enough, nothing is left out; CSV always has every column.
    let wide = with_env(&ledger, &[("COLUMNS", "400")], &["instance", "list"]).stdout;
    assert!(!wide.contains("(hidden to fit"), "{wide}");
    let csv = with_env(
        &ledger,
        &[("COLUMNS", "100")],
        &["--format", "csv", "instance", "list"],
    );
    assert!(csv
        .stdout
        .starts_with("instance_id,service_type,account,region,billing,subscription_months,"));
}

#[test]
fn colour_only_when_wanted_and_never_with_no_color() {
    let (ledger, _) = busy_ledger();
    let plain = with_env(&ledger, &[], &["instance", "list"]).stdout;
    assert!(!plain.contains('\u{1b}'), "colour on a pipe");
    let forced = with_env(&ledger, &[("CLICOLOR_FORCE", "1")], &["instance", "list"]).stdout;
    assert!(forced.contains("\u{1b}[1m"), "no bold headers when forced");
    let refused = with_env(
        &ledger,
        &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")],
        &["instance", "list"],
    )
    .stdout;
    assert!(!refused.contains('\u{1b}'), "NO_COLOR ignored");
    let json = with_env(
        &ledger,
        &[("CLICOLOR_FORCE", "1")],
        &["--format", "json", "instance", "list"],
    )
    .stdout;
    assert!(!json.contains('\u{1b}'));
}

/// Runs `snledger ARGS` in a pseudo-terminal of 100 columns (util-linux
/// `script`), returning what the terminal showed.
fn in_terminal(ledger: &Ledger, vars: &str, args: &str) -> String {
    let line = format!(
        "stty cols 100 rows 40; {vars} '{}' --db '{}' --now {NOW} {args}",
        bin().display(),
        ledger.db_str()
    );
    let output = Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .env_remove("COLUMNS")
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .output()
        .expect("util-linux `script` runs the pty tests");
    assert_ok(&output, &line);
    stdout(&output)
}

#[test]
fn in_a_terminal_tables_fit_its_width_and_no_color_turns_colour_off() {
    let (ledger, _) = busy_ledger();
    for args in ["instance list", "history"] {
        let screen = in_terminal(&ledger, "", args);
        assert!(
            screen.contains("\u{1b}[1m"),
            "{args}: no bold headers in a terminal"
        );
        let plain = in_terminal(&ledger, "NO_COLOR=1", args);
        assert!(!plain.contains('\u{1b}'), "{args}: colour despite NO_COLOR");
        for line in plain.lines().map(|line| line.trim_end_matches('\r')) {
            assert!(
                display_width(line) <= 100,
                "{args}: {} wide in 100 columns: {line}",
                display_width(line)
            );
        }
        assert!(plain.lines().count() > 4, "{args}: {plain}");
    }
}

// ---------------------------------------------------------------- --tz

#[test]
fn tz_reads_times_without_an_offset_in_the_zone_and_shows_tables_in_it() {
    let ledger = Ledger::new();
    let beijing = ["--tz", "Asia/Shanghai"];
    let mut add = beijing.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    add.extend(instance_add_args(
        "i-1",
        "ecs",
        "acme",
        &["--expires", "2027-06-01", "--public-ip", "47.96.10.21"],
    ));
    ledger.ok(&add);
    // Midnight in Beijing is 16:00Z the day before; JSON and the log stay UTC.
    assert_eq!(ledger.instance("i-1")["expires_at"], "2027-05-31T16:00:00Z");
    assert_eq!(
        ledger.last_event()["payload"]["expires_at"],
        "2027-05-31T16:00:00Z"
    );
    let json = ledger.json(&["--tz", "Asia/Shanghai", "instance", "show", "i-1"]);
    assert_eq!(json["expires_at"], "2027-05-31T16:00:00Z");
    // And back: the table shows the Beijing time with its offset.
    let table = ledger.ok(&["--tz", "Asia/Shanghai", "instance", "show", "i-1"]);
    assert!(table.contains("2027-06-01 00:00:00 +08:00"), "{table}");
    let utc_table = ledger.ok(&["instance", "show", "i-1"]);
    assert!(utc_table.contains("2027-05-31T16:00:00Z"), "{utc_table}");
    let history = with_env(&ledger, &[("SNLEDGER_TZ", "Asia/Shanghai")], &["history"]).stdout;
    assert!(
        history.contains("2026-03-01 18:00:00 +08:00"),
        "event time not in Beijing time: {history}"
    );
    assert!(
        history.contains("expires 2027-06-01 00:00:00 +08:00"),
        "{history}"
    );
    let csv = with_env(
        &ledger,
        &[("SNLEDGER_TZ", "Asia/Shanghai")],
        &["--format", "csv", "instance", "list"],
    )
    .stdout;
    assert!(csv.contains("2027-05-31T16:00:00Z"), "{csv}");
    // An explicit offset is taken as given; a time without one is read in the zone.
    ledger.ok(&[
        "--tz",
        "Asia/Shanghai",
        "instance",
        "renew",
        "i-1",
        "--months",
        "1",
        "--expires",
        "2027-07-01T08:00:00",
    ]);
    assert_eq!(ledger.instance("i-1")["expires_at"], "2027-07-01T00:00:00Z");
    ledger.ok(&[
        "--tz",
        "Asia/Shanghai",
        "instance",
        "renew",
        "i-1",
        "--months",
        "1",
        "--expires",
        "2027-08-01T08:00:00Z",
    ]);
    assert_eq!(ledger.instance("i-1")["expires_at"], "2027-08-01T08:00:00Z");
    // --since, --as-of and --now are read in it too.
    assert_eq!(
        ledger
            .events(&["--tz", "Asia/Shanghai", "--since", "2026-03-01 18:00"])
            .len(),
        3
    );
    assert_eq!(
        ledger
            .events(&["--tz", "Asia/Shanghai", "--since", "2026-03-01 18:01"])
            .len(),
        0
    );
    let before = ledger.json(&[
        "--tz",
        "Asia/Shanghai",
        "instance",
        "list",
        "--as-of",
        "2026-03-01 17:59:59",
    ]);
    assert_eq!(before, serde_json::json!([]));
    let out = Out::from(
        ledger
            .bare_command()
            .args([
                "--db",
                &ledger.db_str(),
                "--tz",
                "Asia/Shanghai",
                "--now",
                "2026-03-01 18:30",
                "instance",
                "release",
                "i-1",
            ])
            .output()
            .unwrap(),
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(ledger.last_event()["at"], "2026-03-01T10:30:00Z");
    ledger.verify_ok();
}

#[test]
fn tz_applies_to_expiry_cells_of_imported_files() {
    let ledger = Ledger::new();
    let instances = ledger.write(
        "instances.csv",
        format!("{INSTANCES_HEADER}\ni-1,ecs,acme,cn-hangzhou,subscription,12,2027-06-01,47.96.10.21,\n"),
    );
    ledger.ok(&[
        "--tz",
        "Asia/Shanghai",
        "import",
        "instances",
        instances.to_str().unwrap(),
    ]);
    assert_eq!(ledger.instance("i-1")["expires_at"], "2027-05-31T16:00:00Z");
    let ops = ledger.write(
        "ops.csv",
        ops_file(&[ops_row(&[
            ("op", "renew"),
            ("instance_id", "i-1"),
            ("months", "12"),
            ("expires_at", "2028-06-01"),
        ])]),
    );
    ledger.ok(&[
        "--tz",
        "Asia/Shanghai",
        "import",
        "ops",
        ops.to_str().unwrap(),
    ]);
    assert_eq!(ledger.instance("i-1")["expires_at"], "2028-05-31T16:00:00Z");
    // The exported log stays UTC.
    let history = String::from_utf8(ledger.export_history()).unwrap();
    assert!(
        history.contains("2028-05-31T16:00:00Z") && !history.contains("+08:00"),
        "{history}"
    );
}

#[test]
fn an_unknown_zone_is_a_usage_error_that_changes_nothing() {
    let ledger = Ledger::new();
    ledger.ecs("i-1", "acme");
    let message = ledger.refused(
        &["--tz", "Asia/Shangai", "instance", "release", "i-1"],
        2,
        "usage",
    );
    assert!(message.contains("did you mean Asia/Shanghai?"), "{message}");
    let out = Out::from(
        ledger
            .command()
            .env("SNLEDGER_TZ", "Beijing")
            .args(["instance", "release", "i-1"])
            .output()
            .unwrap(),
    );
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr
            .starts_with("error[usage]: --tz: 'Beijing' is not an IANA time zone"),
        "{}",
        out.stderr
    );
    assert_eq!(ledger.instance("i-1")["state"], "active");
    // A wall-clock time a daylight-saving change skips is refused, not guessed.
    let message = ledger.refused(
        &[
            "--tz",
            "America/New_York",
            "instance",
            "renew",
            "i-1",
            "--months",
            "1",
            "--expires",
            "2027-03-14T02:30:00",
        ],
        2,
        "usage",
    );
    assert!(
        message.contains("does not exist in America/New_York"),
        "{message}"
    );
}

/// Every kind has a line of its own in the history table (issue 29 item
/// 10): an amend, a region, a rename and a recorded reconcile read as words,
/// never as the raw JSON payload.
#[test]
fn history_summarises_every_kind_in_words() {
    let (ledger, _) = busy_ledger();
    let other = ledger.allocate_one("i-bp1webserver02");
    ledger.bind(&other, "old.example.cn", "redriver-trading");
    ledger.ok(&[
        "service",
        "rename",
        "old.example.cn",
        "--to",
        "new.example.cn",
    ]);
    ledger.ok(&[
        "instance",
        "amend",
        "i-bp1webserver02",
        "--public-ip",
        "47.96.10.99",
    ]);
    ledger.ok(&["region", "set", "cn-example-1", "--mainland", "true"]);
    let provider = ledger.write(
        "provider.csv",
        "sn,status,beian_num,ali_uid,resource_id,resource_type\n",
    );
    let output = ledger.run(&["reconcile", provider.to_str().unwrap(), "--record"]);
    assert!(
        output.status.code().is_some_and(|code| code <= 1),
        "{}",
        stderr(&output)
    );
    let history = with_env(&ledger, &[("COLUMNS", "400")], &["history"]).stdout;
    for summary in [
        "old.example.cn renamed new.example.cn",
        "i-bp1webserver02 of redriver-trading amended: public IP",
        "→ 47.96.10.99",
        "cn-example-1 mainland",
        "provider file ",
    ] {
        assert!(
            history.contains(summary),
            "history lacks {summary:?}:\n{history}"
        );
    }
    assert!(
        !history.contains("{\""),
        "raw JSON in the history table:\n{history}"
    );
}

/// Every `FILE "…"` citation in the source names a heading that file has
/// (issue 29 item 8), so a reader sent there finds it: FILE is `README` or
/// one of the docs beside it, and a heading renamed or moved fails here
/// until its citations follow (CONTRIBUTING.md "Citing the docs from the
/// code"). `SPEC §…` citations name the spec and are not checked here.
#[test]
fn every_readme_citation_in_the_source_names_a_heading() {
    // How a citation names each file, and the file.
    const DOCS: [(&str, &str); 7] = [
        ("README", "README.md"),
        ("ARCHITECTURE.md", "ARCHITECTURE.md"),
        ("CONTRIBUTING.md", "CONTRIBUTING.md"),
        ("docs/guide.md", "docs/guide.md"),
        ("docs/team.md", "docs/team.md"),
        ("docs/reconcile.md", "docs/reconcile.md"),
        ("docs/reference.md", "docs/reference.md"),
    ];
    // The headings of each file: lines that start with `#`, outside code
    // blocks (where `#` starts a shell comment).
    let docs: Vec<(&str, std::collections::BTreeSet<String>)> = DOCS
        .iter()
        .map(|(name, path)| {
            let text = std::fs::read_to_string(repo_file(path))
                .unwrap_or_else(|error| panic!("{path}: {error}"));
            let mut in_code = false;
            let headings: std::collections::BTreeSet<String> = text
                .lines()
                .filter(|line| {
                    if line.starts_with("```") {
                        in_code = !in_code;
                        return false;
                    }
                    !in_code && line.starts_with('#')
                })
                .map(|line| collapse(line.trim_start_matches('#')))
                .collect();
            (*name, headings)
        })
        .collect();
    let mut files = vec![repo_file("src")];
    let mut unresolved = Vec::new();
    let mut citations = 0;
    while let Some(path) = files.pop() {
        if path.is_dir() {
            files.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
            continue;
        }
        if path.extension().is_none_or(|extension| extension != "rs") {
            continue;
        }
        // Comment text joined across lines: a citation may wrap.
        let text: Vec<String> = std::fs::read_to_string(&path)
            .unwrap()
            .lines()
            .map(|line| {
                let line = line.trim_start();
                let line = ["//!", "///", "//"]
                    .iter()
                    .find_map(|marker| line.strip_prefix(marker))
                    .unwrap_or(line);
                line.trim().to_string()
            })
            .collect();
        let text = text.join(" ");
        for (name, headings) in &docs {
            let opening = format!("{name} \"");
            for (offset, _) in text.match_indices(&opening) {
                let rest = &text[offset + opening.len()..];
                let Some(end) = rest.find('"') else { continue };
                citations += 1;
                let cited = collapse(&rest[..end]);
                if !headings.contains(&cited) {
                    unresolved.push(format!("{}: {name} \"{cited}\"", path.display()));
                }
            }
        }
    }
    assert!(citations > 30, "only {citations} citations found");
    assert!(
        unresolved.is_empty(),
        "no such heading:\n{}",
        unresolved.join("\n")
    );
}

/// Runs of whitespace as one space, trimmed.
fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

// ---------------------------------------------------------------- man pages

/// `snledger man [COMMAND]` prints a roff page generated from the same
/// clap definitions as `--help` (issue 29 item 8): one for snledger and
/// one for every command the help walk reaches, each named after its path
/// and naming its options; an unknown command is a usage error.
#[test]
fn man_prints_a_page_for_snledger_and_for_every_command() {
    sqlite_only!("man reads no ledger, so it is the same on either backend");
    let ledger = Ledger::new();
    let root = ledger.ok(&["man"]);
    assert!(root.starts_with(".ie"), "not roff:\n{root}");
    assert!(root.contains(".TH snledger 1"), "no title:\n{root}");
    for command in ["allocate", "verify", "reconcile", "man"] {
        assert!(
            root.contains(command),
            "snledger(1) does not list {command}"
        );
    }
    for path in every_command().into_iter().filter(|path| !path.is_empty()) {
        let mut args = vec!["man".to_string()];
        args.extend(path.iter().cloned());
        let page = ledger.ok(&args);
        let title = format!(".TH snledger-{} 1", path.join("-"));
        assert!(page.contains(&title), "{title} missing:\n{page}");
    }
    let add = ledger.ok(&["man", "instance", "add"]);
    for option in ["\\-\\-expires", "\\-\\-months", "\\-\\-account"] {
        assert!(add.contains(option), "instance add's page lacks {option}");
    }
    for (args, message) in [
        (
            vec!["man", "instanse"],
            "has no command instanse: it has init, instance",
        ),
        (
            vec!["man", "allocate", "more"],
            "`snledger allocate` has no subcommands",
        ),
    ] {
        let output = ledger.run(&args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(stderr(&output).contains(message), "{}", stderr(&output));
    }
    let output = ledger.run(&["man", "instanse"]);
    assert!(stderr(&output).contains("; did you mean instance?"));
    assert!(!ledger.db.exists(), "man created a ledger");
}

// ---------------------------------------------------------------- the README's example

/// The README's worked example runs as written (issue 29 item 8): every
/// command in its `sh` block succeeds on a new ledger, and the book ends
/// where its comments say.
#[test]
fn the_readme_worked_example_runs_as_written() {
    sqlite_only!("the example's ledger is the SQLite file demo.db");
    let readme = std::fs::read_to_string(repo_file("README.md")).unwrap();
    let section = readme
        .split("## A worked example")
        .nth(1)
        .expect("the README has a worked example");
    let script = section
        .split("```sh\n")
        .nth(1)
        .and_then(|block| block.split("\n```").next())
        .expect("the example is an sh block");
    let dir = tempfile::tempdir().unwrap();
    let path = format!(
        "{}:{}",
        bin().parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let output = Command::new("bash")
        .args(["-e", "-c", script])
        .current_dir(dir.path())
        .env("PATH", path)
        .env_remove("SNLEDGER_DB")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "the example failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let json = |args: &[&str]| -> serde_json::Value {
        let output = Command::new(bin())
            .args(["--db", "demo.db", "--format", "json"])
            .args(args)
            .current_dir(dir.path())
            .output()
            .unwrap();
        serde_json::from_slice(&output.stdout).unwrap()
    };
    let instance = json(&["instance", "show", "i-bp1web01"]);
    assert_eq!(instance["quota"]["consumed"], 2, "{instance}");
    assert_eq!(instance["quota"]["remaining"], 3, "{instance}");
    let filed = &instance["numbers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|number| number["status"] == "filed")
        .count();
    assert_eq!(*filed, 1, "{instance}");
    assert_eq!(json(&["verify"])["ok"], true);
}
