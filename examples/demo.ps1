# The main job for a newcomer: `dotnet tool restore && dotnet pwsh ./build.ps1 -Task Demo`.
# Creates endpoints, finds models, shows the GPUs (or why there are none), fits models to a named card, and runs a
# 3-round chat between two agents. By default both agents run llama-2-tiny-random.gguf in-process with llama.cpp:
# real inference, RANDOM weights, so the words are noise. To chat through Ollama, LM Studio or llama-server instead:
#   GRYPHGEN_DEMO_OPENAI_BASE_URI=http://localhost:11434/v1 GRYPHGEN_DEMO_MODEL=llama3.2 dotnet pwsh ./build.ps1 -Task Demo
param(
    [Parameter(Mandatory)][string] $ModuleManifest,
    [string] $OpenAIBaseUri = $env:GRYPHGEN_DEMO_OPENAI_BASE_URI,
    [string] $ModelName = ($env:GRYPHGEN_DEMO_MODEL ? $env:GRYPHGEN_DEMO_MODEL : 'llama3.2'),
    [int] $Rounds = 3
)
$ErrorActionPreference = 'Stop'
Import-Module $ModuleManifest
$module = Get-Module Gryphgen
$repository = Split-Path -Parent $PSScriptRoot
$models = Join-Path (Split-Path -Parent $repository) 'shared/testdata/gguf'
function Write-Step([string] $Text) { Write-Host "`n== $Text" -ForegroundColor Cyan }

Write-Host "Gryphgen $($module.Version) from $($module.ModuleBase)"

# A private pipe directory for the demo, so it never disturbs endpoints you already have.
$env:GRYPHGEN_PIPE_DIR = Join-Path ([IO.Path]::GetTempPath()) "gryphgen-demo-$PID"
try {
    Write-Step 'Endpoints: one inbox FIFO per participant'
    New-GryphPipe -Name alice, bob | Out-Host

    Write-Step "Models found in $models"
    $found = @(Find-GgufModel -Path $models)
    $found | Out-Host

    Write-Step 'GPU status'
    if (Get-Command Get-GpuStatus -ErrorAction Ignore) {
        try { Get-GpuStatus | Out-Host }
        catch { Write-Host "No GPU here: $($_.Exception.Message)" }
    }
    else { Write-Host 'Get-GpuStatus is not part of this build yet.' }

    Write-Step "Which models fit an RTX 4090"
    if (Get-Command Select-ModelForGpu -ErrorAction Ignore) {
        try { $found | Where-Object Kind -NE 'VocabOnly' | Select-ModelForGpu -GpuName 'RTX 4090' | Out-Host }
        catch { Write-Host "Select-ModelForGpu: $($_.Exception.Message)" }
    }
    else { Write-Host 'Select-ModelForGpu is not part of this build yet.' }

    if ($OpenAIBaseUri) {
        Write-Step "Agents: $ModelName through the OpenAI-compatible server at $OpenAIBaseUri"
        $backend = @{ OpenAIBaseUri = $OpenAIBaseUri; ModelName = $ModelName; MaxTokens = 128 }
    }
    else {
        $tiny = Join-Path $models 'llama-2-tiny-random.gguf'
        Write-Step 'Agents: llama.cpp in-process (LLamaSharp) on llama-2-tiny-random.gguf'
        Write-Host 'NOTE: this model has RANDOM WEIGHTS. The inference is real (tokenizer, llama.cpp, sampling, token counts),' -ForegroundColor Yellow
        Write-Host '      but the words it writes are meaningless. Set GRYPHGEN_DEMO_OPENAI_BASE_URI to use a real model.' -ForegroundColor Yellow
        $backend = @{ ModelPath = $tiny; MaxTokens = 24; ContextLength = 1024 }
    }
    Start-GryphAgent -Name alice @backend -SystemPrompt 'You are Alice. Answer in one short sentence.' | Out-Null
    Start-GryphAgent -Name bob @backend -SystemPrompt 'You are Bob. Answer in one short sentence.' | Out-Null
    Get-GryphAgent | Out-Host

    Write-Step "A $Rounds-round chat between alice and bob (each line appears as it arrives)"
    $transcript = Join-Path $env:GRYPHGEN_PIPE_DIR 'demo-chat.jsonl'
    Invoke-GryphChat -Participants alice, bob -Opening 'Hello! What shall we build today?' -Rounds $Rounds -Transcript $transcript |
        ForEach-Object {
            if ($_.Round -eq 0) { Write-Host ("[opening] {0} -> {1}: {2}" -f $_.From, $_.To, $_.Content) }
            else {
                $tokens = if ($null -ne $_.Tokens) { "$($_.PromptTokens)+$($_.CompletionTokens) tokens" } else { 'tokens n/a' }
                Write-Host ("[round {0}] {1} -> {2} ({3:0} ms, {4}, reply to {5}): {6}" -f $_.Round, $_.From, $_.To,
                    $_.Latency.TotalMilliseconds, $tokens, $_.ReplyTo.Substring(0, 8), ($_.Content -replace '\s+', ' '))
            }
        }
    Write-Host "Transcript: $(@(Get-Content $transcript).Count) JSON lines"

    Write-Step 'Agents after the chat'
    Get-GryphAgent | Out-Host
}
finally {
    Get-GryphAgent | Stop-GryphAgent -Force
    Remove-Item -Recurse -Force $env:GRYPHGEN_PIPE_DIR -ErrorAction SilentlyContinue
}
