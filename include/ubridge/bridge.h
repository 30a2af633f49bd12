/* SPDX-License-Identifier: MIT */
/*
 * The bridge: ports, the forwarding loop, the control socket's commands,
 * and the daemon's log. Only tools/ubridge.c uses this header.
 */
#ifndef UBRIDGE_BRIDGE_H
#define UBRIDGE_BRIDGE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <ubridge/compiler.h>

struct ub_bridge;

/* How AF_PACKET ports receive. */
enum ub_packet_rx {
	UB_PACKET_RX_RING,    /* a TPACKET_V2 ring the kernel fills */
	UB_PACKET_RX_RECVMSG, /* a multishot recvmsg per port */
	UB_PACKET_RX_XDP,     /* the ring, and AF_XDP for frames up to the MTU */
	UB_PACKET_RX_AUTO,    /* XDP where it attaches, else the ring */
};

/* How AF_PACKET ports send (with the ring receive only). */
enum ub_packet_tx {
	UB_PACKET_TX_RING,  /* copies into a PACKET_TX_RING, one send a turn */
	UB_PACKET_TX_FLOOD, /* the TX ring for flooded frames, sends for
			     * frames to one port */
	UB_PACKET_TX_SEND,  /* one send per frame, out of the receive buffer */
};

struct ub_bridge_cfg {
	const char *name;      /* bridge name: socket /run/ubridge/<name>.sock */
	uint32_t max_learned;  /* FDB cap on learned entries; 0: default */
	uint64_t ageing_ms;    /* FDB ageing time */
	const char *state_path; /* state file; NULL: none */
	/* The control socket's owner (-1: the caller; give the daemon's
	 * user) and group (-1: none). Root, the daemon's user and the group's
	 * members may use the bridge; with a group the socket's mode is 0660,
	 * else 0600. */
	uid_t ctl_owner;
	gid_t ctl_group;
	enum ub_packet_rx packet_rx;
	enum ub_packet_tx packet_tx;
	uint32_t ring_kib;     /* each ring port's full RX ring; 0: the default */
	/* Each ring port's idle ring, its ring while its traffic is light
	 * (see ub_port_packet_ring_ops); 0: the full ring at once. */
	uint32_t ring_idle_kib;
	/* After the last frame, poll this long before sleeping: the next
	 * frame (a reply, say) then needs no wake-up. 0: sleep at once;
	 * UB_BUSY_POLL_ALWAYS: never sleep (one CPU kept busy). */
	uint32_t busy_poll_us;
	/* Data-path threads, each with its own ring and a share of the
	 * ports; 0 or 1: one, the caller of ub_bridge_run(). */
	uint32_t workers;
	/* The seed of the impairments' random numbers; 0: a random one. */
	uint64_t seed;
};

#define UB_BUSY_POLL_ALWAYS UINT32_MAX
/* Worker threads at most. */
#define UB_WORKERS_MAX 16

/* Fills 'cfg' with defaults: bridge "ub0", ageing 300 s, socket 0600 for
 * the caller. */
void ub_bridge_cfg_default(struct ub_bridge_cfg *cfg);

/*
 * Creates the bridge and starts serving its control socket. On failure
 * returns -errno and writes a one-line reason into 'err'.
 */
int ub_bridge_new(const struct ub_bridge_cfg *cfg, struct ub_bridge **out,
		  char *err, size_t errlen);
void ub_bridge_free(struct ub_bridge *br);

/* Attaches interface 'ifname' as a port. On failure returns -errno and
 * writes the reason into 'err'. */
int ub_bridge_port_add(struct ub_bridge *br, const char *ifname, char *err,
		       size_t errlen);

/* How many ports the bridge has. */
unsigned int ub_bridge_port_count(const struct ub_bridge *br);

/*
 * Starts a capture of port 'port' (both directions) or of "all" ports (each
 * frame once, as it enters) into the pcap file 'path'. On failure returns
 * -errno and writes the reason into 'err'.
 */
int ub_bridge_capture(struct ub_bridge *br, const char *port, const char *path,
		      char *err, size_t errlen);

/*
 * Replays the state file, if any: the configuration the bridge had when it
 * last changed. A corrupt file is set aside and reported. Call after
 * ub_bridge_new() and before ub_bridge_run().
 */
void ub_bridge_restore(struct ub_bridge *br);

/* Forwards until SIGINT or SIGTERM: the data path in the workers' threads
 * it starts, control in the thread that called ub_bridge_new() (the
 * control ring only takes requests from it). Returns 0 or -errno. */
int ub_bridge_run(struct ub_bridge *br);

enum ub_log_level {
	UB_LOG_ERR,
	UB_LOG_WARN,
	UB_LOG_INFO,
	UB_LOG_DEBUG,
};

void ub_log_set_level(enum ub_log_level level);
void ub_log(enum ub_log_level level, const char *fmt, ...) UB_PRINTF(2, 3);

#endif
