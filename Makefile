# Coffer — build, test and demo entry points. See README.md.
SHELL := /bin/bash
SWIFT ?= swift
APT_PACKAGES := libsodium-dev libzstd-dev zlib1g-dev libssl-dev pkg-config zip unzip p7zip-full python3 rclone
BIN_RELEASE := .build/release

.PHONY: deps build test test-asan test-tsan demo bench clean fuzz fuzz-build fuzz-corpus

## deps: install the system packages Coffer needs (apt-get), only those that are missing
deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	else echo "System packages present."; fi

## build: release build of the coffer command and the example generator
build: deps
	$(SWIFT) build -c release --product coffer
	$(SWIFT) build -c release --product export-generator

## test: every test (unit, format, CLI end to end)
test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

## test-asan / test-tsan: every test under AddressSanitizer / ThreadSanitizer (own build folders).
## Leak detection is off under ASan: it reports allocations XCTest and Foundation.Process keep
## for the life of the process, and a child coffer exiting 1 for them would fail CLI tests.
test-asan: deps
	$(SWIFT) build --build-tests --sanitize=address --scratch-path .build-asan
	ASAN_OPTIONS=detect_leaks=0 $(SWIFT) test --skip-build --sanitize=address --scratch-path .build-asan

test-tsan: deps
	$(SWIFT) build --build-tests --sanitize=thread --scratch-path .build-tsan
	$(SWIFT) test --skip-build --sanitize=thread --scratch-path .build-tsan

## demo: the main job on a local demo vault (three monthly LinkedIn exports)
demo: build
	bash Scripts/demo.sh

## bench: release-build measurements: seal/restore vs restic and borg, and the export series
bench: deps
	bash Benchmarks/run.sh
	bash Benchmarks/exports.sh

## fuzz-build / fuzz / fuzz-corpus: the libFuzzer targets in Fuzz/ (a package of their own; see
## Fuzz/README.md). fuzz runs each target for FUZZ_SECONDS (default 60), one at a time, on a
## scratch copy of Fuzz/Corpus, and fails on any finding. FUZZ_TARGETS picks targets, FUZZ_RUNS
## stops each after that many executions. fuzz-corpus regenerates the seeds from real objects.
## (-Xswiftc -sanitize=fuzzer,address: swiftc compiles with only the last of several -sanitize
## flags, so SwiftPM's two flags alone give either no coverage or no AddressSanitizer.)
FUZZ_TARGETS ?= keyslot config pack-header index version head lock meta-envelope zip csv
FUZZ_SECONDS ?= 60
FUZZ_SCRATCH ?= $(CURDIR)/.build-fuzz

fuzz-build: deps
	@for t in $(FUZZ_TARGETS); do \
	  $(SWIFT) build --package-path Fuzz --scratch-path $(FUZZ_SCRATCH)/san --product fuzz-$$t -Xswiftc -O \
	    --sanitize=fuzzer --sanitize=address -Xswiftc -sanitize=fuzzer,address || exit 1; \
	done

fuzz: fuzz-build
	FUZZ_TARGETS="$(FUZZ_TARGETS)" FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_RUNS=$(FUZZ_RUNS) FUZZ_FLAGS="$(FUZZ_FLAGS)" \
	  FUZZ_SCRATCH=$(FUZZ_SCRATCH) bash Fuzz/run.sh

fuzz-corpus: deps
	SWIFT=$(SWIFT) FUZZ_SCRATCH=$(FUZZ_SCRATCH) bash Fuzz/make-corpus.sh

clean:
	rm -rf .build .build-asan .build-tsan .build-fuzz demo
