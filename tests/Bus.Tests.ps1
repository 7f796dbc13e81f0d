# The NATS transport as a user meets it: the built module, real nats-server processes on loopback, separate pwsh
# processes that know each other only through the bus.
BeforeDiscovery { . $PSScriptRoot/nats.ps1 }

BeforeAll {
    . $PSScriptRoot/common.ps1
    . $PSScriptRoot/nats.ps1
    $env:GRYPHGEN_PIPE_DIR = Join-Path ([IO.Path]::GetTempPath()) "gryph-pester-bus-$([guid]::NewGuid().ToString('N').Substring(0, 8))"

    function Wait-Process([System.Diagnostics.Process] $Process, [int] $Seconds = 120) {
        if (-not $Process.WaitForExit($Seconds * 1000)) { $Process.Kill($true); throw "peer process timed out" }
        $stdout = $Process.StandardOutput.ReadToEnd(); $stderr = $Process.StandardError.ReadToEnd()
        if ($Process.ExitCode -ne 0) { throw "peer failed ($($Process.ExitCode)): $stderr $stdout" }
        $stdout
    }

    function Wait-Until([scriptblock] $Condition, [string] $What, [int] $Seconds = 30) {
        # Polls state another process exposes (a bus consumer, a file): there is no signal to wait on across hosts.
        $deadline = [DateTime]::UtcNow.AddSeconds($Seconds)
        while (-not (& $Condition)) {
            if ([DateTime]::UtcNow -gt $deadline) { throw "timed out waiting for $What" }
            Start-Sleep -Milliseconds 50
        }
    }

    function Start-RemoteAgent([string] $Namespace, [string] $Name, [string] $ScriptBlock, [string] $PipeDirectory, [string] $SystemPrompt) {
        # An agent in its own pwsh, as on another host: reachable only through the bus (and, with -PipeDirectory, with
        # pipes of its own). Returns the process once the agent serves.
        $ready = Join-Path $TestDrive "$Name-$([guid]::NewGuid().ToString('N').Substring(0, 6)).ready"
        $pipes = if ($PipeDirectory) { "`$env:GRYPHGEN_PIPE_DIR='$PipeDirectory'; " } else { '' }
        $prompt = if ($SystemPrompt) { " -SystemPrompt '$SystemPrompt'" } else { '' }
        $agent = Start-FreshPwsh ("$pipes Connect-GryphBus -Url '$Url' -Namespace $Namespace; " +
            "Start-GryphAgent -Name $Name$prompt -ScriptBlock { $ScriptBlock } | Out-Null; Set-Content '$ready' ok; Start-Sleep -Seconds 120")
        Wait-Until { Test-Path $ready } "the agent $Name"
        $agent
    }

    $script:Server = Start-NatsTestServer
    $script:Url = $Server.Url
}

AfterAll {
    Get-GryphBridge | Stop-GryphBridge
    Get-GryphAgent | Stop-GryphAgent -Force
    Disconnect-GryphBus
    Stop-NatsTestServer
    Remove-Item -Recurse -Force $env:GRYPHGEN_PIPE_DIR -ErrorAction SilentlyContinue
}

Describe 'Connect-GryphBus, Get-GryphBus, Disconnect-GryphBus' -Skip:$SkipNats {
    AfterEach { Disconnect-GryphBus }

    It 'connects the session, shows the connection without secrets, and disconnects' {
        $auth = Start-NatsTestServer -User gryph -Password 'Tr0ub4dor-3'
        $credential = [pscredential]::new('gryph', (ConvertTo-SecureString 'Tr0ub4dor-3' -AsPlainText -Force))
        $url = $auth.Url -replace 'nats://', 'nats://gryph:Tr0ub4dor-3@'
        $verbose = Connect-GryphBus -Url $url -Credential $credential -Namespace lab -Verbose 4>&1 | Out-String
        $bus = Get-GryphBus
        $bus.State | Should -Be 'Open'
        $bus.Namespace | Should -Be 'lab'
        $bus.Authentication | Should -Be 'UserPassword'
        $bus.JetStreamEnabled | Should -BeTrue
        $shown = ($bus | Format-List * | Out-String) + ($bus | Format-Table | Out-String) + ($bus | ConvertTo-Json -Depth 2 -WarningAction SilentlyContinue) + $verbose
        $shown | Should -Not -Match 'Tr0ub4dor'
        $shown | Should -Match 'nats://\*\*\*@127\.0\.0\.1'
        Disconnect-GryphBus
        Get-GryphBus | Should -BeNullOrEmpty
        $bus.State | Should -Be 'Closed'
    }

    It 'fails with <Id> (<Category>) within the connect timeout' -ForEach @(
        @{ Case = 'password'; Id = 'GryphBusAuthenticationFailed'; Category = 'AuthenticationError' }
        @{ Case = 'unreachable'; Id = 'GryphBusUnreachable'; Category = 'ConnectionError' }
        @{ Case = 'tls'; Id = 'GryphBusTlsFailed'; Category = 'SecurityError' }
    ) {
        $arguments = switch ($Case) {
            'password' {
                $s = Start-NatsTestServer -User gryph -Password right
                @{ Url = $s.Url; Credential = [pscredential]::new('gryph', (ConvertTo-SecureString 'wrong-pass' -AsPlainText -Force)) }
            }
            'unreachable' {
                $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0); $listener.Start()
                $port = $listener.LocalEndpoint.Port; $listener.Stop()
                @{ Url = "nats://127.0.0.1:$port" }
            }
            'tls' { @{ Url = (Start-NatsTestServer -Tls).Url } }
        }
        $watch = [System.Diagnostics.Stopwatch]::StartNew()
        { Connect-GryphBus @arguments -ConnectTimeoutSeconds 2 } | Should -Throw -ErrorId "$Id,Gryphgen.PowerShell.Commands.ConnectGryphBusCommand"
        $watch.Elapsed.TotalSeconds | Should -BeLessThan 3
        try { Connect-GryphBus @arguments -ConnectTimeoutSeconds 2 } catch { $record = $_ }
        $record.CategoryInfo.Category | Should -Be $Category
        "$record" | Should -Not -Match 'wrong-pass'
        Get-GryphBus | Should -BeNullOrEmpty
    }

    It 'says a refused connection was refused, and refuses an http:// or malformed URL before trying' {
        $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0); $listener.Start()
        $port = $listener.LocalEndpoint.Port; $listener.Stop()
        { Connect-GryphBus -Url "nats://127.0.0.1:$port" -ConnectTimeoutSeconds 2 } | Should -Throw -ErrorId 'GryphBusUnreachable,*' -ExpectedMessage '*refused*'
        foreach ($url in 'http://127.0.0.1:8222', 'nats://bad host:x', 'nats://127.0.0.1:99999') {
            try { Connect-GryphBus -Url $url -ConnectTimeoutSeconds 2; $record = $null } catch { $record = $_ }
            $record.FullyQualifiedErrorId | Should -Be 'GryphBusUrlInvalid,Gryphgen.PowerShell.Commands.ConnectGryphBusCommand' -Because $url
            $record.CategoryInfo.Category | Should -Be 'InvalidArgument'
        }
        $record.Exception.Message | Should -Match 'nats://'
        Get-GryphBus | Should -BeNullOrEmpty
    }

    It 'connects over TLS with the CA given' {
        $tls = Start-NatsTestServer -Tls
        Connect-GryphBus -Url $tls.Url -CaFile $tls.Options.Tls.CaPath -Tls Require
        (Get-GryphBus).TlsActive | Should -BeTrue
    }
}

Describe 'Endpoints and messages on the bus' -Skip:$SkipNats {
    BeforeEach { Connect-GryphBus -Url $Url -Namespace "p$([guid]::NewGuid().ToString('N').Substring(0, 8))" }
    AfterEach { Get-GryphPipe | Remove-GryphPipe -Confirm:$false; Disconnect-GryphBus }

    It 'creates, lists and removes durable endpoints with the same cmdlets, and -Local still means this machine' {
        $created = New-GryphPipe -Name alice, bob
        ($created | ForEach-Object { $_.GetType().Name }) | Should -Be @('BusEndpoint', 'BusEndpoint')
        $created.Subject | Should -Be @("gryph.$((Get-GryphBus).Namespace).alice", "gryph.$((Get-GryphBus).Namespace).bob")
        (Get-GryphPipe -Name b*).Name | Should -Be 'bob'
        $local = New-GryphPipe -Name alice -Local
        $local.GetType().Name | Should -Be 'GryphPipe'
        Test-Path $local.Path | Should -BeTrue
        Remove-GryphPipe -Name alice -Local -Confirm:$false
        Remove-GryphPipe -Name bob -WhatIf
        (Get-GryphPipe).Name | Should -Be @('alice', 'bob')
        Get-GryphPipe -Name bob | Remove-GryphPipe -Confirm:$false
        (Get-GryphPipe).Name | Should -Be 'alice'
        Get-GryphPipe -Name nobody -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'GryphPipeNotFound,*'
        Send-GryphMessage -To nobody -Content x -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'GryphEndpointNotFound,*'
    }

    It 'delivers 1000 messages sent while no receiver runs, in order, once each, to a receiver started afterwards' {
        New-GryphPipe -Name inbox | Out-Null
        $ns = (Get-GryphBus).Namespace
        $sender = Start-FreshPwsh "Connect-GryphBus -Url '$Url' -Namespace $ns; 1..1000 | Send-GryphMessage -To inbox -From sender"
        Wait-Process $sender | Out-Null
        (Get-GryphPipe -Name inbox).Messages | Should -Be 1000

        $receiver = Start-FreshPwsh "Connect-GryphBus -Url '$Url' -Namespace $ns; (Receive-GryphMessage -Name inbox -Count 1000 -TimeoutSeconds 60).Content -join ','"
        $got = (Wait-Process $receiver).Trim() -split ','
        $got.Count | Should -Be 1000
        $got | Should -Be (1..1000 | ForEach-Object { "$_" })
        Receive-GryphMessage -Name inbox -TimeoutSeconds 0.5 -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -BeLike 'GryphReceiveTimeout,*'
    }

    It 'takes a connection per call with -Bus, leaving the session''s as it is' {
        $session = Get-GryphBus
        $other = Connect-GryphBus -Url $Url -Namespace "q$([guid]::NewGuid().ToString('N').Substring(0, 8))" -NoDefault -PassThru
        try {
            (Get-GryphBus).Namespace | Should -Be $session.Namespace
            New-GryphPipe -Name elsewhere -Bus $other | Out-Null
            Send-GryphMessage -To elsewhere -Content 'per call' -Bus $other
            (Receive-GryphMessage -Name elsewhere -Bus $other -TimeoutSeconds 5).Content | Should -Be 'per call'
            (Get-GryphPipe).Name | Should -Not -Contain 'elsewhere'
            { New-GryphPipe -Name x -Bus $other -Local } | Should -Throw -ErrorId 'GryphTransportConflict,*'
        }
        finally { Remove-GryphPipe -Name elsewhere -Bus $other -Confirm:$false; Disconnect-GryphBus -Bus $other }
    }

    It 'acknowledges only what was emitted: a receiver stopped by Select-Object leaves the rest' {
        New-GryphPipe -Name inbox | Out-Null
        1..5 | ForEach-Object { "m$_" } | Send-GryphMessage -To inbox
        (Receive-GryphMessage -Name inbox -Continuous -TimeoutSeconds 5 | Select-Object -First 2).Content | Should -Be @('m1', 'm2')
        (Receive-GryphMessage -Name inbox -Count 3 -TimeoutSeconds 5).Content | Should -Be @('m3', 'm4', 'm5')
    }

    It 'runs examples/multi_round_chat.ps1 over NATS with a responder in another process: only the connection differs' {
        $rounds = & (Join-Path $RepositoryRoot 'examples/multi_round_chat.ps1') -ModuleManifest $ModuleManifest -Rounds 4 -BusUrl $Url -Namespace "ex$([guid]::NewGuid().ToString('N').Substring(0, 6))"
        $rounds.Count | Should -Be 4
        $rounds.ReplyAnswers | Should -Not -Contain $false
        $rounds.HistorySize | Should -Be @(1, 2, 3, 4)
        $rounds[3].Reply | Should -Match 'message 1 \| message 2 \| message 3 \| message 4'
    }

    It 'chats with an agent in another pwsh process: ReplyTo matches, history grows every round' {
        $agent = Start-RemoteAgent -Namespace (Get-GryphBus).Namespace -Name echo -SystemPrompt 'Echo.' `
            -ScriptBlock 'param($m, $history) "$($history.Count) turns: $($m.Content.ToUpper())"'
        try {
            $lines = @(Invoke-GryphChat -Participants echo -Opening 'hello' -Rounds 3 -TimeoutSeconds 30)
            $lines.Count | Should -Be 4
            $replies = $lines | Where-Object Round -GT 0
            $replies | ForEach-Object { $_.ReplyTo | Should -Be $_.RequestId }
            $replies.HistoryMessages | Should -Be @(2, 4, 6)
            $replies[2].Content | Should -Be '6 turns: 4 TURNS: 2 TURNS: HELLO'
            (Get-GryphPipe).Name | Should -Not -Contain ($lines[0].From) -Because 'the chat removes its temporary endpoint'
        }
        finally { $agent.Kill($true); $agent.WaitForExit() }
    }
}

Describe 'A bus server killed and restarted on the same store' -Skip:$SkipNats {
    BeforeAll {
        function Start-PwshWithInput([string] $Script) {
            # A fresh pwsh as Start-FreshPwsh, whose stdin the test writes to: a signal across processes.
            $psi = [System.Diagnostics.ProcessStartInfo]::new($PwshPath)
            foreach ($a in '-NoProfile', '-NonInteractive', '-Command', "`$ErrorActionPreference='Stop'; Import-Module '$ModuleManifest'; $Script") { $psi.ArgumentList.Add($a) }
            $psi.RedirectStandardOutput = $true; $psi.RedirectStandardError = $true; $psi.RedirectStandardInput = $true
            $psi.UseShellExecute = $false
            [System.Diagnostics.Process]::Start($psi)
        }
    }

    It 'resumes a -Continuous receiver and an agent after the restart, and a send during the outage retries until it is stored' {
        $restarting = Start-NatsTestServer
        $ns = "r$([guid]::NewGuid().ToString('N').Substring(0, 8))"
        Connect-GryphBus -Url $restarting.Url -Namespace $ns
        try {
            New-GryphPipe -Name inbox | Out-Null
            $seen = Join-Path $TestDrive 'seen.txt'
            $receiver = Start-FreshPwsh ("Connect-GryphBus -Url '$($restarting.Url)' -Namespace $ns; " +
                "Receive-GryphMessage -Name inbox -Continuous -TimeoutSeconds 0 | ForEach-Object { Add-Content '$seen' `$_.Content; `$_ } | Select-Object -First 3 | Out-Null")
            $sender = Start-PwshWithInput ("Connect-GryphBus -Url '$($restarting.Url)' -Namespace $ns; [void][Console]::In.ReadLine(); " +
                "Send-GryphMessage -To inbox -Content during -TimeoutSeconds 60")
            $Url = $restarting.Url # what Start-RemoteAgent connects to
            $agent = Start-RemoteAgent -Namespace $ns -Name echo -ScriptBlock 'param($m) "echo: $($m.Content)"'

            Send-GryphMessage -To inbox -Content before
            Wait-Until { (Test-Path $seen) -and (Get-Content $seen) -contains 'before' } 'the receiver to get the first message'
            Wait-Until { (Get-GryphPipe -Name inbox).WaitingReceivers -ge 1 } 'the receiver to ask for the next message'
            (Invoke-GryphChat -Participants echo -Opening 'one' -Rounds 1 -TimeoutSeconds 30 | Where-Object Round -EQ 1).Content | Should -Be 'echo: one'

            $restarting.Kill()
            $sender.StandardInput.WriteLine('send now'); $sender.StandardInput.Flush()
            $sender.WaitForExit(1500) | Should -BeFalse -Because 'a send while the server is down retries until its timeout'
            $restarting.Restart()

            Wait-Process $sender 60 | Out-Null
            Send-GryphMessage -To inbox -Content after -TimeoutSeconds 60
            Wait-Process $receiver 60 | Out-Null
            Get-Content $seen | Should -Be @('before', 'during', 'after')
            (Invoke-GryphChat -Participants echo -Opening 'two' -Rounds 1 -TimeoutSeconds 60 | Where-Object Round -EQ 1).Content | Should -Be 'echo: two'
        }
        finally {
            foreach ($process in $receiver, $sender, $agent) { if ($process -and -not $process.HasExited) { $process.Kill($true); $process.WaitForExit() } }
            Disconnect-GryphBus
            Stop-NatsTestServer -Server $restarting
        }
    }
}

Describe 'Start-GryphBridge' -Skip:$SkipNats {
    It 'lets a bash peer on this host talk in plain lines to an agent on another host' {
        $ns = "b$([guid]::NewGuid().ToString('N').Substring(0, 8))"
        $agent = Start-RemoteAgent -Namespace $ns -Name model2 -PipeDirectory (Join-Path $TestDrive 'other-host-pipes') `
            -ScriptBlock 'param($m) "model2 heard: $($m.Content)"'
        try {
            Connect-GryphBus -Url $Url -Namespace $ns
            $bridge = Start-GryphBridge -Name model2 -Raw -RawSender model1
            $bridge.State | Should -Be 'Running'
            $dir = $env:GRYPHGEN_PIPE_DIR
            # The original model1_comm.pl in bash: write a line to the other model's pipe, read the answer from its own.
            $bash = Start-Bash "echo 'hello from bash' > '$dir/model2'; read -r answer < '$dir/model1'; echo ""`$answer"" > '$TestDrive/answer.txt'"
            $bash.WaitForExit(30000) | Should -BeTrue
            Get-Content "$TestDrive/answer.txt" | Should -Be 'model2 heard: hello from bash'
            $listed = Get-GryphBridge -Name model2
            $listed.RelayedToBus | Should -Be 1
            $listed.RelayedFromBus | Should -Be 1
            $listed.ReturnEndpoints | Should -Be 'model1'
            Stop-GryphBridge -Name model2 -PassThru | Select-Object -ExpandProperty State | Should -Be 'Stopped'
        }
        finally {
            $agent.Kill($true); $agent.WaitForExit()
            Disconnect-GryphBus
        }
    }

    It 'relays framed messages both ways: a local FIFO-only peer gets the remote agent''s reply with its ReplyTo' {
        $ns = "f$([guid]::NewGuid().ToString('N').Substring(0, 8))"
        $agent = Start-RemoteAgent -Namespace $ns -Name reviewer -PipeDirectory (Join-Path $TestDrive 'other-host-framed') `
            -ScriptBlock 'param($m, $history) "$($history.Count) turns: $($m.Content)"'
        try {
            Connect-GryphBus -Url $Url -Namespace $ns
            Start-GryphBridge -Name reviewer -Return alice | Out-Null
            # The local peer knows nothing of the bus: a fresh pwsh with FIFO endpoints only.
            $peer = Start-FreshPwsh ("`$env:GRYPHGEN_PIPE_DIR='$env:GRYPHGEN_PIPE_DIR'; " +
                "`$first = Send-GryphMessage -To reviewer -From alice -Content 'draft 1' -PassThru; `$r1 = Receive-GryphMessage -Name alice -TimeoutSeconds 30; " +
                "`$second = Send-GryphMessage -To reviewer -From alice -Content 'draft 2' -PassThru; `$r2 = Receive-GryphMessage -Name alice -TimeoutSeconds 30; " +
                "[pscustomobject]@{ Ok1 = `$r1.ReplyTo -eq `$first.Id; Ok2 = `$r2.ReplyTo -eq `$second.Id; C1 = `$r1.Content; C2 = `$r2.Content; From = `$r2.From } | ConvertTo-Json -Compress")
            $result = (Wait-Process $peer) | ConvertFrom-Json
            $result.Ok1 | Should -BeTrue
            $result.Ok2 | Should -BeTrue
            $result.C1 | Should -Be '1 turns: draft 1'
            $result.C2 | Should -Be '3 turns: draft 2'
            $result.From | Should -Be 'reviewer'
            (Get-GryphBridge -Name reviewer).RelayedFromBus | Should -Be 2
        }
        finally {
            Get-GryphBridge | Stop-GryphBridge
            $agent.Kill($true); $agent.WaitForExit()
            Disconnect-GryphBus
        }
    }
}
