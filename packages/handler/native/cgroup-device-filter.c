/*
 * cgroup-device-filter: what KubeVirt's `virt-chroot set-cgroups-resources --isV2=true` does for a
 * launcher pod on a cgroup v2 node. cgroup v2 has no devices.allow file: the device allowlist is an
 * eBPF program (BPF_PROG_TYPE_CGROUP_DEVICE) attached to the cgroup, and a new list means a new
 * program replacing the old ones (the container runtime's, or the last one we attached), as runc's
 * devicefilter and LoadAttachCgroupDeviceFilter do it.
 *
 *   cgroup-device-filter <cgroup v2 directory> [RULE...]
 *
 * RULE is an allow rule in devices.allow's form, "<a|b|c> <major|*>:<minor|*> <r|w|m...>"; anything
 * not allowed is denied. On success it prints the number of device programs left on the cgroup.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_RULES 1024
#define MAX_INSNS (6 + MAX_RULES * 8 + 2)
#define MAX_ATTACHED 64 /* the kernel's limit of programs per cgroup and attach type */

struct rule {
	int type;     /* BPF_DEVCG_DEV_BLOCK, BPF_DEVCG_DEV_CHAR, or 0 for any */
	long major;   /* -1: any */
	long minor;   /* -1: any */
	int access;   /* BPF_DEVCG_ACC_* bits */
};

static struct bpf_insn prog[MAX_INSNS];
static int n_insns;

static void emit(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
	prog[n_insns++] = (struct bpf_insn){.code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm};
}

static int fail(const char *what)
{
	fprintf(stderr, "cgroup-device-filter: %s: %s\n", what, strerror(errno));
	return 1;
}

static long parse_number(const char *s, const char **end)
{
	if (*s == '*') {
		*end = s + 1;
		return -1;
	}
	char *e;
	errno = 0;
	long n = strtol(s, &e, 10);
	if (e == s || errno != 0 || n < 0 || n > UINT32_MAX) {
		*end = NULL;
		return 0;
	}
	*end = e;
	return n;
}

/* "b 7:0 rwm" → rule; 0 on success. */
static int parse_rule(const char *text, struct rule *r)
{
	const char *p = text;
	switch (*p) {
	case 'a': r->type = 0; break;
	case 'b': r->type = BPF_DEVCG_DEV_BLOCK; break;
	case 'c': r->type = BPF_DEVCG_DEV_CHAR; break;
	default: return -1;
	}
	if (*++p != ' ') return -1;
	r->major = parse_number(p + 1, &p);
	if (p == NULL || *p != ':') return -1;
	r->minor = parse_number(p + 1, &p);
	if (p == NULL || *p != ' ' || p[1] == 0) return -1;
	r->access = 0;
	for (p++; *p; p++) {
		switch (*p) {
		case 'r': r->access |= BPF_DEVCG_ACC_READ; break;
		case 'w': r->access |= BPF_DEVCG_ACC_WRITE; break;
		case 'm': r->access |= BPF_DEVCG_ACC_MKNOD; break;
		default: return -1;
		}
	}
	return 0;
}

/*
 * The program: r2 = type, r3 = access, r4 = major, r5 = minor from struct bpf_cgroup_dev_ctx; then
 * one block per rule that jumps to the next block on any mismatch and returns 1 when all match; 0
 * (deny) at the end.
 */
static void build_program(const struct rule *rules, int n)
{
	const uint8_t ldxw = BPF_LDX | BPF_W | BPF_MEM;
	emit(ldxw, BPF_REG_2, BPF_REG_1, offsetof(struct bpf_cgroup_dev_ctx, access_type), 0);
	emit(BPF_ALU | BPF_AND | BPF_K, BPF_REG_2, 0, 0, 0xffff);
	emit(ldxw, BPF_REG_3, BPF_REG_1, offsetof(struct bpf_cgroup_dev_ctx, access_type), 0);
	emit(BPF_ALU | BPF_RSH | BPF_K, BPF_REG_3, 0, 0, 16);
	emit(ldxw, BPF_REG_4, BPF_REG_1, offsetof(struct bpf_cgroup_dev_ctx, major), 0);
	emit(ldxw, BPF_REG_5, BPF_REG_1, offsetof(struct bpf_cgroup_dev_ctx, minor), 0);
	const int all = BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD;
	for (int i = 0; i < n; i++) {
		const struct rule *r = &rules[i];
		int len = 2 + (r->type != 0) + (r->access != all ? 3 : 0) + (r->major >= 0) + (r->minor >= 0);
		int next = n_insns + len; /* the first instruction of the next block */
		const uint8_t jne = BPF_JMP32 | BPF_JNE | BPF_K;
		if (r->type != 0) emit(jne, BPF_REG_2, 0, next - n_insns - 1, r->type);
		if (r->access != all) {
			/* every access asked for must be in the rule's: asked & ~allowed == 0 */
			emit(BPF_ALU | BPF_MOV | BPF_X, BPF_REG_6, BPF_REG_3, 0, 0);
			emit(BPF_ALU | BPF_AND | BPF_K, BPF_REG_6, 0, 0, ~r->access & all);
			emit(jne, BPF_REG_6, 0, next - n_insns - 1, 0);
		}
		if (r->major >= 0) emit(jne, BPF_REG_4, 0, next - n_insns - 1, (int32_t)r->major);
		if (r->minor >= 0) emit(jne, BPF_REG_5, 0, next - n_insns - 1, (int32_t)r->minor);
		emit(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 1);
		emit(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	}
	emit(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0);
	emit(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
}

static int bpf(int cmd, union bpf_attr *attr)
{
	return (int)syscall(SYS_bpf, cmd, attr, sizeof *attr);
}

/* The device programs on the cgroup: their count, ids into `ids`, the attach flags into `flags`. */
static int query(int dir, uint32_t *ids, uint32_t *flags)
{
	union bpf_attr attr = {0};
	attr.query.target_fd = dir;
	attr.query.attach_type = BPF_CGROUP_DEVICE;
	attr.query.prog_ids = (uintptr_t)ids;
	attr.query.prog_cnt = MAX_ATTACHED;
	if (bpf(BPF_PROG_QUERY, &attr) != 0) return -1;
	*flags = attr.query.attach_flags;
	return (int)attr.query.prog_cnt;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: cgroup-device-filter <cgroup v2 directory> [\"<a|b|c> <major|*>:<minor|*> <rwm>\"...]\n");
		return 2;
	}
	static struct rule rules[MAX_RULES];
	int n = argc - 2;
	if (n > MAX_RULES) {
		fprintf(stderr, "cgroup-device-filter: %d rules, at most %d\n", n, MAX_RULES);
		return 2;
	}
	for (int i = 0; i < n; i++) {
		if (parse_rule(argv[i + 2], &rules[i]) != 0) {
			fprintf(stderr, "cgroup-device-filter: invalid rule %s: want \"<a|b|c> <major|*>:<minor|*> <rwm>\"\n", argv[i + 2]);
			return 2;
		}
	}
	build_program(rules, n);

	int dir = open(argv[1], O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	if (dir < 0) return fail(argv[1]);
	uint32_t old[MAX_ATTACHED], flags;
	int n_old = query(dir, old, &flags);
	if (n_old < 0) return fail("BPF_PROG_QUERY");

	static char log[65536];
	union bpf_attr load = {0};
	load.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	load.insns = (uintptr_t)prog;
	load.insn_cnt = (uint32_t)n_insns;
	load.license = (uintptr_t) "Apache";
	load.log_buf = (uintptr_t)log;
	load.log_size = sizeof log;
	load.log_level = 1;
	int fd = bpf(BPF_PROG_LOAD, &load);
	if (fd < 0) {
		fprintf(stderr, "cgroup-device-filter: BPF_PROG_LOAD: %s\n%s", strerror(errno), log);
		return 1;
	}

	/*
	 * Attached beside the old programs (all must allow, so access only narrows meanwhile), then the old
	 * ones go. A single program attached without BPF_F_ALLOW_MULTI is replaced in place instead.
	 */
	int multi = n_old == 0 || (flags & BPF_F_ALLOW_MULTI);
	union bpf_attr attach = {0};
	attach.target_fd = (uint32_t)dir;
	attach.attach_bpf_fd = (uint32_t)fd;
	attach.attach_type = BPF_CGROUP_DEVICE;
	attach.attach_flags = multi ? BPF_F_ALLOW_MULTI : 0;
	if (bpf(BPF_PROG_ATTACH, &attach) != 0) return fail("BPF_PROG_ATTACH");
	for (int i = 0; multi && i < n_old; i++) {
		union bpf_attr get = {0};
		get.prog_id = old[i];
		int old_fd = bpf(BPF_PROG_GET_FD_BY_ID, &get);
		if (old_fd < 0) {
			if (errno == ENOENT) continue; /* gone meanwhile */
			return fail("BPF_PROG_GET_FD_BY_ID");
		}
		union bpf_attr detach = {0};
		detach.target_fd = (uint32_t)dir;
		detach.attach_bpf_fd = (uint32_t)old_fd;
		detach.attach_type = BPF_CGROUP_DEVICE;
		if (bpf(BPF_PROG_DETACH, &detach) != 0 && errno != ENOENT) return fail("BPF_PROG_DETACH");
		close(old_fd);
	}
	int left = query(dir, old, &flags);
	if (left < 0) return fail("BPF_PROG_QUERY");
	printf("%d\n", left);
	return 0;
}
