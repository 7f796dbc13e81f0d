using System.Xml;
using System.Xml.Linq;

namespace Gryphgen.Core.Gpu;

/// <summary>
/// Reads <c>nvidia-smi -q -x</c>. Handles the layouts drivers have used: power under <c>power_readings</c>
/// (older) or <c>gpu_power_readings</c> (535+, where <c>power_draw</c> may be N/A next to
/// <c>instant_power_draw</c>, and the limit is <c>current_power_limit</c>), MIG devices with their own memory,
/// Windows captures whose processes have N/A memory, and padded values such as <c> 40 % </c>.
/// </summary>
internal static class NvidiaSmiXmlParser
{
    public static IReadOnlyList<GpuStatus> Parse(string xml, DateTime timestamp) => ParseLog(xml, timestamp).Gpus;

    /// <summary>The GPUs, and the CUDA version the driver supports (given once for the machine).</summary>
    public static (string? CudaVersion, IReadOnlyList<GpuStatus> Gpus) ParseLog(string xml, DateTime timestamp)
    {
        // The DTD named in the DOCTYPE is never fetched.
        var settings = new XmlReaderSettings { DtdProcessing = DtdProcessing.Ignore, XmlResolver = null };
        using var reader = XmlReader.Create(new StringReader(xml), settings);
        var root = XDocument.Load(reader).Root ?? throw new FormatException("nvidia-smi -q -x printed no XML root.");
        var driver = GpuValueParser.Text(root.Element("driver_version")?.Value);
        var cuda = GpuValueParser.Text(root.Element("cuda_version")?.Value);
        var statuses = new List<GpuStatus>();
        foreach (var gpu in root.Elements("gpu"))
        {
            statuses.Add(ParseGpu(gpu, statuses.Count, driver, cuda, timestamp));
        }

        return (cuda, statuses);
    }

    private static GpuStatus ParseGpu(XElement gpu, int index, string? driver, string? cuda, DateTime timestamp)
    {
        var fb = gpu.Element("fb_memory_usage");
        var power = gpu.Element("gpu_power_readings") ?? gpu.Element("power_readings");
        var clocks = gpu.Element("clocks");
        var utilization = gpu.Element("utilization");
        return new GpuStatus
        {
            Index = index,
            Name = GpuValueParser.Text(gpu.Element("product_name")?.Value),
            Uuid = GpuValueParser.Text(gpu.Element("uuid")?.Value),
            Vendor = "NVIDIA",
            PciBusId = GpuValueParser.Text(gpu.Attribute("id")?.Value),
            MemoryTotal = Bytes(fb, "total"),
            MemoryUsed = Bytes(fb, "used"),
            MemoryFree = Bytes(fb, "free"),
            MemoryReserved = Bytes(fb, "reserved"),
            UtilizationGpu = GpuValueParser.Integer(utilization?.Element("gpu_util")?.Value),
            UtilizationMemory = GpuValueParser.Integer(utilization?.Element("memory_util")?.Value),
            TemperatureC = GpuValueParser.Integer(gpu.Element("temperature")?.Element("gpu_temp")?.Value),
            PowerDrawW = FirstNumber(power, "power_draw", "instant_power_draw", "average_power_draw"),
            PowerLimitW = FirstNumber(power, "enforced_power_limit", "current_power_limit", "power_limit"),
            FanPercent = GpuValueParser.Integer(gpu.Element("fan_speed")?.Value),
            ClockSmMHz = GpuValueParser.Integer(clocks?.Element("sm_clock")?.Value),
            ClockMemoryMHz = GpuValueParser.Integer(clocks?.Element("mem_clock")?.Value),
            PerformanceState = GpuValueParser.Text(gpu.Element("performance_state")?.Value),
            DriverVersion = driver,
            CudaVersion = cuda,
            Processes = gpu.Element("processes")?.Elements("process_info").Select(ParseProcess).ToList() ?? [],
            MigDevices = gpu.Element("mig_devices")?.Elements("mig_device").Select(ParseMigDevice).ToList() ?? [],
            Source = GpuSource.NvidiaSmi,
            Timestamp = timestamp,
        };
    }

    private static GpuProcess ParseProcess(XElement process) => new()
    {
        Pid = GpuValueParser.Integer(process.Element("pid")?.Value) ?? 0,
        Name = GpuValueParser.Text(process.Element("process_name")?.Value),
        UsedMemory = GpuValueParser.Bytes(process.Element("used_memory")?.Value),
        Type = GpuValueParser.Text(process.Element("type")?.Value),
    };

    private static GpuMigDevice ParseMigDevice(XElement mig, int position)
    {
        var fb = mig.Element("fb_memory_usage");
        return new GpuMigDevice
        {
            Index = GpuValueParser.Integer(mig.Element("index")?.Value) ?? position,
            GpuInstanceId = GpuValueParser.Integer(mig.Element("gpu_instance_id")?.Value),
            ComputeInstanceId = GpuValueParser.Integer(mig.Element("compute_instance_id")?.Value),
            MemoryTotal = Bytes(fb, "total"),
            MemoryUsed = Bytes(fb, "used"),
            MemoryFree = Bytes(fb, "free"),
            MemoryReserved = Bytes(fb, "reserved"),
        };
    }

    private static long? Bytes(XElement? parent, string name) => GpuValueParser.Bytes(parent?.Element(name)?.Value);

    // The first of the named readings that holds a number: power_draw is N/A on 580+ where instant_power_draw is not.
    private static double? FirstNumber(XElement? parent, params string[] names)
    {
        foreach (var name in names)
        {
            if (GpuValueParser.Number(parent?.Element(name)?.Value) is { } value)
            {
                return value;
            }
        }

        return null;
    }
}
