/* SPDX-License-Identifier: MIT */
/* The gateway (the host's address on the bridge, a TAP port) and NAT. */
#ifndef UB_CORE_GATEWAY_H
#define UB_CORE_GATEWAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ubridge/ctl.h>
#include <ubridge/eth.h>

struct ub_bridge;
struct ub_port;

struct ub_gateway {
	char cidr[64];   /* the gateway's address; "" when none */
	bool nat;        /* the NAT table is in place */
	int old_forward; /* IPv4 forwarding before NAT turned it on */
	/* The gateway's route_localnet as last seen: portmap turns it on for
	 * ports published on 127.0.0.1, and a new TAP would lose it. */
	bool localnet;
};

/* A TAP port the bridge makes and owns, up, with MTU 'mtu' (0: default)
 * and address 'mac' (NULL: the kernel's random one). */
int ub_tap_add(struct ub_bridge *br, const char *name, uint32_t mtu,
	       const struct ub_mac *mac, char *err, size_t errlen);
/* The gateway with address 'cidr', and route_localnet on if 'localnet'. */
int ub_gw_add(struct ub_bridge *br, const char *cidr, bool localnet,
	      char *err, size_t errlen);
int ub_gw_del(struct ub_bridge *br, char *err, size_t errlen);
bool ub_gw_is_port(const struct ub_bridge *br, const struct ub_port *p);
int ub_nat_set(struct ub_bridge *br, bool on, char *err, size_t errlen);
void ub_gw_show(struct ub_bridge *br, struct ub_ctl_reply *r);
/* Notes a change of the gateway's route_localnet (the state file keeps
 * it); housekeeping, once a second. */
void ub_gw_upkeep(struct ub_bridge *br);

#endif
