#!/bin/bash
# SPDX-License-Identifier: MIT
# Many ports: 1024 of them attach through "port add IF..." (24 at a time,
# opened in parallel), one request attaching some and refusing others
# reports each refusal and keeps the rest, each port adds less than
# 0.5 MB to the daemon's resident memory by default (idle rings: issue 12),
# frames cross from the
# first port to the last, and the
# daemon stops within 10 s of SIGTERM, with exit status 0, leaving none
# of them behind (no interface still promiscuous, no claim left in its run
# directory). Closing a ring port's sockets waits for RCU grace periods in
# the kernel; one port after the other, 256 ports took about 10 s where
# grace periods are not expedited (/sys/kernel/rcu_expedited 0). The
# attach and stop times are printed, not judged (bench/ports.sh measures).
UBT_ID=ps
. "$(dirname "$0")/lib.sh"

NPORTS=1024
BATCH=24
STOP_MAX=10

now() { echo "$EPOCHREALTIME"; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

info "rcu_expedited: $(cat /sys/kernel/rcu_expedited 2>/dev/null || echo unknown)"
step "$NPORTS veth pairs ${P}a<i> <-> ${P}b<i>"
for ((i = 0; i < NPORTS; i++)); do
	echo "link add ${P}a$i type veth peer name ${P}b$i"
	UBT_LINKS+=("${P}a$i")
done >"$UBT_TMP/add.batch"
for ((i = 0; i < NPORTS; i++)); do
	echo "link set ${P}a$i addrgenmode none"
	echo "link set ${P}b$i addrgenmode none"
	echo "link set ${P}a$i up"
	echo "link set ${P}b$i up"
done >"$UBT_TMP/up.batch"
ip -batch "$UBT_TMP/add.batch"
ip -batch "$UBT_TMP/up.batch"

start_bridge "$P"
rss0=$(daemon_rss)
step "one request: some attached, the others named in the refusal"
out=$(ubctl port add "${P}a0" "${P}nope" "${P}a1" "${P}a0" 2>&1) &&
	fail "port add with a missing interface succeeded: $out"
info "$out"
[[ $out == *"2 of 4 attached"* && $out == *"no such interface: ${P}nope"* &&
	$out == *"${P}a0 is named twice"* ]] ||
	fail "the refusal does not name what failed: $out"
if ! port_listed "${P}a0" || ! port_listed "${P}a1"; then
	fail "the interfaces that could be attached were not"
fi

step "attach $NPORTS ports, $BATCH per port add"
t0=$(now)
for ((i = 2; i < NPORTS; i += BATCH)); do
	names=()
	for ((k = i; k < i + BATCH && k < NPORTS; k++)); do
		names+=("${P}a$k")
	done
	ubctl port add "${names[@]}"
done
rss1=$(daemon_rss)
info "attached in $(secs "$t0" "$(now)") s, VmRSS $rss0 -> $rss1 kB," \
	"$(((rss1 - rss0) / NPORTS)) kB per port"
(((rss1 - rss0) / NPORTS <= 512)) ||
	fail "$(((rss1 - rss0) / NPORTS)) kB resident per port, more than 512"
n=$(ubctl -j port show | jq length)
expect_eq "ports listed" "$NPORTS" "$n"

step "frames cross between the first port and the last"
last=${P}b$((NPORTS - 1))
# The last port's peer says who it is; then the first sends to it.
"$UBT_FRAME" send "$last" --src 02:00:00:5e:0f:02 --dst ff:ff:ff:ff:ff:ff --count 1
wait_until 5 "the last peer's MAC learned" \
	bash -c "'$UBCTL' -n '$BR' fdb show | grep -q 02:00:00:5e:0f:02"
rm -f "$UBT_TMP/recv.ready"
"$UBT_FRAME" recv "$last" --timeout 3000 --count 20 --ready "$UBT_TMP/recv.ready" \
	>"$UBT_TMP/recv" &
rpid=$!
wait_until 5 "ubt-frame recv to listen" test -e "$UBT_TMP/recv.ready"
"$UBT_FRAME" send "${P}b0" --src 02:00:00:5e:0f:01 --dst 02:00:00:5e:0f:02 \
	--id 7 --count 20
wait "$rpid" || true
expect_eq "frames from the first port's peer at the last's" 20 \
	"$(grep -c 'src=02:00:00:5e:0f:01 .* id=7 ' "$UBT_TMP/recv" || true)"

promisc()
{
	ip -d -j link show | jq --arg p "${P}a" \
		'[.[] | select(.ifname | startswith($p)) | select(.promiscuity > 0)] | length'
}
n=$(promisc)
expect_eq "promiscuous ports while attached" "$NPORTS" "$n"

step "SIGTERM: the daemon stops within $STOP_MAX s"
pid=${UBT_BRPID[$P]}
UBT_DAEMON_SECS=60
t0=$(now)
rc=0
stop_bridge "$P" || rc=$?
took=$(secs "$t0" "$(now)")
info "stopped in $took s (exit $rc)"
((rc == 0)) || fail "ubridge exited with $rc on SIGTERM"
pid_gone "$pid" || fail "ubridge (pid $pid) is still running"
awk -v t="$took" -v m="$STOP_MAX" 'BEGIN { exit !(t < m) }' ||
	fail "stopping $NPORTS ports took $took s (at most $STOP_MAX s)"

step "no port left behind"
n=$(promisc)
expect_eq "interfaces still promiscuous" 0 "$n"
left=0
if [[ -d /run/ubridge/$P.ports ]]; then
	left=$(find "/run/ubridge/$P.ports" -type f | wc -l)
fi
expect_eq "claims left in /run/ubridge/$P.ports" 0 "$left"
[[ ! -e $(sock_path "$P") ]] || fail "$(sock_path "$P") is still there"
test_done
