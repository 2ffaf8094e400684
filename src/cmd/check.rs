//! `check ID`: eligibility with every failing reason, and remaining quota.

use super::{find_instance, Context};
use crate::domain::decide::Lookup;
use crate::domain::eligibility::{failing_reasons, remaining_slots};
use crate::error::Result;
use crate::render::Table;
use serde_json::json;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The instance to check.
    instance_id: String,
}

pub fn run(context: &Context, args: Args) -> Result<()> {
    let instance_id = args.instance_id.as_str();
    let now = context.now()?;
    let store = context.read_store()?;
    let instance = find_instance(&store, instance_id)?;
    let policy = store.policy(&instance.service_type)?;
    let reasons: Vec<&str> = failing_reasons(&instance, policy.as_ref(), now, 1)
        .iter()
        .map(|r| r.code())
        .collect();
    let remaining = remaining_slots(&instance, policy.as_ref());
    let json = json!({"instance_id": instance_id, "eligible": reasons.is_empty(), "reasons": reasons, "remaining": remaining});
    let table = Table::record(vec![
        ("instance_id", instance_id.to_string()),
        ("eligible", reasons.is_empty().to_string()),
        ("reasons", reasons.join(" ")),
        ("remaining", remaining.to_string()),
    ]);
    context.emit(&json, table)
}
