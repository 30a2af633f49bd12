/* SPDX-License-Identifier: MIT */
/* The port table, and the start and end of a port's I/O. */
#include <errno.h>
#include <net/if_arp.h>
#include <pthread.h>
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
	if (ret)
		p->rx_armed = 0;
	else
		p->rx_armed = p->io.ops->rx_wakeups ? p->io.ops->rx_wakeups : 1;
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

/*
 * Runs fn(arg, i) for every i below n from up to UB_PAR_THREADS threads
 * at once, the caller's among them. Opening and closing a ring port waits
 * in the kernel for RCU grace periods, a few per port; where they are not
 * expedited each is several milliseconds, and one thread doing a thousand
 * ports pays a few thousand in a row. Waits from several threads share
 * grace periods instead.
 */
#define UB_PAR_THREADS 64U

struct par_job {
	void (*fn)(void *arg, uint32_t i);
	void *arg;
	uint32_t n;
	uint32_t next; /* taken atomically */
};

static void *par_main(void *arg)
{
	struct par_job *j = arg;
	uint32_t i;

	while ((i = __atomic_fetch_add(&j->next, 1, __ATOMIC_RELAXED)) < j->n)
		j->fn(j->arg, i);
	return NULL;
}

static void par_run(uint32_t n, void (*fn)(void *arg, uint32_t i), void *arg)
{
	struct par_job job = { .fn = fn, .arg = arg, .n = n };
	pthread_t tids[UB_PAR_THREADS];
	uint32_t nthreads = 0, want = n ? n - 1 : 0;

	/* A thread that cannot be made only means fewer waits overlap. */
	want = want < UB_PAR_THREADS ? want : UB_PAR_THREADS;
	while (nthreads < want &&
	       !pthread_create(&tids[nthreads], NULL, par_main, &job))
		nthreads++;
	par_main(&job);
	for (uint32_t k = 0; k < nthreads; k++)
		pthread_join(tids[k], NULL);
}

static int port_claim(const struct ub_bridge *br, struct ub_claim *claim,
		      int ifindex, const char *ifname, char *err,
		      size_t errlen)
{
	char holder[UB_BRIDGE_NAME_MAX + 1];
	int ret;

	ret = ub_claim_take(UB_CTL_RUNDIR, br->name, ifindex, ifname, claim,
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

/*
 * The slow half of an attach, which touches nothing the data path uses
 * (only the bridge's name and settings, fixed at its start), so it runs
 * without the lock: the interface checked, claimed and opened.
 */
static int port_prepare(const struct ub_bridge *br, struct ub_port_prep *pp)
{
	const struct ub_port_ops *ops = pp->io.ops;
	bool own = ops->flags & UB_PORT_F_OWN_DEVICE;
	bool none = ops->flags & UB_PORT_F_NO_DEVICE;
	struct ub_link_info li = { 0 };
	char *err = pp->err;
	size_t errlen = sizeof(pp->err);
	int ret;

	ub_claim_init(&pp->claim);
	/* An interface that exists is claimed before it is opened: no frame
	 * of another bridge's port is ever received. */
	if (!own && !none &&
	    ((ret = link_check(pp->ifname, &li, err, errlen)) ||
		     (ret = port_claim(br, &pp->claim, li.ifindex, pp->ifname,
				       err, errlen))))
		return ret;
	ret = ops->open(pp->ifname, &pp->io);
	if (ret && none) {
		snprintf(err, errlen, "cannot make %s: %s", pp->ifname,
			 strerror(-ret));
		return ret;
	} else if (ret) {
		if (ret == -ENODEV)
			snprintf(err, errlen, "no such interface: %s",
				 pp->ifname);
		else if (ret == -EEXIST)
			snprintf(err, errlen, "interface %s exists already",
				 pp->ifname);
		else if (pp->io.why)
			snprintf(err, errlen, "cannot open %s: %s: %s",
				 pp->ifname, pp->io.why, strerror(-ret));
		else
			snprintf(err, errlen, "cannot open %s: %s", pp->ifname,
				 strerror(-ret));
		ub_claim_release(&pp->claim);
		return ret;
	}
	/* The name went to another interface meanwhile: not what we
	 * checked and claimed. */
	if (none) {
		ret = 0;
	} else if (!own && pp->io.ifindex != li.ifindex) {
		snprintf(err, errlen, "%s changed while being attached; try "
			 "again", pp->ifname);
		ret = -EAGAIN;
	} else if (own) {
		ret = port_claim(br, &pp->claim, pp->io.ifindex, pp->ifname,
				 err, errlen);
	}
	if (ret) {
		pp->io.ops->close(&pp->io);
		ub_claim_release(&pp->claim);
		return ret;
	}
	pp->up = own || none ||
		 ((li.flags & IFF_UP) && (li.flags & IFF_RUNNING));
	return 0;
}

/* A free slot, or NULL with the reason in 'err'. */
static struct ub_port *port_slot(struct ub_bridge *br, const char *ifname,
				 char *err, size_t errlen)
{
	struct ub_ports *t = &br->ports;

	if (ub_port_find(t, ifname)) {
		snprintf(err, errlen, "%s is already a port of bridge %s",
			 ifname, br->name);
		return NULL;
	}
	for (uint32_t i = 0; i < UB_PORTS_MAX; i++)
		if (t->slot[i].state == UB_PORT_FREE)
			return &t->slot[i];
	snprintf(err, errlen, "bridge %s has %d ports already", br->name,
		 UB_PORTS_MAX);
	return NULL;
}

/* Closes what port_prepare() made, without the lock. */
static void port_unprepare(struct ub_bridge *br, struct ub_port_prep *pp)
{
	ub_bridge_unlock(br);
	pp->io.ops->close(&pp->io);
	ub_claim_release(&pp->claim);
	ub_bridge_lock(br);
}

/* The quick half, under the lock: the prepared port takes a slot and a
 * worker, and starts forwarding. */
static int port_install(struct ub_bridge *br, struct ub_port_prep *pp)
{
	const struct ub_port_ops *ops = pp->io.ops;
	struct ub_ports *t = &br->ports;
	struct ub_port *p;
	int ret;

	p = port_slot(br, pp->ifname, pp->err, sizeof(pp->err));
	if (!p) {
		port_unprepare(br, pp);
		return ub_port_find(t, pp->ifname) ? -EEXIST : -ENOSPC;
	}
	memset(p, 0, sizeof(*p));
	p->io = pp->io;
	p->claim = pp->claim;
	p->worker = worker_pick(br);
	if (ops->attach && (ret = ops->attach(ub_port_ring(br, p), &p->io))) {
		snprintf(pp->err, sizeof(pp->err), "cannot attach %s: %s",
			 pp->ifname, strerror(-ret));
		port_unprepare(br, pp);
		return ret;
	}
	snprintf(p->name, sizeof(p->name), "%s", pp->ifname);
	p->state = UB_PORT_FORWARDING;
	/* A device the port owns shows its state through the fd (see
	 * link.c), and is up for as long as the port has it. */
	p->link_up = pp->up;
	ub_port_set_mac(br, p, &p->io.mac);
	t->fwd[t->n++] = ub_port_id(t, p);
	/* Its worker arms the receive in its next turn. */
	ub_port_arm_rx(br, ub_ctl_worker(br), p);
	if (!(ops->flags & UB_PORT_F_OWN_DEVICE))
		ub_port_announce(br, p);
	return 0;
}

static void prepare_one(void *arg, uint32_t i)
{
	struct ub_port_prep *pp = arg;

	if (!pp[i].ret)
		pp[i].ret = port_prepare(pp[i].br, &pp[i]);
}

uint32_t ub_port_open_many(struct ub_bridge *br, struct ub_port_prep *pp,
			   uint32_t n, const struct ub_port_ops *ops)
{
	uint32_t attached = 0;

	/* What can be refused at once is, before the slow part. */
	for (uint32_t i = 0; i < n; i++) {
		pp[i].br = br;
		pp[i].io = (struct ub_port_io){ .ops = ops, .fd = -1,
						.cfg = pp[i].cfg,
						.ring_bytes = br->ring_bytes,
						.ring_idle_bytes =
							br->ring_idle_bytes };
		pp[i].ret = 0;
		for (uint32_t k = 0; k < i && !pp[i].ret; k++)
			if (!strcmp(pp[k].ifname, pp[i].ifname)) {
				snprintf(pp[i].err, sizeof(pp[i].err),
					 "%s is named twice", pp[i].ifname);
				pp[i].ret = -EINVAL;
			}
		if (!pp[i].ret && !port_slot(br, pp[i].ifname, pp[i].err,
					     sizeof(pp[i].err)))
			pp[i].ret = ub_port_find(&br->ports, pp[i].ifname) ?
					    -EEXIST : -ENOSPC;
	}
	/* The slow part without the lock, all of them at once: their
	 * waits for the kernel overlap. */
	ub_bridge_unlock(br);
	par_run(n, prepare_one, pp);
	ub_bridge_lock(br);
	for (uint32_t i = 0; i < n; i++) {
		if (!pp[i].ret)
			pp[i].ret = port_install(br, &pp[i]);
		attached += !pp[i].ret;
	}
	return attached;
}

int ub_port_open(struct ub_bridge *br, const char *ifname,
		 const struct ub_port_ops *ops, const void *cfg, char *err,
		 size_t errlen)
{
	struct ub_port_prep pp = { .ifname = ifname, .cfg = cfg };

	if (!ub_port_open_many(br, &pp, 1, ops))
		snprintf(err, errlen, "%s", pp.err);
	return pp.ret;
}

void ub_port_announce(struct ub_bridge *br, const struct ub_port *p)
{
	ub_log(UB_LOG_INFO, "%s: port %s attached (%s, ifindex %d, mtu %u, "
	       "worker %u)%s%s", br->name, p->name, p->io.ops->kind,
	       p->io.ifindex, p->io.mtu, p->worker, p->io.why ? ": " : "",
	       p->io.why ? p->io.why : "");
	ub_mon_event(br, UB_MON_PORT_ADDED, NULL, 0, p->name, NULL, 0);
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

uint32_t ub_port_flush_fdb(struct ub_bridge *br, uint32_t port,
			   bool with_static)
{
	uint32_t cursor = 0, removed = 0;

	while (cursor != UB_FDB_WALK_DONE) {
		removed += ub_fdb_flush_slice(br->fdb, port, UB_FDB_REMOTE_ANY,
					      with_static, &cursor, 4096);
		ub_bridge_yield(br);
	}
	if (removed)
		ub_mon_event(br, UB_MON_FLUSHED, NULL, 0,
			     port == UB_FDB_PORT_ANY ?
				     NULL :
				     ub_port_by_id(&br->ports, port)->name,
			     NULL, removed);
	return removed;
}

void ub_port_gone(struct ub_bridge *br, struct ub_port *p)
{
	ub_log(UB_LOG_WARN, "%s: port %s: interface is gone", br->name,
	       p->name);
	ub_port_del(br, p);
}

void ub_port_gone_ask(struct ub_bridge *br, struct ub_port *p)
{
	p->gone = true;
	br->ports.gone = true;
	ub_worker_wake(ub_ctl_worker(br));
}

bool ub_port_done(struct ub_bridge *br, struct ub_port *p)
{
	return p->state == UB_PORT_CLOSING && !p->rx_armed &&
	       ub_port_idle(ub_port_ring(br, p), &p->io);
}

void ub_port_del(struct ub_bridge *br, struct ub_port *p)
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
	p->netns_ino = 0;
	free(p->vlan);
	p->vlan = NULL;
	for (int d = 0; d < 2; d++) {
		/* Frames held are dropped with it; none is referenced. */
		if (p->impair[d])
			br->nimpaired--;
		ub_impair_free(p->impair[d]);
		p->impair[d] = NULL;
	}
	free(p->container);
	p->container = NULL;
	/* The slot's next port starts with the default guards. */
	p->guard = (struct ub_port_guard){ 0 };
	/* The interface is free for another bridge, or this one again, at
	 * once: the port's socket forwards nothing from here on. */
	ub_claim_release(&p->claim);
	ub_port_flush_fdb(br, id, true);
	/* The slot's next port starts without a cap of its own. */
	ub_fdb_port_set_cap(br->fdb, id, 0, UB_FDB_CAP_NOLEARN);
	ub_cap_stop_port(&br->caps, id);
	if (p->rx_armed)
		ub_port_cancel_rx(br, ub_ctl_worker(br), p);
	ub_log(UB_LOG_INFO, "%s: port %s detached", br->name, p->name);
	ub_mon_event(br, UB_MON_PORT_REMOVED, NULL, 0, p->name, NULL, 0);
}

void ub_port_reap_ask(struct ub_bridge *br, struct ub_port *p)
{
	if (p->reap_asked || !ub_port_done(br, p))
		return;
	p->reap_asked = true;
	ub_worker_wake(ub_ctl_worker(br));
}

/* Takes a detached port's I/O out of its slot, which is free again. */
static struct ub_port_io port_take(struct ub_bridge *br, struct ub_port *p)
{
	struct ub_port_io io = p->io;

	if (io.ops->detach)
		io.ops->detach(ub_port_ring(br, p), &io);
	p->state = UB_PORT_FREE;
	br->ports.nclosing--;
	return io;
}

void ub_port_reap(struct ub_bridge *br)
{
	struct ub_ports *t = &br->ports;

	if (t->gone) {
		t->gone = false;
		/* A port deleted takes the last one's place in the list. */
		for (uint32_t i = 0; i < t->n;) {
			struct ub_port *p = ub_port_nth(t, i);

			if (p->gone)
				ub_port_gone(br, p);
			else
				i++;
		}
	}
	for (uint32_t i = 0; t->nclosing && i < UB_PORTS_MAX; i++) {
		struct ub_port *p = ub_port_by_id(t, i);
		struct ub_port_io io;

		if (!ub_port_done(br, p))
			continue;
		io = port_take(br, p);
		ub_bridge_unlock(br);
		io.ops->close(&io);
		ub_bridge_lock(br);
	}
}

void ub_port_upkeep_ask(struct ub_bridge *br, struct ub_port *p)
{
	if (p->upkeep_asked)
		return;
	p->upkeep_asked = br->ports.upkeep = true;
	ub_worker_wake(ub_ctl_worker(br));
}

static void upkeep_one(void *arg, uint32_t i)
{
	struct ub_port **job = arg;

	job[i]->io.ops->rx_upkeep_run(&job[i]->io);
}

void ub_port_upkeep(struct ub_bridge *br, bool all)
{
	struct ub_ports *t = &br->ports;
	struct ub_port *job[UB_PAR_THREADS];
	uint32_t i = 0, n;

	if (!all && !t->upkeep)
		return;
	t->upkeep = false;
	/* Only this thread changes the port table, also while it lets the
	 * lock go: fwd[] and the ports in job[] stay as they are. */
	while (i < t->n) {
		for (n = 0; i < t->n && n < UB_PAR_THREADS; i++) {
			struct ub_port *p = ub_port_nth(t, i);

			if (!p->io.ops->rx_upkeep_begin ||
			    (!all && !p->upkeep_asked))
				continue;
			p->upkeep_asked = false;
			if (p->io.ops->rx_upkeep_begin(ub_port_ring(br, p),
						       &p->io, br->now))
				job[n++] = p;
		}
		if (!n)
			continue;
		ub_bridge_unlock(br);
		par_run(n, upkeep_one, job);
		ub_bridge_lock(br);
		for (uint32_t k = 0; k < n; k++) {
			struct ub_port *p = job[k];
			int ret = p->io.ops->rx_upkeep_end(ub_port_ring(br, p),
							   &p->io);

			if (ret > 0) {
				ub_log(UB_LOG_DEBUG, "%s: port %s: receive "
				       "ring of %d KiB", br->name, p->name, ret);
				ub_port_cancel_rx(br, ub_ctl_worker(br), p);
			} else if (ret < 0) {
				ub_log_rl(UB_LOG_WARN, "%s: port %s: cannot "
					  "resize its receive ring: %s",
					  br->name, p->name, strerror(-ret));
			}
		}
	}
}

static void close_one(void *arg, uint32_t i)
{
	struct ub_port_io *io = arg;

	io[i].ops->close(&io[i]);
}

void ub_ports_close_all(struct ub_bridge *br)
{
	struct ub_port_io *io = calloc(UB_PORTS_MAX, sizeof(*io));
	uint32_t n = 0;

	for (uint32_t i = 0; i < UB_PORTS_MAX; i++) {
		struct ub_port *p = ub_port_by_id(&br->ports, i);

		if (p->state == UB_PORT_FREE)
			continue;
		ub_claim_release(&p->claim);
		if (p->state == UB_PORT_FORWARDING) {
			p->state = UB_PORT_CLOSING;
			br->ports.nclosing++;
		}
		if (io) {
			io[n++] = port_take(br, p);
		} else {
			struct ub_port_io one = port_take(br, p);

			one.ops->close(&one); /* no memory: one at a time */
		}
	}
	br->ports.n = 0;
	if (io)
		par_run(n, close_one, io);
	free(io);
}
