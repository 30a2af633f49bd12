#!/bin/bash
# SPDX-License-Identifier: MIT
# Every bad request gets one line on stderr starting "ubctl:" and a non-zero
# exit; garbage written straight to the socket gets an errno= reply or is
# dropped. The daemon stays up and keeps forwarding through all of it.
UBT_ID=ce
. "$(dirname "$0")/lib.sh"

start_bridge "$P"
make_ns 1 172.16.9.1/16
make_ns 2 172.16.9.2/16
ping_ok 1 2

# A veth that exists but is not a port.
step "an unattached veth ${P}x"
ip link add "${P}x" type veth peer name "${P}y"
UBT_LINKS+=("${P}x" "${P}y")

# expect_ctl_error DESCRIPTION UBCTL-ARGS...
expect_ctl_error()
{
	local what=$1 rc=0 lines
	shift
	"$UBCTL" "$@" >"$UBT_TMP/out" 2>"$UBT_TMP/err" || rc=$?
	((rc != 0)) || fail "$what: ubctl $* exited 0, expected an error"
	lines=$(wc -l <"$UBT_TMP/err")
	if ((lines != 1)) || ! head -n 1 "$UBT_TMP/err" | matches '^ubctl: '; then
		fail "$what: ubctl $*: expected one stderr line starting 'ubctl: ', saw $lines: $(cat "$UBT_TMP/err")"
	fi
	info "$what: exit $rc: $(cat "$UBT_TMP/err")"
	bridge_alive
}

step "bad requests"
expect_ctl_error "port add of a missing interface" -n "$BR" port add "${P}nope"
expect_ctl_error "port add twice" -n "$BR" port add "${HOSTIF[1]}"
expect_ctl_error "port del of an unattached interface" -n "$BR" port del "${P}x"
expect_ctl_error "port del of a missing interface" -n "$BR" port del "${P}nope"
expect_ctl_error "fdb add, bad MAC" -n "$BR" fdb add zz:00:00:00:00:01 dev "${HOSTIF[1]}"
expect_ctl_error "fdb add, short MAC" -n "$BR" fdb add 02:00:00:00:01 dev "${HOSTIF[1]}"
expect_ctl_error "fdb add to a non-port" -n "$BR" fdb add 02:00:00:00:00:01 dev "${P}x"
expect_ctl_error "fdb add to a missing interface" -n "$BR" fdb add 02:00:00:00:00:01 dev "${P}nope"
expect_ctl_error "set ageing garbage" -n "$BR" set ageing abc
expect_ctl_error "set ageing negative" -n "$BR" set ageing -5
expect_ctl_error "unknown command" -n "$BR" frobnicate
expect_ctl_error "unknown subcommand" -n "$BR" port frobnicate
expect_ctl_error "no daemon for that bridge" -n "${P}none" port show
expect_fdb 02:00:00:00:00:01 ""

# raw_request NAME: sends $UBT_TMP/req to the socket; the reply must be
# empty or end in a non-zero errno= status line.
raw_request()
{
	local what=$1 last
	ctl_raw 5 3 <"$UBT_TMP/req" >"$UBT_TMP/reply" 2>/dev/null || true
	last=$(tail -n 1 "$UBT_TMP/reply")
	if [[ -s $UBT_TMP/reply && ! $last =~ ^errno=[1-9][0-9]* ]]; then
		fail "$what: expected an errno=N reply or none, saw: $(head -c 300 "$UBT_TMP/reply")"
	fi
	info "$what: ${last:-<no reply>}"
	bridge_alive
}

step "garbage straight to the socket"
head -c 512 /dev/urandom >"$UBT_TMP/req"
raw_request "binary junk"
printf 'port show\0\x01\xff\n' >"$UBT_TMP/req"
raw_request "NUL and control bytes"
head -c 100000 /dev/zero | tr '\0' a >"$UBT_TMP/req"
echo >>"$UBT_TMP/req"
raw_request "a 100000-byte line"
printf 'port show' >"$UBT_TMP/req"
raw_request "no newline"
printf '\n' >"$UBT_TMP/req"
raw_request "empty line"
printf 'port  show\n' >"$UBT_TMP/req"
raw_request "double space"
for ((i = 0; i < 40; i++)); do printf 'x '; done >"$UBT_TMP/req"
printf 'x\n' >>"$UBT_TMP/req"
raw_request "41 words"
: >"$UBT_TMP/req"
raw_request "connect and close"

step "a user without permission gets a clear refusal (socket mode 0600)"
if command -v setpriv >/dev/null; then
	out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$UBCTL" -n "$BR" port show 2>&1) &&
		fail "an unprivileged user reached the bridge: $out"
	[[ $out == "ubctl: cannot reach bridge"*"Permission denied"* ]] || fail "unexpected refusal: $out"
	info "$out"
fi

step "the daemon still answers and forwards"
ubctl stats >/dev/null || fail "ubctl stats failed after the bad requests"
port_listed "${HOSTIF[1]}" || fail "port show lost ${HOSTIF[1]}"
port_listed "${HOSTIF[2]}" || fail "port show lost ${HOSTIF[2]}"
ping_ok 1 2
ping_ok 2 1
test_done
