#!/usr/bin/env bash
# health.sh - benchmark pacerd's GET /health/live (no I/O), GET
# /health/ready (one prepared query on the worker's PostgreSQL connection)
# and GET /api/me authenticated with an access token (JWT) and with an API
# key, and POST /mcp with a tools/call of server_status (an MCP session
# opened beforehand, the same access token), against nginx answering a
# fixed 200 on the same machine, with wrk; and the latency of a login
# (scrypt at the configured cost).
#
# Usage: t/bench/health.sh [PACERD [PACERCTL]]   (or: make bench)
#
# Starts pacerd in the foreground (-D, in the background of this script)
# and nginx, each on a free loopback port with the same number of worker
# processes, both from private configurations in a temporary folder. Then
# runs wrk (-t2 -c64 -d10s by default) against each, alternating, ROUNDS
# times, and prints every run (req/s, p50, p99), the medians, the ratios
# pacerd/nginx (goal for /health/live: at least 0.6) and the CPU time each
# server spent per request (utime + stime of the master and all its
# workers, from /proc, before and after a run). The cost of authenticating
# a request is the CPU per request of /api/me with a credential minus
# that of /health/live; the cost of the MCP layer, that of the tools/call
# minus that of /api/me with the same token. Logins: LOGINS sequential
# POST /api/auth/login with curl, p50 and p95 of curl's total time.
# Everything it started is stopped and removed on exit.
#
# The API key is an enterprise key (3,000 requests a minute): under wrk
# most of its requests are answered 429 after the key's full check (the
# lookup in PostgreSQL and the burst count in Redis), so its figure is the
# cost of authenticating and limiting, which is what it measures; the
# non-2xx count says how many.
#
# pacerd needs PostgreSQL and Redis: `make bench` runs this script under
# t/harness/services.sh, which starts private ones and exports
# PACER_TEST_DATABASE_URL and PACER_TEST_REDIS_URL (DATABASE_URL and
# REDIS_URL work too).
#
# If pacerd cannot start (not built yet, a missing database...), it says
# why and measures nginx alone. As root it installs wrk and nginx-light
# when they are missing. Not a test: it never fails on a low figure.
#
# Environment: THREADS (2), CONNS (64), DURATION (10s), ROUNDS (3),
# WORKERS (number of cores, at least 2), RECYCLE (max_requests_per_worker
# for pacerd, 0 = never), KEEP (1: keep the temporary folder), LOGINS (50).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
PACERD=${1:-${PACERD:-$here/../../master/pacerd}}
PACERCTL=${2:-${PACERCTL:-$here/../../master/pacerctl}}
THREADS=${THREADS:-2}
CONNS=${CONNS:-64}
DURATION=${DURATION:-10s}
ROUNDS=${ROUNDS:-3}
RECYCLE=${RECYCLE:-0}
KEEP=${KEEP:-0}
LOGINS=${LOGINS:-50}
cores=$(nproc 2>/dev/null || echo 2)
WORKERS=${WORKERS:-$((cores < 2 ? 2 : cores))}
TICK=$(getconf CLK_TCK)
DB_URL=${PACER_TEST_DATABASE_URL:-${DATABASE_URL:-}}
REDIS_URL_=${PACER_TEST_REDIS_URL:-${REDIS_URL:-redis://127.0.0.1:6379/0}}

tmp=""
pacerd_pid=""
nginx_pid=""

say() { printf '%s\n' "$*"; }
warn() { printf 'health.sh: %s\n' "$*" >&2; }

cleanup() {
	local rc=$?
	if [[ -n $pacerd_pid ]] && kill -0 "$pacerd_pid" 2>/dev/null; then
		kill -TERM "$pacerd_pid" 2>/dev/null || true
		wait_gone "$pacerd_pid" 100 || kill -KILL "$pacerd_pid" 2>/dev/null || true
	fi
	if [[ -n $nginx_pid ]] && kill -0 "$nginx_pid" 2>/dev/null; then
		kill -QUIT "$nginx_pid" 2>/dev/null || true
		wait_gone "$nginx_pid" 100 || kill -KILL "$nginx_pid" 2>/dev/null || true
	fi
	wait 2>/dev/null || true
	if [[ -n $tmp && -d $tmp ]]; then
		if [[ $KEEP == 1 ]]; then
			warn "kept $tmp"
		else
			rm -rf "$tmp"
		fi
	fi
	exit "$rc"
}

# wait_gone PID TENTHS: true once PID has exited.
wait_gone() {
	local i
	for ((i = 0; i < $2; i++)); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
	return 1
}

need_tools() {
	local missing=()
	command -v wrk >/dev/null || missing+=(wrk)
	command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || missing+=(nginx-light)
	((${#missing[@]} == 0)) && return 0
	if [[ $(id -u) != 0 ]]; then
		warn "missing: ${missing[*]}; install them (apt-get install ${missing[*]}) or run as root"
		exit 1
	fi
	say "installing ${missing[*]}"
	if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null; then
		apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
	fi
}

# A TCP port nobody listens on (from /proc/net/tcp*), in 20000-59999.
free_port() {
	local used="" hex port
	while read -r hex; do
		used+="$((16#$hex))"$'\n'
	done < <(awk 'NR > 1 && $4 == "0A" { split($2, a, ":"); print a[2] }' \
		/proc/net/tcp /proc/net/tcp6 2>/dev/null)
	while :; do
		port=$((20000 + RANDOM % 40000))
		grep -qx "$port" <<<"$used" || break
	done
	echo "$port"
}

# http_ok PORT PATH: true when GET PATH answers 200.
http_ok() {
	# shellcheck disable=SC2016 # expanded by the inner bash
	timeout 2 bash -c '
		exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
		printf "GET %s HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n" "$2" >&3
		IFS= read -r line <&3
		[[ $line == "HTTP/1."?" 200"* ]]' _ "$1" "$2" 2>/dev/null
}

# wait_http PORT PATH PID: until it answers 200 (true), PID dies or 10 s pass.
wait_http() {
	local i
	for ((i = 0; i < 100; i++)); do
		http_ok "$1" "$2" && return 0
		kill -0 "$3" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# cpu_ticks PID: utime + stime of PID, its reaped children (cutime +
# cstime, which keeps workers recycled during a run counted) and its live
# children.
cpu_ticks() {
	local master=$1 total=0 pid f
	for f in /proc/[0-9]*/stat; do
		pid=${f#/proc/}
		pid=${pid%/stat}
		# Field 4 is the ppid; fields 14-17 utime stime cutime cstime.
		# The command name (field 2) may hold spaces: cut after ") ".
		local s
		{ read -r s <"$f"; } 2>/dev/null || continue
		s=${s##*) }
		# shellcheck disable=SC2086
		set -- $s
		# after the cut: $1 state, $2 ppid, $12 utime, $13 stime,
		# $14 cutime, $15 cstime
		if [[ $pid == "$master" ]]; then
			total=$((total + ${12} + ${13} + ${14} + ${15}))
		elif [[ $2 == "$master" ]]; then
			total=$((total + ${12} + ${13}))
		fi
	done
	echo "$total"
}

# run_wrk NAME URL PID [WRK-ARG...]: one wrk run (with the extra
# arguments: -H FIELD, -s SCRIPT); appends "rps cpu_us p50_ms p99_ms" to
# $tmp/rps.NAME.
run_wrk() {
	local name=$1 url=$2 pid=$3 out before after reqs rps p50 p99 errs cpu
	shift 3
	before=$(cpu_ticks "$pid")
	out=$(wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency "$@" "$url")
	after=$(cpu_ticks "$pid")
	reqs=$(awk '/requests in/ { print $1 }' <<<"$out")
	rps=$(awk '/^Requests\/sec:/ { print $2 }' <<<"$out")
	p50=$(awk '$1 == "50%" { print $2 }' <<<"$out")
	p99=$(awk '$1 == "99%" { print $2 }' <<<"$out")
	errs=$(awk '/Non-2xx or 3xx responses:/ { n += $NF }
		/Socket errors:/ { gsub(",", ""); n += $4 + $6 + $8 + $10 }
		END { print n + 0 }' <<<"$out")
	cpu=$(awk -v t=$((after - before)) -v hz="$TICK" -v n="${reqs:-0}" \
		'BEGIN { if (n > 0) printf "%.1f", t / hz / n * 1e6; else print "n/a" }')
	printf 'round %d  %-13s %10.1f req/s  p50 %-9s p99 %-9s errors %-6s cpu %s us/req\n' \
		"$round" "$name" "${rps:-0}" "${p50:-?}" "${p99:-?}" "$errs" "$cpu"
	echo "${rps:-0} $cpu $(to_ms "${p50:-0}") $(to_ms "${p99:-0}")" >>"$tmp/rps.$name"
}

# to_ms LATENCY: wrk's "812.00us", "1.20ms" or "2.01s" in milliseconds.
to_ms() {
	awk -v v="$1" 'BEGIN {
		if (v ~ /us$/) printf "%.3f", v / 1000;
		else if (v ~ /ms$/) printf "%.3f", v + 0;
		else if (v ~ /s$/) printf "%.3f", v * 1000;
		else print "n/a" }'
}

median() { # median of column $2 of file $1
	sort -g -k"$2","$2" "$1" | awk -v c="$2" '{ v[NR] = $c }
		END { if (NR == 0 || v[1] == "n/a") print "n/a";
		      else if (NR % 2) printf "%.1f\n", v[(NR + 1) / 2];
		      else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# show_median NAME: the medians of a server's runs.
show_median() {
	local f=$tmp/rps.$1
	say "median  $(printf '%-13s' "$1") $(median "$f" 1) req/s, p50 $(median3 "$f" 3) ms, p99 $(median3 "$f" 4) ms, cpu $(median "$f" 2) us/req"
}

median3() { # as median, three decimals (latencies in ms)
	sort -g -k"$2","$2" "$1" | awk -v c="$2" '{ v[NR] = $c }
		END { if (NR == 0 || v[1] == "n/a") print "n/a";
		      else if (NR % 2) printf "%.3f\n", v[(NR + 1) / 2];
		      else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

start_pacerd() {
	local port=$1
	if [[ ! -x $PACERD ]]; then
		warn "no pacerd at $PACERD: build it first (make); measuring nginx alone"
		return 1
	fi
	if [[ -z $DB_URL ]]; then
		warn "no database: run through make bench (or set DATABASE_URL); measuring nginx alone"
		return 1
	fi
	mkdir -p "$tmp/run"
	cat >"$tmp/pacerd.conf" <<-EOF
		# written by t/bench/health.sh
		listen = '127.0.0.1:$port'
		run_dir = '$tmp/run'
		pidfile = '$tmp/run/pacerd.pid'
		start_workers = $WORKERS
		min_spare_workers = 0
		max_spare_workers = $WORKERS
		max_workers = $WORKERS
		max_requests_per_worker = $RECYCLE
		keepalive_requests = 1000
		access_log = ''
		log_destination = file
		log_file = '$tmp/pacerd.log'
		log_level = warn
		database_url = '$DB_URL'
		redis_url = '$REDIS_URL_'
		migrations_dir = '$here/../../sql'
		master_key_file = '$tmp/master.key'
		auto_approve_users = on
		rate_limit_auth = 0
	EOF
	(umask 077 && openssl rand -base64 32 >"$tmp/master.key")
	"$PACERD" -D -f "$tmp/pacerd.conf" >"$tmp/pacerd.out" 2>&1 &
	pacerd_pid=$!
	if ! wait_http "$port" /health/live "$pacerd_pid"; then
		warn "pacerd did not start; measuring nginx alone. It said:"
		{ head -n 3 "$tmp/pacerd.out"; tail -n 3 "$tmp/pacerd.log"; } 2>/dev/null | sed 's/^/    /' >&2
		kill -KILL "$pacerd_pid" 2>/dev/null || true
		pacerd_pid=""
		return 1
	fi
}

start_nginx() {
	local port=$1 nginx
	nginx=$(command -v nginx || echo /usr/sbin/nginx)
	mkdir -p "$tmp/nginx"
	cat >"$tmp/nginx/nginx.conf" <<-EOF
		# written by t/bench/health.sh
		worker_processes $WORKERS;
		daemon off;
		pid $tmp/nginx/nginx.pid;
		error_log $tmp/nginx/error.log warn;
		events { worker_connections 1024; }
		http {
		    access_log off;
		    keepalive_requests 1000;
		    client_body_temp_path $tmp/nginx/body;
		    proxy_temp_path $tmp/nginx/proxy;
		    fastcgi_temp_path $tmp/nginx/fastcgi;
		    uwsgi_temp_path $tmp/nginx/uwsgi;
		    scgi_temp_path $tmp/nginx/scgi;
		    server {
		        listen 127.0.0.1:$port;
		        location / { default_type text/plain; return 200 "ok"; }
		    }
		}
	EOF
	"$nginx" -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" -e "$tmp/nginx/error.log" \
		>"$tmp/nginx/out" 2>&1 &
	nginx_pid=$!
	if ! wait_http "$port" / "$nginx_pid"; then
		warn "nginx did not start:"
		cat "$tmp/nginx/out" "$tmp/nginx/error.log" 2>/dev/null | tail -n 5 >&2
		exit 1
	fi
}

# setup_identity PORT: a user, an access token ($token) and an enterprise
# API key ($apikey), made through the API and, for the key's tier, SQL.
setup_identity() {
	local port=$1 body uid
	body='{"email":"bench@example.org","password":"bench-password-1"}'
	curl -s -o /dev/null -X POST "http://127.0.0.1:$port/api/auth/register" \
		-H 'Content-Type: application/json' -d "$body" || return 1
	token=$(curl -s -X POST "http://127.0.0.1:$port/api/auth/login" \
		-H 'Content-Type: application/json' -d "$body" |
		sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
	[[ -n $token ]] || return 1
	uid=$(psql "$DB_URL" -qtA -c "SELECT id FROM users WHERE email = 'bench@example.org'")
	apikey="pk_live_$(openssl rand -hex 16)"
	psql "$DB_URL" -qtA -c "INSERT INTO api_keys (user_id, name, key_hash, key_prefix, tier)
		VALUES ('$uid', 'bench', sha256(convert_to('$apikey', 'UTF8')), left('$apikey', 12), 'enterprise')" \
		>/dev/null || return 1
}

# The MCP request wrk sends: a tools/call of server_status (no query of
# its own) in the session setup_mcp opened.
MCP_CALL='{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"server_status","arguments":{}}}'

# mcp_post PORT BODY [CURL-ARG...]: POST /mcp as a client of the session
# would (without Mcp-Session-Id while there is none).
mcp_post() {
	local port=$1 body=$2 sid=()
	shift 2
	[[ -n ${mcp_session:-} ]] && sid=(-H "Mcp-Session-Id: $mcp_session")
	curl -s -X POST "http://127.0.0.1:$port/mcp" "$@" \
		-H 'Content-Type: application/json' \
		-H 'Accept: application/json, text/event-stream' \
		-H "Authorization: Bearer $token" "${sid[@]}" -d "$body"
}

# mcp_check PORT WHEN: the tools/call answers 200 with a result (not a
# JSON-RPC error, not isError).
mcp_check() {
	local out
	out=$(mcp_post "$1" "$MCP_CALL" -H 'MCP-Protocol-Version: 2025-11-25' \
		-w '\n%{http_code}')
	if [[ ${out##*$'\n'} != 200 || $out != *'"result":'* || $out == *'"isError":true'* ]]; then
		warn "tools/call server_status ($2) answered: $(head -c 300 <<<"$out")"
		return 1
	fi
}

# setup_mcp PORT: initialize (its Mcp-Session-Id in $mcp_session),
# notifications/initialized, one checked tools/call, and $tmp/mcp.lua for
# wrk, which POSTs the same tools/call with the headers a client sends.
setup_mcp() {
	local port=$1 init
	init='{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"health.sh","version":"1"}}}'
	mcp_session=$(mcp_post "$port" "$init" -o /dev/null -D - |
		tr -d '\r' | sed -n 's/^[Mm]cp-[Ss]ession-[Ii]d: *//p')
	[[ -n $mcp_session ]] || return 1
	[[ $(mcp_post "$port" '{"jsonrpc":"2.0","method":"notifications/initialized"}' \
		-H 'MCP-Protocol-Version: 2025-11-25' -o /dev/null -w '%{http_code}') == 202 ]] ||
		return 1
	mcp_check "$port" before || return 1
	cat >"$tmp/mcp.lua" <<-EOF
		-- written by t/bench/health.sh: tools/call server_status in one session
		wrk.method = "POST"
		wrk.body = '$MCP_CALL'
		wrk.headers["Content-Type"] = "application/json"
		wrk.headers["Accept"] = "application/json, text/event-stream"
		wrk.headers["Authorization"] = "Bearer $token"
		wrk.headers["Mcp-Session-Id"] = "$mcp_session"
		wrk.headers["MCP-Protocol-Version"] = "2025-11-25"
	EOF
}

# login_latency PORT: LOGINS logins one after another; p50 and p95 in ms.
login_latency() {
	local port=$1 i
	for ((i = 0; i < LOGINS; i++)); do
		curl -s -o /dev/null -w '%{time_total}\n' -X POST \
			"http://127.0.0.1:$port/api/auth/login" -H 'Content-Type: application/json' \
			-d '{"email":"bench@example.org","password":"bench-password-1"}'
	done | sort -g | awk '{ v[NR] = $1 * 1000 }
		END { if (NR == 0) { print "login   n/a"; exit }
		      i50 = int(NR * 0.50 + 0.5); i95 = int(NR * 0.95 + 0.5)
		      if (i50 < 1) i50 = 1; if (i95 < 1) i95 = 1
		      printf "login   %d sequential logins: p50 %.1f ms, p95 %.1f ms, max %.1f ms\n", NR, v[i50], v[i95], v[NR] }'
}

main() {
	local pport nport have_pacerd=1 mp mn ratio
	trap cleanup EXIT
	trap 'exit 130' INT TERM
	need_tools
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/pacer-bench.XXXXXX")
	pport=$(free_port)
	nport=$(free_port)
	while [[ $nport == "$pport" ]]; do nport=$(free_port); done
	start_pacerd "$pport" || have_pacerd=0
	start_nginx "$nport"

	say "pacer benchmark: wrk -t$THREADS -c$CONNS -d$DURATION, $ROUNDS rounds, $WORKERS workers each, $cores cores"
	say "  pacerd GET http://127.0.0.1:$pport/health/live$( ((have_pacerd)) || echo ' (not running)')"
	say "  pacerd GET http://127.0.0.1:$pport/health/ready (one row from PostgreSQL per request)"
	say "  pacerd POST http://127.0.0.1:$pport/mcp tools/call server_status (JWT, one MCP session)"
	say "  nginx  GET http://127.0.0.1:$nport/ (return 200 \"ok\")"
	: >"$tmp/rps.pacerd-live"
	: >"$tmp/rps.pacerd-ready"
	: >"$tmp/rps.nginx"
	: >"$tmp/rps.pacerd-jwt"
	: >"$tmp/rps.pacerd-apikey"
	: >"$tmp/rps.pacerd-mcp"
	if ((have_pacerd)) && ! setup_identity "$pport"; then
		warn "could not make a user, token and key; skipping /api/me"
		token=""
	fi
	mcp_session=""
	if [[ -n ${token:-} ]] && ! setup_mcp "$pport"; then
		warn "could not open an MCP session; skipping /mcp"
		mcp_session=""
	fi
	for ((round = 1; round <= ROUNDS; round++)); do
		if ((have_pacerd)); then
			run_wrk pacerd-live "http://127.0.0.1:$pport/health/live" "$pacerd_pid"
			run_wrk pacerd-ready "http://127.0.0.1:$pport/health/ready" "$pacerd_pid"
			if [[ -n ${token:-} ]]; then
				run_wrk pacerd-jwt "http://127.0.0.1:$pport/api/me" "$pacerd_pid" \
					-H "Authorization: Bearer $token"
				run_wrk pacerd-apikey "http://127.0.0.1:$pport/api/me" "$pacerd_pid" \
					-H "X-API-Key: $apikey"
			fi
			if [[ -n ${mcp_session:-} ]]; then
				run_wrk pacerd-mcp "http://127.0.0.1:$pport/mcp" "$pacerd_pid" \
					-s "$tmp/mcp.lua"
			fi
		fi
		run_wrk nginx "http://127.0.0.1:$nport/" "$nginx_pid"
	done

	mn=$(median "$tmp/rps.nginx" 1)
	show_median nginx
	if ((have_pacerd)); then
		for name in pacerd-live pacerd-ready pacerd-jwt pacerd-apikey pacerd-mcp; do
			[[ -s $tmp/rps.$name ]] || continue
			show_median "$name"
			mp=$(median "$tmp/rps.$name" 1)
			ratio=$(awk -v p="$mp" -v n="$mn" 'BEGIN { if (n > 0) printf "%.2f", p / n; else print "n/a" }')
			say "ratio   $name/nginx = $ratio$([[ $name == pacerd-live ]] && echo ' (goal: >= 0.60)')"
		done
		for name in pacerd-jwt pacerd-apikey; do
			[[ -s $tmp/rps.$name ]] || continue
			say "auth    $name: $(awk -v a="$(median "$tmp/rps.$name" 2)" \
				-v b="$(median "$tmp/rps.pacerd-live" 2)" \
				'BEGIN { printf "%.1f", a - b }') us of pacerd CPU per request more than /health/live"
		done
		if [[ -s $tmp/rps.pacerd-mcp && -s $tmp/rps.pacerd-jwt ]]; then
			say "mcp     pacerd-mcp: $(awk -v a="$(median "$tmp/rps.pacerd-mcp" 2)" \
				-v b="$(median "$tmp/rps.pacerd-jwt" 2)" \
				'BEGIN { printf "%.1f", a - b }') us of pacerd CPU per request more than /api/me with the same token"
			mcp_check "$pport" after || warn "the MCP session did not answer after the runs"
		fi
		[[ -n ${token:-} ]] && login_latency "$pport"
	else
		say "pacerd  not measured (it did not start)"
	fi
}

main "$@"
