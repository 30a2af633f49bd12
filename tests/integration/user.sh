#!/bin/bash
# SPDX-License-Identifier: MIT
# ubridge --user USER --group GROUP: the daemon becomes USER (uid, gid and
# groups) with only its four capabilities left, still forwards, writes its
# state and captures as USER and comes back from its state file; its
# socket is USER's with mode 0660 for GROUP, so members of GROUP (by
# primary or supplementary group) get in, others are refused with a clear
# error, also when the socket's mode is opened up by hand. A state
# directory USER cannot write, an unknown user or group: clear start-up
# errors.
UBT_ID=us
. "$(dirname "$0")/lib.sh"

command -v setpriv >/dev/null || skip "setpriv (util-linux) is missing"
# nobody/nogroup run the daemon; the socket's group is "users" (100), which
# nobody is not in; clients are made up uids: 4242 is in no group.
RUN_UID=$(id -u nobody) RUN_GID=$(id -g nobody)
getent group users >/dev/null || skip "no group \"users\""
GRP_GID=$(getent group users | cut -d: -f3)
SOCK=$(sock_path "$P")

# The daemon, as nobody, cannot remove its socket, lock file and claim
# directory from root's /run/ubridge when it stops: this test removes them
# (and stops the daemon first).
ubt_on_exit()
{
	stop_bridge "$P"
	rm -rf "$SOCK" "${SOCK%.sock}.lock" "${SOCK%.sock}.ports"
}

# The state and capture files live in a directory of nobody's.
chmod 0711 "$UBT_TMP"
HOME_DIR=$UBT_TMP/nobody
mkdir "$HOME_DIR"
chown "$RUN_UID:$RUN_GID" "$HOME_DIR"
ARGS=(--user nobody --group users --state "$HOME_DIR/state")

as() # as UID GID GROUPS|- CMD...: runs CMD with those credentials
{
	local uid=$1 gid=$2 groups=$3
	shift 3
	if [[ $groups == - ]]; then
		setpriv --reuid="$uid" --regid="$gid" --clear-groups "$@"
	else
		setpriv --reuid="$uid" --regid="$gid" --groups="$groups" "$@"
	fi
}

start_bridge "$P" "${ARGS[@]}"
pid=${UBT_BRPID[$P]}

step "the daemon is nobody, with four capabilities, in every thread"
# Started by the daemon's own user: the file is the client's, opened by it.
as "$RUN_UID" "$RUN_GID" - "$UBCTL" -n "$P" capture start all "$HOME_DIR/all.pcap" >/dev/null
for t in /proc/"$pid"/task/*; do
	expect_eq "Uid of thread ${t##*/}" "$RUN_UID $RUN_UID $RUN_UID $RUN_UID" \
		"$(proc_status "$t" Uid)"
	expect_eq "Gid of thread ${t##*/}" "$RUN_GID $RUN_GID $RUN_GID $RUN_GID" \
		"$(proc_status "$t" Gid)"
	for set in CapEff CapPrm CapBnd; do
		expect_eq "$set of thread ${t##*/}" 0000000000287000 \
			"$(proc_status "$t" "$set")"
	done
done
groups=$(proc_status "/proc/$pid" Groups)
[[ ${groups%% *} != 0 ]] ||
	fail "the daemon kept root's group 0 among its groups"

step "the socket is nobody's, mode 0660, group users"
expect_eq "socket owner, group, mode" "$RUN_UID $GRP_GID 660" "$(stat -c '%u %g %a' "$SOCK")"

step "it forwards: ports added by root, ping both ways, captured as nobody"
make_ns a 10.81.0.1/24
make_ns b 10.81.0.2/24
ping_ok a b
ping_ok b a
ubctl capture stop all
expect_eq "capture file owner" "$RUN_UID" "$(stat -c %u "$HOME_DIR/all.pcap")"
(($(pcap_frames "$HOME_DIR/all.pcap" icmp) >= 4)) ||
	fail "fewer than 4 ICMP frames in the capture"
expect_eq "state file owner and mode" "$RUN_UID 600" "$(stat -c '%u %a' "$HOME_DIR/state")"

step "who may use the socket"
as "$RUN_UID" 4242 - "$UBCTL" -n "$P" port show >/dev/null ||
	fail "the daemon's own user was refused"
as 4242 "$GRP_GID" - "$UBCTL" -n "$P" port show >/dev/null ||
	fail "a client whose primary group is users was refused"
as 4242 4242 "$GRP_GID" "$UBCTL" -n "$P" port show >/dev/null ||
	fail "a client with users as a supplementary group was refused"
# More supplementary groups than the daemon's first guess holds (64).
many=$(seq -s, 5000 5099),$GRP_GID
as 4242 4242 "$many" "$UBCTL" -n "$P" port show >/dev/null ||
	fail "a client with users among 101 supplementary groups was refused"
out=$(as 4242 4242 - "$UBCTL" -n "$P" port show 2>&1) &&
	fail "a client outside the group got in: $out"
[[ $out == *"Permission denied"*"--group"* ]] || fail "unclear refusal: $out"
info "$out"
# The socket's mode is the first lock; the daemon's own check is the
# second, and it says why.
chmod 0666 "$SOCK"
out=$(as 4242 4242 - "$UBCTL" -n "$P" port show 2>&1) &&
	fail "the daemon let in a client outside the group: $out"
[[ $out == *"permission denied: bridge $P is for root, its own user and its socket's group"* ]] ||
	fail "unclear refusal from the daemon: $out"
info "$out"
chmod 0660 "$SOCK"
ping_ok a b

step "what needs root's files fails clearly and changes nothing"
out=$(ubctl netns add "${P}x" --addr 10.81.0.9/24 2>&1) && fail "netns add worked as nobody: $out"
[[ $out == *"create the namespace in /run/netns: Permission denied"* ]] ||
	fail "unclear netns add error: $out"
info "$out"
[[ ! -e /run/netns/${P}x ]] || { ip netns del "${P}x"; fail "netns add left /run/netns/${P}x"; }
ping_ok b a

step "stop, start again: the state file brings the ports back"
bridge_alive
stop_bridge "$P" || fail "ubridge did not stop cleanly on SIGTERM"
# Not removable by nobody: stale, and the next start replaces it.
out=$(ubctl port show 2>&1) && fail "a stopped bridge answered: $out"
[[ $out == *"is ubridge running?"* ]] || fail "unclear error for a stopped bridge: $out"
rm -f "$SOCK"
start_bridge "$P" "${ARGS[@]}"
port_listed "${HOSTIF[a]}" || fail "port ${HOSTIF[a]} not restored"
port_listed "${HOSTIF[b]}" || fail "port ${HOSTIF[b]} not restored"
ping_ok a b

step "start-up errors"
mkdir -m 0755 "$UBT_TMP/rootdir"
out=$("$UBRIDGE" -f -n "${P}e" --user nobody --state "$UBT_TMP/rootdir/s" 2>&1) &&
	fail "started with a state directory nobody cannot write"
[[ $out == *"user nobody cannot write the state directory $UBT_TMP/rootdir (Permission denied)"* ]] ||
	fail "unclear state directory error: $out"
info "$out"
[[ ! -e $(sock_path "${P}e") ]] || fail "a failed start left its socket"
rc=0
out=$("$UBRIDGE" -f -n "${P}e" --user no-such-user-ubt 2>&1) || rc=$?
expect_eq "exit status for an unknown user" 2 "$rc"
[[ $out == *'no such user "no-such-user-ubt"'* ]] || fail "unclear unknown-user error: $out"
rc=0
out=$("$UBRIDGE" -f -n "${P}e" --group no-such-group-ubt 2>&1) || rc=$?
expect_eq "exit status for an unknown group" 2 "$rc"
[[ $out == *'no such group "no-such-group-ubt"'* ]] || fail "unclear unknown-group error: $out"

bridge_alive
test_done
