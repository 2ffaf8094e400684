-- Migration 7 (SPEC §4 "The database enforces what it can"): psql in a
-- writer's hands can no longer do what snledger refuses. Every event
-- inserted must extend the chain: seq the head's + 1, prev_hash the head's
-- hash, a time not before the head's (a clock repair excepted: it is dated
-- by a correct clock, README "Time"). An event written by a role that does
-- not own the ledger must name that role as its actor and may not be dated
-- more than 5 minutes after the server's clock, unless the transaction
-- fills an empty ledger (`import history`: whole logs, repaired ones
-- included; an empty ledger has nothing to protect); the owner is trusted
-- with both (it could switch triggers off anyway). The chain head moves
-- only to the log's last event.
CREATE OR REPLACE FUNCTION snledger_check_event() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    head_seq BIGINT := 0;
    head_hash TEXT := repeat('0', 64);
    head_at TEXT := '';
    trusted BOOLEAN := pg_has_role(session_user,
        (SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'USAGE');
BEGIN
    SELECT seq, hash, at INTO head_seq, head_hash, head_at
    FROM events ORDER BY seq DESC LIMIT 1;
    IF NOT FOUND THEN
        head_seq := 0; head_hash := repeat('0', 64); head_at := '';
    END IF;
    -- Filling an empty ledger: this transaction wrote its first event.
    trusted := trusted OR head_seq = 0 OR EXISTS (
        SELECT 1 FROM events
        WHERE seq = 1 AND xmin::text::bigint = txid_current() % 4294967296);
    IF NEW.seq <> head_seq + 1 THEN
        RAISE EXCEPTION 'snledger: event % does not follow the head %', NEW.seq, head_seq
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF NEW.prev_hash <> head_hash THEN
        RAISE EXCEPTION 'snledger: event % does not link to the hash of event %', NEW.seq, head_seq
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF NEW.kind <> 'clock_repaired' AND NEW.at < head_at THEN
        RAISE EXCEPTION 'snledger: event % is dated % , before event % (%)', NEW.seq, NEW.at, head_seq, head_at
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF NOT trusted AND NEW.actor <> session_user THEN
        RAISE EXCEPTION 'snledger: event % names actor %, but the session is %', NEW.seq, NEW.actor, session_user
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NOT trusted AND NEW.at > to_char((now() + interval '5 minutes') AT TIME ZONE 'UTC',
                                        'YYYY-MM-DD"T"HH24:MI:SS"Z"') THEN
        RAISE EXCEPTION 'snledger: event % is dated %, more than 5 minutes after the server''s clock', NEW.seq, NEW.at
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END $$;
DROP TRIGGER IF EXISTS events_extend_chain ON events;
CREATE TRIGGER events_extend_chain BEFORE INSERT ON events
    FOR EACH ROW EXECUTE FUNCTION snledger_check_event();

CREATE OR REPLACE FUNCTION snledger_check_head() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.id <> 1
       OR EXISTS (SELECT 1 FROM events WHERE seq > NEW.seq)
       OR (NEW.seq > 0 AND NOT EXISTS (SELECT 1 FROM events
                                       WHERE seq = NEW.seq AND hash = NEW.hash AND at = NEW.at)) THEN
        RAISE EXCEPTION 'snledger: the chain head may only name the last event of the log'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END $$;
DROP TRIGGER IF EXISTS chain_head_is_the_last_event ON chain_head;
CREATE TRIGGER chain_head_is_the_last_event BEFORE UPDATE ON chain_head
    FOR EACH ROW EXECUTE FUNCTION snledger_check_head();
