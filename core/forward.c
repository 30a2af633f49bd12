/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <string.h>

#include <ubridge/compiler.h>

#include "forward.h"

const char *const ub_drop_names[UB_DROP__COUNT] = {
	[UB_DROP_RUNT] = "rx_drop_runt",
	[UB_DROP_BAD_SRC] = "rx_drop_bad_src",
	[UB_DROP_OWN_MAC] = "rx_drop_own_mac",
	[UB_DROP_FDB_CAP] = "rx_drop_fdb_cap",
	[UB_DROP_LOOP] = "rx_drop_loop",
	[UB_DROP_BLOCKED] = "rx_drop_blocked",
	[UB_DROP_BPDU] = "rx_drop_bpdu",
	[UB_DROP_VLAN] = "rx_drop_vlan",
	[UB_DROP_LINK_LOCAL] = "rx_drop_link_local",
	[UB_DROP_SAME_PORT] = "rx_drop_same_port",
	[UB_DROP_TOO_BIG] = "rx_drop_too_big",
	[UB_DROP_NOBUF] = "rx_drop_nobuf",
	[UB_DROP_QUEUE] = "rx_drop_queue",
	[UB_DROP_TX_BUSY] = "tx_drop_busy",
	[UB_DROP_TX_DOWN] = "tx_drop_down",
	[UB_DROP_TX_BLOCKED] = "tx_drop_blocked",
	[UB_DROP_TX_VLAN] = "tx_drop_vlan",
	[UB_DROP_TX_TOO_BIG] = "tx_drop_too_big",
	[UB_DROP_TX_ERROR] = "tx_drop_error",
};

/*
 * VLAN filtering's ingress: the frame's VID (its 802.1Q tag's; untagged
 * and priority-tagged ones take the PVID; an 802.1ad outer tag is carried,
 * not read: such a frame is untagged here), into out->vid and out->tag.
 * False: the port does not carry it.
 */
static bool vlan_ingress__(const struct ub_vlan_port *v, const uint8_t *eth,
			   uint32_t len, struct ub_fwd *out)
{
	out->tag = -1;
	if (len >= UB_ETH_HLEN + UB_VLAN_HLEN &&
	    (eth[12] << 8 | eth[13]) == UB_ETH_P_8021Q)
		out->tag = (eth[14] << 8 | eth[15]) & UB_VLAN_VID_MASK;
	out->vid = out->tag > 0 ? (uint16_t)out->tag : v->pvid;
	return out->vid && ub_vlan_member(v, out->vid);
}

/* The VLAN id of a tagged frame (C-tag or S-tag outermost), else 0. */
static uint16_t frame_vid__(const uint8_t *eth, uint32_t len)
{
	uint16_t type, tci;

	if (len < UB_ETH_HLEN + UB_VLAN_HLEN)
		return 0;
	type = (uint16_t)(eth[12] << 8 | eth[13]);
	if (type != UB_ETH_P_8021Q && type != UB_ETH_P_8021AD)
		return 0;
	tci = (uint16_t)(eth[14] << 8 | eth[15]);
	return tci & UB_VLAN_VID_MASK;
}

static void drop__(struct ub_fwd *out, enum ub_drop why)
{
	out->kind = UB_FWD_DROP;
	out->drop = why;
}

static const uint8_t probe_magic__[4] = { 'u', 'b', 'L', 'P' };

static void put_be__(uint8_t *p, uint64_t v, int n)
{
	while (n--)
		p[n] = (uint8_t)v, v >>= 8;
}

static uint64_t get_be__(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

void ub_probe_build(uint8_t buf[UB_PROBE_LEN], const struct ub_mac *src,
		    uint64_t id, uint32_t port, uint64_t tag)
{
	static const uint8_t dst[UB_ETH_ALEN] = UB_PROBE_DST;

	memset(buf, 0, UB_PROBE_LEN);
	memcpy(buf, dst, UB_ETH_ALEN);
	memcpy(buf + UB_ETH_ALEN, src->b, UB_ETH_ALEN);
	put_be__(buf + 12, UB_PROBE_ETHERTYPE, 2);
	memcpy(buf + UB_ETH_HLEN, probe_magic__, sizeof(probe_magic__));
	put_be__(buf + UB_ETH_HLEN + 4, id, 8);
	put_be__(buf + UB_ETH_HLEN + 12, port, 4);
	put_be__(buf + UB_ETH_HLEN + 16, tag, 8);
}

/* A probe of the bridge whose id is 'id', behind up to two VLAN tags:
 * true, with its port and tag in 'out'. */
static bool our_probe__(const uint8_t *eth, uint32_t len, uint64_t id,
			struct ub_fwd *out)
{
	uint32_t off = 12;
	uint64_t type;
	const uint8_t *b;

	for (int tags = 0;; tags++) {
		if (len < off + 2 + 24)
			return false;
		type = get_be__(eth + off, 2);
		if (tags == 2 || (type != UB_ETH_P_8021Q &&
				  type != UB_ETH_P_8021AD))
			break;
		off += UB_VLAN_HLEN;
	}
	b = eth + off + 2;
	if (type != UB_PROBE_ETHERTYPE ||
	    memcmp(b, probe_magic__, sizeof(probe_magic__)) ||
	    get_be__(b + 4, 8) != id)
		return false;
	out->port = (uint32_t)get_be__(b + 12, 4);
	out->probe_tag = get_be__(b + 16, 8);
	return true;
}

void ub_forward_decide(struct ub_fdb *fdb, const uint8_t *eth, uint32_t len,
		       const struct ub_fwd_in *in, struct ub_fwd *out)
{
	static const struct ub_mac bpdu = { { 0x01, 0x80, 0xc2, 0, 0, 0 } };
	struct ub_mac dst, src;

	memset(out, 0, sizeof(*out));
	if (len < UB_ETH_HLEN)
		return drop__(out, UB_DROP_RUNT);
	memcpy(dst.b, eth, UB_ETH_ALEN);
	memcpy(src.b, eth + UB_ETH_ALEN, UB_ETH_ALEN);

	/* What the guards look at, before anything is learned: a looped or
	 * refused frame must not move addresses. */
	if (ub_unlikely(our_probe__(eth, len, in->probe_id, out)))
		return drop__(out, UB_DROP_LOOP);
	if (ub_unlikely(in->blocked))
		return drop__(out, UB_DROP_BLOCKED);
	if (ub_unlikely(in->bpdu_guard) && ub_mac_eq(&dst, &bpdu))
		return drop__(out, UB_DROP_BPDU);

	/* Ingress checks first: only a frame that passes them teaches us
	 * where its source lives. */
	if (ub_mac_is_mcast(&src) || ub_mac_is_zero(&src))
		return drop__(out, UB_DROP_BAD_SRC);
	if (in->vlan) {
		if (!vlan_ingress__(in->vlan, eth, len, out))
			return drop__(out, UB_DROP_VLAN);
	} else {
		out->vid = frame_vid__(eth, len);
		out->tag = -1;
	}
	out->learn = ub_fdb_learn(fdb, &src, out->vid, in->port, in->remote,
				  in->now);
	/* One of our own MACs coming in from outside: our frame looped back
	 * to us, or somebody forging the gateway. 802.1D does not forward
	 * it; the owner goes back so that core can name it. */
	if (ub_unlikely(out->learn == UB_FDB_LEARN_LOCAL)) {
		ub_fdb_lookup(fdb, &src, out->vid, &out->port, NULL);
		return drop__(out, UB_DROP_OWN_MAC);
	}
	/* Port security: only the addresses it already has get through. */
	if (ub_unlikely(out->learn == UB_FDB_LEARN_DROP))
		return drop__(out, UB_DROP_FDB_CAP);

	if (ub_mac_is_link_local(&dst) &&
	    !(in->group_fwd_mask & 1u << (dst.b[5] & 0xf)))
		return drop__(out, UB_DROP_LINK_LOCAL);
	if (ub_mac_is_mcast(&dst) ||
	    !ub_fdb_lookup(fdb, &dst, out->vid, &out->port, &out->remote)) {
		out->kind = UB_FWD_FLOOD;
		return;
	}
	if (out->port == in->port) {
		out->remote = 0;
		return drop__(out, UB_DROP_SAME_PORT);
	}
	out->kind = UB_FWD_PORT;
}
