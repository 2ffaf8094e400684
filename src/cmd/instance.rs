//! `instance add | renew | release | show | list | amend`.

use super::check::view_time;
use super::{find_instance, max_numbers, parse_integer, Context};
use crate::cli::AsOf;
use crate::domain::decide::Command;
use crate::domain::decide::Lookup;
use crate::domain::eligibility::eligibility;
use crate::domain::types::*;
use crate::error::Result;
use crate::render::InstanceView;
use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub(crate) enum InstanceCommand {
    /// Register an instance.
    #[command(after_help = crate::cli::examples!(
        "snledger instance add i-web1 --type ecs --account acme --region cn-hangzhou \\",
        "    --billing subscription --months 12 --expires 2027-06-01 --public-ip 47.96.10.21",
        "snledger --tz Asia/Shanghai instance add iot-a1 --type iot_studio --account acme \\",
        "    --region cn-shanghai --billing subscription --months 12 --expires 2027-08-01 \\",
        "    --order-amount 199"
    ))]
    Add(AddArgs),
    /// Add subscription months and move the expiry later.
    #[command(after_help = crate::cli::examples!("snledger instance renew i-web1 --months 12 --expires 2028-06-01"))]
    Renew(RenewArgs),
    /// Release an instance (its numbers stay consumed).
    #[command(after_help = crate::cli::examples!("snledger instance release i-web1"))]
    Release(ReleaseArgs),
    /// An instance's state, quota and numbers.
    #[command(after_help = crate::cli::examples!(
        "snledger instance show i-web1",
        "snledger instance show i-web1 --as-of 2027-01-01 --format json"
    ))]
    Show(ShowArgs),
    /// Instances, optionally of one account or type.
    #[command(after_help = crate::cli::examples!(
        "snledger instance list --account acme",
        "snledger --tz Asia/Shanghai instance list --type ecs"
    ))]
    List(ListArgs),
    /// Correct an instance's facts: public IP, billing, order amount; type, region, owner while no slot is used.
    #[command(after_help = crate::cli::examples!(
        "snledger instance amend i-web --public-ip 47.96.10.21",
        "snledger instance amend i-web --billing subscription --order-amount none"
    ))]
    Amend(AmendArgs),
}

#[derive(Debug, clap::Args)]
pub(crate) struct AmendArgs {
    /// The instance to correct.
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
pub(crate) struct AddArgs {
    /// The provider's instance id (A-Z a-z 0-9 . _ : -).
    instance_id: String,
    /// The service type: a type of the policy (`policy show`), by default one of these.
    #[arg(long = "type", value_name = "TYPE", value_parser = crate::cli::offered(SERVICE_TYPES))]
    service_type: String,
    /// The account that owns the instance.
    #[arg(long)]
    account: String,
    /// A provider region id such as cn-hangzhou (mainland: cn-* except cn-hongkong, cn-macao, cn-taiwan).
    #[arg(long, value_parser = crate::cli::offered(crate::cli::REGIONS), hide_possible_values = true)]
    region: String,
    /// How the instance is billed (only subscription is eligible).
    #[arg(long, value_parser = crate::cli::offered(Billing::NAMES))]
    billing: String,
    /// Cumulative subscription months (0 to 1200).
    #[arg(long, allow_negative_numbers = true)]
    months: String,
    #[arg(long, value_name = "TIME", help = crate::cli::time_help!("When the subscription ends"))]
    expires: String,
    /// The instance's public IPv4 or IPv6 address (ECS requires one).
    #[arg(long, value_name = "IP")]
    public_ip: Option<String>,
    /// The order amount in CNY, such as 199 or 99.50.
    #[arg(long, value_name = "CNY")]
    order_amount: Option<String>,
}

#[derive(Debug, clap::Args)]
pub(crate) struct RenewArgs {
    /// The instance to renew.
    instance_id: String,
    /// The months this renewal adds (1 to 1200).
    #[arg(long, allow_negative_numbers = true)]
    months: String,
    #[arg(long, value_name = "TIME", help = crate::cli::time_help!("The new expiry, later than the current one"))]
    expires: String,
}

#[derive(Debug, clap::Args)]
pub(crate) struct ReleaseArgs {
    /// The instance to release.
    instance_id: String,
}

#[derive(Debug, clap::Args)]
pub(crate) struct ShowArgs {
    /// The instance to show.
    instance_id: String,
    #[command(flatten)]
    as_of: AsOf,
}

#[derive(Debug, clap::Args)]
pub(crate) struct ListArgs {
    /// Only instances this account owns.
    #[arg(long)]
    account: Option<String>,
    /// Only instances of this service type.
    #[arg(long = "type", value_name = "TYPE", value_parser = crate::cli::offered(SERVICE_TYPES))]
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

pub(crate) fn run(context: &Context, command: InstanceCommand) -> Result<()> {
    match command {
        InstanceCommand::Add(args) => add(context, args),
        InstanceCommand::Renew(args) => renew(context, args),
        InstanceCommand::Release(args) => {
            let command = Command::Release {
                instance_id: args.instance_id.clone(),
            };
            change_and_show(context, &command, &args.instance_id)
        }
        InstanceCommand::Show(args) => show(context, args),
        InstanceCommand::List(args) => list(context, args),
        InstanceCommand::Amend(args) => {
            let instance_id = args.instance_id.clone();
            change_and_show(context, &amend_command(args)?, &instance_id)
        }
    }
}

/// The instance now, or as it stood at `--as-of` (ARCHITECTURE.md "--as-of:
/// how a past state is answered").
fn show(context: &Context, args: ShowArgs) -> Result<()> {
    let now = view_time(context, &args.as_of)?;
    let store = context.view(&args.as_of)?;
    let _snapshot = store.begin_read()?;
    let answer = shown(
        store.lookup(),
        &|id| store.numbers_of(id),
        &args.instance_id,
        now,
    )?;
    context.emit(&answer)
}

fn add(context: &Context, args: AddArgs) -> Result<()> {
    let command = Command::AddInstance {
        service_type: args.service_type,
        account: args.account,
        region: args.region,
        billing: Billing::parse("billing", &args.billing)?,
        subscription_months: parse_integer("months", &args.months)?,
        expires_at: context.time("expires", &args.expires)?,
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
        expires_at: context.time("expires", &args.expires)?,
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
    let mut views = Vec::new();
    for instance in store.instances(account.as_deref(), service_type.as_deref())? {
        let eligibility = eligibility(store.lookup(), &instance, now)?;
        if (eligible && !eligibility.eligible()) || (ineligible && eligibility.eligible()) {
            continue;
        }
        let max_numbers = max_numbers(store.lookup(), &instance)?;
        let numbers = store.numbers_of(&instance.instance_id)?;
        views.push(InstanceView::new(
            instance,
            max_numbers,
            numbers,
            eligibility,
        ));
    }
    context.emit(&views)
}

fn change_and_show(context: &Context, command: &Command, instance_id: &str) -> Result<()> {
    let ledger = context.ledger()?;
    let now = context.now()?;
    let answer = ledger.execute(command, |store, _| {
        shown(store.lookup(), &|id| store.numbers_of(id), instance_id, now)
    })?;
    context.emit(&answer)
}

/// The numbers of an instance, in the order they were issued.
type NumbersOf<'a> = dyn Fn(&str) -> Result<Vec<NumberRecord>> + 'a;

/// An instance as `instance show` prints it, from the live ledger or a
/// past state (`numbers_of` reads the numbers of the same one).
fn shown(
    store: &dyn Lookup,
    numbers_of: &NumbersOf,
    instance_id: &str,
    now: Time,
) -> Result<InstanceView> {
    let instance = find_instance(store, instance_id)?;
    let numbers = numbers_of(&instance.instance_id)?;
    let eligibility = eligibility(store, &instance, now)?;
    let max_numbers = max_numbers(store, &instance)?;
    Ok(InstanceView::new(
        instance,
        max_numbers,
        numbers,
        eligibility,
    ))
}
