/* SPDX-License-Identifier: MIT */
/*
 * Loop protection, on by default, and BPDU guard: a port that closes a
 * loop, or hears spanning tree where it must not, is blocked (it neither
 * receives nor sends frames) for a hold time, and the other ports go on.
 *
 * A loop shows itself two ways. Each second the bridge sends a probe out
 * of every interface port (a frame of the local experimental EtherType
 * carrying this bridge's id and the port's): one that comes back, on any
 * port, proves a loop even when nothing else moves. And a broadcast that
 * went round makes its source's address jump between ports faster than
 * any host moves: more than UB_GUARD_FLAP_MAX moves onto a port in a
 * second. Of the two ports of a probe's loop the one with the higher id
 * is blocked, so that one block breaks it. A blocked port keeps receiving
 * probes: each one extends the block, so it lifts only a hold time after
 * the loop is gone.
 */
#ifndef UB_CORE_GUARD_H
#define UB_CORE_GUARD_H

#include <stdbool.h>
#include <stdint.h>

#include <ubridge/ctl.h>

struct ub_bridge;
struct ub_port;

/* Moves of learned addresses onto one port in a second that mean a loop. */
#define UB_GUARD_FLAP_MAX 100
/* How long a block lasts after the last sign of the loop (default, ms). */
#define UB_GUARD_HOLD_MS 10000
/* How often each port sends a probe (ms). */
#define UB_GUARD_PROBE_MS 1000

enum ub_guard_why {
	UB_GUARD_NONE,
	UB_GUARD_LOOP,	/* a probe of ours came back */
	UB_GUARD_FLAP,	/* addresses flapping onto the port */
	UB_GUARD_BPDU,	/* a BPDU on a port with bpdu-guard */
};

/* A port's settings and state; zero is "loop guard on, nothing else". */
struct ub_port_guard {
	bool loop_off;		/* --loop-guard off */
	bool bpdu_guard;	/* --bpdu-guard on */
	uint16_t group_fwd_mask; /* 01:80:C2:00:00:0X forwarded when bit X */
	enum ub_guard_why blocked; /* UB_GUARD_NONE: not blocked */
	uint32_t peer;		/* LOOP: the port whose probe came back */
	uint64_t until;		/* blocked until then (ms) */
	bool news;		/* blocked by a worker: the control thread
				 * logs it and flushes the port's entries */
	uint64_t moves, moves_seen; /* addresses that moved onto the port:
				 * in all, and at the last check */
	uint64_t blocks;	/* times blocked */
};

/* The bridge's side. */
struct ub_guard {
	int probe_fd;		/* sends the probes; -1: none */
	uint64_t id;		/* random: our probes carry it */
	uint64_t hold_ms;	/* "set loop-hold" */
	uint64_t next_probe;	/* ms */
	bool news;		/* a port has 'news' */
};

/* Opens the probe socket and draws the bridge's id. 0 or -errno. */
int ub_guard_init(struct ub_guard *g);
void ub_guard_close(struct ub_guard *g);

/*
 * A worker saw reason 'why' on port 'p' (LOOP: the probe of port 'peer'):
 * the port is blocked from now on, or its block extended. The control
 * thread is asked to do the rest.
 */
void ub_guard_hit(struct ub_bridge *br, struct ub_port *p,
		  enum ub_guard_why why, uint32_t peer);

/*
 * Housekeeping of the control thread: blocks news of, flapping checked
 * and probes sent ('all': the once-a-second upkeep), blocks whose time is
 * up lifted.
 */
void ub_guard_upkeep(struct ub_bridge *br, bool all);

/* What "port show" says of the port: " blocked=... loop_guard=..." */
void ub_guard_show(const struct ub_bridge *br, const struct ub_port *p,
		   char *buf, size_t len);

#endif
