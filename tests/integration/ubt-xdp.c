/* SPDX-License-Identifier: MIT */
/*
 * ubt-xdp IFNAME: attaches an XDP program that passes every frame to
 * IFNAME (generic mode, through a BPF link), prints "attached", and holds
 * it until standard input ends or a signal comes: someone else's program,
 * which ubridge must neither replace nor remove.
 */
#include <errno.h>
#include <linux/bpf.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	const struct bpf_insn pass[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0,
		  .imm = XDP_PASS },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	union bpf_attr a;
	unsigned ifindex;
	long prog, link;
	char c;

	if (argc != 2) {
		fprintf(stderr, "usage: ubt-xdp IFNAME\n");
		return 2;
	}
	ifindex = if_nametoindex(argv[1]);
	if (!ifindex) {
		fprintf(stderr, "ubt-xdp: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_XDP;
	a.insns = (uint64_t)(uintptr_t)pass;
	a.insn_cnt = 2;
	a.license = (uint64_t)(uintptr_t)"MIT";
	prog = syscall(__NR_bpf, BPF_PROG_LOAD, &a, sizeof(a));
	if (prog < 0) {
		fprintf(stderr, "ubt-xdp: load: %s\n", strerror(errno));
		return 1;
	}
	memset(&a, 0, sizeof(a));
	a.link_create.prog_fd = (uint32_t)prog;
	a.link_create.target_ifindex = ifindex;
	a.link_create.attach_type = BPF_XDP;
	a.link_create.flags = XDP_FLAGS_SKB_MODE;
	link = syscall(__NR_bpf, BPF_LINK_CREATE, &a, sizeof(a));
	if (link < 0) {
		fprintf(stderr, "ubt-xdp: attach: %s\n", strerror(errno));
		return 1;
	}
	printf("attached\n");
	fflush(stdout);
	while (read(0, &c, 1) > 0)
		;
	return 0;
}
