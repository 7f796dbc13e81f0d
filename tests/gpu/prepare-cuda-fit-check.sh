#!/usr/bin/env bash
# Run on the BUILD machine (dotnet, npm, git, zstd, xz, cc) before tests/gpu/cuda-fit-check.sh on a GPU machine.
# Lays out output/cuda-fit/ (about 34 MB; carry it to the device; nothing in it is committed):
#   llama-cuda.tar.xz  node-llama-cpp's prebuilt CUDA 13 llama.cpp (@node-llama-cpp/linux-x64-cuda, llama.cpp release
#                      v0.5.0) with libggml-cuda.so's fat binaries cut to the compute_90 PTX (159 MB -> 24 MB packed;
#                      tests/gpu/cuda-fit/prune_fatbin.py says why and how)
#   llama-src.tar.xz   that release's sources (ggml, its CPU and CUDA backends, libllama), for a build on the device
#                      if the prebuilt library cannot run there
#   include/           llama.h and ggml's headers of that release, for tests/gpu/cuda-fit/llama-buffers.c
#   models/, expected.json   the Fit tests' models (GGUF headers; their data is a hole) and Gryphgen's estimates
#                      for every case, from tests/gpu/CudaFitCases with the real Gryphgen.Core
# and .cache/cuda-fit/ (ignored; it stays here, outside output/ so that output/ stays small enough to carry): the
# npm tarballs, the unpacked packages and llama-cpu.tar.xz (the CPU build of the same release).
# Then runs the whole check here on the CPU: bash tests/gpu/cuda-fit-check.sh --cpu.
# NODE_LLAMA_CPP_VERSION picks the npm release (default 3.22.1: llama.cpp v0.5.0, built with CUDA 13.1).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
version=${NODE_LLAMA_CPP_VERSION:-3.22.1}
cache=$root/.cache/cuda-fit
fit=$root/output/cuda-fit
for tool in npm git zstd xz cc readelf python3 dotnet; do
    command -v $tool >/dev/null || { echo "MISSING: $tool" >&2; exit 1; }
done
mkdir -p "$cache"
rm -rf "$fit" && mkdir -p "$fit/include"

echo "== npm packages (node-llama-cpp $version)"
for package in node-llama-cpp @node-llama-cpp/linux-x64 @node-llama-cpp/linux-x64-cuda; do
    tarball=$cache/$(echo "${package#@}" | tr / -)-$version.tgz
    if [ ! -s "$tarball" ]; then
        (cd "$cache" && npm pack --silent "$package@$version" >/dev/null)
    fi
    folder=${tarball%.tgz}
    [ -d "$folder/package" ] || { mkdir -p "$folder" && tar -xzf "$tarball" -C "$folder"; }
done
main=$cache/node-llama-cpp-$version/package
cpu_bins=$cache/node-llama-cpp-linux-x64-$version/package/bins/linux-x64
cuda_bins=$cache/node-llama-cpp-linux-x64-cuda-$version/package/bins/linux-x64-cuda
release=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["tag"])' "$main/llama/llama.cpp.info.json")
echo "llama.cpp release $release; CUDA build: $(cat "$cuda_bins/_nlcBuildMetadata.json")"

echo "== llama.cpp $release sources (node-llama-cpp's git bundle and patches)"
src=$cache/llama.cpp-$release
if [ ! -d "$src" ]; then
    git -c advice.detachedHead=false clone --quiet "$main/llama/gitRelease.bundle" "$src.tmp"
    for patch in "$main"/llama/patches/*.diff; do
        [ -e "$patch" ] && git -C "$src.tmp" apply "$patch"
    done
    mv "$src.tmp" "$src"
fi
cp "$src/include/llama.h" "$src"/ggml/include/*.h "$fit/include/"
(cd "$src" && tar -cf - CMakeLists.txt LICENSE cmake include src vendor licenses ggml/CMakeLists.txt ggml/cmake ggml/include \
    $(find ggml/src -maxdepth 1 -type f) ggml/src/ggml-cpu ggml/src/ggml-cuda) | xz -9 -T0 > "$fit/llama-src.tar.xz"

pack() { # name bins: copies libllama, libggml, libggml-base and the backend modules into .cache/cuda-fit/<name>
    local name=$1 bins=$2
    rm -rf "${cache:?}/$name" && mkdir -p "$cache/$name"
    cp "$bins"/libllama*.so "$bins"/libggml*.so "$cache/$name/"
    rm -f "$cache/$name/libllama-common.so"
}

echo "== CPU build -> .cache/cuda-fit/llama-cpu.tar.xz"
pack llama-cpu "$cpu_bins"
(cd "$cache" && tar -cf - llama-cpu | xz -6 -T0 > llama-cpu.tar.xz)

echo "== CUDA build: libggml-cuda.so cut to compute_90 -> output/cuda-fit/llama-cuda.tar.xz"
pack llama-cuda "$cuda_bins"
pruned=$cache/libggml-cuda.compute_90.so
if [ ! -s "$pruned" ] || [ "$pruned" -ot "$cuda_bins/libggml-cuda.so" ]; then
    python3 tests/gpu/cuda-fit/prune_fatbin.py "$cuda_bins/libggml-cuda.so" "$pruned.tmp" --keep ptx:90 --ptx-version 9.0
    mv "$pruned.tmp" "$pruned"
fi
cp "$pruned" "$cache/llama-cuda/libggml-cuda.so"
(cd "$cache" && tar -cf - llama-cuda | xz -9 -T0 > "$fit/llama-cuda.tar.xz")

echo "== models and expected estimates (tests/gpu/CudaFitCases)"
dotnet run --project tests/gpu/CudaFitCases -c Release -- "$fit" "$root/../shared/testdata/gguf/llama-2-tiny-random.gguf"

du -sh "$fit"/* && du -sh "$fit"
echo "== the whole check here, on the CPU build of the same release"
bash tests/gpu/cuda-fit-check.sh --cpu
