#!/bin/sh
# autogen.sh - bootstrap the build system: autoreconf -fi.
#
#   ./autogen.sh          generate configure and Makefile.in
#   ./autogen.sh --deps   first install, as root with apt-get, every Debian 12
#                         package that building, testing and the quick start
#                         need, then generate as above
set -eu
cd "$(dirname "$0")"

# Build: compiler, autotools, the libraries pacer links, Criterion.
# Run: PostgreSQL 15 and Redis for the tests and the embedded default.
# Docs, style and fuzzing: mandoc and groff lint the man pages, clang-format
# checks the layout, cppcheck and clang-tidy the code, clang builds the
# libFuzzer targets. Node's npm (below) installs the MCP test tooling.
DEPS="build-essential autoconf automake libtool pkg-config
  libpq-dev libjson-c-dev libssl-dev libjwt-dev libcurl4-openssl-dev
  libhiredis-dev libcriterion-dev
  postgresql-15 postgresql-client-15 redis-server
  openssl mandoc groff-base clang clang-format clang-tidy cppcheck
  libclang-rt-14-dev"

if [ "${1:-}" = "--deps" ]; then
	missing=""
	for p in $DEPS; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
			missing="$missing $p"
	done
	# npm installs the MCP test tooling (make mcp-tools: Node 22 and the
	# MCP conformance suite, from the npm registry). Debian's nodejs and
	# npm provide it where no npm is there yet (another nodejs, such as
	# NodeSource's, carries its own and conflicts with Debian's npm).
	command -v npm >/dev/null 2>&1 || missing="$missing nodejs npm"
	if [ -n "$missing" ]; then
		echo "autogen.sh: installing:$missing"
		if [ "$(id -u)" -ne 0 ]; then
			echo "autogen.sh: not root; run as root or: sudo apt-get install -y$missing" >&2
			exit 1
		fi
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -q
		# shellcheck disable=SC2086
		apt-get install -y -q --no-install-recommends $missing
	fi
	shift
fi
if [ $# -gt 0 ]; then
	echo "usage: ./autogen.sh [--deps]" >&2
	exit 1
fi
autoreconf -fi
