#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Configures and builds ubridge into DIR (default build/), with any extra
# CMake arguments, e.g.: scripts/build.sh build-asan -DUB_SANITIZE=address,undefined
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-build}
shift || true
cmake -S "$top" -B "$top/$dir" -DUB_WERROR=ON "$@" >/dev/null
cmake --build "$top/$dir" -j "$(nproc)"
