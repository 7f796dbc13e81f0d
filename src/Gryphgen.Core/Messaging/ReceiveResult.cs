namespace Gryphgen.Core.Messaging;

/// <summary>What one receive produced: a message, a bad frame (the reader has already moved past it), or nothing before the deadline.</summary>
public readonly record struct ReceiveResult(GryphMessage? Message, GryphgenException? Error)
{
    public static ReceiveResult TimedOut => default;

    public bool IsTimeout => Message is null && Error is null;
}
