#!/usr/bin/env bash
# The main job on the bundled samples: build, register the sample instances
# in the default ledger (./snledger.db, or $SNLEDGER_DB), allocate numbers on
# every eligible one, and print them with the remaining quota. Safe to run
# again: instances are imported once and every allocation carries a request
# id, so a re-run prints the same numbers and appends nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
snledger=target/release/snledger

if ! "$snledger" instance show i-bp1web01 >/dev/null 2>&1; then
    "$snledger" import instances samples/instances.csv
fi

# Two numbers on each instance that `check` finds eligible.
tail -n +2 samples/instances.csv | cut -d, -f1 | while read -r instance_id; do
    if "$snledger" check "$instance_id" --format json | grep -q '"eligible":true'; then
        echo "== $instance_id"
        count=2
        [[ "$instance_id" == iot-* ]] && count=1
        "$snledger" allocate "$instance_id" --count "$count" --request-id "sample-$instance_id"
    else
        echo "== $instance_id: not eligible: $("$snledger" check "$instance_id" --format csv | tail -n 1 | cut -d, -f3)"
    fi
done

echo "== remaining quota"
"$snledger" report quota
