/* SPDX-License-Identifier: MIT */
/*
 * ubctl: the command-line client of the ubridge daemon.
 *
 *	ubctl [OPTIONS] OBJECT COMMAND [ARGS]
 *
 * The grammar is not written here. ubctl parses its command line with the
 * table in control/ (include/ubridge/cmd.h), the one the daemon parses
 * requests with: a bad argument is refused before anything is sent, in
 * the words the daemon would use, and the request is built from the
 * parsed values in the daemon's canonical form. The help and the bash
 * completion ("ubctl completion bash") are generated from the same table.
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
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include <ubridge/cmd.h>
#include <ubridge/compiler.h>
#include <ubridge/ctl.h>

#ifndef UB_VERSION
#define UB_VERSION "0.1.0"
#endif

#define UBCTL_EXIT_OK 0
#define UBCTL_EXIT_FAIL 1
#define UBCTL_EXIT_USAGE 2
/* The read buffer of a stream: pcap bytes, or monitor records. */
#define UBCTL_STREAM_BUF 65536

struct ubctl_opts {
	const char *bridge;
	bool json;
	bool pretty;
	bool stats;
	bool prometheus;
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

/* Which keys of a record to show; NULL shows all. */
typedef bool (*ubctl_key_filter)(const char *key, const struct ubctl_opts *o);

/*
 * A value: a number when it is a plain decimal that fits 64 bits, unless
 * its key names something (a namespace "42", a container id all digits).
 */
static json_object *ubctl_json_value(const char *key, const char *s)
{
	static const char *const names[] = { "name", "port", "ifname",
					     "container", "dev", "file", "vids",
					     "untagged", "from", "spec" };
	unsigned long long n;
	bool text = false;

	for (size_t i = 0; i < UB_ARRAY_SIZE(names); i++)
		text = text || !strcmp(key, names[i]);
	if (!text && ubctl_is_number(s)) {
		errno = 0;
		n = strtoull(s, NULL, 10);
		if (errno != ERANGE)
			return json_object_new_uint64(n);
	}
	return json_object_new_string(s);
}

/* One record as an object, keys in the daemon's order; NULL: no memory. */
static json_object *ubctl_json_object(const struct ubctl_rec *r,
				      ubctl_key_filter keep,
				      const struct ubctl_opts *o)
{
	json_object *obj = json_object_new_object();

	for (int i = 0; obj && i < r->n; i++) {
		const struct ub_ctl_kv *kv = &r->kv[i];
		json_object *v;

		if (keep && !keep(kv->key, o))
			continue;
		v = ubctl_json_value(kv->key, kv->val);
		if (!v || json_object_object_add(obj, kv->key, v)) {
			json_object_put(v);
			json_object_put(obj);
			obj = NULL;
		}
	}
	return obj;
}

/* Prints 'j' on a line of its own and drops it. Returns an exit status. */
static int ubctl_json_print(json_object *j, const struct ubctl_opts *o)
{
	int flags = JSON_C_TO_STRING_NOSLASHESCAPE |
		    (o->pretty ? JSON_C_TO_STRING_PRETTY |
					 JSON_C_TO_STRING_SPACED :
				 JSON_C_TO_STRING_PLAIN);
	const char *s = j ? json_object_to_json_string_ext(j, flags) : NULL;
	int ret = UBCTL_EXIT_OK;

	if (s) {
		puts(s);
	} else {
		ubctl_err("%s", strerror(ENOMEM));
		ret = UBCTL_EXIT_FAIL;
	}
	json_object_put(j);
	return ret;
}

/* All records as a JSON array of objects; "[]" when there is none. */
static int ubctl_json_array(const struct ubctl_reply *rep,
			    ubctl_key_filter keep, const struct ubctl_opts *o)
{
	json_object *arr = json_object_new_array();

	for (size_t i = 0; arr && i < rep->nrecs; i++) {
		json_object *obj = ubctl_json_object(&rep->recs[i], keep, o);

		if (!obj || json_object_array_add(arr, obj)) {
			json_object_put(obj);
			json_object_put(arr);
			arr = NULL;
		}
	}
	return ubctl_json_print(arr, o);
}

/* ---- renderers ---- */

/* Anything a command did not announce: key=value lines, as received. */
static int ubctl_show_generic(const struct ubctl_reply *rep,
			      const struct ubctl_opts *o)
{
	if (o->json)
		return ubctl_json_array(rep, NULL, o);
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

	if (o->json)
		return ubctl_json_array(rep, ubctl_port_key, o);
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

/* An entry's move count only with -s. */
static bool ubctl_fdb_key(const char *key, const struct ubctl_opts *o)
{
	return o->stats || strcmp(key, "moves");
}

/* Like "bridge fdb show": 02:00:00:00:00:01 dev veth0 vlan 0 learned age 12s
 * (-s: and "moves N", how often it moved between ports) */
static int ubctl_show_fdb(const struct ubctl_reply *rep,
			  const struct ubctl_opts *o)
{
	static const char *const known[] = { "mac", "port", "vlan", "type",
					     "age", "moves" };

	if (o->json)
		return ubctl_json_array(rep, ubctl_fdb_key, o);
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
		if (o->stats && ubctl_rec_get(r, "moves"))
			printf(" moves %s", ubctl_rec_get(r, "moves"));
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

		/* More than the one record we expect: keep all. */
		if (rep->nrecs > 1)
			return ubctl_json_array(rep, NULL, o);
		return ubctl_json_print(ubctl_json_object(rep->nrecs ?
							  &rep->recs[0] :
							  &none, NULL, o), o);
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
	if (o->json)
		return ubctl_json_array(rep, NULL, o);
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
static int ubctl_show_netns(const struct ubctl_reply *rep,
			    const struct ubctl_opts *o)
{
	static const char *const encoded[] = { "name" };
	static const struct ubctl_col_spec cols[] = {
		{ "name", "NAMESPACE", -16 }, { "port", "PORT", -15 },
		{ "ifname", "IFNAME", -8 },   { "mac", "MAC", -17 },
		{ "addrs", "ADDRESSES", -28 }, { "container", "CONTAINER", 0 },
	};

	return ubctl_show_table(rep, o, encoded, UB_ARRAY_SIZE(encoded), cols,
				UB_ARRAY_SIZE(cols));
}

static int ubctl_show_impair(const struct ubctl_reply *rep,
			     const struct ubctl_opts *o)
{
	static const char *const encoded[] = { "spec" };
	static const struct ubctl_col_spec cols[] = {
		{ "port", "PORT", -15 },	 { "dir", "DIR", -3 },
		{ "queued", "QUEUED", 6 },	 { "delayed", "DELAYED", 9 },
		{ "lost", "LOST", 7 },		 { "full", "FULL", 7 },
		{ "corrupted", "CORRUPT", 7 },	 { "duplicated", "DUP", 7 },
		{ "reordered", "REORDER", 7 },	 { "spec", "IMPAIRMENT", 0 },
	};

	return ubctl_show_table(rep, o, encoded, UB_ARRAY_SIZE(encoded), cols,
				UB_ARRAY_SIZE(cols));
}

static int ubctl_show_vlan(const struct ubctl_reply *rep,
			   const struct ubctl_opts *o)
{
	static const struct ubctl_col_spec cols[] = {
		{ "port", "PORT", -15 }, { "pvid", "PVID", 4 },
		{ "vids", "VLANS", -24 }, { "untagged", "UNTAGGED", 0 },
	};

	return ubctl_show_table(rep, o, NULL, 0, cols, UB_ARRAY_SIZE(cols));
}

static int ubctl_show_vxlan(const struct ubctl_reply *rep,
			    const struct ubctl_opts *o)
{
	static const struct ubctl_col_spec cols[] = {
		{ "name", "PORT", -15 },     { "vni", "VNI", 8 },
		{ "local", "LOCAL", -15 },   { "dstport", "DSTPORT", 7 },
		{ "srcport", "SRCPORT", -11 }, { "ttl", "TTL", 3 },
		{ "learning", "LEARNING", -8 }, { "mtu", "MTU", 5 },
		{ "remotes_known", "KNOWN", 5 }, { "flood", "FLOOD", 0 },
	};

	return ubctl_show_table(rep, o, NULL, 0, cols, UB_ARRAY_SIZE(cols));
}

/* ---- Prometheus ---- */

/*
 * "stats --prometheus" writes the text exposition format, version 0.0.4
 * (node_exporter's textfile collector reads it). Every key of the
 * bridge's "stats" record and of each port's "port show" record becomes
 * a metric by the rules below, not by a list, so a counter the daemon
 * adds later is exported without a change here:
 *  - a port's rx_ and tx_ keys, its "blocks", and the bridge's fdb_ keys
 *    but the table sizes (fdb_*_entries) count events since the daemon
 *    started: counters, named with _total;
 *  - any other plain decimal is a gauge, in base units (_ms keys in
 *    seconds, _kib ones in bytes, "ageing" as ageing_seconds); on|off is
 *    1|0; a port's state and blocked become ubridge_port_up and
 *    ubridge_port_blocked, 1 or 0;
 *  - other words (kind, policy) are no numbers: left out.
 * The drop counters rx_drop_REASON and tx_drop_REASON make one family,
 * ubridge_port_drops_total{direction,reason}, rather than one family
 * each: sum() over it is a port's drops, and a reason added later is a
 * new series of a family dashboards already show.
 */

#define UBCTL_PROM_NAME_MAX 128

/* A key of a record as a sample. */
struct ubctl_prom {
	char name[UBCTL_PROM_NAME_MAX];	/* its family's */
	const char *type;		/* "counter" or "gauge" */
	const char *dir, *reason;	/* a drop's labels; NULL for others */
	char value[32];
};

/* HELP of the families we know; others get a generic one. */
static const struct {
	const char *name, *help;
} ubctl_prom_helps[] = {
	{ "ubridge_ports", "Ports of the bridge." },
	{ "ubridge_ageing_seconds",
	  "How long a learned address lasts unseen (0: nothing is learned)." },
	{ "ubridge_max_learned",
	  "The bridge's cap on learned FDB entries (the least recently "
	  "seen is evicted past it)." },
	{ "ubridge_vlan_filtering", "1 when VLAN filtering is on." },
	{ "ubridge_fdb_learned_entries", "Learned entries in the FDB." },
	{ "ubridge_fdb_static_entries",
	  "Static entries in the FDB, local ones included." },
	{ "ubridge_fdb_local_entries", "The ports' own addresses in the FDB." },
	{ "ubridge_fdb_learned_total", "Addresses learned." },
	{ "ubridge_fdb_moved_total", "Addresses that moved to another port." },
	{ "ubridge_fdb_aged_total", "Learned entries aged out." },
	{ "ubridge_fdb_evicted_total",
	  "Learned entries evicted at the bridge's cap to make room." },
	{ "ubridge_fdb_static_refused_total",
	  "Learning refused because a static entry holds the address." },
	{ "ubridge_fdb_port_refused_total",
	  "New addresses refused by a port's own cap." },
	{ "ubridge_bufs_free", "Free receive buffers, all workers' pools." },
	{ "ubridge_port_rx_packets_total", "Frames received on the port." },
	{ "ubridge_port_rx_bytes_total", "Bytes received on the port." },
	{ "ubridge_port_tx_packets_total", "Frames sent on the port." },
	{ "ubridge_port_tx_bytes_total", "Bytes sent on the port." },
	{ "ubridge_port_rx_learn_refused_total",
	  "Frames forwarded without learning their new source: the port "
	  "was at its cap." },
	{ "ubridge_port_drops_total",
	  "Frames dropped on the port, by direction and reason (ubridge(8), "
	  "COUNTERS)." },
	{ "ubridge_port_up", "1 when the port's link is up." },
	{ "ubridge_port_blocked", "1 when a guard blocks the port." },
	{ "ubridge_port_blocked_for_seconds",
	  "How much longer the port stays blocked, unless the cause is seen "
	  "again." },
	{ "ubridge_port_blocks_total", "Times a guard blocked the port." },
	{ "ubridge_port_loop_guard", "1 when the port's loop guard is on." },
	{ "ubridge_port_bpdu_guard", "1 when the port's BPDU guard is on." },
	{ "ubridge_port_learned_entries", "FDB entries learned on the port." },
	{ "ubridge_port_max_learned",
	  "The port's own cap on learned FDB entries (0: none)." },
	{ "ubridge_port_mtu", "The port's MTU." },
	{ "ubridge_port_ifindex",
	  "The port's interface index (0: no interface of its own)." },
	{ "ubridge_port_worker",
	  "The worker thread that receives from the port." },
	{ "ubridge_port_ring_bytes",
	  "The size of the port's receive ring now (0: none)." },
};

static bool ubctl_has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && !strcmp(s + n - k, suffix);
}

static bool ubctl_is_drop(const char *key)
{
	return ubctl_is_counter(key) && ubctl_has_prefix(key + 3, "drop_");
}

/* Whether key 'key' of a port's record (or the bridge's) counts events. */
static bool ubctl_prom_counts(bool port, const char *key)
{
	if (port)
		return ubctl_is_counter(key) || !strcmp(key, "blocks");
	return ubctl_has_prefix(key, "fdb_") &&
	       !ubctl_has_suffix(key, "_entries");
}

/*
 * The sample 'kv' of a port's record (or the bridge's) makes, into 'm'.
 * False when it makes none: the record's label (name, bridge), a word.
 */
static bool ubctl_prom_sample(bool port, const struct ub_ctl_kv *kv,
			      struct ubctl_prom *m)
{
	const char *key = kv->key, *val = kv->val, *unit = "";
	bool counter = ubctl_prom_counts(port, key);
	unsigned long long n;
	int len;

	m->dir = m->reason = NULL;
	m->type = counter ? "counter" : "gauge";
	if (!strcmp(key, port ? "name" : "bridge"))
		return false;
	if (port && !strcmp(key, "state")) {
		key = "up";
		n = strcmp(val, "down") != 0;
	} else if (port && !strcmp(key, "blocked")) {
		n = strcmp(val, "no") != 0;
	} else if (!counter && (!strcmp(val, "on") || !strcmp(val, "off"))) {
		n = val[1] == 'n';
	} else if (ubctl_is_number(val)) {
		errno = 0;
		n = strtoull(val, NULL, 10);
		if (errno == ERANGE)
			return false;
	} else {
		return false;
	}
	snprintf(m->value, sizeof(m->value), "%llu", n);

	len = (int)strlen(key);
	if (counter && ubctl_is_drop(key)) {
		m->dir = key[0] == 'r' ? "rx" : "tx";
		m->reason = ubctl_counter_label(key);
		key = "drops";
		len = 5;
	} else if (ubctl_has_suffix(key, "_ms")) {
		len -= 3;
		unit = "_seconds";
		snprintf(m->value, sizeof(m->value), "%llu.%03llu", n / 1000,
			 n % 1000);
	} else if (ubctl_has_suffix(key, "_kib")) {
		len -= 4;
		unit = "_bytes";
		snprintf(m->value, sizeof(m->value), "%llu", n * 1024);
	} else if (!port && !strcmp(key, "ageing")) {
		unit = "_seconds";
	}
	snprintf(m->name, sizeof(m->name), "ubridge_%s%.*s%s%s",
		 port ? "port_" : "", len, key, unit, counter ? "_total" : "");
	/* What the format allows in a name, should a key hold more. */
	for (char *c = m->name; *c; c++) {
		if (!isalnum((unsigned char)*c) && *c != '_' && *c != ':')
			*c = '_';
	}
	return true;
}

/* 's' with backslashes and newlines escaped, and quotes if 'quotes'. */
static void ubctl_prom_escaped(const char *s, bool quotes)
{
	for (; *s; s++) {
		if (*s == '\\' || (quotes && *s == '"'))
			printf("\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", stdout);
		else
			putchar(*s);
	}
}

static void ubctl_prom_label(const char *sep, const char *label,
			     const char *val)
{
	printf("%s%s=\"", sep, label);
	ubctl_prom_escaped(val, true);
	putchar('"');
}

/*
 * The samples of family 'name', made from 'key' (or from the drop
 * counters), in records 'from' onwards of 'rep'. Only the keys that can
 * make it are looked at: thousands of ports make a long reply.
 */
static void ubctl_prom_family(const struct ubctl_opts *o,
			      const struct ubctl_reply *rep, bool port,
			      size_t from, const char *key, const char *name)
{
	bool drops = port && ubctl_is_drop(key);
	struct ubctl_prom m;

	for (size_t i = from; i < rep->nrecs; i++) {
		const struct ubctl_rec *r = &rep->recs[i];
		const char *pname = ubctl_rec_get(r, "name");

		for (int k = 0; k < r->n; k++) {
			const char *kk = r->kv[k].key;

			if ((drops ? !ubctl_is_drop(kk) : strcmp(kk, key)) ||
			    !ubctl_prom_sample(port, &r->kv[k], &m) ||
			    strcmp(m.name, name))
				continue;
			fputs(name, stdout);
			ubctl_prom_label("{", "bridge", o->bridge);
			if (port)
				ubctl_prom_label(",", "port",
						 pname ? pname : "");
			if (m.dir) {
				ubctl_prom_label(",", "direction", m.dir);
				ubctl_prom_label(",", "reason", m.reason);
			}
			printf("} %s\n", m.value);
		}
	}
}

/* The families written so far. */
struct ubctl_prom_seen {
	char (*name)[UBCTL_PROM_NAME_MAX];
	size_t n, cap;
};

/* Notes family 'name' as written: 1 if it was already, 0, or -ENOMEM. */
static int ubctl_prom_seen(struct ubctl_prom_seen *seen, const char *name)
{
	char (*more)[UBCTL_PROM_NAME_MAX];

	for (size_t i = 0; i < seen->n; i++) {
		if (!strcmp(seen->name[i], name))
			return 1;
	}
	if (seen->n == seen->cap) {
		seen->cap = seen->cap ? 2 * seen->cap : 64;
		more = realloc(seen->name, seen->cap * sizeof(*more));
		if (!more)
			return -ENOMEM;
		seen->name = more;
	}
	snprintf(seen->name[seen->n++], sizeof(*seen->name), "%s", name);
	return 0;
}

/* HELP and TYPE of the family of 'm', made from 'key' of a record. */
static void ubctl_prom_head(const struct ubctl_prom *m, bool port,
			    const char *key)
{
	const char *help = NULL;

	for (size_t h = 0; h < UB_ARRAY_SIZE(ubctl_prom_helps); h++) {
		if (!strcmp(ubctl_prom_helps[h].name, m->name))
			help = ubctl_prom_helps[h].help;
	}
	printf("# HELP %s ", m->name);
	if (help) {
		fputs(help, stdout);
	} else {
		ubctl_prom_escaped(key, false);
		printf(" of \"ubctl %s\".", port ? "-s port show" : "stats");
	}
	printf("\n# TYPE %s %s\n", m->name, m->type);
}

/*
 * The bridge's families, then the ports'. A family's samples must come
 * together, after its one HELP and TYPE: each family is written whole
 * where it first appears.
 */
static int ubctl_prom_print(const struct ubctl_opts *o,
			    const struct ubctl_reply *stats,
			    const struct ubctl_reply *ports)
{
	const struct {
		const struct ubctl_reply *rep;
		bool port;
	} srcs[] = { { stats, false }, { ports, true } };
	struct ubctl_prom_seen seen = { 0 };
	struct ubctl_prom m;
	int ret = 0;

	for (size_t s = 0; s < UB_ARRAY_SIZE(srcs); s++) {
		const struct ubctl_reply *rep = srcs[s].rep;
		bool port = srcs[s].port;

		for (size_t i = 0; i < rep->nrecs && ret >= 0; i++) {
			const struct ubctl_rec *r = &rep->recs[i];

			for (int k = 0; k < r->n && ret >= 0; k++) {
				if (!ubctl_prom_sample(port, &r->kv[k], &m) ||
				    (ret = ubctl_prom_seen(&seen, m.name)))
					continue;
				ubctl_prom_head(&m, port, r->kv[k].key);
				ubctl_prom_family(o, rep, port, i, r->kv[k].key,
						  m.name);
			}
		}
	}
	free(seen.name);
	if (ret < 0) {
		ubctl_err("%s", strerror(-ret));
		return UBCTL_EXIT_FAIL;
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
	case -EBUSY:
		/* Its connections are all taken, for a second or so: the
		 * daemon keeps request deadlines short. */
		ubctl_err("bridge \"%s\" is busy, try again", bridge);
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

/*
 * Sends one request and reads its reply into 'rep', which the caller
 * frees with ubctl_reply_free() whatever the outcome. Returns an exit
 * status; a failure has been told.
 */
static int ubctl_call(const struct ubctl_opts *o, int argc, char **argv,
		      const int *fds, unsigned int nfds,
		      struct ubctl_reply *rep)
{
	const char *why;
	char *raw = NULL;
	int ret;

	memset(rep, 0, sizeof(*rep));
	ret = ub_ctl_call(o->bridge, argc, argv, fds, nfds, &raw);
	if (ret) {
		ubctl_transport_error(o->bridge, ret);
		return UBCTL_EXIT_FAIL;
	}
	if (ubctl_reply_parse(raw, rep, &why)) {
		ubctl_err("bad reply from bridge \"%s\": %s", o->bridge, why);
		return UBCTL_EXIT_FAIL;
	}
	if (rep->err) {
		ubctl_err("%s", rep->msg[0] ? rep->msg : strerror(-rep->err));
		return UBCTL_EXIT_FAIL;
	}
	return UBCTL_EXIT_OK;
}

static int ubctl_exec(const struct ubctl_opts *o, ubctl_show_fn show,
		      int argc, char **argv, const int *fds, unsigned int nfds)
{
	struct ubctl_reply rep;
	int ret = ubctl_call(o, argc, argv, fds, nfds, &rep);

	if (ret == UBCTL_EXIT_OK && show)
		ret = show(&rep, o);
	else if (ret == UBCTL_EXIT_OK && rep.nrecs)
		ret = ubctl_show_generic(&rep, o);
	ubctl_reply_free(&rep);
	return ret;
}

/*
 * "stats --prometheus": the bridge's record and every port's, from the
 * plain "stats" request and "port show" (whose reply always carries the
 * counters; -s only shows them). Two requests, so not one instant's
 * snapshot, which Prometheus does not need.
 */
static int ubctl_prometheus(const struct ubctl_opts *o, int argc,
			    char **argv)
{
	char port[] = "port", show[] = "show", *port_show[] = { port, show };
	struct ubctl_reply stats = { 0 }, ports = { 0 };
	int ret = ubctl_call(o, argc, argv, NULL, 0, &stats);

	if (ret == UBCTL_EXIT_OK)
		ret = ubctl_call(o, (int)UB_ARRAY_SIZE(port_show), port_show,
				 NULL, 0, &ports);
	if (ret == UBCTL_EXIT_OK)
		ret = ubctl_prom_print(o, &stats, &ports);
	ubctl_reply_free(&stats);
	ubctl_reply_free(&ports);
	return ret;
}

/*
 * One monitor record: a line of text (the time, the event, then its
 * fields, "port" as "dev"), or with -j a JSON object on a line of its own.
 * False when stdout is gone.
 */
static bool ubctl_monitor_line(char *line, const struct ubctl_opts *o)
{
	struct ub_ctl_kv kv[UB_CTL_ARGS_MAX];
	struct ubctl_rec r = { kv, ub_ctl_record_decode(line, kv,
							UB_CTL_ARGS_MAX) };
	const char *ts, *ev;

	if (r.n <= 0)
		return true;
	/* An impairment's words travel percent-encoded. */
	for (int k = 0; k < r.n; k++)
		if (!strcmp(kv[k].key, "spec"))
			ub_ctl_word_decode((char *)kv[k].val);
	if (o->json) {
		ubctl_json_print(ubctl_json_object(&r, NULL, o), o);
	} else {
		ts = ubctl_rec_get(&r, "ts");
		ev = ubctl_rec_get(&r, "event");
		if (ts) {
			unsigned long long ms = strtoull(ts, NULL, 10);
			time_t sec = (time_t)(ms / 1000);
			char when[16];
			struct tm tm;

			strftime(when, sizeof(when), "%H:%M:%S",
				 localtime_r(&sec, &tm));
			printf("%s.%03llu ", when, ms % 1000);
		}
		fputs(ev ? ev : "?", stdout);
		for (int k = 0; k < r.n; k++) {
			const char *key = kv[k].key;

			if (!strcmp(key, "event") || !strcmp(key, "ts"))
				continue;
			if (!strcmp(key, "mac"))
				printf(" %s", kv[k].val);
			else
				printf(" %s %s", strcmp(key, "port") ? key :
				       "dev", kv[k].val);
		}
		putchar('\n');
	}
	return fflush(stdout) == 0;
}

/* Monitor records in buf[0..*len) that end in a newline, shown; the rest
 * stays for the next read. A line longer than the buffer is no record of
 * ours: dropped, up to its newline ('*skip' meanwhile). False when stdout
 * is gone. */
static bool ubctl_monitor_lines(char *buf, size_t *len, bool *skip,
				const struct ubctl_opts *o)
{
	char *line = buf, *nl;

	while ((nl = memchr(line, '\n', *len - (size_t)(line - buf)))) {
		*nl = '\0';
		if (!*skip && !ubctl_monitor_line(line, o))
			return false;
		*skip = false;
		line = nl + 1;
	}
	*len -= (size_t)(line - buf);
	memmove(buf, line, *len);
	if (*len == UBCTL_STREAM_BUF) {
		*len = 0;
		*skip = true;
	}
	return true;
}

/*
 * A command answered with a stream: its status line, then bytes copied to
 * stdout (a capture's pcap), or records shown line by line (monitor),
 * until the daemon or the reader stops. A reader that goes away (EPIPE)
 * is a normal end.
 */
static int ubctl_exec_stream(const struct ubctl_opts *o, bool records,
			     int argc, char **argv)
{
	static char buf[UBCTL_STREAM_BUF];
	char msg[512];
	size_t have = 0;
	bool skip = false;
	int fd, err, ret;

	if (!records && isatty(STDOUT_FILENO)) {
		ubctl_err("this writes pcap to standard output: pipe it, e.g. "
			  "into \"tcpdump -nr -\" or \"wireshark -k -i -\"");
		return UBCTL_EXIT_USAGE;
	}
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
		n = read(fd, buf + have, sizeof(buf) - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n < 0) {
				ubctl_err("stream: %s", strerror(errno));
				ret = UBCTL_EXIT_FAIL;
			}
			break;
		}
		if (records) {
			have += (size_t)n;
			if (ubctl_monitor_lines(buf, &have, &skip, o))
				continue;
			if (errno != EPIPE) {
				ubctl_err("write: %s", strerror(errno));
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

/* How each command's reply is shown; NULL: records as key=value lines. */
static const ubctl_show_fn ubctl_shows[UB_CMD__COUNT] = {
	[UB_CMD_PORT_SHOW] = ubctl_show_ports,
	[UB_CMD_FDB_SHOW] = ubctl_show_fdb,
	[UB_CMD_STATS] = ubctl_show_stats,
	[UB_CMD_CAPTURE_START] = ubctl_show_id,
	[UB_CMD_CAPTURE_SHOW] = ubctl_show_captures,
	[UB_CMD_NETNS_SHOW] = ubctl_show_netns,
	[UB_CMD_GATEWAY_SHOW] = ubctl_show_stats,
	[UB_CMD_VLAN_SHOW] = ubctl_show_vlan,
	[UB_CMD_IMPAIR_SHOW] = ubctl_show_impair,
	[UB_CMD_VXLAN_SHOW] = ubctl_show_vxlan,
};

/* ---- help ---- */

/* ubctl's own options: for getopt_long(), the help and the completion. */
static const struct ub_cmd_global ubctl_globals[] = {
	{ "name", 'n', "NAME", "talk to bridge NAME (default: $UBRIDGE_NAME, "
			       "else " UB_BRIDGE_DEFAULT ")" },
	{ "json", 'j', NULL, "print JSON: an array of objects, one per record" },
	{ "pretty", 'p', NULL, "print indented JSON (implies -j)" },
	{ "stats", 's', NULL, "show counters: a port's in \"port show\", an address's moves in \"fdb show\"" },
	/* No short form: case 0 of ubctl_parse_opts(). */
	{ "prometheus", 0, NULL,
	  "with \"stats\": all counters in Prometheus' format" },
	{ "help", 'h', NULL, "print this help and exit" },
	{ "version", 'V', NULL, "print the version and exit" },
};

static void ubctl_usage_short(FILE *f)
{
	int x;

	fputs("Usage: ubctl [OPTIONS] OBJECT COMMAND [ARGS]\n"
	      "       ubctl OBJECT help\n"
	      "       ubctl --help\n", f);
	x = fprintf(f, "OBJECT := {");
	for (size_t i = 0; ub_cmd_object_get(i); i++) {
		const char *name = ub_cmd_object_get(i)->name;

		if (x + (int)strlen(name) + 4 > 79)
			x = fprintf(f, "\n          ");
		x += fprintf(f, "%s %s", i ? " |" : "", name);
	}
	fputs(" }\n", f);
}

static void ubctl_help(void)
{
	const char *sep = "";

	fputs("ubctl - control the ubridge userspace Ethernet bridge\n\n",
	      stdout);
	ubctl_usage_short(stdout);
	fputs("\nCommands:\n", stdout);
	ub_cmd_write_commands(stdout, NULL);
	fputs("\n  \"ubctl OBJECT\" alone means \"ubctl OBJECT show\" for", stdout);
	for (int i = 0; i < UB_CMD__COUNT; i++) {
		const struct ub_cmd_spec *c = ub_cmd_get((enum ub_cmd_id)i);

		if (c->flags & UB_CMD_F_DEFAULT) {
			printf("%s %s", sep, c->obj);
			sep = ",";
		}
	}
	fputs(".\n"
	      "  MAC is aa:bb:cc:dd:ee:ff, VID a VLAN id (0: untagged).\n"
	      "\nOptions:\n", stdout);
	for (size_t i = 0; i < UB_ARRAY_SIZE(ubctl_globals); i++) {
		const struct ub_cmd_global *g = &ubctl_globals[i];
		char opt[32];

		if (g->short_name)
			snprintf(opt, sizeof(opt), "-%c, --%s%s%s",
				 g->short_name, g->name, g->meta ? " " : "",
				 g->meta ? g->meta : "");
		else
			snprintf(opt, sizeof(opt), "    --%s", g->name);
		printf("  %-16s  %s\n", opt, g->help);
	}
	fputs("\n"
	      "Options may come anywhere on the line; \"--\" ends them. A\n"
	      "command's options may be written without their dashes.\n"
	      "Arguments are checked before anything is sent to the bridge.\n"
	      "\n"
	      "Examples:\n"
	      "  ubctl netns add ns1 --addr 172.16.1.1/16\n"
	      "                                 namespace ns1 wired to the bridge\n"
	      "  ubctl port add veth-ns1        attach veth-ns1\n"
	      "  ubctl port add veth1 veth2 veth3\n"
	      "                                 attach three in one request\n"
	      "  ubctl port show -s             ports with their RX/TX counters\n"
	      "  ubctl fdb show                 learned and static addresses\n"
	      "  ubctl fdb add 02:00:00:00:00:01 dev veth0 vlan 10\n"
	      "  ubctl port set veth0 --max-learned 16 --policy drop\n"
	      "                                 veth0 keeps to 16 addresses\n"
	      "  ubctl -j port show -s          ports and counters as JSON\n"
	      "  ubctl stats --prometheus       all counters for Prometheus\n"
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

static void ubctl_object_help(const struct ub_cmd_object *obj)
{
	const struct ub_cmd_spec *c = ub_cmd_find(obj->name, NULL);

	printf("Usage: ubctl [OPTIONS] %s%s\n", obj->name,
	       c ? " [ARGS]" : " COMMAND [ARGS]");
	ub_cmd_write_object_help(stdout, obj);
}

/* "ubctl completion bash": the script CMake installs, for bash-completion. */
static int ubctl_completion(int argc, char **argv)
{
	if (argc != 2 || strcmp(argv[1], "bash")) {
		ubctl_err("usage: ubctl completion bash");
		return UBCTL_EXIT_USAGE;
	}
	if (ub_cmd_write_bash(stdout, "ubctl", ubctl_globals,
			      UB_ARRAY_SIZE(ubctl_globals)))
		return UBCTL_EXIT_FAIL;
	return UBCTL_EXIT_OK;
}

/* ---- the command line ---- */

/*
 * A relative FILE is meant from ubctl's working directory; the daemon has
 * its own. (A command has at most one file argument: one buffer will do.)
 */
static int ubctl_absolute_paths(struct ub_cmd_args *a)
{
	static char abs[PATH_MAX + 1];
	char cwd[PATH_MAX];

	for (unsigned int i = 0; i < a->spec->nargs; i++) {
		const struct ub_cmd_arg *arg = &a->spec->args[i];
		struct ub_cmd_val *v = &a->v[arg->key];

		if (arg->type != UB_CMD_T_PATH || !ub_cmd_has(a, arg->key) ||
		    v->str[0] == '/')
			continue;
		if (!getcwd(cwd, sizeof(cwd))) {
			ubctl_err("cannot tell the current directory: %s",
				  strerror(errno));
			return UBCTL_EXIT_FAIL;
		}
		if ((size_t)snprintf(abs, sizeof(abs), "%s/%s", cwd, v->str) >=
		    sizeof(abs)) {
			ubctl_err("file name too long");
			return UBCTL_EXIT_USAGE;
		}
		v->str = abs;
		break;
	}
	return UBCTL_EXIT_OK;
}

/*
 * "netns attach PATH|--pid PID": the namespace file (the process's
 * /proc/PID/ns/net) is opened here, with the user's own rights, and
 * passed; the daemon checks it is a network namespace.
 */
static int ubctl_netns_attach_fd(const struct ubctl_opts *o,
				 const struct ub_cmd_args *a, int argc,
				 char **argv)
{
	const char *path = a->v[UB_CMD_K_NAME].str;
	char proc[48];
	int fd, ret;

	if (ub_cmd_has(a, UB_CMD_K_PID)) {
		snprintf(proc, sizeof(proc), "/proc/%llu/ns/net",
			 (unsigned long long)a->v[UB_CMD_K_PID].u);
		path = proc;
	}
	/* A namespace file never blocks; a FIFO named by mistake would. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		ubctl_err("open the namespace %s: %s%s", path, strerror(errno),
			  errno == ENOENT && path == proc ?
				  " (no such process?)" : "");
		return UBCTL_EXIT_FAIL;
	}
	ret = ubctl_exec(o, NULL, argc, argv, &fd, 1);
	close(fd);
	return ret;
}

/*
 * "capture start": the files are opened here, with the user's own rights,
 * and passed to the daemon with the request, which writes into them (it
 * never opens a path a client names). Not truncated here: the capture
 * empties each file as it starts writing it, so a refused capture leaves
 * a file that was there as it was, and one made for it is removed.
 */
static int ubctl_capture_start(const struct ubctl_opts *o,
			       const struct ub_cmd_args *a, int argc,
			       char **argv)
{
	const char *path = a->v[UB_CMD_K_FILE].str;
	uint32_t nfiles = ub_cmd_capture_files(a);
	bool existed[UB_CMD_CAP_FILES_MAX];
	int fds[UB_CMD_CAP_FILES_MAX], n, ret;
	char err[4200], name[PATH_MAX + 16];

	for (uint32_t i = 0; i < (nfiles ? nfiles : 1); i++)
		existed[i] = !ub_capture_file_name(path, nfiles, i, name,
						   sizeof(name)) &&
			     !access(name, F_OK);
	n = ub_capture_files_open(path, nfiles, O_WRONLY | O_CREAT, fds, err,
				  sizeof(err));
	if (n < 0) {
		ubctl_err("%s", err);
		return UBCTL_EXIT_FAIL;
	}
	ret = ubctl_exec(o, ubctl_shows[a->id], argc, argv, fds,
			 (unsigned int)n);
	while (n--) {
		close(fds[n]);
		if (ret != UBCTL_EXIT_OK && !existed[n] &&
		    !ub_capture_file_name(path, nfiles, (uint32_t)n, name,
					  sizeof(name)))
			unlink(name);
	}
	return ret;
}

/* 'argv' starts at the object's name. */
static int ubctl_run(const struct ubctl_opts *o, int argc, char **argv)
{
	static struct ub_cmd_args args;
	char err[512], req[UB_CTL_REQ_MAX], *wire[UB_CTL_ARGS_MAX];
	const struct ub_cmd_object *obj;
	int ret, n;

	if (!strcmp(argv[0], "help")) {
		ubctl_help();
		return UBCTL_EXIT_OK;
	}
	if (!strcmp(argv[0], "completion"))
		return ubctl_completion(argc, argv);
	obj = ub_cmd_object_find(argv[0]);
	if (obj && argc >= 2 && !strcmp(argv[1], "help")) {
		ubctl_object_help(obj);
		return UBCTL_EXIT_OK;
	}
	if (ub_cmd_parse(argc, argv, UB_CMD_PARSE_USER, &args, err,
			 sizeof(err))) {
		if (!obj)
			ubctl_err("%s; try \"ubctl --help\"", err);
		else if (!args.spec)
			ubctl_err("%s; try \"ubctl %s help\"", err, obj->name);
		else
			ubctl_err("%s", err);
		return UBCTL_EXIT_USAGE;
	}
	if (o->prometheus && args.id != UB_CMD_STATS) {
		ubctl_err("--prometheus goes with \"stats\" alone");
		return UBCTL_EXIT_USAGE;
	}
	if (o->prometheus && o->json) {
		ubctl_err("--prometheus has a format of its own: not with -j or "
			  "-p");
		return UBCTL_EXIT_USAGE;
	}
	ret = ubctl_absolute_paths(&args);
	if (ret)
		return ret;
	n = ub_cmd_format(&args, req, sizeof(req), wire, UB_ARRAY_SIZE(wire));
	if (n < 0) {
		ubctl_err("command too long (at most %d words, %d bytes)",
			  UB_CTL_ARGS_MAX, UB_CTL_REQ_MAX - 1);
		return UBCTL_EXIT_USAGE;
	}
	if (args.spec->flags & UB_CMD_F_STREAM)
		return ubctl_exec_stream(o, args.id == UB_CMD_MONITOR, n, wire);
	if (args.id == UB_CMD_CAPTURE_START)
		return ubctl_capture_start(o, &args, n, wire);
	if (args.id == UB_CMD_NETNS_ATTACH &&
	    (ub_cmd_has(&args, UB_CMD_K_PID) ||
	     strchr(args.v[UB_CMD_K_NAME].str, '/')))
		return ubctl_netns_attach_fd(o, &args, n, wire);
	if (o->prometheus)
		return ubctl_prometheus(o, n, wire);
	return ubctl_exec(o, ubctl_shows[args.id], n, wire, NULL, 0);
}

#define UBCTL_CMD_OPTS_MAX 64
/* getopt_long()'s value for the i-th command option. */
#define UBCTL_CMD_OPT_VAL 256

/*
 * Options may come anywhere, as in "ubctl -j port show -s"; "--" ends
 * them. getopt_long() knows ubctl's own options and every command's
 * dashed options (from the table): the command's words go to 'words' in
 * their order, followed by the command options as "--NAME [VALUE]" for
 * the grammar's parser, which judges whether they belong to the command.
 * Returns -1 to go on, or an exit status.
 */
static int ubctl_parse_opts(int argc, char **argv, struct ubctl_opts *o,
			    char **words, char **opts, int *nwords)
{
	static char dashed[UBCTL_CMD_OPTS_MAX][40];
	struct option lo[UB_ARRAY_SIZE(ubctl_globals) + UBCTL_CMD_OPTS_MAX + 1];
	const struct ub_cmd_arg *cmdopts[UBCTL_CMD_OPTS_MAX];
	/* '-': words come back in order; ':': a missing value is told. */
	char shorts[3 + 2 * UB_ARRAY_SIZE(ubctl_globals)] = "-:";
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	size_t ncmd = ub_cmd_dash_options(cmdopts, UBCTL_CMD_OPTS_MAX), nlo = 0;
	int n = 0, nopts = 0, c;

	if (ncmd > UBCTL_CMD_OPTS_MAX)
		ncmd = UBCTL_CMD_OPTS_MAX;
	for (size_t i = 0; i < UB_ARRAY_SIZE(ubctl_globals); i++) {
		const struct ub_cmd_global *g = &ubctl_globals[i];
		size_t k = strlen(shorts);

		lo[nlo++] = (struct option){ g->name, g->meta ? required_argument :
							     no_argument,
					     NULL, g->short_name };
		if (!g->short_name)
			continue;
		shorts[k++] = g->short_name;
		if (g->meta)
			shorts[k++] = ':';
		shorts[k] = '\0';
	}
	for (size_t i = 0; i < ncmd; i++) {
		bool flag = cmdopts[i]->type == UB_CMD_T_FLAG;

		snprintf(dashed[i], sizeof(dashed[i]), "--%s", cmdopts[i]->name);
		lo[nlo++] = (struct option){ cmdopts[i]->name,
					     flag ? no_argument : required_argument,
					     NULL, UBCTL_CMD_OPT_VAL + (int)i };
	}
	lo[nlo] = (struct option){ 0 };

	o->bridge = getenv("UBRIDGE_NAME");
	if (!o->bridge || !o->bridge[0])
		o->bridge = UB_BRIDGE_DEFAULT;
	opterr = 0;
	while ((c = getopt_long(argc, argv, shorts, lo, NULL)) != -1) {
		switch (c) {
		case 1:
			words[n++] = optarg;
			break;
		case 'n':
			o->bridge = optarg;
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
		case 0: /* the one long option without a short form */
			o->prometheus = true;
			break;
		case 'h':
			ubctl_help();
			return UBCTL_EXIT_OK;
		case 'V':
			printf("ubctl (ubridge) %s\n", UB_VERSION);
			return UBCTL_EXIT_OK;
		case ':':
			ubctl_err("option \"%s\" needs a value; try \"ubctl "
				  "--help\"", argv[optind - 1]);
			return UBCTL_EXIT_USAGE;
		case '?':
			if (optopt)
				ubctl_err("unknown option \"-%c\"; try \"ubctl "
					  "--help\"", optopt);
			else
				ubctl_err("unknown option \"%s\"; try \"ubctl "
					  "--help\"", argv[optind - 1]);
			return UBCTL_EXIT_USAGE;
		default:
			c -= UBCTL_CMD_OPT_VAL;
			opts[nopts++] = dashed[c];
			if (cmdopts[c]->type != UB_CMD_T_FLAG)
				opts[nopts++] = optarg;
			break;
		}
	}
	while (optind < argc)
		words[n++] = argv[optind++];
	memcpy(words + n, opts, (size_t)nopts * sizeof(*opts));
	n += nopts;

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
	/* A word may become two ("--addr=X"); the options are gathered
	 * apart, then put after the command's words. */
	char **words = calloc(2 * (size_t)argc + 1, sizeof(*words));
	char **opts = calloc(2 * (size_t)argc + 1, sizeof(*opts));
	int ret, nwords;

	if (!words || !opts) {
		ubctl_err("%s", strerror(ENOMEM));
		ret = UBCTL_EXIT_FAIL;
		goto out;
	}
	ret = ubctl_parse_opts(argc, argv, &o, words, opts, &nwords);
	if (ret < 0)
		ret = ubctl_run(&o, nwords, words);
	ret = ubctl_flush(ret);
out:
	free(words);
	free(opts);
	return ret;
}
