using System.Management.Automation;
using System.Net;
using System.Security;
using Gryphgen.Core;
using Gryphgen.Core.Agents;
using Gryphgen.Core.Fifo;
using Gryphgen.Core.Messaging;
using Gryphgen.PowerShell.Agents;

namespace Gryphgen.PowerShell.Commands;

/// <summary>
/// Starts an agent that answers an endpoint's inbox on a background thread of this pwsh process, with a
/// script block, an OpenAI-compatible server, or a GGUF model loaded in-process (llama.cpp, loaded on first use).
/// </summary>
[Cmdlet(VerbsLifecycle.Start, "GryphAgent", DefaultParameterSetName = ScriptBlockSet)]
[OutputType(typeof(GryphAgent))]
public sealed class StartGryphAgentCommand : MessagingCmdlet
{
    private const string ScriptBlockSet = "ScriptBlock";
    private const string OpenAISet = "OpenAI";
    private const string ModelPathSet = "ModelPath";
    private const string InputObjectSet = "InputObject";

    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string Name { get; set; } = string.Empty;

    [Parameter(Mandatory = true, Position = 1, ParameterSetName = ScriptBlockSet)]
    public ScriptBlock? ScriptBlock { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = OpenAISet)]
    public Uri? OpenAIBaseUri { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = OpenAISet)]
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

    [Parameter]
    public string? SystemPrompt { get; set; }

    [Parameter]
    [ValidateRange(0, int.MaxValue)]
    public int MaxHistoryMessages { get; set; } = 20;

    protected override void ProcessRecord()
    {
        if (AgentRegistry.IsRunning(Name))
        {
            WriteGryphError(new GryphgenException("GryphAgentAlreadyRunning", GryphgenErrorKind.ResourceExists,
                $"An agent already serves '{Name}' in this process. Stop it first with Stop-GryphAgent -Name {Name}.", Name));
            return;
        }

        IChatBackend? backend = null;
        var created = false;
        string? inbox = null;
        IMessageTransport? transport = null;
        try
        {
            var directory = PipeDirectory.Ensure(PipeDirectoryPath, AllowShared);
            transport = EndpointTransport;
            inbox = transport.Locate(Name);
            backend = CreateBackend();
            if (!transport.EndpointExists(Name))
            {
                transport.CreateEndpoint(Name);
                // A FIFO inbox made for the agent goes with it; a bus endpoint is durable, so messages sent while
                // the agent is down wait for the next one.
                created = transport is FifoTransport;
            }

            var options = new AgentOptions
            {
                Name = Name,
                PipeDirectory = directory,
                AllowShared = AllowShared,
                Transport = transport,
                SystemPrompt = SystemPrompt,
                MaxHistoryMessages = MaxHistoryMessages,
                LogPath = LogPath is null ? Path.Combine(directory, Name + ".agent.log") : GetUnresolvedProviderPathFromPSPath(LogPath),
                CreatedEndpoint = created,
            };
            var agent = GryphAgent.Start(options, backend);
            if (!AgentRegistry.TryAdd(agent))
            {
                agent.Stop(TimeSpan.Zero);
                throw new GryphgenException("GryphAgentAlreadyRunning", GryphgenErrorKind.ResourceExists, $"An agent already serves '{Name}' in this process.", Name);
            }

            WriteVerbose($"Agent {Name} serves {inbox} with {agent.Backend}; log: {options.LogPath}");
            WriteObject(agent);
        }
        catch (GryphgenException ex)
        {
            backend?.Dispose();
            if (created && transport is not null && !AgentRegistry.IsRunning(Name))
            {
                try
                {
                    transport.RemoveEndpoint(Name);
                }
                catch (GryphgenException)
                {
                }
            }

            WriteGryphError(ex);
        }
    }

    private IChatBackend CreateBackend()
    {
        switch (ParameterSetName)
        {
            case ScriptBlockSet:
                return new ScriptBlockChatBackend(ScriptBlock!, ModuleManifestPath());
            case OpenAISet:
                return new OpenAIChatBackend(OpenAIBaseUri!, ModelName, ResolveApiKey())
                {
                    Stream = !NoStream,
                    RequestTimeout = TimeSpan.FromSeconds(RequestTimeoutSeconds),
                    MaxTokens = MaxTokens,
                };
            default:
                var (path, gpuLayers, context) = ParameterSetName == ModelPathSet
                    ? (GetUnresolvedProviderPathFromPSPath(ModelPath), (int?)null, (int?)null)
                    : ModelInput.Read(InputObject!);
                var options = new LocalModelOptions
                {
                    ModelPath = path,
                    GpuLayerCount = GpuLayerCount ?? gpuLayers ?? 0,
                    ContextLength = ContextLength ?? context ?? 2048,
                    MaxTokens = MaxTokens ?? 64,
                };
                if (!File.Exists(path))
                {
                    WriteWarning($"The model file '{path}' does not exist; the agent answers with ModelNotFound error replies until it does.");
                }

                return new DeferredChatBackend(path, $"llama.cpp:{Path.GetFileName(path)} (gpu layers {options.GpuLayerCount}, context {options.ContextLength})",
                    () => LlamaCompanion.CreateBackend(options));
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
