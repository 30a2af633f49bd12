/* SPDX-License-Identifier: MIT */
/* Loop protection and BPDU guard (see guard.h). */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bridge_private.h"
#include "forward.h"
#include "guard.h"
#include "log.h"
#include "port.h"
#include "worker.h"

static const char *const why_names[] = {
	[UB_GUARD_NONE] = "no",
	[UB_GUARD_LOOP] = "loop",
	[UB_GUARD_FLAP] = "flapping",
	[UB_GUARD_BPDU] = "bpdu",
};

int ub_guard_init(struct ub_guard *g)
{
	g->hold_ms = UB_GUARD_HOLD_MS;
	/* Protocol 0: the socket sends and never receives. */
	g->probe_fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (g->probe_fd < 0)
		return -errno;
	/* Different for every run, so a restarted bridge does not take an
	 * old probe still in flight for a new loop, nor two bridges each
	 * other's. */
	if (getrandom(&g->id, sizeof(g->id), 0) != sizeof(g->id))
		return -errno;
	return 0;
}

void ub_guard_close(struct ub_guard *g)
{
	if (g->probe_fd >= 0)
		close(g->probe_fd);
	g->probe_fd = -1;
}

/* Blocks 'p' for 'why' (or extends its block) for 'hold' ms. */
static void block(struct ub_bridge *br, struct ub_port *p,
		  enum ub_guard_why why, const struct ub_port *peer,
		  uint64_t hold)
{
	struct ub_port_guard *g = &p->guard;

	/* Extended, never cut short (a flapping block may be longer). */
	if (!g->blocked || g->until < br->now + hold)
		g->until = br->now + hold;
	if (g->blocked)
		return;
	g->blocked = why;
	snprintf(g->peer, sizeof(g->peer), "%s", peer ? peer->name : "");
	g->blocks++;
	g->news = true;
	if (!br->guard.news) {
		br->guard.news = true;
		ub_worker_wake(ub_ctl_worker(br));
	}
}

void ub_guard_hit(struct ub_bridge *br, struct ub_port *p,
		  enum ub_guard_why why, uint32_t peer, uint64_t tag)
{
	struct ub_port *q, *hi, *lo, *t;

	if (why != UB_GUARD_LOOP) {
		block(br, p, why, NULL, br->guard.hold_ms);
		return;
	}
	/* Only a probe that left port q carries one of its tags. */
	if (peer >= UB_PORTS_MAX)
		return;
	q = ub_port_by_id(&br->ports, peer);
	if (q->state != UB_PORT_FORWARDING || !tag ||
	    (tag != q->guard.tag[0] && tag != q->guard.tag[1])) {
		ub_log_rl(UB_LOG_WARN, "%s: port %s: a loop probe that did not "
			  "leave this bridge (forged?), ignored", br->name,
			  p->name);
		return;
	}
	/* A loop through p and q: one block breaks it, never of a port whose
	 * guard is off. One of them blocked already (a blocked port still
	 * sends and takes probes): the loop is still there, its block goes
	 * on. Else the port with the higher id. */
	hi = ub_port_id(&br->ports, q) > ub_port_id(&br->ports, p) ? q : p;
	lo = hi == p ? q : p;
	if (lo->guard.blocked && !lo->guard.loop_off)
		t = lo;
	else if (!hi->guard.loop_off)
		t = hi;
	else
		t = !lo->guard.loop_off ? lo : NULL;
	if (t)
		block(br, t, why, t == p ? q : p, br->guard.hold_ms);
}

/* A second's moves onto each port: more than UB_GUARD_FLAP_MAX is a loop.
 * One port at a time, the highest of those over it (a loop's two ports
 * both are; a later port more likely the culprit): its block may be all
 * it takes. */
static void check_flapping(struct ub_bridge *br)
{
	struct ub_port *worst = NULL;
	uint64_t worst_moves = 0;

	for (uint32_t i = 0; i < br->ports.n; i++) {
		struct ub_port *p = ub_port_nth(&br->ports, i);
		struct ub_port_guard *g = &p->guard;
		uint64_t moves = g->moves - g->moves_seen;

		g->moves_seen = g->moves;
		if (g->loop_off || g->blocked || moves <= UB_GUARD_FLAP_MAX)
			continue;
		if (!worst || br->ports.fwd[i] > ub_port_id(&br->ports, worst)) {
			worst = p;
			worst_moves = moves;
		}
	}
	if (!worst)
		return;
	/* Blocked again soon after the last: twice as long each time. */
	if (br->now - worst->guard.unblocked > 60000)
		worst->guard.strikes = 0;
	worst->guard.moves_blocked = (uint32_t)(worst_moves > UINT32_MAX ?
						UINT32_MAX : worst_moves);
	block(br, worst, UB_GUARD_FLAP, NULL,
	      br->guard.hold_ms << (worst->guard.strikes < 4 ?
				    worst->guard.strikes : 4));
	worst->guard.strikes++;
}

/* Logs a new block, and forgets what the port learned while it looped. */
static void announce(struct ub_bridge *br, struct ub_port *p)
{
	struct ub_port_guard *g = &p->guard;

	static const char *const why[] = {
		[UB_GUARD_LOOP] = "loop", [UB_GUARD_FLAP] = "flapping",
		[UB_GUARD_BPDU] = "bpdu",
	};

	g->news = false;
	if (g->blocked != UB_GUARD_NONE)
		ub_mon_event(br, UB_MON_BLOCKED, NULL, 0, p->name,
			     why[g->blocked], 0);
	switch (g->blocked) {
	case UB_GUARD_LOOP:
		ub_log(UB_LOG_WARN, "%s: port %s blocked: a loop (a probe of "
		       "port %s came back); again in %llu s after it is gone",
		       br->name, p->name, g->peer,
		       (unsigned long long)br->guard.hold_ms / 1000);
		break;
	case UB_GUARD_FLAP:
		ub_log(UB_LOG_WARN, "%s: port %s blocked: a loop (%u addresses "
		       "moved onto it in a second); again in %llu s",
		       br->name, p->name, g->moves_blocked,
		       (unsigned long long)(g->until - br->now + 999) / 1000);
		break;
	case UB_GUARD_BPDU:
		ub_log(UB_LOG_WARN, "%s: port %s blocked: a spanning tree BPDU "
		       "came in (bpdu-guard); again in %llu s after the last",
		       br->name, p->name,
		       (unsigned long long)br->guard.hold_ms / 1000);
		break;
	case UB_GUARD_NONE:
		return;
	}
	/* A loop changed the topology: what was learned while it stood may
	 * point anywhere (802.1D flushes too). A BPDU: the port's only. */
	ub_port_flush_fdb(br, g->blocked == UB_GUARD_BPDU ?
			  ub_port_id(&br->ports, p) : UB_FDB_PORT_ANY, false);
}

/* One probe out of each interface port whose guard is on, without the
 * lock: a send may wait for the interface's queue. */
static void send_probes(struct ub_bridge *br)
{
	struct sockaddr_ll to = { .sll_family = AF_PACKET,
				  .sll_halen = UB_ETH_ALEN,
				  .sll_addr = UB_PROBE_DST };
	/* Only the control thread sends probes. */
	static uint8_t frame[UB_PORTS_MAX][UB_PROBE_LEN];
	static uint64_t tag[UB_PORTS_MAX];
	static int ifindex[UB_PORTS_MAX];
	uint32_t n = 0, nports = br->ports.n;
	ssize_t got;

	/* Tags nobody can foretell: a host that saw its own port's cannot
	 * make up another's. Drawn without the lock; only this thread
	 * changes the port table, so nports holds. */
	ub_bridge_unlock(br);
	got = getrandom(tag, sizeof(tag[0]) * nports, 0);
	ub_bridge_lock(br);
	if (got != (ssize_t)(sizeof(tag[0]) * nports))
		return;
	for (uint32_t i = 0; i < nports; i++) {
		struct ub_port *p = ub_port_nth(&br->ports, i);
		struct ub_port_guard *g = &p->guard;

		if (g->loop_off || !p->link_up ||
		    p->io.ops->flags & (UB_PORT_F_OWN_DEVICE |
					UB_PORT_F_NO_DEVICE))
			continue;
		g->tag[1] = g->tag[0];
		g->tag[0] = tag[i] | 1; /* never 0: no tag */
		ub_probe_build(frame[n], &p->io.mac, br->guard.id,
			       br->ports.fwd[i], g->tag[0]);
		ifindex[n++] = p->io.ifindex;
	}
	ub_bridge_unlock(br);
	for (uint32_t i = 0; i < n; i++) {
		to.sll_ifindex = ifindex[i];
		/* Lost now and then (a full queue, a link going down): the
		 * next second sends another. */
		(void)!sendto(br->guard.probe_fd, frame[i], UB_PROBE_LEN,
			      MSG_DONTWAIT, (struct sockaddr *)&to, sizeof(to));
	}
	ub_bridge_lock(br);
}

void ub_guard_upkeep(struct ub_bridge *br, bool all)
{
	struct ub_guard *gd = &br->guard;

	if (all)
		check_flapping(br);
	if (all || gd->news) {
		gd->news = false;
		for (uint32_t i = 0; i < br->ports.n; i++) {
			struct ub_port *p = ub_port_nth(&br->ports, i);
			struct ub_port_guard *g = &p->guard;

			if (g->news)
				announce(br, p);
			if (g->blocked && br->now >= g->until) {
				g->blocked = UB_GUARD_NONE;
				g->unblocked = br->now;
				ub_log(UB_LOG_INFO, "%s: port %s forwards again",
				       br->name, p->name);
				ub_mon_event(br, UB_MON_UNBLOCKED, NULL, 0,
					     p->name, NULL, 0);
			}
		}
	}
	if (gd->probe_fd >= 0 && br->now >= gd->next_probe) {
		gd->next_probe = br->now + UB_GUARD_PROBE_MS;
		send_probes(br);
	}
}

void ub_guard_show(const struct ub_bridge *br, const struct ub_port *p,
		   char *buf, size_t len)
{
	const struct ub_port_guard *g = &p->guard;

	snprintf(buf, len, " blocked=%s blocked_for_ms=%llu blocks=%llu "
		 "loop_guard=%s bpdu_guard=%s group_fwd_mask=0x%x",
		 why_names[g->blocked],
		 (unsigned long long)(g->blocked && g->until > br->now ?
					      g->until - br->now : 0),
		 (unsigned long long)g->blocks, g->loop_off ? "off" : "on",
		 g->bpdu_guard ? "on" : "off", g->group_fwd_mask);
}
