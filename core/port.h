/* SPDX-License-Identifier: MIT */
/*
 * The port table: each port's slot, state and counters, and the list of
 * forwarding ports that flooding walks. A port's id is the index of its
 * slot (FDB entries, requests' user_data and captures name ports by id);
 * only this table turns ids into ports and back.
 *
 * Every function here runs under the bridge lock (see worker.h). The ones
 * that start or end a port's I/O take 'self', the worker whose thread
 * calls: a port's receive is armed and cancelled only by its own worker,
 * so another caller asks it (worker.h, "rx_*_wanted").
 */
#ifndef UB_CORE_PORT_H
#define UB_CORE_PORT_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include <ubridge/claim.h>
#include <ubridge/io.h>

#include "forward.h"

#define UB_PORTS_MAX 1024

struct ub_bridge;
struct ub_worker;

enum ub_port_state {
	UB_PORT_FREE,
	UB_PORT_FORWARDING,
	/* Detached: waits for its receive and sends to complete. */
	UB_PORT_CLOSING,
};

struct ub_port {
	struct ub_port_io io;
	enum ub_port_state state;
	char name[IFNAMSIZ];
	/* The interface is ours (claim.h) until the port's I/O is closed. */
	struct ub_claim claim;
	/* Set when "netns add|attach" made this port's veth: the namespace
	 * ("pid:N" for one named by a process), the peer's name in it, and
	 * whether the namespace was made too. malloc'd; NULL otherwise. */
	char *netns;
	char peer[IFNAMSIZ];
	bool netns_created;
	bool link_up;    /* administratively up and running (carrier) */
	/* The worker that receives from the port: its ring holds the port's
	 * receive and buffers, and only its thread queues requests there. */
	uint32_t worker;
	bool rx_armed;   /* a receive is pending in the ring */
	bool rx_starved; /* receive ended for lack of buffers: re-arm later */
	/* Asked of the port's worker by another thread. */
	bool rx_arm_wanted, rx_cancel_wanted;
	uint64_t rx_packets, rx_bytes, tx_packets, tx_bytes;
	/* New sources forwarded but not learned: the port was at its FDB
	 * cap with the nolearn policy. */
	uint64_t learn_refused;
	uint64_t drops[UB_DROP__COUNT];
};

struct ub_ports {
	uint32_t n;        /* FORWARDING ports, their ids in fwd[0..n) */
	uint32_t nclosing; /* CLOSING ports */
	uint32_t fwd[UB_PORTS_MAX];
	struct ub_port slot[UB_PORTS_MAX];
};

static inline uint32_t ub_port_id(const struct ub_ports *t,
				  const struct ub_port *p)
{
	return (uint32_t)(p - t->slot);
}

static inline struct ub_port *ub_port_by_id(struct ub_ports *t, uint32_t id)
{
	return &t->slot[id];
}

/* The i-th forwarding port, for 0 <= i < t->n. */
static inline struct ub_port *ub_port_nth(struct ub_ports *t, uint32_t i)
{
	return &t->slot[t->fwd[i]];
}

/* A forwarding port by interface name or index; NULL when none. */
struct ub_port *ub_port_find(struct ub_ports *t, const char *name);
struct ub_port *ub_port_by_ifindex(struct ub_ports *t, int ifindex);

/* The ring of the port's worker. */
struct ub_ring *ub_port_ring(struct ub_bridge *br, const struct ub_port *p);

/* Attaches 'ifname' through back end 'ops' on the worker with the fewest
 * ports, claiming it for this bridge. An interface of another bridge
 * (ubridge's or the kernel's: -EBUSY), loopback or not Ethernet (-EINVAL)
 * is refused. On failure returns -errno with the reason in 'err'. A
 * device the port makes (UB_PORT_F_OWN_DEVICE) is announced by its maker
 * (ub_port_announce), once it has set the device up. */
int ub_port_open(struct ub_bridge *br, struct ub_worker *self,
		 const char *ifname, const struct ub_port_ops *ops, char *err,
		 size_t errlen);
/* Logs that 'p' is attached, with its MTU as it is now. */
void ub_port_announce(struct ub_bridge *br, const struct ub_port *p);
/* Closes the I/O of a port that is not FREE and gives its claim up. */
void ub_port_close(struct ub_bridge *br, struct ub_port *p);
/* Sets the address the port answers to (its own MAC, a local FDB entry:
 * frames to it never flood, and no other port may use it as a source),
 * replacing the one it had. */
void ub_port_set_mac(struct ub_bridge *br, struct ub_port *p,
		     const struct ub_mac *mac);
/* Starts detaching port 'p'; it is gone from every listing at once, and
 * its slot is freed once nothing of it is in flight. */
void ub_port_del(struct ub_bridge *br, struct ub_worker *self,
		 struct ub_port *p);
/* Frees a detached port's slot if nothing of it is in flight. */
void ub_port_maybe_free(struct ub_bridge *br, struct ub_port *p);
/* (Re-)arms the port's receive: at once when 'self' is its worker, else
 * by asking that worker. */
int ub_port_arm_rx(struct ub_bridge *br, struct ub_worker *self,
		   struct ub_port *p);
void ub_port_cancel_rx(struct ub_bridge *br, struct ub_worker *self,
		       struct ub_port *p);

#endif
