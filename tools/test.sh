#!/usr/bin/env bash
# Command (b) of the README: installs what is missing, builds everything and
# runs the whole test suite (unit and end-to-end) with ctest.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/tools/install-deps.sh"
"$root/tools/build.sh"
cd "${BUILD_DIR:-$root/build}"
ctest --output-on-failure --timeout 600 -j "${TEST_JOBS:-2}" -LE perf "$@"
