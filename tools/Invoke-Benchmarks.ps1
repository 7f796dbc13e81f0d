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

# FIFO: round trips against ../shared/bench/fifo_pingpong.c (cc -O2) in the same run, bulk and contended throughput.
& dotnet run -c $Configuration --project $benchProject -- fifo
if ($LASTEXITCODE -ne 0) { throw "Gryphgen.Bench fifo failed with exit code $LASTEXITCODE" }
# Each message over 85 KB becomes a string on .NET's large object heap, whose collections dominate bulk
# transfers; the same run with a raised LOH threshold shows what `export DOTNET_GCLOHThreshold=...` buys.
$env:DOTNET_GCLOHThreshold = '0x8000000'
& dotnet run -c $Configuration --project $benchProject -- fifo --bulk-only
Remove-Item Env:DOTNET_GCLOHThreshold
if ($LASTEXITCODE -ne 0) { throw "Gryphgen.Bench fifo --bulk-only failed with exit code $LASTEXITCODE" }

# Cmdlets: one-way throughput of `1..N | Send-GryphMessage` into `Receive-GryphMessage -Continuous`, two pwsh processes.
$messages = 200000
$pipeDirectory = Join-Path ([IO.Path]::GetTempPath()) "gryph-bench-$PID"
$env:GRYPHGEN_PIPE_DIR = $pipeDirectory
try {
    Import-Module $ModuleManifest
    New-GryphPipe -Name bench | Out-Null
    $receiver = Start-Job -ScriptBlock {
        Import-Module $using:ModuleManifest
        $env:GRYPHGEN_PIPE_DIR = $using:pipeDirectory
        $clock = $null; $count = 0; $last = 0
        Receive-GryphMessage -Name bench -Continuous -TimeoutSeconds 5 | ForEach-Object {
            if (-not $clock) { $clock = [Diagnostics.Stopwatch]::StartNew() }
            $count++; $last = $clock.Elapsed.TotalSeconds
        }
        [pscustomobject]@{ Count = $count; Seconds = $last }
    }
    $sendSeconds = (Measure-Command { 1..$messages | Send-GryphMessage -To bench -TimeoutSeconds 120 }).TotalSeconds
    $result = $receiver | Wait-Job | Receive-Job
    Write-Host ('cmdlets: {0:N0} small messages sent in {1:N2} s ({2:N0}/s); received {3:N0} at {4:N0}/s (target >= 100 000/s)' -f $messages, $sendSeconds, ($messages / $sendSeconds), $result.Count, ($result.Count / [math]::Max($result.Seconds, 1e-6)))
}
finally {
    Get-Job | Remove-Job -Force
    Remove-Item -Recurse -Force $pipeDirectory -ErrorAction SilentlyContinue
}

# NATS (issue 8): the same paths over a nats-server with JetStream on loopback, next to the FIFO figures above.
& dotnet run -c $Configuration --project $benchProject -- bus
if ($LASTEXITCODE -ne 0) { throw "Gryphgen.Bench bus failed with exit code $LASTEXITCODE" }
