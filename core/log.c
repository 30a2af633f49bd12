/* SPDX-License-Identifier: MIT */
/*
 * The daemon's log: levelled lines on stderr, which journald or the
 * terminal collects. The libraries never log; core and the tools do.
 */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "log.h"

static enum ub_log_level log_level = UB_LOG_INFO;

static const char *const level_names[] = {
	[UB_LOG_ERR] = "error",
	[UB_LOG_WARN] = "warning",
	[UB_LOG_INFO] = "info",
	[UB_LOG_DEBUG] = "debug",
};

void ub_log_set_level(enum ub_log_level level)
{
	log_level = level;
}

void ub_log(enum ub_log_level level, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	if (level > log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* One write per line, so lines from a crash don't interleave. */
	fprintf(stderr, "ubridge: %s: %s\n", level_names[level], line);
}

static uint64_t mono_ms__(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

bool ub_ratelimit_ok(struct ub_ratelimit *rl)
{
	uint64_t now = mono_ms__();

	if (now - rl->last_ms >= rl->interval_ms) {
		if (rl->missed)
			ub_log(UB_LOG_WARN, "%u similar messages suppressed",
			       rl->missed);
		rl->tokens = rl->burst;
		rl->missed = 0;
		rl->last_ms = now;
	}
	if (rl->tokens) {
		rl->tokens--;
		return true;
	}
	rl->missed++;
	return false;
}
