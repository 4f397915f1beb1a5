# Thin wrapper over CMake. `make run` and `make test` set up what is missing,
# build, then run the main job or every test suite.
BUILD   ?= build
JOBS    ?= $(shell nproc)
DEBUG   := $(BUILD)/debug
RELEASE := $(BUILD)/release

.PHONY: all setup build debug release run demo test bench format clean

all: build

setup:
	@bash .ci/setup

$(DEBUG)/build.ninja:
	cmake -S . -B $(DEBUG) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCR_RELEASE_DIR=$(abspath $(RELEASE))

$(RELEASE)/build.ninja:
	cmake -S . -B $(RELEASE) -G Ninja -DCMAKE_BUILD_TYPE=Release

debug: setup $(DEBUG)/build.ninja
	cmake --build $(DEBUG) -j $(JOBS)

release: setup $(RELEASE)/build.ninja
	cmake --build $(RELEASE) -j $(JOBS)

build: debug release

# The game server: http://localhost:8000/ (PORT in scripts/config.lua),
# SQLite in ./coderally.db (DATABASE_URL); Ctrl-C stops it cleanly.
run: release
	$(RELEASE)/coderally serve

# The headless demo race `make run` used to be.
demo: release
	$(RELEASE)/coderally race --generator mountain --seed 7 --ai 5 \
	  --bot botsandbox/templates/checkpoint_follower.py

test: debug release
	cd $(DEBUG) && ctest --output-on-failure -j $(JOBS)

bench: release
	$(RELEASE)/coderally bench sim

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD)
