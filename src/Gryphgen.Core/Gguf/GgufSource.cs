using Microsoft.Win32.SafeHandles;

namespace Gryphgen.Core.Gguf;

/// <summary>
/// Where a header's bytes come from: a file read with positional reads (no shared seek position, so a lazy
/// array can be loaded later from a fresh handle), or a byte array already in memory (tests, fuzzing).
/// </summary>
internal abstract class GgufSource : IDisposable
{
    protected GgufSource(string name, long length)
    {
        Name = name;
        Length = length;
    }

    public string Name { get; }

    public long Length { get; }

    /// <summary>The whole content when it is already in memory; null for files.</summary>
    public virtual byte[]? Memory => null;

    public abstract int Read(Span<byte> destination, long offset);

    /// <summary>A source over the same bytes that stays valid after this one is disposed.</summary>
    public abstract GgufSource Reopen();

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
    }
}

internal sealed class GgufFileSource : GgufSource
{
    private readonly SafeFileHandle _handle;

    private GgufFileSource(string path, SafeFileHandle handle)
        : base(path, RandomAccess.GetLength(handle))
    {
        _handle = handle;
    }

    public static GgufFileSource Open(string path)
    {
        var handle = RegularFile.OpenForReading(path);
        try
        {
            return new GgufFileSource(path, handle);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    public override int Read(Span<byte> destination, long offset) => RandomAccess.Read(_handle, destination, offset);

    public override GgufSource Reopen() => Open(Name);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _handle.Dispose();
        }

        base.Dispose(disposing);
    }
}

/// <summary>The first <c>length</c> bytes of an array (a reusable buffer in the mutation tests).</summary>
internal sealed class GgufMemorySource(string name, byte[] data, int length) : GgufSource(name, length)
{
    public GgufMemorySource(string name, byte[] data)
        : this(name, data, data.Length)
    {
    }

    public override byte[]? Memory => data;

    public override int Read(Span<byte> destination, long offset)
    {
        if (offset >= length)
        {
            return 0;
        }

        var n = (int)Math.Min(destination.Length, length - offset);
        data.AsSpan((int)offset, n).CopyTo(destination);
        return n;
    }

    public override GgufSource Reopen() => this;
}
