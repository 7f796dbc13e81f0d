using System.Management.Automation;
using System.Net;
using System.Security;
using Gryphgen.Core;
using Gryphgen.Core.Agents;
using Gryphgen.Core.Fifo;
using Gryphgen.Core.Fit;
using Gryphgen.Core.Gguf;
using Gryphgen.Core.Gpu;
using Gryphgen.Core.Messaging;
using Gryphgen.PowerShell.Agents;

namespace Gryphgen.PowerShell.Commands;

/// <summary>
/// Starts an agent that answers an endpoint's inbox on a background thread of this pwsh process, with a
/// script block, an OpenAI-compatible server, a GGUF model loaded in-process (llama.cpp, loaded on first use), a
/// llama-server child it supervises (-LlamaServer), or Ollama with the plan's options (-Ollama). Piped plans with
/// -LlamaServer or -Ollama are a set: all are checked (and the GPUs' free memory read) before any starts.
/// </summary>
[Cmdlet(VerbsLifecycle.Start, "GryphAgent", DefaultParameterSetName = ScriptBlockSet, SupportsShouldProcess = true)]
[OutputType(typeof(GryphAgent))]
public sealed class StartGryphAgentCommand : MessagingCmdlet
{
    private const string ScriptBlockSet = "ScriptBlock";
    private const string OpenAISet = "OpenAI";
    private const string ModelPathSet = "ModelPath";
    private const string InputObjectSet = "InputObject";

    private readonly List<PlannedAgent> _pending = [];

    [Parameter(Mandatory = true, Position = 0, ParameterSetName = ScriptBlockSet)]
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = OpenAISet)]
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = ModelPathSet)]
    [Parameter(Position = 0, ParameterSetName = InputObjectSet, ValueFromPipelineByPropertyName = true)]
    public string Name { get; set; } = string.Empty;

    [Parameter(Mandatory = true, Position = 1, ParameterSetName = ScriptBlockSet)]
    public ScriptBlock? ScriptBlock { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = OpenAISet)]
    public Uri? OpenAIBaseUri { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = OpenAISet)]
    [Parameter(ParameterSetName = ModelPathSet)]
    [Parameter(ParameterSetName = InputObjectSet)]
    [ValidateNotNullOrEmpty]
    public string ModelName { get; set; } = string.Empty;

    [Parameter(ParameterSetName = OpenAISet)]
    public SecureString? ApiKey { get; set; }

    [Parameter(ParameterSetName = OpenAISet)]
    [ValidateNotNullOrEmpty]
    public string? ApiKeyEnvironmentVariable { get; set; }

    [Parameter(ParameterSetName = OpenAISet)]
    public SwitchParameter NoStream { get; set; }

    [Parameter(ParameterSetName = OpenAISet)]
    [ValidateRange(1, 86400)]
    public double RequestTimeoutSeconds { get; set; } = 120;

    [Parameter(Mandatory = true, ParameterSetName = ModelPathSet)]
    [ValidateNotNullOrEmpty]
    public string ModelPath { get; set; } = string.Empty;

    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = InputObjectSet)]
    public PSObject? InputObject { get; set; }

    [Parameter(ParameterSetName = ModelPathSet)]
    [Parameter(ParameterSetName = InputObjectSet)]
    [ValidateRange(0, int.MaxValue)]
    public int? GpuLayerCount { get; set; }

    [Parameter(ParameterSetName = ModelPathSet)]
    [Parameter(ParameterSetName = InputObjectSet)]
    [ValidateRange(64, int.MaxValue)]
    public int? ContextLength { get; set; }

    [Parameter(ParameterSetName = OpenAISet)]
    [Parameter(ParameterSetName = ModelPathSet)]
    [Parameter(ParameterSetName = InputObjectSet)]
    [ValidateRange(1, int.MaxValue)]
    public int? MaxTokens { get; set; }

    [Parameter(ParameterSetName = ModelPathSet)]
    [Parameter(ParameterSetName = InputObjectSet)]
    public SwitchParameter LlamaServer { get; set; }

    [Parameter(ParameterSetName = ModelPathSet)]
    [Parameter(ParameterSetName = InputObjectSet)]
    [ValidateNotNullOrEmpty]
    public string? LlamaServerPath { get; set; }

    [Parameter(ParameterSetName = ModelPathSet)]
    [Parameter(ParameterSetName = InputObjectSet)]
    [AllowEmptyCollection]
    public string[] ServerArgument { get; set; } = [];

    [Parameter(ParameterSetName = ModelPathSet)]
    [Parameter(ParameterSetName = InputObjectSet)]
    [ValidateRange(1, 86400)]
    public double HealthTimeoutSeconds { get; set; } = 300;

    [Parameter(ParameterSetName = ModelPathSet)]
    [Parameter(ParameterSetName = InputObjectSet)]
    [ValidateRange(0, 1000)]
    public int MaxRestarts { get; set; } = 3;

    [Parameter(ParameterSetName = ModelPathSet)]
    [Parameter(ParameterSetName = InputObjectSet)]
    [ValidateRange(0, 3600)]
    public double RestartDelaySeconds { get; set; } = 1;

    [Parameter(ParameterSetName = ModelPathSet)]
    [Parameter(ParameterSetName = InputObjectSet)]
    public SwitchParameter Ollama { get; set; }

    [Parameter(ParameterSetName = ModelPathSet)]
    [Parameter(ParameterSetName = InputObjectSet)]
    public Uri? OllamaBaseUri { get; set; }

    [Parameter(ParameterSetName = ModelPathSet)]
    [Parameter(ParameterSetName = InputObjectSet)]
    public SwitchParameter Force { get; set; }

    [Parameter]
    public string? SystemPrompt { get; set; }

    [Parameter]
    [ValidateRange(0, int.MaxValue)]
    public int MaxHistoryMessages { get; set; } = 20;

    private sealed record PlannedAgent(string Name, string Description, Func<IChatBackend> CreateBackend, ModelFit? Fit);

    private bool StartsAsSet => LlamaServer || Ollama;

    protected override void BeginProcessing()
    {
        if (LlamaServer && Ollama)
        {
            ThrowGryphError(new GryphgenException("GryphAgentBackendConflict", GryphgenErrorKind.InvalidArgument,
                "-LlamaServer and -Ollama choose different backends: use one of them."));
        }
    }

    protected override void ProcessRecord()
    {
        try
        {
            if (StartsAsSet)
            {
                // Every plan of the set is read and checked first; EndProcessing starts them, or none.
                _pending.Add(LlamaServer ? PlanLlamaServer() : PlanOllama());
                return;
            }

            var (name, description, create) = ParameterSetName switch
            {
                ScriptBlockSet or OpenAISet => (Name, ParameterSetName, (Func<IChatBackend>)CreateBackend),
                _ => PlanInProcess(),
            };
            StartAgent(name, description, create);
        }
        catch (GryphgenException ex)
        {
            WriteGryphError(ex);
        }
    }

    protected override void EndProcessing()
    {
        if (_pending.Count == 0)
        {
            return;
        }

        var twice = _pending.GroupBy(p => p.Name, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        if (twice.Count > 0)
        {
            WriteGryphError(new GryphgenException("GryphAgentNameRepeated", GryphgenErrorKind.InvalidArgument,
                $"Several models of the set would serve {string.Join(", ", twice.Select(n => $"'{n}'"))}, so nothing was started: leave -Name out to name each endpoint after its model, or give a script block, e.g. -Name {{ $_.ModelName + '-gpu' }}.", twice[0]));
            return;
        }

        if (LlamaServer && !Force && !RefuseIfNoLongerFits())
        {
            return;
        }

        foreach (var planned in _pending)
        {
            try
            {
                StartAgent(planned.Name, planned.Description, planned.CreateBackend);
            }
            catch (GryphgenException ex)
            {
                WriteGryphError(ex);
            }
        }
    }

    /// <summary>Reads the GPUs now and writes one error (and returns false) when the planned set no longer fits them.</summary>
    private bool RefuseIfNoLongerFits()
    {
        var fits = _pending.Select(p => p.Fit).OfType<ModelFit>().Where(f => f.GpuLayers > 0).ToList();
        if (fits.Count == 0)
        {
            return true;
        }

        IReadOnlyList<string> problems;
        try
        {
            problems = PlannedSet.Problems(fits, GpuStatusReader.Query(GpuSource.Auto, CancellationToken));
        }
        catch (Exception ex) when (ex is GpuNotFoundException or GpuToolException)
        {
            problems = [$"the GPUs' free memory cannot be read now: {ex.Message}"];
        }

        if (problems.Count == 0)
        {
            return true;
        }

        WriteGryphError(new GryphgenException("GryphAgentPlanNoLongerFits", GryphgenErrorKind.ResourceUnavailable,
            $"The plan does not fit the GPUs as they are now, so no model was started: {string.Join(" ", problems)} Plan again (Get-GpuStatus | Select-ModelForGpu -Together), free GPU memory, or add -Force to start anyway.",
            string.Join(",", fits.Select(f => f.ModelName))));
        return false;
    }

    private void StartAgent(string name, string description, Func<IChatBackend> createBackend)
    {
        PipeDirectory.ValidateEndpointName(name);
        if (AgentRegistry.IsRunning(name))
        {
            throw new GryphgenException("GryphAgentAlreadyRunning", GryphgenErrorKind.ResourceExists,
                $"An agent already serves '{name}' in this process. Stop it first with Stop-GryphAgent -Name {name}.", name);
        }

        if (!ShouldProcess($"endpoint '{name}'", $"Start an agent ({description})"))
        {
            return;
        }

        IChatBackend? backend = null;
        var created = false;
        IMessageTransport? transport = null;
        try
        {
            var directory = PipeDirectory.Ensure(PipeDirectoryPath, AllowShared);
            transport = EndpointTransport;
            var inbox = transport.Locate(name);
            backend = createBackend();
            if (!transport.EndpointExists(name))
            {
                transport.CreateEndpoint(name);
                // A FIFO inbox made for the agent goes with it; a bus endpoint is durable, so messages sent while
                // the agent is down wait for the next one.
                created = transport is FifoTransport;
            }

            var logPath = AgentLogPath(name);
            LogRotation.RotateIfLarge(logPath);
            var options = new AgentOptions
            {
                Name = name,
                PipeDirectory = directory,
                AllowShared = AllowShared,
                Transport = transport,
                SystemPrompt = SystemPrompt,
                MaxHistoryMessages = MaxHistoryMessages,
                LogPath = logPath,
                CreatedEndpoint = created,
            };
            var agent = GryphAgent.Start(options, backend);
            if (!AgentRegistry.TryAdd(agent))
            {
                agent.Stop(TimeSpan.Zero);
                throw new GryphgenException("GryphAgentAlreadyRunning", GryphgenErrorKind.ResourceExists, $"An agent already serves '{name}' in this process.", name);
            }

            WriteVerbose($"Agent {name} serves {inbox} with {agent.Backend}; log: {options.LogPath}");
            WriteObject(agent);
        }
        catch (GryphgenException)
        {
            backend?.Dispose();
            if (created && transport is not null && !AgentRegistry.IsRunning(name))
            {
                try
                {
                    transport.RemoveEndpoint(name);
                }
                catch (GryphgenException)
                {
                }
            }

            throw;
        }
    }

    private string AgentLogPath(string name) =>
        LogPath is null ? Path.Combine(PipeDirectory.Ensure(PipeDirectoryPath, AllowShared), name + ".agent.log") : GetUnresolvedProviderPathFromPSPath(LogPath);

    /// <summary>The model a -ModelPath or a piped object names, with the plan when it is a ModelFit.</summary>
    private (string Path, ModelFit? Fit, int? GpuLayers, int? Context, string ModelName, string? InputName) ReadModel()
    {
        if (ParameterSetName == ModelPathSet)
        {
            var resolved = GetUnresolvedProviderPathFromPSPath(ModelPath);
            return (resolved, null, null, null, System.IO.Path.GetFileNameWithoutExtension(resolved), null);
        }

        switch (InputObject!.BaseObject)
        {
            case ModelFit fit:
                return (fit.ModelPath, fit, fit.GpuLayers, fit.ContextLength, fit.ModelName, null);
            case GgufModel model:
                return (model.Path, null, null, null, model.Name, model.Name);
            default:
                var (path, layers, context) = ModelInput.Read(InputObject);
                var inputName = InputObject.Properties["Name"]?.Value?.ToString();
                var modelName = InputObject.Properties["ModelName"]?.Value?.ToString() is { Length: > 0 } given ? given : System.IO.Path.GetFileNameWithoutExtension(path);
                return (GetUnresolvedProviderPathFromPSPath(path), null, layers, context, modelName, inputName);
        }
    }

    /// <summary>
    /// -Name as given; an endpoint named after the model when it is left out; a model's own Name (bound from the
    /// piped object) made into an endpoint name. A -Name the user typed that is not one is an error.
    /// </summary>
    private string EndpointName(string modelName, string? inputName)
    {
        if (!string.IsNullOrEmpty(Name))
        {
            return !PipeDirectory.IsValidEndpointName(Name) && string.Equals(Name, inputName, StringComparison.Ordinal) ? ToEndpointName(Name) : Name;
        }

        return ToEndpointName(modelName);
    }

    /// <summary>"Llama 3.1 8B Instruct" becomes "Llama-3.1-8B-Instruct".</summary>
    public static string ToEndpointName(string text)
    {
        var chars = text.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' ? c : '-').ToArray();
        var name = string.Join('-', new string(chars).Split('-', StringSplitOptions.RemoveEmptyEntries)).TrimStart('.', '_', '-');
        name = name.Length > 128 ? name[..128] : name;
        return name.Length == 0 ? "model" : name;
    }

    /// <summary>Refuses what cannot run: no file, not a GGUF, no weights (vocabulary, projector, adapter), a plan that is TooLarge.</summary>
    private void CheckModel(string path, ModelFit? fit, bool missingIsError)
    {
        CheckTooLarge(fit);

        if (!File.Exists(path))
        {
            if (missingIsError)
            {
                throw new GryphgenException("GryphAgentModelNotFound", GryphgenErrorKind.NotFound, $"The model file '{path}' does not exist.", path);
            }

            return;
        }

        GgufModel model;
        try
        {
            model = fit?.Model ?? new GgufModel([GgufHeaderReader.Read(path)]);
        }
        catch (GgufFormatException ex)
        {
            throw new GryphgenException("GryphAgentModelNotGguf", GryphgenErrorKind.InvalidData, $"'{path}' is not a GGUF model: {ex.Message}", path, ex);
        }
        catch (IOException ex)
        {
            throw new GryphgenException("GryphAgentModelUnreadable", GryphgenErrorKind.InvalidData, $"'{path}' cannot be read: {ex.Message}", path, ex);
        }

        if (model.Kind != GgufModelKind.Model || model.TensorCount == 0)
        {
            throw new GryphgenException("GryphAgentModelHasNoWeights", GryphgenErrorKind.InvalidData,
                $"'{path}' is a {(model.Kind == GgufModelKind.Model ? "vocabulary-only" : model.Kind.ToString())} file: it has no model weights to answer with.", path);
        }
    }

    private void CheckTooLarge(ModelFit? fit)
    {
        if (fit is { Fit: FitKind.TooLarge } && !Force)
        {
            throw new GryphgenException("GryphAgentModelTooLarge", GryphgenErrorKind.InvalidArgument,
                $"The plan for '{fit.ModelName}' is TooLarge: {fit.Reason} Add -Force to start it anyway.", fit.ModelPath);
        }
    }

    private (string Name, string Description, Func<IChatBackend> Create) PlanInProcess()
    {
        var (path, fit, gpuLayers, context, modelName, inputName) = ReadModel();
        CheckModel(path, fit, missingIsError: false);
        var layers = GpuLayerCount ?? gpuLayers ?? 0;
        if (layers > 0 && !LlamaCompanion.HasGpuBuild)
        {
            WriteWarning($"{layers} GPU layer(s) asked for, but the llama.cpp installed for in-process models is a CPU build ({LlamaCompanion.DefaultFolder}): every layer runs on the CPU. To use the GPU, start a GPU build of llama-server with -LlamaServer.");
            layers = 0;
        }

        var options = new LocalModelOptions
        {
            ModelPath = path,
            GpuLayerCount = layers,
            ContextLength = ContextLength ?? context ?? 2048,
            MaxTokens = MaxTokens ?? 64,
        };
        if (!File.Exists(path))
        {
            WriteWarning($"The model file '{path}' does not exist; the agent answers with ModelNotFound error replies until it does.");
        }

        var description = $"llama.cpp:{System.IO.Path.GetFileName(path)} (gpu layers {options.GpuLayerCount}, context {options.ContextLength})";
        return (EndpointName(modelName, inputName), description,
            () => new DeferredChatBackend(path, description, () => LlamaCompanion.CreateBackend(options)));
    }

    private PlannedAgent PlanLlamaServer()
    {
        var (path, fit, gpuLayers, context, modelName, inputName) = ReadModel();
        var name = EndpointName(modelName, inputName);
        CheckModel(path, fit, missingIsError: true);
        var executable = ResolveLlamaServer();
        var arguments = LlamaServerArguments.Build(path, fit?.LlamaCppArguments, GpuLayerCount ?? (fit is null ? gpuLayers : null),
            ContextLength ?? (fit is null ? context : null), ServerArgument);
        var environment = fit is null ? new Dictionary<string, string>() : PlannedSet.DeviceEnvironment(fit);
        var logFolder = System.IO.Path.GetDirectoryName(AgentLogPath(name))!;
        var options = new LlamaServerOptions
        {
            ExecutablePath = executable,
            Arguments = arguments,
            Environment = environment,
            LogPath = System.IO.Path.Combine(logFolder, name + ".llama-server.log"),
            HealthTimeout = TimeSpan.FromSeconds(HealthTimeoutSeconds),
            MaxRestarts = MaxRestarts,
            RestartDelay = TimeSpan.FromSeconds(RestartDelaySeconds),
        };
        if (ChildProcessLauncher.DeathSignalWrapper is null)
        {
            WriteWarning("util-linux's setpriv is not on PATH, so llama-server cannot be tied to this pwsh: if pwsh is killed, the server goes on running. Install util-linux.");
        }

        var model = System.IO.Path.GetFileName(path);
        var maxTokens = MaxTokens;
        return new PlannedAgent(name, $"llama-server {model}: {string.Join(' ', arguments)}", () =>
        {
            LogRotation.RotateIfLarge(options.LogPath);
            var server = StartServer(name, options);
            return new LlamaServerChatBackend(server, model, uri => new OpenAIChatBackend(uri, model) { MaxTokens = maxTokens });
        }, fit);
    }

    private LlamaServerProcess StartServer(string name, LlamaServerOptions options)
    {
        var starting = Task.Run(() => LlamaServerProcess.Start(options, CancellationToken));
        var progress = new ProgressRecord(1, $"Starting llama-server for {name}", "waiting for /health");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!((IAsyncResult)starting).AsyncWaitHandle.WaitOne(250)) // Wait(250) would throw the failure wrapped
        {
            progress.StatusDescription = $"waiting for /health ({clock.Elapsed.TotalSeconds:0} s of {options.HealthTimeout.TotalSeconds:0})";
            WriteProgress(progress);
        }

        progress.RecordType = ProgressRecordType.Completed;
        WriteProgress(progress);
        try
        {
            return starting.GetAwaiter().GetResult();
        }
        catch (OperationCanceledException)
        {
            throw new PipelineStoppedException();
        }
    }

    /// <summary>-LlamaServerPath, else $env:GRYPHGEN_LLAMA_SERVER, else llama-server on PATH.</summary>
    private string ResolveLlamaServer()
    {
        var given = LlamaServerPath is not null ? GetUnresolvedProviderPathFromPSPath(LlamaServerPath)
            : Environment.GetEnvironmentVariable("GRYPHGEN_LLAMA_SERVER") is { Length: > 0 } fromEnvironment ? fromEnvironment
            : ChildProcessLauncher.FindOnPath("llama-server");
        if (given is null)
        {
            throw new GryphgenException("LlamaServerNotFound", GryphgenErrorKind.NotFound,
                "llama-server is not on PATH: install llama.cpp's server, or name it with -LlamaServerPath or $env:GRYPHGEN_LLAMA_SERVER.", "llama-server");
        }

        if (!ChildProcessLauncher.IsExecutable(given))
        {
            throw new GryphgenException("LlamaServerNotFound", GryphgenErrorKind.NotFound, $"'{given}' is not an executable file.", given);
        }

        return given;
    }

    private PlannedAgent PlanOllama()
    {
        var (path, fit, gpuLayers, context, modelName, inputName) = ReadModel();
        var name = EndpointName(modelName, inputName);
        CheckTooLarge(fit);
        var options = new Dictionary<string, int>(fit?.OllamaOptions ?? new Dictionary<string, int>(), StringComparer.Ordinal);
        if ((GpuLayerCount ?? (fit is null ? gpuLayers : null)) is { } layers)
        {
            options["num_gpu"] = layers;
        }

        if ((ContextLength ?? (fit is null ? context : null)) is { } tokens)
        {
            options["num_ctx"] = tokens;
        }

        var model = MyInvocation.BoundParameters.ContainsKey(nameof(ModelName)) ? ModelName : modelName;
        var baseUri = OllamaBaseUri ?? OllamaChatBackend.DefaultBaseUri;
        var maxTokens = MaxTokens;
        var backend = new Func<IChatBackend>(() => new OllamaChatBackend(baseUri, model, options) { MaxTokens = maxTokens });
        return new PlannedAgent(name, $"ollama {model} @ {baseUri}", backend, fit);
    }

    private IChatBackend CreateBackend()
    {
        switch (ParameterSetName)
        {
            case ScriptBlockSet:
                return new ScriptBlockChatBackend(ScriptBlock!, ModuleManifestPath());
            default:
                return new OpenAIChatBackend(OpenAIBaseUri!, ModelName, ResolveApiKey())
                {
                    Stream = !NoStream,
                    RequestTimeout = TimeSpan.FromSeconds(RequestTimeoutSeconds),
                    MaxTokens = MaxTokens,
                };
        }
    }

    private string? ResolveApiKey()
    {
        if (ApiKey is not null)
        {
            return new NetworkCredential(string.Empty, ApiKey).Password;
        }

        if (ApiKeyEnvironmentVariable is not null)
        {
            var key = Environment.GetEnvironmentVariable(ApiKeyEnvironmentVariable);
            if (string.IsNullOrEmpty(key))
            {
                throw new GryphgenException("GryphAgentApiKeyMissing", GryphgenErrorKind.InvalidArgument,
                    $"The environment variable '{ApiKeyEnvironmentVariable}' named by -ApiKeyEnvironmentVariable is not set.", ApiKeyEnvironmentVariable);
            }

            return key;
        }

        return null;
    }

    private string? ModuleManifestPath()
    {
        var module = MyInvocation.MyCommand.Module;
        if (module is null)
        {
            return null;
        }

        var manifest = Path.Combine(module.ModuleBase, "Gryphgen.psd1");
        return File.Exists(manifest) ? manifest : null;
    }
}
