-- Migration 6: the past views of migration 5, reshaped so PostgreSQL can
-- plan them as it plans the live tables. A branch of a UNION ALL that has
-- its own WHERE is planned alone (it is not pulled up into the query), so
-- a keyset page `WHERE key > $1 ORDER BY key LIMIT n` over the old views
-- sorted the whole table for every page: `export instances --as-of` took
-- 22x the live read on 1M instances. Here the branches are bare and the
-- condition stands outside them, on the union; the planner then pushes it
-- into each branch and merges the two tables' key indexes in order. A
-- live row is superseded by no seq: the largest bigint stands for that, so
-- the live branch's test is decided once per query and the past branch's
-- is a condition on its primary key (key, superseded_seq). Same columns,
-- same answers; CREATE OR REPLACE keeps the views' privileges.

CREATE OR REPLACE VIEW snledger_past.policy AS
    SELECT service_type, max_numbers, min_subscription_months, min_order_amount_fen, requires_public_ip, updated_seq
    FROM (SELECT service_type, max_numbers, min_subscription_months, min_order_amount_fen, requires_public_ip, updated_seq, 9223372036854775807::bigint AS superseded_seq FROM policy
          UNION ALL
          SELECT service_type, max_numbers, min_subscription_months, min_order_amount_fen, requires_public_ip, updated_seq, superseded_seq FROM policy_past) AS versions
    WHERE updated_seq <= current_setting('snledger.as_of_seq', true)::bigint
        AND superseded_seq > current_setting('snledger.as_of_seq', true)::bigint;
CREATE OR REPLACE VIEW snledger_past.instances AS
    SELECT instance_id, service_type, account, region, billing, subscription_months, expires_at, public_ip, order_amount_fen, state, consumed, updated_seq
    FROM (SELECT instance_id, service_type, account, region, billing, subscription_months, expires_at, public_ip, order_amount_fen, state, consumed, updated_seq, 9223372036854775807::bigint AS superseded_seq FROM instances
          UNION ALL
          SELECT instance_id, service_type, account, region, billing, subscription_months, expires_at, public_ip, order_amount_fen, state, consumed, updated_seq, superseded_seq FROM instances_past) AS versions
    WHERE updated_seq <= current_setting('snledger.as_of_seq', true)::bigint
        AND superseded_seq > current_setting('snledger.as_of_seq', true)::bigint;
CREATE OR REPLACE VIEW snledger_past.numbers AS
    SELECT number, instance_id, owner, holder, status, service, icp_number, origin, issued_seq, updated_seq
    FROM (SELECT number, instance_id, owner, holder, status, service, icp_number, origin, issued_seq, updated_seq, 9223372036854775807::bigint AS superseded_seq FROM numbers
          UNION ALL
          SELECT number, instance_id, owner, holder, status, service, icp_number, origin, issued_seq, updated_seq, superseded_seq FROM numbers_past) AS versions
    WHERE updated_seq <= current_setting('snledger.as_of_seq', true)::bigint
        AND superseded_seq > current_setting('snledger.as_of_seq', true)::bigint;
CREATE OR REPLACE VIEW snledger_past.services AS
    SELECT service, number, host, commercial, ip_update_required, service_key, updated_seq
    FROM (SELECT service, number, host, commercial, ip_update_required, service_key, updated_seq, 9223372036854775807::bigint AS superseded_seq FROM services
          UNION ALL
          SELECT service, number, host, commercial, ip_update_required, service_key, updated_seq, superseded_seq FROM services_past) AS versions
    WHERE updated_seq <= current_setting('snledger.as_of_seq', true)::bigint
        AND superseded_seq > current_setting('snledger.as_of_seq', true)::bigint;
CREATE OR REPLACE VIEW snledger_past.regions AS
    SELECT region_id, mainland, updated_seq
    FROM (SELECT region_id, mainland, updated_seq, 9223372036854775807::bigint AS superseded_seq FROM regions
          UNION ALL
          SELECT region_id, mainland, updated_seq, superseded_seq FROM regions_past) AS versions
    WHERE updated_seq <= current_setting('snledger.as_of_seq', true)::bigint
        AND superseded_seq > current_setting('snledger.as_of_seq', true)::bigint;
