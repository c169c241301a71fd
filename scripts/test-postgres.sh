#!/bin/sh
# A throwaway PostgreSQL for the tests (issue 13): a fresh cluster in a temporary folder,
# listening on 127.0.0.1 only, on a port of its own, with fsync off (its data is thrown away).
#
#   scripts/test-postgres.sh start        initdb if needed, start, print TEST_DATABASE_URL=…
#   scripts/test-postgres.sh url          print the URL of the running server
#   scripts/test-postgres.sh stop         stop the server and delete its folder
#   scripts/test-postgres.sh available    exit 0 when PostgreSQL's binaries are found (npm test asks)
#   scripts/test-postgres.sh jest ARGS…   run `npx jest --runInBand ARGS…` on PostgreSQL: on
#                                         $TEST_DATABASE_URL when set, else on a throwaway
#                                         server started here and stopped afterwards
#
# PostgreSQL refuses to run as root: when run as root, the cluster belongs to the `postgres`
# user (made by Debian's postgresql package) and its commands run as that user; otherwise
# they run as the calling user. Only the role `awaaz_test` may connect over TCP (trust, on
# loopback only); the superuser connects through the folder's own Unix socket. The role may
# create databases: the test harness makes one per test server and drops it at close.
#
# Settings: AWAAZ_TEST_PG_PORT (55432), AWAAZ_TEST_PG_DIR (${TMPDIR:-/tmp}/awaaz-test-pg-PORT),
# PG_BIN (the newest /usr/lib/postgresql/*/bin, else the PATH).
set -eu

PORT="${AWAAZ_TEST_PG_PORT:-55432}"
DIR="${AWAAZ_TEST_PG_DIR:-${TMPDIR:-/tmp}/awaaz-test-pg-$PORT}"
ROLE=awaaz_test
URL="postgres://$ROLE@127.0.0.1:$PORT/$ROLE"

if [ -z "${PG_BIN:-}" ]; then
  PG_BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
  [ -n "$PG_BIN" ] || PG_BIN="$(dirname "$(command -v pg_ctl || echo /nonexistent/pg_ctl)")"
fi
[ -x "$PG_BIN/pg_ctl" ] || { echo "test-postgres: no PostgreSQL found (set PG_BIN to the folder of initdb and pg_ctl)" >&2; exit 1; }

# Runs a command as the cluster's owner.
as_owner() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

running() {
  [ -f "$DIR/data/PG_VERSION" ] && as_owner "$PG_BIN/pg_ctl" -D "$DIR/data" status >/dev/null 2>&1
}

start() {
  if running; then
    echo "TEST_DATABASE_URL=$URL"
    return
  fi
  if [ ! -f "$DIR/data/PG_VERSION" ]; then
    mkdir -p "$DIR"
    [ "$(id -u)" = 0 ] && chown postgres: "$DIR"
    chmod 700 "$DIR"
    # C collation: text sorts by bytes, as in SQLite, so both engines list rows in one order.
    as_owner "$PG_BIN/initdb" -D "$DIR/data" -U postgres -E UTF8 --locale=C --auth-local=peer --auth-host=reject >"$DIR/initdb.log" 2>&1 || {
      cat "$DIR/initdb.log" >&2
      exit 1
    }
    as_owner sh -c "cat > '$DIR/data/pg_hba.conf'" <<EOF
# Written by scripts/test-postgres.sh: the superuser over the folder's socket, the test role over loopback.
local all postgres peer map=owner
host  all $ROLE 127.0.0.1/32 trust
EOF
    as_owner sh -c "echo 'owner $(id -un) postgres' > '$DIR/data/pg_ident.conf'; echo 'owner postgres postgres' >> '$DIR/data/pg_ident.conf'"
  fi
  as_owner "$PG_BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -c port=$PORT -c unix_socket_directories=$DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
    start >/dev/null || {
    cat "$DIR/server.log" >&2
    exit 1
  }
  psql_super() { as_owner "$PG_BIN/psql" -h "$DIR" -p "$PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -qAtc "$1"; }
  if [ -z "$(psql_super "SELECT 1 FROM pg_roles WHERE rolname = '$ROLE'")" ]; then
    psql_super "CREATE ROLE $ROLE LOGIN CREATEDB"
    psql_super "CREATE DATABASE $ROLE OWNER $ROLE"
  fi
  # DROP DATABASE … WITH (FORCE) at the end of each test must also end an autovacuum worker
  # that happens to be in that database, which takes pg_signal_backend.
  psql_super "GRANT pg_signal_backend TO $ROLE"
  echo "TEST_DATABASE_URL=$URL"
}

stop() {
  if running; then as_owner "$PG_BIN/pg_ctl" -D "$DIR/data" -m fast -w stop >/dev/null; fi
  rm -rf "$DIR"
}

case "${1:-}" in
  available) echo "test-postgres: PostgreSQL found in $PG_BIN" ;;
  start) start ;;
  url) running && echo "TEST_DATABASE_URL=$URL" || { echo "test-postgres: not running (run: $0 start)" >&2; exit 1; } ;;
  stop) stop ;;
  jest)
    shift
    if [ -n "${TEST_DATABASE_URL:-}" ]; then
      exec npx jest --runInBand "$@"
    fi
    started=''
    running || started=yes
    start >/dev/null
    [ -n "$started" ] && trap stop EXIT INT TERM
    TEST_DATABASE_URL="$URL" npx jest --runInBand "$@"
    ;;
  *)
    echo "usage: $0 start | url | stop | available | jest [jest arguments]" >&2
    exit 2
    ;;
esac
