/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for VXLAN framing and the software offloads
 * (include/ubridge/vxlan.h): the receive-side decoder over a UDP_GRO
 * buffer, the encapsulation (checksum completion and GSO segmentation) of
 * an arbitrary [virtio-net header][Ethernet frame], the source port hash
 * and in-place checksum completion. Every buffer the module reads or
 * writes is an allocation of its exact size, so ASan sees any access
 * past it.
 *
 * Input: byte 0 picks the mode (bits 0-1) and its options, then:
 *   0 decode   bit 2: ignore reserved bits; bit 3: want the VNI in the
 *              next 3 bytes (else any); 2 bytes (big endian) the GRO
 *              segment size; the rest is the received UDP payload(s).
 *              Each datagram decoded goes through the receive offloads
 *              too, with the segment size as the MTU (0: 1450)
 *   1 encap    bit 2: make the IP length fields cover the frame; bit 3:
 *              point csum_start/csum_offset at the TCP/UDP checksum; the
 *              rest is the virtio-net header and the Ethernet frame
 *   2 sport    2 + 2 bytes: min and max (big endian); the rest a frame
 *   3 csum     2 + 2 bytes: start and offset; the rest a frame
 *
 * What the module writes is checked by the harness's own parsing and its
 * own checksum routine; a mismatch calls abort().
 */
#include <endian.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ubridge/eth.h>
#include <ubridge/io.h>
#include <ubridge/vxlan.h>

#define VH UB_VNET_HLEN
#define VX UB_VXLAN_HLEN
/* The biggest output worth allocating; a larger need must be NOSPACE. */
#define OUT_MAX (4u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_vxlan: property broken: %s\n", what);
		abort();
	}
}

static uint8_t *dup_of(const uint8_t *p, size_t n)
{
	uint8_t *d = malloc(n ? n : 1);

	if (d && n)
		memcpy(d, p, n);
	return d;
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

/* The plain checksum: big-endian words from p, folded. */
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

/* ---- receive offloads ---- */

/* A received inner frame through ub_vxlan_rx_offload(), as the port hands
 * it on: the header it writes must be one ub_vxlan_encap() takes, and the
 * frame may change in one checksum field at most. */
static void rx_offload(const uint8_t *inner, uint32_t n, uint32_t mtu)
{
	uint32_t len = n + UB_VNET_HLEN, diff = 0, first = 0;
	uint8_t *f = malloc(len), *out;
	struct virtio_net_hdr vh;
	struct ub_vxlan_out res;

	if (!f)
		return;
	memset(f, 0xa5, UB_VNET_HLEN);
	memcpy(f + UB_VNET_HLEN, inner, n);
	ub_vxlan_rx_offload(f, len, mtu);
	memcpy(&vh, f, sizeof(vh));
	for (uint32_t i = 0; i < n; i++)
		if (f[UB_VNET_HLEN + i] != inner[i] && !diff++)
			first = i;
	check(diff <= 2 && (diff < 2 || f[UB_VNET_HLEN + first + 1] !=
					       inner[first + 1]),
	      "at most the two bytes of a checksum change");
	if (vh.flags) {
		check(vh.flags == VIRTIO_NET_HDR_F_NEEDS_CSUM && !diff,
		      "a super-frame is marked, not changed");
		check(vh.gso_type == VIRTIO_NET_HDR_GSO_TCPV4 ||
		      vh.gso_type == VIRTIO_NET_HDR_GSO_TCPV6, "TSO only");
		out = malloc(3 * len + 65536);
		if (out) {
			check(ub_vxlan_encap(f, len, 5, out, 3 * len + 65536,
					     &res) == UB_VXLAN_TX_OK,
			      "what it marks, encap cuts");
			free(out);
		}
	} else {
		check(!vh.gso_type && !vh.csum_start && !vh.hdr_len,
		      "nothing to do: a zero header");
	}
	free(f);
}

/* ---- GRO merge ---- */

/* ub_vxlan_gro_merge() over the receive p[0..n) (with the two bytes in
 * front it may write): what it makes, encap cuts back into datagrams of
 * the same sizes. */
static void gro_merge(const uint8_t *p, uint32_t n, uint32_t seg,
		      uint32_t vni)
{
	uint8_t *buf = malloc(n + 2), *out;
	struct ub_vxlan_out res;
	uint32_t len;

	if (!buf)
		return;
	memcpy(buf + 2, p, n);
	if (vni == UB_VXLAN_VNI_ANY)
		vni = n >= VX ? rd32(p + 4) >> 8 : 0;
	len = ub_vxlan_gro_merge(buf + 2, n, seg, vni);
	if (len) {
		check(len <= n + 2, "a merged frame fits where it was");
		out = malloc(n);
		if (out) {
			check(ub_vxlan_encap(buf + 2 + VX - UB_VNET_HLEN, len,
					     vni, out, n, &res) ==
					      UB_VXLAN_TX_OK &&
				      res.len == n && res.seg_size == seg,
			      "merged, then cut: the same datagrams' sizes");
			free(out);
		}
	}
	free(buf);
}

/* ---- decode ---- */

static void run_decode(uint8_t opt, const uint8_t *p, size_t n)
{
	unsigned flags = opt & 4 ? UB_VXLAN_RX_F_IGNORE_RESERVED : 0;
	uint32_t want = UB_VXLAN_VNI_ANY, seg, off, dlen, total = 0, i;
	bool oom = false;
	uint8_t *buf;

	if (opt & 8) {
		if (n < 3)
			return;
		want = (uint32_t)p[0] << 16 | p[1] << 8 | p[2];
		p += 3;
		n -= 3;
	}
	if (n < 2)
		return;
	seg = rd16(p);
	buf = dup_of(p + 2, n - 2);
	if (!buf)
		return;
	n -= 2;
	for (i = 0; (dlen = ub_vxlan_gro_seg((uint32_t)n, seg, i, &off));
	     i++) {
		uint8_t *d = dup_of(buf + off, dlen), hdr[VX];
		enum ub_vxlan_rx r;
		uint32_t vni = ~0u;

		check(off == total, "GRO datagrams back to back");
		check(!seg || dlen == seg || off + dlen == n,
		      "only the last GRO datagram is short");
		total += dlen;
		if (!d) {
			oom = true;
			break;
		}
		r = ub_vxlan_decode(d, dlen, want, flags, &vni);
		check((r == UB_VXLAN_RX_SHORT) == (dlen < VX), "short");
		check(r == UB_VXLAN_RX_OK || ub_vxlan_rx_name(r),
		      "a refusal has a name");
		if (r != UB_VXLAN_RX_SHORT)
			check(vni == rd32(d + 4) >> 8, "VNI read");
		if (r != UB_VXLAN_RX_SHORT)
			check((r == UB_VXLAN_RX_FLAGS) == !(d[0] & 8), "I flag");
		if (r == UB_VXLAN_RX_RESERVED)
			check(!flags, "reserved bits refused when asked to");
		if (r == UB_VXLAN_RX_OK) {
			check(dlen >= VX + UB_ETH_HLEN, "no runt passes");
			check(want == UB_VXLAN_VNI_ANY || vni == want, "VNI");
			ub_vxlan_hdr_put(hdr, vni);
			/* Strictly decoded, it is what we would send. */
			check(flags || memcmp(hdr, d, VX) == 0, "round trip");
			rx_offload(d + VX, dlen - VX, seg ? seg : 1450);
		}
		free(d);
	}
	check(oom || total == n, "GRO datagrams cover the buffer");
	gro_merge(buf, (uint32_t)n, seg, want);
	free(buf);
}

/* ---- encap ---- */

struct hdrs {
	uint32_t l3, l4, hlen, iphlen;
	bool v6, tcp;
};

/* The harness's own reading of the headers (after the module accepted
 * them, or to fix them up first). False when it cannot see IP. */
static bool parse(const uint8_t *e, uint32_t len, uint8_t gso_type,
		  struct hdrs *h)
{
	uint32_t off = 12;
	uint16_t t;

	if (len < UB_ETH_HLEN)
		return false;
	t = rd16(e + off);
	for (int i = 0; i < 2 && (t == 0x8100 || t == 0x88a8) &&
			off + 6 <= len;
	     i++) {
		off += 4;
		t = rd16(e + off);
	}
	h->l3 = off + 2;
	h->v6 = t == 0x86dd;
	h->tcp = (gso_type & 0x7f) != VIRTIO_NET_HDR_GSO_UDP_L4;
	if (t != 0x0800 && t != 0x86dd)
		return false;
	if (h->v6)
		h->iphlen = 40;
	else if (len > h->l3)
		h->iphlen = (e[h->l3] & 15) * 4u;
	else
		return false;
	h->l4 = h->l3 + h->iphlen;
	if (h->l4 + (h->tcp ? 20 : 8) > len)
		return false;
	h->hlen = h->l4 + (h->tcp ? (e[h->l4 + 12] >> 4) * 4u : 8);
	return h->hlen <= len;
}

static void fix_up(uint8_t *f, uint32_t len, uint8_t opt)
{
	struct virtio_net_hdr *vh = (void *)f;
	uint8_t *e = f + VH;
	struct hdrs h;
	bool ip;

	if (len < VH + UB_ETH_HLEN)
		return;
	len -= VH;
	/* With an Ethernet header, parse() sets l3 and v6 at least. */
	ip = parse(e, len, vh->gso_type, &h);
	if ((opt & 4) && h.l3 + (h.v6 ? 40 : 20) <= len) {
		uint32_t n = len - h.l3 - (h.v6 ? 40 : 0);

		if (n <= 0xffff)
			wr16(e + h.l3 + (h.v6 ? 4 : 2), n);
	}
	if ((opt & 8) && ip) {
		vh->csum_start = htole16((uint16_t)h.l4);
		vh->csum_offset = htole16(h.tcp ? 16 : 6);
	}
}

/* One datagram of a GSO result against the super-frame it came from. */
static void check_seg(const uint8_t *e, const struct hdrs *h, uint32_t gso,
		      uint32_t i, uint32_t segs, const uint8_t *d,
		      uint32_t dlen)
{
	const uint8_t *se = d + VX, *ip = se + h->l3, *l4 = se + h->l4;
	uint32_t payload = dlen - VX - h->hlen, l4len = h->hlen - h->l4 +
							payload;
	uint64_t pseudo;

	check(memcmp(se, e, h->l3) == 0, "Ethernet header copied");
	check(memcmp(se + h->hlen, e + h->hlen + i * gso, payload) == 0,
	      "payload in order");
	if (!h->v6) {
		check(rd16(ip + 2) == dlen - VX - h->l3, "IPv4 length");
		check(rd16(ip + 4) == (uint16_t)(rd16(e + h->l3 + 4) + i),
		      "IPv4 id counts up");
		check(ref_fold(ref_sum(0, ip, h->iphlen)) == 0xffff,
		      "IPv4 header checksum");
		pseudo = ref_sum(0, ip + 12, 8);
	} else {
		check(rd16(ip + 4) == dlen - VX - h->l3 - 40, "IPv6 length");
		pseudo = ref_sum(0, ip + 8, 32);
	}
	pseudo += (h->tcp ? 6 : 17) + l4len;
	check(ref_fold(ref_sum(pseudo, l4, l4len)) == 0xffff, "L4 checksum");
	if (h->tcp) {
		uint8_t fl = e[h->l4 + 13];

		check(rd32(l4 + 4) == rd32(e + h->l4 + 4) + i * gso, "seq");
		if (i + 1 < segs)
			fl &= (uint8_t)~0x09;
		if (i)
			fl &= (uint8_t)~0x80;
		check(l4[13] == fl, "TCP flags");
	} else {
		check(rd16(l4 + 4) == l4len, "UDP length");
		check(rd16(l4 + 6) != 0, "UDP checksum never 0");
	}
}

static void check_out(const uint8_t *f, uint32_t len, const uint8_t *out,
		      const struct ub_vxlan_out *res)
{
	const struct virtio_net_hdr *vh = (const void *)f;
	const uint8_t *e = f + VH;
	uint32_t elen = len - VH;
	struct hdrs h;

	check(res->segs >= 1 && res->seg_size > 0, "something written");
	check((uint64_t)(res->segs - 1) * res->seg_size < res->len &&
		      res->len <= (uint64_t)res->segs * res->seg_size,
	      "fixed stride, the last datagram shorter at most");
	for (uint32_t i = 0; i < res->segs; i++) {
		const uint8_t *d = out + (size_t)i * res->seg_size;
		uint32_t dlen = i + 1 < res->segs
					? res->seg_size
					: res->len - i * res->seg_size, vni;

		check(ub_vxlan_decode(d, dlen, 77, 0, &vni) == UB_VXLAN_RX_OK,
		      "each datagram decodes");
	}
	if (vh->gso_type == VIRTIO_NET_HDR_GSO_NONE) {
		uint32_t start = le16toh(vh->csum_start);
		uint32_t at = start + le16toh(vh->csum_offset);
		uint16_t want;

		check(res->segs == 1 && res->len == VX + elen, "one datagram");
		if (!(vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)) {
			check(memcmp(out + VX, e, elen) == 0, "frame as is");
			return;
		}
		check(at + 2 <= elen, "checksum field inside");
		want = (uint16_t)~ref_fold(ref_sum(0, e + start, elen - start));
		want = want ? want : 0xffff;
		check(rd16(out + VX + at) == want, "checksum completed");
		check(memcmp(out + VX, e, at) == 0 &&
			      memcmp(out + VX + at + 2, e + at + 2,
				     elen - at - 2) == 0,
		      "only the checksum changed");
		return;
	}
	check(parse(e, elen, vh->gso_type, &h), "accepted headers parse");
	for (uint32_t i = 0; i < res->segs; i++) {
		uint32_t dlen = i + 1 < res->segs
					? res->seg_size
					: res->len - i * res->seg_size;

		check(dlen >= VX + h.hlen, "a segment holds the headers");
		check(i + 1 == res->segs ||
			      dlen - VX - h.hlen == le16toh(vh->gso_size),
		      "full segments carry gso_size");
		check_seg(e, &h, le16toh(vh->gso_size), i, res->segs,
			  out + (size_t)i * res->seg_size, dlen);
	}
	check(res->len == res->segs * (VX + h.hlen) + elen - h.hlen,
	      "all the payload, once");
}

static void run_encap(uint8_t opt, const uint8_t *p, size_t n)
{
	struct ub_vxlan_out res, res2;
	enum ub_vxlan_tx r, r2;
	uint8_t *f, *orig, *out;
	uint32_t len = (uint32_t)n;

	if (n > 1 << 20)
		return;
	f = dup_of(p, n);
	if (!f)
		return;
	fix_up(f, len, opt);
	orig = dup_of(f, n);
	out = malloc(1);
	if (!orig || !out)
		goto done;

	/* With no room: an error, or how much room is needed. */
	r = ub_vxlan_encap(f, len, 77, out, 0, &res);
	check(r != UB_VXLAN_TX_OK, "nothing fits in 0 bytes");
	check(ub_vxlan_tx_name(r) != NULL, "a refusal has a name");
	check(memcmp(f, orig, n) == 0, "input untouched");
	if (r != UB_VXLAN_TX_NOSPACE) {
		check(res.segs == 0 && res.len == 0, "no result on error");
		goto done;
	}
	check(res.len > 0, "room needed");
	if (res.len > OUT_MAX)
		goto done;
	free(out);
	out = malloc(res.len);
	if (!out)
		goto done;
	r2 = ub_vxlan_encap(f, len, 77, out, res.len - 1, &res2);
	check(r2 == UB_VXLAN_TX_NOSPACE && res2.len == res.len,
	      "one byte short is not enough");
	r2 = ub_vxlan_encap(f, len, 77, out, res.len, &res2);
	check(r2 == UB_VXLAN_TX_OK && res2.len == res.len,
	      "the room asked for is enough");
	check(memcmp(f, orig, n) == 0, "input untouched");
	check_out(f, len, out, &res2);
done:
	free(out);
	free(orig);
	free(f);
}

/* ---- the rest ---- */

static void run_sport(const uint8_t *p, size_t n)
{
	uint16_t min, max, a, b;
	uint8_t *e;

	if (n < 4)
		return;
	min = rd16(p);
	max = rd16(p + 2);
	e = dup_of(p + 4, n - 4);
	if (!e)
		return;
	a = ub_vxlan_src_port(e, (uint32_t)(n - 4), min, max, 0x5eed);
	b = ub_vxlan_src_port(e, (uint32_t)(n - 4), min, max, 0x5eed);
	check(a == b, "same frame, same port");
	check(a >= min && a <= (max < min ? min : max), "port in range");
	free(e);
}

static void run_csum(const uint8_t *p, size_t n)
{
	uint32_t start, offset, len;
	uint8_t *e, *orig;
	bool inside;

	if (n < 4)
		return;
	start = rd16(p);
	offset = rd16(p + 2);
	len = (uint32_t)(n - 4);
	e = dup_of(p + 4, len);
	orig = dup_of(p + 4, len);
	if (!e || !orig)
		goto done;
	inside = start + offset + 2 <= len;
	check(ub_vxlan_csum_complete(e, len, start, offset) == inside,
	      "refused exactly when the field is outside");
	if (!inside) {
		check(memcmp(e, orig, len) == 0, "refused: untouched");
	} else {
		uint16_t want = (uint16_t)~ref_fold(
			ref_sum(0, orig + start, len - start));

		check(rd16(e + start + offset) == (want ? want : 0xffff),
		      "checksum");
	}
done:
	free(e);
	free(orig);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] & 3) {
	case 0:
		run_decode(data[0], data + 1, size - 1);
		break;
	case 1:
		run_encap(data[0], data + 1, size - 1);
		break;
	case 2:
		run_sport(data + 1, size - 1);
		break;
	case 3:
		run_csum(data + 1, size - 1);
		break;
	}
	return 0;
}
