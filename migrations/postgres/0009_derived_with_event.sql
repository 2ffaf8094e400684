-- Migration 9 (SPEC §4 "The database enforces what it can"): a derived row
-- changes only in a transaction that appended the event it derives from,
-- with that event's seq. psql in a writer's hands can no longer `UPDATE
-- instances SET consumed = 0` and then allocate past the quota: a row
-- written must carry (in its seq column, the trigger's argument) the seq of
-- an event this transaction inserted, and a row is removed only by a
-- transaction that appended an event. The owner is exempt (migrations
-- backfill and re-key rows; it could switch triggers off anyway). Whether
-- the row is what the event derives is `verify`'s to decide: it replays the
-- log and compares every table.
--
-- Statement-level triggers with transition tables: one query per statement
-- whatever its row count (an import's COPY of many rows stays one check).
CREATE OR REPLACE FUNCTION snledger_trusted(relation OID) RETURNS BOOLEAN
LANGUAGE sql STABLE AS $$
    SELECT pg_has_role(session_user, (SELECT relowner FROM pg_class WHERE oid = relation), 'USAGE')
$$;

-- Did this transaction insert the event `seq`?
CREATE OR REPLACE FUNCTION snledger_event_of_this_transaction(event_seq BIGINT) RETURNS BOOLEAN
LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM events
                   WHERE seq = event_seq AND xmin::text::bigint = txid_current() % 4294967296)
$$;

CREATE OR REPLACE FUNCTION snledger_check_derived_rows() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    stray BIGINT;
BEGIN
    IF snledger_trusted(TG_RELID) THEN
        RETURN NULL;
    END IF;
    EXECUTE format('SELECT n.%I FROM new_rows n WHERE NOT snledger_event_of_this_transaction(n.%I) LIMIT 1',
                   TG_ARGV[0], TG_ARGV[0])
        INTO stray;
    -- (EXECUTE leaves FOUND alone; the seq columns are NOT NULL.)
    IF stray IS NOT NULL THEN
        RAISE EXCEPTION 'snledger: % on % names seq %, which is not an event this transaction appended (a derived row changes only with the event it derives from)', TG_OP, TG_TABLE_NAME, stray
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION snledger_check_derived_removal() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF snledger_trusted(TG_RELID) THEN
        RETURN NULL;
    END IF;
    IF NOT snledger_event_of_this_transaction((SELECT max(seq) FROM events)) THEN
        RAISE EXCEPTION 'snledger: % on % in a transaction that appended no event (a derived row changes only with the event it derives from)', TG_OP, TG_TABLE_NAME
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NULL;
END $$;

-- One set of triggers per derived table and the column naming its event:
-- rows written are checked for their seq, removals for an event at all.
DO $$
DECLARE
    target RECORD;
    fired RECORD;
BEGIN
    FOR target IN SELECT * FROM (VALUES
        ('policy', 'updated_seq'), ('instances', 'updated_seq'), ('numbers', 'updated_seq'),
        ('services', 'updated_seq'), ('regions', 'updated_seq'), ('requests', 'seq'),
        ('event_subjects', 'seq'),
        ('policy_past', 'superseded_seq'), ('instances_past', 'superseded_seq'),
        ('numbers_past', 'superseded_seq'), ('services_past', 'superseded_seq'),
        ('regions_past', 'superseded_seq')) AS t(name, seq_column)
    LOOP
        FOR fired IN SELECT * FROM (VALUES
            ('inserted', 'AFTER INSERT', 'REFERENCING NEW TABLE AS new_rows', 'snledger_check_derived_rows(%L)'),
            ('updated', 'AFTER UPDATE', 'REFERENCING NEW TABLE AS new_rows', 'snledger_check_derived_rows(%L)'),
            ('deleted', 'AFTER DELETE', '', 'snledger_check_derived_removal()'),
            ('truncated', 'BEFORE TRUNCATE', '', 'snledger_check_derived_removal()'))
            AS f(verb, timing, transition, call)
        LOOP
            -- (Re-runnable: a test takes a ledger back to an older schema.)
            EXECUTE format('DROP TRIGGER IF EXISTS %I ON %I',
                           target.name || '_' || fired.verb || '_with_event', target.name);
            EXECUTE format('CREATE TRIGGER %I ' || fired.timing || ' ON %I ' || fired.transition
                           || ' FOR EACH STATEMENT EXECUTE FUNCTION ' || fired.call,
                           target.name || '_' || fired.verb || '_with_event', target.name,
                           target.seq_column);
        END LOOP;
    END LOOP;
END $$;

-- past_kept_since moves only with migrations (the owner's).
CREATE OR REPLACE FUNCTION snledger_owner_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT snledger_trusted(TG_RELID) THEN
        RAISE EXCEPTION 'snledger: only the ledger''s owner changes %', TG_TABLE_NAME
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS past_kept_since_owner_only ON past_kept_since;
CREATE TRIGGER past_kept_since_owner_only BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON past_kept_since FOR EACH STATEMENT EXECUTE FUNCTION snledger_owner_only();
