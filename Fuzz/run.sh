#!/usr/bin/env bash
# Runs the fuzz targets one after the other (never two at once), each on a scratch copy of its
# seed corpus, so Fuzz/Corpus only grows when someone copies inputs into it. Used by `make fuzz`.
#
#   FUZZ_TARGETS   targets to run (default: all, in the order below)
#   FUZZ_SECONDS   seconds per target (default 60; 0 = no time limit)
#   FUZZ_RUNS      stop a target after this many executions instead (default: unset)
#   FUZZ_SCRATCH   build and work folder (default ../.build-fuzz)
#   FUZZ_FLAGS     more libFuzzer flags
#
# Prints one line per target (executions, seconds, exec/s, coverage, corpus) and exits non-zero
# if any target found a crash, a timeout, a leak or an allocation over the limit; the input is
# then in $FUZZ_SCRATCH/artifacts/<target>/.
set -uo pipefail
cd "$(dirname "$0")"
ALL="keyslot config pack-header index version head lock meta-envelope zip csv path tree dictionary pattern deflate-recipe layout"
TARGETS=${FUZZ_TARGETS:-$ALL}
SECONDS_EACH=${FUZZ_SECONDS:-60}
SCRATCH=${FUZZ_SCRATCH:-../.build-fuzz}
BIN="$SCRATCH/san/debug"
# Swift's own crash backtracer would race libFuzzer's and AddressSanitizer's reports.
export SWIFT_BACKTRACE=enable=no
failed=0
summary=()
for t in $TARGETS; do
    [ -x "$BIN/fuzz-$t" ] || { echo "fuzz-$t is not built: run make fuzz-build" >&2; exit 2; }
    work="$SCRATCH/corpus/$t"; art="$SCRATCH/artifacts/$t"; log="$SCRATCH/logs/fuzz-$t.log"
    rm -rf "$work"; mkdir -p "$work" "$art" "$(dirname "$log")"
    cp Corpus/"$t"/* "$work"/
    limit=(-max_total_time="$SECONDS_EACH")
    [ -n "${FUZZ_RUNS:-}" ] && limit+=(-runs="$FUZZ_RUNS")
    echo "== fuzz-$t: ${FUZZ_RUNS:+$FUZZ_RUNS runs, }${SECONDS_EACH}s limit, seeds: $(ls Corpus/"$t" | wc -l)"
    start=$(date +%s.%N)
    # -malloc_limit_mb: an input of at most -max_len bytes must never make a parser allocate 256 MB.
    "$BIN/fuzz-$t" "$work" -workers=1 -timeout=10 -malloc_limit_mb=256 -rss_limit_mb=2048 \
        -artifact_prefix="$art/" -print_final_stats=1 "${limit[@]}" ${FUZZ_FLAGS:-} >"$log" 2>&1
    rc=$?
    secs=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    last=$(grep -E '^#[0-9]+' "$log" | tail -1)
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last"); ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
    corp=$(sed -n 's/.* corp: \([0-9]*\/[0-9]*[a-zA-Z]*\).*/\1/p' <<<"$last")
    if [ $rc -eq 0 ]; then result=ok; else result="FAILED (exit $rc, see $log)"; failed=1; fi
    line=$(printf '%-15s %10s execs %8s s %7s exec/s  cov %-5s ft %-6s corpus %-12s %s' \
        "$t" "${execs:-?}" "$secs" "${rate:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$result")
    echo "$line"; summary+=("$line")
    [ $rc -eq 0 ] || grep -E 'ERROR|Fatal error|invariant|SUMMARY|Test unit written' "$log" | head -5
done
echo; echo "== summary"; printf '%s\n' "${summary[@]}"
exit $failed
