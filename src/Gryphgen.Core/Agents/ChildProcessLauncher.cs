using System.Collections.Concurrent;
using System.Diagnostics;

namespace Gryphgen.Core.Agents;

/// <summary>
/// Starts child processes that must die with this process. Linux sends PR_SET_PDEATHSIG when the *thread* that
/// forked the child ends, not the process, so every child is forked from one long-lived thread: a pipeline thread
/// of pwsh or a thread-pool thread may end while the child should go on. The child itself asks for the signal
/// through util-linux's <c>setpriv --pdeathsig KILL</c>, which sets it and then execs the real program, so the
/// program's argv is exactly what it was given.
/// </summary>
public static class ChildProcessLauncher
{
    private static readonly BlockingCollection<(ProcessStartInfo Info, TaskCompletionSource<Process> Done)> Requests = [];
    private static readonly Lazy<Thread> Launcher = new(() =>
    {
        var thread = new Thread(Run) { IsBackground = true, Name = "Gryphgen child launcher" };
        thread.Start();
        return thread;
    });

    private static readonly Lazy<string?> Setpriv = new(() => FindOnPath("setpriv"));

    /// <summary>The setpriv that makes a child die with this process, or null where util-linux's setpriv is missing.</summary>
    public static string? DeathSignalWrapper => Setpriv.Value;

    /// <summary>
    /// Starts <paramref name="program"/> with <paramref name="arguments"/> through the death-signal wrapper (when
    /// there is one) from the launcher thread; stdout and stderr are redirected for the caller to read.
    /// </summary>
    public static Process Start(string program, IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string>? environment = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(program);
        ArgumentNullException.ThrowIfNull(arguments);
        var info = new ProcessStartInfo
        {
            UseShellExecute = false,
            RedirectStandardInput = true, // the child never reads ours (a pwsh console) and never holds it
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        if (DeathSignalWrapper is { } wrapper)
        {
            info.FileName = wrapper;
            info.ArgumentList.Add("--pdeathsig");
            info.ArgumentList.Add("KILL");
            info.ArgumentList.Add("--");
            info.ArgumentList.Add(program);
        }
        else
        {
            info.FileName = program;
        }

        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        if (environment is not null)
        {
            foreach (var (key, value) in environment)
            {
                info.Environment[key] = value;
            }
        }

        var done = new TaskCompletionSource<Process>(TaskCreationOptions.RunContinuationsAsynchronously);
        _ = Launcher.Value;
        Requests.Add((info, done));
        return done.Task.GetAwaiter().GetResult();
    }

    /// <summary>The first executable file named <paramref name="name"/> in PATH, or null.</summary>
    public static string? FindOnPath(string name)
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        foreach (var folder in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(folder, name);
            if (IsExecutable(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>True for an existing file with an execute bit (Windows: any existing file).</summary>
    public static bool IsExecutable(string path) =>
        File.Exists(path) && (OperatingSystem.IsWindows()
            || (File.GetUnixFileMode(path) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0);

    private static void Run()
    {
        foreach (var (info, done) in Requests.GetConsumingEnumerable())
        {
            try
            {
                done.SetResult(Process.Start(info) ?? throw new InvalidOperationException($"'{info.FileName}' did not start."));
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                done.SetException(ex);
            }
        }
    }
}
