/* SPDX-License-Identifier: MIT */
/*
 * ubridge: the userspace bridge daemon. Parses options, then hands over
 * to core.
 */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <libgen.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ubridge/bridge.h>
#include <ubridge/claim.h>
#include <ubridge/ctl.h>
#include <ubridge/fdb.h>
#include <ubridge/io.h>

#define UB_PORTS_ARG_MAX 64
#define UB_STATE_DIR "/var/lib/ubridge"
/* Open files: an interface port holds up to four (its receiving socket,
 * its sending socket, its TX ring's socket, its claim file); the control
 * connections (up to 256), captures, the bridge's own and the new
 * receiving sockets of ports whose ring is moving (64 at most) take at
 * most about UB_FILES_OTHER. 17408 leaves room for 4096 ports. */
#define UB_FILES_PER_PORT 4
#define UB_FILES_OTHER 448
#define UB_FILES_WANTED 17408

static void usage(FILE *out)
{
	fprintf(out,
"Usage: ubridge [OPTIONS]\n"
"\n"
"A userspace Ethernet bridge. It attaches to network interfaces (the host\n"
"ends of veth pairs, typically) with AF_PACKET sockets, learns where each\n"
"MAC address lives, and forwards frames between its ports through io_uring:\n"
"known unicast to its port, unknown unicast, broadcast and multicast to all\n"
"other ports, never back out of the port a frame came in on, and never the\n"
"IEEE 802.1D reserved group addresses 01:80:c2:00:00:00-0f. Offload state\n"
"(partial checksums, TSO/GSO) and VLAN tags cross the bridge intact.\n"
"\n"
"ubctl(8) controls a running bridge through its socket\n"
"%s/NAME.sock (mode 0600: root and the daemon's user; see --group).\n"
"\n"
"Options:\n"
"  -n, --name NAME        bridge name (default %s); several bridges run\n"
"                         side by side under different names\n"
"  -p, --port IFNAME      attach IFNAME at start (repeatable); more can be\n"
"                         added later with \"ubctl port add\"\n"
"  -c, --capture PORT:FILE\n"
"                         capture PORT's frames (both directions), or with\n"
"                         PORT \"all\" every frame once as it enters, into\n"
"                         the pcap FILE from the start (repeatable); see\n"
"                         \"ubctl capture\" for more options\n"
"  -a, --ageing SECONDS   FDB ageing time (default %d; 0: never learn,\n"
"                         always flood)\n"
"  -m, --max-learned N    cap on learned FDB entries; past it the least\n"
"                         recently seen is evicted (default %d)\n"
"  -s, --state FILE       keep the configuration in FILE, written\n"
"                         atomically on every change and replayed at\n"
"                         start, so a restart gives the same bridge; a\n"
"                         corrupt file is set aside (default:\n"
"                         %s/NAME.state)\n"
"      --no-state         keep no state file\n"
"  -u, --user USER        once its socket is open, run as USER (name or\n"
"                         uid) and USER's groups, keeping only the\n"
"                         capabilities it needs (below); the socket and\n"
"                         a state directory it makes become USER's, and an\n"
"                         existing state directory must be writable by\n"
"                         USER\n"
"  -g, --group GROUP      open the control socket to GROUP's members too\n"
"                         (mode 0660)\n"
"      --packet-rx ring|recvmsg|xdp|auto\n"
"                         how interface ports receive: through a\n"
"                         TPACKET ring the kernel fills (default); with\n"
"                         one recvmsg per frame; xdp: the ring, and an\n"
"                         AF_XDP socket that an XDP program on the\n"
"                         interface hands every frame up to the MTU\n"
"                         (sent through it too, a kick per batch); a port\n"
"                         is refused where XDP cannot attach (another\n"
"                         program there, say); auto: xdp where it\n"
"                         attaches, else ring\n"
"      --packet-tx ring|flood|send\n"
"                         how interface ports send (with --packet-rx\n"
"                         ring): frames copied into a TX ring per port,\n"
"                         one send per port and loop turn; the same for\n"
"                         flooded frames only (default); or one send per\n"
"                         frame out of the receive buffer\n"
"      --ring-size KIB    memory of each interface port's receive ring\n"
"                         under load, in KiB (default %u): deeper bursts\n"
"                         wait there while the bridge is busy\n"
"      --ring-idle KIB    memory of the receive ring of a port with light\n"
"                         traffic, in slots of 128 bytes (default %u;\n"
"                         larger frames wait in the socket's queue). A\n"
"                         port starts with it, moves to the full ring\n"
"                         when the idle one is half full or often too\n"
"                         small, and back after 30 s of light traffic,\n"
"                         without losing or reordering a frame; its TX\n"
"                         ring gets a quarter of the idle ring. 0: the\n"
"                         full ring at once, and a TX ring of a quarter\n"
"                         of it. Ring memory is allocated by the kernel\n"
"                         and resident\n"
"      --busy-poll[=USEC] poll for frames and completions instead of\n"
"                         sleeping: for USEC microseconds after each\n"
"                         frame (so that a reply finds the bridge awake),\n"
"                         or without USEC all the time, keeping one CPU\n"
"                         busy (pin ubridge to a CPU of its own). Cuts the\n"
"                         latency of a frame's crossing (default: off)\n"
"      --seed N           the seed of the impairments' random numbers\n"
"                         (ubctl impair): the same seed and the same\n"
"                         frames give the same losses, delays and\n"
"                         damage (default: a random seed)\n"
"      --workers N        forward with N threads (1 to %d, default 1),\n"
"                         each with its own io_uring and a share of the\n"
"                         ports (a port's frames are received by one\n"
"                         thread); the threads share one lock for their\n"
"                         own work and take the kernel's part, which is\n"
"                         most of it, in parallel. For as many free CPUs\n"
"                         as threads, with traffic entering on several\n"
"                         ports\n"
"  -f, --foreground       stay in the foreground (for systemd and tests);\n"
"                         without it ubridge detaches once its socket is\n"
"                         ready\n"
"  -v, --verbose          log more (repeat for debug messages)\n"
"  -q, --quiet            log errors only\n"
"  -h, --help             show this help\n"
"  -V, --version          show the version\n"
"\n"
"Logs go to standard error. SIGINT or SIGTERM stop the bridge: its ports\n"
"are released and its socket removed.\n"
"\n"
"Privileges: run it as root. Once started it keeps CAP_NET_RAW,\n"
"CAP_NET_ADMIN, CAP_SYS_ADMIN, CAP_SYS_PTRACE and CAP_IPC_LOCK (for\n"
"AF_XDP memory), and drops every other capability for good. With --user it no longer owns root's files:\n"
"\"ubctl netns add\" and \"netns del\" need /run/netns writable by USER,\n"
"and \"ubctl nat on\" needs IPv4 forwarding already on.\n"
"\n"
"Examples:\n"
"  ubridge -f                        # bridge ub0 in the foreground\n"
"  ubridge -n lab -p veth1 -p veth2  # bridge \"lab\" with two ports\n"
"  ubridge -u ubridge -g netdev      # as user ubridge, for group netdev\n"
"  ubctl port add veth-ns1           # attach one more port to ub0\n"
"\n"
"Exit status: 0 after a clean stop, 1 on a start-up error, 2 on a usage\n"
"error.\n",
		UB_CTL_RUNDIR, UB_BRIDGE_DEFAULT,
		UB_FDB_DEFAULT_AGEING_MS / 1000, UB_FDB_DEFAULT_MAX,
		UB_STATE_DIR, UB_RING_BYTES_DEFAULT / 1024,
		UB_RING_IDLE_BYTES_DEFAULT / 1024, UB_WORKERS_MAX);
}

/* A decimal number from 'min' to 'max'; the range said when it is not. */
static int parse_num(const char *opt, const char *s, unsigned long min,
		     unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	if (*s < '0' || *s > '9' || *end || errno || *out < min ||
	    *out > max) {
		fprintf(stderr, "ubridge: invalid %s \"%s\" (%lu to %lu)\n",
			opt, s, min, max);
		return -1;
	}
	return 0;
}

/*
 * Detaches from the terminal. The parent waits until the child reports
 * that the bridge is up (or why not), so that "ubridge && ubctl ..." works.
 * Returns in the child with the pipe's write end in *notify_fd.
 */
static void daemonize(int *notify_fd)
{
	int pfd[2], null;
	char status = 1;
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC) || (pid = fork()) < 0) {
		perror("ubridge: fork");
		exit(1);
	}
	if (pid > 0) {
		close(pfd[1]);
		if (read(pfd[0], &status, 1) != 1)
			status = 1;
		exit(status);
	}
	close(pfd[0]);
	setsid();
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		close(null);
	}
	*notify_fd = pfd[1];
}

/* The user --user names. */
struct run_as {
	const char *name; /* NULL: stay who we are */
	uid_t uid;
	gid_t gid;
};

/* True when 's' is a user or group id in digits. */
static bool parse_id(const char *s, unsigned long *v)
{
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	*v = strtoul(s, &end, 10);
	return !*end && !errno && *v < (uid_t)-1;
}

/* Resolves a user given by name or uid. */
static int lookup_user(const char *s, struct run_as *u)
{
	struct passwd *pw = getpwnam(s);
	unsigned long v;

	if (!pw && parse_id(s, &v))
		pw = getpwuid((uid_t)v);
	if (!pw) {
		fprintf(stderr, "ubridge: no such user \"%s\"\n", s);
		return -1;
	}
	/* Kept past later getpw* calls, which reuse pw's storage. */
	u->name = strdup(pw->pw_name);
	u->uid = pw->pw_uid;
	u->gid = pw->pw_gid;
	return u->name ? 0 : -1;
}

/* Which of the NULL-ended 'words' 'arg' is; -1, said, when none. */
static int choose(const char *arg, const char *opt, const char *const *words)
{
	for (int i = 0; words[i]; i++)
		if (!strcmp(arg, words[i]))
			return i;
	fprintf(stderr, "ubridge: %s takes", opt);
	for (int i = 0; words[i]; i++)
		fprintf(stderr, "%s %s", i ? (words[i + 1] ? "," : " or") : "",
			words[i]);
	fprintf(stderr, "\n");
	return -1;
}

/* Resolves a group given by name or gid. */
static int lookup_group(const char *s, gid_t *gid)
{
	struct group *gr = getgrnam(s);
	unsigned long v;

	if (!gr && parse_id(s, &v))
		gr = getgrgid((gid_t)v);
	if (!gr) {
		fprintf(stderr, "ubridge: no such group \"%s\"\n", s);
		return -1;
	}
	*gid = gr->gr_gid;
	return 0;
}

/* Takes on u's uid, gid and groups. */
static int become(const struct run_as *u)
{
	if (initgroups(u->name, u->gid) || setresgid(u->gid, u->gid, u->gid) ||
	    setresuid(u->uid, u->uid, u->uid))
		return -errno;
	return 0;
}

/*
 * Keeps only the capabilities the running daemon uses, in the effective,
 * permitted and bounding sets, before any thread exists (capabilities are
 * per thread; the threads made later inherit these):
 *   CAP_NET_RAW     packet sockets for ports added at run time
 *   CAP_NET_ADMIN   netlink configuration, TAP devices, nftables, socket
 *                   buffers beyond the sysctl limits
 *   CAP_SYS_ADMIN   making and entering network namespaces (unshare,
 *                   mount, setns)
 *   CAP_SYS_PTRACE  opening another user's process's namespace (attach
 *                   --pid)
 *   CAP_IPC_LOCK    the UMEM each AF_XDP port pins (5 MiB), beyond the
 *                   locked-memory limit (8 MiB by default)
 * Everything else (file ownership overrides, module loading, kill ...) is
 * gone for good. With 'u' named, it becomes that user (and its groups) on
 * the way, keeping the same five. Run as non-root, it keeps what it had of
 * these.
 */
static int drop_privileges(const struct run_as *u)
{
	static const int keep[] = { CAP_NET_RAW, CAP_NET_ADMIN, CAP_SYS_ADMIN,
				    CAP_SYS_PTRACE, CAP_IPC_LOCK };
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	uint64_t mask = 0;
	int ret;

	for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
		mask |= 1ULL << keep[i];
	for (int c = 0; c <= CAP_LAST_CAP; c++)
		if (!(mask & 1ULL << c) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) &&
		    errno != EINVAL && errno != EPERM)
			return -errno;
	/* Leaving uid 0 empties the effective set; KEEPCAPS keeps the
	 * permitted one, from which the effective set is raised again. */
	if (u->name) {
		if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0))
			return -errno;
		ret = become(u);
		if (ret)
			return ret;
	}
	if (syscall(SYS_capget, &h, d))
		return -errno;
	for (int i = 0; i < 2; i++) {
		d[i].permitted &= (uint32_t)(mask >> (32 * i));
		d[i].effective = d[i].permitted;
		d[i].inheritable = 0;
	}
	return syscall(SYS_capset, &h, d) ? -errno : 0;
}

/*
 * With --user: the state file's directory must let that user make files
 * (the file is replaced by rename on every change), and an existing state
 * file must be readable and writable. Checked as the user, in a child, at
 * start-up: before the socket exists (a daemon that is no longer root
 * could not remove it again) and rather than at the first change.
 */
static int check_state_access(const char *path, const struct run_as *u)
{
	char *copy, *dir;
	int status;
	pid_t pid;

	pid = fork();
	if (pid < 0) {
		perror("ubridge: fork");
		return -1;
	}
	if (pid > 0)
		return waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
		       WEXITSTATUS(status) == 0 ? 0 : -1;
	copy = strdup(path);
	if (!copy || become(u)) {
		perror("ubridge: checking the state file's access");
		_exit(1);
	}
	dir = dirname(copy);
	if (access(dir, W_OK | X_OK)) {
		fprintf(stderr, "ubridge: user %s cannot write the state "
			"directory %s (%s): chown it to %s, or choose another "
			"place with --state\n", u->name, dir, strerror(errno),
			u->name);
		_exit(1);
	}
	if (access(path, R_OK | W_OK) && errno != ENOENT) {
		fprintf(stderr, "ubridge: user %s cannot use the state file %s "
			"(%s): chown it to %s\n", u->name, path,
			strerror(errno), u->name);
		_exit(1);
	}
	_exit(0);
}

/*
 * Raises the soft limit on open files to the hard one: the usual soft
 * limit, 1024 (kept low for select(), which ubridge does not use), is
 * about 200 ports. Warns once when even that is short of UB_FILES_WANTED.
 */
static void raise_nofile(void)
{
	struct rlimit rl;
	unsigned long long n;
	rlim_t soft;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return;
	soft = rl.rlim_cur;
	rl.rlim_cur = rl.rlim_max;
	if (soft < rl.rlim_max && setrlimit(RLIMIT_NOFILE, &rl)) {
		ub_log(UB_LOG_WARN, "cannot raise the open files limit from "
		       "%llu to %llu: %s", (unsigned long long)soft,
		       (unsigned long long)rl.rlim_max, strerror(errno));
		rl.rlim_cur = soft;
	}
	if (rl.rlim_cur >= UB_FILES_WANTED)
		return;
	n = rl.rlim_cur > UB_FILES_OTHER ?
		    (rl.rlim_cur - UB_FILES_OTHER) / UB_FILES_PER_PORT : 0;
	ub_log(UB_LOG_WARN, "open files limited to %llu: room for about %llu "
	       "interface ports; for 4096, raise the hard limit to %d "
	       "(LimitNOFILE= in the systemd unit, ulimit -n as root)",
	       (unsigned long long)rl.rlim_cur, n, UB_FILES_WANTED);
}

static void notify(int *fd, char status)
{
	if (*fd < 0)
		return;
	if (write(*fd, &status, 1) != 1)
		perror("ubridge: notify");
	close(*fd);
	*fd = -1;
}

/*
 * After ub_bridge_free(): what the bridge kept in UB_CTL_RUNDIR besides
 * its socket goes too, the empty claim directory and then the lock. (As a
 * --user that cannot write UB_CTL_RUNDIR they stay, free and harmless.)
 */
static void remove_run_files(const char *name)
{
	char sock[128];

	ub_claim_dir_remove(UB_CTL_RUNDIR, name);
	if (!ub_ctl_sock_path(name, sock, sizeof(sock)))
		ub_ctl_unlock(sock);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "port", required_argument, NULL, 'p' },
		{ "capture", required_argument, NULL, 'c' },
		{ "ageing", required_argument, NULL, 'a' },
		{ "max-learned", required_argument, NULL, 'm' },
		{ "state", required_argument, NULL, 's' },
		{ "no-state", no_argument, NULL, 'S' },
		{ "user", required_argument, NULL, 'u' },
		{ "group", required_argument, NULL, 'g' },
		{ "packet-rx", required_argument, NULL, 'R' },
		{ "packet-tx", required_argument, NULL, 'T' },
		{ "ring-size", required_argument, NULL, 'Z' },
		{ "ring-idle", required_argument, NULL, 'I' },
		{ "busy-poll", optional_argument, NULL, 'B' },
		{ "workers", required_argument, NULL, 'W' },
		{ "seed", required_argument, NULL, 'E' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	static const char *const rx_words[] = { "ring", "recvmsg", "xdp",
						"auto", NULL };
	static const enum ub_packet_rx rx_modes[] = {
		UB_PACKET_RX_RING, UB_PACKET_RX_RECVMSG, UB_PACKET_RX_XDP,
		UB_PACKET_RX_AUTO
	};
	static const char *const tx_words[] = { "ring", "flood", "send", NULL };
	static const enum ub_packet_tx tx_modes[] = {
		UB_PACKET_TX_RING, UB_PACKET_TX_FLOOD, UB_PACKET_TX_SEND
	};
	const char *ports[UB_PORTS_ARG_MAX];
	char *caps[UB_PORTS_ARG_MAX];
	int nports = 0, ncaps = 0, level = UB_LOG_INFO, notify_fd = -1, opt, ret;
	bool foreground = false, no_state = false, tx_ring_asked = false;
	const char *state = NULL;
	char state_buf[256];
	struct run_as user = { 0 };
	struct ub_bridge_cfg cfg;
	struct ub_bridge *br;
	unsigned long v;
	char err[256];

	ub_bridge_cfg_default(&cfg);
	while ((opt = getopt_long(argc, argv, "n:p:c:a:m:s:u:g:fvqhV", opts, NULL)) != -1) {
		switch (opt) {
		case 'n':
			cfg.name = optarg;
			break;
		case 'p':
			if (nports == UB_PORTS_ARG_MAX) {
				fprintf(stderr, "ubridge: at most %d --port "
					"options\n", UB_PORTS_ARG_MAX);
				return 2;
			}
			ports[nports++] = optarg;
			break;
		case 'c':
			if (ncaps == UB_PORTS_ARG_MAX || !strchr(optarg, ':')) {
				fprintf(stderr, "ubridge: --capture takes "
					"PORT:FILE (at most %d times)\n",
					UB_PORTS_ARG_MAX);
				return 2;
			}
			caps[ncaps++] = optarg;
			break;
		case 'a':
			if (parse_num("ageing time", optarg, 0, 1000000, &v))
				return 2;
			cfg.ageing_ms = (uint64_t)v * 1000;
			break;
		case 'm':
			if (parse_num("entry cap", optarg, 0, 1U << 24, &v))
				return 2;
			cfg.max_learned = (uint32_t)v;
			break;
		case 's':
			state = optarg;
			break;
		case 'S':
			no_state = true;
			break;
		case 'u':
			free((char *)user.name);
			if (lookup_user(optarg, &user))
				return 2;
			cfg.ctl_owner = user.uid;
			break;
		case 'g':
			if (lookup_group(optarg, &cfg.ctl_group))
				return 2;
			break;
		case 'R':
			ret = choose(optarg, "--packet-rx", rx_words);
			if (ret < 0)
				return 2;
			cfg.packet_rx = rx_modes[ret];
			break;
		case 'T':
			ret = choose(optarg, "--packet-tx", tx_words);
			if (ret < 0)
				return 2;
			cfg.packet_tx = tx_modes[ret];
			tx_ring_asked = cfg.packet_tx != UB_PACKET_TX_SEND;
			break;
		case 'Z':
			if (parse_num("ring size", optarg, 0, 1U << 20, &v))
				return 2;
			if (v < 64) {
				fprintf(stderr, "ubridge: ring size %lu KiB is "
					"too small (64 at least)\n", v);
				return 2;
			}
			cfg.ring_kib = (uint32_t)v;
			break;
		case 'I':
			if (parse_num("idle ring size", optarg, 0, 1U << 20, &v))
				return 2;
			if (v && v < 64) {
				fprintf(stderr, "ubridge: idle ring size %lu KiB "
					"is too small (0, or 64 at least)\n", v);
				return 2;
			}
			cfg.ring_idle_kib = (uint32_t)v;
			break;
		case 'B':
			if (!optarg)
				v = UB_BUSY_POLL_ALWAYS;
			else if (parse_num("busy-poll time", optarg, 0,
					   1000000, &v))
				return 2;
			cfg.busy_poll_us = (uint32_t)v;
			break;
		case 'W':
			if (parse_num("worker count", optarg, 1,
				      UB_WORKERS_MAX, &v))
				return 2;
			cfg.workers = (uint32_t)v;
			break;
		case 'E':
			if (parse_num("seed", optarg, 1, ULONG_MAX, &v))
				return 2;
			cfg.seed = v;
			break;
		case 'f':
			foreground = true;
			break;
		case 'v':
			level = level < UB_LOG_DEBUG ? level + 1 : level;
			break;
		case 'q':
			level = UB_LOG_ERR;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("ubridge %s\n", UB_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "ubridge: unexpected argument \"%s\"\n",
			argv[optind]);
		return 2;
	}
	/* The TX ring shares the RX ring's mapping and slot layout. */
	if (tx_ring_asked && cfg.packet_rx != UB_PACKET_RX_RING) {
		fprintf(stderr, "ubridge: --packet-tx ring|flood needs "
			"--packet-rx ring\n");
		return 2;
	}
	ub_log_set_level((enum ub_log_level)level);
	if (!no_state && !state) {
		/* The default place; made on first use, for root only (or
		 * the --user). */
		if (!mkdir(UB_STATE_DIR, 0700) && user.name &&
		    chown(UB_STATE_DIR, user.uid, user.gid))
			fprintf(stderr, "ubridge: chown %s: %s\n",
				UB_STATE_DIR, strerror(errno));
		snprintf(state_buf, sizeof(state_buf), "%s/%s.state",
			 UB_STATE_DIR, cfg.name);
		state = state_buf;
	}
	cfg.state_path = no_state ? NULL : state;
	raise_nofile();

	if (!foreground)
		daemonize(&notify_fd);
	if (user.name && cfg.state_path &&
	    check_state_access(cfg.state_path, &user)) {
		notify(&notify_fd, 1);
		return 1;
	}
	ret = ub_bridge_new(&cfg, &br, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "ubridge: %s\n", err);
		notify(&notify_fd, 1);
		return 1;
	}
	/* While root, and holding the bridge's lock (taken with its socket):
	 * the --user daemon must be able to make and remove its claims. */
	ret = ub_claim_prepare(UB_CTL_RUNDIR, cfg.name, cfg.ctl_owner,
			       (gid_t)-1);
	if (ret) {
		fprintf(stderr, "ubridge: cannot prepare %s/%s.ports: %s\n",
			UB_CTL_RUNDIR, cfg.name, strerror(-ret));
		ub_bridge_free(br);
		remove_run_files(cfg.name);
		notify(&notify_fd, 1);
		return 1;
	}
	/* Before the state's and the command line's captures start their
	 * writer threads, which inherit what this thread keeps. */
	ret = drop_privileges(&user);
	free((char *)user.name);
	if (ret) {
		fprintf(stderr, "ubridge: cannot drop privileges: %s\n",
			strerror(-ret));
		ub_bridge_free(br);
		remove_run_files(cfg.name);
		notify(&notify_fd, 1);
		return 1;
	}
	ub_bridge_restore(br);
	/* A port the state file brought back already is no error. */
	for (int i = 0; i < nports && !ret; i++)
		if ((ret = ub_bridge_port_add(br, ports[i], err,
					      sizeof(err))) == -EEXIST)
			ret = 0;
	for (int i = 0; i < ncaps && !ret; i++) {
		char *file = strchr(caps[i], ':');

		*file++ = '\0';
		ret = ub_bridge_capture(br, caps[i], file, err, sizeof(err));
	}
	if (ret) {
		fprintf(stderr, "ubridge: %s\n", err);
		ub_bridge_free(br);
		remove_run_files(cfg.name);
		notify(&notify_fd, 1);
		return 1;
	}
	/* The state's ports count, and ports given twice count once. */
	ub_log(UB_LOG_INFO, "%s: bridge up, %u port(s)", cfg.name,
	       ub_bridge_port_count(br));
	notify(&notify_fd, 0);
	ret = ub_bridge_run(br);
	ub_bridge_free(br);
	remove_run_files(cfg.name);
	return ret ? 1 : 0;
}
