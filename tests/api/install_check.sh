#!/bin/sh
# Installs the build into a temporary prefix and uses it the way a user
# would: symbol exports of both libraries, the header as C11 and C++, the C
# example built through pkg-config (shared and static: same text), a C++
# program linking the static library next to its own copies of names the
# engine uses internally, and a CMake project through find_package(deltallm).
#
# Usage: install_check.sh BUILD_DIR SOURCE_DIR MODEL.gguf
set -eu
build=$1
src=$2
model=$3
tmp=$(mktemp -d /tmp/deltallm_install_XXXXXX)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
fail() { echo "install_check: FAIL: $*" >&2; exit 1; }

cmake --install "$build" --prefix "$prefix" >/dev/null
lib=$prefix/lib
for f in include/deltallm.h lib/libdeltallm.so lib/libdeltallm.so.0 lib/libdeltallm.a lib/pkgconfig/deltallm.pc \
         lib/cmake/deltallm/deltallm-config.cmake lib/cmake/deltallm/deltallm-config-version.cmake \
         share/deltallm/examples/generate.c; do
  [ -e "$prefix/$f" ] || fail "$f was not installed"
done

# 1. The shared library exports only deltallm_* (plus the version node).
others=$(nm -D --defined-only "$lib/libdeltallm.so" | awk '$2 ~ /^[TDBRWVui]$/ && $3 !~ /^deltallm_/')
[ -z "$others" ] || fail "libdeltallm.so exports more than deltallm_*: $(echo "$others" | head -5)"
nm -D --defined-only "$lib/libdeltallm.so" | grep -q ' A DELTALLM_0.1' || fail "no DELTALLM_0.1 version node"
n_api=$(grep -c '^DELTALLM_API' "$prefix/include/deltallm.h" || true)
n_exp=$(nm -D --defined-only "$lib/libdeltallm.so" | awk '$2 == "T" && $3 ~ /^deltallm_/' | wc -l)
[ "$n_exp" -eq "$n_api" ] || fail "$n_exp deltallm_* functions exported, $n_api declared in deltallm.h"

# 2. The static library's strong symbols are only deltallm_*.
strong=$(nm -g --defined-only "$lib/libdeltallm.a" | awk 'NF == 3 && $2 ~ /^[TDBR]$/ && $3 !~ /^deltallm_/')
[ -z "$strong" ] || fail "libdeltallm.a has global internal symbols: $(echo "$strong" | head -5)"

# 3. The header alone, warning-free as C and C++.
echo '#include <deltallm.h>' > "$tmp/h.c"
for std in c99 c11 c17; do
  cc -std=$std -Wall -Wextra -Wpedantic -Werror -fsyntax-only -I"$prefix/include" "$tmp/h.c" || fail "header as $std"
done
for std in c++11 c++17 c++20; do
  c++ -x c++ -std=$std -Wall -Wextra -Wpedantic -Werror -fsyntax-only -I"$prefix/include" "$tmp/h.c" ||
    fail "header as $std"
done

# 4. The example through pkg-config, shared and static.
export PKG_CONFIG_PATH=$lib/pkgconfig
[ "$(pkg-config --modversion deltallm)" = "0.1.0" ] || fail "pkg-config version"
pkg-config --static --libs deltallm | grep -q -- '-lpcre2-8' || fail "Libs.private lacks pcre2-8"
ex=$prefix/share/deltallm/examples/generate.c
# shellcheck disable=SC2046
cc -std=c11 -Wall -Wextra -Werror "$ex" $(pkg-config --cflags --libs deltallm) -Wl,-rpath,"$lib" -o "$tmp/gen_shared"
static_libs=$(pkg-config --static --libs deltallm | sed 's/-ldeltallm/-l:libdeltallm.a/')
# shellcheck disable=SC2086
cc -std=c11 -Wall -Wextra -Werror "$ex" $(pkg-config --cflags deltallm) $static_libs -o "$tmp/gen_static"
readelf -d "$tmp/gen_static" | grep -q 'libdeltallm' && fail "the static build still needs libdeltallm.so"
"$tmp/gen_shared" "$model" "Once upon a time" 16 7 > "$tmp/out_shared" || fail "shared example failed"
"$tmp/gen_static" "$model" "Once upon a time" 16 7 > "$tmp/out_static" || fail "static example failed"
grep -q '^Once upon a time' "$tmp/out_shared" || fail "example output does not start with the prompt"
[ "$(wc -c < "$tmp/out_shared")" -gt 18 ] || fail "the example generated nothing"
cmp -s "$tmp/out_shared" "$tmp/out_static" || fail "shared and static examples generated different text"

# 5. A C++ program with its own dllm::cpu_isa_name and nlohmann::json links
#    the static library without clashes (internals are local; shared
#    template instantiations merge).
cat > "$tmp/user.cpp" <<'EOF'
#include <deltallm.h>
#include <nlohmann/json.hpp>
#include <cstring>
#include <sstream>
namespace dllm { const char* cpu_isa_name() { return "user"; } }
int main(int, char** argv) {
  std::ostringstream os;
  os << nlohmann::ordered_json::parse("{\"a\":[1,2]}").dump();
  deltallm_model* m = nullptr;
  if (deltallm_model_load(argv[1], nullptr, &m) != DELTALLM_OK) return 2;
  deltallm_model_info info;
  info.size = sizeof info;
  if (deltallm_model_get_info(m, &info) != DELTALLM_OK) return 3;
  deltallm_model_free(m);
  return std::strcmp(dllm::cpu_isa_name(), "user") != 0 || os.str() != "{\"a\":[1,2]}" || info.n_vocab <= 0;
}
EOF
# shellcheck disable=SC2086
c++ -std=c++17 "$tmp/user.cpp" -I"$prefix/include" $static_libs -o "$tmp/user" || fail "C++ static link"
"$tmp/user" "$model" || fail "C++ program over the static library"

# 6. find_package(deltallm) from CMake, both targets.
mkdir -p "$tmp/cm"
cat > "$tmp/cm/CMakeLists.txt" <<EOF
cmake_minimum_required(VERSION 3.16)
project(consumer C CXX)
find_package(deltallm 0.1 REQUIRED)
add_executable(gen_shared $ex)
target_link_libraries(gen_shared PRIVATE deltallm::deltallm)
add_executable(gen_static $ex)
target_link_libraries(gen_static PRIVATE deltallm::deltallm_static)
EOF
gen=""
command -v ninja >/dev/null 2>&1 && gen="-G Ninja"
# shellcheck disable=SC2086
cmake -S "$tmp/cm" -B "$tmp/cm/build" $gen -DCMAKE_PREFIX_PATH="$prefix" >/dev/null || fail "find_package(deltallm)"
cmake --build "$tmp/cm/build" >/dev/null || fail "building the CMake consumer"
"$tmp/cm/build/gen_shared" "$model" "Once upon a time" 16 7 > "$tmp/out_cm_shared" || fail "CMake shared example"
"$tmp/cm/build/gen_static" "$model" "Once upon a time" 16 7 > "$tmp/out_cm_static" || fail "CMake static example"
cmp -s "$tmp/out_shared" "$tmp/out_cm_shared" || fail "CMake shared build generated other text"
cmp -s "$tmp/out_shared" "$tmp/out_cm_static" || fail "CMake static build generated other text"

echo "install_check: ok ($n_exp functions exported, $n_api declared)"
