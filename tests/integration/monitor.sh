#!/bin/bash
# SPDX-License-Identifier: MIT
# ubctl monitor: each event seen as it happens, as a line of text and as
# JSON: ports added and going down, addresses learned, moved (with the
# port before), aged (time warp) and flushed, a port blocked and unblocked
# by a guard; "monitor loop" sees only the guards' events; "fdb show -s"
# counts an address's moves. A reader that stops reading loses the oldest
# events and is told how many, without holding up forwarding; readers that
# go away free their slots (16 at most, the 17th refused).
UBT_ID=mn
. "$(dirname "$0")/lib.sh"

start_bridge "$P"
make_ns 1 172.16.40.1/24
make_ns 2 172.16.40.2/24

# mon FILE ARGS...: a monitor writing to FILE, in the background.
mon()
{
	local out=$1
	shift
	"$UBCTL" -n "$BR" "$@" >"$out" 2>&1 &
	UBT_BGPIDS+=("$!")
	MONPID=$!
}
# seen FILE REGEX: FILE has a line matching REGEX.
seen() { grep -qE -- "$2" "$1"; }

step "three monitors: all events as text, fdb and port as JSON, loop only"
mon "$UBT_TMP/all" monitor
mon "$UBT_TMP/json" -j monitor fdb port
mon "$UBT_TMP/loop" monitor loop
# They listen once they show a port added: a TAP port comes and goes
# until both have seen one.
probe=0
listening()
{
	probe=$((probe + 1))
	ubctl port add --tap "${P}p$probe"
	ubctl port del "${P}p$probe"
	seen "$UBT_TMP/all" " added dev ${P}p[0-9]+\$" &&
		seen "$UBT_TMP/json" "\"event\":\"added\".*\"port\":\"${P}p[0-9]+\""
}
wait_until 10 "the monitors to listen" listening
ip link add "${P}x" type veth peer name "${P}y"
UBT_LINKS+=("${P}x")
ubctl port add "${P}x"
wait_until 3 "'added' on the text monitor" seen "$UBT_TMP/all" "^[0-9:.]+ added dev ${P}x\$"
wait_until 3 "'added' on the JSON monitor" seen "$UBT_TMP/json" "\"event\":\"added\".*\"port\":\"${P}x\""

step "learned: a ping each way"
ping_ok 1 2
wait_until 3 "learned ${MAC[1]}" seen "$UBT_TMP/all" "learned ${MAC[1]} vlan 0 dev ${HOSTIF[1]}\$"
wait_until 3 "learned ${MAC[2]}" seen "$UBT_TMP/all" "learned ${MAC[2]} vlan 0 dev ${HOSTIF[2]}\$"
wait_until 3 "learned ${MAC[1]} as JSON" seen "$UBT_TMP/json" \
	"^\\{\"event\":\"learned\",\"ts\":[0-9]+,\"mac\":\"${MAC[1]}\",\"vlan\":0,\"port\":\"${HOSTIF[1]}\"\\}\$"

step "moved: ${MAC[1]} shows up behind ${HOSTIF[2]}"
send 2 --dst ff:ff:ff:ff:ff:ff --src "${MAC[1]}" --count 1
wait_until 3 "moved ${MAC[1]}" seen "$UBT_TMP/all" "moved ${MAC[1]} vlan 0 dev ${HOSTIF[2]} from ${HOSTIF[1]}\$"
wait_until 3 "moved as JSON" seen "$UBT_TMP/json" "\"event\":\"moved\",.*\"mac\":\"${MAC[1]}\".*\"port\":\"${HOSTIF[2]}\",\"from\":\"${HOSTIF[1]}\""
expect_eq "moves of ${MAC[1]} in fdb show -s (JSON)" 1 \
	"$(ubctl -j -s fdb show | jq --arg m "${MAC[1]}" '.[] | select(.mac == $m) | .moves')"
ubctl -s fdb show | matches -E "^${MAC[1]} dev ${HOSTIF[2]} vlan 0 learned age [0-9]+s moves 1\$" ||
	fail "fdb show -s: no 'moves 1' for ${MAC[1]}: $(ubctl -s fdb show)"
ubctl fdb show | matches moves && fail "fdb show without -s shows moves"
expect_eq "moves without -s (JSON)" null \
	"$(ubctl -j fdb show | jq --arg m "${MAC[1]}" '.[] | select(.mac == $m) | .moves')"

step "aged: ageing 10 s, the clock warped by 11 s"
ubctl set ageing 10
ubctl time warp 11000
wait_until 3 "aged ${MAC[2]}" seen "$UBT_TMP/all" "aged ${MAC[2]} vlan 0 dev ${HOSTIF[2]}\$"
ubctl set ageing 300

step "flushed, and a port going down"
ping_ok 1 2
ubctl fdb flush
wait_until 3 "flushed all" seen "$UBT_TMP/all" "flushed dev all entries [0-9]+\$"
ip link set "${HOSTIF[2]}" down
wait_until 3 "down ${HOSTIF[2]}" seen "$UBT_TMP/all" "down dev ${HOSTIF[2]}\$"
wait_until 3 "down as JSON" seen "$UBT_TMP/json" "\"event\":\"down\",.*\"port\":\"${HOSTIF[2]}\""
ip link set "${HOSTIF[2]}" up
wait_until 3 "up ${HOSTIF[2]}" seen "$UBT_TMP/all" "up dev ${HOSTIF[2]}\$"

step "blocked and unblocked: a BPDU on a port with bpdu-guard (hold 1 s)"
ubctl set loop-hold 1
ubctl port set "${HOSTIF[1]}" --bpdu-guard on
send 1 --dst 01:80:c2:00:00:00 --src "${MAC[1]}" --type 0x0026 --count 1
wait_until 3 "blocked on the loop monitor" seen "$UBT_TMP/loop" "blocked dev ${HOSTIF[1]} reason bpdu\$"
wait_until 5 "unblocked on the loop monitor" seen "$UBT_TMP/loop" "unblocked dev ${HOSTIF[1]}\$"
seen "$UBT_TMP/all" "blocked dev ${HOSTIF[1]} reason bpdu\$" || fail "the text monitor missed the block"
# Only the guards' events on "monitor loop"; none of them on "fdb port".
expect_eq "lines on the loop monitor other than (un)blocked" 0 \
	"$(grep -cvE '^[0-9:.]+ (blocked|unblocked) ' "$UBT_TMP/loop" || true)"
expect_eq "blocked events on the fdb+port JSON monitor" 0 "$(count "$UBT_TMP/json" blocked)"
ubctl port set "${HOSTIF[1]}" --bpdu-guard off

step "a reader that keeps up gets every event of a burst: 3000 new addresses"
mon "$UBT_TMP/fast" monitor fdb
fast=$MONPID
listening_fdb() { send 1 --dst ff:ff:ff:ff:ff:ff --src random --count 1; seen "$UBT_TMP/fast" " learned "; }
wait_until 5 "the fast monitor to listen" listening_fdb
before=$(count "$UBT_TMP/fast" ' learned ')
learned0=$(ubctl -j stats | jq .fdb_learned)
send 1 --dst ff:ff:ff:ff:ff:ff --src random --count 3000 --interval 20
# As many lines as addresses learned (a slow daemon may miss frames).
want=$(($(ubctl -j stats | jq .fdb_learned) - learned0))
((want > 2000)) || fail "only $want of 3000 addresses learned"
all_learned() { (($(count "$UBT_TMP/fast" ' learned ') >= before + want)); }
wait_until 5 "$want 'learned' lines" all_learned
expect_eq "'lost' lines on a reader that keeps up" 0 "$(count "$UBT_TMP/fast" ' lost ')"
kill "$fast"

step "a reader that stops reading: 20000 new addresses, then it reads again"
mkfifo "$UBT_TMP/slow.fifo"
"$UBCTL" -n "$BR" monitor fdb port >"$UBT_TMP/slow.fifo" &
UBT_BGPIDS+=("$!")
slow=$!
exec {hold}<"$UBT_TMP/slow.fifo"
# Listening once it shows a learned address (the monitor may take a while
# to subscribe under a sanitizer: probe until a line comes); then nobody
# reads the FIFO: the monitor's socket fills up and it falls behind, while
# the bridge forwards as ever.
line=
for _ in $(seq 10); do
	send 1 --dst ff:ff:ff:ff:ff:ff --src random --count 1
	read -r -t 1 -u "$hold" line && break
done
[[ -n $line ]] || fail "the slow monitor said nothing"
[[ $line == *" learned "* ]] || fail "the slow monitor's first line: $line"
send 1 --dst ff:ff:ff:ff:ff:ff --src random --count 20000 --interval 10
ping_ok 1 2
cat <&"$hold" >"$UBT_TMP/slow" &
UBT_BGPIDS+=("$!")
exec {hold}<&-
wait_until 5 "'lost' on the slow monitor" seen "$UBT_TMP/slow" "^[0-9:.]+ lost count [1-9][0-9]*\$"
# A line each time it is found behind, with what it lost since.
lost=$(sed -nE 's/^[0-9:.]+ lost count ([0-9]+)$/\1/p' "$UBT_TMP/slow" | awk '{ n += $1 } END { print n + 0 }')
info "the slow reader lost $lost events, had $(count "$UBT_TMP/slow" ' (learned|evicted) ') others so far; learned: $(ubctl -j stats | jq .fdb_learned)"
((lost > 0 && lost <= 32000)) || fail "lost $lost events of at most 32000"
kill "$slow"

step "readers that go away free their slots: 16 at most"
# Monitors until one is refused (a slot of a reader just gone may take a
# second to come free): it must say why.
pids=()
for i in $(seq 1 20); do
	mon "$UBT_TMP/m$i" monitor port
	sleep 0.3
	kill -0 "$MONPID" 2>/dev/null || break
	pids+=("$MONPID")
done
matches 'all 16 monitors are in use' "$UBT_TMP/m$i" ||
	fail "monitor $i: expected a refusal, saw: $(cat "$UBT_TMP/m$i")"
((${#pids[@]} >= 11)) || fail "only ${#pids[@]} monitors beside the first three"
kill "${pids[@]}"
# One that stays connected (timeout ends it) has a slot again.
got_slot() { timeout 0.5 "$UBCTL" -n "$BR" monitor port >/dev/null 2>&1; [[ $? == 124 ]]; }
wait_until 5 "a monitor slot free again once the readers went away" got_slot

bridge_alive
test_done
