namespace Gryphgen.Core.Gguf.Discovery;

/// <summary>Kinds of scan errors; the cmdlet maps each to the PowerShell ErrorCategory of the same name.</summary>
public enum GgufErrorCategory
{
    InvalidData,
    ObjectNotFound,
    PermissionDenied,
    ReadError,
}

/// <summary>One thing the scan could not read: a file, a directory or a split model. The scan goes on.</summary>
public sealed record GgufScanError(string Path, string ErrorId, GgufErrorCategory Category, Exception Exception)
{
    public string Message => Exception.Message;
}

/// <summary>Either a model or an error, in the order the scan met them.</summary>
public sealed class GgufScanResult
{
    private GgufScanResult(GgufModel? model, GgufScanError? error)
    {
        Model = model;
        Error = error;
    }

    public GgufModel? Model { get; }

    public GgufScanError? Error { get; }

    public static GgufScanResult Of(GgufModel model) => new(model, null);

    public static GgufScanResult Of(GgufScanError error) => new(null, error);
}

/// <summary>How far a scan has got, for progress bars.</summary>
public sealed record GgufScanProgress(string Activity, string CurrentPath, int DirectoriesScanned, int FilesExamined, int ModelsFound);

/// <summary>What to search and what to keep.</summary>
public sealed class GgufFinderOptions
{
    /// <summary>Folder levels below each root to descend into; 0 = the root's own files. Null = no limit (capped at 64).</summary>
    public int? Depth { get; init; }

    /// <summary>Keep models of at least this many bytes (all shards together).</summary>
    public long? MinSize { get; init; }

    public long? MaxSize { get; init; }

    /// <summary>Keep models written at or after this time.</summary>
    public DateTime? ModifiedAfter { get; init; }

    /// <summary>Called now and then while scanning (on the scanning thread).</summary>
    public Action<GgufScanProgress>? Progress { get; init; }
}
