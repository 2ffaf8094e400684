//! The storage checks of `verify` on PostgreSQL: the schema in the
//! server's catalog against the one `snledger init` makes (a pinned answer
//! of `migrations/postgres/catalog.sql`), and the indexes' and chain
//! head's state.

use super::Postgres;
use crate::error::Result;
use crate::store::shared::SchemaObjects as Objects;

const CATALOG_QUERY: &str = include_str!("../../../migrations/postgres/catalog.sql");
/// `catalog.sql`'s answer on a database `init` made: `kind|name|definition`.
const CATALOG_EXPECTED: &str = include_str!("../../../migrations/postgres/catalog.txt");

fn expected() -> Objects {
    CATALOG_EXPECTED
        .lines()
        .filter(|line| !line.trim().is_empty())
        .filter_map(|line| {
            let mut parts = line.splitn(3, '|');
            let kind = parts.next()?.to_string();
            let name = parts.next()?.to_string();
            Some(((kind, name), parts.next().unwrap_or("").to_string()))
        })
        .collect()
}

impl Postgres {
    fn stored_objects(&self) -> Result<Objects> {
        let rows = self.query(CATALOG_QUERY, &[])?;
        Ok(rows
            .iter()
            .map(|row| {
                let kind: String = row.get(0);
                let name: String = row.get(1);
                let definition: Option<String> = row.get(2);
                ((kind, name), definition.unwrap_or_default())
            })
            .collect())
    }

    /// Every table, index, trigger and function missing, altered or extra.
    pub(super) fn catalog_problems(&self) -> Result<Vec<String>> {
        let stored = self.stored_objects()?;
        Ok(crate::store::shared::schema_problems(&stored, &expected()))
    }

    /// Indexes that are not valid and ready, and a chain head that is not
    /// the log's last event.
    pub(super) fn index_problems(&self) -> Result<Vec<String>> {
        let mut problems = Vec::new();
        let rows = self.query(
            "SELECT c.relname::text FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
             WHERE c.relnamespace = (SELECT relnamespace FROM pg_class WHERE oid = to_regclass('events'))
               AND NOT (i.indisvalid AND i.indisready) ORDER BY 1",
            &[],
        )?;
        for row in rows {
            problems.push(format!(
                "the index {} is not valid (rebuild it with REINDEX)",
                row.get::<_, String>(0)
            ));
        }
        let head = self.query_opt(
            "SELECT h.seq, coalesce((SELECT max(seq) FROM events), 0) FROM chain_head h WHERE h.id = 1",
            &[],
        )?;
        match head.map(|row| (row.get::<_, i64>(0), row.get::<_, i64>(1))) {
            None => problems.push("the chain head row is missing".to_string()),
            Some((head, last)) if head != last => problems.push(format!(
                "the chain head says seq {head} but the log's last event is {last}"
            )),
            Some(_) => {}
        }
        Ok(problems)
    }
}
