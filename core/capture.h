/* SPDX-License-Identifier: MIT */
/*
 * The bridge's captures: which frames go to which capture (the files are
 * io/capture.c's). Ports are named by id; a capture of every port has
 * UB_CAP_ALL. Runs under the bridge lock.
 */
#ifndef UB_CORE_CAPTURE_H
#define UB_CORE_CAPTURE_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include <ubridge/io.h>

#define UB_CAPTURES_MAX 16
#define UB_CAP_ALL UINT32_MAX
#define UB_CAP_IN 1
#define UB_CAP_OUT 2

struct ub_cap_slot {
	struct ub_capture *cap; /* NULL: slot free */
	uint32_t id;            /* as ubctl shows it */
	uint32_t port;          /* port id, or UB_CAP_ALL */
	uint8_t dir;            /* UB_CAP_IN | UB_CAP_OUT */
	bool stream;            /* capture watch */
	uid_t owner;            /* who started it */
	bool saved;             /* in the state file (not a stream, not from
				 * ubridge's command line, which makes it
				 * again at every start) */
	char port_name[IFNAMSIZ];
	char path[512];
	char filter[512];
	/* The options it started with, for the state file. */
	uint32_t snaplen, rotate_files;
	uint64_t count, rotate_bytes;
};

struct ub_caps {
	const char *bridge;    /* the bridge's name, for the log */
	uint32_t n;            /* captures running */
	uint32_t next_id;
	struct timespec wall;  /* frames' timestamps, read per loop turn */
	bool reap_asked;       /* a worker woke the control thread to reap */
	struct ub_cap_slot slot[UB_CAPTURES_MAX];
	/* Stopped, their writers still to be ended (ub_cap_free_ended). */
	struct ub_capture *ended[UB_CAPTURES_MAX];
	uint32_t nended;
};

struct ub_cap_req {
	const char *port_name; /* interface name or "all" */
	uint32_t port;         /* its id, or UB_CAP_ALL */
	uint8_t dir;           /* 0: the default for the port */
	uid_t owner;           /* who asks */
	struct ub_capture_cfg cfg;
};

/* Starts a capture; returns its slot, or NULL with the reason in 'err'
 * and -errno in '*ret'. */
struct ub_cap_slot *ub_cap_start(struct ub_caps *c,
				 const struct ub_cap_req *req, int *ret,
				 char *err, size_t errlen);
/* Writes out what the capture holds, closes its file, frees the slot.
 * True when the capture was in the state file. */
bool ub_cap_stop(struct ub_caps *c, struct ub_cap_slot *s);
/* Ends the writers of the captures stopped since the last call: each
 * writes what it holds and closes its files, which takes as long as the
 * disk (or a stream's reader) does. The control thread calls it without
 * the bridge lock; it alone stops captures. */
void ub_cap_free_ended(struct ub_caps *c);
/* Stops the captures of port 'port' (UB_CAP_ALL: every capture). */
void ub_cap_stop_port(struct ub_caps *c, uint32_t port);
/* A capture by the id ubctl shows; NULL when none. */
struct ub_cap_slot *ub_cap_find(struct ub_caps *c, uint32_t id);
/* Data path: offers a frame seen on 'port' in direction 'dir'. */
void ub_cap_frame(struct ub_caps *c, uint32_t port, uint8_t dir,
		  const struct ub_frame *f);
/* A capture reached its count or failed: ub_cap_reap() has work. */
bool ub_cap_due(const struct ub_caps *c);
/* Housekeeping: ends captures that reached their count or failed. True
 * when one that was in the state file ended. */
bool ub_cap_reap(struct ub_caps *c);

#endif
