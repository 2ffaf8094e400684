-- snledger schema, version 1.
-- The log (`events`) is the truth; every other table is derived from it and
-- written in the same transaction as the event that changed it. `verify`
-- rebuilds the derived tables from the log alone and compares.

CREATE TABLE IF NOT EXISTS events (
    seq       INTEGER PRIMARY KEY,          -- 1, 2, 3, ... without gaps
    event_id  TEXT    NOT NULL,             -- UUID v4
    at        TEXT    NOT NULL,             -- RFC 3339 UTC with seconds; never decreases
    actor     TEXT    NOT NULL,
    kind      TEXT    NOT NULL,
    payload   TEXT    NOT NULL,             -- JSON, hashed exactly as stored
    prev_hash TEXT    NOT NULL,
    hash      TEXT    NOT NULL
);
-- `at` never decreases along `seq`, so time filters binary-search `seq`;
-- `kind` filters use this index (appends only, cheap on bulk imports).
CREATE INDEX IF NOT EXISTS events_by_kind ON events(kind, seq);

-- The log is append-only: the database itself refuses edits.
CREATE TRIGGER IF NOT EXISTS events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TRIGGER IF NOT EXISTS events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;

-- Which instances, numbers, accounts and services each event names, so that
-- `history` filters are index lookups instead of payload scans.
-- subject is '<letter>:<value>': i = instance, n = number, a = account, s = service.
CREATE TABLE IF NOT EXISTS event_subjects (
    subject TEXT    NOT NULL,
    seq     INTEGER NOT NULL,
    PRIMARY KEY (subject, seq)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS policy (
    service_type            TEXT PRIMARY KEY,
    max_numbers             INTEGER NOT NULL,
    min_subscription_months INTEGER NOT NULL,
    min_order_amount_fen    INTEGER,            -- CNY in fen (1/100); NULL = no minimum
    requires_public_ip      INTEGER NOT NULL CHECK (requires_public_ip IN (0, 1)),
    updated_seq             INTEGER NOT NULL    -- 0 for the built-in defaults
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS instances (
    instance_id         TEXT PRIMARY KEY,
    service_type        TEXT    NOT NULL,
    account             TEXT    NOT NULL,
    region              TEXT    NOT NULL,
    billing             TEXT    NOT NULL,       -- no CHECK here: it would cost bulk imports
    subscription_months INTEGER NOT NULL,
    expires_at          TEXT    NOT NULL,
    public_ip           TEXT,
    order_amount_fen    INTEGER,
    state               TEXT    NOT NULL,       -- a tenth of their time; verify names bad values
    consumed            INTEGER NOT NULL,       -- slots ever allocated or selected; never decreases
    updated_seq         INTEGER NOT NULL
) WITHOUT ROWID;
-- No index by account: it would cost a bulk import a tenth of its time, and
-- the listings that filter by account print every matching row anyway.

CREATE TABLE IF NOT EXISTS numbers (
    number      TEXT PRIMARY KEY,
    instance_id TEXT    NOT NULL,
    owner       TEXT    NOT NULL,
    holder      TEXT    NOT NULL,
    status      TEXT    NOT NULL CHECK (status IN ('unbound', 'bound', 'filing', 'filed', 'deregistered', 'invalid')),
    service     TEXT,
    icp_number  TEXT,
    origin      TEXT    NOT NULL CHECK (origin IN ('issued', 'direct')),
    issued_seq  INTEGER NOT NULL,               -- orders an instance's numbers
    updated_seq INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS numbers_by_instance ON numbers(instance_id, issued_seq);
CREATE INDEX IF NOT EXISTS numbers_by_holder ON numbers(holder);

-- A service's current record; status and ICP number come from its number.
CREATE TABLE IF NOT EXISTS services (
    service            TEXT PRIMARY KEY,
    number             TEXT    NOT NULL,
    host               TEXT    NOT NULL,        -- the instance it runs on now
    commercial         INTEGER NOT NULL CHECK (commercial IN (0, 1)),
    ip_update_required INTEGER NOT NULL CHECK (ip_update_required IN (0, 1)),
    updated_seq        INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS services_by_host ON services(host);

-- Idempotent allocation: what a request id asked for and what it got.
CREATE TABLE IF NOT EXISTS requests (
    request_id  TEXT PRIMARY KEY,
    instance_id TEXT    NOT NULL,
    account     TEXT    NOT NULL,
    count       INTEGER NOT NULL,
    asked       TEXT    NOT NULL,               -- JSON array of numbers given with --number
    numbers     TEXT    NOT NULL,               -- JSON array of the numbers allocated
    seq         INTEGER NOT NULL
) WITHOUT ROWID;
