//! Names: one thing, one spelling (docs/guide.md "Names: one thing, one spelling"):
//! every spelling of a service is the same service, ids and numbers are the
//! same whatever their ASCII case, invisible characters are refused, ICP
//! numbers have the MIIT's shape and belong to one live number. Through
//! commands, `import ops` and `import history` alike.

use crate::common::*;
use serde_json::Value;

const SHOP: &str = "shop.example.cn";

/// Spellings of `shop.example.cn` that UTS #46 maps to it.
const SHOP_SPELLINGS: [&str; 6] = [
    "Shop.Example.CN",
    "shop.example.cn.",
    "ｓｈｏｐ.example.cn",
    "ｓｈｏｐ．ｅｘａｍｐｌｅ．ｃｎ",
    "SHOP。EXAMPLE。CN",
    " shop.example.cn ",
];

/// Invisible characters free text refuses: control, format (Cf), line and
/// paragraph separators.
const INVISIBLE: [(char, &str); 13] = [
    ('\u{200B}', "U+200B"), // zero-width space
    ('\u{200C}', "U+200C"), // zero-width non-joiner
    ('\u{200D}', "U+200D"), // zero-width joiner
    ('\u{2060}', "U+2060"), // word joiner
    ('\u{202E}', "U+202E"), // right-to-left override
    ('\u{2066}', "U+2066"), // left-to-right isolate
    ('\u{FEFF}', "U+FEFF"), // byte order mark
    ('\u{00AD}', "U+00AD"), // soft hyphen
    ('\u{2028}', "U+2028"), // line separator
    ('\u{2029}', "U+2029"), // paragraph separator
    ('\u{0007}', "U+0007"), // bell
    ('\u{007F}', "U+007F"), // delete
    ('\u{0085}', "U+0085"), // next line
];

/// A ledger with the eligible ECS instances i-web and i-web2 of acme and
/// `count` numbers on i-web.
fn ledger_with_numbers(count: usize) -> (Ledger, Vec<String>) {
    let ledger = Ledger::new();
    ledger.ecs("i-web", "acme");
    ledger.ecs("i-web2", "acme");
    let numbers = ledger.allocate("i-web", count);
    (ledger, numbers)
}

fn service(ledger: &Ledger, name: &str) -> Value {
    ledger.json(&["service", "show", "--", name])
}

fn bind_args<'a>(number: &'a str, service: &'a str) -> Vec<&'a str> {
    vec!["bind", number, "--service", service, "--account", "acme"]
}

#[test]
fn every_spelling_of_a_domain_is_the_same_service_in_bind_and_select() {
    let (ledger, numbers) = ledger_with_numbers(2);
    ledger.bind(&numbers[0], SHOP, "acme");
    for spelling in SHOP_SPELLINGS {
        let message = ledger.refused(&bind_args(&numbers[1], spelling), 4, "service_taken");
        assert!(message.contains(SHOP), "{spelling}: {message}");
        ledger.refused(
            &["select", "i-web", "--service", spelling],
            4,
            "service_taken",
        );
        // Each spelling finds the one service, printed in its one form.
        let shown = service(&ledger, spelling);
        assert_eq!(
            (&shown["service"], &shown["number"]),
            (&Value::from(SHOP), &Value::from(numbers[0].as_str())),
            "{spelling}"
        );
    }
    assert_eq!(ledger.count("services"), 1);
    ledger.verify_ok();
}

#[test]
fn an_internationalised_domain_is_its_punycode_and_displays_in_unicode() {
    let (ledger, numbers) = ledger_with_numbers(3);
    ledger.bind(&numbers[0], "例子.中国", "acme");
    let shown = service(&ledger, "例子.中国");
    assert_eq!(shown["service"], "xn--fsqu00a.xn--fiqs8s");
    assert_eq!(shown["display_name"], "例子.中国");
    assert_eq!(
        ledger.number(&numbers[0])["service"],
        "xn--fsqu00a.xn--fiqs8s"
    );
    for spelling in [
        "xn--fsqu00a.xn--fiqs8s",
        "例子。中国",
        "XN--FSQU00A.xn--fiqs8s.",
    ] {
        ledger.refused(&bind_args(&numbers[1], spelling), 4, "service_taken");
    }
    // NFC and NFD of é.cn are one service.
    ledger.bind(&numbers[1], "\u{e9}.cn", "acme");
    ledger.refused(&bind_args(&numbers[2], "e\u{301}.cn"), 4, "service_taken");
    let shown = service(&ledger, "e\u{301}.cn");
    assert_eq!(
        (&shown["service"], &shown["display_name"]),
        (&Value::from("xn--9ca.cn"), &Value::from("\u{e9}.cn"))
    );
    // CSV gives display_name beside service.
    let csv = parse_csv(&ledger.ok(&["--format", "csv", "service", "list"]));
    assert_eq!(&csv[0][..2], ["service", "display_name"]);
    assert!(csv
        .iter()
        .any(|row| row[0] == "xn--fsqu00a.xn--fiqs8s" && row[1] == "例子.中国"));
    ledger.verify_ok();
}

#[test]
fn a_bad_domain_is_a_usage_error_naming_why() {
    let (ledger, numbers) = ledger_with_numbers(1);
    for (name, why) in [
        ("shop..example.cn", "empty label"),
        ("a_b.example.cn", "'_' is not allowed"),
        ("-shop.example.cn", "UTS #46 refuses the label '-shop'"),
        ("xn--zz-.cn", "UTS #46 refuses"),
        ("shop.", "at least two labels"),
    ] {
        let service = format!("--service={name}");
        let args = ["bind", &numbers[0], &service, "--account", "acme"];
        let message = ledger.refused(&args, 2, "usage");
        assert!(message.contains(why), "{name}: {message}");
    }
    assert_eq!(ledger.status(&numbers[0]), "unbound");
}

#[test]
fn app_names_are_the_same_service_by_nfkc_case_folding_and_keep_the_first_spelling() {
    let (ledger, numbers) = ledger_with_numbers(3);
    ledger.bind(&numbers[0], "  Green   Apps ", "acme");
    assert_eq!(ledger.number(&numbers[0])["service"], "Green Apps");
    for spelling in [
        "green apps",
        "GREEN  APPS",
        "Ｇｒｅｅｎ\u{3000}Ａｐｐｓ",
        "green\u{a0}apps",
    ] {
        let shown = service(&ledger, spelling);
        assert_eq!(shown["service"], "Green Apps", "{spelling}");
        assert_eq!(shown["display_name"], "Green Apps", "{spelling}");
    }
    for spelling in ["green apps", "GREEN  APPS", "Ｇｒｅｅｎ\u{3000}Ａｐｐｓ"] {
        ledger.refused(&bind_args(&numbers[1], spelling), 4, "service_taken");
    }
    // Once its number is deregistered, the service may bind again: under
    // the spelling the ledger first gave it.
    ledger.ok(&["deregister", &numbers[0]]);
    ledger.bind(&numbers[1], "GREEN APPS", "acme");
    assert_eq!(ledger.number(&numbers[1])["service"], "Green Apps");
    assert_eq!(ledger.last_event()["payload"]["service"], "Green Apps");
    assert_eq!(ledger.count("services"), 1);
    ledger.verify_ok();
}

/// A filed service on i-web, bound to `numbers[0]`.
fn filed(ledger: &Ledger, number: &str, name: &str, icp_number: &str) {
    ledger.bind(number, name, "acme");
    ledger.ok(&["submit", number]);
    ledger.ok(&["approve", number, "--icp-number", icp_number]);
}

#[test]
fn service_move_finds_the_service_by_any_spelling() {
    let (ledger, numbers) = ledger_with_numbers(1);
    filed(&ledger, &numbers[0], SHOP, "浙ICP备12345678号-1");
    ledger.refused(
        &["service", "move", "Shop.Example.CN", "--to", "I-WEB"],
        4,
        "already_exists",
    );
    let moved = ledger.json(&["service", "move", "ｓｈｏｐ.example.cn.", "--to", "I-WEB2"]);
    assert_eq!(
        (&moved["service"], &moved["host"]),
        (&Value::from(SHOP), &Value::from("i-web2"))
    );
    let payload = &ledger.last_event()["payload"];
    assert_eq!(
        (&payload["service"], &payload["to_host"]),
        (&Value::from(SHOP), &Value::from("i-web2"))
    );
    ledger.refused(
        &["service", "move", "SHOP.example.cn", "--to", "i-WEB2"],
        4,
        "already_exists",
    );
    ledger.verify_ok();
}

#[test]
fn instance_ids_and_numbers_are_unique_and_found_whatever_their_ascii_case() {
    let ledger = Ledger::new();
    ledger.ecs("i-web", "acme");
    let message = ledger.refused(
        &instance_add_args("I-WEB", "ecs", "acme", &["--public-ip", "47.96.10.21"]),
        4,
        "already_exists",
    );
    assert!(message.contains("(as i-web)"), "{message}");
    ledger.ok(&["allocate", "I-Web", "--number", "SN-0001"]);
    assert_eq!(ledger.last_event()["payload"]["instance_id"], "i-web");
    let message = ledger.refused(
        &["allocate", "i-web", "--number", "sn-0001"],
        4,
        "already_exists",
    );
    assert!(message.contains("(as SN-0001)"), "{message}");
    let message = ledger.refused(
        &[
            "allocate", "i-web", "--number", "AB-01", "--number", "ab-01",
        ],
        2,
        "usage",
    );
    assert!(message.contains("given twice"), "{message}");
    // Look-ups ignore case; the first spelling is kept and printed.
    assert_eq!(ledger.instance("I-WEB")["instance_id"], "i-web");
    assert_eq!(ledger.instance("I-WEB")["numbers"][0]["number"], "SN-0001");
    ledger.ok(&["grant", "sn-0001", "--to", "other"]);
    assert_eq!(ledger.last_event()["payload"]["number"], "SN-0001");
    assert_eq!(ledger.number("sn-0001")["number"], "SN-0001");
    assert_eq!(ledger.number("sn-0001")["holder"], "other");
    let listed = ledger.json(&["number", "list", "--instance", "I-WEB"]);
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");
    ledger.ok(&[
        "instance",
        "renew",
        "I-WEB",
        "--months",
        "1",
        "--expires",
        "2027-06-01",
    ]);
    assert_eq!(ledger.last_event()["payload"]["instance_id"], "i-web");
    ledger.verify_ok();
}

#[test]
fn every_invisible_character_is_refused_in_every_free_text_field_naming_its_code_point() {
    let (ledger, numbers) = ledger_with_numbers(2);
    let number = numbers[0].as_str();
    ledger.bind(&numbers[1], "bound.example.cn", "acme");
    ledger.ok(&["submit", &numbers[1]]);
    for (c, code_point) in INVISIBLE {
        let domain = format!("shop{c}.example.cn");
        let app = format!("Green{c}Apps");
        let text = format!("a{c}b");
        let actor = format!("ops{c}x");
        let cases: Vec<Vec<&str>> = vec![
            bind_args(number, &domain),
            bind_args(number, &app),
            vec!["select", "i-web", "--service", &domain],
            vec!["grant", number, "--to", "other", "--note", &text],
            vec!["reject", &numbers[1], "--reason", &text],
            vec!["approve", &numbers[1], "--icp-number", &text],
            vec!["allocate", "i-web", "--request-id", &text],
        ];
        for args in cases {
            let message = ledger.refused(&args, 2, "usage");
            assert!(message.contains(code_point), "{args:?}: {message}");
        }
        let before = ledger.export_history();
        let output = ledger.run_as(&actor, &ledger.now(), &["grant", number, "--to", "other"]);
        assert_fails(&output, 2, "usage", &format!("actor {actor:?}"));
        assert!(stderr(&output).contains(code_point), "{}", stderr(&output));
        assert_eq!(ledger.export_history(), before, "actor {actor:?}");
    }
    assert_eq!(ledger.status(number), "unbound");
}

/// Characters that would make a name look exactly like another: the
/// issue's seven default-ignorable characters and blank-looking letters
/// (SPEC §1.6), each found making a second `Green Apps`; then the second
/// round's blank glyphs, placeholder, private use and noncharacter.
const LOOK_ALIKE: [(char, &str); 12] = [
    ('\u{034F}', "U+034F"),   // combining grapheme joiner
    ('\u{3164}', "U+3164"),   // Hangul filler
    ('\u{115F}', "U+115F"),   // Hangul choseong filler
    ('\u{FE0F}', "U+FE0F"),   // variation selector 16
    ('\u{E0100}', "U+E0100"), // variation selector 17
    ('\u{17B4}', "U+17B4"),   // Khmer vowel inherent aq
    ('\u{2800}', "U+2800"),   // Braille pattern blank
    ('\u{1D159}', "U+1D159"), // musical symbol null notehead
    ('\u{16FE4}', "U+16FE4"), // Khitan small script filler
    ('\u{FFFC}', "U+FFFC"),   // object replacement character
    ('\u{E000}', "U+E000"),   // private use
    ('\u{FDD0}', "U+FDD0"),   // noncharacter
];

#[test]
fn default_ignorable_and_blank_looking_characters_are_refused_in_every_name() {
    let (ledger, numbers) = ledger_with_numbers(3);
    ledger.bind(&numbers[0], "Green Apps", "acme");
    ledger.bind(&numbers[1], SHOP, "acme");
    let free = numbers[2].as_str();
    for (c, code_point) in LOOK_ALIKE {
        let before = ledger.export_history();
        let names = [
            format!("Green{c}Apps"),
            format!("Green {c}Apps"),
            format!("Green Apps{c}"),
            format!("{c}Green Apps"),
            format!("shop{c}.example.cn"),
            format!("shop.example.cn{c}"),
        ];
        for name in &names {
            let cases: Vec<Vec<&str>> = vec![
                bind_args(free, name),
                vec!["select", "i-web2", "--service", name],
                vec!["service", "rename", "Green Apps", "--to", name],
                vec!["service", "show", "--", name],
            ];
            for args in cases {
                let message = ledger.refused(&args, 2, "usage");
                assert!(message.contains(code_point), "{args:?}: {message}");
            }
            let file = ledger.write(
                "look-alike.csv",
                ops_file(&[ops_row(&[
                    ("op", "bind"),
                    ("number", free),
                    ("account", "acme"),
                    ("service", name),
                ])]),
            );
            let message = ledger.refused(
                &["import".as_ref(), "ops".as_ref(), file.as_os_str()],
                2,
                "usage",
            );
            assert!(message.contains(code_point), "{name:?}: {message}");
        }
        assert_eq!(ledger.export_history(), before, "{code_point}");
    }
    // A punycode label that decodes to one is refused as well: UTS #46
    // refuses most (the Hangul filler, the grapheme joiner); the blank
    // Braille pattern it lets through, and the name rules refuse it.
    for (punycode, why) in [
        ("xn--shop-yj5b.example.cn", "U+2800"),
        (
            "xn--shop-ed5c.example.cn",
            "UTS #46 refuses the label 'xn--shop-ed5c'",
        ),
        (
            "xn--shop-36c.example.cn",
            "UTS #46 refuses the label 'xn--shop-36c'",
        ),
    ] {
        let message = ledger.refused(&bind_args(free, punycode), 2, "usage");
        assert!(message.contains(why), "{punycode}: {message}");
    }
    assert_eq!(ledger.count("services"), 2);
    assert_eq!(ledger.status(free), "unbound");
    ledger.verify_ok();
}

#[test]
fn import_history_refuses_a_look_alike_name() {
    let (ledger, numbers) = ledger_with_numbers(2);
    ledger.bind(&numbers[0], "Green Apps", "acme");
    ledger.bind(&numbers[1], "Blue Apps", "acme");
    let blue_seq = ledger
        .events(&["--number", &numbers[1], "--kind", "bound"])
        .first()
        .and_then(|event| event["seq"].as_i64())
        .unwrap();
    for (index, (c, code_point)) in LOOK_ALIKE.into_iter().enumerate() {
        let forged = edited_history(&ledger, |seq, payload| {
            if seq == blue_seq {
                payload.replace("Blue Apps", &format!("Green{c}Apps"))
            } else {
                payload.to_string()
            }
        });
        history_refused(&ledger, &format!("look-alike-{index}"), forged, code_point);
    }
}

#[test]
fn icp_numbers_have_the_miit_shape() {
    let (ledger, numbers) = ledger_with_numbers(5);
    let good = [
        "京ICP备2023000001号-2A",
        "浙ICP备12345678号-1",
        "粤ICP证1号",
        "沪ICP备123456789012号",
        "新ICP备7号-1234",
    ];
    let bad = [
        "ICP-1",
        "港ICP备1号",
        "京icp备1号",
        "京ICP备号",
        "京ICP备1234567890123号",
        "京ICP备1",
        "京ICP备1号-",
        "京ICP备1号-12345",
        "京ICP备1号-1a",
        "京ICP备１号",
        "=1+2",
    ];
    for (number, icp_number) in numbers.iter().zip(good) {
        ledger.bind(number, &format!("s{}.example.cn", &number[..8]), "acme");
        ledger.ok(&["submit", number]);
        for wrong in bad {
            let message = ledger.refused(&["approve", number, "--icp-number", wrong], 2, "usage");
            assert!(
                message.contains("is not an ICP number"),
                "{wrong}: {message}"
            );
        }
        ledger.ok(&["approve", number, "--icp-number", icp_number]);
        assert_eq!(ledger.number(number)["icp_number"], icp_number);
    }
    ledger.verify_ok();
}

#[test]
fn one_icp_number_belongs_to_one_live_number() {
    let (ledger, numbers) = ledger_with_numbers(3);
    let icp_number = "浙ICP备12345678号-1";
    filed(&ledger, &numbers[0], SHOP, icp_number);
    ledger.bind(&numbers[1], "other.example.cn", "acme");
    ledger.ok(&["submit", &numbers[1]]);
    let message = ledger.refused(
        &["approve", &numbers[1], "--icp-number", icp_number],
        4,
        "icp_number_taken",
    );
    assert!(message.contains(&numbers[0]), "{message}");
    // Once that number is no longer live, the ICP number may be used again.
    ledger.ok(&["deregister", &numbers[0]]);
    ledger.ok(&["approve", &numbers[1], "--icp-number", icp_number]);
    ledger.bind(&numbers[2], "third.example.cn", "acme");
    ledger.ok(&["submit", &numbers[2]]);
    ledger.refused(
        &["approve", &numbers[2], "--icp-number", icp_number],
        4,
        "icp_number_taken",
    );
    ledger.verify_ok();
}

#[test]
fn import_ops_applies_the_same_name_rules() {
    let (ledger, numbers) = ledger_with_numbers(3);
    ledger.bind(&numbers[0], SHOP, "acme");
    let bind_row = |number: &str, service: &str| {
        ops_row(&[
            ("op", "bind"),
            ("number", number),
            ("account", "acme"),
            ("service", service),
        ])
    };
    let cases = [
        // A spelling of a live service.
        (
            vec![bind_row(&numbers[1], "Shop.Example.CN.")],
            4,
            "service_taken",
        ),
        (
            vec![ops_row(&[
                ("op", "select"),
                ("instance_id", "I-WEB"),
                ("service", "ｓｈｏｐ.example.cn"),
            ])],
            4,
            "service_taken",
        ),
        // Two spellings of one app name in one file.
        (
            vec![
                bind_row(&numbers[1], "Green Apps"),
                bind_row(&numbers[2], "GREEN APPS"),
            ],
            4,
            "service_taken",
        ),
        // A case variant of a number already there.
        (
            vec![ops_row(&[
                ("op", "allocate"),
                ("instance_id", "i-web"),
                ("number", &numbers[0].to_uppercase()),
            ])],
            4,
            "already_exists",
        ),
        (
            vec![bind_row(&numbers[1], "shop\u{200B}.example.cn")],
            2,
            "usage",
        ),
    ];
    for (index, (rows, exit, code)) in cases.into_iter().enumerate() {
        let file = ledger.write(&format!("ops-{index}.csv"), ops_file(&rows));
        let message = ledger.refused(
            &["import".as_ref(), "ops".as_ref(), file.as_os_str()],
            exit,
            code,
        );
        assert!(message.contains("line "), "{index}: {message}");
    }
    // The same file with one spelling per service imports.
    let rows = [
        bind_row(&numbers[1], "Green Apps"),
        bind_row(&numbers[2], "例子.中国"),
    ];
    let file = ledger.write("ops-ok.csv", ops_file(&rows));
    ledger.ok(&["import".as_ref(), "ops".as_ref(), file.as_os_str()]);
    assert_eq!(
        ledger.number(&numbers[2])["service"],
        "xn--fsqu00a.xn--fiqs8s"
    );
    ledger.verify_ok();
}

/// The ledger's history as a CSV file with every payload passed through
/// `edit(seq, payload)`, the chain recomputed so that only the edits are
/// wrong.
fn edited_history(ledger: &Ledger, edit: impl Fn(i64, &str) -> String) -> String {
    let mut out = format!("{HISTORY_HEADER}\n");
    let mut prev = GENESIS.to_string();
    for mut row in ledger.event_rows() {
        row.payload = edit(row.seq, &row.payload);
        row.prev_hash = prev;
        row.hash = row.computed_hash();
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{}\n",
            row.seq,
            row.event_id,
            row.at,
            row.actor,
            row.kind,
            cell(&row.payload),
            row.prev_hash,
            row.hash
        ));
        prev = row.hash;
    }
    out
}

/// `import history` of `text` into a new ledger is refused as a log the
/// rules refuse (exit 5), naming `why`, and leaves that ledger empty.
fn history_refused(source: &Ledger, name: &str, text: String, why: &str) {
    let target = source.sibling(name);
    target.ok(&["init"]);
    let file = target.write(&format!("{name}.csv"), text);
    let message = target.refused(
        &["import".as_ref(), "history".as_ref(), file.as_os_str()],
        5,
        "integrity",
    );
    assert!(message.contains(why), "{name}: {message}");
    assert_eq!(target.event_count(), 0, "{name}");
}

#[test]
fn import_history_refuses_names_the_rules_would_refuse() {
    let (ledger, numbers) = ledger_with_numbers(3);
    ledger.bind(&numbers[0], SHOP, "acme");
    ledger.bind(&numbers[1], "Green Apps", "acme");
    ledger.bind(&numbers[2], "Blue Apps", "acme");
    let bound_seq = |number: &str| {
        ledger
            .events(&["--number", number, "--kind", "bound"])
            .first()
            .and_then(|event| event["seq"].as_i64())
            .unwrap()
    };
    let (shop_seq, blue_seq) = (bound_seq(&numbers[0]), bound_seq(&numbers[2]));
    let instance_seq = 2; // i-web2's instance_added
                          // A non-canonical spelling of a service.
    let spelt = edited_history(&ledger, |seq, payload| {
        if seq == shop_seq {
            payload.replace(SHOP, "Shop.Example.CN")
        } else {
            payload.to_string()
        }
    });
    history_refused(&ledger, "spelt", spelt, "the rules give");
    // Two spellings of one app name live at once.
    let twice = edited_history(&ledger, |seq, payload| {
        if seq == blue_seq {
            payload.replace("Blue Apps", "green apps")
        } else {
            payload.to_string()
        }
    });
    history_refused(&ledger, "twice", twice, "service_taken");
    // An instance id that differs from an earlier one only in case.
    let cased = edited_history(&ledger, |seq, payload| {
        if seq == instance_seq {
            payload.replace("\"i-web2\"", "\"I-WEB\"")
        } else {
            payload.to_string()
        }
    });
    history_refused(&ledger, "cased", cased, "already_exists");
    // The genuine log imports and verifies.
    let genuine = ledger.sibling("genuine");
    let file = genuine.write("genuine.csv", edited_history(&ledger, |_, p| p.to_string()));
    genuine.ok(&["import".as_ref(), "history".as_ref(), file.as_os_str()]);
    assert_eq!(genuine.export_history(), ledger.export_history());
    genuine.verify_ok();
}

#[test]
fn a_ledger_made_before_the_names_migration_upgrades_in_place() {
    sqlite_only!("builds an old SQLite schema");
    let (ledger, numbers) = ledger_with_numbers(1);
    ledger.bind(&numbers[0], "Green Apps", "acme");
    let expected = ledger.export_history();
    {
        // Back to schema version 1: the services table without its key.
        let conn = ledger.conn();
        conn.execute_batch(UNDO_MIGRATION_4).unwrap();
        conn.execute_batch(
            "DROP INDEX services_by_key; DROP INDEX instances_by_folded_id;
             DROP INDEX numbers_by_folded_number; DROP INDEX numbers_by_icp_number;
             ALTER TABLE services DROP COLUMN service_key; PRAGMA user_version = 1;",
        )
        .unwrap();
    }
    // The next command upgrades it and fills in the key.
    assert_eq!(service(&ledger, "GREEN apps")["service"], "Green Apps");
    ledger.refused(
        &["select", "i-web", "--service", "green apps"],
        4,
        "service_taken",
    );
    assert_eq!(ledger.export_history(), expected);
    ledger.verify_ok();
}

#[test]
fn verify_finds_an_edited_service_key() {
    let (ledger, numbers) = ledger_with_numbers(1);
    ledger.bind(&numbers[0], "Green Apps", "acme");
    ledger.tamper("UPDATE services SET service_key = 'blue apps'");
    let (exit, report) = ledger.verify();
    assert_eq!(exit, 5, "{report}");
    assert!(
        report["problems"].to_string().contains("service_key"),
        "{report}"
    );
}

#[test]
fn service_rename_refuses_every_spelling_of_a_live_service() {
    let (ledger, numbers) = ledger_with_numbers(2);
    ledger.ok(&bind_args(&numbers[0], SHOP));
    ledger.ok(&bind_args(&numbers[1], "shop.exmaple.cn"));
    let before = ledger.export_history();
    for spelling in SHOP_SPELLINGS {
        ledger.refused(
            &["service", "rename", "shop.exmaple.cn", "--to", spelling],
            4,
            "service_taken",
        );
    }
    assert_eq!(ledger.export_history(), before, "refusals change nothing");
    // The typo is corrected to a new name given in another spelling: the
    // ledger stores its canonical form.
    ledger.ok(&[
        "service",
        "rename",
        "SHOP.EXMAPLE.CN",
        "--to",
        "Blog.Example.CN.",
    ]);
    assert_eq!(
        service(&ledger, "blog.example.cn")["service"],
        "blog.example.cn"
    );
    assert_eq!(ledger.last_event()["payload"]["to"], "blog.example.cn");
    ledger.verify_ok();
}

#[test]
fn history_finds_a_service_instance_and_number_by_any_spelling() {
    let (ledger, numbers) = ledger_with_numbers(1);
    ledger.ok(&bind_args(&numbers[0], SHOP));
    let by_service = ledger.events(&["--service", SHOP]);
    assert!(!by_service.is_empty());
    for spelling in SHOP_SPELLINGS {
        assert_eq!(
            ledger.events(&["--service", spelling]),
            by_service,
            "history --service {spelling:?}"
        );
    }
    let by_instance = ledger.events(&["--instance", "i-web"]);
    assert_eq!(ledger.events(&["--instance", "I-WEB"]), by_instance);
    let by_number = ledger.events(&["--number", &numbers[0]]);
    assert_eq!(
        ledger.events(&["--number", &numbers[0].to_uppercase()]),
        by_number
    );
}

#[test]
fn a_repeated_request_with_numbers_in_another_case_is_the_same_request() {
    let ledger = Ledger::new();
    ledger.ecs("i-web", "acme");
    let first = ledger.json(&[
        "allocate",
        "i-web",
        "--number",
        "SN-0001",
        "--request-id",
        "r-1",
    ]);
    let again = ledger.json(&[
        "allocate",
        "i-web",
        "--number",
        "sn-0001",
        "--request-id",
        "r-1",
    ]);
    assert_eq!(again["replayed"], true, "{again}");
    assert_eq!(again["numbers"], first["numbers"]);
    assert_eq!(ledger.consumed("i-web"), 1);
}

#[test]
fn allocate_prints_the_stored_spelling_of_the_instance_new_or_replayed() {
    let ledger = Ledger::new();
    ledger.ecs("q-1", "acme");
    let first = ledger.json(&["allocate", "Q-1", "--request-id", "RQ"]);
    assert_eq!(
        (&first["instance_id"], &first["replayed"]),
        (&Value::from("q-1"), &Value::from(false)),
        "{first}"
    );
    let before = ledger.export_history();
    for spelling in ["Q-1", "q-1"] {
        let again = ledger.json(&["allocate", spelling, "--request-id", "RQ"]);
        assert_eq!(
            (&again["instance_id"], &again["replayed"]),
            (&Value::from("q-1"), &Value::from(true)),
            "{spelling}: {again}"
        );
        assert_eq!(again["numbers"], first["numbers"], "{spelling}");
        // The table and CSV forms too.
        let csv = parse_csv(&ledger.ok(&[
            "--format",
            "csv",
            "allocate",
            spelling,
            "--request-id",
            "RQ",
        ]));
        assert_eq!(csv[1][0], "q-1", "{spelling}: {csv:?}");
        let table = ledger.ok(&["allocate", spelling, "--request-id", "RQ"]);
        assert!(
            table.contains("instance q-1: 1 consumed"),
            "{spelling}: {table}"
        );
        assert!(!table.contains("Q-1"), "{spelling}: {table}");
    }
    assert_eq!(ledger.export_history(), before);
    assert_eq!(ledger.consumed("q-1"), 1);
}
