//! `report quota [--account A]` · `report accounts` · `report expiring [--within DAYS]` · `report ip-updates`

use super::check::{mainland_map, view_time};
use super::{find_number, parse_integer, Context};
use crate::cli::AsOf;
use crate::domain::eligibility::{eligibility_under, Eligibility};
use crate::domain::types::*;
use crate::error::{Error, Result};
use crate::render::{Answer, Row, ServiceView, Table};
use crate::store::View;
use clap::Subcommand;
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Subcommand)]
pub(crate) enum ReportCommand {
    /// Per account and per service type: instances, max, consumed, remaining, usable.
    #[command(after_help = crate::cli::examples!("snledger report quota", "snledger report quota --account acme --format csv"))]
    Quota(QuotaArgs),
    /// Instances expiring within DAYS (or expired, or released) that host live services or hold unbound numbers.
    #[command(after_help = crate::cli::examples!(
        "snledger report expiring",
        "snledger report expiring --within 60 --as-of 2027-05-01"
    ))]
    Expiring(ExpiringArgs),
    /// Moved commercial services whose submitted IP still needs updating.
    #[command(after_help = crate::cli::examples!("snledger report ip-updates"))]
    IpUpdates(IpUpdatesArgs),
    /// Per account that owns an instance or holds a number: instances owned,
    /// numbers held by status, remaining and usable quota on its instances.
    #[command(after_help = crate::cli::examples!("snledger report accounts", "snledger report accounts --as-of 2027-01-01 --format csv"))]
    Accounts(AccountsArgs),
}

#[derive(Debug, clap::Args)]
pub(crate) struct QuotaArgs {
    /// Only this account's instances.
    #[arg(long)]
    account: Option<String>,
    #[command(flatten)]
    as_of: AsOf,
}

#[derive(Debug, clap::Args)]
pub(crate) struct ExpiringArgs {
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
pub(crate) struct IpUpdatesArgs {
    #[command(flatten)]
    as_of: AsOf,
}

#[derive(Debug, clap::Args)]
pub(crate) struct AccountsArgs {
    #[command(flatten)]
    as_of: AsOf,
}

#[derive(Default, Serialize)]
struct Sums {
    instances: i64,
    max: i64,
    consumed: i64,
    remaining: i64,
    usable: i64,
}

pub(crate) fn run(context: &Context, command: ReportCommand) -> Result<()> {
    match command {
        ReportCommand::Quota(args) => quota(context, args),
        ReportCommand::Expiring(args) => expiring(context, args),
        ReportCommand::IpUpdates(args) => ip_updates(context, args),
        ReportCommand::Accounts(args) => accounts(context, args),
    }
}

fn policy_map(store: &View) -> Result<BTreeMap<String, Policy>> {
    Ok(store
        .policies()?
        .into_iter()
        .map(|p| (p.service_type.clone(), p))
        .collect())
}

/// Visits every instance with its policy and its eligibility at `now`.
fn each_instance_judged(
    store: &View,
    now: Time,
    mut visit: impl FnMut(Instance, Option<&Policy>, Eligibility) -> Result<()>,
) -> Result<()> {
    let policies = policy_map(store)?;
    let mainland = mainland_map(store)?;
    store.each_instance(&mut |instance| {
        let policy = policies.get(&instance.service_type);
        let in_mainland = mainland.get(&instance.region).copied().unwrap_or(false);
        let eligibility = eligibility_under(&instance, policy, in_mainland, now);
        visit(instance, policy, eligibility)
    })
}

fn quota(context: &Context, QuotaArgs { account, as_of }: QuotaArgs) -> Result<()> {
    if let Some(account) = &account {
        validate_account(account)?;
    }
    let now = view_time(context, &as_of)?;
    let store = context.view(&as_of)?;
    let _snapshot = store.begin_read()?;
    let mut by_account: BTreeMap<String, Sums> = BTreeMap::new();
    let mut by_type: BTreeMap<String, Sums> = BTreeMap::new();
    each_instance_judged(&store, now, |instance, policy, eligibility| {
        if account.as_ref().is_some_and(|a| *a != instance.account) {
            return Ok(());
        }
        let max = policy.map_or(0, |p| p.max_numbers);
        for sums in [
            by_account.entry(instance.account.clone()).or_default(),
            by_type.entry(instance.service_type.clone()).or_default(),
        ] {
            sums.instances += 1;
            sums.max += max;
            sums.consumed += instance.consumed;
            sums.remaining += eligibility.remaining;
            sums.usable += eligibility.usable;
        }
        Ok(())
    })?;
    let mut rows = Vec::new();
    for (scope, groups) in [("account", by_account), ("service_type", by_type)] {
        rows.extend(
            groups
                .into_iter()
                .map(|(key, sums)| QuotaRow { scope, key, sums }),
        );
    }
    context.emit(&rows)
}

/// One group of `report quota`: an account's or a service type's sums.
#[derive(Serialize)]
struct QuotaRow {
    scope: &'static str,
    key: String,
    #[serde(flatten)]
    sums: Sums,
}

impl Row for QuotaRow {
    const HEADERS: &'static [&'static str] = &[
        "scope",
        "key",
        "instances",
        "max",
        "consumed",
        "remaining",
        "usable",
    ];

    fn cells(&self) -> Vec<String> {
        let sums = &self.sums;
        vec![
            self.scope.to_string(),
            self.key.clone(),
            sums.instances.to_string(),
            sums.max.to_string(),
            sums.consumed.to_string(),
            sums.remaining.to_string(),
            sums.usable.to_string(),
        ]
    }
}

/// The statuses in the order of a number's life, as `report accounts` counts them.
const HELD_STATUSES: [Status; 6] = [
    Status::Unbound,
    Status::Bound,
    Status::Filing,
    Status::Filed,
    Status::Deregistered,
    Status::Invalid,
];

/// One row of `report accounts`.
#[derive(Default, Serialize)]
struct AccountSums {
    account: String,
    instances: i64,
    /// One field per status, named by it.
    #[serde(flatten)]
    held: Held,
    remaining: i64,
    usable: i64,
}

/// The numbers an account holds, counted by status (`HELD_STATUSES`).
#[derive(Default)]
struct Held([i64; HELD_STATUSES.len()]);

impl Serialize for Held {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(HELD_STATUSES.len()))?;
        for (status, count) in HELD_STATUSES.iter().zip(self.0) {
            map.serialize_entry(status.as_str(), &count)?;
        }
        map.end()
    }
}

/// `report accounts`: its columns name the statuses.
#[derive(Serialize)]
#[serde(transparent)]
struct Accounts(Vec<AccountSums>);

impl Answer for Accounts {
    fn table(&self) -> Table {
        let mut columns = vec!["account", "instances"];
        columns.extend(HELD_STATUSES.iter().map(|s| s.as_str()));
        columns.extend(["remaining", "usable"]);
        // A narrow terminal leaves out first the counts of numbers that can
        // never change again (they still consume their slots).
        let mut table = Table::new(&columns).droppable(&["deregistered", "invalid"]);
        for sums in &self.0 {
            let mut cells = vec![sums.account.clone(), sums.instances.to_string()];
            cells.extend(sums.held.0.iter().map(i64::to_string));
            cells.extend([sums.remaining.to_string(), sums.usable.to_string()]);
            table.row(cells);
        }
        table
    }
}

fn accounts(context: &Context, AccountsArgs { as_of }: AccountsArgs) -> Result<()> {
    let now = view_time(context, &as_of)?;
    let store = context.view(&as_of)?;
    let _snapshot = store.begin_read()?;
    let mut by_account: BTreeMap<String, AccountSums> = BTreeMap::new();
    each_instance_judged(&store, now, |instance, _, eligibility| {
        let sums = by_account.entry(instance.account).or_default();
        sums.instances += 1;
        sums.remaining += eligibility.remaining;
        sums.usable += eligibility.usable;
        Ok(())
    })?;
    store.each_number(&mut |number| {
        let sums = by_account.entry(number.holder).or_default();
        if let Some(index) = HELD_STATUSES.iter().position(|s| *s == number.status) {
            sums.held.0[index] += 1;
        }
        Ok(())
    })?;
    let rows = by_account
        .into_iter()
        .map(|(account, sums)| AccountSums { account, ..sums })
        .collect();
    context.emit(&Accounts(rows))
}

/// One instance `report expiring` lists.
#[derive(Serialize)]
struct AtRisk {
    instance_id: String,
    expires_at: String,
    days_left: i64,
    account: String,
    state: InstanceState,
    expired: bool,
    unbound: i64,
    services: Vec<String>,
}

fn expiring(context: &Context, ExpiringArgs { within, as_of }: ExpiringArgs) -> Result<()> {
    let days = parse_integer("within", &within)?;
    if !(0..=36_500).contains(&days) {
        return Err(Error::usage("within: must be 0 to 36500 days"));
    }
    let now = view_time(context, &as_of)?;
    // Compared as times: a horizon past the year 9999 has no RFC 3339 text.
    let horizon = now + chrono::Duration::days(days);
    let store = context.view(&as_of)?;
    let _snapshot = store.begin_read()?;
    let mut listed = Vec::new();
    for (instance_id, (services, unbound)) in candidates(&store)? {
        let Some(instance) = store.instance(&instance_id)? else {
            continue;
        };
        let expires_at = parse_time("expires_at", &instance.expires_at)?;
        if instance.state != InstanceState::Released && expires_at > horizon {
            continue;
        }
        listed.push(AtRisk {
            days_left: (expires_at - now).num_days(),
            expired: expires_at <= now,
            instance_id: instance.instance_id,
            expires_at: instance.expires_at,
            account: instance.account,
            state: instance.state,
            services,
            unbound,
        });
    }
    context.emit(&Expiring(listed))
}

/// Instances that host a live service or have unbound numbers: for each,
/// the services it hosts now (a moved service under its new host only) and
/// its count of unbound numbers.
fn candidates(store: &View) -> Result<BTreeMap<String, (Vec<String>, i64)>> {
    let mut found: BTreeMap<String, (Vec<String>, i64)> = BTreeMap::new();
    for service in store.services(None)? {
        if find_number(store.lookup(), &service.number)?
            .status
            .holds_service()
        {
            found
                .entry(service.host)
                .or_default()
                .0
                .push(service.service);
        }
    }
    store.each_number(&mut |number| {
        if number.status == Status::Unbound {
            found.entry(number.instance_id).or_default().1 += 1;
        }
        Ok(())
    })?;
    Ok(found)
}

/// `report expiring`. JSON keeps the services as a list; CSV has one row
/// per (instance, service), since a name may hold spaces and commas; the
/// table puts them one per line in their cell.
#[derive(Serialize)]
#[serde(transparent)]
struct Expiring(Vec<AtRisk>);

const EXPIRING_COLUMNS: [&str; 7] = [
    "instance_id",
    "expires_at",
    "days_left",
    "account",
    "state",
    "expired",
    "unbound",
];

impl AtRisk {
    /// The cells before the services.
    fn cells(&self) -> Vec<String> {
        vec![
            self.instance_id.clone(),
            self.expires_at.clone(),
            self.days_left.to_string(),
            self.account.clone(),
            self.state.to_string(),
            self.expired.to_string(),
            self.unbound.to_string(),
        ]
    }
}

impl Answer for Expiring {
    fn table(&self) -> Table {
        let mut table = Table::new(&[&EXPIRING_COLUMNS[..], &["services"]].concat());
        for item in &self.0 {
            table.row([item.cells(), vec![item.services.join("\n")]].concat());
        }
        table
    }

    fn csv(&self) -> Table {
        let mut table = Table::new(&[&EXPIRING_COLUMNS[..], &["service"]].concat());
        for item in &self.0 {
            let cells = item.cells();
            if item.services.is_empty() {
                table.row([cells, vec![String::new()]].concat());
                continue;
            }
            for service in &item.services {
                table.row([cells.clone(), vec![service.clone()]].concat());
            }
        }
        table
    }
}

fn ip_updates(context: &Context, IpUpdatesArgs { as_of }: IpUpdatesArgs) -> Result<()> {
    let store = context.view(&as_of)?;
    let _snapshot = store.begin_read()?;
    let mut rows = Vec::new();
    for service in store
        .services(None)?
        .into_iter()
        .filter(|s| s.ip_update_required)
    {
        let number = find_number(store.lookup(), &service.number)?;
        // A filing that was deregistered or invalidated has no
        // submitted IP left to update.
        if !number.status.holds_service() {
            continue;
        }
        rows.push(ServiceView::new(service, number));
    }
    context.emit(&rows)
}
