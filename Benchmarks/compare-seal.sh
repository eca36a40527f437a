#!/usr/bin/env bash
# First seal of the mixed corpus, two Coffer builds and restic back to back, several rounds: for a
# before/after comparison of one change in the same invocation (run.sh measures one build).
#
#   bash Benchmarks/compare-seal.sh --before DIR --after DIR [--size-mb N] [--runs R] [--work DIR]
#
#   --before/--after  folders holding a release `coffer` and `coffer-bench` (e.g. .build/release)
#   --size-mb N       corpus size in MiB (default 256; the corpus is run.sh's, seed 1)
#   --runs R          rounds (default 3); tools in rotating order each round
#   --tiers SPEC      also "after-tiers": the after build on a vault with these chunk tiers
#                     (coffer-bench init-lowkdf --tiers, e.g. 4194304:2048/8192/65536,max:262144/1048576/4194304)
#   --after-level N   also "after-level": the after build on a vault with zstd level N
#                     (coffer-bench init-lowkdf --level N), to tell a new default level's effect apart
#   --moderate        Coffer vaults made by `coffer init` (Argon2id MODERATE, what users get): the
#                     seal's time then includes the unlock, as run.sh's "coffer" (not with --tiers)
#
# Each step: a fresh copy of the corpus, a new vault (Coffer: `coffer-bench init-lowkdf`, the
# test-only Argon2id cost, so the unlock does not blur the seal; --moderate: `coffer init`), `sync`, the seal under
# /usr/bin/time; then the vault's bytes (regular files). Prints one line per step and the medians,
# with the load average at the start and the end.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE=256; RUNS=3; W=$PWD/bench-work; BEFORE=""; AFTER=""; TIERS=""; SCRATCH=""; MODERATE=0; LEVEL=""
usage() { sed -n '5,15p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 64; }
while [ $# -gt 0 ]; do
  case "$1" in
    --before) BEFORE="${2:?}"; shift 2 ;;
    --after) AFTER="${2:?}"; shift 2 ;;
    --size-mb) SIZE="${2:?}"; shift 2 ;;
    --runs) RUNS="${2:?}"; shift 2 ;;
    --tiers) TIERS="${2:?}"; shift 2 ;;
    --after-level) LEVEL="${2:?}"; shift 2 ;;
    --moderate) MODERATE=1; shift ;;
    --work) W="${2:?}"; shift 2 ;;
    *) usage ;;
  esac
done
[ -x "$BEFORE/coffer" ] && [ -x "$AFTER/coffer" ] || usage
mkdir -p "$W"; W=$(cd "$W" && pwd)
source Benchmarks/common.sh
tool_environment
ensure_corpus "$AFTER/coffer-bench" "$SIZE"
SRC=$W/src
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
one() {  # tool
  local tool=$1 r=$W/repo-cmp
  rm -rf "$r" "$SRC" "$XDG_STATE_HOME" "$RESTIC_CACHE_DIR"; cp -a "$CORPUS" "$SRC"
  local cmd
  case $tool in
    before|after|after-tiers|after-level)
      local bin; bin=$([ "$tool" = before ] && echo "$BEFORE" || echo "$AFTER")
      if [ "$tool" = after-tiers ]; then "$bin/coffer-bench" init-lowkdf --vault "$r" --tiers "$TIERS" >/dev/null
      elif [ "$tool" = after-level ]; then "$bin/coffer-bench" init-lowkdf --vault "$r" --level "$LEVEL" >/dev/null
      elif [ "$MODERATE" = 1 ]; then "$bin/coffer" init --vault "$r" --quiet
      else "$bin/coffer-bench" init-lowkdf --vault "$r" >/dev/null; fi
      cmd=("$bin/coffer" seal --vault "$r" --quiet --name corpus "$SRC") ;;
    restic)
      restic init -q -r "$r" >/dev/null
      cmd=(restic backup -q -r "$r" "$SRC") ;;
  esac
  sync
  /usr/bin/time -f "%e %M %U %S" -o "$W/time.out" "${cmd[@]}" >/dev/null 2>"$W/stderr.log" || { cat "$W/stderr.log" >&2; exit 1; }
  local e m u s; read -r e m u s < <(tail -1 "$W/time.out")
  printf '%s\t%s\t%s\t%s\n' "$tool" "$e" "$(awk -v u="$u" -v s="$s" 'BEGIN { print u + s }')" "$(bytes_in "$r")" | tee -a "$RESULTS"
  rm -rf "$r" "$SRC"
}
TOOLS=(before after restic); [ -n "$TIERS" ] && TOOLS+=(after-tiers); [ -n "$LEVEL" ] && TOOLS+=(after-level)
for i in $(seq 1 "$RUNS"); do
  k=$(( (i - 1) % ${#TOOLS[@]} )); order=("${TOOLS[@]:k}" "${TOOLS[@]:0:k}")
  for t in "${order[@]}"; do one "$t"; done
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$RESULTS" <<'PY'
import sys, statistics, collections
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    tool, wall, cpu, size = line.split("\t")
    rows[tool].append((float(wall), float(cpu), int(size)))
med = {t: [statistics.median(x[k] for x in v) for k in range(3)] for t, v in rows.items()}
r = med["restic"]
print("| build | wall s (median) | CPU s | vault bytes | vault ÷ restic | speed ÷ restic (wall) |")
print("|---|---|---|---|---|---|")
names = [t for t in ["before", "after", "after-tiers", "after-level", "restic"] if t in med]
for t in names:
    w, c, s = med[t]
    print(f"| {t} | {w:.2f} | {c:.2f} | {int(s):,} | {s / r[2]:.4f}x | {r[0] / w:.2f}x |")
print("rounds (wall s / CPU s / MB):")
for t in names:
    print(t + ": " + ", ".join(f"{w:.2f} / {c:.2f} / {s / 1e6:.2f}" for w, c, s in rows[t]))
PY
