/* SPDX-License-Identifier: MIT */
/*
 * The control socket's commands. Each request is parsed by the one
 * grammar (include/ubridge/cmd.h), which checks every value and hands a
 * handler typed arguments; the handler looks only at what needs the
 * bridge (does the port exist, is there room). A handler either succeeds
 * (records written, returns 0) or writes the status line with its reason
 * and returns -errno; the daemon keeps forwarding either way.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ubridge/cmd.h>

#include "bridge_private.h"
#include "capture.h"
#include "cmd.h"
#include "gateway.h"
#include "guard.h"
#include "netns.h"
#include "port.h"
#include "vxlan.h"
#include "worker.h"

/* The request being served: its reply, and who asks (NULL: the state
 * file). */
struct ub_cmd_ctx {
	struct ub_ctl_reply *r;
	struct ub_cmd_client *client;
};

/*
 * A handler returns 0 (records written; the status follows), -errno
 * (status written with the reason), or UB_CMD_ANSWERED when it answered on
 * the connection itself (a stream follows; nothing more is sent).
 */
#define UB_CMD_ANSWERED 1

typedef int (*ub_cmd_fn)(struct ub_bridge *br, const struct ub_cmd_args *a,
			 struct ub_cmd_ctx *ctx);

static int fail(struct ub_ctl_reply *r, int err, const char *fmt, ...)
	UB_PRINTF(3, 4);

static int fail(struct ub_ctl_reply *r, int err, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ub_ctl_reply_status(r, err, "%s", msg);
	return err;
}

static const char *str(const struct ub_cmd_args *a, enum ub_cmd_key k)
{
	return ub_cmd_has(a, k) ? a->v[k].str : NULL;
}

static uint64_t num(const struct ub_cmd_args *a, enum ub_cmd_key k)
{
	return ub_cmd_has(a, k) ? a->v[k].u : 0;
}

/* The port named by key 'k'; NULL with the status line written. */
static struct ub_port *port_arg(struct ub_bridge *br,
				const struct ub_cmd_args *a, enum ub_cmd_key k,
				struct ub_ctl_reply *r)
{
	struct ub_port *p = ub_port_find(&br->ports, a->v[k].str);

	if (!p)
		fail(r, -ENOENT, "%s is not a port of bridge %s", a->v[k].str,
		     br->name);
	return p;
}

/* The underlay address 'v' (IPv4 or IPv6). */
static struct ub_vxlan_ip ip_arg(const struct ub_cmd_val *v)
{
	struct ub_vxlan_ip ip = { .family = (sa_family_t)v->ip.family };

	if (ip.family == AF_INET6)
		memcpy(&ip.v6, v->ip.addr, sizeof(ip.v6));
	else
		memcpy(&ip.v4, v->ip.addr, sizeof(ip.v4));
	return ip;
}

/* ---- port ---- */

const char *const ub_cap_policy_names[2] = {
	[UB_FDB_CAP_NOLEARN] = "nolearn",
	[UB_FDB_CAP_DROP] = "drop",
};

/* The cap options of "port add|set" over 'cap'; what is not named stays. */
static int port_cap(struct ub_bridge *br, const struct ub_cmd_args *a,
		    struct ub_fdb_port_info *cap, struct ub_ctl_reply *r)
{
	if (ub_cmd_has(a, UB_CMD_K_MAX_LEARNED)) {
		if (a->v[UB_CMD_K_MAX_LEARNED].u > br->max_learned)
			return fail(r, -EINVAL, "invalid max-learned \"%s\" "
				    "(0 to %u, the bridge's own cap; 0: no cap "
				    "for the port)",
				    a->v[UB_CMD_K_MAX_LEARNED].str,
				    br->max_learned);
		cap->max_learned = (uint32_t)a->v[UB_CMD_K_MAX_LEARNED].u;
	}
	if (ub_cmd_has(a, UB_CMD_K_POLICY))
		cap->policy = a->v[UB_CMD_K_POLICY].u == UB_CMD_POLICY_DROP ?
				      UB_FDB_CAP_DROP : UB_FDB_CAP_NOLEARN;
	return 0;
}

/* A port "port add" attached: its cap, and the namespace of its record. */
static void port_added(struct ub_bridge *br, const struct ub_cmd_args *a,
		       const struct ub_fdb_port_info *cap, const char *name)
{
	struct ub_port *p = ub_port_find(&br->ports, name);

	ub_fdb_port_set_cap(br->fdb, ub_port_id(&br->ports, p),
			    cap->max_learned, cap->policy);
	if (ub_cmd_has(a, UB_CMD_K_NETNS))
		ub_ns_adopt(br, p, a->v[UB_CMD_K_NETNS].str,
			    ub_cmd_has(a, UB_CMD_K_PEER) ?
				    a->v[UB_CMD_K_PEER].str : "eth0",
			    ub_cmd_has(a, UB_CMD_K_MADE) &&
				    a->v[UB_CMD_K_MADE].b,
			    str(a, UB_CMD_K_CONTAINER), 0);
}

/*
 * "port add IFNAME... [max-learned N] [policy P]", "port add IFNAME type
 * tap [mtu N] ...", and for the state file only, "... netns NAME peer IF
 * made yes|no [container ID]": the host end of a veth that "netns
 * add|attach" made
 * before a restart, taken back with its record. Several interfaces are
 * opened together (ub_port_open_many); those that can be attached are,
 * and the status names each one that could not.
 */
static int cmd_port_add(struct ub_bridge *br, const struct ub_cmd_args *a,
			struct ub_cmd_ctx *ctx)
{
	struct ub_port_prep pp[UB_CMD_IFNAMES_MAX];
	struct ub_fdb_port_info cap = { 0 };
	uint32_t n = a->nmulti, attached;
	char why[400];
	size_t used = 0;
	int ret, first = 0;

	if ((ret = port_cap(br, a, &cap, ctx->r)))
		return ret;
	if (ub_cmd_has(a, UB_CMD_K_TAP)) {
		ret = ub_tap_add(br, a->v[UB_CMD_K_IFNAME].str,
				 (uint32_t)num(a, UB_CMD_K_MTU), NULL, pp[0].err,
				 sizeof(pp[0].err));
		if (ret)
			return fail(ctx->r, ret, "%s", pp[0].err);
		port_added(br, a, &cap, a->v[UB_CMD_K_IFNAME].str);
		return 0;
	}
	for (uint32_t i = 0; i < n; i++)
		pp[i] = (struct ub_port_prep){ .ifname = a->multi[i].str };
	attached = ub_port_open_many(br, pp, n, br->packet_ops);
	why[0] = '\0';
	for (uint32_t i = 0; i < n; i++) {
		if (!pp[i].ret) {
			port_added(br, a, &cap, pp[i].ifname);
			continue;
		}
		first = first ? first : pp[i].ret;
		if (used < sizeof(why))
			used += (size_t)snprintf(why + used, sizeof(why) - used,
						 "%s%s", used ? "; " : "",
						 pp[i].err);
	}
	if (attached == n)
		return 0;
	/* The status is a failure, but what was attached stays, and is
	 * saved. */
	if (attached)
		br->state_dirty = true;
	if (n > 1)
		return fail(ctx->r, first, "%u of %u attached: %s",
			    (unsigned)attached, (unsigned)n, why);
	return fail(ctx->r, first, "%s", why);
}

static int cmd_port_set(struct ub_bridge *br, const struct ub_cmd_args *a,
			struct ub_cmd_ctx *ctx)
{
	struct ub_port *p = port_arg(br, a, UB_CMD_K_IFNAME, ctx->r);
	struct ub_fdb_port_info cap;
	uint32_t id;
	int ret;

	if (!p)
		return -ENOENT;
	/* Its record is "gateway add", which carries no settings. */
	if (ub_gw_is_port(br, p))
		return fail(ctx->r, -EBUSY, "%s is the gateway: its settings "
			    "are the defaults", p->name);
	if (ub_cmd_has(a, UB_CMD_K_GROUP_FWD_MASK) &&
	    a->v[UB_CMD_K_GROUP_FWD_MASK].u & 0x2)
		return fail(ctx->r, -EINVAL, "invalid group-fwd-mask \"%s\": "
			    "bit 1 (01:80:C2:00:00:01, 802.3x PAUSE) is never "
			    "forwarded", a->v[UB_CMD_K_GROUP_FWD_MASK].str);
	id = ub_port_id(&br->ports, p);
	ub_fdb_port_get(br->fdb, id, &cap);
	if ((ret = port_cap(br, a, &cap, ctx->r)))
		return ret;
	ub_fdb_port_set_cap(br->fdb, id, cap.max_learned, cap.policy);
	if (ub_cmd_has(a, UB_CMD_K_LOOP_GUARD))
		p->guard.loop_off =
			a->v[UB_CMD_K_LOOP_GUARD].u == UB_CMD_NAT_OFF;
	if (ub_cmd_has(a, UB_CMD_K_BPDU_GUARD))
		p->guard.bpdu_guard =
			a->v[UB_CMD_K_BPDU_GUARD].u == UB_CMD_NAT_ON;
	if (ub_cmd_has(a, UB_CMD_K_GROUP_FWD_MASK))
		p->guard.group_fwd_mask =
			(uint16_t)a->v[UB_CMD_K_GROUP_FWD_MASK].u;
	/* A guard turned off lifts the block it made, at the next upkeep
	 * (nothing extends it meanwhile). */
	if ((p->guard.blocked == UB_GUARD_BPDU && !p->guard.bpdu_guard) ||
	    (p->guard.blocked != UB_GUARD_BPDU && p->guard.loop_off))
		p->guard.until = br->now;
	return 0;
}

static int cmd_port_del(struct ub_bridge *br, const struct ub_cmd_args *a,
			struct ub_cmd_ctx *ctx)
{
	struct ub_port *p = port_arg(br, a, UB_CMD_K_IFNAME, ctx->r);

	if (!p)
		return -ENOENT;
	if (ub_gw_is_port(br, p))
		return fail(ctx->r, -EBUSY, "%s is the gateway: \"ubctl "
			    "gateway del\" removes it", p->name);
	ub_port_del(br, p);
	return 0;
}

static int cmd_port_show(struct ub_bridge *br, const struct ub_cmd_args *a,
			 struct ub_cmd_ctx *ctx)
{
	for (uint32_t i = 0; i < br->ports.n; i++) {
		struct ub_port *p = ub_port_nth(&br->ports, i);
		char drops[(UB_DROP__COUNT + 32) * 40], *d = drops;
		char guard[160];
		struct ub_fdb_port_info cap;

		if (p->io.ops->rx_dropped)
			p->drops[UB_DROP_QUEUE] += p->io.ops->rx_dropped(&p->io);
		struct ub_port_counter own[32];
		uint32_t nown = p->io.ops->counters ?
			p->io.ops->counters(&p->io, own, UB_ARRAY_SIZE(own)) : 0;

		for (int k = 0; k < UB_DROP__COUNT; k++)
			d += sprintf(d, " %s=%llu", ub_drop_names[k],
				     (unsigned long long)p->drops[k]);
		for (uint32_t k = 0; k < nown; k++)
			d += sprintf(d, " %s=%llu", own[k].name,
				     (unsigned long long)own[k].value);
		ub_fdb_port_get(br->fdb, br->ports.fwd[i], &cap);
		ub_guard_show(br, p, guard, sizeof(guard));
		ub_ctl_reply_record(ctx->r,
				    "name=%s kind=%s ifindex=%d mtu=%u "
				    "state=%s learned_entries=%u max_learned=%u "
				    "policy=%s worker=%u ring_kib=%u%s "
				    "rx_packets=%llu rx_bytes=%llu "
				    "rx_learn_refused=%llu "
				    "tx_packets=%llu tx_bytes=%llu%s",
				    p->name, p->io.ops->kind, p->io.ifindex,
				    p->io.mtu, !p->link_up ? "down" :
				    p->guard.blocked ? "blocked" : "forwarding",
				    cap.learned_entries, cap.max_learned,
				    ub_cap_policy_names[cap.policy], p->worker,
				    p->io.rx_ring_bytes / 1024, guard,
				    (unsigned long long)p->rx_packets,
				    (unsigned long long)p->rx_bytes,
				    (unsigned long long)p->learn_refused,
				    (unsigned long long)p->tx_packets,
				    (unsigned long long)p->tx_bytes, drops);
	}
	return 0;
}

/* ---- fdb ---- */

/* What "fdb show" lists of an entry, copied under the lock. */
struct fdb_row {
	struct ub_fdb_entry_info e;
	char port[IFNAMSIZ];
	char dst[48]; /* the remote's address; "" when none */
};

/* Entries listed per slice: a slice is copied under the lock in well
 * under a millisecond, and formatted without it. */
#define UB_FDB_SLICE 1024

struct fdb_rows {
	struct ub_bridge *br;
	struct fdb_row *row;
	uint32_t n, cap;
};

static int fdb_row_take(const struct ub_fdb_entry_info *e, void *arg)
{
	struct fdb_rows *rows = arg;
	struct fdb_row *row;
	struct ub_port *p;

	/* A slice ends with a whole chain, maybe past UB_FDB_SLICE rows. */
	if (rows->n == rows->cap) {
		row = realloc(rows->row, 2 * rows->cap * sizeof(*row));
		if (!row)
			return -ENOMEM;
		rows->row = row;
		rows->cap *= 2;
	}
	row = &rows->row[rows->n++];
	row->e = *e;
	p = ub_port_by_id(&rows->br->ports, e->port);
	memcpy(row->port, p->name, sizeof(row->port));
	row->dst[0] = '\0';
	if (e->remote && p->io.ops->remote_fmt)
		p->io.ops->remote_fmt(&p->io, e->remote, row->dst,
				      sizeof(row->dst));
	return 0;
}

static void fdb_row_show(struct ub_ctl_reply *r, const struct fdb_row *row,
			 uint64_t now)
{
	const struct ub_fdb_entry_info *e = &row->e;
	char mac[UB_MAC_STRLEN], dst[64] = "";

	ub_mac_fmt(&e->mac, mac);
	if (row->dst[0])
		snprintf(dst, sizeof(dst), " dst=%s", row->dst);
	/* "local": the port's own MAC, put there when it was attached. */
	if (e->is_static)
		ub_ctl_reply_record(r, "mac=%s vlan=%u port=%s type=%s%s", mac,
				    e->vid, row->port,
				    e->is_local ? "local" : "static", dst);
	else
		ub_ctl_reply_record(r, "mac=%s vlan=%u port=%s type=learned "
				    "age=%llu moves=%u%s", mac, e->vid,
				    row->port,
				    (unsigned long long)(now - e->last_seen) /
					    1000, e->moves, dst);
}

/*
 * The FDB may hold hundreds of thousands of entries: it is listed a slice
 * at a time, each copied under the lock and formatted without it, so that
 * the workers forward between slices.
 */
static int cmd_fdb_show(struct ub_bridge *br, const struct ub_cmd_args *a,
			struct ub_cmd_ctx *ctx)
{
	struct fdb_rows rows = { .br = br, .cap = UB_FDB_SLICE };
	uint32_t cursor = 0;
	int ret = 0;

	rows.row = malloc(rows.cap * sizeof(*rows.row));
	if (!rows.row)
		return fail(ctx->r, -ENOMEM, "out of memory");
	while (cursor != UB_FDB_WALK_DONE && !ret) {
		uint64_t now = br->now;

		rows.n = 0;
		ret = ub_fdb_foreach_slice(br->fdb, &cursor, UB_FDB_SLICE,
					   fdb_row_take, &rows);
		ub_bridge_unlock(br);
		for (uint32_t i = 0; i < rows.n; i++)
			fdb_row_show(ctx->r, &rows.row[i], now);
		ub_bridge_lock(br);
	}
	free(rows.row);
	if (ret)
		return fail(ctx->r, ret, "out of memory");
	return 0;
}

static int cmd_fdb_add(struct ub_bridge *br, const struct ub_cmd_args *a,
		       struct ub_cmd_ctx *ctx)
{
	struct ub_port *p = port_arg(br, a, UB_CMD_K_DEV, ctx->r);
	struct ub_vxlan_ip ip;
	int remote = 0;
	char err[300];

	if (!p)
		return -ENOENT;
	if (ub_cmd_has(a, UB_CMD_K_DST)) {
		ip = ip_arg(&a->v[UB_CMD_K_DST]);
		remote = ub_vx_dst(br, p, &ip, err, sizeof(err));
		if (remote < 0)
			return fail(ctx->r, remote, "%s", err);
	}
	if (ub_fdb_add_static(br->fdb, &a->v[UB_CMD_K_MAC].mac,
			      (uint16_t)num(a, UB_CMD_K_VLAN),
			      ub_port_id(&br->ports, p), (uint32_t)remote))
		return fail(ctx->r, -ENOSPC, "no room for another static entry");
	return 0;
}

static int cmd_fdb_del(struct ub_bridge *br, const struct ub_cmd_args *a,
		       struct ub_cmd_ctx *ctx)
{
	uint16_t vid = (uint16_t)num(a, UB_CMD_K_VLAN);

	if (ub_fdb_del(br->fdb, &a->v[UB_CMD_K_MAC].mac, vid))
		return fail(ctx->r, -ENOENT, "no FDB entry for %s vlan %u",
			    a->v[UB_CMD_K_MAC].str, vid);
	return 0;
}

static int cmd_fdb_flush(struct ub_bridge *br, const struct ub_cmd_args *a,
			 struct ub_cmd_ctx *ctx)
{
	uint32_t port = UB_FDB_PORT_ANY;
	struct ub_port *p;

	if (ub_cmd_has(a, UB_CMD_K_DEV)) {
		if (!(p = port_arg(br, a, UB_CMD_K_DEV, ctx->r)))
			return -ENOENT;
		port = ub_port_id(&br->ports, p);
	}
	ub_port_flush_fdb(br, port, false);
	return 0;
}

/* ---- settings, statistics, debugging ---- */

static int cmd_set_ageing(struct ub_bridge *br, const struct ub_cmd_args *a,
			  struct ub_cmd_ctx *ctx)
{
	ub_fdb_set_ageing(br->fdb, a->v[UB_CMD_K_SECONDS].u * 1000);
	return 0;
}

static int cmd_set_vlan_filtering(struct ub_bridge *br,
				  const struct ub_cmd_args *a,
				  struct ub_cmd_ctx *ctx)
{
	bool on = a->v[UB_CMD_K_VLAN_FILTERING].u == UB_CMD_NAT_ON;
	bool was = br->vlan_filtering;

	/* The learned entries' VIDs mean something else now: untagged
	 * frames were VID 0, they are their port's PVID. Switched first:
	 * the flush lets workers in between its slices. */
	br->vlan_filtering = on;
	if (on != was)
		ub_port_flush_fdb(br, UB_FDB_PORT_ANY, false);
	return 0;
}

/* ---- vlan ---- */

static int cmd_vlan_change(struct ub_bridge *br, const struct ub_cmd_args *a,
			   struct ub_cmd_ctx *ctx)
{
	struct ub_port *p = port_arg(br, a, UB_CMD_K_DEV, ctx->r);
	uint16_t lo = (uint16_t)(a->v[UB_CMD_K_VIDS].u >> 32);
	uint16_t hi = (uint16_t)a->v[UB_CMD_K_VIDS].u;
	bool pvid = ub_cmd_has(a, UB_CMD_K_PVID);

	if (!p)
		return -ENOENT;
	if (pvid && lo != hi)
		return fail(ctx->r, -EINVAL, "pvid takes one VID, not the "
			    "range %s", a->v[UB_CMD_K_VIDS].str);
	/* A port's first "vlan add" replaces the default VLAN 1; a "vlan
	 * del" takes from it. */
	if (!p->vlan) {
		if (!(p->vlan = malloc(sizeof(*p->vlan))))
			return fail(ctx->r, -ENOMEM, "out of memory");
		if (a->id == UB_CMD_VLAN_DEL)
			*p->vlan = ub_vlan_default;
		else
			memset(p->vlan, 0, sizeof(*p->vlan));
	}
	if (a->id == UB_CMD_VLAN_DEL)
		ub_vlan_del(p->vlan, lo, hi);
	else
		ub_vlan_add(p->vlan, lo, hi, pvid,
			    ub_cmd_has(a, UB_CMD_K_UNTAGGED));
	return 0;
}

static int cmd_vlan_show(struct ub_bridge *br, const struct ub_cmd_args *a,
			 struct ub_cmd_ctx *ctx)
{
	for (uint32_t i = 0; i < br->ports.n; i++) {
		const struct ub_port *p = ub_port_nth(&br->ports, i);
		const struct ub_vlan_port *v = ub_port_vlan(p);
		char vids[4096], untagged[4096];

		ub_vlan_fmt(v->member, vids, sizeof(vids));
		ub_vlan_fmt(v->untagged, untagged, sizeof(untagged));
		ub_ctl_reply_record(ctx->r, "port=%s pvid=%u vids=%s "
				    "untagged=%s", p->name, v->pvid, vids,
				    untagged);
	}
	return 0;
}

static int cmd_set_loop_hold(struct ub_bridge *br,
			     const struct ub_cmd_args *a,
			     struct ub_cmd_ctx *ctx)
{
	br->guard.hold_ms = a->v[UB_CMD_K_SECONDS].u * 1000;
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

static int cmd_stats(struct ub_bridge *br, const struct ub_cmd_args *a,
		     struct ub_cmd_ctx *ctx)
{
	struct ub_fdb_stats st;

	ub_fdb_get_stats(br->fdb, &st);
	ub_ctl_reply_record(ctx->r,
			    "bridge=%s ports=%u ageing=%llu max_learned=%u "
			    "vlan_filtering=%s "
			    "fdb_learned_entries=%u fdb_static_entries=%u "
			    "fdb_local_entries=%u "
			    "fdb_learned=%llu fdb_moved=%llu fdb_aged=%llu "
			    "fdb_evicted=%llu fdb_static_refused=%llu "
			    "fdb_port_refused=%llu bufs_free=%u",
			    br->name, br->ports.n,
			    (unsigned long long)ub_fdb_get_ageing(br->fdb) / 1000,
			    br->max_learned, br->vlan_filtering ? "on" : "off",
			    st.learned_entries,
			    st.static_entries, st.local_entries,
			    (unsigned long long)st.learned,
			    (unsigned long long)st.moved,
			    (unsigned long long)st.aged,
			    (unsigned long long)st.evicted,
			    (unsigned long long)st.static_refused,
			    (unsigned long long)st.port_refused,
			    bufs_free(br));
	return 0;
}

static int cmd_time_warp(struct ub_bridge *br, const struct ub_cmd_args *a,
			 struct ub_cmd_ctx *ctx)
{
	br->warp_ms += a->v[UB_CMD_K_MS].u;
	ub_bridge_clock(br);
	ub_fdb_age(br->fdb, br->now);
	return 0;
}

/* ---- captures ---- */

/* What "capture start|watch" asks, from its arguments. */
static int cap_req(struct ub_bridge *br, const struct ub_cmd_args *a,
		   struct ub_cap_req *req, struct ub_ctl_reply *r)
{
	static const uint8_t dirs[] = {
		[UB_CMD_DIR_IN] = UB_CAP_IN,
		[UB_CMD_DIR_OUT] = UB_CAP_OUT,
		[UB_CMD_DIR_BOTH] = UB_CAP_IN | UB_CAP_OUT,
	};
	struct ub_capture_cfg *cfg = &req->cfg;
	struct ub_port *p;

	req->port_name = a->v[UB_CMD_K_PORT].str;
	req->port = UB_CAP_ALL;
	if (!a->v[UB_CMD_K_PORT].all) {
		if (!(p = port_arg(br, a, UB_CMD_K_PORT, r)))
			return -ENOENT;
		req->port = ub_port_id(&br->ports, p);
	}
	if (ub_cmd_has(a, UB_CMD_K_DIR))
		req->dir = dirs[a->v[UB_CMD_K_DIR].u];
	cfg->path = str(a, UB_CMD_K_FILE);
	cfg->filter = str(a, UB_CMD_K_FILTER);
	cfg->snaplen = (uint32_t)num(a, UB_CMD_K_SNAPLEN);
	cfg->count = num(a, UB_CMD_K_COUNT);
	cfg->rotate_bytes = num(a, UB_CMD_K_ROTATE_SIZE) << 20;
	cfg->rotate_files = ub_cmd_capture_files(a);
	/* The state file's: carry on in an existing file. */
	cfg->append = ub_cmd_has(a, UB_CMD_K_APPEND) && a->v[UB_CMD_K_APPEND].b;
	return 0;
}

_Static_assert(UB_CMD_CAP_FILES_MAX == UB_CAP_FILES_MAX,
	       "a capture takes every file the grammar lets a client pass");

/*
 * The files of "capture start": those its client opened and passed (the
 * daemon never opens a path a client names), or for the state file the
 * ones root configured, opened here without following a symlink at the
 * path. Fills fds[]; returns how many or -errno, with the status line.
 */
static int cap_files(const struct ub_cmd_args *a, struct ub_cmd_ctx *ctx,
		     struct ub_cap_req *req, int *fds)
{
	struct ub_cmd_client *cl = ctx->client;
	uint32_t rotate = ub_cmd_capture_files(a);
	unsigned int want = rotate ? rotate : 1;
	char err[300];
	int n;

	if (cl) {
		if (cl->nfds != want)
			return fail(ctx->r, -EBADF, "capture start needs its "
				    "file%s opened by the client and passed "
				    "with the request (ubctl does): %u expected, "
				    "%u passed", want > 1 ? "s" : "", want,
				    cl->nfds);
		for (unsigned int i = 0; i < want; i++) {
			fds[i] = cl->fds[i];
			cl->fds[i] = -1;
		}
		req->owner = cl->uid;
		return (int)want;
	}
	req->owner = (uid_t)num(a, UB_CMD_K_OWNER);
	if (!ub_cmd_has(a, UB_CMD_K_OWNER) || req->owner != 0)
		return fail(ctx->r, -EPERM, "a capture the daemon would open "
			    "for %s: it opens files for root only; start it "
			    "again with ubctl", ub_cmd_has(a, UB_CMD_K_OWNER) ?
			    "another user" : "an unknown user");
	n = ub_capture_files_open(req->cfg.path, rotate,
				  O_RDWR | O_CREAT | O_NOFOLLOW, fds, err,
				  sizeof(err));
	return n < 0 ? fail(ctx->r, n, "%s", err) : n;
}

static int cmd_capture_start(struct ub_bridge *br, const struct ub_cmd_args *a,
			     struct ub_cmd_ctx *ctx)
{
	struct ub_cap_req req = { 0 };
	int fds[UB_CAP_FILES_MAX];
	struct ub_cap_slot *s;
	char err[300];
	int ret;

	if ((ret = cap_req(br, a, &req, ctx->r)))
		return ret;
	if ((ret = cap_files(a, ctx, &req, fds)) < 0)
		return ret;
	req.cfg.fds = fds;
	req.cfg.nfds = (uint32_t)ret;
	s = ub_cap_start(&br->caps, &req, &ret, err, sizeof(err));
	if (!s)
		return fail(ctx->r, ret, "%s", err);
	ub_ctl_reply_record(ctx->r, "id=%u", s->id);
	return 0;
}

/*
 * "capture watch": the status line, then the capture as a pcap stream on
 * the same connection until the client goes away. The writer only writes
 * once the data path gave it a frame, which happens after this returns,
 * so the status line is always first on the wire.
 */
/* A stream's status line, before its first byte. */
static const char stream_ok[] = "errno=0\n";

/* The client's connection, duplicated for a stream that outlives the
 * request; or -errno, reported. */
static int stream_fd(struct ub_cmd_ctx *ctx)
{
	int fd;

	if (!ctx->client)
		return fail(ctx->r, -EINVAL, "a stream needs a client");
	fd = fcntl(ctx->client->fd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		return fail(ctx->r, -errno, "cannot stream: %s",
			    strerror(errno));
	return fd;
}

static int cmd_capture_watch(struct ub_bridge *br, const struct ub_cmd_args *a,
			     struct ub_cmd_ctx *ctx)
{
	static const struct timeval stream_timeout = { .tv_sec = 2 };
	struct ub_cap_req req = { 0 };
	struct ub_cap_slot *s;
	char err[300];
	int ret, fd;

	if ((ret = cap_req(br, a, &req, ctx->r)))
		return ret;
	if ((fd = stream_fd(ctx)) < 0)
		return fd;
	req.owner = ctx->client->uid;
	req.cfg.stream = true;
	/* A reader that stops reading fails the writer's writes after a
	 * while rather than holding it (and a stop waiting for it) forever;
	 * meanwhile the data path drops frames for this capture only. */
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &stream_timeout,
		   sizeof(stream_timeout));
	req.cfg.fds = &fd;
	req.cfg.nfds = 1;
	s = ub_cap_start(&br->caps, &req, &ret, err, sizeof(err));
	if (!s)
		return fail(ctx->r, ret, "%s", err);
	if (send(ctx->client->fd, stream_ok, sizeof(stream_ok) - 1,
		 MSG_DONTWAIT | MSG_NOSIGNAL) != (ssize_t)sizeof(stream_ok) - 1) {
		ub_cap_stop(&br->caps, s);
		return fail(ctx->r, -EIO, "cannot answer the client");
	}
	return UB_CMD_ANSWERED;
}

/* ---- impair ---- */

/* "impair clear" of one direction: the frames held leave first (their
 * worker frees the impairment then), or it goes at once. */
static void impair_clear(struct ub_bridge *br, struct ub_port *p, int d)
{
	struct ub_impair *im = p->impair[d];

	if (!im || im->clearing)
		return;
	ub_mon_impair(br, p->name, ub_impair_dir_names[d], NULL);
	if (im->n) {
		ub_impair_clear(im);
		ub_worker_wake(&br->workers[p->worker]);
		return;
	}
	ub_impair_free(im);
	p->impair[d] = NULL;
	br->nimpaired--;
}

/* "[in|out] SPEC" as words: the direction (default out) and what to do.
 * 0, or -EINVAL with the reason in 'err'. */
static int impair_words(int n, char **words, int *dir,
			struct ub_impair_cfg *cfg, char *err, size_t errlen)
{
	int first = 0;

	*dir = UB_IMPAIR_OUT;
	for (int k = 0; n && k < 2; k++) {
		if (!strcmp(words[0], ub_impair_dir_names[k])) {
			*dir = k;
			first = 1;
		}
	}
	return ub_impair_parse(n - first, words + first, cfg, err, errlen) ?
		       -EINVAL : 0;
}

/* Port p's impairment in direction d does 'cfg' from now on (nothing:
 * cleared). 0 or -ENOMEM. */
static int impair_apply(struct ub_bridge *br, struct ub_port *p, int d,
			const struct ub_impair_cfg *cfg)
{
	char spec[512];
	uint64_t seed;
	int ret;

	if (ub_impair_cfg_none(cfg)) {
		impair_clear(br, p, d);
		return 0;
	}
	/* Each port and direction draws numbers of its own. */
	seed = br->impair_seed ^
	       ((uint64_t)ub_port_id(&br->ports, p) << 1 | (unsigned)d) *
		       0x9e3779b97f4a7c15ull;
	if (p->impair[d]) {
		ret = ub_impair_reset(&p->impair[d], cfg, seed);
	} else {
		ret = ub_impair_new(cfg, seed, &p->impair[d]);
		br->nimpaired += !ret;
	}
	if (ret)
		return ret;
	ub_impair_fmt(cfg, spec, sizeof(spec));
	ub_mon_impair(br, p->name, ub_impair_dir_names[d], spec);
	return 0;
}

static int cmd_impair_set(struct ub_bridge *br, const struct ub_cmd_args *a,
			  struct ub_cmd_ctx *ctx)
{
	struct ub_port *p = port_arg(br, a, UB_CMD_K_IFNAME, ctx->r);
	char *words[UB_CMD_MULTI_MAX], err[300];
	struct ub_impair_cfg cfg;
	int d;

	if (!p)
		return -ENOENT;
	for (unsigned i = 0; i < a->nmulti; i++)
		words[i] = (char *)a->multi[i].str;
	if (impair_words((int)a->nmulti, words, &d, &cfg, err, sizeof(err)))
		return fail(ctx->r, -EINVAL, "impair set %s: %s", p->name, err);
	if (impair_apply(br, p, d, &cfg))
		return fail(ctx->r, -ENOMEM, "impair set %s: out of memory",
			    p->name);
	return 0;
}

static int cmd_impair_clear(struct ub_bridge *br, const struct ub_cmd_args *a,
			    struct ub_cmd_ctx *ctx)
{
	struct ub_port *p = port_arg(br, a, UB_CMD_K_IFNAME, ctx->r);

	if (!p)
		return -ENOENT;
	for (int d = 0; d < 2; d++)
		if (!ub_cmd_has(a, UB_CMD_K_DIR) ||
		    a->v[UB_CMD_K_DIR].u == (uint64_t)d)
			impair_clear(br, p, d);
	return 0;
}

static int cmd_impair_show(struct ub_bridge *br, const struct ub_cmd_args *a,
			   struct ub_cmd_ctx *ctx)
{
	for (uint32_t i = 0; i < br->ports.n; i++) {
		const struct ub_port *p = ub_port_nth(&br->ports, i);

		for (int d = 0; d < 2; d++) {
			const struct ub_impair *im = p->impair[d];
			char spec[512], enc[3 * sizeof(spec)];

			if (!im || im->clearing)
				continue;
			ub_impair_fmt(&im->cfg, spec, sizeof(spec));
			ub_ctl_word_encode(spec, enc, sizeof(enc));
			ub_ctl_reply_record(ctx->r, "port=%s dir=%s queued=%u "
					    "delayed=%llu lost=%llu full=%llu "
					    "corrupted=%llu duplicated=%llu "
					    "reordered=%llu spec=%s", p->name,
					    ub_impair_dir_names[d], im->n,
					    (unsigned long long)im->st.delayed,
					    (unsigned long long)im->st.drop_loss,
					    (unsigned long long)im->st.drop_limit,
					    (unsigned long long)im->st.corrupted,
					    (unsigned long long)im->st.duplicated,
					    (unsigned long long)im->st.reordered,
					    enc);
		}
	}
	return 0;
}

/* "monitor": the status line, then the events as records on the same
 * connection until the client goes away (monitor.h). */
static int cmd_monitor(struct ub_bridge *br, const struct ub_cmd_args *a,
		       struct ub_cmd_ctx *ctx)
{
	static const struct {
		enum ub_cmd_key key;
		enum ub_mon_class cls;
	} classes[] = {
		{ UB_CMD_K_MON_FDB, UB_MON_C_FDB },
		{ UB_CMD_K_MON_PORT, UB_MON_C_PORT },
		{ UB_CMD_K_MON_LOOP, UB_MON_C_LOOP },
		{ UB_CMD_K_MON_IMPAIR, UB_MON_C_IMPAIR },
	};
	unsigned cls = 0;
	int ret, fd;

	for (size_t i = 0; i < UB_ARRAY_SIZE(classes); i++)
		if (ub_cmd_has(a, classes[i].key))
			cls |= classes[i].cls;
	if ((fd = stream_fd(ctx)) < 0)
		return fd;
	ret = ub_mon_add(br, fd, cls ? cls : UB_MON_C_ALL);
	if (ret) {
		close(fd);
		if (ret == -ENOSPC)
			return fail(ctx->r, ret, "all %d monitors are in use",
				    UB_MON_MAX);
		return fail(ctx->r, ret, "out of memory");
	}
	/* Before any event: those go out in the control thread's
	 * housekeeping, after this. A client that is gone already ends
	 * its monitor there. */
	send(fd, stream_ok, sizeof(stream_ok) - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
	return UB_CMD_ANSWERED;
}

static int cmd_capture_stop(struct ub_bridge *br, const struct ub_cmd_args *a,
			    struct ub_cmd_ctx *ctx)
{
	struct ub_cap_slot *s;

	if (a->v[UB_CMD_K_ID].all)
		ub_cap_stop_port(&br->caps, UB_CAP_ALL);
	else if ((s = ub_cap_find(&br->caps, (uint32_t)a->v[UB_CMD_K_ID].u)))
		ub_cap_stop(&br->caps, s);
	else
		return fail(ctx->r, -ENOENT, "no capture %s",
			    a->v[UB_CMD_K_ID].str);
	/* The files are whole once the answer comes: the writers end now,
	 * without the lock (see worker.h). */
	ub_bridge_unlock(br);
	ub_cap_free_ended(&br->caps);
	ub_bridge_lock(br);
	return 0;
}

static int cmd_capture_show(struct ub_bridge *br, const struct ub_cmd_args *a,
			    struct ub_cmd_ctx *ctx)
{
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
		ub_ctl_reply_record(ctx->r,
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

_Static_assert(UB_CMD_ADDRS_MAX == UB_NS_ADDRS_MAX,
	       "every address the grammar takes fits a namespace request");

/* "netns add|attach": what to build, from the arguments. */
static void ns_req(const struct ub_cmd_args *a, struct ub_ns_req *req)
{
	req->name = str(a, UB_CMD_K_NAME);
	/* A path: the client opened it and passed the descriptor. */
	if (req->name && strchr(req->name, '/'))
		req->name = NULL;
	req->container = str(a, UB_CMD_K_CONTAINER);
	req->pid = (int)num(a, UB_CMD_K_PID);
	req->ifname = str(a, UB_CMD_K_IFNAME);
	req->mtu = (uint32_t)num(a, UB_CMD_K_MTU);
	req->has_mac = ub_cmd_has(a, UB_CMD_K_MAC);
	if (req->has_mac)
		req->mac = a->v[UB_CMD_K_MAC].mac;
	req->naddrs = a->nmulti;
	for (unsigned i = 0; i < a->nmulti; i++)
		req->addrs[i] = a->multi[i].str;
	req->gw = str(a, UB_CMD_K_GW);
}

static int cmd_netns_attach(struct ub_bridge *br, const struct ub_cmd_args *a,
			    struct ub_cmd_ctx *ctx)
{
	struct ub_ns_req req = { .create = a->id == UB_CMD_NETNS_ADD,
				 .nsfd = -1 };
	struct ub_cmd_client *cl = ctx->client;
	char err[400], spec[UB_CTL_REQ_MAX];
	struct ub_impair_cfg cfg;
	int ret, dir = UB_IMPAIR_OUT;

	ns_req(a, &req);
	/* A namespace by path or process: the client opens it with its own
	 * rights (a process's needs the right to trace it). */
	if (!req.name && a->id == UB_CMD_NETNS_ATTACH) {
		if (!cl || cl->nfds != 1)
			return fail(ctx->r, -EBADF, "netns attach %s needs the "
				    "namespace opened by the client and passed "
				    "with the request (ubctl does): 1 descriptor "
				    "expected, %u passed", req.pid ? "--pid" :
				    "PATH", cl ? cl->nfds : 0);
		req.nsfd = cl->fds[0];
	}
	/* --impair "SPEC": refused before anything is made. */
	if (ub_cmd_has(a, UB_CMD_K_IMPAIR)) {
		char *w[UB_CTL_ARGS_MAX], *save = NULL;
		int n = 0;

		snprintf(spec, sizeof(spec), "%s", str(a, UB_CMD_K_IMPAIR));
		for (char *t = strtok_r(spec, " ", &save);
		     t && n < UB_CTL_ARGS_MAX; t = strtok_r(NULL, " ", &save))
			w[n++] = t;
		if (impair_words(n, w, &dir, &cfg, err, sizeof(err)))
			return fail(ctx->r, -EINVAL, "--impair: %s", err);
	}
	/* Made first: nothing can fail once the port is there. */
	if (ub_cmd_has(a, UB_CMD_K_VLAN)) {
		uint16_t vid = (uint16_t)num(a, UB_CMD_K_VLAN);

		if (!(req.vlan = calloc(1, sizeof(*req.vlan))))
			return fail(ctx->r, -ENOMEM, "out of memory");
		ub_vlan_add(req.vlan, vid, vid, true, true);
	}
	ret = ub_ns_attach(br, &req, err, sizeof(err));
	free(req.vlan);
	if (!ret) {
		struct ub_port *p = ub_port_find(&br->ports, req.port);

		ub_ctl_reply_record(ctx->r, "port=%s", req.port);
		if (p && ub_cmd_has(a, UB_CMD_K_IMPAIR) &&
		    impair_apply(br, p, dir, &cfg))
			return fail(ctx->r, -ENOMEM, "%s attached, but not "
				    "impaired: out of memory", req.port);
		return 0;
	}
	/* Long names are cut in the message; the reason must fit. */
	if (req.create)
		return fail(ctx->r, ret, "netns add %.40s: %s", req.name, err);
	return fail(ctx->r, ret, "netns attach: %s", err);
}

static int cmd_netns_del(struct ub_bridge *br, const struct ub_cmd_args *a,
			 struct ub_cmd_ctx *ctx)
{
	const char *name = str(a, UB_CMD_K_NAME);
	char err[400];
	int ret = ub_ns_del(br, name, str(a, UB_CMD_K_CONTAINER),
			    str(a, UB_CMD_K_IFNAME), err, sizeof(err));

	if (ret && name)
		return fail(ctx->r, ret, "netns del %.40s: %s", name, err);
	return ret ? fail(ctx->r, ret, "netns del: %s", err) : 0;
}

static int cmd_netns_show(struct ub_bridge *br, const struct ub_cmd_args *a,
			  struct ub_cmd_ctx *ctx)
{
	ub_ns_show(br, ctx->r);
	return 0;
}

/* ---- gateway and NAT ---- */

static int cmd_gateway_add(struct ub_bridge *br, const struct ub_cmd_args *a,
			   struct ub_cmd_ctx *ctx)
{
	char err[300];
	int ret = ub_gw_add(br, a->v[UB_CMD_K_CIDR].str,
			    ub_cmd_has(a, UB_CMD_K_LOCALNET) &&
				    a->v[UB_CMD_K_LOCALNET].b,
			    err, sizeof(err));

	return ret ? fail(ctx->r, ret, "%s", err) : 0;
}

static int cmd_gateway_del(struct ub_bridge *br, const struct ub_cmd_args *a,
			   struct ub_cmd_ctx *ctx)
{
	char err[300];
	int ret = ub_gw_del(br, err, sizeof(err));

	return ret ? fail(ctx->r, ret, "%s", err) : 0;
}

static int cmd_gateway_show(struct ub_bridge *br, const struct ub_cmd_args *a,
			    struct ub_cmd_ctx *ctx)
{
	ub_gw_show(br, ctx->r);
	return 0;
}

static int cmd_nat(struct ub_bridge *br, const struct ub_cmd_args *a,
		   struct ub_cmd_ctx *ctx)
{
	char err[300];
	int ret = ub_nat_set(br, a->v[UB_CMD_K_NAT].u == UB_CMD_NAT_ON, err,
			     sizeof(err));

	return ret ? fail(ctx->r, ret, "%s", err) : 0;
}

/* ---- vxlan ---- */

static int cmd_vxlan_add(struct ub_bridge *br, const struct ub_cmd_args *a,
			 struct ub_cmd_ctx *ctx)
{
	struct ub_vxlan_cfg cfg = {
		.vni = (uint32_t)a->v[UB_CMD_K_VNI].u,
		.dstport = (uint16_t)num(a, UB_CMD_K_DSTPORT),
		.ttl = (uint8_t)num(a, UB_CMD_K_TTL),
		.learning = !ub_cmd_has(a, UB_CMD_K_NOLEARNING),
	};
	struct ub_vxlan_ip remotes[UB_CMD_ADDRS_MAX];
	static const uint8_t any[16];
	uint32_t n = 0;
	char err[300];
	int ret;

	cfg.local = ip_arg(&a->v[UB_CMD_K_LOCAL]);
	if (!memcmp(a->v[UB_CMD_K_LOCAL].ip.addr, any,
		    cfg.local.family == AF_INET6 ? 16 : 4))
		return fail(ctx->r, -EINVAL, "local address %s: name the "
			    "underlay address the port is bound to",
			    a->v[UB_CMD_K_LOCAL].str);
	if (ub_cmd_has(a, UB_CMD_K_SRCPORT)) {
		cfg.sport_min = (uint16_t)(a->v[UB_CMD_K_SRCPORT].u >> 32);
		cfg.sport_max = (uint16_t)a->v[UB_CMD_K_SRCPORT].u;
	}
	for (; ub_cmd_has(a, UB_CMD_K_REMOTE) && n < a->nmulti; n++)
		remotes[n] = ip_arg(&a->multi[n]);
	ret = ub_vx_add(br, a->v[UB_CMD_K_IFNAME].str, &cfg, remotes, n, err,
			sizeof(err));
	return ret ? fail(ctx->r, ret, "%s", err) : 0;
}

/* The VXLAN port named by 'k'; NULL with the status line written. */
static struct ub_port *vxlan_arg(struct ub_bridge *br,
				 const struct ub_cmd_args *a,
				 enum ub_cmd_key k, struct ub_ctl_reply *r)
{
	struct ub_port *p = port_arg(br, a, k, r);

	if (p && !ub_vx_is_port(p)) {
		fail(r, -EINVAL, "%s is not a VXLAN port", p->name);
		return NULL;
	}
	return p;
}

static int cmd_vxlan_del(struct ub_bridge *br, const struct ub_cmd_args *a,
			 struct ub_cmd_ctx *ctx)
{
	struct ub_port *p = vxlan_arg(br, a, UB_CMD_K_IFNAME, ctx->r);

	if (!p)
		return -ENOENT;
	ub_port_del(br, p);
	return 0;
}

static int cmd_vxlan_show(struct ub_bridge *br, const struct ub_cmd_args *a,
			  struct ub_cmd_ctx *ctx)
{
	ub_vx_show(br, ctx->r);
	return 0;
}

static int cmd_vxlan_remote(struct ub_bridge *br, const struct ub_cmd_args *a,
			    struct ub_cmd_ctx *ctx)
{
	struct ub_port *p = vxlan_arg(br, a, UB_CMD_K_IFNAME, ctx->r);
	struct ub_vxlan_ip ip;
	char err[300];
	int ret;

	if (!p)
		return -ENOENT;
	ip = ip_arg(&a->v[UB_CMD_K_REMOTE]);
	ret = ub_vx_remote(br, p, a->v[UB_CMD_K_ACTION].u == UB_CMD_ACTION_ADD,
			   &ip, err, sizeof(err));
	return ret ? fail(ctx->r, ret, "%s", err) : 0;
}

static const ub_cmd_fn handlers[UB_CMD__COUNT] = {
	[UB_CMD_PORT_ADD] = cmd_port_add,
	[UB_CMD_PORT_SET] = cmd_port_set,
	[UB_CMD_PORT_DEL] = cmd_port_del,
	[UB_CMD_PORT_SHOW] = cmd_port_show,
	[UB_CMD_FDB_SHOW] = cmd_fdb_show,
	[UB_CMD_FDB_ADD] = cmd_fdb_add,
	[UB_CMD_FDB_DEL] = cmd_fdb_del,
	[UB_CMD_FDB_FLUSH] = cmd_fdb_flush,
	[UB_CMD_SET_AGEING] = cmd_set_ageing,
	[UB_CMD_SET_LOOP_HOLD] = cmd_set_loop_hold,
	[UB_CMD_SET_VLAN_FILTERING] = cmd_set_vlan_filtering,
	[UB_CMD_VLAN_ADD] = cmd_vlan_change,
	[UB_CMD_VLAN_DEL] = cmd_vlan_change,
	[UB_CMD_VLAN_SHOW] = cmd_vlan_show,
	[UB_CMD_IMPAIR_SET] = cmd_impair_set,
	[UB_CMD_IMPAIR_CLEAR] = cmd_impair_clear,
	[UB_CMD_IMPAIR_SHOW] = cmd_impair_show,
	[UB_CMD_MONITOR] = cmd_monitor,
	[UB_CMD_STATS] = cmd_stats,
	[UB_CMD_CAPTURE_START] = cmd_capture_start,
	[UB_CMD_CAPTURE_WATCH] = cmd_capture_watch,
	[UB_CMD_CAPTURE_STOP] = cmd_capture_stop,
	[UB_CMD_CAPTURE_SHOW] = cmd_capture_show,
	[UB_CMD_NETNS_ADD] = cmd_netns_attach,
	[UB_CMD_NETNS_ATTACH] = cmd_netns_attach,
	[UB_CMD_NETNS_DEL] = cmd_netns_del,
	[UB_CMD_NETNS_SHOW] = cmd_netns_show,
	[UB_CMD_GATEWAY_ADD] = cmd_gateway_add,
	[UB_CMD_GATEWAY_DEL] = cmd_gateway_del,
	[UB_CMD_GATEWAY_SHOW] = cmd_gateway_show,
	[UB_CMD_NAT] = cmd_nat,
	[UB_CMD_VXLAN_ADD] = cmd_vxlan_add,
	[UB_CMD_VXLAN_DEL] = cmd_vxlan_del,
	[UB_CMD_VXLAN_SHOW] = cmd_vxlan_show,
	[UB_CMD_VXLAN_REMOTE] = cmd_vxlan_remote,
	[UB_CMD_TIME_WARP] = cmd_time_warp,
};

void ub_cmd_run(struct ub_bridge *br, int argc, char **argv,
		struct ub_cmd_client *client, struct ub_ctl_reply *r)
{
	/* Large (values are decoded into it): not on the loop's stack. */
	static struct ub_cmd_args a;
	struct ub_cmd_ctx ctx = { r, client };
	char err[400];
	int ret;

	ret = ub_cmd_parse(argc, argv, 0, &a, err, sizeof(err));
	if (ret) {
		fail(r, ret, "%s", err);
		return;
	}
	/* The state file's own words (a port's namespace record, a capture's
	 * owner, the gateway's route_localnet) are the daemon's to replay,
	 * never a client's to claim, whoever it is. */
	for (unsigned int i = 0; client && i < a.spec->nargs; i++) {
		const struct ub_cmd_arg *arg = &a.spec->args[i];

		if (arg->flags & UB_CMD_A_HIDDEN && ub_cmd_has(&a, arg->key)) {
			fail(r, -EPERM, "\"%s\" is for the state file, not a "
			     "request", arg->name);
			return;
		}
	}
	if (handlers[a.id](br, &a, &ctx) == 0) {
		ub_ctl_reply_status(r, 0, NULL);
		br->state_dirty |= (a.spec->flags & UB_CMD_F_CHANGES) != 0;
	}
}
