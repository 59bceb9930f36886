#!/usr/bin/env bash
# The whole test suite (unit and end-to-end, not perf) built with
# AddressSanitizer (with LeakSanitizer) and UndefinedBehaviorSanitizer, in
# ./build-asan (or $ASAN_BUILD_DIR). Any report fails the test that caused
# it: UBSan does not recover, ASan and LSan end the process with an error.
# Usage: tools/test-sanitize.sh [ctest args...]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${ASAN_BUILD_DIR:-$root/build-asan}"
jobs="${JOBS:-2}"

# Also read by the test binaries that gtest_discover_tests runs at build
# time, and inherited by the daemons and tools the end-to-end tests start.
export ASAN_OPTIONS="detect_leaks=1:strict_init_order=1:detect_stack_use_after_return=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
export LSAN_OPTIONS="suppressions=$root/tests/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"

if [ ! -f "$build_dir/build.ninja" ]; then
  cmake -S "$root" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DINDELIBLE_SANITIZE=ON -DINDELIBLE_BUILD_BENCHMARKS=OFF
fi
ninja -C "$build_dir" -j "$jobs"
cd "$build_dir"
# Sanitized code runs 2-5x slower: give each test more time than test.sh does.
ctest --output-on-failure --timeout 1200 -j "${TEST_JOBS:-2}" -LE perf "$@"
