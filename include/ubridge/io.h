/* SPDX-License-Identifier: MIT */
/*
 * Moving bytes: the io_uring ring, its provided-buffer pool, completion
 * batches, and the port back ends (AF_PACKET today) behind ub_port_ops.
 * This module never decides where a frame goes: core does.
 *
 * Buffers. One pool of UB_BUF_COUNT buffers of UB_BUF_SIZE bytes serves the
 * completion-driven receives of every port (one io_uring provided-buffer
 * group). A buffer holds one received frame preceded by what the receive
 * wrote before it; sends point into the same buffer, so a sent frame is
 * never copied in user space. A buffer carries a reference count: one per
 * pending send, and it goes back to the pool when the last send completes.
 * (A back end with a TX ring copies frames into it instead, and holds no
 * reference: see tx_put.) Each buffer
 * fits a 64 KiB GSO super-frame with its virtio-net header, so a TCP
 * stream costs one receive and one send per 64 KiB, not per MTU-sized
 * segment.
 *
 * Back ends with memory of their own (a TPACKET ring the kernel fills)
 * register it as a buffer area of the ring: its buffers are counted the
 * same way, and the back end gets each one back when its last reference
 * goes. A frame names its buffer by a 32-bit handle (area, index); the
 * pool is area 0, so a pool buffer's handle is its buffer id.
 *
 * Frames. Every port carries the offload state of a frame across with a
 * virtio-net header (PACKET_VNET_HDR, IFF_VNET_HDR): a frame handed to core is
 * [struct virtio_net_hdr][Ethernet frame as on the wire]. A VLAN tag the
 * kernel stripped into packet metadata is put back into the frame before
 * core sees it.
 *
 * user_data: every request carries (op, id, aux) packed in 64 bits, so a
 * completion finds its owner without a lookup; see ub_ud_*().
 */
#ifndef UBRIDGE_IO_H
#define UBRIDGE_IO_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <sys/socket.h>
#include <time.h>
#include <linux/virtio_net.h>

#include <ubridge/eth.h>

#define UB_BUF_COUNT 512
/* 64 KiB GSO frame + virtio-net header + Ethernet/VLAN headers + what the
 * receive puts in front of it, rounded up to pages. */
#define UB_BUF_SIZE (68 * 1024)
#define UB_VNET_HLEN ((uint32_t)sizeof(struct virtio_net_hdr))

struct ub_ring;

struct ub_ring_cfg {
	uint32_t sq_entries; /* 0: a default sized for full batches */
	/* Only one thread ever submits to a ring (the kernel holds it to
	 * that). By default it is the creator; with 'deferred', the first
	 * thread that calls ub_ring_enable(), and requests can be prepared
	 * but not submitted until then. */
	bool deferred;
};

int ub_ring_new(const struct ub_ring_cfg *cfg, struct ub_ring **out);
void ub_ring_free(struct ub_ring *ring);
/* Makes the calling thread the submitter of a 'deferred' ring. */
int ub_ring_enable(struct ub_ring *ring);
/* ---- user_data ---- */

static inline uint64_t ub_ud_make(uint8_t op, uint32_t id, uint32_t aux)
{
	return (uint64_t)op << 56 | (uint64_t)(id & 0xffffff) << 32 | aux;
}

static inline uint8_t ub_ud_op(uint64_t ud)
{
	return ud >> 56;
}

static inline uint32_t ub_ud_id(uint64_t ud)
{
	return (ud >> 32) & 0xffffff;
}

static inline uint32_t ub_ud_aux(uint64_t ud)
{
	return (uint32_t)ud;
}

/* ---- completions ---- */

/* A completion, copied out of the CQ so the CQ can be released at once. */
struct ub_cqe {
	uint64_t user_data;
	int32_t res;
	uint32_t flags;
};

/* The receive was multishot and stays armed. */
bool ub_cqe_more(const struct ub_cqe *c);
/* The completion used a pool buffer; returns true and its id. */
bool ub_cqe_buf(const struct ub_cqe *c, uint16_t *bid);

/*
 * Submits everything prepared and waits until at least one completion is
 * there or 'timeout_us' microseconds passed (-1: no limit; 0: no wait at
 * all, and no system call unless there is something to submit or the
 * kernel has completions to post). Returns 0, or -errno (-EINTR, -ETIME
 * are normal wake-ups).
 */
int ub_ring_submit_wait(struct ub_ring *ring, int64_t timeout_us);

/* Copies up to 'max' completions into 'out', releases them from the CQ
 * with one advance, and returns how many. */
unsigned ub_ring_reap(struct ub_ring *ring, struct ub_cqe *out, unsigned max);

/* ---- buffers ---- */

/* The memory of pool buffer 'bid'. */
void *ub_ring_buf(struct ub_ring *ring, uint16_t bid);
/* Adds 'n' references (pending sends) to the buffer with handle 'buf'. */
void ub_ring_buf_get(struct ub_ring *ring, uint32_t buf, uint16_t n);
/* Drops one reference; at zero the buffer goes back to its owner (the
 * pool, or the back end whose area it is in). A buffer handed over with
 * no reference yet (a fresh receive) goes back at once. A pool buffer not
 * handed over (put twice, or never received) is left alone and counted;
 * a get on one is ignored. */
void ub_ring_buf_put(struct ub_ring *ring, uint32_t buf);
/* Buffers now in the kernel's hands for receives. */
uint32_t ub_ring_bufs_free(const struct ub_ring *ring);
/* Puts refused as above: a bug of ours, never of the input. */
uint64_t ub_ring_bufs_bad_puts(const struct ub_ring *ring);
/* Publishes returned buffers to the kernel; call once per loop turn. */
void ub_ring_bufs_commit(struct ub_ring *ring);

/* Copies: buffers of the ring's own for frames that leave changed. */
#define UB_COPY_COUNT 256
/*
 * Hands out a copy buffer (UB_BUF_SIZE bytes at '*mem', handle '*buf'),
 * unreferenced like a fresh receive: the caller takes its references, and
 * the last put gives it back. 0, -ENOBUFS when all are in use, or -errno
 * when the first could not be made.
 */
int ub_ring_copy_buf(struct ub_ring *ring, uint32_t *buf, uint8_t **mem);

/* ---- generic requests (control socket, signals) ---- */

int ub_ring_accept(struct ub_ring *ring, int fd, uint64_t ud);
int ub_ring_recv(struct ub_ring *ring, int fd, void *buf, size_t len,
		 uint64_t ud);
/* A single recvmsg into 'msg' (which must live until it completes),
 * descriptors passed with SCM_RIGHTS marked close-on-exec. */
int ub_ring_recvmsg(struct ub_ring *ring, int fd, struct msghdr *msg,
		    uint64_t ud);
int ub_ring_send(struct ub_ring *ring, int fd, const void *buf, size_t len,
		 uint64_t ud);
int ub_ring_read(struct ub_ring *ring, int fd, void *buf, size_t len,
		 uint64_t ud);
int ub_ring_write(struct ub_ring *ring, int fd, const void *buf, size_t len,
		  uint64_t ud);
/* Cancels every request carrying 'ud'. */
int ub_ring_cancel(struct ub_ring *ring, uint64_t ud);
/* Cancels every request in flight and waits for the cancel: what they
 * held (the ports' sockets above all) is let go when this returns,
 * rather than by the kernel some time after the ring is freed. Its
 * completions are dropped: for a ring about to be freed. 0 or -errno. */
int ub_ring_quiesce(struct ub_ring *ring);

/* ---- ports ---- */

/* What sets a port kind apart, for core (which compares ops only to reach
 * a back end's own API: core/vxlan.c). */
enum ub_port_flags {
	/* Receives through memory the kernel fills, which the loop polls
	 * with rx_next (arm_rx only arms a wake-up). */
	UB_PORT_F_POLLED = 1 << 0,
	/* The port made its device and removes it when it closes; the
	 * device's state shows through the port's fd, not through link
	 * events (it may live in another namespace). */
	UB_PORT_F_OWN_DEVICE = 1 << 1,
	/* The port has no network interface at all (a VXLAN port is a UDP
	 * socket): nothing to check or claim, no link state; it forwards
	 * from the start. Its name is the bridge's alone. */
	UB_PORT_F_NO_DEVICE = 1 << 2,
	/* Every frame its tx_put takes costs less there than as a send,
	 * unicast frames too: ub_port_xmit() tries tx_put first always. */
	UB_PORT_F_TX_PUT = 1 << 3,
};

/* Sends in flight per port; past it, frames for the port are dropped
 * (back-pressure, UB_XMIT_BUSY). A TX ring's flush, at most one per port
 * and batch, counts as in flight too but is never refused. */
#define UB_PORT_TX_MAX 512

/* A port's transmit state: io's own (ub_port_xmit and friends). */
struct ub_port_tx {
	uint32_t inflight; /* sends and flushes queued, not completed */
	uint32_t ring_put; /* frames in the TX ring since its last flush */
	/* Since the last flush a frame went as a send after frames in the
	 * TX ring: later frames are sends too, or they would overtake it. */
	bool sends_only;
	/* ub_port_flush() is owed before the batch ends. */
	bool flush_due;
	/* tx_put found the ring full: the flush is owed even with nothing
	 * new in it (the kernel may have stopped short of its end). */
	bool ring_full;
};

struct ub_port_io {
	int fd;
	int ifindex;
	uint32_t mtu;
	struct ub_mac mac;
	const struct ub_port_ops *ops;
	void *priv; /* the back end's own state, if any */
	/* In, for a back end configured at open (a VXLAN port's struct
	 * ub_vxlan_cfg); NULL otherwise. Only read during open. */
	const void *cfg;
	/* In, for ring back ends: the full RX ring's size in bytes (the TX
	 * ring, if any, gets a quarter); 0: UB_RING_BYTES_DEFAULT. */
	uint32_t ring_bytes;
	/* In: the idle ring's size in bytes, a port's ring while its traffic
	 * is light; 0: the full ring from the start, for good. */
	uint32_t ring_idle_bytes;
	/* Out: the RX ring's size now; 0 for a port without one. */
	uint32_t rx_ring_bytes;
	/* Out: why open failed, or what it settled for instead of what was
	 * asked (static text); NULL: nothing to say. */
	const char *why;
	/* Set by the back end (in rx_next) when it wants rx_upkeep. */
	bool rx_upkeep;
	/* Set by a completion-driven back end (in rx_frame) that holds
	 * frames for rx_next: one completion brought several. */
	bool rx_more;
	struct ub_port_tx tx;
};

/* The full ring: 2048 slots at an MTU of 1500, so that a burst of that
 * many frames arriving while the bridge is not running waits there. Rings
 * of 128 and 512 forwarded as fast in the benchmarks (bench/RESULTS.md,
 * issue 12) but lost bursts of 500 and 1800 frames sent back to back that
 * this one takes whole. */
#define UB_RING_BYTES_DEFAULT (4U << 20)
/* The idle ring: 2048 slots of 128 bytes; a frame that does not fit
 * (larger than an ARP request) waits in the socket's queue, whose memory
 * comes and goes with the frames. */
#define UB_RING_IDLE_BYTES_DEFAULT (256U << 10)

/* A received frame, ready for core: starts with the virtio-net header. */
struct ub_frame {
	uint8_t *data;
	uint32_t len;   /* virtio-net header + Ethernet frame */
	uint32_t buf;   /* the buffer holding it (handle) */
	/* Which of the port's remote endpoints sent it (a VXLAN port's VTEP,
	 * see ub_port_ops.remote_fmt); 0: none, as for every other port.
	 * The FDB learns the source on (port, remote). */
	uint32_t remote;
};

static inline uint8_t *ub_frame_eth(const struct ub_frame *f)
{
	return f->data + UB_VNET_HLEN;
}

static inline uint32_t ub_frame_eth_len(const struct ub_frame *f)
{
	return f->len - UB_VNET_HLEN;
}

enum ub_rx_status {
	UB_RX_OK,
	UB_RX_TRUNCATED, /* larger than a buffer: dropped */
	UB_RX_MALFORMED, /* shorter than its headers: dropped */
	UB_RX_NONE,      /* rx_next: nothing more to take now */
	UB_RX_REFUSED,   /* dropped by the back end, which counted it under
			  * a name of its own (ub_port_ops.counters) */
	UB_RX_LATER,     /* rx_frame: taken by the back end, whose rx_next
			  * hands it over (after frames it holds already) */
};

/* A counter of a back end's own, for "port show". */
struct ub_port_counter {
	const char *name; /* "rx_drop_vxlan_vni" */
	uint64_t value;
};

/*
 * A back end. Core uses the receive half directly and the transmit half
 * only through ub_port_xmit() and ub_port_flush() below, which keep the
 * order between a TX ring and plain sends.
 *
 * It receives in one of two ways:
 * - completion-driven: arm_rx queues a (multishot) receive into the pool,
 *   and each completion with a buffer becomes a frame through rx_frame;
 * - polled (UB_PORT_F_POLLED): the kernel fills memory of the back end's
 *   own; arm_rx queues a one-shot wake-up (a completion without a buffer
 *   when frames are waiting, at once if some are), and the loop takes
 *   frames with rx_next whenever it likes, with or without a wake-up
 *   (busy polling). The loop arms it again only once rx_next found the
 *   port empty: while the loop is busy with a port, the kernel's
 *   deliveries into it wake nobody (each wake-up costs the sending CPU,
 *   per frame, with a wake-up armed).
 * Either way the caller owns the frame's buffer (f->buf) afterwards, also
 * when the status is an error: it takes references for its sends, or puts
 * the buffer back at once.
 */
struct ub_port_ops {
	const char *kind;
	unsigned flags; /* enum ub_port_flags */
	/* The requests arm_rx arms, each completing with its 'ud' (0: one).
	 * The port is armed again once all have ended; one that ends by
	 * itself (not cancelled) has the others cancelled. */
	uint8_t rx_wakeups;
	/* Opens the port on interface 'ifname'; fills 'p' (p->ring_bytes
	 * is the caller's; p->ops too, but that a back end may hand the port
	 * to a sibling back end it falls back to). It may take a while (setting up
	 * a TPACKET ring waits for an RCU grace period): the caller holds
	 * nothing the data path needs meanwhile. */
	int (*open)(const char *ifname, struct ub_port_io *p);
	/* Optional: lends the port's own receive buffers to 'ring', the ring
	 * of the thread that will receive from it. Quick; 0 or -errno. */
	int (*attach)(struct ub_ring *ring, struct ub_port_io *p);
	/* Optional: takes them back; only once ub_port_idle(). */
	void (*detach)(struct ub_ring *ring, struct ub_port_io *p);
	/* Closes what open made, after detach; it may take a while too (each
	 * AF_PACKET socket and ring waits for a grace period as it goes). */
	void (*close)(struct ub_port_io *p);
	/* Arms the receive (or, when polled, its wake-up). */
	int (*arm_rx)(struct ub_ring *ring, struct ub_port_io *p, uint64_t ud);
	/* Completion-driven: turns a receive completion's pool buffer 'bid'
	 * (already in f->buf; f->remote is 0) into a frame. */
	enum ub_rx_status (*rx_frame)(struct ub_ring *ring,
				      struct ub_port_io *p, int res,
				      uint16_t bid, struct ub_frame *f);
	/* Polled, or completion-driven with p->rx_more set: takes the next
	 * received frame, or says UB_RX_NONE. */
	enum ub_rx_status (*rx_next)(struct ub_ring *ring, struct ub_port_io *p,
				     struct ub_frame *f);
	/* Buffers of the port's own that sends still reference. NULL: the
	 * back end has none (it receives into the pool). */
	uint32_t (*rx_held)(struct ub_ring *ring, struct ub_port_io *p);
	/* Polled ports (required): a wake-up ended with an error pending
	 * on the socket (POLLERR: the link went down, say). Takes it, 0 or
	 * -errno, so that the next wake-up armed waits for frames instead of
	 * ending at once. */
	int (*rx_take_error)(struct ub_port_io *p);
	/*
	 * Optional: upkeep of a receive that follows the port's traffic (a
	 * ring that grows under load and shrinks when idle), done by the
	 * control thread when rx_next set p->rx_upkeep, and about once a
	 * second anyway. rx_upkeep_begin, under the lock ('now_ms': the
	 * bridge's clock), says whether there is slow work; if so,
	 * rx_upkeep_run does it without the lock (it may block, and touches
	 * nothing rx_next uses), and rx_upkeep_end finishes under the lock:
	 * the KiB of the ring the port moves to when the receive's wake-up
	 * must be armed anew (its worker cancels it and arms it again), 0,
	 * or -errno when the work failed (the receive goes on as it was).
	 */
	bool (*rx_upkeep_begin)(struct ub_ring *ring, struct ub_port_io *p,
				uint64_t now_ms);
	void (*rx_upkeep_run)(struct ub_port_io *p);
	int (*rx_upkeep_end)(struct ub_ring *ring, struct ub_port_io *p);
	/* Queues a send of 'f' (the buffer's reference is the caller's).
	 * NULL: every frame goes through tx_put. */
	int (*send)(struct ub_ring *ring, struct ub_port_io *p,
		    const struct ub_frame *f, uint64_t ud);
	/* A transmit ring: copies 'f' into the port's next free TX slot,
	 * where it waits for tx_flush; no reference to f->buf is kept.
	 * 'remote': the remote endpoint it goes to (0: each of the port's
	 * flood list); only a port with remotes looks at it. 0; -ENOBUFS:
	 * no free slot; -EMSGSIZE: 'f' is not for the ring (larger than a
	 * slot): it must be a send; -EPROTO: refused and counted by the back
	 * end. NULL: no TX ring. */
	int (*tx_put)(struct ub_port_io *p, const struct ub_frame *f,
		      uint32_t remote);
	/* Queues the requests that hand the kernel every frame tx_put since
	 * the last flush: one for a TX ring; each completes with 'ud', whose
	 * aux the back end may set (tx_flushed gets it back). Returns how
	 * many it queued, or -errno when it could queue none. */
	int (*tx_flush)(struct ub_ring *ring, struct ub_port_io *p,
			uint64_t ud);
	/* Optional: one of tx_flush's requests completed with 'res'. */
	void (*tx_flushed)(struct ub_port_io *p, uint32_t aux, int res);
	/* Optional: the back end's own counters, up to 'max' into 'out';
	 * returns how many. */
	uint32_t (*counters)(const struct ub_port_io *p,
			     struct ub_port_counter *out, uint32_t max);
	/* Optional, for a port with remote endpoints: writes remote 'remote'
	 * (as in FDB entries) as text, e.g. "192.0.2.7". False when the
	 * port has no such remote. */
	bool (*remote_fmt)(const struct ub_port_io *p, uint32_t remote,
			   char *buf, size_t len);
	/* Frames the kernel dropped before we could receive them (its queue
	 * was full), since the last call. NULL: the back end cannot tell. */
	uint64_t (*rx_dropped)(struct ub_port_io *p);
};

/* AF_PACKET on an existing interface (packet.c), receiving with a
 * multishot recvmsg into the pool. */
extern const struct ub_port_ops ub_port_packet_ops;
/* AF_PACKET receiving through a TPACKET_V2 ring (packet.c): the kernel
 * copies each frame into the ring in the sender's softirq, and the bridge
 * forwards straight out of it. Frames larger than a ring slot (GSO) come
 * through the socket queue into a few large buffers of the port's own.
 * The ring is small while the port's traffic is light, and moves to a
 * full one under load (rx_upkeep). */
extern const struct ub_port_ops ub_port_packet_ring_ops;
/* The same with a PACKET_TX_RING (packet.c): frames to send are copied
 * into the port's TX ring and handed to the kernel with one send per
 * flush; frames larger than a slot are sends. */
extern const struct ub_port_ops ub_port_packet_rings_ops;
/* The RX ring port, and an AF_XDP socket beside it that takes every
 * frame up to the MTU (packet.c, xsk.c): received without a system call,
 * sent with a kick per batch. Opening fails where XDP cannot attach. */
extern const struct ub_port_ops ub_port_packet_xdp_ops;
/* The same where XDP attaches; elsewhere open makes the port a
 * ub_port_packet_rings_ops port, and p->why says why. */
extern const struct ub_port_ops ub_port_packet_auto_ops;
/* A TAP device the port creates, and removes when it closes (tap.c). The
 * device comes up down, with the kernel's default MTU: the caller sets
 * link state over netlink. */
extern const struct ub_port_ops ub_port_tap_ops;
/* A VXLAN tunnel endpoint (vxlan_port.c): frames go to remote endpoints
 * in UDP datagrams; see ubridge/vxlan.h. */
extern const struct ub_port_ops ub_port_vxlan_ops;

/* ---- transmit (port.c) ---- */

enum ub_xmit {
	UB_XMIT_RING,  /* copied into the TX ring; leaves at the flush */
	UB_XMIT_SEND,  /* a send out of the frame's buffer, which holds a
			* reference until ub_port_sent() */
	UB_XMIT_BUSY,  /* dropped: UB_PORT_TX_MAX in flight, or TX ring full */
	UB_XMIT_ERROR, /* dropped: no request could be queued */
	UB_XMIT_REFUSED, /* dropped and counted by the back end */
};

/*
 * Queues frame 'f' on port 'p', for its remote 'remote' (0: none, or the
 * flood list): into its TX ring when 'use_ring' and the port has one (and
 * always when it has no send), else (and always for a frame the ring
 * cannot take) as a send whose completion carries 'ud_send'. Frames leave in the order they
 * were queued: a send after frames in the ring flushes the ring first
 * ('ud_flush'), and the port's later frames until ub_port_flush() are
 * sends too. Sets p->tx.flush_due when ub_port_flush() is owed before the
 * batch ends.
 */
enum ub_xmit ub_port_xmit(struct ub_ring *ring, struct ub_port_io *p,
			  const struct ub_frame *f, uint32_t remote,
			  bool use_ring,
			  uint64_t ud_send, uint64_t ud_flush);
/* Ends the port's batch: hands the kernel what its TX ring holds, with
 * requests completing with 'ud' (one for a TX ring). 0, or -errno when no request could be
 * queued (the frames wait in the ring for the next flush). */
int ub_port_flush(struct ub_ring *ring, struct ub_port_io *p, uint64_t ud);
/* A send of the port completed: drops its reference to buffer 'buf'. */
void ub_port_sent(struct ub_ring *ring, struct ub_port_io *p, uint32_t buf);
/* One of a flush's requests completed with 'res'; 'aux' is its ud's. */
void ub_port_flushed(struct ub_port_io *p, uint32_t aux, int res);
/* Nothing of the port's is in flight: no send, no flush, no buffer of its
 * own referenced. It may close. */
bool ub_port_idle(struct ub_ring *ring, struct ub_port_io *p);

/* ---- captures ---- */

/*
 * A pcap file (libpcap format, nanosecond timestamps) fed from the data
 * path. The data path filters and copies frames into a ring; a writer
 * thread of the capture's own writes them out, flushing at least twice a
 * second. When the ring is full the frame is dropped for the capture and
 * counted; forwarding never waits.
 */
struct ub_capture;

/* Files one capture may rotate through. */
#define UB_CAP_FILES_MAX 64

struct ub_capture_cfg {
	const char *path;      /* for messages; rotated files are PATH.0, ... */
	bool stream;           /* fds[0] is a stream's socket, not a file */
	/* What it writes, already open (the capture never opens a path):
	 * one file or stream, or with rotation 'rotate_files' files, the
	 * i-th being PATH.i. Taken over, closed at the end, also when
	 * ub_capture_new() fails. */
	const int *fds;
	uint32_t nfds;
	const char *filter;    /* a libpcap filter expression; NULL: all */
	uint32_t snaplen;      /* bytes kept per frame; 0: 262144 */
	uint64_t count;        /* stop after this many frames; 0: never */
	uint64_t rotate_bytes; /* start the next file past this size; 0: never */
	uint32_t rotate_files; /* with rotation: files kept, then reused */
	/* Add to the first file (fds[0] must be readable too). A torn last
	 * record (a writer killed mid-write) is cut off first; a file whose
	 * header is not this capture's, or too short to be one and not the
	 * start of ours, is refused (-EINVAL) and left as it is. */
	bool append;
};

struct ub_capture_stats {
	uint64_t written; /* frames in the file(s) */
	uint64_t bytes;   /* their length on the wire */
	uint64_t dropped; /* frames lost because the writer fell behind */
	int error;        /* 0, or the first write error (-errno) */
};

/* Compiles the filter, creates the (first) file and starts the writer.
 * On failure returns -errno with a one-line reason in 'err'. When a write
 * fails (disk full, a stream's reader went away) the capture finishes by
 * itself: see ub_capture_finished(). */
int ub_capture_new(const struct ub_capture_cfg *cfg, struct ub_capture **out,
		   char *err, size_t errlen);
/* Data path: offers one Ethernet frame. True when the capture took it. */
bool ub_capture_offer(struct ub_capture *c, const struct timespec *ts,
		      const uint8_t *frame, uint32_t len);
/* True once 'count' frames were taken. */
bool ub_capture_complete(const struct ub_capture *c);
/* Asks the writer to write what it holds, close the file and finish. */
void ub_capture_stop(struct ub_capture *c);
/* True once the writer finished: stopped, or a write failed. */
bool ub_capture_finished(const struct ub_capture *c);
void ub_capture_get_stats(const struct ub_capture *c,
			  struct ub_capture_stats *st);
/* Stops the capture if needed, waits for its writer, frees it. */
void ub_capture_free(struct ub_capture *c);

#endif
