/* SPDX-License-Identifier: MIT */
/*
 * ubridge-cni: a CNI plugin (specification 1.0.0) that wires containers
 * to a ubridge bridge. It is installed as "ubridge" in the runtime's
 * plugin directory, so a network configuration says "type": "ubridge".
 *
 * The runtime runs it once per operation: the command in CNI_COMMAND
 * (ADD, DEL, CHECK, VERSION), the container in CNI_CONTAINERID,
 * CNI_NETNS and CNI_IFNAME, the network configuration on stdin. It
 * answers with a result (ADD), a version object (VERSION) or nothing,
 * exit status 0; or with an error object and exit status 1. Nothing else
 * is ever written on stdout: the runtime parses it.
 *
 * The plugin keeps no state. The daemon makes the veth and attaches it
 * ("netns attach PATH"), and remembers which container each port is
 * for ("--container"), so DEL and CHECK ask it rather than a file of our
 * own. The namespace travels as a descriptor opened here: the daemon
 * never opens a path a client names. What happens inside the container's
 * namespace (addresses, routes, link up) is done here, with control/'s
 * netlink, and addresses come from the IPAM plugin the configuration
 * names, run the way libcni runs plugins.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/nsfs.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>

#include <ubridge/cmd.h>
#include <ubridge/compiler.h>
#include <ubridge/ctl.h>
#include <ubridge/eth.h>
#include <ubridge/netlink.h>

#ifndef UB_VERSION
#define UB_VERSION "0.1.0"
#endif

/* The newest specification we follow, and every one we answer in. */
#define CNI_SPEC "1.0.0"
static const char *const cni_versions[] = { "0.3.0", "0.3.1", "0.4.0",
					    "1.0.0" };
/* Indexes into cni_versions[]: CHECK came with 0.4.0; before 1.0.0 an
 * address in a result carries its IP version. */
#define CNI_V040 2
#define CNI_V100 3

/* Bounds on what we read: the configuration on stdin and an IPAM
 * plugin's answer. */
#define CNI_IN_MAX (1u << 20)
#define CNI_ADDRS_MAX 16
#define CNI_ROUTES_MAX 64
#define CNI_KV_MAX 64

/* The specification's error codes. */
enum {
	CNI_E_VERSION = 1,	/* incompatible CNI version */
	CNI_E_UNKNOWN = 3,	/* container unknown or does not exist */
	CNI_E_ENV = 4,		/* invalid necessary environment variable */
	CNI_E_DECODE = 6,	/* failed to decode content */
	CNI_E_CONFIG = 7,	/* invalid network configuration */
	CNI_E_AGAIN = 11,	/* try again later */
	CNI_E_PLUGIN = 999,	/* ours: see msg and details */
};

/* The one error a run reports. The first failure is the one that
 * counts: what goes wrong while undoing it only goes to stderr. */
static struct {
	int code;	/* 0: none yet */
	char msg[256];
	char details[1024];
} cni_e;

/* What the runtime tells us in the environment. */
struct cni_env {
	const char *command;
	const char *containerid;
	const char *netns;	/* "" on DEL when the namespace is gone */
	const char *ifname;
	const char *path;	/* where IPAM plugins are */
	const char *args;	/* "K=V;K=V" */
};

/* The network configuration (stdin) and what we take from it. */
struct cni_conf {
	json_object *root;
	const char *raw;	/* stdin as read, for the IPAM plugin */
	size_t rawlen;
	const char *version;
	int vidx;		/* index into cni_versions[] */
	const char *name;
	const char *bridge;
	uint32_t mtu;		/* 0: the daemon's default */
	uint32_t vlan;		/* an access port of it; 0: none */
	bool has_mac;
	struct ub_mac mac;
	bool is_gw, is_default_gw, ipmasq;
	const char *ipam;	/* the IPAM plugin's type; NULL: none */
	json_object *prev;	/* prevResult; NULL: none */
};

struct cni {
	struct cni_env env;
	struct cni_conf conf;
	char sock[UB_CTL_REQ_MAX];	/* the daemon's socket, for messages */
};

/* An address from IPAM, with the gateway it came with. */
struct cni_ip {
	struct ub_cidr addr;
	bool has_gw;
	struct ub_cidr gw;
};

/* An IPAM result, and what the plugin makes of it. */
struct cni_result {
	struct cni_ip ips[CNI_ADDRS_MAX];
	size_t nips;
	struct ub_route routes[CNI_ROUTES_MAX];
	size_t nroutes;
	json_object *dns;	/* a reference of ours; NULL: none */
};

static int cni_fail(int code, const char *msg, const char *fmt, ...)
	UB_PRINTF(3, 4);
static void cni_warn(const char *fmt, ...) UB_PRINTF(1, 2);

/* Records the run's error unless one is there already. Returns -1. */
static int cni_fail(int code, const char *msg, const char *fmt, ...)
{
	va_list ap;

	if (cni_e.code)
		return -1;
	cni_e.code = code;
	snprintf(cni_e.msg, sizeof(cni_e.msg), "%s", msg);
	va_start(ap, fmt);
	vsnprintf(cni_e.details, sizeof(cni_e.details), fmt, ap);
	va_end(ap);
	return -1;
}

/* stderr is for people reading the runtime's log, never parsed. */
static void cni_warn(const char *fmt, ...)
{
	va_list ap;

	fputs("ubridge-cni: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* ---- JSON ---- */

/*
 * json-c allocation failures are checked once, when the tree is printed:
 * these helpers let a NULL through, and a tree with a hole in it is
 * refused there.
 */
static bool cni_oom;

static void jadd(json_object *o, const char *key, json_object *v)
{
	if (!o || !v || json_object_object_add(o, key, v)) {
		json_object_put(v);
		cni_oom = true;
	}
}

static void jpush(json_object *a, json_object *v)
{
	if (!a || !v || json_object_array_add(a, v)) {
		json_object_put(v);
		cni_oom = true;
	}
}

/*
 * Parses buf[0..len) as one JSON value, strictly, with nothing but white
 * space after it. Returns it, or NULL with the reason in 'why'.
 */
static json_object *cni_json_parse(const char *buf, size_t len,
				   const char **why)
{
	struct json_tokener *tok;
	json_object *o;
	size_t end;

	if (len > INT_MAX) {
		*why = "too long";
		return NULL;
	}
	tok = json_tokener_new();
	if (!tok) {
		*why = strerror(ENOMEM);
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, buf, (int)len);
	if (!o) {
		enum json_tokener_error e = json_tokener_get_error(tok);

		*why = e == json_tokener_continue ? "unexpected end of input" :
						    json_tokener_error_desc(e);
	} else {
		for (end = json_tokener_get_parse_end(tok); end < len; end++) {
			if (!strchr(" \t\r\n", buf[end])) {
				*why = "data after the JSON value";
				json_object_put(o);
				o = NULL;
				break;
			}
		}
	}
	json_tokener_free(tok);
	return o;
}

static const char *cni_json_type_name(json_type t)
{
	switch (t) {
	case json_type_boolean:
		return "a boolean";
	case json_type_int:
		return "an integer";
	case json_type_string:
		return "a string";
	case json_type_object:
		return "an object";
	case json_type_array:
		return "an array";
	default:
		return "a value";
	}
}

/*
 * Member 'key' of 'o' (NULL: absent), which must be of type 't'. A null
 * is absent, as libcni's decoder has it. Returns 1 (found, in '*out'), 0
 * (absent) or -1 with an error of 'code' naming 'where' (the member's
 * path, e.g. "ipam.type").
 */
static int jget(json_object *o, const char *key, json_type t,
		json_object **out, int code, const char *where)
{
	json_object *v = NULL;

	*out = NULL;
	if (!o || !json_object_object_get_ex(o, key, &v) || !v)
		return 0;
	if (!json_object_is_type(v, t))
		return cni_fail(code, code == CNI_E_CONFIG ?
				"invalid network configuration" :
				"invalid result", "\"%s\" must be %s", where,
				cni_json_type_name(t));
	*out = v;
	return 1;
}

/* The optional number 'key' of the configuration into '*out', which
 * stays 0 without it; it must be in [min, max]. 0, or -1 (error set). */
static int conf_uint(json_object *o, const char *key, int64_t min,
		     int64_t max, uint32_t *out)
{
	json_object *v;
	int64_t n;
	int r = jget(o, key, json_type_int, &v, CNI_E_CONFIG, key);

	if (r <= 0)
		return r;
	n = json_object_get_int64(v);
	if (n < min || n > max)
		return cni_fail(CNI_E_CONFIG, "invalid network configuration",
				"\"%s\": %lld is out of range (%lld to %lld)",
				key, (long long)n, (long long)min,
				(long long)max);
	*out = (uint32_t)n;
	return 0;
}

/* Writes 'o' on stdout, one line; drops it. Returns 0 or -1. */
static int cni_json_print(json_object *o)
{
	const char *s = NULL;

	if (o && !cni_oom)
		s = json_object_to_json_string_ext(
			o, JSON_C_TO_STRING_PLAIN |
				   JSON_C_TO_STRING_NOSLASHESCAPE);
	if (s) {
		fputs(s, stdout);
		fputc('\n', stdout);
	}
	json_object_put(o);
	if (!s)
		return cni_fail(CNI_E_PLUGIN, "out of memory",
				"building the JSON answer");
	if (fflush(stdout) || ferror(stdout))
		return cni_fail(CNI_E_PLUGIN, "cannot write the answer",
				"stdout: %s", strerror(errno));
	return 0;
}

/* The run's error object, in 'version' (the configuration's when we
 * know it and speak it). */
static void cni_print_error(const char *version)
{
	json_object *o = json_object_new_object();

	cni_oom = false;
	jadd(o, "cniVersion", json_object_new_string(version));
	jadd(o, "code", json_object_new_int(cni_e.code));
	jadd(o, "msg", json_object_new_string(cni_e.msg));
	if (cni_e.details[0])
		jadd(o, "details", json_object_new_string(cni_e.details));
	/* If even this cannot be written, the exit status still tells. */
	cni_e.code = CNI_E_PLUGIN;
	cni_json_print(o);
}

static json_object *cni_json_cidr(const struct ub_cidr *c, bool prefix)
{
	char buf[UB_CIDR_STRLEN];

	if (ub_cidr_fmt(c, prefix, buf, sizeof(buf)))
		return NULL;
	return json_object_new_string(buf);
}

/* ---- reading ---- */

/*
 * Reads 'fd' to its end into a malloc'd buffer (NUL-terminated, for
 * messages). More than 'max' bytes: -EFBIG.
 */
static int cni_read_all(int fd, size_t max, char **out, size_t *outlen)
{
	size_t len = 0, cap = 0;
	char *buf = NULL, *nbuf;
	ssize_t n;
	int ret;

	for (;;) {
		if (len == cap) {
			/* One byte past 'max' tells a longer input. */
			if (len > max) {
				ret = -EFBIG;
				break;
			}
			cap = cap ? 2 * cap : 4096;
			if (cap > max + 1)
				cap = max + 1;
			nbuf = realloc(buf, cap + 1);
			if (!nbuf) {
				ret = -ENOMEM;
				break;
			}
			buf = nbuf;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			break;
		}
		if (n == 0) {
			if (len > max) {
				ret = -EFBIG;
				break;
			}
			buf[len] = '\0';
			*out = buf;
			*outlen = len;
			return 0;
		}
		len += (size_t)n;
	}
	free(buf);
	return ret;
}

/* ---- the configuration and the environment ---- */

static int cni_version_index(const char *v)
{
	for (size_t i = 0; i < UB_ARRAY_SIZE(cni_versions); i++) {
		if (!strcmp(v, cni_versions[i]))
			return (int)i;
	}
	return -1;
}

/* A MAC a container may have: unicast, not all zero. */
static int cni_mac_parse(const char *s, struct ub_mac *mac)
{
	if (ub_mac_parse(s, mac) || ub_mac_is_mcast(mac) || ub_mac_is_zero(mac))
		return -EINVAL;
	return 0;
}

/* An optional MAC, member 'key' of 'o'; a later source overrides an earlier. */
static int cni_conf_mac(struct cni_conf *f, json_object *o, const char *key,
			const char *where)
{
	json_object *v;
	int r = jget(o, key, json_type_string, &v, CNI_E_CONFIG, where);

	if (r <= 0)
		return r;
	if (cni_mac_parse(json_object_get_string(v), &f->mac))
		return cni_fail(CNI_E_CONFIG, "invalid network configuration",
				"\"%s\": \"%.40s\" is not a unicast MAC address "
				"(aa:bb:cc:dd:ee:ff)", where,
				json_object_get_string(v));
	f->has_mac = true;
	return 0;
}

/* An optional boolean member; 'out' keeps its value when absent. */
static int cni_conf_bool(json_object *o, const char *key, bool *out)
{
	json_object *v;
	int r = jget(o, key, json_type_boolean, &v, CNI_E_CONFIG, key);

	if (r > 0)
		*out = json_object_get_boolean(v);
	return r < 0 ? r : 0;
}

/*
 * CNI_ARGS, "K=V;K=V": MAC= (podman's --mac-address) sets the MAC. Other
 * keys are for other plugins (IgnoreUnknown=1, K8S_POD_NAME ...).
 */
static int cni_args_parse(const char *args, struct cni_conf *f)
{
	const char *p = args, *end, *eq;
	char mac[UB_MAC_STRLEN];
	size_t n;

	for (; p && *p; p = *end ? end + 1 : end) {
		end = strchrnul(p, ';');
		eq = memchr(p, '=', (size_t)(end - p));
		if (!eq || eq == p)
			return cni_fail(CNI_E_ENV, "invalid CNI_ARGS",
					"\"%.*s\" is not KEY=VALUE",
					(int)(end - p > 60 ? 60 : end - p), p);
		if (eq - p != 3 || strncmp(p, "MAC", 3))
			continue;
		n = (size_t)(end - eq - 1);
		if (n < sizeof(mac)) {
			memcpy(mac, eq + 1, n);
			mac[n] = '\0';
		}
		if (n >= sizeof(mac) || cni_mac_parse(mac, &f->mac))
			return cni_fail(CNI_E_ENV, "invalid CNI_ARGS",
					"MAC=%.*s is not a unicast MAC address",
					(int)(n > 40 ? 40 : n), eq + 1);
		f->has_mac = true;
	}
	return 0;
}

/* cniVersion alone: it decides the version of every answer. */
static int cni_conf_version(struct cni_conf *f)
{
	json_object *v;
	int r = jget(f->root, "cniVersion", json_type_string, &v,
		     CNI_E_CONFIG, "cniVersion");

	if (r < 0)
		return r;
	if (!r)
		return cni_fail(CNI_E_CONFIG, "invalid network configuration",
				"\"cniVersion\" is missing");
	f->version = json_object_get_string(v);
	f->vidx = cni_version_index(f->version);
	if (f->vidx < 0)
		return cni_fail(CNI_E_VERSION, "incompatible CNI versions",
				"the configuration's cniVersion is \"%.40s\"; "
				"this plugin supports 0.3.0, 0.3.1, 0.4.0 and "
				"1.0.0", f->version);
	return 0;
}

static int cni_conf_parse(struct cni *c)
{
	struct cni_conf *f = &c->conf;
	json_object *o = f->root, *v, *ipam, *sub;
	int r;

	if ((r = jget(o, "name", json_type_string, &v, CNI_E_CONFIG,
		      "name")) < 0)
		return r;
	if (!r || !json_object_get_string_len(v))
		return cni_fail(CNI_E_CONFIG, "invalid network configuration",
				"\"name\" is missing");
	f->name = json_object_get_string(v);

	if ((r = jget(o, "bridge", json_type_string, &v, CNI_E_CONFIG,
		      "bridge")) < 0)
		return r;
	f->bridge = r ? json_object_get_string(v) : UB_BRIDGE_DEFAULT;
	if (ub_ctl_sock_path(f->bridge, c->sock, sizeof(c->sock)))
		return cni_fail(CNI_E_CONFIG, "invalid network configuration",
				"\"bridge\": \"%.40s\" is not a bridge name (1 "
				"to %d of [A-Za-z0-9_.-], not starting with "
				"'.' or '-')", f->bridge, UB_BRIDGE_NAME_MAX);

	if (conf_uint(o, "mtu", 68, 65535, &f->mtu) ||
	    conf_uint(o, "vlan", 1, 4094, &f->vlan))
		return -1;

	if (cni_conf_bool(o, "isGateway", &f->is_gw) ||
	    cni_conf_bool(o, "isDefaultGateway", &f->is_default_gw) ||
	    cni_conf_bool(o, "ipMasq", &f->ipmasq))
		return -1;
	/* As in the reference bridge plugin: a default gateway is one. */
	f->is_gw = f->is_gw || f->is_default_gw;

	if ((r = jget(o, "ipam", json_type_object, &ipam, CNI_E_CONFIG,
		      "ipam")) < 0)
		return r;
	if (r) {
		if ((r = jget(ipam, "type", json_type_string, &v, CNI_E_CONFIG,
			      "ipam.type")) < 0)
			return r;
		if (!r || !json_object_get_string_len(v))
			return cni_fail(CNI_E_CONFIG,
					"invalid network configuration",
					"\"ipam\" has no \"type\"");
		f->ipam = json_object_get_string(v);
		/* A plugin is looked up in CNI_PATH, never elsewhere. */
		if (strchr(f->ipam, '/') || !strcmp(f->ipam, ".") ||
		    !strcmp(f->ipam, ".."))
			return cni_fail(CNI_E_CONFIG,
					"invalid network configuration",
					"\"ipam.type\": \"%.60s\" is not a "
					"plugin name", f->ipam);
	}
	if (f->is_gw && !f->ipam)
		return cni_fail(CNI_E_CONFIG, "invalid network configuration",
				"\"isGateway\" needs \"ipam\": the gateway's "
				"address comes from it");

	if ((r = jget(o, "prevResult", json_type_object, &f->prev,
		      CNI_E_CONFIG, "prevResult")) < 0)
		return r;

	/* The MAC: ours, then CNI_ARGS, args.cni, runtimeConfig (the
	 * "mac" capability), the later winning, as in the bridge plugin. */
	if (cni_conf_mac(f, o, "mac", "mac") ||
	    cni_args_parse(c->env.args, f))
		return -1;
	if ((r = jget(o, "args", json_type_object, &v, CNI_E_CONFIG,
		      "args")) < 0 ||
	    (r = jget(v, "cni", json_type_object, &sub, CNI_E_CONFIG,
		      "args.cni")) < 0 ||
	    cni_conf_mac(f, sub, "mac", "args.cni.mac"))
		return -1;
	if ((r = jget(o, "runtimeConfig", json_type_object, &v, CNI_E_CONFIG,
		      "runtimeConfig")) < 0 ||
	    cni_conf_mac(f, v, "mac", "runtimeConfig.mac"))
		return -1;
	return 0;
}

/* A container id: alphanumerics, '_', '.', '-', starting with one of
 * the first (the specification's rule). */
static bool cni_id_valid(const char *s)
{
	static const char alnum[] = "abcdefghijklmnopqrstuvwxyz"
				    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

	if (!*s || !strchr(alnum, *s))
		return false;
	for (; *s; s++) {
		if (!strchr(alnum, *s) && !strchr("_.-", *s))
			return false;
	}
	return true;
}

/* The variables a command needs; 'netns': CNI_NETNS is required. */
static int cni_env_check(struct cni *c, bool netns)
{
	const struct cni_env *e = &c->env;

	if (!e->containerid || !*e->containerid)
		return cni_fail(CNI_E_ENV, "invalid CNI_CONTAINERID", "not set");
	if (!cni_id_valid(e->containerid))
		return cni_fail(CNI_E_ENV, "invalid CNI_CONTAINERID",
				"\"%.80s\": letters, digits, '_', '.' and '-', "
				"starting with a letter or digit",
				e->containerid);
	if (!e->ifname || ub_nl_ifname_check(e->ifname))
		return cni_fail(CNI_E_ENV, "invalid CNI_IFNAME",
				"\"%.40s\" is not an interface name (1 to 15 "
				"characters, no '/', ':' or white space)",
				e->ifname ? e->ifname : "");
	if (netns && (!e->netns || !*e->netns))
		return cni_fail(CNI_E_ENV, "invalid CNI_NETNS", "not set");
	if (e->netns && *e->netns && e->netns[0] != '/')
		return cni_fail(CNI_E_ENV, "invalid CNI_NETNS",
				"\"%.200s\" is not an absolute path", e->netns);
	if (c->conf.ipam && (!e->path || !*e->path))
		return cni_fail(CNI_E_ENV, "invalid CNI_PATH",
				"not set, and the IPAM plugin \"%s\" is looked "
				"up in it", c->conf.ipam);
	return 0;
}

/*
 * Opens CNI_NETNS. Returns the fd, -ENOENT when it does not exist or is
 * not a network namespace (any more), or -1 with the error set ('quiet':
 * only return, for DEL, where a missing namespace is fine).
 */
static int cni_netns_open(const struct cni *c, bool quiet)
{
	const char *path = c->env.netns;
	int fd = open(path, O_RDONLY | O_CLOEXEC), err;

	if (fd < 0) {
		err = errno;
		if (quiet && (err == ENOENT || err == ENOTDIR))
			return -ENOENT;
		if (err == ENOENT)
			return cni_fail(CNI_E_UNKNOWN, "container unknown",
					"network namespace %.200s does not "
					"exist", path);
		return cni_fail(CNI_E_PLUGIN, "cannot open the network "
				"namespace", "%.200s: %s", path, strerror(err));
	}
	if (ioctl(fd, NS_GET_NSTYPE) != CLONE_NEWNET) {
		close(fd);
		if (quiet)
			return -ENOENT;
		return cni_fail(CNI_E_ENV, "invalid CNI_NETNS",
				"%.200s is not a network namespace", path);
	}
	return fd;
}

/* ---- the daemon ---- */

typedef void (*cni_rec_fn)(const struct ub_ctl_kv *kv, int n, void *arg);

static const char *cni_kv_get(const struct ub_ctl_kv *kv, int n,
			      const char *key)
{
	for (int i = 0; i < n; i++) {
		if (!strcmp(kv[i].key, key))
			return kv[i].val;
	}
	return NULL;
}

static bool cni_daemon_down(int err)
{
	return err == -ENOENT || err == -ECONNREFUSED;
}

/*
 * Runs one command of the daemon, given in ubctl's words (so the grammar
 * in control/ checks it and builds the request), with the descriptors
 * fds[0..nfds). Each record of the reply goes to 'fn'. Returns 0 with the
 * command's status in '*status' (0 or -errno) and its message in 'msg',
 * or a transport failure (-errno) with the error set: the daemon not
 * running is "try again later".
 */
static int cni_ctl(struct cni *c, int argc, const char **argv,
		   const int *fds, unsigned int nfds, cni_rec_fn fn, void *arg,
		   int *status, char *msg, size_t msglen)
{
	static struct ub_cmd_args args;
	char err[512], req[UB_CTL_REQ_MAX], *wire[UB_CTL_ARGS_MAX];
	char *reply = NULL, *line, *nl;
	struct ub_ctl_kv kv[CNI_KV_MAX];
	const char *m;
	bool got = false;
	int n, ret;

	/* ub_cmd_parse() does not write into argv. */
	if (ub_cmd_parse(argc, (char *const *)argv, UB_CMD_PARSE_USER, &args,
			 err, sizeof(err))) {
		cni_fail(CNI_E_PLUGIN, "cannot build a request for the daemon",
			 "%s %s: %s (a daemon older than this plugin?)",
			 argv[0], argv[1], err);
		return -EINVAL;
	}
	n = ub_cmd_format(&args, req, sizeof(req), wire, UB_ARRAY_SIZE(wire));
	if (n < 0) {
		cni_fail(CNI_E_PLUGIN, "cannot build a request for the daemon",
			 "%s %s: request too long", argv[0], argv[1]);
		return n;
	}
	ret = ub_ctl_call(c->conf.bridge, n, wire, fds, nfds, &reply);
	if (cni_daemon_down(ret)) {
		cni_fail(CNI_E_AGAIN, "ubridge daemon not running",
			 "connect %s: %s (start it: ubridge -n %s)", c->sock,
			 strerror(-ret), c->conf.bridge);
		return ret;
	}
	if (ret) {
		cni_fail(ret == -EBUSY ? CNI_E_AGAIN : CNI_E_PLUGIN,
			 "cannot talk to the ubridge daemon", "%s %s on %s: %s",
			 argv[0], argv[1], c->sock, strerror(-ret));
		return ret;
	}
	ret = -EPROTO;
	for (line = reply; *line; line = nl + 1) {
		nl = strchr(line, '\n');
		if (!nl || got)
			goto out;
		*nl = '\0';
		if (ub_ctl_status_decode(line, status, &m)) {
			snprintf(msg, msglen, "%s", *m ? m : strerror(-*status));
			got = true;
			continue;
		}
		n = ub_ctl_record_decode(line, kv, CNI_KV_MAX);
		if (n < 0)
			goto out;
		if (fn)
			fn(kv, n, arg);
	}
	if (got)
		ret = 0;
out:
	if (ret)
		cni_fail(CNI_E_PLUGIN, "bad reply from the ubridge daemon",
			 "%s %s on %s: not a record or status line", argv[0],
			 argv[1], c->sock);
	free(reply);
	return ret;
}

static void cni_attach_rec(const struct ub_ctl_kv *kv, int n, void *arg)
{
	const char *port = cni_kv_get(kv, n, "port");

	if (port)
		snprintf(arg, IFNAMSIZ, "%s", port);
}

/*
 * "netns attach": the daemon makes the veth, the peer CNI_IFNAME right
 * inside the namespace of 'nsfd', and attaches the host end, whose name it
 * writes into 'host'. '*attached' tells whether there is something to undo.
 */
static int cni_attach(struct cni *c, int nsfd, char host[IFNAMSIZ],
		      bool *attached)
{
	const struct cni_env *e = &c->env;
	/* PATH: the namespace file, which travels as 'nsfd'. */
	const char *av[13] = { "netns", "attach", e->netns, "--container",
			       e->containerid, "--ifname", e->ifname };
	char mac[UB_MAC_STRLEN], mtu[16], vlan[16], msg[UB_CTL_REQ_MAX];
	int n = 7, status;

	if (c->conf.has_mac) {
		av[n++] = "--mac";
		av[n++] = ub_mac_fmt(&c->conf.mac, mac);
	}
	if (c->conf.mtu) {
		snprintf(mtu, sizeof(mtu), "%u", c->conf.mtu);
		av[n++] = "--mtu";
		av[n++] = mtu;
	}
	if (c->conf.vlan) {
		snprintf(vlan, sizeof(vlan), "%u", c->conf.vlan);
		av[n++] = "--vlan";
		av[n++] = vlan;
	}
	host[0] = '\0';
	if (cni_ctl(c, n, av, &nsfd, 1, cni_attach_rec, host, &status, msg,
		    sizeof(msg)))
		return -1;
	if (status)
		return cni_fail(CNI_E_PLUGIN, "cannot attach the container "
				"to the bridge", "netns attach on bridge %s: %s",
				c->conf.bridge, msg);
	*attached = true;
	if (ub_nl_ifname_check(host))
		return cni_fail(CNI_E_PLUGIN, "bad reply from the ubridge "
				"daemon", "netns attach on bridge %s named no "
				"port", c->conf.bridge);
	return 0;
}

/*
 * "netns del" of this container's interface; none (-ENOENT) is fine.
 * Returns 0 or -1 (error set), with '*down' telling that the daemon is
 * not running.
 */
static int cni_detach(struct cni *c, bool *down)
{
	const char *av[] = { "netns", "del", "--container",
			     c->env.containerid, "--ifname", c->env.ifname };
	char msg[UB_CTL_REQ_MAX];
	int ret, status;

	ret = cni_ctl(c, UB_ARRAY_SIZE(av), av, NULL, 0, NULL, NULL, &status,
		      msg, sizeof(msg));
	*down = cni_daemon_down(ret);
	if (ret)
		return -1;
	if (status && status != -ENOENT)
		return cni_fail(CNI_E_PLUGIN, "cannot detach the container "
				"from the bridge", "netns del on bridge %s: %s",
				c->conf.bridge, msg);
	return 0;
}

/* ---- IPAM ---- */

/* Finds executable 'type' in the directories of CNI_PATH. */
static int cni_ipam_find(const struct cni *c, char *path, size_t len)
{
	const char *p = c->env.path, *end;
	struct stat st;

	for (;; p = end + 1) {
		end = strchrnul(p, ':');
		if (end > p &&
		    (size_t)snprintf(path, len, "%.*s/%s", (int)(end - p), p,
				     c->conf.ipam) < len &&
		    !stat(path, &st) && S_ISREG(st.st_mode) &&
		    !access(path, X_OK))
			return 0;
		if (!*end)
			break;
	}
	return cni_fail(CNI_E_PLUGIN, "IPAM plugin not found",
			"no executable \"%s\" in CNI_PATH (%.400s)",
			c->conf.ipam, c->env.path);
}

/*
 * Runs the IPAM plugin with command 'cmd' the way libcni does: our
 * environment with CNI_COMMAND set, our whole stdin on its stdin; its
 * stderr is ours. Collects its stdout (at most CNI_IN_MAX bytes) into
 * '*out' and its wait status into '*wst'. Returns 0 or -1 (error set).
 */
static int cni_ipam_exec(const struct cni *c, const char *cmd, char **out,
			 size_t *outlen, int *wst)
{
	char path[PATH_MAX];
	int in[2], op[2], ret = -1;
	size_t off = 0, len = 0, cap = 0;
	struct pollfd p[2];
	bool failed = false;
	char *buf = NULL;
	pid_t pid;

	if (cni_ipam_find(c, path, sizeof(path)))
		return -1;
	if (pipe2(in, O_CLOEXEC))
		return cni_fail(CNI_E_PLUGIN, "cannot run the IPAM plugin",
				"pipe: %s", strerror(errno));
	if (pipe2(op, O_CLOEXEC)) {
		cni_fail(CNI_E_PLUGIN, "cannot run the IPAM plugin",
			 "pipe: %s", strerror(errno));
		goto close_in;
	}
	pid = fork();
	if (pid < 0) {
		cni_fail(CNI_E_PLUGIN, "cannot run the IPAM plugin",
			 "fork: %s", strerror(errno));
		goto close_out;
	}
	if (pid == 0) {
		/* fds 0-2 were open at our start, so the pipes are above
		 * them and dup2() leaves copies without O_CLOEXEC. */
		if (dup2(in[0], STDIN_FILENO) < 0 ||
		    dup2(op[1], STDOUT_FILENO) < 0 ||
		    setenv("CNI_COMMAND", cmd, 1))
			_exit(127);
		signal(SIGPIPE, SIG_DFL);
		execv(path, (char *[]){ path, NULL });
		_exit(127);
	}
	close(in[0]);
	close(op[1]);
	in[0] = op[1] = -1;
	fcntl(in[1], F_SETFL, O_NONBLOCK);

	/* Write its stdin while reading its stdout: either may fill a
	 * pipe while the plugin waits for the other. */
	p[0] = (struct pollfd){ .fd = in[1], .events = POLLOUT };
	p[1] = (struct pollfd){ .fd = op[0], .events = POLLIN };
	while (p[1].fd >= 0) {
		ssize_t n;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			failed = cni_fail(CNI_E_PLUGIN, "cannot run the "
					  "IPAM plugin", "poll: %s",
					  strerror(errno));
			break;
		}
		if (p[0].fd >= 0 && p[0].revents) {
			n = write(in[1], c->conf.raw + off,
				  c->conf.rawlen - off);
			if (n > 0)
				off += (size_t)n;
			/* EPIPE: it stopped reading; its answer says why. */
			if (off == c->conf.rawlen ||
			    (n < 0 && errno != EAGAIN && errno != EINTR)) {
				close(in[1]);
				in[1] = p[0].fd = -1;
			}
		}
		if (!p[1].revents)
			continue;
		if (len == cap) {
			/* Up to one byte past the bound: that tells. */
			size_t ncap = cap ? 2 * cap : 65536;
			char *nbuf = NULL;

			if (ncap > CNI_IN_MAX + 1)
				ncap = CNI_IN_MAX + 1;
			if (cap <= CNI_IN_MAX)
				nbuf = realloc(buf, ncap + 1);
			if (!nbuf) {
				failed = cni_fail(CNI_E_PLUGIN, "IPAM plugin's "
						  "answer too long", "%s %s: more "
						  "than %u bytes or out of "
						  "memory", c->conf.ipam, cmd,
						  CNI_IN_MAX);
				break;
			}
			buf = nbuf;
			cap = ncap;
		}
		n = read(op[0], buf + len, cap - len);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			failed = cni_fail(CNI_E_PLUGIN, "cannot run the IPAM "
					  "plugin", "read: %s", strerror(errno));
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	/* (An error of an earlier step may be set: DEL goes on after one.) */
	if (failed)
		kill(pid, SIGKILL);
	else
		ret = 0;
	while (waitpid(pid, wst, 0) < 0) {
		if (errno != EINTR) {
			ret = cni_fail(CNI_E_PLUGIN, "cannot run the IPAM "
				       "plugin", "waitpid: %s", strerror(errno));
			break;
		}
	}
	if (!ret && len > CNI_IN_MAX)
		ret = cni_fail(CNI_E_PLUGIN, "IPAM plugin's answer too long",
			       "%s %s: more than %u bytes", c->conf.ipam, cmd,
			       CNI_IN_MAX);
	if (!ret) {
		if (!buf)
			buf = malloc(1);
		if (!buf)
			ret = cni_fail(CNI_E_PLUGIN, "out of memory", "IPAM");
	}
	if (!ret) {
		buf[len] = '\0';
		*out = buf;
		*outlen = len;
		buf = NULL;
	}
	free(buf);
close_out:
	if (op[0] >= 0)
		close(op[0]);
	if (op[1] >= 0)
		close(op[1]);
close_in:
	if (in[0] >= 0)
		close(in[0]);
	if (in[1] >= 0)
		close(in[1]);
	return ret;
}

/*
 * A failed IPAM plugin's error object becomes ours (its code, msg and
 * details), as the reference plugins pass it on; anything else becomes a
 * plugin-specific error naming the exit status.
 */
static int cni_ipam_error(const struct cni *c, const char *cmd,
			  const char *out, size_t len, int wst)
{
	json_object *o, *v;
	const char *why;
	int code = 0;

	o = cni_json_parse(out, len, &why);
	if (o && json_object_is_type(o, json_type_object) &&
	    json_object_object_get_ex(o, "code", &v) &&
	    json_object_is_type(v, json_type_int))
		code = json_object_get_int(v);
	if (code > 0 && !cni_e.code) {
		cni_e.code = code;
		snprintf(cni_e.msg, sizeof(cni_e.msg), "%s",
			 json_object_object_get_ex(o, "msg", &v) ?
				 json_object_get_string(v) :
				 "IPAM plugin failed");
		snprintf(cni_e.details, sizeof(cni_e.details), "%s",
			 json_object_object_get_ex(o, "details", &v) ?
				 json_object_get_string(v) : "");
	} else if (WIFEXITED(wst)) {
		cni_fail(CNI_E_PLUGIN, "IPAM plugin failed",
			 "%s %s: exit status %d%s%.200s", c->conf.ipam, cmd,
			 WEXITSTATUS(wst), len ? ": " : "", out);
	} else {
		cni_fail(CNI_E_PLUGIN, "IPAM plugin failed",
			 "%s %s: killed by signal %d", c->conf.ipam, cmd,
			 WTERMSIG(wst));
	}
	json_object_put(o);
	return -1;
}

/* An address member of 'o' (a CIDR, or a plain address when !cidr). */
static int cni_json_addr(json_object *o, const char *key, bool cidr,
			 bool required, struct ub_cidr *out, const char *what)
{
	json_object *v;
	int r = jget(o, key, json_type_string, &v, CNI_E_PLUGIN, what);

	if (r < 0)
		return r;
	if (!r)
		return required ? cni_fail(CNI_E_PLUGIN, "invalid result",
					   "\"%s\" is missing", what) : 0;
	if (cidr ? ub_cidr_parse(json_object_get_string(v), out) :
		   ub_addr_parse(json_object_get_string(v), out))
		return cni_fail(CNI_E_PLUGIN, "invalid result",
				"\"%s\": \"%.60s\" is not %s", what,
				json_object_get_string(v),
				cidr ? "ADDRESS/PREFIX" : "an address");
	return 1;
}

/* The IPAM plugin's result: ips, routes and dns, any version. */
static int cni_result_parse(json_object *o, struct cni_result *r)
{
	json_object *ips, *routes, *dns;
	size_t n;

	if (jget(o, "ips", json_type_array, &ips, CNI_E_PLUGIN, "ips") < 0 ||
	    jget(o, "routes", json_type_array, &routes, CNI_E_PLUGIN,
		 "routes") < 0 ||
	    jget(o, "dns", json_type_object, &dns, CNI_E_PLUGIN, "dns") < 0)
		return -1;
	n = ips ? json_object_array_length(ips) : 0;
	if (n > CNI_ADDRS_MAX)
		return cni_fail(CNI_E_PLUGIN, "invalid result",
				"%zu addresses (at most %d)", n, CNI_ADDRS_MAX);
	for (size_t i = 0; i < n; i++) {
		json_object *ip = json_object_array_get_idx(ips, i);
		struct cni_ip *a = &r->ips[r->nips];
		int g;

		if (!json_object_is_type(ip, json_type_object))
			return cni_fail(CNI_E_PLUGIN, "invalid result",
					"ips[%zu] is not an object", i);
		if (cni_json_addr(ip, "address", true, true, &a->addr,
				  "ips.address") < 0 ||
		    (g = cni_json_addr(ip, "gateway", false, false, &a->gw,
				       "ips.gateway")) < 0)
			return -1;
		if (g && a->gw.family != a->addr.family)
			return cni_fail(CNI_E_PLUGIN, "invalid result",
					"ips[%zu]: the gateway is not of the "
					"address's family", i);
		a->has_gw = g;
		r->nips++;
	}
	n = routes ? json_object_array_length(routes) : 0;
	if (n > CNI_ROUTES_MAX - 2)
		return cni_fail(CNI_E_PLUGIN, "invalid result",
				"%zu routes (at most %d)", n,
				CNI_ROUTES_MAX - 2);
	for (size_t i = 0; i < n; i++) {
		json_object *rt = json_object_array_get_idx(routes, i);
		struct ub_route *d = &r->routes[r->nroutes];
		int g;

		if (!json_object_is_type(rt, json_type_object))
			return cni_fail(CNI_E_PLUGIN, "invalid result",
					"routes[%zu] is not an object", i);
		if (cni_json_addr(rt, "dst", true, true, &d->dst,
				  "routes.dst") < 0 ||
		    (g = cni_json_addr(rt, "gw", false, false, &d->gw,
				       "routes.gw")) < 0)
			return -1;
		if (g && d->gw.family != d->dst.family)
			return cni_fail(CNI_E_PLUGIN, "invalid result",
					"routes[%zu]: the gateway is not of "
					"the destination's family", i);
		d->has_gw = g;
		r->nroutes++;
	}
	r->dns = json_object_get(dns);
	return 0;
}

/*
 * Runs the IPAM plugin's 'cmd'. For ADD, its result goes into 'r', and
 * '*ran' tells whether the plugin succeeded (then it holds an address
 * for the container, even if its result is refused here). Returns 0 or
 * -1 (error set: its own error object when it failed).
 */
static int cni_ipam(const struct cni *c, const char *cmd,
		    struct cni_result *r, bool *ran)
{
	json_object *o = NULL;
	int wst, ret = -1, had = cni_e.code;
	const char *why;
	size_t len = 0;
	char *out = NULL;

	if (cni_ipam_exec(c, cmd, &out, &len, &wst))
		return -1;
	if (!WIFEXITED(wst) || WEXITSTATUS(wst)) {
		cni_ipam_error(c, cmd, out, len, wst);
		goto out;
	}
	if (ran)
		*ran = true;
	if (!r) {
		ret = 0;
		goto out;
	}
	o = cni_json_parse(out, len, &why);
	if (!o || !json_object_is_type(o, json_type_object)) {
		cni_fail(CNI_E_DECODE, "failed to decode content",
			 "the result of IPAM plugin %s: %s", c->conf.ipam,
			 o ? "not an object" : why);
		goto out;
	}
	ret = cni_result_parse(o, r);
	if (ret && !had && cni_e.code == CNI_E_PLUGIN) {
		/* Say whose result it was. */
		char d[sizeof(cni_e.details)];

		snprintf(d, sizeof(d), "%s", cni_e.details);
		snprintf(cni_e.details, sizeof(cni_e.details),
			 "IPAM plugin %.60s: %.900s", c->conf.ipam, d);
	}
out:
	json_object_put(o);
	free(out);
	return ret;
}

/* ---- ADD ---- */

/* The first address of family 'af' that came with a gateway. */
static const struct cni_ip *cni_gw_of(const struct cni_result *r, int af)
{
	for (size_t i = 0; i < r->nips; i++) {
		if (r->ips[i].addr.family == af && r->ips[i].has_gw)
			return &r->ips[i];
	}
	return NULL;
}

static bool cni_cidr_eq(const struct ub_cidr *a, const struct ub_cidr *b)
{
	return a->family == b->family && a->prefix == b->prefix &&
	       !memcmp(a->addr, b->addr, a->family == AF_INET ? 4 : 16);
}

/*
 * Routes as they go into the namespace. A route without "gw" goes via
 * the gateway of its family's address, or straight out of the link when
 * there is none (the specification leaves the choice to the plugin). With
 * isDefaultGateway, a default route via each family's gateway, unless
 * IPAM gave one.
 */
static int cni_routes(const struct cni *c, struct cni_result *r)
{
	static const int afs[] = { AF_INET, AF_INET6 };

	for (size_t i = 0; i < r->nroutes; i++) {
		struct ub_route *rt = &r->routes[i];
		const struct cni_ip *g = cni_gw_of(r, rt->dst.family);

		if (!rt->has_gw && g) {
			rt->has_gw = true;
			rt->gw = g->gw;
		}
	}
	if (!c->conf.is_default_gw)
		return 0;
	for (size_t k = 0; k < UB_ARRAY_SIZE(afs); k++) {
		const struct cni_ip *g = cni_gw_of(r, afs[k]);
		bool have = false;

		for (size_t i = 0; i < r->nroutes; i++)
			have = have || (r->routes[i].dst.family == afs[k] &&
					!r->routes[i].dst.prefix);
		if (!g || have)
			continue;
		/* Room was kept for these two (cni_result_parse). */
		r->routes[r->nroutes++] = (struct ub_route){
			.dst = { .family = afs[k] }, .has_gw = true, .gw = g->gw
		};
	}
	if (!cni_gw_of(r, AF_INET) && !cni_gw_of(r, AF_INET6))
		return cni_fail(CNI_E_PLUGIN, "no gateway",
				"isDefaultGateway is set and IPAM plugin %s "
				"gave no gateway", c->conf.ipam);
	return 0;
}

static void cni_gw_rec(const struct ub_ctl_kv *kv, int n, void *arg)
{
	const char *addr = cni_kv_get(kv, n, "addr");

	if (addr)
		snprintf(arg, UB_CIDR_STRLEN, "%s", addr);
}

/* The bridge's gateway address ("" for none): 0, or -1 (error set). */
static int cni_gw_show(struct cni *c, char cur[UB_CIDR_STRLEN])
{
	const char *av[] = { "gateway", "show" };
	char msg[UB_CTL_REQ_MAX];
	int status;

	cur[0] = '\0';
	if (cni_ctl(c, UB_ARRAY_SIZE(av), av, NULL, 0, cni_gw_rec, cur,
		    &status, msg, sizeof(msg)))
		return -1;
	if (status)
		return cni_fail(CNI_E_PLUGIN, "cannot read the bridge's "
				"gateway", "gateway show on bridge %s: %s",
				c->conf.bridge, msg);
	return 0;
}

/*
 * isGateway: the bridge's gateway (one address, the daemon's TAP port)
 * must be the network's: IPAM's gateway with its address's prefix, IPv4
 * first. Made when there is none; another container's ADD may make it at
 * the same moment, which is fine if it is the same.
 */
static int cni_gateway(struct cni *c, const struct cni_result *r)
{
	const struct cni_ip *g = cni_gw_of(r, AF_INET);
	char want[UB_CIDR_STRLEN], cur[UB_CIDR_STRLEN], msg[UB_CTL_REQ_MAX];
	const char *av[] = { "gateway", "add", want };
	struct ub_cidr gw, have;
	int status;

	if (!g)
		g = cni_gw_of(r, AF_INET6);
	if (!g)
		return cni_fail(CNI_E_PLUGIN, "no gateway", "isGateway is set "
				"and IPAM plugin %s gave no gateway",
				c->conf.ipam);
	gw = g->gw;
	gw.prefix = g->addr.prefix;
	ub_cidr_fmt(&gw, true, want, sizeof(want));
	for (int tries = 0; tries < 2; tries++) {
		if (cni_gw_show(c, cur))
			return -1;
		if (cur[0]) {
			if (!ub_cidr_parse(cur, &have) &&
			    cni_cidr_eq(&have, &gw))
				return 0;
			return cni_fail(CNI_E_PLUGIN, "gateway mismatch",
					"bridge %s's gateway is %s, the "
					"network's gateway is %s",
					c->conf.bridge, cur, want);
		}
		if (cni_ctl(c, UB_ARRAY_SIZE(av), av, NULL, 0, NULL, NULL,
			    &status, msg, sizeof(msg)))
			return -1;
		if (status != -EEXIST)
			break;
	}
	if (status)
		return cni_fail(CNI_E_PLUGIN, "cannot make the bridge's "
				"gateway", "gateway add %s on bridge %s: %s",
				want, c->conf.bridge, msg);
	return 0;
}

/* ipMasq: the daemon's NAT behind the gateway (on already: fine). */
static int cni_nat(struct cni *c)
{
	const char *av[] = { "nat", "on" };
	char msg[UB_CTL_REQ_MAX];
	int status;

	if (cni_ctl(c, UB_ARRAY_SIZE(av), av, NULL, 0, NULL, NULL, &status,
		    msg, sizeof(msg)))
		return -1;
	if (status)
		return cni_fail(CNI_E_PLUGIN, "cannot turn NAT on",
				"nat on, bridge %s: %s", c->conf.bridge, msg);
	return 0;
}

/* The MAC of link 'name' in the namespace of 'nsfd' (-1: ours). */
static int cni_link_mac(int nsfd, const char *name, char mac[UB_MAC_STRLEN])
{
	struct ub_link_info li;
	struct ub_nl *nl;
	int ret;

	ret = nsfd < 0 ? ub_nl_open(&nl) : ub_nl_open_nsfd(nsfd, &nl);
	if (!ret) {
		ret = ub_nl_link_get(nl, name, &li);
		ub_nl_close(nl);
	}
	if (ret)
		return cni_fail(CNI_E_PLUGIN, "cannot read an interface",
				"%s%s: %s", name, nsfd < 0 ? "" :
				" in the container", strerror(-ret));
	ub_mac_fmt(&li.mac, mac);
	return 0;
}

/* The result, in the configuration's version: portmap and the runtime
 * read it (the container's address and the interface that has it). */
static int cni_add_result(struct cni *c, int nsfd, const char *host,
			  const struct cni_result *r)
{
	char hmac[UB_MAC_STRLEN], cmac[UB_MAC_STRLEN];
	json_object *o, *ifs, *hif, *cif, *ips, *routes;
	bool v4field = c->conf.vidx < CNI_V100;

	if (cni_link_mac(-1, host, hmac) ||
	    cni_link_mac(nsfd, c->env.ifname, cmac))
		return -1;
	o = json_object_new_object();
	jadd(o, "cniVersion", json_object_new_string(c->conf.version));
	ifs = json_object_new_array();
	hif = json_object_new_object();
	jadd(hif, "name", json_object_new_string(host));
	jadd(hif, "mac", json_object_new_string(hmac));
	jpush(ifs, hif);
	cif = json_object_new_object();
	jadd(cif, "name", json_object_new_string(c->env.ifname));
	jadd(cif, "mac", json_object_new_string(cmac));
	jadd(cif, "sandbox", json_object_new_string(c->env.netns));
	jpush(ifs, cif);
	jadd(o, "interfaces", ifs);
	ips = json_object_new_array();
	for (size_t i = 0; i < r->nips; i++) {
		const struct cni_ip *a = &r->ips[i];
		json_object *ip = json_object_new_object();

		if (v4field)
			jadd(ip, "version", json_object_new_string(
				     a->addr.family == AF_INET ? "4" : "6"));
		jadd(ip, "address", cni_json_cidr(&a->addr, true));
		if (a->has_gw)
			jadd(ip, "gateway", cni_json_cidr(&a->gw, false));
		jadd(ip, "interface", json_object_new_int(1));
		jpush(ips, ip);
	}
	jadd(o, "ips", ips);
	if (r->nroutes) {
		routes = json_object_new_array();
		for (size_t i = 0; i < r->nroutes; i++) {
			const struct ub_route *rt = &r->routes[i];
			json_object *ro = json_object_new_object();

			jadd(ro, "dst", cni_json_cidr(&rt->dst, true));
			if (rt->has_gw)
				jadd(ro, "gw", cni_json_cidr(&rt->gw, false));
			jpush(routes, ro);
		}
		jadd(o, "routes", routes);
	}
	jadd(o, "dns", r->dns ? json_object_get(r->dns) :
				json_object_new_object());
	return cni_json_print(o);
}

/*
 * Undoes a failed ADD. The ADD's error is the one the runtime sees; what
 * goes wrong while undoing it goes to stderr.
 */
static void cni_rollback(struct cni *c, bool ipam)
{
	typeof(cni_e) first = cni_e;
	bool down;

	cni_e.code = 0;
	if (ipam && cni_ipam(c, "DEL", NULL, NULL))
		cni_warn("undoing ADD: IPAM DEL: %s: %s", cni_e.msg,
			 cni_e.details);
	cni_e.code = 0;
	if (cni_detach(c, &down))
		cni_warn("undoing ADD: %s: %s", cni_e.msg, cni_e.details);
	cni_e = first;
}

static int cni_add(struct cni *c)
{
	struct cni_result r = { 0 };
	char host[IFNAMSIZ], err[1024];
	bool attached = false, ipam = false;
	int nsfd, ret = -1;

	if (cni_env_check(c, true))
		return -1;
	nsfd = cni_netns_open(c, false);
	if (nsfd < 0)
		return -1;
	if (cni_attach(c, nsfd, host, &attached))
		goto fail;
	if (c->conf.ipam && cni_ipam(c, "ADD", &r, &ipam))
		goto fail;
	if (cni_routes(c, &r) || (c->conf.is_gw && cni_gateway(c, &r)) ||
	    (c->conf.ipmasq && cni_nat(c)))
		goto fail;
	{
		struct ub_cidr addrs[CNI_ADDRS_MAX];

		for (size_t i = 0; i < r.nips; i++)
			addrs[i] = r.ips[i].addr;
		if (ub_nl_iface_setup(nsfd, c->env.ifname, addrs, r.nips,
				      r.routes, r.nroutes, err, sizeof(err))) {
			cni_fail(CNI_E_PLUGIN, "cannot set up the container's "
				 "interface", "%s: %s", c->env.ifname, err);
			goto fail;
		}
	}
	if (cni_add_result(c, nsfd, host, &r))
		goto fail;
	ret = 0;
	goto out;
fail:
	if (attached)
		cni_rollback(c, ipam);
out:
	json_object_put(r.dns);
	close(nsfd);
	return ret;
}

/* ---- DEL ---- */

/*
 * The daemon is not running: nobody will delete the host end, so delete
 * the container's end (a veth's two ends go together). A namespace or an
 * interface that is gone already is fine.
 */
static int cni_del_inside(struct cni *c)
{
	struct ub_nl *nl;
	int nsfd, ret;

	if (!c->env.netns || !*c->env.netns)
		return 0;
	nsfd = cni_netns_open(c, true);
	if (nsfd == -ENOENT)
		return 0;
	if (nsfd < 0)
		return -1;
	ret = ub_nl_open_nsfd(nsfd, &nl);
	if (!ret) {
		ret = ub_nl_link_del(nl, c->env.ifname);
		ub_nl_close(nl);
	}
	close(nsfd);
	if (ret && ret != -ENODEV)
		return cni_fail(CNI_E_PLUGIN, "cannot delete the container's "
				"interface", "%s in %.200s: %s", c->env.ifname,
				c->env.netns, strerror(-ret));
	return 0;
}

static int cni_del(struct cni *c)
{
	bool down;

	if (cni_env_check(c, false))
		return -1;
	if (cni_detach(c, &down) && down) {
		/* Not an error for DEL: nothing of ours is left outside. */
		cni_e.code = 0;
		cni_warn("daemon of bridge %s not running: deleting %s in the "
			 "container", c->conf.bridge, c->env.ifname);
		cni_del_inside(c);
	}
	/* IPAM releases the address even when the port was gone. */
	if (c->conf.ipam)
		cni_ipam(c, "DEL", NULL, NULL);
	return cni_e.code ? -1 : 0;
}

/* ---- CHECK ---- */

struct cni_find {
	const char *id, *ifname;
	bool found;
};

static void cni_find_rec(const struct ub_ctl_kv *kv, int n, void *arg)
{
	struct cni_find *f = arg;
	const char *id = cni_kv_get(kv, n, "container");
	const char *ifname = cni_kv_get(kv, n, "ifname");

	if (id && ifname && !strcmp(id, f->id) && !strcmp(ifname, f->ifname))
		f->found = true;
}

/* The interface inside against prevResult: its MAC, its addresses. */
static int cni_check_inside(struct cni *c, int nsfd)
{
	json_object *prev = c->conf.prev, *ifs, *ips, *v;
	struct ub_cidr have[64], want;
	struct ub_link_info li;
	struct ub_mac mac;
	struct ub_nl *nl;
	int idx = -1, n, ret;
	size_t len;

	if (jget(prev, "interfaces", json_type_array, &ifs, CNI_E_CONFIG,
		 "prevResult.interfaces") < 0 ||
	    jget(prev, "ips", json_type_array, &ips, CNI_E_CONFIG,
		 "prevResult.ips") < 0)
		return -1;
	len = ifs ? json_object_array_length(ifs) : 0;
	for (size_t i = 0; i < len && idx < 0; i++) {
		json_object *in = json_object_array_get_idx(ifs, i), *s;

		if (json_object_object_get_ex(in, "name", &v) &&
		    !strcmp(json_object_get_string(v), c->env.ifname) &&
		    json_object_object_get_ex(in, "sandbox", &s))
			idx = (int)i;
	}
	if (idx < 0)
		return cni_fail(CNI_E_CONFIG, "invalid network configuration",
				"prevResult has no interface %s in a sandbox",
				c->env.ifname);

	ret = ub_nl_open_nsfd(nsfd, &nl);
	if (ret)
		return cni_fail(CNI_E_PLUGIN, "cannot check the container",
				"netlink in %.200s: %s", c->env.netns,
				strerror(-ret));
	ret = ub_nl_link_get(nl, c->env.ifname, &li);
	n = ret ? ret : ub_nl_addr_list(nl, c->env.ifname, have,
					 UB_ARRAY_SIZE(have));
	ub_nl_close(nl);
	if (ret == -ENODEV)
		return cni_fail(CNI_E_PLUGIN, "container interface missing",
				"no interface %s in %.200s", c->env.ifname,
				c->env.netns);
	if (ret || n < 0)
		return cni_fail(CNI_E_PLUGIN, "cannot check the container",
				"%s in %.200s: %s", c->env.ifname,
				c->env.netns, strerror(-(ret ? ret : n)));
	if (n > (int)UB_ARRAY_SIZE(have))
		n = (int)UB_ARRAY_SIZE(have);

	v = json_object_array_get_idx(ifs, (size_t)idx);
	if (json_object_object_get_ex(v, "mac", &v)) {
		char m[UB_MAC_STRLEN];

		if (ub_mac_parse(json_object_get_string(v), &mac) ||
		    !ub_mac_eq(&mac, &li.mac))
			return cni_fail(CNI_E_PLUGIN, "container interface "
					"differs", "%s has MAC %s, prevResult "
					"says %.40s", c->env.ifname,
					ub_mac_fmt(&li.mac, m),
					json_object_get_string(v));
	}
	len = ips ? json_object_array_length(ips) : 0;
	for (size_t i = 0; i < len; i++) {
		json_object *ip = json_object_array_get_idx(ips, i), *ix;
		bool found = false;

		/* An address of another interface is not ours to check. */
		if (json_object_object_get_ex(ip, "interface", &ix) &&
		    json_object_get_int(ix) != idx)
			continue;
		if (cni_json_addr(ip, "address", true, true, &want,
				  "prevResult.ips.address") < 0)
			return -1;
		for (int k = 0; k < n && !found; k++)
			found = cni_cidr_eq(&have[k], &want);
		if (!found) {
			char a[UB_CIDR_STRLEN];

			ub_cidr_fmt(&want, true, a, sizeof(a));
			return cni_fail(CNI_E_PLUGIN, "container interface "
					"differs", "%s in %.200s lacks address "
					"%s", c->env.ifname, c->env.netns, a);
		}
	}
	return 0;
}

static int cni_check(struct cni *c)
{
	const char *av[] = { "netns", "show" };
	struct cni_find f = { c->env.containerid, c->env.ifname, false };
	char msg[UB_CTL_REQ_MAX];
	int nsfd, status, ret;

	if (c->conf.vidx < CNI_V040)
		return cni_fail(CNI_E_VERSION, "incompatible CNI versions",
				"CHECK needs cniVersion 0.4.0 or later, the "
				"configuration has %s", c->conf.version);
	if (!c->conf.prev)
		return cni_fail(CNI_E_CONFIG, "invalid network configuration",
				"CHECK needs \"prevResult\"");
	if (cni_env_check(c, true))
		return -1;
	if (cni_ctl(c, UB_ARRAY_SIZE(av), av, NULL, 0, cni_find_rec, &f,
		    &status, msg, sizeof(msg)))
		return -1;
	if (status)
		return cni_fail(CNI_E_PLUGIN, "cannot list the bridge's "
				"containers", "netns show on bridge %s: %s",
				c->conf.bridge, msg);
	if (!f.found)
		return cni_fail(CNI_E_UNKNOWN, "container unknown",
				"bridge %s has no port for container %s, "
				"interface %s", c->conf.bridge,
				c->env.containerid, c->env.ifname);
	nsfd = cni_netns_open(c, false);
	if (nsfd < 0)
		return -1;
	ret = cni_check_inside(c, nsfd);
	close(nsfd);
	if (!ret && c->conf.ipam)
		ret = cni_ipam(c, "CHECK", NULL, NULL);
	return ret;
}

/* ---- main ---- */

static void cni_usage(FILE *f)
{
	fputs("Usage: CNI_COMMAND=ADD|DEL|CHECK|VERSION CNI_CONTAINERID=ID "
	      "CNI_NETNS=PATH\n"
	      "       CNI_IFNAME=IF CNI_PATH=DIRS ubridge-cni < CONFIG\n"
	      "       ubridge-cni --version | --help\n"
	      "\n"
	      "A CNI plugin (specification " CNI_SPEC ") that attaches "
	      "containers to a ubridge\n"
	      "bridge. A container runtime runs it, with the network "
	      "configuration on\n"
	      "stdin: {\"cniVersion\":\"1.0.0\",\"name\":\"N\",\"type\":"
	      "\"ubridge\",\"bridge\":\"ub0\",\n"
	      "\"ipam\":{\"type\":\"host-local\",...}}. See ubridge-cni(8).\n",
	      f);
}

/* Descriptors 0-2 open, so pipes never land on them (cni_ipam_exec). */
static void cni_std_fds(void)
{
	int fd;

	while ((fd = open("/dev/null", O_RDWR)) >= 0 && fd <= 2)
		;
	if (fd > 2)
		close(fd);
}

int main(int argc, char **argv)
{
	struct cni c = { 0 };
	const char *why, *errver = CNI_SPEC;
	char *in = NULL;
	size_t inlen = 0;
	int ret;

	/* A runtime passes no arguments: these are for people. */
	if (argc > 1) {
		bool help = !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h");

		if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
			printf("ubridge-cni (ubridge) %s\nCNI protocol "
			       "versions supported: 0.3.0, 0.3.1, 0.4.0, "
			       "1.0.0\n", UB_VERSION);
			return 0;
		}
		cni_usage(help ? stdout : stderr);
		return help ? 0 : 2;
	}
	cni_std_fds();
	signal(SIGPIPE, SIG_IGN);
	c.env = (struct cni_env){
		.command = getenv("CNI_COMMAND"),
		.containerid = getenv("CNI_CONTAINERID"),
		.netns = getenv("CNI_NETNS"),
		.ifname = getenv("CNI_IFNAME"),
		.path = getenv("CNI_PATH"),
		.args = getenv("CNI_ARGS"),
	};
	if ((!c.env.command || !*c.env.command) && isatty(STDIN_FILENO)) {
		cni_usage(stderr);
		return 2;
	}
	/* VERSION must answer whatever the rest is (no daemon, no
	 * configuration): runtimes ask it of every plugin first. */
	if (c.env.command && !strcmp(c.env.command, "VERSION")) {
		puts("{\"cniVersion\":\"" CNI_SPEC "\",\"supportedVersions\":"
		     "[\"0.3.0\",\"0.3.1\",\"0.4.0\",\"1.0.0\"]}");
		return fflush(stdout) || ferror(stdout) ? 1 : 0;
	}

	/* A bad command is the error; stdin is still read, for the
	 * version to answer in. */
	if (!c.env.command || (strcmp(c.env.command, "ADD") &&
			       strcmp(c.env.command, "DEL") &&
			       strcmp(c.env.command, "CHECK")))
		cni_fail(CNI_E_ENV, "invalid CNI_COMMAND",
			 "\"%.40s\": expected ADD, DEL, CHECK or VERSION",
			 c.env.command ? c.env.command : "");
	ret = cni_read_all(STDIN_FILENO, CNI_IN_MAX, &in, &inlen);
	if (ret == -EFBIG) {
		cni_fail(CNI_E_DECODE, "failed to decode content",
			 "the configuration is larger than %u bytes",
			 CNI_IN_MAX);
		goto out;
	}
	if (ret) {
		cni_fail(CNI_E_DECODE, "failed to decode content",
			 "reading stdin: %s", strerror(-ret));
		goto out;
	}
	c.conf.raw = in;
	c.conf.rawlen = inlen;
	c.conf.root = cni_json_parse(in, inlen, &why);
	if (!c.conf.root || !json_object_is_type(c.conf.root,
						 json_type_object)) {
		cni_fail(CNI_E_DECODE, "failed to decode content",
			 "the network configuration on stdin: %s",
			 c.conf.root ? "not a JSON object" : why);
		goto out;
	}
	if (cni_conf_version(&c.conf))
		goto out;
	errver = c.conf.version;
	if (cni_e.code)
		goto out;
	if (cni_conf_parse(&c))
		goto out;
	if (!strcmp(c.env.command, "ADD"))
		cni_add(&c);
	else if (!strcmp(c.env.command, "DEL"))
		cni_del(&c);
	else
		cni_check(&c);
out:
	ret = cni_e.code ? 1 : 0;
	if (ret)
		cni_print_error(errver);
	json_object_put(c.conf.root);
	free(in);
	return ret;
}
