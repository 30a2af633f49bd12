/* SPDX-License-Identifier: MIT */
/*
 * The command parser and its inverse, both driven by the table of
 * cmdspec.c: words into typed values (ub_cmd_parse), typed values into
 * the canonical wire words (ub_cmd_format), and a command's synopsis
 * (ub_cmd_usage).
 *
 * The daemon runs the parser on whatever a local client sent, so it
 * checks everything and never writes into the words it was given; decoded
 * values are copied into the result's own buffer. ubctl runs the same
 * parser on its command line, so a mistake is reported before anything
 * is sent, in the same words the daemon would use.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ubridge/cmd.h>
#include <ubridge/compiler.h>

struct ub_cmd_pstate {
	struct ub_cmd_args *a;
	unsigned int flags;
	char *err;
	size_t errlen;
};

static int ub_cmd_fail__(struct ub_cmd_pstate *ps, int ret, const char *fmt,
			 ...) UB_PRINTF(3, 4);

static int ub_cmd_fail__(struct ub_cmd_pstate *ps, int ret, const char *fmt,
			 ...)
{
	va_list ap;

	if (ps->errlen) {
		va_start(ap, fmt);
		vsnprintf(ps->err, ps->errlen, fmt, ap);
		va_end(ap);
	}
	return ret;
}

/* A shape error: the message, then the command's synopsis. */
static int ub_cmd_shape__(struct ub_cmd_pstate *ps, const char *fmt, ...)
	UB_PRINTF(2, 3);

static int ub_cmd_shape__(struct ub_cmd_pstate *ps, const char *fmt, ...)
{
	char what[200], usage[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (ub_cmd_usage(ps->a->spec, ps->flags, usage, sizeof(usage)) < 0)
		usage[0] = '\0';
	return ub_cmd_fail__(ps, -EINVAL, "%s; usage: %s", what, usage);
}

static bool ub_cmd_user__(unsigned int flags)
{
	return flags & UB_CMD_PARSE_USER;
}

/* A command-line word that introduces an option wherever it stands. */
static bool ub_cmd_dashed__(unsigned int flags, const char *w)
{
	return ub_cmd_user__(flags) && w[0] == '-' && w[1] == '-' && w[2];
}

/* A word the request line can carry: printable ASCII, no space. */
static bool ub_cmd_is_word__(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < 0x21 || *s > 0x7e)
			return false;
	}
	return true;
}

/* A number in [min, max]: decimal digits, or hexadecimal ones after one
 * "0x"; no sign, no blanks. */
static int ub_cmd_parse_uint__(const char *s, uint64_t min, uint64_t max,
			       uint64_t *out)
{
	bool hex = s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
	char *end;

	/* Decimal, or hexadecimal after "0x" (masks); never octal. */
	if (hex)
		s += 2;
	if (!((*s >= '0' && *s <= '9') ||
	      (hex && ((*s >= 'a' && *s <= 'f') || (*s >= 'A' && *s <= 'F')))) ||
	    (hex && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')))
		return -EINVAL;
	errno = 0;
	*out = strtoull(s, &end, hex ? 16 : 10);
	if (errno || *end || *out < min || *out > max)
		return -EINVAL;
	return 0;
}

static int ub_cmd_parse_enum__(const char *const *words, const char *s,
			       uint64_t *out)
{
	for (uint64_t i = 0; words[i]; i++) {
		if (!strcmp(words[i], s)) {
			*out = i;
			return 0;
		}
	}
	return -EINVAL;
}

/* "LO-HI" within [min, max], LO <= HI, into LO << 32 | HI. */
static int ub_cmd_parse_range__(const char *s, uint64_t min, uint64_t max,
				uint64_t *out)
{
	const char *dash = strchr(s, '-');
	char lo_s[24];
	uint64_t lo, hi;

	if (!dash || (size_t)(dash - s) >= sizeof(lo_s))
		return -EINVAL;
	memcpy(lo_s, s, (size_t)(dash - s));
	lo_s[dash - s] = '\0';
	if (ub_cmd_parse_uint__(lo_s, min, max, &lo) ||
	    ub_cmd_parse_uint__(dash + 1, min, max, &hi) || lo > hi ||
	    hi > UINT32_MAX)
		return -EINVAL;
	*out = lo << 32 | hi;
	return 0;
}

static int ub_cmd_parse_ifname__(const char *s)
{
	return ub_cmd_is_word__(s) && !ub_nl_ifname_check(s) ? 0 : -EINVAL;
}

/* Checks and converts one value into 'v' (whose 'str' is set). */
static int ub_cmd_convert__(const struct ub_cmd_arg *arg, unsigned int flags,
			    struct ub_cmd_val *v)
{
	const char *s = v->str;
	bool encoded = arg->flags & UB_CMD_A_ENCODED;

	/* Only an encoded value may hold what a request word cannot. */
	if (!*s || (!encoded && !ub_cmd_is_word__(s)))
		return -EINVAL;
	switch (arg->type) {
	case UB_CMD_T_FLAG:
		v->b = true;
		return 0;
	case UB_CMD_T_WORD:
	case UB_CMD_T_TEXT:
		return 0;
	case UB_CMD_T_PORT_ALL:
		if (!strcmp(s, "all")) {
			v->all = true;
			return 0;
		}
		return ub_cmd_parse_ifname__(s);
	case UB_CMD_T_IFNAME:
	case UB_CMD_T_PORT:
		return ub_cmd_parse_ifname__(s);
	case UB_CMD_T_NETNS:
		return ub_netns_name_check(s) ? -EINVAL : 0;
	case UB_CMD_T_NETNS_PATH:
		if (strchr(s, '/'))
			return s[0] == '/' ? 0 : -EINVAL;
		return ub_netns_name_check(s) ? -EINVAL : 0;
	case UB_CMD_T_MAC:
		return ub_mac_parse(s, &v->mac);
	case UB_CMD_T_UMAC:
		if (ub_mac_parse(s, &v->mac) || ub_mac_is_mcast(&v->mac) ||
		    ub_mac_is_zero(&v->mac))
			return -EINVAL;
		return 0;
	case UB_CMD_T_VID:
		/* 4095 too: a frame tagged with it may be learned, and its
		 * entry must be deletable. */
		return ub_cmd_parse_uint__(s, 0, UB_VLAN_VID_MASK, &v->u);
	case UB_CMD_T_ID_ALL:
		if (!strcmp(s, "all")) {
			v->all = true;
			return 0;
		}
		return ub_cmd_parse_uint__(s, arg->min, arg->max, &v->u);
	case UB_CMD_T_UINT:
		return ub_cmd_parse_uint__(s, arg->min, arg->max, &v->u);
	case UB_CMD_T_ENUM:
		return ub_cmd_parse_enum__(arg->words, s, &v->u);
	case UB_CMD_T_BOOL:
		if (strcmp(s, "yes") && strcmp(s, "no"))
			return -EINVAL;
		v->b = !strcmp(s, "yes");
		return 0;
	case UB_CMD_T_CIDR:
		return ub_cidr_parse(s, &v->ip);
	case UB_CMD_T_ADDR:
		return ub_addr_parse(s, &v->ip);
	case UB_CMD_T_PATH:
		/* The daemon has a working directory of its own. */
		return ub_cmd_user__(flags) || s[0] == '/' ? 0 : -EINVAL;
	case UB_CMD_T_RANGE:
		return ub_cmd_parse_range__(s, arg->min, arg->max, &v->u);
	case UB_CMD_T_VIDS:
		/* One VID is a range of one. */
		if (!strchr(s, '-')) {
			if (ub_cmd_parse_uint__(s, 1, 4094, &v->u))
				return -EINVAL;
			v->u |= v->u << 32;
			return 0;
		}
		return ub_cmd_parse_range__(s, 1, 4094, &v->u);
	case UB_CMD_T__COUNT:
		break;
	}
	return -EINVAL;
}

/* What errors call a value of each type, and what they say is expected. */
static const struct {
	const char *label;
	const char *expect;
} ub_cmd_types[UB_CMD_T__COUNT] = {
	[UB_CMD_T_WORD] = { NULL, "printable characters, no spaces" },
	[UB_CMD_T_IFNAME] = { "interface name",
			      "1 to 15 characters, no '/', ':' or spaces" },
	[UB_CMD_T_PORT] = { "interface name",
			    "1 to 15 characters, no '/', ':' or spaces" },
	[UB_CMD_T_PORT_ALL] = { "port", "an interface name or \"all\"" },
	[UB_CMD_T_NETNS] = { "namespace name", "1 to 255 characters, no '/', "
			     "not \".\" or \"..\"" },
	[UB_CMD_T_MAC] = { "MAC address", "expected aa:bb:cc:dd:ee:ff" },
	[UB_CMD_T_UMAC] = { "MAC address",
			    "expected a unicast aa:bb:cc:dd:ee:ff" },
	[UB_CMD_T_VID] = { "VLAN id", "expected 0 to 4095" },
	[UB_CMD_T_ID_ALL] = { "capture id", "a number or \"all\"" },
	[UB_CMD_T_BOOL] = { NULL, "yes or no" },
	[UB_CMD_T_CIDR] = { "address",
			    "expected e.g. 172.16.1.1/16 or fd00::1/64" },
	[UB_CMD_T_ADDR] = { "address", "expected an address without "
			    "prefix, e.g. 172.16.0.1" },
	[UB_CMD_T_NETNS_PATH] = { "namespace", "a name (no '/', not \".\" or "
				   "\"..\") or an absolute path" },
	[UB_CMD_T_PATH] = { "file name", "an absolute path" },
	[UB_CMD_T_TEXT] = { NULL, "not empty" },
	[UB_CMD_T_RANGE] = { NULL, "expected LO-HI, LO <= HI" },
	[UB_CMD_T_VIDS] = { "VLAN ids", "expected a VID, 1 to 4094, or a "
			    "range LO-HI of them" },
};

/* What an error message calls 'arg'. */
static const char *ub_cmd_label__(const struct ub_cmd_arg *arg)
{
	if (arg->label)
		return arg->label;
	if (ub_cmd_types[arg->type].label)
		return ub_cmd_types[arg->type].label;
	return arg->name ? arg->name : arg->meta;
}

/* "invalid LABEL "VALUE" (EXPECTED)" into the error. */
static int ub_cmd_invalid__(struct ub_cmd_pstate *ps,
			    const struct ub_cmd_arg *arg, const char *value)
{
	const char *expect = arg->expect ? arg->expect :
					   ub_cmd_types[arg->type].expect;
	char buf[128];

	if (!expect && arg->type == UB_CMD_T_ENUM) {
		size_t n = 0;

		buf[0] = '\0';
		for (int i = 0; arg->words[i]; i++)
			n += (size_t)snprintf(buf + n, n < sizeof(buf) ?
						  sizeof(buf) - n : 0,
					      "%s%s", !i ? "" :
					      arg->words[i + 1] ? ", " : " or ",
					      arg->words[i]);
		expect = buf;
	} else if (!expect) {
		snprintf(buf, sizeof(buf), "expected %llu to %llu",
			 (unsigned long long)arg->min,
			 (unsigned long long)arg->max);
		expect = buf;
	}
	return ub_cmd_fail__(ps, -EINVAL, "invalid %s \"%.80s\" (%s)",
			     ub_cmd_label__(arg), value, expect);
}

/* An option's name as the form at hand writes it. */
static void ub_cmd_optname__(const struct ub_cmd_arg *arg, unsigned int flags,
			     char *buf, size_t len)
{
	bool dashes = ub_cmd_user__(flags) && !(arg->flags & UB_CMD_A_BARE);

	snprintf(buf, len, "%s%s", dashes ? "--" : "", arg->name);
}

/* The word a FLAG's wire form starts with ("type" of "type tap"). */
static bool ub_cmd_wire_kw__(const struct ub_cmd_arg *arg, const char *w)
{
	size_t n = strcspn(arg->wire, " ");

	return strlen(w) == n && !strncmp(arg->wire, w, n);
}

/* The option that word 'w' introduces, or NULL. */
static const struct ub_cmd_arg *ub_cmd_opt__(const struct ub_cmd_spec *c,
					     const char *w, unsigned int flags)
{
	bool user = ub_cmd_user__(flags);
	bool dashed = ub_cmd_dashed__(flags, w);
	const char *name = dashed ? w + 2 : w;

	for (unsigned int i = 0; i < c->nargs; i++) {
		const struct ub_cmd_arg *arg = &c->args[i];

		if (!arg->name || (user && arg->flags & UB_CMD_A_HIDDEN) ||
		    (dashed && arg->flags & UB_CMD_A_BARE))
			continue;
		if (arg->type == UB_CMD_T_FLAG && !user ?
			    ub_cmd_wire_kw__(arg, name) :
			    !strcmp(arg->name, name))
			return arg;
	}
	return NULL;
}

/* What messages call argument 'arg': "--addr", "IFNAME". */
static void ub_cmd_argname__(const struct ub_cmd_arg *arg, unsigned int flags,
			     char *buf, size_t len)
{
	if (arg->name)
		ub_cmd_optname__(arg, flags, buf, len);
	else
		snprintf(buf, len, "%s", arg->meta);
}

/* Is there room for 'more' values of MULTI argument 'arg'? */
static int ub_cmd_room__(struct ub_cmd_pstate *ps, const struct ub_cmd_arg *arg,
			 uint64_t more)
{
	const struct ub_cmd_spec *c = ps->a->spec;
	char name[64];

	if (more <= arg->multi_max - ps->a->nmulti)
		return 0;
	ub_cmd_argname__(arg, ps->flags, name, sizeof(name));
	return ub_cmd_fail__(ps, -E2BIG, "at most %u %s per %s%s%s",
			     arg->multi_max, arg->plural ? arg->plural : name,
			     c->obj, c->verb ? " " : "", c->verb ? c->verb : "");
}

/* Keeps value 'word' of 'arg', decoded (wire form) and checked. */
static int ub_cmd_take__(struct ub_cmd_pstate *ps, const struct ub_cmd_arg *arg,
			 const char *word)
{
	struct ub_cmd_args *a = ps->a;
	bool multi = arg->flags & UB_CMD_A_MULTI;
	struct ub_cmd_val *v;
	char name[64];
	int ret;

	ub_cmd_argname__(arg, ps->flags, name, sizeof(name));
	if (multi && (ret = ub_cmd_room__(ps, arg, 1)))
		return ret;
	if (!multi && ub_cmd_has(a, arg->key))
		return ub_cmd_fail__(ps, -EINVAL, "\"%s\" given twice", name);
	v = multi ? &a->multi[a->nmulti] : &a->v[arg->key];
	memset(v, 0, sizeof(*v));
	v->str = word;
	if (arg->flags & UB_CMD_A_ENCODED && !ub_cmd_user__(ps->flags)) {
		size_t n = strlen(word) + 1;
		char *d = a->buf + a->used;

		if (n > sizeof(a->buf) - a->used)
			return ub_cmd_fail__(ps, -E2BIG, "values too long");
		memcpy(d, word, n);
		if (ub_ctl_word_decode(d))
			return ub_cmd_fail__(ps, -EINVAL, "badly encoded %s "
					     "\"%.80s\"", ub_cmd_label__(arg),
					     word);
		a->used += strlen(d) + 1;
		v->str = d;
	}
	if (ub_cmd_convert__(arg, ps->flags, v))
		return ub_cmd_invalid__(ps, arg, v->str);
	if (multi && !a->nmulti++)
		a->v[arg->key] = *v;
	a->present |= 1ull << arg->key;
	return 0;
}

/* Is 'arg' given, or stood in for by its alternative? */
static bool ub_cmd_given__(const struct ub_cmd_pstate *ps,
			   const struct ub_cmd_arg *arg)
{
	const struct ub_cmd_arg *alt;

	if (ub_cmd_has(ps->a, arg->key))
		return true;
	alt = arg->alt ? ub_cmd_arg_find(ps->a->spec, arg->alt) : NULL;
	return alt && ub_cmd_has(ps->a, alt->key);
}

/* What must hold once every word is taken. */
static int ub_cmd_check__(struct ub_cmd_pstate *ps)
{
	const struct ub_cmd_spec *c = ps->a->spec;
	const struct ub_cmd_arg *many = NULL;
	bool opts = false;

	for (unsigned int i = 0; i < c->nargs; i++) {
		if (c->args[i].flags & UB_CMD_A_MULTI)
			many = &c->args[i];
	}
	for (unsigned int i = 0; i < c->nargs; i++) {
		const struct ub_cmd_arg *arg = &c->args[i], *other;
		char name[64] = "", oname[64];

		if (arg->name)
			ub_cmd_optname__(arg, ps->flags, name, sizeof(name));
		if (arg->flags & UB_CMD_A_REQUIRED && !ub_cmd_given__(ps, arg))
			return arg->name ?
				ub_cmd_shape__(ps, "missing \"%s %s\"", name,
					       arg->meta) :
				ub_cmd_shape__(ps, "missing %s", arg->meta);
		if (!ub_cmd_has(ps->a, arg->key))
			continue;
		if (arg->flags & UB_CMD_A_SINGLE && many && ps->a->nmulti > 1)
			return ub_cmd_fail__(ps, -EINVAL, "\"%s\" takes exactly "
					     "one %s (%u given)", name,
					     many->meta, ps->a->nmulti);
		opts = opts || arg->name;
		other = arg->alt ? ub_cmd_arg_find(c, arg->alt) :
			arg->needs ? ub_cmd_arg_find(c, arg->needs) : NULL;
		if (!other)
			continue;
		ub_cmd_optname__(other, ps->flags, oname, sizeof(oname));
		if (arg->alt && ub_cmd_has(ps->a, other->key))
			return ub_cmd_shape__(ps, "%s or \"%s\", not both",
					      arg->meta, oname);
		if (arg->needs && !ub_cmd_has(ps->a, other->key))
			return ub_cmd_fail__(ps, -EINVAL, "\"%s\" needs \"%s\"",
					     name, oname);
	}
	if (c->flags & UB_CMD_F_ONE_OPT && !opts)
		return ub_cmd_shape__(ps, "nothing to set");
	return 0;
}

/* The index of the first positional of 'c' from 'k' on, or c->nargs. */
static unsigned int ub_cmd_next_pos__(const struct ub_cmd_spec *c,
				      unsigned int k)
{
	while (k < c->nargs && !(c->args[k].flags & UB_CMD_A_POS))
		k++;
	return k;
}

/*
 * Takes positional 'p' from w[0..n), w[0] being its first value: that
 * word, or a MULTI positional's run of values (cmd.h tells the two
 * forms). Returns the number of words taken, or -errno.
 */
static int ub_cmd_take_pos__(struct ub_cmd_pstate *ps,
			     const struct ub_cmd_arg *p, int n, char *const w[])
{
	bool multi = p->flags & UB_CMD_A_MULTI;
	int first = 0, end = 1, ret;
	uint64_t count;

	if (multi && ub_cmd_user__(ps->flags)) {
		/* Up to a keyword, even a hidden one, which is then refused. */
		while (end < n && !ub_cmd_dashed__(ps->flags, w[end]) &&
		       !ub_cmd_arg_find(ps->a->spec, w[end]))
			end++;
	} else if (multi && n >= 2 && !strcmp(w[1], "of") &&
		   !ub_cmd_parse_uint__(w[0], 0, UINT64_MAX, &count)) {
		if ((ret = ub_cmd_room__(ps, p, count)))
			return ret;
		if (count > (uint64_t)(n - 2))
			return ub_cmd_shape__(ps, "missing %s (%llu announced, "
					      "%d given)", p->meta,
					      (unsigned long long)count, n - 2);
		first = 2;
		end = 2 + (int)count;
	}
	for (int k = first; k < end; k++) {
		if ((ret = ub_cmd_take__(ps, p, w[k])))
			return ret;
	}
	return end;
}

/*
 * Words fill the positionals in order (a MULTI one takes its run of
 * values); once they are filled, each word introduces an option. On the command line a dashed word is an option
 * wherever it is ("port add --tap NAME"); on the wire the positionals
 * always come first, so a port may even be called "type". A positional
 * with an alternative is skipped when its option takes its place.
 */
static int ub_cmd_args__(struct ub_cmd_pstate *ps, int n, char *const w[])
{
	const struct ub_cmd_spec *c = ps->a->spec;
	bool user = ub_cmd_user__(ps->flags), has_opts = false;
	unsigned int pos = ub_cmd_next_pos__(c, 0);
	int i = 0, ret;

	for (unsigned int k = 0; k < c->nargs; k++)
		has_opts = has_opts || c->args[k].name;
	while (i < n) {
		bool dashed = ub_cmd_dashed__(ps->flags, w[i]);
		const struct ub_cmd_arg *arg = NULL, *p = NULL;
		const char *val;

		if (pos < c->nargs)
			p = &c->args[pos];
		if (dashed || !p || p->alt)
			arg = ub_cmd_opt__(c, w[i], ps->flags);
		if (p && !dashed && (!arg || !p->alt ||
				     arg != ub_cmd_arg_find(c, p->alt))) {
			if ((ret = ub_cmd_take_pos__(ps, p, n - i, w + i)) < 0)
				return ret;
			i += ret;
			pos = ub_cmd_next_pos__(c, pos + 1);
			continue;
		}
		if (!arg)
			return ub_cmd_shape__(ps, "%s \"%.80s\"", has_opts ?
					      "unknown option" : "unexpected",
					      w[i]);
		if (p && p->alt && arg == ub_cmd_arg_find(c, p->alt))
			pos = ub_cmd_next_pos__(c, pos + 1);
		if (arg->type == UB_CMD_T_FLAG) {
			/* The wire spells a flag as words of its own. */
			const char *rest = strchr(arg->wire, ' ');

			if (!user && rest) {
				if (++i == n || strcmp(w[i], rest + 1))
					return ub_cmd_invalid__(ps, arg, i == n ?
								"" : w[i]);
			}
			val = arg->name;
			i++;
		} else {
			if (i + 1 == n)
				return ub_cmd_shape__(ps, "\"%.80s\" needs a "
						      "value", w[i]);
			val = w[i + 1];
			i += 2;
		}
		if ((ret = ub_cmd_take__(ps, arg, val)))
			return ret;
	}
	return ub_cmd_check__(ps);
}

/* "ubctl OBJECT" alone: the object's default command. */
static const struct ub_cmd_spec *ub_cmd_default__(const char *obj)
{
	for (int i = 0; i < UB_CMD__COUNT; i++) {
		const struct ub_cmd_spec *c = ub_cmd_get((enum ub_cmd_id)i);

		if (c->flags & UB_CMD_F_DEFAULT && !strcmp(c->obj, obj))
			return c;
	}
	return NULL;
}

int ub_cmd_parse(int argc, char *const argv[], unsigned int flags,
		 struct ub_cmd_args *out, char *err, size_t errlen)
{
	struct ub_cmd_pstate ps = { out, flags, err, errlen };
	const struct ub_cmd_spec *c;
	int first = 1;

	out->spec = NULL;
	out->present = 0;
	out->nmulti = 0;
	out->used = 0;
	memset(out->v, 0, sizeof(out->v));
	if (errlen)
		err[0] = '\0';
	if (argc < 1)
		return ub_cmd_fail__(&ps, -EINVAL, "empty command");
	if (!ub_cmd_object_find(argv[0]))
		return ub_cmd_fail__(&ps, -EINVAL, "unknown object \"%.80s\"",
				     argv[0]);
	c = ub_cmd_find(argv[0], NULL);
	if (!c && argc < 2) {
		c = ub_cmd_user__(flags) ? ub_cmd_default__(argv[0]) : NULL;
		if (!c)
			return ub_cmd_fail__(&ps, -EINVAL, "missing command "
					     "for \"%s\"", argv[0]);
	} else if (!c) {
		c = ub_cmd_find(argv[0], argv[1]);
		if (!c)
			return ub_cmd_fail__(&ps, -EINVAL, "unknown command "
					     "\"%s %.80s\"", argv[0], argv[1]);
		first = 2;
	}
	out->spec = c;
	out->id = c->id;
	return ub_cmd_args__(&ps, argc < first ? 0 : argc - first,
			     argv + first);
}

/* ---- the wire form ---- */

struct ub_cmd_words {
	char *buf;
	size_t len, pos;
	char **argv;
	int max, argc;
	int ret;
};

/* Appends one word, percent-encoded if 'encode'. Errors are sticky. */
static void ub_cmd_put__(struct ub_cmd_words *o, const char *w, bool encode)
{
	char *d = o->buf + o->pos;
	size_t room = o->len - o->pos;
	int n;

	if (o->ret)
		return;
	if (o->argc == o->max) {
		o->ret = -E2BIG;
		return;
	}
	if (encode) {
		n = ub_ctl_word_encode(w, d, room);
	} else {
		n = snprintf(d, room, "%s", w);
		if (n < 0 || (size_t)n >= room)
			n = -E2BIG;
	}
	if (n < 0) {
		o->ret = -E2BIG;
		return;
	}
	o->argv[o->argc++] = d;
	o->pos += (size_t)n + 1;
}

static void ub_cmd_put_value__(struct ub_cmd_words *o,
			       const struct ub_cmd_arg *arg,
			       const struct ub_cmd_val *v)
{
	char num[24];

	switch (arg->type) {
	case UB_CMD_T_VID:
	case UB_CMD_T_UINT:
	case UB_CMD_T_ID_ALL:
		if (v->all)
			break;
		snprintf(num, sizeof(num), "%llu", (unsigned long long)v->u);
		ub_cmd_put__(o, num, false);
		return;
	case UB_CMD_T_ENUM:
		ub_cmd_put__(o, arg->words[v->u], false);
		return;
	case UB_CMD_T_BOOL:
		ub_cmd_put__(o, v->b ? "yes" : "no", false);
		return;
	case UB_CMD_T_PATH:
		if (v->str[0] != '/' && !o->ret)
			o->ret = -EINVAL;
		break;
	default:
		break;
	}
	ub_cmd_put__(o, v->str, arg->flags & UB_CMD_A_ENCODED);
}

/* How many values 'arg' has in 'a' (given it is present), and the i-th. */
static unsigned int ub_cmd_nvals__(const struct ub_cmd_args *a,
				   const struct ub_cmd_arg *arg)
{
	return arg->flags & UB_CMD_A_MULTI ? a->nmulti : 1;
}

static const struct ub_cmd_val *ub_cmd_val__(const struct ub_cmd_args *a,
					     const struct ub_cmd_arg *arg,
					     unsigned int i)
{
	return arg->flags & UB_CMD_A_MULTI ? &a->multi[i] : &a->v[arg->key];
}

/* A positional's words: its value, or "N of" and the N values. */
static void ub_cmd_put_pos__(struct ub_cmd_words *o, const struct ub_cmd_args *a,
			     const struct ub_cmd_arg *arg)
{
	unsigned int n = ub_cmd_nvals__(a, arg);
	char num[16];

	if (n > 1) {
		snprintf(num, sizeof(num), "%u", n);
		ub_cmd_put__(o, num, false);
		ub_cmd_put__(o, "of", false);
	}
	for (unsigned int i = 0; i < n; i++)
		ub_cmd_put_value__(o, arg, ub_cmd_val__(a, arg, i));
}

/* An option's words: its keyword then its value, or a flag's own. */
static void ub_cmd_put_opt__(struct ub_cmd_words *o, const struct ub_cmd_args *a,
			     const struct ub_cmd_arg *arg)
{
	char wire[32], *save = NULL;

	if (!ub_cmd_has(a, arg->key))
		return;
	if (arg->type == UB_CMD_T_FLAG) {
		snprintf(wire, sizeof(wire), "%s", arg->wire);
		for (char *t = strtok_r(wire, " ", &save); t;
		     t = strtok_r(NULL, " ", &save))
			ub_cmd_put__(o, t, false);
		return;
	}
	for (unsigned int i = 0; i < ub_cmd_nvals__(a, arg); i++) {
		ub_cmd_put__(o, arg->name, false);
		ub_cmd_put_value__(o, arg, ub_cmd_val__(a, arg, i));
	}
}

int ub_cmd_format(const struct ub_cmd_args *a, char *buf, size_t len,
		  char *argv[], int max)
{
	struct ub_cmd_words o = { buf, len, 0, argv, max, 0, 0 };
	const struct ub_cmd_spec *c = a->spec;
	const struct ub_cmd_arg *alt = NULL;

	if (!c)
		return -EINVAL;
	ub_cmd_put__(&o, c->obj, false);
	if (c->verb)
		ub_cmd_put__(&o, c->verb, false);
	/* Positionals, or in its place the option standing for one (the
	 * daemon of old looks for "pid" right after the verb). */
	for (unsigned int i = 0; i < c->nargs; i++) {
		const struct ub_cmd_arg *arg = &c->args[i];

		if (!(arg->flags & UB_CMD_A_POS))
			continue;
		if (ub_cmd_has(a, arg->key)) {
			ub_cmd_put_pos__(&o, a, arg);
		} else if (arg->alt) {
			alt = ub_cmd_arg_find(c, arg->alt);
			ub_cmd_put_opt__(&o, a, alt);
		}
	}
	for (unsigned int i = 0; i < c->nargs; i++) {
		if (!(c->args[i].flags & UB_CMD_A_POS) && &c->args[i] != alt)
			ub_cmd_put_opt__(&o, a, &c->args[i]);
	}
	return o.ret ? o.ret : o.argc;
}

/* ---- synopsis ---- */

struct ub_cmd_text {
	char *buf;
	size_t len, pos;
};

static void ub_cmd_cat__(struct ub_cmd_text *t, const char *fmt, ...)
	UB_PRINTF(2, 3);

static void ub_cmd_cat__(struct ub_cmd_text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(t->buf + (t->pos < t->len ? t->pos : t->len),
		      t->pos < t->len ? t->len - t->pos : 0, fmt, ap);
	va_end(ap);
	if (n > 0)
		t->pos += (size_t)n;
}

/* An argument's value in a synopsis: META, or an enum's words. */
static void ub_cmd_cat_meta__(struct ub_cmd_text *t, const struct ub_cmd_arg *arg)
{
	if (arg->type != UB_CMD_T_ENUM) {
		ub_cmd_cat__(t, "%s", arg->meta ? arg->meta : "VALUE");
		return;
	}
	for (int i = 0; arg->words[i]; i++)
		ub_cmd_cat__(t, "%s%s", i ? "|" : "", arg->words[i]);
}

static void ub_cmd_cat_opt__(struct ub_cmd_text *t, const struct ub_cmd_arg *arg,
			     unsigned int flags)
{
	char name[64];

	ub_cmd_optname__(arg, flags, name, sizeof(name));
	if (arg->type == UB_CMD_T_FLAG) {
		ub_cmd_cat__(t, "%s", ub_cmd_user__(flags) ? name : arg->wire);
		return;
	}
	ub_cmd_cat__(t, "%s ", name);
	ub_cmd_cat_meta__(t, arg);
}

int ub_cmd_usage(const struct ub_cmd_spec *c, unsigned int flags, char *buf,
		 size_t len)
{
	struct ub_cmd_text t = { buf, len, 0 };

	if (len)
		buf[0] = '\0';
	ub_cmd_cat__(&t, "%s%s%s", c->obj, c->verb ? " " : "",
		     c->verb ? c->verb : "");
	for (unsigned int i = 0; i < c->nargs; i++) {
		const struct ub_cmd_arg *arg = &c->args[i];

		if (!(arg->flags & UB_CMD_A_POS))
			continue;
		ub_cmd_cat__(&t, " ");
		ub_cmd_cat_meta__(&t, arg);
		if (arg->flags & UB_CMD_A_MULTI)
			ub_cmd_cat__(&t, "...");
		if (arg->alt) {
			ub_cmd_cat__(&t, "|");
			ub_cmd_cat_opt__(&t, ub_cmd_arg_find(c, arg->alt), flags);
		}
	}
	for (unsigned int i = 0; i < c->nargs; i++) {
		const struct ub_cmd_arg *arg = &c->args[i];
		bool req = arg->flags & UB_CMD_A_REQUIRED, alt = false;

		for (unsigned int j = 0; j < c->nargs; j++)
			alt = alt || (c->args[j].alt && arg->name &&
				      !strcmp(c->args[j].alt, arg->name));
		if (arg->flags & (UB_CMD_A_POS | UB_CMD_A_HIDDEN) || alt)
			continue;
		ub_cmd_cat__(&t, req ? " " : " [");
		ub_cmd_cat_opt__(&t, arg, flags);
		ub_cmd_cat__(&t, "%s%s", req ? "" : "]",
			     arg->flags & UB_CMD_A_MULTI ? "..." : "");
	}
	return t.pos < len ? (int)t.pos : -ENOSPC;
}
