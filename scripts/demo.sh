#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The seed scenario through ubridge, from a fresh Debian 12 machine, as root:
# installs the dependencies, builds, then makes two namespaces ns1
# (172.16.1.1/16) and ns2 (172.16.1.2/16), each with a veth whose host end is
# a port of a ubridge bridge, pings both ways, prints the learned FDB and the
# port counters, and removes everything it made.
# Set UB_SKIP_DEPS=1 to skip the apt-get step.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
[ "${UB_SKIP_DEPS:-0}" = 1 ] || "$top/scripts/deps.sh"
"$top/scripts/build.sh" build

ubridge=$top/build/tools/ubridge
ubctl=$top/build/tools/ubctl
br=demo$$
ns=(ubdemo$$-ns1 ubdemo$$-ns2)
host=(ubd$$-h1 ubd$$-h2)
pid=

cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  for i in 0 1; do
    ip netns del "${ns[$i]}" 2>/dev/null || true
    ip link del "${host[$i]}" 2>/dev/null || true
  done
}
trap cleanup EXIT

say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

say "bridge $br: $ubridge -f -n $br"
"$ubridge" -f -n "$br" &
pid=$!
for _ in $(seq 50); do [ -S "/run/ubridge/$br.sock" ] && break; sleep 0.1; done

for i in 0 1; do
  addr=172.16.1.$((i + 1))/16
  say "namespace ${ns[$i]} with $addr, veth ${host[$i]} on the bridge"
  ip netns add "${ns[$i]}"
  ip link add "${host[$i]}" type veth peer name eth0 netns "${ns[$i]}"
  ip link set "${host[$i]}" up
  ip -n "${ns[$i]}" link set lo up
  ip -n "${ns[$i]}" addr add "$addr" dev eth0
  ip -n "${ns[$i]}" link set eth0 up
  "$ubctl" -n "$br" port add "${host[$i]}"
done

say "ns1 -> ns2: ping 172.16.1.2"
ip netns exec "${ns[0]}" ping -c 3 -i 0.2 -W 2 172.16.1.2
say "ns2 -> ns1: ping 172.16.1.1"
ip netns exec "${ns[1]}" ping -c 3 -i 0.2 -W 2 172.16.1.1

say "ubctl fdb show (what the bridge learned)"
"$ubctl" -n "$br" fdb show
say "ubctl port show -s"
"$ubctl" -n "$br" -s port show
say "done; cleaning up"
