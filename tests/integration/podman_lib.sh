# SPDX-License-Identifier: MIT
# shellcheck shell=bash
#
# Real podman containers in integration tests (issue 14). Sourced after
# lib.sh (it uses $P, $UBT_TMP, skip/fail/step/info, wait_until):
#
#   source "$(dirname "$0")/lib.sh"
#   source "$(dirname "$0")/podman_lib.sh"
#   pm_setup "$UBT_TMP/plugins"          # skips (77) when podman cannot run a container here
#   pm_conflist "${P}n" '{"cniVersion":"1.0.0","name":"'"${P}n"'","plugins":[...]}'
#   pm_run a "${P}n" -p 8080:80 -- httpd -f -p 80 -h /www
#   pm_exec a ping -c 1 10.1.2.3
#   pm_rm a
#
# What it sets up, all under $UBT_TMP/pm and removed on exit:
#   - containers-storage of its own (graphroot, runroot; vfs driver, so no
#     overlay mounts to undo), libpod's database in it, libpod's tmp dir,
#     file locks (lock_type "file": not the machine-wide /dev/shm/libpod_lock
#     that every rootful podman on the machine shares), events in a file;
#   - a containers.conf of its own (CONTAINERS_CONF) with cni_plugin_dirs =
#     [the directories given to pm_setup..., /usr/lib/cni]: podman finds
#     plugins there, not through CNI_PATH (it sets CNI_PATH for the plugins
#     from this list, so a plugin delegating to host-local finds it too);
#   - a CNI configuration directory ($PM_NETDIR, podman's --cni-config-dir);
#   - the image $PM_IMAGE made from busybox-static (no registry is needed);
#   - a cgroup parent of its own ($PM_CGROUP, under every hierarchy).
#
# What cannot be kept private, and pm_teardown therefore undoes by name:
#   - the network namespaces podman makes: /run/netns/netns-<uuid> (podman
#     picks the name; pm_run records each container's);
#   - libcni's result cache: /var/lib/cni/results/<network>-<id>-<ifname>
#     (podman 4.3 does not let the cache directory be chosen);
#   - portmap's iptables rules (table nat, chains CNI-HOSTPORT-* shared by
#     every portmap user, CNI-DN-* per container); the nft tables ip/ip6 nat
#     that iptables-nft makes if there were none;
#   - net.ipv4.ip_forward, which the bridge plugin sets to 1 (isGateway);
#   - runc's state under /run/runc/<container id> (64 random hex digits,
#     gone with podman rm);
#   - containers/image's blob info cache, /var/lib/containers/cache (podman
#     import writes it; removed if the test made it).
# So a test defines its networks with names, and bridges with interface
# names, that start with $P; host-local's dataDir should be $PM_DIR/ipam
# (pm_ipam_dir), so the leases go with the test.
#
# Teardown runs from lib.sh's cleanup through ubt_on_exit (before the
# daemons stop, so a plugin's DEL can still reach one). A test that needs an
# ubt_on_exit of its own defines it after sourcing this file and calls
# pm_teardown from it.
#
# Observed on Debian 12 (see podman_env.sh for the versions): podman
# cannot start a container here without --cgroup-manager cgroupfs (no
# systemd), and the container's rlimits are given explicitly (--ulimit), as
# the issue says; both are in every pm_run.

PM_DIR=
PM_NETDIR=
PM_IMAGE=localhost/$P-busybox
PM_CGROUP=/$P-pm
PM_TIMEOUT=60
PM_IMAGE_DONE=0
PM_FWD0=
PM_HAD_NAT=
PM_HAD_NAT6=
PM_HAD_HOSTPORT=
PM_HAD_CNIDIR=
PM_HAD_IMGCACHE=
declare -a PM_PLUGIN_DIRS=() PM_NETS=() PM_NETNS=()
# The options every container gets (the issue's, plus the cgroup parent).
declare -a PM_RUN_OPTS=(--ulimit nofile=1024:1024 --ulimit nproc=1024:1024)

# pm ARGS...: podman with the test's own configuration and storage, bounded
# by $PM_TIMEOUT seconds; its stderr goes to $UBT_TMP/podman.log (shown by
# cleanup when the test fails). --root/--runroot are given although the
# storage.conf says the same: conmon passes only the command line (and
# CONTAINERS_CONF, not CONTAINERS_STORAGE_CONF) to the `podman container
# cleanup` it runs when a container exits.
pm()
{
	printf '+ podman %s\n' "$*" >>"$UBT_TMP/podman.log"
	timeout -k 5 "$PM_TIMEOUT" env CONTAINERS_CONF="$PM_DIR/containers.conf" \
		CONTAINERS_STORAGE_CONF="$PM_DIR/storage.conf" \
		podman --root "$PM_DIR/root" --runroot "$PM_DIR/runroot" \
		--runtime runc --cgroup-manager cgroupfs \
		--network-backend cni --cni-config-dir "$PM_NETDIR" "$@" 2>>"$UBT_TMP/podman.log"
}

# The last lines podman wrote to stderr (for messages).
pm_log_tail() { tail -n "${1:-3}" "$UBT_TMP/podman.log" 2>/dev/null | tr '\n' ' '; }

# Tables and chains there were before the test (portmap and iptables-nft
# make them on the first ADD; pm_teardown removes them only if they were
# not there and are empty again).
pm_nft_has_table() { nft list table "$1" nat >/dev/null 2>&1; }
pm_has_hostport() { iptables -t nat -S CNI-HOSTPORT-DNAT >/dev/null 2>&1; }

# pm_setup [PLUGIN_DIR...]: the private podman environment, with the
# PLUGIN_DIRs (created if missing) before /usr/lib/cni in cni_plugin_dirs;
# then the image, and a first container (no network): when podman cannot
# start one here, the test is skipped, with podman's reason.
pm_setup()
{
	local d t bb dirs=

	for t in podman runc conmon; do
		command -v "$t" >/dev/null ||
			skip "podman: '$t' is not installed (apt-get install podman runc containernetworking-plugins busybox-static)"
	done
	for t in host-local bridge portmap loopback; do
		[[ -x /usr/lib/cni/$t ]] ||
			skip "podman: /usr/lib/cni/$t is missing (apt-get install containernetworking-plugins)"
	done
	command -v iptables >/dev/null || skip "podman: iptables is not installed (portmap needs it)"
	bb=$(command -v busybox) || skip "podman: busybox is not installed (apt-get install busybox-static)"
	[[ $(LC_ALL=C ldd "$bb" 2>&1 || true) == *"not a dynamic executable"* ]] ||
		skip "podman: $bb is not linked statically (apt-get install busybox-static)"

	PM_DIR=$UBT_TMP/pm
	PM_NETDIR=$PM_DIR/net
	PM_PLUGIN_DIRS=("$@")
	mkdir -p "$PM_DIR"/{root,runroot,tmp,net,ipam,rootfs} "$PM_NETDIR"
	for d in "${PM_PLUGIN_DIRS[@]}"; do
		mkdir -p "$d"
		dirs+="\"$d\", "
	done
	dirs+='"/usr/lib/cni"'

	# What pm_teardown puts back.
	PM_FWD0=$(cat /proc/sys/net/ipv4/ip_forward)
	PM_HAD_NAT=0 PM_HAD_NAT6=0 PM_HAD_HOSTPORT=0 PM_HAD_CNIDIR=0 PM_HAD_IMGCACHE=0
	if command -v nft >/dev/null; then
		pm_nft_has_table ip && PM_HAD_NAT=1
		pm_nft_has_table ip6 && PM_HAD_NAT6=1
	else
		PM_HAD_NAT=1 PM_HAD_NAT6=1 # cannot tell: leave them alone
	fi
	pm_has_hostport && PM_HAD_HOSTPORT=1
	[[ -d /var/lib/cni ]] && PM_HAD_CNIDIR=1
	[[ -d /var/lib/containers ]] && PM_HAD_IMGCACHE=1

	cat >"$PM_DIR/storage.conf" <<-EOF
		[storage]
		driver = "vfs"
		graphroot = "$PM_DIR/root"
		runroot = "$PM_DIR/runroot"
	EOF
	cat >"$PM_DIR/containers.conf" <<-EOF
		[containers]
		netns = "bridge"

		[engine]
		cgroup_manager = "cgroupfs"
		events_logger = "file"
		events_logfile_path = "$PM_DIR/tmp/events.log"
		lock_type = "file"
		runtime = "runc"
		static_dir = "$PM_DIR/root/libpod"
		tmp_dir = "$PM_DIR/tmp"
		volume_path = "$PM_DIR/root/volumes"

		[network]
		network_backend = "cni"
		cni_plugin_dirs = [$dirs]
		network_config_dir = "$PM_NETDIR"
		default_network = "${P}none"
	EOF
	PM_RUN_OPTS+=(--cgroup-parent "$PM_CGROUP")

	pm_image
	step "podman: a first container (no network)"
	pm run --rm --name "$P-probe" --network none "${PM_RUN_OPTS[@]}" "$PM_IMAGE" true >/dev/null ||
		skip "podman cannot start a container here: $(pm_log_tail 2)"
}

# pm_image: builds $PM_IMAGE from busybox-static (once per test): a rootfs
# with busybox and a link for each of its applets, /www/index.html (a page
# naming the test, for httpd), imported with podman import.
pm_image()
{
	local root=$PM_DIR/rootfs a

	((PM_IMAGE_DONE)) && return 0
	step "podman: image $PM_IMAGE from $(command -v busybox)"
	mkdir -p "$root"/{bin,etc,proc,sys,dev,tmp,www,root}
	cp "$(command -v busybox)" "$root/bin/busybox"
	for a in $("$root/bin/busybox" --list); do
		[[ -e $root/bin/$a ]] || ln -s busybox "$root/bin/$a"
	done
	echo "root:x:0:0:root:/root:/bin/sh" >"$root/etc/passwd"
	echo "root:x:0:" >"$root/etc/group"
	echo "ubridge test page $P" >"$root/www/index.html"
	tar -C "$root" -c . | pm import -q --change 'ENV=PATH=/bin' - "$PM_IMAGE" >/dev/null ||
		skip "podman cannot import an image here: $(pm_log_tail 2)"
	PM_IMAGE_DONE=1
}

# pm_ipam_dir: the dataDir for host-local (its leases go with the test).
pm_ipam_dir() { echo "$PM_DIR/ipam"; }

# pm_conflist NETWORK JSON: writes the network configuration list JSON (its
# "name" must be NETWORK, which must start with $P) into the configuration
# directory, as NETWORK.conflist.
pm_conflist()
{
	local net=$1 json=$2 name

	[[ $net == "$P"* ]] || fail "pm_conflist: network $net does not start with $P"
	name=$(jq -er '.name' <<<"$json") || fail "pm_conflist: not a conflist: $json"
	expect_eq "name in the conflist" "$net" "$name"
	jq . <<<"$json" >"$PM_NETDIR/$net.conflist"
	PM_NETS+=("$net")
}

# pm_shim_plugin DIR TYPE REAL LOGDIR: a plugin DIR/TYPE that saves each
# invocation in LOGDIR (<time>-TYPE-<command>.env: the CNI_ variables;
# .envall: the whole environment; .in: stdin; .out: the real plugin's
# stdout; .rc: its status), then runs REAL
# with the same stdin and environment and returns its output and status.
pm_shim_plugin()
{
	local dir=$1 type=$2 real=$3 log=$4

	mkdir -p "$dir" "$log"
	cat >"$dir/$type" <<-EOF
		#!/bin/sh
		f="$log/\$(date +%s%N)-\$\$-$type-\${CNI_COMMAND:-none}"
		env | grep '^CNI_' | sort >"\$f.env"
		env | sort >"\$f.envall"
		cat >"\$f.in"
		"$real" <"\$f.in" >"\$f.out"
		rc=\$?
		echo "\$rc" >"\$f.rc"
		cat "\$f.out"
		exit "\$rc"
	EOF
	chmod +x "$dir/$type"
}

# pm_run NAME NETWORK [RUN OPTIONS...] [-- CMD ARGS...]: container $P-NAME
# of $PM_IMAGE on NETWORK (podman --network), detached, with the standard
# options; CMD defaults to `sleep 3600`. Records its network namespace for
# pm_teardown. Fails the test with podman's error.
pm_run()
{
	local name=$1 net=$2
	local -a opts=() cmd=(sleep 3600)
	shift 2
	while (($#)); do
		if [[ $1 == -- ]]; then
			shift
			cmd=("$@")
			break
		fi
		opts+=("$1")
		shift
	done
	step "podman run $P-$name on $net${opts[*]:+ (${opts[*]})}: ${cmd[*]}"
	pm run -d --name "$P-$name" --network "$net" "${PM_RUN_OPTS[@]}" "${opts[@]}" \
		"$PM_IMAGE" "${cmd[@]}" >/dev/null || fail "podman run $P-$name failed: $(pm_log_tail 3)"
	PM_NETNS+=("$(pm_netns "$name")")
}

# pm_exec NAME CMD...: runs CMD in container $P-NAME; returns its status.
pm_exec()
{
	local name=$1
	shift
	pm exec "$P-$name" "$@"
}

# pm_rm NAME: podman rm -f (stop at once, then the network's DEL).
pm_rm()
{
	step "podman rm -f $P-$1"
	pm rm -f -t 0 "$P-$1" >/dev/null || fail "podman rm -f $P-$1 failed: $(pm_log_tail 3)"
}

# pm_inspect NAME FORMAT: podman inspect --format FORMAT of $P-NAME.
pm_inspect() { pm inspect --format "$2" "$P-$1"; }

# pm_netns NAME: the path of the container's network namespace.
pm_netns() { pm_inspect "$1" '{{.NetworkSettings.SandboxKey}}'; }

# pm_id NAME: the container's full id (CNI_CONTAINERID).
pm_id() { pm_inspect "$1" '{{.Id}}'; }

# pm_ip NAME NETWORK / pm_mac NAME NETWORK: the container's address on
# NETWORK (without the prefix length), its MAC there.
pm_ip() { pm_inspect "$1" "{{(index .NetworkSettings.Networks \"$2\").IPAddress}}"; }
pm_mac() { pm_inspect "$1" "{{(index .NetworkSettings.Networks \"$2\").MacAddress}}"; }

# pm_page_ok URL: the image's page (pm_image) comes from URL within 5 s,
# fetched with the host's busybox (busybox 1.35's wget -T crashes here:
# timeout bounds it instead).
pm_page_ok() { [[ $(timeout 5 busybox wget -q -O - "$1" 2>/dev/null) == "ubridge test page $P" ]]; }

# pm_published WEBIP HOSTPORT GW: httpd in container "web" (at WEBIP)
# serves the page to container "cli", and its published HOSTPORT serves it
# on the host, at 127.0.0.1 and at the gateway GW.
pm_published()
{
	local ip=$1 port=$2 gw=$3

	step "httpd in web, published on $port"
	wait_until 10 "web's page from inside cli" pm_exec cli sh -c "wget -q -O - http://$ip/ | grep -q '$P'"
	wait_until 10 "the page at 127.0.0.1:$port" pm_page_ok "http://127.0.0.1:$port/"
	pm_page_ok "http://$gw:$port/" || fail "no page at the gateway's address $gw:$port"
}

# pm_exists NAME: podman knows container $P-NAME.
pm_exists() { pm container exists "$P-$1"; }

# pm_free_port: a TCP port (20000-29999, from the PID) nothing listens on.
pm_free_port()
{
	local i port
	for ((i = 0; i < 100; i++)); do
		port=$((20000 + ($$ + i * 101) % 10000))
		ss -Hltn "sport = :$port" | matches . && continue
		echo "$port"
		return 0
	done
	fail "no free TCP port for the test"
}

# pm_portmap_cleanup: removes what portmap left for this test's networks
# (its DEL did not run: a container whose namespace vanished), then, if the
# test made them, its shared chains and iptables-nft's empty nat tables.
pm_portmap_cleanup()
{
	local net rule chain

	for net in "${PM_NETS[@]}"; do
		while read -r rule; do
			chain=${rule##* -j }
			eval "iptables -t nat -D ${rule#-A }"
			iptables -t nat -F "$chain" 2>/dev/null
			iptables -t nat -X "$chain" 2>/dev/null
		done < <(iptables -t nat -S CNI-HOSTPORT-DNAT 2>/dev/null |
			grep -F -- "dnat name: \\\"$net\\\"" || true)
	done
	if ((!PM_HAD_HOSTPORT)) && pm_has_hostport &&
		! iptables -t nat -S CNI-HOSTPORT-DNAT | matches '^-A '; then
		while read -r rule; do
			eval "iptables -t nat -D ${rule#-A }"
		done < <(iptables -t nat -S | grep -E '^-A (PREROUTING|OUTPUT|POSTROUTING) .*-j CNI-HOSTPORT-' || true)
		for chain in CNI-HOSTPORT-DNAT CNI-HOSTPORT-MASQ CNI-HOSTPORT-SETMARK; do
			iptables -t nat -F "$chain" 2>/dev/null
			iptables -t nat -X "$chain" 2>/dev/null
		done
	fi
	command -v nft >/dev/null || return 0
	# A table iptables-nft made for portmap: deleted once nothing but its
	# empty base chains is left in it.
	((PM_HAD_NAT)) || pm_nft_drop_empty ip
	((PM_HAD_NAT6)) || pm_nft_drop_empty ip6
}

pm_nft_drop_empty()
{
	local n
	n=$(nft -j list table "$1" nat 2>/dev/null |
		jq '[.nftables[] | select(.rule or .set or .map or (.chain and .chain.hook == null))] | length' 2>/dev/null) ||
		return 0
	[[ $n == 0 ]] && nft delete table "$1" nat 2>/dev/null
	return 0
}

# pm_teardown: removes every container and image (the network DELs run
# through the plugins), then whatever podman or the plugins left outside
# $PM_DIR (see the top of this file), and unmounts anything left mounted
# under $PM_DIR, so that lib.sh's cleanup can delete it.
pm_teardown()
{
	local ns net d i m

	[[ -n $PM_DIR && -e $PM_DIR/containers.conf ]] || return 0
	PM_TIMEOUT=30
	pm rm -a -f -t 0 >/dev/null
	pm rmi -a -f >/dev/null
	for ns in "${PM_NETNS[@]}"; do
		[[ $ns == /run/netns/netns-* && -e $ns ]] || continue
		ip netns del "${ns#/run/netns/}" 2>/dev/null || { umount -l "$ns"; rm -f "$ns"; }
	done
	for net in "${PM_NETS[@]}"; do
		rm -f /var/lib/cni/results/"$net"-*
	done
	if ((!PM_HAD_CNIDIR)); then
		rmdir /var/lib/cni/results /var/lib/cni 2>/dev/null
	fi
	# containers/image's blob info cache, written by podman import whatever
	# the storage (root's is always /var/lib/containers/cache).
	if ((!PM_HAD_IMGCACHE)); then
		rm -f /var/lib/containers/cache/blob-info-cache-v1.boltdb
		rmdir /var/lib/containers/cache /var/lib/containers 2>/dev/null
	fi
	pm_portmap_cleanup
	# The cgroup parent: conmon's cgroup and the containers' are empty once
	# podman rm returned (conmon may need a moment to exit).
	for ((i = 0; i < 20; i++)); do
		m=0
		for d in /sys/fs/cgroup/*/"${PM_CGROUP#/}" /sys/fs/cgroup/"${PM_CGROUP#/}"; do
			[[ -d $d ]] || continue
			find "$d" -mindepth 1 -depth -type d -exec rmdir {} + 2>/dev/null
			rmdir "$d" 2>/dev/null || m=1
		done
		((m)) || break
		sleep 0.1
	done
	((m)) && echo "podman_lib: cgroup $PM_CGROUP still in use" >&2
	if [[ -n $PM_FWD0 && $(cat /proc/sys/net/ipv4/ip_forward) != "$PM_FWD0" ]]; then
		echo "$PM_FWD0" >/proc/sys/net/ipv4/ip_forward
	fi
	# Mounts under $PM_DIR (none with the vfs driver, unless podman was
	# killed half-way: a container's shm), deepest first.
	awk -v d="$PM_DIR/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r |
		while read -r m; do umount -l "$m"; done
	return 0
}

ubt_on_exit() { pm_teardown; }
