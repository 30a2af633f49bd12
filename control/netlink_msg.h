/* SPDX-License-Identifier: MIT */
/*
 * Private to control/: the rtnetlink message builders and parsers behind
 * include/ubridge/netlink.h. Kept apart from the sending code so the unit
 * tests can build every request into a buffer and read it back without
 * root or a socket.
 *
 * A builder writes one complete request at the start of 'buf', which must
 * hold UB_NL_MSG_SIZE bytes, with sequence number 0 (the sender numbers
 * it). It returns the message length or -errno for arguments the kernel
 * would refuse anyway (bad names, bad family); it never needs more room
 * than UB_NL_MSG_SIZE, since every variable part is bounded.
 */
#ifndef UBRIDGE_CONTROL_NETLINK_MSG_H
#define UBRIDGE_CONTROL_NETLINK_MSG_H

#include <linux/netlink.h>

#include <ubridge/netlink.h>

#define UB_NL_MSG_SIZE 1024

/* RTM_NEWLINK, CREATE|EXCL|ACK: the veth pair of 'cfg'. */
int ub_nl_msg_veth(void *buf, const struct ub_veth_cfg *cfg);

/* RTM_DELLINK|ACK of link NAME (found by name). */
int ub_nl_msg_link_del(void *buf, const char *name);

/* RTM_GETLINK|ACK of link NAME (found by name), statistics left out. */
int ub_nl_msg_link_get(void *buf, const char *name);

/* RTM_SETLINK|ACK of link 'ifindex' as 'set' says. */
int ub_nl_msg_link_set(void *buf, int ifindex, const struct ub_link_set *set);

/* RTM_NEWADDR (CREATE|EXCL|ACK) or RTM_DELADDR (ACK) of 'c' on 'ifindex'. */
int ub_nl_msg_addr(void *buf, uint16_t type, int ifindex,
		   const struct ub_cidr *c);

/* RTM_GETADDR dump of every address of 'family' (AF_UNSPEC: all). */
int ub_nl_msg_addr_dump(void *buf, int family);

/*
 * RTM_NEWROUTE, CREATE|EXCL|ACK: route 'rt' in the main table, through
 * 'oif' when non-zero (required without a gateway). -EAFNOSUPPORT, or
 * -EINVAL for families that differ or a prefix too long.
 */
int ub_nl_msg_route(void *buf, const struct ub_route *rt, int oif);

/* Reads an RTM_NEWLINK message into 'out'. Returns 0 or -EINVAL. */
int ub_nl_parse_link(const struct nlmsghdr *nlh, struct ub_link_info *out);

/*
 * Reads an RTM_NEWADDR message: its link into 'ifindex', its address into
 * 'out'. Returns 0, -EAFNOSUPPORT (neither IPv4 nor IPv6) or -EINVAL.
 */
int ub_nl_parse_addr(const struct nlmsghdr *nlh, int *ifindex,
		     struct ub_cidr *out);

#endif
