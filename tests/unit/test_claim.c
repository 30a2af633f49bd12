/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for port claims (control/claim.c), in a private temporary
 * directory standing in for /run/ubridge. An ifindex here names no real
 * interface: claims only compare keys.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <ubridge/claim.h>

static char rundir[64];

static int setup(void **state)
{
	snprintf(rundir, sizeof(rundir), "/tmp/ub-test-claim.XXXXXX");
	return mkdtemp(rundir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf -- '%s'", rundir);
	return system(cmd) == 0 ? 0 : -1;
}

static int count_files(const char *bridge)
{
	char cmd[160], buf[16] = "";
	FILE *f;

	snprintf(cmd, sizeof(cmd), "ls -A '%s/%s.ports' | wc -l", rundir,
		 bridge);
	f = popen(cmd, "r");
	assert_non_null(f);
	assert_non_null(fgets(buf, sizeof(buf), f));
	pclose(f);
	return atoi(buf);
}

/* One bridge per interface; the next one gets it once it is given up. */
static void test_one_bridge(void **state)
{
	struct ub_claim a, b, a2;
	char holder[16] = "";

	assert_int_equal(ub_claim_take(rundir, "a", 7, "veth7", &a, holder,
				       sizeof(holder)), 0);
	assert_true(a.fd >= 0);
	assert_int_equal(ub_claim_take(rundir, "b", 7, "veth7", &b, holder,
				       sizeof(holder)), -EBUSY);
	assert_string_equal(holder, "a");
	assert_int_equal(b.fd, -1);
	/* A refused claim leaves nothing behind; another interface is
	 * free. */
	assert_int_equal(count_files("b"), 0);
	assert_int_equal(ub_claim_take(rundir, "b", 8, "veth8", &b, holder,
				       sizeof(holder)), 0);
	ub_claim_release(&b);
	assert_int_equal(b.fd, -1);

	ub_claim_release(&a);
	assert_int_equal(count_files("a"), 0);
	assert_int_equal(ub_claim_take(rundir, "b", 7, "veth7", &b, holder,
				       sizeof(holder)), 0);
	assert_int_equal(ub_claim_take(rundir, "a", 7, "veth7", &a2, holder,
				       sizeof(holder)), -EBUSY);
	assert_string_equal(holder, "b");
	ub_claim_release(&b);
	ub_claim_release(&b); /* holds nothing: a no-op */
}

/*
 * A process that dies holding a claim (SIGKILL: no clean-up) leaves its
 * file, unlocked: the claim is gone with it. Its successor's prepare
 * clears the file.
 */
static void test_killed_holder(void **state)
{
	int pfd[2], status;
	struct ub_claim c;
	char holder[16], ok = 0;
	pid_t pid;

	assert_int_equal(pipe(pfd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		ok = ub_claim_take(rundir, "a", 9, "veth9", &c, holder,
				   sizeof(holder)) == 0;
		if (write(pfd[1], &ok, 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	assert_int_equal(read(pfd[0], &ok, 1), 1);
	status = ub_claim_take(rundir, "b", 9, "veth9", &c, holder,
			       sizeof(holder));
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	close(pfd[0]);
	close(pfd[1]);
	assert_int_equal(ok, 1);
	assert_int_equal(status, -EBUSY);
	assert_string_equal(holder, "a");

	assert_int_equal(count_files("a"), 1);
	assert_int_equal(ub_claim_take(rundir, "b", 9, "veth9", &c, holder,
				       sizeof(holder)), 0);
	ub_claim_release(&c);
	assert_int_equal(ub_claim_prepare(rundir, "a", (uid_t)-1, (gid_t)-1),
			 0);
	assert_int_equal(count_files("a"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_one_bridge, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_killed_holder, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
