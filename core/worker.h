/* SPDX-License-Identifier: MIT */
/*
 * Workers: the data path's threads (ubridge --workers N), each with an
 * io_uring of its own and a share of the ports; and the control thread,
 * the one that calls ub_bridge_run(), a worker with no ports
 * (UB_WORKER_CTL) that serves control, link events and timers (loop.c).
 *
 * The lock. Everything the threads share (ports, FDB, captures, control)
 * is under one bridge lock, which a worker holds for its whole turn
 * except the system call that submits its requests and waits: that call
 * is where the kernel does nearly all the work of a frame, and it runs on
 * all workers at once. The control thread holds it the same way, and
 * lets it go around anything slow (opening and closing ports, netlink,
 * writing files, a long listing between slices): forwarding never waits
 * for the control plane longer than a quick step of it. Across such a
 * gap only the workers run, and they change counters, learned FDB
 * entries and their ports' receive state, never the port table or the
 * configuration: a control step may keep pointers to ports across it.
 *
 * Two rules keep the rings apart:
 * - a ring's requests are queued only by its own thread: another thread
 *   that needs a port's receive armed or cancelled sets the port's
 *   rx_*_wanted and asks the port's worker (ub_worker_ask), which does it
 *   in its next turn;
 * - a frame's buffer belongs to the ring it came in on, and only the
 *   worker that received it sends it, so references stay in one ring.
 */
#ifndef UB_CORE_WORKER_H
#define UB_CORE_WORKER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct ub_bridge;
struct ub_ring;

/* The control thread's id: no port's worker. */
#define UB_WORKER_CTL UINT32_MAX

struct ub_worker {
	struct ub_bridge *br;
	uint32_t id;
	struct ub_ring *ring;
	pthread_t thread;   /* workers 1..n-1 */
	bool started;
	int wake_fd;        /* eventfd: other threads wake the worker */
	uint64_t wake_val;
	bool todo;          /* its ports have rx_*_wanted set */
	uint64_t mono_ns;   /* the clock at the start of its turn */
	uint64_t last_rx_ns; /* when its last frame came */
	uint32_t rx_next_port; /* where its next look at polled ports starts */
};

/* Sets up worker 'id' of 'br': its ring (for a data worker, to be enabled
 * by its own thread) and wake-up. 0 or -errno; ub_worker_fini() undoes
 * it. */
int ub_worker_init(struct ub_worker *w, struct ub_bridge *br, uint32_t id);
void ub_worker_fini(struct ub_worker *w);
/* Re-arms the read of the worker's eventfd, after a wake-up. */
int ub_worker_arm_wake(struct ub_worker *w);
/* Makes the worker run a turn soon (it may be asleep in its ring). */
void ub_worker_wake(struct ub_worker *w);
/* Another thread has work for the worker: its ports' rx_*_wanted. */
void ub_worker_ask(struct ub_worker *w);

/* The bridge lock. */
void ub_bridge_lock(struct ub_bridge *br);
void ub_bridge_unlock(struct ub_bridge *br);
/* The same without ever sleeping: it yields the CPU while the lock is
 * held (a busy-polling worker, which must not go to sleep). */
void ub_bridge_lock_spin(struct ub_bridge *br);
/*
 * A worker calls this between turns, without the lock: it lets any thread
 * waiting for the lock have it first. A mutex is not fair, and a worker
 * that takes it again right after its wait (always, when busy polling)
 * would otherwise keep the control thread, or another worker, out for
 * many turns.
 */
void ub_bridge_pass(struct ub_bridge *br);
/* The holder of the lock, in a long step: lets the threads waiting for it
 * have it, and takes it back. */
void ub_bridge_yield(struct ub_bridge *br);
/* Stops the bridge from a thread that does not hold the lock. */
void ub_bridge_stop(struct ub_bridge *br);

#endif
