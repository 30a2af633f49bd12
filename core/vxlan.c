/* SPDX-License-Identifier: MIT */
/* VXLAN ports on the bridge (vxlan.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "bridge_private.h"
#include "log.h"
#include "port.h"
#include "vxlan.h"
#include "worker.h"

bool ub_vx_is_port(const struct ub_port *p)
{
	/* The one place core looks past a back end's ops: to reach the
	 * VXLAN port's own API. */
	return p->io.ops == &ub_port_vxlan_ops;
}

static const char *remote_err(int ret)
{
	switch (ret) {
	case -EEXIST:
		return "in the flood list already";
	case -EINVAL:
		return "not a unicast address of another host, of the local "
		       "address's family";
	case -ENOSPC:
		return "the port knows as many remotes as it can (4096)";
	case -ENOENT:
		return "not a remote of the port";
	default:
		return strerror(-ret);
	}
}

int ub_vx_add(struct ub_bridge *br, const char *name,
	      const struct ub_vxlan_cfg *cfg, const struct ub_vxlan_ip *remotes,
	      uint32_t n, char *err, size_t errlen)
{
	char ip[INET6_ADDRSTRLEN];
	struct ub_port *p;
	int ret;

	/* Refused before the port is made: nothing to undo. */
	for (uint32_t i = 0; i < n; i++) {
		if (!ub_vxlan_ip_remote_ok(&remotes[i], &cfg->local)) {
			snprintf(err, errlen, "remote %s: %s",
				 ub_vxlan_ip_fmt(&remotes[i], ip, sizeof(ip)),
				 remote_err(-EINVAL));
			return -EINVAL;
		}
	}
	ret = ub_port_open(br, name, &ub_port_vxlan_ops, cfg, err, errlen);
	if (ret == -EADDRINUSE || ret == -EADDRNOTAVAIL)
		snprintf(err, errlen, "%s: %s", name,
			 ret == -EADDRINUSE ?
				 "UDP port in use on the local address (by "
				 "another VXLAN port, or Linux's vxlan?)" :
				 "the local address is not one of this host's");
	if (ret)
		return ret;
	p = ub_port_find(&br->ports, name);
	for (uint32_t i = 0; i < n; i++)
		ub_vxlan_remote_add(&p->io, &remotes[i], true); /* dups: once */
	return 0;
}

int ub_vx_remote(struct ub_bridge *br, struct ub_port *p, bool add,
		 const struct ub_vxlan_ip *ip, char *err, size_t errlen)
{
	char s[INET6_ADDRSTRLEN];
	uint32_t cursor = 0;
	int ret;

	ret = add ? ub_vxlan_remote_add(&p->io, ip, true) :
		    ub_vxlan_remote_del(&p->io, ip);
	if (ret < 0) {
		snprintf(err, errlen, "%s: remote %s: %s", p->name,
			 ub_vxlan_ip_fmt(ip, s, sizeof(s)), remote_err(ret));
		return ret;
	}
	if (add)
		return 0;
	/* Nothing more goes to it; its entries go before its index can
	 * name another remote. */
	while (cursor != UB_FDB_WALK_DONE) {
		ub_fdb_flush_slice(br->fdb, ub_port_id(&br->ports, p),
				   (uint32_t)ret, true, &cursor, 4096);
		ub_bridge_yield(br);
	}
	ub_vxlan_remote_release(&p->io, (uint32_t)ret);
	return 0;
}

int ub_vx_dst(struct ub_bridge *br, struct ub_port *p,
	      const struct ub_vxlan_ip *ip, char *err, size_t errlen)
{
	char s[INET6_ADDRSTRLEN];
	int ret;

	if (!ub_vx_is_port(p)) {
		snprintf(err, errlen, "%s is not a VXLAN port: \"dst\" names "
			 "a remote VTEP", p->name);
		return -EINVAL;
	}
	ret = ub_vxlan_remote_add(&p->io, ip, false);
	if (ret < 0)
		snprintf(err, errlen, "dst %s: %s",
			 ub_vxlan_ip_fmt(ip, s, sizeof(s)), remote_err(ret));
	return ret;
}

/* A port's flood list, read into here (by the control thread alone). */
static struct ub_vxlan_ip flood[UB_VXLAN_REMOTES_MAX];

/* "A,B,..." of the flood list; "-" when empty. */
static void flood_fmt(const struct ub_port *p, char *buf, size_t len)
{
	const struct ub_vxlan_ip *ip = flood;
	uint32_t n = ub_vxlan_flood_list(&p->io, flood, UB_VXLAN_REMOTES_MAX);
	size_t used = 0;

	snprintf(buf, len, "-");
	for (uint32_t i = 0; i < n && used + INET6_ADDRSTRLEN + 1 < len; i++) {
		if (i)
			buf[used++] = ',';
		ub_vxlan_ip_fmt(&ip[i], buf + used, len - used);
		used += strlen(buf + used);
	}
}

void ub_vx_show(struct ub_bridge *br, struct ub_ctl_reply *r)
{
	static char list[UB_VXLAN_REMOTES_MAX * (INET6_ADDRSTRLEN + 1)];

	for (uint32_t i = 0; i < br->ports.n; i++) {
		const struct ub_port *p = ub_port_nth(&br->ports, i);
		const struct ub_vxlan_cfg *c;
		char local[INET6_ADDRSTRLEN];

		if (!ub_vx_is_port(p))
			continue;
		c = ub_vxlan_port_cfg(&p->io);
		flood_fmt(p, list, sizeof(list));
		ub_ctl_reply_record(r, "name=%s vni=%u local=%s dstport=%u "
				    "srcport=%u-%u ttl=%u learning=%s mtu=%u "
				    "remotes_known=%u flood=%s", p->name,
				    c->vni,
				    ub_vxlan_ip_fmt(&c->local, local,
						    sizeof(local)),
				    c->dstport, c->sport_min, c->sport_max,
				    c->ttl, c->learning ? "on" : "off",
				    p->io.mtu, ub_vxlan_remote_count(&p->io),
				    list);
	}
}

void ub_vx_state(const struct ub_port *p, struct ub_ctl_reply *r)
{
	const struct ub_vxlan_cfg *c = ub_vxlan_port_cfg(&p->io);
	char s[INET6_ADDRSTRLEN], ttl[16] = "";
	uint32_t n;

	if (c->ttl)
		snprintf(ttl, sizeof(ttl), " ttl %u", c->ttl);
	ub_ctl_reply_record(r, "vxlan add %s vni %u local %s dstport %u "
			    "srcport %u-%u%s%s", p->name, c->vni,
			    ub_vxlan_ip_fmt(&c->local, s, sizeof(s)),
			    c->dstport, c->sport_min, c->sport_max, ttl,
			    c->learning ? "" : " nolearning");
	n = ub_vxlan_flood_list(&p->io, flood, UB_VXLAN_REMOTES_MAX);
	for (uint32_t i = 0; i < n; i++)
		ub_ctl_reply_record(r, "vxlan remote add %s %s", p->name,
				    ub_vxlan_ip_fmt(&flood[i], s, sizeof(s)));
}
