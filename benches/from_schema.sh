#!/usr/bin/env bash
# from_schema cost (BENCHMARKS.md "Key spaces"): requests per generator
# CPU-second of the same closed-model profile with its product variable drawn
# three ways, against one nginx worker on loopback: `plain` ({uniform: [1,
# 20000]}), `id` (from_schema over fixtures/shop.schema.yaml products.id, zipf:0.9)
# and `sku` (from_schema over products.sku: a unique `pattern`, computed per
# request through its permutation). Interleaved triples; the medians of
# id/plain and sku/plain are printed. The issue's bound: at most 5% fewer
# requests per CPU-second than plain (ratio >= 0.95).
#
#   cargo build --release --bin loadline
#   apt-get install nginx-light      # or nginx; without it `loadline target`
#   bash benches/from_schema.sh      # PAIRS=5 DUR=10 CONNS=64
#
# The server (nginx, else `loadline target --threads 1`) is pinned to CPU 1, the generator (--workers 1) to CPU 0 (taskset).
# CPU-seconds: user + system of the loadline process from GNU time (which
# includes loading the profile and its schema, a few ms); requests:
# totals.requests of the summary.
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=${WORK:-/tmp/loadline-from-schema}
PAIRS=${PAIRS:-5}
DUR=${DUR:-10}
CONNS=${CONNS:-64}
PORT=${PORT:-18091}
BIN=${BIN:-target/release/loadline}
SCHEMA=$(pwd)/fixtures/shop.schema.yaml
mkdir -p "$WORK/nginx/logs"

if command -v nginx >/dev/null; then
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
SERVER_PID=$!
SERVER=nginx
else
# No nginx: the built-in sample service, one thread (it makes products up,
# so every request is a 200 whichever way the product is drawn).
taskset -c 1 $BIN target --port "$PORT" --threads 1 -q &
SERVER_PID=$!
SERVER="loadline target"
fi
trap 'kill "$SERVER_PID" 2>/dev/null || true' EXIT
sleep 0.5
echo "server: $SERVER on 127.0.0.1:$PORT" >&2

# One endpoint, so every request draws the product variable.
profile() {
  cat >"$WORK/$1.yaml" <<YAML
name: from-schema-$1
target: {base_url: "http://127.0.0.1:$PORT", connections: $CONNS, timeout: 5s}
seed: 42
duration: ${DUR}s
load: {model: closed, users: $CONNS}
tenants: {count: 5000, skew: {zipf: 1.1}, id: "t-{index:05}", send_as: {header: X-Tenant-ID}}
endpoints:
  - {name: get_product, weight: 1, path: "/t/{{tenant}}/products/{{product}}", vars: {product: $2}}
YAML
}
profile plain '{uniform: [1, 20000]}'
profile id "{from_schema: {schema: \"$SCHEMA\", table: products, column: id, pick: \"zipf:0.9\"}}"
profile sku "{from_schema: {schema: \"$SCHEMA\", table: products, column: sku, pick: \"zipf:0.9\"}}"

cpu_of() { awk '{ s += $1 + $2 } END { printf "%.2f", s }' "$1"; }
requests() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["totals"]["requests"])' "$1"; }
per_cpu() {
  rm -rf "$WORK/out-$1"
  /usr/bin/time -f "%U %S" -o "$WORK/t-$1" taskset -c 0 $BIN run "$WORK/$1.yaml" --workers 1 --out "$WORK/out-$1" -q
  awk -v a="$(requests "$WORK/out-$1/summary.json")" -v b="$(cpu_of "$WORK/t-$1")" 'BEGIN { printf "%.0f", a / b }'
}

id_ratios=()
sku_ratios=()
for i in $(seq "$PAIRS"); do
  plain=$(per_cpu plain)
  id=$(per_cpu id)
  sku=$(per_cpu sku)
  ri=$(awk -v a="$id" -v b="$plain" 'BEGIN { printf "%.3f", a / b }')
  rs=$(awk -v a="$sku" -v b="$plain" 'BEGIN { printf "%.3f", a / b }')
  id_ratios+=("$ri")
  sku_ratios+=("$rs")
  echo "RESULT from-schema pair=$i plain_req_per_cpu_s=$plain id_req_per_cpu_s=$id sku_req_per_cpu_s=$sku id_ratio=$ri sku_ratio=$rs"
done
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { printf "%s range=%s-%s", v[int((NR + 1) / 2)], v[1], v[NR] }'; }
echo "RESULT from-schema id median_ratio=$(median "${id_ratios[@]}") pairs=$PAIRS"
echo "RESULT from-schema sku median_ratio=$(median "${sku_ratios[@]}") pairs=$PAIRS"
