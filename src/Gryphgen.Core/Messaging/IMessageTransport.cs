using Gryphgen.Core.Fifo;

namespace Gryphgen.Core.Messaging;

/// <summary>
/// Where endpoints live: the private FIFO directory of this machine (<see cref="FifoTransport"/>) or a NATS bus
/// (<see cref="Bus.BusTransport"/>). The envelope, ids, ReplyTo and limits are the same on both, so the cmdlets,
/// agents and chats are written once against this seam.
/// </summary>
public interface IMessageTransport
{
    /// <summary>A short description for logs and errors: the pipe directory or the bus namespace; never a secret.</summary>
    string Description { get; }

    /// <summary>Where the endpoint's inbox is, for messages: a FIFO path or a NATS subject.</summary>
    string Locate(string endpoint);

    bool EndpointExists(string endpoint);

    /// <summary>Creates the endpoint's inbox if it is missing; true when it was created now.</summary>
    bool CreateEndpoint(string endpoint);

    void RemoveEndpoint(string endpoint);

    /// <summary>Opens a sender to <paramref name="endpoint"/>, waiting until <paramref name="deadline"/> where the transport has to wait (a FIFO with no reader).</summary>
    IMessageSender OpenSender(string endpoint, Deadline deadline, GryphLog log, CancellationToken token);

    /// <summary>Opens the endpoint's inbox for receiving.</summary>
    IMessageReceiver OpenReceiver(string endpoint, long maxMessageBytes, GryphLog log, CancellationToken token);
}
