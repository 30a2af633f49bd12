/* SPDX-License-Identifier: MIT */
/*
 * The rtnetlink handle and its requests (include/ubridge/netlink.h), and
 * the CIDR parsers. Messages are built by netlink_msg.c; this file sends
 * them and reads the answers.
 *
 * One transaction: number the request, send it, read datagrams and run
 * mnl_cb_run2() over them until the request is answered: an NLMSG_ERROR
 * (error 0 is the acknowledgement) or, for a dump, NLMSG_DONE. Every reply
 * must be read to its end even when we stop caring, or its leftovers would
 * be taken for the answer to the next request (and fail its sequence
 * check); ub_nl_drain__() does that.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>

#include "netlink_msg.h"

/*
 * Receive buffer. A dump packs as many messages into a datagram as fit the
 * kernel's skb, up to 32 KiB; a smaller buffer truncates them.
 */
#define UB_NL_RCVBUF 32768
/* How often a dump is restarted when the kernel reports it inconsistent. */
#define UB_NL_DUMP_TRIES 8

struct ub_nl {
	struct mnl_socket *sock;
	unsigned int portid;
	uint32_t seq;
	char errmsg[UB_NL_ERRMSG_MAX];
	char rcv[UB_NL_RCVBUF] __attribute__((aligned(NLMSG_ALIGNTO)));
};

/* ---- addresses ---- */

static int ub_cidr_parse__(const char *s, bool with_prefix, struct ub_cidr *out)
{
	char text[INET6_ADDRSTRLEN];
	struct ub_cidr c = { 0 };
	const char *slash, *p;
	unsigned int max, len = 0;
	size_t n;

	if (!s)
		return -EINVAL;
	slash = strchr(s, '/');
	if (!!slash != with_prefix)
		return -EINVAL;
	n = slash ? (size_t)(slash - s) : strlen(s);
	if (n == 0 || n >= sizeof(text))
		return -EINVAL;
	memcpy(text, s, n);
	text[n] = '\0';
	/*
	 * inet_pton() is strict on its own: exactly four decimal octets, no
	 * leading zeros, nothing after the address.
	 */
	c.family = memchr(text, ':', n) ? AF_INET6 : AF_INET;
	if (inet_pton(c.family, text, c.addr) != 1)
		return -EINVAL;
	max = c.family == AF_INET ? 32 : 128;
	if (!with_prefix) {
		len = max;
	} else {
		/* One to three digits, no sign, no leading zero, no blank. */
		p = slash + 1;
		n = strlen(p);
		if (n == 0 || n > 3 || (p[0] == '0' && n > 1))
			return -EINVAL;
		for (size_t i = 0; i < n; i++) {
			if (p[i] < '0' || p[i] > '9')
				return -EINVAL;
			len = len * 10 + (unsigned int)(p[i] - '0');
		}
		if (len > max)
			return -EINVAL;
	}
	c.prefix = (uint8_t)len;
	*out = c;
	return 0;
}

int ub_cidr_parse(const char *s, struct ub_cidr *out)
{
	return ub_cidr_parse__(s, true, out);
}

int ub_addr_parse(const char *s, struct ub_cidr *out)
{
	return ub_cidr_parse__(s, false, out);
}

int ub_cidr_fmt(const struct ub_cidr *c, bool with_prefix, char *buf,
		size_t len)
{
	char text[INET6_ADDRSTRLEN];
	int ret;

	if (c->family != AF_INET && c->family != AF_INET6)
		return -EINVAL;
	if (!inet_ntop(c->family, c->addr, text, sizeof(text)))
		return -errno;
	if (with_prefix)
		ret = snprintf(buf, len, "%s/%u", text, c->prefix);
	else
		ret = snprintf(buf, len, "%s", text);
	return ret < 0 || (size_t)ret >= len ? -ENOSPC : 0;
}

/* ---- the handle ---- */

int ub_nl_open(struct ub_nl **out)
{
	int one = 1;
	struct ub_nl *nl;
	int ret;

	nl = calloc(1, sizeof(*nl));
	if (!nl)
		return -ENOMEM;
	nl->sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl->sock) {
		ret = -errno;
		goto err_free;
	}
	/*
	 * Extended ACKs carry the kernel's reason for a refusal; capped ACKs
	 * leave out the echo of our request. Both are optional: an old
	 * kernel without them still answers, just more tersely.
	 */
	mnl_socket_setsockopt(nl->sock, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(nl->sock, NETLINK_CAP_ACK, &one, sizeof(one));
	if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = -errno;
		goto err_close;
	}
	nl->portid = mnl_socket_get_portid(nl->sock);
	*out = nl;
	return 0;

err_close:
	mnl_socket_close(nl->sock);
err_free:
	free(nl);
	return ret;
}

int ub_nl_open_nsfd(int nsfd, struct ub_nl **out)
{
	int saved, ret;

	/*
	 * A netlink socket belongs to the namespace it was created in, for
	 * life: enter the target, create the socket, come back. setns()
	 * moves only the calling thread, so the way back is the thread's own
	 * namespace (/proc/thread-self), not the process's.
	 */
	saved = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (saved < 0)
		return -errno;
	if (setns(nsfd, CLONE_NEWNET) < 0) {
		ret = -errno;
		goto out_close;
	}
	ret = ub_nl_open(out);
	if (setns(saved, CLONE_NEWNET) < 0) {
		if (!ret)
			ub_nl_close(*out);
		ret = -ENOTRECOVERABLE;
	}
out_close:
	close(saved);
	return ret;
}

int ub_nl_open_netns(const char *name, struct ub_nl **out)
{
	int fd, ret;

	fd = ub_netns_open(name);
	if (fd < 0)
		return fd;
	ret = ub_nl_open_nsfd(fd, out);
	close(fd);
	return ret;
}

void ub_nl_close(struct ub_nl *nl)
{
	if (!nl)
		return;
	mnl_socket_close(nl->sock);
	free(nl);
}

const char *ub_nl_errmsg(const struct ub_nl *nl)
{
	return nl->errmsg;
}

const char *ub_nl_strerror(const struct ub_nl *nl, int err, char *buf,
			   size_t len)
{
	const char *ext = nl ? nl->errmsg : "";

	snprintf(buf, len, "%s%s%s%s", strerror(-err), *ext ? " (" : "", ext,
		 *ext ? ")" : "");
	return buf;
}

/* ---- transactions ---- */

struct ub_nl_ctx {
	struct ub_nl *nl;
	mnl_cb_t cb;
	void *data;
	bool answered;	/* the terminal ERROR or DONE was processed */
};

static int ub_nl_extack_cb__(const struct nlattr *attr, void *data)
{
	struct ub_nl *nl = data;

	if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG &&
	    mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
		snprintf(nl->errmsg, sizeof(nl->errmsg), "%s",
			 mnl_attr_get_str(attr));
	return MNL_CB_OK;
}

static int ub_nl_error_cb__(const struct nlmsghdr *nlh, void *data)
{
	const struct nlmsgerr *err = mnl_nlmsg_get_payload(nlh);
	size_t plen = mnl_nlmsg_get_payload_len(nlh), off;
	struct ub_nl_ctx *ctx = data;

	ctx->answered = true;
	if (plen < sizeof(*err)) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	if (err->error == 0)
		return MNL_CB_STOP;
	/*
	 * The extended ACK's attributes follow the nlmsgerr and, unless the
	 * kernel capped it, the echo of our request.
	 */
	if (nlh->nlmsg_flags & NLM_F_ACK_TLVS) {
		off = sizeof(*err);
		if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
			off += NLMSG_ALIGN(err->msg.nlmsg_len) -
			       sizeof(struct nlmsghdr);
		if (err->msg.nlmsg_len >= sizeof(struct nlmsghdr) && off < plen)
			mnl_attr_parse(nlh, (unsigned int)off,
				       ub_nl_extack_cb__, ctx->nl);
	}
	errno = err->error < 0 ? -err->error : err->error;
	return MNL_CB_ERROR;
}

static int ub_nl_done_cb__(const struct nlmsghdr *nlh, void *data)
{
	struct ub_nl_ctx *ctx = data;
	int err;

	ctx->answered = true;
	/* A dump that failed half-way says why in its DONE. */
	if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(err)) {
		memcpy(&err, mnl_nlmsg_get_payload(nlh), sizeof(err));
		if (err < 0) {
			errno = -err;
			return MNL_CB_ERROR;
		}
	}
	return MNL_CB_STOP;
}

static int ub_nl_data_cb__(const struct nlmsghdr *nlh, void *data)
{
	struct ub_nl_ctx *ctx = data;

	return ctx->cb ? ctx->cb(nlh, ctx->data) : MNL_CB_OK;
}

/*
 * Replacing libmnl's control callbacks replaces all of them: types without
 * one here (NOOP, OVERRUN) are skipped.
 */
static const mnl_cb_t ub_nl_ctl_cbs[NLMSG_MIN_TYPE] = {
	[NLMSG_ERROR] = ub_nl_error_cb__,
	[NLMSG_DONE] = ub_nl_done_cb__,
};

/* True if 'buf' holds the terminal message (ERROR or DONE) of 'seq'. */
static bool ub_nl_has_end__(const void *buf, size_t n, uint32_t seq)
{
	const struct nlmsghdr *nlh = buf;
	int len = (int)n;

	for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
		if (nlh->nlmsg_seq == seq && (nlh->nlmsg_type == NLMSG_ERROR ||
					      nlh->nlmsg_type == NLMSG_DONE))
			return true;
	}
	return false;
}

/* Reads and discards the rest of the answer to 'seq'. */
static void ub_nl_drain__(struct ub_nl *nl, uint32_t seq)
{
	ssize_t n;

	do {
		n = mnl_socket_recvfrom(nl->sock, nl->rcv, sizeof(nl->rcv));
		if (n < 0 && errno == EINTR)
			continue;
		/* A broken socket fails the next request by itself. */
		if (n <= 0)
			return;
	} while (!ub_nl_has_end__(nl->rcv, (size_t)n, seq));
}

/*
 * Sends the request at 'nlh' and runs 'cb' (may be NULL) on each data
 * message of the answer. Returns 0 once answered, or -errno: the kernel's
 * error, the callback's (it returns MNL_CB_ERROR with errno set), or
 * -EINTR for a dump the kernel found inconsistent (the caller restarts it).
 * Whatever the outcome, the whole answer has been read.
 */
static int ub_nl_talk__(struct ub_nl *nl, struct nlmsghdr *nlh, mnl_cb_t cb,
			void *data)
{
	struct ub_nl_ctx ctx = { .nl = nl, .cb = cb, .data = data };
	uint32_t seq;
	ssize_t n;
	int ret;

	nl->errmsg[0] = '\0';
	seq = ++nl->seq;
	/* libmnl ignores sequence 0; keep every request checked. */
	if (!seq)
		seq = nl->seq = 1;
	nlh->nlmsg_seq = seq;
	if (mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		n = mnl_socket_recvfrom(nl->sock, nl->rcv, sizeof(nl->rcv));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			/* ENOSPC: a datagram was truncated; drained below. */
			ret = -errno;
			break;
		}
		/* libmnl's prototype lacks a const; it only reads the array. */
		ret = mnl_cb_run2(nl->rcv, (size_t)n, seq, nl->portid,
				  ub_nl_data_cb__, &ctx,
				  (mnl_cb_t *)ub_nl_ctl_cbs, NLMSG_MIN_TYPE);
		if (ret < 0) {
			ret = -errno;
			/*
			 * mnl_cb_run2 stops before the end of this datagram:
			 * the terminal message may be in it still.
			 */
			if (ub_nl_has_end__(nl->rcv, (size_t)n, seq))
				ctx.answered = true;
			break;
		}
		if (ret == MNL_CB_STOP) {
			ret = 0;
			break;
		}
	}
	if (ret && !ctx.answered)
		ub_nl_drain__(nl, seq);
	return ret;
}

/* ---- links ---- */

struct ub_nl_link_req {
	struct ub_link_info *out;
	bool found;
};

static int ub_nl_link_cb__(const struct nlmsghdr *nlh, void *data)
{
	struct ub_nl_link_req *req = data;

	if (ub_nl_parse_link(nlh, req->out) < 0) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	req->found = true;
	return MNL_CB_OK;
}

int ub_nl_link_get(struct ub_nl *nl, const char *name,
		   struct ub_link_info *out)
{
	struct ub_nl_link_req req = { .out = out };
	_Alignas(struct nlmsghdr) char buf[UB_NL_MSG_SIZE];
	int ret;

	ret = ub_nl_msg_link_get(buf, name);
	if (ret < 0)
		return ret;
	ret = ub_nl_talk__(nl, (struct nlmsghdr *)buf, ub_nl_link_cb__, &req);
	if (!ret && !req.found)
		ret = -ENODEV;
	return ret;
}

static int ub_nl_ifindex__(struct ub_nl *nl, const char *name)
{
	struct ub_link_info li;
	int ret;

	ret = ub_nl_link_get(nl, name, &li);
	return ret < 0 ? ret : li.ifindex;
}

int ub_nl_veth_add(struct ub_nl *nl, const struct ub_veth_cfg *cfg)
{
	_Alignas(struct nlmsghdr) char buf[UB_NL_MSG_SIZE];
	int ret;

	ret = ub_nl_msg_veth(buf, cfg);
	if (ret < 0)
		return ret;
	return ub_nl_talk__(nl, (struct nlmsghdr *)buf, NULL, NULL);
}

int ub_nl_link_del(struct ub_nl *nl, const char *name)
{
	_Alignas(struct nlmsghdr) char buf[UB_NL_MSG_SIZE];
	int ret;

	ret = ub_nl_msg_link_del(buf, name);
	if (ret < 0)
		return ret;
	return ub_nl_talk__(nl, (struct nlmsghdr *)buf, NULL, NULL);
}

int ub_nl_link_set(struct ub_nl *nl, const char *name,
		   const struct ub_link_set *set)
{
	_Alignas(struct nlmsghdr) char buf[UB_NL_MSG_SIZE];
	int ifindex, ret;

	/*
	 * By index: a rename carries the new name in IFLA_IFNAME, so the
	 * name cannot also say which link is meant.
	 */
	ifindex = ub_nl_ifindex__(nl, name);
	if (ifindex < 0)
		return ifindex;
	ret = ub_nl_msg_link_set(buf, ifindex, set);
	if (ret < 0)
		return ret;
	return ub_nl_talk__(nl, (struct nlmsghdr *)buf, NULL, NULL);
}

int ub_nl_link_up(struct ub_nl *nl, const char *name, bool up)
{
	struct ub_link_set set = { .mask = UB_LINK_SET_UP, .up = up };

	return ub_nl_link_set(nl, name, &set);
}

/* ---- addresses and routes ---- */

static int ub_nl_addr_change__(struct ub_nl *nl, uint16_t type,
			       const char *name, const struct ub_cidr *c)
{
	_Alignas(struct nlmsghdr) char buf[UB_NL_MSG_SIZE];
	int ifindex, ret;

	ifindex = ub_nl_ifindex__(nl, name);
	if (ifindex < 0)
		return ifindex;
	ret = ub_nl_msg_addr(buf, type, ifindex, c);
	if (ret < 0)
		return ret;
	return ub_nl_talk__(nl, (struct nlmsghdr *)buf, NULL, NULL);
}

int ub_nl_addr_add(struct ub_nl *nl, const char *name, const struct ub_cidr *c)
{
	return ub_nl_addr_change__(nl, RTM_NEWADDR, name, c);
}

int ub_nl_addr_del(struct ub_nl *nl, const char *name, const struct ub_cidr *c)
{
	return ub_nl_addr_change__(nl, RTM_DELADDR, name, c);
}

struct ub_nl_addr_req {
	int ifindex;
	struct ub_cidr *out;
	size_t max;
	size_t count;
};

static int ub_nl_addr_cb__(const struct nlmsghdr *nlh, void *data)
{
	struct ub_nl_addr_req *req = data;
	struct ub_cidr c;
	int ifindex;

	/* Other families (none today) are not ours to list. */
	if (ub_nl_parse_addr(nlh, &ifindex, &c) < 0 || ifindex != req->ifindex)
		return MNL_CB_OK;
	if (req->count < req->max)
		req->out[req->count] = c;
	req->count++;
	return MNL_CB_OK;
}

int ub_nl_addr_list(struct ub_nl *nl, const char *name, struct ub_cidr *out,
		    size_t max)
{
	struct ub_nl_addr_req req = { .out = out, .max = max };
	_Alignas(struct nlmsghdr) char buf[UB_NL_MSG_SIZE];
	int ret, tries = 0;

	req.ifindex = ub_nl_ifindex__(nl, name);
	if (req.ifindex < 0)
		return req.ifindex;
	/*
	 * The kernel filters a dump by link only on sockets in strict mode;
	 * the whole table is small, so filter here.
	 */
	do {
		req.count = 0;
		ret = ub_nl_msg_addr_dump(buf, AF_UNSPEC);
		if (ret < 0)
			return ret;
		ret = ub_nl_talk__(nl, (struct nlmsghdr *)buf, ub_nl_addr_cb__,
				   &req);
	} while (ret == -EINTR && ++tries < UB_NL_DUMP_TRIES);
	if (ret)
		return ret;
	return req.count > (size_t)INT32_MAX ? INT32_MAX : (int)req.count;
}

int ub_nl_route_add(struct ub_nl *nl, const struct ub_route *rt,
		    const char *oif)
{
	_Alignas(struct nlmsghdr) char buf[UB_NL_MSG_SIZE];
	int ifindex = 0, ret;

	if (oif) {
		ifindex = ub_nl_ifindex__(nl, oif);
		if (ifindex < 0)
			return ifindex;
	}
	ret = ub_nl_msg_route(buf, rt, ifindex);
	if (ret < 0)
		return ret;
	return ub_nl_talk__(nl, (struct nlmsghdr *)buf, NULL, NULL);
}

int ub_nl_step_err(char *err, size_t errlen, const char *step, int ret,
		   const struct ub_nl *nl)
{
	char why[UB_NL_ERRMSG_MAX + 64];

	snprintf(err, errlen, "%s: %s", step,
		 ub_nl_strerror(nl, ret, why, sizeof(why)));
	return ret;
}

int ub_nl_iface_setup(int nsfd, const char *ifname, const struct ub_cidr *addrs,
		      size_t naddrs, const struct ub_route *routes,
		      size_t nroutes, char *err, size_t errlen)
{
	char step[2 * UB_CIDR_STRLEN + 32], a[UB_CIDR_STRLEN];
	char g[UB_CIDR_STRLEN];
	struct ub_nl *nl;
	int ret;

	ret = ub_nl_open_nsfd(nsfd, &nl);
	if (ret)
		return ub_nl_step_err(err, errlen, "netlink in the namespace",
					ret, NULL);
	if ((ret = ub_nl_link_up(nl, "lo", true))) {
		ub_nl_step_err(err, errlen, "loopback up", ret, nl);
		goto out;
	}
	for (size_t i = 0; i < naddrs; i++) {
		if ((ret = ub_nl_addr_add(nl, ifname, &addrs[i]))) {
			ub_cidr_fmt(&addrs[i], true, a, sizeof(a));
			snprintf(step, sizeof(step), "address %s", a);
			ub_nl_step_err(err, errlen, step, ret, nl);
			goto out;
		}
	}
	if ((ret = ub_nl_link_up(nl, ifname, true))) {
		ub_nl_step_err(err, errlen, "link up", ret, nl);
		goto out;
	}
	for (size_t i = 0; i < nroutes; i++) {
		if ((ret = ub_nl_route_add(nl, &routes[i], ifname))) {
			ub_cidr_fmt(&routes[i].dst, true, a, sizeof(a));
			if (routes[i].has_gw)
				ub_cidr_fmt(&routes[i].gw, false, g, sizeof(g));
			snprintf(step, sizeof(step), "%s%s%s%s",
				 routes[i].dst.prefix ? "route " : "default route",
				 routes[i].dst.prefix ? a : "",
				 routes[i].has_gw ? " via " : "",
				 routes[i].has_gw ? g : "");
			ub_nl_step_err(err, errlen, step, ret, nl);
			goto out;
		}
	}
out:
	ub_nl_close(nl);
	return ret;
}

/* ---- link events ---- */

int ub_nl_monitor_open(struct ub_nl **out)
{
	int grp = RTNLGRP_LINK, ret;

	ret = ub_nl_open(out);
	if (ret)
		return ret;
	if (mnl_socket_setsockopt((*out)->sock, NETLINK_ADD_MEMBERSHIP, &grp,
				  sizeof(grp)) < 0) {
		ret = -errno;
		ub_nl_close(*out);
		*out = NULL;
	}
	return ret;
}

int ub_nl_fd(const struct ub_nl *nl)
{
	return mnl_socket_get_fd(nl->sock);
}

int ub_nl_monitor_parse(const void *buf, size_t len,
			void (*fn)(bool gone, const struct ub_link_info *li,
				   void *arg),
			void *arg)
{
	const struct nlmsghdr *nlh = buf;
	int left = (int)len, n = 0;

	for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
		struct ub_link_info li = { 0 };
		const struct ifinfomsg *ifm;

		if (nlh->nlmsg_type == RTM_NEWLINK) {
			if (ub_nl_parse_link(nlh, &li))
				continue;
			fn(false, &li, arg);
		} else if (nlh->nlmsg_type == RTM_DELLINK &&
			   nlh->nlmsg_len >= mnl_nlmsg_size(sizeof(*ifm))) {
			ifm = mnl_nlmsg_get_payload(nlh);
			li.ifindex = ifm->ifi_index;
			fn(true, &li, arg);
		} else {
			continue;
		}
		n++;
	}
	return n;
}
