/* SPDX-License-Identifier: MIT */
/*
 * Captures on the bridge: which frames go to which capture. The files
 * themselves are io/capture.c's business.
 *
 * A frame is offered where the bridge sees it: on receive, as it came in
 * (direction "in"), and for each port it is sent out of, when the send is
 * queued (direction "out"). Frames are offered as on the wire: VLAN tags
 * back in place, no virtio-net header.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "capture.h"
#include "log.h"

struct ub_cap_slot *ub_cap_start(struct ub_caps *c,
				 const struct ub_cap_req *req, int *ret,
				 char *err, size_t errlen)
{
	struct ub_cap_slot *s = NULL;

	for (unsigned i = 0; i < UB_CAPTURES_MAX && !s; i++)
		if (!c->slot[i].cap)
			s = &c->slot[i];
	if (!s) {
		snprintf(err, errlen, "%d captures are running already",
			 UB_CAPTURES_MAX);
		*ret = -ENOSPC;
		return NULL;
	}
	*ret = ub_capture_new(&req->cfg, &s->cap, err, errlen);
	if (*ret)
		return NULL;
	s->id = ++c->next_id;
	s->port = req->port;
	/* By default a port's capture sees both directions, and "all" each
	 * frame once, as it enters the bridge. */
	s->dir = req->dir ? req->dir :
		 req->port == UB_CAP_ALL ? UB_CAP_IN : UB_CAP_IN | UB_CAP_OUT;
	snprintf(s->port_name, sizeof(s->port_name), "%s", req->port_name);
	snprintf(s->path, sizeof(s->path), "%s",
		 req->cfg.stream ? "-" : req->cfg.path);
	s->stream = req->cfg.stream;
	s->owner = req->owner;
	s->saved = !s->stream;
	s->snaplen = req->cfg.snaplen;
	s->count = req->cfg.count;
	s->rotate_bytes = req->cfg.rotate_bytes;
	s->rotate_files = req->cfg.rotate_files;
	snprintf(s->filter, sizeof(s->filter), "%s",
		 req->cfg.filter ? req->cfg.filter : "");
	if (!c->n++)
		clock_gettime(CLOCK_REALTIME, &c->wall);
	ub_log(UB_LOG_INFO, "%s: capture %u on %s to %s", c->bridge, s->id,
	       s->port_name, s->path);
	return s;
}

bool ub_cap_stop(struct ub_caps *c, struct ub_cap_slot *s)
{
	/* The data path stops offering it frames at once; its writer ends
	 * later, without the lock (or now, if too many wait for that). */
	if (c->nended < UB_CAPTURES_MAX)
		c->ended[c->nended++] = s->cap;
	else
		ub_capture_free(s->cap);
	s->cap = NULL;
	c->n--;
	ub_log(UB_LOG_INFO, "%s: capture %u stopped", c->bridge, s->id);
	return s->saved;
}

void ub_cap_free_ended(struct ub_caps *c)
{
	for (uint32_t i = 0; i < c->nended; i++)
		ub_capture_free(c->ended[i]);
	c->nended = 0;
}

void ub_cap_stop_port(struct ub_caps *c, uint32_t port)
{
	for (unsigned i = 0; i < UB_CAPTURES_MAX; i++) {
		struct ub_cap_slot *s = &c->slot[i];

		if (s->cap && (port == UB_CAP_ALL || s->port == port))
			ub_cap_stop(c, s);
	}
}

struct ub_cap_slot *ub_cap_find(struct ub_caps *c, uint32_t id)
{
	for (unsigned i = 0; i < UB_CAPTURES_MAX; i++)
		if (c->slot[i].cap && c->slot[i].id == id)
			return &c->slot[i];
	return NULL;
}

void ub_cap_frame(struct ub_caps *c, uint32_t port, uint8_t dir,
		  const struct ub_frame *f)
{
	for (unsigned i = 0; i < UB_CAPTURES_MAX; i++) {
		struct ub_cap_slot *s = &c->slot[i];

		if (s->cap && (s->dir & dir) &&
		    (s->port == UB_CAP_ALL || s->port == port))
			ub_capture_offer(s->cap, &c->wall, ub_frame_eth(f),
					 ub_frame_eth_len(f));
	}
}

bool ub_cap_due(const struct ub_caps *c)
{
	for (unsigned i = 0; i < UB_CAPTURES_MAX; i++)
		if (c->slot[i].cap && (ub_capture_finished(c->slot[i].cap) ||
				       ub_capture_complete(c->slot[i].cap)))
			return true;
	return false;
}

bool ub_cap_reap(struct ub_caps *c)
{
	bool saved = false;

	for (unsigned i = 0; i < UB_CAPTURES_MAX; i++) {
		struct ub_cap_slot *s = &c->slot[i];
		struct ub_capture_stats st;

		if (!s->cap)
			continue;
		if (ub_capture_finished(s->cap)) {
			/* Ended by itself: a write failed, or the reader of
			 * a stream went away. */
			ub_capture_get_stats(s->cap, &st);
			ub_log(UB_LOG_INFO, "%s: capture %u ended: %s",
			       c->bridge, s->id,
			       strcmp(s->path, "-") ? strerror(-st.error) :
						      "the reader left");
			saved |= ub_cap_stop(c, s);
		} else if (ub_capture_complete(s->cap)) {
			saved |= ub_cap_stop(c, s);
		}
	}
	return saved;
}
