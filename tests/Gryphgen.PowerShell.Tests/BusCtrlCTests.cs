using System.Management.Automation;

namespace Gryphgen.PowerShell.Tests;

/// <summary>
/// Ctrl+C (PowerShell.Stop, which is what the console's Ctrl+C calls) on a bus receiver feeding a script block: a
/// message the script block did not finish with is not acknowledged, so the bus delivers it again. Each stop lands
/// while the script block handles a message, where PowerShell stops the script block before it tells the receiver.
/// </summary>
public sealed class BusCtrlCTests : IDisposable
{
    private const int Messages = 40;
    private readonly PowerShellHost _host = new();
    private NatsTestServer? _server;

    public void Dispose()
    {
        _host.Run("Disconnect-GryphBus");
        _host.Dispose();
        _server?.Dispose();
    }

    [SkippableFact]
    public void CtrlC_WhileAScriptBlockHandlesAMessage_LosesNoMessage()
    {
        _server = NatsTestServer.Start();
        _host.Run($"Connect-GryphBus -Url '{_server.Url}' -Namespace c{Guid.NewGuid().ToString("N")[..8]}; New-GryphPipe -Name inbox | Out-Null; " +
                  $"1..{Messages} | ForEach-Object {{ \"m$_\" }} | Send-GryphMessage -To inbox");

        // What the script block finished with, and a signal for each message it started on.
        var handled = new System.Collections.Concurrent.ConcurrentBag<string>();
        using var started = new SemaphoreSlim(0);
        for (var trial = 0; trial < 12 && handled.Distinct().Count() < Messages; trial++)
        {
            using var shell = _host.Create();
            shell.Runspace.SessionStateProxy.SetVariable("handled", handled);
            shell.Runspace.SessionStateProxy.SetVariable("started", started);
            shell.AddScript("Receive-GryphMessage -Name inbox -Continuous | ForEach-Object { [void]$started.Release(); Start-Sleep -Milliseconds 300; $handled.Add($_.Content) }");
            var run = shell.BeginInvoke();

            // Let it finish (trial % 3) messages, then stop it inside the handling of the next one.
            for (var i = 0; i <= trial % 3; i++)
            {
                Assert.True(started.Wait(TimeSpan.FromSeconds(20)), "the receiver emitted nothing");
            }

            shell.Stop();
            try
            {
                shell.EndInvoke(run);
            }
            catch (PipelineStoppedException)
            {
            }

            while (started.CurrentCount > 0)
            {
                started.Wait(0);
            }
        }

        // Whatever is left on the bus, drained without stopping.
        var (rest, _) = _host.Run("(Receive-GryphMessage -Name inbox -Continuous -TimeoutSeconds 3).Content");
        var seen = handled.Concat(rest.Select(o => o.ToString())).ToHashSet(StringComparer.Ordinal);
        var missing = Enumerable.Range(1, Messages).Select(i => $"m{i}").Where(m => !seen.Contains(m)).ToList();
        Assert.True(missing.Count == 0, $"lost (acknowledged but never handled): {string.Join(", ", missing)}");
    }
}
