namespace Gryphgen.Core.Gpu.Nvml;

/// <summary>
/// The NVML functions Gryphgen calls, one method per C symbol. <see cref="NvmlNativeApi"/> binds them to the
/// real library and answers <see cref="NvmlReturn.FunctionNotFound"/> for a symbol the installed driver lacks;
/// tests stand in a fake to drive the fallbacks (v2 to v1 memory, v3 to v2 to v1 processes, buffer growth,
/// unsupported fields, lost GPUs) that no single real driver shows.
/// </summary>
internal interface INvmlApi
{
    /// <summary>nvmlInit_v2 (falling back to nvmlInit).</summary>
    NvmlReturn Init();

    NvmlReturn Shutdown();

    /// <summary>nvmlDeviceGetCount_v2.</summary>
    NvmlReturn DeviceGetCount(out uint count);

    /// <summary>nvmlDeviceGetHandleByIndex_v2.</summary>
    NvmlReturn DeviceGetHandleByIndex(uint index, out nint device);

    /// <summary>nvmlDeviceGetMemoryInfo_v2; the caller sets <see cref="NvmlMemoryV2.Version"/>.</summary>
    NvmlReturn DeviceGetMemoryInfoV2(nint device, ref NvmlMemoryV2 memory);

    /// <summary>nvmlDeviceGetMemoryInfo (v1).</summary>
    NvmlReturn DeviceGetMemoryInfo(nint device, out NvmlMemoryV1 memory);

    /// <summary>nvmlDeviceGetComputeRunningProcesses_v3: on entry count is the buffer length, on return the process count.</summary>
    NvmlReturn DeviceGetComputeRunningProcessesV3(nint device, ref uint count, NvmlProcessInfo[]? infos);

    /// <summary>nvmlDeviceGetComputeRunningProcesses_v2 (same struct as v3).</summary>
    NvmlReturn DeviceGetComputeRunningProcessesV2(nint device, ref uint count, NvmlProcessInfo[]? infos);

    /// <summary>nvmlDeviceGetComputeRunningProcesses (v1 struct).</summary>
    NvmlReturn DeviceGetComputeRunningProcessesV1(nint device, ref uint count, NvmlProcessInfoV1[]? infos);

    NvmlReturn DeviceGetName(nint device, out string? name);

    NvmlReturn DeviceGetUuid(nint device, out string? uuid);

    NvmlReturn DeviceGetUtilizationRates(nint device, out NvmlUtilization utilization);

    /// <summary>nvmlDeviceGetTemperature; sensor 0 is NVML_TEMPERATURE_GPU.</summary>
    NvmlReturn DeviceGetTemperature(nint device, uint sensor, out uint celsius);

    /// <summary>nvmlDeviceGetPowerUsage, milliwatts.</summary>
    NvmlReturn DeviceGetPowerUsage(nint device, out uint milliwatts);

    /// <summary>nvmlDeviceGetEnforcedPowerLimit, milliwatts.</summary>
    NvmlReturn DeviceGetEnforcedPowerLimit(nint device, out uint milliwatts);

    NvmlReturn DeviceGetFanSpeed(nint device, out uint percent);

    /// <summary>nvmlDeviceGetClockInfo; clock type 1 is NVML_CLOCK_SM, 2 NVML_CLOCK_MEM.</summary>
    NvmlReturn DeviceGetClockInfo(nint device, uint clockType, out uint megahertz);

    /// <summary>nvmlDeviceGetPerformanceState: 0..15 for P0..P15, 32 for unknown.</summary>
    NvmlReturn DeviceGetPerformanceState(nint device, out uint state);

    NvmlReturn SystemGetDriverVersion(out string? version);

    /// <summary>nvmlSystemGetCudaDriverVersion_v2: e.g. 12020 for CUDA 12.2.</summary>
    NvmlReturn SystemGetCudaDriverVersion(out int version);

    /// <summary>nvmlDeviceGetMigMode: 1 is NVML_DEVICE_MIG_ENABLE.</summary>
    NvmlReturn DeviceGetMigMode(nint device, out uint current, out uint pending);

    NvmlReturn DeviceGetMaxMigDeviceCount(nint device, out uint count);

    NvmlReturn DeviceGetMigDeviceHandleByIndex(nint device, uint index, out nint migDevice);

    NvmlReturn DeviceGetGpuInstanceId(nint device, out uint id);

    NvmlReturn DeviceGetComputeInstanceId(nint device, out uint id);
}
