//! Unit tests of `domain::reconcile`; compiled only for tests (`#[cfg(test)] mod tests;`).

use super::matching::folded;
use super::*;
use crate::domain::types::parse_time;
use std::collections::BTreeMap;

/// A ledger as the comparison sees it, in memory.
#[derive(Default)]
struct Memory {
    instances: BTreeMap<String, Instance>,
    numbers: BTreeMap<String, NumberRecord>,
}

impl Book for Memory {
    fn instance(&self, instance_id: &str) -> Result<Option<Instance>> {
        Ok(self.instances.get(instance_id).cloned())
    }
    fn policy(&self, service_type: &str) -> Result<Option<Policy>> {
        Ok(Some(Policy {
            service_type: service_type.to_string(),
            max_numbers: 5,
            min_subscription_months: 3,
            min_order_amount_fen: None,
            requires_public_ip: false,
            updated_seq: 0,
        }))
    }
    fn mainland(&self, region_id: &str) -> Result<bool> {
        Ok(region_id.starts_with("cn-") && region_id != "cn-hongkong")
    }
}

fn book() -> Memory {
    let mut memory = Memory::default();
    memory.instances.insert(
        "i-1".into(),
        Instance {
            expires_at: "2030-01-01T00:00:00Z".into(),
            public_ip: Some("47.96.10.21".into()),
            consumed: 2,
            ..Instance::example("i-1")
        },
    );
    for (number, status, icp) in [
        ("SN-1", Status::Filing, None),
        ("sn-2", Status::Filed, Some("浙ICP备1号-1")),
    ] {
        memory.numbers.insert(
            number.into(),
            NumberRecord {
                number: number.into(),
                instance_id: "i-1".into(),
                owner: "acme".into(),
                holder: "acme".into(),
                status,
                service: Some(format!("{number}.example.cn")),
                icp_number: icp.map(String::from),
                origin: Origin::Issued,
                issued_seq: 2,
                updated_seq: 2,
            },
        );
    }
    memory
}

fn record(sn: &str, status: u8, beian: Option<&str>) -> ProviderRecord {
    ProviderRecord {
        sn: sn.into(),
        status,
        beian_num: beian.map(String::from),
        ali_uid: "acme".into(),
        resource_type: 1,
        resource_id: "i-1".into(),
    }
}

/// The two passes as the command runs them, with in-memory sorts.
fn run(book: &Memory, records: Vec<ProviderRecord>) -> Outcome {
    let mut by_number: Vec<ByNumber> = records
        .into_iter()
        .enumerate()
        .map(|(k, r)| ByNumber::new(k as u64, r))
        .collect();
    by_number.sort();
    let mut ledger: Vec<NumberRecord> = book.numbers.values().cloned().collect();
    ledger.sort_by_key(|n| folded(&n.number));
    let mut by_instance = Vec::new();
    let mut matching = NumberMatch::new(Box::new(by_number.into_iter().map(Ok))).unwrap();
    let mut emit = |entry| {
        by_instance.push(entry);
        Ok(())
    };
    for number in ledger {
        let instance = book.instances.get(&number.instance_id).cloned();
        matching.ledger(number, instance, &mut emit).unwrap();
    }
    let numbers = matching.finish(&mut emit).unwrap();
    by_instance.sort();
    let mut comparison = Comparison::new(parse_time("now", "2027-01-01").unwrap());
    for entry in by_instance {
        comparison.entry(book, entry).unwrap();
    }
    comparison.finish(numbers)
}

fn classes(outcome: &Outcome) -> Vec<&'static str> {
    outcome.differences.iter().map(|d| d.class.code()).collect()
}

#[test]
fn the_status_table_is_the_one_in_the_readme() {
    let agreeing: Vec<(Status, u8)> = STATUS_AGREEMENT
        .iter()
        .flat_map(|(status, codes)| codes.iter().map(move |code| (*status, *code)))
        .collect();
    assert_eq!(agreeing.len(), 9);
    assert!(status_agrees(Status::Unbound, 1));
    assert!(status_agrees(Status::Deregistered, 3));
    assert!(!status_agrees(Status::Bound, 0));
    assert!(!status_agrees(Status::Filed, 4));
    assert_eq!(
        provider_status_meaning(3),
        "invalidated for administrative reasons"
    );
    assert_eq!(provider_status_meaning(9), "unknown");
}

#[test]
fn types_are_judged_only_where_the_table_knows_them() {
    assert!(type_fits(1, "ecs"));
    assert!(type_fits(9, "cloud_web_hosting"));
    assert!(!type_fits(8, "ecs"));
    assert!(!type_fits(42, "ecs"), "ecs has code 1");
    assert!(!type_fits(1, "linkedmall"), "1 is ECS");
    assert!(type_fits(42, "linkedmall"), "neither side known");
}

#[test]
fn in_sync_in_any_ascii_case() {
    let book = book();
    let outcome = run(
        &book,
        vec![
            record("sn-1", 4, None),
            record("SN-2", 2, Some("浙ICP备1号-1")),
            record("SN-2", 0, None), // a repeat is compared once
        ],
    );
    assert!(outcome.differences.is_empty(), "{:?}", outcome.differences);
    assert_eq!((outcome.numbers, outcome.instances), (2, 1));
}

#[test]
fn an_approval_is_expressed_and_a_second_miit_number_is_not() {
    let book = book();
    let outcome = run(
        &book,
        vec![
            record("SN-1", 2, Some("浙ICP备9号-1")),
            record("sn-2", 2, Some("浙ICP备1号-2")),
        ],
    );
    assert_eq!(
        classes(&outcome),
        ["status_differs", "icp_number_differs", "icp_number_differs"]
    );
    let expressed: Vec<bool> = outcome.differences.iter().map(|d| d.expressed).collect();
    assert_eq!(expressed, [true, true, false]);
    assert_eq!(
        outcome.ops,
        [Op::Approve {
            number: "SN-1".into(),
            icp_number: "浙ICP备9号-1".into()
        }]
    );
}

#[test]
fn unknown_numbers_are_allocated_while_quota_lasts_and_the_rest_is_quota() {
    let book = book();
    let mut records = vec![
        record("SN-1", 4, None),
        record("sn-2", 2, Some("浙ICP备1号-1")),
    ];
    for i in 3..=7 {
        records.push(record(&format!("SN-{i}"), if i == 3 { 3 } else { 0 }, None));
    }
    let outcome = run(&book, records);
    // Five slots, two used: three allocations; SN-3 is then invalidated.
    let allocated: Vec<&str> = outcome
        .ops
        .iter()
        .filter_map(|op| match op {
            Op::Allocate { number, .. } => Some(number.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(allocated, ["SN-3", "SN-4", "SN-5"]);
    assert!(outcome.ops.contains(&Op::Invalidate {
        number: "SN-3".into(),
        reason: INVALIDATED_REASON.into()
    }));
    let quota = outcome.differences.last().unwrap();
    assert_eq!(quota.class, Class::QuotaDiffers);
    assert_eq!(quota.provider, Some(ProviderSide::Numbers { numbers: 7 }));
    assert!(!quota.expressed, "7 listed, 2 consumed + 3 allocated");
    assert_eq!(outcome.counts().unknown_number, 5);
}

#[test]
fn another_owner_blocks_allocation_and_missing_numbers_are_found_at_the_end() {
    let book = book();
    let mut stranger = record("SN-9", 0, None);
    stranger.ali_uid = "other".into();
    let outcome = run(&book, vec![stranger]);
    assert_eq!(
        classes(&outcome),
        [
            "owner_differs",
            "unknown_number",
            "missing_at_provider",
            "missing_at_provider"
        ]
    );
    assert!(outcome.ops.is_empty());
}
