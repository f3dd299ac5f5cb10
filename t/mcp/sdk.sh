#!/usr/bin/env bash
# t/mcp/sdk.sh - the official TypeScript SDK client against pacerd.
#
#   t/mcp/sdk.sh BUILDDIR [TEST...]
#
# Starts a private PostgreSQL 15 and Redis (t/harness/services.sh, unless
# already under it), then BUILDDIR/master/pacerd on a free 127.0.0.1 port
# with mcp_fixtures off and auto_approve_users on, and runs each TEST
# (default: sdk_apikey sdk_oauth, the t/mcp/TEST.mjs scripts) with Node 22
# from the tooling. Their TAP-like output is shown and kept in
# MCP_RESULTS/sdk/TEST.tap, pacerd's log next to it. Exits 0 only when
# every test passed. See t/mcp/README.md.
set -euo pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "$0")/lib.sh"

[ $# -ge 1 ] || { echo "usage: $0 BUILDDIR [TEST...]" >&2; exit 2; }
mcp_setup "$1"
mcp_services sdk "$0" "$@"
shift
tests=("$@")
[ ${#tests[@]} -gt 0 ] || tests=(sdk_apikey sdk_oauth)
here=$MCP_SRCDIR/t/mcp
for t in "${tests[@]}"; do
	[ -f "$here/$t.mjs" ] || { mcp_say "no test $here/$t.mjs"; exit 2; }
done

mcp_start sdk "mcp_fixtures = off
auto_approve_users = on
rate_limit_auth = 1000"
dir=$MCP_RESULTS/sdk
# The scripts import the SDK by name, which Node resolves from the
# script's folder: run copies next to a link to the tooling's modules.
install -m 644 "$here/tap.mjs" "$dir/"
ln -sfn "$MCP_TOOLS/node_modules" "$dir/node_modules"

rc=0
summary=()
for t in "${tests[@]}"; do
	install -m 644 "$here/$t.mjs" "$dir/"
	echo "--- $t (@modelcontextprotocol/sdk $(mcp_version @modelcontextprotocol/sdk), node $(node --version))"
	start=$SECONDS
	trc=0
	# The output goes to the file and the terminal as it comes.
	# shellcheck disable=SC2016 # $1.. expand in the inner shell
	mcp_run bash -c 'set -o pipefail; node "$1" "$2" </dev/null 2>&1 | tee "$3"' sdk \
		"$dir/$t.mjs" "$MCP_URL" "$dir/$t.tap" || trc=$?
	n_ok=$(grep -c '^ok ' "$dir/$t.tap" || true)
	n_fail=$(grep -c '^not ok ' "$dir/$t.tap" || true)
	if [ "$trc" -eq 0 ]; then
		summary+=("ok   $t: $n_ok checks passed ($((SECONDS - start)) s)")
	else
		rc=1
		summary+=("FAIL $t: $n_fail of $((n_ok + n_fail)) checks failed (exit $trc, $((SECONDS - start)) s)")
	fi
done
mcp_log_clean || { rc=1; summary+=("FAIL pacerd's log has sanitizer reports"); }
echo "=== SDK SUMMARY ==="
printf '%s\n' "${summary[@]}"
[ "$rc" -eq 0 ] || mcp_say "FAILED; the output is in $dir/*.tap, pacerd's log $MCP_LOG"
exit "$rc"
