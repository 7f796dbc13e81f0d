# Start-GryphAgent -LlamaServer and -Ollama as a user meets them: plans from Select-ModelForGpu (GPUs from a
# stand-in nvidia-smi), a stand-in llama-server (tests/fake_llama_server.py) that records its argv and environment,
# and a stand-in for Ollama's chat API (tests/fake_ollama_server.py). Where a real llama-server is on PATH, the last
# block runs it on the shared tiny model; otherwise that block skips and says so.
BeforeDiscovery {
    $SkipSharedTestData = -not (Test-Path (Join-Path $PSScriptRoot '../../shared/testdata'))
    $script:RealLlamaServer = Get-Command llama-server -CommandType Application -ErrorAction Ignore | Select-Object -First 1
}

BeforeAll {
    . $PSScriptRoot/common.ps1
    $env:GRYPHGEN_PIPE_DIR = Join-Path ([IO.Path]::GetTempPath()) "gryph-llama-$([guid]::NewGuid().ToString('N').Substring(0, 8))"
    $script:TinyModel = Join-Path $SharedTestData 'gguf/llama-2-tiny-random.gguf'
    $script:FakeServer = Join-Path $PSScriptRoot 'fake_llama_server.py'
    New-GryphPipe -Name me | Out-Null

    # A stand-in nvidia-smi whose free memory (MiB) is read from a file, so a test can take memory away after planning.
    $script:ToolFolder = Join-Path $TestDrive 'tools'
    New-Item -ItemType Directory -Path $ToolFolder | Out-Null
    $script:FreeMiBFile = Join-Path $TestDrive 'free-mib'
    Set-Content -Path $FreeMiBFile -Value '40315'
    $smi = @"
#!/bin/sh
free=`$(cat '$FreeMiBFile')
case "`$1" in
  --query-gpu=*) echo "0, NVIDIA A100-SXM4-40GB, GPU-27b94a00-ed54-5c24-b1fd-1054085de32a, 40960, `$((40960 - free)), `$free, 605, [N/A], [N/A], 36, 66.92, 400.00, [N/A], 1410, 1215, P0, 510.47.03" ;;
  --query-compute-apps=*) ;;
  *) exit 15 ;;
esac
"@
    Set-Content -Path (Join-Path $ToolFolder 'nvidia-smi') -Value $smi -NoNewline
    chmod 755 (Join-Path $ToolFolder 'nvidia-smi')
    $script:SavedPath = $env:PATH
    $env:PATH = "$ToolFolder$([IO.Path]::PathSeparator)$env:PATH"

    function Get-Plan([string[]] $Path = $TinyModel, [switch] $Together) {
        Get-GpuStatus -Source NvidiaSmi -WarningAction SilentlyContinue | Select-ModelForGpu -Path $Path -Together:$Together
    }

    function Get-Starts {
        # One record per start of the stand-in, oldest first.
        @(Get-ChildItem -Path $env:FAKE_LLAMA_RECORD -Filter 'start-*.json' -ErrorAction Ignore |
            ForEach-Object { Get-Content -Raw $_.FullName | ConvertFrom-Json } | Sort-Object time)
    }

    function Wait-Until([scriptblock] $Condition, [double] $Seconds = 30, [string] $What = 'the condition') {
        $deadline = [DateTime]::UtcNow.AddSeconds($Seconds)
        while (-not (& $Condition)) {
            if ([DateTime]::UtcNow -gt $deadline) { throw "Timed out waiting for $What." }
            Start-Sleep -Milliseconds 20
        }
    }

    function Test-ProcessAlive([int] $Id) {
        # A zombie (exited, not yet reaped) counts as gone.
        $stat = "/proc/$Id/stat"
        (Test-Path $stat) -and ((Get-Content -Raw $stat -ErrorAction Ignore) -notmatch '^\d+ \(.*\) Z ')
    }

    function Receive-Reply { Receive-GryphMessage -Name me -TimeoutSeconds 30 }
}

AfterAll {
    Get-GryphAgent | Stop-GryphAgent -Force
    $env:PATH = $SavedPath
    Remove-Item -Recurse -Force $env:GRYPHGEN_PIPE_DIR -ErrorAction SilentlyContinue
}

Describe 'Start-GryphAgent -LlamaServer with a stand-in llama-server' -Skip:$SkipSharedTestData {
    BeforeEach {
        $env:FAKE_LLAMA_RECORD = Join-Path $TestDrive ([guid]::NewGuid().ToString('N'))
        New-Item -ItemType Directory -Path $env:FAKE_LLAMA_RECORD | Out-Null
        $env:FAKE_LLAMA_CONTROL = Join-Path $env:FAKE_LLAMA_RECORD 'control'
        $env:FAKE_LLAMA_HEALTH_DELAY = '0'
        Set-Content -Path $FreeMiBFile -Value '40315'
    }

    AfterEach {
        Get-GryphAgent | Stop-GryphAgent -Force
    }

    It 'runs exactly the plan''s argv on a free loopback port with the plan''s GPU, waits for /health, answers through it, and stops within 2 s' {
        $plan = Get-Plan
        $plan.GpuLayers | Should -BeGreaterThan 0
        $env:FAKE_LLAMA_HEALTH_DELAY = '1.5'
        $clock = [Diagnostics.Stopwatch]::StartNew()
        # A pass-through --host cannot open the server to the network: Gryphgen's --host and --port come last and win.
        $agent = $plan | Start-GryphAgent -LlamaServer -LlamaServerPath $FakeServer -ServerArgument '--threads', '2', '--host', '0.0.0.0'
        $clock.Stop()
        $clock.Elapsed.TotalSeconds | Should -BeGreaterOrEqual 1.5 # it returned only once /health said ok

        $agent.Name | Should -Be 'LLaMA-v2' # named after the model
        $agent.ServerState | Should -Be 'Ready'
        $starts = Get-Starts
        $starts.Count | Should -Be 1
        $expected = @('-m', $plan.ModelPath) + ($plan.LlamaCppArguments -split ' ') + @('--threads', '2', '--host', '0.0.0.0', '--host', '127.0.0.1', '--port', "$($agent.ServerPort)")
        $starts[0].argv | Should -Be $expected
        $starts[0].env.CUDA_VISIBLE_DEVICES | Should -Be '0'
        $starts[0].env.CUDA_DEVICE_ORDER | Should -Be 'PCI_BUS_ID'
        # Listening on loopback only: the socket table holds the port on 127.0.0.1 and on no other address.
        $hexPort = '{0:X4}' -f $agent.ServerPort
        $listening = @(Get-Content /proc/net/tcp, /proc/net/tcp6 -ErrorAction Ignore | Where-Object { $_ -match "^\s*\d+: ([0-9A-F]+):$hexPort [0-9A-F]+:0000 0A" } | ForEach-Object { $Matches[1] })
        $listening | Should -Be @('0100007F')

        $listed = Get-GryphAgent -Name $agent.Name
        $listed.ServerProcessId | Should -Be $starts[0].pid
        $listed.ServerPort | Should -Be $agent.ServerPort
        $listed.ServerMemoryBytes | Should -BeGreaterThan 0
        $listed.Server.LogPath | Should -Be (Join-Path $env:GRYPHGEN_PIPE_DIR 'LLaMA-v2.llama-server.log')
        (Get-GryphAgent | Out-String -Width 120) | Should -Match "pid $($starts[0].pid) :$($agent.ServerPort) Ready"

        $request = Send-GryphMessage -To $agent.Name -From me -Content 'hello' -PassThru
        $reply = Receive-Reply
        $reply.ReplyTo | Should -Be $request.Id
        $reply.Content | Should -Be "fake llama-server on port $($agent.ServerPort)"
        (Get-Content (Join-Path $env:FAKE_LLAMA_RECORD 'requests.jsonl') | ConvertFrom-Json).path | Should -Be '/v1/chat/completions'

        $stop = Measure-Command { Stop-GryphAgent -Name $agent.Name }
        $stop.TotalSeconds | Should -BeLessThan 2
        Test-ProcessAlive $starts[0].pid | Should -BeFalse
        Get-Content $listed.Server.LogPath -Raw | Should -Match 'fake llama-server: loading model'
    }

    It 'stops a server that ignores SIGTERM within 2 s (SIGKILL after the grace period)' {
        Set-Content -Path $env:FAKE_LLAMA_CONTROL -Value 'ignore-term'
        $agent = Start-GryphAgent -Name stubborn -LlamaServer -LlamaServerPath $FakeServer -InputObject $TinyModel
        $serverPid = $agent.ServerProcessId
        Test-ProcessAlive $serverPid | Should -BeTrue
        $stop = Measure-Command { Stop-GryphAgent -Name stubborn }
        $stop.TotalSeconds | Should -BeLessThan 2
        Test-ProcessAlive $serverPid | Should -BeFalse
        Get-Content (Join-Path $env:GRYPHGEN_PIPE_DIR 'stubborn.llama-server.log') -Raw | Should -Match 'ignored SIGTERM'
    }

    It 'reports a server that never becomes healthy with its last lines, and leaves nothing behind' {
        Set-Content -Path $env:FAKE_LLAMA_CONTROL -Value 'never-healthy'
        Start-GryphAgent -Name sick -LlamaServer -LlamaServerPath $FakeServer -InputObject $TinyModel -HealthTimeoutSeconds 6 -ErrorVariable err -ErrorAction SilentlyContinue |
            Should -BeNullOrEmpty
        $err.Count | Should -Be 1
        $err[0].FullyQualifiedErrorId | Should -BeLike 'LlamaServerNotReady,*'
        $err[0].ToString() | Should -Match 'within 6 s'
        $err[0].ToString() | Should -Match 'fake llama-server: loading model'
        $starts = Get-Starts
        $starts.Count | Should -Be 1
        Wait-Until { -not (Test-ProcessAlive $starts[0].pid) } -Seconds 5 -What 'the unhealthy server to be gone'
        Get-GryphAgent -Name sick -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        Test-Path (Join-Path $env:GRYPHGEN_PIPE_DIR 'sick') | Should -BeFalse
    }

    It 'reports a server that exits at start with its exit code and last lines' {
        Set-Content -Path $env:FAKE_LLAMA_CONTROL -Value 'crash'
        Start-GryphAgent -Name crashy -LlamaServer -LlamaServerPath $FakeServer -InputObject $TinyModel -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'LlamaServerExited,*'
        $err[0].ToString() | Should -Match 'exited with code 7'
        $err[0].ToString() | Should -Match 'fatal: fake failure'
    }

    It 'restarts a server that dies with doubling back-off, then reports Failed with the exit code and log tail after the limit' {
        $agent = Start-GryphAgent -Name phoenix -LlamaServer -LlamaServerPath $FakeServer -InputObject $TinyModel -MaxRestarts 2 -RestartDelaySeconds 0.4
        $first = $agent.ServerProcessId
        $killed1 = [DateTimeOffset]::UtcNow.ToUnixTimeMilliseconds() / 1000
        Stop-Process -Id $first -Force # SIGKILL: a crash as far as the supervisor can tell
        Wait-Until { (Get-GryphAgent phoenix).ServerState -eq 'Ready' -and (Get-GryphAgent phoenix).ServerProcessId -notin $null, $first } -What 'the first restart'
        $agent.Server.Restarts | Should -Be 1
        $agent.State | Should -Be 'Running'
        $starts = Get-Starts
        $starts.Count | Should -Be 2
        ($starts[1].time - $killed1) | Should -BeGreaterOrEqual 0.4

        # From now on every start crashes: restart 2 waits twice as long, and then the limit is reached.
        Set-Content -Path $env:FAKE_LLAMA_CONTROL -Value 'crash'
        $killed2 = [DateTimeOffset]::UtcNow.ToUnixTimeMilliseconds() / 1000
        Stop-Process -Id $agent.ServerProcessId -Force
        Wait-Until { (Get-GryphAgent phoenix).State -eq 'Failed' } -What 'the agent to fail'
        $starts = Get-Starts
        $starts.Count | Should -Be 3
        ($starts[2].time - $killed2) | Should -BeGreaterOrEqual 0.8
        $agent.ServerState | Should -Be 'Failed'
        $agent.LastError | Should -Match 'exited with code 7 after 2 restart'
        $agent.LastError | Should -Match 'fatal: fake failure'
        Start-Sleep -Milliseconds 1000
        (Get-Starts).Count | Should -Be 3 # no start after the limit

        Send-GryphMessage -To phoenix -From me -Content 'anyone?' | Out-Null
        $reply = Receive-Reply
        $reply.Metadata.error | Should -Be 'BackendUnavailable'
        $reply.Metadata.errorMessage | Should -Match 'code 7'
    }

    It 'leaves no llama-server behind when its pwsh is killed with SIGKILL' {
        $peer = Start-FreshPwsh -Script "Start-GryphAgent -Name orphan -LlamaServer -LlamaServerPath '$FakeServer' -InputObject '$TinyModel' | Out-Null; [Console]::Out.WriteLine('started'); Start-Sleep -Seconds 600"
        try {
            $peer.StandardOutput.ReadLine() | Should -Be 'started'
            $starts = Get-Starts
            $starts.Count | Should -Be 1
            $starts[0].ppid | Should -Be $peer.Id
            Test-ProcessAlive $starts[0].pid | Should -BeTrue
            $peer.Kill() # SIGKILL
            $peer.WaitForExit()
            Wait-Until { -not (Test-ProcessAlive $starts[0].pid) } -Seconds 10 -What 'the orphaned llama-server to die'
        }
        finally {
            if (-not $peer.HasExited) { $peer.Kill() }
            foreach ($start in Get-Starts) { Stop-Process -Id $start.pid -Force -ErrorAction Ignore }
        }
    }

    It 'starts a planned set, each model with its own plan, endpoints named by a script block' {
        $a = Join-Path $TestDrive 'alpha.gguf'; $b = Join-Path $TestDrive 'beta.gguf'
        Copy-Item $TinyModel $a; Copy-Item $TinyModel $b
        $plans = Get-Plan -Path $a, $b -Together
        @($plans | Where-Object Selected).Count | Should -Be 2
        $agents = $plans | Where-Object Selected | Start-GryphAgent -LlamaServer -LlamaServerPath $FakeServer -Name { [IO.Path]::GetFileNameWithoutExtension($_.ModelPath) }
        $agents.Name | Sort-Object | Should -Be @('alpha', 'beta')
        $starts = Get-Starts
        $starts.Count | Should -Be 2
        foreach ($plan in $plans) {
            $start = $starts | Where-Object { $_.argv[1] -eq $plan.ModelPath }
            $agent = $agents | Where-Object { $_.ServerProcessId -eq $start.pid }
            $start.argv | Should -Be (@('-m', $plan.ModelPath) + ($plan.LlamaCppArguments -split ' ') + @('--host', '127.0.0.1', '--port', "$($agent.ServerPort)"))
        }
        $agents[0].ServerPort | Should -Not -Be $agents[1].ServerPort
    }

    It 'refuses a set that no longer fits the GPUs'' free memory before starting any, and starts it with -Force' {
        $plans = Get-Plan
        Set-Content -Path $FreeMiBFile -Value '100' # something else took the GPU since the plan was made
        $plans | Start-GryphAgent -LlamaServer -LlamaServerPath $FakeServer -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err.Count | Should -Be 1
        $err[0].FullyQualifiedErrorId | Should -BeLike 'GryphAgentPlanNoLongerFits,*'
        $err[0].ToString() | Should -Match 'GPU 0 \(NVIDIA A100-SXM4-40GB\) has 100 MiB free now'
        $err[0].ToString() | Should -Match '-Force'
        Get-Starts | Should -BeNullOrEmpty
        Get-GryphAgent | Should -BeNullOrEmpty

        $agent = $plans | Start-GryphAgent -LlamaServer -LlamaServerPath $FakeServer -Force
        $agent.ServerState | Should -Be 'Ready'
    }

    It 'starts nothing with -WhatIf' {
        $plans = Get-Plan
        $plans | Start-GryphAgent -LlamaServer -LlamaServerPath $FakeServer -WhatIf | Should -BeNullOrEmpty
        Get-Starts | Should -BeNullOrEmpty
        Get-GryphAgent | Should -BeNullOrEmpty
        Test-Path (Join-Path $env:GRYPHGEN_PIPE_DIR 'LLaMA-v2') | Should -BeFalse
    }

    It 'finds llama-server through GRYPHGEN_LLAMA_SERVER, and says so when there is none' {
        $saved = $env:GRYPHGEN_LLAMA_SERVER
        try {
            $env:GRYPHGEN_LLAMA_SERVER = $FakeServer
            (Start-GryphAgent -Name from-env -LlamaServer -InputObject $TinyModel).ServerState | Should -Be 'Ready'
            $env:GRYPHGEN_LLAMA_SERVER = Join-Path $TestDrive 'no-such-server'
            Start-GryphAgent -Name nowhere -LlamaServer -InputObject $TinyModel -ErrorVariable err -ErrorAction SilentlyContinue
            $err[0].FullyQualifiedErrorId | Should -BeLike 'LlamaServerNotFound,*'
        }
        finally { $env:GRYPHGEN_LLAMA_SERVER = $saved }
    }
}

Describe 'Start-GryphAgent checks its model before it starts' -Skip:$SkipSharedTestData {
    BeforeEach {
        $env:FAKE_LLAMA_RECORD = Join-Path $TestDrive ([guid]::NewGuid().ToString('N'))
        New-Item -ItemType Directory -Path $env:FAKE_LLAMA_RECORD | Out-Null
        $env:FAKE_LLAMA_CONTROL = Join-Path $env:FAKE_LLAMA_RECORD 'control'
    }

    AfterEach { Get-GryphAgent | Stop-GryphAgent -Force }

    It 'refuses a file that is not a GGUF, naming it' {
        $text = Join-Path $TestDrive 'notes.gguf'
        Set-Content -Path $text -Value 'just text'
        Start-GryphAgent -Name notgguf -ModelPath $text -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -BeLike 'GryphAgentModelNotGguf,*'
        $err[0].ToString() | Should -Match ([regex]::Escape($text))
        Start-GryphAgent -Name notgguf -ModelPath $text -LlamaServer -LlamaServerPath $FakeServer -ErrorVariable err2 -ErrorAction SilentlyContinue
        $err2[0].FullyQualifiedErrorId | Should -BeLike 'GryphAgentModelNotGguf,*'
        Get-Starts | Should -BeNullOrEmpty
    }

    It 'refuses a vocabulary-only file: it has no weights' {
        $vocab = Join-Path $SharedTestData 'gguf/ggml-vocab-llama-spm.gguf'
        Start-GryphAgent -Name vocab -ModelPath $vocab -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -BeLike 'GryphAgentModelHasNoWeights,*'
        $err[0].ToString() | Should -Match 'no model weights'
    }

    It 'refuses a plan that is TooLarge unless -Force' {
        $plan = Select-ModelForGpu -Path $TinyModel -MemoryBytes 1MB -HostMemoryBytes 1MB
        $plan.Fit | Should -Be 'TooLarge'
        $plan | Start-GryphAgent -LlamaServer -LlamaServerPath $FakeServer -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -BeLike 'GryphAgentModelTooLarge,*'
        Get-Starts | Should -BeNullOrEmpty
    }

    It 'says that GPU layers run on the CPU when only a CPU llama.cpp is installed in-process' {
        $agent = Start-GryphAgent -Name cpuonly -ModelPath $TinyModel -GpuLayerCount 5 -WarningVariable warned -WarningAction SilentlyContinue
        $warned | Should -Match 'CPU build'
        $agent.Backend | Should -Match 'gpu layers 0'
    }
}

Describe 'Start-GryphAgent -Ollama with a stand-in for Ollama''s chat API' -Skip:$SkipSharedTestData {
    BeforeAll {
        $dir = Join-Path $TestDrive 'ollama'
        New-Item -ItemType Directory $dir | Out-Null
        $portFile = Join-Path $dir 'port'; $script:OllamaLog = Join-Path $dir 'requests.jsonl'
        $script:Ollama = Start-Process python3 -ArgumentList @("$PSScriptRoot/fake_ollama_server.py", $portFile, $OllamaLog) -PassThru
        Wait-Until { (Test-Path $portFile) -and (Get-Content -Raw $portFile) } -What 'the Ollama stand-in'
        $script:OllamaUri = "http://127.0.0.1:$((Get-Content -Raw $portFile).Trim())"
    }

    AfterAll {
        Get-GryphAgent | Stop-GryphAgent -Force
        Stop-Process -Id $Ollama.Id -Force -ErrorAction SilentlyContinue
    }

    It 'sends the plan''s num_gpu and num_ctx as the options of /api/chat' {
        $plan = Get-Plan
        $agent = $plan | Start-GryphAgent -Ollama -OllamaBaseUri $OllamaUri -ModelName 'llama2:tiny' -Name ollama-tiny -MaxTokens 16
        $agent.Backend | Should -Match "^ollama:llama2:tiny @ $([regex]::Escape($OllamaUri))"
        Send-GryphMessage -To ollama-tiny -From me -Content 'hi' | Out-Null
        $reply = Receive-Reply
        $reply.Metadata.error | Should -BeNullOrEmpty
        $reply.Metadata.promptTokens | Should -Be '9'
        $request = Get-Content $OllamaLog | Select-Object -Last 1 | ConvertFrom-Json
        $request.path | Should -Be '/api/chat'
        $request.body.model | Should -Be 'llama2:tiny'
        $request.body.stream | Should -BeFalse
        $request.body.options.num_gpu | Should -Be $plan.GpuLayers
        $request.body.options.num_ctx | Should -Be $plan.ContextLength
        $request.body.options.num_predict | Should -Be 16
        $request.body.messages[-1].content | Should -Be 'hi'
    }

    It 'answers ModelNotFound when Ollama does not have the model' {
        Start-GryphAgent -Ollama -OllamaBaseUri $OllamaUri -ModelName missing -Name ollama-missing -InputObject $TinyModel | Out-Null
        Send-GryphMessage -To ollama-missing -From me -Content 'hi' | Out-Null
        (Receive-Reply).Metadata.error | Should -Be 'ModelNotFound'
    }
}

Describe 'Start-GryphAgent -LlamaServer with a real llama-server' -Skip:$SkipSharedTestData {
    AfterEach { Get-GryphAgent | Stop-GryphAgent -Force }

    It 'starts llama-server from PATH on the shared tiny model and answers through it' {
        if (-not $RealLlamaServer) {
            Set-ItResult -Skipped -Because 'llama-server is not on PATH (install llama.cpp''s server to run this against it)'
            return
        }

        $agent = Start-GryphAgent -Name real-llama -LlamaServer -InputObject $TinyModel -ContextLength 256 -MaxTokens 8 -ServerArgument '--threads', '2'
        $agent.ServerState | Should -Be 'Ready'
        $agent.ServerProcessId | Should -BeGreaterThan 0
        Send-GryphMessage -To real-llama -From me -Content 'Hello' | Out-Null
        $reply = Receive-Reply
        $reply.Metadata.error | Should -BeNullOrEmpty
        $reply.Metadata.completionTokens | Should -BeGreaterThan 0
        $serverPid = $agent.ServerProcessId
        (Measure-Command { Stop-GryphAgent -Name real-llama }).TotalSeconds | Should -BeLessThan 2
        Test-Path "/proc/$serverPid" | Should -BeFalse
    }
}

Describe 'examples/gpu_chat.ps1 with a stand-in llama-server' -Skip:$SkipSharedTestData {
    BeforeEach {
        $env:FAKE_LLAMA_RECORD = Join-Path $TestDrive ([guid]::NewGuid().ToString('N'))
        New-Item -ItemType Directory -Path $env:FAKE_LLAMA_RECORD | Out-Null
        $env:FAKE_LLAMA_CONTROL = Join-Path $env:FAKE_LLAMA_RECORD 'control'
        Set-Content -Path $FreeMiBFile -Value '40315'
    }

    It 'plans two models that fit together, starts a server for each, chats for 3 rounds, and stops them' {
        $folder = Join-Path $TestDrive 'two-models'
        New-Item -ItemType Directory -Path $folder | Out-Null
        Copy-Item $TinyModel (Join-Path $folder 'first.gguf'); Copy-Item $TinyModel (Join-Path $folder 'second.gguf')
        $chat = @(& (Join-Path $RepositoryRoot 'examples/gpu_chat.ps1') -Path $folder -LlamaServerPath $FakeServer -ModuleManifest $ModuleManifest 6>$null)
        $replies = @($chat | Where-Object Round -GT 0)
        $replies.Count | Should -Be 6
        ($replies.From | Sort-Object -Unique) | Should -Be @('first', 'second')
        $replies.Content | Should -Match '^fake llama-server on port \d+$'
        $starts = Get-Starts
        $starts.Count | Should -Be 2
        foreach ($start in $starts) { Test-ProcessAlive $start.pid | Should -BeFalse }
        Get-GryphAgent | Should -BeNullOrEmpty
    }
}
