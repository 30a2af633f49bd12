#!/bin/bash
# SPDX-License-Identifier: MIT
# Impaired links (ubctl impair), measured on real traffic with a fixed
# seed: delay (ping RTT p50 and p99 at 1,000 frames/s), jitter (its
# standard deviation), in and out independent, another port untouched,
# clear restores the baseline; loss and Gilbert-Elliott bursts, duplicates
# and reordering counted frame by frame on a numbered stream; damage seen
# by the receiver's checksums; the rate's TCP goodput and UDP at twice the
# rate; bad input refused; the state file keeps it.
UBT_ID=im
. "$(dirname "$0")/lib.sh"

start_bridge "$P" --seed 42
make_ns 1 172.16.41.1/24
make_ns 2 172.16.41.2/24
make_ns 3 172.16.41.3/24
ping_ok 1 2
ping_ok 3 1
P2=${HOSTIF[2]}

# rtt FROM TO COUNT INTERVAL: "p50 p99 sd" of the RTTs in ms.
rtt()
{
	in_ns "$P$1" ping -n -c "$3" -i "$4" -W 2 "${IP[$2]}" |
		sed -nE 's/.* time=([0-9.]+) ms$/\1/p' |
		python3 -c '
import statistics, sys
v = sorted(float(x) for x in sys.stdin)
if len(v) < 10:
    sys.exit("too few replies: %d" % len(v))
pick = lambda q: v[min(len(v) - 1, int(q * len(v)))]
print("%.3f %.3f %.3f" % (pick(0.5), pick(0.99), statistics.pstdev(v)))'
}
add() { awk -v a="$1" -v b="$2" 'BEGIN { print a + b }'; }
# within WHAT GOT LO HI: LO <= GOT <= HI, or the test fails.
within()
{
	python3 -c "import sys; sys.exit(not ($3 <= $2 <= $4))" ||
		fail "$1: $2 is not within [$3, $4]"
	info "$1: $2 (within [$3, $4])"
}
# stat_of DIR KEY: a counter of port 2's impairment in direction DIR.
stat_of()
{
	ubctl -j impair show | jq -r --arg p "$P2" --arg d "$1" --arg k "$2" \
		'.[] | select(.port == $p and .dir == $d) | .[$k]'
}

# What "monitor impair" says, all along.
"$UBCTL" -n "$BR" -j monitor impair >"$UBT_TMP/mon" 2>&1 &
UBT_BGPIDS+=("$!")
mon_listens() { ubctl impair set "$P2" delay 1us; ubctl impair clear "$P2"; grep -q '"event":"cleared"' "$UBT_TMP/mon"; }
wait_until 5 "monitor impair to listen" mon_listens

# The timing figures are the issue's; a sanitizer build runs the daemon
# several times slower, and gets some slack on the tail (what it is there
# for is memory errors, not speed).
SLACK=0
[[ -z ${UBT_SANITIZE:-} ]] || SLACK=4

step "baseline RTT, nothing impaired"
read -r base _ _ < <(rtt 1 2 300 0.002)
info "baseline p50 $base ms"

step "delay 50ms out of port 2: RTT p50 within 1 ms of 50 ms above the baseline, p99 within +2 ms, at 1,000 pings/s"
ubctl impair set "$P2" delay 50ms
read -r p50 p99 _ < <(rtt 1 2 2000 0.001)
within "p50" "$p50" "$(add "$base" 49)" "$(add "$base" 51)"
within "p99" "$p99" "$(add "$base" 49)" "$(add "$base" $((52 + SLACK)))"

step "another port's pings are unchanged while port 2 is delayed 100 ms"
ubctl impair set "$P2" delay 100ms
read -r p50 _ _ < <(rtt 3 1 300 0.002)
within "ns3 -> ns1 p50" "$p50" 0 "$(add "$base" 1)"

step "jitter 10ms, normal: the RTT's standard deviation within 20 % of 10 ms"
ubctl impair set "$P2" delay 50ms 10ms distribution normal
read -r p50 _ sd < <(rtt 1 2 1000 0.002)
within "p50" "$p50" 48 52
within "standard deviation" "$sd" 8 12

step "in and out are independent: in 30ms alone, then both"
ubctl impair clear "$P2" out
ubctl impair set "$P2" in delay 30ms
read -r p50 _ _ < <(rtt 1 2 300 0.002)
within "in 30ms: p50" "$p50" 29.5 31.5
ubctl impair set "$P2" out delay 20ms
read -r p50 _ _ < <(rtt 1 2 300 0.002)
within "in 30ms + out 20ms: p50" "$p50" 49.5 51.5

step "clear restores the baseline, and leaves nothing"
ubctl impair clear "$P2"
read -r p50 _ _ < <(rtt 1 2 300 0.002)
within "p50 after clear" "$p50" 0 "$(add "$base" 0.5)"
expect_eq "impairments left" 0 "$(ubctl -j impair show | jq length)"

# stream N: N numbered frames ns1 -> ns2 (unicast, 50 us apart), received
# on ns2 into $UBT_TMP/rx; prints how many arrived.
stream()
{
	recv_start 2 "$UBT_TMP/rx" --timeout 3500
	send 1 --dst "${MAC[2]}" --src "${MAC[1]}" --count "$1" --interval 50 --id 7
	recv_wait
	count "$UBT_TMP/rx" ' id=7 seq='
}

step "loss 10% over 20,000 frames: between 9 % and 11 %, each loss counted"
ubctl impair set "$P2" loss 10%
got=$(stream 20000)
within "frames lost" $((20000 - got)) 1800 2200
expect_eq "the impairment's count of losses" $((20000 - got)) "$(stat_of out lost)"

step "loss gemodel 1% 10%: losses in bursts of about 10 frames"
ubctl impair set "$P2" loss gemodel 1% 10%
stream 20000 >/dev/null
# Bursts: runs of sequence numbers missing.
read -r lost bursts < <(sed -nE 's/.* id=7 seq=([0-9]+).*/\1/p' "$UBT_TMP/rx" | sort -n |
	awk 'BEGIN { last = -1 } { if ($1 > last + 1) { lost += $1 - last - 1; bursts++ } last = $1 }
	     END { if (last < 19999) { lost += 19999 - last; bursts++ } print lost + 0, bursts + 0 }')
info "$lost frames lost in $bursts bursts"
within "mean burst length" "$(awk -v l="$lost" -v b="$bursts" 'BEGIN { printf "%.2f", l / b }')" 7 13
within "share lost (p / (p + r) = 9.1 %)" "$lost" 1400 2300

step "duplicate 10%: every duplicate counted"
ubctl impair set "$P2" duplicate 10%
got=$(stream 10000)
dup=$(stat_of out duplicated)
expect_eq "frames received beyond those sent" "$dup" $((got - 10000))
within "duplicates" "$dup" 850 1150

step "reorder 10% with delay 10ms: every frame sent ahead of its elders counted"
ubctl impair set "$P2" delay 10ms reorder 10%
stream 10000 >/dev/null
# A frame overtook an elder if a lower number arrives after it.
early=$(sed -nE 's/.* id=7 seq=([0-9]+).*/\1/p' "$UBT_TMP/rx" | tac |
	awk 'BEGIN { low = 1e18 } { if ($1 > low) n++; if ($1 < low) low = $1 } END { print n + 0 }')
expect_eq "frames that overtook an elder" "$(stat_of out reordered)" "$early"
within "reordered" "$early" 850 1150

step "corrupt 5% of UDP datagrams: the receiver's checksums find each one"
ubctl impair set "$P2" corrupt 5%
snmp() { in_ns "$P"2 awk -v t="$1" -v k="$2" '$1 == t ":" { if (!n) { for (i = 2; i <= NF; i++) if ($i == k) c = i; n = 1; next } print $c }' /proc/net/snmp; }
# A flipped bit shows as a bad IP header (checksum, version, length) or a
# UDP error: a bad checksum, or a length past the datagram's end ("short
# packet", counted only in InErrors; the socket's own drops are taken out).
damaged() {
	echo $(($(snmp Ip InHdrErrors) + $(snmp Ip InAddrErrors) + $(snmp Udp InErrors) -
		$(snmp Udp RcvbufErrors) - $(snmp Udp MemErrors)))
}
bad0=$(damaged)
bg_ns 2 timeout 10 python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("'"${IP[2]}"'", 5001))
s.settimeout(2)
try:
    while True:
        s.recv(2048)
except socket.timeout:
    pass'
in_ns "$P"1 python3 -c '
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(4000):
    s.sendto(i.to_bytes(4, "big") * 100, ("'"${IP[2]}"'", 5001))
    if i % 100 == 0:
        time.sleep(0.005)'
bad=$(($(damaged) - bad0))
expect_eq "datagrams the receiver found damaged" "$(stat_of out corrupted)" "$bad"
within "damaged" "$bad" 120 280

step "rate 20mbit: TCP goodput within 10 %, UDP at 40 Mbit/s delivers the rate"
ubctl impair set "$P2" rate 20mbit
bg_ns 2 iperf3 -s -1 -B "${IP[2]}" -p 5201
wait_until 5 "iperf3 server" tcp_listening 2 5201
tcp=$(in_ns "$P"1 iperf3 -c "${IP[2]}" -p 5201 -t 3 -J | jq '.end.sum_received.bits_per_second / 1e6')
within "TCP goodput (Mbit/s)" "$tcp" 18 22
# A short queue: what it holds when the sender stops arrives after the
# receiver's count ends (1,000 frames would be 0.6 s of the 3).
ubctl impair set "$P2" rate 20mbit limit 50
bg_ns 2 iperf3 -s -1 -B "${IP[2]}" -p 5202
wait_until 5 "iperf3 server" tcp_listening 2 5202
# The rate counts frames: a 1,400-byte datagram is a 1,442-byte frame.
udp=$(in_ns "$P"1 iperf3 -c "${IP[2]}" -p 5202 -u -b 40M -l 1400 -t 3 -J |
	jq '.end.sum_received.bits_per_second * 1442 / 1400 / 1e6')
within "UDP at 40 Mbit/s: delivered, in frame bits (Mbit/s)" "$udp" 19.4 20.6
within "frames dropped at the full queue" "$(stat_of out full)" 5000 20000

step "monitor impair saw each impairment set and cleared, the longest words whole"
ubctl impair set "$P2" delay 9999.999999ms 1.000001ms 12.3456% distribution pareto \
	loss gemodel 1.2345% 12.3456% 98.7654% 0.1234% rate 99999999999bit \
	corrupt 0.0001% duplicate 0.0002% reorder 0.0003% limit 99999
long=$(ubctl -j impair show | jq -r --arg p "$P2" '.[] | select(.port == $p) | .spec')
ubctl impair clear "$P2"
((${#long} > 150)) || fail "the long impairment reads only '$long'"
mon_has() { jq -s -e --arg s "$1" 'any(.[]; .event == "impaired" and .spec == $s)' "$UBT_TMP/mon" >/dev/null; }
wait_until 3 "the long impairment on the monitor" mon_has "$long"
grep -q "{\"event\":\"impaired\",\"ts\":[0-9]*,\"port\":\"$P2\",\"dir\":\"out\",\"spec\":\"delay 50ms 10ms distribution normal\"}" "$UBT_TMP/mon" ||
	fail "no 'impaired' event for the jitter: $(cat "$UBT_TMP/mon")"
grep -q "\"event\":\"cleared\",.*\"port\":\"$P2\",\"dir\":\"in\"" "$UBT_TMP/mon" ||
	fail "no 'cleared' event for the way in: $(cat "$UBT_TMP/mon")"
expect_eq "events other than impaired and cleared" 0 \
	"$(grep -cvE '"event":"(impaired|cleared)"' "$UBT_TMP/mon" || true)"

step "bad input is refused with the reason; the bridge goes on"
for bad in "delay 50" "loss 120%" "reorder 5%" "rate fast" "delay 1ms jitter"; do
	# shellcheck disable=SC2086 # words
	msg=$(ubctl impair set "$P2" $bad 2>&1) && fail "impair set $bad was taken"
	info "impair set $bad: $msg"
done
ubctl impair set "${P}nope" delay 1ms 2>/dev/null && fail "a port that does not exist was impaired"
ping_ok 1 3

step "netns add --impair: a namespace whose port is impaired from the start"
N4=${P}n4
UBT_NS+=("$N4")
msg=$(ubctl netns add "$N4" --addr 172.16.41.4/24 --impair "delay 5" 2>&1) &&
	fail "netns add with a bad --impair was taken"
info "$msg"
! ns_exists "$N4" || fail "a refused netns add left $N4"
ubctl netns add "$N4" --addr 172.16.41.4/24 --impair "delay 20ms"
IP[n4]=172.16.41.4
P4=$(ubctl -j netns show | jq -r --arg n "$N4" '.[] | select(.name == $n) | .port')
expect_eq "$P4's impairment" "out delay 20ms" \
	"$(ubctl -j impair show | jq -r --arg p "$P4" '.[] | select(.port == $p) | "\(.dir) \(.spec)"')"
read -r p50 _ _ < <(rtt 1 n4 200 0.005)
within "ns1 -> $N4 p50" "$p50" 19.5 21.5
ubctl netns del "$N4"

step "the state file keeps it across a restart"
ubctl impair set "$P2" in delay 5ms 1ms distribution normal loss 0.5%
ubctl impair set "$P2" out rate 1gbit limit 500
before=$(ubctl -j impair show | jq -c 'map({port, dir, spec}) | sort_by(.dir)')
stop_bridge "$P" || fail "ubridge did not stop cleanly"
start_bridge "$P" --seed 42
expect_eq "impairments after the restart" "$before" \
	"$(ubctl -j impair show | jq -c 'map({port, dir, spec}) | sort_by(.dir)')"

bridge_alive
test_done
