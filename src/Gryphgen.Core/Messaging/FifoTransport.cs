using Gryphgen.Core.Fifo;

namespace Gryphgen.Core.Messaging;

/// <summary>Endpoints as inbox FIFOs in this machine's private pipe directory: the default transport.</summary>
public sealed class FifoTransport : IMessageTransport
{
    public FifoTransport(string pipeDirectory, bool allowShared)
    {
        PipeDirectory = pipeDirectory;
        AllowShared = allowShared;
    }

    public string PipeDirectory { get; }

    public bool AllowShared { get; }

    public string Description => PipeDirectory;

    public string Locate(string endpoint) => Fifo.PipeDirectory.EndpointPath(PipeDirectory, endpoint);

    public bool EndpointExists(string endpoint) => UnixFileStatus.OfPath(Locate(endpoint)) is not null;

    public bool CreateEndpoint(string endpoint) =>
        FifoFile.Create(Locate(endpoint), FifoFile.DefaultMode, force: false, AllowShared) != FifoFile.Outcome.AlreadyExisted;

    public void RemoveEndpoint(string endpoint) => FifoFile.Remove(Locate(endpoint));

    public IMessageSender OpenSender(string endpoint, Deadline deadline, GryphLog log, CancellationToken token) =>
        GryphMessageSender.Open(Locate(endpoint), AllowShared, deadline, log, token);

    public IMessageReceiver OpenReceiver(string endpoint, long maxMessageBytes, GryphLog log, CancellationToken token) =>
        GryphMessageReceiver.Open(Locate(endpoint), endpoint, AllowShared, maxMessageBytes, log, token);
}
