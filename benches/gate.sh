#!/usr/bin/env bash
# The gate on long soaks, side by side with HdrHistogram's own Python
# reader merging the same interval log (BENCHMARKS.md section 10).
#
#   cargo build --release --bin loadline
#   cargo build --release -p loadline-baselines --bin gate_long_soak
#   pip install hdrhistogram
#   bash benches/gate.sh [HOURS...]       # default: 1 6
#
# For each length: write a synthetic soak (3 endpoints, 1000 requests/s,
# one histogram per second per endpoint and outcome) with a real run's
# summary as the template, then time, in interleaved pairs, the CPU
# seconds and peak RSS of `loadline gate RUN` (no baseline) and of
# benches/gate_peer.py on the same latency.hlog, and once
# `loadline gate RUN --baseline RUN` (the bootstrap comparison).
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=${WORK:-/tmp/gate-bench}
PAIRS=${PAIRS:-3}
BIN=target/release/loadline
EX=target/release/gate_long_soak
mkdir -p "$WORK"

# A short real run as the summary template.
if [ ! -f "$WORK/template/summary.json" ]; then
  $BIN target --port 18081 --threads 1 --duration 8s -q &
  sleep 0.5
  cat > "$WORK/template.yaml" <<'YAML'
name: gate-bench
target: {base_url: "http://127.0.0.1:18081", connections: 16}
seed: 1
duration: 3s
load: {model: open, rate: 300/s}
endpoints:
  - {name: get_product, weight: 6, path: /t/t-1/products/1}
  - {name: search, weight: 3, path: /t/t-1/search?q=x}
  - {name: create_order, weight: 1, method: POST, path: /t/t-1/orders, body: '{"product": 1}', expect: [201]}
YAML
  $BIN run "$WORK/template.yaml" --out "$WORK/template" -q
  wait
fi

cpu() { # command... -> "cpu_seconds rss_mb"
  /usr/bin/time -f "%U %S %M" -o "$WORK/time" "$@" > /dev/null 2>&1 || true
  tail -1 "$WORK/time" | awk '{ printf "%.2f %.0f", $1 + $2, $3 / 1024 }'
}

for h in "${@:-1 6}"; do
  for hours in $h; do
    run="$WORK/soak-${hours}h"
    rm -rf "$run"
    "$EX" "$WORK/template" "$run" $((hours * 3600)) 1000 2>&1 | tail -1
    echo "== ${hours} h soak: $(du -m "$run/latency.hlog" | cut -f1) MB interval log"
    for i in $(seq "$PAIRS"); do
      read -r lc lm <<< "$(cpu $BIN gate "$run" --policy profiles/gate.yaml --env prod)"
      read -r pc pm <<< "$(cpu python3 benches/gate_peer.py "$run/latency.hlog")"
      awk -v lc="$lc" -v pc="$pc" -v lm="$lm" -v pm="$pm" -v i="$i" \
        'BEGIN { printf "pair %d: loadline gate %.2f CPU-s %d MB | hdrh (Python) merge %.2f CPU-s %d MB | ratio %.1fx\n", i, lc, lm, pc, pm, pc / lc }'
    done
    read -r bc bm <<< "$(cpu $BIN gate "$run" --baseline "$run" --policy profiles/gate.yaml --env prod)"
    echo "with --baseline (4 scopes x 1000 replicates): $bc CPU-s, $bm MB"
  done
done
