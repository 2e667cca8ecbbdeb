#!/usr/bin/env bash
# Run every scrub fuzz target (or the ones named) for SECONDS each, one
# after another, with a single job: the machine may be shared. Each run's
# output goes to fuzz/artifacts/TARGET.log as well; a crash stops that
# target's run and leaves its input in fuzz/artifacts/TARGET/, and the
# script goes on with the next target and exits 1 at the end.
#
#   fuzz/run-all.sh 600                  # every target, 10 minutes each
#   fuzz/run-all.sh 60 scrub_csv         # one target
set -uo pipefail

secs=${1:?usage: fuzz/run-all.sh SECONDS [TARGET...]}
shift
cd "$(dirname "$0")/.." || exit 2
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(scrub_csv scrub_copy scrub_jsonl scrub_rules detect)
fi

mkdir -p fuzz/artifacts
status=0
for t in "${targets[@]}"; do
    echo "== $t: ${secs}s"
    # stdin from /dev/null: a rules file may name `${file:/dev/stdin}`.
    # -detect_leaks=0: the collision check sorts on a second thread, and
    # LeakSanitizer reports glibc's record of that thread's thread-local
    # destructors (32 bytes from __cxa_thread_atexit_impl) as a leak, now
    # and then; it is freed when the thread exits.
    if ! cargo +nightly fuzz run "$t" -- \
        -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 -detect_leaks=0 -print_final_stats=1 \
        </dev/null 2>&1 | tee "fuzz/artifacts/$t.log"; then
        echo "== $t: FAILED (see fuzz/artifacts/$t.log and fuzz/artifacts/$t/)"
        status=1
    fi
done
exit $status
