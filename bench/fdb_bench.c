/* SPDX-License-Identifier: MIT */
/*
 * fdb_bench: operations per second of the FDB (fdb/fdb.c) at 1k, 64k and
 * 1M entries.
 *
 * For each size N the table is created with max_learned = N and filled
 * with N learned addresses (random, locally administered unicast MACs),
 * then timed:
 *   learn new     filling the empty table (N inserts)
 *   learn hit     learning addresses already known on the same port, in
 *                 the same tick (the per-frame refresh: a read, no write)
 *   learn refresh the same, with 'now' one tick later each pass (a write
 *                 and an LRU move per entry)
 *   learn evict   learning unknown addresses into the full table (each
 *                 evicts the least recently used entry)
 *   lookup hit    known addresses
 *   lookup miss   unknown addresses
 * Keys are visited in a shuffled order, so large tables pay their cache
 * misses as a switch with many active stations would. Each figure is the
 * best of 3 repetitions (the machine is shared and noisy).
 *
 *   fdb_bench [--ops N] [--sizes N,N,...]
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ubridge/fdb.h>

#define REPS 3

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
	/* splitmix64 */
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* n distinct unicast, locally administered MACs; the first 'n' are 'ins'. */
static void make_macs(struct ub_mac *macs, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		uint64_t r = rng();

		/* The index in the low bytes keeps them distinct. */
		macs[i].b[0] = 0x02;
		macs[i].b[1] = (uint8_t)(r >> 8);
		macs[i].b[2] = (uint8_t)(i >> 24);
		macs[i].b[3] = (uint8_t)(i >> 16);
		macs[i].b[4] = (uint8_t)(i >> 8);
		macs[i].b[5] = (uint8_t)i;
		if (r & 1) /* a second half of the space for the misses */
			macs[i].b[1] |= 0x80;
		else
			macs[i].b[1] &= 0x7f;
	}
}

static void shuffle(uint32_t *idx, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		idx[i] = i;
	for (uint32_t i = n - 1; i > 0; i--) {
		uint32_t j = (uint32_t)(rng() % (i + 1));
		uint32_t t = idx[i];

		idx[i] = idx[j];
		idx[j] = t;
	}
}

static struct ub_fdb *new_table(uint32_t n)
{
	struct ub_fdb_cfg cfg;
	struct ub_fdb *fdb;
	int err;

	ub_fdb_cfg_default(&cfg);
	cfg.max_learned = n;
	cfg.secret = rng();
	err = ub_fdb_new(&cfg, &fdb);
	if (err) {
		fprintf(stderr, "fdb_bench: ub_fdb_new(%u): %s\n", n,
			strerror(-err));
		exit(1);
	}
	return fdb;
}

static void print_row(uint32_t n, const char *what, uint64_t ops, double s)
{
	printf("| %7u | %-13s | %12.2f | %8.1f |\n", n, what,
	       (double)ops / s / 1e6, s * 1e9 / (double)ops);
}

static void bench_size(uint32_t n, uint64_t ops)
{
	/* 'known' (in the table) and 'unknown' addresses, disjoint. */
	struct ub_mac *known = malloc(sizeof(*known) * n);
	struct ub_mac *unknown = malloc(sizeof(*unknown) * n);
	uint32_t *idx = malloc(sizeof(*idx) * n);
	uint64_t sink = 0, now = 1000000;
	double best[6];
	struct ub_fdb *fdb = NULL;

	if (!known || !unknown || !idx) {
		fprintf(stderr, "fdb_bench: out of memory\n");
		exit(1);
	}
	make_macs(known, n);
	for (uint32_t i = 0; i < n; i++) {
		unknown[i] = known[i];
		unknown[i].b[0] = 0x06; /* another locally administered prefix */
	}
	shuffle(idx, n);
	for (int k = 0; k < 6; k++)
		best[k] = 1e30;

	for (int rep = 0; rep < REPS; rep++) {
		double t;
		uint64_t i;

		ub_fdb_free(fdb);
		fdb = new_table(n);

		/* learn new: fill the table */
		t = now_s();
		for (uint32_t j = 0; j < n; j++)
			sink += ub_fdb_learn(fdb, &known[idx[j]], 0, j & 7, 0,
					     now);
		t = now_s() - t;
		if (t < best[0])
			best[0] = t;

		/* learn hit: same port, same tick */
		t = now_s();
		for (i = 0; i < ops; i++) {
			uint32_t j = idx[i % n];

			sink += ub_fdb_learn(fdb, &known[j], 0,
					     (uint32_t)(i % n) & 7, 0, now);
		}
		t = now_s() - t;
		if (t < best[1])
			best[1] = t;

		/* learn refresh: a new tick per pass over the keys */
		t = now_s();
		for (i = 0; i < ops; i++) {
			uint32_t j = idx[i % n];

			if (i % n == 0)
				now += UB_FDB_TICK_MS;
			sink += ub_fdb_learn(fdb, &known[j], 0,
					     (uint32_t)(i % n) & 7, 0, now);
		}
		t = now_s() - t;
		if (t < best[2])
			best[2] = t;

		/* lookup hit */
		t = now_s();
		for (i = 0; i < ops; i++) {
			uint32_t port = 0;

			sink += ub_fdb_lookup(fdb, &known[idx[i % n]], 0, &port,
					      NULL);
			sink += port;
		}
		t = now_s() - t;
		if (t < best[4])
			best[4] = t;

		/* lookup miss */
		t = now_s();
		for (i = 0; i < ops; i++) {
			uint32_t port = 0;

			sink += ub_fdb_lookup(fdb, &unknown[idx[i % n]], 0,
					      &port, NULL);
		}
		t = now_s() - t;
		if (t < best[5])
			best[5] = t;

		/* learn evict: unknown addresses into the full table */
		t = now_s();
		for (uint32_t j = 0; j < n; j++)
			sink += ub_fdb_learn(fdb, &unknown[idx[j]], 0, 1, 0,
					     now);
		t = now_s() - t;
		if (t < best[3])
			best[3] = t;
		{
			struct ub_fdb_stats st;

			ub_fdb_get_stats(fdb, &st);
			if (st.learned_entries != n || st.evicted != n) {
				fprintf(stderr,
					"fdb_bench: unexpected table state: %u entries, %llu evicted (want %u, %u)\n",
					st.learned_entries,
					(unsigned long long)st.evicted, n, n);
				exit(1);
			}
		}
	}
	print_row(n, "learn new", n, best[0]);
	print_row(n, "learn hit", ops, best[1]);
	print_row(n, "learn refresh", ops, best[2]);
	print_row(n, "learn evict", n, best[3]);
	print_row(n, "lookup hit", ops, best[4]);
	print_row(n, "lookup miss", ops, best[5]);
	if (sink == 42) /* keep the results alive */
		fputc(' ', stderr);
	ub_fdb_free(fdb);
	free(known);
	free(unknown);
	free(idx);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ops", required_argument, NULL, 'o' },
		{ "sizes", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint32_t sizes[16] = { 1024, 65536, 1048576 };
	unsigned int nsizes = 3;
	uint64_t ops = 4000000;
	int c;

	while ((c = getopt_long(argc, argv, "o:s:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			ops = strtoull(optarg, NULL, 10);
			if (!ops) {
				fprintf(stderr, "fdb_bench: bad --ops\n");
				return 2;
			}
			break;
		case 's': {
			char *s = optarg, *end;

			nsizes = 0;
			while (*s && nsizes < 16) {
				unsigned long v = strtoul(s, &end, 10);

				if (end == s || !v || v > (1ul << 23)) {
					fprintf(stderr, "fdb_bench: bad --sizes\n");
					return 2;
				}
				sizes[nsizes++] = (uint32_t)v;
				s = *end == ',' ? end + 1 : end;
				if (*end && *end != ',') {
					fprintf(stderr, "fdb_bench: bad --sizes\n");
					return 2;
				}
			}
			break;
		}
		case 'h':
			printf("Usage: fdb_bench [--ops N] [--sizes N,N,...]\n");
			return 0;
		default:
			return 2;
		}
	}
	printf("FDB micro-benchmark: %llu timed operations per row (learn new and learn evict: N), best of %d\n\n",
	       (unsigned long long)ops, REPS);
	printf("| entries | operation     | Mops/s       | ns/op    |\n");
	printf("|--------:|---------------|-------------:|---------:|\n");
	for (unsigned int i = 0; i < nsizes; i++)
		bench_size(sizes[i], ops);
	return 0;
}
