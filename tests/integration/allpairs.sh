#!/bin/bash
# SPDX-License-Identifier: MIT
# Six namespaces on one bridge: every ordered pair pings (30 pairs).
UBT_ID=ap
. "$(dirname "$0")/lib.sh"

N=6
start_bridge "$P"
for ((i = 1; i <= N; i++)); do
	make_ns "$i" "172.16.2.$i/16"
done

step "ping all $((N * (N - 1))) ordered pairs"
for ((i = 1; i <= N; i++)); do
	for ((j = 1; j <= N; j++)); do
		((i != j)) || continue
		ping_ok "$i" "$j" 1
	done
done

step "fdb show has all $N MACs on their ports"
for ((i = 1; i <= N; i++)); do
	expect_fdb "${MAC[$i]}" "${HOSTIF[$i]}"
done

test_done
