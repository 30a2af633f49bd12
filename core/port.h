/* SPDX-License-Identifier: MIT */
/*
 * The port table: each port's slot, state and counters, and the list of
 * forwarding ports that flooding walks. A port's id is the index of its
 * slot (FDB entries, requests' user_data and captures name ports by id);
 * only this table turns ids into ports and back.
 *
 * Every function here runs under the bridge lock (see worker.h). Ports
 * are attached, detached and closed only by the control thread, which
 * lets the lock go while an interface is opened or closed (the kernel
 * waits for RCU grace periods there); a port's receive is armed and
 * cancelled only by its own worker, so another caller asks it (worker.h,
 * "rx_*_wanted"): ub_port_arm_rx() and ub_port_cancel_rx() take 'self',
 * the worker whose thread calls.
 */
#ifndef UB_CORE_PORT_H
#define UB_CORE_PORT_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include <ubridge/claim.h>
#include <ubridge/io.h>

#include "forward.h"
#include "guard.h"
#include "impair.h"
#include "vlan.h"

#define UB_PORTS_MAX 4096

struct ub_bridge;
struct ub_worker;

enum ub_port_state {
	UB_PORT_FREE,
	UB_PORT_FORWARDING,
	/* Detached: waits for its receive and sends to complete, then for
	 * the control thread to close it (ub_port_reap). */
	UB_PORT_CLOSING,
};

struct ub_port {
	struct ub_port_io io;
	enum ub_port_state state;
	char name[IFNAMSIZ];
	/* The interface is ours (claim.h) until the port's I/O is closed. */
	struct ub_claim claim;
	/* Set when "netns add|attach" made this port's veth: the namespace
	 * ("pid:N" for one named by a process, "net:[INODE]" for one given
	 * by descriptor that has no name), the peer's name in it, whether
	 * the namespace was made too, and the container the port is for.
	 * malloc'd; NULL otherwise. */
	char *netns;
	char *container;
	uint64_t netns_ino; /* its inode when attached; 0: not known */
	/* Its VLANs ("vlan add"), malloc'd; NULL: none given, the default
	 * (ub_port_vlan). */
	struct ub_vlan_port *vlan;
	/* Its impairments, in and out ("impair set"); NULL: none. */
	struct ub_impair *impair[2];
	char peer[IFNAMSIZ];
	bool netns_created;
	bool link_up;    /* administratively up and running (carrier) */
	/* The worker that receives from the port: its ring holds the port's
	 * receive and buffers, and only its thread queues requests there. */
	uint32_t worker;
	/* Its receive's requests pending in the ring (a back end may arm
	 * more than one: ub_port_ops.rx_wakeups); 0: not armed. */
	uint8_t rx_armed;
	bool reap_asked; /* CLOSING: its worker woke the control thread */
	bool gone;       /* its worker found the interface gone */
	bool upkeep_asked; /* its worker woke the control thread for it */
	bool rx_starved; /* receive ended for lack of buffers: re-arm later */
	/* Asked of the port's worker by another thread. */
	bool rx_arm_wanted, rx_cancel_wanted;
	uint64_t rx_packets, rx_bytes, tx_packets, tx_bytes;
	/* New sources forwarded but not learned: the port was at its FDB
	 * cap with the nolearn policy. */
	uint64_t learn_refused;
	uint64_t drops[UB_DROP__COUNT];
	struct ub_port_guard guard;
};

/* An interface being attached (ub_port_open_many): in, its name; out,
 * 0 or -errno with the reason in 'err'. The rest is port.c's. */
struct ub_port_prep {
	const char *ifname;
	const void *cfg; /* in: the back end's configuration (ub_port_io) */
	int ret;
	char err[300];
	struct ub_bridge *br;
	struct ub_port_io io;
	struct ub_claim claim;
	bool up;
};

struct ub_ports {
	uint32_t n;        /* FORWARDING ports, their ids in fwd[0..n) */
	uint32_t nclosing; /* CLOSING ports */
	bool gone;         /* a port has 'gone' set */
	bool upkeep;       /* a port has 'upkeep_asked' set */
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
 * (ub_port_announce), once it has set the device up. The lock is let go
 * while the interface is checked and opened. */
int ub_port_open(struct ub_bridge *br, const char *ifname,
		 const struct ub_port_ops *ops, const void *cfg, char *err,
		 size_t errlen);
/* The same for pp[0..n): their slow parts run in parallel threads, so
 * that the kernel's waits overlap; each gets its own result. Returns how
 * many were attached. */
uint32_t ub_port_open_many(struct ub_bridge *br, struct ub_port_prep *pp,
			   uint32_t n, const struct ub_port_ops *ops);
/* Logs that 'p' is attached, with its MTU as it is now. */
void ub_port_announce(struct ub_bridge *br, const struct ub_port *p);
/* Sets the address the port answers to (its own MAC, a local FDB entry:
 * frames to it never flood, and no other port may use it as a source),
 * replacing the one it had. */
void ub_port_set_mac(struct ub_bridge *br, struct ub_port *p,
		     const struct ub_mac *mac);
/* Detaches port 'p': it is gone from every listing and its interface is
 * free at once; its slot is freed by ub_port_reap() once nothing of it is
 * in flight. */
void ub_port_del(struct ub_bridge *br, struct ub_port *p);
/* The port's VLANs, for VLAN filtering. */
static inline const struct ub_vlan_port *ub_port_vlan(const struct ub_port *p)
{
	return p->vlan ? p->vlan : &ub_vlan_default;
}

/* A detached port with nothing in flight, ready for ub_port_reap(). */
bool ub_port_done(struct ub_bridge *br, struct ub_port *p);
/* Removes the FDB entries of port 'port' (UB_FDB_PORT_ANY: of every
 * port), the static and local ones too when 'with_static'; returns how
 * many. In slices, letting waiting workers in between (the control
 * thread's: a table of hundreds of thousands takes milliseconds). */
uint32_t ub_port_flush_fdb(struct ub_bridge *br, uint32_t port,
			   bool with_static);
/* The port's interface is gone: logged, and the port detached. */
void ub_port_gone(struct ub_bridge *br, struct ub_port *p);
/* A worker found it gone: it asks the control thread to detach it. */
void ub_port_gone_ask(struct ub_bridge *br, struct ub_port *p);
/* The port's worker, after each turn while 'p' is detached: once it is
 * done, wakes the control thread to close it (once). */
void ub_port_reap_ask(struct ub_bridge *br, struct ub_port *p);
/* Detaches the ports found gone, and closes the detached ports that are
 * done (the control thread's; the lock is let go while each closes). */
void ub_port_reap(struct ub_bridge *br);
/* A worker found p->io.rx_upkeep set: it asks the control thread for
 * ub_port_upkeep() (once). */
void ub_port_upkeep_ask(struct ub_bridge *br, struct ub_port *p);
/* The control thread: upkeep of the receives that asked for it, and with
 * 'all' of every port's (ub_port_ops.rx_upkeep_*). The slow steps run
 * without the lock, many ports' at once. */
void ub_port_upkeep(struct ub_bridge *br, bool all);
/* Closes every port, from several threads at once; the workers have
 * stopped. */
void ub_ports_close_all(struct ub_bridge *br);
/* (Re-)arms the port's receive: at once when 'self' is its worker, else
 * by asking that worker. */
int ub_port_arm_rx(struct ub_bridge *br, struct ub_worker *self,
		   struct ub_port *p);
void ub_port_cancel_rx(struct ub_bridge *br, struct ub_worker *self,
		       struct ub_port *p);

#endif
