using System.Globalization;
using System.Text.Json;

namespace Gryphgen.Core.Gpu;

/// <summary>
/// Reads <c>rocm-smi --json</c>: an object of <c>cardN</c> objects (plus a <c>system</c> object with the driver
/// version) whose values are all strings, with memory in bytes (<c>VRAM Total Memory (B)</c>). Key names vary
/// between ROCm releases (<c>Card series</c>/<c>Card Series</c>, <c>GPU memory use (%)</c>/
/// <c>GPU Memory Read/Write Activity (%)</c>), so each reading tries the names seen in real outputs.
/// </summary>
internal static class RocmSmiJsonParser
{
    public static IReadOnlyList<GpuStatus> Parse(string json, DateTime timestamp)
    {
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new FormatException("rocm-smi printed JSON that is not an object of cards.");
        }

        string? driver = null;
        if (root.TryGetProperty("system", out var system) && system.ValueKind == JsonValueKind.Object)
        {
            driver = Get(system, "Driver version");
        }

        var statuses = new List<GpuStatus>();
        foreach (var card in root.EnumerateObject())
        {
            if (!card.Name.StartsWith("card", StringComparison.OrdinalIgnoreCase) || card.Value.ValueKind != JsonValueKind.Object)
            {
                continue;
            }

            var index = int.TryParse(card.Name.AsSpan(4), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : statuses.Count;
            statuses.Add(ParseCard(card.Value, index, driver, timestamp));
        }

        return statuses;
    }

    private static GpuStatus ParseCard(JsonElement card, int index, string? driver, DateTime timestamp)
    {
        var total = GpuValueParser.Bytes(Get(card, "VRAM Total Memory (B)"), "B");
        var used = GpuValueParser.Bytes(Get(card, "VRAM Total Used Memory (B)"), "B");
        return new GpuStatus
        {
            Index = index,
            Name = Name(card),
            Uuid = GpuValueParser.Text(Get(card, "Unique ID")),
            Vendor = "AMD",
            PciBusId = GpuValueParser.Text(Get(card, "PCI Bus")),
            MemoryTotal = total,
            MemoryUsed = used,
            MemoryFree = total - used,
            UtilizationGpu = GpuValueParser.Integer(Get(card, "GPU use (%)")),
            UtilizationMemory = GpuValueParser.Integer(Get(card, "GPU memory use (%)") ?? Get(card, "GPU Memory Read/Write Activity (%)")),
            TemperatureC = GpuValueParser.Integer(Get(card, "Temperature (Sensor edge) (C)") ?? Get(card, "Temperature (Sensor junction) (C)")),
            PowerDrawW = GpuValueParser.Number(Get(card, "Average Graphics Package Power (W)") ?? Get(card, "Current Socket Graphics Package Power (W)")),
            PowerLimitW = GpuValueParser.Number(Get(card, "Max Graphics Package Power (W)")),
            FanPercent = GpuValueParser.Integer(Get(card, "Fan speed (%)")),
            ClockSmMHz = GpuValueParser.Integer(Get(card, "sclk clock speed:")),
            ClockMemoryMHz = GpuValueParser.Integer(Get(card, "mclk clock speed:")),
            PerformanceState = GpuValueParser.Text(Get(card, "Performance Level")),
            DriverVersion = driver,
            Source = GpuSource.RocmSmi,
            Timestamp = timestamp,
        };
    }

    // rocm-smi 4.x printed PCI ids ("0x1002") under "Card series"; a real name wins over those.
    private static string? Name(JsonElement card)
    {
        foreach (var key in new[] { "Card Series", "Card series", "Device Name", "Card model", "Card Model" })
        {
            var value = GpuValueParser.Text(Get(card, key));
            if (value is not null && !value.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
            {
                return value;
            }
        }

        return null;
    }

    private static string? Get(JsonElement obj, string key) =>
        obj.TryGetProperty(key, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
