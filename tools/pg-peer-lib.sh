# shellcheck shell=bash
# Sourced by tools/run_benchmarks.sh -p: the PostgreSQL peer of
# docs/PERFORMANCE.md ("The peer"). A private PostgreSQL 15 cluster under a
# directory of the caller's, listening on 127.0.0.1 only, with an
# append-only chained table:
#
#   events(tenant, seq, payload, hash), primary key (tenant, seq)
#   BEFORE INSERT trigger: per-tenant advisory lock, read the tenant's last
#   row, seq = last + 1, hash = sha256(prev_hash || seq || tenant || payload)
#
# with fsync and synchronous_commit on (PostgreSQL's defaults), driven by
# pgbench. Beside it, for the peer doing the daemon's work (run_benchmarks.sh
# -W), the same table with an event id per row, unique per tenant:
#
#   wire_events(tenant, seq, event_id, payload, hash), primary key (tenant,
#   seq), unique (tenant, event_id); the same trigger
#
# whose rows the client sends (peer_run KIND wire). The server runs as the `postgres` user when called as root
# (PostgreSQL refuses root), as the caller otherwise.
#
# Each tenant count has a database of its own (bench_t1, bench_t8, ...), as
# each has a daemon of its own in run_benchmarks.sh: runs compared across
# tenant counts find tables with the same history.
#
#   peer_start DIR TENANTS...
#                           initialises and starts a cluster under DIR
#                           (PEER_PORTS[DIR]); creates the tables in a
#                           database per tenant count
#   peer_run SCENARIO DIR TENANTS CLIENTS ROWS DURATION PAYLOAD [KIND]
#                           prints one JSON result (events_per_s, latency_ms)
#   peer_preload DIR TENANTS ROWS PAYLOAD [KIND]
#                           at least ROWS rows of 64 tenants into TENANTS'
#                           database (KIND wire: into wire_events)
#   peer_check DIR [FUNCTION]
#                           prints one JSON result of the plpgsql re-hash of
#                           every database (FUNCTION chain_check_wire:
#                           of wire_events)
#   peer_cpu_ticks DIR      CPU time the cluster has used, in clock ticks
#   peer_stop DIR
PEER_BIN=""
PEER_AS=()
# Per cluster (its DIR): the port and the databases.
declare -A PEER_PORTS=() PEER_DBS=()

peer_available() {
  local d=/usr/lib/postgresql/15/bin
  [[ -x "$d/postgres" && -x "$d/pgbench" ]] || return 1
  PEER_BIN="$d"
}

# peer_psql DIR DB ARGS...
peer_psql() {
  local dir="$1" db="$2"
  shift 2
  "${PEER_AS[@]}" "$PEER_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 \
    -p "${PEER_PORTS[$dir]}" -U bench -d "$db" "$@" 2>>"$dir/peer-psql.log"
}

peer_start() {
  local dir="$1" i t port=""
  shift
  peer_available || { echo "run_benchmarks: PostgreSQL 15 not installed" >&2; return 1; }
  mkdir -p "$dir"
  if ((EUID == 0)); then
    chown postgres "$dir"
    PEER_AS=(runuser -u postgres --)
  fi
  "${PEER_AS[@]}" "$PEER_BIN/initdb" -D "$dir/pg" -U bench -A trust --no-sync \
    >"$dir/peer-initdb.log" 2>&1 || { cat "$dir/peer-initdb.log" >&2; return 1; }
  # A free port: PostgreSQL takes no port 0, so try a few at random.
  for ((i = 0; i < 20; i++)); do
    port=$((20000 + RANDOM % 30000))
    "${PEER_AS[@]}" "$PEER_BIN/pg_ctl" -D "$dir/pg" -l "$dir/peer.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir \
          -c max_connections=200 -c shared_buffers=256MB -c fsync=on \
          -c synchronous_commit=on -c max_wal_size=4GB" \
      start >/dev/null 2>&1 && break
    port=""
  done
  [[ -n "$port" ]] || { echo "run_benchmarks: PostgreSQL did not start" >&2; return 1; }
  PEER_PORTS[$dir]="$port"
  PEER_DBS[$dir]=""
  for t in "$@"; do
    "${PEER_AS[@]}" "$PEER_BIN/createdb" -h 127.0.0.1 -p "$port" -U bench "bench_t$t" ||
      return 1
    peer_schema "$dir" "bench_t$t" || return 1
    PEER_DBS[$dir]+=" bench_t$t"
  done
}

# peer_chain_trigger TABLE FUNCTION: the SQL of TABLE's chaining trigger.
# Each table's function names it: a dynamic query would cost the peer more.
peer_chain_trigger() {
  cat <<SQL
CREATE FUNCTION $2() RETURNS trigger LANGUAGE plpgsql AS \$\$
DECLARE
  last_seq bigint;
  last_hash bytea;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext(NEW.tenant));
  SELECT seq, hash INTO last_seq, last_hash FROM $1
    WHERE tenant = NEW.tenant ORDER BY seq DESC LIMIT 1;
  NEW.seq := coalesce(last_seq, 0) + 1;
  NEW.hash := sha256(coalesce(last_hash, decode(repeat('00', 32), 'hex'))
                     || int8send(NEW.seq) || convert_to(NEW.tenant, 'UTF8') || NEW.payload);
  RETURN NEW;
END \$\$;
CREATE TRIGGER $2 BEFORE INSERT ON $1
  FOR EACH ROW EXECUTE FUNCTION $2();
SQL
}

# peer_chain_check TABLE FUNCTION: the SQL of the peer's verifier of TABLE:
# re-hashes every tenant's chain in seq order and returns the rows checked
# (raises on the first break).
peer_chain_check() {
  cat <<SQL
CREATE FUNCTION $2() RETURNS bigint LANGUAGE plpgsql AS \$\$
DECLARE
  r record;
  cur_tenant text := NULL;
  prev bytea;
  want bigint;
  n bigint := 0;
BEGIN
  FOR r IN SELECT tenant, seq, payload, hash FROM $1 ORDER BY tenant, seq LOOP
    IF cur_tenant IS DISTINCT FROM r.tenant THEN
      cur_tenant := r.tenant;
      prev := decode(repeat('00', 32), 'hex');
      want := 1;
    END IF;
    IF r.seq <> want OR r.hash <> sha256(prev || int8send(r.seq)
        || convert_to(r.tenant, 'UTF8') || r.payload) THEN
      RAISE EXCEPTION 'chain broken at tenant % seq %', r.tenant, r.seq;
    END IF;
    prev := r.hash;
    want := want + 1;
    n := n + 1;
  END LOOP;
  RETURN n;
END \$\$;
SQL
}

# peer_schema DIR DB: the chained tables, their triggers and their verifiers.
peer_schema() {
  {
    cat <<'SQL'
CREATE TABLE events (
  tenant text NOT NULL,
  seq bigint NOT NULL,
  payload bytea NOT NULL,
  hash bytea NOT NULL,
  PRIMARY KEY (tenant, seq));
-- The peer doing the daemon's work: each row's event id and payload come
-- from the client, and a repeated event id of a tenant is refused (the
-- daemon's idempotency index).
CREATE TABLE wire_events (
  tenant text NOT NULL,
  seq bigint NOT NULL,
  event_id text NOT NULL,
  payload bytea NOT NULL,
  hash bytea NOT NULL,
  PRIMARY KEY (tenant, seq),
  UNIQUE (tenant, event_id));
SQL
    peer_chain_trigger events chain_link
    peer_chain_trigger wire_events chain_link_wire
    peer_chain_check events chain_check
    peer_chain_check wire_events chain_check_wire
  } | peer_psql "$1" "$2"
}

# peer_percentile FILE P: the P-th percentile (0..100) of the numbers in FILE.
peer_percentile() {
  sort -n "$1" | awk -v p="$2" '{ v[NR] = $1 } END {
    if (NR == 0) { print "null"; exit }
    i = int((NR - 1) * p / 100 + 0.5) + 1; if (i > NR) i = NR; print v[i] }'
}

# peer_run SCENARIO DIR TENANTS CLIENTS ROWS DURATION PAYLOAD [KIND]: one
# pgbench run of CLIENTS connections, each transaction inserting ROWS rows
# of one tenant. With TENANTS >= CLIENTS no two clients share a tenant
# (client c writes tenants c, c + CLIENTS, ...); with fewer, clients share
# them. KIND gen (the default): the server makes each row's payload
# (generate_series and repeat), so no payload crosses the connection. KIND
# wire: into wire_events, prepared INSERTs of 64 rows whose tenant, event id
# and payload are parameters the client sends (pgbench takes at most 255
# per statement), ROWS / 64 of them per transaction, the transaction sent
# in one pipeline (one round trip). Event ids grow per client (a number:
# the run, the client, its transaction and the row), as the client
# library's UUIDv7 ids do.
peer_run() {
  local scenario="$1" dir="$2" tenants="$3" clients="$4" rows="$5" duration="$6" payload="$7"
  local kind="${8:-gen}"
  local script="$dir/peer-$scenario.sql" logs="$dir/peer-log-$scenario" out tps i j
  local vars=()
  {
    echo "\\set t (:client_id + $clients * random(0, $tenants)) % $tenants"
    if [[ "$kind" == wire ]]; then
      echo "\\set n :n + 1"
      echo "\\set base :run * 1000000000000 + :client_id * 10000000000 + :n * $rows"
      echo "\\startpipeline"
      ((rows == 1)) || echo "BEGIN;"
      for ((i = 0; i < rows; i += 64)); do
        printf 'INSERT INTO wire_events (tenant, event_id, payload) VALUES '
        for ((j = i; j < rows && j < i + 64; j++)); do
          ((j == i)) || printf ', '
          printf "('t' || :t, (:base::bigint + %d)::text, :p::bytea)" "$j"
        done
        echo ";"
      done
      ((rows == 1)) || echo "COMMIT;"
      printf '%s\n' '\endpipeline'
    elif ((rows == 1)); then
      echo "INSERT INTO events (tenant, payload) VALUES ('t' || :t, convert_to(repeat('x', $payload), 'UTF8'));"
    else
      echo "BEGIN;"
      echo "INSERT INTO events (tenant, payload) SELECT 't' || :t, convert_to(repeat('x', $payload), 'UTF8') FROM generate_series(1, $rows);"
      echo "COMMIT;"
    fi
  } >"$script"
  # The wire payload: PAYLOAD bytes of 'x', as the generated rows have.
  # The run: seconds since the epoch, mod 10^6 (runs are seconds apart).
  [[ "$kind" != wire ]] ||
    vars=(-D "p=$(printf "%${payload}s" "" | tr ' ' x)" -D n=0
      -D "run=$(($(date +%s) % 1000000 + 1))")
  rm -rf "$logs"
  mkdir -p "$logs"
  [[ -z "${PEER_AS[*]}" ]] || chown postgres "$logs" "$script"
  out="$(cd "$logs" && timeout $((duration + 120)) "${PEER_AS[@]}" "$PEER_BIN/pgbench" -n \
    -h 127.0.0.1 -p "${PEER_PORTS[$dir]}" -U bench -M prepared -c "$clients" -j "$clients" \
    -T "$duration" -l "${vars[@]}" -f "$script" "bench_t$tenants" \
    2>>"$dir/peer-pgbench.log")" || return 1
  tps="$(sed -n 's/^tps = \([0-9.]*\) (without initial connection time)/\1/p' <<<"$out")"
  [[ -n "$tps" ]] || return 1
  # pgbench -l: one line per transaction, latency in microseconds (field 3).
  cat "$logs"/pgbench_log.* | awk '{ print $3 / 1000 }' >"$logs/lat"
  jq -n --argjson tps "$tps" --argjson rows "$rows" --argjson tenants "$tenants" \
    --argjson clients "$clients" --argjson payload "$payload" \
    --argjson p50 "$(peer_percentile "$logs/lat" 50)" \
    --argjson p99 "$(peer_percentile "$logs/lat" 99)" \
    --argjson max "$(peer_percentile "$logs/lat" 100)" \
    '{events_per_s: ($tps * $rows), transactions_per_s: $tps, rows_per_transaction: $rows,
      tenants: $tenants, clients: $clients, payload_bytes: $payload, error_count: 0,
      latency_ms: {p50: $p50, p99: $p99, max: $max}}'
  rm -rf "$logs"
}

# peer_preload DIR TENANTS ROWS PAYLOAD [KIND]: at least ROWS rows of 64
# tenants (t0 ... t63) into the database of TENANTS (KIND wire: into
# wire_events, with event ids), in 256-row transactions from 8 clients,
# unmeasured; then vacuums it and checkpoints, so the runs after it do not
# pay for the fill.
peer_preload() {
  local dir="$1" tenants="$2" rows="$3" payload="$4" kind="${5:-gen}" script
  script="$dir/peer-preload-$tenants-$kind.sql"
  {
    echo "\\set t (:client_id + 8 * random(0, 64)) % 64"
    if [[ "$kind" == wire ]]; then
      echo "\\set r random(1, 1000000000000000)"
      echo "INSERT INTO wire_events (tenant, event_id, payload) SELECT 't' || :t, 'fill-' || :r || '-' || g, convert_to(repeat('x', $payload), 'UTF8') FROM generate_series(1, 256) g;"
    else
      echo "INSERT INTO events (tenant, payload) SELECT 't' || :t, convert_to(repeat('x', $payload), 'UTF8') FROM generate_series(1, 256);"
    fi
  } >"$script"
  [[ -z "${PEER_AS[*]}" ]] || chown postgres "$script"
  (cd "$dir" && timeout 1800 "${PEER_AS[@]}" "$PEER_BIN/pgbench" -n -h 127.0.0.1 \
    -p "${PEER_PORTS[$dir]}" -U bench -M prepared -c 8 -j 8 -t $(((rows + 2047) / 2048)) \
    -f "$script" "bench_t$tenants" >/dev/null 2>>"$dir/peer-pgbench.log") || return 1
  peer_psql "$dir" "bench_t$tenants" -c "VACUUM (ANALYZE) $([[ "$kind" == wire ]] && echo wire_events || echo events)" -c 'CHECKPOINT'
}

# peer_check DIR [FUNCTION]: re-hashes every database's events with
# chain_check() (or its wire_events with chain_check_wire()).
peer_check() {
  local dir="$1" fn="${2:-chain_check}" t0 t1 n=0 m db
  t0="$(date +%s%N)"
  for db in ${PEER_DBS[$dir]}; do
    m="$(peer_psql "$dir" "$db" -A -t -c "SELECT $fn()")" || return 1
    n=$((n + m))
  done
  t1="$(date +%s%N)"
  jq -n --argjson n "$n" --argjson ns "$((t1 - t0))" \
    '{records: $n, seconds: ($ns / 1e9), records_per_s: ($n / ($ns / 1e9))}'
}

# peer_cpu_ticks DIR: user + system CPU time of the cluster (the postmaster,
# its live children and those it has reaped), in clock ticks.
peer_cpu_ticks() {
  local pm
  pm="$(head -n1 "$1/pg/postmaster.pid" 2>/dev/null)" || { echo 0; return; }
  # cat, not awk, opens the files: a process may exit in between.
  cat /proc/[0-9]*/stat 2>/dev/null | awk -v pm="$pm" '{ pid = $1; sub(/^.*\) /, "")
      if (pid == pm) t += $12 + $13 + $14 + $15; else if ($2 == pm) t += $12 + $13 }
    END { print t + 0 }'
}

peer_stop() {
  local dir="$1"
  [[ -n "${PEER_PORTS[$dir]:-}" ]] || return 0
  "${PEER_AS[@]}" "$PEER_BIN/pg_ctl" -D "$dir/pg" -m fast -w -t 60 stop >/dev/null 2>&1 || true
  unset "PEER_PORTS[$dir]"
  }
