/* SPDX-License-Identifier: MIT */
/*
 * NAT for a bridge's subnet, the way docker0 has it: the host forwards
 * IPv4, and an nftables table of our own masquerades what leaves the subnet
 * through the host's other interfaces. Everything lives in that one table,
 * so turning NAT off is deleting it. Rules go through libnftables, the
 * library behind the nft command.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <nftables/libnftables.h>

#include <ubridge/netlink.h>

#define IP_FORWARD "/proc/sys/net/ipv4/ip_forward"

int ub_nat_table_name(const char *bridge, char *buf, size_t len)
{
	if ((size_t)snprintf(buf, len, "ubridge_%s", bridge) >= len)
		return -ENAMETOOLONG;
	/* Bridge names may hold '.' and '-'; nft names are simpler. */
	for (char *p = buf; *p; p++)
		if (*p == '.' || *p == '-')
			*p = '_';
	return 0;
}

static int run_nft(const char *script, char *err, size_t errlen)
{
	struct nft_ctx *nft = nft_ctx_new(NFT_CTX_DEFAULT);
	const char *msg;
	int ret = 0;

	if (!nft) {
		snprintf(err, errlen, "cannot start libnftables");
		return -ENOMEM;
	}
	nft_ctx_buffer_output(nft);
	nft_ctx_buffer_error(nft);
	if (nft_run_cmd_from_buffer(nft, script)) {
		msg = nft_ctx_get_error_buffer(nft);
		/* The library's message spans lines: keep the first. */
		snprintf(err, errlen, "nftables: %.*s",
			 (int)strcspn(msg ? msg : "", "\n"), msg ? msg : "");
		ret = -EIO;
	}
	nft_ctx_free(nft);
	return ret;
}

int ub_sysctl_switch(const char *path, int set, int *old)
{
	char c = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	if (pread(fd, &c, 1, 0) != 1)
		ret = -EIO;
	close(fd);
	if (ret)
		return ret;
	if (old)
		*old = c == '1';
	if (set < 0 || (c == '1') == (set == 1))
		return 0;
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (pwrite(fd, set ? "1" : "0", 1, 0) != 1)
		ret = -errno;
	close(fd);
	return ret;
}

int ub_nat_enable(const char *table, const struct ub_cidr *subnet,
		  const char *gw_ifname, int *old_forward, char *err,
		  size_t errlen)
{
	char net[UB_CIDR_STRLEN], script[1024];
	struct ub_cidr n = *subnet;
	int ret;

	if (n.family != AF_INET) {
		snprintf(err, errlen, "NAT needs an IPv4 subnet");
		return -EAFNOSUPPORT;
	}
	/* The network address: the host bits cleared. */
	for (int bit = n.prefix; bit < 32; bit++)
		n.addr[bit / 8] &= (uint8_t)~(0x80 >> (bit % 8));
	ub_cidr_fmt(&n, true, net, sizeof(net));
	/* "add" then "delete" makes the delete safe when the table is new:
	 * the table ends up exactly as written, whatever was there. */
	snprintf(script, sizeof(script),
		 "add table ip %1$s\n"
		 "delete table ip %1$s\n"
		 "table ip %1$s {\n"
		 "  chain postrouting {\n"
		 "    type nat hook postrouting priority srcnat;\n"
		 "    ip saddr %2$s oifname != \"%3$s\" masquerade\n"
		 "  }\n"
		 "  chain forward {\n"
		 "    type filter hook forward priority filter;\n"
		 "    iifname \"%3$s\" accept\n"
		 "    oifname \"%3$s\" ct state established,related accept\n"
		 "  }\n"
		 "}\n",
		 table, net, gw_ifname);
	ret = run_nft(script, err, errlen);
	if (ret)
		return ret;
	ret = ub_sysctl_switch(IP_FORWARD, 1, old_forward);
	if (ret) {
		snprintf(err, errlen, "cannot enable IPv4 forwarding: %s",
			 strerror(-ret));
		ub_nat_disable(table, -1, NULL, 0);
	}
	return ret;
}

int ub_nat_disable(const char *table, int old_forward, char *err,
		   size_t errlen)
{
	char script[128], dummy[8];
	int ret;

	snprintf(script, sizeof(script), "delete table ip %s\n", table);
	ret = run_nft(script, err ? err : dummy, err ? errlen : sizeof(dummy));
	if (old_forward >= 0)
		ub_sysctl_switch(IP_FORWARD, old_forward, NULL);
	return ret;
}
