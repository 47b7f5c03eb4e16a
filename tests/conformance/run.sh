#!/usr/bin/env bash
# Run the MCP conformance scenarios that apply to any server against a running
# GoldenSignals endpoint, through auth_proxy.py (the suite cannot send a token).
#
#   tests/conformance/run.sh URL TOKEN
#     URL    the server's endpoint, e.g. http://127.0.0.1:8787/mcp
#     TOKEN  a bearer token with every scope (the dev token `serve` prints)
#
# Needs Node >= 22 and @modelcontextprotocol/conformance@0.1.16 in
# .ci/node_modules (./scripts/test installs both), or CONFORMANCE_BIN set to a
# `conformance` executable that runs on the node found in PATH.
# Prints a pass/fail table and "conformance: N passed, N failed"; exits 1 if any
# scenario failed. Each scenario's full output goes to $CONFORMANCE_LOG_DIR
# (default: a temp dir, kept and named at the end only if a scenario failed).
set -euo pipefail

if [[ $# -ne 2 ]]; then
  echo "usage: $0 URL TOKEN" >&2
  exit 2
fi
url=$1
token=$2

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)

scenarios=(
  server-initialize
  ping
  tools-list
  resources-list
  prompts-list
  completion-complete
  logging-set-level
  dns-rebinding-protection
)

node_bin="$root/.ci/node_modules/.bin"
conformance=${CONFORMANCE_BIN:-$node_bin/conformance}
if [[ ! -x $conformance ]]; then
  echo "error: $conformance not found; run ./scripts/test once (it installs the suite into .ci/node_modules)" >&2
  exit 2
fi
# The suite's shebang is `env node`: put the Node 22 from .ci/node_modules first.
export PATH="$node_bin:$PATH"
node_major=$(node -p 'process.versions.node.split(".")[0]')
if (( node_major < 22 )); then
  echo "error: the conformance suite needs Node >= 22, found $(node --version) at $(command -v node)" >&2
  exit 2
fi

upstream_origin=$(python3 -c 'import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); print(f"{p.scheme}://{p.netloc}")' "$url")
endpoint_path=$(python3 -c 'import sys, urllib.parse as u; print(u.urlsplit(sys.argv[1]).path or "/")' "$url")

own_log_dir=
if [[ -n ${CONFORMANCE_LOG_DIR:-} ]]; then
  log_dir=$CONFORMANCE_LOG_DIR
  mkdir -p "$log_dir"
else
  log_dir=$(mktemp -d "${TMPDIR:-/tmp}/gs-conformance.XXXXXX")
  own_log_dir=1
fi

proxy_pid=
cleanup() {
  if [[ -n $proxy_pid ]]; then
    kill "$proxy_pid" 2>/dev/null || true
    wait "$proxy_pid" 2>/dev/null || true
  fi
}
trap cleanup EXIT

AUTH_PROXY_TOKEN=$token python3 "$here/auth_proxy.py" --upstream "$upstream_origin" \
  >"$log_dir/proxy.out" 2>"$log_dir/proxy.err" &
proxy_pid=$!

proxy_origin=
for _ in $(seq 100); do
  proxy_origin=$(sed -n 's/^auth proxy listening on //p' "$log_dir/proxy.out")
  [[ -n $proxy_origin ]] && break
  if ! kill -0 "$proxy_pid" 2>/dev/null; then
    echo "error: auth proxy exited:" >&2
    cat "$log_dir/proxy.err" >&2
    exit 1
  fi
  sleep 0.1
done
if [[ -z $proxy_origin ]]; then
  echo "error: auth proxy did not start within 10 s" >&2
  exit 1
fi
proxy_url="$proxy_origin$endpoint_path"
echo "conformance: $(node --version), suite $("$conformance" --version), via $proxy_url -> $url"

declare -A status seconds
failed=0
for scenario in "${scenarios[@]}"; do
  started=$SECONDS
  if timeout 180 "$conformance" server --url "$proxy_url" --scenario "$scenario" \
    >"$log_dir/$scenario.log" 2>&1 </dev/null; then
    status[$scenario]=PASS
  else
    status[$scenario]="FAIL (exit $?)"
    failed=$((failed + 1))
    echo "---- $scenario failed; its output ($log_dir/$scenario.log):"
    cat "$log_dir/$scenario.log"
    echo "----"
  fi
  seconds[$scenario]=$((SECONDS - started))
done

echo
printf '%-28s %-14s %s\n' SCENARIO RESULT TIME
for scenario in "${scenarios[@]}"; do
  printf '%-28s %-14s %ss\n' "$scenario" "${status[$scenario]}" "${seconds[$scenario]}"
done
if (( failed )); then
  echo "logs: $log_dir"
elif [[ -n $own_log_dir ]]; then
  rm -rf "$log_dir"
fi
echo "conformance: $(( ${#scenarios[@]} - failed )) passed, $failed failed"
(( failed == 0 ))
