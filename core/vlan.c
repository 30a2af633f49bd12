/* SPDX-License-Identifier: MIT */
/* A port's VLANs (see vlan.h). */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <linux/virtio_net.h>

#include "vlan.h"

const struct ub_vlan_port ub_vlan_default = {
	.pvid = 1, .member = { 1u << 1 }, .untagged = { 1u << 1 },
};

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

/* Moves the header's offsets into the frame by 'delta' bytes. */
static void vnet_shift(struct virtio_net_hdr *vh, int delta)
{
	if (vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)
		vh->csum_start = htole16((uint16_t)(le16toh(vh->csum_start) +
						    delta));
	if (vh->hdr_len)
		vh->hdr_len = htole16((uint16_t)(le16toh(vh->hdr_len) + delta));
}

uint32_t ub_vlan_rewrite(const uint8_t *in, uint32_t len,
			 enum ub_vlan_egress act, uint16_t vid, uint8_t *out)
{
	/* Up to the source address: the header and both MACs. */
	const uint32_t head = sizeof(struct virtio_net_hdr) + 2 * UB_ETH_ALEN;
	uint8_t *tci = out + head + 2;

	switch (act) {
	case UB_VLAN_PUSH:
		memcpy(out, in, head);
		out[head] = UB_ETH_P_8021Q >> 8;
		out[head + 1] = UB_ETH_P_8021Q & 0xff;
		tci[0] = (uint8_t)(vid >> 8);
		tci[1] = (uint8_t)vid;
		memcpy(out + head + UB_VLAN_HLEN, in + head, len - head);
		vnet_shift((struct virtio_net_hdr *)out, UB_VLAN_HLEN);
		return len + UB_VLAN_HLEN;
	case UB_VLAN_POP:
		memcpy(out, in, head);
		memcpy(out + head, in + head + UB_VLAN_HLEN,
		       len - head - UB_VLAN_HLEN);
		vnet_shift((struct virtio_net_hdr *)out, -UB_VLAN_HLEN);
		return len - UB_VLAN_HLEN;
	case UB_VLAN_SET:
		memcpy(out, in, len);
		tci[0] = (uint8_t)((tci[0] & 0xf0) | vid >> 8);
		tci[1] = (uint8_t)vid;
		return len;
	case UB_VLAN_KEEP:
		break;
	}
	memcpy(out, in, len);
	return len;
}
