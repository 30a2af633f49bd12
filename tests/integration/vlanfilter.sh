#!/bin/bash
# SPDX-License-Identifier: MIT
# VLAN filtering (issue 15), with raw tagged frames (no 8021q module here).
# Ports: acc (access 10), trk (trunk: 10, 20 tagged, no PVID), nat (trunk
# with native: 10, 20 tagged, 30 PVID untagged), a10, a20, a30 (access),
# dfl (never given VLANs: VLAN 1). acc, trk and nat each send untagged,
# priority-tagged, tagged member, tagged non-member and S-tagged (802.1ad)
# broadcasts; every port must see exactly the frames due to it (tag or
# none, length, PCP, S-tag) and nothing else, and each drop is counted in
# rx_drop_vlan. Then: learning and lookup per VID (one MAC in two VLANs),
# a static entry outside the frame's VLAN (tx_drop_vlan), bad input
# refused, vlan del, netns add --vlan, vlan show and -j vlan show, all of
# it kept across a restart, and vlan-filtering off passing tags through
# untouched again.
UBT_ID=vf
. "$(dirname "$0")/lib.sh"

start_bridge "$P"
PORTS=(acc trk nat a10 a20 a30 dfl)
for n in "${PORTS[@]}"; do
	make_ns "$n"
done
# One address used from two VLANs, on two ports.
X=02:00:00:0f:15:01
BCAST=ff:ff:ff:ff:ff:ff

# ---- helpers ----

h() { echo "${HOSTIF[$1]}"; }

# The frames of a round: what each port must see of each id.
declare -a ROUND=()
declare -A EXP=() TXSRC=() TXDST=() TXWHAT=() DROP0=()
NROUND=0

# round_start: captures on every port in PORTS, and the VLAN drop
# counters as they are.
round_start()
{
	local n f
	NROUND=$((NROUND + 1))
	ROUND=() EXP=()
	for n in "${PORTS[@]}"; do
		DROP0[$n]=$(drops_of "$n")
	done
	# As recv_start does, but all started before waiting for any.
	for n in "${PORTS[@]}"; do
		f=$UBT_TMP/r$NROUND-$n
		bg_ns "$n" "$UBT_FRAME" recv eth0 --timeout 3000 --ready "$f.ready" >"$f"
		UBT_RECVPIDS+=("$UBT_LASTPID")
	done
	wait_until 5 "the captures to listen" captures_ready
}
captures_ready()
{
	local n
	for n in "${PORTS[@]}"; do
		[[ -e $UBT_TMP/r$NROUND-$n.ready ]] || return 1
	done
}

# drops_of PORT: its rx_drop_vlan and tx_drop_vlan, "RX TX".
drops_of()
{
	local v
	v=$(port_stat "${HOSTIF[$1]}" rx_drop_vlan tx_drop_vlan)
	[[ $v =~ ^[0-9]+\ [0-9]+$ ]] ||
		fail "port show -s: rx_drop_vlan and tx_drop_vlan of $1 (${HOSTIF[$1]}): expected two numbers, saw '$v'"
	echo "$v"
}
# drops_grown PORT: how much they grew since round_start, "RX/TX".
drops_grown()
{
	local now rx tx rx0 tx0
	now=$(drops_of "$1")
	read -r rx tx <<<"$now"
	read -r rx0 tx0 <<<"${DROP0[$1]}"
	echo "$((rx - rx0))/$((tx - tx0))"
}

# tx ID NAME [SEND OPTIONS] -- [PORT=VLAN/LEN[/PCP[/STAG]]]...: two frames
# with id ID out of NAME (from its MAC to broadcast unless --src/--dst say
# otherwise), and what each port named must see of them: vlan=VLAN
# (none or a VID), len=LEN, pcp=PCP (default 0 when tagged, - when not),
# stag=STAG (default none). Ports not named must see nothing.
tx()
{
	local id=$1 from=$2 src dst w v l p s
	local -a opts=()
	shift 2
	src=${MAC[$from]} dst=$BCAST
	while (($#)) && [[ $1 != -- ]]; do
		case $1 in
		--src) src=$2 ;;
		--dst) dst=$2 ;;
		*) opts+=("$1" "$2") ;;
		esac
		shift 2
	done
	(($#)) || fail "tx $id: no -- in the arguments"
	shift
	ROUND+=("$id")
	TXSRC[$id]=$src TXDST[$id]=$dst
	TXWHAT[$id]="from $from (${opts[*]:-no tag}, $src -> $dst)"
	for w in "$@"; do
		IFS=/ read -r v l p s <<<"${w#*=}"
		[[ -n $p ]] || { [[ $v == none ]] && p=- || p=0; }
		EXP[$id,${w%%=*}]="vlan=$v type=0x88b5 len=$l|pcp=$p stag=${s:-none}"
	done
	send "$from" --src "$src" --dst "$dst" --size 100 --id "$id" --count 2 "${opts[@]}"
}

# round_check [PORT=RX[/TX]]...: after the captures end, every port saw
# exactly what tx said of each id, and each port's rx_drop_vlan grew by RX
# and its tx_drop_vlan by TX (0 when not said).
round_check()
{
	local id n want got e seq f
	local -A dwant=()
	recv_wait
	for id in "${ROUND[@]}"; do
		for n in "${PORTS[@]}"; do
			f=$UBT_TMP/r$NROUND-$n
			want=
			e=${EXP[$id,$n]:-}
			if [[ -n $e ]]; then
				for seq in 0 1; do
					want+="dst=${TXDST[$id]} src=${TXSRC[$id]} ${e%|*} id=$id seq=$seq ${e#*|}"$'\n'
				done
			fi
			got=$(grep -E -- " id=$id seq=" "$f" | sort || true)
			if [[ $got != "${want%$'\n'}" ]]; then
				printf -- '---- %s ----\n' "$f" >&2
				cat "$f" >&2
				fail "frame $id ${TXWHAT[$id]} on $n:"$'\n'"expected: ${want:-nothing}"$'\n'"saw: ${got:-nothing}"
			fi
		done
	done
	for n in "${PORTS[@]}"; do
		dwant[$n]=0/0
	done
	for e in "$@"; do
		dwant[${e%%=*}]=${e#*=}
		[[ $e == */* ]] || dwant[${e%%=*}]+=/0
	done
	# Counters are read from the workers: give them a moment.
	poll_until 2 drops_as_wanted dwant || true
	for n in "${PORTS[@]}"; do
		expect_eq "rx_drop_vlan/tx_drop_vlan of $n grown by" "${dwant[$n]}" "$(drops_grown "$n")"
	done
}
drops_as_wanted()
{
	local -n dw=$1
	local n
	for n in "${PORTS[@]}"; do
		[[ $(drops_grown "$n") == "${dw[$n]}" ]] || return 1
	done
}

# vlan_show: `-j vlan show`'s records as [PORT, PVID, VIDS, UNTAGGED]
# (make_ns names for the ports), sorted; the table of `vlan show` must
# say the same.
vlan_show()
{
	local js txt tab n
	js=$(ubctl -j vlan show | jq -c '.[] | [.port, .pvid, .vids, .untagged]')
	txt=$(jq -r '"\(.[0]) \(.[1]) \(.[2]) \(.[3])"' <<<"$js")
	tab=$(ubctl vlan show | awk 'NR == 1 && !/^PORT +PVID +VLANS +UNTAGGED *$/ { print "header: " $0 }
		NR > 1 { print $1, $2, $3, $4 }')
	[[ $tab == "$txt" ]] || fail "vlan show and -j vlan show differ: '$tab' against '$txt'"
	for n in "${!HOSTIF[@]}"; do
		js=${js//\"${HOSTIF[$n]}\"/\"$n\"}
	done
	sort <<<"$js"
}
expect_vlans()
{
	expect_eq "vlan show" "$(printf '%s\n' "$@" | sort)" "$(vlan_show)"
}

# fdb_learned MAC: MAC's learned entries as VID@PORT (make_ns names),
# sorted.
fdb_learned()
{
	local out n
	out=$(ubctl -j fdb show | jq -r --arg m "$1" '.[] | select(.mac == $m and .type == "learned") | "\(.vlan)@\(.port)"')
	for n in "${!HOSTIF[@]}"; do
		out=${out//@${HOSTIF[$n]}/@$n}
	done
	sort <<<"$out" | paste -sd, -
}

# vn_port: the port and MAC of namespace vn (made by netns add) into
# HOSTIF and MAC, as make_ns sets them.
vn_port()
{
	HOSTIF[vn]=$(ubctl -j netns show | jq -r --arg n "${P}vn" '.[] | select(.name == $n) | .port')
	[[ -n ${HOSTIF[vn]} ]] || fail "netns show does not list ${P}vn: $(ubctl netns show)"
	MAC[vn]=$(in_ns "${P}vn" cat /sys/class/net/eth0/address)
}

# The state file has the VLANs as the test left them before the restart.
state_has_vlans()
{
	local f=$UBT_TMP/$P.state
	grep -qx 'set vlan-filtering on' "$f" &&
		grep -qx "vlan add dev $(h vn) vid 20 pvid untagged" "$f" &&
		! grep -q "vlan add dev $(h trk) vid 20" "$f"
}

# all_but NAME SPEC: PORT=SPEC for each port but NAME (for tx).
all_but()
{
	local n
	for n in "${PORTS[@]}"; do
		[[ $n == "$1" ]] || printf '%s=%s\n' "$n" "$2"
	done
}

# ---- configuration ----

step "the ports' VLANs, then filtering on"
ubctl vlan add dev "$(h acc)" vid 10 pvid untagged
ubctl vlan add dev "$(h trk)" vid 10
ubctl vlan add dev "$(h trk)" vid 20
ubctl vlan add dev "$(h trk)" vid 100-102
ubctl vlan add dev "$(h nat)" vid 10
ubctl vlan add dev "$(h nat)" vid 20
ubctl vlan add dev "$(h nat)" vid 30 pvid untagged
ubctl vlan add dev "$(h a10)" vid 10 pvid untagged
ubctl vlan add dev "$(h a20)" vid 20 pvid untagged
ubctl vlan add dev "$(h a30)" vid 30 pvid untagged
ubctl set vlan-filtering on
expect_eq "stats: vlan_filtering" on "$(ubctl -j stats | jq -r .vlan_filtering)"
expect_vlans \
	'["acc",10,"10","10"]' \
	'["trk",0,"10,20,100-102","-"]' \
	'["nat",30,"10,20,30","30"]' \
	'["a10",10,"10","10"]' \
	'["a20",20,"20","20"]' \
	'["a30",30,"30","30"]' \
	'["dfl",1,"1","1"]'

# ---- the matrix ----

step "the matrix: {access, trunk, trunk with native} x {untagged, priority-tagged, tagged member, non-member, S-tagged}"
round_start
# acc, access 10: all but the tag of 20 is VLAN 10.
tx 11 acc -- a10=none/100 trk=10/104 nat=10/104
tx 12 acc --vlan 0 --pcp 5 -- a10=none/96 trk=10/100/5 nat=10/100/5
tx 13 acc --vlan 10 --pcp 3 -- a10=none/96 trk=10/100/3 nat=10/100/3
tx 14 acc --vlan 20 --
tx 15 acc --stag 100 -- a10=none/100/-/100 trk=10/104/0/100 nat=10/104/0/100
tx 16 acc --src "$X" -- a10=none/100 trk=10/104 nat=10/104
# trk, no PVID: nothing untagged (or priority-tagged, or S-tagged) gets in.
tx 21 trk --
tx 22 trk --vlan 0 --pcp 5 --
tx 23 trk --vlan 20 --pcp 3 -- a20=none/96 nat=20/100/3
tx 24 trk --vlan 30 --
tx 25 trk --vlan 10 -- acc=none/96 a10=none/96 nat=10/100
tx 26 trk --stag 100 --
# nat, native 30.
tx 31 nat -- a30=none/100
tx 32 nat --vlan 0 --pcp 5 -- a30=none/96
tx 33 nat --vlan 10 --pcp 3 -- acc=none/96 a10=none/96 trk=10/100/3
tx 34 nat --vlan 40 --
tx 35 nat --vlan 30 -- a30=none/96
tx 36 nat --stag 100 -- a30=none/100/-/100
# a20, access 20; dfl, VLAN 1 alone.
tx 51 a20 -- trk=20/104 nat=20/104
tx 52 a20 --src "$X" -- trk=20/104 nat=20/104
tx 41 dfl --
tx 42 dfl --vlan 10 --
round_check acc=2 trk=8 nat=2 dfl=2

step "learning per VID: $X in VLANs 10 and 20, trk in 10 and 20; nothing from a dropped frame"
expect_eq "learned $X" "10@acc,20@a20" "$(fdb_learned "$X")"
expect_eq "learned acc" "10@acc" "$(fdb_learned "${MAC[acc]}")"
expect_eq "learned trk" "10@trk,20@trk" "$(fdb_learned "${MAC[trk]}")"
expect_eq "learned nat" "10@nat,30@nat" "$(fdb_learned "${MAC[nat]}")"
expect_eq "learned a20" "20@a20" "$(fdb_learned "${MAC[a20]}")"
expect_eq "learned dfl" "1@dfl" "$(fdb_learned "${MAC[dfl]}")"

step "lookup per VID: known unicast to its port only, unknown in the VLAN flooded in it"
round_start
tx 61 trk --vlan 10 --dst "$X" -- acc=none/96
tx 62 trk --vlan 20 --dst "$X" -- a20=none/96
# a20's address is known in VLAN 20 only.
tx 63 acc --dst "${MAC[a20]}" -- a10=none/100 trk=10/104 nat=10/104
tx 64 nat --vlan 20 --dst "${MAC[trk]}" -- trk=20/100
round_check

# ---- changes, bad input, netns add --vlan ----

step "bad input refused, nothing changed"
before=$(vlan_show)
for v in 0 4095 4096 20-10; do
	out=$(ubctl vlan add dev "$(h trk)" vid "$v" 2>&1) && fail "vlan add vid $v accepted"
	[[ $out == *"\"$v\""*"1 to 4094"* ]] || fail "vid $v: unclear refusal: $out"
done
out=$(ubctl vlan add dev "$(h trk)" vid 10-20 pvid 2>&1) && fail "a PVID of a range accepted"
[[ $out == *"pvid takes one VID"* ]] || fail "pvid of a range: unclear refusal: $out"
out=$(ubctl vlan del dev "$(h trk)" vid 4095 2>&1) && fail "vlan del vid 4095 accepted"
[[ $out == *'"4095"'*"1 to 4094"* ]] || fail "vlan del vid 4095: unclear refusal: $out"
out=$(ubctl vlan add dev nosuchport vid 10 2>&1) && fail "vlan add on no port accepted"
[[ $out == *"nosuchport is not a port"* ]] || fail "no such port: unclear refusal: $out"
out=$(ubctl netns add "${P}vx" --vlan 4095 2>&1) && fail "netns add --vlan 4095 accepted"
[[ $out == *"1 to 4094"* ]] || fail "netns add --vlan 4095: unclear refusal: $out"
! ns_exists "${P}vx" || fail "netns add --vlan 4095 left namespace ${P}vx"
expect_eq "vlan show after the bad input" "$before" "$(vlan_show)"

step "vlan del: trk leaves VLANs 20 and 100-102; netns add --vlan 20 makes an access port; static entries in two VLANs"
ubctl vlan del dev "$(h trk)" vid 20
ubctl vlan del dev "$(h trk)" vid 100-102
UBT_NS+=("${P}vn")
ubctl netns add "${P}vn" --vlan 20
in_ns "${P}vn" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
vn_port
PORTS+=(vn)
Y=02:00:00:0f:15:02
ubctl fdb add "$Y" dev "$(h trk)" vlan 10
ubctl fdb add "$Y" dev "$(h trk)" vlan 30
VLANS=(
	'["acc",10,"10","10"]'
	'["trk",0,"10","-"]'
	'["nat",30,"10,20,30","30"]'
	'["a10",10,"10","10"]'
	'["a20",20,"20","20"]'
	'["a30",30,"30","30"]'
	'["dfl",1,"1","1"]'
	'["vn",20,"20","20"]'
)
expect_vlans "${VLANS[@]}"
round_start
tx 71 trk --vlan 20 --
tx 72 a20 -- nat=20/104 vn=none/100
tx 73 trk --vlan 10 -- acc=none/96 a10=none/96 nat=10/100
tx 74 vn --vlan 0 --pcp 6 -- a20=none/96 nat=20/100/6
# Y is on trk in VLANs 10 and 30; trk does not carry 30.
tx 75 a30 --dst "$Y" --
tx 76 a10 --dst "$Y" -- trk=10/104
round_check trk=2/2

# ---- restart ----

step "restart: the VLANs and filtering come back from the state file"
wait_until 3 "the state file to have the VLANs as they are" state_has_vlans
stop_bridge "$P" || fail "ubridge did not stop cleanly"
start_bridge "$P"
vn_port
expect_eq "stats: vlan_filtering" on "$(ubctl -j stats | jq -r .vlan_filtering)"
expect_vlans "${VLANS[@]}"
round_start
tx 81 acc -- a10=none/100 trk=10/104 nat=10/104
tx 82 trk --vlan 20 --
tx 83 vn -- a20=none/100 nat=20/104
tx 84 a30 --dst "$Y" --
tx 85 a10 --dst "$Y" -- trk=10/104
round_check trk=2/2

# ---- filtering off ----

step "vlan-filtering off: every frame everywhere, tags untouched"
ubctl set vlan-filtering off
expect_eq "stats: vlan_filtering" off "$(ubctl -j stats | jq -r .vlan_filtering)"
expect_eq "entries learned in a VLAN, left after filtering off" 0 \
	"$(ubctl -j fdb show | jq '[.[] | select(.type == "learned" and .vlan != 0)] | length')"
round_start
mapfile -t w < <(all_but trk 20/100/3)
tx 91 trk --vlan 20 --pcp 3 -- "${w[@]}"
mapfile -t w < <(all_but acc none/100)
tx 92 acc -- "${w[@]}"
mapfile -t w < <(all_but nat 0/100/5)
tx 93 nat --vlan 0 --pcp 5 -- "${w[@]}"
mapfile -t w < <(all_but dfl none/100/-/100)
tx 94 dfl --stag 100 -- "${w[@]}"
round_check

bridge_alive
test_done
