# Two models on this machine's GPU(s), planned to fit together, each in its own llama-server, talking for a few
# rounds. Select-ModelForGpu -Together picks the set that fits the GPUs' free memory; Start-GryphAgent -LlamaServer
# starts each with its planned layers and context on a loopback port and stops them all at the end.
# Needs: llama-server (llama.cpp) on PATH or -LlamaServerPath, a GPU, and a folder with at least two GGUF models.
# Run: dotnet pwsh ./examples/gpu_chat.ps1 -Path ~/models
#      dotnet pwsh ./examples/gpu_chat.ps1 -Path ~/models -LlamaServerPath ~/llama.cpp/build/bin/llama-server -Rounds 5
param(
    [Parameter(Mandatory)]
    [string] $Path,
    [int] $Rounds = 3,
    [string] $Opening = 'In one sentence: what is the best thing about running models on your own GPU?',
    [string] $LlamaServerPath,
    [string] $ModuleManifest = (Get-ChildItem "$PSScriptRoot/../output/Gryphgen" -Filter Gryphgen.psd1 -Recurse | Select-Object -First 1).FullName
)
$ErrorActionPreference = 'Stop'
Import-Module $ModuleManifest

# The largest two models of the set that fits together (by parameters), with the layers and context planned for each.
$plans = @(Find-GgufModel -Path $Path | Select-ModelForGpu -Together | Where-Object Selected |
        Sort-Object { $_.Model.ParameterCount } -Descending | Select-Object -First 2)
if ($plans.Count -lt 2) {
    throw "Fewer than two models in '$Path' fit together on this machine's GPUs (Select-ModelForGpu -Together selected $($plans.Count))."
}

$server = @{ LlamaServer = $true }
if ($LlamaServerPath) { $server.LlamaServerPath = $LlamaServerPath }
# Endpoints named after the files: two quantisations of one model share a ModelName, never a file name.
$agents = $plans | Start-GryphAgent @server -MaxTokens 128 -Name { [IO.Path]::GetFileNameWithoutExtension($_.ModelPath) }
try {
    $agents | Format-Table Name, ServerPort, ServerState, @{ n = 'Layers'; e = { ($plans | Where-Object ModelPath -EQ $_.Server.Arguments[1]).GpuLayers } } | Out-Host
    Invoke-GryphChat -Participants $agents.Name -Opening $Opening -Rounds $Rounds
}
finally {
    $agents | Stop-GryphAgent
}
