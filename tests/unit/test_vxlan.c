/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for VXLAN framing and the software offloads (vxlan.h).
 * Frames are built here byte by byte, and every checksum the module
 * writes is checked with a plain 16-bit-word sum of the test's own, so a
 * wrong checksum, length, id, sequence number or flag fails a test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <ubridge/io.h>
#include <ubridge/vxlan.h>

#define VH UB_VNET_HLEN
#define VX UB_VXLAN_HLEN
#define SECRET 0x0123456789abcdefull
#define BIG (80 * 1024)

static uint8_t frame[BIG], out[3 * BIG], copy[BIG];

/* ---- an independent checksum: big-endian words, folded at the end ---- */

static uint64_t ref_sum(uint64_t sum, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static uint16_t ref_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)rd16(p) << 16 | rd16(p + 2);
}

static void wr16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* The pseudo-header's sum for an L4 segment of 'l4len' bytes. */
static uint64_t ref_pseudo(const uint8_t *ip, bool v6, uint8_t proto,
			   uint32_t l4len)
{
	uint64_t s = v6 ? ref_sum(0, ip + 8, 32) : ref_sum(0, ip + 12, 8);

	return s + proto + l4len;
}

/* True when the checksummed bytes, checksum included, sum to 0xffff. */
static bool l4_ok(const uint8_t *ip, bool v6, uint8_t proto,
		  const uint8_t *l4, uint32_t l4len)
{
	return ref_fold(ref_pseudo(ip, v6, proto, l4len) +
			ref_sum(0, l4, l4len)) == 0xffff;
}

/* ---- building frames ---- */

struct spec {
	bool v6, udp, vlan, no_csum_flag;
	uint32_t ipopt, tcpopt; /* option bytes, multiples of 4 */
	uint32_t payload;
	uint16_t gso_size;
	uint8_t gso_type;       /* 0: from v6/udp */
	uint8_t tcp_flags;
	uint16_t ip_id;
	uint32_t seq;
};

struct built {
	uint32_t len;            /* virtio-net header + frame */
	uint32_t l3, l4, hlen;   /* offsets in the Ethernet frame */
	uint32_t iphlen, l4hlen;
};

static const uint8_t dst_mac[6] = {0x02, 0, 0, 0, 0, 0x02};
static const uint8_t src_mac[6] = {0x02, 0, 0, 0, 0, 0x01};

/* [virtio-net header][Ethernet (tag)][IPv4 (options) | IPv6][TCP | UDP]
 * [payload], with the header a sending kernel would write. */
static struct built build(uint8_t *f, const struct spec *s)
{
	struct virtio_net_hdr vh = {0};
	uint8_t *e = f + VH, *ip, *l4;
	struct built b;
	uint32_t off = 12;

	memcpy(e, dst_mac, 6);
	memcpy(e + 6, src_mac, 6);
	if (s->vlan) {
		wr16(e + 12, 0x8100);
		wr16(e + 14, 0x2005);
		off += 4;
	}
	wr16(e + off, s->v6 ? 0x86dd : 0x0800);
	b.l3 = off + 2;
	b.iphlen = s->v6 ? 40 : 20 + s->ipopt;
	b.l4 = b.l3 + b.iphlen;
	b.l4hlen = s->udp ? 8 : 20 + s->tcpopt;
	b.hlen = b.l4 + b.l4hlen;
	b.len = VH + b.hlen + s->payload;
	ip = e + b.l3;
	l4 = e + b.l4;
	memset(ip, 0, b.hlen - b.l3);
	if (!s->v6) {
		ip[0] = (uint8_t)(0x40 | b.iphlen / 4);
		wr16(ip + 2, b.len - VH - b.l3);
		wr16(ip + 4, s->ip_id);
		wr16(ip + 6, 0x4000); /* DF */
		ip[8] = 64;
		ip[9] = s->udp ? 17 : 6;
		memcpy(ip + 12, "\x0a\x00\x00\x01\x0a\x00\x00\x02", 8);
		for (uint32_t i = 0; i < s->ipopt; i++)
			ip[20 + i] = i + 1 < s->ipopt ? 1 : 0; /* NOPs, EOL */
		wr16(ip + 10, 0xbeef); /* stale: the module recomputes */
	} else {
		ip[0] = 0x60;
		ip[1] = 0x01; /* a flow label */
		wr16(ip + 4, b.len - VH - b.l4);
		ip[6] = s->udp ? 17 : 6;
		ip[7] = 64;
		ip[8] = 0xfd;
		ip[23] = 1;
		ip[24] = 0xfd;
		ip[39] = 2;
	}
	wr16(l4, 40000);
	wr16(l4 + 2, 5201);
	if (s->udp) {
		wr16(l4 + 4, b.len - VH - b.l4);
		wr16(l4 + 6, 0x1234); /* a seed, as the sender leaves it */
	} else {
		l4[4] = (uint8_t)(s->seq >> 24);
		l4[5] = (uint8_t)(s->seq >> 16);
		wr16(l4 + 6, s->seq);
		memcpy(l4 + 8, "\x11\x22\x33\x44", 4);
		l4[12] = (uint8_t)((b.l4hlen / 4) << 4);
		l4[13] = s->tcp_flags;
		wr16(l4 + 14, 502);
		wr16(l4 + 16, 0x1234);
		for (uint32_t i = 0; i < s->tcpopt; i++)
			l4[20 + i] = i < 2 ? 1 : (uint8_t)(0x80 + i);
	}
	for (uint32_t i = 0; i < s->payload; i++)
		e[b.hlen + i] = (uint8_t)(i * 7 + i / 251);

	vh.flags = s->no_csum_flag ? 0 : VIRTIO_NET_HDR_F_NEEDS_CSUM;
	vh.gso_type = s->gso_type ? s->gso_type
		      : s->udp    ? VIRTIO_NET_HDR_GSO_UDP_L4
		      : s->v6     ? VIRTIO_NET_HDR_GSO_TCPV6
				  : VIRTIO_NET_HDR_GSO_TCPV4;
	vh.gso_size = htole16(s->gso_size);
	vh.hdr_len = htole16((uint16_t)b.hlen);
	vh.csum_start = htole16((uint16_t)b.l4);
	vh.csum_offset = htole16(s->udp ? 6 : 16);
	memcpy(f, &vh, sizeof(vh));
	return b;
}

static struct virtio_net_hdr *vnet(uint8_t *f)
{
	return (struct virtio_net_hdr *)f;
}

/* ---- the header ---- */

static void test_hdr_round_trip(void **state)
{
	static const uint32_t vnis[] = {0, 1, 42, 0x123456, UB_VXLAN_VNI_MAX};
	uint8_t p[VX + 14] = {0};
	uint32_t vni;

	for (size_t i = 0; i < sizeof(vnis) / sizeof(vnis[0]); i++) {
		ub_vxlan_hdr_put(p, vnis[i]);
		assert_int_equal(p[0], 0x08);
		assert_int_equal(p[1] | p[2] | p[3] | p[7], 0);
		assert_int_equal(rd32(p + 4) >> 8, vnis[i]);
		vni = ~0u;
		assert_int_equal(ub_vxlan_decode(p, sizeof(p), UB_VXLAN_VNI_ANY,
						 0, &vni),
				 UB_VXLAN_RX_OK);
		assert_int_equal(vni, vnis[i]);
		assert_int_equal(ub_vxlan_decode(p, sizeof(p), vnis[i], 0, &vni),
				 UB_VXLAN_RX_OK);
	}
	/* Bits past 24 are not the VNI's. */
	ub_vxlan_hdr_put(p, 0x01abcdef);
	assert_int_equal(ub_vxlan_decode(p, sizeof(p), UB_VXLAN_VNI_ANY, 0,
					 &vni),
			 UB_VXLAN_RX_OK);
	assert_int_equal(vni, 0xabcdef);
}

static void test_decode_rejects(void **state)
{
	uint8_t p[VX + 14] = {0};
	uint32_t vni = 0;

	ub_vxlan_hdr_put(p, 7);
	for (uint32_t len = 0; len < VX; len++)
		assert_int_equal(ub_vxlan_decode(p, len, UB_VXLAN_VNI_ANY, 0,
						 &vni),
				 UB_VXLAN_RX_SHORT);
	/* The inner frame: 13 bytes are a runt, 14 are not (as core's
	 * forward path has it), whatever else the header says. */
	assert_int_equal(ub_vxlan_decode(p, VX + 13, 7, 0, &vni),
			 UB_VXLAN_RX_RUNT);
	assert_int_equal(ub_vxlan_decode(p, VX, 7, 0, &vni), UB_VXLAN_RX_RUNT);
	assert_int_equal(ub_vxlan_decode(p, VX + 14, 7, 0, &vni),
			 UB_VXLAN_RX_OK);

	assert_int_equal(ub_vxlan_decode(p, sizeof(p), 8, 0, &vni),
			 UB_VXLAN_RX_VNI);
	assert_int_equal(vni, 7); /* told, for the log */

	/* No I flag, whatever else is set. */
	p[0] = 0;
	assert_int_equal(ub_vxlan_decode(p, sizeof(p), 7, 0, &vni),
			 UB_VXLAN_RX_FLAGS);
	p[0] = 0xf7;
	assert_int_equal(ub_vxlan_decode(p, sizeof(p), 7,
					 UB_VXLAN_RX_F_IGNORE_RESERVED, &vni),
			 UB_VXLAN_RX_FLAGS);

	/* Each reserved bit: refused as Linux does, ignored on request. */
	for (int byte = 0; byte < VX; byte++) {
		if (byte >= 4 && byte <= 6)
			continue; /* the VNI */
		for (int bit = 0; bit < 8; bit++) {
			if (byte == 0 && bit == 3)
				continue; /* I */
			ub_vxlan_hdr_put(p, 7);
			p[byte] |= (uint8_t)(1 << bit);
			assert_int_equal(ub_vxlan_decode(p, sizeof(p), 7, 0,
							 &vni),
					 UB_VXLAN_RX_RESERVED);
			vni = 0;
			assert_int_equal(
				ub_vxlan_decode(p, sizeof(p), 7,
						UB_VXLAN_RX_F_IGNORE_RESERVED,
						&vni),
				UB_VXLAN_RX_OK);
			assert_int_equal(vni, 7);
		}
	}
}

static void test_names(void **state)
{
	const char *seen[UB_VXLAN_RX__COUNT + UB_VXLAN_TX__COUNT];
	size_t n = 0;

	assert_null(ub_vxlan_rx_name(UB_VXLAN_RX_OK));
	assert_null(ub_vxlan_tx_name(UB_VXLAN_TX_OK));
	for (int r = 1; r < UB_VXLAN_RX__COUNT; r++)
		seen[n++] = ub_vxlan_rx_name((enum ub_vxlan_rx)r);
	for (int r = 1; r < UB_VXLAN_TX__COUNT; r++)
		seen[n++] = ub_vxlan_tx_name((enum ub_vxlan_tx)r);
	for (size_t i = 0; i < n; i++) {
		assert_non_null(seen[i]);
		assert_true(strncmp(seen[i], i < UB_VXLAN_RX__COUNT - 1
						     ? "rx_drop_vxlan_"
						     : "tx_drop_vxlan_",
				    14) == 0);
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(seen[i], seen[j]);
	}
}

static void test_gro_seg(void **state)
{
	uint32_t off = 99, lens[8], n, i;

	for (i = 0; (n = ub_vxlan_gro_seg(2500, 1000, i, &off)); i++) {
		assert_int_equal(off, i * 1000);
		lens[i] = n;
	}
	assert_int_equal(i, 3);
	assert_int_equal(lens[0], 1000);
	assert_int_equal(lens[1], 1000);
	assert_int_equal(lens[2], 500);
	for (i = 0; ub_vxlan_gro_seg(3000, 1000, i, &off); i++)
		;
	assert_int_equal(i, 3);
	assert_int_equal(ub_vxlan_gro_seg(700, 0, 0, &off), 700);
	assert_int_equal(off, 0);
	assert_int_equal(ub_vxlan_gro_seg(700, 0, 1, &off), 0);
	assert_int_equal(ub_vxlan_gro_seg(700, 1000, 0, &off), 700);
	assert_int_equal(ub_vxlan_gro_seg(700, 1000, 1, &off), 0);
	assert_int_equal(ub_vxlan_gro_seg(0, 1000, 0, &off), 0);
	/* No overflow of i * seg_size. */
	assert_int_equal(ub_vxlan_gro_seg(700, 0x10000, 0x10000, &off), 0);
}

static void test_gso_batch(void **state)
{
	assert_int_equal(ub_vxlan_gso_batch(0), 0);
	assert_int_equal(ub_vxlan_gso_batch(100), UB_VXLAN_GSO_SEGS_MAX);
	assert_int_equal(ub_vxlan_gso_batch(1530), 65507 / 1530);
	assert_true(ub_vxlan_gso_batch(1530) * 1530 <= UB_VXLAN_GSO_BYTES_MAX);
	assert_int_equal(ub_vxlan_gso_batch(70000), 0);
}

/* ---- the source port ---- */

static uint16_t sport_of(const struct spec *s, uint16_t sport_in,
			 uint16_t min, uint16_t max, uint64_t secret)
{
	struct built b = build(frame, s);

	wr16(frame + VH + b.l4, sport_in);
	return ub_vxlan_src_port(frame + VH, b.len - VH, min, max, secret);
}

static void test_src_port_stable(void **state)
{
	struct spec s = {.payload = 100};
	struct built b;
	uint16_t p, q;

	p = sport_of(&s, 40000, UB_VXLAN_SPORT_MIN, UB_VXLAN_SPORT_MAX, SECRET);
	assert_true(p >= UB_VXLAN_SPORT_MIN);
	/* The same flow, other payload, sequence number, TTL, ids: same. */
	s.payload = 1000;
	s.seq = 12345;
	s.ip_id = 77;
	assert_int_equal(sport_of(&s, 40000, UB_VXLAN_SPORT_MIN,
				  UB_VXLAN_SPORT_MAX, SECRET),
			 p);
	/* Another source port is another flow; another secret, another
	 * mapping (these two happen to differ; 1 in 16384 would not). */
	assert_int_not_equal(sport_of(&s, 40001, UB_VXLAN_SPORT_MIN,
				      UB_VXLAN_SPORT_MAX, SECRET),
			     p);
	assert_int_not_equal(sport_of(&s, 40000, UB_VXLAN_SPORT_MIN,
				      UB_VXLAN_SPORT_MAX, SECRET + 1),
			     p);

	/* Fragments of one datagram hash together: the first's ports are
	 * left out, since the others have none. */
	s.udp = true;
	b = build(frame, &s);
	wr16(frame + VH + b.l3 + 6, 0x2000); /* MF */
	p = ub_vxlan_src_port(frame + VH, b.len - VH, 1, 65535, SECRET);
	wr16(frame + VH + b.l3 + 6, 0x0010); /* offset 128, no MF */
	memset(frame + VH + b.l4, 0xab, 8);
	q = ub_vxlan_src_port(frame + VH, b.len - VH, 1, 65535, SECRET);
	assert_int_equal(p, q);

	/* Narrow ranges, a reversed one, and frames with no IP at all. */
	assert_int_equal(sport_of(&s, 1, 4789, 4789, SECRET), 4789);
	assert_int_equal(sport_of(&s, 1, 5000, 10, SECRET), 5000);
	{
		bool seen[3] = {false, false, false};

		for (uint16_t i = 0; i < 200; i++) {
			p = sport_of(&s, i, 10, 12, SECRET);
			assert_true(p >= 10 && p <= 12);
			seen[p - 10] = true;
		}
		assert_true(seen[0] && seen[1] && seen[2]); /* max too */
	}
	assert_true(ub_vxlan_src_port(frame, 3, 100, 200, SECRET) >= 100);
	assert_true(ub_vxlan_src_port(frame, 0, 100, 200, SECRET) <= 200);
}

/* Flows that differ in one field spread evenly over the range. */
static void spread(const struct spec *s, bool vary_addr)
{
	enum { FLOWS = 8192, BUCKETS = 16 };
	static uint8_t hit[65536];
	uint32_t buckets[BUCKETS] = {0}, distinct = 0;
	struct built b = build(frame, s);

	memset(hit, 0, sizeof(hit));
	for (uint32_t i = 0; i < FLOWS; i++) {
		uint16_t p;

		if (vary_addr)
			wr16(frame + VH + b.l3 + (s->v6 ? 22 : 14), i);
		else
			wr16(frame + VH + b.l4, i);
		p = ub_vxlan_src_port(frame + VH, b.len - VH,
				      UB_VXLAN_SPORT_MIN, UB_VXLAN_SPORT_MAX,
				      SECRET);
		assert_true(p >= UB_VXLAN_SPORT_MIN);
		distinct += !hit[p];
		hit[p] = 1;
		buckets[(p - UB_VXLAN_SPORT_MIN) / (16384 / BUCKETS)]++;
	}
	/* 8192 balls in 16384 bins: about 6,600 distinct expected. */
	assert_true(distinct > 6000);
	for (int i = 0; i < BUCKETS; i++)
		assert_true(buckets[i] > FLOWS / BUCKETS * 3 / 4 &&
			    buckets[i] < FLOWS / BUCKETS * 5 / 4);
}

static void test_src_port_spread(void **state)
{
	struct spec s = {.payload = 10};

	spread(&s, false);
	spread(&s, true);
	s.v6 = true;
	spread(&s, false);
	spread(&s, true);
	s.udp = true;
	spread(&s, false);
	s.vlan = true;
	s.v6 = false;
	spread(&s, true);
}

/* ---- checksum completion ---- */

/* A non-GSO frame whose L4 checksum field holds the pseudo-header's sum,
 * as a sender with checksum offload leaves it. */
static struct built partial(const struct spec *s0)
{
	struct spec s = *s0;
	struct built b;
	uint8_t *e = frame + VH, proto = s.udp ? 17 : 6;
	uint16_t seed;

	b = build(frame, &s);
	vnet(frame)->gso_type = VIRTIO_NET_HDR_GSO_NONE;
	vnet(frame)->gso_size = 0;
	seed = ref_fold(ref_pseudo(e + b.l3, s.v6, proto, b.len - VH - b.l4));
	wr16(e + b.l4 + (s.udp ? 6 : 16), seed);
	return b;
}

static void check_partial(const struct spec *s)
{
	uint8_t *e = frame + VH, proto = s->udp ? 17 : 6;
	struct ub_vxlan_out res;
	struct built b = partial(s);
	uint32_t l4len = b.len - VH - b.l4;
	uint16_t want;

	/* What the field must end up holding, computed independently. */
	memcpy(copy, frame, b.len);
	copy[VH + b.l4 + (s->udp ? 6 : 16)] = 0;
	copy[VH + b.l4 + (s->udp ? 7 : 17)] = 0;
	want = (uint16_t)~ref_fold(ref_pseudo(copy + VH + b.l3, s->v6, proto,
					      l4len) +
				   ref_sum(0, copy + VH + b.l4, l4len));
	if (!want)
		want = 0xffff;

	/* Through ub_vxlan_encap(): the input stays as it was. */
	memcpy(copy, frame, b.len);
	assert_int_equal(ub_vxlan_encap(frame, b.len, 99, out, sizeof(out),
					&res),
			 UB_VXLAN_TX_OK);
	assert_memory_equal(frame, copy, b.len);
	assert_int_equal(res.segs, 1);
	assert_int_equal(res.len, VX + b.len - VH);
	assert_int_equal(res.seg_size, res.len);
	assert_int_equal(rd32(out + 4), 99 << 8);
	assert_int_equal(rd16(out + VX + b.l4 + (s->udp ? 6 : 16)), want);
	assert_true(l4_ok(out + VX + b.l3, s->v6, proto, out + VX + b.l4,
			  l4len));
	/* Nothing else changed. */
	out[VX + b.l4 + (s->udp ? 6 : 16)] = e[b.l4 + (s->udp ? 6 : 16)];
	out[VX + b.l4 + (s->udp ? 7 : 17)] = e[b.l4 + (s->udp ? 7 : 17)];
	assert_memory_equal(out + VX, e, b.len - VH);

	/* In place. */
	assert_true(ub_vxlan_csum_complete(e, b.len - VH, b.l4,
					   s->udp ? 6 : 16));
	assert_int_equal(rd16(e + b.l4 + (s->udp ? 6 : 16)), want);
	assert_true(l4_ok(e + b.l3, s->v6, proto, e + b.l4, l4len));
}

static void test_csum_complete(void **state)
{
	/* Odd and even lengths, both IP versions, TCP and UDP, tagged. */
	for (uint32_t payload = 0; payload < 70; payload += 13) {
		struct spec s = {.payload = payload, .tcpopt = 12};

		check_partial(&s);
		s.v6 = true;
		check_partial(&s);
		s.udp = true;
		check_partial(&s);
		s.v6 = false;
		s.vlan = true;
		check_partial(&s);
	}
	{
		struct spec s = {.payload = 9001};

		check_partial(&s);
	}
}

/* ---- receiving: ub_vxlan_rx_offload() ---- */

/* A frame as a datagram brings it: the virtio-net header's place holds
 * whatever the VXLAN header left there. */
static void rx_junk_hdr(uint8_t *f)
{
	memset(f, 0xa5, VH);
}

static void check_rx_partial(const struct spec *s, uint32_t pad)
{
	uint8_t *e = frame + VH, proto = s->udp ? 17 : 6;
	struct built b = partial(s);
	uint32_t l4len = b.len - VH - b.l4;
	struct virtio_net_hdr zero = {0};

	/* Ethernet padding past the IP length is not checksummed. */
	memset(frame + b.len, 0x5a, pad);
	rx_junk_hdr(frame);
	ub_vxlan_rx_offload(frame, b.len + pad, 1500);
	assert_memory_equal(frame, &zero, VH);
	assert_true(l4_ok(e + b.l3, s->v6, proto, e + b.l4, l4len));
	/* Complete now: a second look changes nothing. */
	memcpy(copy, frame, b.len + pad);
	ub_vxlan_rx_offload(frame, b.len + pad, 1500);
	assert_memory_equal(frame, copy, b.len + pad);
}

static void test_rx_partial_completed(void **state)
{
	for (uint32_t payload = 0; payload < 70; payload += 23) {
		struct spec s = {.payload = payload, .tcpopt = 12};

		check_rx_partial(&s, payload ? 0 : 6);
		s.v6 = true;
		check_rx_partial(&s, 0);
		s.udp = true;
		check_rx_partial(&s, 0);
		s.v6 = false;
		s.vlan = true;
		check_rx_partial(&s, 3);
	}
}

static void test_rx_left_alone(void **state)
{
	struct spec s = {.payload = 100};
	struct built b = partial(&s);
	uint8_t *e = frame + VH;

	/* A wrong checksum is the receiver's to drop: not "fixed". */
	wr16(e + b.l4 + 16, rd16(e + b.l4 + 16) ^ 0x0100);
	memcpy(copy, frame, b.len);
	rx_junk_hdr(frame);
	ub_vxlan_rx_offload(frame, b.len, 1500);
	assert_memory_equal(frame + VH, copy + VH, b.len - VH);
	assert_int_equal(vnet(frame)->flags, 0);
	/* A fragment's checksum covers bytes it does not hold. */
	b = partial(&s);
	wr16(e + b.l3 + 6, 0x2000); /* MF */
	memcpy(copy, frame, b.len);
	ub_vxlan_rx_offload(frame, b.len, 1500);
	assert_memory_equal(frame + VH, copy + VH, b.len - VH);
	/* UDP's 0 is "no checksum". */
	s.udp = true;
	b = partial(&s);
	wr16(e + b.l4 + 6, 0);
	memcpy(copy, frame, b.len);
	ub_vxlan_rx_offload(frame, b.len, 1500);
	assert_memory_equal(frame + VH, copy + VH, b.len - VH);
	/* Too short for its headers; an IP length past the frame. */
	for (uint32_t len = 0; len < b.len; len += 7) {
		rx_junk_hdr(frame);
		ub_vxlan_rx_offload(frame, len, 1500);
		if (len >= VH)
			assert_int_equal(vnet(frame)->flags, 0);
	}
}

static void test_rx_super_frame(void **state)
{
	/* A TSO frame of 20000 bytes that crossed in one datagram. */
	struct spec s = {.payload = 20000, .tcpopt = 12};
	struct built b = partial(&s);
	struct ub_vxlan_out res;
	uint32_t mss = 1450 - 20 - 32;

	memcpy(copy, frame, b.len);
	rx_junk_hdr(frame);
	ub_vxlan_rx_offload(frame, b.len, 1450);
	assert_memory_equal(frame + VH, copy + VH, b.len - VH);
	assert_int_equal(vnet(frame)->flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	assert_int_equal(vnet(frame)->gso_type, VIRTIO_NET_HDR_GSO_TCPV4);
	assert_int_equal(le16toh(vnet(frame)->gso_size), mss);
	assert_int_equal(le16toh(vnet(frame)->hdr_len), b.hlen);
	assert_int_equal(le16toh(vnet(frame)->csum_start), b.l4);
	assert_int_equal(le16toh(vnet(frame)->csum_offset), 16);
	/* Sent on through a VXLAN port: segments that fit 1450. */
	assert_int_equal(ub_vxlan_encap(frame, b.len, 7, out, sizeof(out),
					&res),
			 UB_VXLAN_TX_OK);
	assert_int_equal(res.segs, (20000 + mss - 1) / mss);
	assert_int_equal(res.seg_size, VX + b.hlen + mss);
	/* Within the MTU it is an ordinary frame. */
	b = partial(&s);
	rx_junk_hdr(frame);
	ub_vxlan_rx_offload(frame, b.len, 65535);
	assert_int_equal(vnet(frame)->gso_type, VIRTIO_NET_HDR_GSO_NONE);
	s.v6 = true;
	b = partial(&s);
	ub_vxlan_rx_offload(frame, b.len, 1450);
	assert_int_equal(vnet(frame)->gso_type, VIRTIO_NET_HDR_GSO_TCPV6);
	assert_int_equal(le16toh(vnet(frame)->gso_size), 1450 - 40 - 32);
}

/* ---- receiving: ub_vxlan_gro_merge() ---- */

static uint8_t gro[3 * BIG], again[3 * BIG];

/* encap(frame) into gro + 2 (two bytes of room in front, as in a receive
 * buffer); returns what encap said. */
static struct ub_vxlan_out gro_from(const struct spec *s, struct built *b)
{
	struct ub_vxlan_out res;

	*b = build(frame, s);
	assert_int_equal(ub_vxlan_encap(frame, b->len, 42, gro + 2,
					sizeof(gro) - 2, &res),
			 UB_VXLAN_TX_OK);
	return res;
}

static void check_merge(const struct spec *s)
{
	struct ub_vxlan_out res;
	uint8_t *m = gro + 2 + VX - VH, *e = frame + VH;
	struct built b;
	uint32_t n, l4len;

	res = gro_from(s, &b);
	assert_true(res.segs > 1);
	n = ub_vxlan_gro_merge(gro + 2, res.len, res.seg_size, 42);
	assert_int_equal(n, b.len);
	assert_int_equal(vnet(m)->flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	assert_int_equal(vnet(m)->gso_type, s->v6 ? VIRTIO_NET_HDR_GSO_TCPV6 :
						    VIRTIO_NET_HDR_GSO_TCPV4);
	assert_int_equal(le16toh(vnet(m)->gso_size), s->gso_size);
	assert_int_equal(le16toh(vnet(m)->hdr_len), b.hlen);
	assert_int_equal(le16toh(vnet(m)->csum_start), b.l4);
	assert_int_equal(le16toh(vnet(m)->csum_offset), 16);
	/* The super-frame again, but for the checksums: the IPv4 one
	 * recomputed, the TCP one the pseudo-header's sum. */
	l4len = b.len - VH - b.l4;
	assert_int_equal(rd16(m + VH + b.l4 + 16),
			 ref_fold(ref_pseudo(m + VH + b.l3, s->v6, 6, l4len)));
	if (!s->v6) {
		assert_int_equal(ref_fold(ref_sum(0, m + VH + b.l3, b.iphlen)),
				 0xffff);
		memcpy(m + VH + b.l3 + 10, e + b.l3 + 10, 2);
	}
	memcpy(m + VH + b.l4 + 16, e + b.l4 + 16, 2);
	assert_memory_equal(m + VH, e, b.len - VH);
}

static void test_gro_merge(void **state)
{
	struct spec s = {.payload = 20000, .gso_size = 1398, .tcpopt = 12,
			 .tcp_flags = 0x18, .seq = 0xfffff000};

	check_merge(&s);
	s.v6 = true;
	check_merge(&s);
	s.vlan = true;
	s.payload = 2 * 1398; /* the last segment full */
	check_merge(&s);
	s.v6 = false;
	s.payload = 65535 - 20 - 32;
	s.gso_size = 1000;
	check_merge(&s);
}

static void test_gro_merge_round_trip(void **state)
{
	struct spec s = {.payload = 30000, .gso_size = 1398, .tcpopt = 12,
			 .tcp_flags = 0x19, .ip_id = 7};
	struct ub_vxlan_out res, res2;
	struct built b;
	uint32_t n;

	res = gro_from(&s, &b);
	memcpy(again, gro + 2, res.len);
	n = ub_vxlan_gro_merge(gro + 2, res.len, res.seg_size, 42);
	assert_int_equal(n, b.len);
	assert_int_equal(ub_vxlan_encap(gro + 2 + VX - VH, n, 42, out,
					sizeof(out), &res2),
			 UB_VXLAN_TX_OK);
	assert_int_equal(res2.len, res.len);
	assert_int_equal(res2.seg_size, res.seg_size);
	assert_memory_equal(out, again, res.len);
}

static void test_gro_merge_refused(void **state)
{
	struct spec s = {.payload = 5000, .gso_size = 1000, .tcp_flags = 0x10};
	struct ub_vxlan_out res;
	struct built b;

	/* One datagram, or no segment size: nothing to merge. */
	res = gro_from(&s, &b);
	assert_int_equal(ub_vxlan_gro_merge(gro + 2, res.seg_size,
					    res.seg_size, 42), 0);
	assert_int_equal(ub_vxlan_gro_merge(gro + 2, res.len, 0, 42), 0);
	/* Another VNI. */
	assert_int_equal(ub_vxlan_gro_merge(gro + 2, res.len, res.seg_size, 41),
			 0);
	/* Corrupted data in the third segment: its checksum is wrong. */
	gro[2 + 2 * res.seg_size + VX + b.hlen + 5] ^= 1;
	memcpy(again, gro, res.len + 2);
	assert_int_equal(ub_vxlan_gro_merge(gro + 2, res.len, res.seg_size, 42),
			 0);
	assert_memory_equal(gro, again, res.len + 2); /* nothing written */
	/* A last datagram too short for a VXLAN header. */
	res = gro_from(&s, &b);
	assert_int_equal(ub_vxlan_gro_merge(gro + 2, res.len - res.seg_size +
					    3, res.seg_size, 42), 0);
	/* UDP inside, and a frame that only acknowledges (no data). */
	s.udp = true;
	res = gro_from(&s, &b);
	assert_int_equal(ub_vxlan_gro_merge(gro + 2, res.len, res.seg_size, 42),
			 0);
	s.udp = false;
	s.tcp_flags = 0x12; /* SYN */
	res = gro_from(&s, &b);
	assert_int_equal(ub_vxlan_gro_merge(gro + 2, res.len, res.seg_size, 42),
			 0);
}

static void test_csum_complete_bounds(void **state)
{
	struct spec s = {.payload = 10};
	struct built b = partial(&s);
	uint32_t elen = b.len - VH;
	struct ub_vxlan_out res;

	memcpy(copy, frame, b.len);
	/* The field's last byte at the frame's last byte is fine ... */
	assert_true(ub_vxlan_csum_complete(frame + VH, elen, elen - 2, 0));
	assert_true(ub_vxlan_csum_complete(frame + VH, elen, 0, elen - 2));
	memcpy(frame, copy, b.len);
	/* ... one byte further is not, nor is an offset that wraps. */
	assert_false(ub_vxlan_csum_complete(frame + VH, elen, elen - 1, 0));
	assert_false(ub_vxlan_csum_complete(frame + VH, elen, 1, elen - 2));
	assert_false(ub_vxlan_csum_complete(frame + VH, elen, elen + 1, 0));
	assert_false(ub_vxlan_csum_complete(frame + VH, elen, 4,
					    UINT32_MAX - 2));
	assert_memory_equal(frame, copy, b.len);

	vnet(frame)->csum_start = htole16((uint16_t)(elen - 1));
	vnet(frame)->csum_offset = 0;
	memset(out, 0xaa, 64);
	assert_int_equal(ub_vxlan_encap(frame, b.len, 1, out, sizeof(out),
					&res),
			 UB_VXLAN_TX_CSUM);
	assert_int_equal(out[0], 0xaa);
	vnet(frame)->csum_start = htole16((uint16_t)b.l4);
	vnet(frame)->csum_offset = htole16((uint16_t)(elen - b.l4 - 1));
	assert_int_equal(ub_vxlan_encap(frame, b.len, 1, out, sizeof(out),
					&res),
			 UB_VXLAN_TX_CSUM);
}

/*
 * A UDP datagram whose bytes sum to 0xffff has the checksum 0, which UDP
 * reserves for "none": it must go out as 0xffff. The first payload word
 * is chosen to make the sum come out so.
 */
static void zero_sum(uint8_t *f, const struct built *b, bool v6)
{
	uint8_t *e = f + VH;
	uint32_t l4len = b->len - VH - b->l4;
	uint16_t seed = rd16(e + b->l4 + 6), sum;

	wr16(e + b->l4 + 6, 0);
	wr16(e + b->hlen, 0);
	sum = ref_fold(ref_pseudo(e + b->l3, v6, 17, l4len) +
		       ref_sum(0, e + b->l4, l4len));
	wr16(e + b->hlen, 0xffff - sum);
	wr16(e + b->l4 + 6, seed);
}

static void test_udp_zero_csum(void **state)
{
	struct spec s = {.udp = true, .payload = 101, .gso_size = 200};
	struct ub_vxlan_out res;
	struct built b;

	for (int v6 = 0; v6 < 2; v6++) {
		s.v6 = v6;
		/* Completed in place, and through ub_vxlan_encap(). */
		b = partial(&s);
		zero_sum(frame, &b, v6);
		assert_int_equal(ub_vxlan_encap(frame, b.len, 1, out,
						sizeof(out), &res),
				 UB_VXLAN_TX_OK);
		assert_int_equal(rd16(out + VX + b.l4 + 6), 0xffff);
		assert_true(ub_vxlan_csum_complete(frame + VH, b.len - VH, b.l4,
						   6));
		assert_int_equal(rd16(frame + VH + b.l4 + 6), 0xffff);
		/* Segmented (one segment: the same bytes). */
		b = build(frame, &s);
		zero_sum(frame, &b, v6);
		assert_int_equal(ub_vxlan_encap(frame, b.len, 1, out,
						sizeof(out), &res),
				 UB_VXLAN_TX_OK);
		assert_int_equal(res.segs, 1);
		assert_int_equal(rd16(out + VX + b.l4 + 6), 0xffff);
	}
}

static void test_encap_plain(void **state)
{
	struct spec s = {.payload = 50};
	struct built b = build(frame, &s);
	struct ub_vxlan_out res;

	*vnet(frame) = (struct virtio_net_hdr){0};
	memcpy(copy, frame, b.len);
	assert_int_equal(ub_vxlan_encap(frame, b.len, 0x10203, out,
					VX + b.len - VH, &res),
			 UB_VXLAN_TX_OK);
	assert_int_equal(res.len, VX + b.len - VH);
	assert_int_equal(res.segs, 1);
	assert_int_equal(res.seg_size, res.len);
	assert_memory_equal(out, "\x08\x00\x00\x00\x01\x02\x03\x00", VX);
	assert_memory_equal(out + VX, frame + VH, b.len - VH);
	assert_memory_equal(frame, copy, b.len);

	/* One byte short of room: nothing written, the need told. */
	memset(out, 0xaa, sizeof(out));
	assert_int_equal(ub_vxlan_encap(frame, b.len, 1, out,
					VX + b.len - VH - 1, &res),
			 UB_VXLAN_TX_NOSPACE);
	assert_int_equal(res.len, VX + b.len - VH);
	assert_int_equal(out[0], 0xaa);

	/* The smallest frame, and anything shorter. */
	assert_int_equal(ub_vxlan_encap(frame, VH + 14, 1, out, sizeof(out),
					&res),
			 UB_VXLAN_TX_OK);
	assert_int_equal(res.len, VX + 14);
	for (uint32_t len = 0; len < VH + 14; len++)
		assert_int_equal(ub_vxlan_encap(frame, len, 1, out, sizeof(out),
						&res),
				 UB_VXLAN_TX_SHORT);
}

/* ---- segmentation ---- */

/*
 * Segments the super-frame in 'frame' and checks every datagram against
 * the spec: VXLAN header, copied headers, lengths, ids, sequence numbers,
 * flags, checksums (recomputed here) and payload.
 */
static void check_gso(const struct spec *s)
{
	struct built b = build(frame, s);
	uint32_t segs = s->payload ? (s->payload + s->gso_size - 1) /
					     s->gso_size
				   : 1;
	uint32_t stride = VX + b.hlen +
			  (segs > 1 ? s->gso_size : s->payload);
	uint8_t proto = s->udp ? 17 : 6;
	const uint8_t *e = frame + VH;
	struct ub_vxlan_out res;

	memcpy(copy, frame, b.len);
	memset(out, 0xaa, sizeof(out));
	assert_int_equal(ub_vxlan_encap(frame, b.len, 4242, out, sizeof(out),
					&res),
			 UB_VXLAN_TX_OK);
	assert_memory_equal(frame, copy, b.len);
	assert_int_equal(res.segs, segs);
	assert_int_equal(res.seg_size, stride);
	assert_int_equal(res.len, segs * (VX + b.hlen) + s->payload);
	assert_int_equal(out[res.len], 0xaa); /* nothing written past it */

	for (uint32_t i = 0; i < segs; i++) {
		const uint8_t *d = out + i * stride, *se = d + VX;
		const uint8_t *ip = se + b.l3, *l4 = se + b.l4;
		uint32_t chunk = i + 1 < segs ? s->gso_size
					      : s->payload - i * s->gso_size;
		uint32_t l4len = b.l4hlen + chunk, vni;
		uint8_t flags;

		assert_int_equal(ub_vxlan_decode(d, VX + b.hlen + chunk, 4242,
						 0, &vni),
				 UB_VXLAN_RX_OK);
		/* Ethernet, tag and addresses as they were. */
		assert_memory_equal(se, e, b.l3);
		if (!s->v6) {
			assert_int_equal(rd16(ip + 2), b.iphlen + l4len);
			assert_int_equal(rd16(ip + 4),
					 (uint16_t)(s->ip_id + i));
			assert_memory_equal(ip, e + b.l3, 2);
			assert_int_equal(rd16(ip + 6), 0x4000);
			assert_memory_equal(ip + 8, e + b.l3 + 8, 2);
			assert_memory_equal(ip + 12, e + b.l3 + 12,
					    b.iphlen - 12);
			assert_int_equal(ref_fold(ref_sum(0, ip, b.iphlen)),
					 0xffff);
		} else {
			assert_int_equal(rd16(ip + 4), l4len);
			assert_memory_equal(ip, e + b.l3, 4);
			assert_memory_equal(ip + 6, e + b.l3 + 6, 34);
		}
		assert_true(l4_ok(ip, s->v6, proto, l4, l4len));
		assert_memory_equal(l4, e + b.l4, 4); /* ports */
		if (s->udp) {
			assert_int_equal(rd16(l4 + 4), l4len);
		} else {
			assert_int_equal(rd32(l4 + 4),
					 s->seq + i * s->gso_size);
			assert_memory_equal(l4 + 8, e + b.l4 + 8, 5);
			assert_memory_equal(l4 + 14, e + b.l4 + 14, 2);
			assert_memory_equal(l4 + 18, e + b.l4 + 18,
					    b.l4hlen - 18);
			flags = s->tcp_flags;
			if (i + 1 < segs)
				flags &= (uint8_t)~0x09; /* FIN, PSH */
			if (i > 0)
				flags &= (uint8_t)~0x80; /* CWR */
			assert_int_equal(l4[13], flags);
		}
		assert_memory_equal(se + b.hlen,
				    e + b.hlen + i * s->gso_size, chunk);
	}
}

static void test_gso_tcpv4(void **state)
{
	/* Three full segments and a short one, FIN and PSH to move to the
	 * last, CWR to keep on the first; id and sequence wrap. */
	struct spec s = {.payload = 3 * 1448 + 500,
			 .gso_size = 1448,
			 .tcpopt = 12,
			 .tcp_flags = 0x80 | 0x10 | 0x08 | 0x01,
			 .ip_id = 0xfffe,
			 .seq = 0xfffff000};

	check_gso(&s);
	s.gso_type = VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN;
	check_gso(&s);
	/* IPv4 options and a VLAN tag move the offsets. */
	s.ipopt = 8;
	s.vlan = true;
	check_gso(&s);
	/* Exact multiple, one segment, no payload, odd sizes. */
	s.payload = 4 * 1000;
	s.gso_size = 1000;
	check_gso(&s);
	s.payload = 999;
	check_gso(&s);
	s.payload = 0;
	check_gso(&s);
	s.payload = 12345;
	s.gso_size = 77;
	check_gso(&s);
	/* No NEEDS_CSUM flag: checksums are computed all the same. */
	s.no_csum_flag = true;
	check_gso(&s);
}

static void test_gso_tcpv6(void **state)
{
	struct spec s = {.v6 = true,
			 .payload = 3 * 1428 + 17,
			 .gso_size = 1428,
			 .tcpopt = 12,
			 .tcp_flags = 0x80 | 0x10 | 0x08 | 0x01,
			 .seq = 1};

	check_gso(&s);
	s.gso_type = VIRTIO_NET_HDR_GSO_TCPV6 | VIRTIO_NET_HDR_GSO_ECN;
	s.vlan = true;
	check_gso(&s);
}

static void test_gso_udp_l4(void **state)
{
	struct spec s = {.udp = true, .payload = 3 * 1400 + 1, .gso_size = 1400};

	check_gso(&s);
	s.v6 = true;
	check_gso(&s);
	s.ip_id = 0xffff;
	s.v6 = false;
	s.vlan = true;
	s.payload = 5;
	check_gso(&s);
}

/* The largest super-frames: IP lengths at 65535. */
static void test_gso_64k(void **state)
{
	struct spec s = {.payload = 65535 - 20 - 32,
			 .gso_size = 1448,
			 .tcpopt = 12,
			 .tcp_flags = 0x18};
	struct ub_vxlan_out res;
	struct built b;

	check_gso(&s);
	s.v6 = true;
	s.payload = 65535 - 32;
	check_gso(&s);
	s.gso_size = 1;
	s.payload = 2000;
	check_gso(&s);
	/* One byte past 64 KiB of IPv4 cannot be said in tot_len. */
	s.v6 = false;
	s.gso_size = 1448;
	s.payload = 65535 - 20 - 32 + 1;
	b = build(frame, &s);
	assert_int_equal(ub_vxlan_encap(frame, b.len, 1, out, sizeof(out),
					&res),
			 UB_VXLAN_TX_IP);
}

/* ---- malformed super-frames ---- */

struct bad {
	const char *what;
	enum ub_vxlan_tx want;
	void (*mangle)(uint8_t *f, const struct built *b, uint32_t *len);
};

#define E(f) ((f) + VH)

static void m_gso_size0(uint8_t *f, const struct built *b, uint32_t *len)
{
	vnet(f)->gso_size = 0;
}
static void m_ufo(uint8_t *f, const struct built *b, uint32_t *len)
{
	vnet(f)->gso_type = VIRTIO_NET_HDR_GSO_UDP;
}
static void m_type2(uint8_t *f, const struct built *b, uint32_t *len)
{
	vnet(f)->gso_type = 2;
}
static void m_hdr_len(uint8_t *f, const struct built *b, uint32_t *len)
{
	vnet(f)->hdr_len = htole16((uint16_t)(*len - VH + 1));
}
static void m_arp(uint8_t *f, const struct built *b, uint32_t *len)
{
	wr16(E(f) + 12, 0x0806);
}
static void m_as_v6(uint8_t *f, const struct built *b, uint32_t *len)
{
	vnet(f)->gso_type = VIRTIO_NET_HDR_GSO_TCPV6;
}
static void m_version(uint8_t *f, const struct built *b, uint32_t *len)
{
	E(f)[b->l3] = 0x55;
}
static void m_ihl4(uint8_t *f, const struct built *b, uint32_t *len)
{
	E(f)[b->l3] = 0x44;
}
static void m_ihl15(uint8_t *f, const struct built *b, uint32_t *len)
{
	E(f)[b->l3] = 0x4f; /* 60 bytes of IP header: past this frame */
}
static void m_tot_len(uint8_t *f, const struct built *b, uint32_t *len)
{
	wr16(E(f) + b->l3 + 2, rd16(E(f) + b->l3 + 2) + 1);
}
static void m_trailer(uint8_t *f, const struct built *b, uint32_t *len)
{
	*len += 1; /* a byte the IP length does not cover */
}
static void m_mf(uint8_t *f, const struct built *b, uint32_t *len)
{
	wr16(E(f) + b->l3 + 6, 0x2000);
}
static void m_frag_off(uint8_t *f, const struct built *b, uint32_t *len)
{
	wr16(E(f) + b->l3 + 6, 0x0001);
}
static void m_proto_udp(uint8_t *f, const struct built *b, uint32_t *len)
{
	E(f)[b->l3 + 9] = 17;
}
static void m_cut_ip(uint8_t *f, const struct built *b, uint32_t *len)
{
	*len = VH + b->l3 + 19;
	vnet(f)->hdr_len = 0;
}
static void m_cut_tcp(uint8_t *f, const struct built *b, uint32_t *len)
{
	*len = VH + b->l4 + 19;
	wr16(E(f) + b->l3 + 2, 20 + 19);
	vnet(f)->hdr_len = 0;
}
static void m_doff4(uint8_t *f, const struct built *b, uint32_t *len)
{
	E(f)[b->l4 + 12] = 0x40;
}
static void m_doff15(uint8_t *f, const struct built *b, uint32_t *len)
{
	E(f)[b->l4 + 12] = 0xf0; /* 60 bytes: more than this frame has */
}
static void m_csum_start(uint8_t *f, const struct built *b, uint32_t *len)
{
	vnet(f)->csum_start = htole16((uint16_t)(b->l4 + 4));
}
static void m_csum_offset(uint8_t *f, const struct built *b, uint32_t *len)
{
	vnet(f)->csum_offset = htole16(6);
}
static void m_short(uint8_t *f, const struct built *b, uint32_t *len)
{
	*len = VH + 13;
}
static void m_vlan_cut(uint8_t *f, const struct built *b, uint32_t *len)
{
	/* A tag with nothing behind it (but IPv4's EtherType just past the
	 * frame's end, for a parser that would read on). */
	wr16(E(f) + 12, 0x8100);
	wr16(E(f) + 16, 0x0800);
	*len = VH + 16;
	vnet(f)->hdr_len = 0;
}

static const struct bad bad_v4[] = {
	{"gso_size 0", UB_VXLAN_TX_GSO_SIZE, m_gso_size0},
	{"UFO", UB_VXLAN_TX_GSO_TYPE, m_ufo},
	{"gso_type 2", UB_VXLAN_TX_GSO_TYPE, m_type2},
	{"hdr_len past the frame", UB_VXLAN_TX_HDR_LEN, m_hdr_len},
	{"ARP", UB_VXLAN_TX_NOT_IP, m_arp},
	{"TCPV6 on IPv4", UB_VXLAN_TX_NOT_IP, m_as_v6},
	{"IP version 5", UB_VXLAN_TX_IP, m_version},
	{"IHL 4", UB_VXLAN_TX_IP, m_ihl4},
	{"IHL 15", UB_VXLAN_TX_IP, m_ihl15},
	{"tot_len + 1", UB_VXLAN_TX_IP, m_tot_len},
	{"a trailer", UB_VXLAN_TX_IP, m_trailer},
	{"MF", UB_VXLAN_TX_IP, m_mf},
	{"fragment offset", UB_VXLAN_TX_IP, m_frag_off},
	{"UDP in a TCPV4 frame", UB_VXLAN_TX_IP, m_proto_udp},
	{"cut in the IP header", UB_VXLAN_TX_IP, m_cut_ip},
	{"cut in the TCP header", UB_VXLAN_TX_L4, m_cut_tcp},
	{"TCP doff 4", UB_VXLAN_TX_L4, m_doff4},
	{"TCP doff 15", UB_VXLAN_TX_L4, m_doff15},
	{"csum_start", UB_VXLAN_TX_CSUM, m_csum_start},
	{"csum_offset", UB_VXLAN_TX_CSUM, m_csum_offset},
	{"shorter than Ethernet", UB_VXLAN_TX_SHORT, m_short},
	{"a lone VLAN tag", UB_VXLAN_TX_NOT_IP, m_vlan_cut},
};

static void m_v6_hbh(uint8_t *f, const struct built *b, uint32_t *len)
{
	E(f)[b->l3 + 6] = 0;
}
static void m_v6_frag(uint8_t *f, const struct built *b, uint32_t *len)
{
	E(f)[b->l3 + 6] = 44;
}
static void m_v6_udp(uint8_t *f, const struct built *b, uint32_t *len)
{
	E(f)[b->l3 + 6] = 17;
}
static void m_v6_plen(uint8_t *f, const struct built *b, uint32_t *len)
{
	wr16(E(f) + b->l3 + 4, rd16(E(f) + b->l3 + 4) - 1);
}
static void m_v6_version(uint8_t *f, const struct built *b, uint32_t *len)
{
	E(f)[b->l3] = 0x40;
}
static void m_as_v4(uint8_t *f, const struct built *b, uint32_t *len)
{
	vnet(f)->gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
}

static const struct bad bad_v6[] = {
	{"hop-by-hop", UB_VXLAN_TX_IPV6_EXT, m_v6_hbh},
	{"fragment header", UB_VXLAN_TX_IPV6_EXT, m_v6_frag},
	{"UDP in a TCPV6 frame", UB_VXLAN_TX_IP, m_v6_udp},
	{"payload length - 1", UB_VXLAN_TX_IP, m_v6_plen},
	{"version 4", UB_VXLAN_TX_IP, m_v6_version},
	{"TCPV4 on IPv6", UB_VXLAN_TX_NOT_IP, m_as_v4},
	{"TCP doff 15", UB_VXLAN_TX_L4, m_doff15},
	{"csum_offset", UB_VXLAN_TX_CSUM, m_csum_offset},
};

static void m_udp_off(uint8_t *f, const struct built *b, uint32_t *len)
{
	vnet(f)->csum_offset = htole16(16);
}
static void m_udp_cut(uint8_t *f, const struct built *b, uint32_t *len)
{
	*len = VH + b->l4 + 7;
	wr16(E(f) + b->l3 + 2, 20 + 7);
	vnet(f)->hdr_len = 0;
}
static void m_proto_tcp(uint8_t *f, const struct built *b, uint32_t *len)
{
	E(f)[b->l3 + 9] = 6;
}

static const struct bad bad_udp[] = {
	{"UDP csum_offset 16", UB_VXLAN_TX_CSUM, m_udp_off},
	{"cut in the UDP header", UB_VXLAN_TX_L4, m_udp_cut},
	{"TCP in a UDP_L4 frame", UB_VXLAN_TX_IP, m_proto_tcp},
};

static void refuse_all(const struct spec *s, const struct bad *bad, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct built b = build(frame, s);
		uint32_t len = b.len;
		struct ub_vxlan_out res;
		enum ub_vxlan_tx got;

		bad[i].mangle(frame, &b, &len);
		memcpy(copy, frame, len);
		memset(out, 0xaa, 256);
		got = ub_vxlan_encap(frame, len, 1, out, sizeof(out), &res);
		if (got != bad[i].want)
			fail_msg("%s: got %s, want %s", bad[i].what,
				 ub_vxlan_tx_name(got),
				 ub_vxlan_tx_name(bad[i].want));
		assert_int_equal(res.segs, 0);
		assert_int_equal(out[0], 0xaa);
		assert_memory_equal(frame, copy, len);
	}
}

static void test_gso_malformed(void **state)
{
	/* Small enough that a 60-byte IP or TCP header passes its end. */
	struct spec s = {.payload = 10, .gso_size = 4, .tcp_flags = 0x10};
	struct ub_vxlan_out res;
	struct built b;

	refuse_all(&s, bad_v4, sizeof(bad_v4) / sizeof(bad_v4[0]));
	s.v6 = true;
	refuse_all(&s, bad_v6, sizeof(bad_v6) / sizeof(bad_v6[0]));
	s.v6 = false;
	s.udp = true;
	refuse_all(&s, bad_udp, sizeof(bad_udp) / sizeof(bad_udp[0]));
	/* UDP_L4 in a frame that is neither IP version. */
	b = build(frame, &s);
	wr16(E(frame) + 12, 0x88cc);
	assert_int_equal(ub_vxlan_encap(frame, b.len, 1, out, sizeof(out),
					&res),
			 UB_VXLAN_TX_NOT_IP);

	/* Room for all but the last byte of the last segment. */
	s.udp = false;
	b = build(frame, &s);
	assert_int_equal(ub_vxlan_encap(frame, b.len, 1, out, 0, &res),
			 UB_VXLAN_TX_NOSPACE);
	assert_int_equal(res.len, 3 * (VX + b.hlen) + 10);
	memset(out, 0xaa, 256);
	assert_int_equal(ub_vxlan_encap(frame, b.len, 1, out, res.len - 1,
					&res),
			 UB_VXLAN_TX_NOSPACE);
	assert_int_equal(out[0], 0xaa);
	assert_int_equal(ub_vxlan_encap(frame, b.len, 1, out, res.len, &res),
			 UB_VXLAN_TX_OK);
	assert_int_equal(res.segs, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hdr_round_trip),
		cmocka_unit_test(test_decode_rejects),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_gro_seg),
		cmocka_unit_test(test_gso_batch),
		cmocka_unit_test(test_src_port_stable),
		cmocka_unit_test(test_src_port_spread),
		cmocka_unit_test(test_csum_complete),
		cmocka_unit_test(test_csum_complete_bounds),
		cmocka_unit_test(test_udp_zero_csum),
		cmocka_unit_test(test_encap_plain),
		cmocka_unit_test(test_gso_tcpv4),
		cmocka_unit_test(test_gso_tcpv6),
		cmocka_unit_test(test_gso_udp_l4),
		cmocka_unit_test(test_gso_64k),
		cmocka_unit_test(test_rx_partial_completed),
		cmocka_unit_test(test_rx_left_alone),
		cmocka_unit_test(test_rx_super_frame),
		cmocka_unit_test(test_gro_merge),
		cmocka_unit_test(test_gro_merge_round_trip),
		cmocka_unit_test(test_gro_merge_refused),
		cmocka_unit_test(test_gso_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
