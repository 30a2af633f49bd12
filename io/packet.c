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
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <linux/filter.h>
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

/* A socket with the options both back ends share, not yet bound: with
 * protocol 0 nothing arrives until packet_bind__(), so a ring can be set
 * up first. */
static int packet_fd__(void)
{
	int fd, ret;

	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if ((ret = setopt__(fd, SOL_PACKET, PACKET_VNET_HDR, 1)) ||
	    (ret = setopt__(fd, SOL_PACKET, PACKET_AUXDATA, 1)) ||
	    (ret = setopt__(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, 1))) {
		close(fd);
		return ret;
	}
	/* The FORCE variants lift the sysctl caps; fall back when refused. */
	if (setopt__(fd, SOL_SOCKET, SO_RCVBUFFORCE, UB_PACKET_SOCKBUF))
		setopt__(fd, SOL_SOCKET, SO_RCVBUF, UB_PACKET_SOCKBUF);
	packet_sndbuf__(fd);
	return fd;
}

/* The port's first socket, on interface 'ifname', whose MTU and MAC it
 * reads into 'p'. */
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
	fd = packet_fd__();
	if (fd < 0)
		return fd;
	ret = ub_if_query__(fd, ifname, &p->mtu, &p->mac);
	if (ret) {
		close(fd);
		return ret;
	}
	p->fd = fd;
	p->ifindex = ifindex;
	return 0;
}

/* Binds socket 'fd' to interface 'ifindex' for every protocol,
 * promiscuous. */
static int packet_bind__(int fd, int ifindex)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET };
	struct packet_mreq mr = { .mr_type = PACKET_MR_PROMISC };

	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = ifindex;
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)))
		return -errno;
	mr.mr_ifindex = ifindex;
	if (setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr)))
		return -errno;
	return 0;
}

static int packet_open(const char *ifname, struct ub_port_io *p)
{
	int ret = packet_socket__(ifname, p);

	if (ret)
		return ret;
	ret = packet_bind__(p->fd, p->ifindex);
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

static enum ub_rx_status packet_rx_frame(struct ub_ring *ring,
					 struct ub_port_io *p, int res,
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

/* Frames the kernel dropped for socket 'fd' since the last call:
 * reading the statistics resets them. */
static uint64_t packet_drops__(int fd)
{
	struct tpacket_stats st;
	socklen_t len = sizeof(st);

	if (getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &st, &len))
		return 0;
	return st.tp_drops;
}

static uint64_t packet_rx_dropped(struct ub_port_io *p)
{
	return packet_drops__(p->fd);
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
 *
 * A ring that follows the traffic. The kernel allocates a ring whole, and
 * it stays resident: 4 MiB per port would be 4 GiB for a thousand idle
 * containers. So a port starts with an idle ring of tiny slots
 * (UB_PRING_IDLE_SLOT), p->ring_idle_bytes of them: as many slots as the
 * full ring has, so a burst of as many frames fits, but any frame larger
 * than an ARP request spills as above, and waits in the socket queue,
 * whose memory comes and goes with the frames. When the idle ring is
 * found half full or spills often, the port moves to its full ring
 * (slots for its MTU, p->ring_bytes); after UB_PRING_QUIET_MS of little
 * traffic it moves back.
 *
 * A move replaces the receiving socket, without losing or reordering a
 * frame. The port's socket is in a fanout group of its own
 * (PACKET_FANOUT_CBPF) whose program sends every frame to exactly one
 * member: "return 0" while it is alone or the first. The new socket is
 * made with its ring and a filter that drops everything, bound, joined to
 * the group (second), and unfiltered; then the program becomes "return
 * 1", and once that setsockopt() returns (the kernel waited for a grace
 * period) no frame goes to the old ring any more. The worker reads the
 * old ring to its end, then only the new one, and the old socket closes
 * once its slots are back and no request of the worker's holds it (sends
 * have a socket of their own, and the wake-up moved): a socket a request
 * holds is released only when the request ends, and would stay in the
 * group until then. The program goes back to "return 0" for the next
 * move: the new socket is first once the old one left. The slow
 * steps (sockets, rings, grace periods) run in the control thread without
 * the bridge lock (rx_upkeep_*), beside the data path.
 *
 * A port attached while its link was down joins its group once the link
 * is up (a socket that is not running cannot join), at upkeep's next
 * look: a frame arriving in that very instant may be missed. Kernels
 * before 6.2 cannot
 * keep a group from seeing the bridge's own transmits
 * (PACKET_FANOUT_FLAG_IGNORE_OUTGOING), so there the full ring is
 * allocated at once, as is with --ring-idle 0.
 */

/* At least this many slots in a ring. */
#define UB_PRING_FRAMES_MIN 64U
/* Where tpacket_snd reads a TX slot's data (no PACKET_TX_HAS_OFF): right
 * after the aligned slot header. */
#define UB_PRING_TX_DATA (TPACKET2_HDRLEN - sizeof(struct sockaddr_ll))
/* Large buffers per ring for frames that do not fit a slot. */
#define UB_PRING_SPILL 8U
/* Room in front of a spilled frame for a VLAN tag to go back in. */
#define UB_PRING_HEADROOM 64U
/* The idle ring's slots: room for 52 bytes of a frame after what
 * tpacket_rcv puts in front (76 bytes with the virtio-net header). */
#define UB_PRING_IDLE_SLOT 128U
/* The idle ring moves to the full one at this many spills between two
 * looks of upkeep (a second or less apart), or when it is half full. */
#define UB_PRING_GROW_SPILLS 256U
/* The full ring moves back after this long below UB_PRING_QUIET_FPS
 * frames a second. */
#define UB_PRING_QUIET_MS 30000U
#define UB_PRING_QUIET_FPS 100U
/* Upkeep counts traffic at most this often. */
#define UB_PRING_LOOK_MS 1000U
/* After a move failed, the next try waits this long. */
#define UB_PRING_RETRY_MS 10000U
#ifndef PACKET_FANOUT_FLAG_IGNORE_OUTGOING
#define PACKET_FANOUT_FLAG_IGNORE_OUTGOING 0x4000 /* Linux 6.2 */
#endif
#define UB_PRING_FANOUT (PACKET_FANOUT_CBPF | PACKET_FANOUT_FLAG_IGNORE_OUTGOING)

/* One receiving socket with its RX ring; its slots and spill buffers are
 * one area of the worker's ring. */
struct prx {
	int fd;
	uint8_t *map;       /* the ring, slot i at i * frame_size */
	uint8_t *spill;     /* UB_PRING_SPILL buffers of UB_BUF_SIZE */
	struct tpacket_req req;
	uint32_t frame_size;
	uint32_t nframes;
	uint32_t head;      /* next slot to look at */
	uint32_t area;      /* slots 0..nframes-1, then the spill buffers */
	bool idle;          /* the idle ring */
};

enum pring_job { PRING_JOB_NONE, PRING_JOB_OPEN, PRING_JOB_CLOSE };

struct pring {
	/* Frames are read from 'cur'; 'next' (a move's new ring) once cur
	 * is drained; 'old' (the ring before cur) closes once none of its
	 * buffers is referenced. */
	struct prx *cur, *next, *old;
	/* The worker's news for upkeep. */
	uint32_t spills;      /* of an idle ring, since upkeep's last look */
	uint64_t frames;      /* taken, all rings together */
	bool crowded;         /* an idle ring was seen half full */
	/* Upkeep's own. */
	bool moves;           /* false: the ring never changes */
	uint32_t idle_bytes, full_bytes, full_slot;
	uint64_t look_ms;     /* its last look at the counts */
	uint64_t frames_seen; /* 'frames' then */
	uint64_t busy_ms;     /* the last look with more than a trickle */
	uint64_t retry_ms;    /* no move before this */
	uint64_t drops;       /* of rings closed, not yet reported */
	bool grouped;         /* the fanout group exists; its id: */
	uint16_t group;
	/* A move's slow step, between rx_upkeep_begin and _end. */
	enum pring_job job;
	struct prx *job_rx;   /* the ring it makes, or closes */
	int job_fd;           /* cur's socket */
	uint64_t job_ms;      /* when it began */
	int job_err;
	/* The socket polled for frames: until the wake-up moved to the next
	 * ring, the old one is still in a request of the worker's. */
	const struct prx *polled;
	/* Plain sends go through a socket of their own, so that none of the
	 * worker's requests holds a receiving socket that closes (a socket
	 * closed while a request holds it is released later: until then it
	 * stays in the fanout group, and gets frames). */
	int send_fd;
	/* The TX ring (ub_port_packet_rings_ops; tx_nframes 0: none), on a
	 * sending socket of its own that stays while RX rings come and go. */
	int tx_fd;
	uint8_t *tx;
	size_t tx_len;
	uint32_t tx_nframes;
	uint32_t tx_head;     /* next slot to fill */
	/* ub_port_packet_xdp_ops: the AF_XDP socket beside the ring, and
	 * which of the two rx_next looks at first. */
	struct ub_xsk *xsk;
	bool xsk_second;
};

static struct tpacket2_hdr *prx_slot__(const struct prx *c, uint32_t i)
{
	return (struct tpacket2_hdr *)(c->map + (size_t)i * c->frame_size);
}

static struct tpacket2_hdr *pring_tx_slot__(const struct pring *r, uint32_t i)
{
	return (struct tpacket2_hdr *)(r->tx + (size_t)i * r->full_slot);
}

static void prx_release__(void *arg, uint32_t idx)
{
	struct prx *c = arg;

	/* A spill buffer is free once unreferenced; a slot goes back to the
	 * kernel, after our last read of it. */
	if (idx < c->nframes)
		__atomic_store_n(&prx_slot__(c, idx)->tp_status,
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

static size_t req_bytes__(const struct tpacket_req *req)
{
	return (size_t)req->tp_block_nr * req->tp_block_size;
}

/* A ring of about 'bytes' in slots of 'frame_size', not made yet: its
 * geometry, enough to register its area. NULL: no memory. */
static struct prx *prx_new__(uint32_t frame_size, uint32_t bytes, bool idle)
{
	struct prx *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->fd = -1;
	c->frame_size = frame_size;
	c->nframes = pring_req__(frame_size, bytes, &c->req);
	c->idle = idle;
	return c;
}

/* Closes what prx_make__() made; 'c' stays, as prx_new__() left it. */
static void prx_unmake__(struct prx *c)
{
	/* The ring is unmapped first: a mapping holds the socket open, and
	 * the socket's release would otherwise wait for the munmap(). */
	if (c->map)
		munmap(c->map, req_bytes__(&c->req));
	if (c->spill)
		munmap(c->spill, (size_t)UB_PRING_SPILL * UB_BUF_SIZE);
	if (c->fd >= 0)
		close(c->fd);
	c->map = c->spill = NULL;
	c->fd = -1;
}

static void prx_free__(struct prx *c)
{
	if (c)
		prx_unmake__(c);
	free(c);
}

/*
 * Makes c's ring on unbound socket 'fd' (taken over, closed on failure
 * too): the version and the copy threshold, then the ring, in the order
 * the kernel asks for (the options are refused once a ring exists), and
 * the mappings.
 */
static int prx_make__(struct prx *c, int fd)
{
	void *m;
	int ret;

	c->fd = fd;
	if ((ret = setopt__(fd, SOL_PACKET, PACKET_VERSION, TPACKET_V2)) ||
	    (ret = setopt__(fd, SOL_PACKET, PACKET_COPY_THRESH, 1)))
		goto err;
	if (setsockopt(fd, SOL_PACKET, PACKET_RX_RING, &c->req,
		       sizeof(c->req))) {
		ret = -errno;
		goto err;
	}
	m = mmap(NULL, req_bytes__(&c->req), PROT_READ | PROT_WRITE,
		 MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) {
		ret = -errno;
		goto err;
	}
	c->map = m;
	m = mmap(NULL, (size_t)UB_PRING_SPILL * UB_BUF_SIZE,
		 PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m == MAP_FAILED) {
		ret = -errno;
		goto err;
	}
	c->spill = m;
	return 0;
err:
	prx_unmake__(c);
	return ret;
}

/* Whether this kernel's fanout groups can leave out what the bridge
 * sends (PACKET_FANOUT_FLAG_IGNORE_OUTGOING, Linux 6.2): older ones
 * accept the flag and ignore it. */
static bool fanout_usable__(void)
{
	/* Ports open from several threads at once: whoever looks first
	 * caches the answer (the same for all). */
	static int cached = -1;
	int usable = __atomic_load_n(&cached, __ATOMIC_RELAXED);
	unsigned major = 0, minor = 0;
	struct utsname u;

	if (usable < 0) {
		usable = !uname(&u) &&
			 sscanf(u.release, "%u.%u", &major, &minor) == 2 &&
			 (major > 6 || (major == 6 && minor >= 2));
		__atomic_store_n(&cached, usable, __ATOMIC_RELAXED);
	}
	return usable;
}

/* Socket 'fd' joins fanout group 'id', or with 'create' makes a group of
 * its own and says its id in 'id'. */
static int fanout_join__(int fd, bool create, uint16_t *id)
{
	struct fanout_args fa = {
		.id = create ? 0 : *id,
		.type_flags = UB_PRING_FANOUT |
			      (create ? PACKET_FANOUT_FLAG_UNIQUEID : 0),
		.max_num_members = 2,
	};
	socklen_t len = sizeof(int);
	int val;

	if (setsockopt(fd, SOL_PACKET, PACKET_FANOUT, &fa, sizeof(fa)))
		return -errno;
	if (create) {
		if (getsockopt(fd, SOL_PACKET, PACKET_FANOUT, &val, &len))
			return -errno;
		*id = (uint16_t)val;
	}
	return 0;
}

/* Sets option 'name' of socket 'fd' to the classic BPF program "return
 * k". */
static int bpf_return__(int fd, int level, int name, uint32_t k)
{
	struct sock_filter code = BPF_STMT(BPF_RET | BPF_K, k);
	struct sock_fprog prog;

	/* The padding after 'len' is copied in too. */
	memset(&prog, 0, sizeof(prog));
	prog.len = 1;
	prog.filter = &code;
	return setsockopt(fd, level, name, &prog, sizeof(prog)) ? -errno : 0;
}

/* The group's program: every frame to member 'k' (modulo the members).
 * Replacing a program waits for a grace period. */
static int fanout_pick__(int fd, uint32_t k)
{
	return bpf_return__(fd, SOL_PACKET, PACKET_FANOUT_DATA, k);
}

/* A filter on socket 'fd' that lets no frame in ("return 0"), or none. */
static int drop_all__(int fd, bool on)
{
	if (on)
		return bpf_return__(fd, SOL_SOCKET, SO_ATTACH_FILTER, 0);
	return setsockopt(fd, SOL_SOCKET, SO_DETACH_FILTER, &(int){ 0 },
			  sizeof(int)) ? -errno : 0;
}

/* The TX ring on its socket, in slots of r->full_slot. */
/* A socket that only sends, on interface 'ifindex': bound with protocol
 * 0, it receives nothing. */
static int packet_tx_socket__(int ifindex)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET };
	int fd, ret;

	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	ret = setopt__(fd, SOL_PACKET, PACKET_VNET_HDR, 1);
	sll.sll_ifindex = ifindex;
	if (!ret && bind(fd, (struct sockaddr *)&sll, sizeof(sll)))
		ret = -errno;
	if (ret) {
		close(fd);
		return ret;
	}
	packet_sndbuf__(fd);
	return fd;
}

/* The TX ring, on a sending socket of its own, in slots of
 * r->full_slot. */
static int pring_tx_make__(struct pring *r, int ifindex, uint32_t bytes)
{
	struct tpacket_req req;
	void *m;
	int ret;

	r->tx_fd = packet_tx_socket__(ifindex);
	if (r->tx_fd < 0)
		return r->tx_fd;
	r->tx_nframes = pring_req__(r->full_slot, bytes, &req);
	/* PACKET_LOSS: a frame the kernel refuses is skipped (its slot
	 * comes back available) instead of stopping the ring for good at
	 * that slot. */
	if ((ret = setopt__(r->tx_fd, SOL_PACKET, PACKET_VERSION, TPACKET_V2)) ||
	    (ret = setopt__(r->tx_fd, SOL_PACKET, PACKET_LOSS, 1)))
		return ret;
	if (setsockopt(r->tx_fd, SOL_PACKET, PACKET_TX_RING, &req, sizeof(req)))
		return -errno;
	m = mmap(NULL, req_bytes__(&req), PROT_READ | PROT_WRITE, MAP_SHARED,
		 r->tx_fd, 0);
	if (m == MAP_FAILED)
		return -errno;
	r->tx = m;
	r->tx_len = req_bytes__(&req);
	return 0;
}

/*
 * The port's socket makes its fanout group. It cannot while it is not
 * running (its link is down: -EINVAL), and tries again at upkeep's next
 * look; any other failure is for good, and the ring never moves. The
 * group gets its program at once: the kernel waits for a grace period
 * only when it replaces one, and the seal of the first move needs that
 * wait.
 */
static void pring_group__(struct pring *r)
{
	int ret = fanout_join__(r->cur->fd, true, &r->group);

	if (!ret)
		ret = fanout_pick__(r->cur->fd, 0);
	r->grouped = !ret;
	if (ret && ret != -EINVAL)
		r->moves = false;
}

static void pring_free__(struct pring *r)
{
	ub_xsk_free(r->xsk);
	prx_free__(r->cur);
	prx_free__(r->next);
	prx_free__(r->old);
	prx_free__(r->job_rx);
	if (r->tx)
		munmap(r->tx, r->tx_len);
	if (r->tx_fd >= 0)
		close(r->tx_fd);
	if (r->send_fd >= 0)
		close(r->send_fd);
	free(r);
}

static int pring_open__(const char *ifname, bool tx, struct ub_port_io *p)
{
	struct pring *r;
	uint32_t bytes;
	int ret;

	ret = packet_socket__(ifname, p);
	if (ret)
		return ret;
	r = calloc(1, sizeof(*r));
	if (!r) {
		ub_port_close_fd__(p);
		return -ENOMEM;
	}
	r->tx_fd = r->send_fd = -1;
	r->full_slot = pring_frame_size__(p->mtu);
	r->full_bytes = p->ring_bytes ? p->ring_bytes : UB_RING_BYTES_DEFAULT;
	r->idle_bytes = p->ring_idle_bytes;
	r->moves = r->idle_bytes && r->idle_bytes < r->full_bytes &&
		   fanout_usable__();
	bytes = r->moves ? r->idle_bytes : r->full_bytes;
	r->cur = r->moves ? prx_new__(UB_PRING_IDLE_SLOT, bytes, true) :
			    prx_new__(r->full_slot, bytes, false);
	if (!r->cur) {
		ret = -ENOMEM;
		goto err;
	}
	/* The ring takes the socket over from here. */
	ret = prx_make__(r->cur, p->fd);
	p->fd = -1;
	if (ret || (tx && (ret = pring_tx_make__(r, p->ifindex, bytes / 4))) ||
	    (ret = r->send_fd = packet_tx_socket__(p->ifindex)) < 0 ||
	    (ret = packet_bind__(r->cur->fd, p->ifindex)))
		goto err;
	if (r->moves)
		pring_group__(r);
	/* Sends, through packet_send(). */
	p->fd = r->send_fd;
	p->rx_ring_bytes = (uint32_t)req_bytes__(&r->cur->req);
	p->priv = r;
	return 0;
err:
	pring_free__(r);
	return ret;
}

static int pring_open(const char *ifname, struct ub_port_io *p)
{
	return pring_open__(ifname, false, p);
}

static int prings_open(const char *ifname, struct ub_port_io *p)
{
	return pring_open__(ifname, true, p);
}

static int prx_attach__(struct ub_ring *ring, struct prx *c)
{
	return ub_ring_area_add__(ring, c->nframes + UB_PRING_SPILL,
				  prx_release__, c, &c->area);
}

static void prx_detach__(struct ub_ring *ring, struct prx *c)
{
	if (c && c->area) {
		ub_ring_area_del__(ring, c->area);
		c->area = 0;
	}
}

/* The slots and spill buffers become an area of the receiving ring. */
static int pring_attach(struct ub_ring *ring, struct ub_port_io *p)
{
	struct pring *r = p->priv;

	return prx_attach__(ring, r->cur);
}

static void pring_detach(struct ub_ring *ring, struct ub_port_io *p)
{
	struct pring *r = p->priv;

	prx_detach__(ring, r->cur);
	prx_detach__(ring, r->next);
	prx_detach__(ring, r->old);
	prx_detach__(ring, r->job_rx);
}

static void pring_close(struct ub_port_io *p)
{
	if (p->priv)
		pring_free__(p->priv);
	p->priv = NULL;
	p->fd = -1; /* send_fd, closed with the rest */
}

/* The ring needs no receive request, only a wake-up when it has frames:
 * from the ring new frames go to, during a move the next one. */
static int pring_arm_rx(struct ub_ring *ring, struct ub_port_io *p,
			uint64_t ud)
{
	struct pring *r = p->priv;

	r->polled = r->next ? r->next : r->cur;
	return ub_ring_poll__(ring, r->polled->fd, ud);
}

/* The error the kernel left on the polled socket (ENETDOWN when the link
 * went down): reading it clears it. */
static int pring_rx_take_error(struct ub_port_io *p)
{
	const struct pring *r = p->priv;
	socklen_t len = sizeof(int);
	int err = 0;

	if (getsockopt(r->polled->fd, SOL_SOCKET, SO_ERROR, &err, &len))
		return -errno;
	return -err;
}

/* Whether spill buffer 'i' (0 to UB_PRING_SPILL - 1) is unreferenced. */
static bool prx_spill_unused__(struct ub_ring *ring, const struct prx *c,
			       uint32_t i)
{
	return !ub_ring_buf_refs__(ring, ub_buf_handle__(c->area,
							 c->nframes + i));
}

/* A spill buffer nobody references (its index in the area), or
 * UINT32_MAX. */
static uint32_t prx_spill_free__(struct ub_ring *ring, const struct prx *c)
{
	for (uint32_t i = 0; i < UB_PRING_SPILL; i++)
		if (prx_spill_unused__(ring, c, i))
			return c->nframes + i;
	return UINT32_MAX;
}

/*
 * The whole of a frame the slot has only the start of: the next frame in
 * the socket queue, read into spill buffer 'idx'. The slot itself is done
 * with and goes back at once.
 */
static enum ub_rx_status prx_spill__(struct ub_ring *ring, struct prx *c,
				     uint32_t idx, uint32_t slot,
				     struct ub_frame *f)
{
	uint8_t *buf = c->spill + (size_t)(idx - c->nframes) * UB_BUF_SIZE;
	ssize_t n;

	/* A socket error comes before the queue, once: ENETDOWN after the
	 * link went down (or was down at bind). The frame is behind it, and
	 * left in the queue it would be read for the next slot's. */
	for (int tries = 0; tries < 2; tries++) {
		n = recv(c->fd, buf + UB_PRING_HEADROOM,
			 UB_BUF_SIZE - UB_PRING_HEADROOM,
			 MSG_DONTWAIT | MSG_TRUNC);
		if (n >= 0 || errno == EAGAIN)
			break;
	}
	if (n < 0)
		return UB_RX_MALFORMED; /* f->buf is still the slot */
	ub_ring_buf_put(ring, ub_buf_handle__(c->area, slot));
	f->buf = ub_buf_handle__(c->area, idx);
	f->data = buf + UB_PRING_HEADROOM;
	f->len = (uint32_t)n;
	if (n > (ssize_t)(UB_BUF_SIZE - UB_PRING_HEADROOM))
		return UB_RX_TRUNCATED;
	return f->len < UB_VNET_HLEN + 2 * UB_ETH_ALEN ? UB_RX_MALFORMED :
							 UB_RX_OK;
}

/* Whether slot 'i' holds a frame not taken yet: the kernel's (a slot we
 * took a lap ago and whose sends are still out says USER too). */
static bool prx_ready__(struct ub_ring *ring, const struct prx *c, uint32_t i,
			uint32_t *status)
{
	/* Acquire: the frame's bytes are read only after its status. */
	*status = __atomic_load_n(&prx_slot__(c, i)->tp_status,
				  __ATOMIC_ACQUIRE);
	return (*status & TP_STATUS_USER) &&
	       !ub_ring_buf_refs__(ring, ub_buf_handle__(c->area, i));
}

static enum ub_rx_status prx_next__(struct ub_ring *ring, struct pring *r,
				    struct prx *c, struct ub_frame *f)
{
	uint32_t slot = c->head, status, other, spill = UINT32_MAX;
	struct tpacket2_hdr *h = prx_slot__(c, slot);
	uint16_t tpid, tci;
	enum ub_rx_status st;

	if (!prx_ready__(ring, c, slot, &status))
		return UB_RX_NONE;
	f->buf = ub_buf_handle__(c->area, slot);
	if (status & TP_STATUS_COPY) {
		spill = prx_spill_free__(ring, c);
		/* All in use: try again once sends have completed. */
		if (spill == UINT32_MAX)
			return UB_RX_NONE;
	}
	c->head = slot + 1 == c->nframes ? 0 : slot + 1;
	r->frames++;
	if (c->idle) {
		/* Half full, or spilling: time for the full ring. */
		r->crowded |= prx_ready__(ring, c, (slot + c->nframes / 2) %
						   c->nframes, &other);
		r->spills += spill != UINT32_MAX;
	}
	/* Read before a spill hands the slot back to the kernel. */
	tci = h->tp_vlan_tci;
	tpid = status & TP_STATUS_VLAN_TPID_VALID ? h->tp_vlan_tpid :
						    UB_ETH_P_8021Q;

	if (spill != UINT32_MAX) {
		st = prx_spill__(ring, c, spill, slot, f);
	} else if (h->tp_snaplen < h->tp_len) {
		/* Too large for the slot, and the socket had no room for a
		 * copy. */
		st = UB_RX_TRUNCATED;
	} else if (h->tp_mac < TPACKET2_HDRLEN + UB_VNET_HLEN + UB_VLAN_HLEN ||
		   h->tp_mac + h->tp_snaplen > c->frame_size ||
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

/* The ring before cur can close: its buffers are back, and the
 * worker's wake-up is on another socket. */
static bool pring_old_done__(struct ub_ring *ring, const struct pring *r)
{
	return r->old && r->polled != r->old &&
	       !ub_ring_area_held__(ring, r->old->area);
}

static enum ub_rx_status pring_rx_next(struct ub_ring *ring,
				       struct ub_port_io *p, struct ub_frame *f)
{
	struct pring *r = p->priv;
	enum ub_rx_status st = prx_next__(ring, r, r->cur, f);
	uint32_t status;

	if (st == UB_RX_NONE && r->next &&
	    !prx_ready__(ring, r->cur, r->cur->head, &status)) {
		/* The old ring, sealed before 'next' came, is read to its
		 * end: the new one from here. */
		r->old = r->cur;
		r->cur = r->next;
		r->next = NULL;
		p->rx_ring_bytes = (uint32_t)req_bytes__(&r->cur->req);
		st = prx_next__(ring, r, r->cur, f);
	}
	if (ub_unlikely(!p->rx_upkeep) && r->moves &&
	    (pring_old_done__(ring, r) ||
	     (!r->next && (r->crowded || r->spills >= UB_PRING_GROW_SPILLS))))
		p->rx_upkeep = true;
	return st;
}

static uint32_t pring_rx_held(struct ub_ring *ring, struct ub_port_io *p)
{
	const struct pring *r = p->priv;
	uint32_t held = ub_ring_area_held__(ring, r->cur->area);

	if (r->next)
		held += ub_ring_area_held__(ring, r->next->area);
	if (r->old)
		held += ub_ring_area_held__(ring, r->old->area);
	return held;
}

static uint64_t pring_rx_dropped(struct ub_port_io *p)
{
	struct pring *r = p->priv;
	uint64_t drops = r->drops + packet_drops__(r->cur->fd);

	r->drops = 0;
	return drops;
}

/* ---- moves between the idle and the full ring (rx_upkeep) ---- */

/* Gives the memory of the spill buffers not in use back to the system:
 * on an idle ring a frame of 64 KiB now and then would otherwise leave
 * them all resident. */
static void prx_spill_trim__(struct ub_ring *ring, struct prx *c)
{
	for (uint32_t i = 0; i < UB_PRING_SPILL; i++)
		if (prx_spill_unused__(ring, c, i))
			madvise(c->spill + (size_t)i * UB_BUF_SIZE, UB_BUF_SIZE,
				MADV_DONTNEED);
}

/* Upkeep's look at the counts: true when the port should move. */
static bool pring_look__(struct ub_ring *ring, struct pring *r, uint64_t now)
{
	bool grow = r->cur->idle &&
		    (r->crowded || r->spills >= UB_PRING_GROW_SPILLS);
	uint64_t ms = now - r->look_ms;

	if (!grow && ms < UB_PRING_LOOK_MS)
		return false;
	if (ms >= UB_PRING_LOOK_MS) {
		if ((r->frames - r->frames_seen) * 1000 >=
		    (uint64_t)UB_PRING_QUIET_FPS * ms)
			r->busy_ms = now;
		r->frames_seen = r->frames;
		r->look_ms = now;
		if (r->cur->idle && r->spills)
			prx_spill_trim__(ring, r->cur);
		r->spills = 0;
	}
	r->crowded = false;
	if (now < r->retry_ms) {
		r->spills = 0; /* or rx_next asks again at once */
		return false;
	}
	return grow || (!r->cur->idle && now - r->busy_ms >= UB_PRING_QUIET_MS);
}

static bool pring_upkeep_begin(struct ub_ring *ring, struct ub_port_io *p,
			       uint64_t now)
{
	struct pring *r = p->priv;
	struct prx *c;

	p->rx_upkeep = false;
	/* A socket makes its group only while running: this one's link
	 * was down at attach. Now, as soon as it is up, with little traffic
	 * yet: frames in flight while a running socket joins may be
	 * missed. */
	if (r->moves && !r->grouped)
		pring_group__(r);
	if (!r->moves || !r->grouped || r->next)
		return false;
	if (r->old) {
		if (!pring_old_done__(ring, r))
			return false;
		r->drops += packet_drops__(r->old->fd);
		prx_detach__(ring, r->old);
		r->job = PRING_JOB_CLOSE;
		r->job_rx = r->old;
		r->old = NULL;
	} else {
		if (!pring_look__(ring, r, now))
			return false;
		c = r->cur->idle ?
			    prx_new__(r->full_slot, r->full_bytes, false) :
			    prx_new__(UB_PRING_IDLE_SLOT, r->idle_bytes, true);
		/* Its area first: nothing can fail under the lock once the
		 * ring receives. */
		if (!c || prx_attach__(ring, c)) {
			free(c);
			r->retry_ms = now + UB_PRING_RETRY_MS;
			return false;
		}
		r->job = PRING_JOB_OPEN;
		r->job_rx = c;
		/* A full ring stays at least UB_PRING_QUIET_MS. */
		r->busy_ms = now;
	}
	r->job_ms = now;
	r->job_fd = r->cur->fd;
	return true;
}

/* The new ring's socket, as the group's second member, receiving. */
static int pring_move__(struct pring *r, int ifindex)
{
	struct prx *c = r->job_rx;
	int fd, ret;

	fd = packet_fd__();
	if (fd < 0)
		return fd;
	if ((ret = drop_all__(fd, true))) {
		close(fd);
		return ret;
	}
	if ((ret = prx_make__(c, fd)) ||
	    (ret = packet_bind__(c->fd, ifindex)) ||
	    (ret = fanout_join__(c->fd, false, &r->group)) ||
	    (ret = drop_all__(c->fd, false)) ||
	    (ret = fanout_pick__(c->fd, 1))) {
		prx_unmake__(c);
		return ret;
	}
	return 0;
}

static void pring_upkeep_run(struct ub_port_io *p)
{
	struct pring *r = p->priv;

	if (r->job == PRING_JOB_OPEN) {
		r->job_err = pring_move__(r, p->ifindex);
		return;
	}
	prx_free__(r->job_rx);
	r->job_rx = NULL;
	/* Alone again: "return 0" picks the next ring's predecessor. */
	r->job_err = fanout_pick__(r->job_fd, 0);
}

static int pring_upkeep_end(struct ub_ring *ring, struct ub_port_io *p)
{
	struct pring *r = p->priv;
	struct prx *c = r->job_rx;
	enum pring_job job = r->job;
	int ret = r->job_err;

	r->job_rx = NULL;
	r->job = PRING_JOB_NONE;
	if (job == PRING_JOB_CLOSE) {
		/* Without a "return 0" the next move cannot start. */
		if (ret)
			r->moves = false;
		return ret;
	}
	if (ret) {
		prx_detach__(ring, c);
		free(c);
		r->retry_ms = r->job_ms + UB_PRING_RETRY_MS;
		return ret;
	}
	r->next = c;
	return (int)(req_bytes__(&c->req) >> 10);
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
	.rx_take_error = pring_rx_take_error,
	.rx_upkeep_begin = pring_upkeep_begin,
	.rx_upkeep_run = pring_upkeep_run,
	.rx_upkeep_end = pring_upkeep_end,
	.send = packet_send,
	.rx_dropped = pring_rx_dropped,
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
 * them stays the send's EMSGSIZE), are left to send(), through the
 * port's sending socket (on a socket with a TX ring every send() is
 * tpacket_snd, which sends the ring's slots and ignores the data it was
 * given: so the TX ring has a socket of its own); the caller flushes the
 * ring before such a send, and both go out in the order they were queued.
 * The TX ring does not follow the traffic: it gets a quarter of the RX
 * ring's memory (of the idle ring's, when the ring moves), at least 64
 * slots, one batch: a veth gives a batch's slots back within its flush.
 */

/* A slot the kernel has neither to send nor is sending. */
static bool pring_tx_free__(uint32_t status)
{
	return !(status & (TP_STATUS_SEND_REQUEST | TP_STATUS_SENDING |
			   TP_STATUS_WRONG_FORMAT));
}

static int prings_tx_put(struct ub_port_io *p, const struct ub_frame *f,
			 uint32_t remote)
{
	struct pring *r = p->priv;
	struct tpacket2_hdr *h = pring_tx_slot__(r, r->tx_head);
	const struct virtio_net_hdr *vh = (const void *)f->data;
	uint8_t *slot;

	if (f->len > r->full_slot - UB_PRING_TX_DATA ||
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
	const struct pring *r = p->priv;
	int ret = ub_ring_send(ring, r->tx_fd, NULL, 0, ud);

	return ret ? ret : 1;
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
	.rx_take_error = pring_rx_take_error,
	.rx_upkeep_begin = pring_upkeep_begin,
	.rx_upkeep_run = pring_upkeep_run,
	.rx_upkeep_end = pring_upkeep_end,
	.send = packet_send,
	.tx_put = prings_tx_put,
	.tx_flush = prings_tx_flush,
	.rx_dropped = pring_rx_dropped,
};

/* ---- AF_XDP beside the RX ring (xsk.c) ----
 *
 * ub_port_packet_xdp_ops: the RX ring port (packet-ring), and an AF_XDP
 * socket that an XDP program on the interface hands every frame that
 * fits its chunks. The ring gets what XDP passes on to the stack: GSO
 * super-frames, frames over a chunk, frames on a queue other than the
 * socket's. Frames to send go into the socket's TX ring (every frame,
 * unicast too: a kick per batch is cheaper than a send per frame), and
 * those it cannot take (GSO, over the MTU) are sends through the packet
 * socket, in order (ub_port_xmit). The two receive paths share nothing
 * but the port: a frame on one may overtake an earlier one on the other
 * (a GSO frame and a small segment after it, say).
 *
 * ub_port_packet_auto_ops opens the same, and where XDP cannot attach
 * makes the port a packet-rings port instead, saying why in p->why.
 */
static int pxdp_open__(const char *ifname, bool fallback,
		       struct ub_port_io *p)
{
	struct pring *r;
	int ret = pring_open__(ifname, false, p);

	if (ret)
		return ret;
	r = p->priv;
	ret = ub_xsk_open(p->ifindex, &r->xsk, &p->why);
	if (ret && fallback) {
		ret = pring_tx_make__(r, p->ifindex,
				      (r->moves ? r->idle_bytes :
						  r->full_bytes) / 4);
		p->ops = &ub_port_packet_rings_ops;
		if (ret)
			p->why = "cannot make the TX ring";
	}
	if (ret)
		pring_close(p);
	return ret;
}

static int pxdp_open(const char *ifname, struct ub_port_io *p)
{
	return pxdp_open__(ifname, false, p);
}

static int pauto_open(const char *ifname, struct ub_port_io *p)
{
	return pxdp_open__(ifname, true, p);
}

static int pxdp_attach(struct ub_ring *ring, struct ub_port_io *p)
{
	struct pring *r = p->priv;
	int ret = pring_attach(ring, p);

	if (!ret && (ret = ub_xsk_attach(ring, r->xsk)))
		pring_detach(ring, p);
	return ret;
}

static void pxdp_detach(struct ub_ring *ring, struct ub_port_io *p)
{
	struct pring *r = p->priv;

	ub_xsk_detach(ring, r->xsk);
	pring_detach(ring, p);
}

/* A wake-up from either socket, with the same user_data (a cancel ends
 * both): rx_wakeups 2. */
static int pxdp_arm_rx(struct ub_ring *ring, struct ub_port_io *p,
		       uint64_t ud)
{
	struct pring *r = p->priv;
	int ret = pring_arm_rx(ring, p, ud);

	/* Both or none: the first is cancelled when the second fails. */
	if (!ret && (ret = ub_ring_poll__(ring, ub_xsk_fd(r->xsk), ud)))
		ub_ring_cancel(ring, ud);
	return ret;
}

/* The two take turns at being looked at first, so that a stream on one
 * never keeps the other waiting past a batch. */
static enum ub_rx_status pxdp_rx_next(struct ub_ring *ring,
				      struct ub_port_io *p, struct ub_frame *f)
{
	struct pring *r = p->priv;
	enum ub_rx_status st;

	r->xsk_second = !r->xsk_second;
	if (r->xsk_second && (st = pring_rx_next(ring, p, f)) != UB_RX_NONE)
		return st;
	st = ub_xsk_rx_next(r->xsk, p->mtu, f);
	if (st == UB_RX_NONE && !r->xsk_second)
		st = pring_rx_next(ring, p, f);
	return st;
}

static uint32_t pxdp_rx_held(struct ub_ring *ring, struct ub_port_io *p)
{
	const struct pring *r = p->priv;

	return pring_rx_held(ring, p) + ub_xsk_held(ring, r->xsk);
}

static uint64_t pxdp_rx_dropped(struct ub_port_io *p)
{
	struct pring *r = p->priv;

	return pring_rx_dropped(p) + ub_xsk_rx_dropped(r->xsk);
}

static int pxdp_tx_put(struct ub_port_io *p, const struct ub_frame *f,
		       uint32_t remote)
{
	const struct pring *r = p->priv;

	(void)remote;
	return ub_xsk_tx_put(r->xsk, p->mtu, f);
}

static int pxdp_tx_flush(struct ub_ring *ring, struct ub_port_io *p,
			 uint64_t ud)
{
	const struct pring *r = p->priv;

	return ub_xsk_tx_flush(ring, r->xsk, ud);
}

static uint32_t pxdp_counters(const struct ub_port_io *p,
			      struct ub_port_counter *out, uint32_t max)
{
	const struct pring *r = p->priv;

	return ub_xsk_counters(r->xsk, out, max);
}

#define PXDP_OPS(name, open_fn) \
	const struct ub_port_ops name = { \
		.kind = "xdp", \
		.flags = UB_PORT_F_POLLED | UB_PORT_F_TX_PUT, \
		.rx_wakeups = 2, \
		.open = open_fn, \
		.attach = pxdp_attach, \
		.detach = pxdp_detach, \
		.close = pring_close, \
		.arm_rx = pxdp_arm_rx, \
		.rx_next = pxdp_rx_next, \
		.rx_held = pxdp_rx_held, \
		.rx_take_error = pring_rx_take_error, \
		.rx_upkeep_begin = pring_upkeep_begin, \
		.rx_upkeep_run = pring_upkeep_run, \
		.rx_upkeep_end = pring_upkeep_end, \
		.send = packet_send, \
		.tx_put = pxdp_tx_put, \
		.tx_flush = pxdp_tx_flush, \
		.counters = pxdp_counters, \
		.rx_dropped = pxdp_rx_dropped, \
	}

PXDP_OPS(ub_port_packet_xdp_ops, pxdp_open);
PXDP_OPS(ub_port_packet_auto_ops, pauto_open);
