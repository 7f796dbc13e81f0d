using System.Collections.Concurrent;

namespace Gryphgen.Core.Agents;

/// <summary>The agents running in this process, by endpoint name: what Get-GryphAgent lists and Stop-GryphAgent stops.</summary>
public static class AgentRegistry
{
    private static readonly ConcurrentDictionary<string, GryphAgent> Agents = new(StringComparer.Ordinal);

    public static IReadOnlyList<GryphAgent> All => Agents.Values.OrderBy(a => a.Name, StringComparer.Ordinal).ToArray();

    public static bool TryGet(string name, out GryphAgent? agent) => Agents.TryGetValue(name, out agent);

    /// <summary>Claims <paramref name="name"/> before the agent starts, so two Start calls cannot serve one inbox.</summary>
    public static bool TryAdd(GryphAgent agent) => Agents.TryAdd(agent.Name, agent);

    public static bool IsRunning(string name) => Agents.ContainsKey(name);

    public static void Remove(GryphAgent agent) => Agents.TryRemove(new KeyValuePair<string, GryphAgent>(agent.Name, agent));
}
