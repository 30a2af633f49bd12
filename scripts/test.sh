#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The whole test suite from a fresh Debian 12 machine, as root: installs the
# dependencies, builds twice (plain, and with AddressSanitizer +
# UndefinedBehaviorSanitizer), and runs every unit and integration test in
# both builds. Set UB_SKIP_DEPS=1 to skip the apt-get step.
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
exit $status
