#!/usr/bin/env bash
# What the tests need besides cargo: libfaketime, for the clock tests (a
# machine whose clock is far ahead, docs/guide.md "Time"). Installs Debian's
# faketime package when the command is absent; .ci/run calls it first.
set -euo pipefail
if command -v faketime >/dev/null; then
    exit 0
fi
echo "tests/tools.sh: installing faketime" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q faketime >/dev/null 2>&1 || {
    apt-get update -q >/dev/null
    apt-get install -y -q faketime >/dev/null
}
