/* SPDX-License-Identifier: MIT */
/*
 * The VXLAN port's table of remotes (include/ubridge/vxlan.h, "the
 * port"): indexes stay as they were given while others come and go (the
 * table is a hash with deletions), the flood list holds exactly what was
 * added to it, a forgotten index is not given out again until released,
 * and the port refuses what cannot be a remote VTEP. The port is opened
 * for real, on 127.0.0.1, then on ::1, and a UDP port of the kernel's
 * choosing.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include <ubridge/io.h>
#include <ubridge/vxlan.h>

static struct ub_port_io port;
static sa_family_t fam;

/* Remote i: 10.0.0.1 + i, or fd00::1 + i; never the port's own. */
static struct ub_vxlan_ip ip_of(uint32_t i)
{
	struct ub_vxlan_ip ip = { .family = fam };
	uint32_t low = htonl(1u + i);

	if (fam == AF_INET) {
		ip.v4.s_addr = htonl(0x0a000001u + i);
	} else {
		ip.v6.s6_addr[0] = 0xfd;
		memcpy(&ip.v6.s6_addr[12], &low, 4);
	}
	return ip;
}

/* Its index in ip_of(); ~0u when it is none of them. */
static uint32_t index_of(const struct ub_vxlan_ip *ip)
{
	uint32_t low;

	if (fam == AF_INET)
		return ntohl(ip->v4.s_addr) - 0x0a000001u;
	memcpy(&low, &ip->v6.s6_addr[12], 4);
	return ip->v6.s6_addr[0] == 0xfd ? ntohl(low) - 1 : ~0u;
}

static struct ub_vxlan_ip loopback(void)
{
	struct ub_vxlan_ip ip = { .family = fam };

	if (fam == AF_INET)
		ip.v4.s_addr = htonl(INADDR_LOOPBACK);
	else
		ip.v6 = in6addr_loopback;
	return ip;
}

/* A UDP port free right now on the loopback address. */
static uint16_t free_port(void)
{
	struct sockaddr_in6 sa6 = { .sin6_family = AF_INET6,
				    .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	struct sockaddr_in sa4 = { .sin_family = AF_INET,
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct sockaddr *sa = fam == AF_INET6 ? (struct sockaddr *)&sa6 :
						(struct sockaddr *)&sa4;
	socklen_t len = fam == AF_INET6 ? sizeof(sa6) : sizeof(sa4);
	int fd = socket(fam, SOCK_DGRAM, 0);
	uint16_t got = 0;

	if (fd >= 0 && !bind(fd, sa, len) && !getsockname(fd, sa, &len))
		got = ntohs(fam == AF_INET6 ? sa6.sin6_port : sa4.sin_port);
	if (fd >= 0)
		close(fd);
	return got;
}

static int setup(void **state)
{
	struct ub_vxlan_cfg cfg = { .vni = 42, .learning = true };
	uint16_t dst = free_port();

	cfg.local = loopback();
	cfg.dstport = dst;
	/* Sending from the receiving socket: no other port is bound. */
	cfg.sport_min = cfg.sport_max = dst;
	port = (struct ub_port_io){ .fd = -1, .ops = &ub_port_vxlan_ops,
				    .cfg = &cfg };
	if (!dst || ub_port_vxlan_ops.open("vxtest", &port))
		return -1;
	port.cfg = NULL;
	return 0;
}

static int teardown(void **state)
{
	ub_port_vxlan_ops.close(&port);
	return 0;
}

static void test_defaults(void **state)
{
	const struct ub_vxlan_cfg *c = ub_vxlan_port_cfg(&port);

	assert_int_equal(c->vni, 42);
	assert_int_equal(port.ifindex, 0);
	/* The loopback's MTU less VXLAN's 50 bytes. */
	assert_true(port.mtu > 1400);
	assert_int_equal(ub_vxlan_remote_count(&port), 0);
	assert_int_equal(ub_vxlan_flood_list(&port, NULL, 0), 0);
}

static void test_refused(void **state)
{
	struct ub_vxlan_ip bad[5] = { loopback(), loopback(), loopback(),
				      loopback(), ip_of(1) };
	struct ub_vxlan_ip five = ip_of(5);

	/* The port's own; unspecified; multicast; broadcast or, for IPv6,
	 * fd00::1 given as IPv6 to an IPv4 port and the reverse: the other
	 * family. */
	if (fam == AF_INET) {
		bad[1].v4.s_addr = 0;
		bad[2].v4.s_addr = htonl(0xe0000001); /* 224.0.0.1 */
		bad[3].v4.s_addr = htonl(INADDR_BROADCAST);
		bad[4].family = AF_INET6;
	} else {
		bad[1].v6 = in6addr_any;
		bad[2].v6.s6_addr[0] = 0xff;
		bad[3].family = AF_INET;
		bad[4].family = AF_INET;
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_false(ub_vxlan_ip_remote_ok(&bad[i], &bad[0]));
		assert_int_equal(ub_vxlan_remote_add(&port, &bad[i], true),
				 -EINVAL);
		assert_int_equal(ub_vxlan_remote_add(&port, &bad[i], false),
				 -EINVAL);
	}
	assert_int_equal(ub_vxlan_remote_del(&port, &five), -ENOENT);
	assert_int_equal(ub_vxlan_remote_count(&port), 0);
}

static int add(uint32_t i, bool flood)
{
	struct ub_vxlan_ip ip = ip_of(i);

	return ub_vxlan_remote_add(&port, &ip, flood);
}

static int del(uint32_t i)
{
	struct ub_vxlan_ip ip = ip_of(i);

	return ub_vxlan_remote_del(&port, &ip);
}

static void test_many(void **state)
{
	static int idx[UB_VXLAN_REMOTES_MAX];
	static bool gone[UB_VXLAN_REMOTES_MAX];
	static struct ub_vxlan_ip flood[UB_VXLAN_REMOTES_MAX];
	uint32_t n = UB_VXLAN_REMOTES_MAX, left = n, nflood = 0;
	char buf[64], want[64];

	memset(gone, 0, sizeof(gone));
	/* Every third one in the flood list. */
	for (uint32_t i = 0; i < n; i++) {
		idx[i] = add(i, i % 3 == 0);
		assert_true(idx[i] > 0);
		nflood += i % 3 == 0;
	}
	assert_int_equal(add(n, false), -ENOSPC);
	assert_int_equal(add(0, true), -EEXIST);
	/* Known: the same index, and in the flood list once. */
	assert_int_equal(add(1, false), idx[1]);
	assert_int_equal(add(1, true), idx[1]);
	nflood++;
	assert_true(port.ops->remote_fmt(&port, (uint32_t)idx[7], buf,
					 sizeof(buf)));
	assert_string_equal(buf, fam == AF_INET ? "10.0.0.8" : "fd00::8");
	/* Forget a pseudo-random half: the others keep their indexes. */
	for (uint32_t k = 0, i = 0; k < n / 2; k++) {
		i = (i + 2654435761u) % n;
		while (gone[i])
			i = (i + 1) % n;
		assert_int_equal(del(i), idx[i]);
		gone[i] = true;
		left--;
		nflood -= i % 3 == 0 || i == 1;
	}
	assert_int_equal(ub_vxlan_remote_count(&port), left);
	for (uint32_t i = 0; i < n; i++) {
		if (gone[i]) {
			assert_int_equal(del(i), -ENOENT);
			assert_false(port.ops->remote_fmt(&port,
							  (uint32_t)idx[i], buf,
							  sizeof(buf)));
		} else {
			assert_int_equal(add(i, false), idx[i]);
		}
	}
	assert_int_equal(ub_vxlan_flood_list(&port, flood,
					     UB_VXLAN_REMOTES_MAX), nflood);
	for (uint32_t f = 0; f < nflood; f++) {
		uint32_t i = index_of(&flood[f]);
		struct ub_vxlan_ip ip = ip_of(i);

		assert_true(i < n);
		assert_false(gone[i]);
		assert_true(i % 3 == 0 || i == 1);
		assert_string_equal(ub_vxlan_ip_fmt(&flood[f], buf, sizeof(buf)),
				    ub_vxlan_ip_fmt(&ip, want, sizeof(want)));
	}
	/* Forgotten indexes wait for their release. */
	assert_int_equal(add(n, false), -ENOSPC);
	for (uint32_t i = 0; i < n; i++)
		if (gone[i])
			ub_vxlan_remote_release(&port, (uint32_t)idx[i]);
	for (uint32_t i = n; i < n + n / 2; i++)
		assert_true(add(i, false) > 0);
	assert_int_equal(ub_vxlan_remote_count(&port), n);
}

static int setup4(void **state)
{
	fam = AF_INET;
	return setup(state);
}

static int setup6(void **state)
{
	fam = AF_INET6;
	return setup(state);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_many),
	};

	return cmocka_run_group_tests_name("ipv4", tests, setup4, teardown) |
	       cmocka_run_group_tests_name("ipv6", tests, setup6, teardown);
}
