-- Migration 4: past versions (README "--as-of: how a past state is answered"). When an event replaces
-- or removes a row of a derived table, the row as it stood moves here with
-- the seq of the event that superseded it. The state after any seq S is then
-- the live rows with updated_seq <= S and the past rows with
-- updated_seq <= S < superseded_seq, read by index: `--as-of` costs what
-- the present costs instead of a replay of the log. Derived like the live
-- tables, so `verify` rebuilds these from the log and compares them.
-- A version made and replaced within one event is never visible and is not
-- kept (`MemoryState::supersede`, with which verify rebuilds these tables,
-- follows the same rule). Columns as in the live tables, then
-- superseded_seq; the live tables' look-up indexes too, since a read of the
-- past looks rows up in both (a scan of a past table per look-up would make
-- a report of N rows cost N scans).
CREATE TABLE IF NOT EXISTS policy_past (
    service_type            TEXT    NOT NULL,
    max_numbers             INTEGER NOT NULL,
    min_subscription_months INTEGER NOT NULL,
    min_order_amount_fen    INTEGER,
    requires_public_ip      INTEGER NOT NULL,
    updated_seq             INTEGER NOT NULL,
    superseded_seq          INTEGER NOT NULL,
    PRIMARY KEY (service_type, superseded_seq)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS instances_past (
    instance_id         TEXT    NOT NULL,
    service_type        TEXT    NOT NULL,
    account             TEXT    NOT NULL,
    region              TEXT    NOT NULL,
    billing             TEXT    NOT NULL,
    subscription_months INTEGER NOT NULL,
    expires_at          TEXT    NOT NULL,
    public_ip           TEXT,
    order_amount_fen    INTEGER,
    state               TEXT    NOT NULL,
    consumed            INTEGER NOT NULL,
    updated_seq         INTEGER NOT NULL,
    superseded_seq      INTEGER NOT NULL,
    PRIMARY KEY (instance_id, superseded_seq)
) WITHOUT ROWID;
-- Unlike the live table (whose bulk imports it would slow), indexed by
-- account: past rows are written one at a time, and `list --account` reads
-- the live table whole anyway.
CREATE INDEX IF NOT EXISTS instances_past_by_account ON instances_past(account);
CREATE INDEX IF NOT EXISTS instances_past_by_folded_id ON instances_past(instance_id COLLATE NOCASE);

CREATE TABLE IF NOT EXISTS numbers_past (
    number         TEXT    NOT NULL,
    instance_id    TEXT    NOT NULL,
    owner          TEXT    NOT NULL,
    holder         TEXT    NOT NULL,
    status         TEXT    NOT NULL,
    service        TEXT,
    icp_number     TEXT,
    origin         TEXT    NOT NULL,
    issued_seq     INTEGER NOT NULL,
    updated_seq    INTEGER NOT NULL,
    superseded_seq INTEGER NOT NULL,
    PRIMARY KEY (number, superseded_seq)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS numbers_past_by_instance ON numbers_past(instance_id);
CREATE INDEX IF NOT EXISTS numbers_past_by_holder ON numbers_past(holder);
CREATE INDEX IF NOT EXISTS numbers_past_by_folded_number ON numbers_past(number COLLATE NOCASE);
CREATE INDEX IF NOT EXISTS numbers_past_by_icp_number ON numbers_past(icp_number) WHERE icp_number IS NOT NULL;

CREATE TABLE IF NOT EXISTS services_past (
    service            TEXT    NOT NULL,
    number             TEXT    NOT NULL,
    host               TEXT    NOT NULL,
    commercial         INTEGER NOT NULL,
    ip_update_required INTEGER NOT NULL,
    service_key        TEXT    NOT NULL,
    updated_seq        INTEGER NOT NULL,
    superseded_seq     INTEGER NOT NULL,
    PRIMARY KEY (service, superseded_seq)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS services_past_by_key ON services_past(service_key);
CREATE INDEX IF NOT EXISTS services_past_by_host ON services_past(host);

CREATE TABLE IF NOT EXISTS regions_past (
    region_id      TEXT    NOT NULL,
    mainland       INTEGER NOT NULL,
    updated_seq    INTEGER NOT NULL,
    superseded_seq INTEGER NOT NULL,
    PRIMARY KEY (region_id, superseded_seq)
) WITHOUT ROWID;

-- Past versions are kept from this seq on: the log's last seq when a ledger
-- was upgraded to version 4 (0 for a ledger made at version 4 or later).
-- `--as-of` a moment before it replays the log, as older versions did.
CREATE TABLE IF NOT EXISTS past_kept_since (
    id  INTEGER PRIMARY KEY CHECK (id = 1),     -- one row
    seq INTEGER NOT NULL
);
INSERT OR IGNORE INTO past_kept_since (id, seq) SELECT 1, coalesce(max(seq), 0) FROM events;
