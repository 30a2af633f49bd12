/* SPDX-License-Identifier: MIT */
/*
 * Link events: a port's interface deleted, renamed, down or up, as
 * rtnetlink tells the control thread's ring.
 */
#ifndef UB_CORE_LINK_H
#define UB_CORE_LINK_H

#include <ubridge/io.h>

struct ub_bridge;
struct ub_nl;

struct ub_links {
	struct ub_nl *mon;
	char buf[16384] __attribute__((aligned(8)));
};

/* Opens the monitor and arms its first read. 0 or -errno. */
int ub_links_open(struct ub_bridge *br);
void ub_links_close(struct ub_links *l);
/* A read of the monitor completed (UB_OP_NETLINK). */
void ub_links_on_cqe(struct ub_bridge *br, const struct ub_cqe *c);

#endif
