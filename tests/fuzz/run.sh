#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds the libFuzzer harnesses with clang in build-fuzz/ and runs each for
# SECONDS (default 60) from a copy of its seed corpus, so that what the
# fuzzer adds never lands in the repository.
#
#   tests/fuzz/run.sh [SECONDS]
#
# Exits non-zero when a harness crashes, leaks, times out or breaks one of
# its properties; the input that did it is kept under
# build-fuzz/fuzz-artifacts/ with the fuzzer's log beside it.
# UB_FUZZ_BUILD_DIR picks another build directory; UB_FUZZ_JOBS the make
# parallelism.
set -euo pipefail

secs=${1:-60}
case $secs in
'' | *[!0-9]*) echo "usage: $0 [SECONDS]" >&2; exit 2 ;;
esac

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=${UB_FUZZ_BUILD_DIR:-$top/build-fuzz}
harnesses=(fuzz_ctl_request fuzz_forward fuzz_cidr fuzz_vxlan)

command -v clang >/dev/null || { echo "run.sh: clang is needed" >&2; exit 1; }
if ! grep -q 'tests/fuzz' "$top/CMakeLists.txt"; then
  echo "run.sh: the top-level CMakeLists.txt does not add tests/fuzz" >&2
  exit 1
fi

# Reconfiguring is cheap and makes sure an old build-fuzz/ has UB_FUZZ on.
# Tests and benchmarks are off: only the harnesses are built here.
cmake -S "$top" -B "$build" -DCMAKE_C_COMPILER=clang -DUB_FUZZ=ON \
  -DUB_BUILD_TESTS=OFF -DUB_BUILD_BENCH=OFF >/dev/null
cmake --build "$build" --target fuzzers -j "${UB_FUZZ_JOBS:-$(nproc)}" >/dev/null

work=$(mktemp -d "${TMPDIR:-/tmp}/ubfuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
artifacts=$build/fuzz-artifacts
mkdir -p "$artifacts"

# Requests go up to UB_CTL_REQ_MAX (4096) bytes: give room past it.
# fuzz_vxlan: a 9000-byte jumbo frame and a super-frame of a few segments.
declare -A max_len=([fuzz_ctl_request]=8192 [fuzz_forward]=16384 [fuzz_cidr]=256
  [fuzz_vxlan]=12288)

status=0
summary=()
for h in "${harnesses[@]}"; do
  corpus=$work/$h
  mkdir -p "$corpus" "$artifacts/$h"
  cp "$here/corpus/$h/"* "$corpus/"
  args=(-max_total_time="$secs" -timeout=5 -rss_limit_mb=2048
    -max_len="${max_len[$h]}" -print_final_stats=1
    -artifact_prefix="$artifacts/$h/")
  [ -f "$here/$h.dict" ] && args+=(-dict="$here/$h.dict")

  echo "==> $h for ${secs}s"
  log=$artifacts/$h/last.log
  rc=0
  "$build/tests/fuzz/$h" "${args[@]}" "$corpus" >"$log" 2>&1 || rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 || true)
  if [ "$rc" -ne 0 ]; then
    status=1
    echo "FAIL $h (exit $rc), log: $log" >&2
    grep -E 'ERROR|SUMMARY|property broken|Test unit written' "$log" >&2 || true
  fi
  summary+=("$(printf '%-18s %s  executions=%s  %s' "$h" \
    "$([ "$rc" -eq 0 ] && echo ok || echo FAIL)" "${execs:-?}" "$cov")")
done

echo "==> fuzzing summary (${secs}s each)"
printf '%s\n' "${summary[@]}"
exit $status
