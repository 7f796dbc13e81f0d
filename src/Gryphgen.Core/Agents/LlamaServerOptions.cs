namespace Gryphgen.Core.Agents;

/// <summary>How to run and supervise one llama-server.</summary>
public sealed class LlamaServerOptions
{
    /// <summary>The llama-server executable.</summary>
    public required string ExecutablePath { get; init; }

    /// <summary>
    /// Its arguments (model, the plan's options, pass-through options); <c>--host 127.0.0.1 --port N</c> are
    /// appended last, so they win over anything passed through.
    /// </summary>
    public required IReadOnlyList<string> Arguments { get; init; }

    /// <summary>Variables set for the server beside this process's own, e.g. CUDA_VISIBLE_DEVICES.</summary>
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();

    /// <summary>The file the server's stdout and stderr are appended to.</summary>
    public required string LogPath { get; init; }

    /// <summary>How long a start may take until /health answers 200 (a large model loads for minutes).</summary>
    public TimeSpan HealthTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>How many times a server that died is started again before it counts as failed.</summary>
    public int MaxRestarts { get; init; } = 3;

    /// <summary>The wait before the first restart; each further one waits twice as long, up to <see cref="MaxRestartDelay"/>.</summary>
    public TimeSpan RestartDelay { get; init; } = TimeSpan.FromSeconds(1);

    public TimeSpan MaxRestartDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long Stop waits after SIGTERM before SIGKILL.</summary>
    public TimeSpan StopGrace { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How many of the server's last output lines an error quotes.</summary>
    public int LogTailLines { get; init; } = 15;
}
