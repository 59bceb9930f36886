#!/usr/bin/env bash
# Installs what building and testing Indelible needs, from Debian 12's
# packages only. Idempotent: installs nothing when everything is present.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git
  clang libclang-rt-14-dev  # tools/fuzz.sh: libFuzzer, sanitizer runtimes
  librocksdb-dev libssl-dev openssl libjemalloc-dev
  libgrpc++-dev libgrpc-dev protobuf-compiler protobuf-compiler-grpc libprotobuf-dev grpc-proto
  libspdlog-dev libcli11-dev nlohmann-json3-dev libyaml-cpp-dev libcpp-httplib-dev
  googletest libgtest-dev libgmock-dev libbenchmark-dev
  python3 xxd
  rocksdb-tools  # tests play the attacker with ldb on a stopped daemon's data
  shellcheck yamllint  # ctest -L lint: shell scripts and deploy manifests
  jq curl  # tools/soak.sh, tools/export_bench.sh, tools/run_benchmarks.sh
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-deps: all packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  sudo_cmd=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
