#!/usr/bin/env bash
# What a tenant purge, or a retention compaction (-m compact), does to
# appends arriving meanwhile (docs/RETENTION.md, "Tenant purge"): starts
# indelibled on 127.0.0.1 (port 0, temporary data directory), preloads 8
# tenants (pre-0 .. pre-7) with a stream, then runs CHUNKS stream runs of
# 5 s on 8 other tenants and, when the third begins, purges pre-3 or runs
# `indelible admin compact`. Prints events/s and p99 per run, the purge's
# or compaction's wall time and RocksDB's write stalls. Bounded: every run,
# the purge and the compaction have timeouts.
#
#   tools/purge_load.sh [-m purge|compact] [-p PRELOAD_SECONDS] [-c CHUNKS] [BUILD_DIR]
set -euo pipefail
mode=purge
preload=30
chunks=10
while getopts "m:p:c:h" opt; do
  case "$opt" in
    m) mode="$OPTARG" ;;
    p) preload="$OPTARG" ;;
    c) chunks="$OPTARG" ;;
    *) sed -n '2,11p' "$0"; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
if [ "$mode" != purge ] && [ "$mode" != compact ]; then
  echo "purge_load: -m must be purge or compact" >&2; exit 2
fi
if ! [[ "$preload" =~ ^[0-9]+$ ]] || ((preload < 1 || preload > 300)); then
  echo "purge_load: -p must be 1..300" >&2; exit 2
fi
if ! [[ "$chunks" =~ ^[0-9]+$ ]] || ((chunks < 3 || chunks > 60)); then
  echo "purge_load: -c must be 3..60" >&2; exit 2
fi
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${1:-$root/build}/bin"
for b in indelibled indelible indelible-loadgen; do
  [ -x "$bin/$b" ] || { echo "purge_load: $bin/$b missing (build it first)" >&2; exit 2; }
done

work=$(mktemp -d /tmp/purge-load-XXXXXX)
daemon=""
purge=""
cleanup() {
  if [ -n "$purge" ]; then kill "$purge" 2>/dev/null || true; fi
  if [ -n "$daemon" ]; then
    kill "$daemon" 2>/dev/null || true
    wait "$daemon" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

"$bin/indelibled" --data-dir "$work/data" --listen 127.0.0.1:0 \
  --port-file "$work/port" 2>"$work/daemon.log" &
daemon=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
[ -s "$work/port" ] || { echo "purge_load: the daemon did not start" >&2; exit 1; }
port=$(head -1 "$work/port")

stream() {  # stream TENANT_PREFIX SECONDS
  timeout $(($2 + 120)) "$bin/indelible-loadgen" --target "127.0.0.1:$port" \
    --mode stream --streams 8 --window 16 --batch 100 --tenants 8 \
    --tenant-prefix "$1" --duration "$2" --warmup 0 --event-bytes 512 \
    --verify none --json --client-threads 2 2>>"$work/loadgen.log" |
    jq -r '"\(.events_per_s | floor) events/s, p99 \(.latency_ms.p99 // "-") ms"'
}

echo "preload, ${preload} s: $(stream pre "$preload")"
for c in $(seq "$chunks"); do
  if [ "$c" = 3 ]; then
    (
      start=$(date +%s%N)
      rc=0
      if [ "$mode" = purge ]; then
        what="purge of pre-3"
        timeout 600 "$bin/indelible" --target "127.0.0.1:$port" admin purge \
          --tenant pre-3 --actor purge-load --reason "purge under load" \
          --out "$work/cert" --yes >/dev/null 2>"$work/purge.err" || rc=$?
      else
        what="retention compaction"
        timeout 600 "$bin/indelible" --target "127.0.0.1:$port" admin compact \
          >/dev/null 2>"$work/purge.err" || rc=$?
      fi
      echo "$what: exit $rc, $((($(date +%s%N) - start) / 1000000)) ms" >"$work/purge.txt"
    ) &
    purge=$!
  fi
  echo "run $c: $(stream bench 5)"
done
wait "$purge" || true
purge=""
cat "$work/purge.txt"
echo "write stalls in RocksDB's log: $(grep -c 'Stalling writes\|Stopping writes' "$work/data/LOG" || true)"
