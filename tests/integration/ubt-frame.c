/* SPDX-License-Identifier: MIT */
/*
 * ubt-frame: writes and reads raw Ethernet frames on one interface, for the
 * integration tests.
 *
 *   ubt-frame send IFNAME --dst MAC --src MAC|random [--vlan VID [--pcp N]]
 *                         [--stag VID] [--type 0xNNNN] [--size BYTES]
 *                         [--count N] [--id N]
 *                         [--interval US] [--every K [--big BYTES]
 *                         [--alt-dst MAC]]
 *   ubt-frame recv IFNAME [--type 0xNNNN] [--timeout MS] [--count N]
 *                         [--ready FILE]
 *
 * A test frame's payload starts with a magic word, the sender's id and a
 * sequence number (all big endian), then zeros up to --size bytes (the
 * whole frame without FCS, tags included); with --every K, every K-th
 * frame (seq K-1, 2K-1, ...) is --big BYTES long instead, and/or goes to
 * --alt-dst MAC instead. --vlan 0 sends a priority-tagged frame; --pcp
 * sets the priority bits of the --vlan tag; --stag VID puts an 802.1ad
 * tag (0x88a8) in front of everything else. recv prints one line per
 * frame of the wanted ethertype (the one after any tags):
 *
 *   dst=.. src=.. vlan=N|none type=0xNNNN len=N id=N seq=N pcp=N|- stag=N|none
 *
 * with id=- seq=- when the payload is not ours. vlan and pcp are those of
 * the outermost tag if it is an 802.1Q one (vlan=0: priority-tagged),
 * none and - otherwise; stag is the VID of the first 802.1ad tag, outer
 * or inner (so "vlan=none stag=N" is an S-tag outermost, "vlan=M stag=N"
 * an S-tag inside a C-tag). The bridge's loop probes (to UB_PROBE_DST) are
 * left out. "--src random" gives each frame its own random locally
 * administered unicast source (a MAC flood). The kernel may strip the
 * outer tag (802.1Q or 802.1ad, VID 0 too) into the packet's auxdata;
 * recv puts it back into what it reports (tags and len), so a tagged
 * frame reads the same either way.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <ubridge/eth.h>

#define UBT_MAGIC 0x55425431u /* "UBT1" */
#define UBT_TYPE_DEFAULT 0x88b5
#define UBT_FRAME_MAX 65536
/* Ethernet header, then magic, id and seq. */
#define UBT_HDR_LEN (UB_ETH_HLEN + 12)

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

struct opts {
	const char *ifname;
	struct ub_mac dst, src, alt_dst;
	bool have_dst, have_src, random_src, have_alt_dst;
	int vlan; /* -1: untagged */
	int pcp;  /* -1: not given (0 is sent) */
	int stag; /* -1: none */
	unsigned int type;
	unsigned long size;
	unsigned long count;
	unsigned long id;
	unsigned long big, every;
	unsigned long interval_us;
	long timeout_ms;
	const char *ready;
};

static void usage(void)
{
	fprintf(stderr, "usage: ubt-frame send IFNAME --dst MAC --src MAC|random "
			"[--vlan VID [--pcp N]]\n"
			"                      [--stag VID] [--type 0xNNNN] "
			"[--size BYTES] [--count N]\n"
			"                      [--id N] [--interval US]\n"
			"                      [--every K [--big BYTES] "
			"[--alt-dst MAC]]\n"
			"       ubt-frame recv IFNAME [--type 0xNNNN] "
			"[--timeout MS] [--count N]\n"
			"                      [--ready FILE]\n");
	exit(2);
}

static void die(const char *what)
{
	fprintf(stderr, "ubt-frame: %s: %s\n", what, strerror(errno));
	exit(1);
}

static unsigned long parse_num(const char *opt, const char *s,
			       unsigned long max)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || end == s || *end || v > max || s[0] == '-') {
		fprintf(stderr, "ubt-frame: %s: bad number '%s'\n", opt, s);
		exit(2);
	}
	return v;
}

static void parse_mac(const char *opt, const char *s, struct ub_mac *m)
{
	if (ub_mac_parse(s, m)) {
		fprintf(stderr, "ubt-frame: %s: bad MAC '%s'\n", opt, s);
		exit(2);
	}
}

static void parse_opts(int argc, char **argv, struct opts *o)
{
	memset(o, 0, sizeof(*o));
	o->vlan = -1;
	o->pcp = -1;
	o->stag = -1;
	o->type = UBT_TYPE_DEFAULT;
	o->size = 64;
	/* send: one frame; recv: everything until the timeout. */
	o->count = strcmp(argv[1], "recv") ? 1 : ULONG_MAX;
	o->timeout_ms = 2000;
	o->ifname = argv[2];

	for (int i = 3; i < argc; i += 2) {
		const char *opt = argv[i], *val = argv[i + 1];

		if (!val)
			usage();
		if (!strcmp(opt, "--dst")) {
			parse_mac(opt, val, &o->dst);
			o->have_dst = true;
		} else if (!strcmp(opt, "--src")) {
			o->random_src = !strcmp(val, "random");
			if (!o->random_src)
				parse_mac(opt, val, &o->src);
			o->have_src = true;
		} else if (!strcmp(opt, "--vlan")) {
			o->vlan = (int)parse_num(opt, val, 4094);
		} else if (!strcmp(opt, "--pcp")) {
			o->pcp = (int)parse_num(opt, val, 7);
		} else if (!strcmp(opt, "--stag")) {
			o->stag = (int)parse_num(opt, val, 4094);
		} else if (!strcmp(opt, "--type")) {
			o->type = (unsigned int)parse_num(opt, val, 0xffff);
		} else if (!strcmp(opt, "--size")) {
			o->size = parse_num(opt, val, UBT_FRAME_MAX);
		} else if (!strcmp(opt, "--count")) {
			o->count = parse_num(opt, val, ULONG_MAX);
		} else if (!strcmp(opt, "--id")) {
			o->id = parse_num(opt, val, UINT32_MAX);
		} else if (!strcmp(opt, "--alt-dst")) {
			parse_mac(opt, val, &o->alt_dst);
			o->have_alt_dst = true;
		} else if (!strcmp(opt, "--big")) {
			o->big = parse_num(opt, val, UBT_FRAME_MAX);
		} else if (!strcmp(opt, "--every")) {
			o->every = parse_num(opt, val, ULONG_MAX);
		} else if (!strcmp(opt, "--interval")) {
			o->interval_us = parse_num(opt, val, 10000000);
		} else if (!strcmp(opt, "--timeout")) {
			o->timeout_ms = (long)parse_num(opt, val, INT_MAX);
		} else if (!strcmp(opt, "--ready")) {
			o->ready = val;
		} else {
			usage();
		}
	}
}

/* A packet socket bound to 'ifname'. protocol 0 at creation and the real
 * one at bind, so no frame of another interface slips in between. */
static int open_bound(const char *ifname, uint16_t proto)
{
	struct sockaddr_ll sll = {.sll_family = AF_PACKET};
	int fd;

	sll.sll_ifindex = (int)if_nametoindex(ifname);
	if (!sll.sll_ifindex)
		die(ifname);
	sll.sll_protocol = htons(proto);
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket");
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)))
		die("bind");
	return fd;
}

static void put_be16(uint8_t *p, unsigned int v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	put_be16(p, v >> 16);
	put_be16(p + 2, v & 0xffff);
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static int do_send(const struct opts *o)
{
	uint64_t rnd = (uint64_t)getpid() << 32 ^ (uint64_t)time(NULL) ^ 1;
	size_t tag = (o->vlan >= 0 ? UB_VLAN_HLEN : 0) +
		     (o->stag >= 0 ? UB_VLAN_HLEN : 0);
	size_t min = UBT_HDR_LEN + tag;
	uint8_t *f;
	size_t off;
	int fd;

	if (!o->have_dst || !o->have_src ||
	    !o->every != !(o->big || o->have_alt_dst) ||
	    (o->pcp >= 0 && o->vlan < 0))
		usage();
	if (o->size < min || (o->big && o->big < min)) {
		fprintf(stderr, "ubt-frame: --size and --big must be at least "
			"%zu\n", min);
		return 2;
	}
	f = calloc(1, o->big > o->size ? o->big : o->size);
	if (!f)
		die("calloc");
	memcpy(f, o->dst.b, UB_ETH_ALEN);
	memcpy(f + UB_ETH_ALEN, o->src.b, UB_ETH_ALEN);
	off = 2 * UB_ETH_ALEN;
	if (o->stag >= 0) {
		put_be16(f + off, UB_ETH_P_8021AD);
		put_be16(f + off + 2, (unsigned int)o->stag);
		off += UB_VLAN_HLEN;
	}
	if (o->vlan >= 0) {
		put_be16(f + off, UB_ETH_P_8021Q);
		unsigned int pcp = o->pcp > 0 ? (unsigned int)o->pcp : 0;

		put_be16(f + off + 2, pcp << 13 | (unsigned int)o->vlan);
		off += UB_VLAN_HLEN;
	}
	put_be16(f + off, o->type);
	off += 2;
	put_be32(f + off, UBT_MAGIC);
	put_be32(f + off + 4, (uint32_t)o->id);

	fd = open_bound(o->ifname, 0);
	for (unsigned long seq = 0; seq < o->count; seq++) {
		bool alt = o->every && seq % o->every == o->every - 1;
		size_t len = alt && o->big ? o->big : o->size;
		ssize_t n;

		memcpy(f, alt && o->have_alt_dst ? o->alt_dst.b : o->dst.b,
		       UB_ETH_ALEN);
		put_be32(f + off + 8, (uint32_t)seq);
		if (o->random_src) {
			/* xorshift64: plenty random for distinct MACs. */
			rnd ^= rnd << 13;
			rnd ^= rnd >> 7;
			rnd ^= rnd << 17;
			f[UB_ETH_ALEN] = 0x02;
			memcpy(f + UB_ETH_ALEN + 1, &rnd, UB_ETH_ALEN - 1);
		}
		do {
			n = send(fd, f, len, 0);
			/* A full qdisc or socket buffer: wait a little. */
			if (n < 0 && errno == ENOBUFS)
				usleep(1000);
		} while (n < 0 && (errno == ENOBUFS || errno == EINTR));
		if (n < 0)
			die("send");
		if ((size_t)n != len) {
			fprintf(stderr, "ubt-frame: short send %zd of %zu\n", n,
				len);
			return 1;
		}
		if (o->interval_us)
			usleep((useconds_t)o->interval_us);
	}
	close(fd);
	free(f);
	return 0;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reports one received frame if it has the wanted type. 'n' is the length
 * the kernel had (may exceed what fits in 'f'). Returns true if printed. */
static bool report(const struct opts *o, const uint8_t *f, size_t got, size_t n,
		   const struct tpacket_auxdata *aux)
{
	char d[UB_MAC_STRLEN], s[UB_MAC_STRLEN];
	struct ub_mac dst, src;
	size_t off = 2 * UB_ETH_ALEN;
	int vlan = -1, pcp = -1, stag = -1, ntags = 0;
	unsigned int type, tpid, tci;
	bool in_aux = false;

	static const uint8_t probe[UB_ETH_ALEN] = UB_PROBE_DST;

	/* The bridge's loop probes, each second on every port, are not the
	 * tests' frames (though of ubt-frame's default type). */
	if (got < UB_ETH_HLEN || !memcmp(f, probe, UB_ETH_ALEN))
		return false;
	/* The outer tag, 802.1Q or 802.1ad (VID 0 too), may be in the
	 * auxdata (without TPID_VALID, an old kernel's: 802.1Q). */
	if (aux && (aux->tp_status & TP_STATUS_VLAN_VALID)) {
		in_aux = true;
		n += UB_VLAN_HLEN; /* the tag is on the wire, not in 'f' */
	}
	type = (unsigned int)f[off] << 8 | f[off + 1];
	/* Walk the tags, outermost first: the one in the auxdata, then those
	 * in the frame. */
	for (;;) {
		if (in_aux) {
			in_aux = false;
			tpid = aux->tp_status & TP_STATUS_VLAN_TPID_VALID
				       ? aux->tp_vlan_tpid
				       : UB_ETH_P_8021Q;
			tci = aux->tp_vlan_tci;
		} else if ((type == UB_ETH_P_8021Q ||
			    type == UB_ETH_P_8021AD) &&
			   got >= off + 2 + UB_VLAN_HLEN) {
			tpid = type;
			tci = (unsigned int)f[off + 2] << 8 | f[off + 3];
			off += UB_VLAN_HLEN;
			type = (unsigned int)f[off] << 8 | f[off + 1];
		} else {
			break;
		}
		if (tpid == UB_ETH_P_8021Q && ntags == 0) {
			vlan = (int)(tci & UB_VLAN_VID_MASK);
			pcp = (int)(tci >> 13);
		} else if (tpid == UB_ETH_P_8021AD && stag < 0) {
			stag = (int)(tci & UB_VLAN_VID_MASK);
		}
		ntags++;
	}
	if (type != o->type)
		return false;
	off += 2;

	memcpy(dst.b, f, UB_ETH_ALEN);
	memcpy(src.b, f + UB_ETH_ALEN, UB_ETH_ALEN);
	printf("dst=%s src=%s ", ub_mac_fmt(&dst, d), ub_mac_fmt(&src, s));
	if (vlan >= 0)
		printf("vlan=%d ", vlan);
	else
		printf("vlan=none ");
	printf("type=0x%04x len=%zu ", type, n);
	if (got >= off + 12 && get_be32(f + off) == UBT_MAGIC)
		printf("id=%u seq=%u", get_be32(f + off + 4),
		       get_be32(f + off + 8));
	else
		printf("id=- seq=-");
	if (pcp >= 0)
		printf(" pcp=%d", pcp);
	else
		printf(" pcp=-");
	if (stag >= 0)
		printf(" stag=%d\n", stag);
	else
		printf(" stag=none\n");
	return true;
}

static int do_recv(const struct opts *o)
{
	static uint8_t f[UBT_FRAME_MAX];
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(struct tpacket_auxdata))];
	} ctl;
	long deadline = now_ms() + o->timeout_ms;
	unsigned long seen = 0;
	int one = 1, rcvbuf = 8 << 20, fd;

	fd = open_bound(o->ifname, ETH_P_ALL);
	/* Room for a burst of large frames (FORCE: past the sysctl cap). */
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf,
			 sizeof(rcvbuf));
	if (setsockopt(fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof(one)))
		die("PACKET_AUXDATA");
	/* Older kernels lack it; the pkttype check below covers them. */
	(void)setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one,
			 sizeof(one));
	if (o->ready) {
		int rfd = open(o->ready,
			       O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

		if (rfd < 0)
			die(o->ready);
		close(rfd);
	}

	while (seen < o->count) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		struct sockaddr_ll from;
		struct iovec iov = {.iov_base = f, .iov_len = sizeof(f)};
		struct msghdr msg = {
			.msg_name = &from,
			.msg_namelen = sizeof(from),
			.msg_iov = &iov,
			.msg_iovlen = 1,
			.msg_control = ctl.buf,
			.msg_controllen = sizeof(ctl.buf),
		};
		const struct tpacket_auxdata *aux = NULL;
		struct cmsghdr *c;
		long left = deadline - now_ms();
		ssize_t n;
		int r;

		if (left <= 0)
			break;
		r = poll(&pfd, 1, (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			die("poll");
		if (r == 0)
			break;
		n = recvmsg(fd, &msg, MSG_TRUNC | MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n < 0)
			die("recvmsg");
		if (from.sll_pkttype == PACKET_OUTGOING)
			continue;
		for (c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
			if (c->cmsg_level == SOL_PACKET &&
			    c->cmsg_type == PACKET_AUXDATA)
				aux = (const struct tpacket_auxdata *)CMSG_DATA(
					c);
		if (report(o, f, (size_t)n < sizeof(f) ? (size_t)n : sizeof(f),
			   (size_t)n, aux))
			seen++;
	}
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o;

	if (argc < 3)
		usage();
	setvbuf(stdout, NULL, _IOLBF, 0);
	parse_opts(argc, argv, &o);
	if (!strcmp(argv[1], "send"))
		return do_send(&o);
	if (!strcmp(argv[1], "recv"))
		return do_recv(&o);
	usage();
	return 2;
}
