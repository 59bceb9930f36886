#!/usr/bin/env bash
# Command (b) of the README: installs what is missing, builds everything and
# runs the whole test suite (unit and end-to-end) with ctest, then a short
# fuzz run of every parser (docs/SECURITY.md, "Hostile input").
#
#   INDELIBLE_FUZZ_SECONDS  seconds per fuzz target (default 10; 0 skips)
#   INDELIBLE_SANITIZE      1 also runs tools/test-sanitize.sh (the suite
#                           under ASan and UBSan; off by default: it roughly
#                           doubles the run, see docs/SECURITY.md)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/tools/install-deps.sh"
"$root/tools/build.sh"
(
  cd "${BUILD_DIR:-$root/build}"
  ctest --output-on-failure --timeout 600 -j "${TEST_JOBS:-2}" -LE perf "$@"
)
fuzz_seconds="${INDELIBLE_FUZZ_SECONDS:-10}"
if [ "$fuzz_seconds" != 0 ]; then
  "$root/tools/fuzz.sh" "$fuzz_seconds"
fi
if [ "${INDELIBLE_SANITIZE:-0}" = 1 ]; then
  "$root/tools/test-sanitize.sh"
fi
