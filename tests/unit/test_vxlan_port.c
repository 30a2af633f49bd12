/* SPDX-License-Identifier: MIT */
/*
 * The VXLAN port's table of remotes (include/ubridge/vxlan.h, "the
 * port"): indexes stay as they were given while others come and go (the
 * table is a hash with deletions), the flood list holds exactly what was
 * added to it, a forgotten index is not given out again until released,
 * and the port refuses what cannot be a remote VTEP. The port is opened
 * for real, on 127.0.0.1 and a UDP port of the kernel's choosing.
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

static struct in_addr ip_of(uint32_t i)
{
	/* 10.0.0.0/8 from 10.0.0.1, never the port's own 127.0.0.1. */
	return (struct in_addr){ .s_addr = htonl(0x0a000001u + i) };
}

/* A UDP port free right now on 127.0.0.1. */
static uint16_t free_port(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) ||
	    getsockname(fd, (struct sockaddr *)&sin, &len))
		return 0;
	close(fd);
	return ntohs(sin.sin_port);
}

static int setup(void **state)
{
	struct ub_vxlan_cfg cfg = { .vni = 42, .learning = true };
	uint16_t dst = free_port();

	cfg.local.s_addr = htonl(INADDR_LOOPBACK);
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
	struct in_addr bad[] = {
		{ .s_addr = 0 },
		{ .s_addr = htonl(INADDR_BROADCAST) },
		{ .s_addr = htonl(0xe0000001) }, /* 224.0.0.1 */
		{ .s_addr = htonl(INADDR_LOOPBACK) }, /* the port's own */
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(ub_vxlan_remote_add(&port, bad[i], true),
				 -EINVAL);
		assert_int_equal(ub_vxlan_remote_add(&port, bad[i], false),
				 -EINVAL);
	}
	assert_int_equal(ub_vxlan_remote_del(&port, ip_of(5)), -ENOENT);
	assert_int_equal(ub_vxlan_remote_count(&port), 0);
}

static void test_many(void **state)
{
	static int idx[UB_VXLAN_REMOTES_MAX];
	static bool gone[UB_VXLAN_REMOTES_MAX];
	struct in_addr flood[UB_VXLAN_REMOTES_MAX];
	uint32_t n = UB_VXLAN_REMOTES_MAX, left = n, nflood = 0;
	char buf[32];

	/* Every third one in the flood list. */
	for (uint32_t i = 0; i < n; i++) {
		idx[i] = ub_vxlan_remote_add(&port, ip_of(i), i % 3 == 0);
		assert_true(idx[i] > 0);
		nflood += i % 3 == 0;
	}
	assert_int_equal(ub_vxlan_remote_add(&port, ip_of(n), false), -ENOSPC);
	assert_int_equal(ub_vxlan_remote_add(&port, ip_of(0), true), -EEXIST);
	/* Known: the same index, and in the flood list once. */
	assert_int_equal(ub_vxlan_remote_add(&port, ip_of(1), false), idx[1]);
	assert_int_equal(ub_vxlan_remote_add(&port, ip_of(1), true), idx[1]);
	nflood++;
	assert_true(port.ops->remote_fmt(&port, (uint32_t)idx[7], buf,
					 sizeof(buf)));
	assert_string_equal(buf, "10.0.0.8");
	/* Forget a pseudo-random half: the others keep their indexes. */
	for (uint32_t k = 0, i = 0; k < n / 2; k++) {
		i = (i + 2654435761u) % n;
		while (gone[i])
			i = (i + 1) % n;
		assert_int_equal(ub_vxlan_remote_del(&port, ip_of(i)), idx[i]);
		gone[i] = true;
		left--;
		nflood -= i % 3 == 0 || i == 1;
	}
	assert_int_equal(ub_vxlan_remote_count(&port), left);
	for (uint32_t i = 0; i < n; i++) {
		if (gone[i]) {
			assert_int_equal(ub_vxlan_remote_del(&port, ip_of(i)),
					 -ENOENT);
			assert_false(port.ops->remote_fmt(&port,
							  (uint32_t)idx[i], buf,
							  sizeof(buf)));
		} else {
			assert_int_equal(ub_vxlan_remote_add(&port, ip_of(i),
							     false), idx[i]);
		}
	}
	assert_int_equal(ub_vxlan_flood_list(&port, flood,
					     UB_VXLAN_REMOTES_MAX), nflood);
	for (uint32_t f = 0; f < nflood; f++) {
		uint32_t i = ntohl(flood[f].s_addr) - 0x0a000001u;

		assert_false(gone[i]);
		assert_true(i % 3 == 0 || i == 1);
	}
	/* Forgotten indexes wait for their release. */
	assert_int_equal(ub_vxlan_remote_add(&port, ip_of(n), false), -ENOSPC);
	for (uint32_t i = 0; i < n; i++)
		if (gone[i])
			ub_vxlan_remote_release(&port, (uint32_t)idx[i]);
	for (uint32_t i = n; i < n + n / 2; i++)
		assert_true(ub_vxlan_remote_add(&port, ip_of(i), false) > 0);
	assert_int_equal(ub_vxlan_remote_count(&port), n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_many),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
