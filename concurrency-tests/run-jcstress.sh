#!/usr/bin/env bash
# Runs the jcstress tests and fails unless every test passed: jcstress 0.16 itself exits 0 even
# when a test saw a forbidden outcome, so the verdict is read from its summary.
# usage: run-jcstress.sh TARGET_DIR MODE JVM_FLAGS...
set -uo pipefail
target="$1"; mode="$2"; shift 2
log="$target/jcstress.log"
echo "jcstress: mode $mode, log in $log"
java "$@" -jar "$target/jcstress.jar" -m "$mode" -t 'io\.vmsched\.concurrency\..*' -r "$target/jcstress-results" \
    2>&1 | tee "$log" | grep -E '^\s+\[(OK|FAILED|ERROR)\]|\[FAILED\]|\[ERROR\]|Results across|^\s+[-0-9, ]+\s+[0-9,]+\s+[0-9.]+%' || true
status=${PIPESTATUS[0]}
if [ "$status" -ne 0 ]; then
    echo "jcstress: the run itself failed (exit $status); see $log" >&2
    exit 1
fi
if ! grep -q 'Failed tests: No matches' "$log" || ! grep -q 'Error tests: No matches' "$log"; then
    echo "jcstress: FAILED — a test saw a forbidden outcome or errored; see $log and $target/jcstress-results/index.html" >&2
    sed -n '/Failed tests:/,/All remaining tests/p' "$log" >&2
    exit 1
fi
ran=$(grep -c '\[OK\]' "$log" || true)
if [ "$ran" -eq 0 ]; then
    echo "jcstress: no test ran; see $log" >&2
    exit 1
fi
echo "jcstress: all io.vmsched.concurrency tests passed ($ran test/configuration results OK)"
