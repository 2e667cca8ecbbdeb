#!/usr/bin/env bash
# The round trip of `loadline learn` (BENCHMARKS.md "Learning a profile from
# access logs"): a known profile (3 endpoints 60/25/15, reads 85%, 400
# tenants Zipf 1.1, a 48-second compressed day, a 3x spike at 20 s) replayed
# against the built-in target writing an nginx log and an Envoy JSON log,
# and against nginx itself where installed; the profile learned back from
# each log and compared with the issue's bars. Prints one ROUNDTRIP line
# per measured value.
#
#   bash benches/learn_roundtrip.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --release --test it learn::round_trip -- --nocapture --test-threads 1 2>&1 | grep -E "ROUNDTRIP|SKIPPED|test result"
