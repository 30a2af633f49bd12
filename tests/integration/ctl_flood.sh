#!/bin/bash
# SPDX-License-Identifier: MIT
# The control socket cannot be starved: connections that never finish
# their request line are dropped within a second or two, while another
# uid is served at once; one uid holds at most half the connection table,
# and its connections past that are refused with a reply; a connection
# beyond the whole table makes ubctl say the bridge is busy (not "Broken
# pipe"); a request cut short by the client's end of file is answered
# with EINVAL instead of silence.
UBT_ID=cf
. "$(dirname "$0")/lib.sh"

command -v setpriv >/dev/null || skip "setpriv (util-linux) is missing"
# The table and a uid's share of it (core/conn.h).
TABLE=256
SHARE=$((TABLE / 2))
# Two made-up client uids in the socket's group (users, gid 100).
GID=100
FLOOD_UID=4243
OTHER_UID=4244

# as UID CMD...: CMD as uid UID, in the socket's group only.
as() { local uid=$1; shift; setpriv --reuid="$uid" --regid="$GID" --clear-groups "$@"; }

# A python3 those uids may run (root's own, e.g. under ~/.pyenv, may be
# out of their reach).
PY=
for py in /usr/bin/python3 /usr/local/bin/python3 "$(command -v python3 || true)"; do
	if [[ -x $py ]] && as "$FLOOD_UID" "$py" -c '' 2>/dev/null; then
		PY=$py
		break
	fi
done
[[ -n $PY ]] || skip "no python3 that uid $FLOOD_UID can run"

# Opens connections to the socket and writes a request without its
# newline on each, as a client that never finishes would.
#   once PATH N SECS: opens N, prints "ready", then waits (up to SECS) for
#     the daemon to end each; prints one line per connection: its number,
#     the ms from connect to end (-1: still open), and the first line the
#     daemon sent ("-": none).
#   hold PATH N SECS: keeps N open for SECS, reopening each the daemon
#     ends; prints "ready" once the first N are open.
# shellcheck disable=SC2016 # Python, not shell
FLOODER='
import select, socket, sys, time
mode, path, n, secs = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])

def conn():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    try:
        s.send(b"port sh")
    except OSError:
        pass
    return [s, time.monotonic(), b"", None]

def read(c):
    try:
        d = c[0].recv(4096)
    except OSError:
        d = b""
    if d:
        c[2] += d
        return False
    c[3] = int((time.monotonic() - c[1]) * 1000)
    c[0].close()
    return True

conns = [conn() for _ in range(n)]
print("ready", flush=True)
end = time.monotonic() + secs
while time.monotonic() < end:
    live = [c for c in conns if c[3] is None]
    if not live:
        break
    poll = select.poll()
    for c in live:
        poll.register(c[0], select.POLLIN)
    fds = dict(poll.poll(100))
    for i, c in enumerate(conns):
        if c[3] is None and c[0].fileno() in fds and read(c) and mode == "hold":
            conns[i] = conn()
if mode == "once":
    for i, c in enumerate(conns):
        line = c[2].split(b"\n")[0].decode() if c[2] else "-"
        print(i, -1 if c[3] is None else c[3], line)
'
# flood_bg OUT UID ARGS...: flood ARGS as UID in the background, output in
# OUT; returns once it printed "ready". Sets FLOOD_PID.
flood_bg()
{
	local out=$1 uid=$2
	shift 2
	as "$uid" "$PY" -c "$FLOODER" "$@" >"$out" 2>&1 &
	FLOOD_PID=$!
	UBT_BGPIDS+=("$FLOOD_PID")
	wait_until 10 "the flooder as uid $uid to connect" matches -x ready "$out"
}

# timed CMD...: runs CMD; its output (both streams) in OUT, its status in
# RC, its time in ms in MS.
timed()
{
	local t0=$EPOCHREALTIME
	RC=0
	OUT=$("$@" 2>&1) || RC=$?
	MS=$(((${EPOCHREALTIME/./} - ${t0/./}) / 1000))
}

start_bridge "$P" --group users
sock=$(sock_path "$BR")
rss0=$(daemon_rss)

step "64 half-written requests from uid $FLOOD_UID: uid $OTHER_UID and root are served at once"
flood_bg "$UBT_TMP/once" "$FLOOD_UID" once "$sock" 64 5
timed as "$OTHER_UID" "$UBCTL" -n "$BR" port show
((RC == 0)) || fail "port show as uid $OTHER_UID failed (exit $RC) with 64 half-written connections open: $OUT"
info "port show as uid $OTHER_UID: $MS ms"
((MS < 900)) || fail "port show as uid $OTHER_UID took $MS ms with 64 half-written connections open"
timed "$UBCTL" -n "$BR" port show
((RC == 0)) || fail "port show as root failed (exit $RC) with 64 half-written connections open: $OUT"
info "port show as root: $MS ms; daemon RSS $rss0 kB -> $(daemon_rss) kB"

step "the half-written ones are dropped within 2 s, told why"
wait "$FLOOD_PID" || fail "the flooder failed: $(cat "$UBT_TMP/once")"
grep -v '^ready$' "$UBT_TMP/once" >"$UBT_TMP/once.res"
expect_eq "connections reported" 64 "$(wc -l <"$UBT_TMP/once.res")"
late=$(awk '$2 < 0 || $2 > 2000' "$UBT_TMP/once.res")
[[ -z $late ]] || fail "connections not dropped within 2 s (number, ms, reply): $late"
early=$(awk '$2 < 800' "$UBT_TMP/once.res")
[[ -z $early ]] || fail "connections dropped before their deadline (number, ms, reply): $early"
info "dropped after $(awk 'NR == 1 || $2 < min { min = $2 } $2 > max { max = $2 } END { print min "-" max }' "$UBT_TMP/once.res") ms"
n=$(count "$UBT_TMP/once.res" '^[0-9]+ [0-9]+ errno=110 request line not complete within 1000 ms$')
expect_eq "connections told they timed out" 64 "$n"

step "one uid holds at most $SHARE connections; past that it is told the bridge is busy"
flood_bg "$UBT_TMP/share" "$FLOOD_UID" once "$sock" $((SHARE + 8)) 5
rss1=$(daemon_rss)
out=$(as "$FLOOD_UID" "$UBCTL" -n "$BR" port show 2>&1) && fail "uid $FLOOD_UID got past its share: $out"
expect_eq "ubctl as uid $FLOOD_UID past its share" "ubctl: bridge \"$BR\" is busy, try again" "$out"
as "$OTHER_UID" "$UBCTL" -n "$BR" port show >/dev/null ||
	fail "uid $OTHER_UID refused while only uid $FLOOD_UID is over its share"
info "daemon RSS with $SHARE connections held: $rss1 kB (idle: $rss0 kB)"
wait "$FLOOD_PID" || fail "the flooder failed: $(cat "$UBT_TMP/share")"
n=$(count "$UBT_TMP/share" "^[0-9]+ [0-9]+ errno=16 bridge busy: uid $FLOOD_UID holds $SHARE connections, its share\$")
expect_eq "connections of uid $FLOOD_UID refused as over its share" 8 "$n"
n=$(count "$UBT_TMP/share" '^[0-9]+ [0-9]+ errno=110 ')
expect_eq "connections of uid $FLOOD_UID held, then timed out" "$SHARE" "$n"

step "a table full of two uids' connections: ubctl says the bridge is busy, then gets in"
flood_bg "$UBT_TMP/hold1" "$FLOOD_UID" hold "$sock" "$SHARE" 4
pid1=$FLOOD_PID
flood_bg "$UBT_TMP/hold2" "$OTHER_UID" hold "$sock" "$SHARE" 4
pid2=$FLOOD_PID
# The flooders' connections all expire together and are reopened within
# milliseconds: a client may slip in then, so give it a few tries.
busy=0
for _ in 1 2 3 4 5; do
	rc=0
	out=$("$UBCTL" -n "$BR" port show 2>&1) || rc=$?
	((rc == 0)) && continue
	expect_eq "exit status of a busy ubctl" 1 "$rc"
	expect_eq "ubctl with the table full" "ubctl: bridge \"$BR\" is busy, try again" "$out"
	busy=1
	break
done
((busy)) || fail "ubctl got in five times while the table was held full"
wait "$pid1" "$pid2" || fail "a flooder failed"
wait_until 3 "ubctl to get in once the flood ended" eval '"$UBCTL" -n "$BR" port show >/dev/null 2>&1'

step "a request without a newline is answered with EINVAL"
out=$(printf 'port show' | ctl_raw)
expect_eq "reply to a request cut short" "errno=22 request not terminated by a newline" "$out"
out=$(printf 'port show\n' | ctl_raw | tail -n 1)
expect_eq "status of the same request with its newline" "errno=0" "$out"

bridge_alive
test_done
