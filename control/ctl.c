/* SPDX-License-Identifier: MIT */
/*
 * The control-socket protocol: socket setup for both ends, the request
 * line codec and the reply codec. The wire format is specified in
 * include/ubridge/ctl.h.
 *
 * The daemon feeds ub_ctl_req_decode() whatever a local client wrote, so
 * the decoder validates the whole line before it touches it and accepts
 * exactly the grammar, nothing more. Replies are produced by our own code;
 * the reply builder still keeps the framing intact whatever the daemon
 * formats (no stray '\n' can split a line). The client side decodes
 * strictly too, so a reply that does not follow the grammar is reported
 * rather than half-understood.
 *
 * Like every library here, this file never prints.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <ubridge/ctl.h>
#include <ubridge/eth.h>

/* How long a client waits for the daemon, in total: connect, send, reply. */
#define UB_CTL_TIMEOUT_MS 10000
/* The largest reply a client accepts (a big FDB dump is a few MiB). */
#define UB_CTL_REPLY_MAX (64u << 20)
#define UB_CTL_LISTEN_BACKLOG 64
/* Initial reply capacity; always large enough for the ENOMEM status. */
#define UB_CTL_REPLY_INIT 1024
/* Largest errno value a status line may carry (the kernel's MAX_ERRNO). */
#define UB_CTL_ERRNO_MAX 4095

static const char ub_ctl_enomem_status[] = "errno=12 out of memory\n";
_Static_assert(ENOMEM == 12, "ub_ctl_enomem_status spells ENOMEM as 12");
_Static_assert(sizeof(ub_ctl_enomem_status) <= UB_CTL_REPLY_INIT,
	       "the ENOMEM status must fit the initial reply buffer");

/* A character allowed inside a request word or a record value. */
static bool ub_ctl_is_wordch__(char c)
{
	return c >= 0x21 && c <= 0x7e;
}

static bool ub_ctl_is_keych__(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

static bool ub_ctl_is_namech__(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

int ub_ctl_sock_path(const char *bridge, char *buf, size_t len)
{
	size_t n;
	int ret;

	if (!bridge || !bridge[0] || bridge[0] == '.' || bridge[0] == '-')
		return -EINVAL;
	n = strnlen(bridge, UB_BRIDGE_NAME_MAX + 1);
	if (n > UB_BRIDGE_NAME_MAX)
		return -ENAMETOOLONG;
	for (size_t i = 0; i < n; i++) {
		if (!ub_ctl_is_namech__(bridge[i]))
			return -EINVAL;
	}
	ret = snprintf(buf, len, "%s/%s.sock", UB_CTL_RUNDIR, bridge);
	if (ret < 0)
		return -EINVAL;
	if ((size_t)ret >= len)
		return -ENAMETOOLONG;
	return 0;
}

static int ub_ctl_sockaddr__(const char *path, struct sockaddr_un *sun)
{
	size_t n = strlen(path);

	if (n == 0)
		return -EINVAL;
	if (n >= sizeof(sun->sun_path))
		return -ENAMETOOLONG;
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, path, n + 1);
	return 0;
}

/* Milliseconds of CLOCK_MONOTONIC. */
static int64_t ub_ctl_now_ms__(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Opens a stream socket and connects it to 'path'. With 'timeout_ms' > 0
 * the connect is bounded: a Unix connect blocks while the listener's
 * backlog is full, for at most SO_SNDTIMEO, and then fails with EAGAIN.
 */
static int ub_ctl_connect__(const char *path, int timeout_ms)
{
	struct sockaddr_un sun;
	int fd, ret;

	ret = ub_ctl_sockaddr__(path, &sun);
	if (ret)
		return ret;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (timeout_ms > 0) {
		struct timeval tv = {
			.tv_sec = timeout_ms / 1000,
			.tv_usec = (timeout_ms % 1000) * 1000,
		};

		if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv))) {
			ret = -errno;
			goto err_close;
		}
	}
	do {
		ret = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	} while (ret && errno == EINTR);
	if (ret) {
		ret = errno == EAGAIN ? -ETIMEDOUT : -errno;
		goto err_close;
	}
	return fd;

err_close:
	close(fd);
	return ret;
}

int ub_ctl_connect(const char *path)
{
	return ub_ctl_connect__(path, 0);
}

/*
 * Creates the directory that holds 'path' when it is missing (one level
 * only: for the real socket that is UB_CTL_RUNDIR).
 */
static int ub_ctl_mkparent__(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	const char *slash = strrchr(path, '/');
	size_t n;

	if (!slash || slash == path)
		return 0;
	n = (size_t)(slash - path);
	if (n >= sizeof(dir))
		return -ENAMETOOLONG;
	memcpy(dir, path, n);
	dir[n] = '\0';
	if (mkdir(dir, 0755) && errno != EEXIST)
		return -errno;
	return 0;
}

/*
 * Whether a daemon serves a socket is decided by a lock, not by a connect.
 * A daemon killed while its io_uring had an accept pending keeps answering
 * on its socket for a second or two, while the kernel tears the ring down;
 * its other files, the lock among them, are closed at once. So the lock
 * file beside the socket (NAME.lock for NAME.sock) is held with flock()
 * for as long as the listening socket lives, and the kernel drops it when
 * the process ends, however it ends: held means running, free means that
 * whatever socket is there is stale. The file is root's, 0600: nobody
 * else can take it. A clean stop removes it (ub_ctl_unlock), still
 * holding it, and a lock won on a file that is no longer at the path does
 * not count; a killed daemon leaves it, free.
 *
 * The caller only gets the listening socket and closes only that, so the
 * lock's fd stays here, with the socket it went with. The next
 * ub_ctl_listen() of the same path in this process finds it: a socket
 * still open means running; a closed one means the lock is ours to reuse.
 */
struct ub_ctl_lock {
	char path[sizeof(((struct sockaddr_un *)0)->sun_path) + 8];
	int fd;     /* -1: slot free */
	int sock;   /* the listening socket it went with; -1: none yet */
	dev_t dev;  /* and its identity, which a reused fd number lacks */
	ino_t ino;
};

/* A process serves a few bridges at most (tests: several in turn). */
#define UB_CTL_LOCKS 8
static struct ub_ctl_lock ub_ctl_locks[UB_CTL_LOCKS];
static bool ub_ctl_locks_init;

/* Whether the socket that lock 'l' went with is still open. */
static bool ub_ctl_lock_sock_alive__(const struct ub_ctl_lock *l)
{
	struct stat st;

	return l->sock >= 0 && !fstat(l->sock, &st) && S_ISSOCK(st.st_mode) &&
	       st.st_dev == l->dev && st.st_ino == l->ino;
}

static void ub_ctl_lock_drop__(struct ub_ctl_lock *l)
{
	close(l->fd);
	l->fd = -1;
	l->sock = -1;
}

/* "DIR/NAME.sock" gives "DIR/NAME.lock"; any other path gets ".lock"
 * added. */
static int ub_ctl_lock_path__(const char *path, char *buf, size_t len)
{
	static const char sfx[] = ".sock";
	size_t n = strlen(path), sl = sizeof(sfx) - 1;
	int ret;

	if (n > sl && !strcmp(path + n - sl, sfx))
		n -= sl;
	ret = snprintf(buf, len, "%.*s.lock", (int)n, path);
	return ret < 0 || (size_t)ret >= len ? -ENAMETOOLONG : 0;
}

/*
 * Takes the lock of socket 'path' for this process. Returns its slot,
 * or NULL with '*err' set: -EADDRINUSE while another daemon (or a socket
 * of ours still open) serves the path, or -errno.
 */
static struct ub_ctl_lock *ub_ctl_lock_take__(const char *path, int *err)
{
	struct ub_ctl_lock *l, *free_slot = NULL;
	char lpath[sizeof(l->path)];
	int fd;

	if (!ub_ctl_locks_init) {
		for (int i = 0; i < UB_CTL_LOCKS; i++)
			ub_ctl_locks[i].fd = ub_ctl_locks[i].sock = -1;
		ub_ctl_locks_init = true;
	}
	*err = ub_ctl_lock_path__(path, lpath, sizeof(lpath));
	if (*err)
		return NULL;
	for (int i = 0; i < UB_CTL_LOCKS; i++) {
		l = &ub_ctl_locks[i];
		if (l->fd >= 0 && !strcmp(l->path, lpath)) {
			if (ub_ctl_lock_sock_alive__(l)) {
				*err = -EADDRINUSE;
				return NULL;
			}
			l->sock = -1;
			return l;
		}
	}
	/* A free slot, or one whose socket was closed: its lock is let go. */
	for (int i = 0; i < UB_CTL_LOCKS && !free_slot; i++) {
		l = &ub_ctl_locks[i];
		if (l->fd >= 0 && !ub_ctl_lock_sock_alive__(l))
			ub_ctl_lock_drop__(l);
		if (l->fd < 0)
			free_slot = l;
	}
	if (!free_slot) {
		*err = -EMFILE;
		return NULL;
	}
	/* A daemon that stops cleanly removes its lock file while holding
	 * it (ub_ctl_unlock): a lock won on a file no longer at the path is
	 * no lock, and the path's new file is tried. */
	for (int tries = 0;; tries++) {
		struct stat a, b;

		fd = open(lpath, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
			  0600);
		if (fd < 0) {
			*err = -errno;
			return NULL;
		}
		if (flock(fd, LOCK_EX | LOCK_NB)) {
			*err = errno == EWOULDBLOCK ? -EADDRINUSE : -errno;
			close(fd);
			return NULL;
		}
		if (!fstat(fd, &a) && !stat(lpath, &b) && a.st_dev == b.st_dev &&
		    a.st_ino == b.st_ino)
			break;
		close(fd);
		if (tries == 8) {
			*err = -EAGAIN;
			return NULL;
		}
	}
	snprintf(free_slot->path, sizeof(free_slot->path), "%s", lpath);
	free_slot->fd = fd;
	free_slot->sock = -1;
	return free_slot;
}

/*
 * Clears the way for bind(), the lock being ours: nothing there is fine;
 * a socket is stale (a daemon that died) and is removed. Anything that is
 * not a socket is left alone: we do not delete files we did not make.
 */
static int ub_ctl_remove_stale__(const char *path)
{
	struct stat st;

	if (lstat(path, &st))
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	if (unlink(path) && errno != ENOENT)
		return -errno;
	return 0;
}

int ub_ctl_listen(const char *path, uid_t owner, gid_t group)
{
	struct ub_ctl_lock *lock;
	struct sockaddr_un sun;
	mode_t old_umask;
	struct stat st;
	int fd, ret;

	ret = ub_ctl_sockaddr__(path, &sun);
	if (ret)
		return ret;
	ret = ub_ctl_mkparent__(path);
	if (ret)
		return ret;
	lock = ub_ctl_lock_take__(path, &ret);
	if (!lock)
		return ret;
	ret = ub_ctl_remove_stale__(path);
	if (ret)
		goto err_unlock;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ret = -errno;
		goto err_unlock;
	}
	/*
	 * The socket file takes its mode from the umask at bind() time, so
	 * narrow the umask around it: no window in which the socket is open
	 * to others. The chown() and chmod() afterwards set the owner and
	 * pin the mode whatever the umask was: the group gets in only once
	 * it is the right group. umask() is per process, and so is the
	 * table of locks: call this before starting threads.
	 */
	old_umask = umask(0177);
	ret = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	if (ret)
		ret = -errno;
	umask(old_umask);
	if (ret)
		goto err_close;
	if (((owner != (uid_t)-1 || group != (gid_t)-1) &&
	     chown(path, owner, group)) ||
	    chmod(path, group != (gid_t)-1 ? 0660 : 0600) ||
	    listen(fd, UB_CTL_LISTEN_BACKLOG) || fstat(fd, &st)) {
		ret = -errno;
		goto err_unlink;
	}
	lock->sock = fd;
	lock->dev = st.st_dev;
	lock->ino = st.st_ino;
	return fd;

err_unlink:
	unlink(path);
err_close:
	close(fd);
err_unlock:
	ub_ctl_lock_drop__(lock);
	return ret;
}

void ub_ctl_unlock(const char *path)
{
	char lpath[sizeof(ub_ctl_locks[0].path)];

	if (!ub_ctl_locks_init || ub_ctl_lock_path__(path, lpath, sizeof(lpath)))
		return;
	for (int i = 0; i < UB_CTL_LOCKS; i++) {
		struct ub_ctl_lock *l = &ub_ctl_locks[i];

		if (l->fd >= 0 && !strcmp(l->path, lpath)) {
			unlink(lpath);
			ub_ctl_lock_drop__(l);
		}
	}
}

int ub_ctl_req_encode(int argc, char *const argv[], char *buf, size_t len)
{
	size_t pos = 0;

	if (argc < 1)
		return -EINVAL;
	if (argc > UB_CTL_ARGS_MAX)
		return -E2BIG;
	for (int i = 0; i < argc; i++) {
		const char *w = argv[i];

		if (!w || !w[0])
			return -EINVAL;
		for (const char *p = w; *p; p++) {
			if (!ub_ctl_is_wordch__(*p))
				return -EINVAL;
		}
	}
	for (int i = 0; i < argc; i++) {
		size_t n = strlen(argv[i]);

		/* The word, then ' ' or '\n', then room for the final NUL. */
		if (n + 2 > len - pos || pos + n + 1 > UB_CTL_REQ_MAX)
			return -E2BIG;
		memcpy(buf + pos, argv[i], n);
		pos += n;
		buf[pos++] = i == argc - 1 ? '\n' : ' ';
	}
	buf[pos] = '\0';
	return (int)pos;
}

int ub_ctl_req_decode(char *buf, size_t len, char *argv[], int max)
{
	int argc = 1;

	if (len == 0 || buf[len - 1] != '\n')
		return -EINVAL;
	if (len > UB_CTL_REQ_MAX)
		return -E2BIG;
	/* Validate everything first, so a rejected line is left untouched. */
	for (size_t i = 0; i < len - 1; i++) {
		char c = buf[i];

		if (c == ' ') {
			if (i == 0 || buf[i - 1] == ' ' || i == len - 2)
				return -EINVAL;
			argc++;
		} else if (!ub_ctl_is_wordch__(c)) {
			return -EINVAL;
		}
	}
	if (len == 1)
		return -EINVAL;
	if (argc > max || argc > UB_CTL_ARGS_MAX)
		return -E2BIG;

	argc = 0;
	argv[argc++] = buf;
	for (size_t i = 0; i < len - 1; i++) {
		if (buf[i] == ' ') {
			buf[i] = '\0';
			argv[argc++] = buf + i + 1;
		}
	}
	buf[len - 1] = '\0';
	return argc;
}

void ub_ctl_reply_init(struct ub_ctl_reply *r)
{
	r->len = 0;
	r->oom = false;
	r->buf = malloc(UB_CTL_REPLY_INIT);
	r->cap = r->buf ? UB_CTL_REPLY_INIT : 0;
	if (!r->buf)
		r->oom = true;
	else
		r->buf[0] = '\0';
}

void ub_ctl_reply_free(struct ub_ctl_reply *r)
{
	if (!r)
		return;
	/* cap == 0 with a buffer: the static ENOMEM status, not ours. */
	if (r->cap)
		free(r->buf);
	r->buf = NULL;
	r->len = 0;
	r->cap = 0;
}

/* Makes room for 'need' more bytes plus a NUL. Returns false on OOM. */
static bool ub_ctl_reply_reserve__(struct ub_ctl_reply *r, size_t need)
{
	size_t cap = r->cap;
	char *buf;

	if (r->oom)
		return false;
	if (need < r->cap - r->len)
		return true;
	if (need > SIZE_MAX / 4 - r->len)
		goto oom;
	while (cap - r->len <= need)
		cap *= 2;
	buf = realloc(r->buf, cap);
	if (!buf)
		goto oom;
	r->buf = buf;
	r->cap = cap;
	return true;

oom:
	r->oom = true;
	return false;
}

/*
 * Appends vprintf(fmt, ap) and a '\n'. The formatted text must stay on one
 * line: any control character in it becomes '?', so a careless value can
 * make a record malformed but never forge a line (a status, say).
 */
static void ub_ctl_reply_vline__(struct ub_ctl_reply *r, const char *prefix,
				 const char *fmt, va_list ap)
{
	size_t plen = strlen(prefix), start;
	va_list ap2;
	int n;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0) {
		r->oom = true;
		return;
	}
	if (!ub_ctl_reply_reserve__(r, plen + (size_t)n + 1))
		return;
	memcpy(r->buf + r->len, prefix, plen);
	start = r->len + plen;
	vsnprintf(r->buf + start, (size_t)n + 1, fmt, ap);
	for (size_t i = start; i < start + (size_t)n; i++) {
		unsigned char c = (unsigned char)r->buf[i];

		if (c < 0x20 || c > 0x7e)
			r->buf[i] = '?';
	}
	r->len = start + (size_t)n;
	r->buf[r->len++] = '\n';
	r->buf[r->len] = '\0';
}

void ub_ctl_reply_record(struct ub_ctl_reply *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ub_ctl_reply_vline__(r, "", fmt, ap);
	va_end(ap);
}

/* Replaces whatever was built with the ENOMEM status. */
static void ub_ctl_reply_enomem__(struct ub_ctl_reply *r)
{
	if (r->buf && r->cap >= sizeof(ub_ctl_enomem_status)) {
		memcpy(r->buf, ub_ctl_enomem_status,
		       sizeof(ub_ctl_enomem_status));
	} else {
		/* Nothing could be allocated at all: point at the constant
		 * and mark it as not ours (cap 0) for ub_ctl_reply_free(). */
		if (r->cap)
			free(r->buf);
		r->buf = (char *)ub_ctl_enomem_status;
		r->cap = 0;
	}
	r->len = sizeof(ub_ctl_enomem_status) - 1;
}

static void ub_ctl_reply_line__(struct ub_ctl_reply *r, const char *prefix,
				const char *fmt, ...) UB_PRINTF(3, 4);

static void ub_ctl_reply_line__(struct ub_ctl_reply *r, const char *prefix,
				const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ub_ctl_reply_vline__(r, prefix, fmt, ap);
	va_end(ap);
}

void ub_ctl_reply_status(struct ub_ctl_reply *r, int err, const char *fmt, ...)
{
	char prefix[32];
	int n = err < 0 ? -err : err;
	va_list ap;

	/* A positive errno is a caller bug; its magnitude is still right. */
	if (n > UB_CTL_ERRNO_MAX)
		n = EINVAL;
	if (r->oom) {
		ub_ctl_reply_enomem__(r);
		return;
	}
	if (n == 0) {
		ub_ctl_reply_line__(r, "", "errno=0");
	} else if (!fmt || !fmt[0]) {
		/* No message given: the errno's own text beats none. */
		ub_ctl_reply_line__(r, "", "errno=%d %s", n, strerror(n));
	} else {
		snprintf(prefix, sizeof(prefix), "errno=%d ", n);
		va_start(ap, fmt);
		ub_ctl_reply_vline__(r, prefix, fmt, ap);
		va_end(ap);
	}
	if (r->oom)
		ub_ctl_reply_enomem__(r);
}

int ub_ctl_record_decode(char *line, struct ub_ctl_kv *kv, int max)
{
	char *p = line;
	int n = 0;

	if (!*p)
		return -EINVAL;
	for (;;) {
		char *key = p, *val;

		while (ub_ctl_is_keych__(*p))
			p++;
		if (p == key || *p != '=')
			return -EINVAL;
		*p++ = '\0';
		val = p;
		while (ub_ctl_is_wordch__(*p))
			p++;
		if (*p && *p != ' ')
			return -EINVAL;
		/* A space must separate two pairs: none trailing. */
		if (*p == ' ' && !p[1])
			return -EINVAL;
		if (n == 0 && strcmp(key, "errno") == 0)
			return -EINVAL;
		if (n >= max)
			return -E2BIG;
		kv[n].key = key;
		kv[n].val = val;
		n++;
		if (!*p)
			return n;
		*p++ = '\0';
	}
}

bool ub_ctl_status_decode(const char *line, int *err, const char **msg)
{
	static const char tag[] = "errno=";
	const char *p = line + sizeof(tag) - 1;
	int n = 0;

	if (strncmp(line, tag, sizeof(tag) - 1) != 0)
		return false;
	if (*p < '0' || *p > '9' || (p[0] == '0' && p[1] >= '0' && p[1] <= '9'))
		return false;
	for (; *p >= '0' && *p <= '9'; p++) {
		n = n * 10 + (*p - '0');
		if (n > UB_CTL_ERRNO_MAX)
			return false;
	}
	if (*p == ' ') {
		p++;
		for (const char *q = p; *q; q++) {
			if (*q < 0x20 || *q > 0x7e)
				return false;
		}
	} else if (*p) {
		return false;
	}
	*err = -n;
	*msg = p;
	return true;
}

/*
 * Writes all of buf, the descriptors fds[0..nfds) with its first bytes.
 * 'deadline' bounds the whole call: SO_SNDTIMEO is set by the connect,
 * and poll() covers the rest.
 */
static int ub_ctl_send_all__(int fd, const char *buf, size_t len,
			     const int *fds, unsigned int nfds,
			     int64_t deadline)
{
	/* CMSG_SPACE() of the most descriptors, in a constant clang accepts. */
	_Alignas(struct cmsghdr) char cm[sizeof(struct cmsghdr) +
					 sizeof(int) * UB_CTL_FDS_MAX +
					 sizeof(size_t)];
	struct iovec iov;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (nfds > UB_CTL_FDS_MAX)
		return -E2BIG;
	if (nfds) {
		struct cmsghdr *c = (struct cmsghdr *)cm;

		msg.msg_control = cm;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	while (len) {
		ssize_t n;

		iov.iov_base = (void *)buf;
		iov.iov_len = len;
		n = sendmsg(fd, &msg, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return -ETIMEDOUT;
			return -errno;
		}
		buf += n;
		len -= (size_t)n;
		/* The descriptors went with the first bytes. */
		msg.msg_control = NULL;
		msg.msg_controllen = 0;
		if (ub_ctl_now_ms__() > deadline)
			return -ETIMEDOUT;
	}
	return 0;
}

/*
 * Reads until end of file into a malloc'd NUL-terminated string. '*reset'
 * tells whether the end was a reset rather than a close.
 */
static int ub_ctl_recv_all__(int fd, int64_t deadline, char **out,
			     bool *reset)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap), *nbuf;
	int ret;

	*reset = false;
	if (!buf)
		return -ENOMEM;
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int64_t left = deadline - ub_ctl_now_ms__();
		ssize_t n;

		if (left <= 0) {
			ret = -ETIMEDOUT;
			goto err_free;
		}
		ret = poll(&pfd, 1, (int)left);
		if (ret < 0 && errno == EINTR)
			continue;
		if (ret < 0) {
			ret = -errno;
			goto err_free;
		}
		if (ret == 0) {
			ret = -ETIMEDOUT;
			goto err_free;
		}
		if (cap - len < 2) {
			if (cap >= UB_CTL_REPLY_MAX + 1) {
				ret = -EMSGSIZE;
				goto err_free;
			}
			cap = cap * 2 > UB_CTL_REPLY_MAX + 1 ?
				      UB_CTL_REPLY_MAX + 1 : cap * 2;
			nbuf = realloc(buf, cap);
			if (!nbuf) {
				ret = -ENOMEM;
				goto err_free;
			}
			buf = nbuf;
		}
		n = recv(fd, buf + len, cap - len - 1, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			/*
			 * A peer that closes without having read all we sent
			 * resets the connection after its data. The reply
			 * must end in a status line, so the caller still
			 * sees whether it is complete: treat this as EOF.
			 */
			if (errno == ECONNRESET) {
				*reset = true;
				break;
			}
			ret = -errno;
			goto err_free;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > UB_CTL_REPLY_MAX) {
			ret = -EMSGSIZE;
			goto err_free;
		}
	}
	buf[len] = '\0';
	/* The reply is text: a NUL inside would silently cut it short. */
	if (memchr(buf, '\0', len)) {
		ret = -EPROTO;
		goto err_free;
	}
	*out = buf;
	return 0;

err_free:
	free(buf);
	return ret;
}

/*
 * Connects to bridge 'bridge' and sends the request: returns the fd. A
 * daemon that had no room for us may have answered and closed before the
 * request went out: then '*unsent' is set and the fd is still returned,
 * for its answer to be read.
 */
static int ub_ctl_request__(const char *bridge, int argc, char *const argv[],
			    const int *fds, unsigned int nfds,
			    int64_t deadline, bool *unsent)
{
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char req[UB_CTL_REQ_MAX + 1];
	int fd, len, ret;

	ret = ub_ctl_sock_path(bridge, path, sizeof(path));
	if (ret)
		return ret;
	len = ub_ctl_req_encode(argc, argv, req, sizeof(req));
	if (len < 0)
		return len;
	fd = ub_ctl_connect__(path, UB_CTL_TIMEOUT_MS);
	if (fd < 0)
		return fd;
	ret = ub_ctl_send_all__(fd, req, (size_t)len, fds, nfds, deadline);
	*unsent = ret == -EPIPE || ret == -ECONNRESET;
	if (ret && !*unsent) {
		close(fd);
		return ret;
	}
	return fd;
}

/* The refusal of a daemon with no room for the connection (ctl.h). */
static bool ub_ctl_status_busy__(const char *line)
{
	static const char busy[] = "bridge busy";
	const char *msg;
	int err;

	return ub_ctl_status_decode(line, &err, &msg) && err == -EBUSY &&
	       strncmp(msg, busy, sizeof(busy) - 1) == 0;
}

/*
 * Whether a whole reply says the daemon had no room for us: its refusal
 * alone, or nothing at all on a connection that was reset or would not
 * take the request (a daemon that closes without reading, as older ones
 * did when full).
 */
static bool ub_ctl_reply_busy__(char *reply, bool lost)
{
	size_t len = strlen(reply);
	bool busy;

	if (!len)
		return lost;
	if (reply[len - 1] != '\n' || memchr(reply, '\n', len - 1))
		return false;
	reply[len - 1] = '\0';
	busy = ub_ctl_status_busy__(reply);
	reply[len - 1] = '\n';
	return busy;
}

int ub_ctl_call(const char *bridge, int argc, char *const argv[],
		const int *fds, unsigned int nfds, char **reply)
{
	int64_t deadline = ub_ctl_now_ms__() + UB_CTL_TIMEOUT_MS;
	bool unsent, reset = false;
	int fd, ret;

	*reply = NULL;
	fd = ub_ctl_request__(bridge, argc, argv, fds, nfds, deadline, &unsent);
	if (fd < 0)
		return fd;
	/* Half-close: the request is complete. (A stream's client keeps its
	 * side open: the daemon takes a hang-up as the reader leaving.) */
	ret = !unsent && shutdown(fd, SHUT_WR) ?
		      -errno :
		      ub_ctl_recv_all__(fd, deadline, reply, &reset);
	close(fd);
	if (!ret && ub_ctl_reply_busy__(*reply, unsent || reset)) {
		free(*reply);
		*reply = NULL;
		ret = -EBUSY;
	}
	return ret;
}

/* A receive timeout on 'fd'; 0 removes it. */
static int ub_ctl_rcvtimeo__(int fd, int timeout_ms)
{
	struct timeval tv = {
		.tv_sec = timeout_ms / 1000,
		.tv_usec = (timeout_ms % 1000) * 1000,
	};

	return setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ?
		       -errno : 0;
}

int ub_ctl_call_stream(const char *bridge, int argc, char *const argv[],
		       int *fd_out, int *err, char *msg, size_t msglen)
{
	char line[UB_CTL_REQ_MAX];
	const char *m;
	size_t n = 0;
	bool unsent;
	int fd, ret;

	fd = ub_ctl_request__(bridge, argc, argv, NULL, 0,
			      ub_ctl_now_ms__() + UB_CTL_TIMEOUT_MS, &unsent);
	if (fd < 0)
		return fd;
	/* The status line comes at once; the stream may then pause. */
	ret = ub_ctl_rcvtimeo__(fd, UB_CTL_TIMEOUT_MS);
	if (ret)
		goto err;
	/* Byte by byte up to the status line's end: what follows is the
	 * stream, and none of it may be swallowed here. */
	for (;;) {
		ssize_t r = read(fd, &line[n], 1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			ret = r == 0 ? -EPROTO : errno == EAGAIN ? -ETIMEDOUT :
							     -errno;
			/* Nothing at all, the request refused or reset: the
			 * daemon had no room (see ub_ctl_reply_busy__). */
			if (!n && ((r == 0 && unsent) || ret == -ECONNRESET ||
				   ret == -EPIPE))
				ret = -EBUSY;
			goto err;
		}
		if (line[n] == '\n')
			break;
		if (++n == sizeof(line)) {
			ret = -EPROTO;
			goto err;
		}
	}
	line[n] = '\0';
	if (ub_ctl_status_busy__(line)) {
		ret = -EBUSY;
		goto err;
	}
	if (!ub_ctl_status_decode(line, err, &m)) {
		ret = -EPROTO;
		goto err;
	}
	ret = ub_ctl_rcvtimeo__(fd, 0);
	if (ret)
		goto err;
	snprintf(msg, msglen, "%s", m);
	*fd_out = fd;
	return 0;
err:
	close(fd);
	return ret;
}

int ub_ctl_word_encode(const char *in, char *out, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;

	for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
		bool plain = *p > 0x20 && *p < 0x7f && *p != '%';

		if (n + (plain ? 1 : 3) >= len)
			return -E2BIG;
		if (plain) {
			out[n++] = (char)*p;
		} else {
			out[n++] = '%';
			out[n++] = hex[*p >> 4];
			out[n++] = hex[*p & 0xf];
		}
	}
	if (n >= len)
		return -E2BIG;
	out[n] = '\0';
	return (int)n;
}

int ub_ctl_word_decode(char *s)
{
	char *w = s;

	for (const char *r = s; *r; r++) {
		int hi, lo;

		if (*r != '%') {
			*w++ = *r;
			continue;
		}
		hi = ub_hex_digit(r[1]);
		lo = hi < 0 ? -1 : ub_hex_digit(r[2]);
		if (lo < 0 || (hi | lo) == 0)
			return -EINVAL;
		*w++ = (char)(hi << 4 | lo);
		r += 2;
	}
	*w = '\0';
	return 0;
}
