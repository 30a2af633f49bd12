#!/bin/bash
# SPDX-License-Identifier: MIT
# Captures: known frames through the bridge, read back with tcpdump and
# tshark: exact frame counts and bytes per port and direction, a bridge-wide
# capture that sees each frame once, a BPF filter, a VLAN tag kept in the
# file, --count, --snaplen, nanosecond timestamps, rotation, and errors that
# start nothing.
UBT_ID=cp
. "$(dirname "$0")/lib.sh"
for t in tcpdump tshark od; do
	command -v "$t" >/dev/null || fail "needs '$t' installed"
done

start_bridge "$P"
make_ns a
make_ns b
make_ns c
T=$UBT_TMP

# cap_start ARGS...: starts a capture, prints its id.
cap_start()
{
	local id
	id=$(ubctl capture start "$@") || fail "ubctl capture start $* failed"
	[[ $id =~ ^[0-9]+$ ]] || fail "capture start $*: expected an id, saw '$id'"
	echo "$id"
}
# wire_bytes FILE: sum of the frames' lengths on the wire.
wire_bytes() { tshark -r "$1" -T fields -e frame.len 2>/dev/null | awk '{s += $1} END {print s + 0}'; }

step "captures: A both ways, B out, B in, all (in), all with a VLAN filter, all --count 3, C --snaplen 64"
cap_start "${HOSTIF[a]}" "$T/a.pcap" >/dev/null
cap_start "${HOSTIF[b]}" "$T/b_out.pcap" --dir out >/dev/null
cap_start "${HOSTIF[b]}" "$T/b_in.pcap" --dir in >/dev/null
cap_start all "$T/all.pcap" >/dev/null
cap_start all "$T/vlan.pcap" --filter 'vlan 100' >/dev/null
cap_start all "$T/count.pcap" --count 3 >/dev/null
cap_start "${HOSTIF[c]}" "$T/snap.pcap" --snaplen 64 --dir out >/dev/null
expect_eq "captures listed" 7 "$(ubctl -j capture show | jq length)"

step "traffic: A -> unknown x5 (100 B), A -> broadcast VLAN 100 x2 (120 B), B -> A x4 (80 B)"
send a --src "${MAC[a]}" --dst 02:00:00:0f:0f:03 --size 100 --id 1 --count 5
send a --src "${MAC[a]}" --dst ff:ff:ff:ff:ff:ff --vlan 100 --size 120 --id 2 --count 2
send b --src "${MAC[b]}" --dst "${MAC[a]}" --size 80 --id 3 --count 4
# The frames are forwarded once the bridge has them: wait for the counters.
all_in() { (($(ubctl -j capture show | jq '[.[] | select(.file | endswith("/all.pcap")) | .frames] | add') == 11)); }
poll_until 5 all_in || fail "bridge-wide capture: expected 11 frames, show says: $(ubctl capture show)"
ubctl capture stop all
expect_eq "captures after stop all" 0 "$(ubctl -j capture show | jq length)"

step "per-port captures hold exactly the frames of their port and direction"
expect_eq "frames in a.pcap (5 + 2 in, 4 out)" 11 "$(pcap_frames "$T/a.pcap")"
expect_eq "bytes in a.pcap" 1060 "$(wire_bytes "$T/a.pcap")"
expect_eq "frames out of A in a.pcap" 4 "$(pcap_frames "$T/a.pcap" "ether src ${MAC[b]}")"
expect_eq "frames in b_out.pcap (flooded from A)" 7 "$(pcap_frames "$T/b_out.pcap")"
expect_eq "frames in b_out.pcap from B" 0 "$(pcap_frames "$T/b_out.pcap" "ether src ${MAC[b]}")"
expect_eq "frames in b_in.pcap (B -> A)" 4 "$(pcap_frames "$T/b_in.pcap")"
expect_eq "bytes in b_in.pcap" 320 "$(wire_bytes "$T/b_in.pcap")"

step "the bridge-wide capture sees each frame once"
expect_eq "frames in all.pcap" 11 "$(pcap_frames "$T/all.pcap")"
expect_eq "bytes in all.pcap" 1060 "$(wire_bytes "$T/all.pcap")"

step "the VLAN filter kept the two tagged frames, tag and all"
expect_eq "frames in vlan.pcap" 2 "$(pcap_frames "$T/vlan.pcap")"
expect_eq "VLAN ids in vlan.pcap" "100 100" "$(tshark -r "$T/vlan.pcap" -T fields -e vlan.id 2>/dev/null | xargs)"
expect_eq "lengths in vlan.pcap" "120 120" "$(tshark -r "$T/vlan.pcap" -T fields -e frame.len 2>/dev/null | xargs)"

step "--count 3 wrote three frames; --snaplen 64 cut frames at 64 bytes"
expect_eq "frames in count.pcap" 3 "$(pcap_frames "$T/count.pcap")"
expect_eq "frames in snap.pcap" 7 "$(pcap_frames "$T/snap.pcap")"
expect_eq "captured lengths in snap.pcap" "64 64 64 64 64 64 64" \
	"$(tshark -r "$T/snap.pcap" -T fields -e frame.cap_len 2>/dev/null | xargs)"
expect_eq "wire lengths in snap.pcap" "100 100 100 100 100 120 120" \
	"$(tshark -r "$T/snap.pcap" -T fields -e frame.len 2>/dev/null | xargs)"

step "files carry nanosecond timestamps (pcap magic a1b23c4d)"
expect_eq "magic of a.pcap" "a1b23c4d" "$(od -An -tx4 -N4 "$T/a.pcap" | tr -d ' ')"

step "rotation: 1 MiB files, 3 kept; 1800 frames of 1500 B (2.6 MiB)"
cap_start "${HOSTIF[a]}" "$T/rot.pcap" --dir in --rotate-size 1 --rotate-files 3 >/dev/null
send a --src "${MAC[a]}" --dst 02:00:00:0f:0f:04 --size 1500 --id 4 --count 1800
rot_in() { (($(ubctl -j capture show | jq '.[0].frames + .[0].dropped') == 1800)); }
poll_until 10 rot_in || fail "rotation capture: expected 1800 frames, show says: $(ubctl capture show)"
expect_eq "frames dropped by the capture" 0 "$(ubctl -j capture show | jq '.[0].dropped')"
ubctl capture stop all
[[ ! -e $T/rot.pcap ]] || fail "rotation wrote the unnumbered file rot.pcap"
total=0
for i in 0 1 2; do
	f=$T/rot.pcap.$i
	[[ -s $f ]] || fail "rotation: $f missing"
	size=$(stat -c %s "$f")
	((size <= 1048576)) || fail "rotation: $f is $size bytes, over 1 MiB"
	total=$((total + $(pcap_frames "$f")))
done
[[ ! -e $T/rot.pcap.3 ]] || fail "rotation: a fourth file rot.pcap.3 exists"
expect_eq "frames across the rotated files" 1800 "$total"

step "errors start nothing: unknown port, unwritable path, bad filter, bad option"
for args in "nosuchport $T/x.pcap" "${HOSTIF[a]} $T/no/such/dir/x.pcap" \
	"${HOSTIF[a]} $T/x.pcap --filter tcp_portt_80" "${HOSTIF[a]} $T/x.pcap --dir sideways" \
	"${HOSTIF[a]} $T/x.pcap --snaplen 0" "${HOSTIF[a]} $T/x.pcap --frobnicate 1"; do
	# shellcheck disable=SC2086
	if out=$(ubctl capture start $args 2>&1); then
		fail "capture start $args succeeded: $out"
	fi
	[[ $out == ubctl:* && $(wc -l <<<"$out") == 1 ]] || fail "capture start $args: expected one 'ubctl:' line, saw: $out"
	info "$out"
done
expect_eq "captures after the errors" 0 "$(ubctl -j capture show | jq length)"
[[ ! -e $T/x.pcap ]] || fail "a failed capture start left $T/x.pcap"
if ubctl capture stop 99 2>/dev/null; then fail "capture stop of an unknown id succeeded"; fi

step "capture watch piped into tcpdump: frames arrive live; the capture ends with its reader"
# tcpdump reads 3 frames and exits; ubctl then sees EPIPE and exits; the
# daemon notices the hang-up and ends the capture.
watch_start "$T/watch.txt" 10 3 all --filter "ether proto 0x88b5"
wait_until 5 "the watch capture to be listed" capture_watched
send a --src "${MAC[a]}" --dst 02:00:00:0f:0f:05 --size 70 --id 5 --count 3
wait_until 10 "tcpdump and ubctl to finish" test -e "$T/watch.txt.rc"
expect_eq "exit statuses of ubctl and tcpdump" "0 0" "$(cat "$T/watch.txt.rc")"
expect_eq "frames tcpdump read live" 3 "$(grep -c '0x88b5' "$T/watch.txt" || true)"
not_watched() { ! capture_watched; }
wait_until 5 "the daemon to end the capture of a reader that left" not_watched
if out=$(ubctl capture watch nosuchport </dev/null 2>&1 | cat); then :; fi
[[ $out == "ubctl: nosuchport is not a port"* ]] || fail "capture watch nosuchport: unexpected: $out"

step "ubridge --capture starts captures with the daemon; a bad one stops the start"
start_bridge "${P}x" --capture "all:$T/boot.pcap"
expect_eq "file of the start-up capture" "$T/boot.pcap" "$(ubctl -j capture show | jq -r '.[0].file')"
if out=$("$UBRIDGE" -f -n "${P}y" --capture "nosuchport:$T/y.pcap" 2>&1); then
	fail "ubridge with a capture on a missing port started: $out"
fi
[[ $out == *"nosuchport is not a port"* ]] || fail "ubridge --capture nosuchport: unexpected message: $out"
[[ ! -e $(sock_path "${P}y") ]] || fail "a failed start left its socket"
BR=$P

bridge_alive
test_done
