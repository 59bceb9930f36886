#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz with clang into ./build-fuzz (or
# $FUZZ_BUILD_DIR) and runs each for a bounded time on a copy of its seed
# corpus. Fails on the first target that crashes, leaks, trips a sanitizer or
# a FUZZ_CHECK; the reproducer is left in the build directory's
# fuzz-artifacts/<target>/ and its path printed.
# Usage: tools/fuzz.sh [seconds per target, default 20] [target...]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${FUZZ_BUILD_DIR:-$root/build-fuzz}"
jobs="${JOBS:-2}"
seconds="${1:-20}"
shift || true

if [ ! -f "$build_dir/build.ninja" ]; then
  CC=clang CXX=clang++ cmake -S "$root" -B "$build_dir" -G Ninja \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
    -DINDELIBLE_FUZZ=ON -DINDELIBLE_BUILD_TESTS=OFF \
    -DINDELIBLE_BUILD_BENCHMARKS=OFF
fi
ninja -C "$build_dir" -j "$jobs" fuzzers

targets=("$@")
if [ "${#targets[@]}" -eq 0 ]; then
  for f in "$root"/tests/fuzz/*_fuzz.cc; do
    targets+=("$(basename "$f" .cc)")
  done
fi

export ASAN_OPTIONS="detect_leaks=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
for t in "${targets[@]}"; do
  # The checked-in seeds stay as they are; what the run finds goes to a
  # scratch corpus in the build directory.
  corpus="$build_dir/fuzz-corpus/$t"
  artifacts="$build_dir/fuzz-artifacts/$t"
  mkdir -p "$corpus" "$artifacts"
  dict=()
  if [ -f "$root/tests/fuzz/$t.dict" ]; then
    dict=(-dict="$root/tests/fuzz/$t.dict")
  fi
  echo "fuzz: $t for ${seconds}s"
  if ! "$build_dir/fuzz/$t" "${dict[@]}" -max_total_time="$seconds" -timeout=10 \
      -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
      -artifact_prefix="$artifacts/" "$corpus" "$root/tests/fuzz/corpus/$t" \
      > "$build_dir/fuzz-$t.log" 2>&1; then
    tail -n 60 "$build_dir/fuzz-$t.log"
    echo "fuzz: $t FAILED; reproducer(s) in $artifacts/, log in $build_dir/fuzz-$t.log" >&2
    exit 1
  fi
  grep -E "^stat::number_of_executed_units|^Done" "$build_dir/fuzz-$t.log" || true
done
echo "fuzz: all ${#targets[@]} targets ran ${seconds}s each without a crash"
