/* SPDX-License-Identifier: MIT */
/*
 * ubctl: the command-line client of the ubridge daemon.
 *
 *	ubctl [OPTIONS] OBJECT COMMAND [ARGS]
 *
 * The client is thin on purpose. It checks only the shape of a command
 * (known object, known verb, keywords and argument count, from the grammar
 * strings in the tables below), forwards the words unchanged over the
 * control socket (include/ubridge/ctl.h) and renders the records of the
 * reply. Every value is validated by the daemon, which answers an error
 * with a one-line message that ubctl prints verbatim.
 *
 * Renderers know the keys they lay out (a port's name, an entry's MAC)
 * and show any other key generically, so the daemon can add keys and
 * counters without a change here.
 *
 * Exit status: 0 success, 1 the command failed (refused, bridge not
 * reachable, bad reply), 2 usage error.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <signal.h>
#include <sys/un.h>
#include <unistd.h>

#include <ubridge/compiler.h>
#include <ubridge/ctl.h>

#ifndef UB_VERSION
#define UB_VERSION "0.1.0"
#endif

#define UBCTL_EXIT_OK 0
#define UBCTL_EXIT_FAIL 1
#define UBCTL_EXIT_USAGE 2

struct ubctl_opts {
	const char *bridge;
	bool json;
	bool pretty;
	bool stats;
};

/* One decoded record of a reply: its pairs point into the reply text. */
struct ubctl_rec {
	struct ub_ctl_kv *kv;
	int n;
};

struct ubctl_reply {
	char *raw;
	struct ubctl_rec *recs;
	size_t nrecs;
	int err;	 /* the status: 0 or -errno */
	const char *msg; /* the status message, "" when none */
};

/* Renders a successful reply. Returns an exit status. */
typedef int (*ubctl_show_fn)(const struct ubctl_reply *rep,
			     const struct ubctl_opts *o);

struct ubctl_verb {
	const char *name; /* NULL: the object is itself the command */
	/*
	 * The arguments after the verb: a CAPITALISED word stands for any
	 * one value, a lower-case word must appear as written, a bracketed
	 * group ("[vlan VID]") may be left out.
	 */
	const char *args;
	const char *help;
	ubctl_show_fn show; /* NULL: the command prints nothing */
	/*
	 * Rewrites the command's words (argv[0] is the object) into what the
	 * daemon expects, in place of the grammar check. Returns -1 to go
	 * on, or an exit status.
	 */
	int (*prepare)(int *argc, char **argv);
	/* The answer is a status line and then a stream for stdout. */
	bool stream;
};

struct ubctl_object {
	const char *name;
	const char *help;
	const char *default_verb; /* run when no verb is given, or NULL */
	const struct ubctl_verb *verbs;
	size_t nverbs;
};

static void ubctl_err(const char *fmt, ...) UB_PRINTF(1, 2);

/* The one way ubctl complains: a single "ubctl: ..." line on stderr. */
static void ubctl_err(const char *fmt, ...)
{
	va_list ap;

	fputs("ubctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* ---- reading a reply ---- */

static const char *ubctl_rec_get(const struct ubctl_rec *r, const char *key)
{
	for (int i = 0; i < r->n; i++) {
		if (strcmp(r->kv[i].key, key) == 0)
			return r->kv[i].val;
	}
	return NULL;
}

static bool ubctl_has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static void ubctl_reply_free(struct ubctl_reply *rep)
{
	for (size_t i = 0; i < rep->nrecs; i++)
		free(rep->recs[i].kv);
	free(rep->recs);
	free(rep->raw);
	memset(rep, 0, sizeof(*rep));
}

/*
 * Splits the raw reply (taken over by 'rep') into records and the final
 * status line. Returns 0, or -EPROTO with a description in 'why'.
 */
static int ubctl_reply_parse(char *raw, struct ubctl_reply *rep,
			     const char **why)
{
	size_t nlines = 0, len = strlen(raw);
	char *line, *nl;
	bool status = false;
	int ret = -EPROTO;

	memset(rep, 0, sizeof(*rep));
	rep->raw = raw;
	*why = len ? "the reply does not end with a status line" :
		     "the connection closed without a reply (bridge busy, or "
		     "access refused)";
	if (len == 0 || raw[len - 1] != '\n')
		return ret;
	for (size_t i = 0; i < len; i++)
		nlines += raw[i] == '\n';
	rep->recs = calloc(nlines, sizeof(*rep->recs));
	if (!rep->recs) {
		*why = strerror(ENOMEM);
		return -ENOMEM;
	}

	for (line = raw; *line; line = nl + 1) {
		struct ubctl_rec *r = &rep->recs[rep->nrecs];
		int max = 1;

		nl = strchr(line, '\n');
		*nl = '\0';
		if (status) {
			*why = "records after the status line";
			return ret;
		}
		if (ub_ctl_status_decode(line, &rep->err, &rep->msg)) {
			status = true;
			continue;
		}
		for (const char *p = line; *p; p++)
			max += *p == ' ';
		r->kv = calloc((size_t)max, sizeof(*r->kv));
		if (!r->kv) {
			*why = strerror(ENOMEM);
			return -ENOMEM;
		}
		rep->nrecs++;
		r->n = ub_ctl_record_decode(line, r->kv, max);
		if (r->n < 0) {
			*why = "malformed record";
			return ret;
		}
	}
	return status ? 0 : ret;
}

/* ---- JSON ---- */

/* Only a plain decimal (no sign, no leading zero) is a JSON number. */
static bool ubctl_is_number(const char *s)
{
	if (!*s || (s[0] == '0' && s[1]))
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
	}
	return true;
}

static void ubctl_json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20 || c > 0x7e)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void ubctl_json_indent(const struct ubctl_opts *o, int level)
{
	if (o->pretty)
		printf("\n%*s", 4 * level, "");
}

/* Which keys of a record to show; NULL shows all. */
typedef bool (*ubctl_key_filter)(const char *key, const struct ubctl_opts *o);

static void ubctl_json_object(const struct ubctl_rec *r, int level,
			      ubctl_key_filter keep, const struct ubctl_opts *o)
{
	bool first = true;

	putchar('{');
	for (int i = 0; i < r->n; i++) {
		const struct ub_ctl_kv *kv = &r->kv[i];

		if (keep && !keep(kv->key, o))
			continue;
		if (!first)
			putchar(',');
		first = false;
		ubctl_json_indent(o, level + 1);
		ubctl_json_string(kv->key);
		fputs(o->pretty ? ": " : ":", stdout);
		if (ubctl_is_number(kv->val))
			fputs(kv->val, stdout);
		else
			ubctl_json_string(kv->val);
	}
	if (!first)
		ubctl_json_indent(o, level);
	putchar('}');
}

/* All records as a JSON array of objects; "[]" when there is none. */
static void ubctl_json_array(const struct ubctl_reply *rep,
			     ubctl_key_filter keep, const struct ubctl_opts *o)
{
	putchar('[');
	for (size_t i = 0; i < rep->nrecs; i++) {
		if (i)
			putchar(',');
		ubctl_json_indent(o, 1);
		ubctl_json_object(&rep->recs[i], 1, keep, o);
	}
	if (rep->nrecs)
		ubctl_json_indent(o, 0);
	fputs("]\n", stdout);
}

/* ---- renderers ---- */

/* Anything a command did not announce: key=value lines, as received. */
static int ubctl_show_generic(const struct ubctl_reply *rep,
			      const struct ubctl_opts *o)
{
	if (o->json) {
		ubctl_json_array(rep, NULL, o);
		return UBCTL_EXIT_OK;
	}
	for (size_t i = 0; i < rep->nrecs; i++) {
		const struct ubctl_rec *r = &rep->recs[i];

		for (int k = 0; k < r->n; k++)
			printf("%s%s=%s", k ? " " : "", r->kv[k].key,
			       r->kv[k].val);
		putchar('\n');
	}
	return UBCTL_EXIT_OK;
}

static bool ubctl_is_counter(const char *key)
{
	return ubctl_has_prefix(key, "rx_") || ubctl_has_prefix(key, "tx_");
}

static bool ubctl_port_key(const char *key, const struct ubctl_opts *o)
{
	return o->stats || !ubctl_is_counter(key);
}

/* A counter's name on its RX or TX line: without "rx_"/"rx_drop_". */
static const char *ubctl_counter_label(const char *key)
{
	if (ubctl_has_prefix(key + 3, "drop_"))
		return key + 8;
	return key + 3;
}

/*
 * One port's counters of one direction, the way "ip -s link" shows them:
 * a row of names over a row of values, right-aligned. (More than 128
 * counters a direction would be cut short here; -j shows them all.)
 */
static void ubctl_print_counters(const struct ubctl_rec *r, const char *dir,
				 const char *label)
{
	int w[128], nw = 0, k;

	for (k = 0; k < r->n && nw < (int)UB_ARRAY_SIZE(w); k++) {
		const char *key = r->kv[k].key;
		int a, b;

		if (!ubctl_has_prefix(key, dir))
			continue;
		a = (int)strlen(ubctl_counter_label(key));
		b = (int)strlen(r->kv[k].val);
		w[nw++] = a > b ? a : b;
	}
	if (!nw)
		return;
	printf("    %s", label);
	for (k = 0, nw = 0; k < r->n && nw < (int)UB_ARRAY_SIZE(w); k++) {
		if (ubctl_has_prefix(r->kv[k].key, dir))
			printf("  %*s", w[nw++],
			       ubctl_counter_label(r->kv[k].key));
	}
	printf("\n    %*s", (int)strlen(label), "");
	for (k = 0, nw = 0; k < r->n && nw < (int)UB_ARRAY_SIZE(w); k++) {
		if (ubctl_has_prefix(r->kv[k].key, dir))
			printf("  %*s", w[nw++], r->kv[k].val);
	}
	putchar('\n');
}

#define UBCTL_PORT_COLS_MAX 32

struct ubctl_col {
	const char *key;
	char head[32];
	int width;
};

static void ubctl_col_add(struct ubctl_col *cols, int *ncols, const char *key,
			  const char *head)
{
	struct ubctl_col *c;

	for (int i = 0; i < *ncols; i++) {
		if (strcmp(cols[i].key, key) == 0)
			return;
	}
	if (*ncols >= UBCTL_PORT_COLS_MAX)
		return;
	c = &cols[(*ncols)++];
	c->key = key;
	if (head) {
		snprintf(c->head, sizeof(c->head), "%s", head);
	} else {
		/* An unknown key gets a column headed by its name. */
		size_t i;

		for (i = 0; key[i] && i < sizeof(c->head) - 1; i++)
			c->head[i] = (char)toupper((unsigned char)key[i]);
		c->head[i] = '\0';
	}
	c->width = (int)strlen(c->head);
}

/*
 * PORT IFINDEX MTU STATE, then a column for any other non-counter key the
 * daemon sends. With -s, each port gets its RX and TX counters below it.
 */
static int ubctl_show_ports(const struct ubctl_reply *rep,
			    const struct ubctl_opts *o)
{
	struct ubctl_col cols[UBCTL_PORT_COLS_MAX];
	int ncols = 0;

	if (o->json) {
		ubctl_json_array(rep, ubctl_port_key, o);
		return UBCTL_EXIT_OK;
	}
	if (!rep->nrecs)
		return UBCTL_EXIT_OK;

	ubctl_col_add(cols, &ncols, "name", "PORT");
	ubctl_col_add(cols, &ncols, "ifindex", "IFINDEX");
	ubctl_col_add(cols, &ncols, "mtu", "MTU");
	ubctl_col_add(cols, &ncols, "state", "STATE");
	ubctl_col_add(cols, &ncols, "learned_entries", "LEARNED");
	ubctl_col_add(cols, &ncols, "max_learned", "MAX_LEARNED");
	ubctl_col_add(cols, &ncols, "policy", "POLICY");
	for (size_t i = 0; i < rep->nrecs; i++) {
		const struct ubctl_rec *r = &rep->recs[i];

		for (int k = 0; k < r->n; k++) {
			if (!ubctl_is_counter(r->kv[k].key))
				ubctl_col_add(cols, &ncols, r->kv[k].key, NULL);
		}
	}
	for (size_t i = 0; i < rep->nrecs; i++) {
		for (int c = 0; c < ncols; c++) {
			const char *v;
			int n;

			v = ubctl_rec_get(&rep->recs[i], cols[c].key);
			n = v ? (int)strlen(v) : 1;

			if (n > cols[c].width)
				cols[c].width = n;
		}
	}

	/* Left-aligned columns, no trailing blanks after the last one. */
	for (int c = 0; c < ncols - 1; c++)
		printf("%-*s  ", cols[c].width, cols[c].head);
	printf("%s\n", cols[ncols - 1].head);
	for (size_t i = 0; i < rep->nrecs; i++) {
		const struct ubctl_rec *r = &rep->recs[i];

		for (int c = 0; c < ncols; c++) {
			const char *v = ubctl_rec_get(r, cols[c].key);

			if (!v)
				v = "-";
			if (c < ncols - 1)
				printf("%-*s  ", cols[c].width, v);
			else
				printf("%s\n", v);
		}
		if (o->stats) {
			ubctl_print_counters(r, "rx_", "RX:");
			ubctl_print_counters(r, "tx_", "TX:");
		}
	}
	return UBCTL_EXIT_OK;
}

/* Like "bridge fdb show": 02:00:00:00:00:01 dev veth0 vlan 0 learned age 12s */
static int ubctl_show_fdb(const struct ubctl_reply *rep,
			  const struct ubctl_opts *o)
{
	static const char *const known[] = { "mac", "port", "vlan", "type",
					     "age" };

	if (o->json) {
		ubctl_json_array(rep, NULL, o);
		return UBCTL_EXIT_OK;
	}
	for (size_t i = 0; i < rep->nrecs; i++) {
		const struct ubctl_rec *r = &rep->recs[i];
		const char *mac = ubctl_rec_get(r, "mac");
		const char *port = ubctl_rec_get(r, "port");
		const char *vlan = ubctl_rec_get(r, "vlan");
		const char *type = ubctl_rec_get(r, "type");
		const char *age = ubctl_rec_get(r, "age");

		fputs(mac ? mac : "-", stdout);
		if (port)
			printf(" dev %s", port);
		if (vlan)
			printf(" vlan %s", vlan);
		if (type)
			printf(" %s", type);
		if (age)
			printf(" age %s%s", age,
			       ubctl_is_number(age) ? "s" : "");
		for (int k = 0; k < r->n; k++) {
			bool seen = false;

			for (size_t j = 0; j < UB_ARRAY_SIZE(known); j++)
				seen = seen || !strcmp(r->kv[k].key, known[j]);
			if (!seen)
				printf(" %s %s", r->kv[k].key, r->kv[k].val);
		}
		putchar('\n');
	}
	return UBCTL_EXIT_OK;
}

/* "key: value" lines with the values aligned; JSON: one object. */
static int ubctl_show_stats(const struct ubctl_reply *rep,
			    const struct ubctl_opts *o)
{
	if (o->json) {
		static const struct ubctl_rec none = { NULL, 0 };

		if (rep->nrecs > 1) {
			/* More than the one record we expect: keep all. */
			ubctl_json_array(rep, NULL, o);
			return UBCTL_EXIT_OK;
		}
		ubctl_json_object(rep->nrecs ? &rep->recs[0] : &none, 0, NULL,
				  o);
		putchar('\n');
		return UBCTL_EXIT_OK;
	}
	for (size_t i = 0; i < rep->nrecs; i++) {
		const struct ubctl_rec *r = &rep->recs[i];
		int w = 0;

		if (i)
			putchar('\n');
		for (int k = 0; k < r->n; k++) {
			int n = (int)strlen(r->kv[k].key);

			w = n > w ? n : w;
		}
		for (int k = 0; k < r->n; k++)
			printf("%s:%*s %s\n", r->kv[k].key,
			       w - (int)strlen(r->kv[k].key), "", r->kv[k].val);
	}
	return UBCTL_EXIT_OK;
}

/* Values the daemon percent-encodes (file names, filters), decoded for
 * display; an undecodable one is shown as sent. */
static void ubctl_decode_vals(const struct ubctl_reply *rep,
			      const char *const *keys, size_t nkeys)
{
	for (size_t i = 0; i < rep->nrecs; i++) {
		for (int k = 0; k < rep->recs[i].n; k++) {
			struct ub_ctl_kv *kv = &rep->recs[i].kv[k];

			for (size_t j = 0; j < nkeys; j++)
				if (!strcmp(kv->key, keys[j]))
					ub_ctl_word_decode((char *)kv->val);
		}
	}
}

/* One column of a table: its key in the records, header and width. */
struct ubctl_col_spec {
	const char *key;
	const char *header;
	int width; /* negative: left-aligned; 0: last, as wide as it is */
};

/*
 * A table of the records, in the columns given; keys listed in 'encoded'
 * are percent-decoded first (for JSON too).
 */
static int ubctl_show_table(const struct ubctl_reply *rep,
			    const struct ubctl_opts *o,
			    const char *const *encoded, size_t nencoded,
			    const struct ubctl_col_spec *cols, size_t ncols)
{
	ubctl_decode_vals(rep, encoded, nencoded);
	if (o->json) {
		ubctl_json_array(rep, NULL, o);
		return UBCTL_EXIT_OK;
	}
	if (!rep->nrecs)
		return UBCTL_EXIT_OK;
	for (size_t k = 0; k < ncols; k++)
		printf("%s%*s", k ? " " : "", cols[k].width, cols[k].header);
	putchar('\n');
	for (size_t i = 0; i < rep->nrecs; i++) {
		for (size_t k = 0; k < ncols; k++) {
			const char *v = ubctl_rec_get(&rep->recs[i],
						      cols[k].key);

			printf("%s%*s", k ? " " : "", cols[k].width,
			       v ? v : "-");
		}
		putchar('\n');
	}
	return UBCTL_EXIT_OK;
}

static int ubctl_show_captures(const struct ubctl_reply *rep,
			       const struct ubctl_opts *o)
{
	static const char *const encoded[] = { "file", "filter" };
	static const struct ubctl_col_spec cols[] = {
		{ "id", "ID", -4 },	      { "port", "PORT", -15 },
		{ "dir", "DIR", -5 },	      { "frames", "FRAMES", 10 },
		{ "bytes", "BYTES", 12 },     { "dropped", "DROPPED", 8 },
		{ "error", "ERROR", -6 },     { "file", "FILE", -24 },
		{ "filter", "FILTER", 0 },
	};

	return ubctl_show_table(rep, o, encoded, UB_ARRAY_SIZE(encoded), cols,
				UB_ARRAY_SIZE(cols));
}

/* "capture start" prints the new capture's id alone, for scripts. */
static int ubctl_show_id(const struct ubctl_reply *rep,
			 const struct ubctl_opts *o)
{
	const char *id = rep->nrecs ? ubctl_rec_get(&rep->recs[0], "id") : NULL;

	if (o->json)
		return ubctl_show_stats(rep, o);
	if (id)
		printf("%s\n", id);
	return UBCTL_EXIT_OK;
}

/*
 * "capture start PORT|all FILE [--dir D] [--filter EXPR] [--snaplen N]
 * [--count N] [--rotate-size MB] [--rotate-files K]" (dashes optional)
 * becomes the daemon's "capture start PORT FILE KEY VALUE...": FILE made
 * absolute (the daemon has its own working directory), FILE and EXPR
 * percent-encoded, since they may hold spaces. "capture watch" is the same
 * without FILE.
 */
static int ubctl_capture_prepare(int *argc, char **argv)
{
	bool watch = !strcmp(argv[1], "watch");
	int first = watch ? 3 : 4;
	static const char *const keys[] = { "dir", "filter", "snaplen",
					    "count", "rotate-size",
					    "rotate-files" };
	static char path[3 * 4096], filter[3 * 1024];
	char abs[4096], cwd[2048];

	if (*argc < first || (*argc - first) % 2) {
		if (watch)
			ubctl_err("usage: ubctl capture watch PORT|all [--dir "
				  "in|out|both] [--filter EXPR] [--snaplen N] "
				  "[--count N]");
		else
			ubctl_err("usage: ubctl capture start PORT|all FILE "
				  "[--dir in|out|both] [--filter EXPR] "
				  "[--snaplen N] [--count N] [--rotate-size MB] "
				  "[--rotate-files K]");
		return UBCTL_EXIT_USAGE;
	}
	if (watch)
		goto opts;
	if (argv[3][0] != '/' && !getcwd(cwd, sizeof(cwd))) {
		ubctl_err("cannot tell the current directory: %s",
			  strerror(errno));
		return UBCTL_EXIT_FAIL;
	}
	snprintf(abs, sizeof(abs), "%s%s%s", argv[3][0] == '/' ? "" : cwd,
		 argv[3][0] == '/' ? "" : "/", argv[3]);
	if (ub_ctl_word_encode(abs, path, sizeof(path)) < 0) {
		ubctl_err("file name too long");
		return UBCTL_EXIT_USAGE;
	}
	argv[3] = path;
opts:
	for (int i = first; i < *argc; i += 2) {
		size_t k;

		argv[i] += strspn(argv[i], "-");
		for (k = 0; k < UB_ARRAY_SIZE(keys); k++)
			if (!strcmp(argv[i], keys[k]))
				break;
		if (k == UB_ARRAY_SIZE(keys)) {
			ubctl_err("unknown capture option \"%s\"; try "
				  "\"ubctl capture help\"", argv[i]);
			return UBCTL_EXIT_USAGE;
		}
		if (!strcmp(argv[i], "filter")) {
			if (ub_ctl_word_encode(argv[i + 1], filter,
					       sizeof(filter)) < 0) {
				ubctl_err("filter too long");
				return UBCTL_EXIT_USAGE;
			}
			argv[i + 1] = filter;
		}
	}
	return -1;
}

static int ubctl_show_netns(const struct ubctl_reply *rep,
			    const struct ubctl_opts *o)
{
	static const char *const encoded[] = { "name" };
	static const struct ubctl_col_spec cols[] = {
		{ "name", "NAMESPACE", -16 }, { "port", "PORT", -15 },
		{ "ifname", "IFNAME", -8 },   { "mac", "MAC", -17 },
		{ "addrs", "ADDRESSES", 0 },
	};

	return ubctl_show_table(rep, o, encoded, UB_ARRAY_SIZE(encoded), cols,
				UB_ARRAY_SIZE(cols));
}

/* "--addr X" -> "addr X": the daemon's words have no dashes. */
static int ubctl_undash_prepare(int *argc, char **argv)
{
	for (int i = 2; i < *argc; i++)
		if (!strncmp(argv[i], "--", 2) && argv[i][2])
			argv[i] += 2;
	return -1;
}

/* A "--KEY VALUE" option of "port add" (the daemon's "KEY VALUE"). */
static bool ubctl_port_add_opt(const char *w)
{
	return !strcmp(w, "--mtu") || !strcmp(w, "--max-learned") ||
	       !strcmp(w, "--policy");
}

/*
 * "port add IFNAME|--tap NAME [--mtu N] [--max-learned N] [--policy P]"
 * -> "port add NAME [type tap] [mtu N] [max-learned N] [policy P]". The
 * words grow by one ("--tap" becomes "type tap"): argv has room for that,
 * its terminating NULL.
 */
static int ubctl_port_add_prepare(int *argc, char **argv)
{
	static char type[] = "type", tap[] = "tap";
	char *name = NULL, *opts[6];
	bool is_tap = false, mtu = false;
	int nopts = 0;

	for (int i = 2; i < *argc; i++) {
		if (!strcmp(argv[i], "--tap")) {
			is_tap = true;
		} else if (ubctl_port_add_opt(argv[i]) && i + 1 < *argc &&
			   nopts < (int)UB_ARRAY_SIZE(opts)) {
			mtu = mtu || !strcmp(argv[i], "--mtu");
			opts[nopts++] = argv[i] + 2;
			opts[nopts++] = argv[++i];
		} else if (!name && argv[i][0] != '-') {
			name = argv[i];
		} else {
			name = NULL;
			break;
		}
	}
	if (!name || (mtu && !is_tap)) {
		ubctl_err("usage: ubctl port add IFNAME | ubctl port add --tap "
			  "NAME [--mtu N], then [--max-learned N] [--policy "
			  "drop|nolearn]");
		return UBCTL_EXIT_USAGE;
	}
	*argc = 3;
	argv[2] = name;
	if (is_tap) {
		argv[(*argc)++] = type;
		argv[(*argc)++] = tap;
	}
	for (int i = 0; i < nopts; i++)
		argv[(*argc)++] = opts[i];
	return -1;
}

static int ubctl_nat_prepare(int *argc, char **argv)
{
	if (*argc != 2 || (strcmp(argv[1], "on") && strcmp(argv[1], "off"))) {
		ubctl_err("usage: ubctl nat on|off");
		return UBCTL_EXIT_USAGE;
	}
	return -1;
}

/* ---- the command tables ---- */

static const struct ubctl_verb ubctl_port_verbs[] = {
	{ "add",
	  "IFNAME | --tap NAME [--mtu N] [--max-learned N] "
	  "[--policy drop|nolearn]",
	  "attach interface IFNAME, or make a TAP device NAME (for a VM or "
	  "the host) owned by the bridge and attach it; with a cap on the "
	  "addresses learned on it (see port set)",
	  NULL, ubctl_port_add_prepare, false },
	{ "set", "IFNAME [--max-learned N] [--policy drop|nolearn]",
	  "cap the FDB entries learned on IFNAME (0: no cap of its own). At "
	  "the cap, a frame from a new address is forwarded but the address "
	  "not learned (nolearn, the default), or the frame is dropped "
	  "(drop); known addresses always pass",
	  NULL, ubctl_undash_prepare, false },
	{ "del", "IFNAME", "detach interface IFNAME", NULL, NULL, false },
	{ "show", "", "list the ports (-s: with counters)",
	  ubctl_show_ports, NULL, false },
};

static const struct ubctl_verb ubctl_fdb_verbs[] = {
	{ "show", "", "list the learned and static entries", ubctl_show_fdb, NULL, false },
	{ "add", "MAC dev IFNAME [vlan VID]", "add a static entry", NULL, NULL, false },
	{ "del", "MAC [vlan VID]", "delete an entry", NULL, NULL, false },
	{ "flush", "[dev IFNAME]",
	  "forget learned entries (all, or IFNAME's)", NULL, NULL, false },
};

static const struct ubctl_verb ubctl_set_verbs[] = {
	{ "ageing", "SECONDS",
	  "set the ageing time (0: learn nothing)", NULL, NULL, false },
};

static const struct ubctl_verb ubctl_stats_verbs[] = {
	{ NULL, "", "show settings and FDB counters",
	  ubctl_show_stats, NULL, false },
};

static const struct ubctl_verb ubctl_capture_verbs[] = {
	{ "start",
	  "PORT|all FILE [--dir in|out|both] [--filter EXPR] [--snaplen N] "
	  "[--count N] [--rotate-size MB] [--rotate-files K]",
	  "capture frames of PORT (both directions) or of all ports (as "
	  "they enter) into a pcap FILE; prints the capture's id",
	  ubctl_show_id, ubctl_capture_prepare, false },
	{ "watch",
	  "PORT|all [--dir in|out|both] [--filter EXPR] [--snaplen N] "
	  "[--count N]",
	  "stream a capture as pcap to standard output, for \"| tcpdump -nr -\" "
	  "or \"| wireshark -k -i -\"; ends when the reader does",
	  NULL, ubctl_capture_prepare, true },
	{ "stop", "ID|all", "write out and close a capture (or all)", NULL, NULL, false },
	{ "show", "", "list the running captures", ubctl_show_captures, NULL, false },
};

static const struct ubctl_verb ubctl_netns_verbs[] = {
	{ "add",
	  "NAME [--addr CIDR]... [--gw ADDR] [--mac MAC] [--mtu N] "
	  "[--ifname IF]",
	  "namespace NAME (made unless it exists) with a veth whose peer IF "
	  "(default eth0) has the addresses, MAC, MTU and default route; its "
	  "host end veth-NAME joins the bridge. Undone if any step fails",
	  NULL, ubctl_undash_prepare, false },
	{ "attach",
	  "NAME|--pid PID [--addr CIDR]... [--gw ADDR] [--mac MAC] [--mtu N] "
	  "[--ifname IF]",
	  "the same for an existing namespace, or a process's (a running "
	  "container): only the veth is made",
	  NULL, ubctl_undash_prepare, false },
	{ "del", "NAME",
	  "detach NAME's port and remove what \"netns add\" made (the "
	  "namespace only if it made it)", NULL, NULL, false },
	{ "show", "", "list the namespaces on the bridge, with port, "
	  "interface, MAC and addresses", ubctl_show_netns, NULL, false },
};

static const struct ubctl_verb ubctl_gateway_verbs[] = {
	{ "add", "CIDR",
	  "give the host the address CIDR on the bridge (a TAP port "
	  "NAME-gw), for the namespaces' default route", NULL, NULL, false },
	{ "del", "", "remove the gateway (and NAT)", NULL, NULL, false },
	{ "show", "", "the gateway's port, address and NAT state",
	  ubctl_show_stats, NULL, false },
};

static const struct ubctl_verb ubctl_nat_verbs[] = {
	{ NULL, "on|off",
	  "masquerade the gateway's subnet out of the host's other "
	  "interfaces (nftables table ubridge_NAME; IPv4 forwarding on), or "
	  "undo it", NULL, ubctl_nat_prepare, false },
};

static const struct ubctl_verb ubctl_time_verbs[] = {
	{ "warp", "MILLISECONDS",
	  "advance the daemon's clock (for tests)", NULL, NULL, false },
};

#define UBCTL_OBJECT(n, h, d, v) { n, h, d, v, UB_ARRAY_SIZE(v) }

static const struct ubctl_object ubctl_objects[] = {
	UBCTL_OBJECT("port", "The bridge's ports.", "show", ubctl_port_verbs),
	UBCTL_OBJECT("fdb", "The forwarding database.", "show",
		     ubctl_fdb_verbs),
	UBCTL_OBJECT("set", "The bridge's settings.", NULL, ubctl_set_verbs),
	UBCTL_OBJECT("stats", "The bridge's statistics.", NULL,
		     ubctl_stats_verbs),
	UBCTL_OBJECT("netns", "Network namespaces wired to the bridge.", "show",
		     ubctl_netns_verbs),
	UBCTL_OBJECT("capture", "Packet captures to pcap files.", "show",
		     ubctl_capture_verbs),
	UBCTL_OBJECT("gateway", "The host's address on the bridge.", "show",
		     ubctl_gateway_verbs),
	UBCTL_OBJECT("nat", "NAT behind the gateway.", NULL,
		     ubctl_nat_verbs),
	UBCTL_OBJECT("time", "The daemon's clock, for tests.", NULL,
		     ubctl_time_verbs),
};

/* ---- help ---- */

/* Prints 'text' from column 'col' on, wrapped at 79 columns. */
static void ubctl_print_wrapped(FILE *f, const char *text, int col)
{
	int x = col;

	while (*text) {
		int n = (int)strcspn(text, " ");

		if (x > col && x + 1 + n > 79) {
			fprintf(f, "\n%*s", col, "");
			x = col;
		}
		if (x > col) {
			fputc(' ', f);
			x++;
		}
		fprintf(f, "%.*s", n, text);
		x += n;
		text += n;
		text += strspn(text, " ");
	}
	fputc('\n', f);
}

static void ubctl_print_verbs(FILE *f, const struct ubctl_object *obj)
{
	for (size_t i = 0; i < obj->nverbs; i++) {
		const struct ubctl_verb *v = &obj->verbs[i];
		char cmd[200];

		snprintf(cmd, sizeof(cmd), "%s%s%s%s%s", obj->name,
			 v->name ? " " : "", v->name ? v->name : "",
			 v->args[0] ? " " : "", v->args);
		/* A long synopsis gets its help on the next lines. */
		if (strlen(cmd) > 35)
			fprintf(f, "  %s\n%38s", cmd, "");
		else
			fprintf(f, "  %-35s ", cmd);
		ubctl_print_wrapped(f, v->help, 38);
	}
}

static void ubctl_usage_short(FILE *f)
{
	fputs("Usage: ubctl [OPTIONS] OBJECT COMMAND [ARGS]\n"
	      "       ubctl OBJECT help\n"
	      "       ubctl --help\n"
	      "OBJECT := { port | fdb | netns | capture | gateway | nat | set | stats |\n"
	      "           time }\n",
	      f);
}

static void ubctl_help(void)
{
	fputs("ubctl - control the ubridge userspace Ethernet bridge\n\n",
	      stdout);
	ubctl_usage_short(stdout);
	fputs("\nCommands:\n", stdout);
	for (size_t i = 0; i < UB_ARRAY_SIZE(ubctl_objects); i++)
		ubctl_print_verbs(stdout, &ubctl_objects[i]);
	fputs("\n"
	      "  \"ubctl port\" and \"ubctl fdb\" alone mean \"... show\".\n"
	      "  MAC is aa:bb:cc:dd:ee:ff, VID a VLAN id (0: untagged).\n"
	      "\n"
	      "Options:\n"
	      "  -n, --name NAME   talk to bridge NAME (default: $UBRIDGE_NAME, else "
	      UB_BRIDGE_DEFAULT ")\n"
	      "  -j, --json        print JSON: an array of objects, one per record\n"
	      "  -p, --pretty      print indented JSON (implies -j)\n"
	      "  -s, --stats       show port counters in \"port show\"\n"
	      "  -h, --help        print this help and exit\n"
	      "  -V, --version     print the version and exit\n"
	      "\n"
	      "Options may come anywhere on the line; \"--\" ends them.\n"
	      "\n"
	      "Examples:\n"
	      "  ubctl netns add ns1 --addr 172.16.1.1/16\n"
	      "                                 namespace ns1 wired to the bridge\n"
	      "  ubctl port add veth-ns1        attach veth-ns1\n"
	      "  ubctl port show -s             ports with their RX/TX counters\n"
	      "  ubctl fdb show                 learned and static addresses\n"
	      "  ubctl fdb add 02:00:00:00:00:01 dev veth0 vlan 10\n"
	      "  ubctl port set veth0 --max-learned 16 --policy drop\n"
	      "                                 veth0 keeps to 16 addresses\n"
	      "  ubctl -j port show -s          ports and counters as JSON\n"
	      "  ubctl -n br1 set ageing 60     bridge br1 forgets after 60 s\n"
	      "  ubctl capture start veth0 /tmp/veth0.pcap --filter 'icmp'\n"
	      "  ubctl capture stop all         finish every capture's file\n"
	      "\n"
	      "Exit status:\n"
	      "  0  success\n"
	      "  1  the command failed: refused by the bridge, bridge not reachable,\n"
	      "     or an unreadable reply\n"
	      "  2  usage error\n"
	      "\n"
	      "The bridge listens on " UB_CTL_RUNDIR "/NAME.sock (mode 0600: run as root).\n"
	      "See ubctl(8).\n",
	      stdout);
}

static void ubctl_object_help(FILE *f, const struct ubctl_object *obj)
{
	fprintf(f, "Usage: ubctl [OPTIONS] %s%s\n%s\n\n", obj->name,
		obj->verbs[0].name ? " COMMAND [ARGS]" : "", obj->help);
	fputs("Commands:\n", f);
	ubctl_print_verbs(f, obj);
	if (obj->default_verb)
		fprintf(f, "\n\"ubctl %s\" alone means \"ubctl %s %s\".\n",
			obj->name, obj->name, obj->default_verb);
}

/* ---- grammar ---- */

static bool ubctl_is_keyword(const char *tok)
{
	return *tok >= 'a' && *tok <= 'z';
}

/*
 * Matches 'argv' against a verb's argument grammar (see struct
 * ubctl_verb). An optional group is taken when its leading keyword is the
 * next word; it must then match whole.
 */
static bool ubctl_args_match(const char *grammar, int argc, char **argv)
{
	char buf[128], *save = NULL, *tok;
	int j = 0;
	bool in_group = false, skipping = false;

	snprintf(buf, sizeof(buf), "%s", grammar);
	for (tok = strtok_r(buf, " ", &save); tok;
	     tok = strtok_r(NULL, " ", &save)) {
		size_t n = strlen(tok);
		bool closes = n && tok[n - 1] == ']';

		if (tok[0] == '[') {
			tok++;
			in_group = true;
			/* Only a keyword can open a group: it decides. */
			skipping = j >= argc || strcmp(argv[j], tok) != 0;
		}
		if (closes)
			tok[strlen(tok) - 1] = '\0';
		if (!skipping) {
			if (j >= argc)
				return false;
			if (ubctl_is_keyword(tok) && strcmp(argv[j], tok) != 0)
				return false;
			j++;
		}
		if (closes)
			in_group = skipping = false;
	}
	return !in_group && j == argc;
}

static const struct ubctl_object *ubctl_find_object(const char *name)
{
	for (size_t i = 0; i < UB_ARRAY_SIZE(ubctl_objects); i++) {
		if (strcmp(ubctl_objects[i].name, name) == 0)
			return &ubctl_objects[i];
	}
	return NULL;
}

static const struct ubctl_verb *ubctl_find_verb(const struct ubctl_object *obj,
						const char *name)
{
	for (size_t i = 0; i < obj->nverbs; i++) {
		if (obj->verbs[i].name && strcmp(obj->verbs[i].name, name) == 0)
			return &obj->verbs[i];
	}
	return NULL;
}

/* Each word must be sendable: name the first one that is not. */
static int ubctl_check_words(int argc, char **argv)
{
	char buf[UB_CTL_REQ_MAX + 1];
	int ret;

	for (int i = 0; i < argc; i++) {
		ret = ub_ctl_req_encode(1, &argv[i], buf, sizeof(buf));
		if (ret == -EINVAL) {
			ubctl_err("invalid argument \"%s\": arguments are "
				  "printable ASCII words without spaces",
				  argv[i]);
			return UBCTL_EXIT_USAGE;
		}
	}
	ret = ub_ctl_req_encode(argc, argv, buf, sizeof(buf));
	if (ret < 0) {
		ubctl_err("command too long (at most %d words, %d bytes)",
			  UB_CTL_ARGS_MAX, UB_CTL_REQ_MAX - 1);
		return UBCTL_EXIT_USAGE;
	}
	return UBCTL_EXIT_OK;
}

/* ---- running a command ---- */

static void ubctl_transport_error(const char *bridge, int err)
{
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	const char *hint = "";

	if (ub_ctl_sock_path(bridge, path, sizeof(path)))
		snprintf(path, sizeof(path), "?");
	switch (err) {
	case -ENOENT:
	case -ECONNREFUSED:
		hint = "; is ubridge running?";
		break;
	case -EACCES:
	case -EPERM:
		hint = "; the control socket is for root, the daemon's user and the group of ubridge --group";
		break;
	case -ETIMEDOUT:
		ubctl_err("bridge \"%s\" (%s) did not answer in time", bridge,
			  path);
		return;
	case -EMSGSIZE:
		ubctl_err("reply from bridge \"%s\" too large", bridge);
		return;
	case -EPROTO:
		ubctl_err("bad reply from bridge \"%s\": not text", bridge);
		return;
	}
	ubctl_err("cannot reach bridge \"%s\" (%s): %s%s", bridge, path,
		  strerror(-err), hint);
}

static int ubctl_exec(const struct ubctl_opts *o, const struct ubctl_verb *v,
		      int argc, char **argv)
{
	struct ubctl_reply rep;
	const char *why;
	char *raw = NULL;
	int ret;

	ret = ubctl_check_words(argc, argv);
	if (ret)
		return ret;
	ret = ub_ctl_call(o->bridge, argc, argv, &raw);
	if (ret) {
		ubctl_transport_error(o->bridge, ret);
		return UBCTL_EXIT_FAIL;
	}
	ret = ubctl_reply_parse(raw, &rep, &why);
	if (ret) {
		ubctl_err("bad reply from bridge \"%s\": %s", o->bridge, why);
		ret = UBCTL_EXIT_FAIL;
		goto cleanup;
	}
	if (rep.err) {
		ubctl_err("%s", rep.msg[0] ? rep.msg : strerror(-rep.err));
		ret = UBCTL_EXIT_FAIL;
		goto cleanup;
	}
	if (v->show)
		ret = v->show(&rep, o);
	else if (rep.nrecs)
		ret = ubctl_show_generic(&rep, o);

cleanup:
	ubctl_reply_free(&rep);
	return ret;
}

/*
 * A command answered with a stream: its status line, then bytes copied to
 * stdout until the daemon or the reader stops. A reader that goes away
 * (EPIPE) is a normal end.
 */
static int ubctl_exec_stream(const struct ubctl_opts *o, int argc, char **argv)
{
	char msg[512], buf[65536];
	int fd, err, ret;

	if (isatty(STDOUT_FILENO)) {
		ubctl_err("this writes pcap to standard output: pipe it, e.g. "
			  "into \"tcpdump -nr -\" or \"wireshark -k -i -\"");
		return UBCTL_EXIT_USAGE;
	}
	ret = ubctl_check_words(argc, argv);
	if (ret)
		return ret;
	ret = ub_ctl_call_stream(o->bridge, argc, argv, &fd, &err, msg,
				 sizeof(msg));
	if (ret) {
		ubctl_transport_error(o->bridge, ret);
		return UBCTL_EXIT_FAIL;
	}
	if (err) {
		ubctl_err("%s", msg[0] ? msg : strerror(-err));
		close(fd);
		return UBCTL_EXIT_FAIL;
	}
	signal(SIGPIPE, SIG_IGN);
	ret = UBCTL_EXIT_OK;
	for (;;) {
		/* The reader leaving shows on stdout (POLLERR on a pipe)
		 * even when nothing arrives to write. */
		struct pollfd p[2] = { { .fd = fd, .events = POLLIN },
				       { .fd = STDOUT_FILENO } };
		ssize_t n, w = 0;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			ubctl_err("poll: %s", strerror(errno));
			ret = UBCTL_EXIT_FAIL;
			break;
		}
		if (p[1].revents & (POLLERR | POLLHUP))
			break;
		if (!p[0].revents)
			continue;
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n < 0) {
				ubctl_err("stream: %s", strerror(errno));
				ret = UBCTL_EXIT_FAIL;
			}
			break;
		}
		while (w < n) {
			ssize_t k = write(STDOUT_FILENO, buf + w, (size_t)(n - w));

			if (k < 0 && errno == EINTR)
				continue;
			if (k < 0) {
				if (errno != EPIPE) {
					ubctl_err("write: %s", strerror(errno));
					ret = UBCTL_EXIT_FAIL;
				}
				goto out;
			}
			w += k;
		}
	}
out:
	close(fd);
	return ret;
}

/* 'argv' starts at the object's name. */
static int ubctl_run(const struct ubctl_opts *o, int argc, char **argv)
{
	const struct ubctl_object *obj;
	const struct ubctl_verb *v;
	char *words[UB_CTL_ARGS_MAX + 1];
	int nargs;

	if (strcmp(argv[0], "help") == 0) {
		ubctl_help();
		return UBCTL_EXIT_OK;
	}
	obj = ubctl_find_object(argv[0]);
	if (!obj) {
		ubctl_err("unknown object \"%s\"; try \"ubctl --help\"",
			  argv[0]);
		return UBCTL_EXIT_USAGE;
	}
	if (argc >= 2 && strcmp(argv[1], "help") == 0) {
		ubctl_object_help(stdout, obj);
		return UBCTL_EXIT_OK;
	}

	if (!obj->verbs[0].name) {
		v = &obj->verbs[0];
		nargs = argc - 1;
	} else if (argc == 1 && obj->default_verb) {
		/* "ubctl port" means "ubctl port show", as in iproute2. */
		v = ubctl_find_verb(obj, obj->default_verb);
		words[0] = argv[0];
		words[1] = (char *)v->name;
		return ubctl_exec(o, v, 2, words);
	} else if (argc == 1) {
		ubctl_err("missing command for \"%s\"; try \"ubctl %s help\"",
			  obj->name, obj->name);
		return UBCTL_EXIT_USAGE;
	} else {
		v = ubctl_find_verb(obj, argv[1]);
		if (!v) {
			ubctl_err("unknown command \"%s %s\"; try \"ubctl %s help\"",
				  obj->name, argv[1], obj->name);
			return UBCTL_EXIT_USAGE;
		}
		nargs = argc - 2;
	}
	if (v->prepare) {
		int ret = v->prepare(&argc, argv);

		if (ret >= 0)
			return ret;
		if (v->stream)
			return ubctl_exec_stream(o, argc, argv);
	} else if (!ubctl_args_match(v->args, nargs, argv + argc - nargs)) {
		ubctl_err("wrong arguments for \"%s%s%s\"; usage: ubctl %s%s%s%s%s",
			  obj->name, v->name ? " " : "", v->name ? v->name : "",
			  obj->name, v->name ? " " : "", v->name ? v->name : "",
			  v->args[0] ? " " : "", v->args);
		return UBCTL_EXIT_USAGE;
	}
	return ubctl_exec(o, v, argc, argv);
}

/* Applies one short option; 'arg' is the value of -n. */
static int ubctl_short_opt(char c, const char *arg, struct ubctl_opts *o)
{
	switch (c) {
	case 'n':
		o->bridge = arg;
		break;
	case 'j':
		o->json = true;
		break;
	case 'p':
		o->json = o->pretty = true;
		break;
	case 's':
		o->stats = true;
		break;
	case 'h':
		ubctl_help();
		return UBCTL_EXIT_OK;
	case 'V':
		printf("ubctl (ubridge) %s\n", UB_VERSION);
		return UBCTL_EXIT_OK;
	}
	return -1;
}

/*
 * Recognises one option word at argv[*i] (consuming the next word for a
 * name). Returns -1 when applied, an exit status to stop, or -2 when the
 * word is no option of ours.
 */
static int ubctl_opt_word(int argc, char **argv, int *i, struct ubctl_opts *o)
{
	static const struct {
		const char *name;
		char c;
	} longopts[] = {
		{ "name", 'n' },  { "json", 'j' }, { "pretty", 'p' },
		{ "stats", 's' }, { "help", 'h' }, { "version", 'V' },
	};
	const char *w = argv[*i], *arg;
	size_t k;

	if (w[1] == '-') {
		const char *eq = strchr(w, '=');
		size_t n = eq ? (size_t)(eq - w - 2) : strlen(w + 2);

		for (k = 0; k < UB_ARRAY_SIZE(longopts); k++) {
			if (strlen(longopts[k].name) == n &&
			    !strncmp(w + 2, longopts[k].name, n))
				break;
		}
		if (k == UB_ARRAY_SIZE(longopts) ||
		    (eq && longopts[k].c != 'n'))
			return -2;
		if (longopts[k].c != 'n')
			return ubctl_short_opt(longopts[k].c, NULL, o);
		arg = eq ? eq + 1 : *i + 1 < argc ? argv[++*i] : NULL;
		goto name;
	}
	/* A cluster of short options ("-js"); 'n' takes the rest or the
	 * next word. Checked whole before anything is applied. */
	for (k = 1; w[k] && w[k] != 'n'; k++) {
		if (!strchr("jpshV", w[k]))
			return -2;
	}
	for (size_t j = 1; j < k; j++) {
		int ret = ubctl_short_opt(w[j], NULL, o);

		if (ret >= 0)
			return ret;
	}
	if (!w[k])
		return -1;
	arg = w[k + 1] ? &w[k + 1] : *i + 1 < argc ? argv[++*i] : NULL;
name:
	if (!arg) {
		ubctl_err("option \"%s\" needs a bridge name; try \"ubctl "
			  "--help\"", w);
		return UBCTL_EXIT_USAGE;
	}
	return ubctl_short_opt('n', arg, o);
}

/*
 * Options may come anywhere, as in "ubctl -j port show -s"; "--" ends
 * them. Before the object an unknown option is an error. After it, a word
 * that is not one of our options belongs to the command ("time warp -5"
 * reaches the daemon, which judges it). The command's words are moved to
 * the front of argv and counted in '*nwords'. Returns -1 to go on, or an
 * exit status.
 */
static int ubctl_parse_opts(int argc, char **argv, struct ubctl_opts *o,
			    int *nwords)
{
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	bool opts_done = false;
	int n = 0, ret;

	o->bridge = getenv("UBRIDGE_NAME");
	if (!o->bridge || !o->bridge[0])
		o->bridge = UB_BRIDGE_DEFAULT;
	for (int i = 1; i < argc; i++) {
		const char *w = argv[i];

		if (!opts_done && strcmp(w, "--") == 0) {
			opts_done = true;
			continue;
		}
		if (opts_done || w[0] != '-' || !w[1]) {
			argv[n++] = argv[i];
			continue;
		}
		ret = ubctl_opt_word(argc, argv, &i, o);
		if (ret == -2 && n) {
			argv[n++] = argv[i];
			continue;
		}
		if (ret == -2) {
			ubctl_err("unknown option \"%s\"; try \"ubctl --help\"",
				  w);
			return UBCTL_EXIT_USAGE;
		}
		if (ret >= 0)
			return ret;
	}

	switch (ub_ctl_sock_path(o->bridge, path, sizeof(path))) {
	case 0:
		break;
	case -ENAMETOOLONG:
		ubctl_err("bridge name \"%s\" too long (at most %d characters)",
			  o->bridge, UB_BRIDGE_NAME_MAX);
		return UBCTL_EXIT_USAGE;
	default:
		ubctl_err("invalid bridge name \"%s\" (letters, digits, "
			  "'_', '.', '-'; not starting with '.' or '-')",
			  o->bridge);
		return UBCTL_EXIT_USAGE;
	}
	if (!n) {
		ubctl_usage_short(stderr);
		return UBCTL_EXIT_USAGE;
	}
	*nwords = n;
	return -1;
}

/* Output that could not be written is a failure, not a silent success. */
static int ubctl_flush(int ret)
{
	if (fflush(stdout) || ferror(stdout)) {
		ubctl_err("write error: %s", strerror(errno));
		return UBCTL_EXIT_FAIL;
	}
	return ret;
}

int main(int argc, char **argv)
{
	struct ubctl_opts o = { 0 };
	int ret;

	int nwords;

	ret = ubctl_parse_opts(argc, argv, &o, &nwords);
	if (ret < 0)
		ret = ubctl_run(&o, nwords, argv);
	return ubctl_flush(ret);
}
