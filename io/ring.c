/* SPDX-License-Identifier: MIT */
/*
 * The io_uring ring, the shared pool of receive buffers, and the buffer
 * areas: every buffer a frame can live in (a pool buffer, a slot of a
 * port's TPACKET ring) is reference-counted here in the same way.
 *
 * A pool buffer is also known to be ours or not: it becomes ours when a
 * completion hands it over (ub_ring_reap) and stops being ours when its
 * last reference goes. A put (or get) on a pool buffer that is not ours,
 * a double put or a put of a buffer that was never received, would give
 * the kernel the same buffer twice, and two frames would land in it. It
 * is refused and counted instead. An area's back end hands its buffers
 * over without telling the ring, so there only the references are known,
 * and an unreferenced put always releases (a fresh frame dropped).
 */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <liburing.h>

#include <ubridge/compiler.h>
#include "io_private.h"

#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#else
#define RUNNING_ON_VALGRIND 0
#endif

#define UB_SQ_DEFAULT 2048
/* Area 0 is the pool; one more per ring port at most. A handle has
 * 32 - UB_AREA_SHIFT bits for the area. */
#define UB_AREAS_MAX (1U << (32 - UB_AREA_SHIFT))

/*
 * A bad put is our own bug, not something the input can cause, so an
 * ASan or TSan build (tests, CI) stops at it with a stack trace. Other
 * builds count it and carry on: the buffer is already safe from a second
 * release, and the daemon keeps forwarding.
 */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define UB_RING_STRICT 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define UB_RING_STRICT 1
#endif
#endif
#ifdef UB_RING_STRICT
#include <sanitizer/common_interface_defs.h>
#else
#define UB_RING_STRICT 0
#endif

struct ub_area {
	uint16_t *refs;  /* NULL: the area is free */
	uint8_t *ours;   /* per buffer, 1 while handed over to us; NULL:
			  * not tracked (see the top of the file) */
	uint32_t held;   /* buffers with references */
	void (*release)(void *arg, uint32_t idx);
	void *arg;
};

struct ub_ring {
	struct io_uring uring;
	struct io_uring_buf_ring *br;
	uint8_t *bufs;
	uint16_t refs[UB_BUF_COUNT];
	uint8_t ours[UB_BUF_COUNT]; /* pool buffers handed over, not yet back */
	uint32_t nfree;    /* buffers the kernel may fill */
	uint32_t pending;  /* returned, not yet published */
	uint64_t bad_puts;
	bool bad_put_abort;
	/* Copies (ub_ring_copy_buf), made at the first: their memory, area,
	 * and the indexes of those not referenced. */
	uint8_t *copies;
	uint32_t copy_area;
	uint32_t ncopy_free;
	uint32_t copy_free[UB_COPY_COUNT];
	struct ub_area areas[UB_AREAS_MAX];
};

/* The pool's release: the buffer is offered to the kernel again at the
 * next ub_ring_bufs_commit(). */
static void pool_release__(void *arg, uint32_t bid)
{
	struct ub_ring *r = arg;

	io_uring_buf_ring_add(r->br, ub_ring_buf(r, (uint16_t)bid), UB_BUF_SIZE,
			      (uint16_t)bid, io_uring_buf_ring_mask(UB_BUF_COUNT),
			      r->pending);
	r->pending++;
}

static size_t bufs_bytes__(void)
{
	return (size_t)UB_BUF_COUNT * UB_BUF_SIZE;
}

/* Address space only: a copy touches the pages its frame needs. */
static size_t copies_bytes__(void)
{
	return (size_t)UB_COPY_COUNT * UB_BUF_SIZE;
}

static size_t br_bytes__(void)
{
	return UB_BUF_COUNT * sizeof(struct io_uring_buf);
}

int ub_ring_new(const struct ub_ring_cfg *cfg, struct ub_ring **out)
{
	struct io_uring_params p = { 0 };
	struct io_uring_buf_reg reg = { 0 };
	struct ub_ring *r;
	uint32_t entries;
	int ret;

	entries = cfg && cfg->sq_entries ? cfg->sq_entries : UB_SQ_DEFAULT;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;

	/* A roomy CQ: multishot receives of many ports plus their sends.
	 * TASKRUN_FLAG: the kernel says when it has completions to post, so
	 * a turn that does not wait enters the kernel only then. */
	p.flags = IORING_SETUP_CQSIZE | IORING_SETUP_SUBMIT_ALL |
		  IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG |
		  IORING_SETUP_SINGLE_ISSUER |
		  (cfg && cfg->deferred ? IORING_SETUP_R_DISABLED : 0);
	p.cq_entries = entries * 4;
	ret = io_uring_queue_init_params(entries, &r->uring, &p);
	if (ret < 0)
		goto err_free;

	/* MAP_NORESERVE: pages become resident only as frames land in them. */
	r->bufs = mmap(NULL, bufs_bytes__(), PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (r->bufs == MAP_FAILED) {
		ret = -errno;
		goto err_uring;
	}
	r->br = mmap(NULL, br_bytes__(), PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (r->br == MAP_FAILED) {
		ret = -errno;
		goto err_bufs;
	}
	io_uring_buf_ring_init(r->br);
	reg.ring_addr = (unsigned long)r->br;
	reg.ring_entries = UB_BUF_COUNT;
	reg.bgid = UB_BGID;
	ret = io_uring_register_buf_ring(&r->uring, &reg, 0);
	if (ret < 0)
		goto err_br;

	for (uint16_t i = 0; i < UB_BUF_COUNT; i++)
		io_uring_buf_ring_add(r->br, ub_ring_buf(r, i), UB_BUF_SIZE, i,
				      io_uring_buf_ring_mask(UB_BUF_COUNT), i);
	io_uring_buf_ring_advance(r->br, UB_BUF_COUNT);
	r->nfree = UB_BUF_COUNT;
	r->bad_put_abort = UB_RING_STRICT;
	r->areas[0] = (struct ub_area){ .refs = r->refs, .ours = r->ours,
					.release = pool_release__, .arg = r };
	*out = r;
	return 0;

err_br:
	munmap(r->br, br_bytes__());
err_bufs:
	munmap(r->bufs, bufs_bytes__());
err_uring:
	io_uring_queue_exit(&r->uring);
err_free:
	free(r);
	return ret;
}

int ub_ring_enable(struct ub_ring *r)
{
	/* liburing 2.3 declares io_uring_enable_rings() but does not export
	 * it: the system call, then. */
	if (syscall(__NR_io_uring_register, r->uring.ring_fd,
		    IORING_REGISTER_ENABLE_RINGS, NULL, 0) < 0)
		return -errno;
	return 0;
}

void ub_ring_free(struct ub_ring *r)
{
	if (!r)
		return;
	io_uring_queue_exit(&r->uring);
	munmap(r->br, br_bytes__());
	munmap(r->bufs, bufs_bytes__());
	if (r->copies)
		munmap(r->copies, copies_bytes__());
	for (uint32_t i = 1; i < UB_AREAS_MAX; i++)
		free(r->areas[i].refs);
	free(r);
}

/* An SQE, flushing the SQ to the kernel first when it is full. */
static struct io_uring_sqe *get_sqe__(struct ub_ring *r)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&r->uring);

	if (ub_unlikely(!sqe)) {
		io_uring_submit(&r->uring);
		sqe = io_uring_get_sqe(&r->uring);
	}
	return sqe;
}

bool ub_cqe_more(const struct ub_cqe *c)
{
	return c->flags & IORING_CQE_F_MORE;
}

bool ub_cqe_buf(const struct ub_cqe *c, uint16_t *bid)
{
	if (!(c->flags & IORING_CQE_F_BUFFER))
		return false;
	*bid = c->flags >> IORING_CQE_BUFFER_SHIFT;
	return true;
}

int ub_ring_submit_wait(struct ub_ring *r, int64_t timeout_us)
{
	struct __kernel_timespec ts;
	struct io_uring_cqe *cqe;
	int ret;

	/* Valgrind 3.19 (Debian 12's) runs one thread at a time and does not
	 * know that io_uring_enter() blocks: a thread waiting there keeps
	 * every other one stopped until its wait ends, and gets the CPU back
	 * after it. Under it (the tests run the daemon under memcheck), a
	 * thread hands over before it waits, and never waits long. */
	if (RUNNING_ON_VALGRIND) {
		sched_yield();
		if (timeout_us < 0 || timeout_us > 10000)
			timeout_us = 10000;
	}
	if (timeout_us <= 0) {
		ret = timeout_us ? io_uring_submit_and_wait(&r->uring, 1) :
				   io_uring_submit(&r->uring);
		return ret < 0 ? ret : 0;
	}
	ts.tv_sec = timeout_us / 1000000;
	ts.tv_nsec = (long long)(timeout_us % 1000000) * 1000;
	ret = io_uring_submit_and_wait_timeout(&r->uring, &cqe, 1, &ts, NULL);
	return ret < 0 ? ret : 0;
}

unsigned ub_ring_reap(struct ub_ring *r, struct ub_cqe *out, unsigned max)
{
	struct io_uring_cqe *cqe;
	unsigned head, n = 0;

	io_uring_for_each_cqe(&r->uring, head, cqe) {
		if (n == max)
			break;
		out[n].user_data = cqe->user_data;
		out[n].res = cqe->res;
		out[n].flags = cqe->flags;
		/* A completion with a buffer hands it to us until put. */
		if (cqe->flags & IORING_CQE_F_BUFFER) {
			r->nfree--;
			r->ours[cqe->flags >> IORING_CQE_BUFFER_SHIFT] = 1;
		}
		n++;
	}
	io_uring_cq_advance(&r->uring, n);
	return n;
}

void *ub_ring_buf(struct ub_ring *r, uint16_t bid)
{
	return r->bufs + (size_t)bid * UB_BUF_SIZE;
}

/* A get or put on a buffer that is not ours: see the top of the file.
 * The stack trace, where there is one, is the whole report. */
static void buf_not_ours__(struct ub_ring *r)
{
	if (!r->bad_put_abort)
		return;
#if UB_RING_STRICT
	__sanitizer_print_stack_trace();
#endif
	abort();
}

void ub_ring_buf_get(struct ub_ring *r, uint32_t buf, uint16_t n)
{
	struct ub_area *a = &r->areas[buf >> UB_AREA_SHIFT];
	uint32_t idx = buf & (UB_AREA_BUFS_MAX - 1);
	uint16_t *refs = &a->refs[idx];

	/* Ignored: references on it would keep it from its next owner.
	 * The puts that match it are counted. */
	if (a->ours && ub_unlikely(!a->ours[idx])) {
		buf_not_ours__(r);
		return;
	}
	if (!*refs && n)
		a->held++;
	*refs += n;
}

void ub_ring_buf_put(struct ub_ring *r, uint32_t buf)
{
	struct ub_area *a = &r->areas[buf >> UB_AREA_SHIFT];
	uint32_t idx = buf & (UB_AREA_BUFS_MAX - 1);

	if (a->ours && ub_unlikely(!a->ours[idx])) {
		r->bad_puts++;
		buf_not_ours__(r);
		return;
	}
	if (a->refs[idx] > 1) {
		a->refs[idx]--;
		return;
	}
	if (a->refs[idx])
		a->held--;
	a->refs[idx] = 0;
	if (a->ours)
		a->ours[idx] = 0;
	a->release(a->arg, idx);
}

uint64_t ub_ring_bufs_bad_puts(const struct ub_ring *r)
{
	return r->bad_puts;
}

void ub_ring_bad_put_abort__(struct ub_ring *r, bool on)
{
	r->bad_put_abort = on;
}

uint16_t ub_ring_buf_refs__(const struct ub_ring *r, uint32_t buf)
{
	return r->areas[buf >> UB_AREA_SHIFT].refs[buf & (UB_AREA_BUFS_MAX - 1)];
}

int ub_ring_area_add__(struct ub_ring *r, uint32_t nbufs,
		       void (*release)(void *arg, uint32_t idx), void *arg,
		       uint32_t *area)
{
	if (!nbufs || nbufs > UB_AREA_BUFS_MAX)
		return -EINVAL;
	for (uint32_t i = 1; i < UB_AREAS_MAX; i++) {
		struct ub_area *a = &r->areas[i];

		if (a->refs)
			continue;
		a->refs = calloc(nbufs, sizeof(*a->refs));
		if (!a->refs)
			return -ENOMEM;
		a->held = 0;
		a->release = release;
		a->arg = arg;
		*area = i;
		return 0;
	}
	return -ENOSPC;
}

void ub_ring_area_del__(struct ub_ring *r, uint32_t area)
{
	free(r->areas[area].refs);
	r->areas[area] = (struct ub_area){ 0 };
}

uint32_t ub_ring_area_held__(const struct ub_ring *r, uint32_t area)
{
	return r->areas[area].held;
}

static void copy_release__(void *arg, uint32_t idx)
{
	struct ub_ring *r = arg;

	r->copy_free[r->ncopy_free++] = idx;
}

static int copies_make__(struct ub_ring *r)
{
	void *m = mmap(NULL, copies_bytes__(), PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	int ret;

	if (m == MAP_FAILED)
		return -errno;
	ret = ub_ring_area_add__(r, UB_COPY_COUNT, copy_release__, r,
				 &r->copy_area);
	if (ret) {
		munmap(m, copies_bytes__());
		return ret;
	}
	r->copies = m;
	for (uint32_t i = 0; i < UB_COPY_COUNT; i++)
		r->copy_free[i] = UB_COPY_COUNT - 1 - i;
	r->ncopy_free = UB_COPY_COUNT;
	return 0;
}

int ub_ring_copy_buf(struct ub_ring *r, uint32_t *buf, uint8_t **mem)
{
	uint32_t idx;
	int ret;

	if (ub_unlikely(!r->copies) && (ret = copies_make__(r)))
		return ret;
	if (!r->ncopy_free)
		return -ENOBUFS;
	idx = r->copy_free[--r->ncopy_free];
	*buf = ub_buf_handle__(r->copy_area, idx);
	*mem = r->copies + (size_t)idx * UB_BUF_SIZE;
	return 0;
}

uint32_t ub_ring_bufs_free(const struct ub_ring *r)
{
	return r->nfree;
}

void ub_ring_bufs_commit(struct ub_ring *r)
{
	if (!r->pending)
		return;
	io_uring_buf_ring_advance(r->br, r->pending);
	r->nfree += r->pending;
	r->pending = 0;
}

/* Prepares a plain request: 'prep' has already filled the SQE's op. */
static int queue__(struct io_uring_sqe *sqe, uint64_t ud)
{
	if (!sqe)
		return -EBUSY;
	io_uring_sqe_set_data64(sqe, ud);
	return 0;
}

int ub_ring_accept(struct ub_ring *r, int fd, uint64_t ud)
{
	struct io_uring_sqe *sqe = get_sqe__(r);

	if (sqe)
		io_uring_prep_multishot_accept(sqe, fd, NULL, NULL,
					       SOCK_CLOEXEC);
	return queue__(sqe, ud);
}

int ub_ring_recv(struct ub_ring *r, int fd, void *buf, size_t len, uint64_t ud)
{
	struct io_uring_sqe *sqe = get_sqe__(r);

	if (sqe)
		io_uring_prep_recv(sqe, fd, buf, len, 0);
	return queue__(sqe, ud);
}

int ub_ring_recvmsg(struct ub_ring *r, int fd, struct msghdr *msg, uint64_t ud)
{
	struct io_uring_sqe *sqe = get_sqe__(r);

	if (sqe)
		io_uring_prep_recvmsg(sqe, fd, msg, MSG_CMSG_CLOEXEC);
	return queue__(sqe, ud);
}

int ub_ring_send(struct ub_ring *r, int fd, const void *buf, size_t len,
		 uint64_t ud)
{
	struct io_uring_sqe *sqe = get_sqe__(r);

	if (sqe)
		io_uring_prep_send(sqe, fd, buf, len, MSG_NOSIGNAL);
	return queue__(sqe, ud);
}

int ub_ring_kick__(struct ub_ring *r, int fd, uint64_t ud)
{
	struct io_uring_sqe *sqe = get_sqe__(r);

	if (sqe)
		io_uring_prep_send(sqe, fd, NULL, 0, MSG_DONTWAIT);
	return queue__(sqe, ud);
}

int ub_ring_sendmsg__(struct ub_ring *r, int fd, const struct msghdr *msg,
		      uint64_t ud)
{
	struct io_uring_sqe *sqe = get_sqe__(r);

	if (sqe)
		io_uring_prep_sendmsg(sqe, fd, msg, MSG_NOSIGNAL);
	return queue__(sqe, ud);
}

int ub_ring_poll__(struct ub_ring *r, int fd, uint64_t ud)
{
	struct io_uring_sqe *sqe = get_sqe__(r);

	if (sqe)
		io_uring_prep_poll_add(sqe, fd, POLLIN);
	return queue__(sqe, ud);
}

int ub_ring_read(struct ub_ring *r, int fd, void *buf, size_t len, uint64_t ud)
{
	struct io_uring_sqe *sqe = get_sqe__(r);

	if (sqe)
		io_uring_prep_read(sqe, fd, buf, len, 0);
	return queue__(sqe, ud);
}

int ub_ring_cancel(struct ub_ring *r, uint64_t ud)
{
	struct io_uring_sqe *sqe = get_sqe__(r);

	if (sqe)
		io_uring_prep_cancel64(sqe, ud, IORING_ASYNC_CANCEL_ALL);
	/* The cancel's own completion is of no interest: op 0. */
	return queue__(sqe, 0);
}

int ub_ring_quiesce(struct ub_ring *r)
{
	struct io_uring_sqe *sqe = get_sqe__(r);
	struct io_uring_cqe *cqe;
	int ret;

	if (!sqe)
		return -EBUSY;
	/* Every request, whatever its user_data; the cancel's own
	 * completion says how many went. */
	io_uring_prep_cancel64(sqe, 0, IORING_ASYNC_CANCEL_ANY);
	io_uring_sqe_set_data64(sqe, UINT64_MAX);
	for (;;) {
		ret = io_uring_submit_and_wait(&r->uring, 1);
		if (ret < 0 && ret != -EINTR)
			return ret;
		while (!io_uring_peek_cqe(&r->uring, &cqe)) {
			bool done = cqe->user_data == UINT64_MAX;

			io_uring_cqe_seen(&r->uring, cqe);
			if (done)
				/* The cancelled requests' ends ran as task
				 * work before this returned; the last of
				 * them are posted by one more look. */
				return io_uring_get_events(&r->uring) < 0 ?
					       -EIO : 0;
		}
	}
}

int ub_ring_recvmsg_pool__(struct ub_ring *r, int fd, const struct msghdr *tmpl,
			   uint64_t ud)
{
	struct io_uring_sqe *sqe = get_sqe__(r);

	if (!sqe)
		return -EBUSY;
	io_uring_prep_recvmsg_multishot(sqe, fd, (struct msghdr *)tmpl, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = UB_BGID;
	return queue__(sqe, ud);
}

int ub_ring_read_pool__(struct ub_ring *r, int fd, uint64_t ud)
{
	struct io_uring_sqe *sqe = get_sqe__(r);

	if (!sqe)
		return -EBUSY;
	io_uring_prep_read(sqe, fd, NULL, UB_BUF_SIZE, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = UB_BGID;
	return queue__(sqe, ud);
}

int ub_ring_write(struct ub_ring *r, int fd, const void *buf, size_t len,
		  uint64_t ud)
{
	struct io_uring_sqe *sqe = get_sqe__(r);

	if (sqe)
		io_uring_prep_write(sqe, fd, buf, (unsigned)len, 0);
	return queue__(sqe, ud);
}
