//! Names: one thing, one spelling (README "Names: one thing, one spelling").
//!
//! - A service name that contains a dot and no whitespace is a domain: UTS
//!   #46 (non-transitional) gives its one ASCII form, and that form is the
//!   service. Any other name is an app or mini-program name: NFC with its
//!   whitespace collapsed is the service, and two names are the same service
//!   when their NFKC case-folded forms (`service_key`) are equal.
//! - Identifiers (instance ids, numbers) are the same when they differ only
//!   in ASCII case (`fold_identifier`).
//! - Free text may not hold invisible characters (`forbidden_character`).
//! - ICP numbers have the MIIT's shape (`validate_icp_number`).

use super::types::{limits, shorten};
use crate::error::{Error, Result};
use caseless::Caseless;
use idna::uts46::{AsciiDenyList, DnsLength, Hyphens, Uts46};
use unicode_normalization::UnicodeNormalization;
use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

/// What UTS #46 maps to a label separator: the full stop and its ideographic
/// and full-width forms.
const DOTS: [char; 4] = ['.', '\u{3002}', '\u{FF0E}', '\u{FF61}'];

/// The 31 provinces' abbreviations as the MIIT writes them in ICP numbers
/// (Sichuan 蜀, Guizhou 黔, Yunnan 滇, Gansu 陇: the old names, not 川 贵 云 甘).
const PROVINCES: [char; 31] = [
    '京', '津', '冀', '晋', '蒙', '辽', '吉', '黑', '沪', '苏', '浙', '皖', '闽', '赣', '鲁', '豫',
    '鄂', '湘', '粤', '桂', '琼', '渝', '蜀', '黔', '滇', '藏', '陕', '陇', '青', '宁', '新',
];

/// A name is a domain when it contains a dot and no whitespace.
pub fn is_domain(name: &str) -> bool {
    name.contains(DOTS) && !name.contains(char::is_whitespace)
}

/// The canonical form of a service name as given (already checked as free
/// text): a domain's ASCII form, or an app name in NFC with its whitespace
/// collapsed. An invalid domain is a usage error naming why.
pub fn canonical_service(name: &str) -> Result<String> {
    let trimmed = name.trim();
    let canonical = if is_domain(trimmed) {
        domain_to_ascii(trimmed)?
    } else {
        app_name(trimmed)
    };
    let length = canonical.chars().count();
    if length == 0 || length > limits::SERVICE_MAX {
        return Err(Error::usage(format!(
            "service: '{}' is {length} characters once normalised; 1 to {} are allowed",
            shorten(name),
            limits::SERVICE_MAX
        )));
    }
    Ok(canonical)
}

/// What two spellings of one service share: the NFKC case-folded form of
/// its canonical name (of the name itself where it has none, so a look-up
/// of a bad name finds nothing rather than failing).
pub fn service_key(name: &str) -> String {
    let canonical = canonical_service(name).unwrap_or_else(|_| name.to_string());
    // NFKC_Casefold as Unicode's compatibility caseless match builds it:
    // NFKD(fold(NFKD(fold(NFD(X))))), recomposed to NFC to keep it short.
    canonical
        .nfd()
        .default_case_fold()
        .nfkd()
        .default_case_fold()
        .nfkd()
        .nfc()
        .collect()
}

/// The Unicode form a person reads: a domain's labels decoded from
/// punycode; an app name as it is.
pub fn display_name(service: &str) -> String {
    if is_domain(service) {
        let (unicode, result) = idna::domain_to_unicode(service);
        if result.is_ok() {
            return unicode;
        }
    }
    service.to_string()
}

/// Instance ids and numbers are the same whatever their ASCII case.
pub fn fold_identifier(identifier: &str) -> String {
    identifier.to_ascii_lowercase()
}

fn app_name(name: &str) -> String {
    let composed: String = name.nfc().collect();
    composed.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// UTS #46 ToASCII, non-transitional (the only processing `idna` 1.x has),
/// with the STD3 rules (letters, digits, hyphens), no hyphen first or last
/// in a label, one trailing dot removed, and the DNS lengths.
fn domain_to_ascii(name: &str) -> Result<String> {
    let invalid = |why: String| {
        Error::usage(format!(
            "service: '{}' is not a valid domain name: {why}",
            shorten(name)
        ))
    };
    if let Some(bad) = name
        .chars()
        .find(|c| c.is_ascii() && !(c.is_ascii_alphanumeric() || *c == '-' || *c == '.'))
    {
        return Err(invalid(format!(
            "{bad:?} is not allowed (letters, digits and '-' only)"
        )));
    }
    let ascii = Uts46::new()
        .to_ascii(
            name.as_bytes(),
            AsciiDenyList::STD3,
            Hyphens::CheckFirstLast,
            DnsLength::Ignore,
        )
        .map_err(|_| invalid(uts46_problem(name)))?;
    let ascii = ascii.strip_suffix('.').unwrap_or(&ascii).to_string();
    let labels: Vec<&str> = ascii.split('.').collect();
    if labels.iter().any(|label| label.is_empty()) {
        return Err(invalid("it has an empty label".into()));
    }
    if labels.len() < 2 {
        return Err(invalid("a domain has at least two labels".into()));
    }
    if let Some(long) = labels.iter().find(|label| label.len() > 63) {
        return Err(invalid(format!(
            "the label '{}' is {} characters in ASCII; 63 are allowed",
            shorten(long),
            long.len()
        )));
    }
    if ascii.len() > limits::SERVICE_MAX {
        return Err(invalid(format!(
            "it is {} characters in ASCII; {} are allowed",
            ascii.len(),
            limits::SERVICE_MAX
        )));
    }
    Ok(ascii)
}

/// Which label UTS #46 refuses (it marks the errors it finds with U+FFFD).
fn uts46_problem(name: &str) -> String {
    let (marked, _) = Uts46::new().to_unicode(
        name.as_bytes(),
        AsciiDenyList::STD3,
        Hyphens::CheckFirstLast,
    );
    let label = marked
        .split(DOTS)
        .zip(name.split(DOTS))
        .find(|(marked_label, _)| marked_label.contains('\u{FFFD}'))
        .map(|(_, given)| given);
    let what = "a disallowed character, a hyphen first or last, a bad punycode label, \
                a combining mark first, or mixed right-to-left text";
    match label {
        Some(label) => format!("UTS #46 refuses the label '{}' ({what})", shorten(label)),
        None => format!("UTS #46 refuses it ({what})"),
    }
}

/// The first character free text may not hold, with why: control
/// characters, format characters (Cf: zero-width spaces and joiners, bidi
/// overrides, BOM, soft hyphen) and line and paragraph separators.
pub fn forbidden_character(text: &str) -> Option<(char, &'static str)> {
    // Printable ASCII is none of these: the common case, without the tables.
    if text.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return None;
    }
    text.chars().find_map(|c| match c.general_category() {
        GeneralCategory::Control => Some((c, "control character")),
        GeneralCategory::Format => Some((c, "invisible format character")),
        GeneralCategory::LineSeparator => Some((c, "line separator")),
        GeneralCategory::ParagraphSeparator => Some((c, "paragraph separator")),
        _ => None,
    })
}

/// `U+200B`.
pub fn code_point(c: char) -> String {
    format!("U+{:04X}", c as u32)
}

/// The MIIT's shape: a province, `ICP`, `备` or `证`, 1–12 digits, `号`,
/// then optionally `-`, 1–4 digits and a capital letter
/// (`京ICP备2023000001号-2A`).
pub fn validate_icp_number(text: &str) -> Result<()> {
    if icp_shape(text) {
        return Ok(());
    }
    Err(Error::usage(format!(
        "icp number: '{}' is not an ICP number: a province (such as 京 沪 浙 粤), ICP, 备 or 证, \
         1 to 12 digits, 号, optionally - with 1 to 4 digits and a capital letter (京ICP备2023000001号-2A)",
        shorten(text)
    )))
}

fn icp_shape(text: &str) -> bool {
    let mut chars = text.chars();
    let province = chars.next().is_some_and(|c| PROVINCES.contains(&c));
    let rest = chars.as_str();
    let Some(rest) = rest.strip_prefix("ICP") else {
        return false;
    };
    let Some(rest) = rest.strip_prefix(['备', '证']) else {
        return false;
    };
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let Some(suffix) = rest[digits..].strip_prefix('号') else {
        return false;
    };
    province && (1..=12).contains(&digits) && (suffix.is_empty() || site_suffix(suffix))
}

/// `-2` or `-2A`: the site's number under the filing.
fn site_suffix(suffix: &str) -> bool {
    let Some(rest) = suffix.strip_prefix('-') else {
        return false;
    };
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let letter = &rest[digits..];
    (1..=4).contains(&digits)
        && (letter.is_empty()
            || (letter.len() == 1 && letter.bytes().all(|b| b.is_ascii_uppercase())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spelling_of_a_domain_is_one_service() {
        for spelling in [
            "shop.example.cn",
            "Shop.Example.CN",
            "shop.example.cn.",
            "ｓｈｏｐ.example.cn",
            "ｓｈｏｐ．ｅｘａｍｐｌｅ．ｃｎ",
            "shop。example。cn",
            "  shop.example.cn ",
        ] {
            assert_eq!(
                canonical_service(spelling).unwrap(),
                "shop.example.cn",
                "{spelling}"
            );
        }
        assert_eq!(
            canonical_service("例子.中国").unwrap(),
            "xn--fsqu00a.xn--fiqs8s"
        );
        assert_eq!(
            canonical_service("xn--fsqu00a.xn--fiqs8s").unwrap(),
            "xn--fsqu00a.xn--fiqs8s"
        );
        let nfc = canonical_service("\u{e9}.cn").unwrap();
        assert_eq!(canonical_service("e\u{301}.cn").unwrap(), nfc);
        assert_eq!(nfc, "xn--9ca.cn");
        assert_eq!(display_name("xn--fsqu00a.xn--fiqs8s"), "例子.中国");
        assert_eq!(display_name("shop.example.cn"), "shop.example.cn");
    }

    #[test]
    fn a_bad_domain_says_why() {
        for (name, why) in [
            ("shop..cn", "empty label"),
            (".shop.cn", "empty label"),
            ("shop.", "two labels"),
            ("a_b.cn", "'_' is not allowed"),
            ("-shop.cn", "UTS #46 refuses the label '-shop'"),
            ("xn--zz-.cn", "UTS #46 refuses"),
            ("\u{301}a.cn", "UTS #46 refuses"),
        ] {
            let message = canonical_service(name).unwrap_err().to_string();
            assert!(message.contains(why), "{name}: {message}");
        }
        let long = format!("{}.cn", "a".repeat(64));
        assert!(canonical_service(&long)
            .unwrap_err()
            .to_string()
            .contains("63"));
    }

    #[test]
    fn app_names_are_nfc_collapsed_and_compared_by_nfkc_case_folding() {
        assert_eq!(
            canonical_service("  Green   Apps\u{3000}Mini ").unwrap(),
            "Green Apps Mini"
        );
        assert_eq!(
            canonical_service("Cafe\u{301} App").unwrap(),
            "Caf\u{e9} App"
        );
        let key = service_key("Green Apps");
        for spelling in [
            "green apps",
            "GREEN APPS",
            "Ｇｒｅｅｎ Ａｐｐｓ",
            " green  apps",
        ] {
            assert_eq!(service_key(spelling), key, "{spelling}");
        }
        assert_eq!(service_key("Straße App"), service_key("STRASSE app"));
        assert_ne!(service_key("Green Apps"), service_key("Green App"));
        assert_eq!(service_key("Shop.Example.CN"), "shop.example.cn");
        assert_eq!(display_name("Green Apps"), "Green Apps");
    }

    #[test]
    fn invisible_characters_are_named() {
        for c in [
            '\u{0}', '\u{7}', '\t', '\u{7f}', '\u{85}', '\u{200b}', '\u{200c}', '\u{200d}',
            '\u{202e}', '\u{2066}', '\u{feff}', '\u{ad}', '\u{2028}', '\u{2029}',
        ] {
            let text = format!("a{c}b");
            assert_eq!(forbidden_character(&text).map(|(found, _)| found), Some(c));
        }
        assert_eq!(forbidden_character("例子 shop é"), None);
        assert_eq!(code_point('\u{200b}'), "U+200B");
    }

    #[test]
    fn icp_numbers_have_the_miit_shape() {
        for good in [
            "京ICP备2023000001号-2A",
            "浙ICP备12345678号-1",
            "粤ICP证1号",
            "沪ICP备123456789012号",
            "新ICP备1号-1234",
            "蜀ICP备05005379号",
        ] {
            assert!(validate_icp_number(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "ICP-1",
            "港ICP备1号",
            "川ICP备1号",
            "京icp备1号",
            "京ICP备号",
            "京ICP备1234567890123号",
            "京ICP备1",
            "京ICP备1号-",
            "京ICP备1号-12345",
            "京ICP备1号-1a",
            "京ICP备1号-1AB",
            "京ICP案1号",
            "京ICP备１号",
            "京ICP备1号 ",
        ] {
            assert!(validate_icp_number(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn identifiers_fold_ascii_case_only() {
        assert_eq!(fold_identifier("I-WEB"), "i-web");
        assert_eq!(fold_identifier("SN-0001"), fold_identifier("sn-0001"));
    }
}
