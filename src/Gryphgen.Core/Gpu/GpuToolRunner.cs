using System.Diagnostics;
using System.Globalization;

namespace Gryphgen.Core.Gpu;

/// <summary>
/// Runs a GPU tool directly (no shell: arguments go through <see cref="ProcessStartInfo.ArgumentList"/>),
/// with a timeout, killing it if it hangs (nvidia-smi can, on a GPU that fell off the bus). What is read from
/// the tool is bounded: at most <see cref="MaxOutputBytes"/> of each stream, and once the tool has exited a
/// background child still holding its output cannot keep the call waiting.
/// </summary>
internal sealed class GpuToolRunner : IGpuToolRunner
{
    /// <summary>The most read from a tool's stdout or stderr: nvidia-smi -q -x on eight GPUs with MIG is under 1 MiB.</summary>
    public const int MaxOutputBytes = 4 * 1024 * 1024;

    /// <summary>How long output may keep coming after the tool exited: its own writes are in the pipe by then.</summary>
    private static readonly TimeSpan DrainAfterExit = TimeSpan.FromSeconds(1);

    public static GpuToolRunner Instance { get; } = new();

    public string? Find(string name)
    {
        var path = Environment.GetEnvironmentVariable("PATH");
        if (string.IsNullOrEmpty(path))
        {
            return null;
        }

        var names = OperatingSystem.IsWindows() ? new[] { name + ".exe", name } : new[] { name };
        foreach (var directory in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            foreach (var candidate in names)
            {
                var full = Path.Combine(directory.Trim('"'), candidate);
                if (File.Exists(full))
                {
                    return full;
                }
            }
        }

        return null;
    }

    public string Run(string path, IReadOnlyList<string> arguments, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(path)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = false,
            UseShellExecute = false,
            CreateNoWindow = true,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        var name = Path.GetFileName(path);
        var process = new Process { StartInfo = start };
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            process.Dispose();
            throw new GpuToolException($"{name} could not be started: {ex.Message}", ex);
        }

        try
        {
            return Collect(process, name, timeout, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Ctrl+C returns at once: finding the tool's children to kill them reads every process's status, which
            // can take longer than a user should wait, so that happens after the call has returned.
            _ = Task.Run(() =>
            {
                Kill(process);
                process.Dispose();
            }, CancellationToken.None);
            throw;
        }
        catch
        {
            Kill(process);
            process.Dispose();
            throw;
        }
    }

    private static string Collect(Process process, string name, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        using var stopReading = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token);
        var stdout = new ToolOutput(process.StandardOutput.BaseStream, MaxOutputBytes);
        var stderr = new ToolOutput(process.StandardError.BaseStream, MaxOutputBytes);
        var readingOut = stdout.ReadAsync(stopReading.Token);
        var readingErr = stderr.ReadAsync(stopReading.Token);
        var reading = Task.WhenAll(readingOut, readingErr);
        try
        {
            var exited = process.WaitForExitAsync(deadline.Token);
            var pending = new List<Task> { exited, readingOut, readingErr };
            while (true)
            {
                var done = Task.WhenAny(pending).GetAwaiter().GetResult();
                cancellationToken.ThrowIfCancellationRequested();
                if (deadline.IsCancellationRequested)
                {
                    throw new GpuToolException(string.Create(CultureInfo.InvariantCulture, $"{name} did not answer within {timeout.TotalSeconds:0.#} s."));
                }

                if (stdout.Overflowed || stderr.Overflowed)
                {
                    // A tool printing without end would otherwise block on its full pipe until the timeout.
                    throw TooMuchOutput(name, stdout.Overflowed);
                }

                if (done == exited)
                {
                    break;
                }

                pending.Remove(done);
            }

            if (!reading.IsCompleted)
            {
                // The tool is gone but something (a child it left running) may still hold its output open.
                Task.WhenAny(reading, Task.Delay(DrainAfterExit, deadline.Token)).GetAwaiter().GetResult();
                cancellationToken.ThrowIfCancellationRequested();
            }
        }
        finally
        {
            stopReading.Cancel();
            if (!cancellationToken.IsCancellationRequested)
            {
                WaitQuietly(reading);
            }
        }

        if (stdout.Overflowed || stderr.Overflowed)
        {
            throw TooMuchOutput(name, stdout.Overflowed);
        }

        var output = stdout.Text;
        if (process.ExitCode != 0)
        {
            var message = ToolOutput.FirstLine(stderr.Text) ?? ToolOutput.FirstLine(output) ?? "no message";
            throw new GpuToolException(string.Create(CultureInfo.InvariantCulture, $"{name} exited with code {process.ExitCode}: {message}"));
        }

        process.Dispose();
        return output;
    }

    private static GpuToolException TooMuchOutput(string name, bool onStdout)
        => new($"{name} wrote more than {MaxOutputBytes / (1024 * 1024)} MiB to {(onStdout ? "standard output" : "standard error")}, more than any GPU query answers; it was stopped.");

    /// <summary>Lets the readers see their cancellation; a read that ignores it is abandoned, not waited for.</summary>
    private static void WaitQuietly(Task reading)
    {
        try
        {
            reading.Wait(TimeSpan.FromMilliseconds(50));
        }
        catch (AggregateException)
        {
            // Cancelled reads: what they had read is kept.
        }
    }

    private static void Kill(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // It exited meanwhile.
        }
    }
}
