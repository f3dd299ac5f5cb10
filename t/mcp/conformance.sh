#!/usr/bin/env bash
# t/mcp/conformance.sh - the official MCP conformance suite against pacerd.
#
#   t/mcp/conformance.sh BUILDDIR [ARGS...]
#
# Starts a private PostgreSQL 15 and Redis (t/harness/services.sh, unless
# already under it), then BUILDDIR/master/pacerd on a free 127.0.0.1 port
# with mcp_fixtures = on (the suite's test_* tools, resources and prompts,
# for anonymous clients), and runs
#
#   conformance server --url http://127.0.0.1:PORT/mcp --suite active
#
# with Node 22 from the tooling first in PATH. ARGS replace "--suite
# active", e.g. "--scenario tools-call-image". The suite's whole output
# goes to MCP_RESULTS/conformance/output.txt, its per-scenario checks.json
# under MCP_RESULTS/conformance/checks/, pacerd's log next to them; the
# summary and the failed checks are printed. Exits 0 only when no check
# failed. See t/mcp/README.md.
set -euo pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"

[ $# -ge 1 ] || { echo "usage: $0 BUILDDIR [CONFORMANCE-SERVER-ARGS...]" >&2; exit 2; }
mcp_setup "$1"
mcp_services conformance "$0" "$@"
shift
args=("$@")
[ ${#args[@]} -gt 0 ] || args=(--suite active)

mcp_start conformance "mcp_fixtures = on"
dir=$MCP_RESULTS/conformance
out=$dir/output.txt
echo "$MCP_ME: @modelcontextprotocol/conformance $(mcp_version @modelcontextprotocol/conformance), node $(node --version):" \
	"conformance server --url $MCP_URL/mcp ${args[*]}"
start=$SECONDS
rc=0
# A hung scenario must not hang make check: MCP_TIMEOUT seconds at most.
mcp_run timeout -k 10 "${MCP_TIMEOUT:-600}" \
	conformance server --url "$MCP_URL/mcp" -o "$dir/checks" "${args[@]}" \
	>"$out" 2>&1 </dev/null || rc=$?
[ "$rc" -ne 124 ] || mcp_say "the suite ran longer than ${MCP_TIMEOUT:-600} s; stopped"
secs=$((SECONDS - start))

# The suite's own summary (all scenarios), or one scenario's result.
if grep -q '^=== SUMMARY ===' "$out"; then
	sed -n '/^=== SUMMARY ===/,$p' "$out"
else
	grep -E '^(Passed: |Running client scenario)' "$out" || tail -n 20 "$out"
fi
# Each failed check, with its scenario, from the saved checks.json files.
node - "$dir/checks" <<'JS' || true
const fs = require('fs'), path = require('path');
const root = process.argv[2];
for (const d of fs.existsSync(root) ? fs.readdirSync(root).sort() : []) {
  const f = path.join(root, d, 'checks.json');
  if (!fs.existsSync(f)) continue;
  const scenario = d.replace(/^server-/, '').replace(/-\d{4}-\d\d-\d\dT.*$/, '');
  for (const c of JSON.parse(fs.readFileSync(f, 'utf8'))) {
    if (c.status !== 'FAILURE') continue;
    const why = String(c.errorMessage || c.description || '').replace(/\s+/g, ' ');
    console.log(`FAILED ${scenario}: ${c.name}: ${why.length > 240 ? why.slice(0, 240) + '...' : why}`);
  }
}
JS
mcp_log_clean || rc=1
if [ "$rc" -ne 0 ]; then
	mcp_say "FAILED (exit $rc) in $secs s; the whole output is $out, pacerd's log $MCP_LOG"
else
	echo "$MCP_ME: every check passed in $secs s (output in $out)"
fi
exit "$rc"
