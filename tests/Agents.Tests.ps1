# Agents and chats as a user meets them: the built module, agents on background threads of this pwsh, real FIFOs,
# a real OpenAI-compatible HTTP server on 127.0.0.1, and llama.cpp in-process on the shared tiny random model.
# -Skip is evaluated at discovery, before BeforeAll runs, so the flag must exist then (common.ps1 sets it again,
# and throws under CI=true when the data is missing).
BeforeDiscovery { $SkipSharedTestData = -not (Test-Path (Join-Path $PSScriptRoot '../../shared/testdata')) }

BeforeAll {
    . $PSScriptRoot/common.ps1
    $env:GRYPHGEN_PIPE_DIR = Join-Path ([IO.Path]::GetTempPath()) "gryph-agents-$([guid]::NewGuid().ToString('N').Substring(0, 8))"
    $script:TinyModel = Join-Path $SharedTestData 'gguf/llama-2-tiny-random.gguf'
    New-GryphPipe -Name me | Out-Null

    function Send-Request([string] $To, [string] $Content) {
        Send-GryphMessage -To $To -From me -Content $Content -PassThru
    }

    function Receive-Reply { Receive-GryphMessage -Name me -TimeoutSeconds 30 }

    function Start-FakeChatServer([string] $Statuses) {
        $dir = Join-Path $TestDrive ([guid]::NewGuid().ToString('N'))
        New-Item -ItemType Directory $dir | Out-Null
        $portFile = Join-Path $dir 'port'; $log = Join-Path $dir 'requests.jsonl'
        $process = Start-Process python3 -ArgumentList @("$PSScriptRoot/fake_chat_server.py", $portFile, $log, $Statuses) -PassThru
        $deadline = [DateTime]::UtcNow.AddSeconds(60)
        while (-not ((Test-Path $portFile) -and (Get-Content -Raw $portFile))) {
            if ([DateTime]::UtcNow -gt $deadline) { throw 'the fake chat server did not start' }
            Start-Sleep -Milliseconds 20
        }
        [pscustomobject]@{ Process = $process; Uri = "http://127.0.0.1:$((Get-Content -Raw $portFile).Trim())"; Log = $log }
    }
}

AfterAll {
    Get-GryphAgent | Stop-GryphAgent -Force
    Remove-Item -Recurse -Force $env:GRYPHGEN_PIPE_DIR -ErrorAction SilentlyContinue
}

Describe 'Start-GryphAgent with a script block, Get-GryphAgent, Stop-GryphAgent' {
    AfterEach { Get-GryphAgent | Stop-GryphAgent -Force }

    It 'answers every message to its sender with ReplyTo, keeps the history, and shows in Get-GryphAgent' {
        $agent = Start-GryphAgent -Name echo -SystemPrompt 'Echo things.' -ScriptBlock {
            param($message, $history)
            "$($history.Count) turns; from $($message.From): $($message.Content.ToUpper())"
        }
        $agent.Name | Should -Be echo
        $agent.State | Should -Be 'Running'
        (Get-GryphPipe -Name echo).Readers.ProcessId | Should -Contain $PID

        $first = Send-Request echo 'hello'
        $reply = Receive-Reply
        $reply.ReplyTo | Should -Be $first.Id
        $reply.From | Should -Be echo
        $reply.Content | Should -Be '2 turns; from me: HELLO'
        $second = Send-Request echo 'again'
        $reply = Receive-Reply
        $reply.ReplyTo | Should -Be $second.Id
        $reply.Content | Should -Be '4 turns; from me: AGAIN'
        $reply.Metadata.historyMessages | Should -Be '4'

        $listed = Get-GryphAgent -Name echo
        $listed.MessagesHandled | Should -Be 2
        $listed.Backend | Should -BeLike 'scriptblock:*'
        $listed.LastError | Should -BeNullOrEmpty
        Get-Content (Join-Path $env:GRYPHGEN_PIPE_DIR 'echo.agent.log') -Raw | Should -Match '\[INFO\] Received message'
    }

    It 'refuses a second agent on the same endpoint' {
        Start-GryphAgent -Name twice -ScriptBlock { 'x' } | Out-Null
        Start-GryphAgent -Name twice -ScriptBlock { 'y' } -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -BeLike 'GryphAgentAlreadyRunning,*'
    }

    It 'removes the inbox on stop only when it created it' {
        Start-GryphAgent -Name made-here -ScriptBlock { 'x' } | Out-Null
        New-GryphPipe -Name made-before | Out-Null
        Start-GryphAgent -Name made-before -ScriptBlock { 'x' } | Out-Null
        Stop-GryphAgent -Name made-here, made-before
        Get-GryphPipe -Name made-here -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        Get-GryphPipe -Name made-before | Should -Not -BeNullOrEmpty
        Get-GryphAgent | Should -BeNullOrEmpty
    }

    It 'stops mid-generation within a second, replies Cancelled, and leaves the inbox usable' {
        New-GryphPipe -Name slow | Out-Null
        Start-GryphAgent -Name slow -ScriptBlock { Start-Sleep -Seconds 60; 'too late' } | Out-Null
        $request = Send-Request slow 'think'
        $deadline = [DateTime]::UtcNow.AddSeconds(10)
        while (-not (Get-GryphAgent slow).InFlight) {
            if ([DateTime]::UtcNow -gt $deadline) { throw 'the agent never started on the message' }
            Start-Sleep -Milliseconds 10
        }

        # The sender waits for its reply in another process, as a chat would, while the agent is stopped.
        $peer = Start-FreshPwsh -Script "Receive-GryphMessage -Name me -TimeoutSeconds 30 | ConvertTo-Json -Depth 4"
        $meDeadline = [DateTime]::UtcNow.AddSeconds(30)
        while (-not ((Get-GryphPipe -Name me).Readers | Where-Object ProcessId -EQ $peer.Id)) {
            if ([DateTime]::UtcNow -gt $meDeadline) { throw 'the peer never opened its inbox' }
            Start-Sleep -Milliseconds 20
        }

        $elapsed = Measure-Command { Stop-GryphAgent -Name slow }
        $elapsed.TotalMilliseconds | Should -BeLessThan 1000
        $peer.WaitForExit(30000) | Should -BeTrue
        $cancelled = $peer.StandardOutput.ReadToEnd() | ConvertFrom-Json
        $cancelled.ReplyTo | Should -Be $request.Id
        $cancelled.Metadata.error | Should -Be 'Cancelled'

        Start-GryphAgent -Name slow -ScriptBlock { param($m) "fresh: $($m.Content)" } | Out-Null
        $next = Send-Request slow 'still there?'
        $reply = Receive-Reply
        $reply.ReplyTo | Should -Be $next.Id
        $reply.Content | Should -Be 'fresh: still there?'
    }

    It 'answers a failing script with a BackendFailed error reply and keeps serving' {
        Start-GryphAgent -Name flaky -ScriptBlock { param($m) if ($m.Content -eq 'fail') { throw 'kaput' } 'ok' } | Out-Null
        Send-Request flaky 'fail' | Out-Null
        $error1 = Receive-Reply
        $error1.Metadata.error | Should -Be 'BackendFailed'
        $error1.Metadata.errorMessage | Should -Match 'kaput'
        Send-Request flaky 'fine' | Out-Null
        (Receive-Reply).Content | Should -Be 'ok'
        (Get-GryphAgent flaky).LastError | Should -Match 'kaput'
    }
}

Describe 'Start-GryphAgent -OpenAIBaseUri against a local chat-completions server' {
    AfterEach { Get-GryphAgent | Stop-GryphAgent -Force }

    It 'sends the documented streaming request with the system prompt and key, and replies with tokens' {
        $server = Start-FakeChatServer '200'
        try {
            $env:GRYPH_TEST_KEY = 'sk-test-123'
            Start-GryphAgent -Name web -OpenAIBaseUri $server.Uri -ModelName tiny -ApiKeyEnvironmentVariable GRYPH_TEST_KEY -SystemPrompt 'Be terse.' | Out-Null
            $request = Send-Request web 'Hi there'
            $reply = Receive-Reply
            $reply.ReplyTo | Should -Be $request.Id
            $reply.Content | Should -Be 'Hello from fake'
            $reply.Metadata.promptTokens | Should -Be '12'
            $reply.Metadata.completionTokens | Should -Be '3'

            $sent = Get-Content $server.Log | ConvertFrom-Json
            $sent.path | Should -Be '/v1/chat/completions'
            $sent.authorization | Should -Be 'Bearer sk-test-123'
            $sent.body.model | Should -Be 'tiny'
            $sent.body.stream | Should -BeTrue
            $sent.body.messages.role | Should -Be @('system', 'user')
            $sent.body.messages.content | Should -Be @('Be terse.', 'Hi there')
            Get-Content -Raw (Join-Path $env:GRYPHGEN_PIPE_DIR 'web.agent.log') | Should -Not -Match 'sk-test-123'
        }
        finally { $server.Process.Kill(); Remove-Item env:GRYPH_TEST_KEY }
    }

    It 'turns 429 and 500 into error replies and the last error, then answers the next message' {
        $server = Start-FakeChatServer '429,500,200'
        try {
            Start-GryphAgent -Name web -OpenAIBaseUri "$($server.Uri)/v1" -ModelName tiny | Out-Null
            foreach ($status in 429, 500) {
                $request = Send-Request web "try $status"
                $reply = Receive-Reply
                $reply.ReplyTo | Should -Be $request.Id
                $reply.Metadata.error | Should -Be 'HttpError'
                $reply.Metadata.httpStatus | Should -Be "$status"
                (Get-GryphAgent web).LastError | Should -Match "$status"
            }
            Send-Request web 'third time' | Out-Null
            (Receive-Reply).Content | Should -Be 'Hello from fake'
            (Get-GryphAgent web).Errors | Should -Be 2
            # every request carried the whole conversation so far, failed exchanges left out
            (Get-Content $server.Log | ConvertFrom-Json)[-1].body.messages.Count | Should -Be 1
        }
        finally { $server.Process.Kill() }
    }

    It 'answers BackendUnavailable when the server is down, and keeps serving' {
        $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0); $listener.Start()
        $port = $listener.LocalEndpoint.Port; $listener.Stop()
        Start-GryphAgent -Name down -OpenAIBaseUri "http://127.0.0.1:$port" -ModelName m | Out-Null
        1..2 | ForEach-Object {
            $request = Send-Request down "ping $_"
            $reply = Receive-Reply
            $reply.ReplyTo | Should -Be $request.Id
            $reply.Metadata.error | Should -Be 'BackendUnavailable'
        }
        (Get-GryphAgent down).State | Should -Be 'Running'
    }
}

Describe 'Start-GryphAgent -ModelPath (llama.cpp in-process) and Invoke-GryphChat' -Skip:$SkipSharedTestData {
    AfterEach { Get-GryphAgent | Stop-GryphAgent -Force }

    It 'chats between two llama.cpp agents: reply ids match, history grows every round, tokens are reported' {
        Start-GryphAgent -Name alpha -ModelPath $TinyModel -MaxTokens 8 -ContextLength 512 -SystemPrompt 'You are alpha.' | Out-Null
        Find-GgufModel -Path (Split-Path $TinyModel) -Name 'llama-2-tiny*' | Start-GryphAgent -Name beta -MaxTokens 8 -ContextLength 512 | Out-Null
        (Get-GryphAgent beta).Backend | Should -BeLike 'llama.cpp:llama-2-tiny-random.gguf*'
        $transcript = Join-Path $TestDrive 'chat.jsonl'

        $lines = @(Invoke-GryphChat -Participants alpha, beta -Opening 'Hello!' -Rounds 3 -Transcript $transcript)

        $lines.Count | Should -Be 7
        $replies = $lines | Where-Object Round -GT 0
        $replies.From | Should -Be @('alpha', 'beta', 'alpha', 'beta', 'alpha', 'beta')
        foreach ($line in $replies) {
            $line.ReplyTo | Should -Be $line.RequestId
            $line.PromptTokens | Should -BeGreaterThan 0
            $line.CompletionTokens | Should -BeGreaterThan 0
            $line.Tokens | Should -Be ($line.PromptTokens + $line.CompletionTokens)
            $line.Latency | Should -BeOfType [timespan]
        }
        ($replies | Where-Object From -EQ alpha).HistoryMessages | Should -Be @(2, 4, 6)
        ($replies | Where-Object From -EQ beta).HistoryMessages | Should -Be @(1, 3, 5)
        $saved = Get-Content $transcript | ConvertFrom-Json
        $saved.Count | Should -Be 7
        $saved[1].ReplyTo | Should -Be $lines[1].RequestId
        Get-GryphPipe | Where-Object Name -Like 'chat-*' | Should -BeNullOrEmpty
        (Get-GryphAgent alpha).MessagesHandled | Should -Be 3
    }

    It 'takes GPU layers and context from a piped ModelFit, but not the trained context of a GgufModel' {
        [pscustomobject]@{ PSTypeName = 'Gryphgen.Fit.ModelFit'; Path = $TinyModel; GpuLayers = 0; ContextLength = 256 } |
            Start-GryphAgent -Name fitted | Out-Null
        (Get-GryphAgent fitted).Backend | Should -BeLike '*(gpu layers 0, context 256)'
        Find-GgufModel -Path (Split-Path $TinyModel) -Name 'llama-2-tiny*' | Start-GryphAgent -Name plain | Out-Null
        (Get-GryphAgent plain).Backend | Should -BeLike '*(gpu layers 0, context 2048)'
        $request = Send-Request fitted 'hi'
        $reply = Receive-Reply
        $reply.ReplyTo | Should -Be $request.Id
        [int] $reply.Metadata.completionTokens | Should -BeGreaterThan 0
    }

    It 'stops cleanly on Ctrl+C, removing its temporary endpoint' {
        Start-GryphAgent -Name sleepy -ScriptBlock { Start-Sleep -Seconds 60; 'late' } | Out-Null
        $chat = [powershell]::Create()
        $null = $chat.AddScript("Import-Module '$ModuleManifest'; Invoke-GryphChat -Participants sleepy -Opening 'hello?' -Rounds 1")
        $async = $chat.BeginInvoke()
        $deadline = [DateTime]::UtcNow.AddSeconds(30)
        while (-not (Get-GryphAgent sleepy).InFlight) {
            if ([DateTime]::UtcNow -gt $deadline) { throw 'the chat never reached the agent' }
            Start-Sleep -Milliseconds 20
        }
        @(Get-GryphPipe | Where-Object Name -Like 'chat-*').Count | Should -Be 1

        $elapsed = Measure-Command { $chat.Stop() }
        $elapsed.TotalMilliseconds | Should -BeLessThan 1000
        $async.IsCompleted | Should -BeTrue
        Get-GryphPipe | Where-Object Name -Like 'chat-*' | Should -BeNullOrEmpty
        $chat.Dispose()
    }

    It 'answers ModelNotFound when the model file is missing, and keeps serving' {
        $missing = Join-Path $TestDrive 'absent.gguf'
        Start-GryphAgent -Name nomodel -ModelPath $missing -WarningVariable warned -WarningAction SilentlyContinue | Out-Null
        $warned | Should -Match 'does not exist'
        1..2 | ForEach-Object {
            $request = Send-Request nomodel "hi $_"
            $reply = Receive-Reply
            $reply.ReplyTo | Should -Be $request.Id
            $reply.Metadata.error | Should -Be 'ModelNotFound'
        }
        (Get-GryphAgent nomodel).LastError | Should -Match 'ModelNotFound'
    }

    It 'stops a chat cleanly when a participant fails, removing its temporary endpoint' {
        Start-GryphAgent -Name nomodel2 -ModelPath (Join-Path $TestDrive 'nope.gguf') -WarningAction SilentlyContinue | Out-Null
        $lines = @(Invoke-GryphChat -Participants nomodel2 -Opening 'x' -Rounds 2 -ErrorVariable err -ErrorAction SilentlyContinue)
        $lines[-1].Error | Should -Be 'ModelNotFound'
        $err[0].FullyQualifiedErrorId | Should -BeLike 'GryphAgentBackendModelNotFound,*'
        Get-GryphPipe | Where-Object Name -Like 'chat-*' | Should -BeNullOrEmpty
    }
}

Describe 'Import-Module stays light' {
    It 'does not load LLamaSharp until a model agent answers' {
        $process = Start-FreshPwsh -Script "[AppDomain]::CurrentDomain.GetAssemblies().GetName().Name -join ','"
        $process.WaitForExit(60000) | Out-Null
        $names = $process.StandardOutput.ReadToEnd()
        $names | Should -Match 'Gryphgen.PowerShell'
        $names | Should -Not -Match 'LLamaSharp'
    }
}

Describe 'The demo (./build.ps1 -Task Demo)' -Skip:$SkipSharedTestData {
    It 'runs a labelled 3-round chat between two llama.cpp agents and cleans up' {
        $demo = Join-Path $RepositoryRoot 'examples/demo.ps1'
        $psi = [System.Diagnostics.ProcessStartInfo]::new($PwshPath)
        foreach ($a in '-NoProfile', '-NonInteractive', '-File', $demo, '-ModuleManifest', $ModuleManifest) { $psi.ArgumentList.Add($a) }
        $psi.RedirectStandardOutput = $true; $psi.RedirectStandardError = $true; $psi.UseShellExecute = $false
        $psi.Environment.Remove('GRYPHGEN_DEMO_OPENAI_BASE_URI') | Out-Null
        $process = [System.Diagnostics.Process]::Start($psi)
        $stdout = $process.StandardOutput.ReadToEndAsync(); $stderr = $process.StandardError.ReadToEndAsync()
        $process.WaitForExit(120000) | Should -BeTrue
        $process.ExitCode | Should -Be 0 -Because $stderr.Result
        $text = $stdout.Result
        $text | Should -Match 'RANDOM WEIGHTS'
        $text | Should -Match 'llama-2-tiny-random.gguf'
        ([regex]::Matches($text, '\[round [123]\] (alice|bob) -> (bob|alice) \(\d+ ms, \d+\+\d+ tokens')).Count | Should -Be 6
        $text | Should -Match 'Transcript: 7 JSON lines'
        Test-Path (Join-Path ([IO.Path]::GetTempPath()) "gryphgen-demo-$($process.Id)") | Should -BeFalse
    }
}

Describe 'Agent names, error ids and logs as a user meets them' {
    AfterEach { Get-GryphAgent | Stop-GryphAgent -Force }

    It 'Get-GryphAgent -Name ghost is a GryphAgentNotFound error, as Get-GryphPipe -Name ghost is; a wildcard that matches nothing is quiet' {
        Get-GryphAgent -Name ghost -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err.Count | Should -Be 1
        $err[0].FullyQualifiedErrorId | Should -BeLike 'GryphAgentNotFound,*'
        $err[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $err[0].ToString() | Should -Match "'ghost'"
        Get-GryphAgent -Name 'gho*' -ErrorVariable quiet | Should -BeNullOrEmpty
        $quiet.Count | Should -Be 0
    }

    It 'Invoke-GryphChat to an endpoint that no agent serves says so at once' {
        New-GryphPipe -Name unserved | Out-Null
        $clock = [Diagnostics.Stopwatch]::StartNew()
        $thrown = { Invoke-GryphChat -Participants unserved -Opening 'anyone?' -Rounds 1 } | Should -Throw -ErrorId 'GryphChatParticipantNotServed*' -PassThru
        $clock.Elapsed.TotalSeconds | Should -BeLessThan 5
        $thrown.ToString() | Should -Match 'no agent serves it'
        $thrown.ToString() | Should -Match 'Start-GryphAgent -Name unserved'
        Remove-GryphPipe -Name unserved
    }

    It 'names backend failures without stuttering: GryphAgentBackendFailed, not GryphAgentBackendBackendFailed' {
        Start-GryphAgent -Name broken -ScriptBlock { throw 'kaput' } | Out-Null
        Invoke-GryphChat -Participants broken -Opening 'x' -Rounds 1 -ErrorVariable err -ErrorAction SilentlyContinue | Out-Null
        $err[0].FullyQualifiedErrorId | Should -BeLike 'GryphAgentBackendFailed,*'
    }

    It 'logs the real size of each reply it sends' {
        Start-GryphAgent -Name sizer -ScriptBlock { 'héllo' } | Out-Null # 6 bytes of UTF-8
        Send-Request sizer 'size?' | Out-Null
        $reply = Receive-Reply
        $reply.Content | Should -Be 'héllo'
        $log = Get-Content (Join-Path $env:GRYPHGEN_PIPE_DIR 'sizer.agent.log') -Raw
        $log | Should -Match "Sent message $($reply.Id) \(6 bytes\)"
    }

    It 'rotates a log past 8 MiB when the agent starts, keeping the one before as .1' {
        $log = Join-Path $env:GRYPHGEN_PIPE_DIR 'chatty.agent.log'
        [IO.File]::WriteAllBytes($log, [byte[]]::new(8MB + 1))
        Start-GryphAgent -Name chatty -ScriptBlock { 'x' } | Out-Null
        (Get-Item "$log.1").Length | Should -Be (8MB + 1)
        (Get-Item $log).Length | Should -BeLessThan 1KB
        Stop-GryphAgent -Name chatty
        Remove-Item "$log.1"
    }
}
