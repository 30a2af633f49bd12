#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The whole test suite from a fresh Debian 12 machine, as root: installs the
# dependencies, builds twice (plain, and with AddressSanitizer +
# UndefinedBehaviorSanitizer), runs every unit and integration test in both
# builds, then each libFuzzer harness for UB_FUZZ_SECONDS (default 60).
# Set UB_SKIP_DEPS=1 to skip the apt-get step.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
[ "${UB_SKIP_DEPS:-0}" = 1 ] || "$top/scripts/deps.sh"

"$top/scripts/build.sh" build
"$top/scripts/build.sh" build-asan -DUB_SANITIZE=address,undefined

status=0
for dir in build build-asan; do
  echo "==> tests in $dir"
  ctest --test-dir "$top/$dir" -j 2 --output-on-failure --timeout 300 || status=1
done
# Each libFuzzer harness for a bounded time (clang, its own build dir).
echo "==> fuzzing, ${UB_FUZZ_SECONDS:-60} s per harness"
"$top/tests/fuzz/run.sh" "${UB_FUZZ_SECONDS:-60}" || status=1
exit $status
