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
