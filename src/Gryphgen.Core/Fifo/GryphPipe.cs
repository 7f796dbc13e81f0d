namespace Gryphgen.Core.Fifo;

/// <summary>A process that holds a pipe open, as /proc shows it.</summary>
public sealed record PipeHolder(int ProcessId, string ProcessName, bool Reading, bool Writing)
{
    public override string ToString() => $"{ProcessName}({ProcessId}){(Reading ? " r" : string.Empty)}{(Writing ? " w" : string.Empty)}";
}

/// <summary>A FIFO on disk: an endpoint's inbox, or a pipe at an explicit path.</summary>
public sealed class GryphPipe
{
    private readonly IReadOnlyList<PipeHolder> _readers = TextList.Empty<PipeHolder>();
    private readonly IReadOnlyList<PipeHolder> _writers = TextList.Empty<PipeHolder>();

    public required string Name { get; init; }

    public required string Path { get; init; }

    /// <summary>Permission bits as an octal string, e.g. "0600".</summary>
    public required string Mode { get; init; }

    public required string Owner { get; init; }

    public required DateTime CreationTime { get; init; }

    /// <summary>True when the pipe is an endpoint inbox in the pipe directory.</summary>
    public required bool IsEndpoint { get; init; }

    public IReadOnlyList<PipeHolder> Readers { get => _readers; init => _readers = TextList.Of(value); }

    public IReadOnlyList<PipeHolder> Writers { get => _writers; init => _writers = TextList.Of(value); }

    public override string ToString() => Path;
}
