using System.Diagnostics;
using System.Globalization;
using Gryphgen.Core.Gpu;

// The checks of tests/GetGpuStatus.Tests.ps1 -Tag GPU, through Gryphgen.Core directly, for a GPU machine
// without PowerShell. Usage: Gryphgen.GpuDeviceCheck <folder with hold-gpu-memory.c / hold_gpu_memory.py>
var helpers = args.Length > 0 ? args[0] : Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "tests", "gpu");
var passed = 0;
var failed = 0;

void Check(string name, bool ok, string detail)
{
    Console.WriteLine($"[{(ok ? "PASS" : "FAIL")}] {name}: {detail}");
    if (ok)
    {
        passed++;
    }
    else
    {
        failed++;
    }
}

string Run(string file, params string[] arguments)
{
    var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
    foreach (var a in arguments)
    {
        start.ArgumentList.Add(a);
    }

    using var process = Process.Start(start)!;
    var output = process.StandardOutput.ReadToEnd();
    process.WaitForExit();
    return output;
}

List<(int Index, string Uuid, long TotalMiB, long UsedMiB)> SmiMemory() =>
    Run("nvidia-smi", "--query-gpu=index,uuid,memory.total,memory.used", "--format=csv,noheader,nounits")
        .Split('\n', StringSplitOptions.RemoveEmptyEntries)
        .Select(line => line.Split(',', StringSplitOptions.TrimEntries))
        .Select(f => (int.Parse(f[0], CultureInfo.InvariantCulture), f[1], long.Parse(f[2], CultureInfo.InvariantCulture), long.Parse(f[3], CultureInfo.InvariantCulture)))
        .ToList();

static string Describe(GpuStatus g) => string.Create(CultureInfo.InvariantCulture,
    $"GPU {g.Index} {g.Name} {g.Uuid} src={g.Source} mem={g.MemoryUsed / 1048576.0:0}/{g.MemoryTotal / 1048576.0:0} MiB " +
    $"reserved={g.MemoryReserved / 1048576.0:0} MiB free={g.MemoryFree / 1048576.0:0} MiB util={g.UtilizationGpu}%/{g.UtilizationMemory}% " +
    $"temp={g.TemperatureC}C power={g.PowerDrawW}/{g.PowerLimitW} W fan={g.FanPercent}% sm={g.ClockSmMHz} mem={g.ClockMemoryMHz} MHz " +
    $"{g.PerformanceState} driver={g.DriverVersion} cuda={g.CudaVersion} procs={g.Processes.Count} mig={g.MigDevices.Count} lost={g.IsLost}");

try
{
    // 1. NVML agrees with nvidia-smi: total exact, used within 1 % of total.
    var before = SmiMemory();
    var nvml = GpuStatusReader.Query(GpuSource.Nvml);
    var after = SmiMemory();
    foreach (var g in nvml)
    {
        Console.WriteLine(Describe(g));
    }

    Check("NVML lists every GPU", nvml.Count == before.Count, $"NVML {nvml.Count}, nvidia-smi {before.Count}");
    foreach (var g in nvml)
    {
        var b = before.Single(r => r.Index == g.Index);
        var a = after.Single(r => r.Index == g.Index);
        var totalMiB = g.MemoryTotal!.Value / 1048576;
        Check($"GPU {g.Index} total", totalMiB == b.TotalMiB, $"NVML {totalMiB} MiB, nvidia-smi {b.TotalMiB} MiB");
        var usedMiB = g.MemoryUsed!.Value / 1048576.0;
        var tolerance = 0.01 * b.TotalMiB;
        Check($"GPU {g.Index} used within 1 %", usedMiB >= Math.Min(a.UsedMiB, b.UsedMiB) - tolerance && usedMiB <= Math.Max(a.UsedMiB, b.UsedMiB) + tolerance,
            string.Create(CultureInfo.InvariantCulture, $"NVML {usedMiB:0} MiB, nvidia-smi {b.UsedMiB}..{a.UsedMiB} MiB, tolerance {tolerance:0} MiB"));
        Check($"GPU {g.Index} uuid", g.Uuid == b.Uuid, $"{g.Uuid} / {b.Uuid}");
    }

    // 2. The nvidia-smi backend reads the same GPUs.
    var smi = GpuStatusReader.Query(GpuSource.NvidiaSmi);
    foreach (var g in smi)
    {
        Console.WriteLine(Describe(g));
    }

    Check("nvidia-smi backend agrees", smi.Count == nvml.Count && smi.Zip(nvml).All(p =>
        p.First.Uuid == p.Second.Uuid && p.First.Name == p.Second.Name && p.First.DriverVersion == p.Second.DriverVersion
        && p.First.CudaVersion == p.Second.CudaVersion && p.First.MemoryTotal / 1048576 == p.Second.MemoryTotal / 1048576),
        "uuid, name, driver, CUDA and total memory");

    // 3. Three timely samples one second apart, paced as Get-GpuStatus -Continuous paces them.
    using (var reader = GpuStatusReader.Open(GpuSource.Nvml))
    {
        var clock = new GpuSampleClock(TimeSpan.FromSeconds(1));
        var stamps = new List<DateTime>();
        for (var n = 0; n < 3; n++)
        {
            if (n > 0)
            {
                clock.WaitForNext(CancellationToken.None);
            }

            stamps.Add(reader.Query()[0].Timestamp);
        }

        var offsets = stamps.Select(s => (s - stamps[0]).TotalSeconds).ToList();
        Check("3 samples at 1 s", offsets[1] is >= 0.95 and <= 1.25 && offsets[2] is >= 1.95 and <= 2.25,
            string.Join(", ", offsets.Select(o => o.ToString("0.000", CultureInfo.InvariantCulture))));
    }

    // 4. A process holding GPU memory appears in Processes.
    var pidsBefore = GpuStatusReader.Query(GpuSource.Nvml)[0].Processes.Select(p => p.Pid).ToHashSet();
    using var holder = StartHolder(helpers);
    if (holder is null)
    {
        Check("memory holder starts", false, "neither cc nor python3 could start hold-gpu-memory");
    }
    else
    {
        Thread.Sleep(500);
        foreach (var source in new[] { GpuSource.Nvml, GpuSource.NvidiaSmi })
        {
            var processes = GpuStatusReader.Query(source)[0].Processes;
            var byPid = processes.FirstOrDefault(p => p.Pid == holder.Id);
            var byMemory = processes.FirstOrDefault(p => !pidsBefore.Contains(p.Pid) && p.UsedMemory >= 250L << 20);
            Check($"{source} lists the process holding 256 MiB", byPid is not null || byMemory is not null,
                $"holder pid {holder.Id}; " + string.Join("; ", processes.Select(p => $"{p.Pid} {p.Name} {p.UsedMemory / 1048576} MiB")));
        }

        holder.Kill();
    }
}
catch (Exception ex) when (ex is GpuNotFoundException or GpuToolException or InvalidOperationException or FormatException or System.ComponentModel.Win32Exception)
{
    Check("GPU readable", false, ex.Message);
}

Console.WriteLine($"{passed} passed, {failed} failed");
return failed == 0 && passed > 0 ? 0 : 1;

static Process? StartHolder(string helpers)
{
    var binary = Path.Combine(Path.GetTempPath(), "gryphgen-hold-gpu-memory");
    ProcessStartInfo? start = null;
    foreach (var cc in new[] { "cc", "gcc", "clang" })
    {
        try
        {
            using var compile = Process.Start(new ProcessStartInfo(cc) { ArgumentList = { "-O1", "-o", binary, Path.Combine(helpers, "hold-gpu-memory.c"), "-ldl" }, UseShellExecute = false });
            compile!.WaitForExit();
            if (compile.ExitCode == 0)
            {
                start = new ProcessStartInfo(binary);
                break;
            }
        }
        catch (System.ComponentModel.Win32Exception)
        {
            // Not installed; try the next.
        }
    }

    start ??= new ProcessStartInfo("python3") { ArgumentList = { Path.Combine(helpers, "hold_gpu_memory.py") } };
    start.ArgumentList.Add("256");
    start.ArgumentList.Add("60");
    start.RedirectStandardOutput = true;
    start.UseShellExecute = false;
    try
    {
        var process = Process.Start(start)!;
        var line = process.StandardOutput.ReadLineAsync();
        if (line.Wait(TimeSpan.FromSeconds(30)) && line.Result?.StartsWith("ready", StringComparison.Ordinal) == true)
        {
            return process;
        }

        process.Kill();
        process.Dispose();
    }
    catch (System.ComponentModel.Win32Exception)
    {
        // python3 missing too.
    }

    return null;
}
