#!/usr/bin/env pwsh
<#
.SYNOPSIS
    The single entry point for building, testing, documenting, packaging, benchmarking and demonstrating Gryphgen.

.DESCRIPTION
    Run through the local tool manifest so no global install is needed:
        dotnet tool restore && dotnet pwsh ./build.ps1 -Task Test

    Tasks (each usable alone, each exits non-zero on failure):
      Build    lays out output/Gryphgen/<version>/ as an installable module (psd1, dlls, formats, en-US help)
      Test     Build, then xunit, then Pester against the built output; prints 'N passed, N failed, N skipped'
      Docs     compiles docs/en-US markdown to MAML (platyPS where installed, else tools/Gryphgen.HelpCompiler)
      Package  Build, then writes output/packages/Gryphgen.<version>.nupkg for Install-PSResource
      Bench    Build, then runs the benchmarks and prints ratios against baselines measured in the same run
      Demo     Build, then runs examples/demo.ps1, the main job for a newcomer
#>
[CmdletBinding()]
param(
    [ValidateSet('Build', 'Test', 'Docs', 'Package', 'Bench', 'Demo')]
    [string] $Task = 'Build',

    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release',

    # Pester tags to run or leave out; GPU-tagged tests run only where a GPU is, so they are left out by default.
    [string[]] $PesterTag,
    [string[]] $PesterExcludeTag = @('GPU'),

    # Leave out the xunit or the Pester half of Test, e.g. while iterating on one of them.
    [switch] $SkipXunit,
    [switch] $SkipPester,

    # Run only these Pester files (default: every tests/*.Tests.ps1).
    [string[]] $PesterPath
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$RepositoryRoot = $PSScriptRoot
$Manifest = Import-PowerShellDataFile (Join-Path $RepositoryRoot 'Gryphgen.psd1')
$ModuleVersion = $Manifest.ModuleVersion
$OutputRoot = Join-Path $RepositoryRoot 'output'
$ModuleOutput = Join-Path $OutputRoot "Gryphgen/$ModuleVersion"
$HelpAssembly = 'Gryphgen.PowerShell.dll'
$PesterVersion = '5.7.1'

function Invoke-Native {
    # Runs a program and stops the build when it fails, so every task exits non-zero on failure.
    param([Parameter(Mandatory)][string] $FilePath, [Parameter(ValueFromRemainingArguments)][string[]] $Arguments)
    & $FilePath @Arguments
    if ($LASTEXITCODE -ne 0) { throw "'$FilePath $($Arguments -join ' ')' failed with exit code $LASTEXITCODE." }
}

function Get-PwshPath {
    Join-Path $PSHOME ($IsWindows ? 'pwsh.exe' : 'pwsh')
}

function Get-NuGetPackageFolder {
    if ($env:NUGET_PACKAGES) { return $env:NUGET_PACKAGES }
    $line = & dotnet nuget locals global-packages --list
    ($line -replace '^global-packages:\s*', '').Trim()
}

function Get-PesterManifest {
    Invoke-Native dotnet restore (Join-Path $RepositoryRoot 'tools/ToolPackages/ToolPackages.csproj') --verbosity quiet
    $path = Join-Path (Get-NuGetPackageFolder) "pester/$PesterVersion/tools/Pester.psd1"
    if (-not (Test-Path $path)) { throw "Pester $PesterVersion was restored but '$path' is missing." }
    $path
}

function Invoke-DocsTask {
    $destination = Join-Path $ModuleOutput 'en-US'
    New-Item -ItemType Directory -Force -Path $destination | Out-Null
    $source = Join-Path $RepositoryRoot 'docs/en-US'
    if (Get-Module -ListAvailable -Name platyPS) {
        Write-Host "Docs: compiling help with platyPS New-ExternalHelp"
        Import-Module platyPS
        New-ExternalHelp -Path $source -OutputPath $destination -Force | Out-Null
    }
    else {
        Write-Host "Docs: platyPS is not installed; compiling help with tools/Gryphgen.HelpCompiler"
        $project = Join-Path $RepositoryRoot 'tools/Gryphgen.HelpCompiler/Gryphgen.HelpCompiler.csproj'
        Invoke-Native dotnet build $project -c $Configuration --nologo --verbosity quiet
        $compiler = Join-Path $RepositoryRoot "tools/Gryphgen.HelpCompiler/bin/$Configuration/net10.0/Gryphgen.HelpCompiler.dll"
        Invoke-Native dotnet $compiler $source $destination $HelpAssembly
    }
}

function Invoke-BuildTask {
    Invoke-Native dotnet build (Join-Path $RepositoryRoot 'Gryphgen.PowerShell.sln') -c $Configuration `
        "-p:Version=$ModuleVersion" --nologo --verbosity quiet

    if (Test-Path $ModuleOutput) { Remove-Item -Recurse -Force $ModuleOutput }
    New-Item -ItemType Directory -Force -Path $ModuleOutput | Out-Null
    $binaries = Join-Path $RepositoryRoot "src/Gryphgen.PowerShell/bin/$Configuration/net8.0"
    # System.Management.Automation is pwsh's own; a copy left in bin by an older build must not ship either.
    Get-ChildItem $binaries -File | Where-Object { $_.Extension -in '.dll', '.pdb', '.json' -and $_.BaseName -ne 'System.Management.Automation' } |
        Copy-Item -Destination $ModuleOutput
    Copy-Item (Join-Path $RepositoryRoot 'Gryphgen.psd1') $ModuleOutput
    Copy-Item (Join-Path $RepositoryRoot 'module/*') $ModuleOutput -Recurse
    Copy-LlamaCompanion
    Invoke-DocsTask
    Write-Host "Build: module laid out in $ModuleOutput"
}

function Copy-LlamaCompanion {
    # The optional in-process llama.cpp backend (issue 7): Gryphgen.LlamaSharp.dll, LLamaSharp and its managed
    # dependencies, and the linux-x64 native libraries go to <module>/llama/, loaded only on first -ModelPath use.
    # Gryphgen.Core.dll stays out: the companion shares the module's copy.
    $source = Join-Path $RepositoryRoot "src/Gryphgen.LlamaSharp/bin/$Configuration/net8.0"
    $destination = Join-Path $ModuleOutput 'llama'
    New-Item -ItemType Directory -Force -Path $destination | Out-Null
    Get-ChildItem $source -File | Where-Object { $_.Extension -in '.dll', '.json' -and $_.Name -ne 'Gryphgen.Core.dll' } |
        Copy-Item -Destination $destination
    Copy-Item (Join-Path $source 'runtimes') $destination -Recurse
}

function Read-TrxCounts {
    param([string] $Path)
    [xml] $trx = Get-Content -Raw $Path
    $outcomes = @($trx.SelectNodes("//*[local-name()='UnitTestResult']") | ForEach-Object { $_.GetAttribute('outcome') })
    [pscustomobject]@{
        Passed  = @($outcomes | Where-Object { $_ -eq 'Passed' }).Count
        Failed  = @($outcomes | Where-Object { $_ -in 'Failed', 'Error', 'Timeout', 'Aborted' }).Count
        Skipped = @($outcomes | Where-Object { $_ -in 'NotExecuted', 'Inconclusive' }).Count
    }
}

function Invoke-TestTask {
    Invoke-BuildTask
    New-ModulePackage  # the Package test installs it
    $results = Join-Path $OutputRoot 'test-results'
    if (Test-Path $results) { Remove-Item -Recurse -Force $results }
    New-Item -ItemType Directory -Force -Path $results | Out-Null
    $totals = [ordered]@{ Passed = 0; Failed = 0; Skipped = 0 }
    $problems = [System.Collections.Generic.List[string]]::new()

    if (-not $SkipXunit) {
        foreach ($project in Get-ChildItem (Join-Path $RepositoryRoot 'tests') -Filter '*.Tests.csproj' -Recurse) {
            $trxName = "$($project.BaseName).trx"
            Write-Host "Test: xunit $($project.BaseName)"
            & dotnet test $project.FullName -c $Configuration --no-build --nologo `
                --logger "trx;LogFileName=$trxName" --logger 'console;verbosity=minimal' --results-directory $results
            $exit = $LASTEXITCODE
            $trx = Join-Path $results $trxName
            if (-not (Test-Path $trx)) { $problems.Add("$($project.BaseName) wrote no results (exit $exit)"); continue }
            $counts = Read-TrxCounts $trx
            if ($exit -ne 0 -and $counts.Failed -eq 0) { $problems.Add("$($project.BaseName) exited $exit") }
            foreach ($key in @($totals.Keys)) { $totals[$key] += $counts.$key }
        }
    }

    if (-not $SkipPester) {
        Write-Host 'Test: Pester against the built module, in a fresh pwsh'
        $summary = Join-Path $results 'pester-summary.json'
        $runner = Join-Path $RepositoryRoot 'tools/Invoke-PesterTests.ps1'
        $arguments = @('-NoProfile', '-NonInteractive', '-File', $runner, '-PesterManifest', (Get-PesterManifest),
            '-TestPath', (($PesterPath ? ($PesterPath | ForEach-Object { (Resolve-Path $_).Path }) : @(Join-Path $RepositoryRoot 'tests')) -join ','), '-SummaryPath', $summary,
            '-ResultPath', (Join-Path $results 'pester.xml'))
        if ($PesterTag) { $arguments += @('-Tag', ($PesterTag -join ',')) }
        if ($PesterExcludeTag) { $arguments += @('-ExcludeTag', ($PesterExcludeTag -join ',')) }
        & (Get-PwshPath) @arguments
        if (Test-Path $summary) {
            $counts = Get-Content -Raw $summary | ConvertFrom-Json
            foreach ($key in @($totals.Keys)) { $totals[$key] += $counts.$key }
            if ($counts.ContainerFailed -gt 0) { $problems.Add("$($counts.ContainerFailed) Pester file(s) failed to run") }
        }
        else { $problems.Add('Pester wrote no summary') }
    }

    foreach ($problem in $problems) { Write-Host "Test: $problem" -ForegroundColor Red }
    # The one closing line CI reads; it sums xunit and Pester.
    Write-Host "$($totals.Passed) passed, $($totals.Failed) failed, $($totals.Skipped) skipped"
    if ($totals.Failed -gt 0 -or $problems.Count -gt 0) { exit 1 }
}

function New-ModulePackage {
    $destination = Join-Path $OutputRoot 'packages'
    New-Item -ItemType Directory -Force -Path $destination | Out-Null
    Get-ChildItem $destination -Filter 'Gryphgen.*.nupkg' | Remove-Item -Force
    Import-Module Microsoft.PowerShell.PSResourceGet
    Compress-PSResource -Path $ModuleOutput -DestinationPath $destination
    $package = Get-ChildItem $destination -Filter "Gryphgen.$ModuleVersion.nupkg"
    if (-not $package) { throw "Compress-PSResource wrote no Gryphgen.$ModuleVersion.nupkg in $destination" }
    Write-Host "Package: $($package.FullName)"
}

function Invoke-PackageTask {
    Invoke-BuildTask
    New-ModulePackage
}

function Invoke-BenchTask {
    Invoke-BuildTask
    $bench = Join-Path $RepositoryRoot 'tools/Invoke-Benchmarks.ps1'
    & (Get-PwshPath) -NoProfile -NonInteractive -File $bench -ModuleManifest (Join-Path $ModuleOutput 'Gryphgen.psd1') -Configuration $Configuration
    if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }
}

function Invoke-DemoTask {
    Invoke-BuildTask
    & (Get-PwshPath) -NoProfile -NonInteractive -File (Join-Path $RepositoryRoot 'examples/demo.ps1') -ModuleManifest (Join-Path $ModuleOutput 'Gryphgen.psd1')
    if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }
}

Push-Location $RepositoryRoot
try {
    switch ($Task) {
        'Build' { Invoke-BuildTask }
        'Test' { Invoke-TestTask }
        'Docs' { Invoke-DocsTask }
        'Package' { Invoke-PackageTask }
        'Bench' { Invoke-BenchTask }
        'Demo' { Invoke-DemoTask }
    }
}
catch {
    Write-Host "build.ps1 -Task ${Task}: $_" -ForegroundColor Red
    exit 1
}
finally {
    Pop-Location
}
