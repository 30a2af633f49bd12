/* SPDX-License-Identifier: MIT */
/*
 * Named network namespaces, made and removed the way iproute2's
 * `ip netns add|del` does, so both tools see and use each other's:
 *
 *   /run/netns            a shared mount point (see ub_netns_rundir__)
 *   /run/netns/NAME       an empty file with a namespace bind-mounted on it
 *
 * A namespace lives as long as something holds it: a process inside, an
 * open fd, or the bind mount. Removing the mount and the file therefore
 * frees a namespace nobody else uses.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/nsfs.h>

#include <ubridge/netlink.h>

int ub_netns_name_check(const char *name)
{
	if (!name || !name[0] || !strcmp(name, ".") || !strcmp(name, "..") ||
	    strchr(name, '/'))
		return -EINVAL;
	if (strnlen(name, UB_NETNS_NAME_MAX + 1) > UB_NETNS_NAME_MAX)
		return -ENAMETOOLONG;
	return 0;
}

static int ub_netns_path__(const char *name, char *buf, size_t len)
{
	int ret = ub_netns_name_check(name);

	if (ret)
		return ret;
	ret = snprintf(buf, len, "%s/%s", UB_NETNS_RUNDIR, name);
	return ret < 0 || (size_t)ret >= len ? -ENAMETOOLONG : 0;
}

/*
 * Makes UB_NETNS_RUNDIR exist and be a shared mount point, as iproute2
 * does. Why shared: `ip netns exec`, systemd services and containers run
 * in mount namespaces of their own, which received a copy of our bind
 * mounts. With shared propagation a namespace bound here later appears in
 * those copies too, and, more important, unmounting it here unmounts it
 * there as well; otherwise a stale copy would keep the network namespace
 * (and its veths) alive after `netns del`. A directory that is not a mount
 * point cannot change its propagation (EINVAL), so it is first turned into
 * one by binding it onto itself.
 */
static int ub_netns_rundir__(void)
{
	bool bound = false;

	if (mkdir(UB_NETNS_RUNDIR, 0755) < 0 && errno != EEXIST)
		return -errno;
	for (;;) {
		if (!mount("", UB_NETNS_RUNDIR, "none", MS_SHARED | MS_REC,
			   NULL))
			return 0;
		if (errno != EINVAL || bound)
			return -errno;
		if (mount(UB_NETNS_RUNDIR, UB_NETNS_RUNDIR, "none",
			  MS_BIND | MS_REC, NULL) < 0)
			return -errno;
		bound = true;
	}
}

struct ub_netns_job {
	const char *path;
	int ret;
};

/*
 * Runs in a thread of its own, so the caller's thread never changes
 * namespace and there is nothing to restore if a step fails: the new
 * namespace is held only by the mount once this thread ends.
 */
static void *ub_netns_add_thread__(void *arg)
{
	struct ub_netns_job *job = arg;

	if (unshare(CLONE_NEWNET) < 0) {
		job->ret = -errno;
		return NULL;
	}
	/*
	 * setns/unshare act on one thread; /proc/self names the process's
	 * main thread, so only thread-self leads to the new namespace.
	 */
	if (mount("/proc/thread-self/ns/net", job->path, "none", MS_BIND,
		  NULL) < 0)
		job->ret = -errno;
	return NULL;
}

int ub_netns_add(const char *name)
{
	struct ub_netns_job job = { 0 };
	char path[PATH_MAX];
	pthread_t thread;
	int fd, ret;

	ret = ub_netns_path__(name, path, sizeof(path));
	if (ret)
		return ret;
	ret = ub_netns_rundir__();
	if (ret)
		return ret;
	/* O_EXCL makes the name ours or fails with EEXIST, race-free. */
	fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	close(fd);

	job.path = path;
	ret = -pthread_create(&thread, NULL, ub_netns_add_thread__, &job);
	if (ret)
		goto err_unlink;
	ret = -pthread_join(thread, NULL);
	if (!ret)
		ret = job.ret;
	if (ret)
		goto err_unlink;
	return 0;

err_unlink:
	unlink(path);
	return ret;
}

int ub_netns_del(const char *name)
{
	char path[PATH_MAX];
	int ret;

	ret = ub_netns_path__(name, path, sizeof(path));
	if (ret)
		return ret;
	/*
	 * MNT_DETACH: an `ip netns exec` running in the namespace keeps it
	 * busy; the name goes now, the namespace with its last user. EINVAL
	 * means a file without a mount (a half-made namespace): remove it.
	 */
	if (umount2(path, MNT_DETACH) < 0 && errno != EINVAL)
		return -errno;
	if (unlink(path) < 0)
		return -errno;
	return 0;
}

/* Keeps 'fd' only if it is a network namespace. */
static int ub_netns_check_fd__(int fd)
{
	if (fd < 0)
		return -errno;
	if (ioctl(fd, NS_GET_NSTYPE) != CLONE_NEWNET) {
		close(fd);
		return -EINVAL;
	}
	return fd;
}

int ub_netns_open(const char *name)
{
	char path[PATH_MAX];
	int ret;

	ret = ub_netns_path__(name, path, sizeof(path));
	if (ret)
		return ret;
	return ub_netns_check_fd__(open(path, O_RDONLY | O_CLOEXEC));
}

int ub_netns_open_pid(pid_t pid)
{
	char path[64];
	int fd;

	if (pid <= 0)
		return -EINVAL;
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return -ESRCH;
	return ub_netns_check_fd__(fd);
}

int ub_netns_same(int nsfd, const char *path)
{
	struct stat a, b;

	if (fstat(nsfd, &a) < 0 || stat(path, &b) < 0)
		return -errno;
	return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

int ub_netns_identify(int nsfd, char *name, size_t len)
{
	struct stat want, st;
	struct dirent *e;
	DIR *dir;

	if (ioctl(nsfd, NS_GET_NSTYPE) != CLONE_NEWNET)
		return -EINVAL;
	if (fstat(nsfd, &want) < 0)
		return -errno;
	/* What `ip netns identify` does: the name bound to the same inode. */
	dir = opendir(UB_NETNS_RUNDIR);
	while (dir && (e = readdir(dir))) {
		if (e->d_name[0] != '.' &&
		    !fstatat(dirfd(dir), e->d_name, &st, 0) &&
		    st.st_dev == want.st_dev && st.st_ino == want.st_ino &&
		    strlen(e->d_name) < len) {
			snprintf(name, len, "%s", e->d_name);
			closedir(dir);
			return 0;
		}
	}
	if (dir)
		closedir(dir);
	snprintf(name, len, "net:[%llu]", (unsigned long long)want.st_ino);
	return 0;
}

bool ub_netns_exists(const char *name)
{
	int fd = ub_netns_open(name);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}
