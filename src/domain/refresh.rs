//! What an `import instances --sync` row asks of an instance the ledger
//! has (docs/guide.md "CSV files"): the renewal its months and expiry state, and
//! the amend its other facts state. The rules of a refresh live here, not
//! in the command that reads the file: a refresh never shrinks a
//! subscription, and a renewal adds months.

use super::decide::Command;
use super::types::{format_time, Instance, Time};
use crate::error::{Error, Result};

/// The amend that gives `current` the facts of the row (`add`), with the
/// names of the fields it changes; none when they are all the ledger's.
pub(crate) fn amendment(current: &Instance, add: &Command) -> Option<(Command, Vec<&'static str>)> {
    let Command::AddInstance {
        service_type,
        account,
        region,
        billing,
        public_ip,
        order_amount_fen,
        ..
    } = add
    else {
        return None;
    };
    let mut fields = Vec::new();
    let mut differs = |differs: bool, name: &'static str| {
        if differs {
            fields.push(name);
        }
        differs
    };
    let amend = Command::AmendInstance {
        instance_id: current.instance_id.clone(),
        public_ip: differs(*public_ip != current.public_ip, "public_ip").then(|| public_ip.clone()),
        billing: differs(*billing != current.billing, "billing").then_some(*billing),
        order_amount_fen: differs(
            *order_amount_fen != current.order_amount_fen,
            "order_amount",
        )
        .then_some(*order_amount_fen),
        service_type: differs(*service_type != current.service_type, "service_type")
            .then(|| service_type.clone()),
        region: differs(*region != current.region, "region").then(|| region.clone()),
        account: differs(*account != current.account, "account").then(|| account.clone()),
    };
    (!fields.is_empty()).then_some((amend, fields))
}

/// The renewal a row asks for: more months (and the expiry it states), or
/// none when months and expiry are the ledger's. Fewer months, or another
/// expiry without more months, fail: a refresh never shrinks a subscription.
pub(crate) fn renewal(
    current: &Instance,
    months: i64,
    expires_at: Time,
) -> Result<Option<(Command, i64)>> {
    let expiry = format_time(expires_at);
    if months < current.subscription_months {
        return Err(Error::usage(format!(
            "subscription_months {months} is less than the ledger's {} for {}: a refresh never shrinks a subscription",
            current.subscription_months, current.instance_id
        )));
    }
    if months == current.subscription_months {
        if expiry != current.expires_at {
            return Err(Error::usage(format!(
                "expires_at {expiry} differs from the ledger's {} for {} but subscription_months did not grow: a renewal adds months",
                current.expires_at, current.instance_id
            )));
        }
        return Ok(None);
    }
    let added = months - current.subscription_months;
    let renew = Command::Renew {
        instance_id: current.instance_id.clone(),
        months: added,
        expires_at,
    };
    Ok(Some((renew, added)))
}
