#!/usr/bin/env bash
# soak.sh -- does memory or the fd count creep while loadline works for long?
#
#   bash benches/soak.sh [run|synth|scrub|gate|all]      # default: all
#
# run:   `loadline target --db` seeded from profiles/demo.schema.yaml, and
#        `loadline run` of profiles/demo.yaml (its rate, its diurnal shape
#        repeating every 20 s, its endpoint mix) for SOAK_SECS (3600).
# synth: `loadline synth fixtures/shop.schema.yaml --to csv:DIR` at SOAK_ROWS
#        rows (100,000,000; the scale is SOAK_ROWS / the rows at scale 1).
# scrub: `loadline scrub` of a SCRUB_ROWS-row users table (10,000,000; made by
#        fixtures/make_dump.py) with fixtures/shop.scrub.yaml.
# gate:  `loadline gate` on interval logs of GATE_HOURS hours ("1 6 24";
#        written by benches/baselines gate_long_soak, 1000 requests/s,
#        3 endpoints), alone and with the same log as its `--baseline`: a
#        batch reader, so what is reported is its peak RSS per log length
#        and the bytes it adds per second of log, not a slope over time.
#
# Every SAMPLE_SECS (10; DATA_SAMPLE_SECS, 1, for synth, scrub and gate,
# which finish in minutes, not hours) the script reads VmRSS from /proc/PID/status and
# counts /proc/PID/fd of the process (and of the target in `run`) into
# WORK/NAME.csv (seconds,rss_bytes,fds). At the end, benches/soak_slope.py
# fits a least-squares line to the samples of the last 5/6 of the process's
# life (the last 50 minutes of an hour) and prints the slope in bytes/minute
# and fds/minute with its standard error, and a verdict:
#   "flat within noise" when |slope| <= 2 standard errors (no trend the
#   noise cannot explain), or when the drift the slope predicts over the
#   window is below 1 MiB and 1% of the mean RSS (for fds: below 1 fd);
#   "GROWING" (or "SHRINKING") otherwise.
# Exit 0 when every verdict is flat, 1 otherwise.
#
# Environment: LL (binary; default target/release/loadline), SOAK_SECS,
# SOAK_ROWS, SCRUB_ROWS, GATE_HOURS, SAMPLE_SECS, DATA_SAMPLE_SECS,
# GATE_SAMPLE_SECS (0.1: the gate reads a day in seconds), WORK (scratch directory).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
LL=${LL:-$ROOT/target/release/loadline}
SOAK_SECS=${SOAK_SECS:-3600}
SOAK_ROWS=${SOAK_ROWS:-100000000}
SCRUB_ROWS=${SCRUB_ROWS:-10000000}
GATE_HOURS=${GATE_HOURS:-1 6 24}
SAMPLE_SECS=${SAMPLE_SECS:-10}
DATA_SAMPLE_SECS=${DATA_SAMPLE_SECS:-1}
GATE_SAMPLE_SECS=${GATE_SAMPLE_SECS:-0.1}
WORK=${WORK:-$(mktemp -d /tmp/loadline-soak.XXXXXX)}
WHAT=${1:-all}
PIDS=()
VERDICTS=0
say() { echo "== $*"; }
fail() {
  echo "FAILED: $*" >&2
  exit 1
}
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
[[ -x $LL ]] || fail "no loadline binary at $LL (nice cargo build --release)"
mkdir -p "$WORK"

# sample PID CSV [SECS]: one line every SECS (SAMPLE_SECS) while PID lives.
sample() {
  local pid=$1 csv=$2 every=${3:-$SAMPLE_SECS} start rss fd
  start=$(date +%s.%N)
  echo "seconds,rss_bytes,fds" >"$csv"
  while [[ -r /proc/$pid/status ]]; do
    rss=$(awk '/^VmRSS:/ {print $2 * 1024}' "/proc/$pid/status" 2>/dev/null) || break
    fd=$(ls "/proc/$pid/fd" 2>/dev/null | wc -l)
    [[ -n $rss ]] || break
    echo "$(awk -v a="$(date +%s.%N)" -v b="$start" 'BEGIN { printf "%.1f", a - b }'),$rss,$fd" >>"$csv"
    sleep "$every"
  done
}

# watch NAME SECS CMD...: run CMD in the background, sample it every SECS
# until it ends, fit. CMD must exit with one of OK_CODES (0).
watch() {
  local name=$1 every=$2 pid rc
  shift 2
  "$@" >"$WORK/$name.log" 2>&1 &
  pid=$!
  PIDS+=($pid)
  sample "$pid" "$WORK/$name.csv" "$every" &
  set +e
  wait "$pid"
  rc=$?
  set -e
  [[ " ${OK_CODES:-0} " == *" $rc "* ]] || fail "$name exited $rc: $(tail -5 "$WORK/$name.log")"
  verdict "$name"
}

verdict() {
  python3 "$ROOT/benches/soak_slope.py" "$WORK/$1.csv" "$1" || VERDICTS=1
}

soak_run() {
  say "run: demo profile for $SOAK_SECS s against loadline target --db"
  cp "$ROOT/profiles/demo.schema.yaml" "$WORK/"
  "$LL" synth "$WORK/demo.schema.yaml" --to "sqlite:$WORK/demo.db" --reset -q >"$WORK/seed.log" 2>&1 ||
    fail "seeding the demo database: $(cat "$WORK/seed.log")"
  "$LL" target --port 0 --db "sqlite:$WORK/demo.db" --duration "$((SOAK_SECS + 120))s" --seed 7 \
    >"$WORK/target.log" 2>&1 &
  local tpid=$! port="" i
  PIDS+=($tpid)
  for i in $(seq 100); do
    port=$(sed -n 's|^listening on http://127.0.0.1:\([0-9]*\).*|\1|p' "$WORK/target.log")
    [[ -n $port ]] && break
    sleep 0.1
  done
  [[ -n $port ]] || fail "target did not start: $(cat "$WORK/target.log")"
  sed "s|base_url: http://127.0.0.1:8080|base_url: http://127.0.0.1:$port|" "$ROOT/profiles/demo.yaml" >"$WORK/demo.yaml"
  sample "$tpid" "$WORK/target.csv" &
  watch run "$SAMPLE_SECS" "$LL" run "$WORK/demo.yaml" --duration "${SOAK_SECS}s" --quiet --out "$WORK/run"
  python3 - "$WORK/run/summary.json" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
t = s["totals"]
print(f"    run: {t['requests']} requests, {t['errors']} errors")
EOF
  kill -TERM "$tpid" 2>/dev/null || true
  wait "$tpid" 2>/dev/null || true
  verdict target
}

soak_synth() {
  local per scale
  # Rows at scale 1 (fixtures/shop.schema.yaml: 1,200,000).
  per=${SYNTH_ROWS_AT_1:-1200000}
  scale=$(python3 -c "print($SOAK_ROWS / $per)")
  say "synth: $SOAK_ROWS rows (scale $scale) to CSV"
  rm -rf "$WORK/synth"
  watch synth "$DATA_SAMPLE_SECS" "$LL" synth "$ROOT/fixtures/shop.schema.yaml" --to "csv:$WORK/synth" --scale "$scale" --seed 1
  echo "    synth: $(cat "$WORK"/synth/*.csv | wc -l) lines written ($(du -sh "$WORK/synth" | cut -f1))"
  rm -rf "$WORK/synth"
}

soak_scrub() {
  say "scrub: $SCRUB_ROWS users rows"
  if [[ ! -f $WORK/dump-$SCRUB_ROWS/users.csv ]]; then
    python3 "$ROOT/fixtures/make_dump.py" --users "$SCRUB_ROWS" --orders 0 --out "$WORK/dump-$SCRUB_ROWS" >/dev/null
  fi
  rm -rf "$WORK/clean"
  LOADLINE_SCRUB_KEY=${LOADLINE_SCRUB_KEY:-soak-bench-key-not-a-secret-32b!} \
    watch scrub "$DATA_SAMPLE_SECS" "$LL" scrub --rules "$ROOT/fixtures/shop.scrub.yaml" --in "$WORK/dump-$SCRUB_ROWS" --out "$WORK/clean"
  rm -rf "$WORK/clean"
}

# sample_peak CSV CMD...: run CMD under /usr/bin/time, sampling its RSS into
# CSV every GATE_SAMPLE_SECS; prints "peak_kb seconds".
sample_peak() {
  local csv=$1 pid child="" i
  shift
  /usr/bin/time -f "%M %e" -o "$WORK/time" "$@" >/dev/null 2>&1 &
  pid=$!
  for i in $(seq 200); do
    child=$(pgrep -P "$pid" | head -1) && [[ -n $child ]] && break
    sleep 0.005
  done
  [[ -n $child ]] && sample "$child" "$csv" "$GATE_SAMPLE_SECS" &
  wait "$pid" || true
  wait
  tail -1 "$WORK/time"
}

soak_gate() {
  local ex=$ROOT/target/release/gate_long_soak hours run peak secs base_peak bsecs prev="" prev_h=""
  [[ -x $ex ]] || (cd "$ROOT" && nice cargo build --release -q -p loadline-baselines --bin gate_long_soak) ||
    fail "cannot build gate_long_soak"
  if [[ ! -f $WORK/template/summary.json ]]; then
    "$LL" target --port 0 --threads 1 --duration 10s >"$WORK/gt.log" 2>&1 &
    local tp=$! port="" i
    for i in $(seq 100); do
      port=$(sed -n 's|^listening on http://127.0.0.1:\([0-9]*\).*|\1|p' "$WORK/gt.log")
      [[ -n $port ]] && break
      sleep 0.1
    done
    cat >"$WORK/template.yaml" <<EOF
name: gate-soak
target: {base_url: "http://127.0.0.1:$port", connections: 16}
seed: 1
duration: 3s
load: {model: open, rate: 300/s}
endpoints:
  - {name: get_product, weight: 6, path: /t/t-1/products/1}
  - {name: search, weight: 3, path: /t/t-1/search?q=x}
  - {name: create_order, weight: 1, method: POST, path: /t/t-1/orders, body: '{"product": 1}', expect: [201]}
EOF
    "$LL" run "$WORK/template.yaml" --out "$WORK/template" -q
    wait "$tp" 2>/dev/null || true
  fi
  # The gate is a batch reader: what must not grow is what it keeps per
  # length of log read. Peak RSS per log length, alone and with the same log
  # as its --baseline; the longest is also sampled over time (gate-NNh.csv).
  for hours in $GATE_HOURS; do
    run=$WORK/gate-${hours}h
    [[ -f $run/summary.json ]] || "$ex" "$WORK/template" "$run" $((hours * 3600)) 1000 | tail -1
    read -r peak secs <<<"$(sample_peak "$WORK/gate-${hours}h.csv" "$LL" gate "$run" --policy "$ROOT/profiles/gate.yaml" --env prod)"
    read -r base_peak bsecs <<<"$(sample_peak "$WORK/gate-${hours}h-baseline.csv" \
      "$LL" gate "$run" --baseline "$run" --policy "$ROOT/profiles/gate.yaml" --env prod)"
    say "gate on a $hours h log ($(du -m "$run/latency.hlog" | cut -f1) MB): peak $((peak / 1024)) MiB in ${secs}s; with it as the baseline: peak $((base_peak / 1024)) MiB in ${bsecs}s"
    if [[ -n $prev ]]; then
      awk -v a="$prev" -v b="$peak" -v h0="$prev_h" -v h1="$hours" \
        'BEGIN { printf "    from %s h to %s h: %+.0f bytes of peak RSS per second of log\n", h0, h1, (b - a) * 1024 / ((h1 - h0) * 3600) }'
    fi
    prev=$peak prev_h=$hours
  done
}

case $WHAT in
run) soak_run ;;
synth) soak_synth ;;
scrub) soak_scrub ;;
gate) soak_gate ;;
all)
  soak_run
  soak_synth
  soak_scrub
  soak_gate
  ;;
*) fail "unknown soak: $WHAT (run, synth, scrub, gate or all)" ;;
esac
say "samples in $WORK (*.csv)"
exit "$VERDICTS"
