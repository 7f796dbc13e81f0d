using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Gryphgen.Core.Gguf;

/// <summary>
/// Reads GGUF primitives from a <see cref="GgufSource"/> through one window of bytes: the whole array for an
/// in-memory source, a pooled 64 KiB buffer refilled by positional reads for a file. Every read checks what
/// is left of the file first and throws <see cref="GgufFormatException"/> (Truncated) instead of reading past it.
/// </summary>
internal sealed class GgufByteReader : IDisposable
{
    private const int FirstFill = 4096; // enough for a magic check without pulling 64 KiB of a safetensors file
    private const int BufferSize = 64 * 1024;

    private readonly GgufSource _source;
    private readonly bool _pooled;
    private byte[] _window;
    private long _windowStart;
    private int _windowCount;

    public GgufByteReader(GgufSource source, long position = 0)
    {
        _source = source;
        Length = source.Length;
        Position = position;
        if (source.Memory is { } memory)
        {
            _window = memory;
            _windowCount = (int)source.Length;
        }
        else
        {
            _window = ArrayPool<byte>.Shared.Rent(BufferSize);
            _pooled = true;
        }
    }

    public long Length { get; }

    public long Position { get; set; }

    public long Remaining => Length - Position;

    public string Path => _source.Name;

    public bool BigEndian { get; set; }

    /// <summary>GGUF version: 1 writes counts and lengths as 32-bit values, 2 and 3 as 64-bit.</summary>
    public int Version { get; set; } = 3;

    public int CountSize => Version == 1 ? 4 : 8;

    /// <summary>
    /// Strings and array elements one read may go through: a vocabulary and its merges are about a million.
    /// Fixed-size arrays are stepped over in one jump and do not count; strings and nested arrays are walked one by
    /// one, and a sparse file's holes read as empty ones, so without this a file claiming terabytes would take minutes.
    /// </summary>
    public const long MaxElementsPerRead = 32L * 1024 * 1024;

    /// <summary>String bytes one read may decode: every string of a header (or of one loaded array) together.</summary>
    public const long MaxStringBytesPerRead = 32L * 1024 * 1024;

    /// <summary>
    /// Array elements one read keeps in memory as it goes; later arrays are left deferred (read on demand). Real
    /// headers load a few thousand (per-layer values); arrays of arrays in a sparse hole could otherwise load millions of objects.
    /// </summary>
    public const long MaxLoadedElementsPerRead = 256 * 1024;

    private long _loadedLeft = MaxLoadedElementsPerRead;
    private long _elementsLeft = MaxElementsPerRead;

    /// <summary>True, and counted, when <paramref name="count"/> more elements may be loaded now rather than deferred.</summary>
    public bool TryLoad(long count)
    {
        if (count > _loadedLeft)
        {
            return false;
        }

        _loadedLeft -= count;
        return true;
    }

    private long _stringBytesLeft = MaxStringBytesPerRead;

    /// <summary>Counts <paramref name="count"/> elements against <see cref="MaxElementsPerRead"/>.</summary>
    public void Walk(long count, string what)
    {
        _elementsLeft -= count;
        if (_elementsLeft < 0)
        {
            throw Error(GgufFormatError.InvalidFormat, $"{what} takes the header past {MaxElementsPerRead} strings and array elements, more than any model has");
        }
    }

    public GgufFormatException Error(GgufFormatError error, string reason, long? offset = null)
        => new(error, _source.Name, offset ?? Position, reason);

    public void Require(long bytes, string what)
    {
        if (bytes < 0 || bytes > Remaining)
        {
            throw Error(GgufFormatError.Truncated, $"{what} needs {(ulong)bytes} bytes but only {Remaining} are left in the file");
        }
    }

    /// <summary>A span of exactly <paramref name="count"/> bytes at the current position, which then moves past it.</summary>
    private ReadOnlySpan<byte> Take(int count, string what)
    {
        Require(count, what);
        var start = Position - _windowStart;
        if (start < 0 || start + count > _windowCount)
        {
            Fill(count);
            start = 0;
        }

        Position += count;
        return _window.AsSpan((int)start, count);
    }

    private void Fill(int atLeast)
    {
        if (!_pooled)
        {
            // In-memory sources are one window; Require already proved the bytes are there.
            throw new InvalidOperationException("In-memory window exhausted.");
        }

        var want = (int)Math.Min(Remaining, Math.Max(atLeast, _windowStart == 0 && _windowCount == 0 ? FirstFill : BufferSize));
        if (want > _window.Length)
        {
            ArrayPool<byte>.Shared.Return(_window);
            _window = ArrayPool<byte>.Shared.Rent(want);
        }

        var read = 0;
        while (read < want)
        {
            var n = _source.Read(_window.AsSpan(read, want - read), Position + read);
            if (n <= 0)
            {
                break;
            }

            read += n;
        }

        _windowStart = Position;
        _windowCount = read;
        if (read < atLeast)
        {
            // The file shrank under us (or the length lied): report it as truncation, not as an IO fault.
            throw Error(GgufFormatError.Truncated, $"the file ended after {read} of {atLeast} bytes");
        }
    }

    public void Skip(long bytes, string what)
    {
        Require(bytes, what);
        Position += bytes;
    }

    public byte ReadByte(string what) => Take(1, what)[0];

    public ushort ReadUInt16(string what)
    {
        var s = Take(2, what);
        return BigEndian ? BinaryPrimitives.ReadUInt16BigEndian(s) : BinaryPrimitives.ReadUInt16LittleEndian(s);
    }

    public uint ReadUInt32(string what)
    {
        var s = Take(4, what);
        return BigEndian ? BinaryPrimitives.ReadUInt32BigEndian(s) : BinaryPrimitives.ReadUInt32LittleEndian(s);
    }

    public ulong ReadUInt64(string what)
    {
        var s = Take(8, what);
        return BigEndian ? BinaryPrimitives.ReadUInt64BigEndian(s) : BinaryPrimitives.ReadUInt64LittleEndian(s);
    }

    public float ReadSingle(string what) => BitConverter.Int32BitsToSingle((int)ReadUInt32(what));

    public double ReadDouble(string what) => BitConverter.Int64BitsToDouble((long)ReadUInt64(what));

    /// <summary>A count or length: 32 bits in GGUF v1, 64 bits after.</summary>
    public ulong ReadCount(string what) => Version == 1 ? ReadUInt32(what) : ReadUInt64(what);

    /// <summary>
    /// Reads a count of items that each take at least <paramref name="minItemSize"/> bytes, and proves the file
    /// has room for all of them before anyone allocates or loops over them.
    /// </summary>
    public long ReadCheckedCount(int minItemSize, string what)
    {
        var start = Position;
        var count = ReadCount(what);
        if (count > (ulong)(Remaining / Math.Max(1, minItemSize)))
        {
            throw Error(GgufFormatError.Truncated, $"{what} is {count}, but at {minItemSize} bytes each that needs more than the {Remaining} bytes left", start);
        }

        return (long)count;
    }

    /// <summary>Reads a length-prefixed UTF-8 string; invalid UTF-8 becomes U+FFFD as in every other GGUF reader.</summary>
    public string ReadString(string what, int maxBytes = int.MaxValue)
    {
        var start = Position;
        var length = ReadCount(what);
        if (length > (ulong)Remaining)
        {
            throw Error(GgufFormatError.Truncated, $"{what} claims {length} bytes but only {Remaining} are left", start);
        }

        if (length > (ulong)maxBytes)
        {
            throw Error(GgufFormatError.InvalidFormat, $"{what} is {length} bytes long, more than the {maxBytes} allowed", start);
        }

        _stringBytesLeft -= (long)length;
        if (_stringBytesLeft < 0)
        {
            throw Error(GgufFormatError.InvalidFormat, $"{what} takes the strings read past {MaxStringBytesPerRead} bytes together, more than any model's header holds", start);
        }

        var n = (int)length;
        if (n == 0)
        {
            return string.Empty;
        }

        if (!_pooled || n <= BufferSize)
        {
            return Encoding.UTF8.GetString(Take(n, what));
        }

        var rented = ArrayPool<byte>.Shared.Rent(n);
        try
        {
            var read = 0;
            while (read < n)
            {
                var r = _source.Read(rented.AsSpan(read, n - read), Position + read);
                if (r <= 0)
                {
                    throw Error(GgufFormatError.Truncated, $"the file ended inside {what}");
                }

                read += r;
            }

            Position += n;
            return Encoding.UTF8.GetString(rented, 0, n);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>
    /// Steps over <paramref name="count"/> strings: the vocabulary path, so it reads lengths straight from the
    /// window and only falls back to <see cref="SkipString"/> at a window's edge.
    /// </summary>
    public void SkipStrings(long count, string what)
    {
        Walk(count, what);
        var countSize = CountSize;
        long i = 0;
        while (i < count)
        {
            var at = Position - _windowStart;
            if (at >= 0)
            {
                var window = _window.AsSpan(0, _windowCount);
                while (i < count && at + countSize <= window.Length)
                {
                    var slice = window[(int)at..];
                    ulong length = countSize == 8
                        ? (BigEndian ? BinaryPrimitives.ReadUInt64BigEndian(slice) : BinaryPrimitives.ReadUInt64LittleEndian(slice))
                        : (BigEndian ? BinaryPrimitives.ReadUInt32BigEndian(slice) : BinaryPrimitives.ReadUInt32LittleEndian(slice));
                    var left = Length - (_windowStart + at + countSize);
                    if (length > (ulong)left)
                    {
                        throw Error(GgufFormatError.Truncated, $"{what} claims {length} bytes but only {left} are left", _windowStart + at);
                    }

                    at += countSize + (long)length;
                    i++;
                }

                Position = _windowStart + at;
            }

            if (i < count)
            {
                SkipString(what);
                i++;
            }
        }
    }

    public void SkipString(string what)
    {
        var start = Position;
        var length = ReadCount(what);
        if (length > (ulong)Remaining)
        {
            throw Error(GgufFormatError.Truncated, $"{what} claims {length} bytes but only {Remaining} are left", start);
        }

        Position += (long)length;
    }

    public void Dispose()
    {
        if (_pooled && _window.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_window);
            _window = [];
        }
    }
}
