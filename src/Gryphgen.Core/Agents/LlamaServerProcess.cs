using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Gryphgen.Core.Native;

namespace Gryphgen.Core.Agents;

/// <summary>Where a supervised llama-server is in its life.</summary>
public enum LlamaServerState
{
    /// <summary>Started; /health has not said ok yet.</summary>
    Starting,

    /// <summary>/health said ok: it answers requests.</summary>
    Ready,

    /// <summary>It died and is waiting for its next start (back-off).</summary>
    Restarting,

    /// <summary>It died more often than the restart limit allows; FailureMessage says why.</summary>
    Failed,

    /// <summary>Stopped on request.</summary>
    Stopped,
}

/// <summary>
/// One llama-server child process: started on a free loopback port through <see cref="ChildProcessLauncher"/> (so
/// it dies with this process), its output appended to a log, ready when GET /health answers 200, started again
/// with doubling back-off when it dies, and failed with its exit code and last log lines after
/// <see cref="LlamaServerOptions.MaxRestarts"/> restarts. Stop sends SIGTERM, then SIGKILL after the grace period.
/// </summary>
public sealed class LlamaServerProcess : IDisposable
{
    private static readonly TimeSpan HealthPollInterval = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan OutputDrainTimeout = TimeSpan.FromSeconds(2);

    private readonly LlamaServerOptions _options;
    private readonly object _gate = new();
    private readonly Queue<string> _tail = new();
    private readonly FileStream _log;
    private readonly HttpClient _http = new(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(2) };
    private readonly CancellationTokenSource _stopping = new();
    private Process? _process;
    private int _generation;
    private volatile LlamaServerState _state = LlamaServerState.Starting;
    private bool _supervising;
    private int _restarts;
    private int? _lastExitCode;
    private string? _failure;
    private int _port;
    private bool _disposed;

    private LlamaServerProcess(LlamaServerOptions options)
    {
        _options = options;
        try
        {
            _log = new FileStream(options.LogPath, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new GryphgenException("LlamaServerLogOpenFailed", GryphgenErrorKind.PermissionDenied,
                $"Cannot open the llama-server log '{options.LogPath}': {ex.Message}", options.LogPath, ex);
        }
    }

    public string ExecutablePath => _options.ExecutablePath;

    public LlamaServerState State => _state;

    /// <summary>The server's process id; null before the first start and once it has exited.</summary>
    public int? ProcessId
    {
        get
        {
            var process = Volatile.Read(ref _process);
            try
            {
                return process is null || process.HasExited ? null : process.Id;
            }
            catch (InvalidOperationException)
            {
                return null;
            }
        }
    }

    /// <summary>The loopback port it listens on.</summary>
    public int Port => Volatile.Read(ref _port);

    public Uri BaseUri => new($"http://127.0.0.1:{Port}/");

    /// <summary>Its resident memory (host RAM, not GPU memory), bytes; null when it is not running.</summary>
    public long? MemoryBytes
    {
        get
        {
            var process = Volatile.Read(ref _process);
            try
            {
                if (process is null || process.HasExited)
                {
                    return null;
                }

                process.Refresh();
                return process.WorkingSet64;
            }
            catch (InvalidOperationException)
            {
                return null;
            }
        }
    }

    /// <summary>How many times it was started again after it died.</summary>
    public int Restarts => Volatile.Read(ref _restarts);

    /// <summary>The exit code of its last exit; null while the first run is alive.</summary>
    public int? LastExitCode
    {
        get
        {
            lock (_gate)
            {
                return _lastExitCode;
            }
        }
    }

    /// <summary>Why it is Failed: the exit code and its last log lines.</summary>
    public string? FailureMessage
    {
        get
        {
            lock (_gate)
            {
                return _failure;
            }
        }
    }

    public string LogPath => _options.LogPath;

    /// <summary>The full argument list of the current run (the options' arguments, then --host and --port).</summary>
    public IReadOnlyList<string> Arguments => ArgumentsFor(Port);

    /// <summary>Its last output lines, oldest first.</summary>
    public IReadOnlyList<string> LogTail
    {
        get
        {
            lock (_tail)
            {
                return _tail.ToArray();
            }
        }
    }

    /// <summary>
    /// Starts the server and waits until /health answers 200. Throws a <see cref="GryphgenException"/> that quotes
    /// the server's last lines when it exits or does not become ready in time (nothing is left running), and
    /// <see cref="OperationCanceledException"/> when <paramref name="cancellationToken"/> is cancelled.
    /// </summary>
    public static LlamaServerProcess Start(LlamaServerOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        var server = new LlamaServerProcess(options);
        try
        {
            server.StartFirst(cancellationToken);
            return server;
        }
        catch
        {
            server.Dispose();
            throw;
        }
    }

    private void StartFirst(CancellationToken cancellationToken)
    {
        var (process, generation) = Launch();
        var outcome = WaitReadyAsync(process, Port, cancellationToken).GetAwaiter().GetResult();
        switch (outcome)
        {
            case Readiness.Ready:
                lock (_gate)
                {
                    if (generation == _generation)
                    {
                        _supervising = true;
                        _state = LlamaServerState.Ready;
                    }
                }

                if (process.HasExited)
                {
                    // It died between its last answer and now: the exit went unsupervised, so report it here.
                    OnExited(process, generation);
                }

                WriteLog($"ready on {BaseUri}");
                return;
            case Readiness.Exited:
                process.WaitForExit(OutputDrainTimeout);
                throw new GryphgenException("LlamaServerExited", GryphgenErrorKind.ResourceUnavailable,
                    $"llama-server exited with code {process.ExitCode} before it was ready.{TailText()}", _options.ExecutablePath);
            case Readiness.TimedOut:
                KillNow(process);
                throw new GryphgenException("LlamaServerNotReady", GryphgenErrorKind.Timeout,
                    $"llama-server did not answer {BaseUri}health with 200 within {_options.HealthTimeout.TotalSeconds:0.#} s; it was stopped.{TailText()}", _options.ExecutablePath);
            default:
                KillNow(process);
                throw new OperationCanceledException(cancellationToken);
        }
    }

    private (Process Process, int Generation) Launch()
    {
        lock (_gate)
        {
            var port = _port != 0 && IsFree(_port) ? _port : FreeLoopbackPort();
            Volatile.Write(ref _port, port);
            var arguments = ArgumentsFor(port);
            Process process;
            try
            {
                process = ChildProcessLauncher.Start(_options.ExecutablePath, arguments, _options.Environment);
            }
            catch (System.ComponentModel.Win32Exception ex)
            {
                throw new GryphgenException("LlamaServerNotStarted", GryphgenErrorKind.ResourceUnavailable,
                    $"Cannot run '{_options.ExecutablePath}': {ex.Message}", _options.ExecutablePath, ex);
            }

            var generation = ++_generation;
            process.OutputDataReceived += (_, e) => Capture(e.Data);
            process.ErrorDataReceived += (_, e) => Capture(e.Data);
            process.EnableRaisingEvents = true;
            process.Exited += (_, _) => OnExited(process, generation);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            Volatile.Write(ref _process, process);
            WriteLog($"started pid {process.Id}: {_options.ExecutablePath} {string.Join(' ', arguments.Select(Quote))}"
                + (_options.Environment.Count > 0 ? $" with {string.Join(' ', _options.Environment.Select(v => v.Key + "=" + v.Value))}" : string.Empty));
            return (process, generation);
        }
    }

    private List<string> ArgumentsFor(int port)
    {
        var arguments = new List<string>(_options.Arguments) { "--host", "127.0.0.1", "--port", port.ToString(CultureInfo.InvariantCulture) };
        return arguments;
    }

    private void OnExited(Process process, int generation)
    {
        process.WaitForExit(OutputDrainTimeout); // its last lines belong in the log before they are quoted
        int code;
        try
        {
            code = process.ExitCode;
        }
        catch (InvalidOperationException)
        {
            return;
        }

        TimeSpan delay;
        int attempt;
        lock (_gate)
        {
            if (generation != _generation || !_supervising || _state is LlamaServerState.Failed or LlamaServerState.Stopped)
            {
                return; // a replaced run, the first start (StartFirst reports it) or a stop
            }

            _lastExitCode = code;
            if (_stopping.IsCancellationRequested)
            {
                return;
            }

            WriteLog($"pid {process.Id} exited with code {code}");
            if (_restarts >= _options.MaxRestarts)
            {
                _failure = $"llama-server exited with code {code} after {_restarts} restart(s), the limit (-MaxRestarts {_options.MaxRestarts}).{TailText()}";
                _state = LlamaServerState.Failed;
                WriteLog("failed: not restarting again");
                return;
            }

            attempt = ++_restarts;
            _state = LlamaServerState.Restarting;
            var ticks = Math.Min(_options.RestartDelay.Ticks * (1L << Math.Min(attempt - 1, 20)), _options.MaxRestartDelay.Ticks);
            delay = TimeSpan.FromTicks(ticks);
        }

        WriteLog($"restart {attempt} of {_options.MaxRestarts} in {delay.TotalSeconds:0.###} s");
        _ = RestartAfterAsync(delay);
    }

    private async Task RestartAfterAsync(TimeSpan delay)
    {
        try
        {
            await Task.Delay(delay, _stopping.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        Process process;
        int generation;
        try
        {
            lock (_gate)
            {
                if (_stopping.IsCancellationRequested)
                {
                    return;
                }

                _state = LlamaServerState.Starting;
                (process, generation) = Launch();
            }
        }
        catch (GryphgenException ex)
        {
            lock (_gate)
            {
                _failure = ex.Message;
                _state = LlamaServerState.Failed;
            }

            return;
        }

        var outcome = await WaitReadyAsync(process, Port, _stopping.Token).ConfigureAwait(false);
        lock (_gate)
        {
            if (generation != _generation || _stopping.IsCancellationRequested)
            {
                return;
            }

            if (outcome == Readiness.Ready)
            {
                _state = LlamaServerState.Ready;
                WriteLog($"ready again on {BaseUri}");
                return;
            }
        }

        if (outcome == Readiness.TimedOut)
        {
            WriteLog($"pid {process.Id} did not answer /health within {_options.HealthTimeout.TotalSeconds:0.#} s; killing it");
            KillNow(process); // its exit counts as a failed start
        }
    }

    private enum Readiness
    {
        Ready,
        Exited,
        TimedOut,
        Cancelled,
    }

    private async Task<Readiness> WaitReadyAsync(Process process, int port, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var health = new Uri($"http://127.0.0.1:{port}/health");
        var exited = process.WaitForExitAsync(CancellationToken.None);
        while (true)
        {
            if (exited.IsCompleted)
            {
                return Readiness.Exited;
            }

            if (cancellationToken.IsCancellationRequested)
            {
                return Readiness.Cancelled;
            }

            if (Stopwatch.GetElapsedTime(started) > _options.HealthTimeout)
            {
                return Readiness.TimedOut;
            }

            try
            {
                using var response = await _http.GetAsync(health, cancellationToken).ConfigureAwait(false);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return Readiness.Ready;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // This probe timed out; the next one may not.
            }
            catch (OperationCanceledException)
            {
                return Readiness.Cancelled;
            }

            // HTTP has no readiness signal, so it is polled; the exit and a cancellation end the wait at once.
            try
            {
                await Task.WhenAny(exited, Task.Delay(HealthPollInterval, cancellationToken)).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return Readiness.Cancelled;
            }
        }
    }

    /// <summary>Stops the server: SIGTERM, then SIGKILL after the grace period; no restart follows.</summary>
    public void Stop()
    {
        Process? process;
        lock (_gate)
        {
            if (_stopping.IsCancellationRequested)
            {
                return;
            }

            _stopping.Cancel();
            process = _process;
            if (_state != LlamaServerState.Failed)
            {
                _state = LlamaServerState.Stopped;
            }
        }

        if (process is null)
        {
            return;
        }

        try
        {
            if (!process.HasExited)
            {
                _ = LibC.Kill(process.Id, LibC.SIGTERM);
                if (!process.WaitForExit(_options.StopGrace))
                {
                    WriteLog($"pid {process.Id} ignored SIGTERM for {_options.StopGrace.TotalSeconds:0.#} s; killing it");
                    KillNow(process);
                }
            }

            process.WaitForExit(OutputDrainTimeout);
            lock (_gate)
            {
                _lastExitCode = process.ExitCode;
            }

            WriteLog($"stopped (pid {process.Id}, exit code {process.ExitCode})");
        }
        catch (InvalidOperationException)
        {
        }
    }

    private static void KillNow(Process process)
    {
        try
        {
            process.Kill();
            process.WaitForExit(OutputDrainTimeout);
        }
        catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
        }
    }

    private void Capture(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_tail)
        {
            _tail.Enqueue(line);
            while (_tail.Count > Math.Max(1, _options.LogTailLines))
            {
                _tail.Dequeue();
            }

            AppendToLog(line);
        }
    }

    private void WriteLog(string text)
    {
        lock (_tail)
        {
            AppendToLog($"[gryphgen {DateTimeOffset.Now:yyyy-MM-dd HH:mm:ss.fffzzz}] {text}");
        }
    }

    private void AppendToLog(string line)
    {
        if (_disposed)
        {
            return;
        }

        try
        {
            var bytes = Encoding.UTF8.GetBytes(line + "\n");
            _log.Write(bytes);
            _log.Flush();
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException)
        {
        }
    }

    private string TailText()
    {
        var tail = LogTail;
        return tail.Count == 0
            ? $" It wrote nothing (log: {LogPath})."
            : $" Its last lines (log: {LogPath}):{Environment.NewLine}{string.Join(Environment.NewLine, tail)}";
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static string Quote(string argument) =>
        argument.Length > 0 && !argument.Any(char.IsWhiteSpace) && !argument.Contains('"', StringComparison.Ordinal) ? argument : "\"" + argument.Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";

    public override string ToString()
    {
        var memory = MemoryBytes is { } bytes ? " " + Fit.Bytes.Format(bytes) : string.Empty;
        return ProcessId is { } pid ? $"pid {pid} :{Port} {State}{memory}" : $"{State}" + (LastExitCode is { } code ? $" (exit {code})" : string.Empty);
    }

    public void Dispose()
    {
        Stop();
        lock (_tail)
        {
            _disposed = true;
            _log.Dispose();
        }

        _http.Dispose();
        // _stopping is not disposed: a restart timer or an exit handler that runs late still reads it.
    }
}
