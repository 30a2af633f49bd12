/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for the address parsers behind `ubctl netns add
 * --addr` and friends (include/ubridge/netlink.h): ub_cidr_parse(),
 * ub_addr_parse() and ub_cidr_fmt().
 *
 * Properties, abort() when broken:
 * - what parses formats to text that parses to the same value, and that
 *   text is a fixed point of parse+format;
 * - an IPv4 CIDR has one spelling only (the parser is strict), so it
 *   formats back to exactly the input;
 * - "ADDR/LEN" is never a plain address, and a plain address is never a
 *   CIDR;
 * - ub_cidr_fmt() fits in UB_CIDR_STRLEN and refuses, rather than
 *   truncates, a buffer one byte short;
 * - any value (the input's first bytes taken as a struct) formats and,
 *   when its prefix is in range, parses back to itself.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <ubridge/netlink.h>

/* Longer than any address, so that the length checks are reached. */
#define FUZZ_IN_MAX 256

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what)
{
	fprintf(stderr, "fuzz_cidr: property broken: %s\n", what);
	abort();
}

static void check(bool ok, const char *what)
{
	if (!ok)
		fail(what);
}

static bool same(const struct ub_cidr *a, const struct ub_cidr *b)
{
	size_t n = a->family == AF_INET ? 4 : 16;

	return a->family == b->family && a->prefix == b->prefix &&
	       memcmp(a->addr, b->addr, n) == 0;
}

/* Formats 'c', checks the buffer-size contract, returns the text. */
static void fmt_checked(const struct ub_cidr *c, bool with_prefix,
			char out[UB_CIDR_STRLEN])
{
	char small[UB_CIDR_STRLEN];
	size_t n;

	check(ub_cidr_fmt(c, with_prefix, out, UB_CIDR_STRLEN) == 0,
	      "a parsed value formats");
	n = strlen(out);
	check(n > 0 && n < UB_CIDR_STRLEN, "formatted length");
	check(ub_cidr_fmt(c, with_prefix, small, n) == -ENOSPC,
	      "one byte short is -ENOSPC");
	check(ub_cidr_fmt(c, with_prefix, small, n + 1) == 0 &&
		      strcmp(small, out) == 0,
	      "exact size fits");
}

static void valid_value(const struct ub_cidr *c)
{
	check(c->family == AF_INET || c->family == AF_INET6, "family");
	check(c->prefix <= (c->family == AF_INET ? 32 : 128), "prefix range");
}

static void fuzz_text(const char *s)
{
	char txt[UB_CIDR_STRLEN], txt2[UB_CIDR_STRLEN];
	struct ub_cidr c, c2, plain;

	if (ub_cidr_parse(s, &c) == 0) {
		valid_value(&c);
		check(ub_addr_parse(s, &plain) == -EINVAL,
		      "a CIDR is not a plain address");
		fmt_checked(&c, true, txt);
		check(ub_cidr_parse(txt, &c2) == 0 && same(&c, &c2),
		      "parse(fmt(x)) == x");
		fmt_checked(&c2, true, txt2);
		check(strcmp(txt, txt2) == 0, "fmt is a fixed point");
		if (c.family == AF_INET)
			check(strcmp(txt, s) == 0, "IPv4 has one spelling");
		/* The address alone reads back with the full prefix. */
		fmt_checked(&c, false, txt);
		check(ub_addr_parse(txt, &plain) == 0, "address part parses");
		c2 = c;
		c2.prefix = c.family == AF_INET ? 32 : 128;
		check(same(&plain, &c2), "address part value");
	}
	if (ub_addr_parse(s, &c) == 0) {
		valid_value(&c);
		check(c.prefix == (c.family == AF_INET ? 32 : 128),
		      "plain address has the full prefix");
		check(ub_cidr_parse(s, &c2) == -EINVAL,
		      "a plain address is not a CIDR");
		fmt_checked(&c, false, txt);
		check(ub_addr_parse(txt, &c2) == 0 && same(&c, &c2),
		      "addr: parse(fmt(x)) == x");
		if (c.family == AF_INET)
			check(strcmp(txt, s) == 0, "IPv4 has one spelling");
	}
}

/* The input's bytes as a value to format: every address is printable. */
static void fuzz_value(const uint8_t *data, size_t size)
{
	char txt[UB_CIDR_STRLEN];
	struct ub_cidr c = {0}, back;
	size_t n;

	if (size < 2)
		return;
	switch (data[0] & 3) {
	case 0:
		c.family = AF_INET;
		break;
	case 1:
		c.family = AF_INET6;
		break;
	default:
		/* Anything else must be refused, not printed. */
		c.family = data[0] == 0xff ? AF_UNSPEC : AF_PACKET;
		check(ub_cidr_fmt(&c, true, txt, sizeof(txt)) == -EINVAL,
		      "bad family refused");
		return;
	}
	c.prefix = data[1];
	n = size - 2 < sizeof(c.addr) ? size - 2 : sizeof(c.addr);
	memcpy(c.addr, data + 2, n);
	if (c.family == AF_INET)
		memset(c.addr + 4, 0, sizeof(c.addr) - 4);
	if (c.prefix > (c.family == AF_INET ? 32 : 128)) {
		/* Out of range: fmt prints it, parse must then refuse it. */
		check(ub_cidr_fmt(&c, true, txt, sizeof(txt)) == 0,
		      "any prefix formats");
		check(ub_cidr_parse(txt, &back) == -EINVAL,
		      "an out-of-range prefix is refused");
		return;
	}
	fmt_checked(&c, true, txt);
	check(ub_cidr_parse(txt, &back) == 0 && same(&c, &back),
	      "value: parse(fmt(x)) == x");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char s[FUZZ_IN_MAX + 1];

	if (size > FUZZ_IN_MAX)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	fuzz_text(s);
	fuzz_value(data, size);
	return 0;
}
