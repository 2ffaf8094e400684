//! `check [ID] [--account A]`: eligibility with every failing reason, and
//! remaining quota; without ID, every instance (of the account). The
//! eligibility every view shows (`instance show/list`, the reports) is
//! `domain::eligibility::eligibility`, computed there once.

use super::{find_instance, Context};
use crate::cli::AsOf;
use crate::domain::eligibility::{eligibility, Eligibility};
use crate::domain::types::{validate_account, Time};
use crate::error::Result;
use crate::render::{self, Record, Row};
use crate::store::View;
use serde::Serialize;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The instance to check; leave it out to check every instance (or
    /// every instance of --account).
    instance_id: Option<String>,
    /// Only the instances this account owns (when no ID is given).
    #[arg(long, value_name = "ACCOUNT")]
    account: Option<String>,
    #[command(flatten)]
    as_of: AsOf,
}

/// Whether each region of the table is in the mainland (the reports read
/// the table once).
pub(crate) fn mainland_map(store: &View) -> Result<std::collections::HashMap<String, bool>> {
    Ok(store
        .regions()?
        .into_iter()
        .map(|region| (region.region_id, region.mainland))
        .collect())
}

/// The time a view answers for: `--as-of` when given, else the ledger's now.
pub(crate) fn view_time(context: &Context, as_of: &AsOf) -> Result<Time> {
    match &as_of.as_of {
        Some(text) => context.time("--as-of", text),
        None => context.now(),
    }
}

pub(crate) fn run(context: &Context, args: Args) -> Result<()> {
    if let Some(account) = &args.account {
        validate_account(account)?;
    }
    let now = view_time(context, &args.as_of)?;
    let store = context.view(&args.as_of)?;
    let _snapshot = store.begin_read()?;
    let instances = match &args.instance_id {
        Some(instance_id) => {
            let instance = find_instance(store.lookup(), instance_id)?;
            if args
                .account
                .as_ref()
                .is_some_and(|a| *a != instance.account)
            {
                return Err(crate::error::Error::not_found(format!(
                    "no instance {} of account {}",
                    instance.instance_id,
                    args.account.as_deref().unwrap_or_default()
                )));
            }
            vec![instance]
        }
        None => store.instances(args.account.as_deref(), None)?,
    };
    let mut rows = Vec::new();
    for instance in instances {
        let eligibility = eligibility(store.lookup(), &instance, now)?;
        rows.push(Checked::new(instance.instance_id, eligibility));
    }
    match (&args.instance_id, rows.pop()) {
        // One instance: one object, and a record in table form.
        (Some(_), Some(row)) => context.emit(&Record(row)),
        (_, last) => {
            rows.extend(last);
            context.emit(&rows)
        }
    }
}

/// `check`'s answer for one instance (docs/reference.md "Views: eligibility, quota that can be used, reports").
#[derive(Serialize)]
struct Checked {
    instance_id: String,
    eligible: bool,
    reasons: Vec<&'static str>,
    remaining: i64,
}

impl Checked {
    fn new(instance_id: String, eligibility: Eligibility) -> Checked {
        Checked {
            instance_id,
            eligible: eligibility.eligible(),
            reasons: eligibility.reasons,
            remaining: eligibility.remaining,
        }
    }
}

impl Row for Checked {
    const HEADERS: &'static [&'static str] = &["instance_id", "eligible", "reasons", "remaining"];

    fn cells(&self) -> Vec<String> {
        vec![
            self.instance_id.clone(),
            self.eligible.to_string(),
            render::reasons_cell(&self.reasons),
            self.remaining.to_string(),
        ]
    }
}
