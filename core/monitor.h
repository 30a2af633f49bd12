/* SPDX-License-Identifier: MIT */
/*
 * "ubctl monitor": what happens on the bridge (FDB learned, moved, aged,
 * evicted, flushed; ports added, removed, up, down; ports blocked and
 * unblocked by the guards; impairments set and cleared), as it happens,
 * to any number of clients.
 *
 * Events go into one ring of UB_MON_EVENTS, numbered; each monitor reads it
 * at its own cursor. Adding an event is a few stores under the bridge lock,
 * and nothing at all while no monitor listens. The control thread drains
 * the ring to every monitor (woken by a worker once per drain at most):
 * it writes records into the monitor's buffer under the lock and sends
 * them without it, never blocking. A monitor whose reader is too slow
 * falls more than the ring behind: it loses the oldest events and gets a
 * record saying how many. A monitor ends when its reader goes away.
 *
 * A record is one line of key=value words (ctl.h), e.g.
 *   event=moved ts=1764962475308 mac=02:00:00:00:00:01 vlan=0
 *   port=veth-b from=veth-a
 * which ubctl shows as text or JSON.
 */
#ifndef UB_CORE_MONITOR_H
#define UB_CORE_MONITOR_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include <ubridge/eth.h>

#define UB_MON_EVENTS 4096
#define UB_MON_MAX 16
#define UB_MON_BUF 16384

struct ub_bridge;

enum ub_mon_kind {
	UB_MON_LEARNED,
	UB_MON_MOVED,
	UB_MON_AGED,
	UB_MON_EVICTED,
	UB_MON_FLUSHED,
	UB_MON_PORT_ADDED,
	UB_MON_PORT_REMOVED,
	UB_MON_PORT_UP,
	UB_MON_PORT_DOWN,
	UB_MON_BLOCKED,
	UB_MON_UNBLOCKED,
	UB_MON_IMPAIRED,
	UB_MON_CLEARED,
	UB_MON__COUNT,
};

/* What a monitor asks for ("monitor fdb port loop"). */
enum ub_mon_class {
	UB_MON_C_FDB = 1 << 0,
	UB_MON_C_PORT = 1 << 1,
	UB_MON_C_LOOP = 1 << 2,
	UB_MON_C_IMPAIR = 1 << 3,
	UB_MON_C_ALL = UB_MON_C_FDB | UB_MON_C_PORT | UB_MON_C_LOOP |
		       UB_MON_C_IMPAIR,
};

struct ub_mon_event {
	uint64_t ts;		/* wall clock, ms since the epoch */
	enum ub_mon_kind kind;
	struct ub_mac mac;
	uint16_t vid;
	uint32_t n;		/* flushed: entries */
	char port[IFNAMSIZ];	/* "" for a flush of all ports */
	char from[IFNAMSIZ];	/* moved: the port before; blocked: why;
				 * impaired, cleared: the direction */
	char text[256];		/* impaired: the impairment's words (the
				 * longest are under 200 bytes) */
};

struct ub_monitor {
	int fd;
	unsigned classes;	/* enum ub_mon_class; 0: the slot is free */
	uint64_t next;		/* the next event's number to read */
	/* Since when (br->now) its socket has taken nothing; 0: it takes. */
	uint64_t stuck_since;
	uint32_t len, sent;	/* buf[sent..len) is to send */
	char buf[UB_MON_BUF];
};

struct ub_monitors {
	struct ub_mon_event *ring; /* made with the first monitor */
	uint64_t head;		/* events added, ever */
	uint32_t n;		/* monitors */
	unsigned classes;	/* what any of them asked for */
	bool wake_asked;	/* a worker woke the control thread */
	struct ub_monitor mon[UB_MON_MAX];
};

/*
 * Adds a monitor on connection 'fd' (the monitor's from then on: it
 * closes it) for 'classes' (not 0). 0, -ENOSPC (UB_MON_MAX listen
 * already) or -ENOMEM.
 */
int ub_mon_add(struct ub_bridge *br, int fd, unsigned classes);
/* An event; 'port', 'from' may be NULL. Nothing while nobody listens. */
void ub_mon_event(struct ub_bridge *br, enum ub_mon_kind kind,
		  const struct ub_mac *mac, uint16_t vid, const char *port,
		  const char *from, uint32_t n);
/* An impairment of 'port' in direction 'dir' set ('spec': its words) or
 * cleared (NULL). */
void ub_mon_impair(struct ub_bridge *br, const char *port, const char *dir,
		   const char *spec);
/* End of a worker's turn: wakes the control thread if events wait. */
void ub_mon_poke(struct ub_bridge *br);
/* A monitor whose reader took nothing for this long is ended. */
#define UB_MON_STUCK_MS 10000
/* One whose socket was full is tried again this soon. */
#define UB_MON_RETRY_MS 10

/*
 * The control thread: sends what waits to every monitor, as much as its
 * socket takes, and ends those whose reader went away (checked every
 * call when 'all') or took nothing for UB_MON_STUCK_MS. Returns when it
 * wants to be called again (br->now; UINT64_MAX: when woken).
 */
uint64_t ub_mon_flush(struct ub_bridge *br, bool all);
/* Closes every monitor and frees the ring. */
void ub_mon_free(struct ub_bridge *br);

#endif
