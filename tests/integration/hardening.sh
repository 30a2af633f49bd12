#!/bin/bash
# SPDX-License-Identifier: MIT
# Bad input leaves the bridge forwarding: a frame claiming one of our
# ports' MACs as source is dropped and counted; control clients that
# connect and never send, or never finish, do not stall others and are
# dropped at their deadline; a flood of 100,000 random source MACs keeps
# the FDB at its cap and the daemon's memory bounded, and conversations
# keep working.
UBT_ID=hd
. "$(dirname "$0")/lib.sh"

CAP=4096
start_bridge "$P" --max-learned "$CAP"
make_ns a 10.77.0.1/24
make_ns b 10.77.0.2/24
make_ns c 10.77.0.3/24
ping_ok a b

step "a frame from A with B's port MAC as source: dropped, counted, not learned"
hostmac_b=$(cat "/sys/class/net/${HOSTIF[b]}/address")
expect_eq "type of B's port MAC in the FDB" local "$(fdb_type_of "$hostmac_b")"
d0=$(port_stat "${HOSTIF[a]}" rx_drop_own_mac)
recv_start c "$UBT_TMP/c"
send a --src "$hostmac_b" --dst ff:ff:ff:ff:ff:ff --id 1 --count 3
recv_wait
expect_frames "spoofed frames on C" "$UBT_TMP/c" 1 0
expect_eq "rx_drop_own_mac on A" $((d0 + 3)) "$(port_stat "${HOSTIF[a]}" rx_drop_own_mac)"
expect_fdb "$hostmac_b" "${HOSTIF[b]}"

step "idle control clients: others are served at once, the idle ones dropped at their deadline"
sock=$(sock_path "$BR")
for i in 1 2 3; do
	# Connects, sends half a request, then nothing (for 12 s, past the
	# test's end); exits when the daemon closes the connection. No output
	# fd is shared, so the leftover sleep holds nothing of the test's.
	bash -c 'exec socat STDIO UNIX-CONNECT:"$1" < <(printf "port sh"; sleep 12)' _ "$sock" >/dev/null 2>&1 &
	UBT_BGPIDS+=($!)
	idle[i]=$!
done
sleep 0.3
start=$(date +%s%N)
ubctl port show >/dev/null
ms=$((($(date +%s%N) - start) / 1000000))
((ms < 2000)) || fail "port show took $ms ms with idle clients connected"
for i in 1 2 3; do kill -0 "${idle[i]}" 2>/dev/null || fail "idle client $i gone before its deadline"; done
ubctl time warp 11000
gone() { for i in 1 2 3; do pid_gone "${idle[i]}" || return 1; done; }
wait_until 5 "the daemon to drop the idle clients" gone

step "frames the kernel drops while the daemon cannot keep up are counted"
q0=$(port_stat "${HOSTIF[a]}" rx_drop_queue)
kill -STOP "${UBT_BRPID[$BR]}"
# 50,000 frames into a stopped daemon's socket: its queue overflows.
send a --src "${MAC[a]}" --dst 02:00:00:0f:0f:08 --count 50000
kill -CONT "${UBT_BRPID[$BR]}"
# The daemon reads the kernel's count as it goes on: poll for it.
grew() { q1=$(port_stat "${HOSTIF[a]}" rx_drop_queue); ((q1 > q0)); }
poll_until 5 grew || fail "rx_drop_queue on A did not grow ($q0 -> $q1)"
info "rx_drop_queue on A: $q0 -> $q1"

step "MAC flood: 100,000 random sources with the FDB capped at $CAP"
rss0=$(daemon_rss)
bg_ns b ping -q -i 0.05 -c 200 -W 1 10.77.0.1
pinger=$UBT_LASTPID
send a --src random --dst 02:00:00:0f:0f:07 --count 100000
st=$(ubctl -j stats)
learned=$(jq .fdb_learned <<<"$st")
entries=$(jq .fdb_learned_entries <<<"$st")
evicted=$(jq .fdb_evicted <<<"$st")
info "learned $learned, in the table $entries, evicted $evicted; RSS ${rss0} kB -> $(daemon_rss) kB"
((learned > CAP)) || fail "the flood taught only $learned addresses: it did not pass the cap"
((entries <= CAP)) || fail "$entries learned entries, over the cap $CAP"
expect_eq "evictions (learned - entries left, ageing aside)" \
	$((learned - entries - $(jq .fdb_aged <<<"$st"))) "$evicted"
(($(daemon_rss) - rss0 < 16384)) || fail "daemon RSS grew from $rss0 kB to $(daemon_rss) kB"
wait "$pinger" || fail "ping B -> A during the flood lost every reply"
ping_ok a b
ping_ok c a

bridge_alive
test_done
