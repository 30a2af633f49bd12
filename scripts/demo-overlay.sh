#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# ubridge across hosts, on one machine, as root: installs the dependencies,
# builds, and makes two "hosts" (network namespaces ubov-hostA and
# ubov-hostB joined by an underlay veth, 10.42.0.1 and 10.42.0.2), runs a
# ubridge inside each with a VXLAN port (VNI 42, UDP port 4789) toward the
# other, puts a namespace behind each (ubov-ns1 172.16.1.1/16 on host A,
# ubov-ns2 172.16.1.2/16 on host B, MTU 1450: 50 bytes less than the
# underlay, for VXLAN), pings across both ways, prints what "ubctl vxlan
# show" and "ubctl fdb show" say on each host, and removes everything it
# made (also when a step fails). With --keep it leaves it all running and
# says how to remove it.
# Set UB_SKIP_DEPS=1 to skip the apt-get step.
set -euo pipefail

keep=0
case ${1:-} in
"") ;;
--keep) keep=1 ;;
-h | --help)
  sed -n '3,13p' "$0" | sed 's/^# \{0,1\}//'
  echo "Usage: $0 [--keep]"
  exit 0
  ;;
*)
  echo "Usage: $0 [--keep]" >&2
  exit 2
  ;;
esac

top=$(cd "$(dirname "$0")/.." && pwd)
[ "${UB_SKIP_DEPS:-0}" = 1 ] || "$top/scripts/deps.sh"
"$top/scripts/build.sh" build

ubridge=$top/build/tools/ubridge
ubctl=$top/build/tools/ubctl
command -v nsenter >/dev/null || { echo "demo-overlay.sh: needs nsenter (util-linux)" >&2; exit 1; }

# One machine, so the two daemons need two bridge names (their sockets
# share /run/ubridge); on real hosts both would be the default, ub0.
hosts=(ubov-hostA ubov-hostB)
label=(A B)
under=(10.42.0.1 10.42.0.2)
br=(ovA$$ ovB$$)
ns=(ubov-ns1 ubov-ns2)
addr=(172.16.1.1/16 172.16.1.2/16)
vni=42
pid=()

for n in "${hosts[@]}" "${ns[@]}"; do
  if ip netns list | awk '{print $1}' | grep -qx -- "$n"; then
    echo "demo-overlay.sh: namespace $n exists already; remove it first (ip netns del $n)" >&2
    exit 1
  fi
done

say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

cleanup() {
  local rc=$? i
  if [ "$keep" = 1 ]; then
    say "left running (--keep); to remove it all:"
    for i in 0 1; do
      [ -n "${pid[$i]:-}" ] && echo "  kill ${pid[$i]}            # ubridge -n ${br[$i]} in ${hosts[$i]}"
    done
    echo "  ip netns del ${ns[0]}; ip netns del ${ns[1]}; ip netns del ${hosts[0]}; ip netns del ${hosts[1]}"
    return
  fi
  for i in 0 1; do
    [ -n "${pid[$i]:-}" ] || continue
    "$ubctl" -n "${br[$i]}" netns del "${ns[$i]}" 2>/dev/null || true
    if kill "${pid[$i]}" 2>/dev/null; then wait "${pid[$i]}" 2>/dev/null || true; fi
  done
  # Whatever a failed step left: the namespaces (their veths go with
  # them).
  for n in "${ns[@]}" "${hosts[@]}"; do
    ip netns del "$n" 2>/dev/null || true
  done
  [ "$rc" = 0 ] || echo "demo-overlay.sh: failed (exit $rc); everything it made is removed" >&2
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

say "two hosts: namespaces ${hosts[0]} (${under[0]}) and ${hosts[1]} (${under[1]}), an underlay veth between them"
for i in 0 1; do
  ip netns add "${hosts[$i]}"
  ip -n "${hosts[$i]}" link set lo up
done
ip -n "${hosts[0]}" link add ul0 type veth peer name ul0 netns "${hosts[1]}"
for i in 0 1; do
  ip -n "${hosts[$i]}" addr add "${under[$i]}/24" dev ul0
  ip -n "${hosts[$i]}" link set ul0 up
done

for i in 0 1; do
  o=$((1 - i))
  say "host ${label[$i]}: a ubridge in ${hosts[$i]} (nsenter --net: its network namespace only)"
  echo "    ubridge -f -n ${br[$i]} --no-state &"
  nsenter --net="/run/netns/${hosts[$i]}" "$ubridge" -f -n "${br[$i]}" --no-state &
  pid[i]=$!
  for _ in $(seq 50); do [ -S "/run/ubridge/${br[$i]}.sock" ] && break; sleep 0.1; done
  [ -S "/run/ubridge/${br[$i]}.sock" ] || { echo "demo-overlay.sh: ubridge -n ${br[$i]} did not start" >&2; exit 1; }

  say "host ${label[$i]}: ubctl vxlan add vx0 --vni $vni --local ${under[$i]} --remote ${under[$o]}"
  "$ubctl" -n "${br[$i]}" vxlan add vx0 --vni "$vni" --local "${under[$i]}" --remote "${under[$o]}"
  say "host ${label[$i]}: ubctl netns add ${ns[$i]} --addr ${addr[$i]} --mtu 1450"
  "$ubctl" -n "${br[$i]}" netns add "${ns[$i]}" --addr "${addr[$i]}" --mtu 1450
done

say "ip netns exec ${ns[0]} ping ${addr[1]%/*}     # host A -> host B, in VXLAN"
ip netns exec "${ns[0]}" ping -c 3 -i 0.2 -W 2 "${addr[1]%/*}"
say "ip netns exec ${ns[1]} ping ${addr[0]%/*}     # host B -> host A"
ip netns exec "${ns[1]}" ping -c 3 -i 0.2 -W 2 "${addr[0]%/*}"

for i in 0 1; do
  say "host ${label[$i]}: ubctl vxlan show"
  "$ubctl" -n "${br[$i]}" vxlan show
  say "host ${label[$i]}: ubctl fdb show     # the other host's namespace: on vx0, dst its host"
  "$ubctl" -n "${br[$i]}" fdb show
done

say "on two real hosts, three commands each (bridge ub0, the default):"
for i in 0 1; do
  o=$((1 - i))
  cat <<EOF
  # host ${label[$i]} (underlay address ${under[$i]})
  ubridge
  ubctl vxlan add vx0 --vni $vni --local ${under[$i]} --remote ${under[$o]}
  ubctl netns add ns$((i + 1)) --addr ${addr[$i]} --mtu 1450
EOF
done
if [ "$keep" = 1 ]; then
  say "done"
else
  say "done; removing the namespaces and stopping the bridges"
fi
