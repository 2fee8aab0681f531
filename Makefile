# PIXIU: the two commands of README.md, and a few more.
#   make demo    install what is missing, build, run the main job
#   make check   install what is missing, build with sanitizers, run every test
#   make bench   benchmarks (BENCH lines)       make fuzz   every fuzz target, bounded
#   make soak    the sustained fault campaign (docs/reliability.md; root)
JOBS    ?= 2
FUZZ_SECONDS ?= 60
CMAKE_FLAGS ?=
RELEASE := build/release
CHECK   := build/check
FUZZDIR := build/fuzz
# The throwaway PostgreSQL server of `make check` listens on a Unix socket
# named by a random number, so two checks on one machine never share it.
PG_PORT ?= $(shell shuf -i 20000-60000 -n 1)
PG_PORT := $(PG_PORT)
export PX_TEST_PG_DSN ?= host=/tmp/pixiu-pg-$(PG_PORT) port=$(PG_PORT) user=pixiu dbname=pixiu_test

.PHONY: all deps build demo check test fuzz fuzz-smoke bench soak clean

all: build

deps:
	@scripts/install-deps

$(RELEASE)/CMakeCache.txt:
	cmake -S . -B $(RELEASE) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS) >/dev/null

build: deps $(RELEASE)/CMakeCache.txt
	cmake --build $(RELEASE) -j$(JOBS)

demo: build
	scripts/demo all $(RELEASE)

$(CHECK)/CMakeCache.txt:
	cmake -S . -B $(CHECK) -DCMAKE_BUILD_TYPE=Debug -DPX_SANITIZE=ON -DPX_WERROR=ON -DPX_BENCH=OFF $(CMAKE_FLAGS) >/dev/null

# The fuzz smoke run comes first so that ctest's summary is the last word.
check: deps $(CHECK)/CMakeCache.txt
	$(MAKE) --no-print-directory fuzz-smoke
	cmake --build $(CHECK) -j$(JOBS)
	scripts/test-services start $(PG_PORT)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --test-dir $(CHECK) --output-on-failure -j$(JOBS); rc=$$?; \
	  scripts/test-services stop $(PG_PORT); [ $$rc -eq 0 ]

$(FUZZDIR)/CMakeCache.txt:
	CC=clang-14 cmake -S . -B $(FUZZDIR) -DCMAKE_BUILD_TYPE=Debug -DPX_FUZZ=ON -DPX_BENCH=OFF >/dev/null

# Every fuzz target over its seed corpus plus a few seconds of new inputs.
fuzz-smoke: deps $(FUZZDIR)/CMakeCache.txt
	cmake --build $(FUZZDIR) -j$(JOBS)
	scripts/fuzz $(FUZZDIR) 5

fuzz: deps $(FUZZDIR)/CMakeCache.txt
	cmake --build $(FUZZDIR) -j$(JOBS)
	scripts/fuzz $(FUZZDIR) $(FUZZ_SECONDS)

bench: build
	bench/run $(RELEASE)

# 200 tasks from 4 consumers (2 at a time each) on 8 hosts in network
# namespaces while nodes are killed and links cut; SOAK_ARGS overrides.
SOAK_ARGS ?= 200 4 2 1
soak: build
	scripts/soak $(RELEASE) build/soak $(SOAK_ARGS)

clean:
	rm -rf build
