# Starts a process that holds GPU memory (hold-gpu-memory.c, compiled with cc, or hold_gpu_memory.py through
# python3) and waits until it has allocated. Returns Process and PidsBefore (the GPU 0 process ids seen before),
# or writes a warning and returns nothing when neither helper can run.
param([int] $MiB = 256, [int] $Seconds = 60)

$before = @((Get-GpuStatus -Source Nvml -Index 0).Processes.Pid)
$psi = $null
$cc = Get-Command cc, gcc, clang -ErrorAction Ignore | Select-Object -First 1
if ($cc) {
    $binary = Join-Path ([IO.Path]::GetTempPath()) "gryphgen-hold-gpu-memory-$PID"
    & $cc.Source -O1 -o $binary (Join-Path $PSScriptRoot 'hold-gpu-memory.c') -ldl
    if ($LASTEXITCODE -eq 0) { $psi = [System.Diagnostics.ProcessStartInfo]::new($binary) }
}
if (-not $psi -and ($python = Get-Command python3 -ErrorAction Ignore)) {
    $psi = [System.Diagnostics.ProcessStartInfo]::new($python.Source)
    $psi.ArgumentList.Add((Join-Path $PSScriptRoot 'hold_gpu_memory.py'))
}
if (-not $psi) { Write-Warning 'Neither cc nor python3 is available to start a GPU memory holder.'; return }

$psi.ArgumentList.Add([string] $MiB)
$psi.ArgumentList.Add([string] $Seconds)
$psi.RedirectStandardOutput = $true
$psi.RedirectStandardError = $true
$psi.UseShellExecute = $false
$process = [System.Diagnostics.Process]::Start($psi)
$line = $process.StandardOutput.ReadLineAsync()
if (-not $line.Wait([TimeSpan]::FromSeconds(30)) -or $line.Result -notlike 'ready*') {
    $process | Stop-Process -Force -ErrorAction Ignore
    Write-Warning "The GPU memory holder did not start: $($process.StandardError.ReadToEnd())"
    return
}
Start-Sleep -Milliseconds 500 # NVML lists a new context's process after a moment
[pscustomobject]@{ Process = $process; PidsBefore = $before }
