#!/usr/bin/env bash
# A throw-away PostgreSQL cluster for the tests, the CI and the benchmark
# (docs/team.md "Sharing a ledger").
#   bash tests/pg.sh start   initdb into $SNLEDGER_PG_DIR (default
#                            /tmp/snledger-pg), listen on a Unix socket there
#                            and on 127.0.0.1 at a free port, TLS on with a
#                            self-signed CA (ca.crt there), fsync on; prints
#                            the superuser URL (over the socket)
#   bash tests/pg.sh url     prints that URL again
#   bash tests/pg.sh stop    stops the server (whatever state it is in) and
#                            removes the directory
#   bash tests/pg.sh catalog rewrites migrations/postgres/catalog.txt (what
#                            verify expects of the schema) from a database that
#                            target/debug/snledger init made, on the running
#                            server, after a schema change
# Installs Debian's postgresql package when pg_ctl is absent. initdb refuses
# to run as root, so as root the cluster belongs to the postgres user.
set -euo pipefail
dir="${SNLEDGER_PG_DIR:-/tmp/snledger-pg}"

bin_dir() {
    local found
    found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
    if [ -z "$found" ] && command -v pg_ctl >/dev/null; then
        found=$(dirname "$(command -v pg_ctl)")
    fi
    echo "$found"
}

install_server() {
    if [ -n "$(bin_dir)" ]; then return; fi
    echo "pg.sh: installing the postgresql package" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q postgresql >/dev/null 2>&1 || {
        apt-get update -q >/dev/null
        apt-get install -y -q postgresql >/dev/null
    }
}

# Runs a command as the cluster's owner.
as_owner() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

url() {
    local port
    port=$(cat "$dir/port")
    echo "postgres:///postgres?host=$dir&port=$port&user=postgres&sslmode=disable"
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# A CA and a server certificate for localhost and 127.0.0.1 (verify-full).
make_certificates() {
    openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=snledger test CA" \
        -keyout "$dir/ca.key" -out "$dir/ca.crt" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
        -keyout "$dir/server.key" -out "$dir/server.csr" 2>/dev/null
    printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >"$dir/san.ext"
    openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" \
        -CAcreateserial -days 30 -extfile "$dir/san.ext" -out "$dir/server.crt" 2>/dev/null
    chmod 600 "$dir/server.key"
}

start() {
    stop >/dev/null 2>&1 || true
    install_server
    local bin port
    bin=$(bin_dir)
    mkdir -p "$dir"
    chmod 755 "$dir"
    port=$(free_port)
    echo "$port" >"$dir/port"
    make_certificates
    if [ "$(id -u)" = 0 ]; then chown -R postgres: "$dir"; fi
    as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth-local=trust \
        --auth-host=scram-sha-256 -E UTF8 --locale=C >"$dir/initdb.log"
    # The TLS test's role may log in over TLS only (so the test knows it was).
    { echo "hostnossl all snl_tls_user all reject"; cat "$dir/data/pg_hba.conf"; } >"$dir/hba.tmp"
    cat "$dir/hba.tmp" >"$dir/data/pg_hba.conf" && rm "$dir/hba.tmp"
    cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
fsync = on
max_connections = 200
ssl = on
ssl_cert_file = '$dir/server.crt'
ssl_key_file = '$dir/server.key'
CONF
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null
    # The superuser gets a password too, for the tests that log in over TCP.
    "$bin/psql" -q -X "$(url)" -c "ALTER ROLE postgres PASSWORD 'snledger-test-superuser'" >/dev/null
    url
}

stop() {
    local bin
    bin=$(bin_dir)
    if [ -d "$dir/data" ] && [ -n "$bin" ]; then
        as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null 2>&1 || true
        if [ -f "$dir/data/postmaster.pid" ]; then
            kill -9 "$(head -1 "$dir/data/postmaster.pid")" 2>/dev/null || true
        fi
    fi
    rm -rf "$dir"
}

catalog() {
    local root base target
    root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
    base=$(url)
    target=${base/\/postgres\?//snl_catalog?}
    psql -X -q "$base" -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS snl_catalog" -c "CREATE DATABASE snl_catalog"
    "$root/target/debug/snledger" --db "$target" init >/dev/null
    psql -X -At -F'|' "$target" -f "$root/migrations/postgres/catalog.sql" >"$root/migrations/postgres/catalog.txt"
    psql -X -q "$base" -c "DROP DATABASE snl_catalog"
}

case "${1:-}" in
    start) start ;;
    catalog) catalog ;;
    stop) stop ;;
    url) url ;;
    *) echo "usage: bash tests/pg.sh start|stop|url|catalog" >&2; exit 2 ;;
esac
