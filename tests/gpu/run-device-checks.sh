#!/usr/bin/env bash
# The GPU device checks of issue 5, as one script for a lent GPU machine. Run from anywhere:
#     bash tests/gpu/run-device-checks.sh
# Prepare on the build machine first (the device has no network): tests/gpu/prepare-device-checks.sh builds
# output/Gryphgen/<version>/ and copies Pester (and, if it can be built, a self-contained checker that needs
# neither dotnet nor pwsh) into output/device-tools/. Carry "output" to the device.
# Prints the raw nvidia-smi outputs for the record, then runs the GPU-tagged Pester tests with whatever
# PowerShell it finds (pwsh, dotnet pwsh, $GRYPHGEN_PWSH), then the self-contained checker if present.
# Exit status: 0 when every check that could run passed and at least one ran; 1 otherwise.
set -u
cd "$(dirname "$0")/../.." || exit 1
root=$(pwd)
status=0
ran=0

section() { printf '\n===== %s =====\n' "$*"; }

section "machine"
uname -a
date -u
command -v nvidia-smi >/dev/null || { echo "MISSING: nvidia-smi is not on PATH: no NVIDIA driver here."; exit 1; }

section "nvidia-smi"
nvidia-smi
section "nvidia-smi -L"
nvidia-smi -L
section "nvidia-smi --query-gpu (the fields Gryphgen asks for)"
nvidia-smi --query-gpu=index,name,uuid,memory.total,memory.used,memory.free,memory.reserved,utilization.gpu,utilization.memory,temperature.gpu,power.draw,power.limit,fan.speed,clocks.sm,clocks.mem,pstate,driver_version --format=csv
section "nvidia-smi --query-compute-apps"
nvidia-smi --query-compute-apps=gpu_uuid,pid,process_name,used_gpu_memory --format=csv
section "nvidia-smi -q -x | head -60"
nvidia-smi -q -x | head -60
section "libraries"
ls -l /usr/lib/x86_64-linux-gnu/libnvidia-ml.so* /usr/lib64/libnvidia-ml.so* 2>/dev/null
ldconfig -p 2>/dev/null | grep -E 'libnvidia-ml|libcuda\.so' || echo "(ldconfig lists no libnvidia-ml / libcuda)"
for tool in cc gcc python3 dotnet pwsh; do printf '%-8s %s\n' "$tool" "$(command -v $tool || echo MISSING)"; done

section "built module"
manifest=$(ls "$root"/output/Gryphgen/*/Gryphgen.psd1 2>/dev/null | head -n 1)
if [ -z "$manifest" ]; then
    echo "MISSING: output/Gryphgen/<version>/Gryphgen.psd1. Run tests/gpu/prepare-device-checks.sh on the build machine and carry 'output'."
else
    echo "$manifest"
fi

section "PowerShell"
pwsh_cmd=()
if [ -n "${GRYPHGEN_PWSH:-}" ] && [ -x "$GRYPHGEN_PWSH" ]; then
    pwsh_cmd=("$GRYPHGEN_PWSH")
elif command -v pwsh >/dev/null; then
    pwsh_cmd=(pwsh)
elif command -v dotnet >/dev/null && dotnet tool restore >/dev/null 2>&1 && dotnet pwsh -NoProfile -Command '$PSVersionTable.PSVersion' >/dev/null 2>&1; then
    pwsh_cmd=(dotnet pwsh)
fi
if [ ${#pwsh_cmd[@]} -eq 0 ]; then
    echo "MISSING: no PowerShell 7.4+: neither \$GRYPHGEN_PWSH, pwsh, nor 'dotnet pwsh' (dotnet: $(command -v dotnet || echo missing)). Pester GPU tests NOT run."
elif [ -z "$manifest" ]; then
    echo "Pester GPU tests NOT run: the built module is missing."
else
    echo "using: ${pwsh_cmd[*]} ($("${pwsh_cmd[@]}" -NoProfile -Command '$PSVersionTable.PSVersion.ToString()'))"
    pester=$(ls "$root"/output/device-tools/Pester/Pester.psd1 2>/dev/null | head -n 1)
    section "Pester -Tag GPU (tests/GetGpuStatus.Tests.ps1)"
    "${pwsh_cmd[@]}" -NoProfile -NonInteractive -Command "
        \$ErrorActionPreference = 'Stop'
        if ('$pester') { Import-Module '$pester' } else { Import-Module Pester -MinimumVersion 5.0 }
        \$c = New-PesterConfiguration
        \$c.Run.Path = '$root/tests/GetGpuStatus.Tests.ps1'
        \$c.Run.PassThru = \$true
        \$c.Filter.Tag = 'GPU'
        \$c.Output.Verbosity = 'Detailed'
        \$c.Output.RenderMode = 'Plaintext'
        \$r = Invoke-Pester -Configuration \$c
        'GPU Pester: {0} passed, {1} failed, {2} skipped' -f \$r.PassedCount, \$r.FailedCount, (\$r.SkippedCount + \$r.NotRunCount)
        if (\$r.FailedCount -gt 0 -or \$r.PassedCount -eq 0) { exit 1 }
    "
    rc=$?
    ran=1
    [ $rc -eq 0 ] || status=1

    section "Get-GpuStatus as a user sees it"
    "${pwsh_cmd[@]}" -NoProfile -NonInteractive -Command "
        Import-Module '$manifest'
        Get-GpuStatus | Format-Table | Out-String -Width 160
        Get-GpuStatus -Index 0 | Format-List *
        Get-GpuStatus -Index 0 | ConvertTo-Json -Depth 4 -EnumsAsStrings
    "
fi

checker="$root/output/device-tools/gpu-check/Gryphgen.GpuDeviceCheck"
section "self-contained checker (no dotnet or pwsh needed)"
if [ -x "$checker" ]; then
    "$checker" "$root/tests/gpu"
    rc=$?
    ran=1
    [ $rc -eq 0 ] || status=1
else
    echo "not present ($checker); prepare-device-checks.sh builds it where the .NET runtime pack can be restored."
fi

section "result"
if [ $ran -eq 0 ]; then
    echo "NOTHING RAN: see the MISSING lines above."
    exit 1
fi
[ $status -eq 0 ] && echo "ALL GPU CHECKS PASSED" || echo "SOME GPU CHECKS FAILED"
exit $status
