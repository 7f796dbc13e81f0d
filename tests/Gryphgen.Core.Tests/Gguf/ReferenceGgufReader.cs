using System.Diagnostics;
using System.Text.Json;

namespace Gryphgen.Core.Tests.Gguf;

/// <summary>
/// Runs tools/gguf-reference/gguf-dump.mjs, @huggingface/gguf under node: a GGUF reader no one here wrote. Installs
/// it with `npm ci` from the committed lock file the first time. Without node or npm the test is skipped, except
/// under CI=true where that is a failure.
/// </summary>
internal static class ReferenceGgufReader
{
    private static readonly Lock InstallLock = new();

    public static string Folder => Path.Combine(SharedTestData.RepositoryRoot, "tools", "gguf-reference");

    public static JsonDocument Dump(IEnumerable<string> files)
    {
        EnsureInstalled();
        var output = Run("node", [Path.Combine(Folder, "gguf-dump.mjs"), .. files], TimeSpan.FromSeconds(120));
        return JsonDocument.Parse(output);
    }

    public static void EnsureInstalled()
    {
        lock (InstallLock)
        {
            if (Directory.Exists(Path.Combine(Folder, "node_modules", "@huggingface", "gguf")))
            {
                return;
            }

            Run("npm", ["ci", "--no-audit", "--no-fund", "--prefer-offline"], TimeSpan.FromSeconds(180));
        }
    }

    private static string Run(string program, string[] arguments, TimeSpan timeout)
    {
        var psi = new ProcessStartInfo(program)
        {
            WorkingDirectory = Folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in arguments)
        {
            psi.ArgumentList.Add(a);
        }

        Process process;
        try
        {
            process = Process.Start(psi)!;
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            Unavailable($"'{program}' cannot be started ({ex.Message}); the differential test needs node 20 and npm.");
            throw;
        }

        using (process)
        {
            var stderr = process.StandardError.ReadToEndAsync();
            var stdout = process.StandardOutput.ReadToEndAsync();
            if (!process.WaitForExit(timeout))
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"'{program} {string.Join(' ', arguments)}' ran past {timeout}.");
            }

            if (process.ExitCode != 0)
            {
                var message = $"'{program} {string.Join(' ', arguments)}' exited {process.ExitCode}: {stderr.Result}";
                if (program == "npm")
                {
                    Unavailable(message + " (is the npm registry reachable?)");
                }

                throw new InvalidOperationException(message);
            }

            return stdout.Result;
        }
    }

    private static void Unavailable(string reason)
    {
        if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException("CI=true: " + reason);
        }

        Skip.If(true, reason);
    }
}
