# Replaces find_gpu_models.sh: which models in the usual folders run on this GPU, and how.
# The original searched ~/models, ~/.cache/lm-studio, /mnt/models and /opt/models with --max-size 14GB and judged
# "fits" as file size + 500 MiB <= 90 % of a hard-coded 16 GiB. This asks the estimate what llama.cpp allocates.
# Run: dotnet pwsh ./examples/find_gpu_models.ps1 [-GpuName 'RTX 4080'] [-MemoryBytes 16GB]   (after ./build.ps1 -Task Build)
# Without -GpuName / -MemoryBytes it plans for the free memory of the GPUs Get-GpuStatus finds.
param(
    [string[]] $Path = @('~/models', '~/.cache/lm-studio', '/mnt/models', '/opt/models'),
    [long] $MaxSize = 14GB,
    [string] $GpuName,
    [long] $MemoryBytes,
    [int] $ContextLength = 4096,
    [string] $ModuleManifest = (Get-ChildItem "$PSScriptRoot/../output/Gryphgen" -Filter Gryphgen.psd1 -Recurse | Select-Object -First 1).FullName
)
$ErrorActionPreference = 'Stop'
Import-Module $ModuleManifest

$folders = @($Path | ForEach-Object { $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($_) } | Where-Object { Test-Path $_ })
if ($folders.Count -eq 0) {
    Write-Warning "None of $($Path -join ', ') exists; nothing to search."
    return
}

$target = if ($GpuName) { @{ GpuName = $GpuName } } elseif ($MemoryBytes) { @{ MemoryBytes = $MemoryBytes } } else { @{} }
Find-GgufModel -Path $folders -MaxSize $MaxSize |
    Select-ModelForGpu @target -ContextLength $ContextLength
