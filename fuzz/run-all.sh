#!/usr/bin/env bash
# Run every fuzz target (or the ones named) for SECONDS each, one after
# another with a single job by default: the machine may be shared. -j N
# runs N targets at a time (build first, one cargo at a time). Each run's
# output goes to fuzz/artifacts/TARGET.log; a crash stops that target's
# run and leaves its input in fuzz/artifacts/TARGET/, and the script goes
# on with the next target and exits 1 at the end.
#
#   fuzz/run-all.sh 600                  # every target, 10 minutes each
#   fuzz/run-all.sh -j 2 600             # two at a time
#   fuzz/run-all.sh 60 scrub_csv hlog    # the targets named
set -uo pipefail

jobs=1
if [ "${1:-}" = "-j" ]; then
    jobs=${2:?usage: fuzz/run-all.sh [-j N] SECONDS [TARGET...]}
    shift 2
fi
secs=${1:?usage: fuzz/run-all.sh [-j N] SECONDS [TARGET...]}
shift
cd "$(dirname "$0")/.." || exit 2
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(scrub_csv scrub_copy scrub_jsonl scrub_rules detect
        profile_yaml schema_yaml policy_yaml units template hlog summary access_log h1_response h2_frames)
fi

mkdir -p fuzz/artifacts
# One build of every target first, so parallel runs do not fight over
# cargo's lock or build the same crates twice.
for t in "${targets[@]}"; do
    cargo +nightly fuzz build "$t" || exit 2
done

run_one() {
    local t=$1
    echo "== $t: ${secs}s"
    # stdin from /dev/null: a rules file may name `${file:/dev/stdin}`.
    # -detect_leaks=0: the collision check sorts on a second thread, and
    # LeakSanitizer reports glibc's record of that thread's thread-local
    # destructors (32 bytes from __cxa_thread_atexit_impl) as a leak, now
    # and then; it is freed when the thread exits.
    if ! cargo +nightly fuzz run "$t" -- \
        -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 -detect_leaks=0 -print_final_stats=1 \
        </dev/null >"fuzz/artifacts/$t.log" 2>&1; then
        echo "== $t: FAILED (see fuzz/artifacts/$t.log and fuzz/artifacts/$t/)"
        return 1
    fi
    grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|#[0-9]+ *DONE)' "fuzz/artifacts/$t.log" | sed "s/^/   $t: /"
}

status=0
running=0
for t in "${targets[@]}"; do
    if [ "$jobs" -le 1 ]; then
        run_one "$t" || status=1
        continue
    fi
    run_one "$t" &
    running=$((running + 1))
    if [ "$running" -ge "$jobs" ]; then
        wait -n || status=1
        running=$((running - 1))
    fi
done
while [ "$running" -gt 0 ]; do
    wait -n || status=1
    running=$((running - 1))
done
exit $status
