#!/bin/sh
# Installs the official OpenAI and Anthropic client libraries and
# puppeteer-core (pinned by package-lock.json) into BUILD_DIR/npm-clients, for
# the Clients group of tests/tools/serve/serve_test.py.
#
# usage: setup.sh BUILD_DIR   (see tests/scripts/npm_pinned.sh for what happens without npm)
set -eu
build=${1:?usage: setup.sh BUILD_DIR}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$build"
exec sh "$here/../../../scripts/npm_pinned.sh" "client libraries" "$here" "$(cd "$build" && pwd)/npm-clients" \
  "require('openai'); require('@anthropic-ai/sdk'); require('puppeteer-core')" --ignore-scripts
