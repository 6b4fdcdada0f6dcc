/*
 * virt-tail: the guest-console-log container, as KubeVirt's cmd/virt-tail. Streams
 * --logfile (the serial console log virtlogd writes, /var/run/kubevirt-private/<vmi-uid>/
 * virt-serial0-log) to stdout line by line, from its start: waits for the file (and its
 * directory) to appear, follows appends, starts over when the file is truncated or replaced,
 * prints only complete lines. Ends with 0 on SIGTERM/SIGINT, which the kubelet sends this
 * restartPolicy=Always init container once the pod's main containers have ended.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kvlog.h"

/* A longer line is printed in pieces of this size rather than held (the container's limit is 60M). */
#define MAX_LINE (1 << 20)

struct tail {
	const char *path;
	char dir[PATH_MAX];
	int fd;
	dev_t dev;
	ino_t ino;
	off_t offset;
	char *line;
	size_t len, cap;
};

static void write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR) continue;
			exit(1);
		}
		p += w;
		n -= (size_t)w;
	}
}

/* Prints the complete lines of `data` (fmt.Println of each), keeping an unfinished one. */
static void consume(struct tail *t, const char *data, size_t n)
{
	while (n > 0) {
		const char *nl = memchr(data, '\n', n);
		size_t take = nl ? (size_t)(nl - data) + 1 : n;
		if (t->len + take + 1 > t->cap) { /* + 1: room for the newline a cut line gets */
			t->cap = t->len + take + 1 > 2 * t->cap ? t->len + take + 1 : 2 * t->cap;
			t->line = realloc(t->line, t->cap);
			if (t->line == NULL) abort();
		}
		memcpy(t->line + t->len, data, take);
		t->len += take;
		data += take;
		n -= take;
		if (nl || t->len >= MAX_LINE) {
			if (!nl) t->line[t->len++] = '\n';
			write_all(STDOUT_FILENO, t->line, t->len);
			t->len = 0;
		}
	}
}

static void read_available(struct tail *t)
{
	char buf[65536];
	for (;;) {
		ssize_t n = read(t->fd, buf, sizeof buf);
		if (n < 0 && errno == EINTR) continue;
		if (n <= 0) return;
		t->offset += n;
		consume(t, buf, (size_t)n);
	}
}

static void open_file(struct tail *t)
{
	t->fd = open(t->path, O_RDONLY | O_CLOEXEC);
	if (t->fd < 0) return;
	struct stat st;
	if (fstat(t->fd, &st) != 0) {
		close(t->fd);
		t->fd = -1;
		return;
	}
	t->dev = st.st_dev;
	t->ino = st.st_ino;
	t->offset = 0;
	t->len = 0; /* a half line of an earlier file is dropped, as nxadm/tail's reopen does */
}

/* Brings the tail up to date with the file: (re)open, notice truncation or replacement, print. */
static void check(struct tail *t)
{
	if (t->fd >= 0) {
		struct stat now, open_st;
		bool replaced = stat(t->path, &now) != 0 || now.st_dev != t->dev || now.st_ino != t->ino;
		if (replaced) {
			LOG_V(4, "Re-opening moved/deleted file %s ...", t->path);
			read_available(t); /* what was written before the move */
			close(t->fd);
			t->fd = -1;
		} else if (fstat(t->fd, &open_st) == 0 && open_st.st_size < t->offset) {
			LOG_V(4, "Re-opening truncated file %s ...", t->path);
			lseek(t->fd, 0, SEEK_SET);
			t->offset = 0;
			t->len = 0;
		}
	}
	if (t->fd < 0) open_file(t);
	if (t->fd >= 0) read_available(t);
}

static bool parse_flags(int argc, char **argv, const char **logfile, int *verbosity)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		int used = kvlog_verbosity_flag(argc, argv, i, verbosity);
		if (used < 0) return false;
		if (used > 0) {
			i += used - 1;
		} else if (strcmp(a, "--logfile") == 0 || strcmp(a, "-logfile") == 0) {
			if (i + 1 >= argc) return false;
			*logfile = argv[++i];
		} else if (strncmp(a, "--logfile=", 10) == 0) {
			*logfile = a + 10;
		} else if (strcmp(a, "--") == 0) {
			break;
		} else if (a[0] == '-' && strchr(a, '=') == NULL && i + 1 < argc && argv[i + 1][0] != '-') {
			i++; /* an unknown flag's value, as pflag strips it */
		}
	}
	return true;
}

int main(int argc, char **argv)
{
	const char *logfile = "";
	int verbosity = 2;
	if (!parse_flags(argc, argv, &logfile, &verbosity)) {
		fprintf(stderr, "invalid arguments\nUsage of virt-tail:\n"
		                "      --logfile string   path of the logfile to be streamed\n"
		                "  -v, --v int            log level for V logs (default 2)\n");
		return 2;
	}
	kvlog_init("virt-tail");
	kvlog_set_verbosity(verbosity);
	kvlog_verbosity_from_env(3);
	if (logfile[0] == 0) {
		LOG_V(3, "logfile flags must be provided");
		return 1;
	}

	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	sigprocmask(SIG_BLOCK, &stop, NULL);
	int sfd = signalfd(-1, &stop, SFD_CLOEXEC);
	int ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (sfd < 0 || ifd < 0) {
		LOG_ERROR(strerror(errno), "failed to set up signal and file watches");
		return 1;
	}

	struct tail t = {.path = logfile, .fd = -1};
	snprintf(t.dir, sizeof t.dir, "%s", logfile);
	dirname(t.dir);
	int wd = -1;
	const uint32_t mask = IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE |
	                      IN_DELETE_SELF | IN_MOVE_SELF;
	for (;;) {
		/* The directory is watched rather than the file: it also tells of the file's (re)creation. */
		if (wd < 0) wd = inotify_add_watch(ifd, t.dir, mask);
		check(&t);
		struct pollfd fds[2] = {{.fd = sfd, .events = POLLIN}, {.fd = ifd, .events = POLLIN}};
		/* without a watch (no directory yet), look again every second */
		int ready = poll(fds, 2, wd < 0 ? 1000 : -1);
		if (ready < 0 && errno != EINTR) return 1;
		if (fds[0].revents & POLLIN) return 0;
		if (fds[1].revents & POLLIN) {
			char events[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
			ssize_t n;
			while ((n = read(ifd, events, sizeof events)) > 0) {
				for (char *p = events; p < events + n;) {
					struct inotify_event *e = (struct inotify_event *)p;
					if (e->mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF)) {
						inotify_rm_watch(ifd, wd);
						wd = -1;
					}
					p += sizeof *e + e->len;
				}
			}
		}
	}
}
