/* SPDX-License-Identifier: MIT */
/*
 * VXLAN ports on the bridge: making and removing them, their remotes
 * (flood list, FDB destinations), and what "vxlan show" and the state
 * file say of them. The tunnel itself is io's (ub_port_vxlan_ops,
 * include/ubridge/vxlan.h). Every function runs in the control thread,
 * under the bridge lock.
 */
#ifndef UB_CORE_VXLAN_H
#define UB_CORE_VXLAN_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ubridge/ctl.h>
#include <ubridge/vxlan.h>

_Static_assert(UB_VXLAN_REMOTES_MAX == 4096, "core/vxlan.c names the cap");

struct ub_bridge;
struct ub_port;

bool ub_vx_is_port(const struct ub_port *p);
/* Makes VXLAN port 'name' with 'cfg' and the flood list remotes[0..n)
 * (nothing is made when one of them is refused). */
int ub_vx_add(struct ub_bridge *br, const char *name,
	      const struct ub_vxlan_cfg *cfg, const struct ub_vxlan_ip *remotes,
	      uint32_t n, char *err, size_t errlen);
/* Adds 'ip' to the flood list of 'p', or forgets it (and every FDB entry
 * behind it). */
int ub_vx_remote(struct ub_bridge *br, struct ub_port *p, bool add,
		 const struct ub_vxlan_ip *ip, char *err, size_t errlen);
/* The remote of 'p' for 'ip', for a static FDB entry: its index, or
 * -errno with the reason in 'err'. */
int ub_vx_dst(struct ub_bridge *br, struct ub_port *p,
	      const struct ub_vxlan_ip *ip,
	      char *err, size_t errlen);
/* One record per VXLAN port. */
void ub_vx_show(struct ub_bridge *br, struct ub_ctl_reply *r);
/* The commands that make 'p' again: "vxlan add ..." and its remotes. */
void ub_vx_state(const struct ub_port *p, struct ub_ctl_reply *r);

#endif
