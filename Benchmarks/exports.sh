#!/usr/bin/env bash
# The export series: N monthly synthetic LinkedIn Basic exports from the project's generator
# (Examples/ExportGenerator, seed 1), as zips and as folders, sealed one after the other into
# Coffer, restic and borg, in the same run.
#
#   bash Benchmarks/exports.sh [--months N] [--runs R] [--scratch-path DIR] [--work DIR]
#
#   --months N        exports in the series (default 12)
#   --runs R          repetitions (default 3); times are medians, sizes medians (they barely vary)
#   --scratch-path    SwiftPM build folder (default .build); --work: where the series and vaults go
#
# For each form (zips, folders), each run and each tool (rotating order): a new vault, then every
# export sealed in date order, each seal timed with /usr/bin/time and the vault measured after it.
# "coffer" is a vault with the default Argon2id MODERATE cost, so each seal includes one unlock;
# "coffer-lowkdf" is the same release coffer on a vault from `coffer-bench init-lowkdf` (test-only
# KDF), i.e. a seal's time besides the unlock. Prints per export the input size, seal times and
# bytes each tool added (sizes: bytes of regular files; month 0 is the empty vault), then the totals against the product's targets (zips: vault ≤ half of
# restic's repository; seal of one export < 0.5 s).
set -euo pipefail
cd "$(dirname "$0")/.."
MONTHS=12; RUNS=3; SCRATCH=""; W=$PWD/bench-work
usage() { sed -n '6,10p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 64; }
while [ $# -gt 0 ]; do
  case "$1" in
    --months) MONTHS="${2:?}"; shift 2 ;;
    --runs) RUNS="${2:?}"; shift 2 ;;
    --scratch-path) SCRATCH="${2:?}"; shift 2 ;;
    --work) W="${2:?}"; shift 2 ;;
    *) usage ;;
  esac
done
[[ "$MONTHS" =~ ^[1-9][0-9]*$ && "$RUNS" =~ ^[1-9][0-9]*$ ]] || usage
mkdir -p "$W"; W=$(cd "$W" && pwd)/exports
mkdir -p "$W"

source Benchmarks/common.sh  # (the working folder is the repository root)
build --product coffer
build --product export-generator
build --product coffer-bench
BIN=$("${BUILD[@]}" --show-bin-path)

# The series, generated once per length: zips and folders side by side.
S=$W/series-$MONTHS
if [ ! -f "$S.complete" ]; then
  rm -rf "$S"
  "$BIN/export-generator" --out "$S" --months "$MONTHS" --format both --quiet
  touch "$S.complete"
fi
# Date order (the names carry MM-DD-YYYY).
mapfile -t ZIPS < <(ls -d "$S"/*.zip | python3 -c '
import sys, re
names = [l.strip() for l in sys.stdin]
key = lambda n: (lambda m: (m[3], m[1], m[2]))(re.search(r"(\d\d)-(\d\d)-(\d{4})\.zip$", n))
print("\n".join(sorted(names, key=key)))')
[ "${#ZIPS[@]}" = "$MONTHS" ] || { echo "expected $MONTHS zips in $S, found ${#ZIPS[@]}" >&2; exit 1; }

tool_environment  # passphrases and state folders of the three tools; an empty $RESULTS


timed() {  # form tool run month command...: appends form, tool, run, month, wall s, peak RSS KiB
  local form=$1 tool=$2 run=$3 month=$4; shift 4
  if ! /usr/bin/time -f "%e %M" -o "$W/time.out" "$@" >"$W/stdout.log" 2>"$W/stderr.log"; then
    echo "$tool $form month $month failed: $*" >&2; cat "$W/stderr.log" >&2; exit 1
  fi
  local e m
  read -r e m < <(tail -1 "$W/time.out")
  printf '%s\t%s\t%s\t%s\t%s\t%s' "$form" "$tool" "$run" "$month" "$e" "$m" >> "$RESULTS"
}

series() {  # form tool run
  local form=$1 tool=$2 run=$3 r=$W/repo-$2 n=0
  rm -rf "$r" "$XDG_STATE_HOME" "$BORG_BASE_DIR" "$RESTIC_CACHE_DIR"
  case $tool in
    coffer) "$BIN/coffer" init --vault "$r" --quiet ;;
    coffer-lowkdf) "$BIN/coffer-bench" init-lowkdf --vault "$r" ;;
    restic) restic init -q -r "$r" >/dev/null ;;
    borg) borg init -e repokey-blake2 "$r" >/dev/null 2>&1 ;;
  esac
  # Month 0: the empty vault (keys, config), so the first export's "added" is its own.
  printf '%s\t%s\t%s\t0\t0\t0\t%s\t0\tinit\n' "$form" "$tool" "$run" "$(bytes_in "$r")" >> "$RESULTS"
  for z in "${ZIPS[@]}"; do
    n=$((n + 1))
    local input=$z
    [ "$form" = folders ] && input=${z%.zip}
    sync
    case $tool in
      coffer|coffer-lowkdf) timed "$form" "$tool" "$run" "$n" "$BIN/coffer" seal --vault "$r" --quiet "$input" ;;
      restic) timed "$form" "$tool" "$run" "$n" restic backup -q -r "$r" "$input" ;;
      borg) timed "$form" "$tool" "$run" "$n" borg create --compression zstd,3 "$r::$(basename "$input")" "$input" ;;
    esac
    printf '\t%s\t%s\t%s\n' "$(bytes_in "$r")" "$(bytes_in "$input")" "$(basename "$input")" >> "$RESULTS"
  done
  rm -rf "$r"
}

TOOLS=(coffer restic borg coffer-lowkdf)
for i in $(seq 1 "$RUNS"); do
  k=$(( (i - 1) % ${#TOOLS[@]} ))
  order=("${TOOLS[@]:k}" "${TOOLS[@]:0:k}")
  for form in zips folders; do
    for tool in "${order[@]}"; do series "$form" "$tool" "$i"; done
  done
  echo "run $i of $RUNS done (order: ${order[*]})" >&2
done

# The summary, also kept in $W/summary.md (the raw figures stay in $W/results.tsv).
{
echo "Date: $(date -u '+%Y-%m-%d %H:%M UTC'). Machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')). Coffer $(git rev-parse --short HEAD 2>/dev/null || echo '?') (release build), $(restic version | cut -d' ' -f1-2), $(borg --version)."
echo "Series: $MONTHS monthly exports from export-generator (seed 1), as zips and as the same exports unpacked into folders. Medians of $RUNS run$([ "$RUNS" = 1 ] || echo s)."
python3 - "$RESULTS" <<'PY'
import sys, statistics, collections
t = collections.defaultdict(list)      # (form, tool, month) -> [wall]
rss = collections.defaultdict(list)
after = collections.defaultdict(list)  # (form, tool, month) -> [vault bytes after the seal]
inputs, names = {}, {}
for line in open(sys.argv[1]):
    form, tool, run, month, wall, m, size, inp, name = line.rstrip("\n").split("\t")
    k = (form, tool, int(month))
    t[k].append(float(wall)); rss[k].append(int(m)); after[k].append(int(size))
    inputs[(form, int(month))] = int(inp); names[(form, int(month))] = name
med = statistics.median
tools = ["coffer", "coffer-lowkdf", "restic", "borg"]
months = sorted({m for (_, m) in inputs if m > 0})
def added(form, tool, m):
    a = med(after[(form, tool, m)])
    return a - med(after[(form, tool, m - 1)])
for form in ("zips", "folders"):
    if not any(f == form for (f, _) in inputs): continue
    print()
    print(f"{form.capitalize()}: seal time (median) and bytes added to the vault per export.")
    print()
    print("| export | input | coffer seal | coffer-lowkdf seal | restic seal | borg seal | coffer added | restic added | borg added |")
    print("|---|---|---|---|---|---|---|---|---|")
    for m in months:
        cells = [names[(form, m)], f"{inputs[(form, m)]}"]
        cells += [f"{med(t[(form, tool, m)]):.2f} s" for tool in tools]
        cells += [f"{added(form, tool, m):.0f}" for tool in ("coffer", "restic", "borg")]
        print("| " + " | ".join(cells) + " |")
    total_in = sum(inputs[(form, m)] for m in months)
    last = months[-1]
    final = {tool: med(after[(form, tool, last)]) for tool in tools}
    seal = {tool: med([med(t[(form, tool, m)]) for m in months]) for tool in tools}
    later = {tool: med([med(t[(form, tool, m)]) for m in months[1:]]) if len(months) > 1 else seal[tool] for tool in tools}
    peak = {tool: max(med(rss[(form, tool, m)]) for m in months) for tool in tools}
    print()
    print(f"| {form}, {len(months)} exports ({total_in / 1e6:.2f} MB in all) | coffer | coffer-lowkdf | restic | borg |")
    print("|---|---|---|---|---|")
    print("| vault after the series | " + " | ".join(f"{final[x] / 1e6:.2f} MB ({final[x] / final['restic']:.2f}x restic)" for x in tools) + " |")
    print("| seal of one export, median over the series | " + " | ".join(f"{seal[x]:.2f} s" for x in tools) + " |")
    print("| seal of one export, median from the second on | " + " | ".join(f"{later[x]:.2f} s" for x in tools) + " |")
    print("| peak RSS of a seal | " + " | ".join(f"{peak[x] / 1024:.0f} MiB" for x in tools) + " |")
    if form == "zips":
        r = final["coffer"] / final["restic"]
        print()
        print("Targets (zips):")
        print(f"- vault ≤ 0.50x restic's repository: coffer {r:.2f}x: {'met' if r <= 0.5 else 'NOT met'}.")
        for tool, label in (("coffer", "with the Argon2id MODERATE unlock"), ("coffer-lowkdf", "besides the unlock (test-only KDF)")):
            s = seal[tool]
            print(f"- seal of one export < 0.5 s, {label}: median {s:.2f} s: {'met' if s < 0.5 else 'NOT met'}.")
PY
echo
echo "Zip analysis at seal time (coffer-bench zipcost):"
"$BIN/coffer-bench" zipcost "${ZIPS[@]}"
} | tee "$W/summary.md"
