namespace Gryphgen.Core.Tests.Fifo;

/// <summary>A 0700 temporary directory, removed with everything in it.</summary>
internal sealed class PrivateTempDirectory : IDisposable
{
    public PrivateTempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "gryph-test-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
