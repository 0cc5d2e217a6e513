# deltallm — the two commands:
#   make demo   build, generate a demo model, generate text with it
#   make test   build (Release + ASan/UBSan), run every test
# Both install their Debian dependencies first when they are missing.

BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc)
SUDO       := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
ABS_BUILD  := $(abspath $(BUILD))

# Build and test dependencies, all from Debian. (cargo/rustc are the
# machine's own, not Debian's; node/npm too.)
DEB_PACKAGES := cmake ninja-build g++ make pkg-config git tmux \
  libgtest-dev libgmock-dev libbenchmark-dev libcli11-dev nlohmann-json3-dev \
  libpcre2-dev libutf8proc-dev libcpp-httplib-dev python3 python3-numpy python3-jinja2 \
  libclang-dev librust-bindgen-dev librust-cmake-dev
# Only the tests need these (the server's chat page is tested in headless Chromium).
TEST_DEB_PACKAGES := chromium

CMAKE_FLAGS := -G Ninja -DCMAKE_BUILD_TYPE=Release
# Tests find the pinned npm oracles (tokenizer, Qwen3 template) here.
TEST_ENV := DELTALLM_NPM_ORACLE=$(ABS_BUILD)/npm-oracle DELTALLM_NPM_CLIENTS=$(ABS_BUILD)/npm-clients

.PHONY: all build deps test-deps demo test test-release test-asan test-bindings bindings-cmake-check build-make-check asan npm-oracle install clean

all: build

deps:
	@echo "== phase: dependencies"
	@missing=$$(for p in $(DEB_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:" $$missing; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

test-deps: deps
	@missing=$$(for p in $(TEST_DEB_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages for the tests:" $$missing; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

build: deps
	@echo "== phase: Release build"
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS)
	cmake --build $(BUILD) -j $(JOBS)
	@echo "deltallm is at $(BUILD)/bin/deltallm"

asan: deps
	@echo "== phase: ASan+UBSan build"
	cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDELTALLM_SANITIZE=ON
	cmake --build $(ASAN_BUILD) -j $(JOBS)

demo: build
	@echo "== phase: demo"
	@mkdir -p demo
	$(BUILD)/bin/deltallm make-model --arch qwen35 --preset tiny --seed 1 -o demo/qwen35-tiny.gguf
	$(BUILD)/bin/deltallm gguf demo/qwen35-tiny.gguf
	@echo "-- generating text (random weights: expect gibberish) --"
	$(BUILD)/bin/deltallm run -m demo/qwen35-tiny.gguf -p "The quick brown fox" -n 48 --seed 42

npm-oracle: build test-deps
	@echo "== phase: npm test oracles (pinned)"
	sh tests/scripts/tokenizer_oracle/setup.sh $(BUILD)
	sh tests/tools/serve/clients/setup.sh $(BUILD)

test-release: build npm-oracle
	@echo "== phase: Release tests"
	cd $(BUILD) && $(TEST_ENV) ctest --output-on-failure -j $(JOBS)

# The sanitizer run covers the unit and tiny-model tests (label "slow" excluded).
test-asan: asan npm-oracle
	@echo "== phase: ASan+UBSan tests"
	cd $(ASAN_BUILD) && $(TEST_ENV) ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --output-on-failure -j $(JOBS) -LE slow

# Bindings against the Release library (no third C++ build).
test-bindings: build
	@echo "== phase: bindings (Rust, Python)"
	cd bindings/rust && DELTALLM_LIB_DIR=$(ABS_BUILD)/lib DELTALLM_BIN=$(ABS_BUILD)/bin/deltallm \
	  LD_LIBRARY_PATH=$(ABS_BUILD)/lib cargo test --offline
	cd bindings/python && DELTALLM_LIB=$(ABS_BUILD)/lib/libdeltallm.so DELTALLM_BIN=$(ABS_BUILD)/bin/deltallm \
	  python3 -m unittest discover -v

# The other way deltallm-sys finds the library: building it itself with CMake
# (Release, the shared library only: no tests, no tools), exercised once here.
bindings-cmake-check: build
	@echo "== phase: bindings (Rust, library built by build.rs through CMake)"
	cd bindings/rust && env -u DELTALLM_LIB_DIR CARGO_TARGET_DIR=$(ABS_BUILD)/cargo-cmake \
	  DELTALLM_BIN=$(ABS_BUILD)/bin/deltallm cargo test --offline

# The libraries with CMake's default generator (Unix Makefiles), as users and
# the Rust cmake crate build them: the packed static library must find its
# component objects built first (make does not infer it as Ninja does).
MAKE_BUILD ?= build-make
build-make-check: deps
	@echo "== phase: library build with Unix Makefiles"
	cmake -S . -B $(MAKE_BUILD) -G "Unix Makefiles" -DCMAKE_BUILD_TYPE=Release
	cmake --build $(MAKE_BUILD) -j $(JOBS) --target deltallm_static deltallm_shared deltallm_packaged_static

test: test-release test-asan test-bindings bindings-cmake-check build-make-check
	@echo "== phase: all tests passed"

# make install PREFIX=/usr/local: headers, libraries, pkg-config and CMake package files.
PREFIX ?= /usr/local
install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(MAKE_BUILD) demo
