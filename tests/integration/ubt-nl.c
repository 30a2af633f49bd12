/* SPDX-License-Identifier: MIT */
/*
 * ubt-nl: drives control/'s netlink library from test scripts, one call
 * per run. NETNS arguments name a namespace under /run/netns, "pid:N" the
 * namespace of process N, or "-" the current one.
 *
 * Exit status: 0, or the errno of the failed call (so a script can tell
 * EEXIST from ENOENT), after one line on stderr naming the call, the
 * error and the kernel's own explanation when it gave one. 1 for "no" from
 * netns-exists, 64 for bad usage.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ubridge/netlink.h>

#define EXIT_USAGE 64

static const char usage[] =
	"usage: ubt-nl COMMAND ARGS...\n"
	"  netns-add NAME | netns-del NAME | netns-exists NAME\n"
	"  veth NAME PEER [NETNS [MTU]]   (NAME here, PEER in NETNS)\n"
	"  del IF [NETNS] | up IF [NETNS] | down IF [NETNS]\n"
	"  mtu IF N [NETNS] | mac IF MAC [NETNS] | rename IF NEW [NETNS]\n"
	"  show IF [NETNS]                (ifindex= name= mac= mtu= up=)\n"
	"  addr IF CIDR [NETNS] | addr-del IF CIDR [NETNS] | addrs IF [NETNS]\n"
	"  route-default GW [NETNS [IF]]\n"
	"  cidr TEXT | gw TEXT            (parse and print back)\n";

static const char *cmd;

static int fail(int err, const struct ub_nl *nl)
{
	const char *why = nl ? ub_nl_errmsg(nl) : "";

	fprintf(stderr, "ubt-nl: %s: %s (errno %d)%s%s\n", cmd, strerror(-err),
		-err, why[0] ? ": " : "", why);
	return -err > 0 && -err < 126 && -err != EXIT_USAGE ? -err : 1;
}

static int bad_usage(void)
{
	fputs(usage, stderr);
	return EXIT_USAGE;
}

/* Opens a namespace fd for NETNS, or returns -1 for the current one. */
static int open_ns(const char *ns, int *fd)
{
	char *end;
	long pid;

	*fd = -1;
	if (!ns || !strcmp(ns, "-"))
		return 0;
	if (!strncmp(ns, "pid:", 4)) {
		errno = 0;
		pid = strtol(ns + 4, &end, 10);
		if (errno || end == ns + 4 || *end || pid <= 0)
			return -EINVAL;
		*fd = ub_netns_open_pid((pid_t)pid);
	} else {
		*fd = ub_netns_open(ns);
	}
	return *fd < 0 ? *fd : 0;
}

static int open_nl(const char *ns, struct ub_nl **nl)
{
	int fd, ret;

	ret = open_ns(ns, &fd);
	if (ret)
		return ret;
	if (fd < 0)
		return ub_nl_open(nl);
	ret = ub_nl_open_nsfd(fd, nl);
	close(fd);
	return ret;
}

static int parse_u32(const char *s, uint32_t *out)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v > UINT32_MAX || s[0] == '-')
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

static int do_veth(int argc, char **argv)
{
	struct ub_veth_cfg cfg = { .name = argv[0], .peer = argv[1] };
	struct ub_nl *nl = NULL;
	int ret;

	ret = open_ns(argc > 2 ? argv[2] : NULL, &cfg.peer_nsfd);
	if (!ret && argc > 3)
		ret = parse_u32(argv[3], &cfg.mtu);
	if (!ret)
		ret = ub_nl_open(&nl);
	if (!ret)
		ret = ub_nl_veth_add(nl, &cfg);
	if (ret)
		ret = fail(ret, nl);
	if (cfg.peer_nsfd >= 0)
		close(cfg.peer_nsfd);
	ub_nl_close(nl);
	return ret;
}

static int do_show(struct ub_nl *nl, const char *ifname)
{
	char mac[UB_MAC_STRLEN];
	struct ub_link_info li;
	int ret;

	ret = ub_nl_link_get(nl, ifname, &li);
	if (ret)
		return ret;
	printf("ifindex=%d name=%s mac=%s mtu=%u up=%d\n", li.ifindex, li.name,
	       ub_mac_fmt(&li.mac, mac), li.mtu, !!(li.flags & IFF_UP));
	return 0;
}

static int do_addrs(struct ub_nl *nl, const char *ifname)
{
	struct ub_cidr addrs[64];
	char text[UB_CIDR_STRLEN];
	int n;

	n = ub_nl_addr_list(nl, ifname, addrs, 64);
	if (n < 0)
		return n;
	for (int i = 0; i < n && i < 64; i++) {
		if (!ub_cidr_fmt(&addrs[i], true, text, sizeof(text)))
			printf("%s\n", text);
	}
	return 0;
}

static int do_parse(const char *text, bool prefix)
{
	char out[UB_CIDR_STRLEN];
	struct ub_cidr c;
	int ret;

	ret = prefix ? ub_cidr_parse(text, &c) : ub_addr_parse(text, &c);
	if (!ret)
		ret = ub_cidr_fmt(&c, prefix, out, sizeof(out));
	if (ret)
		return fail(ret, NULL);
	printf("%s %s\n", c.family == AF_INET ? "inet" : "inet6", out);
	return 0;
}

/* Commands of the form "VERB IF ARG? [NETNS]" on a handle in NETNS. */
static int do_link_cmd(int argc, char **argv)
{
	bool has_arg = !strcmp(cmd, "mtu") || !strcmp(cmd, "mac") ||
		       !strcmp(cmd, "rename") || !strcmp(cmd, "addr") ||
		       !strcmp(cmd, "addr-del");
	struct ub_link_set set = { 0 };
	const char *ifname = argv[0];
	struct ub_nl *nl = NULL;
	struct ub_cidr c;
	int ret;

	if (argc < 1 + has_arg || argc > 2 + has_arg)
		return bad_usage();
	ret = open_nl(argc > 1 + has_arg ? argv[1 + has_arg] : NULL, &nl);
	if (ret)
		return fail(ret, NULL);
	if (!strcmp(cmd, "del")) {
		ret = ub_nl_link_del(nl, ifname);
	} else if (!strcmp(cmd, "up") || !strcmp(cmd, "down")) {
		ret = ub_nl_link_up(nl, ifname, !strcmp(cmd, "up"));
	} else if (!strcmp(cmd, "show")) {
		ret = do_show(nl, ifname);
	} else if (!strcmp(cmd, "addrs")) {
		ret = do_addrs(nl, ifname);
	} else if (!strcmp(cmd, "addr") || !strcmp(cmd, "addr-del")) {
		ret = ub_cidr_parse(argv[1], &c);
		if (!ret && !strcmp(cmd, "addr"))
			ret = ub_nl_addr_add(nl, ifname, &c);
		else if (!ret)
			ret = ub_nl_addr_del(nl, ifname, &c);
	} else {
		if (!strcmp(cmd, "mtu")) {
			set.mask = UB_LINK_SET_MTU;
			ret = parse_u32(argv[1], &set.mtu);
		} else if (!strcmp(cmd, "mac")) {
			set.mask = UB_LINK_SET_MAC;
			ret = ub_mac_parse(argv[1], &set.mac);
		} else {
			set.mask = UB_LINK_SET_NAME;
			set.name = argv[1];
		}
		if (!ret)
			ret = ub_nl_link_set(nl, ifname, &set);
	}
	if (ret)
		ret = fail(ret, nl);
	ub_nl_close(nl);
	return ret;
}

static int do_route_default(int argc, char **argv)
{
	struct ub_nl *nl = NULL;
	struct ub_route rt = { .has_gw = true };
	int ret;

	ret = ub_addr_parse(argv[0], &rt.gw);
	rt.dst.family = rt.gw.family;
	if (!ret)
		ret = open_nl(argc > 1 ? argv[1] : NULL, &nl);
	if (!ret)
		ret = ub_nl_route_add(nl, &rt, argc > 2 ? argv[2] : NULL);
	if (ret)
		ret = fail(ret, nl);
	ub_nl_close(nl);
	return ret;
}

int main(int argc, char **argv)
{
	int ret;

	if (argc < 3)
		return bad_usage();
	cmd = argv[1];
	argc -= 2;
	argv += 2;

	if (!strcmp(cmd, "netns-add") || !strcmp(cmd, "netns-del")) {
		if (argc != 1)
			return bad_usage();
		ret = cmd[6] == 'a' ? ub_netns_add(argv[0]) :
				      ub_netns_del(argv[0]);
		return ret ? fail(ret, NULL) : 0;
	}
	if (!strcmp(cmd, "netns-exists"))
		return argc == 1 ? !ub_netns_exists(argv[0]) : bad_usage();
	if (!strcmp(cmd, "veth"))
		return argc >= 2 && argc <= 4 ? do_veth(argc, argv) :
						bad_usage();
	if (!strcmp(cmd, "route-default"))
		return argc >= 1 && argc <= 3 ? do_route_default(argc, argv) :
						bad_usage();
	if (!strcmp(cmd, "cidr") || !strcmp(cmd, "gw"))
		return argc == 1 ? do_parse(argv[0], cmd[0] == 'c') :
				   bad_usage();
	if (!strcmp(cmd, "del") || !strcmp(cmd, "up") || !strcmp(cmd, "down") ||
	    !strcmp(cmd, "show") || !strcmp(cmd, "addrs") ||
	    !strcmp(cmd, "mtu") || !strcmp(cmd, "mac") ||
	    !strcmp(cmd, "rename") || !strcmp(cmd, "addr") ||
	    !strcmp(cmd, "addr-del"))
		return do_link_cmd(argc, argv);
	return bad_usage();
}
