/* The round trip of fifo_pingpong.c (../shared/bench), but waiting as Gryphgen does: no thread may stay blocked
 * in read(2), and no read may take bytes past the frame it is reading. So each side opens its FIFOs non-blocking,
 * tries its read for up to 50 us (Gryphgen's adaptive busy polling, src/Gryphgen.Core/Fifo/BusyPoll.cs: a try that
 * finds nothing makes the next 1, 2, 4 ... 256 waits skip it), otherwise waits with poll(2) on the FIFO and an
 * eventfd (Gryphgen's cancellation wake-up), then reads a 32-byte prefix and the rest of the frame in a second
 * read. Bench prints it beside fifo_pingpong.c: the cost and gain of the discipline before any managed code runs.
 * Usage: fifo_pingpong_poll [round_trips] [message_bytes] [spin_us]; prints the same fields as fifo_pingpong.c. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { PREFIX_BYTES = 32 };

static double now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static void fail(const char *what) { perror(what); exit(1); }

/* Reads exactly n bytes, waiting in poll(2) whenever the FIFO is empty. */
static void read_waiting(int fd, int wake_fd, char *buf, size_t n) {
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r > 0) { got += (size_t)r; continue; }
        if (r == 0) { fprintf(stderr, "read: writer gone\n"); exit(1); }
        if (errno != EAGAIN && errno != EINTR) fail("read");
        struct pollfd fds[2] = { { fd, POLLIN, 0 }, { wake_fd, POLLIN, 0 } };
        if (poll(fds, 2, 30000) <= 0) fail("poll");
    }
}

static double spin_us = 50;
static int skip_for, skip_left;

/* Tries to read the first bytes of a frame until the spin budget runs out; how many it got (0: none came). */
static size_t spin_for_prefix(int fd, char *buf) {
    if (spin_us <= 0) return 0;
    if (skip_left > 0) { skip_left--; return 0; }
    double until = now_us() + spin_us;
    do {
        ssize_t r = read(fd, buf, PREFIX_BYTES);
        if (r > 0) { skip_for = 0; return (size_t)r; }
        if (r == 0) break; /* no writer yet (or gone): poll(2) tells which */
        if (errno != EAGAIN && errno != EINTR) fail("read");
    } while (now_us() < until);
    skip_for = skip_for ? (skip_for * 2 > 256 ? 256 : skip_for * 2) : 1;
    skip_left = skip_for;
    return 0;
}

/* One frame: spin or wait, then the prefix and the rest in two reads, never past the frame. */
static void receive_frame(int fd, int wake_fd, char *buf, size_t size) {
    size_t got = spin_for_prefix(fd, buf);
    if (got == 0) {
        struct pollfd fds[2] = { { fd, POLLIN, 0 }, { wake_fd, POLLIN, 0 } };
        if (poll(fds, 2, 30000) <= 0) fail("poll");
    }
    read_waiting(fd, wake_fd, buf + got, PREFIX_BYTES - got);
    read_waiting(fd, wake_fd, buf + PREFIX_BYTES, size - PREFIX_BYTES);
}

static void send_frame(int fd, const char *buf, size_t size) {
    size_t put = 0;
    while (put < size) {
        ssize_t w = write(fd, buf + put, size - put);
        if (w > 0) { put += (size_t)w; continue; }
        if (w < 0 && errno != EAGAIN && errno != EINTR) fail("write");
        struct pollfd out = { fd, POLLOUT, 0 };
        if (poll(&out, 1, 30000) <= 0) fail("poll");
    }
}

/* Opens for writing without blocking in open(2): a reader must appear first. */
static int open_writer(const char *path) {
    for (;;) {
        int fd = open(path, O_WRONLY | O_NONBLOCK);
        if (fd >= 0) return fd;
        if (errno != ENXIO) fail("open");
        struct timespec pause = { 0, 1000000 };
        nanosleep(&pause, NULL);
    }
}

static int by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 100000;
    size_t size = argc > 2 ? (size_t)atol(argv[2]) : 64;
    if (argc > 3) spin_us = atof(argv[3]);
    if (size < PREFIX_BYTES + 1) size = PREFIX_BYTES + 1;
    char dir[] = "/tmp/pingpongpollXXXXXX";
    if (!mkdtemp(dir)) fail("mkdtemp");
    char a2b[256], b2a[256];
    snprintf(a2b, sizeof a2b, "%s/a2b", dir);
    snprintf(b2a, sizeof b2a, "%s/b2a", dir);
    if (mkfifo(a2b, 0600) || mkfifo(b2a, 0600)) fail("mkfifo");
    char *buf = calloc(1, size);
    int wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (!buf || wake_fd < 0) fail("setup");
    pid_t pid = fork();
    if (pid == 0) {
        int in = open(a2b, O_RDONLY | O_NONBLOCK), out = open_writer(b2a);
        if (in < 0) fail("open");
        for (long i = 0; i < n; i++) { receive_frame(in, wake_fd, buf, size); send_frame(out, buf, size); }
        _exit(0);
    }
    int in = open(b2a, O_RDONLY | O_NONBLOCK), out = open_writer(a2b);
    if (in < 0) fail("open");
    double *latencies = malloc(sizeof(double) * n);
    double start = now_us();
    for (long i = 0; i < n; i++) {
        double s = now_us();
        send_frame(out, buf, size);
        receive_frame(in, wake_fd, buf, size);
        latencies[i] = now_us() - s;
    }
    double total = now_us() - start;
    waitpid(pid, NULL, 0);
    unlink(a2b); unlink(b2a); rmdir(dir);
    qsort(latencies, n, sizeof(double), by_value);
    printf("round_trips=%ld bytes=%zu per_second=%.0f p50_us=%.2f p99_us=%.2f\n",
           n, size, n / (total / 1e6), latencies[n / 2], latencies[(long)(n * 0.99)]);
    return 0;
}
