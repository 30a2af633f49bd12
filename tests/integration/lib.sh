# SPDX-License-Identifier: MIT
#
# Sourced by every integration test. It gives:
#   - strict mode, `step` logging, `fail` and assertions that print what was
#     expected and what was seen;
#   - a unique prefix $P (test id + PID), so tests can run in parallel: every
#     namespace, veth and bridge name starts with it;
#   - `cleanup` on EXIT: stops the daemons and background jobs this test
#     started (by PID) and deletes the namespaces and veths it made, also on
#     failure;
#   - start_bridge, make_ns, in_ns, recv_start/recv_wait, wait_until, ...;
#   - helpers for what several tests look at: processes (pid_gone,
#     proc_status, daemon_rss), namespaces and links (ns_exists,
#     ns_mounted, link_exists, free_subnet), pings (ping_addr, ping_ok), the daemon's
#     tables (port_field, port_stat, fdb_port_of, fdb_type_of, ...), its
#     socket (ctl_raw) and captures (pcap_frames, capture_watched,
#     watch_start).
#
# Each test sets UBT_ID (2 letters) before sourcing it. The binaries come
# from the environment: UBRIDGE, UBCTL, UBT_FRAME (ctest sets them), and
# UBT_BRIDGE_ARGS, options every daemon gets (ctest runs some tests again
# with the other receive back end or busy polling).
# Exit 77 means skipped: not root, or no network namespaces.

set -Eeuo pipefail
shopt -s inherit_errexit 2>/dev/null || true

UBT_TEST=$(basename "$0" .sh)
: "${UBT_ID:=${UBT_TEST:0:2}}"
# u + 2 letters + PID (7 digits at most) + a suffix of 3: within IFNAMSIZ.
P=u${UBT_ID}$$
BR=
UBT_TMP=
declare -a UBT_NS=() UBT_LINKS=() UBT_BGPIDS=() UBT_RECVPIDS=()
declare -A UBT_BRPID=() HOSTIF=() MAC=() IP=()
UBT_NPORTS=0
UBT_DONE=0
# A test may run the daemon under a tool: start_bridge puts the words of
# UBT_DAEMON_WRAPPER (e.g. valgrind and its options) before it, and waits
# UBT_DAEMON_SECS (default 5) for it to start, and again for it to stop.
declare -a UBT_DAEMON_WRAPPER=()
UBT_DAEMON_SECS=5

step() { printf '==> %s\n' "$*"; }
info() { printf '    %s\n' "$*"; }

fail()
{
	printf 'FAIL: %s: %s\n' "$UBT_TEST" "$*" >&2
	exit 1
}

skip()
{
	printf 'SKIP: %s: %s\n' "$UBT_TEST" "$*" >&2
	exit 77
}

# Strict mode ends the script on an unchecked failing command: say which.
ubt_on_err()
{
	local rc=$1 cmd=$2 i where=

	for ((i = 0; i < ${#BASH_LINENO[@]} - 1; i++)); do
		where+=" $(basename "${BASH_SOURCE[i + 1]}"):${BASH_LINENO[i]}"
	done
	printf 'FAIL: %s: command failed (exit %s) at%s: %s\n' \
		"$UBT_TEST" "$rc" "$where" "$cmd" >&2
}
trap 'ubt_on_err "$?" "$BASH_COMMAND"' ERR

[[ $EUID -eq 0 ]] || skip "needs root"
for v in UBRIDGE UBCTL UBT_FRAME; do
	[[ -n ${!v:-} && -x ${!v} ]] || fail "\$$v is not set to an executable (run through ctest)"
done
for t in ip jq socat timeout; do
	command -v "$t" >/dev/null || fail "needs '$t' installed"
done
# A sanitized build (UBT_SANITIZE, CMake's UB_SANITIZE) must fail the test
# on the first report. AddressSanitizer and UndefinedBehaviorSanitizer
# (built with -fno-sanitize-recover) already end the process there;
# ThreadSanitizer reports and carries on, and only changes the exit status
# (66) at exit, which a daemon killed with SIGKILL never reaches. So it
# halts too, with its status 66, which no binary here uses for anything
# else. Options already in TSAN_OPTIONS come last and win.
case ${UBT_SANITIZE:-} in
*thread*)
	export TSAN_OPTIONS="halt_on_error=1 exitcode=66 second_deadlock_stack=1${TSAN_OPTIONS:+ $TSAN_OPTIONS}"
	;;
esac
# The first line of a sanitizer's report (cleanup looks for it in the
# daemons' logs).
UBT_SAN_REPORT='(ERROR|WARNING): (Address|Leak|Thread|Memory)Sanitizer|: runtime error: '
ip netns add "${P}probe" 2>/dev/null || skip "cannot create network namespaces"
ip netns del "${P}probe"

UBT_TMP=$(mktemp -d "/tmp/ubt-$UBT_TEST.XXXXXX")

# Stops a daemon by PID: SIGTERM, then up to $UBT_DAEMON_SECS seconds, then
# SIGKILL. Returns its exit status (137 when it had to be killed).
stop_bridge()
{
	local name=$1 pid=${UBT_BRPID[$1]:-} rc=0 i

	[[ -n $pid ]] || return 0
	unset "UBT_BRPID[$name]"
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < UBT_DAEMON_SECS * 10; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		printf 'ubridge %s (pid %s) ignored SIGTERM for %s s, killing it\n' \
			"$name" "$pid" "$UBT_DAEMON_SECS" >&2
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || rc=$?
	return "$rc"
}

cleanup()
{
	local rc=$? name pid ns link st

	set +eE
	trap - ERR
	# A test's own undo step, if it has one (e.g. a sysctl to restore).
	if declare -F ubt_on_exit >/dev/null; then
		ubt_on_exit
	fi
	for pid in "${UBT_BGPIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	# A daemon that died during the test, or does not stop cleanly on
	# SIGTERM (exit 0), fails the test.
	for name in "${!UBT_BRPID[@]}"; do
		if ! kill -0 "${UBT_BRPID[$name]}" 2>/dev/null; then
			stop_bridge "$name"
			echo "FAIL: $UBT_TEST: ubridge $name had already exited, with status $?" >&2
			((rc)) || rc=1
			continue
		fi
		stop_bridge "$name"
		st=$?
		if ((st != 0)); then
			echo "FAIL: $UBT_TEST: ubridge $name exited with $st on SIGTERM" >&2
			((rc)) || rc=1
		fi
	done
	for ns in "${UBT_NS[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	for link in "${UBT_LINKS[@]}"; do
		ip link del "$link" 2>/dev/null
	done
	for pid in "${UBT_BGPIDS[@]}"; do
		wait "$pid" 2>/dev/null
	done
	# A sanitizer's report in a daemon's log fails the test, whatever else
	# happened (a daemon may report and still be stopped cleanly, or be
	# killed before its exit status could tell): shown from its first
	# line, since a report is longer than a log's tail.
	declare -A shown=()
	if [[ -n $UBT_TMP ]]; then
		for f in "$UBT_TMP"/*.log; do
			grep -qE "$UBT_SAN_REPORT" "$f" 2>/dev/null || continue
			echo "FAIL: $UBT_TEST: sanitizer report in $(basename "$f"):" >&2
			awk -v re="$UBT_SAN_REPORT" 'n || $0 ~ re { n++ } n && n <= 400' "$f" >&2
			shown[$f]=1
			((rc != 0 && rc != 77)) || rc=1
		done
	fi
	if ((rc != 0 && rc != 77)) && [[ -n $UBT_TMP ]]; then
		for f in "$UBT_TMP"/*.log; do
			[[ -s $f && -z ${shown[$f]:-} ]] || continue
			echo "---- last lines of $(basename "$f") ----" >&2
			tail -n 40 "$f" >&2
		done
	fi
	[[ -n $UBT_TMP ]] && rm -rf "$UBT_TMP"
	if ((rc == 0)); then
		((UBT_DONE)) || { echo "FAIL: $UBT_TEST: ended before test_done" >&2; rc=1; }
	fi
	((rc == 0)) && echo "PASS: $UBT_TEST"
	exit "$rc"
}
trap cleanup EXIT
# Interrupted (Ctrl-C, kill): still clean up.
trap 'exit 130' INT
trap 'exit 143' TERM

# Called last by every test, so an early `exit 0` cannot pass silently.
test_done() { UBT_DONE=1; }

# wait_until SECONDS DESCRIPTION CMD...: polls CMD every 0.1 s until it
# succeeds; fails the test with DESCRIPTION after SECONDS.
wait_until()
{
	local secs=$1 what=$2 end
	shift 2
	end=$((SECONDS + secs))
	while ! "$@"; do
		((SECONDS < end)) || fail "timed out after ${secs}s waiting for: $what"
		sleep 0.1
	done
}

# Like wait_until, but returns 1 instead of failing.
poll_until()
{
	local secs=$1 end
	shift
	end=$((SECONDS + secs))
	until "$@" 2>/dev/null; do
		((SECONDS < end)) || return 1
		sleep 0.1
	done
}

expect_eq()
{
	local what=$1 want=$2 got=$3
	[[ $got == "$want" ]] || fail "$what: expected '$want', saw '$got'"
}

sock_path() { echo "/run/ubridge/$1.sock"; }

ubt_bridge_up()
{
	local name=$1 pid=$2
	if ! kill -0 "$pid" 2>/dev/null; then
		local rc=0
		wait "$pid" 2>/dev/null || rc=$?
		unset "UBT_BRPID[$name]"
		fail "ubridge -n $name exited early with status $rc: $(tail -n 5 "$UBT_TMP/$name.log")"
	fi
	[[ -S $(sock_path "$name") ]]
}

# start_bridge NAME [ARGS...]: runs the daemon (with ARGS) in the
# background (stderr to $UBT_TMP/NAME.log), waits for its socket and makes
# NAME the current $BR.
start_bridge()
{
	local name=$1 pid
	shift

	step "start ubridge -n $name"
	[[ ! -e $(sock_path "$name") ]] || fail "$(sock_path "$name") exists before the daemon starts"
	# A background job of a script starts with SIGINT ignored; a daemon
	# started from a terminal would not, so put it back to the default.
	# The state file lives with the test's files, unless ARGS name one.
	# shellcheck disable=SC2086 # UBT_BRIDGE_ARGS are words
	env --default-signal=INT,QUIT "${UBT_DAEMON_WRAPPER[@]}" "$UBRIDGE" -f -n "$name" \
		--state "$UBT_TMP/$name.state" ${UBT_BRIDGE_ARGS:-} "$@" 2>>"$UBT_TMP/$name.log" &
	pid=$!
	UBT_BRPID[$name]=$pid
	BR=$name
	wait_until "$UBT_DAEMON_SECS" "socket of ubridge -n $name" ubt_bridge_up "$name" "$pid"
}

# Fails the test if the daemon for NAME (default $BR) is not running.
bridge_alive()
{
	local name=${1:-$BR}
	kill -0 "${UBT_BRPID[$name]}" 2>/dev/null ||
		fail "ubridge -n $name is no longer running: $(tail -n 5 "$UBT_TMP/$name.log")"
}

ubctl() { "$UBCTL" -n "$BR" "$@"; }

in_ns()
{
	local ns=$1
	shift
	ip netns exec "$ns" "$@"
}

# make_ns NAME [CIDR] [MTU]: namespace $P$NAME with eth0 (IPv6 off, up,
# address CIDR), its veth peer $P h<i> up in the root namespace, attached to
# $BR. Sets HOSTIF[NAME], MAC[NAME] and IP[NAME] (the address without /len).
make_ns()
{
	local name=$1 cidr=${2:-} mtu=${3:-1500} ns=$P$1 host

	UBT_NPORTS=$((UBT_NPORTS + 1))
	host=${P}h$UBT_NPORTS
	((${#host} <= 15)) || fail "interface name $host too long"
	step "namespace $ns, veth $host <-> eth0${cidr:+, $cidr}, mtu $mtu"
	ip netns add "$ns"
	UBT_NS+=("$ns")
	in_ns "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	ip link add "$host" mtu "$mtu" type veth peer name eth0 mtu "$mtu" netns "$ns"
	UBT_LINKS+=("$host")
	sysctl -qw "net.ipv6.conf.$host.disable_ipv6=1"
	ip link set "$host" up
	in_ns "$ns" ip link set lo up
	if [[ -n $cidr ]]; then
		in_ns "$ns" ip addr add "$cidr" dev eth0
		IP[$name]=${cidr%/*}
	fi
	in_ns "$ns" ip link set eth0 up
	HOSTIF[$name]=$host
	MAC[$name]=$(in_ns "$ns" cat /sys/class/net/eth0/address)
	ubctl port add "$host" || fail "ubctl port add $host failed"
}

# ping_addr NS ADDR [COUNT]: COUNT (default 2) pings from namespace NS (a
# full name) to ADDR, 0.2 s apart, each answered within 1 s; quiet.
# Returns ping's status.
ping_addr() { in_ns "$1" ping -q -c "${3:-2}" -i 0.2 -W 1 "$2" >/dev/null; }

# ping_ok FROM TO [COUNT]: FROM and TO are make_ns names.
ping_ok()
{
	local from=$1 to=$2 count=${3:-2}
	ping_addr "$P$from" "${IP[$to]}" "$count" ||
		fail "ping $from -> $to (${IP[$to]}) failed"
}

# bg_ns NS CMD...: runs CMD in namespace NS in the background; cleanup stops it.
# Sets UBT_LASTPID.
bg_ns()
{
	local ns=$1
	shift
	# A plain command, not a function: no ERR trap in the background job.
	ip netns exec "$P$ns" "$@" &
	UBT_LASTPID=$!
	UBT_BGPIDS+=("$UBT_LASTPID")
}

# recv_start NAME OUT [ubt-frame recv options]: captures frames on NAME's
# eth0 into OUT (one line a frame) in the background; returns once the
# socket listens. Default timeout 1500 ms.
recv_start()
{
	local name=$1 out=$2
	shift 2
	rm -f "$out.ready"
	bg_ns "$name" "$UBT_FRAME" recv eth0 --timeout 1500 "$@" --ready "$out.ready" >"$out"
	UBT_RECVPIDS+=("$UBT_LASTPID")
	wait_until 5 "ubt-frame recv on $name to listen" test -e "$out.ready"
}

# Waits for every recv_start capture to end (each has its own timeout).
recv_wait()
{
	local pid rc
	for pid in "${UBT_RECVPIDS[@]}"; do
		rc=0
		wait "$pid" || rc=$?
		((rc == 0)) || fail "ubt-frame recv (pid $pid) exited with $rc"
	done
	UBT_RECVPIDS=()
}

# send NAME [ubt-frame send options]: writes frames out of NAME's eth0.
send()
{
	local name=$1
	shift
	in_ns "$P$name" "$UBT_FRAME" send eth0 "$@" || fail "ubt-frame send on $name $* failed"
}

# CMD | matches [GREP OPTIONS] PATTERN: grep that reads all its input.
# (With pipefail, "CMD | grep -q" fails at random: grep -q exits at the
# first match and CMD may then die of SIGPIPE.)
matches() { grep "$@" >/dev/null; }

# count FILE REGEX: lines of FILE matching the extended REGEX.
count() { grep -cE -- "$2" "$1" || true; }

# expect_frames WHAT FILE ID N: FILE holds each of the frames with id ID,
# sequence numbers 0..N-1, exactly once (N=0: none at all).
expect_frames()
{
	local what=$1 file=$2 id=$3 n=$4 total uniq
	total=$(count "$file" " id=$id seq=")
	uniq=$(grep -E -- " id=$id seq=" "$file" | sort -u | wc -l || true)
	if ((total != n || uniq != n)); then
		echo "---- $file ----" >&2
		cat "$file" >&2
		fail "$what: expected $n frames with id=$id once each, saw $total ($uniq distinct)"
	fi
}

# free_subnet BASE: a /24 in 10.BASE.0.0-10.(BASE+49).255.0 (chosen from
# the PID) that no address or route of the host's covers, as "10.x.y".
free_subnet()
{
	local base=$1 x y i r

	for ((i = 0; i < 64; i++)); do
		x=$((base + (($$ >> 8) + i) % 50))
		y=$((($$ + i * 7) % 256))
		ip -4 -o addr show | matches " inet 10\\.$x\\.$y\\." && continue
		r=$(ip -4 route get "10.$x.$y.1" 2>/dev/null) || { echo "10.$x.$y"; return 0; }
		[[ $r == *" via "* ]] || continue
		echo "10.$x.$y"
		return 0
	done
	fail "no free 10.x.y.0/24 subnet for the test"
}

# JSON views of the daemon's tables.
fdb_port_of()
{
	ubctl -j fdb show | jq -r --arg m "$1" '[.[] | select(.mac == $m) | .port] | join(",")'
}

expect_fdb()
{
	local mac=$1 want=$2 got
	got=$(fdb_port_of "$mac")
	[[ $got == "$want" ]] ||
		fail "fdb entry for $mac: expected port '${want:-<none>}', saw '${got:-<none>}' in: $(ubctl fdb show 2>&1)"
}

# fdb_type_of MAC: the type of MAC's entry (learned, static, local);
# nothing when there is none.
fdb_type_of()
{
	ubctl -j fdb show | jq -r --arg m "$1" '.[] | select(.mac == $m) | .type'
}

port_listed() { ubctl -j port show | jq -e --arg p "$1" 'any(.[]; .name == $p)' >/dev/null; }

# ubt_port_json [-s] PORT FIELD...: the FIELDs of PORT in `ubctl -j port
# show [-s]`, on one line, separated by spaces: "missing" for a field the
# port lacks, nothing at all when PORT is not listed.
ubt_port_json()
{
	local -a s=()
	[[ $1 != -s ]] || { s=(-s); shift; }
	local port=$1
	shift
	ubctl -j port show "${s[@]}" | jq -r --arg p "$port" '.[] | select(.name == $p) |
		[$ARGS.positional[] as $f | .[$f] | if . == null then "missing" else tostring end] |
		join(" ")' --args "$@"
}

# port_field PORT FIELD...: fields of `port show` (kind, mtu, state,
# worker, ...); see ubt_port_json.
port_field() { ubt_port_json "$@"; }

# port_stat PORT COUNTER...: counters of `port show -s` (rx_packets,
# rx_drop_queue, ..., and the fields of port_field); several read at once
# come from one reply: `read -r pkts bytes < <(port_stat P rx_packets rx_bytes)`.
port_stat() { ubt_port_json -s "$@"; }

# ctl_raw [SECS [IDLE]]: standard input, as it is, straight to $BR's
# control socket; prints the reply. socat gives up after IDLE s (default
# 3) with nothing to move either way, and stops 2 s after the input ends;
# all of it within SECS (default 5). Returns socat's status (124 when SECS
# ran out).
ctl_raw()
{
	timeout "${1:-5}" socat -t 2 -T "${2:-3}" - "UNIX-CONNECT:$(sock_path "$BR")"
}

# pcap_frames FILE [FILTER]: how many frames tcpdump reads from the capture
# FILE (those matching the pcap-filter FILTER). tcpdump follows some with
# indented hex lines: those are not counted.
pcap_frames() { tcpdump -nn -r "$1" ${2:+"$2"} 2>/dev/null | grep -vc '^[[:space:]]' || true; }

# capture_watched: `capture show` lists a live capture (capture watch).
capture_watched() { ubctl -j capture show | jq -e 'any(.[]; .file == "-")' >/dev/null; }

# watch_start OUT SECS N WATCH-ARGS...: in the background, `ubctl capture
# watch WATCH-ARGS` (e.g. all --filter ...) piped into tcpdump, which
# prints N frames into OUT and exits (or gives up after SECS); ubctl then
# sees EPIPE and exits too. Once both have ended, OUT.rc holds their exit
# statuses: "0 0" when all went well.
watch_start()
{
	local out=$1 secs=$2 n=$3
	shift 3
	# A plain command, not a function: no ERR trap in the background job.
	bash -c '"$1" -n "$2" capture watch "${@:6}" |
		timeout "$4" tcpdump -nn -r - -c "$5" >"$3" 2>/dev/null
		echo "${PIPESTATUS[*]}" >"$3.rc"' _ "$UBCTL" "$BR" "$out" "$secs" "$n" "$@" &
	UBT_BGPIDS+=("$!")
}

# pid_gone PID: process PID has ended (for wait_until and poll_until).
pid_gone() { ! kill -0 "$1" 2>/dev/null; }

# proc_status DIR FIELD: FIELD of DIR/status (DIR is /proc/PID or
# /proc/PID/task/TID), its words separated by one space: "0 0 0 0" for
# Uid, "0000000000287000" for CapEff, "12345 kB" for VmRSS.
proc_status() { awk -v f="$2:" '$1 == f { $1 = ""; print substr($0, 2) }' "$1/status"; }

# daemon_ticks: the CPU ticks (utime + stime, all threads) of $BR's daemon.
daemon_ticks() { awk '{print $14 + $15}' "/proc/${UBT_BRPID[$BR]}/stat"; }

# expect_asleep WHILE: $BR's daemon spends at most 20 ticks in the next
# 2 s ("while idle", "with the link down": said in the lines).
expect_asleep()
{
	local c0 c1
	c0=$(daemon_ticks)
	sleep 2
	c1=$(daemon_ticks)
	info "CPU in 2 s $1: $((c1 - c0)) ticks"
	((c1 - c0 <= 20)) || fail "the daemon spent $((c1 - c0)) ticks in 2 s $1: it did not sleep"
}

# daemon_rss [NAME]: the resident memory of the daemon for NAME (default
# $BR), in kB.
daemon_rss()
{
	local rss
	rss=$(proc_status "/proc/${UBT_BRPID[${1:-$BR}]}" VmRSS)
	echo "${rss% kB}"
}

# ns_exists NAME: `ip netns list` shows the namespace NAME.
ns_exists() { ip netns list | awk '{ print $1 }' | matches -xF -- "$1"; }

# ns_mounted NAME: /run/netns/NAME is a mount point.
ns_mounted()
{
	awk -v p="/run/netns/$1" '$5 == p { found = 1 } END { exit !found }' /proc/self/mountinfo
}

# link_exists NAME [NS]: the interface NAME exists, in the root namespace
# or in the namespace NS (a full name).
link_exists()
{
	if (($# > 1)); then
		ip -n "$2" link show dev "$1" >/dev/null 2>&1
	else
		ip link show dev "$1" >/dev/null 2>&1
	fi
}

# tcp_listening NAME PORT: something listens on TCP PORT in NAME.
tcp_listening() { in_ns "$P$1" ss -Hltn "sport = :$2" | matches .; }
