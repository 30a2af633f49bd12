#!/bin/bash
# SPDX-License-Identifier: MIT
# Receive rings that follow the traffic (issue 12). A port starts with its
# idle ring (256 KiB, and a TX ring of 128 KiB: the packet-socket mappings
# in the daemon are under 512 KiB per port); a stream of frames too large
# for the idle ring's slots moves it to its full ring (4 MiB) while the
# stream runs, and not one frame is lost, duplicated or reordered across
# the move; after 30 s of light traffic (the clock moved on with "time
# warp") it moves back, under pings, which all come back; a port attached
# while its link was down moves too, once it is up. --ring-idle 0
# gives the full ring at once and for good. --ring-size KIB sets the full
# ring, also at an MTU of 9000 (slots of 12 KiB). Bad sizes are refused.
UBT_ID=rz
. "$(dirname "$0")/lib.sh"

# ring_kib: KiB of packet-socket mappings in the daemon, per port (2).
ring_kib()
{
	local lo hi total=0 range rest

	while read -r range rest; do
		[[ $rest == *socket:* ]] || continue
		lo=$((16#${range%-*})) hi=$((16#${range#*-}))
		total=$((total + (hi - lo) / 1024))
	done <"/proc/${UBT_BRPID[$BR]}/maps"
	echo $((total / 2))
}

rings_of() { port_field "$1" ring_kib; }

start_bridge "$P"
make_ns a 10.83.0.1/24
make_ns b 10.83.0.2/24
ping_ok a b
kib=$(ring_kib)
info "default, idle: $kib KiB of rings per port"
((kib >= 256 && kib < 512)) || fail "idle rings of $kib KiB per port, expected 256 to 511"
expect_eq "ring of ${HOSTIF[a]}" 256 "$(rings_of "${HOSTIF[a]}")"

# stream ID: 20,000 frames of 1000 bytes a -> b at 50 kframes/s, which
# move a to its full ring; all arrive, in order, none twice, none dropped.
stream()
{
	local n=20000 seqs
	recv_start b "$UBT_TMP/stream$1" --count "$n" --timeout 30000
	send a --src "${MAC[a]}" --dst "${MAC[b]}" --size 1000 --count "$n" --id "$1" --interval 20
	recv_wait
	seqs=$(grep -oE "id=$1 seq=[0-9]+" "$UBT_TMP/stream$1" | cut -d= -f3)
	[[ $seqs == "$(seq 0 $((n - 1)))" ]] || {
		ubctl -s port show
		fail "frames lost or out of order: $(wc -l <<<"$seqs") of $n came; missing: $(comm -13 <(sort <<<"$seqs") <(seq 0 $((n - 1)) | sort) | sort -n | head -5 | xargs)"
	}
	expect_eq "ring of ${HOSTIF[a]} under load" 4096 "$(rings_of "${HOSTIF[a]}")"
	expect_eq "frames dropped by the kernel on ${HOSTIF[a]}" 0 \
		"$(port_stat "${HOSTIF[a]}" rx_drop_queue)"
}

step "a stream of 1000-byte frames moves a -> b to the full ring, nothing lost"
stream 1
# The old ring is closed once its buffers are back: one RX ring per port.
poll_until 5 eval '(($(ring_kib) >= (4096 + 256 + 256) / 2))' ||
	fail "mappings of $(ring_kib) KiB per port after the move"
kib=$(ring_kib)
((kib < (4096 + 256 + 256 + 256) / 2)) || fail "the idle ring stayed mapped: $kib KiB per port"

step "after 30 s of light traffic it moves back, under pings"
# The daemon counts traffic once a second: the stream's last frames are
# counted before the clock jumps, or they would count as 31 s of them.
sleep 2.5
ubctl time warp 31000
bg_ns a ping -q -c 25 -i 0.2 10.83.0.2 >/dev/null
pinger=$UBT_LASTPID
poll_until 5 eval '[[ $(rings_of "${HOSTIF[a]}") == 256 ]]' ||
	fail "${HOSTIF[a]} kept a ring of $(rings_of "${HOSTIF[a]}") KiB"
wait "$pinger" || fail "pings were lost while the ring moved back"
kib=$(ring_kib)
((kib < 512)) || fail "rings of $kib KiB per port after moving back"
ping_ok a b

step "a port attached with its link down moves once the link is up"
ubctl port del "${HOSTIF[a]}"
ip link set "${HOSTIF[a]}" down
ubctl port add "${HOSTIF[a]}"
ip link set "${HOSTIF[a]}" up
# Its fanout group is made at the daemon's next look, within a second.
sleep 1.5
ping_ok a b
stream 2

step "--ring-idle 0: the full ring at once, for good"
stop_bridge "$P" || fail "ubridge did not stop cleanly"
start_bridge "$P" --ring-idle 0
wait_until 5 "ports restored" port_listed "${HOSTIF[b]}"
kib=$(ring_kib)
info "--ring-idle 0: $kib KiB of rings per port"
((kib >= 4096 + 1024)) || fail "rings of $kib KiB per port with --ring-idle 0"
ubctl time warp 31000
ping_ok a b
expect_eq "ring of ${HOSTIF[a]}" 4096 "$(rings_of "${HOSTIF[a]}")"

# Slots of 12 KiB at MTU 9000: the ring rounds up to whole blocks.
for mtu in 9000 1500; do
	step "--ring-size 256 --ring-idle 0, an MTU of $mtu"
	stop_bridge "$P" || fail "ubridge did not stop cleanly"
	ip link set "${HOSTIF[b]}" mtu "$mtu"
	start_bridge "$P" --ring-size 256 --ring-idle 0
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
for bad in "--ring-size 10" "--ring-size abc" "--ring-size 2000000" \
	"--ring-idle 10" "--ring-idle x"; do
	rc=0
	# shellcheck disable=SC2086 # the option and its value
	out=$("$UBRIDGE" -f -n "${P}x" --no-state $bad 2>&1) || rc=$?
	expect_eq "exit status for $bad" 2 "$rc"
	info "$out"
done

bridge_alive
test_done
