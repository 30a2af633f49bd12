/* SPDX-License-Identifier: MIT */
/*
 * The loop: each worker's turns, and ub_bridge_run() which starts them.
 *
 * One turn, under the bridge lock: reap up to UB_BATCH_MAX completions
 * (frames and sends; for the control thread: control, signals, link
 * events), do what other threads asked of the worker, take frames waiting
 * in polled ports, forward the batch (datapath.h), then housekeeping.
 * Then, without the lock, one system call submits what the turn queued
 * and waits: until a completion or the next deadline, or (a data worker)
 * not at all when busy polling, spinning after a frame, or when the batch
 * was full. The control thread runs the same turn with no ports of its
 * own, and its housekeeping has the timers, the state file and the
 * closing of detached ports.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "bridge_private.h"
#include "capture.h"
#include "conn.h"
#include "datapath.h"
#include "gateway.h"
#include "guard.h"
#include "link.h"
#include "log.h"
#include "loop.h"
#include "port.h"
#include "state.h"
#include "worker.h"

/* Learned entries aged per control turn at most. */
#define UB_AGE_STEP 4096
/* Starvation of a receive is retried at least this often (ms). */
#define UB_RETRY_MS 1000
/* Every port's receive gets upkeep this often (ms). */
#define UB_UPKEEP_MS 1000

int ub_loop_arm_signal(struct ub_bridge *br)
{
	return ub_ring_read(ub_ctl_worker(br)->ring, br->sig_fd, &br->siginfo,
			    sizeof(br->siginfo), ub_ud_make(UB_OP_SIGNAL, 0, 0));
}

static void on_signal(struct ub_bridge *br, const struct ub_cqe *c)
{
	if (c->res == sizeof(br->siginfo)) {
		ub_log(UB_LOG_INFO, "%s: %s, stopping", br->name,
		       strsignal((int)br->siginfo.ssi_signo));
		br->stop = true;
	} else if (ub_loop_arm_signal(br)) {
		ub_log(UB_LOG_ERR, "%s: cannot follow signals", br->name);
		br->stop = true;
	}
}

/* What other threads asked of worker 'w' for its ports. */
static void worker_todo(struct ub_bridge *br, struct ub_worker *w)
{
	w->todo = false;
	for (uint32_t i = 0; i < UB_PORTS_MAX; i++) {
		struct ub_port *p = ub_port_by_id(&br->ports, i);

		if (p->state == UB_PORT_FREE || p->worker != w->id)
			continue;
		if (p->rx_cancel_wanted && p->rx_armed)
			ub_port_cancel_rx(br, w, p);
		if (p->rx_arm_wanted && p->state == UB_PORT_FORWARDING &&
		    !p->rx_armed && ub_port_arm_rx(br, w, p))
			p->rx_starved = true; /* retried in housekeeping */
		p->rx_cancel_wanted = p->rx_arm_wanted = false;
	}
}

/* One completion of worker 'w'; true when it put a frame into 'rx'. */
static bool on_cqe(struct ub_bridge *br, struct ub_worker *w,
		   const struct ub_cqe *c, struct ub_rx *rx)
{
	switch (ub_ud_op(c->user_data)) {
	case UB_OP_RX:
		return ub_dp_on_rx(br, w, c, rx);
	case UB_OP_TX:
	case UB_OP_TX_FLUSH:
		ub_dp_on_tx(br, w, c);
		break;
	case UB_OP_WAKE:
		if (ub_worker_arm_wake(w)) {
			ub_log(UB_LOG_ERR, "%s: worker %u: cannot re-arm its "
			       "wake-up", br->name, w->id);
			br->stop = true;
		}
		break;
	case UB_OP_ACCEPT:
	case UB_OP_CONN_RECV:
	case UB_OP_CONN_SEND:
		ub_ctl_on_cqe(br, c);
		break;
	case UB_OP_NETLINK:
		ub_links_on_cqe(br, c);
		break;
	case UB_OP_SIGNAL:
		on_signal(br, c);
		break;
	default:
		break;
	}
	return false;
}

/* The control thread's part of housekeeping; returns its next deadline
 * (UINT64_MAX: none). */
static uint64_t ctl_housekeeping(struct ub_bridge *br)
{
	uint64_t deadline, ctl, mon;
	bool all = br->now >= br->upkeep_ms;

	/* Ports a worker found gone, and detached ports that are done. */
	ub_port_reap(br);
	/* Receive rings that follow the traffic: the ports that asked, and
	 * every port once a second. */
	if (all) {
		br->upkeep_ms = br->now + UB_UPKEEP_MS;
		ub_gw_upkeep(br);
	}
	ub_port_upkeep(br, all);
	ub_guard_upkeep(br, all);
	br->caps.reap_asked = false;
	if (br->caps.n && ub_cap_reap(&br->caps))
		br->state_dirty = true;
	if (br->caps.nended) {
		ub_bridge_unlock(br);
		ub_cap_free_ended(&br->caps);
		ub_bridge_lock(br);
	}
	if (br->state_dirty) {
		br->state_dirty = false;
		ub_state_save(br);
	}
	/* A few thousand at a time: a crowd of entries expiring together
	 * is aged over several turns, the workers' in between. */
	if (br->now >= ub_fdb_next_deadline(br->fdb))
		ub_fdb_age_max(br->fdb, br->now, UB_AGE_STEP);
	/* Last: the events of all the above go out with this turn's. */
	mon = ub_mon_flush(br, all);
	deadline = ub_fdb_next_deadline(br->fdb);
	if (br->upkeep_ms < deadline)
		deadline = br->upkeep_ms;
	if (mon < deadline)
		deadline = mon;
	ctl = ub_ctl_expire(br);
	return ctl < deadline ? ctl : deadline;
}

/* The end of worker w's turn; returns its wait in ms (-1: no deadline). */
static int housekeeping(struct ub_bridge *br, struct ub_worker *w)
{
	uint64_t deadline = UINT64_MAX;
	bool retry = false;

	ub_ring_bufs_commit(w->ring);
	/* A detached port is done once its receive has ended and its
	 * buffers are back, which sends on other ports may have been
	 * holding: looked at after every turn while one is closing. */
	for (uint32_t i = 0; br->ports.nclosing && i < UB_PORTS_MAX; i++) {
		struct ub_port *p = ub_port_by_id(&br->ports, i);

		if (p->state == UB_PORT_CLOSING && p->worker == w->id)
			ub_port_reap_ask(br, p);
	}
	/* A capture the turn's frames completed ends at once, not at the
	 * control thread's next timer. */
	if (w != ub_ctl_worker(br) && br->caps.n && !br->caps.reap_asked &&
	    ub_cap_due(&br->caps)) {
		br->caps.reap_asked = true;
		ub_worker_wake(ub_ctl_worker(br));
	}
	if (w == ub_ctl_worker(br))
		deadline = ctl_housekeeping(br);
	else
		ub_mon_poke(br);
	for (uint32_t i = 0; i < br->ports.n; i++) {
		struct ub_port *p = ub_port_nth(&br->ports, i);

		if (p->worker != w->id || !p->rx_starved)
			continue;
		if (ub_ring_bufs_free(w->ring) && !p->rx_armed &&
		    !ub_port_arm_rx(br, w, p))
			p->rx_starved = false;
		else
			retry = true;
	}
	if (retry && br->now + UB_RETRY_MS < deadline)
		deadline = br->now + UB_RETRY_MS;
	if (deadline == UINT64_MAX)
		return -1;
	return deadline <= br->now ? 0 :
	       deadline - br->now > UB_RETRY_MS ? UB_RETRY_MS :
						  (int)(deadline - br->now);
}

/* The wait 'timeout_us' (-1: none), cut short for the next impaired
 * frame due on w's ports: they leave to the microsecond. */
static int64_t impair_wait(struct ub_bridge *br, struct ub_worker *w,
			   int64_t timeout_us)
{
	uint64_t due = ub_dp_impair_due(br, w), now;
	int64_t us;

	if (due == UINT64_MAX)
		return timeout_us;
	/* The clock now, not the turn's start: the turn took a while. */
	now = ub_mono_ns();
	us = due <= now ? 0 : (int64_t)((due - now + 999) / 1000);
	return timeout_us < 0 || us < timeout_us ? us : timeout_us;
}

/*
 * Worker 'w's loop: a turn under the lock, then the one system call that
 * submits what the turn queued and waits, without it. Returns 0 or -errno.
 */
static int worker_loop(struct ub_worker *w)
{
	struct ub_bridge *br = w->br;
	struct ub_cqe cqes[UB_BATCH_MAX];
	struct ub_rx batch[UB_BATCH_MAX];
	int ret = 0;

	for (;;) {
		unsigned n, nrx = 0;
		int64_t timeout;
		bool stop;

		ub_bridge_pass(br);
		/* A busy-polling worker never sleeps, not for the lock
		 * either. */
		if (br->busy_poll && w != ub_ctl_worker(br))
			ub_bridge_lock_spin(br);
		else
			ub_bridge_lock(br);
		w->mono_ns = ub_bridge_clock(br);
		if (br->caps.n)
			clock_gettime(CLOCK_REALTIME, &br->caps.wall);
		n = ub_ring_reap(w->ring, cqes, UB_BATCH_MAX);
		for (unsigned i = 0; i < n; i++)
			if (on_cqe(br, w, &cqes[i], &batch[nrx]))
				nrx++;
		if (w->todo)
			worker_todo(br, w);
		nrx = ub_dp_poll(br, w, batch, nrx);
		if (nrx)
			w->last_rx_ns = w->mono_ns;
		if (ub_unlikely(br->nimpaired))
			nrx = ub_dp_impaired(br, w, batch, nrx);
		ub_dp_forward(br, w, batch, nrx);
		timeout = housekeeping(br, w);
		timeout = timeout < 0 ? -1 : timeout * 1000;
		if (ub_unlikely(br->nimpaired))
			timeout = impair_wait(br, w, timeout);
		/* A full batch: there may be more waiting. */
		if (w != ub_ctl_worker(br) &&
		    (nrx == UB_BATCH_MAX || br->busy_poll ||
		     w->mono_ns - w->last_rx_ns < br->spin_ns))
			timeout = 0;
		stop = br->stop;
		ub_bridge_unlock(br);
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
			ub_bridge_stop(br);
			break;
		}
		ret = 0;
	}
	/* The ports' sockets are closed after this (ub_bridge_free): no
	 * request of the ring may still hold one open. */
	if (w != ub_ctl_worker(br) && ub_ring_quiesce(w->ring))
		ub_log(UB_LOG_WARN, "%s: worker %u: cannot cancel its requests",
		       br->name, w->id);
	/* Whoever stops first stops the others. */
	for (uint32_t k = 0; k < br->nworkers; k++)
		if (k != w->id)
			ub_worker_wake(&br->workers[k]);
	if (w != ub_ctl_worker(br))
		ub_worker_wake(ub_ctl_worker(br));
	return ret;
}

static void *worker_main(void *arg)
{
	struct ub_worker *w = arg;
	int ret;

	ret = ub_ring_enable(w->ring);
	if (ret) {
		ub_log(UB_LOG_ERR, "%s: worker %u: cannot enable its ring: %s",
		       w->br->name, w->id, strerror(-ret));
		ub_bridge_stop(w->br);
		ub_worker_wake(ub_ctl_worker(w->br));
		return (void *)(intptr_t)ret;
	}
	return (void *)(intptr_t)worker_loop(w);
}

int ub_bridge_run(struct ub_bridge *br)
{
	int ret = 0, err;

	for (uint32_t k = 0; k < br->nworkers; k++) {
		struct ub_worker *w = &br->workers[k];
		char name[24]; /* uses 11 at most */

		err = pthread_create(&w->thread, NULL, worker_main, w);
		if (err) {
			ub_log(UB_LOG_ERR, "%s: cannot start worker %u: %s",
			       br->name, k, strerror(err));
			ub_bridge_stop(br);
			ret = -err;
			break;
		}
		w->started = true;
		snprintf(name, sizeof(name), "ubridge-w%u", k);
		pthread_setname_np(w->thread, name);
	}
	err = worker_loop(ub_ctl_worker(br));
	ret = ret ? ret : err;
	for (uint32_t k = 0; k < br->nworkers; k++) {
		void *res;

		if (!br->workers[k].started)
			continue;
		pthread_join(br->workers[k].thread, &res);
		br->workers[k].started = false;
		ret = ret ? ret : (int)(intptr_t)res;
	}
	return ret;
}
