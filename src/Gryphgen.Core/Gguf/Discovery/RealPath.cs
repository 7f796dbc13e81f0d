using System.Runtime.InteropServices;
using Gryphgen.Core.Native;

namespace Gryphgen.Core.Gguf.Discovery;

/// <summary>
/// The canonical path of a file: every symlink in it resolved (libc realpath on Unix). Two paths to one file give
/// the same real path, which is how a model reached through several symlinks is listed once and how a symlink
/// loop is noticed.
/// </summary>
internal static class RealPath
{
    /// <summary>The real path, or null when it cannot be resolved (a dangling link, a link loop, no permission).</summary>
    public static string? Resolve(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            try
            {
                var info = new FileInfo(path);
                var target = info.LinkTarget is null ? info : info.ResolveLinkTarget(returnFinalTarget: true);
                return target is { Exists: true } || Directory.Exists(target?.FullName) ? Path.GetFullPath(target!.FullName) : null;
            }
            catch (IOException)
            {
                return null;
            }
            catch (UnauthorizedAccessException)
            {
                return null;
            }
        }

        var resolved = LibC.RealPath(path, 0);
        if (resolved == 0)
        {
            return null;
        }

        try
        {
            return Marshal.PtrToStringUTF8(resolved);
        }
        finally
        {
            LibC.Free(resolved);
        }
    }
}
