# ./build.ps1 -Task Bench: every figure is a ratio against a baseline measured in this same run.
param(
    [Parameter(Mandatory)][string] $ModuleManifest,
    [string] $Configuration = 'Release',
    [int] $ImportRuns = 15
)
$ErrorActionPreference = 'Stop'
$pwsh = Join-Path $PSHOME ($IsWindows ? 'pwsh.exe' : 'pwsh')

function Measure-Median([scriptblock] $Action, [int] $Runs) {
    $times = foreach ($i in 1..$Runs) { (Measure-Command $Action).TotalMilliseconds }
    ($times | Sort-Object)[[int][math]::Floor($Runs / 2)]
}

# Import-Module cost beyond pwsh's own start-up: the same fresh process with and without the import.
& $pwsh -NoProfile -NonInteractive -Command "Import-Module '$ModuleManifest'" | Out-Null  # warm the disk cache
$bare = Measure-Median { & $pwsh -NoProfile -NonInteractive -Command 'exit 0' } $ImportRuns
$withModule = Measure-Median { & $pwsh -NoProfile -NonInteractive -Command "Import-Module '$ModuleManifest'; exit 0" } $ImportRuns
$inProcess = & $pwsh -NoProfile -NonInteractive -Command "(Measure-Command { Import-Module '$ModuleManifest' }).TotalMilliseconds"
Write-Host ('import: pwsh start-up median {0:N0} ms; with Import-Module {1:N0} ms; Import-Module costs {2:N0} ms beyond start-up (measured inside the process: {3:N0} ms); target < 300 ms' -f $bare, $withModule, ($withModule - $bare), [double]$inProcess)

# GGUF: headers/s against @huggingface/gguf on the same files in the same run, and a scan of a generated tree.
$benchProject = Join-Path (Split-Path -Parent $PSScriptRoot) 'bench/Gryphgen.Bench/Gryphgen.Bench.csproj'
& dotnet run -c $Configuration --project $benchProject -- gguf
if ($LASTEXITCODE -ne 0) { throw "Gryphgen.Bench gguf failed with exit code $LASTEXITCODE" }

# Fit: planning every released-model preset against llama.cpp sizing the same file (its own way to know), same run.
& dotnet run -c $Configuration --project $benchProject -- fit
if ($LASTEXITCODE -ne 0) { throw "Gryphgen.Bench fit failed with exit code $LASTEXITCODE" }

# FIFO: round trips against ../shared/bench/fifo_pingpong.c (cc -O2) in the same run, bulk and contended throughput.
& dotnet run -c $Configuration --project $benchProject -- fifo
if ($LASTEXITCODE -ne 0) { throw "Gryphgen.Bench fifo failed with exit code $LASTEXITCODE" }
# The C baseline's round trip depends on whether the scheduler puts its two processes on one CPU (no cross-CPU
# wake-up) or two; unpinned it lands either way from run to run. Everything pinned to one CPU compares like with like.
if ((Get-Command taskset -ErrorAction Ignore) -and [Environment]::ProcessorCount -gt 1) {
    $benchDll = Join-Path (Split-Path -Parent $benchProject) "bin/$Configuration/net10.0/Gryphgen.Bench.dll"
    & taskset -c 0 dotnet $benchDll fifo --round-trip-only --one-cpu
    if ($LASTEXITCODE -ne 0) { throw "Gryphgen.Bench fifo --round-trip-only failed with exit code $LASTEXITCODE" }
    # And one process on each of two CPUs (every cross-process wake-up crosses CPUs): the other fixed placement.
    & taskset -c 0 dotnet $benchDll fifo --round-trip-only --two-cpus
    if ($LASTEXITCODE -ne 0) { throw "Gryphgen.Bench fifo --round-trip-only --two-cpus failed with exit code $LASTEXITCODE" }
}
# A consumer that never releases its messages, or reads each Content (a new string of twice the bytes), gets
# fresh large-object memory per message, whose page faults and collections dominate; the same run with a raised
# LOH threshold shows what `export DOTNET_GCLOHThreshold=...` buys them.
$env:DOTNET_GCLOHThreshold = '0x8000000'
& dotnet run -c $Configuration --project $benchProject -- fifo --bulk-only
Remove-Item Env:DOTNET_GCLOHThreshold
if ($LASTEXITCODE -ne 0) { throw "Gryphgen.Bench fifo --bulk-only failed with exit code $LASTEXITCODE" }

# Cmdlets: one-way throughput of `1..N | Send-GryphMessage` into `Receive-GryphMessage -Continuous`, two pwsh
# processes. PowerShell's own per-item cost bounds both ends, so the same pipelines without Gryphgen run first
# as baselines: a script block per item (ForEach-Object) and a compiled cmdlet per item (Select-Object -Last 1,
# the receiver's sink below).
$messages = 200000
$forEach = $messages / (Measure-Command { 1..$messages | ForEach-Object { $_ } }).TotalSeconds
$compiled = $messages / (Measure-Command { 1..$messages | Select-Object -Last 1 }).TotalSeconds
Write-Host ('cmdlets baseline: 1..N | ForEach-Object {{ $_ }} {0:N0}/s; 1..N | Select-Object -Last 1 {1:N0}/s' -f $forEach, $compiled)
$pipeDirectory = Join-Path ([IO.Path]::GetTempPath()) "gryph-bench-$PID"
$env:GRYPHGEN_PIPE_DIR = $pipeDirectory
try {
    Import-Module $ModuleManifest
    $inbox = (New-GryphPipe -Name bench).Path
    $idleSeconds = 2
    $receiver = Start-Job -ScriptBlock {
        Import-Module $using:ModuleManifest
        $env:GRYPHGEN_PIPE_DIR = $using:pipeDirectory
        $last = Receive-GryphMessage -Name bench -Continuous -TimeoutSeconds $using:idleSeconds -ErrorVariable failures -ErrorAction SilentlyContinue |
            Select-Object -Last 1
        # The receiver stops $idleSeconds after the last message: that is when the last one arrived.
        [pscustomobject]@{ Last = $last.Content; LastArrival = [DateTime]::UtcNow.AddSeconds(-$using:idleSeconds); Errors = $failures.Count }
    }
    # Start sending once the receiver holds the pipe open, so its start-up is not counted as sending time.
    $ready = [DateTime]::UtcNow.AddSeconds(120)
    while (-not (Get-GryphPipe -Path $inbox).Readers) {
        if ([DateTime]::UtcNow -gt $ready) { throw 'the receiver job never opened the pipe' }
        Start-Sleep -Milliseconds 20
    }
    $sendStart = [DateTime]::UtcNow
    $sendSeconds = (Measure-Command { 1..$messages | Send-GryphMessage -To bench -TimeoutSeconds 120 }).TotalSeconds
    $result = $receiver | Wait-Job | Receive-Job
    $receivedSeconds = ($result.LastArrival - $sendStart).TotalSeconds
    Write-Host ('cmdlets: {0:N0} small messages sent in {1:N2} s ({2:N0}/s, {3:P0} of the ForEach-Object baseline); last received: message {4} of {0:N0} with {5} error(s), {6:N0}/s from the first send (target >= 100 000/s)' -f $messages, $sendSeconds, ($messages / $sendSeconds), ($messages / $sendSeconds / $forEach), $result.Last, $result.Errors, ($messages / [math]::Max($receivedSeconds, 1e-6)))
}
finally {
    Get-Job | Remove-Job -Force
    Remove-Item -Recurse -Force $pipeDirectory -ErrorAction SilentlyContinue
}

# NATS (issue 8): the same paths over a nats-server with JetStream on loopback, next to the FIFO figures above.
& dotnet run -c $Configuration --project $benchProject -- bus
if ($LASTEXITCODE -ne 0) { throw "Gryphgen.Bench bus failed with exit code $LASTEXITCODE" }
