using Gryphgen.Core.Agents;
using Gryphgen.Core.Fifo;
using Gryphgen.Core.Messaging;
using Gryphgen.Core.Tests.Fifo;

namespace Gryphgen.Core.Tests.Agents;

/// <summary>A private pipe directory with one client endpoint that sends requests to agents and reads their replies.</summary>
internal sealed class AgentClient : IDisposable
{
    public const string ClientName = "client";
    private readonly PrivateTempDirectory _directory = new();
    private readonly GryphMessageReceiver _inbox;

    public AgentClient()
    {
        FifoFile.Create(Path.Combine(Directory, ClientName), FifoFile.DefaultMode, false, false);
        _inbox = GryphMessageReceiver.Open(Path.Combine(Directory, ClientName), ClientName, false, FrameFormat.DefaultMaxMessageBytes, GryphLog.None, CancellationToken.None);
    }

    public string Directory => _directory.Path;

    public string CreateEndpoint(string name)
    {
        var path = Path.Combine(Directory, name);
        FifoFile.Create(path, FifoFile.DefaultMode, false, false);
        return path;
    }

    public AgentOptions Options(string name, string? systemPrompt = null, int maxHistory = 20) => new()
    {
        Name = name,
        PipeDirectory = Directory,
        SystemPrompt = systemPrompt,
        MaxHistoryMessages = maxHistory,
        LogPath = Path.Combine(Directory, name + ".agent.log"),
    };

    public GryphMessage Send(string to, string content)
    {
        var message = new GryphMessage { Id = GryphMessage.NewId(), From = ClientName, To = to, Timestamp = DateTime.UtcNow, Content = content };
        using var sender = GryphMessageSender.Open(Path.Combine(Directory, to), false, Deadline.After(TimeSpan.FromSeconds(10)), GryphLog.None, CancellationToken.None);
        sender.Send(message, Deadline.After(TimeSpan.FromSeconds(10)));
        return message;
    }

    public GryphMessage Receive(double seconds = 30)
    {
        var result = _inbox.Receive(Deadline.After(TimeSpan.FromSeconds(seconds)));
        Assert.False(result.IsTimeout, "no reply arrived");
        Assert.Null(result.Error);
        return result.Message!;
    }

    public void Dispose()
    {
        _inbox.Dispose();
        _directory.Dispose();
    }
}

/// <summary>Backends scripted by the tests.</summary>
internal sealed class ScriptedBackend(Func<IReadOnlyList<ChatTurn>, CancellationToken, Task<ChatReply>> answer) : IChatBackend
{
    public List<IReadOnlyList<ChatTurn>> Calls { get; } = [];

    public bool Disposed { get; private set; }

    public string Description => "scripted";

    public Task<ChatReply> CompleteAsync(IReadOnlyList<ChatTurn> history, CancellationToken cancellationToken)
    {
        lock (Calls)
        {
            Calls.Add(history.ToArray());
        }

        return answer(history, cancellationToken);
    }

    public void Dispose() => Disposed = true;
}
