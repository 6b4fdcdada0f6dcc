/*
 * virt-launcher-monitor: PID 1 of a virt-launcher pod's compute container, as KubeVirt's
 * cmd/virt-launcher-monitor. Runs /usr/bin/virt-launcher with its own arguments minus
 * --keep-after-failure (with CAP_NET_BIND_SERVICE ambient), turns SIGINT/SIGTERM/SIGQUIT into a
 * SIGTERM to it, reaps every process re-parented to it, and once the launcher is gone dumps the
 * passt and QEMU logs, gives a QEMU that outlived it SIGTERM and 10 s, asks an istio-proxy sidecar,
 * if there is one, to quit (so the pod can complete), removes the container-disk sockets (so the
 * container-disk containers end) and exits with the launcher's code. With --keep-after-failure a
 * failed launcher leaves the container running, for debugging.
 *
 * KUBEVIRT_TS_VIRT_LAUNCHER names another program to run than /usr/bin/virt-launcher (tests).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kvlog.h"

#define LAUNCHER_BINARY "/usr/bin/virt-launcher"
#define PASST_LOG_FILE "/var/run/kubevirt/passt.log"
#define QEMU_LOG_DIR "/run/kubevirt-private/libvirt/qemu/log"
#define QEMU_GRACE_SECONDS 10
#define ENVOY_MERGED_PROMETHEUS_TELEMETRY_PORT 15020
#define ENVOY_HEALTH_CHECK_PORT 15021
#define HTTP_REQUEST_TIMEOUT_SECONDS 2

static sigset_t handled;
static pid_t launcher_pid;
static bool launcher_reaped;
static int launcher_exit_code;

/* Go's wording of an errno: strerror's text, first letter lower-case. */
static const char *go_error(int err, char *buf, size_t size)
{
	snprintf(buf, size, "%s", strerror(err));
	if (buf[0] >= 'A' && buf[0] <= 'Z') buf[0] = (char)(buf[0] - 'A' + 'a');
	return buf;
}

/* Go's syscall.Signal.String() for the signals the monitor forwards. */
static const char *signal_name(int sig)
{
	switch (sig) {
	case SIGINT: return "interrupt";
	case SIGTERM: return "terminated";
	case SIGQUIT: return "quit";
	default: return "signal";
	}
}

/* Go's WaitStatus.ExitStatus(): the exit code, or -1 when the process was killed by a signal. */
static int exit_status(int wstatus) { return WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1; }

static void reap_children(void)
{
	char reason[128];
	for (;;) {
		int wstatus = 0;
		pid_t pid = waitpid(-1, &wstatus, WNOHANG);
		if (pid < 0) {
			if (errno == EINTR) continue;
			if (errno == ECHILD) LOG_ERROR(go_error(errno, reason, sizeof reason), "Break reap loop");
			else LOG_ERROR(go_error(errno, reason, sizeof reason), "Failed to reap process %d", pid);
			return;
		}
		if (pid == 0) {
			LOG_V(4, "No more processes to be reaped");
			return;
		}
		if (pid == launcher_pid) {
			LOG_INFO("Reaped Launcher main pid");
			launcher_reaped = true;
			launcher_exit_code = exit_status(wstatus);
		}
		LOG_V(4, "Reaped pid %d with status %d", pid, wstatus);
	}
}

static void handle(int sig)
{
	if (sig == SIGCHLD) {
		reap_children();
		return;
	}
	LOG_INFO("signalling virt-launcher to shut down");
	char reason[128];
	const char *failure = NULL;
	if (launcher_reaped) failure = "os: process already finished";
	else if (kill(launcher_pid, SIGTERM) != 0) failure = go_error(errno, reason, sizeof reason);
	if (failure) LOG_ERROR(failure, "received signal %s but can't signal virt-launcher to shut down", signal_name(sig));
}

/* Waits for one of the handled signals and acts on it; timeout_ms < 0 waits forever. */
static void wait_signal(long timeout_ms)
{
	siginfo_t info;
	int sig;
	if (timeout_ms < 0) {
		sig = sigwaitinfo(&handled, &info);
	} else {
		struct timespec ts = {.tv_sec = timeout_ms / 1000, .tv_nsec = (timeout_ms % 1000) * 1000000L};
		sig = sigtimedwait(&handled, &info, &ts);
	}
	if (sig > 0) handle(sig);
}

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void sleep_ms(long ms)
{
	for (long end = now_ms() + ms, left = ms; left > 0; left = end - now_ms()) wait_signal(left);
}

/* --- istio-proxy: a sidecar that would keep the pod running once the launcher is gone -------------------- */

/* One HTTP/1.1 request to 127.0.0.1:port; 0 with the response's head in `head`, else an errno. */
static int http_request(int port, const char *method, const char *path, char *head, size_t size)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) return errno;
	struct timeval timeout = {.tv_sec = HTTP_REQUEST_TIMEOUT_SECONDS};
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
	struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	char request[256];
	int n = snprintf(request, sizeof request, "%s %s HTTP/1.1\r\nHost: localhost:%d\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
	                 method, path, port);
	int err = 0;
	if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0 || write(fd, request, (size_t)n) != n) {
		err = errno;
	} else {
		size_t got = 0;
		ssize_t r = 0;
		while (got + 1 < size && (r = read(fd, head + got, size - 1 - got)) > 0) {
			got += (size_t)r;
			head[got] = 0;
			if (strstr(head, "\r\n\r\n")) break;
		}
		head[got] = 0;
		if (got == 0) err = r < 0 ? errno : ECONNRESET;
	}
	close(fd);
	return err;
}

static int http_status(const char *head)
{
	int status = 0;
	return sscanf(head, "HTTP/%*s %d", &status) == 1 ? status : 0;
}

/* A response header's value (case-insensitive name), copied into `value`; false when absent. */
static bool http_header(const char *head, const char *name, char *value, size_t size)
{
	size_t len = strlen(name);
	for (const char *line = strstr(head, "\r\n"); line && line[2] != '\r'; line = strstr(line + 2, "\r\n")) {
		const char *h = line + 2;
		if (strncasecmp(h, name, len) != 0 || h[len] != ':') continue;
		h += len + 1;
		while (*h == ' ') h++;
		size_t n = strcspn(h, "\r\n");
		snprintf(value, size, "%.*s", (int)(n < size ? n : size - 1), h);
		return true;
	}
	return false;
}

/* KubeVirt's retryOnError: 4 tries, 50 ms, 250 ms, 1.25 s, 6.25 s apart, while the error is retriable. */
#define SERVICE_UNAVAILABLE (-1)
#define NOT_ISTIO (-2)
static int retry_on_error(bool (*retriable)(int), int (*attempt)(void))
{
	int last = 0;
	long pause_ms = 10;
	for (int tries = 4; tries > 0; tries--) {
		int err = attempt();
		if (err == 0) return 0;
		if (!retriable(err)) return err;
		last = err;
		pause_ms *= 5;
		sleep_ms(pause_ms);
	}
	return last;
}

static bool connection_refused_or_reset(int err) { return err == ECONNRESET || err == ECONNREFUSED; }
static bool unavailable_refused_or_reset(int err) { return err == SERVICE_UNAVAILABLE || connection_refused_or_reset(err); }

static int check_istio_proxy(void)
{
	char head[4096], server[64] = "";
	int err = http_request(ENVOY_HEALTH_CHECK_PORT, "GET", "/healthz/ready", head, sizeof head);
	if (err != 0) {
		char reason[128];
		LOG_V(4, "error when checking for istio-proxy presence: %s", go_error(err, reason, sizeof reason));
		return err;
	}
	http_header(head, "server", server, sizeof server);
	return strcmp(server, "envoy") == 0 ? 0 : NOT_ISTIO;
}

static int request_istio_proxy_quit(void)
{
	char head[4096], reason[128];
	int err = http_request(ENVOY_MERGED_PROMETHEUS_TELEMETRY_PORT, "POST", "/quitquitquit", head, sizeof head);
	if (err != 0) {
		LOG_ERROR(go_error(err, reason, sizeof reason), "failed to request istio-proxy termination, retrying...");
		return err;
	}
	int status = http_status(head);
	if (status != 200) {
		LOG_ERROR(NULL, "status code received: %d", status);
		if (status == 503) return SERVICE_UNAVAILABLE;
	}
	return 0; /* as KubeVirt's: any other answer counts as done */
}

static void terminate_istio_proxy(void)
{
	if (retry_on_error(connection_refused_or_reset, check_istio_proxy) != 0) return;
	int err = retry_on_error(unavailable_refused_or_reset, request_istio_proxy_quit);
	if (err != 0) {
		char reason[128];
		LOG_ERROR(err == SERVICE_UNAVAILABLE ? "service unavailable" : go_error(err, reason, sizeof reason),
		          "all attempts to terminate istio-proxy failed");
	}
}

/* In the child, before exec: CAP_NET_BIND_SERVICE into the inheritable and then the ambient set. */
static int raise_ambient_net_bind_service(void)
{
	struct __user_cap_header_struct header = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
	struct __user_cap_data_struct data[2];
	if (syscall(SYS_capget, &header, data) != 0) return -1;
	data[CAP_TO_INDEX(CAP_NET_BIND_SERVICE)].inheritable |= CAP_TO_MASK(CAP_NET_BIND_SERVICE);
	if (syscall(SYS_capset, &header, data) != 0) return -1;
	return prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_BIND_SERVICE, 0, 0);
}

/* Starts the launcher; on failure returns -1 with Go's "fork/exec PATH: error" in `reason`. */
static int start_launcher(char **argv, char *reason, size_t size)
{
	int report[2];
	if (pipe2(report, O_CLOEXEC) != 0) return -1;
	pid_t pid = fork();
	if (pid < 0) {
		char e[128];
		snprintf(reason, size, "fork/exec %s: %s", argv[0], go_error(errno, e, sizeof e));
		close(report[0]);
		close(report[1]);
		return -1;
	}
	if (pid == 0) {
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		close(report[0]);
		if (raise_ambient_net_bind_service() == 0) execv(argv[0], argv);
		int err = errno;
		ssize_t w = write(report[1], &err, sizeof err);
		(void)w;
		_exit(127);
	}
	close(report[1]);
	int err;
	ssize_t n;
	do n = read(report[0], &err, sizeof err);
	while (n < 0 && errno == EINTR);
	close(report[0]);
	if (n == (ssize_t)sizeof err) {
		char e[128];
		waitpid(pid, NULL, 0);
		snprintf(reason, size, "fork/exec %s: %s", argv[0], go_error(err, e, sizeof e));
		return -1;
	}
	launcher_pid = pid;
	return 0;
}

static void dump_log_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char reason[128];
	if (f == NULL) {
		if (errno != ENOENT) LOG_ERROR(go_error(errno, reason, sizeof reason), "failed to open file %s", path);
		return;
	}
	LOG_INFO("dump log file: %s", path);
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	while ((n = getline(&line, &cap, f)) >= 0) {
		if (n > 0 && line[n - 1] == '\n') line[--n] = 0;
		if (n > 0 && line[n - 1] == '\r') line[--n] = 0;
		LOG_INFO("%s", line);
	}
	if (ferror(f)) LOG_ERROR(go_error(errno, reason, sizeof reason), "failed to read file %s", path);
	free(line);
	fclose(f);
}

static int by_name(const struct dirent **a, const struct dirent **b) { return strcmp((*a)->d_name, (*b)->d_name); }
static int not_dot(const struct dirent *d) { return strcmp(d->d_name, ".") != 0 && strcmp(d->d_name, "..") != 0; }

static void dump_qemu_logs(void)
{
	struct dirent **entries;
	char reason[160], e[128];
	int n = scandir(QEMU_LOG_DIR, &entries, not_dot, by_name);
	if (n < 0) {
		snprintf(reason, sizeof reason, "open %s: %s", QEMU_LOG_DIR, go_error(errno, e, sizeof e));
		LOG_ERROR(reason, "failed to read qemu log directory");
		return;
	}
	for (int i = 0; i < n; i++) {
		char path[4096];
		snprintf(path, sizeof path, "%s/%s", QEMU_LOG_DIR, entries[i]->d_name);
		dump_log_file(path);
		free(entries[i]);
	}
	free(entries);
}

/* A process in this PID namespace whose command line contains `needle` (KubeVirt's findPid); 0 if none. */
static pid_t find_pid(const char *needle)
{
	DIR *proc = opendir("/proc");
	if (proc == NULL) return 0;
	pid_t found = 0;
	struct dirent *d;
	while (found == 0 && (d = readdir(proc)) != NULL) {
		char *end;
		long pid = strtol(d->d_name, &end, 10);
		if (*end != 0 || pid <= 0 || pid == getpid()) continue;
		char path[64], buf[8192];
		snprintf(path, sizeof path, "/proc/%ld/cmdline", pid);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) continue; /* exited meanwhile */
		ssize_t n = read(fd, buf, sizeof buf);
		close(fd);
		if (n > 0 && memmem(buf, (size_t)n, needle, strlen(needle)) != NULL) found = (pid_t)pid;
	}
	closedir(proc);
	return found;
}

/* Gives a QEMU that outlived the launcher SIGTERM and up to 10 s; false if it is still there. */
static bool stop_surviving_qemu(char *reason, size_t size)
{
	const char *prefix = "qemu-system";
	pid_t pid = find_pid(prefix);
	if (pid <= 0) {
		prefix = "qemu-kvm";
		pid = find_pid(prefix);
	}
	if (pid <= 0) return true;
	LOG_INFO("Killing QEMU gracefully.");
	if (kill(pid, SIGTERM) != 0) {
		char e[128];
		snprintf(reason, size, "%s", go_error(errno, e, sizeof e));
		return false;
	}
	for (long deadline = now_ms() + QEMU_GRACE_SECONDS * 1000L;;) {
		if (find_pid(prefix) == 0) return true;
		long left = deadline - now_ms();
		if (left <= 0) return false;
		sleep_ms(left < 1000 ? left : 1000);
	}
}

/* Removes the *.sock files in the container-disk dir: each container-disk container exits when its socket is gone. */
static void cleanup_container_disk_directory(const char *dir)
{
	DIR *d = opendir(dir);
	char reason[1200], e[128];
	if (d == NULL) {
		if (errno == ENOENT) return; /* Go's Glob of a missing directory matches nothing */
		snprintf(reason, sizeof reason, "open %s: %s", dir, go_error(errno, e, sizeof e));
		LOG_ERROR(reason, "could not clean up ephemeral disk directory: %s", dir);
		return;
	}
	struct dirent *entry;
	while ((entry = readdir(d)) != NULL) {
		size_t len = strlen(entry->d_name);
		if (len < 5 || strcmp(entry->d_name + len - 5, ".sock") != 0) continue;
		char path[1024];
		snprintf(path, sizeof path, "%s/%s", dir, entry->d_name);
		if (unlink(path) != 0 && errno != ENOENT) {
			snprintf(reason, sizeof reason, "unlinkat %s: %s", path, go_error(errno, e, sizeof e));
			LOG_ERROR(reason, "could not clean up ephemeral disk directory: %s", dir);
			break;
		}
	}
	closedir(d);
}

/*
 * RunAndMonitor. Returns the exit code; *failed (with `reason`) when the launcher could not be
 * run or QEMU could not be signalled.
 */
static int run_and_monitor(int argc, char **argv, const char *container_disk_dir, bool *failed, char *reason, size_t size)
{
	const char *binary = getenv("KUBEVIRT_TS_VIRT_LAUNCHER");
	char **args = calloc((size_t)argc + 1, sizeof *args);
	if (args == NULL) abort();
	int n = 0;
	args[n++] = (char *)(binary && *binary ? binary : LAUNCHER_BINARY);
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--keep-after-failure") != 0) args[n++] = argv[i];
	}
	args[n] = NULL;

	int code;
	if (start_launcher(args, reason, size) != 0) {
		LOG_ERROR(reason, "failed to run virt-launcher");
		*failed = true;
		code = 1;
	} else {
		while (!launcher_reaped) wait_signal(-1);
		code = launcher_exit_code;
		if (code != 0) LOG_ERROR(NULL, "dirty virt-launcher shutdown: exit-code %d", code);
		dump_log_file(PASST_LOG_FILE);
		dump_qemu_logs();
		reason[0] = 0;
		if (!stop_surviving_qemu(reason, size)) {
			code = 1;
			*failed = reason[0] != 0;
		}
	}
	terminate_istio_proxy();
	cleanup_container_disk_directory(container_disk_dir);
	free(args);
	return code;
}

static bool parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = {"1", "t", "T", "TRUE", "true", "True"};
	static const char *const no[] = {"0", "f", "F", "FALSE", "false", "False"};
	for (size_t i = 0; i < 6; i++) {
		if (strcmp(s, yes[i]) == 0) return *out = true, true;
		if (strcmp(s, no[i]) == 0) return *out = false, true;
	}
	return false;
}

static void usage_error(const char *message)
{
	fprintf(stderr, "%s\nUsage of virt-launcher-monitor:\n"
	                "      --container-disk-dir string   Base directory for container disk data (default \"/var/run/kubevirt/container-disks\")\n"
	                "      --keep-after-failure          virt-launcher will be kept alive after failure for debugging if set to true\n"
	                "      --uid string                  UID of the VirtualMachineInstance\n"
	                "  -v, --v int                       log level for V logs (default 2)\n",
	        message);
	exit(2);
}

/* A string flag `name` at argv[i] (--name v, --name=v); returns the arguments used, 0 if another flag. */
static int string_flag(int argc, char **argv, int i, const char *name, const char **value)
{
	size_t len = strlen(name);
	if (strncmp(argv[i], name, len) != 0) return 0;
	if (argv[i][len] == '=') return *value = argv[i] + len + 1, 1;
	if (argv[i][len] != 0) return 0;
	if (i + 1 >= argc) {
		char message[128];
		snprintf(message, sizeof message, "flag needs an argument: %s", name);
		usage_error(message);
	}
	*value = argv[i + 1];
	return 2;
}

int main(int argc, char **argv)
{
	const char *container_disk_dir = "/var/run/kubevirt/container-disks";
	const char *uid = "";
	bool keep_after_failure = false;
	int verbosity = 2;

	/* pflag with unknown flags allowed: everything else is the launcher's */
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		int used;
		if (strcmp(a, "--") == 0) break;
		if ((used = kvlog_verbosity_flag(argc, argv, i, &verbosity)) != 0) {
			if (used < 0) usage_error("invalid argument for \"-v, --v\" flag: expected a non-negative integer");
			i += used - 1;
		} else if ((used = string_flag(argc, argv, i, "--container-disk-dir", &container_disk_dir)) != 0 ||
		           (used = string_flag(argc, argv, i, "--uid", &uid)) != 0) {
			i += used - 1;
		} else if (strcmp(a, "--keep-after-failure") == 0) {
			keep_after_failure = true;
		} else if (strncmp(a, "--keep-after-failure=", 21) == 0) {
			if (!parse_bool(a + 21, &keep_after_failure))
				usage_error("invalid argument for \"--keep-after-failure\" flag: expected true or false");
		} else if (a[0] == '-' && strchr(a, '=') == NULL && i + 1 < argc && argv[i + 1][0] != '-') {
			i++; /* an unknown flag's value, as pflag strips it */
		}
	}
	(void)uid;

	kvlog_init("virt-launcher-monitor");
	kvlog_set_verbosity(verbosity);
	kvlog_verbosity_from_env(2);

	sigemptyset(&handled);
	sigaddset(&handled, SIGINT);
	sigaddset(&handled, SIGTERM);
	sigaddset(&handled, SIGQUIT);
	sigaddset(&handled, SIGCHLD);
	sigprocmask(SIG_BLOCK, &handled, NULL);

	char reason[512] = "";
	bool failed = false;
	int code = run_and_monitor(argc, argv, container_disk_dir, &failed, reason, sizeof reason);
	if (keep_after_failure && (code != 0 || failed)) {
		LOG_INFO("keeping virt-launcher container alive since --keep-after-failure is set to true");
		for (;;) wait_signal(-1);
	}
	if (failed) {
		LOG_ERROR(reason, "monitoring virt-launcher failed");
		return 1;
	}
	LOG_INFO("virt-launcher-monitor: Exiting...");
	return code & 0xff; /* os.Exit(-1) is 255 */
}
