/* SPDX-License-Identifier: MIT */
/*
 * The data path of one worker's turn (core/datapath.c) over fake ports:
 * a polled back end whose frames sit in a buffer area of its own, sends
 * and a TX ring that only write down what would reach the wire, and
 * completions the test delivers by hand. What it pins: who gets a frame
 * (flood without the ingress port, known unicast, drops by reason),
 * buffer references (a buffer goes back once, after its last send), the
 * order of TX ring frames against sends, a detached port's slot
 * waiting for its sends, and the loop guard's choices (which port a
 * probe or flapping blocks, forged probes, guards turned off).
 */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <ubridge/claim.h>

#include "bridge_private.h"
#include "datapath.h"
#include "forward.h"
#include "guard.h"
#include "io_private.h"

#define NPORTS 4
#define NBUFS 16
#define BUF 2048
/* A TX ring slot: frames longer than this are sends (-EMSGSIZE). */
#define SLOT 200
#define WIRE_MAX 256

/* A frame as it reached the wire. */
struct seen {
	uint32_t port;
	uint32_t tag;	/* the test's tag: its last byte (inject) */
	uint32_t len;	/* the Ethernet frame's */
	int tci;	/* its 802.1Q tag's TCI; -1: none */
};

struct fake {
	uint32_t area;
	uint8_t mem[NBUFS][BUF];
	uint32_t released[NBUFS]; /* how often each buffer came back */
	/* Frames waiting to be received: buffer indexes, in order. */
	uint32_t rxq[NBUFS], rx_head, rx_tail;
	uint32_t next_buf;
	bool has_ring;
	uint32_t ring_cap;
	struct seen ring[WIRE_MAX]; /* frames put, not flushed */
	uint32_t ring_n;
	uint32_t flushes;
	bool closed;
	bool armed; /* its wake-up is armed */
};

/* What reached the wire, in order. */
static struct seen wire[WIRE_MAX];
static uint32_t nwire;
static struct fake fakes[NPORTS];
static struct ub_bridge *br;
static struct ub_port *ports[NPORTS];
/* Sends queued, not completed yet: their user_data. */
static uint64_t pending[WIRE_MAX];
static uint32_t npending;

static const struct ub_mac bcast = { { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } };

static struct ub_mac host(int i)
{
	return (struct ub_mac){ { 0x02, 0, 0, 0, 0x10, (uint8_t)i } };
}

static struct fake *fake_of(const struct ub_port_io *p)
{
	return p->priv;
}

/* A frame's tag: its last payload byte, set by inject(). */
static uint32_t tag_of(const struct ub_frame *f)
{
	return f->data[f->len - 1];
}

static void fake_release(void *arg, uint32_t idx)
{
	((struct fake *)arg)->released[idx]++;
}

static int fake_open(const char *ifname, struct ub_port_io *p)
{
	int i = ifname[4] - '0';
	struct fake *f = &fakes[i];

	p->priv = f;
	p->fd = -1;
	/* No real interface's: its claim must not meet a real port's. */
	p->ifindex = 0x7ffff000 + i;
	p->mtu = 1500;
	p->mac = (struct ub_mac){ { 0x02, 0xaa, 0, 0, 0, (uint8_t)i } };
	return 0;
}

static int fake_attach(struct ub_ring *ring, struct ub_port_io *p)
{
	struct fake *f = fake_of(p);

	return ub_ring_area_add__(ring, NBUFS, fake_release, f, &f->area);
}

static void fake_detach(struct ub_ring *ring, struct ub_port_io *p)
{
	ub_ring_area_del__(ring, fake_of(p)->area);
}

static void fake_close(struct ub_port_io *p)
{
	fake_of(p)->closed = true;
}

static int fake_arm_rx(struct ub_ring *ring, struct ub_port_io *p, uint64_t ud)
{
	fake_of(p)->armed = true;
	return 0;
}

static int fake_rx_take_error(struct ub_port_io *p)
{
	return 0;
}

static enum ub_rx_status fake_rx_next(struct ub_ring *ring,
				      struct ub_port_io *p, struct ub_frame *fr)
{
	struct fake *f = fake_of(p);
	uint32_t idx;

	if (f->rx_head == f->rx_tail)
		return UB_RX_NONE;
	idx = f->rxq[f->rx_head++ % NBUFS];
	fr->data = f->mem[idx];
	memcpy(&fr->len, f->mem[idx] + BUF - sizeof(fr->len), sizeof(fr->len));
	fr->buf = ub_buf_handle__(f->area, idx);
	return UB_RX_OK;
}

static uint32_t fake_rx_held(struct ub_ring *ring, struct ub_port_io *p)
{
	return ub_ring_area_held__(ring, fake_of(p)->area);
}

static struct seen seen_of(const struct ub_frame *f)
{
	const uint8_t *eth = ub_frame_eth(f);
	struct seen s = { .tag = tag_of(f), .len = ub_frame_eth_len(f),
			  .tci = -1 };

	if (eth[12] == 0x81 && eth[13] == 0)
		s.tci = eth[14] << 8 | eth[15];
	return s;
}

static void on_wire(const struct ub_port_io *p, struct seen s)
{
	assert_true(nwire < WIRE_MAX);
	s.port = (uint32_t)(fake_of(p) - fakes);
	wire[nwire++] = s;
}

static int fake_send(struct ub_ring *ring, struct ub_port_io *p,
		     const struct ub_frame *f, uint64_t ud)
{
	on_wire(p, seen_of(f));
	pending[npending++] = ud;
	return 0;
}

static int fake_tx_put(struct ub_port_io *p, const struct ub_frame *fr,
		       uint32_t remote)
{
	struct fake *f = fake_of(p);

	if (!f->has_ring || fr->len > SLOT)
		return -EMSGSIZE;
	if (f->ring_n == f->ring_cap)
		return -ENOBUFS;
	f->ring[f->ring_n++] = seen_of(fr);
	return 0;
}

static int fake_tx_flush(struct ub_ring *ring, struct ub_port_io *p,
			 uint64_t ud)
{
	struct fake *f = fake_of(p);

	for (uint32_t i = 0; i < f->ring_n; i++)
		on_wire(p, f->ring[i]);
	f->ring_n = 0;
	f->flushes++;
	pending[npending++] = ud;
	return 1;
}

static const struct ub_port_ops fake_ops = {
	.kind = "fake",
	/* Its own device: no link state from netlink. */
	.flags = UB_PORT_F_POLLED | UB_PORT_F_OWN_DEVICE,
	.open = fake_open,
	.attach = fake_attach,
	.detach = fake_detach,
	.close = fake_close,
	.arm_rx = fake_arm_rx,
	.rx_next = fake_rx_next,
	.rx_take_error = fake_rx_take_error,
	.rx_held = fake_rx_held,
	.send = fake_send,
	.tx_put = fake_tx_put,
	.tx_flush = fake_tx_flush,
};

static struct ub_worker *self(void)
{
	return &br->workers[0];
}

/* A frame dst <- src of 'len' bytes (with its virtio-net header) waiting
 * on port 'in', marked 'tag', with an 802.1Q tag 'tci' (-1: none). */
static void inject_vlan(int in, const struct ub_mac *dst,
			const struct ub_mac *src, uint32_t len, int tci,
			uint8_t tag)
{
	struct fake *f = &fakes[in];
	uint32_t idx = f->next_buf++ % NBUFS;
	uint8_t *b = f->mem[idx], *type = b + UB_VNET_HLEN + 12;

	memset(b, 0, len);
	memcpy(b + UB_VNET_HLEN, dst->b, 6);
	memcpy(b + UB_VNET_HLEN + 6, src->b, 6);
	if (tci >= 0) {
		type[0] = 0x81;
		type[2] = (uint8_t)(tci >> 8);
		type[3] = (uint8_t)tci;
		type += 4;
	}
	type[0] = 0x08;
	b[len - 1] = tag;
	memcpy(b + BUF - sizeof(len), &len, sizeof(len));
	f->rxq[f->rx_tail++ % NBUFS] = idx;
}

static void inject(int in, const struct ub_mac *dst, const struct ub_mac *src,
		   uint32_t len, uint8_t tag)
{
	inject_vlan(in, dst, src, len, -1, tag);
}

/* Port i's armed wake-up completes (frames are waiting), as the
 * kernel's would. */
static void wake(int i)
{
	struct ub_cqe c = {
		.user_data = ub_ud_make(UB_OP_RX,
					ub_port_id(&br->ports, ports[i]), 0),
		.res = POLLIN,
	};
	struct ub_rx rx;

	fakes[i].armed = false;
	assert_false(ub_dp_on_rx(br, self(), &c, &rx));
}

/* One turn: the armed wake-ups of ports with frames waiting complete;
 * the loop takes what the ports hold, and forwards it. Returns the frames
 * that passed pass 1. */
static unsigned turn(void)
{
	struct ub_rx batch[UB_BATCH_MAX];
	unsigned n;

	for (int i = 0; i < NPORTS; i++)
		if (fakes[i].armed && fakes[i].rx_head != fakes[i].rx_tail)
			wake(i);
	n = ub_dp_poll(br, self(), batch, 0);

	ub_dp_forward(br, self(), batch, n);
	return n;
}

/* Completes every pending send and flush with result 'res'. */
static void complete_all(int res)
{
	for (uint32_t i = 0; i < npending; i++) {
		struct ub_cqe c = { .user_data = pending[i], .res = res };

		if (ub_ud_op(c.user_data) == UB_OP_TX && res >= 0)
			c.res = 60 + (int)UB_VNET_HLEN;
		ub_dp_on_tx(br, self(), &c);
	}
	npending = 0;
}

static uint32_t wire_count(uint32_t port)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < nwire; i++)
		n += wire[i].port == port;
	return n;
}

static int setup(void **state)
{
	struct ub_fdb_cfg fcfg;
	char err[200];

	memset(fakes, 0, sizeof(fakes));
	nwire = npending = 0;
	br = calloc(1, sizeof(*br));
	assert_non_null(br);
	/* Its own name: ports claim their devices under /run/ubridge. */
	snprintf(br->name, sizeof(br->name), "ubt-dp%d", (int)getpid() % 100000);
	br->caps.bridge = br->name;
	br->nworkers = 1;
	br->now = 1000000;
	br->guard.probe_fd = -1;
	br->guard.id = 0x5eed;
	br->guard.hold_ms = UB_GUARD_HOLD_MS;
	pthread_mutex_init(&br->lock, NULL);
	assert_int_equal(ub_worker_init(&br->workers[0], br, 0), 0);
	assert_int_equal(ub_worker_init(ub_ctl_worker(br), br, UB_WORKER_CTL),
			 0);
	/* The test is every thread at once: worker 0 and the control
	 * thread, which attaches and detaches under the lock. */
	ub_bridge_lock(br);
	ub_fdb_cfg_default(&fcfg);
	fcfg.ports = UB_PORTS_MAX;
	fcfg.secret = 7;
	assert_int_equal(ub_fdb_new(&fcfg, &br->fdb), 0);
	for (int i = 0; i < NPORTS; i++) {
		char name[8];

		snprintf(name, sizeof(name), "fake%d", i);
		assert_int_equal(ub_port_open(br, name, &fake_ops, NULL, err,
					      sizeof(err)), 0);
		ports[i] = ub_port_find(&br->ports, name);
		assert_non_null(ports[i]);
	}
	return 0;
}

static int teardown(void **state)
{
	complete_all(0);
	ub_ports_close_all(br);
	ub_claim_dir_remove(UB_CTL_RUNDIR, br->name);
	ub_worker_fini(&br->workers[0]);
	ub_worker_fini(ub_ctl_worker(br));
	ub_bridge_unlock(br);
	pthread_mutex_destroy(&br->lock);
	ub_fdb_free(br->fdb);
	free(br);
	return 0;
}

/* A broadcast goes to every port but the one it came in on; its buffer
 * is held by each send and goes back once, after the last. */
static void test_flood_skips_ingress(void **state)
{
	struct ub_mac a = host(0);

	inject(0, &bcast, &a, 60, 1);
	assert_int_equal(turn(), 1);
	assert_int_equal(wire_count(0), 0);
	for (int i = 1; i < NPORTS; i++)
		assert_int_equal(wire_count((uint32_t)i), 1);
	assert_int_equal(ub_ring_buf_refs__(self()->ring,
					    ub_buf_handle__(fakes[0].area, 0)),
			 NPORTS - 1);
	assert_int_equal(fakes[0].released[0], 0);
	complete_all(0);
	assert_int_equal(fakes[0].released[0], 1);
	assert_int_equal(ports[1]->tx_packets, 1);
}

/* A polled port's wake-up, once ended, is armed again only when the
 * port was found empty: not while frames wait that the batch had no room
 * for (the loop comes back for them by itself). */
static void test_wakeup_armed_when_empty(void **state)
{
	struct ub_rx batch[UB_BATCH_MAX];
	struct ub_mac a = host(0);

	/* Not armed yet: found empty, armed. */
	assert_int_equal(turn(), 0);
	for (int i = 0; i < NPORTS; i++) {
		assert_true(fakes[i].armed);
		assert_int_equal(ports[i]->rx_armed, 1);
	}
	inject(0, &bcast, &a, 60, 1);
	inject(0, &bcast, &a, 60, 2);
	wake(0);
	assert_int_equal(ports[0]->rx_armed, 0);
	/* Room for one frame: one taken, one left, not armed. */
	assert_int_equal(ub_dp_poll(br, self(), batch, UB_BATCH_MAX - 1),
			 UB_BATCH_MAX);
	ub_dp_forward(br, self(), &batch[UB_BATCH_MAX - 1], 1);
	assert_false(fakes[0].armed);
	assert_int_equal(ports[0]->rx_armed, 0);
	/* The next turn takes the other and finds the port empty: armed. */
	assert_int_equal(turn(), 1);
	assert_true(fakes[0].armed);
	assert_int_equal(ports[0]->rx_armed, 1);
	complete_all(0);
	assert_int_equal(wire_count(1) + wire_count(2) + wire_count(3), 6);
}

/* Once learned, unicast goes to one port only; to the ingress port's own
 * side it is dropped and counted. */
static void test_unicast_and_same_port(void **state)
{
	struct ub_mac a = host(0), b = host(1), a2 = host(9);

	/* One frame a turn: a turn takes a port's frames together. */
	inject(1, &bcast, &b, 60, 1);
	turn();
	inject(0, &b, &a, 60, 2);
	turn();
	inject(0, &a2, &a, 60, 3);	/* unknown: floods */
	turn();
	inject(1, &a, &b, 60, 4);
	turn();
	inject(0, &a, &a2, 60, 5);	/* a sits behind port 0 itself */
	turn();
	complete_all(0);
	/* 1: ports 0, 2, 3; 2: port 1; 3: ports 1, 2, 3; 4: port 0. */
	assert_int_equal(wire_count(0), 2);
	assert_int_equal(wire_count(1), 2);
	assert_int_equal(wire_count(2), 2);
	assert_int_equal(ports[0]->drops[UB_DROP_SAME_PORT], 1);
	/* Every buffer back, once: sent, or dropped at once. */
	for (int i = 0; i < 3; i++)
		assert_int_equal(fakes[0].released[i], 1);
	for (int i = 0; i < 2; i++)
		assert_int_equal(fakes[1].released[i], 1);
}

/* A port whose link is down gets nothing: unicast to it is a counted
 * drop, a flood passes it by. */
static void test_link_down(void **state)
{
	struct ub_mac a = host(0), b = host(1);

	inject(1, &bcast, &b, 60, 1);
	turn();
	complete_all(0);
	nwire = 0;
	ports[1]->link_up = false;
	inject(0, &b, &a, 60, 2);
	inject(0, &bcast, &a, 60, 3);
	turn();
	complete_all(0);
	assert_int_equal(wire_count(1), 0);
	assert_int_equal(ports[1]->drops[UB_DROP_TX_DOWN], 1);
	assert_int_equal(wire_count(2), 1);
	assert_int_equal(fakes[0].released[0] + fakes[0].released[1], 2);
}

/* A frame with another port's own MAC as source is dropped on entry,
 * counted, and teaches nothing. */
static void test_own_mac(void **state)
{
	struct ub_mac own2 = ports[2]->io.mac;
	uint32_t where;

	inject(0, &bcast, &own2, 60, 1);
	assert_int_equal(turn(), 0);
	assert_int_equal(nwire, 0);
	assert_int_equal(ports[0]->drops[UB_DROP_OWN_MAC], 1);
	assert_true(ub_fdb_lookup(br->fdb, &own2, 0, &where, NULL));
	assert_int_equal(where, ub_port_id(&br->ports, ports[2]));
	assert_int_equal(fakes[0].released[0], 1);
}

/* Port 'from''s probe, with tag 'tag', coming in on port 'in'. */
static void inject_probe(int in, int from, uint64_t tag)
{
	struct fake *f = &fakes[in];
	uint32_t idx = f->next_buf++ % NBUFS, len = UB_VNET_HLEN + UB_PROBE_LEN;
	uint8_t *b = f->mem[idx];

	memset(b, 0, UB_VNET_HLEN);
	ub_probe_build(b + UB_VNET_HLEN, &ports[from]->io.mac, br->guard.id,
		       ub_port_id(&br->ports, ports[from]), tag);
	memcpy(b + BUF - sizeof(len), &len, sizeof(len));
	f->rxq[f->rx_tail++ % NBUFS] = idx;
}

static enum ub_guard_why blocked(int i)
{
	return ports[i]->guard.blocked;
}

/* Port 1's probe back on port 3: the higher of the two is blocked, and
 * then neither takes nor gets frames; the others go on. A probe with a
 * tag port 1 never sent blocks nothing. */
static void test_probe_blocks_higher(void **state)
{
	struct ub_mac a = host(0);

	ports[1]->guard.tag[0] = 0x1111;
	inject_probe(3, 1, 0x2222);
	assert_int_equal(turn(), 0);
	assert_int_equal(ports[3]->drops[UB_DROP_LOOP], 1);
	assert_int_equal(blocked(3), UB_GUARD_NONE);
	assert_int_equal(blocked(1), UB_GUARD_NONE);
	inject_probe(3, 1, 0x1111);
	assert_int_equal(turn(), 0);
	assert_int_equal(blocked(3), UB_GUARD_LOOP);
	assert_int_equal(blocked(1), UB_GUARD_NONE);
	assert_string_equal(ports[3]->guard.peer, ports[1]->name);
	/* Nothing out to port 3, nothing in from it. */
	inject(0, &bcast, &a, 60, 1);
	assert_int_equal(turn(), 1);
	assert_int_equal(wire_count(3), 0);
	assert_int_equal(wire_count(1), 1);
	inject(3, &bcast, &a, 60, 2);
	assert_int_equal(turn(), 0);
	assert_int_equal(ports[3]->drops[UB_DROP_BLOCKED], 1);
	/* Port 3's own probe back on port 1: the loop still stands, the
	 * block stays where it is rather than a second one. */
	ports[3]->guard.tag[1] = 0x3333;
	inject_probe(1, 3, 0x3333);
	assert_int_equal(turn(), 0);
	assert_int_equal(blocked(1), UB_GUARD_NONE);
	/* Lifted a hold time after the last probe (the once-a-second
	 * upkeep). */
	br->now += UB_GUARD_HOLD_MS;
	ub_guard_upkeep(br, true);
	assert_int_equal(blocked(3), UB_GUARD_NONE);
}

/* The guard off on the higher port: the lower one takes the block; off
 * on both: none. */
static void test_probe_guard_off(void **state)
{
	ports[2]->guard.tag[0] = 0x22;
	ports[3]->guard.loop_off = true;
	inject_probe(3, 2, 0x22);
	assert_int_equal(turn(), 0);
	assert_int_equal(blocked(3), UB_GUARD_NONE);
	assert_int_equal(blocked(2), UB_GUARD_LOOP);
	br->now += UB_GUARD_HOLD_MS;
	ub_guard_upkeep(br, true);
	ports[2]->guard.loop_off = true;
	inject_probe(3, 2, 0x22);
	assert_int_equal(turn(), 0);
	assert_int_equal(blocked(2), UB_GUARD_NONE);
	assert_int_equal(blocked(3), UB_GUARD_NONE);
}

/* An address jumping between ports 0 and 3 more than UB_GUARD_FLAP_MAX
 * times in a second: the higher of the two is blocked, once; blocked
 * again soon after, for twice as long. */
static void test_flapping(void **state)
{
	struct ub_mac a = host(7);

	for (int k = 0; k < 2; k++) {
		/* (The ports' turns alternate: not every frame moves it.) */
		for (int i = 0; i < 2 * UB_GUARD_FLAP_MAX; i++) {
			inject(0, &bcast, &a, 60, 1);
			inject(3, &bcast, &a, 60, 2);
			turn();
			complete_all(0);
			nwire = 0;
		}
		ub_guard_upkeep(br, true);
		assert_int_equal(blocked(3), UB_GUARD_FLAP);
		assert_int_equal(blocked(0), UB_GUARD_NONE);
		assert_true(ports[3]->guard.until ==
			    br->now + (UB_GUARD_HOLD_MS << k));
		/* Lifted by the once-a-second upkeep, a quiet one. */
		br->now = ports[3]->guard.until;
		ub_guard_upkeep(br, true);
		assert_int_equal(blocked(3), UB_GUARD_NONE);
	}
}

/* Frames to a port with a TX ring leave in the order they came, also
 * when one too large for a slot has to be a send: the ring is flushed
 * before it, and what follows in the batch is sent after it. */
static void test_tx_ring_order(void **state)
{
	struct ub_mac a = host(0);
	uint32_t seen = 0;

	fakes[1].has_ring = true;
	fakes[1].ring_cap = 8;
	inject(0, &bcast, &a, 60, 1);
	inject(0, &bcast, &a, 60, 2);
	inject(0, &bcast, &a, SLOT + 100, 3);
	inject(0, &bcast, &a, 60, 4);
	turn();
	for (uint32_t i = 0; i < nwire; i++)
		if (wire[i].port == 1)
			assert_int_equal(wire[i].tag, ++seen);
	assert_int_equal(seen, 4);
	/* One flush, before the large frame: nothing waits in the ring. */
	assert_int_equal(fakes[1].flushes, 1);
	assert_int_equal(fakes[1].ring_n, 0);
	/* The other ports' sends hold the buffers until they complete. */
	assert_int_equal(fakes[0].released[0], 0);
	complete_all(0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(fakes[0].released[i], 1);
	assert_int_equal(ports[1]->tx_packets, 4);
	assert_int_equal(ports[1]->io.tx.inflight, 0);
}

/* A full TX ring drops with a counter and flushes what it took. */
static void test_tx_ring_full(void **state)
{
	struct ub_mac a = host(0);

	fakes[1].has_ring = true;
	fakes[1].ring_cap = 2;
	for (uint8_t t = 1; t <= 3; t++)
		inject(0, &bcast, &a, 60, t);
	turn();
	assert_int_equal(wire_count(1), 2);
	assert_int_equal(ports[1]->drops[UB_DROP_TX_BUSY], 1);
	assert_int_equal(fakes[1].flushes, 1);
}

/* A send that fails is a counted drop on its port, and its buffer still
 * comes back once. */
static void test_send_error(void **state)
{
	struct ub_mac a = host(0);

	inject(0, &bcast, &a, 60, 1);
	turn();
	complete_all(-EMSGSIZE);
	assert_int_equal(ports[1]->drops[UB_DROP_TX_TOO_BIG], 1);
	assert_int_equal(ports[1]->tx_packets, 0);
	assert_int_equal(fakes[0].released[0], 1);
}

/* A detached port keeps its slot (and its back end open) until the sends
 * out of its buffers have completed; then its worker asks the control
 * thread to close it, which closes it in its housekeeping. */
static void test_del_waits_for_sends(void **state)
{
	struct ub_mac a = host(0);

	inject(0, &bcast, &a, 60, 1);
	turn();
	ports[0]->rx_armed = false;
	ub_port_del(br, ports[0]);
	assert_int_equal(ports[0]->state, UB_PORT_CLOSING);
	assert_false(fakes[0].closed);
	assert_null(ub_port_find(&br->ports, "fake0"));
	/* What the control thread's housekeeping does each turn. */
	ub_port_reap(br);
	ub_port_reap_ask(br, ports[0]);
	assert_false(fakes[0].closed);
	assert_false(ports[0]->reap_asked);
	complete_all(0);
	/* What its worker's housekeeping does each turn. */
	ub_port_reap_ask(br, ports[0]);
	assert_true(ports[0]->reap_asked);
	ub_port_reap(br);
	assert_int_equal(ports[0]->state, UB_PORT_FREE);
	assert_true(fakes[0].closed);
	assert_int_equal(br->ports.nclosing, 0);
}

/* Frames of 70 bytes are 60 on the wire, 74 are 64 (the virtio-net
 * header is 10). Ports 0 access in VLAN 10, 1 a trunk of 10 and 20, 2 access in 20, 3
 * as it came (VLAN 1). */
static void vlan_ports(void)
{
	static struct ub_vlan_port v[3];

	memset(v, 0, sizeof(v));
	ub_vlan_add(&v[0], 10, 10, true, true);
	ub_vlan_add(&v[1], 10, 20, false, false);
	ub_vlan_add(&v[2], 20, 20, true, true);
	for (int i = 0; i < 3; i++)
		ports[i]->vlan = &v[i];
	br->vlan_filtering = true;
}

/* The tables are static: not the ports' to free. */
static void vlan_ports_done(void)
{
	for (int i = 0; i < 3; i++)
		ports[i]->vlan = NULL;
}

/* Filtering on: a flood reaches only the VLAN's ports, and each gets it
 * as it carries the VLAN: tagged on the trunk (pushed, or a priority
 * tag's VID set with its priority kept), untagged on an access port
 * (popped); a frame of a VLAN the port lacks is dropped at the door. */
static void test_vlan_egress(void **state)
{
	struct ub_mac a = host(0), b = host(1);

	vlan_ports();
	inject(0, &bcast, &a, 70, 1);
	turn();
	inject_vlan(1, &bcast, &b, 74, 10, 2);
	turn();
	inject_vlan(0, &bcast, &a, 74, 5 << 13, 3);	/* priority 5, VID 0 */
	turn();
	inject_vlan(1, &bcast, &b, 74, 20, 4);
	turn();
	inject_vlan(1, &bcast, &b, 74, 30, 5);		/* not on the trunk */
	turn();
	inject_vlan(0, &bcast, &a, 74, 20, 6);		/* not on port 0 */
	turn();
	complete_all(0);
	assert_int_equal(nwire, 4);
	assert_int_equal(wire[0].port, 1);
	assert_int_equal(wire[0].len, 64);
	assert_int_equal(wire[0].tci, 10);
	assert_int_equal(wire[1].port, 0);
	assert_int_equal(wire[1].len, 60);
	assert_int_equal(wire[1].tci, -1);
	assert_int_equal(wire[2].port, 1);
	assert_int_equal(wire[2].len, 64);
	assert_int_equal(wire[2].tci, 5 << 13 | 10);
	assert_int_equal(wire[3].port, 2);
	assert_int_equal(wire[3].len, 60);
	assert_int_equal(wire[3].tci, -1);
	for (uint32_t i = 0; i < nwire; i++)
		assert_int_equal(wire[i].tag, i + 1);
	assert_int_equal(ports[1]->drops[UB_DROP_VLAN], 1);
	assert_int_equal(ports[0]->drops[UB_DROP_VLAN], 1);
	vlan_ports_done();
}

/* Unicast follows the FDB within the VLAN; an entry on a port outside
 * it sends nothing (counted on that port). Copies go back to the ring:
 * more frames than it has copies all leave. */
static void test_vlan_unicast_and_copies(void **state)
{
	struct ub_mac a = host(0), b = host(1), c = host(2);

	vlan_ports();
	inject_vlan(1, &bcast, &b, 74, 10, 1);
	turn();
	assert_int_equal(ub_fdb_add_static(br->fdb, &c, 10,
					   ub_port_id(&br->ports, ports[2]), 0),
			 0);
	inject(0, &c, &a, 70, 2);
	turn();
	complete_all(0);
	assert_int_equal(ports[2]->drops[UB_DROP_TX_VLAN], 1);
	for (uint32_t i = 0; i < UB_COPY_COUNT + 10; i++) {
		nwire = 0;
		inject(0, &b, &a, 70, (uint8_t)i);
		turn();
		complete_all(0);
		assert_int_equal(nwire, 1);
		assert_int_equal(wire[0].port, 1);
		assert_int_equal(wire[0].tci, 10);
		assert_int_equal(wire[0].len, 64);
	}
	assert_int_equal(ports[1]->drops[UB_DROP_TX_BUSY], 0);
	vlan_ports_done();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_flood_skips_ingress,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_wakeup_armed_when_empty,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_unicast_and_same_port,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_link_down, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_own_mac, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tx_ring_order, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_tx_ring_full, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_send_error, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_del_waits_for_sends,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_probe_blocks_higher,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_probe_guard_off, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_vlan_egress, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_vlan_unicast_and_copies,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_flapping, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
