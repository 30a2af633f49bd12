#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The seed scenario through ubridge, from a fresh Debian 12 machine, as root:
# installs the dependencies, builds, starts a bridge, makes two namespaces
# (172.16.1.1/16 and 172.16.1.2/16) with "ubctl netns add", pings both ways,
# prints the learned FDB and the port counters, and removes everything it
# made.
# Set UB_SKIP_DEPS=1 to skip the apt-get step.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
[ "${UB_SKIP_DEPS:-0}" = 1 ] || "$top/scripts/deps.sh"
"$top/scripts/build.sh" build

ubridge=$top/build/tools/ubridge
ubctl=$top/build/tools/ubctl
br=demo$$
ns=(ubdemo-ns1 ubdemo-ns2)
pid=

for n in "${ns[@]}"; do
  if ip netns list | awk '{print $1}' | grep -qx -- "$n"; then
    echo "demo.sh: namespace $n exists already; remove it first (ip netns del $n)" >&2
    exit 1
  fi
done

cleanup() {
  for n in "${ns[@]}"; do
    "$ubctl" -n "$br" netns del "$n" 2>/dev/null || true
  done
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  for n in "${ns[@]}"; do ip netns del "$n" 2>/dev/null || true; done
}
trap cleanup EXIT

say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

say "ubridge -f -n $br --no-state   # the bridge, in the background"
"$ubridge" -f -n "$br" --no-state &
pid=$!
for _ in $(seq 50); do [ -S "/run/ubridge/$br.sock" ] && break; sleep 0.1; done

for i in 0 1; do
  addr=172.16.1.$((i + 1))/16
  say "ubctl netns add ${ns[$i]} --addr $addr"
  "$ubctl" -n "$br" netns add "${ns[$i]}" --addr "$addr"
done
say "ubctl netns show"
"$ubctl" -n "$br" netns show

say "ip netns exec ${ns[0]} ping 172.16.1.2"
ip netns exec "${ns[0]}" ping -c 3 -i 0.2 -W 2 172.16.1.2
say "ip netns exec ${ns[1]} ping 172.16.1.1"
ip netns exec "${ns[1]}" ping -c 3 -i 0.2 -W 2 172.16.1.1

say "ubctl fdb show          # what the bridge learned"
"$ubctl" -n "$br" fdb show
say "ubctl port show -s"
"$ubctl" -n "$br" -s port show
say "done; ubctl netns del removes the namespaces and veths"
