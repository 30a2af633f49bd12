/* SPDX-License-Identifier: MIT */
/* Rate-limited logging for the data path; see ub_log() in bridge.h. */
#ifndef UB_CORE_LOG_H
#define UB_CORE_LOG_H

#include <stdbool.h>
#include <stdint.h>

#include <ubridge/bridge.h>

/* A token bucket: 'burst' messages, then one per 'interval_ms'. */
struct ub_ratelimit {
	uint32_t interval_ms;
	uint32_t burst;
	uint32_t tokens;
	uint32_t missed;
	uint64_t last_ms;
};

#define UB_RATELIMIT_INIT(interval, n)                                         \
	{ .interval_ms = (interval), .burst = (n), .tokens = (n) }

bool ub_ratelimit_ok(struct ub_ratelimit *rl);

/* Logs at most a burst of 5, then one every 5 s, from each call site. */
#define ub_log_rl(level, ...)                                                  \
	do {                                                                   \
		static struct ub_ratelimit rl__ = UB_RATELIMIT_INIT(5000, 5);  \
		if (ub_ratelimit_ok(&rl__))                                    \
			ub_log(level, __VA_ARGS__);                            \
	} while (0)

#endif
