/* LD_PRELOAD shim for Bench: after fork(2) the child moves to the CPU named by GRYPH_CHILD_CPU, while the parent
 * stays where taskset put it. So a baseline that forks its peer (fifo_pingpong.c, fifo_pingpong_poll.c) runs with
 * one process on each of two given CPUs, the placement Bench compares Gryphgen in, without changing its source.
 * Build: cc -O2 -shared -fPIC -o pin_after_fork.so pin_after_fork.c */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>

static void move_child(void) {
    const char *cpu = getenv("GRYPH_CHILD_CPU");
    if (cpu == NULL) return;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(atoi(cpu), &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0) perror("pin_after_fork: sched_setaffinity");
}

__attribute__((constructor)) static void install(void) { pthread_atfork(NULL, NULL, move_child); }
