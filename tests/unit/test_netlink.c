/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for control/'s netlink library without a socket or root: the
 * CIDR and address parsers, the name checks, and every request builder,
 * whose output is parsed back attribute by attribute (nested ones
 * included) and compared with what the kernel expects. The two reply
 * parsers are fed messages built here the way the kernel lays them out.
 */
#include <arpa/inet.h>
#include <net/if_arp.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

#include "netlink_msg.h"

/* ---- helpers ---- */

/* Enough room for any attribute type we look at. */
#define TB_MAX 64

struct tb {
	const struct nlattr *a[TB_MAX + 1];
	int count;
};

/* Indexes attributes by type; a type seen twice fails the test. */
static int tb_cb(const struct nlattr *attr, void *data)
{
	struct tb *tb = data;
	uint16_t type = mnl_attr_get_type(attr);

	assert_true(type <= TB_MAX);
	assert_null(tb->a[type]);
	tb->a[type] = attr;
	tb->count++;
	return MNL_CB_OK;
}

static void parse_msg(const struct nlmsghdr *nlh, size_t hdrlen, struct tb *tb)
{
	memset(tb, 0, sizeof(*tb));
	assert_int_equal(mnl_attr_parse(nlh, (unsigned int)hdrlen, tb_cb, tb),
			 MNL_CB_OK);
}

static void parse_nested(const struct nlattr *nest, struct tb *tb)
{
	assert_non_null(nest);
	memset(tb, 0, sizeof(*tb));
	assert_int_equal(mnl_attr_parse_nested(nest, tb_cb, tb), MNL_CB_OK);
}

static void assert_attr_str(const struct nlattr *a, const char *want)
{
	assert_non_null(a);
	assert_int_equal(mnl_attr_validate(a, MNL_TYPE_NUL_STRING), 0);
	assert_string_equal(mnl_attr_get_str(a), want);
}

static void assert_attr_u32(const struct nlattr *a, uint32_t want)
{
	assert_non_null(a);
	assert_int_equal(mnl_attr_validate(a, MNL_TYPE_U32), 0);
	assert_int_equal(mnl_attr_get_u32(a), want);
}

static void assert_attr_bytes(const struct nlattr *a, const void *want,
			      size_t len)
{
	assert_non_null(a);
	assert_int_equal(mnl_attr_get_payload_len(a), len);
	assert_memory_equal(mnl_attr_get_payload(a), want, len);
}

/* The common header checks: length, type, flags, sequence left to 0. */
static const struct nlmsghdr *check_hdr(const void *buf, int ret,
					uint16_t type, uint16_t flags)
{
	const struct nlmsghdr *nlh = buf;

	assert_true(ret > 0);
	assert_int_equal(nlh->nlmsg_len, ret);
	assert_true(ret <= UB_NL_MSG_SIZE);
	assert_int_equal(nlh->nlmsg_type, type);
	assert_int_equal(nlh->nlmsg_flags, NLM_F_REQUEST | flags);
	assert_int_equal(nlh->nlmsg_seq, 0);
	return nlh;
}

static struct ub_cidr cidr(const char *s)
{
	struct ub_cidr c;

	assert_int_equal(ub_cidr_parse(s, &c), 0);
	return c;
}

/* ---- CIDR and address parsing ---- */

static void test_cidr_good(void **state)
{
	static const struct {
		const char *in, *canon;
		int family;
		unsigned int prefix;
	} good[] = {
		{ "172.16.1.1/16", "172.16.1.1/16", AF_INET, 16 },
		{ "0.0.0.0/0", "0.0.0.0/0", AF_INET, 0 },
		{ "255.255.255.255/32", "255.255.255.255/32", AF_INET, 32 },
		{ "10.0.0.1/8", "10.0.0.1/8", AF_INET, 8 },
		{ "192.168.0.0/24", "192.168.0.0/24", AF_INET, 24 },
		{ "2001:db8::1/64", "2001:db8::1/64", AF_INET6, 64 },
		{ "2001:DB8:0:0::A/64", "2001:db8::a/64", AF_INET6, 64 },
		{ "::/0", "::/0", AF_INET6, 0 },
		{ "fe80::1/128", "fe80::1/128", AF_INET6, 128 },
		{ "::ffff:1.2.3.4/96", "::ffff:1.2.3.4/96", AF_INET6, 96 },
	};
	char buf[UB_CIDR_STRLEN];
	struct ub_cidr c;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		memset(&c, 0xaa, sizeof(c));
		assert_int_equal(ub_cidr_parse(good[i].in, &c), 0);
		assert_int_equal(c.family, good[i].family);
		assert_int_equal(c.prefix, good[i].prefix);
		assert_int_equal(ub_cidr_fmt(&c, true, buf, sizeof(buf)), 0);
		assert_string_equal(buf, good[i].canon);
	}
	c = cidr("172.16.1.2/16");
	assert_memory_equal(c.addr, ((uint8_t[]){ 172, 16, 1, 2 }), 4);
	c = cidr("2001:db8::1/64");
	assert_memory_equal(c.addr,
			    ((uint8_t[]){ 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
					  0, 0, 0, 0, 0, 0, 0, 1 }),
			    16);
}

static void test_cidr_bad(void **state)
{
	static const char *const bad[] = {
		"",
		"/",
		"/16",
		"172.16.1.1",		/* prefix missing */
		"172.16.1.1/",
		"172.16.1.1/33",	/* prefix out of range */
		"172.16.1.1/100",
		"172.16.1.1/1000",
		"172.16.1.1/-1",
		"172.16.1.1/+8",
		"172.16.1.1/016",	/* leading zero */
		"172.16.1.1/00",
		"172.16.1.1/8x",	/* trailing junk */
		"172.16.1.1/8 ",
		"172.16.1.1/8/8",
		"172.16.1.1//8",
		" 172.16.1.1/8",
		"172.16.1.1 /8",
		"256.1.1.1/8",		/* bad octets */
		"1.2.3.256/8",
		"1.2.3/8",
		"1.2.3.4.5/8",
		"01.2.3.4/8",
		"1.2.3.-4/8",
		"1..3.4/8",
		"0x1.2.3.4/8",
		"a/8",
		"2001:db8::1/129",
		"2001:db8::1/",
		"2001:db8::1",
		"2001:db8:::1/64",
		"2001:db8::g/64",
		"fe80::1%eth0/64",
		"1:2:3:4:5:6:7:8:9/64",
		"0000000000000000000000000000000000000000000000000001.2.3.4/8",
	};
	struct ub_cidr c, orig;

	memset(&orig, 0x5a, sizeof(orig));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		c = orig;
		if (ub_cidr_parse(bad[i], &c) != -EINVAL)
			fail_msg("accepted bad CIDR \"%s\"", bad[i]);
		/* A failed parse leaves the output alone. */
		assert_memory_equal(&c, &orig, sizeof(c));
	}
	assert_int_equal(ub_cidr_parse(NULL, &c), -EINVAL);
}

static void test_addr_parse(void **state)
{
	static const char *const bad[] = {
		"", "172.16.0.1/16", "172.16.0.1/", "1.2.3", "1.2.3.4 ",
		"300.1.1.1", "2001:db8::1/64", "::g", "gateway",
	};
	char buf[UB_CIDR_STRLEN];
	struct ub_cidr c;

	assert_int_equal(ub_addr_parse("172.16.0.1", &c), 0);
	assert_int_equal(c.family, AF_INET);
	assert_int_equal(c.prefix, 32);
	assert_memory_equal(c.addr, ((uint8_t[]){ 172, 16, 0, 1 }), 4);
	assert_int_equal(ub_cidr_fmt(&c, false, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "172.16.0.1");

	assert_int_equal(ub_addr_parse("fd00::1", &c), 0);
	assert_int_equal(c.family, AF_INET6);
	assert_int_equal(c.prefix, 128);
	assert_int_equal(ub_cidr_fmt(&c, true, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "fd00::1/128");

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (ub_addr_parse(bad[i], &c) != -EINVAL)
			fail_msg("accepted bad address \"%s\"", bad[i]);
	}
}

static void test_cidr_fmt_limits(void **state)
{
	struct ub_cidr c = cidr("172.16.1.1/16"), longest;
	char buf[UB_CIDR_STRLEN];

	/* "172.16.1.1/16" is 13 characters: 14 bytes fit, 13 do not. */
	assert_int_equal(ub_cidr_fmt(&c, true, buf, 14), 0);
	assert_int_equal(ub_cidr_fmt(&c, true, buf, 13), -ENOSPC);
	longest = cidr("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255/128");
	assert_int_equal(ub_cidr_fmt(&longest, true, buf, sizeof(buf)), 0);
	c.family = AF_UNIX;
	assert_int_equal(ub_cidr_fmt(&c, true, buf, sizeof(buf)), -EINVAL);
}

/* ---- names ---- */

static void test_ifname_check(void **state)
{
	static const char *const good[] = { "eth0", "a", "veth-ns1",
					    "123456789012345", "br_0.100" };
	static const char *const bad[] = { "", ".", "..", "a/b", "a b",
					   "a:b", "tab\there", "\x7f" };

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_int_equal(ub_nl_ifname_check(good[i]), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (ub_nl_ifname_check(bad[i]) != -EINVAL)
			fail_msg("accepted bad interface name \"%s\"", bad[i]);
	}
	assert_int_equal(ub_nl_ifname_check(NULL), -EINVAL);
	assert_int_equal(ub_nl_ifname_check("1234567890123456"), -ENAMETOOLONG);
}

static void test_netns_name_check(void **state)
{
	char longest[UB_NETNS_NAME_MAX + 2];

	assert_int_equal(ub_netns_name_check("ns1"), 0);
	assert_int_equal(ub_netns_name_check("my.ns-2_x"), 0);
	assert_int_equal(ub_netns_name_check(""), -EINVAL);
	assert_int_equal(ub_netns_name_check("."), -EINVAL);
	assert_int_equal(ub_netns_name_check(".."), -EINVAL);
	assert_int_equal(ub_netns_name_check("a/b"), -EINVAL);
	assert_int_equal(ub_netns_name_check("../etc"), -EINVAL);
	assert_int_equal(ub_netns_name_check(NULL), -EINVAL);
	memset(longest, 'n', sizeof(longest));
	longest[UB_NETNS_NAME_MAX] = '\0';
	assert_int_equal(ub_netns_name_check(longest), 0);
	longest[UB_NETNS_NAME_MAX] = 'n';
	longest[UB_NETNS_NAME_MAX + 1] = '\0';
	assert_int_equal(ub_netns_name_check(longest), -ENAMETOOLONG);
}

/* ---- link builders ---- */

static void test_msg_veth(void **state)
{
	static const struct ub_mac mac = { { 0x02, 0, 0, 0, 0, 0x01 } };
	static const struct ub_mac peer_mac = { { 0x02, 0, 0, 0, 0, 0x02 } };
	const struct ub_veth_cfg cfg = {
		.name = "vh-ns1", .peer = "eth0", .peer_nsfd = 7, .mtu = 9000,
		.mac = &mac, .peer_mac = &peer_mac,
	};
	_Alignas(struct nlmsghdr) char buf[UB_NL_MSG_SIZE];
	struct tb top, info, data, peer;
	const struct nlmsghdr *nlh;
	const struct ifinfomsg *ifm;
	const struct nlattr *p;
	size_t hlen = NLMSG_ALIGN(sizeof(*ifm));

	nlh = check_hdr(buf, ub_nl_msg_veth(buf, &cfg), RTM_NEWLINK,
			NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK);
	ifm = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(ifm->ifi_family, AF_UNSPEC);
	assert_int_equal(ifm->ifi_index, 0);
	assert_int_equal(ifm->ifi_flags, 0);

	parse_msg(nlh, sizeof(*ifm), &top);
	assert_int_equal(top.count, 4);
	assert_attr_str(top.a[IFLA_IFNAME], "vh-ns1");
	assert_attr_u32(top.a[IFLA_MTU], 9000);
	assert_attr_bytes(top.a[IFLA_ADDRESS], mac.b, 6);

	parse_nested(top.a[IFLA_LINKINFO], &info);
	assert_int_equal(info.count, 2);
	assert_attr_str(info.a[IFLA_INFO_KIND], "veth");
	parse_nested(info.a[IFLA_INFO_DATA], &data);
	assert_int_equal(data.count, 1);
	p = data.a[VETH_INFO_PEER];
	assert_non_null(p);

	/* The peer nest starts with its own ifinfomsg, then attributes. */
	assert_true(mnl_attr_get_payload_len(p) > hlen);
	ifm = mnl_attr_get_payload(p);
	assert_int_equal(ifm->ifi_family, AF_UNSPEC);
	assert_int_equal(ifm->ifi_index, 0);
	assert_int_equal(ifm->ifi_change, 0);
	memset(&peer, 0, sizeof(peer));
	assert_int_equal(mnl_attr_parse_payload((const char *)ifm + hlen,
						mnl_attr_get_payload_len(p) -
							hlen,
						tb_cb, &peer),
			 MNL_CB_OK);
	assert_int_equal(peer.count, 4);
	assert_attr_str(peer.a[IFLA_IFNAME], "eth0");
	assert_attr_u32(peer.a[IFLA_NET_NS_FD], 7);
	assert_attr_u32(peer.a[IFLA_MTU], 9000);
	assert_attr_bytes(peer.a[IFLA_ADDRESS], peer_mac.b, 6);
}

static void test_msg_veth_minimal(void **state)
{
	const struct ub_veth_cfg cfg = { .name = "a", .peer = "b",
					 .peer_nsfd = -1 };
	_Alignas(struct nlmsghdr) char buf[UB_NL_MSG_SIZE];
	struct tb top, info, data, peer;
	const struct nlmsghdr *nlh;
	const struct nlattr *p;
	size_t hlen = NLMSG_ALIGN(sizeof(struct ifinfomsg));

	nlh = check_hdr(buf, ub_nl_msg_veth(buf, &cfg), RTM_NEWLINK,
			NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK);
	parse_msg(nlh, sizeof(struct ifinfomsg), &top);
	/* No MTU, no MAC, no namespace: the kernel's defaults. */
	assert_int_equal(top.count, 2);
	assert_attr_str(top.a[IFLA_IFNAME], "a");
	parse_nested(top.a[IFLA_LINKINFO], &info);
	parse_nested(info.a[IFLA_INFO_DATA], &data);
	p = data.a[VETH_INFO_PEER];
	assert_non_null(p);
	memset(&peer, 0, sizeof(peer));
	assert_int_equal(mnl_attr_parse_payload(
				 (const char *)mnl_attr_get_payload(p) + hlen,
				 mnl_attr_get_payload_len(p) - hlen, tb_cb,
				 &peer),
			 MNL_CB_OK);
	assert_int_equal(peer.count, 1);
	assert_attr_str(peer.a[IFLA_IFNAME], "b");
}

static void test_msg_veth_bad(void **state)
{
	_Alignas(struct nlmsghdr) char buf[UB_NL_MSG_SIZE];
	struct ub_veth_cfg cfg = { .name = "ok", .peer = "ok2",
				   .peer_nsfd = -1 };

	cfg.name = "this-name-is-too-long";
	assert_int_equal(ub_nl_msg_veth(buf, &cfg), -ENAMETOOLONG);
	cfg.name = "ok";
	cfg.peer = "";
	assert_int_equal(ub_nl_msg_veth(buf, &cfg), -EINVAL);
	cfg.peer = "a/b";
	assert_int_equal(ub_nl_msg_veth(buf, &cfg), -EINVAL);
	cfg.peer = NULL;
	assert_int_equal(ub_nl_msg_veth(buf, &cfg), -EINVAL);
}

static void test_msg_link_del_get(void **state)
{
	_Alignas(struct nlmsghdr) char buf[UB_NL_MSG_SIZE];
	const struct ifinfomsg *ifm;
	const struct nlmsghdr *nlh;
	struct tb tb;

	nlh = check_hdr(buf, ub_nl_msg_link_del(buf, "vh-ns1"), RTM_DELLINK,
			NLM_F_ACK);
	parse_msg(nlh, sizeof(struct ifinfomsg), &tb);
	assert_int_equal(tb.count, 1);
	assert_attr_str(tb.a[IFLA_IFNAME], "vh-ns1");
	ifm = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(ifm->ifi_index, 0);

	nlh = check_hdr(buf, ub_nl_msg_link_get(buf, "lo"), RTM_GETLINK,
			NLM_F_ACK);
	parse_msg(nlh, sizeof(struct ifinfomsg), &tb);
	assert_int_equal(tb.count, 2);
	assert_attr_str(tb.a[IFLA_IFNAME], "lo");
	assert_attr_u32(tb.a[IFLA_EXT_MASK], RTEXT_FILTER_SKIP_STATS);

	assert_int_equal(ub_nl_msg_link_del(buf, ""), -EINVAL);
	assert_int_equal(ub_nl_msg_link_get(buf, "0123456789abcdef"),
			 -ENAMETOOLONG);
}

static void test_msg_link_set(void **state)
{
	struct ub_link_set set = {
		.mask = UB_LINK_SET_UP | UB_LINK_SET_MTU | UB_LINK_SET_MAC |
			UB_LINK_SET_NAME | UB_LINK_SET_NETNS,
		.up = true, .mtu = 1400,
		.mac = { { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 } },
		.name = "renamed", .nsfd = 9,
	};
	_Alignas(struct nlmsghdr) char buf[UB_NL_MSG_SIZE];
	const struct ifinfomsg *ifm;
	const struct nlmsghdr *nlh;
	struct tb tb;

	nlh = check_hdr(buf, ub_nl_msg_link_set(buf, 42, &set), RTM_SETLINK,
			NLM_F_ACK);
	ifm = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(ifm->ifi_index, 42);
	assert_int_equal(ifm->ifi_change, IFF_UP);
	assert_int_equal(ifm->ifi_flags, IFF_UP);
	parse_msg(nlh, sizeof(*ifm), &tb);
	assert_int_equal(tb.count, 4);
	assert_attr_u32(tb.a[IFLA_MTU], 1400);
	assert_attr_bytes(tb.a[IFLA_ADDRESS], set.mac.b, 6);
	assert_attr_str(tb.a[IFLA_IFNAME], "renamed");
	assert_attr_u32(tb.a[IFLA_NET_NS_FD], 9);

	/* Down: the change mask still names IFF_UP, the flag is clear. */
	set.mask = UB_LINK_SET_UP;
	set.up = false;
	nlh = check_hdr(buf, ub_nl_msg_link_set(buf, 3, &set), RTM_SETLINK,
			NLM_F_ACK);
	ifm = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(ifm->ifi_change, IFF_UP);
	assert_int_equal(ifm->ifi_flags, 0);
	parse_msg(nlh, sizeof(*ifm), &tb);
	assert_int_equal(tb.count, 0);

	/* Only the MTU: no flag is touched. */
	set.mask = UB_LINK_SET_MTU;
	nlh = check_hdr(buf, ub_nl_msg_link_set(buf, 3, &set), RTM_SETLINK,
			NLM_F_ACK);
	ifm = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(ifm->ifi_change, 0);
	parse_msg(nlh, sizeof(*ifm), &tb);
	assert_int_equal(tb.count, 1);

	assert_int_equal(ub_nl_msg_link_set(buf, 0, &set), -EINVAL);
	set.mask = 1u << 20;
	assert_int_equal(ub_nl_msg_link_set(buf, 3, &set), -EINVAL);
	set.mask = UB_LINK_SET_NAME;
	set.name = "bad name";
	assert_int_equal(ub_nl_msg_link_set(buf, 3, &set), -EINVAL);
	set.mask = UB_LINK_SET_NETNS;
	set.nsfd = -1;
	assert_int_equal(ub_nl_msg_link_set(buf, 3, &set), -EBADF);
}

/* ---- address and route builders ---- */

static void test_msg_addr_v4(void **state)
{
	_Alignas(struct nlmsghdr) char buf[UB_NL_MSG_SIZE];
	struct ub_cidr c = cidr("172.16.1.1/16");
	const struct ifaddrmsg *ifa;
	const struct nlmsghdr *nlh;
	struct tb tb;

	nlh = check_hdr(buf, ub_nl_msg_addr(buf, RTM_NEWADDR, 5, &c),
			RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK);
	ifa = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(ifa->ifa_family, AF_INET);
	assert_int_equal(ifa->ifa_prefixlen, 16);
	assert_int_equal(ifa->ifa_index, 5);
	assert_int_equal(ifa->ifa_scope, RT_SCOPE_UNIVERSE);
	parse_msg(nlh, sizeof(*ifa), &tb);
	assert_int_equal(tb.count, 3);
	assert_attr_bytes(tb.a[IFA_LOCAL], ((uint8_t[]){ 172, 16, 1, 1 }), 4);
	assert_attr_bytes(tb.a[IFA_ADDRESS], ((uint8_t[]){ 172, 16, 1, 1 }), 4);
	assert_attr_bytes(tb.a[IFA_BROADCAST],
			  ((uint8_t[]){ 172, 16, 255, 255 }), 4);

	/* A prefix that does not fall on an octet boundary. */
	c = cidr("10.1.2.3/20");
	nlh = check_hdr(buf, ub_nl_msg_addr(buf, RTM_NEWADDR, 5, &c),
			RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK);
	parse_msg(nlh, sizeof(*ifa), &tb);
	assert_attr_bytes(tb.a[IFA_BROADCAST], ((uint8_t[]){ 10, 1, 15, 255 }),
			  4);

	/* /31 and /32 have no broadcast address. */
	c = cidr("10.0.0.0/31");
	nlh = check_hdr(buf, ub_nl_msg_addr(buf, RTM_NEWADDR, 5, &c),
			RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK);
	parse_msg(nlh, sizeof(*ifa), &tb);
	assert_int_equal(tb.count, 2);
	assert_null(tb.a[IFA_BROADCAST]);

	/* Removal: acknowledged, no create flags, no broadcast. */
	c = cidr("172.16.1.1/16");
	nlh = check_hdr(buf, ub_nl_msg_addr(buf, RTM_DELADDR, 5, &c),
			RTM_DELADDR, NLM_F_ACK);
	ifa = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(ifa->ifa_prefixlen, 16);
	parse_msg(nlh, sizeof(*ifa), &tb);
	assert_int_equal(tb.count, 2);
	assert_attr_bytes(tb.a[IFA_LOCAL], c.addr, 4);
}

static void test_msg_addr_v6(void **state)
{
	_Alignas(struct nlmsghdr) char buf[UB_NL_MSG_SIZE];
	struct ub_cidr c = cidr("2001:db8::1/64");
	const struct ifaddrmsg *ifa;
	const struct nlmsghdr *nlh;
	struct tb tb;

	nlh = check_hdr(buf, ub_nl_msg_addr(buf, RTM_NEWADDR, 7, &c),
			RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK);
	ifa = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(ifa->ifa_family, AF_INET6);
	assert_int_equal(ifa->ifa_prefixlen, 64);
	assert_int_equal(ifa->ifa_index, 7);
	parse_msg(nlh, sizeof(*ifa), &tb);
	assert_int_equal(tb.count, 2);
	assert_attr_bytes(tb.a[IFA_LOCAL], c.addr, 16);
	assert_attr_bytes(tb.a[IFA_ADDRESS], c.addr, 16);
}

static void test_msg_addr_bad(void **state)
{
	_Alignas(struct nlmsghdr) char buf[UB_NL_MSG_SIZE];
	struct ub_cidr c = cidr("172.16.1.1/16");

	assert_int_equal(ub_nl_msg_addr(buf, RTM_NEWADDR, 0, &c), -EINVAL);
	assert_int_equal(ub_nl_msg_addr(buf, RTM_NEWLINK, 1, &c), -EINVAL);
	c.prefix = 33;
	assert_int_equal(ub_nl_msg_addr(buf, RTM_NEWADDR, 1, &c), -EINVAL);
	c.family = AF_UNSPEC;
	assert_int_equal(ub_nl_msg_addr(buf, RTM_NEWADDR, 1, &c),
			 -EAFNOSUPPORT);
}

static void test_msg_addr_dump(void **state)
{
	_Alignas(struct nlmsghdr) char buf[UB_NL_MSG_SIZE];
	const struct ifaddrmsg *ifa;
	const struct nlmsghdr *nlh;

	/* A dump is answered by NLMSG_DONE, not by an ACK. */
	nlh = check_hdr(buf, ub_nl_msg_addr_dump(buf, AF_UNSPEC), RTM_GETADDR,
			NLM_F_DUMP);
	ifa = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(ifa->ifa_family, AF_UNSPEC);
	assert_int_equal(ub_nl_msg_addr_dump(buf, AF_PACKET), -EAFNOSUPPORT);
}

static void test_msg_route(void **state)
{
	_Alignas(struct nlmsghdr) char buf[UB_NL_MSG_SIZE];
	const struct nlmsghdr *nlh;
	const struct rtmsg *rtm;
	struct ub_route rt = { .has_gw = true, .dst.family = AF_INET };
	struct tb tb;

	/* The default route: no RTA_DST, as ip sends it. */
	assert_int_equal(ub_addr_parse("172.16.0.254", &rt.gw), 0);
	nlh = check_hdr(buf, ub_nl_msg_route(buf, &rt, 0),
			RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK);
	rtm = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(rtm->rtm_family, AF_INET);
	assert_int_equal(rtm->rtm_dst_len, 0);
	assert_int_equal(rtm->rtm_src_len, 0);
	assert_int_equal(rtm->rtm_table, RT_TABLE_MAIN);
	assert_int_equal(rtm->rtm_protocol, RTPROT_BOOT);
	assert_int_equal(rtm->rtm_scope, RT_SCOPE_UNIVERSE);
	assert_int_equal(rtm->rtm_type, RTN_UNICAST);
	parse_msg(nlh, sizeof(*rtm), &tb);
	assert_int_equal(tb.count, 1);
	assert_null(tb.a[RTA_DST]);
	assert_attr_bytes(tb.a[RTA_GATEWAY], ((uint8_t[]){ 172, 16, 0, 254 }),
			  4);

	/* A subnet via an IPv6 link-local gateway, through link 4. */
	assert_int_equal(ub_cidr_parse("fd00:1::/48", &rt.dst), 0);
	assert_int_equal(ub_addr_parse("fe80::1", &rt.gw), 0);
	nlh = check_hdr(buf, ub_nl_msg_route(buf, &rt, 4),
			RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK);
	rtm = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(rtm->rtm_family, AF_INET6);
	assert_int_equal(rtm->rtm_dst_len, 48);
	parse_msg(nlh, sizeof(*rtm), &tb);
	assert_int_equal(tb.count, 3);
	assert_attr_bytes(tb.a[RTA_DST], rt.dst.addr, 16);
	assert_attr_bytes(tb.a[RTA_GATEWAY], rt.gw.addr, 16);
	assert_attr_u32(tb.a[RTA_OIF], 4);

	/* No gateway: on the link, which must be named. */
	rt.has_gw = false;
	assert_int_equal(ub_cidr_parse("10.9.0.0/16", &rt.dst), 0);
	assert_int_equal(ub_nl_msg_route(buf, &rt, 0), -EINVAL);
	nlh = check_hdr(buf, ub_nl_msg_route(buf, &rt, 7),
			RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK);
	rtm = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(rtm->rtm_scope, RT_SCOPE_LINK);
	parse_msg(nlh, sizeof(*rtm), &tb);
	assert_int_equal(tb.count, 2);
	assert_null(tb.a[RTA_GATEWAY]);
	assert_attr_u32(tb.a[RTA_OIF], 7);

	/* A gateway of the other family; no family at all. */
	rt.has_gw = true;
	assert_int_equal(ub_addr_parse("fe80::1", &rt.gw), 0);
	assert_int_equal(ub_nl_msg_route(buf, &rt, 7), -EINVAL);
	rt.dst.family = AF_UNSPEC;
	assert_int_equal(ub_nl_msg_route(buf, &rt, 0), -EAFNOSUPPORT);
}

/* ---- reply parsers ---- */

static struct nlmsghdr *reply_start(void *buf, uint16_t type, size_t hdrlen,
				    void **hdr)
{
	struct nlmsghdr *nlh;

	memset(buf, 0, UB_NL_MSG_SIZE);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	*hdr = mnl_nlmsg_put_extra_header(nlh, hdrlen);
	return nlh;
}

static void test_parse_link(void **state)
{
	static const uint8_t mac[6] = { 0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee };
	_Alignas(struct nlmsghdr) char buf[UB_NL_MSG_SIZE];
	struct ub_link_info li;
	struct ifinfomsg *ifm;
	struct nlmsghdr *nlh;
	void *hdr;

	nlh = reply_start(buf, RTM_NEWLINK, sizeof(*ifm), &hdr);
	ifm = hdr;
	ifm->ifi_index = 12;
	ifm->ifi_flags = IFF_UP | IFF_RUNNING;
	ifm->ifi_type = ARPHRD_ETHER;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, "vh-ns1");
	mnl_attr_put_u32(nlh, IFLA_MASTER, 7);
	mnl_attr_put_u32(nlh, IFLA_MTU, 9000);
	mnl_attr_put(nlh, IFLA_ADDRESS, sizeof(mac), mac);
	/* Attributes we do not read, and one newer than our headers. */
	mnl_attr_put_u32(nlh, IFLA_TXQLEN, 1000);
	mnl_attr_put_u32(nlh, IFLA_MAX + 5, 1);
	assert_int_equal(ub_nl_parse_link(nlh, &li), 0);
	assert_int_equal(li.ifindex, 12);
	assert_int_equal(li.flags, IFF_UP | IFF_RUNNING);
	assert_int_equal(li.mtu, 9000);
	assert_int_equal(li.type, ARPHRD_ETHER);
	assert_int_equal(li.master, 7);
	assert_memory_equal(li.mac.b, mac, 6);
	assert_string_equal(li.name, "vh-ns1");

	/* Loopback, in no master; a master attribute of the wrong size. */
	nlh = reply_start(buf, RTM_NEWLINK, sizeof(*ifm), &hdr);
	ifm = hdr;
	ifm->ifi_type = ARPHRD_LOOPBACK;
	ifm->ifi_flags = IFF_LOOPBACK;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, "lo");
	assert_int_equal(ub_nl_parse_link(nlh, &li), 0);
	assert_int_equal(li.type, ARPHRD_LOOPBACK);
	assert_int_equal(li.master, 0);
	mnl_attr_put_u16(nlh, IFLA_MASTER, 7);
	assert_int_equal(ub_nl_parse_link(nlh, &li), -EINVAL);

	/* A link without an Ethernet address (e.g. a tunnel). */
	nlh = reply_start(buf, RTM_NEWLINK, sizeof(*ifm), &hdr);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, "tun0");
	mnl_attr_put(nlh, IFLA_ADDRESS, 4, "\x0a\0\0\x01");
	assert_int_equal(ub_nl_parse_link(nlh, &li), 0);
	assert_true(ub_mac_is_zero(&li.mac));

	/* No name, an overlong name, the wrong message type. */
	nlh = reply_start(buf, RTM_NEWLINK, sizeof(*ifm), &hdr);
	mnl_attr_put_u32(nlh, IFLA_MTU, 1500);
	assert_int_equal(ub_nl_parse_link(nlh, &li), -EINVAL);
	nlh = reply_start(buf, RTM_NEWLINK, sizeof(*ifm), &hdr);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, "0123456789abcdefXYZ");
	assert_int_equal(ub_nl_parse_link(nlh, &li), -EINVAL);
	nlh = reply_start(buf, RTM_NEWADDR, sizeof(*ifm), &hdr);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, "eth0");
	assert_int_equal(ub_nl_parse_link(nlh, &li), -EINVAL);
}

static void test_parse_addr(void **state)
{
	static const uint8_t local[4] = { 10, 0, 0, 1 };
	static const uint8_t peer[4] = { 10, 0, 0, 2 };
	_Alignas(struct nlmsghdr) char buf[UB_NL_MSG_SIZE];
	struct ifaddrmsg *ifa;
	struct nlmsghdr *nlh;
	struct ub_cidr c, v6 = cidr("2001:db8::5/64");
	void *hdr;
	int ifindex;

	/* Point-to-point: IFA_LOCAL is ours, IFA_ADDRESS the peer's. */
	nlh = reply_start(buf, RTM_NEWADDR, sizeof(*ifa), &hdr);
	ifa = hdr;
	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = 24;
	ifa->ifa_index = 3;
	mnl_attr_put(nlh, IFA_ADDRESS, 4, peer);
	mnl_attr_put(nlh, IFA_LOCAL, 4, local);
	assert_int_equal(ub_nl_parse_addr(nlh, &ifindex, &c), 0);
	assert_int_equal(ifindex, 3);
	assert_int_equal(c.family, AF_INET);
	assert_int_equal(c.prefix, 24);
	assert_memory_equal(c.addr, local, 4);

	/* IPv6 replies carry IFA_ADDRESS only. */
	nlh = reply_start(buf, RTM_NEWADDR, sizeof(*ifa), &hdr);
	ifa = hdr;
	ifa->ifa_family = AF_INET6;
	ifa->ifa_prefixlen = 64;
	ifa->ifa_index = 4;
	mnl_attr_put(nlh, IFA_ADDRESS, 16, v6.addr);
	assert_int_equal(ub_nl_parse_addr(nlh, &ifindex, &c), 0);
	assert_int_equal(ifindex, 4);
	assert_memory_equal(&c, &v6, sizeof(c));

	/* An address of the wrong length, a foreign family. */
	nlh = reply_start(buf, RTM_NEWADDR, sizeof(*ifa), &hdr);
	ifa = hdr;
	ifa->ifa_family = AF_INET;
	mnl_attr_put(nlh, IFA_ADDRESS, 16, v6.addr);
	assert_int_equal(ub_nl_parse_addr(nlh, &ifindex, &c), -EINVAL);
	ifa->ifa_family = AF_PACKET;
	assert_int_equal(ub_nl_parse_addr(nlh, &ifindex, &c), -EAFNOSUPPORT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cidr_good),
		cmocka_unit_test(test_cidr_bad),
		cmocka_unit_test(test_addr_parse),
		cmocka_unit_test(test_cidr_fmt_limits),
		cmocka_unit_test(test_ifname_check),
		cmocka_unit_test(test_netns_name_check),
		cmocka_unit_test(test_msg_veth),
		cmocka_unit_test(test_msg_veth_minimal),
		cmocka_unit_test(test_msg_veth_bad),
		cmocka_unit_test(test_msg_link_del_get),
		cmocka_unit_test(test_msg_link_set),
		cmocka_unit_test(test_msg_addr_v4),
		cmocka_unit_test(test_msg_addr_v6),
		cmocka_unit_test(test_msg_addr_bad),
		cmocka_unit_test(test_msg_addr_dump),
		cmocka_unit_test(test_msg_route),
		cmocka_unit_test(test_parse_link),
		cmocka_unit_test(test_parse_addr),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
