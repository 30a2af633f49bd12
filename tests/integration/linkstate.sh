#!/bin/bash
# SPDX-License-Identifier: MIT
# Ports that change under the bridge, followed through netlink link events:
# a link set down stops its port (nothing forwarded to it, its learned
# entries flushed, and the daemon asleep) and up resumes it; a renamed
# interface keeps its port under the new name; a deleted one loses its
# port while the others keep forwarding, and an interface re-created with
# the same name can be added again.
UBT_ID=ls
. "$(dirname "$0")/lib.sh"

start_bridge "$P"
make_ns a 10.78.0.1/24
make_ns b 10.78.0.2/24
make_ns c 10.78.0.3/24
ping_ok a b
ping_ok c a
is_state() { [[ $(port_field "$1" state) == "$2" ]]; }

step "A's link goes down (inside its namespace): its port stops, its entries go"
in_ns "${P}a" ip link set eth0 down
wait_until 5 "port ${HOSTIF[a]} down" is_state "${HOSTIF[a]}" down
expect_fdb "${MAC[a]}" ""
tx0=$(port_stat "${HOSTIF[a]}" tx_packets)
recv_start c "$UBT_TMP/c"
send b --src "${MAC[b]}" --dst ff:ff:ff:ff:ff:ff --id 1 --count 5
recv_wait
expect_frames "broadcast from B on C" "$UBT_TMP/c" 1 5
expect_eq "frames sent to the down port" "$tx0" "$(port_stat "${HOSTIF[a]}" tx_packets)"

step "A's link comes back: the port forwards again"
in_ns "${P}a" ip link set eth0 up
wait_until 5 "port ${HOSTIF[a]} forwarding" is_state "${HOSTIF[a]}" forwarding
ping_ok b a 3

step "A's host end set down: the port stops, the daemon sleeps; up: it forwards"
# The packet socket of an interface set down has an error pending
# (ENETDOWN), which a wake-up reports at once, again and again, until
# it is taken.
ip link set "${HOSTIF[a]}" down
wait_until 5 "port ${HOSTIF[a]} down" is_state "${HOSTIF[a]}" down
expect_asleep "with the link down"
ip link set "${HOSTIF[a]}" up
wait_until 5 "port ${HOSTIF[a]} forwarding" is_state "${HOSTIF[a]}" forwarding
ping_ok b a 3

step "C's host end is renamed: the port follows"
new=${P}rn
UBT_LINKS+=("$new")
ip link set dev "${HOSTIF[c]}" name "$new"
wait_until 5 "port $new listed" port_listed "$new"
! port_listed "${HOSTIF[c]}" || fail "the old name ${HOSTIF[c]} is still listed"
ping_ok c a 3

step "B's host end is deleted: its port goes, A and C keep forwarding"
ip link del "${HOSTIF[b]}"
gone() { ! port_listed "${HOSTIF[b]}"; }
wait_until 5 "port ${HOSTIF[b]} to go" gone
ping_ok a c

step "re-created with the same name, it can be added again"
# The peer gets its old MAC back, so the neighbours' ARP caches still hold.
ip link add "${HOSTIF[b]}" type veth peer name eth0 address "${MAC[b]}" netns "${P}b"
sysctl -qw "net.ipv6.conf.${HOSTIF[b]}.disable_ipv6=1"
ip link set "${HOSTIF[b]}" up
in_ns "${P}b" ip addr add 10.78.0.2/24 dev eth0
in_ns "${P}b" ip link set eth0 up
ubctl port add "${HOSTIF[b]}"
ping_ok a b 3

bridge_alive
test_done
