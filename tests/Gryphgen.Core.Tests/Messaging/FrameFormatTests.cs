using System.Text;
using Gryphgen.Core.Messaging;

namespace Gryphgen.Core.Tests.Messaging;

public sealed class FrameFormatTests
{
    [Fact]
    public void Encode_WritesTheDocumentedPrefixHeaderBodyAndTrailer()
    {
        var message = new GryphMessage { Id = "abc", From = "alice", To = "bob", Timestamp = new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc), Content = "héllo" };
        var (buffer, length) = FrameFormat.Encode(message);
        var frame = Encoding.UTF8.GetString(buffer, 0, length);
        const string header = "{\"id\":\"abc\",\"from\":\"alice\",\"to\":\"bob\",\"time\":\"2026-01-02T03:04:05.0000000Z\"}";
        Assert.Equal($"GRY1 {header.Length:D10} {6:D15}\n{header}héllo" + "END\n", frame);
    }

    [Theory]
    [InlineData("")]
    [InlineData("one line")]
    [InlineData("two\nlines\r\nand a tab\t")]
    [InlineData("emoji 🦙 and 日本語 and NUL \0 inside")]
    public void EncodeThenDecode_KeepsEveryField(string content)
    {
        var message = new GryphMessage
        {
            Id = GryphMessage.NewId(), From = "a", To = "b", ReplyTo = "r1", Timestamp = DateTime.UtcNow, Content = content,
            Metadata = new Dictionary<string, string> { ["model"] = "llama", ["round"] = "3" },
        };
        var (buffer, length) = FrameFormat.Encode(message);
        Assert.True(FrameFormat.TryParsePrefix(buffer, out var headerLength, out var bodyLength));
        var decoded = FrameFormat.Decode(buffer.AsSpan(FrameFormat.PrefixLength, headerLength), buffer.AsMemory(FrameFormat.PrefixLength + headerLength, (int)bodyLength));
        Assert.Equal(length, FrameFormat.PrefixLength + headerLength + bodyLength + FrameFormat.TrailerLength);
        Assert.Equal(message.Id, decoded.Id);
        Assert.Equal(content, decoded.Content);
        Assert.Equal("r1", decoded.ReplyTo);
        // One rule for times (docs/design.md): the frame carries the instant in UTC, the object shows it as local time.
        Assert.Equal(message.Timestamp.ToUniversalTime(), decoded.Timestamp.ToUniversalTime());
        Assert.Equal(DateTimeKind.Local, decoded.Timestamp.Kind);
        Assert.Contains(message.Timestamp.ToUniversalTime().ToString("O", System.Globalization.CultureInfo.InvariantCulture), Encoding.UTF8.GetString(buffer, 0, length), StringComparison.Ordinal);
        Assert.Equal("3", decoded.Metadata["round"]);
        Assert.Equal(Encoding.UTF8.GetByteCount(content), decoded.Bytes);
    }

    [Fact]
    public void DecodedMessage_KeepsTheReceivedBytes_AndPassesThemOnUnchanged()
    {
        var original = new GryphMessage { Id = "m1", From = "a", Timestamp = new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc), Content = "héllo 🦙\n" };
        var (buffer, length) = FrameFormat.Encode(original);
        Assert.True(FrameFormat.TryParsePrefix(buffer, out var headerLength, out var bodyLength));
        var body = buffer.AsMemory(FrameFormat.PrefixLength + headerLength, (int)bodyLength);
        var received = FrameFormat.Decode(buffer.AsSpan(FrameFormat.PrefixLength, headerLength), body);

        Assert.True(received.TryGetUtf8Content(out var utf8));
        Assert.True(utf8.Span.SequenceEqual(Encoding.UTF8.GetBytes(original.Content)));
        Assert.False(original.TryGetUtf8Content(out _)); // built from a string: nothing received to pass on

        // Passed on without reading Content: the same frame, byte for byte.
        var (again, againLength) = FrameFormat.Encode(received);
        Assert.Equal(buffer.AsSpan(0, length).ToArray(), again.AsSpan(0, againLength).ToArray());
        Assert.Equal(original.Content, received.Content);
        Assert.Same(received.Content, received.Content); // made once
    }

    [Fact]
    public void Decode_RefusesInvalidUtf8_BeforeAnyoneReadsTheContent()
    {
        var (buffer, _) = FrameFormat.Encode(new GryphMessage { Id = "m1", Timestamp = DateTime.UtcNow, Content = "ab" });
        Assert.True(FrameFormat.TryParsePrefix(buffer, out var headerLength, out var bodyLength));
        buffer[FrameFormat.PrefixLength + headerLength] = 0xC3; // a lead byte followed by ASCII
        var error = Assert.Throws<FormatException>(() => FrameFormat.Decode(buffer.AsSpan(FrameFormat.PrefixLength, headerLength), buffer.AsMemory(FrameFormat.PrefixLength + headerLength, (int)bodyLength)));
        Assert.Contains("UTF-8", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("GRY1 0000000010 000000000000005")]
    [InlineData("GRY2 0000000010 000000000000005\n")]
    [InlineData("GRY1 00000000x0 000000000000005\n")]
    [InlineData("GRY1 0000000010-000000000000005\n")]
    public void TryParsePrefix_RejectsAnythingButTheExactForm(string prefix) =>
        Assert.False(FrameFormat.TryParsePrefix(Encoding.ASCII.GetBytes(prefix), out _, out _));
}
