#!/bin/bash
# SPDX-License-Identifier: MIT
# A capture writes only where its client could write itself: ubctl opens
# the file and passes the descriptor, the daemon (root) never opens a path
# a client names. A member of the socket's group cannot make it write into
# a root-owned file, with ubctl or with a raw request; a symlink planted at
# a path root configured is not followed; a group member's capture is not
# reopened by the daemon after a restart. The same holds for namespaces:
# a member cannot wire a process's namespace it could not open itself.
UBT_ID=cs
. "$(dirname "$0")/lib.sh"

GRP_GID=$(getent group users | cut -d: -f3)
[[ -n $GRP_GID ]] || skip "no group 'users'"
MEMBER=4242
as_member() { setpriv --reuid=$MEMBER --regid=$MEMBER --groups="$GRP_GID" "$@"; }

chmod 0711 "$UBT_TMP"
ROOTFILE=$UBT_TMP/rootfile
printf 'root only\n' >"$ROOTFILE"
chmod 0644 "$ROOTFILE"
want=$(sha256sum <"$ROOTFILE")
rootfile_intact()
{
	[[ $(sha256sum <"$ROOTFILE") == "$want" && $(stat -c %u "$ROOTFILE") == 0 ]] ||
		fail "$1: $ROOTFILE changed: $(head -c 200 "$ROOTFILE" | od -c | head -3)"
}
MINE=$UBT_TMP/member
mkdir "$MINE"
chown "$MEMBER:$MEMBER" "$MINE"

start_bridge "$P" --group users
make_ns a 10.83.0.1/24
make_ns b 10.83.0.2/24

step "a group member cannot capture into a root-owned file"
out=$(as_member "$UBCTL" -n "$P" capture start all "$ROOTFILE" 2>&1) &&
	fail "capture start into $ROOTFILE worked for uid $MEMBER: $out"
[[ $out == "ubctl: cannot open $ROOTFILE: Permission denied" ]] ||
	fail "unclear refusal: $out"
info "$out"

step "nor with a raw request that passes no descriptor (the path alone), or the state file's words"
raw() { printf '%s\n' "$1" | as_member timeout 5 socat -t 2 - "UNIX-CONNECT:$(sock_path "$P")"; }
reply=$(raw "capture start all $ROOTFILE")
[[ $reply == "errno=9 capture start needs its file opened by the client"* ]] ||
	fail "raw capture start: unexpected reply: $reply"
info "$reply"
for req in "capture start all $ROOTFILE owner 0" "capture start all $ROOTFILE append yes owner 0" \
	"gateway add 10.83.9.1/24 localnet yes" "port add ${HOSTIF[a]} netns x peer eth0 made yes"; do
	reply=$(raw "$req")
	[[ $reply == "errno=1 \""*"\" is for the state file, not a request" ]] ||
		fail "raw \"$req\": unexpected reply: $reply"
done
info "$reply"
expect_eq "captures running" 0 "$(ubctl -j capture show | jq length)"
ping_ok a b
rootfile_intact "after the refusals"

step "a group member's own file: captured, and owned by the member"
as_member "$UBCTL" -n "$P" capture start all "$MINE/cap.pcap" >/dev/null
ping_ok a b
ubctl capture stop all
expect_eq "owner of the member's capture" "$MEMBER" "$(stat -c %u "$MINE/cap.pcap")"
(($(pcap_frames "$MINE/cap.pcap" icmp) >= 2)) || fail "no ICMP in the member's capture"

step "restart: the member's capture is not reopened by the daemon, root's is"
as_member "$UBCTL" -n "$P" capture start all "$MINE/again.pcap" >/dev/null
ubctl capture start all "$UBT_TMP/root.pcap" >/dev/null
stop_bridge "$P"
rm -f "$MINE/again.pcap"
ln -s "$ROOTFILE" "$MINE/again.pcap"
start_bridge "$P" --group users
expect_eq "captures restored" "$UBT_TMP/root.pcap" \
	"$(ubctl -j capture show | jq -r '[.[].file] | join(" ")')"
grep -q "capture start all $MINE/again.pcap.*not restored: a capture the daemon would open for another user" \
	"$UBT_TMP/$P.log" || fail "no log line for the member's capture: $(tail -n 5 "$UBT_TMP/$P.log")"
ping_ok a b
rootfile_intact "after the restart"

step "root's own capture path made a symlink: not followed on restore"
stop_bridge "$P"
rm -f "$UBT_TMP/root.pcap"
ln -s "$ROOTFILE" "$UBT_TMP/root.pcap"
start_bridge "$P" --group users
expect_eq "captures restored through a symlink" 0 "$(ubctl -j capture show | jq length)"
grep -q "capture start all $UBT_TMP/root.pcap.*not restored: cannot open $UBT_TMP/root.pcap: Too many levels of symbolic links" \
	"$UBT_TMP/$P.log" || fail "no log line for the symlink: $(tail -n 5 "$UBT_TMP/$P.log")"
ping_ok a b
rootfile_intact "after the symlinked restore"

step "a member cannot attach a veth to the namespace of a process it may not trace"
unshare -n sleep 60 &
UBT_BGPIDS+=($!)
cpid=$!
wait_until 5 "root's process $cpid to have its own namespace" \
	bash -c "[[ \$(readlink /proc/$cpid/ns/net) != \$(readlink /proc/self/ns/net) ]]"
out=$(as_member "$UBCTL" -n "$P" netns attach --pid "$cpid" 2>&1) &&
	fail "netns attach --pid of root's process worked for uid $MEMBER: $out"
[[ $out == "ubctl: open the namespace /proc/$cpid/ns/net: Permission denied" ]] ||
	fail "unclear refusal: $out"
info "$out"
reply=$(printf 'netns attach pid %s\n' "$cpid" | as_member timeout 5 socat -t 2 - \
	"UNIX-CONNECT:$(sock_path "$P")")
[[ $reply == "errno=9 netns attach --pid needs the namespace opened by the client"* ]] ||
	fail "raw netns attach pid: unexpected reply: $reply"
expect_eq "namespaces on the bridge" 0 "$(ubctl -j netns show | jq length)"
out=$(ubctl netns attach --pid "$cpid")
ubctl netns del "pid:$cpid"
info "root may: $out"
out=$(as_member "$UBCTL" -n "$P" netns attach /proc/self/ns/net --ifname "${P}x" \
	--addr 10.83.8.1/24 2>&1) && fail "a member wired the bridge's own namespace: $out"
[[ $out == *"the namespace passed is the bridge's own"* ]] || fail "unclear refusal: $out"
! link_exists "${P}x" || fail "a member made ${P}x in the host's namespace"
info "$out"

step "nor from the daemon's own command line"
stop_bridge "$P"
out=$(timeout 10 "$UBRIDGE" -f -n "${P}x" --state "$UBT_TMP/x.state" \
	--capture "all:$UBT_TMP/root.pcap" 2>&1) &&
	fail "ubridge --capture through a symlink started"
[[ $out == *"Too many levels of symbolic links"* ]] || fail "unclear --capture error: $out"
info "$out"
rootfile_intact "after ubridge --capture"

test_done
