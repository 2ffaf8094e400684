//! Commands and the rules that accept or refuse them. `decide` reads the
//! current state through `Lookup` and returns the one event to append (or,
//! for a repeated request id, the earlier answer). It never writes.

use super::eligibility::{failing_reasons, is_expired, is_mainland, remaining_slots};
use super::event::*;
use super::machine::{transition, Action};
use super::types::*;
use crate::error::{Error, Reason, Result};

/// Read access to the current state, from a store or a test double.
pub trait Lookup {
    fn instance(&self, instance_id: &str) -> Result<Option<Instance>>;
    fn number(&self, number: &str) -> Result<Option<NumberRecord>>;
    fn service(&self, service: &str) -> Result<Option<ServiceRecord>>;
    fn policy(&self, service_type: &str) -> Result<Option<Policy>>;
    fn request(&self, request_id: &str) -> Result<Option<RequestRecord>>;
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    AddInstance {
        instance_id: String,
        service_type: String,
        account: String,
        region: String,
        billing: Billing,
        subscription_months: i64,
        expires_at: Time,
        public_ip: Option<String>,
        order_amount_fen: Option<i64>,
    },
    Renew {
        instance_id: String,
        months: i64,
        expires_at: Time,
    },
    Release {
        instance_id: String,
    },
    SetPolicy {
        service_type: String,
        max_numbers: Option<i64>,
        min_subscription_months: Option<i64>,
        /// `Some(None)` clears the minimum.
        min_order_amount_fen: Option<Option<i64>>,
        requires_public_ip: Option<bool>,
    },
    Allocate {
        instance_id: String,
        account: Option<String>,
        count: Option<i64>,
        /// Numbers the provider already issued (`--number`); empty = generate.
        numbers: Vec<String>,
        request_id: Option<String>,
        /// Fresh UUIDs to use when generating (made by the caller, so that
        /// this module stays deterministic).
        generated: Vec<String>,
    },
    Select {
        instance_id: String,
        service: String,
        account: Option<String>,
        generated: String,
    },
    Grant {
        number: String,
        to: String,
        account: Option<String>,
        note: Option<String>,
    },
    Bind {
        number: String,
        service: String,
        account: String,
    },
    Submit {
        number: String,
    },
    Approve {
        number: String,
        icp_number: String,
    },
    Reject {
        number: String,
        reason: String,
    },
    Deregister {
        number: String,
        reason: Option<String>,
    },
    Invalidate {
        number: String,
        reason: String,
    },
    MoveService {
        service: String,
        to: String,
        commercial: bool,
    },
    IpUpdated {
        service: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Append(Body),
    /// A request id seen before with the same parameters: its first answer.
    AlreadyDone(RequestRecord),
}

fn optional_text(field: &str, value: &Option<String>, max: usize) -> Result<()> {
    value
        .as_deref()
        .map_or(Ok(()), |text| validate_text(field, text, max))
}

impl Command {
    /// Checks the syntax of every field (exit 2 on failure), before any rule.
    pub fn validate(&self) -> Result<()> {
        match self {
            Command::AddInstance {
                instance_id,
                service_type,
                account,
                region,
                subscription_months,
                public_ip,
                ..
            } => {
                validate_instance_id(instance_id)?;
                validate_service_type(service_type)?;
                validate_account(account)?;
                validate_region(region)?;
                if !(0..=limits::MONTHS_MAX).contains(subscription_months) {
                    return Err(Error::usage(format!(
                        "months: must be 0 to {}",
                        limits::MONTHS_MAX
                    )));
                }
                public_ip.as_deref().map_or(Ok(()), validate_public_ip)
            }
            Command::Renew {
                instance_id,
                months,
                ..
            } => {
                validate_instance_id(instance_id)?;
                if !(1..=limits::MONTHS_MAX).contains(months) {
                    return Err(Error::usage(format!(
                        "months: must be 1 to {}",
                        limits::MONTHS_MAX
                    )));
                }
                Ok(())
            }
            Command::Release { instance_id } => validate_instance_id(instance_id),
            Command::SetPolicy {
                service_type,
                max_numbers,
                min_subscription_months,
                ..
            } => {
                validate_service_type(service_type)?;
                if let Some(max) = max_numbers {
                    if !(0..=limits::NUMBERS_MAX).contains(max) {
                        return Err(Error::usage(format!(
                            "max: must be 0 to {}",
                            limits::NUMBERS_MAX
                        )));
                    }
                }
                if let Some(months) = min_subscription_months {
                    if !(0..=limits::MONTHS_MAX).contains(months) {
                        return Err(Error::usage(format!(
                            "min months: must be 0 to {}",
                            limits::MONTHS_MAX
                        )));
                    }
                }
                Ok(())
            }
            Command::Allocate {
                instance_id,
                account,
                numbers,
                request_id,
                ..
            } => {
                validate_instance_id(instance_id)?;
                account.as_deref().map_or(Ok(()), validate_account)?;
                if numbers.len() > limits::ALLOCATE_MAX {
                    return Err(Error::refused(
                        Reason::CountOutOfRange,
                        format!(
                            "{} numbers given; one request takes 1 to {}",
                            numbers.len(),
                            limits::ALLOCATE_MAX
                        ),
                    ));
                }
                for (i, number) in numbers.iter().enumerate() {
                    validate_number(number)?;
                    if numbers[..i].contains(number) {
                        return Err(Error::usage(format!("number {number} is given twice")));
                    }
                }
                optional_text("request id", request_id, limits::TEXT_MAX)
            }
            Command::Select {
                instance_id,
                service,
                account,
                ..
            } => {
                validate_instance_id(instance_id)?;
                validate_service(service)?;
                account.as_deref().map_or(Ok(()), validate_account)
            }
            Command::Grant {
                number,
                to,
                account,
                note,
            } => {
                validate_number(number)?;
                validate_account(to)?;
                account.as_deref().map_or(Ok(()), validate_account)?;
                optional_text("note", note, limits::TEXT_MAX)
            }
            Command::Bind {
                number,
                service,
                account,
            } => {
                validate_number(number)?;
                validate_service(service)?;
                validate_account(account)
            }
            Command::Submit { number } => validate_number(number),
            Command::Approve { number, icp_number } => {
                validate_number(number)?;
                validate_text("icp number", icp_number, limits::TEXT_MAX)
            }
            Command::Reject { number, reason } | Command::Invalidate { number, reason } => {
                validate_number(number)?;
                validate_text("reason", reason, limits::TEXT_MAX)
            }
            Command::Deregister { number, reason } => {
                validate_number(number)?;
                optional_text("reason", reason, limits::TEXT_MAX)
            }
            Command::MoveService { service, to, .. } => {
                validate_service(service)?;
                validate_instance_id(to)
            }
            Command::IpUpdated { service } => validate_service(service),
        }
    }
}

fn find_instance(view: &dyn Lookup, instance_id: &str) -> Result<Instance> {
    view.instance(instance_id)?
        .ok_or_else(|| Error::not_found(format!("no instance {instance_id}")))
}

fn find_number(view: &dyn Lookup, number: &str) -> Result<NumberRecord> {
    view.number(number)?
        .ok_or_else(|| Error::not_found(format!("no number {number}")))
}

fn find_service(view: &dyn Lookup, service: &str) -> Result<ServiceRecord> {
    view.service(service)?
        .ok_or_else(|| Error::not_found(format!("no service {}", shorten(service))))
}

/// Only the owner allocates, selects and grants; a missing `--account`
/// means the owner acts.
fn acting_owner(account: &Option<String>, owner: &str, what: &str) -> Result<String> {
    let account = account.clone().unwrap_or_else(|| owner.to_string());
    if account != owner {
        return Err(Error::refused(
            Reason::NotOwner,
            format!("account {account} cannot {what}: the owner is {owner}"),
        ));
    }
    Ok(account)
}

fn refuse_ineligible(
    instance: &Instance,
    policy: Option<&Policy>,
    reasons: &[Reason],
    requested: i64,
) -> Error {
    let first = reasons[0];
    let message = if reasons == [Reason::QuotaExhausted] {
        format!(
            "instance {} has {} slot(s) left, {} asked",
            instance.instance_id,
            remaining_slots(instance, policy),
            requested
        )
    } else {
        let codes: Vec<&str> = reasons.iter().map(|r| r.code()).collect();
        format!(
            "instance {} is not eligible: {}",
            instance.instance_id,
            codes.join(", ")
        )
    };
    Error::refused(first, message)
}

/// Refuses an instance that fails any eligibility rule for `requested` slots.
fn check_eligible(view: &dyn Lookup, instance: &Instance, now: Time, requested: i64) -> Result<()> {
    let policy = view.policy(&instance.service_type)?;
    let reasons = failing_reasons(instance, policy.as_ref(), now, requested);
    if reasons.is_empty() {
        return Ok(());
    }
    Err(refuse_ineligible(
        instance,
        policy.as_ref(),
        &reasons,
        requested,
    ))
}

/// A number is unique across the whole ledger, forever.
fn check_new_numbers(view: &dyn Lookup, numbers: &[String]) -> Result<()> {
    for number in numbers {
        if view.number(number)?.is_some() {
            return Err(Error::refused(
                Reason::AlreadyExists,
                format!("number {number} already exists"),
            ));
        }
    }
    Ok(())
}

/// A service may take a number unless it already holds one that is bound,
/// under review or filed.
fn check_service_free(view: &dyn Lookup, service: &str) -> Result<()> {
    if let Some(record) = view.service(service)? {
        let number = find_number(view, &record.number)?;
        if number.status.holds_service() {
            return Err(Error::refused(
                Reason::ServiceTaken,
                format!(
                    "service {} already holds number {} ({})",
                    shorten(service),
                    number.number,
                    number.status
                ),
            ));
        }
    }
    Ok(())
}

fn number_changed(
    number: &NumberRecord,
    icp_number: Option<String>,
    reason: Option<String>,
) -> NumberChanged {
    NumberChanged {
        number: number.number.clone(),
        instance_id: number.instance_id.clone(),
        owner: number.owner.clone(),
        holder: number.holder.clone(),
        service: number.service.clone(),
        icp_number,
        reason,
    }
}

pub fn decide(view: &dyn Lookup, command: &Command, now: Time) -> Result<Decision> {
    command.validate()?;
    let body = match command {
        Command::AddInstance {
            instance_id,
            service_type,
            account,
            region,
            billing,
            subscription_months,
            expires_at,
            public_ip,
            order_amount_fen,
        } => {
            if view.instance(instance_id)?.is_some() {
                return Err(Error::refused(
                    Reason::AlreadyExists,
                    format!("instance {instance_id} already exists"),
                ));
            }
            Body::InstanceAdded(InstanceAdded {
                instance_id: instance_id.clone(),
                service_type: service_type.clone(),
                account: account.clone(),
                region: region.clone(),
                billing: billing.as_str().to_string(),
                subscription_months: *subscription_months,
                expires_at: format_time(*expires_at),
                public_ip: public_ip.clone(),
                order_amount: order_amount_fen.map(format_fen),
            })
        }
        Command::Renew {
            instance_id,
            months,
            expires_at,
        } => {
            let instance = find_instance(view, instance_id)?;
            if instance.state == InstanceState::Released {
                return Err(Error::refused(
                    Reason::Released,
                    format!("instance {instance_id} is released"),
                ));
            }
            let expires_at = format_time(*expires_at);
            if expires_at <= instance.expires_at {
                return Err(Error::usage(format!(
                    "expires: {expires_at} is not later than the current expiry {}",
                    instance.expires_at
                )));
            }
            let subscription_months = instance.subscription_months + months;
            if subscription_months > limits::MONTHS_MAX {
                return Err(Error::usage(format!(
                    "months: the total would pass {}",
                    limits::MONTHS_MAX
                )));
            }
            Body::InstanceRenewed(InstanceRenewed {
                instance_id: instance_id.clone(),
                account: instance.account,
                months: *months,
                subscription_months,
                expires_at,
            })
        }
        Command::Release { instance_id } => {
            let instance = find_instance(view, instance_id)?;
            if instance.state == InstanceState::Released {
                return Err(Error::refused(
                    Reason::Released,
                    format!("instance {instance_id} is already released"),
                ));
            }
            Body::InstanceReleased(InstanceReleased {
                instance_id: instance_id.clone(),
                account: instance.account,
            })
        }
        Command::SetPolicy {
            service_type,
            max_numbers,
            min_subscription_months,
            min_order_amount_fen,
            requires_public_ip,
        } => {
            if max_numbers.is_none()
                && min_subscription_months.is_none()
                && min_order_amount_fen.is_none()
                && requires_public_ip.is_none()
            {
                return Err(Error::usage(
                    "policy set: nothing to set; give --max, --min-months, --min-order-amount or --requires-public-ip",
                ));
            }
            let current = view.policy(service_type)?;
            let (max_numbers, min_subscription_months) =
                match (&current, max_numbers, min_subscription_months) {
                    (Some(policy), max, months) => (
                        max.unwrap_or(policy.max_numbers),
                        months.unwrap_or(policy.min_subscription_months),
                    ),
                    (None, Some(max), Some(months)) => (*max, *months),
                    (None, _, _) => {
                        return Err(Error::usage(format!(
                            "policy for the new type {service_type} needs --max and --min-months"
                        )))
                    }
                };
            let min_order_amount_fen = match min_order_amount_fen {
                Some(value) => *value,
                None => current.as_ref().and_then(|p| p.min_order_amount_fen),
            };
            let requires_public_ip = requires_public_ip
                .unwrap_or(current.as_ref().is_some_and(|p| p.requires_public_ip));
            Body::PolicySet(PolicySet {
                service_type: service_type.clone(),
                max_numbers,
                min_subscription_months,
                min_order_amount: min_order_amount_fen.map(format_fen),
                requires_public_ip,
            })
        }
        Command::Allocate {
            instance_id,
            account,
            count,
            numbers,
            request_id,
            generated,
        } => {
            let requested = if numbers.is_empty() {
                count.unwrap_or(1)
            } else {
                if count.is_some_and(|count| count != numbers.len() as i64) {
                    return Err(Error::usage(format!(
                        "--count {} does not match the {} numbers given",
                        count.unwrap_or(0),
                        numbers.len()
                    )));
                }
                numbers.len() as i64
            };
            if !(1..=limits::ALLOCATE_MAX as i64).contains(&requested) {
                return Err(Error::refused(
                    Reason::CountOutOfRange,
                    format!(
                        "count {requested}: one request takes 1 to {}",
                        limits::ALLOCATE_MAX
                    ),
                ));
            }
            let instance = find_instance(view, instance_id)?;
            let account = acting_owner(
                account,
                &instance.account,
                &format!("allocate on {instance_id}"),
            )?;
            if let Some(request_id) = request_id {
                if let Some(earlier) = view.request(request_id)? {
                    let same = earlier.instance_id == *instance_id
                        && earlier.account == account
                        && earlier.count == requested
                        && earlier.asked == *numbers;
                    if same {
                        return Ok(Decision::AlreadyDone(earlier));
                    }
                    return Err(Error::refused(
                        Reason::RequestConflict,
                        format!(
                            "request id {} was used for {} number(s) on {} by {} (event {})",
                            shorten(request_id),
                            earlier.count,
                            earlier.instance_id,
                            earlier.account,
                            earlier.seq
                        ),
                    ));
                }
            }
            check_eligible(view, &instance, now, requested)?;
            let new_numbers: Vec<String> = if numbers.is_empty() {
                generated.iter().take(requested as usize).cloned().collect()
            } else {
                numbers.clone()
            };
            assert_eq!(
                new_numbers.len() as i64,
                requested,
                "invariant: the caller generates enough numbers"
            );
            check_new_numbers(view, &new_numbers)?;
            Body::Allocated(Allocated {
                instance_id: instance_id.clone(),
                account,
                numbers: new_numbers,
                asked: numbers.clone(),
                request_id: request_id.clone(),
            })
        }
        Command::Select {
            instance_id,
            service,
            account,
            generated,
        } => {
            let instance = find_instance(view, instance_id)?;
            let account =
                acting_owner(account, &instance.account, &format!("select {instance_id}"))?;
            check_eligible(view, &instance, now, 1)?;
            check_service_free(view, service)?;
            check_new_numbers(view, std::slice::from_ref(generated))?;
            Body::Selected(Selected {
                instance_id: instance_id.clone(),
                account,
                number: generated.clone(),
                service: service.clone(),
            })
        }
        Command::Grant {
            number,
            to,
            account,
            note,
        } => {
            let record = find_number(view, number)?;
            acting_owner(account, &record.owner, &format!("grant {number}"))?;
            transition(number, record.status, Action::Grant)?;
            Body::Granted(Granted {
                number: number.clone(),
                instance_id: record.instance_id,
                owner: record.owner,
                from: record.holder,
                to: to.clone(),
                note: note.clone(),
            })
        }
        Command::Bind {
            number,
            service,
            account,
        } => {
            let record = find_number(view, number)?;
            if *account != record.holder {
                return Err(Error::refused(
                    Reason::NotHolder,
                    format!(
                        "account {account} cannot bind {number}: the holder is {}",
                        record.holder
                    ),
                ));
            }
            transition(number, record.status, Action::Bind)?;
            check_service_free(view, service)?;
            Body::Bound(Bound {
                number: number.clone(),
                instance_id: record.instance_id,
                owner: record.owner,
                holder: record.holder,
                service: service.clone(),
            })
        }
        Command::Submit { number } => {
            let record = find_number(view, number)?;
            transition(number, record.status, Action::Submit)?;
            Body::Submitted(number_changed(&record, None, None))
        }
        Command::Approve { number, icp_number } => {
            let record = find_number(view, number)?;
            transition(number, record.status, Action::Approve)?;
            Body::Approved(number_changed(&record, Some(icp_number.clone()), None))
        }
        Command::Reject { number, reason } => {
            let record = find_number(view, number)?;
            transition(number, record.status, Action::Reject)?;
            Body::Rejected(number_changed(&record, None, Some(reason.clone())))
        }
        Command::Deregister { number, reason } => {
            let record = find_number(view, number)?;
            transition(number, record.status, Action::Deregister)?;
            Body::Deregistered(number_changed(&record, None, reason.clone()))
        }
        Command::Invalidate { number, reason } => {
            let record = find_number(view, number)?;
            transition(number, record.status, Action::Invalidate)?;
            Body::Invalidated(number_changed(&record, None, Some(reason.clone())))
        }
        Command::MoveService {
            service,
            to,
            commercial,
        } => {
            let record = find_service(view, service)?;
            let number = find_number(view, &record.number)?;
            // Only a filed service moves: before that, the provider is still
            // verifying the access information (instance and IP) under review.
            if number.status != Status::Filed {
                return Err(Error::refused(
                    Reason::WrongStatus,
                    format!(
                        "service {} cannot move: its number {} is {}, and only filed services move",
                        shorten(service),
                        number.number,
                        number.status
                    ),
                ));
            }
            let target = find_instance(view, to)?;
            if target.instance_id == record.host {
                return Err(Error::refused(
                    Reason::AlreadyExists,
                    format!("service {} already runs on {to}", shorten(service)),
                ));
            }
            let mut reasons = Vec::new();
            if !is_mainland(&target.region) {
                reasons.push(Reason::RegionNotMainland);
            }
            if is_expired(&target, now) {
                reasons.push(Reason::Expired);
            }
            if target.state == InstanceState::Released {
                reasons.push(Reason::Released);
            }
            if let Some(first) = reasons.first() {
                let codes: Vec<&str> = reasons.iter().map(|r| r.code()).collect();
                return Err(Error::refused(
                    *first,
                    format!("instance {to} cannot host a service: {}", codes.join(", ")),
                ));
            }
            let commercial = record.commercial || *commercial;
            Body::ServiceMoved(ServiceMoved {
                service: service.clone(),
                number: record.number,
                instance_id: number.instance_id,
                owner: number.owner,
                holder: number.holder,
                from_host: record.host,
                to_host: to.clone(),
                commercial,
                ip_update_required: commercial,
            })
        }
        Command::IpUpdated { service } => {
            let record = find_service(view, service)?;
            if !record.ip_update_required {
                return Err(Error::refused(
                    Reason::WrongStatus,
                    format!("service {} has no pending IP update", shorten(service)),
                ));
            }
            let number = find_number(view, &record.number)?;
            Body::ServiceIpUpdated(ServiceIpUpdated {
                service: service.clone(),
                number: record.number,
                instance_id: number.instance_id,
                owner: number.owner,
                holder: number.holder,
                host: record.host,
            })
        }
    };
    Ok(Decision::Append(body))
}
