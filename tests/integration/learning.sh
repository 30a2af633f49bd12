#!/bin/bash
# SPDX-License-Identifier: MIT
# Once A and B are learned, unicast between them goes to the one right port
# only: C sees none of it, and B (or A) sees each frame exactly once.
UBT_ID=le
. "$(dirname "$0")/lib.sh"

start_bridge "$P"
make_ns a 172.16.4.1/16
make_ns b 172.16.4.2/16
make_ns c

step "make A and B known"
ping_ok a b
ping_ok b a
expect_fdb "${MAC[a]}" "${HOSTIF[a]}"
expect_fdb "${MAC[b]}" "${HOSTIF[b]}"

step "5 unicast frames A -> B and 5 B -> A, captured on A, B and C"
for n in a b c; do
	recv_start "$n" "$UBT_TMP/$n"
done
send a --dst "${MAC[b]}" --src "${MAC[a]}" --id 1 --count 5
send b --dst "${MAC[a]}" --src "${MAC[b]}" --id 2 --count 5
recv_wait

expect_frames "B gets A's frames" "$UBT_TMP/b" 1 5
expect_frames "A gets B's frames" "$UBT_TMP/a" 2 5
expect_frames "B does not get its own frames back" "$UBT_TMP/b" 2 0
expect_frames "A does not get its own frames back" "$UBT_TMP/a" 1 0
expect_eq "frames seen on C" 0 "$(count "$UBT_TMP/c" .)"

step "fdb still has A and B on the right ports"
expect_fdb "${MAC[a]}" "${HOSTIF[a]}"
expect_fdb "${MAC[b]}" "${HOSTIF[b]}"

test_done
