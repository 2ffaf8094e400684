#!/usr/bin/env bash
# snledger on PostgreSQL against psql doing the bare storage work on the same
# server (SPEC §6, issue 15). Run as `bash bench/run.sh --pg [--smoke]`.
#
#   1. `snledger import instances` of the big CSV vs `psql \copy` of it into
#      a one-table database (same 9 columns, instance_id PRIMARY KEY);
#      alternated, fresh databases each round; then the storage floor:
#      psql COPYing the rows that import wrote (events, their index rows,
#      instances), read from the finished ledger, into a database made from
#      schema.postgres.sql and its migrations, in one transaction (reported
#      beside the goal, as SPEC §6 has it for SQLite).
#   2. single `snledger allocate ID --count 1` on the big ledger vs single
#      `psql` BEGIN; INSERT; COMMIT transactions on the same server.
#   3. 16 processes x 30 allocations racing for 50 slots: exactly 50.
#   4. `snledger verify` and `export history -o FILE` vs
#      `psql \copy (SELECT * FROM events ORDER BY seq) TO FILE CSV`.
#   5. `--as-of` on the big ledger (read from the past views, migration 5):
#      `instance show`, `instance list --account`, `report quota`, `export
#      instances`, each with `--as-of` vs the same without, alternated (the
#      goals SPEC §6 sets for SQLite, 2x).
# Ratios are medians of per-round ratios. The server is $SNLEDGER_TEST_PG (a
# superuser URL) when set, else one started with tests/pg.sh and stopped at
# the end. --smoke: 10,000 instances; exits 0 unless a step crashed or the
# race was not exact.
set -euo pipefail
export PGOPTIONS="-c client_min_messages=warning"
MODE=full
[[ ${1:-} == --smoke ]] && MODE=smoke
if [[ $MODE == smoke ]]; then
    BIG=10000 IMPORT_ROUNDS=2 ALLOC_REPS=5 READ_ROUNDS=2
else
    BIG=1000000 IMPORT_ROUNDS=3 ALLOC_REPS=15 READ_ROUNDS=3
fi
NOW=2026-11-23T00:00:00Z
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }

W=$(mktemp -d "${TMPDIR:-/tmp}/snledger-pgbench.XXXXXX")
chmod 755 "$W"
STARTED=
cleanup() {
    rm -rf "$W"
    if [[ -n $STARTED ]]; then bash "$ROOT/tests/pg.sh" stop || true; fi
}
trap cleanup EXIT
if [[ -z ${SNLEDGER_TEST_PG:-} ]]; then
    say "starting a throw-away PostgreSQL (tests/pg.sh)"
    STARTED=1
    SNLEDGER_TEST_PG=$(bash "$ROOT/tests/pg.sh" start)
fi
BASE=$SNLEDGER_TEST_PG
command -v psql >/dev/null || die "psql is required (apt-get install -y postgresql-client)"
# The URL of database $1 (the superuser URL names `postgres`).
url() { echo "${BASE/\/postgres\?//$1?}"; }
sql() { psql -X -q -v ON_ERROR_STOP=1 "$(url postgres)" -c "$1" >/dev/null; }

say "cargo build --profile profiling"
(cd "$ROOT" && cargo build --profile profiling --quiet)
SN=$W/snledger
cp "${CARGO_TARGET_DIR:-$ROOT/target}/profiling/snledger" "$SN"
REV=$(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo unknown)
SAMPLES=$W/samples.txt
: >"$SAMPLES"
# timeit as bench/run.sh has it: wall-clock seconds of one command.
cat >"$W/timeit.py" <<'PY'
import subprocess, sys, time
args = sys.argv[1:]
start = time.perf_counter()
done = subprocess.run(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
elapsed = time.perf_counter() - start
if done.returncode != 0:
    sys.stderr.write(done.stderr.decode("utf-8", "replace"))
    sys.exit(f"timeit: exit {done.returncode}: {' '.join(args)}")
print(f"{elapsed:.6f}")
PY
timeit() { python3 "$W/timeit.py" "$@"; }
record() { echo "$1 $2" >>"$SAMPLES"; }

say "generating $BIG instances"
python3 "$ROOT/bench/gen.py" "$BIG" -o "$W/big.csv" --pick "$ALLOC_REPS" --pick-out "$W/big.ids"
chmod 644 "$W/big.csv"

fresh_ledger() {
    sql "DROP DATABASE IF EXISTS $1 WITH (FORCE)"
    sql "CREATE DATABASE $1"
    "$SN" --db "$(url "$1")" init >/dev/null
}

# ---------------------------------------------------------- 1. import ---
for ((r = 1; r <= IMPORT_ROUNDS; r++)); do
    say "import round $r/$IMPORT_ROUNDS: snledger"
    fresh_ledger bench_ledger
    t=$(timeit "$SN" --db "$(url bench_ledger)" --now "$NOW" import instances "$W/big.csv")
    record import.snledger "$t"
    say "import round $r/$IMPORT_ROUNDS: psql \\copy"
    sql "DROP DATABASE IF EXISTS bench_copy WITH (FORCE)"
    sql "CREATE DATABASE bench_copy"
    psql -X -q "$(url bench_copy)" -c "CREATE TABLE inst(instance_id TEXT PRIMARY KEY, service_type TEXT, account TEXT, region TEXT,
        billing TEXT, subscription_months INTEGER, expires_at TEXT, public_ip TEXT, order_amount TEXT)"
    t=$(timeit psql -X -q "$(url bench_copy)" -c "\\copy inst FROM '$W/big.csv' CSV HEADER")
    record import.psql "$t"
done
sql "DROP DATABASE IF EXISTS bench_copy WITH (FORCE)"
events=$(psql -X -At "$(url bench_ledger)" -c "SELECT count(*) FROM events")
[[ $events == "$BIG" ]] || die "the ledger has $events events, expected $BIG"

# The storage floor, as for SQLite: psql COPYing the rows the import wrote
# (read from the finished ledger) into a database made from the schema
# files alone (same tables, indexes and triggers), in one transaction.
for table in events event_subjects instances; do
    psql -X -q "$(url bench_ledger)" -c "\\copy $table TO '$W/$table.floor'"
done
for ((r = 1; r <= IMPORT_ROUNDS; r++)); do
    say "import round $r/$IMPORT_ROUNDS: storage floor"
    sql "DROP DATABASE IF EXISTS bench_floor WITH (FORCE)"
    sql "CREATE DATABASE bench_floor"
    for schema in "$ROOT/schema.postgres.sql" "$ROOT"/migrations/postgres/0*.sql; do
        psql -X -q -v ON_ERROR_STOP=1 "$(url bench_floor)" -f "$schema" >/dev/null
    done
    cat >"$W/floor.sql" <<SQL
BEGIN;
\\copy events FROM '$W/events.floor'
\\copy event_subjects FROM '$W/event_subjects.floor'
\\copy instances FROM '$W/instances.floor'
UPDATE chain_head SET (seq, hash, at) = (SELECT seq, hash, at FROM events ORDER BY seq DESC LIMIT 1);
COMMIT;
SQL
    t=$(timeit psql -X -q -v ON_ERROR_STOP=1 "$(url bench_floor)" -f "$W/floor.sql")
    record import.floor "$t"
done
sql "DROP DATABASE IF EXISTS bench_floor WITH (FORCE)"
rm -f "$W"/*.floor

# -------------------------------------------------------- 2. allocate ---
psql -X -q "$(url bench_ledger)" -c "CREATE TABLE bench_scratch(k TEXT PRIMARY KEY, v TEXT NOT NULL)"
mapfile -t ids <"$W/big.ids"
say "allocate: $ALLOC_REPS x (snledger allocate, psql insert transaction)"
for ((i = 0; i < ALLOC_REPS; i++)); do
    t=$(timeit "$SN" --db "$(url bench_ledger)" --now "$NOW" allocate "${ids[i]}" --count 1)
    record alloc.snledger "$t"
    t=$(timeit psql -X -q "$(url bench_ledger)" -c "BEGIN; INSERT INTO bench_scratch(k, v) VALUES ('k$i', '${ids[i]}'); COMMIT;")
    record alloc.psql "$t"
done
psql -X -q "$(url bench_ledger)" -c "DROP TABLE bench_scratch"

# ------------------------------------------------------------ 3. race ---
say "race: 16 processes x 30 allocations for 50 slots"
fresh_ledger bench_race
RACE=$(url bench_race)
"$SN" --db "$RACE" --now "$NOW" policy set ecs --max 50 >/dev/null
"$SN" --db "$RACE" --now "$NOW" instance add i-race --type ecs --account acme --region cn-hangzhou \
    --billing subscription --months 12 --expires 2027-06-01 --public-ip 47.96.10.21 >/dev/null
start=$(date +%s.%N)
for ((p = 0; p < 16; p++)); do
    (
        for ((k = 0; k < 30; k++)); do
            if "$SN" --db "$RACE" --now "$NOW" allocate i-race --count 1 >/dev/null 2>"$W/race.$p.err"; then
                echo ok
            elif grep -q 'error\[quota_exhausted\]' "$W/race.$p.err"; then
                echo exhausted
            else
                cat "$W/race.$p.err" >&2
                echo other
            fi
        done >"$W/race.$p"
    ) &
done
wait
end=$(date +%s.%N)
won=$(cat "$W"/race.[0-9]* | grep -c '^ok$' || true)
exhausted=$(cat "$W"/race.[0-9]* | grep -c '^exhausted$' || true)
numbers=$(psql -X -At "$RACE" -c "SELECT count(*) FROM numbers")
"$SN" --db "$RACE" verify >/dev/null || die "verify failed after the race"
echo "race.won $won" >>"$SAMPLES"
echo "race.exhausted $exhausted" >>"$SAMPLES"
echo "race.numbers $numbers" >>"$SAMPLES"
echo "race.seconds $(python3 -c "print($end - $start)")" >>"$SAMPLES"
sql "DROP DATABASE IF EXISTS bench_race WITH (FORCE)"

# ------------------------------------------------------------ 5. as-of ---
ASOF_ID=${ids[0]}
ASOF_ACCOUNT=$(psql -X -At "$(url bench_ledger)" -c "SELECT owner FROM numbers WHERE instance_id = '$ASOF_ID' LIMIT 1")
[[ -n $ASOF_ACCOUNT ]] || die "no allocated number on $ASOF_ID"
# asof_pair NAME REPS ARGS...: REPS alternated runs without and with --as-of.
asof_pair() {
    local name=$1 reps=$2
    shift 2
    for ((r = 0; r < reps; r++)); do
        t=$(timeit "$SN" --db "$(url bench_ledger)" "$@")
        record "asof.$name.now" "$t"
        t=$(timeit "$SN" --db "$(url bench_ledger)" "$@" --as-of "$NOW")
        record "asof.$name.past" "$t"
    done
}
say "as-of: show x $ALLOC_REPS, list / report / export x $READ_ROUNDS"
asof_pair instance "$ALLOC_REPS" instance show "$ASOF_ID"
asof_pair list "$READ_ROUNDS" instance list --account "$ASOF_ACCOUNT"
asof_pair report "$READ_ROUNDS" report quota
asof_pair export "$READ_ROUNDS" export instances -o "$W/asof-instances.csv"
rm -f "$W/asof-instances.csv"

# ------------------------------------------------ 4. verify and export ---
say "verify / export history / psql \\copy out: $READ_ROUNDS round(s)"
for ((r = 1; r <= READ_ROUNDS; r++)); do
    rm -f "$W/events.csv" "$W/history.csv"
    t=$(timeit psql -X -q "$(url bench_ledger)" -c "\\copy (SELECT * FROM events ORDER BY seq) TO '$W/events.csv' CSV")
    record read.psql "$t"
    t=$(timeit "$SN" --db "$(url bench_ledger)" verify)
    record read.verify "$t"
    t=$(timeit "$SN" --db "$(url bench_ledger)" export history -o "$W/history.csv")
    record read.export "$t"
done
want=$((BIG + ALLOC_REPS))
got=$(($(wc -l <"$W/history.csv") - 1))
[[ $got == "$want" ]] || die "export history has $got rows, expected $want"
sql "DROP DATABASE IF EXISTS bench_ledger WITH (FORCE)"

# ----------------------------------------------------------- the table ---
set +e
python3 - "$SAMPLES" "$MODE" "$BIG" "$REV" <<'PY'
import os, statistics, sys
path, mode, big, rev = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
s = {}
for line in open(path):
    name, value = line.split()
    s.setdefault(name, []).append(float(value))
ratio = lambda a, b: statistics.median(x / y for x, y in zip(s[a], s[b]))
med = lambda name: statistics.median(s[name])
B = f"{big // 1000000}M" if big % 1000000 == 0 else f"{big // 1000}k"
print()
print(f"snledger {rev} on PostgreSQL, {mode} run, {os.cpu_count()} CPUs")
print("Times (median seconds):")
for name, what in [("import.snledger", "snledger import instances"), ("import.psql", "psql \\copy into one table"),
                   ("import.floor", "psql storage floor"),
                   ("alloc.snledger", f"snledger allocate ({B} ledger)"), ("alloc.psql", "psql insert transaction"),
                   ("read.verify", "snledger verify"), ("read.export", "snledger export history"),
                   ("read.psql", "psql \\copy events out"), ("race.seconds", "16 x 30 race")] + [
                   (f"asof.{n}.{w}", f"{n} {'--as-of' if w == 'past' else 'now'}")
                   for n in ("instance", "list", "report", "export") for w in ("now", "past")]:
    print(f"  {what:<32} {med(name):>10.4f} s   (n={len(s[name])})")
won, numbers = int(s["race.won"][0]), int(s["race.numbers"][0])
rows = [
    (f"import {B} instances / psql \\copy", ratio("import.snledger", "import.psql"), 3.0),
    (f"import {B} instances / storage floor", ratio("import.snledger", "import.floor"), None),
    ("storage floor / psql \\copy", ratio("import.floor", "import.psql"), None),
    (f"allocate on {B} ledger / psql insert txn", ratio("alloc.snledger", "alloc.psql"), 1.5),
    (f"verify ({B} events) / psql \\copy out", ratio("read.verify", "read.psql"), 3.0),
    ("export history / psql \\copy out", ratio("read.export", "read.psql"), 1.5),
] + [(f"{what} --as-of / without", ratio(f"asof.{name}.past", f"asof.{name}.now"), 2.0)
     for name, what in [("instance", "instance show"), ("list", "instance list --account"),
                        ("report", "report quota"), ("export", "export instances")]]
w = max(len(r[0]) for r in rows + [("16 x 30 race for 50 slots: won, numbers", 0, 0)])
print()
print(f"| {'figure':<{w}} | {'measured':>10} | {'goal':>10} | result |")
print("|" + "-" * (w + 2) + "|" + "-" * 12 + "|" + "-" * 12 + "|--------|")
missed = 0
for name, value, goal in rows:
    if goal is None:
        print(f"| {name:<{w}} | {value:>9.2f}x | {'(report)':>10} |        |")
        continue
    ok = value <= goal
    missed += not ok
    print(f"| {name:<{w}} | {value:>9.2f}x | {'<= %gx' % goal:>10} | {'pass' if ok else 'FAIL':<6} |")
exact = won == 50 and numbers == 50 and int(s["race.exhausted"][0]) == 16 * 30 - 50
print(f"| {'16 x 30 race for 50 slots: won, numbers':<{w}} | {f'{won}, {numbers}':>10} | {'50, 50':>10} | {'pass' if exact else 'FAIL':<6} |")
print()
if not exact:
    print("the race was not exact")
    sys.exit(1)
if mode == "smoke":
    print(f"smoke run ({B} instances): every step ran and the race was exact; ratios at this size are not meaningful, exit 0")
    sys.exit(0)
missed += not exact
print(f"{missed} goal(s) missed" if missed else "all goals met")
sys.exit(1 if missed else 0)
PY
