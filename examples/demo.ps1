# The main job for a newcomer: `dotnet tool restore && dotnet pwsh ./build.ps1 -Task Demo`.
param([Parameter(Mandatory)][string] $ModuleManifest)
$ErrorActionPreference = 'Stop'
Import-Module $ModuleManifest
$module = Get-Module Gryphgen
Write-Host "Gryphgen $($module.Version) from $($module.ModuleBase)"
Write-Host 'Cmdlets:'
Get-Command -Module Gryphgen | Sort-Object Noun, Verb | Format-Table Name, @{ n = 'Synopsis'; e = { (Get-Help $_.Name).Synopsis } } -AutoSize | Out-Host
