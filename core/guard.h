/* SPDX-License-Identifier: MIT */
/*
 * Loop protection, on by default, and BPDU guard: a port that closes a
 * loop, or hears spanning tree where it must not, is blocked (it neither
 * receives nor sends frames) for a hold time, and the other ports go on.
 *
 * A loop shows itself two ways. Each second the bridge sends a probe out
 * of every interface port (a frame of the local experimental EtherType
 * carrying this bridge's id, the port's id and a random tag the port
 * draws anew each second): one that comes back, on any port, with the
 * tag its port drew this second or the last, proves a loop even when
 * nothing else moves. (The tag is what a host on a port could not make
 * up: a forged probe "from" another port blocks nothing.) Of the two ports
 * of a probe's loop the one with the higher id is blocked, so that one
 * block breaks it. A blocked port keeps sending and receiving probes: each
 * one that comes back extends the block, so it lifts only a hold time
 * after the loop is gone.
 *
 * And a broadcast that went round makes its source's address jump between
 * ports faster than any host moves: more than UB_GUARD_FLAP_MAX moves onto
 * a port (from another port, not between a VXLAN port's remotes) in a
 * second. Of the ports over it, the one with the highest id is blocked.
 * Nothing comes back to extend such a block (a loop through a TAP or
 * VXLAN port sends no probes round), so each block of a port that follows
 * the last one within a minute lasts twice as long, up to 16 hold times.
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
	uint32_t moves_blocked;	/* FLAP: the moves of the second it tripped */
	char peer[16];		/* LOOP: the port whose probe came back */
	uint64_t until;		/* blocked until then (ms) */
	uint64_t tag[2];	/* the tags of its probes: now, a second ago */
	uint32_t strikes;	/* FLAP blocks in a row (each within a
				 * minute of the last) */
	uint64_t unblocked;	/* when its last block ended (ms) */
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
 * A worker saw reason 'why' on port 'p' (LOOP: a probe claiming to come
 * from port 'peer' with 'tag'; one whose tag is not that port's is
 * ignored): the port, or the loop's other one, is blocked from now on, or
 * its block extended. The control thread is asked to do the rest.
 */
void ub_guard_hit(struct ub_bridge *br, struct ub_port *p,
		  enum ub_guard_why why, uint32_t peer, uint64_t tag);

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
