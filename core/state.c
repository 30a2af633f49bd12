/* SPDX-License-Identifier: MIT */
/*
 * The state file: the bridge's configuration as the control commands that
 * rebuild it, one request line each (the control protocol's own grammar),
 * written atomically whenever the configuration changed and replayed at
 * start. So "kill -TERM" (or a crash) and a new start give the same bridge.
 *
 *   # comment
 *   set ageing 300
 *   port add veth-ns1 netns ns1 peer eth0 made yes
 *   port add veth7 max-learned 64 policy drop
 *   ...
 *   end LINES FNV64
 *
 * The last line counts the lines before it and carries a 64-bit FNV-1a
 * hash of their bytes: a truncated or damaged file is detected, set aside
 * (renamed *.corrupt-TIME) and reported, never half used.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bridge_private.h"
#include "capture.h"
#include "cmd.h"
#include "gateway.h"
#include "vxlan.h"
#include "log.h"
#include "port.h"
#include "state.h"
#include "worker.h"

#define UB_STATE_MAX (16 << 20)

static int state_fdb_one(const struct ub_fdb_entry_info *e, void *arg)
{
	const struct ub_fdb_walk *w = arg;
	const struct ub_port *p = ub_port_by_id(&w->br->ports, e->port);
	char mac[UB_MAC_STRLEN], dst[64] = "";

	/* Learned entries are not configuration; a port's own MAC comes
	 * back with the port. */
	if (!e->is_static || e->is_local)
		return 0;
	if (e->remote && p->io.ops->remote_fmt) {
		strcpy(dst, " dst ");
		p->io.ops->remote_fmt(&p->io, e->remote, dst + 5,
				      sizeof(dst) - 5);
	}
	ub_ctl_reply_record(w->r, "fdb add %s dev %s vlan %u%s",
			    ub_mac_fmt(&e->mac, mac), p->name, e->vid, dst);
	return 0;
}

struct vlan_line {
	const struct ub_port *p;
	struct ub_ctl_reply *b;
};

static void state_vlan_run(uint16_t lo, uint16_t hi, bool untagged,
			   void *arg)
{
	struct vlan_line *l = arg;
	char vids[16];

	snprintf(vids, sizeof(vids), lo == hi ? "%u" : "%u-%u", lo, hi);
	ub_ctl_reply_record(l->b, "vlan add dev %s vid %s%s", l->p->name,
			    vids, untagged ? " untagged" : "");
}

/* A port's VLANs: its runs of VIDs, then its PVID. */
static void state_vlan(const struct ub_port *p, struct ub_ctl_reply *b)
{
	struct vlan_line l = { p, b };

	if (!p->vlan)
		return;
	/* None at all: what is left of the default after "vlan del". */
	if (!ub_vlan_any(p->vlan->member))
		ub_ctl_reply_record(b, "vlan del dev %s vid %u-%u", p->name,
				    UB_VLAN_VID_MIN, UB_VLAN_VID_MAX);
	ub_vlan_runs(p->vlan, state_vlan_run, &l);
	if (p->vlan->pvid)
		ub_ctl_reply_record(b, "vlan add dev %s vid %u pvid%s", p->name,
				    p->vlan->pvid,
				    ub_vlan_bit(p->vlan->untagged,
						p->vlan->pvid) ?
					    " untagged" : "");
}

/* A port's impairments. */
static void state_impair(const struct ub_port *p, struct ub_ctl_reply *b)
{
	for (int d = 0; d < 2; d++) {
		const struct ub_impair *im = p->impair[d];
		unsigned words = 2;
		char spec[512];

		if (!im || im->clearing)
			continue;
		ub_impair_fmt(&im->cfg, spec, sizeof(spec));
		for (const char *c = spec; *c; c++)
			words += *c == ' ';
		/* The wire spells a run of words with its count. */
		ub_ctl_reply_record(b, "impair set %s %u of %s %s", p->name,
				    words, ub_impair_dir_names[d], spec);
	}
}

/* A port's guards and group forward mask, where not the defaults. */
static void state_guard(const struct ub_port *p, struct ub_ctl_reply *b)
{
	const struct ub_port_guard *g = &p->guard;
	char mask[32] = "";

	if (!g->loop_off && !g->bpdu_guard && !g->group_fwd_mask)
		return;
	if (g->group_fwd_mask)
		snprintf(mask, sizeof(mask), " group-fwd-mask %u",
			 g->group_fwd_mask);
	ub_ctl_reply_record(b, "port set %s%s%s%s", p->name,
			    g->loop_off ? " loop-guard off" : "",
			    g->bpdu_guard ? " bpdu-guard on" : "", mask);
}

/* What a port has beside its "port add" line. */
static void state_port(const struct ub_port *p, struct ub_ctl_reply *b)
{
	state_guard(p, b);
	state_vlan(p, b);
	state_impair(p, b);
}

static void state_ports(struct ub_bridge *br, struct ub_ctl_reply *b)
{
	for (uint32_t i = 0; i < br->ports.n; i++) {
		const struct ub_port *p = ub_port_nth(&br->ports, i);
		struct ub_fdb_port_info cap;
		char ns[3 * 256], opts[64] = "";

		if (ub_gw_is_port(br, p))
			continue;
		/* The port's own FDB cap, when it differs from none. */
		ub_fdb_port_get(br->fdb, br->ports.fwd[i], &cap);
		if (cap.max_learned || cap.policy != UB_FDB_CAP_NOLEARN)
			snprintf(opts, sizeof(opts), " max-learned %u policy %s",
				 cap.max_learned,
				 ub_cap_policy_names[cap.policy]);
		if (ub_vx_is_port(p)) {
			/* Its cap, if any, follows as "port set". */
			ub_vx_state(p, b);
			if (opts[0])
				ub_ctl_reply_record(b, "port set %s%s",
						    p->name, opts);
		} else if (p->netns) {
			ub_ctl_word_encode(p->netns, ns, sizeof(ns));
			ub_ctl_reply_record(b, "port add %s netns %s peer %s "
					    "made %s%s%s%s", p->name, ns, p->peer,
					    p->netns_created ? "yes" : "no",
					    p->container ? " container " : "",
					    p->container ? p->container : "",
					    opts);
		} else if (p->io.ops->flags & UB_PORT_F_OWN_DEVICE) {
			ub_ctl_reply_record(b, "port add %s type tap mtu %u%s",
					    p->name, p->io.mtu, opts);
		} else {
			ub_ctl_reply_record(b, "port add %s%s", p->name, opts);
		}
		state_port(p, b);
	}
}

/* Appends " KEY VALUE" to the line in 'buf'. */
static void opt(char *buf, size_t len, const char *key, unsigned long long v)
{
	size_t n = strlen(buf);

	snprintf(buf + n, len - n, " %s %llu", key, v);
}

static void state_captures(struct ub_bridge *br, struct ub_ctl_reply *b)
{
	static const char *const dirs[] = { "", "in", "out", "both" };

	for (unsigned i = 0; i < UB_CAPTURES_MAX; i++) {
		const struct ub_cap_slot *s = &br->caps.slot[i];
		char path[3 * sizeof(s->path)], filter[3 * sizeof(s->filter)];
		char opts[sizeof(filter) + 128] = "";

		if (!s->cap || !s->saved)
			continue;
		ub_ctl_word_encode(s->path, path, sizeof(path));
		if (s->snaplen)
			opt(opts, sizeof(opts), "snaplen", s->snaplen);
		if (s->count)
			opt(opts, sizeof(opts), "count", s->count);
		if (s->rotate_bytes) {
			opt(opts, sizeof(opts), "rotate-size",
			    s->rotate_bytes >> 20);
			opt(opts, sizeof(opts), "rotate-files",
			    s->rotate_files);
		}
		if (s->filter[0]) {
			ub_ctl_word_encode(s->filter, filter, sizeof(filter));
			snprintf(opts + strlen(opts),
				 sizeof(opts) - strlen(opts), " filter %s",
				 filter);
		}
		/* Appending: a capture that carries on keeps what it has. */
		ub_ctl_reply_record(b, "capture start %s %s dir %s%s append yes "
				    "owner %u", s->port_name, path,
				    dirs[s->dir], opts, (unsigned)s->owner);
	}
}

/* Writes 'len' bytes to 'path' through a temporary file, fsync'd, then
 * renamed over it: a reader sees the old file or the new, whole. */
static int write_atomic(const char *path, const char *data, size_t len)
{
	char tmp[600], dir[600];
	int fd, ret = 0;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	while (len && !ret) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno != EINTR)
			ret = -errno;
		if (n > 0) {
			data += n;
			len -= (size_t)n;
		}
	}
	if (!ret && fsync(fd))
		ret = -errno;
	close(fd);
	if (!ret && rename(tmp, path))
		ret = -errno;
	if (ret) {
		unlink(tmp);
		return ret;
	}
	/* The rename itself must reach the disk too. */
	snprintf(dir, sizeof(dir), "%s", path);
	fd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	return 0;
}

/* The gateway, then its port's guards and VLANs, which only then exist. */
static void state_gateway(struct ub_bridge *br, struct ub_ctl_reply *b)
{
	ub_ctl_reply_record(b, "gateway add %s%s", br->gw.cidr,
			    br->gw.localnet ? " localnet yes" : "");
	for (uint32_t i = 0; i < br->ports.n; i++) {
		const struct ub_port *p = ub_port_nth(&br->ports, i);

		if (ub_gw_is_port(br, p))
			state_port(p, b);
	}
}

int ub_state_save(struct ub_bridge *br)
{
	struct ub_ctl_reply b;
	struct ub_fdb_walk walk = { br, &b };
	unsigned lines = 0;
	int ret;

	if (!br->state_path[0] || br->state_loading)
		return 0;
	ub_ctl_reply_init(&b);
	ub_ctl_reply_record(&b, "# ubridge state of bridge %s: replayed at "
			    "start, rewritten on every change", br->name);
	ub_ctl_reply_record(&b, "set ageing %llu",
			    (unsigned long long)ub_fdb_get_ageing(br->fdb) /
				    1000);
	if (br->vlan_filtering)
		ub_ctl_reply_record(&b, "set vlan-filtering on");
	if (br->guard.hold_ms != UB_GUARD_HOLD_MS)
		ub_ctl_reply_record(&b, "set loop-hold %llu",
				    (unsigned long long)br->guard.hold_ms / 1000);
	state_ports(br, &b);
	if (br->gw.cidr[0])
		state_gateway(br, &b);
	if (br->gw.nat)
		ub_ctl_reply_record(&b, "nat on");
	/* Static entries change only here, in the control thread: the walk
	 * may let the workers in between its slices. */
	for (uint32_t cursor = 0; cursor != UB_FDB_WALK_DONE;) {
		ub_fdb_foreach_slice(br->fdb, &cursor, 4096, state_fdb_one,
				     &walk);
		ub_bridge_yield(br);
	}
	state_captures(br, &b);
	for (size_t i = 0; i < b.len; i++)
		lines += b.buf[i] == '\n';
	ub_ctl_reply_record(&b, "end %u %016llx", lines,
			    (unsigned long long)ub_fnv1a(UB_FNV1A_INIT, b.buf, b.len));
	/* The file is written and synced without the lock (the control
	 * thread's, so nothing else saves meanwhile). */
	ub_bridge_unlock(br);
	ret = b.oom ? -ENOMEM : write_atomic(br->state_path, b.buf, b.len);
	ub_bridge_lock(br);
	if (ret)
		ub_log_rl(UB_LOG_ERR, "%s: cannot write the state file %s: %s",
			  br->name, br->state_path, strerror(-ret));
	ub_ctl_reply_free(&b);
	return ret;
}

/* Checks the "end" line; on success returns the body's length. */
static int check(const char *buf, size_t len, const char **why)
{
	unsigned long long hash;
	const char *end;
	unsigned lines = 0, n;
	size_t body;

	if (!len || buf[len - 1] != '\n' || memchr(buf, '\0', len)) {
		*why = "truncated";
		return -EINVAL;
	}
	for (end = buf + len - 1; end > buf && end[-1] != '\n'; end--)
		;
	body = (size_t)(end - buf);
	for (size_t i = 0; i < body; i++)
		lines += buf[i] == '\n';
	if (sscanf(end, "end %u %16llx\n", &n, &hash) != 2) {
		*why = "no end line (truncated?)";
		return -EINVAL;
	}
	if (n != lines || hash != ub_fnv1a(UB_FNV1A_INIT, buf, body)) {
		*why = "checksum mismatch";
		return -EINVAL;
	}
	return (int)body;
}

static void set_aside(struct ub_bridge *br, const char *why)
{
	char aside[600];

	snprintf(aside, sizeof(aside), "%s.corrupt-%lld", br->state_path,
		 (long long)time(NULL));
	if (rename(br->state_path, aside))
		snprintf(aside, sizeof(aside), "(cannot rename: %s)",
			 strerror(errno));
	ub_log(UB_LOG_ERR, "%s: state file %s is corrupt (%s): set aside as "
	       "%s; starting with an empty configuration", br->name,
	       br->state_path, why, aside);
}

/*
 * How long a restore waits, in all, for interfaces that "exist already".
 * The TAP devices of a daemon that was killed outlive it for a moment:
 * their files are closed with its io_uring instance, which the kernel
 * tears down after the process is gone. A restart right after a crash
 * would otherwise find the gateway's TAP still there and skip it.
 */
#define UB_RESTORE_EXIST_WAIT_MS 3000
#define UB_RESTORE_EXIST_STEP_MS 50

/* Runs saved request 'line' once, replying into 'r'; returns its status
 * (0 or -errno) with the reason for a failure in '*why' (in 'r'). */
static int run_line(struct ub_bridge *br, const char *line, size_t len,
		    struct ub_ctl_reply *r, const char **why)
{
	char req[UB_CTL_REQ_MAX], *argv[UB_CTL_ARGS_MAX];
	const char *last;
	int argc, err;

	memcpy(req, line, len);
	req[len] = '\n';
	argc = ub_ctl_req_decode(req, len + 1, argv, UB_CTL_ARGS_MAX);
	if (argc <= 0) {
		*why = "malformed line";
		return -EINVAL;
	}
	ub_cmd_run(br, argc, argv, NULL, r);
	if (r->len && r->buf[r->len - 1] == '\n')
		r->buf[--r->len] = '\0';
	last = r->len ? r->buf + r->len : "";
	while (last > r->buf && last[-1] != '\n')
		last--;
	if (!ub_ctl_status_decode(last, &err, why)) {
		*why = "no status";
		return -EINVAL;
	}
	return err;
}

/* Runs one saved request line; reports what the bridge refused. A line
 * refused with EEXIST is tried again while '*wait_ms' lasts. */
static void replay(struct ub_bridge *br, const char *line, size_t len,
		   uint32_t *wait_ms)
{
	static const struct timespec step = {
		.tv_nsec = UB_RESTORE_EXIST_STEP_MS * 1000000L
	};
	struct ub_ctl_reply r;
	const char *why;
	int err;

	if (len + 1 > UB_CTL_REQ_MAX) {
		ub_log(UB_LOG_WARN, "%s: state: line too long, skipped",
		       br->name);
		return;
	}
	ub_ctl_reply_init(&r);
	while ((err = run_line(br, line, len, &r, &why)) == -EEXIST &&
	       *wait_ms) {
		*wait_ms -= *wait_ms < UB_RESTORE_EXIST_STEP_MS ?
				    *wait_ms : UB_RESTORE_EXIST_STEP_MS;
		nanosleep(&step, NULL);
		ub_ctl_reply_free(&r);
		ub_ctl_reply_init(&r);
	}
	if (err)
		ub_log(UB_LOG_WARN, "%s: state: \"%.*s\" not restored: %s",
		       br->name, (int)len, line, why);
	ub_ctl_reply_free(&r);
}

void ub_bridge_restore(struct ub_bridge *br)
{
	const char *why = NULL, *p, *nl;
	uint32_t wait_ms = UB_RESTORE_EXIST_WAIT_MS;
	struct stat st;
	char *buf;
	int fd, body;
	ssize_t n;

	if (!br->state_path[0])
		return;
	fd = open(br->state_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno != ENOENT)
			ub_log(UB_LOG_ERR, "%s: cannot read the state file %s: "
			       "%s", br->name, br->state_path, strerror(errno));
		return;
	}
	if (fstat(fd, &st) || st.st_size > UB_STATE_MAX ||
	    !(buf = malloc((size_t)st.st_size + 1))) {
		close(fd);
		return set_aside(br, "unreadable or too large");
	}
	n = read(fd, buf, (size_t)st.st_size);
	close(fd);
	/* check()'s sscanf reads its input up to a NUL. */
	buf[n > 0 ? n : 0] = '\0';
	body = n == st.st_size ? check(buf, (size_t)n, &why) : -EIO;
	if (body < 0) {
		set_aside(br, why ? why : "short read");
		free(buf);
		return;
	}
	ub_bridge_lock(br);
	br->state_loading = true;
	for (p = buf; p < buf + body; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(buf + body - p));
		if (nl > p && *p != '#')
			replay(br, p, (size_t)(nl - p), &wait_ms);
	}
	br->state_loading = false;
	/* Written back: what could not be restored drops out of it. */
	br->state_dirty = true;
	ub_bridge_unlock(br);
	free(buf);
	ub_log(UB_LOG_INFO, "%s: configuration restored from %s", br->name,
	       br->state_path);
}
