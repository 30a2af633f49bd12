/* SPDX-License-Identifier: MIT */
/* The bridge's state, shared by the loop (bridge.c) and the control
 * commands (cmd.c). */
#ifndef UB_CORE_BRIDGE_PRIVATE_H
#define UB_CORE_BRIDGE_PRIVATE_H

#include <net/if.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/signalfd.h>

#include <ubridge/bridge.h>
#include <ubridge/ctl.h>
#include <ubridge/fdb.h>
#include <ubridge/io.h>
#include <ubridge/netlink.h>

#include "forward.h"

#define UB_PORTS_MAX 1024
/* Completions handled per loop turn, and so frames per forwarding batch. */
#define UB_BATCH_MAX 64
/* Sends in flight per egress port; past it, frames for it are dropped. */
#define UB_PORT_TX_MAX 512
/* Control connections served at once. */
#define UB_CONNS_MAX 16
/* A connection's whole life (request in, reply out) is bounded by this. */
#define UB_CONN_TIMEOUT_MS 10000
/* Captures running at once. */
#define UB_CAPTURES_MAX 16
/* A capture's port when it covers every port. */
#define UB_CAP_ALL UINT32_MAX
#define UB_CAP_IN 1
#define UB_CAP_OUT 2

/* What a request's user_data says it is. 0: nobody cares (cancels). */
enum ub_op {
	UB_OP_NONE,
	UB_OP_RX,      /* id: port */
	UB_OP_TX,      /* id: port, aux: buffer */
	UB_OP_ACCEPT,
	UB_OP_CONN_RECV, /* id: connection */
	UB_OP_CONN_SEND, /* id: connection */
	UB_OP_SIGNAL,
	UB_OP_NETLINK,   /* link events */
	UB_OP_TX_FLUSH,  /* id: port; sends what its TX ring holds */
	UB_OP_WAKE,      /* id: worker; another thread has work for it */
};

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
	/* Set when "netns add|attach" made this port's veth: the namespace
	 * ("pid:N" for one named by a process), the peer's name in it, and
	 * whether the namespace was made too. malloc'd; NULL otherwise. */
	char *netns;
	char peer[IFNAMSIZ];
	bool netns_created;
	bool link_up;    /* administratively up and running (carrier) */
	/* The worker that receives from the port: its ring holds the port's
	 * receive, buffers and wake-ups, and only its thread queues requests
	 * there (see "Workers" in bridge.c). */
	uint32_t worker;
	bool rx_armed;   /* a receive is pending in the ring */
	bool rx_starved; /* receive ended for lack of buffers: re-arm later */
	/* Asked of the port's worker by another thread. */
	bool rx_arm_wanted, rx_cancel_wanted;
	uint32_t tx_inflight; /* sends and TX ring flushes */
	/* This turn, with a TX ring: frames put into it and not flushed yet;
	 * whether the port is on the turn's list to flush; whether a frame
	 * too large for the ring went as a send (then so do the turn's
	 * later frames to the port, after it: frames keep their order). */
	uint32_t tx_ring_put;
	bool tx_touched;
	bool tx_ring_off;
	uint64_t rx_packets, rx_bytes, tx_packets, tx_bytes;
	/* New sources forwarded but not learned: the port was at its FDB
	 * cap with the nolearn policy. */
	uint64_t learn_refused;
	uint64_t drops[UB_DROP__COUNT];
};

struct ub_conn {
	int fd; /* -1: slot free */
	uint64_t deadline;
	bool cancelled; /* past its deadline: its request is being cancelled */
	bool refused;   /* its peer may not use the bridge: told so, no more */
	size_t req_len;
	size_t sent;
	struct ub_ctl_reply reply;
	char req[UB_CTL_REQ_MAX];
};

struct ub_cap_slot {
	struct ub_capture *cap; /* NULL: slot free */
	uint32_t id;            /* as ubctl shows it */
	uint32_t port;          /* port id, or UB_CAP_ALL */
	uint8_t dir;            /* UB_CAP_IN | UB_CAP_OUT */
	bool stream;            /* capture watch */
	bool saved;             /* in the state file (not a stream, not from
				 * ubridge's command line, which makes it
				 * again at every start) */
	char port_name[IFNAMSIZ];
	char path[512];
	char filter[512];
	/* The options it started with, for the state file. */
	uint32_t snaplen, rotate_files;
	uint64_t count, rotate_bytes;
};

/* A thread of the data path with a ring of its own (bridge.c). Worker 0
 * is the thread that calls ub_bridge_run() and also serves control. */
struct ub_worker {
	struct ub_bridge *br;
	uint32_t id;
	struct ub_ring *ring;
	pthread_t thread;   /* workers 1..n-1 */
	bool started;
	int wake_fd;        /* eventfd: other threads wake the worker */
	uint64_t wake_val;
	bool todo;          /* its ports have rx_*_wanted set */
	uint64_t mono_ns;   /* the clock at the start of its turn */
	uint64_t last_rx_ns; /* when its last frame came */
	uint32_t rx_next_port; /* where its next look at rings starts */
	/* Ports with TX ring state this turn, to flush at its end. */
	uint32_t ntx_touched;
	uint32_t tx_touched[UB_PORTS_MAX];
};

struct ub_bridge {
	char name[UB_BRIDGE_NAME_MAX + 1];
	char sock_path[108];
	/* Every worker holds this lock for its whole turn except the system
	 * call that submits and waits: all the state below is shared. Not
	 * taken with one worker. */
	pthread_mutex_t lock;
	uint32_t nworkers;
	struct ub_worker workers[UB_WORKERS_MAX];
	struct ub_fdb *fdb;
	uint32_t max_learned;
	uint64_t now;     /* ms, read once per loop turn; includes warp_ms */
	uint64_t warp_ms; /* added by "time warp", for tests */
	bool stop;
	/* The state file ("" when none), and whether the configuration
	 * changed since it was written. */
	char state_path[512];
	bool state_dirty;
	bool state_loading; /* replaying it: nothing to write meanwhile */
	int ctl_fd;
	gid_t ctl_group; /* may use the control socket too; -1: none */
	int sig_fd;
	struct ub_nl *nl_mon; /* link events */
	char nl_buf[16384] __attribute__((aligned(8)));
	struct signalfd_siginfo siginfo;
	const struct ub_port_ops *packet_ops; /* for AF_PACKET ports */
	bool tx_ring_unicast; /* frames to one port use TX rings too */
	uint32_t ring_bytes;  /* each ring port's RX ring; 0: the default */
	bool busy_poll;   /* never sleep: poll rings and completions */
	uint64_t spin_ns; /* else: poll this long after the last frame */
	uint32_t nclosing; /* ports in CLOSING state */
	uint32_t nports;  /* ports in FORWARDING state */
	/* Ids of the FORWARDING ports, for flooding. */
	uint32_t fwd_ids[UB_PORTS_MAX];
	struct ub_port ports[UB_PORTS_MAX];
	struct ub_conn conns[UB_CONNS_MAX];
	char gw_cidr[64];      /* the gateway's address; "" when none */
	bool nat;              /* the NAT table is in place */
	int old_forward;       /* IPv4 forwarding before NAT turned it on */
	uint32_t ncaps;        /* captures running */
	uint32_t next_cap_id;
	struct timespec wall;  /* capture timestamps, read per loop turn */
	struct ub_cap_slot caps[UB_CAPTURES_MAX];
};

struct ub_port *ub_bridge_port_find(struct ub_bridge *br, const char *name);
/* Attaches 'ifname' through back end 'ops' (ub_bridge_port_add: AF_PACKET). */
int ub_bridge_port_open(struct ub_bridge *br, const char *ifname,
			const struct ub_port_ops *ops, char *err,
			size_t errlen);
/* Sets the address the port answers to (its own MAC, a static "local"
 * FDB entry; see ub_bridge_port_open), replacing the one it had. */
void ub_bridge_port_set_mac(struct ub_bridge *br, struct ub_port *p,
			    const struct ub_mac *mac);
/* Starts detaching port 'p'; it is gone from every listing at once. */
void ub_bridge_port_del(struct ub_bridge *br, struct ub_port *p);
/* Re-reads the clock (plus warp) into br->now; returns the monotonic
 * clock in ns. */
uint64_t ub_bridge_clock(struct ub_bridge *br);
/* Free receive buffers in every worker's pool. */
uint32_t ub_bridge_bufs_free(const struct ub_bridge *br);

/* core/capture.c */
struct ub_cap_req {
	const char *port; /* interface name or "all" */
	uint8_t dir;
	struct ub_capture_cfg cfg;
};
/* Starts a capture; returns its slot, or NULL with the reason in 'err'
 * and -errno in '*ret'. */
struct ub_cap_slot *ub_cap_start(struct ub_bridge *br,
				 const struct ub_cap_req *req, int *ret,
				 char *err, size_t errlen);
/* Writes out what the capture holds, closes its file, frees the slot. */
void ub_cap_stop(struct ub_bridge *br, struct ub_cap_slot *s);
/* Stops the captures of port 'port' (UB_CAP_ALL: every capture). */
void ub_cap_stop_port(struct ub_bridge *br, uint32_t port);
/* Data path: offers a frame seen on 'port' in direction 'dir'. */
void ub_cap_frame(struct ub_bridge *br, uint32_t port, uint8_t dir,
		  const struct ub_frame *f);
/* Housekeeping: ends captures that reached their count. */
void ub_cap_reap(struct ub_bridge *br);

/* The names of enum ub_fdb_cap_policy, as commands and the state file
 * spell them. */
extern const char *const ub_cap_policy_names[2];

/* What a walk over the FDB (ub_fdb_foreach) that writes records needs. */
struct ub_fdb_walk {
	struct ub_bridge *br;
	struct ub_ctl_reply *r;
};

/* core/state.c */
/* Writes the configuration to the state file, atomically (replayed by
 * ub_bridge_restore()). */
int ub_state_save(struct ub_bridge *br);

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

/* core/gateway.c */
/* A TAP port the bridge makes and owns, up, with MTU 'mtu' (0: default)
 * and address 'mac' (NULL: the kernel's random one). */
int ub_tap_add(struct ub_bridge *br, const char *name, uint32_t mtu,
	       const struct ub_mac *mac, char *err, size_t errlen);
int ub_gw_add(struct ub_bridge *br, const char *cidr, char *err,
	      size_t errlen);
int ub_gw_del(struct ub_bridge *br, char *err, size_t errlen);
bool ub_gw_is_port(const struct ub_bridge *br, const struct ub_port *p);
int ub_nat_set(struct ub_bridge *br, bool on, char *err, size_t errlen);
void ub_gw_show(struct ub_bridge *br, struct ub_ctl_reply *r);

/* core/netns.c */
#define UB_NS_ADDRS_MAX 8

/* "netns add|attach": a namespace's veth, addresses, route, port. */
struct ub_ns_req {
	const char *name;   /* namespace name, or NULL with 'pid' */
	int pid;            /* the namespace of this process (attach only) */
	bool create;        /* add: create the namespace if it is missing */
	const char *ifname; /* the peer's name inside; NULL: eth0 */
	uint32_t mtu;       /* 0: the kernel's default */
	bool has_mac;
	struct ub_mac mac;  /* the peer's MAC */
	unsigned naddrs;
	const char *addrs[UB_NS_ADDRS_MAX];
	const char *gw;     /* NULL: no default route */
};

/* Builds what 'req' asks and attaches it; on failure undoes every step
 * done, and writes which step failed and why into 'err'. */
int ub_ns_attach(struct ub_bridge *br, const struct ub_ns_req *req,
		 char *err, size_t errlen);
/* Detaches the port of namespace 'name' and removes what add made. */
int ub_ns_del(struct ub_bridge *br, const char *name, char *err,
	      size_t errlen);
/* Records on port 'p' that it is namespace 'name''s veth (state file). */
void ub_ns_adopt(struct ub_bridge *br, struct ub_port *p, const char *name,
		 const char *peer, bool made);
/* One record per namespace on the bridge. */
void ub_ns_show(struct ub_bridge *br, struct ub_ctl_reply *r);

/*
 * Runs one control request (argv from the wire) from the client on 'fd'
 * and fills 'r' with the records and the status line; 'r' stays empty
 * when the command answered on 'fd' itself (a stream follows).
 */
void ub_cmd_run(struct ub_bridge *br, int argc, char **argv, int fd,
		struct ub_ctl_reply *r);

#endif
