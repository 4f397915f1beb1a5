# Thin wrapper over CMake. `make run` and `make test` set up what is missing,
# build, then run the main job or every test suite.
BUILD   ?= build
JOBS    ?= $(shell nproc)
DEBUG   := $(BUILD)/debug
RELEASE := $(BUILD)/release
FUZZ    := $(BUILD)/fuzz
# `make fuzz` runs every target (or FUZZ_TARGETS) for FUZZ_SECONDS each.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= fuzz_stage fuzz_replay fuzz_bot_proto fuzz_marshal fuzz_worker fuzz_lua_generator fuzz_lua_rules

.PHONY: all setup build debug release fuzz-build fuzz web run demo test bench format clean

all: build

setup:
	@bash .ci/setup

$(DEBUG)/build.ninja:
	cmake -S . -B $(DEBUG) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCR_RELEASE_DIR=$(abspath $(RELEASE))

$(RELEASE)/build.ninja:
	cmake -S . -B $(RELEASE) -G Ninja -DCMAKE_BUILD_TYPE=Release

# The fuzz build is clang with libFuzzer, ASan and UBSan; asserts stay on.
$(FUZZ)/build.ninja:
	CC=clang cmake -S . -B $(FUZZ) -G Ninja -DCMAKE_BUILD_TYPE=Fuzz -DCR_FUZZ=ON

debug: setup $(DEBUG)/build.ninja
	cmake --build $(DEBUG) -j $(JOBS)

release: setup $(RELEASE)/build.ninja
	cmake --build $(RELEASE) -j $(JOBS)

fuzz-build: setup $(FUZZ)/build.ninja
	cmake --build $(FUZZ) -j $(JOBS) --target fuzzers

fuzz: fuzz-build
	@for t in $(FUZZ_TARGETS); do \
	  bash tests/fuzz/run.sh $(FUZZ)/$$t tests/fuzz/corpus/$$t $(FUZZ_SECONDS) || exit 1; \
	done

build: debug release

# The game server with the browser client: http://localhost:8000/ (PORT in
# scripts/config.lua), SQLite in ./coderally.db (DATABASE_URL); Ctrl-C
# stops it cleanly.
run: release web
	$(RELEASE)/coderally serve

# The headless demo race `make run` used to be.
demo: release
	$(RELEASE)/coderally race --generator mountain --seed 7 --ai 5 \
	  --bot botsandbox/templates/checkpoint_follower.py

test: debug release web fuzz-build
	cd $(DEBUG) && ctest --output-on-failure -j $(JOBS)

# The browser client: npm ci only when the lock file is newer than the
# installed modules, the engine to WebAssembly, then vite build into web/dist.
WEB_SRC := $(shell find web/src web/index.html web/vite.config.js -type f -not -path 'web/src/wasm/*' 2>/dev/null)
WASM_SRC := $(wildcard cengine/sim/*.[ch] cengine/stage/*.[ch] cengine/util/*.[ch] cengine/wasm/*.[ch] cengine/include/*.h) web/scripts/build-wasm.sh

web/node_modules/.ci-stamp: web/package-lock.json
	cd web && npm ci --no-audit --no-fund
	touch $@

web/src/wasm/crengine.js: $(WASM_SRC)
	bash web/scripts/build-wasm.sh

web/dist/index.html: web/node_modules/.ci-stamp web/src/wasm/crengine.js $(WEB_SRC) $(wildcard botsandbox/templates/*.py)
	cd web && npm run build

web: setup web/dist/index.html

bench: release
	$(RELEASE)/coderally bench sim

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD)
