#!/bin/sh
# The inference commands (run, chat, bench, tokenize, template, perplexity, imatrix) and the
# helpers they include reach the engine only through include/deltallm.h
# (issue: "the inference commands of the CLI use only this API"). Allowed
# project headers: the CLI's own helpers, util/error.h (the Error type
# behind "deltallm: error: ...") and text/unicode.h (UTF-8 checks for
# printing). Anything else, e.g. model/, runtime/, text/tokenizer.h, fails.
#
# Usage: cli_api_only_check.sh SOURCE_DIR
set -eu
tools=$1/tools
allowed=' api_util.h cli_util.h command.h sampling_flags.h util/error.h text/unicode.h '
status=0
for f in cmd_run.cpp cmd_chat.cpp cmd_bench.cpp cmd_tokenize.cpp cmd_template.cpp cmd_perplexity.cpp \
         api_util.h cli_util.h command.h sampling_flags.h; do
  [ -f "$tools/$f" ] || { echo "cli_api_only_check: FAIL: missing $tools/$f" >&2; exit 1; }
  for inc in $(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$tools/$f"); do
    case "$allowed" in
      *" $inc "*) ;;
      *) echo "cli_api_only_check: FAIL: tools/$f includes \"$inc\" (not the C API)" >&2; status=1 ;;
    esac
  done
done
# imatrix runs the model through the C API too; it also writes the imatrix
# file formats (formats/imatrix.h: files only, no engine).
for inc in $(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$tools/cmd_imatrix.cpp"); do
  case "$allowed formats/imatrix.h " in
    *" $inc "*) ;;
    *) echo "cli_api_only_check: FAIL: tools/cmd_imatrix.cpp includes \"$inc\" (not the C API)" >&2; status=1 ;;
  esac
done
# The server (tools/cmd_serve.cpp, tools/serve/) stands on the C API too; it
# may also include its own parts (serve/*.h).
for f in "$tools/cmd_serve.cpp" "$tools"/serve/*.h "$tools"/serve/*.cpp; do
  [ -f "$f" ] || { echo "cli_api_only_check: FAIL: missing $f" >&2; exit 1; }
  for inc in $(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f"); do
    case "$inc" in serve/*.h) continue ;; esac
    case "$allowed" in
      *" $inc "*) ;;
      *) echo "cli_api_only_check: FAIL: ${f#$1/} includes \"$inc\" (not the C API)" >&2; status=1 ;;
    esac
  done
done
[ $status -eq 0 ] && echo "cli_api_only_check: inference commands use only deltallm.h"
exit $status
