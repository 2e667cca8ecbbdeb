#!/usr/bin/env bash
# scrub.sh -- scrubbing throughput and memory, side by side with the
# ceiling, in one run on this machine. Results: one "RESULT ..." line per
# measurement on stdout (and in $WORK/results.txt). BENCHMARKS.md quotes them.
#
# Usage: bash benches/scrub.sh [build|data|speed|mem|all]...   (default: all)
#
#   data   a 1,000,000-row users.csv (fixtures/make_dump.py: the fixture's
#          columns, fake PII in 60% of the notes) and an empty orders.csv,
#          plus 100k- and 3M-row files for the memory step.
#   speed  `loadline scrub` with fixtures/shop.scrub.yaml (the issue's rules,
#          unchanged) on the 1M-row file against benches/baselines/csv_copy.rs (read
#          and write every record with the csv crate, one thread: the
#          ceiling), interleaved PAIRS times. Throughput is input MB/s.
#   mem    peak RSS of the same scrub at 100k, 1M and 3M rows.
#
# Environment: WORK (scratch, default /tmp/loadline-scrub-bench), PAIRS (9),
# THREADS (scrub --threads, default: one per core).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=${WORK:-/tmp/loadline-scrub-bench}
PAIRS=${PAIRS:-9}
LL=$ROOT/target/release/loadline
COPY=$ROOT/target/release/csv_copy
RULES=$ROOT/fixtures/shop.scrub.yaml
THREADS_ARG=()
[[ -n ${THREADS:-} ]] && THREADS_ARG=(--threads "$THREADS")
export LOADLINE_SCRUB_KEY=${LOADLINE_SCRUB_KEY:-bench-key-$(date +%s)-0123456789}
mkdir -p "$WORK"
cd "$WORK"

result() { echo "RESULT $*" | tee -a "$WORK/results.txt"; }
# timed CMD...: sets WALL (s), CPU (user+sys s), RSS_MB (peak) from GNU time.
timed() {
  /usr/bin/time -f "%e %U %S %M" -o "$WORK/time.txt" "$@" >/dev/null 2>&1
  read -r WALL U S KB <"$WORK/time.txt"
  CPU=$(python3 -c "print(round($U + $S, 2))")
  RSS_MB=$(python3 -c "print(round($KB / 1024, 1))")
}

step_build() {
  (cd "$ROOT" && cargo build --release --bin loadline && cargo build --release -p loadline-baselines --bin csv_copy)
}

step_data() {
  local n
  for n in 100000 1000000 3000000; do
    [[ -s $WORK/dump-$n/users.csv ]] || python3 "$ROOT/fixtures/make_dump.py" --users "$n" --orders 0 --out "$WORK/dump-$n"
  done
}

step_speed() {
  local dump=$WORK/dump-1000000 bytes i
  bytes=$(stat -c %s "$dump/users.csv")
  for i in $(seq "$PAIRS"); do
    timed "$COPY" "$dump/users.csv" "$WORK/copy.csv"
    local cw=$WALL cc=$CPU
    rm -rf "$WORK/clean"
    timed "$LL" -q scrub --rules "$RULES" --in "$dump" --out "$WORK/clean" "${THREADS_ARG[@]}"
    local sw=$WALL sc=$CPU
    [[ $(python3 -c "import csv,sys; print(sum(1 for _ in csv.reader(open(sys.argv[1]))))" "$WORK/clean/users.csv") == 1000001 ]] \
      || { echo "scrub wrote the wrong row count" >&2; exit 1; }
    result "speed pair=$i bytes=$bytes csv_copy_s=$cw csv_copy_cpu_s=$cc scrub_s=$sw scrub_cpu_s=$sc" \
           "csv_copy_mb_s=$(python3 -c "print(round($bytes / 1e6 / $cw, 1))") scrub_mb_s=$(python3 -c "print(round($bytes / 1e6 / $sw, 1))")" \
           "ratio=$(python3 -c "print(round($cw / $sw, 2))")"
  done
}

step_mem() {
  local n
  for n in 100000 1000000 3000000; do
    rm -rf "$WORK/clean-$n"
    timed "$LL" -q scrub --rules "$RULES" --in "$WORK/dump-$n" --out "$WORK/clean-$n" "${THREADS_ARG[@]}"
    result "mem rows=$n scrub_s=$WALL peak_rss_mb=$RSS_MB"
    rm -rf "$WORK/clean-$n"
  done
}

steps=("$@")
[[ ${#steps[@]} == 0 || ${steps[0]} == all ]] && steps=(build data speed mem)
for s in "${steps[@]}"; do
  "step_$s"
done
