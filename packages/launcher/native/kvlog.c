#include "kvlog.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static const char *component = "";
static int verbosity = 2;

static const char *const level_names[] = {"info", "warning", "error", "fatal"};

void kvlog_init(const char *name) { component = name; }
void kvlog_set_verbosity(int v) { verbosity = v; }
int kvlog_verbosity(void) { return verbosity; }

struct buf {
	char data[8192];
	size_t len;
};

static void put(struct buf *b, const char *s, size_t n)
{
	if (n > sizeof b->data - 2 - b->len) n = sizeof b->data - 2 - b->len; /* keep room for "}\n" */
	memcpy(b->data + b->len, s, n);
	b->len += n;
}

static void puts_raw(struct buf *b, const char *s) { put(b, s, strlen(s)); }

/* A JSON string as encoding/json writes it (<, > and & escaped too). */
static void put_json(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	put(b, "\"", 1);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		char esc[7];
		switch (*p) {
		case '"': put(b, "\\\"", 2); break;
		case '\\': put(b, "\\\\", 2); break;
		case '\n': put(b, "\\n", 2); break;
		case '\r': put(b, "\\r", 2); break;
		case '\t': put(b, "\\t", 2); break;
		default:
			if (*p < 0x20 || *p == '<' || *p == '>' || *p == '&') {
				esc[0] = '\\', esc[1] = 'u', esc[2] = '0', esc[3] = '0';
				esc[4] = hex[*p >> 4], esc[5] = hex[*p & 15], esc[6] = 0;
				put(b, esc, 6);
			} else {
				put(b, (const char *)p, 1);
			}
		}
	}
	put(b, "\"", 1);
}

static void put_field(struct buf *b, const char *key, const char *value, int first)
{
	if (!first) put(b, ",", 1);
	put_json(b, key);
	put(b, ":", 1);
	put_json(b, value);
}

void kvlog_line(enum kvlog_level level, int v, const char *file, int line, const char *reason, const char *fmt, ...)
{
	if (level == KVLOG_INFO && v > verbosity) return;
	int saved = errno;
	char msg[4096], pos[256], stamp[40];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	const char *base = strrchr(file, '/');
	snprintf(pos, sizeof pos, "%s:%d", base ? base + 1 : file, line);
	/* Go layout 2006-01-02T15:04:05.000000Z */
	struct timeval tv;
	struct tm tm;
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	size_t n = strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(stamp + n, sizeof stamp - n, ".%06ldZ", (long)tv.tv_usec);

	struct buf b = {.len = 0};
	puts_raw(&b, "{");
	put_field(&b, "component", component, 1);
	put_field(&b, "level", level_names[level], 0);
	put_field(&b, "msg", msg, 0);
	put_field(&b, "pos", pos, 0);
	if (reason) put_field(&b, "reason", reason, 0);
	put_field(&b, "timestamp", stamp, 0);
	b.data[b.len++] = '}';
	b.data[b.len++] = '\n';
	ssize_t w = write(STDERR_FILENO, b.data, b.len);
	(void)w;
	errno = saved;
}

static int parse_int(const char *s, int *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (*s == 0 || *end != 0 || errno != 0 || v < -2147483647L || v > 2147483647L) return -1;
	*out = (int)v;
	return 0;
}

int kvlog_verbosity_flag(int argc, char **argv, int i, int *out)
{
	const char *a = argv[i];
	const char *value = NULL;
	int used = 1;
	if (strcmp(a, "-v") == 0 || strcmp(a, "--v") == 0) {
		if (i + 1 >= argc) return -1;
		value = argv[i + 1];
		used = 2;
	} else if (strncmp(a, "-v=", 3) == 0) {
		value = a + 3;
	} else if (strncmp(a, "--v=", 4) == 0) {
		value = a + 4;
	} else if (strncmp(a, "-v", 2) == 0 && a[2] >= '0' && a[2] <= '9') {
		value = a + 2;
	} else {
		return 0;
	}
	if (parse_int(value, out) != 0 || *out < 0) return -1;
	return used;
}

void kvlog_verbosity_from_env(int announce_at)
{
	const char *s = getenv("VIRT_LAUNCHER_LOG_VERBOSITY");
	if (s == NULL) return;
	int v;
	if (parse_int(s, &v) == 0) {
		if (v >= 0) verbosity = v; /* KubeVirt refuses a negative level and keeps the old one */
		LOG_V(announce_at, "set log verbosity to %d", v);
	} else {
		LOG_WARNING("failed to set log verbosity. The value of logVerbosity label should be an integer, got %s instead.", s);
	}
}
