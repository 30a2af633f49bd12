/* SPDX-License-Identifier: MIT */
/* The capture writer: what goes in comes out of the pcap file, in order,
 * through many turns of the ring; filters, snaplen, count, rotation; and
 * appending to a file a crash left torn. */
#include <errno.h>
#include <fcntl.h>
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

#include <ubridge/cmd.h>
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
	int ret;

	p = pcap_open_offline_with_tstamp_precision(
		path, PCAP_TSTAMP_PRECISION_NANO, err);
	assert_non_null(p);
	assert_int_equal(pcap_datalink(p), DLT_EN10MB);
	while ((ret = pcap_next_ex(p, &h, &data)) == 1) {
		assert_int_equal(h->caplen, caplen);
		assert_int_equal(h->len, len);
		memcpy(&seq, data + 14, sizeof(seq));
		assert_int_equal(seq, first + n);
		/* The timestamp given to offer, at nanosecond precision. */
		assert_int_equal(h->ts.tv_sec, 1700000000);
		assert_int_equal(h->ts.tv_usec, 123456789);
		n++;
	}
	/* The end of the file, not a record libpcap could not read. */
	assert_int_equal(ret, PCAP_ERROR_BREAK);
	pcap_close(p);
	return n;
}

static const struct timespec ts = { 1700000000, 123456789 };

/* Opens the capture's files as its client does, then starts it. */
static int cap_new(struct ub_capture_cfg *cfg, struct ub_capture **c,
		   char *err, size_t errlen)
{
	static int fds[UB_CAP_FILES_MAX];
	int n = ub_capture_files_open(cfg->path, cfg->rotate_bytes ?
						 cfg->rotate_files : 0,
				      O_RDWR | O_CREAT, fds, err, errlen);

	if (n < 0)
		return n;
	cfg->fds = fds;
	cfg->nfds = (uint32_t)n;
	return ub_capture_new(cfg, c, err, errlen);
}

static void test_many_turns_of_the_ring(void **state)
{
	struct ub_capture_cfg cfg = { .path = ((struct fixture *)*state)->path };
	struct ub_capture_stats st;
	struct ub_capture *c;
	uint8_t frame[1500];
	char err[256];
	uint32_t n = 0;

	assert_int_equal(cap_new(&cfg, &c, err, sizeof(err)), 0);
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

	assert_int_equal(cap_new(&cfg, &c, err, sizeof(err)), 0);
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

	assert_int_equal(cap_new(&cfg, &c, err, sizeof(err)), 0);
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

	assert_int_equal(cap_new(&cfg, &c, err, sizeof(err)), 0);
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
	int fds[2];

	assert_int_equal(cap_new(&cfg, &c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "bad filter"));
	assert_null(c);
	/* The files were taken over: closed with the failure. */
	assert_int_equal(fcntl(cfg.fds[0], F_GETFD), -1);
	assert_int_equal(errno, EBADF);

	/* The capture writes what it is given and opens nothing itself. */
	/* (Two files without rotation: refused, both closed.) */
	fds[0] = open(f->path, O_RDWR | O_CLOEXEC);
	fds[1] = dup(fds[0]);
	assert_true(fds[0] >= 0 && fds[1] >= 0);
	cfg.filter = NULL;
	cfg.fds = fds;
	cfg.nfds = 2;
	assert_int_equal(ub_capture_new(&cfg, &c, err, sizeof(err)), -EINVAL);
	assert_int_equal(fcntl(fds[0], F_GETFD), -1);
	assert_int_equal(fcntl(fds[1], F_GETFD), -1);

	snprintf(bad, sizeof(bad), "%s/no/such/dir/x.pcap", f->dir);
	cfg.path = bad;
	assert_int_equal(cap_new(&cfg, &c, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, bad));

	cfg.path = f->path;
	cfg.rotate_bytes = 1 << 20;
	cfg.rotate_files = 0;
	assert_int_equal(cap_new(&cfg, &c, err, sizeof(err)), -EINVAL);
}

/* Writes frames 'first' .. 'first + n - 1' of 1000 bytes through a
 * capture with 'cfg', start to stop. */
static void write_frames(const struct ub_capture_cfg *cfg, uint32_t first,
			 uint32_t n)
{
	struct ub_capture_cfg copy = *cfg;
	struct ub_capture_stats st;
	struct ub_capture *c;
	uint8_t frame[1000];
	char err[256];

	assert_int_equal(cap_new(&copy, &c, err, sizeof(err)), 0);
	for (uint32_t i = 0; i < n; i++) {
		make_frame(frame, sizeof(frame), first + i);
		while (!ub_capture_offer(c, &ts, frame, sizeof(frame)))
			usleep(1000);
	}
	ub_capture_stop(c);
	while (!ub_capture_finished(c))
		usleep(1000);
	ub_capture_get_stats(c, &st);
	assert_int_equal(st.written, n);
	assert_int_equal(st.error, 0);
	ub_capture_free(c);
}

/* Adds 'len' bytes to the end of 'path', as a writer killed mid-record
 * would have left them. */
static void add_tail(const char *path, const void *tail, size_t len)
{
	FILE *f = fopen(path, "ab");

	assert_non_null(f);
	assert_int_equal(fwrite(tail, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* Reads all of 'path' into 'buf'; returns its size. */
static size_t read_file(const char *path, uint8_t *buf, size_t len)
{
	FILE *f = fopen(path, "rb");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, len, f);
	assert_true(n < len);
	fclose(f);
	return n;
}

/* A record header as the file holds it. */
struct rec_hdr {
	uint32_t sec, nsec, caplen, len;
};

static void test_append_after_torn_record(void **state)
{
	struct fixture *f = *state;
	struct ub_capture_cfg cfg = { .path = f->path };
	struct rec_hdr whole = { 1700000000, 0, 1000, 1000 };
	struct rec_hdr huge = { 1700000000, 0, 524800, 524800 };
	uint8_t body[1300] = { 0 }, junk[37];
	struct {
		const char *what;
		uint8_t bytes[sizeof(struct rec_hdr) + 300];
		size_t len;
		size_t zeros; /* then this many zero bytes */
	} tails[] = {
		{ "nothing torn", { 0 }, 0, 0 },
		{ "half a record header", { 0 }, sizeof(whole) / 2, 0 },
		/* Followed by as many bytes as it claims: only its length
		 * tells it is not a record. */
		{ "a header with a too large length", { 0 }, sizeof(huge),
		  524800 },
		{ "a header with part of its body", { 0 },
		  sizeof(whole) + 300, 0 },
		{ "garbage", { 0 }, sizeof(junk), 0 },
	};
	uint8_t *zeros = calloc(1, 524800);

	assert_non_null(zeros);
	memcpy(body, &whole, sizeof(whole));
	memcpy(tails[1].bytes, &whole, sizeof(whole));
	memcpy(tails[2].bytes, &huge, sizeof(huge));
	memcpy(tails[3].bytes, body, sizeof(whole) + 300);
	memset(junk, 0xff, sizeof(junk));
	memcpy(tails[4].bytes, junk, sizeof(junk));
	for (size_t i = 0; i < sizeof(tails) / sizeof(tails[0]); i++) {
		print_message("tail: %s\n", tails[i].what);
		unlink(f->path);
		cfg.append = false;
		write_frames(&cfg, 0, 10);
		add_tail(f->path, tails[i].bytes, tails[i].len);
		add_tail(f->path, zeros, tails[i].zeros);
		/* A restored capture: the 10 whole records stay, the tail
		 * goes, and what it writes follows them. */
		cfg.append = true;
		write_frames(&cfg, 10, 5);
		assert_int_equal(read_back(f->path, 0, 1000, 1000), 15);
	}
	free(zeros);
}

static void test_append_torn_header(void **state)
{
	struct fixture *f = *state;
	struct ub_capture_cfg cfg = { .path = f->path, .append = true };
	uint8_t before[64], after[64];
	struct ub_capture *c = NULL;
	size_t n;
	char err[256];

	/* An empty file, and a file a crash left with part of our header:
	 * no record in either, started anew. */
	add_tail(f->path, "", 0);
	write_frames(&cfg, 0, 3);
	assert_int_equal(read_back(f->path, 0, 1000, 1000), 3);
	assert_int_equal(truncate(f->path, 10), 0);
	write_frames(&cfg, 0, 4);
	assert_int_equal(read_back(f->path, 0, 1000, 1000), 4);

	/* Ten bytes that are not the start of our header: not ours to
	 * empty. Refused, and the file is as it was. */
	unlink(f->path);
	add_tail(f->path, "not a pcap", 10);
	n = read_file(f->path, before, sizeof(before));
	assert_int_equal(cap_new(&cfg, &c, err, sizeof(err)), -EINVAL);
	assert_null(c);
	assert_non_null(strstr(err, "too short"));
	assert_int_equal(read_file(f->path, after, sizeof(after)), n);
	assert_memory_equal(before, after, n);
}

static void test_append_refuses_other_files(void **state)
{
	struct fixture *f = *state;
	struct ub_capture_cfg cfg = { .path = f->path, .append = true };
	struct pcap_pkthdr h = { .caplen = 60, .len = 60 };
	static uint8_t before[4096], after[4096];
	struct ub_capture *c = NULL;
	uint8_t frame[60] = { 0 };
	pcap_dumper_t *d;
	char err[256];
	pcap_t *p;
	size_t n;

	/* Microsecond timestamps, one record and a torn one: someone
	 * else's file, left alone. */
	p = pcap_open_dead(DLT_EN10MB, 262144);
	assert_non_null(p);
	d = pcap_dump_open(p, f->path);
	assert_non_null(d);
	pcap_dump((u_char *)d, &h, frame);
	pcap_dump_close(d);
	pcap_close(p);
	add_tail(f->path, frame, 7);
	n = read_file(f->path, before, sizeof(before));
	assert_int_equal(cap_new(&cfg, &c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "nanosecond"));
	assert_int_equal(read_file(f->path, after, sizeof(after)), n);
	assert_memory_equal(before, after, n);

	/* Ours, but with another snaplen: the records would not fit the
	 * header's promise. */
	unlink(f->path);
	cfg.append = false;
	cfg.snaplen = 100;
	write_frames(&cfg, 0, 2);
	add_tail(f->path, frame, 7);
	n = read_file(f->path, before, sizeof(before));
	cfg.append = true;
	cfg.snaplen = 0;
	assert_int_equal(cap_new(&cfg, &c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "snaplen"));
	assert_int_equal(read_file(f->path, after, sizeof(after)), n);
	assert_memory_equal(before, after, n);
}

static void test_append_rotated(void **state)
{
	struct fixture *f = *state;
	struct ub_capture_cfg cfg = { .path = f->path,
				      .rotate_bytes = 1 << 20,
				      .rotate_files = 2 };
	struct rec_hdr whole = { 1700000000, 0, 1000, 1000 };
	char name[160];

	/* With rotation, appending goes to file 0: that is the one cut. */
	write_frames(&cfg, 0, 10);
	snprintf(name, sizeof(name), "%s.0", f->path);
	add_tail(name, &whole, sizeof(whole));
	cfg.append = true;
	write_frames(&cfg, 10, 5);
	assert_int_equal(read_back(name, 0, 1000, 1000), 15);
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
		cmocka_unit_test_setup_teardown(test_append_after_torn_record,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_append_torn_header, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_append_refuses_other_files,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_append_rotated, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
