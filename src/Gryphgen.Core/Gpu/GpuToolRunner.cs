using System.Diagnostics;
using System.Globalization;

namespace Gryphgen.Core.Gpu;

/// <summary>
/// Runs a GPU tool directly (no shell: arguments go through <see cref="ProcessStartInfo.ArgumentList"/>),
/// with a timeout, killing it if it hangs (nvidia-smi can, on a GPU that fell off the bus).
/// </summary>
internal sealed class GpuToolRunner : IGpuToolRunner
{
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
        using var process = new Process { StartInfo = start };
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new GpuToolException($"{name} could not be started: {ex.Message}", ex);
        }

        var stdout = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            process.WaitForExitAsync(deadline.Token).GetAwaiter().GetResult();
        }
        catch (OperationCanceledException)
        {
            Kill(process);
            cancellationToken.ThrowIfCancellationRequested();
            throw new GpuToolException(string.Create(CultureInfo.InvariantCulture, $"{name} did not answer within {timeout.TotalSeconds:0.#} s."));
        }

        var output = stdout.GetAwaiter().GetResult();
        if (process.ExitCode != 0)
        {
            var message = FirstLine(stderr.GetAwaiter().GetResult()) ?? FirstLine(output) ?? "no message";
            throw new GpuToolException(string.Create(CultureInfo.InvariantCulture, $"{name} exited with code {process.ExitCode}: {message}"));
        }

        return output;
    }

    private static string? FirstLine(string text) =>
        text.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.Length > 0);

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
