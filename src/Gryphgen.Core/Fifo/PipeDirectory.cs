using System.Globalization;
using System.Text.RegularExpressions;

namespace Gryphgen.Core.Fifo;

/// <summary>
/// The private directory that holds endpoint inboxes: $GRYPHGEN_PIPE_DIR, else $XDG_RUNTIME_DIR/gryphgen,
/// else /tmp/gryphgen-&lt;uid&gt;. It is created 0700 and must belong to this user, so no one else can plant,
/// replace or read a pipe in it.
/// </summary>
public static partial class PipeDirectory
{
    public const string EnvironmentVariable = "GRYPHGEN_PIPE_DIR";

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")]
    private static partial Regex EndpointNamePattern();

    /// <summary>The directory path, from the environment, without creating anything.</summary>
    public static string Resolve(Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        var explicitDirectory = environment(EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(explicitDirectory))
        {
            return Path.GetFullPath(explicitDirectory);
        }

        var runtime = environment("XDG_RUNTIME_DIR");
        if (!string.IsNullOrWhiteSpace(runtime) && Directory.Exists(runtime))
        {
            return Path.Combine(Path.GetFullPath(runtime), "gryphgen");
        }

        return "/tmp/gryphgen-" + FifoAccess.CurrentUserId.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>Creates the directory 0700 if missing, then checks it is a real directory that only we control.</summary>
    public static string Ensure(string directory, bool allowShared)
    {
        var status = UnixFileStatus.OfPath(directory);
        if (OperatingSystem.IsWindows())
        {
            throw UnixOnly.NotSupported();
        }

        if (status is null)
        {
            Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            status = UnixFileStatus.OfPath(directory);
        }

        if (status is { IsSymbolicLink: true } && !allowShared)
        {
            throw new GryphgenException("GryphPipeDirectoryIsSymlink", GryphgenErrorKind.PermissionDenied,
                $"The pipe directory '{directory}' is a symbolic link; someone may have planted it. Remove it or set ${EnvironmentVariable}.", directory);
        }

        if (status is { IsDirectory: true } && !allowShared &&
            (status.Value.OwnerId != FifoAccess.CurrentUserId || (status.Value.Permissions & 0x3F) != 0))
        {
            throw new GryphgenException("GryphPipeDirectoryShared", GryphgenErrorKind.PermissionDenied,
                $"The pipe directory '{directory}' belongs to {UserNames.Describe(status.Value.OwnerId)} with mode {Convert.ToString(status.Value.Permissions, 8)}; it must be yours and 0700. Fix it, or use -AllowShared.", directory);
        }

        FifoAccess.VerifyDirectory(directory, allowShared);
        return directory;
    }

    public static bool IsValidEndpointName(string name) => EndpointNamePattern().IsMatch(name);

    /// <summary>Throws GryphEndpointNameInvalid unless <paramref name="name"/> is a valid endpoint name (on every transport).</summary>
    public static void ValidateEndpointName(string name)
    {
        if (!IsValidEndpointName(name))
        {
            throw new GryphgenException("GryphEndpointNameInvalid", GryphgenErrorKind.InvalidArgument,
                $"'{name}' is not a valid endpoint name: use letters, digits, '.', '_' and '-', starting with a letter or digit.", name);
        }
    }

    /// <summary>The inbox path of an endpoint, after checking its name cannot escape the directory.</summary>
    public static string EndpointPath(string directory, string name)
    {
        ValidateEndpointName(name);
        return Path.Combine(directory, name);
    }
}
