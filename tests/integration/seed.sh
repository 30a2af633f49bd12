#!/bin/bash
# SPDX-License-Identifier: MIT
# Two namespaces on one bridge ping each other, and the bridge learned each
# one's MAC on its own port.
UBT_ID=sd
. "$(dirname "$0")/lib.sh"

start_bridge "$P"
make_ns 1 172.16.1.1/16
make_ns 2 172.16.1.2/16

step "ping both ways"
ping_ok 1 2 3
ping_ok 2 1 3

step "fdb show has both MACs on their ports"
expect_fdb "${MAC[1]}" "${HOSTIF[1]}"
expect_fdb "${MAC[2]}" "${HOSTIF[2]}"
expect_eq "type of the entry for ${MAC[1]}" learned "$(fdb_type_of "${MAC[1]}")"

test_done
