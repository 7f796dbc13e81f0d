using System.Management.Automation;
using System.Management.Automation.Runspaces;
using Gryphgen.Core.Agents;

namespace Gryphgen.PowerShell.Agents;

/// <summary>
/// Answers by running a script block in a runspace the agent owns (the agent runs off the pipeline thread, and
/// the caller's runspace may be busy or gone). The block is given ($message, $history): the GryphMessage being
/// answered and the conversation so far as ChatTurn objects, system prompt first. Its output, each object as a
/// string joined by newlines, is the reply; a terminating error is a BackendFailed error reply. Stopping the
/// agent stops the script (as Ctrl+C would).
/// </summary>
internal sealed class ScriptBlockChatBackend : IChatBackend
{
    private readonly string _script;
    private readonly Runspace _runspace;
    private readonly string _description;

    public ScriptBlockChatBackend(ScriptBlock scriptBlock, string? modulePath)
    {
        _script = scriptBlock.ToString();
        var state = InitialSessionState.CreateDefault2();
        if (modulePath is not null)
        {
            state.ImportPSModule(new[] { modulePath });
        }

        _runspace = RunspaceFactory.CreateRunspace(state);
        _runspace.Open();
        var firstLine = _script.Trim().Split('\n')[0].Trim();
        _description = "scriptblock:" + (firstLine.Length > 40 ? firstLine[..40] + "..." : firstLine);
    }

    public string Description => _description;

    public Task<ChatReply> CompleteAsync(IReadOnlyList<ChatTurn> history, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var last = history.Count > 0 ? history[^1] : new ChatTurn(ChatRole.User, string.Empty);
        object message = (object?)last.Message ?? last.Content;
        using var shell = System.Management.Automation.PowerShell.Create();
        shell.Runspace = _runspace;
        shell.AddScript(_script).AddArgument(message).AddArgument(history.ToArray());
        using var stop = cancellationToken.Register(() => shell.BeginStop(null, null));
        try
        {
            var output = shell.Invoke();
            cancellationToken.ThrowIfCancellationRequested();
            if (shell.HadErrors && output.Count == 0 && shell.Streams.Error.Count > 0)
            {
                throw new ChatBackendException(ChatErrorKind.BackendFailed, "The script block failed: " + shell.Streams.Error[0]);
            }

            var text = string.Join("\n", output.Where(o => o is not null).Select(o => o.BaseObject?.ToString() ?? string.Empty));
            return Task.FromResult(new ChatReply(text));
        }
        catch (PipelineStoppedException) when (cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException(cancellationToken);
        }
        catch (RuntimeException ex)
        {
            throw new ChatBackendException(ChatErrorKind.BackendFailed, "The script block failed: " + ex.Message, null, ex);
        }
    }

    public void Dispose() => _runspace.Dispose();

}
