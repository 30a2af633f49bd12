/* SPDX-License-Identifier: MIT */
/* The data path of one worker's turn (see datapath.h). */
#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <string.h>

#include "bridge_private.h"
#include "capture.h"
#include "datapath.h"
#include "forward.h"
#include "guard.h"
#include "log.h"
#include "port.h"

static void rx_error(struct ub_bridge *br, struct ub_worker *w,
		     struct ub_port *p, int res)
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
		if (!(p->io.ops->flags & UB_PORT_F_NO_DEVICE) &&
		    !if_indextoname((unsigned)p->io.ifindex, ifname)) {
			ub_port_gone_ask(br, p);
			return;
		}
		break;
	default:
		break;
	}
	ub_log_rl(UB_LOG_WARN, "%s: port %s: receive: %s", br->name, p->name,
		  strerror(-res));
}

/* Checks, learns and classifies one received frame. True: it goes on to
 * pass 2; false: it was dropped (and counted). */
static bool rx_classify(struct ub_bridge *br, struct ub_port *p,
			enum ub_rx_status st, struct ub_rx *rx)
{
	uint32_t id = ub_port_id(&br->ports, p);
	struct ub_fwd_in in = {
		.port = id, .remote = rx->f.remote, .now = br->now,
		.probe_id = br->guard.id,
		.group_fwd_mask = p->guard.group_fwd_mask,
		.bpdu_guard = p->guard.bpdu_guard,
		.blocked = p->guard.blocked != UB_GUARD_NONE,
		.vlan = br->vlan_filtering ? ub_port_vlan(p) : NULL,
	};
	uint32_t len;

	if (st == UB_RX_REFUSED || st == UB_RX_LATER)
		return false;
	if (st != UB_RX_OK) {
		p->drops[st == UB_RX_TRUNCATED ? UB_DROP_TOO_BIG :
						 UB_DROP_RUNT]++;
		return false;
	}
	len = ub_frame_eth_len(&rx->f);
	if (ub_unlikely(br->caps.n))
		ub_cap_frame(&br->caps, id, UB_CAP_IN, &rx->f);
	p->rx_packets++;
	p->rx_bytes += len;
	ub_forward_decide(br->fdb, ub_frame_eth(&rx->f), len, &in, &rx->fwd);
	if (ub_unlikely(rx->fwd.learn == UB_FDB_LEARN_REFUSED))
		p->learn_refused++;
	/* A loop makes addresses jump between its ports (guard.h); a
	 * frame of a VXLAN port's (it has a remote) may only have moved
	 * between remotes. */
	if (ub_unlikely(rx->fwd.learn == UB_FDB_LEARN_MOVED) && !rx->f.remote)
		p->guard.moves++;
	if (rx->fwd.kind == UB_FWD_DROP) {
		if (ub_unlikely(rx->fwd.drop == UB_DROP_LOOP))
			ub_guard_hit(br, p, UB_GUARD_LOOP, rx->fwd.port,
				     rx->fwd.probe_tag);
		else if (ub_unlikely(rx->fwd.drop == UB_DROP_BPDU))
			ub_guard_hit(br, p, UB_GUARD_BPDU, 0, 0);
		/* Somebody behind this port uses the MAC of another of our
		 * ports: a loop, or spoofing the gateway. */
		if (ub_unlikely(rx->fwd.drop == UB_DROP_OWN_MAC))
			ub_log_rl(UB_LOG_WARN, "%s: port %s: frame with the MAC "
				  "of port %s as source, dropped", br->name,
				  p->name,
				  ub_port_by_id(&br->ports, rx->fwd.port)->name);
		p->drops[rx->fwd.drop]++;
		return false;
	}
	rx->in_port = id;
	rx->vlan = in.vlan != NULL;
	return true;
}

/* Pass 1 for a frame that is in the bridge now (see ub_dp_take). */
static bool take(struct ub_bridge *br, struct ub_worker *w, struct ub_port *p,
		 enum ub_rx_status st, struct ub_rx *rx)
{
	bool keep = p->state == UB_PORT_FORWARDING &&
		    rx_classify(br, p, st, rx);

	rx->released = false;
	if (keep)
		ub_ring_buf_get(w->ring, rx->f.buf, 1);
	else
		ub_ring_buf_put(w->ring, rx->f.buf);
	return keep;
}

bool ub_dp_take(struct ub_bridge *br, struct ub_worker *w, struct ub_port *p,
		enum ub_rx_status st, struct ub_rx *rx)
{
	struct ub_impair *im = p->impair[UB_IMPAIR_IN];

	/* An impaired way in: the frame waits in its queue, from which
	 * ub_dp_impaired() takes it when it is due. */
	if (ub_unlikely(im) && !im->clearing && st == UB_RX_OK &&
	    p->state == UB_PORT_FORWARDING) {
		ub_impair_admit(im, rx->f.data, rx->f.len, w->mono_ns,
				rx->f.remote);
		ub_ring_buf_put(w->ring, rx->f.buf);
		return false;
	}
	return take(br, w, p, st, rx);
}

/* Arms port p's receive again, if it forwards and has buffers; a
 * failure leaves it to housekeeping (rx_starved). */
static void rx_rearm(struct ub_bridge *br, struct ub_worker *w,
		     struct ub_port *p)
{
	if (p->state == UB_PORT_FORWARDING && !p->rx_starved &&
	    ub_port_arm_rx(br, w, p))
		p->rx_starved = true;
}

/* A receive completion: a frame in a pool buffer, or (polled ports) the
 * wake-up saying frames are waiting, taken by ub_dp_poll(). */
bool ub_dp_on_rx(struct ub_bridge *br, struct ub_worker *w,
		 const struct ub_cqe *c, struct ub_rx *rx)
{
	struct ub_port *p = ub_port_by_id(&br->ports, ub_ud_id(c->user_data));
	enum ub_rx_status st;
	bool keep = false;
	uint16_t bid;

	/* One of several wake-ups that ended by itself ends the others
	 * too: they are all armed again once the last has ended. */
	if (!ub_cqe_more(c) && p->rx_armed && --p->rx_armed &&
	    c->res != -ECANCELED)
		ub_port_cancel_rx(br, w, p);
	if (c->res < 0) {
		/* A detached port's receive may still end in an error. */
		if (p->state == UB_PORT_FORWARDING)
			rx_error(br, w, p, c->res);
	} else if (p->io.ops->flags & UB_PORT_F_POLLED) {
		int err = c->res & POLLERR ? p->io.ops->rx_take_error(&p->io)
					   : 0;

		/* A link down the link events report already. */
		if (err && err != -ENETDOWN && p->state == UB_PORT_FORWARDING)
			rx_error(br, w, p, err);
	} else if (ub_cqe_buf(c, &bid)) {
		rx->f.buf = bid;
		rx->f.remote = 0;
		st = p->io.ops->rx_frame(w->ring, &p->io, c->res, bid,
					 &rx->f);
		keep = ub_dp_take(br, w, p, st, rx);
	}
	/* A polled port is armed again by ub_dp_poll(), once empty. */
	if (!p->rx_armed && !(p->io.ops->flags & UB_PORT_F_POLLED))
		rx_rearm(br, w, p);
	return keep;
}

/*
 * Takes frames from the polled ports (and those with more to give) of
 * worker 'w' into batch[n..]. A polled port is looked at every turn (a
 * port whose wake-up waits on a ring it moves to may still hold frames
 * in the old one), and its wake-ups, once ended, are armed again only
 * when it was found empty: until then the loop comes back to it by
 * itself (the batch filled up, so the loop does not sleep), and frames
 * the kernel delivers into it wake nobody.
 */
unsigned ub_dp_poll(struct ub_bridge *br, struct ub_worker *w,
		    struct ub_rx *batch, unsigned n)
{
	struct ub_ports *t = &br->ports;
	uint32_t first = t->n ? w->rx_next_port++ % t->n : 0;

	for (uint32_t k = 0; k < t->n && n < UB_BATCH_MAX; k++) {
		struct ub_port *p = ub_port_nth(t, (first + k) % t->n);
		const struct ub_port_ops *ops = p->io.ops;
		bool polled = ops->flags & UB_PORT_F_POLLED;
		enum ub_rx_status st = UB_RX_OK;

		if (!(polled || p->io.rx_more) || p->worker != w->id)
			continue;
		while (n < UB_BATCH_MAX &&
		       (batch[n].f.remote = 0,
			st = ops->rx_next(w->ring, &p->io, &batch[n].f)) !=
			       UB_RX_NONE)
			if (ub_dp_take(br, w, p, st, &batch[n]))
				n++;
		if (polled && st == UB_RX_NONE && !p->rx_armed)
			rx_rearm(br, w, p);
		if (ub_unlikely(p->io.rx_upkeep))
			ub_port_upkeep_ask(br, p);
	}
	return n;
}

/* Frame 'f' to port 'p' (its remote 'remote'; 0: none, or the port's
 * flood list); lists the port in flush[] the first time it owes a flush
 * this batch. */
static void xmit(struct ub_bridge *br, struct ub_worker *w, struct ub_port *p,
		 const struct ub_frame *f, uint32_t remote, bool use_ring,
		 uint32_t *flush, uint32_t *nflush)
{
	uint32_t id = ub_port_id(&br->ports, p);
	bool listed = p->io.tx.flush_due;

	switch (ub_port_xmit(w->ring, &p->io, f, remote, use_ring,
			     ub_ud_make(UB_OP_TX, id, f->buf),
			     ub_ud_make(UB_OP_TX_FLUSH, id, 0))) {
	case UB_XMIT_RING:
		/* Counted now: the flush's completion says nothing per frame. */
		p->tx_packets++;
		p->tx_bytes += ub_frame_eth_len(f);
		__attribute__((fallthrough));
	case UB_XMIT_SEND:
		if (ub_unlikely(br->caps.n))
			ub_cap_frame(&br->caps, id, UB_CAP_OUT, f);
		break;
	case UB_XMIT_BUSY:
		p->drops[UB_DROP_TX_BUSY]++;
		break;
	case UB_XMIT_ERROR:
		p->drops[UB_DROP_TX_ERROR]++;
		break;
	case UB_XMIT_REFUSED:
		break;
	}
	if (!listed && p->io.tx.flush_due)
		flush[(*nflush)++] = id;
}

/*
 * The frame as it leaves port 'p': rx's own, or with VLAN filtering on
 * its copy with the tag pushed, popped or rewritten as p has the VLAN
 * (made for the first port that needs it, and kept in copy[] for the
 * others: one for ports that send the VLAN tagged, one for untagged).
 * NULL: p does not carry the VLAN (silently, as flooding goes; counted
 * when 'count'), or no copy could be made (counted).
 */
static const struct ub_frame *egress_frame(struct ub_worker *w,
					   struct ub_port *p,
					   const struct ub_rx *rx,
					   struct ub_frame copy[2], bool count)
{
	const struct ub_vlan_port *v;
	enum ub_vlan_egress act;
	struct ub_frame *c;

	if (!rx->vlan)
		return &rx->f;
	v = ub_port_vlan(p);
	if (!ub_vlan_member(v, rx->fwd.vid)) {
		if (count)
			p->drops[UB_DROP_TX_VLAN]++;
		return NULL;
	}
	act = ub_vlan_egress(v, rx->fwd.vid, rx->fwd.tag);
	if (act == UB_VLAN_KEEP)
		return &rx->f;
	c = &copy[act == UB_VLAN_POP];
	if (!c->data) {
		uint8_t *mem;

		if (act == UB_VLAN_PUSH &&
		    rx->f.len + UB_VLAN_HLEN > UB_BUF_SIZE) {
			p->drops[UB_DROP_TX_TOO_BIG]++;
			return NULL;
		}
		if (ub_ring_copy_buf(w->ring, &c->buf, &mem)) {
			p->drops[UB_DROP_TX_BUSY]++;
			return NULL;
		}
		c->len = ub_vlan_rewrite(rx->f.data, rx->f.len, act,
					 rx->fwd.vid, mem);
		c->data = mem;
		c->remote = rx->f.remote;
		/* The batch's reference, as rx's own buffer has. */
		ub_ring_buf_get(w->ring, c->buf, 1);
	}
	return c;
}

/* Frame 'f' to port 'p' as xmit() sends it, or into the port's queue
 * when its way out is impaired (and the frame is not leaving it). */
static void deliver(struct ub_bridge *br, struct ub_worker *w,
		    struct ub_port *p, const struct ub_frame *f, uint32_t remote,
		    bool use_ring, bool released, uint32_t *flush,
		    uint32_t *nflush)
{
	struct ub_impair *im = p->impair[UB_IMPAIR_OUT];
	uint64_t first;

	if (ub_likely(!im) || im->clearing || released) {
		xmit(br, w, p, f, remote, use_ring, flush, nflush);
		return;
	}
	first = ub_impair_next_due(im);
	/* The port's worker releases it. Asleep until its first frame is
	 * due, or for good with none held, it must hear of one due sooner
	 * (duplicates come two at a time, a reordered frame first). */
	if (ub_impair_admit(im, f->data, f->len, w->mono_ns, remote) &&
	    ub_impair_next_due(im) < first && p->worker != w->id)
		ub_worker_wake(&br->workers[p->worker]);
}

/* The frames of w's impaired ports that are due, into the batch. */
unsigned ub_dp_impaired(struct ub_bridge *br, struct ub_worker *w,
			struct ub_rx *batch, unsigned n)
{
	struct ub_ports *t = &br->ports;

	for (uint32_t k = 0; br->nimpaired && k < t->n; k++) {
		struct ub_port *p = ub_port_nth(t, k);

		if (p->worker != w->id)
			continue;
		for (int d = 0; d < 2; d++) {
			struct ub_impair *im = p->impair[d];
			const uint8_t *data;
			uint32_t len, tag;
			uint8_t *mem;
			struct ub_rx *rx;

			while (im && n < UB_BATCH_MAX &&
			       ub_impair_peek(im, w->mono_ns, &data, &len, &tag)) {
				rx = &batch[n];
				/* No copy free: the frame waits a turn. */
				if (ub_ring_copy_buf(w->ring, &rx->f.buf, &mem))
					break;
				memcpy(mem, data, len);
				ub_impair_pop(im);
				rx->f.data = mem;
				rx->f.len = len;
				rx->f.remote = tag;
				if (d == UB_IMPAIR_IN) {
					n += take(br, w, p, UB_RX_OK, rx);
					continue;
				}
				/* Decided before it was held: to this port. */
				memset(&rx->fwd, 0, sizeof(rx->fwd));
				rx->fwd.kind = UB_FWD_PORT;
				rx->fwd.port = ub_port_id(t, p);
				rx->fwd.remote = tag;
				rx->in_port = UB_PORTS_MAX;
				rx->vlan = false;
				rx->released = true;
				ub_ring_buf_get(w->ring, rx->f.buf, 1);
				n++;
			}
			if (im && ub_impair_done(im)) {
				ub_impair_free(im);
				p->impair[d] = NULL;
				br->nimpaired--;
			}
		}
	}
	return n;
}

uint64_t ub_dp_impair_due(struct ub_bridge *br, struct ub_worker *w)
{
	struct ub_ports *t = &br->ports;
	uint64_t due = UINT64_MAX;

	for (uint32_t k = 0; br->nimpaired && k < t->n; k++) {
		const struct ub_port *p = ub_port_nth(t, k);

		for (int d = 0; d < 2 && p->worker == w->id; d++) {
			if (p->impair[d] &&
			    ub_impair_next_due(p->impair[d]) < due)
				due = ub_impair_next_due(p->impair[d]);
		}
	}
	return due;
}

void ub_dp_forward(struct ub_bridge *br, struct ub_worker *w,
		   struct ub_rx *batch, unsigned n)
{
	struct ub_ports *t = &br->ports;
	uint32_t flush[UB_PORTS_MAX], nflush = 0;

	for (unsigned i = 0; i < n; i++) {
		struct ub_rx *rx = &batch[i];
		struct ub_frame copy[2] = { 0 };
		const struct ub_frame *f;
		struct ub_port *p;

		if (rx->fwd.kind == UB_FWD_PORT) {
			p = ub_port_by_id(t, rx->fwd.port);
			if (p->state != UB_PORT_FORWARDING)
				;
			else if (!p->link_up)
				p->drops[UB_DROP_TX_DOWN]++;
			else if (ub_unlikely(p->guard.blocked))
				p->drops[UB_DROP_TX_BLOCKED]++;
			else if ((f = egress_frame(w, p, rx, copy, true)))
				deliver(br, w, p, f, rx->fwd.remote,
					br->tx_ring_unicast, rx->released,
					flush, &nflush);
		} else {
			for (uint32_t j = 0; j < t->n; j++) {
				p = ub_port_nth(t, j);
				if (t->fwd[j] != rx->in_port && p->link_up &&
				    !p->guard.blocked &&
				    (f = egress_frame(w, p, rx, copy, false)))
					deliver(br, w, p, f, 0, true, false,
						flush, &nflush);
			}
		}
		/* The batch's references: each buffer goes back if no send
		 * was queued from it (a copy in a TX ring needs none), else
		 * with its last send. */
		ub_ring_buf_put(w->ring, rx->f.buf);
		for (int k = 0; k < 2; k++)
			if (copy[k].data)
				ub_ring_buf_put(w->ring, copy[k].buf);
	}
	for (uint32_t i = 0; i < nflush; i++) {
		struct ub_port *p = ub_port_by_id(t, flush[i]);

		if (ub_port_flush(w->ring, &p->io,
				  ub_ud_make(UB_OP_TX_FLUSH, flush[i], 0)))
			/* The frames wait in the ring for the next flush. */
			p->drops[UB_DROP_TX_ERROR]++;
	}
}

void ub_dp_on_tx(struct ub_bridge *br, struct ub_worker *w,
		 const struct ub_cqe *c)
{
	struct ub_port *p = ub_port_by_id(&br->ports, ub_ud_id(c->user_data));
	bool flush = ub_ud_op(c->user_data) == UB_OP_TX_FLUSH;

	if (flush)
		ub_port_flushed(&p->io, ub_ud_aux(c->user_data), c->res);
	else
		ub_port_sent(w->ring, &p->io, ub_ud_aux(c->user_data));
	if (c->res >= 0) {
		/* A flush's frames were counted as they went into the ring. */
		if (!flush) {
			p->tx_packets++;
			p->tx_bytes += (uint32_t)c->res - UB_VNET_HLEN;
		}
	} else if (c->res == -EMSGSIZE && !flush) {
		p->drops[UB_DROP_TX_TOO_BIG]++;
	} else {
		p->drops[UB_DROP_TX_ERROR]++;
		ub_log_rl(UB_LOG_WARN, "%s: port %s: %s: %s", br->name, p->name,
			  flush ? "flush" : "send", strerror(-c->res));
	}
}
