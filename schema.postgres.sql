-- snledger schema for PostgreSQL, version 1 (the tables of schema.sql, in
-- PostgreSQL's types). Later versions are migrations/postgres/NNNN_*.sql;
-- `snledger init` applies them and then grants the roles' privileges.
-- Every text column sorts as bytes (COLLATE "C"), as SQLite's do, so that
-- listings come out in the same order on both backends. Flags are 0 or 1,
-- as in SQLite.

-- Which schema version this database holds (one row).
CREATE TABLE snledger_schema (
    version BIGINT NOT NULL
);
INSERT INTO snledger_schema (version) VALUES (1);

CREATE TABLE events (
    seq       BIGINT PRIMARY KEY,              -- 1, 2, 3, ... without gaps
    event_id  TEXT COLLATE "C" NOT NULL,       -- UUID v4
    at        TEXT COLLATE "C" NOT NULL,       -- RFC 3339 UTC with seconds; never decreases
    actor     TEXT COLLATE "C" NOT NULL,       -- session_user of the writer
    kind      TEXT COLLATE "C" NOT NULL,
    payload   TEXT COLLATE "C" NOT NULL,       -- JSON, hashed exactly as stored
    prev_hash TEXT COLLATE "C" NOT NULL,
    hash      TEXT COLLATE "C" NOT NULL
);
CREATE INDEX events_by_kind ON events (kind, seq);

-- The chain head: one row, locked (SELECT ... FOR UPDATE) by every write
-- before the rules read anything, and moved with each commit's last event,
-- so that concurrent writers queue and never fork the chain.
CREATE TABLE chain_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  BIGINT NOT NULL,                       -- 0 before the first event
    hash TEXT COLLATE "C" NOT NULL,
    at   TEXT COLLATE "C" NOT NULL
);
INSERT INTO chain_head (id, seq, hash, at) VALUES (1, 0, '', '');

-- The log is append-only: the database itself refuses edits (and writers
-- are never granted UPDATE, DELETE or TRUNCATE on it).
CREATE FUNCTION snledger_refuse_edit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'events are append-only' USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
    FOR EACH ROW EXECUTE FUNCTION snledger_refuse_edit();
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION snledger_refuse_edit();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION snledger_refuse_edit();

-- subject is '<letter>:<value>': i = instance, n = number, a = account, s = service.
CREATE TABLE event_subjects (
    subject TEXT COLLATE "C" NOT NULL,
    seq     BIGINT NOT NULL,
    PRIMARY KEY (subject, seq)
);

CREATE TABLE policy (
    service_type            TEXT COLLATE "C" PRIMARY KEY,
    max_numbers             BIGINT NOT NULL,
    min_subscription_months BIGINT NOT NULL,
    min_order_amount_fen    BIGINT,            -- CNY in fen (1/100); NULL = no minimum
    requires_public_ip      BIGINT NOT NULL CHECK (requires_public_ip IN (0, 1)),
    updated_seq             BIGINT NOT NULL    -- 0 for the built-in defaults
);

CREATE TABLE instances (
    instance_id         TEXT COLLATE "C" PRIMARY KEY,
    service_type        TEXT COLLATE "C" NOT NULL,
    account             TEXT COLLATE "C" NOT NULL,
    region              TEXT COLLATE "C" NOT NULL,
    billing             TEXT COLLATE "C" NOT NULL,
    subscription_months BIGINT NOT NULL,
    expires_at          TEXT COLLATE "C" NOT NULL,
    public_ip           TEXT COLLATE "C",
    order_amount_fen    BIGINT,
    state               TEXT COLLATE "C" NOT NULL,
    consumed            BIGINT NOT NULL,       -- slots ever allocated or selected; never decreases
    updated_seq         BIGINT NOT NULL
);

CREATE TABLE numbers (
    number      TEXT COLLATE "C" PRIMARY KEY,
    instance_id TEXT COLLATE "C" NOT NULL,
    owner       TEXT COLLATE "C" NOT NULL,
    holder      TEXT COLLATE "C" NOT NULL,
    status      TEXT COLLATE "C" NOT NULL CHECK (status IN ('unbound', 'bound', 'filing', 'filed', 'deregistered', 'invalid')),
    service     TEXT COLLATE "C",
    icp_number  TEXT COLLATE "C",
    origin      TEXT COLLATE "C" NOT NULL CHECK (origin IN ('issued', 'direct')),
    issued_seq  BIGINT NOT NULL,
    updated_seq BIGINT NOT NULL
);
CREATE INDEX numbers_by_instance ON numbers (instance_id, issued_seq);
CREATE INDEX numbers_by_holder ON numbers (holder);

CREATE TABLE services (
    service            TEXT COLLATE "C" PRIMARY KEY,
    number             TEXT COLLATE "C" NOT NULL,
    host               TEXT COLLATE "C" NOT NULL,
    commercial         BIGINT NOT NULL CHECK (commercial IN (0, 1)),
    ip_update_required BIGINT NOT NULL CHECK (ip_update_required IN (0, 1)),
    updated_seq        BIGINT NOT NULL
);
CREATE INDEX services_by_host ON services (host);

CREATE TABLE requests (
    request_id  TEXT COLLATE "C" PRIMARY KEY,
    instance_id TEXT COLLATE "C" NOT NULL,
    account     TEXT COLLATE "C" NOT NULL,
    count       BIGINT NOT NULL,
    asked       TEXT COLLATE "C" NOT NULL,     -- JSON array of numbers given with --number
    numbers     TEXT COLLATE "C" NOT NULL,     -- JSON array of the numbers allocated
    seq         BIGINT NOT NULL
);
