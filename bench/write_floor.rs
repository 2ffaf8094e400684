//! The *writer floor* of `snledger import instances` (bench/run.sh step 1c).
//!
//!     cargo run --profile profiling --example write_floor -- FINISHED.db EMPTY.db
//!
//! Reads the rows a finished import wrote (events, event_subjects, instances)
//! into memory, then times only writing them into EMPTY.db (made by the bench
//! from schema.sql and the migrations, with the ledger's page size and WAL)
//! the way a program that binds rows must: one transaction, one prepared
//! `INSERT` per table held for the whole run, one row per execution, rows in
//! key order, with the pragmas snledger sets on its connections, closing
//! (and so checkpointing) inside the clock. No CSV, rules, JSON or hashing:
//! what is left is the cost of the SQLite API per row, which the `sqlite3`
//! shell's `INSERT ... SELECT` (the storage floor, step 1b) never pays.
//! Prints the seconds taken on stdout.

use rusqlite::types::Value;
use rusqlite::{params_from_iter, Connection, OpenFlags};
use std::time::Instant;

/// The tables an import of instances writes, each in its key order.
const TABLES: [(&str, &str); 3] = [
    ("events", "seq"),
    ("event_subjects", "subject, seq"),
    ("instances", "instance_id"),
];
/// The same pragmas snledger sets on every connection.
use snledger::schema::CONNECTION_PRAGMAS as PRAGMAS;
/// A limit on what is read into memory (the bench's 1M ledger is 3M rows).
const MAX_ROWS: usize = 50_000_000;

type Rows = Vec<Vec<Value>>;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 3 {
        eprintln!("usage: write_floor FINISHED.db EMPTY.db");
        std::process::exit(2);
    }
    match run(&args[1], &args[2]) {
        Ok(seconds) => println!("{seconds:.6}"),
        Err(error) => {
            eprintln!("write_floor: {error}");
            std::process::exit(1);
        }
    }
}

fn run(source: &str, target: &str) -> rusqlite::Result<f64> {
    let source = Connection::open_with_flags(source, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let mut tables = Vec::new();
    for (table, order) in TABLES {
        tables.push((table, read(&source, table, order)?));
    }
    drop(source);
    let started = Instant::now();
    write(target, &tables)?;
    Ok(started.elapsed().as_secs_f64())
}

fn read(source: &Connection, table: &str, order: &str) -> rusqlite::Result<Rows> {
    let mut statement = source.prepare(&format!("SELECT * FROM {table} ORDER BY {order}"))?;
    let width = statement.column_count();
    let mut rows = Vec::new();
    let mut cursor = statement.query([])?;
    while let Some(row) = cursor.next()? {
        assert!(
            rows.len() < MAX_ROWS,
            "{table} has more than {MAX_ROWS} rows"
        );
        rows.push(
            (0..width)
                .map(|i| row.get(i))
                .collect::<rusqlite::Result<_>>()?,
        );
    }
    Ok(rows)
}

fn write(target: &str, tables: &[(&str, Rows)]) -> rusqlite::Result<()> {
    let mut conn = Connection::open(target)?;
    conn.execute_batch(PRAGMAS)?;
    let transaction = conn.transaction()?;
    for (table, rows) in tables {
        let Some(width) = rows.first().map(Vec::len) else {
            continue;
        };
        let marks = vec!["?"; width].join(", ");
        let mut insert = transaction.prepare(&format!("INSERT INTO {table} VALUES ({marks})"))?;
        for row in rows {
            insert.execute(params_from_iter(row))?;
        }
    }
    transaction.commit()?;
    conn.close().map_err(|(_, error)| error)
}
