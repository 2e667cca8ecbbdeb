#!/usr/bin/env bash
# peers.sh -- baseline ("anchor") measurements of existing tools on this machine.
#
# The new project (HTTP load generator + test-data synthesizer/scrubber + DB
# seeder) is later measured side by side with the SAME script: set CAND_BIN to
# its binary and fill in the cand_* functions in the "tool under test" section
# (each is a small adapter: build a command line, parse its output). Every
# measurement prints exactly one line starting with "RESULT" (also appended to
# $RESULTS), key=value fields, so runs can be diffed / pasted into tables.
#
# Usage:  bash peers.sh [install|http|h2|rate|co|datagen|seed|csv|soak|versions|all]...
#         (default: all).  Everything is sent to 127.0.0.1 only; every load run
#         is bounded (DUR seconds, default 10, never more than 15).
#
# Layout on a 2-core box: load generators pinned to CPU $GEN_CPU (0), the
# target server (nginx, postgres) pinned to CPU $SRV_CPU (1). CPU seconds and
# peak RSS come from /usr/bin/time -v; wall time from date +%s%N.
#
# Only processes this script starts are signalled, always by PID.
set -uo pipefail

# ----------------------------------------------------------------- settings --
WORK=${PEERS_WORK:-/tmp/peers-bench}          # scratch dir (not in any repo)
PORT=${PEERS_PORT:-18080}                     # nginx listen port (127.0.0.1)
H2PORT=${PEERS_H2PORT:-18082}                 # nginx h2c (prior knowledge) port
PGPORT=${PEERS_PGPORT:-54329}                 # postgres listen port (127.0.0.1)
URL="http://127.0.0.1:$PORT/"
H2URL="http://127.0.0.1:$H2PORT/"
GEN_CPU=${GEN_CPU:-0}                         # core for the load generator
SRV_CPU=${SRV_CPU:-1}                         # core for the server under load
DATA_CPU=${DATA_CPU:-0}                       # core for data gen / csv copy
DUR=${DUR:-10}                                # seconds per load run (<= 15)
CONNS=${CONNS:-64}                            # connections, max-rate runs
RATE_CONNS=${RATE_CONNS:-50}                  # connections, fixed-rate runs
RATES=${RATES:-"5000 20000"}                  # fixed-rate targets (req/s)
CO_RATE=${CO_RATE:-2000}                      # coordinated-omission run rate
CO_STOP_AT=${CO_STOP_AT:-4}                   # freeze nginx worker at t= (s)
CO_STOP_FOR=${CO_STOP_FOR:-1}                 # ... for this many seconds
REPEAT=${REPEAT:-2}                           # runs per max-rate measurement
ROWS=${ROWS:-1000000}                         # rows for data gen / seeding
RESULTS=${PEERS_RESULTS:-$WORK/results.txt}   # RESULT lines are appended here
CAND_BIN=${CAND_BIN:-}                        # the new project's binary

(( DUR <= 15 )) || { echo "DUR must be <= 15" >&2; exit 2; }

# Tool lists per measurement. The candidate is appended when CAND_BIN is set.
HTTP_TOOLS=${HTTP_TOOLS:-"wrk oha hey h2load"}
H2_TOOLS=${H2_TOOLS:-"h2load"}
H2_SHAPES=${H2_SHAPES:-"16x4 64x1"}                # HTTP/2 runs: connections x streams
RATE_TOOLS=${RATE_TOOLS:-"oha oha_lc h2load hey"}
CO_TOOLS=${CO_TOOLS:-"wrk oha oha_lc h2load hey"}
GEN_TOOLS=${GEN_TOOLS:-"faker fake_rs synth"}
CSV_TOOLS=${CSV_TOOLS:-"csv_rs"}
SEED_TOOLS=${SEED_TOOLS:-"psql_copy"}
if [[ -n $CAND_BIN ]]; then
  HTTP_TOOLS+=" cand"; RATE_TOOLS+=" cand"; CO_TOOLS+=" cand"; H2_TOOLS+=" cand"
fi

mkdir -p "$WORK"/{logs,data}
export PATH="$HOME/.cargo/bin:$PATH"

# ------------------------------------------------------------------ helpers --
log()  { echo "[$(date +%T)] $*" >&2; }
now_ns() { date +%s%N; }
result() { echo "RESULT $*"; echo "RESULT $*" >> "$RESULTS"; }
fdiv() { awk -v a="$1" -v b="$2" -v f="${3:-%.1f}" 'BEGIN{ if (b+0==0) print "n/a"; else printf f"\n", a/b }'; }
kv() { # kv KEY "k=v k=v ..." -> value (or n/a)
  local k=$1; shift
  tr ' ' '\n' <<<"$*" | awk -F= -v k="$k" '$1==k{print $2; f=1} END{if(!f) print "n/a"}' | head -1
}

# run_timed CPUS OUT ERR cmd... : run cmd pinned to CPUS under /usr/bin/time -v.
# ERR may be "-" to send stderr to OUT. Time stats go to OUT.time, or to
# $RUN_TIMED_TF when set (needed when OUT is /dev/null). Sets T_WALL (s, from date), T_USER,
# T_SYS, T_CPU (user+sys s), T_RSS_MB (peak RSS), T_RC.
run_timed() {
  local cpus=$1 out=$2 err=$3; shift 3
  local tf="${RUN_TIMED_TF:-$out.time}" t0 t1
  t0=$(now_ns)
  if [[ $err == - ]]; then
    taskset -c "$cpus" /usr/bin/time -v -o "$tf" "$@" >"$out" 2>&1
  else
    taskset -c "$cpus" /usr/bin/time -v -o "$tf" "$@" >"$out" 2>"$err"
  fi
  T_RC=$?
  t1=$(now_ns)
  T_WALL=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f", (b-a)/1e9}')
  T_USER=$(awk -F': ' '/User time \(seconds\)/{print $2}' "$tf")
  T_SYS=$(awk -F': ' '/System time \(seconds\)/{print $2}' "$tf")
  T_CPU=$(awk -v u="$T_USER" -v s="$T_SYS" 'BEGIN{printf "%.2f", u+s}')
  T_RSS_MB=$(awk -F': ' '/Maximum resident set size/{printf "%.1f", $2/1024}' "$tf")
}

# to_ms VALUE-WITH-UNIT : "520.00us" / "1.2ms" / "0.5s" -> milliseconds
to_ms() {
  awk -v v="$1" 'BEGIN{
    if (v ~ /us$/) { sub(/us$/,"",v); printf "%.3f", v/1000 }
    else if (v ~ /ms$/) { sub(/ms$/,"",v); printf "%.3f", v }
    else if (v ~ /m$/) { sub(/m$/,"",v); printf "%.3f", v*60000 }
    else if (v ~ /s$/) { sub(/s$/,"",v); printf "%.3f", v*1000 }
    else print "n/a" }'
}

# proc_cpu_ticks PID : utime+stime of a process we started (from /proc)
proc_cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat" 2>/dev/null || echo 0; }

# ----------------------------------------------------------------- install ---
install_all() {
  local need=()
  for p in time:/usr/bin/time nginx:/usr/sbin/nginx wrk:/usr/bin/wrk hey:/usr/bin/hey \
           nghttp2-client:/usr/bin/h2load postgresql:/usr/bin/psql; do
    [[ -x ${p#*:} ]] || need+=("${p%%:*}")
  done
  if ((${#need[@]})); then
    log "apt-get install ${need[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  fi
  # Debian bookworm has no vegeta and no wrk2 packages; record that fact.
  for p in vegeta wrk2; do
    if [[ -z $(apt-cache policy "$p" 2>/dev/null) ]]; then log "note: no Debian package '$p'"; fi
  done
  command -v oha >/dev/null || { log "cargo install oha --locked (takes minutes)"; cargo install oha --locked >"$WORK/logs/oha-install.log" 2>&1; }
  # Python Faker in a private venv (not the system site-packages).
  if [[ ! -x $WORK/venv/bin/python ]] || ! "$WORK/venv/bin/python" -c 'import faker' 2>/dev/null; then
    log "pip install Faker (venv $WORK/venv)"
    python3 -m venv "$WORK/venv" && "$WORK/venv/bin/pip" install -q Faker
  fi
  build_rustbench
  install_synth
}

# synth (getsynth) is not on any package registry (the crates.io crate named
# "synth" is an unrelated audio library). It was measured once, from its public
# source, for peers-results.md; this script only runs it if it is already on PATH.
install_synth() { command -v synth >/dev/null || log "note: getsynth not installed; its datagen row is skipped"; }

# Rust scratch crate: fakegen (fake + csv) and csvcopy (csv ByteRecord copy).
build_rustbench() {
  local d="$WORK/rustbench"
  mkdir -p "$d/src/bin"
  cat >"$d/Cargo.toml" <<'EOF'
[package]
name = "peers-rustbench"
version = "0.1.0"
edition = "2021"
publish = false

[dependencies]
fake = { version = "5", features = ["chrono"] }
csv = "1"
chrono = "0.4"

[profile.release]
codegen-units = 1
lto = "thin"
EOF
  cat >"$d/src/bin/fakegen.rs" <<'EOF'
// Generate N "users" rows as CSV with the `fake` crate (single thread).
// usage: fakegen <rows> <out.csv>
use chrono::{TimeZone, Utc};
use fake::faker::address::en::{BuildingNumber, CityName, CountryName, StreetName};
use fake::faker::chrono::en::DateTimeBetween;
use fake::faker::internet::en::SafeEmail;
use fake::faker::name::en::{FirstName, LastName};
use fake::faker::phone_number::en::PhoneNumber;
use fake::rand::rngs::StdRng;
use fake::rand::SeedableRng;
use fake::Fake;
use std::fmt::Write as _;
use std::io::BufWriter;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let rows: u64 = args.get(1).map(|s| s.parse().unwrap()).unwrap_or(1_000_000);
    let out = args.get(2).map(String::as_str).unwrap_or("users.csv");
    let f = std::fs::File::create(out).expect("create output");
    let mut w = csv::Writer::from_writer(BufWriter::with_capacity(1 << 20, f));
    let rng = &mut StdRng::seed_from_u64(42);
    let start = Utc.with_ymd_and_hms(2020, 1, 1, 0, 0, 0).unwrap();
    let end = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap();
    w.write_record(["id", "first_name", "last_name", "email", "phone",
                    "street_address", "city", "country", "created_at"]).unwrap();
    let mut id = String::with_capacity(20);
    let mut addr = String::with_capacity(64);
    for i in 1..=rows {
        let first: String = FirstName().fake_with_rng(rng);
        let last: String = LastName().fake_with_rng(rng);
        let email: String = SafeEmail().fake_with_rng(rng);
        let phone: String = PhoneNumber().fake_with_rng(rng);
        let bno: String = BuildingNumber().fake_with_rng(rng);
        let street: String = StreetName().fake_with_rng(rng);
        addr.clear();
        write!(addr, "{bno} {street}").unwrap();
        let city: String = CityName().fake_with_rng(rng);
        let country: String = CountryName().fake_with_rng(rng);
        let ts: chrono::DateTime<Utc> = DateTimeBetween(start, end).fake_with_rng(rng);
        let ts = ts.format("%Y-%m-%d %H:%M:%S").to_string();
        id.clear();
        write!(id, "{i}").unwrap();
        w.write_record([id.as_str(), &first, &last, &email, &phone, &addr, &city, &country, &ts]).unwrap();
    }
    w.flush().unwrap();
}
EOF
  cat >"$d/src/bin/csvcopy.rs" <<'EOF'
// CSV pass-through: read every record as a ByteRecord and write it back out.
// usage: csvcopy <in.csv> <out.csv>
use std::io::{BufReader, BufWriter};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let inp = std::fs::File::open(&args[1]).expect("open input");
    let out = std::fs::File::create(&args[2]).expect("create output");
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(BufReader::with_capacity(1 << 20, inp));
    let mut w = csv::Writer::from_writer(BufWriter::with_capacity(1 << 20, out));
    let mut rec = csv::ByteRecord::new();
    let mut n: u64 = 0;
    while r.read_byte_record(&mut rec).expect("read") {
        w.write_byte_record(&rec).expect("write");
        n += 1;
    }
    w.flush().unwrap();
    eprintln!("records={n}");
}
EOF
  cat >"$WORK/faker_users.py" <<'EOF'
# Generate N "users" rows as CSV with Python Faker (single process).
# usage: python faker_users.py <rows> <out.csv>
import csv, sys, datetime
from faker import Faker

rows = int(sys.argv[1]); out = sys.argv[2]
fake = Faker("en_US"); Faker.seed(42)
start = datetime.datetime(2020, 1, 1); end = datetime.datetime(2025, 1, 1)
with open(out, "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["id", "first_name", "last_name", "email", "phone",
                "street_address", "city", "country", "created_at"])
    for i in range(1, rows + 1):
        w.writerow([i, fake.first_name(), fake.last_name(), fake.email(),
                    fake.phone_number(), fake.street_address(), fake.city(),
                    fake.country(),
                    fake.date_time_between(start, end).strftime("%Y-%m-%d %H:%M:%S")])
EOF
  log "cargo build --release (rustbench)"
  (cd "$d" && cargo build --release -q) || { log "rustbench build failed"; return 1; }
}

versions() {
  echo "nginx:     $(nginx -v 2>&1 | sed 's/.*: //')"
  echo "wrk:       $(dpkg-query -W -f='${Version}' wrk 2>/dev/null) ($(wrk -v 2>&1 | head -1))"
  echo "oha:       $(oha --version 2>/dev/null)"
  echo "hey:       $(dpkg-query -W -f='${Version}' hey 2>/dev/null) (Debian package)"
  echo "h2load:    $(h2load --version 2>/dev/null)"
  echo "postgres:  $("$PGBIN/postgres" --version 2>/dev/null)"
  echo "psql:      $(psql --version)"
  echo "Faker:     $("$WORK/venv/bin/python" -c 'import faker,sys; print(faker.VERSION, "python", sys.version.split()[0])' 2>/dev/null)"
  echo "fake/csv:  $(cd "$WORK/rustbench" 2>/dev/null && cargo tree -q --depth 1 2>/dev/null | grep -E ' (fake|csv|chrono) v' | sed 's/^[^a-z]*//' | paste -sd' ')"
  echo "rustc:     $(rustc --version)"
  echo "synth:     $(command -v synth >/dev/null && synth version 2>/dev/null | head -1 || echo 'not installed') (getsynth, built from source, see notes)"
  echo "GNU time:  $(dpkg-query -W -f='${Version}' time 2>/dev/null)"
  echo "kernel:    $(uname -r); cpus: $(nproc); $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')"
}

# ------------------------------------------------------------------- nginx ---
NGINX_PID=""; NGINX_WORKER=""
nginx_start() {
  local d="$WORK/nginx"
  mkdir -p "$d/logs"
  cat >"$d/nginx.conf" <<EOF
worker_processes 1;
pid $d/nginx.pid;
error_log $d/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_timeout 65;
  keepalive_requests 100000000;   # never force-close a keep-alive connection
  client_body_temp_path $d/tmp_body;
  proxy_temp_path $d/tmp_proxy;
  fastcgi_temp_path $d/tmp_fcgi;
  uwsgi_temp_path $d/tmp_uwsgi;
  scgi_temp_path $d/tmp_scgi;
  server {
    listen 127.0.0.1:$PORT backlog=4096;
    location / { default_type text/plain; return 200 "hello\n"; }
  }
  server {
    # HTTP/2 cleartext with prior knowledge (h2c), as h2load and loadline speak it
    listen 127.0.0.1:$H2PORT http2 backlog=4096;
    location / { default_type text/plain; return 200 "hello\n"; }
  }
}
EOF
  taskset -c "$SRV_CPU" nginx -e "$d/logs/error.log" -p "$d" -c "$d/nginx.conf" -g 'daemon off;' &
  NGINX_PID=$!
  for _ in $(seq 50); do
    (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.1
  done
  NGINX_WORKER=$(ps -o pid= --ppid "$NGINX_PID" | head -1 | tr -d ' ')
  [[ -n $NGINX_WORKER ]] || { log "nginx did not start"; return 1; }
  log "nginx master=$NGINX_PID worker=$NGINX_WORKER on CPU $SRV_CPU, $URL"
}
nginx_stop() {
  [[ -n $NGINX_PID ]] || return 0
  kill -CONT "$NGINX_WORKER" 2>/dev/null; kill -QUIT "$NGINX_PID" 2>/dev/null
  wait "$NGINX_PID" 2>/dev/null; NGINX_PID=""; NGINX_WORKER=""
}

PG_STARTED=""
cleanup() { nginx_stop; pg_stop; }
trap cleanup EXIT

# ======================================================= HTTP tool adapters ==
# For each tool X:
#   X_max  URL CONNS DUR   -> sets CMD=(...) for a max-rate closed-loop run
#   X_rate URL RATE DUR    -> sets CMD=(...) for a fixed-rate run (if any)
#   X_parse LOGFILE        -> prints "reqs= rps= p50_ms= p90_ms= p99_ms= max_ms= mean_ms="
# CMD is run pinned to $GEN_CPU under /usr/bin/time -v, stdout+stderr to LOGFILE.

# wrk 4.1 (closed model only; Debian has no wrk2). One thread: one core.
wrk_max()  { CMD=(wrk -t1 -c"$2" -d"${3}s" --latency "$1"); }
wrk_parse() {
  local f=$1 l
  l=$(awk '/^ *Latency /{print $2, $4; exit}' "$f")           # avg max
  echo "reqs=$(awk '/requests in/{print $1}' "$f")" \
       "rps=$(awk '/^Requests\/sec/{print $2}' "$f")" \
       "p50_ms=$(to_ms "$(awk '$1=="50%"{print $2}' "$f")")" \
       "p90_ms=$(to_ms "$(awk '$1=="90%"{print $2}' "$f")")" \
       "p99_ms=$(to_ms "$(awk '$1=="99%"{print $2}' "$f")")" \
       "mean_ms=$(to_ms "${l% *}")" "max_ms=$(to_ms "${l#* }")"
}

# oha (Rust, tokio). One runtime worker thread to match one pinned core (its
# default is the number of physical cores, which ignores taskset).
# -q is a global rate; --latency-correction measures from the scheduled send time.
OHA_COMMON=(--no-tui --output-format json --worker-threads "${OHA_WORKERS:-1}")
oha_max()     { CMD=(oha "${OHA_COMMON[@]}" -c "$2" -z "${3}s" "$1"); }
oha_rate()    { CMD=(oha "${OHA_COMMON[@]}" -c "$RATE_CONNS" -q "$2" -z "${3}s" "$1"); }
oha_lc_rate() { CMD=(oha "${OHA_COMMON[@]}" -c "$RATE_CONNS" -q "$2" -z "${3}s" --latency-correction "$1"); }
oha_parse() {
  python3 - "$1" <<'EOF'
import json, sys
t = open(sys.argv[1]).read(); d = json.loads(t[t.index("{"):])
p = d["latencyPercentiles"]; s = d["summary"]
ms = lambda v: "n/a" if v is None else "%.3f" % (v * 1000)
ok = sum(d["statusCodeDistribution"].values())
print("reqs=%d rps=%.1f p50_ms=%s p90_ms=%s p99_ms=%s max_ms=%s mean_ms=%s errors=%d" % (
    ok, s["requestsPerSec"], ms(p.get("p50")), ms(p.get("p90")), ms(p.get("p99")),
    ms(s["slowest"]), ms(s["average"]), sum(d["errorDistribution"].values())))
EOF
}
oha_lc_parse() { oha_parse "$@"; }

# hey (Go). -q is a per-worker rate, so RATE is split across RATE_CONNS workers.
hey_max()  { CMD=(hey -c "$2" -z "${3}s" "$1"); }
hey_rate() { CMD=(hey -c "$RATE_CONNS" -q "$(( $2 / RATE_CONNS ))" -z "${3}s" "$1"); }
hey_parse() {
  local f=$1
  echo "reqs=$(awk '/^ *\[200\]/{print $2}' "$f")" \
       "rps=$(awk '/Requests\/sec:/{print $2}' "$f")" \
       "p50_ms=$(awk '$1=="50%"{printf "%.3f", $3*1000}' "$f")" \
       "p90_ms=$(awk '$1=="90%"{printf "%.3f", $3*1000}' "$f")" \
       "p99_ms=$(awk '$1=="99%"{printf "%.3f", $3*1000}' "$f")" \
       "max_ms=$(awk '/Slowest:/{printf "%.3f", $2*1000}' "$f")" \
       "mean_ms=$(awk '/Average:/{printf "%.3f", $2*1000}' "$f")"
}

# h2load (nghttp2) in HTTP/1.1 mode. It prints min/max/mean/sd only (no
# percentiles); for fixed-rate runs we also ask for its per-request log and
# compute percentiles from that (marked pct_from=log). --rps is per client.
h2load_max()  { CMD=(h2load --h1 -t1 -c "$2" -D "$3" "$1"); }
h2load_rate() { CMD=(h2load --h1 -t1 -c "$RATE_CONNS" --rps "$(( $2 / RATE_CONNS ))" -D "$3"
                     --log-file "$WORK/logs/h2load-req.log" "$1"); }
h2load_h2()    { CMD=(h2load -t1 -c "$2" -m "$3" -D "$4" "$1"); }
h2load_parse() {
  local f=$1 pct="p50_ms=n/a p90_ms=n/a p99_ms=n/a"
  if grep -q -- '--log-file' "$f.cmd" 2>/dev/null && [[ -s $WORK/logs/h2load-req.log ]]; then
    # log columns: start(us) status duration(us)
    pct=$(awk '{print $3}' "$WORK/logs/h2load-req.log" | sort -n | awk '{a[NR]=$1}
      END{ printf "p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f pct_from=log",
             a[int(NR*.50)]/1000, a[int(NR*.90)]/1000, a[int(NR*.99)]/1000 }')
  fi
  local line; line=$(awk '/^time for request:/{print $5, $6; exit}' "$f")   # max mean
  echo "reqs=$(awk '/^requests:/{print $8}' "$f")" \
       "rps=$(awk '/^finished in/{print $4}' "$f")" $pct \
       "max_ms=$(to_ms "${line% *}")" "mean_ms=$(to_ms "${line#* }")"
}

# ---- tool under test: loadline. -------------------------------------------
# loadline replays a profile, so each adapter writes one. The max-rate profile
# is the closed model (CONNS users, no think time) with the shop's endpoint
# mix: path and body templating, Zipf tenant picks sent as a header, fake
# words and emails, and per-endpoint histograms, all switched on. nginx answers
# every path with "hello", so only the generator's work differs from wrk's.
cand_profile() { # cand_profile NAME URL LOAD-YAML CONNS DUR [MORE-TARGET-KEYS]
  cat >"$WORK/cand-$1.yaml" <<EOF
name: bench-$1
target: {base_url: "$2", connections: $4, timeout: 5s${6:+, $6}}
seed: 42
duration: ${5}s
load: $3
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
EOF
}
# The io_uring question (BENCHMARKS.md "HTTP/1.1 and io_uring"): one minimal
# keep-alive client (a fixed GET /, no histograms) on tokio's epoll reactor and
# on tokio-uring. Build: cargo build --release -p loadline-baselines --bin h1_ring
RING_BIN=${RING_BIN:-$(dirname "$CAND_BIN")/h1_ring}
ring_max() { CMD=("$RING_BIN" --io "$1" --addr "127.0.0.1:$PORT" --conns "$2" --secs "$3"); }
ring_parse() { local r; r=$(sed -n 's/^requests=//p' "$1"); echo "reqs=${r:-n/a} rps=$(fdiv "${r:-0}" "$DUR" %.1f)"; }
ringepoll_max() { ring_max epoll "$2" "$3"; }
ringuring_max() { ring_max uring "$2" "$3"; }
ringepoll_parse() { ring_parse "$1"; }
ringuring_parse() { ring_parse "$1"; }
CAND_OUT="$WORK/cand-out"
cand_max()  { cand_profile max "$1" "{model: closed, users: $2}" "$2" "$3"
              rm -rf "$CAND_OUT"; CMD=("$CAND_BIN" run "$WORK/cand-max.yaml" --quiet --out "$CAND_OUT"); }
cand_rate() { cand_profile rate "$1" "{model: open, rate: $2/s, arrivals: poisson}" "$RATE_CONNS" "$3"
              rm -rf "$CAND_OUT"; CMD=("$CAND_BIN" run "$WORK/cand-rate.yaml" --quiet --out "$CAND_OUT"); }
# HTTP/2: CONNS connections with STREAMS users each (the closed model puts
# `streams` users on one connection), no think time.
cand_h2()   { cand_profile h2 "$1" "{model: closed, users: $(( $2 * $3 ))}" "$2" "$4" "http: http2, streams: $3"
              rm -rf "$CAND_OUT"; CMD=("$CAND_BIN" run "$WORK/cand-h2.yaml" --quiet --out "$CAND_OUT"); }
cand_parse() {
  python3 - "$CAND_OUT/summary.json" <<'EOF'
import json, sys
try:
    d = json.load(open(sys.argv[1]))
except OSError:
    print("reqs=n/a rps=n/a"); sys.exit()
l = d["totals"]["latency_us"]; ms = lambda v: "%.3f" % (v / 1000.0)
print("reqs=%d rps=%.1f p50_ms=%s p90_ms=%s p99_ms=%s max_ms=%s mean_ms=%s errors=%d lag_p99_ms=%s late=%d saturated=%s" % (
    d["totals"]["requests"], d["rate"]["achieved_per_s"], ms(l["p50"]), ms(l["p90"]), ms(l["p99"]),
    ms(l["max"]), ms(l["mean"]), d["totals"]["errors"], ms(d["schedule"]["lag_us"]["p99"]),
    d["schedule"]["late_requests"], str(d["schedule"]["generator_saturated"]).lower()))
EOF
}
# Data synthesis, scrubbing and seeding are later issues: no adapters yet.

# ================================================================ 1. HTTP max ==
measure_http_max() {
  nginx_start || return 1
  local tool run log ticks0 ticks1 hz p
  hz=$(getconf CLK_TCK)
  # Runs are interleaved (tool A, tool B, A, B, ...): on a noisy machine
  # neighbouring runs see the same conditions, so their ratio means something.
  for run in $(seq "$REPEAT"); do
    for tool in $HTTP_TOOLS; do
      "${tool}_max" "$URL" "$CONNS" "$DUR"
      log="$WORK/logs/http-$tool-$run.log"; echo "${CMD[*]}" >"$log.cmd"
      ticks0=$(proc_cpu_ticks "$NGINX_WORKER")
      run_timed "$GEN_CPU" "$log" - "${CMD[@]}"
      ticks1=$(proc_cpu_ticks "$NGINX_WORKER")
      p=$("${tool}_parse" "$log")
      result "http-max tool=$tool run=$run conns=$CONNS dur=${DUR}s rps=$(kv rps "$p")" \
             "gen_cpu_s=$T_CPU req_per_cpu_s=$(fdiv "$(kv reqs "$p")" "$T_CPU" %.0f)" \
             "gen_rss_mb=$T_RSS_MB p50_ms=$(kv p50_ms "$p") p99_ms=$(kv p99_ms "$p")" \
             "mean_ms=$(kv mean_ms "$p") reqs=$(kv reqs "$p")" \
             "nginx_cpu_pct=$(fdiv "$(( (ticks1 - ticks0) * 100 ))" "$(awk -v w="$T_WALL" -v h="$hz" 'BEGIN{print w*h}')" %.0f) rc=$T_RC"
      sleep 1
    done
  done
  nginx_stop
}

# ===================================================== 1b. HTTP/2 cleartext ==
# Closed loop, no rate limit: per shape CxS, C connections with S concurrent
# streams each (h2load -c C -m S; loadline C*S users, S per connection).
measure_h2() {
  nginx_start || return 1
  local tool run log shape c s p
  for run in $(seq "$REPEAT"); do
    for shape in $H2_SHAPES; do
      c=${shape%x*}; s=${shape#*x}
      for tool in $H2_TOOLS; do
        "${tool}_h2" "$H2URL" "$c" "$s" "$DUR"
        log="$WORK/logs/h2-$tool-$shape-$run.log"; echo "${CMD[*]}" >"$log.cmd"
        run_timed "$GEN_CPU" "$log" - "${CMD[@]}"
        p=$("${tool}_parse" "$log")
        result "h2 tool=$tool run=$run shape=$shape dur=${DUR}s rps=$(kv rps "$p")" \
               "gen_cpu_s=$T_CPU req_per_cpu_s=$(fdiv "$(kv reqs "$p")" "$T_CPU" %.0f)" \
               "gen_rss_mb=$T_RSS_MB mean_ms=$(kv mean_ms "$p") reqs=$(kv reqs "$p") errors=$(kv errors "$p") rc=$T_RC"
        sleep 1
      done
    done
  done
  nginx_stop
}

# ============================================================ 2. fixed rate ==
measure_rate() {
  nginx_start || return 1
  local tool rate log p
  log "no Debian wrk2 or vegeta package: fixed-rate tools = $RATE_TOOLS"
  for rate in $RATES; do
    for tool in $RATE_TOOLS; do
      "${tool}_rate" "$URL" "$rate" "$DUR"
      log="$WORK/logs/rate-$tool-$rate.log"; echo "${CMD[*]}" >"$log.cmd"
      rm -f "$WORK/logs/h2load-req.log"
      run_timed "$GEN_CPU" "$log" - "${CMD[@]}"
      p=$("${tool}_parse" "$log")
      result "rate tool=$tool target=$rate achieved_rps=$(kv rps "$p") reqs=$(kv reqs "$p")" \
             "p50_ms=$(kv p50_ms "$p") p90_ms=$(kv p90_ms "$p") p99_ms=$(kv p99_ms "$p")" \
             "max_ms=$(kv max_ms "$p") gen_cpu_s=$T_CPU rc=$T_RC"
      sleep 1
    done
  done
  nginx_stop
}

# ================================================= 3. coordinated omission ==
# Fixed rate CO_RATE for DUR s; at t=CO_STOP_AT the nginx worker is frozen
# (SIGSTOP) for CO_STOP_FOR s. Ground truth at 2000 req/s, 10 s, 1 s stall:
# ~10% of intended requests are delayed 0..1000 ms => p99 ~900 ms,
# p90 ~0-100 ms, max ~1000 ms. wrk has no rate mode: closed loop, -c CONNS.
measure_co() {
  nginx_start || return 1
  local tool log p gpid
  for tool in $CO_TOOLS; do
    if [[ $tool == wrk ]]; then wrk_max "$URL" "$CONNS" "$DUR"; else "${tool}_rate" "$URL" "$CO_RATE" "$DUR"; fi
    log="$WORK/logs/co-$tool.log"; echo "${CMD[*]}" >"$log.cmd"
    rm -f "$WORK/logs/h2load-req.log"
    run_timed "$GEN_CPU" "$log" - "${CMD[@]}" &
    gpid=$!
    sleep "$CO_STOP_AT"
    kill -STOP "$NGINX_WORKER"; sleep "$CO_STOP_FOR"; kill -CONT "$NGINX_WORKER"
    wait "$gpid"
    p=$("${tool}_parse" "$log")
    result "co tool=$tool mode=$([[ $tool == wrk ]] && echo "closed-c$CONNS" || echo "rate-$CO_RATE")" \
           "reqs=$(kv reqs "$p") rps=$(kv rps "$p") p50_ms=$(kv p50_ms "$p") p90_ms=$(kv p90_ms "$p")" \
           "p99_ms=$(kv p99_ms "$p") max_ms=$(kv max_ms "$p") truth=p90~0-100,p99~900,max~1000"
    sleep 1
  done
  nginx_stop
}

# ========================================================== 4. data gen ==
faker_gen()   { CMD=("$WORK/venv/bin/python" "$WORK/faker_users.py" "$1" "$2"); }
fake_rs_gen() { CMD=("$WORK/rustbench/target/release/fakegen" "$1" "$2"); }
# synth writes CSV into a directory (one file per collection).
synth_gen() {
  local ns="$WORK/synth-ns"; mkdir -p "$ns"
  cat >"$ns/users.json" <<'EOF'
{
  "type": "array",
  "length": { "type": "number", "constant": 1 },
  "content": {
    "type": "object",
    "id": { "type": "number", "id": { "start_at": 1 } },
    "first_name": { "type": "string", "faker": { "generator": "first_name" } },
    "last_name": { "type": "string", "faker": { "generator": "last_name" } },
    "email": { "type": "string", "faker": { "generator": "safe_email" } },
    "phone": { "type": "string", "faker": { "generator": "phone_number" } },
    "street_address": { "type": "string", "format": {
        "format": "{no} {street}",
        "arguments": {
          "no": { "type": "string", "faker": { "generator": "building_number" } },
          "street": { "type": "string", "faker": { "generator": "street_name" } } } } },
    "city": { "type": "string", "faker": { "generator": "city_name" } },
    "country": { "type": "string", "faker": { "generator": "country_name" } },
    "created_at": { "type": "date_time", "format": "%Y-%m-%d %H:%M:%S",
                    "subtype": "naive_date_time",
                    "begin": "2020-01-01 00:00:00", "end": "2025-01-01 00:00:00" }
  }
}
EOF
  rm -rf "$2.d"
  CMD=(synth generate "$ns" --collection users --size "$1" --seed 42 --to "csv:$2.d")
}
synth_post() { local f; f=$(ls "$1.d"/*.csv 2>/dev/null | head -1); [[ -n $f ]] && mv "$f" "$1"; }

measure_datagen() {
  local tool out log size rows
  for tool in $GEN_TOOLS; do
    if [[ $tool == synth ]] && ! command -v synth >/dev/null; then
      result "datagen tool=synth status=not-installed (crates.io 'synth' is an audio library; see notes)"; continue
    fi
    out="$WORK/data/users_$tool.csv"; rm -f "$out"
    "${tool}_gen" "$ROWS" "$out"
    log="$WORK/logs/gen-$tool.log"; echo "${CMD[*]}" >"$log.cmd"
    log "datagen $tool: ${CMD[*]}"
    run_timed "$DATA_CPU" "$log" - "${CMD[@]}"
    declare -F "${tool}_post" >/dev/null && "${tool}_post" "$out"
    size=$(stat -c %s "$out" 2>/dev/null || echo 0)
    rows=$(( $(wc -l <"$out" 2>/dev/null || echo 1) - 1 ))
    result "datagen tool=$tool rows=$rows secs=$T_WALL rows_per_s=$(fdiv "$rows" "$T_WALL" %.0f)" \
           "MB_per_s=$(fdiv "$(fdiv "$size" 1000000 %.3f)" "$T_WALL")" \
           "file_MB=$(fdiv "$size" 1000000)" "cpu_s=$T_CPU rss_mb=$T_RSS_MB rc=$T_RC"
  done
}

# =========================================================== 5. seeding ==
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
PGDATA_DIR="$WORK/pgdata"
pg_start() {
  if [[ ! -f $PGDATA_DIR/PG_VERSION ]]; then
    mkdir -p "$PGDATA_DIR"; chown postgres:postgres "$PGDATA_DIR"
    runuser -u postgres -- "$PGBIN/initdb" -D "$PGDATA_DIR" -A trust -U postgres >"$WORK/logs/initdb.log" 2>&1
  fi
  mkdir -p "$WORK/pglog"; chown postgres:postgres "$WORK/pglog"
  # defaults (fsync on, shared_buffers 128MB) except: TCP on 127.0.0.1 only.
  taskset -c "$SRV_CPU" runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGDATA_DIR" -w \
      -l "$WORK/pglog/postgres.log" \
      -o "-c listen_addresses=127.0.0.1 -p $PGPORT -c unix_socket_directories=''" start >/dev/null
  PG_STARTED=1
}
pg_stop() {
  [[ -n $PG_STARTED ]] || return 0
  runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGDATA_DIR" -m fast -w stop >/dev/null; PG_STARTED=""
}
export PGOPTIONS="-c client_min_messages=warning"
PSQL=(psql -X -q -h 127.0.0.1 -p "$PGPORT" -U postgres -d postgres -v ON_ERROR_STOP=1)

# Seeder adapters: X_seed CSV sets CMD; the table is (re)created by the script.
psql_copy_seed() { CMD=("${PSQL[@]}" -c "\\copy users FROM '$1' CSV HEADER"); }

measure_seed() {
  local csv=${SEED_CSV:-$WORK/data/users_fake_rs.csv} size rows variant ddl run tool n
  [[ -s $csv ]] || { log "no $csv; run datagen first"; return 1; }
  size=$(stat -c %s "$csv"); rows=$(( $(wc -l <"$csv") - 1 ))
  pg_start || return 1
  local cols="id bigint, first_name text, last_name text, email text, phone text,
              street_address text, city text, country text, created_at timestamp"
  for tool in $SEED_TOOLS; do
    for variant in logged_pk logged_nopk unlogged_nopk; do
      case $variant in
        logged_pk)     ddl="CREATE TABLE users ($cols, PRIMARY KEY (id))" ;;
        logged_nopk)   ddl="CREATE TABLE users ($cols)" ;;
        unlogged_nopk) ddl="CREATE UNLOGGED TABLE users ($cols)" ;;
      esac
      for run in $(seq "$REPEAT"); do
        "${PSQL[@]}" -c "DROP TABLE IF EXISTS users" -c "$ddl" -c "CHECKPOINT" >/dev/null
        "${tool}_seed" "$csv"
        run_timed "$GEN_CPU" "$WORK/logs/seed-$tool-$variant-$run.log" - "${CMD[@]}"
        n=$("${PSQL[@]}" -At -c "SELECT count(*) FROM users")
        result "seed tool=$tool variant=$variant run=$run rows=$n secs=$T_WALL" \
               "rows_per_s=$(fdiv "$rows" "$T_WALL" %.0f) MB_per_s=$(fdiv "$(fdiv "$size" 1000000 %.3f)" "$T_WALL")" \
               "client_cpu_s=$T_CPU client_rss_mb=$T_RSS_MB rc=$T_RC"
      done
    done
  done
  "${PSQL[@]}" -c "DROP TABLE IF EXISTS users" >/dev/null
  pg_stop
}

# ============================================== 6. CSV pass-through ceiling ==
csv_rs_csvcopy() { CMD=("$WORK/rustbench/target/release/csvcopy" "$1" "$2"); }
measure_csv() {
  local in=${CSV_IN:-$WORK/data/users_fake_rs.csv} size tool dst i
  [[ -s $in ]] || { log "no $in; run datagen first"; return 1; }
  size=$(stat -c %s "$in")
  cat "$in" >/dev/null   # warm the page cache
  # One cat of the file takes ~20 ms, about the size of the process start-up
  # noise, so cat reads it CAT_REPEAT times in one process.
  local reps=${CAT_REPEAT:-10} files=() total
  for ((i = 0; i < reps; i++)); do files+=("$in"); done
  total=$(( size * reps ))
  for i in 1 2 3; do
    RUN_TIMED_TF="$WORK/logs/cat.time" run_timed "$DATA_CPU" /dev/null - cat "${files[@]}"  # stdout -> /dev/null
    result "csv tool=cat run=$i MB=$(fdiv "$total" 1000000) reps=$reps secs=$T_WALL" \
           "MB_per_s=$(fdiv "$(fdiv "$total" 1000000 %.3f)" "$T_WALL")"
  done
  for tool in $CSV_TOOLS; do
    for dst in file devnull; do
      for i in 1 2; do
        local out="$WORK/data/copy_$tool.csv"; [[ $dst == devnull ]] && out=/dev/null
        rm -f "$WORK/data/copy_$tool.csv"
        "${tool}_csvcopy" "$in" "$out"
        run_timed "$DATA_CPU" "$WORK/logs/csv-$tool.log" - "${CMD[@]}"
        local same=""; [[ $dst == file ]] && { cmp -s "$in" "$out" && same=identical || same=differs; }
        result "csv tool=$tool dst=$dst run=$i MB=$(fdiv "$size" 1000000) secs=$T_WALL" \
               "MB_per_s=$(fdiv "$(fdiv "$size" 1000000 %.3f)" "$T_WALL") cpu_s=$T_CPU rss_mb=$T_RSS_MB $same rc=$T_RC"
      done
    done
  done
  rm -f "$WORK/data/copy_"*.csv
}

# ============================================= 7. generator memory soak ==
# SOAK_DUR seconds (default 600, at most 900) at SOAK_RATE/s (wrk: closed
# loop, CONNS connections) against nginx; the generator's RSS is sampled every
# SOAK_EVERY seconds from /proc. Prints the RSS after the first sample, at the
# end, and the growth in between.
SOAK_DUR=${SOAK_DUR:-600}
SOAK_RATE=${SOAK_RATE:-5000}
SOAK_EVERY=${SOAK_EVERY:-10}
SOAK_TOOLS=${SOAK_TOOLS:-"wrk oha"}
[[ -n $CAND_BIN ]] && SOAK_TOOLS+=" cand"
measure_soak() {
  (( SOAK_DUR <= 900 )) || { echo "SOAK_DUR must be <= 900" >&2; return 1; }
  nginx_start || return 1
  local tool pid samples first last peak rss t
  for tool in $SOAK_TOOLS; do
    case $tool in
      wrk)  CMD=(wrk -t1 -c"$CONNS" -d"${SOAK_DUR}s" "$URL") ;;
      oha)  CMD=(oha "${OHA_COMMON[@]}" -c "$RATE_CONNS" -q "$SOAK_RATE" -z "${SOAK_DUR}s" "$URL") ;;
      cand) cand_profile soak "$URL" "{model: open, rate: $SOAK_RATE/s, arrivals: poisson}" "$RATE_CONNS" "$SOAK_DUR"
            rm -rf "$CAND_OUT"; CMD=("$CAND_BIN" run "$WORK/cand-soak.yaml" --quiet --out "$CAND_OUT") ;;
    esac
    log "soak $tool for ${SOAK_DUR}s: ${CMD[*]}"
    taskset -c "$GEN_CPU" "${CMD[@]}" >"$WORK/logs/soak-$tool.log" 2>&1 &
    pid=$!
    samples=(); t=0
    while kill -0 "$pid" 2>/dev/null; do
      sleep "$SOAK_EVERY"; t=$((t + SOAK_EVERY))
      rss=$(awk '/^VmRSS:/{printf "%.1f", $2/1024}' "/proc/$pid/status" 2>/dev/null) || break
      [[ -n $rss ]] && samples+=("$t:$rss")
    done
    wait "$pid"
    first=${samples[0]#*:}; last=${samples[-1]#*:}
    peak=$(printf '%s\n' "${samples[@]#*:}" | sort -n | tail -1)
    result "soak tool=$tool dur=${SOAK_DUR}s rate=$([[ $tool == wrk ]] && echo "closed-c$CONNS" || echo "$SOAK_RATE")" \
           "rss_mb_first=$first rss_mb_end=$last rss_mb_peak=$peak growth_mb=$(awk -v a="$first" -v b="$last" 'BEGIN{printf "%.1f", b-a}')" \
           "samples=$(IFS=,; echo "${samples[*]}")"
    sleep 1
  done
  nginx_stop
}

# ------------------------------------------------------------------- main ---
[[ $# -gt 0 ]] || set -- all
for step in "$@"; do
  case $step in
    install)  install_all ;;
    versions) versions ;;
    http)     measure_http_max ;;
    h2)       measure_h2 ;;
    rate)     measure_rate ;;
    co)       measure_co ;;
    datagen)  measure_datagen ;;
    seed)     measure_seed ;;
    csv)      measure_csv ;;
    soak)     measure_soak ;;
    all)      install_all; versions; measure_http_max; measure_rate; measure_co
              measure_datagen; measure_seed; measure_csv ;;
    *) echo "unknown step: $step" >&2; exit 2 ;;
  esac
done
