using Gryphgen.Core.Fifo;

namespace Gryphgen.Core.Messaging;

/// <summary>
/// Receives from one inbox. A durable inbox keeps a message until <see cref="Acknowledge"/> says it was handed on
/// (emitted to the pipeline, answered by an agent); a message received but never acknowledged is delivered again.
/// </summary>
public interface IMessageReceiver : IDisposable
{
    /// <summary>Where the messages come from: a FIFO path or a NATS subject.</summary>
    string Path { get; }

    /// <summary>The next message or bad frame, or a timeout result when nothing arrives before <paramref name="deadline"/>.</summary>
    ReceiveResult Receive(Deadline deadline);

    /// <summary>The next message as plain text, with no envelope expected.</summary>
    ReceiveResult ReceiveRaw(Deadline deadline);

    /// <summary>Says <paramref name="message"/> has been handed on, so the inbox may forget it. A no-op where nothing is kept.</summary>
    void Acknowledge(GryphMessage message);
}
