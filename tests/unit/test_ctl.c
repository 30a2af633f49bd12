/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the control protocol (control/ctl.c): socket paths, the
 * request codec, the reply builder and decoders, and the sockets end to
 * end. The socket tests run in a private temporary directory; the one
 * test of call() against a served socket needs /run/ubridge to be
 * writable (root) and is skipped otherwise.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <ubridge/ctl.h>

/*
 * The API takes argv the way main() and execv() have it (char *const[]);
 * the tests pass string literals, which -Wwrite-strings makes const.
 */
static int encode(int argc, const char *const words[], char *buf, size_t len)
{
	return ub_ctl_req_encode(argc, (char *const *)words, buf, len);
}

static int call(const char *bridge, int argc, const char *const words[],
		char **reply)
{
	return ub_ctl_call(bridge, argc, (char *const *)words, NULL, 0, reply);
}

/* ---- socket paths ---- */

static void test_sock_path_good(void **state)
{
	static const char *const good[] = {
		"ub0", "a", "br-lan", "x.y_z", "A9", "_", "123456789012345",
	};
	char buf[64], want[64];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(ub_ctl_sock_path(good[i], buf, sizeof(buf)),
				 0);
		snprintf(want, sizeof(want), "/run/ubridge/%s.sock", good[i]);
		assert_string_equal(buf, want);
	}
}

#define UB0_PATH "/run/ubridge/ub0.sock"

static void test_sock_path_bad(void **state)
{
	static const char *const bad[] = {
		"", ".", ".hidden", "-x", "a/b", "../x", "a b", "a\tb",
		"br:0", "\xc3\xa9t\xc3\xa9", "a*", "a\n",
	};
	char buf[64];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(ub_ctl_sock_path(bad[i], buf, sizeof(buf)),
				 -EINVAL);
	assert_int_equal(ub_ctl_sock_path(NULL, buf, sizeof(buf)), -EINVAL);
	/* 16 characters: one past an interface name. */
	assert_int_equal(ub_ctl_sock_path("1234567890123456", buf, sizeof(buf)),
			 -ENAMETOOLONG);
	assert_int_equal(ub_ctl_sock_path("a-very-long-bridge-name", buf,
					  sizeof(buf)),
			 -ENAMETOOLONG);
	/* A good name, but the caller's buffer is too small. */
	assert_int_equal(ub_ctl_sock_path("ub0", buf, 10), -ENAMETOOLONG);
	assert_int_equal(ub_ctl_sock_path("ub0", buf, sizeof(UB0_PATH) - 1),
			 -ENAMETOOLONG);
	assert_int_equal(ub_ctl_sock_path("ub0", buf, sizeof(UB0_PATH)), 0);
	assert_string_equal(buf, UB0_PATH);
}

/* ---- requests ---- */

static void test_req_roundtrip(void **state)
{
	const char *const words[] = { "fdb", "add", "02:00:00:00:00:01",
				      "dev", "veth0", "vlan", "10" };
	const int n = (int)(sizeof(words) / sizeof(words[0]));
	char buf[UB_CTL_REQ_MAX + 1];
	char *argv[UB_CTL_ARGS_MAX];
	int len;

	len = encode(n, words, buf, sizeof(buf));
	assert_string_equal(buf,
			    "fdb add 02:00:00:00:00:01 dev veth0 vlan 10\n");
	assert_int_equal(len, (int)strlen(buf));

	assert_int_equal(ub_ctl_req_decode(buf, (size_t)len, argv,
					   UB_CTL_ARGS_MAX),
			 n);
	for (int i = 0; i < n; i++)
		assert_string_equal(argv[i], words[i]);
	/* The words live inside buf. */
	assert_ptr_equal(argv[0], buf);

	/* One word, and every printable character. */
	char one[0x7f - 0x21 + 1];
	const char *w1[] = { one };

	for (int c = 0x21; c < 0x7f; c++)
		one[c - 0x21] = (char)c;
	one[sizeof(one) - 1] = '\0';
	len = encode(1, w1, buf, sizeof(buf));
	assert_int_equal(len, (int)sizeof(one));
	assert_int_equal(ub_ctl_req_decode(buf, (size_t)len, argv, 1), 1);
	assert_string_equal(argv[0], one);
}

/* The limits themselves are accepted: UB_CTL_ARGS_MAX words, a line of
 * exactly UB_CTL_REQ_MAX bytes. */
static void test_req_limits(void **state)
{
	const char *words[UB_CTL_ARGS_MAX + 1];
	char *argv[UB_CTL_ARGS_MAX + 1];
	char buf[UB_CTL_REQ_MAX + 2];
	static char big[UB_CTL_REQ_MAX + 1];
	int len;

	for (int i = 0; i <= UB_CTL_ARGS_MAX; i++)
		words[i] = "w";
	len = encode(UB_CTL_ARGS_MAX, words, buf, sizeof(buf));
	assert_int_equal(len, 2 * UB_CTL_ARGS_MAX);
	assert_int_equal(ub_ctl_req_decode(buf, (size_t)len, argv,
					   UB_CTL_ARGS_MAX + 1),
			 UB_CTL_ARGS_MAX);

	/* A single word that makes the line exactly UB_CTL_REQ_MAX long. */
	memset(big, 'x', UB_CTL_REQ_MAX - 1);
	big[UB_CTL_REQ_MAX - 1] = '\0';
	words[0] = big;
	len = encode(1, words, buf, sizeof(buf));
	assert_int_equal(len, UB_CTL_REQ_MAX);
	assert_int_equal(ub_ctl_req_decode(buf, (size_t)len, argv, 1), 1);
	assert_int_equal(strlen(argv[0]), UB_CTL_REQ_MAX - 1);

	/* One byte more is too long, for both directions. */
	memset(big, 'x', UB_CTL_REQ_MAX);
	big[UB_CTL_REQ_MAX] = '\0';
	assert_int_equal(encode(1, words, buf, sizeof(buf)), -E2BIG);
	memset(buf, 'x', UB_CTL_REQ_MAX);
	buf[UB_CTL_REQ_MAX] = '\n';
	assert_int_equal(ub_ctl_req_decode(buf, UB_CTL_REQ_MAX + 1, argv, 1),
			 -E2BIG);
}

static void test_req_encode_rejects(void **state)
{
	char buf[UB_CTL_REQ_MAX + 1];
	const char *words[UB_CTL_ARGS_MAX + 1];
	static const char *const bad[] = {
		"", "a b", " a", "a ", "a\tb", "a\nb", "a\rb", "\x7f", "\x01",
		"caf\xc3\xa9",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *argv[] = { "port", "add", bad[i] };

		assert_int_equal(encode(3, argv, buf, sizeof(buf)),
				 -EINVAL);
	}
	const char *nullw[] = { "port", NULL };

	assert_int_equal(encode(2, nullw, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(encode(0, nullw, buf, sizeof(buf)), -EINVAL);

	for (int i = 0; i <= UB_CTL_ARGS_MAX; i++)
		words[i] = "w";
	assert_int_equal(encode(UB_CTL_ARGS_MAX + 1, words, buf,
					   sizeof(buf)),
			 -E2BIG);

	/* The caller's buffer: "port show\n" needs 11 bytes with the NUL. */
	const char *ps[] = { "port", "show" };

	assert_int_equal(encode(2, ps, buf, 10), -E2BIG);
	assert_int_equal(encode(2, ps, buf, 11), 10);
	assert_string_equal(buf, "port show\n");
}

struct bad_req {
	const char *line;
	size_t len;
	int max;
	int err;
};

#define BAD(s, e) { s, sizeof(s) - 1, UB_CTL_ARGS_MAX, e }

static void test_req_decode_rejects(void **state)
{
	static const struct bad_req bad[] = {
		BAD("port show", -EINVAL),	/* no newline */
		BAD("", -EINVAL),		/* nothing at all */
		BAD("\n", -EINVAL),		/* empty line */
		BAD(" \n", -EINVAL),		/* only a space */
		BAD("port\0show\n", -EINVAL),	/* embedded NUL */
		BAD("port show\0\n", -EINVAL),
		BAD("port\tshow\n", -EINVAL),	/* control characters */
		BAD("port\x01show\n", -EINVAL),
		BAD("port show\r\n", -EINVAL),
		BAD("port\x7f\n", -EINVAL),
		BAD("port \xc3\xa9\n", -EINVAL),	/* not ASCII */
		BAD("port  show\n", -EINVAL),	/* empty word */
		BAD(" port show\n", -EINVAL),	/* leading space */
		BAD("port show \n", -EINVAL),	/* trailing space */
		BAD("port\nshow\n", -EINVAL),	/* two lines */
		BAD("port show\n\n", -EINVAL),
		{ "a b c\n", 6, 2, -E2BIG },	/* more words than 'max' */
		{ "a b c\n", 6, 0, -E2BIG },
	};
	char buf[64], copy[64];
	char *argv[UB_CTL_ARGS_MAX];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memcpy(buf, bad[i].line, bad[i].len);
		memcpy(copy, bad[i].line, bad[i].len);
		assert_int_equal(ub_ctl_req_decode(buf, bad[i].len, argv,
						   bad[i].max),
				 bad[i].err);
		/* A rejected line is left as it was. */
		assert_memory_equal(buf, copy, bad[i].len);
	}
}

static void test_req_decode_too_many_words(void **state)
{
	char buf[2 * (UB_CTL_ARGS_MAX + 1) + 1];
	char *argv[UB_CTL_ARGS_MAX + 8];
	size_t len = 0;

	for (int i = 0; i <= UB_CTL_ARGS_MAX; i++) {
		buf[len++] = 'w';
		buf[len++] = ' ';
	}
	buf[len - 1] = '\n';
	/* Even a generous 'max' does not lift the protocol's limit. */
	assert_int_equal(ub_ctl_req_decode(buf, len, argv, UB_CTL_ARGS_MAX + 8),
			 -E2BIG);
	assert_int_equal(ub_ctl_req_decode(buf, len, argv, UB_CTL_ARGS_MAX),
			 -E2BIG);
}

/* ---- replies ---- */

static void test_reply_records(void **state)
{
	struct ub_ctl_reply r;

	ub_ctl_reply_init(&r);
	assert_false(r.oom);
	assert_int_equal(r.len, 0);
	ub_ctl_reply_record(&r, "name=%s ifindex=%d", "veth0", 7);
	ub_ctl_reply_record(&r, "name=%s ifindex=%u", "veth1", 8u);
	ub_ctl_reply_status(&r, 0, NULL);
	assert_string_equal(r.buf, "name=veth0 ifindex=7\n"
				   "name=veth1 ifindex=8\n"
				   "errno=0\n");
	assert_int_equal(r.len, strlen(r.buf));
	ub_ctl_reply_free(&r);
	assert_null(r.buf);
	/* Freeing twice, or a NULL reply, is harmless. */
	ub_ctl_reply_free(&r);
	ub_ctl_reply_free(NULL);
}

static void test_reply_status(void **state)
{
	struct ub_ctl_reply r;

	/* Success ignores a message: the grammar has none for errno=0. */
	ub_ctl_reply_init(&r);
	ub_ctl_reply_status(&r, 0, "all %s", "good");
	assert_string_equal(r.buf, "errno=0\n");
	ub_ctl_reply_free(&r);

	/* -errno in, the positive value on the wire, message after a space. */
	ub_ctl_reply_init(&r);
	ub_ctl_reply_status(&r, -ENOENT, "no port %s", "veth9");
	assert_string_equal(r.buf, "errno=2 no port veth9\n");
	ub_ctl_reply_free(&r);

	/* Records then an error: the status stays last. */
	ub_ctl_reply_init(&r);
	ub_ctl_reply_record(&r, "a=1");
	ub_ctl_reply_status(&r, -EBUSY, "in use");
	assert_string_equal(r.buf, "a=1\nerrno=16 in use\n");
	ub_ctl_reply_free(&r);

	/* A positive errno (a caller bug) still gives the right number. */
	ub_ctl_reply_init(&r);
	ub_ctl_reply_status(&r, EEXIST, "exists");
	assert_string_equal(r.buf, "errno=17 exists\n");
	ub_ctl_reply_free(&r);

	/* No message: the errno's text stands in. */
	ub_ctl_reply_init(&r);
	ub_ctl_reply_status(&r, -EINVAL, NULL);
	assert_int_equal(strncmp(r.buf, "errno=22 ", 9), 0);
	assert_true(r.len > 10);
	assert_int_equal(r.buf[r.len - 1], '\n');
	assert_null(memchr(r.buf, '\n', r.len - 1));
	ub_ctl_reply_free(&r);
}

/* Whatever the daemon formats, one call is one line. */
static void test_reply_keeps_framing(void **state)
{
	struct ub_ctl_reply r;
	int err;
	const char *msg;
	char *nl;

	ub_ctl_reply_init(&r);
	ub_ctl_reply_record(&r, "name=%s", "evil\nerrno=0");
	ub_ctl_reply_status(&r, -EIO, "line one\nline\ttwo\r");
	assert_string_equal(r.buf, "name=evil?errno=0\n"
				   "errno=5 line one?line?two?\n");
	nl = strchr(r.buf, '\n');
	*nl = '\0';
	assert_false(ub_ctl_status_decode(r.buf, &err, &msg));
	ub_ctl_reply_free(&r);
}

static void test_reply_growth(void **state)
{
	enum { N = 20000 };
	struct ub_ctl_reply r;
	size_t cap0;
	char want[64], *p;

	ub_ctl_reply_init(&r);
	cap0 = r.cap;
	for (int i = 0; i < N; i++)
		ub_ctl_reply_record(&r, "mac=02:00:00:00:%02x:%02x vlan=%d",
				    (i >> 8) & 0xff, i & 0xff, i % 4095);
	ub_ctl_reply_status(&r, 0, NULL);
	assert_false(r.oom);
	assert_true(r.cap > cap0);
	assert_true(r.len < r.cap);
	assert_int_equal(r.len, strlen(r.buf));

	p = r.buf;
	for (int i = 0; i < N; i++) {
		size_t n;

		n = (size_t)snprintf(want, sizeof(want),
				     "mac=02:00:00:00:%02x:%02x vlan=%d\n",
				     (i >> 8) & 0xff, i & 0xff, i % 4095);

		assert_memory_equal(p, want, n);
		p += n;
	}
	assert_string_equal(p, "errno=0\n");
	ub_ctl_reply_free(&r);
}

/* An allocation failure anywhere turns the whole reply into ENOMEM. */
static void test_reply_oom(void **state)
{
	struct ub_ctl_reply r;

	ub_ctl_reply_init(&r);
	ub_ctl_reply_record(&r, "a=1");
	r.oom = true; /* as if a later record could not grow the buffer */
	ub_ctl_reply_record(&r, "b=2");
	ub_ctl_reply_status(&r, 0, NULL);
	assert_string_equal(r.buf, "errno=12 out of memory\n");
	assert_int_equal(r.len, strlen(r.buf));
	ub_ctl_reply_free(&r);

	/* Not even the initial buffer could be allocated. */
	ub_ctl_reply_init(&r);
	free(r.buf);
	r.buf = NULL;
	r.cap = 0;
	r.oom = true;
	ub_ctl_reply_record(&r, "a=1");
	ub_ctl_reply_status(&r, -ENOENT, "ignored");
	assert_non_null(r.buf);
	assert_string_equal(r.buf, "errno=12 out of memory\n");
	ub_ctl_reply_free(&r); /* must not free the constant */
	assert_null(r.buf);
}

/* ---- record and status decoding ---- */

static void test_record_decode(void **state)
{
	char line[] = "name=veth0 ifindex=7 state=forwarding x=a=b e=";
	struct ub_ctl_kv kv[8];

	assert_int_equal(ub_ctl_record_decode(line, kv, 8), 5);
	assert_string_equal(kv[0].key, "name");
	assert_string_equal(kv[0].val, "veth0");
	assert_string_equal(kv[1].key, "ifindex");
	assert_string_equal(kv[1].val, "7");
	assert_string_equal(kv[2].key, "state");
	assert_string_equal(kv[2].val, "forwarding");
	/* The first '=' splits: values may contain '='. */
	assert_string_equal(kv[3].key, "x");
	assert_string_equal(kv[3].val, "a=b");
	assert_string_equal(kv[4].key, "e");
	assert_string_equal(kv[4].val, "");

	char one[] = "rx_drop_runt=0";

	assert_int_equal(ub_ctl_record_decode(one, kv, 1), 1);
	assert_string_equal(kv[0].key, "rx_drop_runt");
	assert_string_equal(kv[0].val, "0");
}

static void test_record_decode_rejects(void **state)
{
	static const char *const bad[] = {
		"",		/* no pair */
		"name",		/* no '=' */
		"name=x ifindex",
		"=x",		/* empty key */
		"a=1 =2",
		"Name=x",	/* keys are [a-z0-9_]+ */
		"na-me=x",
		"a=1  b=2",	/* empty pair */
		" a=1",
		"a=1 ",
		"a=\x01",	/* value not printable */
		"a=\t",
		"a=caf\xc3\xa9",
		"errno=0",	/* a status is not a record */
		"errno=2 msg",
	};
	struct ub_ctl_kv kv[8];
	char line[64];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(line, sizeof(line), "%s", bad[i]);
		assert_int_equal(ub_ctl_record_decode(line, kv, 8), -EINVAL);
	}
	/* "errno" is only forbidden as the first key. */
	snprintf(line, sizeof(line), "a=1 errno=2");
	assert_int_equal(ub_ctl_record_decode(line, kv, 8), 2);

	snprintf(line, sizeof(line), "a=1 b=2 c=3");
	assert_int_equal(ub_ctl_record_decode(line, kv, 2), -E2BIG);
	snprintf(line, sizeof(line), "a=1 b=2 c=3");
	assert_int_equal(ub_ctl_record_decode(line, kv, 3), 3);
}

static void test_status_decode(void **state)
{
	const char *msg = NULL;
	int err = 1;

	assert_true(ub_ctl_status_decode("errno=0", &err, &msg));
	assert_int_equal(err, 0);
	assert_string_equal(msg, "");

	assert_true(ub_ctl_status_decode("errno=2 no such port: veth9", &err,
					 &msg));
	assert_int_equal(err, -ENOENT);
	assert_string_equal(msg, "no such port: veth9");

	assert_true(ub_ctl_status_decode("errno=22", &err, &msg));
	assert_int_equal(err, -EINVAL);
	assert_string_equal(msg, "");

	assert_true(ub_ctl_status_decode("errno=4095 x", &err, &msg));
	assert_int_equal(err, -4095);
}

static void test_status_decode_rejects(void **state)
{
	static const char *const bad[] = {
		"name=veth0 ifindex=7",	/* a record */
		"errnox=0",
		"errno",
		"errno=",
		"errno= 0",
		"errno=x",
		"errno=-2 negative",
		"errno=+2",
		"errno=02",		/* no leading zeros */
		"errno=2x",
		"errno=2\tmsg",
		"errno=4096",		/* beyond any errno */
		"errno=99999999999999999999",
		"errno=5 bad\x01message",
		" errno=0",
		"",
	};
	const char *msg;
	int err;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(ub_ctl_status_decode(bad[i], &err, &msg));
}

/* What the builder writes, the decoders read back. */
static void test_reply_decode_roundtrip(void **state)
{
	struct ub_ctl_reply r;
	struct ub_ctl_kv kv[8];
	char *line, *save = NULL;
	int records = 0, err = 1;
	const char *msg = NULL;

	ub_ctl_reply_init(&r);
	ub_ctl_reply_record(&r, "mac=%s vlan=%d port=%s type=learned age=%d",
			    "02:00:00:00:00:01", 0, "veth0", 12);
	ub_ctl_reply_record(&r, "mac=%s vlan=%d port=%s type=static",
			    "02:00:00:00:00:02", 5, "veth1");
	ub_ctl_reply_status(&r, -EAGAIN, "try %s", "again later");

	for (line = strtok_r(r.buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (ub_ctl_status_decode(line, &err, &msg))
			break;
		assert_true(ub_ctl_record_decode(line, kv, 8) > 0);
		records++;
	}
	assert_int_equal(records, 2);
	assert_int_equal(err, -EAGAIN);
	assert_string_equal(msg, "try again later");
	ub_ctl_reply_free(&r);
}

/* ---- sockets ---- */

struct tmp {
	char dir[64];
	char path[128];
};

static int tmp_setup(void **state)
{
	struct tmp *t = calloc(1, sizeof(*t));

	if (!t)
		return -1;
	snprintf(t->dir, sizeof(t->dir), "/tmp/ub-test-ctl.XXXXXX");
	if (!mkdtemp(t->dir)) {
		free(t);
		return -1;
	}
	/* One level below the temporary directory: listen makes it. */
	snprintf(t->path, sizeof(t->path), "%s/run/t.sock", t->dir);
	*state = t;
	return 0;
}

static int tmp_teardown(void **state)
{
	struct tmp *t = *state;
	char sub[sizeof(t->path)];

	unlink(t->path);
	/* The locks beside the sockets, and test_listen_lock's socket. */
	for (const char *const *f = (const char *const[]){ "t.lock", "u.sock",
							    "u.lock", NULL };
	     *f; f++) {
		snprintf(sub, sizeof(sub), "%s/run/%s", t->dir, *f);
		unlink(sub);
	}
	snprintf(sub, sizeof(sub), "%s/run", t->dir);
	rmdir(sub);
	rmdir(t->dir);
	free(t);
	return 0;
}

/* The directory part of 'path' into 'buf'. */
static const char *dirname_of(const char *path, char *buf, size_t len)
{
	const char *slash = strrchr(path, '/');

	snprintf(buf, len, "%.*s", (int)(slash - path), path);
	return buf;
}

/* A socket with the creator's owner and group: mode 0600. */
static int listen_plain(const char *path)
{
	return ub_ctl_listen(path, (uid_t)-1, (gid_t)-1);
}

static void test_listen(void **state)
{
	struct tmp *t = *state;
	struct stat st;
	mode_t old;
	int fd, fd2;

	/* The mode must not depend on the caller's umask. */
	old = umask(0);
	fd = listen_plain(t->path);
	umask(old);
	assert_true(fd >= 0);
	assert_int_equal(stat(t->path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);

	int type = 0, flags;
	socklen_t sl = sizeof(type);

	assert_int_equal(getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &sl), 0);
	assert_int_equal(type, SOCK_STREAM);
	flags = fcntl(fd, F_GETFD);
	assert_true(flags & FD_CLOEXEC);

	/* A live daemon keeps its socket. */
	assert_int_equal(listen_plain(t->path), -EADDRINUSE);
	assert_int_equal(stat(t->path, &st), 0);

	/* Once it is gone, the stale socket file is replaced. */
	close(fd);
	assert_int_equal(stat(t->path, &st), 0);
	fd2 = listen_plain(t->path);
	assert_true(fd2 >= 0);
	assert_int_equal(stat(t->path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	close(fd2);

	/* A file that is not a socket is never removed. */
	assert_int_equal(unlink(t->path), 0);
	fd = open(t->path, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(listen_plain(t->path), -EEXIST);
	assert_int_equal(stat(t->path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
}

/* An owner and a group given: the socket is theirs, and the group may
 * connect (0660). Changing a file's owner takes root. */
static void test_listen_owner_group(void **state)
{
	struct tmp *t = *state;
	struct stat st;
	int fd;

	if (geteuid() != 0)
		skip();
	fd = ub_ctl_listen(t->path, 65534, 65534);
	assert_true(fd >= 0);
	assert_int_equal(stat(t->path, &st), 0);
	assert_int_equal(st.st_uid, 65534);
	assert_int_equal(st.st_gid, 65534);
	assert_int_equal(st.st_mode & 07777, 0660);
	close(fd);
	assert_int_equal(unlink(t->path), 0);

	/* Only an owner: still closed to the group. */
	fd = ub_ctl_listen(t->path, 65534, (gid_t)-1);
	assert_true(fd >= 0);
	assert_int_equal(stat(t->path, &st), 0);
	assert_int_equal(st.st_uid, 65534);
	assert_int_equal(st.st_gid, getegid());
	assert_int_equal(st.st_mode & 07777, 0600);
	close(fd);
}

/*
 * Liveness is the lock's to say, not a connect's: a socket that still
 * answers, with its lock free (a daemon killed while the kernel tears its
 * io_uring down), is replaced; a lock held by a live process refuses, and
 * is free again the moment that process is killed.
 */
static void test_listen_lock(void **state)
{
	struct tmp *t = *state;
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char path2[sizeof(t->path)], lock[sizeof(t->path)], c = 0;
	int fd, fd2, pfd[2], busy, after;
	struct stat st;
	pid_t pid;

	/* Made by hand: it answers, and holds no lock. */
	assert_int_equal(mkdir(dirname_of(t->path, lock, sizeof(lock)), 0755),
			 0);
	assert_true(strlen(t->path) < sizeof(sun.sun_path));
	memcpy(sun.sun_path, t->path, strlen(t->path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(listen(fd, 4), 0);
	fd2 = listen_plain(t->path);
	assert_true(fd2 >= 0);
	close(fd);
	close(fd2);
	snprintf(lock, sizeof(lock), "%s/run/t.lock", t->dir);
	assert_int_equal(stat(lock, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);

	/* Another process serves u.sock (and holds u.lock). */
	snprintf(path2, sizeof(path2), "%s/run/u.sock", t->dir);
	assert_int_equal(pipe(pfd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		fd = listen_plain(path2);
		c = fd >= 0;
		if (write(pfd[1], &c, 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	assert_int_equal(read(pfd[0], &c, 1), 1);
	busy = c ? listen_plain(path2) : -1;
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	close(pfd[0]);
	close(pfd[1]);
	assert_int_equal(c, 1);
	assert_int_equal(busy, -EADDRINUSE);
	/* Killed: its lock went with it, its socket is stale. */
	after = listen_plain(path2);
	assert_true(after >= 0);

	/* A clean stop: socket closed and removed, then the lock. */
	close(after);
	unlink(path2);
	ub_ctl_unlock(path2);
	snprintf(lock, sizeof(lock), "%s/run/u.lock", t->dir);
	assert_int_equal(stat(lock, &st), -1);
	after = listen_plain(path2);
	assert_true(after >= 0);
	assert_int_equal(stat(lock, &st), 0);
	close(after);
}

static void test_listen_bad_path(void **state)
{
	char longpath[200];

	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';
	assert_int_equal(listen_plain(longpath), -ENAMETOOLONG);
	assert_int_equal(ub_ctl_connect(longpath), -ENAMETOOLONG);
	assert_int_equal(listen_plain(""), -EINVAL);
}

static void test_connect_nobody(void **state)
{
	struct tmp *t = *state;
	int fd;

	assert_int_equal(ub_ctl_connect(t->path), -ENOENT);
	fd = listen_plain(t->path);
	assert_true(fd >= 0);
	close(fd);
	/* The file is there, nobody listens. */
	assert_int_equal(ub_ctl_connect(t->path), -ECONNREFUSED);
}

static ssize_t read_all(int fd, char *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, buf + got, len - got);

		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

/*
 * Serves one request as the daemon would: decode, reply, close. Also runs
 * in forked children, so it reports failure instead of asserting.
 */
static int serve_one(int lfd)
{
	char req[UB_CTL_REQ_MAX + 1];
	char *argv[UB_CTL_ARGS_MAX];
	struct ub_ctl_reply r;
	ssize_t len;
	int cfd, argc, ret = -1;

	cfd = accept(lfd, NULL, NULL);
	if (cfd < 0)
		return -1;
	len = read_all(cfd, req, sizeof(req));
	if (len <= 0)
		goto cleanup;
	ub_ctl_reply_init(&r);
	argc = ub_ctl_req_decode(req, (size_t)len, argv, UB_CTL_ARGS_MAX);
	if (argc < 0) {
		ub_ctl_reply_status(&r, argc, "bad request");
	} else {
		for (int i = 0; i < argc; i++)
			ub_ctl_reply_record(&r, "index=%d word=%s", i, argv[i]);
		ub_ctl_reply_status(&r, 0, NULL);
	}
	if (!r.oom && write(cfd, r.buf, r.len) == (ssize_t)r.len)
		ret = 0;
	ub_ctl_reply_free(&r);
cleanup:
	close(cfd);
	return ret;
}

/* listen + connect + one exchange, in one thread: the backlog holds the
 * connection until the "daemon" accepts it. */
static void test_exchange(void **state)
{
	struct tmp *t = *state;
	const char *const argv[] = { "port", "add", "veth0" };
	char req[UB_CTL_REQ_MAX + 1], reply[256];
	int lfd, cfd, len;
	ssize_t n;

	lfd = listen_plain(t->path);
	assert_true(lfd >= 0);
	cfd = ub_ctl_connect(t->path);
	assert_true(cfd >= 0);
	len = encode(3, argv, req, sizeof(req));
	assert_int_equal(write(cfd, req, (size_t)len), len);
	assert_int_equal(shutdown(cfd, SHUT_WR), 0);

	assert_int_equal(serve_one(lfd), 0);

	n = read_all(cfd, reply, sizeof(reply) - 1);
	assert_true(n > 0);
	reply[n] = '\0';
	assert_string_equal(reply, "index=0 word=port\n"
				   "index=1 word=add\n"
				   "index=2 word=veth0\n"
				   "errno=0\n");
	close(cfd);
	close(lfd);
}

/* ---- call(), which only knows /run/ubridge ---- */

struct live {
	char bridge[UB_BRIDGE_NAME_MAX + 1];
	char path[128];
	int lfd;
	pid_t child;
};

static int live_setup(void **state)
{
	struct live *l = calloc(1, sizeof(*l));

	if (!l)
		return -1;
	snprintf(l->bridge, sizeof(l->bridge), "uT%d", (int)getpid());
	if (ub_ctl_sock_path(l->bridge, l->path, sizeof(l->path))) {
		free(l);
		return -1;
	}
	l->lfd = -1;
	l->child = -1;
	*state = l;
	return 0;
}

static int live_teardown(void **state)
{
	struct live *l = *state;
	char lock[sizeof(l->path)];

	if (l->child > 0) {
		kill(l->child, SIGKILL);
		waitpid(l->child, NULL, 0);
	}
	if (l->lfd >= 0) {
		close(l->lfd);
		unlink(l->path);
	}
	/* The lock beside the socket (only a test removes one). */
	snprintf(lock, sizeof(lock), "%s/%s.lock", UB_CTL_RUNDIR, l->bridge);
	unlink(lock);
	free(l);
	return 0;
}

/* Listens on the bridge's real socket path, or skips the test. */
static void live_listen(struct live *l)
{
	l->lfd = listen_plain(l->path);
	if (l->lfd == -EACCES || l->lfd == -EPERM || l->lfd == -EROFS)
		skip();
	assert_true(l->lfd >= 0);
}

/*
 * A child process that answers one connection with 'len' bytes of 'data'
 * (NULL: as serve_one() does), then exits. With 'drain', it reads the
 * request first; without, it closes with the request unread, which resets
 * the connection.
 */
static void live_serve(struct live *l, const char *data, size_t len,
		       bool drain)
{
	l->child = fork();
	assert_true(l->child >= 0);
	if (l->child == 0) {
		int cfd;

		if (!data)
			_exit(serve_one(l->lfd) ? 1 : 0);
		cfd = accept(l->lfd, NULL, NULL);
		if (cfd < 0)
			_exit(1);
		if (drain) {
			char req[UB_CTL_REQ_MAX + 1];

			if (read_all(cfd, req, sizeof(req)) <= 0)
				_exit(1);
		} else {
			struct pollfd pfd = { .fd = cfd, .events = POLLIN };

			/* The request has arrived, and stays unread. */
			if (poll(&pfd, 1, 5000) != 1)
				_exit(1);
		}
		while (len) {
			ssize_t n = send(cfd, data, len, MSG_NOSIGNAL);

			if (n <= 0)
				_exit(0); /* the client hung up: expected */
			data += n;
			len -= (size_t)n;
		}
		_exit(0);
	}
}

static void live_wait(struct live *l)
{
	int status;

	assert_int_equal(waitpid(l->child, &status, 0), l->child);
	l->child = -1;
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_call_no_daemon(void **state)
{
	struct live *l = *state;
	const char *const argv[] = { "stats" };
	const char *const bad[] = { "port", "add", "a b" };
	char *reply = (char *)"x";

	assert_int_equal(call(l->bridge, 1, argv, &reply), -ENOENT);
	assert_null(reply);
	assert_int_equal(call("../etc", 1, argv, &reply), -EINVAL);
	assert_int_equal(call(l->bridge, 3, bad, &reply), -EINVAL);
	assert_null(reply);
}

static void test_call(void **state)
{
	struct live *l = *state;
	const char *const argv[] = { "fdb", "del", "02:00:00:00:00:01",
				     "vlan", "3" };
	char *reply = NULL;

	live_listen(l);
	live_serve(l, NULL, 0, true);
	assert_int_equal(call(l->bridge, 5, argv, &reply), 0);
	live_wait(l);
	assert_non_null(reply);
	assert_string_equal(reply, "index=0 word=fdb\n"
				   "index=1 word=del\n"
				   "index=2 word=02:00:00:00:00:01\n"
				   "index=3 word=vlan\n"
				   "index=4 word=3\n"
				   "errno=0\n");
	free(reply);

	/* The daemon is gone: a clear "nobody there". */
	close(l->lfd);
	l->lfd = -1;
	assert_int_equal(call(l->bridge, 1, argv, &reply), -ECONNREFUSED);
	unlink(l->path);
}

static void test_call_reply_too_big(void **state)
{
	struct live *l = *state;
	const char *const argv[] = { "fdb", "show" };
	const size_t len = (64u << 20) + 4096;
	char *big, *reply = NULL;

	live_listen(l);
	big = malloc(len);
	assert_non_null(big);
	memset(big, 'a', len);
	live_serve(l, big, len, true);
	assert_int_equal(call(l->bridge, 2, argv, &reply), -EMSGSIZE);
	assert_null(reply);
	live_wait(l);
	free(big);
}

static void test_call_reply_with_nul(void **state)
{
	struct live *l = *state;
	const char *const argv[] = { "stats" };
	static const char data[] = "a=1\0b=2\nerrno=0\n";
	char *reply = NULL;

	live_listen(l);
	live_serve(l, data, sizeof(data) - 1, true);
	assert_int_equal(call(l->bridge, 1, argv, &reply), -EPROTO);
	assert_null(reply);
	live_wait(l);
}

/* A daemon that replies without reading the request still gets through:
 * the reset that its close causes comes after the data. */
static void test_call_reply_unread_request(void **state)
{
	struct live *l = *state;
	const char *const argv[] = { "stats" };
	static const char data[] = "bridge=ub0 ports=2\nerrno=0\n";
	char *reply = NULL;

	live_listen(l);
	live_serve(l, data, sizeof(data) - 1, false);
	assert_int_equal(call(l->bridge, 1, argv, &reply), 0);
	live_wait(l);
	assert_string_equal(reply, data);
	free(reply);
}

/*
 * A daemon with no room answers at once, without reading the request, and
 * closes: call() reports that as -EBUSY, not as a reply to print.
 */
static void test_call_busy(void **state)
{
	struct live *l = *state;
	const char *const argv[] = { "port", "show" };
	static const char data[] = "errno=16 bridge busy: 256 connections\n";
	char *reply = NULL;

	live_listen(l);
	live_serve(l, data, sizeof(data) - 1, false);
	assert_int_equal(call(l->bridge, 2, argv, &reply), -EBUSY);
	assert_null(reply);
	live_wait(l);
}

/* So does a connection reset with nothing said (a daemon that closed it
 * unread, as older ones did when full). */
static void test_call_busy_no_reply(void **state)
{
	struct live *l = *state;
	const char *const argv[] = { "port", "show" };
	char *reply = NULL;

	live_listen(l);
	live_serve(l, "", 0, false);
	assert_int_equal(call(l->bridge, 2, argv, &reply), -EBUSY);
	assert_null(reply);
	live_wait(l);
}

/* A command's own EBUSY, and a clean close after the request was read,
 * are replies for the caller to judge, not a busy bridge. */
static void test_call_not_busy(void **state)
{
	struct live *l = *state;
	const char *const argv[] = { "port", "del", "veth0" };
	static const char data[] = "errno=16 veth0 is the gateway\n";
	static const char two[] = "a=1\nerrno=16 bridge busy: no\n";
	char *reply = NULL;

	live_listen(l);
	live_serve(l, data, sizeof(data) - 1, true);
	assert_int_equal(call(l->bridge, 3, argv, &reply), 0);
	live_wait(l);
	assert_string_equal(reply, data);
	free(reply);

	live_serve(l, two, sizeof(two) - 1, true);
	assert_int_equal(call(l->bridge, 3, argv, &reply), 0);
	live_wait(l);
	assert_string_equal(reply, two);
	free(reply);

	live_serve(l, "", 0, true);
	assert_int_equal(call(l->bridge, 3, argv, &reply), 0);
	live_wait(l);
	assert_string_equal(reply, "");
	free(reply);
}

static void test_call_stream_busy(void **state)
{
	struct live *l = *state;
	const char *const argv[] = { "capture", "watch", "all" };
	static const char data[] = "errno=16 bridge busy: uid 7 holds 128 "
				   "connections, its share\n";
	char msg[64];
	int fd = -1, err = 1;

	live_listen(l);
	live_serve(l, data, sizeof(data) - 1, false);
	assert_int_equal(ub_ctl_call_stream(l->bridge, 3, (char *const *)argv,
					    &fd, &err, msg, sizeof(msg)),
			 -EBUSY);
	live_wait(l);
	assert_int_equal(fd, -1);

	live_serve(l, "", 0, false);
	assert_int_equal(ub_ctl_call_stream(l->bridge, 3, (char *const *)argv,
					    &fd, &err, msg, sizeof(msg)),
			 -EBUSY);
	live_wait(l);
	assert_int_equal(fd, -1);
}

/* Percent-encoded words: any byte string survives the trip as one word. */
static void test_word_roundtrip(void **state)
{
	const char *in[] = { "plain", "tcp port 80", "/tmp/a b/c%d.pcap",
			     "tab\there", "100%", "\x01\x7f\xff" };
	char enc[64], dec[64];

	(void)state;
	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		char *argv[1] = { enc }, line[80];

		assert_true(ub_ctl_word_encode(in[i], enc, sizeof(enc)) > 0);
		/* The encoding is a valid protocol word. */
		assert_true(ub_ctl_req_encode(1, argv, line, sizeof(line)) > 0);
		strcpy(dec, enc);
		assert_int_equal(ub_ctl_word_decode(dec), 0);
		assert_string_equal(dec, in[i]);
	}
	assert_int_equal(ub_ctl_word_encode("a b", enc, sizeof(enc)), 5);
	assert_string_equal(enc, "a%20b");
	assert_int_equal(ub_ctl_word_encode("%", enc, sizeof(enc)), 3);
	assert_string_equal(enc, "%25");
}

static void test_word_limits(void **state)
{
	char buf[8];

	(void)state;
	assert_int_equal(ub_ctl_word_encode("abcdefg", buf, sizeof(buf)), 7);
	assert_int_equal(ub_ctl_word_encode("abcdefgh", buf, sizeof(buf)),
			 -E2BIG);
	/* An escape needs three bytes, all of them. */
	assert_int_equal(ub_ctl_word_encode("abcde f", buf, sizeof(buf)),
			 -E2BIG);
	strcpy(buf, "a%2");
	assert_int_equal(ub_ctl_word_decode(buf), -EINVAL);
	strcpy(buf, "a%zz");
	assert_int_equal(ub_ctl_word_decode(buf), -EINVAL);
	strcpy(buf, "a%00b");
	assert_int_equal(ub_ctl_word_decode(buf), -EINVAL);
	strcpy(buf, "%41%62");
	assert_int_equal(ub_ctl_word_decode(buf), 0);
	assert_string_equal(buf, "Ab");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_word_roundtrip),
		cmocka_unit_test(test_word_limits),
		cmocka_unit_test(test_sock_path_good),
		cmocka_unit_test(test_sock_path_bad),
		cmocka_unit_test(test_req_roundtrip),
		cmocka_unit_test(test_req_limits),
		cmocka_unit_test(test_req_encode_rejects),
		cmocka_unit_test(test_req_decode_rejects),
		cmocka_unit_test(test_req_decode_too_many_words),
		cmocka_unit_test(test_reply_records),
		cmocka_unit_test(test_reply_status),
		cmocka_unit_test(test_reply_keeps_framing),
		cmocka_unit_test(test_reply_growth),
		cmocka_unit_test(test_reply_oom),
		cmocka_unit_test(test_record_decode),
		cmocka_unit_test(test_record_decode_rejects),
		cmocka_unit_test(test_status_decode),
		cmocka_unit_test(test_status_decode_rejects),
		cmocka_unit_test(test_reply_decode_roundtrip),
		cmocka_unit_test_setup_teardown(test_listen, tmp_setup,
						tmp_teardown),
		cmocka_unit_test_setup_teardown(test_listen_owner_group,
						tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_listen_lock, tmp_setup,
						tmp_teardown),
		cmocka_unit_test(test_listen_bad_path),
		cmocka_unit_test_setup_teardown(test_connect_nobody, tmp_setup,
						tmp_teardown),
		cmocka_unit_test_setup_teardown(test_exchange, tmp_setup,
						tmp_teardown),
		cmocka_unit_test_setup_teardown(test_call_no_daemon, live_setup,
						live_teardown),
		cmocka_unit_test_setup_teardown(test_call, live_setup,
						live_teardown),
		cmocka_unit_test_setup_teardown(test_call_reply_too_big,
						live_setup, live_teardown),
		cmocka_unit_test_setup_teardown(test_call_reply_with_nul,
						live_setup, live_teardown),
		cmocka_unit_test_setup_teardown(test_call_reply_unread_request,
						live_setup, live_teardown),
		cmocka_unit_test_setup_teardown(test_call_busy, live_setup,
						live_teardown),
		cmocka_unit_test_setup_teardown(test_call_busy_no_reply,
						live_setup, live_teardown),
		cmocka_unit_test_setup_teardown(test_call_not_busy, live_setup,
						live_teardown),
		cmocka_unit_test_setup_teardown(test_call_stream_busy,
						live_setup, live_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
