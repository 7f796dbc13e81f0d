using Gryphgen.Core.Fifo;
using Gryphgen.Core.Messaging;

namespace Gryphgen.Core.Tests.Fifo;

/// <summary>What the FIFO tests share: a private directory for their pipes, and the usual ways to open one.</summary>
public abstract class FifoTestBase : IDisposable
{
    protected static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private protected PrivateTempDirectory Dir { get; } = new();

    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
        if (disposing)
        {
            Dir.Dispose();
        }
    }

    /// <summary>A new 0600 FIFO named <paramref name="name"/> in the test's directory.</summary>
    protected string NewFifo(string name = "inbox")
    {
        var path = Dir.File(name);
        FifoFile.Create(path, FifoFile.DefaultMode, force: false, allowShared: false);
        return path;
    }

    protected static GryphMessageReceiver OpenReceiver(string path, long max = FrameFormat.DefaultMaxMessageBytes) =>
        GryphMessageReceiver.Open(path, "inbox", false, max, GryphLog.None, CancellationToken.None);

    protected static GryphMessageSender OpenSender(string path) =>
        GryphMessageSender.Open(path, false, Deadline.After(Patience), GryphLog.None, CancellationToken.None);

    protected static FifoWriter OpenWriter(string path) =>
        FifoWriter.Open(path, allowShared: false, Deadline.After(Patience), CancellationToken.None);
}
