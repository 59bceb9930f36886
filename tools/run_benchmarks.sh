#!/usr/bin/env bash
# Runs the scenarios of docs/PERFORMANCE.md: the real indelibled, the gRPC
# echo baseline and the durable echo (the echo answering after a synced
# group commit to RocksDB) on 127.0.0.1 (port 0, temporary data directory),
# driven by indelible-loadgen, plus raw synced RocksDB writes; prints a
# markdown table of medians with ratios to the baselines, and the daemons'
# peak RSS.
#
# Builds nothing: point it at a build directory that has indelibled,
# indelible-loadgen and indelible-baseline in bin/.
#
#   tools/run_benchmarks.sh [-n RUNS] [-d SECONDS] [-w SECONDS] [-b BYTES]
#                           [-o DIR] [-c INDELIBLED] [-s REGEX] [-p] [-f]
#                           [-W] [-e IDS] [-P EVENTS] [BUILD_DIR]
#
# With -p, the PostgreSQL peer (tools/pg-peer-lib.sh: a private cluster on
# 127.0.0.1, a chained table with a trigger, pgbench) runs the same tenant
# counts in the same interleaving, and the report gives Indelible's ratio to
# it per run. With -W too, the peer doing the daemon's work runs against the
# streams, in a cluster of its own: the client sends every row's event id
# and payload, and a unique index refuses a repeated event id.
#
# With -c, a second daemon binary (for example one built from an earlier
# commit) runs beside the first, a daemon of it per store, and every daemon
# scenario is run against it too, in the same interleaving: the report's
# "compare" table gives this build's events/s and CPU time per event (user
# + system, over the whole loadgen run: warmup, measurement and the
# read-back check) as medians of per-run ratios to it. CPU per event is the steadier figure on a shared
# machine: other processes slow a run down but do not add to its CPU time.
#
# Scenarios are interleaved (run 1 of each, then run 2 of each, ...) so that
# noise from a shared machine spreads over all of them. Each tenant count
# has a store of its own: a daemon (and a -c daemon, and a peer database)
# for the 1-tenant scenarios, one for the -t8 scenarios, one for -t64, and
# one for the others, so runs compared across tenant counts find stores
# with the same history (the daemon's CPU per event grows with its store,
# docs/PERFORMANCE.md, "8 tenants against 1, and 64"). Before the first
# run every store, the durable echo's and each of the peer's databases is
# filled the same way, with -P events of 64 tenants (bench-0 ... bench-63;
# the peer's t0 ... t63), unmeasured: the stores differ only in what the
# measured runs write, and no run finds an empty store. The compactions
# reported are those after the fill. Every loop is bounded in count and
# every process in time.
set -euo pipefail

usage() {
  cat <<'EOF'
usage: run_benchmarks.sh [options] [BUILD_DIR]    (default BUILD_DIR: ./build)
  -n RUNS     repetitions of each scenario (default 3, at most 20)
  -d SECONDS  measured seconds per loadgen run (default 5, at most 120)
  -w SECONDS  warmup seconds per loadgen run (default 1)
  -b BYTES    approximate event size (default 512)
  -o DIR      keep the raw JSON results and logs in DIR
  -c FILE     also run every daemon scenario against this indelibled binary
  -s REGEX    run only the scenarios whose name matches (bash regex), and
              the raw RocksDB baseline only if "raw" matches
  -p          also run the PostgreSQL 15 peer (needs postgresql-15)
  -W          with -p, also the peer doing the daemon's work (peer-wire-tN:
              payloads and event ids from the client, unique event ids)
  -f          fresh tenants for every loadgen run (default: every run writes
              to the same tenants bench-0, bench-1, ..., as the peer does)
  -e IDS      the load generator's event ids: counter (default: <run id>-<n>,
              n not padded; they cost about what uuid7 does), uuid4 (random)
              or uuid7 (growing with time, as the client library makes them)
  -P EVENTS   events of 64 tenants written to each store (the durable
              echo's and each of the peer's databases too) before the
              first run, unmeasured (default 3000000; 0: none)
EOF
}

RUNS=3
DURATION=5
WARMUP=1
EVENT_BYTES=512
OUT_DIR=""
COMPARE_BIN=""
SELECT=""
PEERS=0
WIRE_PEER=0
FRESH_TENANTS=0
EVENT_IDS=counter
PRELOAD=3000000
while getopts "n:d:w:b:o:c:s:pWfe:P:h" opt; do
  case "$opt" in
    n) RUNS="$OPTARG" ;;
    d) DURATION="$OPTARG" ;;
    w) WARMUP="$OPTARG" ;;
    b) EVENT_BYTES="$OPTARG" ;;
    o) OUT_DIR="$OPTARG" ;;
    c) COMPARE_BIN="$OPTARG" ;;
    s) SELECT="$OPTARG" ;;
    p) PEERS=1 ;;
    W) WIRE_PEER=1 ;;
    f) FRESH_TENANTS=1 ;;
    e) EVENT_IDS="$OPTARG" ;;
    P) PRELOAD="$OPTARG" ;;
    h) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
BUILD_DIR="${1:-./build}"

is_uint() { [[ "$1" =~ ^[0-9]+$ ]]; }
if [[ ! "$EVENT_IDS" =~ ^(counter|uuid4|uuid7)$ ]]; then
  echo "run_benchmarks: -e must be counter, uuid4 or uuid7" >&2; exit 2
fi
if ((WIRE_PEER && !PEERS)); then
  echo "run_benchmarks: -W needs -p" >&2; exit 2
fi
if ! is_uint "$RUNS" || ((RUNS < 1 || RUNS > 20)); then
  echo "run_benchmarks: -n must be 1..20" >&2; exit 2
fi
if ! is_uint "$DURATION" || ((DURATION < 1 || DURATION > 120)); then
  echo "run_benchmarks: -d must be 1..120" >&2; exit 2
fi
if ! is_uint "$WARMUP" || ((WARMUP > 60)); then
  echo "run_benchmarks: -w must be 0..60" >&2; exit 2
fi
if ! is_uint "$EVENT_BYTES" || ((EVENT_BYTES < 1 || EVENT_BYTES > 60000)); then
  echo "run_benchmarks: -b must be 1..60000" >&2; exit 2
fi
if ! is_uint "$PRELOAD" || ((PRELOAD > 20000000)); then
  echo "run_benchmarks: -P must be 0..20000000" >&2; exit 2
fi

BIN="$BUILD_DIR/bin"
for b in indelibled indelible-loadgen indelible-baseline; do
  if [[ ! -x "$BIN/$b" ]]; then
    echo "run_benchmarks: $BIN/$b not found; build it first" >&2; exit 2
  fi
done
if [[ -n "$COMPARE_BIN" && ! -x "$COMPARE_BIN" ]]; then
  echo "run_benchmarks: -c $COMPARE_BIN is not an executable" >&2; exit 2
fi
command -v jq >/dev/null || { echo "run_benchmarks: jq is required" >&2; exit 2; }
REPORT_JQ="$(dirname "$0")/bench_report.jq"
[[ -r "$REPORT_JQ" ]] || { echo "run_benchmarks: $REPORT_JQ missing" >&2; exit 2; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/indelible-bench-XXXXXX")"
RESULTS="$WORK/results.jsonl"
: >"$RESULTS"
ECHO_PID=""
DURABLE_PID=""
# Per store (store_of): the daemon's and the -c daemon's pid and target.
declare -A DAEMON_PID=() DAEMON_TARGET=() COMPARE_PID=() COMPARE_TARGET=()

stop_pid() {
  local pid="$1" i
  [[ -n "$pid" ]] || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 150; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local store
  if ((PEERS)); then
    peer_stop "$WORK/peer"
    peer_stop "$WORK/peer-wire"
  fi
  for store in "${!DAEMON_PID[@]}"; do stop_pid "${DAEMON_PID[$store]}"; done
  for store in "${!COMPARE_PID[@]}"; do stop_pid "${COMPARE_PID[$store]}"; done
  stop_pid "$ECHO_PID"
  stop_pid "$DURABLE_PID"
  if [[ -n "$OUT_DIR" ]]; then
    mkdir -p "$OUT_DIR"
    cp "$RESULTS" "$WORK"/*.log "$WORK"/compactions.json "$OUT_DIR"/ 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
if ((PEERS)); then
  chmod 0711 "$WORK" # the peer's server runs as another user when we are root
  # shellcheck source=tools/pg-peer-lib.sh
  source "$(dirname "$0")/pg-peer-lib.sh"
  # The peer's rows carry the payload; Indelible's events carry ~112 bytes
  # of other fields besides it (docs/PERFORMANCE.md).
  PEER_PAYLOAD=$((EVENT_BYTES > 112 ? EVENT_BYTES - 112 : 1))
fi

# wait_port FILE PID: prints the port once FILE holds it (at most 30 s).
wait_port() {
  local file="$1" pid="$2" i
  for ((i = 0; i < 300; i++)); do
    if [[ -s "$file" ]]; then
      head -n1 "$file"
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "run_benchmarks: no port in $file" >&2
  return 1
}

"$BIN/indelible-baseline" echo-server --listen 127.0.0.1:0 \
  --port-file "$WORK/echo.port" --max-seconds 7200 2>"$WORK/echo.log" &
ECHO_PID=$!
"$BIN/indelible-baseline" echo-server --listen 127.0.0.1:0 \
  --port-file "$WORK/durable.port" --durable-dir "$WORK/durable" \
  --max-seconds 7200 2>"$WORK/durable.log" &
DURABLE_PID=$!
ECHO_TARGET="127.0.0.1:$(wait_port "$WORK/echo.port" "$ECHO_PID")"
DURABLE_TARGET="127.0.0.1:$(wait_port "$WORK/durable.port" "$DURABLE_PID")"

# store_of SCENARIO: the store a daemon scenario writes to: t1 for the
# 1-tenant counterparts of the -tN scenarios, tN for those, other for the
# rest (and the inclusion proofs).
store_of() {
  case "$1" in
    *-t[0-9]*) echo "t${1##*-t}" ;;
    unary-64 | stream-8x16x100) echo t1 ;;
    *) echo other ;;
  esac
}
# start_daemons STORE: starts the store's daemon (and -c daemon), each with
# a data directory of its own.
start_daemons() {
  local store="$1"
  "$BIN/indelibled" --data-dir "$WORK/data-$store" --listen 127.0.0.1:0 \
    --port-file "$WORK/daemon-$store.port" 2>"$WORK/daemon-$store.log" &
  DAEMON_PID[$store]=$!
  DAEMON_TARGET[$store]="127.0.0.1:$(wait_port "$WORK/daemon-$store.port" \
    "${DAEMON_PID[$store]}")"
  [[ -n "$COMPARE_BIN" ]] || return 0
  "$COMPARE_BIN" --data-dir "$WORK/compare-data-$store" --listen 127.0.0.1:0 \
    --port-file "$WORK/compare-$store.port" 2>"$WORK/compare-$store.log" &
  COMPARE_PID[$store]=$!
  COMPARE_TARGET[$store]="127.0.0.1:$(wait_port "$WORK/compare-$store.port" \
    "${COMPARE_PID[$store]}")"
}

# name | loadgen arguments. Scenarios ending in -tN write N tenants and run
# against the daemons only (the echoes have no tenants).
SCENARIOS=(
  "unary-64|--mode unary --inflight 64"
  "unary-64-t8|--mode unary --inflight 64 --tenants 8"
  "unary-64-t64|--mode unary --inflight 64 --tenants 64"
  "batch-100x8|--mode batch --batch 100 --inflight 8"
  "stream-4x8x100|--mode stream --streams 4 --window 8 --batch 100"
  "stream-8x16x100|--mode stream --streams 8 --window 16 --batch 100"
  "stream-8x16x100-t8|--mode stream --streams 8 --window 16 --batch 100 --tenants 8"
  "stream-8x16x100-t64|--mode stream --streams 8 --window 16 --batch 100 --tenants 64"
  "rate-5k|--mode unary --rate 5000 --inflight 512"
)
# The peer's counterparts (tools/pg-peer-lib.sh), name | tenants clients
# rows per transaction [kind]: 256-row transactions from 8 clients against
# the streams, single-row transactions from 64 clients against unary-64;
# with -W, the 256-row transactions of the peer doing the daemon's work, in a
# cluster of its own ($WORK/peer-wire), so its table and index do not load
# the first peer's checkpoints and vacuums.
PEER_SCENARIOS=(
  "peer-batch-t1|1 8 256"
  "peer-batch-t8|8 8 256"
  "peer-batch-t64|64 8 256"
  "peer-unary-t1|1 64 1"
  "peer-unary-t8|8 64 1"
  "peer-unary-t64|64 64 1"
)
if ((WIRE_PEER)); then
  PEER_SCENARIOS+=("peer-wire-t1|1 8 256 wire" "peer-wire-t8|8 8 256 wire"
    "peer-wire-t64|64 8 256 wire")
fi
# Inclusion proofs (against the daemon only: the echo serves none); each
# run preloads a tenant of its own with 100 000 events, unmeasured.
PROOF_SCENARIO="proofs-16|--mode proofs --preload 100000 --batch 1000 --inflight 16 --sample 2000"
RAW_BATCHES=(1 16 256 4096)
# Per-run bound: warmup + duration + the read-back check + slack.
RUN_LIMIT=$((WARMUP + DURATION + 300))
FAILED=0

# record SCENARIO SERVER RUN JSON [CPU_TICKS [WINDOW_FILE]]: appends one
# tagged result, with the load average at the time (the machine may be
# shared), the CPU time the server used during the run, if known, and what
# window_cpu measured inside the run, if it did.
record() {
  local load1 window=null
  load1="$(cut -d' ' -f1 /proc/loadavg)"
  [[ -z "${6:-}" || ! -s "$6" ]] || window="$(cat "$6")"
  jq -c --arg s "$1" --arg srv "$2" --argjson r "$3" --argjson l "$load1" \
    --argjson t "${5:-null}" --argjson hz "$CLK_TCK" --argjson w "$window" \
    '. + {scenario: $s, server: $srv, run: $r, load1: $l}
     + (if $t == null or (.acknowledged_events // 0) == 0 then {}
        else {cpu_us_per_event: ($t / $hz * 1e6 / .acknowledged_events)} end)
     + (if $w == null or (.events_per_s // 0) == 0 then {}
        else {window: ($w + {server_us_per_event: ($w.server_cores * 1e6 / .events_per_s)})} end)' \
    <<<"$4" >>"$RESULTS"
}

CLK_TCK="$(getconf CLK_TCK)"
# cpu_ticks PID: user + system CPU time of the process, in clock ticks.
cpu_ticks() {
  [[ -n "$1" && -r "/proc/$1/stat" ]] || { echo 0; return; }
  awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"
}
# machine_ticks: CPU time the whole machine spent busy (user, nice, system,
# irq, softirq; not idle, iowait or steal), in clock ticks.
machine_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 }' /proc/stat; }

# window_cpu OUT DELAY LENGTH COMMAND...: sleeps DELAY seconds, then writes
# to OUT the cores the server used over the next LENGTH seconds (COMMAND
# prints its CPU ticks) and the cores the whole machine was busy, as JSON.
# Called in the background with DELAY and LENGTH inside a run's measured
# period, so the figures leave out start-up, warm-up and the read-back check.
window_cpu() {
  local out="$1" delay="$2" len="$3" t0 t1 s0 s1 m0 m1
  shift 3
  sleep "$delay"
  t0="$(date +%s%N)"; s0="$("$@")"; m0="$(machine_ticks)"
  sleep "$len"
  t1="$(date +%s%N)"; s1="$("$@")"; m1="$(machine_ticks)"
  jq -n --argjson s "$((s1 - s0))" --argjson m "$((m1 - m0))" --argjson ns "$((t1 - t0))" \
    --argjson hz "$CLK_TCK" \
    '{seconds: ($ns / 1e9), server_cores: ($s / $hz / ($ns / 1e9)),
      machine_cores: ($m / $hz / ($ns / 1e9))}' >"$out"
}
# The measured period of a run of DURATION seconds after WARMUP, less a
# second at each end: window_cpu is skipped when that leaves under 2 s.
WINDOW_DELAY=$((WARMUP + 1))
WINDOW_LEN=$((DURATION - 2))

# loadgen SCENARIO SERVER TARGET PID RUN VERIFY ARGS... (PID: the server's,
# for its CPU time; empty for the echoes)
loadgen() {
  local scenario="$1" server="$2" target="$3" pid="$4" run="$5" verify="$6" out rc=0
  local ticks_before ticks="" sampler=""
  shift 6
  ticks_before="$(cpu_ticks "$pid")"
  rm -f "$WORK/window.json"
  if [[ -n "$pid" ]] && ((WINDOW_LEN >= 2)); then
    window_cpu "$WORK/window.json" "$WINDOW_DELAY" "$WINDOW_LEN" cpu_ticks "$pid" &
    sampler=$!
  fi
  out="$(timeout "$RUN_LIMIT" "$BIN/indelible-loadgen" --target "$target" \
    --duration "$DURATION" --warmup "$WARMUP" --event-bytes "$EVENT_BYTES" \
    --verify "$verify" --json "$@" 2>>"$WORK/loadgen.log")" || rc=$?
  [[ -z "$sampler" ]] || wait "$sampler" || true
  if [[ -z "$out" ]]; then
    echo "run_benchmarks: $scenario/$server run $run failed (exit $rc)" >&2
    FAILED=1
    return 0
  fi
  if ((rc != 0)); then
    echo "run_benchmarks: $scenario/$server run $run: exit $rc" >&2
    FAILED=1
  fi
  [[ -z "$pid" ]] || ticks=$(($(cpu_ticks "$pid") - ticks_before))
  record "$scenario" "$server" "$run" "$out" "$ticks" "$WORK/window.json"
}

# The stores the selected scenarios use (their daemons start below, before
# the fill), and the peer's tenant counts.
STORES=()
for entry in "${SCENARIOS[@]}" "$PROOF_SCENARIO"; do
  name="${entry%%|*}"
  [[ -z "$SELECT" || "$name" =~ $SELECT ]] || continue
  store="$(store_of "$name")"
  [[ " ${STORES[*]} " == *" $store "* ]] || STORES+=("$store")
done
PEER_TENANTS=()
WIRE_TENANTS=()  # the tenant counts of the -W peer's cluster
for entry in "${PEER_SCENARIOS[@]}"; do
  ((PEERS)) || break
  name="${entry%%|*}"
  [[ -z "$SELECT" || "$name" =~ $SELECT ]] || continue
  read -r tenants _ _ kind <<<"${entry#*|}"
  if [[ "$kind" == wire ]]; then
    WIRE_TENANTS+=("$tenants")
  elif [[ " ${PEER_TENANTS[*]} " != *" $tenants "* ]]; then
    PEER_TENANTS+=("$tenants")
  fi
done
if ((${#PEER_TENANTS[@]})); then
  peer_start "$WORK/peer" "${PEER_TENANTS[@]}" || exit 2
fi
if ((${#WIRE_TENANTS[@]})); then
  peer_start "$WORK/peer-wire" "${WIRE_TENANTS[@]}" || exit 2
fi
# fill TARGET NAME: PRELOAD events of 64 tenants in streams, unmeasured.
fill() {
  local args=()
  ((FRESH_TENANTS)) || args+=(--tenant-prefix bench)
  echo "filling $2 with $PRELOAD events" >&2
  timeout 900 "$BIN/indelible-loadgen" --target "$1" --mode stream --streams 8 \
    --window 16 --batch 100 --tenants 64 --event-ids "$EVENT_IDS" \
    --event-bytes "$EVENT_BYTES" --count "$PRELOAD" --duration 600 --warmup 0 \
    --verify none --json "${args[@]}" >/dev/null 2>>"$WORK/loadgen.log" || {
    echo "run_benchmarks: filling $2 failed" >&2
    exit 1
  }
}
# settle PID...: waits (at most 120 s) until the processes use under 5 % of
# a core over 2 s: what a fill left to flush and compact is done.
settle() {
  local i t0 t1 pid
  for ((i = 0; i < 60; i++)); do
    t0=0 t1=0
    for pid in "$@"; do t0=$((t0 + $(cpu_ticks "$pid"))); done
    sleep 2
    for pid in "$@"; do t1=$((t1 + $(cpu_ticks "$pid"))); done
    (((t1 - t0) * 100 < 5 * 2 * CLK_TCK)) && return 0
  done
  echo "run_benchmarks: servers still busy after 120 s; starting anyway" >&2
}
SETTLE_PIDS=()
for store in "${STORES[@]}"; do
  start_daemons "$store"
  SETTLE_PIDS+=("${DAEMON_PID[$store]}")
  [[ -z "$COMPARE_BIN" ]] || SETTLE_PIDS+=("${COMPARE_PID[$store]}")
  ((PRELOAD > 0)) || continue
  fill "${DAEMON_TARGET[$store]}" "store $store"
  [[ -z "$COMPARE_BIN" ]] || fill "${COMPARE_TARGET[$store]}" "the -c daemon's store $store"
done
if ((PRELOAD > 0)); then
  fill "$DURABLE_TARGET" "the durable echo"
  for t in "${PEER_TENANTS[@]}"; do
    echo "filling the peer's database bench_t$t with $PRELOAD rows" >&2
    peer_preload "$WORK/peer" "$t" "$PRELOAD" "$PEER_PAYLOAD" || {
      echo "run_benchmarks: filling the peer failed" >&2
      exit 1
    }
  done
  for t in "${WIRE_TENANTS[@]}"; do
    echo "filling the -W peer's database bench_t$t with $PRELOAD rows" >&2
    peer_preload "$WORK/peer-wire" "$t" "$PRELOAD" "$PEER_PAYLOAD" wire || {
      echo "run_benchmarks: filling the peer failed" >&2
      exit 1
    }
  done
  settle "${SETTLE_PIDS[@]}" "$DURABLE_PID"
fi
# Compactions of the fill are not the runs': the report counts those after.
declare -A FILL_COMPACTIONS=()
for store in "${STORES[@]}"; do
  FILL_COMPACTIONS[$store]="$(grep -c '"event": "compaction_finished"' \
    "$WORK/data-$store/LOG" 2>/dev/null || true)"
done

for ((run = 1; run <= RUNS; run++)); do
  echo "run $run/$RUNS" >&2
  for entry in "${SCENARIOS[@]}"; do
    name="${entry%%|*}"
    [[ -z "$SELECT" || "$name" =~ $SELECT ]] || continue
    read -ra args <<<"${entry#*|}"
    # Two completion-queue pollers (unary and batch modes) get every server
    # more than one does, and four no more than two (docs/PERFORMANCE.md).
    args+=(--client-threads 2)
    # A store's tenants live long, and the peer's runs all write to tenants
    # t0, t1, ...: the daemon's runs share tenants bench-0, bench-1, ... too
    # (scenarios with fewer tenants write the first ones), so later runs
    # append to chains earlier runs began.
    ((FRESH_TENANTS)) || args+=(--tenant-prefix bench)
    args+=(--event-ids "$EVENT_IDS")
    if [[ ! "$name" =~ -t[0-9]+$ ]]; then
      loadgen "$name" echo "$ECHO_TARGET" "" "$run" none "${args[@]}"
      loadgen "$name" durable "$DURABLE_TARGET" "" "$run" none "${args[@]}"
    fi
    store="$(store_of "$name")"
    loadgen "$name" daemon "${DAEMON_TARGET[$store]}" "${DAEMON_PID[$store]}" "$run" full \
      "${args[@]}"
    if [[ -n "$COMPARE_BIN" ]]; then
      loadgen "$name" compare "${COMPARE_TARGET[$store]}" "${COMPARE_PID[$store]}" "$run" \
        full "${args[@]}"
    fi
  done
  for entry in "${PEER_SCENARIOS[@]}"; do
    ((PEERS)) || break
    name="${entry%%|*}"
    [[ -z "$SELECT" || "$name" =~ $SELECT ]] || continue
    read -r tenants clients rows kind <<<"${entry#*|}"
    peer_dir="$WORK/peer"
    [[ "$kind" != wire ]] || peer_dir="$WORK/peer-wire"
    rm -f "$WORK/window.json"
    sampler=""
    if ((WINDOW_LEN >= 2)); then
      window_cpu "$WORK/window.json" 1 "$WINDOW_LEN" peer_cpu_ticks "$peer_dir" &
      sampler=$!
    fi
    peer_ok=1
    out="$(peer_run "$name" "$peer_dir" "$tenants" "$clients" "$rows" "$DURATION" \
      "$PEER_PAYLOAD" "${kind:-gen}")" || peer_ok=0
    [[ -z "$sampler" ]] || wait "$sampler" || true
    if ((peer_ok)); then
      record "$name" peer "$run" "$out" "" "$WORK/window.json"
    else
      echo "run_benchmarks: $name run $run failed" >&2
      FAILED=1
    fi
  done
  name="${PROOF_SCENARIO%%|*}"
  if [[ -z "$SELECT" || "$name" =~ $SELECT ]]; then
    read -ra args <<<"${PROOF_SCENARIO#*|}"
    loadgen "$name" daemon "${DAEMON_TARGET[other]}" "${DAEMON_PID[other]}" "$run" sample \
      "${args[@]}"
  fi
  for b in "${RAW_BATCHES[@]}"; do
    [[ -z "$SELECT" || "raw" =~ $SELECT ]] || continue
    raw_dur=$((DURATION < 5 ? DURATION : 5))
    if out="$(timeout $((raw_dur + 60)) "$BIN/indelible-baseline" rocksdb \
      --batch "$b" --duration "$raw_dur" --warmup 0.5 \
      --event-bytes "$EVENT_BYTES" --dir "$WORK" --json)"; then
      record "raw-batch-$b" rocksdb "$run" "$out"
    else
      echo "run_benchmarks: rocksdb batch $b run $run failed" >&2
      FAILED=1
    fi
  done
done

# The peer's verifier re-hashes everything the runs above wrote.
if ((${#PEER_TENANTS[@]})); then
  if out="$(peer_check "$WORK/peer")"; then
    record "peer-check" peer 1 "$out"
  else
    echo "run_benchmarks: peer chain check failed" >&2
    FAILED=1
  fi
fi
if ((${#WIRE_TENANTS[@]})); then
  if out="$(peer_check "$WORK/peer-wire" chain_check_wire)"; then
    record "peer-wire-check" peer 1 "$out"
  else
    echo "run_benchmarks: the -W peer's chain check failed" >&2
    FAILED=1
  fi
fi

# The daemons' peak RSS: the highest VmHWM of any store's daemon, with that
# daemon's VmRSS at the end, and each store's on stderr.
DAEMON_HWM_KB=0
DAEMON_RSS_KB=0
for store in "${!DAEMON_PID[@]}"; do
  hwm="$(awk '/^VmHWM:/ {print $2}' "/proc/${DAEMON_PID[$store]}/status" 2>/dev/null || true)"
  rss="$(awk '/^VmRSS:/ {print $2}' "/proc/${DAEMON_PID[$store]}/status" 2>/dev/null || true)"
  hwm="${hwm:-0}" rss="${rss:-0}"
  echo "run_benchmarks: daemon of store $store: peak RSS $((hwm / 1024)) MiB" >&2
  if ((hwm > DAEMON_HWM_KB)); then DAEMON_HWM_KB="$hwm" DAEMON_RSS_KB="$rss"; fi
done
for store in "${!DAEMON_PID[@]}"; do stop_pid "${DAEMON_PID[$store]}"; done
DAEMON_PID=()
# What the daemons' compactions cost over the whole suite, per column
# family: RocksDB's info log names each compaction job's column family
# ("[cf] [JOB n] Compacting ...") and its event log gives the job's CPU
# time and output ("compaction_finished"). Job numbers are per daemon, so
# each store's log is read alone, its fill's compactions left out, and the
# sums added.
for store in "${!DAEMON_TARGET[@]}"; do
  jq -cn --rawfile log "$WORK/data-$store/LOG" --argjson skip "${FILL_COMPACTIONS[$store]:-0}" '
    ($log | split("\n")) as $lines
    | ([$lines[] | capture("\\[(?<cf>[^]]+)\\] \\[JOB (?<job>[0-9]+)\\] Compacting")
        | {(.job): .cf}] | add // {}) as $cf
    | [$lines[] | select(contains("\"event\": \"compaction_finished\""))
        | sub("^.*EVENT_LOG_v1 "; "") | fromjson
        | {cf: ($cf[.job | tostring] // "?"), cpu_s: (.compaction_time_cpu_micros / 1e6),
           written_bytes: .total_output_size}] | .[$skip:]' 2>/dev/null || echo '[]'
done | jq -cs 'add // [] | group_by(.cf)
  | map({cf: .[0].cf, jobs: length, cpu_s: (map(.cpu_s) | add),
         written_bytes: (map(.written_bytes) | add)})' \
  >"$WORK/compactions.json" 2>/dev/null || echo '[]' >"$WORK/compactions.json"
stop_pid "$ECHO_PID"
ECHO_PID=""
stop_pid "$DURABLE_PID"
DURABLE_PID=""
for store in "${!COMPARE_PID[@]}"; do stop_pid "${COMPARE_PID[$store]}"; done
COMPARE_PID=()

# The report: medians per (scenario, server) over the runs.
jq -rs --argjson hwm "$DAEMON_HWM_KB" --argjson rss "$DAEMON_RSS_KB" \
  --argjson runs "$RUNS" --argjson dur "$DURATION" --argjson bytes "$EVENT_BYTES" \
  --argjson preload "$PRELOAD" \
  --slurpfile compactions "$WORK/compactions.json" \
  -f "$REPORT_JQ" "$RESULTS"

if ((FAILED)); then
  echo "run_benchmarks: some runs failed or did not verify (see above)" >&2
  exit 1
fi
