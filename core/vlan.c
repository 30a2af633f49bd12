/* SPDX-License-Identifier: MIT */
/* A port's VLANs (see vlan.h). */
#include <errno.h>

#include "vlan.h"

static void set_bit(uint64_t *set, uint16_t vid, bool on)
{
	uint64_t bit = 1ull << (vid & 63);

	if (on)
		set[vid >> 6] |= bit;
	else
		set[vid >> 6] &= ~bit;
}

static bool range_ok(uint16_t lo, uint16_t hi)
{
	return lo >= UB_VLAN_VID_MIN && hi <= UB_VLAN_VID_MAX && lo <= hi;
}

int ub_vlan_add(struct ub_vlan_port *v, uint16_t lo, uint16_t hi, bool pvid,
		bool untagged)
{
	if (!range_ok(lo, hi) || (pvid && lo != hi))
		return -EINVAL;
	for (uint32_t vid = lo; vid <= hi; vid++) {
		set_bit(v->member, (uint16_t)vid, true);
		set_bit(v->untagged, (uint16_t)vid, untagged);
	}
	if (pvid)
		v->pvid = lo;
	return 0;
}

int ub_vlan_del(struct ub_vlan_port *v, uint16_t lo, uint16_t hi)
{
	if (!range_ok(lo, hi))
		return -EINVAL;
	for (uint32_t vid = lo; vid <= hi; vid++) {
		set_bit(v->member, (uint16_t)vid, false);
		set_bit(v->untagged, (uint16_t)vid, false);
	}
	if (v->pvid >= lo && v->pvid <= hi)
		v->pvid = 0;
	return 0;
}

enum ub_vlan_egress ub_vlan_egress(const struct ub_vlan_port *out,
				   uint16_t vid, int tag)
{
	if (ub_vlan_bit(out->untagged, vid))
		return tag < 0 ? UB_VLAN_KEEP : UB_VLAN_POP;
	if (tag < 0)
		return UB_VLAN_PUSH;
	return tag == vid ? UB_VLAN_KEEP : UB_VLAN_SET;
}
