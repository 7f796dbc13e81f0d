# Named-pipe messaging as a user meets it: the built module in fresh pwsh processes, real FIFOs between them.
BeforeAll {
    . $PSScriptRoot/common.ps1
    $env:GRYPHGEN_PIPE_DIR = Join-Path ([IO.Path]::GetTempPath()) "gryph-pester-$([guid]::NewGuid().ToString('N').Substring(0, 8))"

    function Wait-Process([System.Diagnostics.Process] $Process, [int] $Seconds = 120) {
        if (-not $Process.WaitForExit($Seconds * 1000)) { $Process.Kill($true); throw "peer process timed out" }
        $stdout = $Process.StandardOutput.ReadToEnd(); $stderr = $Process.StandardError.ReadToEnd()
        if ($Process.ExitCode -ne 0) { throw "peer failed ($($Process.ExitCode)): $stderr $stdout" }
        $stdout
    }

    function Wait-Reader([string] $Path) {
        # The peer is ready when /proc shows it holding the pipe for reading: a signal, not a sleep.
        $deadline = [DateTime]::UtcNow.AddSeconds(30)
        while (-not (Get-GryphPipe -Path $Path).Readers) {
            if ([DateTime]::UtcNow -gt $deadline) { throw "no reader appeared on $Path" }
            Start-Sleep -Milliseconds 20
        }
    }
}

AfterAll {
    Remove-Item -Recurse -Force $env:GRYPHGEN_PIPE_DIR -ErrorAction SilentlyContinue
}

Describe 'New-GryphPipe, Get-GryphPipe, Remove-GryphPipe' {
    It 'creates 0600 inboxes in a 0700 directory, idempotently' {
        $pipes = New-GryphPipe -Name p1, p2
        $pipes.Mode | Should -Be @('0600', '0600')
        (Get-Item $env:GRYPHGEN_PIPE_DIR).UnixMode | Should -Be 'drwx------'
        (New-GryphPipe -Name p1).CreationTime | Should -Be $pipes[0].CreationTime
        (Get-GryphPipe -Name 'p*').Name | Should -Be @('p1', 'p2')
    }

    It 'refuses an existing non-FIFO and leaves it alone' {
        $file = Join-Path $env:GRYPHGEN_PIPE_DIR 'plain'
        Set-Content $file 'data'
        New-GryphPipe -Name plain -Force -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -BeLike 'GryphPipePathOccupied,*'
        Remove-GryphPipe -Path $file -ErrorVariable err2 -ErrorAction SilentlyContinue
        $err2[0].FullyQualifiedErrorId | Should -BeLike 'GryphPipeNotFifo,*'
        Get-Content $file | Should -Be 'data'
    }

    It 'supports -WhatIf and pipeline input from Get-GryphPipe' {
        New-GryphPipe -Name gone -WhatIf
        Join-Path $env:GRYPHGEN_PIPE_DIR 'gone' | Should -Not -Exist
        New-GryphPipe -Name gone | Out-Null
        Get-GryphPipe -Name gone | Remove-GryphPipe -Confirm:$false
        Join-Path $env:GRYPHGEN_PIPE_DIR 'gone' | Should -Not -Exist
    }

    It 'shows which process reads a pipe, and warns when removing a held pipe' {
        $pipe = New-GryphPipe -Name held
        $peer = Start-FreshPwsh "`$env:GRYPHGEN_PIPE_DIR='$env:GRYPHGEN_PIPE_DIR'; Receive-GryphMessage -Name held -TimeoutSeconds 30 | Out-Null"
        Wait-Reader $pipe.Path
        $holder = (Get-GryphPipe -Name held).Readers | Where-Object ProcessId -EQ $peer.Id
        $holder.ProcessName | Should -Not -BeNullOrEmpty
        Send-GryphMessage -To held -Content 'bye'
        Wait-Process $peer | Out-Null
        $holding = Start-FreshPwsh "`$env:GRYPHGEN_PIPE_DIR='$env:GRYPHGEN_PIPE_DIR'; Receive-GryphMessage -Name held -TimeoutSeconds 30 | Out-Null"
        Wait-Reader $pipe.Path
        Remove-GryphPipe -Name held -Confirm:$false -WarningVariable warned 3>$null
        $warned | Should -Match 'still open'
        $holding.Kill(); $holding.WaitForExit()
    }

    It 'creates FIFOs at explicit paths for interop, and refuses a shared one unless -AllowShared' {
        $path = Join-Path $env:GRYPHGEN_PIPE_DIR 'model1_to_model2'
        (New-GryphPipe -Path $path -Mode 0666).Mode | Should -Be '0666'
        Receive-GryphMessage -Path $path -TimeoutSeconds 1 -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'GryphPipeShared,*'
        $peer = Start-FreshPwsh "Send-GryphMessage -Path '$path' -Content shared -AllowShared"
        (Receive-GryphMessage -Path $path -AllowShared -TimeoutSeconds 30).Content | Should -Be 'shared'
        Wait-Process $peer | Out-Null
    }

    It 'refuses a pipe owned by another user' -Skip:((id -u) -ne '0') {
        $path = (New-GryphPipe -Name foreign).Path
        chown nobody $path
        Send-GryphMessage -To foreign -Content x -TimeoutSeconds 1 -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'GryphPipeForeignOwner,*'
    }

    It 'refuses a pipe that others can read (0644) unless -AllowShared' {
        [IO.Directory]::CreateDirectory($env:GRYPHGEN_PIPE_DIR, [IO.UnixFileMode]'UserRead, UserWrite, UserExecute') | Out-Null
        $path = Join-Path $env:GRYPHGEN_PIPE_DIR 'readable'
        (New-GryphPipe -Path $path -Mode 0644).Mode | Should -Be '0644'
        Receive-GryphMessage -Path $path -TimeoutSeconds 1 -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'GryphPipeShared,*'
        $err[0].Exception.Message | Should -BeLike '*mode 644*A pipe must be 0600*'
        Send-GryphMessage -Path $path -Content x -TimeoutSeconds 1 -ErrorVariable err2 -ErrorAction SilentlyContinue
        $err2[0].FullyQualifiedErrorId | Should -BeLike 'GryphPipeShared,*'
        $peer = Start-FreshPwsh "Send-GryphMessage -Path '$path' -Content readable -AllowShared"
        (Receive-GryphMessage -Path $path -AllowShared -TimeoutSeconds 30).Content | Should -Be 'readable'
        Wait-Process $peer | Out-Null
    }

    It 'does not remove a pipe owned by another user unless -AllowShared' -Skip:((id -u) -ne '0') {
        $path = (New-GryphPipe -Name foreign-remove).Path
        chown nobody $path
        Remove-GryphPipe -Name foreign-remove -Confirm:$false -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'GryphPipeForeignOwner,*'
        $err[0].Exception.Message | Should -BeLike '*belongs to user nobody*left alone*'
        Test-Path $path | Should -BeTrue
        Remove-GryphPipe -Name foreign-remove -AllowShared -Confirm:$false
        Test-Path $path | Should -BeFalse
    }

    It 'never follows a symlink planted where a pipe should be' {
        $target = (New-GryphPipe -Name real).Path
        $link = Join-Path $env:GRYPHGEN_PIPE_DIR 'planted'
        New-Item -ItemType SymbolicLink -Path $link -Target $target | Out-Null
        Send-GryphMessage -To planted -Content x -TimeoutSeconds 1 -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'GryphPipeIsSymlink,*'
        Receive-GryphMessage -Name planted -TimeoutSeconds 1 -ErrorVariable err2 -ErrorAction SilentlyContinue
        $err2[0].FullyQualifiedErrorId | Should -BeLike 'GryphPipeIsSymlink,*'
    }
}

Describe 'Send-GryphMessage and Receive-GryphMessage across processes' {
    It 'exchanges messages between two pwsh processes, replies carrying ReplyTo' {
        New-GryphPipe -Name client, server | Out-Null
        $server = Start-FreshPwsh @"
`$env:GRYPHGEN_PIPE_DIR='$env:GRYPHGEN_PIPE_DIR'
Receive-GryphMessage -Name server -Count 3 -TimeoutSeconds 60 | ForEach-Object {
    Send-GryphMessage -To `$_.From -From server -ReplyTo `$_.Id -Content ('echo: ' + `$_.Content) -Metadata @{ seen = `$_.Metadata['n'] }
}
"@
        $sent = 1..3 | ForEach-Object { "line one $_`nline two 🦙" } |
            Send-GryphMessage -To server -From client -Metadata @{ n = 'x' } -PassThru
        $replies = Receive-GryphMessage -Name client -Count 3 -TimeoutSeconds 60
        Wait-Process $server | Out-Null
        $replies.ReplyTo | Should -Be $sent.Id
        $replies.Content | Should -Be ($sent | ForEach-Object { "echo: $($_.Content)" })
        $replies.From | Should -Be @('server', 'server', 'server')
        $replies[0].Metadata['seen'] | Should -Be 'x'
        $replies[0].Timestamp.Kind | Should -Be 'Local'  # one rule for times: local, Kind Local (UTC on the wire)
    }

    It 'carries empty content and a 100 MB message byte for byte with the limit raised' {
        New-GryphPipe -Name big | Out-Null
        $sender = Start-FreshPwsh @"
`$env:GRYPHGEN_PIPE_DIR='$env:GRYPHGEN_PIPE_DIR'
`$bytes = [byte[]]::new(75MB); [Random]::new(7).NextBytes(`$bytes)
`$content = [Convert]::ToBase64String(`$bytes) + "`n€ end"
'', `$content | Send-GryphMessage -To big -TimeoutSeconds 120
[Convert]::ToHexString([Security.Cryptography.SHA256]::HashData([Text.Encoding]::UTF8.GetBytes(`$content)))
"@
        $messages = Receive-GryphMessage -Name big -Count 2 -MaxMessageBytes 200MB -TimeoutSeconds 120
        $expected = (Wait-Process $sender).Trim()
        $messages[0].Content | Should -BeExactly ''
        $messages[1].Bytes | Should -BeGreaterThan 100MB
        [Convert]::ToHexString([Security.Cryptography.SHA256]::HashData([Text.Encoding]::UTF8.GetBytes($messages[1].Content))) | Should -Be $expected
    }

    It 'rejects a message over -MaxMessageBytes with a stable id, and the next message still arrives' {
        New-GryphPipe -Name small | Out-Null
        $sender = Start-FreshPwsh "`$env:GRYPHGEN_PIPE_DIR='$env:GRYPHGEN_PIPE_DIR'; ('x' * 5000), 'fits' | Send-GryphMessage -To small"
        $got = Receive-GryphMessage -Name small -MaxMessageBytes 1000 -TimeoutSeconds 30 -ErrorVariable err -ErrorAction SilentlyContinue
        Wait-Process $sender | Out-Null
        $got.Content | Should -Be 'fits'
        $err[0].FullyQualifiedErrorId | Should -BeLike 'GryphMessageTooLarge,*'
    }

    It 'never interleaves 8 concurrent senders of 500 messages up to 1 MiB each' {
        New-GryphPipe -Name crowd | Out-Null
        $senderScript = @'
$env:GRYPHGEN_PIPE_DIR = '{0}'
$random = [Random]::new({1})
$sha = [Security.Cryptography.SHA256]::Create()
1..500 | ForEach-Object {{
    $bytes = [byte[]]::new($random.Next(0, 786432)); $random.NextBytes($bytes)
    $payload = [Convert]::ToBase64String($bytes)
    '{1}|' + $_ + '|' + [Convert]::ToHexString($sha.ComputeHash([Text.Encoding]::ASCII.GetBytes($payload))) + '|' + $payload
}} | Send-GryphMessage -To crowd -TimeoutSeconds 300
'@
        $senders = 1..8 | ForEach-Object { Start-FreshPwsh ($senderScript -f $env:GRYPHGEN_PIPE_DIR, $_) }
        $sha = [Security.Cryptography.SHA256]::Create()
        $seen = @{}
        $bad = 0
        Receive-GryphMessage -Name crowd -Count 4000 -MaxMessageBytes 2MB -TimeoutSeconds 300 | ForEach-Object {
            $sender, $sequence, $hash, $payload = $_.Content.Split('|', 4)
            if ([Convert]::ToHexString($sha.ComputeHash([Text.Encoding]::ASCII.GetBytes($payload))) -ne $hash) { $bad++ }
            $seen["$sender/$sequence"] = $true
        }
        $senders | ForEach-Object { Wait-Process $_ 300 | Out-Null }
        $bad | Should -Be 0
        $seen.Count | Should -Be 4000
    }

    It 'leaves later messages in the pipe when a receiver stops after N' {
        $queue = (New-GryphPipe -Name queue).Path
        # The kernel keeps a FIFO's bytes only while someone holds it open: a holder plays the live peer.
        $holder = Start-Bash "exec 3<>'$queue'; sleep 120"
        Wait-Reader $queue
        $sender = Start-FreshPwsh "`$env:GRYPHGEN_PIPE_DIR='$env:GRYPHGEN_PIPE_DIR'; 1..10 | ForEach-Object { `"m`$_`" } | Send-GryphMessage -To queue"
        Wait-Process $sender | Out-Null
        (Receive-GryphMessage -Name queue -Count 3 -TimeoutSeconds 30).Content | Should -Be @('m1', 'm2', 'm3')
        (Receive-GryphMessage -Name queue -Count 7 -TimeoutSeconds 30).Content | Should -Be (4..10 | ForEach-Object { "m$_" })
        $holder.Kill(); $holder.WaitForExit()
    }

    It 'refuses a second receiver on a pipe another process reads, naming that process, and the first one goes on' {
        $path = (New-GryphPipe -Name busy).Path
        $first = Start-FreshPwsh "`$env:GRYPHGEN_PIPE_DIR='$env:GRYPHGEN_PIPE_DIR'; (Receive-GryphMessage -Name busy -Count 1 -TimeoutSeconds 60).Content"
        Wait-Reader $path
        Receive-GryphMessage -Name busy -TimeoutSeconds 5 -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -BeLike 'GryphPipeReaderBusy,*'
        $err[0].CategoryInfo.Category | Should -Be 'ResourceUnavailable'
        $err[0].Exception.Message | Should -BeLike "*($($first.Id))*"
        Send-GryphMessage -To busy -Content 'for the first' -TimeoutSeconds 30
        (Wait-Process $first).Trim() | Should -Be 'for the first'
    }
}

Describe 'Timeouts' {
    It 'fails a send with no reader at the timeout, with a clear error' {
        New-GryphPipe -Name nobody | Out-Null
        $clock = [Diagnostics.Stopwatch]::StartNew()
        Send-GryphMessage -To nobody -Content x -TimeoutSeconds 2 -ErrorVariable err -ErrorAction SilentlyContinue
        $clock.Elapsed.TotalSeconds | Should -BeGreaterOrEqual 1.8
        $clock.Elapsed.TotalSeconds | Should -BeLessOrEqual 2.2
        $err[0].FullyQualifiedErrorId | Should -BeLike 'GryphPipeNoReader,*'
        $err[0].CategoryInfo.Category | Should -Be 'OperationTimeout'
        # The user learns how long it waited and what has to run for a send to go through.
        $err[0].Exception.Message | Should -Match '\b2(\.\d)? s\b'
        $err[0].Exception.Message | Should -Match 'Receive-GryphMessage'
        $err[0].Exception.Message | Should -Match 'Start-GryphAgent'
    }

    It 'keeps a -Continuous receiver without -TimeoutSeconds waiting past the 30 s default' {
        New-GryphPipe -Name patient | Out-Null
        $receiver = Start-FreshPwsh -Script "Receive-GryphMessage -Name patient -Continuous | Select-Object -First 1 | ForEach-Object Content"
        try {
            Wait-Reader (Get-GryphPipe -Name patient).Path
            # The property under test is the passing of time: a receiver with the old 30 s idle limit has gone by now.
            $receiver.WaitForExit(32000) | Should -BeFalse -Because '-Continuous waits until stopped'
            Send-GryphMessage -To patient -Content 'still here' -TimeoutSeconds 5
            (Wait-Process $receiver 30).Trim() | Should -Be 'still here'
        }
        finally {
            if (-not $receiver.HasExited) { $receiver.Kill($true) }
        }
    }

    It 'fails a receive with no writer at the timeout, with a clear error' {
        New-GryphPipe -Name silent | Out-Null
        $clock = [Diagnostics.Stopwatch]::StartNew()
        Receive-GryphMessage -Name silent -TimeoutSeconds 2 -ErrorVariable err -ErrorAction SilentlyContinue
        $clock.Elapsed.TotalSeconds | Should -BeGreaterOrEqual 1.8
        $clock.Elapsed.TotalSeconds | Should -BeLessOrEqual 2.2
        $err[0].FullyQualifiedErrorId | Should -BeLike 'GryphReceiveTimeout,*'
        $err[0].Exception.Message | Should -Match 'silent'
    }
}

Describe 'Peers in other languages' {
    It 'lets a python3 script write a frame by hand and read the framed reply' -Skip:(-not (Get-Command python3 -ErrorAction SilentlyContinue)) {
        New-GryphPipe -Name pyclient, pyserver | Out-Null
        $script = Join-Path $TestDrive 'peer.py'
        @'
import fcntl, json, os, sys
directory = sys.argv[1]
header = json.dumps({"id": "py-1", "from": "pyclient", "to": "pyserver"}).encode()
body = "héllo from python\nsecond line".encode()
frame = b"GRY1 %010d %015d\n" % (len(header), len(body)) + header + body + b"END\n"
inbox = os.open(os.path.join(directory, "pyclient"), os.O_RDONLY | os.O_NONBLOCK)
out = os.open(os.path.join(directory, "pyserver"), os.O_WRONLY)
fcntl.flock(out, fcntl.LOCK_EX); os.write(out, frame); fcntl.flock(out, fcntl.LOCK_UN); os.close(out)
os.set_blocking(inbox, True)
def exactly(n):
    data = b""
    while len(data) < n:
        chunk = os.read(inbox, n - len(data))
        if chunk: data += chunk
    return data
prefix = exactly(32)
assert prefix[:5] == b"GRY1 ", prefix
hl, bl = int(prefix[5:15]), int(prefix[16:31])
rest = exactly(hl + bl + 4)
assert rest[-4:] == b"END\n"
reply = json.loads(rest[:hl])
print(json.dumps({"replyTo": reply.get("replyTo"), "from": reply.get("from"), "content": rest[hl:hl + bl].decode()}))
'@ | Set-Content $script
        $python = Start-Process python3 -ArgumentList $script, $env:GRYPHGEN_PIPE_DIR -RedirectStandardOutput (Join-Path $TestDrive 'py.out') -PassThru
        $request = Receive-GryphMessage -Name pyserver -TimeoutSeconds 30
        $request.Content | Should -BeExactly "héllo from python`nsecond line"
        $request.From | Should -Be 'pyclient'
        Send-GryphMessage -To $request.From -From pyserver -ReplyTo $request.Id -Content 'réponse'
        $python.WaitForExit(30000) | Should -BeTrue
        $reply = Get-Content (Join-Path $TestDrive 'py.out') -Raw | ConvertFrom-Json
        $reply.replyTo | Should -Be 'py-1'
        $reply.content | Should -Be 'réponse'
    }

    It 'takes plain lines from bash with -Raw, and sends lines bash can cat' {
        New-GryphPipe -Name rawin | Out-Null
        $path = Join-Path $env:GRYPHGEN_PIPE_DIR 'rawin'
        $bash = Start-Bash "printf 'first line\nsecond line\n' > '$path'"
        (Receive-GryphMessage -Name rawin -Raw -Count 2 -TimeoutSeconds 30).Content | Should -Be @('first line', 'second line')
        $bash.WaitForExit(10000) | Should -BeTrue
        $out = Join-Path $TestDrive 'cat.out'
        $cat = Start-Bash "head -n 1 '$path' > '$out'"
        Send-GryphMessage -To rawin -Raw -Content 'to bash' -TimeoutSeconds 30
        $cat.WaitForExit(10000) | Should -BeTrue
        Get-Content $out | Should -Be 'to bash'
    }

    It 'sends a pipeline of items to a cat reader as exactly those lines, each converted as PowerShell binds it' {
        New-GryphPipe -Name rawlines | Out-Null
        $path = Join-Path $env:GRYPHGEN_PIPE_DIR 'rawlines'
        $out = Join-Path $TestDrive 'lines.out'
        $cat = Start-Bash "cat '$path' > '$out'"
        $items = @(1..500) + @('text', 2.5, [pscustomobject]@{ Content = 'by name' }, [pscustomobject]@{ Content = 7 },
            ('a string' | Add-Member -NotePropertyName Content -NotePropertyValue 'not this' -PassThru), '', $true,
            (5 | Add-Member -NotePropertyName Content -NotePropertyValue 'nor this' -PassThru), [long]-6, [byte]7, [char]'c', 0.25, 1.50d)
        $items | Send-GryphMessage -To rawlines -Raw -TimeoutSeconds 30
        $cat.WaitForExit(10000) | Should -BeTrue
        $expected = @(1..500 | ForEach-Object { "$_" }) + @('text', '2.5', 'by name', '7', 'a string', '', 'True', '5', '-6', '7', 'c', '0.25', '1.50')
        [IO.File]::ReadAllText($out) | Should -BeExactly (($expected -join "`n") + "`n")
    }

    It 'reports malformed and truncated frames with stable ids and loses no other message' {
        New-GryphPipe -Name noisy | Out-Null
        $path = Join-Path $env:GRYPHGEN_PIPE_DIR 'noisy'
        $writer = Join-Path $TestDrive 'noise.py'
        @'
import fcntl, json, os, sys
def frame(i, content):
    header = json.dumps({"id": "n%d" % i, "from": "noise"}).encode(); body = content.encode()
    return b"GRY1 %010d %015d\n" % (len(header), len(body)) + header + body + b"END\n"
fd = os.open(sys.argv[1], os.O_WRONLY)
os.write(fd, frame(1, "before"))
os.write(fd, b"garbage that is not a frame\n")
os.write(fd, frame(2, "middle"))
os.write(fd, frame(3, "this one is cut short")[:45])
os.close(fd)
fd = os.open(sys.argv[1], os.O_WRONLY)
os.write(fd, frame(4, "after"))
os.close(fd)
'@ | Set-Content $writer
        $python = Start-Process python3 -ArgumentList $writer, $path -PassThru
        $got = Receive-GryphMessage -Name noisy -Continuous -TimeoutSeconds 3 -ErrorVariable err -ErrorAction SilentlyContinue
        $python.WaitForExit(10000) | Should -BeTrue
        $got.Content | Should -Be @('before', 'middle', 'after')
        $ids = $err.FullyQualifiedErrorId | ForEach-Object { $_.Split(',')[0] }
        $ids[0] | Should -Be 'GryphFrameMalformed'
        # Whether the cut frame is seen as cut (its writer left first) or as spliced with the next writer's
        # frame depends on timing; either way it is reported and the next frame survives.
        $ids[1] | Should -BeIn @('GryphFrameTruncated', 'GryphFrameMalformed')
        $ids.Count | Should -Be 2
    }

    It 'reports a frame cut short by a sender that left as GryphFrameTruncated' {
        New-GryphPipe -Name cut | Out-Null
        $path = Join-Path $env:GRYPHGEN_PIPE_DIR 'cut'
        $writer = Join-Path $TestDrive 'cut.py'
        @'
import json, os, sys
header = json.dumps({"id": "c1", "from": "cut"}).encode(); body = b"whole"
frame = b"GRY1 %010d %015d\n" % (len(header), len(body)) + header + body + b"END\n"
fd = os.open(sys.argv[1], os.O_WRONLY)
os.write(fd, frame + frame[:40])
os.close(fd)
'@ | Set-Content $writer
        $python = Start-Process python3 -ArgumentList $writer, $path -PassThru
        $got = Receive-GryphMessage -Name cut -Continuous -TimeoutSeconds 2 -ErrorVariable err -ErrorAction SilentlyContinue
        $python.WaitForExit(10000) | Should -BeTrue
        $got.Content | Should -Be 'whole'
        $err.FullyQualifiedErrorId | Should -BeLike 'GryphFrameTruncated,*'
    }
}

Describe 'What a stopped receiver leaves in the pipe' -Skip:(-not (Get-Command python3 -ErrorAction SilentlyContinue)) {
    BeforeAll {
        # Writes byte sequences to a FIFO, one write(2) each: 'frame:ID' (a frame with content ID), 'text:T' (bytes
        # as they are, \n for a newline), 'lie:ID:N' (a frame whose length field claims N body bytes), 'head:ID:N' and
        # 'tail:ID:N' (a frame's first N bytes, and the rest), 'wait' (until a line comes on stdin).
        $script:FrameWriter = Join-Path $TestDrive 'frames.py'
        @'
import json, os, sys
def frame(i, claimed=None):
    header = json.dumps({"id": i, "from": "writer"}).encode(); body = i.encode()
    return b"GRY1 %010d %015d\n" % (len(header), len(body) if claimed is None else claimed) + header + body + b"END\n"
fd = os.open(sys.argv[1], os.O_WRONLY)
for step in sys.argv[2:]:
    kind, _, rest = step.partition(":")
    if kind == "frame": os.write(fd, frame(rest))
    elif kind == "text": os.write(fd, rest.replace("\\n", "\n").encode())
    elif kind == "lie": i, n = rest.split(":"); os.write(fd, frame(i, int(n)))
    elif kind == "head": i, n = rest.split(":"); os.write(fd, frame(i)[:int(n)])
    elif kind == "tail": i, n = rest.split(":"); os.write(fd, frame(i)[int(n):])
    elif kind == "wait": sys.stdin.readline()
os.close(fd)
'@ | Set-Content $FrameWriter

        function Start-FrameWriter([string] $Path, [string[]] $Steps) {
            $psi = [System.Diagnostics.ProcessStartInfo]::new('python3')
            foreach ($a in @($FrameWriter, $Path) + $Steps) { $psi.ArgumentList.Add($a) }
            $psi.RedirectStandardInput = $true
            $psi.UseShellExecute = $false
            [System.Diagnostics.Process]::Start($psi)
        }

        function New-HeldPipe([string] $Name) {
            # The kernel keeps a FIFO's bytes only while someone holds it open: a holder plays the live peer.
            $path = (New-GryphPipe -Name $Name).Path
            $holder = Start-Bash "exec 3<>'$path'; sleep 120"
            Wait-Reader $path
            [pscustomobject]@{ Path = $path; Holder = $holder }
        }

        function Receive-Ids([string] $Name, [int] $Count, [double] $TimeoutSeconds = 10, [long] $MaxMessageBytes = 64MB) {
            # The ids received and the error ids, as one receiver with -Count sees them.
            $messages = @(Receive-GryphMessage -Name $Name -Count $Count -TimeoutSeconds $TimeoutSeconds -MaxMessageBytes $MaxMessageBytes `
                    -ErrorVariable errors -ErrorAction SilentlyContinue)
            [pscustomobject]@{ Ids = @($messages.Id); Errors = @($errors | ForEach-Object { $_.FullyQualifiedErrorId.Split(',')[0] }); Records = $errors }
        }
    }

    AfterEach { if ($pipe) { $pipe.Holder.Kill(); $pipe.Holder.WaitForExit(); $pipe = $null } }

    It 'skips garbage exactly: -Count 3 then -Count 7 get all 10 frames that followed it' {
        $pipe = New-HeldPipe garbled
        $writer = Start-FrameWriter $pipe.Path (@('text:garbage that is not a frame, long enough to span a prefix\n') + (1..10 | ForEach-Object { "frame:m$_" }))
        $writer.WaitForExit(10000) | Should -BeTrue
        $first = Receive-Ids garbled 3
        $first.Ids | Should -Be @('m1', 'm2', 'm3')
        $first.Errors | Should -Be @('GryphFrameMalformed')
        $second = Receive-Ids garbled 7
        $second.Ids | Should -Be (4..10 | ForEach-Object { "m$_" })
        $second.Errors | Should -BeNullOrEmpty
    }

    It 'drops only a frame whose length overstates it: the 5 after it arrive one receiver at a time' {
        $pipe = New-HeldPipe liar
        $writer = Start-FrameWriter $pipe.Path (@('lie:liar:90') + (1..5 | ForEach-Object { "frame:m$_" }))
        $writer.WaitForExit(10000) | Should -BeTrue
        $first = Receive-Ids liar 1
        $first.Ids | Should -Be 'm1'
        $first.Errors | Should -Be @('GryphFrameMalformed')
        foreach ($i in 2..5) { (Receive-Ids liar 1).Ids | Should -Be "m$i" }
    }

    It 'resynchronises after a prefix claiming 999999999999999 bytes while a writer holds the pipe' {
        $pipe = New-HeldPipe huge
        $writer = Start-FrameWriter $pipe.Path @('text:GRY1 0000000002 999999999999999\n', 'frame:m1', 'frame:m2', 'frame:m3')
        $writer.WaitForExit(10000) | Should -BeTrue
        $first = Receive-Ids huge 1
        $first.Ids | Should -Be 'm1'
        $first.Errors | Should -Be @('GryphMessageTooLarge')
        (Receive-Ids huge 2).Ids | Should -Be @('m2', 'm3')
    }

    It 'skips a 3 GB prefix under -MaxMessageBytes 100GB as too large for a receiver, and goes on' {
        $pipe = New-HeldPipe vast
        $writer = Start-FrameWriter $pipe.Path @('text:GRY1 0000000002 000003000000000\n', 'frame:m1')
        $writer.WaitForExit(10000) | Should -BeTrue
        $got = Receive-Ids vast 1 -MaxMessageBytes 100GB
        $got.Ids | Should -Be 'm1'
        $got.Errors | Should -Be @('GryphMessageTooLarge')
        $got.Records[0].Exception.Message | Should -Match 'largest message a receiver can hold'
    }

    It 'loses only the frame a timeout cut: the next receivers skip its rest and get each later frame' {
        $pipe = New-HeldPipe slow
        $cut = 'm2-whose-rest-is-longer-than-a-frame-prefix'
        $writer = Start-FrameWriter $pipe.Path @('frame:m1', "head:${cut}:45", 'wait', "tail:${cut}:45", 'frame:m3', 'frame:m4', 'frame:m5')
        $first = Receive-Ids slow 2 -TimeoutSeconds 2
        $first.Ids | Should -Be 'm1'
        $first.Errors | Should -Be @('GryphFrameTruncated', 'GryphReceiveTimeout')
        $writer.StandardInput.WriteLine('go'); $writer.StandardInput.Close()
        $writer.WaitForExit(10000) | Should -BeTrue
        $next = Receive-Ids slow 1
        $next.Ids | Should -Be 'm3'
        $next.Errors | Should -Be @('GryphFrameMalformed')
        (Receive-Ids slow 1).Ids | Should -Be 'm4'
        (Receive-Ids slow 1).Ids | Should -Be 'm5'
    }

    It 'in -Raw, splits a line still being written when the time runs out, says so, and leaves the lines after it' {
        $pipe = New-HeldPipe rawslow
        $writer = Start-FrameWriter $pipe.Path @('text:first\nunfin', 'wait', 'text:ished\nnext\n')
        $got = Receive-GryphMessage -Name rawslow -Raw -Count 2 -TimeoutSeconds 2 -ErrorVariable err -ErrorAction SilentlyContinue
        $got.Content | Should -Be 'first'
        $err[0].FullyQualifiedErrorId | Should -BeLike 'GryphReceiveTimeout,*'
        $err[0].Exception.Message | Should -Match 'first 5 byte\(s\) of a line whose newline had not come were taken and are lost'
        $writer.StandardInput.WriteLine('go'); $writer.StandardInput.Close()
        $writer.WaitForExit(10000) | Should -BeTrue
        (Receive-GryphMessage -Name rawslow -Raw -Count 2 -TimeoutSeconds 10).Content | Should -Be @('ished', 'next')
    }

    It 'suggests -Raw for plain lines that printf wrote to a framed receiver (<Case>)' -ForEach @(
        @{ Case = 'a short line'; Text = 'hi\n' }
        @{ Case = 'lines longer than a frame prefix'; Text = 'hello from printf, the way setup scripts talk\nand a second line\n' }
    ) {
        $path = (New-GryphPipe -Name "plain$($Text.Length)").Path
        $bash = Start-Bash "printf '$Text' > '$path'"
        Receive-GryphMessage -Path $path -TimeoutSeconds 3 -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $bash.WaitForExit(10000) | Should -BeTrue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'GryphFrameMalformed,*'
        $err[0].Exception.Message | Should -Match 'receive with -Raw'
    }
}

Describe 'Logging' {
    It 'shows every open, send and receive with -Verbose and appends ISO-8601 lines to -LogPath' {
        New-GryphPipe -Name logged | Out-Null
        $log = Join-Path $TestDrive 'gryph.log'
        $peer = Start-FreshPwsh "`$env:GRYPHGEN_PIPE_DIR='$env:GRYPHGEN_PIPE_DIR'; Send-GryphMessage -To logged -Content hi -LogPath '$log'"
        $verbose = Receive-GryphMessage -Name logged -TimeoutSeconds 30 -Verbose -LogPath $log 4>&1 | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }
        Wait-Process $peer | Out-Null
        ($verbose.Message -join "`n") | Should -Match 'Opening pipe for reading'
        ($verbose.Message -join "`n") | Should -Match 'Received message'
        $lines = Get-Content $log
        $lines | Should -Not -BeNullOrEmpty
        foreach ($line in $lines) { $line | Should -Match '^\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\] \[(INFO|DEBUG|WARN|ERROR)\] ' }
        ($lines -join "`n") | Should -Match 'Sent message'
        ($lines -join "`n") | Should -Match 'Received message'
    }
}

Describe 'Examples' {
    It 'runs examples/basic_communication.ps1' {
        $result = & (Join-Path $RepositoryRoot 'examples/basic_communication.ps1') -ModuleManifest $ModuleManifest
        $result.ReplyAnswers | Should -BeTrue
        $result.Reply | Should -Match 'Hello from bob'
    }

    It 'runs examples/multi_round_chat.ps1 with state kept across rounds' {
        $rounds = & (Join-Path $RepositoryRoot 'examples/multi_round_chat.ps1') -ModuleManifest $ModuleManifest -Rounds 4
        $rounds.Count | Should -Be 4
        $rounds.ReplyAnswers | Should -Not -Contain $false
        $rounds.HistorySize | Should -Be @(1, 2, 3, 4)
        $rounds[3].Reply | Should -Match 'message 1 \| message 2 \| message 3 \| message 4'
    }
}
