# What a user is shown must work as written: every PowerShell block of the README and every help EXAMPLE in
# docs/en-US runs in a fresh pwsh with the built module imported, and fails the test on any error, terminating or
# not. The README's quick start runs as one session, block after block, as a user pastes it; every other block and
# every help example runs alone, since a user copies one at a time.
#
# A block whose first line is a comment starting "# Needs:" (a GPU, a server, a model file, another program) or
# "# Runs until Ctrl+C" is skipped here, with that comment as the reason; it tells the reader the same. Output
# shown in the help is in ```Output blocks and is not run.
BeforeDiscovery {
    . $PSScriptRoot/common.ps1

    function Get-PowerShellBlock([string] $Markdown) {
        # Fenced ```powershell blocks, in order; the fences of the help compiler's input, so what runs is what Get-Help shows.
        [regex]::Matches($Markdown, '(?ms)^```powershell[ \t]*\r?\n(.*?)^```[ \t]*$') | ForEach-Object { $_.Groups[1].Value.TrimEnd() }
    }

    function Get-SkipReason([string] $Code) {
        $first = ($Code -split '\r?\n')[0].Trim()
        if ($first -match '^# (Needs:.*|Runs until Ctrl\+C.*)$') { $Matches[1] } else { $null }
    }

    $readme = Get-Content -Raw (Join-Path $RepositoryRoot 'README.md')
    $quickStartText = [regex]::Match($readme, '(?ms)^## Quick start\s*$(.*?)(?=^## )').Groups[1].Value
    $script:QuickStart = @{ Blocks = @(Get-PowerShellBlock $quickStartText | Where-Object { -not (Get-SkipReason $_) }) }

    $rest = $readme.Replace($quickStartText, '')
    $script:ReadmeBlocks = @(Get-PowerShellBlock $rest | ForEach-Object -Begin { $n = 0 } -Process {
            $n++
            @{ Name = "README block $n ($((($_ -split '\r?\n') | Where-Object { $_ -notmatch '^\s*#' } | Select-Object -First 1).Trim()))"; Code = $_; Skip = Get-SkipReason $_ }
        })

    # about_Gryphgen's tour: indented parts, each opened by comment lines; a part whose comments say "needs" is skipped.
    $about = Get-Content -Raw (Join-Path $RepositoryRoot 'docs/en-US/about_Gryphgen.md')
    $tour = [regex]::Match($about, '(?ms)^## A TOUR\s*$(.*?)(?=^## )').Groups[1].Value
    $script:TourParts = @([regex]::Matches($tour, '(?m)(?:^    .*\r?\n)+') | ForEach-Object {
            $code = ($_.Value -split '\r?\n' | ForEach-Object { $_ -replace '^    ', '' }) -join "`n"
            $comments = ($code -split "`n" | Where-Object { $_ -match '^#' }) -join ' '
            @{ Name = $comments.TrimStart('# '); Code = $code.Trim(); Skip = if ($comments -match '\((needs [^)]*)\)') { $Matches[1] } }
        })

    $script:HelpExamples = foreach ($page in Get-ChildItem (Join-Path $RepositoryRoot 'docs/en-US') -Filter '*-*.md') {
        $markdown = Get-Content -Raw $page.FullName
        $examples = [regex]::Match($markdown, '(?ms)^## EXAMPLES\s*$(.*?)(?=^## )').Groups[1].Value
        foreach ($example in [regex]::Matches($examples, '(?ms)^### (Example \d+[^\r\n]*)\r?\n(.*?)(?=^### |\z)')) {
            $blocks = @(Get-PowerShellBlock $example.Groups[2].Value)
            $skip = $blocks | ForEach-Object { Get-SkipReason $_ } | Select-Object -First 1
            @{ Name = "$($page.BaseName): $($example.Groups[1].Value)"; Code = $blocks -join "`n"; Skip = $skip }
        }
    }
}

BeforeAll {
    . $PSScriptRoot/common.ps1
    # The output folder holds Gryphgen/<version>/Gryphgen.psd1, so on PSModulePath it is an installed module: a
    # thread job or `Import-Module Gryphgen` in an example finds it as a user's would.
    $script:ModuleRoot = Join-Path $RepositoryRoot 'output'

    function Invoke-Example([string] $Code, [int] $TimeoutSeconds = 90) {
        # A private HOME, working folder and pipe directory: an example never meets the user's models, pipes or
        # files, nor another example's; the sandbox goes when the example ends.
        $sandbox = Join-Path ([IO.Path]::GetTempPath()) "gryph-example-$([guid]::NewGuid().ToString('N').Substring(0, 12))"
        foreach ($folder in '.local/share', '.config', '.cache') { New-Item -ItemType Directory -Force (Join-Path $sandbox $folder) | Out-Null }
        $examplePath = Join-Path $sandbox 'example.ps1'
        Set-Content -Path $examplePath -Value $Code
        # The example runs as a script block of its own, its output rendered as the console would (so the format
        # views run too); any error record left in $Error fails it, a non-terminating one included.
        $runner = @"
Import-Module Gryphgen
`$Error.Clear()
try { & '$examplePath' | Out-String -Width 120 | Write-Output }
catch { Write-Output "TERMINATING: `$(`$_ | Out-String)"; exit 2 }
if (`$Error.Count) { `$Error | ForEach-Object { Write-Output "ERROR: `$(`$_.FullyQualifiedErrorId): `$_" }; exit 1 }
exit 0
"@
        $psi = [System.Diagnostics.ProcessStartInfo]::new($PwshPath)
        foreach ($a in '-NoProfile', '-NonInteractive', '-Command', $runner) { $psi.ArgumentList.Add($a) }
        $psi.Environment['HOME'] = $sandbox
        $psi.Environment['XDG_DATA_HOME'] = Join-Path $sandbox '.local/share'
        $psi.Environment['XDG_CONFIG_HOME'] = Join-Path $sandbox '.config'
        $psi.Environment['XDG_CACHE_HOME'] = Join-Path $sandbox '.cache'
        $psi.Environment['GRYPHGEN_PIPE_DIR'] = Join-Path $sandbox 'pipes' # made by the module, 0700, as a user's is
        $psi.Environment['PSModulePath'] = $ModuleRoot
        $psi.WorkingDirectory = $sandbox
        $psi.RedirectStandardOutput = $true
        $psi.RedirectStandardError = $true
        $psi.UseShellExecute = $false
        try {
            $process = [System.Diagnostics.Process]::Start($psi)
            $stderr = $process.StandardError.ReadToEndAsync()
            $stdout = $process.StandardOutput.ReadToEndAsync()
            if (-not $process.WaitForExit($TimeoutSeconds * 1000)) {
                $process.Kill($true)
                throw "The example did not finish within $TimeoutSeconds s:`n$Code"
            }
            [pscustomobject]@{ ExitCode = $process.ExitCode; Output = $stdout.Result + $stderr.Result }
        }
        finally {
            Remove-Item -Recurse -Force $sandbox -ErrorAction SilentlyContinue
        }
    }
}

Describe "The README's quick start" {
    It 'runs as pasted into one pwsh, and the agent it starts replies' -ForEach $QuickStart {
        $Blocks.Count | Should -BeGreaterOrEqual 2 -Because 'the quick start has blocks that need no GPU'
        $result = Invoke-Example ($Blocks -join "`n")
        $result.ExitCode | Should -Be 0 -Because $result.Output
        $result.Output | Should -Match 'You said: Hello, echo'
    }
}

Describe 'about_Gryphgen, a tour: <Name>' -ForEach $TourParts {
    It 'runs as pasted' {
        if ($Skip) { Set-ItResult -Skipped -Because $Skip; return }
        $result = Invoke-Example $Code
        $result.ExitCode | Should -Be 0 -Because $result.Output
    }
}

Describe 'The README: <Name>' -ForEach $ReadmeBlocks {
    It 'runs as written' {
        if ($Skip) { Set-ItResult -Skipped -Because $Skip; return }
        $result = Invoke-Example $Code
        $result.ExitCode | Should -Be 0 -Because $result.Output
    }
}

Describe 'Help: <Name>' -ForEach $HelpExamples {
    It 'runs as written' {
        if ($Skip) { Set-ItResult -Skipped -Because $Skip; return }
        $result = Invoke-Example $Code
        $result.ExitCode | Should -Be 0 -Because $result.Output
    }

    It 'shows code, not prompts or output' {
        $Code | Should -Not -Match '(?m)^(PS>|>>)' -Because 'output and prompts belong in an ```Output block, so copying the code copies only code'
    }
}

Describe 'The README as a user''s guide' {
    BeforeAll {
        $script:Readme = Get-Content -Raw (Join-Path $RepositoryRoot 'README.md')
        $script:TestCommand = 'dotnet tool restore && dotnet pwsh ./build.ps1 -Task Test'
    }

    It 'states the test command that .ci/run runs, exactly' {
        $Readme | Should -Match ([regex]::Escape("``````sh`n$TestCommand`n``````"))
        $ciCommands = Get-Content (Join-Path $RepositoryRoot '.ci/run') | Where-Object { $_ -and $_ -notmatch '^\s*#' -and $_ -match '^\S' }
        $ciCommands[-1] | Should -BeExactly $TestCommand
    }

    It 'shows installing and importing on its first screen' {
        $firstScreen = ($Readme -split '\r?\n' | Select-Object -First 40) -join "`n"
        $firstScreen | Should -Match 'Install-PSResource'
        $firstScreen | Should -Match 'Import-Module'
        $firstScreen | Should -Match 'dotnet pwsh ./build.ps1 -Task Build'
    }

    It 'keeps measurements and design notes in docs/, and links them' {
        $Readme | Should -Not -Match '(?i)\bsession\b|\bpass on issue|\bµs\b|GB/s'
        foreach ($page in 'docs/performance.md', 'docs/design.md') {
            Join-Path $RepositoryRoot $page | Should -Exist
            $Readme | Should -Match ([regex]::Escape("($page)"))
        }
        Get-Content -Raw (Join-Path $RepositoryRoot 'docs/performance.md') | Should -Match ([regex]::Escape('./build.ps1 -Task Bench'))
    }

    It 'shows -AllowShared wherever it talks to the perl_pipes scripts'' pipes' {
        $lines = $Readme -split '\r?\n' | Where-Object { $_ -match '/tmp/model\d_to_model\d' -and $_ -match 'GryphMessage' }
        $lines | Should -Not -BeNullOrEmpty
        $lines | ForEach-Object { $_ | Should -Match '-AllowShared' }
    }
}
