using System.Diagnostics;
using Gryphgen.Core.Gpu;
using Gryphgen.Core.Tests.Fifo;

namespace Gryphgen.Core.Tests.Gpu;

/// <summary>The real runner against stand-in tools: small shell scripts that hang, flood, fail or leave children behind.</summary>
public sealed class GpuToolRunnerTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private readonly PrivateTempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private string Tool(string name, string script)
    {
        var path = Path.Combine(_dir.Path, name);
        File.WriteAllText(path, "#!/bin/sh\n" + script + "\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }

    [SkippableFact]
    public async Task Run_ToolLeavesABackgroundChildHoldingStdout_AnswersWithoutWaitingForTheChild()
    {
        Skip.If(OperatingSystem.IsWindows(), "shell scripts");
        var pidFile = Path.Combine(_dir.Path, "child.pid");
        var tool = Tool("amd-smi", "sleep 1000 &\necho $! > \"$1\"\necho '[]'");
        try
        {
            var clock = Stopwatch.StartNew();
            var output = await Task.Run(() => GpuToolRunner.Instance.Run(tool, [pidFile], Timeout, default)).WaitAsync(TimeSpan.FromSeconds(30));

            Assert.Equal("[]\n", output);
            Assert.True(clock.Elapsed < Timeout / 2, $"took {clock.Elapsed.TotalSeconds:0.0} s");
        }
        finally
        {
            Process.GetProcessById(int.Parse(File.ReadAllText(pidFile).Trim(), System.Globalization.CultureInfo.InvariantCulture)).Kill();
        }
    }

    [SkippableFact]
    public async Task Run_EndlessOutput_IsStoppedAtTheCapWithAClearError()
    {
        Skip.If(OperatingSystem.IsWindows(), "shell scripts");
        var tool = Tool("nvidia-smi", "exec yes 'GPU 0: endless'");
        var clock = Stopwatch.StartNew();

        var run = Task.Run(() => GpuToolRunner.Instance.Run(tool, [], TimeSpan.FromSeconds(30), default));
        var ex = await Assert.ThrowsAsync<GpuToolException>(() => run.WaitAsync(TimeSpan.FromSeconds(60)));

        Assert.Equal("nvidia-smi wrote more than 4 MiB to standard output, more than any GPU query answers; it was stopped.", ex.Message);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"took {clock.Elapsed.TotalSeconds:0.0} s");
    }

    [SkippableFact]
    public void Run_FailingToolWithAHugeErrorLine_PutsOnlyTheStartOfItInTheMessage()
    {
        Skip.If(OperatingSystem.IsWindows(), "shell scripts");
        var tool = Tool("rocm-smi", "head -c 1000000 /dev/zero | tr '\\0' 'e' >&2\nexit 3");

        var ex = Assert.Throws<GpuToolException>(() => GpuToolRunner.Instance.Run(tool, [], Timeout, default));

        Assert.StartsWith("rocm-smi exited with code 3: eeee", ex.Message, StringComparison.Ordinal);
        Assert.EndsWith("e...", ex.Message, StringComparison.Ordinal);
        Assert.True(ex.Message.Length < 400, $"a {ex.Message.Length}-character message");
    }

    [SkippableFact]
    public async Task Run_CancelledWhileTheToolHangs_StopsWithin100Milliseconds()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "FIFOs");
        var started = Path.Combine(_dir.Path, "started");
        Assert.Equal(0, Gryphgen.Core.Native.LibC.MkFifo(started, Convert.ToUInt32("600", 8)));
        var tool = Tool("nvidia-smi", "echo $$ > \"$1\"\nexec sleep 1000");
        using var cancel = new CancellationTokenSource();

        var run = Task.Run(() => GpuToolRunner.Instance.Run(tool, [started], Timeout, cancel.Token));
        var pid = int.Parse(await File.ReadAllTextAsync(started).WaitAsync(TimeSpan.FromSeconds(20)), System.Globalization.CultureInfo.InvariantCulture);
        using var hung = Process.GetProcessById(pid);
        var clock = Stopwatch.StartNew();
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run.WaitAsync(TimeSpan.FromSeconds(20)));

        Assert.True(clock.Elapsed < TimeSpan.FromMilliseconds(100), $"took {clock.Elapsed.TotalMilliseconds:0} ms");
        await hung.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10)); // killed after the call returned, not left behind
    }
}
