/* SPDX-License-Identifier: MIT */
/* The port table, and the start and end of a port's I/O. */
#include <errno.h>
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

struct ub_ring *ub_port_ring(struct ub_bridge *br, const struct ub_port *p)
{
	return br->workers[p->worker].ring;
}

/* Whether 'name' is up and has a carrier; true when it cannot be told. */
static bool link_running(const char *name)
{
	struct ub_link_info li;
	struct ub_nl *nl;
	bool up = true;

	if (!ub_nl_open(&nl)) {
		if (!ub_nl_link_get(nl, name, &li))
			up = (li.flags & IFF_UP) && (li.flags & IFF_RUNNING);
		ub_nl_close(nl);
	}
	return up;
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

int ub_port_open(struct ub_bridge *br, struct ub_worker *self,
		 const char *ifname, const struct ub_port_ops *ops, char *err,
		 size_t errlen)
{
	struct ub_ports *t = &br->ports;
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
	p->io.ring_bytes = br->ring_bytes;
	p->worker = worker_pick(br);
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
		return ret;
	}
	ret = ub_port_arm_rx(br, self, p);
	if (ret) {
		p->io.ops->close(ub_port_ring(br, p), &p->io);
		snprintf(err, errlen, "cannot start receiving on %s: %s",
			 ifname, strerror(-ret));
		return ret;
	}
	snprintf(p->name, sizeof(p->name), "%s", ifname);
	p->state = UB_PORT_FORWARDING;
	/* A device the port owns shows its state through the fd (see
	 * link.c), and is up for as long as the port has it. */
	p->link_up = (ops->flags & UB_PORT_F_OWN_DEVICE) || link_running(ifname);
	ub_port_set_mac(br, p, &p->io.mac);
	t->fwd[t->n++] = ub_port_id(t, p);
	ub_log(UB_LOG_INFO, "%s: port %s attached (%s, ifindex %d, mtu %u, "
	       "worker %u)", br->name, p->name, ops->kind, p->io.ifindex,
	       p->io.mtu, p->worker);
	return 0;
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
	p->io.ops->close(ring, &p->io);
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
