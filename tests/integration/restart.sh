#!/bin/bash
# SPDX-License-Identifier: MIT
# A daemon killed with SIGKILL under traffic can be replaced at once: its
# listening socket may answer for a while after it died (the kernel tears
# its io_uring down), but its lock is gone with it, so the next start
# takes the stale socket over instead of refusing as "already running",
# and takes the ports back (their claims went with the dead daemon too).
# The first round makes sure the old socket answers. Idle extra ports make the teardown long enough to matter: closing each
# ring socket waits for an RCU grace period.
UBT_ID=rk
. "$(dirname "$0")/lib.sh"

ROUNDS=4
EXTRA=32
NPORTS=$((EXTRA + 2))
start_bridge "$P"
make_ns 1 10.79.0.1/24
make_ns 2 10.79.0.2/24
step "$EXTRA idle ports"
for ((i = 0; i < EXTRA; i++)); do
	ip link add "${P}x$i" type veth peer name "${P}y$i"
	UBT_LINKS+=("${P}x$i")
	ip link set "${P}x$i" up
	ubctl port add "${P}x$i"
done
ping_ok 1 2

step "traffic 1 <-> 2 for the whole test"
bg_ns 1 ping -q -i 0.002 -s 1000 10.79.0.2 >/dev/null 2>&1
bg_ns 2 ping -q -i 0.002 -s 1000 10.79.0.1 >/dev/null 2>&1

nports() { ubctl -j port show 2>/dev/null | jq length; }
ups() { grep -c "bridge up" "$UBT_TMP/$P.log" || true; }
# Up again: a new "bridge up" line and every port back; fails at once
# when the new daemon exits.
back_up()
{
	local pid=$1 want=$2
	if ! kill -0 "$pid" 2>/dev/null; then
		unset "UBT_BRPID[$P]"
		fail "the new daemon exited: $(tail -n 3 "$UBT_TMP/$P.log")"
	fi
	(($(ups) >= want)) && [[ $(nports) == "$NPORTS" ]]
}

for ((r = 1; r <= ROUNDS; r++)); do
	step "round $r: SIGKILL under traffic, start again at once"
	pid=${UBT_BRPID[$P]}
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null || true
	unset "UBT_BRPID[$P]"
	want=$(($(ups) + 1))
	if ((r == 1)); then
		# What a dead daemon's socket may look like while the kernel
		# tears it down, made certain: it still answers.
		rm -f "$(sock_path "$P")"
		socat UNIX-LISTEN:"$(sock_path "$P")",fork SYSTEM:true </dev/null >/dev/null 2>&1 &
		UBT_BGPIDS+=("$!")
		wait_until 3 "the stand-in socket" test -S "$(sock_path "$P")"
		socat -u OPEN:/dev/null UNIX-CONNECT:"$(sock_path "$P")" ||
			fail "the stand-in socket does not answer"
	fi
	# shellcheck disable=SC2086 # UBT_BRIDGE_ARGS are words
	env --default-signal=INT,QUIT "$UBRIDGE" -f -n "$P" --state "$UBT_TMP/$P.state" \
		${UBT_BRIDGE_ARGS:-} 2>>"$UBT_TMP/$P.log" &
	UBT_BRPID[$P]=$!
	wait_until 10 "the new daemon up with its $NPORTS ports" back_up "${UBT_BRPID[$P]}" "$want"
	ping_ok 1 2
done

bridge_alive
test_done
