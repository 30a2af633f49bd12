/* SPDX-License-Identifier: MIT */
/* The control socket's commands (and the state file's lines). */
#ifndef UB_CORE_CMD_H
#define UB_CORE_CMD_H

#include <sys/types.h>

#include <ubridge/ctl.h>

struct ub_bridge;

/* Who sent a request over the control socket. */
struct ub_cmd_client {
	int fd;        /* its connection */
	uid_t uid;     /* its user (SO_PEERCRED) */
	/* Descriptors passed with the request (SCM_RIGHTS); a command that
	 * keeps one sets its slot to -1, the caller closes the rest. */
	int *fds;
	unsigned int nfds;
};

/* The names of enum ub_fdb_cap_policy, as commands and the state file
 * spell them. */
extern const char *const ub_cap_policy_names[2];

/*
 * Runs one request (argv from the wire) of 'client' (NULL: a line of the
 * state file, root's own configuration) and fills 'r' with the records
 * and the status line; 'r' stays empty when the command answered on the
 * client's connection itself (a stream follows). In the control thread,
 * under the bridge lock, which a handler lets go around its slow steps
 * (see worker.h).
 */
void ub_cmd_run(struct ub_bridge *br, int argc, char **argv,
		struct ub_cmd_client *client, struct ub_ctl_reply *r);

#endif
