/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for the control-socket codec (include/ubridge/ctl.h)
 * and the MAC parser (include/ubridge/eth.h): everything the daemon reads
 * from an untrusted client, and everything ubctl reads back.
 *
 * The same input goes to every decoder; each one is then held to a
 * property it promises, not only to "did not crash":
 * - a request line decodes exactly when a plain reading of the grammar in
 *   ctl.h accepts it, re-encodes to the same bytes, refuses a smaller
 *   'max' with -E2BIG, and a refused line is left untouched;
 * - a record line re-joins to the same text, and no status line is ever
 *   also a valid record (else a client could mistake one for the other);
 * - a status line re-formats to the same text, and the daemon's own
 *   ub_ctl_reply_status() output for that (err, msg) decodes back to it;
 * - any bytes survive word encode -> decode, and the encoded form is a
 *   legal protocol word; decode -> encode -> decode is stable;
 * - a MAC that parses prints back to the same text, ignoring case;
 * - a request the command grammar accepts (include/ubridge/cmd.h, as the
 *   daemon parses it) is left untouched, formats to canonical words that
 *   parse again as the same command and format to the same words.
 * A broken property calls abort() so that libFuzzer keeps the input.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ubridge/cmd.h>
#include <ubridge/ctl.h>
#include <ubridge/eth.h>

/* Past the request limit, to reach the -E2BIG edge. */
#define FUZZ_IN_MAX (2 * UB_CTL_REQ_MAX)
#define FUZZ_KV_MAX 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what)
{
	fprintf(stderr, "fuzz_ctl_request: property broken: %s\n", what);
	abort();
}

static void check(bool ok, const char *what)
{
	if (!ok)
		fail(what);
}

static bool is_wordch(unsigned char c)
{
	return c >= 0x21 && c <= 0x7e;
}

static bool is_keych(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

/*
 * The request grammar of ctl.h, read literally and independently of
 * ctl.c: words of printable non-space ASCII joined by single spaces, then
 * '\n'. Returns the word count, or 0 when the line is not well formed.
 * The size limits are left to the caller.
 */
static int ref_req_words(const uint8_t *p, size_t len)
{
	int words = 0;
	bool in_word = false;

	if (len < 2 || p[len - 1] != '\n')
		return 0;
	for (size_t i = 0; i < len - 1; i++) {
		if (p[i] == ' ') {
			if (!in_word)
				return 0;
			in_word = false;
		} else if (is_wordch(p[i])) {
			if (!in_word)
				words++;
			in_word = true;
		} else {
			return 0;
		}
	}
	return in_word ? words : 0;
}

/* Percent-encoding of one word: must round-trip whatever the bytes. */
static void fuzz_word(const char *raw)
{
	size_t n = strlen(raw);
	char *enc = malloc(3 * n + 1), *dec, *again;
	int ret;

	if (!enc)
		return;
	ret = ub_ctl_word_encode(raw, enc, 3 * n + 1);
	check(ret >= 0 && (size_t)ret <= 3 * n, "word_encode fits 3n+1");
	check(strlen(enc) == (size_t)ret, "word_encode length");
	for (const char *p = enc; *p; p++)
		check(is_wordch((unsigned char)*p), "encoded word is a word");
	/* One byte short must be refused, not truncated. */
	if (ret > 0)
		check(ub_ctl_word_encode(raw, enc, (size_t)ret) == -E2BIG,
		      "word_encode short buffer");
	ret = ub_ctl_word_encode(raw, enc, 3 * n + 1);
	check(ub_ctl_word_decode(enc) == 0, "decode(encode(x)) succeeds");
	check(strcmp(enc, raw) == 0, "decode(encode(x)) == x");
	free(enc);

	/* The raw bytes taken as an encoded word: decode may refuse, but
	 * what it accepts is stable under encode/decode. */
	dec = strdup(raw);
	if (!dec)
		return;
	if (ub_ctl_word_decode(dec) == 0) {
		n = strlen(dec);
		check(n <= strlen(raw), "word_decode never grows");
		again = malloc(3 * n + 1);
		if (again) {
			check(ub_ctl_word_encode(dec, again, 3 * n + 1) >= 0,
			      "re-encode of a decoded word");
			check(ub_ctl_word_decode(again) == 0 &&
				      strcmp(again, dec) == 0,
			      "decode(encode(decode(w))) == decode(w)");
			free(again);
		}
	}
	free(dec);
}

/* The words of argv[0..argc) joined by spaces into 'out'. */
static size_t join(int argc, char **argv, char *out, size_t len)
{
	size_t n = 0;

	for (int i = 0; i < argc; i++)
		n += (size_t)snprintf(out + n, len - n, "%s%s", i ? " " : "",
				      argv[i]);
	return n;
}

static void fuzz_command(int argc, char **argv)
{
	static struct ub_cmd_args a, b;
	static char words[UB_CTL_REQ_MAX + 1], again[UB_CTL_REQ_MAX + 1];
	static char before[2 * UB_CTL_REQ_MAX], after[2 * UB_CTL_REQ_MAX];
	char *w1[UB_CTL_ARGS_MAX], *w2[UB_CTL_ARGS_MAX], err[512] = "";
	int n1, n2;

	join(argc, argv, before, sizeof(before));
	if (ub_cmd_parse(argc, argv, 0, &a, err, sizeof(err))) {
		check(err[0] != '\0', "a refused command says why");
		return;
	}
	join(argc, argv, after, sizeof(after));
	check(!strcmp(before, after), "parsing leaves the words untouched");
	n1 = ub_cmd_format(&a, words, sizeof(words), w1, UB_CTL_ARGS_MAX);
	check(n1 > 0, "an accepted command formats");
	check(ub_cmd_parse(n1, w1, 0, &b, err, sizeof(err)) == 0,
	      "formatted words parse again");
	check(b.id == a.id, "formatted words are the same command");
	n2 = ub_cmd_format(&b, again, sizeof(again), w2, UB_CTL_ARGS_MAX);
	join(n1, w1, before, sizeof(before));
	join(n2, w2, after, sizeof(after));
	check(n2 == n1 && !strcmp(before, after), "the format is canonical");
}

static void fuzz_request(const uint8_t *data, size_t size)
{
	char *buf = malloc(size ? size : 1), *out = NULL;
	char *argv[UB_CTL_ARGS_MAX + 1];
	int ref = ref_req_words(data, size), argc, ret;

	if (!buf)
		return;
	memcpy(buf, data, size);
	argc = ub_ctl_req_decode(buf, size, argv, UB_CTL_ARGS_MAX);

	if (ref == 0 || size > UB_CTL_REQ_MAX) {
		check(argc < 0, "decode accepts only well-formed lines");
		check(argc == -EINVAL || argc == -E2BIG, "decode error code");
		check(memcmp(buf, data, size) == 0,
		      "a refused line is left untouched");
		goto out;
	}
	if (ref > UB_CTL_ARGS_MAX) {
		check(argc == -E2BIG, "too many words gives -E2BIG");
		check(memcmp(buf, data, size) == 0,
		      "a refused line is left untouched");
		goto out;
	}
	check(argc == ref, "decode word count matches the grammar");

	for (int i = 0; i < argc; i++) {
		check(argv[i] >= buf && argv[i] < buf + size, "argv in buf");
		check(argv[i][0] != '\0', "no empty word");
		for (const char *p = argv[i]; *p; p++)
			check(is_wordch((unsigned char)*p), "word chars");
		fuzz_word(argv[i]);
	}

	/* Encoding the words again must give back the very same line. */
	out = malloc(UB_CTL_REQ_MAX + 1);
	if (!out)
		goto out;
	ret = ub_ctl_req_encode(argc, argv, out, UB_CTL_REQ_MAX + 1);
	check(ret == (int)size, "encode(decode(x)) length");
	check(memcmp(out, data, size) == 0 && out[size] == '\0',
	      "encode(decode(x)) == x");
	fuzz_command(argc, argv);

	/* With room for one word fewer, decode refuses the whole line. */
	if (argc > 1) {
		memcpy(buf, data, size);
		check(ub_ctl_req_decode(buf, size, argv, argc - 1) == -E2BIG,
		      "decode honours 'max'");
	}
out:
	free(out);
	free(buf);
}

/* Runs the reply-side decoders over one NUL-terminated line. */
static void fuzz_reply_line(const char *line)
{
	struct ub_ctl_kv kv[FUZZ_KV_MAX];
	struct ub_ctl_reply r;
	char *copy, *joined;
	const char *msg;
	bool is_status;
	size_t n = strlen(line), pos = 0;
	int err = 1, cnt;

	is_status = ub_ctl_status_decode(line, &err, &msg);
	if (is_status) {
		char *again;

		check(err <= 0 && err >= -4095, "status errno range");
		check(msg >= line && msg <= line + n, "status msg in line");
		/* Nothing but "errno=N" and an optional " message". */
		again = malloc(n + 32);
		if (again) {
			snprintf(again, n + 32, "errno=%d%s%s", -err,
				 msg > line && msg[-1] == ' ' ? " " : "", msg);
			check(strcmp(again, line) == 0, "status re-formats");
			free(again);
		}
		/* What the daemon writes for it must read back the same. */
		ub_ctl_reply_init(&r);
		ub_ctl_reply_status(&r, err, "%s", msg);
		if (!r.oom) {
			const char *m2;
			int e2 = 1;

			check(r.len > 0 && r.buf[r.len - 1] == '\n',
			      "status reply ends in a newline");
			r.buf[r.len - 1] = '\0';
			check(strchr(r.buf, '\n') == NULL,
			      "status reply is one line");
			check(ub_ctl_status_decode(r.buf, &e2, &m2),
			      "daemon status decodes");
			check(e2 == err, "daemon status errno");
			if (err != 0 && msg[0])
				check(strcmp(m2, msg) == 0,
				      "daemon status message");
		}
		ub_ctl_reply_free(&r);
	}

	copy = strdup(line);
	joined = malloc(n + 1);
	if (!copy || !joined)
		goto out;
	cnt = ub_ctl_record_decode(copy, kv, FUZZ_KV_MAX);
	if (is_status)
		check(cnt < 0, "a status line is never a record");
	if (cnt < 0) {
		check(cnt == -EINVAL || cnt == -E2BIG, "record error code");
		goto out;
	}
	check(cnt >= 1 && cnt <= FUZZ_KV_MAX, "record count");
	check(strcmp(kv[0].key, "errno") != 0, "first key is not errno");
	for (int i = 0; i < cnt; i++) {
		size_t kl = strlen(kv[i].key), vl = strlen(kv[i].val);

		check(kl > 0, "non-empty key");
		for (size_t j = 0; j < kl; j++)
			check(is_keych((unsigned char)kv[i].key[j]),
			      "key chars");
		for (size_t j = 0; j < vl; j++)
			check(is_wordch((unsigned char)kv[i].val[j]),
			      "value chars");
		/* The separator, "key=value", all within the line's length. */
		check(pos + (i ? 1 : 0) + kl + 1 + vl <= n,
		      "record re-join fits");
		if (i)
			joined[pos++] = ' ';
		memcpy(joined + pos, kv[i].key, kl);
		pos += kl;
		joined[pos++] = '=';
		memcpy(joined + pos, kv[i].val, vl);
		pos += vl;
	}
	joined[pos] = '\0';
	check(strcmp(joined, line) == 0, "record re-joins to the line");
out:
	free(joined);
	free(copy);
}

static void fuzz_mac(const char *s)
{
	char txt[UB_MAC_STRLEN];
	struct ub_mac m;

	if (ub_mac_parse(s, &m) != 0)
		return;
	check(strlen(s) == UB_MAC_STRLEN - 1, "mac text length");
	ub_mac_fmt(&m, txt);
	check(strcasecmp(txt, s) == 0, "mac prints back");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line;
	size_t n;

	if (size > FUZZ_IN_MAX)
		return 0;
	fuzz_request(data, size);

	/* The reply side gets one line: up to the first '\n', if any. */
	line = malloc(size + 1);
	if (!line)
		return 0;
	memcpy(line, data, size);
	line[size] = '\0';
	n = strcspn(line, "\n");
	line[n] = '\0';
	fuzz_reply_line(line);
	fuzz_mac(line);
	fuzz_word(line);
	free(line);
	return 0;
}
