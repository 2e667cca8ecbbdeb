#!/usr/bin/env bash
# synth.sh -- data synthesis and seeding, side by side with the baselines,
# in one run on this machine. Results: one "RESULT ..." line per
# measurement on stdout (and in $WORK/results.txt). BENCHMARKS.md quotes them.
#
# Usage: bash benches/synth.sh [build|gen|faker|seed|mem|all]...   (default: all)
#
#   gen    1,000,000 `users` rows to CSV (tenant foreign key, unique emails,
#          20% NULL phones): `loadline synth --tables users --scale 5` against
#          benches/baselines/fake_users_loop.rs (the same columns with the fake crate,
#          one fake() per cell, the csv crate, one thread), interleaved PAIRS times.
#   faker  the same columns with Python Faker (benches/faker_users.py), FAKER_ROWS rows.
#   seed   the whole fixture (1,225,000 rows, 4 tables) into PostgreSQL
#          ($PG_URL): loadline synth --reset against psql \copy of the same
#          rows from CSV files loadline wrote beforehand, into the same tables:
#          (a) bare tables, (b) bare tables then the same keys and ANALYZE,
#          (c) tables with their keys declared before the copy. Interleaved RUNS times.
#   mem    peak RSS of `synth --tables orders` at 100k, 1M and 10M rows.
#
# Environment: WORK (scratch, default /tmp/loadline-synth-bench), PG_URL
# (default postgres://root@127.0.0.1:5432/test; the fixture's four tables
# there are dropped and recreated), PAIRS (5), RUNS (3), FAKER_ROWS (20000),
# LL_BEFORE (another loadline binary, seeded after loadline in each run of
# `seed`, for a before/after ratio in the same conditions).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=${WORK:-/tmp/loadline-synth-bench}
PG_URL=${PG_URL:-postgres://root@127.0.0.1:5432/test}
PAIRS=${PAIRS:-5}
RUNS=${RUNS:-3}
FAKER_ROWS=${FAKER_ROWS:-20000}
LL=$ROOT/target/release/loadline
LOOP=$ROOT/target/release/fake_users_loop
FX=$ROOT/fixtures/shop.schema.yaml
mkdir -p "$WORK"
cd "$WORK"

result() { echo "RESULT $*" | tee -a "$WORK/results.txt"; }
# timed CMD...: sets WALL (s), CPU (user+sys s), RSS_MB (peak) from GNU time.
timed() {
  /usr/bin/time -f "%e %U %S %M" -o "$WORK/time.txt" "$@" >/dev/null
  read -r WALL U S KB <"$WORK/time.txt"
  CPU=$(python3 -c "print(round($U + $S, 2))")
  RSS_MB=$(python3 -c "print(round($KB / 1024, 1))")
}
ratio() { python3 -c "print(round($1 / $2, 2))"; }

step_build() {
  (cd "$ROOT" && cargo build --release --bin loadline && cargo build --release -p loadline-baselines --bin fake_users_loop)
}

step_gen() {
  local i
  for i in $(seq "$PAIRS"); do
    timed "$LOOP" 1000000 "$WORK/fake_loop_users.csv" 25000
    local lw=$WALL lc=$CPU
    timed "$LL" synth "$FX" --to "csv:$WORK/ll/" --tables users --scale 5 -q
    local sw=$WALL sc=$CPU
    [[ $(wc -l <"$WORK/ll/users.csv") == 1000001 ]] || { echo "loadline wrote the wrong row count" >&2; exit 1; }
    result "gen pair=$i fake_loop_s=$lw fake_loop_cpu_s=$lc loadline_s=$sw loadline_cpu_s=$sc" \
           "fake_loop_rows_per_s=$(python3 -c "print(round(1e6 / $lw))") loadline_rows_per_s=$(python3 -c "print(round(1e6 / $sw))")" \
           "ratio=$(ratio "$lw" "$sw")"
  done
  local dups
  dups=$(cut -d, -f3 "$WORK/ll/users.csv" | sort | uniq -d | wc -l)
  result "gen loadline_duplicate_emails=$dups"
}

step_faker() {
  if [[ ! -x $WORK/venv/bin/python ]] || ! "$WORK/venv/bin/python" -c 'import faker' 2>/dev/null; then
    python3 -m venv "$WORK/venv" && "$WORK/venv/bin/pip" install -q Faker
  fi
  timed "$WORK/venv/bin/python" "$ROOT/benches/faker_users.py" "$FAKER_ROWS" "$WORK/faker_users.csv" 25000
  result "faker rows=$FAKER_ROWS s=$WALL rows_per_s=$(python3 -c "print(round($FAKER_ROWS / $WALL))")" \
         "version=$("$WORK/venv/bin/python" -c 'import faker; print(faker.VERSION)')"
}

step_seed() {
  local psql=(psql -X -q -v ON_ERROR_STOP=1 "$PG_URL")
  export PGOPTIONS="-c client_min_messages=warning"
  "$LL" synth "$FX" --to "csv:$WORK/csv/" -q
  # The same DDL loadline uses, from its SQL output with one row per table.
  "$LL" synth "$FX" --to "sql:$WORK/ddl.sql" --scale 0.000001 -q
  grep -v -E '^(INSERT INTO|\()' "$WORK/ddl.sql" >"$WORK/schema.sql"
  awk '/^ALTER/{exit} {print}' "$WORK/schema.sql" | grep -v '^BEGIN;' >"$WORK/create.sql"
  grep '^ALTER' "$WORK/schema.sql" >"$WORK/keys.sql"
  echo 'DROP TABLE IF EXISTS orders, products, users, tenants;' >"$WORK/drop.sql"
  echo 'ANALYZE tenants, users, products, orders;' >"$WORK/analyze.sql"
  : >"$WORK/copy.sql"
  for t in tenants users products orders; do
    echo "\\copy $t FROM '$WORK/csv/$t.csv' CSV HEADER" >>"$WORK/copy.sql"
  done
  local rows=1225000 i
  for i in $(seq "$RUNS"); do
    "${psql[@]}" -f "$WORK/drop.sql" -f "$WORK/create.sql" -c CHECKPOINT
    timed "${psql[@]}" -f "$WORK/copy.sql"; local a=$WALL
    "${psql[@]}" -f "$WORK/drop.sql" -f "$WORK/create.sql" -c CHECKPOINT
    timed "${psql[@]}" -c BEGIN -f "$WORK/copy.sql" -f "$WORK/keys.sql" -c COMMIT -f "$WORK/analyze.sql"; local b=$WALL
    "${psql[@]}" -f "$WORK/drop.sql" -f "$WORK/create.sql" -f "$WORK/keys.sql" -c CHECKPOINT
    timed "${psql[@]}" -f "$WORK/copy.sql" -f "$WORK/analyze.sql"; local c=$WALL
    "${psql[@]}" -f "$WORK/drop.sql" -c CHECKPOINT
    /usr/bin/time -f "%e %U %S %M" -o "$WORK/time.txt" "$LL" synth "$FX" --to "$PG_URL" >"$WORK/ll-seed.txt"
    read -r WALL _ _ _ <"$WORK/time.txt"
    local l=$WALL copy_phase
    copy_phase=$(awk '$1 ~ /^(tenants|users|products|orders)$/ {s += $3} END {print s}' "$WORK/ll-seed.txt")
    local n
    n=$("${psql[@]}" -At -c 'SELECT (SELECT count(*) FROM tenants) + (SELECT count(*) FROM users) + (SELECT count(*) FROM products) + (SELECT count(*) FROM orders)')
    [[ $n == "$rows" ]] || { echo "loadline seeded $n rows, expected $rows" >&2; exit 1; }
    local before=""
    if [[ -n ${LL_BEFORE:-} ]]; then
      # An earlier build, interleaved: the same seed, timed the same way.
      "${psql[@]}" -f "$WORK/drop.sql" -c CHECKPOINT
      timed "$LL_BEFORE" synth "$FX" --to "$PG_URL"
      before="before_s=$WALL ratio_before_vs_bare_then_keys=$(ratio "$b" "$WALL")"
    fi
    result "seed run=$i psql_bare_s=$a psql_bare_then_keys_s=$b psql_keyed_tables_s=$c loadline_s=$l loadline_copy_phase_s=$copy_phase" \
           "loadline_rows_per_s=$(python3 -c "print(round($rows / $l))")" \
           "ratio_vs_bare_then_keys=$(ratio "$b" "$l") ratio_vs_keyed=$(ratio "$c" "$l") ratio_vs_bare=$(ratio "$a" "$l")" \
           "copy_phase_ratio_vs_bare=$(ratio "$a" "$copy_phase") $before"
  done
  "${psql[@]}" -f "$WORK/drop.sql"
}

step_mem() {
  local scale rows
  for scale in 0.1 1 10; do
    timed "$LL" synth "$FX" --to "csv:$WORK/mem/" --tables orders --scale "$scale" -q
    rows=$(( $(wc -l <"$WORK/mem/orders.csv") - 1 ))
    result "mem table=orders rows=$rows s=$WALL peak_rss_mb=$RSS_MB"
  done
  rm -rf "$WORK/mem"
}

steps=("$@")
[[ ${#steps[@]} -eq 0 || ${steps[0]} == all ]] && steps=(build gen faker seed mem)
for s in "${steps[@]}"; do "step_$s"; done
