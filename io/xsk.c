/* SPDX-License-Identifier: MIT */
/*
 * AF_XDP beside an AF_PACKET port (see ub_port_packet_xdp_ops in
 * packet.c): an XDP program on the interface hands the frames that fit a
 * UMEM chunk to an AF_XDP socket, whose rings the worker reads and fills
 * without a system call per frame; everything else (a GSO super-frame, a
 * jumbo frame, a frame on a queue without a socket) goes on to the stack,
 * where the port's packet socket takes it as before.
 *
 * The program, eleven instructions loaded with bpf(2):
 *
 *     if (bpf_xdp_get_buff_len(ctx) > room) return XDP_PASS;
 *     return bpf_redirect_map(&xsks, ctx->rx_queue_index, XDP_PASS);
 *
 * It is loaded as frags-aware (BPF_F_XDP_HAS_FRAGS): a veth whose program
 * cannot take multi-buffer frames turns its peer's TSO off, and TCP would
 * then cross the bridge a segment at a time. A multi-buffer frame is
 * always over 'room', so it never reaches the socket (which could not
 * take it: no XDP_USE_SG). It is attached through a BPF link: the
 * interface is left as it was when the link's descriptor closes, also
 * when the daemon dies; and a link never replaces a program someone else
 * attached (EBUSY).
 *
 * The UMEM is the socket's own: UB_XSK_RX chunks for receiving, then
 * UB_XSK_TX for sending. Received chunks are a buffer area of the
 * worker's ring, and go back to the fill ring when their last send
 * completed: a frame is forwarded out of its chunk. A frame to send is
 * copied into a free TX chunk (the copy mode of a veth copies it again
 * into an skb) and the TX ring is kicked once per batch (per budget of
 * frames) with a send through io_uring.
 *
 * Checksums. A veth's peer leaves TCP and UDP checksums to "hardware"
 * (CHECKSUM_PARTIAL), and XDP sees the frame with only the pseudo-header's
 * sum in the field and no flag saying so: ub_vxlan_rx_offload() completes
 * such checksums (see there why that is safe). A frame sent with
 * NEEDS_CSUM is completed as it is copied.
 */
#include <endian.h>
#include <errno.h>
#include <linux/bpf.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <linux/if_link.h>
#include <linux/if_xdp.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <ubridge/vxlan.h>
#include "io_private.h"

#ifndef XDP_MAX_TX_SKB_BUDGET
#define XDP_MAX_TX_SKB_BUDGET 9 /* recent kernels (6.18 has it) */
#endif

#define UB_XSK_CHUNK 2048U
#define UB_XSK_RX 2048U
#define UB_XSK_TX 512U
/* Room in front of a received frame for its virtio-net header. */
#define UB_XSK_HEADROOM 64U
/* The most frames one kick sends: the kernel's default, unless the
 * socket takes a larger budget. */
#define UB_XSK_BUDGET_DEFAULT 32U
#define UB_XSK_BUDGET 256U
/* How long a bind waits for an old socket to let go of the queue. */
#define UB_XSK_BIND_TRIES 40
#define UB_XSK_BIND_WAIT_US 50000

/* One of the four rings, mapped. */
struct xq {
	uint32_t *prod, *cons;
	void *descs;
	uint32_t mask;
	uint32_t head; /* ours: the next to fill (fill, TX) or take (RX, CQ) */
	void *map;
	size_t map_len;
};

struct ub_xsk {
	int fd, map_fd, prog_fd, link_fd;
	uint8_t *umem;
	struct xq rx, tx, fill, comp;
	uint32_t area;
	uint32_t room;    /* the largest frame a chunk takes */
	uint32_t budget;  /* frames a kick sends */
	uint32_t tx_free[UB_XSK_TX]; /* TX chunks not in the kernel's hands */
	uint32_t tx_nfree;
	bool native;
	uint64_t drops_told; /* receive drops ub_xsk_rx_dropped() told of */
	uint64_t rx_frames, tx_frames; /* through the socket */
};

static long bpf__(int cmd, union bpf_attr *attr)
{
	return syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

static int fd_or_errno__(long fd)
{
	return fd < 0 ? -errno : (int)fd;
}

static int map_new__(void)
{
	union bpf_attr a = { 0 };

	a.map_type = BPF_MAP_TYPE_XSKMAP;
	a.key_size = 4;
	a.value_size = 4;
	a.max_entries = 1;
	memcpy(a.map_name, "ubridge_xsks", sizeof("ubridge_xsks"));
	return fd_or_errno__(bpf__(BPF_MAP_CREATE, &a));
}

#define INSN(c, d, s, o, i) \
	((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), \
			    .off = (o), .imm = (i) })

static int prog_new__(int map_fd, uint32_t room)
{
	const struct bpf_insn insns[] = {
		INSN(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_6, BPF_REG_1, 0, 0),
		INSN(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_xdp_get_buff_len),
		INSN(BPF_JMP | BPF_JGT | BPF_K, BPF_REG_0, 0, 6, (int)room),
		INSN(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_2, BPF_REG_6,
		     offsetof(struct xdp_md, rx_queue_index), 0),
		INSN(BPF_LD | BPF_DW | BPF_IMM, BPF_REG_1, BPF_PSEUDO_MAP_FD, 0,
		     map_fd),
		INSN(0, 0, 0, 0, 0),
		INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_3, 0, 0, XDP_PASS),
		INSN(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_redirect_map),
		INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
		INSN(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, XDP_PASS),
		INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
	};
	union bpf_attr a = { 0 };

	a.prog_type = BPF_PROG_TYPE_XDP;
	a.expected_attach_type = BPF_XDP;
	a.insns = (uint64_t)(uintptr_t)insns;
	a.insn_cnt = sizeof(insns) / sizeof(insns[0]);
	a.license = (uint64_t)(uintptr_t)"Dual MIT/GPL";
	a.prog_flags = BPF_F_XDP_HAS_FRAGS;
	memcpy(a.prog_name, "ubridge_xsk", sizeof("ubridge_xsk"));
	return fd_or_errno__(bpf__(BPF_PROG_LOAD, &a));
}

/* Attaches the program to 'ifindex' in 'mode' (XDP_FLAGS_DRV_MODE or
 * XDP_FLAGS_SKB_MODE); the link's descriptor, or -errno. */
static int link_new__(int prog_fd, int ifindex, uint32_t mode)
{
	union bpf_attr a = { 0 };

	a.link_create.prog_fd = (uint32_t)prog_fd;
	a.link_create.target_ifindex = (uint32_t)ifindex;
	a.link_create.attach_type = BPF_XDP;
	a.link_create.flags = mode;
	return fd_or_errno__(bpf__(BPF_LINK_CREATE, &a));
}

/*
 * Whether 'ifindex' is a veth. Native XDP on a veth turns TSO off on its
 * peer (a program there sees each frame in one buffer), so the peer's TCP
 * would hand the bridge one segment per frame; generic XDP leaves the
 * peer alone, and sees GSO frames as they are (and passes them on).
 */
static bool is_veth__(int ifindex)
{
	struct ethtool_drvinfo info = { .cmd = ETHTOOL_GDRVINFO };
	struct ifreq ifr = { .ifr_data = (void *)&info };
	bool veth = false;
	int fd;

	if (!if_indextoname((unsigned)ifindex, ifr.ifr_name))
		return false;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	if (!ioctl(fd, SIOCETHTOOL, &ifr))
		veth = !strcmp(info.driver, "veth");
	close(fd);
	return veth;
}

static int map_set__(int map_fd, uint32_t key, int fd)
{
	union bpf_attr a = { 0 };

	a.map_fd = (uint32_t)map_fd;
	a.key = (uint64_t)(uintptr_t)&key;
	a.value = (uint64_t)(uintptr_t)&fd;
	return bpf__(BPF_MAP_UPDATE_ELEM, &a) ? -errno : 0;
}

static int ring_size__(int fd, int opt, uint32_t n)
{
	return setsockopt(fd, SOL_XDP, opt, &n, sizeof(n)) ? -errno : 0;
}

/* Maps ring 'q' of 'n' entries of 'esize' bytes at 'pgoff'. */
static int ring_map__(struct xq *q, int fd, const struct xdp_ring_offset *o,
		      uint64_t pgoff, uint32_t n, size_t esize)
{
	q->map_len = o->desc + n * esize;
	q->map = mmap(NULL, q->map_len, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_POPULATE, fd, (off_t)pgoff);
	if (q->map == MAP_FAILED) {
		q->map = NULL;
		return -errno;
	}
	q->prod = (uint32_t *)((uint8_t *)q->map + o->producer);
	q->cons = (uint32_t *)((uint8_t *)q->map + o->consumer);
	q->descs = (uint8_t *)q->map + o->desc;
	q->mask = n - 1;
	return 0;
}

static void ring_unmap__(struct xq *q)
{
	if (q->map)
		munmap(q->map, q->map_len);
	q->map = NULL;
}

/* Gives RX chunk 'idx' to the kernel to fill. */
static void fill_put__(struct ub_xsk *x, uint32_t idx)
{
	((uint64_t *)x->fill.descs)[x->fill.head & x->fill.mask] =
		(uint64_t)idx * UB_XSK_CHUNK;
	/* Release: the address is written before the kernel may read it. */
	__atomic_store_n(x->fill.prod, ++x->fill.head, __ATOMIC_RELEASE);
}

/* The socket, its UMEM and rings, bound to queue 0 of 'ifindex'. */
static int socket_new__(struct ub_xsk *x, int ifindex)
{
	struct xdp_umem_reg reg = {
		.len = (uint64_t)(UB_XSK_RX + UB_XSK_TX) * UB_XSK_CHUNK,
		.chunk_size = UB_XSK_CHUNK,
		.headroom = UB_XSK_HEADROOM,
	};
	struct sockaddr_xdp sxdp = {
		.sxdp_family = AF_XDP,
		.sxdp_ifindex = (uint32_t)ifindex,
		/* Copy mode: a driver's zero-copy mode would need the fill
		 * ring's wake-ups, and chunks for its largest frames. */
		.sxdp_flags = XDP_USE_NEED_WAKEUP | XDP_COPY,
	};
	struct xdp_mmap_offsets off;
	socklen_t len = sizeof(off);
	uint32_t budget = UB_XSK_BUDGET;
	int ret;

	x->fd = socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (x->fd < 0)
		return -errno;
	x->umem = mmap(NULL, reg.len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (x->umem == MAP_FAILED) {
		x->umem = NULL;
		return -errno;
	}
	reg.addr = (uint64_t)(uintptr_t)x->umem;
	if (setsockopt(x->fd, SOL_XDP, XDP_UMEM_REG, &reg, sizeof(reg)))
		return -errno;
	if ((ret = ring_size__(x->fd, XDP_UMEM_FILL_RING, UB_XSK_RX)) ||
	    (ret = ring_size__(x->fd, XDP_UMEM_COMPLETION_RING, UB_XSK_TX)) ||
	    (ret = ring_size__(x->fd, XDP_RX_RING, UB_XSK_RX)) ||
	    (ret = ring_size__(x->fd, XDP_TX_RING, UB_XSK_TX)))
		return ret;
	if (getsockopt(x->fd, SOL_XDP, XDP_MMAP_OFFSETS, &off, &len))
		return -errno;
	if ((ret = ring_map__(&x->fill, x->fd, &off.fr,
			      XDP_UMEM_PGOFF_FILL_RING, UB_XSK_RX,
			      sizeof(uint64_t))) ||
	    (ret = ring_map__(&x->comp, x->fd, &off.cr,
			      XDP_UMEM_PGOFF_COMPLETION_RING, UB_XSK_TX,
			      sizeof(uint64_t))) ||
	    (ret = ring_map__(&x->rx, x->fd, &off.rx, XDP_PGOFF_RX_RING,
			      UB_XSK_RX, sizeof(struct xdp_desc))) ||
	    (ret = ring_map__(&x->tx, x->fd, &off.tx, XDP_PGOFF_TX_RING,
			      UB_XSK_TX, sizeof(struct xdp_desc))))
		return ret;
	for (uint32_t i = 0; i < UB_XSK_RX; i++)
		fill_put__(x, i);
	for (uint32_t i = 0; i < UB_XSK_TX; i++)
		x->tx_free[x->tx_nfree++] = UB_XSK_RX + i;
	/* A larger budget where the kernel has one: fewer kicks. */
	x->budget = setsockopt(x->fd, SOL_XDP, XDP_MAX_TX_SKB_BUDGET, &budget,
			       sizeof(budget)) ? UB_XSK_BUDGET_DEFAULT : budget;
	/* A socket closed on the queue (a daemon killed and started again)
	 * lets go of it a little later, in a work queue: EBUSY until then. */
	for (int tries = 0;
	     bind(x->fd, (struct sockaddr *)&sxdp, sizeof(sxdp)); tries++) {
		if (errno != EBUSY || tries == UB_XSK_BIND_TRIES)
			return -errno;
		usleep(UB_XSK_BIND_WAIT_US);
	}
	return map_set__(x->map_fd, 0, x->fd);
}

void ub_xsk_free(struct ub_xsk *x)
{
	if (!x)
		return;
	/* The link first: no frame is redirected to a socket that goes. */
	if (x->link_fd >= 0)
		close(x->link_fd);
	if (x->prog_fd >= 0)
		close(x->prog_fd);
	if (x->map_fd >= 0)
		close(x->map_fd);
	ring_unmap__(&x->rx);
	ring_unmap__(&x->tx);
	ring_unmap__(&x->fill);
	ring_unmap__(&x->comp);
	if (x->fd >= 0)
		close(x->fd);
	if (x->umem)
		munmap(x->umem, (size_t)(UB_XSK_RX + UB_XSK_TX) * UB_XSK_CHUNK);
	free(x);
}

int ub_xsk_open(int ifindex, struct ub_xsk **out,
		const char **why)
{
	struct ub_xsk *x = calloc(1, sizeof(*x));
	int ret;

	if (!x)
		return -ENOMEM;
	x->fd = x->map_fd = x->prog_fd = x->link_fd = -1;
	/* What the kernel can copy into a chunk: behind our headroom and
	 * the XDP headroom it keeps. */
	x->room = UB_XSK_CHUNK - UB_XSK_HEADROOM - 256;
	*why = "cannot make an XSKMAP (bpf)";
	if ((ret = x->map_fd = map_new__()) < 0)
		goto err;
	*why = "cannot load the XDP program (bpf)";
	if ((ret = x->prog_fd = prog_new__(x->map_fd, x->room)) < 0)
		goto err;
	/* Native where the driver has it, else generic. EBUSY: a program
	 * is attached already, not ours: it stays. */
	x->native = !is_veth__(ifindex);
	if (x->native)
		x->link_fd = link_new__(x->prog_fd, ifindex,
					XDP_FLAGS_DRV_MODE);
	if (!x->native || (x->link_fd < 0 && x->link_fd != -EBUSY &&
			   x->link_fd != -EEXIST)) {
		x->native = false;
		x->link_fd = link_new__(x->prog_fd, ifindex,
					XDP_FLAGS_SKB_MODE);
	}
	/* EEXIST: one attached in the other mode. */
	*why = x->link_fd == -EBUSY || x->link_fd == -EEXIST ?
		       "an XDP program is attached already (not replaced)" :
		       "cannot attach the XDP program";
	if ((ret = x->link_fd) < 0)
		goto err;
	ret = socket_new__(x, ifindex);
	*why = ret == -EBUSY ? "another AF_XDP socket holds the interface's "
			       "queue 0" :
			       "cannot set up the AF_XDP socket";
	if (ret)
		goto err;
	*why = x->native ? NULL : "generic XDP";
	*out = x;
	return 0;
err:
	ub_xsk_free(x);
	return ret;
}

static void release__(void *arg, uint32_t idx)
{
	fill_put__(arg, idx);
}

int ub_xsk_attach(struct ub_ring *ring, struct ub_xsk *x)
{
	return ub_ring_area_add__(ring, UB_XSK_RX, release__, x, &x->area);
}

void ub_xsk_detach(struct ub_ring *ring, struct ub_xsk *x)
{
	if (x->area)
		ub_ring_area_del__(ring, x->area);
	x->area = 0;
}

uint32_t ub_xsk_held(const struct ub_ring *ring, const struct ub_xsk *x)
{
	return ub_ring_area_held__(ring, x->area);
}

int ub_xsk_fd(const struct ub_xsk *x)
{
	return x->fd;
}

enum ub_rx_status ub_xsk_rx_next(struct ub_xsk *x, uint32_t mtu,
				 struct ub_frame *f)
{
	struct xdp_desc d;
	uint32_t idx;

	do {
		/* Acquire: the descriptor and the frame are read after the
		 * index. */
		if (x->rx.head ==
		    __atomic_load_n(x->rx.prod, __ATOMIC_ACQUIRE))
			return UB_RX_NONE;
		d = ((const struct xdp_desc *)x->rx.descs)[x->rx.head &
							   x->rx.mask];
		/* Release: we are done with the descriptor. */
		__atomic_store_n(x->rx.cons, ++x->rx.head, __ATOMIC_RELEASE);
		idx = (uint32_t)(d.addr / UB_XSK_CHUNK);
		/* A chunk that is not an RX chunk is no buffer of ours
		 * (never seen): skipped. */
	} while (idx >= UB_XSK_RX);
	f->buf = ub_buf_handle__(x->area, idx);
	f->data = x->umem + d.addr - UB_VNET_HLEN;
	f->len = d.len + UB_VNET_HLEN;
	if (d.addr % UB_XSK_CHUNK < UB_VNET_HLEN ||
	    d.addr % UB_XSK_CHUNK + d.len > UB_XSK_CHUNK ||
	    d.len < UB_ETH_HLEN)
		return UB_RX_MALFORMED;
	x->rx_frames++;
	ub_vxlan_rx_offload(f->data, f->len, mtu);
	return UB_RX_OK;
}

/* Takes the TX chunks the kernel is done with back. */
static void complete__(struct ub_xsk *x)
{
	uint32_t prod = __atomic_load_n(x->comp.prod, __ATOMIC_ACQUIRE);

	while (x->comp.head != prod) {
		uint64_t a = ((const uint64_t *)x->comp.descs)[x->comp.head++ &
								x->comp.mask];

		x->tx_free[x->tx_nfree++] = (uint32_t)(a / UB_XSK_CHUNK);
	}
	__atomic_store_n(x->comp.cons, x->comp.head, __ATOMIC_RELEASE);
}

int ub_xsk_tx_put(struct ub_xsk *x, uint32_t mtu, const struct ub_frame *f)
{
	const struct virtio_net_hdr *vh = (const void *)f->data;
	uint32_t len = ub_frame_eth_len(f), idx;
	struct xdp_desc *d;
	uint8_t *dst;

	/* GSO frames, and frames over the MTU, which send() refuses with
	 * the kernel's own verdict. */
	if (vh->gso_type != VIRTIO_NET_HDR_GSO_NONE || len > x->room ||
	    len > mtu + UB_ETH_HLEN + UB_VLAN_HLEN)
		return -EMSGSIZE;
	if (!x->tx_nfree)
		complete__(x);
	if (!x->tx_nfree)
		return -ENOBUFS;
	idx = x->tx_free[--x->tx_nfree];
	dst = x->umem + (size_t)idx * UB_XSK_CHUNK;
	memcpy(dst, ub_frame_eth(f), len);
	if (vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)
		ub_vxlan_csum_complete(dst, len, le16toh(vh->csum_start),
				       le16toh(vh->csum_offset));
	d = (struct xdp_desc *)x->tx.descs + (x->tx.head++ & x->tx.mask);
	d->addr = (uint64_t)idx * UB_XSK_CHUNK;
	d->len = len;
	d->options = 0;
	x->tx_frames++;
	return 0;
}

int ub_xsk_tx_flush(struct ub_ring *ring, struct ub_xsk *x, uint64_t ud)
{
	uint32_t left;
	int n = 0;

	/* Release: the descriptors are written before the kernel reads. */
	__atomic_store_n(x->tx.prod, x->tx.head, __ATOMIC_RELEASE);
	/* Every descriptor the kernel has not taken, also those of a kick
	 * it cut short (a busy device): a kick sends 'budget' frames at
	 * most, so one per budget, in order. */
	left = x->tx.head - __atomic_load_n(x->tx.cons, __ATOMIC_ACQUIRE);
	while (left && !ub_ring_kick__(ring, x->fd, ud)) {
		left -= left < x->budget ? left : x->budget;
		n++;
	}
	complete__(x);
	return n || !left ? n : -EBUSY;
}

static void stats__(const struct ub_xsk *x, struct xdp_statistics *st)
{
	socklen_t len = sizeof(*st);

	memset(st, 0, sizeof(*st));
	getsockopt(x->fd, SOL_XDP, XDP_STATISTICS, st, &len);
}

uint64_t ub_xsk_rx_dropped(struct ub_xsk *x)
{
	struct xdp_statistics st;
	uint64_t all, d;

	stats__(x, &st);
	/* A frame without a free chunk counts in rx_dropped, and in
	 * rx_fill_ring_empty_descs as well. */
	all = st.rx_dropped + st.rx_ring_full;
	d = all - x->drops_told;
	x->drops_told = all;
	return d;
}

uint32_t ub_xsk_counters(const struct ub_xsk *x, struct ub_port_counter *out,
			 uint32_t max)
{
	struct xdp_statistics st;
	uint32_t n = 0;

	stats__(x, &st);
#define C(name, v) \
	if (n < max) \
		out[n++] = (struct ub_port_counter){ name, (v) }
	C("rx_xdp", x->rx_frames);
	C("tx_xdp", x->tx_frames);
	C("rx_drop_xdp_full", st.rx_ring_full);
	C("rx_drop_xdp_no_chunk", st.rx_fill_ring_empty_descs);
	C("rx_drop_xdp", st.rx_dropped);
	C("tx_drop_xdp_invalid", st.tx_invalid_descs);
#undef C
	return n;
}
