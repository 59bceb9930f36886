#!/usr/bin/env bash
# Bounded soak: a fresh indelibled under a steady offered load for N minutes,
# one loadgen run per minute, sampling the daemon's RSS, its data directory's
# size and the latency of each minute. Prints a table, then the first and
# last minutes side by side: memory and latency should stay flat, and the
# bytes stored per event show what compression leaves (docs/PERFORMANCE.md).
# A benchmark, not a test: nothing here is pass/fail except errors and
# receipts missing from the chain.
#
# Usage: tools/soak.sh [--minutes N] [--rate EVENTS_PER_S] [--mode unary|batch|stream]
#                      [--inflight K] [--batch B] [--event-bytes S] [--tenants T]
#   defaults: 10 minutes (at most 120), 5000 events/s offered, unary,
#   64 in flight, 512-byte events, 8 tenants.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${BUILD_DIR:-$root/build}/bin"

minutes=10 rate=5000 mode=unary inflight=64 batch=1 event_bytes=512 tenants=8
while [ $# -gt 0 ]; do
  case "$1" in
    --minutes) minutes="$2"; shift 2 ;;
    --rate) rate="$2"; shift 2 ;;
    --mode) mode="$2"; shift 2 ;;
    --inflight) inflight="$2"; shift 2 ;;
    --batch) batch="$2"; shift 2 ;;
    --event-bytes) event_bytes="$2"; shift 2 ;;
    --tenants) tenants="$2"; shift 2 ;;
    *) echo "soak: unknown argument $1" >&2; exit 2 ;;
  esac
done
if ! [[ "$minutes" =~ ^[0-9]+$ ]] || [ "$minutes" -lt 1 ] || [ "$minutes" -gt 120 ]; then
  echo "soak: --minutes must be 1..120" >&2
  exit 2
fi
for b in indelibled indelible-loadgen; do
  [ -x "$bin/$b" ] || { echo "soak: $bin/$b not found; run tools/build.sh" >&2; exit 2; }
done
for t in jq curl; do
  command -v "$t" >/dev/null || { echo "soak: $t is required" >&2; exit 2; }
done

work="$(mktemp -d "${TMPDIR:-/tmp}/indelible-soak.XXXXXX")"
# shellcheck source=tools/daemon-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/daemon-lib.sh"
start_daemon

rss_mib() { awk '/^VmRSS:/ {printf "%.1f", $2 / 1024}' "/proc/$daemon_pid/status"; }
hwm_mib() { awk '/^VmHWM:/ {printf "%.1f", $2 / 1024}' "/proc/$daemon_pid/status"; }

echo "soak: $minutes min, $mode, offered $rate events/s, inflight $inflight, batch $batch," \
  "$event_bytes-byte events, $tenants tenants, daemon pid $daemon_pid"
# rss_mib is the daemon's resident memory; of it, RocksDB's memtables (mt),
# open table files outside the block cache (tr) and the block cache (bc).
# In the minute: group commits that took over 25 ms (slow; from the daemon's
# commit histogram) and RocksDB flushes (fl) and compactions (cp) finished
# (from its LOG), to tell a storage stall from a scheduling one.
printf '%-6s %10s %9s %9s %9s %9s %8s %9s %7s %7s %7s %6s %4s %4s %12s %10s\n' \
  minute events/s p50_ms p95_ms p99_ms max_ms errors rss_mib mt_mib tr_mib bc_mib \
  slow fl cp data_mib bytes/event
log_events() { grep -c "\"event\": \"$1\"" "$work/data/LOG" || true; }
slow_commits() {
  echo $(($(metric_sum indelible_commit_duration_seconds_count) -
    $(metric_sum indelible_commit_duration_seconds_bucket 'le="0.025"')))
}
total=0
first="" last=""
slow_before=0 flushes_before=0 compactions_before=0
for m in $(seq 1 "$minutes"); do
  out="$("$bin/indelible-loadgen" --target "$target" --mode "$mode" --inflight "$inflight" \
    --batch "$batch" --event-bytes "$event_bytes" --tenants "$tenants" --rate "$rate" \
    --duration 60 --warmup 0 --verify sample --json)"
  events="$(jq -r '.acknowledged_events' <<<"$out")"
  total=$((total + events))
  data_bytes="$(du -sb "$work/data" | cut -f1)"
  slow_now="$(slow_commits)" flushes_now="$(log_events flush_finished)"
  compactions_now="$(log_events compaction_finished)"
  row="$(jq -r --arg m "$m" --arg rss "$(rss_mib)" --argjson data "$data_bytes" --argjson total "$total" \
    --arg mt "$(metric_mib indelible_rocksdb_memtable_bytes)" \
    --arg tr "$(metric_mib indelible_rocksdb_table_readers_bytes)" \
    --arg bc "$(metric_mib indelible_rocksdb_block_cache_bytes 'state="all"')" \
    --arg slow "$((slow_now - slow_before))" --arg fl "$((flushes_now - flushes_before))" \
    --arg cp "$((compactions_now - compactions_before))" \
    '[$m, (.events_per_s|floor), .latency_ms.p50, .latency_ms.p95, .latency_ms.p99,
      .latency_ms.max, .error_count, $rss, $mt, $tr, $bc, $slow, $fl, $cp,
      ($data/1048576*10|floor/10), ($data/$total|floor)]
     | @tsv' <<<"$out")"
  slow_before="$slow_now" flushes_before="$flushes_now" compactions_before="$compactions_now"
  # shellcheck disable=SC2086
  printf '%-6s %10s %9.2f %9.2f %9.2f %9.2f %8s %9s %7s %7s %7s %6s %4s %4s %12s %10s\n' $row
  if ! jq -e '.verify.ok and .error_count == 0' <<<"$out" >/dev/null; then
    echo "soak: minute $m had errors or receipts missing from the chain:" >&2
    jq -c '{errors, verify}' <<<"$out" >&2
    exit 1
  fi
  [ -z "$first" ] && first="$row"
  last="$row"
done
echo "peak rss (VmHWM): $(hwm_mib) MiB; events stored: $total; raw event size: $event_bytes bytes"
# Storage per event: compact (retention compaction flushes and rewrites the
# bodies and the idempotency index), then count the table files, which hold
# everything but the not yet flushed tail (still in the WAL).
"$bin/indelible" --target "$target" admin compact >/dev/null
sst_bytes="$(find "$work/data" -name '*.sst' -printf '%s\n' | awk '{s += $1} END {print s + 0}')"
all_bytes="$(du -sb "$work/data" | cut -f1)"
echo "after compaction: table files $((sst_bytes / total)) bytes/event," \
  "whole data dir (with WAL) $((all_bytes / total)) bytes/event"
echo "first minute: $first"
echo "last minute:  $last"
