using System.Buffers;
using System.Text;

namespace Gryphgen.Core.Gpu;

/// <summary>
/// One output stream of a GPU tool, read until it ends, the read is cancelled, or <c>cap</c> bytes have come:
/// a tool printing without end costs at most the cap in memory, and stops being read there.
/// </summary>
internal sealed class ToolOutput(Stream stream, int cap)
{
    /// <summary>How much of a tool's message goes into an error: one line, cut.</summary>
    public const int MaxMessageChars = 300;

    private readonly object _gate = new();
    private readonly ArrayBufferWriter<byte> _bytes = new();

    /// <summary>True when the tool wrote more than the cap; the text then holds only the first cap bytes.</summary>
    public bool Overflowed { get; private set; }

    public string Text
    {
        get
        {
            lock (_gate)
            {
                return Encoding.UTF8.GetString(_bytes.WrittenSpan);
            }
        }
    }

    public async Task ReadAsync(CancellationToken cancellationToken)
    {
        var buffer = new byte[64 * 1024];
        while (true)
        {
            var n = await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                return;
            }

            lock (_gate)
            {
                var room = cap - _bytes.WrittenCount;
                _bytes.Write(buffer.AsSpan(0, Math.Min(n, room)));
                if (n > room)
                {
                    Overflowed = true;
                    return;
                }
            }
        }
    }

    /// <summary>The first non-blank line, cut to <see cref="MaxMessageChars"/>: a tool's message, not its whole output.</summary>
    public static string? FirstLine(string text)
    {
        foreach (var raw in text.AsSpan().EnumerateLines())
        {
            var line = raw.Trim();
            if (line.Length > 0)
            {
                return line.Length <= MaxMessageChars ? line.ToString() : string.Concat(line[..MaxMessageChars], "...");
            }
        }

        return null;
    }
}
