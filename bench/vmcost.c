/* SPDX-License-Identifier: MIT */
/*
 * vmcost: what this machine charges for the three things a userspace
 * bridge cannot avoid, so that latency figures can be read against them:
 *
 *   syscall      a system call that does nothing (getppid), in a loop
 *   cache line   a store on CPU A seen by a thread spinning on CPU B (A
 *                sleeps 2 ms between stores, as a ping source does)
 *   wake-up      an eventfd write on CPU A waking a thread blocked in
 *                read() on CPU B (the same 2 ms pauses)
 *
 * The kernel bridge pays none of them on a ping's round trip: the whole
 * trip runs inside the sender's system call. A userspace bridge on
 * another CPU pays a cache line per frame when it polls, a wake-up when it
 * sleeps, and a system call per batch of sends.
 *
 *   vmcost [--cpus A,B] [--count N]
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

static int cpu_a, cpu_b = 1;
static unsigned count = 1000;
static int efd;
/* The store the spinner watches: ns of CLOCK_MONOTONIC, 0 at first. */
static uint64_t stamp __attribute__((aligned(64)));
static uint64_t *lat;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void pin(int cpu)
{
	cpu_set_t set;
	int err;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	err = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	if (err) {
		fprintf(stderr, "vmcost: cannot run on CPU %d: %s\n", cpu,
			strerror(err));
		exit(1);
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void report(const char *what, int to)
{
	char where[32];

	qsort(lat, count, sizeof(*lat), cmp_u64);
	if (to < 0)
		snprintf(where, sizeof(where), "CPU %d", cpu_a);
	else
		snprintf(where, sizeof(where), "CPU %d -> CPU %d", cpu_a, to);
	printf("%-11s p50 %8.2f us   p99 %8.2f us   (%s, %u times)\n", what,
	       (double)lat[count / 2] / 1000,
	       (double)lat[count * 99 / 100] / 1000, where, count);
}

static void *spinner(void *arg)
{
	uint64_t last = 0;

	(void)arg;
	pin(cpu_b);
	for (unsigned i = 0; i < count;) {
		uint64_t v = __atomic_load_n(&stamp, __ATOMIC_ACQUIRE);

		if (v != last) {
			lat[i++] = now_ns() - v;
			last = v;
		}
	}
	return NULL;
}

static void *sleeper(void *arg)
{
	(void)arg;
	pin(cpu_b);
	for (unsigned i = 0; i < count; i++) {
		uint64_t v;

		if (read(efd, &v, sizeof(v)) != sizeof(v)) {
			perror("vmcost: read");
			exit(1);
		}
		lat[i] = now_ns() - __atomic_load_n(&stamp, __ATOMIC_ACQUIRE);
	}
	return NULL;
}

/* Runs 'fn' on CPU B while CPU A stores a time stamp every 2 ms (and
 * wakes the eventfd when 'wake'). */
static void two_cpus(void *(*fn)(void *), int wake)
{
	const struct timespec pause = { 0, 2000000 };
	pthread_t t;
	int err;

	__atomic_store_n(&stamp, 0, __ATOMIC_RELEASE);
	err = pthread_create(&t, NULL, fn, NULL);
	if (err) {
		fprintf(stderr, "vmcost: pthread_create: %s\n", strerror(err));
		exit(1);
	}
	pin(cpu_a);
	for (unsigned i = 0; i < count; i++) {
		const uint64_t one = 1;

		nanosleep(&pause, NULL);
		__atomic_store_n(&stamp, now_ns(), __ATOMIC_RELEASE);
		if (wake && write(efd, &one, sizeof(one)) != sizeof(one)) {
			perror("vmcost: write");
			exit(1);
		}
	}
	pthread_join(t, NULL);
}

static void usage(FILE *f, int status)
{
	fprintf(f, "usage: vmcost [--cpus A,B] [--count N]\n"
		   "Measures a system call, a cache line crossing from CPU A to\n"
		   "CPU B (default 0,1), and a wake-up across them; prints p50\n"
		   "and p99 of N tries (default 1000; 2 ms apart: ~2 N ms).\n");
	exit(status);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "cpus", required_argument, NULL, 'c' },
		{ "count", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char end;
	int c;

	while ((c = getopt_long(argc, argv, "c:n:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			if (sscanf(optarg, "%d,%d%c", &cpu_a, &cpu_b, &end) != 2 ||
			    cpu_a < 0 || cpu_b < 0 || cpu_a == cpu_b)
				usage(stderr, 2);
			break;
		case 'n':
			if (sscanf(optarg, "%u%c", &count, &end) != 1 ||
			    count < 100 || count > 1000000)
				usage(stderr, 2);
			break;
		case 'h':
			usage(stdout, 0);
			break;
		default:
			usage(stderr, 2);
		}
	}
	if (optind != argc)
		usage(stderr, 2);
	lat = calloc(count, sizeof(*lat));
	efd = eventfd(0, EFD_CLOEXEC);
	if (!lat || efd < 0) {
		perror("vmcost");
		return 1;
	}

	pin(cpu_a);
	for (unsigned i = 0; i < count; i++) {
		uint64_t t0 = now_ns();

		for (int k = 0; k < 100; k++)
			getppid();
		lat[i] = (now_ns() - t0) / 100;
	}
	report("syscall", -1);
	two_cpus(spinner, 0);
	report("cache line", cpu_b);
	two_cpus(sleeper, 1);
	report("wake-up", cpu_b);
	return 0;
}
