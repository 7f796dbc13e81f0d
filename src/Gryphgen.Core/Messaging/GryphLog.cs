using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Gryphgen.Core.Fifo;
using Gryphgen.Core.Native;

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
    private int _file = -1;

    public GryphLog(Action<GryphLogLevel, string>? sink, string? filePath)
    {
        _sink = sink;
        if (!string.IsNullOrEmpty(filePath))
        {
            // O_APPEND and one write(2) per line: several processes can share one log without tearing lines.
            _file = LibC.Open(filePath, LibC.O_WRONLY | LibC.O_CREAT | LibC.O_APPEND | LibC.O_CLOEXEC, 0x1A4);
            if (_file < 0)
            {
                throw new GryphgenException("GryphLogOpenFailed", GryphgenErrorKind.PermissionDenied,
                    $"Cannot open the log file '{filePath}': {LibC.Describe(Marshal.GetLastPInvokeError())}.", filePath);
            }
        }
    }

    public static GryphLog None { get; } = new(null, null);

    public bool IsEnabled => _sink is not null || _file >= 0;

    public unsafe void Write(GryphLogLevel level, string message)
    {
        _sink?.Invoke(level, message);
        if (_file < 0)
        {
            return;
        }

        var line = Encoding.UTF8.GetBytes($"[{DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture)}] [{level.ToString().ToUpperInvariant()}] {message}\n");
        fixed (byte* p = line)
        {
            _ = LibC.Write(_file, p, (nuint)line.Length);
        }
    }

    public void Dispose()
    {
        var file = Interlocked.Exchange(ref _file, -1);
        if (file >= 0)
        {
            _ = LibC.Close(file);
        }
    }
}
