#!/usr/bin/env bash
# Validates the FHIR resources a live hub emits with PyPI's fhir.resources
# (validate.py): starts the built hub on a free port with the demo
# hospital (its patients included), makes an API key with the CLI, posts
# sets over FHIR and validates everything read back.
#
#   WARDPAGE_BIN=target/debug/wardpage tests/fhir/run-validate.sh
#
# fhir.resources 8.3.0's R4B models, not 6.4.0's strict R4: 6.4.0 needs
# pydantic 1, which is no longer maintained, while R4B differs from R4
# 4.0.1 only in modules we do not emit (Patient, Observation, Task,
# Communication, Bundle, CapabilityStatement and OperationOutcome are the
# same in structure and cardinality). validate.py checks what the models
# do not (Task inv-1, status and priority codes).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
target="${CARGO_TARGET_DIR:-$root/target}"
bin="${WARDPAGE_BIN:-$target/debug/wardpage}"
[ -x "$bin" ] || { echo "no hub at $bin: cargo build -p wardpage-server --bin wardpage" >&2; exit 1; }

. tests/lib/live-hub.sh
venv="$target/fhir-venv"
python_venv "$venv" '"$venv/bin/python" -c "import fhir.resources.R4B"' 'fhir.resources==8.3.0'

with_scratch

start_hub --demo --db "$work/hub.db"

# Made once the demo hospital is loaded (its patients come only with a
# fresh database); validate.py waits for the hub to load the key's account.
key=$("$bin" apikey create --db "$work/hub.db" --name validator \
  --scopes fhir:read,observations:write 2>/dev/null)

echo "== fhir.resources (R4B) against $base/fhir"
status=0
"$venv/bin/python" tests/fhir/validate.py "$base" "$key" || status=$?
if [ "$status" != 0 ]; then
  echo "FHIR validation failed; the hub's log:" >&2
  tail -n 50 "$work/hub.log" >&2
fi
exit "$status"
