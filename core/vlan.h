/* SPDX-License-Identifier: MIT */
/*
 * VLAN filtering (issue 15; off by default, when the bridge passes tags
 * through untouched): a port's VLANs, the way `bridge vlan` has them. A
 * port is a member of some VIDs; frames of a VID leave it tagged, or
 * untagged for the VIDs so marked; untagged and priority-tagged frames
 * coming in take its PVID (0: none, they are dropped). An access port is
 * one VID, PVID and untagged; a trunk several tagged VIDs, and its native
 * VLAN one more, PVID and untagged.
 *
 * A port that was never given VLANs is in VLAN 1, its PVID, untagged
 * (ub_vlan_default); its first "vlan add" replaces that.
 *
 * Pure: no I/O, no lock, no allocation; the port table keeps one per port.
 */
#ifndef UB_CORE_VLAN_H
#define UB_CORE_VLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ubridge/eth.h>

/* VIDs a port may carry: 1 to 4094 (0 and 4095 are reserved). */
#define UB_VLAN_VID_MIN 1
#define UB_VLAN_VID_MAX 4094

struct ub_vlan_port {
	uint16_t pvid;			/* 0: untagged frames are dropped */
	uint64_t member[64];		/* bit VID: a member of VID */
	uint64_t untagged[64];		/* bit VID: leaves untagged */
};

/* VLAN 1, PVID and untagged: every port's until it is given VLANs. */
extern const struct ub_vlan_port ub_vlan_default;

static inline bool ub_vlan_bit(const uint64_t *set, uint16_t vid)
{
	return set[vid >> 6] >> (vid & 63) & 1;
}

static inline bool ub_vlan_any(const uint64_t *set)
{
	for (int i = 0; i < 64; i++)
		if (set[i])
			return true;
	return false;
}

static inline bool ub_vlan_member(const struct ub_vlan_port *v, uint16_t vid)
{
	return ub_vlan_bit(v->member, vid);
}

/*
 * Adds VIDs lo..hi to the port, tagged or untagged on the way out; with
 * 'pvid' (lo == hi only) lo becomes the port's PVID. Adding a VID again
 * changes how it leaves. Returns 0, or -EINVAL for a VID out of range, a
 * range out of order, or a PVID of a range.
 */
int ub_vlan_add(struct ub_vlan_port *v, uint16_t lo, uint16_t hi, bool pvid,
		bool untagged);

/* Removes VIDs lo..hi (the PVID too, if among them: then none). Returns
 * 0 or -EINVAL as above. */
int ub_vlan_del(struct ub_vlan_port *v, uint16_t lo, uint16_t hi);

/* "1,10-20,30" for the VIDs whose bits 'set' has ("-" for none), cut at
 * 'len'. */
void ub_vlan_fmt(const uint64_t *set, char *buf, size_t len);

/* Calls 'fn' for each run lo..hi of member VIDs that leave alike. */
void ub_vlan_runs(const struct ub_vlan_port *v,
		  void (*fn)(uint16_t lo, uint16_t hi, bool untagged, void *arg),
		  void *arg);

/* What an egress does to the outermost 802.1Q tag of a frame of 'vid'. */
enum ub_vlan_egress {
	UB_VLAN_KEEP,	/* the frame as it came */
	UB_VLAN_PUSH,	/* add a tag with 'vid' (it came untagged) */
	UB_VLAN_POP,	/* remove its tag */
	UB_VLAN_SET,	/* rewrite the tag's VID (it came priority-tagged) */
};

/*
 * The egress action for a frame classified into 'vid' leaving port 'out':
 * 'tag' is the VID of its outermost 802.1Q tag as it came in (-1: none,
 * 0: priority-tagged).
 */
enum ub_vlan_egress ub_vlan_egress(const struct ub_vlan_port *out,
				   uint16_t vid, int tag);

/*
 * Writes frame 'in' ('len' bytes: a virtio-net header, then the Ethernet
 * frame) into 'out' as it leaves with 'act' (not UB_VLAN_KEEP) in VLAN
 * 'vid': a tag pushed (priority 0), the outermost 802.1Q tag removed, or
 * its VID set (its priority kept). The header's csum_start and hdr_len
 * follow the bytes that moved. 'out' has room for len + UB_VLAN_HLEN;
 * returns the length written.
 */
uint32_t ub_vlan_rewrite(const uint8_t *in, uint32_t len,
			 enum ub_vlan_egress act, uint16_t vid, uint8_t *out);

#endif
