/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the forwarding database. Time is a parameter, so ageing
 * is tested to the millisecond without sleeping. The LRU order, which the
 * API does not show directly, is observed through which entry an eviction
 * or ub_fdb_age() removes first.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <ubridge/compiler.h>
#include <ubridge/fdb.h>

#define T UB_FDB_TICK_MS
#define SECRET 0x0123456789abcdefull

/* 02:00:nn:nn:nn:nn, a locally administered unicast address. */
static struct ub_mac mac_n(uint32_t n)
{
	struct ub_mac m = {{0x02, 0x00, (uint8_t)(n >> 24), (uint8_t)(n >> 16),
			    (uint8_t)(n >> 8), (uint8_t)n}};

	return m;
}

static uint32_t mac_id(const struct ub_mac *m)
{
	return (uint32_t)m->b[2] << 24 | (uint32_t)m->b[3] << 16 |
	       (uint32_t)m->b[4] << 8 | m->b[5];
}

/* Every key in one chain. */
static uint32_t const_hash(const struct ub_fdb_key *key, uint64_t secret)
{
	return 42;
}

/* The low MAC bytes as they are: ignores the VLAN and the secret. */
static uint32_t ident_hash(const struct ub_fdb_key *key, uint64_t secret)
{
	return mac_id(&key->mac);
}

static struct ub_fdb *mk(uint32_t max_learned, uint32_t max_static,
			 uint64_t ageing_ms, ub_fdb_hash_fn hash)
{
	struct ub_fdb_cfg cfg;
	struct ub_fdb *fdb = NULL;

	ub_fdb_cfg_default(&cfg);
	cfg.max_learned = max_learned;
	cfg.max_static = max_static;
	cfg.ageing_ms = ageing_ms;
	cfg.secret = SECRET;
	cfg.hash = hash;
	assert_int_equal(ub_fdb_new(&cfg, &fdb), 0);
	assert_non_null(fdb);
	return fdb;
}

static enum ub_fdb_learn_result learn_at(struct ub_fdb *fdb, uint32_t n,
					 uint16_t vid, uint32_t port,
					 uint32_t remote, uint64_t now)
{
	struct ub_mac m = mac_n(n);

	return ub_fdb_learn(fdb, &m, vid, port, remote, now);
}

/* Learning on a port without remotes. */
static enum ub_fdb_learn_result learn(struct ub_fdb *fdb, uint32_t n,
				      uint16_t vid, uint32_t port, uint64_t now)
{
	return learn_at(fdb, n, vid, port, 0, now);
}

static bool has(const struct ub_fdb *fdb, uint32_t n, uint16_t vid)
{
	struct ub_mac m = mac_n(n);
	uint32_t port;

	return ub_fdb_lookup(fdb, &m, vid, &port, NULL);
}

/* The port of an entry that must exist. */
static uint32_t port_of(const struct ub_fdb *fdb, uint32_t n, uint16_t vid)
{
	struct ub_mac m = mac_n(n);
	uint32_t port = 0xdeadbeef;

	assert_true(ub_fdb_lookup(fdb, &m, vid, &port, NULL));
	return port;
}

/* The remote of an entry that must exist. */
static uint32_t remote_of(const struct ub_fdb *fdb, uint32_t n, uint16_t vid)
{
	struct ub_mac m = mac_n(n);
	uint32_t port, remote = 0xdeadbeef;

	assert_true(ub_fdb_lookup(fdb, &m, vid, &port, &remote));
	return remote;
}

static int add_static_at(struct ub_fdb *fdb, uint32_t n, uint16_t vid,
			 uint32_t port, uint32_t remote)
{
	struct ub_mac m = mac_n(n);

	return ub_fdb_add_static(fdb, &m, vid, port, remote);
}

static int add_static(struct ub_fdb *fdb, uint32_t n, uint16_t vid,
		      uint32_t port)
{
	return add_static_at(fdb, n, vid, port, 0);
}

static int add_local(struct ub_fdb *fdb, uint32_t n, uint16_t vid,
		     uint32_t port)
{
	struct ub_mac m = mac_n(n);

	return ub_fdb_add_local(fdb, &m, vid, port);
}

static int del(struct ub_fdb *fdb, uint32_t n, uint16_t vid)
{
	struct ub_mac m = mac_n(n);

	return ub_fdb_del(fdb, &m, vid);
}

static struct ub_fdb_stats stats(const struct ub_fdb *fdb)
{
	struct ub_fdb_stats st;

	memset(&st, 0xa5, sizeof(st));
	ub_fdb_get_stats(fdb, &st);
	return st;
}

static void test_new_invalid(void **state)
{
	struct ub_fdb_cfg cfg;
	struct ub_fdb *fdb = NULL;

	ub_fdb_cfg_default(&cfg);
	assert_int_equal(ub_fdb_new(NULL, &fdb), -EINVAL);
	assert_int_equal(ub_fdb_new(&cfg, NULL), -EINVAL);
	cfg.max_learned = UINT32_MAX;
	assert_int_equal(ub_fdb_new(&cfg, &fdb), -EINVAL);
	/* Each half is fine, the sum wraps. */
	cfg.max_learned = 0x80000000u;
	cfg.max_static = 0x80000000u;
	assert_int_equal(ub_fdb_new(&cfg, &fdb), -EINVAL);
	cfg.max_learned = 1u << 24;
	cfg.max_static = 1;
	assert_int_equal(ub_fdb_new(&cfg, &fdb), -EINVAL);
	assert_null(fdb);
	ub_fdb_free(NULL);
}

static void test_cfg_default(void **state)
{
	struct ub_fdb_cfg cfg;
	struct ub_fdb *fdb;
	uint32_t i;

	memset(&cfg, 0x5a, sizeof(cfg));
	ub_fdb_cfg_default(&cfg);
	assert_int_equal(cfg.max_learned, UB_FDB_DEFAULT_MAX);
	assert_int_equal(cfg.max_static, UB_FDB_DEFAULT_MAX_STATIC);
	assert_int_equal(cfg.ageing_ms, UB_FDB_DEFAULT_AGEING_MS);
	assert_int_equal(cfg.secret, 0);
	assert_null(cfg.hash);

	/* Caps of 0 mean the defaults. */
	fdb = mk(0, 0, UB_FDB_DEFAULT_AGEING_MS, NULL);
	assert_int_equal(ub_fdb_get_ageing(fdb), UB_FDB_DEFAULT_AGEING_MS);
	for (i = 0; i < UB_FDB_DEFAULT_MAX; i++)
		assert_int_equal(learn(fdb, i, 1, 1, 0), UB_FDB_LEARN_NEW);
	assert_int_equal(stats(fdb).evicted, 0);
	assert_int_equal(learn(fdb, i, 1, 1, 0), UB_FDB_LEARN_NEW);
	assert_int_equal(stats(fdb).evicted, 1);
	for (i = 0; i < UB_FDB_DEFAULT_MAX_STATIC; i++)
		assert_int_equal(add_static(fdb, 100000 + i, 1, 1), 0);
	assert_int_equal(add_static(fdb, 100000 + i, 1, 1), -ENOSPC);
	ub_fdb_free(fdb);
}

static void test_learn_lookup(void **state)
{
	struct ub_fdb *fdb = mk(16, 4, 10000, NULL);
	struct ub_mac m = mac_n(1);
	struct ub_fdb_stats st;
	uint32_t port = 77;

	assert_false(ub_fdb_lookup(fdb, &m, 1, &port, NULL));
	assert_int_equal(port, 77); /* untouched on a miss */
	assert_int_equal(learn(fdb, 1, 1, 5, 0), UB_FDB_LEARN_NEW);
	assert_int_equal(port_of(fdb, 1, 1), 5);
	assert_int_equal(learn(fdb, 1, 1, 5, 10), UB_FDB_LEARN_NONE);
	assert_int_equal(learn(fdb, 2, 1, 6, 10), UB_FDB_LEARN_NEW);
	assert_int_equal(port_of(fdb, 1, 1), 5);
	assert_int_equal(port_of(fdb, 2, 1), 6);
	assert_false(has(fdb, 3, 1));

	st = stats(fdb);
	assert_int_equal(st.learned_entries, 2);
	assert_int_equal(st.static_entries, 0);
	assert_int_equal(st.learned, 2);
	assert_int_equal(st.moved, 0);
	assert_int_equal(st.aged, 0);
	assert_int_equal(st.evicted, 0);
	assert_int_equal(st.static_refused, 0);
	ub_fdb_free(fdb);
}

static void check_vlans(ub_fdb_hash_fn hash)
{
	struct ub_fdb *fdb = mk(16, 4, 10000, hash);

	assert_int_equal(learn(fdb, 1, 10, 1, 0), UB_FDB_LEARN_NEW);
	assert_int_equal(learn(fdb, 1, 20, 2, 0), UB_FDB_LEARN_NEW);
	assert_int_equal(port_of(fdb, 1, 10), 1);
	assert_int_equal(port_of(fdb, 1, 20), 2);
	assert_false(has(fdb, 1, 30));
	assert_int_equal(stats(fdb).learned_entries, 2);
	assert_int_equal(stats(fdb).moved, 0);

	assert_int_equal(del(fdb, 1, 10), 0);
	assert_false(has(fdb, 1, 10));
	assert_int_equal(port_of(fdb, 1, 20), 2);
	ub_fdb_free(fdb);
}

static void test_vlans_are_separate(void **state)
{
	check_vlans(NULL);
	check_vlans(ident_hash); /* both VLANs in one chain */
}

static void test_move(void **state)
{
	struct ub_fdb *fdb = mk(16, 4, 10000, NULL);
	struct ub_fdb_stats st;

	assert_int_equal(learn(fdb, 1, 1, 1, 0), UB_FDB_LEARN_NEW);
	/* Same tick: a move still stamps the entry. */
	assert_int_equal(learn(fdb, 1, 1, 2, 500), UB_FDB_LEARN_MOVED);
	assert_int_equal(port_of(fdb, 1, 1), 2);
	st = stats(fdb);
	assert_int_equal(st.moved, 1);
	assert_int_equal(st.learned, 1);
	assert_int_equal(st.learned_entries, 1);
	assert_int_equal(ub_fdb_next_deadline(fdb), 10500);
	assert_int_equal(ub_fdb_age(fdb, 10499), 0);
	assert_int_equal(ub_fdb_age(fdb, 10500), 1);
	ub_fdb_free(fdb);

	/* A move goes to the LRU tail, even within a tick. */
	fdb = mk(2, 4, 10000, NULL);
	learn(fdb, 1, 1, 1, 0);
	learn(fdb, 2, 1, 1, 0);
	assert_int_equal(learn(fdb, 1, 1, 2, 100), UB_FDB_LEARN_MOVED);
	assert_int_equal(learn(fdb, 3, 1, 1, 200), UB_FDB_LEARN_NEW);
	assert_false(has(fdb, 2, 1));
	assert_int_equal(port_of(fdb, 1, 1), 2);
	assert_int_equal(stats(fdb).evicted, 1);
	ub_fdb_free(fdb);
}

static void test_refresh_tick(void **state)
{
	struct ub_fdb *fdb;

	/* Refresh in the same tick: A stays the LRU entry and is evicted. */
	fdb = mk(2, 4, 100000, NULL);
	learn(fdb, 1, 1, 1, 0);
	learn(fdb, 2, 1, 1, 500);
	assert_int_equal(learn(fdb, 1, 1, 1, T - 1), UB_FDB_LEARN_NONE);
	assert_int_equal(learn(fdb, 3, 1, 1, T + 500), UB_FDB_LEARN_NEW);
	assert_false(has(fdb, 1, 1));
	assert_true(has(fdb, 2, 1));
	ub_fdb_free(fdb);

	/* Refresh in the next tick: A moves to the tail, B is evicted. */
	fdb = mk(2, 4, 100000, NULL);
	learn(fdb, 1, 1, 1, 0);
	learn(fdb, 2, 1, 1, 500);
	assert_int_equal(learn(fdb, 1, 1, 1, T), UB_FDB_LEARN_NONE);
	assert_int_equal(learn(fdb, 3, 1, 1, T + 500), UB_FDB_LEARN_NEW);
	assert_true(has(fdb, 1, 1));
	assert_false(has(fdb, 2, 1));
	ub_fdb_free(fdb);

	/* Refreshing the middle of the list: order A C B, then evict A, C. */
	fdb = mk(3, 4, 100000, NULL);
	learn(fdb, 1, 1, 1, 0);
	learn(fdb, 2, 1, 1, 100);
	learn(fdb, 3, 1, 1, 200);
	learn(fdb, 2, 1, 1, T);
	learn(fdb, 4, 1, 1, T + 100);
	assert_false(has(fdb, 1, 1));
	assert_true(has(fdb, 2, 1) && has(fdb, 3, 1));
	learn(fdb, 5, 1, 1, T + 100);
	assert_false(has(fdb, 3, 1));
	assert_true(has(fdb, 2, 1) && has(fdb, 4, 1) && has(fdb, 5, 1));
	ub_fdb_free(fdb);

	/* The same through ageing: the deadline moves only per tick. */
	fdb = mk(4, 4, 10000, NULL);
	learn(fdb, 1, 1, 1, 0);
	learn(fdb, 1, 1, 1, T - 1);
	assert_int_equal(ub_fdb_next_deadline(fdb), 10000);
	learn(fdb, 1, 1, 1, T);
	assert_int_equal(ub_fdb_next_deadline(fdb), 10000 + T);
	learn(fdb, 1, 1, 1, 2 * T - 1);
	assert_int_equal(ub_fdb_next_deadline(fdb), 10000 + T);
	assert_int_equal(ub_fdb_age(fdb, 10000 + T - 1), 0);
	assert_int_equal(ub_fdb_age(fdb, 10000 + T), 1);
	ub_fdb_free(fdb);
}

static void test_ageing_boundary(void **state)
{
	struct ub_fdb *fdb = mk(16, 4, 10000, NULL);
	uint32_t i;

	assert_true(ub_fdb_next_deadline(fdb) == UB_FDB_NO_DEADLINE);
	assert_int_equal(ub_fdb_age(fdb, 1000000), 0);
	learn(fdb, 1, 1, 1, 1234);
	learn(fdb, 2, 1, 1, 2000);
	learn(fdb, 3, 1, 1, 5000);
	assert_int_equal(ub_fdb_next_deadline(fdb), 11234);

	assert_int_equal(ub_fdb_age(fdb, 11233), 0);
	assert_true(has(fdb, 1, 1));
	assert_int_equal(ub_fdb_age(fdb, 11234), 1);
	assert_false(has(fdb, 1, 1));
	assert_true(has(fdb, 2, 1));
	assert_int_equal(ub_fdb_next_deadline(fdb), 12000);
	assert_int_equal(ub_fdb_age(fdb, 14999), 1);
	assert_true(has(fdb, 3, 1));
	assert_int_equal(ub_fdb_next_deadline(fdb), 15000);
	assert_int_equal(ub_fdb_age(fdb, 15000), 1);
	assert_true(ub_fdb_next_deadline(fdb) == UB_FDB_NO_DEADLINE);
	assert_int_equal(stats(fdb).aged, 3);
	assert_int_equal(stats(fdb).learned_entries, 0);

	/* Several at once; the count is what was removed. */
	for (i = 10; i < 15; i++)
		learn(fdb, i, 1, 1, 20000 + i);
	learn(fdb, 99, 1, 1, 40000);
	assert_int_equal(ub_fdb_age(fdb, 30014), 5);
	assert_int_equal(ub_fdb_age(fdb, 30014), 0);
	assert_true(has(fdb, 99, 1));
	assert_int_equal(stats(fdb).aged, 8);
	ub_fdb_free(fdb);
}

static int min_last_seen_fn(const struct ub_fdb_entry_info *e, void *arg)
{
	uint64_t *min = arg;

	if (!e->is_static && e->last_seen < *min)
		*min = e->last_seen;
	return 0;
}

/*
 * If the caller's clock goes back, the LRU list stays sorted: no entry
 * is due before ub_fdb_next_deadline(), and none expired survives
 * ub_fdb_age().
 */
/* Ageing in steps: the oldest go first, the rest stay due. */
static void test_age_max(void **state)
{
	struct ub_fdb *fdb = mk(16, 4, 1000, NULL);

	for (uint32_t i = 0; i < 10; i++)
		learn(fdb, i, 1, 0, 100 * i);
	assert_int_equal(ub_fdb_age_max(fdb, 5000, 3), 3);
	assert_false(has(fdb, 2, 1));
	assert_true(has(fdb, 3, 1));
	assert_true(ub_fdb_next_deadline(fdb) <= 5000);
	assert_int_equal(ub_fdb_age_max(fdb, 5000, 0), 0);
	assert_int_equal(ub_fdb_age_max(fdb, 5000, 100), 7);
	assert_int_equal(ub_fdb_next_deadline(fdb), UB_FDB_NO_DEADLINE);
	assert_int_equal(stats(fdb).aged, 10);
	ub_fdb_free(fdb);
}

static void test_clock_back(void **state)
{
	struct ub_fdb *fdb = mk(2, 4, 10000, NULL);
	uint64_t min = UINT64_MAX;

	learn(fdb, 1, 1, 1, 5000);
	learn(fdb, 2, 1, 1, 3000);
	assert_int_equal(ub_fdb_next_deadline(fdb), 15000);
	assert_int_equal(ub_fdb_age(fdb, 13000), 0);
	ub_fdb_foreach(fdb, min_last_seen_fn, &min);
	assert_int_equal(min, 5000);
	assert_int_equal(ub_fdb_age(fdb, 14999), 0);
	assert_int_equal(ub_fdb_age(fdb, 15000), 2);
	ub_fdb_free(fdb);

	/* A learn from an earlier tick is no refresh: 1 stays the LRU. */
	fdb = mk(2, 4, 10000, NULL);
	learn(fdb, 1, 1, 1, 5000);
	learn(fdb, 2, 1, 1, 6000);
	assert_int_equal(learn(fdb, 1, 1, 1, 2000), UB_FDB_LEARN_NONE);
	learn(fdb, 3, 1, 1, 6000);
	assert_false(has(fdb, 1, 1));
	assert_true(has(fdb, 2, 1));
	ub_fdb_free(fdb);
}

static void test_set_ageing(void **state)
{
	struct ub_fdb *fdb = mk(16, 4, 300000, NULL);

	assert_int_equal(ub_fdb_get_ageing(fdb), 300000);
	learn(fdb, 1, 1, 1, 0);
	learn(fdb, 2, 1, 1, 5000);
	assert_int_equal(ub_fdb_next_deadline(fdb), 300000);

	/* Shorter: applies to the entries already there. */
	ub_fdb_set_ageing(fdb, 10000);
	assert_int_equal(ub_fdb_get_ageing(fdb), 10000);
	assert_int_equal(ub_fdb_next_deadline(fdb), 10000);
	assert_int_equal(ub_fdb_age(fdb, 9999), 0);
	assert_int_equal(ub_fdb_age(fdb, 10000), 1);
	assert_true(has(fdb, 2, 1));

	/* Longer: B, due at 15000, lives on. */
	ub_fdb_set_ageing(fdb, 50000);
	assert_int_equal(ub_fdb_next_deadline(fdb), 55000);
	assert_int_equal(ub_fdb_age(fdb, 54999), 0);
	assert_true(has(fdb, 2, 1));
	assert_int_equal(ub_fdb_age(fdb, 55000), 1);

	/* A huge ageing time saturates instead of wrapping. */
	ub_fdb_set_ageing(fdb, UINT64_MAX - 10);
	learn(fdb, 3, 1, 1, 100000);
	assert_true(ub_fdb_next_deadline(fdb) == UB_FDB_NO_DEADLINE);
	assert_int_equal(ub_fdb_age(fdb, UINT64_MAX - 1), 0);
	ub_fdb_free(fdb);
}

static void test_ageing_zero(void **state)
{
	struct ub_fdb *fdb = mk(16, 4, 10000, NULL);
	struct ub_fdb_stats st;

	learn(fdb, 1, 1, 1, 0);
	learn(fdb, 2, 1, 1, 0);
	assert_int_equal(add_static(fdb, 3, 1, 7), 0);
	ub_fdb_set_ageing(fdb, 0);
	assert_int_equal(ub_fdb_get_ageing(fdb), 0);
	assert_false(has(fdb, 1, 1));
	assert_false(has(fdb, 2, 1));
	assert_int_equal(port_of(fdb, 3, 1), 7);
	st = stats(fdb);
	assert_int_equal(st.learned_entries, 0);
	assert_int_equal(st.static_entries, 1);
	assert_int_equal(st.aged, 0);

	/* Nothing is learned, not even checked against static entries. */
	assert_int_equal(learn(fdb, 1, 1, 1, 100), UB_FDB_LEARN_NONE);
	assert_false(has(fdb, 1, 1));
	assert_int_equal(learn(fdb, 3, 1, 2, 100), UB_FDB_LEARN_NONE);
	assert_int_equal(port_of(fdb, 3, 1), 7);
	st = stats(fdb);
	assert_int_equal(st.learned, 2);
	assert_int_equal(st.learned_entries, 0);
	assert_int_equal(st.static_refused, 0);
	assert_true(ub_fdb_next_deadline(fdb) == UB_FDB_NO_DEADLINE);
	assert_int_equal(ub_fdb_age(fdb, UINT64_MAX - 1), 0);

	/* Static entries still work. */
	assert_int_equal(add_static(fdb, 4, 1, 8), 0);
	assert_int_equal(port_of(fdb, 4, 1), 8);
	assert_int_equal(del(fdb, 3, 1), 0);

	ub_fdb_set_ageing(fdb, 10000);
	assert_int_equal(learn(fdb, 1, 1, 1, 200), UB_FDB_LEARN_NEW);
	assert_true(has(fdb, 1, 1));
	ub_fdb_free(fdb);

	/* Ageing 0 from the start. */
	fdb = mk(16, 4, 0, NULL);
	assert_int_equal(learn(fdb, 1, 1, 1, 0), UB_FDB_LEARN_NONE);
	assert_false(has(fdb, 1, 1));
	assert_int_equal(stats(fdb).learned, 0);
	ub_fdb_free(fdb);
}

static void test_static(void **state)
{
	struct ub_fdb *fdb = mk(4, 4, 10000, NULL);
	struct ub_fdb_stats st;
	uint32_t i;

	assert_int_equal(add_static(fdb, 1, 1, 1), 0);
	assert_int_equal(learn(fdb, 1, 1, 2, 0), UB_FDB_LEARN_STATIC);
	assert_int_equal(port_of(fdb, 1, 1), 1);
	assert_int_equal(stats(fdb).static_refused, 1);
	assert_int_equal(learn(fdb, 1, 1, 1, 0), UB_FDB_LEARN_NONE);
	st = stats(fdb);
	assert_int_equal(st.static_refused, 1);
	assert_int_equal(st.static_entries, 1);
	assert_int_equal(st.learned_entries, 0);
	assert_int_equal(st.learned, 0);
	assert_int_equal(st.moved, 0);

	/* Never ages. */
	assert_true(ub_fdb_next_deadline(fdb) == UB_FDB_NO_DEADLINE);
	assert_int_equal(ub_fdb_age(fdb, UINT64_MAX - 1), 0);
	assert_true(has(fdb, 1, 1));

	/* Not counted against, nor evicted by, the learned cap. */
	for (i = 100; i < 200; i++)
		learn(fdb, i, 1, 3, i * T);
	st = stats(fdb);
	assert_int_equal(st.learned_entries, 4);
	assert_int_equal(st.evicted, 96);
	assert_int_equal(port_of(fdb, 1, 1), 1);
	assert_int_equal(
		ub_fdb_flush(fdb, UB_FDB_PORT_ANY, UB_FDB_REMOTE_ANY, false),
		4);
	assert_int_equal(port_of(fdb, 1, 1), 1);

	/* Re-adding sets the port. */
	assert_int_equal(add_static(fdb, 1, 1, 3), 0);
	assert_int_equal(port_of(fdb, 1, 1), 3);
	assert_int_equal(stats(fdb).static_entries, 1);
	ub_fdb_free(fdb);
}

static void test_static_capacity(void **state)
{
	struct ub_fdb *fdb = mk(4, 3, 10000, NULL);

	assert_int_equal(add_static(fdb, 1, 1, 1), 0);
	assert_int_equal(add_static(fdb, 2, 1, 1), 0);
	assert_int_equal(add_static(fdb, 3, 1, 1), 0);
	assert_int_equal(add_static(fdb, 4, 1, 1), -ENOSPC);
	assert_false(has(fdb, 4, 1));
	assert_int_equal(stats(fdb).static_entries, 3);

	/* An existing static entry takes no room. */
	assert_int_equal(add_static(fdb, 2, 1, 9), 0);
	assert_int_equal(port_of(fdb, 2, 1), 9);

	/* A learned one cannot convert; it stays learned, and ages. */
	learn(fdb, 5, 1, 2, 0);
	assert_int_equal(add_static(fdb, 5, 1, 1), -ENOSPC);
	assert_int_equal(port_of(fdb, 5, 1), 2);
	assert_int_equal(stats(fdb).learned_entries, 1);
	assert_int_equal(ub_fdb_age(fdb, 10000), 1);
	assert_false(has(fdb, 5, 1));

	/* Learned entries do not use static room. */
	learn(fdb, 6, 1, 2, 0);
	learn(fdb, 7, 1, 2, 0);
	assert_int_equal(del(fdb, 1, 1), 0);
	assert_int_equal(add_static(fdb, 4, 1, 1), 0);
	assert_int_equal(add_static(fdb, 8, 1, 1), -ENOSPC);
	ub_fdb_free(fdb);
}

static void test_static_convert(void **state)
{
	struct ub_fdb *fdb = mk(2, 4, 10000, NULL);
	struct ub_fdb_stats st;

	learn(fdb, 1, 1, 1, 0);
	learn(fdb, 2, 1, 1, 500);
	assert_int_equal(add_static(fdb, 1, 1, 3), 0);
	assert_int_equal(port_of(fdb, 1, 1), 3);
	st = stats(fdb);
	assert_int_equal(st.learned_entries, 1);
	assert_int_equal(st.static_entries, 1);

	/* Off the LRU: B is the head now, and A outlives it. */
	assert_int_equal(ub_fdb_next_deadline(fdb), 10500);
	assert_int_equal(ub_fdb_age(fdb, 100000), 1);
	assert_false(has(fdb, 2, 1));
	assert_int_equal(port_of(fdb, 1, 1), 3);
	assert_true(ub_fdb_next_deadline(fdb) == UB_FDB_NO_DEADLINE);
	assert_int_equal(learn(fdb, 1, 1, 1, 100000), UB_FDB_LEARN_STATIC);

	/* It gave back its learned slot: two more fit without eviction. */
	learn(fdb, 3, 1, 1, 100000);
	learn(fdb, 4, 1, 1, 100000);
	assert_int_equal(stats(fdb).evicted, 0);
	learn(fdb, 5, 1, 1, 100000);
	assert_int_equal(stats(fdb).evicted, 1);
	assert_int_equal(port_of(fdb, 1, 1), 3);

	assert_int_equal(del(fdb, 1, 1), 0);
	assert_int_equal(stats(fdb).static_entries, 0);
	ub_fdb_free(fdb);
}

static void test_del(void **state)
{
	struct ub_fdb *fdb = mk(8, 4, 10000, NULL);
	uint32_t i;

	learn(fdb, 1, 1, 1, 0);
	learn(fdb, 2, 1, 1, 100);
	learn(fdb, 3, 1, 1, 200);
	assert_int_equal(add_static(fdb, 4, 1, 1), 0);

	assert_int_equal(del(fdb, 2, 1), 0); /* middle of the LRU */
	assert_int_equal(del(fdb, 2, 1), -ENOENT);
	assert_false(has(fdb, 2, 1));
	assert_true(has(fdb, 1, 1) && has(fdb, 3, 1));
	assert_int_equal(del(fdb, 4, 1), 0);
	assert_int_equal(del(fdb, 4, 1), -ENOENT);
	assert_int_equal(del(fdb, 99, 1), -ENOENT);
	assert_int_equal(del(fdb, 1, 2), -ENOENT); /* other VLAN */
	assert_true(has(fdb, 1, 1));
	assert_int_equal(stats(fdb).learned_entries, 2);
	assert_int_equal(stats(fdb).static_entries, 0);

	/* LRU head, then ageing still finds the rest in order. */
	assert_int_equal(ub_fdb_next_deadline(fdb), 10000);
	assert_int_equal(del(fdb, 1, 1), 0);
	assert_int_equal(ub_fdb_next_deadline(fdb), 10200);
	assert_int_equal(ub_fdb_age(fdb, 10200), 1);
	assert_true(ub_fdb_next_deadline(fdb) == UB_FDB_NO_DEADLINE);
	assert_int_equal(stats(fdb).aged, 1);

	/* Deleted entries go back to the pool. */
	for (i = 10; i < 18; i++)
		assert_int_equal(learn(fdb, i, 1, 1, 20000), UB_FDB_LEARN_NEW);
	for (i = 20; i < 24; i++)
		assert_int_equal(add_static(fdb, i, 1, 1), 0);
	assert_int_equal(stats(fdb).evicted, 0);
	ub_fdb_free(fdb);
}

static void test_flush(void **state)
{
	struct ub_fdb *fdb = mk(64, 16, 10000, NULL);
	uint32_t i;

	for (i = 0; i < 30; i++)
		learn(fdb, i, 1, i % 3 + 1, i * 100);
	for (i = 100; i < 106; i++)
		assert_int_equal(add_static(fdb, i, 1, i % 3 + 1), 0);

	assert_int_equal(ub_fdb_flush(fdb, 2, UB_FDB_REMOTE_ANY, false), 10);
	for (i = 0; i < 30; i++)
		assert_int_equal(has(fdb, i, 1), i % 3 + 1 != 2);
	assert_true(has(fdb, 100, 1) && has(fdb, 103, 1));
	assert_int_equal(ub_fdb_flush(fdb, 2, UB_FDB_REMOTE_ANY, false), 0);
	assert_int_equal(ub_fdb_flush(fdb, 2, UB_FDB_REMOTE_ANY, true), 2);
	assert_false(has(fdb, 100, 1) || has(fdb, 103, 1));
	assert_int_equal(ub_fdb_flush(fdb, 9, UB_FDB_REMOTE_ANY, true), 0);

	assert_int_equal(
		ub_fdb_flush(fdb, UB_FDB_PORT_ANY, UB_FDB_REMOTE_ANY, false),
		20);
	assert_int_equal(stats(fdb).learned_entries, 0);
	assert_int_equal(stats(fdb).static_entries, 4);
	assert_true(ub_fdb_next_deadline(fdb) == UB_FDB_NO_DEADLINE);

	/* The LRU list is sound after a flush. */
	learn(fdb, 50, 1, 1, 5000);
	learn(fdb, 51, 1, 1, 6000);
	assert_int_equal(ub_fdb_next_deadline(fdb), 15000);
	assert_int_equal(ub_fdb_age(fdb, 15000), 1);

	assert_int_equal(
		ub_fdb_flush(fdb, UB_FDB_PORT_ANY, UB_FDB_REMOTE_ANY, true), 5);
	assert_int_equal(stats(fdb).learned_entries, 0);
	assert_int_equal(stats(fdb).static_entries, 0);
	assert_int_equal(stats(fdb).aged, 1);
	assert_int_equal(stats(fdb).evicted, 0);
	ub_fdb_free(fdb);
}

static void test_cap_eviction(void **state)
{
	struct ub_fdb *fdb = mk(8, 2, 1000000, NULL);
	struct ub_fdb_stats st;
	uint32_t i;

	for (i = 0; i < 8; i++)
		assert_int_equal(learn(fdb, i, 1, 1, i * T), UB_FDB_LEARN_NEW);
	assert_int_equal(learn(fdb, 2, 1, 1, 10 * T), UB_FDB_LEARN_NONE);
	assert_int_equal(learn(fdb, 5, 1, 1, 10 * T), UB_FDB_LEARN_NONE);
	/* A move does not evict. */
	assert_int_equal(learn(fdb, 6, 1, 2, 10 * T), UB_FDB_LEARN_MOVED);
	assert_int_equal(stats(fdb).evicted, 0);

	/* LRU order now 0 1 3 4 7 2 5 6. */
	for (i = 8; i < 11; i++)
		assert_int_equal(learn(fdb, i, 1, 1, 11 * T), UB_FDB_LEARN_NEW);
	for (i = 0; i < 11; i++)
		assert_int_equal(has(fdb, i, 1), i != 0 && i != 1 && i != 3);
	st = stats(fdb);
	assert_int_equal(st.evicted, 3);
	assert_int_equal(st.learned_entries, 8);
	assert_int_equal(st.learned, 11);

	/* A flood of new addresses: bounded, and the newest 8 survive. */
	for (i = 1000; i < 3000; i++) {
		learn(fdb, i, 1, 1, 12 * T + i);
		assert_true(stats(fdb).learned_entries <= 8);
	}
	for (i = 0; i < 3000; i++)
		assert_int_equal(has(fdb, i, 1), i >= 2992);
	st = stats(fdb);
	assert_int_equal(st.evicted, 2003);
	assert_int_equal(st.learned_entries, 8);
	assert_int_equal(ub_fdb_next_deadline(fdb), 12 * T + 2992 + 1000000);
	ub_fdb_free(fdb);
}

/* A port's learned entries, as the table counts them. */
static uint32_t on_port(const struct ub_fdb *fdb, uint32_t port)
{
	struct ub_fdb_port_info info;

	assert_int_equal(ub_fdb_port_get(fdb, port, &info), 0);
	return info.learned_entries;
}

static void set_cap(struct ub_fdb *fdb, uint32_t port, uint32_t cap,
		    enum ub_fdb_cap_policy policy)
{
	assert_int_equal(ub_fdb_port_set_cap(fdb, port, cap, policy), 0);
}

static void test_port_cap_args(void **state)
{
	struct ub_fdb_port_info info;
	struct ub_fdb_cfg cfg;
	struct ub_fdb *fdb = NULL;

	ub_fdb_cfg_default(&cfg);
	assert_int_equal(cfg.ports, UB_FDB_DEFAULT_PORTS);
	cfg.ports = (1u << 24) + 1;
	assert_int_equal(ub_fdb_new(&cfg, &fdb), -EINVAL);
	assert_null(fdb);

	fdb = mk(16, 4, 10000, NULL);
	memset(&info, 0xa5, sizeof(info));
	assert_int_equal(ub_fdb_port_get(fdb, 3, &info), 0);
	assert_int_equal(info.learned_entries, 0);
	assert_int_equal(info.max_learned, 0);
	assert_int_equal(info.policy, UB_FDB_CAP_NOLEARN);
	set_cap(fdb, 3, 7, UB_FDB_CAP_DROP);
	assert_int_equal(ub_fdb_port_get(fdb, 3, &info), 0);
	assert_int_equal(info.max_learned, 7);
	assert_int_equal(info.policy, UB_FDB_CAP_DROP);
	assert_int_equal(ub_fdb_port_set_cap(fdb, UB_FDB_DEFAULT_PORTS, 1,
					     UB_FDB_CAP_DROP), -EINVAL);
	assert_int_equal(ub_fdb_port_get(fdb, UB_FDB_DEFAULT_PORTS, &info),
			 -EINVAL);
	assert_int_equal(ub_fdb_port_set_cap(fdb, 3, 1,
					     (enum ub_fdb_cap_policy)2),
			 -EINVAL);
	/* Ids past the counted ones still learn, uncounted and uncapped. */
	assert_int_equal(learn(fdb, 1, 1, UB_FDB_DEFAULT_PORTS + 5, 0),
			 UB_FDB_LEARN_NEW);
	assert_int_equal(learn(fdb, 1, 1, 3, 0), UB_FDB_LEARN_MOVED);
	assert_int_equal(on_port(fdb, 3), 1);
	assert_int_equal(learn(fdb, 1, 1, UB_FDB_DEFAULT_PORTS + 5, 0),
			 UB_FDB_LEARN_MOVED);
	assert_int_equal(on_port(fdb, 3), 0);
	ub_fdb_free(fdb);
}

/* Both policies: new addresses past the cap are refused, known ones pass. */
static void check_port_cap(enum ub_fdb_cap_policy policy,
			   enum ub_fdb_learn_result refused)
{
	struct ub_fdb *fdb = mk(16, 4, 10000, NULL);
	struct ub_fdb_stats st;
	uint32_t i;

	set_cap(fdb, 1, 3, policy);
	for (i = 0; i < 3; i++)
		assert_int_equal(learn(fdb, i, 1, 1, 0), UB_FDB_LEARN_NEW);
	assert_int_equal(learn(fdb, 3, 1, 1, 0), refused);
	assert_int_equal(learn(fdb, 3, 2, 1, 0), refused); /* other VLAN */
	assert_false(has(fdb, 3, 1) || has(fdb, 3, 2));
	/* Known addresses are refreshed, not refused. */
	assert_int_equal(learn(fdb, 0, 1, 1, 5 * T), UB_FDB_LEARN_NONE);
	assert_int_equal(ub_fdb_next_deadline(fdb), 10000);
	/* Other ports are not limited by it. */
	assert_int_equal(learn(fdb, 10, 1, 2, 0), UB_FDB_LEARN_NEW);
	assert_int_equal(on_port(fdb, 1), 3);
	assert_int_equal(on_port(fdb, 2), 1);
	st = stats(fdb);
	assert_int_equal(st.port_refused, 2);
	assert_int_equal(st.learned, 4);
	assert_int_equal(st.learned_entries, 4);

	/* Room again: one address leaves, the next new one is learned. */
	assert_int_equal(del(fdb, 1, 1), 0);
	assert_int_equal(on_port(fdb, 1), 2);
	assert_int_equal(learn(fdb, 3, 1, 1, 6 * T), UB_FDB_LEARN_NEW);
	assert_int_equal(learn(fdb, 4, 1, 1, 6 * T), refused);
	/* Raising the cap, or removing it, lets more in. */
	set_cap(fdb, 1, 4, policy);
	assert_int_equal(learn(fdb, 4, 1, 1, 6 * T), UB_FDB_LEARN_NEW);
	assert_int_equal(learn(fdb, 5, 1, 1, 6 * T), refused);
	set_cap(fdb, 1, 0, policy);
	assert_int_equal(learn(fdb, 5, 1, 1, 6 * T), UB_FDB_LEARN_NEW);
	assert_int_equal(on_port(fdb, 1), 5);
	/* Lowering it keeps what is there and refuses what is new. */
	set_cap(fdb, 1, 2, policy);
	assert_int_equal(on_port(fdb, 1), 5);
	assert_true(has(fdb, 5, 1));
	assert_int_equal(learn(fdb, 6, 1, 1, 6 * T), refused);
	assert_int_equal(stats(fdb).port_refused, 5);
	ub_fdb_free(fdb);
}

static void test_port_cap_nolearn(void **state)
{
	check_port_cap(UB_FDB_CAP_NOLEARN, UB_FDB_LEARN_REFUSED);
}

static void test_port_cap_drop(void **state)
{
	check_port_cap(UB_FDB_CAP_DROP, UB_FDB_LEARN_DROP);
}

/* The per-port counts follow every way an entry comes, goes or moves. */
static void test_port_counts(void **state)
{
	struct ub_fdb *fdb = mk(8, 4, 10000, NULL);
	uint32_t i;

	set_cap(fdb, 2, 2, UB_FDB_CAP_DROP);
	for (i = 0; i < 4; i++)
		learn(fdb, i, 1, 1, 0);
	learn(fdb, 10, 1, 2, 0);
	learn(fdb, 11, 1, 2, 0);
	assert_int_equal(on_port(fdb, 1), 4);
	assert_int_equal(on_port(fdb, 2), 2);

	/* A move: out of 1, into 2, though 2 is at its cap. */
	assert_int_equal(learn(fdb, 0, 1, 2, 1 * T), UB_FDB_LEARN_MOVED);
	assert_int_equal(on_port(fdb, 1), 3);
	assert_int_equal(on_port(fdb, 2), 3);
	assert_int_equal(learn(fdb, 12, 1, 2, 1 * T), UB_FDB_LEARN_DROP);
	/* And back: 2 is under its cap again. */
	assert_int_equal(learn(fdb, 0, 1, 1, 2 * T), UB_FDB_LEARN_MOVED);
	assert_int_equal(on_port(fdb, 2), 2);

	/* A static entry over a learned one takes it out of the count. */
	assert_int_equal(add_static(fdb, 10, 1, 3), 0);
	assert_int_equal(on_port(fdb, 2), 1);
	assert_int_equal(on_port(fdb, 3), 0);
	assert_int_equal(learn(fdb, 12, 1, 2, 2 * T), UB_FDB_LEARN_NEW);

	/* Eviction by the global cap: 8 learned, the LRU one is on 1. */
	for (i = 20; i < 22; i++)
		assert_int_equal(learn(fdb, i, 1, 3, 3 * T), UB_FDB_LEARN_NEW);
	assert_int_equal(stats(fdb).learned_entries, 8);
	assert_int_equal(learn(fdb, 22, 1, 3, 3 * T), UB_FDB_LEARN_NEW);
	assert_int_equal(stats(fdb).evicted, 1);
	assert_false(has(fdb, 1, 1));
	assert_int_equal(on_port(fdb, 1), 3);
	assert_int_equal(on_port(fdb, 3), 3);

	/* Ageing: what was last seen at 0 (2, 3 on port 1; 11 on 2) goes. */
	assert_int_equal(ub_fdb_age(fdb, 10000), 3);
	assert_int_equal(on_port(fdb, 1), 1);
	assert_int_equal(on_port(fdb, 2), 1);
	assert_int_equal(on_port(fdb, 3), 3);

	/* Flushes, per port and all. */
	assert_int_equal(ub_fdb_flush(fdb, 3, UB_FDB_REMOTE_ANY, false), 3);
	assert_int_equal(on_port(fdb, 3), 0);
	assert_int_equal(on_port(fdb, 1), 1);
	ub_fdb_set_ageing(fdb, 0);
	for (i = 0; i < 4; i++)
		assert_int_equal(on_port(fdb, i), 0);
	/* Ageing 0 learns nothing: no refusal either. */
	set_cap(fdb, 1, 1, UB_FDB_CAP_DROP);
	learn(fdb, 30, 1, 1, 4 * T);
	assert_int_equal(learn(fdb, 31, 1, 1, 4 * T), UB_FDB_LEARN_NONE);
	ub_fdb_set_ageing(fdb, 10000);
	assert_int_equal(learn(fdb, 30, 1, 1, 4 * T), UB_FDB_LEARN_NEW);
	assert_int_equal(learn(fdb, 31, 1, 1, 4 * T), UB_FDB_LEARN_DROP);
	assert_int_equal(
		ub_fdb_flush(fdb, UB_FDB_PORT_ANY, UB_FDB_REMOTE_ANY, true), 2);
	assert_int_equal(on_port(fdb, 1), 0);
	ub_fdb_free(fdb);
}

struct find {
	uint32_t n;
	uint16_t vid;
	bool found;
	struct ub_fdb_entry_info info;
};

static int find_fn(const struct ub_fdb_entry_info *e, void *arg)
{
	struct find *f = arg;

	if (mac_id(&e->mac) == f->n && e->vid == f->vid) {
		assert_false(f->found);
		f->found = true;
		f->info = *e;
	}
	return 0;
}

/* The entry of MAC n in 'vid' as ub_fdb_foreach() shows it; must exist. */
static struct ub_fdb_entry_info info_of(const struct ub_fdb *fdb, uint32_t n,
					uint16_t vid)
{
	struct find f = {.n = n, .vid = vid};

	assert_int_equal(ub_fdb_foreach(fdb, find_fn, &f), 0);
	assert_true(f.found);
	return f.info;
}

/* A port's own MAC: pinned like a static entry, and a frame bearing it
 * from any other port is reported as LOCAL rather than STATIC. */
static void test_local(void **state)
{
	struct ub_fdb *fdb = mk(4, 4, 10000, NULL);
	struct ub_fdb_entry_info e;
	struct ub_fdb_stats st;

	assert_int_equal(add_local(fdb, 1, 0, 1), 0);
	assert_int_equal(add_static(fdb, 2, 0, 1), 0);
	st = stats(fdb);
	assert_int_equal(st.static_entries, 2);
	assert_int_equal(st.local_entries, 1);
	assert_int_equal(st.learned_entries, 0);
	assert_int_equal(port_of(fdb, 1, 0), 1);

	e = info_of(fdb, 1, 0);
	assert_true(e.is_static && e.is_local);
	assert_int_equal(e.port, 1);
	assert_int_equal(e.last_seen, 0);
	e = info_of(fdb, 2, 0);
	assert_true(e.is_static && !e.is_local);

	/* From elsewhere: reported, not moved, counted apart. */
	assert_int_equal(learn(fdb, 1, 0, 2, 0), UB_FDB_LEARN_LOCAL);
	assert_int_equal(learn(fdb, 1, 0, 3, 5 * T), UB_FDB_LEARN_LOCAL);
	assert_int_equal(port_of(fdb, 1, 0), 1);
	assert_int_equal(learn(fdb, 2, 0, 2, 0), UB_FDB_LEARN_STATIC);
	st = stats(fdb);
	assert_int_equal(st.local_refused, 2);
	assert_int_equal(st.static_refused, 1);
	assert_int_equal(st.moved, 0);
	assert_int_equal(st.learned, 0);

	/* From the owner: nothing to say, nothing written. */
	assert_int_equal(learn(fdb, 1, 0, 1, 7 * T), UB_FDB_LEARN_NONE);
	assert_int_equal(stats(fdb).local_refused, 2);

	/* Keyed by VLAN like any entry: the same MAC elsewhere is learned. */
	assert_int_equal(learn(fdb, 1, 5, 2, 0), UB_FDB_LEARN_NEW);
	assert_int_equal(port_of(fdb, 1, 5), 2);
	assert_int_equal(port_of(fdb, 1, 0), 1);

	/* Never ages, and flushes of learned entries leave it. */
	assert_true(ub_fdb_next_deadline(fdb) == 10000);
	assert_int_equal(ub_fdb_age(fdb, UINT64_MAX - 1), 1);
	assert_int_equal(ub_fdb_flush(fdb, 1, UB_FDB_REMOTE_ANY, false), 0);
	assert_int_equal(
		ub_fdb_flush(fdb, UB_FDB_PORT_ANY, UB_FDB_REMOTE_ANY, false),
		0);
	assert_int_equal(port_of(fdb, 1, 0), 1);
	ub_fdb_set_ageing(fdb, 0);
	assert_int_equal(port_of(fdb, 1, 0), 1);
	ub_fdb_set_ageing(fdb, 10000);

	/* Re-adding moves it; the port it left may now use the address. */
	assert_int_equal(add_local(fdb, 1, 0, 3), 0);
	assert_int_equal(port_of(fdb, 1, 0), 3);
	assert_int_equal(stats(fdb).local_entries, 1);
	assert_int_equal(stats(fdb).static_entries, 2);
	assert_int_equal(learn(fdb, 1, 0, 3, 0), UB_FDB_LEARN_NONE);
	assert_int_equal(learn(fdb, 1, 0, 1, 0), UB_FDB_LEARN_LOCAL);

	/* Deleted like any entry; then the address is learned again. */
	assert_int_equal(del(fdb, 1, 0), 0);
	assert_int_equal(del(fdb, 1, 0), -ENOENT);
	st = stats(fdb);
	assert_int_equal(st.local_entries, 0);
	assert_int_equal(st.static_entries, 1);
	assert_int_equal(learn(fdb, 1, 0, 2, 0), UB_FDB_LEARN_NEW);
	e = info_of(fdb, 1, 0);
	assert_false(e.is_static || e.is_local);

	/* A flush with the static entries takes the local ones of the port
	 * (a port going away), and only those. */
	assert_int_equal(add_local(fdb, 3, 0, 2), 0);
	assert_int_equal(add_local(fdb, 4, 0, 1), 0);
	assert_int_equal(ub_fdb_flush(fdb, 2, UB_FDB_REMOTE_ANY, true), 2);
	assert_false(has(fdb, 3, 0) || has(fdb, 1, 0));
	assert_int_equal(port_of(fdb, 4, 0), 1);
	assert_int_equal(stats(fdb).local_entries, 1);
	assert_int_equal(
		ub_fdb_flush(fdb, UB_FDB_PORT_ANY, UB_FDB_REMOTE_ANY, true), 2);
	st = stats(fdb);
	assert_int_equal(st.local_entries, 0);
	assert_int_equal(st.static_entries, 0);
	ub_fdb_free(fdb);
}

/* Local entries take static room; an entry turns between learned, static
 * and local as the last call says, with the counts following. */
static void test_local_capacity_convert(void **state)
{
	struct ub_fdb *fdb = mk(4, 3, 10000, NULL);
	struct ub_fdb_stats st;

	assert_int_equal(add_static(fdb, 1, 0, 1), 0);
	assert_int_equal(add_local(fdb, 2, 0, 1), 0);
	assert_int_equal(add_local(fdb, 3, 0, 2), 0);
	assert_int_equal(add_local(fdb, 4, 0, 2), -ENOSPC);
	assert_int_equal(add_static(fdb, 4, 0, 2), -ENOSPC);
	assert_false(has(fdb, 4, 0));
	/* An existing one takes no room: moving it, or changing its kind. */
	assert_int_equal(add_local(fdb, 3, 0, 4), 0);
	assert_int_equal(add_local(fdb, 1, 0, 1), 0);
	st = stats(fdb);
	assert_int_equal(st.static_entries, 3);
	assert_int_equal(st.local_entries, 3);
	assert_int_equal(learn(fdb, 1, 0, 2, 0), UB_FDB_LEARN_LOCAL);
	assert_int_equal(add_static(fdb, 2, 0, 1), 0);
	st = stats(fdb);
	assert_int_equal(st.static_entries, 3);
	assert_int_equal(st.local_entries, 2);
	assert_int_equal(learn(fdb, 2, 0, 2, 0), UB_FDB_LEARN_STATIC);
	assert_false(info_of(fdb, 2, 0).is_local);

	/* A learned entry turns local only when there is room; it then
	 * leaves the LRU and its port's count. */
	assert_int_equal(learn(fdb, 5, 0, 2, 0), UB_FDB_LEARN_NEW);
	assert_int_equal(add_local(fdb, 5, 0, 1), -ENOSPC);
	assert_int_equal(port_of(fdb, 5, 0), 2);
	assert_int_equal(del(fdb, 1, 0), 0);
	assert_int_equal(add_local(fdb, 5, 0, 1), 0);
	st = stats(fdb);
	assert_int_equal(st.learned_entries, 0);
	assert_int_equal(st.static_entries, 3);
	assert_int_equal(st.local_entries, 2);
	assert_int_equal(on_port(fdb, 2), 0);
	assert_true(ub_fdb_next_deadline(fdb) == UB_FDB_NO_DEADLINE);
	assert_int_equal(learn(fdb, 5, 0, 2, 0), UB_FDB_LEARN_LOCAL);
	assert_int_equal(port_of(fdb, 5, 0), 1);

	/* The pool is shared: full static room leaves every learned slot. */
	for (uint32_t i = 10; i < 14; i++)
		assert_int_equal(learn(fdb, i, 0, 3, 0), UB_FDB_LEARN_NEW);
	assert_int_equal(stats(fdb).evicted, 0);
	ub_fdb_free(fdb);
}

/* Ageing 0 learns nothing, but our own MACs are still reported; plain
 * static entries say nothing, as before. */
static void test_local_ageing_zero(void **state)
{
	struct ub_fdb *fdb = mk(4, 4, 0, NULL);

	assert_int_equal(learn(fdb, 1, 0, 2, 0), UB_FDB_LEARN_NONE);
	assert_int_equal(add_local(fdb, 1, 0, 1), 0);
	assert_int_equal(add_static(fdb, 2, 0, 1), 0);
	assert_int_equal(learn(fdb, 1, 0, 2, 0), UB_FDB_LEARN_LOCAL);
	assert_int_equal(learn(fdb, 1, 0, 1, 0), UB_FDB_LEARN_NONE);
	assert_int_equal(learn(fdb, 2, 0, 2, 0), UB_FDB_LEARN_NONE);
	assert_int_equal(learn(fdb, 3, 0, 2, 0), UB_FDB_LEARN_NONE);
	assert_false(has(fdb, 3, 0));
	assert_int_equal(stats(fdb).local_refused, 1);
	assert_int_equal(stats(fdb).static_refused, 0);
	assert_int_equal(stats(fdb).learned, 0);
	ub_fdb_free(fdb);
}

/* An entry's remote is learned, looked up, and refreshed like its port. */
static void test_remote_learn_lookup(void **state)
{
	struct ub_fdb *fdb = mk(16, 4, 10000, NULL);
	struct ub_mac m = mac_n(1);
	uint32_t port = 77, remote = 77;

	assert_false(ub_fdb_lookup(fdb, &m, 1, &port, &remote));
	assert_int_equal(remote, 77); /* untouched on a miss */
	assert_int_equal(learn_at(fdb, 1, 1, 5, 7, 0), UB_FDB_LEARN_NEW);
	assert_int_equal(learn(fdb, 2, 1, 5, 0), UB_FDB_LEARN_NEW);
	assert_int_equal(port_of(fdb, 1, 1), 5);
	assert_int_equal(remote_of(fdb, 1, 1), 7);
	assert_int_equal(remote_of(fdb, 2, 1), 0);

	/* The same port and remote: a refresh, per tick as ever. */
	assert_int_equal(learn_at(fdb, 1, 1, 5, 7, T - 1), UB_FDB_LEARN_NONE);
	assert_int_equal(ub_fdb_next_deadline(fdb), 10000);
	assert_int_equal(learn_at(fdb, 1, 1, 5, 7, T), UB_FDB_LEARN_NONE);
	assert_int_equal(learn(fdb, 2, 1, 5, T), UB_FDB_LEARN_NONE);
	assert_int_equal(ub_fdb_next_deadline(fdb), 10000 + T);
	assert_int_equal(remote_of(fdb, 1, 1), 7);
	assert_int_equal(stats(fdb).moved, 0);
	assert_int_equal(stats(fdb).learned, 2);
	assert_int_equal(on_port(fdb, 5), 2);
	ub_fdb_free(fdb);
}

/* Another remote of the same port is a move, counted as one. */
static void test_remote_move(void **state)
{
	struct ub_fdb *fdb = mk(2, 4, 10000, NULL);
	struct ub_fdb_stats st;

	assert_int_equal(learn_at(fdb, 1, 1, 5, 7, 0), UB_FDB_LEARN_NEW);
	assert_int_equal(learn_at(fdb, 2, 1, 5, 7, 0), UB_FDB_LEARN_NEW);
	/* Same tick: the move still stamps it and takes it to the tail. */
	assert_int_equal(learn_at(fdb, 1, 1, 5, 8, 500), UB_FDB_LEARN_MOVED);
	assert_int_equal(port_of(fdb, 1, 1), 5);
	assert_int_equal(remote_of(fdb, 1, 1), 8);
	assert_int_equal(on_port(fdb, 5), 2);
	st = stats(fdb);
	assert_int_equal(st.moved, 1);
	assert_int_equal(st.learned, 2);
	assert_int_equal(st.learned_entries, 2);
	assert_int_equal(learn_at(fdb, 3, 1, 5, 7, 600), UB_FDB_LEARN_NEW);
	assert_false(has(fdb, 2, 1));
	assert_int_equal(remote_of(fdb, 1, 1), 8);

	/* To no remote, then to another port's remote. */
	assert_int_equal(learn(fdb, 1, 1, 5, 700), UB_FDB_LEARN_MOVED);
	assert_int_equal(remote_of(fdb, 1, 1), 0);
	assert_int_equal(learn_at(fdb, 1, 1, 6, 9, 800), UB_FDB_LEARN_MOVED);
	assert_int_equal(port_of(fdb, 1, 1), 6);
	assert_int_equal(remote_of(fdb, 1, 1), 9);
	assert_int_equal(on_port(fdb, 5), 1);
	assert_int_equal(on_port(fdb, 6), 1);
	assert_int_equal(learn_at(fdb, 1, 1, 6, 9, 900), UB_FDB_LEARN_NONE);
	st = stats(fdb);
	assert_int_equal(st.moved, 3);
	assert_int_equal(st.learned, 3);
	assert_int_equal(st.evicted, 1);
	ub_fdb_free(fdb);
}

/* A static entry pins its remote as well as its port; a local entry has
 * none, so a frame from a remote of its own port is not ours. */
static void test_remote_static(void **state)
{
	struct ub_fdb *fdb = mk(4, 4, 10000, NULL);
	struct ub_fdb_stats st;

	assert_int_equal(add_static_at(fdb, 1, 1, 5, 7), 0);
	assert_int_equal(learn_at(fdb, 1, 1, 5, 8, 0), UB_FDB_LEARN_STATIC);
	assert_int_equal(learn(fdb, 1, 1, 5, 0), UB_FDB_LEARN_STATIC);
	assert_int_equal(learn_at(fdb, 1, 1, 6, 7, 0), UB_FDB_LEARN_STATIC);
	assert_int_equal(learn_at(fdb, 1, 1, 5, 7, 0), UB_FDB_LEARN_NONE);
	assert_int_equal(port_of(fdb, 1, 1), 5);
	assert_int_equal(remote_of(fdb, 1, 1), 7);
	st = stats(fdb);
	assert_int_equal(st.static_refused, 3);
	assert_int_equal(st.moved, 0);
	assert_int_equal(st.learned_entries, 0);

	/* Re-adding sets the remote; converting a learned entry does too. */
	assert_int_equal(add_static_at(fdb, 1, 1, 5, 9), 0);
	assert_int_equal(remote_of(fdb, 1, 1), 9);
	assert_int_equal(learn_at(fdb, 2, 1, 5, 7, 0), UB_FDB_LEARN_NEW);
	assert_int_equal(add_static(fdb, 2, 1, 5), 0);
	assert_int_equal(remote_of(fdb, 2, 1), 0);
	assert_int_equal(learn_at(fdb, 2, 1, 5, 7, 0), UB_FDB_LEARN_STATIC);

	/* Local: the remote goes, and any remote is somebody else. */
	assert_int_equal(learn_at(fdb, 3, 1, 1, 4, 0), UB_FDB_LEARN_NEW);
	assert_int_equal(add_local(fdb, 3, 1, 1), 0);
	assert_int_equal(remote_of(fdb, 3, 1), 0);
	assert_int_equal(learn_at(fdb, 3, 1, 1, 4, 0), UB_FDB_LEARN_LOCAL);
	assert_int_equal(learn(fdb, 3, 1, 1, 0), UB_FDB_LEARN_NONE);
	/* The same with ageing 0, which looks at local entries only. */
	ub_fdb_set_ageing(fdb, 0);
	assert_int_equal(learn_at(fdb, 3, 1, 1, 4, 0), UB_FDB_LEARN_LOCAL);
	assert_int_equal(learn(fdb, 3, 1, 1, 0), UB_FDB_LEARN_NONE);
	assert_int_equal(stats(fdb).local_refused, 2);
	assert_int_equal(remote_of(fdb, 1, 1), 9);
	ub_fdb_free(fdb);
}

/* How many of port 5's learned entries on remote 'r' (MACs 100 r to
 * 100 r + 2) are there. */
static uint32_t on_remote(const struct ub_fdb *fdb, uint32_t r)
{
	uint32_t i, n = 0;

	for (i = 0; i < 3; i++)
		n += has(fdb, 100 * r + i, 1);
	return n;
}

/* A flush may take one remote of a port: a VTEP removed. */
static void test_remote_flush(void **state)
{
	struct ub_fdb *fdb = mk(64, 16, 10000, NULL);
	uint32_t cursor = 0, n = 0, r, i;

	/* Port 5: three learned entries on each of remotes 0, 1, 2, and a
	 * static one on 1; port 6: three on its own remote 1. */
	for (r = 0; r < 3; r++)
		for (i = 0; i < 3; i++)
			assert_int_equal(learn_at(fdb, 100 * r + i, 1, 5, r, 0),
					 UB_FDB_LEARN_NEW);
	for (i = 0; i < 3; i++)
		assert_int_equal(learn_at(fdb, 1000 + i, 1, 6, 1, 0),
				 UB_FDB_LEARN_NEW);
	assert_int_equal(add_static_at(fdb, 50, 1, 5, 1), 0);

	/* Sliced, as the daemon does it. */
	while (cursor != UB_FDB_WALK_DONE)
		n += ub_fdb_flush_slice(fdb, 5, 1, false, &cursor, 4);
	assert_int_equal(n, 3);
	assert_int_equal(on_remote(fdb, 0), 3);
	assert_int_equal(on_remote(fdb, 1), 0);
	assert_int_equal(on_remote(fdb, 2), 3);
	assert_true(has(fdb, 50, 1));
	for (i = 0; i < 3; i++)
		assert_int_equal(port_of(fdb, 1000 + i, 1), 6);
	assert_int_equal(on_port(fdb, 5), 6);
	assert_int_equal(stats(fdb).learned_entries, 9);

	/* With the static ones; remote 0 is a remote like another. */
	assert_int_equal(ub_fdb_flush(fdb, 5, 1, true), 1);
	assert_false(has(fdb, 50, 1));
	assert_int_equal(ub_fdb_flush(fdb, 5, 0, false), 3);
	assert_int_equal(on_remote(fdb, 0), 0);
	assert_int_equal(on_remote(fdb, 2), 3);
	assert_int_equal(ub_fdb_flush(fdb, 5, 0, false), 0);

	/* Any remote: the rest of the port, and only of that port. */
	assert_int_equal(learn(fdb, 7, 1, 5, 0), UB_FDB_LEARN_NEW);
	assert_int_equal(ub_fdb_flush(fdb, 5, UB_FDB_REMOTE_ANY, false), 4);
	assert_int_equal(on_remote(fdb, 2), 0);
	assert_false(has(fdb, 7, 1));
	assert_int_equal(on_port(fdb, 5), 0);
	assert_int_equal(on_port(fdb, 6), 3);
	/* Any port, one remote: every port's entries on that remote. */
	assert_int_equal(learn_at(fdb, 8, 1, 5, 2, 0), UB_FDB_LEARN_NEW);
	assert_int_equal(ub_fdb_flush(fdb, UB_FDB_PORT_ANY, 1, false), 3);
	assert_true(has(fdb, 8, 1));
	assert_int_equal(stats(fdb).learned_entries, 1);
	assert_int_equal(stats(fdb).aged + stats(fdb).evicted, 0);
	ub_fdb_free(fdb);
}

/* 1000 entries through every operation, whatever the hash. */
static void check_many(ub_fdb_hash_fn hash)
{
	const uint32_t n = 1000;
	struct ub_fdb *fdb = mk(n, 64, 5000, hash);
	uint32_t i, expect;

	/* Key i: MAC i / 2 in VLAN i % 2 + 1, on port i % 7. */
	for (i = 0; i < n; i++)
		assert_int_equal(learn(fdb, i / 2, i % 2 + 1, i % 7, i * 10),
				 UB_FDB_LEARN_NEW);
	for (i = 0; i < n; i++)
		assert_int_equal(port_of(fdb, i / 2, i % 2 + 1), i % 7);
	assert_false(has(fdb, n, 1));

	for (i = 0; i < n; i += 3)
		assert_int_equal(del(fdb, i / 2, i % 2 + 1), 0);
	for (i = 0; i < n; i += 3)
		assert_int_equal(del(fdb, i / 2, i % 2 + 1), -ENOENT);
	for (i = 0; i < n; i++)
		assert_int_equal(has(fdb, i / 2, i % 2 + 1), i % 3 != 0);

	/* Dead when i * 10 + 5000 <= 10000, i.e. i <= 500. */
	for (expect = 0, i = 0; i <= 500; i++)
		expect += i % 3 != 0;
	assert_int_equal(ub_fdb_age(fdb, 10000), expect);
	for (i = 0; i < n; i++)
		assert_int_equal(has(fdb, i / 2, i % 2 + 1),
				 i > 500 && i % 3 != 0);
	assert_int_equal(ub_fdb_next_deadline(fdb), 502 * 10 + 5000);

	/* Move the survivors, then fill up to the cap and past it. */
	for (i = 501; i < n; i++)
		if (i % 3)
			assert_int_equal(
				learn(fdb, i / 2, i % 2 + 1, 100, 20000),
				UB_FDB_LEARN_MOVED);
	for (i = 0; i < 64; i++)
		assert_int_equal(add_static(fdb, 5000 + i, 1, 200), 0);
	for (i = n; i < 2 * n; i++)
		learn(fdb, i / 2, i % 2 + 1, 300, 30000);
	assert_int_equal(stats(fdb).learned_entries, n);
	/* Evicted: the 332 moved survivors, the oldest. */
	assert_int_equal(stats(fdb).evicted, 332);
	for (i = 501; i < n; i++)
		assert_false(has(fdb, i / 2, i % 2 + 1));
	for (i = n; i < 2 * n; i++)
		assert_int_equal(port_of(fdb, i / 2, i % 2 + 1), 300);
	for (i = 0; i < 64; i++)
		assert_int_equal(port_of(fdb, 5000 + i, 1), 200);

	assert_int_equal(ub_fdb_flush(fdb, 300, UB_FDB_REMOTE_ANY, false), n);
	assert_int_equal(
		ub_fdb_flush(fdb, UB_FDB_PORT_ANY, UB_FDB_REMOTE_ANY, true),
		64);
	assert_int_equal(stats(fdb).learned_entries, 0);
	assert_int_equal(stats(fdb).static_entries, 0);
	ub_fdb_free(fdb);
}

static void test_degenerate_hashes(void **state)
{
	check_many(NULL);
	check_many(const_hash);
	check_many(ident_hash);
}

struct visit {
	uint8_t seen[256];
	uint32_t calls;
	uint32_t stop_after;
	int stop_ret;
};

static int visit_fn(const struct ub_fdb_entry_info *e, void *arg)
{
	struct visit *v = arg;
	uint32_t id = mac_id(&e->mac);

	assert_true(id < UB_ARRAY_SIZE(v->seen));
	assert_int_equal(e->vid, 1);
	v->seen[id]++;
	if (id >= 100) {
		assert_true(e->is_static);
		assert_int_equal(e->is_local, id >= 105);
		assert_int_equal(e->port, 9);
		assert_int_equal(e->remote, id < 105 ? id - 99 : 0);
	} else {
		assert_false(e->is_static || e->is_local);
		assert_int_equal(e->port, id % 5);
		assert_int_equal(e->remote, id % 3);
		assert_int_equal(e->last_seen, id * 100);
	}
	return ++v->calls == v->stop_after ? v->stop_ret : 0;
}

static void test_foreach(void **state)
{
	struct ub_fdb *fdb = mk(64, 16, 10000, NULL);
	struct visit v;
	uint32_t i;

	memset(&v, 0, sizeof(v));
	assert_int_equal(ub_fdb_foreach(fdb, visit_fn, &v), 0);
	assert_int_equal(v.calls, 0);

	for (i = 0; i < 40; i++)
		learn_at(fdb, i, 1, i % 5, i % 3, i * 100);
	for (i = 100; i < 105; i++)
		add_static_at(fdb, i, 1, 9, i - 99);
	for (i = 105; i < 110; i++)
		add_local(fdb, i, 1, 9);
	del(fdb, 7, 1);

	memset(&v, 0, sizeof(v));
	assert_int_equal(ub_fdb_foreach(fdb, visit_fn, &v), 0);
	assert_int_equal(v.calls, 49);
	for (i = 0; i < UB_ARRAY_SIZE(v.seen); i++)
		assert_int_equal(v.seen[i],
				 (i < 40 && i != 7) || (i >= 100 && i < 110));

	/* The same, a slice at a time. */
	memset(&v, 0, sizeof(v));
	for (uint32_t cursor = 0; cursor != UB_FDB_WALK_DONE;)
		assert_int_equal(
			ub_fdb_foreach_slice(fdb, &cursor, 3, visit_fn, &v), 0);
	assert_int_equal(v.calls, 49);
	for (i = 0; i < UB_ARRAY_SIZE(v.seen); i++)
		assert_int_equal(v.seen[i],
				 (i < 40 && i != 7) || (i >= 100 && i < 110));

	memset(&v, 0, sizeof(v));
	v.stop_after = 5;
	v.stop_ret = 7;
	assert_int_equal(ub_fdb_foreach(fdb, visit_fn, &v), 7);
	assert_int_equal(v.calls, 5);

	memset(&v, 0, sizeof(v));
	v.stop_after = 1;
	v.stop_ret = -3;
	assert_int_equal(ub_fdb_foreach(fdb, visit_fn, &v), -3);
	assert_int_equal(v.calls, 1);
	ub_fdb_free(fdb);
}

struct slice_visit {
	uint8_t seen[8192];
	uint32_t calls;
};

static int slice_fn(const struct ub_fdb_entry_info *e, void *arg)
{
	struct slice_visit *v = arg;
	uint32_t id = mac_id(&e->mac);

	assert_true(id < UB_ARRAY_SIZE(v->seen));
	v->seen[id]++;
	v->calls++;
	return 0;
}

/* Walks 'fdb' in slices of 'budget'; between slices, entries 2000 and up
 * come and go and those below move between ports. Returns the slices. */
static uint32_t walk_churning(struct ub_fdb *fdb, uint32_t budget,
			      struct slice_visit *v)
{
	uint32_t cursor = 0, slices = 0, next = 5000, gone = 2000;

	memset(v, 0, sizeof(*v));
	while (cursor != UB_FDB_WALK_DONE) {
		uint32_t calls = v->calls;

		assert_int_equal(ub_fdb_foreach_slice(fdb, &cursor, budget,
						      slice_fn, v), 0);
		/* A slice ends at the end of the chain where it reached
		 * its budget: a few entries past it at most here. */
		assert_true(v->calls - calls <= budget + 10);
		slices++;
		del(fdb, gone++, 1);
		learn(fdb, next++, 1, 3, 10);
		learn(fdb, slices % 2000, 1, 4, 10);
	}
	return slices;
}

/* A walk in slices sees every entry present all along exactly once, also
 * while others come, go and move between its slices. */
static void test_foreach_slice(void **state)
{
	struct ub_fdb *fdb = mk(8000, 16, 100000, NULL);
	struct slice_visit v;
	uint32_t slices, i;

	for (i = 0; i < 3000; i++)
		learn(fdb, i, 1, i % 3, 10);
	slices = walk_churning(fdb, 50, &v);
	assert_true(slices > 100);
	for (i = 0; i < 2000; i++)
		assert_int_equal(v.seen[i], 1);
	for (i = 2000; i < UB_ARRAY_SIZE(v.seen); i++)
		assert_true(v.seen[i] <= 1);
	ub_fdb_free(fdb);

	/* One chain holds everything: a slice takes it whole, whatever its
	 * budget. */
	fdb = mk(8000, 16, 100000, const_hash);
	for (i = 0; i < 3000; i++)
		learn(fdb, i, 1, i % 3, 10);
	memset(&v, 0, sizeof(v));
	i = 0;
	assert_int_equal(ub_fdb_foreach_slice(fdb, &i, 1, slice_fn, &v), 0);
	assert_int_equal(i, 1);
	assert_int_equal(v.calls, 0);
	i = 42;
	assert_int_equal(ub_fdb_foreach_slice(fdb, &i, 1, slice_fn, &v), 0);
	assert_int_equal(v.calls, 3000);
	assert_int_equal(i, 43);
	assert_int_equal(ub_fdb_foreach_slice(fdb, &i, UINT32_MAX, slice_fn,
					      &v), 0);
	assert_int_equal(i, UB_FDB_WALK_DONE);
	assert_int_equal(v.calls, 3000);
	ub_fdb_free(fdb);
}

/*
 * A reference model: one slot per key, LRU order by a sequence number
 * stamped at every move to the tail. Obviously right, and slow.
 */
#define M_MACS 24
#define M_KEYS (2 * M_MACS)
#define M_CAP 12
#define M_STATIC 5
#define M_PORTS 4
#define M_REMOTES 3

struct m_ent {
	bool present, is_static, is_local;
	uint32_t port, remote;
	uint64_t last_seen, seq;
};

struct model {
	struct m_ent e[M_KEYS];
	uint64_t ageing, seq;
	struct ub_fdb_stats st;
	uint32_t cap[M_PORTS];
	enum ub_fdb_cap_policy policy[M_PORTS];
};

/* The learned entries on 'port', counted the slow way. */
static uint32_t m_on_port(const struct model *m, uint32_t port)
{
	uint32_t k, n = 0;

	for (k = 0; k < M_KEYS; k++)
		n += m->e[k].present && !m->e[k].is_static &&
		     m->e[k].port == port;
	return n;
}

/* Key k: MAC k / 2 in VLAN k % 2 + 1. */
static uint32_t k_mac(uint32_t k)
{
	return k / 2;
}

static uint16_t k_vid(uint32_t k)
{
	return (uint16_t)(k % 2 + 1);
}

static void m_remove(struct model *m, uint32_t k)
{
	if (m->e[k].is_local)
		m->st.local_entries--;
	if (m->e[k].is_static)
		m->st.static_entries--;
	else
		m->st.learned_entries--;
	m->e[k].present = false;
}

static void m_stamp(struct model *m, uint32_t k, uint64_t now)
{
	m->e[k].last_seen = now;
	m->e[k].seq = ++m->seq;
}

static enum ub_fdb_learn_result m_learn(struct model *m, uint32_t k,
					uint32_t port, uint32_t remote,
					uint64_t now)
{
	struct m_ent *e = &m->e[k];
	bool here = e->port == port && e->remote == remote;

	if (e->present && e->is_local && !here) {
		m->st.local_refused++;
		return UB_FDB_LEARN_LOCAL;
	}
	if (m->ageing == 0)
		return UB_FDB_LEARN_NONE;
	if (e->present && e->is_static) {
		if (here)
			return UB_FDB_LEARN_NONE;
		m->st.static_refused++;
		return UB_FDB_LEARN_STATIC;
	}
	if (e->present && here) {
		if (now / T != e->last_seen / T)
			m_stamp(m, k, now);
		return UB_FDB_LEARN_NONE;
	}
	if (e->present) {
		e->port = port;
		e->remote = remote;
		m_stamp(m, k, now);
		m->st.moved++;
		return UB_FDB_LEARN_MOVED;
	}
	if (m->cap[port] && m_on_port(m, port) >= m->cap[port]) {
		m->st.port_refused++;
		return m->policy[port] == UB_FDB_CAP_DROP ? UB_FDB_LEARN_DROP :
							    UB_FDB_LEARN_REFUSED;
	}
	if (m->st.learned_entries == M_CAP) {
		uint32_t j, lru = M_KEYS;

		for (j = 0; j < M_KEYS; j++)
			if (m->e[j].present && !m->e[j].is_static &&
			    (lru == M_KEYS || m->e[j].seq < m->e[lru].seq))
				lru = j;
		m_remove(m, lru);
		m->st.evicted++;
	}
	e->present = true;
	e->is_static = false;
	e->is_local = false;
	e->port = port;
	e->remote = remote;
	m_stamp(m, k, now);
	m->st.learned_entries++;
	m->st.learned++;
	return UB_FDB_LEARN_NEW;
}

static int m_add_static(struct model *m, uint32_t k, uint32_t port,
			uint32_t remote, bool local)
{
	struct m_ent *e = &m->e[k];

	if (!(e->present && e->is_static)) {
		if (m->st.static_entries == M_STATIC)
			return -ENOSPC;
		if (e->present)
			m->st.learned_entries--;
		m->st.static_entries++;
		e->is_local = false;
	}
	if (local && !e->is_local)
		m->st.local_entries++;
	else if (!local && e->is_local)
		m->st.local_entries--;
	e->present = true;
	e->is_static = true;
	e->is_local = local;
	e->port = port;
	e->remote = remote;
	return 0;
}

static uint32_t m_flush(struct model *m, uint32_t port, uint32_t remote,
			bool with_static)
{
	uint32_t k, n = 0;

	for (k = 0; k < M_KEYS; k++) {
		struct m_ent *e = &m->e[k];

		if (e->present &&
		    (port == UB_FDB_PORT_ANY || e->port == port) &&
		    (remote == UB_FDB_REMOTE_ANY || e->remote == remote) &&
		    (with_static || !e->is_static)) {
			m_remove(m, k);
			n++;
		}
	}
	return n;
}

static uint32_t m_age(struct model *m, uint64_t now)
{
	uint32_t k, n = 0;

	for (k = 0; k < M_KEYS; k++) {
		struct m_ent *e = &m->e[k];

		if (e->present && !e->is_static &&
		    now - e->last_seen >= m->ageing) {
			m_remove(m, k);
			n++;
		}
	}
	m->st.aged += n;
	return n;
}

static uint64_t m_deadline(const struct model *m)
{
	uint64_t d = UB_FDB_NO_DEADLINE;
	uint32_t k;

	if (m->ageing == 0)
		return d;
	for (k = 0; k < M_KEYS; k++)
		if (m->e[k].present && !m->e[k].is_static &&
		    m->e[k].last_seen + m->ageing < d)
			d = m->e[k].last_seen + m->ageing;
	return d;
}

static void check_stats(const struct ub_fdb *fdb, const struct model *m)
{
	struct ub_fdb_stats st = stats(fdb);

	assert_int_equal(st.learned_entries, m->st.learned_entries);
	assert_int_equal(st.static_entries, m->st.static_entries);
	assert_int_equal(st.local_entries, m->st.local_entries);
	assert_int_equal(st.learned, m->st.learned);
	assert_int_equal(st.moved, m->st.moved);
	assert_int_equal(st.aged, m->st.aged);
	assert_int_equal(st.evicted, m->st.evicted);
	assert_int_equal(st.static_refused, m->st.static_refused);
	assert_int_equal(st.local_refused, m->st.local_refused);
	assert_int_equal(st.port_refused, m->st.port_refused);
	for (uint32_t p = 0; p < M_PORTS; p++)
		assert_int_equal(on_port(fdb, p), m_on_port(m, p));
}

struct m_visit {
	const struct model *m;
	uint8_t seen[M_KEYS];
};

static int m_visit_fn(const struct ub_fdb_entry_info *info, void *arg)
{
	struct m_visit *v = arg;
	uint32_t k = mac_id(&info->mac) * 2 + info->vid - 1;
	const struct m_ent *e;

	assert_true(k < M_KEYS);
	e = &v->m->e[k];
	assert_true(e->present);
	assert_int_equal(info->is_static, e->is_static);
	assert_int_equal(info->is_local, e->is_local);
	assert_int_equal(info->port, e->port);
	assert_int_equal(info->remote, e->remote);
	if (!e->is_static)
		assert_int_equal(info->last_seen, e->last_seen);
	v->seen[k]++;
	return 0;
}

static void check_all(const struct ub_fdb *fdb, const struct model *m)
{
	struct m_visit v = {.m = m};
	uint32_t k;

	for (k = 0; k < M_KEYS; k++) {
		assert_int_equal(has(fdb, k_mac(k), k_vid(k)), m->e[k].present);
		if (!m->e[k].present)
			continue;
		assert_int_equal(port_of(fdb, k_mac(k), k_vid(k)),
				 m->e[k].port);
		assert_int_equal(remote_of(fdb, k_mac(k), k_vid(k)),
				 m->e[k].remote);
	}
	assert_int_equal(ub_fdb_foreach(fdb, m_visit_fn, &v), 0);
	for (k = 0; k < M_KEYS; k++)
		assert_int_equal(v.seen[k], m->e[k].present);
}

/* xorshift64: fixed seed, so a failure replays. */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void check_random(ub_fdb_hash_fn hash, uint64_t seed)
{
	static const uint64_t ageings[] = {0, 3000, 8000, 20000};
	struct ub_fdb *fdb = mk(M_CAP, M_STATIC, 8000, hash);
	struct model m;
	uint64_t now = 1000;
	uint32_t op;

	memset(&m, 0, sizeof(m));
	m.ageing = 8000;
	for (op = 0; op < 20000; op++) {
		uint32_t k = (uint32_t)(rnd(&seed) % M_KEYS);
		uint32_t port = (uint32_t)(rnd(&seed) % M_PORTS);
		uint32_t remote = (uint32_t)(rnd(&seed) % M_REMOTES);
		uint32_t r = (uint32_t)(rnd(&seed) % 100);

		now += rnd(&seed) % 1200;
		if (rnd(&seed) % 64 == 0) {
			/* Caps 0 (none) to 4, on a 12-entry table. */
			m.cap[port] = (uint32_t)(rnd(&seed) % 5);
			m.policy[port] = rnd(&seed) & 1 ? UB_FDB_CAP_DROP :
							  UB_FDB_CAP_NOLEARN;
			set_cap(fdb, port, m.cap[port], m.policy[port]);
		}
		if (r < 55) {
			assert_int_equal(learn_at(fdb, k_mac(k), k_vid(k), port,
						  remote, now),
					 m_learn(&m, k, port, remote, now));
		} else if (r < 70) {
			uint32_t got = M_PORTS, got_remote = M_REMOTES;
			struct ub_mac mac = mac_n(k_mac(k));
			bool found = ub_fdb_lookup(fdb, &mac, k_vid(k), &got,
						   &got_remote);

			assert_int_equal(found, m.e[k].present);
			if (found) {
				assert_int_equal(got, m.e[k].port);
				assert_int_equal(got_remote, m.e[k].remote);
			}
		} else if (r < 78) {
			int want = m.e[k].present ? 0 : -ENOENT;

			if (!want)
				m_remove(&m, k);
			assert_int_equal(del(fdb, k_mac(k), k_vid(k)), want);
		} else if (r < 90) {
			assert_int_equal(ub_fdb_age(fdb, now), m_age(&m, now));
		} else if (r < 95) {
			bool local = rnd(&seed) & 1;

			if (local)
				remote = 0;
			assert_int_equal(
				local ? add_local(fdb, k_mac(k), k_vid(k), port)
				      : add_static_at(fdb, k_mac(k), k_vid(k),
						      port, remote),
				m_add_static(&m, k, port, remote, local));
		} else if (r < 98) {
			bool ws = rnd(&seed) & 1;

			if (rnd(&seed) & 1)
				port = UB_FDB_PORT_ANY;
			if (rnd(&seed) & 1)
				remote = UB_FDB_REMOTE_ANY;
			assert_int_equal(ub_fdb_flush(fdb, port, remote, ws),
					 m_flush(&m, port, remote, ws));
		} else {
			m.ageing = ageings[rnd(&seed) % 4];
			if (m.ageing == 0)
				m_flush(&m, UB_FDB_PORT_ANY, UB_FDB_REMOTE_ANY,
					false);
			ub_fdb_set_ageing(fdb, m.ageing);
		}
		assert_true(ub_fdb_next_deadline(fdb) == m_deadline(&m));
		check_stats(fdb, &m);
		if (op % 16 == 0)
			check_all(fdb, &m);
	}
	check_all(fdb, &m);
	/* The run must have exercised every path. */
	assert_true(m.st.evicted > 100 && m.st.aged > 100 && m.st.moved > 100 &&
		    m.st.static_refused > 100 && m.st.local_refused > 100 &&
		    m.st.port_refused > 100);
	ub_fdb_free(fdb);
}

static void test_random_vs_model(void **state)
{
	check_random(NULL, 0x9e3779b97f4a7c15ull);
	check_random(const_hash, 0x1234567);
	check_random(ident_hash, 0xfeedface);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_invalid),
		cmocka_unit_test(test_cfg_default),
		cmocka_unit_test(test_learn_lookup),
		cmocka_unit_test(test_vlans_are_separate),
		cmocka_unit_test(test_move),
		cmocka_unit_test(test_refresh_tick),
		cmocka_unit_test(test_ageing_boundary),
		cmocka_unit_test(test_clock_back),
		cmocka_unit_test(test_age_max),
		cmocka_unit_test(test_set_ageing),
		cmocka_unit_test(test_ageing_zero),
		cmocka_unit_test(test_static),
		cmocka_unit_test(test_static_capacity),
		cmocka_unit_test(test_static_convert),
		cmocka_unit_test(test_local),
		cmocka_unit_test(test_local_capacity_convert),
		cmocka_unit_test(test_local_ageing_zero),
		cmocka_unit_test(test_remote_learn_lookup),
		cmocka_unit_test(test_remote_move),
		cmocka_unit_test(test_remote_static),
		cmocka_unit_test(test_remote_flush),
		cmocka_unit_test(test_del),
		cmocka_unit_test(test_flush),
		cmocka_unit_test(test_cap_eviction),
		cmocka_unit_test(test_port_cap_args),
		cmocka_unit_test(test_port_cap_nolearn),
		cmocka_unit_test(test_port_cap_drop),
		cmocka_unit_test(test_port_counts),
		cmocka_unit_test(test_degenerate_hashes),
		cmocka_unit_test(test_foreach),
		cmocka_unit_test(test_foreach_slice),
		cmocka_unit_test(test_random_vs_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
