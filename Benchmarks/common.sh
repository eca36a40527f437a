# Shared by the benchmark scripts (sourced, not run): restic, borg and GNU time from apt when
# missing, `build PRODUCT` for release builds, the tools' environment, `bytes_in` and `ensure_corpus` (SWIFT,
# SCRATCH and W set by the caller).
need=""; for p in restic borgbackup time; do dpkg -s "$p" >/dev/null 2>&1 || need="$need $p"; done
if [ -n "$need" ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  echo "Installing:$need" >&2
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $need
fi

BUILD=("${SWIFT:-swift}" build -c release); [ -n "$SCRATCH" ] && BUILD+=(--scratch-path "$SCRATCH")
build() { "${BUILD[@]}" "$@" >"$W/build.log" 2>&1 || { cat "$W/build.log" >&2; exit 1; }; }

# The same passphrase for every tool, their state and cache folders under $W, none of the
# caller's Coffer settings, and an empty results file in $RESULTS.
tool_environment() {
  export COFFER_PASSPHRASE=bench-passphrase RESTIC_PASSWORD=bench-passphrase BORG_PASSPHRASE=bench-passphrase
  export BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK=yes BORG_RELOCATED_REPO_ACCESS_IS_OK=yes
  export XDG_STATE_HOME=$W/state BORG_BASE_DIR=$W/borg-base RESTIC_CACHE_DIR=$W/restic-cache
  unset COFFER_VAULT COFFER_PASSPHRASE_FILE
  RESULTS=$W/results.tsv
  : > "$RESULTS"
}

# Vault and input sizes: the bytes of their regular files (not du's directory blocks: restic's
# 256 empty data/ folders alone are 1 MiB of those).
bytes_in() { find "$1" -type f -printf '%s\n' | awk '{ s += $1 } END { printf "%d\n", s }'; }

# The mixed corpus of SIZE MiB (seed 1, deterministic), generated once under $W by the given
# coffer-bench; sets CORPUS to its folder.
ensure_corpus() {  # coffer-bench size
  CORPUS=$W/corpus-$2
  if [ ! -f "$CORPUS.complete" ]; then
    rm -rf "$CORPUS"
    "$1" corpus --out "$CORPUS" --size-mb "$2" --seed 1 >/dev/null
    touch "$CORPUS.complete"
  fi
}
