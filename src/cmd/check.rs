//! `check [ID] [--account A]`: eligibility with every failing reason, and
//! remaining quota; without ID, every instance (of the account). The
//! eligibility every view shows (`instance show/list`, the reports) is
//! computed here, once.

use super::{find_instance, Context};
use crate::cli::AsOf;
use crate::domain::decide::Lookup;
use crate::domain::eligibility::{failing_reasons, remaining_slots};
use crate::domain::regions::is_mainland;
use crate::domain::types::{validate_account, Instance, Policy, Time};
use crate::error::{Reason, Result};
use crate::render::Table;
use crate::store::Store;
use serde_json::{json, Value};

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

/// Whether an instance may receive a number now, and what it has left.
#[derive(Debug, Clone)]
pub(crate) struct Eligibility {
    /// Every failing reason code (README "Eligibility reason codes").
    pub reasons: Vec<&'static str>,
    pub remaining: i64,
    /// The remaining slots when the instance passes every rule but the
    /// quota (README "Views: eligibility, quota that can be used, reports"), else 0.
    pub usable: i64,
}

impl Eligibility {
    pub(crate) fn eligible(&self) -> bool {
        self.reasons.is_empty()
    }

    /// The reasons as one table or CSV cell (codes never hold spaces).
    pub(crate) fn reasons_cell(&self) -> String {
        self.reasons.join(" ")
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

/// Whether each region of the table is in the mainland (the reports read
/// the table once).
pub(crate) fn mainland_map(store: &Store) -> Result<std::collections::HashMap<String, bool>> {
    Ok(store
        .regions()?
        .into_iter()
        .map(|region| (region.region_id, region.mainland))
        .collect())
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
    let mut table = Table::new(&["instance_id", "eligible", "reasons", "remaining"]);
    for instance in &instances {
        let eligibility = eligibility(store.lookup(), instance, now)?;
        rows.push(check_json(&instance.instance_id, &eligibility));
        table.row(vec![
            instance.instance_id.clone(),
            eligibility.eligible().to_string(),
            eligibility.reasons_cell(),
            eligibility.remaining.to_string(),
        ]);
    }
    match (&args.instance_id, rows.pop()) {
        // One instance: one object, and a record in table form.
        (Some(_), Some(row)) => {
            let mut record = table;
            record.vertical = true;
            context.emit(&row, record)
        }
        (_, last) => {
            rows.extend(last);
            context.emit(&Value::Array(rows), table)
        }
    }
}

/// `check`'s JSON object (README "Views: eligibility, quota that can be used, reports").
pub(crate) fn check_json(instance_id: &str, eligibility: &Eligibility) -> Value {
    json!({"instance_id": instance_id, "eligible": eligibility.eligible(),
           "reasons": eligibility.reasons, "remaining": eligibility.remaining})
}
