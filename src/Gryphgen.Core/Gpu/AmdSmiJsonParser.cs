using System.Globalization;
using System.Text.Json;

namespace Gryphgen.Core.Gpu;

/// <summary>
/// Reads <c>amd-smi metric --json</c>. Older amd-smi prints a top-level array of GPUs; newer releases wrap it
/// as <c>{"gpu_data": [...]}</c>. Readings are <c>{"value": n, "unit": "MB"}</c> leaves, or the string
/// <c>"N/A"</c>; memory is in MB, which amd-smi computes as bytes / 1024 / 1024 (so MiB).
/// </summary>
internal static class AmdSmiJsonParser
{
    public static IReadOnlyList<GpuStatus> Parse(string json, DateTime timestamp)
    {
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        var gpus = root.ValueKind switch
        {
            JsonValueKind.Array => root,
            JsonValueKind.Object when root.TryGetProperty("gpu_data", out var data) && data.ValueKind == JsonValueKind.Array => data,
            _ => throw new FormatException("amd-smi printed JSON that is neither an array of GPUs nor {\"gpu_data\": [...]}."),
        };

        var statuses = new List<GpuStatus>();
        foreach (var gpu in gpus.EnumerateArray())
        {
            statuses.Add(ParseGpu(gpu, statuses.Count, timestamp));
        }

        return statuses;
    }

    private static GpuStatus ParseGpu(JsonElement gpu, int position, DateTime timestamp)
    {
        var memory = Child(gpu, "mem_usage");
        var total = MemoryBytes(Child(memory, "total_vram"));
        var used = MemoryBytes(Child(memory, "used_vram"));
        var free = MemoryBytes(Child(memory, "free_vram")) ?? (total - used);
        var temperature = Child(gpu, "temperature");
        var power = Child(gpu, "power");
        var clock = Child(gpu, "clock");
        return new GpuStatus
        {
            Index = Integer(Child(gpu, "gpu")) ?? position,
            Vendor = "AMD",
            MemoryTotal = total,
            MemoryUsed = used,
            MemoryFree = free,
            UtilizationGpu = Integer(Child(Child(gpu, "usage"), "gfx_activity")),
            UtilizationMemory = Integer(Child(Child(gpu, "usage"), "umc_activity")),
            TemperatureC = Integer(Child(temperature, "edge")) ?? Integer(Child(temperature, "hotspot")),
            PowerDrawW = Number(Child(power, "socket_power")) ?? Number(Child(power, "average_socket_power")),
            PowerLimitW = Number(Child(power, "power_limit")),
            FanPercent = Integer(Child(Child(gpu, "fan"), "usage")),
            ClockSmMHz = Integer(Child(Child(clock, "gfx_0"), "clk")),
            ClockMemoryMHz = Integer(Child(Child(clock, "mem_0"), "clk")),
            PerformanceState = PerformanceLevel(Child(gpu, "perf_level")),
            Source = GpuSource.AmdSmi,
            Timestamp = timestamp,
        };
    }

    private static JsonElement? Child(JsonElement? parent, string name) =>
        parent is { ValueKind: JsonValueKind.Object } p && p.TryGetProperty(name, out var child) ? child : null;

    /// <summary>A reading: a bare number, a numeric string, or a {"value","unit"} leaf; "N/A" is null.</summary>
    private static double? Number(JsonElement? element)
    {
        if (element is not { } e)
        {
            return null;
        }

        return e.ValueKind switch
        {
            JsonValueKind.Number => e.GetDouble(),
            JsonValueKind.String => GpuValueParser.Number(e.GetString()),
            JsonValueKind.Object => Number(Child(e, "value")),
            _ => null,
        };
    }

    private static int? Integer(JsonElement? element) =>
        Number(element) is { } value ? (int)Math.Round(value, MidpointRounding.AwayFromZero) : null;

    private static long? MemoryBytes(JsonElement? element)
    {
        if (Number(element) is not { } value)
        {
            return null;
        }

        var unit = Child(element, "unit") is { ValueKind: JsonValueKind.String } u ? u.GetString() ?? "MB" : "MB";
        return GpuValueParser.UnitFactor(unit) is { } factor ? (long)Math.Round(value * factor) : null;
    }

    // "AMDSMI_DEV_PERF_LEVEL_AUTO" reads better as "auto", the word rocm-smi prints for the same setting.
    private static string? PerformanceLevel(JsonElement? element)
    {
        var text = element is { ValueKind: JsonValueKind.String } e ? GpuValueParser.Text(e.GetString()) : null;
        const string prefix = "AMDSMI_DEV_PERF_LEVEL_";
        if (text is not null && text.StartsWith(prefix, StringComparison.Ordinal))
        {
            text = text[prefix.Length..].ToLower(CultureInfo.InvariantCulture);
        }

        return text;
    }
}
