#!/usr/bin/env bash
# Verifier and report-export rates (docs/PERFORMANCE.md, "Where the time goes"): writes
# N events into one tenant through a fresh indelibled on 127.0.0.1 (port 0,
# temporary data directory) with indelible-loadgen, compacts, stops the
# daemon, then times `indelible-verify check` and a signed export of the
# whole tenant in each format. Builds nothing.
#
#   tools/export_bench.sh [-n EVENTS] [-b BYTES] [-f "csv json"] [-p PAIRS] [BUILD_DIR]
#   defaults: 1000000 events (at most 20000000), 512 bytes, csv and json,
#   ./build. Needs indelibled, indelible, indelible-loadgen and
#   indelible-verify in BUILD_DIR/bin, and openssl. -p (1..10, with
#   PostgreSQL 15): loads the chained-table peer for 8 s, then times the
#   check and the peer's chain_check() alternately PAIRS times.
set -euo pipefail

events=1000000
bytes=512
formats="csv json"
pairs=0
while getopts "n:b:f:p:h" opt; do
  case "$opt" in
    n) events="$OPTARG" ;;
    b) bytes="$OPTARG" ;;
    f) formats="$OPTARG" ;;
    p) pairs="$OPTARG" ;;
    h) sed -n '2,13p' "$0"; exit 0 ;;
    *) exit 2 ;;
  esac
done
shift $((OPTIND - 1))
bin="${1:-./build}/bin"
if ! [[ "$events" =~ ^[0-9]+$ ]] || ((events < 1 || events > 20000000)); then
  echo "export_bench: -n must be 1..20000000" >&2; exit 2
fi
if ! [[ "$bytes" =~ ^[0-9]+$ ]] || ((bytes < 1 || bytes > 60000)); then
  echo "export_bench: -b must be 1..60000" >&2; exit 2
fi
if ! [[ "$pairs" =~ ^[0-9]+$ ]] || ((pairs > 10)); then
  echo "export_bench: -p must be 0..10" >&2; exit 2
fi
for b in indelibled indelible indelible-loadgen indelible-verify; do
  [ -x "$bin/$b" ] || { echo "export_bench: $bin/$b not found; build it first" >&2; exit 2; }
done

work="$(mktemp -d "${TMPDIR:-/tmp}/indelible-export-bench.XXXXXX")"
# shellcheck source=tools/daemon-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/daemon-lib.sh"
start_daemon

timeout 900 "$bin/indelible-loadgen" --target "$target" --mode stream --streams 4 --window 8 \
  --batch 100 --count "$events" --duration 600 --warmup 0 --tenants 1 \
  --event-bytes "$bytes" --verify none | grep throughput
timeout 900 "$bin/indelible" --target "$target" admin compact >/dev/null
stop_daemon

openssl genpkey -algorithm ed25519 -out "$work/report-key.pem" 2>/dev/null
chmod 600 "$work/report-key.pem"

seconds() { # command... : runs it, prints its wall-clock seconds
  local start end
  start=$(date +%s%N)
  "$@" >"$work/out" 2>&1 || { cat "$work/out" >&2; return 1; }
  end=$(date +%s%N)
  awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", (b - a) / 1e9 }'
}
rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", n / s }'; }

# The daemon's development key, trusted: without a key the check exits 3.
openssl pkey -in "$work/data.signing-key.pem" -pubout -out "$work/daemon.pub.pem"
s=$(seconds timeout 900 "$bin/indelible-verify" check --data-dir "$work/data" \
  --key-pem "$work/daemon.pub.pem")
tenant=$(grep -o 'lg-[a-z0-9-]*' "$work/out" | head -1)
echo "check: $events records in $s s = $(rate "$events" "$s") records/s"
for f in $formats; do
  s=$(seconds timeout 900 "$bin/indelible-verify" export --data-dir "$work/data" \
    --tenant "$tenant" --format "$f" --out "$work/report.$f" --sign-key "$work/report-key.pem" \
    --key-pem "$work/daemon.pub.pem")
  size=$(stat -c %s "$work/report.$f")
  echo "export $f: $events rows in $s s = $(rate "$events" "$s") rows/s (check included), $size bytes"
  rm -f "$work/report.$f"
done

((pairs > 0)) || exit 0
# shellcheck source=tools/pg-peer-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/pg-peer-lib.sh"
chmod 755 "$work"  # the peer runs as postgres when this runs as root
trap 'peer_stop "$work/peer"; cleanup' EXIT
peer_start "$work/peer" 1
peer_run load "$work/peer" 1 8 256 8 $((bytes > 112 ? bytes - 112 : 1)) >/dev/null
for i in $(seq 1 "$pairs"); do
  s=$(seconds timeout 900 "$bin/indelible-verify" check --data-dir "$work/data" \
    --key-pem "$work/daemon.pub.pem")
  ours=$(rate "$events" "$s")
  theirs=$(peer_check "$work/peer" | jq -r '"\(.records) \(.records_per_s | floor)"')
  read -r rows peer_rate <<<"$theirs"
  echo "pair $i: check $ours records/s, peer chain_check() $peer_rate rows/s ($rows rows)," \
    "ratio $(awk -v a="$ours" -v b="$peer_rate" 'BEGIN { printf "%.2f", a / b }')"
done
