#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The whole test suite from a fresh Debian 12 machine, as root: installs the
# dependencies, builds three times (plain; with AddressSanitizer +
# UndefinedBehaviorSanitizer; with ThreadSanitizer, without the benchmarks),
# runs every unit and integration test in the first two builds and the
# tests with more than one data-path thread (ctest label "threads") in the
# third, then each libFuzzer harness for UB_FUZZ_SECONDS (default 60).
# Each step's time is printed.
# Set UB_SKIP_DEPS=1 to skip the apt-get step.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)

# timed WHAT CMD...: runs CMD and says how long it took; returns its status.
timed()
{
  local what=$1 start=$SECONDS rc=0
  shift
  "$@" || rc=$?
  if ((rc)); then
    echo "==> $what: $((SECONDS - start)) s, exit $rc"
  else
    echo "==> $what: $((SECONDS - start)) s"
  fi
  return "$rc"
}

[ "${UB_SKIP_DEPS:-0}" = 1 ] || timed "dependencies" "$top/scripts/deps.sh"

timed "build" "$top/scripts/build.sh" build
timed "build-asan" "$top/scripts/build.sh" build-asan -DUB_SANITIZE=address,undefined
timed "build-tsan" "$top/scripts/build.sh" build-tsan -DUB_SANITIZE=thread -DUB_BUILD_BENCH=OFF

status=0
# Every test has a TIMEOUT of its own; --timeout is the bound for any that
# would not.
for dir in build build-asan; do
  echo "==> tests in $dir"
  timed "tests in $dir" ctest --test-dir "$top/$dir" -j 2 --output-on-failure --timeout 300 || status=1
done
# ThreadSanitizer (lib.sh makes a report fail the test) on the tests that
# run more than one data-path thread.
echo "==> tests with label threads in build-tsan"
timed "tests in build-tsan" ctest --test-dir "$top/build-tsan" -L threads -j 2 --output-on-failure \
  --timeout 300 || status=1
# Each libFuzzer harness for a bounded time (clang, its own build dir).
echo "==> fuzzing, ${UB_FUZZ_SECONDS:-60} s per harness"
timed "fuzzing" "$top/tests/fuzz/run.sh" "${UB_FUZZ_SECONDS:-60}" || status=1
exit $status
