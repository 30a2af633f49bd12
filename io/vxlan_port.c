/* SPDX-License-Identifier: MIT */
/*
 * VXLAN ports (include/ubridge/vxlan.h): a tunnel endpoint made of kernel
 * UDP sockets, in the daemon's network namespace.
 *
 * Receiving. One socket bound to (local, dstport) receives with a
 * multishot recvmsg into the pool, each datagram with its sender's
 * address in front. The VXLAN header is checked (ub_vxlan_decode), the
 * sender becomes the frame's remote (learned when new), and a zeroed
 * virtio-net header is written over the VXLAN header's last bytes: the
 * inner frame is then an ordinary frame of core's, in place, once
 * ub_vxlan_rx_offload() has finished what a sender on this host left to
 * hardware. With UDP_GRO one receive may hold several datagrams a sender
 * wrote in one UDP_SEGMENT send: the segments of one TSO frame become
 * that frame again (ub_vxlan_gro_merge); anything else is copied into a
 * backlog of the port's own, frame by frame, which rx_next hands over in
 * order (later receives wait behind it).
 *
 * Sending. Every frame is encapsulated (ub_vxlan_encap: checksums
 * completed, GSO super-frames cut) into a TX context of the port's own,
 * never into the frame's buffer, which other ports may be sending from.
 * Frames of a batch to the same remote through the same socket whose
 * datagrams are the same size (all of a super-frame's segments but the
 * last, or a stream of equal small frames) share a context, and leave in
 * one UDP_SEGMENT sendmsg: the kernel cuts it into datagrams of that size.
 * Datagrams that do not fit the underlay's MTU go one per sendmsg and may
 * be fragmented, as with Linux's driver (IP_PMTUDISC_DONT). A flood sends
 * the same context once per remote of the flood list.
 *
 * Source ports. Linux picks the outer source port per datagram from a
 * hash of the inner flow. A UDP socket sends from the port it is bound
 * to, so the port has up to VX_SOCKS sending sockets bound to ports spread
 * over the range, and the flow hash picks one: flows spread over an ECMP
 * underlay, a flow keeps its path, and sends keep UDP GSO (a raw socket
 * could write any port but has no GSO).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <linux/sock_diag.h>
#include <liburing.h>
#include <net/if.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <unistd.h>

#include <ubridge/vxlan.h>

#include "io_private.h"

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif

/* Sending sockets, at most. */
#define VX_SOCKS 16
/* TX contexts, each room for one encapsulated super-frame. */
#define VX_CTXS 32
#define VX_CTX_BYTES (128U << 10)
/* sendmsg requests in flight. */
#define VX_SENDS UB_PORT_TX_MAX
/* The remotes' hash: open addressing, at most half full. */
#define VX_HASH (2 * UB_VXLAN_REMOTES_MAX)
/* Frames a receive brought besides the first, waiting for rx_next: copied
 * into buffers of the port's own (a buffer area of the worker's ring). */
#define VX_BACKLOG 1024
/* The outer headers under a VXLAN datagram (IP and UDP), and the VXLAN
 * overhead on the underlay's MTU (those, VXLAN's and the inner Ethernet
 * header), for an IPv4 and an IPv6 underlay. */
#define VX_OUTER_HLEN(v6) ((v6) ? 48U : 28U)
#define VX_OVERHEAD(v6) (VX_OUTER_HLEN(v6) + UB_VXLAN_HLEN + UB_ETH_HLEN)

enum vx_remote_state { VX_R_FREE, VX_R_LIVE, VX_R_DEAD };

struct vx_remote {
	struct ub_vxlan_ip ip;
	uint8_t state;  /* enum vx_remote_state */
	bool flood;     /* in the flood list */
};

/* What a context holds: 'segs' datagrams back to back in data[0..len),
 * each 'seg_size' bytes but the last, for one remote through one socket. */
struct vx_ctx {
	uint8_t *data;
	uint32_t len, segs, seg_size;
	uint32_t remote; /* 0: the flood list */
	uint32_t sock;
	uint32_t sends;  /* its sendmsg requests in flight */
	bool filling;    /* put this batch, not flushed yet */
};

struct vx_send {
	struct msghdr msg;
	struct iovec iov;
	struct sockaddr_in6 to; /* or a sockaddr_in */
	/* One UDP_SEGMENT message: CMSG_SPACE(2), 24 bytes on 64-bit
	 * Linux (a constant clang will not take as an array size). */
	uint64_t cm[4];
	uint32_t ctx;
};

/* Counters of the port's own, beside the codec's drop reasons. */
enum vx_count {
	VX_C_NO_REMOTE,   /* to the flood list, which is empty */
	VX_C_REMOTES_FULL, /* a new sender not learned: the table is full */
	VX_C_BACKLOG,     /* a frame of a GRO receive, the backlog full */
	VX_C_GRO_MERGED,  /* GRO receives that became one TSO frame */
	VX_C__COUNT,
};

static const char *const vx_count_names[VX_C__COUNT] = {
	[VX_C_NO_REMOTE] = "tx_drop_vxlan_no_remote",
	[VX_C_REMOTES_FULL] = "rx_vxlan_remote_not_learned",
	[VX_C_BACKLOG] = "rx_drop_vxlan_backlog",
	[VX_C_GRO_MERGED] = "rx_vxlan_gro_merged",
};

/* A frame in the backlog: its buffer, length and remote. */
struct vx_held {
	uint32_t idx, len, remote;
};

struct vxlan {
	struct ub_vxlan_cfg cfg;
	bool v6;                /* an IPv6 underlay */
	uint32_t underlay_mtu;
	int sock[1 + VX_SOCKS]; /* the receiving socket, then the sending ones */
	uint32_t nsock;
	uint64_t secret;
	struct msghdr rx_tmpl;

	struct vx_remote remote[UB_VXLAN_REMOTES_MAX + 1]; /* [0] unused */
	uint16_t hash[VX_HASH]; /* remote indexes; 0: empty */
	uint32_t nremotes;      /* LIVE ones */
	uint16_t flood[UB_VXLAN_REMOTES_MAX]; /* the flood list's remotes */
	uint32_t nflood;

	uint8_t *tx_area;
	struct vx_ctx ctx[VX_CTXS];
	uint32_t ctx_next;      /* where the search for a free one starts */
	uint32_t fill[VX_CTXS]; /* contexts put this batch, in order */
	uint32_t nfill;
	uint32_t sends_owed;    /* requests the filling contexts will need */
	struct vx_send send[VX_SENDS];
	uint32_t send_free[VX_SENDS];
	uint32_t nsend_free;

	/* The backlog: VX_BACKLOG buffers of backlog_size bytes, a FIFO of
	 * frames in them, and the free ones. */
	uint8_t *backlog;
	uint32_t backlog_size, area;
	struct vx_held held[VX_BACKLOG];
	uint32_t held_head, nheld;
	uint32_t backlog_free[VX_BACKLOG], nbacklog_free;

	uint32_t sk_drops;      /* the socket's drop count, last read */

	uint64_t rx_drops[UB_VXLAN_RX__COUNT];
	uint64_t tx_drops[UB_VXLAN_TX__COUNT];
	uint64_t counts[VX_C__COUNT];
};

/* ---- remotes ---- */

static const void *ip_bytes__(const struct ub_vxlan_ip *ip)
{
	return ip->family == AF_INET6 ? (const void *)&ip->v6 :
					(const void *)&ip->v4;
}

static size_t ip_len__(const struct ub_vxlan_ip *ip)
{
	return ip->family == AF_INET6 ? sizeof(ip->v6) : sizeof(ip->v4);
}

static bool ip_eq__(const struct ub_vxlan_ip *a, const struct ub_vxlan_ip *b)
{
	return a->family == b->family &&
	       !memcmp(ip_bytes__(a), ip_bytes__(b), ip_len__(a));
}

const char *ub_vxlan_ip_fmt(const struct ub_vxlan_ip *ip, char *buf,
			    size_t len)
{
	if (!inet_ntop(ip->family, ip_bytes__(ip), buf, (socklen_t)len))
		snprintf(buf, len, "?");
	return buf;
}

static uint32_t hash_ip__(const struct vxlan *vx, const struct ub_vxlan_ip *ip)
{
	const uint8_t *b = ip_bytes__(ip);
	uint64_t h = vx->secret, w;

	for (size_t i = 0; i < ip_len__(ip); i += 4) {
		uint32_t part;

		memcpy(&part, b + i, 4);
		w = part;
		h = (h ^ w) * 0x9e3779b97f4a7c15ULL;
		h ^= h >> 29;
	}
	return (uint32_t)(h >> 40) & (VX_HASH - 1);
}

/* The hash slot holding 'ip', or the empty one where it would go. */
static uint32_t hash_slot__(const struct vxlan *vx, const struct ub_vxlan_ip *ip)
{
	uint32_t i = hash_ip__(vx, ip);

	while (vx->hash[i] && !ip_eq__(&vx->remote[vx->hash[i]].ip, ip))
		i = (i + 1) & (VX_HASH - 1);
	return i;
}

/* Takes 'ip' out of the hash, keeping every other one findable (linear
 * probing: later members of the run move up into the hole). */
static void hash_del__(struct vxlan *vx, const struct ub_vxlan_ip *ip)
{
	uint32_t i = hash_slot__(vx, ip), j = i;

	if (!vx->hash[i])
		return;
	vx->hash[i] = 0;
	for (;;) {
		uint32_t home;

		j = (j + 1) & (VX_HASH - 1);
		if (!vx->hash[j])
			return;
		home = hash_ip__(vx, &vx->remote[vx->hash[j]].ip);
		/* Does j's entry belong at or before the hole i? */
		if ((i <= j) ? (home <= i || home > j) : (home <= i && home > j)) {
			vx->hash[i] = vx->hash[j];
			vx->hash[j] = 0;
			i = j;
		}
	}
}

static uint32_t remote_find__(const struct vxlan *vx,
			      const struct ub_vxlan_ip *ip)
{
	return vx->hash[hash_slot__(vx, ip)];
}

/* A new remote for 'ip' (not known yet), or 0 when the table is full. */
static uint32_t remote_new__(struct vxlan *vx, const struct ub_vxlan_ip *ip)
{
	if (vx->nremotes == UB_VXLAN_REMOTES_MAX)
		return 0;
	for (uint32_t k = 1; k <= UB_VXLAN_REMOTES_MAX; k++) {
		if (vx->remote[k].state != VX_R_FREE)
			continue;
		vx->remote[k] = (struct vx_remote){ .ip = *ip,
						    .state = VX_R_LIVE };
		vx->hash[hash_slot__(vx, ip)] = (uint16_t)k;
		vx->nremotes++;
		return k;
	}
	return 0; /* the rest are DEAD, being flushed */
}

bool ub_vxlan_ip_remote_ok(const struct ub_vxlan_ip *ip,
			   const struct ub_vxlan_ip *local)
{
	if (ip->family != local->family || ip_eq__(ip, local))
		return false;
	if (ip->family == AF_INET6)
		return !IN6_IS_ADDR_UNSPECIFIED(&ip->v6) &&
		       !IN6_IS_ADDR_MULTICAST(&ip->v6);
	return ip->v4.s_addr && ip->v4.s_addr != htonl(INADDR_BROADCAST) &&
	       !IN_MULTICAST(ntohl(ip->v4.s_addr));
}

static bool ip_usable__(const struct vxlan *vx, const struct ub_vxlan_ip *ip)
{
	return ub_vxlan_ip_remote_ok(ip, &vx->cfg.local);
}

int ub_vxlan_remote_add(struct ub_port_io *p, const struct ub_vxlan_ip *ip,
			bool flood)
{
	struct vxlan *vx = p->priv;
	uint32_t k;

	if (!ip_usable__(vx, ip))
		return -EINVAL;
	k = remote_find__(vx, ip);
	if (!k && !(k = remote_new__(vx, ip)))
		return -ENOSPC;
	if (flood && vx->remote[k].flood)
		return -EEXIST;
	if (flood) {
		vx->remote[k].flood = true;
		vx->flood[vx->nflood++] = (uint16_t)k;
	}
	return (int)k;
}

int ub_vxlan_remote_del(struct ub_port_io *p, const struct ub_vxlan_ip *ip)
{
	struct vxlan *vx = p->priv;
	uint32_t k = ip->family == vx->cfg.local.family ?
			     remote_find__(vx, ip) : 0;

	if (!k)
		return -ENOENT;
	hash_del__(vx, ip);
	vx->remote[k].state = VX_R_DEAD;
	vx->remote[k].flood = false;
	vx->nremotes--;
	for (uint32_t i = 0; i < vx->nflood; i++)
		if (vx->flood[i] == k)
			vx->flood[i--] = vx->flood[--vx->nflood];
	return (int)k;
}

void ub_vxlan_remote_release(struct ub_port_io *p, uint32_t remote)
{
	struct vxlan *vx = p->priv;

	if (remote && remote <= UB_VXLAN_REMOTES_MAX &&
	    vx->remote[remote].state == VX_R_DEAD)
		vx->remote[remote].state = VX_R_FREE;
}

uint32_t ub_vxlan_flood_list(const struct ub_port_io *p,
			     struct ub_vxlan_ip *out,
			     uint32_t max)
{
	const struct vxlan *vx = p->priv;

	for (uint32_t i = 0; i < vx->nflood && i < max; i++)
		out[i] = vx->remote[vx->flood[i]].ip;
	return vx->nflood;
}

uint32_t ub_vxlan_remote_count(const struct ub_port_io *p)
{
	return ((const struct vxlan *)p->priv)->nremotes;
}

const struct ub_vxlan_cfg *ub_vxlan_port_cfg(const struct ub_port_io *p)
{
	return &((const struct vxlan *)p->priv)->cfg;
}

static bool vx_remote_fmt(const struct ub_port_io *p, uint32_t remote,
			  char *buf, size_t len)
{
	const struct vxlan *vx = p->priv;

	if (!remote || remote > UB_VXLAN_REMOTES_MAX ||
	    vx->remote[remote].state != VX_R_LIVE)
		return false;
	ub_vxlan_ip_fmt(&vx->remote[remote].ip, buf, len);
	return true;
}

/* ---- open and close ---- */

/* The MTU of the interface that has address 'ip'; 1500 when none does. */
static uint32_t underlay_mtu__(const struct ub_vxlan_ip *ip)
{
	struct ifaddrs *ifa, *i;
	uint32_t mtu = 1500;
	struct ub_mac mac;

	if (getifaddrs(&ifa))
		return mtu;
	for (i = ifa; i; i = i->ifa_next) {
		struct ub_vxlan_ip a = { .family = AF_UNSPEC };

		if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET)
			a = (struct ub_vxlan_ip){ .family = AF_INET,
				.v4 = ((const struct sockaddr_in *)(const void *)
					       i->ifa_addr)->sin_addr };
		else if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET6)
			a = (struct ub_vxlan_ip){ .family = AF_INET6,
				.v6 = ((const struct sockaddr_in6 *)(const void *)
					       i->ifa_addr)->sin6_addr };
		if (ip_eq__(&a, ip)) {
			ub_if_query__(-1, i->ifa_name, &mtu, &mac);
			break;
		}
	}
	freeifaddrs(ifa);
	return mtu;
}

/* A UDP socket bound to (ip, port), set up for VXLAN. */
/* The socket address of 'ip' and 'port' into 'sa'; returns its length. */
static socklen_t sockaddr_of__(const struct ub_vxlan_ip *ip, uint16_t port,
			       struct sockaddr_in6 *sa)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)(void *)sa;

	memset(sa, 0, sizeof(*sa));
	if (ip->family == AF_INET6) {
		sa->sin6_family = AF_INET6;
		sa->sin6_addr = ip->v6;
		sa->sin6_port = htons(port);
		return sizeof(*sa);
	}
	sin->sin_family = AF_INET;
	sin->sin_addr = ip->v4;
	sin->sin_port = htons(port);
	return sizeof(*sin);
}

static int vx_socket__(const struct ub_vxlan_cfg *cfg, uint16_t port,
		       int rcvbuf)
{
	bool v6 = cfg->local.family == AF_INET6;
	int sndbuf = 4 << 20, ttl = cfg->ttl, one = 1, ret, fd;
	int pmtu = v6 ? IPV6_PMTUDISC_DONT : IP_PMTUDISC_DONT;
	struct sockaddr_in6 sa;
	socklen_t salen = sockaddr_of__(&cfg->local, port, &sa);

	fd = socket(cfg->local.family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* Forced (we are root): past net.core.rmem_max. Best effort. */
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof(sndbuf));
	/* Outer datagrams may be fragmented, as Linux's driver allows. */
	if ((v6 ? setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
			     sizeof(one)) ||
		  setsockopt(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &pmtu,
			     sizeof(pmtu)) ||
		  (ttl && setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS,
				     &ttl, sizeof(ttl))) :
		  setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &pmtu,
			     sizeof(pmtu)) ||
		  (ttl && setsockopt(fd, IPPROTO_IP, IP_TTL, &ttl,
				     sizeof(ttl)))) ||
	    bind(fd, (const struct sockaddr *)&sa, salen)) {
		ret = -errno;
		close(fd);
		return ret;
	}
	return fd;
}

/* The sending sockets: up to VX_SOCKS, bound to ports spread over the
 * range; a port in use is skipped for the next one. */
static int vx_send_sockets__(struct vxlan *vx)
{
	uint32_t min = vx->cfg.sport_min, range = vx->cfg.sport_max - min + 1;
	uint32_t want = range < VX_SOCKS ? range : VX_SOCKS;

	for (uint32_t i = 0; i < want; i++) {
		uint32_t first = min + i * range / want;
		uint32_t end = min + (i + 1) * range / want;

		for (uint32_t port = first; port < end; port++) {
			int fd = vx_socket__(&vx->cfg, (uint16_t)port, 4096);

			if (fd >= 0) {
				vx->sock[vx->nsock++] = fd;
				break;
			}
			if (fd != -EADDRINUSE)
				return fd;
		}
	}
	return vx->nsock > 1 ? 0 : -EADDRINUSE;
}

/* 'len' bytes of zeroed memory whose pages come as they are touched
 * (most of a port's tables and buffers never are); NULL when none. */
static void *map__(size_t len)
{
	void *m = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return m == MAP_FAILED ? NULL : m;
}

static void vx_close(struct ub_port_io *p)
{
	struct vxlan *vx = p->priv;

	if (!vx)
		return;
	for (uint32_t i = 0; i < vx->nsock; i++)
		close(vx->sock[i]);
	if (vx->tx_area)
		munmap(vx->tx_area, (size_t)VX_CTXS * VX_CTX_BYTES);
	if (vx->backlog)
		munmap(vx->backlog, (size_t)VX_BACKLOG * vx->backlog_size);
	munmap(vx, sizeof(*vx));
	p->priv = NULL;
	p->fd = -1;
}

/* 'ifname' is the port's name: it has no interface. p->cfg is a struct
 * ub_vxlan_cfg. */
static int vx_open(const char *ifname, struct ub_port_io *p)
{
	const struct ub_vxlan_cfg *cfg = p->cfg;
	struct vxlan *vx;
	int ret;

	if (!cfg || cfg->vni > UB_VXLAN_VNI_MAX ||
	    (cfg->local.family == AF_INET ? !cfg->local.v4.s_addr :
	     cfg->local.family != AF_INET6 ||
		     IN6_IS_ADDR_UNSPECIFIED(&cfg->local.v6)) ||
	    cfg->sport_max < cfg->sport_min)
		return -EINVAL;
	vx = map__(sizeof(*vx));
	if (!vx)
		return -ENOMEM;
	p->priv = vx;
	vx->cfg = *cfg;
	if (!vx->cfg.dstport)
		vx->cfg.dstport = UB_VXLAN_PORT;
	if (!vx->cfg.sport_min && !vx->cfg.sport_max) {
		vx->cfg.sport_min = UB_VXLAN_SPORT_MIN;
		vx->cfg.sport_max = UB_VXLAN_SPORT_MAX;
	}
	if (getrandom(&vx->secret, sizeof(vx->secret), 0) !=
	    sizeof(vx->secret))
		vx->secret = (uint64_t)(uintptr_t)vx ^ (uint64_t)getpid();
	vx->v6 = cfg->local.family == AF_INET6;
	/* Room for the sender's address, rounded up so that the control
	 * message behind it is aligned. */
	vx->rx_tmpl.msg_namelen = CMSG_ALIGN(vx->v6 ?
						     sizeof(struct sockaddr_in6) :
						     sizeof(struct sockaddr_in));
	vx->rx_tmpl.msg_controllen = CMSG_SPACE(sizeof(int));
	vx->tx_area = map__((size_t)VX_CTXS * VX_CTX_BYTES);
	if (!vx->tx_area) {
		ret = -ENOMEM;
		goto err;
	}
	for (uint32_t i = 0; i < VX_CTXS; i++)
		vx->ctx[i].data = vx->tx_area + (size_t)i * VX_CTX_BYTES;
	for (uint32_t i = 0; i < VX_SENDS; i++)
		vx->send_free[vx->nsend_free++] = VX_SENDS - 1 - i;
	/* The receiving socket first: "address in use" names the port that
	 * matters. Its queue holds a burst while the bridge is busy. */
	ret = vx_socket__(&vx->cfg, vx->cfg.dstport, 8 << 20);
	if (ret < 0)
		goto err;
	vx->sock[vx->nsock++] = ret;
	p->fd = ret;
	/* Datagrams a sender wrote in one UDP_SEGMENT send come in one
	 * receive (best effort: without it, one at a time). */
	setsockopt(p->fd, SOL_UDP, UDP_GRO, &(int){ 1 }, sizeof(int));
	/* A range of the one port dstport sends from the receiving socket. */
	if (vx->cfg.sport_min != vx->cfg.dstport ||
	    vx->cfg.sport_max != vx->cfg.dstport) {
		ret = vx_send_sockets__(vx);
		if (ret)
			goto err;
	}
	vx->underlay_mtu = underlay_mtu__(&vx->cfg.local);
	/* A datagram of a GRO receive fits the underlay. */
	vx->backlog_size = (vx->underlay_mtu + UB_VNET_HLEN + 2047) & ~2047U;
	vx->backlog = map__((size_t)VX_BACKLOG * vx->backlog_size);
	if (!vx->backlog) {
		ret = -ENOMEM;
		goto err;
	}
	for (uint32_t i = 0; i < VX_BACKLOG; i++)
		vx->backlog_free[vx->nbacklog_free++] = VX_BACKLOG - 1 - i;
	p->mtu = vx->underlay_mtu > VX_OVERHEAD(vx->v6) + 68 ?
			 vx->underlay_mtu - VX_OVERHEAD(vx->v6) : 68;
	return 0;
err:
	vx_close(p);
	return ret;
}

/* ---- receive ---- */

static int vx_arm_rx(struct ub_ring *ring, struct ub_port_io *p, uint64_t ud)
{
	struct vxlan *vx = p->priv;

	return ub_ring_recvmsg_pool__(ring, p->fd, &vx->rx_tmpl, ud);
}

/* The remote of the sender whose address is 'name' (learned if new), or
 * 0. */
static uint32_t rx_remote__(struct vxlan *vx, const void *name)
{
	struct ub_vxlan_ip from = { .family = vx->cfg.local.family };
	uint32_t k;

	if (!vx->cfg.learning)
		return 0;
	if (vx->v6)
		memcpy(&from.v6, &((const struct sockaddr_in6 *)name)->sin6_addr,
		       sizeof(from.v6));
	else
		memcpy(&from.v4, &((const struct sockaddr_in *)name)->sin_addr,
		       sizeof(from.v4));
	k = remote_find__(vx, &from);
	if (!k && ip_usable__(vx, &from) && !(k = remote_new__(vx, &from)))
		vx->counts[VX_C_REMOTES_FULL]++;
	return k;
}

/* The UDP_GRO segment size of a receive; 0: one datagram. */
static uint32_t rx_gro_size__(struct vxlan *vx, struct io_uring_recvmsg_out *o)
{
	struct cmsghdr *c;
	int size;

	for (c = io_uring_recvmsg_cmsg_firsthdr(o, &vx->rx_tmpl); c;
	     c = io_uring_recvmsg_cmsg_nexthdr(o, &vx->rx_tmpl, c))
		if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO &&
		    c->cmsg_len >= CMSG_LEN(sizeof(int))) {
			memcpy(&size, CMSG_DATA(c), sizeof(size));
			return size > 0 ? (uint32_t)size : 0;
		}
	return 0;
}

/* Checks datagram d[0..len) and makes its inner frame a frame of core's
 * at d + UB_VXLAN_HLEN - UB_VNET_HLEN (the two bytes before d are ours to
 * write); returns the frame's length, or 0 when it was refused (and
 * counted). */
static uint32_t rx_one__(struct vxlan *vx, const struct ub_port_io *p,
			 uint8_t *d, uint32_t len)
{
	enum ub_vxlan_rx why;
	uint32_t vni;

	why = ub_vxlan_decode(d, len, vx->cfg.vni, 0, &vni);
	if (why != UB_VXLAN_RX_OK) {
		vx->rx_drops[why]++;
		return 0;
	}
	len += UB_VNET_HLEN - UB_VXLAN_HLEN;
	ub_vxlan_rx_offload(d + UB_VXLAN_HLEN - UB_VNET_HLEN, len, p->mtu);
	return len;
}

/* Copies datagram d[0..len) into the backlog, behind what it holds. */
static void rx_hold__(struct vxlan *vx, const struct ub_port_io *p,
		      const uint8_t *d, uint32_t len, uint32_t remote)
{
	struct vx_held *h;
	uint8_t *b;

	if (!vx->nbacklog_free || vx->nheld == VX_BACKLOG ||
	    len + UB_VNET_HLEN - UB_VXLAN_HLEN > vx->backlog_size) {
		vx->counts[VX_C_BACKLOG]++;
		return;
	}
	h = &vx->held[(vx->held_head + vx->nheld) % VX_BACKLOG];
	h->idx = vx->backlog_free[--vx->nbacklog_free];
	b = vx->backlog + (size_t)h->idx * vx->backlog_size;
	/* Copied behind room for the virtio-net header over its VXLAN
	 * header's last bytes, as in a pool buffer. */
	memcpy(b + UB_VNET_HLEN - UB_VXLAN_HLEN, d, len);
	h->len = rx_one__(vx, p, b + UB_VNET_HLEN - UB_VXLAN_HLEN, len);
	if (!h->len) {
		vx->backlog_free[vx->nbacklog_free++] = h->idx;
		return;
	}
	h->remote = remote;
	vx->nheld++;
}

static enum ub_rx_status vx_rx_frame(struct ub_ring *ring,
				     struct ub_port_io *p, int res,
				     uint16_t bid, struct ub_frame *f)
{
	struct vxlan *vx = p->priv;
	struct io_uring_recvmsg_out *o;
	const void *from;
	uint32_t len, gro, n, off, dlen;
	uint8_t *dgram;

	o = io_uring_recvmsg_validate(ub_ring_buf(ring, bid), res,
				      &vx->rx_tmpl);
	if (!o || o->namelen < (vx->v6 ? sizeof(struct sockaddr_in6) :
					 sizeof(struct sockaddr_in)))
		return UB_RX_MALFORMED;
	if (o->flags & MSG_TRUNC)
		return UB_RX_TRUNCATED;
	dgram = io_uring_recvmsg_payload(o, &vx->rx_tmpl);
	len = io_uring_recvmsg_payload_length(o, res, &vx->rx_tmpl);
	from = io_uring_recvmsg_name(o);
	gro = rx_gro_size__(vx, o);
	/* The virtio-net header goes over the VXLAN header and the two bytes
	 * before it (the control data, read above). */
	f->data = dgram + UB_VXLAN_HLEN - UB_VNET_HLEN;
	if (gro && len > gro) {
		/* Segments of one TSO frame, as a ubridge VTEP sends them:
		 * one frame again. */
		f->len = ub_vxlan_gro_merge(dgram, len, gro, vx->cfg.vni);
		if (f->len) {
			/* Too large for the backlog: it may pass frames
			 * held back from another receive. */
			vx->counts[VX_C_GRO_MERGED]++;
			f->remote = rx_remote__(vx, from);
			return UB_RX_OK;
		}
		/* Else each in turn, through the backlog. */
		f->remote = rx_remote__(vx, from);
		for (n = 0; (dlen = ub_vxlan_gro_seg(len, gro, n, &off)); n++) {
			rx_hold__(vx, p, dgram + off, dlen, f->remote);
		}
		p->rx_more = vx->nheld > 0;
		return UB_RX_LATER;
	}
	f->remote = rx_remote__(vx, from);
	/* Frames held back come first. */
	if (vx->nheld) {
		rx_hold__(vx, p, dgram, len, f->remote);
		return UB_RX_LATER;
	}
	f->len = rx_one__(vx, p, dgram, len);
	return f->len ? UB_RX_OK : UB_RX_REFUSED;
}

static enum ub_rx_status vx_rx_next(struct ub_ring *ring, struct ub_port_io *p,
				    struct ub_frame *f)
{
	struct vxlan *vx = p->priv;
	struct vx_held *h;

	if (!vx->nheld) {
		p->rx_more = false;
		return UB_RX_NONE;
	}
	h = &vx->held[vx->held_head];
	vx->held_head = (vx->held_head + 1) % VX_BACKLOG;
	vx->nheld--;
	f->data = vx->backlog + (size_t)h->idx * vx->backlog_size;
	f->len = h->len;
	f->buf = ub_buf_handle__(vx->area, h->idx);
	f->remote = h->remote;
	return UB_RX_OK;
}

static void vx_backlog_release(void *arg, uint32_t idx)
{
	struct vxlan *vx = arg;

	vx->backlog_free[vx->nbacklog_free++] = idx;
}

static int vx_attach(struct ub_ring *ring, struct ub_port_io *p)
{
	struct vxlan *vx = p->priv;

	return ub_ring_area_add__(ring, VX_BACKLOG, vx_backlog_release, vx,
				  &vx->area);
}

static void vx_detach(struct ub_ring *ring, struct ub_port_io *p)
{
	struct vxlan *vx = p->priv;

	ub_ring_area_del__(ring, vx->area);
}

static uint32_t vx_rx_held(struct ub_ring *ring, struct ub_port_io *p)
{
	const struct vxlan *vx = p->priv;

	return ub_ring_area_held__(ring, vx->area);
}

/* ---- transmit ---- */

/* Whether datagrams of 'seg_size' bytes may share one UDP_SEGMENT send:
 * each must fit the underlay whole (the kernel does not fragment them). */
static bool gso_ok__(const struct vxlan *vx, uint32_t seg_size)
{
	return seg_size + VX_OUTER_HLEN(vx->v6) <= vx->underlay_mtu;
}

/* The sendmsg requests one copy of context 'c' takes. */
static uint32_t ctx_sends__(const struct vxlan *vx, const struct vx_ctx *c)
{
	uint32_t per;

	if (c->segs <= 1 || !gso_ok__(vx, c->seg_size))
		return c->segs;
	per = ub_vxlan_gso_batch(c->seg_size);
	return (c->segs + per - 1) / per;
}

/* The context of this batch a datagram of 'dlen' bytes for (remote,
 * sock) can join, or NULL. */
static struct vx_ctx *ctx_join__(struct vxlan *vx, uint32_t dlen,
				 uint32_t remote, uint32_t sock)
{
	struct vx_ctx *c;

	if (!vx->nfill)
		return NULL;
	c = &vx->ctx[vx->fill[vx->nfill - 1]];
	/* Only while every datagram so far is whole seg_size: the kernel
	 * cuts at seg_size, so a shorter one must be the last. */
	if (c->remote != remote || c->sock != sock || dlen > c->seg_size ||
	    c->len != c->segs * c->seg_size || !gso_ok__(vx, c->seg_size) ||
	    c->segs + 1 > ub_vxlan_gso_batch(c->seg_size) ||
	    c->len + dlen > VX_CTX_BYTES)
		return NULL;
	return c;
}

static struct vx_ctx *ctx_free__(struct vxlan *vx, uint32_t *idx)
{
	for (uint32_t k = 0; k < VX_CTXS; k++) {
		uint32_t i = (vx->ctx_next + k) % VX_CTXS;
		struct vx_ctx *c = &vx->ctx[i];

		if (!c->filling && !c->sends) {
			vx->ctx_next = (i + 1) % VX_CTXS;
			*idx = i;
			return c;
		}
	}
	return NULL;
}

static int vx_tx_put(struct ub_port_io *p, const struct ub_frame *f,
		     uint32_t remote)
{
	struct vxlan *vx = p->priv;
	const struct virtio_net_hdr *vh = (const void *)f->data;
	uint32_t copies, sock, idx;
	struct ub_vxlan_out out;
	enum ub_vxlan_tx why;
	struct vx_ctx *c;
	uint16_t sport;

	if (remote && (remote > UB_VXLAN_REMOTES_MAX ||
		       vx->remote[remote].state != VX_R_LIVE)) {
		/* Forgotten while its FDB entries are being flushed. */
		remote = 0;
	}
	copies = remote ? 1 : vx->nflood;
	if (!copies) {
		vx->counts[VX_C_NO_REMOTE]++;
		return -EPROTO;
	}
	if (f->len < UB_VNET_HLEN + UB_ETH_HLEN) {
		vx->tx_drops[UB_VXLAN_TX_SHORT]++;
		return -EPROTO;
	}
	sport = ub_vxlan_src_port(ub_frame_eth(f), ub_frame_eth_len(f),
				  vx->cfg.sport_min, vx->cfg.sport_max,
				  vx->secret);
	sock = vx->nsock == 1 ? 0 :
	       (uint32_t)(sport - vx->cfg.sport_min) * (vx->nsock - 1) /
			       ((uint32_t)vx->cfg.sport_max -
				vx->cfg.sport_min + 1) + 1;
	c = NULL;
	if (vh->gso_type == VIRTIO_NET_HDR_GSO_NONE)
		c = ctx_join__(vx, ub_frame_eth_len(f) + UB_VXLAN_HLEN, remote,
			       sock);
	if (c) {
		/* One more datagram in the same sends. */
		why = ub_vxlan_encap(f->data, f->len, vx->cfg.vni,
				     c->data + c->len, VX_CTX_BYTES - c->len,
				     &out);
		if (why != UB_VXLAN_TX_OK) {
			vx->tx_drops[why]++;
			return -EPROTO;
		}
		c->len += out.len;
		c->segs++;
		return 0;
	}
	if (vx->nfill == VX_CTXS || !(c = ctx_free__(vx, &idx)))
		return -ENOBUFS;
	why = ub_vxlan_encap(f->data, f->len, vx->cfg.vni, c->data,
			     VX_CTX_BYTES, &out);
	if (why != UB_VXLAN_TX_OK) {
		vx->tx_drops[why]++;
		return -EPROTO;
	}
	c->len = out.len;
	c->segs = out.segs;
	c->seg_size = out.segs > 1 ? out.seg_size : out.len;
	c->remote = remote;
	c->sock = sock;
	if (vx->sends_owed + ctx_sends__(vx, c) * copies > vx->nsend_free)
		return -ENOBUFS;
	c->filling = true;
	vx->sends_owed += ctx_sends__(vx, c) * copies;
	vx->fill[vx->nfill++] = idx;
	return 0;
}

/* Queues one sendmsg of data[0..len) to 'to', cut at 'seg_size' (0: one
 * datagram). */
static int send_one__(struct ub_ring *ring, struct vxlan *vx, uint32_t ctx,
		      const struct ub_vxlan_ip *to, const uint8_t *data,
		      uint32_t len,
		      uint32_t seg_size, uint64_t ud)
{
	uint32_t i = vx->send_free[--vx->nsend_free];
	struct vx_send *s = &vx->send[i];
	struct cmsghdr *cm;
	int ret;

	memset(&s->msg, 0, sizeof(s->msg));
	s->iov = (struct iovec){ .iov_base = (void *)data, .iov_len = len };
	s->msg.msg_name = &s->to;
	s->msg.msg_namelen = sockaddr_of__(to, vx->cfg.dstport, &s->to);
	s->msg.msg_iov = &s->iov;
	s->msg.msg_iovlen = 1;
	if (seg_size && seg_size < len) {
		s->msg.msg_control = s->cm;
		s->msg.msg_controllen = CMSG_SPACE(sizeof(uint16_t));
		cm = CMSG_FIRSTHDR(&s->msg);
		cm->cmsg_level = SOL_UDP;
		cm->cmsg_type = UDP_SEGMENT;
		cm->cmsg_len = CMSG_LEN(sizeof(uint16_t));
		*(uint16_t *)(void *)CMSG_DATA(cm) = (uint16_t)seg_size;
	}
	s->ctx = ctx;
	ret = ub_ring_sendmsg__(ring, vx->sock[vx->ctx[ctx].sock], &s->msg,
				(ud & ~0xffffffffULL) | i);
	if (ret)
		vx->send_free[vx->nsend_free++] = i;
	return ret;
}

/* Queues one copy of context 'ci' to 'to'; returns the requests queued. */
static uint32_t ctx_send__(struct ub_ring *ring, struct vxlan *vx,
			   uint32_t ci, const struct ub_vxlan_ip *to, uint64_t ud)
{
	struct vx_ctx *c = &vx->ctx[ci];
	bool gso = c->segs > 1 && gso_ok__(vx, c->seg_size);
	uint32_t step = gso ? ub_vxlan_gso_batch(c->seg_size) : 1, n = 0;

	for (uint32_t seg = 0; seg < c->segs; seg += step) {
		uint32_t off = seg * c->seg_size;
		uint32_t end = seg + step >= c->segs ?
				       c->len : (seg + step) * c->seg_size;

		if (send_one__(ring, vx, ci, to, c->data + off, end - off,
			       gso ? c->seg_size : 0, ud))
			break;
		n++;
	}
	return n;
}

static int vx_tx_flush(struct ub_ring *ring, struct ub_port_io *p,
		       uint64_t ud)
{
	struct vxlan *vx = p->priv;
	uint32_t n = 0, had = vx->nfill;

	for (uint32_t f = 0; f < vx->nfill; f++) {
		uint32_t ci = vx->fill[f];
		struct vx_ctx *c = &vx->ctx[ci];
		uint32_t sent = 0;

		if (c->remote) {
			sent = ctx_send__(ring, vx, ci, &vx->remote[c->remote].ip,
					  ud);
		} else {
			for (uint32_t k = 0; k < vx->nflood; k++)
				sent += ctx_send__(ring, vx, ci,
						   &vx->remote[vx->flood[k]].ip,
						   ud);
		}
		c->filling = false;
		c->sends = sent;
		n += sent;
	}
	vx->nfill = 0;
	vx->sends_owed = 0;
	/* Nothing could be queued (the submission queue is full): the
	 * frames are lost, and counted by the caller. */
	return n || !had ? (int)n : -EBUSY;
}

static void vx_tx_flushed(struct ub_port_io *p, uint32_t aux, int res)
{
	struct vxlan *vx = p->priv;

	vx->ctx[vx->send[aux].ctx].sends--;
	vx->send_free[vx->nsend_free++] = aux;
}

/* Datagrams the kernel dropped at the receiving socket (its queue was
 * full) since the last call: the socket's drop count. */
static uint64_t vx_rx_dropped(struct ub_port_io *p)
{
	struct vxlan *vx = p->priv;
	uint32_t info[SK_MEMINFO_VARS] = { 0 }, before = vx->sk_drops;
	socklen_t len = sizeof(info);

	if (getsockopt(p->fd, SOL_SOCKET, SO_MEMINFO, info, &len) ||
	    len <= SK_MEMINFO_DROPS * sizeof(info[0]))
		return 0;
	vx->sk_drops = info[SK_MEMINFO_DROPS];
	return (uint32_t)(vx->sk_drops - before);
}

static uint32_t vx_counters(const struct ub_port_io *p,
			    struct ub_port_counter *out, uint32_t max)
{
	const struct vxlan *vx = p->priv;
	uint32_t n = 0;

	for (int r = 1; r < UB_VXLAN_RX__COUNT && n < max; r++)
		out[n++] = (struct ub_port_counter){
			ub_vxlan_rx_name((enum ub_vxlan_rx)r), vx->rx_drops[r] };
	for (int t = 1; t < UB_VXLAN_TX__COUNT && n < max; t++)
		out[n++] = (struct ub_port_counter){
			ub_vxlan_tx_name((enum ub_vxlan_tx)t), vx->tx_drops[t] };
	for (int k = 0; k < VX_C__COUNT && n < max; k++)
		out[n++] = (struct ub_port_counter){ vx_count_names[k],
						     vx->counts[k] };
	return n;
}

const struct ub_port_ops ub_port_vxlan_ops = {
	.kind = "vxlan",
	.flags = UB_PORT_F_NO_DEVICE,
	.open = vx_open,
	.close = vx_close,
	.attach = vx_attach,
	.detach = vx_detach,
	.arm_rx = vx_arm_rx,
	.rx_frame = vx_rx_frame,
	.rx_next = vx_rx_next,
	.rx_held = vx_rx_held,
	.tx_put = vx_tx_put,
	.tx_flush = vx_tx_flush,
	.tx_flushed = vx_tx_flushed,
	.counters = vx_counters,
	.rx_dropped = vx_rx_dropped,
	.remote_fmt = vx_remote_fmt,
};
