#!/usr/bin/env bash
# Shard overhead (BENCHMARKS.md "Shard overhead"): requests per generator
# CPU-second of 4 concurrent shards (`--shard i/4 --workers 1`, one
# --start-at) against one unsharded run (`--workers 2`), the same closed-model
# profile (section 1's shop mix, 64 connections in total) against one nginx
# worker, interleaved pairs. Each shard opens CONNS/4 connections
# (--set target.connections), so both sides hold CONNS in total.
#
#   cargo build --release --bin loadline
#   apt-get install nginx-light      # or nginx
#   bash benches/shard_overhead.sh   # PAIRS=5 DUR=15 CONNS=64
#
# nginx is pinned to CPU 1, every generator process to CPU 0 (taskset).
# CPU-seconds: user + system of each loadline process from GNU time, summed
# over the 4 shards; requests: totals.requests of the unsharded summary and
# of the 4 shards merged with `loadline merge`.
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=${WORK:-/tmp/loadline-shard-overhead}
PAIRS=${PAIRS:-5}
DUR=${DUR:-15}
CONNS=${CONNS:-64}
PORT=${PORT:-18090}
BIN=target/release/loadline
mkdir -p "$WORK/nginx/logs"
command -v nginx >/dev/null || { echo "nginx is not installed (apt-get install nginx-light)" >&2; exit 2; }

d="$WORK/nginx"
cat >"$d/nginx.conf" <<NGX
worker_processes 1;
pid $d/nginx.pid;
error_log $d/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_timeout 65;
  keepalive_requests 100000000;
  client_body_temp_path $d/tmp_body;
  proxy_temp_path $d/tmp_proxy;
  fastcgi_temp_path $d/tmp_fcgi;
  uwsgi_temp_path $d/tmp_uwsgi;
  scgi_temp_path $d/tmp_scgi;
  server {
    listen 127.0.0.1:$PORT backlog=4096;
    location / { default_type text/plain; return 200 "hello\n"; }
  }
}
NGX
taskset -c 1 nginx -e "$d/logs/error.log" -p "$d" -c "$d/nginx.conf" -g 'daemon off;' &
NGINX_PID=$!
trap 'kill "$NGINX_PID" 2>/dev/null || true' EXIT
sleep 0.5

cat >"$WORK/profile.yaml" <<YAML
name: shard-overhead
target: {base_url: "http://127.0.0.1:$PORT", connections: $CONNS, timeout: 5s}
seed: 42
duration: ${DUR}s
load: {model: closed, users: $CONNS}
tenants: {count: 5000, skew: {zipf: 1.1}, id: "t-{index:05}", send_as: {header: X-Tenant-ID}}
endpoints:
  - {name: get_product, weight: 60, path: "/t/{{tenant}}/products/{{product}}", vars: {product: {zipf: {n: 20000, s: 0.9}}}}
  - {name: search, weight: 25, path: "/t/{{tenant}}/search?q={{word}}", vars: {word: {fake: word}}}
  - name: create_order
    weight: 15
    method: POST
    path: /t/{{tenant}}/orders
    headers: {Content-Type: application/json}
    body: '{"product": {{product}}, "qty": {{qty}}, "email": "{{email}}"}'
    vars: {product: {uniform: [1, 20000]}, qty: {uniform: [1, 5]}, email: {fake: safe_email}}
YAML

cpu_of() { awk '{ s += $1 + $2 } END { printf "%.2f", s }' "$@"; }
requests() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["totals"]["requests"])' "$1"; }

ratios=()
for i in $(seq "$PAIRS"); do
  rm -rf "$WORK/one" "$WORK/shards" "$WORK/merged" "$WORK"/t-*
  /usr/bin/time -f "%U %S" -o "$WORK/t-one" taskset -c 0 $BIN run "$WORK/profile.yaml" --workers 2 --out "$WORK/one" -q
  one_cpu=$(cpu_of "$WORK/t-one"); one_req=$(requests "$WORK/one/summary.json")
  t0=$(( $(date +%s%3N) + 1000 ))
  pids=()
  for s in 0 1 2 3; do
    /usr/bin/time -f "%U %S" -o "$WORK/t-shard-$s" taskset -c 0 $BIN run "$WORK/profile.yaml" --workers 1 \
      --set "target.connections=$((CONNS / 4))" --shard "$s/4" --start-at "$t0" --run-id "overhead-$i" --out "$WORK/shards/shard-$s" -q &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p"; done
  $BIN merge "$WORK/shards" --out "$WORK/merged" -q
  sh_cpu=$(cpu_of "$WORK"/t-shard-*); sh_req=$(requests "$WORK/merged/summary.json")
  r=$(awk -v a="$one_req" -v b="$one_cpu" -v c="$sh_req" -v d="$sh_cpu" 'BEGIN { printf "%.3f", (c / d) / (a / b) }')
  ratios+=("$r")
  echo "RESULT shard-overhead pair=$i one_req=$one_req one_cpu_s=$one_cpu one_req_per_cpu_s=$(awk -v a="$one_req" -v b="$one_cpu" 'BEGIN{printf "%.0f", a/b}') shards_req=$sh_req shards_cpu_s=$sh_cpu shards_req_per_cpu_s=$(awk -v a="$sh_req" -v b="$sh_cpu" 'BEGIN{printf "%.0f", a/b}') ratio=$r"
done
printf '%s\n' "${ratios[@]}" | sort -n | awk '{ v[NR] = $1 } END {
  printf "RESULT shard-overhead median_ratio=%s range=%s-%s pairs=%d\n", v[int((NR + 1) / 2)], v[1], v[NR], NR }'
