#!/usr/bin/env bash
# `loadline learn` on a 1 GB nginx `combined` log (BENCHMARKS.md "Learning
# a profile from access logs"): CPU-seconds, wall time and peak RSS of
# `loadline learn --threads 1` (one core) and with every core, side by side
# with a plain baseline that only reads the same lines and counts requests
# per path with awk (mawk when installed, else gawk).
#
#   cargo build --release --bin loadline
#   bash benches/learn.sh            # SIZE_MB=1000 RUNS=3 WORK=/tmp/loadline-learn-bench
#
# The log is synthetic (benches/learn_log.py, seed 7): about one day of a
# multi-tenant shop API in nginx's combined format, written once and reused.
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=${WORK:-/tmp/loadline-learn-bench}
SIZE_MB=${SIZE_MB:-1000}
RUNS=${RUNS:-3}
BIN=target/release/loadline
mkdir -p "$WORK"
LOG="$WORK/access-$SIZE_MB.log"
[ -s "$LOG" ] || python3 benches/learn_log.py "$LOG" "$SIZE_MB" 7
bytes=$(stat -c %s "$LOG")
AWK=$(command -v mawk || command -v gawk || command -v awk)

measure() { # name, command...
  local name=$1; shift
  /usr/bin/time -f "%U %S %e %M" -o "$WORK/time" "$@" >/dev/null 2>"$WORK/err" || { cat "$WORK/err" >&2; exit 1; }
  read -r user sys wall rss <"$WORK/time"
  awk -v n="$name" -v u="$user" -v s="$sys" -v w="$wall" -v r="$rss" -v b="$bytes" 'BEGIN {
    cpu = u + s; printf "RESULT learn name=%s cpu_s=%.2f wall_s=%.2f rss_mb=%.1f gb_per_cpu_min=%.2f gb_per_wall_min=%.2f\n",
      n, cpu, w, r / 1024, b / 1e9 / (cpu / 60), b / 1e9 / (w / 60) }'
}

cat "$LOG" >/dev/null # warm the page cache
for i in $(seq "$RUNS"); do
  measure loadline-1-thread $BIN learn "$LOG" --format nginx --tenant path:3 --threads 1 --out "$WORK/learned.yaml" -q
  measure loadline-all-cores $BIN learn "$LOG" --format nginx --tenant path:3 --out "$WORK/learned.yaml" -q
  measure awk-count-per-path "$AWK" '{ c[$7]++ } END { for (p in c) n++; print n }' "$LOG"
done
echo "log: $LOG ($bytes bytes, $(wc -l <"$LOG") lines); awk: $AWK"
