#!/usr/bin/env bash
# seed_shards.sh -- sharded seeding against one unsharded run, into the same
# PostgreSQL, in one run on this machine. Results: one "RESULT ..." line per
# measurement on stdout (and in $WORK/results.txt). BENCHMARKS.md quotes them.
#
# Usage: bash benches/seed_shards.sh [build|run|all]...   (default: all)
#
#   run   the fixture at --scale $SCALE into $PG_URL, RUNS interleaved pairs:
#         (1) one process: `loadline synth --reset` (create, COPY, keys, ANALYZE);
#         (2) `synth prepare --shards 2 --reset`, then shards 0/2 and 1/2 as two
#             processes in parallel, then `synth finish` (keys, ANALYZE).
#         Each side: wall time (and its load and keys phases: for the one
#         process, from its report's "(keys, analyze)" line), loadline's CPU-seconds (user + sys of every
#         loadline process, GNU time), the machine's busy CPU-seconds over the
#         same span (/proc/stat, so the PostgreSQL server is in it, and so is
#         anything else running on the machine), and the row count of the
#         largest table, which must be the same.
#
# Environment: WORK (scratch, default /tmp/loadline-shards-bench), PG_URL
# (default postgres://root@127.0.0.1:5432/test; the fixture's four tables
# there are dropped and recreated), SCALE (12), RUNS (3).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=${WORK:-/tmp/loadline-shards-bench}
PG_URL=${PG_URL:-postgres://root@127.0.0.1:5432/test}
SCALE=${SCALE:-12}
RUNS=${RUNS:-3}
LL=$ROOT/target/release/loadline
FX=$ROOT/fixtures/shop.schema.yaml
mkdir -p "$WORK"
cd "$WORK"

result() { echo "RESULT $*" | tee -a "$WORK/results.txt"; }
# Busy CPU-seconds of the whole machine so far: user + nice + system + irq +
# softirq (idle, iowait and steal, another guest's time, are left out).
busy() { awk '/^cpu / { printf "%.2f\n", ($2 + $3 + $4 + $7 + $8) / 100 }' /proc/stat; }
now() { date +%s.%N; }
# timed NAME CMD...: runs CMD under GNU time, its CPU-seconds into $WORK/NAME.cpu.
# Its standard output (the per-table report) goes to $WORK/NAME.out, its
# messages to $WORK/NAME.err.
timed() {
  local name=$1
  shift
  /usr/bin/time -f "%U %S" -o "$WORK/$name.time" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err"
  awk '{ printf "%.2f\n", $1 + $2 }' "$WORK/$name.time" >"$WORK/$name.cpu"
}
sum() { python3 -c "import sys; print(round(sum(float(x) for x in sys.argv[1:]), 2))" "$@"; }
sub() { python3 -c "print(round($1 - $2, 2))"; }
rows() { psql -qtA "$PG_URL" -c "SELECT count(*) FROM orders"; }
keys() { psql -qtA "$PG_URL" -c "SELECT count(*) FROM pg_constraint WHERE conrelid IN ('tenants'::regclass, 'users'::regclass, 'products'::regclass, 'orders'::regclass)"; }

step_build() {
  (cd "$ROOT" && cargo build --release --bin loadline)
}

one_run() {
  local i=$1 t0 c0 t1 c1
  t0=$(now) c0=$(busy)
  timed one "$LL" synth "$FX" --to "$PG_URL" --scale "$SCALE" --reset
  t1=$(now) c1=$(busy)
  # The report's total minus its "(keys, analyze)" line: the create + COPY phase.
  local keys_s total_s
  keys_s=$(awk '/^\(keys, analyze\)/ { print $3 }' one.out)
  total_s=$(awk '/^total/ { print $3 }' one.out)
  result "one pair=$i wall_s=$(sub "$t1" "$t0") load_wall_s=$(sub "$total_s" "$keys_s") finish_wall_s=$keys_s loadline_cpu_s=$(cat one.cpu)" \
         "machine_cpu_s=$(sub "$c1" "$c0") orders_rows=$(rows) constraints=$(keys)"
}

sharded_run() {
  local i=$1 t0 c0 tp tl t1 c1
  t0=$(now) c0=$(busy)
  timed prepare "$LL" synth prepare "$FX" --to "$PG_URL" --scale "$SCALE" --shards 2 --reset -q
  tp=$(now)
  timed shard0 "$LL" synth "$FX" --to "$PG_URL" --scale "$SCALE" --shard 0/2 -q &
  local p0=$!
  timed shard1 "$LL" synth "$FX" --to "$PG_URL" --scale "$SCALE" --shard 1/2 -q &
  local p1=$!
  wait "$p0"
  wait "$p1"
  tl=$(now)
  timed finish "$LL" synth finish "$FX" --to "$PG_URL" --scale "$SCALE" -q
  t1=$(now) c1=$(busy)
  result "two pair=$i wall_s=$(sub "$t1" "$t0") load_wall_s=$(sub "$tl" "$tp") finish_wall_s=$(sub "$t1" "$tl")" \
         "loadline_cpu_s=$(sum "$(cat prepare.cpu)" "$(cat shard0.cpu)" "$(cat shard1.cpu)" "$(cat finish.cpu)")" \
         "shard_cpu_s=$(cat shard0.cpu),$(cat shard1.cpu) machine_cpu_s=$(sub "$c1" "$c0") orders_rows=$(rows) constraints=$(keys)"
}

step_run() {
  local i
  for i in $(seq "$RUNS"); do
    one_run "$i"
    sharded_run "$i"
  done
  # Leave nothing of the fixture's size behind.
  psql -q "$PG_URL" -c "DROP TABLE IF EXISTS orders, products, users, tenants; DELETE FROM loadline_seed_shards WHERE table_name IN ('orders', 'products', 'users', 'tenants'); DELETE FROM loadline_seed_runs WHERE table_name IN ('orders', 'products', 'users', 'tenants')"
}

steps=("$@")
[[ ${#steps[@]} -eq 0 || ${steps[0]} == all ]] && steps=(build run)
for s in "${steps[@]}"; do "step_$s"; done
