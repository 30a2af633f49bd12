/* SPDX-License-Identifier: MIT */
/*
 * AF_PACKET ports, in two back ends that share the socket set-up, the
 * send and the VLAN re-insertion: ub_port_packet_ops receives with a
 * multishot recvmsg into the pool, ub_port_packet_ring_ops through a
 * TPACKET_V2 ring (see the second half of this file).
 *
 * One SOCK_RAW packet socket per port, bound to the interface with
 * ETH_P_ALL, with:
 * - PACKET_VNET_HDR: frames come and go with a virtio-net header, so
 *   partial checksums and GSO super-frames cross the bridge intact and the
 *   egress (or the receiving stack) finishes them;
 * - PACKET_AUXDATA: the VLAN tag the kernel took out of the frame comes
 *   back as metadata, and is put back into the frame here;
 * - PACKET_IGNORE_OUTGOING: the socket does not see what the bridge (or
 *   anything else on the host) sends out of the interface, so the bridge
 *   never learns or loops its own transmits;
 * - promiscuous membership, for interfaces that filter by destination.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <linux/if_packet.h>
#include <linux/if_ether.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <endian.h>

#include <liburing.h>

#include <ubridge/compiler.h>
#include "io_private.h"

/* Socket buffers deep enough to ride out a burst while the loop works. */
#define UB_PACKET_SOCKBUF (4 << 20)

/* What each receive lays out in front of the frame: no address, the
 * auxdata control message. The area also gives the room to re-insert a
 * VLAN tag in place. */
static struct msghdr rx_tmpl = {
	.msg_controllen = CMSG_SPACE(sizeof(struct tpacket_auxdata)),
};

static int setopt__(int fd, int level, int name, int val)
{
	return setsockopt(fd, level, name, &val, sizeof(val)) ? -errno : 0;
}

/* The FORCE variant lifts the sysctl cap; fall back when refused. */
static void packet_sndbuf__(int fd)
{
	if (setopt__(fd, SOL_SOCKET, SO_SNDBUFFORCE, UB_PACKET_SOCKBUF))
		setopt__(fd, SOL_SOCKET, SO_SNDBUF, UB_PACKET_SOCKBUF);
}

/*
 * The port's socket with the options both back ends share, not yet bound:
 * with protocol 0 nothing arrives until packet_bind__(), so a ring can be
 * set up first.
 */
static int packet_socket__(const char *ifname, struct ub_port_io *p)
{
	int fd, ret, ifindex;

	if (strlen(ifname) >= IFNAMSIZ)
		return -ENAMETOOLONG;
	/* It needs a socket of its own: out of descriptors is no ENODEV. */
	errno = 0;
	ifindex = (int)if_nametoindex(ifname);
	if (!ifindex)
		return errno && errno != ENODEV ? -errno : -ENODEV;
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if ((ret = setopt__(fd, SOL_PACKET, PACKET_VNET_HDR, 1)) ||
	    (ret = setopt__(fd, SOL_PACKET, PACKET_AUXDATA, 1)) ||
	    (ret = setopt__(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, 1)))
		goto err;
	/* The FORCE variants lift the sysctl caps; fall back when refused. */
	if (setopt__(fd, SOL_SOCKET, SO_RCVBUFFORCE, UB_PACKET_SOCKBUF))
		setopt__(fd, SOL_SOCKET, SO_RCVBUF, UB_PACKET_SOCKBUF);
	packet_sndbuf__(fd);
	ret = ub_if_query__(fd, ifname, &p->mtu, &p->mac);
	if (ret)
		goto err;
	p->fd = fd;
	p->ifindex = ifindex;
	return 0;
err:
	close(fd);
	return ret;
}

/* Binds the socket to its interface for every protocol, promiscuous. */
static int packet_bind__(struct ub_port_io *p)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET };
	struct packet_mreq mr = { .mr_type = PACKET_MR_PROMISC };

	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = p->ifindex;
	if (bind(p->fd, (struct sockaddr *)&sll, sizeof(sll)))
		return -errno;
	mr.mr_ifindex = p->ifindex;
	if (setsockopt(p->fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr,
		       sizeof(mr)))
		return -errno;
	return 0;
}

static int packet_open(const char *ifname, struct ub_port_io *p)
{
	int ret = packet_socket__(ifname, p);

	if (ret)
		return ret;
	ret = packet_bind__(p);
	if (ret)
		ub_port_close_fd__(p);
	return ret;
}

void ub_port_close_fd__(struct ub_port_io *p)
{
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
}

static int packet_arm_rx(struct ub_ring *ring, struct ub_port_io *p,
			 uint64_t ud)
{
	return ub_ring_recvmsg_pool__(ring, p->fd, &rx_tmpl, ud);
}

/*
 * Puts a VLAN tag back between the source MAC and the EtherType. The
 * virtio-net header and both MACs move 4 bytes towards the buffer's start,
 * into the control area already read; offsets in the header that count
 * from the frame's start grow by the tag.
 */
static void vlan_insert__(struct ub_frame *f, uint16_t tpid, uint16_t tci)
{
	struct virtio_net_hdr *vh;
	uint8_t *tag;

	memmove(f->data - UB_VLAN_HLEN, f->data, UB_VNET_HLEN + 2 * UB_ETH_ALEN);
	f->data -= UB_VLAN_HLEN;
	f->len += UB_VLAN_HLEN;
	tag = f->data + UB_VNET_HLEN + 2 * UB_ETH_ALEN;
	tag[0] = tpid >> 8;
	tag[1] = tpid & 0xff;
	tag[2] = tci >> 8;
	tag[3] = tci & 0xff;

	vh = (struct virtio_net_hdr *)f->data;
	if (vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)
		vh->csum_start = htole16(le16toh(vh->csum_start) + UB_VLAN_HLEN);
	if (vh->gso_type != VIRTIO_NET_HDR_GSO_NONE && vh->hdr_len)
		vh->hdr_len = htole16(le16toh(vh->hdr_len) + UB_VLAN_HLEN);
}

static enum ub_rx_status packet_rx_frame(struct ub_ring *ring, int res,
					 uint16_t bid, struct ub_frame *f)
{
	struct io_uring_recvmsg_out *o;
	struct tpacket_auxdata aux;
	uint16_t tpid = 0, tci = 0;
	struct cmsghdr *c;
	bool tagged = false;

	o = io_uring_recvmsg_validate(ub_ring_buf(ring, bid), res, &rx_tmpl);
	if (!o)
		return UB_RX_MALFORMED;
	if (o->flags & MSG_TRUNC)
		return UB_RX_TRUNCATED;
	f->data = io_uring_recvmsg_payload(o, &rx_tmpl);
	f->len = io_uring_recvmsg_payload_length(o, res, &rx_tmpl);
	if (f->len < UB_VNET_HLEN + 2 * UB_ETH_ALEN)
		return UB_RX_MALFORMED;

	for (c = io_uring_recvmsg_cmsg_firsthdr(o, &rx_tmpl); c;
	     c = io_uring_recvmsg_cmsg_nexthdr(o, &rx_tmpl, c)) {
		if (c->cmsg_level != SOL_PACKET || c->cmsg_type != PACKET_AUXDATA ||
		    c->cmsg_len < CMSG_LEN(sizeof(aux)))
			continue;
		memcpy(&aux, CMSG_DATA(c), sizeof(aux));
		tagged = aux.tp_status & TP_STATUS_VLAN_VALID;
		tci = aux.tp_vlan_tci;
		tpid = aux.tp_status & TP_STATUS_VLAN_TPID_VALID ?
			       aux.tp_vlan_tpid : UB_ETH_P_8021Q;
	}
	if (tagged)
		vlan_insert__(f, tpid, tci);
	return UB_RX_OK;
}

static int packet_send(struct ub_ring *ring, struct ub_port_io *p,
		       const struct ub_frame *f, uint64_t ud)
{
	return ub_ring_send(ring, p->fd, f->data, f->len, ud);
}

static uint64_t packet_rx_dropped(struct ub_port_io *p)
{
	struct tpacket_stats st;
	socklen_t len = sizeof(st);

	/* Reading the statistics resets them: each call gives the news. */
	if (getsockopt(p->fd, SOL_PACKET, PACKET_STATISTICS, &st, &len))
		return 0;
	return st.tp_drops;
}

const struct ub_port_ops ub_port_packet_ops = {
	.kind = "packet",
	.open = packet_open,
	.close = ub_port_close_fd__,
	.arm_rx = packet_arm_rx,
	.rx_frame = packet_rx_frame,
	.send = packet_send,
	.rx_dropped = packet_rx_dropped,
};

/* ---- the TPACKET_V2 ring back end ----
 *
 * Why V2 and not V3: a V3 block reaches user space only when it is full or
 * its timer (1 ms at the least) runs out, which would put a millisecond
 * into every round trip at low rates; V2 hands over each frame as soon as
 * it is written. V3's variable-sized frames would have suited GSO frames
 * better; V2 solves those with PACKET_COPY_THRESH instead (below).
 *
 * The kernel (tpacket_rcv, in the softirq of whoever sent the frame: the
 * sender's CPU for a veth) writes each frame into the next ring slot
 * with its virtio-net header in front (PACKET_VNET_HDR works with RX
 * rings since Linux 5.8) and VLAN metadata in the slot's header, then
 * flips the slot to TP_STATUS_USER. We forward straight from the slot; the
 * slot is a buffer of this port's area, and goes back to the kernel
 * (TP_STATUS_KERNEL) when its last send completed. The kernel fills slots
 * strictly in turn, so a slot held by a slow send stops the ring there:
 * frames are then dropped by the kernel and counted in tp_drops
 * (rx_drop_queue), as with a full socket queue.
 *
 * Slots are sized for the port's MTU. A larger frame (a 64 KiB GSO frame,
 * or a frame over the MTU) is written truncated and flagged
 * TP_STATUS_COPY, and PACKET_COPY_THRESH has the kernel queue the whole
 * frame on the socket as well: we read it from there with recv() into one
 * of a few large "spill" buffers (also in the area), in ring order, so
 * frames are never reordered.
 */

/* Ring memory per port (allocated by the kernel, resident): p->ring_bytes
 * for the RX ring, a quarter of that for the TX ring; at least this many
 * slots in either. */
#define UB_PRING_FRAMES_MIN 64U
/* Where tpacket_snd reads a TX slot's data (no PACKET_TX_HAS_OFF): right
 * after the aligned slot header. */
#define UB_PRING_TX_DATA (TPACKET2_HDRLEN - sizeof(struct sockaddr_ll))
/* Large buffers per port for frames that do not fit a slot. */
#define UB_PRING_SPILL 8U
/* Room in front of a spilled frame for a VLAN tag to go back in. */
#define UB_PRING_HEADROOM 64U

struct pring {
	uint8_t *map;       /* the RX ring, frame i at i * frame_size */
	size_t map_len;     /* the RX ring, then the TX ring if any */
	uint8_t *spill;     /* UB_PRING_SPILL buffers of UB_BUF_SIZE */
	uint32_t frame_size;
	uint32_t nframes;
	uint32_t head;      /* next slot to look at */
	uint32_t area;      /* slots 0..nframes-1, then the spill buffers */
	/* The TX ring (ub_port_packet_rings_ops; tx_nframes 0: none), in the
	 * same mapping after the RX ring, with slots of the same size. */
	uint8_t *tx;
	uint32_t tx_nframes;
	uint32_t tx_head;   /* next slot to fill */
	int tx_fd;          /* sends of frames the TX ring cannot take; -1 */
};

static struct tpacket2_hdr *pring_slot__(const struct pring *r, uint32_t i)
{
	return (struct tpacket2_hdr *)(r->map + (size_t)i * r->frame_size);
}

static struct tpacket2_hdr *pring_tx_slot__(const struct pring *r, uint32_t i)
{
	return (struct tpacket2_hdr *)(r->tx + (size_t)i * r->frame_size);
}

static void pring_release__(void *arg, uint32_t idx)
{
	struct pring *r = arg;

	/* A spill buffer is free once unreferenced; a slot goes back to the
	 * kernel, after our last read of it. */
	if (idx < r->nframes)
		__atomic_store_n(&pring_slot__(r, idx)->tp_status,
				 TP_STATUS_KERNEL, __ATOMIC_RELEASE);
}

/*
 * Slot size for an MTU: what tpacket_rcv puts in front of the frame
 * (header, address, alignment, virtio-net header: under 96 bytes for an
 * Ethernet header) plus the frame with one tag left in it. A power of two
 * up to a page, whole pages beyond, so a block holds whole slots.
 */
static uint32_t pring_frame_size__(uint32_t mtu)
{
	uint32_t need = 96 + UB_VNET_HLEN + UB_ETH_HLEN + UB_VLAN_HLEN + mtu;
	uint32_t size = TPACKET_ALIGNMENT;
	long page = sysconf(_SC_PAGESIZE);

	if (need > (uint32_t)page)
		return (need + (uint32_t)page - 1) / (uint32_t)page * (uint32_t)page;
	while (size < need)
		size <<= 1;
	return size;
}

static void pring_free__(struct pring *r)
{
	if (r->map && r->map != MAP_FAILED)
		munmap(r->map, r->map_len);
	if (r->spill && r->spill != MAP_FAILED)
		munmap(r->spill, (size_t)UB_PRING_SPILL * UB_BUF_SIZE);
	if (r->tx_fd >= 0)
		close(r->tx_fd);
	free(r);
}

/*
 * The socket for the frames the TX ring cannot take: on a socket with a
 * TX ring every send() is tpacket_snd, which sends the ring's slots and
 * ignores the data it was given. Bound with protocol 0, it receives
 * nothing.
 */
static int pring_tx_socket__(const struct ub_port_io *p)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET };
	int fd, ret;

	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	ret = setopt__(fd, SOL_PACKET, PACKET_VNET_HDR, 1);
	sll.sll_ifindex = p->ifindex;
	if (!ret && bind(fd, (struct sockaddr *)&sll, sizeof(sll)))
		ret = -errno;
	if (ret) {
		close(fd);
		return ret;
	}
	packet_sndbuf__(fd);
	return fd;
}

/*
 * The geometry of a ring of about 'bytes' with slots of 'frame_size':
 * blocks of about 64 KiB holding whole slots, or one large slot each, so
 * slot i is at i * frame_size; at least UB_PRING_FRAMES_MIN slots, and no
 * more than an area holds besides the spill buffers.
 */
static uint32_t pring_req__(uint32_t frame_size, uint32_t bytes,
			    struct tpacket_req *req)
{
	uint32_t per_block, min_blocks, max_blocks;

	req->tp_frame_size = frame_size;
	req->tp_block_size = frame_size < (64U << 10) ?
		(64U << 10) / frame_size * frame_size : frame_size;
	per_block = req->tp_block_size / frame_size;
	/* Whole blocks: the kernel wants tp_frame_nr to be exactly what
	 * they hold. */
	min_blocks = (UB_PRING_FRAMES_MIN + per_block - 1) / per_block;
	max_blocks = (UB_AREA_BUFS_MAX - UB_PRING_SPILL) / per_block;
	req->tp_block_nr = bytes / req->tp_block_size;
	if (req->tp_block_nr < min_blocks)
		req->tp_block_nr = min_blocks;
	if (req->tp_block_nr > max_blocks)
		req->tp_block_nr = max_blocks;
	req->tp_frame_nr = req->tp_block_nr * per_block;
	return req->tp_frame_nr;
}

/* Sets up the RX ring, and the TX ring if 'tx', on the unbound socket of
 * 'p'. */
static int pring_setup__(struct ub_port_io *p, bool tx, struct pring **out)
{
	struct tpacket_req req = { 0 }, treq = { 0 };
	uint32_t bytes;
	size_t rx_len;
	struct pring *r;
	int ret;

	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->tx_fd = -1;
	r->frame_size = pring_frame_size__(p->mtu);
	bytes = p->ring_bytes ? p->ring_bytes : UB_RING_BYTES_DEFAULT;
	r->nframes = pring_req__(r->frame_size, bytes, &req);
	rx_len = (size_t)req.tp_block_nr * req.tp_block_size;
	r->map_len = rx_len;
	if (tx) {
		r->tx_nframes = pring_req__(r->frame_size, bytes / 4, &treq);
		r->map_len += (size_t)treq.tp_block_nr * treq.tp_block_size;
	}

	/* The version, the copy threshold and the loss mode, then the
	 * rings: the order the kernel asks for (the options are refused
	 * once a ring exists). PACKET_LOSS: a TX frame the kernel refuses
	 * is skipped (its slot comes back available) instead of stopping
	 * the TX ring for good at that slot. */
	if ((ret = setopt__(p->fd, SOL_PACKET, PACKET_VERSION, TPACKET_V2)) ||
	    (ret = setopt__(p->fd, SOL_PACKET, PACKET_COPY_THRESH, 1)) ||
	    (tx && (ret = setopt__(p->fd, SOL_PACKET, PACKET_LOSS, 1))))
		goto err;
	if (setsockopt(p->fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req)) ||
	    (tx && setsockopt(p->fd, SOL_PACKET, PACKET_TX_RING, &treq,
			      sizeof(treq)))) {
		ret = -errno;
		goto err;
	}
	/* One mapping for both rings, RX first: what the kernel expects. */
	r->map = mmap(NULL, r->map_len, PROT_READ | PROT_WRITE, MAP_SHARED,
		      p->fd, 0);
	r->spill = mmap(NULL, (size_t)UB_PRING_SPILL * UB_BUF_SIZE,
			PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (r->map == MAP_FAILED || r->spill == MAP_FAILED) {
		ret = -errno;
		goto err;
	}
	r->tx = r->map + rx_len;
	if (tx && (ret = r->tx_fd = pring_tx_socket__(p)) < 0)
		goto err;
	*out = r;
	return 0;
err:
	pring_free__(r);
	return ret;
}

static int pring_open__(const char *ifname, bool tx, struct ub_port_io *p)
{
	struct pring *r = NULL;
	int ret = packet_socket__(ifname, p);

	if (ret)
		return ret;
	if ((ret = pring_setup__(p, tx, &r)) || (ret = packet_bind__(p))) {
		if (r)
			pring_free__(r);
		ub_port_close_fd__(p);
		return ret;
	}
	p->priv = r;
	return 0;
}

static int pring_open(const char *ifname, struct ub_port_io *p)
{
	return pring_open__(ifname, false, p);
}

static int prings_open(const char *ifname, struct ub_port_io *p)
{
	return pring_open__(ifname, true, p);
}

/* The slots and spill buffers become an area of the receiving ring. */
static int pring_attach(struct ub_ring *ring, struct ub_port_io *p)
{
	struct pring *r = p->priv;

	return ub_ring_area_add__(ring, r->nframes + UB_PRING_SPILL,
				  pring_release__, r, &r->area);
}

static void pring_detach(struct ub_ring *ring, struct ub_port_io *p)
{
	struct pring *r = p->priv;

	ub_ring_area_del__(ring, r->area);
	r->area = 0;
}

static void pring_close(struct ub_port_io *p)
{
	/* The rings are unmapped first: a mapping holds the socket open,
	 * and the socket's release would otherwise wait for the munmap(). */
	if (p->priv)
		pring_free__(p->priv);
	p->priv = NULL;
	ub_port_close_fd__(p);
}

/* The ring needs no receive request, only a wake-up when it has frames. */
static int pring_arm_rx(struct ub_ring *ring, struct ub_port_io *p,
			uint64_t ud)
{
	return ub_ring_poll__(ring, p->fd, ud);
}

/* A spill buffer nobody references, or UINT32_MAX. */
static uint32_t pring_spill_free__(struct ub_ring *ring, const struct pring *r)
{
	for (uint32_t i = 0; i < UB_PRING_SPILL; i++)
		if (!ub_ring_buf_refs__(ring, ub_buf_handle__(r->area,
							      r->nframes + i)))
			return r->nframes + i;
	return UINT32_MAX;
}

/*
 * The whole of a frame the slot has only the start of: the next frame in
 * the socket queue, read into spill buffer 'idx'. The slot itself is done
 * with and goes back at once.
 */
static enum ub_rx_status pring_spill__(struct ub_ring *ring, struct pring *r,
				       int fd, uint32_t idx, uint32_t slot,
				       struct ub_frame *f)
{
	uint8_t *buf = r->spill + (size_t)(idx - r->nframes) * UB_BUF_SIZE;
	ssize_t n;

	n = recv(fd, buf + UB_PRING_HEADROOM, UB_BUF_SIZE - UB_PRING_HEADROOM,
		 MSG_DONTWAIT | MSG_TRUNC);
	if (n < 0)
		return UB_RX_MALFORMED; /* f->buf is still the slot */
	ub_ring_buf_put(ring, ub_buf_handle__(r->area, slot));
	f->buf = ub_buf_handle__(r->area, idx);
	f->data = buf + UB_PRING_HEADROOM;
	f->len = (uint32_t)n;
	if (n > (ssize_t)(UB_BUF_SIZE - UB_PRING_HEADROOM))
		return UB_RX_TRUNCATED;
	return f->len < UB_VNET_HLEN + 2 * UB_ETH_ALEN ? UB_RX_MALFORMED :
							 UB_RX_OK;
}

static enum ub_rx_status pring_rx_next(struct ub_ring *ring,
				       struct ub_port_io *p, struct ub_frame *f)
{
	struct pring *r = p->priv;
	uint32_t slot = r->head, status, spill = UINT32_MAX;
	struct tpacket2_hdr *h = pring_slot__(r, slot);
	uint16_t tpid, tci;
	enum ub_rx_status st;

	/* Acquire: the frame's bytes are read only after its status. A slot
	 * we took earlier whose sends are still out also says USER: it is
	 * held, and so the ring is empty from here. */
	status = __atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE);
	f->buf = ub_buf_handle__(r->area, slot);
	if (!(status & TP_STATUS_USER) || ub_ring_buf_refs__(ring, f->buf))
		return UB_RX_NONE;
	if (status & TP_STATUS_COPY) {
		spill = pring_spill_free__(ring, r);
		/* All in use: try again once sends have completed. */
		if (spill == UINT32_MAX)
			return UB_RX_NONE;
	}
	r->head = slot + 1 == r->nframes ? 0 : slot + 1;
	/* Read before a spill hands the slot back to the kernel. */
	tci = h->tp_vlan_tci;
	tpid = status & TP_STATUS_VLAN_TPID_VALID ? h->tp_vlan_tpid :
						    UB_ETH_P_8021Q;

	if (spill != UINT32_MAX) {
		st = pring_spill__(ring, r, p->fd, spill, slot, f);
	} else if (h->tp_snaplen < h->tp_len) {
		/* Too large for the slot, and the socket had no room for a
		 * copy. */
		st = UB_RX_TRUNCATED;
	} else if (h->tp_mac < TPACKET2_HDRLEN + UB_VNET_HLEN + UB_VLAN_HLEN ||
		   h->tp_mac + h->tp_snaplen > r->frame_size ||
		   h->tp_snaplen < 2 * UB_ETH_ALEN) {
		st = UB_RX_MALFORMED;
	} else {
		f->data = (uint8_t *)h + h->tp_mac - UB_VNET_HLEN;
		f->len = h->tp_snaplen + UB_VNET_HLEN;
		st = UB_RX_OK;
	}
	if (st == UB_RX_OK && (status & TP_STATUS_VLAN_VALID))
		vlan_insert__(f, tpid, tci);
	return st;
}

static uint32_t pring_rx_held(struct ub_ring *ring, struct ub_port_io *p)
{
	const struct pring *r = p->priv;

	return ub_ring_area_held__(ring, r->area);
}

const struct ub_port_ops ub_port_packet_ring_ops = {
	.kind = "packet-ring",
	.flags = UB_PORT_F_POLLED,
	.open = pring_open,
	.attach = pring_attach,
	.detach = pring_detach,
	.close = pring_close,
	.arm_rx = pring_arm_rx,
	.rx_next = pring_rx_next,
	.rx_held = pring_rx_held,
	.send = packet_send,
	.rx_dropped = packet_rx_dropped,
};

/* ---- the TX ring ----
 *
 * ub_port_packet_rings_ops adds a PACKET_TX_RING to the RX ring: a frame
 * to send is copied, virtio-net header first, into the next free slot
 * (the copy is cheap here: the frame is still in this CPU's cache from
 * pass 1), and one send with no data (tpacket_snd) hands the kernel every
 * slot filled since the last one. The kernel turns each slot into an skb
 * (PACKET_VNET_HDR works with TX rings: the checksum and GSO state go
 * along) and sets it available again once the skb is done with it, for a
 * veth as soon as the peer took it. Frames larger than a slot, and frames
 * over the MTU that are not GSO frames (so that the kernel's verdict on
 * them stays the send's EMSGSIZE), are left to send(), through a second
 * socket (see pring_tx_socket__()); the caller flushes the ring before
 * such a send, and both go out in the order they were queued.
 */

/* A slot the kernel has neither to send nor is sending. */
static bool pring_tx_free__(uint32_t status)
{
	return !(status & (TP_STATUS_SEND_REQUEST | TP_STATUS_SENDING |
			   TP_STATUS_WRONG_FORMAT));
}

static int prings_tx_put(struct ub_port_io *p, const struct ub_frame *f)
{
	struct pring *r = p->priv;
	struct tpacket2_hdr *h = pring_tx_slot__(r, r->tx_head);
	const struct virtio_net_hdr *vh = (const void *)f->data;
	uint8_t *slot;

	if (f->len > r->frame_size - UB_PRING_TX_DATA ||
	    (vh->gso_type == VIRTIO_NET_HDR_GSO_NONE &&
	     ub_frame_eth_len(f) > p->mtu + UB_ETH_HLEN + UB_VLAN_HLEN))
		return -EMSGSIZE;
	/* Acquire: the kernel's last read of the slot is over. */
	if (!pring_tx_free__(__atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE)))
		return -ENOBUFS;
	slot = (uint8_t *)h + UB_PRING_TX_DATA;
	memcpy(slot, f->data, f->len);
	/* tpacket_snd copies hdr_len bytes into the skb and attaches the
	 * rest as pages of the ring, marked zero-copy, which a veth then
	 * copies into freshly allocated pages (skb_copy_ubufs). For a frame
	 * that is no GSO frame hdr_len means nothing further on: making it
	 * the whole frame puts it in the skb's head at once. */
	if (vh->gso_type == VIRTIO_NET_HDR_GSO_NONE)
		((struct virtio_net_hdr *)slot)->hdr_len =
			htole16((uint16_t)ub_frame_eth_len(f));
	h->tp_len = f->len;
	__atomic_store_n(&h->tp_status, TP_STATUS_SEND_REQUEST,
			 __ATOMIC_RELEASE);
	r->tx_head = r->tx_head + 1 == r->tx_nframes ? 0 : r->tx_head + 1;
	return 0;
}

static int prings_tx_flush(struct ub_ring *ring, struct ub_port_io *p,
			   uint64_t ud)
{
	return ub_ring_send(ring, p->fd, NULL, 0, ud);
}

/* A frame the TX ring does not take, through the port's second socket. */
static int prings_send(struct ub_ring *ring, struct ub_port_io *p,
		       const struct ub_frame *f, uint64_t ud)
{
	const struct pring *r = p->priv;

	return ub_ring_send(ring, r->tx_fd, f->data, f->len, ud);
}

const struct ub_port_ops ub_port_packet_rings_ops = {
	.kind = "packet-rings",
	.flags = UB_PORT_F_POLLED,
	.open = prings_open,
	.attach = pring_attach,
	.detach = pring_detach,
	.close = pring_close,
	.arm_rx = pring_arm_rx,
	.rx_next = pring_rx_next,
	.rx_held = pring_rx_held,
	.send = prings_send,
	.tx_put = prings_tx_put,
	.tx_flush = prings_tx_flush,
	.rx_dropped = packet_rx_dropped,
};
