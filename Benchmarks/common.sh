# Shared by run.sh and exports.sh (sourced, not run): restic, borg and GNU time from apt when
# missing, and `build PRODUCT` for release builds (SWIFT, SCRATCH and W set by the caller).
need=""; for p in restic borgbackup time; do dpkg -s "$p" >/dev/null 2>&1 || need="$need $p"; done
if [ -n "$need" ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  echo "Installing:$need" >&2
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $need
fi

BUILD=("${SWIFT:-swift}" build -c release); [ -n "$SCRATCH" ] && BUILD+=(--scratch-path "$SCRATCH")
build() { "${BUILD[@]}" "$@" >"$W/build.log" 2>&1 || { cat "$W/build.log" >&2; exit 1; }; }
