#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The podman environment of issue 14, proven with the standard CNI plugins
# (no ubridge yet): podman_lib.sh's private podman, a network of the
# standard `bridge` plugin (host-local IPAM) with `portmap` chained, two
# containers that ping each other, busybox httpd in one of them published
# with -p HOSTPORT:80 and fetched from the host, and podman rm -f cleaning
# up. Logging shims for bridge and portmap, first in cni_plugin_dirs, check
# that podman takes plugins from the test's own directory and what it hands
# them (ADD, prevResult, DEL): cni_notes.md shows real captures.
#
# Seen on Debian 12 (kernel 6.18, cgroup v1 "hybrid", no systemd, iptables
# 1.8.9 with the nf_tables back end), when this was written:
#   podman 4.3.1 (4.3.1+ds1-8+deb12u1+b3), API 4.3.1, go1.19.8
#   conmon 2.1.6 (2.1.6+ds1-1)
#   runc 1.1.5+ds1-1+deb12u1 (spec 1.0.2-dev, libseccomp 2.5.4)
#   containernetworking-plugins 1.1.1+ds1-3+b5: each plugin answers VERSION
#     with supportedVersions 0.1.0 0.2.0 0.3.0 0.3.1 0.4.0 1.0.0
#   podman passes the conflist's cniVersion (here 1.0.0) to every plugin,
#     and sends VERSION with {"cniVersion":"1.0.0"}
#   busybox-static 1:1.35.0-4+deb12u1+b1
# The test prints the versions it runs with.
#
# Publishing, seen here: portmap DNATs in the nat table's PREROUTING and
# OUTPUT (addrtype LOCAL), sets route_localnet on the bridge and
# masquerades what comes from 127.0.0.1, so http://127.0.0.1:HOSTPORT/ and
# http://<bridge address>:HOSTPORT/ work from the host. The host's other
# addresses (e.g. eth0's) do not with this conflist: the request keeps that
# source address and the container has no default route to answer it
# (host-local gives none unless ipam has "routes", nor does the bridge
# plugin without isDefaultGateway), so the test does not try them.
UBT_ID=pe
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=podman_lib.sh
source "$(dirname "$0")/podman_lib.sh"

plugins=$UBT_TMP/plugins
calls=$UBT_TMP/calls
pm_setup "$plugins"
info "$(podman --version); $(runc --version | head -n 1); $(conmon --version | head -n 1)"
info "CNI plugins: $(dpkg-query -W -f '${Version}' containernetworking-plugins 2>/dev/null || echo '?'), $(CNI_COMMAND=VERSION /usr/lib/cni/bridge </dev/null | jq -c .supportedVersions)"
# Taken from our directory, not /usr/lib/cni: the shims log, then run the
# real plugins. (host-local is not shimmed: bridge runs it itself, through
# the CNI_PATH podman gives it.)
pm_shim_plugin "$plugins" bridge /usr/lib/cni/bridge "$calls"
pm_shim_plugin "$plugins" portmap /usr/lib/cni/portmap "$calls"

net=${P}n
br=${P}br
UBT_LINKS+=("$br")
sub=$(free_subnet 200)
gw=$sub.1
hostport=$(pm_free_port)
ipam=$(pm_ipam_dir)
step "network $net: bridge $br, $sub.0/24, dataDir $ipam; portmap"
pm_conflist "$net" "$(jq -nc --arg net "$net" --arg br "$br" --arg sub "$sub.0/24" --arg dd "$ipam" '
	{cniVersion: "1.0.0", name: $net, plugins: [
		{type: "bridge", bridge: $br, isGateway: true, ipMasq: false,
		 ipam: {type: "host-local", subnet: $sub, dataDir: $dd}},
		{type: "portmap", capabilities: {portMappings: true}}]}')"
pm network ls --format '{{.Name}}' | matches -xF "$net" || fail "podman does not list network $net"

pm_run web "$net" -p "$hostport:80" -- httpd -f -p 80 -h /www
pm_run cli "$net"
ipw=$(pm_ip web "$net")
ipc=$(pm_ip cli "$net")
idw=$(pm_id web)
nsw=$(pm_netns web)
info "web $ipw (netns $nsw), cli $ipc"
[[ $ipw == "$sub".* && $ipc == "$sub".* && $ipw != "$ipc" ]] ||
	fail "addresses not in $sub.0/24: web '$ipw', cli '$ipc'"
[[ $nsw == /run/netns/* ]] || fail "web's namespace is not under /run/netns: $nsw"
expect_eq "web's MAC as podman says and as eth0 has it" "$(pm_mac web "$net")" \
	"$(pm_exec web cat /sys/class/net/eth0/address)"
expect_eq "bridge $br address" "$gw/24" "$(ip -4 -o addr show dev "$br" | awk '{ print $4 }')"
ports=$(ip -o link show master "$br" | wc -l)
expect_eq "ports on $br" 2 "$ports"

step "what podman handed the plugins on ADD"
f=$(grep -lxF "CNI_CONTAINERID=$idw" "$calls"/*-bridge-ADD.env 2>/dev/null || true)
[[ -n $f ]] || fail "bridge was not run from $plugins (cni_plugin_dirs), or not for web"
b=${f%.env}.in
for kv in CNI_COMMAND=ADD CNI_IFNAME=eth0 "CNI_NETNS=$nsw" "CNI_ARGS=IgnoreUnknown=1;K8S_POD_NAME=$P-web"; do
	grep -xF "$kv" "$f" | matches . || fail "bridge ADD without $kv: $(cat "$f")"
done
grep -xF "CNI_PATH=$plugins:/usr/lib/cni" "$f" | matches . || fail "CNI_PATH: $(grep CNI_PATH "$f")"
expect_eq "cniVersion given to bridge" 1.0.0 "$(jq -r .cniVersion "$b")"
expect_eq "bridge's stdin is its own plugin object plus name and cniVersion" \
	"bridge $br $net" "$(jq -r '"\(.type) \(.bridge) \(.name)"' "$b")"
# portmap chained: it gets bridge's result as prevResult and the mappings
# as runtimeConfig (capability portMappings).
pin=$(grep -lxF "CNI_CONTAINERID=$idw" "$calls"/*-portmap-ADD.env)
pin=${pin%.env}.in
expect_eq "portmap's prevResult address" "$ipw/24" \
	"$(jq -r '.prevResult.ips[0].address' "$pin")"
expect_eq "portmap's prevResult sandbox interface" "eth0 $nsw" \
	"$(jq -r '.prevResult.interfaces[] | select(.sandbox) | "\(.name) \(.sandbox)"' "$pin")"
expect_eq "portmap's runtimeConfig" "$hostport 80 tcp" \
	"$(jq -r '.runtimeConfig.portMappings[0] | "\(.hostPort) \(.containerPort) \(.protocol)"' "$pin")"

step "ping between the containers"
pm_exec cli ping -c 2 -W 1 "$ipw" >/dev/null || fail "ping cli -> web ($ipw) failed"
pm_exec web ping -c 2 -W 1 "$ipc" >/dev/null || fail "ping web -> cli ($ipc) failed"
pm_exec cli ping -c 1 -W 1 "$gw" >/dev/null || fail "ping cli -> gateway $gw failed"

pm_published "$ipw" "$hostport" "$gw"
iptables -t nat -S CNI-HOSTPORT-DNAT | matches -F "dnat name: \\\"$net\\\" id: \\\"$idw\\\"" ||
	fail "no portmap DNAT rule for web: $(iptables -t nat -S CNI-HOSTPORT-DNAT)"

step "podman rm -f: DEL, and what it leaves"
lease=$ipam/$net/$ipw
[[ -e $lease ]] || fail "no host-local lease $lease"
pm_rm web
pm_exists web && fail "web still exists after podman rm -f"
for p in bridge portmap; do
	f=$(grep -lxF "CNI_CONTAINERID=$idw" "$calls"/*-"$p"-DEL.env 2>/dev/null || true)
	[[ -n $f ]] || fail "no $p DEL for web"
	grep -xF "CNI_NETNS=$nsw" "$f" | matches . || fail "$p DEL: $(cat "$f")"
	expect_eq "$p DEL's status" 0 "$(cat "${f%.env}.rc")"
	expect_eq "$p DEL's prevResult address" "$ipw/24" "$(jq -r '.prevResult.ips[0].address' "${f%.env}.in")"
done
[[ ! -e $nsw ]] || fail "web's namespace $nsw is still there"
[[ ! -e $lease ]] || fail "host-local lease $lease still there"
expect_eq "ports on $br after rm" 1 "$(ip -o link show master "$br" | wc -l)"
iptables -t nat -S CNI-HOSTPORT-DNAT | matches -F "$idw" && fail "portmap rule for web still there"
ls /var/lib/cni/results/"$net-$idw"-* >/dev/null 2>&1 && fail "libcni cache for web still there"
pm_page_ok "http://127.0.0.1:$hostport/" && fail "page still served on $hostport"
pm_exec cli ping -c 1 -W 1 "$ipw" >/dev/null 2>&1 && fail "web's address $ipw still answers"
pm_rm cli
expect_eq "ports on $br after both" 0 "$(ip -o link show master "$br" | wc -l)"
info "plugin calls: $(find "$calls" -name '*.rc' | sed 's/.*-\([a-z]*-[A-Z]*\)\.rc$/\1/' | sort | uniq -c | tr -s ' \n' ' ')"
test_done
