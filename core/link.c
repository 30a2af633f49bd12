/* SPDX-License-Identifier: MIT */
/* Link events (see link.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <ubridge/netlink.h>

#include "bridge_private.h"
#include "link.h"
#include "log.h"
#include "port.h"

static int arm(struct ub_bridge *br)
{
	return ub_ring_read(ub_ctl_worker(br)->ring, ub_nl_fd(br->links.mon),
			    br->links.buf, sizeof(br->links.buf),
			    ub_ud_make(UB_OP_NETLINK, 0, 0));
}

int ub_links_open(struct ub_bridge *br)
{
	int ret = ub_nl_monitor_open(&br->links.mon);

	return ret ? ret : arm(br);
}

void ub_links_close(struct ub_links *l)
{
	ub_nl_close(l->mon);
	l->mon = NULL;
}

/*
 * A port's interface changed: deleted (or moved to another namespace), the
 * port goes; renamed, it follows; down (admin or carrier), the port stops
 * forwarding and forgets what it learned, and starts again when it is up.
 */
static void on_link(bool gone, const struct ub_link_info *li, void *arg)
{
	struct ub_bridge *br = arg;
	struct ub_port *p = ub_port_by_ifindex(&br->ports, li->ifindex);
	bool up;

	/* A device the port owns keeps working through its fd when it moves
	 * to another namespace, where its later changes are out of our
	 * sight: the fd, not the events, tells how the device is. */
	if (!p || (p->io.ops->flags & UB_PORT_F_OWN_DEVICE))
		return;
	if (gone) {
		ub_port_gone(br, p);
		return;
	}
	if (strcmp(p->name, li->name)) {
		ub_log(UB_LOG_INFO, "%s: port %s renamed %s", br->name, p->name,
		       li->name);
		snprintf(p->name, sizeof(p->name), "%s", li->name);
		br->state_dirty = true;
	}
	/* What "port show" reports, and what a TX ring's send checks. (A
	 * ring's slots keep the size the MTU at attach time gave them.) */
	if (li->mtu && li->mtu != p->io.mtu) {
		ub_log(UB_LOG_INFO, "%s: port %s mtu %u -> %u", br->name,
		       p->name, p->io.mtu, li->mtu);
		p->io.mtu = li->mtu;
	}
	up = (li->flags & IFF_UP) && (li->flags & IFF_RUNNING);
	if (up == p->link_up)
		return;
	p->link_up = up;
	if (!up)
		ub_port_flush_fdb(br, ub_port_id(&br->ports, p), false);
	ub_mon_event(br, up ? UB_MON_PORT_UP : UB_MON_PORT_DOWN, NULL, 0,
		     p->name, NULL, 0);
	ub_log(UB_LOG_INFO, "%s: port %s %s", br->name, p->name,
	       up ? "up: forwarding" : "down: not forwarding, learned "
	       "entries flushed");
}

void ub_links_on_cqe(struct ub_bridge *br, const struct ub_cqe *c)
{
	if (c->res > 0) {
		ub_nl_monitor_parse(br->links.buf, (size_t)c->res, on_link, br);
	} else if (c->res == -ENOBUFS) {
		/* Events were lost: a deleted port still shows through its
		 * socket's error; link state is re-read as events come. */
		ub_log_rl(UB_LOG_WARN, "%s: link events lost (ENOBUFS)",
			  br->name);
	}
	if (arm(br))
		ub_log(UB_LOG_ERR, "%s: cannot follow link events", br->name);
}
