#!/usr/bin/env bash
# Scale benchmark: Coffer (format 2, and format 1 for comparison) against restic on many small
# files, in the same run, on the same machine and the same generated trees.
#
#   bash Benchmarks/scale.sh [--runs R] [--trees a,b] [--files-a N] [--files-b N] [--scratch-path DIR] [--work DIR]
#
#   --runs R          repetitions (default 3); the tables show medians
#   --trees a,b       which trees to measure (default both)
#   --files-a N       tree A: N small files (200 B to 4 KiB, text and random) in N/100 folders (default 100000)
#   --files-b N       tree B: N empty files in N/1000 folders (default 1000000)
#   --scratch-path    SwiftPM build folder (default .build); --work: where trees and vaults go
#
# Tree A, per run and tool (rotating order), on a new vault: first seal; unchanged re-seal (time,
# and the bytes it added: regular-file bytes of the vault before and after); one file in the middle
# of the tree replaced by 2,048 random bytes and sealed again (bytes added in all, beyond the file's
# own 2,048 bytes, and the tree/metadata part: for Coffer the version's stats, for restic the growth
# besides its new data packs, read from its new index files); the unlock alone (`coffer list`,
# `restic cat config`). Tools: coffer (format 2), coffer-f1 (a format-1 vault) and restic.
# Tree B, per run and tool: seal, ls, restore (checked by counting the files) and check (no data
# read), each with wall time and peak RSS from /usr/bin/time. Tools: coffer and restic.
#
# Coffer's vaults come from `coffer-bench init-lowkdf` (the test-only Argon2id cost, as run.sh's
# coffer-lowkdf): the figures are Coffer's own, besides the 256 MiB unlock. restic keeps its own
# KDF (scrypt, calibrated at init): its unlock row shows what that costs each command.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=3; TREES=a,b; FILES_A=100000; FILES_B=1000000; SCRATCH=""; W=$PWD/bench-work
usage() { sed -n '5,11p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 64; }
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) RUNS="${2:?}"; shift 2 ;;
    --trees) TREES="${2:?}"; shift 2 ;;
    --files-a) FILES_A="${2:?}"; shift 2 ;;
    --files-b) FILES_B="${2:?}"; shift 2 ;;
    --scratch-path) SCRATCH="${2:?}"; shift 2 ;;
    --work) W="${2:?}"; shift 2 ;;
    *) usage ;;
  esac
done
[[ "$RUNS" =~ ^[1-9][0-9]*$ && "$FILES_A" =~ ^[1-9][0-9]*$ && "$FILES_B" =~ ^[1-9][0-9]*$ && "$TREES" =~ ^(a|b|a,b|b,a)$ ]] || usage
mkdir -p "$W"; W=$(cd "$W" && pwd)/scale
mkdir -p "$W"

source Benchmarks/common.sh  # (the working folder is the repository root)
build --product coffer
build --product coffer-bench
BIN=$("${BUILD[@]}" --show-bin-path)
C=$BIN/coffer

tool_environment  # passphrases and state folders of the tools; an empty $RESULTS
FOLDERS_A=$(( FILES_A / 100 > 0 ? FILES_A / 100 : 1 ))
FOLDERS_B=$(( FILES_B / 1000 > 0 ? FILES_B / 1000 : 1 ))

tree() {  # a|b: generated once per size, then reused
  local t=$1 files folders kind
  if [ "$t" = a ]; then files=$FILES_A folders=$FOLDERS_A kind=small; else files=$FILES_B folders=$FOLDERS_B kind=empty; fi
  local dir=$W/tree-$t-$files
  if [ ! -f "$dir.complete" ]; then
    "$BIN/coffer-bench" scale-tree --out "$dir" --files "$files" --folders "$folders" --kind "$kind" --seed 1 >&2
    touch "$dir.complete"
  fi
  echo "$dir"
}

timed() {  # tool tree step command...: appends tool, tree, step, wall s, peak RSS KiB, CPU s
  local tool=$1 t=$2 step=$3; shift 3
  sync
  if ! /usr/bin/time -f "%e %M %U %S" -o "$W/time.out" "$@" >"$W/stdout.log" 2>"$W/stderr.log"; then
    echo "$tool $step on tree $t failed: $*" >&2; cat "$W/stderr.log" >&2; exit 1
  fi
  local e m u s
  read -r e m u s < <(tail -1 "$W/time.out")
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$tool" "$t" "$step" "$e" "$m" "$(awk -v u="$u" -v s="$s" 'BEGIN { print u + s }')" >> "$RESULTS"
}

figure() {  # tool tree name value: a measured number of bytes (in the wall column)
  printf '%s\t%s\t%s\t%s\t0\t0\n' "$1" "$2" "$3" "$4" >> "$RESULTS"
}

# restic's new packs after a backup that added the index files in $1 (a list of names): the
# bytes of those holding data blobs (the changed file's own chunks), from `restic cat index`.
restic_data_pack_bytes() {
  local r=$1 total=0 id
  for id in $2; do
    restic cat index -q -r "$r" "$id" > "$W/index.json"
    total=$(( total + $(python3 - "$W/index.json" "$r" <<'PY'
import json, os, sys
idx = json.load(open(sys.argv[1]))
n = 0
for p in idx.get("packs", []):
    if any(b.get("type") == "data" for b in p.get("blobs", [])):
        n += os.path.getsize(os.path.join(sys.argv[2], "data", p["id"][:2], p["id"]))
print(n)
PY
) ))
  done
  echo "$total"
}

CHANGE_BYTES=2048
run_a() {  # tool: coffer | coffer-f1 | restic
  local tool=$1 src r=$W/repo-$1 s0 s1 s2 changed
  src=$(tree a)
  changed=$src/$(printf 'd%04d' $(( FOLDERS_A / 2 )))/$(printf 'f%07d' $(( (FOLDERS_A / 2) * ((FILES_A + FOLDERS_A - 1) / FOLDERS_A) )))
  [ -f "$changed" ] || { echo "no file $changed in tree A" >&2; exit 1; }
  rm -rf "$r" "$XDG_STATE_HOME" "$RESTIC_CACHE_DIR"
  cp -p "$changed" "$W/changed.orig"
  case $tool in
    coffer) "$BIN/coffer-bench" init-lowkdf --vault "$r" --format 2 ;;
    coffer-f1) "$BIN/coffer-bench" init-lowkdf --vault "$r" --format 1 ;;
    restic) restic init -q -r "$r" >/dev/null ;;
  esac
  seal() {  # step
    case $tool in
      coffer*) timed "$tool" a "$1" "$C" seal --vault "$r" --json --name tree "$src" ;;
      restic) timed "$tool" a "$1" restic backup -q -r "$r" "$src" ;;
    esac
  }
  seal seal
  s0=$(bytes_in "$r")
  seal reseal
  s1=$(bytes_in "$r")
  figure "$tool" a reseal-bytes $(( s1 - s0 ))
  local before_index=""
  [ "$tool" = restic ] && before_index=$(ls "$r/index")
  "$BIN/coffer-bench" scale-change --file "$changed" --bytes $CHANGE_BYTES --seed 7
  seal change
  s2=$(bytes_in "$r")
  figure "$tool" a change-bytes $(( s2 - s1 ))
  case $tool in
    coffer*)
      python3 - "$W/stdout.log" <<'PY' | while read -r k v; do figure "$tool" a "$k" "$v"; done
import json, sys
v = json.load(open(sys.argv[1]))
print("change-packs", v["added_bytes"])
print("change-tree-plain", v.get("added_tree_plain_bytes", 0))
print("change-tree-pieces", v.get("added_tree_pieces", 0))
PY
      timed "$tool" a unlock "$C" list --vault "$r" ;;
    restic)
      local new
      new=$(comm -13 <(echo "$before_index") <(ls "$r/index") | tr '\n' ' ')
      figure "$tool" a change-data-packs "$(restic_data_pack_bytes "$r" "$new")"
      timed "$tool" a unlock restic cat config -q -r "$r" ;;
  esac
  cp -p "$W/changed.orig" "$changed"
  rm -rf "$r"
}

run_b() {  # tool: coffer | restic
  local tool=$1 src r=$W/repo-$1 t=$W/restore-$1 n
  src=$(tree b)
  rm -rf "$r" "$t" "$XDG_STATE_HOME" "$RESTIC_CACHE_DIR"
  case $tool in
    coffer)
      "$BIN/coffer-bench" init-lowkdf --vault "$r" --format 2
      timed "$tool" b seal "$C" seal --vault "$r" --quiet --name tree "$src"
      timed "$tool" b ls "$C" ls --vault "$r" tree@latest
      n=$(wc -l < "$W/stdout.log")
      timed "$tool" b restore "$C" restore --vault "$r" --quiet tree@latest --to "$t"
      timed "$tool" b check "$C" check --vault "$r" --quiet ;;
    restic)
      restic init -q -r "$r" >/dev/null
      timed "$tool" b seal restic backup -q -r "$r" "$src"
      timed "$tool" b ls restic ls -q -r "$r" latest
      n=$(wc -l < "$W/stdout.log")
      timed "$tool" b restore restic restore -q -r "$r" latest --target "$t"
      timed "$tool" b check restic check -q -r "$r" ;;
  esac
  local restored
  restored=$(find "$t" -type f | wc -l)
  [ "$restored" = "$FILES_B" ] || { echo "$tool restored $restored files of $FILES_B" >&2; exit 1; }
  (( n >= FILES_B )) || { echo "$tool ls listed $n lines for $FILES_B files" >&2; exit 1; }
  rm -rf "$r" "$t"
}

for t in ${TREES//,/ }; do
  tree "$t" >/dev/null
  if [ "$t" = a ]; then TOOLS=(coffer restic coffer-f1); else TOOLS=(coffer restic); fi
  for i in $(seq 1 "$RUNS"); do
    k=$(( (i - 1) % ${#TOOLS[@]} ))
    order=("${TOOLS[@]:k}" "${TOOLS[@]:0:k}")
    for tool in "${order[@]}"; do "run_$t" "$tool"; done
    echo "tree $t: run $i of $RUNS done (order: ${order[*]})" >&2
  done
done

# The summary, also kept in $W/summary.md (the raw figures stay in $W/results.tsv).
{
CPU=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
MEM=$(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)
echo "Date: $(date -u '+%Y-%m-%d %H:%M UTC'). Machine: $(nproc) CPUs ($CPU), $MEM, $(. /etc/os-release && echo "$PRETTY_NAME"), load average $(cut -d' ' -f1-3 /proc/loadavg) at the end."
echo "Coffer $(git describe --always --dirty 2>/dev/null || echo "?") (release build, test-only KDF), $(restic version | cut -d' ' -f1-2)."
echo "Tree A: $FILES_A files of 200 B to 4 KiB in $FOLDERS_A folders. Tree B: $FILES_B empty files in $FOLDERS_B folders."
echo "Medians of $RUNS run$([ "$RUNS" = 1 ] || echo s), tools in rotating order, page cache warm."
echo
python3 - "$RESULTS" "$CHANGE_BYTES" <<'PY'
import sys, statistics, collections
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    tool, tree, step, wall, rss, cpu = line.rstrip("\n").split("\t")
    rows[(tool, tree, step)].append((float(wall), int(rss), float(cpu)))
change = int(sys.argv[2])
def med(tool, tree, step, k=0):
    v = rows.get((tool, tree, step))
    return statistics.median(x[k] for x in v) if v else None
def s(t): return "" if t is None else f"{t:.2f} s"
def b(n): return "" if n is None else f"{n:,.0f} B"
def ratio(x, y): return "" if x is None or y is None or y == 0 else f"{x / y:.2f}x"
def met(ok): return "" if ok is None else ("yes" if ok else "NO")

if any(k[1] == "a" for k in rows):
    def beyond(tool):
        v = med(tool, "a", "change-bytes")
        return None if v is None else v - change
    def meta(tool):
        if tool == "restic":
            v, d = med(tool, "a", "change-bytes"), med(tool, "a", "change-data-packs")
            return None if v is None or d is None else v - d
        return None if tool == "coffer-f1" else med(tool, "a", "change-tree-plain")  # format 1: no pieces, the whole listing
    def reseal_net(tool):
        t, u = med(tool, "a", "reseal"), med(tool, "a", "unlock")
        return None if t is None or u is None else t - u
    print("Tree A (many small files). Bytes: regular-file bytes added to the vault/repository by the step.")
    print()
    print("| measure | coffer (format 2) | restic | coffer/restic | coffer format 1 | target | met |")
    print("|---|---|---|---|---|---|---|")
    def line(label, f, fmt, target="", ok=None, show=None):
        c, r, f1 = f("coffer"), f("restic"), f("coffer-f1")
        text = (lambda t, v: show(t)) if show else (lambda t, v: fmt(v))
        print(f"| {label} | {text('coffer', c)} | {text('restic', r)} | {ratio(c, r)} | {text('coffer-f1', f1)} | {target} | {met(None if c is None or ok is None else ok(c, r))} |")
    def cpu(step):  # wall time and CPU time (user + sys), medians
        return lambda t: "" if med(t, "a", step) is None else f"{med(t, 'a', step):.2f} s ({med(t, 'a', step, 2):.2f} s CPU)"
    line("first seal", lambda t: med(t, "a", "seal"), s, show=cpu("seal"))
    line("unchanged re-seal", lambda t: med(t, "a", "reseal"), s, "no slower than restic", lambda c, r: r is not None and c <= r, show=cpu("reseal"))
    line("unchanged re-seal minus the unlock", reseal_net, s)
    line("seal after the one change", lambda t: med(t, "a", "change"), s, show=cpu("change"))
    line("unlock alone (`coffer list`, `restic cat config`)", lambda t: med(t, "a", "unlock"), s, show=cpu("unlock"))
    line("unchanged re-seal: bytes added", lambda t: med(t, "a", "reseal-bytes"), b, "≤ 4 KiB", lambda c, r: c <= 4096)
    line(f"one changed file ({change:,} random bytes): bytes added", lambda t: med(t, "a", "change-bytes"), b)
    line("  of which beyond the file's own bytes", beyond, b, "≤ 64 KiB", lambda c, r: c <= 65536)
    line("  tree part (coffer: tree-piece plaintext; restic: besides data packs)", meta, b)
    line("  coffer: packs written (data + tree pieces)", lambda t: med(t, "a", "change-packs"), b)
    line("  coffer: tree pieces written", lambda t: med(t, "a", "change-tree-pieces"), lambda n: "" if n is None else f"{n:.0f}")
    line("first seal, peak RSS", lambda t: med(t, "a", "seal", 1), lambda k: "" if k is None else f"{k / 1024:.0f} MiB")
    line("unchanged re-seal, peak RSS", lambda t: med(t, "a", "reseal", 1), lambda k: "" if k is None else f"{k / 1024:.0f} MiB")
    print()

if any(k[1] == "b" for k in rows):
    print("Tree B (empty files): wall time and peak RSS (max RSS from /usr/bin/time -v).")
    print()
    print("| step | coffer time | restic time | time ratio | coffer peak RSS | restic peak RSS | RSS ratio | target (RSS ≤ restic's) |")
    print("|---|---|---|---|---|---|---|---|")
    for step, label in [("seal", "seal / backup"), ("restore", "restore"), ("ls", "ls"), ("check", "check (no data read)")]:
        ct, rt = med("coffer", "b", step), med("restic", "b", step)
        cm, rm = med("coffer", "b", step, 1), med("restic", "b", step, 1)
        mib = lambda k: "" if k is None else f"{k / 1024:.0f} MiB"
        st = lambda tool, t: "" if t is None else f"{t:.2f} s ({med(tool, 'b', step, 2):.2f} s CPU)"
        print(f"| {label} | {st('coffer', ct)} | {st('restic', rt)} | {ratio(ct, rt)} | {mib(cm)} | {mib(rm)} | {ratio(cm, rm)} | {met(None if cm is None or rm is None else cm <= rm)} |")
PY
} | tee "$W/summary.md"
