/* SPDX-License-Identifier: MIT */
/*
 * Transmit on any port: the choice between a back end's TX ring and a
 * plain send, the order between the two, and back-pressure. Core asks
 * "this frame to this port" (ub_port_xmit) and, once per batch, "flush"
 * (ub_port_flush); a back end only provides send, and optionally tx_put
 * and tx_flush.
 *
 * Order: frames put in the TX ring leave at the flush; a send queued in
 * between would overtake them. So a send after ring frames flushes the
 * ring first, and every later frame of the batch to that port is a send
 * too (a flush queued now would also take frames put later).
 */
#include <errno.h>

#include "io_private.h"

static enum ub_xmit xmit_send__(struct ub_ring *ring, struct ub_port_io *p,
				const struct ub_frame *f, uint64_t ud)
{
	if (p->tx.inflight >= UB_PORT_TX_MAX)
		return UB_XMIT_BUSY;
	if (p->ops->send(ring, p, f, ud))
		return UB_XMIT_ERROR;
	p->tx.inflight++;
	ub_ring_buf_get(ring, f->buf, 1);
	return UB_XMIT_SEND;
}

enum ub_xmit ub_port_xmit(struct ub_ring *ring, struct ub_port_io *p,
			  const struct ub_frame *f, uint32_t remote,
			  bool use_ring, uint64_t ud_send, uint64_t ud_flush)
{
	if ((use_ring || !p->ops->send || (p->ops->flags & UB_PORT_F_TX_PUT)) &&
	    p->ops->tx_put &&
	    !p->tx.sends_only) {
		int ret = p->ops->tx_put(p, f, remote);

		if (ret == -ENOBUFS) {
			p->tx.ring_full = p->tx.flush_due = true;
			return UB_XMIT_BUSY;
		}
		if (ret == -EPROTO)
			return UB_XMIT_REFUSED;
		if (!ret) {
			p->tx.ring_put++;
			p->tx.flush_due = true;
			return UB_XMIT_RING;
		}
		if (!p->ops->send)
			return UB_XMIT_ERROR;
	}
	if (p->tx.ring_put) {
		/* A failed flush leaves the frames in the ring: the send goes
		 * all the same, and they follow at the next flush. */
		ub_port_flush(ring, p, ud_flush);
		p->tx.sends_only = true;
		p->tx.flush_due = true;
	}
	return xmit_send__(ring, p, f, ud_send);
}

int ub_port_flush(struct ub_ring *ring, struct ub_port_io *p, uint64_t ud)
{
	int n;

	p->tx.flush_due = p->tx.sends_only = false;
	if (!p->tx.ring_put && !p->tx.ring_full)
		return 0;
	n = p->ops->tx_flush(ring, p, ud);
	if (n < 0)
		return -EIO;
	p->tx.ring_put = 0;
	p->tx.ring_full = false;
	p->tx.inflight += (uint32_t)n;
	return 0;
}

void ub_port_sent(struct ub_ring *ring, struct ub_port_io *p, uint32_t buf)
{
	p->tx.inflight--;
	ub_ring_buf_put(ring, buf);
}

void ub_port_flushed(struct ub_port_io *p, uint32_t aux, int res)
{
	p->tx.inflight--;
	if (p->ops->tx_flushed)
		p->ops->tx_flushed(p, aux, res);
}

bool ub_port_idle(struct ub_ring *ring, struct ub_port_io *p)
{
	return !p->tx.inflight && !(p->ops->rx_held && p->ops->rx_held(ring, p));
}
