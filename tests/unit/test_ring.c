/* SPDX-License-Identifier: MIT */
/* Buffer reference counting in io/ring.c: pool buffers and the areas of
 * ring back ends go back to their owner exactly once, when the last
 * reference goes, and an area tells how many of its buffers are out. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

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

static void test_area_unreferenced_put_releases(void **state)
{
	struct ub_ring *r = *state;
	struct owner o = { 0 };
	uint32_t area;

	/* A frame dropped before any send: handed back at once. */
	assert_int_equal(ub_ring_area_add__(r, NBUFS, on_release, &o, &area), 0);
	ub_ring_buf_put(r, ub_buf_handle__(area, NBUFS - 1));
	assert_int_equal(o.released[NBUFS - 1], 1);
	assert_int_equal(o.last, NBUFS - 1);
	assert_int_equal(ub_ring_area_held__(r, area), 0);
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

static void test_pool_handle_is_bid(void **state)
{
	struct ub_ring *r = *state;
	uint32_t before = ub_ring_bufs_free(r);

	/* A pool buffer's handle is its id; going back, it is published to
	 * the kernel at the next commit. */
	ub_ring_buf_get(r, 7, 2);
	assert_int_equal(ub_ring_buf_refs__(r, ub_buf_handle__(0, 7)), 2);
	ub_ring_buf_put(r, 7);
	ub_ring_buf_put(r, 7);
	assert_int_equal(ub_ring_buf_refs__(r, 7), 0);
	ub_ring_bufs_commit(r);
	assert_int_equal(ub_ring_bufs_free(r), before + 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_area_release_at_last_put,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_area_unreferenced_put_releases, setup, teardown),
		cmocka_unit_test_setup_teardown(test_areas_apart, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_area_limits, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_pool_handle_is_bid, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
