/*
 * Test helper for the GPU-tagged Pester tests: holds some GPU memory so Get-GpuStatus must list this process.
 * It creates a CUDA context on purpose (Gryphgen itself never does). libcuda is opened with dlopen, so no
 * CUDA toolkit or headers are needed: only the driver. Build: cc -O1 -o hold-gpu-memory hold-gpu-memory.c -ldl
 * Usage: hold-gpu-memory [MiB=256] [seconds=60]; prints "ready <pid>" once the memory is allocated.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

typedef int (*cu_init_t)(unsigned int);
typedef int (*cu_device_get_t)(int *, int);
typedef int (*cu_ctx_create_t)(void **, unsigned int, int);
typedef int (*cu_mem_alloc_t)(unsigned long long *, size_t);

static void *symbol(void *lib, const char *name)
{
    void *s = dlsym(lib, name);
    if (s == NULL) {
        fprintf(stderr, "libcuda.so.1 lacks %s\n", name);
        exit(3);
    }
    return s;
}

int main(int argc, char **argv)
{
    size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 256;
    unsigned int seconds = argc > 2 ? (unsigned int)strtoul(argv[2], NULL, 10) : 60;
    void *lib = dlopen("libcuda.so.1", RTLD_NOW);
    if (lib == NULL) {
        fprintf(stderr, "cannot load libcuda.so.1: %s\n", dlerror());
        return 2;
    }

    cu_init_t cu_init = (cu_init_t)symbol(lib, "cuInit");
    cu_device_get_t cu_device_get = (cu_device_get_t)symbol(lib, "cuDeviceGet");
    cu_ctx_create_t cu_ctx_create = (cu_ctx_create_t)symbol(lib, "cuCtxCreate_v2");
    cu_mem_alloc_t cu_mem_alloc = (cu_mem_alloc_t)symbol(lib, "cuMemAlloc_v2");

    int device = 0;
    void *context = NULL;
    unsigned long long pointer = 0;
    int rc;
    if ((rc = cu_init(0)) != 0) { fprintf(stderr, "cuInit failed: %d\n", rc); return 4; }
    if ((rc = cu_device_get(&device, 0)) != 0) { fprintf(stderr, "cuDeviceGet failed: %d\n", rc); return 4; }
    if ((rc = cu_ctx_create(&context, 0, device)) != 0) { fprintf(stderr, "cuCtxCreate failed: %d\n", rc); return 4; }
    if ((rc = cu_mem_alloc(&pointer, mib << 20)) != 0) { fprintf(stderr, "cuMemAlloc failed: %d\n", rc); return 4; }

    printf("ready %d\n", (int)getpid());
    fflush(stdout);
    sleep(seconds);
    return 0;
}
