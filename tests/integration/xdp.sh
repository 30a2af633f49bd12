#!/bin/bash
# SPDX-License-Identifier: MIT
# AF_XDP ports (--packet-rx xdp): frames up to the MTU cross through the
# XDP socket both ways, checksums the sender left to "hardware" arrive
# complete, GSO and jumbo frames take the packet ring (also after it
# moved, and after an MTU change), a full kernel queue is counted and
# forwarding goes on, someone else's XDP program is neither replaced nor
# removed (auto falls back to the ring and says why), and nothing is left on an interface once its
# port goes or the daemon dies.
UBT_ID=xd
. "$(dirname "$0")/lib.sh"

start_bridge "$P" --packet-rx xdp
make_ns 1 172.16.51.1/24
make_ns 2 172.16.51.2/24
H1=${HOSTIF[1]} H2=${HOSTIF[2]}
# xdp_attached IFNAME: an XDP program is on IFNAME.
xdp_attached() { ip -d link show "$1" | matches -E 'prog/xdp|xdpgeneric'; }

step "the ports are XDP ports; pings cross through the AF_XDP sockets"
expect_eq "kind of $H1" xdp "$(port_field "$H1" kind)"
xdp_attached "$H1" || fail "no XDP program on $H1"
read -r rx0 tx0 < <(port_stat "$H1" rx_xdp tx_xdp)
ping_ok 1 2 20
read -r rx1 tx1 < <(port_stat "$H1" rx_xdp tx_xdp)
info "$H1: rx_xdp $rx0 -> $rx1, tx_xdp $tx0 -> $tx1"
((rx1 - rx0 >= 20 && tx1 - tx0 >= 20)) ||
	fail "20 pings each way, but $((rx1 - rx0)) frames in and $((tx1 - tx0)) out through XDP"

step "a UDP checksum left to the sender's 'hardware' arrives complete"
in_ns "${P}1" ethtool -k eth0 | matches 'tx-checksum-ip-generic: on' ||
	fail "tx checksumming is off on ns1's eth0: this step would mean nothing"
bg_ns 2 timeout 10 socat -u UDP-RECV:5151 "OPEN:$UBT_TMP/udp,creat"
sleep 0.3
rx0=$(port_stat "$H1" rx_xdp)
echo "through xdp, checksum completed" | in_ns "${P}1" socat -u - UDP:172.16.51.2:5151
got() { matches -F "through xdp, checksum completed" "$UBT_TMP/udp"; }
# The receiving stack drops a datagram whose checksum is wrong.
wait_until 5 "the datagram in ns2" got
(($(port_stat "$H1" rx_xdp) > rx0)) || fail "the datagram did not come through XDP"

step "TCP with TSO: super-frames through the ring, the rest through XDP"
in_ns "${P}1" ethtool -k eth0 | matches 'tcp-segmentation-offload: on' ||
	fail "TSO went off on ns1's eth0 when XDP attached to its peer"
bg_ns 2 timeout 20 socat -u TCP-LISTEN:5152,reuseaddr "OPEN:$UBT_TMP/tcp,creat"
wait_until 5 "the TCP listener" tcp_listening 2 5152
head -c 8M /dev/urandom >"$UBT_TMP/data"
in_ns "${P}1" timeout 20 socat -u "OPEN:$UBT_TMP/data" TCP:172.16.51.2:5152 ||
	fail "sending 8 MiB over TCP failed"
all_in() { [[ $(stat -c %s "$UBT_TMP/tcp" 2>/dev/null) == 8388608 ]]; }
wait_until 10 "8 MiB in ns2" all_in
cmp -s "$UBT_TMP/data" "$UBT_TMP/tcp" || fail "the 8 MiB arrived changed"

step "the ring moves under GSO super-frames; the wake-ups stay two per port"
# polls: the poll requests pending in the daemon's io_uring instances
# (IORING_OP_POLL_ADD is op 6 in their fdinfo), two per XDP port: its
# ring's socket and its AF_XDP socket. A move cancels both, and arms them
# again once both have ended.
polls()
{
	local pid=${UBT_BRPID[$BR]} fd n=0
	for fd in /proc/"$pid"/fd/*; do
		[[ $(readlink "$fd") == *io_uring* ]] || continue
		n=$((n + $(grep -c '^  op=6,' "/proc/$pid/fdinfo/${fd##*/}" || true)))
	done
	echo "$n"
}
# The move itself: TCP's super-frames may be too few for it (a hundred
# or so for 8 MiB, where a second of upkeep asks for 256 spills of the
# idle ring or a half-full one), so a burst of UDP GSO datagrams, each
# over a chunk and so the ring's, makes it.
moved() { [[ $(port_field "$H1" ring_kib) == 4096 ]]; }
in_ns "${P}1" python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_UDP, 103, 1400)  # UDP_SEGMENT
for _ in range(1000):
    s.sendto(bytes(8400), ("172.16.51.2", 5153))'
wait_until 5 "$H1 to move to its full ring" moved
ping_ok 1 2
expect_eq "poll requests for 2 XDP ports" 4 "$(polls)"

step "MTU 4000 while attached: large pings take the ring, small ones XDP"
for i in 1 2; do
	ip link set "${HOSTIF[$i]}" mtu 4000
	in_ns "$P$i" ip link set eth0 mtu 4000
done
for s in 3972 1000; do
	in_ns "${P}1" ping -q -c 3 -i 0.2 -W 1 -s "$s" -M do 172.16.51.2 >/dev/null ||
		fail "ping -s $s -M do at MTU 4000 failed"
done

step "the UMEM runs out while the daemon is stopped: drops counted, it goes on"
read -r q0 c0 < <(port_stat "$H1" rx_drop_queue rx_drop_xdp_no_chunk)
kill -STOP "${UBT_BRPID[$BR]}"
send 1 --src "${MAC[1]}" --dst 02:00:00:0f:0f:08 --count 20000
kill -CONT "${UBT_BRPID[$BR]}"
grew() { q1=$(port_stat "$H1" rx_drop_queue); ((q1 > q0)); }
poll_until 5 grew || fail "rx_drop_queue on $H1 did not grow ($q0 -> $q1)"
c1=$(port_stat "$H1" rx_drop_xdp_no_chunk)
info "rx_drop_queue on $H1: $q0 -> $q1, rx_drop_xdp_no_chunk $c0 -> $c1"
((c1 > c0)) || fail "no drop for want of a UMEM chunk"
ping_ok 1 2

step "someone else's XDP program stays; auto falls back to the ring"
ip link add "${P}x" type veth peer name "${P}y"
UBT_LINKS+=("${P}x")
ip link set "${P}x" up
ip link set "${P}y" up
mkfifo "$UBT_TMP/hold"
"$UBT_XDP" "${P}x" <"$UBT_TMP/hold" >"$UBT_TMP/ubt-xdp.out" &
UBT_BGPIDS+=("$!")
exec {hold}>"$UBT_TMP/hold"
wait_until 5 "ubt-xdp to attach" matches -x attached "$UBT_TMP/ubt-xdp.out"
out=$(ubctl port add "${P}x" 2>&1) && fail "port add over someone else's XDP program succeeded"
matches -F "an XDP program is attached already (not replaced)" <<<"$out" ||
	fail "the refusal does not say why: $out"
info "refused: $out"
xdp_attached "${P}x" || fail "the other program was removed"
BR1=$BR
start_bridge "${P}b" --packet-rx auto
ubctl port add "${P}x" || fail "auto: port add ${P}x failed"
expect_eq "kind of ${P}x under auto" packet-rings "$(port_field "${P}x" kind)"
matches -F "${P}x attached (packet-rings" "$UBT_TMP/${P}b.log" ||
	fail "auto's fallback is not in the log"
ubctl port del "${P}x"
exec {hold}>&-
BR=$BR1

step "a port's program goes with the port, and with the daemon"
ubctl port del "$H1"
xdp_gone() { ! xdp_attached "$1"; }
# The port closes beside the data path, after the answer.
poll_until 5 xdp_gone "$H1" || fail "the XDP program stayed on $H1 after port del"
kill -KILL "${UBT_BRPID[$BR]}"
wait "${UBT_BRPID[$BR]}" 2>/dev/null || true
unset "UBT_BRPID[$BR]"
# What a daemon removes as it stops: its socket, lock and claims.
rm -rf "$(sock_path "$BR")" "/run/ubridge/$BR.lock" "/run/ubridge/$BR.ports"
poll_until 5 xdp_gone "$H2" || fail "the XDP program stayed on $H2 after the daemon died"

test_done
