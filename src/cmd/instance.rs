//! `instance add | renew | release | show | list | amend`.

use super::check::{eligibility, view_time};
use super::{find_instance, max_numbers, parse_integer, Context};
use crate::cli::AsOf;
use crate::domain::decide::Command;
use crate::domain::types::*;
use crate::error::Result;
use crate::render::{InstanceView, Table};
use crate::store::Store;
use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum InstanceCommand {
    /// Register an instance.
    Add(AddArgs),
    /// Add subscription months and move the expiry later.
    Renew(RenewArgs),
    /// Release an instance.
    Release(ReleaseArgs),
    /// An instance's state, quota and numbers.
    Show(ShowArgs),
    /// Instances, optionally of one account or type.
    List(ListArgs),
    /// Correct an instance's facts (one instance_amended event).
    ///
    /// Public IP, billing and order amount change at any time; type, region
    /// and owner only while the instance has consumed no slot.
    ///
    /// Example: snledger instance amend i-web --public-ip 47.96.10.21
    Amend(AmendArgs),
}

#[derive(Debug, clap::Args)]
pub struct AmendArgs {
    instance_id: String,
    /// The public IP, or "none" to remove it.
    #[arg(long, value_name = "IP|none")]
    public_ip: Option<String>,
    /// subscription, pay-as-you-go or trial.
    #[arg(long, value_parser = ["subscription", "pay-as-you-go", "trial"])]
    billing: Option<String>,
    /// Order amount in CNY, or "none" to remove it.
    #[arg(long, value_name = "CNY|none")]
    order_amount: Option<String>,
    /// A service type of the policy table (only while nothing is consumed).
    #[arg(long = "type", value_name = "TYPE")]
    service_type: Option<String>,
    /// A region of the region table (only while nothing is consumed).
    #[arg(long)]
    region: Option<String>,
    /// The owner account (only while nothing is consumed).
    #[arg(long)]
    account: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct AddArgs {
    instance_id: String,
    #[arg(long = "type", value_name = "TYPE")]
    service_type: String,
    #[arg(long)]
    account: String,
    #[arg(long)]
    region: String,
    /// subscription, pay-as-you-go or trial.
    #[arg(long)]
    billing: String,
    /// Cumulative subscription months.
    #[arg(long, allow_negative_numbers = true)]
    months: String,
    #[arg(long, value_name = "TIME")]
    expires: String,
    #[arg(long)]
    public_ip: Option<String>,
    /// Order amount in CNY.
    #[arg(long, value_name = "CNY")]
    order_amount: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct RenewArgs {
    instance_id: String,
    #[arg(long, allow_negative_numbers = true)]
    months: String,
    #[arg(long, value_name = "TIME")]
    expires: String,
}

#[derive(Debug, clap::Args)]
pub struct ReleaseArgs {
    instance_id: String,
}

#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    instance_id: String,
    #[command(flatten)]
    as_of: AsOf,
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    #[arg(long)]
    account: Option<String>,
    #[arg(long = "type", value_name = "TYPE")]
    service_type: Option<String>,
    /// Only instances that may receive a number now (every eligibility rule
    /// passes, quota included).
    #[arg(long, conflicts_with = "ineligible")]
    eligible: bool,
    /// Only instances that may not receive a number now (at least one
    /// eligibility reason fails; the `reasons` column says which).
    #[arg(long)]
    ineligible: bool,
    #[command(flatten)]
    as_of: AsOf,
}

pub fn run(context: &Context, command: InstanceCommand) -> Result<()> {
    match command {
        InstanceCommand::Add(args) => add(context, args),
        InstanceCommand::Renew(args) => renew(context, args),
        InstanceCommand::Release(args) => {
            let command = Command::Release {
                instance_id: args.instance_id.clone(),
            };
            change_and_show(context, &command, &args.instance_id)
        }
        InstanceCommand::Show(args) => {
            let now = view_time(context, &args.as_of)?;
            let store = context.view(&args.as_of)?;
            let _snapshot = store.begin_read()?;
            let (json, table) = shown(&store, &args.instance_id, now)?;
            context.emit(&json, table)
        }
        InstanceCommand::List(args) => list(context, args),
        InstanceCommand::Amend(args) => {
            let instance_id = args.instance_id.clone();
            change_and_show(context, &amend_command(args)?, &instance_id)
        }
    }
}

fn add(context: &Context, args: AddArgs) -> Result<()> {
    let command = Command::AddInstance {
        service_type: args.service_type,
        account: args.account,
        region: args.region,
        billing: Billing::parse("billing", &args.billing)?,
        subscription_months: parse_integer("months", &args.months)?,
        expires_at: parse_time("expires", &args.expires)?,
        public_ip: args.public_ip,
        order_amount_fen: args
            .order_amount
            .as_deref()
            .map(|text| parse_amount_fen("order amount", text))
            .transpose()?,
        instance_id: args.instance_id.clone(),
    };
    change_and_show(context, &command, &args.instance_id)
}

fn amend_command(args: AmendArgs) -> Result<Command> {
    let or_none = |value: Option<String>| value.map(|text| (text != "none").then_some(text));
    Ok(Command::AmendInstance {
        instance_id: args.instance_id,
        public_ip: or_none(args.public_ip),
        billing: args
            .billing
            .as_deref()
            .map(|text| Billing::parse("billing", text))
            .transpose()?,
        order_amount_fen: or_none(args.order_amount)
            .map(|amount| {
                amount
                    .as_deref()
                    .map(|text| parse_amount_fen("order amount", text))
                    .transpose()
            })
            .transpose()?,
        service_type: args.service_type,
        region: args.region,
        account: args.account,
    })
}

fn renew(context: &Context, args: RenewArgs) -> Result<()> {
    let command = Command::Renew {
        instance_id: args.instance_id.clone(),
        months: parse_integer("months", &args.months)?,
        expires_at: parse_time("expires", &args.expires)?,
    };
    change_and_show(context, &command, &args.instance_id)
}

fn list(context: &Context, args: ListArgs) -> Result<()> {
    let ListArgs {
        account,
        service_type,
        eligible,
        ineligible,
        as_of,
    } = args;
    account.as_deref().map_or(Ok(()), validate_account)?;
    service_type
        .as_deref()
        .map_or(Ok(()), validate_service_type)?;
    let now = view_time(context, &as_of)?;
    let store = context.view(&as_of)?;
    let _snapshot = store.begin_read()?;
    let mut json = Vec::new();
    let mut table = Table::new(&InstanceView::LIST_HEADERS);
    for instance in store.instances(account.as_deref(), service_type.as_deref())? {
        let eligibility = eligibility(&store, &instance, now)?;
        if (eligible && !eligibility.eligible()) || (ineligible && eligibility.eligible()) {
            continue;
        }
        let max_numbers = max_numbers(&store, &instance)?;
        let numbers = store.numbers_of(&instance.instance_id)?;
        let view = InstanceView {
            instance: &instance,
            max_numbers,
            numbers: &numbers,
            eligibility: &eligibility,
        };
        json.push(view.json());
        table.row(view.list_row());
    }
    context.emit(&serde_json::Value::Array(json), table)
}

fn change_and_show(context: &Context, command: &Command, instance_id: &str) -> Result<()> {
    let ledger = context.ledger()?;
    let now = context.now()?;
    let (json, table) = ledger.execute(command, |store, _| shown(store, instance_id, now))?;
    context.emit(&json, table)
}

/// An instance as `instance show` prints it.
fn shown(store: &Store, instance_id: &str, now: Time) -> Result<(serde_json::Value, Table)> {
    let instance = find_instance(store, instance_id)?;
    let numbers = store.numbers_of(&instance.instance_id)?;
    let eligibility = eligibility(store, &instance, now)?;
    let view = InstanceView {
        instance: &instance,
        max_numbers: max_numbers(store, &instance)?,
        numbers: &numbers,
        eligibility: &eligibility,
    };
    Ok((view.json(), view.table()))
}
