# Get-GpuStatus as a user meets it. Without a GPU (this workplace): one GpuNotFound error, fast, nothing else.
# With a GPU (-Tag GPU, run on a lent device by tests/gpu/run-device-checks.sh): NVML agrees with nvidia-smi,
# continuous samples are on time, and a process holding GPU memory shows up.
BeforeDiscovery {
    # A working NVIDIA driver: nvidia-smi runs and lists a GPU. Where none does, the GPU tests skip.
    $script:HasNvidiaGpu = [bool](Get-Command nvidia-smi -ErrorAction Ignore) -and
        [bool]((& nvidia-smi -L 2>$null) -match '^GPU \d+:')
    $script:HasAnyGpuDriver = $HasNvidiaGpu -or (Test-Path /dev/kfd) -or [bool](Get-Command nvidia-smi -ErrorAction Ignore)
}

BeforeAll {
    . $PSScriptRoot/common.ps1
}

Describe 'Get-GpuStatus on a machine without a GPU' -Skip:$HasAnyGpuDriver {
    It 'writes exactly one GpuNotFound error, no output, within a second' {
        $elapsed = Measure-Command {
            $script:Output = Get-GpuStatus -ErrorVariable script:Errors -ErrorAction SilentlyContinue
        }
        $Output | Should -BeNullOrEmpty
        $Errors.Count | Should -Be 1
        $Errors[0].FullyQualifiedErrorId | Should -BeLike 'GpuNotFound*'
        $Errors[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $elapsed.TotalSeconds | Should -BeLessThan 1
    }

    It 'says what it tried: the NVML library paths, nvidia-smi, amd-smi and rocm-smi' {
        Get-GpuStatus -ErrorVariable errors -ErrorAction SilentlyContinue
        $message = $errors[0].ToString()
        $message | Should -Match 'libnvidia-ml\.so\.1'
        $message | Should -Match 'nvidia-smi'
        $message | Should -Match 'amd-smi'
        $message | Should -Match 'rocm-smi'
    }

    It 'prints nothing else to any stream' {
        $all = & { Get-GpuStatus -ErrorAction SilentlyContinue } *>&1
        @($all | Where-Object { $_ -isnot [System.Management.Automation.ErrorRecord] }).Count | Should -Be 0
    }

    It 'fails the same way when a backend is forced' {
        Get-GpuStatus -Source AmdSmi -ErrorVariable errors -ErrorAction SilentlyContinue
        $errors.Count | Should -Be 1
        $errors[0].ToString() | Should -Match 'amd-smi'
        $errors[0].ToString() | Should -Not -Match 'nvidia-smi'
    }
}

Describe 'Get-GpuStatus with stand-in GPU tools' -Skip:$IsWindows {
    BeforeAll {
        $script:ToolFolder = Join-Path ([IO.Path]::GetTempPath()) ("gryph-tools-" + [guid]::NewGuid().ToString('N'))
        New-Item -ItemType Directory -Path $ToolFolder | Out-Null
        $script:SavedPath = $env:PATH
        $env:PATH = "$ToolFolder$([IO.Path]::PathSeparator)$env:PATH"
        function New-StandInTool {
            # A shell script on PATH under the tool's name; $Body sees the tool's arguments as "$@".
            param([string] $Name, [string] $Body)
            $path = Join-Path $ToolFolder $Name
            Set-Content -Path $path -Value "#!/bin/sh`n$Body`n" -NoNewline
            chmod 755 $path
        }
        $script:A100Row = '0, NVIDIA A100-SXM4-40GB, GPU-27b94a00-ed54-5c24-b1fd-1054085de32a, 40960, 38, 40315, 605, [N/A], [N/A], 36, 66.92, 400.00, [N/A], 1410, 1215, P0, 510.47.03'
    }

    AfterAll {
        $env:PATH = $SavedPath
        Remove-Item -Recurse -Force $ToolFolder -ErrorAction SilentlyContinue
    }

    It 'keeps the GPUs the CSV queries found, with a warning, when nvidia-smi -q -x fails' {
        New-StandInTool nvidia-smi @"
case "`$1" in
  --query-gpu=*) echo '$A100Row' ;;
  -q) echo 'Unable to determine the device handle for GPU 0000:00:09.0: Unknown Error' >&2; exit 15 ;;
esac
"@
        $gpu = Get-GpuStatus -Source NvidiaSmi -WarningVariable warned -WarningAction SilentlyContinue
        $gpu.Name | Should -Be 'NVIDIA A100-SXM4-40GB'
        $gpu.MemoryTotal | Should -Be 40GB
        $gpu.CudaVersion | Should -BeNullOrEmpty
        $warned | Should -HaveCount 1
        "$warned" | Should -BeLike 'nvidia-smi -q -x failed, so CudaVersion is null and MigDevices empty: nvidia-smi exited with code 15: Unable to determine*'
    }

    It 'reports output that is not the CSV asked for as an error naming nvidia-smi and the query, not as empty GPUs' {
        New-StandInTool nvidia-smi @"
echo '<?xml version="1.0" ?>'
echo '<nvidia_smi_log>'
for i in `$(seq 1 500); do echo '  <gpu id="00000000:00:09.0"><product_name>NVIDIA H100</product_name></gpu>'; done
echo '</nvidia_smi_log>'
"@
        $gpus = @(Get-GpuStatus -Source NvidiaSmi -ErrorVariable failed -ErrorAction SilentlyContinue)
        $gpus | Should -HaveCount 0
        $failed | Should -HaveCount 1
        $failed[0].FullyQualifiedErrorId | Should -BeLike 'GpuNotFound,*'
        $failed[0].ToString() | Should -BeLike "*nvidia-smi --query-gpu=index,name,*did not answer with the CSV asked for: line 1 has 1 of the 17 fields asked for: '<?xml version=`"1.0`" ?>'*"
    }

    It 'names the indexes there are when -Index asks for one that is not' {
        New-StandInTool nvidia-smi @"
case "`$1" in
  --query-gpu=*) echo '$A100Row'; echo '$($A100Row -replace '^0, ', '1, ' -replace '32a,', '32b,')' ;;
  -q) exit 15 ;;
esac
"@
        Get-GpuStatus -Source NvidiaSmi -Index 0, 7 -ErrorVariable failed -ErrorAction SilentlyContinue -WarningAction SilentlyContinue |
            ForEach-Object Index | Should -Be 0
        $failed | Should -HaveCount 1
        $failed[0].FullyQualifiedErrorId | Should -BeLike 'GpuIndexNotFound,*'
        "$($failed[0])" | Should -Be 'There is no GPU with index 7; the indexes here are 0, 1.'
    }

    It 'answers at once when the tool leaves a background child holding its output' {
        $pidFile = Join-Path $ToolFolder 'child.pid'
        New-StandInTool amd-smi "sleep 1000 &`necho `$! > '$pidFile'`necho '[]'"
        # In a separate pwsh, so a hang is killed rather than stalling the run.
        $peer = Start-FreshPwsh "`$env:PATH = '$env:PATH'; Get-GpuStatus -Source AmdSmi -ErrorAction SilentlyContinue -ErrorVariable e; `$e.Count"
        $clock = [Diagnostics.Stopwatch]::StartNew()
        $exited = $peer.WaitForExit(60000)
        $clock.Stop()
        if (-not $exited) { $peer.Kill($true); $peer.WaitForExit() }
        Stop-Process -Id ([int](Get-Content $pidFile)) -ErrorAction SilentlyContinue
        $exited | Should -BeTrue -Because 'the tool exited; its child holding stdout must not keep Get-GpuStatus waiting'
        $peer.StandardOutput.ReadToEnd().Trim() | Should -Be '1'
        $clock.Elapsed.TotalSeconds | Should -BeLessThan 9 -Because 'the 10 s tool timeout is not what ends the wait'
    }
}

Describe 'Get-GpuStatus on an NVIDIA GPU' -Tag GPU {
    BeforeAll {
        if (-not $HasNvidiaGpu) { return }
        function Get-SmiMemory {
            # nvidia-smi's own figures, in MiB, one row per GPU by index.
            nvidia-smi --query-gpu=index,uuid,memory.total,memory.used --format=csv,noheader,nounits | ForEach-Object {
                $f = $_ -split ',\s*'
                [pscustomobject]@{ Index = [int]$f[0]; Uuid = $f[1]; TotalMiB = [long]$f[2]; UsedMiB = [long]$f[3] }
            }
        }
    }

    It 'reads every GPU through NVML, and agrees with nvidia-smi: total exact, used within 1 % of total' -Skip:(-not $HasNvidiaGpu) {
        $smi = @(Get-SmiMemory)
        $gpus = @(Get-GpuStatus -Source Nvml)
        $after = @(Get-SmiMemory)
        $gpus.Count | Should -Be $smi.Count
        foreach ($gpu in $gpus) {
            $gpu.Source | Should -Be 'Nvml'
            $gpu.IsLost | Should -BeFalse
            $row = $smi | Where-Object Index -EQ $gpu.Index
            $gpu.Uuid | Should -Be $row.Uuid
            [math]::Floor($gpu.MemoryTotal / 1MB) | Should -Be $row.TotalMiB
            # Used memory moves between the two reads; compare against both nvidia-smi reads around ours.
            $usedMiB = $gpu.MemoryUsed / 1MB
            $low = [math]::Min($row.UsedMiB, ($after | Where-Object Index -EQ $gpu.Index).UsedMiB)
            $high = [math]::Max($row.UsedMiB, ($after | Where-Object Index -EQ $gpu.Index).UsedMiB)
            $tolerance = 0.01 * $row.TotalMiB
            $usedMiB | Should -BeGreaterOrEqual ($low - $tolerance)
            $usedMiB | Should -BeLessOrEqual ($high + $tolerance)
            $gpu.Name | Should -Not -BeNullOrEmpty
            $gpu.DriverVersion | Should -Not -BeNullOrEmpty
            $gpu.CudaVersion | Should -Match '^\d+\.\d+$'
            $gpu.TemperatureC | Should -BeGreaterThan 0
            $gpu.PerformanceState | Should -Match '^P\d+$'
            Write-Host ("GPU {0} {1}: NVML total {2} MiB used {3:0} MiB; nvidia-smi total {4} MiB used {5} MiB" -f
                $gpu.Index, $gpu.Name, [math]::Floor($gpu.MemoryTotal / 1MB), $usedMiB, $row.TotalMiB, $row.UsedMiB)
        }
    }

    It 'reads the same GPUs through the nvidia-smi backend' -Skip:(-not $HasNvidiaGpu) {
        $nvml = @(Get-GpuStatus -Source Nvml)
        $smi = @(Get-GpuStatus -Source NvidiaSmi)
        $smi.Count | Should -Be $nvml.Count
        for ($i = 0; $i -lt $nvml.Count; $i++) {
            $smi[$i].Source | Should -Be 'NvidiaSmi'
            $smi[$i].Uuid | Should -Be $nvml[$i].Uuid
            $smi[$i].Name | Should -Be $nvml[$i].Name
            [math]::Floor($smi[$i].MemoryTotal / 1MB) | Should -Be ([math]::Floor($nvml[$i].MemoryTotal / 1MB))
            $smi[$i].DriverVersion | Should -Be $nvml[$i].DriverVersion
            $smi[$i].CudaVersion | Should -Be $nvml[$i].CudaVersion
        }
    }

    It 'yields three timely samples with -Continuous -Count 3 -IntervalSeconds 1' -Skip:(-not $HasNvidiaGpu) {
        $watch = [System.Diagnostics.Stopwatch]::StartNew()
        $samples = @(Get-GpuStatus -Index 0 -Continuous -Count 3 -IntervalSeconds 1)
        $watch.Stop()
        $samples.Count | Should -Be 3
        for ($k = 1; $k -lt 3; $k++) {
            $offset = ($samples[$k].Timestamp - $samples[0].Timestamp).TotalSeconds
            $offset | Should -BeGreaterOrEqual ($k - 0.05)
            $offset | Should -BeLessOrEqual ($k + 0.25)
        }
        $watch.Elapsed.TotalSeconds | Should -BeLessThan 3.5
        Write-Host ("Sample offsets: {0}" -f (($samples | ForEach-Object { '{0:0.000}' -f ($_.Timestamp - $samples[0].Timestamp).TotalSeconds }) -join ', '))
    }

    It 'lists a process that holds GPU memory in Processes' -Skip:(-not $HasNvidiaGpu) {
        $holder = & (Join-Path $PSScriptRoot 'gpu/Start-GpuMemoryHolder.ps1') -MiB 256 -Seconds 60
        try {
            $holder | Should -Not -BeNullOrEmpty -Because 'the helper needs cc or python3 and libcuda.so.1'
            $found = $null
            foreach ($source in 'Nvml', 'NvidiaSmi') {
                $gpu = Get-GpuStatus -Source $source -Index 0
                $byPid = $gpu.Processes | Where-Object Pid -EQ $holder.Process.Id
                # In a container NVML may report host pids; then the holder is the new process of ~256 MiB.
                $byMemory = $gpu.Processes | Where-Object { $_.Pid -notin $holder.PidsBefore -and $_.UsedMemory -ge 250MB }
                $found = $byPid ?? $byMemory
                Write-Host ("{0}: holder pid {1}; processes: {2}" -f $source, $holder.Process.Id,
                    (($gpu.Processes | ForEach-Object { "$($_.Pid) $($_.Name) $([math]::Round($_.UsedMemory / 1MB)) MiB" }) -join '; '))
                $found | Should -Not -BeNullOrEmpty -Because "$source must list the process holding 256 MiB"
                if ($byPid) { $byPid.UsedMemory | Should -BeGreaterOrEqual 256MB }
            }
        }
        finally {
            if ($holder) { $holder.Process | Stop-Process -Force -ErrorAction Ignore }
        }
    }
}
