/* SPDX-License-Identifier: MIT */
/*
 * A port's impairment in one direction, in tc netem's words (issue 16):
 *
 *   [delay TIME [JITTER [CORR%]] [distribution uniform|normal|pareto]]
 *   [loss PCT [CORR%] | loss gemodel P [R [1-H [1-K]]]]
 *   [rate RATE] [corrupt PCT] [duplicate PCT] [reorder PCT] [limit FRAMES]
 *
 * TIME: a number with a unit, us, ms or s ("50ms", "1.5ms", "200us");
 * PCT: a number of percent, "%" optional ("0.5%", "10"); RATE: a number
 * with a unit, bit, kbit, mbit, gbit (bits per second, powers of 1000) or
 * bps, kbps, mbps, gbps (bytes per second), as tc has them. Parsing and
 * formatting are shared by ubctl (to refuse a bad word before sending) and
 * the daemon; what an impairment does to frames is core's (impair.c).
 */
#ifndef UBRIDGE_IMPAIR_H
#define UBRIDGE_IMPAIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Probabilities and correlations in parts per million. */
#define UB_IMPAIR_PPM 1000000u
/* The queue's default and largest length, in frames. */
#define UB_IMPAIR_LIMIT_DEFAULT 1000u
#define UB_IMPAIR_LIMIT_MAX 100000u
/* The longest delay and jitter: 10 s each. */
#define UB_IMPAIR_DELAY_MAX_NS (10ull * 1000000000ull)
/* 1 bit/s to 100 Gbit/s. */
#define UB_IMPAIR_RATE_MAX_BPS (100ull * 1000000000ull)

enum ub_impair_dist {
	UB_IMPAIR_DIST_UNIFORM, /* delay +- jitter, all alike (the default) */
	UB_IMPAIR_DIST_NORMAL,  /* mean delay, standard deviation jitter */
	UB_IMPAIR_DIST_PARETO,  /* a heavy tail above delay - jitter */
};

enum ub_impair_loss {
	UB_IMPAIR_LOSS_NONE,
	UB_IMPAIR_LOSS_RANDOM,  /* loss_ppm, correlated by loss_corr_ppm */
	UB_IMPAIR_LOSS_GEMODEL, /* Gilbert-Elliott: ge_p, ge_r, ge_h, ge_k */
};

struct ub_impair_cfg {
	uint64_t delay_ns;
	uint64_t jitter_ns;
	uint32_t delay_corr_ppm;
	enum ub_impair_dist dist;
	bool has_dist;		/* "distribution" was given */
	enum ub_impair_loss loss;
	uint32_t loss_ppm;
	uint32_t loss_corr_ppm;
	/* gemodel: good -> bad (p), bad -> good (r), loss in bad (1-h) and
	 * in good (1-k), as netem names them. Defaults: r = 100% - p,
	 * 1-h = 100%, 1-k = 0. */
	uint32_t ge_p_ppm, ge_r_ppm, ge_h_ppm, ge_k_ppm;
	uint64_t rate_bps;	/* bits per second; 0: none */
	uint32_t corrupt_ppm;
	uint32_t duplicate_ppm;
	uint32_t reorder_ppm;
	uint32_t limit;		/* frames queued at most */
};

/* Fills 'cfg' with no impairment and the default limit. */
void ub_impair_cfg_init(struct ub_impair_cfg *cfg);

/* True when 'cfg' does nothing (no delay, loss, rate, corruption,
 * duplication or reordering): a port with it is not impaired. */
bool ub_impair_cfg_none(const struct ub_impair_cfg *cfg);

/*
 * Parses the words argv[0..argc) as the grammar above into 'cfg' (which
 * it first clears with ub_impair_cfg_init()). A word may come once, in any
 * order. Returns 0, or -EINVAL with a message naming the word and what was
 * expected in 'err' (e.g. "delay: \"50\" needs a unit: us, ms or s";
 * "loss: 120% is over 100%"; "reorder needs a delay"; "jitter without
 * delay"; "distribution without jitter").
 */
int ub_impair_parse(int argc, char *const argv[], struct ub_impair_cfg *cfg,
		    char *err, size_t errlen);

/*
 * Writes 'cfg' as words the parser takes back to the same cfg, in the
 * grammar's order, with the largest units that keep each value exact
 * ("delay 50ms 10ms 25% distribution normal loss 1% rate 20mbit"), and
 * only what differs from the defaults (a limit of 1000 is left out);
 * "none" when 'cfg' does nothing. Returns the length it needed (as
 * snprintf).
 */
int ub_impair_fmt(const struct ub_impair_cfg *cfg, char *buf, size_t len);

#endif
