/* SPDX-License-Identifier: MIT */
/* The capture writer: what goes in comes out of the pcap file, in order,
 * through many turns of the ring; filters, snaplen, count, rotation. */
#include <pcap/pcap.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <ubridge/io.h>

struct fixture {
	char dir[64];
	char path[128];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/ubcap.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/t.pcap", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* A frame of 'len' bytes, IPv4 ethertype, carrying 'seq' after the header. */
static void make_frame(uint8_t *buf, uint32_t len, uint32_t seq)
{
	memset(buf, 0xab, len);
	memcpy(buf, "\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00", 14);
	memcpy(buf + 14, &seq, sizeof(seq));
}

/* Reads 'path' back: checks frame i has seq 'first + i' and returns the
 * number of frames; each frame's lengths go to the callers' checks. */
static uint32_t read_back(const char *path, uint32_t first, uint32_t caplen,
			  uint32_t len)
{
	char err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *data;
	uint32_t n = 0, seq;
	pcap_t *p;

	p = pcap_open_offline_with_tstamp_precision(
		path, PCAP_TSTAMP_PRECISION_NANO, err);
	assert_non_null(p);
	assert_int_equal(pcap_datalink(p), DLT_EN10MB);
	while (pcap_next_ex(p, &h, &data) == 1) {
		assert_int_equal(h->caplen, caplen);
		assert_int_equal(h->len, len);
		memcpy(&seq, data + 14, sizeof(seq));
		assert_int_equal(seq, first + n);
		/* The timestamp given to offer, at nanosecond precision. */
		assert_int_equal(h->ts.tv_sec, 1700000000);
		assert_int_equal(h->ts.tv_usec, 123456789);
		n++;
	}
	pcap_close(p);
	return n;
}

static const struct timespec ts = { 1700000000, 123456789 };

static void test_many_turns_of_the_ring(void **state)
{
	struct ub_capture_cfg cfg = { .path = ((struct fixture *)*state)->path };
	struct ub_capture_stats st;
	struct ub_capture *c;
	uint8_t frame[1500];
	char err[256];
	uint32_t n = 0;

	assert_int_equal(ub_capture_new(&cfg, &c, err, sizeof(err)), 0);
	/* 24000 frames of 1500 bytes: over four times the ring. Offer at a
	 * pace the writer keeps up with, so nothing is dropped. */
	for (uint32_t i = 0; i < 24000; i++) {
		make_frame(frame, sizeof(frame), n);
		while (!ub_capture_offer(c, &ts, frame, sizeof(frame)))
			usleep(1000);
		n++;
	}
	ub_capture_stop(c);
	while (!ub_capture_finished(c))
		usleep(1000);
	ub_capture_get_stats(c, &st);
	assert_int_equal(st.written, n);
	assert_int_equal(st.bytes, (uint64_t)n * sizeof(frame));
	assert_int_equal(st.error, 0);
	ub_capture_free(c);
	assert_int_equal(read_back(cfg.path, 0, 1500, 1500), n);
}

static void test_full_ring_drops_and_counts(void **state)
{
	struct ub_capture_cfg cfg = { .path = ((struct fixture *)*state)->path };
	struct ub_capture_stats st;
	struct ub_capture *c;
	uint8_t frame[9000];
	uint32_t taken = 0, refused = 0;
	char err[256];

	assert_int_equal(ub_capture_new(&cfg, &c, err, sizeof(err)), 0);
	/* 20 MiB in one go: more than the ring holds before the writer's
	 * next turn, so some frames must be refused and counted. */
	for (uint32_t i = 0; i < 2400; i++) {
		make_frame(frame, sizeof(frame), taken);
		if (ub_capture_offer(c, &ts, frame, sizeof(frame)))
			taken++;
		else
			refused++;
	}
	ub_capture_stop(c);
	while (!ub_capture_finished(c))
		usleep(1000);
	ub_capture_get_stats(c, &st);
	ub_capture_free(c);
	assert_true(refused > 0);
	assert_int_equal(st.dropped, refused);
	assert_int_equal(st.written, taken);
	assert_int_equal(taken + refused, 2400);
	/* What was taken is in the file, in order, with no gap. */
	assert_int_equal(read_back(cfg.path, 0, 9000, 9000), taken);
}

static void test_filter_snaplen_count(void **state)
{
	struct ub_capture_cfg cfg = { .path = ((struct fixture *)*state)->path,
				      .filter = "ether dst 02:00:00:00:00:02",
				      .snaplen = 40,
				      .count = 5 };
	struct ub_capture *c;
	uint8_t frame[200];
	char err[256];

	assert_int_equal(ub_capture_new(&cfg, &c, err, sizeof(err)), 0);
	make_frame(frame, sizeof(frame), 0);
	frame[5] = 0x09; /* another destination: filtered out */
	assert_false(ub_capture_offer(c, &ts, frame, sizeof(frame)));
	for (uint32_t i = 0; i < 8; i++) {
		make_frame(frame, sizeof(frame), i);
		assert_int_equal(ub_capture_offer(c, &ts, frame, sizeof(frame)),
				 i < 5);
		assert_int_equal(ub_capture_complete(c), i >= 4);
	}
	ub_capture_free(c);
	assert_int_equal(read_back(cfg.path, 0, 40, 200), 5);
}

static void test_rotation(void **state)
{
	struct fixture *f = *state;
	struct ub_capture_cfg cfg = { .path = f->path,
				      .rotate_bytes = 1 << 20,
				      .rotate_files = 2 };
	struct ub_capture *c;
	uint8_t frame[1000];
	char err[256], name[160];
	uint32_t n0, n1;

	assert_int_equal(ub_capture_new(&cfg, &c, err, sizeof(err)), 0);
	/* 3000 frames of 1016 bytes in the file: ~2.9 MiB, so file 0 is
	 * written, then 1, then 0 again (two files kept). */
	for (uint32_t i = 0; i < 3000; i++) {
		make_frame(frame, sizeof(frame), i);
		while (!ub_capture_offer(c, &ts, frame, sizeof(frame)))
			usleep(1000);
	}
	ub_capture_free(c);
	assert_int_equal(access(f->path, F_OK), -1);
	snprintf(name, sizeof(name), "%s.2", f->path);
	assert_int_equal(access(name, F_OK), -1);
	/* Each file holds at most 1 MiB: a 24-byte header plus records of
	 * 16 + 1000 bytes gives 1032 frames a file. File 1 holds frames
	 * 1032..2063, and file 0, reused, the rest: 2064..2999. */
	snprintf(name, sizeof(name), "%s.1", f->path);
	n1 = read_back(name, 1032, 1000, 1000);
	snprintf(name, sizeof(name), "%s.0", f->path);
	n0 = read_back(name, 2064, 1000, 1000);
	assert_int_equal(n1, 1032);
	assert_int_equal(n0, 3000 - 2064);
}

static void test_errors(void **state)
{
	struct fixture *f = *state;
	struct ub_capture_cfg cfg = { .path = f->path, .filter = "tcp portt 1" };
	struct ub_capture *c = NULL;
	char err[256], bad[160];

	assert_int_equal(ub_capture_new(&cfg, &c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "bad filter"));
	assert_null(c);
	/* Nothing was created for a capture that did not start. */
	assert_int_equal(access(f->path, F_OK), -1);

	snprintf(bad, sizeof(bad), "%s/no/such/dir/x.pcap", f->dir);
	cfg.path = bad;
	cfg.filter = NULL;
	assert_int_equal(ub_capture_new(&cfg, &c, err, sizeof(err)), -EIO);
	assert_non_null(strstr(err, "No such file"));

	cfg.path = f->path;
	cfg.rotate_bytes = 1 << 20;
	cfg.rotate_files = 0;
	assert_int_equal(ub_capture_new(&cfg, &c, err, sizeof(err)), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_many_turns_of_the_ring,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_ring_drops_and_counts,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_filter_snaplen_count, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_rotation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
