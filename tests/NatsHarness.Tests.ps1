# The Pester side of the nats-server harness (tests/nats.ps1): servers start, say what they were configured with
# in their INFO line, survive Kill/Restart on the same port, form a cluster, and are gone after Stop-NatsTestServer.
BeforeDiscovery {
    . $PSScriptRoot/nats.ps1
}

BeforeAll {
    . $PSScriptRoot/common.ps1
    . $PSScriptRoot/nats.ps1

    function Read-NatsInfo([int] $Port) {
        # A NATS server greets every client with one 'INFO {json}' line.
        $client = [System.Net.Sockets.TcpClient]::new('127.0.0.1', $Port)
        try {
            $client.ReceiveTimeout = 5000
            $line = [System.IO.StreamReader]::new($client.GetStream()).ReadLine()
            $line.Substring(5) | ConvertFrom-Json
        }
        finally { $client.Dispose() }
    }
}

AfterAll {
    Stop-NatsTestServer
}

Describe 'Start-NatsTestServer and Stop-NatsTestServer' -Skip:$SkipNats {
    It 'starts an authenticated server with a 64MB max_payload on 127.0.0.1 and a free port' {
        $server = Start-NatsTestServer -User gryph -Password s3cret -MaxPayload 64MB
        $info = Read-NatsInfo $server.Port
        $info.host | Should -Be '127.0.0.1'
        $info.server_name | Should -Be $server.ServerName
        $info.auth_required | Should -BeTrue
        $info.max_payload | Should -Be 64MB
        $info.jetstream | Should -BeTrue
        (Invoke-RestMethod "$($server.MonitorUrl)/healthz").status | Should -Be 'ok'
    }

    It 'requires TLS with -Tls and hands out the CA file' {
        $server = Start-NatsTestServer -Tls -NoJetStream
        (Read-NatsInfo $server.Port).tls_required | Should -BeTrue
        $server.Options.Tls.CaPath | Should -Exist
    }

    It 'keeps its port and store across Kill and Restart' {
        $server = Start-NatsTestServer -Token t0ken
        $port = $server.Port
        $server.Kill()
        $server.IsRunning | Should -BeFalse
        $server.Restart()
        $server.Port | Should -Be $port
        (Read-NatsInfo $port).auth_required | Should -BeTrue
    }

    It 'forms a 3-node cluster with a JetStream meta leader' {
        $cluster = Start-NatsTestCluster
        $cluster.Servers.Count | Should -Be 3
        $cluster.WaitForMetaLeader() | Should -BeIn $cluster.Servers.ServerName
        foreach ($node in $cluster.Servers) { (Invoke-RestMethod "$($node.MonitorUrl)/routez").num_routes | Should -BeGreaterOrEqual 2 }
    }

    It 'leaves no process and no directory after Stop-NatsTestServer' {
        $server = Start-NatsTestServer
        $processId = $server.ProcessId
        Stop-NatsTestServer -Server $server
        "/proc/$processId" | Should -Not -Exist
        $server.Directory | Should -Not -Exist
    }
}
