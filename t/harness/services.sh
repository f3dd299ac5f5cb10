#!/usr/bin/env bash
# t/harness/services.sh - private PostgreSQL 15 + Redis for pacer's tests and quick-start.
#
# pacer is tested against REAL services, never mocks. This script starts a private
# PostgreSQL 15 cluster and a private redis-server on 127.0.0.1, on free random
# ports, with all state under one directory, and stops them again afterwards - also
# when the wrapped command fails or the run is interrupted (INT/TERM/HUP).
# PostgreSQL refuses to run as root, so as root initdb/pg_ctl run as the `postgres`
# user (runuser); if that user cannot reach DIR (e.g. under /root), the cluster
# lives in a mktemp directory under /tmp instead (recorded in DIR/pg.location).
set -euo pipefail

PGBIN=${PACER_PG_BIN:-/usr/lib/postgresql/15/bin}
MARKER=.pacer-services
ME=${0##*/}

usage() {
  cat <<EOF
usage: $0 start DIR
       $0 stop DIR
       $0 run [--keep] DIR -- COMMAND [ARGS...]
       $0 pg-stop DIR | pg-start DIR
       $0 -h

start  start PostgreSQL 15 and redis-server on 127.0.0.1 (free ports), state in DIR
       (an existing cluster in DIR is reused); writes the sourceable DIR/env:
         PACER_TEST_DATABASE_URL PACER_TEST_REDIS_URL PACER_TEST_PG_PORT PACER_TEST_REDIS_PORT
stop   stop both services (idempotent); DIR is kept
pg-stop, pg-start
       stop PostgreSQL only (fast shutdown), or start it again on the same port
       (outage tests: Redis and DIR/env stay as they are)
run    start, run COMMAND with DIR/env exported, stop, exit with COMMAND's status.
       Without --keep DIR is a throwaway: it must be new, empty or made by this
       script, and is deleted afterwards. With --keep data persists between runs.
EOF
}

say() { printf '%s: %s\n' "$ME" "$*" >&2; }
is_root() { [ "$(id -u)" -eq 0 ]; }
# Run a PostgreSQL tool as the right user (cwd / so an unreadable cwd does not matter).
as_pg() { if is_root; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi; }
pg_own() { if is_root; then chown -R postgres: "$@"; fi; }
pgdata_of() { if [ -s "$1/pg.location" ]; then cat "$1/pg.location"; else echo "$1/pg"; fi; }
lines_of() { if [ -f "$1" ]; then echo $(($(wc -l <"$1") + 1)); else echo 1; fi; }
# Daemons must not hold on to pipes inherited from our caller (e.g. a CI runner waiting for EOF).
closefds() { local fd n; for fd in /proc/"$BASHPID"/fd/*; do n=${fd##*/}; [ "$n" -le 2 ] || [ "$n" = 255 ] || exec {n}>&-; done; }

show_log() { # FILE [FIRST_LINE]: last 20 lines (of the part from FIRST_LINE on) to stderr
  [ -s "$1" ] || return 0
  { echo "--- last lines of $1 ---"; tail -n +"${2:-1}" "$1" | tail -n 20; echo "---"; } >&2
}
bind_failed() { tail -n +"$2" "$1" 2>/dev/null | grep -i 'address already in use' >/dev/null; }

# Ports below the kernel's ephemeral range: a server restarted on its port
# (pg-start in the outage tests) must not find it taken by a client socket.
ephemeral_low() { local lo; read -r lo _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null && echo "$lo" || echo 32768; }

free_port() { # [EXCLUDE]: a random port in 10000..(ephemeral low - 1) that nothing accepts connections on
  local p _ span
  span=$(($(ephemeral_low) - 10000))
  [ "$span" -gt 1000 ] || span=22768
  for _ in $(seq 100); do
    p=$((10000 + (RANDOM * 32768 + RANDOM) % span))
    [ "$p" != "${1:-}" ] || continue
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
  done
  return 1
}

redis_pid() { # prints the pid from DIR/redis.pid if that process is a live redis-server
  local pid
  pid=$(cat "$1/redis.pid" 2>/dev/null) || return 1
  alive "$pid" && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = redis-server ] && echo "$pid"
}
pg_running() { [ -f "$1/postmaster.pid" ] && as_pg "$PGBIN/pg_ctl" -D "$1" status >/dev/null 2>&1; }
alive() { kill -0 "$1" 2>/dev/null && ! grep -q "^State:.*zombie" "/proc/$1/status" 2>/dev/null; }
wait_gone() { # PID SECONDS (a zombie counts as gone: a slow init may reap it late)
  local _
  for _ in $(seq $(($2 * 10))); do alive "$1" || return 0; sleep 0.1; done
  return 1
}

stop_services() { # DIR; idempotent
  local dir=$1 pid pgdata sock rc=0
  [ -d "$dir" ] || return 0
  if pid=$(redis_pid "$dir"); then
    kill -TERM "$pid" 2>/dev/null || true # with --save '' this is a clean SHUTDOWN NOSAVE
    wait_gone "$pid" 10 || { kill -KILL "$pid" 2>/dev/null || true; wait_gone "$pid" 5; } ||
      { say "could not stop redis-server (pid $pid)"; rc=1; }
  fi
  rm -f "$dir/redis.pid"
  pgdata=$(pgdata_of "$dir")
  if pg_running "$pgdata"; then
    as_pg "$PGBIN/pg_ctl" -D "$pgdata" -m fast -w -t 30 stop >>"$dir/pg.log" 2>&1 ||
      as_pg "$PGBIN/pg_ctl" -D "$pgdata" -m immediate -w -t 30 stop >>"$dir/pg.log" 2>&1 ||
      { say "could not stop PostgreSQL ($pgdata)"; show_log "$dir/pg.log"; rc=1; }
  fi
  sock=$(cat "$dir/pg.sockdir" 2>/dev/null || true)
  case $sock in /tmp/pacer-sock.*) rm -rf -- "$sock" "$dir/pg.sockdir" ;; esac
  return "$rc"
}

wipe() { # DIR plus the /tmp data dir it points to
  local loc
  loc=$(cat "$1/pg.location" 2>/dev/null || true)
  case $loc in /tmp/pacer-pg.*) rm -rf -- "$loc" ;; esac
  rm -rf -- "$1"
}

refuse_if_running() {
  if redis_pid "$1" >/dev/null || pg_running "$(pgdata_of "$1")"; then
    say "services for $1 are already running; run '$0 stop $1' first"
    exit 1
  fi
}

# One start attempt on fresh ports. Returns 0 ok, 1 fatal, 2 port taken (retry).
start_once() {
  local dir=$1 pgdata=$2 sock=$3 pgport rport from pid="" _
  if ! pgport=$(free_port) || ! rport=$(free_port "$pgport"); then say "no free TCP port found"; return 1; fi
  printf "%s\n" "listen_addresses = '127.0.0.1'" "port = $pgport" "fsync = off" \
    "unix_socket_directories = '${sock//\'/\'\'}'" >"$pgdata/pacer.conf" && pg_own "$pgdata/pacer.conf" ||
    return 1
  from=$(lines_of "$dir/pg.log")
  # No -l: the postmaster inherits this log fd, which works even where postgres cannot reach DIR.
  if ! (closefds; as_pg "$PGBIN/pg_ctl" -D "$pgdata" -w -t 30 start) >>"$dir/pg.log" 2>&1; then
    bind_failed "$dir/pg.log" "$from" && return 2
    say "PostgreSQL failed to start (data dir $pgdata)"; show_log "$dir/pg.log" "$from"; return 1
  fi
  from=$(lines_of "$dir/pg.log")
  if ! "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$pgport" -U postgres -d postgres \
    >>"$dir/pg.log" 2>&1 <<'SQL'; then
SELECT 'CREATE ROLE pacer LOGIN SUPERUSER' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'pacer') \gexec
SELECT 'CREATE DATABASE pacer OWNER pacer' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'pacer') \gexec
SQL
    say "could not create role/database pacer"; show_log "$dir/pg.log" "$from"; return 1
  fi

  mkdir -p "$dir/redis" && rm -f "$dir/redis.pid" || return 1
  from=$(lines_of "$dir/redis.log")
  # shellcheck disable=SC2094 # redis appends to its own log; early config errors go there too
  (closefds; exec redis-server --bind 127.0.0.1 --port "$rport" --save '' --appendonly no --daemonize yes \
    --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --dir "$dir/redis") >>"$dir/redis.log" 2>&1 &&
    for _ in $(seq 100); do # up to ~10 s; the redis answering must be ours, not a racing one
      if pid=$(redis_pid "$dir") && redis-cli -h 127.0.0.1 -p "$rport" info server 2>/dev/null |
        tr -d '\r' | grep -x "process_id:$pid" >/dev/null; then break; fi
      pid=
      tail -n +"$from" "$dir/redis.log" | grep -E "aborting|FATAL" >/dev/null && break
      sleep 0.1
    done
  if [ -z "$pid" ]; then
    bind_failed "$dir/redis.log" "$from" && return 2
    say "redis-server failed to start on 127.0.0.1:$rport"; show_log "$dir/redis.log" "$from"; return 1
  fi

  printf "%s\n" "PACER_TEST_DATABASE_URL='postgresql://pacer@127.0.0.1:$pgport/pacer'" \
    "PACER_TEST_REDIS_URL='redis://127.0.0.1:$rport/0'" \
    "PACER_TEST_PG_PORT='$pgport'" "PACER_TEST_REDIS_PORT='$rport'" >"$dir/env.tmp" &&
    mv -f "$dir/env.tmp" "$dir/env" || return 1
  echo "services: postgresql 15 on 127.0.0.1:$pgport, redis on 127.0.0.1:$rport (state in $dir)"
}

start_services() { # DIR; returns non-zero (services stopped again) on failure
  local dir=$1 pgdata sock attempt rc
  [ -x "$PGBIN/initdb" ] || { say "PostgreSQL 15 not found in $PGBIN"; return 1; }
  if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
    say "redis-server/redis-cli not found in PATH"; return 1
  fi
  mkdir -p "$dir" && touch "$dir/$MARKER" "$dir/pg.log" "$dir/redis.log" || return 1
  if [ -f "$dir/pg/PG_VERSION" ]; then
    pgdata=$dir/pg; rm -f "$dir/pg.location"
  elif [ -s "$dir/pg.location" ] && [ -f "$(cat "$dir/pg.location")/PG_VERSION" ]; then
    pgdata=$(cat "$dir/pg.location")
  elif ! is_root || as_pg test -x "$dir"; then
    pgdata=$dir/pg; rm -f "$dir/pg.location"
    mkdir -p "$pgdata" && chmod 700 "$pgdata" && pg_own "$pgdata" || return 1
  else
    pgdata=$(mktemp -d /tmp/pacer-pg.XXXXXX) && pg_own "$pgdata" && echo "$pgdata" >"$dir/pg.location" || return 1
    say "user postgres cannot traverse $dir; PostgreSQL data dir is $pgdata instead"
  fi
  if [ ! -f "$pgdata/PG_VERSION" ]; then
    if ! as_pg "$PGBIN/initdb" -D "$pgdata" -U postgres -A trust -E UTF8 --locale=C --no-sync \
      --no-instructions >>"$dir/pg.log" 2>&1; then
      say "initdb failed for $pgdata"; show_log "$dir/pg.log"
      rm -rf -- "$pgdata" "$dir/pg.location"; return 1
    fi
  fi
  grep -qs "^include_if_exists = 'pacer.conf'" "$pgdata/postgresql.conf" ||
    echo "include_if_exists = 'pacer.conf'" >>"$pgdata/postgresql.conf" || return 1
  sock=$pgdata # socket paths are limited to ~107 bytes
  if [ "${#sock}" -gt 80 ]; then
    sock=$(mktemp -d /tmp/pacer-sock.XXXXXX) && pg_own "$sock" && echo "$sock" >"$dir/pg.sockdir" || return 1
  fi
  for attempt in 1 2 3 4 5; do
    if start_once "$dir" "$pgdata" "$sock"; then return 0; else rc=$?; fi
    stop_services "$dir" || true
    [ "$rc" -eq 2 ] || return 1
    say "port already taken (attempt $attempt/5), retrying on other ports"
  done
  say "could not bind free ports after 5 attempts"
  show_log "$dir/pg.log"; show_log "$dir/redis.log"
  return 1
}

RUN_DIR='' RUN_KEEP=0 CHILD=''
on_exit() {
  local rc=$?
  trap - EXIT; trap '' INT TERM HUP; set +e
  stop_services "$RUN_DIR" || rc=$((rc ? rc : 1))
  [ "$RUN_KEEP" = 1 ] || wipe "$RUN_DIR"
  exit "$rc"
}
on_signal() { # SIG EXIT_CODE: forward to COMMAND, give it 10 s, then make sure it is gone
  trap '' INT TERM HUP
  say "got SIG$1, stopping command and services"
  if [ -n "$CHILD" ] && kill -s "$1" "$CHILD" 2>/dev/null; then
    wait_gone "$CHILD" 10 || { kill -TERM "$CHILD" 2>/dev/null; wait_gone "$CHILD" 5; } ||
      kill -KILL "$CHILD" 2>/dev/null || true
  fi
  exit "$2"
}

cmd_run() {
  local rc=0
  [ "${1:-}" = --keep ] && { RUN_KEEP=1; shift; }
  if [ $# -lt 3 ] || [ "$2" != -- ]; then usage >&2; exit 2; fi
  RUN_DIR=$(realpath -m -- "$1"); shift 2
  [ "$RUN_DIR" != / ] || { say "refusing to use /"; exit 2; }
  if [ "$RUN_KEEP" = 0 ] && [ -d "$RUN_DIR" ] && [ -n "$(ls -A "$RUN_DIR")" ]; then
    [ -e "$RUN_DIR/$MARKER" ] || { say "$RUN_DIR is not empty and was not made by $ME; refusing to use it"; exit 2; }
    stop_services "$RUN_DIR" && wipe "$RUN_DIR"
  fi
  refuse_if_running "$RUN_DIR"
  trap on_exit EXIT
  trap 'on_signal INT 130' INT; trap 'on_signal TERM 143' TERM; trap 'on_signal HUP 129' HUP
  start_services "$RUN_DIR" >&2 || exit 1 # banner on stderr: COMMAND's stdout stays clean
  set -a
  # shellcheck source=/dev/null
  . "$RUN_DIR/env"
  set +a
  # Async commands ignore INT/QUIT in scripts; undo that so forwarded signals work. Keep stdin.
  (trap - INT QUIT; exec "$@") <&0 &
  CHILD=$!
  wait "$CHILD" || rc=$?
  CHILD=''
  exit "$rc"
}

case ${1:-} in
  -h | --help | help) usage ;;
  start | stop)
    [ $# -eq 2 ] || { usage >&2; exit 2; }
    dir=$(realpath -m -- "$2")
    if [ "$1" = stop ]; then stop_services "$dir"; exit; fi
    refuse_if_running "$dir"
    start_services "$dir" || { stop_services "$dir" || true; exit 1; }
    ;;
  pg-stop | pg-start)
    [ $# -eq 2 ] || { usage >&2; exit 2; }
    dir=$(realpath -m -- "$2")
    pgdata=$(pgdata_of "$dir")
    [ -f "$pgdata/PG_VERSION" ] || { say "no PostgreSQL cluster for $dir"; exit 1; }
    if [ "$1" = pg-stop ]; then
      as_pg "$PGBIN/pg_ctl" -D "$pgdata" -m fast -w -t 30 stop >>"$dir/pg.log" 2>&1 ||
        { say "could not stop PostgreSQL ($pgdata)"; show_log "$dir/pg.log"; exit 1; }
    else
      (closefds; as_pg "$PGBIN/pg_ctl" -D "$pgdata" -w -t 30 start) >>"$dir/pg.log" 2>&1 ||
        { say "could not start PostgreSQL ($pgdata)"; show_log "$dir/pg.log"; exit 1; }
    fi
    ;;
  run) shift; cmd_run "$@" ;;
  *) usage >&2; exit 2 ;;
esac
