/* SPDX-License-Identifier: MIT */
/* Buffer reference counting in io/ring.c: pool buffers and the areas of
 * ring back ends go back to their owner exactly once, when the last
 * reference goes, and an area tells how many of its buffers are out. A
 * pool buffer that is not handed out (put twice, never received) is
 * refused and counted, and the pool's free count stays true. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "io_private.h"

#define NBUFS 16

struct owner {
	unsigned released[NBUFS];
	uint32_t last;
};

static void on_release(void *arg, uint32_t idx)
{
	struct owner *o = arg;

	assert_true(idx < NBUFS);
	o->released[idx]++;
	o->last = idx;
}

static int setup(void **state)
{
	struct ub_ring *r;
	int ret = ub_ring_new(NULL, &r);

	/* No io_uring here (seccomp, old kernel): nothing to test. */
	if (ret == -ENOSYS || ret == -EPERM)
		skip();
	assert_int_equal(ret, 0);
	/* Sanitizer builds abort on a bad put; here we count them. */
	ub_ring_bad_put_abort__(r, false);
	*state = r;
	return 0;
}

static int teardown(void **state)
{
	ub_ring_free(*state);
	return 0;
}

static void test_area_release_at_last_put(void **state)
{
	struct ub_ring *r = *state;
	struct owner o = { 0 };
	uint32_t area, buf;

	assert_int_equal(ub_ring_area_add__(r, NBUFS, on_release, &o, &area), 0);
	assert_int_not_equal(area, 0); /* 0 is the pool */
	buf = ub_buf_handle__(area, 5);

	/* Taken by a batch, then three sends; the batch lets go first. */
	ub_ring_buf_get(r, buf, 1);
	ub_ring_buf_get(r, buf, 3);
	assert_int_equal(ub_ring_buf_refs__(r, buf), 4);
	assert_int_equal(ub_ring_area_held__(r, area), 1);
	for (int i = 0; i < 3; i++) {
		ub_ring_buf_put(r, buf);
		assert_int_equal(o.released[5], 0);
		assert_int_equal(ub_ring_area_held__(r, area), 1);
	}
	ub_ring_buf_put(r, buf);
	assert_int_equal(o.released[5], 1);
	assert_int_equal(ub_ring_buf_refs__(r, buf), 0);
	assert_int_equal(ub_ring_area_held__(r, area), 0);
	/* Nobody else was touched. */
	for (int i = 0; i < NBUFS; i++)
		if (i != 5)
			assert_int_equal(o.released[i], 0);
	ub_ring_area_del__(r, area);
}

/*
 * An area's back end hands a slot over without the ring seeing it, so an
 * unreferenced put is taken as that slot's frame dropped before any send,
 * and handed back at once. (Which also means a double put on an area
 * cannot be told from it; only the pool is checked.)
 */
static void test_area_fresh_slot_put_releases(void **state)
{
	struct ub_ring *r = *state;
	struct owner o = { 0 };
	uint32_t area;

	assert_int_equal(ub_ring_area_add__(r, NBUFS, on_release, &o, &area), 0);
	ub_ring_buf_put(r, ub_buf_handle__(area, NBUFS - 1));
	assert_int_equal(o.released[NBUFS - 1], 1);
	assert_int_equal(o.last, NBUFS - 1);
	assert_int_equal(ub_ring_area_held__(r, area), 0);
	assert_int_equal(ub_ring_bufs_bad_puts(r), 0);
	ub_ring_area_del__(r, area);
}

static void test_areas_apart(void **state)
{
	struct ub_ring *r = *state;
	struct owner a = { 0 }, b = { 0 };
	uint32_t aa, ab;

	assert_int_equal(ub_ring_area_add__(r, NBUFS, on_release, &a, &aa), 0);
	assert_int_equal(ub_ring_area_add__(r, NBUFS, on_release, &b, &ab), 0);
	assert_int_not_equal(aa, ab);
	ub_ring_buf_get(r, ub_buf_handle__(aa, 2), 1);
	ub_ring_buf_get(r, ub_buf_handle__(ab, 2), 2);
	assert_int_equal(ub_ring_area_held__(r, aa), 1);
	assert_int_equal(ub_ring_area_held__(r, ab), 1);
	ub_ring_buf_put(r, ub_buf_handle__(aa, 2));
	assert_int_equal(a.released[2], 1);
	assert_int_equal(b.released[2], 0);
	ub_ring_buf_put(r, ub_buf_handle__(ab, 2));
	assert_int_equal(b.released[2], 0);
	ub_ring_buf_put(r, ub_buf_handle__(ab, 2));
	assert_int_equal(b.released[2], 1);

	/* A freed area's number is given out again, with fresh counts. */
	ub_ring_area_del__(r, aa);
	assert_int_equal(ub_ring_area_add__(r, NBUFS, on_release, &a, &aa), 0);
	assert_int_equal(ub_ring_area_held__(r, aa), 0);
	assert_int_equal(ub_ring_buf_refs__(r, ub_buf_handle__(aa, 2)), 0);
	ub_ring_area_del__(r, aa);
	ub_ring_area_del__(r, ab);
}

static void test_area_limits(void **state)
{
	struct ub_ring *r = *state;
	struct owner o = { 0 };
	uint32_t area;

	assert_int_equal(ub_ring_area_add__(r, 0, on_release, &o, &area),
			 -EINVAL);
	assert_int_equal(ub_ring_area_add__(r, UB_AREA_BUFS_MAX + 1,
					    on_release, &o, &area), -EINVAL);
}

/*
 * Receives one byte into a pool buffer, through a pipe: the only way a
 * pool buffer is handed out is a completion that names it.
 */
static uint16_t receive(struct ub_ring *r, const int *fds)
{
	struct ub_cqe c = { 0 };
	uint16_t bid = UINT16_MAX;

	assert_int_equal(write(fds[1], "x", 1), 1);
	assert_int_equal(ub_ring_read_pool__(r, fds[0], 42), 0);
	for (int tries = 0; tries < 10; tries++) {
		int ret = ub_ring_submit_wait(r, 100000);

		assert_true(ret == 0 || ret == -ETIME || ret == -EINTR);
		if (ub_ring_reap(r, &c, 1) == 1)
			break;
	}
	assert_int_equal(c.user_data, 42);
	assert_int_equal(c.res, 1);
	assert_true(ub_cqe_buf(&c, &bid));
	assert_true(bid < UB_BUF_COUNT);
	assert_memory_equal(ub_ring_buf(r, bid), "x", 1);
	return bid;
}

/* A ring, and a pipe to receive from. */
struct pool {
	struct ub_ring *r;
	int fds[2];
};

static int pool_open(void **state)
{
	static struct pool pool;

	setup(state);
	pool.r = *state;
	assert_int_equal(pipe(pool.fds), 0);
	*state = &pool;
	return 0;
}

static int pool_close(void **state)
{
	struct pool *p = *state;

	ub_ring_free(p->r);
	close(p->fds[0]);
	close(p->fds[1]);
	return 0;
}

/* A received buffer goes back at its last put, and only then; its handle
 * is its buffer id, and it reaches the kernel at the next commit. */
static void test_pool_release_at_last_put(void **state)
{
	struct pool *p = *state;
	struct ub_ring *r = p->r;
	uint32_t before = ub_ring_bufs_free(r);
	uint16_t bid;

	for (int round = 0; round < 3; round++) {
		bid = receive(r, p->fds);
		assert_int_equal(ub_ring_bufs_free(r), before - 1);
		/* The batch's reference, then two sends. */
		ub_ring_buf_get(r, bid, 1);
		ub_ring_buf_get(r, ub_buf_handle__(0, bid), 2);
		assert_int_equal(ub_ring_buf_refs__(r, bid), 3);
		ub_ring_buf_put(r, bid);
		ub_ring_buf_put(r, bid);
		ub_ring_bufs_commit(r);
		assert_int_equal(ub_ring_bufs_free(r), before - 1);
		assert_int_equal(ub_ring_buf_refs__(r, bid), 1);
		ub_ring_buf_put(r, bid);
		assert_int_equal(ub_ring_buf_refs__(r, bid), 0);
		assert_int_equal(ub_ring_bufs_free(r), before - 1);
		ub_ring_bufs_commit(r);
		assert_int_equal(ub_ring_bufs_free(r), before);
	}
	/* A fresh receive dropped at once needs no get. */
	bid = receive(r, p->fds);
	ub_ring_buf_put(r, bid);
	ub_ring_bufs_commit(r);
	assert_int_equal(ub_ring_bufs_free(r), before);
	assert_int_equal(ub_ring_bufs_bad_puts(r), 0);
}

/* A put after the last one is refused: the kernel does not get the buffer
 * twice, and the free count does not grow past the truth. */
static void test_pool_double_put_caught(void **state)
{
	struct pool *p = *state;
	struct ub_ring *r = p->r;
	uint32_t before = ub_ring_bufs_free(r);
	uint16_t bid = receive(r, p->fds);

	ub_ring_buf_get(r, bid, 1);
	ub_ring_buf_put(r, bid);
	assert_int_equal(ub_ring_bufs_bad_puts(r), 0);
	/* Released and published, or released and not yet published: both
	 * are the kernel's now. */
	ub_ring_buf_put(r, bid);
	assert_int_equal(ub_ring_bufs_bad_puts(r), 1);
	ub_ring_bufs_commit(r);
	assert_int_equal(ub_ring_bufs_free(r), before);
	ub_ring_buf_put(r, bid);
	ub_ring_bufs_commit(r);
	assert_int_equal(ub_ring_bufs_bad_puts(r), 2);
	assert_int_equal(ub_ring_bufs_free(r), before);
	assert_int_equal(ub_ring_buf_refs__(r, bid), 0);

	/* The buffer still works when the kernel hands it out again. */
	for (uint32_t i = 0; i < UB_BUF_COUNT; i++) {
		uint16_t got = receive(r, p->fds);

		ub_ring_buf_put(r, got);
		ub_ring_bufs_commit(r);
		if (got == bid)
			break;
	}
	assert_int_equal(ub_ring_bufs_free(r), before);
	assert_int_equal(ub_ring_bufs_bad_puts(r), 2);
}

/* A buffer the kernel still holds was never ours: a put is refused, and a
 * get leaves no reference behind to hold it up once it is received. */
static void test_pool_put_never_received_caught(void **state)
{
	struct pool *p = *state;
	struct ub_ring *r = p->r;
	uint32_t before = ub_ring_bufs_free(r);
	uint16_t bid;

	for (uint16_t b = 0; b < UB_BUF_COUNT; b += 97)
		ub_ring_buf_put(r, b);
	ub_ring_bufs_commit(r);
	assert_int_equal(ub_ring_bufs_bad_puts(r), (UB_BUF_COUNT + 96) / 97);
	assert_int_equal(ub_ring_bufs_free(r), before);

	ub_ring_buf_get(r, 7, 2);
	assert_int_equal(ub_ring_buf_refs__(r, 7), 0);
	ub_ring_buf_put(r, 7);
	ub_ring_bufs_commit(r);
	assert_int_equal(ub_ring_bufs_free(r), before);

	/* Nothing of that sticks to the buffers received next. */
	for (uint32_t i = 0; i < 8; i++) {
		bid = receive(r, p->fds);
		assert_int_equal(ub_ring_buf_refs__(r, bid), 0);
		ub_ring_buf_put(r, bid);
		ub_ring_bufs_commit(r);
	}
	assert_int_equal(ub_ring_bufs_free(r), before);
	assert_int_equal(ub_ring_bufs_bad_puts(r), (UB_BUF_COUNT + 96) / 97 + 1);
}

/* Where aborting is on (sanitizer builds), a bad put stops the process. */
static void test_pool_bad_put_aborts(void **state)
{
	struct pool *p = *state;
	struct ub_ring *r = p->r;
	uint16_t bid = receive(r, p->fds);
	int status;
	pid_t pid;

	ub_ring_buf_get(r, bid, 1);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* Only bookkeeping here: the ring is the parent's to submit
		 * on. The good put must pass, the second one must not. */
		signal(SIGABRT, SIG_DFL);
		ub_ring_bad_put_abort__(r, true);
		ub_ring_buf_put(r, bid);
		ub_ring_buf_put(r, bid);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGABRT);
	ub_ring_buf_put(r, bid);
	assert_int_equal(ub_ring_bufs_bad_puts(r), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_area_release_at_last_put,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_area_fresh_slot_put_releases, setup, teardown),
		cmocka_unit_test_setup_teardown(test_areas_apart, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_area_limits, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_pool_release_at_last_put,
						pool_open, pool_close),
		cmocka_unit_test_setup_teardown(test_pool_double_put_caught,
						pool_open, pool_close),
		cmocka_unit_test_setup_teardown(
			test_pool_put_never_received_caught, pool_open,
			pool_close),
		cmocka_unit_test_setup_teardown(test_pool_bad_put_aborts,
						pool_open, pool_close),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
