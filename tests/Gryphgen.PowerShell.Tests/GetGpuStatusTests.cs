using System.Diagnostics;
using System.Management.Automation;
using Gryphgen.Core.Gpu;

namespace Gryphgen.PowerShell.Tests;

/// <summary>
/// Get-GpuStatus in a real runspace. A fake nvidia-smi (a shell script printing canned CSV) is put first on
/// PATH and picked with -Source NvidiaSmi, so these run the same on a machine with or without a GPU.
/// All tests sit in this one class because PATH is process-wide and xunit runs a class's tests one at a time.
/// </summary>
public sealed class GetGpuStatusTests : IDisposable
{
    // GPU 0: 23593 of 24576 MiB used (96.0 %) at 90 C, above both default thresholds. GPU 1: idle.
    private const string FakeNvidiaSmi = """
        #!/bin/sh
        case "$1" in
          --query-gpu=*)
            echo '0, NVIDIA Fake 4090, GPU-fake-0, 24576, 23593, 600, 383, 97, 45, 90, 401.25, 450.00, 77, 2520, 10501, P2, 580.95.05'
            echo '1, NVIDIA Fake 4090, GPU-fake-1, 24576, 2, 24191, 383, 0, 0, 31, 21.50, 450.00, 30, 210, 405, P8, 580.95.05' ;;
          --query-compute-apps=*)
            echo 'GPU-fake-0, 4242, /opt/llama.cpp/llama-server, 23000' ;;
          -q)
            echo '<nvidia_smi_log><driver_version>580.95.05</driver_version><cuda_version>13.0</cuda_version></nvidia_smi_log>' ;;
          *) echo "unexpected arguments: $*" >&2; exit 2 ;;
        esac
        """;

    private readonly string _bin = Path.Combine(Path.GetTempPath(), "gryphgen-fake-gpu-" + Guid.NewGuid().ToString("N"));
    private readonly string? _path = Environment.GetEnvironmentVariable("PATH");
    private readonly PowerShellHost _host = new();

    public GetGpuStatusTests()
    {
        Directory.CreateDirectory(_bin);
        if (!OperatingSystem.IsWindows())
        {
            var script = Path.Combine(_bin, "nvidia-smi");
            File.WriteAllText(script, FakeNvidiaSmi.Replace("\r\n", "\n", StringComparison.Ordinal) + "\n");
            File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            Environment.SetEnvironmentVariable("PATH", _bin + Path.PathSeparator + _path);
        }
    }

    public void Dispose()
    {
        Environment.SetEnvironmentVariable("PATH", _path);
        _host.Dispose();
        Directory.Delete(_bin, recursive: true);
    }

    [SkippableFact]
    public void Once_EveryGpuWithProcessesAndCudaVersion()
    {
        Skip.If(OperatingSystem.IsWindows(), "The fake nvidia-smi is a POSIX shell script.");
        var (output, shell) = _host.Run("Get-GpuStatus -Source NvidiaSmi");
        Assert.False(shell.HadErrors);
        var gpus = output.Select(o => (GpuStatus)o.BaseObject).ToList();
        Assert.Equal([0, 1], gpus.Select(g => g.Index));
        Assert.Equal(24576L << 20, gpus[0].MemoryTotal);
        Assert.Equal(96.0, gpus[0].MemoryUsedPercent);
        Assert.Equal("13.0", gpus[0].CudaVersion);
        Assert.Equal(4242, Assert.Single(gpus[0].Processes).Pid);
        Assert.Empty(gpus[1].Processes);
        Assert.All(gpus, g => Assert.Equal(GpuSource.NvidiaSmi, g.Source));
        Assert.All(gpus, g => Assert.Equal(DateTimeKind.Local, g.Timestamp.Kind)); // the one rule for times: local, Kind Local
    }

    [SkippableFact]
    public void Alerts_AboveThresholds_WriteWarningsAndListThemOnTheObject()
    {
        Skip.If(OperatingSystem.IsWindows(), "The fake nvidia-smi is a POSIX shell script.");
        var (output, shell) = _host.Run("Get-GpuStatus -Source NvidiaSmi");
        var gpus = output.Select(o => (GpuStatus)o.BaseObject).ToList();
        Assert.Equal(["Memory 96.0% > 95%", "Temperature 90 C > 85 C"], gpus[0].Alerts);
        Assert.Empty(gpus[1].Alerts);
        Assert.Equal(
            ["GPU 0 (NVIDIA Fake 4090): Memory 96.0% > 95%", "GPU 0 (NVIDIA Fake 4090): Temperature 90 C > 85 C"],
            shell.Streams.Warning.Select(w => w.Message));

        // Raised thresholds: nothing above them, so no warning.
        var (_, quiet) = _host.Run("Get-GpuStatus -Source NvidiaSmi -AlertMemoryPercent 96.5 -AlertTemperature 90");
        Assert.Empty(quiet.Streams.Warning);
    }

    [SkippableFact]
    public void Continuous_Count3_ThreeTimelySamplesStreamedAsTaken()
    {
        Skip.If(OperatingSystem.IsWindows(), "The fake nvidia-smi is a POSIX shell script.");
        using var shell = _host.Create();
        shell.AddScript("Get-GpuStatus -Source NvidiaSmi -Index 0 -Continuous -Count 3 -IntervalSeconds 0.2");
        var output = new PSDataCollection<PSObject>();
        var arrivals = new List<TimeSpan>();
        var watch = Stopwatch.StartNew();
        output.DataAdded += (_, _) => { lock (arrivals) { arrivals.Add(watch.Elapsed); } };
        shell.EndInvoke(shell.BeginInvoke<PSObject, PSObject>(null, output));
        var finished = watch.Elapsed;

        Assert.False(shell.HadErrors);
        var samples = output.Select(o => (GpuStatus)o.BaseObject).ToList();
        Assert.Equal(3, samples.Count);
        Assert.All(samples, s => Assert.Equal(0, s.Index));
        for (var k = 1; k < 3; k++)
        {
            var offset = (samples[k].Timestamp - samples[0].Timestamp).TotalSeconds;
            Assert.InRange(offset, (0.2 * k) - 0.02, (0.2 * k) + 0.12);
        }

        // Streamed: the first object reached the pipeline long before the command ended.
        Assert.True(finished - arrivals[0] > TimeSpan.FromSeconds(0.3), $"first at {arrivals[0]}, finished at {finished}");
    }

    [SkippableFact]
    public void Continuous_Stop_ReturnsPromptlyFromTheWait()
    {
        Skip.If(OperatingSystem.IsWindows(), "The fake nvidia-smi is a POSIX shell script.");
        using var shell = _host.Create();
        shell.AddScript("Get-GpuStatus -Source NvidiaSmi -Continuous -IntervalSeconds 30");
        var output = new PSDataCollection<PSObject>();
        using var first = new ManualResetEventSlim();
        // The fake has two GPUs: the first sample is complete when both rows have arrived.
        output.DataAdded += (_, _) => { if (output.Count >= 2) { first.Set(); } };
        var async = shell.BeginInvoke<PSObject, PSObject>(null, output);
        Assert.True(first.Wait(TimeSpan.FromSeconds(10)), "no first sample");
        var watch = Stopwatch.StartNew();
        shell.Stop();
        watch.Stop();
        Assert.True(async.IsCompleted);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(1), $"Stop took {watch.Elapsed}");
        Assert.Equal(2, output.Count);
    }

    [SkippableFact]
    public async Task Stop_WhileTheToolHangs_ReturnsWithin100Milliseconds()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "A FIFO tells when the stand-in tool has started.");
        var started = Path.Combine(_bin, "started");
        using (var mkfifo = Process.Start("mkfifo", started))
        {
            await mkfifo.WaitForExitAsync();
        }

        var tool = Path.Combine(_bin, "amd-smi");
        File.WriteAllText(tool, "#!/bin/sh\necho $$ > '" + started + "'\nexec sleep 1000\n");
        File.SetUnixFileMode(tool, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        _host.Run("Get-GpuStatus -Source RocmSmi -ErrorAction SilentlyContinue"); // load and JIT the cmdlet first
        using var shell = _host.Create();
        shell.AddScript("Get-GpuStatus -Source AmdSmi");

        var async = shell.BeginInvoke();
        var pid = int.Parse(await File.ReadAllTextAsync(started).WaitAsync(TimeSpan.FromSeconds(20)), System.Globalization.CultureInfo.InvariantCulture);
        using var hung = Process.GetProcessById(pid);
        var watch = Stopwatch.StartNew();
        shell.Stop();
        watch.Stop();

        Assert.True(async.IsCompleted);
        Assert.True(watch.Elapsed < TimeSpan.FromMilliseconds(100), $"Stop took {watch.Elapsed.TotalMilliseconds:0} ms");
        await hung.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10)); // the hung tool is killed, not left behind
    }

    [SkippableFact]
    public void Filters_IndexAndUuid_AndAMissingIndexIsAnError()
    {
        Skip.If(OperatingSystem.IsWindows(), "The fake nvidia-smi is a POSIX shell script.");
        var (byIndex, _) = _host.Run("Get-GpuStatus -Source NvidiaSmi -Index 1");
        Assert.Equal("GPU-fake-1", ((GpuStatus)Assert.Single(byIndex).BaseObject).Uuid);
        var (byUuid, _) = _host.Run("Get-GpuStatus -Source NvidiaSmi -Uuid gpu-fake-0");
        Assert.Equal(0, ((GpuStatus)Assert.Single(byUuid).BaseObject).Index);
        var (missing, shell) = _host.Run("Get-GpuStatus -Source NvidiaSmi -Index 7");
        Assert.Empty(missing);
        Assert.StartsWith("GpuIndexNotFound", Assert.Single(shell.Streams.Error).FullyQualifiedErrorId, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void NoGpuOnThisMachine_OneGpuNotFoundErrorNothingElseWithinOneSecond()
    {
        Skip.If(File.Exists("/dev/nvidiactl") || File.Exists("/dev/kfd"), "This machine has a GPU driver.");
        Environment.SetEnvironmentVariable("PATH", _path);
        _host.Run("Get-GpuStatus -Source AmdSmi -ErrorAction SilentlyContinue"); // load and JIT the cmdlet first

        var watch = Stopwatch.StartNew();
        var (output, shell) = _host.Run("Get-GpuStatus");
        watch.Stop();
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(1), $"took {watch.Elapsed}");
        Assert.Empty(output);
        var error = Assert.Single(shell.Streams.Error);
        Assert.StartsWith("GpuNotFound", error.FullyQualifiedErrorId, StringComparison.Ordinal);
        Assert.Equal(ErrorCategory.ObjectNotFound, error.CategoryInfo.Category);
        Assert.Contains("libnvidia-ml.so.1", error.ToString(), StringComparison.Ordinal);
        Assert.Contains("nvidia-smi", error.ToString(), StringComparison.Ordinal);
        Assert.Contains("amd-smi", error.ToString(), StringComparison.Ordinal);
        Assert.Empty(shell.Streams.Warning);
        Assert.Empty(shell.Streams.Verbose);
        Assert.Empty(shell.Streams.Information);
    }
}
