/*
 * What the host charges for the work a container's start is made of, apart from ts-container:
 * a system call, a process (fork, _exit, waitpid: the page tables copied and torn down), and a
 * new page of memory (its first write). On most hosts these are about 0.1 µs, 0.1-0.3 ms and
 * 0.3-1 µs; under a paravirtualized MMU or with memory handed back to the hypervisor they can
 * be ten times that, and every runtime's start (child_process.spawn's too) slows with them.
 *
 * Prints one JSON object: {"syscallUs":..,"forkUs":..,"newPageUs":..}, each a median.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ROUNDS 15
#define SYSCALLS_PER_ROUND 2000
#define PAGES_PER_ROUND 512

static double now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static int by_value(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *values) {
  qsort(values, ROUNDS, sizeof *values, by_value);
  return values[ROUNDS / 2];
}

int main(void) {
  double syscall_us[ROUNDS], fork_us[ROUNDS], page_us[ROUNDS];
  long page = sysconf(_SC_PAGESIZE);
  for (int round = 0; round < ROUNDS; round++) {
    double start = now_us();
    for (int i = 0; i < SYSCALLS_PER_ROUND; i++) syscall(SYS_getppid);
    syscall_us[round] = (now_us() - start) / SYSCALLS_PER_ROUND;

    start = now_us();
    pid_t pid = fork();
    if (pid == 0) _exit(0);
    if (pid < 0 || waitpid(pid, NULL, 0) != pid) return 1;
    fork_us[round] = now_us() - start;

    // A fresh mapping each round: every first write takes a page the process never had.
    volatile char *memory = mmap(NULL, PAGES_PER_ROUND * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (memory == MAP_FAILED) return 1;
    start = now_us();
    for (long i = 0; i < PAGES_PER_ROUND; i++) memory[i * page] = 1;
    page_us[round] = (now_us() - start) / PAGES_PER_ROUND;
    munmap((void *)memory, PAGES_PER_ROUND * page);
  }
  printf("{\"syscallUs\":%.3f,\"forkUs\":%.1f,\"newPageUs\":%.3f}\n", median(syscall_us), median(fork_us), median(page_us));
  return 0;
}
