#!/usr/bin/env bash
# t/harness/quickstart.sh - `make run`: pacerd on an embedded default.
#
# Starts a private PostgreSQL 15 cluster and redis-server with their state in
# VARDIR (kept between runs), writes VARDIR/pacerd.conf on first use and a
# master key in VARDIR/master.key (mode 0600), then runs pacerd on it with
# DATABASE_URL, REDIS_URL and PACER_MASTER_KEY in its environment: the
# service URLs change with every start (free ports), so they never go into
# the file. pacerd runs in the foreground (-D) until Ctrl-C (a fast stop)
# or SIGTERM; the services stop when it exits.
#
# usage: quickstart.sh VARDIR PACERD
set -euo pipefail

[ $# -eq 2 ] || { echo "usage: $0 VARDIR PACERD" >&2; exit 2; }
var=$1
pacerd=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$var/run"
var=$(cd "$var" && pwd)

if [ ! -s "$var/master.key" ]; then
	(umask 077 && openssl rand -base64 32 >"$var/master.key")
	echo "quickstart: made a master key in $var/master.key"
fi
if [ ! -f "$var/pacerd.conf" ]; then
	cat >"$var/pacerd.conf" <<CONF
# pacerd.conf for the embedded default (make run); see pacerd.conf(5).
# DATABASE_URL, REDIS_URL and PACER_MASTER_KEY come from the environment.
listen = '127.0.0.1:8080'
run_dir = '$var/run'
pidfile = '$var/run/pacerd.pid'
start_workers = 2
min_spare_workers = 1
max_spare_workers = 4
max_workers = 16
log_destination = stderr
log_level = info
CONF
	echo "quickstart: wrote $var/pacerd.conf"
fi

# The migrations are the source tree's (a build tree has none, and make
# run does not install). Added to a configuration from before this line.
sqldir=$(cd "$here/../../sql" && pwd)
if ! grep -q '^[[:space:]]*migrations_dir' "$var/pacerd.conf"; then
	printf "%s\n" "# The source tree's SQL migrations (added by quickstart.sh)." \
		"migrations_dir = '$sqldir'" >>"$var/pacerd.conf"
fi

# The command runs with the services' URLs exported by services.sh.
exec "$here/services.sh" run --keep "$var/services" -- bash -c '
	set -u
	export DATABASE_URL=$PACER_TEST_DATABASE_URL
	export REDIS_URL=$PACER_TEST_REDIS_URL
	PACER_MASTER_KEY=$(cat "$1/master.key")
	export PACER_MASTER_KEY
	pg=$(psql "$DATABASE_URL" -Atc "show server_version") || exit 1
	rd=$(redis-cli -u "$REDIS_URL" info server | sed -n "s/^redis_version:\(.*\)\r$/\1/p")
	echo "quickstart: PostgreSQL $pg at $DATABASE_URL, Redis $rd at $REDIS_URL"
	"$2" -t -f "$1/pacerd.conf" || exit 1
	echo "quickstart: pacerd on http://127.0.0.1:8080 (try /health/live and"
	echo "quickstart: /metrics; \`pacerctl -f $1/pacerd.conf status\` shows the"
	echo "quickstart: workers). Ctrl-C stops it. The synthetic demo data is not"
	echo "quickstart: built yet."
	"$2" -D -f "$1/pacerd.conf"
	rc=$?
	# 130: stopped by Ctrl-C, which is how this is meant to end.
	[ $rc -eq 130 ] && rc=0
	exit $rc
' quickstart "$var" "$pacerd"
