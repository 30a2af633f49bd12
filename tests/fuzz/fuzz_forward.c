/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for the per-frame pipeline: ub_forward_decide() (runt
 * and source checks, learning, the 802.1D decision) over a real FDB, with
 * the port layer reduced to a port number per frame and a clock that only
 * moves forward. Administrative calls (age, flush, delete, static and
 * local entries, ageing time) are interleaved, as the control socket and
 * the port table do in the daemon.
 *
 * Input:
 *   byte 0      table setup: bit 0 selects a constant hash (every entry in
 *               one chain), bits 1-2 the learned cap (64, 64, 8, 1),
 *               bits 3-4 a cap of their own for the odd ports (none, 1,
 *               3, 8), bit 5 their policy (set: drop, else nolearn)
 *   then ops    one byte each, then its arguments:
 *               bits 0-2 ingress port, bits 3-4 clock step, bits 5-7 kind:
 *               0-3 raw frame:  u16 length (big endian), the frame bytes
 *                               (fewer when the input ends first)
 *               4-5 built frame: src/dst nibbles into mac_pool[], a VLAN
 *                               byte (0: untagged, bit 7: 802.1ad outer)
 *               6   admin:      a selector byte, maybe a few more bytes
 *                               (adds: bit 3 of the selector makes the
 *                               entry local, a port's own MAC)
 *               7   burst:      a count n, then n + 1 frames from distinct
 *                               generated sources (fills the cap), at
 *                               most FUZZ_BURST_MAX per input
 *
 * After each frame the decision is checked against the rules in
 * ARCHITECTURE.md and the FDB against its header's promises; a mismatch
 * calls abort(). Static entries are only ever unicast here (the control
 * socket refuses others), so "a multicast or zero MAC is never in the
 * table" is checked for every entry.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ubridge/eth.h>
#include <ubridge/fdb.h>

#include "forward.h"

#define FUZZ_PORTS 8
#define FUZZ_MAX_STATIC 8
#define FUZZ_AGEING_MS 10000
/* Far from 0, so that 'now' never looks like "unset". */
#define FUZZ_T0 1000000
/* Generated frames per input: enough to cycle the largest cap 4 times. */
#define FUZZ_BURST_MAX 256

/*
 * The checking helpers walk the whole table; left instrumented, their
 * comparisons would be most of the run time and would feed libFuzzer
 * "progress" in the harness rather than in the code under test.
 */
#define FUZZ_NOCOV __attribute__((no_sanitize("coverage")))

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fuzz {
	const uint8_t *p;
	size_t left;
	struct ub_fdb *fdb;
	uint32_t cap;
	uint32_t port_cap;  /* the odd ports' own cap; 0: none */
	enum ub_fdb_cap_policy policy;
	uint32_t burst_left; /* generated frames still allowed */
	uint64_t now;
	/* What the static entries (local ones too) should be: the harness's
	 * own record, so that a frame needs no table walk to know whether its
	 * source is pinned, and the table is checked against it. */
	struct ub_fdb_entry_info statics[FUZZ_MAX_STATIC];
	uint32_t nstatic;
};

/*
 * Sixteen addresses for built frames: few enough that the fuzzer keeps
 * meeting the same ones (moves, same-port drops, static conflicts),
 * varied enough to cover every class the pipeline tells apart.
 */
static const struct ub_mac mac_pool[16] = {
	{{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}},
	{{0x02, 0x00, 0x00, 0x00, 0x00, 0x02}},
	{{0x02, 0x00, 0x00, 0x00, 0x00, 0x03}},
	{{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}},
	{{0x00, 0x00, 0x00, 0x00, 0x00, 0x01}},
	{{0xfe, 0xff, 0xff, 0xff, 0xff, 0xff}},
	{{0x00, 0x00, 0x00, 0x00, 0x00, 0x00}}, /* zero */
	{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}, /* broadcast */
	{{0x01, 0x00, 0x5e, 0x00, 0x00, 0x01}}, /* IPv4 multicast */
	{{0x33, 0x33, 0x00, 0x00, 0x00, 0x01}}, /* IPv6 multicast */
	{{0x01, 0x80, 0xc2, 0x00, 0x00, 0x00}}, /* STP */
	{{0x01, 0x80, 0xc2, 0x00, 0x00, 0x0e}}, /* LLDP */
	{{0x01, 0x80, 0xc2, 0x00, 0x00, 0x0f}}, /* last link-local */
	{{0x01, 0x80, 0xc2, 0x00, 0x00, 0x10}}, /* first one past it */
	{{0x01, 0x80, 0xc2, 0x00, 0x00, 0x21}}, /* GVRP: forwarded */
	{{0x03, 0x00, 0x00, 0x00, 0x00, 0x01}}, /* odd first octet */
};

static const uint64_t clock_steps[4] = {0, 1, UB_FDB_TICK_MS, 4000};
static const uint64_t ageing_choices[8] = {
	0,
	1,
	UB_FDB_TICK_MS,
	FUZZ_AGEING_MS,
	300000,
	UINT64_MAX / 2,
	UINT64_MAX - 1,
	UINT64_MAX,
};
static const uint32_t cap_choices[4] = {64, 64, 8, 1};
static const uint32_t port_cap_choices[4] = {0, 1, 3, 8};

static void fail(const char *what)
{
	fprintf(stderr, "fuzz_forward: property broken: %s\n", what);
	abort();
}

static void check(bool ok, const char *what)
{
	if (!ok)
		fail(what);
}

static bool take(struct fuzz *f, void *out, size_t n)
{
	if (f->left < n)
		return false;
	memcpy(out, f->p, n);
	f->p += n;
	f->left -= n;
	return true;
}

/* last_seen + ageing, saturating like the table's own deadline. */
static uint64_t deadline_of(uint64_t last_seen, uint64_t ageing)
{
	if (ageing > UB_FDB_NO_DEADLINE - last_seen)
		return UB_FDB_NO_DEADLINE;
	return last_seen + ageing;
}

/*
 * The address classes, spelled out here rather than taken from eth.h:
 * the oracle must not share a bug with the code it judges.
 */
static bool is_group(const struct ub_mac *m)
{
	return m->b[0] & 0x01;
}

static bool is_zero(const struct ub_mac *m)
{
	static const struct ub_mac zero;

	return memcmp(m->b, zero.b, UB_ETH_ALEN) == 0;
}

static bool is_link_local(const struct ub_mac *m)
{
	static const uint8_t base[5] = {0x01, 0x80, 0xc2, 0x00, 0x00};

	return memcmp(m->b, base, sizeof(base)) == 0 && m->b[5] <= 0x0f;
}

/* ---- the harness's record of static entries ---- */

FUZZ_NOCOV static int static_find(const struct fuzz *f,
				  const struct ub_mac *mac, uint16_t vid)
{
	for (uint32_t i = 0; i < f->nstatic; i++) {
		if (f->statics[i].vid == vid &&
		    ub_mac_eq(&f->statics[i].mac, mac))
			return (int)i;
	}
	return -1;
}

static void static_remove(struct fuzz *f, uint32_t i)
{
	f->statics[i] = f->statics[--f->nstatic];
}

/* ---- looking at the whole table through its public interface ---- */

struct find_arg {
	struct ub_fdb_key key;
	struct ub_fdb_entry_info info;
	bool found;
};

FUZZ_NOCOV static int find_cb(const struct ub_fdb_entry_info *e, void *arg)
{
	struct find_arg *a = arg;

	if (e->vid != a->key.vid || !ub_mac_eq(&e->mac, &a->key.mac))
		return 0;
	check(!a->found, "one entry per {mac, vid}");
	a->info = *e;
	a->found = true;
	return 0;
}

FUZZ_NOCOV static bool find(const struct ub_fdb *fdb, const struct ub_mac *mac,
			    uint16_t vid, struct ub_fdb_entry_info *info)
{
	struct find_arg a = {.key = {.mac = *mac, .vid = vid}};

	ub_fdb_foreach(fdb, find_cb, &a);
	if (a.found)
		*info = a.info;
	return a.found;
}

struct scan {
	const struct fuzz *f;
	uint64_t now, ageing, min_deadline;
	uint32_t learned, statics, locals;
	uint32_t on_port[FUZZ_PORTS]; /* learned entries per port */
	uint32_t port; /* with 'flushed': none may remain on it */
	bool flushed, with_static;
};

FUZZ_NOCOV static int scan_cb(const struct ub_fdb_entry_info *e, void *arg)
{
	struct scan *s = arg;
	uint64_t d;

	check(!is_group(&e->mac) && !is_zero(&e->mac),
	      "no multicast or zero address in the table");
	check(e->vid <= UB_VLAN_VID_MASK, "vid fits 12 bits");
	check(e->port < FUZZ_PORTS, "port is one we used");
	check(e->remote == 0, "no remote: no port here has any");
	if (s->flushed && e->port == s->port)
		check(!s->with_static && e->is_static, "flush left an entry");
	if (e->is_static) {
		int i = static_find(s->f, &e->mac, e->vid);

		check(i >= 0 && s->f->statics[i].port == e->port &&
			      s->f->statics[i].is_local == e->is_local,
		      "static entries are the ones added");
		s->statics++;
		s->locals += e->is_local;
		return 0;
	}
	check(!e->is_local, "a learned entry is not local");
	s->learned++;
	s->on_port[e->port]++;
	check(e->last_seen >= FUZZ_T0 && e->last_seen <= s->now,
	      "last_seen within the clock's range");
	d = deadline_of(e->last_seen, s->ageing);
	if (d < s->min_deadline)
		s->min_deadline = d;
	return 0;
}

/* The table-wide invariants; returns the scan for callers who want more. */
FUZZ_NOCOV static struct scan check_table(struct fuzz *f,
					  const struct scan *want)
{
	struct scan s = {.f = f,
			 .now = f->now,
			 .ageing = ub_fdb_get_ageing(f->fdb),
			 .min_deadline = UB_FDB_NO_DEADLINE};
	struct ub_fdb_stats st;

	if (want) {
		s.port = want->port;
		s.flushed = want->flushed;
		s.with_static = want->with_static;
	}
	ub_fdb_foreach(f->fdb, scan_cb, &s);
	ub_fdb_get_stats(f->fdb, &st);
	check(st.learned_entries <= f->cap, "learned entries within the cap");
	check(st.learned_entries == s.learned, "learned count matches");
	check(st.static_entries == s.statics, "static count matches");
	check(st.local_entries == s.locals, "local count matches");
	check(s.statics == f->nstatic, "no static entry went missing");
	check(st.static_entries <= FUZZ_MAX_STATIC, "static cap");
	for (uint32_t p = 0; p < FUZZ_PORTS; p++) {
		struct ub_fdb_port_info pi;

		check(ub_fdb_port_get(f->fdb, p, &pi) == 0 &&
			      pi.learned_entries == s.on_port[p],
		      "per-port learned counts match the table");
	}
	check(s.ageing != 0 || s.learned == 0, "ageing 0 keeps nothing");
	/* The loop sleeps until this deadline: it must be exact. */
	check(ub_fdb_next_deadline(f->fdb) == s.min_deadline,
	      "next deadline is the oldest entry's");
	return s;
}

/* ---- one frame ---- */

/* The outer VLAN id as the wire says, read here without forward.c. */
static uint16_t wire_vid(const uint8_t *eth, uint32_t len)
{
	uint16_t type;

	if (len < UB_ETH_HLEN + UB_VLAN_HLEN)
		return 0;
	type = (uint16_t)(eth[12] << 8 | eth[13]);
	if (type != UB_ETH_P_8021Q && type != UB_ETH_P_8021AD)
		return 0;
	return (uint16_t)((eth[14] << 8 | eth[15]) & UB_VLAN_VID_MASK);
}

/* Whether a new source on port 'in' is refused by the port's own cap. */
static bool port_full(const struct fuzz *f, uint32_t in)
{
	struct ub_fdb_port_info pi;

	if (!(in & 1) || !f->port_cap)
		return false;
	check(ub_fdb_port_get(f->fdb, in, &pi) == 0, "port info");
	return pi.learned_entries >= f->port_cap;
}

static void run_frame(struct fuzz *f, const uint8_t *eth, uint32_t len,
		      uint32_t in)
{
	struct ub_fdb_entry_info after;
	struct ub_fdb_stats st0, st1;
	bool full;
	struct ub_mac src, dst;
	uint32_t port, before;
	struct ub_fwd out;
	bool had, known;
	uint16_t vid;
	int pin;
	/* Guards at their defaults: a probe of this id is the loop's. */
	struct ub_fwd_in fin = { .port = in, .now = f->now,
				 .probe_id = 0x7562726964676521ull };

	ub_fdb_get_stats(f->fdb, &st0);
	if (len < UB_ETH_HLEN) {
		ub_forward_decide(f->fdb, eth, len, &fin, &out);
		check(out.kind == UB_FWD_DROP && out.drop == UB_DROP_RUNT,
		      "a runt is dropped as such");
		ub_fdb_get_stats(f->fdb, &st1);
		check(st1.learned == st0.learned, "a runt teaches nothing");
		return;
	}
	memcpy(dst.b, eth, UB_ETH_ALEN);
	memcpy(src.b, eth + UB_ETH_ALEN, UB_ETH_ALEN);
	vid = wire_vid(eth, len);
	had = ub_fdb_lookup(f->fdb, &src, vid, &before, NULL);
	pin = static_find(f, &src, vid);
	full = port_full(f, in);

	ub_forward_decide(f->fdb, eth, len, &fin, &out);
	ub_fdb_get_stats(f->fdb, &st1);

	if (out.kind == UB_FWD_DROP && out.drop == UB_DROP_LOOP) {
		check(len >= UB_ETH_HLEN + 16 && eth[12] == 0x88 &&
			      eth[13] == 0xb5, "only a probe is a loop");
		check(st1.learned == st0.learned && st1.moved == st0.moved,
		      "a probe teaches nothing");
		return;
	}

	if (is_group(&src) || is_zero(&src)) {
		check(out.kind == UB_FWD_DROP && out.drop == UB_DROP_BAD_SRC,
		      "a multicast or zero source is dropped");
		check(out.learn == UB_FDB_LEARN_NONE, "bad source not learned");
		check(!ub_fdb_lookup(f->fdb, &src, vid, &port, NULL),
		      "bad source not in the table");
		check(st1.learned == st0.learned && st1.moved == st0.moved &&
			      st1.static_refused == st0.static_refused &&
			      st1.local_refused == st0.local_refused,
		      "bad source leaves the table alone");
		return;
	}
	check(out.vid == vid, "decision's vid is the wire's");

	/* One of our own MACs from another port: dropped before anything
	 * else, whatever the ageing time, with its owner named. */
	if (pin >= 0 && f->statics[pin].is_local && before != in) {
		check(had && before == f->statics[pin].port,
		      "a local entry is found");
		check(out.learn == UB_FDB_LEARN_LOCAL &&
			      out.kind == UB_FWD_DROP &&
			      out.drop == UB_DROP_OWN_MAC && out.port == before,
		      "own MAC from another port: dropped, owner reported");
		check(ub_fdb_lookup(f->fdb, &src, vid, &port, NULL) &&
			      port == before,
		      "learning never moves a local entry");
		check(st1.local_refused == st0.local_refused + 1 &&
			      st1.static_refused == st0.static_refused,
		      "a local refusal is counted as such");
		return;
	}
	check(out.learn != UB_FDB_LEARN_LOCAL && out.drop != UB_DROP_OWN_MAC,
	      "only a local entry on another port makes an own-MAC drop");

	/* Learning: the source now lives on the ingress port, unless a
	 * static entry pins it elsewhere or ageing 0 forbids learning. */
	if (pin >= 0) {
		check(had && before == f->statics[pin].port,
		      "a static entry is found");
		check(ub_fdb_lookup(f->fdb, &src, vid, &port, NULL) &&
			      port == before,
		      "learning never moves a static entry");
		check(out.learn ==
			      (before == in || ub_fdb_get_ageing(f->fdb) == 0
				       ? UB_FDB_LEARN_NONE
				       : UB_FDB_LEARN_STATIC),
		      "learn result for a static address");
		check(st1.local_refused == st0.local_refused,
		      "a plain static entry is no own MAC");
	} else if (ub_fdb_get_ageing(f->fdb) == 0) {
		check(out.learn == UB_FDB_LEARN_NONE,
		      "ageing 0 learns nothing");
		check(!ub_fdb_lookup(f->fdb, &src, vid, &port, NULL),
		      "ageing 0 keeps no entry");
	} else if (!had && full) {
		/* A new source on a port at its own cap. */
		check(!ub_fdb_lookup(f->fdb, &src, vid, &port, NULL),
		      "a source refused by the port's cap is not learned");
		check(st1.learned == st0.learned &&
			      st1.evicted == st0.evicted &&
			      st1.port_refused == st0.port_refused + 1,
		      "a refusal is counted and evicts nothing");
		if (f->policy == UB_FDB_CAP_DROP) {
			check(out.learn == UB_FDB_LEARN_DROP &&
				      out.kind == UB_FWD_DROP &&
				      out.drop == UB_DROP_FDB_CAP,
			      "drop policy: the frame is dropped");
			return;
		}
		check(out.learn == UB_FDB_LEARN_REFUSED,
		      "nolearn policy: refused, not dropped");
	} else {
		check(ub_fdb_lookup(f->fdb, &src, vid, &port, NULL) &&
			      port == in,
		      "lookup after learning gives the ingress port");
		/*
		 * A known source must have been refreshed: an entry left
		 * stale would age out under a live flow. (A new one was
		 * stamped on creation; its walk is left to check_table(),
		 * which keeps bursts of new sources cheap.)
		 */
		if (had) {
			check(find(f->fdb, &src, vid, &after) &&
				      !after.is_static && after.port == in,
			      "a good source is learned on its ingress port");
			check(after.last_seen / UB_FDB_TICK_MS ==
				      f->now / UB_FDB_TICK_MS,
			      "a known source is refreshed to the tick");
		}
		if (!had) {
			check(out.learn == UB_FDB_LEARN_NEW, "learn: new");
			check(st1.learned_entries ==
				      (st0.learned_entries < f->cap
					       ? st0.learned_entries + 1
					       : f->cap),
			      "learned count after a new entry");
			check(st1.evicted ==
				      st0.evicted +
					      (st0.learned_entries >= f->cap),
			      "eviction only at the cap");
		} else {
			/* Known: never refused, whatever the port's cap. */
			check(out.learn == (before == in ? UB_FDB_LEARN_NONE
							 : UB_FDB_LEARN_MOVED),
			      "learn: known or moved");
			check(st1.learned_entries == st0.learned_entries,
			      "a known source adds no entry");
		}
	}

	/* The decision for the destination. */
	if (is_link_local(&dst)) {
		check(out.kind == UB_FWD_DROP && out.drop == UB_DROP_LINK_LOCAL,
		      "link-local is never forwarded");
		return;
	}
	if (is_group(&dst)) {
		check(out.kind == UB_FWD_FLOOD, "group destination floods");
		return;
	}
	known = ub_fdb_lookup(f->fdb, &dst, vid, &port, NULL);
	if (!known) {
		check(out.kind == UB_FWD_FLOOD, "unknown unicast floods");
	} else if (port == in) {
		check(out.kind == UB_FWD_DROP && out.drop == UB_DROP_SAME_PORT,
		      "destination behind the ingress port is dropped");
	} else {
		check(out.kind == UB_FWD_PORT && out.port == port,
		      "known unicast goes to its port");
	}
	if (out.kind == UB_FWD_PORT)
		check(out.port != in, "never back out of the ingress port");
}

/* ---- the ops ---- */

static void op_raw_frame(struct fuzz *f, uint32_t in)
{
	uint8_t hdr[2], *frame;
	size_t len;

	if (!take(f, hdr, sizeof(hdr)))
		return;
	len = (size_t)(hdr[0] << 8 | hdr[1]);
	if (len > f->left)
		len = f->left;
	/* Its own allocation, so ASan sees any read past the frame. */
	frame = malloc(len ? len : 1);
	if (!frame)
		return;
	memcpy(frame, f->p, len);
	f->p += len;
	f->left -= len;
	run_frame(f, frame, (uint32_t)len, in);
	free(frame);
}

static void op_built_frame(struct fuzz *f, uint32_t in)
{
	uint8_t arg[2], frame[64] = {0};
	uint32_t len = 60, off = 12;

	if (!take(f, arg, sizeof(arg)))
		return;
	memcpy(frame, mac_pool[arg[0] & 0xf].b, UB_ETH_ALEN);
	memcpy(frame + 6, mac_pool[arg[0] >> 4].b, UB_ETH_ALEN);
	if (arg[1]) {
		uint16_t tpid =
			arg[1] & 0x80 ? UB_ETH_P_8021AD : UB_ETH_P_8021Q;

		/* VIDs 0-15 only, so that VLANs collide; bits 4-6 set PCP. */
		frame[off++] = (uint8_t)(tpid >> 8);
		frame[off++] = (uint8_t)tpid;
		frame[off++] = (uint8_t)((arg[1] & 0x70) << 1);
		frame[off++] = arg[1] & 0x0f;
		len += UB_VLAN_HLEN;
	}
	frame[off++] = 0x08; /* IPv4, for realism only */
	frame[off++] = 0x00;
	run_frame(f, frame, len, in);
}

static void op_burst(struct fuzz *f, uint32_t in)
{
	uint8_t n, frame[60] = {0};

	/* Bounded per input, or a few burst bytes make an input slow. */
	if (!take(f, &n, 1) || f->burst_left < n + 1u)
		return;
	f->burst_left -= n + 1u;
	memset(frame, 0xff, UB_ETH_ALEN);
	for (unsigned int i = 0; i <= n; i++) {
		/* Distinct locally administered sources, varying per burst
		 * with the clock so bursts do not just refresh each other. */
		frame[6] = 0x06;
		frame[7] = (uint8_t)(f->now >> 8);
		frame[8] = (uint8_t)f->now;
		frame[9] = (uint8_t)in;
		frame[10] = (uint8_t)(i >> 8);
		frame[11] = (uint8_t)i;
		run_frame(f, frame, sizeof(frame), in);
	}
}

/* A unicast, non-zero MAC from six input bytes (or the pool). */
static bool take_unicast(struct fuzz *f, bool raw, uint8_t sel,
			 struct ub_mac *mac)
{
	if (raw) {
		if (!take(f, mac->b, UB_ETH_ALEN))
			return false;
	} else {
		*mac = mac_pool[sel & 0xf];
	}
	mac->b[0] &= (uint8_t)~1;
	if (is_zero(mac))
		mac->b[5] = 1;
	return true;
}

static void op_admin(struct fuzz *f, uint32_t in)
{
	struct ub_fdb_entry_info info;
	struct ub_fdb_stats st0, st1;
	struct scan want = {0};
	struct ub_mac mac;
	uint8_t sel, vb;
	uint32_t n, port;
	uint16_t vid;
	bool had, local;
	int ret, pin;

	if (!take(f, &sel, 1))
		return;
	ub_fdb_get_stats(f->fdb, &st0);
	switch (sel & 7) {
	case 0: {
		struct scan s;

		n = ub_fdb_age(f->fdb, f->now);
		ub_fdb_get_stats(f->fdb, &st1);
		check(st1.aged == st0.aged + n, "aged counter");
		check(st1.learned_entries + n == st0.learned_entries,
		      "age removes what it counts");
		s = check_table(f, NULL);
		check(s.min_deadline > f->now,
		      "after ageing, nothing is due any more");
		return;
	}
	case 1:
	case 2:
		want.port = (sel & 7) == 1 ? in : UB_FDB_PORT_ANY;
		want.with_static = sel & 8;
		n = ub_fdb_flush(f->fdb, want.port, UB_FDB_REMOTE_ANY,
				 want.with_static);
		for (uint32_t i = f->nstatic; want.with_static && i-- > 0;) {
			if (want.port == UB_FDB_PORT_ANY ||
			    f->statics[i].port == want.port)
				static_remove(f, i);
		}
		ub_fdb_get_stats(f->fdb, &st1);
		check(st0.learned_entries + st0.static_entries ==
			      st1.learned_entries + st1.static_entries + n,
		      "flush removes what it counts");
		if (want.port == UB_FDB_PORT_ANY) {
			check(st1.learned_entries == 0, "flush all learned");
			check(!want.with_static || st1.static_entries == 0,
			      "flush all static");
		} else {
			want.flushed = true;
		}
		check_table(f, &want);
		return;
	case 3:
	case 6:
		if (!take_unicast(f, (sel & 7) == 6, sel >> 4, &mac) ||
		    !take(f, &vb, 1))
			return;
		/* Pool addresses keep to VIDs 0-15, like built frames. */
		vid = (sel & 7) == 6 ? (uint16_t)(vb << 4 | (sel >> 4))
				     : vb & 0x0f;
		had = ub_fdb_lookup(f->fdb, &mac, vid, &port, NULL);
		ret = ub_fdb_del(f->fdb, &mac, vid);
		check(ret == (had ? 0 : -ENOENT), "del result");
		pin = static_find(f, &mac, vid);
		if (pin >= 0)
			static_remove(f, (uint32_t)pin);
		check(!ub_fdb_lookup(f->fdb, &mac, vid, &port, NULL),
		      "deleted entry is gone");
		break;
	case 4:
	case 7:
		if (!take_unicast(f, (sel & 7) == 7, sel >> 4, &mac) ||
		    !take(f, &vb, 1))
			return;
		vid = (sel & 7) == 7 ? (uint16_t)(vb << 4 | (sel >> 4))
				     : vb & 0x0f;
		pin = static_find(f, &mac, vid);
		local = sel & 8;
		ret = local ? ub_fdb_add_local(f->fdb, &mac, vid, in)
			    : ub_fdb_add_static(f->fdb, &mac, vid, in, 0);
		if (ret == 0) {
			if (pin < 0) {
				pin = (int)f->nstatic++;
				check(f->nstatic <= FUZZ_MAX_STATIC,
				      "static cap honoured");
				f->statics[pin].mac = mac;
				f->statics[pin].vid = vid;
			}
			f->statics[pin].port = in;
			f->statics[pin].is_local = local;
			check(find(f->fdb, &mac, vid, &info) &&
				      info.is_static && info.port == in &&
				      info.is_local == local,
			      "static entry added");
			check(ub_fdb_lookup(f->fdb, &mac, vid, &port, NULL) &&
				      port == in,
			      "static entry looked up");
		} else {
			check(ret == -ENOSPC, "add_static error code");
			check(st0.static_entries >= FUZZ_MAX_STATIC && pin < 0,
			      "-ENOSPC only when full");
		}
		break;
	case 5:
		ub_fdb_set_ageing(f->fdb, ageing_choices[sel >> 5]);
		check(ub_fdb_get_ageing(f->fdb) == ageing_choices[sel >> 5],
		      "ageing reads back");
		break;
	}
	check_table(f, NULL);
}

static uint32_t const_hash(const struct ub_fdb_key *key, uint64_t secret)
{
	return 7;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz f = {.p = data,
			 .left = size,
			 .now = FUZZ_T0,
			 .burst_left = FUZZ_BURST_MAX};
	struct ub_fdb_cfg cfg;
	uint32_t frames = 0;
	uint8_t setup, op;

	if (!take(&f, &setup, 1))
		return 0;
	ub_fdb_cfg_default(&cfg);
	cfg.secret = 0x5eed5eed5eed5eedull;
	cfg.max_learned = cap_choices[(setup >> 1) & 3];
	cfg.max_static = FUZZ_MAX_STATIC;
	cfg.ageing_ms = FUZZ_AGEING_MS;
	cfg.ports = FUZZ_PORTS;
	if (setup & 1)
		cfg.hash = const_hash;
	if (ub_fdb_new(&cfg, &f.fdb) != 0)
		return 0;
	f.cap = cfg.max_learned;
	f.port_cap = port_cap_choices[(setup >> 3) & 3];
	f.policy = setup & 0x20 ? UB_FDB_CAP_DROP : UB_FDB_CAP_NOLEARN;
	for (uint32_t p = 1; p < FUZZ_PORTS; p += 2)
		check(ub_fdb_port_set_cap(f.fdb, p, f.port_cap, f.policy) == 0,
		      "port cap set");

	while (take(&f, &op, 1)) {
		uint32_t in = op & (FUZZ_PORTS - 1);

		f.now += clock_steps[(op >> 3) & 3];
		switch (op >> 5) {
		case 0:
		case 1:
		case 2:
		case 3:
			op_raw_frame(&f, in);
			break;
		case 4:
		case 5:
			op_built_frame(&f, in);
			break;
		case 6:
			op_admin(&f, in);
			break;
		case 7:
			op_burst(&f, in);
			break;
		}
		/* A table walk per frame would cost more than the frame:
		 * after every 8th frame and every other op is enough to
		 * catch a broken table before it is freed. */
		if (op >> 5 >= 6 || (++frames & 7) == 0)
			check_table(&f, NULL);
	}
	check_table(&f, NULL);
	ub_fdb_free(f.fdb);
	return 0;
}
