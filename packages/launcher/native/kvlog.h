/*
 * KubeVirt's structured log lines (kubevirt.io/client-go/log, go-kit's JSON logger, keys sorted):
 * {"component":"…","level":"info","msg":"…","pos":"file.c:42","reason":"…","timestamp":"…Z"}
 * on stderr, one write(2) per line. Info lines carry a klog verbosity (plain Info is V(2)) and
 * show when it is at most the process's verbosity (-v, default 2); warnings and errors always show.
 */
#ifndef KVLOG_H
#define KVLOG_H

enum kvlog_level { KVLOG_INFO, KVLOG_WARNING, KVLOG_ERROR, KVLOG_FATAL };

void kvlog_init(const char *component);
void kvlog_set_verbosity(int verbosity);
int kvlog_verbosity(void);
/* `reason` is KubeVirt's Reason(err): NULL when there is none. */
void kvlog_line(enum kvlog_level level, int v, const char *file, int line, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

#define LOG_INFO(...) kvlog_line(KVLOG_INFO, 2, __FILE__, __LINE__, NULL, __VA_ARGS__)
#define LOG_V(v, ...) kvlog_line(KVLOG_INFO, (v), __FILE__, __LINE__, NULL, __VA_ARGS__)
#define LOG_WARNING(...) kvlog_line(KVLOG_WARNING, 2, __FILE__, __LINE__, NULL, __VA_ARGS__)
#define LOG_ERROR(reason, ...) kvlog_line(KVLOG_ERROR, 2, __FILE__, __LINE__, (reason), __VA_ARGS__)
#define LOG_INFO_R(reason, ...) kvlog_line(KVLOG_INFO, 2, __FILE__, __LINE__, (reason), __VA_ARGS__)

/*
 * The klog verbosity flag as pflag takes it (-v N, -v=N, -vN, --v N, --v=N). Returns how many
 * arguments it used at argv[i] (0: not the flag); -1 with *bad set on a value that is not an integer.
 */
int kvlog_verbosity_flag(int argc, char **argv, int i, int *verbosity);

/* VIRT_LAUNCHER_LOG_VERBOSITY overrides -v, as the launcher's companion programs honour it. */
void kvlog_verbosity_from_env(int announce_at);

#endif
