/* SPDX-License-Identifier: MIT */
/* The port table, and the start and end of a port's I/O. */
#include <errno.h>
#include <net/if_arp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ubridge/netlink.h>

#include "bridge_private.h"
#include "capture.h"
#include "log.h"
#include "port.h"
#include "worker.h"

struct ub_port *ub_port_find(struct ub_ports *t, const char *name)
{
	for (uint32_t i = 0; i < t->n; i++)
		if (!strcmp(ub_port_nth(t, i)->name, name))
			return ub_port_nth(t, i);
	return NULL;
}

struct ub_port *ub_port_by_ifindex(struct ub_ports *t, int ifindex)
{
	for (uint32_t i = 0; i < t->n; i++)
		if (ub_port_nth(t, i)->io.ifindex == ifindex)
			return ub_port_nth(t, i);
	return NULL;
}

unsigned int ub_bridge_port_count(const struct ub_bridge *br)
{
	return br->ports.n;
}

struct ub_ring *ub_port_ring(struct ub_bridge *br, const struct ub_port *p)
{
	return br->workers[p->worker].ring;
}

int ub_port_arm_rx(struct ub_bridge *br, struct ub_worker *self,
		   struct ub_port *p)
{
	int ret;

	/* A busy-polling loop looks at polled ports all the time. */
	if (br->busy_poll && (p->io.ops->flags & UB_PORT_F_POLLED))
		return 0;
	if (p->worker != self->id) {
		p->rx_arm_wanted = true;
		ub_worker_ask(&br->workers[p->worker]);
		return 0;
	}
	ret = p->io.ops->arm_rx(self->ring, &p->io,
				ub_ud_make(UB_OP_RX, ub_port_id(&br->ports, p),
					   0));
	p->rx_armed = ret == 0;
	return ret;
}

void ub_port_cancel_rx(struct ub_bridge *br, struct ub_worker *self,
		       struct ub_port *p)
{
	if (p->worker != self->id) {
		p->rx_cancel_wanted = true;
		ub_worker_ask(&br->workers[p->worker]);
		return;
	}
	ub_ring_cancel(self->ring,
		       ub_ud_make(UB_OP_RX, ub_port_id(&br->ports, p), 0));
}

/* The worker that gets a new port: the one with the fewest. */
static uint32_t worker_pick(struct ub_bridge *br)
{
	uint32_t count[UB_WORKERS_MAX] = { 0 }, best = 0;

	for (uint32_t i = 0; i < br->ports.n; i++)
		count[ub_port_nth(&br->ports, i)->worker]++;
	for (uint32_t k = 1; k < br->nworkers; k++)
		if (count[k] < count[best])
			best = k;
	return best;
}

/*
 * What the kernel bridge refuses, refused here too (for an interface the
 * port does not make): one that is enslaved to a master already (a bridge,
 * a bond, a VRF: it gets the frames, not us), loopback (a flood would go
 * into the host's own stack) and anything that is not Ethernet (no MACs to
 * learn). 'li' gets the link as it is.
 */
static int link_check(const char *ifname, struct ub_link_info *li, char *err,
		      size_t errlen)
{
	char master[IF_NAMESIZE], why[UB_NL_ERRMSG_MAX + 64];
	struct ub_nl *nl;
	int ret;

	ret = ub_nl_open(&nl);
	if (ret) {
		snprintf(err, errlen, "netlink: %s", strerror(-ret));
		return ret;
	}
	ret = ub_nl_link_get(nl, ifname, li);
	if (ret == -ENODEV)
		snprintf(err, errlen, "no such interface: %s", ifname);
	else if (ret)
		snprintf(err, errlen, "cannot read %s: %s", ifname,
			 ub_nl_strerror(nl, ret, why, sizeof(why)));
	ub_nl_close(nl);
	if (ret)
		return ret;
	if (li->flags & IFF_LOOPBACK) {
		snprintf(err, errlen, "%s is a loopback interface, not a "
			 "bridge port", ifname);
		return -EINVAL;
	}
	if (li->type != ARPHRD_ETHER) {
		snprintf(err, errlen, "%s is not an Ethernet interface (link "
			 "type %u)", ifname, li->type);
		return -EINVAL;
	}
	if (li->master) {
		if (!if_indextoname((unsigned int)li->master, master))
			snprintf(master, sizeof(master), "ifindex %d",
				 li->master);
		snprintf(err, errlen, "%s is enslaved to %s", ifname, master);
		return -EBUSY;
	}
	return 0;
}

static int port_claim(struct ub_bridge *br, struct ub_port *p, int ifindex,
		      const char *ifname, char *err, size_t errlen)
{
	char holder[UB_BRIDGE_NAME_MAX + 1];
	int ret;

	ret = ub_claim_take(UB_CTL_RUNDIR, br->name, ifindex, ifname, &p->claim,
			    holder, sizeof(holder));
	if (ret == -EBUSY)
		snprintf(err, errlen, "%s is a port of bridge %s already",
			 ifname, holder);
	else if (ret == -EAGAIN)
		snprintf(err, errlen, "%s: another bridge is claiming it at "
			 "the same time; try again", ifname);
	else if (ret)
		snprintf(err, errlen, "cannot claim %s (in %s): %s", ifname,
			 UB_CTL_RUNDIR, strerror(-ret));
	return ret;
}

int ub_port_open(struct ub_bridge *br, struct ub_worker *self,
		 const char *ifname, const struct ub_port_ops *ops, char *err,
		 size_t errlen)
{
	bool own = ops->flags & UB_PORT_F_OWN_DEVICE;
	struct ub_ports *t = &br->ports;
	struct ub_link_info li = { 0 };
	struct ub_port *p = NULL;
	int ret;

	if (ub_port_find(t, ifname)) {
		snprintf(err, errlen, "%s is already a port of bridge %s",
			 ifname, br->name);
		return -EEXIST;
	}
	for (uint32_t i = 0; i < UB_PORTS_MAX && !p; i++)
		if (t->slot[i].state == UB_PORT_FREE)
			p = &t->slot[i];
	if (!p) {
		snprintf(err, errlen, "bridge %s has %d ports already", br->name,
			 UB_PORTS_MAX);
		return -ENOSPC;
	}

	memset(p, 0, sizeof(*p));
	p->io.ops = ops;
	ub_claim_init(&p->claim);
	p->io.ring_bytes = br->ring_bytes;
	p->worker = worker_pick(br);
	/* An interface that exists is claimed before it is opened: no frame
	 * of another bridge's port is ever received. */
	if (!own && ((ret = link_check(ifname, &li, err, errlen)) ||
		     (ret = port_claim(br, p, li.ifindex, ifname, err, errlen))))
		return ret;
	ret = ops->open(ub_port_ring(br, p), ifname, &p->io);
	if (ret) {
		if (ret == -ENODEV)
			snprintf(err, errlen, "no such interface: %s", ifname);
		else if (ret == -EEXIST)
			snprintf(err, errlen, "interface %s exists already",
				 ifname);
		else
			snprintf(err, errlen, "cannot open %s: %s", ifname,
				 strerror(-ret));
		ub_claim_release(&p->claim);
		return ret;
	}
	/* The name went to another interface meanwhile: not what we
	 * checked and claimed. */
	if (!own && p->io.ifindex != li.ifindex) {
		snprintf(err, errlen, "%s changed while being attached; try "
			 "again", ifname);
		ret = -EAGAIN;
		goto err_close;
	}
	if (own && (ret = port_claim(br, p, p->io.ifindex, ifname, err,
				     errlen)))
		goto err_close;
	ret = ub_port_arm_rx(br, self, p);
	if (ret) {
		snprintf(err, errlen, "cannot start receiving on %s: %s",
			 ifname, strerror(-ret));
		goto err_close;
	}
	snprintf(p->name, sizeof(p->name), "%s", ifname);
	p->state = UB_PORT_FORWARDING;
	/* A device the port owns shows its state through the fd (see
	 * link.c), and is up for as long as the port has it. */
	p->link_up = own || ((li.flags & IFF_UP) && (li.flags & IFF_RUNNING));
	ub_port_set_mac(br, p, &p->io.mac);
	t->fwd[t->n++] = ub_port_id(t, p);
	if (!own)
		ub_port_announce(br, p);
	return 0;

err_close:
	ub_port_close(br, p);
	return ret;
}

void ub_port_announce(struct ub_bridge *br, const struct ub_port *p)
{
	ub_log(UB_LOG_INFO, "%s: port %s attached (%s, ifindex %d, mtu %u, "
	       "worker %u)", br->name, p->name, p->io.ops->kind, p->io.ifindex,
	       p->io.mtu, p->worker);
}

void ub_port_close(struct ub_bridge *br, struct ub_port *p)
{
	p->io.ops->close(ub_port_ring(br, p), &p->io);
	ub_claim_release(&p->claim);
}

void ub_port_set_mac(struct ub_bridge *br, struct ub_port *p,
		     const struct ub_mac *mac)
{
	if (!ub_mac_eq(&p->io.mac, mac)) {
		ub_fdb_del(br->fdb, &p->io.mac, 0);
		p->io.mac = *mac;
	}
	if (!ub_mac_is_zero(mac) && !ub_mac_is_mcast(mac))
		ub_fdb_add_local(br->fdb, mac, 0, ub_port_id(&br->ports, p));
}

void ub_port_maybe_free(struct ub_bridge *br, struct ub_port *p)
{
	struct ub_ring *ring = ub_port_ring(br, p);

	if (p->state != UB_PORT_CLOSING || p->rx_armed ||
	    !ub_port_idle(ring, &p->io))
		return;
	ub_port_close(br, p);
	p->state = UB_PORT_FREE;
	br->ports.nclosing--;
}

void ub_port_del(struct ub_bridge *br, struct ub_worker *self,
		 struct ub_port *p)
{
	struct ub_ports *t = &br->ports;
	uint32_t id = ub_port_id(t, p);

	for (uint32_t i = 0; i < t->n; i++) {
		if (t->fwd[i] == id) {
			t->fwd[i] = t->fwd[--t->n];
			break;
		}
	}
	p->state = UB_PORT_CLOSING;
	t->nclosing++;
	br->state_dirty = true;
	free(p->netns);
	p->netns = NULL;
	ub_fdb_flush(br->fdb, id, true);
	/* The slot's next port starts without a cap of its own. */
	ub_fdb_port_set_cap(br->fdb, id, 0, UB_FDB_CAP_NOLEARN);
	ub_cap_stop_port(&br->caps, id);
	if (p->rx_armed)
		ub_port_cancel_rx(br, self, p);
	ub_log(UB_LOG_INFO, "%s: port %s detached", br->name, p->name);
	ub_port_maybe_free(br, p);
}
