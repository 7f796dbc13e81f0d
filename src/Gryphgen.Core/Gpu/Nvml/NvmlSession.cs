namespace Gryphgen.Core.Gpu.Nvml;

/// <summary>
/// One nvmlInit_v2 ... nvmlShutdown span. Opened once per call, or once for a whole continuous run, so a
/// two-second monitor does not pay NVML's start-up (hundreds of milliseconds without persistence mode) per sample.
/// </summary>
internal sealed class NvmlSession : IDisposable
{
    private readonly INvmlApi _api;
    private readonly IDisposable? _library;
    private readonly NvmlStatusReader _reader;
    private bool _disposed;

    private NvmlSession(INvmlApi api, IDisposable? library, Func<int, string?> processName)
    {
        _api = api;
        _library = library;
        _reader = new NvmlStatusReader(api, processName);
    }

    /// <summary>
    /// Initialises NVML through <paramref name="api"/>; returns null (and a reason) when the driver is not
    /// usable. <paramref name="library"/> is disposed with the session, or at once on failure.
    /// </summary>
    public static NvmlSession? Open(INvmlApi api, IDisposable? library, Func<int, string?> processName, out string? failure)
    {
        var rc = api.Init();
        if (rc != NvmlReturn.Success)
        {
            failure = $"nvmlInit_v2 failed: {NvmlStatusReader.Describe(rc)}";
            library?.Dispose();
            return null;
        }

        failure = null;
        return new NvmlSession(api, library, processName);
    }

    public IReadOnlyList<GpuStatus> Read(DateTime timestamp)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _reader.Read(timestamp);
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _api.Shutdown();
        _library?.Dispose();
    }
}
