/* SPDX-License-Identifier: MIT */
/*
 * The forwarding database: {MAC, VLAN id} -> (port id, remote).
 *
 * Design:
 * - A chained hash table over a power-of-two bucket array, hashed with a
 *   per-table secret so that crafted source MACs cannot pile into a few
 *   chains. Entries come from a pool allocated once in ub_fdb_new(): the
 *   data path never calls malloc.
 * - Learned entries sit on an LRU list ordered by last_seen. A refresh
 *   only writes (and moves the entry to the tail) when the coarse time
 *   (UB_FDB_TICK_MS) changed, so a busy flow costs a read per frame.
 *   ub_fdb_age() pops from the head until the first live entry: O(expired).
 * - The number of learned entries is capped; past the cap, learning a new
 *   address evicts the least recently used learned entry.
 * - A port may also have a cap of its own on the learned entries it holds
 *   (ub_fdb_port_set_cap()). It limits new addresses only: a refresh, and
 *   a move in from another port, always go through (a move, or a cap
 *   lowered under the count, can leave a port above its cap). A new
 *   address on a port at its cap is not learned and, by the port's
 *   policy, the frame is forwarded all the same or dropped. Per-port
 *   counts follow moves, ageing, eviction, deletes and flushes. The
 *   global cap and its eviction apply as before.
 * - Static entries never age and are never moved by learning. They have a
 *   capacity of their own (cfg->max_static).
 * - A static entry may be local: the MAC of one of the client's own ports.
 *   It behaves as a static one, and in addition learning reports a frame
 *   that carries it as its source on another port (UB_FDB_LEARN_LOCAL),
 *   even with an ageing time of 0: such a frame is looped back or forged,
 *   and 802.1D says not to forward it, which the client decides. A plain
 *   static entry only refuses to move (UB_FDB_LEARN_STATIC). Local entries
 *   share the static capacity.
 * - An entry's destination is its port and a remote: an index into the
 *   port's own table of remote endpoints (a VXLAN port's VTEPs), which
 *   only the port interprets; 0 means none, as for every port without
 *   such a table. Learning takes the two as one: the same port with
 *   another remote is a move, and a static entry pins both. Local entries
 *   have no remote. A flush may take one remote of a port only (one VTEP
 *   removed).
 * - An ageing time of 0 means "never remember": nothing is learned and
 *   every unicast floods, as with the Linux bridge.
 *
 * The table is pure: no I/O, no clock (time is the 'now' argument, in
 * milliseconds of any monotonic clock), no logging, no locks. The client's
 * port ids and remotes are opaque numbers; the table never interprets them.
 */
#ifndef UBRIDGE_FDB_H
#define UBRIDGE_FDB_H

#include <stdbool.h>
#include <stdint.h>

#include <ubridge/eth.h>

#define UB_FDB_DEFAULT_MAX 8192
#define UB_FDB_DEFAULT_MAX_STATIC 1024
#define UB_FDB_DEFAULT_AGEING_MS (300 * 1000)
/* Resolution of last_seen: refreshes within one tick do not write. */
#define UB_FDB_TICK_MS 1000
/* Port ids below this can have a cap of their own, by default. */
#define UB_FDB_DEFAULT_PORTS 1024
/* "No port": a wildcard for ub_fdb_flush(). */
#define UB_FDB_PORT_ANY UINT32_MAX
/* "Any remote": a wildcard for ub_fdb_flush(); never an entry's remote. */
#define UB_FDB_REMOTE_ANY UINT32_MAX
/* ub_fdb_next_deadline() when nothing can expire. */
#define UB_FDB_NO_DEADLINE UINT64_MAX

struct ub_fdb;

struct ub_fdb_key {
	struct ub_mac mac;
	uint16_t vid;
};

/* Hash function, replaceable for tests (degenerate hashes). */
typedef uint32_t (*ub_fdb_hash_fn)(const struct ub_fdb_key *key,
				   uint64_t secret);

struct ub_fdb_cfg {
	uint32_t max_learned;  /* cap on learned entries; 0: UB_FDB_DEFAULT_MAX */
	uint32_t max_static;   /* 0: UB_FDB_DEFAULT_MAX_STATIC */
	uint32_t ports;        /* ids 0..ports-1 are counted per port and may
				* be capped; 0: UB_FDB_DEFAULT_PORTS */
	uint64_t ageing_ms;    /* initial ageing time; see ub_fdb_set_ageing() */
	uint64_t secret;       /* hash secret; the caller supplies randomness */
	ub_fdb_hash_fn hash;   /* NULL: the built-in keyed hash */
};

/* Fills 'cfg' with the defaults (ageing 300 s, caps as above, secret 0). */
void ub_fdb_cfg_default(struct ub_fdb_cfg *cfg);

/*
 * Returns 0, -EINVAL (NULL 'cfg' or 'out', or more than 2^24 entries or
 * ports in all) or -ENOMEM.
 */
int ub_fdb_new(const struct ub_fdb_cfg *cfg, struct ub_fdb **out);
/* Accepts NULL. */
void ub_fdb_free(struct ub_fdb *fdb);

enum ub_fdb_learn_result {
	UB_FDB_LEARN_NONE,    /* known on this port and remote (refreshed if
			       * due), or not learned (ageing 0) */
	UB_FDB_LEARN_NEW,     /* a new entry (may have evicted the LRU one) */
	UB_FDB_LEARN_MOVED,   /* the address moved here from another port, or
			       * from another remote of this one */
	UB_FDB_LEARN_STATIC,  /* a static entry names another port or remote:
			       * not moved */
	UB_FDB_LEARN_LOCAL,   /* a local entry names another port or remote:
			       * the source is one of our own MACs; not moved */
	UB_FDB_LEARN_REFUSED, /* new, but the port is at its cap: not learned */
	UB_FDB_LEARN_DROP,    /* the same, and the port's policy is to drop */
};

/*
 * Learns that 'mac' in VLAN 'vid' was seen on 'port', from its remote
 * 'remote' (0: none), at 'now'. The caller has already refused multicast
 * and all-zero sources. 'now' should not go back; if it does, a write
 * stamps the latest time already seen instead. With an ageing time of 0
 * it learns nothing and returns UB_FDB_LEARN_NONE or UB_FDB_LEARN_LOCAL;
 * it looks the address up only while local entries exist. After
 * UB_FDB_LEARN_LOCAL, ub_fdb_lookup() of the same address gives the port
 * it belongs to.
 */
enum ub_fdb_learn_result ub_fdb_learn(struct ub_fdb *fdb,
				      const struct ub_mac *mac, uint16_t vid,
				      uint32_t port, uint32_t remote,
				      uint64_t now);

/* What a port at its own cap does with a frame from a new address. */
enum ub_fdb_cap_policy {
	UB_FDB_CAP_NOLEARN, /* forward it, do not learn the address */
	UB_FDB_CAP_DROP,    /* drop it (port security); known ones pass */
};

/*
 * Caps the learned entries of 'port' at 'max_learned' (0: no cap of its
 * own) with 'policy'. Entries it holds stay, even past a lowered cap.
 * Returns 0, or -EINVAL when 'port' is not below cfg->ports or the policy
 * is unknown.
 */
int ub_fdb_port_set_cap(struct ub_fdb *fdb, uint32_t port,
			uint32_t max_learned, enum ub_fdb_cap_policy policy);

struct ub_fdb_port_info {
	uint32_t learned_entries; /* now in the table, on this port */
	uint32_t max_learned;     /* 0: none */
	enum ub_fdb_cap_policy policy;
};

/* Fills 'info' for 'port'. Returns 0, or -EINVAL as above. */
int ub_fdb_port_get(const struct ub_fdb *fdb, uint32_t port,
		    struct ub_fdb_port_info *info);

/*
 * True, with '*port' and (unless 'remote' is NULL) '*remote' set, when the
 * address is known. Never writes.
 */
bool ub_fdb_lookup(const struct ub_fdb *fdb, const struct ub_mac *mac,
		   uint16_t vid, uint32_t *port, uint32_t *remote);

/*
 * Adds a static entry, or turns an existing entry (learned, static or
 * local) into a plain static one, on 'port' and its remote 'remote' (0:
 * none). Returns 0 or -ENOSPC when max_static entries exist already and
 * the address has none of them.
 */
int ub_fdb_add_static(struct ub_fdb *fdb, const struct ub_mac *mac,
		      uint16_t vid, uint32_t port, uint32_t remote);

/*
 * The same for a local entry, which has no remote: 'mac' is the address
 * of our port 'port'.
 * Adding it again with another port moves it there. Returns 0 or -ENOSPC
 * as ub_fdb_add_static().
 */
int ub_fdb_add_local(struct ub_fdb *fdb, const struct ub_mac *mac,
		     uint16_t vid, uint32_t port);

/* Removes one entry, learned, static or local. Returns 0 or -ENOENT. */
int ub_fdb_del(struct ub_fdb *fdb, const struct ub_mac *mac, uint16_t vid);

/*
 * Removes the learned entries of 'port' (UB_FDB_PORT_ANY: of every port)
 * with remote 'remote' (UB_FDB_REMOTE_ANY: whatever their remote), and the
 * static and local ones too when 'with_static'. Returns how many it
 * removed.
 */
uint32_t ub_fdb_flush(struct ub_fdb *fdb, uint32_t port, uint32_t remote,
		      bool with_static);
/*
 * The same over a slice of the table, as ub_fdb_foreach_slice() walks it
 * ('*cursor' 0 to start; UB_FDB_WALK_DONE once the whole table is done):
 * a caller may let the table change between slices. An entry that was
 * there when the flush began and matches it all along is removed.
 */
uint32_t ub_fdb_flush_slice(struct ub_fdb *fdb, uint32_t port, uint32_t remote,
			    bool with_static, uint32_t *cursor,
			    uint32_t budget);

/*
 * Removes the learned entries unseen for the ageing time, i.e. those with
 * now >= last_seen + ageing_ms. Returns how many.
 */
uint32_t ub_fdb_age(struct ub_fdb *fdb, uint64_t now);
/* The same, removing at most 'max' (the oldest first): the rest stay due,
 * and ub_fdb_next_deadline() says so. */
uint32_t ub_fdb_age_max(struct ub_fdb *fdb, uint64_t now, uint32_t max);

/* When ub_fdb_age() next has work to do; UB_FDB_NO_DEADLINE if never. */
uint64_t ub_fdb_next_deadline(const struct ub_fdb *fdb);

/*
 * Sets the ageing time. 0 flushes the learned entries and stops learning.
 * Entries already learned keep their last_seen: the next ub_fdb_age()
 * applies the new time to them.
 */
void ub_fdb_set_ageing(struct ub_fdb *fdb, uint64_t ageing_ms);
uint64_t ub_fdb_get_ageing(const struct ub_fdb *fdb);

struct ub_fdb_entry_info {
	struct ub_mac mac;
	uint16_t vid;
	uint32_t port;
	uint32_t remote;    /* the port's remote; 0: none */
	bool is_static;
	bool is_local;      /* a local entry (is_static is set too) */
	uint64_t last_seen; /* learned entries: the 'now' of the last refresh */
	uint16_t moves;     /* learned entries: moves since learned (at most
			     * UINT16_MAX) */
};

/*
 * Calls 'fn' once per entry, in no particular order. 'fn' must not change
 * the table. Stops early, returning fn's value, when fn returns non-zero.
 */
int ub_fdb_foreach(const struct ub_fdb *fdb,
		   int (*fn)(const struct ub_fdb_entry_info *e, void *arg),
		   void *arg);

/* ub_fdb_foreach_slice()'s cursor once the walk is over. */
#define UB_FDB_WALK_DONE UINT32_MAX
/*
 * The same walk in slices, for a caller that lets the table change
 * between them (a long listing that must not hold up forwarding).
 * '*cursor' says where the slice starts (0: the beginning); the slice ends
 * once about 'budget' entries and empty chains were looked at, and
 * '*cursor' is then where the next one starts, or UB_FDB_WALK_DONE. An
 * entry that stays in the table the whole walk is seen exactly once; one
 * added, moved or removed meanwhile may or may not be, with either
 * destination. 'fn' must not change the table. Returns as
 * ub_fdb_foreach().
 */
int ub_fdb_foreach_slice(const struct ub_fdb *fdb, uint32_t *cursor,
			 uint32_t budget,
			 int (*fn)(const struct ub_fdb_entry_info *e, void *arg),
			 void *arg);

struct ub_fdb_stats {
	uint32_t learned_entries; /* now in the table */
	uint32_t static_entries;  /* now in the table, local ones included */
	uint32_t local_entries;   /* now in the table */
	uint64_t learned;         /* new entries, ever */
	uint64_t moved;           /* MAC moves to another port or remote */
	uint64_t aged;            /* removed by ub_fdb_age() */
	uint64_t evicted;         /* removed to make room past the cap */
	uint64_t static_refused;  /* learns refused by a plain static entry */
	uint64_t local_refused;   /* learns refused by a local entry */
	uint64_t port_refused;    /* new addresses refused by a port's cap */
};

void ub_fdb_get_stats(const struct ub_fdb *fdb, struct ub_fdb_stats *st);

/* What happened to a learned entry, for a listener (ub_fdb_set_notify). */
enum ub_fdb_event {
	UB_FDB_EV_LEARNED, /* a new entry */
	UB_FDB_EV_MOVED,   /* to another port or remote ('from_port': the
			    * port it was on) */
	UB_FDB_EV_AGED,    /* removed by ub_fdb_age(), about to go */
	UB_FDB_EV_EVICTED, /* removed to make room past the cap, about to go */
};

typedef void (*ub_fdb_notify_fn)(void *arg, enum ub_fdb_event ev,
				 const struct ub_fdb_entry_info *e,
				 uint32_t from_port);

/*
 * Calls 'fn' with 'arg' for each event above as it happens (inside the
 * call that caused it: 'fn' must not change the table); NULL stops it.
 * Flushes, deletes and static entries are the caller's own doing and are
 * not told. Costs nothing while unset.
 */
void ub_fdb_set_notify(struct ub_fdb *fdb, ub_fdb_notify_fn fn, void *arg);

#endif
