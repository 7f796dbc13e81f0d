using System.Runtime.CompilerServices;
using System.Text;
using Gryphgen.Core.Fifo;
using Gryphgen.Core.Native;

namespace Gryphgen.Core.Messaging;

/// <summary>Receives framed messages, or raw lines, from one pipe; reads exactly one message's bytes at a time.</summary>
public sealed class GryphMessageReceiver : IMessageReceiver
{
    private static readonly UTF8Encoding Utf8Strict = new(false, true);
    private readonly FifoReader _reader;
    private readonly GryphFrameReader _frames;
    private readonly GryphLog _log;
    private readonly long _maxMessageBytes;
    private readonly string _endpoint;
    private List<byte> _rawPartial = new(128);
    private bool _skippingRawLine;

    private GryphMessageReceiver(FifoReader reader, GryphLog log, long maxMessageBytes, string endpoint)
    {
        _reader = reader;
        _log = log;
        _maxMessageBytes = maxMessageBytes;
        _endpoint = endpoint;
        _frames = new GryphFrameReader(reader, maxMessageBytes, reader.Path);
    }

    public string Path => _reader.Path;

    /// <summary>
    /// Bytes of a raw line taken from the pipe whose newline has not come: lost if the receiver stops now, and
    /// the next receiver would get the rest of the line as a line of its own.
    /// </summary>
    public int UnfinishedRawLineBytes => _skippingRawLine ? 0 : _rawPartial.Count;

    /// <summary>A no-op: a message read from a FIFO is already gone from the pipe.</summary>
    public void Acknowledge(GryphMessage message)
    {
    }

    public static GryphMessageReceiver Open(string path, string endpoint, bool allowShared, long maxMessageBytes, GryphLog log, CancellationToken token)
    {
        log.Write(GryphLogLevel.Info, $"Opening pipe for reading: {path}");
        var reader = FifoReader.Open(path, allowShared, token);
        return new GryphMessageReceiver(reader, log, maxMessageBytes, endpoint);
    }

    /// <summary>The next message or bad frame, or a timeout result when nothing arrives before <paramref name="deadline"/>.</summary>
    [MethodImpl(HotPath.Options)]
    public ReceiveResult Receive(Deadline deadline)
    {
        var result = _frames.ReadNext(deadline);
        if (_log.IsEnabled)
        {
            if (result.Message is { } m)
            {
                _log.Write(GryphLogLevel.Info, $"Received message {m.Id} ({m.Bytes} bytes) from {m.From ?? "?"} on {Path}");
            }
            else if (result.Error is { } e)
            {
                _log.Write(GryphLogLevel.Error, $"{e.ErrorId}: {e.Message}");
            }
        }

        return result;
    }

    /// <summary>
    /// The next newline-terminated line as a message with no envelope. Reads one byte at a time so that a
    /// receiver that stops leaves the following lines in the pipe.
    /// </summary>
    public ReceiveResult ReceiveRaw(Deadline deadline)
    {
        var line = _rawPartial;
        Span<byte> one = stackalloc byte[1];
        while (true)
        {
            var got = _reader.Read(one, deadline);
            if (got < 0)
            {
                return ReceiveResult.TimedOut; // a partial line stays for the next call
            }

            if (got == 0)
            {
                if (line.Count > 0)
                {
                    return ToRawMessage(line); // the writer left without a final newline
                }

                continue;
            }

            if (_skippingRawLine)
            {
                _skippingRawLine = one[0] != (byte)'\n'; // the rest of an oversized line is dropped with it
                continue;
            }

            if (one[0] == (byte)'\n')
            {
                return ToRawMessage(line);
            }

            if (line.Count >= _maxMessageBytes)
            {
                _rawPartial = new List<byte>(128);
                _skippingRawLine = true;
                return new ReceiveResult(null, new GryphgenException("GryphMessageTooLarge", GryphgenErrorKind.LimitExceeded,
                    $"A raw line in '{Path}' exceeds {_maxMessageBytes} bytes (-MaxMessageBytes).", Path));
            }

            line.Add(one[0]);
        }
    }

    private ReceiveResult ToRawMessage(List<byte> line)
    {
        _rawPartial = new List<byte>(128);
        string content;
        try
        {
            content = Utf8Strict.GetString(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(line));
        }
        catch (DecoderFallbackException ex)
        {
            return new ReceiveResult(null, new GryphgenException("GryphMessageMalformed", GryphgenErrorKind.InvalidData,
                $"A raw line in '{Path}' is not valid UTF-8.", Path, ex));
        }

        var message = new GryphMessage { Id = GryphMessage.NewId(), To = _endpoint, Timestamp = DateTime.UtcNow, Content = content, Bytes = line.Count };
        _log.Write(GryphLogLevel.Info, $"Received raw line ({line.Count} bytes) on {Path}");
        return new ReceiveResult(message, null);
    }

    public void Dispose()
    {
        _reader.Dispose();
        _log.Write(GryphLogLevel.Debug, $"Closed pipe: {Path}");
    }
}
