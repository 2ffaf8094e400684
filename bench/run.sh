#!/usr/bin/env bash
# snledger benchmark against the bare SQLite floor (issue 6, SPEC §4).
#
#   bash bench/run.sh           full run: 1,000,000 and 1,000 instances
#   bash bench/run.sh --smoke   10,000 and 1,000 instances, fewer repetitions;
#                               prints the table but exits 0 unless a step
#                               crashed: smoke checks that every step runs,
#                               not the goals (small sizes make the ratios
#                               meaningless); .ci/run relies on that
#   bash bench/run.sh [--smoke] --only STEP
#                               only step STEP (import, allocate, read,
#                               reconcile or asof, numbered below) with its
#                               goals; the big ledger is still made (untimed)
#                               when the import step is not run
#
#   bash bench/run.sh --pg [--smoke]
#                               the PostgreSQL figures (bench/pg.sh says which)
#
# A full run prints every SPEC §6 figure for SQLite with its goal and exits 1
# when any goal is missed.
#
# Prerequisites: cargo, python3 (standard library only), the `sqlite3` shell
# and GNU time as /usr/bin/time. On Debian/Ubuntu:
#     apt-get install -y sqlite3 time
# When they are missing and the script runs as root with apt-get available,
# it installs them itself.
#
# Every figure is a ratio against the `sqlite3` shell doing the bare storage
# work on the same machine, in the same run, on the same file system:
#   1. `snledger import instances` of the big CSV vs `sqlite3 .import` of it
#      into a one-table database (same 9 columns, instance_id PRIMARY KEY);
#      alternated A/B, fresh files each time; peak RSS of the snledger import.
#   2. single `snledger allocate ID --count 1` calls on the big ledger vs single
#      `sqlite3` BEGIN IMMEDIATE; INSERT; COMMIT transactions on a copy of the
#      same ledger file, and the same allocate on the 1,000-instance ledger.
#   3. `snledger verify` and `snledger export history -o FILE` on the big
#      ledger vs `sqlite3 -csv` writing the same `events` rows to a file.
#   1b. the same import vs the *storage floor*: the `sqlite3` shell inserting
#      the same events, history index and instance rows, read from the
#      finished ledger, into an empty database made from schema.sql and the
#      migrations (same page size, WAL), in one transaction.
#   1c. the storage floor vs the *writer floor*: the same rows inserted into
#      the same empty database by bench/write_floor.rs through rusqlite, one
#      prepared INSERT per table, one row per execution, in one transaction.
#   3. (on a ledger of VERIFY events: 5,000,000 in a full run) peak RSS of
#      verify too.
#   4. `snledger reconcile` of RECON provider records (GetBsnByResource JSON,
#      one response per instance) against the big ledger with one number on
#      each of RECON instances, vs `snledger export numbers` of that ledger;
#      peak RSS of the reconcile.
#   5. `--as-of` on a copy of the big ledger with one service bound: `instance
#      show`, `number show`, `service show`, `instance list --account`,
#      `report quota` and `export instances`, each with `--as-of` vs the same
#      command without it (alternated).
# Each ratio is the median of the per-round ratios (A_i / B_i of runs made
# back to back), so slow drift of the machine cancels out.
#
# Environment: BENCH_DIR=DIR works in DIR (kept) instead of a temporary
# directory (removed on exit); `bench/out/` is git-ignored for this.

set -euo pipefail

MODE=full
ONLY=""
usage() { echo "usage: bash bench/run.sh [--pg] [--smoke] [--only import|allocate|read|reconcile|asof]" >&2; exit 2; }
while (($#)); do
    case "$1" in
        --pg) shift; exec bash "$(dirname "${BASH_SOURCE[0]}")/pg.sh" "$@" ;;
        --smoke) MODE=smoke ;;
        --only)
            (($# >= 2)) || usage
            case "$2" in import | allocate | read | reconcile | asof) ONLY=$2 ;; *) usage ;; esac
            shift ;;
        -h | --help) sed -n '2,59p' "$0"; exit 0 ;;
        *) usage ;;
    esac
    shift
done
# runs STEP: true when every step runs or STEP is the one asked for.
runs() { [[ -z $ONLY || $ONLY == "$1" ]]; }

if [[ $MODE == smoke ]]; then
    BIG=10000 SMALL=1000 IMPORT_ROUNDS=2 ALLOC_REPS=5 READ_ROUNDS=2 RECON=1000 VERIFY=10000
else
    BIG=1000000 SMALL=1000 IMPORT_ROUNDS=3 ALLOC_REPS=15 READ_ROUNDS=3 RECON=100000 VERIFY=5000000
fi
NOW=2026-11-23T00:00:00Z   # the ledger clock for every snledger call
ACTOR=bench

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------- tools ---
missing=()
command -v sqlite3 >/dev/null 2>&1 || missing+=(sqlite3)
[[ -x /usr/bin/time ]] || missing+=(time)
if ((${#missing[@]})); then
    echo "bench: missing prerequisite(s): ${missing[*]}" >&2
    echo "bench: install them with:  apt-get install -y sqlite3 time" >&2
    if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null 2>&1; then
        say "running as root: installing ${missing[*]}"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
    else
        exit 1
    fi
    command -v sqlite3 >/dev/null 2>&1 && [[ -x /usr/bin/time ]] || die "prerequisites still missing"
fi
command -v python3 >/dev/null 2>&1 || die "python3 is required (apt-get install -y python3)"
command -v cargo >/dev/null 2>&1 || die "cargo is required (https://rustup.rs)"

# ---------------------------------------------------------------- build ---
say "cargo build --profile profiling"
(cd "$ROOT" && cargo build --profile profiling --quiet)
BUILT="${CARGO_TARGET_DIR:-$ROOT/target}/profiling/snledger"
[[ -x $BUILT ]] || die "no binary at $BUILT"
(cd "$ROOT" && cargo build --profile profiling --quiet --example write_floor)
WRITE_FLOOR="${CARGO_TARGET_DIR:-$ROOT/target}/profiling/examples/write_floor"
[[ -x $WRITE_FLOOR ]] || die "no write_floor at $WRITE_FLOOR"

# ----------------------------------------------------------- work dir ---
if [[ -n ${BENCH_DIR:-} ]]; then
    mkdir -p "$BENCH_DIR"
    W=$(cd "$BENCH_DIR" && pwd)   # files it writes are replaced, nothing else is touched
else
    W=$(mktemp -d "${TMPDIR:-/tmp}/snledger-bench.XXXXXX")
    trap 'rm -rf "$W"' EXIT
fi
# The target directory may be shared: a build elsewhere must not swap the
# binary in the middle of a run, so the run uses its own copy.
SN=$W/snledger
cp "$BUILT" "$SN"
cp "$WRITE_FLOOR" "$W/write_floor"
REV=$(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo unknown)
[[ -n $(cd "$ROOT" && git status --porcelain --untracked-files=no 2>/dev/null) ]] && REV="$REV+dirty"
say "benchmarking $BUILT (commit $REV) in $W"
SAMPLES=$W/samples.txt
: >"$SAMPLES"

# timeit [--stdout FILE] -- CMD...: runs CMD once and prints its wall-clock
# time in seconds, measured with time.perf_counter around subprocess.run, so
# the timer's own start-up is outside the measurement. Stdin is /dev/null,
# stdout goes to FILE (else /dev/null), stderr is kept and shown on failure;
# a failing CMD makes timeit fail (and so the script, under set -e).
cat >"$W/timeit.py" <<'PY'
import subprocess, sys, time
args = sys.argv[1:]
out = "/dev/null"
if args[0] == "--stdout":
    out, args = args[1], args[2:]
if args[0] == "--":
    args = args[1:]
with open(out, "wb") as sink:
    start = time.perf_counter()
    done = subprocess.run(args, stdin=subprocess.DEVNULL, stdout=sink, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - start
if done.returncode != 0:
    sys.stderr.write(done.stderr.decode("utf-8", "replace"))
    sys.exit(f"timeit: exit {done.returncode}: {' '.join(args)}")
print(f"{elapsed:.6f}")
PY
timeit() { python3 "$W/timeit.py" "$@"; }
record() { echo "$1 $2" >>"$SAMPLES"; }   # record NAME SECONDS

# ----------------------------------------------------------- data sets ---
say "generating $BIG and $SMALL instances in $W"
python3 "$ROOT/bench/gen.py" "$BIG" -o "$W/big.csv" --pick "$ALLOC_REPS" --pick-out "$W/big.ids"
python3 "$ROOT/bench/gen.py" "$SMALL" -o "$W/small.csv" --pick "$ALLOC_REPS" --pick-out "$W/small.ids" --seed 7

# The sqlite3 side gets the same journal mode and sync level that snledger
# sets on its ledgers (src/store.rs: journal_mode=WAL, synchronous=NORMAL),
# so both sides pay the same durability cost; anything else would flatter
# or penalise one side. journal_mode=WAL is stored in the file; synchronous
# is per connection, hence -cmd on every timed sqlite3 call.
SQ_PRAGMAS="PRAGMA synchronous=NORMAL;"
INST_TABLE="CREATE TABLE inst(instance_id TEXT PRIMARY KEY, service_type TEXT, account TEXT, region TEXT,
    billing TEXT, subscription_months INTEGER, expires_at TEXT, public_ip TEXT, order_amount TEXT);"

rss_mib() { awk -F: '/Maximum resident set size/ { printf "%.1f\n", $2 / 1024 }' "$1"; }

# ---------------------------------------------------------- 1. import ---
runs import || IMPORT_ROUNDS=0
for ((r = 1; r <= IMPORT_ROUNDS; r++)); do
    rm -f "$W"/big.db* "$W"/y.db*
    say "import round $r/$IMPORT_ROUNDS: snledger"
    t=$(timeit -- /usr/bin/time -v -o "$W/rss.snledger" \
        "$SN" --db "$W/big.db" --now "$NOW" --actor "$ACTOR" import instances "$W/big.csv")
    record import.snledger "$t"
    echo "import.rss_mib $(rss_mib "$W/rss.snledger")" >>"$SAMPLES"

    say "import round $r/$IMPORT_ROUNDS: sqlite3 .import"
    # The table exists before the clock starts; only the .import is timed.
    sqlite3 "$W/y.db" "PRAGMA journal_mode=WAL; $INST_TABLE" >/dev/null
    t=$(timeit -- /usr/bin/time -v -o "$W/rss.sqlite3" \
        sqlite3 -cmd "$SQ_PRAGMAS" "$W/y.db" ".import --csv --skip 1 $W/big.csv inst")
    record import.sqlite3 "$t"
    echo "import.sqlite3_rss_mib $(rss_mib "$W/rss.sqlite3")" >>"$SAMPLES"
    rows=$(sqlite3 "$W/y.db" "SELECT count(*) FROM inst")
    [[ $rows == "$BIG" ]] || die "sqlite3 .import loaded $rows rows, expected $BIG"
done
rm -f "$W"/y.db*
if ! runs import; then
    say "big ledger: importing $BIG instances (untimed)"
    rm -f "$W"/big.db*
    "$SN" --db "$W/big.db" --now "$NOW" --actor "$ACTOR" import instances "$W/big.csv" >/dev/null
fi
# The last snledger import is the big ledger from here on.
events=$(sqlite3 "$W/big.db" "SELECT count(*) FROM events")
[[ $events == "$BIG" ]] || die "big ledger has $events events, expected $BIG"

if runs import; then
# ----------------------------------------------------- 1b. storage floor ---
# The bare storage work of the import: the same rows, read from the finished
# ledger, inserted by the sqlite3 shell in one transaction into an empty
# database with the ledger's schema (schema.sql, then the migrations), page
# size and journal mode. Only the INSERTs are timed.
PAGE_SIZE=$(sqlite3 "$W/big.db" "PRAGMA page_size")
FLOOR_SQL="ATTACH '$W/big.db' AS src; BEGIN;
    INSERT INTO events SELECT * FROM src.events ORDER BY seq;
    INSERT INTO event_subjects SELECT * FROM src.event_subjects;
    INSERT INTO instances SELECT * FROM src.instances ORDER BY instance_id;
    COMMIT;"
# empty_ledger FILE: an empty database with the ledger's schema and page size.
empty_ledger() {
    rm -f "$1"*
    sqlite3 "$1" "PRAGMA page_size=$PAGE_SIZE; PRAGMA journal_mode=WAL;" >/dev/null
    cat "$ROOT/schema.sql" "$ROOT"/migrations/*.sql | sqlite3 "$1" >/dev/null
}
# ------------------------------------------------------ 1c. writer floor ---
# The same rows written by a Rust program through rusqlite, one prepared
# INSERT per table, one row per execution (bench/write_floor.rs): what any
# program that binds rows pays on top of the storage floor. It times itself
# (reading the rows into memory is outside its clock). Alternated with 1b.
for ((r = 1; r <= IMPORT_ROUNDS; r++)); do
    empty_ledger "$W/floor.db"
    say "storage floor round $r/$IMPORT_ROUNDS: sqlite3 INSERT ... SELECT"
    t=$(timeit -- sqlite3 -cmd "$SQ_PRAGMAS" "$W/floor.db" "$FLOOR_SQL")
    record import.floor "$t"
    rows=$(sqlite3 "$W/floor.db" "SELECT count(*) FROM events")
    [[ $rows == "$BIG" ]] || die "the storage floor copied $rows events, expected $BIG"
    empty_ledger "$W/wfloor.db"
    say "writer floor round $r/$IMPORT_ROUNDS: bench/write_floor.rs"
    t=$("$W/write_floor" "$W/big.db" "$W/wfloor.db")
    record import.writer "$t"
    rows=$(sqlite3 "$W/wfloor.db" "SELECT count(*) FROM events")
    [[ $rows == "$BIG" ]] || die "the writer floor wrote $rows events, expected $BIG"
done
rm -f "$W"/floor.db* "$W"/wfloor.db*
fi

if runs allocate; then
say "small ledger: importing $SMALL instances"
rm -f "$W"/small.db*
"$SN" --db "$W/small.db" --now "$NOW" --actor "$ACTOR" import instances "$W/small.csv" >/dev/null

# -------------------------------------------------------- 2. allocate ---
# A byte copy of the big ledger (snledger checkpoints its WAL on exit; a
# left-over -wal is copied too), with a small scratch table created once,
# outside the timing, for the sqlite3 insert transactions.
cp "$W/big.db" "$W/copy.db"
[[ -f $W/big.db-wal ]] && cp "$W/big.db-wal" "$W/copy.db-wal"
sqlite3 "$W/copy.db" "CREATE TABLE bench_scratch(k TEXT PRIMARY KEY, v TEXT NOT NULL);"

say "allocate: $ALLOC_REPS x (snledger big, sqlite3 insert, snledger small)"
mapfile -t big_ids <"$W/big.ids"
mapfile -t small_ids <"$W/small.ids"
for ((i = 0; i < ALLOC_REPS; i++)); do
    t=$(timeit -- "$SN" --db "$W/big.db" --now "$NOW" --actor "$ACTOR" allocate "${big_ids[i]}" --count 1)
    record alloc.big "$t"
    t=$(timeit -- sqlite3 -cmd "$SQ_PRAGMAS" "$W/copy.db" \
        "BEGIN IMMEDIATE; INSERT INTO bench_scratch(k, v) VALUES ('k$i', '${big_ids[i]}'); COMMIT;")
    record alloc.sqlite3 "$t"
    t=$(timeit -- "$SN" --db "$W/small.db" --now "$NOW" --actor "$ACTOR" allocate "${small_ids[i]}" --count 1)
    record alloc.small "$t"
done
n=$(sqlite3 "$W/big.db" "SELECT count(*) FROM numbers")
[[ $n == "$ALLOC_REPS" ]] || die "big ledger has $n numbers after $ALLOC_REPS allocations"
rm -f "$W"/copy.db*
fi
ALLOCATED=$(sqlite3 "$W/big.db" "SELECT count(*) FROM numbers")

# ------------------------------------------------ 3. verify and export ---
if runs read; then
# On a ledger of VERIFY events (SPEC §6: 5,000,000): the big ledger itself
# when it is that size, else one imported for this step (untimed).
if ((VERIFY == BIG)); then
    VDB=$W/big.db want=$((BIG + ALLOCATED))
else
    say "verify ledger: generating and importing $VERIFY instances (untimed)"
    python3 "$ROOT/bench/gen.py" "$VERIFY" -o "$W/verify.csv" --seed 11
    rm -f "$W"/verify.db*
    "$SN" --db "$W/verify.db" --now "$NOW" --actor "$ACTOR" import instances "$W/verify.csv" >/dev/null
    rm -f "$W/verify.csv"
    VDB=$W/verify.db want=$VERIFY
fi
say "verify / export history / sqlite3 read-out: $READ_ROUNDS round(s)"
for ((r = 1; r <= READ_ROUNDS; r++)); do
    rm -f "$W/events.csv"
    t=$(timeit --stdout "$W/events.csv" -- sqlite3 -csv "$VDB" "SELECT * FROM events ORDER BY seq")
    record read.sqlite3 "$t"
    t=$(timeit -- /usr/bin/time -v -o "$W/rss.verify" "$SN" --db "$VDB" --actor "$ACTOR" verify)
    record read.verify "$t"
    echo "read.verify_rss_mib $(rss_mib "$W/rss.verify")" >>"$SAMPLES"
    rm -f "$W/history.csv"
    t=$(timeit -- "$SN" --db "$VDB" --actor "$ACTOR" export history -o "$W/history.csv")
    record read.export "$t"
done
got=$(wc -l <"$W/events.csv")
[[ $got == "$want" ]] || die "sqlite3 read-out has $got lines, expected $want"
got=$(($(wc -l <"$W/history.csv") - 1))
[[ $got == "$want" ]] || die "export history has $got rows, expected $want"
rm -f "$W/events.csv" "$W/history.csv"
[[ $VDB == "$W/big.db" ]] || rm -f "$W"/verify.db*
fi

# ------------------------------------------------------- 4. reconcile ---
# A copy of the big ledger with one provider-issued number on each of RECON
# eligible instances (import ops, untimed), and the provider's records of
# exactly those numbers, so the comparison is in sync (exit 0).
if runs reconcile; then
say "reconcile: preparing $RECON numbers and the provider's records"
python3 "$ROOT/bench/gen.py" "$BIG" -o /dev/null --pick "$RECON" --pick-out "$W/recon.ids"
# The numbers the allocate step made are in the provider's records too.
"$SN" --db "$W/big.db" --actor "$ACTOR" export numbers -o "$W/existing.csv"
python3 - "$W/big.csv" "$W/recon.ids" "$W/recon-ops.csv" "$W/recon.json" "$W/existing.csv" <<'PY'
import csv, json, sys
big, ids_path, ops_path, provider_path, existing_path = sys.argv[1:]
ids = [line.strip() for line in open(ids_path) if line.strip()]
existing = list(csv.DictReader(open(existing_path, newline="")))
wanted = set(ids) | {row["instance_id"] for row in existing}
facts = {}
with open(big, newline="") as f:
    for row in csv.DictReader(f):
        if row["instance_id"] in wanted:
            facts[row["instance_id"]] = (row["account"], row["service_type"])
codes = {"ecs": 1, "ens": 8, "cloud_web_hosting": 9}
with open(ops_path, "w") as ops, open(provider_path, "w") as out:
    ops.write("op,instance_id,number,account,count,service,to_account,icp_number,reason,request_id,months,expires_at\n")
    out.write("[\n")
    for k, instance_id in enumerate(ids):
        sn = f"BSN{k:08d}"
        account, service_type = facts[instance_id]
        ops.write(f"allocate,{instance_id},{sn},,,,,,,,,\n")
        record = {"sn": sn, "status": k % 2, "beianNum": "", "aliUid": account,
                  "resourceType": codes.get(service_type, 42), "resourceId": instance_id,
                  "opSource": "console"}
        response = {"RequestId": f"BENCH-{k:08d}", "datas": [record]}
        out.write(("," if k else "") + json.dumps(response) + "\n")
    for row in existing:
        record = {"sn": row["number"], "status": 0, "beianNum": "", "aliUid": row["owner"],
                  "resourceType": codes.get(facts[row["instance_id"]][1], 42),
                  "resourceId": row["instance_id"]}
        out.write("," + json.dumps({"RequestId": "BENCH-EXISTING", "datas": [record]}) + "\n")
    out.write("]\n")
PY
cp "$W/big.db" "$W/recon.db"
[[ -f $W/big.db-wal ]] && cp "$W/big.db-wal" "$W/recon.db-wal"
"$SN" --db "$W/recon.db" --now "$NOW" --actor "$ACTOR" import ops "$W/recon-ops.csv" >/dev/null
say "reconcile / export numbers: $READ_ROUNDS round(s)"
for ((r = 1; r <= READ_ROUNDS; r++)); do
    t=$(timeit -- /usr/bin/time -v -o "$W/rss.reconcile" \
        "$SN" --db "$W/recon.db" --now "$NOW" --actor "$ACTOR" reconcile "$W/recon.json")
    record recon.snledger "$t"
    echo "recon.rss_mib $(rss_mib "$W/rss.reconcile")" >>"$SAMPLES"
    rm -f "$W/numbers.csv"
    t=$(timeit -- "$SN" --db "$W/recon.db" --actor "$ACTOR" export numbers -o "$W/numbers.csv")
    record recon.export "$t"
done
got=$(($(wc -l <"$W/numbers.csv") - 1))
[[ $got == "$((RECON + ALLOCATED))" ]] || die "export numbers has $got rows, expected $((RECON + ALLOCATED))"
rm -f "$W"/recon.db*
fi

# ------------------------------------------------------------ 5. as-of ---
# A copy of the big ledger with one of the allocated numbers bound to a
# service (untimed), so that all three show commands have a subject. Every
# event of this ledger is at NOW or later: --as-of NOW replays all of the
# subject's events (the most an --as-of can need).
if runs asof; then
cp "$W/big.db" "$W/asof.db"
[[ -f $W/big.db-wal ]] && cp "$W/big.db-wal" "$W/asof.db-wal"
ASOF_ID=$(head -n 1 "$W/big.ids")
# With --only asof the allocate step has not run: allocate one here (untimed).
((ALLOCATED > 0)) || "$SN" --db "$W/asof.db" --now "$NOW" --actor "$ACTOR" allocate "$ASOF_ID" --count 1 >/dev/null
ASOF_NUMBER=$(sqlite3 "$W/asof.db" "SELECT number FROM numbers WHERE instance_id = '$ASOF_ID' LIMIT 1")
ASOF_ACCOUNT=$(sqlite3 "$W/asof.db" "SELECT owner FROM numbers WHERE number = '$ASOF_NUMBER'")
[[ -n $ASOF_NUMBER && -n $ASOF_ACCOUNT ]] || die "no allocated number on $ASOF_ID"
"$SN" --db "$W/asof.db" --now "$NOW" --actor "$ACTOR" bind "$ASOF_NUMBER" \
    --service bench-asof.example.cn --account "$ASOF_ACCOUNT" >/dev/null
# asof_pair NAME REPS -- ARGS...: REPS alternated runs of `snledger ARGS`
# without and with --as-of NOW, recorded as asof.NAME.now / asof.NAME.past.
asof_pair() {
    local name=$1 reps=$2
    shift 3
    for ((i = 0; i < reps; i++)); do
        t=$(timeit -- "$SN" --db "$W/asof.db" "$@")
        record "asof.$name.now" "$t"
        t=$(timeit -- "$SN" --db "$W/asof.db" "$@" --as-of "$NOW")
        record "asof.$name.past" "$t"
    done
}
say "as-of: show x $ALLOC_REPS, list / report / export x $READ_ROUNDS"
asof_pair instance "$ALLOC_REPS" -- instance show "$ASOF_ID"
asof_pair number "$ALLOC_REPS" -- number show "$ASOF_NUMBER"
asof_pair service "$ALLOC_REPS" -- service show bench-asof.example.cn
asof_pair list "$READ_ROUNDS" -- instance list --account "$ASOF_ACCOUNT"
asof_pair report "$READ_ROUNDS" -- report quota
asof_pair export "$READ_ROUNDS" -- export instances -o "$W/asof-instances.csv"
past=$("$SN" --db "$W/asof.db" --format json service show bench-asof.example.cn --as-of "$NOW")
[[ $past == *"\"$ASOF_NUMBER\""* ]] || die "service show --as-of gave $past"
rm -f "$W"/asof.db* "$W/asof-instances.csv"
fi

# ----------------------------------------------------------- the table ---
set +e
python3 - "$SAMPLES" "$MODE" "$BIG" "$SMALL" "$REV" "$RECON" "$VERIFY" "$ONLY" <<'PY'
import os, statistics, sys
path, mode, big, small, rev, recon = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], int(sys.argv[6])
verify, only = int(sys.argv[7]), sys.argv[8]
s = {}
for line in open(path):
    name, value = line.split()
    s.setdefault(name, []).append(float(value))

def ratio(a, b):
    """Median of the per-round ratios a_i / b_i."""
    return statistics.median(x / y for x, y in zip(s[a], s[b]))

def med(name):
    return statistics.median(s[name])

def fmt_n(n):
    return f"{n // 1000000}M" if n >= 1000000 and n % 1000000 == 0 else f"{n // 1000}k" if n % 1000 == 0 else str(n)

B, S, V = fmt_n(big), fmt_n(small), fmt_n(verify)
# (figure, how it is computed, goal or None for a figure reported without a
# goal, unit); a step not run (--only) has no samples, and its figures are
# left out.
figures = [
    (f"import {B} instances / storage floor", lambda: ratio("import.snledger", "import.floor"), 1.3, "x"),
    (f"import {B} instances / sqlite3 .import", lambda: ratio("import.snledger", "import.sqlite3"), None, "x"),
    (f"import {B} instances / writer floor", lambda: ratio("import.snledger", "import.writer"), None, "x"),
    ("writer floor / storage floor", lambda: ratio("import.writer", "import.floor"), None, "x"),
    ("import peak memory", lambda: max(s["import.rss_mib"]), 64.0, " MiB"),
    (f"allocate on {B} ledger / sqlite3 insert txn", lambda: ratio("alloc.big", "alloc.sqlite3"), 1.5, "x"),
    (f"allocate on {B} ledger / on {S} ledger", lambda: ratio("alloc.big", "alloc.small"), 1.3, "x"),
    (f"verify ({V} events) / sqlite3 CSV read-out", lambda: ratio("read.verify", "read.sqlite3"), 3.0, "x"),
    (f"verify ({V} events) peak memory", lambda: max(s["read.verify_rss_mib"]), 2048.0, " MiB"),
    (f"export history ({V}) / sqlite3 CSV read-out", lambda: ratio("read.export", "read.sqlite3"), 1.5, "x"),
    (f"reconcile {fmt_n(recon)} records / export numbers", lambda: ratio("recon.snledger", "recon.export"), 2.0, "x"),
    ("reconcile peak memory", lambda: max(s["recon.rss_mib"]), 64.0, " MiB"),
]
for name, what in [("instance", "instance show"), ("number", "number show"),
                   ("service", "service show"), ("list", "instance list --account"),
                   ("report", "report quota"), ("export", "export instances")]:
    figures.append((f"{what} --as-of / without ({B} events)",
                    lambda name=name: ratio(f"asof.{name}.past", f"asof.{name}.now"), 2.0, "x"))
rows = []
for name, compute, goal, unit in figures:
    try:
        rows.append((name, compute(), goal, unit))
    except KeyError:
        pass

print()
mem = next((int(l.split()[1]) for l in open("/proc/meminfo") if l.startswith("MemTotal:")), 0)
print(f"snledger {rev}, {mode} run{' of step ' + only if only else ''}, {os.cpu_count()} CPUs, {mem / 1048576:.1f} GiB memory")
print("Times (median seconds, n = samples):")
for name, what in [
    ("import.snledger", "snledger import instances"), ("import.sqlite3", "sqlite3 .import"),
    ("import.floor", "sqlite3 storage floor"),
    ("import.writer", "writer floor (bench/write_floor.rs)"),
    ("alloc.big", f"snledger allocate ({B} ledger)"), ("alloc.sqlite3", "sqlite3 insert transaction"),
    ("alloc.small", f"snledger allocate ({S} ledger)"), ("read.verify", "snledger verify"),
    ("read.export", "snledger export history"), ("read.sqlite3", "sqlite3 -csv events read-out"),
    ("recon.snledger", f"snledger reconcile ({fmt_n(recon)} records)"),
    ("recon.export", "snledger export numbers"),
] + [(f"asof.{n}.{w}", f"{n} {'--as-of' if w == 'past' else 'now'}")
     for n in ("instance", "number", "service", "list", "report", "export") for w in ("now", "past")]:
    if name not in s:
        continue
    print(f"  {what:<34} {med(name):>10.4f} s   (n={len(s[name])}, min {min(s[name]):.4f}, max {max(s[name]):.4f})")
for name, what in [("import.sqlite3_rss_mib", "sqlite3 .import peak memory"),
                   ("recon.rss_mib", "snledger reconcile peak memory")]:
    if name in s:
        print(f"  {what:<34} {max(s[name]):>10.1f} MiB   (n={len(s[name])}, min {min(s[name]):.1f})")
print()
w = max(len(r[0]) for r in rows)
head = f"| {'figure':<{w}} | {'measured':>10} | {'goal':>10} | result |"
print(head)
print("|" + "-" * (w + 2) + "|" + "-" * 12 + "|" + "-" * 12 + "|--------|")
missed = 0
for name, value, goal, unit in rows:
    measured = f"{value:.2f}{unit}"
    if goal is None:
        print(f"| {name:<{w}} | {measured:>10} | {'(report)':>10} | {'-':<6} |")
        continue
    ok = value <= goal
    missed += not ok
    target = f"<= {goal:g}{unit}"
    print(f"| {name:<{w}} | {measured:>10} | {target:>10} | {'pass' if ok else 'FAIL':<6} |")
print()
if mode == "smoke":
    print(f"smoke run ({B}/{S} instances): every step asked for ran; ratios at this size are not meaningful, exit 0")
    sys.exit(0)
print(f"{missed} goal(s) missed" if missed else "all goals met")
sys.exit(1 if missed else 0)
PY
status=$?
exit $status
