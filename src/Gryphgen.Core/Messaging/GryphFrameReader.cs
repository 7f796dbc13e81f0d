using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Gryphgen.Core.Fifo;
using Gryphgen.Core.Native;

namespace Gryphgen.Core.Messaging;

/// <summary>
/// Reads frames (see <see cref="FrameFormat"/>) one at a time, taking exactly one frame's bytes from the
/// source. A malformed, truncated or oversized frame becomes an error result and the reader resynchronises
/// on the next frame start, so one bad frame costs no other message.
/// </summary>
/// <remarks>
/// What a receiver takes from a pipe and has not delivered dies with it, so the reader takes no byte that a
/// frame decision does not need: a good frame is its prefix and then exactly its length. Skipping (garbage, a bad
/// or oversized prefix, the rest of a cut frame) takes exactly the bytes before the next frame start where the
/// source can look ahead (<see cref="IByteSource.PeekAhead"/>), else reads of at most <see cref="FrameFormat.PrefixLength"/>
/// bytes: shorter than any frame, so what such a read takes of the next frame is only its start, which this reader
/// then reads on. A length that overstates its frame is caught before anything is taken when the whole claimed
/// frame is in view ahead; otherwise its claimed bytes are taken and the frames inside them are delivered from here.
/// </remarks>
public sealed class GryphFrameReader
{
    private readonly IByteSource _source;
    private readonly long _maxMessageBytes;
    private readonly string _sourceName;
    private readonly byte[] _prefix = new byte[FrameFormat.PrefixLength];

    // Bytes taken from the source but not yet consumed: only ever filled while resynchronising.
    private byte[] _pending = [];
    private int _pendingStart;
    private int _pendingEnd;

    private int _prefixFilled;
    private bool _resynchronising;

    public GryphFrameReader(IByteSource source, long maxMessageBytes, string sourceName)
    {
        _source = source;
        _maxMessageBytes = Math.Min(maxMessageBytes, FrameFormat.LargestBodyBytes);
        _sourceName = sourceName;
    }

    /// <summary>Reads the next frame, waiting until <paramref name="deadline"/>.</summary>
    [MethodImpl(HotPath.Options)]
    public ReceiveResult ReadNext(Deadline deadline)
    {
        while (true)
        {
            if (_resynchronising && !SeekFrameStart(deadline))
            {
                return ReceiveResult.TimedOut;
            }

            var lyingLength = false;
            if (_prefixFilled == 0 && _pendingEnd == _pendingStart
                && _source.PeekFrameStart() is { Length: >= FrameFormat.PrefixLength } ahead
                && FrameFormat.TryParsePrefix(ahead, out var aheadHeader, out var aheadBody)
                && WithinLimits(aheadHeader, aheadBody))
            {
                var frameLength = FrameFormat.PrefixLength + aheadHeader + aheadBody + FrameFormat.TrailerLength;
                lyingLength = frameLength <= ahead.Length
                    && !ahead.Slice((int)frameLength - FrameFormat.TrailerLength, FrameFormat.TrailerLength).SequenceEqual(FrameFormat.Trailer);
                if (!lyingLength)
                {
                    return ReadFrame(aheadHeader, (int)aheadBody, deadline, prefixRead: false); // the whole frame in one read
                }
            }

            var got = Fill(_prefix, _prefixFilled, deadline, out var writersGone, frameStart: _prefixFilled == 0);
            _prefixFilled += got;
            if (_prefixFilled < FrameFormat.PrefixLength)
            {
                if (!writersGone)
                {
                    return ReceiveResult.TimedOut; // a partial prefix stays for the next call
                }

                if (_prefixFilled == 0)
                {
                    continue; // a writer left between frames: nothing lost
                }

                var partial = _prefix.AsSpan(0, _prefixFilled).ToArray();
                _prefixFilled = 0;
                return Resynchronise(partial, FrameFormat.Magic.StartsWith(partial.AsSpan(0, Math.Min(partial.Length, FrameFormat.Magic.Length)))
                    ? Error("GryphFrameTruncated", $"a frame in '{_sourceName}' was cut short after {partial.Length} bytes: its sender closed the pipe mid-frame")
                    : Error("GryphFrameMalformed", NotAFrameStart(partial)));
            }

            _prefixFilled = 0;
            if (!FrameFormat.TryParsePrefix(_prefix, out var headerLength, out var bodyLength))
            {
                return Resynchronise(_prefix.ToArray(), Error("GryphFrameMalformed", NotAFrameStart(_prefix)));
            }

            if (!WithinLimits(headerLength, bodyLength))
            {
                // Only the prefix is taken: a length over the limit may be a lie, so the bytes it claims are
                // skipped up to the next frame start, never counted out (that could swallow every later frame).
                var limit = _maxMessageBytes < FrameFormat.LargestBodyBytes ? $"the limit of {_maxMessageBytes} bytes (-MaxMessageBytes)" : $"the largest message a receiver can hold ({FrameFormat.LargestBodyBytes} bytes)";
                return Resynchronise(_prefix.ToArray(), new GryphgenException("GryphMessageTooLarge", GryphgenErrorKind.LimitExceeded,
                    headerLength > FrameFormat.MaxHeaderBytes
                        ? $"A message in '{_sourceName}' has a header of {headerLength} bytes, over the limit of {FrameFormat.MaxHeaderBytes}; it was skipped."
                        : $"A message of {bodyLength} bytes in '{_sourceName}' exceeds {limit}; it was skipped.", _sourceName));
            }

            if (lyingLength)
            {
                return Resynchronise(_prefix.ToArray(), Error("GryphFrameMalformed",
                    $"a frame in '{_sourceName}' does not end where its length says; skipping to the next frame"));
            }

            return ReadFrame(headerLength, (int)bodyLength, deadline, prefixRead: true);
        }
    }

    /// <summary>What a bad frame start says; bytes with no frame magic at all are most likely plain lines.</summary>
    private string NotAFrameStart(ReadOnlySpan<byte> bytes) => bytes.StartsWith(FrameFormat.Magic)
        ? $"'{_sourceName}' held a frame start with a bad length field; skipping to the next frame"
        : $"'{_sourceName}' held bytes that are not a Gryphgen frame start; skipping to the next frame. If its writer sends plain lines (echo, printf, a script of the original setup), receive with -Raw";

    [MethodImpl(HotPath.Options)]
    private bool WithinLimits(int headerLength, long bodyLength) =>
        headerLength <= FrameFormat.MaxHeaderBytes && bodyLength <= _maxMessageBytes;

    /// <summary>
    /// Reads the rest of a frame whose prefix is in <see cref="_prefix"/> (<paramref name="prefixRead"/>), or the
    /// whole frame, prefix included, when its prefix was only seen ahead.
    /// </summary>
    [MethodImpl(HotPath.Options)]
    private ReceiveResult ReadFrame(int headerLength, int bodyLength, Deadline deadline, bool prefixRead)
    {
        // The frame is read into a pooled buffer that the message then keeps as its content: one copy, by the
        // kernel, from the pipe to the message, into memory that a released message gave back (see GryphMessage).
        var start = prefixRead ? 0 : FrameFormat.PrefixLength;
        var total = start + headerLength + bodyLength + FrameFormat.TrailerLength;
        var frame = ArrayPool<byte>.Shared.Rent(total);
        var handedOver = false;
        try
        {
            var filled = 0;
            while (filled < total)
            {
                var got = Fill(frame.AsSpan(0, total), filled, deadline, out var writersGone);
                filled += got;
                if (filled < total && (writersGone || got == 0))
                {
                    var read = (prefixRead ? FrameFormat.PrefixLength : 0) + filled;
                    return Resynchronise(Consumed(frame, filled, prefixRead), Error("GryphFrameTruncated",
                        $"a frame in '{_sourceName}' was cut short after {read} of {total - start + FrameFormat.PrefixLength} bytes ({(writersGone ? "its sender closed the pipe" : "nothing more arrived before the timeout")})"));
                }
            }

            if (!frame.AsSpan(total - FrameFormat.TrailerLength, FrameFormat.TrailerLength).SequenceEqual(FrameFormat.Trailer))
            {
                return Resynchronise(Consumed(frame, filled, prefixRead), Error("GryphFrameMalformed",
                    $"a frame in '{_sourceName}' does not end where its length says (cut short and followed by another?); skipping to the next frame"));
            }

            try
            {
                var message = FrameFormat.Decode(frame.AsSpan(start, headerLength), frame.AsMemory(start + headerLength, bodyLength), frame);
                handedOver = true;
                return new ReceiveResult(message, null);
            }
            catch (Exception ex) when (ex is JsonException or FormatException or InvalidOperationException)
            {
                return new ReceiveResult(null, new GryphgenException("GryphMessageMalformed", GryphgenErrorKind.InvalidData,
                    $"A frame in '{_sourceName}' has a bad envelope or content: {ex.Message}", _sourceName, ex));
            }
        }
        finally
        {
            if (!handedOver)
            {
                ArrayPool<byte>.Shared.Return(frame);
            }
        }
    }

    /// <summary>Every byte of a bad frame taken from the stream so far: its prefix (when read apart) and what followed.</summary>
    [MethodImpl(HotPath.Options)]
    private byte[] Consumed(byte[] frame, int frameBytes, bool prefixRead)
    {
        if (!prefixRead)
        {
            return frame.AsSpan(0, frameBytes).ToArray();
        }

        var consumed = new byte[FrameFormat.PrefixLength + frameBytes];
        _prefix.CopyTo(consumed, 0);
        frame.AsSpan(0, frameBytes).CopyTo(consumed.AsSpan(FrameFormat.PrefixLength));
        return consumed;
    }

    /// <summary>Puts back everything after the bad frame's first byte, so a frame start inside it is found again.</summary>
    private ReceiveResult Resynchronise(byte[] consumed, GryphgenException error)
    {
        PushFront(consumed.AsSpan(1));
        _resynchronising = true;
        return new ReceiveResult(null, error);
    }

    private GryphgenException Error(string id, string message) =>
        new(id, GryphgenErrorKind.InvalidData, char.ToUpperInvariant(message[0]) + message[1..] + ".", _sourceName);

    /// <summary>
    /// Drops bytes until the next frame start: the pending data then starts with the frame magic, or the source
    /// does while nothing is pending. False when the deadline passed first; then nothing more is taken, so a
    /// receiver whose time is up leaves the rest in the pipe.
    /// </summary>
    private bool SeekFrameStart(Deadline deadline)
    {
        var magic = FrameFormat.Magic;
        Span<byte> chunk = stackalloc byte[FrameFormat.PrefixLength];
        while (true)
        {
            var pending = _pending.AsSpan(_pendingStart, _pendingEnd - _pendingStart);
            var index = pending.IndexOf(magic);
            if (index >= 0)
            {
                _pendingStart += index;
                _resynchronising = false;
                return true;
            }

            // Keep a tail that could be the start of a split magic.
            var keep = MagicStartAtEnd(pending);
            _pendingStart = _pendingEnd - keep;
            if (keep == 0 && SkipAhead(deadline) is { } found)
            {
                if (found)
                {
                    _resynchronising = false;
                    return true;
                }

                continue;
            }

            if (deadline.HasExpired && keep == 0)
            {
                return false;
            }

            // Nothing to look at ahead: read no more than a prefix, which cannot hold a whole frame.
            var got = _source.Read(chunk, deadline);
            if (got < 0)
            {
                return false;
            }

            Append(chunk[..got]);
        }
    }

    /// <summary>
    /// With nothing pending: drops the bytes ahead up to the next frame magic (true), or all but a tail that could
    /// begin one (false: look again). Null when the source shows nothing ahead, or only such a tail.
    /// </summary>
    private bool? SkipAhead(Deadline deadline)
    {
        var ahead = _source.PeekAhead();
        if (ahead.IsEmpty)
        {
            return null;
        }

        var index = ahead.IndexOf(FrameFormat.Magic);
        var drop = index >= 0 ? index : ahead.Length - MagicStartAtEnd(ahead);
        if (index < 0 && drop == 0)
        {
            return null;
        }

        Skip(drop, deadline);
        return index >= 0;
    }

    /// <summary>How many bytes at the end of <paramref name="bytes"/> could be the start of a frame magic.</summary>
    private static int MagicStartAtEnd(ReadOnlySpan<byte> bytes)
    {
        var magic = FrameFormat.Magic;
        var keep = Math.Min(bytes.Length, magic.Length - 1);
        while (keep > 0 && !magic.StartsWith(bytes[^keep..]))
        {
            keep--;
        }

        return keep;
    }

    /// <summary>Takes exactly <paramref name="count"/> bytes that the source showed ahead, and drops them.</summary>
    private void Skip(int count, Deadline deadline)
    {
        var scratch = ArrayPool<byte>.Shared.Rent(Math.Min(count, 64 * 1024));
        try
        {
            while (count > 0)
            {
                var got = _source.Read(scratch.AsSpan(0, Math.Min(count, scratch.Length)), deadline);
                if (got <= 0)
                {
                    return; // cannot happen for bytes already seen in the pipe; the next look starts afresh
                }

                count -= got;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
        }
    }

    /// <summary>
    /// Fills <paramref name="buffer"/> from <paramref name="offset"/>: pending bytes first, then the source.
    /// Returns how many bytes were added; stops early when the deadline passes or every writer has gone.
    /// </summary>
    [MethodImpl(HotPath.Options)]
    private int Fill(Span<byte> buffer, int offset, Deadline deadline, out bool writersGone, bool frameStart = false)
    {
        writersGone = false;
        var added = 0;
        while (offset + added < buffer.Length)
        {
            var target = buffer[(offset + added)..];
            if (_pendingEnd > _pendingStart)
            {
                var take = Math.Min(target.Length, _pendingEnd - _pendingStart);
                _pending.AsSpan(_pendingStart, take).CopyTo(target);
                _pendingStart += take;
                added += take;
                continue;
            }

            var got = frameStart && added == 0 ? _source.ReadFrameStart(target, deadline) : _source.Read(target, deadline);
            if (got > 0)
            {
                added += got;
                continue;
            }

            writersGone = got == 0;
            return added;
        }

        return added;
    }

    /// <summary>Puts bytes back before the pending ones: they were taken from the stream earlier.</summary>
    private void PushFront(ReadOnlySpan<byte> bytes)
    {
        var live = _pending.AsSpan(_pendingStart, _pendingEnd - _pendingStart);
        var joined = new byte[bytes.Length + live.Length];
        bytes.CopyTo(joined);
        live.CopyTo(joined.AsSpan(bytes.Length));
        _pending = joined;
        _pendingStart = 0;
        _pendingEnd = joined.Length;
    }

    /// <summary>Adds bytes just read from the stream after the pending ones.</summary>
    private void Append(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty)
        {
            return;
        }

        var live = _pendingEnd - _pendingStart;
        if (_pending.Length - live < bytes.Length || _pendingStart > 0)
        {
            var grown = new byte[Math.Max(live + bytes.Length, _pending.Length)];
            _pending.AsSpan(_pendingStart, live).CopyTo(grown);
            _pending = grown;
            _pendingStart = 0;
            _pendingEnd = live;
        }

        bytes.CopyTo(_pending.AsSpan(_pendingEnd));
        _pendingEnd += bytes.Length;
    }
}
