#!/usr/bin/env bash
# Sync of one vault of about 130 files to a folder and to an rclone local remote, release build.
#
#   bash Benchmarks/rclone-sync.sh [--runs N] [--bin DIR]
#
# The vault: `coffer-bench init-lowkdf` (the test-only Argon2id, so the unlock does not weigh on
# the figures), then 32 seals of three pseudo-random files each: 131 vault files, 14 MB.
# Each run: a fresh empty destination, `coffer sync DEST --quiet`, wall time with GNU time; the
# folder and the rclone remote (`rclone::local:DIR`) alternate. Medians of N runs (default 5).
# Prints one line per destination kind and the ratio rclone ÷ folder.
set -euo pipefail
RUNS=5; BIN=""
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) RUNS=$2; shift 2 ;;
    --bin) BIN=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 64 ;;
  esac
done
HERE=$(cd "$(dirname "$0")/.." && pwd)
W=$(mktemp -d "${TMPDIR:-/tmp}/coffer-rclone-bench-XXXXXX")
trap 'chmod -R u+rwX "$W"; rm -rf "$W"' EXIT
if [ -z "$BIN" ]; then
  (cd "$HERE" && swift build -c release --product coffer >"$W/build.log" 2>&1 && swift build -c release --product coffer-bench >>"$W/build.log" 2>&1) \
    || { cat "$W/build.log" >&2; exit 1; }
  BIN=$(cd "$HERE" && swift build -c release --show-bin-path)
fi
export COFFER_PASSPHRASE=bench-passphrase XDG_STATE_HOME=$W/state HOME=$W
unset COFFER_VAULT COFFER_PASSPHRASE_FILE
V=$W/vault
"$BIN/coffer-bench" init-lowkdf --vault "$V" >/dev/null
for i in $(seq 1 32); do
  mkdir -p "$W/in/s$i"
  for j in $(seq 1 3); do head -c $((60000 + 41000 * j)) /dev/urandom >"$W/in/s$i/f$j.bin"; done
  "$BIN/coffer" seal --vault "$V" "$W/in/s$i" --quiet
done
FILES=$(find "$V" -type f -not -path "*/locks/*" | wc -l)
BYTES=$(find "$V" -type f -not -path "*/locks/*" -printf '%s\n' | awk '{ s += $1 } END { print s }')
echo "vault: $FILES files, $BYTES bytes; rclone $(rclone version | head -1 | awk '{print $2}'); $RUNS runs each; load $(cut -d' ' -f1-3 /proc/loadavg)"

median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
: >"$W/folder.txt"; : >"$W/rclone.txt"
for r in $(seq 1 "$RUNS"); do
  for kind in folder rclone; do
    rm -rf "$W/dest"; mkdir "$W/dest"
    if [ $kind = folder ]; then DEST=$W/dest; else DEST=rclone::local:$W/dest; fi
    /usr/bin/time -f %e -o "$W/t" "$BIN/coffer" sync "$DEST" --vault "$V" --quiet
    cat "$W/t" >>"$W/$kind.txt"
    [ "$(find "$W/dest" -type f -not -path "*/locks/*" | wc -l)" = "$FILES" ] || { echo "$kind: incomplete copy" >&2; exit 1; }
  done
done
F=$(median <"$W/folder.txt"); R=$(median <"$W/rclone.txt")
echo "folder sync: median $F s ($(tr '\n' ' ' <"$W/folder.txt"))"
echo "rclone sync: median $R s ($(tr '\n' ' ' <"$W/rclone.txt"))"
awk -v f="$F" -v r="$R" 'BEGIN { printf "rclone ÷ folder: %.2fx\n", r / f }'
