namespace Gryphgen.Tests;

/// <summary>
/// Locates ../shared/testdata beside the repository. Outside this workplace the folder may be absent and the
/// tests that need it skip with a message; under CI=true its absence is a failure, never a silent skip.
/// </summary>
internal static class SharedTestData
{
    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    public static string Folder(string name)
    {
        var path = Path.GetFullPath(Path.Combine(RepositoryRoot, "..", "shared", "testdata", name));
        if (Directory.Exists(path))
        {
            return path;
        }

        if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
        {
            throw new DirectoryNotFoundException($"CI=true but the shared test data folder '{path}' is missing.");
        }

        Skip.If(true, $"Shared test data '{path}' is absent (outside the Gryphgen workplace); skipping.");
        return path;
    }

    private static string FindRepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Gryphgen.PowerShell.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("Cannot find Gryphgen.PowerShell.sln above the test binaries.");
    }
}
