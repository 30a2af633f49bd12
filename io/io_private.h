/* SPDX-License-Identifier: MIT */
/* Shared between the ring and the port back ends of io/; not public. */
#ifndef UB_IO_PRIVATE_H
#define UB_IO_PRIVATE_H

#include <sys/socket.h>

#include <ubridge/io.h>

/* Buffer group id of the shared receive pool. */
#define UB_BGID 0

/*
 * Arms a multishot recvmsg on 'fd' into the pool. 'tmpl' gives the name
 * and control lengths the kernel lays out in front of each payload; it
 * must live as long as the receive.
 */
int ub_ring_recvmsg_pool__(struct ub_ring *ring, int fd,
			   const struct msghdr *tmpl, uint64_t ud);

/* Closes a port whose whole state is its fd. */
void ub_port_close_fd__(struct ub_port_io *p);

/* ---- buffer areas: memory of a back end's own, counted like the pool ---- */

/* 2^18 buffers per area (a ring of 512 MiB in 2 KiB slots), and 16384
 * areas: a worker may have as many ring ports as a bridge, each with two
 * rings while it moves from one to the other. */
#define UB_AREA_SHIFT 18
#define UB_AREA_BUFS_MAX (1U << UB_AREA_SHIFT)

static inline uint32_t ub_buf_handle__(uint32_t area, uint32_t idx)
{
	return area << UB_AREA_SHIFT | idx;
}

/*
 * Registers 'nbufs' buffers of a back end's own as an area; 'release' is
 * called with 'arg' and the buffer's index when its last reference goes.
 * Returns 0 with the area's number in '*area', or -errno.
 */
int ub_ring_area_add__(struct ub_ring *ring, uint32_t nbufs,
		       void (*release)(void *arg, uint32_t idx), void *arg,
		       uint32_t *area);
/* Forgets an area; only once none of its buffers is referenced. */
void ub_ring_area_del__(struct ub_ring *ring, uint32_t area);
/* Buffers of the area that are referenced. */
uint32_t ub_ring_area_held__(const struct ub_ring *ring, uint32_t area);
/* References on one buffer. */
uint16_t ub_ring_buf_refs__(const struct ub_ring *ring, uint32_t buf);
/*
 * Whether a put or get on a pool buffer that is not handed out aborts the
 * process after being refused (and, for a put, counted). The default is on
 * in ASan and TSan builds only; tests set it either way.
 */
void ub_ring_bad_put_abort__(struct ub_ring *ring, bool on);

/* Queues a sendmsg of 'msg' (which must live until it completes). */
int ub_ring_sendmsg__(struct ub_ring *ring, int fd, const struct msghdr *msg,
		      uint64_t ud);

/* Arms a multishot poll for input on 'fd'. */
int ub_ring_poll__(struct ub_ring *ring, int fd, uint64_t ud);

/* Arms a single-shot read on 'fd' into the pool (for TAP devices). */
int ub_ring_read_pool__(struct ub_ring *ring, int fd, uint64_t ud);

/* Reads the MTU and MAC of interface 'ifname' through socket 'fd' (any
 * socket; -1: a temporary one). */
int ub_if_query__(int fd, const char *ifname, uint32_t *mtu,
		  struct ub_mac *mac);

#endif
