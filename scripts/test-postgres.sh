#!/usr/bin/env bash
# Start (or reuse) a local PostgreSQL cluster for the test suite and print the URL to export
# as CASEWORK_TEST_POSTGRES_URL. Debian/Ubuntu, run as root (CI) or with sudo rights.
#   export CASEWORK_TEST_POSTGRES_URL=$(sudo scripts/test-postgres.sh)
set -euo pipefail

version=$(ls /usr/lib/postgresql | sort -n | tail -1)
if ! pg_lsclusters -h | awk '{print $1" "$2}' | grep -qx "$version main"; then
    pg_createcluster "$version" main >&2
fi
if ! pg_lsclusters -h | awk '$1=="'"$version"'" && $2=="main" {print $4}' | grep -qx online; then
    pg_ctlcluster "$version" main start >&2
fi
port=$(pg_lsclusters -h | awk '$1=="'"$version"'" && $2=="main" {print $3}')

as_postgres() { su postgres -c "$*"; }
if ! as_postgres "psql -p $port -tAc \"SELECT 1 FROM pg_roles WHERE rolname='casework_test'\"" | grep -q 1; then
    as_postgres "psql -p $port -qc \"CREATE ROLE casework_test LOGIN CREATEDB PASSWORD 'casework_test'\"" >&2
fi
# Dropping a scratch database WITH (FORCE) ends its other sessions; an autovacuum worker busy in
# it after a large load belongs to another role, which only pg_signal_backend may end.
as_postgres "psql -p $port -qc \"GRANT pg_signal_backend TO casework_test\"" >&2
if ! as_postgres "psql -p $port -tAc \"SELECT 1 FROM pg_database WHERE datname='casework_test'\"" | grep -q 1; then
    as_postgres "createdb -p $port -O casework_test casework_test" >&2
fi
echo "postgresql+psycopg://casework_test:casework_test@127.0.0.1:$port/casework_test"
