namespace Gryphgen.Core.Tests.Fifo;

internal static class OpenDescriptors
{
    /// <summary>How many descriptors this process holds, from /proc/self/fd.</summary>
    public static int Count() => Directory.GetFileSystemEntries("/proc/self/fd").Length;
}
