using System.Globalization;

namespace Gryphgen.Core.Gpu;

/// <summary>
/// Alert levels for a sample: memory use in percent and temperature in Celsius. A reading strictly above its
/// threshold raises an alert, as monitor_gpu.pl's --alert-vram (95) and --alert-temp (85) did.
/// </summary>
public sealed record GpuAlertThresholds(double MemoryPercent = 95, double TemperatureC = 85)
{
    /// <summary>Returns <paramref name="status"/> with <see cref="GpuStatus.Alerts"/> listing what it crossed.</summary>
    public GpuStatus Apply(GpuStatus status)
    {
        ArgumentNullException.ThrowIfNull(status);
        var alerts = new List<string>();
        if (status.MemoryUsedPercent is { } memory && memory > MemoryPercent)
        {
            alerts.Add(string.Create(CultureInfo.InvariantCulture, $"Memory {memory:0.0}% > {MemoryPercent:0.#}%"));
        }

        if (status.TemperatureC is { } temperature && temperature > TemperatureC)
        {
            alerts.Add(string.Create(CultureInfo.InvariantCulture, $"Temperature {temperature} C > {TemperatureC:0.#} C"));
        }

        if (status.IsLost)
        {
            alerts.Add("GPU lost");
        }

        return status with { Alerts = alerts };
    }
}
