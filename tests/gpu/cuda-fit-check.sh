#!/usr/bin/env bash
# Issue 6: Gryphgen's memory estimate (Select-ModelForGpu) against the buffers a CUDA build of llama.cpp allocates,
# as ONE command on a lent GPU machine (no dotnet, no node, no network needed there). Run from anywhere:
#     bash tests/gpu/cuda-fit-check.sh            # on the GPU machine: n_gpu_layers = all, CUDA0 buffers
#     bash tests/gpu/cuda-fit-check.sh --cpu      # on the build machine: the same pipeline with the CPU build
# Prepare first, on the build machine: bash tests/gpu/prepare-cuda-fit-check.sh. It lays out output/cuda-fit/
# (carry that path, about 34 MB): node-llama-cpp's prebuilt CUDA llama.cpp with its fat binaries pruned to the
# compute_90 PTX, the same release's headers and sources, the Fit tests' models as GGUF headers, and expected.json
# (Gryphgen's estimates, computed there with Gryphgen.Core).
# Steps: unpack llama.cpp, compile tests/gpu/cuda-fit/llama-buffers.c against it with cc, grow the model headers
# back into the sparse files they were, load one model on the GPU as a smoke test; if the prebuilt library cannot
# run here (the CUDA runtime or driver refuses it), build the carried sources with nvcc for compute_90 instead
# (a few minutes, CUDA_FIT_BUILD_TIMEOUT seconds at most); then compare_fit.py loads every case and prints one
# [PASS]/[FAIL] line per model, context, cache type and flash-attention setting.
# Results go to $OUT (the device tool's folder) or output/cuda-fit-results/: cuda-fit-run.log (this console),
# cuda-fit-<mode>.log (all llama.cpp printed), cuda-fit-<mode>-summary.txt/.json, cuda-fit-build.log if it built.
# Exit status: 0 when every case passed.
set -u
cd "$(dirname "$0")/../.." || exit 1
root=$(pwd)
mode=cuda
force_source=0
for arg in "$@"; do
    case $arg in
        --cpu) mode=cpu ;;
        --build-from-source) force_source=1 ;;
        *) echo "usage: $0 [--cpu] [--build-from-source]" >&2; exit 2 ;;
    esac
done
fit=$root/output/cuda-fit
out=${OUT:-$root/output/cuda-fit-results}
work=${CUDA_FIT_WORK:-${TMPDIR:-/tmp}/gryph-cuda-fit-$mode}
mkdir -p "$out"
rm -rf "$work" && mkdir -p "$work" || exit 1
started=$(date +%s)

section() { printf '\n===== %s (%ss) =====\n' "$*" "$(( $(date +%s) - started ))"; }
unpack() { # archive folder: tar with xz where it exists, else Python's tarfile
    tar -xJf "$1" -C "$2" 2>/dev/null || python3 -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' "$1" "$2"
}

main() {
    section "machine ($mode)"
    uname -a
    date -u
    echo "cores: $(nproc)"
    command -v nvcc >/dev/null || [ ! -x /usr/local/cuda/bin/nvcc ] || export PATH=$PATH:/usr/local/cuda/bin
    for tool in cc nvcc cmake ninja python3 nvidia-smi; do printf '%-10s %s\n' "$tool" "$(command -v $tool || echo MISSING)"; done
    if [ "$mode" = cuda ]; then
        nvidia-smi --query-gpu=index,name,memory.total,memory.used,driver_version --format=csv || { echo "MISSING: nvidia-smi / no NVIDIA driver"; exit 1; }
        nvcc --version 2>/dev/null | tail -n 2
    fi

    section "inputs"
    if [ "$mode" = cuda ]; then archive=$fit/llama-cuda.tar.xz; else archive=$root/.cache/cuda-fit/llama-cpu.tar.xz; fi
    for need in "$fit/expected.json" "$fit/models" "$fit/include/llama.h" "$archive"; do
        [ -e "$need" ] || { echo "MISSING: $need. Run bash tests/gpu/prepare-cuda-fit-check.sh on the build machine and carry output/cuda-fit."; exit 1; }
    done
    ls -l "$fit" "$archive"

    section "llama.cpp"
    unpack "$archive" "$work" || { echo "cannot unpack $archive"; exit 1; }
    libdir=$(dirname "$(ls "$work"/*/libllama*.so | head -n 1)")
    echo "prebuilt llama.cpp in $libdir"
    if [ "$mode" = cuda ]; then
        # libggml-cuda.so needs libcudart.so.13 and libcublas.so.13: the toolkit's, or the ones PyTorch's wheels bring.
        dirs=$(ls -d /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib /usr/local/cuda-13*/lib64 2>/dev/null)
        dirs="$dirs $(python3 - 2>/dev/null <<'PY'
import glob, os, site, sys
roots = set(site.getsitepackages() + [site.getusersitepackages()] + [p for p in sys.path if p.endswith("-packages")])
found = set()
for r in roots:
    for lib in glob.glob(os.path.join(r, "nvidia", "**", "libcu*.so.13*"), recursive=True):
        found.add(os.path.dirname(lib))
print(" ".join(sorted(found)))
PY
    )"
        for d in $dirs; do LD_LIBRARY_PATH=${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}$d; done
        export LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}
        echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
        # Kernels are only compiled when launched; loading a model and creating a context launch none.
        export CUDA_MODULE_LOADING=LAZY
        ldd "$libdir/libggml-cuda.so" | grep -E 'cudart|cublas|libcuda|not found'
        # ggml skips a backend it cannot load without saying why; dlopen says (a missing library or symbol).
        python3 -c 'import ctypes, sys; ctypes.CDLL(sys.argv[1]); print("dlopen libggml-cuda.so: ok")' "$libdir/libggml-cuda.so" 2>&1 | tail -n 1
    fi

    build_harness() { # libdir, backend-dir argument
        local llama ggml
        llama=$(ls "$1"/libllama*.so | head -n 1)
        ggml=$(ls "$1"/libggml.*so "$1"/libggml.so 2>/dev/null | head -n 1)
        cc -O1 -Wall -Wextra -o "$work/llama-buffers" "$root/tests/gpu/cuda-fit/llama-buffers.c" \
            -I"$fit/include" "$llama" "$ggml" "$1/libggml-base.so" -Wl,-rpath,"$1" || return 1
        backends=$2
    }
    build_harness "$libdir" "$libdir" || { echo "cannot compile the harness"; exit 1; }

    section "models"
    python3 - "$fit" "$work/models" <<'PY' || exit 1
import json, os, shutil, sys
fit, models = sys.argv[1], sys.argv[2]
os.makedirs(models, exist_ok=True)
for m in json.load(open(os.path.join(fit, "expected.json")))["models"]:
    source = os.path.join(fit, "models", m["file"])
    target = os.path.join(models, m["file"][:-5] if m["file"].endswith(".head") else m["file"])
    shutil.copyfile(source, target)
    if m["sparse"]:
        os.truncate(target, m["length"])  # the tensor data was a hole (all zeros): grow the header back into the file
    print(f"{os.path.basename(target)}: {os.path.getsize(target)} bytes ({os.path.getsize(source)} carried)")
PY

    smoke() { # one fully offloaded load of the tiny model; on CUDA it must place the weights in CUDA0
        "$work/llama-buffers" "$backends" "$work/models/tiny.gguf" 512 f16 1 99 > "$work/smoke.log" 2>&1
        local rc=$?
        grep -E 'llama-buffers|buffer size|CUDA error|error|failed' "$work/smoke.log" | head -n 20
        [ $rc -eq 0 ] || return 1
        [ "$mode" = cpu ] || grep -q 'CUDA0 model buffer size' "$work/smoke.log"
    }

    section "smoke test"
    if [ $force_source -eq 0 ] && smoke; then
        echo "prebuilt llama.cpp works here"
    elif [ "$mode" = cuda ]; then
        [ $force_source -eq 1 ] || { echo "prebuilt llama.cpp cannot run here (above); building the carried sources instead"; tail -n 15 "$work/smoke.log"; }
        section "build llama.cpp for compute_90 (nvcc $(nvcc --version | sed -n 's/.*release \([0-9.]*\).*/\1/p'))"
        mkdir -p "$work/src" && unpack "$fit/llama-src.tar.xz" "$work/src" || { echo "cannot unpack the sources"; exit 1; }
        # 90-virtual: PTX only (no ptxas pass); nothing here launches a kernel, and one that did would be JIT-compiled.
        cmake -S "$work/src" -B "$work/src/build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=ON \
            -DGGML_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90-virtual -DGGML_BACKEND_DL=OFF -DGGML_NATIVE=ON -DGGML_CCACHE=OFF \
            -DLLAMA_BUILD_COMMON=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_EXAMPLES=OFF \
            -DLLAMA_BUILD_SERVER=OFF -DLLAMA_BUILD_APP=OFF -DLLAMA_OPENSSL=OFF > "$out/cuda-fit-build.log" 2>&1 &&
        timeout "${CUDA_FIT_BUILD_TIMEOUT:-420}" cmake --build "$work/src/build" -j "$(nproc)" >> "$out/cuda-fit-build.log" 2>&1
        rc=$?
        tail -n 5 "$out/cuda-fit-build.log"
        [ $rc -eq 0 ] || { echo "BUILD FAILED (rc=$rc; 124 = over CUDA_FIT_BUILD_TIMEOUT)"; exit 1; }
        libdir=$work/src/build/bin
        build_harness "$libdir" - || { echo "cannot compile the harness against the built llama.cpp"; exit 1; }
        smoke || { echo "the built llama.cpp does not run either"; tail -n 30 "$work/smoke.log"; exit 1; }
    else
        tail -n 30 "$work/smoke.log"
        exit 1
    fi

    section "compare ($mode)"
    python3 "$root/tests/gpu/cuda-fit/compare_fit.py" --mode "$mode" --harness "$work/llama-buffers" --backend-dir "$backends" \
        --models "$work/models" --expected "$fit/expected.json" --out "$out"
    status=$?
    [ "$mode" = cuda ] && nvidia-smi --query-gpu=memory.used --format=csv
    section "result"
    echo "llama.cpp: $libdir; results in $out"
    [ $status -eq 0 ] && echo "CUDA FIT CHECK ($mode): ALL PASSED" || echo "CUDA FIT CHECK ($mode): SOME FAILED"
    return $status
}

# The console goes to the reply and to cuda-fit-run.log; a pipeline (not exec > >(tee)) so that tee has
# written everything before the script returns.
main 2>&1 | tee "$out/cuda-fit-run.log"
exit "${PIPESTATUS[0]}"
