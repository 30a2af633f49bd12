/* SPDX-License-Identifier: MIT */
/*
 * The control-socket protocol, shared by the daemon and ubctl.
 *
 * Transport: a Unix stream socket at /run/ubridge/<bridge>.sock, mode 0600.
 * One request per connection: the client connects, writes one request
 * line, reads the reply until end of file.
 *
 * Request: the command's words separated by single spaces, ending in '\n',
 * at most UB_CTL_REQ_MAX bytes and UB_CTL_ARGS_MAX words. A word is one or
 * more printable ASCII characters other than space (e.g. "fdb add
 * 02:00:00:00:00:01 dev veth0\n").
 *
 * Reply: zero or more record lines, then exactly one status line.
 *   record: "key=value key=value ...\n"; keys are [a-z0-9_]+, values are
 *           printable ASCII without spaces; the first key is never "errno".
 *   status: "errno=N\n" on success (N = 0) or "errno=N message\n", where N
 *           is a positive errno value and message a one-line explanation.
 *
 * Limits: the request line must arrive within a second of the connection,
 * or the daemon closes it (after an ETIMEDOUT status if part of a line
 * came); a line cut short by the client's end of file is answered with
 * EINVAL.
 * A daemon with no room for a connection (too many at once, or too many of
 * the client's uid) answers it at once, without reading the request, with
 * the single status line "errno=16 bridge busy..." (EBUSY) and closes it.
 *
 * Functions return 0 (or a count) on success and -errno on failure.
 */
#ifndef UBRIDGE_CTL_H
#define UBRIDGE_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <ubridge/compiler.h>

#define UB_CTL_RUNDIR "/run/ubridge"
#define UB_CTL_REQ_MAX 4096
#define UB_CTL_ARGS_MAX 32
#define UB_BRIDGE_DEFAULT "ub0"
/* Same limit as an interface name, so a bridge name can become one. */
#define UB_BRIDGE_NAME_MAX 15

/*
 * Checks a bridge name (1 to UB_BRIDGE_NAME_MAX characters of [A-Za-z0-9_.-],
 * not starting with '.' or '-') and writes its socket path into 'buf'.
 * Returns 0, -EINVAL or -ENAMETOOLONG.
 */
int ub_ctl_sock_path(const char *bridge, char *buf, size_t len);

/*
 * Daemon side: creates the directory holding 'path' if needed (mode 0755,
 * one level: UB_CTL_RUNDIR for a real bridge), takes the bridge's lock,
 * binds 'path' with mode 0600 whatever the umask, and listens. 'owner' and
 * 'group' (-1: the caller's) become the socket's; with a group the mode is
 * 0660, so that the group's members may connect.
 *
 * The lock decides whether a daemon runs: a file beside the socket
 * ("NAME.lock" for "NAME.sock", else 'path' plus ".lock"; mode 0600),
 * flock()ed for as long as the returned socket is open, and
 * released by the kernel when the process ends, however it ends. While
 * another process (or a socket this process still has open) holds it:
 * -EADDRINUSE. Once it is free, a socket left at 'path' is stale, even one
 * that still answers (a killed daemon's, while the kernel tears it down),
 * and is replaced; a file that is not a socket is left alone and gives
 * -EEXIST. Call it before starting threads (it changes the umask and keeps
 * the lock in a table of the process's). Returns the listening fd
 * (SOCK_STREAM, SOCK_CLOEXEC) or -errno.
 */
int ub_ctl_listen(const char *path, uid_t owner, gid_t group);

/* Daemon side, at a clean stop, once the socket of 'path' is closed:
 * removes its lock file and lets the lock go. */
void ub_ctl_unlock(const char *path);

/* Client side: connects to 'path'. Returns an fd or -errno (-ENOENT or
 * -ECONNREFUSED when no daemon runs). */
int ub_ctl_connect(const char *path);

/*
 * Encodes argv as one request line (with its '\n', NUL-terminated) into
 * 'buf'. Returns the line's length, -EINVAL for an empty word or one with
 * a space or a non-printable character, -E2BIG when it does not fit or has
 * more than UB_CTL_ARGS_MAX words.
 */
int ub_ctl_req_encode(int argc, char *const argv[], char *buf, size_t len);

/*
 * Decodes the request line in buf[0..len) in place: the line must end in
 * '\n' and follow the grammar above. Fills argv (NUL-terminated words
 * inside 'buf') and returns argc (>= 1), -EINVAL or -E2BIG.
 */
int ub_ctl_req_decode(char *buf, size_t len, char *argv[], int max);

/*
 * A value that may hold any byte (a file name, a filter expression with
 * spaces) travels as one word, percent-encoded: bytes outside 0x21-0x7e
 * and '%' itself become "%XX". Encode returns the length or -E2BIG;
 * decode works in place and returns 0 or -EINVAL (bad or "%00" escape).
 */
int ub_ctl_word_encode(const char *in, char *out, size_t len);
int ub_ctl_word_decode(char *s);

/* A growing reply buffer. Allocation failure is sticky: 'oom' is set and
 * the reply is replaced by an ENOMEM status when it is finished. */
struct ub_ctl_reply {
	char *buf;
	size_t len;
	size_t cap;
	bool oom;
};

void ub_ctl_reply_init(struct ub_ctl_reply *r);
void ub_ctl_reply_free(struct ub_ctl_reply *r);

/* Appends one record line; 'fmt' yields the "key=value ..." pairs, the
 * function adds the '\n'. Control characters in the result become '?', so
 * no value can break the framing. */
void ub_ctl_reply_record(struct ub_ctl_reply *r, const char *fmt, ...)
	UB_PRINTF(2, 3);

/*
 * Appends the status line. 'err' is 0 or -errno; 'fmt' gives the message,
 * ignored when err is 0; NULL (or "") stands for strerror(-err). Control
 * characters in the message become '?'. Call once, last.
 */
void ub_ctl_reply_status(struct ub_ctl_reply *r, int err, const char *fmt, ...)
	UB_PRINTF(3, 4);

struct ub_ctl_kv {
	const char *key;
	const char *val;
};

/*
 * Splits one record line (without its '\n', NUL-terminated) in place into
 * key/value pairs. A value may be empty and may contain '='. Returns the
 * count, -EINVAL on a malformed line (an empty line, a bad pair, a first
 * key "errno") or -E2BIG when there are more than 'max'.
 */
int ub_ctl_record_decode(char *line, struct ub_ctl_kv *kv, int max);

/*
 * If 'line' (without '\n') is a status line, returns true with '*err' set
 * to 0 or -errno and '*msg' to the message ("" when none), which points
 * into 'line'. N must be plain decimal, at most 4095; the message must be
 * printable ASCII.
 */
bool ub_ctl_status_decode(const char *line, int *err, const char **msg);

/* Descriptors a request may carry (SCM_RIGHTS, with its first bytes). */
#define UB_CTL_FDS_MAX 64

/*
 * Client side, all in one: connects to bridge 'bridge', sends argv (and
 * the descriptors fds[0..nfds), which stay the caller's), reads
 * the whole reply into a malloc'd NUL-terminated string '*reply' (NULL on
 * failure). Returns 0 or -errno for a transport failure: those of
 * ub_ctl_sock_path(), ub_ctl_req_encode() and ub_ctl_connect(),
 * -ETIMEDOUT after 10 s in all, -EMSGSIZE for a reply of 64 MiB or more,
 * -EPROTO for a reply with a NUL in it, -EBUSY when the daemon had no room
 * for the connection (its "bridge busy" refusal, or a connection reset or
 * closed before the request was taken, with no reply). The reply's own
 * grammar is left to the caller; its status line carries the command's
 * result.
 */
int ub_ctl_call(const char *bridge, int argc, char *const argv[],
		const int *fds, unsigned int nfds, char **reply);

/*
 * Client side, for a command whose answer is a stream (capture watch):
 * sends argv and reads the status line into '*err' (0 or -errno) and 'msg'.
 * On success the stream follows on '*fd', which the caller closes.
 * Returns 0 or -errno for a transport failure (-EPROTO: no status line;
 * -EBUSY as for ub_ctl_call()).
 */
int ub_ctl_call_stream(const char *bridge, int argc, char *const argv[],
		       int *fd, int *err, char *msg, size_t msglen);

#endif
