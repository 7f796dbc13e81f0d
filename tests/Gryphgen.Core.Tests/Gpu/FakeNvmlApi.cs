using Gryphgen.Core.Gpu.Nvml;

namespace Gryphgen.Core.Tests.Gpu;

/// <summary>One simulated GPU (or MIG slice) behind <see cref="FakeNvmlApi"/>.</summary>
internal sealed class FakeNvmlDevice
{
    public string Name { get; init; } = "NVIDIA Fake GPU";
    public string Uuid { get; init; } = "GPU-fake";
    public ulong Total { get; init; } = 24UL << 30;
    public ulong Used { get; init; } = 4UL << 30;
    public ulong Reserved { get; init; } = 300UL << 20;
    public ulong Free => Total - Used - Reserved;
    public uint UtilGpu { get; init; } = 55;
    public uint UtilMemory { get; init; } = 22;
    public uint Temperature { get; init; } = 61;
    public uint PowerMilliwatts { get; init; } = 123_456;
    public uint PowerLimitMilliwatts { get; init; } = 350_000;
    public uint Fan { get; init; } = 40;
    public uint ClockSm { get; init; } = 1800;
    public uint ClockMemory { get; init; } = 9500;
    public uint Pstate { get; init; } = 2;
    public uint GpuInstanceId { get; init; }
    public uint ComputeInstanceId { get; init; }
    public List<(uint Pid, ulong Used)> Processes { get; init; } = [];

    /// <summary>What a named method answers instead of success (e.g. "Temperature" → NotSupported).</summary>
    public Dictionary<string, NvmlReturn> Failures { get; init; } = [];

    /// <summary>MIG slices; null slots answer NOT_FOUND. Non-empty means MIG is enabled.</summary>
    public List<FakeNvmlDevice?> Migs { get; init; } = [];
}

/// <summary>
/// A stand-in for the NVML function table: each method answers like the C function, and a missing symbol of
/// an older driver answers FUNCTION_NOT_FOUND exactly as <see cref="NvmlNativeApi"/> does.
/// </summary>
internal sealed class FakeNvmlApi : INvmlApi
{
    private readonly Dictionary<nint, FakeNvmlDevice> _handles = [];

    public FakeNvmlApi(params FakeNvmlDevice[] devices)
    {
        Devices = devices;
        for (var i = 0; i < devices.Length; i++)
        {
            _handles[100 + i] = devices[i];
            for (var m = 0; m < devices[i].Migs.Count; m++)
            {
                if (devices[i].Migs[m] is { } mig)
                {
                    _handles[1000 + (i * 10) + m] = mig;
                }
            }
        }
    }

    public IReadOnlyList<FakeNvmlDevice> Devices { get; }
    public NvmlReturn InitResult { get; init; } = NvmlReturn.Success;
    public bool HasMemoryInfoV2 { get; init; } = true;
    public bool HasProcessesV3 { get; init; } = true;
    public bool HasProcessesV2 { get; init; } = true;
    public string DriverVersion { get; init; } = "580.95.05";
    public int CudaVersion { get; init; } = 13000;
    public int InitCalls { get; private set; }
    public int ShutdownCalls { get; private set; }

    /// <summary>Every call made, by C symbol name, in order.</summary>
    public List<string> Calls { get; } = [];

    public NvmlReturn Init()
    {
        InitCalls++;
        return InitResult;
    }

    public NvmlReturn Shutdown()
    {
        ShutdownCalls++;
        return NvmlReturn.Success;
    }

    public NvmlReturn DeviceGetCount(out uint count)
    {
        count = (uint)Devices.Count;
        return NvmlReturn.Success;
    }

    public NvmlReturn DeviceGetHandleByIndex(uint index, out nint device)
    {
        device = 100 + (nint)index;
        return Fail(Devices[(int)index], "Handle") ?? NvmlReturn.Success;
    }

    public NvmlReturn DeviceGetMemoryInfoV2(nint device, ref NvmlMemoryV2 memory)
    {
        Calls.Add("nvmlDeviceGetMemoryInfo_v2");
        if (!HasMemoryInfoV2)
        {
            return NvmlReturn.FunctionNotFound;
        }

        if (memory.Version != 0x02000028)
        {
            return NvmlReturn.ArgumentVersionMismatch;
        }

        var d = _handles[device];
        memory.Total = d.Total;
        memory.Used = d.Used;
        memory.Free = d.Free;
        memory.Reserved = d.Reserved;
        return Fail(d, "Memory") ?? NvmlReturn.Success;
    }

    public NvmlReturn DeviceGetMemoryInfo(nint device, out NvmlMemoryV1 memory)
    {
        Calls.Add("nvmlDeviceGetMemoryInfo");
        var d = _handles[device];

        // v1 counts the reserved memory as used.
        memory = new NvmlMemoryV1 { Total = d.Total, Used = d.Used + d.Reserved, Free = d.Free };
        return Fail(d, "Memory") ?? NvmlReturn.Success;
    }

    public NvmlReturn DeviceGetComputeRunningProcessesV3(nint device, ref uint count, NvmlProcessInfo[]? infos)
    {
        Calls.Add("nvmlDeviceGetComputeRunningProcesses_v3");
        return HasProcessesV3 ? Processes(device, ref count, infos) : NvmlReturn.FunctionNotFound;
    }

    public NvmlReturn DeviceGetComputeRunningProcessesV2(nint device, ref uint count, NvmlProcessInfo[]? infos)
    {
        Calls.Add("nvmlDeviceGetComputeRunningProcesses_v2");
        return HasProcessesV2 ? Processes(device, ref count, infos) : NvmlReturn.FunctionNotFound;
    }

    public NvmlReturn DeviceGetComputeRunningProcessesV1(nint device, ref uint count, NvmlProcessInfoV1[]? infos)
    {
        Calls.Add("nvmlDeviceGetComputeRunningProcesses");
        var d = _handles[device];
        if (Fail(d, "Processes") is { } failure)
        {
            return failure;
        }

        if (infos is null || count < d.Processes.Count)
        {
            count = (uint)d.Processes.Count;
            return NvmlReturn.InsufficientSize;
        }

        for (var i = 0; i < d.Processes.Count; i++)
        {
            infos[i] = new NvmlProcessInfoV1 { Pid = d.Processes[i].Pid, UsedGpuMemory = d.Processes[i].Used };
        }

        count = (uint)d.Processes.Count;
        return NvmlReturn.Success;
    }

    private NvmlReturn Processes(nint device, ref uint count, NvmlProcessInfo[]? infos)
    {
        var d = _handles[device];
        if (Fail(d, "Processes") is { } failure)
        {
            return failure;
        }

        if (infos is null || count < d.Processes.Count)
        {
            count = (uint)d.Processes.Count;
            return NvmlReturn.InsufficientSize;
        }

        for (var i = 0; i < d.Processes.Count; i++)
        {
            infos[i] = new NvmlProcessInfo { Pid = d.Processes[i].Pid, UsedGpuMemory = d.Processes[i].Used, GpuInstanceId = 0xFFFFFFFF, ComputeInstanceId = 0xFFFFFFFF };
        }

        count = (uint)d.Processes.Count;
        return NvmlReturn.Success;
    }

    public NvmlReturn DeviceGetName(nint device, out string? name)
    {
        name = _handles[device].Name;
        return Fail(_handles[device], "Name") ?? NvmlReturn.Success;
    }

    public NvmlReturn DeviceGetUuid(nint device, out string? uuid)
    {
        uuid = _handles[device].Uuid;
        return Fail(_handles[device], "Uuid") ?? NvmlReturn.Success;
    }

    public NvmlReturn DeviceGetUtilizationRates(nint device, out NvmlUtilization utilization)
    {
        var d = _handles[device];
        utilization = new NvmlUtilization { Gpu = d.UtilGpu, Memory = d.UtilMemory };
        return Fail(d, "Utilization") ?? NvmlReturn.Success;
    }

    public NvmlReturn DeviceGetTemperature(nint device, uint sensor, out uint celsius)
    {
        Assert.Equal(0u, sensor);
        return Value(device, "Temperature", d => d.Temperature, out celsius);
    }

    public NvmlReturn DeviceGetPowerUsage(nint device, out uint milliwatts) => Value(device, "Power", d => d.PowerMilliwatts, out milliwatts);

    public NvmlReturn DeviceGetEnforcedPowerLimit(nint device, out uint milliwatts) => Value(device, "PowerLimit", d => d.PowerLimitMilliwatts, out milliwatts);

    public NvmlReturn DeviceGetFanSpeed(nint device, out uint percent) => Value(device, "Fan", d => d.Fan, out percent);

    public NvmlReturn DeviceGetClockInfo(nint device, uint clockType, out uint megahertz) => clockType switch
    {
        1 => Value(device, "ClockSm", d => d.ClockSm, out megahertz),
        2 => Value(device, "ClockMemory", d => d.ClockMemory, out megahertz),
        _ => throw new ArgumentOutOfRangeException(nameof(clockType)),
    };

    public NvmlReturn DeviceGetPerformanceState(nint device, out uint state) => Value(device, "Pstate", d => d.Pstate, out state);

    public NvmlReturn SystemGetDriverVersion(out string? version)
    {
        version = DriverVersion;
        return NvmlReturn.Success;
    }

    public NvmlReturn SystemGetCudaDriverVersion(out int version)
    {
        version = CudaVersion;
        return NvmlReturn.Success;
    }

    public NvmlReturn DeviceGetMigMode(nint device, out uint current, out uint pending)
    {
        var d = _handles[device];
        current = pending = d.Migs.Count > 0 ? 1u : 0u;
        return Fail(d, "MigMode") ?? NvmlReturn.Success;
    }

    public NvmlReturn DeviceGetMaxMigDeviceCount(nint device, out uint count)
    {
        count = (uint)_handles[device].Migs.Count;
        return NvmlReturn.Success;
    }

    public NvmlReturn DeviceGetMigDeviceHandleByIndex(nint device, uint index, out nint migDevice)
    {
        var parent = (int)device - 100;
        migDevice = 1000 + (parent * 10) + (nint)index;
        return _handles.ContainsKey(migDevice) ? NvmlReturn.Success : NvmlReturn.NotFound;
    }

    public NvmlReturn DeviceGetGpuInstanceId(nint device, out uint id) => Value(device, "GpuInstanceId", d => d.GpuInstanceId, out id);

    public NvmlReturn DeviceGetComputeInstanceId(nint device, out uint id) => Value(device, "ComputeInstanceId", d => d.ComputeInstanceId, out id);

    private NvmlReturn Value(nint device, string name, Func<FakeNvmlDevice, uint> read, out uint value)
    {
        var d = _handles[device];
        var failure = Fail(d, name);
        value = failure is null ? read(d) : 0;
        return failure ?? NvmlReturn.Success;
    }

    private static NvmlReturn? Fail(FakeNvmlDevice device, string name) =>
        device.Failures.TryGetValue(name, out var rc) ? rc : device.Failures.TryGetValue("*", out var all) ? all : null;
}
