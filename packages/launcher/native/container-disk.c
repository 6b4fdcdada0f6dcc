/*
 * container-disk: the process of a containerDisk container, as KubeVirt's
 * cmd/container-disk-v2alpha. It runs inside the disk's image (copied there by the pod's
 * container-disk-binary init container, so it must be static) and only exists to be found:
 * it listens on <copy-path>.sock in the pod's container-disks volume, so virt-handler can take
 * the peer's pid from that socket and reach the image's /disk through /proc/<pid>/root. It ends
 * on SIGTERM (removing the socket) or when the socket is removed (virt-launcher-monitor does that
 * as the launcher ends); connections are accepted and closed at once. `--no-op` exits 0 (the
 * init containers that only pre-pull the image).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define LISTEN_BACKLOG 50
/* sun_path holds 108 bytes: the copy path, ".sock" and the terminating NUL. */
#define MAX_COPY_PATH (sizeof(((struct sockaddr_un *)0)->sun_path) - sizeof ".sock")

static char socket_path[sizeof(((struct sockaddr_un *)0)->sun_path)];

/* KubeVirt's form: the local time as asctime prints it, then "error: ..." on stderr. */
static void error_log(const char *fmt, ...)
{
	time_t now = time(NULL);
	struct tm tm;
	char stamp[32];
	fputs(asctime_r(localtime_r(&now, &tm), stamp), stderr);
	fputs("error: ", stderr);
	va_list ap;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

static void on_sigterm(int sig)
{
	(void)sig;
	if (socket_path[0] != 0) unlink(socket_path);
	_exit(0);
}

int main(int argc, char **argv)
{
	struct sigaction sa = {.sa_handler = on_sigterm};
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) != 0) {
		error_log("failed to register SIGTERM callback\n");
		return 1;
	}

	static const struct option options[] = {
		{"copy-path", required_argument, NULL, 'c'},
		{"no-op", no_argument, NULL, 'n'},
		{NULL, 0, NULL, 0},
	};
	const char *copy_path = NULL;
	for (int c; (c = getopt_long(argc, argv, "c:", options, NULL)) != -1;) {
		switch (c) {
		case 'c':
			if (strlen(optarg) > MAX_COPY_PATH) {
				error_log("copy path can not be longer than %zu characters\n", MAX_COPY_PATH);
				return 1;
			}
			copy_path = optarg;
			break;
		case 'n':
			return 0;
		default: /* getopt has said what is wrong */
			return 1;
		}
	}
	if (copy_path == NULL || copy_path[0] == 0) {
		error_log("--copy-path is required\n");
		return 1;
	}

	char dir_buf[sizeof socket_path];
	snprintf(dir_buf, sizeof dir_buf, "%s", copy_path);
	const char *dir = dirname(dir_buf);
	struct stat st;
	if (stat(dir, &st) == -1 && mkdir(dir, 0777) != 0) {
		error_log("failed to create disk directory %s\n", dir);
		return 1;
	}

	struct sockaddr_un address = {.sun_family = AF_UNIX};
	snprintf(address.sun_path, sizeof address.sun_path, "%s.sock", copy_path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		error_log("failed to create socket on %s\n", address.sun_path);
		return 1;
	}
	/* SIGTERM held while the socket appears: whenever it lands, it finds the path to remove */
	sigset_t term;
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigprocmask(SIG_BLOCK, &term, NULL);
	if (bind(fd, (struct sockaddr *)&address, sizeof address) == -1) {
		error_log("failed to bind socket %s\n", address.sun_path);
		return 1;
	}
	/* from here on SIGTERM removes the socket */
	memcpy(socket_path, address.sun_path, sizeof socket_path);
	sigprocmask(SIG_UNBLOCK, &term, NULL);
	if (listen(fd, LISTEN_BACKLOG) == -1) {
		error_log("failed to listen socket %s\n", socket_path);
		return 1;
	}

	/*
	 * Once a second: end if the socket file is gone (the monitor removes it, should SIGTERM not
	 * arrive in time), and drain the accept queue so virt-handler's connections never pile up.
	 */
	for (bool drained = true;;) {
		if (drained) sleep(1);
		if (stat(socket_path, &st) == -1) {
			error_log("socket %s does not exist anymore\n", socket_path);
			return 0;
		}
		int conn = accept(fd, NULL, NULL);
		if (conn == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
				drained = true;
				continue;
			}
			error_log("failed to accept connections on the socket: %d\n", errno);
			return 1;
		}
		drained = false;
		close(conn);
	}
}
