#!/bin/bash
# SPDX-License-Identifier: MIT
# After start-up the daemon keeps only CAP_NET_RAW, CAP_NET_ADMIN,
# CAP_SYS_ADMIN, CAP_SYS_PTRACE and CAP_IPC_LOCK (mask 0x287000), in every
# thread (the capture writers included) and in the bounding set; and with
# that it still
# does its work: a namespace made, a TAP port, traffic captured. (Every
# other integration test runs under the same reduced set.)
UBT_ID=pv
. "$(dirname "$0")/lib.sh"

WANT=0000000000287000
start_bridge "$P" --capture "all:$UBT_TMP/boot.pcap"
pid=${UBT_BRPID[$BR]}

step "capabilities of every thread of the daemon"
ubctl capture start all "$UBT_TMP/more.pcap" >/dev/null
threads=0
for t in /proc/"$pid"/task/*; do
	for set in CapEff CapPrm CapBnd; do
		expect_eq "$set of thread ${t##*/}" "$WANT" "$(proc_status "$t" "$set")"
	done
	expect_eq "CapInh of thread ${t##*/}" 0000000000000000 "$(proc_status "$t" CapInh)"
	threads=$((threads + 1))
done
((threads >= 3)) || fail "expected the main thread and two capture writers, saw $threads threads"

step "still able: a namespace, a TAP port, traffic captured"
UBT_NS+=("${P}n1")
ubctl netns add "${P}n1" --addr 10.80.0.1/24
ubctl port add --tap "${P}t"
make_ns b 10.80.0.2/24
ping_addr "${P}b" 10.80.0.1 3 || fail "ping b -> n1"
ubctl capture stop all
(($(pcap_frames "$UBT_TMP/more.pcap" icmp) >= 2)) || fail "no ICMP in the capture"

bridge_alive
test_done
