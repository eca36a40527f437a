#!/usr/bin/env bash
# Side-by-side seal/restore benchmark: Coffer against restic and borg on the same machine, in the
# same run, on a deterministic mixed corpus (text, random data, duplicate files).
#
#   bash Benchmarks/run.sh [--size-mb N] [--runs R] [--full]     (default 256 MB, 3 runs; --full = 1024 MB)
#
# Each step is timed with /usr/bin/time (wall seconds, peak RSS); tools alternate order per run;
# the table shows medians and ratios against restic. Release build. Page cache stays warm for all.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE=256; RUNS=3
while [ $# -gt 0 ]; do
  case "$1" in
    --size-mb) SIZE="$2"; shift 2 ;;
    --runs) RUNS="$2"; shift 2 ;;
    --full) SIZE=1024; shift ;;
    *) echo "usage: $0 [--size-mb N] [--runs R] [--full]" >&2; exit 64 ;;
  esac
done

need=""; for p in restic borgbackup time; do dpkg -s $p >/dev/null 2>&1 || need="$need $p"; done
if [ -n "$need" ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need; fi

swift build -c release --product coffer >/dev/null
swift build -c release --product coffer-bench >/dev/null
BIN=$(swift build -c release --show-bin-path)
W=$PWD/bench-work
mkdir -p "$W"
CORPUS=$W/corpus-$SIZE
[ -d "$CORPUS" ] || "$BIN/coffer-bench" corpus --out "$CORPUS" --size-mb "$SIZE" >/dev/null
INPUT=$(du -sb "$CORPUS" | cut -f1)

export COFFER_PASSPHRASE=bench-passphrase RESTIC_PASSWORD=bench-passphrase BORG_PASSPHRASE=bench-passphrase
export BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK=yes BORG_RELOCATED_REPO_ACCESS_IS_OK=yes
export XDG_STATE_HOME=$W/state BORG_BASE_DIR=$W/borg-base RESTIC_CACHE_DIR=$W/restic-cache
RESULTS=$W/results.tsv
: > "$RESULTS"

timed() {  # tool step command...
  local tool=$1 step=$2; shift 2
  if ! /usr/bin/time -f "%e %M" -o "$W/time.out" "$@" >/dev/null 2>"$W/stderr.log"; then
    echo "$tool $step failed:" >&2; cat "$W/stderr.log" >&2; exit 1
  fi
  echo -e "$tool\t$step\t$(tail -1 "$W/time.out")" >> "$RESULTS"
}

run_coffer() {
  local r=$W/repo-coffer t=$W/restore-coffer
  rm -rf "$r" "$t" "$XDG_STATE_HOME"
  "$BIN/coffer" init --vault "$r" >/dev/null
  timed coffer seal "$BIN/coffer" seal --vault "$r" --quiet --name corpus "$CORPUS"
  timed coffer reseal "$BIN/coffer" seal --vault "$r" --quiet --name corpus "$CORPUS"
  timed coffer restore "$BIN/coffer" restore --vault "$r" --quiet corpus@latest --to "$t"
  echo -e "coffer\tsize\t$(du -sb "$r" | cut -f1) 0" >> "$RESULTS"
  diff -rq "$CORPUS" "$t/$(basename "$CORPUS")" >/dev/null || { echo "coffer restore differs" >&2; exit 1; }
  rm -rf "$t"
}

run_restic() {
  local r=$W/repo-restic t=$W/restore-restic
  rm -rf "$r" "$t" "$RESTIC_CACHE_DIR"
  restic init -r "$r" >/dev/null 2>&1
  timed restic seal restic backup -q -r "$r" "$CORPUS"
  timed restic reseal restic backup -q -r "$r" "$CORPUS"
  timed restic restore restic restore -q -r "$r" latest --target "$t"
  timed restic check restic check -q -r "$r" --read-data
  echo -e "restic\tsize\t$(du -sb "$r" | cut -f1) 0" >> "$RESULTS"
  rm -rf "$t"
}

run_borg() {
  local r=$W/repo-borg t=$W/restore-borg
  rm -rf "$r" "$t" "$BORG_BASE_DIR"
  borg init -e repokey-blake2 "$r" >/dev/null 2>&1
  timed borg seal borg create --compression zstd,3 "$r::a1" "$CORPUS"
  timed borg reseal borg create --compression zstd,3 "$r::a2" "$CORPUS"
  mkdir -p "$t"
  ( cd "$t" && timed borg restore borg extract "$r::a1" )
  timed borg check borg check --verify-data "$r"
  echo -e "borg\tsize\t$(du -sb "$r" | cut -f1) 0" >> "$RESULTS"
  rm -rf "$t"
}

for i in $(seq 1 "$RUNS"); do
  case $((i % 3)) in
    1) run_coffer; run_restic; run_borg ;;
    2) run_restic; run_borg; run_coffer ;;
    0) run_borg; run_coffer; run_restic ;;
  esac
  echo "run $i of $RUNS done" >&2
done

python3 - "$RESULTS" "$INPUT" "$SIZE" <<'PY'
import sys, statistics, collections
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    tool, step, vals = line.rstrip("\n").split("\t")
    t, m = vals.split()
    rows[(tool, step)].append((float(t), int(m)))
input_bytes = int(sys.argv[2])
def med(tool, step, k=0):
    v = rows.get((tool, step))
    return statistics.median(x[k] for x in v) if v else None
tools = ["coffer", "restic", "borg"]
print(f"Mixed corpus: {input_bytes/1e6:.0f} MB, medians of {len(rows[('restic','seal')])} runs")
print("| step | " + " | ".join(tools) + " | coffer vs restic |")
print("|---|" + "---|" * (len(tools) + 1))
for step, label in [("seal", "first seal"), ("reseal", "unchanged re-seal"), ("restore", "restore"), ("check", "check, full read")]:
    cells = []
    for tool in tools:
        t = med(tool, step)
        cells.append("n/a" if t is None else (f"{t:.2f} s ({input_bytes/t/1e6:.0f} MB/s)" if step in ("seal", "restore") else f"{t:.2f} s"))
    c, r = med("coffer", step), med("restic", step)
    ratio = f"{r/c:.2f}x faster" if c and r else "n/a"
    print(f"| {label} | " + " | ".join(cells) + f" | {ratio} |")
cells = []
for tool in tools:
    s = med(tool, "size")
    cells.append("n/a" if s is None else f"{s/1e6:.1f} MB")
c, r = med("coffer", "size"), med("restic", "size")
print("| repository size | " + " | ".join(cells) + f" | {c/r:.2f}x of restic |")
cells = []
for tool in tools:
    ms = [m for (tl, st), v in rows.items() if tl == tool and st in ("seal", "restore") for (_, m) in v]
    cells.append(f"{max(ms)/1024:.0f} MiB" if ms else "n/a")
print("| peak RSS (seal, restore) | " + " | ".join(cells) + " | |")
PY
