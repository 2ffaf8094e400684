//! `report quota [--account A]` · `report expiring [--within DAYS]` · `report ip-updates`

use super::{find_number, parse_integer, Context};
use crate::cli::AsOf;
use crate::domain::decide::Lookup;
use crate::domain::types::*;
use crate::error::{Error, Result};
use crate::render::{self, Table};
use clap::Subcommand;
use serde_json::json;
use std::collections::BTreeMap;

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// Per account and per service type: instances, max, consumed, remaining.
    #[command(after_help = crate::cli::examples!("snledger report quota", "snledger report quota --account acme --format csv"))]
    Quota(QuotaArgs),
    /// Instances expiring within DAYS (or expired, or released) that still host services.
    #[command(after_help = crate::cli::examples!(
        "snledger report expiring",
        "snledger report expiring --within 60 --as-of 2027-05-01"
    ))]
    Expiring(ExpiringArgs),
    /// Moved commercial services whose submitted IP still needs updating.
    #[command(after_help = crate::cli::examples!("snledger report ip-updates"))]
    IpUpdates(IpUpdatesArgs),
}

#[derive(Debug, clap::Args)]
pub struct QuotaArgs {
    /// Only this account's instances.
    #[arg(long)]
    account: Option<String>,
    #[command(flatten)]
    as_of: AsOf,
}

#[derive(Debug, clap::Args)]
pub struct ExpiringArgs {
    /// The window, in days from now (0 to 36500).
    #[arg(
        long,
        value_name = "DAYS",
        default_value = "30",
        allow_negative_numbers = true
    )]
    within: String,
    #[command(flatten)]
    as_of: AsOf,
}

#[derive(Debug, clap::Args)]
pub struct IpUpdatesArgs {
    #[command(flatten)]
    as_of: AsOf,
}

#[derive(Default)]
struct Sums {
    instances: i64,
    max: i64,
    consumed: i64,
    remaining: i64,
}

pub fn run(context: &Context, command: ReportCommand) -> Result<()> {
    match command {
        ReportCommand::Quota(args) => quota(context, args),
        ReportCommand::Expiring(args) => expiring(context, args),
        ReportCommand::IpUpdates(args) => ip_updates(context, args),
    }
}

fn quota(context: &Context, QuotaArgs { account, as_of }: QuotaArgs) -> Result<()> {
    if let Some(account) = &account {
        validate_account(account)?;
    }
    let store = context.view(&as_of)?;
    let _snapshot = store.begin_read()?;
    let policies: BTreeMap<String, Policy> = store
        .policies()?
        .into_iter()
        .map(|p| (p.service_type.clone(), p))
        .collect();
    let mut by_account: BTreeMap<String, Sums> = BTreeMap::new();
    let mut by_type: BTreeMap<String, Sums> = BTreeMap::new();
    store.each_instance(|instance| {
        if account.as_ref().is_some_and(|a| *a != instance.account) {
            return Ok(());
        }
        let max = policies
            .get(&instance.service_type)
            .map_or(0, |p| p.max_numbers);
        for sums in [
            by_account.entry(instance.account.clone()).or_default(),
            by_type.entry(instance.service_type.clone()).or_default(),
        ] {
            sums.instances += 1;
            sums.max += max;
            sums.consumed += instance.consumed;
            sums.remaining += remaining(max, instance.consumed);
        }
        Ok(())
    })?;
    let mut table = Table::new(&["scope", "key", "instances", "max", "consumed", "remaining"]);
    let mut rows = Vec::new();
    for (scope, groups) in [("account", &by_account), ("service_type", &by_type)] {
        for (key, sums) in groups {
            rows.push(
                json!({"scope": scope, "key": key, "instances": sums.instances, "max": sums.max,
                        "consumed": sums.consumed, "remaining": sums.remaining}),
            );
            table.row(vec![
                scope.to_string(),
                key.clone(),
                sums.instances.to_string(),
                sums.max.to_string(),
                sums.consumed.to_string(),
                sums.remaining.to_string(),
            ]);
        }
    }
    context.emit(&serde_json::Value::Array(rows), table)
}

fn expiring(context: &Context, ExpiringArgs { within, as_of }: ExpiringArgs) -> Result<()> {
    let days = parse_integer("within", &within)?;
    if !(0..=36_500).contains(&days) {
        return Err(Error::usage("within: must be 0 to 36500 days"));
    }
    let now = match &as_of.as_of {
        Some(text) => context.time("--as-of", text)?,
        None => context.now()?,
    };
    // Compared as times: a horizon past the year 9999 has no RFC 3339 text.
    let horizon = now + chrono::Duration::days(days);
    let store = context.view(&as_of)?;
    let _snapshot = store.begin_read()?;
    // Services at risk, grouped by the instance that hosts them now.
    let mut by_host: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for service in store.services(None)? {
        if find_number(&store, &service.number)?.status.holds_service() {
            by_host
                .entry(service.host.clone())
                .or_default()
                .push(service.service.clone());
        }
    }
    let mut table = Table::new(&["instance_id", "expires_at", "account", "state", "services"]);
    let mut rows = Vec::new();
    for (host, services) in by_host {
        let Some(instance) = store.instance(&host)? else {
            continue;
        };
        let expires_at = parse_time("expires_at", &instance.expires_at)?;
        let at_risk = instance.state == InstanceState::Released || expires_at <= horizon;
        if !at_risk {
            continue;
        }
        let expired = expires_at <= now;
        rows.push(json!({"instance_id": instance.instance_id, "expires_at": instance.expires_at,
                    "account": instance.account, "state": instance.state, "expired": expired, "services": services}));
        table.row(vec![
            instance.instance_id.clone(),
            instance.expires_at.clone(),
            instance.account.clone(),
            if expired {
                format!("{} (expired)", instance.state)
            } else {
                instance.state.to_string()
            },
            services.join(" "),
        ]);
    }
    context.emit(&serde_json::Value::Array(rows), table)
}

fn ip_updates(context: &Context, IpUpdatesArgs { as_of }: IpUpdatesArgs) -> Result<()> {
    let store = context.view(&as_of)?;
    let _snapshot = store.begin_read()?;
    let mut table = Table::new(&render::SERVICE_HEADERS);
    let mut rows = Vec::new();
    for service in store
        .services(None)?
        .into_iter()
        .filter(|s| s.ip_update_required)
    {
        let number = find_number(&store, &service.number)?;
        // A filing that was deregistered or invalidated has no
        // submitted IP left to update.
        if !number.status.holds_service() {
            continue;
        }
        rows.push(render::service_json(&service, &number));
        table.row(render::service_row(&service, &number));
    }
    context.emit(&serde_json::Value::Array(rows), table)
}
