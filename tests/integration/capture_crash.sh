#!/bin/bash
# SPDX-License-Identifier: MIT
# A capture across SIGKILL: the daemon dies under traffic while its capture
# writer is mid-file, so the file may end in a torn record. The restarted
# daemon restores the capture in append mode; what it appends must follow
# the last whole record, so that after a clean stop every record of both
# lives reads back (tcpdump without an error, and an independent count).
UBT_ID=cc
. "$(dirname "$0")/lib.sh"
for t in tcpdump tshark python3; do
	command -v "$t" >/dev/null || fail "needs '$t' installed"
done

STATE=$UBT_TMP/br.state
CAP=$UBT_TMP/crash.pcap
start_bridge "$P" --state "$STATE"
make_ns a
make_ns b

# walk FILE: prints "RECORDS TAIL", the whole records of a nanosecond
# Ethernet pcap file and the bytes after the last one; exits 1 if the
# global header is not one.
walk()
{
	python3 - "$1" <<-'EOF'
	import struct, sys
	d = open(sys.argv[1], "rb").read()
	if len(d) < 24:
	    sys.exit(1)
	magic, vmaj, vmin, _, _, snap, link = struct.unpack("<IHHiIII", d[:24])
	if magic != 0xa1b23c4d or (vmaj, vmin) != (2, 4) or link != 1:
	    sys.exit(1)
	off, n = 24, 0
	while off + 16 <= len(d):
	    _, nsec, incl, orig = struct.unpack("<IIII", d[off:off + 16])
	    if incl > min(snap, 262144) or off + 16 + incl > len(d):
	        break
	    off += 16 + incl
	    n += 1
	print(n, len(d) - off)
	EOF
}

step "a capture of all frames, under a stream of 1000-byte frames from A"
ubctl capture start all "$CAP" >/dev/null
wait_until 3 "the capture in the state file" matches "^capture start all " "$STATE"
bg_ns a "$UBT_FRAME" send eth0 --src "${MAC[a]}" --dst 02:00:00:0c:0c:01 \
	--size 1000 --id 1 --count 100000000 --interval 50
SENDER=$UBT_LASTPID
captured() { (($(ubctl -j capture show | jq '.[0].frames') >= 5000)); }
wait_until 20 "5000 frames in the capture" captured
# Flushed at least twice a second: some of it is in the file.
wait_until 3 "the capture file to grow" test -s "$CAP"

step "SIGKILL mid-capture"
kill -KILL "${UBT_BRPID[$P]}"
wait "${UBT_BRPID[$P]}" 2>/dev/null || true
unset "UBT_BRPID[$P]"
rm -f "$(sock_path "$P")"
kill -TERM "$SENDER"
wait "$SENDER" 2>/dev/null || true
read -r BEFORE TAIL < <(walk "$CAP") || fail "the file left by the kill has no pcap header"
info "left by the kill: $BEFORE whole records, then $TAIL bytes of a torn one (0: none)"
((BEFORE > 0)) || fail "nothing of the capture reached the file before the kill"

step "restart with the same state: the capture carries on, 500 more frames"
start_bridge "$P" --state "$STATE"
expect_eq "captures restored" "$CAP" "$(ubctl -j capture show | jq -r '.[0].file')"
send a --src "${MAC[a]}" --dst 02:00:00:0c:0c:02 --size 700 --id 2 --count 500
after() { (($(ubctl -j capture show | jq '.[0].frames') == 500)); }
poll_until 10 after || fail "expected 500 frames after the restart, show says: $(ubctl capture show)"
ubctl capture stop all

step "every record reads back: tcpdump, tshark and a count of the file's records"
tcpdump -nn -r "$CAP" >"$UBT_TMP/td.out" 2>"$UBT_TMP/td.err" ||
	fail "tcpdump -r failed: $(cat "$UBT_TMP/td.err")"
! matches -i "invalid\|truncated\|error" "$UBT_TMP/td.err" ||
	fail "tcpdump -r complained: $(cat "$UBT_TMP/td.err")"
read -r TOTAL TAIL < <(walk "$CAP") || fail "the capture lost its pcap header"
expect_eq "bytes after the last whole record" 0 "$TAIL"
expect_eq "records in the file (before the kill + after the restart)" \
	$((BEFORE + 500)) "$TOTAL"
# (tcpdump follows a frame of an unknown type with indented hex lines.)
expect_eq "frames tcpdump read" "$TOTAL" "$(count "$UBT_TMP/td.out" '^[^[:space:]]')"
expect_eq "frames tshark read" "$TOTAL" \
	"$(tshark -r "$CAP" -T fields -e frame.number 2>/dev/null | wc -l)"
expect_eq "700-byte frames (from after the restart)" 500 \
	"$(tshark -r "$CAP" -Y 'frame.len == 700' -T fields -e frame.number 2>/dev/null | wc -l)"

bridge_alive
test_done
