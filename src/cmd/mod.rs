//! One file per command, named after it. Each declares its own arguments
//! (an `Args` struct, or a `Subcommand` enum for a group such as `instance`)
//! and one `run(context, args)`: check the arguments, call the core, render.
//! What several commands share is here: the context of a run and the
//! look-ups with their not-found messages.

pub(crate) mod advise;
pub(crate) mod allocate;
pub(crate) mod approve;
pub(crate) mod bind;
pub(crate) mod check;
pub(crate) mod clock;
pub(crate) mod completions;
pub(crate) mod deregister;
pub(crate) mod diff;
pub(crate) mod digest;
pub(crate) mod export;
pub(crate) mod grant;
pub(crate) mod history;
pub(crate) mod import;
mod import_history;
mod import_sync;
pub(crate) mod init;
pub(crate) mod instance;
pub(crate) mod invalidate;
pub(crate) mod man;
pub(crate) mod number;
pub(crate) mod policy;
pub(crate) mod reconcile;
pub(crate) mod region;
pub(crate) mod reject;
pub(crate) mod report;
pub(crate) mod select;
pub(crate) mod service;
pub(crate) mod submit;
pub(crate) mod verify;

use crate::cli::{AsOf, Cli, Commands, Format, Global};
use crate::domain::decide::{Command, Lookup};
use crate::domain::types::{
    limits, parse_time, parse_time_in, parse_zone, shorten, validate_instance_id, validate_number,
    validate_service, validate_text, Instance, NumberRecord, ServiceRecord, Time,
};
use crate::error::{Error, Result};
use crate::ledger::{state_as_of, Clock, Ledger, Outcome};
use crate::render;
use crate::store::{Reader, Store, View};

pub(crate) fn run(cli: Cli) -> Result<()> {
    let context = Context {
        global: cli.global,
        created: Default::default(),
    };
    // A bad --tz is refused before anything is read or written.
    context.zone()?;
    let dry_run = matches!(&cli.command, Commands::Import(command) if command.is_dry_run());
    let result = dispatch(&context, cli.command);
    if let Some(path) = context.created.borrow_mut().take() {
        if result.is_err() || dry_run {
            // The command's own error says more than a failed clean-up.
            let discarded = Store::discard_new(&path);
            if result.is_ok() {
                discarded?;
            }
        }
    }
    result
}

fn dispatch(context: &Context, command: Commands) -> Result<()> {
    match command {
        Commands::Init(args) => init::run(context, args),
        Commands::Instance(command) => instance::run(context, command),
        Commands::Check(args) => check::run(context, args),
        Commands::Allocate(args) => allocate::run(context, args),
        Commands::Select(args) => select::run(context, args),
        Commands::Grant(args) => grant::run(context, args),
        Commands::Bind(args) => bind::run(context, args),
        Commands::Submit(args) => submit::run(context, args),
        Commands::Approve(args) => approve::run(context, args),
        Commands::Reject(args) => reject::run(context, args),
        Commands::Deregister(args) => deregister::run(context, args),
        Commands::Invalidate(args) => invalidate::run(context, args),
        Commands::Number(command) => number::run(context, command),
        Commands::Service(command) => service::run(context, command),
        Commands::Advise(args) => advise::run(context, args),
        Commands::History(args) => history::run(context, args),
        Commands::Verify(args) => verify::run(context, args),
        Commands::Report(command) => report::run(context, command),
        Commands::Import(command) => import::run(context, command),
        Commands::Export(command) => export::run(context, command),
        Commands::Policy(command) => policy::run(context, command),
        Commands::Completions(args) => completions::run(context, args),
        Commands::Man(args) => man::run(context, args),
        Commands::Digest(args) => digest::run(context, args),
        Commands::Diff(args) => diff::run(context, args),
        Commands::Region(command) => region::run(context, command),
        Commands::Reconcile(args) => reconcile::run(context, args),
        Commands::Clock(command) => clock::run(context, command),
    }
}

/// Prints a clap error as `error[usage]` (exit 2), or help/version (exit 0).
pub(crate) fn usage_error(error: clap::Error) -> i32 {
    use clap::error::ErrorKind;
    if matches!(
        error.kind(),
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
    ) {
        let _ = error.print();
        return 0;
    }
    if error.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
        // The help, then the one error line every usage error has.
        let _ = error.print();
    }
    // clap failed before it could read --format: look for it by hand.
    // args_os: an argument that is not UTF-8 must not panic here.
    let args: Vec<String> = std::env::args_os()
        .map(|arg| arg.to_string_lossy().into_owned())
        .collect();
    let json = args.iter().enumerate().any(|(i, arg)| {
        arg == "--format=json"
            || (arg == "--format" && args.get(i + 1).is_some_and(|next| next == "json"))
    });
    let message = clap_message(&error);
    let format = if json { Format::Json } else { Format::Table };
    render::print_error(format, &Error::Usage(message));
    2
}

/// clap's message as one line: the first line, with the details clap puts
/// on the indented lines after it (missing arguments, allowed values).
fn clap_message(error: &clap::Error) -> String {
    use clap::error::ErrorKind;
    if error.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
        return "a subcommand is required (see the help above)".to_string();
    }
    let text = error.render().to_string();
    let mut lines = text.lines();
    let mut message = lines
        .next()
        .unwrap_or("")
        .trim_start_matches("error: ")
        .trim()
        .to_string();
    for line in lines.take_while(|line| !line.trim().is_empty()) {
        message.push(' ');
        message.push_str(line.trim());
    }
    if let Some(meant) = suggestion(error) {
        message.push_str(&format!("; did you mean {meant}?"));
    }
    message
}

/// What a mistyped subcommand, flag or value probably meant: clap's own
/// suggestion (`chek` → `check`, `--formt` → `--format`), else for a value
/// ours, which also knows other cases and synonyms (`JSON` → `json`).
fn suggestion(error: &clap::Error) -> Option<String> {
    use clap::error::{ContextKind, ContextValue};
    let strings = |kind| match error.get(kind) {
        Some(ContextValue::String(one)) => vec![one.clone()],
        Some(ContextValue::Strings(many)) => many.clone(),
        _ => Vec::new(),
    };
    for kind in [
        ContextKind::SuggestedSubcommand,
        ContextKind::SuggestedArg,
        ContextKind::SuggestedValue,
    ] {
        if let Some(first) = strings(kind).into_iter().next() {
            return Some(first);
        }
    }
    let given = strings(ContextKind::InvalidValue).into_iter().next()?;
    let valid = strings(ContextKind::ValidValue);
    let valid: Vec<&str> = valid.iter().map(String::as_str).collect();
    crate::domain::suggest::did_you_mean(&given, &valid).map(str::to_string)
}

pub(crate) struct Context {
    pub global: Global,
    /// A new ledger file this run created: removed again when the command
    /// fails or is a dry run (docs/reference.md "Guarantees").
    created: std::cell::RefCell<Option<std::path::PathBuf>>,
}

impl Context {
    pub(crate) fn format(&self) -> Format {
        self.global.format.unwrap_or(Format::Table)
    }

    /// The format `--format` names, `None` when it is not given (a command
    /// with one output form refuses any other it is asked for).
    pub(crate) fn format_given(&self) -> Option<Format> {
        self.global.format
    }

    /// The ledger file: --db, $SNLEDGER_DB, or ./snledger.db. An empty
    /// variable counts as unset, as for $SNLEDGER_ACTOR.
    pub(crate) fn db(&self) -> Result<std::path::PathBuf> {
        if let Some(db) = &self.global.db {
            return Ok(db.clone());
        }
        Ok(env_value("SNLEDGER_DB")?.map_or_else(|| "snledger.db".into(), Into::into))
    }

    /// The ledger's current time: `--now`, else `$SNLEDGER_NOW`, else the
    /// system clock (to the second).
    pub(crate) fn now(&self) -> Result<Time> {
        Ok(self.clock()?.now)
    }

    pub(crate) fn clock(&self) -> Result<Clock> {
        let system = crate::domain::types::format_time(chrono::Utc::now());
        self.clock_with(parse_time("clock", &system)?)
    }

    /// The reference clock of `store` (docs/guide.md "Time"): the database
    /// server's where it has one, else this machine's. `--now` never moves
    /// it: it is what a log's times are checked against.
    pub(crate) fn reference_clock(&self, store: &Store) -> Result<Time> {
        match store.server_time()? {
            Some(server) => parse_time("the server's clock", &server),
            None => Ok(self.clock()?.reference),
        }
    }

    /// The time a write is dated, against `reference` (the system clock,
    /// or the database server's).
    fn clock_with(&self, reference: Time) -> Result<Clock> {
        let given = match &self.global.now {
            Some(now) => Some(now.clone()),
            None => env_value("SNLEDGER_NOW")?,
        };
        Ok(match given {
            Some(text) => Clock {
                now: self.time("--now", &text)?,
                given: true,
                reference,
            },
            None => Clock {
                now: reference,
                given: false,
                reference,
            },
        })
    }

    /// The actor named by `--actor`, else `$SNLEDGER_ACTOR`; `None` when
    /// neither is set.
    fn named_actor(&self) -> Result<Option<String>> {
        match &self.global.actor {
            Some(actor) => Ok(Some(actor.clone())),
            None => env_value("SNLEDGER_ACTOR"),
        }
    }

    pub(crate) fn actor(&self) -> Result<String> {
        // Each source is read only when the ones before it are unset, so a
        // broken $USER does not matter once --actor is given.
        let actor = match self.named_actor()? {
            Some(actor) => actor,
            None => env_value("USER")?.unwrap_or_else(|| "unknown".to_string()),
        };
        validate_text("actor", &actor, limits::TEXT_MAX)?;
        Ok(actor)
    }

    /// The actor of a write on `store`: the role the database
    /// authenticated when it has one (`--actor` may only repeat it), else
    /// `--actor`, `$SNLEDGER_ACTOR` or `$USER`.
    fn actor_of(&self, store: &Store) -> Result<String> {
        let Some(role) = store.session_user() else {
            return self.actor();
        };
        if let Some(named) = self.named_actor()? {
            if named != role {
                return Err(Error::Actor(format!(
                    "--actor {} is not the database role this session logged in as ({}): on a shared ledger the actor is the login role",
                    shorten(&named),
                    shorten(&role)
                )));
            }
        }
        validate_text("actor", &role, limits::TEXT_MAX)?;
        Ok(role)
    }

    /// The ledger for a write: created (mode 0600, schema) on first use
    /// (a SQLite file; a PostgreSQL database needs `init`).
    pub(crate) fn store(&self) -> Result<Store> {
        let path = self.db()?;
        let (store, created) = Store::open_creating(&path)?;
        if created {
            *self.created.borrow_mut() = Some(path);
        }
        Ok(store)
    }

    /// The ledger for `init`: created, or upgraded, with its schema (and on
    /// PostgreSQL the writer and reader roles).
    pub(crate) fn init_store(&self) -> Result<Store> {
        Store::init(&self.db()?)
    }

    /// The ledger for a read, which never creates one: a missing ledger
    /// (no file, or an empty one) is not found (exit 3), and nothing is
    /// left behind, so a mistyped --db cannot pass for an empty ledger.
    pub(crate) fn read_store(&self) -> Result<Store> {
        let path = self.db()?;
        Store::open_existing(&path)?.ok_or_else(|| Store::missing(&path))
    }

    /// Applies a command that sets one record (`what`), reading the record
    /// back in the same transaction.
    pub(crate) fn set_and_read<T>(
        &self,
        command: &Command,
        what: &str,
        read: impl Fn(&Store) -> Result<Option<T>>,
    ) -> Result<T> {
        self.ledger()?.execute(command, |store, _| {
            read(store)?.ok_or_else(|| {
                Error::storage(format!("invariant broken: a {what} just set is not stored"))
            })
        })
    }

    /// The ledger for a write, its actor, and its clock: the system clock,
    /// or the database server's where it has one. The input is checked
    /// before the ledger is opened, so a bad `--now` creates nothing.
    pub(crate) fn ledger(&self) -> Result<Ledger> {
        let clock = self.clock()?;
        let actor = self.actor()?;
        let store = self.store()?;
        if store.session_user().is_none() {
            return Ok(Ledger::new(store, actor, clock));
        }
        let actor = self.actor_of(&store)?;
        let clock = self.clock_with(self.reference_clock(&store)?)?;
        Ok(Ledger::new(store, actor, clock))
    }

    /// The store to answer a read from: the live one, or the state as it
    /// stood at `--as-of`, from the stored past versions.
    pub(crate) fn view(&self, as_of: &AsOf) -> Result<View> {
        let store = self.read_store()?;
        match &as_of.as_of {
            None => Ok(View::live(store)),
            Some(text) => state_as_of(store, self.time("--as-of", text)?),
        }
    }

    /// The operator's zone: `--tz`, else `$SNLEDGER_TZ`; `None` when
    /// neither is given (UTC, and tables keep the log's own spelling).
    pub(crate) fn zone(&self) -> Result<Option<chrono_tz::Tz>> {
        let given = match &self.global.tz {
            Some(zone) => Some(zone.clone()),
            None => env_value("SNLEDGER_TZ")?,
        };
        given.map(|text| parse_zone("--tz", &text)).transpose()
    }

    /// A time the operator typed (an option or a CSV cell): one without an
    /// offset, or a bare date, is read in the zone of `--tz` (docs/guide.md
    /// "Global options"). Every input time goes through here.
    pub(crate) fn time(&self, field: &str, text: &str) -> Result<Time> {
        parse_time_in(field, text, self.zone()?.unwrap_or(chrono_tz::Tz::UTC))
    }

    /// `time` of an option that may be absent.
    pub(crate) fn optional_time(&self, field: &str, text: &Option<String>) -> Result<Option<Time>> {
        text.as_deref().map(|t| self.time(field, t)).transpose()
    }

    /// How tables look in this run: the zone, the width, colour.
    pub(crate) fn style(&self) -> Result<render::Style> {
        Ok(render::Style::from_environment(self.zone()?))
    }

    /// Prints a command's answer in the format asked for.
    pub(crate) fn emit(&self, answer: &impl render::Answer) -> Result<()> {
        render::emit_styled(self.format(), &self.style()?, answer)
    }

    /// Prints a table that only the table format shows this way (JSON and
    /// CSV of the command are streamed).
    pub(crate) fn emit_table(&self, table: &render::Table) -> Result<()> {
        render::emit_table(&self.style()?, table)
    }
}

/// An environment variable's value; empty counts as unset. A value that is
/// not UTF-8 is an error naming the variable, never taken as unset: the
/// default in its place would silently use another ledger or actor.
fn env_value(name: &str) -> Result<Option<String>> {
    match std::env::var(name) {
        Ok(value) => Ok(Some(value).filter(|value| !value.is_empty())),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => Err(Error::usage(format!(
            "the environment variable {name} is set but is not valid UTF-8"
        ))),
    }
}

/// Parses an integer argument (counts, months, days): exit 2 when it is not one.
pub(crate) fn parse_integer(field: &str, text: &str) -> Result<i64> {
    text.trim().parse().map_err(|_| {
        Error::usage(format!(
            "{field}: '{}' is not a whole number",
            shorten(text)
        ))
    })
}

/// Runs a command on one number and prints the number as it now stands
/// (grant, bind, submit, approve, reject, deregister, invalidate).
pub(crate) fn change_number_and_show(
    context: &Context,
    command: Command,
    number: &str,
) -> Result<()> {
    let ledger = context.ledger()?;
    let record = ledger.execute(&command, |store, outcome| {
        debug_assert!(matches!(outcome, Outcome::Appended(_)));
        find_number(store.lookup(), number)
    })?;
    context.emit(&render::number_record(record))
}

// ---- look-ups: each validates the name, then says "no X" when it is absent ----

pub(crate) fn find_instance(store: &dyn Lookup, instance_id: &str) -> Result<Instance> {
    validate_instance_id(instance_id)?;
    store
        .instance(instance_id)?
        .ok_or_else(|| Error::not_found(format!("no instance {}", shorten(instance_id))))
}

pub(crate) fn find_number(store: &dyn Lookup, number: &str) -> Result<NumberRecord> {
    validate_number(number)?;
    store
        .number(number)?
        .ok_or_else(|| Error::not_found(format!("no number {}", shorten(number))))
}

pub(crate) fn find_service(store: &dyn Lookup, service: &str) -> Result<ServiceRecord> {
    validate_service(service)?;
    store
        .service(service)?
        .ok_or_else(|| Error::not_found(format!("no service {}", shorten(service))))
}

/// An instance id as the ledger spells it (docs/guide.md "Names: one thing, one
/// spelling"), for filters that compare it exactly; as given when unknown.
pub(crate) fn instance_spelling(store: &dyn Reader, instance_id: &str) -> Result<String> {
    Ok(store
        .instance(instance_id)?
        .map_or_else(|| instance_id.to_string(), |found| found.instance_id))
}

/// The policy's max for the instance's type (0 when the type has no policy).
pub(crate) fn max_numbers(store: &dyn Lookup, instance: &Instance) -> Result<i64> {
    Ok(store
        .policy(&instance.service_type)?
        .map_or(0, |policy| policy.max_numbers))
}

/// Fresh UUID v4 strings for generated numbers.
pub(crate) fn fresh_numbers(count: usize) -> Vec<String> {
    (0..count)
        .map(|_| uuid::Uuid::new_v4().to_string())
        .collect()
}
