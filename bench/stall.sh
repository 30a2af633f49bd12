#!/bin/bash
# SPDX-License-Identifier: MIT
#
# bench/stall.sh: does control work stall forwarding? (issue 12, item 4)
# One ping crosses a ubridge bridge every 2 ms, from namespace A to
# namespace B, while the daemon's control socket is kept busy with one kind
# of work per phase; for each phase it prints the ping's RTT distribution
# (replies, lost, p50, p99, max in ms) and how much work was done:
#   idle   nothing else: the baseline;
#   dump   "ubctl -j fdb show >/dev/null" back to back;
#   ports  "ubctl port add X; ubctl port del X" over spare veth pairs;
#   netns  "ubctl netns add NAME --addr CIDR; ubctl netns del NAME".
# Before the phases the FDB is filled with --entries learned entries (MACs
# sent by ubgen from a third port), and it holds them during every phase.
# The issue's targets are a max RTT of 10 ms or less during a 200,000-entry
# dump and during port churn. It measures and prints; it asserts nothing.
#
#   bench/stall.sh [--seconds S] [--only LIST] [--entries N] [--rounds N]
#                  [--build-dir DIR] [--daemon-args ARGS] [--daemon-cpu N]
#
# Needs root, iproute2, iputils ping, jq (and taskset for --daemon-cpu).

set -euo pipefail

ALL_PHASES=idle,dump,ports,netns

usage()
{
	cat <<EOF
Usage: $0 [OPTIONS]

  --seconds S        length of each phase, i.e. of its ping (default 10)
  --only LIST        comma-separated phases out of: $ALL_PHASES
                     (default all)
  --entries N        learned FDB entries the bridge holds during every
                     phase (default 200000; 0: none). They are refreshed
                     before a phase when older than 60 s, so keep S well
                     below the ageing time (300 s)
  --rounds N         run the phases N times, interleaved (default 1), and
                     print per phase the median of the rounds' p99 and max
  --build-dir DIR    where ubridge, ubctl and ubgen were built (default:
                     <repo>/build)
  --daemon-args ARGS more options for ubridge
  --daemon-cpu N     pin ubridge to CPU N (taskset; default: no pinning)
  -h, --help         this help
EOF
}

# The command line as typed, quoted only where the shell needs it.
CMDLINE=$0
for a in "$@"; do
	[[ $a =~ ^[][A-Za-z0-9_./,:=+@%-]+$ ]] && CMDLINE+=" $a" || CMDLINE+=" $(printf '%q' "$a")"
done
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$ROOT/build
SECS=10
ONLY=$ALL_PHASES
ENTRIES=200000
ROUNDS=1
DARGS=
DCPU=
NSPARE=8

while (($#)); do
	case $1 in
	--seconds) SECS=$2; shift ;;
	--only) ONLY=$2; shift ;;
	--entries) ENTRIES=$2; shift ;;
	--rounds) ROUNDS=$2; shift ;;
	--build-dir) BUILD=$2; shift ;;
	--daemon-args) DARGS=$2; shift ;;
	--daemon-cpu) DCPU=$2; shift ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
	shift
done
[[ $SECS =~ ^[1-9][0-9]*$ && $ROUNDS =~ ^[1-9][0-9]*$ && $ENTRIES =~ ^[0-9]+$ ]] ||
	{ usage >&2; exit 2; }
# ubridge takes --max-learned 16777216 at most.
((ENTRIES <= 16000000)) || { echo "$0: --entries: at most 16000000" >&2; exit 2; }
[[ -z $DCPU || $DCPU =~ ^[0-9]+$ ]] || { echo "$0: --daemon-cpu takes a CPU number" >&2; exit 2; }
PHASES=${ONLY//,/ }
for ph in $PHASES; do
	[[ ,$ALL_PHASES, == *,$ph,* ]] || { echo "$0: unknown phase '$ph'" >&2; exit 2; }
done

UBRIDGE=$BUILD/tools/ubridge
UBCTL=$BUILD/tools/ubctl
UBGEN=$BUILD/bench/ubgen
[[ $EUID -eq 0 ]] || { echo "$0: needs root" >&2; exit 1; }
for b in "$UBRIDGE" "$UBCTL" "$UBGEN"; do
	[[ -x $b ]] || { echo "$0: missing $b (build first)" >&2; exit 1; }
done
for t in ip ping jq awk ${DCPU:+taskset}; do
	command -v "$t" >/dev/null || { echo "$0: needs '$t'" >&2; exit 1; }
done

# "st" + PID (7 digits at most) + 3 characters fits IFNAMSIZ, and so does
# "veth-" + the netns phase's namespace name.
P=st$$
BR=$P
NA=${P}a NB=${P}b NG=${P}g # namespaces: ping from A to B, ubgen in G
NN=${P}n                   # made and deleted by the netns phase
ADDR_A=10.250.0.1 ADDR_B=10.250.0.2 ADDR_N=10.250.0.100
TMP=$(mktemp -d /tmp/ubstall.XXXXXX)
NS_MADE=()
LINKS_MADE=()
DPID=
WPID=

for ns in "$NA" "$NB" "$NG" "$NN"; do
	[[ ! -e /run/netns/$ns ]] || { echo "$0: namespace $ns exists already" >&2; exit 1; }
done

ubctl() { "$UBCTL" -n "$BR" "$@"; }

cleanup()
{
	local rc=$? x

	set +e
	trap - EXIT INT TERM
	if [[ -n $WPID ]]; then
		touch "$TMP/stop"
		wait "$WPID" 2>/dev/null
	fi
	if [[ -n $DPID ]] && kill -0 "$DPID" 2>/dev/null; then
		# What the netns phase may have left, undone by the daemon.
		[[ -e /run/netns/$NN ]] && ubctl netns del "$NN" >/dev/null 2>&1
		kill -TERM "$DPID"
		for _ in $(seq 50); do
			kill -0 "$DPID" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$DPID" 2>/dev/null
		wait "$DPID" 2>/dev/null
	fi
	for x in "${NS_MADE[@]}"; do
		ip netns del "$x" 2>/dev/null
	done
	# Deleting one end of a veth pair deletes both.
	for x in "${LINKS_MADE[@]}"; do
		ip link del "$x" 2>/dev/null
	done
	rm -rf "$TMP"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# pair HOSTIF NS: a veth from the root namespace (HOSTIF, up, no IPv6
# address) to NS (e0, up), or with no NS to a peer HOSTIF-p in the root.
pair()
{
	local peer=(peer name "$1"p)
	[[ -z ${2:-} ]] || peer=(peer name e0 netns "$2")
	ip link add "$1" type veth "${peer[@]}"
	LINKS_MADE+=("$1")
	ip link set "$1" addrgenmode none 2>/dev/null || true
	ip link set "$1" up
	if [[ -n ${2:-} ]]; then
		ip -n "$2" link set e0 up
	else
		ip link set "$1"p addrgenmode none 2>/dev/null || true
		ip link set "$1"p up
	fi
}

echo "==> $CMDLINE"
echo "==> $(date -u '+%Y-%m-%d %H:%M:%S UTC'), $(nproc) CPUs, kernel $(uname -r)," \
	"commit $(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo '?'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "==> topology (prefix $P): namespaces $NA ($ADDR_A) and $NB ($ADDR_B) ping" \
	"each other, $NG sends ubgen frames; $NSPARE spare veth pairs"
for ns in "$NA" "$NB" "$NG"; do
	ip netns add "$ns"
	NS_MADE+=("$ns")
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1
	ip -n "$ns" link set lo up
	pair "${ns}p" "$ns"
done
ip -n "$NA" addr add "$ADDR_A/24" dev e0
ip -n "$NB" addr add "$ADDR_B/24" dev e0
for ((i = 0; i < NSPARE; i++)); do
	pair "${P}s$i"
done

# The daemon, in the root namespace, in the foreground of a background
# job: taskset execs, so $! is its PID.
MAXL=$((ENTRIES + 1024 > 8192 ? ENTRIES + 1024 : 8192))
DCMD=("$UBRIDGE" -f -q --no-state -n "$BR" --max-learned "$MAXL" -p "${NA}p" -p "${NB}p" -p "${NG}p")
[[ -z $DCPU ]] || DCMD=(taskset -c "$DCPU" "${DCMD[@]}")
echo "==> daemon: ${DCMD[*]} $DARGS"
# shellcheck disable=SC2086 # DARGS are words
"${DCMD[@]}" $DARGS 2>>"$TMP/daemon.log" &
DPID=$!
for _ in $(seq 100); do
	ubctl stats >/dev/null 2>&1 && break
	kill -0 "$DPID" 2>/dev/null || break
	sleep 0.05
done
ubctl stats >/dev/null 2>&1 || { echo "ubridge did not start: $(tail -n 3 "$TMP/daemon.log")" >&2; exit 1; }

learned() { ubctl -j stats | jq -e '.fdb_learned_entries'; }

# fill: ENTRIES source MACs sent from G, each twice, paced, in runs of at
# most 65536 (02:00:00:RUN:xx:xx). Every frame goes to the first of them,
# which is known on the ingress port by then, so the bridge learns and
# drops it: nothing reaches A or B. Again if some were missed.
FILLED=
fill()
{
	local t0=$SECONDS try left run n
	for try in 1 2 3; do
		left=$ENTRIES run=0
		while ((left > 0)); do
			n=$((left < 65536 ? left : 65536))
			ip netns exec "$NG" "$UBGEN" send e0 --dst 02:00:00:00:00:00 \
				--src "$(printf '02:00:00:%02x:00:00' "$run")" --flows "$n" \
				--count $((2 * n)) --rate 200000 >>"$TMP/ubgen.log"
			left=$((left - n)) run=$((run + 1))
		done
		(($(learned) >= ENTRIES)) && break
	done
	n=$(learned)
	((n >= ENTRIES)) || { echo "$0: the FDB holds $n learned entries, not $ENTRIES" >&2; exit 1; }
	FILLED=$SECONDS
	echo "    FDB filled: $n learned entries ($((SECONDS - t0)) s, $try pass(es))"
}

# churn ADD-WORDS -- DEL-WORDS: "ubctl ADD; ubctl DEL" until $TMP/stop
# exists, "%S" in the words standing for the spare pair of the cycle (the
# spares in turn); prints the cycles done and failed.
churn()
{
	local n=0 fail=0 add=() del=() s
	while [[ $1 != -- ]]; do add+=("$1"); shift; done
	shift
	del=("$@")
	while [[ ! -e $TMP/stop ]]; do
		s=$((n % NSPARE))
		if ubctl "${add[@]//%S/$s}" >/dev/null 2>>"$TMP/work.err" &&
			ubctl "${del[@]//%S/$s}" >/dev/null 2>>"$TMP/work.err"; then
			n=$((n + 1))
		else
			fail=$((fail + 1))
			ubctl "${del[@]//%S/$s}" >/dev/null 2>&1 || true
		fi
	done
	echo "$n add/del cycles, $fail failed"
}

# The work of a phase, in a loop until $TMP/stop exists; prints what it did.
work()
{
	local n=0 fail=0 t0=$EPOCHREALTIME
	case $1 in
	dump)
		while [[ ! -e $TMP/stop ]]; do
			if ubctl -j fdb show >/dev/null 2>>"$TMP/work.err"; then n=$((n + 1)); else fail=$((fail + 1)); fi
		done
		awk -v n="$n" -v f="$fail" -v t0="$t0" -v t1="$EPOCHREALTIME" \
			'BEGIN { printf "%d dumps (%.3f s each), %d failed", n, n ? (t1 - t0) / n : 0, f }' ;;
	ports)
		churn port add "${P}s%S" -- port del "${P}s%S" ;;
	netns)
		churn netns add "$NN" --addr "$ADDR_N/24" -- netns del "$NN" ;;
	idle)
		while [[ ! -e $TMP/stop ]]; do sleep 0.1; done
		echo "-" ;;
	esac
}

# phase PHASE ROUND: the work in the background, the ping in the
# foreground for SECS seconds, then the work is told to stop (it finishes
# its cycle) and the ping's times are summed up into $TMP/res.
phase()
{
	local ph=$1 r=$2 fdb sent
	if ((ENTRIES > 0)) && [[ -z $FILLED || $((SECONDS - FILLED)) -gt 60 ]]; then
		fill
	fi
	fdb=$(learned)
	ip netns exec "$NA" ping -q -c 1 -W 1 "$ADDR_B" >/dev/null 2>&1 || true
	rm -f "$TMP/stop"
	work "$ph" >"$TMP/work" &
	WPID=$!
	ip netns exec "$NA" ping -D -i 0.002 -w "$SECS" "$ADDR_B" >"$TMP/ping" 2>&1 || true
	touch "$TMP/stop"
	wait "$WPID"
	WPID=
	kill -0 "$DPID" 2>/dev/null || { echo "ubridge died: $(tail -n 5 "$TMP/daemon.log")" >&2; exit 1; }
	# Lost: what the summary line counts as transmitted but not received.
	sent=$(awk '/packets transmitted/ { print $1 }' "$TMP/ping")
	sed -n 's/.*time=\([0-9.]*\) ms.*/\1/p' "$TMP/ping" | sort -g |
		awk -v ph="$ph" -v r="$r" -v sent="${sent:-0}" -v fdb="$fdb" -v work="$(cat "$TMP/work")" '
		{ t[++n] = $1 }
		function pct(p,    k) { k = int(n * p + 0.5); return n ? t[k > 0 ? k : 1] : "-" }
		END { printf "%s\t%d\t%d\t%d\t%s\t%s\t%s\t%d\t%s\t%d\n", ph, r, n, sent - n, pct(0.5), pct(0.99), pct(1), fdb, work, sent }' |
		tee -a "$TMP/res" |
		awk -F'\t' '{ printf "    %-5s r%-2d sent %5d lost %4d  p50 %6s  p99 %6s  max %7s ms  fdb %d  %s\n",
			$1, $2, $10, $4, $5, $6, $7, $8, $9 }'
}

echo "==> $ROUNDS round(s) x {$PHASES}, ${SECS} s each; ping -i 0.002 from $NA to $NB;" \
	"pinning: ${DCPU:+daemon on CPU }${DCPU:-none}"
for ((r = 1; r <= ROUNDS; r++)); do
	echo "==> round $r/$ROUNDS"
	for ph in $PHASES; do
		phase "$ph" "$r"
	done
done
[[ ! -s $TMP/work.err ]] || { echo "==> errors from the work loops (first 5):"; head -n 5 "$TMP/work.err"; }
[[ ! -s $TMP/daemon.log ]] || { echo "==> ubridge log (last 5 lines):"; tail -n 5 "$TMP/daemon.log"; }

echo
echo "RTT in ms over $ROUNDS round(s): median of the rounds' p99 and max, then each round's"
echo "(issue 12 item 4 targets: max <= 10 ms during dump and ports)"
awk -F'\t' -v order="$PHASES" '
function med(s,    a, c, j, k, x) {
	c = split(s, a, " ")
	for (j = 2; j <= c; j++) { x = a[j]; k = j - 1
		while (k >= 1 && a[k] + 0 > x + 0) { a[k + 1] = a[k]; k-- }
		a[k + 1] = x }
	return c % 2 ? a[(c + 1) / 2] : sprintf("%.3f", (a[c / 2] + a[c / 2 + 1]) / 2)
}
{ p99[$1] = p99[$1] " " $6; mx[$1] = mx[$1] " " $7; lost[$1] += $4 }
END {
	printf "| %-5s | %-8s | %-8s | %-5s | %-24s | %-24s |\n", "phase", "p99 med", "max med", "lost", "p99 per round", "max per round"
	printf "|-------|----------|----------|-------|--------------------------|--------------------------|\n"
	n = split(order, ph, " ")
	for (i = 1; i <= n; i++)
		printf "| %-5s | %-8s | %-8s | %-5d | %-24s | %-24s |\n", ph[i], med(p99[ph[i]]), med(mx[ph[i]]),
			lost[ph[i]], substr(p99[ph[i]], 2), substr(mx[ph[i]], 2)
}' "$TMP/res"
