# Runs the Pester suite in this (fresh) pwsh with Pester imported from its NuGet package, and writes the counts
# as JSON for build.ps1 to add to the xunit counts.
param(
    [Parameter(Mandatory)][string] $PesterManifest,
    [Parameter(Mandatory)][string] $TestPath,
    [Parameter(Mandatory)][string] $SummaryPath,
    [Parameter(Mandatory)][string] $ResultPath,
    [string] $Tag,
    [string] $ExcludeTag
)
$ErrorActionPreference = 'Stop'
# Plain text keeps ANSI escapes out of messages, which the NUnit XML report cannot hold.
$PSStyle.OutputRendering = 'PlainText'
Import-Module $PesterManifest -Force
$configuration = New-PesterConfiguration
$configuration.Run.Path = $TestPath -split ','
$configuration.Run.PassThru = $true
$configuration.Output.Verbosity = 'Detailed'
if ($env:CI -eq 'true') { $configuration.Output.RenderMode = 'Plaintext' }
$configuration.TestResult.Enabled = $true
$configuration.TestResult.OutputPath = $ResultPath
if ($Tag) { $configuration.Filter.Tag = $Tag -split ',' }
if ($ExcludeTag) { $configuration.Filter.ExcludeTag = $ExcludeTag -split ',' }
$result = Invoke-Pester -Configuration $configuration
[ordered]@{
    Passed          = $result.PassedCount
    Failed          = $result.FailedCount
    Skipped         = $result.SkippedCount + $result.NotRunCount
    ContainerFailed = $result.FailedContainersCount
} | ConvertTo-Json | Set-Content -Path $SummaryPath
