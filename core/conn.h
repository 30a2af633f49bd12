/* SPDX-License-Identifier: MIT */
/*
 * The control socket's server: connections accepted, read, answered and
 * closed through the control thread's ring. One request per connection (see
 * include/ubridge/ctl.h); each request runs as a command (cmd.h).
 */
#ifndef UB_CORE_CONN_H
#define UB_CORE_CONN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <ubridge/ctl.h>
#include <ubridge/io.h>

/*
 * Limits that keep the control socket open to everyone (issue 12): many
 * connections, each cheap while it waits (a slot is a few dozen bytes;
 * the request buffer starts small and the reply is allocated only once
 * there is something to say), a short deadline for the request line and a
 * share of the table per uid. A connection that finds no room is told so
 * in one non-blocking send and closed, never waited for.
 */
#define UB_CONNS_MAX 256
/* No uid may hold more than this; others still get in. */
#define UB_CONNS_PER_UID (UB_CONNS_MAX / 2)
/* The request line must arrive within this of the connection. */
#define UB_CONN_REQ_TIMEOUT_MS 1000
/* A connection's whole life (request in, reply out) is bounded by this. */
#define UB_CONN_TIMEOUT_MS 10000

struct ub_bridge;
struct ub_bridge_cfg;

struct ub_conn {
	int fd; /* -1: slot free */
	uid_t uid;         /* the peer's: who asks (cmd.h), and its share */
	uint64_t born;     /* when accepted, in the bridge's clock (br->now) */
	uint64_t deadline; /* same clock */
	bool cancelled; /* past its deadline: its request is being cancelled */
	bool refused;   /* its peer may not use the bridge: told so, no more */
	bool answering; /* the request is in: the reply is on its way out */
	uint32_t req_len;
	uint32_t req_cap;
	char *req;      /* NULL while the slot is free */
	struct ub_conn_rx *rx; /* the receive's header, descriptors passed */
	size_t sent;
	struct ub_ctl_reply reply; /* empty (no buffer) until answering */
};

struct ub_ctl_server {
	int fd;          /* listening; -1: none */
	char path[108];
	gid_t group;     /* may use the control socket too; -1: none */
	uint32_t nconns;   /* slots in use */
	uint64_t next_due; /* no deadline falls before this (br->now) */
	struct ub_conn conns[UB_CONNS_MAX];
};

/* Listens on the bridge's socket as 'cfg' says and starts accepting.
 * On failure returns -errno with the reason in 'err'. */
int ub_ctl_server_open(struct ub_bridge *br, const struct ub_bridge_cfg *cfg,
		       char *err, size_t errlen);
void ub_ctl_server_close(struct ub_ctl_server *s);
/* A completion of an accept, a receive or a send (UB_OP_ACCEPT,
 * UB_OP_CONN_*). */
void ub_ctl_on_cqe(struct ub_bridge *br, const struct ub_cqe *c);
/* Cancels what connections past their deadline wait for, and returns the
 * next deadline in the bridge's clock (UINT64_MAX: none). */
uint64_t ub_ctl_expire(struct ub_bridge *br);

#endif
