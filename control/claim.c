/* SPDX-License-Identifier: MIT */
/* Port claims (see include/ubridge/claim.h for the design). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ubridge/claim.h>

#define UB_CLAIM_SUFFIX ".ports"
/* A fresh file is locked by nobody but us, unless someone opened it in the
 * moment between its creation and our lock: then it is made again. */
#define UB_CLAIM_TRIES 3

/* What snprintf() returned, for a buffer of 'len': 0 or -ENAMETOOLONG. */
static int fits__(int n, size_t len)
{
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* Makes directory 'path' (0755) unless it is one already; a symlink or a
 * file in its place is refused. */
static int mkdir__(const char *path)
{
	struct stat st;

	if (!mkdir(path, 0755))
		return 0;
	if (errno != EEXIST)
		return -errno;
	if (lstat(path, &st))
		return -errno;
	return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

static int dir__(const char *rundir, const char *bridge, char *buf, size_t len)
{
	int ret = mkdir__(rundir);

	if (ret)
		return ret;
	ret = fits__(snprintf(buf, len, "%s/%s" UB_CLAIM_SUFFIX, rundir,
			      bridge), len);
	return ret ? ret : mkdir__(buf);
}

int ub_claim_prepare(const char *rundir, const char *bridge, uid_t owner,
		     gid_t group)
{
	char dir[UB_CLAIM_PATH_MAX];
	struct dirent *d;
	DIR *dp;
	int ret;

	ret = dir__(rundir, bridge, dir, sizeof(dir));
	if (ret)
		return ret;
	if ((owner != (uid_t)-1 || group != (gid_t)-1) &&
	    chown(dir, owner, group))
		return -errno;
	dp = opendir(dir);
	if (!dp)
		return -errno;
	/* Nothing there is locked: the caller is the only bridge of this
	 * name, and it has claimed nothing yet. */
	while ((d = readdir(dp)))
		if (d->d_name[0] != '.')
			unlinkat(dirfd(dp), d->d_name, 0);
	closedir(dp);
	return 0;
}

/* The key of 'ifindex' in the calling thread's namespace (threads may
 * have entered different ones). */
static int key__(int ifindex, char *buf, size_t len)
{
	struct stat st;

	if (stat("/proc/thread-self/ns/net", &st))
		return -errno;
	return fits__(snprintf(buf, len, "%llu-%d",
			       (unsigned long long)st.st_ino, ifindex), len);
}

/* Our own claim file, fresh and locked. Whatever was there is stale: the
 * caller holds no claim on the interface. */
static int lock_own__(const char *path)
{
	int fd;

	for (int i = 0; i < UB_CLAIM_TRIES; i++) {
		if (unlink(path) && errno != ENOENT)
			return -errno;
		fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW |
			  O_CLOEXEC, 0644);
		if (fd < 0) {
			if (errno == EEXIST)
				continue;
			return -errno;
		}
		if (!flock(fd, LOCK_EX | LOCK_NB)) {
			/* Whatever the umask: other bridges must be able to
			 * open it to look at its lock. */
			if (fchmod(fd, 0644)) {
				close(fd);
				return -errno;
			}
			return fd;
		}
		close(fd);
		if (errno != EWOULDBLOCK)
			return -errno;
	}
	return -EAGAIN;
}

/*
 * Whether the claim file 'name' (relative to 'dfd') is locked: a shared
 * lock is refused only while its owner holds the exclusive one. A file
 * that is not there, or that we may not open, claims nothing.
 */
static bool locked__(int dfd, const char *name)
{
	bool held;
	int fd;

	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return false;
	held = flock(fd, LOCK_SH | LOCK_NB) && errno == EWOULDBLOCK;
	close(fd);
	return held;
}

/* The bridge, other than 'self', whose claim on 'key' is live; false when
 * none. */
static bool find_holder__(const char *rundir, const char *self,
			  const char *key, char *holder, size_t holderlen)
{
	const size_t sl = strlen(UB_CLAIM_SUFFIX);
	char name[UB_CLAIM_PATH_MAX];
	bool found = false;
	struct dirent *d;
	size_t n;
	DIR *dp;

	dp = opendir(rundir);
	if (!dp)
		return false;
	while (!found && (d = readdir(dp))) {
		n = strlen(d->d_name);
		if (n <= sl || d->d_name[0] == '.' ||
		    strcmp(d->d_name + n - sl, UB_CLAIM_SUFFIX) ||
		    (n - sl == strlen(self) && !strncmp(d->d_name, self, n - sl)))
			continue;
		if (fits__(snprintf(name, sizeof(name), "%s/%s", d->d_name,
				    key), sizeof(name)))
			continue;
		if (locked__(dirfd(dp), name)) {
			snprintf(holder, holderlen, "%.*s", (int)(n - sl),
				 d->d_name);
			found = true;
		}
	}
	closedir(dp);
	return found;
}

int ub_claim_take(const char *rundir, const char *bridge, int ifindex,
		  const char *ifname, struct ub_claim *c, char *holder,
		  size_t holderlen)
{
	char dir[UB_CLAIM_PATH_MAX], key[32], note[96];
	int fd, ret, n;

	ub_claim_init(c);
	if ((ret = key__(ifindex, key, sizeof(key))) ||
	    (ret = dir__(rundir, bridge, dir, sizeof(dir))) ||
	    (ret = fits__(snprintf(c->path, sizeof(c->path), "%s/%s", dir,
				   key), sizeof(c->path))))
		return ret;
	fd = lock_own__(c->path);
	if (fd < 0)
		return fd;
	if (find_holder__(rundir, bridge, key, holder, holderlen)) {
		unlink(c->path);
		close(fd);
		return -EBUSY;
	}
	n = snprintf(note, sizeof(note), "bridge=%s ifname=%s pid=%d\n",
		     bridge, ifname, (int)getpid());
	if (n > 0 && write(fd, note, (size_t)n) != n) {
		/* Only for people: a claim without it is as good. */
	}
	c->fd = fd;
	return 0;
}

void ub_claim_dir_remove(const char *rundir, const char *bridge)
{
	char dir[UB_CLAIM_PATH_MAX];

	if (!fits__(snprintf(dir, sizeof(dir), "%s/%s" UB_CLAIM_SUFFIX, rundir,
			     bridge), sizeof(dir)))
		rmdir(dir);
}

void ub_claim_release(struct ub_claim *c)
{
	if (c->fd < 0)
		return;
	/* Removed while still locked: a bridge that opened the file just
	 * before finds it unlocked afterwards, which is true by then. */
	unlink(c->path);
	close(c->fd);
	ub_claim_init(c);
}
