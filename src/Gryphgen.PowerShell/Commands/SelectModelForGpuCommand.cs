using System.Collections;
using System.Collections.ObjectModel;
using System.Management.Automation;
using System.Management.Automation.Language;
using Gryphgen.Core;
using Gryphgen.Core.Fit;
using Gryphgen.Core.Gguf;
using Gryphgen.Core.Gpu;

namespace Gryphgen.PowerShell.Commands;

/// <summary>
/// Tells which GGUF models run on a GPU and how: fully, partly offloaded or on the CPU, with which context and
/// which llama.cpp / Ollama settings. Binds parameters, gathers the models of the whole pipeline, and writes what
/// Gryphgen.Core's <see cref="FitPlanner"/> and <see cref="TogetherPlanner"/> decide, best first.
/// </summary>
[Cmdlet(VerbsCommon.Select, "ModelForGpu", DefaultParameterSetName = "Query")]
[OutputType(typeof(ModelFit))]
public sealed class SelectModelForGpuCommand : GryphCmdlet
{
    private readonly List<GgufModel> _models = [];
    private readonly List<GpuStatus> _gpus = [];
    private readonly HashSet<GgufModel> _named = [];

    [Parameter(ValueFromPipeline = true)]
    [ValidateNotNull]
    public GgufModel[]? Model { get; set; }

    [Parameter(Position = 0)]
    [ValidateNotNullOrEmpty]
    public string[]? Path { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = "Gpu", ValueFromPipeline = true)]
    [ValidateNotNullOrEmpty]
    public GpuStatus[]? Gpu { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = "GpuName")]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(GpuNameCompleter))]
    public string[]? GpuName { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = "Memory")]
    [ValidateNotNullOrEmpty]
    [ValidateRange(1, long.MaxValue)]
    public long[]? MemoryBytes { get; set; }

    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int ContextLength { get; set; } = 4096;

    [Parameter]
    public SwitchParameter MaxContext { get; set; }

    [Parameter]
    public KvCacheType CacheType { get; set; } = KvCacheType.F16;

    [Parameter]
    public SwitchParameter FlashAttention { get; set; }

    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int BatchSize { get; set; } = 2048;

    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int UBatchSize { get; set; } = 512;

    [Parameter]
    [ValidateRange(1, 1024)]
    public int Parallel { get; set; } = 1;

    [Parameter]
    [ValidateRange(0, long.MaxValue)]
    public long HeadroomBytes { get; set; } = FitTarget.GiB;

    [Parameter]
    [ValidateRange(1.0, 100.0)]
    public double UsablePercent { get; set; }

    [Parameter]
    [ValidateRange(0, long.MaxValue)]
    public long OverheadBytes { get; set; } = 400 * LlamaCppSettings.MiB;

    [Parameter]
    [ValidateRange(0, long.MaxValue)]
    public long HostMemoryBytes { get; set; }

    [Parameter]
    public SwitchParameter CpuMoe { get; set; }

    [Parameter]
    public SwitchParameter NoExpertOffload { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? DraftModel { get; set; }

    [Parameter]
    [ValidateRange(0, 1024)]
    public int ContextCheckpoints { get; set; } = 32;

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Projector { get; set; }

    [Parameter]
    public SwitchParameter NoProjector { get; set; }

    [Parameter]
    public SwitchParameter Together { get; set; }

    [Parameter]
    [ValidateRange(0.1, 100000)]
    public double[]? MemoryBandwidth { get; set; }

    [Parameter]
    [ValidateRange(0.01, 100000)]
    public double[]? TensorTflops { get; set; }

    [Parameter]
    [ValidateRange(0.1, 100000)]
    public double HostBandwidth { get; set; }

    [Parameter]
    public GpuBackend Backend { get; set; } = GpuBackend.Cuda;

    [Parameter]
    public ModelFitSort SortBy { get; set; } = ModelFitSort.Fit;

    [Parameter]
    public TogetherPreference Prefer { get; set; } = TogetherPreference.Parameters;

    protected override void ProcessRecord()
    {
        // Get-GpuStatus | Select-ModelForGpu -Path ...: GPUs arrive one per record, like models do.
        if (Gpu is not null)
        {
            foreach (var gpu in Gpu.Where(g => !_gpus.Contains(g)))
            {
                _gpus.Add(gpu);
            }
        }

        if (Model is not null)
        {
            _models.AddRange(Model);
        }
    }

    protected override void EndProcessing()
    {
        foreach (var resolved in ResolvePaths(Path ?? []))
        {
            if (Directory.Exists(resolved))
            {
                WriteItemError(new GryphgenException("PathIsFolder", GryphgenErrorKind.InvalidArgument,
                    $"'{resolved}' is a folder, not a model file; to plan every model in it: Find-GgufModel '{resolved}' | Select-ModelForGpu", resolved),
                    "PathIsFolder", ErrorCategory.InvalidArgument, resolved);
                continue;
            }

            try
            {
                var model = new GgufModel([GgufHeaderReader.Read(resolved)]);
                _models.Add(model);
                _named.Add(model);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or GgufFormatException)
            {
                WriteItemError(ex, "GgufReadFailed", ErrorCategory.ReadError, resolved);
            }
        }

        if (_models.Count == 0)
        {
            return;
        }

        var draft = DraftModel is null ? null : ReadCompanion(DraftModel, "DraftModelUnreadable", "draft model");
        var givenProjector = Projector is null || NoProjector ? null : ReadCompanion(Projector, "ProjectorUnreadable", "vision projector");
        var gpus = WithPerformance(ResolveTargets());
        if (gpus.Length == 0)
        {
            // Every -GpuName was unknown; each has its error already.
            return;
        }

        // On unified memory (Apple silicon) the host keeps what the GPU may not wire, not this machine's MemAvailable.
        var hostAvailable = MyInvocation.BoundParameters.ContainsKey(nameof(HostMemoryBytes)) ? HostMemoryBytes
            : gpus.All(g => g.IsUnifiedMemory) ? gpus.Sum(g => g.TotalBytes - g.FreeBytes)
            : HostMemory.Available();
        var target = new FitTarget
        {
            Gpus = gpus,
            HeadroomBytes = HeadroomBytes,
            UsablePercent = MyInvocation.BoundParameters.ContainsKey(nameof(UsablePercent)) ? UsablePercent : null,
            HostAvailableBytes = hostAvailable,
            OffloadExperts = !NoExpertOffload.IsPresent,
            HostBandwidthGBps = MyInvocation.BoundParameters.ContainsKey(nameof(HostBandwidth)) ? HostBandwidth : HostBandwidthOfThisMachine(),
        };
        var flash = FlashAttention.IsPresent;
        if (CacheType is not (KvCacheType.F16 or KvCacheType.BF16) && !flash)
        {
            WriteWarning($"llama.cpp needs flash attention for a quantised V cache ({KvCacheTypes.CommandLineName(CacheType)}); planning with -FlashAttention.");
            flash = true;
        }

        var settings = new LlamaCppSettings
        {
            ContextLength = ContextLength,
            CacheTypeK = CacheType,
            CacheTypeV = CacheType,
            FlashAttention = flash,
            BatchSize = BatchSize,
            UBatchSize = UBatchSize,
            Parallel = Parallel,
            DeviceOverheadBytes = OverheadBytes,
            ExpertsOnHost = CpuMoe.IsPresent,
            ContextCheckpoints = ContextCheckpoints,
        };

        var usable = new List<LlamaCppModelCost>();
        foreach (var model in _models)
        {
            if (model.Kind != GgufModelKind.Model)
            {
                // Vocabularies, projectors and adapters sit beside models in every store and a scan passes them
                // on quietly; one named with -Path was meant to be planned, so it gets an error.
                if (_named.Contains(model))
                {
                    WriteItemError(new GryphgenException("GgufNoWeights", GryphgenErrorKind.InvalidData,
                        $"'{model.Path}' is a {model.Kind} file: it has no model weights to plan.", model.Path),
                        "GgufNoWeights", ErrorCategory.InvalidData, model.Path);
                }
                else
                {
                    WriteVerbose($"Skipping '{model.Name}' ({model.Path}): a {model.Kind} file, not a model.");
                }

                continue;
            }

            if (model.BlockCount is null || model.EmbeddingLength is null || model.TensorCount == 0)
            {
                WriteItemError(new GryphgenException("ModelNotEstimable", GryphgenErrorKind.InvalidData,
                    $"'{model.Name}' has no tensors or no block_count / embedding_length (a vocabulary-only or adapter file?), so its memory cannot be estimated.", model.Path),
                    "ModelNotEstimable", ErrorCategory.InvalidData, model.Path);
                continue;
            }

            // A corrupt or impossible shape is this model's error only; the rest of the pipeline is still planned.
            LlamaCppModelCost cost;
            try
            {
                cost = new LlamaCppModelCost(model, draft, ProjectorOf(model, givenProjector));
            }
            catch (GryphgenException ex)
            {
                WriteItemError(ex, ex.ErrorId, ErrorCategory.InvalidData, model.Path);
                continue;
            }

            if (cost.Shape.Caveat is { } caveat)
            {
                WriteWarning($"'{model.Name}': {caveat}.");
            }

            usable.Add(cost);
        }

        if (Together)
        {
            if (draft is not null)
            {
                WriteWarning("-DraftModel is not counted with -Together: each model of a set would need its own draft.");
            }

            WriteObject(TogetherPlanner.Plan(usable.Select(c => c.Model).ToArray(), settings, target, Prefer), enumerateCollection: true);
            return;
        }

        var fits = new List<ModelFit>();
        foreach (var cost in usable)
        {
            CancellationToken.ThrowIfCancellationRequested();
            fits.Add(FitPlanner.Plan(cost, settings, target, MaxContext, fitContext: !MyInvocation.BoundParameters.ContainsKey(nameof(ContextLength))));
        }

        var ordered = SortBy == ModelFitSort.Speed
            ? fits.OrderByDescending(f => f.DecodeTokensPerSecond ?? -1).ThenBy(f => f.Fit)
            : fits.OrderBy(f => f.Fit).ThenByDescending(f => (double)f.GpuLayers / f.TotalLayers);
        WriteObject(ordered.ThenByDescending(f => f.Model.ParameterCount).ThenBy(f => f.Model.Name, StringComparer.OrdinalIgnoreCase), enumerateCollection: true);
    }

    /// <summary>-Path as Find-GgufModel takes it: wildcards expanded, a path that matches nothing one PathNotFound error.</summary>
    private IEnumerable<string> ResolvePaths(IEnumerable<string> paths)
    {
        foreach (var path in paths)
        {
            Collection<string> resolved;
            try
            {
                resolved = GetResolvedProviderPathFromPSPath(path, out _);
            }
            catch (ItemNotFoundException ex)
            {
                WriteError(new ErrorRecord(ex, "PathNotFound", ErrorCategory.ObjectNotFound, path));
                continue;
            }

            foreach (var item in resolved)
            {
                yield return item;
            }
        }
    }

    /// <summary>A draft model or projector given by path; one that cannot be read or estimated ends the call, since every plan would count it.</summary>
    private GgufModel ReadCompanion(string path, string errorId, string what)
    {
        var resolved = GetUnresolvedProviderPathFromPSPath(path);
        try
        {
            var companion = new GgufModel([GgufHeaderReader.Read(resolved)]);
            if (companion.Architecture == "clip")
            {
                _ = ProjectorEstimate.From(companion, flashAttention: false);
            }
            else
            {
                _ = new LlamaCppModelCost(companion);
            }

            return companion;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or GgufFormatException or GryphgenException)
        {
            throw Terminate(new GryphgenException(errorId, GryphgenErrorKind.InvalidData,
                $"The {what} '{resolved}' cannot be planned: {ex.Message}", resolved, ex));
        }
    }

    /// <summary>The projector a model's plan counts: none with -NoProjector, else the one given, else the one Find-GgufModel paired or that lies beside it.</summary>
    private GgufModel? ProjectorOf(GgufModel model, GgufModel? given)
    {
        if (NoProjector || given is not null)
        {
            return given;
        }

        if (model.ProjectorPath is { } paired)
        {
            try
            {
                return new GgufModel([GgufHeaderReader.Read(paired)]);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or GgufFormatException)
            {
                WriteWarning($"'{model.Name}': its vision projector '{paired}' cannot be read ({ex.Message}); planning without it.");
                return null;
            }
        }

        return ProjectorPairing.FindBeside(model, CancellationToken);
    }

    /// <summary>The host's bandwidth for plans that leave weights in host memory: measured once a boot, then cached.</summary>
    private double? HostBandwidthOfThisMachine()
    {
        try
        {
            return Core.Fit.HostBandwidth.MeasuredOrCached(CancellationToken);
        }
        catch (OutOfMemoryException)
        {
            WriteWarning("The host's memory bandwidth could not be measured (no 256 MiB to spare); plans that use host memory get no speed estimate. Give it with -HostBandwidth.");
            return null;
        }
    }

    private GpuTarget[] ResolveTargets()
    {
        switch (ParameterSetName)
        {
            case "GpuName":
                var known = new List<GpuTarget>();
                foreach (var name in GpuName!)
                {
                    if (GpuCatalog.Find(name) is { } card)
                    {
                        known.Add(card);
                        continue;
                    }

                    WriteItemError(new GryphgenException("GpuNameUnknown", GryphgenErrorKind.InvalidArgument,
                        $"'{name}' is not in the GPU catalogue; the nearest are {string.Join(", ", GpuCatalog.Nearest(name).Select(n => $"'{n}'"))}. Or give its memory with -MemoryBytes.", name),
                        "GpuNameUnknown", ErrorCategory.InvalidArgument, name);
                }

                return known.ToArray();
            case "Memory":
                return MemoryBytes!.Select((b, i) => new GpuTarget { Name = $"{b / (double)FitTarget.GiB:0.#} GiB" + (MemoryBytes!.Length > 1 ? $" #{i}" : ""), TotalBytes = b, FreeBytes = b }).ToArray();
            case "Gpu":
                return _gpus.Select(FromStatus).ToArray();
            default:
                IReadOnlyList<GpuStatus> found;
                try
                {
                    found = GpuStatusReader.Query(GpuSource.Auto, CancellationToken);
                }
                catch (Exception ex) when (ex is GpuNotFoundException or GpuToolException)
                {
                    throw Terminate(Missing(ex.Message));
                }

                return found.Count == 0 ? throw Terminate(Missing("No GPU reported.")) : found.Select(FromStatus).ToArray();
        }
    }

    private static GryphgenException Missing(string why) => new("GpuTargetMissing", GryphgenErrorKind.ResourceUnavailable,
        $"No GPU to plan for ({why.TrimEnd('.')}). Name a card with -GpuName 'RTX 4090', give its memory with -MemoryBytes 16GB, or pass -Gpu (Get-GpuStatus) from a machine that has one.");

    private PipelineStoppedException Terminate(GryphgenException ex)
    {
        ThrowGryphError(ex);
        return new PipelineStoppedException();
    }

    private GpuTarget FromStatus(GpuStatus gpu)
    {
        var total = gpu.MemoryTotal ?? 0;
        var free = gpu.MemoryFree ?? (gpu.MemoryTotal is { } t && gpu.MemoryUsed is { } u ? t - u : (long?)null);
        if (free is null || total <= 0)
        {
            throw Terminate(new GryphgenException("GpuMemoryUnknown", GryphgenErrorKind.InvalidData,
                $"GPU {gpu.Index} ({gpu.Name}) does not report its memory; plan with -MemoryBytes instead.", gpu.Name));
        }

        var known = gpu.Name is null ? null : GpuCatalog.Find(gpu.Name);
        var amd = string.Equals(gpu.Vendor, "AMD", StringComparison.OrdinalIgnoreCase) || known?.Vendor == GpuVendor.Amd;
        return new GpuTarget
        {
            Name = $"GPU {gpu.Index}: {gpu.Name}",
            TotalBytes = total,
            FreeBytes = free.Value,
            MemoryBandwidthGBps = known?.MemoryBandwidthGBps,
            TensorTflops = known?.TensorTflops,
            Backend = amd ? GpuBackend.Rocm : GpuBackend.Cuda,
            Vendor = amd ? GpuVendor.Amd : GpuVendor.Nvidia,
        };
    }

    /// <summary>The targets with -MemoryBandwidth, -TensorTflops and -Backend applied (one value for all GPUs, or one per GPU).</summary>
    private GpuTarget[] WithPerformance(GpuTarget[] gpus)
    {
        static double? Pick(double[]? values, int i) => values is { Length: > 0 } ? values[Math.Min(i, values.Length - 1)] : null;
        for (var i = 0; i < gpus.Length; i++)
        {
            gpus[i] = gpus[i] with
            {
                MemoryBandwidthGBps = Pick(MemoryBandwidth, i) ?? gpus[i].MemoryBandwidthGBps,
                TensorTflops = Pick(TensorTflops, i) ?? gpus[i].TensorTflops,
                Backend = MyInvocation.BoundParameters.ContainsKey(nameof(Backend)) ? Backend : gpus[i].Backend,
            };
        }

        return gpus;
    }
}

/// <summary>Tab completion for -GpuName: the catalogue's names, quoted.</summary>
public sealed class GpuNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var word = (wordToComplete ?? "").Trim('\'', '"');
        foreach (var entry in GpuCatalog.Entries)
        {
            if (entry.Name.StartsWith(word, StringComparison.OrdinalIgnoreCase) || entry.Name.Contains(word, StringComparison.OrdinalIgnoreCase))
            {
                var tip = entry.IsUnifiedMemory ? $"{entry.Name}: unified memory, {entry.FreeBytes / (double)FitTarget.GiB:0.#} GiB usable by the GPU" : $"{entry.Name}: {entry.TotalBytes / (double)FitTarget.GiB:0.#} GiB";
                yield return new CompletionResult("'" + entry.Name + "'", entry.Name, CompletionResultType.ParameterValue, tip);
            }
        }
    }
}
