#!/usr/bin/env bash
# The Diameter Gy benchmark in one command:
#
#   bench/run_diameter_bench.sh [sqlite|postgres]
#
# Provisions 100,000 subscribers (or reuses the database cached under $BENCH_DIR), starts
# `ocs serve` with the load generator's Origin-Host allowed and log level warning, runs
# bench/diameter_load.py twice (a closed-loop run at the most the server does, then an
# open-loop run paced at $RATE requests/s), prints both results and stops the server.
#
# postgres: a throwaway PostgreSQL cluster (initdb + pg_ctl, Debian's postgresql-15) with its
# default durability (fsync and synchronous_commit on), cached under $BENCH_DIR as well.
#
# OCS_* variables pass through to the server (e.g. OCS_CHARGING_ENGINES=2 for postgres).
# Knobs (environment): SUBSCRIBERS=100000 DURATION_S=30 RATE=2000 CONNECTIONS=4 SESSIONS=200
# PACED_SESSIONS=200 UPDATES=3 BENCH_DIR=/tmp/ocs-bench, and NICE (e.g. -10, as root) to run the
# server, the database and the generator ahead of whatever else shares the machine.
set -euo pipefail
cd "$(dirname "$0")/.."

backend=${1:-sqlite}
SUBSCRIBERS=${SUBSCRIBERS:-100000}
DURATION_S=${DURATION_S:-30}
RATE=${RATE:-2000}
CONNECTIONS=${CONNECTIONS:-4}
SESSIONS=${SESSIONS:-200}
PACED_SESSIONS=${PACED_SESSIONS:-200}
UPDATES=${UPDATES:-3}
BENCH_DIR=${BENCH_DIR:-/tmp/ocs-bench}
# The generator's connection n is the peer pgw{n}.bench.local; allow enough of them.
PEERS=$(seq -s, -f "pgw%g.bench.local" 0 63)
PY=.venv/bin/python
NICE=${NICE:-0}
run=(nice -n "$NICE")
[ -x "$PY" ] || { echo "no .venv: run scripts/setup first" >&2; exit 1; }
mkdir -p "$BENCH_DIR"

free_port() {
  "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

server_pid=""
pg_data=""
pg_bin=""
pg_user=()
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid"
    wait "$server_pid" 2>/dev/null || true
  fi
  if [ -n "$pg_data" ]; then
    "${pg_user[@]}" "$pg_bin/pg_ctl" -D "$pg_data" -m fast -w stop >/dev/null || true
  fi
}
trap cleanup EXIT

db_pid=0
case "$backend" in
  sqlite)
    # Provisioned once into a template; every run starts from a fresh copy of it, so EDRs and
    # reservations of earlier runs do not grow the database between measurements.
    template="$BENCH_DIR/sqlite-$SUBSCRIBERS.template.db"
    if [ ! -f "$template" ]; then
      "$PY" bench/provision.py --database-url "sqlite:///$template" --subscribers "$SUBSCRIBERS"
    fi
    # A template made by older code gets the newer migrations once, here, rather than at every
    # server start, where a table rebuild and its checkpoint would fall into the measurement.
    OCS_DATABASE_URL="sqlite:///$template" "$PY" -m ocs migrate >/dev/null
    "$PY" -c "import sqlite3, sys; sqlite3.connect(sys.argv[1]).execute('PRAGMA wal_checkpoint(TRUNCATE)')" "$template"
    rm -f "$BENCH_DIR/sqlite-run.db" "$BENCH_DIR/sqlite-run.db-wal" "$BENCH_DIR/sqlite-run.db-shm"
    cp "$template" "$BENCH_DIR/sqlite-run.db"
    url="sqlite:///$BENCH_DIR/sqlite-run.db"
    ;;
  postgres)
    pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
    [ -x "$pg_bin/initdb" ] || { echo "PostgreSQL server binaries missing (apt-get install postgresql)" >&2; exit 1; }
    pg_root="$BENCH_DIR/pg-$SUBSCRIBERS"
    pg_data="$pg_root/data"
    if [ "$(id -u)" = 0 ]; then pg_user=(runuser -u postgres --); fi
    if [ ! -d "$pg_data" ]; then
      mkdir -p "$pg_root"
      if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$pg_root"; fi
      "${pg_user[@]}" "$pg_bin/initdb" -D "$pg_data" -U postgres -A trust -E UTF8 >/dev/null
    fi
    pg_port=$(free_port)
    "${run[@]}" "${pg_user[@]}" "$pg_bin/pg_ctl" -D "$pg_data" -l "$pg_root/log" -w -t 60 \
      -o "-p $pg_port -k $pg_root -c listen_addresses=127.0.0.1 -c max_connections=100" start >/dev/null
    db_pid=$(head -1 "$pg_data/postmaster.pid")
    "${pg_user[@]}" "$pg_bin/psql" -h 127.0.0.1 -p "$pg_port" -U postgres -tAc \
      "SELECT 1 FROM pg_database WHERE datname = 'ocs_bench'" | grep -q 1 ||
      "${pg_user[@]}" "$pg_bin/createdb" -h 127.0.0.1 -p "$pg_port" -U postgres ocs_bench
    url="postgresql+psycopg://postgres@127.0.0.1:$pg_port/ocs_bench"
    ;;
  *)
    echo "usage: $0 [sqlite|postgres]" >&2
    exit 2
    ;;
esac

echo "== $(date -u +%Y-%m-%dT%H:%M:%SZ) $backend, $(nproc) cores, nice $NICE, ${OCS_CHARGING_ENGINES:-1} engine(s), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== ocs $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- src 2>/dev/null || echo ' with uncommitted changes in src/')"
echo "== provisioning $SUBSCRIBERS subscribers ($url)"
"$PY" bench/provision.py --database-url "$url" --subscribers "$SUBSCRIBERS"

http_port=$(free_port)
diameter_port=$(free_port)
echo "== starting ocs serve (Diameter port $diameter_port)"
OCS_DATABASE_URL="$url" OCS_DATA_DIR="$BENCH_DIR" OCS_HTTP_PORT="$http_port" \
  OCS_DIAMETER_PORT="$diameter_port" OCS_DIAMETER_PEERS="$PEERS" OCS_LOG_LEVEL=warning \
  "${run[@]}" "$PY" -m ocs serve >"$BENCH_DIR/serve-$backend.log" 2>&1 &
server_pid=$!
for _ in $(seq 600); do
  if "$PY" -c "import httpx, sys; sys.exit(httpx.get('http://127.0.0.1:$http_port/health').status_code != 200)" 2>/dev/null; then
    break
  fi
  kill -0 "$server_pid" 2>/dev/null || { cat "$BENCH_DIR/serve-$backend.log" >&2; exit 1; }
  sleep 0.2
done

load() {
  "${run[@]}" "$PY" bench/diameter_load.py --port "$diameter_port" --server-pid "$server_pid" \
    --db-pid "$db_pid" --connections "$CONNECTIONS" --updates "$UPDATES" \
    --subscribers "$SUBSCRIBERS" --duration-s "$DURATION_S" --json "$BENCH_DIR/results.jsonl" "$@"
}

echo "== closed loop: $SESSIONS concurrent sessions, $DURATION_S s"
load --sessions-concurrent "$SESSIONS"
echo "== open loop: paced at $RATE requests/s, $DURATION_S s"
load --sessions-concurrent "$PACED_SESSIONS" --rate "$RATE"
echo "== load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
if grep -q -E "ERROR|Traceback" "$BENCH_DIR/serve-$backend.log"; then
  echo "== the server logged errors ($BENCH_DIR/serve-$backend.log):"
  grep -E -A3 "ERROR|Traceback" "$BENCH_DIR/serve-$backend.log" | head -40
fi
