/* SPDX-License-Identifier: MIT */
/*
 * The forwarding database. See include/ubridge/fdb.h for the design.
 *
 * Entries live in two parallel arrays indexed by the same entry id: 'nodes'
 * holds what a lookup reads (key, port, hash chain) and 'ages' what a
 * refresh writes (last_seen, LRU links). A lookup thus walks 16-byte nodes,
 * four to a cache line, that refreshes never dirty. Links are 32-bit ids,
 * FDB_NIL ending a list, which is what keeps a node at 16 bytes.
 *
 * An entry's remote lives in 'ages', where it fills what would be padding:
 * nodes stay 16 bytes, learning compares it on the line it reads
 * last_seen from anyway, and only a lookup that asks for the remote (an
 * egress port with remotes) reads that line too.
 *
 * Invariants:
 * - Every entry is either on the free list (through nodes[].next) or on
 *   exactly one hash chain.
 * - Learned entries, and only they, are on the LRU list, sorted by
 *   last_seen, oldest at the head.
 * - Local entries are static entries with is_local set, and counted in
 *   both static_entries and local_entries.
 * - learned_entries <= max_learned and static_entries <= max_static. The
 *   pool holds max_learned + max_static entries, so the free list is never
 *   empty while a count is below its cap.
 * - ports[p].learned is the number of learned entries whose port is p, for
 *   every p below nports. A port's own cap is checked only when an address
 *   is new, so the count may exceed it (moves, a lowered cap).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <ubridge/compiler.h>
#include <ubridge/fdb.h>

#define FDB_NIL UINT32_MAX
/* Ids must stay clear of FDB_NIL and the bucket count must fit 32 bits. */
#define FDB_MAX_ENTRIES (1u << 24)

/* Read by every lookup; written only when an entry is added or moves. */
struct fdb_node {
	struct ub_fdb_key key;
	uint32_t port;
	uint32_t next; /* hash chain, or the free list */
};

/* Written by refreshes; ub_fdb_lookup() reads only 'remote', when asked. */
struct fdb_age {
	uint64_t last_seen;
	uint32_t prev, next; /* LRU list; unused by static entries */
	uint32_t remote;     /* written only when an entry is added or moves */
	bool is_static;
	bool is_local; /* only with is_static */
	uint16_t moves; /* since it was learned; stops at UINT16_MAX */
};

_Static_assert(sizeof(struct fdb_node) == 16 && sizeof(struct fdb_age) == 24,
	       "an entry is a 16-byte node and a 24-byte age");

/* A port's learned entries and its own cap on them. */
struct fdb_port {
	uint32_t learned;
	uint32_t cap; /* 0: none */
	enum ub_fdb_cap_policy policy;
};

struct ub_fdb {
	/* Read-mostly: what a lookup needs. */
	struct fdb_node *nodes;
	uint32_t *buckets; /* chain heads */
	uint32_t bucket_mask;
	uint64_t secret;
	ub_fdb_hash_fn hash;
	struct fdb_age *ages;
	uint64_t ageing_ms;
	uint32_t max_learned, max_static;
	uint32_t nports;

	/* Written by learning. */
	struct fdb_port *ports;
	uint32_t free_head;
	uint32_t lru_head, lru_tail; /* learned entries, oldest first */
	struct ub_fdb_stats st;
	ub_fdb_notify_fn notify; /* NULL: nobody listens */
	void *notify_arg;
};

/*
 * The built-in keyed hash: the key packed into 64 bits, mixed with the
 * secret twice by multiply and xorshift rounds. The secret goes in before
 * the first multiply and again before the second, so which keys collide
 * depends on it non-linearly. The top half of the last product is the best
 * mixed, so that is what we return for the caller to mask.
 */
static uint32_t fdb_hash__(const struct ub_fdb_key *key, uint64_t secret)
{
	const uint8_t *m = key->mac.b;
	uint64_t x = (uint64_t)m[0] | (uint64_t)m[1] << 8 |
		     (uint64_t)m[2] << 16 | (uint64_t)m[3] << 24 |
		     (uint64_t)m[4] << 32 | (uint64_t)m[5] << 40 |
		     (uint64_t)key->vid << 48;

	x ^= secret;
	x *= 0x9e3779b97f4a7c15ull;
	x ^= x >> 29;
	x += secret >> 32 | secret << 32;
	x *= 0xd1b54a32d192ed03ull;
	x ^= x >> 31;
	return (uint32_t)(x >> 32);
}

static inline bool fdb_key_eq__(const struct ub_fdb_key *a,
				const struct ub_fdb_key *b)
{
	return a->vid == b->vid && ub_mac_eq(&a->mac, &b->mac);
}

/* Whether entry 'i' is on 'port' at its remote 'remote'. */
static inline bool fdb_dest_eq__(const struct ub_fdb *fdb, uint32_t i,
				 uint32_t port, uint32_t remote)
{
	return fdb->nodes[i].port == port && fdb->ages[i].remote == remote;
}

static inline uint32_t fdb_bucket__(const struct ub_fdb *fdb,
				    const struct ub_fdb_key *key)
{
	return fdb->hash(key, fdb->secret) & fdb->bucket_mask;
}

/* The chain link that points at 'key' in bucket 'b', or at FDB_NIL. */
static uint32_t *fdb_find__(const struct ub_fdb *fdb, uint32_t b,
			    const struct ub_fdb_key *key)
{
	uint32_t *link = &fdb->buckets[b];

	while (*link != FDB_NIL && !fdb_key_eq__(&fdb->nodes[*link].key, key))
		link = &fdb->nodes[*link].next;
	return link;
}

/* When a learned entry stamped 'last_seen' expires; it is dead from then on. */
static uint64_t fdb_deadline__(const struct ub_fdb *fdb, uint64_t last_seen)
{
	if (fdb->ageing_ms > UB_FDB_NO_DEADLINE - last_seen)
		return UB_FDB_NO_DEADLINE;
	return last_seen + fdb->ageing_ms;
}

static void fdb_lru_unlink__(struct ub_fdb *fdb, uint32_t i)
{
	struct fdb_age *a = &fdb->ages[i];

	if (a->prev != FDB_NIL)
		fdb->ages[a->prev].next = a->next;
	else
		fdb->lru_head = a->next;
	if (a->next != FDB_NIL)
		fdb->ages[a->next].prev = a->prev;
	else
		fdb->lru_tail = a->prev;
}

/*
 * Stamps learned entry 'i' (not on the list) and appends it to the LRU
 * tail. Should the caller's clock go back, 'now' is raised to the tail's
 * stamp: the list stays sorted, and ub_fdb_age() can stop at the first
 * live entry.
 */
static void fdb_lru_push__(struct ub_fdb *fdb, uint32_t i, uint64_t now)
{
	struct fdb_age *a = &fdb->ages[i];
	uint32_t t = fdb->lru_tail;

	if (t != FDB_NIL && fdb->ages[t].last_seen > now)
		now = fdb->ages[t].last_seen;
	a->last_seen = now;
	a->prev = t;
	a->next = FDB_NIL;
	if (t != FDB_NIL)
		fdb->ages[t].next = i;
	else
		fdb->lru_head = i;
	fdb->lru_tail = i;
}

/* Counts one learned entry more (+1) or less (-1) on 'port'. Ids past
 * nports are not counted. */
static void fdb_port_count__(struct ub_fdb *fdb, uint32_t port, int delta)
{
	if (port < fdb->nports)
		fdb->ports[port].learned += (uint32_t)delta;
}

/* Takes a free entry and links it at the head of bucket 'b'. */
static uint32_t fdb_alloc__(struct ub_fdb *fdb, uint32_t b,
			    const struct ub_fdb_key *key, uint32_t port,
			    uint32_t remote, bool is_static)
{
	uint32_t i = fdb->free_head;
	struct fdb_node *n = &fdb->nodes[i];

	fdb->free_head = n->next;
	n->key = *key;
	n->port = port;
	n->next = fdb->buckets[b];
	fdb->buckets[b] = i;
	fdb->ages[i].remote = remote;
	fdb->ages[i].is_static = is_static;
	fdb->ages[i].is_local = false;
	fdb->ages[i].moves = 0;
	return i;
}

static struct ub_fdb_entry_info fdb_info__(const struct ub_fdb *fdb,
					   uint32_t i)
{
	const struct fdb_age *a = &fdb->ages[i];

	return (struct ub_fdb_entry_info){
		.mac = fdb->nodes[i].key.mac,
		.vid = fdb->nodes[i].key.vid,
		.port = fdb->nodes[i].port,
		.remote = a->remote,
		.is_static = a->is_static,
		.is_local = a->is_local,
		.last_seen = a->is_static ? 0 : a->last_seen,
		.moves = a->moves,
	};
}

/* Tells the listener, if any, about entry i. */
static void fdb_notify__(const struct ub_fdb *fdb, enum ub_fdb_event ev,
			 uint32_t i, uint32_t from_port)
{
	struct ub_fdb_entry_info e;

	if (ub_likely(!fdb->notify))
		return;
	e = fdb_info__(fdb, i);
	fdb->notify(fdb->notify_arg, ev, &e, from_port);
}

/* Removes the entry '*link' points at from every list, and frees it. */
static void fdb_unlink__(struct ub_fdb *fdb, uint32_t *link)
{
	uint32_t i = *link;

	*link = fdb->nodes[i].next;
	if (fdb->ages[i].is_local)
		fdb->st.local_entries--;
	if (fdb->ages[i].is_static) {
		fdb->st.static_entries--;
	} else {
		fdb_lru_unlink__(fdb, i);
		fdb->st.learned_entries--;
		fdb_port_count__(fdb, fdb->nodes[i].port, -1);
	}
	fdb->nodes[i].next = fdb->free_head;
	fdb->free_head = i;
}

/* Removes the LRU head (there must be one), for ageing ('ev'
 * UB_FDB_EV_AGED) and eviction (UB_FDB_EV_EVICTED). */
static void fdb_unlink_oldest__(struct ub_fdb *fdb, enum ub_fdb_event ev)
{
	uint32_t i = fdb->lru_head;
	uint32_t *link = &fdb->buckets[fdb_bucket__(fdb, &fdb->nodes[i].key)];

	fdb_notify__(fdb, ev, i, 0);
	while (*link != i)
		link = &fdb->nodes[*link].next;
	fdb_unlink__(fdb, link);
}

void ub_fdb_cfg_default(struct ub_fdb_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->max_learned = UB_FDB_DEFAULT_MAX;
	cfg->max_static = UB_FDB_DEFAULT_MAX_STATIC;
	cfg->ageing_ms = UB_FDB_DEFAULT_AGEING_MS;
	cfg->ports = UB_FDB_DEFAULT_PORTS;
}

int ub_fdb_new(const struct ub_fdb_cfg *cfg, struct ub_fdb **out)
{
	uint32_t max_learned, max_static, nports, total, nbuckets, i;
	struct ub_fdb *fdb;

	if (!cfg || !out)
		return -EINVAL;
	max_learned = cfg->max_learned ? cfg->max_learned : UB_FDB_DEFAULT_MAX;
	max_static =
		cfg->max_static ? cfg->max_static : UB_FDB_DEFAULT_MAX_STATIC;
	nports = cfg->ports ? cfg->ports : UB_FDB_DEFAULT_PORTS;
	if (max_learned > FDB_MAX_ENTRIES || max_static > FDB_MAX_ENTRIES ||
	    max_learned + max_static > FDB_MAX_ENTRIES ||
	    nports > FDB_MAX_ENTRIES)
		return -EINVAL;
	total = max_learned + max_static;
	/* Load factor between 1/4 and 1/2 when full. */
	for (nbuckets = 1; nbuckets < 2 * total; nbuckets <<= 1)
		;

	fdb = calloc(1, sizeof(*fdb));
	if (!fdb)
		return -ENOMEM;
	fdb->nodes = calloc(total, sizeof(*fdb->nodes));
	fdb->ages = calloc(total, sizeof(*fdb->ages));
	fdb->buckets = malloc(nbuckets * sizeof(*fdb->buckets));
	fdb->ports = calloc(nports, sizeof(*fdb->ports));
	if (!fdb->nodes || !fdb->ages || !fdb->buckets || !fdb->ports) {
		ub_fdb_free(fdb);
		return -ENOMEM;
	}

	memset(fdb->buckets, 0xff, nbuckets * sizeof(*fdb->buckets));
	fdb->bucket_mask = nbuckets - 1;
	for (i = 0; i < total; i++)
		fdb->nodes[i].next = i + 1 < total ? i + 1 : FDB_NIL;
	fdb->free_head = 0;
	fdb->lru_head = fdb->lru_tail = FDB_NIL;
	fdb->max_learned = max_learned;
	fdb->max_static = max_static;
	fdb->nports = nports;
	fdb->ageing_ms = cfg->ageing_ms;
	fdb->secret = cfg->secret;
	fdb->hash = cfg->hash ? cfg->hash : fdb_hash__;
	*out = fdb;
	return 0;
}

void ub_fdb_free(struct ub_fdb *fdb)
{
	if (!fdb)
		return;
	free(fdb->nodes);
	free(fdb->ages);
	free(fdb->buckets);
	free(fdb->ports);
	free(fdb);
}

/*
 * Learning with an ageing time of 0. As with the Linux bridge's
 * hold_time() == 0, nothing is learned, and with no local entry the table
 * is not even looked at. Our own MACs are still reported: that check is
 * about the frame, not about remembering where its source lives.
 */
static enum ub_fdb_learn_result fdb_learn_off__(struct ub_fdb *fdb,
						const struct ub_fdb_key *key,
						uint32_t port, uint32_t remote)
{
	uint32_t i;

	if (!fdb->st.local_entries)
		return UB_FDB_LEARN_NONE;
	i = *fdb_find__(fdb, fdb_bucket__(fdb, key), key);
	if (i == FDB_NIL || !fdb->ages[i].is_local ||
	    fdb_dest_eq__(fdb, i, port, remote))
		return UB_FDB_LEARN_NONE;
	fdb->st.local_refused++;
	return UB_FDB_LEARN_LOCAL;
}

enum ub_fdb_learn_result ub_fdb_learn(struct ub_fdb *fdb,
				      const struct ub_mac *mac, uint16_t vid,
				      uint32_t port, uint32_t remote,
				      uint64_t now)
{
	struct ub_fdb_key key = {.mac = *mac, .vid = vid};
	uint32_t b, i, from;

	if (ub_unlikely(fdb->ageing_ms == 0))
		return fdb_learn_off__(fdb, &key, port, remote);

	b = fdb_bucket__(fdb, &key);
	i = *fdb_find__(fdb, b, &key);
	if (ub_likely(i != FDB_NIL)) {
		struct fdb_node *n = &fdb->nodes[i];
		struct fdb_age *a = &fdb->ages[i];
		bool here = fdb_dest_eq__(fdb, i, port, remote);

		if (a->is_static) {
			if (here)
				return UB_FDB_LEARN_NONE;
			if (a->is_local) {
				fdb->st.local_refused++;
				return UB_FDB_LEARN_LOCAL;
			}
			fdb->st.static_refused++;
			return UB_FDB_LEARN_STATIC;
		}
		/* The busy flow: a read, no write, per frame. */
		if (ub_likely(here) &&
		    now / UB_FDB_TICK_MS <= a->last_seen / UB_FDB_TICK_MS)
			return UB_FDB_LEARN_NONE;
		fdb_lru_unlink__(fdb, i);
		fdb_lru_push__(fdb, i, now);
		if (here)
			return UB_FDB_LEARN_NONE;
		/* Not new: a move goes through whatever the new port's cap.
		 * A move between remotes of one port leaves its count alone. */
		fdb_port_count__(fdb, n->port, -1);
		fdb_port_count__(fdb, port, 1);
		from = n->port;
		n->port = port;
		a->remote = remote;
		if (a->moves < UINT16_MAX)
			a->moves++;
		fdb->st.moved++;
		fdb_notify__(fdb, UB_FDB_EV_MOVED, i, from);
		return UB_FDB_LEARN_MOVED;
	}

	if (port < fdb->nports && fdb->ports[port].cap &&
	    fdb->ports[port].learned >= fdb->ports[port].cap) {
		fdb->st.port_refused++;
		return fdb->ports[port].policy == UB_FDB_CAP_DROP ?
			       UB_FDB_LEARN_DROP :
			       UB_FDB_LEARN_REFUSED;
	}
	if (fdb->st.learned_entries >= fdb->max_learned) {
		/* It may leave bucket 'b'; we still insert at b's head. */
		fdb_unlink_oldest__(fdb, UB_FDB_EV_EVICTED);
		fdb->st.evicted++;
	}
	i = fdb_alloc__(fdb, b, &key, port, remote, false);
	fdb_lru_push__(fdb, i, now);
	fdb->st.learned_entries++;
	fdb->st.learned++;
	fdb_port_count__(fdb, port, 1);
	fdb_notify__(fdb, UB_FDB_EV_LEARNED, i, 0);
	return UB_FDB_LEARN_NEW;
}

int ub_fdb_port_set_cap(struct ub_fdb *fdb, uint32_t port,
			uint32_t max_learned, enum ub_fdb_cap_policy policy)
{
	if (port >= fdb->nports ||
	    (policy != UB_FDB_CAP_NOLEARN && policy != UB_FDB_CAP_DROP))
		return -EINVAL;
	fdb->ports[port].cap = max_learned;
	fdb->ports[port].policy = policy;
	return 0;
}

int ub_fdb_port_get(const struct ub_fdb *fdb, uint32_t port,
		    struct ub_fdb_port_info *info)
{
	const struct fdb_port *pp;

	if (port >= fdb->nports)
		return -EINVAL;
	pp = &fdb->ports[port];
	info->learned_entries = pp->learned;
	info->max_learned = pp->cap;
	info->policy = pp->policy;
	return 0;
}

bool ub_fdb_lookup(const struct ub_fdb *fdb, const struct ub_mac *mac,
		   uint16_t vid, uint32_t *port, uint32_t *remote)
{
	struct ub_fdb_key key = {.mac = *mac, .vid = vid};
	uint32_t i = *fdb_find__(fdb, fdb_bucket__(fdb, &key), &key);

	if (i == FDB_NIL)
		return false;
	*port = fdb->nodes[i].port;
	if (remote)
		*remote = fdb->ages[i].remote;
	return true;
}

/* Adds a static entry, local or not, or turns an existing entry into one:
 * the last call says what the entry is. */
static int fdb_add_pinned__(struct ub_fdb *fdb, const struct ub_mac *mac,
			    uint16_t vid, uint32_t port, uint32_t remote,
			    bool local)
{
	struct ub_fdb_key key = {.mac = *mac, .vid = vid};
	uint32_t b = fdb_bucket__(fdb, &key);
	uint32_t i = *fdb_find__(fdb, b, &key);
	struct fdb_age *a;

	if (i == FDB_NIL || !fdb->ages[i].is_static) {
		if (fdb->st.static_entries >= fdb->max_static)
			return -ENOSPC;
		if (i != FDB_NIL) {
			/* Learned: it leaves the LRU and the learned count. */
			fdb_lru_unlink__(fdb, i);
			fdb->st.learned_entries--;
			fdb_port_count__(fdb, fdb->nodes[i].port, -1);
			fdb->ages[i].is_static = true;
		} else {
			i = fdb_alloc__(fdb, b, &key, port, remote, true);
		}
		fdb->st.static_entries++;
	}
	a = &fdb->ages[i];
	if (local && !a->is_local)
		fdb->st.local_entries++;
	else if (!local && a->is_local)
		fdb->st.local_entries--;
	a->is_local = local;
	a->remote = remote;
	fdb->nodes[i].port = port;
	return 0;
}

int ub_fdb_add_static(struct ub_fdb *fdb, const struct ub_mac *mac,
		      uint16_t vid, uint32_t port, uint32_t remote)
{
	return fdb_add_pinned__(fdb, mac, vid, port, remote, false);
}

int ub_fdb_add_local(struct ub_fdb *fdb, const struct ub_mac *mac,
		     uint16_t vid, uint32_t port)
{
	return fdb_add_pinned__(fdb, mac, vid, port, 0, true);
}

int ub_fdb_del(struct ub_fdb *fdb, const struct ub_mac *mac, uint16_t vid)
{
	struct ub_fdb_key key = {.mac = *mac, .vid = vid};
	uint32_t *link = fdb_find__(fdb, fdb_bucket__(fdb, &key), &key);

	if (*link == FDB_NIL)
		return -ENOENT;
	fdb_unlink__(fdb, link);
	return 0;
}

uint32_t ub_fdb_flush(struct ub_fdb *fdb, uint32_t port, uint32_t remote,
		      bool with_static)
{
	uint32_t cursor = 0;

	return ub_fdb_flush_slice(fdb, port, remote, with_static, &cursor,
				  UINT32_MAX);
}

uint32_t ub_fdb_flush_slice(struct ub_fdb *fdb, uint32_t port, uint32_t remote,
			    bool with_static, uint32_t *cursor, uint32_t budget)
{
	uint32_t b, removed = 0, cost = 0;

	for (b = *cursor; b <= fdb->bucket_mask && cost < budget; b++) {
		uint32_t *link = &fdb->buckets[b];

		while (*link != FDB_NIL) {
			uint32_t i = *link;

			cost++;
			if ((port == UB_FDB_PORT_ANY ||
			     fdb->nodes[i].port == port) &&
			    (remote == UB_FDB_REMOTE_ANY ||
			     fdb->ages[i].remote == remote) &&
			    (with_static || !fdb->ages[i].is_static)) {
				fdb_unlink__(fdb, link);
				removed++;
			} else {
				link = &fdb->nodes[i].next;
			}
		}
		cost++;
	}
	*cursor = b > fdb->bucket_mask ? UB_FDB_WALK_DONE : b;
	return removed;
}

/*
 * An entry is dead from last_seen + ageing_ms on (the '>=' the Linux
 * bridge uses), so ub_fdb_next_deadline() is the first 'now' at which
 * ub_fdb_age() removes something.
 */
uint32_t ub_fdb_age(struct ub_fdb *fdb, uint64_t now)
{
	return ub_fdb_age_max(fdb, now, UINT32_MAX);
}

uint32_t ub_fdb_age_max(struct ub_fdb *fdb, uint64_t now, uint32_t max)
{
	uint32_t removed = 0;

	while (fdb->lru_head != FDB_NIL && removed < max) {
		uint64_t d =
			fdb_deadline__(fdb, fdb->ages[fdb->lru_head].last_seen);

		if (d == UB_FDB_NO_DEADLINE || now < d)
			break;
		fdb_unlink_oldest__(fdb, UB_FDB_EV_AGED);
		removed++;
	}
	fdb->st.aged += removed;
	return removed;
}

/* Ageing 0 needs no test here: it leaves no learned entry. */
uint64_t ub_fdb_next_deadline(const struct ub_fdb *fdb)
{
	if (fdb->lru_head == FDB_NIL)
		return UB_FDB_NO_DEADLINE;
	return fdb_deadline__(fdb, fdb->ages[fdb->lru_head].last_seen);
}

void ub_fdb_set_ageing(struct ub_fdb *fdb, uint64_t ageing_ms)
{
	fdb->ageing_ms = ageing_ms;
	if (ageing_ms == 0)
		ub_fdb_flush(fdb, UB_FDB_PORT_ANY, UB_FDB_REMOTE_ANY, false);
}

uint64_t ub_fdb_get_ageing(const struct ub_fdb *fdb)
{
	return fdb->ageing_ms;
}

int ub_fdb_foreach_slice(const struct ub_fdb *fdb, uint32_t *cursor,
			 uint32_t budget,
			 int (*fn)(const struct ub_fdb_entry_info *e, void *arg),
			 void *arg)
{
	uint32_t b, i, cost = 0;
	int ret;

	/* A chain is listed whole: every entry's bucket stays the same (the
	 * table never grows), so an entry there all along is seen once. */
	for (b = *cursor; b <= fdb->bucket_mask && cost < budget; b++) {
		for (i = fdb->buckets[b], cost++; i != FDB_NIL;
		     i = fdb->nodes[i].next, cost++) {
			struct ub_fdb_entry_info info = fdb_info__(fdb, i);

			ret = fn(&info, arg);
			if (ret)
				return ret;
		}
	}
	*cursor = b > fdb->bucket_mask ? UB_FDB_WALK_DONE : b;
	return 0;
}

int ub_fdb_foreach(const struct ub_fdb *fdb,
		   int (*fn)(const struct ub_fdb_entry_info *e, void *arg),
		   void *arg)
{
	uint32_t cursor = 0;

	return ub_fdb_foreach_slice(fdb, &cursor, UINT32_MAX, fn, arg);
}

void ub_fdb_set_notify(struct ub_fdb *fdb, ub_fdb_notify_fn fn, void *arg)
{
	fdb->notify = fn;
	fdb->notify_arg = arg;
}

void ub_fdb_get_stats(const struct ub_fdb *fdb, struct ub_fdb_stats *st)
{
	*st = fdb->st;
}
