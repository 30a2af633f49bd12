/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the command grammar (control/cmdspec.c, cmdparse.c,
 * cmdhelp.c): every command's documented forms, in the command-line and
 * the wire spelling, round trips through ub_cmd_format(), the refusal of
 * every type's bad values with the argument named, the state file's
 * hidden options, argument counts (several interfaces in one "port add"),
 * and help and completion generated from the table.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include <ubridge/cmd.h>
#include <ubridge/compiler.h>

#define MAXW 64

/* Splits 'line' (copied into 'buf') at single spaces into argv. */
static int split(const char *line, char *buf, size_t len, char **argv)
{
	int argc = 0;

	snprintf(buf, len, "%s", line);
	for (char *save = NULL, *t = strtok_r(buf, " ", &save); t;
	     t = strtok_r(NULL, " ", &save))
		argv[argc++] = t;
	return argc;
}

static int parse_line(const char *line, unsigned int flags,
		      struct ub_cmd_args *a, char *err, size_t errlen)
{
	static char buf[4096];
	char *argv[MAXW];
	int argc = split(line, buf, sizeof(buf), argv);

	return ub_cmd_parse(argc, argv, flags, a, err, errlen);
}

/* The wire line ub_cmd_format() makes of 'a'. */
static void wire_line(const struct ub_cmd_args *a, char *out, size_t len)
{
	char buf[UB_CTL_REQ_MAX], *argv[UB_CTL_ARGS_MAX];
	int n = ub_cmd_format(a, buf, sizeof(buf), argv, UB_CTL_ARGS_MAX);
	size_t pos = 0;

	assert_true(n > 0);
	out[0] = '\0';
	for (int i = 0; i < n; i++)
		pos += (size_t)snprintf(out + pos, len - pos, "%s%s",
					i ? " " : "", argv[i]);
}

static struct ub_cmd_args args;

/* ---- the table ---- */

static void test_table_consistent(void **state)
{
	const struct ub_cmd_arg *dash[64];
	size_t ndash = ub_cmd_dash_options(dash, UB_ARRAY_SIZE(dash));

	assert_true(ndash > 0 && ndash <= UB_ARRAY_SIZE(dash));
	for (int i = 0; i < UB_CMD__COUNT; i++) {
		const struct ub_cmd_spec *c = ub_cmd_get((enum ub_cmd_id)i);
		uint64_t keys = 0;
		int multi = 0, paths = 0;
		unsigned int last_pos = 0;
		bool single = false;

		assert_non_null(c);
		assert_int_equal(c->id, i);
		assert_non_null(ub_cmd_object_find(c->obj));
		assert_ptr_equal(ub_cmd_find(c->obj, c->verb), c);
		assert_non_null(c->summary);
		for (unsigned int j = 0; j < c->nargs; j++) {
			const struct ub_cmd_arg *a = &c->args[j];

			/* One key per command; positionals named by meta. */
			assert_false(keys >> a->key & 1);
			keys |= 1ull << a->key;
			assert_true((a->flags & UB_CMD_A_POS) ? !a->name :
								!!a->name);
			assert_true(a->meta || a->type == UB_CMD_T_ENUM ||
				    a->type == UB_CMD_T_FLAG ||
				    a->type == UB_CMD_T_BOOL);
			multi += !!(a->flags & UB_CMD_A_MULTI);
			paths += a->type == UB_CMD_T_PATH;
			/* Each repeatable argument has its own limit, within
			 * multi[]; the wire's "N of" is never a keyword. */
			if (a->flags & UB_CMD_A_MULTI)
				assert_true(a->multi_max >= 1 &&
					    a->multi_max <= UB_CMD_MULTI_MAX);
			else
				assert_int_equal(a->multi_max, 0);
			if (a->flags & UB_CMD_A_POS)
				last_pos = j;
			single = single || a->flags & UB_CMD_A_SINGLE;
			if (a->name)
				assert_string_not_equal(a->name, "of");
			if (a->wire)
				assert_false(!strncmp(a->wire, "of ", 3));
			/* What a word cannot hold travels encoded. */
			if (a->type == UB_CMD_T_PATH || a->type == UB_CMD_T_TEXT)
				assert_true(a->flags & UB_CMD_A_ENCODED);
			if (a->type == UB_CMD_T_ENUM)
				assert_non_null(a->words);
			if (a->type == UB_CMD_T_FLAG)
				assert_non_null(a->wire);
			if (a->alt)
				assert_non_null(ub_cmd_arg_find(c, a->alt));
			if (a->needs)
				assert_non_null(ub_cmd_arg_find(c, a->needs));
			/* getopt_long() has one arity per dashed name. */
			for (size_t k = 0; a->name && k < ndash; k++) {
				if (strcmp(dash[k]->name, a->name) ||
				    a->flags & (UB_CMD_A_HIDDEN | UB_CMD_A_BARE))
					continue;
				assert_int_equal(dash[k]->type == UB_CMD_T_FLAG,
						 a->type == UB_CMD_T_FLAG);
			}
		}
		assert_true(multi <= 1);
		/* A repeatable positional is the last one, with no stand-in;
		 * "only with one value" needs something repeatable. */
		for (unsigned int j = 0; j < c->nargs; j++) {
			const struct ub_cmd_arg *a = &c->args[j];

			if (a->flags & UB_CMD_A_POS && a->flags & UB_CMD_A_MULTI)
				assert_true(j == last_pos && !a->alt);
			if (a->flags & UB_CMD_A_SINGLE)
				assert_non_null(a->name);
		}
		assert_true(!single || multi);
		/* ubctl makes one relative path absolute per command. */
		assert_true(paths <= 1);
	}
	assert_null(ub_cmd_get(UB_CMD__COUNT));
	assert_null(ub_cmd_find("port", "frobnicate"));
	/* core/cmd.c ties UB_CMD_ADDRS_MAX to the namespace request. */
	assert_int_equal(ub_cmd_arg_find(ub_cmd_get(UB_CMD_NETNS_ADD),
					 "addr")->multi_max, UB_CMD_ADDRS_MAX);
	assert_int_equal(ub_cmd_arg_find(ub_cmd_get(UB_CMD_NETNS_ATTACH),
					 "addr")->multi_max, UB_CMD_ADDRS_MAX);
}

/* ---- documented forms ---- */

struct form {
	unsigned int flags;
	const char *line;
	const char *wire; /* what ubctl sends */
};

static const struct form forms[] = {
#define U UB_CMD_PARSE_USER
	{ U, "port add veth0", "port add veth0" },
	{ U, "port add --tap tap0", "port add tap0 type tap" },
	{ U, "port add --tap tap0 --mtu 9000", "port add tap0 type tap mtu 9000" },
	{ U, "port add tap0 --tap --mtu 9000 --max-learned 5 --policy drop",
	  "port add tap0 type tap mtu 9000 max-learned 5 policy drop" },
	{ U, "port add veth0 max-learned 7 policy nolearn",
	  "port add veth0 max-learned 7 policy nolearn" },
	/* Several interfaces: "N of" and the names on the wire. */
	{ U, "port add veth0 veth1 veth2", "port add 3 of veth0 veth1 veth2" },
	{ U, "port add a b --max-learned 5 --policy drop",
	  "port add 2 of a b max-learned 5 policy drop" },
	{ U, "port add type of 3 --policy nolearn",
	  "port add 3 of type of 3 policy nolearn" },
	{ U, "port set veth0 --max-learned 16 --policy drop",
	  "port set veth0 max-learned 16 policy drop" },
	{ U, "port set veth0 max-learned 0", "port set veth0 max-learned 0" },
	{ U, "port set veth0 --loop-guard off --bpdu-guard on",
	  "port set veth0 loop-guard off bpdu-guard on" },
	/* A mask in hexadecimal goes on the wire in decimal. */
	{ U, "port set veth0 --group-fwd-mask 0x4004",
	  "port set veth0 group-fwd-mask 16388" },
	{ 0, "port set veth0 group-fwd-mask 16388",
	  "port set veth0 group-fwd-mask 16388" },
	{ U, "port del veth0", "port del veth0" },
	{ U, "port show", "port show" },
	{ U, "port", "port show" },
	{ U, "fdb", "fdb show" },
	{ U, "fdb show", "fdb show" },
	{ U, "fdb add 02:00:00:00:00:01 dev veth0",
	  "fdb add 02:00:00:00:00:01 dev veth0" },
	{ U, "fdb add 02:00:00:00:00:01 dev veth0 vlan 10",
	  "fdb add 02:00:00:00:00:01 dev veth0 vlan 10" },
	{ U, "fdb add 02:00:00:00:00:01 vlan 4095 dev veth0",
	  "fdb add 02:00:00:00:00:01 dev veth0 vlan 4095" },
	{ U, "fdb del 02:00:00:00:00:01", "fdb del 02:00:00:00:00:01" },
	{ U, "fdb del 01:00:5e:00:00:01 vlan 4095",
	  "fdb del 01:00:5e:00:00:01 vlan 4095" },
	{ U, "fdb flush", "fdb flush" },
	{ U, "fdb flush dev veth0", "fdb flush dev veth0" },
	{ U, "set ageing 300", "set ageing 300" },
	{ U, "set ageing 0", "set ageing 0" },
	{ U, "set loop-hold 3", "set loop-hold 3" },
	{ U, "set vlan-filtering on", "set vlan-filtering on" },
	{ U, "vlan add dev veth0 vid 10 pvid untagged",
	  "vlan add dev veth0 vid 10 pvid untagged" },
	{ U, "vlan add dev veth0 vid 10-20", "vlan add dev veth0 vid 10-20" },
	{ U, "vlan del dev veth0 vid 4094", "vlan del dev veth0 vid 4094" },
	{ U, "vlan show", "vlan show" },
	{ U, "vlan", "vlan show" },
	{ U, "set ageing 0x10", "set ageing 16" },
	{ U, "stats", "stats" },
	{ U, "capture start veth0 /tmp/x.pcap", "capture start veth0 /tmp/x.pcap" },
	{ U, "capture start all /tmp/x.pcap --dir in --filter icmp "
	     "--snaplen 96 --count 10",
	  "capture start all /tmp/x.pcap dir in filter icmp snaplen 96 count 10" },
	{ U, "capture start all /tmp/x.pcap rotate-size 1 --rotate-files 3",
	  "capture start all /tmp/x.pcap rotate-size 1 rotate-files 3" },
	{ U, "capture watch all", "capture watch all" },
	{ U, "capture watch veth0 --dir out --count 3",
	  "capture watch veth0 dir out count 3" },
	{ U, "capture stop 1", "capture stop 1" },
	{ U, "capture stop all", "capture stop all" },
	{ U, "capture show", "capture show" },
	{ U, "capture", "capture show" },
	{ U, "netns add ns1", "netns add ns1" },
	{ U, "netns add ns1 --addr 172.16.1.1/16 --addr fd00::1/64 --gw "
	     "172.16.0.1 --mac 02:00:00:00:00:09 --mtu 1400 --ifname eth1",
	  "netns add ns1 addr 172.16.1.1/16 addr fd00::1/64 gw 172.16.0.1 "
	  "mac 02:00:00:00:00:09 mtu 1400 ifname eth1" },
	{ U, "netns attach ns1 --addr 10.0.0.1/24", "netns attach ns1 addr 10.0.0.1/24" },
	{ U, "netns attach --pid 42 --addr 10.0.0.1/24",
	  "netns attach pid 42 addr 10.0.0.1/24" },
	{ U, "netns attach pid 42", "netns attach pid 42" },
	{ U, "netns del ns1", "netns del ns1" },
	{ U, "netns show", "netns show" },
	{ U, "gateway add 172.16.0.1/16", "gateway add 172.16.0.1/16" },
	{ U, "gateway del", "gateway del" },
	{ U, "gateway show", "gateway show" },
	{ U, "nat on", "nat on" },
	{ U, "nat off", "nat off" },
	{ U, "time warp 1000", "time warp 1000" },
	/* What core/state.c writes, replayed as it is. */
	{ 0, "set ageing 300", "set ageing 300" },
	{ 0, "port add veth-ns1 netns ns1 peer eth0 made yes",
	  "port add veth-ns1 netns ns1 peer eth0 made yes" },
	{ 0, "port add veth-ns2 netns ns%202 peer eth0 made no max-learned 64 "
	     "policy drop",
	  "port add veth-ns2 max-learned 64 policy drop netns ns%202 peer eth0 "
	  "made no" },
	{ 0, "port add veth7 max-learned 64 policy drop",
	  "port add veth7 max-learned 64 policy drop" },
	{ 0, "port add tap0 type tap mtu 1500", "port add tap0 type tap mtu 1500" },
	/* On the wire the positional comes first, whatever its name. */
	{ 0, "port add type type tap", "port add type type tap" },
	{ 0, "port add 3 type tap", "port add 3 type tap" },
	{ 0, "port add of", "port add of" },
	{ 0, "port add 12 max-learned 1", "port add 12 max-learned 1" },
	/* Several: the count says where the names end, whatever they are. */
	{ 0, "port add 2 of type max-learned max-learned 5",
	  "port add 2 of type max-learned max-learned 5" },
	{ 0, "port add 3 of 2 of type policy drop",
	  "port add 3 of 2 of type policy drop" },
	{ 0, "port add 1 of veth0", "port add veth0" },
	{ 0, "gateway add 172.16.0.1/16", "gateway add 172.16.0.1/16" },
	{ 0, "nat on", "nat on" },
	{ 0, "fdb add 02:00:00:00:00:01 dev veth0 vlan 0",
	  "fdb add 02:00:00:00:00:01 dev veth0 vlan 0" },
	{ 0, "capture start veth0 /tmp/a%20b.pcap dir both snaplen 96 count 5 "
	     "rotate-size 1 rotate-files 10 filter icmp%20or%20arp append yes",
	  "capture start veth0 /tmp/a%20b.pcap dir both filter icmp%20or%20arp "
	  "snaplen 96 count 5 rotate-size 1 rotate-files 10 append yes" },
	{ 0, "netns attach pid 42 addr 10.0.0.1/24",
	  "netns attach pid 42 addr 10.0.0.1/24" },
	{ U, "vxlan add vx0 --vni 42 --local 10.0.0.1 --remote 10.0.0.2 "
	     "--remote 10.0.0.3 --srcport 50000-50010 --no-learning",
	  "vxlan add vx0 vni 42 local 10.0.0.1 remote 10.0.0.2 remote 10.0.0.3 "
	  "srcport 50000-50010 nolearning" },
	{ 0, "vxlan add vx0 vni 0 local 10.0.0.1 dstport 8472 ttl 9",
	  "vxlan add vx0 vni 0 local 10.0.0.1 dstport 8472 ttl 9" },
	{ 0, "vxlan del vx0", "vxlan del vx0" },
	{ U, "vxlan", "vxlan show" },
	{ 0, "vxlan remote del vx0 10.0.0.2", "vxlan remote del vx0 10.0.0.2" },
	{ 0, "fdb add 02:00:00:00:00:01 dev vx0 dst 10.0.0.2",
	  "fdb add 02:00:00:00:00:01 dev vx0 dst 10.0.0.2" },
	{ U, "impair set veth0 delay 50ms 10ms loss 1%",
	  "impair set veth0 5 of delay 50ms 10ms loss 1%" },
	{ U, "impair set veth0 in rate 20mbit",
	  "impair set veth0 3 of in rate 20mbit" },
	{ U, "impair clear veth0", "impair clear veth0" },
	{ U, "impair clear veth0 out", "impair clear veth0 out" },
	{ U, "impair", "impair show" },
	{ 0, "monitor", "monitor" },
	{ 0, "monitor fdb loop", "monitor fdb loop" },
#undef U
};

static void test_documented_forms(void **state)
{
	char err[512], wire[UB_CTL_REQ_MAX];

	for (size_t i = 0; i < UB_ARRAY_SIZE(forms); i++) {
		int ret = parse_line(forms[i].line, forms[i].flags, &args, err,
				     sizeof(err));

		if (ret)
			fail_msg("\"%s\": %s", forms[i].line, err);
		wire_line(&args, wire, sizeof(wire));
		if (strcmp(wire, forms[i].wire))
			fail_msg("\"%s\" sent as \"%s\", expected \"%s\"",
				 forms[i].line, wire, forms[i].wire);
		/* What is sent, the daemon takes back unchanged. */
		ret = parse_line(wire, 0, &args, err, sizeof(err));
		if (ret)
			fail_msg("wire \"%s\": %s", wire, err);
	}
}

/* Every command has a form above. */
static void test_every_command_covered(void **state)
{
	char err[512];
	bool seen[UB_CMD__COUNT] = { false };

	for (size_t i = 0; i < UB_ARRAY_SIZE(forms); i++) {
		assert_int_equal(parse_line(forms[i].line, forms[i].flags,
					    &args, err, sizeof(err)), 0);
		seen[args.id] = true;
	}
	for (int i = 0; i < UB_CMD__COUNT; i++) {
		if (!seen[i])
			fail_msg("no form of \"%s %s\"", ub_cmd_get(i)->obj,
				 ub_cmd_get(i)->verb ? ub_cmd_get(i)->verb : "");
	}
}

/* ---- typed values ---- */

static void test_typed_values(void **state)
{
	static const struct ub_mac want = { { 0x02, 0, 0, 0, 0xab, 0x01 } };
	char err[256];

	assert_int_equal(parse_line("fdb add 02:00:00:00:AB:01 dev veth0 vlan "
				    "4095", UB_CMD_PARSE_USER, &args, err,
				    sizeof(err)), 0);
	assert_int_equal(args.id, UB_CMD_FDB_ADD);
	assert_true(ub_mac_eq(&args.v[UB_CMD_K_MAC].mac, &want));
	assert_string_equal(args.v[UB_CMD_K_DEV].str, "veth0");
	assert_true(ub_cmd_has(&args, UB_CMD_K_VLAN));
	assert_int_equal(args.v[UB_CMD_K_VLAN].u, 4095);

	assert_int_equal(parse_line("netns add ns1 --addr 10.0.0.1/8 --addr "
				    "fd00::2/64 --gw fd00::1",
				    UB_CMD_PARSE_USER, &args, err, sizeof(err)),
			 0);
	assert_int_equal(args.nmulti, 2);
	assert_int_equal(args.multi[0].ip.family, AF_INET);
	assert_int_equal(args.multi[0].ip.prefix, 8);
	assert_int_equal(args.multi[1].ip.family, AF_INET6);
	assert_string_equal(args.multi[1].str, "fd00::2/64");
	assert_int_equal(args.v[UB_CMD_K_GW].ip.family, AF_INET6);
	assert_false(ub_cmd_has(&args, UB_CMD_K_MTU));

	assert_int_equal(parse_line("capture stop all", 0, &args, err,
				    sizeof(err)), 0);
	assert_true(args.v[UB_CMD_K_ID].all);
	assert_int_equal(parse_line("capture watch veth0 dir out", 0, &args,
				    err, sizeof(err)), 0);
	assert_false(args.v[UB_CMD_K_PORT].all);
	assert_int_equal(args.v[UB_CMD_K_DIR].u, UB_CMD_DIR_OUT);
	assert_int_equal(parse_line("nat off", 0, &args, err, sizeof(err)), 0);
	assert_int_equal(args.v[UB_CMD_K_NAT].u, UB_CMD_NAT_OFF);
	assert_int_equal(parse_line("port add veth0 policy nolearn netns n "
				    "made yes type tap", 0, &args, err,
				    sizeof(err)), 0);
	assert_int_equal(args.v[UB_CMD_K_POLICY].u, UB_CMD_POLICY_NOLEARN);
	assert_true(args.v[UB_CMD_K_MADE].b);
	assert_true(args.v[UB_CMD_K_TAP].b);
}

/* "port add" with 'n' names "eth-N" (padded to 'width' characters), then
 * 'tail'. */
static const char *port_add_line(int n, int width, const char *tail)
{
	static char line[2048];
	size_t pos = (size_t)snprintf(line, sizeof(line), "port add");

	for (int i = 0; i < n; i++)
		pos += (size_t)snprintf(line + pos, sizeof(line) - pos,
					" eth-%0*d", width - 4, i);
	snprintf(line + pos, sizeof(line) - pos, "%s", tail);
	return line;
}

/* Several names: the first in v[], all in multi[], both spellings. */
static void test_several_names(void **state)
{
	static const struct {
		unsigned int flags;
		const char *line, *names;
	} cases[] = {
		{ UB_CMD_PARSE_USER, "port add a", "a" },
		{ 0, "port add a max-learned 3", "a" },
		{ UB_CMD_PARSE_USER, "port add a type of --max-learned 3",
		  "a type of" },
		{ 0, "port add 4 of a type max-learned policy max-learned 3",
		  "a type max-learned policy" },
	};
	char err[256], wire[UB_CTL_REQ_MAX], names[128];

	for (size_t i = 0; i < UB_ARRAY_SIZE(cases); i++) {
		char *argv[MAXW];
		int n = split(cases[i].names, names, sizeof(names), argv);

		assert_int_equal(parse_line(cases[i].line, cases[i].flags,
					    &args, err, sizeof(err)), 0);
		assert_int_equal(args.id, UB_CMD_PORT_ADD);
		assert_string_equal(args.v[UB_CMD_K_IFNAME].str, "a");
		assert_int_equal(args.nmulti, n);
		for (int k = 0; k < n; k++)
			assert_string_equal(args.multi[k].str, argv[k]);
		assert_int_equal(args.v[UB_CMD_K_MAX_LEARNED].u, i ? 3 : 0);
		/* And the same again from the wire. */
		wire_line(&args, wire, sizeof(wire));
		assert_int_equal(parse_line(wire, 0, &args, err, sizeof(err)),
				 0);
		assert_int_equal(args.nmulti, n);
		for (int k = 0; k < n; k++)
			assert_string_equal(args.multi[k].str, argv[k]);
	}

	/* The most names, each as long as a name may be, with both cap
	 * options: formatted within a request's limits, and read back. */
	assert_int_equal(parse_line(port_add_line(UB_CMD_IFNAMES_MAX, 15,
						  " --max-learned 4294967295 "
						  "--policy nolearn"),
				    UB_CMD_PARSE_USER, &args, err, sizeof(err)),
			 0);
	assert_int_equal(args.nmulti, UB_CMD_IFNAMES_MAX);
	wire_line(&args, wire, sizeof(wire));
	assert_int_equal(parse_line(wire, 0, &args, err, sizeof(err)), 0);
	assert_int_equal(args.nmulti, UB_CMD_IFNAMES_MAX);
	assert_string_equal(args.multi[UB_CMD_IFNAMES_MAX - 1].str,
			    "eth-00000000023");
	assert_int_equal(args.v[UB_CMD_K_POLICY].u, UB_CMD_POLICY_NOLEARN);

	/* One too many, on either side. */
	assert_int_equal(parse_line(port_add_line(UB_CMD_IFNAMES_MAX + 1, 6, ""),
				    UB_CMD_PARSE_USER, &args, err, sizeof(err)),
			 -E2BIG);
	assert_string_equal(err, "at most 24 interfaces per port add");
	assert_int_equal(parse_line("port add 25 of a b c", 0, &args, err,
				    sizeof(err)), -E2BIG);
	assert_string_equal(err, "at most 24 interfaces per port add");
}

/* The wire's encoded values are decoded into the result, argv untouched. */
static void test_encoded_values(void **state)
{
	char w0[] = "capture", w1[] = "start", w2[] = "all";
	char w3[] = "/tmp/a%20b.pcap", w4[] = "filter", w5[] = "icmp%20or%20arp";
	char *argv[] = { w0, w1, w2, w3, w4, w5 };
	char err[256];

	assert_int_equal(ub_cmd_parse(6, argv, 0, &args, err, sizeof(err)), 0);
	assert_string_equal(args.v[UB_CMD_K_FILE].str, "/tmp/a b.pcap");
	assert_string_equal(args.v[UB_CMD_K_FILTER].str, "icmp or arp");
	assert_string_equal(w3, "/tmp/a%20b.pcap");
	assert_string_equal(w5, "icmp%20or%20arp");

	/* The command line's values are plain text, encoded when sent. */
	{
		char u3[] = "rel dir/x%.pcap", u5[] = "tcp port 80";
		char *uargv[] = { w0, w1, w2, u3, w4, u5 };
		char wire[UB_CTL_REQ_MAX];

		assert_int_equal(ub_cmd_parse(6, uargv, UB_CMD_PARSE_USER,
					      &args, err, sizeof(err)), 0);
		/* Relative: the caller makes it absolute first. */
		assert_int_equal(ub_cmd_format(&args, wire, sizeof(wire),
					       uargv, 6), -EINVAL);
		args.v[UB_CMD_K_FILE].str = "/home/u/rel dir/x%.pcap";
		wire_line(&args, wire, sizeof(wire));
		assert_string_equal(wire, "capture start all "
				    "/home/u/rel%20dir/x%25.pcap filter "
				    "tcp%20port%2080");
	}
}

/* ---- refusals ---- */

struct bad {
	unsigned int flags;
	const char *line;
	const char *err; /* a part of the message */
};

static const struct bad bads[] = {
#define U UB_CMD_PARSE_USER
	/* Each type's bad values, with the argument named. */
	{ U, "fdb add zz dev veth0", "invalid MAC address \"zz\" (expected a unicast aa:bb:cc:dd:ee:ff)" },
	{ U, "fdb del 02:00:00:00:01", "invalid MAC address \"02:00:00:00:01\" (expected aa:bb:cc:dd:ee:ff)" },
	{ U, "fdb add 01:00:5e:00:00:01 dev veth0", "invalid MAC address \"01:00:5e:00:00:01\"" },
	{ U, "fdb add 00:00:00:00:00:00 dev veth0", "invalid MAC address" },
	{ U, "fdb add 02:00:00:00:00:01 dev veth0 vlan 4096", "invalid VLAN id \"4096\" (expected 0 to 4095)" },
	{ 0, "fdb del 02:00:00:00:00:01 vlan -1", "invalid VLAN id \"-1\"" },
	{ U, "fdb del 02:00:00:00:00:01 vlan 10x", "invalid VLAN id \"10x\"" },
	{ U, "fdb flush dev a/b", "invalid interface name \"a/b\"" },
	{ U, "port add abcdefghijklmnop", "invalid interface name \"abcdefghijklmnop\"" },
	{ U, "port del a:b", "invalid interface name \"a:b\"" },
	{ U, "set ageing abc", "invalid ageing time \"abc\"" },
	{ U, "set ageing 1000001", "invalid ageing time \"1000001\"" },
	{ U, "set ageing +5", "invalid ageing time \"+5\"" },
	{ U, "set loop-hold 0", "invalid hold time \"0\"" },
	{ U, "set vlan-filtering yes", "invalid VLAN filtering \"yes\" (on or off)" },
	{ U, "vlan add dev veth0 vid 0", "invalid VLAN ids \"0\" (expected a VID, 1 to 4094, or a range LO-HI of them)" },
	{ U, "vlan add dev veth0 vid 4095", "invalid VLAN ids \"4095\"" },
	{ U, "vlan add dev veth0 vid 4096", "invalid VLAN ids \"4096\"" },
	{ U, "vlan add dev veth0 vid 20-10", "invalid VLAN ids \"20-10\"" },
	{ U, "vlan add dev veth0", "missing \"vid VID[-VID]\"" },
	{ U, "vlan add vid 10", "missing \"dev IFNAME\"" },
	{ U, "port set veth0 --group-fwd-mask 0x10000",
	  "invalid group-fwd-mask \"0x10000\" (0 to 0xffff)" },
	{ U, "port set veth0 --group-fwd-mask 0x", "invalid group-fwd-mask" },
	{ U, "port set veth0 --group-fwd-mask 010x", "invalid group-fwd-mask" },
	{ U, "port set veth0 --group-fwd-mask 0x0x10", "invalid group-fwd-mask" },
	{ U, "port set veth0 --loop-guard maybe",
	  "invalid loop-guard \"maybe\" (on or off)" },
	{ U, "time warp 4294967296", "invalid time \"4294967296\"" },
	{ U, "port set veth0 max-learned many", "invalid max-learned \"many\"" },
	{ U, "port set veth0 --policy block", "invalid policy \"block\" (drop or nolearn)" },
	{ U, "port add --tap t0 --mtu 67", "invalid mtu \"67\" (expected 68 to 65535)" },
	{ U, "netns add ns1 --mtu 65536", "invalid MTU \"65536\" (expected 68 to 65535)" },
	{ U, "netns add ns1 --addr 172.16.1.300/16", "invalid address \"172.16.1.300/16\"" },
	{ U, "netns add ns1 --addr 172.16.1.1", "invalid address \"172.16.1.1\"" },
	{ U, "netns add ns1 --gw 172.16.0.1/16", "invalid gateway \"172.16.0.1/16\"" },
	{ U, "netns add ns1 --mac 01:00:00:00:00:01", "invalid MAC address \"01:00:00:00:00:01\"" },
	{ U, "netns add ns1 --ifname abcdefghijklmnop", "invalid interface name" },
	{ U, "netns add a/b", "invalid namespace name \"a/b\"" },
	{ U, "netns del ..", "invalid namespace name \"..\"" },
	{ U, "netns attach --pid 0", "invalid process id \"0\"" },
	{ U, "gateway add 10.0.0.1", "invalid address \"10.0.0.1\"" },
	{ U, "nat maybe", "invalid NAT state \"maybe\" (on or off)" },
	{ U, "capture start veth0 /tmp/x --dir sideways", "invalid direction \"sideways\" (in, out or both)" },
	{ U, "capture start veth0 /tmp/x --snaplen 0", "invalid snaplen \"0\" (a number, 1 or more)" },
	{ U, "capture stop one", "invalid capture id \"one\"" },
	{ U, "capture watch a/b", "invalid port \"a/b\"" },
	{ 0, "capture start veth0 x.pcap", "invalid file name \"x.pcap\" (an absolute path)" },
	{ 0, "capture start veth0 /tmp/x filter %zz", "badly encoded filter" },
	{ 0, "port add veth0 netns n made maybe", "invalid made \"maybe\" (yes or no)" },
	{ 0, "port add veth0 type vm", "invalid tap \"vm\"" },
	/* Shape: counts, keywords, unknown words. */
	{ U, "frobnicate", "unknown object \"frobnicate\"" },
	{ U, "port frobnicate", "unknown command \"port frobnicate\"" },
	{ 0, "port", "missing command for \"port\"" },
	{ U, "set", "missing command for \"set\"" },
	{ U, "port add", "missing IFNAME; usage: port add IFNAME... [--tap]" },
	{ 0, "port add", "missing IFNAME; usage: port add IFNAME... [type tap]" },
	{ U, "port del a b", "unexpected \"b\"; usage: port del IFNAME" },
	{ U, "stats now", "unexpected \"now\"" },
	{ U, "fdb add 02:00:00:00:00:01", "missing \"dev IFNAME\"" },
	{ U, "fdb add 02:00:00:00:00:01 dev", "\"dev\" needs a value" },
	{ U, "fdb add 02:00:00:00:00:01 --dev veth0", "unknown option \"--dev\"" },
	{ U, "port set veth0 cap 3", "unknown option \"cap\"" },
	{ U, "port set veth0", "nothing to set" },
	{ U, "port set veth0 max-learned 1 max-learned 2", "\"--max-learned\" given twice" },
	{ 0, "port add veth0 --mtu 1500", "unknown option \"--mtu\"" },
	{ U, "port add veth0 --mtu 9000", "\"--mtu\" needs \"--tap\"" },
	{ U, "capture start all /tmp/x --rotate-files 3", "\"--rotate-files\" needs \"--rotate-size\"" },
	{ U, "capture watch all --rotate-size 1", "unknown option \"--rotate-size\"" },
	{ U, "capture start all", "missing FILE" },
	{ U, "netns attach", "missing NAME" },
	{ U, "netns attach ns1 --pid 3", "NAME|PATH or \"--pid\", not both" },
	{ U, "netns add ns1 --addr 1.0.0.1/8 --addr 1.0.0.2/8 --addr 1.0.0.3/8 "
	     "--addr 1.0.0.4/8 --addr 1.0.0.5/8 --addr 1.0.0.6/8 --addr 1.0.0.7/8 "
	     "--addr 1.0.0.8/8 --addr 1.0.0.9/8",
	  "at most 8 --addr per netns add" },
	{ 0, "netns attach pid 1 addr 1.0.0.1/8 addr 1.0.0.2/8 addr 1.0.0.3/8 "
	     "addr 1.0.0.4/8 addr 1.0.0.5/8 addr 1.0.0.6/8 addr 1.0.0.7/8 "
	     "addr 1.0.0.8/8 addr 1.0.0.9/8", "at most 8 addr per netns attach" },
	/* Several interfaces: names first, one --tap, counts that hold. */
	{ U, "port add a b max-learned 5 c", "unknown option \"c\"" },
	{ U, "port add a b max-learned", "\"max-learned\" needs a value" },
	{ U, "port add t0 t1 --tap", "\"--tap\" takes exactly one IFNAME (2 given)" },
	{ U, "port add --tap t0 t1 --mtu 9000", "\"--tap\" takes exactly one IFNAME" },
	{ 0, "port add 2 of t0 t1 type tap", "\"tap\" takes exactly one IFNAME (2 given)" },
	{ 0, "port add 2 of a b netns ns1", "\"netns\" takes exactly one IFNAME" },
	{ 0, "port add 2 of a a/b", "invalid interface name \"a/b\"" },
	{ 0, "port add a b", "unknown option \"b\"" },
	{ 0, "port add 3 of a b", "missing IFNAME (3 announced, 2 given)" },
	{ 0, "port add 0 of", "missing IFNAME" },
	{ 0, "port add 25 of a", "at most 24 interfaces per port add" },
	{ 0, "port add 99999999999999999999 of a", "invalid interface name" },
	/* The state file's own options are not the command line's. */
	{ U, "port add veth0 netns ns1 peer eth0 made yes", "unknown option \"netns\"" },
	{ U, "port add veth0 --made yes", "unknown option \"--made\"" },
	{ U, "capture start all /tmp/x append yes", "unknown option \"append\"" },
	{ U, "capture start all /tmp/x --filter", "\"--filter\" needs a value" },
	{ U, "vxlan add vx0 --vni 1 --local 10.0.0.1 --srcport 5000-4000", "invalid source port range \"5000-4000\" (expected MIN-MAX, UDP ports 1 to 65535, MIN <= MAX)" },
	{ U, "vxlan add vx0 --vni 1 --local 10.0.0.1 --srcport 0-10", "invalid source port range \"0-10\"" },
	{ U, "vxlan add vx0 --vni 1 --local 10.0.0.1 --srcport 1-65536", "invalid source port range" },
	{ U, "vxlan add vx0 --vni 1 --local 10.0.0.1 --srcport 4789", "invalid source port range" },
	{ U, "vxlan add vx0 --vni 1 --local 10.0.0.1 --srcport -5", "invalid source port range" },
#undef U
};

static void test_refusals(void **state)
{
	char err[512];

	for (size_t i = 0; i < UB_ARRAY_SIZE(bads); i++) {
		int ret = parse_line(bads[i].line, bads[i].flags, &args, err,
				     sizeof(err));

		if (!ret)
			fail_msg("\"%s\" accepted", bads[i].line);
		assert_true(ret == -EINVAL || ret == -E2BIG);
		if (!strstr(err, bads[i].err))
			fail_msg("\"%s\": \"%s\" lacks \"%s\"", bads[i].line,
				 err, bads[i].err);
		assert_null(strchr(err, '\n'));
	}
}

/* What a request word cannot hold is refused, unless encoded. */
static void test_words(void **state)
{
	char w0[] = "port", w1[] = "add", w2[] = "a b", w3[] = "";
	char *argv[] = { w0, w1, w2 };
	char err[256];

	assert_int_equal(ub_cmd_parse(3, argv, UB_CMD_PARSE_USER, &args, err,
				      sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "invalid interface name \"a b\""));
	argv[2] = w3;
	assert_int_equal(ub_cmd_parse(3, argv, UB_CMD_PARSE_USER, &args, err,
				      sizeof(err)), -EINVAL);
	assert_int_equal(ub_cmd_parse(0, argv, 0, &args, err, sizeof(err)),
			 -EINVAL);
	assert_null(args.spec);
	/* A message cut to the room given, and no room at all. */
	assert_int_equal(ub_cmd_parse(3, argv, 0, &args, err, 8), -EINVAL);
	assert_int_equal(strlen(err), 7);
	assert_int_equal(ub_cmd_parse(3, argv, 0, &args, NULL, 0), -EINVAL);
}

static void test_format_limits(void **state)
{
	char buf[16], *argv[UB_CTL_ARGS_MAX], err[256];

	assert_int_equal(parse_line("fdb add 02:00:00:00:00:01 dev veth0", 0,
				    &args, err, sizeof(err)), 0);
	assert_int_equal(ub_cmd_format(&args, buf, sizeof(buf), argv,
				       UB_CTL_ARGS_MAX), -E2BIG);
	assert_int_equal(ub_cmd_format(&args, err, sizeof(err), argv, 3),
			 -E2BIG);
	assert_int_equal(ub_cmd_format(&args, err, sizeof(err), argv, 5), 5);
}

/* ---- generated texts ---- */

static char *capture(int (*fn)(FILE *, const void *), const void *arg)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	assert_int_equal(fn(f, arg), 0);
	assert_int_equal(fclose(f), 0);
	return text;
}

/* Runs of blanks and newlines as one space: help is wrapped. */
static void squeeze(char *s)
{
	char *w = s;

	for (char *r = s; *r; r++) {
		bool blank = *r == ' ' || *r == '\n';

		if (!blank || (w > s && w[-1] != ' '))
			*w++ = blank ? ' ' : *r;
	}
	*w = '\0';
}

static int write_all_commands(FILE *f, const void *arg)
{
	return ub_cmd_write_commands(f, arg);
}

static int write_object(FILE *f, const void *arg)
{
	return ub_cmd_write_object_help(f, arg);
}

static const struct ub_cmd_global globals[] = {
	{ "name", 'n', "NAME", "the bridge" },
	{ "json", 'j', NULL, "JSON" },
};

static int write_bash(FILE *f, const void *arg)
{
	return ub_cmd_write_bash(f, "ubctl", globals, UB_ARRAY_SIZE(globals));
}

static void test_help_from_table(void **state)
{
	char *all = capture(write_all_commands, NULL), usage[300];
	int n;

	squeeze(all);

	for (int i = 0; i < UB_CMD__COUNT; i++) {
		const struct ub_cmd_spec *c = ub_cmd_get((enum ub_cmd_id)i);
		char *one;

		assert_true(ub_cmd_usage(c, UB_CMD_PARSE_USER, usage,
					 sizeof(usage)) > 0);
		if (!strstr(all, usage))
			fail_msg("help lacks \"%s\"", usage);
		one = capture(write_object, ub_cmd_object_find(c->obj));
		squeeze(one);
		assert_non_null(strstr(one, usage));
		assert_non_null(strstr(one, ub_cmd_object_find(c->obj)->summary));
		/* Options are explained; hidden ones never shown. */
		for (unsigned int j = 0; j < c->nargs; j++) {
			const struct ub_cmd_arg *a = &c->args[j];

			if (a->flags & UB_CMD_A_HIDDEN)
				assert_null(strstr(usage, a->name));
			else if (a->name && a->help)
				assert_non_null(strstr(one, a->help));
		}
		free(one);
	}
	n = ub_cmd_usage(ub_cmd_get(UB_CMD_FDB_ADD), 0, usage, sizeof(usage));
	assert_string_equal(usage, "fdb add MAC dev IFNAME [vlan VID] [dst IP]");
	assert_int_equal(n, strlen(usage));
	ub_cmd_usage(ub_cmd_get(UB_CMD_PORT_ADD), UB_CMD_PARSE_USER, usage,
		     sizeof(usage));
	assert_string_equal(usage, "port add IFNAME... [--tap] [--mtu N] "
			    "[--max-learned N] [--policy drop|nolearn]");
	assert_int_equal(ub_cmd_usage(ub_cmd_get(UB_CMD_NETNS_ATTACH), 0,
				      usage, 20), -ENOSPC);
	free(all);
}

static void test_completion_from_table(void **state)
{
	char *sh = capture(write_bash, NULL), pat[128];
	const struct ub_cmd_arg *dash[64];
	size_t n = ub_cmd_dash_options(dash, UB_ARRAY_SIZE(dash));

	assert_non_null(strstr(sh, "complete -F _ubctl ubctl\n"));
	assert_non_null(strstr(sh, "local gopts=\"-n --name -j --json\""));
	for (size_t i = 0; ub_cmd_object_get(i); i++) {
		snprintf(pat, sizeof(pat), "\t%s) verbs=",
			 ub_cmd_object_get(i)->name);
		assert_non_null(strstr(sh, pat));
	}
	for (int i = 0; i < UB_CMD__COUNT; i++) {
		const struct ub_cmd_spec *c = ub_cmd_get((enum ub_cmd_id)i);

		snprintf(pat, sizeof(pat), "\t\"%s%s%s\")\n", c->obj,
			 c->verb ? " " : "", c->verb ? c->verb : "");
		if (!strstr(sh, pat))
			fail_msg("completion lacks %s", pat);
	}
	for (size_t i = 0; i < n; i++) {
		snprintf(pat, sizeof(pat), "--%s", dash[i]->name);
		assert_non_null(strstr(sh, pat));
	}
	/* Enum values, interface names, ports; never the hidden options. */
	assert_non_null(strstr(sh, "[--dir]=\"w:in out both\""));
	assert_non_null(strstr(sh, "[dev]=ports"));
	/* port add IFNAME...: interface names again and again. */
	assert_non_null(strstr(sh, "\t\"port add\")\n\t\tpos=(ifaces) rep=1\n"));
	assert_non_null(strstr(sh, "\t\"port del\")\n\t\tpos=(ports)\n"));
	assert_null(strstr(sh, "append"));
	assert_null(strstr(sh, "made"));
	free(sh);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_consistent),
		cmocka_unit_test(test_documented_forms),
		cmocka_unit_test(test_every_command_covered),
		cmocka_unit_test(test_typed_values),
		cmocka_unit_test(test_encoded_values),
		cmocka_unit_test(test_several_names),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_words),
		cmocka_unit_test(test_format_limits),
		cmocka_unit_test(test_help_from_table),
		cmocka_unit_test(test_completion_from_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
