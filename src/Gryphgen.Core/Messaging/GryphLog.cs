using System.Globalization;

namespace Gryphgen.Core.Messaging;

public enum GryphLogLevel
{
    Debug,
    Info,
    Warn,
    Error,
}

/// <summary>
/// Where messaging operations report what they do: a callback (the cmdlets' -Verbose stream) and, optionally,
/// a file that gets one "[ISO-8601 UTC] [LEVEL] message" line per event, appended.
/// </summary>
public sealed class GryphLog : IDisposable
{
    private readonly Action<GryphLogLevel, string>? _sink;
    private readonly StreamWriter? _file;

    public GryphLog(Action<GryphLogLevel, string>? sink, string? filePath)
    {
        _sink = sink;
        if (!string.IsNullOrEmpty(filePath))
        {
            var stream = new FileStream(filePath, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
            _file = new StreamWriter(stream) { AutoFlush = true };
        }
    }

    public static GryphLog None { get; } = new(null, null);

    public bool IsEnabled => _sink is not null || _file is not null;

    public void Write(GryphLogLevel level, string message)
    {
        _sink?.Invoke(level, message);
        _file?.WriteLine($"[{DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture)}] [{level.ToString().ToUpperInvariant()}] {message}");
    }

    public void Dispose() => _file?.Dispose();
}
