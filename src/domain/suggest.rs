//! "Did you mean …?" for a value outside a known list: the same word in
//! another case (`ECS` → `ecs`), a provider's synonym (`PrePaid` →
//! `subscription`), or a near miss (`subscribtion`). The value is still
//! refused; the hint only names what was probably meant.

/// Words the provider (or common usage) has for a value of ours, by the
/// value they mean. Compared without case, `-`, `_` or spaces.
const SYNONYMS: &[(&str, &str)] = &[
    ("prepaid", "subscription"),
    ("prepay", "subscription"),
    ("monthly", "subscription"),
    ("yearly", "subscription"),
    ("postpaid", "pay-as-you-go"),
    ("postpay", "pay-as-you-go"),
    ("payg", "pay-as-you-go"),
    ("ondemand", "pay-as-you-go"),
    ("payasyougo", "pay-as-you-go"),
    ("free", "trial"),
    ("freetrial", "trial"),
    ("swas", "simple_application_server"),
    ("simpleapplicationserver", "simple_application_server"),
    ("webhosting", "cloud_web_hosting"),
    ("cloudwebhosting", "cloud_web_hosting"),
    ("iot", "iot_studio"),
    ("iotstudio", "iot_studio"),
    ("edgenodeservice", "ens"),
    ("mall", "linkedmall"),
];

/// The candidate `given` probably meant, if one is close enough.
pub(crate) fn did_you_mean<'a>(given: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let folded = fold(given);
    if folded.is_empty() {
        return None;
    }
    if let Some(same) = candidates.iter().find(|c| fold(c) == folded) {
        return Some(same);
    }
    if let Some((_, meant)) = SYNONYMS.iter().find(|(word, _)| *word == folded) {
        if let Some(candidate) = candidates.iter().find(|c| *c == meant) {
            return Some(candidate);
        }
    }
    // A near miss: at most one edit in four characters, and never more than two.
    let allowed = (folded.chars().count() / 4).clamp(1, 2);
    candidates
        .iter()
        .map(|c| (edit_distance(&fold(c), &folded), *c))
        .filter(|(distance, _)| *distance <= allowed)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

/// `; did you mean X?` for a message, or nothing.
pub(crate) fn hint(given: &str, candidates: &[&str]) -> String {
    did_you_mean(given, candidates)
        .map_or_else(String::new, |meant| format!("; did you mean {meant}?"))
}

/// Lower case without separators: `Pay_As-You Go` → `payasyougo`.
fn fold(text: &str) -> String {
    text.chars()
        .filter(|c| !matches!(c, '-' | '_' | ' ' | '/'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// Levenshtein distance over characters.
fn edit_distance(left: &str, right: &str) -> usize {
    let right: Vec<char> = right.chars().collect();
    let mut previous: Vec<usize> = (0..=right.len()).collect();
    for (i, l) in left.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, r) in right.iter().enumerate() {
            let substitution = previous[j] + usize::from(l != *r);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[right.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    const BILLING: &[&str] = &["subscription", "pay-as-you-go", "trial"];

    #[test]
    fn case_synonyms_and_near_misses() {
        assert_eq!(did_you_mean("ECS", &["ecs", "ens"]), Some("ecs"));
        assert_eq!(did_you_mean("PrePaid", BILLING), Some("subscription"));
        assert_eq!(did_you_mean("PostPaid", BILLING), Some("pay-as-you-go"));
        assert_eq!(did_you_mean("PayAsYouGo", BILLING), Some("pay-as-you-go"));
        assert_eq!(did_you_mean("subscribtion", BILLING), Some("subscription"));
        assert_eq!(
            did_you_mean("JSON", &["table", "json", "csv"]),
            Some("json")
        );
        assert_eq!(did_you_mean("zzz", BILLING), None);
        assert_eq!(did_you_mean("", BILLING), None);
        // A synonym whose value is not among the candidates suggests nothing.
        assert_eq!(did_you_mean("prepaid", &["table", "json"]), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }
}
