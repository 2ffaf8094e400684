-- Migration 8 (SPEC §4 "The database enforces what it can": `import
-- history` only by the ledger's owner into an empty ledger). Migration 7
-- let any role write other roles' events, dated anywhere, while a
-- transaction filled an empty ledger; a writer could so give a new ledger
-- a history in a colleague's name. Now only the role that owns the ledger
-- (its members, superusers) is exempt from "actor = session_user" and "not
-- more than 5 minutes after the server's clock", empty ledger or not: a
-- writer's `import history` passes only a log of its own events dated up
-- to now. The chain rules (seq, prev_hash, time not before the head's, a
-- clock repair excepted) bind everyone, the owner included.
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
        RAISE EXCEPTION 'snledger: event % names actor %, but the session is % (only the ledger''s owner writes other roles'' events, by import history)', NEW.seq, NEW.actor, session_user
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NOT trusted AND NEW.at > to_char((now() + interval '5 minutes') AT TIME ZONE 'UTC',
                                        'YYYY-MM-DD"T"HH24:MI:SS"Z"') THEN
        RAISE EXCEPTION 'snledger: event % is dated %, more than 5 minutes after the server''s clock', NEW.seq, NEW.at
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END $$;
