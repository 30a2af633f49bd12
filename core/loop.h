/* SPDX-License-Identifier: MIT */
/* The loop (loop.c); ub_bridge_run() is its entry, in ubridge/bridge.h. */
#ifndef UB_CORE_LOOP_H
#define UB_CORE_LOOP_H

struct ub_bridge;

/* Arms the read of the bridge's signalfd on the control thread's ring. */
int ub_loop_arm_signal(struct ub_bridge *br);

#endif
