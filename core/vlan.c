/* SPDX-License-Identifier: MIT */
/* A port's VLANs (see vlan.h). */
#include <errno.h>
#include <stdio.h>

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

void ub_vlan_fmt(const uint64_t *set, char *buf, size_t len)
{
	size_t used = 0;

	snprintf(buf, len, "-");
	for (uint32_t vid = UB_VLAN_VID_MIN;
	     vid <= UB_VLAN_VID_MAX && used < len; vid++) {
		uint32_t end = vid;

		if (!ub_vlan_bit(set, (uint16_t)vid))
			continue;
		while (end < UB_VLAN_VID_MAX && ub_vlan_bit(set, (uint16_t)(end + 1)))
			end++;
		used += (size_t)snprintf(buf + used, len - used,
					 end > vid ? "%s%u-%u" : "%s%u",
					 used ? "," : "", vid, end);
		vid = end;
	}
}

void ub_vlan_runs(const struct ub_vlan_port *v,
		  void (*fn)(uint16_t lo, uint16_t hi, bool untagged, void *arg),
		  void *arg)
{
	for (uint32_t vid = UB_VLAN_VID_MIN; vid <= UB_VLAN_VID_MAX; vid++) {
		bool untagged = ub_vlan_bit(v->untagged, (uint16_t)vid);
		uint32_t end = vid;

		if (!ub_vlan_member(v, (uint16_t)vid))
			continue;
		while (end < UB_VLAN_VID_MAX &&
		       ub_vlan_member(v, (uint16_t)(end + 1)) &&
		       ub_vlan_bit(v->untagged, (uint16_t)(end + 1)) == untagged)
			end++;
		fn((uint16_t)vid, (uint16_t)end, untagged, arg);
		vid = end;
	}
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
