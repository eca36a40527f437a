#!/usr/bin/env bash
# Scripts/demo.sh: Coffer's main job, end to end, on a local demo vault.
#
# Called by `make demo` after `make build` (release builds of `coffer` and `export-generator`
# in .build/release). Generates three monthly synthetic LinkedIn exports, creates ./demo/vault,
# seals each export, lists the versions, restores the first export and compares its SHA-256
# with the original, and shows the vault's status. Everything lives under ./demo (removed first).
#
# Override the binaries' folder with COFFER_BIN_DIR=... (default: .build/release).
set -euo pipefail
cd "$(dirname "$0")/.."

BIN_DIR="${COFFER_BIN_DIR:-.build/release}"
COFFER="$BIN_DIR/coffer"
GENERATOR="$BIN_DIR/export-generator"
for tool in "$COFFER" "$GENERATOR"; do
    if [[ ! -x "$tool" ]]; then
        echo "demo: $tool is missing; run 'make build' first (or 'make demo', which builds)." >&2
        exit 1
    fi
done

DEMO="$PWD/demo"
if [[ -t 1 ]]; then bold=$'\033[1m' plain=$'\033[0m'; else bold="" plain=""; fi
step() { printf '\n%s== %s%s\n' "$bold" "$*" "$plain"; }
show() { printf '$ %s\n' "$*"; "$@"; }

# A fresh demo folder, and a private rollback-state folder so the demo never touches the
# state of your real vaults. Packs are read-only: make them writable so rm can remove them.
if [[ -e "$DEMO" ]]; then chmod -R u+rwX "$DEMO" && rm -rf "$DEMO"; fi
mkdir -p "$DEMO/exports"
export XDG_STATE_HOME="$DEMO/state"
export COFFER_VAULT="$DEMO/vault"
unset COFFER_PASSPHRASE_FILE
# A demo passphrase in the environment keeps the demo non-interactive. For a real vault, let
# coffer prompt you (no echo), or use --passphrase-file / --passphrase-command.
export COFFER_PASSPHRASE="demo passphrase, not for real vaults"

step "1. Generate three monthly LinkedIn data exports (synthetic)"
show "$GENERATOR" --out "$DEMO/exports" --months 3 --seed 2026

# The exports, oldest first, with the date from each file name (..._MM-DD-YYYY.zip).
exports=()
while IFS= read -r line; do exports+=("${line#* }"); done < <(
    for zip in "$DEMO"/exports/*.zip; do
        base="$(basename "$zip")"
        if [[ "$base" =~ _([0-9]{2})-([0-9]{2})-([0-9]{4})\.zip$ ]]; then
            echo "${BASH_REMATCH[3]}-${BASH_REMATCH[1]}-${BASH_REMATCH[2]} $zip"
        fi
    done | sort)
if [[ ${#exports[@]} -ne 3 ]]; then
    echo "demo: expected 3 exports named Basic_LinkedInDataExport_MM-DD-YYYY.zip in $DEMO/exports, found ${#exports[@]}" >&2
    exit 1
fi

step "2. Create the vault (Argon2id, moderate cost)"
echo "(COFFER_VAULT=$COFFER_VAULT; the passphrase comes from COFFER_PASSPHRASE for this demo only)"
show "$COFFER" init

step "3. Seal each export (name and date come from the file name; zips are stored member by member)"
for zip in "${exports[@]}"; do
    show "$COFFER" seal "$zip" --tag linkedin
done

step "4. List the versions (newest first; ADDED is what each cost after dedup and compression)"
show "$COFFER" list

step "5. Restore the first export and compare its SHA-256 with the original"
show "$COFFER" ls Basic_LinkedInDataExport@-2
show "$COFFER" restore Basic_LinkedInDataExport@-2 --to "$DEMO/restore"
first="${exports[0]}"
restored="$DEMO/restore/$(basename "$first")"
original_sum="$(sha256sum "$first" | cut -d' ' -f1)"
restored_sum="$(sha256sum "$restored" | cut -d' ' -f1)"
echo "original  $original_sum  $first"
echo "restored  $restored_sum  $restored"
if [[ "$original_sum" == "$restored_sum" ]]; then
    echo "OK: the restored export is byte for byte the original"
else
    echo "FAIL: the restored export differs from the original" >&2
    exit 1
fi

step "6. What changed between the last two exports"
show "$COFFER" diff Basic_LinkedInDataExport@-1 Basic_LinkedInDataExport@latest
echo "$ $COFFER diff Basic_LinkedInDataExport@-1 Basic_LinkedInDataExport@latest --records Connections.csv"
"$COFFER" diff Basic_LinkedInDataExport@-1 Basic_LinkedInDataExport@latest --records Connections.csv > "$DEMO/connections-diff.txt"
head -12 "$DEMO/connections-diff.txt"
echo "  (… the whole diff is in $DEMO/connections-diff.txt)"

step "7. Status: each series' latest version, its age, and reminders"
show "$COFFER" status

printf '\nDemo done. Everything is under %s; try for example:\n' "$DEMO"
echo "  export COFFER_VAULT=$COFFER_VAULT XDG_STATE_HOME=$XDG_STATE_HOME"
echo "  $COFFER list            # you will be asked for the passphrase: demo passphrase, not for real vaults"
printf '\nSee the demo vault in your browser (series, charts of connections, diffs, downloads):\n'
echo "  COFFER_VAULT=$COFFER_VAULT XDG_STATE_HOME=$XDG_STATE_HOME $COFFER ui"
