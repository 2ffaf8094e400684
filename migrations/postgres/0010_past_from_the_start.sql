-- Migration 10: past versions from the first event (ARCHITECTURE.md
-- "--as-of: how a past state is answered"). A ledger that reached version 5
-- with history kept past versions only after its last seq then (the seq in
-- past_kept_since), and `--as-of` an earlier moment replayed the whole log.
-- Before this runs, `snledger init` replays those events once and adds the
-- past versions they made (store/shared.rs `past_versions_up_to`); from here
-- every ledger holds every version, `--as-of` always reads them, and the
-- marker goes (with its owner-only trigger).
DROP TABLE past_kept_since;
DROP FUNCTION snledger_owner_only();
