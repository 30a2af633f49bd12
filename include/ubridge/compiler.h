/* SPDX-License-Identifier: MIT */
/*
 * Small compiler helpers shared by every module. Header only.
 */
#ifndef UBRIDGE_COMPILER_H
#define UBRIDGE_COMPILER_H

#include <stddef.h>

#define ub_likely(x) __builtin_expect(!!(x), 1)
#define ub_unlikely(x) __builtin_expect(!!(x), 0)

#define UB_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define ub_container_of(ptr, type, member)                                    \
	((type *)((char *)(ptr) - offsetof(type, member)))

#define UB_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))

#endif
