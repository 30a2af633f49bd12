/* SPDX-License-Identifier: MIT */
/*
 * rtnetlink requests built into a caller's buffer, and the two replies we
 * read back (links and addresses). No socket, no system call: the unit
 * tests exercise all of it without privileges.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

#include "netlink_msg.h"

int ub_nl_ifname_check(const char *name)
{
	size_t n;

	if (!name || !name[0] || !strcmp(name, ".") || !strcmp(name, ".."))
		return -EINVAL;
	n = strnlen(name, UB_IFNAME_MAX + 1);
	if (n > UB_IFNAME_MAX)
		return -ENAMETOOLONG;
	/* The kernel's dev_valid_name(): ':' would read as an alias label. */
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c == '/' || c == ':' || c <= ' ' || c == 0x7f)
			return -EINVAL;
	}
	return 0;
}

static int ub_nl_addr_len__(int family)
{
	switch (family) {
	case AF_INET:
		return 4;
	case AF_INET6:
		return 16;
	default:
		return -EAFNOSUPPORT;
	}
}

/* Zeroes the whole buffer so padding never carries stale bytes. */
static struct nlmsghdr *ub_nl_msg_start__(void *buf, uint16_t type,
					  uint16_t flags)
{
	struct nlmsghdr *nlh;

	memset(buf, 0, UB_NL_MSG_SIZE);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	return nlh;
}

static void ub_nl_put_mac__(struct nlmsghdr *nlh, uint16_t type,
			    const struct ub_mac *mac)
{
	mnl_attr_put(nlh, type, sizeof(mac->b), mac->b);
}

int ub_nl_msg_veth(void *buf, const struct ub_veth_cfg *cfg)
{
	struct nlattr *linkinfo, *data, *peer;
	struct ifinfomsg *ifm;
	struct nlmsghdr *nlh;
	int ret;

	ret = ub_nl_ifname_check(cfg->name);
	if (!ret)
		ret = ub_nl_ifname_check(cfg->peer);
	if (ret)
		return ret;

	nlh = ub_nl_msg_start__(buf, RTM_NEWLINK,
				NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK);
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, cfg->name);
	if (cfg->mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, cfg->mtu);
	if (cfg->mac)
		ub_nl_put_mac__(nlh, IFLA_ADDRESS, cfg->mac);

	linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	peer = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
	/*
	 * The peer is described like a whole RTM_NEWLINK: its attributes
	 * follow an ifinfomsg of its own, which the kernel skips before
	 * parsing them. Without it the peer's name would be read as padding.
	 */
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, cfg->peer);
	/*
	 * Created directly in its namespace: the peer never shows up here,
	 * so a name clash with a host interface cannot happen and a failure
	 * cannot leave it behind on the host.
	 */
	if (cfg->peer_nsfd >= 0)
		mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)cfg->peer_nsfd);
	/* Each end has its own MTU; the peer does not inherit ours. */
	if (cfg->mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, cfg->mtu);
	if (cfg->peer_mac)
		ub_nl_put_mac__(nlh, IFLA_ADDRESS, cfg->peer_mac);
	mnl_attr_nest_end(nlh, peer);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, linkinfo);
	return (int)nlh->nlmsg_len;
}

/* A link request by name: 'type' and the ifinfomsg, then IFLA_IFNAME. */
static struct nlmsghdr *ub_nl_msg_link_named__(void *buf, uint16_t type,
					       const char *name, int *ret)
{
	struct ifinfomsg *ifm;
	struct nlmsghdr *nlh;

	*ret = ub_nl_ifname_check(name);
	if (*ret)
		return NULL;
	nlh = ub_nl_msg_start__(buf, type, NLM_F_ACK);
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	return nlh;
}

int ub_nl_msg_link_del(void *buf, const char *name)
{
	int ret;
	struct nlmsghdr *nlh = ub_nl_msg_link_named__(buf, RTM_DELLINK, name,
						      &ret);

	return nlh ? (int)nlh->nlmsg_len : ret;
}

int ub_nl_msg_link_get(void *buf, const char *name)
{
	int ret;
	struct nlmsghdr *nlh = ub_nl_msg_link_named__(buf, RTM_GETLINK, name,
						      &ret);

	if (!nlh)
		return ret;
	/* Statistics are most of a link's reply and we read none of them. */
	mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	return (int)nlh->nlmsg_len;
}

int ub_nl_msg_link_set(void *buf, int ifindex, const struct ub_link_set *set)
{
	const unsigned int known = UB_LINK_SET_UP | UB_LINK_SET_MTU |
				   UB_LINK_SET_MAC | UB_LINK_SET_NAME |
				   UB_LINK_SET_NETNS;
	struct ifinfomsg *ifm;
	struct nlmsghdr *nlh;
	int ret;

	if (ifindex <= 0 || (set->mask & ~known))
		return -EINVAL;
	if (set->mask & UB_LINK_SET_NAME) {
		ret = ub_nl_ifname_check(set->name);
		if (ret)
			return ret;
	}
	if ((set->mask & UB_LINK_SET_NETNS) && set->nsfd < 0)
		return -EBADF;

	nlh = ub_nl_msg_start__(buf, RTM_SETLINK, NLM_F_ACK);
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = ifindex;
	/* ifi_change selects the flags to touch; the others stay. */
	if (set->mask & UB_LINK_SET_UP) {
		ifm->ifi_change = IFF_UP;
		ifm->ifi_flags = set->up ? IFF_UP : 0;
	}
	if (set->mask & UB_LINK_SET_MTU)
		mnl_attr_put_u32(nlh, IFLA_MTU, set->mtu);
	if (set->mask & UB_LINK_SET_MAC)
		ub_nl_put_mac__(nlh, IFLA_ADDRESS, &set->mac);
	if (set->mask & UB_LINK_SET_NAME)
		mnl_attr_put_strz(nlh, IFLA_IFNAME, set->name);
	if (set->mask & UB_LINK_SET_NETNS)
		mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)set->nsfd);
	return (int)nlh->nlmsg_len;
}

int ub_nl_msg_addr(void *buf, uint16_t type, int ifindex,
		   const struct ub_cidr *c)
{
	struct ifaddrmsg *ifa;
	struct nlmsghdr *nlh;
	int alen;

	alen = ub_nl_addr_len__(c->family);
	if (alen < 0)
		return alen;
	if ((type != RTM_NEWADDR && type != RTM_DELADDR) || ifindex <= 0 ||
	    c->prefix > alen * 8)
		return -EINVAL;

	nlh = ub_nl_msg_start__(buf, type,
				type == RTM_NEWADDR ?
					NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK :
					NLM_F_ACK);
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = (uint8_t)c->family;
	ifa->ifa_prefixlen = c->prefix;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = (uint32_t)ifindex;
	/*
	 * IFA_LOCAL is the interface's own address, IFA_ADDRESS the other
	 * end's on a point-to-point link; on anything else both are ours.
	 */
	mnl_attr_put(nlh, IFA_LOCAL, (size_t)alen, c->addr);
	mnl_attr_put(nlh, IFA_ADDRESS, (size_t)alen, c->addr);
	/*
	 * The kernel does not derive a broadcast address; `ip addr add`
	 * neither unless told "brd +". A /31 or /32 has none (RFC 3021).
	 */
	if (type == RTM_NEWADDR && c->family == AF_INET && c->prefix < 31) {
		uint8_t brd[4];

		for (int i = 0; i < 4; i++) {
			int bits = c->prefix - i * 8;
			uint8_t mask = 0;

			if (bits >= 8)
				mask = 0xff;
			else if (bits > 0)
				mask = (uint8_t)(0xff << (8 - bits));
			brd[i] = c->addr[i] | (uint8_t)~mask;
		}
		mnl_attr_put(nlh, IFA_BROADCAST, sizeof(brd), brd);
	}
	return (int)nlh->nlmsg_len;
}

int ub_nl_msg_addr_dump(void *buf, int family)
{
	struct ifaddrmsg *ifa;
	struct nlmsghdr *nlh;

	if (family != AF_UNSPEC && ub_nl_addr_len__(family) < 0)
		return -EAFNOSUPPORT;
	/* A dump ends with NLMSG_DONE, which is its acknowledgement. */
	nlh = ub_nl_msg_start__(buf, RTM_GETADDR, NLM_F_DUMP);
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = (uint8_t)family;
	return (int)nlh->nlmsg_len;
}

int ub_nl_msg_route(void *buf, const struct ub_route *rt, int oif)
{
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	int alen;

	alen = ub_nl_addr_len__(rt->dst.family);
	if (alen < 0)
		return alen;
	if (oif < 0 || (rt->has_gw && rt->gw.family != rt->dst.family) ||
	    (!rt->has_gw && !oif) || rt->dst.prefix > alen * 8)
		return -EINVAL;
	nlh = ub_nl_msg_start__(buf, RTM_NEWROUTE,
				NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK);
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = (uint8_t)rt->dst.family;
	rtm->rtm_dst_len = rt->dst.prefix;
	rtm->rtm_table = RT_TABLE_MAIN;
	/* What `ip route add` uses: a route an administrator configured. */
	rtm->rtm_protocol = RTPROT_BOOT;
	/* Without a gateway the destination is on the link itself. */
	rtm->rtm_scope = rt->has_gw ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
	rtm->rtm_type = RTN_UNICAST;
	/* No RTA_DST for a default route (prefix 0), as ip sends it. */
	if (rt->dst.prefix)
		mnl_attr_put(nlh, RTA_DST, (size_t)alen, rt->dst.addr);
	if (rt->has_gw)
		mnl_attr_put(nlh, RTA_GATEWAY, (size_t)alen, rt->gw.addr);
	if (oif)
		mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)oif);
	return (int)nlh->nlmsg_len;
}

/* ---- replies ---- */

struct ub_nl_attrs {
	const struct nlattr **tb;
	unsigned int max;
};

/* Indexes a message's attributes by type; ones we do not know are skipped. */
static int ub_nl_attr_cb__(const struct nlattr *attr, void *data)
{
	struct ub_nl_attrs *a = data;
	uint16_t type = mnl_attr_get_type(attr);

	if (mnl_attr_type_valid(attr, (uint16_t)a->max) > 0)
		a->tb[type] = attr;
	return MNL_CB_OK;
}

int ub_nl_parse_link(const struct nlmsghdr *nlh, struct ub_link_info *out)
{
	const struct nlattr *tb[IFLA_MAX + 1] = { 0 };
	struct ub_nl_attrs a = { tb, IFLA_MAX };
	const struct ifinfomsg *ifm;
	struct ub_link_info li = { 0 };

	if (nlh->nlmsg_type != RTM_NEWLINK ||
	    nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifm)))
		return -EINVAL;
	ifm = mnl_nlmsg_get_payload(nlh);
	if (mnl_attr_parse(nlh, sizeof(*ifm), ub_nl_attr_cb__, &a) < 0)
		return -EINVAL;
	li.ifindex = ifm->ifi_index;
	li.flags = ifm->ifi_flags;
	li.type = ifm->ifi_type;
	if (!tb[IFLA_IFNAME] ||
	    mnl_attr_validate(tb[IFLA_IFNAME], MNL_TYPE_NUL_STRING) < 0 ||
	    mnl_attr_get_payload_len(tb[IFLA_IFNAME]) > sizeof(li.name))
		return -EINVAL;
	strcpy(li.name, mnl_attr_get_str(tb[IFLA_IFNAME]));
	if (tb[IFLA_MTU]) {
		if (mnl_attr_validate(tb[IFLA_MTU], MNL_TYPE_U32) < 0)
			return -EINVAL;
		li.mtu = mnl_attr_get_u32(tb[IFLA_MTU]);
	}
	if (tb[IFLA_MASTER]) {
		if (mnl_attr_validate(tb[IFLA_MASTER], MNL_TYPE_U32) < 0)
			return -EINVAL;
		li.master = (int)mnl_attr_get_u32(tb[IFLA_MASTER]);
	}
	/* Only an Ethernet address is ours to report (not a tunnel's IP). */
	if (tb[IFLA_ADDRESS] &&
	    mnl_attr_get_payload_len(tb[IFLA_ADDRESS]) == UB_ETH_ALEN)
		memcpy(li.mac.b, mnl_attr_get_payload(tb[IFLA_ADDRESS]),
		       UB_ETH_ALEN);
	*out = li;
	return 0;
}

int ub_nl_parse_addr(const struct nlmsghdr *nlh, int *ifindex,
		     struct ub_cidr *out)
{
	const struct nlattr *tb[IFA_MAX + 1] = { 0 };
	struct ub_nl_attrs a = { tb, IFA_MAX };
	const struct ifaddrmsg *ifa;
	const struct nlattr *addr;
	struct ub_cidr c = { 0 };
	int alen;

	if (nlh->nlmsg_type != RTM_NEWADDR ||
	    nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifa)))
		return -EINVAL;
	ifa = mnl_nlmsg_get_payload(nlh);
	alen = ub_nl_addr_len__(ifa->ifa_family);
	if (alen < 0)
		return alen;
	if (mnl_attr_parse(nlh, sizeof(*ifa), ub_nl_attr_cb__, &a) < 0)
		return -EINVAL;
	/* Our own address: IFA_LOCAL when the kernel gives one (see above). */
	addr = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
	if (!addr || mnl_attr_get_payload_len(addr) != (uint16_t)alen ||
	    ifa->ifa_prefixlen > alen * 8)
		return -EINVAL;
	c.family = ifa->ifa_family;
	c.prefix = ifa->ifa_prefixlen;
	memcpy(c.addr, mnl_attr_get_payload(addr), (size_t)alen);
	*ifindex = (int)ifa->ifa_index;
	*out = c;
	return 0;
}
