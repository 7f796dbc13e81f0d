# Gryphgen's objects as text, the way a user passes them on: one rule for times (local DateTime, Kind Local) that a
# table, a list and a CSV agree on; sizes in labelled binary units; CSV cells that say what they hold; JSON without
# the machinery behind an object. Times are checked in a zone 5 h 45 min from UTC, so a UTC value cannot pass.
BeforeDiscovery { . $PSScriptRoot/nats.ps1 }

BeforeAll {
    . $PSScriptRoot/common.ps1
    . $PSScriptRoot/nats.ps1

    $script:SavedTimeZone = $env:TZ
    $env:TZ = 'Asia/Kathmandu'
    [TimeZoneInfo]::ClearCachedData()

    function Assert-LocalNow([datetime] $Time, [string] $What) {
        # Kind Local, and within a few minutes of Get-Date: a UTC value here is 5 h 45 min away.
        $Time.Kind | Should -Be 'Local' -Because "$What is local time"
        [Math]::Abs(($Time - (Get-Date)).TotalMinutes) | Should -BeLessThan 10 -Because "$What ($Time) is now, in local time"
    }

    function Assert-FlatCsv([object[]] $InputObject) {
        # Every cell says what it holds: no type name where a list, a map or an object was.
        $csv = ($InputObject | ConvertTo-Csv) -join "`n"
        $csv | Should -Not -Match 'System\.(Collections|String\[\]|Int(32|64)\[\])|Gryphgen\.Core\.' -Because "a CSV cell names a type:`n$csv"
    }

    $script:PipeDirectory = Join-Path ([IO.Path]::GetTempPath()) "gryph-objects-$([guid]::NewGuid().ToString('N').Substring(0, 8))"
    $env:GRYPHGEN_PIPE_DIR = $PipeDirectory
    $script:ToolFolder = Join-Path ([IO.Path]::GetTempPath()) ("gryph-objects-tools-" + [guid]::NewGuid().ToString('N'))
    New-Item -ItemType Directory -Path $ToolFolder | Out-Null
    # A stand-in nvidia-smi: two GPUs, one running a process, so GpuStatus has lists to flatten.
    $rows = @(
        '0, NVIDIA A100-SXM4-40GB, GPU-27b94a00-ed54-5c24-b1fd-1054085de32a, 40960, 38000, 2960, 605, [N/A], [N/A], 36, 66.92, 400.00, [N/A], 1410, 1215, P0, 510.47.03'
        '1, NVIDIA A100-SXM4-40GB, GPU-27b94a00-ed54-5c24-b1fd-1054085de32b, 40960, 100, 40860, 0, [N/A], [N/A], 30, 50.00, 400.00, [N/A], 1410, 1215, P0, 510.47.03'
    ) -join '\n'
    Set-Content -Path (Join-Path $ToolFolder 'nvidia-smi') -NoNewline -Value @"
#!/bin/sh
case "`$1" in
  --query-gpu=*) printf '$rows\n' ;;
  --query-compute-apps=*) echo 'GPU-27b94a00-ed54-5c24-b1fd-1054085de32a, 4242, python3, 37000' ;;
  *) exit 15 ;;
esac
"@
    chmod 755 (Join-Path $ToolFolder 'nvidia-smi')
    $script:SavedPath = $env:PATH
    $env:PATH = "$ToolFolder$([IO.Path]::PathSeparator)$env:PATH"
}

AfterAll {
    $env:TZ = $SavedTimeZone
    [TimeZoneInfo]::ClearCachedData()
    $env:PATH = $SavedPath
    Get-GryphAgent | Stop-GryphAgent
    Remove-Item Env:GRYPHGEN_PIPE_DIR -ErrorAction SilentlyContinue
    Remove-Item -Recurse -Force $PipeDirectory, $ToolFolder -ErrorAction SilentlyContinue
    Stop-NatsTestServer
}

Describe 'Times: local DateTime, Kind Local, everywhere' {
    It 'gives a message its local time, and the table and the list show the same time' {
        # Built as the cmdlets build a message: with the UTC clock.
        $message = [Gryphgen.Core.Messaging.GryphMessage]@{ Id = '9f0c1e2a77aa4c1b'; From = 'alice'; To = 'bob'; Timestamp = [DateTime]::UtcNow; Content = 'hi' }
        Assert-LocalNow $message.Timestamp 'a message''s Timestamp'
        $table = $message | Out-String -Width 120
        $table | Should -Match ([regex]::Escape($message.Timestamp.ToString('HH:mm:ss')))
        $list = $message | Format-List Timestamp | Out-String
        $list | Should -Match ([regex]::Escape($message.Timestamp.ToString('HH:mm:ss')))
        ($message | ConvertTo-Csv | ConvertFrom-Csv).Timestamp | Should -Be $message.Timestamp.ToString()
    }

    It 'keeps the instant of a received message: local to the user, UTC on the wire' {
        New-GryphPipe -Name timed | Out-Null
        $writer = Start-Bash "printf 'plain line\n' > '$PipeDirectory/timed'"
        $received = Receive-GryphMessage -Name timed -Raw -Count 1 -TimeoutSeconds 20
        $writer.WaitForExit(20000) | Should -BeTrue
        Assert-LocalNow $received.Timestamp 'a received message''s Timestamp'
        $received.Timestamp.ToUniversalTime() | Should -BeLessOrEqual ([DateTime]::UtcNow)
    }

    It 'samples GPUs in local time, and Get-GpuStatus -Continuous | Export-Csv writes that time' {
        $csv = Join-Path $PipeDirectory 'gpu.csv'
        Get-GpuStatus -Source NvidiaSmi -Continuous -Count 2 -IntervalSeconds 1 -WarningAction SilentlyContinue | Export-Csv -Path $csv
        $rows = Import-Csv $csv
        $rows | Should -HaveCount 4
        foreach ($row in $rows) {
            # A CSV cell has no Kind; the time written must be the local one.
            [Math]::Abs(([datetime]::Parse($row.Timestamp) - (Get-Date)).TotalMinutes) | Should -BeLessThan 10 -Because "the CSV's Timestamp ($($row.Timestamp)) is local time"
        }
        Assert-LocalNow (Get-GpuStatus -Source NvidiaSmi -Index 0 -WarningAction SilentlyContinue).Timestamp 'a GPU sample''s Timestamp'
    }

    It 'gives pipes, agents, chat lines and models local times' {
        Assert-LocalNow (New-GryphPipe -Name created).CreationTime 'a pipe''s CreationTime'
        $agent = Start-GryphAgent -Name timed-agent -ScriptBlock { param($message) 'ok' }
        try { Assert-LocalNow $agent.StartTime 'an agent''s StartTime' } finally { $agent | Stop-GryphAgent }
        Assert-LocalNow ([Gryphgen.Core.Agents.ChatTranscriptEntry]::new()).Timestamp 'a chat line''s Timestamp'
        if (-not $SkipSharedTestData) {
            (Find-GgufModel -Path (Join-Path $SharedTestData 'gguf') | Select-Object -First 1).LastWriteTime.Kind | Should -Be 'Local'
        }
    }
}

Describe 'Sizes: binary units, labelled' {
    It 'formats sizes as B, KiB, MiB, GiB, never above 999.9 of a unit' -ForEach @(
        @{ Bytes = 0; Text = '0 B' }, @{ Bytes = 999; Text = '999 B' }, @{ Bytes = 1000; Text = '1.0 KiB' },
        @{ Bytes = 500KB; Text = '500.0 KiB' }, @{ Bytes = 1048524; Text = '1.0 MiB' }, @{ Bytes = 4.5GB; Text = '4.5 GiB' }
    ) {
        [Gryphgen.Core.ByteSize]::Format([long]$Bytes, [cultureinfo]::InvariantCulture) | Should -Be $Text
    }

    It 'shows a message''s size in binary units' {
        $message = [Gryphgen.Core.Messaging.GryphMessage]@{ Id = 'a1'; Timestamp = [DateTime]::UtcNow; Content = 'x' * 2048; Bytes = 2048 }
        $table = $message | Out-String -Width 120
        $table | Should -Match '(?m)^\S+ .* 2\.0 KiB x+'
        $table | Should -Not -Match '\d (GB|MB|KB)\b'
    }

    It 'shows a GPU''s memory in GiB' {
        $table = Get-GpuStatus -Source NvidiaSmi -Index 0 -WarningAction SilentlyContinue | Out-String -Width 120
        $table | Should -Match '\d+\.\d/40\.0 GiB'
        $table | Should -Not -Match '\d (GB|MB|KB)\b'
    }
}

Describe 'CSV rows say what they hold' {
    It 'flattens a message''s Metadata to key=value pairs' {
        $pairs = [Collections.Generic.Dictionary[string, string]]::new()
        $pairs['round'] = '2'
        $message = [Gryphgen.Core.Messaging.GryphMessage]@{ Id = 'a1'; Timestamp = [DateTime]::UtcNow; Content = 'x'; Metadata = $pairs }
        ($message | ConvertTo-Csv | ConvertFrom-Csv).Metadata | Should -Be 'round=2'
        ($message | ConvertTo-Json | ConvertFrom-Json).Metadata.round | Should -Be '2' -Because 'JSON still writes an object'
        Assert-FlatCsv $message
    }

    It 'flattens a GPU''s processes and alerts' {
        $gpus = Get-GpuStatus -Source NvidiaSmi -AlertMemoryPercent 90 -WarningAction SilentlyContinue
        $row = $gpus | ConvertTo-Csv | ConvertFrom-Csv | Where-Object Index -EQ 0
        $row.Processes | Should -Be '4242 python3'
        $row.Alerts | Should -BeLike 'Memory *'
        Assert-FlatCsv $gpus
    }

    It 'flattens a pipe''s readers and writers' {
        [bool](New-GryphPipe -Name held).Readers | Should -BeFalse -Because 'an empty list is false in PowerShell, as an empty array is'
        $holder = Start-Bash "exec 3<>'$PipeDirectory/held'; sleep 30"
        try {
            $pipe = $null
            foreach ($attempt in 1..100) {
                $pipe = Get-GryphPipe -Name held
                if ($pipe.Readers.Count -gt 0) { break }
                [Threading.Thread]::Sleep(50)  # polled: /proc shows the holder once bash has opened the FIFO
            }
            ($pipe | ConvertTo-Csv | ConvertFrom-Csv).Readers | Should -Match '^(bash|sleep)\(\d+\) r w'
            Assert-FlatCsv $pipe
        }
        finally { $holder.Kill($true); $holder.WaitForExit() }
    }

    It 'flattens a model''s aliases, shards and per-layer values, and a tensor''s shape' -Skip:$SkipSharedTestData {
        $models = @(Find-GgufModel -Path (Join-Path $SharedTestData 'gguf') -WarningAction Ignore)
        Assert-FlatCsv $models
        $row = $models[0] | ConvertTo-Csv | ConvertFrom-Csv
        $row.Shards | Should -Be $models[0].Path
        $tensor = $models | Where-Object TensorCount -GT 0 | Select-Object -First 1 | ForEach-Object { $_.GetTensors() | Select-Object -First 1 }
        ($tensor | ConvertTo-Csv | ConvertFrom-Csv).Dimensions | Should -Be ($tensor.Dimensions -join ', ')
    }

    It 'flattens an agent''s peers' {
        $agent = Start-GryphAgent -Name flat-agent -ScriptBlock { param($message) 'ok' }
        try { Assert-FlatCsv $agent } finally { $agent | Stop-GryphAgent }
    }
}

Describe 'Bus objects as text' -Skip:$SkipNats {
    BeforeAll {
        $script:Server = Start-NatsTestServer
    }

    BeforeEach { Connect-GryphBus -Url $Server.Url -Namespace "o$([guid]::NewGuid().ToString('N').Substring(0, 8))" }
    AfterEach { Get-GryphPipe | Remove-GryphPipe -Force; Disconnect-GryphBus }

    It 'sizes each column of Get-GryphBus to what it holds at <Width> columns' -ForEach @(@{ Width = 80 }, @{ Width = 120 }) {
        $bus = Get-GryphBus
        $lines = ($bus | Out-String -Width $Width) -split '\r?\n' | Where-Object { $_.Trim() }
        $lines[1] | Should -Match '^-+( +-+)*$' -Because "the header must not wrap:`n$($lines -join "`n")"
        $starts = [regex]::Matches($lines[1], '-+') | ForEach-Object Index
        for ($i = 0; $i -lt $starts.Count - 1; $i++) {
            $columnWidth = $starts[$i + 1] - $starts[$i] - 1
            $header = $lines[0].Substring($starts[$i], $columnWidth).Trim()
            $cell = $lines[2].Substring($starts[$i], $columnWidth).Trim()
            [Math]::Max($header.Length, $cell.Length) | Should -Be $columnWidth -Because "column '$header' is padded:`n$($lines -join "`n")"
        }
        $lines[2] | Should -Match ([regex]::Escape($bus.ConnectedServer))
        $lines | ForEach-Object { $_.Length | Should -BeLessOrEqual $Width }
    }

    It 'writes a connection as JSON without the transport behind it' {
        $json = Get-GryphBus | ConvertTo-Json -Depth 4 -EnumsAsStrings | ConvertFrom-Json
        $json.PSObject.Properties.Name | Should -Not -Contain 'Transport'
        $json.Namespace | Should -Be (Get-GryphBus).Namespace
        foreach ($property in $json.PSObject.Properties | Where-Object Name -NE 'ConnectTimeout') {
            $property.Value | Where-Object { $_.GetType().Name -eq 'PSCustomObject' } | Should -BeNullOrEmpty -Because "$($property.Name) is an object, not a value"
        }
    }

    It 'gives bus objects local times, flat CSV rows and sizes in binary units' {
        Assert-LocalNow (Get-GryphBus).ConnectedAt 'a bus''s ConnectedAt'
        New-GryphPipe -Name sized | Out-Null
        'a', 'b' | Send-GryphMessage -To sized
        $endpoint = Get-GryphPipe -Name sized
        Assert-LocalNow $endpoint.CreationTime 'a bus endpoint''s CreationTime'
        $endpoint | Out-String -Width 120 | Should -Match "(?m)^sized +2 +$([regex]::Escape([Gryphgen.Core.ByteSize]::Format($endpoint.Bytes))) "
        Assert-FlatCsv (Get-GryphBus)
        Assert-FlatCsv $endpoint
    }
}

Describe 'Remove-GryphPipe on bus endpoints' -Skip:$SkipNats {
    BeforeAll {
        $script:Server = Start-NatsTestServer
    }

    BeforeEach {
        $script:Namespace = "r$([guid]::NewGuid().ToString('N').Substring(0, 8))"
        Connect-GryphBus -Url $Server.Url -Namespace $Namespace
        New-GryphPipe -Name full-1, full-2, empty-1, other | Out-Null
        'a', 'b' | Send-GryphMessage -To full-1
        'c' | Send-GryphMessage -To full-2
    }
    AfterEach { Get-GryphPipe | Remove-GryphPipe -Force; Disconnect-GryphBus }

    It 'asks before deleting messages: a host that cannot ask gets an error naming -Force, and nothing is lost' {
        # A fresh pwsh, -NonInteractive: it cannot answer the question, so the endpoints must stay.
        $peer = Start-FreshPwsh ("Connect-GryphBus -Url '$($Server.Url)' -Namespace $Namespace; " +
            "Remove-GryphPipe -Name 'full-*', 'empty-1' -ErrorAction SilentlyContinue -ErrorVariable failed; " +
            "`$failed | ForEach-Object { `$_.FullyQualifiedErrorId + '|' + `$_ }")
        $peer.WaitForExit(60000) | Should -BeTrue
        $lines = @($peer.StandardOutput.ReadToEnd() -split '\r?\n' | Where-Object { $_ })
        $lines | Should -HaveCount 2 -Because ($lines + $peer.StandardError.ReadToEnd() -join "`n")
        $lines | ForEach-Object { $_ | Should -BeLike 'GryphPipeHoldsMessages,*|*holds * message(s)*-Force*' }
        (Get-GryphPipe).Name | Sort-Object | Should -Be @('full-1', 'full-2', 'other') -Because 'the empty endpoint went without a question'
        (Get-GryphPipe -Name full-1).Messages | Should -Be 2
    }

    It 'removes endpoints that hold messages with -Force or -Confirm:$false, by wildcard' {
        Remove-GryphPipe -Name 'full-1' -Force
        Remove-GryphPipe -Name 'full-*' -Confirm:$false
        (Get-GryphPipe).Name | Sort-Object | Should -Be @('empty-1', 'other')
    }

    It 'lists what a wildcard would remove under -WhatIf, and removes nothing' {
        # -WhatIf writes to the host, so a fresh pwsh's output shows it.
        $peer = Start-FreshPwsh "Connect-GryphBus -Url '$($Server.Url)' -Namespace $Namespace; Remove-GryphPipe -Name '*-1' -WhatIf"
        $peer.WaitForExit(60000) | Should -BeTrue
        $said = $peer.StandardOutput.ReadToEnd()
        $said | Should -Match "gryph\.$Namespace\.empty-1"
        $said | Should -Match "the 2 message\(s\) waiting in it.* on target .gryph\.$Namespace\.full-1"
        (Get-GryphPipe).Count | Should -Be 4
    }
}

Describe 'Remove-GryphPipe -Name with wildcards, on local FIFOs' {
    It 'removes the FIFOs a wildcard matches, and only those' {
        New-GryphPipe -Name wild-a, wild-b, tame | Out-Null
        Remove-GryphPipe -Name 'wild-*' -Confirm:$false
        Test-Path "$PipeDirectory/wild-a" | Should -BeFalse
        Test-Path "$PipeDirectory/wild-b" | Should -BeFalse
        Test-Path "$PipeDirectory/tame" | Should -BeTrue
    }
}
