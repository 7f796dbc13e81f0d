# Real nats-server processes for Pester, dot-sourced after common.ps1 by the *.Tests.ps1 that need them:
#
#   BeforeDiscovery { . $PSScriptRoot/nats.ps1 }                       # $SkipNats, for -Skip at discovery
#   BeforeAll { . $PSScriptRoot/common.ps1; . $PSScriptRoot/nats.ps1 }
#   AfterAll { Stop-NatsTestServer }                                   # every server this file started, pass or fail
#   Describe 'over NATS' -Skip:$SkipNats { It '...' { $server = Start-NatsTestServer; $server.Url ... } }
#
# The servers are the xunit harness itself: tests/Shared/NatsTestServer.cs, compiled here with Add-Type on the
# first start (about a second). Each runs on 127.0.0.1 at free ports with its own temporary JetStream store; a
# pwsh that exits without AfterAll still kills them (the harness hooks ProcessExit).

# Where nats-server is, found as the harness finds it; absent outside CI the tests skip, under CI=true they fail.
$script:NatsServerPath = if ($env:NATS_SERVER) {
    if (Test-Path -PathType Leaf $env:NATS_SERVER) { $env:NATS_SERVER }
}
else {
    (Get-Command nats-server -CommandType Application -ErrorAction Ignore | Select-Object -First 1).Source ??
        (@('/usr/sbin/nats-server', '/usr/local/sbin/nats-server') | Where-Object { Test-Path -PathType Leaf $_ } | Select-Object -First 1)
}
$script:SkipNats = -not $NatsServerPath
if ($SkipNats -and $env:CI -eq 'true') { throw "CI=true but nats-server is not installed (.ci/run installs it with apt-get)." }

# What Start-* made in this scope (servers, clusters, certificates), for Stop-NatsTestServer without arguments.
if (-not (Get-Variable -Scope Script -Name NatsTestResources -ErrorAction Ignore)) {
    $script:NatsTestResources = [System.Collections.Generic.List[System.IDisposable]]::new()
}

function Import-NatsTestHarness {
    if ('Gryphgen.Tests.NatsTestServer' -as [type]) { return }
    if ($SkipNats) { throw "nats-server is not installed: guard the test with -Skip:`$SkipNats." }
    Add-Type -Path (Join-Path $PSScriptRoot 'Shared/NatsTestServer.cs')
}

function New-NatsTestServerOptions {
    param([string] $User, [string] $Password, [string] $Token, [object] $Tls, [long] $MaxPayload, [switch] $NoJetStream)
    # Only what was given, so an omitted -MaxPayload stays null (the server's default) rather than 0.
    $properties = @{ JetStream = -not $NoJetStream }
    if ($User) { $properties.User = $User; $properties.Password = $Password }
    if ($Token) { $properties.Token = $Token }
    if ($Tls) { $properties.Tls = $Tls }
    if ($MaxPayload) { $properties.MaxPayload = $MaxPayload }
    [Gryphgen.Tests.NatsTestServerOptions] $properties
}

function Start-NatsTestServer {
    <#
    .SYNOPSIS
        Starts one nats-server on 127.0.0.1 at a free port and returns the Gryphgen.Tests.NatsTestServer once it is
        ready: Url, Port, MonitorUrl, ServerName, Directory, ProcessId, Log; Kill(), Stop(), Restart(), Dispose().
    .PARAMETER Tls
        Generates a test CA and server certificate; the server then requires TLS. The CA file for clients is
        $server.Options.Tls.CaPath.
    .PARAMETER MaxPayload
        max_payload in bytes, up to 64MB (NATS' hard maximum, [Gryphgen.Tests.NatsTestServerOptions]::LargestMaxPayload).
    #>
    [CmdletBinding()]
    param(
        [string] $User,
        [string] $Password,
        [string] $Token,
        [switch] $Tls,
        [long] $MaxPayload,
        [switch] $NoJetStream
    )
    Import-NatsTestHarness
    $certificates = $null
    if ($Tls) {
        $certificates = [Gryphgen.Tests.NatsTestCertificates]::Create()
        $NatsTestResources.Add($certificates)
    }
    $options = New-NatsTestServerOptions -User $User -Password $Password -Token $Token -Tls $certificates `
        -MaxPayload $MaxPayload -NoJetStream:$NoJetStream
    $server = [Gryphgen.Tests.NatsTestServer]::Start($options)
    $NatsTestResources.Insert(0, $server)  # servers go before the certificates they use
    $server
}

function Start-NatsTestCluster {
    <#
    .SYNOPSIS
        Starts a cluster (3 nodes by default) with JetStream and returns the Gryphgen.Tests.NatsTestCluster once its
        routes are up and a meta leader is elected: Url (every node, comma-separated), Servers, WaitUntilFormed(),
        WaitForMetaLeader(). Kill a node with $cluster.Servers[1].Kill(), bring it back with .Restart().
    #>
    [CmdletBinding()]
    param([ValidateRange(1, 9)][int] $Size = 3, [string] $User, [string] $Password, [string] $Token)
    Import-NatsTestHarness
    $options = New-NatsTestServerOptions -User $User -Password $Password -Token $Token
    $cluster = [Gryphgen.Tests.NatsTestCluster]::Start($Size, $options)
    $NatsTestResources.Insert(0, $cluster)
    $cluster
}

function Stop-NatsTestServer {
    <#
    .SYNOPSIS
        Kills the given servers or clusters and deletes their directories; without -Server, everything that
        Start-NatsTestServer and Start-NatsTestCluster started in this scope (for AfterAll). Never throws.
    #>
    [CmdletBinding()]
    param([Parameter(ValueFromPipeline)][System.IDisposable[]] $Server)
    process {
        $targets = $Server ? $Server : @($NatsTestResources)
        foreach ($item in $targets) {
            try { $item.Dispose() } catch { Write-Warning "Stopping $item failed: $_" }
            [void] $NatsTestResources.Remove($item)
        }
    }
}
