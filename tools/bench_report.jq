# The markdown report of tools/run_benchmarks.sh. Input: the JSON results of
# every run (jq -s), each tagged with scenario, server (daemon | echo |
# durable | rocksdb | compare), run and load1; arguments: $hwm, $rss (kB: the highest peak
# of the stores' daemons, and that daemon's RSS at the end), $runs, $dur, $bytes,
# and $compactions: [[{cf, jobs, cpu_s, written_bytes}]], the daemons' compactions per
# column family over the whole suite (empty if its log could not be read).
#
# Figures are medians over the runs. Ratios are medians of per-run ratios:
# each run of the daemon is divided by the baseline measured right next to
# it, which cancels much of a shared machine's drift.

def median: sort | if length == 0 then null
  elif length % 2 == 1 then .[length / 2 | floor]
  else (.[length / 2 - 1] + .[length / 2]) / 2 end;
def r0: if . == null then "–" else (. + 0.5 | floor | tostring) end;
def r2: if . == null then "–" else ((. * 100 + 0.5 | floor) / 100 | tostring) end;
def pct: if . == null then "–" else ((. * 100 + 0.5 | floor | tostring) + "%") end;
# In the goal tables a measured value is shown rounded toward its target's
# side (down for a floor, up for a ceiling), so a shown value that reaches
# the target means the goal is met: 0.996 is 99.6%, not 100%.
def d2: if . == null then "–" else ((. * 100 | floor) / 100 | tostring) end;
def dpct: if . == null then "–" else (((. * 1000 | floor) / 10 | tostring) + "%") end;
def u2: if . == null then "–" else ((. * 100 | ceil) / 100 | tostring) end;
def ratio(a; b): if a == null or b == null or b == 0 then null else a / b end;
def yes(c): if c then "yes" else "no" end;

def rows(s; srv): [.[] | select(.scenario == s and .server == srv)];
def stat(s; srv; f): [rows(s; srv)[] | f] | median;
def span(s; srv): [rows(s; srv)[] | .events_per_s]
  | if length == 0 then "–" else "\(min | r0)–\(max | r0)" end;
def eps_at(s; srv; r): [rows(s; srv)[] | select(.run == r) | .events_per_s][0];
def runs: map(.run) | unique;
# Median over runs of daemon / a baseline server, each pair from the same run.
def base_ratio(s; srv): . as $all
  | [runs[] as $r | ratio($all | eps_at(s; "daemon"; $r); $all | eps_at(s; srv; $r))
     | select(. != null)] | median;
def echo_ratio(s): base_ratio(s; "echo");
# Median over runs of daemon / the best raw RocksDB batch of the same run.
def raw_best_at(r): [.[] | select(.server == "rocksdb" and .run == r) | .events_per_s] | max;
def raw_ratio(s): . as $all
  | [runs[] as $r | ratio($all | eps_at(s; "daemon"; $r); $all | raw_best_at($r))
     | select(. != null)] | median;
# Median over runs of daemon / compare (run_benchmarks.sh -c).
def compare_ratio(s): . as $all
  | [runs[] as $r | ratio($all | eps_at(s; "daemon"; $r); $all | eps_at(s; "compare"; $r))
     | select(. != null)] | median;
def cpu_at(s; srv; r): [rows(s; srv)[] | select(.run == r) | .cpu_us_per_event][0];
def compare_cpu_ratio(s): . as $all
  | [runs[] as $r | ratio($all | cpu_at(s; "daemon"; $r); $all | cpu_at(s; "compare"; $r))
     | select(. != null)] | median;
# Median over runs of daemon scenario s / peer scenario p (run_benchmarks.sh -p).
def peer_ratio(s; p): . as $all
  | [runs[] as $r | ratio($all | eps_at(s; "daemon"; $r); $all | eps_at(p; "peer"; $r))
     | select(. != null)] | median;
# Median over runs of the peer's CPU per row / the daemon's CPU per event,
# both measured inside the runs' measured periods (window_cpu).
def wstat(s; srv; f): [rows(s; srv)[] | f | select(. != null)] | median;
def win_at(s; srv; r): [rows(s; srv)[] | select(.run == r) | .window.server_us_per_event][0];
def peer_cpu_ratio(s; p): . as $all
  | [runs[] as $r | ratio($all | win_at(p; "peer"; $r); $all | win_at(s; "daemon"; $r))
     | select(. != null)] | median;
# Median over runs of peer scenario a / peer scenario b.
def peer_peer_ratio(a; b): . as $all
  | [runs[] as $r | ratio($all | eps_at(a; "peer"; $r); $all | eps_at(b; "peer"; $r))
     | select(. != null)] | median;
# Median over runs of daemon scenario a / daemon scenario b.
def scenario_ratio(a; b): . as $all
  | [runs[] as $r | ratio($all | eps_at(a; "daemon"; $r); $all | eps_at(b; "daemon"; $r))
     | select(. != null)] | median;
def errs(s): [rows(s; "daemon")[] | .error_count] | add // 0;
def verified(s): [rows(s; "daemon")[] | .verify]
  | if length == 0 then "–"
    elif all(.ok) then "ok (\(map(.verified) | add) receipts)"
    else "FAILED" end;

["unary-64", "batch-100x8", "stream-4x8x100", "stream-8x16x100", "rate-5k"] as $scenarios
| ["stream-4x8x100", "stream-8x16x100"] as $streams
| . as $all
| ([$all[] | select(.server == "rocksdb")] | group_by(.batch)
    | map({batch: .[0].batch,
           eps: (map(.events_per_s) | median),
           sps: (map(.syncs_per_s) | median),
           p50: (map(.latency_ms.p50) | median),
           p99: (map(.latency_ms.p99) | median)})) as $raw
| ([$all[] | .load1] | "\(min)–\(max)") as $load
| ($all | stat("unary-64"; "daemon"; .events_per_s)) as $unary
| ($all | echo_ratio("unary-64")) as $unary_ratio
| ($streams | map(. as $s | {s: $s, eps: ($all | stat($s; "daemon"; .events_per_s))})
   | max_by(.eps)) as $best_stream
| ($all | raw_ratio($best_stream.s)) as $stream_ratio
| ($all | stat("rate-5k"; "daemon"; .latency_ms.p99)) as $p99
| ($all | stat("proofs-16"; "daemon"; .proofs_per_s)) as $proofs
| "Runs: \($runs) per scenario, \($dur) s measured each, events of ~\($bytes) bytes\(if ($ARGS.named.preload // 0) > 0 then "; every store filled with \($ARGS.named.preload) events of 64 tenants first" else "" end); load average at the start of runs \($load).",
  "Figures are medians (range of events/s in brackets); ratios are medians of per-run ratios.",
  "",
  "| scenario | daemon events/s | echo events/s | daemon / echo | durable echo events/s | daemon / durable echo | daemon p50 ms | daemon p99 ms | daemon max ms | echo p99 ms | errors | receipts checked |",
  "|---|---|---|---|---|---|---|---|---|---|---|---|",
  ( $scenarios[] as $s
    | "| \($s) | \($all | stat($s; "daemon"; .events_per_s) | r0) [\($all | span($s; "daemon"))] | \($all | stat($s; "echo"; .events_per_s) | r0) [\($all | span($s; "echo"))] | \($all | echo_ratio($s) | pct) | \($all | stat($s; "durable"; .events_per_s) | r0) [\($all | span($s; "durable"))] | \($all | base_ratio($s; "durable") | pct) | \($all | stat($s; "daemon"; .latency_ms.p50) | r2) | \($all | stat($s; "daemon"; .latency_ms.p99) | r2) | \($all | stat($s; "daemon"; .latency_ms.max) | r2) | \($all | stat($s; "echo"; .latency_ms.p99) | r2) | \($all | errs($s)) | \($all | verified($s)) |" ),
  "",
  "| inclusion proofs | proofs/s | p50 ms | p99 ms | max ms | errors | proofs checked |",
  "|---|---|---|---|---|---|---|",
  ( rows("proofs-16"; "daemon") as $p
    | "| proofs-16 | \($proofs | r0) | \($all | stat("proofs-16"; "daemon"; .latency_ms.p50) | r2) | \($all | stat("proofs-16"; "daemon"; .latency_ms.p99) | r2) | \($all | stat("proofs-16"; "daemon"; .latency_ms.max) | r2) | \([$p[] | .error_count] | add // 0) | \(if ($p | length) == 0 then "–" elif ($p | all(.verify.ok)) then "ok (\($p | map(.verify.checked) | add))" else "FAILED" end) |" ),
  "",
  "| raw RocksDB, synced WriteBatch + SHA-256 | records/s | syncs/s | commit p50 ms | commit p99 ms |",
  "|---|---|---|---|---|",
  ( $raw[] | "| batch \(.batch) | \(.eps | r0) | \(.sps | r0) | \(.p50 | r2) | \(.p99 | r2) |" ),
  "",
  "| goal | target | measured | met |",
  "|---|---|---|---|",
  "| unary appends/s, 64 in flight | ≥ 16000 | \($unary | r0) | \(yes($unary != null and $unary >= 16000)) |",
  "| unary vs gRPC echo | ≥ 80% | \($unary_ratio | dpct) | \(yes($unary_ratio != null and $unary_ratio >= 0.8)) |",
  "| streaming events/s (\($best_stream.s)) | ≥ 150000 | \($best_stream.eps | r0) | \(yes($best_stream.eps != null and $best_stream.eps >= 150000)) |",
  "| streaming vs best raw RocksDB batch | ≥ 60% | \($stream_ratio | dpct) | \(yes($stream_ratio != null and $stream_ratio >= 0.6)) |",
  "| p99 at 5000 events/s offered | ≤ 5 ms | \($p99 | u2) ms | \(yes($p99 != null and $p99 <= 5)) |",
  "| inclusion proofs/s (proofs-16) | ≥ 20000 | \($proofs | r0) | \(yes($proofs != null and $proofs >= 20000)) |",
  "| daemon peak RSS (VmHWM, the highest of the stores' daemons) | – | \($hwm / 1024 | r0) MiB (VmRSS at the end \($rss / 1024 | r0) MiB) | – |",
  ( if any($all[]; .server == "peer") then
      "",
      "| tenants | stream-8x16x100 events/s | peer 256-row tx rows/s | stream / peer | unary-64 events/s | peer 1-row tx rows/s | unary / peer | peer 1-row p99 ms |",
      "|---|---|---|---|---|---|---|---|",
      ( [["1", "stream-8x16x100", "unary-64", "t1"], ["8", "stream-8x16x100-t8", "unary-64-t8", "t8"],
         ["64", "stream-8x16x100-t64", "unary-64-t64", "t64"]][] as [$n, $st, $un, $t]
        | "| \($n) | \($all | stat($st; "daemon"; .events_per_s) | r0) | \($all | stat("peer-batch-" + $t; "peer"; .events_per_s) | r0) | \($all | peer_ratio($st; "peer-batch-" + $t) | r2)× | \($all | stat($un; "daemon"; .events_per_s) | r0) | \($all | stat("peer-unary-" + $t; "peer"; .events_per_s) | r0) | \($all | peer_ratio($un; "peer-unary-" + $t) | r2)× | \($all | stat("peer-unary-" + $t; "peer"; .latency_ms.p99) | r2) |" ),
      ( if any($all[]; .server == "peer" and .window != null) then
          "",
          "CPU inside the measured periods (a second in from each end): cores the server used, its CPU per event or row, and the cores the whole machine was busy (of \([$all[] | .window.machine_cores // empty] | length) samples).",
          "",
          "| scenario | daemon cores | daemon µs/event | peer scenario | peer cores | peer µs/row | peer / daemon µs | machine cores, daemon run | machine cores, peer run |",
          "|---|---|---|---|---|---|---|---|---|",
          ( [["stream-8x16x100", "peer-batch-t1"], ["stream-8x16x100-t8", "peer-batch-t8"],
             ["stream-8x16x100-t64", "peer-batch-t64"], ["unary-64", "peer-unary-t1"],
             ["unary-64-t8", "peer-unary-t8"], ["unary-64-t64", "peer-unary-t64"]][] as [$d, $p]
            | "| \($d) | \($all | wstat($d; "daemon"; .window.server_cores) | r2) | \($all | wstat($d; "daemon"; .window.server_us_per_event) | r2) | \($p) | \($all | wstat($p; "peer"; .window.server_cores) | r2) | \($all | wstat($p; "peer"; .window.server_us_per_event) | r2) | \($all | peer_cpu_ratio($d; $p) | r2)× | \($all | wstat($d; "daemon"; .window.machine_cores) | r2) | \($all | wstat($p; "peer"; .window.machine_cores) | r2) |" )
        else empty end ),
      ( if any($all[]; .scenario | startswith("peer-wire-")) then
          "",
          "The peer doing the daemon's work (-W, a cluster of its own): the client sends each row's event id and payload, a transaction in one pipeline, and a unique index refuses a repeated event id.",
          "",
          "| tenants | stream-8x16x100 events/s | peer, the daemon's work, rows/s | stream / it | its µs/row | daemon µs/event | its / daemon µs | peer 256-row tx / it |",
          "|---|---|---|---|---|---|---|---|",
          ( [["1", "stream-8x16x100", "t1"], ["8", "stream-8x16x100-t8", "t8"], ["64", "stream-8x16x100-t64", "t64"]][] as [$n, $st, $t]
            | select(any($all[]; .scenario == "peer-wire-" + $t))
            | "| \($n) | \($all | stat($st; "daemon"; .events_per_s) | r0) | \($all | stat("peer-wire-" + $t; "peer"; .events_per_s) | r0) | \($all | peer_ratio($st; "peer-wire-" + $t) | r2)× | \($all | wstat("peer-wire-" + $t; "peer"; .window.server_us_per_event) | r2) | \($all | wstat($st; "daemon"; .window.server_us_per_event) | r2) | \($all | peer_cpu_ratio($st; "peer-wire-" + $t) | r2)× | \($all | peer_peer_ratio("peer-batch-" + $t; "peer-wire-" + $t) | r2)× |" )
        else empty end ),
      ( [$all[] | select(.scenario == "peer-check")][0] // empty
        | "", "Peer chain check (plpgsql re-hash of every row of its table `events`): \(.records) rows in \(.seconds | r2) s, \(.records_per_s | r0) rows/s." ),
      ( [$all[] | select(.scenario == "peer-wire-check")][0] // empty
        | "", "The -W peer's chain check (`wire_events`, its own cluster): \(.records) rows in \(.seconds | r2) s, \(.records_per_s | r0) rows/s." ),
      "",
      "| goal against the peer | target | measured | met |",
      "|---|---|---|---|",
      ( [["1", "stream-8x16x100", "t1"], ["8", "stream-8x16x100-t8", "t8"], ["64", "stream-8x16x100-t64", "t64"]][] as [$n, $st, $t]
        | ($all | peer_ratio($st; "peer-batch-" + $t)) as $x
        | "| streaming / peer, \($n) tenant\(if $n == "1" then "" else "s" end) | ≥ 2× | \($x | d2)× | \(yes($x != null and $x >= 2)) |" ),
      ( ($all | scenario_ratio("stream-8x16x100-t8"; "stream-8x16x100")) as $x
        | "| streaming, 8 tenants / 1 tenant | ≥ 100% | \($x | dpct) | \(yes($x != null and $x >= 1)) |" ),
      ( ($all | peer_ratio("unary-64-t8"; "peer-unary-t8")) as $x
        | "| unary / peer, 8 tenants | ≥ 3× | \($x | d2)× | \(yes($x != null and $x >= 3)) |" ),
      "| daemon peak RSS | ≤ 300 MiB | \($hwm / 1024 | r0) MiB | \(yes($hwm / 1024 <= 300)) |"
    else empty end ),
  ( if any($all[]; .server == "compare") then
      "",
      "| scenario (-c) | this build events/s | compare events/s | this / compare | this CPU µs/event | compare CPU µs/event | this / compare CPU |",
      "|---|---|---|---|---|---|---|",
      ( ($scenarios + ["unary-64-t8", "unary-64-t64", "stream-8x16x100-t8", "stream-8x16x100-t64"])[] as $s
        | select(any($all[]; .scenario == $s and .server == "compare"))
        | "| \($s) | \($all | stat($s; "daemon"; .events_per_s) | r0) [\($all | span($s; "daemon"))] | \($all | stat($s; "compare"; .events_per_s) | r0) [\($all | span($s; "compare"))] | \($all | compare_ratio($s) | pct) | \($all | stat($s; "daemon"; .cpu_us_per_event) | r2) | \($all | stat($s; "compare"; .cpu_us_per_event) | r2) | \($all | compare_cpu_ratio($s) | pct) |" )
    else empty end ),
  ( ($compactions[0] // []) as $c
    | ([$all[] | select(.server == "daemon") | .acknowledged_events // 0] | add // 0) as $n
    | if ($c | length) > 0 and $n > 0 then
      "",
      "Compaction over the whole suite, per column family (from the daemons' RocksDB logs, every store), per event the daemons acknowledged (\($n)):",
      "",
      "| column family | jobs | CPU s | MiB written | CPU µs per event |",
      "|---|---|---|---|---|",
      ( $c | sort_by(-.cpu_s)[] | select(.cpu_s >= 0.01)
        | "| \(.cf) | \(.jobs) | \(.cpu_s | r2) | \(.written_bytes / 1048576 | r0) | \(.cpu_s * 1e6 / $n | r2) |" ),
      "| all | \($c | map(.jobs) | add) | \($c | map(.cpu_s) | add | r2) | \($c | map(.written_bytes) | add / 1048576 | r0) | \($c | map(.cpu_s) | add * 1e6 / $n | r2) |"
    else empty end )
