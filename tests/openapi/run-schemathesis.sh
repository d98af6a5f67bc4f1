#!/usr/bin/env bash
# schemathesis (from PyPI) against the OpenAPI description of a live hub:
# starts the built hub on a free port with an empty demo hospital, waits
# for its "listening" line, generates a bounded number of requests per
# operation from /api/openapi.json and fails if any answer is a server
# error, has a status the description does not list, or breaks its
# content type, headers or schema. Login throttling answers 429 under
# this load: that answer is described, so it conforms.
#
#   WARDPAGE_BIN=target/debug/wardpage tests/openapi/run-schemathesis.sh
#
# SCHEMATHESIS_MAX_EXAMPLES (default 30) bounds the examples per
# operation; SCHEMATHESIS_SEED replays a run (each run prints its seed).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
target="${CARGO_TARGET_DIR:-$root/target}"
bin="${WARDPAGE_BIN:-$target/debug/wardpage}"
[ -x "$bin" ] || { echo "no hub at $bin: cargo build -p wardpage-server --bin wardpage" >&2; exit 1; }

# schemathesis in its own virtualenv beside the build, installed once.
. tests/lib/live-hub.sh
venv="$target/schemathesis-venv"
python_venv "$venv" '[ -x "$venv/bin/schemathesis" ]' 'schemathesis==4.32.5'

with_scratch

# An API key, so that the FHIR routes are exercised past their key check
# (made before the hub starts: it loads the key's account with the roster).
key=$("$bin" apikey create --db "$work/hub.db" --name schemathesis \
  --scopes fhir:read,observations:write 2>/dev/null)

start_hub --demo --no-patients --db "$work/hub.db"

echo "== schemathesis against $base/api/openapi.json"
seed=()
[ -n "${SCHEMATHESIS_SEED:-}" ] && seed=(--seed "$SCHEMATHESIS_SEED")
status=0
# From the scratch folder: schemathesis leaves its cache where it runs.
(cd "$work" && "$venv/bin/schemathesis" run "$base/api/openapi.json" --url "$base" \
  --max-examples "${SCHEMATHESIS_MAX_EXAMPLES:-30}" "${seed[@]}" \
  -H "Authorization: Bearer $key" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance) \
  || status=$?
if [ "$status" != 0 ]; then
  echo "schemathesis failed ($status); the hub's log:" >&2
  tail -n 50 "$work/hub.log" >&2
fi
exit "$status"
