-- Migration 5: past versions, as SQLite's migration 4 (README "--as-of: how
-- a past state is answered"). When an event replaces or removes a row of a
-- derived table, the row as it stood is kept here with the seq of the event
-- that superseded it; the state after any seq S is the live rows with
-- updated_seq <= S and the past rows with updated_seq <= S < superseded_seq.
-- Derived like the live tables: `verify` rebuilds and compares them. A
-- version made and replaced within one event is never visible and is not
-- kept. Columns as in the live tables, then superseded_seq; the live
-- tables' look-up indexes too, and an account index.
CREATE TABLE policy_past (
    service_type            TEXT COLLATE "C" NOT NULL,
    max_numbers             BIGINT NOT NULL,
    min_subscription_months BIGINT NOT NULL,
    min_order_amount_fen    BIGINT,
    requires_public_ip      BIGINT NOT NULL,
    updated_seq             BIGINT NOT NULL,
    superseded_seq          BIGINT NOT NULL,
    PRIMARY KEY (service_type, superseded_seq)
);

CREATE TABLE instances_past (
    instance_id         TEXT COLLATE "C" NOT NULL,
    service_type        TEXT COLLATE "C" NOT NULL,
    account             TEXT COLLATE "C" NOT NULL,
    region              TEXT COLLATE "C" NOT NULL,
    billing             TEXT COLLATE "C" NOT NULL,
    subscription_months BIGINT NOT NULL,
    expires_at          TEXT COLLATE "C" NOT NULL,
    public_ip           TEXT COLLATE "C",
    order_amount_fen    BIGINT,
    state               TEXT COLLATE "C" NOT NULL,
    consumed            BIGINT NOT NULL,
    updated_seq         BIGINT NOT NULL,
    superseded_seq      BIGINT NOT NULL,
    PRIMARY KEY (instance_id, superseded_seq)
);
CREATE INDEX instances_past_by_account ON instances_past (account);
CREATE INDEX instances_past_by_folded_id ON instances_past (lower(instance_id));

CREATE TABLE numbers_past (
    number         TEXT COLLATE "C" NOT NULL,
    instance_id    TEXT COLLATE "C" NOT NULL,
    owner          TEXT COLLATE "C" NOT NULL,
    holder         TEXT COLLATE "C" NOT NULL,
    status         TEXT COLLATE "C" NOT NULL,
    service        TEXT COLLATE "C",
    icp_number     TEXT COLLATE "C",
    origin         TEXT COLLATE "C" NOT NULL,
    issued_seq     BIGINT NOT NULL,
    updated_seq    BIGINT NOT NULL,
    superseded_seq BIGINT NOT NULL,
    PRIMARY KEY (number, superseded_seq)
);
CREATE INDEX numbers_past_by_instance ON numbers_past (instance_id, issued_seq);
CREATE INDEX numbers_past_by_holder ON numbers_past (holder);
CREATE INDEX numbers_past_by_folded_number ON numbers_past (lower(number));
CREATE INDEX numbers_past_by_icp_number ON numbers_past (icp_number) WHERE icp_number IS NOT NULL;

CREATE TABLE services_past (
    service            TEXT COLLATE "C" NOT NULL,
    number             TEXT COLLATE "C" NOT NULL,
    host               TEXT COLLATE "C" NOT NULL,
    commercial         BIGINT NOT NULL,
    ip_update_required BIGINT NOT NULL,
    service_key        TEXT COLLATE "C" NOT NULL,
    updated_seq        BIGINT NOT NULL,
    superseded_seq     BIGINT NOT NULL,
    PRIMARY KEY (service, superseded_seq)
);
CREATE INDEX services_past_by_key ON services_past (service_key);
CREATE INDEX services_past_by_host ON services_past (host);

CREATE TABLE regions_past (
    region_id      TEXT COLLATE "C" NOT NULL,
    mainland       BIGINT NOT NULL,
    updated_seq    BIGINT NOT NULL,
    superseded_seq BIGINT NOT NULL,
    PRIMARY KEY (region_id, superseded_seq)
);

-- Past versions are kept from this seq on: the log's last seq when the
-- ledger was upgraded to version 5 (0 for one made at 5 or later).
CREATE TABLE past_kept_since (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    seq BIGINT NOT NULL
);
INSERT INTO past_kept_since (id, seq) SELECT 1, coalesce(max(seq), 0) FROM events;

-- A read `--as-of` puts this schema first in its search path and the seq in
-- `snledger.as_of_seq` (PostgreSQL refuses CREATE TEMP VIEW in a read-only
-- transaction, so the views are made once, here): every query of the store
-- then answers for that seq unchanged. Outside such a read the setting is
-- unset and the views are empty. One ledger per database, as `init` makes.
CREATE SCHEMA snledger_past;
CREATE VIEW snledger_past.policy AS
    SELECT service_type, max_numbers, min_subscription_months, min_order_amount_fen, requires_public_ip, updated_seq
    FROM policy WHERE updated_seq <= current_setting('snledger.as_of_seq', true)::bigint
    UNION ALL
    SELECT service_type, max_numbers, min_subscription_months, min_order_amount_fen, requires_public_ip, updated_seq
    FROM policy_past WHERE updated_seq <= current_setting('snledger.as_of_seq', true)::bigint
        AND superseded_seq > current_setting('snledger.as_of_seq', true)::bigint;
CREATE VIEW snledger_past.instances AS
    SELECT instance_id, service_type, account, region, billing, subscription_months, expires_at, public_ip, order_amount_fen, state, consumed, updated_seq
    FROM instances WHERE updated_seq <= current_setting('snledger.as_of_seq', true)::bigint
    UNION ALL
    SELECT instance_id, service_type, account, region, billing, subscription_months, expires_at, public_ip, order_amount_fen, state, consumed, updated_seq
    FROM instances_past WHERE updated_seq <= current_setting('snledger.as_of_seq', true)::bigint
        AND superseded_seq > current_setting('snledger.as_of_seq', true)::bigint;
CREATE VIEW snledger_past.numbers AS
    SELECT number, instance_id, owner, holder, status, service, icp_number, origin, issued_seq, updated_seq
    FROM numbers WHERE updated_seq <= current_setting('snledger.as_of_seq', true)::bigint
    UNION ALL
    SELECT number, instance_id, owner, holder, status, service, icp_number, origin, issued_seq, updated_seq
    FROM numbers_past WHERE updated_seq <= current_setting('snledger.as_of_seq', true)::bigint
        AND superseded_seq > current_setting('snledger.as_of_seq', true)::bigint;
CREATE VIEW snledger_past.services AS
    SELECT service, number, host, commercial, ip_update_required, service_key, updated_seq
    FROM services WHERE updated_seq <= current_setting('snledger.as_of_seq', true)::bigint
    UNION ALL
    SELECT service, number, host, commercial, ip_update_required, service_key, updated_seq
    FROM services_past WHERE updated_seq <= current_setting('snledger.as_of_seq', true)::bigint
        AND superseded_seq > current_setting('snledger.as_of_seq', true)::bigint;
CREATE VIEW snledger_past.regions AS
    SELECT region_id, mainland, updated_seq
    FROM regions WHERE updated_seq <= current_setting('snledger.as_of_seq', true)::bigint
    UNION ALL
    SELECT region_id, mainland, updated_seq
    FROM regions_past WHERE updated_seq <= current_setting('snledger.as_of_seq', true)::bigint
        AND superseded_seq > current_setting('snledger.as_of_seq', true)::bigint;
CREATE VIEW snledger_past.requests AS
    SELECT request_id, instance_id, account, count, asked, numbers, seq
    FROM requests WHERE seq <= current_setting('snledger.as_of_seq', true)::bigint;
CREATE VIEW snledger_past.event_subjects AS
    SELECT subject, seq
    FROM event_subjects WHERE seq <= current_setting('snledger.as_of_seq', true)::bigint;
