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
    private long _discardRemaining;
    private bool _resynchronising;

    public GryphFrameReader(IByteSource source, long maxMessageBytes, string sourceName)
    {
        _source = source;
        _maxMessageBytes = maxMessageBytes;
        _sourceName = sourceName;
    }

    /// <summary>Reads the next frame, waiting until <paramref name="deadline"/>.</summary>
    [MethodImpl(HotPath.Options)]
    public ReceiveResult ReadNext(Deadline deadline)
    {
        while (true)
        {
            if (_discardRemaining > 0 && !Discard(deadline))
            {
                return ReceiveResult.TimedOut;
            }

            if (_resynchronising && !SeekMagic(deadline))
            {
                return ReceiveResult.TimedOut;
            }

            if (_prefixFilled == 0 && _pendingEnd == _pendingStart
                && _source.PeekFrameStart() is { Length: >= FrameFormat.PrefixLength } ahead
                && FrameFormat.TryParsePrefix(ahead, out var aheadHeader, out var aheadBody)
                && WithinLimits(aheadHeader, aheadBody))
            {
                return ReadFrame(aheadHeader, (int)aheadBody, deadline, prefixRead: false); // the whole frame in one read
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
                return Resynchronise(partial, Error("GryphFrameTruncated", $"a frame in '{_sourceName}' was cut short after {partial.Length} bytes: its sender closed the pipe mid-frame"));
            }

            _prefixFilled = 0;
            if (!FrameFormat.TryParsePrefix(_prefix, out var headerLength, out var bodyLength))
            {
                return Resynchronise(_prefix.ToArray(), Error("GryphFrameMalformed", $"'{_sourceName}' held bytes that are not a Gryphgen frame start; skipping to the next frame"));
            }

            if (!WithinLimits(headerLength, bodyLength))
            {
                _discardRemaining = headerLength + bodyLength + FrameFormat.TrailerLength;
                return new ReceiveResult(null, new GryphgenException("GryphMessageTooLarge", GryphgenErrorKind.LimitExceeded,
                    $"A message of {bodyLength} bytes in '{_sourceName}' exceeds the limit of {_maxMessageBytes} bytes (-MaxMessageBytes); it was skipped.", _sourceName));
            }

            return ReadFrame(headerLength, (int)bodyLength, deadline, prefixRead: true);
        }
    }

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

    /// <summary>Drops bytes until the pending data starts with the frame magic (or holds a prefix of it at the end).</summary>
    private bool SeekMagic(Deadline deadline)
    {
        var magic = FrameFormat.Magic;
        Span<byte> chunk = stackalloc byte[4096];
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
            var keep = Math.Min(pending.Length, magic.Length - 1);
            while (keep > 0 && !magic.StartsWith(pending[^keep..]))
            {
                keep--;
            }

            _pendingStart = _pendingEnd - keep;
            var got = _source.Read(chunk, deadline);
            if (got < 0)
            {
                return false;
            }

            Append(chunk[..Math.Max(got, 0)]);
        }
    }

    private bool Discard(Deadline deadline)
    {
        var scratch = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            while (_discardRemaining > 0)
            {
                var want = (int)Math.Min(_discardRemaining, scratch.Length);
                var got = Fill(scratch.AsSpan(0, want), 0, deadline, out var writersGone);
                _discardRemaining -= got;
                if (got == 0 && !writersGone)
                {
                    return false;
                }

                if (writersGone && got < want)
                {
                    _discardRemaining = 0; // the oversized frame's sender left; nothing more to skip
                }
            }

            return true;
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
