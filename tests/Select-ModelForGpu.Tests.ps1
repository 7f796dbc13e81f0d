# Select-ModelForGpu as a user meets it: the built module, the shared GGUF files and sparse models shaped like
# real ones (written with the module's own GGUF writer: header and tensor table, the data left as a hole).
# -Skip is evaluated at discovery, before BeforeAll runs, so the flag must exist then (common.ps1 sets it again,
# and throws under CI=true when the data is missing).
BeforeDiscovery { $SkipSharedTestData = -not (Test-Path (Join-Path $PSScriptRoot '../../shared/testdata')) }

BeforeAll {
    . $PSScriptRoot/common.ps1
    $script:GgufFolder = Join-Path $SharedTestData 'gguf'
    $script:ModelFolder = Join-Path ([IO.Path]::GetTempPath()) ("gryph-select-" + [guid]::NewGuid().ToString('N'))
    New-Item -ItemType Directory -Path $ModelFolder | Out-Null
    foreach ($preset in 'DenseLlama8B', 'SlidingWindow7B', 'SmallMoe') {
        [void][Gryphgen.Core.Gguf.GgufModelBuilder]::Write([Gryphgen.Core.Gguf.GgufModelShape]::$preset, (Join-Path $ModelFolder "$preset.gguf"))
    }
}

AfterAll {
    Remove-Item -Recurse -Force $ModelFolder -ErrorAction SilentlyContinue
}

Describe 'Select-ModelForGpu' {
    It 'plans the shared tiny model on an RTX 4090 and skips vocabulary-only files' -Skip:$SkipSharedTestData {
        $fits = @(Find-GgufModel $GgufFolder | Select-ModelForGpu -GpuName 'RTX 4090')
        $fits | Should -HaveCount 1
        $fits[0] | Should -BeOfType ([Gryphgen.Core.Fit.ModelFit])
        $fits[0].Model.Name | Should -Be 'LLaMA v2'
        $fits[0].Fit | Should -Be 'Full'
        $fits[0].GpuLayers | Should -Be 2
        $fits[0].TotalLayers | Should -Be 2
        $fits[0].Gpu | Should -Be 'RTX 4090'
        $fits[0].LlamaCppArguments | Should -Be '-ngl 2 -c 4096 -fa off'
        $fits[0].OllamaOptions['num_ctx'] | Should -Be 4096
    }

    It 'plans for -MemoryBytes 16GB best first, with a breakdown and a reason' {
        $fits = @(Find-GgufModel $ModelFolder | Select-ModelForGpu -MemoryBytes 16GB -ContextLength 8192)
        $fits | Should -HaveCount 3
        $fits.Fit | Should -Be @('Full', 'Full', 'Full')
        $fits[0].Model.Name | Should -BeLike 'Meta Llama 3 8B*'
        $fits[0].LlamaCppArguments | Should -Be '-ngl 33 -c 8192 -fa off'
        $fits[0].Breakdown.WeightsBytes | Should -BeGreaterThan 4.5GB
        $fits[0].Breakdown.KvCacheBytes | Should -Be 1GB
        $fits[0].EstimatedGpuBytes + $fits[0].FreeAfterBytes | Should -Be 16GB
        $fits[0].Reason | Should -BeLike 'Fits entirely on 16 GiB at 8192 tokens*'
    }

    It 'offloads part of a model that does not fit, and orders it after the full fits' {
        $fits = @(Find-GgufModel $ModelFolder | Select-ModelForGpu -MemoryBytes 6GB -ContextLength 8192)
        $fits.Fit | Should -Be @('Full', 'Partial', 'Partial')
        $fits[1].GpuLayers | Should -BeLessThan $fits[1].TotalLayers
        $fits[1].Reason | Should -BeLike 'Only * layers fit*'
    }

    It 'finds the largest context that fits fully with -MaxContext' {
        $fit = Find-GgufModel $ModelFolder -Name 'Mistral*' | Select-ModelForGpu -MemoryBytes 6GB -MaxContext -CacheType q8_0 -FlashAttention
        $fit.Fit | Should -Be 'Full'
        $fit.ContextLength | Should -Be $fit.MaxContextLength
        $fit.ContextLength % 256 | Should -Be 0
        $fit.LlamaCppArguments | Should -Be "-ngl 33 -c $($fit.ContextLength) -ctk q8_0 -ctv q8_0 -fa on"
        $more = Find-GgufModel $ModelFolder -Name 'Mistral*' | Select-ModelForGpu -MemoryBytes 6GB -ContextLength ($fit.ContextLength + 256) -CacheType q8_0 -FlashAttention
        $more.Fit | Should -Be 'Partial'
    }

    It 'chooses models to load together with -Together and says why the others are left out' {
        $fits = @(Find-GgufModel $ModelFolder | Select-ModelForGpu -MemoryBytes 12GB -Together)
        ($fits | Where-Object Selected).Model.Name | Should -HaveCount 2
        $left = $fits | Where-Object Selected -EQ $false
        $left.Model.Name | Should -BeLike 'Small MoE*'
        $left.Reason | Should -BeLike 'Left out: it needs*'
        $count = @(Find-GgufModel $ModelFolder | Select-ModelForGpu -MemoryBytes 6GB -Together -Prefer Count | Where-Object Selected)
        $count.Model.Name | Should -HaveCount 1
    }

    It 'plans an Apple M-series machine as unified memory, with the share macOS lets the GPU use' {
        $fit = Find-GgufModel $ModelFolder -Name 'Meta*' | Select-ModelForGpu -GpuName 'Apple M1 16GB' -OverheadBytes 0 -MaxContext
        $fit.Fit | Should -Be 'Full'
        $fit.Devices[0].BudgetBytes | Should -Be ([math]::Floor(16GB * 2 / 3) - 1GB)
    }

    It 'keeps MoE experts on the host with -CpuMoe' {
        $all = Find-GgufModel $ModelFolder -Name 'Small MoE*' | Select-ModelForGpu -MemoryBytes 16GB
        $cpuMoe = Find-GgufModel $ModelFolder -Name 'Small MoE*' | Select-ModelForGpu -MemoryBytes 16GB -CpuMoe
        $cpuMoe.EstimatedGpuBytes | Should -BeLessThan ($all.EstimatedGpuBytes - 200MB)
        $cpuMoe.EstimatedHostBytes | Should -BeGreaterThan ($all.EstimatedHostBytes + 200MB)
        $cpuMoe.LlamaCppArguments | Should -BeLike '*--cpu-moe'
    }

    It 'fails with GpuTargetMissing when there is no GPU and no target' -Skip:(Test-Path /dev/nvidia0) {
        { Find-GgufModel $ModelFolder | Select-ModelForGpu -ErrorAction Stop } |
            Should -Throw -ErrorId 'GpuTargetMissing,Gryphgen.PowerShell.Commands.SelectModelForGpuCommand'
        $err = $null
        try { Find-GgufModel $ModelFolder | Select-ModelForGpu -ErrorAction Stop } catch { $err = $_ }
        $err.Exception.Message | Should -BeLike '*-GpuName*-MemoryBytes*-Gpu*'
    }

    It 'rejects an unknown card with the catalogue in the message, and completes card names' {
        { Find-GgufModel $ModelFolder | Select-ModelForGpu -GpuName 'RTX 9999' -ErrorAction Stop } |
            Should -Throw -ErrorId 'GpuNameUnknown,Gryphgen.PowerShell.Commands.SelectModelForGpuCommand'
        $line = "Select-ModelForGpu -GpuName 'RTX 40"
        $completion = TabExpansion2 -inputScript $line -cursorColumn $line.Length
        $completion.CompletionMatches.CompletionText | Should -Contain "'RTX 4090'"
    }

    It 'reads -Path and plans with GpuStatus objects passed to -Gpu, split across two GPUs' {
        $gpus = 0, 1 | ForEach-Object { [Gryphgen.Core.Gpu.GpuStatus]@{ Index = $_; Name = 'Test GPU'; MemoryTotal = 4GB; MemoryUsed = 1GB; MemoryFree = 3GB } }
        $fit = Select-ModelForGpu -Path (Join-Path $ModelFolder 'DenseLlama8B.gguf') -Gpu $gpus
        $fit.Devices | Should -HaveCount 2
        ($fit.Devices | Measure-Object Layers -Sum).Sum | Should -Be $fit.GpuLayers
        $fit.Devices | ForEach-Object { $_.GpuBytes | Should -BeLessOrEqual $_.BudgetBytes }
        $fit.LlamaCppArguments | Should -BeLike '*-ts 2048,2048'
    }

    It 'refuses a FIFO given to -Path at once with one error, and plans the other path' -Skip:(-not $IsLinux) {
        # Outside $ModelFolder, which other tests scan whole.
        $fifo = Join-Path ([IO.Path]::GetTempPath()) ("gryph-select-" + [guid]::NewGuid().ToString('N') + '.gguf')
        mkfifo $fifo
        $model = Join-Path $ModelFolder 'SmallMoe.gguf'
        # In a separate pwsh: opening a FIFO for reading blocks in open(2) until a writer comes, so a hang is killed.
        $peer = Start-FreshPwsh ("Select-ModelForGpu -Path '$fifo', '$model' -MemoryBytes 16GB -ErrorVariable err -ErrorAction SilentlyContinue | " +
            "ForEach-Object { 'fit: ' + `$_.Model.Name }; `$err | ForEach-Object { 'error: ' + `$_.FullyQualifiedErrorId + ' ' + `$_.TargetObject + ' ' + `$_.Exception.Message }")
        $exited = $peer.WaitForExit(60000)
        if (-not $exited) { $peer.Kill($true); $peer.WaitForExit() }
        $exited | Should -BeTrue -Because 'Select-ModelForGpu must not wait for a writer on a FIFO'
        $lines = $peer.StandardOutput.ReadToEnd() -split "`n" | Where-Object { $_ }
        $lines | Where-Object { $_ -like 'fit: *' } | Should -BeLike 'fit: Small MoE*'
        $errors = @($lines | Where-Object { $_ -like 'error: *' })
        $errors | Should -HaveCount 1
        $errors[0] | Should -BeLike "error: GgufReadFailed,* $fifo *FIFO, not a regular file*"
        Remove-Item $fifo
    }

    It 'runs the example script that replaces find_gpu_models.sh' {
        $fits = @(& (Join-Path $RepositoryRoot 'examples/find_gpu_models.ps1') -Path $ModelFolder -GpuName 'RTX 4080' -ModuleManifest $ModuleManifest)
        $fits | Should -HaveCount 3
        $fits | ForEach-Object { $_.Gpu | Should -Be 'RTX 4080' }
        $small = @(& (Join-Path $RepositoryRoot 'examples/find_gpu_models.ps1') -Path $ModelFolder -MaxSize 1GB -MemoryBytes 16GB -ModuleManifest $ModuleManifest)
        $small.Model.Name | Should -BeLike 'Small MoE*'
    }
}

Describe 'Select-ModelForGpu on the models people run now' {
    BeforeAll {
        $script:ReleasedFolder = Join-Path ([IO.Path]::GetTempPath()) ("gryph-released-" + [guid]::NewGuid().ToString('N'))
        New-Item -ItemType Directory -Path $ReleasedFolder | Out-Null
        foreach ($preset in 'Qwen35Dense27B', 'Qwen3Next80BA3B', 'DeepSeekV3', 'Glm45Air', 'Lfm2Dense26B') {
            [void][Gryphgen.Core.Gguf.GgufModelBuilder]::Write([Gryphgen.Core.Gguf.ReleasedModelShapes]::$preset, (Join-Path $ReleasedFolder "$preset.gguf"))
        }

        # Writes a small llama model whose header lies about one shape key, as a corrupt download would.
        function script:Write-LyingModel([string] $Name, [string] $Key, $Value) {
            $shape = [Gryphgen.Core.Gguf.GgufModelShape]@{ Name = $Name; VocabularySize = 300; BlockCount = 2 }
            $writer = [Gryphgen.Core.Gguf.GgufModelBuilder]::CreateWriter($shape)
            if ($Value -is [array]) {
                [void]$writer.SetArray("llama.$Key", [Gryphgen.Core.Gguf.GgufValueType]::Int32, [int[]]$Value)
            } else {
                [void]$writer.Set("llama.$Key", [Gryphgen.Core.Gguf.GgufValue]::From([int]$Value))
            }
            [void]$writer.Write((Join-Path $ReleasedFolder "$Name.gguf"))
        }
    }

    AfterAll {
        Remove-Item -Recurse -Force $ReleasedFolder -ErrorAction SilentlyContinue
    }

    It 'fits Qwen3.5-27B (one attention layer in four) fully on a 24 GiB card, with its recurrent state counted' {
        $fit = Find-GgufModel $ReleasedFolder -Name 'Qwen3.5-27B*' | Select-ModelForGpu -MemoryBytes 24GB -ContextLength 32768
        $fit.Fit | Should -Be 'Full'
        $fit.GpuLayers | Should -Be 65
        # 16 attention layers x 4 KV heads x 256 x 2 (K and V) x 2 bytes per token, plus 48 x 3,268,608 bytes of state.
        $fit.Breakdown.KvCacheBytes | Should -Be (32768 * 16 * 4 * 256 * 2 * 2 + 48 * 3268608)
    }

    It 'chooses the context as llama-server --fit does when none is asked for' {
        $model = Find-GgufModel $ReleasedFolder -Name 'Qwen3.5-27B*'
        $roomy = $model | Select-ModelForGpu -MemoryBytes 80GB
        $roomy.ContextLength | Should -Be 262144
        $roomy.Reason | Should -BeLike '*plans the trained 262144 tokens, which fit.'
        $tight = $model | Select-ModelForGpu -MemoryBytes 24GB
        $tight.Fit | Should -Be 'Full'
        $tight.ContextLength | Should -Be $tight.MaxContextLength
        $tight.ContextLength | Should -BeGreaterThan 4096
        $tight.ContextLength | Should -BeLessThan 262144
        $tight.Reason | Should -BeLike "*the largest that fits fully: $($tight.ContextLength) of the trained 262144 tokens."
        $small = $model | Select-ModelForGpu -MemoryBytes 12GB
        $small.ContextLength | Should -Be 4096
        $small.Fit | Should -Be 'Partial'
        $small.Reason | Should -BeLike '*not even 4096 tokens fit fully*'
        ($model | Select-ModelForGpu -MemoryBytes 24GB -ContextLength 4096).ContextLength | Should -Be 4096
    }

    It 'fits Qwen3-Next''s full trained context on a 24 GiB card with -CpuMoe (12 attention layers of 48 hold a cache)' {
        $fit = Find-GgufModel $ReleasedFolder -Name 'Qwen3-Next*' | Select-ModelForGpu -MemoryBytes 24GB -CpuMoe -MaxContext -HostMemoryBytes 128GB
        $fit.Fit | Should -Be 'Partial'
        $fit.GpuLayers | Should -Be $fit.TotalLayers
        $fit.ContextLength | Should -Be 262144
        $fit.LlamaCppArguments | Should -BeLike '-ngl 49 -c 262144 -fa off --cpu-moe*'
    }

    It 'fits LFM2-2.6B (8 attention layers of 30, short convolutions elsewhere) fully on a 24 GiB card' {
        $fit = Find-GgufModel $ReleasedFolder -Name 'LFM2-2.6B*' | Select-ModelForGpu -MemoryBytes 24GB -ContextLength 32768
        $fit.Fit | Should -Be 'Full'
        $fit.GpuLayers | Should -Be 31
        # 8 attention layers x 8 KV heads x 64 x 2 (K and V) x 2 bytes per token, plus 22 x 2 x 2048 f32 columns of convolution state.
        $fit.Breakdown.KvCacheBytes | Should -Be (32768 * 8 * 8 * 64 * 2 * 2 + 22 * 2 * 2048 * 4)
    }

    It 'counts a draft model for speculative decoding on the first GPU with -DraftModel' {
        $draft = Join-Path $ReleasedFolder 'draft.gguf.part'
        [void][Gryphgen.Core.Gguf.GgufModelBuilder]::Write([Gryphgen.Core.Gguf.ReleasedModelShapes]::Qwen3Dense06B, $draft)
        $model = Find-GgufModel $ReleasedFolder -Name 'Qwen3.5-27B*'
        $plain = $model | Select-ModelForGpu -MemoryBytes 24GB -ContextLength 32768
        $speculative = $model | Select-ModelForGpu -MemoryBytes 24GB -ContextLength 32768 -DraftModel $draft
        $speculative.EstimatedGpuBytes | Should -BeGreaterThan ($plain.EstimatedGpuBytes + 500MB)
        $speculative.LlamaCppArguments | Should -BeLike "* -md `"$draft`" -ngld 99"
        $speculative.Reason | Should -BeLike "*draft model 'Qwen3-0.6B (shape only)' on the first GPU*"
        { $model | Select-ModelForGpu -MemoryBytes 24GB -DraftModel (Join-Path $ReleasedFolder 'missing.gguf') } |
            Should -Throw -ErrorId 'DraftModelUnreadable,Gryphgen.PowerShell.Commands.SelectModelForGpuCommand'
    }

    It 'pairs a vision projector lying beside its model and counts it, unless -NoProjector' {
        $vision = Join-Path $ReleasedFolder 'vision'
        New-Item -ItemType Directory -Path $vision | Out-Null
        [void][Gryphgen.Core.Gguf.GgufModelBuilder]::Write([Gryphgen.Core.Gguf.ReleasedModelShapes]::Gemma3Dense12B, (Join-Path $vision 'gemma-3-12b-Q4_K_M.gguf'))
        $mmproj = Join-Path $vision 'mmproj-gemma-3-12b-f16.gguf'
        [void][Gryphgen.Core.Gguf.GgufModelBuilder]::Write([Gryphgen.Core.Gguf.GgufProjectorShape]::Gemma3Vision12B, $mmproj)
        $model = Find-GgufModel $vision -Name 'Gemma-3-12B (shape*'
        $model.ProjectorPath | Should -Be $mmproj
        $with = $model | Select-ModelForGpu -MemoryBytes 24GB -ContextLength 8192
        $without = $model | Select-ModelForGpu -MemoryBytes 24GB -ContextLength 8192 -NoProjector
        # Gemma 3's SigLIP: 804.31 MiB of weights and a 1132 MiB encoder buffer without flash attention (mtmd's figures).
        ($with.EstimatedGpuBytes - $without.EstimatedGpuBytes) / 1MB | Should -BeGreaterThan 1936
        ($with.EstimatedGpuBytes - $without.EstimatedGpuBytes) / 1MB | Should -BeLessThan 1937
        $with.LlamaCppArguments | Should -BeLike "* --mmproj `"$mmproj`""
        $without.LlamaCppArguments | Should -Not -BeLike '*--mmproj*'
        (Select-ModelForGpu -Path (Join-Path $vision 'gemma-3-12b-Q4_K_M.gguf') -MemoryBytes 24GB -ContextLength 8192).EstimatedGpuBytes | Should -Be $with.EstimatedGpuBytes
        Remove-Item -Recurse -Force $vision
    }

    It 'takes GPUs from the pipeline, as Get-GpuStatus emits them' {
        $gpu = [Gryphgen.Core.Gpu.GpuStatus]@{ Index = 0; Name = 'NVIDIA GeForce RTX 4090'; MemoryTotal = 24GB; MemoryFree = 24GB; MemoryUsed = 0 }
        $fit = $gpu | Select-ModelForGpu -Path (Join-Path $ReleasedFolder 'Qwen35Dense27B.gguf') -ContextLength 8192
        $fit.Gpu | Should -Be 'GPU 0: NVIDIA GeForce RTX 4090'
        $fit.Fit | Should -Be 'Full'
    }

    It 'caches only the latent of an MLA model (DeepSeek-V3), K only' {
        $fit = Find-GgufModel $ReleasedFolder -Name 'DeepSeek-V3*' | Select-ModelForGpu -MemoryBytes 80GB, 80GB, 80GB, 80GB, 80GB, 80GB, 80GB, 80GB -ContextLength 4096
        $fit.Breakdown.KvCacheBytes | Should -Be (4096 * 61 * 576 * 2)
    }

    It 'does not count GLM-4.5-Air''s NextN block as an offloadable layer' {
        $fit = Find-GgufModel $ReleasedFolder -Name 'GLM-4.5-Air*' | Select-ModelForGpu -MemoryBytes 16GB -ContextLength 4096
        $fit.TotalLayers | Should -Be 47
    }

    It 'reports a model with an impossible shape as that model''s error and plans the rest' {
        Write-LyingModel -Name 'negative-width' -Key 'embedding_length' -Value -256
        Write-LyingModel -Name 'huge-blocks' -Key 'block_count' -Value ([int]::MaxValue)
        Write-LyingModel -Name 'no-blocks' -Key 'block_count' -Value -1
        Write-LyingModel -Name 'empty-heads' -Key 'attention.head_count' -Value @()
        $errors = $null
        $fits = @(Find-GgufModel $ReleasedFolder | Select-ModelForGpu -MemoryBytes 24GB -ErrorVariable errors -ErrorAction SilentlyContinue)
        $fits.Model.Name | Should -Contain 'Qwen3.5-27B (shape only)'
        $fits.Model.Name | Should -Not -Contain 'negative-width'
        @($errors).Count | Should -Be 4
        $errors.FullyQualifiedErrorId | ForEach-Object { $_ | Should -BeLike 'GgufShape*' }
        ($errors | Where-Object TargetObject -Like '*huge-blocks.gguf').Exception.Message | Should -BeLike '*block_count = 2147483647*corrupt*'
    }
}

Describe 'Select-ModelForGpu -GpuName and -Path' {
    BeforeAll {
        $script:NameFolder = Join-Path ([IO.Path]::GetTempPath()) ("gryph-gpuname-" + [guid]::NewGuid().ToString('N'))
        New-Item -ItemType Directory -Path $NameFolder | Out-Null
        $script:Tiny = Join-Path $NameFolder 'tiny.gguf'
        [void][Gryphgen.Core.Gguf.GgufModelBuilder]::Write([Gryphgen.Core.Gguf.GgufModelShape]@{ Name = 'tiny'; VocabularySize = 300; BlockCount = 2 }, $Tiny)
    }

    AfterAll {
        Remove-Item -Recurse -Force $NameFolder -ErrorAction SilentlyContinue
    }

    It 'accepts <Name> as <Card>' -ForEach @(
        @{ Name = 'NVIDIA GeForce RTX 4090'; Card = 'RTX 4090' }
        @{ Name = 'RTX 4080 SUPER'; Card = 'RTX 4080 Super' }
        @{ Name = 'A100'; Card = 'A100 80GB' }
        @{ Name = 'NVIDIA A100-SXM4-40GB'; Card = 'A100 40GB' }
        @{ Name = 'NVIDIA H100 80GB HBM3'; Card = 'H100 80GB' }
        @{ Name = 'RTX 3060'; Card = 'RTX 3060 12GB' }
        @{ Name = 'AMD Radeon RX 7900 XTX'; Card = 'RX 7900 XTX' }
        @{ Name = 'AMD Instinct MI300X'; Card = 'MI300X' }
        @{ Name = 'Tesla T4'; Card = 'T4' }
        @{ Name = 'NVIDIA RTX A6000'; Card = 'RTX A6000' }
        @{ Name = 'Apple M4 Max 128GB'; Card = 'Apple M4 Max 128GB' }
    ) {
        (Select-ModelForGpu -Path $Tiny -GpuName $Name -ContextLength 256).Gpu | Should -Be $Card
    }

    It 'covers the cards people plan for' {
        foreach ($card in 'RTX 3060 Ti', 'RTX 3070', 'RTX 3080 10GB', 'RTX 3090 Ti', 'RTX 4060', 'RTX 4070 Ti', 'RTX 5060 Ti 16GB', 'RTX 5070', 'RTX 5080', 'RTX 5090',
            'RTX A4000', 'RTX 6000 Ada', 'RTX PRO 6000 Blackwell', 'A10', 'A40', 'L4', 'L40S', 'V100 32GB', 'H200', 'B200', 'RX 6800', 'RX 7800 XT', 'MI210', 'MI250',
            'Apple M1 Ultra 128GB', 'Apple M2 Max 96GB', 'Apple M3 Pro 36GB', 'Apple M4 Pro 48GB') {
            [Gryphgen.Core.Fit.GpuCatalog]::Find($card) | Should -Not -BeNullOrEmpty -Because $card
        }
    }

    It 'treats -Path as Find-GgufModel does: wildcards, missing files, folders and vocabulary-only files' -Skip:$SkipSharedTestData {
        Copy-Item $Tiny (Join-Path $NameFolder 'tiny-copy.gguf')
        @(Select-ModelForGpu -Path (Join-Path $NameFolder 'tiny*.gguf') -MemoryBytes 8GB -ContextLength 256) | Should -HaveCount 2
        $errors = $null
        $fits = @(Select-ModelForGpu -Path (Join-Path $NameFolder 'missing.gguf'), $NameFolder, (Join-Path $SharedTestData 'gguf/ggml-vocab-llama-spm.gguf'), $Tiny -MemoryBytes 8GB -ContextLength 256 -ErrorVariable errors -ErrorAction SilentlyContinue)
        $fits | Should -HaveCount 1
        $errors.FullyQualifiedErrorId | ForEach-Object { ($_ -split ',')[0] } | Should -Be @('PathNotFound', 'PathIsFolder', 'GgufNoWeights')
        $errors[1].Exception.Message | Should -BeLike "*is a folder*Find-GgufModel*"
        $errors[2].Exception.Message | Should -BeLike '*has no model weights to plan*'
    }

    It 'reports an unknown name as a non-terminating error naming the nearest cards' {
        $errors = $null
        $fits = @(Select-ModelForGpu -Path $Tiny -GpuName 'RTX 4099', 'RTX 4090' -ContextLength 256 -ErrorVariable errors -ErrorAction SilentlyContinue)
        $fits | Should -HaveCount 1
        $errors[0].FullyQualifiedErrorId | Should -BeLike 'GpuNameUnknown*'
        $errors[0].Exception.Message | Should -BeLike "*nearest are 'RTX 4090'*"
    }
}

Describe 'Select-ModelForGpu speed estimates' {
    BeforeAll {
        $script:SpeedFolder = Join-Path ([IO.Path]::GetTempPath()) ("gryph-speed-" + [guid]::NewGuid().ToString('N'))
        New-Item -ItemType Directory -Path $SpeedFolder | Out-Null
        foreach ($preset in 'Llama31Dense8B', 'Qwen3Moe30BA3B', 'Qwen3Dense06B') {
            [void][Gryphgen.Core.Gguf.GgufModelBuilder]::Write([Gryphgen.Core.Gguf.ReleasedModelShapes]::$preset, (Join-Path $SpeedFolder "$preset.gguf"))
        }
    }

    AfterAll {
        Remove-Item -Recurse -Force $SpeedFolder -ErrorAction SilentlyContinue
    }

    It 'estimates decode and prompt speed for a catalogue card, and sorts by it with -SortBy Speed' {
        $byFit = @(Find-GgufModel $SpeedFolder | Select-ModelForGpu -GpuName 'RTX 4090' -ContextLength 8192 -HostBandwidth 60)
        $byFit | ForEach-Object {
            $_.DecodeTokensPerSecond | Should -BeGreaterThan 0
            $_.EmptyCacheDecodeTokensPerSecond | Should -BeGreaterOrEqual $_.DecodeTokensPerSecond
            $_.PromptTokensPerSecond | Should -BeGreaterThan $_.DecodeTokensPerSecond
            $_.Breakdown.SpeedAssumptions | Should -BeLike '*calibrated on published llama-bench results*RTX 4090''s 1008 GB/s*'
        }
        $bySpeed = @(Find-GgufModel $SpeedFolder | Select-ModelForGpu -GpuName 'RTX 4090' -ContextLength 8192 -HostBandwidth 60 -SortBy Speed)
        $bySpeed.ModelName | Should -Be @($byFit | Sort-Object DecodeTokensPerSecond -Descending).ModelName
        $bySpeed.ModelName | Should -Not -Be $byFit.ModelName -Because 'the 0.6B model is fastest, though the fit order puts it last'
        $bySpeed[0].ModelName | Should -BeLike 'Qwen3-0.6B*'
    }

    It 'leaves the speed empty for a bare memory size, and says how to give the card''s figures' {
        $fit = Select-ModelForGpu -Path (Join-Path $SpeedFolder 'Llama31Dense8B.gguf') -MemoryBytes 16GB -ContextLength 8192 -HostBandwidth 60
        $fit.DecodeTokensPerSecond | Should -BeNullOrEmpty
        $fit.Breakdown.SpeedAssumptions | Should -BeLike '*-MemoryBandwidth*'
        $given = Select-ModelForGpu -Path (Join-Path $SpeedFolder 'Llama31Dense8B.gguf') -MemoryBytes 16GB -ContextLength 8192 -HostBandwidth 60 -MemoryBandwidth 448 -TensorTflops 65 -Backend Vulkan
        $given.DecodeTokensPerSecond | Should -BeGreaterThan 10
        $given.PromptTokensPerSecond | Should -BeGreaterThan 100
        $given.Breakdown.SpeedAssumptions | Should -BeLike '*448 GB/s*(Vulkan)*'
    }

    It 'decodes slower as a smaller card moves layers to the host, at the host bandwidth given' {
        $full = Select-ModelForGpu -Path (Join-Path $SpeedFolder 'Llama31Dense8B.gguf') -GpuName 'RTX 4090' -ContextLength 8192 -HostBandwidth 60
        $partial = Select-ModelForGpu -Path (Join-Path $SpeedFolder 'Llama31Dense8B.gguf') -GpuName 'RTX 3060 8GB' -ContextLength 32768 -HostBandwidth 60
        $partial.Fit | Should -Be 'Partial'
        $partial.DecodeTokensPerSecond | Should -BeLessThan $full.DecodeTokensPerSecond
        $partial.Breakdown.SpeedAssumptions | Should -BeLike '*host * a token at 60 GB/s*'
        $slowHost = Select-ModelForGpu -Path (Join-Path $SpeedFolder 'Llama31Dense8B.gguf') -GpuName 'RTX 3060 8GB' -ContextLength 32768 -HostBandwidth 20
        $slowHost.DecodeTokensPerSecond | Should -BeLessThan $partial.DecodeTokensPerSecond
    }

    It 'takes the card''s figures from Get-GpuStatus objects by name' {
        $gpu = [Gryphgen.Core.Gpu.GpuStatus]@{ Index = 0; Name = 'NVIDIA GeForce RTX 4090'; MemoryTotal = 24GB; MemoryFree = 24GB; MemoryUsed = 0 }
        $gpu.MemoryBandwidthGBps | Should -Be 1008
        $fit = $gpu | Select-ModelForGpu -Path (Join-Path $SpeedFolder 'Llama31Dense8B.gguf') -ContextLength 8192 -HostBandwidth 60
        $fit.DecodeTokensPerSecond | Should -BeGreaterThan 50
    }

    It 'shows the decode speed in the default table at <Width> columns' -ForEach @(@{ Width = 80 }, @{ Width = 120 }) {
        $fit = Select-ModelForGpu -Path (Join-Path $SpeedFolder 'Llama31Dense8B.gguf') -GpuName 'RTX 4090' -ContextLength 8192 -HostBandwidth 60
        $table = $fit | Out-String -Width $Width
        $table | Should -Match '(?m)^Fit +Model +Layers .* tok/s +llama\.cpp\s*$'
        $table | Should -Match (" {0:0} " -f $fit.DecodeTokensPerSecond)
    }
}
