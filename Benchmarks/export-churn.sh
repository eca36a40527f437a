#!/usr/bin/env bash
# What an export's next month costs: month 1 and month 2 of the generator's series, zipped by
# zlib (the generator, as LinkedIn zips), Info-ZIP (`zip -r`, `zip -9`) and 7-Zip (`7z a -tzip`),
# each sealed into fresh vaults (the keyed chunker cuts differently per vault), with the
# breakdown of month 2 from `coffer-bench seal-cost`.
#
#   bash Benchmarks/export-churn.sh [--runs R] [--scratch-path DIR] [--work DIR] [--bin DIR] [--tiers SPEC] [-- GENERATOR FLAGS]
#
#   --runs R        fresh vaults per zip maker (default 3); sizes are medians
#   --bin DIR       use the coffer, coffer-bench and export-generator in DIR (no build)
#   --tiers SPEC    other chunk tiers than the defaults (coffer-bench init-lowkdf --tiers)
#   GENERATOR FLAGS e.g. --connections 8000 --messages-bytes 8000000 (default: the generator's)
#
# Prints one table row per zip maker (zip sizes, bytes each seal added to the vault, month 2's
# share of its zip) and, for the first run of each maker, the month-2 breakdown.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=3; SCRATCH=""; W=$PWD/bench-work; BIN=""; GEN=(); TIERS=()
usage() { sed -n '7,12p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 64; }
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) RUNS="${2:?}"; shift 2 ;;
    --scratch-path) SCRATCH="${2:?}"; shift 2 ;;
    --work) W="${2:?}"; shift 2 ;;
    --bin) BIN="${2:?}"; shift 2 ;;
    --tiers) TIERS=(--tiers "${2:?}"); shift 2 ;;
    --) shift; GEN=("$@"); break ;;
    *) usage ;;
  esac
done
[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || usage
mkdir -p "$W"; W=$(cd "$W" && pwd)/export-churn
rm -rf "$W"; mkdir -p "$W"
if [ -z "$BIN" ]; then
  source Benchmarks/common.sh
  build --product coffer; build --product export-generator; build --product coffer-bench
  BIN=$("${BUILD[@]}" --show-bin-path)
fi
export COFFER_PASSPHRASE=bench-passphrase XDG_STATE_HOME=$W/state
unset COFFER_VAULT COFFER_PASSPHRASE_FILE

"$BIN/export-generator" --out "$W/series" --months 2 --format both --quiet "${GEN[@]}"
mapfile -t FOLDERS < <(ls -d "$W"/series/*/ | sed 's:/$::' | sort -t_ -k3)  # 2 exports, one year
[ "${#FOLDERS[@]}" = 2 ] || { echo "expected 2 exports in $W/series" >&2; exit 1; }
# Date order: MM-DD-YYYY, same year in a 2-month series unless it spans New Year.
if [ "$(basename "${FOLDERS[0]}" | cut -c32-35)" != "$(basename "${FOLDERS[1]}" | cut -c32-35)" ]; then
  FOLDERS=("${FOLDERS[1]}" "${FOLDERS[0]}")
fi

MAKERS=(zlib zip zip-9 7z)
for maker in "${MAKERS[@]}"; do
  mkdir -p "$W/$maker"
  for i in 0 1; do
    f=${FOLDERS[$i]} out=$W/$maker/$(basename "${FOLDERS[$i]}").zip
    case $maker in
      zlib) cp "$f.zip" "$out" ;;
      zip) (cd "$f" && zip -q -r "$out" .) ;;
      zip-9) (cd "$f" && zip -q -9 -r "$out" .) ;;
      7z) (cd "$f" && 7z a -tzip -bd -bso0 -bsp0 "$out" . >/dev/null) ;;
    esac
  done
done

bytes_in() { find "$1" -type f -printf '%s\n' | awk '{ s += $1 } END { printf "%d\n", s }'; }
echo "| zip made by | month 1 zip | first seal added | month 2 zip | month 2 added | share | runs (month 2 added) |"
echo "|---|---:|---:|---:|---:|---:|---|"
for maker in "${MAKERS[@]}"; do
  mapfile -t Z < <(for f in "${FOLDERS[@]}"; do echo "$W/$maker/$(basename "$f").zip"; done)
  first=(); second=()
  for run in $(seq 1 "$RUNS"); do
    v=$W/vault-$maker-$run
    "$BIN/coffer-bench" init-lowkdf --vault "$v" "${TIERS[@]}"
    b0=$(bytes_in "$v")
    "$BIN/coffer" seal --vault "$v" --quiet "${Z[0]}"
    b1=$(bytes_in "$v")
    find "$v" -type f -printf '%s %P\n' > "$W/before-$maker-$run"
    "$BIN/coffer" seal --vault "$v" --quiet "${Z[1]}"
    b2=$(bytes_in "$v")
    first+=($((b1 - b0))); second+=($((b2 - b1)))
    [ "$run" = 1 ] && "$BIN/coffer-bench" seal-cost --vault "$v" --before "$W/before-$maker-$run" > "$W/breakdown-$maker.md"
    rm -rf "$v"
  done
  med() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
  z1=$(stat -c %s "${Z[0]}"); z2=$(stat -c %s "${Z[1]}")
  m1=$(med "${first[@]}"); m2=$(med "${second[@]}")
  echo "| $maker | $z1 | $m1 | $z2 | $m2 | $((100 * m2 / z2))% | ${second[*]} |"
done
for maker in "${MAKERS[@]}"; do
  echo; echo "Month 2 breakdown, $maker (run 1):"; echo
  cat "$W/breakdown-$maker.md"
done
