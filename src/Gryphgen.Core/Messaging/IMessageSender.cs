using Gryphgen.Core.Fifo;

namespace Gryphgen.Core.Messaging;

/// <summary>Sends messages to one endpoint or pipe through one open channel: no reopening per message.</summary>
public interface IMessageSender : IDisposable
{
    /// <summary>Where the messages go: a FIFO path or a NATS subject.</summary>
    string Path { get; }

    /// <summary>Sends one message with its envelope; returns its size on the wire in bytes.</summary>
    int Send(GryphMessage message, Deadline deadline);

    /// <summary>Sends text with no envelope, for peers that speak plain lines.</summary>
    void SendRaw(string content, Deadline deadline);

    /// <summary>
    /// Sends one message as part of a stream: it may still be on its way when this returns, and <see cref="Flush"/>
    /// says when all of them have arrived. A transport that can overlap messages (back-to-back frames under one
    /// lock, publishes awaiting their confirmations together) does so; the others send at once.
    /// </summary>
    int Queue(GryphMessage message, Deadline deadline) => Send(message, deadline);

    /// <summary>As <see cref="Queue"/>, for text with no envelope.</summary>
    void QueueRaw(string content, Deadline deadline) => SendRaw(content, deadline);

    /// <summary>Returns when every queued message has been sent (and, where the transport confirms, confirmed).</summary>
    void Flush(Deadline deadline)
    {
    }
}
