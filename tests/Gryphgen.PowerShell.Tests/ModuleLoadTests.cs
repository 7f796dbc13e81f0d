namespace Gryphgen.PowerShell.Tests;

public sealed class ModuleLoadTests
{
    [Fact]
    public void Runspace_ImportsTheCmdletAssembly()
    {
        using var host = new PowerShellHost();
        var (output, shell) = host.Run("Get-Command -Module Gryphgen.PowerShell | Measure-Object | ForEach-Object Count");
        Assert.False(shell.HadErrors);
        Assert.Equal(
            typeof(Commands.GryphCmdlet).Assembly.GetTypes().Count(t => t.IsDefined(typeof(System.Management.Automation.CmdletAttribute), false)),
            (int)output.Single().BaseObject);
    }
}
