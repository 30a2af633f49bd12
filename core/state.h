/* SPDX-License-Identifier: MIT */
/* The state file: the configuration, written on change, replayed at
 * start. */
#ifndef UB_CORE_STATE_H
#define UB_CORE_STATE_H

struct ub_bridge;

/* Writes the configuration to the state file, atomically. */
int ub_state_save(struct ub_bridge *br);

#endif
