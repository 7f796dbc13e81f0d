# Find-GgufModel as a user meets it: the built module, real GGUF files written by llama.cpp and Ollama, and model
# folders made here with the module's own GGUF writer.
# -Skip is evaluated at discovery, before BeforeAll runs, so the flag must exist then (common.ps1 sets it again,
# and throws under CI=true when the data is missing).
BeforeDiscovery { $SkipSharedTestData = -not (Test-Path (Join-Path $PSScriptRoot '../../shared/testdata')) }

BeforeAll {
    . $PSScriptRoot/common.ps1
    $script:GgufFolder = Join-Path $SharedTestData 'gguf'

    function New-TestModel([string] $Path, [string] $Name = 'Tiny', [string] $FileType = 'Q8_0') {
        New-Item -ItemType Directory -Force -Path (Split-Path $Path) | Out-Null
        $shape = [Gryphgen.Core.Gguf.GgufModelShape]@{
            Name = $Name; VocabularySize = 300; BlockCount = 1; EmbeddingLength = 256; FeedForwardLength = 256; FileType = $FileType
        }
        [void][Gryphgen.Core.Gguf.GgufModelBuilder]::Write($shape, $Path)
    }
}

Describe 'Find-GgufModel on the shared GGUF files' -Skip:$SkipSharedTestData {
    It 'reads every file by its header' {
        $models = Find-GgufModel -Path $GgufFolder
        $models | Should -HaveCount 10
        $models | ForEach-Object { $_ | Should -BeOfType ([Gryphgen.Core.Gguf.GgufModel]) }
        ($models | Where-Object Kind -EQ 'VocabOnly') | Should -HaveCount 9
        ($models | Where-Object Architecture -EQ 'starcoder2').VocabularySize | Should -Be 49152
    }

    It 'reports the facts of llama-2-tiny-random.gguf' {
        $tiny = Find-GgufModel -Path (Join-Path $GgufFolder 'llama-2-tiny-random.gguf')
        $tiny.Architecture | Should -Be 'llama'
        $tiny.Name | Should -Be 'LLaMA v2'
        $tiny.FileType | Should -Be 'F16'
        $tiny.ContextLength | Should -Be 4096
        $tiny.EmbeddingLength | Should -Be 8
        $tiny.BlockCount | Should -Be 1
        $tiny.HeadCountKv | Should -Be 2
        $tiny.VocabularySize | Should -Be 32000
        $tiny.FileSize | Should -Be 1750560
        @($tiny.GetTensors()) | Should -HaveCount 12
        $tiny.GetMetadata()['general.name'].Value | Should -Be 'LLaMA v2'
    }

    It 'filters by size, architecture and name' {
        Find-GgufModel -Path $GgufFolder -MinSize 1MB | Should -HaveCount 7
        Find-GgufModel -Path $GgufFolder -MaxSize 700KB | Should -HaveCount 1
        Find-GgufModel -Path $GgufFolder -Architecture llama | Should -HaveCount 3
        Find-GgufModel -Path $GgufFolder -Architecture 'gpt*', 'phi3' | Should -HaveCount 3
        (Find-GgufModel -Path $GgufFolder -Name '*starcoder*').Architecture | Should -Be 'starcoder2'
    }

    It 'takes files from Get-ChildItem through the pipeline' {
        Get-ChildItem $GgufFolder -Filter *.gguf | Find-GgufModel | Should -HaveCount 10
    }

    It 'takes -MaxAge as days or as a TimeSpan' {
        Find-GgufModel -Path $GgufFolder -MaxAge 36500 | Should -HaveCount 10
        Find-GgufModel -Path $GgufFolder -MaxAge (New-TimeSpan -Seconds 1) | Should -HaveCount 0
    }

    It 'serialises to JSON and CSV without dragging the vocabulary along' {
        $json = Find-GgufModel -Path $GgufFolder | ConvertTo-Json -Depth 3
        ($json | ConvertFrom-Json) | Should -HaveCount 10
        $json.Length | Should -BeLessThan 100KB
        $csv = Find-GgufModel -Path $GgufFolder | ConvertTo-Csv
        $csv | Should -HaveCount 11
    }

    It 'shows the default table' {
        $table = Find-GgufModel -Path (Join-Path $GgufFolder 'llama-2-tiny-random.gguf') | Out-String -Width 120 # 80 columns: Views.Tests.ps1
        $table | Should -Match 'Name\s+Arch\s+Params\s+Quant\s+Context\s+Size\s+File'
        $table | Should -Match 'LLaMA v2\s+llama\s+513K\s+F16\s+4096\s+1\.7 MiB\s+llama-2-tiny-random\.gguf'
    }
}

Describe 'Find-GgufModel on generated model folders' {
    BeforeAll {
        $script:Tree = Join-Path ([IO.Path]::GetTempPath()) "gryphgen-find-$([guid]::NewGuid())"
        New-TestModel (Join-Path $Tree 'a/plain.gguf') 'Plain'
        New-TestModel (Join-Path $Tree 'a/blob-with-no-extension') 'No extension'
        New-TestModel (Join-Path $Tree 'split/big-00001-of-00002.gguf') 'Split'
        Copy-Item (Join-Path $Tree 'split/big-00001-of-00002.gguf') (Join-Path $Tree 'split/big-00002-of-00002.gguf')
        New-TestModel (Join-Path $Tree 'broken/half-00001-of-00003.gguf') 'Half'
        Set-Content -Path (Join-Path $Tree 'a/x.gguf') -Value 'not a model'
        New-Item -ItemType SymbolicLink -Path (Join-Path $Tree 'link.gguf') -Target (Join-Path $Tree 'a/plain.gguf') | Out-Null
        $script:Big = Join-Path $Tree 'sparse/llama3-8b.Q4_K_M.gguf'
        New-Item -ItemType Directory -Force (Split-Path $Big) | Out-Null
        [void][Gryphgen.Core.Gguf.GgufModelBuilder]::Write([Gryphgen.Core.Gguf.GgufModelShape]::DenseLlama8B, $Big)
    }

    AfterAll { Remove-Item -Recurse -Force $Tree -ErrorAction SilentlyContinue }

    It 'finds models by magic, lists a linked file once and joins shards' {
        $models = Find-GgufModel -Path $Tree -ErrorAction SilentlyContinue
        $models.Name | Sort-Object | Should -Be @('Meta Llama 3 8B (shape only)', 'No extension', 'Plain', 'Split')
        ($models | Where-Object Name -EQ 'Split').Shards | Should -HaveCount 2
    }

    It 'reports a non-GGUF .gguf file and a missing shard with stable error ids' {
        Find-GgufModel -Path $Tree -ErrorVariable problems -ErrorAction SilentlyContinue | Out-Null
        $ids = $problems | ForEach-Object { $_.FullyQualifiedErrorId.Split(',')[0] } | Sort-Object
        $ids | Should -Be @('GgufNotGguf', 'GgufShardMissing')
        ($problems | Where-Object { $_.FullyQualifiedErrorId -like 'GgufNotGguf*' }).TargetObject | Should -Be (Join-Path $Tree 'a/x.gguf')
        ($problems | Where-Object { $_.FullyQualifiedErrorId -like 'GgufShardMissing*' }).Exception.Message | Should -Match 'half-00002-of-00003\.gguf'
        ($problems | Where-Object { $_.FullyQualifiedErrorId -like 'GgufNotGguf*' }).CategoryInfo.Category | Should -Be 'InvalidData'
    }

    It 'reads a sparse 8B-shaped Q4_K_M model written by the module' {
        $m = Find-GgufModel -Path $Big
        $m.ParameterCount | Should -Be 8030261248
        $m.FileType | Should -Be 'Q4_K_M'
        $m.HeadCount | Should -Be 32
        $m.HeadCountKv | Should -Be 8
        $m.FileSize | Should -BeGreaterThan 4GB
        Find-GgufModel -Path $Tree -MinSize 1GB -ErrorAction SilentlyContinue | Should -HaveCount 1
        Find-GgufModel -Path $Tree -MaxSize 14GB -MinSize 4GB -ErrorAction SilentlyContinue | ForEach-Object Path | Should -Be $Big
    }

    It 'reports a FIFO holding "GGUF" as one error and lists the folder''s models' -Skip:(-not $IsLinux) {
        $folder = Join-Path ([IO.Path]::GetTempPath()) "gryphgen-fifo-$([guid]::NewGuid())"
        New-TestModel (Join-Path $folder 'b-model.gguf') 'Beside the pipe'
        $fifo = Join-Path $folder 'a-pipe.gguf'
        mkfifo $fifo
        # Opened read-write, a FIFO never blocks its opener; the magic then waits in it for whoever reads.
        $holder = [IO.FileStream]::new($fifo, 'Open', 'ReadWrite')
        try {
            $holder.Write([Text.Encoding]::ASCII.GetBytes('GGUF'), 0, 4); $holder.Flush()
            # In a separate pwsh, so a scan that blocks on the pipe is killed rather than stalling the run.
            $peer = Start-FreshPwsh ("Find-GgufModel -Path '$folder' -ErrorVariable e -ErrorAction SilentlyContinue | ForEach-Object { 'model: ' + `$_.Name }; " +
                "`$e | ForEach-Object { 'error: ' + `$_.FullyQualifiedErrorId.Split(',')[0] + ' ' + `$_.TargetObject }")
            $exited = $peer.WaitForExit(60000)
            if (-not $exited) { $peer.Kill($true); $peer.WaitForExit() }
            $exited | Should -BeTrue -Because 'a FIFO in a scanned folder must not block the scan'
            $lines = $peer.StandardOutput.ReadToEnd() -split "`n" | ForEach-Object Trim | Where-Object { $_ }
            $lines | Should -Be @('model: Beside the pipe', "error: GgufNotGguf $fifo")
        }
        finally {
            $holder.Dispose()
            Remove-Item -Recurse -Force $folder
        }
    }

    It 'streams: the first model comes out before the scan has listed the folders after it' -Skip:(-not $IsLinux) {
        $folder = Join-Path ([IO.Path]::GetTempPath()) "gryphgen-stream-$([guid]::NewGuid())"
        New-TestModel (Join-Path $folder 'a-first.gguf') 'First'
        New-Item -ItemType Directory -Path (Join-Path $folder 'z-later') | Out-Null
        mkfifo (Join-Path $folder 'b-no-writer.gguf')  # no writer ever: the scan must not wait on it
        try {
            # The signal: on the first model out, a model is written into a folder the scan has not reached. Only a
            # scan that streams finds it; one that collects first has listed z-later before anything comes out.
            $seen = Find-GgufModel -Path $folder -ErrorAction SilentlyContinue | ForEach-Object {
                if ($_.Name -eq 'First') { New-TestModel (Join-Path $folder 'z-later/late.gguf') 'Late' }
                $_.Name
            }
            $seen | Should -Be @('First', 'Late')
        }
        finally { Remove-Item -Recurse -Force $folder }
    }

    It 'says "truncated" for a GGUF file cut short' {
        $cut = Join-Path $Tree 'cut/short.gguf'
        New-TestModel $cut 'Cut'
        $bytes = [IO.File]::ReadAllBytes($cut)
        [IO.File]::WriteAllBytes($cut, $bytes[0..([int]($bytes.Length / 3))])
        try {
            Find-GgufModel -Path $cut -ErrorVariable problems -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            $problems | Should -HaveCount 1
            $problems[0].FullyQualifiedErrorId | Should -BeLike 'GgufTruncated,*'
            $problems[0].ToString() | Should -BeLike "$cut is truncated*"
        }
        finally { Remove-Item -Recurse -Force (Split-Path $cut) }
    }

    It 'reports a path that does not exist' {
        Find-GgufModel -Path (Join-Path $Tree 'nope') -ErrorVariable problems -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $problems[0].FullyQualifiedErrorId | Should -BeLike 'PathNotFound*'
    }

    It 'searches the usual stores when no path is given' {
        $fakeHome = Join-Path $Tree 'home'
        New-TestModel (Join-Path $fakeHome '.lmstudio/models/pub/Repo-GGUF/repo.Q8_0.gguf') 'LM Studio model'
        $saved = $env:HOME
        try {
            $env:HOME = $fakeHome
            $env:OLLAMA_MODELS = $null; $env:HF_HUB_CACHE = $null; $env:HF_HOME = $null; $env:LLAMA_CACHE = $null
            $process = Start-FreshPwsh -Script 'Find-GgufModel | ForEach-Object { "$($_.Source)|$($_.Repository)|$($_.Name)" }'
            $out = $process.StandardOutput.ReadToEnd()
            $process.WaitForExit()
        }
        finally { $env:HOME = $saved }
        $out.Trim() | Should -Be 'LMStudio|pub/Repo-GGUF|LM Studio model'
    }
}
