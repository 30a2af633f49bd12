/* SPDX-License-Identifier: MIT */
/*
 * The files of a capture, opened by whoever has the right to: ubctl as
 * its user, the daemon only for what root configured (its own command
 * line, a capture restored from the state file). The capture itself (io/)
 * is handed the open descriptors and never opens a path.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <ubridge/cmd.h>

int ub_capture_file_name(const char *path, uint32_t nfiles, uint32_t i,
			 char *buf, size_t len)
{
	int n = nfiles ? snprintf(buf, len, "%s.%u", path, i) :
			 snprintf(buf, len, "%s", path);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int ub_capture_files_open(const char *path, uint32_t nfiles, int flags,
			  int *fds, char *err, size_t errlen)
{
	uint32_t n = nfiles ? nfiles : 1;
	char name[4096];
	int ret = 0;

	if (n > UB_CMD_CAP_FILES_MAX) {
		snprintf(err, errlen, "at most %d rotated files",
			 UB_CMD_CAP_FILES_MAX);
		return -EINVAL;
	}
	for (uint32_t i = 0; i < n; i++) {
		ret = ub_capture_file_name(path, nfiles, i, name, sizeof(name));
		if (!ret) {
			fds[i] = open(name, flags | O_CLOEXEC, 0644);
			ret = fds[i] < 0 ? -errno : 0;
		}
		if (ret) {
			snprintf(err, errlen, "cannot open %s: %s", name,
				 strerror(-ret));
			while (i--)
				close(fds[i]);
			return ret;
		}
	}
	return (int)n;
}
