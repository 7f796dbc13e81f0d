using Gryphgen.Core.Fifo;

namespace Gryphgen.Core.Messaging;

/// <summary>Where frames are read from: a FIFO in use, a test double in tests.</summary>
public interface IByteSource
{
    /// <summary>Reads some bytes: the count read, 0 when every writer has gone, -1 when the deadline passed.</summary>
    int Read(Span<byte> buffer, Deadline deadline);

    /// <summary>
    /// <see cref="Read"/> at the start of a frame, where a source may choose to wait for data before reading
    /// (a FIFO in a conversation saves a read that would find nothing). Same results as <see cref="Read"/>.
    /// </summary>
    int ReadFrameStart(Span<byte> buffer, Deadline deadline) => Read(buffer, deadline);

    /// <summary>
    /// At a frame start: bytes at the front of the stream that the source can show without taking them, so that
    /// a whole frame can be taken in one read once its prefix says how long it is. Empty when the source cannot
    /// or, as a FIFO in a conversation, would spend more than it saves.
    /// </summary>
    ReadOnlySpan<byte> PeekFrameStart() => ReadOnlySpan<byte>.Empty;

    /// <summary>
    /// Bytes at the front of the stream, looked at afresh and not taken, for a reader skipping to the next frame
    /// start; empty when the source cannot look ahead (the reader then takes short reads instead).
    /// </summary>
    ReadOnlySpan<byte> PeekAhead() => ReadOnlySpan<byte>.Empty;
}
