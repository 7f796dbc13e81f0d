using System.Management.Automation;
using System.Management.Automation.Runspaces;

namespace Gryphgen.PowerShell.Tests;

/// <summary>
/// A runspace with the Gryphgen cmdlets loaded straight from the assembly under test, so a test can run a
/// pipeline in-process and inspect the objects, errors, warnings and progress it produced.
/// </summary>
internal sealed class PowerShellHost : IDisposable
{
    private readonly Runspace _runspace;

    public PowerShellHost()
    {
        var state = InitialSessionState.CreateDefault2();
        state.ImportPSModule(typeof(Commands.GryphCmdlet).Assembly.Location);
        _runspace = RunspaceFactory.CreateRunspace(state);
        _runspace.Open();
    }

    public System.Management.Automation.PowerShell Create()
    {
        var shell = System.Management.Automation.PowerShell.Create();
        shell.Runspace = _runspace;
        return shell;
    }

    /// <summary>Runs a script and returns its output; errors stay in the returned shell's streams.</summary>
    public (IReadOnlyList<PSObject> Output, System.Management.Automation.PowerShell Shell) Run(string script)
    {
        var shell = Create();
        shell.AddScript(script);
        var output = shell.Invoke();
        return (output, shell);
    }

    public void Dispose() => _runspace.Dispose();
}
