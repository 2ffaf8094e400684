-- Migration 3 (PostgreSQL): names, one thing, one spelling. Instance ids and
-- numbers are looked up whatever their ASCII case: lower() under COLLATE "C"
-- folds ASCII only, as SQLite's NOCASE does; a service by its key, which the
-- program computes.
ALTER TABLE services ADD COLUMN service_key TEXT COLLATE "C" NOT NULL DEFAULT '';
CREATE INDEX services_by_key ON services (service_key);
CREATE INDEX instances_by_folded_id ON instances (lower(instance_id));
CREATE INDEX numbers_by_folded_number ON numbers (lower(number));
CREATE INDEX numbers_by_icp_number ON numbers (icp_number) WHERE icp_number IS NOT NULL;
