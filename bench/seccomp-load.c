/*
 * How long the kernel takes to install a seccomp program, and to run it for a syscall it does not
 * allow outright. Built by bench/seccomp-load.ts with the host's cc.
 *
 *   seccomp-load ROUNDS DENIED_NR FILE...   (each FILE: struct sock_filter[], as lib/seccomp emits)
 *
 * Per round and per file (files interleaved, so they see the same machine conditions), a fresh
 * child sets no_new_privs and times seccomp(SECCOMP_SET_MODE_FILTER) alone, then 2000 calls of
 * syscall DENIED_NR (a number the filter must evaluate: the kernel's per-arch cache only skips
 * the filter for syscalls it always allows). Prints per file: "<file> <load ns> <denied ns per call>",
 * the medians over the rounds.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CALLS 2000

static long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int cmp(const void *a, const void *b) {
  long long x = *(const long long *)a, y = *(const long long *)b;
  return x < y ? -1 : x > y;
}

static struct sock_fprog read_program(const char *path) {
  struct sock_fprog prog = {0, NULL};
  FILE *f = fopen(path, "rb");
  if (!f) { perror(path); exit(2); }
  static unsigned char buf[8 * 4096];
  size_t n = fread(buf, 1, sizeof buf, f);
  fclose(f);
  if (n == 0 || n % 8 != 0) { fprintf(stderr, "%s: bad length %zu\n", path, n); exit(2); }
  prog.len = (unsigned short)(n / 8);
  prog.filter = malloc(n);
  memcpy(prog.filter, buf, n);
  return prog;
}

/* One child: returns {load ns, ns per denied call} through the pipe. */
static int measure(const struct sock_fprog *prog, long denied_nr, long long out[2]) {
  int fds[2];
  if (pipe(fds) != 0) return -1;
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    long long r[2] = {-1, -1};
    close(fds[0]);
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0) {
      long long t0 = now_ns();
      long rc = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, prog);
      long long t1 = now_ns();
      if (rc == 0) {
        r[0] = t1 - t0;
        t0 = now_ns();
        for (int i = 0; i < CALLS; i++) syscall(denied_nr, 0, 0, 0, 0, 0, 0);
        r[1] = (now_ns() - t0) / CALLS;
      }
    }
    if (write(fds[1], r, sizeof r) != (ssize_t)sizeof r) _exit(3);
    _exit(0);
  }
  close(fds[1]);
  ssize_t n = read(fds[0], out, 2 * sizeof(long long));
  close(fds[0]);
  int status;
  waitpid(pid, &status, 0);
  return n == (ssize_t)(2 * sizeof(long long)) && out[0] >= 0 ? 0 : -1;
}

int main(int argc, char **argv) {
  if (argc < 4) { fprintf(stderr, "usage: %s ROUNDS DENIED_NR FILE...\n", argv[0]); return 2; }
  int rounds = atoi(argv[1]);
  long denied_nr = atol(argv[2]);
  int files = argc - 3;
  struct sock_fprog *progs = calloc(files, sizeof *progs);
  long long *load = calloc((size_t)files * rounds, sizeof *load);
  long long *call = calloc((size_t)files * rounds, sizeof *call);
  for (int f = 0; f < files; f++) progs[f] = read_program(argv[3 + f]);
  for (int r = 0; r < rounds; r++) {
    for (int f = 0; f < files; f++) {
      long long out[2];
      if (measure(&progs[f], denied_nr, out) != 0) { fprintf(stderr, "%s: seccomp(2) failed\n", argv[3 + f]); return 1; }
      load[f * rounds + r] = out[0];
      call[f * rounds + r] = out[1];
    }
  }
  for (int f = 0; f < files; f++) {
    qsort(load + f * rounds, rounds, sizeof *load, cmp);
    qsort(call + f * rounds, rounds, sizeof *call, cmp);
    printf("%s %lld %lld\n", argv[3 + f], load[f * rounds + rounds / 2], call[f * rounds + rounds / 2]);
  }
  return 0;
}
