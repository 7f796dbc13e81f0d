# Tab completion as a user meets it: TabExpansion2 in a session with the built module, real pipes and agents.
BeforeAll {
    . $PSScriptRoot/common.ps1
    $env:GRYPHGEN_PIPE_DIR = Join-Path ([IO.Path]::GetTempPath()) "gryph-complete-$([guid]::NewGuid().ToString('N').Substring(0, 8))"
    function script:Complete([string] $line) {
        (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText
    }
}

AfterAll {
    Get-GryphAgent | Stop-GryphAgent
    Remove-Item -Recurse -Force $env:GRYPHGEN_PIPE_DIR -ErrorAction SilentlyContinue
    Remove-Item Env:GRYPHGEN_PIPE_DIR
}

Describe 'Tab completion' {
    It 'completes endpoint names from the pipe directory for -To, -Name and Start-GryphBridge' {
        New-GryphPipe -Name planner, poet | Out-Null
        Complete 'Send-GryphMessage -To pl' | Should -Be @('planner')
        Complete 'Receive-GryphMessage -Name p' | Should -Be @('planner', 'poet')
        Complete 'Get-GryphPipe -Name po' | Should -Be @('poet')
        Complete 'Remove-GryphPipe -Name pl' | Should -Be @('planner')
        Complete 'Start-GryphBridge -Name po' | Should -Be @('poet')
    }

    It 'completes the running agents for Stop-GryphAgent, Get-GryphAgent and Invoke-GryphChat -Participants' {
        Start-GryphAgent -Name 'analyst' -ScriptBlock { param($m) $m.Content } | Out-Null
        Complete 'Stop-GryphAgent -Name an' | Should -Be @('analyst')
        Complete 'Get-GryphAgent -Name an' | Should -Be @('analyst')
        Complete 'Invoke-GryphChat -Participants an' | Should -Be @('analyst')
        Complete 'Send-GryphMessage -To an' | Should -Contain 'analyst'
    }

    It 'completes architectures Find-GgufModel has seen, then common ones' {
        $folder = Join-Path ([IO.Path]::GetTempPath()) ("gryph-arch-" + [guid]::NewGuid().ToString('N'))
        New-Item -ItemType Directory -Path $folder | Out-Null
        try {
            [void][Gryphgen.Core.Gguf.GgufModelBuilder]::Write([Gryphgen.Core.Gguf.GgufModelShape]@{ Architecture = 'deci'; Name = 'seen'; VocabularySize = 300; BlockCount = 2 }, (Join-Path $folder 'seen.gguf'))
            Complete 'Find-GgufModel -Architecture dec' | Should -BeNullOrEmpty
            Find-GgufModel $folder | Out-Null
            Complete 'Find-GgufModel -Architecture dec' | Should -Be @('deci')
            Complete 'Find-GgufModel -Architecture qwen3n' | Should -Be @('qwen3next')
        }
        finally {
            Remove-Item -Recurse -Force $folder
        }
    }
}
