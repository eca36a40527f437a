#!/usr/bin/env bash
# Zips of many tiny members: peak RSS and wall time of seal, restore, restore --expand, cat and
# ls, per member count, for one coffer build.
#
#   bash Benchmarks/zip-members.sh [--coffer BIN] [--bench BIN] [--members 32768,262144,1048576] [--work DIR]
#
#   --coffer BIN   the coffer binary (default .build/release/coffer)
#   --bench BIN    coffer-bench, for the vault (default: next to --coffer, else .build/release/coffer-bench)
#   --members      member counts, comma-separated (default 32768,262144,1048576)
#   --work DIR     where zips and vaults go (default bench-work/zip-members)
#
# Each zip is made by Python's zipfile: member i is `Takeout/Google Photos/Album i/500/IMG_i.jpg.json`
# (about 50-byte names), three lines of JSON (about 100 bytes), deflated. Each count gets a new
# vault from `coffer-bench init-lowkdf` (the test-only Argon2id cost: the figures are Coffer's
# own, not the unlock's). The table says whether seal stored the zip member by member
# (`ls --json` type archive) or as an ordinary file (over the parse limits).
set -euo pipefail
cd "$(dirname "$0")/.."
COFFER=.build/release/coffer; BENCH=""; MEMBERS=32768,262144,1048576; W=$PWD/bench-work/zip-members
while [ $# -gt 0 ]; do
  case "$1" in
    --coffer) COFFER=$2; shift 2 ;;
    --bench) BENCH=$2; shift 2 ;;
    --members) MEMBERS=$2; shift 2 ;;
    --work) W=$2; shift 2 ;;
    *) sed -n '5,10p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 64 ;;
  esac
done
[ -n "$BENCH" ] || { BENCH=$(dirname "$COFFER")/coffer-bench; [ -x "$BENCH" ] || BENCH=.build/release/coffer-bench; }
mkdir -p "$W"
export COFFER_PASSPHRASE=bench-passphrase XDG_STATE_HOME=$W/state
unset COFFER_VAULT COFFER_PASSPHRASE_FILE
measure() {  # measure STEP CMD...: prints "wall s, peak MiB"
  local out=$W/time.txt step=$1; shift
  /usr/bin/time -f '%e %M' -o "$out" "$@" >"$W/stdout" 2>"$W/stderr" || { echo "$step failed:" >&2; cat "$W/stderr" >&2; exit 1; }
  awk '{ printf "%.1f s, %d MiB", $1, $2 / 1024 }' "$out"
}
printf '| members | zip | stored as | seal | restore | restore --expand | cat (last member) | ls |\n|---|---|---|---|---|---|---|---|\n'
for n in ${MEMBERS//,/ }; do
  zip=$W/in$n/takeout-$n.zip
  if [ ! -f "$zip" ]; then
    mkdir -p "$W/in$n"
    python3 - "$zip" "$n" <<'PY'
import sys, zipfile
path, n = sys.argv[1], int(sys.argv[2])
with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
    for i in range(n):
        z.writestr(f"Takeout/Google Photos/Album {i // 500}/IMG_{i:07d}.jpg.json", f'{{"title": "IMG_{i:07d}.jpg", "n": {i}}}\n'.encode() * 3)
PY
  fi
  v=$W/vault-$n; rm -rf "$v" "$W/out"; "$BENCH" init-lowkdf --vault "$v" >/dev/null
  export COFFER_VAULT=$v
  seal=$(measure seal "$COFFER" seal --name z --quiet "$zip")
  "$COFFER" ls --json z@latest "takeout-$n.zip" >"$W/ls.json"
  if head -c 4096 "$W/ls.json" | grep -q '"type" *: *"archive"'; then kind="member by member"; else kind="ordinary file"; fi
  restore=$(measure restore "$COFFER" restore z@latest --to "$W/out" --quiet); rm -rf "$W/out"
  expand=$(measure expand "$COFFER" restore z@latest --to "$W/out" --expand --quiet); rm -rf "$W/out"
  last=$((n - 1))
  member="takeout-$n.zip/Takeout/Google Photos/Album $((last / 500))/IMG_$(printf %07d $last).jpg.json"
  if [ "$kind" = "member by member" ]; then cat=$(measure cat "$COFFER" cat z@latest "$member"); else cat="-"; fi
  ls=$(measure ls "$COFFER" ls z@latest)
  printf '| %s | %s MiB | %s | %s | %s | %s | %s | %s |\n' "$n" "$(( $(stat -c %s "$zip") >> 20 ))" "$kind" "$seal" "$restore" "$expand" "$cat" "$ls"
  rm -rf "$v"
done
