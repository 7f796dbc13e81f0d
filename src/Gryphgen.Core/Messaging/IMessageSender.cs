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
}
