/* SPDX-License-Identifier: MIT */
/* Workers: their rings, wake-ups and the bridge lock (see worker.h). */
#include <errno.h>
#include <sched.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "bridge_private.h"
#include "log.h"
#include "worker.h"

int ub_worker_init(struct ub_worker *w, struct ub_bridge *br, uint32_t id)
{
	int ret;

	w->br = br;
	w->id = id;
	w->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (w->wake_fd < 0)
		return -errno;
	/* A data worker's thread makes itself its ring's submitter; the
	 * control thread is the one that makes the bridge. */
	ret = ub_ring_new(&(struct ub_ring_cfg){
				  .deferred = id != UB_WORKER_CTL },
			  &w->ring);
	return ret ? ret : ub_worker_arm_wake(w);
}

void ub_worker_fini(struct ub_worker *w)
{
	ub_ring_free(w->ring);
	w->ring = NULL;
	if (w->wake_fd >= 0)
		close(w->wake_fd);
	w->wake_fd = -1;
}

int ub_worker_arm_wake(struct ub_worker *w)
{
	return ub_ring_read(w->ring, w->wake_fd, &w->wake_val,
			    sizeof(w->wake_val),
			    ub_ud_make(UB_OP_WAKE, w->id, 0));
}

void ub_worker_wake(struct ub_worker *w)
{
	if (eventfd_write(w->wake_fd, 1))
		ub_log(UB_LOG_ERR, "%s: cannot wake worker %u: %s",
		       w->br->name, w->id, strerror(errno));
}

void ub_worker_ask(struct ub_worker *w)
{
	w->todo = true;
	ub_worker_wake(w);
}

void ub_bridge_lock(struct ub_bridge *br)
{
	__atomic_add_fetch(&br->lock_waiters, 1, __ATOMIC_RELAXED);
	pthread_mutex_lock(&br->lock);
	__atomic_sub_fetch(&br->lock_waiters, 1, __ATOMIC_RELAXED);
}

void ub_bridge_lock_spin(struct ub_bridge *br)
{
	__atomic_add_fetch(&br->lock_waiters, 1, __ATOMIC_RELAXED);
	while (pthread_mutex_trylock(&br->lock))
		sched_yield();
	__atomic_sub_fetch(&br->lock_waiters, 1, __ATOMIC_RELAXED);
}

void ub_bridge_pass(struct ub_bridge *br)
{
	while (__atomic_load_n(&br->lock_waiters, __ATOMIC_RELAXED))
		sched_yield();
}

void ub_bridge_yield(struct ub_bridge *br)
{
	if (!__atomic_load_n(&br->lock_waiters, __ATOMIC_RELAXED))
		return;
	ub_bridge_unlock(br);
	ub_bridge_pass(br);
	ub_bridge_lock(br);
}

void ub_bridge_unlock(struct ub_bridge *br)
{
	pthread_mutex_unlock(&br->lock);
}

void ub_bridge_stop(struct ub_bridge *br)
{
	ub_bridge_lock(br);
	br->stop = true;
	ub_bridge_unlock(br);
}
