using System.Collections.Concurrent;

namespace Gryphgen.Core.Bus;

/// <summary>The bridges running in this process, by endpoint name.</summary>
public static class BridgeRegistry
{
    private static readonly ConcurrentDictionary<string, GryphBridge> Bridges = new(StringComparer.Ordinal);

    public static IReadOnlyList<GryphBridge> All => Bridges.Values.OrderBy(b => b.Name, StringComparer.Ordinal).ToArray();

    public static bool TryAdd(GryphBridge bridge) => Bridges.TryAdd(bridge.Name, bridge);

    public static bool IsRunning(string name) => Bridges.ContainsKey(name);

    public static void Remove(GryphBridge bridge) => Bridges.TryRemove(new KeyValuePair<string, GryphBridge>(bridge.Name, bridge));
}
