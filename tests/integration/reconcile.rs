//! `reconcile`: the ledger against the provider's records (docs/reconcile.md
//! "Reconciling with the provider"): each class alone and together, each
//! input form, malformed files, `--record`, `--emit-ops` convergence, exit
//! codes, and that a comparison changes nothing.

use crate::common::*;
use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

fn sample(name: &str) -> PathBuf {
    repo_file(&format!("samples/provider/{name}"))
}

/// The sample ledger the provider samples describe: the sample instances
/// and `samples/provider/ledger-ops.csv` (five numbers, one filed, one
/// under review).
fn sample_ledger() -> Ledger {
    let ledger = Ledger::new();
    ledger.ok(&[
        "import",
        "instances",
        repo_file("samples/instances.csv").to_str().unwrap(),
    ]);
    ledger.ok(&["import", "ops", sample("ledger-ops.csv").to_str().unwrap()]);
    ledger
}

/// Runs `reconcile FILE --format json ARGS`; returns the exit code and the
/// JSON output.
fn reconcile(ledger: &Ledger, file: &std::path::Path, extra: &[&str]) -> (i32, Value) {
    let mut args = vec!["reconcile", file.to_str().unwrap(), "--format", "json"];
    args.extend_from_slice(extra);
    let output = ledger.run(&args);
    let code = output.status.code().unwrap_or(-1);
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let json = serde_json::from_str(text.trim())
        .unwrap_or_else(|e| panic!("reconcile: not JSON ({e}): {text} / {}", stderr(&output)));
    (code, json)
}

/// (class, number, instance_id) of each difference, in output order.
fn found(json: &Value) -> Vec<Found> {
    json["differences"]
        .as_array()
        .expect("differences")
        .iter()
        .map(|d| {
            (
                d["class"].as_str().unwrap().to_string(),
                d["number"].as_str().unwrap_or("").to_string(),
                d["instance_id"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// A difference as `found` lists it: (class, number, instance_id).
type Found = (String, String, String);

fn triple(class: &str, number: &str, instance: &str) -> Found {
    (class.into(), number.into(), instance.into())
}

/// A JSON Lines provider file from (sn, status, beianNum, aliUid, type, resourceId).
fn lines(records: &[(&str, u8, &str, &str, i64, &str)]) -> String {
    records
        .iter()
        .map(|(sn, status, beian, uid, kind, id)| {
            format!(
                "{{\"sn\":\"{sn}\",\"status\":{status},\"beianNum\":\"{beian}\",\"aliUid\":\"{uid}\",\"resourceType\":{kind},\"resourceId\":\"{id}\",\"opSource\":\"console\"}}\n"
            )
        })
        .collect()
}

const WEB01: [(&str, u8, &str, &str, i64, &str); 2] = [
    (
        "SN-WEB01-0001",
        2,
        "浙ICP备12345678号-1",
        "acme-shop",
        1,
        "i-bp1web01",
    ),
    ("SN-WEB01-0002", 1, "", "acme-shop", 1, "i-bp1web01"),
];

#[test]
fn every_form_of_the_in_sync_sample_is_in_sync_with_exit_0() {
    let ledger = sample_ledger();
    for name in [
        "in-sync.json",
        "in-sync.jsonl",
        "in-sync.csv",
        "in-sync-by-sn.json",
    ] {
        let (code, json) = reconcile(&ledger, &sample(name), &[]);
        assert_eq!(code, 0, "{name}: {json}");
        assert_eq!(json["in_sync"], true, "{name}");
        assert_eq!(json["compared"]["numbers"], 5, "{name}");
        assert_eq!(json["compared"]["instances"], 4, "{name}");
        assert_eq!(json["differences"], serde_json::json!([]), "{name}");
    }
    // A BsnPopDO array, a single response, and `datas` under `bsnDO`.
    let bare = ledger.write(
        "bare.json",
        r#"[{"sn":"SN-HOST-0001","status":0,"beianNum":"","aliUid":"blue-media","resourceType":9,"resourceId":"hosting-bj-001"}]"#,
    );
    let single = ledger.write(
        "single.json",
        r#"{"RequestId":"X","datas":{"bsnDO":[{"sn":"SN-HOST-0001","status":0,"beianNum":"","aliUid":"blue-media","resourceType":9,"resourceId":"hosting-bj-001"}]}}"#,
    );
    for file in [bare, single] {
        let (code, json) = reconcile(&ledger, &file, &[]);
        assert_eq!(
            (code, json["compared"]["numbers"].clone()),
            (0, 1.into()),
            "{json}"
        );
    }
    // The table names the outcome; standard input works too.
    let table = ledger.ok(&["reconcile", sample("in-sync.csv").to_str().unwrap()]);
    assert!(
        table.contains("5 number(s) on 4 instance(s) compared: in sync"),
        "{table}"
    );
    let mut command = ledger.command();
    command.args(["reconcile", "-"]);
    let output = run_with_stdin(command, &std::fs::read(sample("in-sync.jsonl")).unwrap());
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
}

fn run_with_stdin(mut command: Command, input: &[u8]) -> std::process::Output {
    use std::io::Write;
    let mut child = command
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().expect("wait")
}

/// Each class alone (quota only comes with the number that exceeds it).
#[test]
fn each_class_of_difference_alone() {
    let ledger = sample_ledger();
    let host = |sn: &'static str, status: u8, uid: &'static str, kind: i64, id: &'static str| {
        (sn, status, "", uid, kind, id)
    };
    let cases: Vec<(&str, String, Vec<Found>)> = vec![
        (
            "unknown_number",
            lines(&[host("SN-NEW-0001", 0, "acme-shop", 1, "i-not-in-ledger")]),
            vec![triple("unknown_number", "SN-NEW-0001", "i-not-in-ledger")],
        ),
        (
            "missing_at_provider",
            lines(&WEB01[..1]),
            vec![triple("missing_at_provider", "SN-WEB01-0002", "i-bp1web01")],
        ),
        (
            "status_differs",
            lines(&[host("SN-HOST-0001", 4, "blue-media", 9, "hosting-bj-001")]),
            vec![triple("status_differs", "SN-HOST-0001", "hosting-bj-001")],
        ),
        (
            "icp_number_differs",
            lines(&[
                (
                    "SN-WEB01-0001",
                    2,
                    "浙ICP备12345678号-9",
                    "acme-shop",
                    1,
                    "i-bp1web01",
                ),
                WEB01[1],
            ]),
            vec![triple("icp_number_differs", "SN-WEB01-0001", "i-bp1web01")],
        ),
        (
            "owner_differs",
            lines(&[host("SN-HOST-0001", 0, "someone-else", 9, "hosting-bj-001")]),
            vec![triple("owner_differs", "SN-HOST-0001", "hosting-bj-001")],
        ),
        (
            "instance_differs",
            lines(&[host(
                "SN-HOST-0001",
                0,
                "blue-media",
                9,
                "hosting-elsewhere",
            )]),
            vec![triple("instance_differs", "SN-HOST-0001", "hosting-bj-001")],
        ),
        (
            "type_differs",
            lines(&[host("SN-HOST-0001", 0, "blue-media", 1, "hosting-bj-001")]),
            vec![triple("type_differs", "SN-HOST-0001", "hosting-bj-001")],
        ),
        (
            "quota_differs",
            lines(&[host("SN-MALL-0001", 1, "green-apps", 42, "mall-88001")]),
            vec![
                triple("unknown_number", "SN-MALL-0001", "mall-88001"),
                triple("quota_differs", "", "mall-88001"),
            ],
        ),
    ];
    let before = ledger.export_history();
    for (class, content, expected) in cases {
        let file = ledger.write(&format!("{class}.jsonl"), content);
        let (code, json) = reconcile(&ledger, &file, &[]);
        assert_eq!(code, 1, "{class}: {json}");
        assert_eq!(json["in_sync"], false, "{class}");
        assert_eq!(found(&json), expected, "{class}: {json}");
    }
    assert_eq!(
        before,
        ledger.export_history(),
        "reconcile changed the ledger"
    );
}

#[test]
fn the_drifted_sample_has_every_class_and_says_what_each_side_holds() {
    let ledger = sample_ledger();
    let (code, json) = reconcile(&ledger, &sample("drifted.json"), &[]);
    assert_eq!(code, 1);
    let mut classes: Vec<String> = found(&json).into_iter().map(|(c, _, _)| c).collect();
    classes.sort();
    classes.dedup();
    assert_eq!(
        classes,
        [
            "icp_number_differs",
            "instance_differs",
            "missing_at_provider",
            "owner_differs",
            "quota_differs",
            "status_differs",
            "type_differs",
            "unknown_number"
        ]
    );
    let status = json["differences"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["class"] == "status_differs")
        .unwrap();
    assert_eq!(status["number"], "SN-WEB02-0001");
    assert_eq!(status["ledger"]["status"], "filing");
    assert_eq!(status["provider"]["status"], 2);
    assert_eq!(
        json["compared"],
        serde_json::json!({"numbers": 7, "instances": 5})
    );
    // CSV output: one row per difference under the header.
    let csv = String::from_utf8(
        ledger
            .run(&[
                "reconcile",
                sample("drifted.json").to_str().unwrap(),
                "--format",
                "csv",
            ])
            .stdout,
    )
    .unwrap();
    assert!(
        csv.starts_with("class,number,instance_id,ledger,provider\n"),
        "{csv}"
    );
    assert_eq!(
        csv.lines().count(),
        1 + json["differences"].as_array().unwrap().len()
    );
}

#[test]
fn numbers_and_instances_match_regardless_of_ascii_case() {
    let ledger = sample_ledger();
    let file = ledger.write(
        "case.jsonl",
        lines(&[
            (
                "sn-web01-0001",
                2,
                "浙ICP备12345678号-1",
                "acme-shop",
                1,
                "I-BP1WEB01",
            ),
            ("Sn-Web01-0002", 1, "", "acme-shop", 1, "i-bp1web01"),
        ]),
    );
    let (code, json) = reconcile(&ledger, &file, &[]);
    assert_eq!((code, json["in_sync"].clone()), (0, true.into()), "{json}");
    assert_eq!(json["compared"]["instances"], 1);
}

#[test]
fn malformed_files_are_exit_2_naming_the_line_or_path_and_record_nothing() {
    let ledger = sample_ledger();
    let record = r#"{"sn":"SN-HOST-0001","status":0,"beianNum":"","aliUid":"blue-media","resourceType":9,"resourceId":"hosting-bj-001"}"#;
    let status_seven = format!(
        r#"{{"datas":[{record},{record},{record},{}]}}"#,
        record
            .replace("SN-HOST-0001", "SN-X")
            .replace("\"status\":0", "\"status\":7")
    );
    let cases: Vec<(&str, String, &str)> = vec![
        ("bad.json", format!("{{\"datas\":[{record},"), "not valid JSON"),
        ("seven.json", status_seven, "datas[3].status: expected 0–4, got 7"),
        (
            "string-status.json",
            format!("[{}]", record.replace("\"status\":0", "\"status\":\"0\"")),
            "[0].status: expected 0–4, got the string \"0\"",
        ),
        (
            "number-id.jsonl",
            format!("{record}\n{}\n", record.replace("\"hosting-bj-001\"", "17")),
            "line 2: resourceId: expected a string, got 17",
        ),
        (
            "no-sn.json",
            format!("{{\"datas\":[{}]}}", record.replace("\"sn\":\"SN-HOST-0001\",", "")),
            "datas[0].sn: missing",
        ),
        ("scalar.json", "[1]".to_string(), "[0]: expected an object or an array, got a number"),
        ("empty.json", "  \n".to_string(), "the file is empty"),
        (
            "bad-status.csv",
            "sn,status,beian_num,ali_uid,resource_id,resource_type\nSN-HOST-0001,0,,blue-media,hosting-bj-001,9\nSN-X,9,,blue-media,hosting-bj-001,9\n".to_string(),
            "line 3: status: expected 0–4, got 9",
        ),
        (
            "bad-header.csv",
            "sn,state,beian_num,ali_uid,resource_id,resource_type\n".to_string(),
            "unknown column(s) state",
        ),
        (
            "no-uid.csv",
            "sn,status,beian_num,ali_uid,resource_id,resource_type\nSN-HOST-0001,0,,,hosting-bj-001,9\n".to_string(),
            "line 2: ali_uid: missing",
        ),
    ];
    for (name, content, message) in cases {
        let file = ledger.write(name, content);
        let error = ledger.refused(
            &["reconcile", file.to_str().unwrap(), "--record"],
            2,
            "usage",
        );
        assert!(error.contains(message), "{name}: {error}");
    }
    let missing = ledger.path("absent.json");
    ledger.refused(
        &["reconcile", missing.to_str().unwrap(), "--record"],
        3,
        "not_found",
    );
}

/// `reconcile FILE --record` is refused with exit 2, `message` in the
/// error, and nothing recorded.
fn malformed(ledger: &Ledger, name: &str, content: impl AsRef<[u8]>, message: &str) {
    let file = ledger.write(name, content);
    let before = ledger.export_history();
    let error = ledger.refused(
        &["reconcile", file.to_str().unwrap(), "--record"],
        2,
        "usage",
    );
    assert!(error.contains(message), "{name}: {error}");
    assert_eq!(ledger.export_history(), before, "{name}");
}

#[test]
fn a_key_given_twice_is_refused_naming_its_line_and_the_key() {
    let ledger = sample_ledger();
    let record = r#"{"sn":"SN-HOST-0001","status":0,"beianNum":"","aliUid":"blue-media","resourceType":9,"resourceId":"hosting-bj-001"}"#;
    let second_sn = record.replace(r#""resourceId""#, r#""sn":"SN-HOST-0002","resourceId""#);
    // JSON Lines: the third record gives `sn` twice (the last would win).
    malformed(
        &ledger,
        "twice.jsonl",
        format!("{record}\n{record}\n{second_sn}\n"),
        r#"line 3: sn: the key "sn" is given twice in one object"#,
    );
    // Inside a response, on the line of the second key.
    malformed(
        &ledger,
        "twice.json",
        format!(
            "{{\"datas\":[\n{record},\n{}\n]}}",
            second_sn.replace(r#","sn":"SN-HOST-0002""#, ",\n\"sn\":\"SN-HOST-0002\"")
        ),
        r#"line 4: datas[1].sn: the key "sn" is given twice in one object"#,
    );
    // In a wrapped GetBsnBySn response, and a response's own keys.
    malformed(
        &ledger,
        "twice-nested.json",
        r#"[{"sn":"SN-HOST-0001","response":{"data":{"status":0,"status":2,"beianNum":"","aliUid":"blue-media","resourceType":9,"resourceId":"hosting-bj-001"}}}]"#,
        r#"line 1: [0].response.data.status: the key "status" is given twice in one object"#,
    );
    malformed(
        &ledger,
        "twice-datas.json",
        format!("{{\"datas\":[{record}],\"RequestId\":\"r\",\"datas\":[]}}"),
        r#"line 1: datas: the key "datas" is given twice in one object"#,
    );
    // Each file without its second key is in sync.
    let file = ledger.write("once.jsonl", format!("{record}\n"));
    let (code, json) = reconcile(&ledger, &file, &[]);
    assert_eq!((code, json["in_sync"].clone()), (0, true.into()), "{json}");
}

#[test]
fn trailing_garbage_and_syntax_errors_are_reported_at_their_line_and_column() {
    let ledger = sample_ledger();
    let record = r#"{"sn":"SN-HOST-0001","status":0,"beianNum":"","aliUid":"blue-media","resourceType":9,"resourceId":"hosting-bj-001"}"#;
    let response = format!("{{\"datas\":[{record}]}}");
    let column = response.len() + 2;
    let after = "unexpected characters after the end of the JSON value";
    malformed(
        &ledger,
        "same-line.json",
        format!("{response} xyz\n"),
        &format!("line 1, column {column}: not valid JSON: {after}"),
    );
    malformed(
        &ledger,
        "bracket.json",
        format!("\u{feff}\n\n{response}\n  ]\n"),
        &format!("line 4, column 3: not valid JSON: {after}"),
    );
    malformed(
        &ledger,
        "jsonl.jsonl",
        format!("{record}\n{record}\n{record} ,\n"),
        &format!(
            "line 3, column {}: not valid JSON: {after}",
            record.len() + 2
        ),
    );
    // Past a chunk of the reader (64 KiB) on one line, after many lines.
    let spaces = " ".repeat(70_000);
    malformed(
        &ledger,
        "far.jsonl",
        format!("{}{spaces}#\n", format!("{record}\n").repeat(1000)),
        &format!("line 1001, column 70001: not valid JSON: {after}"),
    );
    // A syntax error inside the JSON, after white space before it: the
    // column is the offending character's.
    malformed(
        &ledger,
        "syntax.json",
        format!(
            "\n\n  {}\n",
            response.replace("\"status\":0", "\"status\":x")
        ),
        &format!(
            "line 3, column {}: not valid JSON: expected value",
            2 + response.find("\"status\":").unwrap() + "\"status\":x".len()
        ),
    );
}

/// A 64 MiB line is refused at the record cap, and the process stays under
/// a 32 MiB address-space limit while reading it: it never holds the line.
#[test]
fn an_oversized_line_is_refused_with_bounded_memory() {
    let ledger = sample_ledger();
    let mut content = b"{\"sn\":\"".to_vec();
    content.resize(64 * 1024 * 1024, b'A');
    content.extend_from_slice(b"\"}\n");
    let file = ledger.write("huge.jsonl", content);
    let before = ledger.export_history();
    let script = format!(
        "ulimit -v 32768; exec \"$0\" --db \"$1\" --now {} reconcile \"$2\" --record",
        ledger.now()
    );
    let output = Command::new("bash")
        .args(["-c", &script])
        .arg(bin())
        .arg(&ledger.db)
        .arg(&file)
        .output()
        .expect("bash");
    let error = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{error}");
    assert!(
        error.contains("error[usage]: line 1: a record is longer than 1048576 bytes"),
        "{error}"
    );
    assert_eq!(before, ledger.export_history());
}

/// A 1 GB line on standard input is refused at the record cap under a
/// 32 MiB address-space limit: the reader stops after 1 MiB (the writer
/// then gets a broken pipe), so neither the line nor the file is held.
#[test]
fn a_one_gigabyte_line_on_standard_input_is_refused_with_bounded_memory() {
    let ledger = sample_ledger();
    let before = ledger.export_history();
    let script = format!(
        "ulimit -v 32768; \
         {{ printf '{{\"sn\":\"'; head -c 1073741824 /dev/zero | tr '\\0' A; printf '\"}}\\n'; }} \
         | \"$0\" --db \"$1\" --now {} reconcile - --record",
        ledger.now()
    );
    let output = Command::new("bash")
        .args(["-c", &script])
        .arg(bin())
        .arg(&ledger.db)
        .output()
        .expect("bash");
    let error = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{error}");
    assert!(
        error.contains("error[usage]: line 1: a record is longer than 1048576 bytes"),
        "{error}"
    );
    assert_eq!(before, ledger.export_history());
}

#[test]
fn record_appends_one_reconciled_event_that_verifies_and_round_trips() {
    let ledger = sample_ledger();
    let file = sample("drifted.json");
    let (code, json) = reconcile(&ledger, &file, &["--record"]);
    assert_eq!(code, 1, "{json}");
    let event = ledger.last_event();
    assert_eq!(event["kind"], "reconciled");
    let payload = &event["payload"];
    let bytes = std::fs::read(&file).unwrap();
    assert_eq!(payload["file_size_bytes"], bytes.len() as u64);
    let sha = {
        use sha2::Digest;
        sha2::Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    assert_eq!(payload["file_sha256"], sha);
    assert_eq!(payload["numbers"], 7);
    assert_eq!(payload["differences"]["quota_differs"], 2);
    assert_eq!(payload["differences"]["unknown_number"], 3);
    ledger.verify_ok();
    // An in-sync comparison is recorded too, with exit 0.
    let (code, _) = reconcile(&ledger, &sample("in-sync.csv"), &["--record"]);
    assert_eq!(code, 0);
    assert_eq!(
        ledger.last_event()["payload"]["differences"]["status_differs"],
        0
    );
    ledger.verify_ok();
    // export history | import history rebuilds it exactly.
    let history = ledger.export_history();
    let copy = ledger.sibling("copy");
    let path = copy.write("history.csv", &history);
    copy.ok(&["import", "history", path.to_str().unwrap()]);
    assert_eq!(copy.export_history(), history);
    copy.verify_ok();
}

/// A `reconciled` payload forged with its hash recomputed is caught by
/// re-deciding it: verify names the event.
#[test]
fn a_forged_reconciled_payload_fails_verify() {
    let ledger = sample_ledger();
    reconcile(&ledger, &sample("in-sync.csv"), &["--record"]);
    let mut row = ledger.event_row(ledger.event_count() as i64);
    assert_eq!(row.kind, "reconciled");
    row.payload = row
        .payload
        .replace("\"file_size_bytes\":", "\"file_size_bytes\":-");
    let hash = row.computed_hash();
    ledger.tamper(&format!(
        "UPDATE events SET payload = '{}', hash = '{hash}' WHERE seq = {}",
        row.payload.replace('\'', "''"),
        row.seq
    ));
    let (code, report) = ledger.verify();
    assert_eq!(code, 5, "{report}");
    assert_eq!(report["first_bad_seq"], row.seq);
    assert!(report.to_string().contains("file size -"), "{report}");
}

#[test]
fn emitted_ops_imported_then_reconciled_leave_only_what_the_ledger_cannot_express() {
    let ledger = sample_ledger();
    let ops = ledger.path("fix.csv");
    let (code, first) = reconcile(
        &ledger,
        &sample("drifted.json"),
        &["--emit-ops", ops.to_str().unwrap()],
    );
    assert_eq!(code, 1);
    let text = std::fs::read_to_string(&ops).unwrap();
    assert_eq!(
        text,
        format!(
            "{OPS_HEADER}\n\
             allocate,i-bp1web01,SN-WEB01-0003,,,,,,,reconcile:SN-WEB01-0003,,\n\
             approve,,SN-WEB02-0001,,,,,沪ICP备20230001号-2,,,,\n\
             allocate,hosting-bj-001,SN-HOST-0002,,,,,,,reconcile:SN-HOST-0002,,\n\
             invalidate,,SN-HOST-0002,,,,,,provider: invalidated for administrative reasons,,,\n"
        )
    );
    ledger.ok(&["import", "ops", ops.to_str().unwrap()]);
    let (code, second) = reconcile(&ledger, &sample("drifted.json"), &[]);
    assert_eq!(code, 1);
    let expected = vec![
        triple("icp_number_differs", "SN-WEB01-0001", "i-bp1web01"),
        triple("instance_differs", "SN-WEB01-0002", "i-bp1web01"),
        triple("owner_differs", "SN-ENS-0001", "ens-gz-0031"),
        triple("type_differs", "SN-MALL-0001", "mall-88001"),
        triple("unknown_number", "SN-MALL-0001", "mall-88001"),
        triple("quota_differs", "", "i-bp1web02"),
        triple("missing_at_provider", "SN-HOST-0001", "hosting-bj-001"),
        triple("quota_differs", "", "mall-88001"),
    ];
    assert_eq!(found(&second), expected);
    // Every remaining difference was in the first report.
    let before = found(&first);
    assert!(expected.iter().all(|d| before.contains(d)));
    assert_eq!(ledger.status("SN-HOST-0002"), "invalid");
    assert_eq!(ledger.status("SN-WEB02-0001"), "filed");
    // A third pass emits nothing new.
    let again = ledger.path("again.csv");
    reconcile(
        &ledger,
        &sample("drifted.json"),
        &["--emit-ops", again.to_str().unwrap()],
    );
    assert_eq!(
        std::fs::read_to_string(&again).unwrap(),
        format!("{OPS_HEADER}\n")
    );
    ledger.verify_ok();
}

#[test]
fn reconcile_is_a_read_it_creates_no_ledger_and_refuses_as_of_with_writes() {
    sqlite_only!("a missing SQLite file");
    let ledger = Ledger::new();
    let file = ledger.write("p.csv", std::fs::read(sample("in-sync.csv")).unwrap());
    let output = ledger.run(&["reconcile", file.to_str().unwrap()]);
    assert_fails(&output, 3, "not_found", "reconcile on no ledger");
    assert!(!ledger.db.exists(), "a read created the ledger");
    let ledger = sample_ledger();
    let file = sample("in-sync.csv");
    for extra in [["--record", ""], ["--emit-ops", "out.csv"]] {
        let mut args = vec!["reconcile", file.to_str().unwrap(), "--as-of", NOW];
        args.extend(extra.iter().filter(|a| !a.is_empty()));
        ledger.refused(&args, 2, "usage");
    }
    // --as-of before any number existed: every provider number is unknown.
    let (code, json) = reconcile(&ledger, &file, &["--as-of", "2026-01-01T00:00:00Z"]);
    assert_eq!(code, 1);
    assert!(
        found(&json)
            .iter()
            .all(|(class, _, _)| class == "unknown_number"),
        "{json}"
    );
}
