#!/usr/bin/env bash
# Run on the BUILD machine (which has dotnet and NuGet) before the GPU device checks. Lays out, under output/:
#   output/Gryphgen/<version>/          the built module (build.ps1 -Task Build)
#   output/device-tools/Pester/         Pester 5 from the NuGet cache (the device cannot download it)
#   output/device-tools/gpu-check/      a self-contained, trimmed Gryphgen.GpuDeviceCheck (~18 MB): the same
#                                       checks without dotnet or pwsh on the device
# Then carry "output" to the device and run: bash tests/gpu/run-device-checks.sh
set -euo pipefail
cd "$(dirname "$0")/../.."

dotnet tool restore >/dev/null
dotnet pwsh -NoProfile -File ./build.ps1 -Task Build

mkdir -p output/device-tools
packages=$(dotnet nuget locals global-packages --list | sed 's/^global-packages:[[:space:]]*//')
pester=$(ls -d "$packages"/pester/5.*/tools 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$pester" ]; then
    dotnet restore tools/ToolPackages/ToolPackages.csproj --verbosity quiet
    pester=$(ls -d "$packages"/pester/5.*/tools | sort -V | tail -n 1)
fi
rm -rf output/device-tools/Pester
cp -r "$pester" output/device-tools/Pester
echo "Pester: $pester -> output/device-tools/Pester"

if dotnet publish tests/gpu/DeviceCheck -c Release -r linux-x64 --self-contained \
        -p:PublishTrimmed=true -p:PublishSingleFile=true -p:DebugType=none --nologo --verbosity quiet \
        -o output/device-tools/gpu-check; then
    echo "Checker: output/device-tools/gpu-check/Gryphgen.GpuDeviceCheck"
else
    echo "WARNING: the self-contained checker could not be published; the device will need pwsh for the checks." >&2
fi
du -sh output
