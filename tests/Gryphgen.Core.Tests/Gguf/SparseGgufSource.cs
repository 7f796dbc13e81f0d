using Gryphgen.Core.Gguf;

namespace Gryphgen.Core.Tests.Gguf;

/// <summary>
/// A file whose length claims more than its bytes: what lies past them reads as zeros, like the hole of a sparse
/// file, so a hostile count can be "backed" by gigabytes that cost nothing.
/// </summary>
internal sealed class SparseGgufSource(string name, byte[] data, int length, long claimedLength) : GgufSource(name, claimedLength)
{
    public override int Read(Span<byte> destination, long offset)
    {
        if (offset >= Length)
        {
            return 0;
        }

        var n = (int)Math.Min(destination.Length, Length - offset);
        var real = offset >= length ? 0 : (int)Math.Min(n, length - offset);
        data.AsSpan((int)Math.Min(offset, length), real).CopyTo(destination);
        destination[real..n].Clear();
        return n;
    }

    public override GgufSource Reopen() => this;
}
