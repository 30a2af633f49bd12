#!/bin/bash
# SPDX-License-Identifier: MIT
# A port's own FDB cap: A floods random source MACs on a port capped at
# $CAP. With the nolearn policy the port's learned entries stop at the cap
# and the frames are still delivered (rx_learn_refused counts the
# addresses not learned); with drop they are not delivered
# (rx_drop_fdb_cap). Either way A's own MAC, learned before the flood,
# and a conversation between B and C keep working. The cap and policy
# show in port show, come back after a restart, and go with ageing and
# flushes; bad values are refused with a clear message.
UBT_ID=fc
. "$(dirname "$0")/lib.sh"

CAP=50
N=3000
start_bridge "$P"
make_ns a 10.78.0.1/24
make_ns b 10.78.0.2/24
make_ns c 10.78.0.3/24
A=${HOSTIF[a]}

# Waits until COUNTER of PORT is WANT; fails showing what it is.
expect_stat()
{
	local port=$1 counter=$2 want=$3 what=$4
	stat_is() { [[ $(port_stat "$port" "$counter") == "$want" ]]; }
	poll_until 5 stat_is ||
		fail "$what: $counter of $port: expected $want, saw $(port_stat "$port" "$counter")"
}

step "bad values are refused with a reason"
refused()
{
	local want=$1 out
	shift
	if out=$(ubctl "$@" 2>&1); then
		fail "ubctl $* succeeded"
	fi
	matches -F -- "$want" <<<"$out" || fail "ubctl $*: expected '$want' in: $out"
}
refused 'invalid max-learned "many"' port set "$A" max-learned many
refused 'invalid max-learned "8193"' port set "$A" --max-learned 8193
refused 'invalid policy "block" (drop or nolearn)' port set "$A" policy block
refused 'unknown option "cap"' port set "$A" cap 3
refused 'is not a port' port set "${P}nope" max-learned 3
expect_eq "max_learned of $A after refusals" 0 "$(port_stat "$A" max_learned)"

step "port add with a cap, then port set: shown by port show"
ubctl port del "${HOSTIF[c]}"
ubctl port add "${HOSTIF[c]}" --max-learned 7 --policy drop
expect_eq "max_learned of ${HOSTIF[c]}" 7 "$(port_stat "${HOSTIF[c]}" max_learned)"
expect_eq "policy of ${HOSTIF[c]}" drop "$(port_stat "${HOSTIF[c]}" policy)"
ubctl port set "${HOSTIF[c]}" max-learned 0 policy nolearn
ubctl port show | matches -E "^${HOSTIF[c]} .* 0 +nolearn" ||
	fail "port show: no cap 0, nolearn for ${HOSTIF[c]}: $(ubctl port show)"

step "A's own MAC is learned before the cap: A <-> B and B <-> C talk"
ping_ok a b
ping_ok b c
ubctl port set "$A" max-learned "$CAP"
expect_eq "policy of $A by default" nolearn "$(port_stat "$A" policy)"
l0=$(port_stat "$A" learned_entries)
expect_eq "learned entries on A before the flood (its own MAC)" 1 "$l0"

# flood ID: N frames from random sources on A to B's MAC, received on B,
# with B <-> C pinging meanwhile. Sets QDROPS: what A's socket queue lost.
flood()
{
	local id=$1 q0 pinger
	q0=$(port_stat "$A" rx_drop_queue)
	recv_start b "$UBT_TMP/b$id" --timeout 4000
	bg_ns c ping -q -i 0.05 -c 30 -W 1 "${IP[b]}"
	pinger=$UBT_LASTPID
	send a --src random --dst "${MAC[b]}" --id "$id" --count "$N" --interval 100
	recv_wait
	wait "$pinger" || fail "ping C -> B during the flood lost every reply"
	QDROPS=$(($(port_stat "$A" rx_drop_queue) - q0))
	((QDROPS == 0)) || info "A's socket queue dropped $QDROPS frames"
}

step "nolearn: $N random sources on A, capped at $CAP"
r0=$(port_stat "$A" rx_learn_refused)
fl0=$(ubctl -j stats | jq .fdb_learned)
flood 1
want=$((N - QDROPS - (CAP - l0)))
expect_stat "$A" rx_learn_refused $((r0 + want)) "nolearn flood"
expect_eq "learned entries on A after the flood" "$CAP" "$(port_stat "$A" learned_entries)"
expect_eq "addresses learned by the bridge during the flood" $((CAP - l0)) \
	$(($(ubctl -j stats | jq .fdb_learned) - fl0))
expect_frames "flooded frames delivered to B (nolearn forwards them)" "$UBT_TMP/b1" 1 $((N - QDROPS))
info "learned_entries=$CAP rx_learn_refused=$((r0 + want)) delivered=$((N - QDROPS))"
expect_fdb "${MAC[a]}" "$A"
ping_ok a b
ping_ok b c

step "drop: $N more random sources on A are dropped, A's own MAC still passes"
ubctl port set "$A" --policy drop
d0=$(port_stat "$A" rx_drop_fdb_cap)
r1=$(port_stat "$A" rx_learn_refused)
flood 2
expect_stat "$A" rx_drop_fdb_cap $((d0 + N - QDROPS)) "drop flood"
expect_frames "frames from new sources delivered to B" "$UBT_TMP/b2" 2 0
expect_eq "rx_learn_refused under drop" "$r1" "$(port_stat "$A" rx_learn_refused)"
expect_eq "learned entries on A" "$CAP" "$(port_stat "$A" learned_entries)"
info "rx_drop_fdb_cap=$((d0 + N - QDROPS)) delivered=0"
recv_start b "$UBT_TMP/b3" --timeout 1500
send a --src "${MAC[a]}" --dst "${MAC[b]}" --id 3 --count 5
recv_wait
expect_frames "frames from A's own MAC" "$UBT_TMP/b3" 3 5
ping_ok a b
ping_ok c b
bridge_alive

step "a restart keeps the cap and the policy"
matches -x "port add $A max-learned $CAP policy drop" <"$UBT_TMP/$P.state" ||
	fail "no cap for $A in the state file: $(cat "$UBT_TMP/$P.state")"
stop_bridge "$P" || fail "ubridge did not stop cleanly"
start_bridge "$P"
expect_eq "max_learned of $A after the restart" "$CAP" "$(port_stat "$A" max_learned)"
expect_eq "policy of $A after the restart" drop "$(port_stat "$A" policy)"
expect_eq "the state file's cap in JSON" "$CAP" "$(port_field "$A" max_learned)"

step "ageing and flushes give the room back"
ping_ok a b
expect_eq "learned entries on A after the restart" 1 "$(port_stat "$A" learned_entries)"
ubctl time warp 301000
expect_stat "$A" learned_entries 0 "ageing"
send a --src random --dst "${MAC[b]}" --count 80
expect_stat "$A" learned_entries "$CAP" "after ageing, new sources up to the cap"
ubctl fdb flush dev "$A"
expect_eq "learned entries on A after a flush" 0 "$(port_stat "$A" learned_entries)"
ping_ok a b

bridge_alive
test_done
