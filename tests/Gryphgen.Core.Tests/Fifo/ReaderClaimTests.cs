using System.Diagnostics;
using Gryphgen.Core.Fifo;
using Gryphgen.Core.Messaging;

namespace Gryphgen.Core.Tests.Fifo;

/// <summary>One receiver per pipe: a second would get pieces of the first one's frames, so it is refused by name.</summary>
[Collection(DescriptorCountingGroup.Name)]
public sealed class ReaderClaimTests : FifoTestBase
{
    [Fact]
    public void ASecondReceiver_IsRefusedAsReaderBusy_AndTheNextOneGetsInOnceTheFirstHasClosed()
    {
        var path = NewFifo();
        var first = OpenReceiver(path);

        var refused = Assert.Throws<GryphgenException>(() => OpenReceiver(path));
        Assert.Equal("GryphPipeReaderBusy", refused.ErrorId);
        Assert.Equal(GryphgenErrorKind.ResourceUnavailable, refused.Kind);
        Assert.Equal(path, refused.Target);
        Assert.Contains(path, refused.Message, StringComparison.Ordinal);
        Assert.Contains("another receiver in this process", refused.Message, StringComparison.Ordinal);

        // The first receiver still has the pipe to itself.
        using (var sender = OpenSender(path))
        {
            sender.Send(new GryphMessage { Id = GryphMessage.NewId(), From = "t", Timestamp = DateTime.UtcNow, Content = "still mine" }, Deadline.After(Patience));
        }

        Assert.Equal("still mine", first.Receive(Deadline.After(Patience)).Message!.Content);
        first.Dispose();
        using var next = OpenReceiver(path);
    }

    [Fact]
    public void AReaderInAnotherProcess_HoldingTheClaim_IsNamedInTheRefusal()
    {
        var path = NewFifo();

        // A peer that reads the pipe and claims it as the protocol describes: a read lock on byte 0 (a POSIX lock
        // from Python's lockf is seen just as another receiver's open-file-description lock would be).
        var start = new ProcessStartInfo("python3") { RedirectStandardOutput = true, RedirectStandardInput = true, UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("import fcntl, os, sys\nfd = os.open(sys.argv[1], os.O_RDONLY | os.O_NONBLOCK)\nfcntl.lockf(fd, fcntl.LOCK_SH | fcntl.LOCK_NB, 1, 0)\nprint('claimed', flush=True)\nsys.stdin.read()");
        start.ArgumentList.Add(path);
        using var peer = Process.Start(start)!;
        try
        {
            Assert.Equal("claimed", peer.StandardOutput.ReadLine());
            var refused = Assert.Throws<GryphgenException>(() => OpenReceiver(path));
            Assert.Equal("GryphPipeReaderBusy", refused.ErrorId);
            Assert.Contains($"({peer.Id})", refused.Message, StringComparison.Ordinal);
            Assert.Contains("python3", refused.Message, StringComparison.Ordinal);
        }
        finally
        {
            peer.StandardInput.Close();
            Assert.True(peer.WaitForExit(Patience));
        }

        using var receiver = OpenReceiver(path); // the claim went with the peer
    }

    [Fact]
    public void AReceiversClaim_IsNotTakenForASenderWaitingForTheWriterLock()
    {
        var path = NewFifo();
        using var receiver = OpenReceiver(path);
        using var writer = OpenWriter(path);
        writer.Lock(Deadline.After(Patience), CancellationToken.None);
        Assert.False(writer.OthersWaitingForLock());
        writer.Unlock();
    }
}
