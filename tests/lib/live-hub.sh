# Shared by the scripts that test a live hub from Python tools
# (tests/openapi/run-schemathesis.sh, tests/fhir/run-validate.sh); sourced,
# not run. Expects `bin` (the hub binary).

# python_venv VENV READY PACKAGE: a virtualenv at VENV with PACKAGE from
# PyPI, made once; READY is a command that succeeds when it is already there.
python_venv() {
  local venv=$1 ready=$2 package=$3
  if ! eval "$ready" >/dev/null 2>&1; then
    echo "== installing $package into $venv"
    if ! python3 -m venv "$venv" 2>/dev/null; then
      as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
      as_root apt-get update -qq
      as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
      rm -rf "$venv" && python3 -m venv "$venv"
    fi
    "$venv/bin/pip" install -q --disable-pip-version-check "$package"
  fi
}

# start_hub ARGS...: `$bin serve ARGS... --listen 127.0.0.1:0` in the
# background, its output through a pipe so that its "listening" line is
# read as it is printed; sets `hub` (its pid) and `base` (its URL), and
# keeps draining its output into $work/hub.log so it never blocks.
start_hub() {
  mkfifo "$work/out"
  "$bin" serve "$@" --listen 127.0.0.1:0 >"$work/out" 2>&1 &
  hub=$!
  exec 3<"$work/out"
  base=""
  while IFS= read -r -t 30 line <&3; do
    echo "$line" >>"$work/hub.log"
    case $line in
      *"wardpage listening on "*) base=${line##*listening on }; break ;;
    esac
  done
  if [ -z "$base" ]; then
    echo "the hub did not say it was listening:" >&2
    cat "$work/hub.log" >&2
    exit 1
  fi
  cat <&3 >>"$work/hub.log" &
}

# with_scratch: `work`, a scratch folder removed at exit, with the hub
# (once `start_hub` has started it) stopped first.
with_scratch() {
  work=$(mktemp -d)
  hub=""
  trap 'if [ -n "$hub" ] && kill -0 "$hub" 2>/dev/null; then kill "$hub" && wait "$hub" || true; fi; rm -rf "$work"' EXIT
}
