#!/usr/bin/env bash
# Command (a) of the README: installs what is missing, builds, and runs
# indelibled in the foreground with the development config: data under
# ./data, gRPC on 127.0.0.1:7410. Stop it with Ctrl-C (clean shutdown).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/tools/install-deps.sh"
"$root/tools/build.sh" indelibled indelible indelible-verify
cd "$root"
exec "${BUILD_DIR:-$root/build}/bin/indelibled" --config deploy/indelibled.dev.yaml "$@"
