/* SPDX-License-Identifier: MIT */
/* The per-frame forwarding decision: 802.1D rules over a real FDB. */
#include <endian.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <linux/virtio_net.h>

#include <ubridge/compiler.h>

#include "forward.h"

#define NOW 1000000

static const struct ub_mac mac_a = { { 0x02, 0, 0, 0, 0, 0xa } };
static const struct ub_mac mac_b = { { 0x02, 0, 0, 0, 0, 0xb } };
static const struct ub_mac bcast = { { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } };

static int setup(void **state)
{
	struct ub_fdb_cfg cfg;
	struct ub_fdb *fdb;

	ub_fdb_cfg_default(&cfg);
	cfg.secret = 42;
	assert_int_equal(ub_fdb_new(&cfg, &fdb), 0);
	*state = fdb;
	return 0;
}

static int teardown(void **state)
{
	ub_fdb_free(*state);
	return 0;
}

/* Builds a 60-byte frame dst <- src, tagged with 'vid' when vid >= 0. */
static uint32_t frame(uint8_t *buf, const struct ub_mac *dst,
		      const struct ub_mac *src, int vid)
{
	memset(buf, 0, 60);
	memcpy(buf, dst->b, 6);
	memcpy(buf + 6, src->b, 6);
	if (vid >= 0) {
		buf[12] = 0x81;
		buf[13] = 0x00;
		buf[14] = (uint8_t)(vid >> 8);
		buf[15] = (uint8_t)vid;
		buf[16] = 0x08;
	} else {
		buf[12] = 0x08;
	}
	return 60;
}

#define PROBE_ID 0x1122334455667788ull

/* Port 'port' with the default guards, this bridge's probe id. */
static struct ub_fwd_in in_port(uint32_t port)
{
	return (struct ub_fwd_in){ .port = port, .now = NOW,
				   .probe_id = PROBE_ID };
}

static void decide(struct ub_fdb *fdb, const struct ub_mac *dst,
		   const struct ub_mac *src, int vid, uint32_t in,
		   struct ub_fwd *out)
{
	uint8_t buf[60];
	uint32_t len = frame(buf, dst, src, vid);
	struct ub_fwd_in i = in_port(in);

	ub_forward_decide(fdb, buf, len, &i, out);
}

static void test_runt(void **state)
{
	uint8_t buf[60];
	struct ub_fwd f;

	struct ub_fwd_in in = in_port(1);

	frame(buf, &bcast, &mac_a, -1);
	for (uint32_t len = 0; len < UB_ETH_HLEN; len++) {
		ub_forward_decide(*state, buf, len, &in, &f);
		assert_int_equal(f.kind, UB_FWD_DROP);
		assert_int_equal(f.drop, UB_DROP_RUNT);
	}
	/* Exactly a header is a (tiny) frame, not a runt. */
	ub_forward_decide(*state, buf, UB_ETH_HLEN, &in, &f);
	assert_int_equal(f.kind, UB_FWD_FLOOD);
}

static void test_bad_source_not_learned(void **state)
{
	const struct ub_mac zero = { { 0 } };
	const struct ub_mac mcast = { { 0x01, 0, 0x5e, 0, 0, 1 } };
	struct ub_fwd f;
	uint32_t port;

	decide(*state, &mac_b, &zero, -1, 1, &f);
	assert_int_equal(f.kind, UB_FWD_DROP);
	assert_int_equal(f.drop, UB_DROP_BAD_SRC);
	decide(*state, &mac_b, &mcast, -1, 1, &f);
	assert_int_equal(f.drop, UB_DROP_BAD_SRC);
	decide(*state, &mac_b, &bcast, -1, 1, &f);
	assert_int_equal(f.drop, UB_DROP_BAD_SRC);
	assert_false(ub_fdb_lookup(*state, &zero, 0, &port, NULL));
	assert_false(ub_fdb_lookup(*state, &mcast, 0, &port, NULL));
	assert_false(ub_fdb_lookup(*state, &bcast, 0, &port, NULL));
}

static void test_link_local_never_forwarded(void **state)
{
	struct ub_mac dst = { { 0x01, 0x80, 0xc2, 0, 0, 0 } };
	struct ub_fwd f;

	for (int i = 0; i <= 0x0f; i++) {
		dst.b[5] = (uint8_t)i;
		decide(*state, &dst, &mac_a, -1, 1, &f);
		assert_int_equal(f.kind, UB_FWD_DROP);
		assert_int_equal(f.drop, UB_DROP_LINK_LOCAL);
	}
	/* Just past the reserved range: ordinary multicast. */
	dst.b[5] = 0x10;
	decide(*state, &dst, &mac_a, -1, 1, &f);
	assert_int_equal(f.kind, UB_FWD_FLOOD);
}

/* The group forward mask lets exactly its bits' addresses through. */
static void test_group_fwd_mask(void **state)
{
	struct ub_mac dst = { { 0x01, 0x80, 0xc2, 0, 0, 0 } };
	struct ub_fwd_in in = in_port(1);
	uint8_t buf[60];
	struct ub_fwd f;

	in.group_fwd_mask = 1u << 0xe | 1u << 2; /* LLDP, LACP */
	for (int i = 0; i <= 0x0f; i++) {
		dst.b[5] = (uint8_t)i;
		ub_forward_decide(*state, buf, frame(buf, &dst, &mac_a, -1),
				  &in, &f);
		if (i == 0xe || i == 2) {
			assert_int_equal(f.kind, UB_FWD_FLOOD);
		} else {
			assert_int_equal(f.kind, UB_FWD_DROP);
			assert_int_equal(f.drop, UB_DROP_LINK_LOCAL);
		}
	}
}

/* Our probe comes back: a loop, whichever port sent it; nothing learned.
 * Another bridge's probe is a frame like any other. */
static void test_probe(void **state)
{
	struct ub_fwd_in in = in_port(3);
	uint8_t buf[UB_PROBE_LEN];
	uint32_t port;
	struct ub_fwd f;

	uint8_t tagged[UB_PROBE_LEN + UB_VLAN_HLEN];

	ub_probe_build(buf, &mac_b, PROBE_ID, 7, 0xabcdef0123456789ull);
	ub_forward_decide(*state, buf, sizeof(buf), &in, &f);
	assert_int_equal(f.kind, UB_FWD_DROP);
	assert_int_equal(f.drop, UB_DROP_LOOP);
	assert_int_equal(f.port, 7);
	assert_true(f.probe_tag == 0xabcdef0123456789ull);
	assert_false(ub_fdb_lookup(*state, &mac_b, 0, &port, NULL));
	/* Back through a trunk, tagged: ours all the same. */
	memcpy(tagged, buf, 12);
	memcpy(tagged + 12, (uint8_t[]){ 0x81, 0x00, 0x00, 0x0a }, 4);
	memcpy(tagged + 16, buf + 12, UB_PROBE_LEN - 12);
	ub_forward_decide(*state, tagged, sizeof(tagged), &in, &f);
	assert_int_equal(f.drop, UB_DROP_LOOP);
	assert_int_equal(f.port, 7);
	/* Cut short: not a probe (a frame from mac_b, flooded). */
	ub_forward_decide(*state, buf, UB_ETH_HLEN + 23, &in, &f);
	assert_int_equal(f.kind, UB_FWD_FLOOD);
	in.probe_id = PROBE_ID + 1;
	ub_forward_decide(*state, buf, sizeof(buf), &in, &f);
	assert_int_equal(f.kind, UB_FWD_FLOOD);
	/* Even a blocked port takes our probes: they keep its block. */
	in.probe_id = PROBE_ID;
	in.blocked = true;
	ub_forward_decide(*state, buf, sizeof(buf), &in, &f);
	assert_int_equal(f.drop, UB_DROP_LOOP);
}

/* A blocked port takes nothing and learns nothing; bpdu-guard refuses
 * STP's address only, before learning. */
static void test_blocked_and_bpdu(void **state)
{
	struct ub_mac stp = { { 0x01, 0x80, 0xc2, 0, 0, 0 } };
	struct ub_mac lldp = { { 0x01, 0x80, 0xc2, 0, 0, 0x0e } };
	struct ub_fwd_in in = in_port(1);
	uint8_t buf[60];
	uint32_t port;
	struct ub_fwd f;

	in.blocked = true;
	ub_forward_decide(*state, buf, frame(buf, &bcast, &mac_a, -1), &in, &f);
	assert_int_equal(f.drop, UB_DROP_BLOCKED);
	assert_false(ub_fdb_lookup(*state, &mac_a, 0, &port, NULL));
	in.blocked = false;
	in.bpdu_guard = true;
	ub_forward_decide(*state, buf, frame(buf, &stp, &mac_a, -1), &in, &f);
	assert_int_equal(f.drop, UB_DROP_BPDU);
	assert_false(ub_fdb_lookup(*state, &mac_a, 0, &port, NULL));
	ub_forward_decide(*state, buf, frame(buf, &lldp, &mac_a, -1), &in, &f);
	assert_int_equal(f.drop, UB_DROP_LINK_LOCAL);
	/* Without the guard a BPDU is link-local like the rest. */
	in.bpdu_guard = false;
	ub_forward_decide(*state, buf, frame(buf, &stp, &mac_a, -1), &in, &f);
	assert_int_equal(f.drop, UB_DROP_LINK_LOCAL);
}

/*
 * VLAN filtering's ingress, the matrix: {access, trunk, trunk
 * with a native VLAN} x {untagged, priority-tagged, tagged member, tagged
 * non-member}: the VID a frame is classified into, or a drop; and what
 * each kind of port does to it on the way out.
 */
static void test_vlan_matrix(void **state)
{
	struct ub_vlan_port access = { 0 }, trunk = { 0 }, native = { 0 };
	const struct {
		const struct ub_vlan_port *port;
		int frame_tag;	/* -1: untagged */
		int want;	/* the VID, or -1: dropped */
	} rows[] = {
		{ &access, -1, 10 },	{ &access, 0, 10 },
		{ &access, 10, 10 },	{ &access, 20, -1 },
		{ &trunk, -1, -1 },	{ &trunk, 0, -1 },
		{ &trunk, 20, 20 },	{ &trunk, 99, -1 },
		{ &native, -1, 30 },	{ &native, 0, 30 },
		{ &native, 20, 20 },	{ &native, 99, -1 },
	};
	struct ub_fwd_in in = in_port(1);
	uint8_t buf[60];
	struct ub_fwd f;
	uint32_t port;

	assert_int_equal(ub_vlan_add(&access, 10, 10, true, true), 0);
	assert_int_equal(ub_vlan_add(&trunk, 10, 20, false, false), 0);
	assert_int_equal(ub_vlan_add(&native, 10, 20, false, false), 0);
	assert_int_equal(ub_vlan_add(&native, 30, 30, true, true), 0);
	for (size_t i = 0; i < UB_ARRAY_SIZE(rows); i++) {
		in.vlan = rows[i].port;
		ub_forward_decide(*state, buf, frame(buf, &bcast, &mac_a,
						     rows[i].frame_tag),
				  &in, &f);
		if (rows[i].want < 0) {
			assert_int_equal(f.kind, UB_FWD_DROP);
			assert_int_equal(f.drop, UB_DROP_VLAN);
			continue;
		}
		assert_int_equal(f.kind, UB_FWD_FLOOD);
		assert_int_equal(f.vid, rows[i].want);
		assert_int_equal(f.tag, rows[i].frame_tag);
		/* Learned in the VID it was classified into. */
		assert_true(ub_fdb_lookup(*state, &mac_a, f.vid, &port, NULL));
	}
	/* Out of an access port: untagged; out of a trunk: tagged. */
	assert_int_equal(ub_vlan_egress(&access, 10, -1), UB_VLAN_KEEP);
	assert_int_equal(ub_vlan_egress(&access, 10, 10), UB_VLAN_POP);
	assert_int_equal(ub_vlan_egress(&access, 10, 0), UB_VLAN_POP);
	assert_int_equal(ub_vlan_egress(&trunk, 10, -1), UB_VLAN_PUSH);
	assert_int_equal(ub_vlan_egress(&trunk, 10, 0), UB_VLAN_SET);
	assert_int_equal(ub_vlan_egress(&trunk, 10, 10), UB_VLAN_KEEP);
	assert_int_equal(ub_vlan_egress(&native, 30, -1), UB_VLAN_KEEP);
	assert_int_equal(ub_vlan_egress(&native, 20, -1), UB_VLAN_PUSH);
	/* Filtering off: tags pass, 0 for untagged. */
	in.vlan = NULL;
	ub_forward_decide(*state, buf, frame(buf, &bcast, &mac_b, 99), &in,
			  &f);
	assert_int_equal(f.kind, UB_FWD_FLOOD);
	assert_int_equal(f.vid, 99);
}

/* VIDs 0 and 4095, ranges out of order and a PVID of a range are
 * refused; deleting the PVID's VID leaves the port without one. */
static void test_vlan_add_del(void **state)
{
	struct ub_vlan_port v = { 0 };

	assert_int_equal(ub_vlan_add(&v, 0, 0, false, false), -EINVAL);
	assert_int_equal(ub_vlan_add(&v, 4095, 4095, false, false), -EINVAL);
	assert_int_equal(ub_vlan_add(&v, 20, 10, false, false), -EINVAL);
	assert_int_equal(ub_vlan_add(&v, 10, 20, true, false), -EINVAL);
	assert_int_equal(ub_vlan_add(&v, 1, 4094, false, false), 0);
	assert_true(ub_vlan_member(&v, 1) && ub_vlan_member(&v, 4094));
	assert_false(ub_vlan_member(&v, 0) || ub_vlan_member(&v, 4095));
	assert_int_equal(ub_vlan_add(&v, 7, 7, true, true), 0);
	assert_int_equal(v.pvid, 7);
	assert_int_equal(ub_vlan_del(&v, 5, 9), 0);
	assert_int_equal(v.pvid, 0);
	assert_false(ub_vlan_member(&v, 7));
	assert_true(ub_vlan_member(&v, 4) && ub_vlan_member(&v, 10));
	assert_int_equal(ub_vlan_del(&v, 0, 3), -EINVAL);
}

/* A tag pushed and popped again gives the frame back byte for byte; the
 * virtio-net header's offsets into it move with it (GSO frames are
 * checksummed and cut from them); a priority tag gets its VID, keeping
 * its priority. */
static void test_vlan_rewrite(void **state)
{
	uint8_t in[200], pushed[204], popped[204];
	struct virtio_net_hdr *vh = (struct virtio_net_hdr *)in;
	const struct virtio_net_hdr *ph = (const void *)pushed;
	const uint32_t h = sizeof(*vh);

	for (uint32_t i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)i;
	memset(vh, 0, sizeof(*vh));
	vh->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	vh->gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	vh->csum_start = htole16(34);
	vh->hdr_len = htole16(54);
	assert_int_equal(ub_vlan_rewrite(in, 200, UB_VLAN_PUSH, 100, pushed),
			 204);
	assert_memory_equal(pushed + h, in + h, 12);
	assert_int_equal(pushed[h + 12], 0x81);
	assert_int_equal(pushed[h + 13], 0x00);
	assert_int_equal(pushed[h + 14] << 8 | pushed[h + 15], 100);
	assert_memory_equal(pushed + h + 16, in + h + 12, 200 - h - 12);
	assert_int_equal(le16toh(ph->csum_start), 38);
	assert_int_equal(le16toh(ph->hdr_len), 58);
	assert_int_equal(ub_vlan_rewrite(pushed, 204, UB_VLAN_POP, 100, popped),
			 200);
	assert_memory_equal(popped, in, 200);

	/* Priority 6, VID 0 -> VID 4000, priority 6. */
	pushed[h + 14] = 6 << 5;
	pushed[h + 15] = 0;
	assert_int_equal(ub_vlan_rewrite(pushed, 204, UB_VLAN_SET, 4000,
					 popped), 204);
	assert_int_equal(popped[h + 14] << 8 | popped[h + 15], 6 << 13 | 4000);
	assert_memory_equal(popped + h + 16, pushed + h + 16, 204 - h - 16);
}

/* A port never given VLANs is in VLAN 1, its PVID, untagged. */
static void test_vlan_default(void **state)
{
	assert_int_equal(ub_vlan_default.pvid, 1);
	assert_true(ub_vlan_member(&ub_vlan_default, 1));
	assert_false(ub_vlan_member(&ub_vlan_default, 2));
	assert_int_equal(ub_vlan_egress(&ub_vlan_default, 1, -1),
			 UB_VLAN_KEEP);
	assert_int_equal(ub_vlan_egress(&ub_vlan_default, 1, 1), UB_VLAN_POP);
}

static void test_flood_then_unicast(void **state)
{
	struct ub_fwd f;

	/* B unknown: A's frame floods, and A is learned on port 1. */
	decide(*state, &mac_b, &mac_a, -1, 1, &f);
	assert_int_equal(f.kind, UB_FWD_FLOOD);
	assert_int_equal(f.learn, UB_FDB_LEARN_NEW);
	/* B answers from port 2: known unicast to port 1. */
	decide(*state, &mac_a, &mac_b, -1, 2, &f);
	assert_int_equal(f.kind, UB_FWD_PORT);
	assert_int_equal(f.port, 1);
	/* Now A -> B goes to port 2 only. */
	decide(*state, &mac_b, &mac_a, -1, 1, &f);
	assert_int_equal(f.kind, UB_FWD_PORT);
	assert_int_equal(f.port, 2);
	assert_int_equal(f.learn, UB_FDB_LEARN_NONE);
	/* Broadcast floods even with everyone known. */
	decide(*state, &bcast, &mac_a, -1, 1, &f);
	assert_int_equal(f.kind, UB_FWD_FLOOD);
}

static void test_same_port_dropped(void **state)
{
	struct ub_fwd f;

	decide(*state, &bcast, &mac_b, -1, 3, &f);
	/* A frame for B arriving on B's own port is not sent back. */
	decide(*state, &mac_b, &mac_a, -1, 3, &f);
	assert_int_equal(f.kind, UB_FWD_DROP);
	assert_int_equal(f.drop, UB_DROP_SAME_PORT);
	assert_int_equal(f.port, 3);
	/* Nor is one for a static or local entry on that port. */
	assert_int_equal(ub_fdb_add_local(*state, &mac_b, 0, 3), 0);
	decide(*state, &mac_b, &mac_a, -1, 3, &f);
	assert_int_equal(f.drop, UB_DROP_SAME_PORT);
	assert_int_equal(ub_fdb_add_static(*state, &mac_b, 0, 3, 0), 0);
	decide(*state, &mac_b, &mac_a, -1, 3, &f);
	assert_int_equal(f.drop, UB_DROP_SAME_PORT);
}

static void test_move(void **state)
{
	struct ub_fwd f;

	decide(*state, &bcast, &mac_a, -1, 1, &f);
	decide(*state, &bcast, &mac_a, -1, 4, &f);
	assert_int_equal(f.learn, UB_FDB_LEARN_MOVED);
	decide(*state, &mac_a, &mac_b, -1, 2, &f);
	assert_int_equal(f.kind, UB_FWD_PORT);
	assert_int_equal(f.port, 4);
}

static void test_vlan_keyed(void **state)
{
	struct ub_fwd f;
	uint32_t port;

	decide(*state, &bcast, &mac_a, 100, 1, &f);
	assert_int_equal(f.vid, 100);
	assert_true(ub_fdb_lookup(*state, &mac_a, 100, &port, NULL));
	assert_false(ub_fdb_lookup(*state, &mac_a, 0, &port, NULL));
	/* Known in VLAN 100, unknown untagged: the untagged frame floods. */
	decide(*state, &mac_a, &mac_b, -1, 2, &f);
	assert_int_equal(f.kind, UB_FWD_FLOOD);
	decide(*state, &mac_a, &mac_b, 100, 2, &f);
	assert_int_equal(f.kind, UB_FWD_PORT);
	assert_int_equal(f.port, 1);
	/* The priority bits are not part of the VLAN id. */
	decide(*state, &mac_a, &mac_b, 0xe000 | 100, 2, &f);
	assert_int_equal(f.vid, 100);
}

static void test_static_wins(void **state)
{
	struct ub_fwd f;
	uint32_t port;

	assert_int_equal(ub_fdb_add_static(*state, &mac_b, 0, 7, 0), 0);
	/* B's frame from elsewhere is forwarded; B stays on port 7. */
	decide(*state, &bcast, &mac_b, -1, 2, &f);
	assert_int_equal(f.learn, UB_FDB_LEARN_STATIC);
	assert_int_equal(f.kind, UB_FWD_FLOOD);
	decide(*state, &mac_a, &mac_b, -1, 2, &f);
	assert_int_equal(f.learn, UB_FDB_LEARN_STATIC);
	assert_int_equal(f.kind, UB_FWD_FLOOD);
	assert_true(ub_fdb_lookup(*state, &mac_b, 0, &port, NULL));
	assert_int_equal(port, 7);
	decide(*state, &mac_b, &mac_a, -1, 1, &f);
	assert_int_equal(f.kind, UB_FWD_PORT);
	assert_int_equal(f.port, 7);
}

/*
 * B is the MAC of our port 5 (a local entry). A frame with B as its source
 * arriving on any other port is ours looped back or a forgery: dropped as
 * own-MAC whatever its destination, with the owner reported. From port 5
 * itself it is an ordinary frame.
 */
static void test_own_mac_dropped(void **state)
{
	static const struct ub_mac ll = { { 0x01, 0x80, 0xc2, 0, 0, 0 } };
	struct ub_fdb_stats st;
	struct ub_fwd f;
	uint32_t port;

	assert_int_equal(ub_fdb_add_local(*state, &mac_b, 0, 5), 0);
	decide(*state, &bcast, &mac_a, -1, 1, &f);

	decide(*state, &bcast, &mac_b, -1, 2, &f);
	assert_int_equal(f.kind, UB_FWD_DROP);
	assert_int_equal(f.drop, UB_DROP_OWN_MAC);
	assert_int_equal(f.learn, UB_FDB_LEARN_LOCAL);
	assert_int_equal(f.port, 5);
	/* Known unicast, link-local, the owner's own address: the source
	 * check comes first. */
	decide(*state, &mac_a, &mac_b, -1, 3, &f);
	assert_int_equal(f.drop, UB_DROP_OWN_MAC);
	assert_int_equal(f.port, 5);
	decide(*state, &ll, &mac_b, -1, 3, &f);
	assert_int_equal(f.drop, UB_DROP_OWN_MAC);
	decide(*state, &mac_b, &mac_b, -1, 1, &f);
	assert_int_equal(f.drop, UB_DROP_OWN_MAC);
	assert_int_equal(f.port, 5);
	/* Nothing moved. */
	assert_true(ub_fdb_lookup(*state, &mac_b, 0, &port, NULL));
	assert_int_equal(port, 5);
	st = (struct ub_fdb_stats){ 0 };
	ub_fdb_get_stats(*state, &st);
	assert_int_equal(st.local_refused, 4);
	assert_int_equal(st.static_refused, 0);
	assert_int_equal(st.moved, 0);

	/* From its own port: forwarded like any frame. */
	decide(*state, &bcast, &mac_b, -1, 5, &f);
	assert_int_equal(f.kind, UB_FWD_FLOOD);
	assert_int_equal(f.learn, UB_FDB_LEARN_NONE);
	decide(*state, &mac_a, &mac_b, -1, 5, &f);
	assert_int_equal(f.kind, UB_FWD_PORT);
	assert_int_equal(f.port, 1);
	/* And frames to it go to its port, never flood. */
	decide(*state, &mac_b, &mac_a, -1, 1, &f);
	assert_int_equal(f.kind, UB_FWD_PORT);
	assert_int_equal(f.port, 5);

	/* Entries are per VLAN: the local entry is untagged only, so the
	 * same MAC in VLAN 9 is learned like any other. */
	decide(*state, &bcast, &mac_b, 9, 2, &f);
	assert_int_equal(f.kind, UB_FWD_FLOOD);
	assert_int_equal(f.learn, UB_FDB_LEARN_NEW);

	/* The port's MAC changes: the old one is an ordinary address. */
	assert_int_equal(ub_fdb_del(*state, &mac_b, 0), 0);
	decide(*state, &bcast, &mac_b, -1, 2, &f);
	assert_int_equal(f.kind, UB_FWD_FLOOD);
	assert_int_equal(f.learn, UB_FDB_LEARN_NEW);
}

/* With an ageing time of 0 nothing is learned and every unicast floods,
 * but our own MACs are still refused from other ports. */
static void test_ageing_zero(void **state)
{
	struct ub_fwd f;

	ub_fdb_set_ageing(*state, 0);
	decide(*state, &bcast, &mac_a, -1, 1, &f);
	assert_int_equal(f.learn, UB_FDB_LEARN_NONE);
	decide(*state, &mac_a, &mac_b, -1, 2, &f);
	assert_int_equal(f.kind, UB_FWD_FLOOD);

	assert_int_equal(ub_fdb_add_local(*state, &mac_b, 0, 5), 0);
	decide(*state, &mac_a, &mac_b, -1, 2, &f);
	assert_int_equal(f.kind, UB_FWD_DROP);
	assert_int_equal(f.drop, UB_DROP_OWN_MAC);
	assert_int_equal(f.port, 5);
	decide(*state, &mac_a, &mac_b, -1, 5, &f);
	assert_int_equal(f.kind, UB_FWD_FLOOD);
	/* The local entry still places its address. */
	decide(*state, &mac_b, &mac_a, -1, 1, &f);
	assert_int_equal(f.kind, UB_FWD_PORT);
	assert_int_equal(f.port, 5);
}

/* Group destinations flood, known or not; so does an unknown unicast. */
static void test_flood(void **state)
{
	static const struct ub_mac v4mc = { { 0x01, 0, 0x5e, 0, 0, 1 } };
	static const struct ub_mac v6mc = { { 0x33, 0x33, 0, 0, 0, 1 } };
	static const struct ub_mac mac_c = { { 0x02, 0, 0, 0, 0, 0xc } };
	struct ub_fwd f;

	decide(*state, &v4mc, &mac_a, -1, 1, &f);
	assert_int_equal(f.kind, UB_FWD_FLOOD);
	assert_int_equal(f.port, 0);
	decide(*state, &v6mc, &mac_a, 7, 1, &f);
	assert_int_equal(f.kind, UB_FWD_FLOOD);
	assert_int_equal(f.vid, 7);
	/* A static entry for a group address does not make it unicast. */
	assert_int_equal(ub_fdb_add_static(*state, &v4mc, 0, 3, 0), 0);
	decide(*state, &v4mc, &mac_a, -1, 1, &f);
	assert_int_equal(f.kind, UB_FWD_FLOOD);
	decide(*state, &mac_c, &mac_a, -1, 1, &f);
	assert_int_equal(f.kind, UB_FWD_FLOOD);
	assert_int_equal(f.port, 0);
	/* A flooded frame still teaches its source. */
	decide(*state, &mac_a, &mac_c, -1, 4, &f);
	assert_int_equal(f.kind, UB_FWD_PORT);
	assert_int_equal(f.port, 1);
	assert_int_equal(f.learn, UB_FDB_LEARN_NEW);
}

/* A port at its own FDB cap: new sources flood on (nolearn) or are
 * dropped (drop); the addresses it has keep working. */
static void test_port_cap(void **state)
{
	static const struct ub_mac mac_c = { { 0x02, 0, 0, 0, 0, 0xc } };
	struct ub_fwd f;

	assert_int_equal(ub_fdb_port_set_cap(*state, 1, 1, UB_FDB_CAP_NOLEARN),
			 0);
	decide(*state, &bcast, &mac_a, -1, 1, &f);
	assert_int_equal(f.learn, UB_FDB_LEARN_NEW);
	decide(*state, &bcast, &mac_b, -1, 2, &f);
	decide(*state, &mac_b, &mac_c, -1, 1, &f);
	assert_int_equal(f.learn, UB_FDB_LEARN_REFUSED);
	assert_int_equal(f.kind, UB_FWD_PORT);
	assert_int_equal(f.port, 2);

	assert_int_equal(ub_fdb_port_set_cap(*state, 1, 1, UB_FDB_CAP_DROP), 0);
	decide(*state, &mac_b, &mac_c, -1, 1, &f);
	assert_int_equal(f.learn, UB_FDB_LEARN_DROP);
	assert_int_equal(f.kind, UB_FWD_DROP);
	assert_int_equal(f.drop, UB_DROP_FDB_CAP);
	decide(*state, &mac_b, &mac_a, -1, 1, &f);
	assert_int_equal(f.kind, UB_FWD_PORT);
	assert_int_equal(f.port, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_runt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_source_not_learned,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_group_fwd_mask, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_vlan_matrix, setup,
						teardown),
		cmocka_unit_test(test_vlan_rewrite),
		cmocka_unit_test(test_vlan_default),
		cmocka_unit_test_setup_teardown(test_vlan_add_del, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_probe, setup, teardown),
		cmocka_unit_test_setup_teardown(test_blocked_and_bpdu, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_link_local_never_forwarded,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_flood_then_unicast, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_same_port_dropped, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_move, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vlan_keyed, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_static_wins, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_port_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_own_mac_dropped, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_ageing_zero, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_flood, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
