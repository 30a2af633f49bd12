/* SPDX-License-Identifier: MIT */
/* "ubctl monitor": the event ring and its readers (see monitor.h). */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <ubridge/compiler.h>

#include "bridge_private.h"
#include "monitor.h"

static const struct {
	const char *name;
	enum ub_mon_class cls;
} kinds[UB_MON__COUNT] = {
	[UB_MON_LEARNED] = { "learned", UB_MON_C_FDB },
	[UB_MON_MOVED] = { "moved", UB_MON_C_FDB },
	[UB_MON_AGED] = { "aged", UB_MON_C_FDB },
	[UB_MON_EVICTED] = { "evicted", UB_MON_C_FDB },
	[UB_MON_FLUSHED] = { "flushed", UB_MON_C_FDB },
	[UB_MON_PORT_ADDED] = { "added", UB_MON_C_PORT },
	[UB_MON_PORT_REMOVED] = { "removed", UB_MON_C_PORT },
	[UB_MON_PORT_UP] = { "up", UB_MON_C_PORT },
	[UB_MON_PORT_DOWN] = { "down", UB_MON_C_PORT },
	[UB_MON_BLOCKED] = { "blocked", UB_MON_C_LOOP },
	[UB_MON_UNBLOCKED] = { "unblocked", UB_MON_C_LOOP },
	[UB_MON_IMPAIRED] = { "impaired", UB_MON_C_IMPAIR },
	[UB_MON_CLEARED] = { "cleared", UB_MON_C_IMPAIR },
};

static uint64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static const char *port_name(struct ub_bridge *br, uint32_t id)
{
	return id < UB_PORTS_MAX ? ub_port_by_id(&br->ports, id)->name : "?";
}

/* The FDB's listener while monitors exist (called under the lock). */
static void fdb_event(void *arg, enum ub_fdb_event ev,
		      const struct ub_fdb_entry_info *e, uint32_t from_port)
{
	static const enum ub_mon_kind map[] = {
		[UB_FDB_EV_LEARNED] = UB_MON_LEARNED,
		[UB_FDB_EV_MOVED] = UB_MON_MOVED,
		[UB_FDB_EV_AGED] = UB_MON_AGED,
		[UB_FDB_EV_EVICTED] = UB_MON_EVICTED,
	};
	struct ub_bridge *br = arg;

	ub_mon_event(br, map[ev], &e->mac, e->vid, port_name(br, e->port),
		     ev == UB_FDB_EV_MOVED ? port_name(br, from_port) : NULL,
		     0);
}

/* The next slot of the ring for an event of 'kind', filled but for its
 * text; NULL when no monitor wants it. */
static struct ub_mon_event *mon_event(struct ub_bridge *br,
				      enum ub_mon_kind kind,
				      const struct ub_mac *mac, uint16_t vid,
				      const char *port, const char *from,
				      uint32_t n)
{
	struct ub_monitors *m = &br->mon;
	struct ub_mon_event *e;

	if (!(m->classes & kinds[kind].cls))
		return NULL;
	e = &m->ring[m->head++ % UB_MON_EVENTS];
	e->text[0] = '\0';
	e->ts = wall_ms();
	e->kind = kind;
	e->mac = mac ? *mac : (struct ub_mac){ { 0 } };
	e->vid = vid;
	e->n = n;
	snprintf(e->port, sizeof(e->port), "%s", port ? port : "");
	snprintf(e->from, sizeof(e->from), "%s", from ? from : "");
	return e;
}

void ub_mon_event(struct ub_bridge *br, enum ub_mon_kind kind,
		  const struct ub_mac *mac, uint16_t vid, const char *port,
		  const char *from, uint32_t n)
{
	mon_event(br, kind, mac, vid, port, from, n);
}

/* What the monitors ask for, all together; the FDB tells its events
 * only while one of them wants them. */
static void mon_classes(struct ub_bridge *br)
{
	struct ub_monitors *m = &br->mon;

	m->classes = 0;
	for (uint32_t i = 0; i < UB_MON_MAX; i++)
		m->classes |= m->mon[i].classes;
	ub_fdb_set_notify(br->fdb, m->classes & UB_MON_C_FDB ? fdb_event : NULL,
			  br);
}

void ub_mon_impair(struct ub_bridge *br, const char *port, const char *dir,
		   const char *spec)
{
	struct ub_mon_event *e = mon_event(br, spec ? UB_MON_IMPAIRED :
						      UB_MON_CLEARED, NULL, 0,
					   port, dir, 0);

	if (e && spec)
		snprintf(e->text, sizeof(e->text), "%s", spec);
}

int ub_mon_add(struct ub_bridge *br, int fd, unsigned classes)
{
	struct ub_monitors *m = &br->mon;
	struct ub_monitor *mon = NULL;

	for (uint32_t i = 0; i < UB_MON_MAX && !mon; i++)
		if (!m->mon[i].classes)
			mon = &m->mon[i];
	if (!mon)
		return -ENOSPC;
	if (!m->ring && !(m->ring = calloc(UB_MON_EVENTS, sizeof(*m->ring))))
		return -ENOMEM;
	mon->fd = fd;
	mon->classes = classes;
	mon->next = m->head;
	mon->stuck_since = 0;
	mon->len = mon->sent = 0;
	m->n++;
	mon_classes(br);
	return 0;
}

static void mon_end(struct ub_bridge *br, struct ub_monitor *mon)
{
	close(mon->fd);
	mon->fd = -1;
	mon->classes = 0;
	mon->len = mon->sent = 0;
	br->mon.n--;
	mon_classes(br);
}

/* Appends one record; false when the buffer has no room for it. */
static bool put(struct ub_monitor *mon, const char *fmt, ...)
	UB_PRINTF(2, 3);

static bool put(struct ub_monitor *mon, const char *fmt, ...)
{
	size_t room = sizeof(mon->buf) - mon->len;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(mon->buf + mon->len, room, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= room)
		return false;
	mon->len += (uint32_t)n;
	return true;
}

static bool put_event(struct ub_monitor *mon, const struct ub_mon_event *e)
{
	char mac[UB_MAC_STRLEN], text[3 * sizeof(e->text)];
	const char *name = kinds[e->kind].name;
	unsigned long long ts = (unsigned long long)e->ts;

	switch (e->kind) {
	case UB_MON_LEARNED:
	case UB_MON_AGED:
	case UB_MON_EVICTED:
		return put(mon, "event=%s ts=%llu mac=%s vlan=%u port=%s\n",
			   name, ts, ub_mac_fmt(&e->mac, mac), e->vid,
			   e->port);
	case UB_MON_MOVED:
		return put(mon, "event=%s ts=%llu mac=%s vlan=%u port=%s "
			   "from=%s\n", name, ts, ub_mac_fmt(&e->mac, mac),
			   e->vid, e->port, e->from);
	case UB_MON_FLUSHED:
		return put(mon, "event=%s ts=%llu port=%s entries=%u\n", name,
			   ts, e->port[0] ? e->port : "all", e->n);
	case UB_MON_BLOCKED:
		return put(mon, "event=%s ts=%llu port=%s reason=%s\n", name,
			   ts, e->port, e->from);
	case UB_MON_IMPAIRED:
		/* Words with spaces: one value, percent-encoded. */
		ub_ctl_word_encode(e->text, text, sizeof(text));
		return put(mon, "event=%s ts=%llu port=%s dir=%s spec=%s\n",
			   name, ts, e->port, e->from, text);
	case UB_MON_CLEARED:
		return put(mon, "event=%s ts=%llu port=%s dir=%s\n", name, ts,
			   e->port, e->from);
	default:
		return put(mon, "event=%s ts=%llu port=%s\n", name, ts,
			   e->port);
	}
}

/* Writes what waits for 'mon' into its buffer, as far as it has room. */
static void mon_fill(struct ub_monitors *m, struct ub_monitor *mon)
{
	if (mon->sent == mon->len)
		mon->sent = mon->len = 0;
	if (m->head - mon->next > UB_MON_EVENTS) {
		uint64_t lost = m->head - mon->next - UB_MON_EVENTS;

		if (!put(mon, "event=lost ts=%llu count=%llu\n",
			 (unsigned long long)wall_ms(),
			 (unsigned long long)lost))
			return;
		mon->next += lost;
	}
	for (; mon->next != m->head; mon->next++) {
		const struct ub_mon_event *e =
			&m->ring[mon->next % UB_MON_EVENTS];

		if ((kinds[e->kind].cls & mon->classes) && !put_event(mon, e))
			return;
	}
}

/*
 * A reader that went away: both ends of its connection are closed. What
 * a client sends is read and forgotten; one that only stopped writing
 * (shutdown) still reads.
 */
static bool mon_gone(const struct ub_monitor *mon)
{
	struct pollfd p = { .fd = mon->fd, .events = POLLIN };
	char buf[256];

	if (poll(&p, 1, 0) <= 0)
		return false;
	if (p.revents & (POLLHUP | POLLERR | POLLNVAL))
		return true;
	while (recv(mon->fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
	return false;
}

/* Sends what waits for 'mon', as much as its socket takes (a turn's
 * worth at most); false when the monitor has ended. */
static bool mon_send(struct ub_bridge *br, struct ub_monitor *mon)
{
	for (int round = 0; round < 16; round++) {
		ssize_t n;
		int err;

		mon_fill(&br->mon, mon);
		if (mon->sent == mon->len)
			return true;
		/* A send that cannot block, without the lock: only this
		 * thread touches the monitors. */
		ub_bridge_unlock(br);
		n = send(mon->fd, mon->buf + mon->sent, mon->len - mon->sent,
			 MSG_DONTWAIT | MSG_NOSIGNAL);
		err = errno;
		ub_bridge_lock(br);
		if (n < 0 && err != EAGAIN && err != EWOULDBLOCK) {
			mon_end(br, mon);
			return false;
		}
		if (n <= 0) {
			if (!mon->stuck_since)
				mon->stuck_since = br->now;
			return true;
		}
		mon->sent += (uint32_t)n;
		mon->stuck_since = 0;
	}
	return true;
}

uint64_t ub_mon_flush(struct ub_bridge *br, bool all)
{
	struct ub_monitors *m = &br->mon;
	uint64_t again = UINT64_MAX;

	m->wake_asked = false;
	for (uint32_t i = 0; m->n && i < UB_MON_MAX; i++) {
		struct ub_monitor *mon = &m->mon[i];

		if (!mon->classes)
			continue;
		if ((all && mon_gone(mon)) ||
		    (mon->stuck_since &&
		     br->now - mon->stuck_since >= UB_MON_STUCK_MS)) {
			mon_end(br, mon);
			continue;
		}
		if (!mon_send(br, mon))
			continue;
		/* More to send: at once, or once its reader made room. */
		if (mon->stuck_since && br->now + UB_MON_RETRY_MS < again)
			again = br->now + UB_MON_RETRY_MS;
		else if (!mon->stuck_since &&
			 (mon->sent != mon->len || mon->next != m->head))
			again = br->now;
	}
	return again;
}

void ub_mon_poke(struct ub_bridge *br)
{
	struct ub_monitors *m = &br->mon;

	if (!m->n || m->wake_asked)
		return;
	/* A monitor whose socket is full waits for its retry. */
	for (uint32_t i = 0; i < UB_MON_MAX; i++) {
		if (m->mon[i].classes && !m->mon[i].stuck_since &&
		    m->mon[i].next != m->head) {
			m->wake_asked = true;
			ub_worker_wake(ub_ctl_worker(br));
			return;
		}
	}
}

void ub_mon_free(struct ub_bridge *br)
{
	for (uint32_t i = 0; i < UB_MON_MAX; i++)
		if (br->mon.mon[i].classes)
			mon_end(br, &br->mon.mon[i]);
	free(br->mon.ring);
	br->mon.ring = NULL;
}
