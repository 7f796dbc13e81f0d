# The default tables as a user sees them: rendered with Out-String at 80 and at 120 columns, each must keep its
# important column on screen and whole. Objects come from the cmdlets where they need no server, otherwise they are
# built as the cmdlets build them.
BeforeAll {
    . $PSScriptRoot/common.ps1

    function Get-ColumnText([string] $Table, [string] $Label) {
        # The text of the last column, whose header is $Label, joined across the lines a wrapped row takes.
        $lines = $Table -split '\r?\n' | Where-Object { $_.Trim() }
        $header = $lines | Where-Object { $_ -match "(^|\s)$([regex]::Escape($Label))\s*$" } | Select-Object -First 1
        if (-not $header) { throw "No column '$Label' as the last one in:`n$Table" }
        $start = $header.LastIndexOf($Label)
        $body = $lines | Select-Object -Skip ([array]::IndexOf($lines, $header) + 2)
        ($body | ForEach-Object { if ($_.Length -gt $start) { $_.Substring($start).TrimEnd() } }) -join ''
    }

    function Get-ColumnWidth([string] $Table, [string] $Label, [int] $Width) {
        # A column's width: from its header to the next header, or to the edge for the last one.
        $header = ($Table -split '\r?\n' | Where-Object { $_ -match "(^|\s)$([regex]::Escape($Label))(\s|$)" } | Select-Object -First 1)
        $start = ([regex]::Match($header, "(?<=^|\s)$([regex]::Escape($Label))(?=\s|$)")).Index
        $next = [regex]::Match($header.Substring($start + $Label.Length), '\S')
        if ($next.Success) { $Label.Length + $next.Index - 1 } else { $Width - $start }
    }

    $script:Message = [Gryphgen.Core.Messaging.GryphMessage]@{
        Id = '9f0c1e2a77aa4c1b'; From = 'alice'; To = 'bob'; ReplyTo = '1b8feabc0011'
        Timestamp = [DateTime]::UtcNow; Content = 'The quick brown fox jumps over the lazy dog, then naps.'
    }
    $script:Chat = [Gryphgen.Core.Agents.ChatTranscriptEntry]@{
        Round = 1; From = 'alice'; To = 'bob'; Latency = [TimeSpan]::FromMilliseconds(812); PromptTokens = 12; CompletionTokens = 30
        Content = 'A reply that runs longer than one line of an eighty-column console, so that it has to wrap to stay whole.'
    }
}

Describe 'Default views at <Width> columns' -ForEach @(@{ Width = 80 }, @{ Width = 120 }) {
    It 'keeps the <Type> table''s header on one line' -ForEach @(
        @{ Type = 'GryphMessage' }, @{ Type = 'ChatTranscriptEntry' }, @{ Type = 'GryphPipe' }, @{ Type = 'GryphAgent' }
    ) {
        $env:GRYPHGEN_PIPE_DIR = Join-Path ([IO.Path]::GetTempPath()) "gryph-views-$([guid]::NewGuid().ToString('N').Substring(0, 8))"
        try {
            $item = switch ($Type) {
                'GryphMessage' { $Message }
                'ChatTranscriptEntry' { $Chat }
                'GryphPipe' { New-GryphPipe -Name 'an-endpoint-with-a-long-name' }
                'GryphAgent' { Start-GryphAgent -Name 'views-agent' -ScriptBlock { param($message) 'a reply from a script block agent' } }
            }
            $lines = ($item | Out-String -Width $Width) -split '\r?\n' | Where-Object { $_.Trim() }
            $lines[1] | Should -Match '^-+( +-+)*$' -Because "the header must not wrap:`n$($lines -join "`n")"
            $lines | ForEach-Object { $_.Length | Should -BeLessOrEqual $Width }
        }
        finally {
            Get-GryphAgent | Stop-GryphAgent
            Remove-Item -Recurse -Force $env:GRYPHGEN_PIPE_DIR -ErrorAction SilentlyContinue
        }
    }

    It 'gives a message''s Content more room than From, To or ReplyTo' {
        $table = $Message | Out-String -Width $Width
        $content = Get-ColumnWidth $table 'Content' $Width
        foreach ($label in 'From', 'To', 'ReplyTo') { $content | Should -BeGreaterThan (Get-ColumnWidth $table $label $Width) }
        $table | Should -Match 'The quick brown fox'
    }

    It 'keeps a GPU''s alerts on screen' {
        $gpu = [Gryphgen.Core.Gpu.GpuStatus]@{
            Index = 0; Name = 'NVIDIA GeForce RTX 4090'; MemoryTotal = 24GB; MemoryUsed = 23GB; TemperatureC = 85
            UtilizationGpu = 97; PowerDrawW = 402; PowerLimitW = 450; Alerts = [string[]]@('Memory 95.8% > 90%', 'Temperature 85 C > 80 C')
        }
        $table = $gpu | Out-String -Width $Width
        ($table -split '\r?\n' | Where-Object { $_.Trim() })[1] | Should -Match '^-+( +-+)*$' -Because "the header must not wrap:`n$table"
        $table | Should -Match 'RTX 4090'
        (Get-ColumnText $table 'Alerts') -replace '\s', '' | Should -Be 'MemTemp' -Because 'Mem and Temp stand for the two alerts'
    }

    It 'shows a chat line''s whole Content' {
        $table = $Chat | Out-String -Width $Width
        (Get-ColumnText $table 'Content') -replace '\s', '' | Should -Be ($Chat.Content -replace '\s', '')
    }

    It 'keeps the llama.cpp arguments of a fit on screen, and the header on one line' -Skip:$SkipSharedTestData {
        $fit = Find-GgufModel -Path (Join-Path $SharedTestData 'gguf') -WarningAction Ignore |
            Select-ModelForGpu -GpuName 'RTX 4090' -ErrorAction Ignore | Select-Object -First 1
        $table = $fit | Out-String -Width $Width
        $table | Should -Match '(?m)^Fit +Model +Layers .* llama\.cpp\s*$'
        (Get-ColumnText $table 'llama.cpp') -replace '\s', '' | Should -Be ($fit.LlamaCppArguments -replace '\s', '')
    }

    It 'keeps each model''s whole file name, and labels sizes in binary units' -Skip:$SkipSharedTestData {
        $models = @(Find-GgufModel -Path (Join-Path $SharedTestData 'gguf') -WarningAction Ignore | Select-Object -First 3)
        foreach ($model in $models) {
            $table = $model | Out-String -Width $Width
            Get-ColumnText $table 'File' | Should -Be ([IO.Path]::GetFileName($model.Path))
            $table | Should -Match '\d (GiB|MiB|KiB)\b'
            $table | Should -Not -Match '\d (GB|MB|KB)\b'
        }
    }
}

Describe 'The tensors of a model at <Width> columns' -ForEach @(@{ Width = 80 }, @{ Width = 120 }) -Skip:$SkipSharedTestData {
    It 'shows each tensor''s name, type, shape and size in binary units' {
        $model = Find-GgufModel -Path (Join-Path $SharedTestData 'gguf/llama-2-tiny-random.gguf')
        $table = $model.GetTensors() | Select-Object -First 3 | Out-String -Width $Width
        $table | Should -Match '(?m)^Name +Type +Shape +Size\s*$'
        $table | Should -Match '(?m)^token_embd\.weight +F16 +8 x 32000 +500\.0 KiB\s*$'
    }
}

Describe 'ModelFit as flat text' -Skip:$SkipSharedTestData {
    BeforeAll {
        $script:Fits = @(Find-GgufModel -Path (Join-Path $SharedTestData 'gguf') -WarningAction Ignore |
                Select-ModelForGpu -GpuName 'RTX 4090' -ErrorAction Ignore)
    }

    It 'says in a CSV row which model it is about, where it lies and how it is split' {
        $rows = $Fits | ConvertTo-Csv | ConvertFrom-Csv
        $rows[0].ModelName | Should -Be $Fits[0].Model.Name
        $rows[0].ModelPath | Should -Be $Fits[0].Model.Path
        $rows[0].DeviceSummary | Should -BeLike 'RTX 4090: * layers, * of *'
        $rows[0].OllamaOptionsText | Should -Match '^num_gpu=\d+ num_ctx=\d+$'
        foreach ($column in 'ModelName', 'ModelPath', 'DeviceSummary', 'OllamaOptionsText') {
            $rows.$column | Should -Not -Match 'Gryphgen\.Core|System\.Collections'
        }
    }
}
