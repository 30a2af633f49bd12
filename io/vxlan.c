/* SPDX-License-Identifier: MIT */
/*
 * VXLAN framing and software offloads (include/ubridge/vxlan.h). Every
 * multi-byte field is read and written a byte at a time in network order,
 * so nothing here cares about alignment or the host's byte order, except
 * the checksum sums, which say why they may.
 */
#include <endian.h>
#include <string.h>

#include <ubridge/eth.h>
#include <ubridge/io.h>
#include <ubridge/vxlan.h>

#define VXLAN_F_I 0x08

/* ETH_P_IP and ETH_P_IPV6 come from linux/if_ether.h (virtio_net.h). */
#define PROTO_TCP 6
#define PROTO_UDP 17
#define IPV4_HLEN 20
#define IPV6_HLEN 40
#define TCP_HLEN 20
#define UDP_HLEN 8

#define TCP_FIN 0x01
#define TCP_PSH 0x08
#define TCP_CWR 0x80

static const char *const rx_names[UB_VXLAN_RX__COUNT] = {
	[UB_VXLAN_RX_SHORT] = "rx_drop_vxlan_short",
	[UB_VXLAN_RX_FLAGS] = "rx_drop_vxlan_flags",
	[UB_VXLAN_RX_RESERVED] = "rx_drop_vxlan_reserved",
	[UB_VXLAN_RX_VNI] = "rx_drop_vxlan_vni",
	[UB_VXLAN_RX_RUNT] = "rx_drop_vxlan_runt",
};

static const char *const tx_names[UB_VXLAN_TX__COUNT] = {
	[UB_VXLAN_TX_SHORT] = "tx_drop_vxlan_short",
	[UB_VXLAN_TX_CSUM] = "tx_drop_vxlan_csum",
	[UB_VXLAN_TX_HDR_LEN] = "tx_drop_vxlan_hdr_len",
	[UB_VXLAN_TX_GSO_TYPE] = "tx_drop_vxlan_gso_type",
	[UB_VXLAN_TX_GSO_SIZE] = "tx_drop_vxlan_gso_size",
	[UB_VXLAN_TX_NOT_IP] = "tx_drop_vxlan_not_ip",
	[UB_VXLAN_TX_IP] = "tx_drop_vxlan_ip",
	[UB_VXLAN_TX_IPV6_EXT] = "tx_drop_vxlan_ipv6_ext",
	[UB_VXLAN_TX_L4] = "tx_drop_vxlan_l4",
	[UB_VXLAN_TX_NOSPACE] = "tx_drop_vxlan_nospace",
};

const char *ub_vxlan_rx_name(enum ub_vxlan_rx r)
{
	return (unsigned)r < UB_VXLAN_RX__COUNT ? rx_names[r] : NULL;
}

const char *ub_vxlan_tx_name(enum ub_vxlan_tx r)
{
	return (unsigned)r < UB_VXLAN_TX__COUNT ? tx_names[r] : NULL;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v);
}

/* ---- the header ---- */

void ub_vxlan_hdr_put(uint8_t hdr[UB_VXLAN_HLEN], uint32_t vni)
{
	hdr[0] = VXLAN_F_I;
	hdr[1] = hdr[2] = hdr[3] = 0;
	hdr[4] = (uint8_t)(vni >> 16);
	hdr[5] = (uint8_t)(vni >> 8);
	hdr[6] = (uint8_t)vni;
	hdr[7] = 0;
}

enum ub_vxlan_rx ub_vxlan_decode(const uint8_t *p, uint32_t len,
				 uint32_t want_vni, unsigned flags,
				 uint32_t *vni)
{
	if (len < UB_VXLAN_HLEN)
		return UB_VXLAN_RX_SHORT;
	*vni = (uint32_t)p[4] << 16 | (uint32_t)p[5] << 8 | p[6];
	if (!(p[0] & VXLAN_F_I))
		return UB_VXLAN_RX_FLAGS;
	if (!(flags & UB_VXLAN_RX_F_IGNORE_RESERVED) &&
	    ((p[0] & ~VXLAN_F_I) | p[1] | p[2] | p[3] | p[7]))
		return UB_VXLAN_RX_RESERVED;
	if (want_vni != UB_VXLAN_VNI_ANY && *vni != want_vni)
		return UB_VXLAN_RX_VNI;
	if (len - UB_VXLAN_HLEN < UB_ETH_HLEN)
		return UB_VXLAN_RX_RUNT;
	return UB_VXLAN_RX_OK;
}

/* ---- checksums ---- */

/*
 * The Internet checksum is a one's complement sum of 16-bit words, and
 * such a sum commutes with swapping the bytes of every word (RFC 1071),
 * and with adding wider words: 2^16, 2^32 and 2^64 are all 1 modulo
 * 0xffff. So we add the data as native 64-bit words into two 128-bit
 * accumulators (two chains of adds with carry, for the CPU to run side
 * by side: the receive path verifies every byte of a TCP stream, the send
 * path sums it), fold them to 64 bits with the carries around, fold to
 * 16 bits, and store the result natively: the bytes come out in network
 * order whatever the host's order. Each run added must start at an even
 * offset of the checksummed data; the last may end on an odd one (the
 * missing byte counts as zero). A sum stays nonzero once it is, so a
 * frame of zeros still sums to 0, not 0xffff.
 */
static uint64_t csum_add(uint64_t sum, const uint8_t *p, uint32_t len)
{
	unsigned __int128 a = sum, b = 0;
	uint64_t w[2], lo, hi;
	uint32_t t;

	for (; len >= 16; p += 16, len -= 16) {
		memcpy(w, p, 16);
		a += w[0];
		b += w[1];
	}
	a += b;
	for (; len >= 4; p += 4, len -= 4) {
		memcpy(&t, p, 4);
		a += t;
	}
	if (len) {
		t = 0;
		memcpy(&t, p, len);
		a += t;
	}
	lo = (uint64_t)a;
	hi = (uint64_t)(a >> 64);
	lo += hi;
	return lo + (lo < hi);
}

/* The complemented 16-bit sum, to be stored with csum_put(). */
static uint16_t csum_fold(uint64_t sum)
{
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void csum_put(uint8_t *field, uint16_t c)
{
	memcpy(field, &c, 2);
}

/* Where the checksum field would be: inside eth[0..len)? */
static bool csum_field_ok(uint32_t len, uint32_t start, uint32_t offset)
{
	return start <= len && offset <= len - start &&
	       len - start - offset >= 2;
}

bool ub_vxlan_csum_complete(uint8_t *eth, uint32_t len, uint32_t start,
			    uint32_t offset)
{
	uint16_t c;

	if (!csum_field_ok(len, start, offset))
		return false;
	c = csum_fold(csum_add(0, eth + start, len - start));
	csum_put(eth + start + offset, c ? c : 0xffff);
	return true;
}

/* ---- headers ---- */

/* Skips up to two VLAN tags: the offset of the EtherType's payload and the
 * EtherType. 'len' is at least UB_ETH_HLEN. */
static uint32_t l2_parse(const uint8_t *eth, uint32_t len, uint16_t *type)
{
	uint32_t off = 2 * UB_ETH_ALEN;
	uint16_t t = get16(eth + off);

	for (int i = 0; i < 2 && (t == UB_ETH_P_8021Q || t == UB_ETH_P_8021AD) &&
			len - off >= 2 + UB_VLAN_HLEN;
	     i++) {
		off += UB_VLAN_HLEN;
		t = get16(eth + off);
	}
	*type = t;
	return off + 2;
}

static bool ipv6_ext(uint8_t nh)
{
	switch (nh) {
	case 0:   /* hop-by-hop options */
	case 43:  /* routing */
	case 44:  /* fragment */
	case 50:  /* ESP */
	case 51:  /* AH */
	case 60:  /* destination options */
	case 135: /* mobility */
	case 139: /* HIP */
	case 140: /* shim6 */
		return true;
	}
	return false;
}

/* ---- receiving: what a local sender's kernel left undone ---- */

void ub_vxlan_rx_offload(uint8_t *frame, uint32_t len, uint32_t mtu)
{
	struct virtio_net_hdr *vh = (struct virtio_net_hdr *)(void *)frame;
	uint8_t *eth = frame + UB_VNET_HLEN, proto, *ip, pseudo[4];
	uint32_t l3, l4, l4len, iplen, field, tcphlen;
	uint16_t type, want, got;
	uint64_t sum;

	memset(vh, 0, sizeof(*vh));
	if (len < UB_VNET_HLEN + UB_ETH_HLEN)
		return;
	len -= UB_VNET_HLEN;
	l3 = l2_parse(eth, len, &type);
	ip = eth + l3;
	if (type == ETH_P_IP) {
		uint32_t ihl;

		if (len - l3 < IPV4_HLEN || ip[0] >> 4 != 4)
			return;
		ihl = (ip[0] & 15) * 4u;
		iplen = get16(ip + 2);
		/* Only a whole datagram: a fragment's checksum covers what
		 * it does not hold. */
		if (ihl < IPV4_HLEN || iplen < ihl || iplen > len - l3 ||
		    (get16(ip + 6) & 0x3fff))
			return;
		proto = ip[9];
		l4 = l3 + ihl;
		l4len = iplen - ihl;
		sum = csum_add(0, ip + 12, 8);
	} else if (type == ETH_P_IPV6) {
		if (len - l3 < IPV6_HLEN || ip[0] >> 4 != 6 ||
		    get16(ip + 4) > len - l3 - IPV6_HLEN)
			return;
		proto = ip[6];
		l4 = l3 + IPV6_HLEN;
		l4len = get16(ip + 4);
		iplen = IPV6_HLEN + l4len;
		sum = csum_add(0, ip + 8, 32);
	} else {
		return;
	}
	if (proto == PROTO_TCP && l4len >= TCP_HLEN)
		field = 16;
	else if (proto == PROTO_UDP && l4len >= UDP_HLEN)
		field = 6;
	else
		return;
	if (proto == PROTO_TCP && iplen > mtu) {
		/* A TSO super-frame that crossed in one datagram: it goes on
		 * as one, cut by whoever sends it out, its checksum still the
		 * pseudo-header's. Only a frame that is its datagram and
		 * nothing after it: bytes past the IP length (which no
		 * super-frame has) would make it one that no sender cuts. */
		tcphlen = (eth[l4 + 12] >> 4) * 4u;
		if (iplen != len - l3 || tcphlen < TCP_HLEN || tcphlen > l4len ||
		    mtu <= iplen - l4len + tcphlen)
			return;
		vh->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		vh->gso_type = type == ETH_P_IP ? VIRTIO_NET_HDR_GSO_TCPV4 :
						  VIRTIO_NET_HDR_GSO_TCPV6;
		vh->gso_size = htole16(mtu - (iplen - l4len) - tcphlen);
		vh->hdr_len = htole16(l4 + tcphlen);
		vh->csum_start = htole16(l4);
		vh->csum_offset = htole16(field);
		return;
	}
	pseudo[0] = 0;
	pseudo[1] = proto;
	put16(pseudo + 2, l4len);
	want = (uint16_t)~csum_fold(csum_add(sum, pseudo, 4));
	memcpy(&got, eth + l4 + field, 2);
	/* 0 in a UDP checksum means none. */
	if (got == want && (proto == PROTO_TCP || got))
		ub_vxlan_csum_complete(eth, l4 + l4len, l4, field);
}

/* ---- receiving: UDP_GRO, back to one TSO frame ---- */

#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10
#define TCP_URG 0x20

/* The inner headers of one GRO datagram, as ub_vxlan_gro_merge() needs
 * them. */
struct gro_seg {
	const uint8_t *e; /* the inner Ethernet frame */
	uint32_t hlen;    /* Ethernet, IP and TCP headers */
	uint32_t payload;
	uint32_t seq;
	uint8_t flags;
};

/* Reads datagram d[0..dlen) into 'g': a strictly decoded VXLAN datagram
 * for 'vni' whose inner frame is exactly one whole TCP segment with
 * complete, correct checksums. 'first' (NULL for the first datagram): the
 * headers must be the first's but for the fields a segment changes. */
static bool gro_seg_read(const uint8_t *d, uint32_t dlen, uint32_t vni,
			 const struct gro_seg *first, struct gro_seg *g)
{
	uint32_t len, l3, l4, l4len, iplen, got_vni, thl;
	const uint8_t *e, *ip;
	uint8_t pseudo[4];
	uint16_t type;
	uint64_t sum;
	bool v6;

	if (ub_vxlan_decode(d, dlen, vni, 0, &got_vni) != UB_VXLAN_RX_OK)
		return false;
	e = d + UB_VXLAN_HLEN;
	len = dlen - UB_VXLAN_HLEN;
	l3 = l2_parse(e, len, &type);
	ip = e + l3;
	v6 = type == ETH_P_IPV6;
	if (type == ETH_P_IP) {
		if (len - l3 < IPV4_HLEN || ip[0] >> 4 != 4 ||
		    (ip[0] & 15) * 4u < IPV4_HLEN ||
		    (ip[0] & 15) * 4u > len - l3 || ip[9] != PROTO_TCP ||
		    (get16(ip + 6) & 0x3fff) ||
		    csum_fold(csum_add(0, ip, (ip[0] & 15) * 4u)))
			return false;
		l4 = l3 + (ip[0] & 15) * 4u;
		iplen = get16(ip + 2);
		sum = csum_add(0, ip + 12, 8);
	} else if (v6) {
		if (len - l3 < IPV6_HLEN || ip[0] >> 4 != 6 ||
		    ip[6] != PROTO_TCP)
			return false;
		l4 = l3 + IPV6_HLEN;
		iplen = IPV6_HLEN + get16(ip + 4);
		sum = csum_add(0, ip + 8, 32);
	} else {
		return false;
	}
	/* The frame is the IP datagram, no padding: a segment with data
	 * is past the Ethernet minimum. */
	if (l4 > len || iplen != len - l3 || len - l4 < TCP_HLEN)
		return false;
	l4len = len - l4;
	thl = (e[l4 + 12] >> 4) * 4u;
	if (thl < TCP_HLEN || thl >= l4len)
		return false;
	pseudo[0] = 0;
	pseudo[1] = PROTO_TCP;
	put16(pseudo + 2, l4len);
	sum = csum_add(sum, pseudo, 4);
	if (csum_fold(csum_add(sum, e + l4, l4len)))
		return false; /* a bad checksum, or one left to hardware */
	*g = (struct gro_seg){ .e = e, .hlen = l4 + thl,
			       .payload = l4len - thl,
			       .seq = get32(e + l4 + 4), .flags = e[l4 + 13] };
	if ((g->flags & (TCP_SYN | TCP_RST | TCP_URG)) || !(g->flags & TCP_ACK))
		return false;
	if (!first)
		return true;
	/* The same headers but for what one segment changes: IP length, id
	 * and checksum, TCP sequence number, flags and checksum. */
	if (g->hlen != first->hlen || memcmp(e, first->e, l3) ||
	    g->seq != first->seq + first->payload)
		return false;
	for (uint32_t i = l3; i < g->hlen; i++) {
		uint32_t in_ip = i - l3, in_tcp = i - l4;

		if (i < l4 && (v6 ? in_ip == 4 || in_ip == 5 :
			       in_ip == 2 || in_ip == 3 || in_ip == 4 ||
			       in_ip == 5 || in_ip == 10 || in_ip == 11))
			continue;
		if (i >= l4 && ((in_tcp >= 4 && in_tcp < 8) || in_tcp == 13 ||
				in_tcp == 16 || in_tcp == 17))
			continue;
		if (e[i] != first->e[i])
			return false;
	}
	return true;
}

uint32_t ub_vxlan_gro_merge(uint8_t *p, uint32_t len, uint32_t seg_size,
			    uint32_t vni)
{
	struct gro_seg first, g, last;
	uint32_t off, dlen, n, total, l3, l4;
	uint8_t *e = p + UB_VXLAN_HLEN, *dst, pseudo[4], flags;
	struct virtio_net_hdr *vh;
	uint16_t type;
	uint64_t sum;

	if (!seg_size || len <= seg_size ||
	    !gro_seg_read(p, seg_size, vni, NULL, &first))
		return 0;
	/* Every segment but the last carries the first's payload size, and
	 * only the last may push or end; only the first may say CWR. */
	last = first;
	total = first.payload;
	for (n = 1; (dlen = ub_vxlan_gro_seg(len, seg_size, n, &off)); n++) {
		if (!gro_seg_read(p + off, dlen, vni, &last, &g) ||
		    (last.flags & (TCP_FIN | TCP_PSH)) ||
		    (g.flags & TCP_CWR) || g.payload > first.payload ||
		    (g.payload < first.payload && off + dlen != len))
			return 0;
		total += g.payload;
		last = g;
	}
	if (first.hlen + total - (l3 = l2_parse(e, first.hlen, &type)) >
	    65535)
		return 0;
	/* Each segment's data after the one before. */
	dst = e + first.hlen + first.payload;
	for (uint32_t i = 1; i < n; i++) {
		dlen = ub_vxlan_gro_seg(len, seg_size, i, &off);
		memmove(dst, p + off + UB_VXLAN_HLEN + first.hlen,
			dlen - UB_VXLAN_HLEN - first.hlen);
		dst += dlen - UB_VXLAN_HLEN - first.hlen;
	}
	flags = (uint8_t)((first.flags & ~(TCP_FIN | TCP_PSH)) |
			  (last.flags & (TCP_FIN | TCP_PSH)));
	if (type == ETH_P_IP) {
		l4 = l3 + (e[l3] & 15) * 4u;
		put16(e + l3 + 2, first.hlen + total - l3);
		e[l3 + 10] = e[l3 + 11] = 0;
		csum_put(e + l3 + 10, csum_fold(csum_add(0, e + l3, l4 - l3)));
		sum = csum_add(0, e + l3 + 12, 8);
	} else {
		l4 = l3 + IPV6_HLEN;
		put16(e + l3 + 4, first.hlen + total - l4);
		sum = csum_add(0, e + l3 + 8, 32);
	}
	e[l4 + 13] = flags;
	/* As a TSO sender leaves it: the pseudo-header's sum. */
	pseudo[0] = 0;
	pseudo[1] = PROTO_TCP;
	put16(pseudo + 2, first.hlen + total - l4);
	csum_put(e + l4 + 16, (uint16_t)~csum_fold(csum_add(sum, pseudo, 4)));
	vh = (struct virtio_net_hdr *)(void *)(e - UB_VNET_HLEN);
	memset(vh, 0, sizeof(*vh));
	vh->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	vh->gso_type = type == ETH_P_IP ? VIRTIO_NET_HDR_GSO_TCPV4 :
					  VIRTIO_NET_HDR_GSO_TCPV6;
	vh->gso_size = htole16(first.payload);
	vh->hdr_len = htole16(first.hlen);
	vh->csum_start = htole16(l4);
	vh->csum_offset = htole16(16);
	return UB_VNET_HLEN + first.hlen + total;
}

/* ---- the source port ---- */

uint16_t ub_vxlan_src_port(const uint8_t *eth, uint32_t len, uint16_t min,
			   uint16_t max, uint64_t secret)
{
	/* MACs 0-11, EtherType 12-13, protocol 14, addresses 16-47, ports
	 * 48-51; what the frame does not have stays zero. */
	uint8_t key[56] = {0};
	uint32_t l3, l4 = 0, span;
	uint64_t h = secret, w;
	const uint8_t *ip;
	uint16_t type;

	if (len < UB_ETH_HLEN) {
		memcpy(key, eth, len);
		goto hash;
	}
	memcpy(key, eth, 2 * UB_ETH_ALEN);
	l3 = l2_parse(eth, len, &type);
	put16(key + 12, type);
	ip = eth + l3;
	if (type == ETH_P_IP && len - l3 >= IPV4_HLEN && ip[0] >> 4 == 4 &&
	    (ip[0] & 15) >= 5 && len - l3 >= (ip[0] & 15) * 4u) {
		key[14] = ip[9];
		memcpy(key + 16, ip + 12, 8);
		/* A later fragment has no ports; leaving them out of the
		 * first too keeps a datagram's fragments together. */
		if (!(get16(ip + 6) & 0x3fff))
			l4 = l3 + (ip[0] & 15) * 4u;
	} else if (type == ETH_P_IPV6 && len - l3 >= IPV6_HLEN &&
		   ip[0] >> 4 == 6) {
		key[14] = ip[6];
		memcpy(key + 16, ip + 8, 32);
		l4 = l3 + IPV6_HLEN;
	}
	if (l4 && (key[14] == PROTO_TCP || key[14] == PROTO_UDP) &&
	    len - l4 >= 4)
		memcpy(key + 48, eth + l4, 4);
hash:
	/* Multiply-xorshift rounds over 8 bytes at a time, then the secret
	 * again and a last round, as the FDB's hash does. */
	for (size_t i = 0; i < sizeof(key); i += 8) {
		memcpy(&w, key + i, 8);
		h ^= w;
		h *= 0x9e3779b97f4a7c15ull;
		h ^= h >> 29;
	}
	h += secret >> 32 | secret << 32;
	h *= 0xd1b54a32d192ed03ull;
	h ^= h >> 31;
	if (max < min)
		max = min;
	/* The top 32 bits scaled onto the range: no modulo, no bias worth
	 * the name (Linux does the same). */
	span = (uint32_t)max - min + 1;
	return (uint16_t)(min + (((h >> 32) * span) >> 32));
}

/* ---- encapsulation ---- */

/* The headers of a GSO super-frame, as offsets into its Ethernet frame. */
struct gso {
	uint32_t l3, l4, hlen; /* IP header, TCP/UDP header, payload */
	uint32_t iphlen, l4hlen;
	bool v6, tcp;
};

static enum ub_vxlan_tx gso_parse(const struct virtio_net_hdr *vh,
				  const uint8_t *eth, uint32_t len,
				  struct gso *g)
{
	uint8_t type = vh->gso_type & ~VIRTIO_NET_HDR_GSO_ECN, proto;
	uint16_t ethertype;
	const uint8_t *ip;

	switch (type) {
	case VIRTIO_NET_HDR_GSO_TCPV4:
	case VIRTIO_NET_HDR_GSO_TCPV6:
		g->tcp = true;
		break;
	case VIRTIO_NET_HDR_GSO_UDP_L4:
		g->tcp = false;
		break;
	default:
		return UB_VXLAN_TX_GSO_TYPE;
	}
	if (le16toh(vh->gso_size) == 0)
		return UB_VXLAN_TX_GSO_SIZE;
	if (le16toh(vh->hdr_len) > len)
		return UB_VXLAN_TX_HDR_LEN;
	g->l3 = l2_parse(eth, len, &ethertype);
	g->v6 = type == VIRTIO_NET_HDR_GSO_TCPV6 ||
		(type == VIRTIO_NET_HDR_GSO_UDP_L4 && ethertype == ETH_P_IPV6);
	if (ethertype != (g->v6 ? ETH_P_IPV6 : ETH_P_IP))
		return UB_VXLAN_TX_NOT_IP;

	ip = eth + g->l3;
	proto = g->tcp ? PROTO_TCP : PROTO_UDP;
	if (!g->v6) {
		if (len - g->l3 < IPV4_HLEN)
			return UB_VXLAN_TX_IP;
		g->iphlen = (ip[0] & 15) * 4u;
		if (ip[0] >> 4 != 4 || g->iphlen < IPV4_HLEN ||
		    len - g->l3 < g->iphlen ||
		    get16(ip + 2) != len - g->l3 || (get16(ip + 6) & 0x3fff) ||
		    ip[9] != proto)
			return UB_VXLAN_TX_IP;
	} else {
		g->iphlen = IPV6_HLEN;
		if (len - g->l3 < IPV6_HLEN || ip[0] >> 4 != 6 ||
		    get16(ip + 4) != len - g->l3 - IPV6_HLEN)
			return UB_VXLAN_TX_IP;
		if (ip[6] != proto)
			return ipv6_ext(ip[6]) ? UB_VXLAN_TX_IPV6_EXT
					       : UB_VXLAN_TX_IP;
	}
	g->l4 = g->l3 + g->iphlen;
	g->l4hlen = UDP_HLEN;
	if (g->tcp) {
		if (len - g->l4 < TCP_HLEN)
			return UB_VXLAN_TX_L4;
		g->l4hlen = (eth[g->l4 + 12] >> 4) * 4u;
	}
	if (g->l4hlen < (g->tcp ? TCP_HLEN : UDP_HLEN) ||
	    len - g->l4 < g->l4hlen)
		return UB_VXLAN_TX_L4;
	if ((vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) &&
	    (le16toh(vh->csum_start) != g->l4 ||
	     le16toh(vh->csum_offset) != (g->tcp ? 16 : 6)))
		return UB_VXLAN_TX_CSUM;
	g->hlen = g->l4 + g->l4hlen;
	return UB_VXLAN_TX_OK;
}

/*
 * Turns a copy of the headers followed by 'chunk' bytes of payload into
 * segment 'i' of 'segs'. 'seq' is where the chunk starts in the TCP
 * sequence space.
 */
static void gso_fix(const struct gso *g, uint8_t *e, uint32_t i,
		    uint32_t segs, uint32_t chunk, uint32_t seq)
{
	uint8_t *ip = e + g->l3, *l4 = e + g->l4, pseudo[4];
	uint32_t l4len = g->l4hlen + chunk;
	uint64_t sum;
	uint16_t c;

	if (!g->v6) {
		put16(ip + 2, g->iphlen + l4len);
		/*
		 * Each segment is an IP datagram of its own and gets an id of
		 * its own, counting up from the super-frame's, exactly what
		 * the sender's stack would have sent without TSO. It matters
		 * beyond tidiness: the receiver's GRO only merges IPv4
		 * segments whose ids go up by one, and ids must differ for
		 * any segment that is fragmented on the way (DF clear).
		 */
		put16(ip + 4, get16(ip + 4) + i);
		ip[10] = ip[11] = 0;
		csum_put(ip + 10, csum_fold(csum_add(0, ip, g->iphlen)));
	} else {
		put16(ip + 4, l4len);
	}
	if (g->tcp) {
		put32(l4 + 4, seq);
		/* FIN and PSH end the data: they belong to the last
		 * segment. CWR answers one ECN echo: only the first. */
		if (i + 1 < segs)
			l4[13] &= (uint8_t)~(TCP_FIN | TCP_PSH);
		if (i > 0)
			l4[13] &= (uint8_t)~TCP_CWR;
		l4[16] = l4[17] = 0;
	} else {
		put16(l4 + 4, l4len);
		l4[6] = l4[7] = 0;
	}
	/* Pseudo-header: the addresses, then zero, protocol and length. */
	pseudo[0] = 0;
	pseudo[1] = g->tcp ? PROTO_TCP : PROTO_UDP;
	put16(pseudo + 2, l4len);
	sum = g->v6 ? csum_add(0, ip + 8, 32) : csum_add(0, ip + 12, 8);
	sum = csum_add(sum, pseudo, 4);
	c = csum_fold(csum_add(sum, l4, l4len));
	/* UDP reserves 0 for "no checksum". */
	csum_put(l4 + (g->tcp ? 16 : 6), (c || g->tcp) ? c : 0xffff);
}

enum ub_vxlan_tx ub_vxlan_encap(const uint8_t *frame, uint32_t len,
				uint32_t vni, uint8_t *out, uint32_t out_size,
				struct ub_vxlan_out *res)
{
	uint32_t payload, segs, gso_size, stride, seq = 0;
	const uint8_t *eth = frame + UB_VNET_HLEN;
	struct virtio_net_hdr vh;
	enum ub_vxlan_tx ret;
	uint64_t need;
	struct gso g;

	*res = (struct ub_vxlan_out){0};
	if (len < UB_VNET_HLEN + UB_ETH_HLEN)
		return UB_VXLAN_TX_SHORT;
	memcpy(&vh, frame, sizeof(vh));
	len -= UB_VNET_HLEN;

	if (vh.gso_type == VIRTIO_NET_HDR_GSO_NONE) {
		bool csum = vh.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM;

		if (csum && !csum_field_ok(len, le16toh(vh.csum_start),
					   le16toh(vh.csum_offset)))
			return UB_VXLAN_TX_CSUM;
		res->len = UB_VXLAN_HLEN + len;
		if (res->len > out_size)
			return UB_VXLAN_TX_NOSPACE;
		ub_vxlan_hdr_put(out, vni);
		memcpy(out + UB_VXLAN_HLEN, eth, len);
		if (csum)
			ub_vxlan_csum_complete(out + UB_VXLAN_HLEN, len,
					       le16toh(vh.csum_start),
					       le16toh(vh.csum_offset));
		res->segs = 1;
		res->seg_size = res->len;
		return UB_VXLAN_TX_OK;
	}

	ret = gso_parse(&vh, eth, len, &g);
	if (ret != UB_VXLAN_TX_OK)
		return ret;
	/* The IP length checks bound the frame to 64 KiB and its headers,
	 * so none of this overflows 32 bits. */
	gso_size = le16toh(vh.gso_size);
	payload = len - g.hlen;
	segs = payload ? (payload + gso_size - 1) / gso_size : 1;
	stride = UB_VXLAN_HLEN + g.hlen + (segs > 1 ? gso_size : payload);
	need = (uint64_t)segs * (UB_VXLAN_HLEN + g.hlen) + payload;
	res->len = (uint32_t)need;
	if (need > out_size)
		return UB_VXLAN_TX_NOSPACE;
	if (g.tcp)
		seq = get32(eth + g.l4 + 4);
	for (uint32_t i = 0, off = 0; i < segs; i++, off += gso_size) {
		uint8_t *d = out + (size_t)i * stride;
		uint32_t chunk = payload - off < gso_size ? payload - off
							   : gso_size;

		ub_vxlan_hdr_put(d, vni);
		memcpy(d + UB_VXLAN_HLEN, eth, g.hlen);
		memcpy(d + UB_VXLAN_HLEN + g.hlen, eth + g.hlen + off, chunk);
		gso_fix(&g, d + UB_VXLAN_HLEN, i, segs, chunk, seq + off);
	}
	res->segs = segs;
	res->seg_size = stride;
	return UB_VXLAN_TX_OK;
}
