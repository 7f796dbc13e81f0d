using System.Runtime.InteropServices;
using System.Text;
using Gryphgen.Core.Fifo;
using Gryphgen.Core.Messaging;

namespace Gryphgen.Core.Tests.Messaging;

public sealed class GryphFrameReaderTests
{
    private static byte[] Frame(string content, string id = "m")
    {
        var (buffer, length) = FrameFormat.Encode(new GryphMessage { Id = id, Timestamp = DateTime.UtcNow, Content = content });
        return buffer.AsSpan(0, length).ToArray();
    }

    private static List<ReceiveResult> ReadAll(ScriptedByteSource source, long max = 1024)
    {
        var reader = new GryphFrameReader(source, max, "test");
        var results = new List<ReceiveResult>();
        while (true)
        {
            var result = reader.ReadNext(Deadline.Infinite);
            if (result.IsTimeout)
            {
                return results;
            }

            results.Add(result);
        }
    }

    [Fact]
    public void Garbage_BetweenFrames_IsOneErrorAndNoMessageIsLost()
    {
        var source = new ScriptedByteSource()
            .Add(Frame("first"))
            .Add(Encoding.ASCII.GetBytes("this is not a frame at all, it is noise of some length\n"))
            .Add(Frame("second"));
        var results = ReadAll(source);
        Assert.Equal(["first", null, "second"], results.Select(r => r.Message?.Content));
        Assert.Equal("GryphFrameMalformed", results[1].Error!.ErrorId);
    }

    [Fact]
    public void TruncatedFrame_WhenItsWriterLeaves_IsReportedAndTheNextFrameArrives()
    {
        var cut = Frame("a message that will be cut short")[..40];
        var source = new ScriptedByteSource().Add(cut).WriterLeft().Add(Frame("after"));
        var results = ReadAll(source);
        Assert.Equal("GryphFrameTruncated", results[0].Error!.ErrorId);
        Assert.Equal("after", results.Single(r => r.Message is not null).Message!.Content);
    }

    [Fact]
    public void TruncatedFrame_SplicedWithAnotherSendersFrame_RecoversTheOtherFrame()
    {
        // A sender died mid-frame while holding nothing back: the next sender's frame follows its partial bytes.
        var cut = Frame(new string('x', 200))[..100];
        var source = new ScriptedByteSource().Add(cut).Add(Frame("survivor")).Add(Frame("next"));
        var results = ReadAll(source);
        Assert.Contains(results, r => r.Error?.ErrorId is "GryphFrameMalformed" or "GryphFrameTruncated");
        Assert.Equal(["survivor", "next"], results.Where(r => r.Message is not null).Select(r => r.Message!.Content));
    }

    [Fact]
    public void OversizedFrame_IsSkippedWholeAndTheNextFrameArrives()
    {
        var source = new ScriptedByteSource().Add(Frame(new string('y', 5000))).Add(Frame("small"));
        var results = ReadAll(source, max: 1000);
        Assert.Equal("GryphMessageTooLarge", results[0].Error!.ErrorId);
        Assert.Equal("small", results[1].Message!.Content);
        Assert.Equal(2, results.Count);
    }

    [Fact]
    public void BadEnvelope_IsAnErrorAndTheStreamStaysInStep()
    {
        var header = "{not json"u8.ToArray();
        var bad = new byte[FrameFormat.PrefixLength + header.Length + 2 + FrameFormat.TrailerLength];
        FrameFormat.WritePrefix(bad, header.Length, 2);
        header.CopyTo(bad, FrameFormat.PrefixLength);
        "hi"u8.CopyTo(bad.AsSpan(FrameFormat.PrefixLength + header.Length));
        FrameFormat.Trailer.CopyTo(bad.AsSpan(bad.Length - FrameFormat.TrailerLength));
        var results = ReadAll(new ScriptedByteSource().Add(bad).Add(Frame("ok")));
        Assert.Equal("GryphMessageMalformed", results[0].Error!.ErrorId);
        Assert.Equal("ok", results[1].Message!.Content);
    }

    [Fact]
    public void ReleasedMessage_ItsMemoryHoldsTheNextMessage()
    {
        var reader = new GryphFrameReader(new ScriptedByteSource().Add(Frame(new string('a', 5000), "m1")).Add(Frame(new string('b', 5000), "m2")), 1 << 20, "test");
        var first = reader.ReadNext(Deadline.Infinite).Message!;
        Assert.True(first.TryGetUtf8Content(out var firstBytes));
        Assert.True(MemoryMarshal.TryGetArray(firstBytes, out var firstArray));
        first.Release();

        var second = reader.ReadNext(Deadline.Infinite).Message!;
        Assert.True(second.TryGetUtf8Content(out var secondBytes));
        Assert.True(MemoryMarshal.TryGetArray(secondBytes, out var secondArray));
        Assert.Same(firstArray.Array, secondArray.Array);
        Assert.Equal(new string('b', 5000), second.Content);
    }

    [Fact]
    public void ReleasedMessage_KeepsAContentAlreadyRead_AndRefusesOneNotRead()
    {
        var source = new ScriptedByteSource().Add(Frame("read first", "m1")).Add(Frame("never read", "m2"));
        var reader = new GryphFrameReader(source, 1024, "test");
        var read = reader.ReadNext(Deadline.Infinite).Message!;
        Assert.Equal("read first", read.Content);
        read.Release();
        read.Release(); // twice is harmless
        Assert.Equal("read first", read.Content);
        Assert.False(read.TryGetUtf8Content(out _));

        var unread = reader.ReadNext(Deadline.Infinite).Message!;
        unread.Release();
        var error = Assert.Throws<ObjectDisposedException>(() => unread.Content);
        Assert.Contains("m2", error.Message, StringComparison.Ordinal);
        Assert.Equal(10, unread.Bytes);
    }

    [Fact]
    public void Release_OfAMessageBuiltFromAString_ChangesNothing()
    {
        var message = new GryphMessage { Id = "x", Timestamp = DateTime.UtcNow, Content = "kept" };
        message.Release();
        Assert.Equal("kept", message.Content);
    }

    [Fact]
    public void InvalidUtf8Content_IsAnError()
    {
        var frame = Frame("ab");
        frame[^(FrameFormat.TrailerLength + 1)] = 0xFF;
        var results = ReadAll(new ScriptedByteSource().Add(frame).Add(Frame("ok")));
        Assert.Equal("GryphMessageMalformed", results[0].Error!.ErrorId);
        Assert.Equal("ok", results[1].Message!.Content);
    }

    [Fact]
    public void FramesSplitIntoSingleBytes_StillDecode()
    {
        var source = new ScriptedByteSource();
        foreach (var b in Frame("one").Concat(Frame("two")))
        {
            source.Add([b]);
        }

        Assert.Equal(["one", "two"], ReadAll(source).Select(r => r.Message!.Content));
    }

    [Fact]
    public void SeveralBadFramesInOneBurst_ResynchroniseInStreamOrder()
    {
        // Everything arrives in one read, so the bytes after a bad frame are already buffered when it is found.
        var burst = Frame("before")
            .Concat(Encoding.ASCII.GetBytes("garbage that is not a frame\n"))
            .Concat(Frame("middle"))
            .Concat(Frame("this one is cut short")[..45])
            .Concat(Frame("after"))
            .ToArray();
        var results = ReadAll(new ScriptedByteSource().Add(burst));
        Assert.Equal(["before", "middle", "after"], results.Where(r => r.Message is not null).Select(r => r.Message!.Content));
        Assert.All(results.Where(r => r.Message is null), r => Assert.StartsWith("GryphFrame", r.Error!.ErrorId, StringComparison.Ordinal));
    }
}
