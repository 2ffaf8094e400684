-- The roles of SPEC §4, granted after every migration by `snledger init`
-- (the roles themselves are created by the program when absent). An
-- operator is a login role made a member of one of them.
REVOKE ALL ON snledger_schema, events, chain_head, event_subjects, policy, instances,
    numbers, services, requests, regions, policy_past, instances_past, numbers_past,
    services_past, regions_past FROM PUBLIC, snledger_writer, snledger_reader;
GRANT SELECT ON snledger_schema, events, chain_head, event_subjects, policy, instances,
    numbers, services, requests, regions, policy_past, instances_past, numbers_past,
    services_past, regions_past TO snledger_reader, snledger_writer;
-- Writers append to the log and its index, move the chain head, write the
-- derived tables, and add past versions; never UPDATE, DELETE or TRUNCATE
-- on events, nor on the past versions (they are only ever added).
GRANT INSERT ON events, event_subjects TO snledger_writer;
GRANT UPDATE ON chain_head TO snledger_writer;
GRANT INSERT, UPDATE, DELETE ON policy, instances, numbers, services, requests, regions
    TO snledger_writer;
GRANT INSERT ON policy_past, instances_past, numbers_past, services_past, regions_past
    TO snledger_writer;
-- The views of a past moment (migration 5) read as their owner.
REVOKE ALL ON SCHEMA snledger_past FROM PUBLIC;
GRANT USAGE ON SCHEMA snledger_past TO snledger_reader, snledger_writer;
REVOKE ALL ON ALL TABLES IN SCHEMA snledger_past FROM PUBLIC;
GRANT SELECT ON ALL TABLES IN SCHEMA snledger_past TO snledger_reader, snledger_writer;
