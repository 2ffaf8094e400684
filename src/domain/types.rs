//! Value types of the domain and the validation of every input field.
//! Each validator returns a `Usage` error naming the field, so bad input is
//! refused before any rule runs.

use super::record::record;
use crate::error::{Error, Result};
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

/// Limits on everything that comes from outside.
pub(crate) mod limits {
    pub(crate) const ACCOUNT_MAX: usize = 64;
    pub(crate) const INSTANCE_ID_MAX: usize = 128;
    pub(crate) const NUMBER_MIN: usize = 4;
    pub(crate) const NUMBER_MAX: usize = 64;
    pub(crate) const SERVICE_MAX: usize = 253;
    pub(crate) const TEXT_MAX: usize = 1024; // reasons, notes, ICP numbers, request ids, actors
    pub(crate) const REGION_MAX: usize = 64;
    pub(crate) const SERVICE_TYPE_MAX: usize = 64;
    pub(crate) const MONTHS_MAX: i64 = 1200; // a century of subscription
    pub(crate) const NUMBERS_MAX: i64 = 1000; // a policy's max numbers per instance
    pub(crate) const ALLOCATE_MAX: usize = 20; // numbers per allocate request
    pub(crate) const ORDER_AMOUNT_MAX_FEN: i64 = 10_000_000_000_000; // 10^11 CNY in fen
}

/// Time in the ledger: UTC, whole seconds.
pub(crate) type Time = DateTime<Utc>;

/// The canonical text of a time: `2026-11-22T10:00:00Z`.
pub(crate) fn format_time(time: Time) -> String {
    time.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Parses RFC 3339 (any offset, converted to UTC, sub-seconds dropped) or a
/// bare date `YYYY-MM-DD` (midnight UTC).
pub(crate) fn parse_time(field: &str, text: &str) -> Result<Time> {
    let parsed = if let Ok(date_time) = DateTime::parse_from_rfc3339(text) {
        Some(date_time.with_timezone(&Utc))
    } else if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        date.and_hms_opt(0, 0, 0).map(|naive| naive.and_utc())
    } else {
        None
    };
    let time = parsed.ok_or_else(|| {
        Error::usage(format!(
            "{field}: '{}' is not a time (use RFC 3339 such as 2026-11-22T10:00:00Z, or YYYY-MM-DD)",
            shorten(text)
        ))
    })?;
    use chrono::{Datelike, Timelike};
    // chrono reads `:60` as a leap second; the log's times never hold one.
    if time.nanosecond() >= 1_000_000_000 {
        return Err(Error::usage(format!(
            "{field}: '{}' has second 60: seconds are 0 to 59",
            shorten(text)
        )));
    }
    if !(1970..=9999).contains(&time.year()) {
        return Err(Error::usage(format!("{field}: year must be 1970 to 9999")));
    }
    Ok(time.with_nanosecond(0).unwrap_or(time))
}

/// The forms of a time without an offset, read in the operator's zone
/// (`--tz`): date and time with `T` or a space, with or without seconds.
const LOCAL_FORMS: &[&str] = &[
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M",
];

/// Like `parse_time`, but a time without an offset, or a bare date
/// (midnight), is a wall-clock time in `zone`: with `Asia/Shanghai`,
/// `2027-06-01` is `2027-05-31T16:00:00Z`. A wall-clock time that a
/// daylight-saving change skips or repeats is refused: give an offset.
pub(crate) fn parse_time_in(field: &str, text: &str, zone: chrono_tz::Tz) -> Result<Time> {
    use chrono::{LocalResult, NaiveDateTime, TimeZone};
    if DateTime::parse_from_rfc3339(text).is_ok() {
        return parse_time(field, text);
    }
    let local = LOCAL_FORMS
        .iter()
        .find_map(|form| NaiveDateTime::parse_from_str(text, form).ok())
        .or_else(|| {
            NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .ok()
                .and_then(|date| date.and_hms_opt(0, 0, 0))
        });
    let Some(local) = local else {
        return parse_time(field, text); // its message names the forms
    };
    let time = match zone.from_local_datetime(&local) {
        LocalResult::Single(time) => time.with_timezone(&Utc),
        LocalResult::Ambiguous(..) => {
            return Err(Error::usage(format!(
                "{field}: '{}' happens twice in {zone} (a daylight-saving change): give an offset such as +08:00",
                shorten(text)
            )))
        }
        LocalResult::None => {
            return Err(Error::usage(format!(
                "{field}: '{}' does not exist in {zone} (a daylight-saving change): give an offset such as +08:00",
                shorten(text)
            )))
        }
    };
    // Through the canonical text, so the year range and whole seconds hold.
    parse_time(field, &format_time(time))
}

/// A stored UTC time as the operator reads it in `zone`:
/// `2027-05-31T16:00:00Z` → `2027-06-01 00:00:00 +08:00` in Asia/Shanghai.
/// Text that is not a time is returned as it is.
pub(crate) fn display_time_in(text: &str, zone: chrono_tz::Tz) -> String {
    match DateTime::parse_from_rfc3339(text) {
        Ok(time) => time
            .with_timezone(&zone)
            .format("%Y-%m-%d %H:%M:%S %:z")
            .to_string(),
        Err(_) => text.to_string(),
    }
}

/// An IANA zone name (`Asia/Shanghai`, `UTC`); an unknown one is a usage
/// error that names the zone it probably meant.
pub(crate) fn parse_zone(field: &str, text: &str) -> Result<chrono_tz::Tz> {
    text.parse::<chrono_tz::Tz>().map_err(|_| {
        let names: Vec<&str> = chrono_tz::TZ_VARIANTS
            .iter()
            .map(|zone| zone.name())
            .collect();
        Error::usage(format!(
            "{field}: '{}' is not an IANA time zone such as Asia/Shanghai or UTC{}",
            shorten(text),
            super::suggest::hint(text, &names)
        ))
    })
}

/// For messages: at most 80 characters of something the user typed, with
/// control characters made visible.
pub(crate) fn shorten(text: &str) -> String {
    let mut out: String = text
        .chars()
        .take(80)
        .flat_map(|c| c.escape_debug())
        .collect();
    if text.chars().count() > 80 {
        out.push('…');
    }
    out
}

fn check_length(field: &str, text: &str, min: usize, max: usize) -> Result<()> {
    let length = text.chars().count();
    if length < min || length > max {
        return Err(Error::usage(format!(
            "{field}: must be {min} to {max} characters, got {length}"
        )));
    }
    Ok(())
}

fn check_charset(
    field: &str,
    text: &str,
    allowed: impl Fn(char) -> bool,
    what: &str,
) -> Result<()> {
    if let Some(bad) = text.chars().find(|c| !allowed(*c)) {
        return Err(Error::usage(format!(
            "{field}: '{}' has the character {:?}; allowed are {what}",
            shorten(text),
            bad
        )));
    }
    Ok(())
}

fn check_identifier(field: &str, text: &str, max: usize, extra: &str) -> Result<()> {
    check_length(field, text, 1, max)?;
    check_charset(
        field,
        text,
        |c| c.is_ascii_alphanumeric() || extra.contains(c),
        &format!("A-Z a-z 0-9 and '{extra}'"),
    )?;
    if !text.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return Err(Error::usage(format!(
            "{field}: '{}' must start with a letter or digit",
            shorten(text)
        )));
    }
    Ok(())
}

pub(crate) fn validate_account(text: &str) -> Result<()> {
    check_identifier("account", text, limits::ACCOUNT_MAX, "._-")
}

pub(crate) fn validate_instance_id(text: &str) -> Result<()> {
    check_identifier("instance id", text, limits::INSTANCE_ID_MAX, "._:-")
}

pub(crate) fn validate_number(text: &str) -> Result<()> {
    check_length("number", text, limits::NUMBER_MIN, limits::NUMBER_MAX)?;
    check_charset(
        "number",
        text,
        |c| c.is_ascii_alphanumeric() || c == '-',
        "A-Z a-z 0-9 and '-'",
    )
}

pub(crate) fn validate_service_type(text: &str) -> Result<()> {
    check_length("service type", text, 1, limits::SERVICE_TYPE_MAX)?;
    check_charset(
        "service type",
        text,
        |c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_',
        "a-z 0-9 and '_'",
    )
    .map_err(
        |error| match super::suggest::did_you_mean(text, SERVICE_TYPES) {
            Some(meant) => Error::usage(format!("{error}; did you mean {meant}?")),
            None => error,
        },
    )
}

pub(crate) fn validate_region(text: &str) -> Result<()> {
    check_length("region", text, 1, limits::REGION_MAX)?;
    check_charset(
        "region",
        text,
        |c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-',
        "a-z 0-9 and '-'",
    )
}

/// Free text (service names, reasons, notes, ICP numbers, request ids,
/// actors): bounded, and no control, format (Cf) or line and paragraph
/// separator characters, so that one value is one line in every output and
/// nothing in it is invisible (docs/guide.md "Names: one thing, one spelling").
pub(crate) fn validate_text(field: &str, text: &str, max: usize) -> Result<()> {
    check_visible(field, text, max)?;
    if text.trim() != text {
        return Err(Error::usage(format!(
            "{field}: '{}' has leading or trailing spaces",
            shorten(text)
        )));
    }
    Ok(())
}

/// Bounded, and every character visible (the error names the code point).
fn check_visible(field: &str, text: &str, max: usize) -> Result<()> {
    check_length(field, text, 1, max)?;
    if let Some((bad, what)) = super::names::forbidden_character(text) {
        return Err(Error::usage(format!(
            "{field}: {what} {} ({bad:?}) is not allowed",
            super::names::code_point(bad)
        )));
    }
    Ok(())
}

/// A service name as given: a name (`validate_name`), whose surrounding
/// whitespace its canonical form drops (`names::canonical_service`).
pub(crate) fn validate_service(text: &str) -> Result<()> {
    validate_name("service", text, limits::SERVICE_MAX)
}

/// A name (a service, an account name): visible free text (`check_visible`)
/// that also holds no default-ignorable character and no blank-looking
/// letter, each of which would make a second name that looks exactly like
/// the first (docs/guide.md "Names: one thing, one spelling").
pub(crate) fn validate_name(field: &str, text: &str, max: usize) -> Result<()> {
    check_visible(field, text, max)?;
    if let Some((bad, what)) = super::names::forbidden_in_name(text) {
        return Err(Error::usage(format!(
            "{field}: {what} {} ({bad:?}) is not allowed in a name: it would look like another",
            super::names::code_point(bad)
        )));
    }
    Ok(())
}

/// A public IP: an address that is globally reachable per the IANA
/// special-purpose registries (`addresses::not_public`), so not private,
/// loopback, link-local, shared, documentation, benchmarking, reserved,
/// multicast or unspecified, nor an IPv4-mapped or -compatible form of one
/// (an ECS instance with only such an address cannot vouch for a filing).
/// The error names the range.
pub(crate) fn validate_public_ip(text: &str) -> Result<()> {
    use std::net::IpAddr;
    let address: IpAddr = text.parse().map_err(|_| {
        Error::usage(format!(
            "public ip: '{}' is not an IP address",
            shorten(text)
        ))
    })?;
    if let Some(why) = super::addresses::not_public(address) {
        return Err(Error::usage(format!(
            "public ip: {address} is not a public address: {why}"
        )));
    }
    Ok(())
}

pub(crate) fn parse_months(field: &str, text: &str, min: i64) -> Result<i64> {
    let months: i64 = text.trim().parse().map_err(|_| {
        Error::usage(format!(
            "{field}: '{}' is not a whole number",
            shorten(text)
        ))
    })?;
    if months < min || months > limits::MONTHS_MAX {
        return Err(Error::usage(format!(
            "{field}: must be {min} to {}, got {months}",
            limits::MONTHS_MAX
        )));
    }
    Ok(months)
}

/// Money in CNY with at most two decimals, kept as fen (1/100 CNY) so that
/// comparisons are exact.
pub(crate) fn parse_amount_fen(field: &str, text: &str) -> Result<i64> {
    let bad = || {
        Error::usage(format!(
            "{field}: '{}' is not an amount in CNY such as 99 or 99.50",
            shorten(text)
        ))
    };
    let text = text.trim();
    let (whole, fraction) = match text.split_once('.') {
        Some((whole, fraction)) => (whole, fraction),
        None => (text, ""),
    };
    if whole.is_empty()
        || whole.len() > 12
        || fraction.len() > 2
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !fraction.bytes().all(|b| b.is_ascii_digit())
        || (text.contains('.') && fraction.is_empty())
    {
        return Err(bad());
    }
    let whole: i64 = whole.parse().map_err(|_| bad())?;
    let fraction_fen: i64 = if fraction.is_empty() {
        0
    } else {
        format!("{fraction:0<2}").parse().map_err(|_| bad())?
    };
    let fen = whole
        .checked_mul(100)
        .and_then(|w| w.checked_add(fraction_fen))
        .ok_or_else(bad)?;
    if fen > limits::ORDER_AMOUNT_MAX_FEN {
        return Err(bad());
    }
    Ok(fen)
}

/// `9900` → `"99.00"`.
pub(crate) fn format_fen(fen: i64) -> String {
    format!("{}.{:02}", fen / 100, fen % 100)
}

/// For JSON: an amount as a number (99 or 99.5).
pub(crate) fn fen_to_json(fen: i64) -> serde_json::Value {
    if fen % 100 == 0 {
        serde_json::Value::from(fen / 100)
    } else {
        serde_json::Value::from(fen as f64 / 100.0)
    }
}

macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name { $(#[serde(rename = $text)] $variant),+ }
        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// Every value as written (help, completions, hints).
            pub const NAMES: &'static [&'static str] = &[$($text),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
            pub fn parse(field: &str, text: &str) -> Result<$name> {
                match text {
                    $($text => Ok($name::$variant),)+
                    _ => Err(Error::usage(format!(
                        "{field}: '{}' is not one of {}{}",
                        shorten(text),
                        Self::NAMES.join(", "),
                        super::suggest::hint(text, Self::NAMES)
                    ))),
                }
            }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str(self.as_str()) }
        }
    };
}

text_enum!(Billing { Subscription = "subscription", PayAsYouGo = "pay-as-you-go", Trial = "trial" });
text_enum!(InstanceState { Active = "active", Released = "released" });
text_enum!(
    /// A number's status, with the provider's numeric code where it has one.
    Status { Unbound = "unbound", Bound = "bound", Filed = "filed", Invalid = "invalid", Filing = "filing", Deregistered = "deregistered" }
);
text_enum!(Origin { Issued = "issued", Direct = "direct" });

impl Status {
    /// A service whose number is in one of these holds it; no other number may
    /// be bound to that service meanwhile.
    pub fn holds_service(self) -> bool {
        matches!(self, Status::Bound | Status::Filing | Status::Filed)
    }
}

record! {
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub struct Policy {
        pub service_type: String,
        pub max_numbers: i64,
        pub min_subscription_months: i64,
        pub min_order_amount_fen: Option<i64>,
        pub requires_public_ip: bool,
        pub updated_seq: i64,
    }
}

/// The service types of the default policy, in its order (help,
/// completions, hints); `default_policies` has one row for each.
pub(crate) const SERVICE_TYPES: &[&str] = &[
    "ecs",
    "cloud_web_hosting",
    "simple_application_server",
    "ens",
    "linkedmall",
    "iot_studio",
];

/// The quota policy a new ledger starts with (docs/reference.md "Default policy").
pub(crate) fn default_policies() -> Vec<Policy> {
    let row = |service_type: &str,
               max_numbers,
               min_subscription_months,
               min_order_amount_fen,
               requires_public_ip| Policy {
        service_type: service_type.to_string(),
        max_numbers,
        min_subscription_months,
        min_order_amount_fen,
        requires_public_ip,
        updated_seq: 0,
    };
    vec![
        row("ecs", 5, 3, None, true),
        row("cloud_web_hosting", 5, 3, None, false),
        row("simple_application_server", 5, 3, None, false),
        row("ens", 5, 3, None, false),
        row("linkedmall", 2, 0, None, false),
        row("iot_studio", 1, 6, Some(9000), false),
    ]
}

record! {
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Instance {
        pub instance_id: String,
        pub service_type: String,
        pub account: String,
        pub region: String,
        pub billing: Billing,
        pub subscription_months: i64,
        pub expires_at: String,
        pub public_ip: Option<String>,
        pub order_amount_fen: Option<i64>,
        pub state: InstanceState,
        pub consumed: i64,
        pub updated_seq: i64,
    }
}

record! {
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct NumberRecord {
        pub number: String,
        pub instance_id: String,
        pub owner: String,
        pub holder: String,
        pub status: Status,
        pub service: Option<String>,
        pub icp_number: Option<String>,
        pub origin: Origin,
        pub issued_seq: i64,
        pub updated_seq: i64,
    }
}

record! {
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct ServiceRecord {
        pub service: String,
        pub number: String,
        pub host: String,
        pub commercial: bool,
        pub ip_update_required: bool,
        pub updated_seq: i64,
    }
}

record! {
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct RequestRecord {
        pub request_id: String,
        pub instance_id: String,
        pub account: String,
        pub count: i64,
        pub asked: Vec<String>,
        pub numbers: Vec<String>,
        pub seq: i64,
    }
}

/// `remaining = max(0, max − consumed)` (docs/guide.md "Concepts in one minute").
pub(crate) fn remaining(max_numbers: i64, consumed: i64) -> i64 {
    (max_numbers - consumed).max(0)
}

#[cfg(test)]
mod tests;

#[cfg(test)]
impl Instance {
    /// An active, eligible ECS instance (tests change what they need with
    /// `Instance { field, ..Instance::example(id) }`).
    pub(crate) fn example(instance_id: &str) -> Instance {
        Instance {
            instance_id: instance_id.to_string(),
            service_type: "ecs".to_string(),
            account: "acme".to_string(),
            region: "cn-hangzhou".to_string(),
            billing: Billing::Subscription,
            subscription_months: 12,
            expires_at: "2027-03-01T00:00:00Z".to_string(),
            public_ip: Some("47.1.2.3".to_string()),
            order_amount_fen: None,
            state: InstanceState::Active,
            consumed: 0,
            updated_seq: 1,
        }
    }
}
