/* SPDX-License-Identifier: MIT */
/*
 * ubgen: the benchmark's frame generator and counter.
 *
 *   ubgen send IFNAME --dst MAC [--src MAC] [--size N] [--flows N]
 *              [--seconds S | --count N] [--rate PPS] [--udp] [--batch N]
 *              [--qdisc] [--stamp] [--src-ip A] [--dst-ip A] [--dst-port P]
 *   ubgen count IFNAME [--seconds S] [--latency]
 *   ubgen udpsink PORT [--seconds S] [--warmup W] [--hold]
 *
 * send: fixed-size frames out of IFNAME through an AF_PACKET socket,
 * 'batch' frames per sendmmsg(), with PACKET_QDISC_BYPASS unless --qdisc.
 * A flow is a distinct source MAC: flow i uses --src with i added to its
 * last two bytes, so a bridge learns (and refreshes) one FDB entry per
 * flow while every frame goes to the same --dst. Frames are sent
 * round-robin over the flows. The payload is ethertype 0x88b5 (IEEE
 * "local experimental"), which no protocol stack in the sink handles, so
 * the receiver drops it at once; with --udp they are IPv4/UDP instead
 * (198.18.0.0/15 addresses, source port 10000 + flow, destination port
 * UBGEN_UDP_PORT), for tests that need L3/L4 flows (hashing, fanout).
 * --src-ip, --dst-ip and --dst-port (each implies --udp) aim them at a
 * real receiver: every flow then has the one source address, and the
 * flows differ in their source MAC and port.
 *
 * count: counts the frames of ours (either kind, recognised by the magic
 * word after the headers) arriving on IFNAME for S seconds, with a
 * classic BPF filter in front of a TPACKET_V3 receive ring: the kernel
 * copies at most 128 bytes of each and the counter touches one block
 * header per few thousand frames, so counting costs little CPU.
 *
 * With --stamp, send writes the wall clock (ns) into each frame just
 * before it goes (one frame per system call), and count --latency takes
 * each frame's latency as the kernel's receive time stamp minus it, and
 * prints its median, 99th percentile and maximum: how long frames take
 * through whatever is between the two (an impaired port's delay, say).
 *
 * udpsink: a UDP socket bound to PORT (any address) with a large
 * receive buffer, read with recvmmsg() as fast as datagrams come, the
 * receiver of a benchmark whose receiving stack must do real work. It
 * reads but does not count for W seconds (default 0), then counts for S,
 * and reports the namespace's UDP receive buffer drops (RcvbufErrors)
 * and datagrams to no socket (NoPorts) over the counted window. With
 * --hold it goes on reading, uncounted, until SIGINT or SIGTERM before it
 * prints and exits: a sender that outlasts the window still finds the
 * port bound, so the stack sends it no ICMP port unreachable.
 *
 * All three print one line of key=value pairs, for scripts.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <ubridge/eth.h>

#define UBGEN_ETHERTYPE 0x88b5
#define UBGEN_MAGIC 0x75624731u /* "ubG1" */
#define UBGEN_UDP_PORT 5999
#define UBGEN_MAX_FLOWS 65536
#define UBGEN_MAX_BATCH 1024
#define UBGEN_SNAPLEN 128

#define RING_BLOCK_SIZE (1u << 20)
#define RING_BLOCKS 32u
#define RING_FRAME_SIZE 2048u
#define RING_RETIRE_MS 5u

#define UDPSINK_BATCH 64
#define UDPSINK_BUF 9216 /* the largest frame's payload fits */
#define UDPSINK_RCVBUF (32 << 20)
#define UDPSINK_POLL_MS 50

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what)
{
	fprintf(stderr, "ubgen: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void usage(FILE *f, int status)
{
	fprintf(f,
		"Usage: ubgen send IFNAME --dst MAC [--src MAC] [--size N] [--flows N]\n"
		"                  [--seconds S | --count N] [--rate PPS] [--udp]\n"
		"                  [--batch N] [--qdisc] [--stamp]\n"
		"                  [--src-ip A] [--dst-ip A] [--dst-port P]\n"
		"       ubgen count IFNAME [--seconds S] [--latency]\n"
		"       ubgen udpsink PORT [--seconds S] [--warmup W] [--hold]\n"
		"\n"
		"send   frames of N bytes (without FCS; default 64) to MAC, round-robin\n"
		"       over N flows (distinct source MACs: --src plus 0..N-1 in its\n"
		"       last two bytes; default 1 flow), for S seconds (default 5) or\n"
		"       N frames, at PPS frames/s or as fast as possible. Ethertype\n"
		"       0x%04x unless --udp (IPv4/UDP, source port 10000+flow,\n"
		"       destination port %d). PACKET_QDISC_BYPASS unless --qdisc.\n"
		"       --stamp: each frame carries its send time (one per call).\n"
		"       --src-ip, --dst-ip, --dst-port (imply --udp): the UDP frames'\n"
		"       source address (all flows), destination address and port\n"
		"       (default 198.18.0.0/15 by flow, 198.19.0.1, %d).\n"
		"count  frames of ours arriving on IFNAME for S seconds (default 5);\n"
		"       --latency: of stamped frames, latency p50, p99 and max.\n"
		"udpsink  datagrams read by a UDP socket bound to PORT, for S\n"
		"       seconds (default 5) after W seconds read uncounted (default 0);\n"
		"       --hold: then reads on, uncounted, until SIGINT or SIGTERM.\n"
		"\n"
		"All print one line of key=value pairs.\n",
		UBGEN_ETHERTYPE, UBGEN_UDP_PORT, UBGEN_UDP_PORT);
	exit(status);
}

static long parse_num(const char *s, long min, long max, const char *what)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max) {
		fprintf(stderr, "ubgen: bad %s '%s' (%ld..%ld)\n", what, s, min,
			max);
		exit(2);
	}
	return v;
}

static int open_packet_socket(const char *ifname, int *ifindex)
{
	int fd = socket(AF_PACKET, SOCK_RAW, 0);

	if (fd < 0)
		die("socket(AF_PACKET)");
	*ifindex = (int)if_nametoindex(ifname);
	if (!*ifindex) {
		fprintf(stderr, "ubgen: no interface '%s'\n", ifname);
		exit(1);
	}
	return fd;
}

static uint16_t ip_csum(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/*
 * Where UDP frames go: addresses in network byte order, and a source of
 * 0 for one per flow in 198.18.0.0/15.
 */
struct udp_addr {
	struct in_addr src, dst;
	uint16_t dport;
};

/* Writes frame 'flow' into 'f' (size bytes, size >= 60); UDP to 'ua'. */
static void build_frame(uint8_t *f, size_t size, const struct ub_mac *dst,
			const struct ub_mac *src, uint32_t flow,
			const struct udp_addr *ua)
{
	struct ub_eth_hdr *eth = (struct ub_eth_hdr *)f;
	uint32_t magic = htonl(UBGEN_MAGIC);
	uint8_t *p = f + UB_ETH_HLEN;

	memset(f, 0, size);
	eth->dst = *dst;
	eth->src = *src;
	if (flow) {
		uint16_t lo = (uint16_t)(eth->src.b[4] << 8 | eth->src.b[5]);

		lo = (uint16_t)(lo + flow);
		eth->src.b[4] = (uint8_t)(lo >> 8);
		eth->src.b[5] = (uint8_t)lo;
	}
	if (!ua) {
		eth->type = htons(UBGEN_ETHERTYPE);
		memcpy(p, &magic, 4);
		memcpy(p + 4, &(uint32_t){ htonl(flow) }, 4);
		return;
	}
	eth->type = htons(ETH_P_IP);
	{
		uint16_t tot = (uint16_t)(size - UB_ETH_HLEN);
		uint16_t ulen = (uint16_t)(tot - 20);
		uint16_t sport = (uint16_t)(10000 + flow);

		p[0] = 0x45;
		p[2] = (uint8_t)(tot >> 8);
		p[3] = (uint8_t)tot;
		p[6] = 0x40; /* DF */
		p[8] = 64;
		p[9] = 17;
		if (ua->src.s_addr) {
			memcpy(p + 12, &ua->src, 4);
		} else {
			p[12] = 198, p[13] = 18, p[14] = (uint8_t)(flow >> 8),
			p[15] = (uint8_t)(flow | 1);
		}
		memcpy(p + 16, &ua->dst, 4);
		{
			uint16_t c = ip_csum(p, 20);

			p[10] = (uint8_t)(c >> 8);
			p[11] = (uint8_t)c;
		}
		p += 20;
		p[0] = (uint8_t)(sport >> 8);
		p[1] = (uint8_t)sport;
		p[2] = (uint8_t)(ua->dport >> 8);
		p[3] = (uint8_t)ua->dport;
		p[4] = (uint8_t)(ulen >> 8);
		p[5] = (uint8_t)ulen;
		/* UDP checksum 0: none. */
		memcpy(p + 8, &magic, 4);
	}
}

/* Where a stamped frame carries its send time: after magic and flow. */
#define UBGEN_STAMP_OFF (UB_ETH_HLEN + 8)

static uint64_t wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
}

static void put_stamp(uint8_t *f)
{
	uint64_t ns = wall_ns();

	memcpy(f + UBGEN_STAMP_OFF, &ns, sizeof(ns));
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The latencies of a retired block's stamped frames, appended to lat[]. */
static void block_latencies(const struct tpacket_block_desc *bd,
			    uint64_t **lat, size_t *n, size_t *cap)
{
	const struct tpacket3_hdr *h = (const void *)((const uint8_t *)bd +
		bd->hdr.bh1.offset_to_first_pkt);

	for (uint32_t i = 0; i < bd->hdr.bh1.num_pkts; i++) {
		const uint8_t *mac = (const uint8_t *)h + h->tp_mac;
		uint64_t sent, rx = (uint64_t)h->tp_sec * 1000000000 +
				    h->tp_nsec;

		if (h->tp_snaplen >= UBGEN_STAMP_OFF + 8 &&
		    mac[12] << 8 == (UBGEN_ETHERTYPE & 0xff00) &&
		    mac[13] == (UBGEN_ETHERTYPE & 0xff)) {
			memcpy(&sent, mac + UBGEN_STAMP_OFF, sizeof(sent));
			if (*n == *cap) {
				*cap = *cap ? *cap * 2 : 1 << 16;
				*lat = realloc(*lat, *cap * sizeof(**lat));
				if (!*lat)
					die("realloc");
			}
			(*lat)[(*n)++] = rx > sent ? rx - sent : 0;
		}
		h = (const void *)((const uint8_t *)h + h->tp_next_offset);
	}
}

static int cmd_send(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dst", required_argument, NULL, 'd' },
		{ "src", required_argument, NULL, 's' },
		{ "size", required_argument, NULL, 'l' },
		{ "flows", required_argument, NULL, 'f' },
		{ "seconds", required_argument, NULL, 't' },
		{ "count", required_argument, NULL, 'c' },
		{ "rate", required_argument, NULL, 'r' },
		{ "batch", required_argument, NULL, 'b' },
		{ "udp", no_argument, NULL, 'u' },
		{ "qdisc", no_argument, NULL, 'q' },
		{ "stamp", no_argument, NULL, 'S' },
		{ "src-ip", required_argument, NULL, 'I' },
		{ "dst-ip", required_argument, NULL, 'D' },
		{ "dst-port", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct udp_addr ua = { .dport = UBGEN_UDP_PORT };
	struct ub_mac dst, src;
	bool have_dst = false, udp = false, bypass = true, stamp = false;
	long size = 64, flows = 1, seconds = 5, count = 0, rate = 0, batch = 64;
	const char *ifname;
	struct sockaddr_ll sll;
	struct mmsghdr *msgs;
	struct iovec *iov;
	uint8_t *frames;
	uint64_t sent = 0, errors = 0;
	double t0, t_end, elapsed;
	int fd, ifindex, c;

	ub_mac_parse("02:75:62:00:00:01", &src);
	inet_pton(AF_INET, "198.19.0.1", &ua.dst);
	while ((c = getopt_long(argc, argv, "d:s:l:f:t:c:r:b:uqh", opts,
				NULL)) != -1) {
		switch (c) {
		case 'd':
			if (ub_mac_parse(optarg, &dst))
				usage(stderr, 2);
			have_dst = true;
			break;
		case 's':
			if (ub_mac_parse(optarg, &src))
				usage(stderr, 2);
			break;
		case 'l':
			size = parse_num(optarg, 60, 9014, "--size");
			break;
		case 'f':
			flows = parse_num(optarg, 1, UBGEN_MAX_FLOWS, "--flows");
			break;
		case 't':
			seconds = parse_num(optarg, 1, 86400, "--seconds");
			break;
		case 'c':
			count = parse_num(optarg, 1, 1L << 40, "--count");
			break;
		case 'r':
			rate = parse_num(optarg, 1, 100000000, "--rate");
			break;
		case 'b':
			batch = parse_num(optarg, 1, UBGEN_MAX_BATCH, "--batch");
			break;
		case 'u':
			udp = true;
			break;
		case 'q':
			bypass = false;
			break;
		case 'S':
			stamp = true;
			break;
		case 'I':
		case 'D':
			if (inet_pton(AF_INET, optarg,
				      c == 'I' ? &ua.src : &ua.dst) != 1)
				usage(stderr, 2);
			udp = true;
			break;
		case 'P':
			ua.dport = (uint16_t)parse_num(optarg, 1, 65535,
						       "--dst-port");
			udp = true;
			break;
		case 'h':
			usage(stdout, 0);
			break;
		default:
			usage(stderr, 2);
		}
	}
	if (optind + 1 != argc || !have_dst || (stamp && udp))
		usage(stderr, 2);
	if (stamp)
		batch = 1;
	ifname = argv[optind];
	if (rate && rate / 1000 < batch)
		batch = rate / 1000 > 0 ? rate / 1000 : 1;
	if (count && count < batch)
		batch = count;

	fd = open_packet_socket(ifname, &ifindex);
	if (bypass) {
		int one = 1;

		if (setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one,
			       sizeof(one)))
			die("PACKET_QDISC_BYPASS");
	}
	{
		/* A large send buffer: we never want to block on it. */
		int sz = 4 << 20;

		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	}
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_ifindex = ifindex;
	sll.sll_protocol = htons(udp ? ETH_P_IP : UBGEN_ETHERTYPE);
	sll.sll_halen = UB_ETH_ALEN;
	memcpy(sll.sll_addr, dst.b, UB_ETH_ALEN);

	frames = calloc((size_t)flows, (size_t)size);
	msgs = calloc((size_t)batch, sizeof(*msgs));
	iov = calloc((size_t)batch, sizeof(*iov));
	if (!frames || !msgs || !iov)
		die("calloc");
	for (long i = 0; i < flows; i++)
		build_frame(frames + i * size, (size_t)size, &dst, &src,
			    (uint32_t)i, udp ? &ua : NULL);
	for (long i = 0; i < batch; i++) {
		msgs[i].msg_hdr.msg_name = &sll;
		msgs[i].msg_hdr.msg_namelen = sizeof(sll);
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
		iov[i].iov_len = (size_t)size;
	}

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	t0 = now_s();
	t_end = t0 + (double)seconds;
	{
		uint64_t flow = 0, attempts = 0;

		while (!stop) {
			long n = batch;
			int r;

			if (count) {
				if (attempts >= (uint64_t)count)
					break;
				if ((uint64_t)n > (uint64_t)count - attempts)
					n = (long)((uint64_t)count - attempts);
			}
			for (long i = 0; i < n; i++) {
				iov[i].iov_base = frames + flow * (uint64_t)size;
				if (stamp)
					put_stamp(iov[i].iov_base);
				if (++flow == (uint64_t)flows)
					flow = 0;
			}
			for (long off = 0; off < n;) {
				r = sendmmsg(fd, msgs + off, (unsigned int)(n - off), 0);
				if (r < 0) {
					if (errno == EINTR && stop)
						break;
					if (errno != ENOBUFS && errno != EAGAIN &&
					    errno != EINTR)
						die("sendmmsg");
					errors++; /* that frame was dropped */
					off++;
					continue;
				}
				sent += (uint64_t)r;
				off += r;
			}
			attempts += (uint64_t)n;
			/* Check the clock every batch; cheap with the vDSO. */
			{
				double t = now_s();

				if (!count && t >= t_end)
					break;
				if (rate) {
					double due = t0 + (double)attempts / (double)rate;

					while (t < due && !stop) {
						if (due - t > 200e-6)
							usleep((useconds_t)((due - t) * 1e6 * 0.8));
						t = now_s();
					}
				}
			}
		}
	}
	elapsed = now_s() - t0;
	printf("mode=send if=%s size=%ld flows=%ld batch=%ld bypass=%d seconds=%.3f sent=%llu tx_errors=%llu pps=%.0f\n",
	       ifname, size, flows, batch, bypass, elapsed,
	       (unsigned long long)sent, (unsigned long long)errors,
	       elapsed > 0 ? (double)sent / elapsed : 0.0);
	close(fd);
	free(frames);
	free(msgs);
	free(iov);
	return 0;
}

static long long read_if_rx(const char *ifname)
{
	char path[128];
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/class/net/%s/statistics/rx_packets",
		 ifname);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%lld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

static int cmd_count(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "seconds", required_argument, NULL, 't' },
		{ "latency", no_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t *lat = NULL;
	size_t nlat = 0, caplat = 0;
	bool latency = false;
	/*
	 * Accepts ethertype UBGEN_ETHERTYPE with the magic right after the
	 * Ethernet header, or IPv4 (IHL 5) / UDP to UBGEN_UDP_PORT with the
	 * magic as the first payload word; keeps UBGEN_SNAPLEN bytes.
	 */
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 12),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, UBGEN_ETHERTYPE, 0, 2),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 14),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, UBGEN_MAGIC, 7, 8),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IP, 0, 7),
		BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 23),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 17, 0, 5),
		BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 36),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, UBGEN_UDP_PORT, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 42),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, UBGEN_MAGIC, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, UBGEN_SNAPLEN),
		BPF_STMT(BPF_RET | BPF_K, 0),
	};
	struct sock_fprog prog = { .len = sizeof(code) / sizeof(code[0]),
				   .filter = code };
	struct tpacket_req3 req;
	struct sockaddr_ll sll;
	struct tpacket_stats_v3 st;
	socklen_t stlen = sizeof(st);
	long seconds = 5;
	const char *ifname;
	uint64_t frames = 0;
	unsigned int blk = 0;
	long long rx0, rx1;
	double t0, t_end, elapsed;
	uint8_t *ring;
	int fd, ifindex, c, v = TPACKET_V3;

	while ((c = getopt_long(argc, argv, "t:h", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			seconds = parse_num(optarg, 1, 86400, "--seconds");
			break;
		case 'L':
			latency = true;
			break;
		case 'h':
			usage(stdout, 0);
			break;
		default:
			usage(stderr, 2);
		}
	}
	if (optind + 1 != argc)
		usage(stderr, 2);
	ifname = argv[optind];

	/* Protocol 0: receives nothing until the filter and ring are set. */
	fd = open_packet_socket(ifname, &ifindex);
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)))
		die("SO_ATTACH_FILTER");
	if (setsockopt(fd, SOL_PACKET, PACKET_VERSION, &v, sizeof(v)))
		die("PACKET_VERSION");
	memset(&req, 0, sizeof(req));
	req.tp_block_size = RING_BLOCK_SIZE;
	req.tp_block_nr = RING_BLOCKS;
	req.tp_frame_size = RING_FRAME_SIZE;
	req.tp_frame_nr = RING_BLOCK_SIZE / RING_FRAME_SIZE * RING_BLOCKS;
	req.tp_retire_blk_tov = RING_RETIRE_MS;
	if (setsockopt(fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req)))
		die("PACKET_RX_RING");
	ring = mmap(NULL, (size_t)RING_BLOCK_SIZE * RING_BLOCKS,
		    PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
	if (ring == MAP_FAILED)
		die("mmap");
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_ifindex = ifindex;
	sll.sll_protocol = htons(ETH_P_ALL);

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	rx0 = read_if_rx(ifname);
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)))
		die("bind");
	t0 = now_s();
	t_end = t0 + (double)seconds;
	while (!stop) {
		struct tpacket_block_desc *bd = (void *)(ring +
			(size_t)blk * RING_BLOCK_SIZE);
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		double t = now_s();

		if (t >= t_end)
			break;
		if (!(__atomic_load_n(&bd->hdr.bh1.block_status,
				      __ATOMIC_ACQUIRE) & TP_STATUS_USER)) {
			int ms = (int)((t_end - t) * 1000) + 1;

			poll(&pfd, 1, ms < 50 ? ms : 50);
			continue;
		}
		frames += bd->hdr.bh1.num_pkts;
		if (latency)
			block_latencies(bd, &lat, &nlat, &caplat);
		__atomic_store_n(&bd->hdr.bh1.block_status, TP_STATUS_KERNEL,
				 __ATOMIC_RELEASE);
		blk = (blk + 1) % RING_BLOCKS;
	}
	elapsed = now_s() - t0;
	rx1 = read_if_rx(ifname);
	memset(&st, 0, sizeof(st));
	if (getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &st, &stlen))
		die("PACKET_STATISTICS");
	printf("mode=count if=%s seconds=%.3f frames=%llu pps=%.0f ring_drops=%u if_rx=%lld if_rx_pps=%.0f\n",
	       ifname, elapsed, (unsigned long long)frames,
	       elapsed > 0 ? (double)frames / elapsed : 0.0, st.tp_drops,
	       rx0 >= 0 && rx1 >= 0 ? rx1 - rx0 : -1LL,
	       rx0 >= 0 && rx1 >= 0 && elapsed > 0 ?
		       (double)(rx1 - rx0) / elapsed : -1.0);
	if (latency) {
		qsort(lat, nlat, sizeof(*lat), cmp_u64);
		printf("mode=latency stamped=%zu lat_p50_us=%.1f lat_p99_us=%.1f lat_max_us=%.1f\n",
		       nlat, nlat ? lat[nlat / 2] / 1e3 : -1.0,
		       nlat ? lat[nlat * 99 / 100] / 1e3 : -1.0,
		       nlat ? lat[nlat - 1] / 1e3 : -1.0);
		free(lat);
	}
	munmap(ring, (size_t)RING_BLOCK_SIZE * RING_BLOCKS);
	close(fd);
	return 0;
}

/*
 * The namespace's UDP counters RcvbufErrors and NoPorts, from the "Udp:"
 * lines of /proc/net/snmp (names, then values); -1 where unreadable.
 */
static void read_udp_mib(long long *rcvbuf_errors, long long *no_ports)
{
	char names[512], values[512];
	char *ns, *vs, *n, *v;
	FILE *f = fopen("/proc/net/snmp", "r");

	*rcvbuf_errors = *no_ports = -1;
	if (!f)
		return;
	while (fgets(names, sizeof(names), f)) {
		if (strncmp(names, "Udp: ", 5))
			continue;
		if (!fgets(values, sizeof(values), f))
			break;
		n = strtok_r(names, " \n", &ns);
		v = strtok_r(values, " \n", &vs);
		while (n && v) {
			if (!strcmp(n, "RcvbufErrors"))
				*rcvbuf_errors = atoll(v);
			else if (!strcmp(n, "NoPorts"))
				*no_ports = atoll(v);
			n = strtok_r(NULL, " \n", &ns);
			v = strtok_r(NULL, " \n", &vs);
		}
		break;
	}
	fclose(f);
}

static int cmd_udpsink(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "seconds", required_argument, NULL, 't' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "hold", no_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static uint8_t bufs[UDPSINK_BATCH][UDPSINK_BUF];
	struct mmsghdr msgs[UDPSINK_BATCH];
	struct iovec iov[UDPSINK_BATCH];
	struct timeval tv = { .tv_usec = UDPSINK_POLL_MS * 1000 };
	struct sockaddr_in sin;
	long seconds = 5, warmup = 0, port;
	uint64_t frames = 0;
	long long rb0 = -1, np0 = -1, rb1 = -1, np1 = -1;
	int fd, c, rcvbuf = UDPSINK_RCVBUF;
	socklen_t len = sizeof(rcvbuf);
	enum { WARMUP, COUNTING, HOLDING } phase = WARMUP;
	bool hold = false;
	double t_start, t0 = 0, t, elapsed = 0;

	while ((c = getopt_long(argc, argv, "t:w:h", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			seconds = parse_num(optarg, 1, 86400, "--seconds");
			break;
		case 'w':
			warmup = parse_num(optarg, 0, 86400, "--warmup");
			break;
		case 'H':
			hold = true;
			break;
		case 'h':
			usage(stdout, 0);
			break;
		default:
			usage(stderr, 2);
		}
	}
	if (optind + 1 != argc)
		usage(stderr, 2);
	port = parse_num(argv[optind], 1, 65535, "PORT");

	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		die("socket(AF_INET)");
	/*
	 * Past net.core.rmem_max if we may (root), so that the queue, not
	 * its limit, absorbs the reader's hiccups; the kernel doubles it.
	 */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf,
		       sizeof(rcvbuf)) &&
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)))
		die("SO_RCVBUF");
	if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, &len))
		die("SO_RCVBUF");
	/* Wakes the loop up to look at the clock when nothing comes. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)))
		die("SO_RCVTIMEO");
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_ANY);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)))
		die("bind");
	memset(msgs, 0, sizeof(msgs));
	for (int i = 0; i < UDPSINK_BATCH; i++) {
		iov[i].iov_base = bufs[i];
		iov[i].iov_len = UDPSINK_BUF;
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	t_start = now_s() + (double)warmup;
	while (!stop) {
		/* Blocks for the first datagram only, at most the timeout. */
		int n = recvmmsg(fd, msgs, UDPSINK_BATCH, MSG_WAITFORONE, NULL);

		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != EINTR)
			die("recvmmsg");
		if (n > 0 && phase == COUNTING)
			frames += (uint64_t)n;
		t = now_s();
		if (phase == WARMUP && t >= t_start) {
			phase = COUNTING;
			read_udp_mib(&rb0, &np0);
			t0 = t;
		} else if (phase == COUNTING && t - t0 >= (double)seconds) {
			elapsed = t - t0;
			read_udp_mib(&rb1, &np1);
			if (!hold)
				break;
			phase = HOLDING;
		}
	}
	if (phase == COUNTING) { /* a signal cut the window short */
		elapsed = now_s() - t0;
		read_udp_mib(&rb1, &np1);
	}
	printf("mode=udpsink port=%ld seconds=%.3f frames=%llu pps=%.0f rcvbuf=%d rcvbuf_errors=%lld no_ports=%lld\n",
	       port, elapsed, (unsigned long long)frames,
	       elapsed > 0 ? (double)frames / elapsed : 0.0, rcvbuf,
	       rb0 >= 0 && rb1 >= 0 ? rb1 - rb0 : -1LL,
	       np0 >= 0 && np1 >= 0 ? np1 - np0 : -1LL);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		usage(stderr, 2);
	if (!strcmp(argv[1], "send"))
		return cmd_send(argc - 1, argv + 1);
	if (!strcmp(argv[1], "count"))
		return cmd_count(argc - 1, argv + 1);
	if (!strcmp(argv[1], "udpsink"))
		return cmd_udpsink(argc - 1, argv + 1);
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))
		usage(stdout, 0);
	usage(stderr, 2);
	return 2;
}
