#!/usr/bin/env bash
# Side-by-side benchmark: Coffer against restic and borg on the same machine, in the same run, on a
# deterministic mixed corpus (text, random data, duplicate files).
#
#   bash Benchmarks/run.sh [--size-mb N] [--runs R] [--full] [--drop-caches] [--scratch-path DIR] [--work DIR]
#
#   --size-mb N       corpus size in MiB (default 256, a few minutes in all); --full = 1024 (1 GiB)
#   --runs R          repetitions (default 3); the tables show medians
#   --drop-caches     sync and empty the page cache (echo 3 > /proc/sys/vm/drop_caches, needs root)
#                     before every restore and check, for cold-cache figures
#   --scratch-path    SwiftPM build folder (default .build); --work: where corpus and vaults go
#
# Each run and each tool starts from a fresh copy of the corpus at the same path and a new vault:
#   first seal; unchanged re-seal; `coffer-bench mutate` changes 1% of the bytes (same seed for every
#   tool and run: ranges rewritten in place, appends, one new file) and the tree is sealed again;
#   restore of that last version (compared with the source afterwards); check reading every byte
#   (coffer check --read-data, restic check --read-data, borg check --verify-data); vault size (bytes
#   of its files) after the first seal and after all three. Wall time and peak RSS of every step come from
#   /usr/bin/time; `sync` runs before every step. Tools take turns in a rotating order.
#
# Coffer runs twice per round: "coffer", its vault made with the default Argon2id MODERATE cost
# (256 MiB, what users get, and what sets its peak memory), and "coffer-lowkdf", the same release
# coffer on a vault made by `coffer-bench init-lowkdf` with the test-only minimum Argon2id cost:
# its peak RSS is Coffer's memory besides Argon2id. `coffer list` on each ("unlock") shows the
# unlock's own time and memory.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE=256; RUNS=3; DROP=0; SCRATCH=""; W=$PWD/bench-work
usage() { sed -n '5,11p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 64; }
while [ $# -gt 0 ]; do
  case "$1" in
    --size-mb) SIZE="${2:?}"; shift 2 ;;
    --runs) RUNS="${2:?}"; shift 2 ;;
    --full) SIZE=1024; shift ;;
    --drop-caches) DROP=1; shift ;;
    --scratch-path) SCRATCH="${2:?}"; shift 2 ;;
    --work) W="${2:?}"; shift 2 ;;
    *) usage ;;
  esac
done
[[ "$SIZE" =~ ^[1-9][0-9]*$ && "$RUNS" =~ ^[1-9][0-9]*$ ]] || usage
mkdir -p "$W"; W=$(cd "$W" && pwd)

# restic, borg and GNU time from apt when missing; the build helper.
source Benchmarks/common.sh  # (the working folder is the repository root)
build --product coffer
build --product coffer-bench
BIN=$("${BUILD[@]}" --show-bin-path)

# The corpus, generated once per size (deterministic: seed 1).
ensure_corpus "$BIN/coffer-bench" "$SIZE"
INPUT=$(find "$CORPUS" -type f -printf '%s\n' | awk '{ s += $1 } END { printf "%d\n", s }')
FILES=$(find "$CORPUS" -type f | wc -l)

if [ "$DROP" = 1 ]; then
  if ! { sync && echo 3 > /proc/sys/vm/drop_caches; } 2>/dev/null; then
    echo "warning: --drop-caches: cannot write /proc/sys/vm/drop_caches (needs root, and a /proc/sys the container lets us write); caches stay warm" >&2
    DROP=0
  fi
fi
CACHE=$([ "$DROP" = 1 ] && echo "cold (page cache dropped before every restore and check)" || echo "warm (page cache kept)")

tool_environment  # passphrases and state folders of the three tools; an empty $RESULTS
SRC=$W/src  # every tool seals this path: a fresh copy of the corpus each time

settle() {  # before a timed step: write back dirty pages; with --drop-caches and "cold", empty the page cache
  sync
  if [ "${1:-}" = cold ] && [ "$DROP" = 1 ]; then echo 3 > /proc/sys/vm/drop_caches; fi
}

timed() {  # tool step command...: appends tool, step, wall s, peak RSS KiB, CPU s (user, sys)
  local tool=$1 step=$2; shift 2
  if ! /usr/bin/time -f "%e %M %U %S" -o "$W/time.out" "$@" >"$W/stdout.log" 2>"$W/stderr.log"; then
    echo "$tool $step failed: $*" >&2; cat "$W/stderr.log" >&2; exit 1
  fi
  local e m u s
  read -r e m u s < <(tail -1 "$W/time.out")
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$tool" "$step" "$e" "$m" "$u" "$s" >> "$RESULTS"
}

size() {  # tool step vault
  printf '%s\t%s\t%s\t0\t0\t0\n' "$1" "$2" "$(bytes_in "$3")" >> "$RESULTS"
}

fresh_source() { rm -rf "$SRC"; cp -a "$CORPUS" "$SRC"; }

change_one_percent() { "$BIN/coffer-bench" mutate --dir "$SRC" --percent 1 --seed 7 > "$W/mutate.log"; }

verify_restore() {  # tool restored-folder
  if ! diff -rq "$SRC" "$2" >/dev/null 2>&1; then
    echo "$1: the restored tree differs from the sealed one:" >&2; diff -rq "$SRC" "$2" 2>&1 | head >&2; exit 1
  fi
}

run_coffer() {  # coffer | coffer-lowkdf
  local tool=$1 r=$W/repo-$1 t=$W/restore-$1 c=$BIN/coffer
  rm -rf "$r" "$t" "$XDG_STATE_HOME"
  fresh_source
  if [ "$tool" = coffer-lowkdf ]; then "$BIN/coffer-bench" init-lowkdf --vault "$r"; else "$c" init --vault "$r" --quiet; fi
  settle; timed "$tool" seal "$c" seal --vault "$r" --quiet --name corpus "$SRC"
  size "$tool" size1 "$r"
  settle; timed "$tool" reseal "$c" seal --vault "$r" --quiet --name corpus "$SRC"
  change_one_percent
  settle; timed "$tool" change "$c" seal --vault "$r" --quiet --name corpus "$SRC"
  size "$tool" size3 "$r"
  settle cold; timed "$tool" restore "$c" restore --vault "$r" --quiet corpus@latest --to "$t"
  verify_restore "$tool" "$t/$(basename "$SRC")"
  rm -rf "$t"
  settle cold; timed "$tool" check "$c" check --vault "$r" --quiet --read-data
  settle; timed "$tool" unlock "$c" list --vault "$r"
  rm -rf "$r"
}

run_restic() {
  local r=$W/repo-restic t=$W/restore-restic
  rm -rf "$r" "$t" "$RESTIC_CACHE_DIR"
  fresh_source
  restic init -q -r "$r" >/dev/null
  settle; timed restic seal restic backup -q -r "$r" "$SRC"
  size restic size1 "$r"
  settle; timed restic reseal restic backup -q -r "$r" "$SRC"
  change_one_percent
  settle; timed restic change restic backup -q -r "$r" "$SRC"
  size restic size3 "$r"
  settle cold; timed restic restore restic restore -q -r "$r" latest --target "$t"
  verify_restore restic "$t$SRC"
  rm -rf "$t"
  settle cold; timed restic check restic check -q -r "$r" --read-data
  rm -rf "$r"
}

run_borg() {
  local r=$W/repo-borg t=$W/restore-borg
  rm -rf "$r" "$t" "$BORG_BASE_DIR"
  fresh_source
  borg init -e repokey-blake2 "$r" >/dev/null 2>&1
  settle; timed borg seal borg create --compression zstd,3 "$r::a1" "$SRC"
  size borg size1 "$r"
  settle; timed borg reseal borg create --compression zstd,3 "$r::a2" "$SRC"
  change_one_percent
  settle; timed borg change borg create --compression zstd,3 "$r::a3" "$SRC"
  size borg size3 "$r"
  mkdir -p "$t"
  settle cold; (cd "$t" && timed borg restore borg extract "$r::a3")
  verify_restore borg "$t$SRC"
  rm -rf "$t"
  settle cold; timed borg check borg check --verify-data "$r"
  rm -rf "$r"
}

TOOLS=(coffer restic borg coffer-lowkdf)
for i in $(seq 1 "$RUNS"); do
  k=$(( (i - 1) % ${#TOOLS[@]} ))
  order=("${TOOLS[@]:k}" "${TOOLS[@]:0:k}")
  for tool in "${order[@]}"; do
    case $tool in
      coffer|coffer-lowkdf) run_coffer "$tool" ;;
      restic) run_restic ;;
      borg) run_borg ;;
    esac
  done
  echo "run $i of $RUNS done (order: ${order[*]})" >&2
done
rm -rf "$SRC"

# The summary, also kept in $W/summary.md (the raw figures stay in $W/results.tsv).
{
CPU=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
MEM=$(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)
echo "Date: $(date -u '+%Y-%m-%d %H:%M UTC'). Machine: $(nproc) CPUs ($CPU), $MEM, $(. /etc/os-release && echo "$PRETTY_NAME")."
echo "Coffer $(git rev-parse --short HEAD 2>/dev/null || echo '?') (release build), $(restic version | cut -d' ' -f1-2), $(borg --version)."
echo "Corpus (--size-mb $SIZE, seed 1): $FILES files, $INPUT bytes. The 1% change:$(cut -d: -f2- "$W/mutate.log" | sed "s| in $SRC||")."
echo "Page cache: $CACHE. Medians of $RUNS run$([ "$RUNS" = 1 ] || echo s), tools in rotating order."
echo
python3 - "$RESULTS" "$INPUT" <<'PY'
import sys, statistics, collections
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    tool, step, wall, rss, user, sys_ = line.rstrip("\n").split("\t")
    rows[(tool, step)].append((float(wall), int(rss), float(user) + float(sys_)))
input_bytes = int(sys.argv[2])
tools = ["coffer", "restic", "borg", "coffer-lowkdf"]
def med(tool, step, k=0):
    v = rows.get((tool, step))
    return statistics.median(x[k] for x in v) if v else None
steps = [("seal", "first seal"), ("reseal", "unchanged re-seal"), ("change", "seal after the 1% change"),
         ("restore", "restore (last version)"), ("check", "check, reading every byte"), ("unlock", "unlock only (`coffer list`)")]
timed_steps = [s for s, _ in steps if s != "unlock"]

print("Wall time, medians (MB/s of the corpus for first seal and restore). coffer-lowkdf: the same Coffer with the")
print("test-only KDF instead of Argon2id MODERATE, i.e. Coffer's own cost besides the unlock.")
print()
print("| step | " + " | ".join(tools) + " |")
print("|---|" + "---|" * len(tools))
for step, label in steps:
    cells = []
    for tool in tools:
        t = med(tool, step)
        if t is None: cells.append("")
        elif step in ("seal", "restore") and t > 0: cells.append(f"{t:.2f} s ({input_bytes / t / 1e6:.0f} MB/s)")
        else: cells.append(f"{t:.2f} s")
    print(f"| {label} | " + " | ".join(cells) + " |")
for step, label in [("size1", "vault size after the first seal"), ("size3", "vault size after the three seals")]:
    print(f"| {label} | " + " | ".join("" if med(t, step) is None else f"{med(t, step) / 1e6:.1f} MB" for t in tools) + " |")

print()
print("Peak RSS (MiB, medians) and CPU time (user + sys, s, medians) per step:")
print()
print("| step | " + " | ".join(tools) + " |")
print("|---|" + "---|" * len(tools))
for step, label in steps:
    cells = []
    for tool in tools:
        m, c = med(tool, step, 1), med(tool, step, 2)
        cells.append("" if m is None else f"{m / 1024:.0f} MiB, {c:.2f} s CPU")
    print(f"| {label} | " + " | ".join(cells) + " |")
def peak(tool):
    v = [med(tool, s, 1) for s in timed_steps if med(tool, s, 1) is not None]
    return max(v) if v else None
print("| peak over the timed steps | " + " | ".join("" if peak(t) is None else f"{peak(t) / 1024:.0f} MiB" for t in tools) + " |")

def ratio(num, den):
    return None if num is None or den is None or den == 0 else num / den
def fmt(r): return "" if r is None else f"{r:.2f}x"
print()
print("Ratios against restic. Speed: restic's time / the tool's time (above 1 = faster than restic).")
print("Size and memory: the tool's / restic's (below 1 = smaller). Targets of the product, checked on the")
print("coffer column (Argon2id MODERATE, as users run it) except where the target names coffer-lowkdf.")
print()
print("| measure | coffer | coffer-lowkdf | borg | target | met |")
print("|---|---|---|---|---|---|")
speed = lambda tool, step: ratio(med("restic", step), med(tool, step))
share = lambda tool, step: ratio(med(tool, step), med("restic", step))
def line(label, f, step, target="", ok=None, on="coffer"):
    vals = {t: f(t, step) for t in ("coffer", "coffer-lowkdf", "borg")}
    met = "" if ok is None or vals[on] is None else ("yes" if ok(vals[on]) else "NO")
    print(f"| {label} | {fmt(vals['coffer'])} | {fmt(vals['coffer-lowkdf'])} | {fmt(vals['borg'])} | {target} | {met} |")
line("first seal (speed)", speed, "seal", "≥ 2.00x", lambda r: r >= 2.0)
line("unchanged re-seal (speed)", speed, "reseal")
line("seal after the 1% change (speed)", speed, "change")
line("restore (speed)", speed, "restore", "≥ 1.50x", lambda r: r >= 1.5)
line("check, every byte (speed)", speed, "check", "≥ 2.00x (time ≤ 0.5x restic's)", lambda r: r >= 2.0)
line("vault size after the first seal", share, "size1", "≤ 1.00x", lambda r: r <= 1.0)
line("vault size after the three seals", share, "size3", "≤ 1.00x", lambda r: r <= 1.0)
line("peak RSS over the timed steps", lambda t, _: ratio(peak(t), peak("restic")), None,
     "coffer-lowkdf ≤ 1.00x (memory besides Argon2id)", lambda r: r <= 1.0, on="coffer-lowkdf")
rb = lambda tool, step: ratio(med("borg", step), med(tool, step))
print(f"| unchanged re-seal against borg: borg's time / coffer's | {fmt(rb('coffer', 'reseal'))} | {fmt(rb('coffer-lowkdf', 'reseal'))} | | ≥ 1.00x (no slower than borg) | "
      + ("" if rb("coffer", "reseal") is None else ("yes" if rb("coffer", "reseal") >= 1.0 else "NO")) + " |")

um, ul = med("coffer", "unlock"), med("coffer-lowkdf", "unlock")
if um is not None and ul is not None:
    mm, ml = med("coffer", "unlock", 1), med("coffer-lowkdf", "unlock", 1)
    print()
    print(f"Unlock (`coffer list`): {um:.2f} s and {mm / 1024:.0f} MiB peak with Argon2id MODERATE, {ul:.2f} s and {ml / 1024:.0f} MiB with the")
    print(f"test-only KDF: the Argon2id unlock costs about {um - ul:.2f} s and {(mm - ml) / 1024:.0f} MiB of every coffer command above.")
PY
} | tee "$W/summary.md"
