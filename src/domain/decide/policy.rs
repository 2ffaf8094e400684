//! `policy set`: change a service type's row, or add a type (docs/reference.md
//! "Default policy").

use super::Lookup;
use crate::domain::event::{Body, PolicySet};
use crate::domain::types::format_fen;
use crate::error::{Error, Result};

/// Merges the flags given with the current row; a new type needs `--max`
/// and `--min-months`.
pub(super) fn set(
    lookup: &dyn Lookup,
    service_type: &str,
    max_numbers: Option<i64>,
    min_subscription_months: Option<i64>,
    min_order_amount_fen: Option<Option<i64>>,
    requires_public_ip: Option<bool>,
) -> Result<Body> {
    if max_numbers.is_none()
        && min_subscription_months.is_none()
        && min_order_amount_fen.is_none()
        && requires_public_ip.is_none()
    {
        return Err(Error::usage(
            "policy set: nothing to set; give --max, --min-months, --min-order-amount or --requires-public-ip",
        ));
    }
    let current = lookup.policy(service_type)?;
    let (max_numbers, min_subscription_months) =
        match (&current, max_numbers, min_subscription_months) {
            (Some(policy), max, months) => (
                max.unwrap_or(policy.max_numbers),
                months.unwrap_or(policy.min_subscription_months),
            ),
            (None, Some(max), Some(months)) => (max, months),
            (None, _, _) => {
                return Err(Error::usage(format!(
                    "policy for the new type {service_type} needs --max and --min-months"
                )))
            }
        };
    let min_order_amount_fen = match min_order_amount_fen {
        Some(value) => value,
        None => current.as_ref().and_then(|p| p.min_order_amount_fen),
    };
    let requires_public_ip =
        requires_public_ip.unwrap_or(current.as_ref().is_some_and(|p| p.requires_public_ip));
    Ok(Body::PolicySet(PolicySet {
        service_type: service_type.to_string(),
        max_numbers,
        min_subscription_months,
        min_order_amount: min_order_amount_fen.map(format_fen),
        requires_public_ip,
    }))
}
