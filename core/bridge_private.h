/* SPDX-License-Identifier: MIT */
/*
 * The bridge: the parts each file of core/ owns, put together. A part's
 * type and functions live in its own header; this one only assembles
 * them and holds what is the whole bridge's (name, clock, settings).
 * Everything here is under the bridge lock (worker.h).
 */
#ifndef UB_CORE_BRIDGE_PRIVATE_H
#define UB_CORE_BRIDGE_PRIVATE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/signalfd.h>

#include <ubridge/bridge.h>
#include <ubridge/ctl.h>
#include <ubridge/fdb.h>
#include <ubridge/io.h>

#include "capture.h"
#include "conn.h"
#include "gateway.h"
#include "guard.h"
#include "link.h"
#include "monitor.h"
#include "port.h"
#include "worker.h"

/* What a request's user_data says it is. 0: nobody cares (cancels). */
enum ub_op {
	UB_OP_NONE,
	UB_OP_RX,        /* id: port */
	UB_OP_TX,        /* id: port, aux: buffer */
	UB_OP_ACCEPT,
	UB_OP_CONN_RECV, /* id: connection */
	UB_OP_CONN_SEND, /* id: connection */
	UB_OP_SIGNAL,
	UB_OP_NETLINK,   /* link events */
	UB_OP_TX_FLUSH,  /* id: port; sends what its TX ring holds */
	UB_OP_WAKE,      /* id: worker; another thread has work for it */
};

struct ub_bridge {
	char name[UB_BRIDGE_NAME_MAX + 1];
	pthread_mutex_t lock; /* worker.h */
	uint32_t lock_waiters; /* threads in ub_bridge_lock(), atomic */
	bool stop;
	uint32_t nworkers;
	struct ub_worker workers[UB_WORKERS_MAX];
	struct ub_worker ctl_worker; /* the control thread (loop.c) */
	struct ub_fdb *fdb;
	uint32_t max_learned;
	uint64_t now;     /* ms, read once per turn; includes warp_ms */
	uint64_t warp_ms; /* added by "time warp", for tests */
	/* Settings from the command line. */
	const struct ub_port_ops *packet_ops; /* for AF_PACKET ports */
	bool tx_ring_unicast; /* frames to one port use TX rings too */
	uint32_t ring_bytes;  /* each ring port's full RX ring; 0: the default */
	uint32_t ring_idle_bytes; /* its idle ring; 0: none */
	uint64_t upkeep_ms;   /* the next upkeep of every port (loop.c) */
	bool busy_poll;       /* never sleep: poll rings and completions */
	bool vlan_filtering;  /* "set vlan-filtering on" (vlan.h) */
	/* Impairments at work (impair.h), and the seed of their random
	 * numbers ("ubridge --seed"). */
	uint32_t nimpaired;
	uint64_t impair_seed;
	uint64_t spin_ns;     /* else: poll this long after the last frame */
	/* The state file ("" when none), and whether the configuration
	 * changed since it was written. */
	char state_path[512];
	bool state_dirty;
	bool state_loading; /* replaying it: nothing to write meanwhile */
	int sig_fd;
	struct signalfd_siginfo siginfo;
	struct ub_ports ports;
	struct ub_caps caps;
	struct ub_ctl_server ctl;
	struct ub_links links;
	struct ub_gateway gw;
	struct ub_guard guard;
	struct ub_monitors mon;
};

/* The control thread: control connections, signals, link events, timers,
 * and ports attached and closed; the thread that calls ub_bridge_new() and
 * ub_bridge_run(). It has a ring of its own and no ports. */
static inline struct ub_worker *ub_ctl_worker(struct ub_bridge *br)
{
	return &br->ctl_worker;
}

/* What a walk over the FDB (ub_fdb_foreach) that writes records needs. */
struct ub_fdb_walk {
	struct ub_bridge *br;
	struct ub_ctl_reply *r;
};

/* The monotonic clock in ns. */
uint64_t ub_mono_ns(void);
/* Re-reads the clock (plus warp) into br->now; returns ub_mono_ns(). */
uint64_t ub_bridge_clock(struct ub_bridge *br);

/* 64-bit FNV-1a of 'n' bytes, continuing from 'h' (UB_FNV1A_INIT to
 * start): the state file's checksum, the gateway's MAC. */
#define UB_FNV1A_INIT 0xcbf29ce484222325ull
static inline uint64_t ub_fnv1a(uint64_t h, const void *data, size_t n)
{
	const uint8_t *p = data;

	while (n--) {
		h ^= *p++;
		h *= 0x100000001b3ull;
	}
	return h;
}

#endif
