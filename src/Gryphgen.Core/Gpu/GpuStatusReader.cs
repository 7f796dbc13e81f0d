using System.Text.Json;
using System.Xml;
using Gryphgen.Core.Gpu.Nvml;

namespace Gryphgen.Core.Gpu;

/// <summary>
/// Reads the GPUs of this machine. <see cref="Open(GpuSource)"/> picks a backend once (Auto: NVML, then
/// nvidia-smi, then amd-smi, then rocm-smi) and keeps it, and NVML initialised, until disposed; each
/// <see cref="Query(CancellationToken)"/> is then one sample of every GPU.
/// </summary>
/// <example><code>
/// using var gpus = GpuStatusReader.Open(GpuSource.Auto);
/// long free = gpus.Query(ct).Sum(g => g.MemoryFree ?? 0);
/// </code></example>
public sealed class GpuStatusReader : IDisposable
{
    // The GPUs read while probing serve as the first sample if it is asked for promptly.
    private static readonly TimeSpan FirstSampleReuse = TimeSpan.FromSeconds(1);

    private readonly IGpuBackend _backend;
    private IReadOnlyList<GpuStatus>? _firstSample;
    private bool _disposed;

    internal GpuStatusReader(IGpuBackend backend, IReadOnlyList<GpuStatus>? firstSample = null)
    {
        _backend = backend;
        _firstSample = firstSample;
    }

    /// <summary>The backend in use (never Auto).</summary>
    public GpuSource Source => _backend.Source;

    /// <summary>
    /// What the last sample could not read though it still listed the GPUs: nvidia-smi's XML log failing leaves
    /// CudaVersion null and MigDevices empty, and says so here.
    /// </summary>
    public IReadOnlyList<string> Warnings => _backend.Warnings;

    /// <summary>Opens the first backend that lists at least one GPU.</summary>
    /// <exception cref="GpuNotFoundException">No backend answered; the message lists what was tried.</exception>
    public static GpuStatusReader Open(GpuSource source = GpuSource.Auto, CancellationToken cancellationToken = default) =>
        Open(source, GpuProbe.Default, cancellationToken);

    /// <summary>Reads every GPU once with a backend picked for this call, then releases it.</summary>
    /// <exception cref="GpuNotFoundException">No backend answered.</exception>
    public static IReadOnlyList<GpuStatus> Query(GpuSource source, CancellationToken cancellationToken = default)
    {
        using var reader = Open(source, cancellationToken);
        return reader.Query(cancellationToken);
    }

    /// <summary>One sample of every GPU.</summary>
    /// <exception cref="GpuToolException">The tool failed, timed out or printed what cannot be read, for this sample.</exception>
    public IReadOnlyList<GpuStatus> Query(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        cancellationToken.ThrowIfCancellationRequested();
        var first = _firstSample;
        _firstSample = null;
        if (first is { Count: > 0 } && DateTime.UtcNow - first[0].Timestamp.ToUniversalTime() < FirstSampleReuse)
        {
            return first;
        }

        try
        {
            return _backend.Query(cancellationToken);
        }
        catch (Exception ex) when (ex is FormatException or JsonException or XmlException or InvalidOperationException)
        {
            // One unreadable sample (a tool printing garbage, NVML failing to count) is a sample error, not a crash.
            throw new GpuToolException($"{Source} gave a sample that could not be read: {ex.Message}", ex);
        }
    }

    internal static GpuStatusReader Open(GpuSource source, GpuProbe probe, CancellationToken cancellationToken)
    {
        GpuSource[] order = source == GpuSource.Auto
            ? [GpuSource.Nvml, GpuSource.NvidiaSmi, GpuSource.AmdSmi, GpuSource.RocmSmi]
            : [source];
        var tried = new List<string>();
        foreach (var candidate in order)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var opened = candidate == GpuSource.Nvml ? TryNvml(probe, tried) : TryTool(candidate, probe, tried, cancellationToken);
            if (opened is { } found)
            {
                return new GpuStatusReader(found.Backend, found.First);
            }
        }

        throw new GpuNotFoundException(tried);
    }

    private static (IGpuBackend Backend, IReadOnlyList<GpuStatus> First)? TryNvml(GpuProbe probe, List<string> tried)
    {
        var paths = new List<string>();
        if (probe.LoadNvml(probe.NvmlLibraries, paths) is not { } loaded)
        {
            tried.Add($"NVML ({string.Join(", ", paths)}: not found)");
            return null;
        }

        var session = NvmlSession.Open(loaded.Api, loaded.Library, probe.ProcessName, out var failure);
        if (session is null)
        {
            tried.Add($"NVML ({paths.LastOrDefault()}: {failure})");
            return null;
        }

        try
        {
            var first = session.Read(DateTime.UtcNow);
            if (first.Count > 0)
            {
                return (new NvmlBackend(session), first);
            }

            tried.Add($"NVML ({paths.LastOrDefault()}: the driver lists no GPU)");
        }
        catch (InvalidOperationException ex)
        {
            tried.Add($"NVML ({paths.LastOrDefault()}: {ex.Message})");
        }

        session.Dispose();
        return null;
    }

    private static (IGpuBackend Backend, IReadOnlyList<GpuStatus> First)? TryTool(GpuSource source, GpuProbe probe, List<string> tried, CancellationToken cancellationToken)
    {
        var name = source switch
        {
            GpuSource.NvidiaSmi => "nvidia-smi",
            GpuSource.AmdSmi => "amd-smi",
            GpuSource.RocmSmi => "rocm-smi",
            _ => throw new ArgumentOutOfRangeException(nameof(source), source, "Not a tool backend."),
        };
        var path = probe.Tools.Find(name);
        if (path is null)
        {
            tried.Add($"{name} (not on PATH)");
            return null;
        }

        IGpuBackend backend = source switch
        {
            GpuSource.NvidiaSmi => new NvidiaSmiBackend(probe.Tools, path, probe.ToolTimeout),
            GpuSource.AmdSmi => new AmdSmiBackend(probe.Tools, path, probe.ToolTimeout),
            _ => new RocmSmiBackend(probe.Tools, path, probe.ToolTimeout),
        };
        try
        {
            var first = backend.Query(cancellationToken);
            if (first.Count > 0)
            {
                return (backend, first);
            }

            tried.Add($"{name} ({path}: lists no GPU)");
        }
        catch (Exception ex) when (ex is GpuToolException or FormatException or JsonException or XmlException)
        {
            tried.Add($"{name} ({path}: {ex.Message})");
        }

        backend.Dispose();
        return null;
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _backend.Dispose();
    }
}
