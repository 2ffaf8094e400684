//! Unit tests of `domain::types`; compiled only for tests (`#[cfg(test)] mod tests;`).

use super::*;

#[test]
fn identifiers() {
    assert!(validate_account("acct-1.a_b").is_ok());
    assert!(validate_account("-acct").is_err());
    assert!(validate_account("").is_err());
    assert!(validate_account(&"a".repeat(65)).is_err());
    assert!(validate_account("a b").is_err());
    assert!(validate_instance_id("i-bp1:x.y_z").is_ok());
    assert!(validate_instance_id("'; DROP TABLE events; --").is_err());
    assert!(validate_number("abcd").is_ok());
    assert!(validate_number("abc").is_err());
    assert!(validate_number("ab_cd").is_err());
    assert!(validate_service("www.example.com").is_ok());
    assert!(validate_service("a\u{0}b").is_err());
    assert!(validate_service(&"a".repeat(254)).is_err());
    for public in [
        "47.96.10.21",
        "::ffff:47.96.10.21",
        "2408:4000::1",
        "240e::1",
    ] {
        assert!(validate_public_ip(public).is_ok(), "{public}");
    }
    for private in [
        "10.0.0.1",
        "192.168.1.1",
        "172.16.0.1",
        "127.0.0.1",
        "0.0.0.0",
        "169.254.1.1",
        "255.255.255.255",
        "224.0.0.1",
        "::1",
        "::",
        "fd00::1",
        "fe80::1",
        "203.0.113.7",
        "2001:db8::1",
        "::ffff:10.0.0.1",
        "300.1.1.1",
        "x",
    ] {
        assert!(validate_public_ip(private).is_err(), "{private}");
    }
}

#[test]
fn times() {
    let t = parse_time("t", "2026-11-22T18:00:00.5+08:00").unwrap();
    assert_eq!(format_time(t), "2026-11-22T10:00:00Z");
    assert_eq!(
        format_time(parse_time("t", "2026-01-02").unwrap()),
        "2026-01-02T00:00:00Z"
    );
    assert!(parse_time("t", "yesterday").is_err());
    assert!(parse_time("t", "0001-01-01T00:00:00Z").is_err());
}

#[test]
fn times_in_a_zone() {
    let shanghai: chrono_tz::Tz = "Asia/Shanghai".parse().unwrap();
    let utc = chrono_tz::Tz::UTC;
    let midnight = parse_time_in("t", "2027-06-01", shanghai).unwrap();
    assert_eq!(format_time(midnight), "2027-05-31T16:00:00Z");
    assert_eq!(
        display_time_in("2027-05-31T16:00:00Z", shanghai),
        "2027-06-01 00:00:00 +08:00"
    );
    for (text, expected) in [
        ("2027-06-01T08:30:00", "2027-06-01T00:30:00Z"),
        ("2027-06-01 08:30", "2027-06-01T00:30:00Z"),
        ("2027-06-01T08:30:00Z", "2027-06-01T08:30:00Z"),
    ] {
        assert_eq!(
            format_time(parse_time_in("t", text, shanghai).unwrap()),
            expected
        );
    }
    assert_eq!(
        format_time(parse_time_in("t", "2027-06-01", utc).unwrap()),
        "2027-06-01T00:00:00Z"
    );
    let new_york: chrono_tz::Tz = "America/New_York".parse().unwrap();
    assert!(parse_time_in("t", "2027-03-14T02:30:00", new_york).is_err());
    assert!(parse_time_in("t", "2027-11-07T01:30:00", new_york).is_err());
    assert!(parse_time_in("t", "soon", shanghai).is_err());
    let unknown = parse_zone("--tz", "asia/shanghai").unwrap_err().to_string();
    assert!(unknown.contains("did you mean Asia/Shanghai?"), "{unknown}");
}

#[test]
fn the_type_list_is_the_default_policy() {
    let types: Vec<String> = default_policies()
        .into_iter()
        .map(|p| p.service_type)
        .collect();
    assert_eq!(types, SERVICE_TYPES);
}

#[test]
fn amounts() {
    assert_eq!(parse_amount_fen("a", "90").unwrap(), 9000);
    assert_eq!(parse_amount_fen("a", "89.9").unwrap(), 8990);
    assert_eq!(parse_amount_fen("a", "0.05").unwrap(), 5);
    for bad in [
        "",
        "-1",
        "1.234",
        "1.",
        ".5",
        "1e3",
        "abc",
        "99999999999999",
    ] {
        assert!(parse_amount_fen("a", bad).is_err(), "{bad}");
    }
    assert_eq!(format_fen(8990), "89.90");
    assert_eq!(fen_to_json(9000), serde_json::json!(90));
}

#[test]
fn quota_invariant_never_negative() {
    assert_eq!(remaining(5, 2), 3);
    assert_eq!(remaining(5, 5), 0);
    assert_eq!(remaining(2, 5), 0);
}
