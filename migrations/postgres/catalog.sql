-- What `verify` compares: every table (its columns and constraints), index,
-- trigger and function in the ledger's schema (the one holding `events`),
-- and every object of the schema of past views (`snledger_past`, migration
-- 5), one row each: kind, name, definition (on one line). The program compares the answer
-- with migrations/postgres/catalog.txt, this query's answer on a database
-- that `snledger init` made (regenerate it with tests/pg.sh catalog).
-- Also what the program never creates, so that any of it is a difference
-- (SPEC §4 "The catalog check is complete"): a trigger fired other than
-- normally (disabled, replica or always), a rule, row-level security, a
-- policy, and a table owned by another role than the log's.
WITH home AS (
    SELECT c.relnamespace AS ns, quote_ident(n.nspname) || '.' AS prefix
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.oid = to_regclass('events')
)
SELECT 'table' AS kind, c.relname::text AS name,
       (SELECT string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
                || CASE WHEN co.collname IS NOT NULL AND co.collname <> 'default' THEN ' collate ' || co.collname ELSE '' END
                || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
                || coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), ''), ', ' ORDER BY a.attnum)
        FROM pg_attribute a
        LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        LEFT JOIN pg_collation co ON co.oid = a.attcollation
        WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped)
       || coalesce('; ' || (SELECT string_agg(pg_get_constraintdef(k.oid), '; ' ORDER BY pg_get_constraintdef(k.oid))
                            FROM pg_constraint k WHERE k.conrelid = c.oid), '')
       || CASE WHEN c.relrowsecurity THEN '; row level security' ELSE '' END
       || CASE WHEN c.relforcerowsecurity THEN ' (forced)' ELSE '' END
       || CASE WHEN c.relowner <> (SELECT relowner FROM pg_class WHERE oid = to_regclass('events'))
               THEN '; owned by ' || pg_get_userbyid(c.relowner) ELSE '' END AS definition
FROM pg_class c, home WHERE c.relnamespace = home.ns AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
UNION ALL
SELECT 'index', c.relname::text, replace(pg_get_indexdef(c.oid), home.prefix, '')
FROM pg_class c, home WHERE c.relnamespace = home.ns AND c.relkind IN ('i', 'I')
UNION ALL
SELECT 'trigger', t.tgname || ' on ' || c.relname,
       replace(pg_get_triggerdef(t.oid), home.prefix, '')
       || CASE t.tgenabled WHEN 'O' THEN '' WHEN 'D' THEN ' (disabled)'
                           WHEN 'R' THEN ' (enabled replica only)' WHEN 'A' THEN ' (enabled always)'
                           ELSE ' (enabled ' || t.tgenabled::text || ')' END
FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid, home
WHERE c.relnamespace = home.ns AND NOT t.tgisinternal
UNION ALL
SELECT 'rule', r.rulename || ' on ' || c.relname, replace(pg_get_ruledef(r.oid), home.prefix, '')
FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class, home
WHERE c.relnamespace = home.ns AND r.rulename <> '_RETURN'
UNION ALL
SELECT 'policy', p.polname || ' on ' || c.relname, coalesce(pg_get_expr(p.polqual, p.polrelid), '')
FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid, home
WHERE c.relnamespace = home.ns
UNION ALL
SELECT 'function', p.proname::text, md5(p.prosrc)
FROM pg_proc p, home WHERE p.pronamespace = home.ns
UNION ALL
SELECT CASE WHEN c.relkind = 'v' THEN 'view' ELSE 'relation ' || c.relkind::text END,
       'snledger_past.' || c.relname,
       CASE WHEN c.relkind = 'v'
            THEN regexp_replace(replace(pg_get_viewdef(c.oid, true), home.prefix, ''), '\s+', ' ', 'g')
            ELSE '' END
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace, home
WHERE n.nspname = 'snledger_past'
UNION ALL
SELECT 'trigger', t.tgname || ' on snledger_past.' || c.relname, pg_get_triggerdef(t.oid)
FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'snledger_past'
UNION ALL
SELECT 'rule', r.rulename || ' on snledger_past.' || c.relname, ''
FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'snledger_past' AND r.rulename <> '_RETURN'
UNION ALL
SELECT 'function', 'snledger_past.' || p.proname, md5(p.prosrc)
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = 'snledger_past'
ORDER BY 1, 2
