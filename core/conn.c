/* SPDX-License-Identifier: MIT */
/*
 * The control socket's server (see conn.h).
 *
 * A connection lives in two phases. Reading its request, it has
 * UB_CONN_REQ_TIMEOUT_MS to deliver the line: a client that connects and
 * dawdles (or one that never meant to ask) gives its slot back fast.
 * Answering, it has until UB_CONN_TIMEOUT_MS after it connected: a big
 * reply may be read slowly, but not forever. A stream (capture watch) is
 * handed to a capture writer and leaves the table.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bridge_private.h"
#include "cmd.h"
#include "conn.h"
#include "log.h"

/*
 * The request buffer a new connection starts with: enough for nearly any
 * command ubctl sends; it grows up to UB_CTL_REQ_MAX when needed. It is
 * zeroed: the kernel fills it through io_uring, which memory checkers
 * (valgrind) cannot see, and would otherwise take for uninitialised.
 */
#define UB_CONN_REQ_INIT 256
/* Descriptors a request may carry: the files of a capture. */
#define UB_CONN_FDS_MAX UB_CTL_FDS_MAX

/*
 * A request is read with recvmsg: a client passes the files a command
 * writes (capture start) as descriptors with it (SCM_RIGHTS), so that
 * the daemon never opens a path a client names. Allocated with the
 * connection, not in its slot: most slots are idle.
 */
struct ub_conn_rx {
	struct msghdr msg;
	struct iovec iov;
	/* A control message's room: its header, then the descriptors
	 * (what CMSG_SPACE() says, in a constant clang accepts). */
	_Alignas(struct cmsghdr) char cmsg[sizeof(struct cmsghdr) +
					   sizeof(int) * UB_CONN_FDS_MAX +
					   sizeof(size_t)];
	int fds[UB_CONN_FDS_MAX];
	unsigned int nfds;
	bool lost; /* more than UB_CONN_FDS_MAX, or cut short */
};

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

/* Closes the descriptors the request brought that no command kept. */
static void conn_drop_fds(struct ub_conn_rx *rx)
{
	for (unsigned int i = 0; i < rx->nfds; i++)
		if (rx->fds[i] >= 0)
			close(rx->fds[i]);
	rx->nfds = 0;
}

static void conn_close(struct ub_ctl_server *s, struct ub_conn *c)
{
	close(c->fd);
	c->fd = -1;
	free(c->req);
	c->req = NULL;
	if (c->rx)
		conn_drop_fds(c->rx);
	free(c->rx);
	c->rx = NULL;
	ub_ctl_reply_free(&c->reply);
	s->nconns--;
}

void ub_ctl_server_close(struct ub_ctl_server *s)
{
	for (unsigned i = 0; i < UB_CONNS_MAX; i++)
		if (s->conns[i].fd >= 0)
			conn_close(s, &s->conns[i]);
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
		conn_close(&br->ctl, c);
}

/* Sets a connection's deadline, and keeps ub_ctl_expire() from sleeping
 * past it. */
static void conn_due(struct ub_ctl_server *s, struct ub_conn *c,
		     uint64_t deadline)
{
	c->deadline = deadline;
	if (deadline < s->next_due)
		s->next_due = deadline;
}

/*
 * Sends what c->reply holds, or closes when it is empty. From here on the
 * connection has the long bound: a client may read a big reply slowly.
 */
static void conn_answer(struct ub_bridge *br, struct ub_conn *c)
{
	c->answering = true;
	conn_due(&br->ctl, c, c->born + UB_CONN_TIMEOUT_MS);
	c->sent = 0;
	if (c->reply.len)
		conn_send_rest(br, c);
	else
		conn_close(&br->ctl, c);
}

/*
 * One status line to a client we will not wait for: a connection refused,
 * or one that missed its deadline. A short line goes into the socket's
 * empty buffer at once; if it does not, the client sees the connection
 * end, which is all a client that has not read anything is owed.
 */
static void conn_tell(int fd, int err, const char *fmt, ...) UB_PRINTF(3, 4);

static void conn_tell(int fd, int err, const char *fmt, ...)
{
	struct ub_ctl_reply r;
	char msg[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ub_ctl_reply_init(&r);
	ub_ctl_reply_status(&r, err, "%s", msg);
	/* Once, without waiting: a client gone or full loses it. */
	send(fd, r.buf, r.len, MSG_DONTWAIT | MSG_NOSIGNAL);
	ub_ctl_reply_free(&r);
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
static bool peer_allowed(const struct ub_ctl_server *s, int fd,
			 const struct ucred *cred)
{
	if (cred->uid == 0 || cred->uid == geteuid())
		return true;
	return s->group != (gid_t)-1 &&
	       (cred->gid == s->group || peer_in_group(fd, s->group));
}


static void conn_serve(struct ub_bridge *br, struct ub_conn *c)
{
	uint64_t warp = br->warp_ms;
	char *argv[UB_CTL_ARGS_MAX];
	int argc = c->refused ? 0 :
		ub_ctl_req_decode(c->req, c->req_len, argv, UB_CTL_ARGS_MAX);

	ub_ctl_reply_init(&c->reply);
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
	else if (c->rx->lost)
		ub_ctl_reply_status(&c->reply, -E2BIG, "at most %d descriptors "
				    "with a request", UB_CONN_FDS_MAX);
	else
		ub_cmd_run(br, argc, argv,
			   &(struct ub_cmd_client){ .fd = c->fd, .uid = c->uid,
						    .fds = c->rx->fds,
						    .nfds = c->rx->nfds },
			   &c->reply);
	conn_drop_fds(c->rx);
	/* "time warp" moves the clock for every client but the one asking:
	 * it still gets its answer. */
	c->born += br->warp_ms - warp;
	conn_answer(br, c);
}

/*
 * A free slot for a new connection of 'uid', or NULL when it may not have
 * one, after telling it why. Every uid gets the same share, root
 * included: root's clients are programs too, and one that runs away (a
 * script looping on ubctl, a stuck orchestrator) must not lock out the
 * others, the administrator at a root shell among them. Two uids can
 * still fill the table, but only for as long as their deadlines.
 */
static struct ub_conn *conn_slot(struct ub_bridge *br, int fd, uid_t uid)
{
	struct ub_ctl_server *s = &br->ctl;
	struct ub_conn *slot = NULL;
	unsigned mine = 0;

	for (unsigned i = 0; i < UB_CONNS_MAX; i++) {
		struct ub_conn *c = &s->conns[i];

		if (c->fd < 0) {
			if (!slot)
				slot = c;
		} else if (c->uid == uid) {
			mine++;
		}
	}
	if (!slot) {
		conn_tell(fd, -EBUSY, "bridge busy: %u connections",
			  UB_CONNS_MAX);
		ub_log_rl(UB_LOG_WARN, "%s: %u control connections, refusing "
			  "more", br->name, UB_CONNS_MAX);
		return NULL;
	}
	if (mine >= UB_CONNS_PER_UID) {
		conn_tell(fd, -EBUSY, "bridge busy: uid %u holds %u "
			  "connections, its share", (unsigned)uid, mine);
		ub_log_rl(UB_LOG_WARN, "%s: uid %u holds %u control "
			  "connections, refusing more", br->name,
			  (unsigned)uid, mine);
		return NULL;
	}
	return slot;
}

/* Reads more of the request, into the rest of its buffer. */
static int conn_recv(struct ub_bridge *br, struct ub_conn *c)
{
	struct ub_conn_rx *rx = c->rx;

	rx->iov.iov_base = c->req + c->req_len;
	rx->iov.iov_len = c->req_cap - c->req_len;
	rx->msg = (struct msghdr){ .msg_iov = &rx->iov, .msg_iovlen = 1,
				   .msg_control = rx->cmsg,
				   .msg_controllen = sizeof(rx->cmsg) };
	return ub_ring_recvmsg(ctl_ring(br), c->fd, &rx->msg,
			       ub_ud_make(UB_OP_CONN_RECV,
					  conn_id(&br->ctl, c), 0));
}

static void on_accept(struct ub_bridge *br, const struct ub_cqe *cqe)
{
	struct ub_ctl_server *s = &br->ctl;
	struct ucred cred = { .uid = (uid_t)-1 };
	socklen_t len = sizeof(cred);
	struct ub_conn *c;
	int fd = cqe->res;

	if (!ub_cqe_more(cqe) && arm_accept(br))
		ub_log(UB_LOG_ERR, "%s: cannot accept control connections",
		       br->name);
	if (fd < 0)
		return;
	/* Unknown credentials: a uid of their own, and no access. */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len))
		cred.uid = (uid_t)-1;
	c = conn_slot(br, fd, cred.uid);
	if (!c || !(c->req = calloc(1, UB_CONN_REQ_INIT)) ||
	    !(c->rx = calloc(1, sizeof(*c->rx)))) {
		if (c) {
			free(c->req);
			c->req = NULL;
		}
		close(fd);
		return;
	}
	s->nconns++;
	c->fd = fd;
	c->uid = cred.uid;
	c->born = br->now;
	conn_due(s, c, br->now + UB_CONN_REQ_TIMEOUT_MS);
	c->cancelled = false;
	c->answering = false;
	/* Not allowed: its request is read (closing with it unread would
	 * reset the connection) and answered with a refusal. */
	c->refused = cred.uid == (uid_t)-1 || !peer_allowed(s, fd, &cred);
	c->req_len = 0;
	c->req_cap = UB_CONN_REQ_INIT;
	if (conn_recv(br, c))
		conn_close(s, c);
}

/* Keeps the descriptors a receive of the request brought. */
static void conn_take_fds(struct ub_conn_rx *rx)
{
	struct cmsghdr *cm;

	rx->lost |= rx->msg.msg_flags & MSG_CTRUNC;
	for (cm = CMSG_FIRSTHDR(&rx->msg); cm; cm = CMSG_NXTHDR(&rx->msg, cm)) {
		size_t n;
		int fd;

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(fd));
			if (rx->nfds < UB_CONN_FDS_MAX) {
				rx->fds[rx->nfds++] = fd;
			} else {
				close(fd);
				rx->lost = true;
			}
		}
	}
}

/* Room for more of the request, up to UB_CTL_REQ_MAX; false: no memory. */
static bool conn_req_grow(struct ub_conn *c)
{
	uint32_t cap = c->req_cap * 2;
	char *req;

	if (c->req_len < c->req_cap)
		return true;
	cap = cap < UB_CTL_REQ_MAX ? cap : UB_CTL_REQ_MAX;
	req = realloc(c->req, cap);
	if (!req)
		return false;
	memset(req + c->req_cap, 0, cap - c->req_cap);
	c->req = req;
	c->req_cap = cap;
	return true;
}

/* Answers a request that cannot be run with a status line. */
static void conn_reject(struct ub_bridge *br, struct ub_conn *c, int err,
			const char *fmt, ...) UB_PRINTF(4, 5);

static void conn_reject(struct ub_bridge *br, struct ub_conn *c, int err,
			const char *fmt, ...)
{
	char msg[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ub_ctl_reply_init(&c->reply);
	ub_ctl_reply_status(&c->reply, err, "%s", msg);
	conn_answer(br, c);
}

static void on_recv(struct ub_bridge *br, struct ub_conn *c,
		    const struct ub_cqe *cqe)
{
	uint32_t n;

	/* Kept before anything else: a close must close them too. */
	if (cqe->res > 0)
		conn_take_fds(c->rx);
	if (c->cancelled) {
		/* Past its deadline: the cancel, or data that beat it. A
		 * client that began a line is told why it ends unanswered;
		 * one that asked nothing just sees the close. */
		if (c->req_len || cqe->res > 0)
			conn_tell(c->fd, -ETIMEDOUT, "request line not "
				  "complete within %d ms",
				  UB_CONN_REQ_TIMEOUT_MS);
		conn_close(&br->ctl, c);
		return;
	}
	if (cqe->res < 0 || (cqe->res == 0 && !c->req_len)) {
		/* An error, or a client that left without asking. */
		conn_close(&br->ctl, c);
		return;
	}
	if (cqe->res == 0) {
		/* The client ended its side mid-line. A request ends with
		 * '\n' (ctl.h), so this is not one; the client may still be
		 * reading, and is told why nothing ran. */
		conn_reject(br, c, -EINVAL,
			    "request not terminated by a newline");
		return;
	}
	n = (uint32_t)cqe->res;
	c->req_len += n;
	if (memchr(c->req + c->req_len - n, '\n', n))
		conn_serve(br, c);
	else if (c->req_len == UB_CTL_REQ_MAX)
		conn_reject(br, c, -EMSGSIZE, "request longer than %d bytes",
			    UB_CTL_REQ_MAX);
	else if (!conn_req_grow(c))
		conn_reject(br, c, -ENOMEM, "out of memory");
	else if (conn_recv(br, c))
		conn_close(&br->ctl, c);
}

static void on_send(struct ub_bridge *br, struct ub_conn *c,
		    const struct ub_cqe *cqe)
{
	/* Past its deadline, a reader too slow loses the rest, even when
	 * this send beat the cancel. */
	if (cqe->res <= 0 || c->cancelled) {
		conn_close(&br->ctl, c);
		return;
	}
	c->sent += (size_t)cqe->res;
	if (c->sent < c->reply.len)
		conn_send_rest(br, c);
	else
		conn_close(&br->ctl, c);
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
 *
 * The control thread calls this every turn: the table is walked only when
 * a deadline may have come (next_due), not per turn.
 */
uint64_t ub_ctl_expire(struct ub_bridge *br)
{
	struct ub_ctl_server *s = &br->ctl;
	uint64_t next = UINT64_MAX;

	if (!s->nconns)
		return UINT64_MAX;
	if (br->now < s->next_due)
		return s->next_due;
	for (unsigned i = 0; i < UB_CONNS_MAX; i++) {
		struct ub_conn *c = &s->conns[i];

		if (c->fd < 0 || c->cancelled)
			continue;
		if (br->now < c->deadline) {
			next = c->deadline < next ? c->deadline : next;
			continue;
		}
		if (c->answering)
			ub_log_rl(UB_LOG_WARN, "%s: control client too slow "
				  "reading its reply, dropped", br->name);
		else
			ub_log_rl(UB_LOG_WARN, "%s: control client did not "
				  "finish its request in %d ms, dropped",
				  br->name, UB_CONN_REQ_TIMEOUT_MS);
		ub_ring_cancel(ctl_ring(br), ub_ud_make(UB_OP_CONN_RECV, i, 0));
		ub_ring_cancel(ctl_ring(br), ub_ud_make(UB_OP_CONN_SEND, i, 0));
		c->cancelled = true;
	}
	s->next_due = next;
	return next;
}
