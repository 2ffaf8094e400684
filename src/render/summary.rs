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
/// CSV keep the whole payload): `allocated 2 on i-web1 by acme: …`.
pub fn event_summary(event: &Event, zone: Option<chrono_tz::Tz>) -> String {
    use crate::domain::event::Body;
    let Ok(body) = event.body() else {
        return event.payload.clone();
    };
    match body {
        Body::InstanceAdded(p) => format!(
            "{} {} of {} in {}, {} {} months, expires {}",
            p.instance_id,
            p.service_type,
            p.account,
            p.region,
            p.billing,
            p.subscription_months,
            summary_time(&p.expires_at, zone)
        ),
        Body::InstanceRenewed(p) => format!(
            "{} +{} months ({} in all), expires {}",
            p.instance_id,
            p.months,
            p.subscription_months,
            summary_time(&p.expires_at, zone)
        ),
        Body::InstanceReleased(p) => format!("{} of {} released", p.instance_id, p.account),
        Body::PolicySet(p) => format!(
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
        ),
        Body::Allocated(p) => format!(
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
        ),
        Body::Selected(p) => format!(
            "{} selected for {} by {} ({})",
            p.instance_id,
            p.service,
            p.account,
            short_number(&p.number)
        ),
        Body::ServiceMoved(p) => format!(
            "{} {} → {}{}",
            p.service,
            p.from_host,
            p.to_host,
            if p.ip_update_required {
                " (IP update required)"
            } else {
                ""
            }
        ),
        Body::ServiceIpUpdated(p) => format!("{} submitted IP updated", p.service),
        Body::ClockRepaired(p) => format!(
            "events {} to {} were dated ahead ({} to {}): {}",
            p.first_seq,
            p.last_seq,
            summary_time(&p.first_claimed_at, zone),
            summary_time(&p.last_claimed_at, zone),
            p.reason
        ),
        other => number_summary(&other).unwrap_or_else(|| event.payload.clone()),
    }
}

/// The summary of an event on one number; `None` for a kind it does not
/// know (a kind added later shows its payload until it gets a line).
fn number_summary(body: &crate::domain::event::Body) -> Option<String> {
    use crate::domain::event::Body;
    let on_service = |service: &Option<String>| {
        service
            .as_ref()
            .map_or_else(String::new, |service| format!(" {service}"))
    };
    Some(match body {
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
            format!(
                "{}{}{}",
                short_number(&p.number),
                on_service(&p.service),
                labelled("reason", &p.reason)
            )
        }
        _ => return None,
    })
}
