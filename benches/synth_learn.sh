#!/usr/bin/env bash
# synth_learn.sh -- `loadline synth learn` on the shop fixture seeded into
# PostgreSQL, side by side in one run with what PostgreSQL itself does:
#
#   analyze   ANALYZE of the four tables, then reading pg_stats for them
#             (PostgreSQL's own statistics: a 30,000-row sample per table)
#   copy      a plain full scan: COPY (SELECT * FROM t) TO STDOUT of the four
#             tables, written to /dev/null by psql
#   learn     loadline synth learn over the same database (every row read)
#
# CPU-seconds are the client's (GNU time) plus the server's: the change in
# the CPU time of every postgres process (a backend that exits is added to
# the postmaster's children time, so nothing is lost). Peak memory is the
# client's. Interleaved RUNS times; one RESULT line per measurement.
#
#   cargo build --release --bin loadline
#   bash benches/synth_learn.sh          # SCALES="0.1 1" RUNS=3 PG=postgres://root@127.0.0.1:5432
#
# The database loadline_learn_bench is created (and dropped at the end).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=${WORK:-/tmp/loadline-synth-learn-bench}
PG=${PG:-postgres://root@127.0.0.1:5432}
DB=loadline_learn_bench
URL="$PG/$DB"
SCALES=${SCALES:-0.1 1}
RUNS=${RUNS:-3}
LL=$ROOT/target/release/loadline
FX=$ROOT/fixtures/shop.schema.yaml
TABLES="tenants users products orders"
mkdir -p "$WORK"

result() { echo "RESULT $*" | tee -a "$WORK/results.txt"; }

# Total CPU ticks of the PostgreSQL server: live processes' own time plus the
# postmaster's reaped children.
server_ticks() {
  local pm total=0 pid f
  pm=$(pgrep -o -x postgres)
  for pid in $(pgrep -x postgres); do
    f=$(cut -d' ' -f14-17 "/proc/$pid/stat" 2>/dev/null) || continue
    set -- $f
    if [[ $pid == "$pm" ]]; then total=$((total + $1 + $2 + $3 + $4)); else total=$((total + $1 + $2)); fi
  done
  echo "$total"
}
HZ=$(getconf CLK_TCK)

# measure NAME SCALE CMD...: client CPU and RSS from GNU time, server CPU from /proc.
measure() {
  local name=$1 scale=$2; shift 2
  local before after
  before=$(server_ticks)
  /usr/bin/time -f "%e %U %S %M" -o "$WORK/time.txt" "$@" >/dev/null 2>"$WORK/err.txt" || { cat "$WORK/err.txt" >&2; exit 1; }
  after=$(server_ticks)
  read -r wall user sys kb <"$WORK/time.txt"
  python3 - "$name" "$scale" "$wall" "$user" "$sys" "$kb" "$before" "$after" "$HZ" <<'EOF' | tee -a "$WORK/results.txt"
import sys
name, scale, wall, user, sys_, kb, before, after, hz = sys.argv[1:]
client = float(user) + float(sys_)
server = (int(after) - int(before)) / int(hz)
print(f"RESULT synth_learn name={name} scale={scale} wall_s={float(wall):.2f} client_cpu_s={client:.2f} "
      f"server_cpu_s={server:.2f} total_cpu_s={client + server:.2f} client_rss_mb={int(kb) / 1024:.1f}")
EOF
}

# One psql session each: ANALYZE then pg_stats; the four COPYs.
ANALYZE=(psql -q "$URL" -c "ANALYZE tenants, users, products, orders"
  -c "SELECT tablename, attname, null_frac, n_distinct, most_common_vals::text, histogram_bounds::text FROM pg_stats WHERE tablename IN ('tenants', 'users', 'products', 'orders')")
COPY=(psql -q "$URL")
for t in $TABLES; do COPY+=(-c "COPY (SELECT * FROM $t) TO STDOUT"); done

psql -q "$PG/test" -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
trap 'psql -q "$PG/test" -c "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1 || true' EXIT
for scale in $SCALES; do
  "$LL" synth "$FX" --scale "$scale" --to "$URL" --reset -q
  rows=$(psql -qtA "$URL" -c "SELECT (SELECT count(*) FROM tenants) + (SELECT count(*) FROM users) + (SELECT count(*) FROM products) + (SELECT count(*) FROM orders)")
  echo "scale $scale: $rows rows in 4 tables" | tee -a "$WORK/results.txt"
  "${COPY[@]}" >/dev/null # warm the buffer cache
  for i in $(seq "$RUNS"); do
    measure copy "$scale" "${COPY[@]}"
    measure analyze "$scale" "${ANALYZE[@]}"
    measure learn "$scale" "$LL" synth learn "$URL" --out "$WORK/learned-$scale.yaml" -q
  done
done
