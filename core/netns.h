/* SPDX-License-Identifier: MIT */
/* "netns add|attach|del|show": a namespace's veth, addresses, route and
 * port, made and undone as one. */
#ifndef UB_CORE_NETNS_H
#define UB_CORE_NETNS_H

#include <stdbool.h>
#include <stddef.h>

#include <ubridge/ctl.h>
#include <ubridge/eth.h>

struct ub_vlan_port;

#define UB_NS_ADDRS_MAX 8

struct ub_bridge;
struct ub_port;

struct ub_ns_req {
	const char *name;   /* namespace name, or NULL with 'nsfd' */
	int pid;            /* 'nsfd' is this process's namespace; or 0 */
	int nsfd;           /* without 'name': the namespace the client
			     * opened (a path's or process 'pid''s) and
			     * passed; stays the caller's */
	const char *container; /* the container the port is for; or NULL */
	bool create;        /* add: create the namespace if it is missing */
	const char *ifname; /* the peer's name inside; NULL: eth0 */
	uint32_t mtu;       /* 0: the kernel's default */
	bool has_mac;
	struct ub_mac mac;  /* the peer's MAC */
	unsigned naddrs;
	const char *addrs[UB_NS_ADDRS_MAX];
	const char *gw;     /* NULL: no default route */
	/* The port's VLANs (malloc'd; the port takes it on success, in the
	 * step that attaches it, before any frame); NULL: the default. */
	struct ub_vlan_port *vlan;
	char port[IFNAMSIZ]; /* out: the host end, attached */
};

/* Builds what 'req' asks and attaches it; on failure undoes every step
 * done, and writes which step failed and why into 'err'. */
int ub_ns_attach(struct ub_bridge *br, struct ub_ns_req *req, char *err,
		 size_t errlen);
/* Detaches the port of namespace 'name', or the ports of 'container'
 * (only the one whose peer is 'ifname' unless NULL), and removes what
 * add|attach made. */
int ub_ns_del(struct ub_bridge *br, const char *name, const char *container,
	      const char *ifname, char *err, size_t errlen);
/* Records on port 'p' that it is namespace 'name''s veth (of inode 'ino';
 * 0: not known, from the state file), for container 'container' if not
 * NULL. */
void ub_ns_adopt(struct ub_bridge *br, struct ub_port *p, const char *name,
		 const char *peer, bool made, const char *container,
		 uint64_t ino);
/* One record per namespace on the bridge. */
void ub_ns_show(struct ub_bridge *br, struct ub_ctl_reply *r);

#endif
