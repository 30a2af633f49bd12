/* SPDX-License-Identifier: MIT */
/*
 * Port claims: an interface is a port of one bridge at most, as the kernel
 * bridge refuses a port that has a master already. Two ubridge daemons on
 * one interface would each flood and forward every frame: the peers see
 * every frame twice.
 *
 * A claim is a lock, not a record. Each bridge has a directory of its own,
 * RUNDIR/<bridge>.ports/, with one file per interface it holds, named by
 * the interface's network namespace (the inode of its nsfs file) and
 * ifindex: the pair that names one interface on the host for as long as
 * the port exists (the port's socket or TAP fd pins the namespace, so its
 * inode cannot be reused meanwhile), and that a rename does not change.
 * The bridge holds the file open with an exclusive flock() for the port's
 * life. A claim is live exactly while that lock is held, and the kernel
 * drops it with the last reference to the file: a daemon killed with
 * SIGKILL leaves files behind, but no locks, so its claims are gone the
 * moment it is (a lock file never used in io_uring is not kept alive by
 * the ring's teardown). A file's content (bridge, interface, pid) is for
 * people; nothing trusts it.
 *
 * Taking a claim: lock our own file first, then look at every other
 * bridge's file for the same interface; one whose lock is held is a live
 * claim, and ours is given up again. Two bridges racing for an interface
 * each hold their own lock before they look, so the one that looks last
 * sees the other's: at most one of them wins (both may lose, and a retry
 * settles it). One directory per bridge rather than one shared directory:
 * a daemon that dropped root (ubridge --user) can still write its own,
 * made for it while it was root, and nobody but root and the daemons can
 * make a claim, as only root makes directories in RUNDIR.
 *
 * Nothing is written on the interface itself (an alias, an altname): it
 * would outlive a killed daemon and then lie, and an alias would clobber
 * one the user set. Other bridges and people see the claims in RUNDIR.
 *
 * Functions return 0 or -errno and never print.
 */
#ifndef UBRIDGE_CLAIM_H
#define UBRIDGE_CLAIM_H

#include <stddef.h>
#include <sys/types.h>

/* Room for RUNDIR/<bridge>.ports/<netns inode>-<ifindex>. */
#define UB_CLAIM_PATH_MAX 160

struct ub_claim {
	int fd;                      /* the locked file; -1: no claim */
	char path[UB_CLAIM_PATH_MAX];
};

static inline void ub_claim_init(struct ub_claim *c)
{
	c->fd = -1;
	c->path[0] = '\0';
}

/*
 * Makes bridge 'bridge''s claim directory under 'rundir' (both 0755, the
 * directory owned by 'owner' and 'group' when not -1) and removes the
 * claims a killed predecessor of the same name left behind. Call it as
 * root, before dropping privileges, and only while holding the bridge's
 * own lock (ub_ctl_listen): another daemon of that name would lose its
 * claims.
 */
int ub_claim_prepare(const char *rundir, const char *bridge, uid_t owner,
		     gid_t group);

/*
 * Claims interface 'ifindex' of the calling thread's network namespace
 * for bridge 'bridge' ('ifname' only goes into the file, for people). The
 * caller must not hold a claim on it already. Returns 0 with 'c' holding
 * the claim; -EBUSY when another bridge holds it, its name in 'holder'
 * (at least 16 bytes); -EAGAIN when a race could not be settled; or
 * -errno.
 */
int ub_claim_take(const char *rundir, const char *bridge, int ifindex,
		  const char *ifname, struct ub_claim *c, char *holder,
		  size_t holderlen);

/* Removes bridge 'bridge''s claim directory if it is empty (a clean
 * stop). */
void ub_claim_dir_remove(const char *rundir, const char *bridge);

/* Gives the claim up (removes the file, then drops the lock); accepts a
 * claim that holds nothing. */
void ub_claim_release(struct ub_claim *c);

#endif
