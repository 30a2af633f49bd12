#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes the seed corpus in tests/fuzz/corpus/ from the lists below.

The seeds are chosen by hand, one per behaviour worth starting from: the
fuzzer mutates them, so each should be small and reach a distinct path.
Run it again after editing the lists; it replaces the corpus folders.
The input formats are described at the top of each harness.
"""
import hashlib
import os
import shutil
import struct

HERE = os.path.dirname(os.path.abspath(__file__))

# --- fuzz_ctl_request: request lines, reply lines, MACs, words ----------
CTL = [
    b"port add veth0\n",
    b"port add tap0 type tap mtu 9000\n",
    b"port add 3 of veth0 type of max-learned 5 policy drop\n",
    b"port del veth0\n",
    b"port show\n",
    b"fdb show\n",
    b"fdb add 02:00:00:00:00:01 dev veth0 vlan 5\n",
    b"fdb add 02:00:00:00:00:01 dev veth0\n",
    b"fdb del 02:00:00:00:00:01 vlan 4095\n",
    b"fdb flush dev veth1\n",
    b"set ageing 300\n",
    b"stats\n",
    b"capture start all /tmp/a%20b.pcap dir in filter udp%20port%2053"
    b" snaplen 96 count 10 rotate-size 1 rotate-files 3\n",
    b"capture watch veth0 dir both\n",
    b"capture stop all\n",
    b"netns add ns1 addr 10.0.0.1/24 addr fd00::1/64 gw 10.0.0.254"
    b" mac 02:00:00:00:00:0a mtu 1500 ifname eth0\n",
    b"netns attach pid 1234 addr 192.168.1.2/24\n",
    b"gateway add 10.0.0.254/24\n",
    b"nat on\n",
    b"time warp 1000\n",
    # 32 words: the most a request may have.
    b" ".join([b"w"] * 32) + b"\n",
    # 33 words: one too many.
    b" ".join([b"w"] * 33) + b"\n",
    # Malformed framing.
    b"\n",
    b"port  add veth0\n",
    b" port show\n",
    b"port show \n",
    b"port show",
    b"port\tshow\n",
    b"port show\n\n",
    b"port sh\x00w\n",
    b"port show\r\n",
    b"fdb add 02:00:00:00:00:01 dev veth\xc3\xa90\n",
    # Reply lines: statuses and records.
    b"errno=0",
    b"errno=2 No such file or directory",
    b"errno=4095 x",
    b"errno=4096 too big",
    b"errno=007 leading zeros",
    b"errno=22 ",
    b"name=veth0 id=1 rx=10 tx=20 rx_drop_runt=0",
    b"mac=02:00:00:00:00:01 vlan=0 port=veth0 static=1 age=",
    b"k=v=w",
    b"errno=x not a status",
    b"=v",
    b"a=b ",
    # MACs and percent-encoded words.
    b"02:00:00:00:00:01",
    b"FF:ff:Ff:fF:00:00",
    b"02:00:00:00:00:1",
    b"02-00-00-00-00-01",
    b"a%20b%25c",
    b"%00",
    b"%zz%",
]

# --- fuzz_forward: setup byte, then ops -----------------------------------
BCAST = b"\xff" * 6
A = b"\x02\x00\x00\x00\x00\x01"
B = b"\x02\x00\x00\x00\x00\x02"
C = b"\x52\x54\x00\x12\x34\x56"
MCAST = b"\x01\x00\x5e\x00\x00\x01"
STP = b"\x01\x80\xc2\x00\x00\x00"
LLDP = b"\x01\x80\xc2\x00\x00\x0e"
PAST_LL = b"\x01\x80\xc2\x00\x00\x10"
ZERO = b"\x00" * 6

OP_RAW, OP_BUILT, OP_ADMIN, OP_BURST = 0, 4, 6, 7


def op(kind, port=0, step=0):
    return bytes([kind << 5 | (step & 3) << 3 | (port & 7)])


def eth(dst, src, ethertype=0x0800, payload=b"", vlan=None, tpid=0x8100):
    hdr = dst + src
    if vlan is not None:
        hdr += struct.pack(">HH", tpid, vlan)
    frame = hdr + struct.pack(">H", ethertype) + payload
    return frame + b"\x00" * max(0, 60 - len(frame))


def raw(frame, port=0, step=0):
    return op(OP_RAW, port, step) + struct.pack(">H", len(frame)) + frame


def built(src, dst, vlan_byte=0, port=0, step=0):
    return op(OP_BUILT, port, step) + bytes([src << 4 | dst, vlan_byte])


def admin(sel, *args, port=0, step=0):
    return op(OP_ADMIN, port, step) + bytes([sel]) + bytes(args)


def burst(n, port=0, step=0):
    return op(OP_BURST, port, step) + bytes([n])


SETUP_CAP64, SETUP_CONST_HASH, SETUP_CAP8, SETUP_CAP1 = 0, 1, 4, 6
# The odd ports' own cap (bits 3-4: none, 1, 3, 8) and policy (bit 5).
SETUP_PORT_CAP1, SETUP_PORT_CAP3, SETUP_PORT_DROP = 1 << 3, 2 << 3, 1 << 5

FWD = [
    # A talks to B and back: learn, flood, then unicast.
    bytes([SETUP_CAP64]) + raw(eth(B, A), 0) + raw(eth(A, B), 1)
    + raw(eth(B, A), 0),
    bytes([SETUP_CAP64]) + raw(eth(BCAST, A), 2),
    bytes([SETUP_CAP64]) + raw(eth(B, A, vlan=5), 0)
    + raw(eth(A, B, vlan=5), 1) + raw(eth(A, B, vlan=6), 2),
    bytes([SETUP_CAP64]) + raw(eth(B, A, vlan=4095, tpid=0x88a8), 3),
    # Runts: empty, one byte short of a header, a header with no tag.
    bytes([SETUP_CAP64]) + raw(b"", 0),
    bytes([SETUP_CAP64]) + raw(eth(B, A)[:13], 0),
    bytes([SETUP_CAP64]) + raw(A + B + b"\x81\x00", 0),
    bytes([SETUP_CAP64]) + raw(A + B + b"\x81\x00\x00\x05", 0),
    # Sources a bridge must not learn.
    bytes([SETUP_CAP64]) + raw(eth(B, MCAST), 0),
    bytes([SETUP_CAP64]) + raw(eth(B, ZERO), 0),
    bytes([SETUP_CAP64]) + raw(eth(B, BCAST), 0),
    # Link-local destinations, and the first group address past them.
    bytes([SETUP_CAP64]) + raw(eth(STP, A, 0x0026), 0),
    bytes([SETUP_CAP64]) + raw(eth(LLDP, A, 0x88cc), 1),
    bytes([SETUP_CAP64]) + raw(eth(PAST_LL, A), 1),
    bytes([SETUP_CAP64]) + raw(eth(MCAST, C, vlan=1), 4),
    # Same-port drop, then a move.
    bytes([SETUP_CAP64]) + raw(eth(B, A), 0) + raw(eth(A, B), 0)
    + raw(eth(A, B), 3),
    # A jumbo frame.
    bytes([SETUP_CAP64]) + raw(eth(B, A, payload=b"\xab" * 9000), 0),
    # Built frames from the pool, tagged and not.
    bytes([SETUP_CAP8]) + built(0, 1, 0, 0) + built(1, 0, 0, 1)
    + built(0, 1, 0x85, 2) + built(2, 7, 0x03, 3),
    # Ageing: learn, let the clock pass the ageing time, age.
    bytes([SETUP_CAP64]) + raw(eth(B, A), 0) + op(OP_RAW, 0, 3)
    + b"\x00\x00" + op(OP_RAW, 0, 3) + b"\x00\x00" + admin(0, step=3),
    # Static entry pins A to port 5; learning A on port 0 is refused.
    bytes([SETUP_CAP64]) + admin(4, 0, port=5) + built(0, 1, 0, 0)
    + built(1, 0, 0, 2),
    bytes([SETUP_CAP64]) + admin(7, *A, 0, port=1) + raw(eth(A, B), 2),
    # Delete, flush one port, flush all with statics.
    bytes([SETUP_CAP64]) + built(0, 7, 0, 1) + admin(3, 0)
    + built(1, 7, 0, 1) + admin(1, port=1) + admin(4 | 8, 0, port=2)
    + admin(2 | 8),
    # Ageing time changes: 0 stops learning, huge never ages.
    bytes([SETUP_CAP64]) + built(0, 1) + admin(5 | 0 << 5)
    + built(0, 1) + admin(5 | 7 << 5) + built(0, 1, step=3)
    + admin(0, step=3),
    # Floods past the cap: eviction with each cap and the constant hash.
    bytes([SETUP_CAP64]) + burst(99, 1) + built(0, 1, 0, 2),
    bytes([SETUP_CAP8 | SETUP_CONST_HASH]) + burst(20, 3, 2),
    bytes([SETUP_CAP1]) + burst(3, 0) + built(0, 1, 0, 1)
    + built(1, 0, 0, 2),
    bytes([SETUP_CONST_HASH]) + built(0, 1) + built(1, 0, 0, 1)
    + built(2, 1, 0, 2) + admin(3, 0) + built(0, 2, 0, 3),
    # Odd ports capped at 3: a burst past it (nolearn, then drop), a known
    # source still passes, a move into a full port goes through.
    bytes([SETUP_PORT_CAP3]) + burst(5, 1) + built(0, 1, 0, 1)
    + built(0, 1, 0, 1),
    bytes([SETUP_PORT_CAP3 | SETUP_PORT_DROP]) + built(0, 1, 0, 3)
    + burst(4, 3) + built(0, 1, 0, 3) + built(1, 0, 0, 2)
    + built(1, 0, 0, 3) + built(2, 0, 0, 3),
    # Cap 1 with drop: ageing and a flush make room again.
    bytes([SETUP_PORT_CAP1 | SETUP_PORT_DROP]) + built(0, 1, 0, 1)
    + built(1, 0, 0, 1) + admin(0, step=3) + admin(0, step=3)
    + admin(0, step=3) + built(1, 0, 0, 1) + admin(1, port=1)
    + built(2, 0, 0, 1),
    # Static table full: the ninth add is refused.
    bytes([SETUP_CAP64]) + b"".join(admin(7, 2, 0, 0, 0, 0, i, 0, port=1)
                                    for i in range(1, 10)),
]

# --- fuzz_cidr: text (and the same bytes as a value) ----------------------
CIDR = [
    b"10.0.0.1/24",
    b"0.0.0.0/0",
    b"255.255.255.255/32",
    b"192.168.1.1/33",
    b"192.168.01.1/24",
    b"1.2.3.4/024",
    b"1.2.3.4/",
    b"1.2.3.4",
    b"1.2.3",
    b"fd00::1/64",
    b"::/0",
    b"::1",
    b"FE80::A:B/128",
    b"::ffff:10.0.0.1/96",
    b"2001:db8:0:0:0:0:0:1/129",
    b"ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255/128",
    b"1:2:3:4:5:6:7:8:9/64",
    b"10.0.0.1/24/8",
    b"/24",
    b"\x00\x18\x0a\x00\x00\x01",
    b"\x01\x40\xfd\x00" + b"\x00" * 11 + b"\x01",
]

# --- fuzz_vxlan: mode byte, then its input -------------------------------
VX_DECODE, VX_ENCAP, VX_SPORT, VX_CSUM = 0, 1, 2, 3
# encap options: fix the IP lengths, point the checksum at TCP/UDP.
VX_FIX_LEN, VX_FIX_CSUM = 4, 8
GSO_NONE, GSO_TCPV4, GSO_UDP, GSO_TCPV6, GSO_UDP_L4, GSO_ECN = 0, 1, 3, 4, 5, 0x80
NEEDS_CSUM = 1


def vxlan_hdr(vni, flags=0x08, reserved=b"\x00\x00\x00", last=0):
    return bytes([flags]) + reserved + struct.pack(">I", vni << 8 | last)


def vnet(flags=0, gso_type=GSO_NONE, hdr_len=0, gso_size=0, csum_start=0,
         csum_offset=0):
    return struct.pack("<BBHHHH", flags, gso_type, hdr_len, gso_size,
                       csum_start, csum_offset)


def inet_frame(v6=False, udp=False, payload=b"", ipopt=b"", tcpopt=b"",
               tcp_flags=0x10, vlan=False, ip_id=1, seq=1000):
    """An Ethernet frame; returns it and the L4 header's offset."""
    l2 = B + A + (struct.pack(">HH", 0x8100, 5) if vlan else b"")
    if udp:
        l4 = struct.pack(">HHHH", 40000, 4789, 8 + len(payload), 0)
    else:
        l4 = struct.pack(">HHIIBBHHH", 40000, 5201, seq, 77,
                         (20 + len(tcpopt)) // 4 << 4, tcp_flags, 502, 0,
                         0) + tcpopt
    proto = 17 if udp else 6
    if v6:
        ip = struct.pack(">IHBB", 0x60000001, len(l4) + len(payload), proto,
                         64) + b"\xfd" + b"\x00" * 14 + b"\x01" \
            + b"\xfd" + b"\x00" * 14 + b"\x02"
        l2 += b"\x86\xdd"
    else:
        ihl = (20 + len(ipopt)) // 4
        ip = struct.pack(">BBHHHBBH4s4s", 0x40 | ihl, 0,
                         ihl * 4 + len(l4) + len(payload), ip_id, 0x4000, 64,
                         proto, 0, b"\x0a\x00\x00\x01",
                         b"\x0a\x00\x00\x02") + ipopt
        l2 += b"\x08\x00"
    return l2 + ip + l4 + payload, len(l2) + len(ip)


def superframe(gso_size, v6=False, udp=False, ecn=False, **kw):
    frame, l4 = inet_frame(v6=v6, udp=udp, **kw)
    gso = GSO_UDP_L4 if udp else GSO_TCPV6 if v6 else GSO_TCPV4
    hlen = l4 + (8 if udp else 20 + len(kw.get("tcpopt", b"")))
    return vnet(NEEDS_CSUM, gso | (GSO_ECN if ecn else 0), hlen, gso_size,
                l4, 6 if udp else 16) + frame


def partial(**kw):
    frame, l4 = inet_frame(**kw)
    return vnet(NEEDS_CSUM, GSO_NONE, 0, 0, l4,
                6 if kw.get("udp") else 16) + frame


def patch(data, off, new):
    return data[:off] + new + data[off + len(new):]


def encap(opts, data):
    return bytes([VX_ENCAP | opts]) + data


def fold(total):
    while total >> 16:
        total = (total & 0xffff) + (total >> 16)
    return total


def sum16(b):
    if len(b) % 2:
        b += b"\x00"
    return sum(struct.unpack(">%dH" % (len(b) // 2), b))


def tcp_seg(payload, seq, flags=0x10, v6=False, ip_id=1, full=True):
    """A TCP segment in an Ethernet frame with a complete checksum (or,
    full=False, the pseudo-header's sum a NIC would complete)."""
    frame, l4 = inet_frame(v6=v6, payload=payload, seq=seq, tcp_flags=flags,
                           ip_id=ip_id)
    frame = bytearray(frame)
    if v6:
        pseudo = sum16(bytes(frame[22:54]))
    else:
        frame[24:26] = struct.pack(">H", ~fold(sum16(bytes(frame[14:34])))
                                   & 0xffff)
        pseudo = sum16(bytes(frame[26:34]))
    l4len = len(frame) - l4
    pseudo += 6 + l4len
    if full:
        c = ~fold(pseudo + sum16(bytes(frame[l4:]))) & 0xffff
    else:
        c = fold(pseudo)
    frame[l4 + 16:l4 + 18] = struct.pack(">H", c)
    return bytes(frame)


def gro(vni, mss, nseg, last, v6=False):
    """A UDP_GRO receive: the datagrams of one TSO frame's segments."""
    out = b""
    for i in range(nseg):
        size = mss if i + 1 < nseg else last
        data = (PAYLOAD * 8)[i * mss:i * mss + size]
        out += vxlan_hdr(vni) + tcp_seg(data, 1000 + i * mss,
                                        0x18 if i + 1 == nseg else 0x10,
                                        v6=v6, ip_id=1 + i)
    return out


PAYLOAD = bytes(range(256)) * 2
TS_OPT = b"\x01\x01\x08\x0a" + b"\x00\x00\x00\x01" * 2
VXLAN = [
    # Decode: any VNI, one VNI, reserved bits, no I flag, short, runt,
    # a GRO buffer of three datagrams (the last shorter).
    bytes([VX_DECODE]) + b"\x00\x00" + vxlan_hdr(42) + eth(B, A),
    bytes([VX_DECODE | 8]) + b"\x00\x00\x2a\x00\x00" + vxlan_hdr(42)
    + eth(B, A),
    bytes([VX_DECODE]) + b"\x00\x00" + vxlan_hdr(42, flags=0x88)
    + eth(B, A),
    bytes([VX_DECODE | 4]) + b"\x00\x00"
    + vxlan_hdr(42, reserved=b"\x00\x01\x00", last=1) + eth(B, A),
    bytes([VX_DECODE]) + b"\x00\x00" + vxlan_hdr(42, flags=0) + eth(B, A),
    bytes([VX_DECODE]) + b"\x00\x00" + vxlan_hdr(42)[:5],
    bytes([VX_DECODE]) + b"\x00\x00" + vxlan_hdr(42) + eth(B, A)[:13],
    bytes([VX_DECODE]) + struct.pack(">H", 68)
    + (vxlan_hdr(7) + eth(B, A)) * 2 + vxlan_hdr(7) + eth(B, A)[:20],
    # GRO receives a ubridge VTEP sends (one TSO frame's segments), which
    # merge; a partial checksum (completed) and a TSO frame in one datagram
    # (marked GSO), as a kernel VTEP on the same host hands them over.
    bytes([VX_DECODE | 8]) + b"\x00\x00\x2a" + struct.pack(">H", 8 + 54 + 100)
    + gro(42, 100, 4, 37),
    bytes([VX_DECODE]) + struct.pack(">H", 8 + 74 + 64)
    + gro(7, 64, 3, 64, v6=True),
    bytes([VX_DECODE]) + b"\x00\x00" + vxlan_hdr(42)
    + tcp_seg(PAYLOAD[:77], 5, full=False),
    bytes([VX_DECODE]) + struct.pack(">H", 1000) + vxlan_hdr(42)
    + tcp_seg(PAYLOAD * 4, 5, full=False),
    # Encap: plain, partial checksums, super-frames of each kind.
    encap(0, vnet() + eth(B, A)),
    encap(0, vnet() + eth(B, A, payload=b"\xab" * 9000)),
    encap(0, partial(payload=PAYLOAD[:101])),
    encap(0, partial(udp=True, v6=True, payload=PAYLOAD[:64])),
    encap(0, partial(vlan=True, tcpopt=TS_OPT, payload=PAYLOAD[:7])),
    encap(0, superframe(100, payload=PAYLOAD[:350], tcpopt=TS_OPT,
                        tcp_flags=0x80 | 0x18 | 0x01, ip_id=0xfffe)),
    encap(0, superframe(100, ecn=True, ipopt=b"\x01\x01\x01\x00",
                        vlan=True, payload=PAYLOAD[:301], tcp_flags=0x99)),
    encap(0, superframe(1448, payload=(PAYLOAD * 16)[:5 * 1448 + 3])),
    encap(0, superframe(120, v6=True, payload=PAYLOAD[:500],
                        tcp_flags=0x19)),
    encap(0, superframe(64, udp=True, payload=PAYLOAD[:200])),
    encap(0, superframe(64, udp=True, v6=True, vlan=True,
                        payload=PAYLOAD[:129])),
    encap(VX_FIX_LEN | VX_FIX_CSUM, superframe(1, payload=PAYLOAD[:40])),
    encap(VX_FIX_LEN | VX_FIX_CSUM, superframe(50, payload=b"")),
    # Refused: UFO, an IPv6 hop-by-hop header, a fragment.
    encap(0, vnet(NEEDS_CSUM, GSO_UDP, 42, 100, 34, 6)
          + inet_frame(udp=True, payload=PAYLOAD[:300])[0]),
    encap(VX_FIX_LEN, patch(superframe(100, v6=True, payload=PAYLOAD[:300]),
                            10 + 14 + 6, b"\x00")),
    encap(0, patch(superframe(100, payload=PAYLOAD[:300]), 10 + 14 + 6,
                   b"\x20\x00")),
    # Source port: the RFC's range, one port, a reversed range.
    bytes([VX_SPORT]) + struct.pack(">HH", 49152, 65535)
    + inet_frame(payload=PAYLOAD[:10])[0],
    bytes([VX_SPORT]) + struct.pack(">HH", 4789, 4789)
    + inet_frame(v6=True, udp=True, vlan=True)[0],
    bytes([VX_SPORT]) + struct.pack(">HH", 60000, 10) + eth(BCAST, A),
    # Checksum completion in place: TCP at its place, a field at the end.
    bytes([VX_CSUM]) + struct.pack(">HH", 34, 16)
    + inet_frame(payload=PAYLOAD[:33])[0],
    bytes([VX_CSUM]) + struct.pack(">HH", 0, 58) + eth(B, A),
]

SETS = {
    "fuzz_ctl_request": CTL,
    "fuzz_forward": FWD,
    "fuzz_cidr": CIDR,
    "fuzz_vxlan": VXLAN,
}


def main():
    for name, seeds in SETS.items():
        path = os.path.join(HERE, "corpus", name)
        shutil.rmtree(path, ignore_errors=True)
        os.makedirs(path)
        for seed in seeds:
            # Content-named, as libFuzzer names its own, so no duplicates.
            fname = hashlib.sha1(seed).hexdigest()
            with open(os.path.join(path, fname), "wb") as f:
                f.write(seed)
        print(f"{name}: {len(seeds)} seeds")


if __name__ == "__main__":
    main()
