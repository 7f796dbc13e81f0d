using System.Diagnostics;
using System.Management.Automation;
using Gryphgen.Core.Gguf;
using Gryphgen.Core.Gguf.Discovery;

using Gryphgen.PowerShell.Completion;

namespace Gryphgen.PowerShell.Commands;

/// <summary>
/// Finds GGUF models by reading their headers: in the given files and folders, or in the places Ollama, LM Studio,
/// the Hugging Face cache and llama.cpp keep them. Binds parameters and writes what Gryphgen.Core's
/// <see cref="GgufModelFinder"/> reports; paths are gathered from the whole pipeline first, so shards of a split
/// model and several links to one file passed by Get-ChildItem still become one object.
/// </summary>
[Cmdlet(VerbsCommon.Find, "GgufModel")]
[OutputType(typeof(GgufModel))]
public sealed class FindGgufModelCommand : GryphCmdlet
{
    private readonly List<string> _paths = [];
    private bool _pathGiven;

    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("FullName")]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[]? Path { get; set; }

    [Parameter]
    [ValidateRange(0, 64)]
    public int Depth { get; set; } = 64;

    [Parameter]
    [ValidateRange(0, long.MaxValue)]
    public long MinSize { get; set; }

    [Parameter]
    [ValidateRange(0, long.MaxValue)]
    public long MaxSize { get; set; } = long.MaxValue;

    [Parameter]
    [DaysToTimeSpanTransformation]
    public TimeSpan MaxAge { get; set; }

    [Parameter]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(ArchitectureCompleter))]
    public string[]? Architecture { get; set; }

    [Parameter]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[]? Name { get; set; }

    protected override void ProcessRecord()
    {
        if (Path is null)
        {
            return;
        }

        _pathGiven = true;
        foreach (var path in Path)
        {
            try
            {
                _paths.AddRange(WildcardPattern.ContainsWildcardCharacters(path)
                    ? GetResolvedProviderPathFromPSPath(path, out _)
                    : [GetUnresolvedProviderPathFromPSPath(path)]);
            }
            catch (ItemNotFoundException ex)
            {
                WriteItemError(ex, "PathNotFound", ErrorCategory.ObjectNotFound, path);
            }
        }
    }

    protected override void EndProcessing()
    {
        IReadOnlyList<GgufSearchRoot> roots;
        if (_pathGiven)
        {
            roots = _paths.Distinct(StringComparer.Ordinal).Select(p => new GgufSearchRoot(p, GgufModelSource.File)).ToArray();
        }
        else
        {
            roots = GgufSearchRoots.GetDefault(GgufSearchEnvironment.Current);
            if (roots.Count == 0)
            {
                WriteWarning("None of the usual model folders exists (Ollama, LM Studio, Hugging Face cache, llama.cpp cache, ~/models, /mnt/models, /opt/models). Pass -Path.");
                return;
            }

            WriteVerbose("Searching " + string.Join(", ", roots.Select(r => $"{r.Path} ({r.Source})")));
        }

        var throttle = Stopwatch.StartNew();
        var progress = new ProgressRecord(1, "Find-GgufModel", "Scanning");
        var finder = new GgufModelFinder(new GgufFinderOptions
        {
            Depth = Depth,
            MinSize = MinSize > 0 ? MinSize : null,
            MaxSize = MaxSize < long.MaxValue ? MaxSize : null,
            ModifiedAfter = MyInvocation.BoundParameters.ContainsKey(nameof(MaxAge)) ? DateTime.Now - MaxAge : null,
            Progress = p =>
            {
                if (throttle.ElapsedMilliseconds < 200)
                {
                    return;
                }

                throttle.Restart();
                progress.StatusDescription = $"{p.Activity}: {p.DirectoriesScanned} folders, {p.FilesExamined} files, {p.ModelsFound} models";
                progress.CurrentOperation = p.CurrentPath;
                WriteProgress(progress);
            },
        });

        var architectures = Patterns(Architecture);
        var names = Patterns(Name);
        // Models of one folder and width share a projector: look for it once.
        var projectors = new Dictionary<(string Folder, int? Width), string?>();
        foreach (var result in finder.Find(roots, CancellationToken))
        {
            if (result.Error is { } error)
            {
                WriteItemError(error.Exception, error.ErrorId, Category(error.Category), error.Path);
            }
            else if (result.Model is { } model && Matches(model, architectures, names))
            {
                var beside = (System.IO.Path.GetDirectoryName(model.Path) ?? "", model.EmbeddingLength);
                if (!projectors.TryGetValue(beside, out var projector))
                {
                    projector = ProjectorPairing.FindBeside(model, CancellationToken)?.Path;
                    projectors[beside] = projector;
                }

                model.ProjectorPath = projector;
                ArchitectureCompleter.Saw(model.Architecture);
                WriteObject(model);
            }
        }

        progress.RecordType = ProgressRecordType.Completed;
        WriteProgress(progress);
    }

    private static WildcardPattern[]? Patterns(string[]? values)
        => values?.Select(v => WildcardPattern.Get(v, WildcardOptions.IgnoreCase)).ToArray();

    private static bool Matches(GgufModel model, WildcardPattern[]? architectures, WildcardPattern[]? names)
    {
        if (architectures is not null && !architectures.Any(a => a.IsMatch(model.Architecture ?? string.Empty)))
        {
            return false;
        }

        // -Name matches the model's name, any other Ollama tag of it, its repository or its file name.
        return names is null || names.Any(n => n.IsMatch(model.Name)
            || model.Aliases.Any(n.IsMatch)
            || (model.Repository is not null && n.IsMatch(model.Repository))
            || n.IsMatch(System.IO.Path.GetFileName(model.Path)));
    }

    private static ErrorCategory Category(GgufErrorCategory category) => category switch
    {
        GgufErrorCategory.InvalidData => ErrorCategory.InvalidData,
        GgufErrorCategory.ObjectNotFound => ErrorCategory.ObjectNotFound,
        GgufErrorCategory.PermissionDenied => ErrorCategory.PermissionDenied,
        _ => ErrorCategory.ReadError,
    };
}
