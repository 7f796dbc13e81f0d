using Gryphgen.Core.Fifo;
using Gryphgen.Core.Messaging;

namespace Gryphgen.Core.Tests.Messaging;

/// <summary>Plays back chunks of bytes and "writer left" marks, then reports a timeout.</summary>
internal sealed class ScriptedByteSource : IByteSource
{
    private readonly Queue<byte[]?> _steps = new();
    private byte[] _current = [];
    private int _offset;

    public ScriptedByteSource Add(byte[] bytes)
    {
        _steps.Enqueue(bytes);
        return this;
    }

    public ScriptedByteSource WriterLeft()
    {
        _steps.Enqueue(null);
        return this;
    }

    public int Read(Span<byte> buffer, Deadline deadline)
    {
        while (_offset == _current.Length)
        {
            if (!_steps.TryDequeue(out var next))
            {
                return -1;
            }

            if (next is null)
            {
                return 0;
            }

            _current = next;
            _offset = 0;
        }

        var take = Math.Min(buffer.Length, _current.Length - _offset);
        _current.AsSpan(_offset, take).CopyTo(buffer);
        _offset += take;
        return take;
    }
}
