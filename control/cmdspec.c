/* SPDX-License-Identifier: MIT */
/*
 * The command table: every control command with its arguments, declared
 * once. The parser (cmdparse.c), ubctl's help and its shell completion
 * (cmdhelp.c) are all driven by it, so a new command or option is one
 * entry here plus its handler in the daemon.
 *
 * The wire form must stay what older ubctl versions sent and what older
 * state files hold (core/state.c writes it): "port add IF type tap mtu N",
 * "port add IF netns NS peer IF made yes|no", "capture start PORT FILE
 * dir D ... append yes" and so on.
 */
#include <string.h>

#include <ubridge/compiler.h>
#include <ubridge/cmd.h>

static const char *const policy_words[] = { "drop", "nolearn", NULL };
static const char *const dir_words[] = { "in", "out", "both", NULL };
static const char *const nat_words[] = { "on", "off", NULL };
static const char *const action_words[] = { "add", "del", NULL };

_Static_assert(UB_CMD_POLICY_NOLEARN == 1 && UB_CMD_DIR_BOTH == 2 &&
	       UB_CMD_NAT_OFF == 1 && UB_CMD_ACTION_DEL == 1,
	       "enum values follow their words");

#define ARGS(a) .args = (a), .nargs = UB_ARRAY_SIZE(a)

/* A positional that must be given, of type t, stored under key k. */
#define POS(m, k, t, ...)						\
	{ .meta = m, .key = k, .type = t,				\
	  .flags = UB_CMD_A_POS | UB_CMD_A_REQUIRED, __VA_ARGS__ }

/* A word of its own, without dashes, that says yes by being there. */
#define WORD_FLAG(n, k, h)						\
	{ .name = n, .key = k, .type = UB_CMD_T_FLAG,			\
	  .flags = UB_CMD_A_BARE, .wire = n, .help = h }

/* ---- port ---- */

/* The cap of "port add" and "port set". */
#define PORT_CAP_OPTS							\
	{ .name = "max-learned", .meta = "N",				\
	  .key = UB_CMD_K_MAX_LEARNED, .type = UB_CMD_T_UINT,		\
	  .max = UINT32_MAX, .expect = "a number; 0: no cap of its own",	\
	  .help = "cap the addresses learned on the port (at most the "	\
		  "bridge's own cap)" },					\
	{ .name = "policy", .key = UB_CMD_K_POLICY, .type = UB_CMD_T_ENUM, \
	  .words = policy_words,						\
	  .help = "at the cap, drop frames from new addresses, or forward "	\
		  "them without learning (the default)" }

/* "port add", a count, "of", the names and "max-learned N policy P". */
_Static_assert(4 + UB_CMD_IFNAMES_MAX + 4 <= UB_CTL_ARGS_MAX &&
	       (UB_IFNAME_MAX + 1) * UB_CMD_IFNAMES_MAX + 64 <= UB_CTL_REQ_MAX,
	       "a port add of the most interfaces fits a request");

static const struct ub_cmd_arg port_add_args[] = {
	{ .meta = "IFNAME", .key = UB_CMD_K_IFNAME, .type = UB_CMD_T_IFNAME,
	  .flags = UB_CMD_A_POS | UB_CMD_A_REQUIRED | UB_CMD_A_MULTI,
	  .multi_max = UB_CMD_IFNAMES_MAX, .plural = "interfaces" },
	{ .name = "tap", .key = UB_CMD_K_TAP, .type = UB_CMD_T_FLAG,
	  .flags = UB_CMD_A_SINGLE, .wire = "type tap",
	  .help = "make IFNAME a TAP device owned by the bridge" },
	{ .name = "mtu", .meta = "N", .key = UB_CMD_K_MTU,
	  .type = UB_CMD_T_UINT, .min = 68, .max = 65535, .needs = "tap",
	  .help = "the TAP device's MTU (an interface's own is set with "
		  "ip link)" },
	PORT_CAP_OPTS,
	{ .name = "netns", .meta = "NAME", .key = UB_CMD_K_NETNS,
	  .type = UB_CMD_T_NETNS,
	  .flags = UB_CMD_A_HIDDEN | UB_CMD_A_ENCODED | UB_CMD_A_SINGLE },
	{ .name = "peer", .meta = "IF", .key = UB_CMD_K_PEER,
	  .type = UB_CMD_T_IFNAME,
	  .flags = UB_CMD_A_HIDDEN, .needs = "netns" },
	{ .name = "made", .key = UB_CMD_K_MADE, .type = UB_CMD_T_BOOL,
	  .flags = UB_CMD_A_HIDDEN, .needs = "netns" },
	{ .name = "container", .meta = "ID", .key = UB_CMD_K_CONTAINER,
	  .type = UB_CMD_T_WORD, .flags = UB_CMD_A_HIDDEN, .needs = "netns" },
};

static const struct ub_cmd_arg port_set_args[] = {
	POS("IFNAME", UB_CMD_K_IFNAME, UB_CMD_T_PORT),
	PORT_CAP_OPTS,
	{ .name = "loop-guard", .key = UB_CMD_K_LOOP_GUARD,
	  .type = UB_CMD_T_ENUM, .words = nat_words,
	  .help = "block the port when it closes a loop (on, the default), "
		  "or never (off: a port that must stay open)" },
	{ .name = "bpdu-guard", .key = UB_CMD_K_BPDU_GUARD,
	  .type = UB_CMD_T_ENUM, .words = nat_words,
	  .help = "block the port when a spanning tree BPDU comes in (on, "
		  "for access ports facing hosts), or not (off, the default)" },
	{ .name = "group-fwd-mask", .meta = "MASK",
	  .key = UB_CMD_K_GROUP_FWD_MASK, .type = UB_CMD_T_UINT,
	  .max = 0xffff, .expect = "0 to 0xffff",
	  .help = "forward frames to 01:80:C2:00:00:0X that come in on the "
		  "port when bit X is set (0x4000: LLDP, 0x4: LACP, 0x1: "
		  "STP; not 0x2, PAUSE); default 0, none" },
};

static const struct ub_cmd_arg port_del_args[] = {
	POS("IFNAME", UB_CMD_K_IFNAME, UB_CMD_T_PORT),
};

/* ---- fdb ---- */

#define FDB_VLAN_OPT							\
	{ .name = "vlan", .meta = "VID", .key = UB_CMD_K_VLAN,		\
	  .type = UB_CMD_T_VID, .flags = UB_CMD_A_BARE,			\
	  .help = "the VLAN (default 0: untagged)" }

static const struct ub_cmd_arg fdb_add_args[] = {
	POS("MAC", UB_CMD_K_MAC, UB_CMD_T_UMAC),
	{ .name = "dev", .meta = "IFNAME", .key = UB_CMD_K_DEV,
	  .type = UB_CMD_T_PORT, .flags = UB_CMD_A_BARE | UB_CMD_A_REQUIRED },
	FDB_VLAN_OPT,
	{ .name = "dst", .meta = "IP", .key = UB_CMD_K_DST,
	  .type = UB_CMD_T_ADDR, .flags = UB_CMD_A_BARE,
	  .label = "remote VTEP",
	  .help = "a VXLAN port's remote endpoint the address is behind "
		  "(without it: the port's flood list)" },
};

static const struct ub_cmd_arg fdb_del_args[] = {
	POS("MAC", UB_CMD_K_MAC, UB_CMD_T_MAC),
	FDB_VLAN_OPT,
};

static const struct ub_cmd_arg fdb_flush_args[] = {
	{ .name = "dev", .meta = "IFNAME", .key = UB_CMD_K_DEV,
	  .type = UB_CMD_T_PORT, .flags = UB_CMD_A_BARE,
	  .help = "only the entries learned on port IFNAME" },
};

/* ---- settings, debugging ---- */

static const struct ub_cmd_arg set_ageing_args[] = {
	/* The Linux bridge's limit is about 11.9 days; ours a round 1e6 s. */
	POS("SECONDS", UB_CMD_K_SECONDS, UB_CMD_T_UINT, .max = 1000000,
	    .label = "ageing time",
	    .expect = "expected seconds, 0 to 1000000"),
};

static const struct ub_cmd_arg set_loop_hold_args[] = {
	POS("SECONDS", UB_CMD_K_SECONDS, UB_CMD_T_UINT, .min = 1,
	    .max = 86400, .label = "hold time",
	    .expect = "expected seconds, 1 to 86400"),
};

static const struct ub_cmd_arg set_vlan_filtering_args[] = {
	POS(NULL, UB_CMD_K_VLAN_FILTERING, UB_CMD_T_ENUM, .words = nat_words,
	    .label = "VLAN filtering"),
};

static const struct ub_cmd_arg time_warp_args[] = {
	POS("MILLISECONDS", UB_CMD_K_MS, UB_CMD_T_UINT, .max = UINT32_MAX,
	    .label = "time",
	    .expect = "expected milliseconds, 0 to 4294967295"),
};

/* ---- capture ---- */

#define CAPTURE_PORT_ARG POS("PORT|all", UB_CMD_K_PORT, UB_CMD_T_PORT_ALL)

/* A count of something: 1 or more. */
#define CAPTURE_NUM_OPT(n, m, k, h)					\
	{ .name = n, .meta = m, .key = k, .type = UB_CMD_T_UINT,	\
	  .min = 1, .max = UINT32_MAX, .expect = "a number, 1 or more",	\
	  .help = h }

#define CAPTURE_OPTS							\
	{ .name = "dir", .key = UB_CMD_K_DIR, .type = UB_CMD_T_ENUM,	\
	  .words = dir_words, .label = "direction",			\
	  .help = "the frames PORT receives, sends, or both (default)" },	\
	{ .name = "filter", .meta = "EXPR", .key = UB_CMD_K_FILTER,	\
	  .type = UB_CMD_T_TEXT, .flags = UB_CMD_A_ENCODED,		\
	  .help = "a pcap-filter(7) expression (quote it)" },		\
	CAPTURE_NUM_OPT("snaplen", "N", UB_CMD_K_SNAPLEN,		\
			"keep the first N bytes of each frame"),		\
	CAPTURE_NUM_OPT("count", "N", UB_CMD_K_COUNT,			\
			"stop after N frames")

static const struct ub_cmd_arg capture_start_args[] = {
	CAPTURE_PORT_ARG,
	{ .meta = "FILE", .key = UB_CMD_K_FILE, .type = UB_CMD_T_PATH,
	  .flags = UB_CMD_A_POS | UB_CMD_A_REQUIRED | UB_CMD_A_ENCODED },
	CAPTURE_OPTS,
	CAPTURE_NUM_OPT("rotate-size", "MB", UB_CMD_K_ROTATE_SIZE,
			"start a new file every MB MiB: FILE.0, FILE.1 ..."),
	{ .name = "rotate-files", .meta = "K",
	  .key = UB_CMD_K_ROTATE_FILES, .type = UB_CMD_T_UINT, .min = 1,
	  .max = UB_CMD_CAP_FILES_MAX, .expect = "a number, 1 to 64",
	  .needs = "rotate-size",
	  .help = "reuse the oldest file after K files (default 10)" },
	{ .name = "append", .key = UB_CMD_K_APPEND, .type = UB_CMD_T_BOOL,
	  .flags = UB_CMD_A_HIDDEN },
	{ .name = "owner", .meta = "UID", .key = UB_CMD_K_OWNER,
	  .type = UB_CMD_T_UINT,
	  .max = UINT32_MAX, .flags = UB_CMD_A_HIDDEN },
};
static const struct ub_cmd_arg capture_watch_args[] = {
	CAPTURE_PORT_ARG,
	CAPTURE_OPTS,
};

static const struct ub_cmd_arg capture_stop_args[] = {
	POS("ID|all", UB_CMD_K_ID, UB_CMD_T_ID_ALL, .max = UINT32_MAX),
};

/* ---- netns ---- */

#define IFNAME_HELP "the peer's name inside (default eth0)"

#define NETNS_OPTS							\
	{ .name = "addr", .meta = "CIDR", .key = UB_CMD_K_ADDR,		\
	  .type = UB_CMD_T_CIDR, .flags = UB_CMD_A_MULTI,		\
	  .multi_max = UB_CMD_ADDRS_MAX,				\
	  .help = "an address of the peer, IPv4 or IPv6 (repeatable)" },	\
	{ .name = "gw", .meta = "ADDR", .key = UB_CMD_K_GW,		\
	  .type = UB_CMD_T_ADDR, .label = "gateway",			\
	  .help = "the default route's gateway" },			\
	{ .name = "mac", .meta = "MAC", .key = UB_CMD_K_MAC,		\
	  .type = UB_CMD_T_UMAC, .help = "the peer's MAC address" },	\
	{ .name = "mtu", .meta = "N", .key = UB_CMD_K_MTU,		\
	  .type = UB_CMD_T_UINT, .min = 68, .max = 65535,		\
	  .label = "MTU", .help = "the veth's MTU" },			\
	{ .name = "ifname", .meta = "IF", .key = UB_CMD_K_IFNAME,	\
	  .type = UB_CMD_T_IFNAME, .help = IFNAME_HELP },		\
	{ .name = "vlan", .meta = "VID", .key = UB_CMD_K_VLAN,		\
	  .type = UB_CMD_T_UINT, .min = 1, .max = 4094,		\
	  .label = "VLAN id", .expect = "expected 1 to 4094",		\
	  .help = "make the port an access port of VLAN VID (as vlan add "\
		  "dev PORT vid VID pvid untagged does; for VLAN "	\
		  "filtering)" },						\
	{ .name = "impair", .meta = "SPEC", .key = UB_CMD_K_IMPAIR,	\
	  .type = UB_CMD_T_TEXT, .flags = UB_CMD_A_ENCODED,		\
	  .label = "impairment",					\
	  .help = "impair the port from the start, as impair set PORT "	\
		  "SPEC does (quote it: \"delay 10ms loss 1%\")" }

static const struct ub_cmd_arg netns_add_args[] = {
	POS("NAME", UB_CMD_K_NAME, UB_CMD_T_NETNS),
	NETNS_OPTS,
};

/* The container a port is made for: its id as the engine gave it. */
#define CONTAINER_OPT							\
	{ .name = "container", .meta = "ID", .key = UB_CMD_K_CONTAINER,	\
	  .type = UB_CMD_T_WORD, .label = "container id",		\
	  .help = "the container the port is for: attach records it "	\
		  "(netns show) and names the host end after it and IF; "	\
		  "del takes its ports (with --ifname, the one to IF)" }

static const struct ub_cmd_arg netns_attach_args[] = {
	POS("NAME|PATH", UB_CMD_K_NAME, UB_CMD_T_NETNS_PATH, .alt = "pid"),
	{ .name = "pid", .meta = "PID", .key = UB_CMD_K_PID,
	  .type = UB_CMD_T_UINT, .min = 1, .max = INT32_MAX,
	  .label = "process id",
	  .help = "the namespace of process PID instead of NAME's" },
	NETNS_OPTS,
	CONTAINER_OPT,
};

static const struct ub_cmd_arg netns_del_args[] = {
	POS("NAME", UB_CMD_K_NAME, UB_CMD_T_NETNS, .alt = "container"),
	CONTAINER_OPT,
	{ .name = "ifname", .meta = "IF", .key = UB_CMD_K_IFNAME,
	  .type = UB_CMD_T_IFNAME, .needs = "container",
	  .help = IFNAME_HELP },
};

/* ---- gateway, NAT ---- */

static const struct ub_cmd_arg gateway_add_args[] = {
	POS("CIDR", UB_CMD_K_CIDR, UB_CMD_T_CIDR),
	/* The state file's: route_localnet was on (portmap's 127.0.0.1). */
	{ .name = "localnet", .key = UB_CMD_K_LOCALNET, .type = UB_CMD_T_BOOL,
	  .flags = UB_CMD_A_HIDDEN },
};

static const struct ub_cmd_arg nat_args[] = {
	POS(NULL, UB_CMD_K_NAT, UB_CMD_T_ENUM, .words = nat_words,
	    .label = "NAT state"),
};

/* ---- vlan ---- */

#define VLAN_PORT_VIDS							\
	{ .name = "dev", .meta = "IFNAME", .key = UB_CMD_K_DEV,		\
	  .type = UB_CMD_T_PORT, .flags = UB_CMD_A_BARE | UB_CMD_A_REQUIRED }, \
	{ .name = "vid", .meta = "VID[-VID]", .key = UB_CMD_K_VIDS,	\
	  .type = UB_CMD_T_VIDS, .flags = UB_CMD_A_BARE | UB_CMD_A_REQUIRED }

static const struct ub_cmd_arg vlan_add_args[] = {
	VLAN_PORT_VIDS,
	WORD_FLAG("pvid", UB_CMD_K_PVID,
		  "untagged and priority-tagged frames that come in take "
		  "this VID (one VID only)"),
	WORD_FLAG("untagged", UB_CMD_K_UNTAGGED,
		  "frames of these VIDs leave the port without a tag"),
};

static const struct ub_cmd_arg vlan_del_args[] = {
	VLAN_PORT_VIDS,
};

/* ---- impair ---- */

static const char *const inout_words[] = { "in", "out", NULL };

static const struct ub_cmd_arg impair_set_args[] = {
	POS("IFNAME", UB_CMD_K_IFNAME, UB_CMD_T_PORT),
	{ .meta = "[in|out] SPEC", .key = UB_CMD_K_IMPAIR,
	  .type = UB_CMD_T_WORD,
	  .flags = UB_CMD_A_POS | UB_CMD_A_REQUIRED | UB_CMD_A_MULTI,
	  .multi_max = UB_CMD_MULTI_MAX, .plural = "words",
	  .label = "impairment" },
};

static const struct ub_cmd_arg impair_clear_args[] = {
	POS("IFNAME", UB_CMD_K_IFNAME, UB_CMD_T_PORT),
	{ .meta = "in|out", .key = UB_CMD_K_DIR, .type = UB_CMD_T_ENUM,
	  .flags = UB_CMD_A_POS, .words = inout_words,
	  .label = "direction" },
};

/* ---- monitor ---- */

static const struct ub_cmd_arg monitor_args[] = {
	WORD_FLAG("fdb", UB_CMD_K_MON_FDB,
		  "addresses learned, moved (from the port before), aged "
		  "out, evicted, and flushes"),
	WORD_FLAG("port", UB_CMD_K_MON_PORT,
		  "ports added, removed, up and down"),
	WORD_FLAG("loop", UB_CMD_K_MON_LOOP,
		  "ports blocked by a guard (and why) and unblocked"),
	WORD_FLAG("impair", UB_CMD_K_MON_IMPAIR,
		  "impairments set (with what they do) and cleared"),
};

/* ---- vxlan ---- */

static const struct ub_cmd_arg vxlan_add_args[] = {
	POS("NAME", UB_CMD_K_IFNAME, UB_CMD_T_IFNAME, .label = "port name"),
	{ .name = "vni", .meta = "N", .key = UB_CMD_K_VNI,
	  .type = UB_CMD_T_UINT, .max = 0xffffff, .flags = UB_CMD_A_REQUIRED,
	  .label = "VNI", .expect = "a number, 0 to 16777215",
	  .help = "the VXLAN network identifier" },
	{ .name = "local", .meta = "IP", .key = UB_CMD_K_LOCAL,
	  .type = UB_CMD_T_ADDR, .flags = UB_CMD_A_REQUIRED,
	  .label = "local address",
	  .help = "this host's underlay address (IPv4 or IPv6), which the "
		  "port's UDP socket is bound to" },
	{ .name = "remote", .meta = "IP", .key = UB_CMD_K_REMOTE,
	  .type = UB_CMD_T_ADDR, .flags = UB_CMD_A_MULTI,
	  .multi_max = UB_CMD_ADDRS_MAX, .plural = "remotes",
	  .label = "remote address",
	  .help = "a remote VTEP for the flood list (repeatable; more with "
		  "\"vxlan remote add\")" },
	{ .name = "dstport", .meta = "PORT", .key = UB_CMD_K_DSTPORT,
	  .type = UB_CMD_T_UINT, .min = 1, .max = 65535,
	  .label = "UDP port",
	  .help = "the UDP port of every VTEP (default 4789, the IANA port; "
		  "Linux's driver uses 8472 when made without dstport)" },
	{ .name = "srcport", .meta = "MIN-MAX", .key = UB_CMD_K_SRCPORT,
	  .type = UB_CMD_T_RANGE, .min = 1, .max = 65535,
	  .label = "source port range",
	  .expect = "expected MIN-MAX, UDP ports 1 to 65535, MIN <= MAX",
	  .help = "the outer source ports, picked by a hash of the inner "
		  "flow (default 49152-65535)" },
	{ .name = "ttl", .meta = "N", .key = UB_CMD_K_TTL,
	  .type = UB_CMD_T_UINT, .min = 1, .max = 255, .label = "TTL",
	  .help = "the outer TTL (default: the system's)" },
	{ .name = "no-learning", .key = UB_CMD_K_NOLEARNING,
	  .type = UB_CMD_T_FLAG, .wire = "nolearning",
	  .help = "learn no remote from received frames: unicast goes to "
		  "static entries' remotes, else to the flood list" },
};

static const struct ub_cmd_arg vxlan_del_args[] = {
	POS("NAME", UB_CMD_K_IFNAME, UB_CMD_T_PORT),
};

static const struct ub_cmd_arg vxlan_remote_args[] = {
	POS("add|del", UB_CMD_K_ACTION, UB_CMD_T_ENUM, .words = action_words,
	    .label = "action"),
	POS("NAME", UB_CMD_K_IFNAME, UB_CMD_T_PORT),
	POS("IP", UB_CMD_K_REMOTE, UB_CMD_T_ADDR, .label = "remote address"),
};

#define CMD(i, o, v, f, s, ...)						\
	[i] = { .id = i, .obj = o, .verb = v, .flags = f, .summary = s,	\
		__VA_ARGS__ }

#define CHANGES UB_CMD_F_CHANGES
#define DEFAULT UB_CMD_F_DEFAULT

/* In help order; an object's commands together, objects as below. */
static const struct ub_cmd_spec cmds[UB_CMD__COUNT] = {
	CMD(UB_CMD_PORT_ADD, "port", "add", CHANGES,
	    "attach interfaces IFNAME... (several in one request; each one "
	    "that fails is reported), or with --tap make a TAP device IFNAME "
	    "(for a VM or the host) owned by the bridge and attach it; with "
	    "a cap on the addresses learned on each (see port set)",
	    ARGS(port_add_args)),
	CMD(UB_CMD_PORT_SET, "port", "set", CHANGES | UB_CMD_F_ONE_OPT,
	    "cap the FDB entries learned on IFNAME (0: no cap of its own; "
	    "at the cap, a frame from a new address is forwarded but the "
	    "address not learned, nolearn, the default, or the frame is "
	    "dropped, drop; known addresses always pass), and set its "
	    "guards and group forward mask; what is not named stays",
	    ARGS(port_set_args)),
	CMD(UB_CMD_PORT_DEL, "port", "del", CHANGES,
	    "detach interface IFNAME", ARGS(port_del_args)),
	CMD(UB_CMD_PORT_SHOW, "port", "show", DEFAULT,
	    "list the ports (-s: with counters)"),
	CMD(UB_CMD_FDB_SHOW, "fdb", "show", DEFAULT,
	    "list the learned and static entries"),
	CMD(UB_CMD_FDB_ADD, "fdb", "add", CHANGES, "add a static entry",
	    ARGS(fdb_add_args)),
	CMD(UB_CMD_FDB_DEL, "fdb", "del", CHANGES, "delete an entry",
	    ARGS(fdb_del_args)),
	CMD(UB_CMD_FDB_FLUSH, "fdb", "flush", 0,
	    "forget learned entries (all, or IFNAME's)",
	    ARGS(fdb_flush_args)),
	CMD(UB_CMD_SET_AGEING, "set", "ageing", CHANGES,
	    "set the ageing time (0: learn nothing)", ARGS(set_ageing_args)),
	CMD(UB_CMD_SET_VLAN_FILTERING, "set", "vlan-filtering", CHANGES,
	    "VLAN-aware forwarding by the ports' VLANs (see vlan), or none: "
	    "tags pass untouched (off, the default)",
	    ARGS(set_vlan_filtering_args)),
	CMD(UB_CMD_SET_LOOP_HOLD, "set", "loop-hold", CHANGES,
	    "how long a port blocked by a guard stays blocked after the last "
	    "sign of the loop or BPDU (default 10)",
	    ARGS(set_loop_hold_args)),
	CMD(UB_CMD_STATS, "stats", NULL, 0, "show settings and FDB counters"),
	CMD(UB_CMD_NETNS_ADD, "netns", "add", CHANGES,
	    "namespace NAME (made unless it exists) with a veth whose peer IF "
	    "(default eth0) has the addresses, MAC, MTU and default route; "
	    "its host end veth-NAME joins the bridge. Undone if any step "
	    "fails", ARGS(netns_add_args)),
	CMD(UB_CMD_NETNS_ATTACH, "netns", "attach", CHANGES,
	    "the same for an existing namespace: named, at PATH (a file "
	    "ubctl opens and passes, such as a container's /run/netns/...), "
	    "or a process's: only the veth is made; prints the port",
	    ARGS(netns_attach_args)),
	CMD(UB_CMD_NETNS_DEL, "netns", "del", CHANGES,
	    "detach NAME's port (or container ID's) and remove what \"netns "
	    "add|attach\" made (the namespace only if it made it)",
	    ARGS(netns_del_args)),
	CMD(UB_CMD_NETNS_SHOW, "netns", "show", DEFAULT,
	    "list the namespaces on the bridge, with port, interface, MAC "
	    "and addresses"),
	CMD(UB_CMD_CAPTURE_START, "capture", "start", CHANGES,
	    "capture frames of PORT (both directions) or of all ports (as "
	    "they enter) into a pcap FILE; prints the capture's id",
	    ARGS(capture_start_args)),
	CMD(UB_CMD_CAPTURE_WATCH, "capture", "watch", UB_CMD_F_STREAM,
	    "stream a capture as pcap to standard output, for \"| tcpdump "
	    "-nr -\" or \"| wireshark -k -i -\"; ends when the reader does",
	    ARGS(capture_watch_args)),
	CMD(UB_CMD_CAPTURE_STOP, "capture", "stop", CHANGES,
	    "write out and close a capture (or all)",
	    ARGS(capture_stop_args)),
	CMD(UB_CMD_CAPTURE_SHOW, "capture", "show", DEFAULT,
	    "list the running captures"),
	CMD(UB_CMD_GATEWAY_ADD, "gateway", "add", CHANGES,
	    "give the host the address CIDR on the bridge (a TAP port "
	    "NAME-gw), for the namespaces' default route",
	    ARGS(gateway_add_args)),
	CMD(UB_CMD_GATEWAY_DEL, "gateway", "del", CHANGES,
	    "remove the gateway (and NAT)"),
	CMD(UB_CMD_GATEWAY_SHOW, "gateway", "show", DEFAULT,
	    "the gateway's port, address and NAT state"),
	CMD(UB_CMD_NAT, "nat", NULL, CHANGES,
	    "masquerade the gateway's subnet out of the host's other "
	    "interfaces (nftables table ubridge_NAME; IPv4 forwarding on), "
	    "or undo it", ARGS(nat_args)),
	CMD(UB_CMD_VXLAN_ADD, "vxlan", "add", CHANGES,
	    "make a VXLAN tunnel endpoint NAME on the bridge: a port whose "
	    "frames go to remote VTEPs in UDP (RFC 7348), interoperating "
	    "with Linux's vxlan driver", ARGS(vxlan_add_args)),
	CMD(UB_CMD_VXLAN_DEL, "vxlan", "del", CHANGES,
	    "remove VXLAN port NAME", ARGS(vxlan_del_args)),
	CMD(UB_CMD_VXLAN_SHOW, "vxlan", "show", DEFAULT,
	    "list the VXLAN ports, with their flood lists"),
	CMD(UB_CMD_VXLAN_REMOTE, "vxlan", "remote", CHANGES,
	    "add a remote VTEP to NAME's flood list, or forget one (with "
	    "the FDB entries behind it)", ARGS(vxlan_remote_args)),
	CMD(UB_CMD_VLAN_ADD, "vlan", "add", CHANGES,
	    "make port IFNAME a member of VLANs VID[-VID]: an access port is "
	    "one VID, pvid untagged; a trunk tagged VIDs, its native VLAN one "
	    "more, pvid untagged", ARGS(vlan_add_args)),
	CMD(UB_CMD_VLAN_DEL, "vlan", "del", CHANGES,
	    "remove VLANs VID[-VID] from port IFNAME", ARGS(vlan_del_args)),
	CMD(UB_CMD_VLAN_SHOW, "vlan", "show", DEFAULT,
	    "each port's VLANs: its PVID, the VIDs it carries and those it "
	    "sends untagged"),
	CMD(UB_CMD_IMPAIR_SET, "impair", "set", CHANGES,
	    "impair the frames IFNAME receives (in) or sends (out, the "
	    "default) as SPEC says, in tc netem's words: [delay TIME [JITTER "
	    "[CORR%]] [distribution uniform|normal|pareto]] [loss PCT [CORR%] "
	    "| loss gemodel P [R [1-H [1-K]]]] [rate RATE] [corrupt PCT] "
	    "[duplicate PCT] [reorder PCT] [limit FRAMES]; it replaces that "
	    "direction's impairment whole", ARGS(impair_set_args)),
	CMD(UB_CMD_IMPAIR_CLEAR, "impair", "clear", CHANGES,
	    "no impairment on IFNAME any more, in one direction or both: the "
	    "frames held leave at once", ARGS(impair_clear_args)),
	CMD(UB_CMD_IMPAIR_SHOW, "impair", "show", DEFAULT,
	    "the impairments and what they did (-s: with counters)"),
	CMD(UB_CMD_MONITOR, "monitor", NULL, UB_CMD_F_STREAM,
	    "events as they happen, one line each, until interrupted: those "
	    "named, or all", ARGS(monitor_args)),
	CMD(UB_CMD_TIME_WARP, "time", "warp", 0,
	    "advance the daemon's clock (for tests)", ARGS(time_warp_args)),
};

static const struct ub_cmd_object objects[] = {
	{ "port", "The bridge's ports." },
	{ "fdb", "The forwarding database." },
	{ "set", "The bridge's settings." },
	{ "stats", "The bridge's statistics." },
	{ "netns", "Network namespaces wired to the bridge." },
	{ "capture", "Packet captures to pcap files." },
	{ "gateway", "The host's address on the bridge." },
	{ "nat", "NAT behind the gateway." },
	{ "vlan", "The ports' VLANs (with VLAN filtering on)." },
	{ "vxlan", "VXLAN tunnels to other hosts." },
	{ "impair", "Impaired links: delay, loss, rate, and more." },
	{ "monitor", "Events as they happen." },
	{ "time", "The daemon's clock, for tests." },
};

const struct ub_cmd_spec *ub_cmd_get(enum ub_cmd_id id)
{
	return (unsigned)id < UB_CMD__COUNT ? &cmds[id] : NULL;
}

const struct ub_cmd_object *ub_cmd_object_get(size_t i)
{
	return i < UB_ARRAY_SIZE(objects) ? &objects[i] : NULL;
}

const struct ub_cmd_object *ub_cmd_object_find(const char *name)
{
	for (size_t i = 0; i < UB_ARRAY_SIZE(objects); i++) {
		if (!strcmp(objects[i].name, name))
			return &objects[i];
	}
	return NULL;
}

const struct ub_cmd_spec *ub_cmd_find(const char *obj, const char *verb)
{
	for (size_t i = 0; i < UB_CMD__COUNT; i++) {
		const struct ub_cmd_spec *c = &cmds[i];

		if (strcmp(c->obj, obj))
			continue;
		if (!c->verb ? !verb : verb && !strcmp(c->verb, verb))
			return c;
	}
	return NULL;
}

const struct ub_cmd_arg *ub_cmd_arg_find(const struct ub_cmd_spec *c,
					 const char *name)
{
	for (unsigned int i = 0; i < c->nargs; i++) {
		if (c->args[i].name && !strcmp(c->args[i].name, name))
			return &c->args[i];
	}
	return NULL;
}

size_t ub_cmd_dash_options(const struct ub_cmd_arg **out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < UB_CMD__COUNT; i++) {
		for (unsigned int j = 0; j < cmds[i].nargs; j++) {
			const struct ub_cmd_arg *a = &cmds[i].args[j];
			bool seen = false;

			if (!a->name || a->flags & (UB_CMD_A_HIDDEN | UB_CMD_A_BARE))
				continue;
			for (size_t k = 0; k < n && k < max && !seen; k++)
				seen = !strcmp(out[k]->name, a->name);
			if (seen)
				continue;
			if (n < max)
				out[n] = a;
			n++;
		}
	}
	return n;
}
