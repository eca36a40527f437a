#!/usr/bin/env bash
# Zips of many tiny members: peak RSS and wall time of seal, restore, restore --expand, cat and
# ls, per member count, for one coffer build; then of the commands that walk the members: ls,
# ls --json, find --members, diff of two versions each holding such a zip, and copy.
#
#   bash Benchmarks/zip-members.sh [--coffer BIN] [--bench BIN] [--members 32768,262144,1048576] [--work DIR] [--keep] [--walks-only]
#
#   --coffer BIN   the coffer binary (default .build/release/coffer)
#   --bench BIN    coffer-bench, for the vault (default: next to --coffer, else .build/release/coffer-bench)
#   --members      member counts, comma-separated (default 32768,262144,1048576)
#   --work DIR     where zips and vaults go (default bench-work/zip-members)
#   --keep         keep each count's vault (with both versions) for a later --walks-only run
#   --walks-only   only the second table, on the vaults a --keep run left (another build's
#                  binary measured on the same versions; nothing is sealed)
#
# Each zip is made by Python's zipfile: member i is `Takeout/Google Photos/Album i/500/IMG_i.jpg.json`
# (about 50-byte names), three lines of JSON (about 100 bytes), deflated. The second zip (for
# diff) is the same with its last member changed and one member added. Each count gets a new
# vault from `coffer-bench init-lowkdf` (the test-only Argon2id cost: the figures are Coffer's
# own, not the unlock's). The table says whether seal stored the zip member by member
# (`ls --json` type archive) or as an ordinary file (over the parse limits). The names are not
# in walk order (`Album 10/` sorts before `Album 2/`), so ls, find and diff sort the members.
set -euo pipefail
cd "$(dirname "$0")/.."
COFFER=.build/release/coffer; BENCH=""; MEMBERS=32768,262144,1048576; W=$PWD/bench-work/zip-members; KEEP=0; WALKS_ONLY=0
while [ $# -gt 0 ]; do
  case "$1" in
    --coffer) COFFER=$2; shift 2 ;;
    --bench) BENCH=$2; shift 2 ;;
    --members) MEMBERS=$2; shift 2 ;;
    --work) W=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    --walks-only) WALKS_ONLY=1; shift ;;
    *) sed -n '6,15p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 64 ;;
  esac
done
[ -n "$BENCH" ] || { BENCH=$(dirname "$COFFER")/coffer-bench; [ -x "$BENCH" ] || BENCH=.build/release/coffer-bench; }
mkdir -p "$W"
export COFFER_PASSPHRASE=bench-passphrase COFFER_FROM_PASSPHRASE=bench-passphrase XDG_STATE_HOME=$W/state
unset COFFER_VAULT COFFER_PASSPHRASE_FILE
measure() {  # measure STEP CMD...: prints "wall s, peak MiB"
  local out=$W/time.txt step=$1; shift
  /usr/bin/time -f '%e %M' -o "$out" "$@" >"$W/stdout" 2>"$W/stderr" || { echo "$step failed:" >&2; cat "$W/stderr" >&2; exit 1; }
  awk '{ printf "%.1f s, %d MiB", $1, $2 / 1024 }' "$out"
}
makezip() {  # makezip PATH N VARIANT
  [ -f "$1" ] && return 0
  mkdir -p "$(dirname "$1")"
  python3 - "$1" "$2" "$3" <<'PY'
import sys, zipfile
path, n, variant = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
    for i in range(n + (1 if variant else 0)):
        extra = "changed" if variant and i >= n - 1 else ""
        z.writestr(f"Takeout/Google Photos/Album {i // 500}/IMG_{i:07d}.jpg.json", f'{{"title": "IMG_{i:07d}.jpg", "n": {i}{extra}}}\n'.encode() * 3)
PY
}
walks=""
[ "$WALKS_ONLY" = 1 ] || printf '| members | zip | stored as | seal | restore | restore --expand | cat (last member) | ls |\n|---|---|---|---|---|---|---|---|\n'
for n in ${MEMBERS//,/ }; do
  zip=$W/in$n/takeout-$n.zip zip2=$W/in$n-b/takeout-$n.zip
  makezip "$zip" "$n" 0
  v=$W/vault-$n t=$W/target-$n
  export COFFER_VAULT=$v
  if [ "$WALKS_ONLY" = 0 ]; then
    rm -rf "$v" "$W/out"; "$BENCH" init-lowkdf --vault "$v" >/dev/null
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
    # The second version (same series, the zip's last member changed and one added), for diff.
    makezip "$zip2" "$n" 1
    "$COFFER" seal --name z --quiet "$zip2" >/dev/null
  fi
  [ -d "$v" ] || { echo "no vault $v: run with --keep first" >&2; exit 1; }
  ls=$(measure ls "$COFFER" ls z@latest)
  lsjson=$(measure ls-json "$COFFER" ls --json z@latest)
  find=$(measure find "$COFFER" find --members --name z "IMG_0000000.jpg.json")
  diff=$(measure diff "$COFFER" diff z@-1 z@latest)
  changes=$(grep -c '^[+M-] ' "$W/stdout" || true)
  rm -rf "$t"; "$BENCH" init-lowkdf --vault "$t" >/dev/null
  copy=$(COFFER_VAULT=$t measure copy "$COFFER" copy --from-vault "$v" --quiet z@-1)
  walks+=$(printf '| %s | %s | %s | %s | %s (%s changes) | %s |' "$n" "$ls" "$lsjson" "$find" "$diff" "$changes" "$copy")$'\n'
  rm -rf "$t"
  [ "$KEEP" = 1 ] || rm -rf "$v"
done
printf '\n| members | ls | ls --json | find --members (all versions) | diff of two versions | copy of one version |\n|---|---|---|---|---|---|\n%s' "$walks"
