# shellcheck shell=bash disable=SC2154,SC2034
# (SC2154/SC2034: $bin and $work come from the caller, $target goes to it.)
# Sourced by tools/soak.sh and tools/export_bench.sh: a fresh indelibled on
# 127.0.0.1 port 0 with its data directory under $work, stopped and removed
# on exit. The caller sets $bin (the binaries) and $work (a temporary
# directory it owns); start_daemon sets $daemon_pid, $target and
# $metrics_port (the daemon's /metrics on 127.0.0.1).
daemon_pid=""
target=""
metrics_port=""

stop_daemon() {
  if [ -n "$daemon_pid" ]; then
    kill "$daemon_pid" 2>/dev/null || true
    wait "$daemon_pid" 2>/dev/null || true
    daemon_pid=""
  fi
}

cleanup() {
  stop_daemon
  rm -rf "$work"
}
trap cleanup EXIT

start_daemon() {
  "$bin/indelibled" --data-dir "$work/data" --listen 127.0.0.1:0 --port-file "$work/port" \
    --metrics-listen 127.0.0.1:0 --log-level warn 2>"$work/daemon.log" &
  daemon_pid=$!
  local _
  for _ in $(seq 1 300); do
    [ -s "$work/port" ] && [ -s "$work/port.metrics" ] && break
    sleep 0.1
  done
  if ! [ -s "$work/port" ]; then
    echo "$(basename "$0"): daemon did not start" >&2
    cat "$work/daemon.log" >&2
    exit 1
  fi
  target="127.0.0.1:$(cat "$work/port")"
  metrics_port="$(cat "$work/port.metrics")"
}

# Sum of one metric's samples (those whose labels contain $2, if given).
metric_sum() {
  curl -fsS "http://127.0.0.1:$metrics_port/metrics" |
    awk -v name="$1" -v sel="${2:-}" '
      index($0, name) == 1 && (sel == "" || index($0, sel) > 0) {
        split($1, a, "{"); if (a[1] == name) s += $2 }
      END {printf "%.0f", s}'
}

# The same in MiB, one decimal.
metric_mib() {
  awk -v b="$(metric_sum "$@")" 'BEGIN {printf "%.1f", b / 1048576}'
}
