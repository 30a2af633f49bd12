/* SPDX-License-Identifier: MIT */
/*
 * The per-frame forwarding decision (IEEE 802.1D rules), apart from any
 * I/O so that unit tests and fuzzers can drive it directly.
 */
#ifndef UB_CORE_FORWARD_H
#define UB_CORE_FORWARD_H

#include <stdint.h>

#include <ubridge/fdb.h>

#include "vlan.h"

/* Why a frame was dropped; each reason is a per-port counter. */
enum ub_drop {
	UB_DROP_RUNT,        /* shorter than an Ethernet header */
	UB_DROP_BAD_SRC,     /* multicast or all-zero source */
	UB_DROP_OWN_MAC,     /* source is the MAC of another of our ports
			      * (a local FDB entry names another port) */
	UB_DROP_FDB_CAP,     /* new source, port at its FDB cap, policy drop */
	UB_DROP_LOOP,        /* a loop probe of ours came back */
	UB_DROP_BLOCKED,     /* the port is blocked (guard.h) */
	UB_DROP_BPDU,        /* a BPDU on a port with bpdu-guard */
	UB_DROP_VLAN,        /* VLAN filtering: a VID the port does not
			      * carry, or untagged without a PVID */
	UB_DROP_LINK_LOCAL,  /* to 01:80:c2:00:00:0x, not in the port's
			      * group forward mask */
	UB_DROP_SAME_PORT,   /* destination sits behind the ingress port */
	UB_DROP_TOO_BIG,     /* larger than a receive buffer */
	UB_DROP_NOBUF,       /* receive stopped: buffer pool empty */
	UB_DROP_QUEUE,       /* the kernel's socket queue was full */
	UB_DROP_TX_BUSY,     /* egress had too many sends in flight, or
			      * its TX ring was full */
	UB_DROP_TX_DOWN,     /* egress link down (static entry to it) */
	UB_DROP_TX_BLOCKED,  /* egress blocked (static entry to it) */
	UB_DROP_TX_VLAN,     /* VLAN filtering: the destination's entry is on
			      * a port outside the frame's VLAN */
	UB_DROP_TX_TOO_BIG,  /* egress refused the size (EMSGSIZE) */
	UB_DROP_TX_ERROR,    /* any other send failure */
	UB_DROP__COUNT,
};

/* The counter names used on the control socket, e.g. "rx_drop_runt". */
extern const char *const ub_drop_names[UB_DROP__COUNT];

enum ub_fwd_kind {
	UB_FWD_DROP,
	UB_FWD_PORT,  /* known unicast: one egress port */
	UB_FWD_FLOOD, /* every forwarding port but the ingress one */
};

/* What the decision needs to know of the ingress port and the bridge. */
struct ub_fwd_in {
	uint32_t port;		/* the ingress port */
	uint32_t remote;	/* its remote the frame came from; 0: none */
	uint64_t now;		/* ms */
	uint64_t probe_id;	/* the bridge's loop probes carry it */
	uint16_t group_fwd_mask; /* 01:80:C2:00:00:0X forwarded if bit X */
	bool bpdu_guard;	/* a BPDU (to 01:80:C2:00:00:00) is refused */
	bool blocked;		/* nothing but our probes is taken */
	/* VLAN filtering on: the port's VLANs; NULL: off, tags pass. */
	const struct ub_vlan_port *vlan;
};

struct ub_fwd {
	enum ub_fwd_kind kind;
	enum ub_drop drop;  /* UB_FWD_DROP */
	/*
	 * UB_FWD_PORT: the egress port.
	 * UB_DROP_OWN_MAC: the port whose MAC the source is (the owner of
	 * the local entry), for the log line.
	 * UB_DROP_SAME_PORT: the destination's port, i.e. the ingress one.
	 * UB_DROP_LOOP: the port that sent the probe.
	 * Otherwise 0.
	 */
	uint32_t port;
	uint32_t remote;    /* UB_FWD_PORT: the entry's remote (0: none) */
	uint64_t probe_tag; /* UB_DROP_LOOP: the probe's tag (guard.h) */
	uint16_t vid;       /* 0 when untagged; filtering: the VID the
			     * frame was classified into */
	int tag;            /* filtering: the VID of the 802.1Q tag it came
			     * with (0: priority-tagged; -1: none) */
	enum ub_fdb_learn_result learn;
};

/*
 * Decides what happens to the Ethernet frame eth[0..len) that arrived as
 * 'in' says, and learns its source on the way. A destination behind the
 * ingress port is never sent back there, whichever remote it sits behind
 * (split horizon: remotes reach each other directly). Every drop is
 * decided here, in this order, learning only after the first four: runt,
 * a loop probe of this bridge (from any of its ports), the port blocked,
 * a BPDU on a bpdu-guard port, bad source, a VID the port does not carry
 * (VLAN filtering; learning and lookup then use the VID the frame was
 * classified into), own MAC (the source has a
 * local FDB entry on another port; learn is UB_FDB_LEARN_LOCAL), FDB cap
 * with the drop policy, link-local destination outside the group forward
 * mask, destination behind the ingress port. A plain static entry for the
 * source on another port (learn is UB_FDB_LEARN_STATIC) drops nothing.
 */
void ub_forward_decide(struct ub_fdb *fdb, const uint8_t *eth, uint32_t len,
		       const struct ub_fwd_in *in, struct ub_fwd *out);

/*
 * Loop probes (eth.h): to UB_PROBE_DST, EtherType UB_PROBE_ETHERTYPE,
 * then "ubLP", the bridge's probe id, the sending port's id and its tag
 * (a random number of the port's, new every second: only a probe that
 * really left that port carries it), big-endian; padded to the Ethernet
 * minimum. One that comes back VLAN-tagged is recognised too.
 */
#define UB_PROBE_LEN 60

/* Writes the probe of port 'port' (source address 'src') into buf. */
void ub_probe_build(uint8_t buf[UB_PROBE_LEN], const struct ub_mac *src,
		    uint64_t id, uint32_t port, uint64_t tag);

#endif
