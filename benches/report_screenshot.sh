#!/usr/bin/env bash
# The HTML report looked at in a real browser (docs/report.md, "Checked in
# a browser").
#
#   cargo build --release --bin loadline      # or BIN=target/debug/loadline
#   apt-get install chromium python3-pil      # Debian
#   bash benches/report_screenshot.sh                   # a fresh run, reported and checked
#   bash benches/report_screenshot.sh REPORT.html...    # check these reports instead
#
# Without arguments: start the sample service, run a profile of twelve
# endpoints with long names and long path templates for 12.4 s (2 s of
# warm-up: 10.4 s measured, so the last interval lasts 0.4 s) and a shorter
# baseline, then write three reports (the run alone, over its baseline, and
# with a gate verdict) into $WORK. Then benches/report_check.py screenshots
# each with headless chromium at 1280, 800 and 480 px wide and checks the
# screenshots and the page's layout: nothing may run off the right edge
# of the page (tables may scroll inside their own box). Exit 1 on a failure.
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=${WORK:-/tmp/report-shot}
PORT=${PORT:-18931}
WIDTHS=${WIDTHS:-1280,800,480}
BIN=${BIN:-target/release/loadline}
[ -x "$BIN" ] || BIN=target/debug/loadline
export CHROMIUM=${CHROMIUM:-chromium}

command -v "$CHROMIUM" >/dev/null || { echo "$CHROMIUM is not installed (Debian: apt-get install chromium)" >&2; exit 2; }
PY=
for p in python3 /usr/bin/python3; do
  if "$p" -c 'import PIL' 2>/dev/null; then PY=$p; break; fi
done
[ -n "$PY" ] || { echo "Pillow is not installed (Debian: apt-get install python3-pil)" >&2; exit 2; }

if [ $# -gt 0 ]; then
  exec "$PY" benches/report_check.py --widths "$WIDTHS" "$@"
fi

[ -x "$BIN" ] || { echo "no loadline binary: cargo build --release --bin loadline" >&2; exit 2; }
rm -rf "$WORK"
mkdir -p "$WORK"

profile() { # NAME DURATION SEED
  cat <<YAML
name: $1
description: twelve endpoints with long names and long path templates
target: {base_url: "http://127.0.0.1:$PORT", connections: 16, timeout: 2s}
seed: $3
duration: $2
warmup: 2s
load: {model: open, rate: 300/s, arrivals: poisson}
tenants: {count: 50, id: "tenant-{index:05}"}
endpoints:
YAML
  local i=0
  for n in tenant_scoped_catalogue_lookup_by_category_and_region \
    get_product_details_with_inventory_and_pricing_for_region \
    search_products_by_free_text_query_with_facets_and_sorting \
    create_order_with_line_items_and_shipping_address_validation \
    list_orders_for_customer_with_pagination_and_status_filter \
    update_customer_profile_preferences_and_notification_settings \
    cancel_pending_order_and_release_reserved_inventory_items \
    fetch_recommendations_for_customer_based_on_recent_history \
    add_item_to_shopping_cart_with_quantity_and_gift_options \
    apply_discount_coupon_to_cart_and_recalculate_totals_now \
    checkout.payment-authorisation_with_three_d_secure_flow_v2 \
    health; do
    i=$((i + 1))
    echo "  - {name: $n, weight: $i, path: \"/api/v2/tenants/{{tenant}}/catalogue/categories/$i/regions/eu-west-1/products/search?page=1&sort=price_ascending\"}"
  done
}
profile many-endpoints-with-rather-long-names-for-a-report-layout-check 12400ms 11 > "$WORK/cand.yaml"
profile many-endpoints-with-rather-long-names-for-a-report-layout-check 8s 12 > "$WORK/base.yaml"
cat > "$WORK/gate.yaml" <<'YAML'
environments:
  staging: {enforce: warn}
checks:
  - name: latency
    endpoints: "*"
    latency: {p99: 250ms}
  - name: errors & resets
    error_rate: {max: 0.1%}
regression:
  quantiles: [p50, p99]
  tolerance: 5%
  confidence: 95%
YAML

"$BIN" target --port "$PORT" --threads 1 --duration 60s --error-rate 1% -q &
target_pid=$!
trap 'kill "$target_pid" 2>/dev/null || true' EXIT
# Wait for the service to listen (a run against nothing is all connect errors).
for _ in $(seq 100); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then break; fi
  sleep 0.1
done
(exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null || { echo "the sample service is not listening on $PORT" >&2; exit 1; }
"$BIN" run "$WORK/cand.yaml" --out "$WORK/cand" -q
"$BIN" run "$WORK/base.yaml" --out "$WORK/base" -q
kill "$target_pid" 2>/dev/null || true

"$BIN" report "$WORK/cand" --out "$WORK/run.html" -q
"$BIN" report "$WORK/cand" --baseline "$WORK/base" --out "$WORK/baseline.html" -q
"$BIN" report "$WORK/cand" --baseline "$WORK/base" --policy "$WORK/gate.yaml" --env staging \
  --out "$WORK/verdict.html" -q
"$PY" benches/report_check.py --widths "$WIDTHS" --out "$WORK" \
  "$WORK/run.html" "$WORK/baseline.html" "$WORK/verdict.html"
