//! Eligibility (docs/reference.md "Eligibility reason codes"): every rule an instance must pass to receive
//! numbers, each with its stable reason code. `check` reports all of them;
//! `allocate` and `select` refuse on any.

use super::lookup::Lookup;
use super::regions::is_mainland;
use super::types::{Billing, Instance, InstanceState, Policy, Time};
use crate::error::{Reason, Result};

/// An instance has expired once its expiry time is not after `now`.
pub(crate) fn is_expired(instance: &Instance, now: Time) -> bool {
    super::types::parse_time("expires_at", &instance.expires_at)
        .map_or(true, |expires_at| expires_at <= now)
}

/// Every failing reason, in the order of docs/reference.md "Eligibility reason codes",
/// for a request of `requested` slots. An empty list means eligible.
/// `mainland`: what the region table says of the instance's region
/// (`regions::is_mainland`).
pub(crate) fn failing_reasons(
    instance: &Instance,
    policy: Option<&Policy>,
    mainland: bool,
    now: Time,
    requested: i64,
) -> Vec<Reason> {
    let mut reasons = Vec::new();
    if !mainland {
        reasons.push(Reason::RegionNotMainland);
    }
    if policy.is_none() {
        reasons.push(Reason::ServiceTypeUnsupported);
    }
    match instance.billing {
        Billing::PayAsYouGo => reasons.push(Reason::PayAsYouGo),
        Billing::Trial => reasons.push(Reason::Trial),
        Billing::Subscription => {}
    }
    if let Some(policy) = policy {
        if instance.subscription_months < policy.min_subscription_months {
            reasons.push(Reason::SubscriptionTooShort);
        }
        if let Some(minimum) = policy.min_order_amount_fen {
            if instance.order_amount_fen.unwrap_or(0) < minimum {
                reasons.push(Reason::OrderAmountTooLow);
            }
        }
        if policy.requires_public_ip && instance.public_ip.is_none() {
            reasons.push(Reason::NoPublicIp);
        }
    }
    if is_expired(instance, now) {
        reasons.push(Reason::Expired);
    }
    if instance.state == InstanceState::Released {
        reasons.push(Reason::Released);
    }
    if remaining_slots(instance, policy) < requested {
        reasons.push(Reason::QuotaExhausted);
    }
    reasons
}

/// Remaining slots of an instance under a policy (0 for an unsupported type).
pub(crate) fn remaining_slots(instance: &Instance, policy: Option<&Policy>) -> i64 {
    super::types::remaining(policy.map_or(0, |p| p.max_numbers), instance.consumed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::types::{default_policies, parse_time};

    fn ecs() -> Instance {
        Instance {
            account: "acct".into(),
            expires_at: "2027-01-01T00:00:00Z".into(),
            public_ip: Some("47.96.113.7".into()),
            ..Instance::example("i-1")
        }
    }

    fn policy(service_type: &str) -> Policy {
        default_policies()
            .into_iter()
            .find(|p| p.service_type == service_type)
            .unwrap()
    }

    fn now() -> Time {
        parse_time("now", "2026-11-22T10:00:00Z").unwrap()
    }

    fn reasons(instance: &Instance) -> Vec<Reason> {
        let policy = default_policies()
            .into_iter()
            .find(|p| p.service_type == instance.service_type);
        let state = crate::domain::memory::MemoryState::new();
        let mainland = crate::domain::regions::is_mainland(&state, &instance.region).unwrap();
        failing_reasons(instance, policy.as_ref(), mainland, now(), 1)
    }

    #[test]
    fn eligible_ecs_passes() {
        assert!(reasons(&ecs()).is_empty());
    }

    #[test]
    fn every_reason_is_reported() {
        let mut instance = ecs();
        instance.region = "cn-hongkong".into();
        instance.billing = Billing::PayAsYouGo;
        instance.subscription_months = 1;
        instance.public_ip = None;
        instance.expires_at = "2026-01-01T00:00:00Z".into();
        instance.state = InstanceState::Released;
        instance.consumed = 5;
        assert_eq!(
            reasons(&instance),
            vec![
                Reason::RegionNotMainland,
                Reason::PayAsYouGo,
                Reason::SubscriptionTooShort,
                Reason::NoPublicIp,
                Reason::Expired,
                Reason::Released,
                Reason::QuotaExhausted
            ]
        );
    }

    #[test]
    fn regions_come_from_the_table() {
        let state = crate::domain::memory::MemoryState::new();
        let mainland = |region| crate::domain::regions::is_mainland(&state, region).unwrap();
        assert!(mainland("cn-hangzhou"));
        assert!(mainland("cn-beijing-finance-1"));
        assert!(!mainland("cn-hongkong"));
        assert!(!mainland("ap-southeast-1"));
        assert!(!mainland("us-west-1"));
        assert!(!mainland("cn-hangzhoo"));
    }

    #[test]
    fn trial_and_unsupported_type() {
        let mut instance = ecs();
        instance.billing = Billing::Trial;
        instance.service_type = "rds".into();
        assert_eq!(
            reasons(&instance),
            vec![
                Reason::ServiceTypeUnsupported,
                Reason::Trial,
                Reason::QuotaExhausted
            ]
        );
    }

    #[test]
    fn iot_studio_needs_order_amount_and_six_months() {
        let mut instance = ecs();
        instance.service_type = "iot_studio".into();
        instance.public_ip = None;
        instance.subscription_months = 5;
        instance.order_amount_fen = Some(8999);
        assert_eq!(
            reasons(&instance),
            vec![Reason::SubscriptionTooShort, Reason::OrderAmountTooLow]
        );
        instance.subscription_months = 6;
        instance.order_amount_fen = Some(9000);
        assert!(reasons(&instance).is_empty());
        instance.order_amount_fen = None;
        assert_eq!(reasons(&instance), vec![Reason::OrderAmountTooLow]);
    }

    #[test]
    fn linkedmall_has_no_minimum_months_and_two_slots() {
        let mut instance = ecs();
        instance.service_type = "linkedmall".into();
        instance.subscription_months = 0;
        instance.public_ip = None;
        assert!(reasons(&instance).is_empty());
        instance.consumed = 2;
        assert_eq!(reasons(&instance), vec![Reason::QuotaExhausted]);
        assert_eq!(remaining_slots(&instance, Some(&policy("linkedmall"))), 0);
    }

    #[test]
    fn expiry_is_exclusive_at_now() {
        let mut instance = ecs();
        instance.expires_at = "2026-11-22T10:00:00Z".into();
        assert_eq!(reasons(&instance), vec![Reason::Expired]);
        instance.expires_at = "2026-11-22T10:00:01Z".into();
        assert!(reasons(&instance).is_empty());
    }

    #[test]
    fn quota_counts_the_request() {
        let mut instance = ecs();
        instance.consumed = 3;
        let policy = policy("ecs");
        assert!(failing_reasons(&instance, Some(&policy), true, now(), 2).is_empty());
        assert_eq!(
            failing_reasons(&instance, Some(&policy), true, now(), 3),
            vec![Reason::QuotaExhausted]
        );
        instance.consumed = 9;
        assert_eq!(remaining_slots(&instance, Some(&policy)), 0);
    }
}

/// Whether an instance may receive a number now, and what it has left.
#[derive(Debug, Clone)]
pub(crate) struct Eligibility {
    /// Every failing reason code (docs/reference.md "Eligibility reason codes").
    pub reasons: Vec<&'static str>,
    pub remaining: i64,
    /// The remaining slots when the instance passes every rule but the
    /// quota (docs/reference.md "Views: eligibility, quota that can be used, reports"), else 0.
    pub usable: i64,
}

impl Eligibility {
    pub(crate) fn eligible(&self) -> bool {
        self.reasons.is_empty()
    }
}

/// The eligibility of `instance` for one more slot at `now`.
pub(crate) fn eligibility(
    store: &dyn Lookup,
    instance: &Instance,
    now: Time,
) -> Result<Eligibility> {
    let policy = store.policy(&instance.service_type)?;
    let mainland = is_mainland(store, &instance.region)?;
    Ok(eligibility_under(instance, policy.as_ref(), mainland, now))
}

/// The same, under a policy and region flag already read.
pub(crate) fn eligibility_under(
    instance: &Instance,
    policy: Option<&Policy>,
    mainland: bool,
    now: Time,
) -> Eligibility {
    let failing = failing_reasons(instance, policy, mainland, now, 1);
    let remaining = remaining_slots(instance, policy);
    let blocked = failing.iter().any(|r| *r != Reason::QuotaExhausted);
    Eligibility {
        reasons: failing.iter().map(|r| r.code()).collect(),
        remaining,
        usable: if blocked { 0 } else { remaining },
    }
}
