using System.Diagnostics;
using System.Management.Automation;

namespace Gryphgen.PowerShell.Tests;

/// <summary>The pipe cmdlets in a hosted runspace: Ctrl+C (StopProcessing) and descriptor hygiene.</summary>
[Collection(PipeCmdletGroup.Name)]
public sealed class PipeCmdletTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "gryph-ps-" + Guid.NewGuid().ToString("N")[..8]);
    private readonly PowerShellHost _host = new();

    public PipeCmdletTests()
    {
        _host.Run($"$env:GRYPHGEN_PIPE_DIR = '{_directory}'; New-GryphPipe -Name inbox | Out-Null");
    }

    public void Dispose()
    {
        _host.Dispose();
        Directory.Delete(_directory, recursive: true);
    }



    [Theory]
    [InlineData("Receive-GryphMessage -Name inbox -TimeoutSeconds 0")]
    [InlineData("Receive-GryphMessage -Name inbox -Continuous -TimeoutSeconds 0")]
    [InlineData("'x' | Send-GryphMessage -To inbox -TimeoutSeconds 0")]
    public void Stop_EndsAnIndefiniteWaitWithin100Milliseconds_AndLeaksNoDescriptor(string script)
    {
        RunAndStop(script); // the first run loads what the runtime opens lazily
        var before = OpenDescriptors.Count();
        var elapsed = RunAndStop(script);
        Assert.True(elapsed < TimeSpan.FromMilliseconds(100), $"Stop took {elapsed.TotalMilliseconds:F0} ms");
        Assert.Equal(before, OpenDescriptors.Count());
    }

    private TimeSpan RunAndStop(string script)
    {
        using var shell = _host.Create();
        shell.AddScript(script);
        var running = shell.BeginInvoke();
        // Wait until the cmdlet is inside its wait: its descriptors show the pipe held open.
        var pipe = Path.Combine(_directory, "inbox");
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!HoldsPipe(pipe) && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(10);
        }

        Thread.Sleep(50);
        Assert.DoesNotContain("wait_for_partner", ThreadWaitChannels()); // no thread is blocked inside open(2) of a FIFO
        var clock = Stopwatch.StartNew();
        shell.Stop();
        clock.Stop();
        Assert.True(running.IsCompleted);
        Assert.Throws<PipelineStoppedException>(() => shell.EndInvoke(running));
        return clock.Elapsed;
    }

    /// <summary>
    /// The kernel function each thread sleeps in (wait_for_partner is a FIFO open), leaving out the runtime's
    /// own ".NET ..." threads: its debugger transport waits on a FIFO of its own by design.
    /// </summary>
    private static string[] ThreadWaitChannels() =>
        Directory.GetDirectories("/proc/self/task")
            .Select(task =>
            {
                try
                {
                    return File.ReadAllText(Path.Combine(task, "comm")).StartsWith(".NET ", StringComparison.Ordinal)
                        ? string.Empty
                        : File.ReadAllText(Path.Combine(task, "wchan"));
                }
                catch (IOException)
                {
                    return string.Empty;
                }
            })
            .ToArray();

    private static bool HoldsPipe(string pipe)
    {
        // A receiver holds the pipe itself; a sender waiting for a reader holds an inotify watch on it.
        foreach (var fd in Directory.GetFileSystemEntries("/proc/self/fd"))
        {
            var target = new FileInfo(fd).LinkTarget;
            if (target == pipe || target == "anon_inode:inotify")
            {
                return true;
            }
        }

        return false;
    }
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class PipeCmdletGroup
{
    public const string Name = "Pipe cmdlets (descriptor counting)";
}
