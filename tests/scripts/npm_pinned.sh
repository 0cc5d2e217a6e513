#!/bin/sh
# Installs the npm packages pinned by PACKAGE_DIR/package-lock.json into DEST
# with the machine's npm (npm ci), then checks that CHECK_JS runs there.
#
# usage: npm_pinned.sh LABEL PACKAGE_DIR DEST CHECK_JS [npm ci flags...]
# Does nothing when the same lock file is already installed in DEST and
# CHECK_JS runs. Without node, npm or the registry it warns and exits 0 (the
# tests that need the packages then skip), except in CI (CI=true), where it
# fails.
set -eu
label=${1:?usage: npm_pinned.sh LABEL PACKAGE_DIR DEST CHECK_JS [flags]}
src=${2:?}
dest=${3:?}
check=${4:?}
shift 4
stamp="$dest/.installed-lock.json"

problem() {
  if [ "${CI:-}" = true ]; then
    echo "$label setup: error: $1" >&2
    exit 1
  fi
  echo "$label setup: warning: $1; the tests that use it will be skipped" >&2
  exit 0
}

command -v node >/dev/null 2>&1 || problem "node is not installed"
command -v npm >/dev/null 2>&1 || problem "npm is not installed"

if [ -f "$stamp" ] && cmp -s "$stamp" "$src/package-lock.json" && (cd "$dest" && node -e "$check") >/dev/null 2>&1; then
  exit 0
fi

rm -rf "$dest"
mkdir -p "$dest"
cp "$src/package.json" "$src/package-lock.json" "$dest/"
echo "$label setup: npm ci in $dest" >&2
if ! (cd "$dest" && npm ci --no-audit --no-fund "$@" >&2); then
  problem "npm ci failed"
fi
if ! (cd "$dest" && node -e "$check") >/dev/null 2>&1; then
  problem "the packages installed but do not load ($check)"
fi
cp "$src/package-lock.json" "$stamp"
