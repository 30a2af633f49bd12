/* SPDX-License-Identifier: MIT */
/*
 * The bridge: its ports and the event loop that forwards frames between
 * them and serves the control socket.
 *
 * One loop turn: submit everything prepared and wait (until a completion
 * or the FDB's next deadline; not at all when busy polling or when a ring
 * port had more frames than a batch), reap up to UB_BATCH_MAX completions,
 * take frames waiting in ring ports up to a batch, then
 *   pass 1: each received frame is checked, its source learned, and its
 *           destination decided (forward.c);
 *   pass 2: each frame goes to each egress port: copied into the port's
 *           TX ring (one send per port flushes it at the end of the
 *           pass), or as a send pointing at the receive buffer, whose
 *           reference count is the number of such sends;
 * then housekeeping: publish returned buffers, age the FDB, re-arm
 * receives that stopped for lack of buffers.
 *
 * Workers (ubridge --workers N). Each worker is a thread with a ring of
 * its own and runs the loop above for the ports it receives from (a new
 * port goes to the worker with the fewest). Worker 0 is the caller of
 * ub_bridge_run() and also serves control, link events and timers.
 * Everything else is shared, under one lock that a worker holds for its
 * whole turn except the system call that submits its requests and waits:
 * that call is where the kernel does nearly all the work of a frame (the
 * sends, the veth transmit, the receiver's softirq), and it runs on all
 * workers at once. So control and the FDB need no locking of their own
 * and see one consistent bridge. Two rules keep the rings apart:
 * - a ring's requests are queued only by its own thread: another thread
 *   that needs a port's receive armed or cancelled sets rx_*_wanted and
 *   wakes the port's worker (its eventfd), which does it in its next turn;
 * - a frame's buffer belongs to the ring it came in on, and only the
 *   worker that received it sends it, so references stay in one ring.
 * A frame to a port owned by another worker is sent by the receiving
 * worker on its own ring (a packet socket takes sends from any thread);
 * the TX rings are filled under the lock by whoever forwards, and any
 * worker's flush sends what they hold, in ring order.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bridge_private.h"
#include "log.h"

/* A received frame between pass 1 and pass 2. */
struct ub_rx {
	struct ub_frame f;
	uint32_t in_port;
	struct ub_fwd fwd;
};

void ub_bridge_cfg_default(struct ub_bridge_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->name = UB_BRIDGE_DEFAULT;
	cfg->ageing_ms = UB_FDB_DEFAULT_AGEING_MS;
	cfg->ctl_owner = (uid_t)-1;
	cfg->ctl_group = (gid_t)-1;
	cfg->packet_rx = UB_PACKET_RX_RING;
	cfg->packet_tx = UB_PACKET_TX_FLOOD;
}

uint64_t ub_bridge_clock(struct ub_bridge *br)
{
	struct timespec ts;
	uint64_t ns;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ns = (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
	br->now = ns / 1000000 + br->warp_ms;
	return ns;
}

static uint32_t port_id(const struct ub_bridge *br, const struct ub_port *p)
{
	return (uint32_t)(p - br->ports);
}

/* ---- workers ---- */

/* The worker whose thread this is. */
static _Thread_local uint32_t self_id;

static void bridge_lock(struct ub_bridge *br)
{
	if (br->nworkers > 1)
		pthread_mutex_lock(&br->lock);
}

static void bridge_unlock(struct ub_bridge *br)
{
	if (br->nworkers > 1)
		pthread_mutex_unlock(&br->lock);
}

/* Stops the bridge from a thread that does not hold the lock; the
 * workers see it at their next turn. */
static void bridge_stop(struct ub_bridge *br)
{
	bridge_lock(br);
	br->stop = true;
	bridge_unlock(br);
}

/* Makes worker 'w' run a turn soon (it may be asleep in its ring). */
static void worker_wake(struct ub_worker *w)
{
	if (eventfd_write(w->wake_fd, 1))
		ub_log(UB_LOG_ERR, "%s: cannot wake worker %u: %s",
		       w->br->name, w->id, strerror(errno));
}

static int worker_arm_wake(struct ub_worker *w)
{
	return ub_ring_read(w->ring, w->wake_fd, &w->wake_val,
			    sizeof(w->wake_val),
			    ub_ud_make(UB_OP_WAKE, w->id, 0));
}

static struct ub_ring *port_ring(struct ub_bridge *br,
				 const struct ub_port *p)
{
	return br->workers[p->worker].ring;
}

/* Another thread asks port p's worker to do what p's rx_*_wanted say. */
static void port_ask_owner(struct ub_bridge *br, struct ub_port *p)
{
	br->workers[p->worker].todo = true;
	worker_wake(&br->workers[p->worker]);
}

uint32_t ub_bridge_bufs_free(const struct ub_bridge *br)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < br->nworkers; i++)
		n += ub_ring_bufs_free(br->workers[i].ring);
	return n;
}

/* ---- ports ---- */

struct ub_port *ub_bridge_port_find(struct ub_bridge *br, const char *name)
{
	for (uint32_t i = 0; i < br->nports; i++) {
		struct ub_port *p = &br->ports[br->fwd_ids[i]];

		if (!strcmp(p->name, name))
			return p;
	}
	return NULL;
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

static int port_arm_rx(struct ub_bridge *br, struct ub_port *p)
{
	int ret;

	/* A busy-polling loop looks at rings all the time: no wake-ups. */
	if (br->busy_poll && p->io.ops->rx_next)
		return 0;
	if (p->worker != self_id) {
		p->rx_arm_wanted = true;
		port_ask_owner(br, p);
		return 0;
	}
	ret = p->io.ops->arm_rx(port_ring(br, p), &p->io,
				ub_ud_make(UB_OP_RX, port_id(br, p), 0));
	p->rx_armed = ret == 0;
	return ret;
}

static void port_cancel_rx(struct ub_bridge *br, struct ub_port *p)
{
	if (p->worker != self_id) {
		p->rx_cancel_wanted = true;
		port_ask_owner(br, p);
		return;
	}
	ub_ring_cancel(port_ring(br, p), ub_ud_make(UB_OP_RX, port_id(br, p), 0));
}

/* What other threads asked of worker 'w' for its ports. */
static void worker_todo(struct ub_bridge *br, struct ub_worker *w)
{
	w->todo = false;
	for (uint32_t i = 0; i < UB_PORTS_MAX; i++) {
		struct ub_port *p = &br->ports[i];

		if (p->state == UB_PORT_FREE || p->worker != w->id)
			continue;
		if (p->rx_cancel_wanted && p->rx_armed)
			port_cancel_rx(br, p);
		if (p->rx_arm_wanted && p->state == UB_PORT_FORWARDING &&
		    !p->rx_armed && port_arm_rx(br, p))
			p->rx_starved = true; /* retried in housekeeping */
		p->rx_cancel_wanted = p->rx_arm_wanted = false;
	}
}

/* The worker that gets a new port: the one with the fewest. */
static uint32_t worker_pick(const struct ub_bridge *br)
{
	uint32_t count[UB_WORKERS_MAX] = { 0 }, best = 0;

	for (uint32_t i = 0; i < br->nports; i++)
		count[br->ports[br->fwd_ids[i]].worker]++;
	for (uint32_t k = 1; k < br->nworkers; k++)
		if (count[k] < count[best])
			best = k;
	return best;
}

int ub_bridge_port_add(struct ub_bridge *br, const char *ifname, char *err,
		       size_t errlen)
{
	return ub_bridge_port_open(br, ifname, br->packet_ops, err, errlen);
}

int ub_bridge_port_open(struct ub_bridge *br, const char *ifname,
			const struct ub_port_ops *ops, char *err,
			size_t errlen)
{
	struct ub_port *p = NULL;
	int ret;

	if (ub_bridge_port_find(br, ifname)) {
		snprintf(err, errlen, "%s is already a port of bridge %s",
			 ifname, br->name);
		return -EEXIST;
	}
	for (uint32_t i = 0; i < UB_PORTS_MAX && !p; i++)
		if (br->ports[i].state == UB_PORT_FREE)
			p = &br->ports[i];
	if (!p) {
		snprintf(err, errlen, "bridge %s has %d ports already", br->name,
			 UB_PORTS_MAX);
		return -ENOSPC;
	}

	memset(p, 0, sizeof(*p));
	p->io.ring_bytes = br->ring_bytes;
	p->worker = worker_pick(br);
	ret = ops->open(port_ring(br, p), ifname, &p->io);
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
	ret = port_arm_rx(br, p);
	if (ret) {
		p->io.ops->close(port_ring(br, p), &p->io);
		snprintf(err, errlen, "cannot start receiving on %s: %s",
			 ifname, strerror(-ret));
		return ret;
	}
	snprintf(p->name, sizeof(p->name), "%s", ifname);
	p->state = UB_PORT_FORWARDING;
	/* A TAP device's state shows through its fd (see on_link). */
	p->link_up = ops == &ub_port_tap_ops || link_running(ifname);
	ub_bridge_port_set_mac(br, p, &p->io.mac);
	br->fwd_ids[br->nports++] = port_id(br, p);
	ub_log(UB_LOG_INFO, "%s: port %s attached (%s, ifindex %d, mtu %u, "
	       "worker %u)", br->name, p->name, ops->kind, p->io.ifindex,
	       p->io.mtu, p->worker);
	return 0;
}

/* The port's own MAC lives behind the port, for good: frames to it (the
 * gateway's, say) never flood, and nobody else may claim it. */
void ub_bridge_port_set_mac(struct ub_bridge *br, struct ub_port *p,
			    const struct ub_mac *mac)
{
	if (!ub_mac_eq(&p->io.mac, mac)) {
		ub_fdb_del(br->fdb, &p->io.mac, 0);
		p->io.mac = *mac;
	}
	if (!ub_mac_is_zero(mac) && !ub_mac_is_mcast(mac))
		ub_fdb_add_static(br->fdb, mac, 0, port_id(br, p));
}

/* A CLOSING port is freed once nothing of it is left in the ring: no
 * receive, no send of its own, no send elsewhere out of its buffers. */
static void port_maybe_free(struct ub_bridge *br, struct ub_port *p)
{
	struct ub_ring *ring = port_ring(br, p);

	if (p->state != UB_PORT_CLOSING || p->rx_armed || p->tx_inflight ||
	    (p->io.ops->rx_held && p->io.ops->rx_held(ring, &p->io)))
		return;
	p->io.ops->close(ring, &p->io);
	p->state = UB_PORT_FREE;
	br->nclosing--;
}

void ub_bridge_port_del(struct ub_bridge *br, struct ub_port *p)
{
	uint32_t id = port_id(br, p);

	for (uint32_t i = 0; i < br->nports; i++) {
		if (br->fwd_ids[i] == id) {
			br->fwd_ids[i] = br->fwd_ids[--br->nports];
			break;
		}
	}
	p->state = UB_PORT_CLOSING;
	br->nclosing++;
	br->state_dirty = true;
	free(p->netns);
	p->netns = NULL;
	ub_fdb_flush(br->fdb, id, true);
	/* The slot's next port starts without a cap of its own. */
	ub_fdb_port_set_cap(br->fdb, id, 0, UB_FDB_CAP_NOLEARN);
	ub_cap_stop_port(br, id);
	if (p->rx_armed)
		port_cancel_rx(br, p);
	ub_log(UB_LOG_INFO, "%s: port %s detached", br->name, p->name);
	port_maybe_free(br, p);
}

/* ---- data path ---- */

/* Puts port 'p' on the turn's list of ports whose TX ring state is
 * finished (flushed, reset) at the end of pass 2. */
static void port_tx_touch(struct ub_worker *w, struct ub_port *p)
{
	if (p->tx_touched)
		return;
	p->tx_touched = true;
	w->tx_touched[w->ntx_touched++] = port_id(w->br, p);
}

/* Hands the kernel what the port's TX ring holds, with one request. */
static void port_tx_flush(struct ub_worker *w, struct ub_port *p)
{
	if (!p->tx_ring_put)
		return;
	if (p->io.ops->tx_flush(w->ring, &p->io,
				ub_ud_make(UB_OP_TX_FLUSH, port_id(w->br, p), 0))) {
		/* No request: the frames wait in the ring for the port's
		 * next flush. */
		p->drops[UB_DROP_TX_ERROR]++;
		return;
	}
	p->tx_ring_put = 0;
	p->tx_inflight++;
}

/*
 * Queues 'rx' on port 'p': into its TX ring if it has one and 'ring' says
 * so, else (or when the frame is too large for a slot) as a send out of
 * the receive buffer, which then holds a reference for it. False if
 * dropped instead.
 */
static bool port_send(struct ub_worker *w, struct ub_port *p,
		      const struct ub_rx *rx, bool ring)
{
	struct ub_bridge *br = w->br;
	uint32_t id = port_id(br, p);
	int ret;

	if (ring && p->io.ops->tx_put && !p->tx_ring_off) {
		port_tx_touch(w, p);
		ret = p->io.ops->tx_put(&p->io, &rx->f);
		if (ret == -ENOBUFS) {
			p->drops[UB_DROP_TX_BUSY]++;
			return false;
		}
		if (!ret) {
			p->tx_ring_put++;
			p->tx_packets++;
			p->tx_bytes += ub_frame_eth_len(&rx->f);
			goto queued;
		}
	}
	if (p->tx_ring_put) {
		/* A send goes after what the ring holds, and the turn's later
		 * frames to 'p' after it: a flush queued now would also take
		 * frames put in the ring later in the turn. */
		port_tx_flush(w, p);
		p->tx_ring_off = true;
	}
	if (p->tx_inflight >= UB_PORT_TX_MAX) {
		p->drops[UB_DROP_TX_BUSY]++;
		return false;
	}
	if (p->io.ops->send(w->ring, &p->io, &rx->f,
			    ub_ud_make(UB_OP_TX, id, rx->f.buf))) {
		p->drops[UB_DROP_TX_ERROR]++;
		return false;
	}
	p->tx_inflight++;
	ub_ring_buf_get(w->ring, rx->f.buf, 1);
queued:
	if (ub_unlikely(br->ncaps))
		ub_cap_frame(br, id, UB_CAP_OUT, &rx->f);
	return true;
}

/* End of pass 2: one flush per port whose TX ring got frames. */
static void ports_tx_flush(struct ub_worker *w)
{
	for (uint32_t i = 0; i < w->ntx_touched; i++) {
		struct ub_port *p = &w->br->ports[w->tx_touched[i]];

		port_tx_flush(w, p);
		p->tx_touched = p->tx_ring_off = false;
	}
	w->ntx_touched = 0;
}

static void rx_error(struct ub_bridge *br, struct ub_port *p, int res)
{
	char ifname[IFNAMSIZ];

	switch (res) {
	case -ENOBUFS:
		/* The pool ran dry: the multishot receive ended. Re-armed in
		 * housekeeping once buffers came back. */
		p->drops[UB_DROP_NOBUF]++;
		p->rx_starved = true;
		return;
	case -ECANCELED:
		return;
	case -ENETDOWN:
	case -ENXIO:
	case -ENODEV:
		/* The link went down, or away with its namespace. */
		if (!if_indextoname((unsigned)p->io.ifindex, ifname)) {
			ub_log(UB_LOG_WARN, "%s: port %s: interface is gone",
			       br->name, p->name);
			ub_bridge_port_del(br, p);
			return;
		}
		break;
	default:
		break;
	}
	ub_log_rl(UB_LOG_WARN, "%s: port %s: receive: %s", br->name, p->name,
		  strerror(-res));
}

/*
 * A static entry refused to move the frame's source here. If that entry
 * is one of our ports' own MACs, somebody behind port 'id' is using it
 * (a loop, or spoofing the gateway): the frame is dropped and we say so.
 */
static bool own_mac_elsewhere(struct ub_bridge *br, const uint8_t *eth,
			      uint32_t id)
{
	const struct ub_eth_hdr *h = (const struct ub_eth_hdr *)eth;
	uint32_t owner;

	if (!ub_fdb_lookup(br->fdb, &h->src, 0, &owner) ||
	    br->ports[owner].state != UB_PORT_FORWARDING ||
	    !ub_mac_eq(&br->ports[owner].io.mac, &h->src))
		return false;
	ub_log_rl(UB_LOG_WARN, "%s: port %s: frame with the MAC of port %s "
		  "as source, dropped", br->name, br->ports[id].name,
		  br->ports[owner].name);
	return true;
}

/* Checks, learns and classifies one received frame, which the back end
 * handed over with status 'st'. True: it goes on to pass 2; false: it was
 * dropped (and counted). */
static bool rx_classify(struct ub_bridge *br, struct ub_port *p,
			enum ub_rx_status st, struct ub_rx *rx)
{
	uint32_t id = port_id(br, p);
	uint32_t len;

	if (st != UB_RX_OK) {
		p->drops[st == UB_RX_TRUNCATED ? UB_DROP_TOO_BIG :
						 UB_DROP_RUNT]++;
		return false;
	}
	len = ub_frame_eth_len(&rx->f);
	if (ub_unlikely(br->ncaps))
		ub_cap_frame(br, id, UB_CAP_IN, &rx->f);
	p->rx_packets++;
	p->rx_bytes += len;
	ub_forward_decide(br->fdb, ub_frame_eth(&rx->f), len, id, br->now,
			  &rx->fwd);
	if (ub_unlikely(rx->fwd.learn == UB_FDB_LEARN_REFUSED))
		p->learn_refused++;
	if (ub_unlikely(rx->fwd.learn == UB_FDB_LEARN_STATIC) &&
	    own_mac_elsewhere(br, ub_frame_eth(&rx->f), id)) {
		rx->fwd.kind = UB_FWD_DROP;
		rx->fwd.drop = UB_DROP_OWN_MAC;
	}
	if (rx->fwd.kind == UB_FWD_DROP) {
		p->drops[rx->fwd.drop]++;
		return false;
	}
	rx->in_port = id;
	return true;
}

/* Pass 1 for a frame the back end of 'p' handed over. True: 'rx' joins
 * the batch, which holds a reference to its buffer until pass 2 is done;
 * otherwise the buffer goes back at once. */
static bool rx_take(struct ub_worker *w, struct ub_port *p,
		    enum ub_rx_status st, struct ub_rx *rx)
{
	bool keep = p->state == UB_PORT_FORWARDING &&
		    rx_classify(w->br, p, st, rx);

	if (keep)
		ub_ring_buf_get(w->ring, rx->f.buf, 1);
	else
		ub_ring_buf_put(w->ring, rx->f.buf);
	return keep;
}

/* A receive completion: a frame in a pool buffer, or (ring ports) the
 * wake-up saying frames are waiting, taken later by rx_rings(). True:
 * 'rx' joins the batch. */
static bool on_rx(struct ub_worker *w, const struct ub_cqe *c,
		  struct ub_rx *rx)
{
	struct ub_bridge *br = w->br;
	struct ub_port *p = &br->ports[ub_ud_id(c->user_data)];
	enum ub_rx_status st;
	bool keep = false;
	uint16_t bid;

	if (!ub_cqe_more(c))
		p->rx_armed = false;
	if (c->res < 0) {
		/* A detached port's receive may still end in an error. */
		if (p->state == UB_PORT_FORWARDING)
			rx_error(br, p, c->res);
	} else if (ub_cqe_buf(c, &bid)) {
		rx->f.buf = bid;
		st = p->io.ops->rx_frame(w->ring, c->res, bid, &rx->f);
		keep = rx_take(w, p, st, rx);
	}
	if (!p->rx_armed) {
		if (p->state != UB_PORT_FORWARDING)
			port_maybe_free(br, p);
		else if (!p->rx_starved && port_arm_rx(br, p))
			p->rx_starved = true;
	}
	return keep;
}

static void on_tx(struct ub_worker *w, const struct ub_cqe *c)
{
	struct ub_bridge *br = w->br;
	struct ub_port *p = &br->ports[ub_ud_id(c->user_data)];

	p->tx_inflight--;
	if (c->res >= 0) {
		p->tx_packets++;
		p->tx_bytes += (uint32_t)c->res - UB_VNET_HLEN;
	} else if (c->res == -EMSGSIZE) {
		p->drops[UB_DROP_TX_TOO_BIG]++;
	} else {
		p->drops[UB_DROP_TX_ERROR]++;
		ub_log_rl(UB_LOG_WARN, "%s: port %s: send: %s", br->name,
			  p->name, strerror(-c->res));
	}
	ub_ring_buf_put(w->ring, ub_ud_aux(c->user_data));
	port_maybe_free(br, p);
}

/* A TX ring flush: its frames were counted as they went into the ring;
 * only a failure of the whole flush shows here. */
static void on_tx_flush(struct ub_bridge *br, const struct ub_cqe *c)
{
	struct ub_port *p = &br->ports[ub_ud_id(c->user_data)];

	p->tx_inflight--;
	if (c->res < 0) {
		p->drops[UB_DROP_TX_ERROR]++;
		ub_log_rl(UB_LOG_WARN, "%s: port %s: TX ring send: %s",
			  br->name, p->name, strerror(-c->res));
	}
	port_maybe_free(br, p);
}

/*
 * Fills the batch from 'n' on with frames waiting in ring ports, starting
 * with a different port each turn so that none starves the others.
 * Returns the new count; a full batch means there may be more.
 */
static unsigned rx_rings(struct ub_worker *w, struct ub_rx *batch, unsigned n)
{
	struct ub_bridge *br = w->br;
	uint32_t first = br->nports ? w->rx_next_port++ % br->nports : 0;

	for (uint32_t k = 0; k < br->nports && n < UB_BATCH_MAX; k++) {
		struct ub_port *p = &br->ports[br->fwd_ids[(first + k) %
							   br->nports]];
		enum ub_rx_status st;

		if (!p->io.ops->rx_next || p->worker != w->id)
			continue;
		while (n < UB_BATCH_MAX &&
		       (st = p->io.ops->rx_next(w->ring, &p->io,
						&batch[n].f)) != UB_RX_NONE)
			if (rx_take(w, p, st, &batch[n]))
				n++;
	}
	return n;
}

/* Pass 2: every frame of the batch to its egress ports. */
static void forward_batch(struct ub_worker *w, struct ub_rx *batch,
			  unsigned n)
{
	struct ub_bridge *br = w->br;

	for (unsigned i = 0; i < n; i++) {
		struct ub_rx *rx = &batch[i];
		struct ub_port *p;

		if (rx->fwd.kind == UB_FWD_PORT) {
			p = &br->ports[rx->fwd.port];
			if (p->state == UB_PORT_FORWARDING && p->link_up)
				port_send(w, p, rx, br->tx_ring_unicast);
			else if (p->state == UB_PORT_FORWARDING)
				p->drops[UB_DROP_TX_DOWN]++;
		} else {
			for (uint32_t j = 0; j < br->nports; j++) {
				p = &br->ports[br->fwd_ids[j]];
				if (br->fwd_ids[j] != rx->in_port && p->link_up)
					port_send(w, p, rx, true);
			}
		}
		/* The batch's reference: frees the buffer if no send was
		 * queued (a copy in a TX ring needs none), else leaves it to
		 * the last send. */
		ub_ring_buf_put(w->ring, rx->f.buf);
	}
	ports_tx_flush(w);
}

/* ---- control connections ---- */

/* Control, signals and link events are worker 0's. */
static struct ub_ring *ctl_ring(struct ub_bridge *br)
{
	return br->workers[0].ring;
}

static void conn_close(struct ub_bridge *br, struct ub_conn *c)
{
	close(c->fd);
	c->fd = -1;
	ub_ctl_reply_free(&c->reply);
}

static uint32_t conn_id(const struct ub_bridge *br, const struct ub_conn *c)
{
	return (uint32_t)(c - br->conns);
}

static void conn_send_rest(struct ub_bridge *br, struct ub_conn *c)
{
	if (ub_ring_send(ctl_ring(br), c->fd, c->reply.buf + c->sent,
			 c->reply.len - c->sent,
			 ub_ud_make(UB_OP_CONN_SEND, conn_id(br, c), 0)))
		conn_close(br, c);
}

/* True when 'gid' was among the peer's supplementary groups when it
 * connected. */
static bool peer_in_group(int fd, gid_t gid)
{
	gid_t small[64], *groups = small;
	socklen_t len = sizeof(small);
	bool in = false;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len)) {
		/* More than 'small' holds: 'len' now says how much. */
		if (errno != ERANGE || !(groups = malloc(len)) ||
		    getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len))
			len = 0;
	}
	for (size_t i = 0; i < len / sizeof(*groups) && !in; i++)
		in = groups[i] == gid;
	if (groups != small)
		free(groups);
	return in;
}

/*
 * Root, the daemon's user (who owns the socket) and the members of the
 * socket's group may use the bridge. The socket's mode already keeps
 * others out; this is the second lock, and the one that tells them why.
 */
static bool conn_peer_allowed(const struct ub_bridge *br, int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len))
		return false;
	if (cred.uid == 0 || cred.uid == geteuid())
		return true;
	return br->ctl_group != (gid_t)-1 &&
	       (cred.gid == br->ctl_group || peer_in_group(fd, br->ctl_group));
}

static void conn_serve(struct ub_bridge *br, struct ub_conn *c)
{
	char *argv[UB_CTL_ARGS_MAX];
	int argc = c->refused ? 0 :
		ub_ctl_req_decode(c->req, c->req_len, argv, UB_CTL_ARGS_MAX);

	if (c->refused)
		ub_ctl_reply_status(&c->reply, -EACCES,
				    "permission denied: bridge %s is for root, "
				    "its own user%s", br->name,
				    br->ctl_group != (gid_t)-1 ?
					    " and its socket's group" : "");
	else if (argc == -E2BIG)
		ub_ctl_reply_status(&c->reply, argc, "too many words (max %d)",
				    UB_CTL_ARGS_MAX);
	else if (argc < 0)
		ub_ctl_reply_status(&c->reply, argc,
				    "malformed request: one line of printable "
				    "words separated by single spaces expected");
	else
		ub_cmd_run(br, argc, argv, c->fd, &c->reply);
	c->sent = 0;
	if (c->reply.len)
		conn_send_rest(br, c);
	else
		conn_close(br, c);
}

static void on_accept(struct ub_bridge *br, const struct ub_cqe *cqe)
{
	struct ub_conn *c = NULL;

	if (!ub_cqe_more(cqe) &&
	    ub_ring_accept(ctl_ring(br), br->ctl_fd, ub_ud_make(UB_OP_ACCEPT, 0, 0)))
		ub_log(UB_LOG_ERR, "%s: cannot accept control connections",
		       br->name);
	if (cqe->res < 0)
		return;
	for (unsigned i = 0; i < UB_CONNS_MAX && !c; i++)
		if (br->conns[i].fd < 0)
			c = &br->conns[i];
	if (!c) {
		/* Busy: the client sees the connection end. */
		close(cqe->res);
		return;
	}
	c->fd = cqe->res;
	c->deadline = br->now + UB_CONN_TIMEOUT_MS;
	c->cancelled = false;
	/* Not allowed: its request is read (closing with it unread would
	 * reset the connection) and answered with a refusal. */
	c->refused = !conn_peer_allowed(br, c->fd);
	c->req_len = 0;
	ub_ctl_reply_init(&c->reply);
	if (ub_ring_recv(ctl_ring(br), c->fd, c->req, sizeof(c->req),
			 ub_ud_make(UB_OP_CONN_RECV, conn_id(br, c), 0)))
		conn_close(br, c);
}

static void on_conn_recv(struct ub_bridge *br, const struct ub_cqe *cqe)
{
	struct ub_conn *c = &br->conns[ub_ud_id(cqe->user_data)];

	if (cqe->res <= 0) {
		/* Error, or the client left before finishing its line. */
		conn_close(br, c);
		return;
	}
	c->req_len += (size_t)cqe->res;
	if (memchr(c->req + c->req_len - cqe->res, '\n', (size_t)cqe->res)) {
		conn_serve(br, c);
	} else if (c->req_len == sizeof(c->req)) {
		ub_ctl_reply_status(&c->reply, -EMSGSIZE,
				    "request longer than %d bytes",
				    UB_CTL_REQ_MAX);
		c->sent = 0;
		conn_send_rest(br, c);
	} else if (ub_ring_recv(ctl_ring(br), c->fd, c->req + c->req_len,
				sizeof(c->req) - c->req_len, cqe->user_data)) {
		conn_close(br, c);
	}
}

static void on_conn_send(struct ub_bridge *br, const struct ub_cqe *cqe)
{
	struct ub_conn *c = &br->conns[ub_ud_id(cqe->user_data)];

	if (cqe->res <= 0) {
		conn_close(br, c);
		return;
	}
	c->sent += (size_t)cqe->res;
	if (c->sent < c->reply.len)
		conn_send_rest(br, c);
	else
		conn_close(br, c);
}

/* ---- link events ---- */

static struct ub_port *port_by_ifindex(struct ub_bridge *br, int ifindex)
{
	for (uint32_t i = 0; i < br->nports; i++)
		if (br->ports[br->fwd_ids[i]].io.ifindex == ifindex)
			return &br->ports[br->fwd_ids[i]];
	return NULL;
}

/*
 * A port's interface changed: deleted (or moved to another namespace), an
 * AF_PACKET port goes; renamed, it follows; down (admin or carrier), the port stops
 * forwarding and forgets what it learned, and starts again when it is up.
 */
static void on_link(bool gone, const struct ub_link_info *li, void *arg)
{
	struct ub_bridge *br = arg;
	struct ub_port *p = port_by_ifindex(br, li->ifindex);
	bool up;

	/* A TAP port's fd keeps working when its device moves to another
	 * namespace, where its later changes are out of our sight: the fd,
	 * not the events, tells how the device is. */
	if (!p || p->io.ops == &ub_port_tap_ops)
		return;
	if (gone) {
		ub_log(UB_LOG_WARN, "%s: port %s: interface is gone", br->name,
		       p->name);
		ub_bridge_port_del(br, p);
		return;
	}
	if (strcmp(p->name, li->name)) {
		ub_log(UB_LOG_INFO, "%s: port %s renamed %s", br->name, p->name,
		       li->name);
		snprintf(p->name, sizeof(p->name), "%s", li->name);
		br->state_dirty = true;
	}
	up = (li->flags & IFF_UP) && (li->flags & IFF_RUNNING);
	if (up == p->link_up)
		return;
	p->link_up = up;
	if (!up)
		ub_fdb_flush(br->fdb, port_id(br, p), false);
	ub_log(UB_LOG_INFO, "%s: port %s %s", br->name, p->name,
	       up ? "up: forwarding" : "down: not forwarding, learned "
	       "entries flushed");
}

static int arm_netlink(struct ub_bridge *br)
{
	return ub_ring_read(ctl_ring(br), ub_nl_fd(br->nl_mon), br->nl_buf,
			    sizeof(br->nl_buf), ub_ud_make(UB_OP_NETLINK, 0, 0));
}

static void on_netlink(struct ub_bridge *br, const struct ub_cqe *c)
{
	if (c->res > 0) {
		ub_nl_monitor_parse(br->nl_buf, (size_t)c->res, on_link, br);
	} else if (c->res == -ENOBUFS) {
		/* Events were lost: a deleted port still shows through its
		 * socket's error; link state is re-read as events come. */
		ub_log_rl(UB_LOG_WARN, "%s: link events lost (ENOBUFS)",
			  br->name);
	}
	if (arm_netlink(br))
		ub_log(UB_LOG_ERR, "%s: cannot follow link events", br->name);
}

/* ---- the loop ---- */

static int arm_signal(struct ub_bridge *br)
{
	return ub_ring_read(ctl_ring(br), br->sig_fd, &br->siginfo,
			    sizeof(br->siginfo), ub_ud_make(UB_OP_SIGNAL, 0, 0));
}

/*
 * A client that never finishes its request, or never reads its reply, must
 * not keep its slot: past the deadline its pending request is cancelled,
 * and the cancelled completion closes the connection.
 */
static void conns_expire(struct ub_bridge *br)
{
	for (unsigned i = 0; i < UB_CONNS_MAX; i++) {
		struct ub_conn *c = &br->conns[i];

		if (c->fd < 0 || c->cancelled || br->now < c->deadline)
			continue;
		ub_log_rl(UB_LOG_WARN, "%s: control client too slow, dropped",
			  br->name);
		ub_ring_cancel(ctl_ring(br), ub_ud_make(UB_OP_CONN_RECV, i, 0));
		ub_ring_cancel(ctl_ring(br), ub_ud_make(UB_OP_CONN_SEND, i, 0));
		c->cancelled = true;
	}
}

/* The end of worker w's turn. What the turn may have caused is finished
 * by whichever worker caused it (worker 0 may be asleep with no deadline);
 * only the timers are worker 0's. */
static void housekeeping(struct ub_worker *w)
{
	struct ub_bridge *br = w->br;

	ub_ring_bufs_commit(w->ring);
	/* A detached ring port waits for the sends out of its buffers. */
	for (uint32_t i = 0; br->nclosing && i < UB_PORTS_MAX; i++)
		port_maybe_free(br, &br->ports[i]);
	if (br->ncaps)
		ub_cap_reap(br);
	if (br->state_dirty) {
		ub_state_save(br);
		br->state_dirty = false;
	}
	if (w->id == 0) {
		if (br->now >= ub_fdb_next_deadline(br->fdb))
			ub_fdb_age(br->fdb, br->now);
		conns_expire(br);
	}
	if (!ub_ring_bufs_free(w->ring))
		return;
	for (uint32_t i = 0; i < br->nports; i++) {
		struct ub_port *p = &br->ports[br->fwd_ids[i]];

		if (p->worker == w->id && p->rx_starved && !p->rx_armed &&
		    !port_arm_rx(br, p))
			p->rx_starved = false;
	}
}

/* The next moment housekeeping has work: FDB ageing, a client's deadline
 * (worker 0), a receive starved of buffers (every worker). */
static int loop_timeout(const struct ub_worker *w)
{
	const struct ub_bridge *br = w->br;
	uint64_t deadline = UB_FDB_NO_DEADLINE;

	for (uint32_t i = 0; i < br->nports; i++) {
		const struct ub_port *p = &br->ports[br->fwd_ids[i]];

		if (p->worker == w->id && p->rx_starved)
			deadline = br->now + 1000;
	}
	if (w->id == 0) {
		uint64_t fdb = ub_fdb_next_deadline(br->fdb);

		deadline = fdb < deadline ? fdb : deadline;
		for (unsigned i = 0; i < UB_CONNS_MAX; i++)
			if (br->conns[i].fd >= 0 && !br->conns[i].cancelled &&
			    br->conns[i].deadline < deadline)
				deadline = br->conns[i].deadline;
	}
	if (deadline == UB_FDB_NO_DEADLINE)
		return -1;
	if (deadline <= br->now)
		return 0;
	/* Ports starved of buffers are retried at least this often. */
	return deadline - br->now > 1000 ? 1000 : (int)(deadline - br->now);
}

/* One completion of worker 'w'; true when it put a frame into 'rx'. */
static bool on_cqe(struct ub_worker *w, const struct ub_cqe *c,
		   struct ub_rx *rx)
{
	struct ub_bridge *br = w->br;

	switch (ub_ud_op(c->user_data)) {
	case UB_OP_RX:
		return on_rx(w, c, rx);
	case UB_OP_TX:
		on_tx(w, c);
		break;
	case UB_OP_TX_FLUSH:
		on_tx_flush(br, c);
		break;
	case UB_OP_WAKE:
		if (worker_arm_wake(w)) {
			ub_log(UB_LOG_ERR, "%s: worker %u: cannot re-arm its "
			       "wake-up", br->name, w->id);
			br->stop = true;
		}
		break;
	case UB_OP_ACCEPT:
		on_accept(br, c);
		break;
	case UB_OP_CONN_RECV:
		on_conn_recv(br, c);
		break;
	case UB_OP_CONN_SEND:
		on_conn_send(br, c);
		break;
	case UB_OP_NETLINK:
		on_netlink(br, c);
		break;
	case UB_OP_SIGNAL:
		if (c->res == sizeof(br->siginfo)) {
			ub_log(UB_LOG_INFO, "%s: %s, stopping", br->name,
			       strsignal((int)br->siginfo.ssi_signo));
			br->stop = true;
		} else if (arm_signal(br)) {
			ub_log(UB_LOG_ERR, "%s: cannot follow signals",
			       br->name);
			br->stop = true;
		}
		break;
	default:
		break;
	}
	return false;
}

/*
 * Worker 'w's loop: a turn under the lock (completions, frames, both
 * passes, housekeeping), then the one system call that submits what the
 * turn queued and waits, without it. Returns 0 or -errno.
 */
static int worker_loop(struct ub_worker *w)
{
	struct ub_bridge *br = w->br;
	struct ub_cqe cqes[UB_BATCH_MAX];
	struct ub_rx batch[UB_BATCH_MAX];
	int ret = 0;

	for (;;) {
		unsigned n, nrx = 0;
		int timeout;
		bool stop;

		bridge_lock(br);
		w->mono_ns = ub_bridge_clock(br);
		if (br->ncaps)
			clock_gettime(CLOCK_REALTIME, &br->wall);
		n = ub_ring_reap(w->ring, cqes, UB_BATCH_MAX);
		for (unsigned i = 0; i < n; i++)
			if (on_cqe(w, &cqes[i], &batch[nrx]))
				nrx++;
		if (w->todo)
			worker_todo(br, w);
		nrx = rx_rings(w, batch, nrx);
		if (nrx)
			w->last_rx_ns = w->mono_ns;
		forward_batch(w, batch, nrx);
		housekeeping(w);
		/* A full batch: there may be more waiting. */
		timeout = nrx == UB_BATCH_MAX || br->busy_poll ||
			  w->mono_ns - w->last_rx_ns < br->spin_ns ?
			  0 : loop_timeout(w);
		stop = br->stop;
		bridge_unlock(br);
		if (stop)
			break;
		/* A polling worker with nothing to do lets another one that
		 * shares its CPU have it, rather than spin out its time slice
		 * while that one's frames wait. */
		if (!timeout && !n && !nrx && br->nworkers > 1)
			sched_yield();
		ret = ub_ring_submit_wait(w->ring, timeout);
		if (ret < 0 && ret != -EINTR && ret != -ETIME &&
		    ret != -EAGAIN && ret != -EBUSY) {
			ub_log(UB_LOG_ERR, "%s: worker %u: io_uring: %s",
			       br->name, w->id, strerror(-ret));
			bridge_stop(br);
			break;
		}
		ret = 0;
	}
	/* Whoever stops first stops the others. */
	for (uint32_t k = 0; k < br->nworkers; k++)
		if (k != w->id)
			worker_wake(&br->workers[k]);
	return ret;
}

static void *worker_main(void *arg)
{
	struct ub_worker *w = arg;
	int ret;

	self_id = w->id;
	ret = ub_ring_enable(w->ring);
	if (ret) {
		ub_log(UB_LOG_ERR, "%s: worker %u: cannot enable its ring: %s",
		       w->br->name, w->id, strerror(-ret));
		bridge_stop(w->br);
		worker_wake(&w->br->workers[0]);
		return (void *)(intptr_t)ret;
	}
	return (void *)(intptr_t)worker_loop(w);
}

int ub_bridge_run(struct ub_bridge *br)
{
	int ret = 0, err;

	for (uint32_t k = 1; k < br->nworkers; k++) {
		struct ub_worker *w = &br->workers[k];
		char name[24]; /* uses 11 at most */

		err = pthread_create(&w->thread, NULL, worker_main, w);
		if (err) {
			ub_log(UB_LOG_ERR, "%s: cannot start worker %u: %s",
			       br->name, k, strerror(err));
			bridge_stop(br);
			ret = -err;
			break;
		}
		w->started = true;
		snprintf(name, sizeof(name), "ubridge-w%u", k);
		pthread_setname_np(w->thread, name);
	}
	err = worker_loop(&br->workers[0]);
	ret = ret ? ret : err;
	for (uint32_t k = 1; k < br->nworkers; k++) {
		void *res;

		if (!br->workers[k].started)
			continue;
		pthread_join(br->workers[k].thread, &res);
		br->workers[k].started = false;
		ret = ret ? ret : (int)(intptr_t)res;
	}
	return ret;
}

/* ---- life cycle ---- */

int ub_bridge_new(const struct ub_bridge_cfg *cfg, struct ub_bridge **out,
		  char *err, size_t errlen)
{
	struct ub_fdb_cfg fcfg;
	struct ub_bridge *br;
	sigset_t sigs;
	int ret;

	br = calloc(1, sizeof(*br));
	if (!br) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	br->ctl_fd = br->sig_fd = -1;
	for (unsigned i = 0; i < UB_CONNS_MAX; i++)
		br->conns[i].fd = -1;
	pthread_mutex_init(&br->lock, NULL);

	ret = ub_ctl_sock_path(cfg->name, br->sock_path, sizeof(br->sock_path));
	if (ret) {
		snprintf(err, errlen,
			 "invalid bridge name \"%s\": 1 to %d characters of "
			 "A-Z a-z 0-9 _ . -, not starting with . or -",
			 cfg->name, UB_BRIDGE_NAME_MAX);
		goto err;
	}
	snprintf(br->name, sizeof(br->name), "%s", cfg->name);
	if (cfg->state_path)
		snprintf(br->state_path, sizeof(br->state_path), "%s",
			 cfg->state_path);

	ub_fdb_cfg_default(&fcfg);
	if (cfg->max_learned)
		fcfg.max_learned = cfg->max_learned;
	fcfg.ageing_ms = cfg->ageing_ms;
	/* Every port id can have a cap of its own. */
	fcfg.ports = UB_PORTS_MAX;
	if (cfg->packet_rx != UB_PACKET_RX_RING) {
		br->packet_ops = &ub_port_packet_ops;
	} else {
		br->packet_ops = cfg->packet_tx == UB_PACKET_TX_SEND ?
					 &ub_port_packet_ring_ops :
					 &ub_port_packet_rings_ops;
		br->tx_ring_unicast = cfg->packet_tx == UB_PACKET_TX_RING;
	}
	br->ring_bytes = cfg->ring_kib * 1024;
	br->busy_poll = cfg->busy_poll_us == UB_BUSY_POLL_ALWAYS;
	br->spin_ns = br->busy_poll ? 0 : (uint64_t)cfg->busy_poll_us * 1000;
	if (getrandom(&fcfg.secret, sizeof(fcfg.secret), 0) !=
	    sizeof(fcfg.secret)) {
		ret = -errno;
		snprintf(err, errlen, "getrandom: %s", strerror(errno));
		goto err;
	}
	br->max_learned = fcfg.max_learned;
	ret = ub_fdb_new(&fcfg, &br->fdb);
	if (ret) {
		snprintf(err, errlen, "cannot create the FDB: %s",
			 strerror(-ret));
		goto err;
	}
	for (uint32_t k = 0; k < (cfg->workers ? cfg->workers : 1); k++) {
		struct ub_worker *w = &br->workers[k];

		if (k == UB_WORKERS_MAX) {
			ret = -EINVAL;
			snprintf(err, errlen, "at most %d workers",
				 UB_WORKERS_MAX);
			goto err;
		}
		w->br = br;
		w->id = k;
		w->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		br->nworkers++;
		if (w->wake_fd < 0) {
			ret = -errno;
			snprintf(err, errlen, "eventfd: %s", strerror(errno));
			goto err;
		}
		/* Worker k's thread makes itself its ring's submitter. */
		ret = ub_ring_new(&(struct ub_ring_cfg){ .deferred = k > 0 },
				  &w->ring);
		if (!ret)
			ret = worker_arm_wake(w);
		if (ret) {
			snprintf(err, errlen, "cannot set up io_uring: %s",
				 strerror(-ret));
			goto err;
		}
	}
	if (br->nworkers > 1 && (br->busy_poll || br->spin_ns)) {
		cpu_set_t cpus;

		if (!sched_getaffinity(0, sizeof(cpus), &cpus) &&
		    (uint32_t)CPU_COUNT(&cpus) < br->nworkers)
			ub_log(UB_LOG_WARN, "%s: %u polling workers on %d CPU(s) "
			       "take turns: a frame may wait for its worker's "
			       "turn; give each worker a CPU, or do not poll",
			       br->name, br->nworkers, CPU_COUNT(&cpus));
	}

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	br->sig_fd = signalfd(-1, &sigs, SFD_CLOEXEC);
	if (br->sig_fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "signalfd: %s", strerror(errno));
		goto err;
	}

	br->ctl_group = cfg->ctl_group;
	br->ctl_fd = ub_ctl_listen(br->sock_path, cfg->ctl_owner,
				   cfg->ctl_group);
	if (br->ctl_fd < 0) {
		ret = br->ctl_fd;
		if (ret == -EADDRINUSE)
			snprintf(err, errlen,
				 "bridge %s is already running (%s answers)",
				 br->name, br->sock_path);
		else
			snprintf(err, errlen, "cannot listen on %s: %s",
				 br->sock_path, strerror(-ret));
		goto err;
	}
	ret = ub_nl_monitor_open(&br->nl_mon);
	if (ret) {
		snprintf(err, errlen, "cannot follow link events: %s",
			 strerror(-ret));
		goto err;
	}
	if ((ret = ub_ring_accept(ctl_ring(br), br->ctl_fd,
				  ub_ud_make(UB_OP_ACCEPT, 0, 0))) ||
	    (ret = arm_signal(br)) || (ret = arm_netlink(br))) {
		snprintf(err, errlen, "io_uring: %s", strerror(-ret));
		goto err;
	}
	ub_bridge_clock(br);
	*out = br;
	return 0;
err:
	ub_bridge_free(br);
	return ret;
}

void ub_bridge_free(struct ub_bridge *br)
{
	if (!br)
		return;
	if (br->nat)
		ub_nat_set(br, false, NULL, 0);
	ub_cap_stop_port(br, UB_CAP_ALL);
	for (uint32_t i = 0; i < UB_PORTS_MAX; i++) {
		if (br->ports[i].state != UB_PORT_FREE)
			br->ports[i].io.ops->close(port_ring(br,
								   &br->ports[i]),
						   &br->ports[i].io);
		free(br->ports[i].netns);
	}
	for (unsigned i = 0; i < UB_CONNS_MAX; i++)
		if (br->conns[i].fd >= 0)
			conn_close(br, &br->conns[i]);
	if (br->ctl_fd >= 0) {
		unlink(br->sock_path);
		close(br->ctl_fd);
	}
	if (br->sig_fd >= 0)
		close(br->sig_fd);
	ub_nl_close(br->nl_mon);
	for (uint32_t k = 0; k < br->nworkers; k++) {
		ub_ring_free(br->workers[k].ring);
		if (br->workers[k].wake_fd >= 0)
			close(br->workers[k].wake_fd);
	}
	pthread_mutex_destroy(&br->lock);
	ub_fdb_free(br->fdb);
	free(br);
}
