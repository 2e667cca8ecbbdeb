#!/usr/bin/env bash
# `loadline merge` of one-hour shard logs, side by side with HdrHistogram's
# own Python reader adding the same logs (BENCHMARKS.md "Merging shards vs
# hdrh (Python)").
#
#   cargo build --release --bin loadline
#   cargo build --release -p loadline-baselines --bin shard_logs
#   pip install hdrhistogram
#   bash benches/merge.sh            # PAIRS=3 DURATION_S=3600 RATE=1000 SHARDS="2 4 8"
#
# Once: a short real shard run (`loadline run --shard 0/8` against the
# built-in target) as the summary template, then, for each shard count N,
# N shard directories of DURATION_S one-second intervals at RATE requests/s
# each over 3 endpoints (log-normal latency), written by shard_logs through
# loadline's own ResultWriter into target/bench-merge/logs-N. Then, in
# interleaved pairs, the CPU-seconds (user + system) and peak RSS of
# `loadline merge logs-N --out M` and of benches/merge_peer.py on the same
# N latency.hlog files; the ratio is the peer's CPU-seconds over loadline's.
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=${WORK:-target/bench-merge}
PAIRS=${PAIRS:-3}
DURATION_S=${DURATION_S:-3600}
RATE=${RATE:-1000}
SHARDS=${SHARDS:-2 4 8}
BIN=target/release/loadline
GEN=target/release/shard_logs
mkdir -p "$WORK"

if [ ! -f "$WORK/template/summary.json" ]; then
  cat > "$WORK/tpl.yaml" <<'YAML'
name: bench-merge
target: {base_url: "http://127.0.0.1:18099", connections: 4, timeout: 5s}
seed: 42
duration: 2s
load: {model: open, rate: 200/s, arrivals: poisson}
endpoints:
  - {name: get_product, weight: 60, path: "/t/1/products/1"}
  - {name: search, weight: 25, path: "/t/1/search?q=a"}
  - {name: create_order, weight: 15, method: POST, path: /t/1/orders, body: '{"product": 1}'}
YAML
  $BIN target --port 18099 --duration 6s -q &
  sleep 0.5
  $BIN run "$WORK/tpl.yaml" --shard 0/8 --run-id bench-merge \
    --start-at $(( $(date +%s%3N) + 500 )) --out "$WORK/template" -q
  wait
fi

cpu() { # command... -> "cpu_seconds rss_mb"
  /usr/bin/time -f "%U %S %M" -o "$WORK/time" "$@" > /dev/null 2>&1 || { echo "failed: $*" >&2; exit 1; }
  tail -1 "$WORK/time" | awk '{ printf "%.2f %.1f", $1 + $2, $3 / 1024 }'
}

for n in $SHARDS; do
  logs="$WORK/logs-$n"
  if [ ! -f "$logs/shard-$((n - 1))/summary.json" ]; then
    rm -rf "$logs"
    "$GEN" "$WORK/template" "$logs" "$n" "$DURATION_S" "$RATE"
  fi
  echo "== $n shards x ${DURATION_S} s at ${RATE}/s: $(du -cm "$logs"/shard-*/latency.hlog | tail -1 | cut -f1) MB of interval logs"
  ratios=()
  for i in $(seq "$PAIRS"); do
    rm -rf "$WORK/merged-$n"
    read -r lc lm <<< "$(cpu $BIN merge "$logs" --out "$WORK/merged-$n" -q)"
    read -r pc pm <<< "$(cpu python3 benches/merge_peer.py "$logs"/shard-*/latency.hlog)"
    r=$(awk -v l="$lc" -v p="$pc" 'BEGIN { printf "%.2f", p / l }')
    ratios+=("$r")
    echo "RESULT merge shards=$n pair=$i loadline_cpu_s=$lc loadline_rss_mb=$lm hdrh_cpu_s=$pc hdrh_rss_mb=$pm ratio=$r"
  done
  printf '%s\n' "${ratios[@]}" | sort -n | awk -v n="$n" '{ v[NR] = $1 } END {
    printf "RESULT merge shards=%d median_ratio=%s range=%s-%s pairs=%d\n", n, v[int((NR + 1) / 2)], v[1], v[NR], NR }'
done
