/* SPDX-License-Identifier: MIT */
/*
 * VXLAN (RFC 7348) framing and the offloads a VXLAN port must do in
 * software, apart from any I/O: bytes in, bytes out, no socket, no clock,
 * no allocation. The VXLAN port back end (io/) encapsulates with it;
 * unit tests and a fuzzer drive it directly.
 *
 * A VXLAN datagram is the UDP payload [VXLAN header, 8 bytes][Ethernet
 * frame]. Frames in ubridge are [struct virtio_net_hdr][Ethernet frame]
 * (io.h): the header says whether the frame still owes a checksum
 * (VIRTIO_NET_HDR_F_NEEDS_CSUM) or is a GSO super-frame (up to 64 KiB of
 * TCP or UDP payload behind one set of headers, to be cut into gso_size
 * pieces). A UDP socket cannot pass either on, so ub_vxlan_encap() does
 * that work and writes datagrams ready for one UDP_SEGMENT send.
 *
 * Why a public header: the rejection reasons are per-port counters that
 * core and ubctl show by name (like enum ub_drop), and the grammar will
 * check VNIs and port ranges against the constants below; the code lives
 * in io/ (library ub_vxlan, which ub_io links).
 */
#ifndef UBRIDGE_VXLAN_H
#define UBRIDGE_VXLAN_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/virtio_net.h>

struct ub_port_io;

/* Not in Debian 12's kernel headers (Linux 6.1); the kernel hands it out
 * for UDP GSO (UDP_SEGMENT) frames since 6.2. */
#ifndef VIRTIO_NET_HDR_GSO_UDP_L4
#define VIRTIO_NET_HDR_GSO_UDP_L4 5
#endif

#define UB_VXLAN_HLEN 8
/* The IANA port. Linux's vxlan driver uses 8472 when made without
 * 'dstport'. */
#define UB_VXLAN_PORT 4789
#define UB_VXLAN_VNI_MAX 0xffffffu
/* ub_vxlan_decode(): accept any VNI. */
#define UB_VXLAN_VNI_ANY UINT32_MAX
/* The RFC's source port range: the dynamic ports. */
#define UB_VXLAN_SPORT_MIN 49152
#define UB_VXLAN_SPORT_MAX 65535
/* One UDP_SEGMENT send carries at most this many datagrams (the kernel's
 * UDP_MAX_SEGMENTS, 64 in Linux 6.1, later 128) and this many bytes of UDP
 * payload in all (65535 less an IPv4 header and the UDP header; IPv6
 * allows a little more). */
#define UB_VXLAN_GSO_SEGS_MAX 64
#define UB_VXLAN_GSO_BYTES_MAX (65535 - 20 - 8)

/* ---- the header, and receiving ---- */

/* Writes a VXLAN header: flags 0x08 (I, "the VNI is valid"), VNI
 * vni & UB_VXLAN_VNI_MAX, every reserved bit zero. */
void ub_vxlan_hdr_put(uint8_t hdr[UB_VXLAN_HLEN], uint32_t vni);

/* Why a received datagram was refused; each is a per-port counter. */
enum ub_vxlan_rx {
	UB_VXLAN_RX_OK,
	UB_VXLAN_RX_SHORT,    /* shorter than the VXLAN header */
	UB_VXLAN_RX_FLAGS,    /* I flag clear: no VNI */
	UB_VXLAN_RX_RESERVED, /* a reserved bit set (see ub_vxlan_decode) */
	UB_VXLAN_RX_VNI,      /* not the VNI asked for */
	UB_VXLAN_RX_RUNT,     /* inner frame shorter than an Ethernet header */
	UB_VXLAN_RX__COUNT,
};

/* ub_vxlan_decode(): ignore reserved bits, as RFC 7348 says receivers
 * must. */
#define UB_VXLAN_RX_F_IGNORE_RESERVED 1u

/*
 * Checks the UDP payload p[0..len) of a received datagram, in this order:
 * its length, the I flag, the reserved bits, the VNI (unless 'want_vni' is
 * UB_VXLAN_VNI_ANY), the inner frame's length. On UB_VXLAN_RX_OK the inner
 * Ethernet frame is p + UB_VXLAN_HLEN, len - UB_VXLAN_HLEN bytes (at least
 * UB_ETH_HLEN: what core's forward path calls a runt is refused here).
 * '*vni' is set whenever the header was there to read (not on SHORT),
 * also when refused, for a log line.
 *
 * Reserved bits: RFC 7348 says to ignore them; Linux's driver drops a
 * datagram with any reserved bit set that no extension it was configured
 * with (GBP, GPE, RCO) claims, as malformed, so that an extension is never
 * mistaken for plain VXLAN (a GPE datagram's payload need not even be
 * Ethernet). We do as Linux does by default, and as the RFC says with
 * UB_VXLAN_RX_F_IGNORE_RESERVED in 'flags'.
 */
enum ub_vxlan_rx ub_vxlan_decode(const uint8_t *p, uint32_t len,
				 uint32_t want_vni, unsigned flags,
				 uint32_t *vni);

/* The counter's name, e.g. "rx_drop_vxlan_short"; NULL for OK. */
const char *ub_vxlan_rx_name(enum ub_vxlan_rx r);

/*
 * A UDP_GRO receive holds several datagrams of the flow back to back, all
 * 'seg_size' bytes long (the UDP_GRO control message's value) but the
 * last, which may be shorter. Returns the length of datagram 'i' of the
 * 'len' received bytes and sets '*off' to where it starts, or returns 0
 * past the last one. seg_size 0 (no control message): one datagram.
 *   for (i = 0; (n = ub_vxlan_gro_seg(len, gso, i, &off)); i++) ...
 */
static inline uint32_t ub_vxlan_gro_seg(uint32_t len, uint32_t seg_size,
					uint32_t i, uint32_t *off)
{
	uint64_t start = (uint64_t)i * seg_size;

	if (seg_size == 0)
		start = i ? len : 0;
	if (start >= len)
		return 0;
	*off = (uint32_t)start;
	return seg_size && len - start > seg_size ? seg_size
						  : len - (uint32_t)start;
}

/*
 * Writes the virtio-net header of a frame that came out of a datagram,
 * frame[0..len) = [struct virtio_net_hdr][Ethernet frame], finishing what
 * a sender on this host left to hardware that never saw the datagram.
 * Linux's vxlan driver over a veth hands a UDP socket on the same host its
 * frames as its stack made them:
 * - a TSO super-frame (IP length past 'mtu', the port's inner MTU) in one
 *   datagram: its header says GSO TCPv4 or TCPv6 cut to fit 'mtu', and
 *   NEEDS_CSUM (the field holds the pseudo-header's sum, as for any TSO
 *   frame): whoever sends it out cuts it;
 * - a TCP or UDP checksum left to the NIC (CHECKSUM_PARTIAL: the field
 *   holds the pseudo-header's sum): completed in place. Such a frame
 *   cannot be told from one whose complete checksum happens to equal that
 *   sum, but completing the latter gives the same checksum, so every
 *   frame whose field equals the sum is completed.
 * Only whole IPv4 datagrams, and IPv6 ones without extension headers; a
 * checksum covers what the IP length says (not the Ethernet padding).
 * Anything else gets a header with nothing to do.
 */
void ub_vxlan_rx_offload(uint8_t *frame, uint32_t len, uint32_t mtu);

/*
 * A UDP_GRO receive p[0..len), datagrams of 'seg_size' bytes back to back
 * (the last maybe shorter), as one TSO super-frame when it can be: when
 * every datagram is a VXLAN datagram for 'vni' whose inner frame is one
 * whole TCP segment with correct checksums, of one connection, each after
 * the one before (the same Ethernet, IP and TCP headers but for IP length,
 * id and checksum and TCP sequence number, flags and checksum), all but
 * the last with the first's payload size, only the last pushing or ending
 * (PSH, FIN), none but the first with CWR, no SYN, RST or URG, and 64 KiB
 * of IP datagram at most. That is what a VTEP that cuts a TSO frame and
 * sends its segments in one UDP_SEGMENT write (ubridge) hands over. Then
 * the segments' data is moved behind the first's headers, and
 * [struct virtio_net_hdr][frame] starts at p + UB_VXLAN_HLEN -
 * UB_VNET_HLEN (the caller owns the two bytes before p): GSO TCPv4 or
 * TCPv6 of the segments' size, NEEDS_CSUM, the checksum field holding the
 * pseudo-header's sum. Returns its length, or 0 when the datagrams do not
 * qualify (nothing written).
 */
uint32_t ub_vxlan_gro_merge(uint8_t *p, uint32_t len, uint32_t seg_size,
			    uint32_t vni);

/* ---- sending ---- */

/*
 * The outer UDP source port for the Ethernet frame eth[0..len), in
 * [min, max] (max < min is taken as max = min). Like Linux's
 * udp_flow_src_port(): a hash of the inner flow, so that a flow's
 * datagrams keep one port (and one path through an ECMP underlay) while
 * flows spread over the range. The flow is the Ethernet addresses and
 * EtherType (after up to two VLAN tags), and for IPv4 and IPv6 the
 * addresses and protocol, and for TCP and UDP (not in an IPv4 fragment
 * past the first, not behind IPv6 extension headers) the ports.
 * 'secret' keys the hash, so that outsiders cannot aim flows at one port.
 * A GSO super-frame hashes as each of its segments would.
 */
uint16_t ub_vxlan_src_port(const uint8_t *eth, uint32_t len, uint16_t min,
			   uint16_t max, uint64_t secret);

/*
 * Completes the checksum the virtio-net header asks for
 * (VIRTIO_NET_HDR_F_NEEDS_CSUM) in the Ethernet frame eth[0..len): the
 * Internet checksum of eth[start..len), whose field at start + offset
 * holds the pseudo-header's sum (the sender's half of the work), stored
 * complemented at start + offset. 0 is sent as 0xffff, as Linux does.
 * False when the field is not inside the frame (nothing written).
 */
bool ub_vxlan_csum_complete(uint8_t *eth, uint32_t len, uint32_t start,
			    uint32_t offset);

/* Why a frame could not be encapsulated; each is a per-port counter. */
enum ub_vxlan_tx {
	UB_VXLAN_TX_OK,
	UB_VXLAN_TX_SHORT,    /* shorter than the virtio-net and an Ethernet
			       * header */
	UB_VXLAN_TX_CSUM,     /* csum_start/csum_offset past the frame; for
			       * GSO, not the TCP or UDP checksum field */
	UB_VXLAN_TX_HDR_LEN,  /* GSO: hdr_len past the frame */
	UB_VXLAN_TX_GSO_TYPE, /* a GSO type not segmented here (UFO, ...) */
	UB_VXLAN_TX_GSO_SIZE, /* GSO: gso_size 0 */
	UB_VXLAN_TX_NOT_IP,   /* GSO: not the IP version the type names */
	UB_VXLAN_TX_IP,       /* GSO: bad IP header (version, header or
			       * total length, a fragment, not TCP/UDP) */
	UB_VXLAN_TX_IPV6_EXT, /* GSO: IPv6 extension headers */
	UB_VXLAN_TX_L4,       /* GSO: TCP or UDP header past the frame */
	UB_VXLAN_TX_NOSPACE,  /* the output buffer is too small */
	UB_VXLAN_TX__COUNT,
};

/* The counter's name, e.g. "tx_drop_vxlan_csum"; NULL for OK. */
const char *ub_vxlan_tx_name(enum ub_vxlan_tx r);

/* What ub_vxlan_encap() wrote. */
struct ub_vxlan_out {
	uint32_t len;      /* bytes written; with NOSPACE, bytes needed */
	uint32_t segs;     /* datagrams */
	uint32_t seg_size; /* the size of each datagram but the last, which
			    * may be shorter: UDP_SEGMENT's value */
};

/*
 * Encapsulates frame[0..len) = [struct virtio_net_hdr][Ethernet frame]
 * into out[0..out_size): 'segs' VXLAN datagrams (UDP payloads) of
 * 'seg_size' bytes back to back, the last maybe shorter, each a VXLAN
 * header with 'vni' followed by a whole Ethernet frame whose checksums
 * are complete. The input is never written (it may be the buffer of a
 * frame other ports are sending at the same time).
 *
 * - No offload: one datagram, the frame as it is.
 * - NEEDS_CSUM without GSO: one datagram, the checksum completed.
 * - GSO (TCPV4, TCPV6, either with the ECN bit, UDP_L4): the payload cut
 *   into gso_size pieces, each behind a copy of the headers, as Linux's
 *   own software GSO does: IP lengths, the IPv4 id counting up from the
 *   super-frame's, the IPv4 header checksum, TCP sequence numbers, FIN
 *   and PSH on the last segment only, CWR on the first only, UDP lengths,
 *   and the TCP or UDP checksum over the pseudo-header. The headers must
 *   be Ethernet (up to two VLAN tags), IPv4 (options allowed) or IPv6
 *   (no extension header), TCP or UDP; the IP length must cover the frame
 *   exactly. hdr_len is only a hint (Linux's too): it must not pass the
 *   frame. With NEEDS_CSUM, csum_start and csum_offset must name the TCP
 *   or UDP checksum.
 *
 * Why one stride: a UDP_SEGMENT send hands the kernel one buffer and one
 * size, and the kernel cuts the buffer into datagrams of exactly that
 * size, the last taking what remains. So every datagram but the last must
 * be exactly seg_size bytes, which cutting a super-frame into full
 * gso_size segments gives for free. Send out[0..len) with UDP_SEGMENT =
 * seg_size, at most ub_vxlan_gso_batch(seg_size) datagrams per send (or
 * one datagram per send when seg_size does not fit the path MTU: the
 * kernel refuses to fragment a UDP_SEGMENT datagram).
 *
 * Output size: (headers + UB_VXLAN_HLEN) per segment plus the payload; for
 * a 64 KiB super-frame cut at an MSS of 1448, about 70 KiB. Nothing is
 * written past out_size: a GSO frame is bounded by its IP length field
 * (64 KiB of IP datagram), any frame by out_size.
 */
enum ub_vxlan_tx ub_vxlan_encap(const uint8_t *frame, uint32_t len,
				uint32_t vni, uint8_t *out, uint32_t out_size,
				struct ub_vxlan_out *res);

/* Datagrams of 'seg_size' bytes one UDP_SEGMENT send may carry. */
static inline uint32_t ub_vxlan_gso_batch(uint32_t seg_size)
{
	uint32_t n = seg_size ? UB_VXLAN_GSO_BYTES_MAX / seg_size : 0;

	return n < UB_VXLAN_GSO_SEGS_MAX ? n : UB_VXLAN_GSO_SEGS_MAX;
}

/* ---- the port (io/vxlan_port.c, ub_port_vxlan_ops) ----
 *
 * A VXLAN port is a tunnel endpoint with no network interface: a UDP
 * socket bound to the local underlay address and the VXLAN port receives,
 * and a few sockets bound to source ports of the range send. Its remotes
 * are the VTEPs it knows: those of the flood list, which broadcast,
 * multicast and unknown unicast go to one copy each (head-end
 * replication), and those it learned from (or was told of by a static
 * FDB entry). FDB entries on the port name a remote by its index (1 up);
 * remote 0 means the flood list.
 */

/* Remotes one port knows, the flood list included. */
#define UB_VXLAN_REMOTES_MAX 4096

/* An underlay address, IPv4 or IPv6. A port's remotes are of its local
 * address's family. */
struct ub_vxlan_ip {
	sa_family_t family; /* AF_INET or AF_INET6 */
	union {
		struct in_addr v4;
		struct in6_addr v6;
	};
};

/* Writes 'ip' as text into buf[0..len) (INET6_ADDRSTRLEN is enough);
 * returns buf. */
const char *ub_vxlan_ip_fmt(const struct ub_vxlan_ip *ip, char *buf,
			    size_t len);

/* Whether 'ip' can be a remote VTEP of a port bound to 'local': a
 * unicast address (not unspecified, multicast or IPv4 broadcast) of
 * local's family, not local itself. */
bool ub_vxlan_ip_remote_ok(const struct ub_vxlan_ip *ip,
			   const struct ub_vxlan_ip *local);

struct ub_vxlan_cfg {
	uint32_t vni;
	struct ub_vxlan_ip local; /* the underlay address, not unspecified */
	uint16_t dstport;      /* 0: UB_VXLAN_PORT */
	uint16_t sport_min;    /* 0 and 0: the RFC's range */
	uint16_t sport_max;
	uint8_t ttl;           /* 0: the system's default */
	bool learning;         /* learn inner sources' remotes */
};

/* The configuration the port runs with (defaults filled in). */
const struct ub_vxlan_cfg *ub_vxlan_port_cfg(const struct ub_port_io *p);

/*
 * The remote for 'ip', made if needed (learned remotes and static
 * entries' destinations); with 'flood' it joins the flood list too.
 * Returns its index (> 0), or -EEXIST ('flood' and already in the flood
 * list), -EINVAL (unspecified, multicast or broadcast, the port's own, or
 * not of its family), -ENOSPC (UB_VXLAN_REMOTES_MAX known).
 */
int ub_vxlan_remote_add(struct ub_port_io *p, const struct ub_vxlan_ip *ip,
			bool flood);
/*
 * Forgets remote 'ip' (it leaves the flood list, if in it). Returns its
 * index, or -ENOENT. Nothing is sent to it any more, and the index is
 * taken by no other remote until ub_vxlan_remote_release(): the caller
 * flushes the FDB entries that name it (static ones too) in between.
 */
int ub_vxlan_remote_del(struct ub_port_io *p, const struct ub_vxlan_ip *ip);
void ub_vxlan_remote_release(struct ub_port_io *p, uint32_t remote);
/* The flood list: up to 'max' addresses into 'out'; returns how many it
 * holds. */
uint32_t ub_vxlan_flood_list(const struct ub_port_io *p,
			     struct ub_vxlan_ip *out, uint32_t max);
/* Remotes known, the flood list included. */
uint32_t ub_vxlan_remote_count(const struct ub_port_io *p);

#endif
