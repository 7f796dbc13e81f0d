namespace Gryphgen.Core.Tests.Gpu;

/// <summary>
/// The GPU tool outputs: real ones from ../shared/testdata/gpu (skipped outside the workplace), and the few
/// shapes with no public sample, written here from the documented formats (see Fixtures/README.md).
/// </summary>
internal static class GpuFixtures
{
    public const long MiB = 1024L * 1024L;

    public static readonly DateTime Timestamp = new(2026, 11, 27, 4, 0, 0, DateTimeKind.Utc);

    /// <summary>A real, verbatim tool output from the shared test data.</summary>
    public static string Shared(string name) => File.ReadAllText(Path.Combine(SharedTestData.Folder("gpu"), name));

    /// <summary>A fixture MADE HERE (not a real capture): tests/Gryphgen.Core.Tests/Gpu/Fixtures.</summary>
    public static string MadeHere(string name) =>
        File.ReadAllText(Path.Combine(SharedTestData.RepositoryRoot, "tests", "Gryphgen.Core.Tests", "Gpu", "Fixtures", name));
}
