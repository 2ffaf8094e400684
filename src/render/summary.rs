//! One-line summaries of events for the `history` table (JSON keeps
//! everything).

use super::*;

/// A number as tables name it in a line: a UUID by its first 8 characters
/// (enough to find it again; the full number is in JSON and CSV).
fn short_number(number: &str) -> String {
    if number.len() > 12 && number.is_char_boundary(8) {
        format!("{}…", &number[..8])
    } else {
        number.to_string()
    }
}

/// A time inside a summary line, in the operator's zone when one is given.
fn summary_time(text: &str, zone: Option<chrono_tz::Tz>) -> String {
    zone.map_or_else(|| text.to_string(), |zone| display_time_in(text, zone))
}

/// ` (label value)`, or nothing.
fn labelled(label: &str, value: &Option<String>) -> String {
    value
        .as_ref()
        .map_or_else(String::new, |value| format!(" ({label} {value})"))
}

/// One line saying what an event did, for the `history` table (JSON and
/// CSV keep the whole payload): `allocated 2 on i-web1 by acme: …`. Every
/// kind has its line (no wildcard: a new kind does not compile without one).
pub(crate) fn event_summary(event: &Event, zone: Option<chrono_tz::Tz>) -> String {
    use crate::domain::event::Body;
    let Ok(body) = event.body() else {
        return event.payload.clone();
    };
    match &body {
        Body::InstanceAdded(p) => instance_added(p, zone),
        Body::InstanceRenewed(p) => format!(
            "{} +{} months ({} in all), expires {}",
            p.instance_id,
            p.months,
            p.subscription_months,
            summary_time(&p.expires_at, zone)
        ),
        Body::InstanceReleased(p) => format!("{} of {} released", p.instance_id, p.account),
        Body::InstanceAmended(p) => instance_amended(p),
        Body::PolicySet(p) => policy_set(p),
        Body::RegionSet(p) => format!(
            "{} {}",
            p.region,
            if p.mainland {
                "mainland"
            } else {
                "not mainland"
            }
        ),
        Body::Allocated(p) => allocated(p),
        Body::Selected(p) => format!(
            "{} selected for {} by {} ({})",
            p.instance_id,
            p.service,
            p.account,
            short_number(&p.number)
        ),
        Body::Granted(p) => format!(
            "{} {} → {}{}",
            short_number(&p.number),
            p.from,
            p.to,
            labelled("note", &p.note)
        ),
        Body::Bound(p) => format!(
            "{} → {} by {}",
            short_number(&p.number),
            p.service,
            p.holder
        ),
        Body::Approved(p) => format!(
            "{}{} filed as {}",
            short_number(&p.number),
            on_service(&p.service),
            p.icp_number.as_deref().unwrap_or("?")
        ),
        Body::Submitted(p) | Body::Rejected(p) | Body::Deregistered(p) | Body::Invalidated(p) => {
            number_changed(p)
        }
        Body::ServiceMoved(p) => service_moved(p),
        Body::ServiceIpUpdated(p) => format!("{} submitted IP updated", p.service),
        Body::ServiceRenamed(p) => format!(
            "{} renamed {} ({})",
            p.service,
            p.to,
            short_number(&p.number)
        ),
        Body::Reconciled(p) => reconciled(p),
        Body::ClockRepaired(p) => format!(
            "events {} to {} were dated ahead ({} to {}): {}",
            p.first_seq,
            p.last_seq,
            summary_time(&p.first_claimed_at, zone),
            summary_time(&p.last_claimed_at, zone),
            p.reason
        ),
    }
}

fn instance_added(p: &crate::domain::event::InstanceAdded, zone: Option<chrono_tz::Tz>) -> String {
    format!(
        "{} {} of {} in {}, {} {} months, expires {}",
        p.instance_id,
        p.service_type,
        p.account,
        p.region,
        p.billing,
        p.subscription_months,
        summary_time(&p.expires_at, zone)
    )
}

/// `i-1 amended: billing subscription → pay_as_you_go, public IP none → …`.
fn instance_amended(p: &crate::domain::event::InstanceAmended) -> String {
    use crate::domain::event::FieldChange;
    fn text(change: &FieldChange<String>) -> (String, String) {
        (change.old.clone(), change.new.clone())
    }
    fn optional(change: &FieldChange<Option<String>>) -> (String, String) {
        let shown = |value: &Option<String>| value.clone().unwrap_or_else(|| "none".into());
        (shown(&change.old), shown(&change.new))
    }
    let changes = [
        ("type", p.service_type.as_ref().map(text)),
        ("region", p.region.as_ref().map(text)),
        ("billing", p.billing.as_ref().map(text)),
        ("public IP", p.public_ip.as_ref().map(optional)),
        ("order amount", p.order_amount.as_ref().map(optional)),
        ("account", p.owner.as_ref().map(text)),
    ];
    let fields: Vec<String> = changes
        .into_iter()
        .filter_map(|(label, change)| change.map(|(old, new)| format!("{label} {old} → {new}")))
        .collect();
    format!(
        "{} of {} amended: {}",
        p.instance_id,
        p.account,
        fields.join(", ")
    )
}

fn policy_set(p: &crate::domain::event::PolicySet) -> String {
    format!(
        "{}: max {}, min {} months, min order {}, public IP {}",
        p.service_type,
        p.max_numbers,
        p.min_subscription_months,
        p.min_order_amount.as_deref().unwrap_or("none"),
        if p.requires_public_ip {
            "required"
        } else {
            "not required"
        }
    )
}

fn allocated(p: &crate::domain::event::Allocated) -> String {
    format!(
        "allocated {} on {} by {}: {}{}",
        p.numbers.len(),
        p.instance_id,
        p.account,
        p.numbers
            .iter()
            .map(|n| short_number(n))
            .collect::<Vec<_>>()
            .join(", "),
        labelled("request", &p.request_id)
    )
}

fn number_changed(p: &crate::domain::event::NumberChanged) -> String {
    format!(
        "{}{}{}",
        short_number(&p.number),
        on_service(&p.service),
        labelled("reason", &p.reason)
    )
}

fn service_moved(p: &crate::domain::event::ServiceMoved) -> String {
    format!(
        "{} {} → {}{}",
        p.service,
        p.from_host,
        p.to_host,
        if p.ip_update_required {
            " (IP update required)"
        } else {
            ""
        }
    )
}

/// `provider file 3f2a9c1e… (2048 bytes): 17 numbers, 9 instances, 2 differences`.
fn reconciled(p: &crate::domain::event::Reconciled) -> String {
    format!(
        "provider file {}… ({} bytes): {} numbers, {} instances, {} differences",
        p.file_sha256.get(..8).unwrap_or(&p.file_sha256),
        p.file_size_bytes,
        p.numbers,
        p.instances,
        p.differences.total()
    )
}

/// ` SERVICE`, or nothing.
fn on_service(service: &Option<String>) -> String {
    service
        .as_ref()
        .map_or_else(String::new, |service| format!(" {service}"))
}
