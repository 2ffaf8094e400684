//! Names: one thing, one spelling (docs/guide.md "Names: one thing, one spelling").
//!
//! - A service name that contains a dot and no whitespace is a domain: UTS
//!   #46 (non-transitional) gives its one ASCII form, and that form is the
//!   service. Any other name is an app or mini-program name: NFC with its
//!   whitespace collapsed is the service, and two names are the same service
//!   when their NFKC case-folded forms (`service_key`) are equal.
//! - Identifiers (instance ids, numbers) are the same when they differ only
//!   in ASCII case (`fold_identifier`).
//! - Free text may not hold invisible characters (`forbidden_character`);
//!   names (services, account names) not even default-ignorable or
//!   blank-looking ones (`forbidden_in_name`).
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
pub(crate) fn is_domain(name: &str) -> bool {
    name.contains(DOTS) && !name.contains(char::is_whitespace)
}

/// The canonical form of a service name as given (already checked as free
/// text): a domain's ASCII form, or an app name in NFC with its whitespace
/// collapsed. An invalid domain is a usage error naming why.
pub(crate) fn canonical_service(name: &str) -> Result<String> {
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
pub(crate) fn service_key(name: &str) -> String {
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
pub(crate) fn display_name(service: &str) -> String {
    if is_domain(service) {
        let (unicode, result) = idna::domain_to_unicode(service);
        if result.is_ok() {
            return unicode;
        }
    }
    service.to_string()
}

/// Instance ids and numbers are the same whatever their ASCII case.
pub(crate) fn fold_identifier(identifier: &str) -> String {
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
    // A punycode label may decode to what the name itself may not hold
    // (`xn--` of a blank Braille pattern, which UTS #46 lets through): that
    // would be a second domain that reads like the first.
    // Only a punycode label decodes to anything but itself.
    if ascii.contains("xn--") {
        let (unicode, _) = idna::domain_to_unicode(&ascii);
        if let Some((bad, what)) =
            forbidden_character(&unicode).or_else(|| forbidden_in_name(&unicode))
        {
            return Err(invalid(format!(
                "it reads as holding the {what} {} ({bad:?})",
                code_point(bad)
            )));
        }
    }
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
pub(crate) fn forbidden_character(text: &str) -> Option<(char, &'static str)> {
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

/// Unicode's Default_Ignorable_Code_Point, as DerivedCoreProperties.txt
/// lists it (Unicode 16.0; unchanged since 9.0 but for U+180F in 14.0):
/// characters a renderer shows as nothing when it has no glyph for them.
/// Inclusive ranges, sorted, for a binary search.
const DEFAULT_IGNORABLE: [(u32, u32); 17] = [
    (0x00AD, 0x00AD),   // soft hyphen
    (0x034F, 0x034F),   // combining grapheme joiner
    (0x061C, 0x061C),   // Arabic letter mark
    (0x115F, 0x1160),   // Hangul choseong and jungseong fillers
    (0x17B4, 0x17B5),   // Khmer inherent vowels
    (0x180B, 0x180F),   // Mongolian free variation selectors, vowel separator
    (0x200B, 0x200F),   // zero-width space, joiners, LRM, RLM
    (0x202A, 0x202E),   // bidi embeddings and overrides
    (0x2060, 0x206F),   // word joiner, invisible operators, isolates, reserved
    (0x3164, 0x3164),   // Hangul filler
    (0xFE00, 0xFE0F),   // variation selectors 1-16
    (0xFEFF, 0xFEFF),   // zero-width no-break space (BOM)
    (0xFFA0, 0xFFA0),   // half-width Hangul filler
    (0xFFF0, 0xFFF8),   // reserved
    (0x1BCA0, 0x1BCA3), // shorthand format controls
    (0x1D173, 0x1D17A), // musical symbol beams and phrases
    (0xE0000, 0xE0FFF), // tags, variation selectors 17-256, reserved
];

/// Letters that render as blank space although they are not whitespace
/// (so name normalisation does not collapse them): the Hangul fillers
/// (default-ignorable too), the blank Braille pattern, the Khitan filler
/// and the musical null notehead (drawn as nothing by most fonts).
const BLANK_LETTERS: [char; 7] = [
    '\u{115F}',
    '\u{1160}',
    '\u{3164}',
    '\u{FFA0}',
    '\u{2800}',
    '\u{16FE4}',
    '\u{1D159}',
];

/// Whether `c` is a Default_Ignorable_Code_Point.
pub(crate) fn is_default_ignorable(c: char) -> bool {
    let c = c as u32;
    DEFAULT_IGNORABLE
        .binary_search_by(|&(first, last)| {
            if last < c {
                std::cmp::Ordering::Less
            } else if first > c {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_ok()
}

/// The first character a name (a service, an account name) may not hold
/// beyond what free text refuses (`forbidden_character`), with why: every
/// default-ignorable character and every blank-looking letter, each of
/// which would make a second name that looks exactly like the first. No
/// other character's NFKC case-folded form holds one (a unit test checks
/// every code point), so a name's key is free of them too.
pub(crate) fn forbidden_in_name(text: &str) -> Option<(char, &'static str)> {
    if text.is_ascii() {
        return None;
    }
    text.chars().find_map(|c| {
        if BLANK_LETTERS.contains(&c) {
            Some((c, "blank-looking letter"))
        } else if is_default_ignorable(c) {
            Some((c, "default-ignorable (invisible) character"))
        } else if c == '\u{FFFC}' || c == '\u{FFFD}' {
            Some((
                c,
                "replacement character (it stands for a character that is not there)",
            ))
        } else {
            // Shown as whatever a font makes of them, or as nothing.
            match c.general_category() {
                GeneralCategory::PrivateUse => Some((c, "private-use character")),
                GeneralCategory::Unassigned => Some((c, "unassigned code point or noncharacter")),
                _ => None,
            }
        }
    })
}

/// `U+200B`.
pub(crate) fn code_point(c: char) -> String {
    format!("U+{:04X}", c as u32)
}

/// The MIIT's shape: a province, `ICP`, `备` or `证`, 1–12 digits, `号`,
/// then optionally `-`, 1–4 digits and a capital letter
/// (`京ICP备2023000001号-2A`).
pub(crate) fn validate_icp_number(text: &str) -> Result<()> {
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
    fn names_refuse_default_ignorable_and_blank_looking_characters() {
        // The seven, then every range of the table at both ends.
        let mut refused = vec![
            '\u{034F}',
            '\u{3164}',
            '\u{115F}',
            '\u{FE0F}',
            '\u{E0100}',
            '\u{17B4}',
            '\u{2800}',
        ];
        for (first, last) in DEFAULT_IGNORABLE {
            refused.extend([first, last].map(|c| char::from_u32(c).unwrap()));
        }
        for c in refused {
            let name = format!("Green{c}Apps");
            assert_eq!(
                forbidden_in_name(&name).map(|(found, _)| found),
                Some(c),
                "{}",
                code_point(c)
            );
        }
        assert_eq!(
            forbidden_in_name("Green\u{3164}Apps").map(|(_, why)| why),
            Some("blank-looking letter")
        );
        assert_eq!(
            forbidden_in_name("Green\u{FE0F}Apps").map(|(_, why)| why),
            Some("default-ignorable (invisible) character")
        );
        // The attack's second round: blank glyphs, placeholders, private
        // use, noncharacters and unassigned code points.
        for (c, why) in [
            ('\u{1D159}', "blank-looking letter"),
            ('\u{16FE4}', "blank-looking letter"),
            ('\u{FFFC}', "replacement character"),
            ('\u{FFFD}', "replacement character"),
            ('\u{E000}', "private-use character"),
            ('\u{F0000}', "private-use character"),
            ('\u{FDD0}', "unassigned code point or noncharacter"),
            ('\u{FFFF}', "unassigned code point or noncharacter"),
            ('\u{10FFFE}', "unassigned code point or noncharacter"),
        ] {
            let found = forbidden_in_name(&format!("Green{c}Apps"));
            assert_eq!(found.map(|(found, _)| found), Some(c), "{}", code_point(c));
            assert!(found.unwrap().1.starts_with(why), "{}", code_point(c));
        }
        // The tag range's neighbours are not default-ignorable, but are
        // unassigned: refused as such.
        for c in ['\u{DFFFF}', '\u{E1000}'] {
            assert!(!is_default_ignorable(c), "{}", code_point(c));
            let found = forbidden_in_name(&format!("a{c}b"));
            assert_eq!(
                found.map(|(_, why)| why),
                Some("unassigned code point or noncharacter")
            );
        }
        // Neighbours of the ranges, and visible names in other scripts.
        for c in [
            '\u{00AC}', '\u{00AE}', '\u{034E}', '\u{0350}', '\u{115E}', '\u{1161}', '\u{17B3}',
            '\u{17B6}', '\u{180A}', '\u{2070}', '\u{3163}', '\u{3165}', '\u{FDFF}', '\u{FE10}',
            '\u{FFA1}', '\u{FFF9}', '\u{27FF}', '\u{2801}',
        ] {
            assert!(!is_default_ignorable(c), "{}", code_point(c));
            assert_eq!(
                forbidden_in_name(&format!("a{c}b")),
                None,
                "{}",
                code_point(c)
            );
        }
        for name in [
            "Green Apps",
            "绿色应用",
            "한글 앱",
            "Ελληνικά",
            "é.cn",
            "👍 app",
        ] {
            assert_eq!(forbidden_in_name(name), None, "{name}");
        }
    }

    #[test]
    fn no_name_normalises_into_an_invisible_character() {
        // A name free of them keeps its key free of them: no character's
        // NFKC case-folded form holds one, so none can be smuggled in as a
        // compatibility form of another.
        for c in (0..=0x10FFFF).filter_map(char::from_u32) {
            if forbidden_in_name(&c.to_string()).is_some() {
                continue;
            }
            let key: String = std::iter::once(c)
                .nfkc()
                .default_case_fold()
                .nfkc()
                .collect();
            assert_eq!(forbidden_in_name(&key), None, "{}", code_point(c));
        }
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
