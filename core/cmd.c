/* SPDX-License-Identifier: MIT */
/*
 * The control socket's commands: one registry of (object, verb, argument
 * counts, handler). A handler either succeeds (records written, returns
 * 0) or writes the status line with its reason and returns -errno; the
 * daemon keeps forwarding either way.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "bridge_private.h"
#include "capture.h"
#include "cmd.h"
#include "gateway.h"
#include "netns.h"
#include "port.h"

/* The request being served: its reply, and the client's connection. */
struct ub_cmd_ctx {
	struct ub_ctl_reply *r;
	int fd;
};

/*
 * A handler returns 0 (records written; the status follows), -errno
 * (status written with the reason), or UB_CMD_ANSWERED when it answered on
 * the connection itself (a stream follows; nothing more is sent).
 */
#define UB_CMD_ANSWERED 1

struct ub_cmd {
	const char *obj;
	const char *verb;
	int min_args; /* after obj and verb */
	int max_args;
	bool changes; /* success changes the configuration (state file) */
	const char *usage;
	int (*fn)(struct ub_bridge *br, int argc, char **argv,
		  struct ub_cmd_ctx *ctx);
};

static int fail(struct ub_ctl_reply *r, int err, const char *fmt, ...)
	UB_PRINTF(3, 4);

static int fail(struct ub_ctl_reply *r, int err, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ub_ctl_reply_status(r, err, "%s", msg);
	return err;
}

/* A decimal number in [0, max]: digits only, no sign, no spaces. */
static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	*out = strtoull(s, &end, 10);
	if (errno || *end || *out > max)
		return -EINVAL;
	return 0;
}

static struct ub_port *port_arg(struct ub_bridge *br, const char *name,
				struct ub_ctl_reply *r)
{
	struct ub_port *p = ub_port_find(&br->ports, name);

	if (!p)
		fail(r, -ENOENT, "%s is not a port of bridge %s", name,
		     br->name);
	return p;
}

/* A MAC address argument; a bad one gets the status line. */
static int mac_arg(const char *s, struct ub_mac *mac, struct ub_ctl_reply *r)
{
	if (ub_mac_parse(s, mac))
		return fail(r, -EINVAL,
			    "invalid MAC address \"%s\" (expected "
			    "aa:bb:cc:dd:ee:ff)", s);
	return 0;
}

static int vlan_arg(int argc, char **argv, int i, uint16_t *vid,
		    struct ub_ctl_reply *r)
{
	uint64_t v;

	*vid = 0;
	if (i == argc)
		return 0;
	if (strcmp(argv[i], "vlan") || i + 2 != argc)
		return fail(r, -EINVAL, "unexpected \"%s\"; expected "
			    "\"vlan VID\"", argv[i]);
	if (parse_u64(argv[i + 1], 4094, &v))
		return fail(r, -EINVAL,
			    "invalid VLAN id \"%s\" (expected 0 to 4094)",
			    argv[i + 1]);
	*vid = (uint16_t)v;
	return 0;
}

/* ---- port ---- */

const char *const ub_cap_policy_names[2] = {
	[UB_FDB_CAP_NOLEARN] = "nolearn",
	[UB_FDB_CAP_DROP] = "drop",
};

/*
 * One "max-learned N" or "policy drop|nolearn" option of "port add|set"
 * into 'cap'. Returns 0, -ENOENT when 'k' is neither (the caller judges
 * it), or -EINVAL with the status line written.
 */
static int port_cap_opt(struct ub_bridge *br, const char *k, const char *v,
			struct ub_fdb_port_info *cap, struct ub_ctl_reply *r)
{
	uint64_t n;

	if (!strcmp(k, "max-learned")) {
		if (parse_u64(v, br->max_learned, &n))
			return fail(r, -EINVAL, "invalid max-learned \"%s\" "
				    "(0 to %u, the bridge's own cap; 0: no cap "
				    "for the port)", v, br->max_learned);
		cap->max_learned = (uint32_t)n;
		return 0;
	}
	if (strcmp(k, "policy"))
		return -ENOENT;
	for (unsigned i = 0; i < UB_ARRAY_SIZE(ub_cap_policy_names); i++) {
		if (!strcmp(v, ub_cap_policy_names[i])) {
			cap->policy = (enum ub_fdb_cap_policy)i;
			return 0;
		}
	}
	return fail(r, -EINVAL, "invalid policy \"%s\" (drop or nolearn)", v);
}

/*
 * "port add IFNAME [type tap] [mtu N] [max-learned N] [policy P]", and
 * for the state file only (with the same cap options),
 * "port add HOST netns NAME peer IF made yes|no": the host end of a veth
 * that "netns add|attach" made before a restart, taken back with its
 * record.
 */
static int cmd_port_add(struct ub_bridge *br, int argc, char **argv,
			struct ub_cmd_ctx *ctx)
{
	struct ub_ctl_reply *r = ctx->r;
	const char *netns = NULL, *peer = "eth0";
	struct ub_fdb_port_info cap = { 0 };
	bool tap = false, made = false;
	struct ub_port *p;
	uint64_t mtu = 0;
	char err[300];
	int ret;

	for (int i = 1; i < argc; i += 2) {
		const char *k = argv[i], *v = argv[i + 1];

		if (i + 1 == argc)
			return fail(r, -EINVAL, "\"%s\" needs a value", k);
		ret = port_cap_opt(br, k, v, &cap, r);
		if (ret != -ENOENT) {
			if (ret)
				return ret;
			continue;
		}
		if (!strcmp(k, "type") && !strcmp(v, "tap"))
			tap = true;
		else if (!strcmp(k, "mtu") && !parse_u64(v, 65535, &mtu) &&
			 mtu >= 68)
			continue;
		else if (!strcmp(k, "netns") && !ub_ctl_word_decode(argv[i + 1]))
			netns = argv[i + 1];
		else if (!strcmp(k, "peer"))
			peer = v;
		else if (!strcmp(k, "made"))
			made = !strcmp(v, "yes");
		else
			return fail(r, -EINVAL, "unexpected \"%s %s\" (type "
				    "tap, mtu 68 to 65535, max-learned N, "
				    "policy drop|nolearn)", k, v);
	}
	if (mtu && !tap)
		return fail(r, -EINVAL, "mtu is for the TAP ports the bridge "
			    "makes; an interface's own MTU is set with ip link");
	ret = tap ? ub_tap_add(br, argv[0], (uint32_t)mtu, NULL, err,
				   sizeof(err)) :
		    ub_port_open(br, ub_ctl_worker(br), argv[0], br->packet_ops,
				 err, sizeof(err));
	if (ret)
		return fail(r, ret, "%s", err);
	p = ub_port_find(&br->ports, argv[0]);
	ub_fdb_port_set_cap(br->fdb, ub_port_id(&br->ports, p),
			    cap.max_learned, cap.policy);
	if (netns)
		ub_ns_adopt(br, p, netns, peer, made);
	return 0;
}

/* "port set IFNAME [max-learned N] [policy drop|nolearn]": what is not
 * named stays as it was. */
static int cmd_port_set(struct ub_bridge *br, int argc, char **argv,
			struct ub_cmd_ctx *ctx)
{
	struct ub_ctl_reply *r = ctx->r;
	struct ub_port *p = port_arg(br, argv[0], r);
	struct ub_fdb_port_info cap;
	uint32_t id;
	int ret;

	if (!p)
		return -ENOENT;
	/* Its record is "gateway add", which carries no cap. */
	if (ub_gw_is_port(br, p))
		return fail(r, -EBUSY, "%s is the gateway: its learning is "
			    "not capped", p->name);
	if (argc % 2 == 0)
		return fail(r, -EINVAL, "options come in pairs: max-learned "
			    "N, policy drop|nolearn");
	id = ub_port_id(&br->ports, p);
	ub_fdb_port_get(br->fdb, id, &cap);
	for (int i = 1; i < argc; i += 2) {
		ret = port_cap_opt(br, argv[i], argv[i + 1], &cap, r);
		if (ret == -ENOENT)
			return fail(r, -EINVAL, "unknown option \"%s\" "
				    "(max-learned N, policy drop|nolearn)",
				    argv[i]);
		if (ret)
			return ret;
	}
	ub_fdb_port_set_cap(br->fdb, id, cap.max_learned, cap.policy);
	return 0;
}

static int cmd_port_del(struct ub_bridge *br, int argc, char **argv,
			struct ub_cmd_ctx *ctx)
{
	struct ub_ctl_reply *r = ctx->r;
	struct ub_port *p = port_arg(br, argv[0], r);

	if (!p)
		return -ENOENT;
	if (ub_gw_is_port(br, p))
		return fail(r, -EBUSY, "%s is the gateway: \"ubctl gateway "
			    "del\" removes it", p->name);
	ub_port_del(br, ub_ctl_worker(br), p);
	return 0;
}

static int cmd_port_show(struct ub_bridge *br, int argc, char **argv,
			 struct ub_cmd_ctx *ctx)
{
	struct ub_ctl_reply *r = ctx->r;
	for (uint32_t i = 0; i < br->ports.n; i++) {
		struct ub_port *p = ub_port_nth(&br->ports, i);
		char drops[UB_DROP__COUNT * 40], *d = drops;
		struct ub_fdb_port_info cap;

		if (p->io.ops->rx_dropped)
			p->drops[UB_DROP_QUEUE] += p->io.ops->rx_dropped(&p->io);
		for (int k = 0; k < UB_DROP__COUNT; k++)
			d += sprintf(d, " %s=%llu", ub_drop_names[k],
				     (unsigned long long)p->drops[k]);
		ub_fdb_port_get(br->fdb, br->ports.fwd[i], &cap);
		ub_ctl_reply_record(r,
				    "name=%s kind=%s ifindex=%d mtu=%u "
				    "state=%s learned_entries=%u max_learned=%u "
				    "policy=%s worker=%u "
				    "rx_packets=%llu rx_bytes=%llu "
				    "rx_learn_refused=%llu "
				    "tx_packets=%llu tx_bytes=%llu%s",
				    p->name, p->io.ops->kind, p->io.ifindex,
				    p->io.mtu, p->link_up ? "forwarding" : "down",
				    cap.learned_entries, cap.max_learned,
				    ub_cap_policy_names[cap.policy], p->worker,
				    (unsigned long long)p->rx_packets,
				    (unsigned long long)p->rx_bytes,
				    (unsigned long long)p->learn_refused,
				    (unsigned long long)p->tx_packets,
				    (unsigned long long)p->tx_bytes, drops);
	}
	return 0;
}

/* ---- fdb ---- */


static int fdb_show_one(const struct ub_fdb_entry_info *e, void *arg)
{
	struct ub_fdb_walk *ctx = arg;
	const struct ub_port *p = ub_port_by_id(&ctx->br->ports, e->port);
	char mac[UB_MAC_STRLEN];

	ub_mac_fmt(&e->mac, mac);
	/* "local": the port's own MAC, put there when it was attached. */
	if (e->is_static)
		ub_ctl_reply_record(ctx->r, "mac=%s vlan=%u port=%s type=%s",
				    mac, e->vid, p->name,
				    ub_mac_eq(&e->mac, &p->io.mac) ?
					    "local" : "static");
	else
		ub_ctl_reply_record(ctx->r,
				    "mac=%s vlan=%u port=%s type=learned age=%llu",
				    mac, e->vid, p->name,
				    (unsigned long long)(ctx->br->now -
							 e->last_seen) / 1000);
	return 0;
}

static int cmd_fdb_show(struct ub_bridge *br, int argc, char **argv,
			struct ub_cmd_ctx *ctx)
{
	struct ub_fdb_walk show = { br, ctx->r };

	ub_fdb_foreach(br->fdb, fdb_show_one, &show);
	return 0;
}

static int cmd_fdb_add(struct ub_bridge *br, int argc, char **argv,
		       struct ub_cmd_ctx *ctx)
{
	struct ub_ctl_reply *r = ctx->r;
	struct ub_port *p;
	struct ub_mac mac;
	uint16_t vid;
	int ret;

	if ((ret = mac_arg(argv[0], &mac, r)))
		return ret;
	if (ub_mac_is_mcast(&mac) || ub_mac_is_zero(&mac))
		return fail(r, -EINVAL,
			    "%s is not a unicast address", argv[0]);
	if (strcmp(argv[1], "dev"))
		return fail(r, -EINVAL, "unexpected \"%s\"; expected "
			    "\"dev IFNAME\"", argv[1]);
	if ((ret = vlan_arg(argc, argv, 3, &vid, r)))
		return ret;
	if (!(p = port_arg(br, argv[2], r)))
		return -ENOENT;
	ret = ub_fdb_add_static(br->fdb, &mac, vid, ub_port_id(&br->ports, p));
	if (ret)
		return fail(r, ret, "no room for another static entry");
	return 0;
}

static int cmd_fdb_del(struct ub_bridge *br, int argc, char **argv,
		       struct ub_cmd_ctx *ctx)
{
	struct ub_ctl_reply *r = ctx->r;
	struct ub_mac mac;
	uint16_t vid;
	int ret;

	if ((ret = mac_arg(argv[0], &mac, r)) ||
	    (ret = vlan_arg(argc, argv, 1, &vid, r)))
		return ret;
	if (ub_fdb_del(br->fdb, &mac, vid))
		return fail(r, -ENOENT, "no FDB entry for %s vlan %u", argv[0],
			    vid);
	return 0;
}

static int cmd_fdb_flush(struct ub_bridge *br, int argc, char **argv,
			 struct ub_cmd_ctx *ctx)
{
	struct ub_ctl_reply *r = ctx->r;
	uint32_t port = UB_FDB_PORT_ANY;
	struct ub_port *p;

	if (argc) {
		if (argc != 2 || strcmp(argv[0], "dev"))
			return fail(r, -EINVAL, "expected \"dev IFNAME\"");
		if (!(p = port_arg(br, argv[1], r)))
			return -ENOENT;
		port = ub_port_id(&br->ports, p);
	}
	ub_fdb_flush(br->fdb, port, false);
	return 0;
}

/* ---- settings, statistics, debugging ---- */

static int cmd_set_ageing(struct ub_bridge *br, int argc, char **argv,
			  struct ub_cmd_ctx *ctx)
{
	struct ub_ctl_reply *r = ctx->r;
	uint64_t s;

	/* The Linux bridge's limit is about 11.9 days; ours is a round 1e6 s. */
	if (parse_u64(argv[0], 1000000, &s))
		return fail(r, -EINVAL, "invalid ageing time \"%s\" (expected "
			    "seconds, 0 to 1000000)", argv[0]);
	ub_fdb_set_ageing(br->fdb, s * 1000);
	return 0;
}

/* Free receive buffers in every worker's pool. */
static uint32_t bufs_free(struct ub_bridge *br)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < br->nworkers; i++)
		n += ub_ring_bufs_free(br->workers[i].ring);
	return n;
}

static int cmd_stats(struct ub_bridge *br, int argc, char **argv,
		     struct ub_cmd_ctx *ctx)
{
	struct ub_ctl_reply *r = ctx->r;
	struct ub_fdb_stats st;

	ub_fdb_get_stats(br->fdb, &st);
	ub_ctl_reply_record(r,
			    "bridge=%s ports=%u ageing=%llu max_learned=%u "
			    "fdb_learned_entries=%u fdb_static_entries=%u "
			    "fdb_learned=%llu fdb_moved=%llu fdb_aged=%llu "
			    "fdb_evicted=%llu fdb_static_refused=%llu "
			    "fdb_port_refused=%llu bufs_free=%u",
			    br->name, br->ports.n,
			    (unsigned long long)ub_fdb_get_ageing(br->fdb) / 1000,
			    br->max_learned, st.learned_entries,
			    st.static_entries, (unsigned long long)st.learned,
			    (unsigned long long)st.moved,
			    (unsigned long long)st.aged,
			    (unsigned long long)st.evicted,
			    (unsigned long long)st.static_refused,
			    (unsigned long long)st.port_refused,
			    bufs_free(br));
	return 0;
}

static int cmd_time_warp(struct ub_bridge *br, int argc, char **argv,
			 struct ub_cmd_ctx *ctx)
{
	struct ub_ctl_reply *r = ctx->r;
	uint64_t ms;

	if (parse_u64(argv[0], UINT32_MAX, &ms))
		return fail(r, -EINVAL, "invalid time \"%s\" (expected "
			    "milliseconds)", argv[0]);
	br->warp_ms += ms;
	ub_bridge_clock(br);
	ub_fdb_age(br->fdb, br->now);
	return 0;
}

/* ---- captures ---- */

/* One "KEY VALUE" option of "capture start". */
static int cap_opt(struct ub_cap_req *req, char *key, char *val,
		   struct ub_ctl_reply *r)
{
	struct ub_capture_cfg *cfg = &req->cfg;
	uint64_t v;

	if (!strcmp(key, "dir")) {
		if (!strcmp(val, "in"))
			req->dir = UB_CAP_IN;
		else if (!strcmp(val, "out"))
			req->dir = UB_CAP_OUT;
		else if (!strcmp(val, "both"))
			req->dir = UB_CAP_IN | UB_CAP_OUT;
		else
			return fail(r, -EINVAL, "invalid direction \"%s\" "
				    "(in, out or both)", val);
		return 0;
	}
	if (!strcmp(key, "filter")) {
		if (ub_ctl_word_decode(val))
			return fail(r, -EINVAL, "badly encoded filter");
		cfg->filter = val;
		return 0;
	}
	/* The state file's: carry on in an existing file. */
	if (!strcmp(key, "append")) {
		cfg->append = !strcmp(val, "yes");
		return 0;
	}
	if (parse_u64(val, UINT32_MAX, &v) || !v)
		return fail(r, -EINVAL, "invalid %s \"%s\" (a number, 1 or more)",
			    key, val);
	if (!strcmp(key, "snaplen"))
		cfg->snaplen = (uint32_t)v;
	else if (!strcmp(key, "count"))
		cfg->count = v;
	else if (!strcmp(key, "rotate-size"))
		cfg->rotate_bytes = v << 20;
	else if (!strcmp(key, "rotate-files"))
		cfg->rotate_files = (uint32_t)v;
	else
		return fail(r, -EINVAL, "unknown capture option \"%s\"", key);
	return 0;
}

/* A capture's port: "all", or a port's name. */
static int cap_port(struct ub_bridge *br, const char *name,
		    struct ub_cap_req *req, struct ub_ctl_reply *r)
{
	struct ub_port *p;

	req->port_name = name;
	req->port = UB_CAP_ALL;
	if (!strcmp(name, "all"))
		return 0;
	if (!(p = port_arg(br, name, r)))
		return -ENOENT;
	req->port = ub_port_id(&br->ports, p);
	return 0;
}

/* The "KEY VALUE" options of a capture, from argv[first] on. */
static int cap_opts(struct ub_cap_req *req, int argc, char **argv, int first,
		    struct ub_ctl_reply *r)
{
	int ret;

	if ((argc - first) % 2)
		return fail(r, -EINVAL, "capture options come in pairs: "
			    "KEY VALUE");
	for (int i = first; i < argc; i += 2)
		if ((ret = cap_opt(req, argv[i], argv[i + 1], r)))
			return ret;
	if (req->cfg.rotate_files && !req->cfg.rotate_bytes)
		return fail(r, -EINVAL, "rotate-files needs rotate-size");
	if (req->cfg.rotate_bytes && !req->cfg.rotate_files)
		req->cfg.rotate_files = 10;
	return 0;
}

static int cmd_capture_start(struct ub_bridge *br, int argc, char **argv,
			     struct ub_cmd_ctx *ctx)
{
	struct ub_ctl_reply *r = ctx->r;
	struct ub_cap_req req = { 0 };
	struct ub_cap_slot *s;
	char err[300];
	int ret;

	if ((ret = cap_port(br, argv[0], &req, r)))
		return ret;
	if (ub_ctl_word_decode(argv[1]) || argv[1][0] != '/')
		return fail(r, -EINVAL, "the file must be an absolute path");
	req.cfg.path = argv[1];
	if ((ret = cap_opts(&req, argc, argv, 2, r)))
		return ret;
	s = ub_cap_start(&br->caps, &req, &ret, err, sizeof(err));
	if (!s)
		return fail(r, ret, "%s", err);
	ub_ctl_reply_record(r, "id=%u", s->id);
	return 0;
}

/*
 * "capture watch": the status line, then the capture as a pcap stream on
 * the same connection until the client goes away. The writer only writes
 * once the data path gave it a frame, which happens after this returns,
 * so the status line is always first on the wire.
 */
static int cmd_capture_watch(struct ub_bridge *br, int argc, char **argv,
			     struct ub_cmd_ctx *ctx)
{
	static const char ok[] = "errno=0\n";
	static const struct timeval stream_timeout = { .tv_sec = 2 };
	struct ub_ctl_reply *r = ctx->r;
	struct ub_cap_req req = { 0 };
	struct ub_cap_slot *s;
	char err[300];
	int ret;

	if ((ret = cap_port(br, argv[0], &req, r)) ||
	    (ret = cap_opts(&req, argc, argv, 1, r)))
		return ret;
	if (req.cfg.rotate_bytes)
		return fail(r, -EINVAL, "a stream is not rotated");
	req.cfg.stream = true;
	req.cfg.fd = fcntl(ctx->fd, F_DUPFD_CLOEXEC, 0);
	if (req.cfg.fd < 0)
		return fail(r, -errno, "cannot stream: %s", strerror(errno));
	/* A reader that stops reading fails the writer's writes after a
	 * while rather than holding it (and a stop waiting for it) forever;
	 * meanwhile the data path drops frames for this capture only. */
	setsockopt(req.cfg.fd, SOL_SOCKET, SO_SNDTIMEO, &stream_timeout,
		   sizeof(stream_timeout));
	s = ub_cap_start(&br->caps, &req, &ret, err, sizeof(err));
	if (!s)
		return fail(r, ret, "%s", err);
	if (send(ctx->fd, ok, sizeof(ok) - 1, MSG_DONTWAIT | MSG_NOSIGNAL) !=
	    (ssize_t)sizeof(ok) - 1) {
		ub_cap_stop(&br->caps, s);
		return fail(r, -EIO, "cannot answer the client");
	}
	return UB_CMD_ANSWERED;
}

static int cmd_capture_stop(struct ub_bridge *br, int argc, char **argv,
			    struct ub_cmd_ctx *ctx)
{
	struct ub_ctl_reply *r = ctx->r;
	uint64_t id;

	struct ub_cap_slot *s;

	if (!strcmp(argv[0], "all")) {
		ub_cap_stop_port(&br->caps, UB_CAP_ALL);
		return 0;
	}
	if (parse_u64(argv[0], UINT32_MAX, &id))
		return fail(r, -EINVAL, "invalid capture id \"%s\"", argv[0]);
	if (!(s = ub_cap_find(&br->caps, (uint32_t)id)))
		return fail(r, -ENOENT, "no capture %s", argv[0]);
	ub_cap_stop(&br->caps, s);
	return 0;
}

static int cmd_capture_show(struct ub_bridge *br, int argc, char **argv,
			    struct ub_cmd_ctx *ctx)
{
	struct ub_ctl_reply *r = ctx->r;
	static const char *const dirs[] = { "", "in", "out", "both" };

	for (unsigned i = 0; i < UB_CAPTURES_MAX; i++) {
		const struct ub_cap_slot *s = &br->caps.slot[i];
		struct ub_capture_stats st;
		char path[3 * sizeof(s->path)], filter[3 * sizeof(s->filter)];

		if (!s->cap)
			continue;
		ub_capture_get_stats(s->cap, &st);
		ub_ctl_word_encode(s->path, path, sizeof(path));
		ub_ctl_word_encode(s->filter[0] ? s->filter : "-", filter,
				   sizeof(filter));
		ub_ctl_reply_record(r,
				    "id=%u port=%s dir=%s file=%s filter=%s "
				    "frames=%llu bytes=%llu dropped=%llu%s%s",
				    s->id, s->port_name, dirs[s->dir], path,
				    filter, (unsigned long long)st.written,
				    (unsigned long long)st.bytes,
				    (unsigned long long)st.dropped,
				    st.error ? " error=" : "",
				    st.error ? "write-failed" : "");
	}
	return 0;
}

/* ---- namespaces ---- */

/* "netns add|attach" options, KEY VALUE pairs from argv[first] on. */
static int ns_opts(struct ub_ns_req *req, int argc, char **argv, int first,
		   struct ub_ctl_reply *r)
{
	uint64_t v;

	if ((argc - first) % 2)
		return fail(r, -EINVAL, "options come in pairs: KEY VALUE");
	for (int i = first; i < argc; i += 2) {
		const char *k = argv[i], *val = argv[i + 1];

		if (!strcmp(k, "addr")) {
			if (req->naddrs == UB_NS_ADDRS_MAX)
				return fail(r, -E2BIG, "at most %d addresses",
					    UB_NS_ADDRS_MAX);
			req->addrs[req->naddrs++] = val;
		} else if (!strcmp(k, "gw")) {
			req->gw = val;
		} else if (!strcmp(k, "ifname")) {
			req->ifname = val;
		} else if (!strcmp(k, "mac")) {
			if (ub_mac_parse(val, &req->mac) ||
			    ub_mac_is_mcast(&req->mac) ||
			    ub_mac_is_zero(&req->mac))
				return fail(r, -EINVAL, "invalid MAC address "
					    "\"%s\" (a unicast "
					    "aa:bb:cc:dd:ee:ff)", val);
			req->has_mac = true;
		} else if (!strcmp(k, "mtu")) {
			if (parse_u64(val, 65535, &v) || v < 68)
				return fail(r, -EINVAL, "invalid MTU \"%s\" "
					    "(68 to 65535)", val);
			req->mtu = (uint32_t)v;
		} else {
			return fail(r, -EINVAL, "unknown option \"%s\"", k);
		}
	}
	return 0;
}

static int cmd_netns_add(struct ub_bridge *br, int argc, char **argv,
			 struct ub_cmd_ctx *ctx)
{
	struct ub_ns_req req = { .name = argv[0], .create = true };
	char err[400];
	int ret;

	if ((ret = ns_opts(&req, argc, argv, 1, ctx->r)))
		return ret;
	ret = ub_ns_attach(br, &req, err, sizeof(err));
	/* Long names are cut in the message; the reason must fit. */
	return ret ? fail(ctx->r, ret, "netns add %.40s: %s", argv[0], err) : 0;
}

static int cmd_netns_attach(struct ub_bridge *br, int argc, char **argv,
			    struct ub_cmd_ctx *ctx)
{
	struct ub_ns_req req = { .name = argv[0] };
	char err[400];
	uint64_t pid;
	int ret, first = 1;

	if (!strcmp(argv[0], "pid")) {
		if (argc < 2 || parse_u64(argv[1], INT32_MAX, &pid) || !pid)
			return fail(ctx->r, -EINVAL, "expected \"pid PID\"");
		req.name = NULL;
		req.pid = (int)pid;
		first = 2;
	}
	if ((ret = ns_opts(&req, argc, argv, first, ctx->r)))
		return ret;
	ret = ub_ns_attach(br, &req, err, sizeof(err));
	return ret ? fail(ctx->r, ret, "netns attach: %s", err) : 0;
}

static int cmd_netns_del(struct ub_bridge *br, int argc, char **argv,
			 struct ub_cmd_ctx *ctx)
{
	char err[400];
	int ret = ub_ns_del(br, argv[0], err, sizeof(err));

	return ret ? fail(ctx->r, ret, "netns del %.40s: %s", argv[0], err) : 0;
}

static int cmd_netns_show(struct ub_bridge *br, int argc, char **argv,
			  struct ub_cmd_ctx *ctx)
{
	ub_ns_show(br, ctx->r);
	return 0;
}

/* ---- gateway and NAT ---- */

static int cmd_gateway_add(struct ub_bridge *br, int argc, char **argv,
			   struct ub_cmd_ctx *ctx)
{
	char err[300];
	int ret = ub_gw_add(br, argv[0], err, sizeof(err));

	return ret ? fail(ctx->r, ret, "%s", err) : 0;
}

static int cmd_gateway_del(struct ub_bridge *br, int argc, char **argv,
			   struct ub_cmd_ctx *ctx)
{
	char err[300];
	int ret = ub_gw_del(br, err, sizeof(err));

	return ret ? fail(ctx->r, ret, "%s", err) : 0;
}

static int cmd_gateway_show(struct ub_bridge *br, int argc, char **argv,
			    struct ub_cmd_ctx *ctx)
{
	ub_gw_show(br, ctx->r);
	return 0;
}

static int cmd_nat(struct ub_bridge *br, int argc, char **argv,
		   struct ub_cmd_ctx *ctx)
{
	char err[300];
	int ret;

	if (strcmp(argv[0], "on") && strcmp(argv[0], "off"))
		return fail(ctx->r, -EINVAL, "usage: nat on|off");
	ret = ub_nat_set(br, !strcmp(argv[0], "on"), err, sizeof(err));
	return ret ? fail(ctx->r, ret, "%s", err) : 0;
}

static const struct ub_cmd cmds[] = {
	{ "port", "add", 1, 11, true, "port add IFNAME [type tap] [mtu N] "
	  "[max-learned N] [policy drop|nolearn]", cmd_port_add },
	{ "port", "set", 3, 5, true, "port set IFNAME [max-learned N] "
	  "[policy drop|nolearn]", cmd_port_set },
	{ "port", "del", 1, 1, true, "port del IFNAME", cmd_port_del },
	{ "port", "show", 0, 0, false, "port show", cmd_port_show },
	{ "fdb", "show", 0, 0, false, "fdb show", cmd_fdb_show },
	{ "fdb", "add", 3, 5, true, "fdb add MAC dev IFNAME [vlan VID]",
	  cmd_fdb_add },
	{ "fdb", "del", 1, 3, true, "fdb del MAC [vlan VID]", cmd_fdb_del },
	{ "fdb", "flush", 0, 2, false, "fdb flush [dev IFNAME]", cmd_fdb_flush },
	{ "set", "ageing", 1, 1, true, "set ageing SECONDS", cmd_set_ageing },
	{ "stats", NULL, 0, 0, false, "stats", cmd_stats },
	{ "capture", "start", 2, 2 + 2 * 7, true,
	  "capture start PORT|all FILE [dir in|out|both] [filter EXPR] "
	  "[snaplen N] [count N] [rotate-size MB] [rotate-files K]",
	  cmd_capture_start },
	{ "capture", "watch", 1, 1 + 2 * 4, false,
	  "capture watch PORT|all [dir in|out|both] [filter EXPR] [snaplen N] "
	  "[count N]", cmd_capture_watch },
	{ "capture", "stop", 1, 1, true, "capture stop ID|all",
	  cmd_capture_stop },
	{ "capture", "show", 0, 0, false, "capture show", cmd_capture_show },
	{ "netns", "add", 1, 1 + 2 * (UB_NS_ADDRS_MAX + 4), true,
	  "netns add NAME [addr CIDR]... [gw ADDR] [mac MAC] [mtu N] "
	  "[ifname IF]", cmd_netns_add },
	{ "netns", "attach", 1, 2 + 2 * (UB_NS_ADDRS_MAX + 4), true,
	  "netns attach NAME|pid PID [addr CIDR]... [gw ADDR] [mac MAC] "
	  "[mtu N] [ifname IF]", cmd_netns_attach },
	{ "netns", "del", 1, 1, true, "netns del NAME", cmd_netns_del },
	{ "netns", "show", 0, 0, false, "netns show", cmd_netns_show },
	{ "gateway", "add", 1, 1, true, "gateway add CIDR", cmd_gateway_add },
	{ "gateway", "del", 0, 0, true, "gateway del", cmd_gateway_del },
	{ "gateway", "show", 0, 0, false, "gateway show", cmd_gateway_show },
	{ "nat", NULL, 1, 1, true, "nat on|off", cmd_nat },
	{ "time", "warp", 1, 1, false, "time warp MILLISECONDS", cmd_time_warp },
};

void ub_cmd_run(struct ub_bridge *br, int argc, char **argv, int fd,
		struct ub_ctl_reply *r)
{
	struct ub_cmd_ctx ctx = { r, fd };

	for (size_t i = 0; i < UB_ARRAY_SIZE(cmds); i++) {
		const struct ub_cmd *c = &cmds[i];
		int skip = c->verb ? 2 : 1, n = argc - skip;

		if (strcmp(argv[0], c->obj) ||
		    (c->verb && (argc < 2 || strcmp(argv[1], c->verb))))
			continue;
		if (n < c->min_args || n > c->max_args) {
			fail(r, -EINVAL, "usage: %s", c->usage);
			return;
		}
		if (c->fn(br, n, argv + skip, &ctx) == 0) {
			ub_ctl_reply_status(r, 0, NULL);
			br->state_dirty |= c->changes;
		}
		return;
	}
	fail(r, -EINVAL, "unknown command \"%s%s%s\"", argv[0],
	     argc > 1 ? " " : "", argc > 1 ? argv[1] : "");
}
