#!/usr/bin/env bash
# Where the bytes of the first seal of the mixed corpus go, Coffer against restic: one seal each,
# then Coffer's pack headers (`coffer-bench breakdown`) and restic's index (`restic cat index`).
#
#   bash Benchmarks/breakdown.sh --bin DIR [--size-mb N] [--work DIR]
#
#   --bin DIR     folder holding a release `coffer` and `coffer-bench` (e.g. .build/release)
#   --size-mb N   corpus size in MiB (default 256; the corpus is run.sh's, seed 1)
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE=256; W=$PWD/bench-work; BIN=""; SCRATCH=""
usage() { sed -n '5,8p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 64; }
while [ $# -gt 0 ]; do
  case "$1" in
    --bin) BIN="${2:?}"; shift 2 ;;
    --size-mb) SIZE="${2:?}"; shift 2 ;;
    --work) W="${2:?}"; shift 2 ;;
    *) usage ;;
  esac
done
[ -x "$BIN/coffer" ] || usage
mkdir -p "$W"; W=$(cd "$W" && pwd)
source Benchmarks/common.sh
tool_environment
ensure_corpus "$BIN/coffer-bench" "$SIZE"
C=$W/breakdown-coffer R=$W/breakdown-restic
rm -rf "$C" "$R" "$XDG_STATE_HOME" "$RESTIC_CACHE_DIR"
"$BIN/coffer-bench" init-lowkdf --vault "$C" >/dev/null
"$BIN/coffer" seal --vault "$C" --quiet --name corpus "$CORPUS" >/dev/null
echo "== coffer: $(bytes_in "$C") bytes"
"$BIN/coffer-bench" breakdown --vault "$C"
for d in index dicts versions heads; do echo "$d: $(bytes_in "$C/$d") bytes"; done
restic init -q -r "$R" >/dev/null
restic backup -q -r "$R" "$CORPUS" >/dev/null
echo "== restic: $(bytes_in "$R") bytes"
for d in data index snapshots keys; do echo "$d: $(bytes_in "$R/$d") bytes"; done
restic -q -r "$R" list index | while read -r id; do restic -q -r "$R" cat index "$id"; echo; done > "$W/restic-index.json"
find "$R/data" -type f -printf '%s\n' > "$W/restic-packs.txt"
python3 - "$W/restic-index.json" "$W/restic-packs.txt" <<'PY'
import sys, json, collections
kinds = collections.defaultdict(lambda: [0, 0, 0])
packs = []
for line in open(sys.argv[1]):
    line = line.strip()
    if not line: continue
    for p in json.loads(line)["packs"]:
        packs.append(p)
        for b in p["blobs"]:
            plain = b.get("uncompressed_length", b["length"] - 32)
            size = "< 64 KiB" if plain < 64 << 10 else "64–256 KiB" if plain < 256 << 10 else "≥ 256 KiB"
            k = f'{b["type"]}, {"zstd" if "uncompressed_length" in b else "raw"}, {size}'
            kinds[k][0] += 1; kinds[k][1] += plain; kinds[k][2] += b["length"]
print("kind\tblobs\tplain\tpayload\tenvelopes")
blobs = 0
for k, (n, plain, env) in sorted(kinds.items()):
    print(f"{k}\t{n}\t{plain}\t{env - 32 * n}\t{env}")
    blobs += n
print(f"all blobs\t{blobs}\t\t\t{32 * blobs} (envelope overhead)")
total = sum(int(x) for x in open(sys.argv[2]))
env = sum(b["length"] for p in packs for b in p["blobs"])
print(f"packs\t{total}\t{len(packs)}\t{total - env} (headers + length)")
PY
