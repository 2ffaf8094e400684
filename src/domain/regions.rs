//! Regions as data (docs/guide.md "Regions"): the region record, the provider's
//! public regions a new ledger starts with, the mainland test the rules
//! read through `Lookup`, and the "did you mean" suggestion for a mistyped
//! region or service type.

use super::lookup::Lookup;
use super::types::shorten;
use crate::error::{Error, Reason, Result};

super::record::record! {
    /// One row of the region table.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Region {
        pub region_id: String,
        /// In the Chinese mainland: instances there can receive numbers.
        pub mainland: bool,
        /// 0 for the built-in seed, else the `region_set` event that wrote it.
        pub updated_seq: i64,
    }
}

/// The provider's public regions in the mainland, including the finance
/// and government clouds.
const MAINLAND: &[&str] = &[
    "cn-qingdao",
    "cn-beijing",
    "cn-zhangjiakou",
    "cn-huhehaote",
    "cn-wulanchabu",
    "cn-hangzhou",
    "cn-shanghai",
    "cn-nanjing",
    "cn-fuzhou",
    "cn-wuhan-lr",
    "cn-shenzhen",
    "cn-heyuan",
    "cn-guangzhou",
    "cn-chengdu",
    "cn-hangzhou-finance",
    "cn-shanghai-finance-1",
    "cn-shenzhen-finance-1",
    "cn-beijing-finance-1",
    "cn-north-2-gov-1",
];

/// The provider's public regions outside the mainland (Hong Kong, and
/// outside China).
const NOT_MAINLAND: &[&str] = &[
    "cn-hongkong",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-south-1",
    "us-east-1",
    "us-west-1",
    "na-south-1",
    "eu-central-1",
    "eu-west-1",
    "me-east-1",
    "me-central-1",
];

/// The region table of a new ledger (docs/guide.md "Regions"): seed rows like the
/// default policy, not events.
pub(crate) fn default_regions() -> Vec<Region> {
    let row = |region_id: &&str, mainland| Region {
        region_id: region_id.to_string(),
        mainland,
        updated_seq: 0,
    };
    MAINLAND
        .iter()
        .map(|id| row(id, true))
        .chain(NOT_MAINLAND.iter().map(|id| row(id, false)))
        .collect()
}

/// Whether the region table marks `region_id` as mainland (an unknown
/// region is not).
pub(crate) fn is_mainland(lookup: &dyn Lookup, region_id: &str) -> Result<bool> {
    Ok(lookup.region(region_id)?.is_some_and(|r| r.mainland))
}

/// Refuses a region the table does not hold (`region_unknown`), naming the
/// closest known one.
pub(crate) fn check_region_known(lookup: &dyn Lookup, region_id: &str) -> Result<()> {
    if lookup.region(region_id)?.is_some() {
        return Ok(());
    }
    let known = lookup.region_ids()?;
    Err(Error::refused(
        Reason::RegionUnknown,
        format!(
            "region {} is not in the region table{}; an edge region is added with `snledger region set ID --mainland true|false`",
            shorten(region_id),
            did_you_mean(region_id, &known)
        ),
    ))
}

/// Refuses a service type without a policy row (`service_type_unsupported`),
/// naming the closest known one.
pub(crate) fn check_type_known(lookup: &dyn Lookup, service_type: &str) -> Result<()> {
    if lookup.policy(service_type)?.is_some() {
        return Ok(());
    }
    let known = lookup.service_types()?;
    Err(Error::refused(
        Reason::ServiceTypeUnsupported,
        format!(
            "service type {} has no policy{}; a type is added with `snledger policy set`",
            shorten(service_type),
            did_you_mean(service_type, &known)
        ),
    ))
}

/// " (did you mean cn-hangzhou?)" for the closest of `known` (the first of
/// equally close ones in sorted order), or "" when nothing is close: at
/// most a third of the word's characters differ.
pub(crate) fn did_you_mean(word: &str, known: &[String]) -> String {
    let mut sorted: Vec<&String> = known.iter().collect();
    sorted.sort();
    let limit = (word.chars().count() / 3).max(1);
    sorted
        .into_iter()
        .map(|candidate| (edit_distance(word, candidate), candidate))
        .filter(|(distance, _)| *distance <= limit)
        .min_by_key(|(distance, _)| *distance)
        .map_or(String::new(), |(_, closest)| {
            format!(" (did you mean {closest}?)")
        })
}

/// Levenshtein distance over characters (one row of the table at a time).
pub(crate) fn edit_distance(left: &str, right: &str) -> usize {
    let right: Vec<char> = right.chars().collect();
    let mut previous: Vec<usize> = (0..=right.len()).collect();
    for (i, left_char) in left.chars().enumerate() {
        let mut current = Vec::with_capacity(right.len() + 1);
        current.push(i + 1);
        for (j, right_char) in right.iter().enumerate() {
            let substitution = previous[j] + usize::from(left_char != *right_char);
            let deletion = previous[j + 1] + 1;
            let insertion = current[j] + 1;
            current.push(substitution.min(deletion).min(insertion));
        }
        previous = current;
    }
    previous[right.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        assert_eq!(edit_distance("cn-hangzhoo", "cn-hangzhou"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("ecss", "ecs"), 1);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn suggestions() {
        let known: Vec<String> = default_regions().into_iter().map(|r| r.region_id).collect();
        assert_eq!(
            did_you_mean("cn-hangzhoo", &known),
            " (did you mean cn-hangzhou?)"
        );
        assert_eq!(did_you_mean("mars-1", &known), "");
        let types = vec!["ecs".to_string(), "ens".to_string()];
        assert_eq!(did_you_mean("ecss", &types), " (did you mean ecs?)");
    }

    #[test]
    fn the_seed_holds_each_region_once() {
        let mut ids: Vec<String> = default_regions().into_iter().map(|r| r.region_id).collect();
        let count = ids.len();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), count);
    }
}
