#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Real containers on ubridge (issue 14): podman 4.3 with a network whose
# first plugin is ubridge-cni (type "ubridge", the gateway with NAT and the
# default route on, host-local IPAM) and the standard portmap chained after
# it.
# - two containers ping each other through the daemon; their MACs are in
#   the FDB, `netns show` lists them with podman's container ids, and a
#   capture of one's port sees the other's frames;
# - busybox httpd published with -p HOSTPORT:80 is fetched from the host;
# - the daemon restarted under running containers takes their ports back
#   from its state file, and they talk again;
# - podman rm -f removes the port (DEL); a container whose namespace went
#   away without a DEL loses its port all the same (the veth went with the
#   namespace, and the daemon saw it go).
# podman_lib.sh gives the private podman; podman_env.sh checks the same
# environment with the standard bridge plugin.
UBT_ID=po
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=podman_lib.sh
source "$(dirname "$0")/podman_lib.sh"

[[ -x ${UBCNI:-} ]] || fail "UBCNI (the ubridge-cni binary) is not set"
plugins=$UBT_TMP/plugins
pm_setup "$plugins"
# Where podman looks for type "ubridge" (cni_plugin_dirs), as installed.
ln -s "$UBCNI" "$plugins/ubridge"

start_bridge "$P"
net=${P}n
sub=$(free_subnet 200)
gw=$sub.1
hostport=$(pm_free_port)
step "network $net on bridge $P: $sub.0/24, gateway $gw with NAT, portmap"
pm_conflist "$net" "$(jq -nc --arg net "$net" --arg br "$P" --arg sub "$sub.0/24" --arg dd "$(pm_ipam_dir)" '
	{cniVersion: "1.0.0", name: $net, plugins: [
		{type: "ubridge", bridge: $br, isGateway: true, isDefaultGateway: true, ipMasq: true,
		 ipam: {type: "host-local", subnet: $sub, dataDir: $dd}},
		{type: "portmap", capabilities: {portMappings: true}}]}')"

pm_run web "$net" -p "$hostport:80" -- httpd -f -p 80 -h /www
pm_run cli "$net"
ipw=$(pm_ip web "$net") ipc=$(pm_ip cli "$net")
idw=$(pm_id web) idc=$(pm_id cli)
macw=$(pm_mac web "$net") macc=$(pm_mac cli "$net")
info "web $ipw $macw, cli $ipc $macc"
[[ $ipw == "$sub".* && $ipc == "$sub".* && $ipw != "$ipc" ]] ||
	fail "addresses not in $sub.0/24: web '$ipw', cli '$ipc'"
expect_eq "web's MAC as podman says and as eth0 has it" "$macw" \
	"$(pm_exec web cat /sys/class/net/eth0/address)"

step "netns show: a port per container, with podman's container id"
nsjson=$(ubctl -j netns show)
portw=$(jq -r --arg id "$idw" '.[] | select(.container == $id) | .port' <<<"$nsjson")
portc=$(jq -r --arg id "$idc" '.[] | select(.container == $id) | .port' <<<"$nsjson")
[[ -n $portw && -n $portc ]] || fail "netns show lacks the containers: $nsjson"
expect_eq "web's namespace" "$(basename "$(pm_netns web)")" \
	"$(jq -r --arg id "$idw" '.[] | select(.container == $id) | .name' <<<"$nsjson")"
expect_eq "the gateway and its NAT" "$gw/24 on" "$(ubctl -j gateway show | jq -r '"\(.addr) \(.nat)"')"

step "the containers ping each other, the gateway and the host's other side"
cap=$UBT_TMP/web.pcap
ubctl capture start "$portw" "$cap" >/dev/null
pm_exec cli ping -c 3 -W 1 "$ipw" >/dev/null || fail "ping cli -> web ($ipw) failed"
pm_exec web ping -c 2 -W 1 "$ipc" >/dev/null || fail "ping web -> cli ($ipc) failed"
pm_exec cli ping -c 1 -W 1 "$gw" >/dev/null || fail "ping cli -> gateway $gw failed"
ubctl capture stop all
expect_fdb "$macw" "$portw"
expect_fdb "$macc" "$portc"
n=$(pcap_frames "$cap" "icmp and ether src $macc and ether dst $macw")
((n >= 3)) || fail "the capture of $portw has $n echo requests from cli, 3 expected"

pm_published "$ipw" "$hostport" "$gw"

step "the daemon restarted under running containers"
stop_bridge "$P" || fail "ubridge did not stop cleanly"
start_bridge "$P"
wait_until 5 "web's port back" port_listed "$portw"
expect_eq "web's container after the restart" "$idw" \
	"$(ubctl -j netns show | jq -r --arg p "$portw" '.[] | select(.port == $p) | .container')"
wait_until 5 "cli -> web again" pm_exec cli ping -c 1 -W 1 "$ipw"
wait_until 10 "the published page again" pm_page_ok "http://127.0.0.1:$hostport/"

step "podman rm -f: DEL takes the port away"
pm_rm web
! port_listed "$portw" || fail "web's port $portw is still on the bridge"
! link_exists "$portw" || fail "web's veth $portw is still there"
[[ -z $(ubctl -j netns show | jq -r --arg id "$idw" '.[] | select(.container == $id) | .port') ]] ||
	fail "netns show still lists web: $(ubctl netns show)"
pm_page_ok "http://127.0.0.1:$hostport/" && fail "the page is still served on $hostport"

step "a container whose namespace goes without a DEL"
nsc=$(pm_netns cli)
# podman sees the namespace gone and skips DEL; the container's processes
# end with it, the namespace and its veth with them.
ip netns del "$(basename "$nsc")"
pm_rm cli
wait_until 5 "cli's port to go with its namespace" bash -c "! \"$UBCTL\" -n $P -j port show | jq -e --arg p $portc 'any(.[]; .name == \$p)' >/dev/null"
[[ -z $(ubctl -j netns show | jq -r '.[] | select(.container != "-") | .port') ]] ||
	fail "netns show still lists a container: $(ubctl netns show)"
wait_until 5 "the state file to forget it" bash -c "! grep -q 'container' '$UBT_TMP/$P.state'"
bridge_alive
test_done
