//! The schema's migrations, in order, listed once for both backends:
//! migration N takes a ledger from version N-1 to N (SQLite's `PRAGMA
//! user_version`, PostgreSQL's row of `snledger_schema`). Version 1 is
//! `schema.sql` (`schema.postgres.sql`); each later one is a file of the
//! same name in `migrations/` and `migrations/postgres/`, applied on open.
//! Where a change is for one backend only, the other's file says so and
//! does nothing, so that both keep one version number.
//!
//! Version 2 adds the region table, version 3 the keys that make names one
//! thing, one spelling, versions 4 and 5 the past versions, 10 those of the
//! events before version 4 (`store::shared::past_versions_up_to`).

macro_rules! migrations {
    ($($name:literal,)*) => {
        pub(super) const SQLITE: &[&str] = &[
            include_str!("../../schema.sql"),
            $(include_str!(concat!("../../migrations/", $name, ".sql")),)*
        ];
        pub(super) const POSTGRES: &[&str] = &[
            include_str!("../../schema.postgres.sql"),
            $(include_str!(concat!("../../migrations/postgres/", $name, ".sql")),)*
        ];
    };
}

migrations! {
    "0002_regions",
    "0003_names",
    "0004_past",
    "0005_past",
    "0006_past_views",
    "0007_chain_enforced",
    "0008_import_owner",
    "0009_derived_with_event",
    "0010_past_from_the_start",
}

/// The schema version this program writes: the number of migrations. A
/// ledger newer than this is refused (exit 6).
pub const SCHEMA_VERSION: i64 = SQLITE.len() as i64;
const _: () = assert!(SQLITE.len() == POSTGRES.len());
