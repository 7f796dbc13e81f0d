using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using Gryphgen.Core.Agents;
using Gryphgen.Core.Fifo;

namespace Gryphgen.PowerShell.Completion;

/// <summary>Tab completion of the names this session and machine know, quoted where they need it.</summary>
internal static class Completions
{
    public static IEnumerable<CompletionResult> Matching(IEnumerable<string> names, string? wordToComplete, string what)
    {
        var word = (wordToComplete ?? "").Trim('\'', '"');
        return names.Distinct(StringComparer.Ordinal)
            .Where(n => n.StartsWith(word, StringComparison.OrdinalIgnoreCase))
            .Order(StringComparer.OrdinalIgnoreCase)
            .Select(n => new CompletionResult(n.Any(c => char.IsWhiteSpace(c) || c is '\'' or '"' or '$' or '`') ? "'" + n.Replace("'", "''", StringComparison.Ordinal) + "'" : n, n, CompletionResultType.ParameterValue, $"{n} ({what})"));
    }

    /// <summary>The endpoints (FIFOs) in the pipe directory; none when it does not exist or cannot be read.</summary>
    public static IEnumerable<string> Endpoints()
    {
        var directory = PipeDirectory.Resolve();
        try
        {
            return Directory.Exists(directory)
                ? Directory.EnumerateFileSystemEntries(directory).Where(p => UnixFileStatus.OfPath(p) is { IsFifo: true }).Select(p => Path.GetFileName(p)).ToArray()
                : [];
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    public static IEnumerable<string> Agents() => AgentRegistry.All.Select(a => a.Name);
}

/// <summary>Endpoint names for -To, -Name and the like: the pipes in the pipe directory and the running agents' endpoints.</summary>
public sealed class EndpointNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters) =>
        Completions.Matching(Completions.Endpoints().Concat(Completions.Agents()), wordToComplete, "endpoint");
}

/// <summary>Names of the agents running in this session, for Get-/Stop-GryphAgent and Invoke-GryphChat.</summary>
public sealed class AgentNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters) =>
        Completions.Matching(Completions.Agents(), wordToComplete, "agent");
}

/// <summary>Architectures for Find-GgufModel -Architecture: those it has seen in this session, then the common ones.</summary>
public sealed class ArchitectureCompleter : IArgumentCompleter
{
    private static readonly string[] Common =
    [
        "llama", "qwen2", "qwen3", "qwen3moe", "qwen35", "qwen35moe", "qwen3next", "gemma3", "gemma4", "gpt-oss", "deepseek2",
        "glm4moe", "mistral3", "llama4", "phi3", "granitehybrid", "nemotron_h", "lfm2", "minimax-m2", "clip",
    ];

    private static readonly HashSet<string> Seen = new(StringComparer.Ordinal);

    /// <summary>Remembers an architecture Find-GgufModel emitted.</summary>
    public static void Saw(string? architecture)
    {
        if (architecture is { Length: > 0 })
        {
            lock (Seen)
            {
                Seen.Add(architecture);
            }
        }
    }

    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        string[] seen;
        lock (Seen)
        {
            seen = Seen.ToArray();
        }

        return Completions.Matching(seen.Concat(Common), wordToComplete, seen.Length > 0 ? "architecture" : "common architecture");
    }
}
