#!/usr/bin/env bash
# The main job on the bundled samples: build, register the sample instances
# in the default ledger (./snledger.db, or $SNLEDGER_DB), allocate up to two
# numbers on every instance that `check` finds eligible, and print them with
# the remaining quota. Safe to run again: the instances are imported once
# and every allocation carries a request id, so nothing is appended twice
# (README "Quick start" says what a second run prints).
set -euo pipefail
cd "$(dirname "$0")/.."
# cargo finds the binary wherever it builds it ($CARGO_TARGET_DIR included).
cargo build --release --quiet
snledger() { cargo run --release --quiet -- "$@"; }

if ! snledger instance show i-bp1web01 >/dev/null 2>&1; then
    snledger import instances samples/instances.csv
fi

# One check of every instance: instance_id,eligible,reasons,remaining.
# (Instance ids and reason codes never hold a comma.)
snledger check --format csv | tail -n +2 | while IFS=, read -r instance_id eligible reasons remaining; do
    if [[ "$eligible" == true ]]; then
        echo "== $instance_id"
        count=$(( remaining < 2 ? remaining : 2 ))
        snledger allocate "$instance_id" --count "$count" --request-id "sample-$instance_id" </dev/null
    else
        echo "== $instance_id: not eligible: $reasons"
    fi
done

echo "== remaining quota"
snledger report quota
