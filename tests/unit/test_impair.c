/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the impairment words (control/impair.c): the exact values
 * stored for every unit, fraction and default (gemodel's included), every
 * refusal with its message, "none" and no words at all, the canonical
 * words written back, and round trips through ub_impair_fmt() for a list
 * of lines and for a few hundred random valid configurations.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <ubridge/compiler.h>
#include <ubridge/impair.h>

#define MAXW 32
#define PPM UB_IMPAIR_PPM
#define MS 1000000ull
#define US 1000ull
#define SEC 1000000000ull

/* Splits 'line' (copied into 'buf') at spaces into argv. */
static int split(const char *line, char *buf, size_t len, char **argv)
{
	int argc = 0;

	snprintf(buf, len, "%s", line);
	for (char *save = NULL, *t = strtok_r(buf, " ", &save); t;
	     t = strtok_r(NULL, " ", &save)) {
		assert_true(argc < MAXW);
		argv[argc++] = t;
	}
	return argc;
}

static int parse_line(const char *line, struct ub_impair_cfg *cfg, char *err,
		      size_t errlen)
{
	char buf[512], *argv[MAXW];
	int argc = split(line, buf, sizeof(buf), argv);

	return ub_impair_parse(argc, argv, cfg, err, errlen);
}

static void dump(const char *what, const struct ub_impair_cfg *c)
{
	print_message("%s: delay %llu jitter %llu corr %u dist %d/%d loss %d "
		      "%u/%u ge %u %u %u %u rate %llu corrupt %u dup %u "
		      "reorder %u limit %u\n", what,
		      (unsigned long long)c->delay_ns,
		      (unsigned long long)c->jitter_ns, c->delay_corr_ppm,
		      c->has_dist, (int)c->dist, (int)c->loss, c->loss_ppm,
		      c->loss_corr_ppm, c->ge_p_ppm, c->ge_r_ppm, c->ge_h_ppm,
		      c->ge_k_ppm, (unsigned long long)c->rate_bps,
		      c->corrupt_ppm, c->duplicate_ppm, c->reorder_ppm,
		      c->limit);
}

/* Both were filled from ub_impair_cfg_init(), padding included. */
static void assert_cfg_same(const char *ctx, const struct ub_impair_cfg *a,
			    const struct ub_impair_cfg *b)
{
	if (memcmp(a, b, sizeof(*a))) {
		print_message("for \"%s\"\n", ctx);
		dump("want", a);
		dump("got ", b);
		fail();
	}
}

/* ---- values stored ---- */

/* An expected cfg; a limit of 0 stands for the default. */
struct value_case {
	const char *line;
	struct ub_impair_cfg want;
};

static const struct value_case value_cases[] = {
	{ "delay 50ms", { .delay_ns = 50 * MS } },
	{ "delay 1.5ms", { .delay_ns = 1500000 } },
	{ "delay 0.25s", { .delay_ns = 250 * MS } },
	{ "delay .5ms", { .delay_ns = 500 * US } },
	{ "delay 5.ms", { .delay_ns = 5 * MS } },
	{ "delay 200us", { .delay_ns = 200 * US } },
	{ "delay 1.5us", { .delay_ns = 1500 } },
	{ "delay 0.000000001s", { .delay_ns = 1 } },
	{ "delay 1.500000000000000000000ms", { .delay_ns = 1500000 } },
	{ "delay 007ms", { .delay_ns = 7 * MS } },
	{ "delay 200usec", { .delay_ns = 200 * US } },
	{ "delay 2msec", { .delay_ns = 2 * MS } },
	{ "delay 3msecs", { .delay_ns = 3 * MS } },
	{ "delay 1sec", { .delay_ns = SEC } },
	{ "delay 2secs", { .delay_ns = 2 * SEC } },
	{ "delay 3MS", { .delay_ns = 3 * MS } },
	{ "delay 10s", { .delay_ns = UB_IMPAIR_DELAY_MAX_NS } },
	{ "delay 10000000us", { .delay_ns = UB_IMPAIR_DELAY_MAX_NS } },
	{ "delay 50ms 10ms", { .delay_ns = 50 * MS, .jitter_ns = 10 * MS } },
	{ "delay 10ms 50ms", { .delay_ns = 10 * MS, .jitter_ns = 50 * MS } },
	{ "delay 0ms 10ms", { .jitter_ns = 10 * MS } },
	{ "delay 50ms 10s", { .delay_ns = 50 * MS, .jitter_ns = 10 * SEC } },
	{ "delay 50ms 10ms 25%", { .delay_ns = 50 * MS, .jitter_ns = 10 * MS,
				   .delay_corr_ppm = 250000 } },
	{ "delay 50ms 10ms 25", { .delay_ns = 50 * MS, .jitter_ns = 10 * MS,
				  .delay_corr_ppm = 250000 } },
	{ "delay 50ms 10ms distribution normal",
	  { .delay_ns = 50 * MS, .jitter_ns = 10 * MS, .has_dist = true,
	    .dist = UB_IMPAIR_DIST_NORMAL } },
	{ "distribution pareto delay 50ms 5ms 1.5",
	  { .delay_ns = 50 * MS, .jitter_ns = 5 * MS, .delay_corr_ppm = 15000,
	    .has_dist = true, .dist = UB_IMPAIR_DIST_PARETO } },
	{ "delay 1ms 1ms distribution uniform",
	  { .delay_ns = MS, .jitter_ns = MS, .has_dist = true,
	    .dist = UB_IMPAIR_DIST_UNIFORM } },
	{ "loss 1%", { .loss = UB_IMPAIR_LOSS_RANDOM, .loss_ppm = 10000 } },
	{ "loss 0.5", { .loss = UB_IMPAIR_LOSS_RANDOM, .loss_ppm = 5000 } },
	{ "loss 0.0001%", { .loss = UB_IMPAIR_LOSS_RANDOM, .loss_ppm = 1 } },
	{ "loss 12.3456%", { .loss = UB_IMPAIR_LOSS_RANDOM,
			     .loss_ppm = 123456 } },
	{ "loss 50.000000%", { .loss = UB_IMPAIR_LOSS_RANDOM,
			       .loss_ppm = 500000 } },
	{ "loss 100%", { .loss = UB_IMPAIR_LOSS_RANDOM, .loss_ppm = PPM } },
	{ "loss 1% 25%", { .loss = UB_IMPAIR_LOSS_RANDOM, .loss_ppm = 10000,
			   .loss_corr_ppm = 250000 } },
	{ "loss random 2", { .loss = UB_IMPAIR_LOSS_RANDOM,
			     .loss_ppm = 20000 } },
	{ "loss random 2 30", { .loss = UB_IMPAIR_LOSS_RANDOM,
				.loss_ppm = 20000, .loss_corr_ppm = 300000 } },
	/* Nothing lost is no loss, its correlation with it. */
	{ "loss 0%", { .loss = UB_IMPAIR_LOSS_NONE } },
	{ "loss 0 50%", { .loss = UB_IMPAIR_LOSS_NONE } },
	{ "loss gemodel 1%", { .loss = UB_IMPAIR_LOSS_GEMODEL,
			       .ge_p_ppm = 10000, .ge_r_ppm = 990000,
			       .ge_h_ppm = PPM, .ge_k_ppm = 0 } },
	{ "loss gemodel 1% 30%", { .loss = UB_IMPAIR_LOSS_GEMODEL,
				   .ge_p_ppm = 10000, .ge_r_ppm = 300000,
				   .ge_h_ppm = PPM } },
	{ "loss gemodel 1% 30% 90", { .loss = UB_IMPAIR_LOSS_GEMODEL,
				      .ge_p_ppm = 10000, .ge_r_ppm = 300000,
				      .ge_h_ppm = 900000 } },
	{ "loss gemodel 1% 30% 90% 0.5%",
	  { .loss = UB_IMPAIR_LOSS_GEMODEL, .ge_p_ppm = 10000,
	    .ge_r_ppm = 300000, .ge_h_ppm = 900000, .ge_k_ppm = 5000 } },
	{ "loss gemodel 0%", { .loss = UB_IMPAIR_LOSS_GEMODEL,
			       .ge_r_ppm = PPM, .ge_h_ppm = PPM } },
	{ "loss gemodel 100% 0% 0% 0%", { .loss = UB_IMPAIR_LOSS_GEMODEL,
					  .ge_p_ppm = PPM } },
	{ "rate 20mbit", { .rate_bps = 20000000 } },
	{ "rate 20Mbit", { .rate_bps = 20000000 } },
	{ "rate 1gbit", { .rate_bps = 1000000000 } },
	{ "rate 1.5kbit", { .rate_bps = 1500 } },
	{ "rate 1bit", { .rate_bps = 1 } },
	{ "rate 100gbit", { .rate_bps = UB_IMPAIR_RATE_MAX_BPS } },
	{ "rate 500kbps", { .rate_bps = 4000000 } },
	{ "rate 1bps", { .rate_bps = 8 } },
	{ "rate 1MBps", { .rate_bps = 8000000 } },
	{ "rate 12.5gbps", { .rate_bps = UB_IMPAIR_RATE_MAX_BPS } },
	{ "rate 0.125kbps", { .rate_bps = 1000 } },
	{ "corrupt 0.1%", { .corrupt_ppm = 1000 } },
	{ "duplicate 1", { .duplicate_ppm = 10000 } },
	{ "delay 10ms reorder 25%", { .delay_ns = 10 * MS,
				      .reorder_ppm = 250000 } },
	{ "reorder 25% delay 10ms", { .delay_ns = 10 * MS,
				      .reorder_ppm = 250000 } },
	{ "limit 1", { .limit = 1 } },
	{ "limit 100000", { .limit = UB_IMPAIR_LIMIT_MAX } },
	{ "limit 0500", { .limit = 500 } },
	{ "delay 50ms 10ms 25% distribution normal loss 1% rate 20mbit",
	  { .delay_ns = 50 * MS, .jitter_ns = 10 * MS,
	    .delay_corr_ppm = 250000, .has_dist = true,
	    .dist = UB_IMPAIR_DIST_NORMAL, .loss = UB_IMPAIR_LOSS_RANDOM,
	    .loss_ppm = 10000, .rate_bps = 20000000 } },
	{ "limit 10 reorder 5% duplicate 1% corrupt 2% rate 1gbit loss "
	  "gemodel 3 40 delay 1s",
	  { .delay_ns = SEC, .loss = UB_IMPAIR_LOSS_GEMODEL,
	    .ge_p_ppm = 30000, .ge_r_ppm = 400000, .ge_h_ppm = PPM,
	    .rate_bps = 1000000000, .corrupt_ppm = 20000,
	    .duplicate_ppm = 10000, .reorder_ppm = 50000, .limit = 10 } },
};

static void test_values(void **state)
{
	struct ub_impair_cfg want, got;
	char err[256];

	for (size_t i = 0; i < UB_ARRAY_SIZE(value_cases); i++) {
		const struct value_case *vc = &value_cases[i];

		ub_impair_cfg_init(&want);
		want.delay_ns = vc->want.delay_ns;
		want.jitter_ns = vc->want.jitter_ns;
		want.delay_corr_ppm = vc->want.delay_corr_ppm;
		want.dist = vc->want.dist;
		want.has_dist = vc->want.has_dist;
		want.loss = vc->want.loss;
		want.loss_ppm = vc->want.loss_ppm;
		want.loss_corr_ppm = vc->want.loss_corr_ppm;
		want.ge_p_ppm = vc->want.ge_p_ppm;
		want.ge_r_ppm = vc->want.ge_r_ppm;
		want.ge_h_ppm = vc->want.ge_h_ppm;
		want.ge_k_ppm = vc->want.ge_k_ppm;
		want.rate_bps = vc->want.rate_bps;
		want.corrupt_ppm = vc->want.corrupt_ppm;
		want.duplicate_ppm = vc->want.duplicate_ppm;
		want.reorder_ppm = vc->want.reorder_ppm;
		if (vc->want.limit)
			want.limit = vc->want.limit;
		err[0] = 'x';
		if (parse_line(vc->line, &got, err, sizeof(err))) {
			print_message("\"%s\": %s\n", vc->line, err);
			fail();
		}
		assert_string_equal(err, "");
		assert_cfg_same(vc->line, &want, &got);
	}
}

/* No words and "none" alone: nothing, with the default limit. */
static void test_none(void **state)
{
	struct ub_impair_cfg init, cfg;
	char word[] = "none", *none[] = { word };
	char err[64];

	ub_impair_cfg_init(&init);
	assert_true(ub_impair_cfg_none(&init));
	assert_int_equal(init.limit, UB_IMPAIR_LIMIT_DEFAULT);
	assert_int_equal(init.loss, UB_IMPAIR_LOSS_NONE);
	assert_false(init.has_dist);

	memset(&cfg, 0xa5, sizeof(cfg));
	assert_int_equal(ub_impair_parse(0, NULL, &cfg, err, sizeof(err)), 0);
	assert_true(ub_impair_cfg_none(&cfg));
	assert_cfg_same("(no words)", &init, &cfg);

	memset(&cfg, 0xa5, sizeof(cfg));
	assert_int_equal(ub_impair_parse(1, none, &cfg, err, sizeof(err)), 0);
	assert_true(ub_impair_cfg_none(&cfg));
	assert_cfg_same("none", &init, &cfg);

	/* Zero values are nothing too. */
	assert_int_equal(parse_line("delay 0ms loss 0% corrupt 0 duplicate 0% "
				    "reorder 0 limit 5", &cfg, err,
				    sizeof(err)), 0);
	assert_true(ub_impair_cfg_none(&cfg));
}

/* Each impairment alone makes a cfg something; limit and distribution
 * do not. */
static void test_cfg_none(void **state)
{
	struct ub_impair_cfg c;

#define ONE(field, value)                                                     \
	do {                                                                  \
		ub_impair_cfg_init(&c);                                       \
		c.field = value;                                              \
		assert_false(ub_impair_cfg_none(&c));                         \
	} while (0)
	ONE(delay_ns, 1);
	ONE(jitter_ns, 1);
	ONE(loss, UB_IMPAIR_LOSS_RANDOM);
	ONE(loss, UB_IMPAIR_LOSS_GEMODEL);
	ONE(rate_bps, 1);
	ONE(corrupt_ppm, 1);
	ONE(duplicate_ppm, 1);
	ONE(reorder_ppm, 1);
#undef ONE
	ub_impair_cfg_init(&c);
	c.limit = 5;
	c.has_dist = true;
	c.dist = UB_IMPAIR_DIST_PARETO;
	assert_true(ub_impair_cfg_none(&c));
}

/* ---- refusals ---- */

struct error_case {
	const char *line;
	const char *msg;	/* a part of the message */
};

static const struct error_case error_cases[] = {
	/* Times. */
	{ "delay 50", "delay: \"50\" needs a unit: us, ms or s" },
	{ "delay 1.5", "delay: \"1.5\" needs a unit: us, ms or s" },
	{ "delay", "delay needs a value, e.g. 50ms" },
	{ "delay loss 1%", "delay needs a value, e.g. 50ms" },
	{ "delay fast", "delay: \"fast\" is not a time" },
	{ "delay 50ns", "delay: \"50ns\" is not a time" },
	{ "delay 50m", "delay: \"50m\" is not a time" },
	{ "delay nan", "delay: \"nan\" is not a time" },
	{ "delay inf", "delay: \"inf\" is not a time" },
	{ "delay infms", "delay: \"infms\" is not a time" },
	{ "delay 0x10ms", "delay: \"0x10ms\" is not a time" },
	{ "delay 1e3ms", "delay: \"1e3ms\" is not a time" },
	{ "delay +5ms", "delay: \"+5ms\" is not a time" },
	{ "delay -5ms", "delay: \"-5ms\" is not a time" },
	{ "delay 5ms5", "delay: \"5ms5\" is not a time" },
	{ "delay 1.5.5ms", "delay: \"1.5.5ms\" is not a time" },
	{ "delay .ms", "delay: \".ms\" is not a time" },
	{ "delay 1,5ms", "delay: \"1,5ms\" is not a time" },
	{ "delay 11s", "delay: \"11s\" is over 10s" },
	{ "delay 10.000000001s", "delay: \"10.000000001s\" is over 10s" },
	{ "delay 99999999999999999999999s", "is over 10s" },
	{ "delay 1.0000000001s", "delay: \"1.0000000001s\" is finer than "
				 "1 ns" },
	{ "delay 0.0001us", "is finer than 1 ns" },
	{ "delay 50ms 11s", "jitter: \"11s\" is over 10s" },
	{ "delay 50ms 10", "jitter: \"10\" needs a unit: us, ms or s" },
	{ "delay 50ms 10mbit", "jitter: \"10mbit\" is not a time" },
	{ "delay 50ms -1ms", "jitter: \"-1ms\" is not a time" },
	/* The delay's correlation. */
	{ "delay 50ms 25%", "delay: correlation \"25%\" needs a jitter" },
	{ "delay 50ms 0ms 25%", "delay: a correlation needs a jitter" },
	{ "delay 50ms 10ms 120%", "delay correlation: \"120%\" is over "
				  "100%" },
	{ "delay 50ms 10ms 5ms", "delay correlation: \"5ms\" is not a "
				 "percentage" },
	{ "delay 50ms 10ms 25% 5", "unexpected value \"5\"" },
	/* Distributions. */
	{ "delay 50ms distribution normal", "distribution without jitter" },
	{ "distribution normal", "distribution without jitter" },
	{ "delay 50ms 0us distribution pareto",
	  "distribution without jitter" },
	{ "delay 50ms 10ms distribution gaussian",
	  "distribution: \"gaussian\" is not uniform, normal or pareto" },
	{ "delay 50ms 10ms distribution", "distribution needs a value" },
	{ "delay 50ms 10ms distribution Normal", "is not uniform, normal" },
	/* Loss. */
	{ "loss 120%", "loss: \"120%\" is over 100%" },
	{ "loss 100.01", "loss: \"100.01\" is over 100%" },
	{ "loss 0.00001%", "loss: \"0.00001%\" is finer than 0.0001%" },
	{ "loss 1.23456", "is finer than 0.0001%" },
	{ "loss", "loss needs a value, e.g. 1%" },
	{ "loss rate 20mbit", "loss needs a value, e.g. 1%" },
	{ "loss abc", "loss: \"abc\" is not a percentage" },
	{ "loss 1%%", "loss: \"1%%\" is not a percentage" },
	{ "loss %", "loss: \"%\" is not a percentage" },
	{ "loss -1%", "loss: \"-1%\" is not a percentage" },
	{ "loss 1ms", "loss: \"1ms\" is not a percentage" },
	{ "loss 1% 101%", "loss correlation: \"101%\" is over 100%" },
	{ "loss 1% 2% 3%", "unexpected value \"3%\"" },
	{ "loss random", "loss random needs a value" },
	{ "loss random delay 1ms", "loss random needs a value" },
	{ "loss random gemodel", "loss: \"gemodel\" is not a percentage" },
	{ "loss state 1%", "loss: \"state\" is not a percentage" },
	{ "loss gemodel", "loss gemodel needs a value" },
	{ "loss gemodel rate 1mbit", "loss gemodel needs a value" },
	{ "loss gemodel x", "loss gemodel: \"x\" is not a percentage" },
	{ "loss gemodel 1% 200%", "loss gemodel: \"200%\" is over 100%" },
	{ "loss gemodel 1% 2% 3% 4% 5%", "unexpected value \"5%\"" },
	/* Rates. */
	{ "rate 20", "rate: \"20\" needs a unit: bit, kbit, mbit, gbit, bps, "
		     "kbps, mbps or gbps" },
	{ "rate fast", "rate: \"fast\" is not a rate (e.g. 20mbit, 1gbit, "
		       "500kbps)" },
	{ "rate 20mbits", "rate: \"20mbits\" is not a rate" },
	{ "rate 20 mbit", "rate: \"20\" needs a unit" },
	{ "rate 0bit", "rate: \"0bit\" is under 1bit" },
	{ "rate 0.5bit", "rate: \"0.5bit\" is finer than 1bit" },
	{ "rate 101gbit", "rate: \"101gbit\" is over 100gbit" },
	{ "rate 12.6gbps", "rate: \"12.6gbps\" is over 100gbit" },
	{ "rate", "rate needs a value, e.g. 20mbit" },
	/* The other percentages. */
	{ "corrupt 101", "corrupt: \"101\" is over 100%" },
	{ "corrupt", "corrupt needs a value" },
	{ "duplicate x", "duplicate: \"x\" is not a percentage" },
	{ "reorder 25%", "reorder needs a delay" },
	{ "reorder 25% delay 0ms 10ms", "reorder needs a delay" },
	{ "corrupt 1% 25%", "unexpected value \"25%\"" },
	/* Limits. */
	{ "limit 0", "limit: \"0\" is under 1" },
	{ "limit 100001", "limit: \"100001\" is over 100000" },
	{ "limit 1.5", "limit: \"1.5\" is not a number of frames" },
	{ "limit 10.0", "limit: \"10.0\" is not a number of frames" },
	{ "limit 10k", "limit: \"10k\" is not a number of frames" },
	{ "limit -1", "limit: \"-1\" is not a number of frames" },
	{ "limit 99999999999999999999999", "is over 100000" },
	{ "limit", "limit needs a value, e.g. 1000" },
	/* Each once. */
	{ "delay 10ms delay 20ms", "delay given twice" },
	{ "loss 1% loss gemodel 1%", "loss given twice" },
	{ "rate 1mbit rate 2mbit", "rate given twice" },
	{ "limit 5 limit 5", "limit given twice" },
	{ "delay 1ms 1ms distribution normal distribution normal",
	  "distribution given twice" },
	/* Words out of place. */
	{ "foo", "unknown word \"foo\"" },
	{ "delay 10ms slot 1", "unknown word \"slot\"" },
	{ "Delay 10ms", "unknown word \"Delay\"" },
	{ "gemodel 1%", "unknown word \"gemodel\"" },
	{ "25%", "unexpected value \"25%\"" },
	{ "10ms", "jitter \"10ms\" without delay" },
	{ "rate 1mbit 10ms", "jitter \"10ms\" without delay" },
	{ "loss 1% 10ms", "loss correlation: \"10ms\" is not a percentage" },
	{ "delay 10ms rate 1mbit 5ms", "jitter \"5ms\" must come right after "
				    "the delay's time" },
	{ "none delay 10ms", "\"none\" stands alone" },
	{ "delay 10ms none", "\"none\" stands alone" },
	{ "none none", "\"none\" stands alone" },
};

static void test_errors(void **state)
{
	struct ub_impair_cfg cfg, init;
	char err[256];

	ub_impair_cfg_init(&init);
	for (size_t i = 0; i < UB_ARRAY_SIZE(error_cases); i++) {
		const struct error_case *ec = &error_cases[i];
		int ret;

		err[0] = '\0';
		ret = parse_line(ec->line, &cfg, err, sizeof(err));
		if (ret != -EINVAL || !strstr(err, ec->msg)) {
			print_message("\"%s\": %d \"%s\", want \"%s\"\n",
				      ec->line, ret, err, ec->msg);
			fail();
		}
		/* Lower case first, and nothing half parsed left behind. */
		assert_false(err[0] >= 'A' && err[0] <= 'Z');
		assert_cfg_same(ec->line, &init, &cfg);
	}
}

/* The messages as the issue spells them, whole. */
static void test_error_messages(void **state)
{
	static const struct error_case whole[] = {
		{ "delay 50", "delay: \"50\" needs a unit: us, ms or s" },
		{ "loss 120%", "loss: \"120%\" is over 100%" },
		{ "rate fast", "rate: \"fast\" is not a rate (e.g. 20mbit, "
			       "1gbit, 500kbps)" },
		{ "rate", "rate needs a value, e.g. 20mbit" },
		{ "delay 1ms delay 2ms", "delay given twice" },
	};
	struct ub_impair_cfg cfg;
	char err[256], small[8];

	for (size_t i = 0; i < UB_ARRAY_SIZE(whole); i++) {
		assert_int_equal(parse_line(whole[i].line, &cfg, err,
					    sizeof(err)), -EINVAL);
		assert_string_equal(err, whole[i].msg);
	}
	/* A short buffer is cut, and no buffer is fine. */
	assert_int_equal(parse_line("loss 120%", &cfg, small, sizeof(small)),
			 -EINVAL);
	assert_string_equal(small, "loss: \"");
	assert_int_equal(parse_line("loss 120%", &cfg, NULL, 0), -EINVAL);
	assert_int_equal(parse_line("loss 12%", &cfg, NULL, 0), 0);
	/* A very long word is named, cut. */
	assert_int_equal(parse_line("delay 123456789012345678901234567890123"
				    "456789012345678901234567890", &cfg, err,
				    sizeof(err)), -EINVAL);
	assert_true(strlen(err) < 100);
}

/* ---- words written back ---- */

static void fmt_check(const struct ub_impair_cfg *cfg, char *out, size_t len)
{
	int n = ub_impair_fmt(cfg, out, len);

	assert_true(n > 0);
	assert_int_equal((size_t)n, strlen(out));
}

static const struct {
	const char *in, *out;
} fmt_cases[] = {
	{ "", "none" },
	{ "none", "none" },
	{ "limit 500", "none" },
	{ "delay 0s", "none" },
	{ "loss 0%", "none" },
	{ "delay 50ms", "delay 50ms" },
	{ "delay 1.5ms", "delay 1500us" },
	{ "delay 0.25s", "delay 250ms" },
	{ "delay 1000ms", "delay 1s" },
	{ "delay 1.5us", "delay 1.5us" },
	{ "delay 0.001001ms", "delay 1.001us" },
	{ "delay 0.000000001s", "delay 0.001us" },
	{ "delay 1.000000001s", "delay 1000000.001us" },
	{ "delay 10s", "delay 10s" },
	{ "delay 0ms 10ms", "delay 0s 10ms" },
	{ "delay 50ms 0ms", "delay 50ms" },
	{ "delay 50ms 10ms 25", "delay 50ms 10ms 25%" },
	{ "delay 50ms 10ms 0%", "delay 50ms 10ms" },
	{ "delay 50msec 10msec 25% distribution normal loss 1% rate "
	  "20mbit", "delay 50ms 10ms 25% distribution normal loss 1% rate "
		    "20mbit" },
	{ "delay 5ms 1ms distribution uniform",
	  "delay 5ms 1ms distribution uniform" },
	{ "loss 0.50%", "loss 0.5%" },
	{ "loss 10", "loss 10%" },
	{ "loss 0.0001", "loss 0.0001%" },
	{ "loss 12.3456%", "loss 12.3456%" },
	{ "loss 100", "loss 100%" },
	{ "loss random 1 0", "loss 1%" },
	{ "loss random 1 2.5", "loss 1% 2.5%" },
	{ "loss gemodel 1%", "loss gemodel 1%" },
	{ "loss gemodel 1% 99%", "loss gemodel 1%" },
	{ "loss gemodel 1% 99% 100% 0%", "loss gemodel 1%" },
	{ "loss gemodel 1% 30%", "loss gemodel 1% 30%" },
	{ "loss gemodel 1% 30% 100% 0", "loss gemodel 1% 30%" },
	{ "loss gemodel 1% 99% 90%", "loss gemodel 1% 99% 90%" },
	{ "loss gemodel 1% 99% 100% 1%", "loss gemodel 1% 99% 100% 1%" },
	{ "loss gemodel 0", "loss gemodel 0%" },
	{ "rate 1000kbit", "rate 1mbit" },
	{ "rate 500kbps", "rate 4mbit" },
	{ "rate 1.5kbit", "rate 1500bit" },
	{ "rate 1bps", "rate 8bit" },
	{ "rate 100gbit", "rate 100gbit" },
	{ "rate 1234567bit", "rate 1234567bit" },
	{ "limit 10 reorder 5% delay 1s 2ms 30 duplicate 1% corrupt 2% "
	  "rate 1gbit loss 3% distribution pareto",
	  "delay 1s 2ms 30% distribution pareto loss 3% rate 1gbit corrupt "
	  "2% duplicate 1% reorder 5% limit 10" },
	{ "delay 1ms limit 1000", "delay 1ms" },
	{ "delay 1ms limit 100000", "delay 1ms limit 100000" },
};

static void test_fmt(void **state)
{
	struct ub_impair_cfg cfg, back;
	char out[512], err[256];

	for (size_t i = 0; i < UB_ARRAY_SIZE(fmt_cases); i++) {
		if (parse_line(fmt_cases[i].in, &cfg, err, sizeof(err))) {
			print_message("\"%s\": %s\n", fmt_cases[i].in, err);
			fail();
		}
		fmt_check(&cfg, out, sizeof(out));
		assert_string_equal(out, fmt_cases[i].out);
		/* And the words give the same cfg again (but for a limit
		 * on a cfg that does nothing, which "none" leaves out). */
		assert_int_equal(parse_line(out, &back, err, sizeof(err)), 0);
		if (ub_impair_cfg_none(&cfg))
			ub_impair_cfg_init(&cfg);
		assert_cfg_same(fmt_cases[i].in, &cfg, &back);
	}
}

/* The length needed comes back whatever the room, as snprintf's. */
static void test_fmt_short(void **state)
{
	const char *line = "delay 50ms 10ms 25% distribution normal loss 1% "
			   "rate 20mbit";
	struct ub_impair_cfg cfg;
	char out[128], err[64];
	int n;

	assert_int_equal(parse_line(line, &cfg, err, sizeof(err)), 0);
	n = ub_impair_fmt(&cfg, NULL, 0);
	assert_int_equal(n, (int)strlen(line));
	for (size_t len = 1; len <= strlen(line) + 1; len++) {
		memset(out, 'x', sizeof(out));
		assert_int_equal(ub_impair_fmt(&cfg, out, len), n);
		assert_int_equal(strlen(out), len - 1);
		assert_memory_equal(out, line, len - 1);
		assert_int_equal(out[len], 'x');
	}
	ub_impair_cfg_init(&cfg);
	assert_int_equal(ub_impair_fmt(&cfg, out, 3), 4);
	assert_string_equal(out, "no");
}

/* ---- round trips ---- */

static void round_trip(const struct ub_impair_cfg *cfg)
{
	struct ub_impair_cfg want = *cfg, back;
	char out[512], err[256];

	fmt_check(cfg, out, sizeof(out));
	if (parse_line(out, &back, err, sizeof(err))) {
		print_message("\"%s\": %s\n", out, err);
		dump("cfg", cfg);
		fail();
	}
	if (ub_impair_cfg_none(cfg))
		ub_impair_cfg_init(&want);
	assert_cfg_same(out, &want, &back);
}

static const char *const trip_lines[] = {
	"delay 50ms",
	"delay 1.5ms 0.5ms 12.5% distribution normal",
	"delay 0.000001s 0.000000001s 0.0001",
	"delay 9.999999999s 9.999999999s 99.9999 distribution pareto",
	"delay 0us 1us",
	"loss 0.0001% 100%",
	"loss gemodel 0.0001 99.9999 0.0001 0.0001",
	"loss gemodel 100",
	"loss gemodel 50 50 50",
	"rate 99.999999999gbit",
	"rate 12.5gbps",
	"rate 7bit corrupt 0.0001 duplicate 100 delay 1us reorder 100",
	"limit 1 rate 1kbps",
};

static void test_round_trip_lines(void **state)
{
	struct ub_impair_cfg cfg;
	char err[256];

	for (size_t i = 0; i < UB_ARRAY_SIZE(trip_lines); i++) {
		if (parse_line(trip_lines[i], &cfg, err, sizeof(err))) {
			print_message("\"%s\": %s\n", trip_lines[i], err);
			fail();
		}
		round_trip(&cfg);
	}
	for (size_t i = 0; i < UB_ARRAY_SIZE(value_cases); i++) {
		assert_int_equal(parse_line(value_cases[i].line, &cfg, err,
					    sizeof(err)), 0);
		round_trip(&cfg);
	}
}

/* xorshift64*, seeded: the same configurations every run. */
static uint64_t rnd_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	rnd_state ^= rnd_state >> 12;
	rnd_state ^= rnd_state << 25;
	rnd_state ^= rnd_state >> 27;
	return rnd_state * 0x2545f4914f6cdd1dull;
}

/* In [0, max], often a round number, sometimes 0 or max. */
static uint64_t rnd_upto(uint64_t max)
{
	static const uint64_t grain[] = { 1, 1000, 1000000, 1000000000 };
	uint64_t v, g;

	switch (rnd() % 8) {
	case 0:
		return 0;
	case 1:
		return max;
	default:
		v = rnd() % (max + 1);
		g = grain[rnd() % UB_ARRAY_SIZE(grain)];
		return g <= max ? v / g * g : v;
	}
}

static uint32_t rnd_ppm(void)
{
	return (uint32_t)rnd_upto(PPM);
}

static void rnd_cfg(struct ub_impair_cfg *c)
{
	ub_impair_cfg_init(c);
	if (rnd() % 2) {
		c->delay_ns = rnd_upto(UB_IMPAIR_DELAY_MAX_NS);
		c->jitter_ns = rnd() % 2 ? rnd_upto(UB_IMPAIR_DELAY_MAX_NS) : 0;
		if (c->jitter_ns) {
			c->delay_corr_ppm = rnd() % 2 ? rnd_ppm() : 0;
			c->has_dist = rnd() % 2;
			c->dist = c->has_dist ? (enum ub_impair_dist)(rnd() % 3) :
						UB_IMPAIR_DIST_UNIFORM;
		}
	}
	switch (rnd() % 3) {
	case 1:
		c->loss = UB_IMPAIR_LOSS_RANDOM;
		c->loss_ppm = 1 + (uint32_t)rnd_upto(PPM - 1);
		c->loss_corr_ppm = rnd() % 2 ? rnd_ppm() : 0;
		break;
	case 2:
		c->loss = UB_IMPAIR_LOSS_GEMODEL;
		c->ge_p_ppm = rnd_ppm();
		/* netem's defaults half the time, for the short forms. */
		c->ge_r_ppm = rnd() % 2 ? rnd_ppm() : PPM - c->ge_p_ppm;
		c->ge_h_ppm = rnd() % 2 ? rnd_ppm() : PPM;
		c->ge_k_ppm = rnd() % 2 ? rnd_ppm() : 0;
		break;
	}
	if (rnd() % 2)
		c->rate_bps = 1 + rnd_upto(UB_IMPAIR_RATE_MAX_BPS - 1);
	c->corrupt_ppm = rnd() % 2 ? rnd_ppm() : 0;
	c->duplicate_ppm = rnd() % 2 ? rnd_ppm() : 0;
	c->reorder_ppm = c->delay_ns && rnd() % 2 ? rnd_ppm() : 0;
	if (rnd() % 2)
		c->limit = 1 + (uint32_t)rnd_upto(UB_IMPAIR_LIMIT_MAX - 1);
}

static void test_round_trip_random(void **state)
{
	struct ub_impair_cfg cfg;
	unsigned int none = 0;

	for (int i = 0; i < 500; i++) {
		rnd_cfg(&cfg);
		none += ub_impair_cfg_none(&cfg);
		round_trip(&cfg);
	}
	/* Most were something. */
	assert_true(none < 50);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_none),
		cmocka_unit_test(test_cfg_none),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_error_messages),
		cmocka_unit_test(test_fmt),
		cmocka_unit_test(test_fmt_short),
		cmocka_unit_test(test_round_trip_lines),
		cmocka_unit_test(test_round_trip_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
