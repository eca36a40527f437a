#!/usr/bin/env bash
# The export series: 12 monthly synthetic LinkedIn Basic exports (zips, from the project's
# generator) sealed one after the other into Coffer, restic and borg, in the same run.
# Prints the stored size against the sum of the zips and against restic, and the time per seal.
#
#   bash Benchmarks/exports.sh [--months N]
set -euo pipefail
cd "$(dirname "$0")/.."
MONTHS=12
[ "${1:-}" = "--months" ] && MONTHS="$2"
need=""; for p in restic borgbackup; do dpkg -s $p >/dev/null 2>&1 || need="$need $p"; done
if [ -n "$need" ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need; fi
swift build -c release --product coffer >/dev/null
swift build -c release --product export-generator >/dev/null
swift build -c release --product coffer-bench >/dev/null
BIN=$(swift build -c release --show-bin-path)
W=$PWD/bench-work/exports
rm -rf "$W"; mkdir -p "$W/zips"
"$BIN/export-generator" --out "$W/zips" --months "$MONTHS" --quiet
export COFFER_PASSPHRASE=bench RESTIC_PASSWORD=bench BORG_PASSPHRASE=bench XDG_STATE_HOME=$W/state
export BORG_BASE_DIR=$W/borg-base RESTIC_CACHE_DIR=$W/restic-cache BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK=yes
"$BIN/coffer" init --vault "$W/coffer" --quiet
restic init -q -r "$W/restic" >/dev/null
borg init -e repokey-blake2 "$W/borg" >/dev/null 2>&1
ZIPS=$(du -cb "$W"/zips/*.zip | tail -1 | cut -f1)
echo "| export | zip | coffer seal | coffer added | restic added | borg added |"
echo "|---|---|---|---|---|---|"
prev_c=0; prev_r=0; prev_b=0; times=()
for z in "$W"/zips/*.zip; do
  s=$(date +%s.%N)
  "$BIN/coffer" seal --vault "$W/coffer" --quiet "$z"
  e=$(date +%s.%N)
  restic backup -q -r "$W/restic" "$z" >/dev/null
  borg create --compression zstd,3 "$W/borg::$(basename "$z")" "$z" >/dev/null 2>&1
  c=$(du -sb "$W/coffer" | cut -f1); r=$(du -sb "$W/restic" | cut -f1); b=$(du -sb "$W/borg" | cut -f1)
  t=$(python3 -c "print(f'{$e-$s:.2f} s')")
  echo "| $(basename "$z") | $(stat -c %s "$z") | $t | $((c-prev_c)) | $((r-prev_r)) | $((b-prev_b)) |"
  prev_c=$c; prev_r=$r; prev_b=$b
done
python3 - "$ZIPS" "$prev_c" "$prev_r" "$prev_b" <<'PY'
import sys
z, c, r, b = map(int, sys.argv[1:])
print(f"\nSum of the zips: {z/1e6:.2f} MB. Coffer vault: {c/1e6:.2f} MB ({c/z:.0%} of the zips, {c/r:.0%} of restic). restic: {r/1e6:.2f} MB. borg: {b/1e6:.2f} MB.")
PY
echo
"$BIN/coffer-bench" zipcost "$W"/zips/*.zip | tail -3
