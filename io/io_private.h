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

/* Queues an empty send with MSG_DONTWAIT: an AF_XDP socket's TX kick
 * (which refuses to wait). */
int ub_ring_kick__(struct ub_ring *ring, int fd, uint64_t ud);

/* Arms a one-shot poll for input on 'fd' (it completes at once when
 * input is waiting already). */
int ub_ring_poll__(struct ub_ring *ring, int fd, uint64_t ud);

/* Arms a single-shot read on 'fd' into the pool (for TAP devices). */
int ub_ring_read_pool__(struct ub_ring *ring, int fd, uint64_t ud);

/* Reads the MTU and MAC of interface 'ifname' through socket 'fd' (any
 * socket; -1: a temporary one). */
int ub_if_query__(int fd, const char *ifname, uint32_t *mtu,
		  struct ub_mac *mac);

/* ---- AF_XDP beside a packet socket (xsk.c) ---- */

struct ub_xsk;

/* Loads and attaches the XDP program to 'ifindex' (native, else
 * generic; generic on a veth), and makes the AF_XDP socket it redirects
 * to. 0, or -errno with '*why' saying which step failed (-EBUSY: someone
 * else's program is attached); on success '*why' notes generic XDP. */
int ub_xsk_open(int ifindex, struct ub_xsk **out, const char **why);
/* Detaches the program and closes it all; NULL is fine. */
void ub_xsk_free(struct ub_xsk *x);
/* The RX chunks become an area of 'ring' (the receiving worker's). */
int ub_xsk_attach(struct ub_ring *ring, struct ub_xsk *x);
void ub_xsk_detach(struct ub_ring *ring, struct ub_xsk *x);
/* RX chunks that sends still reference. */
uint32_t ub_xsk_held(const struct ub_ring *ring, const struct ub_xsk *x);
/* The socket, to poll for frames. */
int ub_xsk_fd(const struct ub_xsk *x);
/* The next received frame (its checksums completed; 'mtu': the port's),
 * or UB_RX_NONE. */
enum ub_rx_status ub_xsk_rx_next(struct ub_xsk *x, uint32_t mtu,
				 struct ub_frame *f);
/* Copies 'f' into a TX chunk for the next flush: 0, -ENOBUFS (none
 * free), -EMSGSIZE (not for the socket: GSO, or over the port's MTU
 * 'mtu'). */
int ub_xsk_tx_put(struct ub_xsk *x, uint32_t mtu, const struct ub_frame *f);
/* Kicks the socket for what tx_put queued: the number of sends queued
 * (each completes with 'ud'), or -EBUSY. */
int ub_xsk_tx_flush(struct ub_ring *ring, struct ub_xsk *x, uint64_t ud);
/* Frames the kernel dropped for the socket since the last call. */
uint64_t ub_xsk_rx_dropped(struct ub_xsk *x);
/* Its named counters, as ub_port_ops.counters. */
uint32_t ub_xsk_counters(const struct ub_xsk *x, struct ub_port_counter *out,
			 uint32_t max);

#endif
