/* SPDX-License-Identifier: MIT */
/*
 * Packet captures: libpcap files written off the data path.
 *
 * The forwarding thread filters a frame (libpcap's BPF, compiled once) and
 * copies it into a single-producer single-consumer ring; a writer thread
 * per capture drains the ring into libpcap's dumper, flushes at least every
 * UB_CAP_FLUSH_MS and rotates files. A full ring drops the frame for the
 * capture and counts it: forwarding never waits for the disk.
 *
 * Appending (a capture restored after a restart) must cope with a file its
 * last writer left half-written: killed mid-write, stdio leaves whatever
 * part of a buffer reached the kernel, so the file may end inside a record.
 * A record appended after that tail is read as the rest of the torn one,
 * and every reader stops there. So before appending, the file's records
 * are walked and the file is cut back to the end of the last whole one.
 * The file need not be ours, though (a path typed by hand), and we never
 * destroy someone else's: a complete global header must be the one this
 * capture writes (nanosecond magic in our byte order, version 2.4,
 * Ethernet, the same snaplen), or the capture is refused and the file left
 * as it is. A file shorter than a global header holds no record: it is
 * started anew only when its bytes are the start of our own header (a
 * crash right after the file was created), and refused otherwise.
 */
#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <ubridge/compiler.h>
#include <ubridge/io.h>

#define UB_CAP_RING_BYTES (8u << 20)
#define UB_CAP_FLUSH_MS 500
#define UB_CAP_IDLE_NS (20 * 1000 * 1000)
#define UB_CAP_SNAPLEN_DEFAULT 262144
/* A record marking the end of the ring's used space: start over at 0. */
#define UB_CAP_WRAP UINT32_MAX
/* The global header's magic of a pcap file with nanosecond timestamps. */
#define UB_PCAP_MAGIC_NS 0xa1b23c4du
/* No reader takes a longer record (libpcap's limit for Ethernet), and no
 * frame the bridge sees comes near it: longer means torn or not a record. */
#define UB_CAP_RECORD_MAX 262144u
/* How much of a file the check before appending reads at a time. */
#define UB_CAP_CHECK_BYTES (64u << 10)

struct cap_rec {
	uint32_t len;    /* on the wire */
	uint32_t caplen; /* stored; UB_CAP_WRAP: skip to the ring's start */
	int64_t sec;
	uint32_t nsec;
	uint32_t pad;
};

struct ub_capture {
	/* Set up once, read by both threads. */
	pcap_t *pcap;
	struct bpf_program prog;
	bool has_prog;
	uint32_t snaplen;
	uint64_t count;
	uint64_t rotate_bytes;
	uint32_t rotate_files;
	char *path;   /* for messages */
	bool stream;
	bool append;
	/* The files, open: one, or one per rotated file. */
	int fds[UB_CAP_FILES_MAX];
	uint32_t nfds;

	/* The ring: the forwarding thread owns 'head', the writer 'tail'. */
	uint8_t *ring;
	size_t ring_size;
	_Atomic uint64_t head;
	_Atomic uint64_t tail;

	/* Forwarding thread only. */
	uint64_t accepted;

	/* Writer thread only. */
	pcap_dumper_t *dumper;
	uint32_t file_index;

	_Atomic bool stop;
	_Atomic bool finished;
	_Atomic uint64_t written;
	_Atomic uint64_t bytes;
	_Atomic uint64_t dropped;
	_Atomic int error; /* first write error, -errno */
	pthread_t thread;
};

static size_t rec_size(uint32_t caplen)
{
	return (sizeof(struct cap_rec) + caplen + 7) & ~(size_t)7;
}

/* How messages name file 'i': "PATH", or "PATH (file i)" when rotating
 * (the caller knows the files' names: io only has them open). */
static void file_name(const struct ub_capture *c, uint32_t i, char *buf,
		      size_t len)
{
	if (c->rotate_bytes)
		snprintf(buf, len, "%s (file %u)", c->path, i);
	else
		snprintf(buf, len, "%s", c->path);
}

/* A record's header as the file holds it (the writer's byte order). */
struct pcap_rec_hdr {
	uint32_t sec;
	uint32_t nsec;
	uint32_t caplen; /* bytes that follow in the file */
	uint32_t len;    /* on the wire */
};

/* Where the last whole record of the file open at 'fd' ends. A record is
 * whole when its header is complete, its length is one our writer could
 * have written and all of its bytes are there. Reads each byte about once:
 * the cost is bounded by the file's size. */
static int records_end(int fd, uint64_t size, uint32_t snaplen, uint64_t *end)
{
	uint32_t max = snaplen;
	uint64_t off = sizeof(struct pcap_file_header), base = 0, have = 0;
	struct pcap_rec_hdr r;
	uint8_t *buf;
	ssize_t n;
	int ret = 0;

	if (max > UB_CAP_RECORD_MAX)
		max = UB_CAP_RECORD_MAX;
	buf = malloc(UB_CAP_CHECK_BYTES);
	if (!buf)
		return -ENOMEM;
	while (size - off >= sizeof(r)) {
		/* Only the headers are needed: read from the one at 'off'
		 * on when it is not in what was read last. */
		if (off < base || off + sizeof(r) > base + have) {
			n = pread(fd, buf, UB_CAP_CHECK_BYTES, (off_t)off);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				ret = -errno;
				break;
			}
			/* Shorter than fstat said: it ends here. */
			if ((size_t)n < sizeof(r))
				break;
			base = off;
			have = (uint64_t)n;
		}
		memcpy(&r, buf + (off - base), sizeof(r));
		/* Our writer never keeps more than the frame had. */
		if (r.caplen > max || r.caplen > r.len ||
		    size - off - sizeof(r) < r.caplen)
			break;
		off += sizeof(r) + r.caplen;
	}
	free(buf);
	*end = off;
	return ret;
}

/* Whether the complete global header 'h' is the one 'want' of this
 * capture; if not, says why in 'err'. */
static bool header_fits(const struct pcap_file_header *h,
			const struct pcap_file_header *want, const char *name,
			char *err, size_t errlen)
{
	if (h->magic != want->magic)
		snprintf(err, errlen, "cannot append to %s: not a pcap file "
			 "with nanosecond timestamps in this machine's byte "
			 "order (magic %08x)", name, h->magic);
	else if (h->version_major != want->version_major ||
		 h->version_minor != want->version_minor)
		snprintf(err, errlen, "cannot append to %s: pcap version "
			 "%u.%u, not %u.%u", name, h->version_major,
			 h->version_minor, want->version_major,
			 want->version_minor);
	else if (h->linktype != want->linktype)
		snprintf(err, errlen, "cannot append to %s: link type %u, "
			 "not Ethernet", name, h->linktype);
	else if (h->snaplen != want->snaplen)
		snprintf(err, errlen, "cannot append to %s: its snaplen is %u, "
			 "the capture's %u", name, h->snaplen, want->snaplen);
	else
		return true;
	return false;
}

/* Makes 'name' safe to append to: cut back to its last whole record, or
 * emptied when it is a torn header of ours. A file that does not exist or
 * is not a regular file (nothing to cut) is left to libpcap. */
static int append_check(struct ub_capture *c, int fd, const char *name,
			char *err, size_t errlen)
{
	struct pcap_file_header want = {
		.magic = UB_PCAP_MAGIC_NS,
		.version_major = PCAP_VERSION_MAJOR,
		.version_minor = PCAP_VERSION_MINOR,
		.snaplen = (bpf_u_int32)pcap_snapshot(c->pcap),
		.linktype = DLT_EN10MB, /* also LINKTYPE_ETHERNET */
	};
	struct pcap_file_header h;
	uint64_t size, end;
	struct stat st;
	ssize_t n;
	int ret = 0;

	if (fstat(fd, &st)) {
		ret = -errno;
		goto err_io;
	}
	if (!S_ISREG(st.st_mode) || !st.st_size)
		goto out;
	size = (uint64_t)st.st_size;
	n = pread(fd, &h, sizeof(h), 0);
	if (n < 0) {
		ret = -errno;
		goto err_io;
	}
	if ((size_t)n < sizeof(h)) {
		/* Too short for a record: ours, torn while it was created,
		 * starts anew; anything else is not ours to empty. */
		if (memcmp(&h, &want, (size_t)n)) {
			snprintf(err, errlen, "cannot append to %s: %zd bytes, "
				 "too short for a pcap file, and not the start "
				 "of one this capture writes", name, n);
			ret = -EINVAL;
			goto out;
		}
		end = 0;
	} else {
		if (!header_fits(&h, &want, name, err, errlen)) {
			ret = -EINVAL;
			goto out;
		}
		ret = records_end(fd, size, want.snaplen, &end);
		if (ret)
			goto err_io;
	}
	if (end < size && ftruncate(fd, (off_t)end)) {
		ret = -errno;
		goto err_io;
	}
	goto out;

err_io:
	snprintf(err, errlen, "cannot check %s before appending: %s", name,
		 strerror(-ret));
out:
	return ret;
}

/*
 * Starts writing file 'c->file_index': the next rotated file (emptied
 * first, it may be an old one reused), or the stream. A capture that
 * carries on after a restart appends to its first file instead; libpcap
 * appends only to a file it opens by name, so it gets the descriptor's
 * own (/proc/self/fd/N): the file already open, whatever its path now
 * leads to.
 */
static int open_file(struct ub_capture *c, char *err, size_t errlen)
{
	int ret, fd = c->fds[c->file_index];
	char name[4096], self[64];
	struct stat st;
	FILE *f;

	file_name(c, c->file_index, name, sizeof(name));
	if (c->append) {
		c->append = false;
		ret = append_check(c, fd, name, err, errlen);
		if (ret)
			return ret;
		snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
		c->dumper = pcap_dump_open_append(c->pcap, self);
		if (!c->dumper)
			goto err_pcap;
		return 0;
	}
	if (!fstat(fd, &st) && S_ISREG(st.st_mode) &&
	    (ftruncate(fd, 0) || lseek(fd, 0, SEEK_SET) < 0))
		goto err_errno;
	/* The dumper closes its own copy: 'fd' stays for the next turn. */
	fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		goto err_errno;
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		goto err_errno;
	}
	c->dumper = pcap_dump_fopen(c->pcap, f);
	if (!c->dumper) {
		fclose(f);
		goto err_pcap;
	}
	return 0;
err_errno:
	snprintf(err, errlen, "cannot write the capture to %s: %s", name,
		 strerror(errno));
	return -errno;
err_pcap:
	snprintf(err, errlen, "cannot write the capture to %s: %s", name,
		 pcap_geterr(c->pcap));
	return -EIO;
}

static void writer_dump(struct ub_capture *c, const struct cap_rec *r)
{
	struct pcap_pkthdr h = { .caplen = r->caplen, .len = r->len };
	char err[256];

	if (!c->dumper)
		return;
	if (c->rotate_bytes &&
	    (uint64_t)pcap_dump_ftell64(c->dumper) + sizeof(h) + r->caplen >
		    c->rotate_bytes) {
		pcap_dump_close(c->dumper);
		c->file_index = (c->file_index + 1) % c->rotate_files;
		if (open_file(c, err, sizeof(err))) {
			atomic_store(&c->error, -EIO);
			c->dumper = NULL;
			return;
		}
	}
	/* In nanosecond mode libpcap reads tv_usec as nanoseconds. */
	h.ts.tv_sec = (time_t)r->sec;
	h.ts.tv_usec = (suseconds_t)r->nsec;
	pcap_dump((u_char *)c->dumper, &h, (const u_char *)(r + 1));
	if (ferror(pcap_dump_file(c->dumper))) {
		atomic_store(&c->error, -EIO);
		return;
	}
	atomic_fetch_add_explicit(&c->written, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&c->bytes, r->len, memory_order_relaxed);
}

/* Drains what the ring holds now; returns whether there was anything. */
static bool writer_drain(struct ub_capture *c)
{
	uint64_t head = atomic_load_explicit(&c->head, memory_order_acquire);
	uint64_t tail = atomic_load_explicit(&c->tail, memory_order_relaxed);
	bool any = tail != head;

	while (tail != head) {
		size_t off = tail % c->ring_size;
		const struct cap_rec *r = (const void *)(c->ring + off);

		if (r->caplen == UB_CAP_WRAP) {
			tail += c->ring_size - off;
			continue;
		}
		writer_dump(c, r);
		tail += rec_size(r->caplen);
	}
	atomic_store_explicit(&c->tail, tail, memory_order_release);
	return any;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The reader of a stream hung up, even if nothing was written since. */
static bool stream_gone(struct ub_capture *c)
{
	struct pollfd p = { .events = POLLRDHUP };

	p.fd = fileno(pcap_dump_file(c->dumper));
	return poll(&p, 1, 0) > 0 &&
	       (p.revents & (POLLHUP | POLLERR | POLLRDHUP));
}

static void *writer_main(void *arg)
{
	struct ub_capture *c = arg;
	const struct timespec idle = { .tv_nsec = UB_CAP_IDLE_NS };
	uint64_t flushed = mono_ms();
	bool dirty = false;

	for (;;) {
		/* Read 'stop' first: what was offered before it is drained. */
		bool stopping = atomic_load(&c->stop);

		if (writer_drain(c))
			dirty = true;
		/* A write failed (disk full, the reader of a stream left):
		 * the capture ends on its own; core notices it finished. */
		if (stopping || atomic_load(&c->error))
			break;
		/* A stream's reader is watching: no need to batch for it. */
		if (dirty && (c->stream ||
			      mono_ms() - flushed >= UB_CAP_FLUSH_MS)) {
			if (c->dumper && pcap_dump_flush(c->dumper))
				atomic_store(&c->error, -EIO);
			flushed = mono_ms();
			dirty = false;
		}
		if (c->stream && stream_gone(c))
			atomic_store(&c->error, -EPIPE);
		nanosleep(&idle, NULL);
	}
	if (c->dumper)
		pcap_dump_close(c->dumper);
	c->dumper = NULL;
	atomic_store(&c->finished, true);
	return NULL;
}

int ub_capture_new(const struct ub_capture_cfg *cfg, struct ub_capture **out,
		   char *err, size_t errlen)
{
	struct ub_capture *c = NULL;
	int ret = -ENOMEM;

	/* The files are ours from the start: closed on any failure. */
	if (cfg->nfds != (cfg->rotate_bytes ? cfg->rotate_files : 1) ||
	    cfg->nfds > UB_CAP_FILES_MAX || (cfg->stream && cfg->rotate_bytes)) {
		snprintf(err, errlen, "a capture writes one file, or with "
			 "rotation 1 to %d files, each open", UB_CAP_FILES_MAX);
		ret = -EINVAL;
		goto err_fd;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		goto err_oom;
	memcpy(c->fds, cfg->fds, cfg->nfds * sizeof(*cfg->fds));
	c->nfds = cfg->nfds;
	c->stream = cfg->stream;
	c->append = cfg->append;
	c->snaplen = cfg->snaplen ? cfg->snaplen : UB_CAP_SNAPLEN_DEFAULT;
	c->count = cfg->count;
	c->rotate_bytes = cfg->rotate_bytes;
	c->rotate_files = cfg->rotate_files;
	c->ring_size = UB_CAP_RING_BYTES;
	c->path = strdup(cfg->stream ? "-" : cfg->path);
	c->ring = malloc(c->ring_size);
	c->pcap = pcap_open_dead_with_tstamp_precision(
		DLT_EN10MB, (int)c->snaplen, PCAP_TSTAMP_PRECISION_NANO);
	if (!c->path || !c->ring || !c->pcap)
		goto err_oom;
	if (cfg->filter && *cfg->filter) {
		if (pcap_compile(c->pcap, &c->prog, cfg->filter, 1,
				 PCAP_NETMASK_UNKNOWN)) {
			snprintf(err, errlen, "bad filter \"%s\": %s",
				 cfg->filter, pcap_geterr(c->pcap));
			ret = -EINVAL;
			goto err;
		}
		c->has_prog = true;
	}
	ret = open_file(c, err, errlen);
	if (ret)
		goto err;
	ret = -pthread_create(&c->thread, NULL, writer_main, c);
	if (ret) {
		snprintf(err, errlen, "cannot start the writer: %s",
			 strerror(-ret));
		pcap_dump_close(c->dumper);
		goto err;
	}
	*out = c;
	return 0;

err_oom:
	snprintf(err, errlen, "out of memory");
err:
	if (c && c->has_prog)
		pcap_freecode(&c->prog);
	if (c && c->pcap)
		pcap_close(c->pcap);
	if (c) {
		free(c->ring);
		free(c->path);
	}
	free(c);
err_fd:
	for (uint32_t i = 0; i < cfg->nfds && i < UB_CAP_FILES_MAX; i++)
		close(cfg->fds[i]);
	return ret;
}

/* Room for 'need' contiguous bytes at the head, wrapping if it must. */
static uint8_t *ring_reserve(struct ub_capture *c, size_t need)
{
	uint64_t head = atomic_load_explicit(&c->head, memory_order_relaxed);
	uint64_t tail = atomic_load_explicit(&c->tail, memory_order_acquire);
	size_t off = head % c->ring_size, to_end = c->ring_size - off;
	size_t used = head - tail;

	if (need > to_end) {
		/* Mark the end unused and start over at the ring's start. */
		if (used + to_end + need > c->ring_size)
			return NULL;
		((struct cap_rec *)(c->ring + off))->caplen = UB_CAP_WRAP;
		atomic_store_explicit(&c->head, head + to_end,
				      memory_order_release);
		return c->ring;
	}
	if (used + need > c->ring_size)
		return NULL;
	return c->ring + off;
}

bool ub_capture_offer(struct ub_capture *c, const struct timespec *ts,
		      const uint8_t *frame, uint32_t len)
{
	uint32_t caplen = len < c->snaplen ? len : c->snaplen;
	struct pcap_pkthdr h = { .caplen = caplen, .len = len };
	struct cap_rec *r;

	if (c->count && c->accepted >= c->count)
		return false;
	if (c->has_prog && !pcap_offline_filter(&c->prog, &h, frame))
		return false;
	r = (struct cap_rec *)ring_reserve(c, rec_size(caplen));
	if (!r) {
		atomic_fetch_add_explicit(&c->dropped, 1, memory_order_relaxed);
		return false;
	}
	r->len = len;
	r->caplen = caplen;
	r->sec = ts->tv_sec;
	r->nsec = (uint32_t)ts->tv_nsec;
	memcpy(r + 1, frame, caplen);
	atomic_store_explicit(&c->head,
			      atomic_load_explicit(&c->head,
						   memory_order_relaxed) +
				      rec_size(caplen),
			      memory_order_release);
	c->accepted++;
	return true;
}

bool ub_capture_complete(const struct ub_capture *c)
{
	return c->count && c->accepted >= c->count;
}

void ub_capture_stop(struct ub_capture *c)
{
	atomic_store(&c->stop, true);
}

bool ub_capture_finished(const struct ub_capture *c)
{
	return atomic_load(&c->finished);
}

void ub_capture_get_stats(const struct ub_capture *c,
			  struct ub_capture_stats *st)
{
	st->written = atomic_load_explicit(&c->written, memory_order_relaxed);
	st->bytes = atomic_load_explicit(&c->bytes, memory_order_relaxed);
	st->dropped = atomic_load_explicit(&c->dropped, memory_order_relaxed);
	st->error = atomic_load(&c->error);
}

void ub_capture_free(struct ub_capture *c)
{
	if (!c)
		return;
	ub_capture_stop(c);
	pthread_join(c->thread, NULL);
	if (c->has_prog)
		pcap_freecode(&c->prog);
	pcap_close(c->pcap);
	for (uint32_t i = 0; i < c->nfds; i++)
		close(c->fds[i]);
	free(c->ring);
	free(c->path);
	free(c);
}
