/* SPDX-License-Identifier: MIT */
/* The control socket's commands (and the state file's lines). */
#ifndef UB_CORE_CMD_H
#define UB_CORE_CMD_H

#include <ubridge/ctl.h>

struct ub_bridge;

/* The names of enum ub_fdb_cap_policy, as commands and the state file
 * spell them. */
extern const char *const ub_cap_policy_names[2];

/*
 * Runs one control request (argv from the wire) from the client on 'fd'
 * (-1: none, a state file line) and fills 'r' with the records and the
 * status line; 'r' stays empty when the command answered on 'fd' itself
 * (a stream follows). In worker 0's thread, under the bridge lock.
 */
void ub_cmd_run(struct ub_bridge *br, int argc, char **argv, int fd,
		struct ub_ctl_reply *r);

#endif
