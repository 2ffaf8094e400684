//! Unit tests of `domain::event`; compiled only for tests (`#[cfg(test)] mod tests;`).

use super::*;

#[test]
fn decimal_text() {
    let mut buffer = [0_u8; 20];
    assert_eq!(decimal(0, &mut buffer), b"0");
    assert_eq!(decimal(1234567, &mut buffer), b"1234567");
    assert_eq!(
        decimal(i64::MAX, &mut buffer),
        i64::MAX.to_string().as_bytes()
    );
}

#[test]
fn genesis_hash_matches_the_formula() {
    let expected = {
        let text = format!("{GENESIS_HASH}\n1\nid\n2026-11-22T10:00:00Z\nops\npolicy_set\n{{}}");
        let digest = Sha256::digest(text.as_bytes());
        digest
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    assert_eq!(
        chain_hash(
            GENESIS_HASH,
            1,
            "id",
            "2026-11-22T10:00:00Z",
            "ops",
            "policy_set",
            "{}"
        ),
        expected
    );
}

#[test]
fn a_sealed_event_verifies_and_parses_back() {
    let body = Body::Granted(Granted {
        number: "n-1".into(),
        instance_id: "i-1".into(),
        owner: "a".into(),
        from: "a".into(),
        to: "b".into(),
        note: Some("=HYPERLINK(\"x\")".into()),
    });
    let event = Event::seal(
        7,
        "e".into(),
        "2026-11-22T10:00:00Z".into(),
        "ops".into(),
        &body,
        GENESIS_HASH,
    );
    assert_eq!(event.hash, event.computed_hash());
    assert_eq!(event.body().unwrap(), body);
    let mut tampered = event.clone();
    tampered.payload = tampered.payload.replace("\"b\"", "\"c\"");
    assert_ne!(tampered.hash, tampered.computed_hash());
}

#[test]
fn every_kind_is_known_and_bad_payloads_are_integrity_errors() {
    for kind in KINDS {
        let error = Body::parse(kind, "not json").unwrap_err();
        assert_eq!(error.code(), "integrity");
    }
    assert_eq!(Body::parse("stolen", "{}").unwrap_err().code(), "integrity");
}

#[test]
fn the_clock_repaired_constant_is_the_kind_the_table_names() {
    let body = Body::ClockRepaired(ClockRepaired {
        first_seq: 1,
        last_seq: 1,
        first_claimed_at: "2036-01-01T00:00:00Z".into(),
        last_claimed_at: "2036-01-01T00:00:00Z".into(),
        reason: "ntp".into(),
    });
    assert_eq!(body.kind(), CLOCK_REPAIRED);
    assert!(KINDS.contains(&CLOCK_REPAIRED));
}
