#!/usr/bin/env python3
"""Fallback of hold-gpu-memory.c where no C compiler is installed: the same CUDA driver calls through ctypes.

Holds GPU memory so Get-GpuStatus must list this process. Usage: hold_gpu_memory.py [MiB=256] [seconds=60].
"""
import ctypes
import os
import sys
import time


def main() -> int:
    mib = int(sys.argv[1]) if len(sys.argv) > 1 else 256
    seconds = int(sys.argv[2]) if len(sys.argv) > 2 else 60
    try:
        cuda = ctypes.CDLL("libcuda.so.1")
    except OSError as error:
        print(f"cannot load libcuda.so.1: {error}", file=sys.stderr)
        return 2
    device = ctypes.c_int()
    context = ctypes.c_void_p()
    pointer = ctypes.c_ulonglong()
    for name, call in (
        ("cuInit", lambda: cuda.cuInit(0)),
        ("cuDeviceGet", lambda: cuda.cuDeviceGet(ctypes.byref(device), 0)),
        ("cuCtxCreate_v2", lambda: cuda.cuCtxCreate_v2(ctypes.byref(context), 0, device)),
        ("cuMemAlloc_v2", lambda: cuda.cuMemAlloc_v2(ctypes.byref(pointer), ctypes.c_size_t(mib << 20))),
    ):
        rc = call()
        if rc != 0:
            print(f"{name} failed: {rc}", file=sys.stderr)
            return 4
    print(f"ready {os.getpid()}", flush=True)
    time.sleep(seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
