#!/bin/sh
# What `npm test` runs after type-checking and building: every jest test on the embedded
# SQLite file, then the integration and browser tests (test/integration, test/e2e) again on
# PostgreSQL. Unit tests touch no database and run once.
#
# PostgreSQL: the server of TEST_DATABASE_URL when it is set (its role must be allowed to
# create databases: each test server makes its own and drops it), else a throwaway server
# that scripts/test-postgres.sh starts and stops (PostgreSQL's binaries must be installed).
# With neither, the PostgreSQL run is not done and this says so loudly; under CI=true that
# fails the run instead.
#
# Arguments go to both jest runs (`npm test -- test/integration/flow.test.ts`); without any,
# the PostgreSQL run takes test/integration and test/e2e, less the tests marked @engine-free.
set -u
cd "$(dirname "$0")/.."

summary_file="$(mktemp)"
trap 'rm -f "$summary_file"' EXIT
# test/support/summary-reporter.js appends each run's "awaaz: N passed, …" line here.
export AWAAZ_TEST_SUMMARY_FILE="$summary_file"

banner() {
  echo
  echo "=================================================================="
  echo "$@"
  echo "=================================================================="
}

started=$(date +%s)
banner "awaaz tests on SQLite (every test)"
sqlite_status=0
env -u TEST_DATABASE_URL AWAAZ_TEST_RUN=SQLite npx jest --runInBand "$@" || sqlite_status=$?
sqlite_done=$(date +%s)

# Browser tests marked @engine-free (accessibility, layout, Firefox, known-answer vectors) test
# the browser, not the storage engine: the PostgreSQL run leaves them out, which keeps the CI
# run well inside its time. Named explicitly as arguments, they run on both.
pg_what="$*"
if [ $# -eq 0 ]; then
  set -- test/integration test/e2e --testPathIgnorePatterns /node_modules/
  for file in $(grep -l '@engine-free' test/e2e/*.test.ts); do
    set -- "$@" "/$(basename "$file" | sed 's/\./\\./g')\$"
  done
  pg_what="test/integration test/e2e, less $(($# - 4)) browser tests marked @engine-free"
fi
pg_status=0
pg_run=yes
if [ -n "${TEST_DATABASE_URL:-}" ]; then
  banner "awaaz tests on PostgreSQL at TEST_DATABASE_URL ($pg_what)"
  AWAAZ_TEST_RUN=PostgreSQL npx jest --runInBand "$@" || pg_status=$?
elif scripts/test-postgres.sh available >/dev/null 2>&1; then
  banner "awaaz tests on PostgreSQL, a throwaway server from scripts/test-postgres.sh ($pg_what)"
  AWAAZ_TEST_RUN=PostgreSQL scripts/test-postgres.sh jest "$@" || pg_status=$?
else
  pg_run=''
fi
ended=$(date +%s)

banner "awaaz tests, both engines"
cat "$summary_file"
echo "SQLite run: $((sqlite_done - started)) s; PostgreSQL run: $((ended - sqlite_done)) s"
if [ -z "$pg_run" ]; then
  echo
  echo "!!! THE POSTGRESQL RUN WAS NOT DONE: no TEST_DATABASE_URL and no PostgreSQL installed."
  echo "!!! Install it (apt-get install postgresql) or set TEST_DATABASE_URL=postgres://… (see README, Tests)."
  echo "!!! Only SQLite was tested. Under CI=true this fails the run."
  if [ -n "${CI:-}" ] && [ "${CI}" != false ]; then
    echo "awaaz: FAILED: CI needs the PostgreSQL run"
    exit 1
  fi
fi
[ "$sqlite_status" -eq 0 ] && [ "$pg_status" -eq 0 ] || exit 1
