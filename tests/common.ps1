# Dot-sourced by every *.Tests.ps1: imports the BUILT module from output/ (never the source tree), so the
# tests meet the module exactly as a user does after `./build.ps1 -Task Build`.
$script:RepositoryRoot = Split-Path -Parent $PSScriptRoot
$script:ModuleManifest = Get-ChildItem -Path (Join-Path $RepositoryRoot 'output/Gryphgen') -Filter Gryphgen.psd1 -Recurse |
    Select-Object -First 1 -ExpandProperty FullName
if (-not $ModuleManifest) { throw "Build the module first: ./build.ps1 -Task Build" }
Import-Module $ModuleManifest -Force

# Where ../shared/testdata lives. Absent outside this workplace: tests skip; under CI=true they must run.
$script:SharedTestData = Join-Path (Split-Path -Parent $RepositoryRoot) 'shared/testdata'
$script:SkipSharedTestData = -not (Test-Path $SharedTestData)
if ($SkipSharedTestData -and $env:CI -eq 'true') { throw "CI=true but '$SharedTestData' is missing." }

# The pwsh that runs these tests, for starting fresh peer processes.
$script:PwshPath = Join-Path $PSHOME (&{ if ($IsWindows) { "pwsh.exe" } else { "pwsh" } })

function Start-FreshPwsh {
    # Starts a separate pwsh that imports the built module and runs $Script; returns the Process.
    param([Parameter(Mandatory)][string] $Script, [string] $OutputPath)
    $prelude = "`$ErrorActionPreference='Stop'; Import-Module '$ModuleManifest';"
    $psi = [System.Diagnostics.ProcessStartInfo]::new($PwshPath)
    foreach ($a in '-NoProfile', '-NonInteractive', '-Command', ($prelude + $Script)) { $psi.ArgumentList.Add($a) }
    $psi.RedirectStandardOutput = $true
    $psi.RedirectStandardError = $true
    $psi.UseShellExecute = $false
    [System.Diagnostics.Process]::Start($psi)
}

function Start-Bash {
    # Starts bash -c $Script with the arguments passed as they are (no re-quoting); returns the Process.
    param([Parameter(Mandatory)][string] $Script)
    $psi = [System.Diagnostics.ProcessStartInfo]::new('bash')
    $psi.ArgumentList.Add('-c'); $psi.ArgumentList.Add($Script)
    $psi.UseShellExecute = $false
    [System.Diagnostics.Process]::Start($psi)
}
