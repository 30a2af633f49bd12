/* SPDX-License-Identifier: MIT */
/*
 * The control commands' grammar, declared once (control/cmdspec.c) and
 * used by both ends: the daemon parses each request with it, ubctl checks
 * a command line with it before it connects, builds the request from what
 * it parsed, and generates its help and its shell completion from it.
 *
 * A command is OBJECT [VERB] then its arguments. An argument is either
 * positional (taken by its place, right after the verb) or an option
 * introduced by its keyword ("vlan 10"). Each has a type, which the parser
 * checks and converts (a MAC address into struct ub_mac, a number into an
 * integer in range ...), so a handler receives typed values and never
 * parses a word again.
 *
 * Two spellings of the same command:
 *  - the wire form (flags 0), what travels on the control socket and what
 *    the state file holds: keywords without dashes, file names and free
 *    text percent-encoded (ub_ctl_word_encode()), file names absolute,
 *    the state file's hidden options allowed;
 *  - the command-line form (UB_CMD_PARSE_USER): options may carry two
 *    dashes ("--addr X"; "dev" and "vlan" stay bare as in bridge(8)),
 *    values are plain text, a relative file name is accepted (the caller
 *    makes it absolute), hidden options are refused, and "OBJECT" alone
 *    means its default command ("ubctl port" is "port show").
 * ub_cmd_format() turns parsed arguments into the canonical wire form.
 *
 * A repeatable (UB_CMD_A_MULTI) argument takes up to its own 'multi_max'
 * values; a command has at most one. An option repeats its keyword
 * ("addr A addr B"). A positional ("port add IFNAME...") is the command's
 * last one and takes its values in a row:
 *  - on the command line, the first word whatever it is, then every word
 *    up to the first dashed word or keyword of the command, hidden ones
 *    too ("port add a b --max-learned 5", "port add a b max-learned 5"):
 *    a second or later value cannot be spelled like a keyword;
 *  - on the wire, one value is written alone, as before ("port add eth0
 *    type tap" from older clients and state files keeps its meaning), and
 *    several as their count, the word "of", then the values: "port add 3
 *    of eth0 type max-learned max-learned 5" attaches eth0, "type" and
 *    "max-learned". No command has a keyword "of", so "N of" never began
 *    a valid one-value request, and the count says where the values end
 *    whatever they are called.
 * The first value is also in v[key], all of them in multi[0..nmulti).
 *
 * Functions return 0 (or a count) or -errno; errors come with a one-line
 * message naming the argument at fault.
 */
#ifndef UBRIDGE_CMD_H
#define UBRIDGE_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <ubridge/ctl.h>
#include <ubridge/eth.h>
#include <ubridge/netlink.h>

/* Every command; the daemon indexes its handlers with it. */
enum ub_cmd_id {
	UB_CMD_PORT_ADD,
	UB_CMD_PORT_SET,
	UB_CMD_PORT_DEL,
	UB_CMD_PORT_SHOW,
	UB_CMD_FDB_SHOW,
	UB_CMD_FDB_ADD,
	UB_CMD_FDB_DEL,
	UB_CMD_FDB_FLUSH,
	UB_CMD_SET_AGEING,
	UB_CMD_SET_LOOP_HOLD,
	UB_CMD_SET_VLAN_FILTERING,
	UB_CMD_STATS,
	UB_CMD_CAPTURE_START,
	UB_CMD_CAPTURE_WATCH,
	UB_CMD_CAPTURE_STOP,
	UB_CMD_CAPTURE_SHOW,
	UB_CMD_NETNS_ADD,
	UB_CMD_NETNS_ATTACH,
	UB_CMD_NETNS_DEL,
	UB_CMD_NETNS_SHOW,
	UB_CMD_GATEWAY_ADD,
	UB_CMD_GATEWAY_DEL,
	UB_CMD_GATEWAY_SHOW,
	UB_CMD_NAT,
	UB_CMD_VXLAN_ADD,
	UB_CMD_VXLAN_DEL,
	UB_CMD_VXLAN_SHOW,
	UB_CMD_VXLAN_REMOTE,
	UB_CMD_VLAN_ADD,
	UB_CMD_VLAN_DEL,
	UB_CMD_VLAN_SHOW,
	UB_CMD_IMPAIR_SET,
	UB_CMD_IMPAIR_CLEAR,
	UB_CMD_IMPAIR_SHOW,
	UB_CMD_MONITOR,
	UB_CMD_TIME_WARP,
	UB_CMD__COUNT
};

/*
 * Where a parsed value lands in struct ub_cmd_args. A key means the same
 * thing in every command that has it; one command uses each key once.
 */
enum ub_cmd_key {
	UB_CMD_K_IFNAME,	/* port add|set|del IFNAME; netns --ifname */
	UB_CMD_K_TAP,		/* port add --tap (wire: "type tap") */
	UB_CMD_K_MTU,
	UB_CMD_K_MAX_LEARNED,
	UB_CMD_K_POLICY,	/* enum ub_cmd_policy */
	UB_CMD_K_NETNS,		/* port add, state file: the veth's namespace */
	UB_CMD_K_PEER,		/* port add, state file: the veth's peer */
	UB_CMD_K_MADE,		/* port add, state file: the namespace was made */
	UB_CMD_K_MAC,
	UB_CMD_K_DEV,		/* fdb add|flush dev IFNAME */
	UB_CMD_K_VLAN,
	UB_CMD_K_SECONDS,	/* set ageing */
	UB_CMD_K_MS,		/* time warp */
	UB_CMD_K_PORT,		/* capture: PORT|all */
	UB_CMD_K_FILE,
	UB_CMD_K_DIR,		/* enum ub_cmd_dir */
	UB_CMD_K_FILTER,
	UB_CMD_K_SNAPLEN,
	UB_CMD_K_COUNT,
	UB_CMD_K_ROTATE_SIZE,	/* MiB */
	UB_CMD_K_ROTATE_FILES,
	UB_CMD_K_APPEND,	/* capture start, state file */
	UB_CMD_K_OWNER,		/* capture start, state file: who asked */
	UB_CMD_K_ID,		/* capture stop ID|all */
	UB_CMD_K_NAME,		/* netns NAME */
	UB_CMD_K_PID,
	UB_CMD_K_ADDR,		/* netns --addr, repeatable */
	UB_CMD_K_GW,
	UB_CMD_K_CIDR,		/* gateway add */
	UB_CMD_K_NAT,		/* enum ub_cmd_nat */
	UB_CMD_K_VNI,		/* vxlan add */
	UB_CMD_K_LOCAL,		/* vxlan add: the underlay address */
	UB_CMD_K_REMOTE,	/* vxlan add (repeatable), vxlan remote */
	UB_CMD_K_DSTPORT,
	UB_CMD_K_SRCPORT,	/* MIN-MAX */
	UB_CMD_K_TTL,
	UB_CMD_K_NOLEARNING,
	UB_CMD_K_DST,		/* fdb add dst IP: a VXLAN port's remote */
	UB_CMD_K_ACTION,	/* vxlan remote add|del: enum ub_cmd_action */
	UB_CMD_K_CONTAINER,	/* netns attach|del, state file: a container id */
	UB_CMD_K_LOCALNET,	/* gateway add, state file: route_localnet */
	UB_CMD_K_LOOP_GUARD,	/* port set: enum ub_cmd_nat (on|off) */
	UB_CMD_K_BPDU_GUARD,	/* port set: enum ub_cmd_nat (on|off) */
	UB_CMD_K_GROUP_FWD_MASK, /* port set */
	UB_CMD_K_VLAN_FILTERING, /* set vlan-filtering: enum ub_cmd_nat */
	UB_CMD_K_VIDS,		/* vlan add|del vid VID[-VID] */
	UB_CMD_K_PVID,		/* vlan add ... pvid */
	UB_CMD_K_UNTAGGED,	/* vlan add ... untagged */
	UB_CMD_K_MON_FDB,	/* monitor fdb */
	UB_CMD_K_MON_PORT,	/* monitor port */
	UB_CMD_K_MON_LOOP,	/* monitor loop */
	UB_CMD_K_MON_IMPAIR,	/* monitor impair */
	UB_CMD_K_IMPAIR,	/* impair set: [in|out] and netem's words */
	UB_CMD_K__COUNT
};

/* The values of the enum-typed keys, in the order of their words. */
enum ub_cmd_policy { UB_CMD_POLICY_DROP, UB_CMD_POLICY_NOLEARN };
enum ub_cmd_dir { UB_CMD_DIR_IN, UB_CMD_DIR_OUT, UB_CMD_DIR_BOTH };
enum ub_cmd_nat { UB_CMD_NAT_ON, UB_CMD_NAT_OFF }; /* any on|off */
enum ub_cmd_action { UB_CMD_ACTION_ADD, UB_CMD_ACTION_DEL };

enum ub_cmd_type {
	UB_CMD_T_FLAG,		/* no value; its wire words are 'wire' */
	UB_CMD_T_WORD,		/* any word */
	UB_CMD_T_IFNAME,	/* an interface name (ub_nl_ifname_check) */
	UB_CMD_T_PORT,		/* an interface name, which is a port */
	UB_CMD_T_PORT_ALL,	/* PORT or "all" (.all) */
	UB_CMD_T_NETNS,		/* a namespace name (ub_netns_name_check) */
	UB_CMD_T_NETNS_PATH,	/* NETNS, or with a '/' the absolute path of
				 * a namespace file (the client opens it) */
	UB_CMD_T_MAC,		/* aa:bb:cc:dd:ee:ff (.mac) */
	UB_CMD_T_UMAC,		/* a unicast MAC, not all-zero (.mac) */
	UB_CMD_T_VID,		/* a VLAN id, 0 to 4095 (.u) */
	UB_CMD_T_UINT,		/* a number in [min, max], decimal or 0xHEX (.u) */
	UB_CMD_T_ID_ALL,	/* UINT or "all" (.u or .all) */
	UB_CMD_T_ENUM,		/* one of 'words' (.u: its index) */
	UB_CMD_T_BOOL,		/* yes or no (.b) */
	UB_CMD_T_CIDR,		/* ADDR/LEN, IPv4 or IPv6 (.ip) */
	UB_CMD_T_ADDR,		/* an address without prefix (.ip) */
	UB_CMD_T_PATH,		/* a file name, absolute on the wire */
	UB_CMD_T_TEXT,		/* any text, spaces too (a pcap filter) */
	UB_CMD_T_RANGE,		/* LO-HI, both in [min, max], LO <= HI
				 * (.u: LO << 32 | HI) */
	UB_CMD_T_VIDS,		/* VID or VID-VID, 1 to 4094, in order
				 * (.u as RANGE's) */
	UB_CMD_T__COUNT
};

/* struct ub_cmd_arg.flags */
#define UB_CMD_A_POS 0x01	/* positional: no keyword, taken by place */
#define UB_CMD_A_REQUIRED 0x02	/* must be given */
#define UB_CMD_A_MULTI 0x04	/* may be given up to 'multi_max' times */
#define UB_CMD_A_HIDDEN 0x08	/* the state file's: wire form only */
#define UB_CMD_A_BARE 0x10	/* a keyword never written with dashes */
#define UB_CMD_A_ENCODED 0x20	/* percent-encoded on the wire */
#define UB_CMD_A_SINGLE 0x40	/* only with one value of the MULTI
				 * positional ("port add --tap NAME") */

struct ub_cmd_arg {
	const char *name;	/* the keyword; NULL for a positional */
	const char *meta;	/* its value in usage ("N"); NULL: none */
	enum ub_cmd_key key;
	enum ub_cmd_type type;
	unsigned int flags;	/* UB_CMD_A_* */
	uint64_t min, max;	/* UINT and ID_ALL: the range */
	unsigned int multi_max;	/* MULTI: the most values it takes */
	const char *plural;	/* MULTI: what "at most N ..." calls its
				 * values; NULL: its keyword or meta */
	const char *const *words; /* ENUM: its values, NULL-terminated */
	const char *wire;	/* FLAG: its words on the wire */
	const char *alt;	/* positional: the option that may stand
				 * for it instead ("NAME|--pid PID") */
	const char *needs;	/* an option that must come with this one */
	const char *label;	/* what errors call it; NULL: from the type */
	const char *expect;	/* what errors expect; NULL: from the type */
	const char *help;	/* for "ubctl OBJECT help"; NULL: none */
};

/* struct ub_cmd_spec.flags */
#define UB_CMD_F_CHANGES 0x1	/* success changes the configuration */
#define UB_CMD_F_STREAM 0x2	/* answered by a status line, then a stream */
#define UB_CMD_F_ONE_OPT 0x4	/* at least one option must be given */
#define UB_CMD_F_DEFAULT 0x8	/* "ubctl OBJECT" alone runs this command */

struct ub_cmd_spec {
	enum ub_cmd_id id;
	const char *obj;
	const char *verb;	/* NULL: the object alone is the command */
	const char *summary;
	unsigned int flags;	/* UB_CMD_F_* */
	const struct ub_cmd_arg *args;
	unsigned int nargs;
};

struct ub_cmd_object {
	const char *name;
	const char *summary;
};

/* The command 'id'; NULL when out of range. */
const struct ub_cmd_spec *ub_cmd_get(enum ub_cmd_id id);
/* The objects in help order: the i-th, NULL past the last. */
const struct ub_cmd_object *ub_cmd_object_get(size_t i);
const struct ub_cmd_object *ub_cmd_object_find(const char *name);
/* Command 'verb' of object 'obj' (verb NULL: a verb-less object). */
const struct ub_cmd_spec *ub_cmd_find(const char *obj, const char *verb);
/* Argument 'name' (a keyword) of command 'c', or NULL. */
const struct ub_cmd_arg *ub_cmd_arg_find(const struct ub_cmd_spec *c,
					 const char *name);

/*
 * The options the command line may write with dashes, each name once, in
 * table order (for getopt_long() and the completion). Fills at most 'max'
 * into 'out' and returns how many there are.
 */
size_t ub_cmd_dash_options(const struct ub_cmd_arg **out, size_t max);

/* A parsed value. 'str' is the word as given (decoded): always set. */
struct ub_cmd_val {
	const char *str;
	union {
		uint64_t u;		/* UINT, VID, ID_ALL, ENUM, RANGE */
		bool b;			/* BOOL, FLAG */
		struct ub_mac mac;	/* MAC, UMAC */
		struct ub_cidr ip;	/* CIDR, ADDR */
	};
	bool all;			/* PORT_ALL, ID_ALL: "all" */
};

/* Each MULTI argument's 'multi_max'; the largest sizes multi[]. */
#define UB_CMD_ADDRS_MAX 8	/* netns add|attach --addr, vxlan add --remote */
/* port add IFNAME...: with "port add", the count, "of" and the cap
 * options ("max-learned N policy P"), the most a request's 32 words hold */
#define UB_CMD_IFNAMES_MAX 24
#define UB_CMD_MULTI_MAX UB_CMD_IFNAMES_MAX

struct ub_cmd_args {
	const struct ub_cmd_spec *spec;	/* NULL until the command is known */
	enum ub_cmd_id id;
	uint64_t present;		/* bit (1 << key) per key given */
	struct ub_cmd_val v[UB_CMD_K__COUNT]; /* a MULTI key: its first */
	unsigned int nmulti;		/* the command's MULTI values */
	struct ub_cmd_val multi[UB_CMD_MULTI_MAX];
	size_t used;			/* of 'buf' */
	char buf[UB_CTL_REQ_MAX];	/* decoded values live here */
};

_Static_assert(UB_CMD_K__COUNT <= 64, "a key is a bit of 'present'");

static inline bool ub_cmd_has(const struct ub_cmd_args *a, enum ub_cmd_key k)
{
	return (a->present >> k) & 1;
}

/* ub_cmd_parse() and ub_cmd_usage(): the command-line form. */
#define UB_CMD_PARSE_USER 0x1

/*
 * Parses a command's words (argv[0] is the object) into 'out'. The values
 * point into argv or into out->buf, so argv must outlive 'out'; argv is
 * not modified. Returns 0, -EINVAL (unknown command, wrong arguments or a
 * bad value) or -E2BIG (a repeatable argument given too often, values too
 * long), with a one-line message in 'err'. out->spec is set as soon as
 * the command is known, so a caller can tell an unknown command apart.
 */
int ub_cmd_parse(int argc, char *const argv[], unsigned int flags,
		 struct ub_cmd_args *out, char *err, size_t errlen);

/*
 * Writes the wire form of 'a' (as parsed, possibly with values changed by
 * the caller, e.g. a file name made absolute) as words into 'buf', and
 * pointers to them into argv[0..max). Returns argc, -EINVAL (a relative
 * file name) or -E2BIG (does not fit).
 */
int ub_cmd_format(const struct ub_cmd_args *a, char *buf, size_t len,
		  char *argv[], int max);

/*
 * The synopsis of command 'c' ("fdb add MAC dev IFNAME [vlan VID]") in the
 * form 'flags' asks for. Returns its length or -ENOSPC.
 */
int ub_cmd_usage(const struct ub_cmd_spec *c, unsigned int flags, char *buf,
		 size_t len);

/*
 * Help, generated from the table, written to 'f' (the caller's stream).
 * Commands: the synopsis and summary of every command of object 'obj', or
 * of all of them (obj NULL). Object help: its commands, then what each
 * option means. Return 0 or -EIO.
 */
int ub_cmd_write_commands(FILE *f, const char *obj);
int ub_cmd_write_object_help(FILE *f, const struct ub_cmd_object *obj);

/* An option of the client itself (ubctl -j), for the completion. */
struct ub_cmd_global {
	const char *name;	/* the long name, "json" */
	char short_name;	/* 'j'; 0: none */
	const char *meta;	/* its value, "NAME"; NULL: takes none */
	const char *help;
};

/*
 * A bash completion script for program 'prog' with client options
 * 'globals': objects, commands, options, enum values, interface names,
 * ports (asked of the bridge), namespaces and files. Returns 0 or -EIO.
 */
int ub_cmd_write_bash(FILE *f, const char *prog,
		      const struct ub_cmd_global *globals, size_t nglobals);

/* ---- the files of "capture start" ----
 *
 * A capture writes files its client opened (ubctl, with the user's own
 * rights) and passed with the request (SCM_RIGHTS): FILE, or with
 * rotation FILE.0 ... FILE.K-1, in that order. The daemon opens a path
 * itself only for root: its own command line, and captures root started
 * that the state file brings back.
 */
#define UB_CMD_CAP_FILES_MAX UB_CTL_FDS_MAX
/* Files a rotating capture keeps when "rotate-files" is not given. */
#define UB_CMD_CAP_ROTATE_DEFAULT 10

/* The files a capture of 'a' ("capture start") writes: 0 for one file,
 * else the number of rotated files. */
static inline uint32_t ub_cmd_capture_files(const struct ub_cmd_args *a)
{
	if (!ub_cmd_has(a, UB_CMD_K_ROTATE_SIZE))
		return 0;
	return ub_cmd_has(a, UB_CMD_K_ROTATE_FILES) ?
		       (uint32_t)a->v[UB_CMD_K_ROTATE_FILES].u :
		       UB_CMD_CAP_ROTATE_DEFAULT;
}

/* The name of file 'i' of a capture of 'path' that rotates through
 * 'nfiles' files (0: no rotation, the file is 'path'). 0 or
 * -ENAMETOOLONG. */
int ub_capture_file_name(const char *path, uint32_t nfiles, uint32_t i,
			 char *buf, size_t len);
/* Opens every file of such a capture with open(2) 'flags' (O_CLOEXEC
 * added; mode 0644 before the umask) into fds[]. Returns how many, or
 * -errno with the file at fault named in 'err' and none left open. */
int ub_capture_files_open(const char *path, uint32_t nfiles, int flags,
			  int *fds, char *err, size_t errlen);

#endif
