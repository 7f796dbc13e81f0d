using System.Runtime.InteropServices;
using System.Text;

namespace Gryphgen.Core.Gpu.Nvml;

/// <summary>
/// The real NVML, loaded with <see cref="NativeLibrary"/> and bound symbol by symbol through
/// <see cref="NativeLibrary.TryGetExport"/> into unmanaged function pointers. A symbol the driver lacks stays
/// null and its method answers <see cref="NvmlReturn.FunctionNotFound"/>, which is what drives the versioned
/// fallbacks in <see cref="NvmlStatusReader"/>. NVML never creates a CUDA context, so it takes no VRAM.
/// </summary>
internal sealed unsafe class NvmlNativeApi : INvmlApi, IDisposable
{
    private const int NameBufferSize = 96;     // NVML_DEVICE_NAME_V2_BUFFER_SIZE
    private const int UuidBufferSize = 96;     // NVML_DEVICE_UUID_V2_BUFFER_SIZE is 96
    private const int VersionBufferSize = 80;  // NVML_SYSTEM_DRIVER_VERSION_BUFFER_SIZE

    private readonly nint _library;
    private readonly delegate* unmanaged<int> _init;
    private readonly delegate* unmanaged<int> _shutdown;
    private readonly delegate* unmanaged<uint*, int> _getCount;
    private readonly delegate* unmanaged<uint, nint*, int> _getHandleByIndex;
    private readonly delegate* unmanaged<nint, NvmlMemoryV2*, int> _getMemoryInfoV2;
    private readonly delegate* unmanaged<nint, NvmlMemoryV1*, int> _getMemoryInfo;
    private readonly delegate* unmanaged<nint, uint*, NvmlProcessInfo*, int> _getProcessesV3;
    private readonly delegate* unmanaged<nint, uint*, NvmlProcessInfo*, int> _getProcessesV2;
    private readonly delegate* unmanaged<nint, uint*, NvmlProcessInfoV1*, int> _getProcessesV1;
    private readonly delegate* unmanaged<nint, byte*, uint, int> _getName;
    private readonly delegate* unmanaged<nint, byte*, uint, int> _getUuid;
    private readonly delegate* unmanaged<nint, NvmlUtilization*, int> _getUtilization;
    private readonly delegate* unmanaged<nint, uint, uint*, int> _getTemperature;
    private readonly delegate* unmanaged<nint, uint*, int> _getPowerUsage;
    private readonly delegate* unmanaged<nint, uint*, int> _getEnforcedPowerLimit;
    private readonly delegate* unmanaged<nint, uint*, int> _getFanSpeed;
    private readonly delegate* unmanaged<nint, uint, uint*, int> _getClockInfo;
    private readonly delegate* unmanaged<nint, uint*, int> _getPerformanceState;
    private readonly delegate* unmanaged<byte*, uint, int> _getDriverVersion;
    private readonly delegate* unmanaged<int*, int> _getCudaDriverVersion;
    private readonly delegate* unmanaged<nint, uint*, uint*, int> _getMigMode;
    private readonly delegate* unmanaged<nint, uint*, int> _getMaxMigDeviceCount;
    private readonly delegate* unmanaged<nint, uint, nint*, int> _getMigDeviceHandleByIndex;
    private readonly delegate* unmanaged<nint, uint*, int> _getGpuInstanceId;
    private readonly delegate* unmanaged<nint, uint*, int> _getComputeInstanceId;

    private NvmlNativeApi(nint library)
    {
        _library = library;
        _init = (delegate* unmanaged<int>)Export("nvmlInit_v2", "nvmlInit");
        _shutdown = (delegate* unmanaged<int>)Export("nvmlShutdown");
        _getCount = (delegate* unmanaged<uint*, int>)Export("nvmlDeviceGetCount_v2", "nvmlDeviceGetCount");
        _getHandleByIndex = (delegate* unmanaged<uint, nint*, int>)Export("nvmlDeviceGetHandleByIndex_v2", "nvmlDeviceGetHandleByIndex");
        _getMemoryInfoV2 = (delegate* unmanaged<nint, NvmlMemoryV2*, int>)Export("nvmlDeviceGetMemoryInfo_v2");
        _getMemoryInfo = (delegate* unmanaged<nint, NvmlMemoryV1*, int>)Export("nvmlDeviceGetMemoryInfo");
        _getProcessesV3 = (delegate* unmanaged<nint, uint*, NvmlProcessInfo*, int>)Export("nvmlDeviceGetComputeRunningProcesses_v3");
        _getProcessesV2 = (delegate* unmanaged<nint, uint*, NvmlProcessInfo*, int>)Export("nvmlDeviceGetComputeRunningProcesses_v2");
        _getProcessesV1 = (delegate* unmanaged<nint, uint*, NvmlProcessInfoV1*, int>)Export("nvmlDeviceGetComputeRunningProcesses");
        _getName = (delegate* unmanaged<nint, byte*, uint, int>)Export("nvmlDeviceGetName");
        _getUuid = (delegate* unmanaged<nint, byte*, uint, int>)Export("nvmlDeviceGetUUID");
        _getUtilization = (delegate* unmanaged<nint, NvmlUtilization*, int>)Export("nvmlDeviceGetUtilizationRates");
        _getTemperature = (delegate* unmanaged<nint, uint, uint*, int>)Export("nvmlDeviceGetTemperature");
        _getPowerUsage = (delegate* unmanaged<nint, uint*, int>)Export("nvmlDeviceGetPowerUsage");
        _getEnforcedPowerLimit = (delegate* unmanaged<nint, uint*, int>)Export("nvmlDeviceGetEnforcedPowerLimit");
        _getFanSpeed = (delegate* unmanaged<nint, uint*, int>)Export("nvmlDeviceGetFanSpeed");
        _getClockInfo = (delegate* unmanaged<nint, uint, uint*, int>)Export("nvmlDeviceGetClockInfo");
        _getPerformanceState = (delegate* unmanaged<nint, uint*, int>)Export("nvmlDeviceGetPerformanceState");
        _getDriverVersion = (delegate* unmanaged<byte*, uint, int>)Export("nvmlSystemGetDriverVersion");
        _getCudaDriverVersion = (delegate* unmanaged<int*, int>)Export("nvmlSystemGetCudaDriverVersion_v2", "nvmlSystemGetCudaDriverVersion");
        _getMigMode = (delegate* unmanaged<nint, uint*, uint*, int>)Export("nvmlDeviceGetMigMode");
        _getMaxMigDeviceCount = (delegate* unmanaged<nint, uint*, int>)Export("nvmlDeviceGetMaxMigDeviceCount");
        _getMigDeviceHandleByIndex = (delegate* unmanaged<nint, uint, nint*, int>)Export("nvmlDeviceGetMigDeviceHandleByIndex");
        _getGpuInstanceId = (delegate* unmanaged<nint, uint*, int>)Export("nvmlDeviceGetGpuInstanceId");
        _getComputeInstanceId = (delegate* unmanaged<nint, uint*, int>)Export("nvmlDeviceGetComputeInstanceId");
    }

    /// <summary>Loads the first NVML library that exists; records every path tried in <paramref name="tried"/>.</summary>
    public static NvmlNativeApi? TryLoad(IEnumerable<string> candidates, ICollection<string> tried)
    {
        foreach (var candidate in candidates)
        {
            tried.Add(candidate);
            if (NativeLibrary.TryLoad(candidate, out var handle))
            {
                return new NvmlNativeApi(handle);
            }
        }

        return null;
    }

    private nint Export(params string[] names)
    {
        foreach (var name in names)
        {
            if (NativeLibrary.TryGetExport(_library, name, out var address))
            {
                return address;
            }
        }

        return 0;
    }

    private static NvmlReturn Missing => NvmlReturn.FunctionNotFound;

    public NvmlReturn Init() => _init == null ? Missing : (NvmlReturn)_init();

    public NvmlReturn Shutdown() => _shutdown == null ? Missing : (NvmlReturn)_shutdown();

    public NvmlReturn DeviceGetCount(out uint count)
    {
        count = 0;
        fixed (uint* p = &count)
        {
            return _getCount == null ? Missing : (NvmlReturn)_getCount(p);
        }
    }

    public NvmlReturn DeviceGetHandleByIndex(uint index, out nint device)
    {
        device = 0;
        fixed (nint* p = &device)
        {
            return _getHandleByIndex == null ? Missing : (NvmlReturn)_getHandleByIndex(index, p);
        }
    }

    public NvmlReturn DeviceGetMemoryInfoV2(nint device, ref NvmlMemoryV2 memory)
    {
        fixed (NvmlMemoryV2* p = &memory)
        {
            return _getMemoryInfoV2 == null ? Missing : (NvmlReturn)_getMemoryInfoV2(device, p);
        }
    }

    public NvmlReturn DeviceGetMemoryInfo(nint device, out NvmlMemoryV1 memory)
    {
        memory = default;
        fixed (NvmlMemoryV1* p = &memory)
        {
            return _getMemoryInfo == null ? Missing : (NvmlReturn)_getMemoryInfo(device, p);
        }
    }

    public NvmlReturn DeviceGetComputeRunningProcessesV3(nint device, ref uint count, NvmlProcessInfo[]? infos) =>
        Processes(_getProcessesV3, device, ref count, infos);

    public NvmlReturn DeviceGetComputeRunningProcessesV2(nint device, ref uint count, NvmlProcessInfo[]? infos) =>
        Processes(_getProcessesV2, device, ref count, infos);

    public NvmlReturn DeviceGetComputeRunningProcessesV1(nint device, ref uint count, NvmlProcessInfoV1[]? infos)
    {
        if (_getProcessesV1 == null)
        {
            return Missing;
        }

        count = Math.Min(count, (uint)(infos?.Length ?? 0));
        fixed (uint* c = &count)
        fixed (NvmlProcessInfoV1* p = infos)
        {
            return (NvmlReturn)_getProcessesV1(device, c, p);
        }
    }

    private static NvmlReturn Processes(delegate* unmanaged<nint, uint*, NvmlProcessInfo*, int> function, nint device, ref uint count, NvmlProcessInfo[]? infos)
    {
        if (function == null)
        {
            return Missing;
        }

        // Never let NVML write past the managed buffer.
        count = Math.Min(count, (uint)(infos?.Length ?? 0));
        fixed (uint* c = &count)
        fixed (NvmlProcessInfo* p = infos)
        {
            return (NvmlReturn)function(device, c, p);
        }
    }

    public NvmlReturn DeviceGetName(nint device, out string? name) => DeviceString(_getName, device, NameBufferSize, out name);

    public NvmlReturn DeviceGetUuid(nint device, out string? uuid) => DeviceString(_getUuid, device, UuidBufferSize, out uuid);

    private static NvmlReturn DeviceString(delegate* unmanaged<nint, byte*, uint, int> function, nint device, int size, out string? value)
    {
        value = null;
        if (function == null)
        {
            return Missing;
        }

        var buffer = stackalloc byte[size];
        var rc = (NvmlReturn)function(device, buffer, (uint)size);
        if (rc == NvmlReturn.Success)
        {
            value = Utf8(buffer, size);
        }

        return rc;
    }

    private static string Utf8(byte* buffer, int size)
    {
        var span = new ReadOnlySpan<byte>(buffer, size);
        var end = span.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end < 0 ? span : span[..end]);
    }

    public NvmlReturn DeviceGetUtilizationRates(nint device, out NvmlUtilization utilization)
    {
        utilization = default;
        fixed (NvmlUtilization* p = &utilization)
        {
            return _getUtilization == null ? Missing : (NvmlReturn)_getUtilization(device, p);
        }
    }

    public NvmlReturn DeviceGetTemperature(nint device, uint sensor, out uint celsius)
    {
        celsius = 0;
        fixed (uint* p = &celsius)
        {
            return _getTemperature == null ? Missing : (NvmlReturn)_getTemperature(device, sensor, p);
        }
    }

    public NvmlReturn DeviceGetPowerUsage(nint device, out uint milliwatts) => DeviceUInt(_getPowerUsage, device, out milliwatts);

    public NvmlReturn DeviceGetEnforcedPowerLimit(nint device, out uint milliwatts) => DeviceUInt(_getEnforcedPowerLimit, device, out milliwatts);

    public NvmlReturn DeviceGetFanSpeed(nint device, out uint percent) => DeviceUInt(_getFanSpeed, device, out percent);

    public NvmlReturn DeviceGetPerformanceState(nint device, out uint state) => DeviceUInt(_getPerformanceState, device, out state);

    public NvmlReturn DeviceGetMaxMigDeviceCount(nint device, out uint count) => DeviceUInt(_getMaxMigDeviceCount, device, out count);

    public NvmlReturn DeviceGetGpuInstanceId(nint device, out uint id) => DeviceUInt(_getGpuInstanceId, device, out id);

    public NvmlReturn DeviceGetComputeInstanceId(nint device, out uint id) => DeviceUInt(_getComputeInstanceId, device, out id);

    private static NvmlReturn DeviceUInt(delegate* unmanaged<nint, uint*, int> function, nint device, out uint value)
    {
        value = 0;
        fixed (uint* p = &value)
        {
            return function == null ? Missing : (NvmlReturn)function(device, p);
        }
    }

    public NvmlReturn DeviceGetClockInfo(nint device, uint clockType, out uint megahertz)
    {
        megahertz = 0;
        fixed (uint* p = &megahertz)
        {
            return _getClockInfo == null ? Missing : (NvmlReturn)_getClockInfo(device, clockType, p);
        }
    }

    public NvmlReturn SystemGetDriverVersion(out string? version)
    {
        version = null;
        if (_getDriverVersion == null)
        {
            return Missing;
        }

        var buffer = stackalloc byte[VersionBufferSize];
        var rc = (NvmlReturn)_getDriverVersion(buffer, VersionBufferSize);
        if (rc == NvmlReturn.Success)
        {
            version = Utf8(buffer, VersionBufferSize);
        }

        return rc;
    }

    public NvmlReturn SystemGetCudaDriverVersion(out int version)
    {
        version = 0;
        fixed (int* p = &version)
        {
            return _getCudaDriverVersion == null ? Missing : (NvmlReturn)_getCudaDriverVersion(p);
        }
    }

    public NvmlReturn DeviceGetMigMode(nint device, out uint current, out uint pending)
    {
        current = 0;
        pending = 0;
        fixed (uint* c = &current)
        fixed (uint* p = &pending)
        {
            return _getMigMode == null ? Missing : (NvmlReturn)_getMigMode(device, c, p);
        }
    }

    public NvmlReturn DeviceGetMigDeviceHandleByIndex(nint device, uint index, out nint migDevice)
    {
        migDevice = 0;
        fixed (nint* p = &migDevice)
        {
            return _getMigDeviceHandleByIndex == null ? Missing : (NvmlReturn)_getMigDeviceHandleByIndex(device, index, p);
        }
    }

    public void Dispose()
    {
        // NVML stays mapped for the life of the process once initialised elsewhere; freeing our reference is safe
        // because every call through the pointers has returned by now.
        NativeLibrary.Free(_library);
    }
}
