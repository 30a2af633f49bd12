/* SPDX-License-Identifier: MIT */
/*
 * The bridge's life cycle: made from its configuration, freed at the end.
 * Its parts and who owns them: bridge_private.h; the loop: loop.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <ubridge/cmd.h>

#include "bridge_private.h"
#include "capture.h"
#include "conn.h"
#include "gateway.h"
#include "guard.h"
#include "link.h"
#include "log.h"
#include "loop.h"
#include "port.h"
#include "worker.h"

void ub_bridge_cfg_default(struct ub_bridge_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->name = UB_BRIDGE_DEFAULT;
	cfg->ageing_ms = UB_FDB_DEFAULT_AGEING_MS;
	cfg->ctl_owner = (uid_t)-1;
	cfg->ctl_group = (gid_t)-1;
	cfg->packet_rx = UB_PACKET_RX_RING;
	cfg->packet_tx = UB_PACKET_TX_FLOOD;
	cfg->ring_idle_kib = UB_RING_IDLE_BYTES_DEFAULT / 1024;
}

uint64_t ub_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
}

uint64_t ub_bridge_clock(struct ub_bridge *br)
{
	uint64_t ns = ub_mono_ns();

	br->now = ns / 1000000 + br->warp_ms;
	return ns;
}

int ub_bridge_port_add(struct ub_bridge *br, const char *ifname, char *err,
		       size_t errlen)
{
	int ret;

	ub_bridge_lock(br);
	ret = ub_port_open(br, ifname, br->packet_ops, NULL, err, errlen);
	ub_bridge_unlock(br);
	return ret;
}

int ub_bridge_capture(struct ub_bridge *br, const char *port,
		      const char *path, char *err, size_t errlen)
{
	struct ub_cap_req req = { .port_name = port, .port = UB_CAP_ALL,
				  .cfg.path = path };
	struct ub_cap_slot *s;
	int fd, ret = 0;

	ub_bridge_lock(br);
	if (strcmp(port, "all")) {
		struct ub_port *p = ub_port_find(&br->ports, port);

		if (!p) {
			snprintf(err, errlen, "%s is not a port of bridge %s",
				 port, br->name);
			ub_bridge_unlock(br);
			return -ENOENT;
		}
		req.port = ub_port_id(&br->ports, p);
	}
	/* The daemon's own command line, so root's: the daemon opens it,
	 * without following a symlink planted at the path. */
	ret = ub_capture_files_open(path, 0, O_RDWR | O_CREAT | O_NOFOLLOW,
				    &fd, err, errlen);
	if (ret >= 0) {
		req.cfg.fds = &fd;
		req.cfg.nfds = 1;
		/* The command line makes it again at every start: not saved. */
		s = ub_cap_start(&br->caps, &req, &ret, err, errlen);
		if (s)
			s->saved = false;
	}
	ub_bridge_unlock(br);
	return ret;
}

/* The FDB, with a cap per port id and a random hash secret. */
static int fdb_new(struct ub_bridge *br, const struct ub_bridge_cfg *cfg,
		   char *err, size_t errlen)
{
	struct ub_fdb_cfg fcfg;
	int ret;

	ub_fdb_cfg_default(&fcfg);
	if (cfg->max_learned)
		fcfg.max_learned = cfg->max_learned;
	fcfg.ageing_ms = cfg->ageing_ms;
	fcfg.ports = UB_PORTS_MAX;
	/* Every port's own MAC is a local entry, which shares the static
	 * entries' room: the users' static entries get the default room on
	 * top of one per port. */
	fcfg.max_static = UB_FDB_DEFAULT_MAX_STATIC + UB_PORTS_MAX;
	if (getrandom(&fcfg.secret, sizeof(fcfg.secret), 0) !=
	    sizeof(fcfg.secret)) {
		snprintf(err, errlen, "getrandom: %s", strerror(errno));
		return -errno;
	}
	br->max_learned = fcfg.max_learned;
	br->impair_seed = cfg->seed;
	if (!br->impair_seed &&
	    getrandom(&br->impair_seed, sizeof(br->impair_seed), 0) !=
		    sizeof(br->impair_seed)) {
		snprintf(err, errlen, "getrandom: %s", strerror(errno));
		return -errno;
	}
	ret = ub_fdb_new(&fcfg, &br->fdb);
	if (ret)
		snprintf(err, errlen, "cannot create the FDB: %s",
			 strerror(-ret));
	return ret;
}

/* How AF_PACKET ports receive and send, and how the loop waits. */
static void data_path_cfg(struct ub_bridge *br, const struct ub_bridge_cfg *cfg)
{
	if (cfg->packet_rx == UB_PACKET_RX_RECVMSG) {
		br->packet_ops = &ub_port_packet_ops;
	} else if (cfg->packet_rx == UB_PACKET_RX_XDP) {
		br->packet_ops = &ub_port_packet_xdp_ops;
	} else if (cfg->packet_rx == UB_PACKET_RX_AUTO) {
		br->packet_ops = &ub_port_packet_auto_ops;
	} else {
		br->packet_ops = cfg->packet_tx == UB_PACKET_TX_SEND ?
					 &ub_port_packet_ring_ops :
					 &ub_port_packet_rings_ops;
		br->tx_ring_unicast = cfg->packet_tx == UB_PACKET_TX_RING;
	}
	br->ring_bytes = cfg->ring_kib * 1024;
	br->ring_idle_bytes = cfg->ring_idle_kib * 1024;
	br->busy_poll = cfg->busy_poll_us == UB_BUSY_POLL_ALWAYS;
	br->spin_ns = br->busy_poll ? 0 : (uint64_t)cfg->busy_poll_us * 1000;
}

static int workers_new(struct ub_bridge *br, uint32_t n, char *err,
		       size_t errlen)
{
	int ret;

	if (n > UB_WORKERS_MAX) {
		snprintf(err, errlen, "at most %d workers", UB_WORKERS_MAX);
		return -EINVAL;
	}
	for (uint32_t k = 0; k < n; k++) {
		br->nworkers++;
		ret = ub_worker_init(&br->workers[k], br, k);
		if (ret) {
			snprintf(err, errlen, "cannot set up worker %u: %s", k,
				 strerror(-ret));
			return ret;
		}
	}
	if (n > 1 && (br->busy_poll || br->spin_ns)) {
		cpu_set_t cpus;

		if (!sched_getaffinity(0, sizeof(cpus), &cpus) &&
		    (uint32_t)CPU_COUNT(&cpus) < n)
			ub_log(UB_LOG_WARN, "%s: %u polling workers on %d CPU(s) "
			       "take turns: a frame may wait for its worker's "
			       "turn; give each worker a CPU, or do not poll",
			       br->name, n, CPU_COUNT(&cpus));
	}
	return 0;
}

static int signals_open(struct ub_bridge *br, char *err, size_t errlen)
{
	sigset_t sigs;

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	br->sig_fd = signalfd(-1, &sigs, SFD_CLOEXEC);
	if (br->sig_fd < 0) {
		snprintf(err, errlen, "signalfd: %s", strerror(errno));
		return -errno;
	}
	if (ub_loop_arm_signal(br)) {
		snprintf(err, errlen, "io_uring: cannot follow signals");
		return -EIO;
	}
	return 0;
}

int ub_bridge_new(const struct ub_bridge_cfg *cfg, struct ub_bridge **out,
		  char *err, size_t errlen)
{
	struct ub_bridge *br;
	int ret;

	br = calloc(1, sizeof(*br));
	if (!br) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	br->sig_fd = br->ctl.fd = br->ctl_worker.wake_fd = -1;
	br->guard.probe_fd = -1;
	for (unsigned i = 0; i < UB_CONNS_MAX; i++)
		br->ctl.conns[i].fd = -1;
	pthread_mutex_init(&br->lock, NULL);
	snprintf(br->name, sizeof(br->name), "%s", cfg->name);
	br->caps.bridge = br->name;
	if (cfg->state_path)
		snprintf(br->state_path, sizeof(br->state_path), "%s",
			 cfg->state_path);
	data_path_cfg(br, cfg);

	/* The socket first: it checks the name, and says if the bridge
	 * runs already, before anything else is made. */
	ret = ub_worker_init(ub_ctl_worker(br), br, UB_WORKER_CTL);
	if (ret) {
		snprintf(err, errlen, "cannot set up the control thread's "
			 "ring: %s", strerror(-ret));
		goto err;
	}
	if ((ret = workers_new(br, cfg->workers ? cfg->workers : 1, err,
			       errlen)) ||
	    (ret = ub_ctl_server_open(br, cfg, err, errlen)) ||
	    (ret = fdb_new(br, cfg, err, errlen)) ||
	    (ret = signals_open(br, err, errlen)))
		goto err;
	ret = ub_links_open(br);
	if (ret) {
		snprintf(err, errlen, "cannot follow link events: %s",
			 strerror(-ret));
		goto err;
	}
	ret = ub_guard_init(&br->guard);
	if (ret) {
		snprintf(err, errlen, "cannot set up loop protection: %s",
			 strerror(-ret));
		goto err;
	}
	ub_bridge_clock(br);
	*out = br;
	return 0;
err:
	ub_bridge_free(br);
	return ret;
}

void ub_bridge_free(struct ub_bridge *br)
{
	if (!br)
		return;
	/* The workers have stopped; the lock is for the steps that let it
	 * go. */
	ub_bridge_lock(br);
	if (br->gw.nat)
		ub_nat_set(br, false, NULL, 0);
	ub_cap_stop_port(&br->caps, UB_CAP_ALL);
	ub_cap_free_ended(&br->caps);
	ub_ports_close_all(br);
	for (uint32_t i = 0; i < UB_PORTS_MAX; i++) {
		free(ub_port_by_id(&br->ports, i)->netns);
		free(ub_port_by_id(&br->ports, i)->container);
		free(ub_port_by_id(&br->ports, i)->vlan);
		ub_impair_free(ub_port_by_id(&br->ports, i)->impair[0]);
		ub_impair_free(ub_port_by_id(&br->ports, i)->impair[1]);
	}
	ub_mon_free(br);
	/* The control ring's accept holds the listening socket: without its
	 * cancel the socket would go on taking connections after the
	 * process is gone (until the kernel tears the ring down), and a
	 * client would read that as a busy bridge, not a stopped one. */
	ub_ring_quiesce(ub_ctl_worker(br)->ring);
	ub_ctl_server_close(&br->ctl);
	if (br->sig_fd >= 0)
		close(br->sig_fd);
	ub_links_close(&br->links);
	ub_guard_close(&br->guard);
	for (uint32_t k = 0; k < br->nworkers; k++)
		ub_worker_fini(&br->workers[k]);
	ub_worker_fini(ub_ctl_worker(br));
	ub_bridge_unlock(br);
	pthread_mutex_destroy(&br->lock);
	ub_fdb_free(br->fdb);
	free(br);
}
