using System.Globalization;

namespace Gryphgen.Core.Gpu.Nvml;

/// <summary>
/// Reads every GPU through an initialised <see cref="INvmlApi"/>. Each field is asked for on its own:
/// NOT_SUPPORTED, NO_PERMISSION or any other failure makes that field null, GPU_IS_LOST makes the whole
/// device one lost row, and the other GPUs are read as usual.
/// </summary>
internal sealed class NvmlStatusReader(INvmlApi api, Func<int, string?> processName)
{
    private const uint TemperatureGpu = 0;   // NVML_TEMPERATURE_GPU
    private const uint ClockSm = 1;          // NVML_CLOCK_SM
    private const uint ClockMemory = 2;      // NVML_CLOCK_MEM
    private const uint MigEnabled = 1;       // NVML_DEVICE_MIG_ENABLE
    private const uint PstateUnknown = 32;   // NVML_PSTATE_UNKNOWN
    private const ulong ValueNotAvailable = ulong.MaxValue; // NVML_VALUE_NOT_AVAILABLE for usedGpuMemory
    private const int MaxBufferGrowths = 8;

    public IReadOnlyList<GpuStatus> Read(DateTime timestamp)
    {
        var rc = api.DeviceGetCount(out var count);
        if (rc != NvmlReturn.Success)
        {
            throw new InvalidOperationException($"NVML could not count the GPUs: {Describe(rc)}.");
        }

        var driver = api.SystemGetDriverVersion(out var driverVersion) == NvmlReturn.Success ? driverVersion : null;
        var cuda = api.SystemGetCudaDriverVersion(out var cudaVersion) == NvmlReturn.Success && cudaVersion > 0
            ? string.Create(CultureInfo.InvariantCulture, $"{cudaVersion / 1000}.{cudaVersion % 1000 / 10}")
            : null;
        var statuses = new List<GpuStatus>((int)count);
        for (uint i = 0; i < count; i++)
        {
            statuses.Add(ReadDevice((int)i, driver, cuda, timestamp));
        }

        return statuses;
    }

    private GpuStatus ReadDevice(int index, string? driver, string? cuda, DateTime timestamp)
    {
        var baseStatus = new GpuStatus
        {
            Index = index,
            Vendor = "NVIDIA",
            DriverVersion = driver,
            CudaVersion = cuda,
            Source = GpuSource.Nvml,
            Timestamp = timestamp,
        };
        string? uuid = null;
        try
        {
            var rc = api.DeviceGetHandleByIndex((uint)index, out var device);
            if (rc != NvmlReturn.Success)
            {
                ThrowIfLost(rc);
                return baseStatus with { Error = $"NVML could not open GPU {index}: {Describe(rc)}." };
            }

            uuid = Value(api.DeviceGetUuid(device, out var u), u);
            var memory = ReadMemory(device);
            var utilization = api.DeviceGetUtilizationRates(device, out var rates);
            ThrowIfLost(utilization);
            return baseStatus with
            {
                Name = Value(api.DeviceGetName(device, out var name), name),
                Uuid = uuid,
                MemoryTotal = memory.Total,
                MemoryUsed = memory.Used,
                MemoryFree = memory.Free,
                MemoryReserved = memory.Reserved,
                UtilizationGpu = utilization == NvmlReturn.Success ? (int)rates.Gpu : null,
                UtilizationMemory = utilization == NvmlReturn.Success ? (int)rates.Memory : null,
                TemperatureC = Int(api.DeviceGetTemperature(device, TemperatureGpu, out var temperature), temperature),
                PowerDrawW = Watts(api.DeviceGetPowerUsage(device, out var power), power),
                PowerLimitW = Watts(api.DeviceGetEnforcedPowerLimit(device, out var limit), limit),
                FanPercent = Int(api.DeviceGetFanSpeed(device, out var fan), fan),
                ClockSmMHz = Int(api.DeviceGetClockInfo(device, ClockSm, out var sm), sm),
                ClockMemoryMHz = Int(api.DeviceGetClockInfo(device, ClockMemory, out var mem), mem),
                PerformanceState = PerformanceState(device),
                Processes = ReadProcesses(device),
                MigDevices = ReadMigDevices(device),
            };
        }
        catch (NvmlGpuLostException lost)
        {
            return baseStatus with { Uuid = uuid, IsLost = true, Error = lost.Message };
        }
    }

    private (long? Total, long? Used, long? Free, long? Reserved) ReadMemory(nint device)
    {
        var v2 = new NvmlMemoryV2 { Version = NvmlMemoryV2.Version2 };
        var rc = api.DeviceGetMemoryInfoV2(device, ref v2);
        ThrowIfLost(rc);
        if (rc == NvmlReturn.Success)
        {
            return ((long)v2.Total, (long)v2.Used, (long)v2.Free, (long)v2.Reserved);
        }

        // Drivers before r510 lack the _v2 symbol or reject the version tag; v1 has no reserved figure.
        rc = api.DeviceGetMemoryInfo(device, out var v1);
        ThrowIfLost(rc);
        return rc == NvmlReturn.Success ? ((long)v1.Total, (long)v1.Used, (long)v1.Free, null) : (null, null, null, null);
    }

    private List<GpuProcess> ReadProcesses(nint device)
    {
        // _v3 (r510+), then _v2 (r470), then the original; each returns FUNCTION_NOT_FOUND where absent.
        var rc = Grow<NvmlProcessInfo>((ref uint c, NvmlProcessInfo[] b) => api.DeviceGetComputeRunningProcessesV3(device, ref c, b), out var infos);
        if (rc == NvmlReturn.FunctionNotFound)
        {
            rc = Grow<NvmlProcessInfo>((ref uint c, NvmlProcessInfo[] b) => api.DeviceGetComputeRunningProcessesV2(device, ref c, b), out infos);
        }

        if (rc == NvmlReturn.FunctionNotFound)
        {
            rc = Grow<NvmlProcessInfoV1>((ref uint c, NvmlProcessInfoV1[] b) => api.DeviceGetComputeRunningProcessesV1(device, ref c, b), out var v1);
            infos = v1.Select(p => new NvmlProcessInfo { Pid = p.Pid, UsedGpuMemory = p.UsedGpuMemory }).ToArray();
        }

        ThrowIfLost(rc);
        if (rc != NvmlReturn.Success)
        {
            return [];
        }

        return infos.Select(p => new GpuProcess
        {
            Pid = (int)p.Pid,
            Name = processName((int)p.Pid),
            UsedMemory = p.UsedGpuMemory == ValueNotAvailable ? null : (long)p.UsedGpuMemory,
            Type = "C",
        }).ToList();
    }

    private delegate NvmlReturn ProcessQuery<T>(ref uint count, T[] buffer);

    /// <summary>Calls a process query with a buffer that grows while NVML answers INSUFFICIENT_SIZE.</summary>
    private static NvmlReturn Grow<T>(ProcessQuery<T> query, out T[] result)
    {
        uint capacity = 16;
        for (var attempt = 0; attempt <= MaxBufferGrowths; attempt++)
        {
            var buffer = new T[capacity];
            var count = capacity;
            var rc = query(ref count, buffer);
            if (rc == NvmlReturn.Success)
            {
                result = buffer.AsSpan(0, (int)Math.Min(count, capacity)).ToArray();
                return rc;
            }

            if (rc != NvmlReturn.InsufficientSize)
            {
                result = [];
                return rc;
            }

            // NVML reports the count it needs; processes may start meanwhile, so leave headroom.
            capacity = Math.Max(count + 8, capacity * 2);
        }

        result = [];
        return NvmlReturn.InsufficientSize;
    }

    private List<GpuMigDevice> ReadMigDevices(nint device)
    {
        var rc = api.DeviceGetMigMode(device, out var current, out _);
        ThrowIfLost(rc);
        if (rc != NvmlReturn.Success || current != MigEnabled)
        {
            return [];
        }

        rc = api.DeviceGetMaxMigDeviceCount(device, out var max);
        ThrowIfLost(rc);
        var migs = new List<GpuMigDevice>();
        for (uint i = 0; rc == NvmlReturn.Success && i < max; i++)
        {
            var found = api.DeviceGetMigDeviceHandleByIndex(device, i, out var mig);
            ThrowIfLost(found);
            if (found != NvmlReturn.Success)
            {
                continue; // NOT_FOUND: an empty slot
            }

            var memory = ReadMemory(mig);
            migs.Add(new GpuMigDevice
            {
                Index = (int)i,
                Uuid = Value(api.DeviceGetUuid(mig, out var uuid), uuid),
                GpuInstanceId = Int(api.DeviceGetGpuInstanceId(mig, out var gi), gi),
                ComputeInstanceId = Int(api.DeviceGetComputeInstanceId(mig, out var ci), ci),
                MemoryTotal = memory.Total,
                MemoryUsed = memory.Used,
                MemoryFree = memory.Free,
                MemoryReserved = memory.Reserved,
            });
        }

        return migs;
    }

    private string? PerformanceState(nint device)
    {
        var state = Int(api.DeviceGetPerformanceState(device, out var p), p);
        return state is null or (int)PstateUnknown ? null : string.Create(CultureInfo.InvariantCulture, $"P{state}");
    }

    private static string? Value(NvmlReturn rc, string? value)
    {
        ThrowIfLost(rc);
        return rc == NvmlReturn.Success ? value : null;
    }

    private static int? Int(NvmlReturn rc, uint value)
    {
        ThrowIfLost(rc);
        return rc == NvmlReturn.Success ? (int)value : null;
    }

    private static double? Watts(NvmlReturn rc, uint milliwatts)
    {
        ThrowIfLost(rc);
        return rc == NvmlReturn.Success ? milliwatts / 1000.0 : null;
    }

    private static void ThrowIfLost(NvmlReturn rc)
    {
        if (rc == NvmlReturn.GpuIsLost)
        {
            throw new NvmlGpuLostException();
        }
    }

    internal static string Describe(NvmlReturn rc) => string.Create(CultureInfo.InvariantCulture, $"NVML_ERROR {(int)rc} ({rc})");
}
