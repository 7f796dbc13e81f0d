using Gryphgen.Core.Fifo;

namespace Gryphgen.Core.Messaging;

/// <summary>Where frames are read from: a FIFO in use, a test double in tests.</summary>
public interface IByteSource
{
    /// <summary>Reads some bytes: the count read, 0 when every writer has gone, -1 when the deadline passed.</summary>
    int Read(Span<byte> buffer, Deadline deadline);
}
