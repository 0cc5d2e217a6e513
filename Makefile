# deltallm — the two commands:
#   make demo   build, generate a demo model, run it
#   make test   build (Release + ASan/UBSan), run every test
# Both install their Debian dependencies first when they are missing.

BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc)
SUDO       := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# Build and test dependencies, all from Debian.
DEB_PACKAGES := cmake ninja-build g++ make pkg-config git \
  libgtest-dev libgmock-dev libbenchmark-dev libcli11-dev nlohmann-json3-dev \
  libpcre2-dev libutf8proc-dev python3 python3-numpy python3-jinja2

CMAKE_FLAGS := -G Ninja -DCMAKE_BUILD_TYPE=Release

.PHONY: all build deps demo test test-release test-asan asan clean

all: build

deps:
	@missing=$$(for p in $(DEB_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:" $$missing; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

build: deps
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS)
	cmake --build $(BUILD) -j $(JOBS)
	@echo "deltallm is at $(BUILD)/bin/deltallm"

asan: deps
	cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDELTALLM_SANITIZE=ON
	cmake --build $(ASAN_BUILD) -j $(JOBS)

demo: build
	@mkdir -p demo
	$(BUILD)/bin/deltallm make-model --arch qwen35 --preset tiny --seed 1 -o demo/qwen35-tiny.gguf
	$(BUILD)/bin/deltallm gguf demo/qwen35-tiny.gguf

test-release: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# The sanitizer run covers the unit and tiny-model tests (label "slow" excluded).
test-asan: asan
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --output-on-failure -j $(JOBS) -LE slow

test: test-release test-asan

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) demo
