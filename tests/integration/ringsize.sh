#!/bin/bash
# SPDX-License-Identifier: MIT
# --ring-size KIB sets the memory of each interface port's rings (the RX
# ring, plus a TX ring of a quarter of it, 64 slots at least): the
# packet-socket mappings in the daemon's address space are 5 MiB per
# port by default, 384 KiB with --ring-size 256 (portscale.sh checks the
# resident memory of a thousand such ports), and the rings forward either
# way; a port with an MTU
# of 9000 (slots of 12 KiB) gets a ring with small sizes too. Bad sizes
# are refused.
UBT_ID=rz
. "$(dirname "$0")/lib.sh"

# ring_kib: KiB of packet-socket mappings in the daemon, per port.
ring_kib()
{
	local lo hi total=0 n=0 range rest

	while read -r range rest; do
		[[ $rest == *socket:* ]] || continue
		lo=$((16#${range%-*})) hi=$((16#${range#*-}))
		total=$((total + (hi - lo) / 1024))
		n=$((n + 1))
	done <"/proc/${UBT_BRPID[$BR]}/maps"
	((n == 2)) || fail "expected the rings of 2 ports mapped, saw $n mappings"
	echo $((total / n))
}

start_bridge "$P"
make_ns a 10.83.0.1/24
make_ns b 10.83.0.2/24
ping_ok a b
kib=$(ring_kib)
info "default: $kib KiB of rings per port"
((kib >= 4096)) || fail "default rings of $kib KiB per port, expected 4096 or more"

# Slots of 12 KiB at MTU 9000: the ring rounds up to whole blocks.
for mtu in 9000 1500; do
	step "--ring-size 256, an MTU of $mtu"
	stop_bridge "$P" || fail "ubridge did not stop cleanly"
	ip link set "${HOSTIF[b]}" mtu "$mtu"
	start_bridge "$P" --ring-size 256
	wait_until 5 "ports restored" port_listed "${HOSTIF[b]}"
	kib=$(ring_kib)
	info "--ring-size 256, MTU $mtu: $kib KiB of rings per port"
	hi=$((mtu > 1500 ? 2048 : 512))
	((kib >= 256 && kib <= hi)) ||
		fail "rings of $kib KiB per port with --ring-size 256 at MTU $mtu (expected 256 to $hi)"
	ping_ok a b
	ping_ok b a
done

step "bad sizes are refused"
for bad in 10 abc 2000000; do
	rc=0
	out=$("$UBRIDGE" -f -n "${P}x" --no-state --ring-size "$bad" 2>&1) || rc=$?
	expect_eq "exit status for --ring-size $bad" 2 "$rc"
	info "$out"
done

bridge_alive
test_done
