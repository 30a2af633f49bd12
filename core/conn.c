/* SPDX-License-Identifier: MIT */
/* The control socket's server (see conn.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bridge_private.h"
#include "cmd.h"
#include "conn.h"
#include "log.h"

static struct ub_ring *ctl_ring(struct ub_bridge *br)
{
	return ub_ctl_worker(br)->ring;
}

static uint32_t conn_id(const struct ub_ctl_server *s, const struct ub_conn *c)
{
	return (uint32_t)(c - s->conns);
}

static int arm_accept(struct ub_bridge *br)
{
	return ub_ring_accept(ctl_ring(br), br->ctl.fd,
			      ub_ud_make(UB_OP_ACCEPT, 0, 0));
}

int ub_ctl_server_open(struct ub_bridge *br, const struct ub_bridge_cfg *cfg,
		       char *err, size_t errlen)
{
	struct ub_ctl_server *s = &br->ctl;
	int ret;

	s->group = cfg->ctl_group;
	ret = ub_ctl_sock_path(cfg->name, s->path, sizeof(s->path));
	if (ret) {
		snprintf(err, errlen,
			 "invalid bridge name \"%s\": 1 to %d characters of "
			 "A-Z a-z 0-9 _ . -, not starting with . or -",
			 cfg->name, UB_BRIDGE_NAME_MAX);
		return ret;
	}
	s->fd = ub_ctl_listen(s->path, cfg->ctl_owner, cfg->ctl_group);
	if (s->fd < 0) {
		ret = s->fd;
		if (ret == -EADDRINUSE)
			snprintf(err, errlen,
				 "bridge %s is already running (%s answers)",
				 cfg->name, s->path);
		else
			snprintf(err, errlen, "cannot listen on %s: %s",
				 s->path, strerror(-ret));
		return ret;
	}
	ret = arm_accept(br);
	if (ret)
		snprintf(err, errlen, "io_uring: %s", strerror(-ret));
	return ret;
}

static void conn_close(struct ub_conn *c)
{
	close(c->fd);
	c->fd = -1;
	ub_ctl_reply_free(&c->reply);
}

void ub_ctl_server_close(struct ub_ctl_server *s)
{
	for (unsigned i = 0; i < UB_CONNS_MAX; i++)
		if (s->conns[i].fd >= 0)
			conn_close(&s->conns[i]);
	if (s->fd >= 0) {
		unlink(s->path);
		close(s->fd);
	}
	s->fd = -1;
}

static void conn_send_rest(struct ub_bridge *br, struct ub_conn *c)
{
	if (ub_ring_send(ctl_ring(br), c->fd, c->reply.buf + c->sent,
			 c->reply.len - c->sent,
			 ub_ud_make(UB_OP_CONN_SEND, conn_id(&br->ctl, c), 0)))
		conn_close(c);
}

/* True when 'gid' was among the peer's supplementary groups when it
 * connected. */
static bool peer_in_group(int fd, gid_t gid)
{
	gid_t small[64], *groups = small;
	socklen_t len = sizeof(small);
	bool in = false;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len)) {
		/* More than 'small' holds: 'len' now says how much. */
		if (errno != ERANGE || !(groups = malloc(len)) ||
		    getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len))
			len = 0;
	}
	for (size_t i = 0; i < len / sizeof(*groups) && !in; i++)
		in = groups[i] == gid;
	if (groups != small)
		free(groups);
	return in;
}

/*
 * Root, the daemon's user (who owns the socket) and the members of the
 * socket's group may use the bridge. The socket's mode already keeps
 * others out; this is the second lock, and the one that tells them why.
 */
static bool peer_allowed(const struct ub_ctl_server *s, int fd, uid_t *uid)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len))
		return false;
	*uid = cred.uid;
	if (cred.uid == 0 || cred.uid == geteuid())
		return true;
	return s->group != (gid_t)-1 &&
	       (cred.gid == s->group || peer_in_group(fd, s->group));
}

static void conn_serve(struct ub_bridge *br, struct ub_conn *c)
{
	uint64_t warp = br->warp_ms;
	char *argv[UB_CTL_ARGS_MAX];
	int argc = c->refused ? 0 :
		ub_ctl_req_decode(c->req, c->req_len, argv, UB_CTL_ARGS_MAX);

	if (c->refused)
		ub_ctl_reply_status(&c->reply, -EACCES,
				    "permission denied: bridge %s is for root, "
				    "its own user%s", br->name,
				    br->ctl.group != (gid_t)-1 ?
					    " and its socket's group" : "");
	else if (argc == -E2BIG)
		ub_ctl_reply_status(&c->reply, argc, "too many words (max %d)",
				    UB_CTL_ARGS_MAX);
	else if (argc < 0)
		ub_ctl_reply_status(&c->reply, argc,
				    "malformed request: one line of printable "
				    "words separated by single spaces expected");
	else
		ub_cmd_run(br, argc, argv,
			   &(struct ub_cmd_client){ .fd = c->fd, .uid = c->uid },
			   &c->reply);
	/* "time warp" moves the clock for every client but the one asking:
	 * it still gets its answer. */
	c->deadline += br->warp_ms - warp;
	c->sent = 0;
	if (c->reply.len)
		conn_send_rest(br, c);
	else
		conn_close(c);
}

static void on_accept(struct ub_bridge *br, const struct ub_cqe *cqe)
{
	struct ub_ctl_server *s = &br->ctl;
	struct ub_conn *c = NULL;

	if (!ub_cqe_more(cqe) && arm_accept(br))
		ub_log(UB_LOG_ERR, "%s: cannot accept control connections",
		       br->name);
	if (cqe->res < 0)
		return;
	for (unsigned i = 0; i < UB_CONNS_MAX && !c; i++)
		if (s->conns[i].fd < 0)
			c = &s->conns[i];
	if (!c) {
		/* Busy: the client sees the connection end. */
		close(cqe->res);
		return;
	}
	c->fd = cqe->res;
	c->deadline = br->now + UB_CONN_TIMEOUT_MS;
	c->cancelled = false;
	/* Not allowed: its request is read (closing with it unread would
	 * reset the connection) and answered with a refusal. */
	c->refused = !peer_allowed(s, c->fd, &c->uid);
	c->req_len = 0;
	ub_ctl_reply_init(&c->reply);
	if (ub_ring_recv(ctl_ring(br), c->fd, c->req, sizeof(c->req),
			 ub_ud_make(UB_OP_CONN_RECV, conn_id(s, c), 0)))
		conn_close(c);
}

static void on_recv(struct ub_bridge *br, struct ub_conn *c,
		    const struct ub_cqe *cqe)
{
	if (cqe->res <= 0) {
		/* Error, or the client left before finishing its line. */
		conn_close(c);
		return;
	}
	c->req_len += (size_t)cqe->res;
	if (memchr(c->req + c->req_len - cqe->res, '\n', (size_t)cqe->res)) {
		conn_serve(br, c);
	} else if (c->req_len == sizeof(c->req)) {
		ub_ctl_reply_status(&c->reply, -EMSGSIZE,
				    "request longer than %d bytes",
				    UB_CTL_REQ_MAX);
		c->sent = 0;
		conn_send_rest(br, c);
	} else if (ub_ring_recv(ctl_ring(br), c->fd, c->req + c->req_len,
				sizeof(c->req) - c->req_len, cqe->user_data)) {
		conn_close(c);
	}
}

static void on_send(struct ub_bridge *br, struct ub_conn *c,
		    const struct ub_cqe *cqe)
{
	if (cqe->res <= 0) {
		conn_close(c);
		return;
	}
	c->sent += (size_t)cqe->res;
	if (c->sent < c->reply.len)
		conn_send_rest(br, c);
	else
		conn_close(c);
}

void ub_ctl_on_cqe(struct ub_bridge *br, const struct ub_cqe *c)
{
	struct ub_conn *conn = &br->ctl.conns[ub_ud_id(c->user_data) %
					      UB_CONNS_MAX];

	switch (ub_ud_op(c->user_data)) {
	case UB_OP_ACCEPT:
		on_accept(br, c);
		break;
	case UB_OP_CONN_RECV:
		on_recv(br, conn, c);
		break;
	case UB_OP_CONN_SEND:
		on_send(br, conn, c);
		break;
	}
}

/*
 * A client that never finishes its request, or never reads its reply, must
 * not keep its slot: past the deadline its pending request is cancelled,
 * and the cancelled completion closes the connection.
 */
uint64_t ub_ctl_expire(struct ub_bridge *br)
{
	uint64_t now_ms = br->now;

	uint64_t next = UINT64_MAX;

	for (unsigned i = 0; i < UB_CONNS_MAX; i++) {
		struct ub_conn *c = &br->ctl.conns[i];

		if (c->fd < 0 || c->cancelled)
			continue;
		if (now_ms < c->deadline) {
			next = c->deadline < next ? c->deadline : next;
			continue;
		}
		ub_log_rl(UB_LOG_WARN, "%s: control client too slow, dropped",
			  br->name);
		ub_ring_cancel(ctl_ring(br), ub_ud_make(UB_OP_CONN_RECV, i, 0));
		ub_ring_cancel(ctl_ring(br), ub_ud_make(UB_OP_CONN_SEND, i, 0));
		c->cancelled = true;
	}
	return next;
}
