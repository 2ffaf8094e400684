//! `advise --uses oss,cdn,waf,anti-ddos`: what a filing needs for the other
//! services a site uses.

use super::Context;
use crate::domain::advise::{find, Advice, ADVICE};
use crate::domain::types::shorten;
use crate::error::{Error, Result};
use crate::render::Row;
use serde::Serialize;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The provider's services the site uses, comma-separated (case-insensitive).
    #[arg(long, value_delimiter = ',', required = true, value_name = "SERVICES",
          value_parser = crate::cli::offered(&["oss", "cdn", "waf", "anti-ddos"]))]
    uses: Vec<String>,
}

pub(crate) fn run(context: &Context, args: Args) -> Result<()> {
    let mut chosen: Vec<&Advice> = Vec::new();
    for key in args.uses.iter().filter(|key| !key.trim().is_empty()) {
        let advice = find(key).ok_or_else(|| {
            let known: Vec<&str> = ADVICE.iter().map(|a| a.key).collect();
            Error::usage(format!(
                "--uses: unknown service '{}'; known are {}",
                shorten(key),
                known.join(", ")
            ))
        })?;
        if !chosen.contains(&advice) {
            chosen.push(advice);
        }
    }
    if chosen.is_empty() {
        return Err(Error::usage("--uses: name at least one service"));
    }
    let rows: Vec<AdviceRow> = chosen.into_iter().map(AdviceRow::from).collect();
    context.emit(&rows)
}

/// One service's advice; the JSON fields are named as the table's columns.
#[derive(Serialize)]
struct AdviceRow {
    service: &'static str,
    name: &'static str,
    icp_number_required: bool,
    add_provider_to_filing: bool,
    note: &'static str,
}

impl From<&Advice> for AdviceRow {
    fn from(advice: &Advice) -> AdviceRow {
        AdviceRow {
            service: advice.key,
            name: advice.name,
            icp_number_required: advice.icp_number_required,
            add_provider_to_filing: advice.add_provider_to_filing,
            note: advice.note,
        }
    }
}

impl Row for AdviceRow {
    const HEADERS: &'static [&'static str] = &[
        "service",
        "name",
        "icp_number_required",
        "add_provider_to_filing",
        "note",
    ];

    fn cells(&self) -> Vec<String> {
        vec![
            self.service.to_string(),
            self.name.to_string(),
            yes_no(
                self.icp_number_required,
                "yes: an ICP number for the domain from the MIIT",
            ),
            yes_no(self.add_provider_to_filing, "yes"),
            self.note.to_string(),
        ]
    }
}

fn yes_no(value: bool, yes: &str) -> String {
    if value {
        yes.to_string()
    } else {
        "no".to_string()
    }
}
