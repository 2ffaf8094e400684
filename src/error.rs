//! The one error type. Every failure maps to a stable code and an exit code
//! (docs/reference.md "Exit codes and errors", "Eligibility reason codes"); `main`
//! prints it and exits with that code.

use std::fmt;

/// Declares `Reason` from one table: each variant with the code printed in
/// `error[CODE]`. Every reason is a refusal, so all share one exit code.
macro_rules! reasons {
    ($($variant:ident => $code:literal,)*) => {
        /// The reason codes of a refusal by a ledger rule (exit 4).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Reason {
            $($variant,)*
        }

        impl Reason {
            pub fn code(self) -> &'static str {
                match self {
                    $(Reason::$variant => $code,)*
                }
            }
        }
    };
}

/// How an integrity error caused by storage the database finds corrupt
/// begins (SQLite's SQLITE_CORRUPT, or NOTADB on a file that was one).
pub(crate) const CORRUPT: &str = "the ledger's storage is corrupt";

reasons! {
    RegionNotMainland => "region_not_mainland",
    ServiceTypeUnsupported => "service_type_unsupported",
    PayAsYouGo => "pay_as_you_go",
    Trial => "trial",
    SubscriptionTooShort => "subscription_too_short",
    OrderAmountTooLow => "order_amount_too_low",
    NoPublicIp => "no_public_ip",
    Expired => "expired",
    Released => "released",
    QuotaExhausted => "quota_exhausted",
    NotOwner => "not_owner",
    NotHolder => "not_holder",
    WrongStatus => "wrong_status",
    ServiceTaken => "service_taken",
    AlreadyExists => "already_exists",
    RequestConflict => "request_conflict",
    ClockBackwards => "clock_backwards",
    ClockAhead => "clock_ahead",
    CountOutOfRange => "count_out_of_range",
    RegionUnknown => "region_unknown",
    IcpNumberTaken => "icp_number_taken",
    NothingToRepair => "nothing_to_repair",
    // Not a refusal: a usage error (exit 2), see `Error::Actor`.
    ActorNotSessionUser => "actor_not_session_user",
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// One failing row of an import: its line in the file and what went wrong.
#[derive(Debug)]
pub struct RowFailure {
    pub line: u64,
    pub error: Error,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// `--actor` names another role than the one the database
    /// authenticated: a usage error (exit 2) with its own reason code.
    #[error("{0}")]
    Actor(String),
    /// Bad flag, bad value, bad CSV, bad time: exit 2.
    #[error("{0}")]
    Usage(String),
    /// The named instance, number, service or file does not exist: exit 3.
    #[error("{0}")]
    NotFound(String),
    /// A ledger rule refused the command; nothing changed: exit 4.
    #[error("{1}")]
    Refused(Reason, String),
    /// `verify` found the log or a derived table broken: exit 5.
    #[error("{0}")]
    Integrity(String),
    /// Locked past the busy timeout, not a ledger, newer schema: exit 6.
    #[error("{0}")]
    Storage(String),
    /// A write lost a serialization race with another writer (PostgreSQL
    /// SQLSTATE 40001 or 40P01): tried again, then a storage error (exit 6).
    #[error("{0}")]
    Conflict(String),
    /// Writing the output failed: a storage error too (exit 6), except a
    /// closed pipe, which `render::closed_pipe_is_done` treats as done.
    #[error("cannot write output: {0}")]
    Io(#[from] std::io::Error),
    /// An import with failing rows: the first 100 of them and how many in all.
    #[error("{} of the file's rows failed; nothing was imported", .total)]
    Import {
        failures: Vec<RowFailure>,
        total: u64,
    },
}

pub(crate) type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub fn usage(message: impl Into<String>) -> Error {
        Error::Usage(message.into())
    }
    pub fn not_found(message: impl Into<String>) -> Error {
        Error::NotFound(message.into())
    }
    pub fn refused(reason: Reason, message: impl Into<String>) -> Error {
        Error::Refused(reason, message.into())
    }
    pub fn storage(message: impl Into<String>) -> Error {
        Error::Storage(message.into())
    }

    /// Storage trouble (not the input's fault): an import stops at once.
    pub fn is_storage(&self) -> bool {
        matches!(self, Error::Storage(_) | Error::Io(_) | Error::Conflict(_))
    }

    /// The code printed in `error[CODE]`.
    pub fn code(&self) -> &'static str {
        self.code_and_exit_code().0
    }

    /// The process exit code (docs/reference.md "Exit codes and errors").
    pub fn exit_code(&self) -> i32 {
        self.code_and_exit_code().1
    }

    /// Both codes of every kind of error, in one table. An import has the
    /// codes of its first failing row.
    fn code_and_exit_code(&self) -> (&'static str, i32) {
        match self {
            Error::Usage(_) => ("usage", 2),
            Error::NotFound(_) => ("not_found", 3),
            Error::Refused(reason, _) => (reason.code(), 4),
            Error::Integrity(_) => ("integrity", 5),
            Error::Storage(_) | Error::Io(_) | Error::Conflict(_) => ("storage", 6),
            Error::Actor(_) => (Reason::ActorNotSessionUser.code(), 2),
            Error::Import { failures, .. } => failures
                .first()
                .map_or(("usage", 2), |failure| failure.error.code_and_exit_code()),
        }
    }
}
