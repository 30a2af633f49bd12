/* SPDX-License-Identifier: MIT */
/*
 * Namespaces on the bridge: "ubctl netns add" does in one step what a
 * tutorial does with a dozen ip commands (namespace, veth pair with its
 * peer inside, loopback up, addresses, link up, default route, host end up,
 * attach), and undoes every step already done when a later one fails.
 * The netlink work is control/'s; this file orders the steps and keeps the
 * record of what it made, on the port, so that "netns del" removes exactly
 * that.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ubridge/netlink.h>

#include "bridge_private.h"
#include "log.h"
#include "netns.h"
#include "port.h"
#include "worker.h"

/*
 * The host end's name: "veth-NAME" when that fits in an interface name and
 * NAME has only the characters interface names like; otherwise "veth-" and
 * a cut of NAME with a hash of the whole, so different names stay apart.
 */
static void host_name(const char *ns, char out[IFNAMSIZ])
{
	uint32_t h = 2166136261u;
	bool plain = strlen(ns) <= IFNAMSIZ - 1 - 5;
	char cut[6] = "";

	for (const char *p = ns; *p; p++) {
		h = (h ^ (uint8_t)*p) * 16777619u;
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "0123456789_.-", *p))
			plain = false;
	}
	if (plain) {
		snprintf(out, IFNAMSIZ, "veth-%.10s", ns);
		return;
	}
	for (int i = 0; ns[i] && i < 5; i++)
		cut[i] = isalnum((unsigned char)ns[i]) ? ns[i] : '_';
	snprintf(out, IFNAMSIZ, "veth-%s-%04x", cut, (h ^ h >> 16) & 0xffff);
}

/* A container id as CNI gives it: letters, digits, '_', '.', '-'. */
#define UB_NS_CONTAINER_MAX 128

static bool container_ok(const char *id)
{
	size_t n = strlen(id);

	return n && n <= UB_NS_CONTAINER_MAX &&
	       strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			  "0123456789_.-") == n;
}

/* The port of 'container' whose peer is 'ifname' (NULL: any of its). */
static struct ub_port *container_port(struct ub_bridge *br,
				      const char *container, const char *ifname)
{
	for (uint32_t i = 0; i < br->ports.n; i++) {
		struct ub_port *p = ub_port_nth(&br->ports, i);

		if (p->container && !strcmp(p->container, container) &&
		    (!ifname || !strcmp(p->peer, ifname)))
			return p;
	}
	return NULL;
}

/* Checks everything that can be checked before the first change. */
static int check_req(struct ub_bridge *br, const struct ub_ns_req *req,
		     const char *ifname, struct ub_cidr *addrs,
		     struct ub_route *gw, char *err, size_t errlen)
{
	int ret;

	if (req->name && (ret = ub_netns_name_check(req->name))) {
		snprintf(err, errlen, "invalid namespace name: 1 to %d "
			 "characters, no '/', not \".\" or \"..\"",
			 UB_NETNS_NAME_MAX);
		return ret;
	}
	if (req->ifname && (ret = ub_nl_ifname_check(req->ifname))) {
		snprintf(err, errlen, "invalid interface name \"%s\"%s",
			 req->ifname, ret == -ENAMETOOLONG ?
			 " (at most 15 characters)" : "");
		return ret;
	}
	for (unsigned i = 0; i < req->naddrs; i++) {
		if (ub_cidr_parse(req->addrs[i], &addrs[i])) {
			snprintf(err, errlen, "invalid address \"%s\" "
				 "(expected e.g. 172.16.1.1/16 or fd00::1/64)",
				 req->addrs[i]);
			return -EINVAL;
		}
	}
	if (req->gw && ub_addr_parse(req->gw, &gw->gw)) {
		snprintf(err, errlen, "invalid gateway \"%s\" (expected an "
			 "address without prefix)", req->gw);
		return -EINVAL;
	}
	/* The default route of the gateway's family. */
	gw->dst = (struct ub_cidr){ .family = gw->gw.family };
	if (req->mtu && (req->mtu < 68 || req->mtu > 65535)) {
		snprintf(err, errlen, "invalid MTU %u (68 to 65535)", req->mtu);
		return -EINVAL;
	}
	if (req->container) {
		const struct ub_port *p;

		if (!container_ok(req->container)) {
			snprintf(err, errlen, "invalid container id \"%.40s\" "
				 "(1 to %d letters, digits, '_', '.' or '-')",
				 req->container, UB_NS_CONTAINER_MAX);
			return -EINVAL;
		}
		/* A container may have several interfaces on the bridge. */
		p = container_port(br, req->container, ifname);
		if (p) {
			snprintf(err, errlen, "container %.40s has %s on bridge "
				 "%s already (port %s)", req->container, ifname,
				 br->name, p->name);
			return -EEXIST;
		}
		return 0;
	}
	for (uint32_t i = 0; i < br->ports.n; i++) {
		const struct ub_port *p = ub_port_nth(&br->ports, i);

		if (p->netns && req->name && !strcmp(p->netns, req->name)) {
			snprintf(err, errlen, "namespace %s is on bridge %s "
				 "already (port %s)", req->name, br->name,
				 p->name);
			return -EEXIST;
		}
	}
	return 0;
}

/*
 * The namespace to attach to, open: the one the client passed (a path's,
 * or process PID's), or NAME's (made first for add). Its label for the
 * port goes in 'label'.
 */
static int ns_open(const struct ub_ns_req *req, bool *created, char *label,
		   size_t len, char *err, size_t errlen)
{
	char proc[48];
	int nsfd, ret;

	if (!req->name) {
		ret = ub_netns_identify(req->nsfd, label, len);
		if (ret == -EINVAL || ret == -EBADF)
			snprintf(err, errlen, "the file passed is not a network "
				 "namespace");
		else if (ret)
			ub_nl_step_err(err, errlen, "the namespace passed", ret,
				       NULL);
		if (ret)
			return ret;
		/* Ours: the veth's two ends would both be here, and a client
		 * would configure the host's addresses and routes. */
		if (ub_netns_same(req->nsfd, "/proc/self/ns/net") != 0) {
			snprintf(err, errlen, "the namespace passed is the "
				 "bridge's own: attach a namespace of its own");
			return -EINVAL;
		}
		/* The label names process PID: it must be its namespace. */
		snprintf(proc, sizeof(proc), "/proc/%d/ns/net", req->pid);
		if (req->pid && ub_netns_same(req->nsfd, proc) != 1) {
			snprintf(err, errlen, "the namespace passed is not "
				 "process %d's", req->pid);
			return -EINVAL;
		}
		if (req->pid)
			snprintf(label, len, "pid:%d", req->pid);
		nsfd = fcntl(req->nsfd, F_DUPFD_CLOEXEC, 0);
		return nsfd >= 0 ? nsfd : ub_nl_step_err(err, errlen,
			"keep the namespace passed", -errno, NULL);
	}
	snprintf(label, len, "%s", req->name);
	if (req->create && !ub_netns_exists(req->name)) {
		ret = ub_netns_add(req->name);
		if (ret)
			return ub_nl_step_err(err, errlen, "create the namespace "
					      "in " UB_NETNS_RUNDIR, ret, NULL);
		*created = true;
	}
	nsfd = ub_netns_open(req->name);
	return nsfd >= 0 ? nsfd : ub_nl_step_err(err, errlen,
		"open the namespace", nsfd, NULL);
}

int ub_ns_attach(struct ub_bridge *br, struct ub_ns_req *req, char *err,
		 size_t errlen)
{
	const char *ifname = req->ifname ? req->ifname : "eth0";
	struct ub_cidr addrs[UB_NS_ADDRS_MAX];
	struct ub_route gw = { .has_gw = true };
	struct ub_veth_cfg veth = { 0 };
	char host[IFNAMSIZ], label[UB_NETNS_NAME_MAX + 1], key[256], perr[200];
	struct ub_link_info li;
	struct ub_nl *nl = NULL;
	bool created = false, veth_made = false;
	struct stat st;
	int nsfd = -1, ret;

	ret = check_req(br, req, ifname, addrs, &gw, err, errlen);
	if (ret)
		return ret;
	/* Netlink and namespaces take their time: without the lock (see
	 * worker.h), up to the attach. */
	ub_bridge_unlock(br);

	/* Step 1: the namespace, made unless it exists (add only). */
	nsfd = ns_open(req, &created, label, sizeof(label), err, errlen);
	if (nsfd < 0) {
		ret = nsfd;
		goto undo;
	}
	if (fstat(nsfd, &st) < 0) {
		ret = ub_nl_step_err(err, errlen, "the namespace", -errno, NULL);
		goto undo;
	}
	/* A container's port is named after it and its interface. */
	if (req->container)
		snprintf(key, sizeof(key), "%s/%s", req->container, ifname);
	host_name(req->container ? key : req->pid ? label + 4 : label, host);

	/* Step 2: the veth pair, its peer made right inside. */
	ret = ub_nl_open(&nl);
	if (ret) {
		ub_nl_step_err(err, errlen, "netlink", ret, NULL);
		goto undo;
	}
	if (!ub_nl_link_get(nl, host, &li)) {
		ret = -EEXIST;
		snprintf(err, errlen, "create the veth: interface %s exists "
			 "already", host);
		goto undo;
	}
	veth.name = host;
	veth.peer = ifname;
	veth.peer_nsfd = nsfd;
	veth.mtu = req->mtu;
	veth.peer_mac = req->has_mac ? &req->mac : NULL;
	ret = ub_nl_veth_add(nl, &veth);
	if (ret) {
		ub_nl_step_err(err, errlen, "create the veth", ret, nl);
		goto undo;
	}
	veth_made = true;

	/* Steps 3-6 inside, then the host end up and attached. */
	ret = ub_nl_iface_setup(nsfd, ifname, addrs, req->naddrs, &gw,
				req->gw ? 1 : 0, err, errlen);
	if (ret)
		goto undo;
	if ((ret = ub_nl_link_up(nl, host, true))) {
		ub_nl_step_err(err, errlen, "host end up", ret, nl);
		goto undo;
	}
	ub_bridge_lock(br);
	ret = ub_port_open(br, host, br->packet_ops, NULL, perr, sizeof(perr));
	if (!ret) {
		struct ub_port *p = ub_port_find(&br->ports, host);

		ub_ns_adopt(br, p, label, ifname, created, req->container,
			    st.st_ino);
		/* Under the same lock: no frame of it meets the default. */
		p->vlan = req->vlan;
		req->vlan = NULL;
	}
	ub_bridge_unlock(br);
	if (ret) {
		snprintf(err, errlen, "attach: %s", perr);
		goto undo;
	}
	goto out;

undo:
	/* Deleting the host end deletes its peer, and with it everything
	 * configured on the peer. */
	if (veth_made)
		ub_nl_link_del(nl, host);
	if (created)
		ub_netns_del(req->name);
out:
	ub_nl_close(nl);
	if (nsfd >= 0)
		close(nsfd);
	if (!ret)
		snprintf(req->port, sizeof(req->port), "%s", host);
	ub_bridge_lock(br);
	return ret;
}

void ub_ns_adopt(struct ub_bridge *br, struct ub_port *p, const char *name,
		 const char *peer, bool made, const char *container,
		 uint64_t ino)
{
	p->netns_ino = ino;
	free(p->netns);
	p->netns = strdup(name);
	free(p->container);
	p->container = container ? strdup(container) : NULL;
	snprintf(p->peer, sizeof(p->peer), "%s", peer);
	p->netns_created = made;
	ub_log(UB_LOG_INFO, "%s: namespace %s%s on port %s%s%.12s", br->name,
	       p->netns ? p->netns : "?", made ? " (made)" : "", p->name,
	       container ? ", container " : "", container ? container : "");
}

static struct ub_port *ns_port(struct ub_bridge *br, const char *name)
{
	for (uint32_t i = 0; i < br->ports.n; i++) {
		struct ub_port *p = ub_port_nth(&br->ports, i);

		if (p->netns && !strcmp(p->netns, name))
			return p;
	}
	return NULL;
}

/* Detaches port 'p' and deletes its veth (and namespace, if made). */
static int ns_port_del(struct ub_bridge *br, struct ub_port *p, char *err,
		       size_t errlen)
{
	char host[IFNAMSIZ], name[UB_NETNS_NAME_MAX + 1];
	bool created;
	struct ub_nl *nl;
	int ret;

	snprintf(host, sizeof(host), "%s", p->name);
	snprintf(name, sizeof(name), "%s", p->netns);
	created = p->netns_created;
	ub_port_del(br, p);
	ub_bridge_unlock(br);
	ret = ub_nl_open(&nl);
	if (!ret) {
		ret = ub_nl_link_del(nl, host);
		ub_nl_close(nl);
	}
	/* Already gone (with its namespace, say) is what we wanted. */
	if (ret && ret != -ENODEV)
		snprintf(err, errlen, "delete %s: %s", host, strerror(-ret));
	else if (created && (ret = ub_netns_del(name)) && ret != -ENOENT)
		snprintf(err, errlen, "delete namespace %s: %s", name,
			 strerror(-ret));
	else
		ret = 0;
	ub_bridge_lock(br);
	return ret;
}

int ub_ns_del(struct ub_bridge *br, const char *name, const char *container,
	      const char *ifname, char *err, size_t errlen)
{
	struct ub_port *p;
	int ret = 0;

	if (!container) {
		p = ns_port(br, name);
		if (!p) {
			snprintf(err, errlen, "no namespace %s on bridge %s "
				 "(see \"ubctl netns show\")", name, br->name);
			return -ENOENT;
		}
		return ns_port_del(br, p, err, errlen);
	}
	if (!container_port(br, container, ifname)) {
		snprintf(err, errlen, "no port of container %.40s%s%s on bridge "
			 "%s (see \"ubctl netns show\")", container,
			 ifname ? " for " : "", ifname ? ifname : "", br->name);
		return -ENOENT;
	}
	/* Found again each time: the lock is let go while one is deleted. */
	while (!ret && (p = container_port(br, container, ifname)))
		ret = ns_port_del(br, p, err, errlen);
	return ret;
}

/* "a,b,c": the peer's addresses, read live from inside. */
static void peer_state(const struct ub_port *p, char *mac, char *addrs,
		       size_t len)
{
	struct ub_cidr list[UB_NS_ADDRS_MAX * 2];
	struct ub_link_info li;
	bool pid = !strncmp(p->netns, "pid:", 4);
	struct ub_nl *nl = NULL;
	size_t used = 0;
	struct stat st;
	int nsfd, n;

	snprintf(mac, UB_MAC_STRLEN, "-");
	snprintf(addrs, len, "-");
	/* Only the namespace attached: a name may be bound to another one
	 * by now, a pid be another process's (not known after a restart). */
	if (pid && !p->netns_ino)
		return;
	nsfd = pid ? ub_netns_open_pid((pid_t)atoi(p->netns + 4)) :
		     ub_netns_open(p->netns);
	if (nsfd < 0)
		return;
	if ((p->netns_ino && (fstat(nsfd, &st) < 0 ||
			      st.st_ino != p->netns_ino)) ||
	    ub_nl_open_nsfd(nsfd, &nl))
		goto out;
	if (!ub_nl_link_get(nl, p->peer, &li))
		ub_mac_fmt(&li.mac, mac);
	n = ub_nl_addr_list(nl, p->peer, list, UB_ARRAY_SIZE(list));
	for (int i = 0; i < n && i < (int)UB_ARRAY_SIZE(list); i++) {
		char a[UB_CIDR_STRLEN];

		ub_cidr_fmt(&list[i], true, a, sizeof(a));
		used += (size_t)snprintf(addrs + used, len - used, "%s%s",
					 i ? "," : "", a);
		if (used >= len)
			break;
	}
out:
	ub_nl_close(nl);
	close(nsfd);
}

void ub_ns_show(struct ub_bridge *br, struct ub_ctl_reply *r)
{
	for (uint32_t i = 0; i < br->ports.n; i++) {
		const struct ub_port *p = ub_port_nth(&br->ports, i);
		char mac[UB_MAC_STRLEN], addrs[512], name[800];

		if (!p->netns)
			continue;
		/* Read in the namespace, without the lock: the port and its
		 * strings stay, only the control thread changes them. */
		ub_bridge_unlock(br);
		peer_state(p, mac, addrs, sizeof(addrs));
		ub_bridge_lock(br);
		ub_ctl_word_encode(p->netns, name, sizeof(name));
		ub_ctl_reply_record(r, "name=%s port=%s ifname=%s mac=%s "
				    "addrs=%s made=%s container=%s", name,
				    p->name, p->peer, mac, addrs,
				    p->netns_created ? "yes" : "no",
				    p->container ? p->container : "-");
	}
}
