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

/* Blocks 'p' for 'why' (or extends its block). */
static void block(struct ub_bridge *br, struct ub_port *p,
		  enum ub_guard_why why, uint32_t peer)
{
	struct ub_port_guard *g = &p->guard;

	g->until = br->now + br->guard.hold_ms;
	if (g->blocked)
		return;
	g->blocked = why;
	g->peer = peer;
	g->blocks++;
	g->news = true;
	if (!br->guard.news) {
		br->guard.news = true;
		ub_worker_wake(ub_ctl_worker(br));
	}
}

void ub_guard_hit(struct ub_bridge *br, struct ub_port *p,
		  enum ub_guard_why why, uint32_t peer)
{
	struct ub_port *q, *hi, *lo, *t;

	if (why != UB_GUARD_LOOP) {
		block(br, p, why, 0);
		return;
	}
	/* A loop through p and the probe's port q: one block breaks it. One
	 * of them blocked already (a blocked port still sends and takes
	 * probes): the loop is still there, its block goes on. Else the
	 * port with the higher id, unless its guard is off; then the
	 * other's, unless its guard is off too. */
	q = peer < UB_PORTS_MAX ? ub_port_by_id(&br->ports, peer) : p;
	if (q->state != UB_PORT_FORWARDING)
		q = p;
	hi = ub_port_id(&br->ports, q) > ub_port_id(&br->ports, p) ? q : p;
	lo = hi == p ? q : p;
	if (lo->guard.blocked && !hi->guard.blocked)
		t = lo;
	else if (hi->guard.blocked || !hi->guard.loop_off)
		t = hi;
	else
		t = !lo->guard.loop_off ? lo : NULL;
	if (t)
		block(br, t, why, ub_port_id(&br->ports, t == p ? q : p));
}

/* A second's moves onto each port: more than UB_GUARD_FLAP_MAX is a loop.
 * One port at a time: its block may be all it takes. */
static void check_flapping(struct ub_bridge *br)
{
	bool blocked = false;

	for (uint32_t i = 0; i < br->ports.n; i++) {
		struct ub_port_guard *g = &ub_port_nth(&br->ports, i)->guard;
		uint64_t moves = g->moves - g->moves_seen;

		g->moves_seen = g->moves;
		if (!blocked && !g->loop_off && !g->blocked &&
		    moves > UB_GUARD_FLAP_MAX) {
			block(br, ub_port_nth(&br->ports, i), UB_GUARD_FLAP,
			      (uint32_t)(moves > UINT32_MAX ? UINT32_MAX :
							     moves));
			blocked = true;
		}
	}
}

/* Logs a new block, and forgets what the port learned while it looped. */
static void announce(struct ub_bridge *br, struct ub_port *p)
{
	struct ub_port_guard *g = &p->guard;

	g->news = false;
	switch (g->blocked) {
	case UB_GUARD_LOOP:
		ub_log(UB_LOG_WARN, "%s: port %s blocked: a loop (a probe of "
		       "port %s came back); again in %llu s after it is gone",
		       br->name, p->name,
		       ub_port_by_id(&br->ports, g->peer)->name,
		       (unsigned long long)br->guard.hold_ms / 1000);
		break;
	case UB_GUARD_FLAP:
		ub_log(UB_LOG_WARN, "%s: port %s blocked: a loop (%u addresses "
		       "moved onto it in a second); again in %llu s",
		       br->name, p->name, g->peer,
		       (unsigned long long)br->guard.hold_ms / 1000);
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
	ub_port_flush_fdb(br, ub_port_id(&br->ports, p), false);
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
	static int ifindex[UB_PORTS_MAX];
	uint32_t n = 0;

	for (uint32_t i = 0; i < br->ports.n; i++) {
		struct ub_port *p = ub_port_nth(&br->ports, i);

		if (p->guard.loop_off || !p->link_up ||
		    p->io.ops->flags & (UB_PORT_F_OWN_DEVICE |
					UB_PORT_F_NO_DEVICE))
			continue;
		ub_probe_build(frame[n], &p->io.mac, br->guard.id,
			       br->ports.fwd[i]);
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
				ub_log(UB_LOG_INFO, "%s: port %s forwards again",
				       br->name, p->name);
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
