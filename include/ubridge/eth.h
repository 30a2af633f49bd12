/* SPDX-License-Identifier: MIT */
/*
 * Ethernet base types: MAC addresses, the Ethernet and 802.1Q headers,
 * and the predicates the forwarding pipeline asks of them. Header only,
 * so every module can use it without a link dependency.
 */
#ifndef UBRIDGE_ETH_H
#define UBRIDGE_ETH_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define UB_ETH_ALEN 6
#define UB_ETH_HLEN 14
#define UB_VLAN_HLEN 4
#define UB_ETH_P_8021Q 0x8100
#define UB_ETH_P_8021AD 0x88a8
#define UB_VLAN_VID_MASK 0x0fff
/* "aa:bb:cc:dd:ee:ff" plus the terminating NUL. */
#define UB_MAC_STRLEN 18

/*
 * The loop probes a bridge sends out of every port each second (core's
 * guard): to this address, of IEEE 802's local experimental EtherType. A
 * multicast address outside 01:80:C2:00:00:0X, so that other bridges, the
 * kernel's too, flood it like any frame.
 */
#define UB_PROBE_DST { 0x03, 0x75, 0x62, 0x6c, 0x6f, 0x6f }
#define UB_PROBE_ETHERTYPE 0x88b5

struct ub_mac {
	uint8_t b[UB_ETH_ALEN];
};

struct ub_eth_hdr {
	struct ub_mac dst;
	struct ub_mac src;
	uint16_t type; /* network order */
} __attribute__((packed));

static inline bool ub_mac_eq(const struct ub_mac *a, const struct ub_mac *b)
{
	return memcmp(a->b, b->b, UB_ETH_ALEN) == 0;
}

/* Group bit: multicast, and broadcast as its special case. */
static inline bool ub_mac_is_mcast(const struct ub_mac *m)
{
	return m->b[0] & 1;
}

static inline bool ub_mac_is_zero(const struct ub_mac *m)
{
	return (m->b[0] | m->b[1] | m->b[2] | m->b[3] | m->b[4] | m->b[5]) == 0;
}

/*
 * 01:80:C2:00:00:00 to 01:80:C2:00:00:0F: the IEEE 802.1D reserved group
 * addresses (STP, pause, LACP, 802.1X ...). A bridge consumes them and
 * never forwards them.
 */
static inline bool ub_mac_is_link_local(const struct ub_mac *m)
{
	return m->b[0] == 0x01 && m->b[1] == 0x80 && m->b[2] == 0xc2 &&
	       m->b[3] == 0x00 && m->b[4] == 0x00 && (m->b[5] & 0xf0) == 0;
}

/* The value of hex digit 'c', or -1. */
static inline int ub_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Parses exactly "aa:bb:cc:dd:ee:ff" (either case). Returns 0 or -EINVAL. */
static inline int ub_mac_parse(const char *s, struct ub_mac *out)
{
	struct ub_mac m;

	for (int i = 0; i < UB_ETH_ALEN; i++, s += 3) {
		int hi = ub_hex_digit(s[0]), lo = hi < 0 ? -1 : ub_hex_digit(s[1]);

		if (lo < 0 || s[2] != (i == UB_ETH_ALEN - 1 ? '\0' : ':'))
			return -EINVAL;
		m.b[i] = (uint8_t)(hi << 4 | lo);
	}
	*out = m;
	return 0;
}

static inline char *ub_mac_fmt(const struct ub_mac *m, char buf[UB_MAC_STRLEN])
{
	snprintf(buf, UB_MAC_STRLEN, "%02x:%02x:%02x:%02x:%02x:%02x", m->b[0],
		 m->b[1], m->b[2], m->b[3], m->b[4], m->b[5]);
	return buf;
}

#endif
