//! `select ID --service S [--account A]`: direct selection, one slot.

use super::{find_number, Context};
use crate::domain::decide::Command;
use crate::domain::event::Body;
use crate::error::Result;
use crate::ledger::{fresh_numbers, Outcome};
use crate::render;

pub fn run(
    context: &Context,
    instance_id: String,
    service: String,
    account: Option<String>,
) -> Result<()> {
    let generated = fresh_numbers(1).remove(0);
    let ledger = context.ledger()?;
    let command = Command::Select {
        instance_id,
        service,
        account,
        generated,
    };
    let record = ledger.execute(&command, |store, outcome| {
        let Outcome::Appended(event) = outcome else {
            unreachable!("invariant: select appends an event")
        };
        let Body::Selected(payload) = event.body()? else {
            unreachable!("invariant: select appends a selected event")
        };
        find_number(store, &payload.number)
    })?;
    context.emit(&render::number_json(&record), render::number_table(&record))
}
