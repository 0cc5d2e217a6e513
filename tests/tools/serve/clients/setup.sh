#!/bin/sh
# Installs the official OpenAI and Anthropic client libraries (pinned by
# package-lock.json) into BUILD_DIR/npm-clients with the machine's npm, for
# the Clients group of tests/tools/serve/serve_test.py.
#
# usage: setup.sh BUILD_DIR
# Does nothing when the same lock file is already installed there. Without
# node, npm or the registry it warns and exits 0 (the test then skips),
# except in CI (CI=true), where it fails.
set -eu
build=${1:?usage: setup.sh BUILD_DIR}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$build"
dest=$(cd "$build" && pwd)/npm-clients
stamp="$dest/.installed-lock.json"

if [ -f "$stamp" ] && cmp -s "$stamp" "$here/package-lock.json" && [ -d "$dest/node_modules/openai" ]; then
  exit 0
fi

problem() {
  if [ "${CI:-}" = true ]; then
    echo "client libraries setup: error: $1" >&2
    exit 1
  fi
  echo "client libraries setup: warning: $1; the client library tests will be skipped" >&2
  exit 0
}

command -v node >/dev/null 2>&1 || problem "node is not installed"
command -v npm >/dev/null 2>&1 || problem "npm is not installed"

rm -rf "$dest"
mkdir -p "$dest"
cp "$here/package.json" "$here/package-lock.json" "$dest/"
echo "client libraries setup: npm ci in $dest" >&2
if ! (cd "$dest" && npm ci --no-audit --no-fund --ignore-scripts >&2); then
  problem "npm ci failed"
fi
if ! (cd "$dest" && node -e "require('openai'); require('@anthropic-ai/sdk')" >/dev/null 2>&1); then
  problem "the client libraries installed but do not load"
fi
cp "$here/package-lock.json" "$stamp"
