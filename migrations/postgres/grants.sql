-- The roles of SPEC §4, granted after every migration by `snledger init`
-- (the roles themselves are created by the program when absent). An
-- operator is a login role made a member of one of them.
REVOKE ALL ON snledger_schema, events, chain_head, event_subjects, policy, instances,
    numbers, services, requests, regions FROM PUBLIC, snledger_writer, snledger_reader;
GRANT SELECT ON snledger_schema, events, chain_head, event_subjects, policy, instances,
    numbers, services, requests, regions TO snledger_reader, snledger_writer;
-- Writers append to the log and its index, move the chain head, and write
-- the derived tables; never UPDATE, DELETE or TRUNCATE on events.
GRANT INSERT ON events, event_subjects TO snledger_writer;
GRANT UPDATE ON chain_head TO snledger_writer;
GRANT INSERT, UPDATE, DELETE ON policy, instances, numbers, services, requests, regions
    TO snledger_writer;
