/* SPDX-License-Identifier: MIT */
/*
 * A port's impairment at work (core/impair.c), with fixed seeds: what it
 * holds and when each frame is due, the measured shape of its delays and
 * losses against the configuration, the rate's spacing, the queue's
 * limit, duplicates, damage a receiver can see, reordering, a reset and
 * a clear.
 */
#include <endian.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <linux/virtio_net.h>

#include <ubridge/io.h>

#include "impair.h"

#define MS 1000000ull
#define FRAME 74 /* a 64-byte Ethernet frame with its virtio-net header */

static uint8_t frame[2048];

static struct ub_impair *make(const struct ub_impair_cfg *cfg, uint64_t seed)
{
	struct ub_impair *im;

	assert_int_equal(ub_impair_new(cfg, seed, &im), 0);
	return im;
}

static struct ub_impair_cfg cfg_of(void)
{
	struct ub_impair_cfg c;

	ub_impair_cfg_init(&c);
	return c;
}

/* Pops the first frame; its due time. */
static uint64_t pop_due(struct ub_impair *im)
{
	uint64_t due = ub_impair_next_due(im);

	ub_impair_pop(im);
	return due;
}

/* A delay holds each frame exactly that long, in order. */
static void test_delay(void **state)
{
	struct ub_impair_cfg c = cfg_of();
	struct ub_impair *im;
	const uint8_t *data;
	uint32_t len, tag;

	c.delay_ns = 10 * MS;
	im = make(&c, 1);
	for (uint32_t i = 0; i < 100; i++) {
		frame[FRAME - 1] = (uint8_t)i;
		assert_int_equal(ub_impair_admit(im, frame, FRAME, i * MS, i),
				 1);
	}
	assert_false(ub_impair_peek(im, 10 * MS - 1, &data, &len, &tag));
	for (uint32_t i = 0; i < 100; i++) {
		assert_true(ub_impair_peek(im, (10 + i) * MS, &data, &len,
					   &tag));
		assert_int_equal(len, FRAME);
		assert_int_equal(tag, i);
		assert_int_equal(data[FRAME - 1], i);
		assert_int_equal(pop_due(im), (10 + i) * MS);
	}
	assert_int_equal(ub_impair_next_due(im), UINT64_MAX);
	assert_int_equal(im->st.delayed, 100);
	ub_impair_free(im);
}

/* Mean and standard deviation of n delays (ns) drawn one frame a ms. */
static void delays(struct ub_impair *im, int n, double *mean, double *sd,
		   double *max)
{
	double sum = 0, sq = 0;

	*max = 0;
	for (int i = 0; i < n; i++) {
		uint64_t now = (uint64_t)i * MS;
		double d;

		ub_impair_admit(im, frame, FRAME, now, 0);
		/* Jitter may reorder: the frame just held is the one whose
		 * due time is new; pop everything to measure each. */
		d = (double)(ub_impair_next_due(im) - now);
		ub_impair_pop(im);
		sum += d;
		sq += d * d;
		*max = d > *max ? d : *max;
	}
	*mean = sum / n;
	*sd = sqrt(sq / n - *mean * *mean);
}

/* Each distribution has the shape it says, around the delay. */
static void test_jitter(void **state)
{
	struct ub_impair_cfg c = cfg_of();
	double mean, sd, max;
	struct ub_impair *im;

	c.delay_ns = 50 * MS;
	c.jitter_ns = 10 * MS;
	c.dist = UB_IMPAIR_DIST_NORMAL;
	im = make(&c, 2);
	delays(im, 20000, &mean, &sd, &max);
	assert_true(fabs(mean - 50 * MS) < 0.5 * MS);
	assert_true(fabs(sd - 10 * MS) < 0.3 * MS);
	ub_impair_free(im);

	c.dist = UB_IMPAIR_DIST_UNIFORM;
	im = make(&c, 3);
	delays(im, 20000, &mean, &sd, &max);
	assert_true(fabs(mean - 50 * MS) < 0.5 * MS);
	assert_true(fabs(sd - 10 * MS / sqrt(3)) < 0.3 * MS);
	assert_true(max <= 60 * MS);
	ub_impair_free(im);

	/* Pareto: the same mean and spread, with a long tail. */
	c.dist = UB_IMPAIR_DIST_PARETO;
	im = make(&c, 4);
	delays(im, 20000, &mean, &sd, &max);
	assert_true(fabs(mean - 50 * MS) < 1 * MS);
	assert_true(fabs(sd - 10 * MS) < 2 * MS);
	assert_true(max > 90 * MS);
	ub_impair_free(im);
}

/* Random loss: the share asked for; the same seed loses the same frames. */
static void test_loss(void **state)
{
	struct ub_impair_cfg c = cfg_of();
	struct ub_impair *a, *b;
	unsigned held = 0;

	c.loss = UB_IMPAIR_LOSS_RANDOM;
	c.loss_ppm = 100000;
	a = make(&c, 5);
	b = make(&c, 5);
	for (int i = 0; i < 100000; i++) {
		unsigned n = ub_impair_admit(a, frame, FRAME, 0, 0);

		assert_int_equal(ub_impair_admit(b, frame, FRAME, 0, 0), n);
		held += n;
		while (a->n)
			ub_impair_pop(a);
		while (b->n)
			ub_impair_pop(b);
	}
	assert_int_equal(held + a->st.drop_loss, 100000);
	assert_in_range(a->st.drop_loss, 9500, 10500);
	ub_impair_free(a);
	ub_impair_free(b);
}

/* Gilbert-Elliott: losses come in bursts as long as the bad state lasts
 * (1 / r on average), and as many as the time spent in it. */
static void test_gemodel(void **state)
{
	struct ub_impair_cfg c = cfg_of();
	unsigned lost = 0, bursts = 0, run = 0;
	struct ub_impair *im;

	c.loss = UB_IMPAIR_LOSS_GEMODEL;
	c.ge_p_ppm = 10000;	/* 1 % */
	c.ge_r_ppm = 100000;	/* 10 %: bursts of 10 */
	c.ge_h_ppm = UB_IMPAIR_PPM;
	c.ge_k_ppm = 0;
	im = make(&c, 6);
	for (int i = 0; i < 200000; i++) {
		if (ub_impair_admit(im, frame, FRAME, 0, 0)) {
			ub_impair_pop(im);
			bursts += run > 0;
			run = 0;
		} else {
			lost++;
			run++;
		}
	}
	/* p / (p + r) = 9.1 % of the frames, in bursts of 10. */
	assert_in_range(lost, 200000 * 0.08, 200000 * 0.102);
	assert_true(fabs((double)lost / bursts - 10) < 1.5);
	ub_impair_free(im);
}

/* The rate spaces frames by their length: 1000 bytes at 8 Mbit/s are
 * 1 ms each, on top of the delay. */
static void test_rate(void **state)
{
	struct ub_impair_cfg c = cfg_of();
	struct ub_impair *im;

	c.rate_bps = 8000000;
	c.delay_ns = 5 * MS;
	im = make(&c, 7);
	for (int i = 0; i < 10; i++)
		ub_impair_admit(im, frame, UB_VNET_HLEN + 1000, 0, 0);
	for (uint64_t i = 1; i <= 10; i++)
		assert_int_equal(pop_due(im), 5 * MS + i * MS);
	ub_impair_free(im);
}

/* A full queue drops, counted; a duplicate takes a second slot. */
static void test_limit_and_duplicate(void **state)
{
	struct ub_impair_cfg c = cfg_of();
	struct ub_impair *im;

	c.delay_ns = MS;
	c.limit = 10;
	im = make(&c, 8);
	for (int i = 0; i < 15; i++)
		ub_impair_admit(im, frame, FRAME, 0, 0);
	assert_int_equal(im->n, 10);
	assert_int_equal(im->st.drop_limit, 5);
	ub_impair_free(im);

	c.duplicate_ppm = UB_IMPAIR_PPM;
	im = make(&c, 9);
	assert_int_equal(ub_impair_admit(im, frame, FRAME, 0, 0), 2);
	assert_int_equal(im->n, 2);
	assert_int_equal(im->st.duplicated, 1);
	ub_impair_free(im);
}

/* The ones' complement sum of an IPv4 UDP datagram with its pseudo
 * header: 0xffff when its checksum is right. */
static uint16_t udp_sum(const uint8_t *ip, uint32_t len)
{
	uint32_t sum = 0, udp_len = len - 20;

	for (int i = 12; i < 20; i += 2)
		sum += (uint32_t)(ip[i] << 8 | ip[i + 1]);
	sum += 17 + udp_len;
	for (uint32_t i = 20; i + 1 < len; i += 2)
		sum += (uint32_t)(ip[i] << 8 | ip[i + 1]);
	if (len & 1)
		sum += (uint32_t)ip[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* Damage is one bit past the Ethernet header; a checksum left to the
 * kernel is filled in first, so the receiver sees the damage. */
static void test_corrupt(void **state)
{
	struct ub_impair_cfg c = cfg_of();
	uint8_t orig[128], *ip = orig + UB_VNET_HLEN + 14;
	struct virtio_net_hdr *vh = (struct virtio_net_hdr *)orig;
	const uint32_t len = UB_VNET_HLEN + 14 + 20 + 8 + 40;
	const uint8_t *data;
	struct ub_impair *im;
	uint32_t dlen, tag, diff = 0, at = 0;
	uint8_t fixed[128];

	memset(orig, 0, sizeof(orig));
	orig[UB_VNET_HLEN + 12] = 0x08;
	ip[0] = 0x45;
	ip[9] = 17;
	ip[12] = 10, ip[15] = 1, ip[16] = 10, ip[19] = 2;
	for (int i = 28; i < 68; i++)
		ip[i] = (uint8_t)i;
	/* What a sender leaves: the pseudo header's sum, not complemented. */
	ip[24] = 0, ip[25] = 0;
	{
		uint32_t s = 0x0a00 + 0x0001 + 0x0a00 + 0x0002 + 17 + 48;

		ip[26] = (uint8_t)(s >> 8);
		ip[27] = (uint8_t)s;
	}
	vh->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	vh->csum_start = htole16(14 + 20);
	vh->csum_offset = htole16(6);
	c.corrupt_ppm = UB_IMPAIR_PPM;
	im = make(&c, 10);
	assert_int_equal(ub_impair_admit(im, orig, len, 0, 0), 1);
	assert_true(ub_impair_peek(im, 0, &data, &dlen, &tag));
	assert_int_equal(im->st.corrupted, 1);
	assert_false(((const struct virtio_net_hdr *)data)->flags &
		     VIRTIO_NET_HDR_F_NEEDS_CSUM);
	for (uint32_t i = UB_VNET_HLEN + 14; i < len; i++) {
		/* The checksum field was filled in: not damage. */
		if (i == UB_VNET_HLEN + 14 + 26 || i == UB_VNET_HLEN + 14 + 27)
			continue;
		if (data[i] != orig[i]) {
			diff += (uint32_t)__builtin_popcount(data[i] ^ orig[i]);
			at = i;
		}
	}
	assert_int_equal(diff, 1);
	assert_int_not_equal(udp_sum(data + UB_VNET_HLEN + 14, 68), 0xffff);
	memcpy(fixed, data, len);
	fixed[at] = orig[at];
	assert_int_equal(udp_sum(fixed + UB_VNET_HLEN + 14, 68), 0xffff);
	ub_impair_free(im);
}

/* A reordered frame is due at once, ahead of those held. */
static void test_reorder(void **state)
{
	struct ub_impair_cfg c = cfg_of();
	struct ub_impair *im;

	c.delay_ns = 10 * MS;
	im = make(&c, 11);
	ub_impair_admit(im, frame, FRAME, 0, 1);
	im->cfg.reorder_ppm = UB_IMPAIR_PPM;
	ub_impair_admit(im, frame, FRAME, MS, 2);
	assert_int_equal(im->st.reordered, 1);
	assert_int_equal(pop_due(im), MS);
	assert_int_equal(pop_due(im), 10 * MS);
	ub_impair_free(im);
}

/* A reset keeps what is held (a smaller queue drops the excess) and the
 * counters; a clear makes everything due now, then done. */
static void test_reset_and_clear(void **state)
{
	struct ub_impair_cfg c = cfg_of();
	struct ub_impair *im;
	const uint8_t *data;
	uint32_t len, tag;

	c.delay_ns = 10 * MS;
	im = make(&c, 12);
	for (int i = 0; i < 5; i++)
		ub_impair_admit(im, frame, FRAME, 0, (uint32_t)i);
	c.limit = 3;
	c.delay_ns = 20 * MS;
	assert_int_equal(ub_impair_reset(&im, &c, 12), 0);
	assert_int_equal(im->n, 3);
	assert_int_equal(im->st.drop_limit, 2);
	assert_int_equal(im->st.delayed, 5);
	assert_int_equal(ub_impair_next_due(im), 10 * MS);
	ub_impair_clear(im);
	assert_false(ub_impair_done(im));
	for (uint32_t i = 0; i < 3; i++) {
		assert_true(ub_impair_peek(im, 0, &data, &len, &tag));
		assert_int_equal(tag, i);
		ub_impair_pop(im);
	}
	assert_true(ub_impair_done(im));
	ub_impair_free(im);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_delay),
		cmocka_unit_test(test_jitter),
		cmocka_unit_test(test_loss),
		cmocka_unit_test(test_gemodel),
		cmocka_unit_test(test_rate),
		cmocka_unit_test(test_limit_and_duplicate),
		cmocka_unit_test(test_corrupt),
		cmocka_unit_test(test_reorder),
		cmocka_unit_test(test_reset_and_clear),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
