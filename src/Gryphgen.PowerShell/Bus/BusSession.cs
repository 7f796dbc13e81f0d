using System.Management.Automation.Runspaces;
using System.Runtime.CompilerServices;
using Gryphgen.Core.Bus;

namespace Gryphgen.PowerShell.Bus;

/// <summary>
/// The bus connection of each PowerShell session (runspace), made by Connect-GryphBus and used by every endpoint
/// cmdlet until Disconnect-GryphBus. Keyed by runspace so two runspaces of one process keep separate connections.
/// </summary>
internal static class BusSession
{
    private static readonly ConditionalWeakTable<Runspace, Holder> Connections = new();

    public static GryphBus? Current
    {
        get => Runspace.DefaultRunspace is { } runspace && Connections.TryGetValue(runspace, out var holder) ? holder.Bus : null;
        set
        {
            var runspace = Runspace.DefaultRunspace ?? throw new InvalidOperationException("No runspace on this thread.");
            Connections.GetOrCreateValue(runspace).Bus = value;
        }
    }

    private sealed class Holder
    {
        public GryphBus? Bus { get; set; }
    }
}
