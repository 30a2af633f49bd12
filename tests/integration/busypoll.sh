#!/bin/bash
# SPDX-License-Identifier: MIT
# --busy-poll: without a time the loop never sleeps (no voluntary context
# switch, idle or not); with --busy-poll=USEC it stays awake USEC after each
# frame, so traffic with gaps shorter than that finds it awake (it hardly
# sleeps during a ping every 5 ms with USEC 20000, where without it sleeps
# once a ping), and it sleeps when the traffic stops (no CPU spent idle).
# Behaviour only: the latency itself is measured in bench/, not here.
UBT_ID=bp
. "$(dirname "$0")/lib.sh"

# stat FIELD: the voluntary context switches (vcs) of the daemon's data
# path thread (worker 0; the main thread is the control thread), or the
# daemon's CPU ticks (utime + stime, all threads).
stat()
{
	local pid=${UBT_BRPID[$BR]} t
	case $1 in
	vcs)
		for t in /proc/"$pid"/task/*; do
			if [[ $(<"$t/comm") == ubridge-w0 ]]; then
				proc_status "$t" voluntary_ctxt_switches
				return
			fi
		done
		fail "no thread ubridge-w0 in the daemon"
		;;
	cpu) daemon_ticks ;;
	esac
}

# sleeps_per_ping: voluntary context switches of the daemon per round trip
# of 100 pings 5 ms apart, in hundredths.
sleeps_per_ping()
{
	local v0 v1
	v0=$(stat vcs)
	in_ns "${P}a" ping -q -c 100 -i 0.005 -W 1 "${IP[b]}" >/dev/null || fail "ping a -> b"
	v1=$(stat vcs)
	echo $((v1 - v0))
}

restart() # restart ARGS...: the same bridge (ports from its state file)
{
	stop_bridge "$P" || fail "ubridge did not stop cleanly"
	start_bridge "$P" "$@"
	wait_until 5 "ports restored" port_listed "${HOSTIF[b]}"
	ping_ok a b
}

start_bridge "$P"
make_ns a 10.82.0.1/24
make_ns b 10.82.0.2/24
ping_ok a b

step "no busy polling: sleeps per round trip"
plain=$(sleeps_per_ping)
info "$plain/100 sleeps per ping"

step "--busy-poll=20000: awake between pings, asleep when idle"
restart --busy-poll=20000
spin=$(sleeps_per_ping)
info "$spin/100 sleeps per ping"
((spin * 4 < plain)) ||
	fail "busy polling for 20 ms after a frame did not save sleeps: $spin/100 per ping against $plain/100 without"
expect_asleep "while idle"

step "--busy-poll: never sleeps, also idle"
restart --busy-poll
v0=$(stat vcs) c0=$(stat cpu)
sleep 1
v1=$(stat vcs) c1=$(stat cpu)
info "idle for 1 s: $((v1 - v0)) sleeps, $((c1 - c0)) ticks"
((v1 - v0 <= 2)) || fail "the always-polling daemon slept $((v1 - v0)) times in 1 idle second"
((c1 - c0 >= 10)) || fail "the always-polling daemon used only $((c1 - c0)) ticks in 1 s"

step "bad values are refused"
rc=0
out=$("$UBRIDGE" -f -n "${P}x" --busy-poll=abc 2>&1) || rc=$?
expect_eq "exit status for --busy-poll=abc" 2 "$rc"
[[ $out == *'invalid busy-poll time "abc"'* ]] || fail "unclear error: $out"

bridge_alive
test_done
