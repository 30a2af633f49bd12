/* SPDX-License-Identifier: MIT */
/*
 * The host on the bridge: TAP ports the bridge makes, the gateway (a TAP
 * port named "<bridge>-gw" carrying an address of the host, so namespaces
 * can route through it) and NAT behind it, as docker0 does.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <ubridge/netlink.h>

#include "bridge_private.h"
#include "gateway.h"
#include "log.h"
#include "port.h"
#include "worker.h"

static void gw_name(const struct ub_bridge *br, char out[IFNAMSIZ])
{
	snprintf(out, IFNAMSIZ, "%.12s-gw", br->name);
}

/* The gateway's route_localnet switch under /proc/sys. */
static void gw_localnet_path(const struct ub_bridge *br, char *buf, size_t len)
{
	char name[IFNAMSIZ];

	gw_name(br, name);
	snprintf(buf, len, "/proc/sys/net/ipv4/conf/%s/route_localnet", name);
}

bool ub_gw_is_port(const struct ub_bridge *br, const struct ub_port *p)
{
	char name[IFNAMSIZ];

	gw_name(br, name);
	return br->gw.cidr[0] && !strcmp(p->name, name);
}

/*
 * The gateway's MAC: the same at every start, so that the namespaces' ARP
 * caches stay right across a restart, and different for every machine and
 * bridge: a locally administered unicast address made from a hash of the
 * machine id and the bridge's name.
 */
static void gw_mac(const struct ub_bridge *br, struct ub_mac *mac)
{
	uint64_t h = UB_FNV1A_INIT;
	char id[64];
	ssize_t n;
	int fd;

	fd = open("/etc/machine-id", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, id, sizeof(id));
		if (n > 0)
			h = ub_fnv1a(h, id, (size_t)n);
		close(fd);
	}
	h = ub_fnv1a(h, br->name, strlen(br->name));
	mac->b[0] = 0x02;
	for (int i = 1; i < UB_ETH_ALEN; i++)
		mac->b[i] = (uint8_t)(h >> (8 * i));
}

int ub_tap_add(struct ub_bridge *br, const char *name, uint32_t mtu,
	       const struct ub_mac *mac, char *err, size_t errlen)
{
	struct ub_link_set set = { .mask = UB_LINK_SET_UP, .up = true };
	char why[UB_NL_ERRMSG_MAX + 64];
	struct ub_link_info li = { 0 };
	struct ub_nl *nl;
	struct ub_port *p;
	int ret;

	if ((ret = ub_nl_ifname_check(name))) {
		snprintf(err, errlen, "invalid interface name \"%.20s\"%s", name,
			 ret == -ENAMETOOLONG ? " (at most 15 characters)" : "");
		return ret;
	}
	ret = ub_port_open(br, name, &ub_port_tap_ops, NULL, err,
			   errlen);
	if (ret)
		return ret;
	p = ub_port_find(&br->ports, name);
	ub_bridge_unlock(br);
	if (mtu) {
		set.mask |= UB_LINK_SET_MTU;
		set.mtu = mtu;
	}
	if (mac) {
		set.mask |= UB_LINK_SET_MAC;
		set.mac = *mac;
	}
	ret = ub_nl_open(&nl);
	if (!ret) {
		ret = ub_nl_link_set(nl, name, &set);
		if (ret)
			snprintf(err, errlen, "set %s up%s%s: %s", name,
				 mtu ? ", its MTU" : "", mac ? ", its MAC" : "",
				 ub_nl_strerror(nl, ret, why, sizeof(why)));
		else if (ub_nl_link_get(nl, name, &li))
			li.mtu = 0;
		ub_nl_close(nl);
	} else {
		snprintf(err, errlen, "netlink: %s", strerror(-ret));
	}
	ub_bridge_lock(br);
	if (!ret && li.mtu)
		p->io.mtu = li.mtu;
	if (!ret && mac)
		ub_port_set_mac(br, p, mac);
	/* The device goes with its fd. */
	if (ret)
		ub_port_del(br, p);
	else
		ub_port_announce(br, p);
	return ret;
}

int ub_gw_add(struct ub_bridge *br, const char *cidr, bool localnet,
	      char *err, size_t errlen)
{
	char name[IFNAMSIZ], why[UB_NL_ERRMSG_MAX + 64], path[96];
	struct ub_mac mac;
	struct ub_cidr c;
	struct ub_nl *nl;
	int ret;

	if (br->gw.cidr[0]) {
		snprintf(err, errlen, "bridge %s has a gateway already (%s)",
			 br->name, br->gw.cidr);
		return -EEXIST;
	}
	if (ub_cidr_parse(cidr, &c)) {
		snprintf(err, errlen, "invalid address \"%.60s\" (expected "
			 "e.g. 172.16.0.1/16)", cidr);
		return -EINVAL;
	}
	gw_name(br, name);
	gw_mac(br, &mac);
	ret = ub_tap_add(br, name, 0, &mac, err, errlen);
	if (ret)
		return ret;
	ub_bridge_unlock(br);
	ret = ub_nl_open(&nl);
	if (!ret) {
		ret = ub_nl_addr_add(nl, name, &c);
		if (ret)
			snprintf(err, errlen, "address %s on %s: %s", cidr, name,
				 ub_nl_strerror(nl, ret, why, sizeof(why)));
		ub_nl_close(nl);
	} else {
		snprintf(err, errlen, "netlink: %s", strerror(-ret));
	}
	ub_bridge_lock(br);
	if (ret) {
		ub_port_del(br,
			    ub_port_find(&br->ports, name));
		return ret;
	}
	snprintf(br->gw.cidr, sizeof(br->gw.cidr), "%s", cidr);
	ub_log(UB_LOG_INFO, "%s: gateway %s on %s", br->name, cidr, name);
	br->gw.localnet = false;
	if (localnet) {
		gw_localnet_path(br, path, sizeof(path));
		ret = ub_sysctl_switch(path, 1, NULL);
		if (ret)
			ub_log(UB_LOG_WARN, "%s: route_localnet on %s: %s",
			       br->name, name, strerror(-ret));
		else
			ub_log(UB_LOG_INFO, "%s: route_localnet on %s again, "
			       "as before the restart (ports published on "
			       "127.0.0.1)", br->name, name);
		br->gw.localnet = !ret;
	}
	return 0;
}

int ub_gw_del(struct ub_bridge *br, char *err, size_t errlen)
{
	char name[IFNAMSIZ];
	struct ub_port *p;

	if (!br->gw.cidr[0]) {
		snprintf(err, errlen, "bridge %s has no gateway", br->name);
		return -ENOENT;
	}
	if (br->gw.nat)
		ub_nat_set(br, false, err, errlen);
	gw_name(br, name);
	p = ub_port_find(&br->ports, name);
	if (p)
		ub_port_del(br, p);
	br->gw.cidr[0] = '\0';
	return 0;
}

int ub_nat_set(struct ub_bridge *br, bool on, char *err, size_t errlen)
{
	char table[64], name[IFNAMSIZ];
	struct ub_cidr c;
	int ret;

	if (on == br->gw.nat)
		return 0;
	ub_nat_table_name(br->name, table, sizeof(table));
	/* nftables and sysctls without the lock (see worker.h). */
	if (!on) {
		ub_bridge_unlock(br);
		ret = ub_nat_disable(table, br->gw.old_forward, err, errlen);
		ub_bridge_lock(br);
		br->gw.nat = false;
		return ret;
	}
	if (!br->gw.cidr[0] || ub_cidr_parse(br->gw.cidr, &c)) {
		snprintf(err, errlen, "NAT needs a gateway: \"ubctl gateway "
			 "add CIDR\" first");
		return -ENOENT;
	}
	gw_name(br, name);
	ub_bridge_unlock(br);
	ret = ub_nat_enable(table, &c, name, &br->gw.old_forward, err, errlen);
	ub_bridge_lock(br);
	if (ret)
		return ret;
	br->gw.nat = true;
	ub_log(UB_LOG_INFO, "%s: NAT on for %s (nftables table %s)", br->name,
	       br->gw.cidr, table);
	return 0;
}

void ub_gw_upkeep(struct ub_bridge *br)
{
	char path[96];
	int on, ret;

	if (!br->gw.cidr[0])
		return;
	gw_localnet_path(br, path, sizeof(path));
	/* A file read: without the lock (see worker.h). Only this thread
	 * changes the gateway meanwhile. */
	ub_bridge_unlock(br);
	ret = ub_sysctl_switch(path, -1, &on);
	ub_bridge_lock(br);
	if (!ret && br->gw.cidr[0] && on != br->gw.localnet) {
		br->gw.localnet = on;
		br->state_dirty = true;
	}
}

void ub_gw_show(struct ub_bridge *br, struct ub_ctl_reply *r)
{
	char name[IFNAMSIZ];

	if (!br->gw.cidr[0])
		return;
	gw_name(br, name);
	ub_ctl_reply_record(r, "port=%s addr=%s nat=%s", name, br->gw.cidr,
			    br->gw.nat ? "on" : "off");
}
