#!/bin/bash
# SPDX-License-Identifier: MIT
# A bounded soak (UBT_SOAK_SECONDS, 30 by default; longer by hand): mixed
# traffic (pings, repeated checked TCP transfers, numbered raw frames) while
# a fifth port is attached, detached, and its link flapped, and control
# requests keep coming. At the end: no numbered frame was duplicated or
# delivered to a port it was not for, the daemon's memory stayed bounded,
# and every port still forwards.
UBT_ID=sk
. "$(dirname "$0")/lib.sh"

SECS=${UBT_SOAK_SECONDS:-30}
start_bridge "$P"
for n in a b c d e; do
	make_ns "$n" "10.79.0.$((${#HOSTIF[@]} + 1))/24"
done
ping_ok a b
ping_ok c d
ping_ok e a
rss0=$(daemon_rss)
end=$((SECONDS + SECS))

step "traffic for ${SECS}s: pings a<->b, TCP c->d, numbered frames a->c"
bg_ns a ping -q -i 0.01 -w "$SECS" 10.79.0.2
bg_ns b ping -q -i 0.01 -w "$SECS" 10.79.0.1
head -c 2000000 /dev/urandom >"$UBT_TMP/data"
sum=$(sha256sum <"$UBT_TMP/data")
bash -c '
	n=0
	while ((SECONDS < $1)); do
		ip netns exec "$2d" timeout 10 socat -u TCP-LISTEN:5003,reuseaddr - >"$3/got" &
		l=$!
		for _ in $(seq 50); do ip netns exec "$2d" ss -Hltn "sport = :5003" | grep -q . && break; sleep 0.05; done
		ip netns exec "$2c" timeout 10 socat -u "FILE:$3/data" TCP:10.79.0.4:5003 || echo "send failed" >>"$3/tcp.err"
		wait "$l"
		[[ $(sha256sum <"$3/got") == "$4" ]] || echo "transfer $n corrupt" >>"$3/tcp.err"
		n=$((n + 1))
	done
	echo "$n" >"$3/tcp.count"' _ "$end" "$P" "$UBT_TMP" "$sum" >/dev/null 2>&1 &
UBT_BGPIDS+=($!)
tcp=$!
# c's MAC is known from the pings: a's frames to it are known unicast.
for n in b c d; do
	recv_start "$n" "$UBT_TMP/r$n" --timeout $(((SECS + 5) * 1000))
done
bg_ns a "$UBT_FRAME" send eth0 --src "${MAC[a]}" --dst "${MAC[c]}" --id 9 \
	--count $((SECS * 1000)) --interval 500
sender=$UBT_LASTPID

step "churn meanwhile: e detached and attached, its link flapped, control requests"
i=0
while ((SECONDS < end)); do
	case $((i % 4)) in
	0) ubctl port del "${HOSTIF[e]}" ;;
	1) ubctl port add "${HOSTIF[e]}" ;;
	2) in_ns "${P}e" ip link set eth0 down ;;
	3) in_ns "${P}e" ip link set eth0 up ;;
	esac
	ubctl -j port show -s >/dev/null
	ubctl -j fdb show >/dev/null
	ubctl -j stats >/dev/null
	i=$((i + 1))
	sleep 0.2
done
port_listed "${HOSTIF[e]}" || ubctl port add "${HOSTIF[e]}"
in_ns "${P}e" ip link set eth0 up
info "$i churn steps"

wait "$sender" || fail "the frame sender failed"
recv_wait
wait "$tcp" || true
step "no frame duplicated or misdelivered, transfers intact, memory bounded"
total=$(count "$UBT_TMP/rc" " id=9 seq=")
uniq=$(grep " id=9 seq=" "$UBT_TMP/rc" | sort -u | wc -l)
info "frames a->c: $total received by c ($uniq distinct) of $((SECS * 1000)) sent"
expect_eq "duplicates on c" "$uniq" "$total"
((total > SECS * 1000 * 9 / 10)) || fail "c got only $total of $((SECS * 1000)) frames"
expect_eq "a->c frames seen on b" 0 "$(count "$UBT_TMP/rb" " id=9 seq=")"
expect_eq "a->c frames seen on d" 0 "$(count "$UBT_TMP/rd" " id=9 seq=")"
[[ ! -s $UBT_TMP/tcp.err ]] || fail "TCP transfers: $(cat "$UBT_TMP/tcp.err")"
info "TCP transfers of 2 MB, each checked: $(cat "$UBT_TMP/tcp.count" 2>/dev/null || echo '?')"
(($(cat "$UBT_TMP/tcp.count" 2>/dev/null || echo 0) >= 3)) || fail "fewer than 3 TCP transfers completed"
# The receive pool (UB_BUF_COUNT x UB_BUF_SIZE = 512 x 68 KiB, io.h) is
# mapped at start and becomes resident as frames land in it: TCP's 64 KiB
# super-frames touch all of it. Beyond the pool, 16 MiB of slack.
# (Under ThreadSanitizer the RSS also holds its shadow memory, a multiple
# of all the memory the daemon touched: no bound for the daemon there.)
info "RSS ${rss0} kB -> $(daemon_rss) kB (the receive pool alone may add 34816 kB)"
if [[ ${UBT_SANITIZE:-} == *thread* ]]; then
	info "RSS not bounded under ThreadSanitizer (its shadow memory counts in it)"
else
	(($(daemon_rss) - rss0 < 34816 + 16384)) || fail "daemon RSS grew from $rss0 kB to $(daemon_rss) kB"
fi

step "every port still forwards"
ping_ok a b
ping_ok c d
ping_ok e a 3
ping_ok d e 3

bridge_alive
test_done
