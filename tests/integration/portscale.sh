#!/bin/bash
# SPDX-License-Identifier: MIT
# Many ports: a daemon with 256 of them stops within 10 s of SIGTERM, with
# exit status 0, and leaves none of them behind (no interface still
# promiscuous, no claim left in its run directory). Closing a ring port's
# sockets waits for RCU grace periods in the kernel; done one port after
# the other, 256 ports took about 10 s where grace periods are not
# expedited (/sys/kernel/rcu_expedited 0). The attach and stop times are
# printed.
UBT_ID=ps
. "$(dirname "$0")/lib.sh"

NPORTS=256
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

# Small rings: the kernel's ring memory is resident, and the grace periods
# do not depend on it.
start_bridge "$P" --ring-size 256
step "attach $NPORTS ports"
t0=$(now)
# Four clients at a time: what is slow here is starting ubctl (under a
# sanitizer above all), not the attach.
for ((i = 0; i < NPORTS; i++)); do
	echo "${P}a$i"
done | xargs -P 4 -n 1 "$UBCTL" -n "$BR" port add >/dev/null
info "attached in $(secs "$t0" "$(now)") s, VmRSS $(daemon_rss) kB"
n=$(ubctl -j port show | jq length)
expect_eq "ports listed" "$NPORTS" "$n"

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
