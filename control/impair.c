/* SPDX-License-Identifier: MIT */
/*
 * Impairments in tc netem's words (include/ubridge/impair.h): words into a
 * struct ub_impair_cfg, and the struct back into the fewest words.
 *
 * Numbers are read by hand, digit by digit, into an integer and a count of
 * decimals, so "1.5ms" is exactly 1500000 ns and no locale, "nan", "inf",
 * hexadecimal, exponent or sign gets through. A value that the unit cannot
 * hold exactly (a fraction of a nanosecond, of a bit per second, of a
 * part per million) is refused rather than rounded, so what was written is
 * what is stored, and the formatter can always write it back.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <ubridge/compiler.h>
#include <ubridge/impair.h>

/* The messages below spell the limits out. */
_Static_assert(UB_IMPAIR_DELAY_MAX_NS == 10000000000ull, "delay: 10s");
_Static_assert(UB_IMPAIR_RATE_MAX_BPS == 100000000000ull, "rate: 100gbit");
_Static_assert(UB_IMPAIR_LIMIT_MAX == 100000u, "limit: 100000");

struct ub_impair_unit {
	const char *name;
	uint64_t mult;		/* the value's units in one of these */
};

/* A kind of value: its units, its range and what errors say of it. */
struct ub_impair_kind {
	const struct ub_impair_unit *units;
	uint64_t min, max;
	bool whole;		/* digits only, no point */
	const char *what, *units_s, *min_s, *max_s, *fine_s;
};

/* The first of each size is the one ub_impair_fmt() writes. */
static const struct ub_impair_unit ub_impair_time_units[] = {
	{ "s", 1000000000 }, { "ms", 1000000 },	    { "us", 1000 },
	{ "sec", 1000000000 }, { "secs", 1000000000 }, { "msec", 1000000 },
	{ "msecs", 1000000 }, { "usec", 1000 },	      { "usecs", 1000 },
	{ NULL, 0 },
};

static const struct ub_impair_unit ub_impair_rate_units[] = {
	{ "gbit", 1000000000 }, { "mbit", 1000000 }, { "kbit", 1000 },
	{ "bit", 1 },		{ "gbps", 8000000000 }, { "mbps", 8000000 },
	{ "kbps", 8000 },	{ "bps", 8 },		{ NULL, 0 },
};

static const struct ub_impair_unit ub_impair_pct_units[] = {
	{ "%", 10000 }, { "", 10000 }, { NULL, 0 },
};

static const struct ub_impair_unit ub_impair_count_units[] = {
	{ "", 1 }, { NULL, 0 },
};

static const struct ub_impair_kind ub_impair_time = {
	.units = ub_impair_time_units, .max = UB_IMPAIR_DELAY_MAX_NS,
	.what = "a time (e.g. 50ms, 1.5ms, 200us)", .units_s = "us, ms or s",
	.max_s = "10s", .fine_s = "1 ns",
};

static const struct ub_impair_kind ub_impair_pct = {
	.units = ub_impair_pct_units, .max = UB_IMPAIR_PPM,
	.what = "a percentage (e.g. 1%, 0.5)", .max_s = "100%",
	.fine_s = "0.0001%",
};

static const struct ub_impair_kind ub_impair_rate = {
	.units = ub_impair_rate_units, .min = 1, .max = UB_IMPAIR_RATE_MAX_BPS,
	.what = "a rate (e.g. 20mbit, 1gbit, 500kbps)",
	.units_s = "bit, kbit, mbit, gbit, bps, kbps, mbps or gbps",
	.min_s = "1bit", .max_s = "100gbit", .fine_s = "1bit",
};

static const struct ub_impair_kind ub_impair_count = {
	.units = ub_impair_count_units, .min = 1, .max = UB_IMPAIR_LIMIT_MAX,
	.whole = true, .what = "a number of frames (1 to 100000)",
	.min_s = "1", .max_s = "100000",
};

/* The keywords, in the grammar's order, and what each one's value looks
 * like. */
enum {
	UB_IMPAIR_K_DELAY,
	UB_IMPAIR_K_DIST,
	UB_IMPAIR_K_LOSS,
	UB_IMPAIR_K_RATE,
	UB_IMPAIR_K_CORRUPT,
	UB_IMPAIR_K_DUPLICATE,
	UB_IMPAIR_K_REORDER,
	UB_IMPAIR_K_LIMIT,
	UB_IMPAIR_K__COUNT,
};

static const struct {
	const char *word, *example;
} ub_impair_keys[UB_IMPAIR_K__COUNT] = {
	[UB_IMPAIR_K_DELAY] = { "delay", "50ms" },
	[UB_IMPAIR_K_DIST] = { "distribution", "normal" },
	[UB_IMPAIR_K_LOSS] = { "loss", "1%" },
	[UB_IMPAIR_K_RATE] = { "rate", "20mbit" },
	[UB_IMPAIR_K_CORRUPT] = { "corrupt", "0.1%" },
	[UB_IMPAIR_K_DUPLICATE] = { "duplicate", "1%" },
	[UB_IMPAIR_K_REORDER] = { "reorder", "25%" },
	[UB_IMPAIR_K_LIMIT] = { "limit", "1000" },
};

static const char *const ub_impair_dists[] = {
	[UB_IMPAIR_DIST_UNIFORM] = "uniform",
	[UB_IMPAIR_DIST_NORMAL] = "normal",
	[UB_IMPAIR_DIST_PARETO] = "pareto",
};

void ub_impair_cfg_init(struct ub_impair_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->dist = UB_IMPAIR_DIST_UNIFORM;
	cfg->loss = UB_IMPAIR_LOSS_NONE;
	cfg->limit = UB_IMPAIR_LIMIT_DEFAULT;
}

bool ub_impair_cfg_none(const struct ub_impair_cfg *cfg)
{
	return !cfg->delay_ns && !cfg->jitter_ns &&
	       cfg->loss == UB_IMPAIR_LOSS_NONE && !cfg->rate_bps &&
	       !cfg->corrupt_ppm && !cfg->duplicate_ppm && !cfg->reorder_ppm;
}

/* ---- numbers ---- */

/*
 * The decimal number 's' starts with, as its digits 'mant' and how many
 * of them stand after the point 'ndec' (trailing zeros left out). -EINVAL
 * when there is no digit, -ERANGE when the whole part is too long,
 * -EDOM when the fraction is.
 */
static int ub_impair_dec__(const char *s, uint64_t *mant, unsigned int *ndec,
			   const char **end)
{
	unsigned int n = 0, zeros = 0;
	bool point = false, digit = false;
	uint64_t m = 0;

	for (;; s++) {
		if (*s == '.' && !point) {
			point = true;
			continue;
		}
		if (*s < '0' || *s > '9')
			break;
		digit = true;
		/* Zeros after the point count only once a digit follows. */
		if (point && *s == '0') {
			zeros++;
			continue;
		}
		for (; zeros; zeros--, n++, m *= 10) {
			if (m > UINT64_MAX / 10 || n >= 18)
				return -EDOM;
		}
		if (m > (UINT64_MAX - 9) / 10 || n >= 18)
			return point ? -EDOM : -ERANGE;
		m = m * 10 + (uint64_t)(*s - '0');
		n += point;
	}
	if (!digit)
		return -EINVAL;
	*mant = m;
	*ndec = n;
	*end = s;
	return 0;
}

/* 's' as a number and one of 'k's units, in k's unit; -ENOENT when a unit
 * is needed and missing, -ERANGE over the maximum, -EDOM when not a whole
 * number of k's unit, -ENOSPC under the minimum. */
static int ub_impair_num__(const char *s, const struct ub_impair_kind *k,
			   uint64_t *out)
{
	const struct ub_impair_unit *u;
	unsigned __int128 q, d = 1;
	unsigned int ndec;
	const char *end;
	uint64_t mant;
	int ret;

	if (k->whole && s[strspn(s, "0123456789")])
		return -EINVAL;
	ret = ub_impair_dec__(s, &mant, &ndec, &end);
	if (ret)
		return ret;
	for (u = k->units; u->name && strcasecmp(u->name, end); u++)
		;
	if (!u->name)
		return *end ? -EINVAL : -ENOENT;
	while (ndec--)
		d *= 10;
	q = (unsigned __int128)mant * u->mult;
	if (q / d > k->max)
		return -ERANGE;
	if (q % d)
		return -EDOM;
	if (q / d < k->min)
		return -ENOSPC;
	*out = (uint64_t)(q / d);
	return 0;
}

/* ---- the parser ---- */

struct ub_impair_pstate {
	int argc, i;
	char *const *argv;
	struct ub_impair_cfg *cfg;
	unsigned int seen;	/* keywords given, 1 << UB_IMPAIR_K_* */
	char *err;
	size_t errlen;
};

static int ub_impair_fail__(struct ub_impair_pstate *ps, const char *fmt, ...)
	UB_PRINTF(2, 3);

static int ub_impair_fail__(struct ub_impair_pstate *ps, const char *fmt, ...)
{
	va_list ap;

	if (ps->errlen) {
		va_start(ap, fmt);
		vsnprintf(ps->err, ps->errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static int ub_impair_keyword__(const char *w)
{
	for (int k = 0; k < UB_IMPAIR_K__COUNT; k++) {
		if (!strcmp(ub_impair_keys[k].word, w))
			return k;
	}
	return -1;
}

/* The next word, unless there is none or it is a keyword. */
static const char *ub_impair_next__(const struct ub_impair_pstate *ps)
{
	if (ps->i >= ps->argc || ub_impair_keyword__(ps->argv[ps->i]) >= 0)
		return NULL;
	return ps->argv[ps->i];
}

/* A word shaped like a number (a sign included, so that "-5ms" is refused
 * as a bad value rather than as an unknown word). */
static bool ub_impair_numeric__(const char *w)
{
	return w[0] && strchr("0123456789.+-", w[0]);
}

/* The next word if it is shaped like a number. */
static const char *ub_impair_next_num__(const struct ub_impair_pstate *ps)
{
	const char *w = ub_impair_next__(ps);

	return w && ub_impair_numeric__(w) ? w : NULL;
}

/* Takes the next word as a value of kind 'k'; 'what' names it in errors. */
static int ub_impair_value__(struct ub_impair_pstate *ps, const char *what,
			     const struct ub_impair_kind *k, uint64_t *out)
{
	const char *w = ps->argv[ps->i++];

	switch (ub_impair_num__(w, k, out)) {
	case 0:
		return 0;
	case -ENOENT:
		return ub_impair_fail__(ps, "%s: \"%.40s\" needs a unit: %s",
					what, w, k->units_s);
	case -ERANGE:
		return ub_impair_fail__(ps, "%s: \"%.40s\" is over %s", what,
					w, k->max_s);
	case -ENOSPC:
		return ub_impair_fail__(ps, "%s: \"%.40s\" is under %s", what,
					w, k->min_s);
	case -EDOM:
		return ub_impair_fail__(ps, "%s: \"%.40s\" is finer than %s",
					what, w, k->fine_s);
	default:
		return ub_impair_fail__(ps, "%s: \"%.40s\" is not %s", what, w,
					k->what);
	}
}

static int ub_impair_ppm__(struct ub_impair_pstate *ps, const char *what,
			   uint32_t *out)
{
	uint64_t v;

	if (ub_impair_value__(ps, what, &ub_impair_pct, &v))
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

/* delay TIME [JITTER [CORR%]]: a jitter is a time, and only a word
 * shaped like a number is taken for one. */
static int ub_impair_delay__(struct ub_impair_pstate *ps)
{
	struct ub_impair_cfg *cfg = ps->cfg;
	const char *w;

	if (ub_impair_value__(ps, "delay", &ub_impair_time, &cfg->delay_ns))
		return -EINVAL;
	w = ub_impair_next_num__(ps);
	if (!w)
		return 0;
	if (w[strlen(w) - 1] == '%')
		return ub_impair_fail__(ps, "delay: correlation \"%.40s\" needs "
					"a jitter before it (delay TIME JITTER "
					"CORR%%)", w);
	if (ub_impair_value__(ps, "jitter", &ub_impair_time, &cfg->jitter_ns))
		return -EINVAL;
	if (!ub_impair_next_num__(ps))
		return 0;
	return ub_impair_ppm__(ps, "delay correlation", &cfg->delay_corr_ppm);
}

/* loss gemodel P [R [1-H [1-K]]], netem's defaults for what is left out. */
static int ub_impair_gemodel__(struct ub_impair_pstate *ps)
{
	struct ub_impair_cfg *cfg = ps->cfg;
	uint32_t *v[] = { &cfg->ge_p_ppm, &cfg->ge_r_ppm, &cfg->ge_h_ppm,
			  &cfg->ge_k_ppm };
	unsigned int n;

	if (!ub_impair_next__(ps))
		return ub_impair_fail__(ps, "loss gemodel needs a value, e.g. "
					"loss gemodel 1%% 30%%");
	cfg->loss = UB_IMPAIR_LOSS_GEMODEL;
	cfg->ge_r_ppm = UB_IMPAIR_PPM;
	cfg->ge_h_ppm = UB_IMPAIR_PPM;
	for (n = 0; n < UB_ARRAY_SIZE(v) && (!n || ub_impair_next_num__(ps));
	     n++) {
		if (ub_impair_ppm__(ps, "loss gemodel", v[n]))
			return -EINVAL;
	}
	if (n == 1)
		cfg->ge_r_ppm = UB_IMPAIR_PPM - cfg->ge_p_ppm;
	return 0;
}

/* loss [random] PCT [CORR%] | loss gemodel ... */
static int ub_impair_loss__(struct ub_impair_pstate *ps)
{
	struct ub_impair_cfg *cfg = ps->cfg;
	const char *w = ps->argv[ps->i];

	if (!strcmp(w, "gemodel")) {
		ps->i++;
		return ub_impair_gemodel__(ps);
	}
	if (!strcmp(w, "random")) {
		ps->i++;
		if (!ub_impair_next__(ps))
			return ub_impair_fail__(ps, "loss random needs a value, "
						"e.g. loss random 1%%");
	}
	cfg->loss = UB_IMPAIR_LOSS_RANDOM;
	if (ub_impair_ppm__(ps, "loss", &cfg->loss_ppm))
		return -EINVAL;
	if (ub_impair_next_num__(ps) &&
	    ub_impair_ppm__(ps, "loss correlation", &cfg->loss_corr_ppm))
		return -EINVAL;
	/* Nothing is ever lost at 0 %: that is no loss at all. */
	if (!cfg->loss_ppm) {
		cfg->loss = UB_IMPAIR_LOSS_NONE;
		cfg->loss_corr_ppm = 0;
	}
	return 0;
}

static int ub_impair_dist__(struct ub_impair_pstate *ps)
{
	const char *w = ps->argv[ps->i++];

	for (unsigned int d = 0; d < UB_ARRAY_SIZE(ub_impair_dists); d++) {
		if (!strcmp(ub_impair_dists[d], w)) {
			ps->cfg->dist = (enum ub_impair_dist)d;
			ps->cfg->has_dist = true;
			return 0;
		}
	}
	return ub_impair_fail__(ps, "distribution: \"%.40s\" is not uniform, "
				"normal or pareto", w);
}

static int ub_impair_key__(struct ub_impair_pstate *ps, int k)
{
	struct ub_impair_cfg *cfg = ps->cfg;
	const char *kw = ub_impair_keys[k].word;
	uint64_t v = 0;
	int ret;

	switch (k) {
	case UB_IMPAIR_K_DELAY:
		return ub_impair_delay__(ps);
	case UB_IMPAIR_K_DIST:
		return ub_impair_dist__(ps);
	case UB_IMPAIR_K_LOSS:
		return ub_impair_loss__(ps);
	case UB_IMPAIR_K_RATE:
		return ub_impair_value__(ps, kw, &ub_impair_rate,
					 &cfg->rate_bps);
	case UB_IMPAIR_K_CORRUPT:
		return ub_impair_ppm__(ps, kw, &cfg->corrupt_ppm);
	case UB_IMPAIR_K_DUPLICATE:
		return ub_impair_ppm__(ps, kw, &cfg->duplicate_ppm);
	case UB_IMPAIR_K_REORDER:
		return ub_impair_ppm__(ps, kw, &cfg->reorder_ppm);
	default:
		ret = ub_impair_value__(ps, kw, &ub_impair_count, &v);
		if (!ret)
			cfg->limit = (uint32_t)v;
		return ret;
	}
}

/* A word that is no keyword, and stands where no value is taken. */
static int ub_impair_stray__(struct ub_impair_pstate *ps, const char *w)
{
	uint64_t v;

	if (!strcmp(w, "none"))
		return ub_impair_fail__(ps, "\"none\" stands alone: it cannot "
					"come with other words");
	if (!ub_impair_num__(w, &ub_impair_time, &v))
		return ub_impair_fail__(ps, ps->seen & 1u << UB_IMPAIR_K_DELAY ?
					"jitter \"%.40s\" must come right after "
					"the delay's time" :
					"jitter \"%.40s\" without delay (delay "
					"TIME JITTER)", w);
	if (ub_impair_numeric__(w))
		return ub_impair_fail__(ps, "unexpected value \"%.40s\" (no "
					"keyword before it takes one)", w);
	return ub_impair_fail__(ps, "unknown word \"%.40s\" (expected delay, "
				"distribution, loss, rate, corrupt, duplicate, "
				"reorder or limit)", w);
}

/* The rules between keywords, once all are read. */
static int ub_impair_check__(struct ub_impair_pstate *ps)
{
	const struct ub_impair_cfg *cfg = ps->cfg;

	if (cfg->has_dist && !cfg->jitter_ns)
		return ub_impair_fail__(ps, "distribution without jitter "
					"(delay TIME JITTER distribution %s)",
					ub_impair_dists[cfg->dist]);
	if (cfg->delay_corr_ppm && !cfg->jitter_ns)
		return ub_impair_fail__(ps, "delay: a correlation needs a "
					"jitter above 0");
	if (cfg->reorder_ppm && !cfg->delay_ns)
		return ub_impair_fail__(ps, "reorder needs a delay (e.g. delay "
					"10ms reorder 25%%)");
	return 0;
}

static int ub_impair_parse__(struct ub_impair_pstate *ps)
{
	int k;

	if (ps->argc == 1 && !strcmp(ps->argv[0], "none"))
		return 0;
	while (ps->i < ps->argc) {
		const char *w = ps->argv[ps->i++];

		k = ub_impair_keyword__(w);
		if (k < 0)
			return ub_impair_stray__(ps, w);
		if (ps->seen & 1u << k)
			return ub_impair_fail__(ps, "%s given twice", w);
		ps->seen |= 1u << k;
		if (!ub_impair_next__(ps))
			return ub_impair_fail__(ps, "%s needs a value, e.g. %s",
						w, ub_impair_keys[k].example);
		if (ub_impair_key__(ps, k))
			return -EINVAL;
	}
	return ub_impair_check__(ps);
}

int ub_impair_parse(int argc, char *const argv[], struct ub_impair_cfg *cfg,
		    char *err, size_t errlen)
{
	struct ub_impair_pstate ps = {
		.argc = argc, .argv = argv, .cfg = cfg,
		.err = err, .errlen = errlen,
	};
	int ret;

	ub_impair_cfg_init(cfg);
	if (errlen)
		err[0] = '\0';
	ret = ub_impair_parse__(&ps);
	/* Half a configuration is none at all. */
	if (ret)
		ub_impair_cfg_init(cfg);
	return ret;
}

/* ---- the formatter ---- */

struct ub_impair_text {
	char *buf;
	size_t len, pos;
};

/* Appends a word (a space before all but the first), counting what does
 * not fit as snprintf does. */
static void ub_impair_put__(struct ub_impair_text *t, const char *fmt, ...)
	UB_PRINTF(2, 3);

static void ub_impair_put__(struct ub_impair_text *t, const char *fmt, ...)
{
	bool room = t->pos < t->len;
	char word[64];
	va_list ap;
	int n;

	va_start(ap, fmt);
	vsnprintf(word, sizeof(word), fmt, ap);
	va_end(ap);
	n = snprintf(room ? t->buf + t->pos : NULL, room ? t->len - t->pos : 0,
		     "%s%s", t->pos ? " " : "", word);
	if (n > 0)
		t->pos += (size_t)n;
}

/* 'key' (if any) and 'v' / 10^ndec with 'unit', with no trailing zero
 * after the point. */
static void ub_impair_put_dec__(struct ub_impair_text *t, const char *key,
				uint64_t v, unsigned int ndec, const char *unit)
{
	uint64_t div = 1, frac;
	char digits[24];
	size_t n;

	for (unsigned int i = 0; i < ndec; i++)
		div *= 10;
	frac = v % div;
	snprintf(digits, sizeof(digits), ".%0*llu", (int)ndec,
		 (unsigned long long)frac);
	for (n = strlen(digits); digits[n - 1] == '0'; n--)
		digits[n - 1] = '\0';
	ub_impair_put__(t, "%s%s%llu%s%s", key ? key : "", key ? " " : "",
			(unsigned long long)(v / div), frac ? digits : "", unit);
}

/* In the largest of the first 'n' units that holds 'v' whole, else in the
 * n-th with 'ndec' decimals. */
static void ub_impair_put_unit__(struct ub_impair_text *t, const char *key,
				 uint64_t v, const struct ub_impair_unit *u,
				 unsigned int n, unsigned int ndec)
{
	for (; n > 1 && v % u->mult; n--)
		u++;
	if (v % u->mult)
		ub_impair_put_dec__(t, key, v, ndec, u->name);
	else
		ub_impair_put_dec__(t, key, v / u->mult, 0, u->name);
}

static void ub_impair_put_time__(struct ub_impair_text *t, const char *key,
				 uint64_t ns)
{
	ub_impair_put_unit__(t, key, ns, ub_impair_time_units, 3, 3);
}

static void ub_impair_put_pct__(struct ub_impair_text *t, const char *key,
				uint32_t ppm)
{
	ub_impair_put_dec__(t, key, ppm, 4, "%");
}

static void ub_impair_put_loss__(struct ub_impair_text *t,
				 const struct ub_impair_cfg *cfg)
{
	const uint32_t ge[] = { cfg->ge_p_ppm, cfg->ge_r_ppm, cfg->ge_h_ppm,
				cfg->ge_k_ppm };
	unsigned int n = UB_ARRAY_SIZE(ge);

	if (cfg->loss == UB_IMPAIR_LOSS_RANDOM) {
		ub_impair_put_pct__(t, "loss", cfg->loss_ppm);
		if (cfg->loss_corr_ppm)
			ub_impair_put_pct__(t, NULL, cfg->loss_corr_ppm);
		return;
	}
	if (cfg->loss != UB_IMPAIR_LOSS_GEMODEL)
		return;
	/* Leave out what netem takes by default, from the end. */
	if (!ge[3])
		n = 3;
	if (n == 3 && ge[2] == UB_IMPAIR_PPM)
		n = 2;
	if (n == 2 && ge[1] == UB_IMPAIR_PPM - ge[0])
		n = 1;
	ub_impair_put__(t, "loss gemodel");
	for (unsigned int i = 0; i < n; i++)
		ub_impair_put_pct__(t, NULL, ge[i]);
}

int ub_impair_fmt(const struct ub_impair_cfg *cfg, char *buf, size_t len)
{
	struct ub_impair_text t = { buf, len, 0 };

	if (len)
		buf[0] = '\0';
	if (ub_impair_cfg_none(cfg)) {
		ub_impair_put__(&t, "none");
		return (int)t.pos;
	}
	if (cfg->delay_ns || cfg->jitter_ns)
		ub_impair_put_time__(&t, "delay", cfg->delay_ns);
	if (cfg->jitter_ns) {
		ub_impair_put_time__(&t, NULL, cfg->jitter_ns);
		if (cfg->delay_corr_ppm)
			ub_impair_put_pct__(&t, NULL, cfg->delay_corr_ppm);
	}
	if (cfg->has_dist && cfg->dist < UB_ARRAY_SIZE(ub_impair_dists))
		ub_impair_put__(&t, "distribution %s",
				ub_impair_dists[cfg->dist]);
	ub_impair_put_loss__(&t, cfg);
	if (cfg->rate_bps)
		ub_impair_put_unit__(&t, "rate", cfg->rate_bps,
				     ub_impair_rate_units, 4, 0);
	if (cfg->corrupt_ppm)
		ub_impair_put_pct__(&t, "corrupt", cfg->corrupt_ppm);
	if (cfg->duplicate_ppm)
		ub_impair_put_pct__(&t, "duplicate", cfg->duplicate_ppm);
	if (cfg->reorder_ppm)
		ub_impair_put_pct__(&t, "reorder", cfg->reorder_ppm);
	if (cfg->limit != UB_IMPAIR_LIMIT_DEFAULT)
		ub_impair_put__(&t, "limit %u", cfg->limit);
	return (int)t.pos;
}
