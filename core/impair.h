/* SPDX-License-Identifier: MIT */
/*
 * A port's impairment in one direction at work (issue 16; the
 * configuration and its grammar: include/ubridge/impair.h).
 *
 * A frame that meets an impairment is decided on at once, with the
 * impairment's own random numbers (seeded: a run with the same seed and
 * the same frames decides the same): lost (random or Gilbert-Elliott),
 * else copied into a slot of the impairment's own (the receive buffer goes
 * back at once), corrupted (one bit flipped past the Ethernet header, the
 * checksum completed first so that the receiver sees it), duplicated (a
 * second slot), and given the time it is due: now plus the delay (with
 * jitter drawn from the distribution, correlated with the last draw),
 * after the frames before it have left at the rate, if there is one.
 * Frames leave in the order of their due times: without jitter that is
 * the order they came in; with jitter, as with netem, one may overtake
 * another. A reordered frame (reorder PCT) is due at once, ahead of
 * those waiting. A full queue (limit) drops.
 *
 * The port's worker takes the frames that are due in each turn and sleeps
 * until the next one is (datapath.c, loop.c). Everything here is under
 * the bridge lock.
 */
#ifndef UB_CORE_IMPAIR_H
#define UB_CORE_IMPAIR_H

#include <stdbool.h>
#include <stdint.h>

#include <ubridge/impair.h>

enum ub_impair_dir { UB_IMPAIR_IN, UB_IMPAIR_OUT };

/* "in" and "out", as commands, the state file and events spell them. */
extern const char *const ub_impair_dir_names[2];

struct ub_impair_stats {
	uint64_t delayed;	/* frames that went through the queue */
	uint64_t drop_loss;	/* lost by the loss model */
	uint64_t drop_limit;	/* the queue was full */
	uint64_t corrupted;
	uint64_t duplicated;
	uint64_t reordered;
};

/* A frame held back: when it is due, its length, its slot and the
 * caller's tag (the remote it came from or goes to). */
struct ub_impair_ent {
	uint64_t due_ns;
	uint32_t len;
	uint32_t slot;
	uint32_t tag;
};

struct ub_impair {
	struct ub_impair_cfg cfg;
	struct ub_impair_stats st;
	uint64_t rng[4];	/* xoshiro256** */
	double last_delay;	/* the last delay draw, for its correlation */
	double last_loss;	/* the last loss draw, for its correlation */
	bool ge_bad;		/* gemodel: in the bad state */
	uint64_t link_free_ns;	/* rate: when the last frame is sent */
	bool clearing;		/* "impair clear": release all, then go */
	/* The frames held, sorted by due time: q[(head + i) % cfg.limit]
	 * for i < n; their slots, and the free ones as a stack. */
	struct ub_impair_ent *q;
	uint32_t head, n;
	uint32_t *free_slots;
	uint32_t nfree;
	uint8_t *mem;		/* cfg.limit slots of UB_BUF_SIZE */
};

/* A new impairment doing 'cfg', its random numbers from 'seed'. 0,
 * -ENOMEM. */
int ub_impair_new(const struct ub_impair_cfg *cfg, uint64_t seed,
		  struct ub_impair **out);
/* Frees it, with any frames it holds. Accepts NULL. */
void ub_impair_free(struct ub_impair *im);

/*
 * "impair set" on an impairment at work: from now on it does 'cfg'.
 * Frames it holds keep their due times; with another limit it is made
 * anew ('*im' changes; those over the new limit are dropped and counted).
 * Its counters stay. 0 or -ENOMEM (then '*im' is as it was).
 */
int ub_impair_reset(struct ub_impair **im, const struct ub_impair_cfg *cfg,
		    uint64_t seed);

/*
 * A frame of 'len' bytes ('frame': virtio-net header, then the Ethernet
 * frame) meets the impairment at 'now_ns': dropped (returns 0, counted),
 * or copied and held with 'tag' (returns how many copies: 1, or 2
 * duplicated).
 */
unsigned ub_impair_admit(struct ub_impair *im, const uint8_t *frame,
			 uint32_t len, uint64_t now_ns, uint32_t tag);

/* The frame first due, if it is due at 'now_ns': true with its bytes in
 * '*data' and '*len' and its tag, still held until ub_impair_pop(). */
bool ub_impair_peek(const struct ub_impair *im, uint64_t now_ns,
		    const uint8_t **data, uint32_t *len, uint32_t *tag);
void ub_impair_pop(struct ub_impair *im);

/* When the first frame is due (monotonic ns); UINT64_MAX: none held. */
uint64_t ub_impair_next_due(const struct ub_impair *im);

/* "impair clear": everything held is due now; once it has left,
 * ub_impair_done() says so and the impairment can be freed. */
void ub_impair_clear(struct ub_impair *im);
static inline bool ub_impair_done(const struct ub_impair *im)
{
	return im->clearing && !im->n;
}

#endif
