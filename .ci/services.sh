#!/usr/bin/env bash
# Idempotent: install (from Debian's packages) and start what the benchmark-server tests need,
# skipping whatever is already there. Source it: it exports CLAF_TEST_POSTGRES_URL.
#   PostgreSQL on 127.0.0.1 (a role and database "claf_test"), Chromium + chromedriver (headless browser tests).
set -euo pipefail
need=()
command -v pg_ctlcluster >/dev/null 2>&1 || need+=(postgresql)
[ -x /usr/bin/chromium ] || need+=(chromium)
[ -x /usr/bin/chromedriver ] || need+=(chromium-driver)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
version=$(ls /usr/lib/postgresql | sort -n | tail -1)
if ! pg_lsclusters -h | grep -q .; then
  pg_createcluster "$version" main >/dev/null
fi
cluster=$(pg_lsclusters -h | head -1 | awk '{print $1" "$2}')
port=$(pg_lsclusters -h | head -1 | awk '{print $3}')
if ! pg_lsclusters -h | head -1 | grep -q online; then
  # loopback only
  pg_ctlcluster $cluster start -- -o "-c listen_addresses=127.0.0.1"
fi
su postgres -c "psql -p $port -tAc \"SELECT 1 FROM pg_roles WHERE rolname='claf_test'\"" | grep -q 1 ||
  su postgres -c "psql -p $port -qc \"CREATE ROLE claf_test LOGIN PASSWORD 'claf_test' CREATEDB\""
su postgres -c "psql -p $port -tAc \"SELECT 1 FROM pg_database WHERE datname='claf_test'\"" | grep -q 1 ||
  su postgres -c "psql -p $port -qc \"CREATE DATABASE claf_test OWNER claf_test\""
export CLAF_TEST_POSTGRES_URL="postgresql+psycopg://claf_test:claf_test@127.0.0.1:$port/claf_test"
