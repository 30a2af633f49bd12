/* SPDX-License-Identifier: MIT */
/*
 * The data path of one worker's turn: frames taken from completions and
 * polled ports, then in two passes
 *   pass 1: each frame is checked, its source learned and its destination
 *           decided (forward.c), as the frames come in;
 *   pass 2: each frame goes to its egress ports (ub_port_xmit: into a TX
 *           ring or as a send out of the receive buffer, whose reference
 *           count is the number of such sends), then each port sent to is
 *           flushed once.
 * Everything here runs under the bridge lock, in worker 'w's thread.
 */
#ifndef UB_CORE_DATAPATH_H
#define UB_CORE_DATAPATH_H

#include <stdbool.h>

#include <ubridge/io.h>

#include "forward.h"

/* Completions handled per loop turn, and so frames per batch. */
#define UB_BATCH_MAX 64

struct ub_bridge;
struct ub_port;
struct ub_worker;

/* A received frame between pass 1 and pass 2. */
struct ub_rx {
	struct ub_frame f;
	uint32_t in_port;
	bool vlan;	/* classified by VLAN filtering: fwd.vid, fwd.tag */
	bool released;	/* leaving an impaired way out: already decided,
			 * to fwd.port, as it is */
	struct ub_fwd fwd;
};

/* Pass 1 for a frame port 'p' handed over with status 'st'. True: 'rx'
 * joins the batch, which holds a reference to its buffer until pass 2;
 * otherwise it was dropped (and counted) and its buffer went back. */
bool ub_dp_take(struct ub_bridge *br, struct ub_worker *w, struct ub_port *p,
		enum ub_rx_status st, struct ub_rx *rx);
/* A receive completion (UB_OP_RX); true when it put a frame into 'rx'. */
bool ub_dp_on_rx(struct ub_bridge *br, struct ub_worker *w,
		 const struct ub_cqe *c, struct ub_rx *rx);
/* Fills batch[n..] with frames waiting in w's polled ports, and those a
 * completion-driven port holds after a completion that brought several
 * (rx_more), starting with another port each turn so none starves the
 * others. Returns the count. */
unsigned ub_dp_poll(struct ub_bridge *br, struct ub_worker *w,
		    struct ub_rx *batch, unsigned n);
/* Fills batch[n..] with frames of w's impaired ports that are due: come
 * in (through pass 1 now) or going out (to their port as they are).
 * Returns the count. */
unsigned ub_dp_impaired(struct ub_bridge *br, struct ub_worker *w,
			struct ub_rx *batch, unsigned n);
/* When the next of them is due (monotonic ns); UINT64_MAX: none. */
uint64_t ub_dp_impair_due(struct ub_bridge *br, struct ub_worker *w);
/* Pass 2 over batch[0..n). */
void ub_dp_forward(struct ub_bridge *br, struct ub_worker *w,
		   struct ub_rx *batch, unsigned n);
/* A send (UB_OP_TX) or flush (UB_OP_TX_FLUSH) completed. */
void ub_dp_on_tx(struct ub_bridge *br, struct ub_worker *w,
		 const struct ub_cqe *c);

#endif
