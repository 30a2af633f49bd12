#!/bin/bash
# SPDX-License-Identifier: MIT
# A 20 MiB TCP transfer through the bridge with the veths' default offloads
# (TSO, checksum offload): the bytes arrive intact. Ping alone does not
# show that the bridge carries partial checksums and GSO frames correctly.
UBT_ID=tc
. "$(dirname "$0")/lib.sh"

start_bridge "$P"
make_ns 1 172.16.3.1/16
make_ns 2 172.16.3.2/16

step "offloads are on (the defaults), so this test means something"
for n in 1 2; do
	for feat in tcp-segmentation-offload tx-checksumming; do
		line=$(in_ns "$P$n" ethtool -k eth0 | grep -E "^$feat:")
		[[ $line == "$feat: on"* ]] || fail "ns$n eth0: expected '$feat: on', saw '$line'"
	done
done
for h in "${HOSTIF[@]}"; do
	line=$(ethtool -k "$h" | grep -E '^tcp-segmentation-offload:')
	[[ $line == "tcp-segmentation-offload: on"* ]] || fail "$h: expected TSO on, saw '$line'"
done

step "ping first"
ping_ok 1 2

step "send 20 MiB of random bytes ns1 -> ns2 over TCP"
head -c $((20 << 20)) /dev/urandom >"$UBT_TMP/in"
want=$(sha256sum <"$UBT_TMP/in" | cut -d' ' -f1)
port=$((20000 + $$ % 20000))
bg_ns 2 timeout 20 socat -u "TCP-LISTEN:$port,bind=${IP[2]},reuseaddr" "CREATE:$UBT_TMP/out"
server=$UBT_LASTPID
wait_until 5 "TCP listener in ns2" tcp_listening 2 "$port"
start=$SECONDS
in_ns "$P"1 timeout 20 socat -u "OPEN:$UBT_TMP/in" "TCP:${IP[2]}:$port" ||
	fail "the sender failed (exit $?)"
rc=0
wait "$server" || rc=$?
((rc == 0)) || fail "the receiver failed (exit $rc)"
info "transfer took about $((SECONDS - start)) s"
got=$(sha256sum <"$UBT_TMP/out" | cut -d' ' -f1)
size=$(stat -c %s "$UBT_TMP/out")
expect_eq "bytes received" $((20 << 20)) "$size"
expect_eq "sha256 of the received file" "$want" "$got"

step "the data crossed as GSO super-frames, not MTU-sized segments"
read -r pkts bytes < <(port_stat "${HOSTIF[1]}" rx_packets rx_bytes)
info "${HOSTIF[1]}: $pkts frames, $bytes bytes received"
((pkts > 0 && bytes / pkts > 3000)) ||
	fail "average frame from ns1 is $((bytes / (pkts ? pkts : 1))) bytes: GSO frames did not cross whole"

bridge_alive
test_done
