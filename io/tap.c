/* SPDX-License-Identifier: MIT */
/*
 * TAP ports: a TAP device the bridge creates and owns (a VM's NIC, or the
 * host's own leg on the bridge). It lives as long as its fd: closing the
 * port removes the device.
 *
 * IFF_VNET_HDR gives every frame the same virtio-net header the AF_PACKET
 * ports use, so offload state crosses between the two kinds unchanged;
 * TUNSETOFFLOAD tells the kernel it may hand us partial checksums and TSO
 * super-frames rather than segment them first. Frames come with their VLAN
 * tags in place: nothing to re-insert.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "io_private.h"

int ub_if_query__(int fd, const char *ifname, uint32_t *mtu,
		  struct ub_mac *mac)
{
	struct ifreq ifr = { 0 };
	int s = fd >= 0 ? fd : socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int ret = 0;

	if (s < 0)
		return -errno;
	strncpy(ifr.ifr_name, ifname, IFNAMSIZ - 1);
	if (ioctl(s, SIOCGIFMTU, &ifr)) {
		ret = -errno;
		goto out;
	}
	*mtu = (uint32_t)ifr.ifr_mtu;
	if (ioctl(s, SIOCGIFHWADDR, &ifr)) {
		ret = -errno;
		goto out;
	}
	memcpy(mac->b, ifr.ifr_hwaddr.sa_data, UB_ETH_ALEN);
out:
	if (fd < 0)
		close(s);
	return ret;
}

static int tap_open(const char *ifname, struct ub_port_io *p)
{
	unsigned int offload = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 |
			       TUN_F_TSO_ECN;
	int hdr = (int)UB_VNET_HLEN, fd, ret;
	struct ifreq ifr = { 0 };

	if (strlen(ifname) >= IFNAMSIZ)
		return -ENAMETOOLONG;
	/* TUNSETIFF would attach to a persistent TAP of that name: we make
	 * our own, or nothing. */
	if (if_nametoindex(ifname))
		return -EEXIST;
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	strncpy(ifr.ifr_name, ifname, IFNAMSIZ - 1);
	if (ioctl(fd, TUNSETIFF, &ifr) || ioctl(fd, TUNSETVNETHDRSZ, &hdr) ||
	    ioctl(fd, TUNSETOFFLOAD, offload)) {
		ret = -errno;
		goto err;
	}
	p->ifindex = (int)if_nametoindex(ifname);
	ret = ub_if_query__(-1, ifname, &p->mtu, &p->mac);
	if (ret)
		goto err;
	p->fd = fd;
	return 0;
err:
	close(fd);
	return ret;
}

static int tap_arm_rx(struct ub_ring *ring, struct ub_port_io *p, uint64_t ud)
{
	return ub_ring_read_pool__(ring, p->fd, ud);
}

static enum ub_rx_status tap_rx_frame(struct ub_ring *ring,
				      struct ub_port_io *p, int res,
				      uint16_t bid, struct ub_frame *f)
{
	f->data = ub_ring_buf(ring, bid);
	f->len = (uint32_t)res;
	return f->len < UB_VNET_HLEN ? UB_RX_MALFORMED : UB_RX_OK;
}

static int tap_send(struct ub_ring *ring, struct ub_port_io *p,
		    const struct ub_frame *f, uint64_t ud)
{
	return ub_ring_write(ring, p->fd, f->data, f->len, ud);
}

const struct ub_port_ops ub_port_tap_ops = {
	.kind = "tap",
	.flags = UB_PORT_F_OWN_DEVICE,
	.open = tap_open,
	.close = ub_port_close_fd__,
	.arm_rx = tap_arm_rx,
	.rx_frame = tap_rx_frame,
	.send = tap_send,
};
