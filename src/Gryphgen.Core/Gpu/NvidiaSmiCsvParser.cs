using System.Text.RegularExpressions;

namespace Gryphgen.Core.Gpu;

/// <summary>
/// Reads nvidia-smi's <c>--query-gpu</c> and <c>--query-compute-apps</c> CSV, with or without the header line
/// and with or without units. Columns are found by name (the header, or the field list asked for when the
/// output has no header), so any field order and any extra fields work.
/// </summary>
internal static partial class NvidiaSmiCsvParser
{
    /// <summary>The fields Gryphgen asks nvidia-smi for, in order.</summary>
    public static readonly IReadOnlyList<string> QueryGpuFields =
    [
        "index", "name", "uuid", "memory.total", "memory.used", "memory.free", "memory.reserved",
        "utilization.gpu", "utilization.memory", "temperature.gpu", "power.draw", "power.limit", "fan.speed",
        "clocks.sm", "clocks.mem", "pstate", "driver_version",
    ];

    /// <summary>The compute-apps fields Gryphgen asks for; process_name may contain commas.</summary>
    public static readonly IReadOnlyList<string> QueryComputeAppsFields = ["gpu_uuid", "pid", "process_name", "used_gpu_memory"];

    /// <summary>Parses <c>--query-gpu</c> output into one status per line.</summary>
    /// <param name="text">The tool's standard output.</param>
    /// <param name="fieldsWithoutHeader">The fields asked for; used only when the output has no header line.</param>
    /// <param name="timestamp">The sample time to stamp on every GPU.</param>
    public static IReadOnlyList<GpuStatus> ParseQueryGpu(string text, IReadOnlyList<string>? fieldsWithoutHeader, DateTime timestamp)
    {
        var statuses = new List<GpuStatus>();
        foreach (var row in Rows(text, fieldsWithoutHeader ?? QueryGpuFields, "name"))
        {
            var position = statuses.Count;
            var total = GpuValueParser.Bytes(row.Get("memory.total"));
            var used = GpuValueParser.Bytes(row.Get("memory.used"));
            var free = GpuValueParser.Bytes(row.Get("memory.free"));
            statuses.Add(new GpuStatus
            {
                Index = GpuValueParser.Integer(row.Get("index")) ?? position,
                Name = GpuValueParser.Text(row.Get("name")),
                Uuid = GpuValueParser.Text(row.Get("uuid")),
                Vendor = "NVIDIA",
                PciBusId = GpuValueParser.Text(row.Get("pci.bus_id")),
                MemoryTotal = total,
                MemoryUsed = used,
                MemoryFree = free,
                MemoryReserved = GpuValueParser.Bytes(row.Get("memory.reserved")),
                UtilizationGpu = GpuValueParser.Integer(row.Get("utilization.gpu")),
                UtilizationMemory = GpuValueParser.Integer(row.Get("utilization.memory")),
                TemperatureC = GpuValueParser.Integer(row.Get("temperature.gpu")),
                PowerDrawW = GpuValueParser.Number(row.Get("power.draw")),
                PowerLimitW = GpuValueParser.Number(row.Get("power.limit")) ?? GpuValueParser.Number(row.Get("enforced.power.limit")),
                FanPercent = GpuValueParser.Integer(row.Get("fan.speed")),
                ClockSmMHz = GpuValueParser.Integer(row.Get("clocks.current.sm")),
                ClockMemoryMHz = GpuValueParser.Integer(row.Get("clocks.current.memory")),
                PerformanceState = GpuValueParser.Text(row.Get("pstate")),
                DriverVersion = GpuValueParser.Text(row.Get("driver_version")),
                Source = GpuSource.NvidiaSmi,
                Timestamp = timestamp,
            });
        }

        return statuses;
    }

    /// <summary>Parses <c>--query-compute-apps</c> output into (GPU UUID, process) pairs.</summary>
    public static IReadOnlyList<(string? GpuUuid, GpuProcess Process)> ParseComputeApps(string text, IReadOnlyList<string>? fieldsWithoutHeader)
    {
        var processes = new List<(string?, GpuProcess)>();
        foreach (var row in Rows(text, fieldsWithoutHeader ?? QueryComputeAppsFields, "process_name"))
        {
            var pid = GpuValueParser.Integer(row.Get("pid"));
            processes.Add((GpuValueParser.Text(row.Get("uuid")), new GpuProcess
            {
                Pid = pid ?? 0,
                Name = GpuValueParser.Text(row.Get("process_name")),
                UsedMemory = GpuValueParser.Bytes(row.Get("used_gpu_memory")),
            }));
        }

        return processes;
    }

    /// <summary>nvidia-smi's canonical name for a field: the header drops units and resolves aliases.</summary>
    internal static string Canonical(string field)
    {
        var name = UnitSuffix().Replace(field.Trim(), string.Empty).Trim().ToLowerInvariant();
        return name switch
        {
            "gpu_name" => "name",
            "gpu_uuid" => "uuid",
            "gpu_bus_id" => "pci.bus_id",
            "clocks.sm" => "clocks.current.sm",
            "clocks.mem" or "clocks.memory" => "clocks.current.memory",
            "clocks.gr" or "clocks.graphics" => "clocks.current.graphics",
            "used_memory" => "used_gpu_memory",
            _ => name,
        };
    }

    private static IEnumerable<CsvRow> Rows(string text, IReadOnlyList<string> fieldsWithoutHeader, string absorbingField)
    {
        var lines = text.Split('\n')
            .Select(line => line.TrimEnd('\r'))
            .Where(line => line.Trim().Length > 0)
            .ToList();
        if (lines.Count == 0)
        {
            yield break;
        }

        List<string> columns;
        var first = 0;
        var headerFields = CsvLine.Split(lines[0]);
        var expected = fieldsWithoutHeader.Select(Canonical).ToList();
        if (headerFields.All(f => HeaderField().IsMatch(f.Trim()))
            && headerFields.Select(Canonical).Any(f => f.Contains('.', StringComparison.Ordinal) || expected.Contains(f)))
        {
            columns = headerFields.Select(Canonical).ToList();
            first = 1;
        }
        else
        {
            columns = expected;
        }

        // process_name answers to "name" too in compute-apps output; prefer the exact column.
        var absorbing = IndexOf(columns, Canonical(absorbingField));
        var map = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < columns.Count; i++)
        {
            map.TryAdd(columns[i], i);
        }

        for (var i = first; i < lines.Count; i++)
        {
            var split = CsvLine.Split(lines[i]);
            if (split.Count < columns.Count)
            {
                // nvidia-smi answers every field asked for, N/A included: a short line is not the CSV asked for
                // (its XML log, an error text), and reading it would make empty GPUs out of every line.
                throw new FormatException($"line {i + 1} has {split.Count} of the {columns.Count} fields asked for: '{ToolOutput.FirstLine(lines[i])}'");
            }

            yield return new CsvRow(map, CsvLine.Fit(split, columns.Count, absorbing));
        }
    }

    private static int IndexOf(List<string> columns, string name)
    {
        for (var i = 0; i < columns.Count; i++)
        {
            if (columns[i] == name)
            {
                return i;
            }
        }

        return -1;
    }

    // A header field: a dotted name (a few have capitals: pci.baseClass), optionally with a unit ("memory.used [MiB]").
    // A header also has at least one dotted or expected name, so a data row of single words is not taken for one.
    [GeneratedRegex(@"^[A-Za-z][A-Za-z0-9_.]*( \[[^\]]*\])?$", RegexOptions.CultureInvariant)]
    private static partial Regex HeaderField();

    [GeneratedRegex(@"\s*\[[^\]]*\]\s*$", RegexOptions.CultureInvariant)]
    private static partial Regex UnitSuffix();

    private readonly struct CsvRow(Dictionary<string, int> map, IReadOnlyList<string> fields)
    {
        public string? Get(string column) =>
            map.TryGetValue(column, out var i) && i < fields.Count ? fields[i] : null;
    }
}
