using System.Buffers;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Gryphgen.Core.Native;

namespace Gryphgen.Core.Messaging;

/// <summary>
/// Encodes frames (see <see cref="FrameFormat"/>) with one JSON writer and one header buffer kept for the life
/// of a sender, so a stream of small messages allocates nothing per frame beyond what it appends to.
/// Not thread-safe: one encoder per sender, used under the sender's lock.
/// </summary>
internal sealed class FrameEncoder : IDisposable
{
    private static readonly JsonEncodedText IdName = JsonEncodedText.Encode("id");
    private static readonly JsonEncodedText FromName = JsonEncodedText.Encode("from");
    private static readonly JsonEncodedText ToName = JsonEncodedText.Encode("to");
    private static readonly JsonEncodedText ReplyToName = JsonEncodedText.Encode("replyTo");
    private static readonly JsonEncodedText TimeName = JsonEncodedText.Encode("time");
    private static readonly JsonEncodedText MetaName = JsonEncodedText.Encode("meta");

    private readonly ArrayBufferWriter<byte> _header = new(256);
    private readonly Utf8JsonWriter _json;

    public FrameEncoder() => _json = new Utf8JsonWriter(_header);

    /// <summary>The header JSON of <paramref name="message"/>; valid until the next call.</summary>
    [MethodImpl(HotPath.Options)]
    public ReadOnlySpan<byte> EncodeHeader(GryphMessage message)
    {
        _header.ResetWrittenCount();
        _json.Reset(_header);
        _json.WriteStartObject();
        _json.WriteString(IdName, message.Id);
        WriteOptional(FromName, message.From);
        WriteOptional(ToName, message.To);
        WriteOptional(ReplyToName, message.ReplyTo);

        // The round-trip ("O") form, as before: 7 fractional digits and a Z, formatted without a string.
        Span<char> time = stackalloc char[40];
        _ = message.UtcTimestamp.TryFormat(time, out var timeLength, "O", CultureInfo.InvariantCulture);
        _json.WriteString(TimeName, time[..timeLength]);
        if (message.Metadata.Count > 0)
        {
            _json.WriteStartObject(MetaName);
            foreach (var (key, value) in message.Metadata)
            {
                _json.WriteString(key, value);
            }

            _json.WriteEndObject();
        }

        _json.WriteEndObject();
        _json.Flush();
        return _header.WrittenSpan;
    }

    /// <summary>The size of the whole frame for <paramref name="message"/>, whose header <see cref="EncodeHeader"/> just wrote.</summary>
    public static int FrameLength(int headerLength, int bodyLength) =>
        FrameFormat.PrefixLength + headerLength + bodyLength + FrameFormat.TrailerLength;

    /// <summary>
    /// Appends one frame for <paramref name="message"/> to <paramref name="buffer"/> at <paramref name="offset"/>,
    /// growing it through <paramref name="grow"/> when it is too small; returns the frame's length.
    /// The content is encoded straight into its place in the frame: no intermediate copy.
    /// </summary>
    [MethodImpl(HotPath.Options)]
    public int Append(GryphMessage message, ref byte[] buffer, int offset, Func<byte[], int, int, byte[]> grow)
    {
        var header = EncodeHeader(message);
        var received = message.TryGetUtf8Content(out var utf8);
        var bodyLength = received ? utf8.Length : Encoding.UTF8.GetByteCount(message.Content);
        var length = FrameLength(header.Length, bodyLength);
        if (buffer.Length - offset < length)
        {
            buffer = grow(buffer, offset, offset + length);
        }

        var frame = buffer.AsSpan(offset, length);
        FrameFormat.WritePrefix(frame, header.Length, bodyLength);
        header.CopyTo(frame[FrameFormat.PrefixLength..]);
        var body = frame.Slice(FrameFormat.PrefixLength + header.Length, bodyLength);
        if (received)
        {
            utf8.Span.CopyTo(body); // a received message passed on: its bytes as they came, never a string
        }
        else
        {
            _ = Encoding.UTF8.GetBytes(message.Content, body);
        }

        FrameFormat.Trailer.CopyTo(frame[^FrameFormat.TrailerLength..]);
        return length;
    }

    [MethodImpl(HotPath.Options)]
    private void WriteOptional(JsonEncodedText name, string? value)
    {
        if (value is not null)
        {
            _json.WriteString(name, value);
        }
    }

    public void Dispose() => _json.Dispose();
}
