using System.Buffers;
using System.Text;
using Gryphgen.Core.Fifo;

namespace Gryphgen.Core.Messaging;

/// <summary>
/// Sends messages into one pipe through one open descriptor. Each frame is written under the pipe's writer
/// lock, so concurrent senders never interleave, however large their messages.
/// </summary>
public sealed class GryphMessageSender : IMessageSender
{
    private readonly FifoWriter _writer;
    private readonly GryphLog _log;
    private readonly CancellationToken _token;

    private GryphMessageSender(FifoWriter writer, GryphLog log, CancellationToken token)
    {
        _writer = writer;
        _log = log;
        _token = token;
    }

    public string Path => _writer.Path;

    /// <summary>Opens <paramref name="path"/>, waiting for a reader until <paramref name="deadline"/>.</summary>
    public static GryphMessageSender Open(string path, bool allowShared, Deadline deadline, GryphLog log, CancellationToken token)
    {
        log.Write(GryphLogLevel.Info, $"Opening pipe for writing: {path}");
        var writer = FifoWriter.Open(path, allowShared, deadline, token);
        log.Write(GryphLogLevel.Info, $"Opened pipe for writing: {path}");
        return new GryphMessageSender(writer, log, token);
    }

    /// <summary>Sends one framed message; returns the frame's size in bytes.</summary>
    public int Send(GryphMessage message, Deadline deadline)
    {
        var (buffer, length) = FrameFormat.Encode(message);
        try
        {
            WriteLocked(buffer.AsSpan(0, length), deadline);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        if (_log.IsEnabled)
        {
            _log.Write(GryphLogLevel.Info, $"Sent message {message.Id} ({message.Bytes} bytes) to {message.To ?? Path}{(message.ReplyTo is null ? string.Empty : " in reply to " + message.ReplyTo)}");
        }

        return length;
    }

    /// <summary>Sends plain text lines with no envelope, for peers such as echo, cat and the original Perl scripts.</summary>
    public void SendRaw(string content, Deadline deadline)
    {
        var length = Encoding.UTF8.GetByteCount(content) + 1;
        var buffer = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            Encoding.UTF8.GetBytes(content, buffer);
            buffer[length - 1] = (byte)'\n';
            WriteLocked(buffer.AsSpan(0, length), deadline);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        if (_log.IsEnabled)
        {
            _log.Write(GryphLogLevel.Info, $"Sent raw line ({length} bytes) to {Path}");
        }
    }

    private void WriteLocked(ReadOnlySpan<byte> frame, Deadline deadline)
    {
        _writer.Lock(deadline, _token);
        try
        {
            _writer.Write(frame, deadline);
        }
        finally
        {
            _writer.Unlock();
        }
    }

    public void Dispose()
    {
        _writer.Dispose();
        _log.Write(GryphLogLevel.Debug, $"Closed pipe: {Path}");
    }
}
