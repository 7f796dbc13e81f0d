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
}
