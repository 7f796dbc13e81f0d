using System.Management.Automation;
using Gryphgen.Core.Gpu;

namespace Gryphgen.PowerShell.Commands;

/// <summary>
/// Get-GpuStatus: one <see cref="GpuStatus"/> per GPU, once or as a stream of timed samples. All reading is in
/// <see cref="GpuStatusReader"/>; this cmdlet binds parameters, paces samples, raises alerts as warnings and
/// writes objects as soon as each sample is taken.
/// </summary>
[Cmdlet(VerbsCommon.Get, "GpuStatus", DefaultParameterSetName = OnceSet)]
[OutputType(typeof(GpuStatus))]
public sealed class GetGpuStatusCommand : GryphCmdlet
{
    private const string OnceSet = "Once";
    private const string ContinuousSet = "Continuous";

    /// <summary>Only the GPUs with these indexes.</summary>
    [Parameter(Position = 0)]
    [ValidateRange(0, int.MaxValue)]
    public int[]? Index { get; set; }

    /// <summary>Only the GPUs with these UUIDs.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? Uuid { get; set; }

    /// <summary>Keep sampling until Ctrl+C (or -Count samples).</summary>
    [Parameter(Mandatory = true, ParameterSetName = ContinuousSet)]
    public SwitchParameter Continuous { get; set; }

    /// <summary>Seconds between the starts of two samples.</summary>
    [Parameter(ParameterSetName = ContinuousSet)]
    [ValidateRange(0.05, 86400.0)]
    public double IntervalSeconds { get; set; } = 2;

    /// <summary>Stop after this many samples.</summary>
    [Parameter(ParameterSetName = ContinuousSet)]
    [ValidateRange(1, int.MaxValue)]
    public int Count { get; set; }

    /// <summary>Warn when memory use is above this percentage.</summary>
    [Parameter]
    [ValidateRange(0.0, 100.0)]
    public double AlertMemoryPercent { get; set; } = 95;

    /// <summary>Warn when the GPU is hotter than this, in degrees Celsius.</summary>
    [Parameter]
    [ValidateRange(-50.0, 200.0)]
    public double AlertTemperature { get; set; } = 85;

    /// <summary>Which backend to use; Auto tries NVML, nvidia-smi, amd-smi, rocm-smi in turn.</summary>
    [Parameter]
    public GpuSource Source { get; set; } = GpuSource.Auto;

    protected override void ProcessRecord()
    {
        GpuStatusReader reader;
        try
        {
            reader = GpuStatusReader.Open(Source, CancellationToken);
        }
        catch (GpuNotFoundException ex)
        {
            var record = new ErrorRecord(ex, "GpuNotFound", ErrorCategory.ObjectNotFound, Source)
            {
                ErrorDetails = new ErrorDetails(ex.Message)
                {
                    RecommendedAction = "Install the NVIDIA driver (which provides NVML and nvidia-smi) or ROCm (amd-smi), or pick another -Source.",
                },
            };
            WriteError(record);
            return;
        }
        catch (OperationCanceledException)
        {
            return;
        }

        using (reader)
        {
            Sample(reader);
        }
    }

    private void Sample(GpuStatusReader reader)
    {
        var filter = new GpuStatusFilter(Index, Uuid);
        var thresholds = new GpuAlertThresholds(AlertMemoryPercent, AlertTemperature);
        var clock = Continuous ? new GpuSampleClock(TimeSpan.FromSeconds(IntervalSeconds)) : null;
        long samples = !Continuous ? 1 : MyInvocation.BoundParameters.ContainsKey(nameof(Count)) ? Count : long.MaxValue;
        for (long n = 0; n < samples; n++)
        {
            if (n > 0 && !clock!.WaitForNext(CancellationToken))
            {
                return;
            }

            IReadOnlyList<GpuStatus> sample;
            try
            {
                sample = reader.Query(CancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (GpuToolException ex)
            {
                // One failed sample (a tool timing out) is not the end of a monitoring run.
                WriteItemError(ex, "GpuQueryFailed", ErrorCategory.ReadError, reader.Source);
                continue;
            }

            foreach (var warning in reader.Warnings)
            {
                WriteWarning(warning);
            }

            if (n == 0)
            {
                ReportMissingGpus(sample);
            }

            foreach (var status in sample.Where(filter.Matches).Select(thresholds.Apply))
            {
                foreach (var alert in status.Alerts)
                {
                    WriteWarning($"GPU {status.Index} ({status.Name ?? status.Uuid ?? "unnamed"}): {alert}");
                }

                WriteObject(status);
            }
        }
    }

    private void ReportMissingGpus(IReadOnlyList<GpuStatus> sample)
    {
        var there = sample.Count == 0 ? "none is listed" : "the indexes here are " + string.Join(", ", sample.Select(s => s.Index).Order());
        foreach (var index in Index ?? [])
        {
            if (!sample.Any(s => s.Index == index))
            {
                WriteItemError(new ItemNotFoundException($"There is no GPU with index {index}; {there}."), "GpuIndexNotFound", ErrorCategory.ObjectNotFound, index);
            }
        }

        foreach (var uuid in Uuid ?? [])
        {
            if (!sample.Any(s => string.Equals(s.Uuid, uuid, StringComparison.OrdinalIgnoreCase)))
            {
                WriteItemError(new ItemNotFoundException($"There is no GPU with UUID {uuid}."), "GpuUuidNotFound", ErrorCategory.ObjectNotFound, uuid);
            }
        }
    }
}
