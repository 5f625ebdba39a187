/*
 * Differential-test harness: builds a seccomp filter with libseccomp and exports its BPF.
 *
 *   harness build <profile.txt> <out.bpf>
 *       profile lines:
 *         default <action>                      (u32, kernel SECCOMP_RET_* value incl. data)
 *         arch <x86_64|x86|x32|aarch64>         (added besides the native arch)
 *         rule <action> <name> <n> {<index> <NE|LT|LE|EQ|GE|GT|MASKED_EQ> <a> <b>}*n
 *       rule errors are reported on stdout as "error <line> <name> <rc>" and skipped.
 *   harness resolve <arch> <name>...   prints "<name> <nr>" (nr -1 when unknown to libseccomp)
 */
#include <errno.h>
#include <inttypes.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

static uint32_t arch_token(const char *name) {
  if (!strcmp(name, "x86_64")) return SCMP_ARCH_X86_64;
  if (!strcmp(name, "x86") || !strcmp(name, "i386")) return SCMP_ARCH_X86;
  if (!strcmp(name, "x32")) return SCMP_ARCH_X32;
  if (!strcmp(name, "aarch64")) return SCMP_ARCH_AARCH64;
  if (!strcmp(name, "arm")) return SCMP_ARCH_ARM;
  fprintf(stderr, "unknown arch %s\n", name);
  exit(2);
}

static enum scmp_compare op_of(const char *s) {
  static const char *names[] = {"", "NE", "LT", "LE", "EQ", "GE", "GT", "MASKED_EQ"};
  for (int i = 1; i < 8; i++)
    if (!strcmp(s, names[i])) return (enum scmp_compare)i;
  fprintf(stderr, "unknown op %s\n", s);
  exit(2);
}

int main(int argc, char **argv) {
  if (argc >= 3 && !strcmp(argv[1], "resolve")) {
    uint32_t arch = arch_token(argv[2]);
    for (int i = 3; i < argc; i++) {
      int nr = seccomp_syscall_resolve_name_arch(arch, argv[i]);
      printf("%s %d\n", argv[i], nr < 0 ? -1 : nr);
    }
    return 0;
  }
  if (argc != 4 || strcmp(argv[1], "build")) {
    fprintf(stderr, "usage: %s build <profile> <out> | resolve <arch> <names...>\n", argv[0]);
    return 2;
  }
  FILE *in = fopen(argv[2], "r");
  if (!in) { perror(argv[2]); return 2; }
  scmp_filter_ctx ctx = NULL;
  char word[64], name[128];
  int line = 0;
  while (fscanf(in, "%63s", word) == 1) {
    line++;
    if (!strcmp(word, "default")) {
      uint32_t act;
      if (fscanf(in, "%" SCNu32, &act) != 1) return 2;
      ctx = seccomp_init(act);
      if (!ctx) { fprintf(stderr, "seccomp_init failed\n"); return 1; }
    } else if (!strcmp(word, "arch")) {
      if (fscanf(in, "%63s", word) != 1 || !ctx) return 2;
      uint32_t tok = arch_token(word);
      if (tok != seccomp_arch_native()) {
        int rc = seccomp_arch_add(ctx, tok);
        if (rc < 0) { fprintf(stderr, "seccomp_arch_add %s: %d\n", word, rc); return 1; }
      }
    } else if (!strcmp(word, "rule")) {
      uint32_t act;
      unsigned n;
      struct scmp_arg_cmp args[6];
      if (fscanf(in, "%" SCNu32 " %127s %u", &act, name, &n) != 3 || n > 6 || !ctx) return 2;
      for (unsigned i = 0; i < n; i++) {
        unsigned idx;
        uint64_t a, b;
        char op[16];
        if (fscanf(in, "%u %15s %" SCNu64 " %" SCNu64, &idx, op, &a, &b) != 4) return 2;
        args[i].arg = idx;
        args[i].op = op_of(op);
        args[i].datum_a = a;
        args[i].datum_b = b;
      }
      int nr = seccomp_syscall_resolve_name(name);
      if (nr == __NR_SCMP_ERROR) { printf("unknown %d %s\n", line, name); continue; }
      int rc = seccomp_rule_add_array(ctx, act, nr, n, args);
      if (rc < 0) printf("error %d %s %d\n", line, name, rc);
    } else {
      fprintf(stderr, "bad line %d: %s\n", line, word);
      return 2;
    }
  }
  int fd = open(argv[3], O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) { perror(argv[3]); return 2; }
  int rc = seccomp_export_bpf(ctx, fd);
  if (rc < 0) { fprintf(stderr, "seccomp_export_bpf: %d\n", rc); return 1; }
  close(fd);
  seccomp_release(ctx);
  return 0;
}
