#!/usr/bin/env bash
# t/mcp/install.sh - install the MCP test tooling into a build tree.
#
#   t/mcp/install.sh DEST
#
# Copies t/mcp/package.json and package-lock.json to DEST and runs
# `npm ci` there: Node 22 (the npm package node@22, whose preinstall script
# fetches the binary, so scripts must run), the MCP conformance suite and
# the TypeScript SDK, at the versions the lock pins. The source tree is
# never written to (VPATH builds, distcheck's read-only copy). Run again it
# does nothing unless the pinned files changed or the install is broken.
# npm itself is only needed to install: `./autogen.sh --deps` provides it
# (Debian's nodejs and npm) on a machine without Node.
set -euo pipefail

ME=${0##*/}
say() { printf '%s: %s\n' "$ME" "$*" >&2; }
[ $# -eq 1 ] || { echo "usage: $0 DEST" >&2; exit 2; }
src=$(cd "$(dirname "$0")" && pwd)
dest=$1
mkdir -p "$dest"
dest=$(cd "$dest" && pwd)
[ "$dest" != "$src" ] || { say "DEST must not be the source folder $src"; exit 2; }

stamp=$dest/node_modules/.pacer-installed
want=$(cat "$src/package.json" "$src/package-lock.json" | sha256sum | cut -d' ' -f1)

# What a usable install has: Node 22 and the conformance CLI.
usable() {
	local v
	[ -x "$dest/node_modules/.bin/conformance" ] || return 1
	v=$("$dest/node_modules/.bin/node" --version 2>/dev/null) || return 1
	case $v in v22.*) return 0 ;; *) return 1 ;; esac
}

if [ "$(cat "$stamp" 2>/dev/null)" = "$want" ] && usable; then
	echo "$ME: MCP test tooling is up to date in $dest"
	exit 0
fi

if ! command -v npm >/dev/null; then
	say "npm not found: install Node.js and npm first (./autogen.sh --deps, or apt-get install nodejs npm)"
	exit 1
fi

start=$SECONDS
echo "$ME: installing the MCP test tooling into $dest (npm $(npm --version), node $(node --version 2>/dev/null || echo '?'))"
rm -f "$stamp"
# The copies may come from a read-only tree; install gives them mode 644.
install -m 644 "$src/package.json" "$src/package-lock.json" "$dest/"
# --ignore-scripts=false: node@22's preinstall must run even if a user's
# npmrc turns scripts off. package.json's allowScripts approves it for npm
# versions that block dependencies' scripts by default.
(cd "$dest" && npm ci --no-audit --no-fund --ignore-scripts=false --loglevel=error)

if ! usable; then
	say "the install in $dest is not usable: node_modules/.bin/node is not Node 22" \
		"($("$dest/node_modules/.bin/node" --version 2>&1 || true)) or the conformance CLI is missing;" \
		"did npm skip node@22's preinstall script?"
	exit 1
fi
echo "$want" >"$stamp"
echo "$ME: installed Node $("$dest/node_modules/.bin/node" --version)," \
	"@modelcontextprotocol/conformance and @modelcontextprotocol/sdk in $((SECONDS - start)) s"
