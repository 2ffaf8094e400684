//! The one error type. Every failure maps to a stable code (SPEC §1.3, §1.5,
//! §3.1) and an exit code; `main` prints it and exits with that code.

use std::fmt;

/// The reason codes of a refusal by a ledger rule (exit 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    RegionNotMainland,
    ServiceTypeUnsupported,
    PayAsYouGo,
    Trial,
    SubscriptionTooShort,
    OrderAmountTooLow,
    NoPublicIp,
    Expired,
    Released,
    QuotaExhausted,
    NotOwner,
    NotHolder,
    WrongStatus,
    ServiceTaken,
    AlreadyExists,
    RequestConflict,
    ClockBackwards,
    CountOutOfRange,
}

impl Reason {
    pub fn code(self) -> &'static str {
        match self {
            Reason::RegionNotMainland => "region_not_mainland",
            Reason::ServiceTypeUnsupported => "service_type_unsupported",
            Reason::PayAsYouGo => "pay_as_you_go",
            Reason::Trial => "trial",
            Reason::SubscriptionTooShort => "subscription_too_short",
            Reason::OrderAmountTooLow => "order_amount_too_low",
            Reason::NoPublicIp => "no_public_ip",
            Reason::Expired => "expired",
            Reason::Released => "released",
            Reason::QuotaExhausted => "quota_exhausted",
            Reason::NotOwner => "not_owner",
            Reason::NotHolder => "not_holder",
            Reason::WrongStatus => "wrong_status",
            Reason::ServiceTaken => "service_taken",
            Reason::AlreadyExists => "already_exists",
            Reason::RequestConflict => "request_conflict",
            Reason::ClockBackwards => "clock_backwards",
            Reason::CountOutOfRange => "count_out_of_range",
        }
    }
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
    /// Locked past the busy timeout, I/O, not a ledger, newer schema: exit 6.
    #[error("{0}")]
    Storage(String),
    /// An import with failing rows: the first 100 of them and how many in all.
    #[error("{} of the file's rows failed; nothing was imported", .total)]
    Import {
        failures: Vec<RowFailure>,
        total: u64,
    },
}

pub type Result<T> = std::result::Result<T, Error>;

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

    /// The code printed in `error[CODE]`.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Usage(_) => "usage",
            Error::NotFound(_) => "not_found",
            Error::Refused(reason, _) => reason.code(),
            Error::Integrity(_) => "integrity",
            Error::Storage(_) => "storage",
            Error::Import { failures, .. } => failures.first().map_or("usage", |f| f.error.code()),
        }
    }

    /// The process exit code (SPEC §3.1). An import exits with the code of
    /// its first failing row.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Usage(_) => 2,
            Error::NotFound(_) => 3,
            Error::Refused(..) => 4,
            Error::Integrity(_) => 5,
            Error::Storage(_) => 6,
            Error::Import { failures, .. } => failures.first().map_or(2, |f| f.error.exit_code()),
        }
    }
}
