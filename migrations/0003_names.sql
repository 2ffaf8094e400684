-- snledger schema: names, one thing, one spelling (README "Names: one thing,
-- one spelling"). Instance ids and numbers are looked up whatever their
-- ASCII case (NOCASE folds ASCII only, the same in every SQLite build);
-- a service by its key, the NFKC case-folded form of its canonical name,
-- which the program computes and fills in for the rows a ledger already
-- has. The indexes do not enforce uniqueness: an older ledger may hold two
-- spellings of one thing, and must still open so that `verify` can name the
-- event the rules now refuse.
ALTER TABLE services ADD COLUMN service_key TEXT NOT NULL DEFAULT '';
CREATE INDEX IF NOT EXISTS services_by_key ON services(service_key);
CREATE INDEX IF NOT EXISTS instances_by_folded_id ON instances(instance_id COLLATE NOCASE);
CREATE INDEX IF NOT EXISTS numbers_by_folded_number ON numbers(number COLLATE NOCASE);
-- One ICP number belongs to at most one live number: approve looks it up.
CREATE INDEX IF NOT EXISTS numbers_by_icp_number ON numbers(icp_number) WHERE icp_number IS NOT NULL;
