/* SPDX-License-Identifier: MIT */
/*
 * Configuring the system over rtnetlink (libmnl): network namespaces made
 * the way `ip netns add` makes them, veth pairs, link state, addresses and
 * default routes, plus the CIDR and address parsers the ubctl options need.
 *
 * A handle (struct ub_nl) is a netlink socket bound in one network
 * namespace: the caller's (ub_nl_open) or a named one (ub_nl_open_netns).
 * Every later request through it acts in that namespace, whatever
 * namespace the calling thread is in by then. A handle is not thread-safe;
 * use one per thread.
 *
 * Every request asks for an acknowledgement and checks it. When the kernel
 * explains a refusal (netlink extended ACK), the text is kept in the handle
 * and ub_nl_errmsg() returns it; the caller words the message around it.
 * Nothing here prints.
 *
 * Functions return 0 (or a count or an fd) on success and -errno on
 * failure. A link that does not exist gives -ENODEV, a namespace that does
 * not exist -ENOENT, a name already taken -EEXIST.
 */
#ifndef UBRIDGE_NETLINK_H
#define UBRIDGE_NETLINK_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <ubridge/eth.h>

/* Where namespaces are bound, shared with iproute2's `ip netns`. */
#define UB_NETNS_RUNDIR "/run/netns"
/* Longest namespace name: a file name under UB_NETNS_RUNDIR. */
#define UB_NETNS_NAME_MAX 255
/* Longest interface name, without the NUL (IFNAMSIZ - 1). */
#define UB_IFNAME_MAX 15
/* Room for the kernel's extended error message, NUL included. */
#define UB_NL_ERRMSG_MAX 256
/* "ffff:...:255.255.255.255/128" plus the NUL. */
#define UB_CIDR_STRLEN 50

/* ---- addresses ---- */

/*
 * An IPv4 or IPv6 address with a prefix length. For a plain address (no
 * prefix given) the prefix is the full length, 32 or 128.
 */
struct ub_cidr {
	int family;		/* AF_INET or AF_INET6 */
	uint8_t prefix;		/* 0..32 or 0..128 */
	uint8_t addr[16];	/* network order; AF_INET uses the first 4 */
};

/*
 * Parses "ADDR/LEN" strictly: a dotted quad (four decimal octets, no
 * leading zeros) or an IPv6 address, then '/' and a decimal prefix length
 * in range, nothing before or after. Host bits may be set (an interface
 * address, not a network). Returns 0 or -EINVAL.
 */
int ub_cidr_parse(const char *s, struct ub_cidr *out);

/* Parses a plain address ("ADDR", no prefix), e.g. a gateway. 0 or -EINVAL. */
int ub_addr_parse(const char *s, struct ub_cidr *out);

/*
 * Writes "ADDR/LEN" (or only "ADDR" when 'with_prefix' is false) into 'buf'.
 * Returns 0, -EINVAL (bad family) or -ENOSPC.
 */
int ub_cidr_fmt(const struct ub_cidr *c, bool with_prefix, char *buf,
		size_t len);

/* ---- names ---- */

/*
 * Checks an interface name as the kernel will: 1 to UB_IFNAME_MAX
 * characters, no '/', ':' or white space, not "." or "..".
 * Returns 0, -EINVAL or -ENAMETOOLONG.
 */
int ub_nl_ifname_check(const char *name);

/*
 * Checks a namespace name as `ip netns` does: not empty, not "." or "..",
 * no '/', at most UB_NETNS_NAME_MAX characters.
 * Returns 0, -EINVAL or -ENAMETOOLONG.
 */
int ub_netns_name_check(const char *name);

/* ---- network namespaces (files under UB_NETNS_RUNDIR) ---- */

/*
 * Creates a new network namespace and binds it to UB_NETNS_RUNDIR/NAME, so
 * that `ip netns list|exec|del` see it. The calling thread's namespace is
 * not changed. Returns 0, -EEXIST when the name is taken, or -errno; on
 * failure nothing is left behind.
 */
int ub_netns_add(const char *name);

/*
 * Unbinds and removes UB_NETNS_RUNDIR/NAME (ours or anybody's, like
 * `ip netns del`). The namespace itself goes away with its last user.
 * Returns 0, -ENOENT or -errno.
 */
int ub_netns_del(const char *name);

/*
 * Names the network namespace behind 'nsfd' (any open namespace file):
 * its name under UB_NETNS_RUNDIR when one is bound to it, otherwise
 * "net:[INODE]" as /proc shows it. Returns 0, -EINVAL (not a network
 * namespace) or -errno.
 */
int ub_netns_identify(int nsfd, char *name, size_t len);

/* Whether 'nsfd' and the namespace file at 'path' (e.g.
 * "/proc/self/ns/net") are the same namespace: 1, 0 or -errno. */
int ub_netns_same(int nsfd, const char *path);

/* True when UB_NETNS_RUNDIR/NAME is a bound network namespace. */
bool ub_netns_exists(const char *name);

/*
 * Opens the namespace NAME, or the one process 'pid' is in. Returns a
 * close-on-exec fd for setns() or IFLA_NET_NS_FD, -ENOENT (no such name),
 * -ESRCH (no such process), -EINVAL (the file is not a network namespace)
 * or -errno.
 */
int ub_netns_open(const char *name);
int ub_netns_open_pid(pid_t pid);

/* ---- the netlink handle ---- */

struct ub_nl;

/* A handle in the caller's current network namespace. */
int ub_nl_open(struct ub_nl **out);

/*
 * A handle in the namespace NAME, or in the namespace behind 'nsfd' (from
 * ub_netns_open*; the caller keeps and closes it). The calling thread
 * enters the namespace only to create the socket and is always back in its
 * own on return; if it cannot get back, the call fails with -ENOTRECOVERABLE
 * and the thread should not be used for netlink any more.
 */
int ub_nl_open_netns(const char *name, struct ub_nl **out);
int ub_nl_open_nsfd(int nsfd, struct ub_nl **out);

/* Accepts NULL. */
void ub_nl_close(struct ub_nl *nl);

/*
 * The kernel's explanation of why the last request failed (e.g. "Invalid
 * prefix for given prefix length"), or "" when it gave none. Valid until
 * the next request on 'nl'.
 */
const char *ub_nl_errmsg(const struct ub_nl *nl);

/* strerror(-err), followed by the kernel's extended-ack text of the last
 * request in parentheses when there is one ('nl' may be NULL). Returns buf. */
const char *ub_nl_strerror(const struct ub_nl *nl, int err, char *buf,
			   size_t len);

/* Writes "STEP: why" into 'err' (ub_nl_strerror's why) and returns 'ret'. */
int ub_nl_step_err(char *err, size_t errlen, const char *step, int ret,
		   const struct ub_nl *nl);

/* ---- links ---- */

struct ub_link_info {
	int ifindex;
	unsigned int flags;	/* IFF_UP, IFF_RUNNING, ... */
	uint16_t type;		/* ARPHRD_ETHER, ARPHRD_LOOPBACK, ... */
	int master;		/* the bridge, bond, VRF ... it is enslaved
				 * to (IFLA_MASTER); 0: none */
	uint32_t mtu;
	struct ub_mac mac;	/* all zero: no Ethernet address */
	char name[IFNAMSIZ];
};

/* Reads back link NAME. Returns 0, -ENODEV or -errno. */
int ub_nl_link_get(struct ub_nl *nl, const char *name,
		   struct ub_link_info *out);

struct ub_veth_cfg {
	const char *name;		/* this end, in the handle's netns */
	const char *peer;		/* the other end */
	int peer_nsfd;			/* the peer's namespace; -1: this one */
	uint32_t mtu;			/* both ends; 0: the kernel's default */
	const struct ub_mac *mac;	/* NULL: random */
	const struct ub_mac *peer_mac;	/* NULL: random */
};

/*
 * Creates a veth pair, the peer directly inside its namespace (never
 * visible here first). Both ends start down. Returns 0, -EEXIST when
 * either name is taken in its namespace, -EINVAL or -errno.
 */
int ub_nl_veth_add(struct ub_nl *nl, const struct ub_veth_cfg *cfg);

/* Deletes link NAME (for a veth, both ends). Returns 0, -ENODEV or -errno. */
int ub_nl_link_del(struct ub_nl *nl, const char *name);

/* What ub_nl_link_set() changes: any combination of these. */
enum {
	UB_LINK_SET_UP = 1u << 0,	/* 'up': administrative state */
	UB_LINK_SET_MTU = 1u << 1,	/* 'mtu' */
	UB_LINK_SET_MAC = 1u << 2,	/* 'mac' */
	UB_LINK_SET_NAME = 1u << 3,	/* 'name': rename */
	UB_LINK_SET_NETNS = 1u << 4,	/* 'nsfd': move to that namespace */
};

struct ub_link_set {
	unsigned int mask;	/* UB_LINK_SET_* */
	bool up;
	uint32_t mtu;
	struct ub_mac mac;
	const char *name;
	int nsfd;
};

/*
 * Changes link NAME as 'set' says, in one request. (Kernels before live
 * renames were allowed refuse to rename a link that is up: -EBUSY.)
 * Returns 0, -ENODEV, -EEXIST (new name taken), -EINVAL or -errno.
 */
int ub_nl_link_set(struct ub_nl *nl, const char *name,
		   const struct ub_link_set *set);

/* Shorthand for ub_nl_link_set() with UB_LINK_SET_UP. */
int ub_nl_link_up(struct ub_nl *nl, const char *name, bool up);

/* ---- addresses and routes ---- */

/*
 * Adds or removes address 'c' on link NAME. An IPv4 address also gets the
 * subnet's broadcast address, as `ip addr add ... brd +` would.
 * Returns 0, -EEXIST (already there), -EADDRNOTAVAIL (del: not there),
 * -ENODEV or -errno.
 */
int ub_nl_addr_add(struct ub_nl *nl, const char *name, const struct ub_cidr *c);
int ub_nl_addr_del(struct ub_nl *nl, const char *name, const struct ub_cidr *c);

/*
 * Lists the IPv4 and IPv6 addresses of link NAME into out[0..max-1].
 * Returns how many the link has (which may exceed 'max': only 'max' were
 * written), -ENODEV or -errno.
 */
int ub_nl_addr_list(struct ub_nl *nl, const char *name, struct ub_cidr *out,
		    size_t max);

/* A route: to 'dst' (prefix 0: the default route) via 'gw', or without a
 * gateway straight out of the link (scope link). */
struct ub_route {
	struct ub_cidr dst;
	bool has_gw;
	struct ub_cidr gw;	/* the family of 'dst' */
};

/*
 * Adds route 'rt' to the main table, through link 'oif' if not NULL
 * (required without a gateway, and for a link-local IPv6 gateway).
 * Returns 0, -EEXIST (the route exists), -ENETUNREACH (the gateway is on
 * no attached subnet), -EINVAL or -errno.
 */
int ub_nl_route_add(struct ub_nl *nl, const struct ub_route *rt,
		    const char *oif);

/*
 * Sets up link IFNAME inside the namespace behind 'nsfd' the way a
 * container's interface is: loopback up, the addresses, IFNAME up, then the
 * routes through it, in that order. Stops at the first step that fails and
 * writes which one and why (the kernel's words included) into 'err';
 * undoes nothing: deleting the link removes what was done on it.
 * Returns 0 or -errno.
 */
int ub_nl_iface_setup(int nsfd, const char *ifname, const struct ub_cidr *addrs,
		      size_t naddrs, const struct ub_route *routes,
		      size_t nroutes, char *err, size_t errlen);

/* ---- link events ---- */

/*
 * A handle subscribed to link changes (RTNLGRP_LINK) of the current
 * namespace; read its fd (ub_nl_fd()) and hand what was read to
 * ub_nl_monitor_parse(). Use it for nothing else.
 */
int ub_nl_monitor_open(struct ub_nl **out);
int ub_nl_fd(const struct ub_nl *nl);

/*
 * Calls 'fn' for each link message in buf[0..len): gone = false with the
 * link's state (RTM_NEWLINK: a change of flags, name, MTU ...), gone = true
 * with only li->ifindex set (RTM_DELLINK: deleted, or moved to another
 * namespace). Returns how many it reported.
 */
int ub_nl_monitor_parse(const void *buf, size_t len,
			void (*fn)(bool gone, const struct ub_link_info *li,
				   void *arg),
			void *arg);

/* ---- sysctl switches ---- */

/*
 * Reads the 0/1 switch at 'path' (under /proc/sys) into '*old' (when not
 * NULL) and, when 'set' >= 0 and the switch differs, writes it. A switch
 * already right is not written: that takes root's write access to
 * /proc/sys, which a daemon running as its own user does not have.
 * Returns 0 or -errno.
 */
int ub_sysctl_switch(const char *path, int set, int *old);

/* ---- NAT (nftables, through libnftables) ---- */

/* The nftables table of bridge 'bridge': "ubridge_NAME". */
int ub_nat_table_name(const char *bridge, char *buf, size_t len);

/*
 * Masquerades IPv4 traffic from 'subnet' (host bits ignored) leaving
 * through any interface but 'gw_ifname', accepts forwarding from and back
 * to it, all in table 'table' (replaced if it exists), and turns on IPv4
 * forwarding, saving its former state (0 or 1) in '*old_forward'.
 * Returns 0 or -errno with a one-line reason in 'err'.
 */
int ub_nat_enable(const char *table, const struct ub_cidr *subnet,
		  const char *gw_ifname, int *old_forward, char *err,
		  size_t errlen);

/* Deletes table 'table' and, when old_forward >= 0, puts IPv4 forwarding
 * back to it. 'err' may be NULL. */
int ub_nat_disable(const char *table, int old_forward, char *err,
		   size_t errlen);

#endif
