#!/usr/bin/env bash
# connections.sh -- many concurrent connections on loopback, bounded in time.
#
# One process cannot hold 50,000 sockets where the file-descriptor hard limit
# is lower (here 20,000, and root cannot raise it: the container caps it), so
# the run is split the way a cluster splits it: N generator processes, each a
# shard of one run (`--shard I/N`, one `--run-id`, one `--start-at`), each
# against its own `loadline target` process on its own loopback port (the
# profile's base URL is `${env:LL_TARGET}`, so every shard runs the same
# profile text and the same profile hash), then `loadline merge` joins the
# shards exactly. Each process's limit is raised to the hard limit first.
#
# While the load runs, the script counts the ESTABLISHED sockets towards the
# targets (`ss`), every generator's open fds (/proc/PID/fd) and its resident
# memory (VmRSS in /proc/PID/status). It prints connections established,
# requests, errors, generator RSS and RSS per connection.
#
# Then ONE generator at PER_ONE connections (default 18,000, under the fd
# limit) against one target, sampled the same way, with a second run at 1,000
# connections: (RSS at 18,000 - RSS at 1,000) / 17,000 is the generator's
# memory per connection, free of its fixed cost.
#
# Usage: bash benches/connections.sh
# Environment: LL (binary; default target/release/loadline), TOTAL (50000),
# PROCS (4), PER_ONE (18000), RATE (whole run, 10000/s), DURATION (20s),
# WORK (scratch dir). SKIP_ONE=1 skips the one-process measurement.
# Exit 0 when every connection was established and every request counted,
# 1 otherwise.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
if [[ -z ${LL:-} ]]; then
  LL=$ROOT/target/release/loadline
  [[ -x $LL ]] || LL=$ROOT/target/debug/loadline
fi
TOTAL=${TOTAL:-50000}
PROCS=${PROCS:-4}
PER_ONE=${PER_ONE:-18000}
RATE=${RATE:-10000/s}
DURATION=${DURATION:-20s}
WORK=${WORK:-$(mktemp -d /tmp/loadline-connections.XXXXXX)}
PIDS=()
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
[[ -x $LL ]] || fail "no loadline binary at $LL"
mkdir -p "$WORK"

soft=$(ulimit -Sn)
hard=$(ulimit -Hn)
ulimit -n "$hard"
if ulimit -n 120000 2>/dev/null; then hard=120000; fi
say "fd limit: soft $soft, hard $hard (raised to $(ulimit -n)); /proc/sys/fs/nr_open $(cat /proc/sys/fs/nr_open); ephemeral ports $(tr '\t' - </proc/sys/net/ipv4/ip_local_port_range)"

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
fds() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }

# start_target LOG: a target on a free loopback port, bounded to 5 minutes; sets PORT.
start_target() {
  "$LL" target --port 0 --duration 300s --seed 1 --threads 1 >"$1" 2>&1 &
  PIDS+=($!)
  TPID=$!
  local i
  for i in $(seq 100); do
    PORT=$(sed -n 's|^listening on http://127.0.0.1:\([0-9]*\).*|\1|p' "$1")
    [[ -n $PORT ]] && return 0
    sleep 0.1
  done
  cat "$1" >&2
  fail "loadline target did not start"
}

# profile FILE CONNECTIONS RATE: a get/search mix against ${env:LL_TARGET}.
profile() {
  cat >"$1" <<EOF
name: connections
target:
  base_url: \${env:LL_TARGET}
  connections: $2
  timeout: 5s
seed: 5
duration: $DURATION
warmup: 2s
load: {model: open, rate: $3, arrivals: poisson}
endpoints:
  - {name: get_product, weight: 3, path: "/t/a/products/{{p}}", vars: {p: {uniform: [1, 1000]}}}
  - {name: search, weight: 1, path: "/t/a/search?q=x"}
EOF
}

# established PORTS...: ESTABLISHED client sockets towards these ports.
established() {
  local filter="" p
  for p in "$@"; do filter+="${filter:+ or }dport = :$p"; done
  ss -Htn state established "( $filter )" | wc -l
}

# sample_peak OUT PIDS...: until the generators exit, the peak of the sum of
# their RSS (KiB) and fds, and of the established sockets, one line to OUT.
sample_peak() {
  local out=$1 ports=$2
  shift 2
  local peak_rss=0 peak_fd=0 peak_est=0 rss fd est p alive
  while :; do
    alive=0 rss=0 fd=0
    for p in "$@"; do
      if kill -0 "$p" 2>/dev/null; then
        alive=1
        rss=$((rss + $(rss_kib "$p")))
        fd=$((fd + $(fds "$p")))
      fi
    done
    ((alive)) || break
    # shellcheck disable=SC2086
    est=$(established $ports)
    ((rss > peak_rss)) && peak_rss=$rss
    ((fd > peak_fd)) && peak_fd=$fd
    ((est > peak_est)) && peak_est=$est
    sleep 0.5
  done
  echo "$peak_rss $peak_fd $peak_est" >"$out"
}

# totals SUMMARY: requests and errors of a run, one line.
totals() {
  python3 -c 'import json,sys; t=json.load(open(sys.argv[1]))["totals"]; print(t["requests"], t["errors"])' "$1"
}

# --- N generators against N targets, merged ------------------------------------
per=$(((TOTAL + PROCS - 1) / PROCS))
profile "$WORK/profile.yaml" "$per" "$RATE"
PORTS=()
for ((i = 0; i < PROCS; i++)); do
  start_target "$WORK/target-$i.log"
  PORTS+=("$PORT")
  TPIDS[i]=$TPID
done
say "$PROCS targets on 127.0.0.1:${PORTS[*]}; $PROCS generators with $per connections each ($((per * PROCS)) in all), $RATE for $DURATION"
t0=$(($(date +%s%3N) + 4000))
GENS=()
for ((i = 0; i < PROCS; i++)); do
  LL_TARGET=http://127.0.0.1:${PORTS[$i]} "$LL" run "$WORK/profile.yaml" --quiet \
    --shard "$i/$PROCS" --start-at "$t0" --run-id connections --out "$WORK/run/shard-$i" \
    >"$WORK/gen-$i.log" 2>&1 &
  GENS+=($!)
  PIDS+=($!)
done
sample_peak "$WORK/peak" "${PORTS[*]}" "${GENS[@]}"
for ((i = 0; i < PROCS; i++)); do
  wait "${GENS[$i]}" || fail "generator $i exited $?: $(cat "$WORK/gen-$i.log")"
done
read -r peak_rss peak_fd peak_est <"$WORK/peak"
"$LL" merge "$WORK/run" --out "$WORK/merged" >"$WORK/merge.log" 2>&1 || fail "merge: $(cat "$WORK/merge.log")"
read -r requests errors < <(totals "$WORK/merged/summary.json")
accepted=0
for ((i = 0; i < PROCS; i++)); do
  trss=$(rss_kib "${TPIDS[$i]}")
  kill -TERM "${TPIDS[$i]}"
  wait "${TPIDS[$i]}" 2>/dev/null || true
  n=$(sed -n 's/.*, \([0-9]*\) connections\?,.*/\1/p' "$WORK/target-$i.log" | tail -1)
  accepted=$((accepted + ${n:-0}))
  echo "    target $i: $(tail -1 "$WORK/target-$i.log"); RSS at the end ${trss} KiB"
done
say "connections established (peak, ss): $peak_est of $((per * PROCS)); accepted by the targets: $accepted"
say "requests $requests, errors $errors (merged run in $WORK/merged)"
say "generators: peak RSS $((peak_rss / 1024)) MiB in all, peak fds $peak_fd; RSS per connection $((peak_rss * 1024 / (per * PROCS))) bytes (fixed cost included)"
ok=1
((peak_est >= per * PROCS)) || { echo "not every connection was established at once" >&2; ok=0; }
((accepted >= per * PROCS)) || { echo "the targets accepted $accepted connections" >&2; ok=0; }
((errors == 0)) || { echo "$errors errors" >&2; ok=0; }

# --- one generator: memory per connection --------------------------------------
if [[ -z ${SKIP_ONE:-} ]]; then
  start_target "$WORK/target-one.log"
  for n in 1000 "$PER_ONE"; do
    profile "$WORK/one-$n.yaml" "$n" "2000/s"
    LL_TARGET=http://127.0.0.1:$PORT "$LL" run "$WORK/one-$n.yaml" --quiet --out "$WORK/one-$n" >"$WORK/one-$n.log" 2>&1 &
    g=$!
    PIDS+=($g)
    sample_peak "$WORK/peak-$n" "$PORT" "$g"
    wait "$g" || fail "one generator at $n connections exited $?: $(cat "$WORK/one-$n.log")"
    read -r r f e <"$WORK/peak-$n"
    eval "rss_$n=$r"
    say "one generator, $n connections: peak RSS $((r / 1024)) MiB, peak fds $f, established $e; $(totals "$WORK/one-$n/summary.json" | awk '{print $1 " requests, " $2 " errors"}')"
    ((e >= n)) || { echo "only $e of $n connections established" >&2; ok=0; }
  done
  small=rss_1000 big=rss_$PER_ONE
  say "generator memory per connection: $(((${!big} - ${!small}) * 1024 / (PER_ONE - 1000))) bytes ((RSS at $PER_ONE - RSS at 1000) / $((PER_ONE - 1000)))"
fi
((ok)) || fail "see above"
say "results in $WORK"
