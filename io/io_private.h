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

/* Closes a port whose whole state is its fd (every back end so far). */
void ub_port_close_fd__(struct ub_port_io *p);

/* Arms a single-shot read on 'fd' into the pool (for TAP devices). */
int ub_ring_read_pool__(struct ub_ring *ring, int fd, uint64_t ud);

/* Reads the MTU and MAC of interface 'ifname' through socket 'fd' (any
 * socket; -1: a temporary one). */
int ub_if_query__(int fd, const char *ifname, uint32_t *mtu,
		  struct ub_mac *mac);

#endif
