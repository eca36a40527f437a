#!/usr/bin/env bash
# Regenerates the seed corpus Fuzz/Corpus/<target>/ from real objects (run by `make fuzz-corpus`):
# - the golden vaults (Tests/CofferCoreTests/Golden): key slots, configs, decrypted index, version
#   and head bodies, pack header plaintexts, and the same objects re-sealed under the test key;
# - one synthetic LinkedIn export (Examples/ExportGenerator): its zip and its CSV files;
# - a few small zips made with Info-ZIP `zip`: stored, deflated, streamed (data descriptors),
#   zip64, empty, with an archive comment.
# Existing seeds of the same names are overwritten; other files in Corpus/ are kept.
set -euo pipefail
cd "$(dirname "$0")"
SWIFT=${SWIFT:-swift}
SCRATCH=${FUZZ_SCRATCH:-../.build-fuzz}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$SWIFT" build --package-path .. --scratch-path "$SCRATCH/root" --product export-generator
"$SWIFT" build --package-path . --scratch-path "$SCRATCH/tools" --product fuzz-corpus
"$SCRATCH/root/debug/export-generator" --out "$work/exports" --months 1 --connections 12 --messages-bytes 1500 --format both --quiet
"$SCRATCH/tools/debug/fuzz-corpus" ../Tests/CofferCoreTests/Golden "$work/exports" Corpus

mkdir -p "$work/z" && cd "$work/z"
printf 'First Name,Last Name\nAda,Lorimore\n' > a.csv
printf 'hello hello hello hello hello\n' > b.txt
mkdir -p dir && printf 'x' > dir/c.txt
TZ=UTC touch -t 202501150000 a.csv b.txt dir dir/c.txt
zip -q -X -0 stored.zip a.csv b.txt
zip -q -X -9 deflated.zip a.csv b.txt dir dir/c.txt
cat a.csv | zip -q -X - - > streamed.zip
zip -q -X -fz zip64.zip a.csv
zip -q -X deflated.zip -z <<< 'an archive comment' >/dev/null
printf 'PK\005\006\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0' > empty.zip
cd - >/dev/null
for z in stored deflated streamed zip64 empty; do cp "$work/z/$z.zip" "Corpus/zip/infozip-$z.zip"; done
du -sh Corpus; for d in Corpus/*/; do printf '%-22s %3d files %7d bytes\n' "$(basename "$d")" "$(ls "$d" | wc -l)" "$(cat "$d"* | wc -c)"; done

# deflate-recipe: u16le n ‖ recipe ‖ content. One block; three blocks at level 9; a kept block;
# Info-ZIP's own block ends (encoder 2) at levels 6 and 1, and with a kept block.
mkdir -p Corpus/deflate-recipe
python3 - Corpus/deflate-recipe <<'PY'
import sys
out = sys.argv[1]
text = b"".join(b"%d,Ada Lorimore,https://www.linkedin.com/in/ada-%d,Engineer\n" % (i, i * 7919 % 1000) for i in range(600))
def seed(name, recipe, content):
    open(f"{out}/{name}", "wb").write(len(recipe).to_bytes(2, "little") + bytes(recipe) + content)
seed("one-block", [2, 1, 6, 1, 0], text)
seed("three-blocks-9", [2, 1, 9, 3, 0xe8, 0x07, 0xd0, 0x0f, 0], text)
seed("kept-block", [2, 1, 6, 2, 0x80, 0x01, 1, 1, 10, 0xff, 0x01], text[:4000])
seed("own-rule-6", [2, 2, 6, 0], text)
seed("own-rule-fast-1", [2, 2, 1, 0], text)
seed("own-rule-kept", [2, 2, 3, 1, 0, 10, 0xff, 0x01], text[:4000])
PY
