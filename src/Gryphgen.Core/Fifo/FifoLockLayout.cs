namespace Gryphgen.Core.Fifo;

/// <summary>
/// The bytes Gryphgen locks with open-file-description locks (F_OFD_SETLK) on a FIFO. A FIFO holds no bytes at
/// these offsets: the locks only signal between processes. The writer lock itself is flock(2), as the protocol
/// tells peers in bash or Python to take it.
/// </summary>
internal static class FifoLockLayout
{
    /// <summary>Byte 0: held by the one Gryphgen receiver reading the FIFO (see <see cref="FifoReader.Open"/>).</summary>
    public const long ReaderClaim = 0;

    /// <summary>The first byte a sender waiting for the writer lock may hold to announce itself (see <see cref="FifoWriter.Lock"/>).</summary>
    public const long WaiterFirst = 1;

    /// <summary>One past the last such byte: waiters pick one at random in [<see cref="WaiterFirst"/>, this).</summary>
    public const long WaiterEnd = 1L << 40;
}
