/* SPDX-License-Identifier: MIT */
/*
 * AF_PACKET ports.
 *
 * One SOCK_RAW packet socket per port, bound to the interface with
 * ETH_P_ALL, with:
 * - PACKET_VNET_HDR: frames come and go with a virtio-net header, so
 *   partial checksums and GSO super-frames cross the bridge intact and the
 *   egress (or the receiving stack) finishes them;
 * - PACKET_AUXDATA: the VLAN tag the kernel took out of the frame comes
 *   back as metadata, and is put back into the frame here;
 * - PACKET_IGNORE_OUTGOING: the socket does not see what the bridge (or
 *   anything else on the host) sends out of the interface, so the bridge
 *   never learns or loops its own transmits;
 * - promiscuous membership, for interfaces that filter by destination.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <linux/if_packet.h>
#include <linux/if_ether.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <endian.h>

#include <liburing.h>

#include <ubridge/compiler.h>
#include "io_private.h"

/* Socket buffers deep enough to ride out a burst while the loop works. */
#define UB_PACKET_SOCKBUF (4 << 20)

/* What each receive lays out in front of the frame: no address, the
 * auxdata control message. The area also gives the room to re-insert a
 * VLAN tag in place. */
static struct msghdr rx_tmpl = {
	.msg_controllen = CMSG_SPACE(sizeof(struct tpacket_auxdata)),
};

static int setopt__(int fd, int level, int name, int val)
{
	return setsockopt(fd, level, name, &val, sizeof(val)) ? -errno : 0;
}

static int packet_open(const char *ifname, struct ub_port_io *p)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET };
	struct packet_mreq mr = { .mr_type = PACKET_MR_PROMISC };
	int fd, ret, ifindex;

	if (strlen(ifname) >= IFNAMSIZ)
		return -ENAMETOOLONG;
	ifindex = (int)if_nametoindex(ifname);
	if (!ifindex)
		return -ENODEV;

	/* Protocol 0 until bound: no frames from other interfaces sneak in. */
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if ((ret = setopt__(fd, SOL_PACKET, PACKET_VNET_HDR, 1)) ||
	    (ret = setopt__(fd, SOL_PACKET, PACKET_AUXDATA, 1)) ||
	    (ret = setopt__(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, 1)))
		goto err;
	/* The FORCE variants lift the sysctl caps; fall back when refused. */
	if (setopt__(fd, SOL_SOCKET, SO_RCVBUFFORCE, UB_PACKET_SOCKBUF))
		setopt__(fd, SOL_SOCKET, SO_RCVBUF, UB_PACKET_SOCKBUF);
	if (setopt__(fd, SOL_SOCKET, SO_SNDBUFFORCE, UB_PACKET_SOCKBUF))
		setopt__(fd, SOL_SOCKET, SO_SNDBUF, UB_PACKET_SOCKBUF);

	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = ifindex;
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll))) {
		ret = -errno;
		goto err;
	}
	mr.mr_ifindex = ifindex;
	if (setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr))) {
		ret = -errno;
		goto err;
	}
	ret = ub_if_query__(fd, ifname, &p->mtu, &p->mac);
	if (ret)
		goto err;
	p->fd = fd;
	p->ifindex = ifindex;
	p->ops = &ub_port_packet_ops;
	return 0;
err:
	close(fd);
	return ret;
}

void ub_port_close_fd__(struct ub_port_io *p)
{
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
}

static int packet_arm_rx(struct ub_ring *ring, struct ub_port_io *p,
			 uint64_t ud)
{
	return ub_ring_recvmsg_pool__(ring, p->fd, &rx_tmpl, ud);
}

/*
 * Puts a VLAN tag back between the source MAC and the EtherType. The
 * virtio-net header and both MACs move 4 bytes towards the buffer's start,
 * into the control area already read; offsets in the header that count
 * from the frame's start grow by the tag.
 */
static void vlan_insert__(struct ub_frame *f, uint16_t tpid, uint16_t tci)
{
	struct virtio_net_hdr *vh;
	uint8_t *tag;

	memmove(f->data - UB_VLAN_HLEN, f->data, UB_VNET_HLEN + 2 * UB_ETH_ALEN);
	f->data -= UB_VLAN_HLEN;
	f->len += UB_VLAN_HLEN;
	tag = f->data + UB_VNET_HLEN + 2 * UB_ETH_ALEN;
	tag[0] = tpid >> 8;
	tag[1] = tpid & 0xff;
	tag[2] = tci >> 8;
	tag[3] = tci & 0xff;

	vh = (struct virtio_net_hdr *)f->data;
	if (vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)
		vh->csum_start = htole16(le16toh(vh->csum_start) + UB_VLAN_HLEN);
	if (vh->gso_type != VIRTIO_NET_HDR_GSO_NONE && vh->hdr_len)
		vh->hdr_len = htole16(le16toh(vh->hdr_len) + UB_VLAN_HLEN);
}

static enum ub_rx_status packet_rx_frame(struct ub_ring *ring, int res,
					 uint16_t bid, struct ub_frame *f)
{
	struct io_uring_recvmsg_out *o;
	struct tpacket_auxdata aux;
	uint16_t tpid = 0, tci = 0;
	struct cmsghdr *c;
	bool tagged = false;

	o = io_uring_recvmsg_validate(ub_ring_buf(ring, bid), res, &rx_tmpl);
	if (!o)
		return UB_RX_MALFORMED;
	if (o->flags & MSG_TRUNC)
		return UB_RX_TRUNCATED;
	f->bid = bid;
	f->data = io_uring_recvmsg_payload(o, &rx_tmpl);
	f->len = io_uring_recvmsg_payload_length(o, res, &rx_tmpl);
	if (f->len < UB_VNET_HLEN + 2 * UB_ETH_ALEN)
		return UB_RX_MALFORMED;

	for (c = io_uring_recvmsg_cmsg_firsthdr(o, &rx_tmpl); c;
	     c = io_uring_recvmsg_cmsg_nexthdr(o, &rx_tmpl, c)) {
		if (c->cmsg_level != SOL_PACKET || c->cmsg_type != PACKET_AUXDATA ||
		    c->cmsg_len < CMSG_LEN(sizeof(aux)))
			continue;
		memcpy(&aux, CMSG_DATA(c), sizeof(aux));
		tagged = aux.tp_status & TP_STATUS_VLAN_VALID;
		tci = aux.tp_vlan_tci;
		tpid = aux.tp_status & TP_STATUS_VLAN_TPID_VALID ?
			       aux.tp_vlan_tpid : UB_ETH_P_8021Q;
	}
	if (tagged)
		vlan_insert__(f, tpid, tci);
	return UB_RX_OK;
}

static int packet_send(struct ub_ring *ring, struct ub_port_io *p,
		       const struct ub_frame *f, uint64_t ud)
{
	return ub_ring_send(ring, p->fd, f->data, f->len, ud);
}

static uint64_t packet_rx_dropped(struct ub_port_io *p)
{
	struct tpacket_stats st;
	socklen_t len = sizeof(st);

	/* Reading the statistics resets them: each call gives the news. */
	if (getsockopt(p->fd, SOL_PACKET, PACKET_STATISTICS, &st, &len))
		return 0;
	return st.tp_drops;
}

const struct ub_port_ops ub_port_packet_ops = {
	.kind = "packet",
	.open = packet_open,
	.close = ub_port_close_fd__,
	.arm_rx = packet_arm_rx,
	.rx_frame = packet_rx_frame,
	.send = packet_send,
	.rx_dropped = packet_rx_dropped,
};
