#!/usr/bin/env bash
# Runs wardpage's whole test suite on a fresh machine, installing what it
# needs first: the Rust suites (unit, property, end-to-end against real
# hubs), then the web client's type-check and browser tests against a real
# hub in headless Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# Headless Chromium from the distribution for the browser tests (the test
# tools never download a browser of their own).
if [ -f tests/web/package.json ] && ! command -v chromium >/dev/null 2>&1; then
  echo "== installing chromium"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

# Debian's nginx for the test of the shipped load balancer site in front
# of several hub nodes (run as a plain process on a free port).
if ! [ -x /usr/sbin/nginx ] && ! command -v nginx >/dev/null 2>&1; then
  echo "== installing nginx"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null
fi
export WARDPAGE_TEST_NGINX=required

# Debian's faketime (libfaketime) for the test of a cluster node whose
# clock is minutes off (tests/tests/cluster_clock.rs), preloaded into
# that one node.
if ! ls /usr/lib/*/faketime/libfaketimeMT.so.1 >/dev/null 2>&1; then
  echo "== installing faketime"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq faketime >/dev/null
fi
ls /usr/lib/*/faketime/libfaketimeMT.so.1 >/dev/null
export WARDPAGE_TEST_FAKETIME=required
# Debian's nats-server for the cluster suites that carry traffic over NATS
# (each test starts its own on a free port, to restart or cut it).
if ! [ -x /usr/sbin/nats-server ] && ! command -v nats-server >/dev/null 2>&1; then
  echo "== installing nats-server"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nats-server >/dev/null
fi

# Debian's psql for the browser test of several sites (tests/web/sites.test.js),
# which creates a PostgreSQL database of its own on the server that
# WARDPAGE_TEST_POSTGRES names (as the Rust suites on PostgreSQL do; .ci/run
# sets it). Without that variable those suites skip, saying so, and the
# hazard log check below names the evidence that did not run.
if [ -n "${WARDPAGE_TEST_POSTGRES:-}" ] && ! command -v psql >/dev/null 2>&1; then
  echo "== installing psql"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-client >/dev/null
fi
if [ -z "${WARDPAGE_TEST_POSTGRES:-}" ]; then
  echo "== WARDPAGE_TEST_POSTGRES is not set: the suites on PostgreSQL (several nodes, several sites) will skip"
fi

echo "== building the hub"
cargo build --workspace --bins
export WARDPAGE_BIN="$CARGO_TARGET_DIR/debug/wardpage"

# Each run's test output is kept: the hazard log check reads it.
logs="$root/artifacts/test-logs"
rm -rf "$logs" && mkdir -p "$logs"

echo "== Rust tests"
cargo test --workspace 2>&1 | tee "$logs/rust.log"

echo "== schemathesis against the hub's OpenAPI description"
tests/openapi/run-schemathesis.sh 2>&1 | tee "$logs/schemathesis.log"

echo "== FHIR resources validated with fhir.resources"
tests/fhir/run-validate.sh 2>&1 | tee "$logs/fhir-validate.log"

if [ -f tests/web/package.json ]; then
  echo "== web client: type-check and browser tests"
  (cd tests/web && npm ci --no-audit --no-fund --loglevel=error &&
    npm test -- --test-reporter-destination=stdout \
      --test-reporter=tap --test-reporter-destination="$logs/web.tap")
fi

echo "== hazard log (SAFETY.md) against the tests that ran"
python3 scripts/check-safety.py --logs "$logs"
echo "== all tests passed"
