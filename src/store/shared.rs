//! What both backends share: the column lists (both schemas keep the same
//! columns in the same order), the text forms of stored lists, and the
//! comparisons that are the same whatever the engine.

use std::collections::BTreeMap;

pub const INSTANCE_COLUMNS: &str = "instance_id, service_type, account, region, billing, subscription_months, expires_at, public_ip, order_amount_fen, state, consumed, updated_seq";
pub const NUMBER_COLUMNS: &str = "number, instance_id, owner, holder, status, service, icp_number, origin, issued_seq, updated_seq";
pub const POLICY_COLUMNS: &str = "service_type, max_numbers, min_subscription_months, min_order_amount_fen, requires_public_ip, updated_seq";
pub const SERVICE_COLUMNS: &str =
    "service, number, host, commercial, ip_update_required, service_key, updated_seq";
pub const REGION_COLUMNS: &str = "region_id, mainland, updated_seq";
pub const REQUEST_COLUMNS: &str = "request_id, instance_id, account, count, asked, numbers, seq";

/// A list of names as stored in a text column (a JSON array).
pub(crate) fn to_json_array(values: &[String]) -> String {
    serde_json::Value::from(values.to_vec()).to_string()
}

/// The first text past every continuation of `prefix`, so that
/// `prefix <= key < end` is a range scan of a primary key; `None` for an
/// empty prefix or one whose last character has no successor.
pub(crate) fn prefix_range_end(prefix: &str) -> Option<String> {
    let mut end: Vec<char> = prefix.chars().collect();
    let last = end.pop()?;
    end.push(char::from_u32(last as u32 + 1)?);
    Some(end.into_iter().collect())
}

/// Schema objects by (kind, name) with their definition.
pub(crate) type SchemaObjects = BTreeMap<(String, String), String>;

/// Every object missing, altered or extra in `stored` against `expected`,
/// one sentence each (verify's storage check on either backend).
pub(crate) fn schema_problems(stored: &SchemaObjects, expected: &SchemaObjects) -> Vec<String> {
    let mut problems = Vec::new();
    for (key, definition) in expected {
        match stored.get(key) {
            None => problems.push(format!("the schema lacks the {} {}", key.0, key.1)),
            Some(found) if found != definition => problems.push(format!(
                "the {} {} is not as snledger creates it",
                key.0, key.1
            )),
            Some(_) => {}
        }
    }
    for key in stored.keys().filter(|key| !expected.contains_key(key)) {
        problems.push(format!(
            "the schema has a {} {} that snledger does not create",
            key.0, key.1
        ));
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_range_end_is_the_next_text_past_the_prefix() {
        assert_eq!(prefix_range_end("ab").as_deref(), Some("ac"));
        assert_eq!(prefix_range_end(""), None);
        assert_eq!(prefix_range_end("a\u{10FFFF}"), None);
    }

    #[test]
    fn schema_problems_name_missing_altered_and_extra_objects() {
        let object = |kind: &str, name: &str, sql: &str| ((kind.into(), name.into()), sql.into());
        let expected: SchemaObjects =
            [object("table", "events", "a"), object("index", "k", "b")].into();
        let stored: SchemaObjects = [
            object("table", "events", "changed"),
            object("trigger", "t", "c"),
        ]
        .into();
        assert_eq!(
            schema_problems(&stored, &expected),
            [
                "the schema lacks the index k",
                "the table events is not as snledger creates it",
                "the schema has a trigger t that snledger does not create",
            ]
        );
    }
}
