# shellcheck shell=bash
# t/mcp/lib.sh - what conformance.sh and sdk.sh share (sourced, bash).
#
# mcp_setup BUILDDIR        the paths below; checks the build and the tooling
# mcp_services NAME ARGS..  re-runs the calling script under
#                           t/harness/services.sh (private PostgreSQL 15 and
#                           Redis) unless it already runs under it
# mcp_start NAME [CONF]     pacerd -D on a free 127.0.0.1 port, with the
#                           extra configuration lines CONF; waits until it
#                           serves; sets MCP_PORT, MCP_URL, MCP_LOG
# mcp_stop                  stops it (also on exit and on INT, TERM, HUP)
# mcp_log_clean             stops pacerd; fails, showing them, when its log
#                           has AddressSanitizer or UBSan reports
# mcp_run CMD ARGS..        runs CMD in the background and waits for it, so
#                           that a signal stops CMD and pacerd at once
#
# Environment: MCP_TOOLS, the folder holding node_modules (default
# BUILDDIR/t/mcp-tools, where `make mcp-tools` installs); MCP_RESULTS, where
# results and logs go (default BUILDDIR/t/mcp-results).

MCP_ME=${0##*/}
mcp_say() { printf '%s: %s\n' "$MCP_ME" "$*" >&2; }

mcp_setup() {
	MCP_SRCDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
	MCP_BUILDDIR=$(cd "$1" && pwd) || return 2
	MCP_TOOLS=${MCP_TOOLS:-$MCP_BUILDDIR/t/mcp-tools}
	MCP_RESULTS=${MCP_RESULTS:-$MCP_BUILDDIR/t/mcp-results}
	MCP_PACERD=$MCP_BUILDDIR/master/pacerd
	[ -x "$MCP_PACERD" ] || { mcp_say "$MCP_PACERD not built (run make first)"; return 1; }
	if [ ! -x "$MCP_TOOLS/node_modules/.bin/conformance" ] ||
		[ ! -x "$MCP_TOOLS/node_modules/.bin/node" ]; then
		mcp_say "the MCP test tooling is not installed in $MCP_TOOLS (make mcp-tools)"
		return 1
	fi
	# Node 22 from the tooling, first in PATH: the suite's and the SDK's
	# scripts start with "#!/usr/bin/env node".
	PATH=$MCP_TOOLS/node_modules/.bin:$PATH
	export PATH MCP_TOOLS MCP_RESULTS
	local v
	v=$(node --version)
	case $v in v22.*) ;; *) mcp_say "node in $MCP_TOOLS is $v, not 22"; return 1 ;; esac
	mkdir -p "$MCP_RESULTS"
}

mcp_services() { # NAME SCRIPT ARGS...
	local name=$1
	shift
	[ -z "${PACER_TEST_DATABASE_URL:-}" ] || return 0
	exec bash "$MCP_SRCDIR/t/harness/services.sh" run "$MCP_BUILDDIR/t/mcp-state/$name" -- bash "$@"
}

# A port in 10000..(the kernel's ephemeral range) nothing listens on.
mcp_free_port() {
	local lo p _
	read -r lo _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || lo=32768
	[ "$lo" -gt 11000 ] || lo=32768
	for _ in $(seq 100); do
		p=$((10000 + (RANDOM * 32768 + RANDOM) % (lo - 10000)))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# The status of GET PATH on 127.0.0.1:PORT, or nothing.
mcp_http_status() { # PORT PATH
	local line
	{
		exec 3<>"/dev/tcp/127.0.0.1/$1" &&
			printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1:%s\r\n\r\n' "$2" "$1" >&3 &&
			IFS=' ' read -r -t 5 _ line _ <&3 && echo "$line"
	} 2>/dev/null
}

# The version of an installed package of the tooling.
mcp_version() { # PACKAGE
	node -p "require('$MCP_TOOLS/node_modules/$1/package.json').version" 2>/dev/null || echo '?'
}

MCP_PID='' MCP_CHILD=''
mcp_run() {
	local rc=0
	"$@" &
	MCP_CHILD=$!
	wait "$MCP_CHILD" || rc=$?
	MCP_CHILD=''
	return "$rc"
}

mcp_on_signal() { # EXIT_CODE
	trap '' INT TERM HUP
	[ -z "$MCP_CHILD" ] || kill -TERM "$MCP_CHILD" 2>/dev/null || true
	exit "$1"
}

mcp_stop() {
	[ -n "$MCP_PID" ] || return 0
	local _
	kill -TERM "$MCP_PID" 2>/dev/null || true
	for _ in $(seq 150); do
		kill -0 "$MCP_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$MCP_PID" 2>/dev/null; then
		mcp_say "pacerd (pid $MCP_PID) did not stop in 15 s; killing it"
		kill -KILL "$MCP_PID" 2>/dev/null || true
	fi
	wait "$MCP_PID" 2>/dev/null || true
	MCP_PID=''
}

mcp_log_clean() {
	mcp_stop
	if grep -qE 'ERROR: AddressSanitizer|runtime error:' "$MCP_LOG"; then
		mcp_say "pacerd's log ($MCP_LOG) has sanitizer reports:"
		grep -E -A 12 'ERROR: AddressSanitizer|runtime error:' "$MCP_LOG" | head -n 60 >&2
		return 1
	fi
}

mcp_start() { # NAME [CONF]
	local name=$1 extra=${2:-} dir attempt _ st
	dir=$MCP_RESULTS/$name
	rm -rf "$dir"
	mkdir -p "$dir"
	# The run folder is short: it holds sockets, whose paths are limited.
	MCP_RUN=$(mktemp -d "${TMPDIR:-/tmp}/pacer-mcp.XXXXXX")
	(umask 077 && openssl rand -base64 32 >"$MCP_RUN/master.key")
	MCP_LOG=$dir/pacerd.log
	trap 'mcp_stop; rm -rf "$MCP_RUN"' EXIT
	trap 'mcp_on_signal 130' INT
	trap 'mcp_on_signal 143' TERM
	trap 'mcp_on_signal 129' HUP
	for attempt in 1 2 3; do
		MCP_PORT=$(mcp_free_port) || { mcp_say "no free port"; return 1; }
		cat >"$dir/pacerd.conf" <<CONF
# pacerd.conf for $MCP_ME ($name), written by t/mcp/lib.sh
listen = '127.0.0.1:$MCP_PORT'
run_dir = '$MCP_RUN'
pidfile = '$MCP_RUN/pacerd.pid'
start_workers = 4
min_spare_workers = 2
max_spare_workers = 8
max_workers = 16
shutdown_timeout = 10s
log_level = info
database_url = '$PACER_TEST_DATABASE_URL'
redis_url = '$PACER_TEST_REDIS_URL'
migrations_dir = '$MCP_SRCDIR/sql'
master_key_file = '$MCP_RUN/master.key'
debug_routes = off
access_log = '$dir/access.log'
$extra
CONF
		: >"$MCP_LOG"
		"$MCP_PACERD" -D -f "$dir/pacerd.conf" >>"$MCP_LOG" 2>&1 </dev/null &
		MCP_PID=$!
		# Up when /health/ready answers 200 (database and schema ready)
		# and the master has logged that its whole first pool serves.
		for _ in $(seq 300); do
			kill -0 "$MCP_PID" 2>/dev/null || break
			st=$(mcp_http_status "$MCP_PORT" /health/ready) || st=
			if [ "$st" = 200 ] && grep -q " serving on " "$MCP_LOG"; then
				MCP_URL=http://127.0.0.1:$MCP_PORT
				echo "$MCP_ME: pacerd (pid $MCP_PID) on $MCP_URL, log in $MCP_LOG"
				return 0
			fi
			sleep 0.1
		done
		mcp_stop
		if grep -qi 'address already in use' "$MCP_LOG"; then
			mcp_say "port $MCP_PORT taken (attempt $attempt/3), retrying"
			continue
		fi
		break
	done
	mcp_say "pacerd did not start; the end of its log ($MCP_LOG):"
	tail -n 20 "$MCP_LOG" >&2
	return 1
}
