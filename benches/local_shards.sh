#!/usr/bin/env bash
# local_shards.sh -- the whole scale-out path on this machine, as the Indexed Job
# of `loadline deploy k8s` runs it: N shard processes, each with
# JOB_COMPLETION_INDEX set, `--shard auto/N`, one T0 (`--start-at`, a few
# seconds ahead) and one `--run-id`, writing RUN/shard-I on one shared
# directory; `loadline merge --wait` started before they finish; then
# `loadline gate` on the merged run. Then a failed shard: one shard is killed
# with SIGKILL, merge refuses the run (exit 2, naming the shard), merge
# --allow-partial merges the rest, and the gate calls the run inconclusive.
#
# Network: each shard runs in its own network namespace (`ip netns add`), its
# veth on a bridge in the root namespace that holds 10.200.X.1; the one
# `loadline target` listens on 127.0.0.1 (it binds loopback only), and a DNAT
# rule (with route_localnet on the bridge) sends 10.200.X.1:PORT to it. So the
# shards reach the target over a real interface, as pods reach a service.
# Without `ip netns` (not root, no CAP_NET_ADMIN, no iptables) it says exactly
# which command failed and why, and runs the same steps on loopback.
#
# Usage: bash benches/local_shards.sh
# Environment: LL (the binary; default target/release/loadline, else
# target/debug/loadline), N (shards, 3), RATE (whole run, 400/s), DURATION
# (5s), WORK (scratch, default a new directory under /tmp), MODE (auto: netns
# if it works, else loopback; netns: fail without it; loopback).
# Exit: 0 when every step did what it should, 1 otherwise (the step is named).
# The last line is `MODE netns` or `MODE loopback (REASON)`.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
if [[ -z ${LL:-} ]]; then
  LL=$ROOT/target/release/loadline
  [[ -x $LL ]] || LL=$ROOT/target/debug/loadline
fi
N=${N:-3}
RATE=${RATE:-400/s}
DURATION=${DURATION:-5s}
MODE=${MODE:-auto}
WORK=${WORK:-$(mktemp -d /tmp/loadline-local-shards.XXXXXX)}
POLICY=$ROOT/profiles/gate.yaml
TAG=$(($$ % 250))             # names and subnet of this invocation
NET=10.200.$TAG               # the bridge holds $NET.1, shard I has $NET.(11+I)
BR=llbr$TAG
NSES=()
DNAT=()
TARGET_PID=
MERGE_PID=
SHARD_PIDS=()
REASON=

say() { echo "== $*"; }
fail() {
  echo "FAILED: $*" >&2
  exit 1
}
[[ -x $LL ]] || fail "no loadline binary at $LL (cargo build --bin loadline, or set LL)"
mkdir -p "$WORK"

cleanup() {
  local pid ns
  { for pid in "${SHARD_PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done; } 2>/dev/null
  [[ -n $MERGE_PID ]] && kill -TERM "$MERGE_PID" 2>/dev/null || true
  [[ -n $TARGET_PID ]] && kill -TERM "$TARGET_PID" 2>/dev/null || true
  for ns in "${NSES[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
  if ((${#DNAT[@]})); then iptables -t nat -D PREROUTING "${DNAT[@]}" 2>/dev/null || true; fi
  ip link del "$BR" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# try CMD...: runs it; on failure records "CMD: its error" as the reason for
# falling back to loopback, and returns 1.
try() {
  local err
  if ! err=$("$@" 2>&1); then
    REASON="\`$*\` failed: ${err:-exit status $?}"
    return 1
  fi
}

# The one target, on loopback, bounded: it stops by itself after a minute.
start_target() {
  "$LL" target --port 0 --duration 60s --seed 1 >"$WORK/target.log" 2>&1 &
  TARGET_PID=$!
  local i
  for i in $(seq 100); do
    PORT=$(sed -n 's|^listening on http://127.0.0.1:\([0-9]*\).*|\1|p' "$WORK/target.log")
    [[ -n $PORT ]] && return 0
    kill -0 "$TARGET_PID" 2>/dev/null || break
    sleep 0.1
  done
  cat "$WORK/target.log" >&2
  fail "loadline target did not start"
}

# Bridge in the root namespace, one namespace and veth pair per shard, DNAT of
# $NET.1:PORT to the target on 127.0.0.1. Returns 1 (with REASON) if any step
# is not allowed here.
setup_netns() {
  try ip netns add "ll$TAG-probe" || return 1
  ip netns del "ll$TAG-probe"
  try ip link add "$BR" type bridge || return 1
  try ip addr add "$NET.1/24" dev "$BR" || return 1
  try ip link set "$BR" up || return 1
  try sysctl -qw "net.ipv4.conf.$BR.route_localnet=1" || return 1
  try iptables -t nat -A PREROUTING -i "$BR" -d "$NET.1" -p tcp --dport "$PORT" \
    -j DNAT --to-destination "127.0.0.1:$PORT" || return 1
  DNAT=(-i "$BR" -d "$NET.1" -p tcp --dport "$PORT" -j DNAT --to-destination "127.0.0.1:$PORT")
  local i ns
  for ((i = 0; i < N; i++)); do
    ns=ll$TAG-s$i
    try ip netns add "$ns" || return 1
    NSES+=("$ns")
    try ip link add "ll${TAG}h$i" type veth peer name "ll${TAG}n$i" || return 1
    try ip link set "ll${TAG}h$i" master "$BR" up || return 1
    try ip link set "ll${TAG}n$i" netns "$ns" || return 1
    try ip -n "$ns" addr add "$NET.$((11 + i))/24" dev "ll${TAG}n$i" || return 1
    try ip -n "$ns" link set "ll${TAG}n$i" up || return 1
    try ip -n "$ns" link set lo up || return 1
  done
  # The path works end to end: shard 0's namespace reaches the target.
  try ip netns exec "ll$TAG-s0" bash -c "exec 3<>/dev/tcp/$NET.1/$PORT" || return 1
}

write_profile() {
  cat >"$WORK/profile.yaml" <<EOF
name: local-shards
description: a short open-model run split into $N shards
target:
  base_url: http://$HOST:$PORT
  environment: dev
  connections: 8
  timeout: 2s
seed: 11
duration: $DURATION
load:
  model: open
  rate: $RATE
  arrivals: poisson
tenants:
  count: 50
  skew: {zipf: 1.1}
  id: "t-{index:03}"
  send_as: {header: X-Tenant-ID}
endpoints:
  - name: get_product
    weight: 70
    path: /t/{{tenant}}/products/{{product}}
    vars:
      product: {zipf: {n: 1000, s: 0.9}}
  - name: create_order
    weight: 30
    kind: write
    method: POST
    path: /t/{{tenant}}/orders
    headers: {Content-Type: application/json}
    body: '{"product": {{product}}, "qty": 1}'
    vars:
      product: {uniform: [1, 1000]}
    expect: [201]
EOF
}

# start_shards RUN_DIR RUN_ID: N shard processes, as the Indexed Job's pods.
start_shards() {
  local run=$1 id=$2 i t0
  t0=$(($(date +%s%3N) + 3000))
  SHARD_PIDS=()
  mkdir -p "$run"
  for ((i = 0; i < N; i++)); do
    local pre=()
    [[ $MODE == netns ]] && pre=(ip netns exec "ll$TAG-s$i")
    "${pre[@]}" env JOB_COMPLETION_INDEX=$i "$LL" run "$WORK/profile.yaml" --quiet \
      --shard "auto/$N" --start-at "$t0" --run-id "$id" --out "$run/shard-$i" \
      >"$run/shard-$i.log" 2>&1 &
    SHARD_PIDS+=($!)
  done
  say "started $N shards of run $id, T0 = $t0 (Unix ms), pids ${SHARD_PIDS[*]}"
}

# merged_numbers DIR: the merged summary's identity, shards and counts, one line.
merged_numbers() {
  python3 - "$1/summary.json" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
r, t, m = s["run"], s["totals"], s["run"]["merged"]
print(f"    merged: run {r['run_id']}, shards {m['merged']} of {m['count']}, missing {m['missing']}, "
      f"partial {str(m['partial']).lower()}; {t['requests']} requests, {t['errors']} errors")
EOF
}

# verdict FILE: the gate's decision and tally from its --json, one line.
verdict() {
  python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); t = d["tally"]
print(d["decision"], " ".join(f"{k}={v}" for k, v in t.items()))' "$1"
}

# --- the target and the network ------------------------------------------------
start_target
if [[ $MODE != loopback ]]; then
  if setup_netns; then
    MODE=netns
    HOST=$NET.1
    say "network: $N namespaces ll$TAG-s0..$((N - 1)), veths on bridge $BR ($NET.1/24), DNAT $NET.1:$PORT -> 127.0.0.1:$PORT"
  else
    [[ $MODE == netns ]] && fail "MODE=netns but the namespace path is not available: $REASON"
    echo "network namespaces unavailable, falling back to loopback: $REASON"
    for ns in "${NSES[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
    NSES=()
    MODE=loopback
  fi
fi
if [[ $MODE == loopback ]]; then
  HOST=127.0.0.1
  say "network: plain processes on loopback"
fi
say "target: loadline target on 127.0.0.1:$PORT, shards send to http://$HOST:$PORT"
write_profile

# --- 1. a whole run: N shards, merge --wait started before they finish, gate --
RUN=$WORK/ok
start_shards "$RUN" local-ok
"$LL" merge "$RUN" --out "$RUN/merged" --wait 60s >"$WORK/merge-ok.log" 2>&1 &
MERGE_PID=$!
sleep 1
kill -0 "$MERGE_PID" 2>/dev/null || fail "merge --wait returned before the shards finished: $(cat "$WORK/merge-ok.log")"
say "merge --wait started while the shards wait for T0 (pid $MERGE_PID)"
for ((i = 0; i < N; i++)); do
  wait "${SHARD_PIDS[$i]}" || fail "shard $i exited $?: $(cat "$RUN/shard-$i.log")"
done
SHARD_PIDS=()
say "every shard exited 0"
wait "$MERGE_PID" || fail "merge --wait exited $?: $(cat "$WORK/merge-ok.log")"
MERGE_PID=
say "merge --wait exited 0: $RUN/merged"
sed 's/^/    /' "$WORK/merge-ok.log"
merged_numbers "$RUN/merged"
set +e
"$LL" gate "$RUN/merged" --policy "$POLICY" --env dev --json "$WORK/gate-ok.json" >"$WORK/gate-ok.log" 2>&1
rc=$?
set -e
say "gate on the merged run (env dev) exited $rc"
sed 's/^/    /' "$WORK/gate-ok.log"
((rc == 0)) || fail "gate on the whole run exited $rc"
v=$(verdict "$WORK/gate-ok.json")
say "verdict: $v"
[[ $v == "promote "*" inconclusive=0 "* ]] || fail "the whole run's verdict is $v, not promote with nothing inconclusive"

# --- 2. a failed shard: SIGKILL, merge refuses, --allow-partial, inconclusive --
RUN=$WORK/killed
VICTIM=$((N - 1))
start_shards "$RUN" local-killed
sleep 4.5
kill -KILL "${SHARD_PIDS[$VICTIM]}"
say "killed shard $VICTIM with SIGKILL, 1.5 s after T0"
for ((i = 0; i < N; i++)); do
  set +e
  { wait "${SHARD_PIDS[$i]}"; } 2>/dev/null # not bash's "Killed" line
  rc=$?
  set -e
  if ((i == VICTIM)); then
    ((rc == 137)) || fail "killed shard exited $rc, not 137"
  else
    ((rc == 0)) || fail "shard $i exited $rc: $(cat "$RUN/shard-$i.log")"
  fi
done
SHARD_PIDS=()
set +e
"$LL" merge "$RUN" --out "$RUN/merged" >"$WORK/merge-killed.log" 2>&1
rc=$?
set -e
say "merge without --allow-partial exited $rc"
sed 's/^/    /' "$WORK/merge-killed.log"
((rc == 2)) || fail "merge of a run with a killed shard exited $rc, not 2"
grep -q "shard $VICTIM\|shard-$VICTIM\|$VICTIM/$N" "$WORK/merge-killed.log" ||
  fail "merge's refusal does not name shard $VICTIM"
[[ -e $RUN/merged/summary.json ]] && fail "a refused merge left $RUN/merged/summary.json"
"$LL" merge "$RUN" --out "$RUN/merged" --allow-partial >"$WORK/merge-partial.log" 2>&1 ||
  fail "merge --allow-partial exited $?: $(cat "$WORK/merge-partial.log")"
say "merge --allow-partial exited 0"
sed 's/^/    /' "$WORK/merge-partial.log"
merged_numbers "$RUN/merged"
set +e
"$LL" gate "$RUN/merged" --policy "$POLICY" --env dev --json "$WORK/gate-partial.json" >"$WORK/gate-partial.log" 2>&1
rc=$?
set -e
say "gate on the partial run (env dev) exited $rc"
sed 's/^/    /' "$WORK/gate-partial.log"
v=$(verdict "$WORK/gate-partial.json")
say "verdict: $v"
[[ $v == "inconclusive "* || $v == *" inconclusive="[1-9]* ]] || fail "gate did not call the partial run inconclusive: $v"

say "results in $WORK"
if [[ $MODE == netns ]]; then echo "MODE netns"; else echo "MODE loopback (${REASON:-asked for})"; fi
